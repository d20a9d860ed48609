/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-auth"

#include "config.h"

#include "wz-auth.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <sodium.h>
#include <sqlite3.h>
#include <string.h>

#include "wz-error.h"

#define TOKEN_BYTES       32
#define TOKEN_TEXT_LEN    43   /* 32 bytes in unpadded base64url */
#define KEY_BYTES         32
#define TOUCH_INTERVAL_US (60 * G_USEC_PER_SEC)
#define MAX_PASSWORD_BYTES 1024
#define MAX_LOGIN_PASSWORD_BYTES 4096
#define MAX_UNKNOWN_TRACKED 10000

/* Wording shared by unknown user and wrong password, so the answer does not tell which it was. */
#define BAD_CREDENTIALS "Incorrect user name or password"

/* What a patient reads when a visit link does not work; each says what to do next. */
#define LINK_USED    "This visit link was already used — ask your doctor for a new one"
#define LINK_EXPIRED "This visit link has expired — ask your doctor for a new one"
#define LINK_UNKNOWN "This visit link is not valid — check that the whole link was opened, or ask your doctor for a new one"

typedef struct
{
  guint8    key[KEY_BYTES];     /* hash of the token; the token itself is never kept */
  gint64    user_id;          /* 0 for a patient session */
  gint64    last_used;
  gint64    last_persisted;
  WzSession session;
} CacheEntry;

typedef struct
{
  guint  failures;
  gint64 locked_until;
} UnknownFailures;

typedef struct
{
  guint8 key[KEY_BYTES];
  gint64 last_used;
} TouchJob;

struct _WzAuth
{
  GObject             parent_instance;

  char               *path;

  GMutex              db_lock;
  sqlite3            *db;

  /* Sessions by token hash. Written by login (any thread), read by lookup (main loop). */
  GMutex              cache_lock;
  GHashTable         *sessions;
  /* Failure counters for names that are not users, so lockout does not reveal which exist. */
  GHashTable         *unknown;

  unsigned long long  opslimit;
  size_t              memlimit;
  GMutex              dummy_lock;
  char               *dummy_hash;

  /* argon2id at interactive limits takes 64 MiB; bound how many run at once. */
  GMutex              slots_lock;
  GCond               slots_cond;
  guint               free_slots;

  GThreadPool        *touch_pool;

  WzAuthClock         clock;
  gpointer            clock_data;
};

G_DEFINE_FINAL_TYPE (WzAuth, wz_auth, G_TYPE_OBJECT)

enum
{
  TOKEN_REVOKED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static const char *const migrations[] = {
  "CREATE TABLE users ("
  "  id INTEGER PRIMARY KEY,"
  "  username TEXT NOT NULL UNIQUE COLLATE NOCASE,"
  "  role TEXT NOT NULL CHECK (role IN ('doctor', 'pharmacist', 'admin')),"
  "  display_name TEXT NOT NULL,"
  "  practitioner_id TEXT,"
  "  password_hash TEXT NOT NULL,"
  "  failed_count INTEGER NOT NULL DEFAULT 0,"
  "  locked_until INTEGER NOT NULL DEFAULT 0,"
  "  created INTEGER NOT NULL,"
  "  last_login INTEGER);"
  "CREATE TABLE tokens ("
  "  hash BLOB PRIMARY KEY,"
  "  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
  "  created INTEGER NOT NULL,"
  "  expires_at INTEGER NOT NULL,"
  "  last_used INTEGER NOT NULL) WITHOUT ROWID;",

  /* Visit links and the patient sessions they open. Both keep only a hash of their token. */
  "CREATE TABLE visit_links ("
  "  hash BLOB PRIMARY KEY,"
  "  patient_id TEXT NOT NULL,"
  "  encounter_id TEXT NOT NULL,"
  "  created_by TEXT NOT NULL,"
  "  created INTEGER NOT NULL,"
  "  expires_at INTEGER NOT NULL,"
  "  used_at INTEGER) WITHOUT ROWID;"
  "CREATE TABLE patient_tokens ("
  "  hash BLOB PRIMARY KEY,"
  "  patient_id TEXT NOT NULL,"
  "  encounter_id TEXT NOT NULL,"
  "  created INTEGER NOT NULL,"
  "  expires_at INTEGER NOT NULL) WITHOUT ROWID;",
};

static gint64
auth_now (WzAuth *self)
{
  return self->clock ? self->clock (self->clock_data) : g_get_real_time ();
}

static gboolean
set_sqlite_error (GError     **error,
                  sqlite3     *db,
                  const char  *what)
{
  g_set_error (error, WZ_ERROR, WZ_ERROR_UNAVAILABLE, "user database: %s: %s",
               what, db ? sqlite3_errmsg (db) : "out of memory");
  return FALSE;
}

static gboolean
exec (sqlite3     *db,
      const char  *sql,
      GError     **error)
{
  char *msg = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &msg) != SQLITE_OK)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_UNAVAILABLE, "user database: %s", msg ? msg : "error");
      sqlite3_free (msg);
      return FALSE;
    }
  return TRUE;
}

static sqlite3_stmt *
prepare (sqlite3     *db,
         const char  *sql,
         GError     **error)
{
  sqlite3_stmt *stmt = NULL;

  if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) != SQLITE_OK)
    {
      set_sqlite_error (error, db, "preparing");
      return NULL;
    }
  return stmt;
}

static gboolean
migrate (sqlite3  *db,
         GError  **error)
{
  sqlite3_stmt *stmt;
  gint64 version = 0;

  if (!exec (db, "CREATE TABLE IF NOT EXISTS auth_migrations ("
                 "  version INTEGER PRIMARY KEY, applied INTEGER NOT NULL)", error))
    return FALSE;

  stmt = prepare (db, "SELECT coalesce (max (version), 0) FROM auth_migrations", error);
  if (stmt == NULL)
    return FALSE;
  if (sqlite3_step (stmt) == SQLITE_ROW)
    version = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);

  if (version > (gint64) G_N_ELEMENTS (migrations))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_UNAVAILABLE,
                   "user database schema version %" G_GINT64_FORMAT " is newer than this server knows",
                   version);
      return FALSE;
    }

  for (gint64 v = version; v < (gint64) G_N_ELEMENTS (migrations); v++)
    {
      g_autofree char *record = NULL;

      if (!exec (db, "BEGIN IMMEDIATE", error))
        return FALSE;
      record = g_strdup_printf ("INSERT INTO auth_migrations (version, applied)"
                                " VALUES (%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ")",
                                v + 1, g_get_real_time () / G_USEC_PER_SEC);
      if (!exec (db, migrations[v], error) || !exec (db, record, error))
        {
          sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
          return FALSE;
        }
      if (!exec (db, "COMMIT", error))
        return FALSE;
    }

  return TRUE;
}

static guint
key_hash (gconstpointer key)
{
  guint h;

  /* The key is already a cryptographic hash: any four bytes of it spread perfectly. */
  memcpy (&h, key, sizeof h);
  return h;
}

static gboolean
key_equal (gconstpointer a,
           gconstpointer b)
{
  return memcmp (a, b, KEY_BYTES) == 0;
}

static void
session_clear (WzSession *session)
{
  g_clear_pointer (&session->username, g_free);
  g_clear_pointer (&session->role, g_free);
  g_clear_pointer (&session->practitioner_id, g_free);
  g_clear_pointer (&session->display_name, g_free);
  g_clear_pointer (&session->patient_id, g_free);
  g_clear_pointer (&session->encounter_id, g_free);
}

static void
cache_entry_free (CacheEntry *entry)
{
  session_clear (&entry->session);
  g_free (entry);
}

WzSession *
wz_session_copy (const WzSession *session)
{
  WzSession *copy;

  g_return_val_if_fail (session != NULL, NULL);

  copy = g_new0 (WzSession, 1);
  copy->username = g_strdup (session->username);
  copy->role = g_strdup (session->role);
  copy->practitioner_id = g_strdup (session->practitioner_id);
  copy->display_name = g_strdup (session->display_name);
  copy->expires_at = session->expires_at;
  copy->patient_id = g_strdup (session->patient_id);
  copy->encounter_id = g_strdup (session->encounter_id);

  return copy;
}

void
wz_session_free (WzSession *session)
{
  if (session == NULL)
    return;

  session_clear (session);
  g_free (session);
}

static void
fill_patient_session (WzSession  *session,
                      const char *patient_id,
                      const char *encounter_id,
                      gint64      expires_at)
{
  session->username = g_strconcat ("Patient/", patient_id, NULL);
  session->role = g_strdup ("patient");
  session->display_name = g_strdup (session->username);
  session->patient_id = g_strdup (patient_id);
  session->encounter_id = g_strdup (encounter_id);
  session->expires_at = expires_at;
}

static void
token_key (const guint8 raw[TOKEN_BYTES],
           guint8       out_key[KEY_BYTES])
{
  crypto_generichash (out_key, KEY_BYTES, raw, TOKEN_BYTES, NULL, 0);
}

/* Value of a base64url character, or 64 for anything else. */
static guint8
base64url_value (char c)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '-')
    return 62;
  if (c == '_')
    return 63;
  return 64;
}

/* Unpadded base64url of exactly TOKEN_BYTES, with the unused low bits of the last character zero,
 * so every token has exactly one text (as libsodium's decoder requires). Decoded here on every
 * request; libsodium's general decoder cost as much as the rest of the lookup. */
static gboolean
decode_token (const char *token,
              guint8      out_raw[TOKEN_BYTES])
{
  guint32 acc = 0;
  guint bits = 0;
  guint n = 0;

  if (token == NULL || strnlen (token, TOKEN_TEXT_LEN + 1) != TOKEN_TEXT_LEN)
    return FALSE;

  for (guint i = 0; i < TOKEN_TEXT_LEN; i++)
    {
      guint8 value = base64url_value (token[i]);

      if (value == 64)
        return FALSE;
      acc = (acc << 6) | value;
      bits += 6;
      if (bits >= 8)
        {
          bits -= 8;
          out_raw[n++] = (acc >> bits) & 0xff;
        }
    }

  return n == TOKEN_BYTES && (acc & ((1u << bits) - 1)) == 0;
}

static void
touch_job_run (gpointer data,
               gpointer user_data)
{
  TouchJob *job = data;
  WzAuth *self = user_data;
  g_autoptr(GError) error = NULL;
  sqlite3_stmt *stmt;

  /* Off the main loop: a token's idle clock reaches the disk at most once a minute, so a restart
   * forgets at most a minute of use and the request path never waits for an fsync. */
  g_mutex_lock (&self->db_lock);
  stmt = prepare (self->db, "UPDATE tokens SET last_used = ? WHERE hash = ? AND last_used < ?", &error);
  if (stmt != NULL)
    {
      sqlite3_bind_int64 (stmt, 1, job->last_used);
      sqlite3_bind_blob (stmt, 2, job->key, KEY_BYTES, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 3, job->last_used);
      if (sqlite3_step (stmt) != SQLITE_DONE)
        set_sqlite_error (&error, self->db, "recording token use");
      sqlite3_finalize (stmt);
    }
  g_mutex_unlock (&self->db_lock);

  if (error != NULL)
    g_warning ("%s", error->message);
  g_free (job);
}

static void
wz_auth_dispose (GObject *object)
{
  WzAuth *self = WZ_AUTH (object);

  if (self->touch_pool != NULL)
    g_thread_pool_free (g_steal_pointer (&self->touch_pool), FALSE, TRUE);

  G_OBJECT_CLASS (wz_auth_parent_class)->dispose (object);
}

static void
wz_auth_finalize (GObject *object)
{
  WzAuth *self = WZ_AUTH (object);

  g_clear_pointer (&self->sessions, g_hash_table_unref);
  g_clear_pointer (&self->unknown, g_hash_table_unref);
  g_clear_pointer (&self->db, sqlite3_close);
  g_clear_pointer (&self->dummy_hash, g_free);
  g_clear_pointer (&self->path, g_free);
  g_mutex_clear (&self->db_lock);
  g_mutex_clear (&self->cache_lock);
  g_mutex_clear (&self->dummy_lock);
  g_mutex_clear (&self->slots_lock);
  g_cond_clear (&self->slots_cond);

  G_OBJECT_CLASS (wz_auth_parent_class)->finalize (object);
}

static void
wz_auth_class_init (WzAuthClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = wz_auth_dispose;
  object_class->finalize = wz_auth_finalize;

  /**
   * WzAuth::token-revoked:
   * @token: the token just signed out
   *
   * Emitted by wz_auth_logout() on the calling thread, so what holds a connection open on that
   * token (a websocket) can end it at once.
   */
  signals[TOKEN_REVOKED] = g_signal_new ("token-revoked", G_TYPE_FROM_CLASS (klass),
                                         G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                         G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
wz_auth_init (WzAuth *self)
{
  g_mutex_init (&self->db_lock);
  g_mutex_init (&self->cache_lock);
  g_mutex_init (&self->dummy_lock);
  g_mutex_init (&self->slots_lock);
  g_cond_init (&self->slots_cond);
  self->sessions = g_hash_table_new_full (key_hash, key_equal, NULL,
                                          (GDestroyNotify) cache_entry_free);
  self->unknown = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->free_slots = MAX (1, g_get_num_processors ());
  self->opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
  self->memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
}

static gboolean
load_sessions (WzAuth  *self,
               GError **error)
{
  sqlite3_stmt *stmt;
  gint64 now = g_get_real_time ();
  gint64 idle_cutoff = now - (gint64) WZ_AUTH_IDLE_TIMEOUT_S * G_USEC_PER_SEC;
  g_autofree char *purge = NULL;
  int rc;

  /* Dead tokens are of no use to anyone; drop them rather than carry them forever. Spent or
   * expired visit links go too once a day has passed, enough to answer "already used". */
  purge = g_strdup_printf ("DELETE FROM tokens WHERE expires_at <= %" G_GINT64_FORMAT
                           " OR last_used <= %" G_GINT64_FORMAT ";"
                           "DELETE FROM patient_tokens WHERE expires_at <= %" G_GINT64_FORMAT ";"
                           "DELETE FROM visit_links WHERE expires_at <= %" G_GINT64_FORMAT
                           " OR used_at <= %" G_GINT64_FORMAT,
                           now, idle_cutoff, now, now - G_TIME_SPAN_DAY, now - G_TIME_SPAN_DAY);
  if (!exec (self->db, purge, error))
    return FALSE;

  stmt = prepare (self->db,
                  "SELECT t.hash, t.user_id, t.expires_at, t.last_used, u.username, u.role,"
                  " u.display_name, u.practitioner_id FROM tokens t JOIN users u ON u.id = t.user_id",
                  error);
  if (stmt == NULL)
    return FALSE;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      CacheEntry *entry;

      if (sqlite3_column_bytes (stmt, 0) != KEY_BYTES)
        continue;

      entry = g_new0 (CacheEntry, 1);
      memcpy (entry->key, sqlite3_column_blob (stmt, 0), KEY_BYTES);
      entry->user_id = sqlite3_column_int64 (stmt, 1);
      entry->session.expires_at = sqlite3_column_int64 (stmt, 2);
      entry->last_used = entry->last_persisted = sqlite3_column_int64 (stmt, 3);
      entry->session.username = g_strdup ((const char *) sqlite3_column_text (stmt, 4));
      entry->session.role = g_strdup ((const char *) sqlite3_column_text (stmt, 5));
      entry->session.display_name = g_strdup ((const char *) sqlite3_column_text (stmt, 6));
      entry->session.practitioner_id = g_strdup ((const char *) sqlite3_column_text (stmt, 7));
      g_hash_table_replace (self->sessions, entry->key, entry);
    }
  sqlite3_finalize (stmt);

  if (rc != SQLITE_DONE)
    return set_sqlite_error (error, self->db, "loading sessions");

  stmt = prepare (self->db, "SELECT hash, patient_id, encounter_id, expires_at, created"
                            " FROM patient_tokens", error);
  if (stmt == NULL)
    return FALSE;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      CacheEntry *entry;

      if (sqlite3_column_bytes (stmt, 0) != KEY_BYTES)
        continue;

      entry = g_new0 (CacheEntry, 1);
      memcpy (entry->key, sqlite3_column_blob (stmt, 0), KEY_BYTES);
      fill_patient_session (&entry->session, (const char *) sqlite3_column_text (stmt, 1),
                            (const char *) sqlite3_column_text (stmt, 2),
                            sqlite3_column_int64 (stmt, 3));
      entry->last_used = entry->last_persisted = sqlite3_column_int64 (stmt, 4);
      g_hash_table_replace (self->sessions, entry->key, entry);
    }
  sqlite3_finalize (stmt);

  if (rc != SQLITE_DONE)
    return set_sqlite_error (error, self->db, "loading patient sessions");

  return TRUE;
}

WzAuth *
wz_auth_open (const char  *data_dir,
              GError     **error)
{
  g_autoptr(WzAuth) self = NULL;
  const char *fast;

  g_return_val_if_fail (data_dir != NULL, NULL);

  if (sodium_init () < 0)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INTERNAL, "libsodium could not be initialised");
      return NULL;
    }

  if (g_mkdir_with_parents (data_dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, WZ_ERROR, WZ_ERROR_UNAVAILABLE,
                   "Cannot create %s: %s", data_dir, g_strerror (saved_errno));
      return NULL;
    }

  self = g_object_new (WZ_TYPE_AUTH, NULL);
  self->path = g_build_filename (data_dir, "auth.db", NULL);

  fast = g_getenv ("WZ_PWHASH_FAST");
  if (fast != NULL && g_str_equal (fast, "1"))
    {
      g_debug ("WZ_PWHASH_FAST=1: hashing passwords at minimum cost (tests only)");
      self->opslimit = crypto_pwhash_OPSLIMIT_MIN;
      self->memlimit = crypto_pwhash_MEMLIMIT_MIN;
    }

  if (sqlite3_open_v2 (self->path, &self->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                       NULL) != SQLITE_OK)
    {
      set_sqlite_error (error, self->db, "opening");
      return NULL;
    }
  sqlite3_busy_timeout (self->db, 5000);
  /* The file holds password hashes; nobody but the server needs to read it. */
  g_chmod (self->path, 0600);

  if (!exec (self->db, "PRAGMA journal_mode=WAL", error) ||
      !exec (self->db, "PRAGMA synchronous=FULL", error) ||
      !exec (self->db, "PRAGMA foreign_keys=ON", error) ||
      !migrate (self->db, error) ||
      !load_sessions (self, error))
    return NULL;

  self->touch_pool = g_thread_pool_new (touch_job_run, self, 1, FALSE, error);
  if (self->touch_pool == NULL)
    return NULL;

  return g_steal_pointer (&self);
}

static gboolean
valid_username (const char *username)
{
  gsize len;

  if (username == NULL || !g_ascii_isalnum (username[0]))
    return FALSE;
  len = strnlen (username, 65);
  if (len > 64)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      char c = username[i];

      if (!g_ascii_isalnum (c) && c != '.' && c != '_' && c != '-' && c != '@')
        return FALSE;
    }
  return TRUE;
}

static gboolean
valid_fhir_id (const char *id)
{
  gsize len = strnlen (id, 65);

  if (len == 0 || len > 64)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum (id[i]) && id[i] != '-' && id[i] != '.')
      return FALSE;
  return TRUE;
}

static gboolean
valid_display_name (const char *text)
{
  if (!g_utf8_validate (text, -1, NULL) || strlen (text) > 200 || *text == '\0')
    return FALSE;
  for (const char *p = text; *p; p = g_utf8_next_char (p))
    if (g_unichar_iscntrl (g_utf8_get_char (p)))
      return FALSE;
  return TRUE;
}

static void
slot_acquire (WzAuth *self)
{
  g_mutex_lock (&self->slots_lock);
  while (self->free_slots == 0)
    g_cond_wait (&self->slots_cond, &self->slots_lock);
  self->free_slots--;
  g_mutex_unlock (&self->slots_lock);
}

static void
slot_release (WzAuth *self)
{
  g_mutex_lock (&self->slots_lock);
  self->free_slots++;
  g_cond_signal (&self->slots_cond);
  g_mutex_unlock (&self->slots_lock);
}

static char *
hash_password (WzAuth      *self,
               const char  *password,
               GError     **error)
{
  char out[crypto_pwhash_STRBYTES];
  int rc;

  slot_acquire (self);
  rc = crypto_pwhash_str (out, password, strlen (password), self->opslimit, self->memlimit);
  slot_release (self);

  if (rc != 0)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INTERNAL, "Out of memory while hashing a password");
      return NULL;
    }
  return g_strdup (out);
}

static gboolean
verify_password (WzAuth     *self,
                 const char *hash,
                 const char *password)
{
  int rc;

  slot_acquire (self);
  rc = crypto_pwhash_str_verify (hash, password, strlen (password));
  slot_release (self);

  return rc == 0;
}

static const char *
get_dummy_hash (WzAuth *self)
{
  const char *hash;

  g_mutex_lock (&self->dummy_lock);
  if (self->dummy_hash == NULL)
    {
      guint8 random[16];
      char text[sizeof random * 2 + 1];

      /* Unknown user names are checked against this, so they cost what a real user costs. */
      randombytes_buf (random, sizeof random);
      sodium_bin2hex (text, sizeof text, random, sizeof random);
      self->dummy_hash = hash_password (self, text, NULL);
    }
  hash = self->dummy_hash;
  g_mutex_unlock (&self->dummy_lock);

  return hash;
}

gboolean
wz_auth_add_user_full (WzAuth              *self,
                       const char          *username,
                       const char          *password,
                       const char          *role,
                       const char          *display_name,
                       const char          *practitioner_id,
                       WzAuthAddUserFlags   flags,
                       GError             **error)
{
  g_autofree char *hash = NULL;
  sqlite3_stmt *stmt;
  gboolean ok = FALSE;
  int rc;

  g_return_val_if_fail (WZ_IS_AUTH (self), FALSE);

  if (!valid_username (username))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                   "User name must be 1 to 64 letters, digits or . _ - @, starting with a letter or digit");
      return FALSE;
    }
  if (role == NULL ||
      !(g_str_equal (role, "doctor") || g_str_equal (role, "pharmacist") || g_str_equal (role, "admin")))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                   "Role must be one of doctor, pharmacist, admin");
      return FALSE;
    }
  if (display_name == NULL || *display_name == '\0')
    display_name = username;
  if (!valid_display_name (display_name))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                   "Display name must be valid UTF-8 text of at most 200 bytes without control characters");
      return FALSE;
    }
  if (practitioner_id != NULL && !valid_fhir_id (practitioner_id))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                   "Practitioner id must be 1 to 64 letters, digits, '-' or '.'");
      return FALSE;
    }
  if (password == NULL || *password == '\0' || !g_utf8_validate (password, -1, NULL) ||
      strlen (password) > MAX_PASSWORD_BYTES)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                   "Password must be non-empty UTF-8 text of at most %d bytes", MAX_PASSWORD_BYTES);
      return FALSE;
    }
  if (!(flags & WZ_AUTH_ADD_USER_DEMO_PASSWORD) &&
      g_utf8_strlen (password, -1) < WZ_AUTH_MIN_PASSWORD_LEN)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                   "Password must be at least %d characters long", WZ_AUTH_MIN_PASSWORD_LEN);
      return FALSE;
    }

  hash = hash_password (self, password, error);
  if (hash == NULL)
    return FALSE;

  g_mutex_lock (&self->db_lock);
  stmt = prepare (self->db,
                  "INSERT INTO users (username, role, display_name, practitioner_id, password_hash,"
                  " created) VALUES (?, ?, ?, ?, ?, ?)", error);
  if (stmt != NULL)
    {
      sqlite3_bind_text (stmt, 1, username, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, role, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 3, display_name, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 4, practitioner_id, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 5, hash, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 6, g_get_real_time ());
      rc = sqlite3_step (stmt);
      if (rc == SQLITE_DONE)
        ok = TRUE;
      else if (sqlite3_extended_errcode (self->db) == SQLITE_CONSTRAINT_UNIQUE)
        g_set_error (error, WZ_ERROR, WZ_ERROR_CONFLICT, "User %s already exists", username);
      else
        set_sqlite_error (error, self->db, "adding a user");
      sqlite3_finalize (stmt);
    }
  g_mutex_unlock (&self->db_lock);

  if (ok)
    g_info ("Added user %s (%s)", username, role);

  return ok;
}

gboolean
wz_auth_add_user (WzAuth      *self,
                  const char  *username,
                  const char  *password,
                  const char  *role,
                  const char  *display_name,
                  const char  *practitioner_id,
                  GError     **error)
{
  return wz_auth_add_user_full (self, username, password, role, display_name, practitioner_id,
                                WZ_AUTH_ADD_USER_NONE, error);
}

typedef struct
{
  gint64  id;
  char   *username;
  char   *role;
  char   *display_name;
  char   *practitioner_id;
  char   *password_hash;
  gint64  locked_until;
} UserRow;

static void
user_row_clear (UserRow *row)
{
  g_clear_pointer (&row->username, g_free);
  g_clear_pointer (&row->role, g_free);
  g_clear_pointer (&row->display_name, g_free);
  g_clear_pointer (&row->practitioner_id, g_free);
  g_clear_pointer (&row->password_hash, g_free);
}

/* TRUE and *out_found set when the query ran; the caller holds db_lock. */
static gboolean
find_user (WzAuth      *self,
           const char  *username,
           UserRow     *out_row,
           gboolean    *out_found,
           GError     **error)
{
  sqlite3_stmt *stmt;
  int rc;

  *out_found = FALSE;
  stmt = prepare (self->db,
                  "SELECT id, username, role, display_name, practitioner_id, password_hash, locked_until"
                  " FROM users WHERE username = ?", error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_text (stmt, 1, username, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      out_row->id = sqlite3_column_int64 (stmt, 0);
      out_row->username = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      out_row->role = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
      out_row->display_name = g_strdup ((const char *) sqlite3_column_text (stmt, 3));
      out_row->practitioner_id = g_strdup ((const char *) sqlite3_column_text (stmt, 4));
      out_row->password_hash = g_strdup ((const char *) sqlite3_column_text (stmt, 5));
      out_row->locked_until = sqlite3_column_int64 (stmt, 6);
      *out_found = TRUE;
    }
  sqlite3_finalize (stmt);

  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return set_sqlite_error (error, self->db, "looking up a user");
  return TRUE;
}

static guint
retry_after_s (gint64 locked_until,
               gint64 now)
{
  return (guint) ((locked_until - now + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC);
}

/* Counts a failure for a real user; returns the time the name is now locked until (0 if not). */
static gint64
record_user_failure (WzAuth *self,
                     gint64  user_id,
                     gint64  now)
{
  g_autoptr(GError) error = NULL;
  sqlite3_stmt *stmt;
  gint64 locked_until = 0;

  g_mutex_lock (&self->db_lock);
  /* One statement, so concurrent failures cannot lose a count. A lock that has run out starts
   * the count afresh. */
  stmt = prepare (self->db,
                  "UPDATE users SET"
                  "  failed_count = CASE WHEN locked_until != 0 AND locked_until <= ?1 THEN 1"
                  "                      ELSE failed_count + 1 END,"
                  "  locked_until = CASE"
                  "    WHEN locked_until != 0 AND locked_until <= ?1 THEN 0"
                  "    WHEN failed_count + 1 >= ?2 THEN ?3"
                  "    ELSE locked_until END"
                  " WHERE id = ?4 RETURNING locked_until", &error);
  if (stmt != NULL)
    {
      sqlite3_bind_int64 (stmt, 1, now);
      sqlite3_bind_int64 (stmt, 2, WZ_AUTH_MAX_FAILURES);
      sqlite3_bind_int64 (stmt, 3, now + (gint64) WZ_AUTH_LOCKOUT_S * G_USEC_PER_SEC);
      sqlite3_bind_int64 (stmt, 4, user_id);
      if (sqlite3_step (stmt) == SQLITE_ROW)
        locked_until = sqlite3_column_int64 (stmt, 0);
      else
        set_sqlite_error (&error, self->db, "counting a failed login");
      sqlite3_reset (stmt);
      sqlite3_finalize (stmt);
    }
  g_mutex_unlock (&self->db_lock);

  if (error != NULL)
    g_warning ("%s", error->message);

  return locked_until;
}

static gint64
unknown_locked_until (WzAuth     *self,
                      const char *folded,
                      gint64      now)
{
  UnknownFailures *f;
  gint64 locked_until = 0;

  g_mutex_lock (&self->cache_lock);
  f = g_hash_table_lookup (self->unknown, folded);
  if (f != NULL && f->locked_until > now)
    locked_until = f->locked_until;
  g_mutex_unlock (&self->cache_lock);

  return locked_until;
}

static void
record_unknown_failure (WzAuth     *self,
                        const char *folded,
                        gint64      now)
{
  UnknownFailures *f;

  g_mutex_lock (&self->cache_lock);
  f = g_hash_table_lookup (self->unknown, folded);
  if (f == NULL)
    {
      /* Someone spraying random names must not grow this without bound; forgetting the counts
       * only makes those names behave as if they were new. */
      if (g_hash_table_size (self->unknown) >= MAX_UNKNOWN_TRACKED)
        g_hash_table_remove_all (self->unknown);
      f = g_new0 (UnknownFailures, 1);
      g_hash_table_insert (self->unknown, g_strdup (folded), f);
    }
  if (f->locked_until != 0 && f->locked_until <= now)
    {
      f->locked_until = 0;
      f->failures = 0;
    }
  f->failures++;
  if (f->failures >= WZ_AUTH_MAX_FAILURES)
    f->locked_until = now + (gint64) WZ_AUTH_LOCKOUT_S * G_USEC_PER_SEC;
  g_mutex_unlock (&self->cache_lock);
}

static char *
issue_token (WzAuth           *self,
             const UserRow    *user,
             gint64            now,
             const WzSession **out_session,
             GError          **error)
{
  guint8 raw[TOKEN_BYTES];
  char text[sodium_base64_ENCODED_LEN (TOKEN_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  g_autoptr(GError) rehash_error = NULL;
  CacheEntry *entry;
  sqlite3_stmt *stmt;
  gboolean ok = FALSE;

  randombytes_buf (raw, sizeof raw);
  sodium_bin2base64 (text, sizeof text, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);

  entry = g_new0 (CacheEntry, 1);
  token_key (raw, entry->key);
  sodium_memzero (raw, sizeof raw);
  entry->user_id = user->id;
  entry->last_used = entry->last_persisted = now;
  entry->session.username = g_strdup (user->username);
  entry->session.role = g_strdup (user->role);
  entry->session.display_name = g_strdup (user->display_name);
  entry->session.practitioner_id = g_strdup (user->practitioner_id);
  entry->session.expires_at = now + (gint64) WZ_AUTH_TOKEN_LIFETIME_S * G_USEC_PER_SEC;

  g_mutex_lock (&self->db_lock);
  if (exec (self->db, "BEGIN IMMEDIATE", error))
    {
      stmt = prepare (self->db, "UPDATE users SET failed_count = 0, locked_until = 0, last_login = ?"
                                " WHERE id = ?", error);
      if (stmt != NULL)
        {
          sqlite3_bind_int64 (stmt, 1, now);
          sqlite3_bind_int64 (stmt, 2, user->id);
          ok = sqlite3_step (stmt) == SQLITE_DONE || set_sqlite_error (error, self->db, "updating");
          sqlite3_finalize (stmt);
        }

      stmt = ok ? prepare (self->db, "INSERT INTO tokens (hash, user_id, created, expires_at, last_used)"
                                     " VALUES (?, ?, ?, ?, ?)", error) : NULL;
      ok = stmt != NULL;
      if (stmt != NULL)
        {
          sqlite3_bind_blob (stmt, 1, entry->key, KEY_BYTES, SQLITE_STATIC);
          sqlite3_bind_int64 (stmt, 2, user->id);
          sqlite3_bind_int64 (stmt, 3, now);
          sqlite3_bind_int64 (stmt, 4, entry->session.expires_at);
          sqlite3_bind_int64 (stmt, 5, now);
          ok = sqlite3_step (stmt) == SQLITE_DONE || set_sqlite_error (error, self->db, "storing a token");
          sqlite3_finalize (stmt);
        }

      if (ok)
        ok = exec (self->db, "COMMIT", error);
      if (!ok)
        sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
    }
  g_mutex_unlock (&self->db_lock);

  if (!ok)
    {
      cache_entry_free (entry);
      sodium_memzero (text, sizeof text);
      return NULL;
    }

  g_mutex_lock (&self->cache_lock);
  g_hash_table_replace (self->sessions, entry->key, entry);
  g_mutex_unlock (&self->cache_lock);

  *out_session = &entry->session;
  return g_strdup (text);
}

/* A hash made under other limits (e.g. an older default) is upgraded while the password is known. */
static void
maybe_rehash (WzAuth        *self,
              const UserRow *user,
              const char    *password)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *hash = NULL;
  sqlite3_stmt *stmt;

  if (crypto_pwhash_str_needs_rehash (user->password_hash, self->opslimit, self->memlimit) == 0)
    return;

  hash = hash_password (self, password, &error);
  if (hash == NULL)
    return;

  g_mutex_lock (&self->db_lock);
  stmt = prepare (self->db, "UPDATE users SET password_hash = ? WHERE id = ?", &error);
  if (stmt != NULL)
    {
      sqlite3_bind_text (stmt, 1, hash, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 2, user->id);
      if (sqlite3_step (stmt) != SQLITE_DONE)
        set_sqlite_error (&error, self->db, "rehashing");
      sqlite3_finalize (stmt);
    }
  g_mutex_unlock (&self->db_lock);

  if (error != NULL)
    g_warning ("%s", error->message);
}

char *
wz_auth_login (WzAuth           *self,
               const char       *username,
               const char       *password,
               const char       *totp,
               const char       *peer,
               const WzSession **out_session,
               guint            *out_retry_after_s,
               GError          **error)
{
  UserRow user = { 0, };
  g_autofree char *folded = NULL;
  gboolean found = FALSE;
  gboolean verified;
  gint64 now;
  gint64 locked_until;
  char *token;

  g_return_val_if_fail (WZ_IS_AUTH (self), NULL);
  g_return_val_if_fail (out_session != NULL, NULL);

  *out_session = NULL;
  if (out_retry_after_s)
    *out_retry_after_s = 0;

  if (username == NULL || password == NULL || *username == '\0' ||
      strnlen (password, MAX_LOGIN_PASSWORD_BYTES + 1) > MAX_LOGIN_PASSWORD_BYTES ||
      strnlen (username, 1025) > 1024)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                   "User name and password are required (password at most %d bytes)",
                   MAX_LOGIN_PASSWORD_BYTES);
      return NULL;
    }

  now = auth_now (self);
  folded = g_ascii_strdown (username, -1);

  /* No TOTP enrolment exists for any user yet, so a second factor is never demanded; a client
   * that sends one anyway is not refused for it. */
  (void) totp;

  if (valid_username (username))
    {
      g_mutex_lock (&self->db_lock);
      if (!find_user (self, username, &user, &found, error))
        {
          g_mutex_unlock (&self->db_lock);
          return NULL;
        }
      g_mutex_unlock (&self->db_lock);
    }

  locked_until = found ? user.locked_until : unknown_locked_until (self, folded, now);
  if (locked_until > now)
    {
      guint retry = retry_after_s (locked_until, now);

      if (out_retry_after_s)
        *out_retry_after_s = retry;
      g_set_error (error, WZ_ERROR, WZ_ERROR_LOCKED,
                   "Too many failed attempts; try again in %u minutes", (retry + 59) / 60);
      g_info ("Refused login for %s from %s: locked", folded, peer ? peer : "?");
      user_row_clear (&user);
      return NULL;
    }

  /* Both branches pay for one argon2id verification, so the time taken does not say whether the
   * name exists. */
  if (found)
    verified = verify_password (self, user.password_hash, password);
  else
    {
      const char *dummy = get_dummy_hash (self);

      if (dummy != NULL)
        verify_password (self, dummy, password);
      verified = FALSE;
    }

  now = auth_now (self);

  if (!verified)
    {
      if (found)
        locked_until = record_user_failure (self, user.id, now);
      else
        record_unknown_failure (self, folded, now);

      g_info ("Failed login for %s from %s", folded, peer ? peer : "?");
      g_set_error (error, WZ_ERROR, WZ_ERROR_UNAUTHORIZED, BAD_CREDENTIALS);
      user_row_clear (&user);
      return NULL;
    }

  /* Failures from other connections may have locked the name while this password was checked. */
  {
    UserRow fresh = { 0, };
    gboolean still = FALSE;

    g_mutex_lock (&self->db_lock);
    if (!find_user (self, user.username, &fresh, &still, error))
      {
        g_mutex_unlock (&self->db_lock);
        user_row_clear (&user);
        return NULL;
      }
    g_mutex_unlock (&self->db_lock);

    locked_until = fresh.locked_until;
    user_row_clear (&fresh);

    if (!still)
      {
        g_set_error (error, WZ_ERROR, WZ_ERROR_UNAUTHORIZED, BAD_CREDENTIALS);
        user_row_clear (&user);
        return NULL;
      }
    if (locked_until > now)
      {
        guint retry = retry_after_s (locked_until, now);

        if (out_retry_after_s)
          *out_retry_after_s = retry;
        g_set_error (error, WZ_ERROR, WZ_ERROR_LOCKED,
                     "Too many failed attempts; try again in %u minutes", (retry + 59) / 60);
        user_row_clear (&user);
        return NULL;
      }
  }

  token = issue_token (self, &user, now, out_session, error);
  if (token != NULL)
    {
      maybe_rehash (self, &user, password);
      g_info ("User %s logged in from %s", user.username, peer ? peer : "?");
    }

  user_row_clear (&user);
  return token;
}

/* Patient sessions have no idle timeout (see WZ_AUTH_PATIENT_TOKEN_LIFETIME_S). */
static gboolean
entry_alive (const CacheEntry *entry,
             gint64            now)
{
  if (now >= entry->session.expires_at)
    return FALSE;
  return entry->user_id == 0 ||
         now - entry->last_used <= (gint64) WZ_AUTH_IDLE_TIMEOUT_S * G_USEC_PER_SEC;
}

gboolean
wz_auth_check (WzAuth     *self,
               const char *token)
{
  guint8 raw[TOKEN_BYTES];
  guint8 key[KEY_BYTES];
  CacheEntry *entry;
  gboolean alive;

  g_return_val_if_fail (WZ_IS_AUTH (self), FALSE);

  if (!decode_token (token, raw))
    return FALSE;
  token_key (raw, key);
  sodium_memzero (raw, sizeof raw);

  g_mutex_lock (&self->cache_lock);
  entry = g_hash_table_lookup (self->sessions, key);
  alive = entry != NULL && entry_alive (entry, auth_now (self));
  g_mutex_unlock (&self->cache_lock);

  return alive;
}

const WzSession *
wz_auth_lookup (WzAuth     *self,
                const char *token)
{
  guint8 raw[TOKEN_BYTES];
  guint8 key[KEY_BYTES];
  CacheEntry *entry;
  gint64 now;
  const WzSession *session = NULL;
  TouchJob *job = NULL;

  g_return_val_if_fail (WZ_IS_AUTH (self), NULL);

  if (!decode_token (token, raw))
    return NULL;
  token_key (raw, key);

  now = auth_now (self);

  g_mutex_lock (&self->cache_lock);
  entry = g_hash_table_lookup (self->sessions, key);
  if (entry != NULL)
    {
      if (!entry_alive (entry, now))
        {
          /* Left in auth.db: it is dead by the same rule there and is purged on the next start. */
          g_hash_table_remove (self->sessions, key);
        }
      else
        {
          entry->last_used = MAX (entry->last_used, now);
          if (entry->user_id != 0 && now - entry->last_persisted >= TOUCH_INTERVAL_US)
            {
              entry->last_persisted = now;
              job = g_new (TouchJob, 1);
              memcpy (job->key, key, KEY_BYTES);
              job->last_used = now;
            }
          session = &entry->session;
        }
    }
  g_mutex_unlock (&self->cache_lock);

  if (job != NULL)
    g_thread_pool_push (self->touch_pool, job, NULL);

  return session;
}

void
wz_auth_logout (WzAuth     *self,
                const char *token)
{
  guint8 raw[TOKEN_BYTES];
  guint8 key[KEY_BYTES];
  g_autoptr(GError) error = NULL;
  sqlite3_stmt *stmt;

  g_return_if_fail (WZ_IS_AUTH (self));

  if (!decode_token (token, raw))
    return;
  token_key (raw, key);

  g_mutex_lock (&self->cache_lock);
  g_hash_table_remove (self->sessions, key);
  g_mutex_unlock (&self->cache_lock);

  g_signal_emit (self, signals[TOKEN_REVOKED], 0, token);

  g_mutex_lock (&self->db_lock);
  for (guint i = 0; i < 2 && error == NULL; i++)
    {
      stmt = prepare (self->db, i == 0 ? "DELETE FROM tokens WHERE hash = ?"
                                       : "DELETE FROM patient_tokens WHERE hash = ?", &error);
      if (stmt != NULL)
        {
          sqlite3_bind_blob (stmt, 1, key, KEY_BYTES, SQLITE_STATIC);
          if (sqlite3_step (stmt) != SQLITE_DONE)
            set_sqlite_error (&error, self->db, "revoking a token");
          sqlite3_finalize (stmt);
        }
    }
  g_mutex_unlock (&self->db_lock);

  if (error != NULL)
    g_warning ("%s", error->message);
}

/* A fresh random token as text, and the hash under which it is stored. */
static void
new_token (char   out_text[TOKEN_TEXT_LEN + 1],
           guint8 out_key[KEY_BYTES])
{
  guint8 raw[TOKEN_BYTES];

  randombytes_buf (raw, sizeof raw);
  sodium_bin2base64 (out_text, TOKEN_TEXT_LEN + 1, raw, sizeof raw,
                     sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  token_key (raw, out_key);
  sodium_memzero (raw, sizeof raw);
}

char *
wz_auth_create_visit_link (WzAuth      *self,
                           const char  *patient_id,
                           const char  *encounter_id,
                           const char  *created_by,
                           gint64      *out_expires_at,
                           GError     **error)
{
  char text[TOKEN_TEXT_LEN + 1];
  guint8 key[KEY_BYTES];
  sqlite3_stmt *stmt;
  gint64 now, expires_at;
  gboolean ok = FALSE;

  g_return_val_if_fail (WZ_IS_AUTH (self), NULL);
  g_return_val_if_fail (created_by != NULL, NULL);

  if (patient_id == NULL || encounter_id == NULL ||
      !valid_fhir_id (patient_id) || !valid_fhir_id (encounter_id))
    {
      g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INVALID,
                           "A visit link needs the ids of a Patient and an Encounter");
      return NULL;
    }

  now = auth_now (self);
  expires_at = now + (gint64) WZ_AUTH_VISIT_LINK_LIFETIME_S * G_USEC_PER_SEC;
  new_token (text, key);

  g_mutex_lock (&self->db_lock);
  stmt = prepare (self->db, "INSERT INTO visit_links (hash, patient_id, encounter_id, created_by,"
                            " created, expires_at) VALUES (?, ?, ?, ?, ?, ?)", error);
  if (stmt != NULL)
    {
      sqlite3_bind_blob (stmt, 1, key, KEY_BYTES, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, patient_id, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 3, encounter_id, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 4, created_by, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 5, now);
      sqlite3_bind_int64 (stmt, 6, expires_at);
      ok = sqlite3_step (stmt) == SQLITE_DONE || set_sqlite_error (error, self->db,
                                                                   "storing a visit link");
      sqlite3_finalize (stmt);
    }
  g_mutex_unlock (&self->db_lock);

  if (!ok)
    {
      sodium_memzero (text, sizeof text);
      return NULL;
    }

  if (out_expires_at != NULL)
    *out_expires_at = expires_at;
  g_info ("Visit link made for Encounter/%s by %s", encounter_id, created_by);
  return g_strdup (text);
}

/* Why LINK_KEY cannot be spent, for the message; the caller holds db_lock. */
static void
explain_unusable_link (WzAuth        *self,
                       const guint8  *link_key,
                       gint64         now,
                       GError       **error)
{
  g_autoptr(GError) local_error = NULL;
  sqlite3_stmt *stmt;
  const char *message = LINK_UNKNOWN;

  stmt = prepare (self->db, "SELECT used_at, expires_at FROM visit_links WHERE hash = ?",
                  &local_error);
  if (stmt == NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return;
    }
  sqlite3_bind_blob (stmt, 1, link_key, KEY_BYTES, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      if (sqlite3_column_type (stmt, 0) != SQLITE_NULL)
        message = LINK_USED;
      else if (sqlite3_column_int64 (stmt, 1) <= now)
        message = LINK_EXPIRED;
    }
  sqlite3_finalize (stmt);

  g_set_error_literal (error, WZ_ERROR, WZ_ERROR_UNAUTHORIZED, message);
}

char *
wz_auth_redeem_visit_link (WzAuth           *self,
                           const char       *link_token,
                           const WzSession **out_session,
                           GError          **error)
{
  guint8 raw[TOKEN_BYTES];
  guint8 link_key[KEY_BYTES];
  char text[TOKEN_TEXT_LEN + 1];
  g_autofree char *patient_id = NULL;
  g_autofree char *encounter_id = NULL;
  CacheEntry *entry = NULL;
  sqlite3_stmt *stmt;
  gboolean ok = FALSE;
  gint64 now;

  g_return_val_if_fail (WZ_IS_AUTH (self), NULL);
  g_return_val_if_fail (out_session != NULL, NULL);

  *out_session = NULL;
  if (!decode_token (link_token, raw))
    {
      g_set_error_literal (error, WZ_ERROR, WZ_ERROR_UNAUTHORIZED, LINK_UNKNOWN);
      return NULL;
    }
  token_key (raw, link_key);
  sodium_memzero (raw, sizeof raw);

  now = auth_now (self);

  g_mutex_lock (&self->db_lock);
  if (!exec (self->db, "BEGIN IMMEDIATE", error))
    {
      g_mutex_unlock (&self->db_lock);
      return NULL;
    }

  /* One statement decides, so two tabs opening the same link cannot both get a session. */
  stmt = prepare (self->db, "UPDATE visit_links SET used_at = ?1"
                            " WHERE hash = ?2 AND used_at IS NULL AND expires_at > ?1"
                            " RETURNING patient_id, encounter_id", error);
  if (stmt != NULL)
    {
      int rc;

      sqlite3_bind_int64 (stmt, 1, now);
      sqlite3_bind_blob (stmt, 2, link_key, KEY_BYTES, SQLITE_STATIC);
      rc = sqlite3_step (stmt);
      if (rc == SQLITE_ROW)
        {
          patient_id = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
          encounter_id = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
          rc = sqlite3_step (stmt);
        }
      if (rc != SQLITE_DONE)
        {
          set_sqlite_error (error, self->db, "spending a visit link");
          g_clear_pointer (&patient_id, g_free);
        }
      else if (patient_id == NULL)
        explain_unusable_link (self, link_key, now, error);
      sqlite3_finalize (stmt);
    }

  if (patient_id != NULL)
    {
      entry = g_new0 (CacheEntry, 1);
      new_token (text, entry->key);
      fill_patient_session (&entry->session, patient_id, encounter_id,
                            now + (gint64) WZ_AUTH_PATIENT_TOKEN_LIFETIME_S * G_USEC_PER_SEC);
      entry->last_used = entry->last_persisted = now;

      stmt = prepare (self->db, "INSERT INTO patient_tokens (hash, patient_id, encounter_id,"
                                " created, expires_at) VALUES (?, ?, ?, ?, ?)", error);
      if (stmt != NULL)
        {
          sqlite3_bind_blob (stmt, 1, entry->key, KEY_BYTES, SQLITE_STATIC);
          sqlite3_bind_text (stmt, 2, patient_id, -1, SQLITE_STATIC);
          sqlite3_bind_text (stmt, 3, encounter_id, -1, SQLITE_STATIC);
          sqlite3_bind_int64 (stmt, 4, now);
          sqlite3_bind_int64 (stmt, 5, entry->session.expires_at);
          ok = sqlite3_step (stmt) == SQLITE_DONE ||
               set_sqlite_error (error, self->db, "storing a patient session");
          sqlite3_finalize (stmt);
        }
    }

  /* A failed attempt changes nothing, so the link still works when the database is back. */
  if (ok)
    ok = exec (self->db, "COMMIT", error);
  if (!ok)
    sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
  g_mutex_unlock (&self->db_lock);

  if (!ok)
    {
      g_clear_pointer (&entry, cache_entry_free);
      return NULL;
    }

  g_mutex_lock (&self->cache_lock);
  g_hash_table_replace (self->sessions, entry->key, entry);
  g_mutex_unlock (&self->cache_lock);

  g_info ("Visit link for Encounter/%s opened", encounter_id);
  *out_session = &entry->session;
  return g_strndup (text, TOKEN_TEXT_LEN);
}

void
wz_auth_set_clock (WzAuth      *self,
                   WzAuthClock  clock,
                   gpointer     user_data)
{
  g_return_if_fail (WZ_IS_AUTH (self));

  self->clock = clock;
  self->clock_data = user_data;
}
