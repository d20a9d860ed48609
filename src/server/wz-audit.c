/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-audit"

#include "config.h"

#include "wz-audit.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <sodium.h>
#include <sqlite3.h>
#include <string.h>

#include "wz-error.h"

#define HASH_LEN 32
/* Upper bound on rows per transaction, so one huge burst cannot hold every caller for seconds. */
#define MAX_BATCH 16384

G_DEFINE_QUARK (wz-audit-error-quark, wz_audit_error)

typedef struct
{
  gint64       recorded;
  WzAuditDone  done;
  gpointer     user_data;
  /* Points into the same allocation as the row itself, so a row costs one malloc. */
  const char  *action;
  const char  *outcome;
  const char  *agent;
  const char  *entity;
  const char  *patient;
  const char  *peer;
} AuditRow;

/* Rows written in one transaction, handed back to the opener's context in one go. */
typedef struct
{
  GPtrArray *rows;
  GError    *error;
} AuditBatch;

struct _WzAudit
{
  GObject       parent_instance;

  char         *path;
  GMainContext *context;
  GThread      *opener;

  /* Owned by the writer thread once it runs. */
  sqlite3      *db;
  sqlite3_stmt *insert;
  /* Parsed once: a batch's own statements, not its SQL text, are the writer's work. */
  sqlite3_stmt *begin;
  sqlite3_stmt *commit;
  sqlite3_stmt *head;
  guint8        last_hash[HASH_LEN];
  gint64        last_seq;

  GThread      *writer;
  GAsyncQueue  *queue;

  GMutex        lock;
  GCond         cond;
  guint64       n_enqueued;     /* rows handed to the queue */
  guint64       n_written;      /* rows the writer finished (committed or failed) */
  guint64       n_commits;
  GQueue        finished;       /* AuditBatch* waiting for the opener's context */
  gboolean      dispatch_queued;

  /* Separate connection for searches, opened on first use. */
  GMutex        reader_lock;
  sqlite3      *reader;
};

G_DEFINE_FINAL_TYPE (WzAudit, wz_audit, G_TYPE_OBJECT)

/* Sentinel pushed on dispose to stop the writer. */
static AuditRow stop_row;

static const char *const migrations[] = {
  /* 1: the log itself. AUTOINCREMENT keeps sqlite_sequence at the highest seq ever written, which
   * lets verify notice rows cut off the end of the chain. */
  "CREATE TABLE audit_event ("
  "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  recorded INTEGER NOT NULL,"
  "  action TEXT NOT NULL,"
  "  outcome TEXT NOT NULL,"
  "  agent TEXT NOT NULL,"
  "  entity TEXT,"
  "  patient TEXT,"
  "  peer TEXT,"
  "  prev_hash BLOB NOT NULL,"
  "  hash BLOB NOT NULL);"
  "CREATE INDEX audit_event_patient ON audit_event (patient, seq);"
  "CREATE INDEX audit_event_agent ON audit_event (agent, seq);"
  "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event"
  "  BEGIN SELECT RAISE (ABORT, 'audit log is append-only'); END;"
  "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event"
  "  BEGIN SELECT RAISE (ABORT, 'audit log is append-only'); END;",
};

static gboolean
set_sqlite_error (GError     **error,
                  sqlite3     *db,
                  const char  *what)
{
  g_set_error (error, WZ_ERROR, WZ_ERROR_UNAVAILABLE, "audit log: %s: %s",
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
      g_set_error (error, WZ_ERROR, WZ_ERROR_UNAVAILABLE, "audit log: %s", msg ? msg : "error");
      sqlite3_free (msg);
      return FALSE;
    }
  return TRUE;
}

/* Runs a prepared statement that returns no rows. */
static gboolean
step_once (sqlite3       *db,
           sqlite3_stmt  *stmt,
           const char    *what,
           GError       **error)
{
  int rc = sqlite3_step (stmt);

  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    return set_sqlite_error (error, db, what);
  return TRUE;
}

static gboolean
migrate (sqlite3  *db,
         GError  **error)
{
  sqlite3_stmt *stmt = NULL;
  gint64 version = 0;

  if (!exec (db, "CREATE TABLE IF NOT EXISTS audit_migrations ("
                 "  version INTEGER PRIMARY KEY, applied INTEGER NOT NULL)", error))
    return FALSE;

  if (sqlite3_prepare_v2 (db, "SELECT coalesce (max (version), 0) FROM audit_migrations",
                          -1, &stmt, NULL) != SQLITE_OK)
    return set_sqlite_error (error, db, "reading schema version");
  if (sqlite3_step (stmt) == SQLITE_ROW)
    version = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);

  if (version > (gint64) G_N_ELEMENTS (migrations))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_UNAVAILABLE,
                   "audit log schema version %" G_GINT64_FORMAT " is newer than this server knows",
                   version);
      return FALSE;
    }

  for (gint64 v = version; v < (gint64) G_N_ELEMENTS (migrations); v++)
    {
      g_autofree char *record = NULL;

      if (!exec (db, "BEGIN IMMEDIATE", error))
        return FALSE;
      record = g_strdup_printf ("INSERT INTO audit_migrations (version, applied)"
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

/* Decimal digits of VALUE at the end of BUF (at least 21 bytes), as printf's %lld would write
 * them; returns where they start. The writer hashes every row, and printf's machinery was most of
 * that cost. */
static char *
format_int (char   *buf_end,
            gint64  value)
{
  guint64 magnitude = value < 0 ? -(guint64) value : (guint64) value;
  char *p = buf_end;

  do
    {
      *--p = '0' + magnitude % 10;
      magnitude /= 10;
    }
  while (magnitude != 0);
  if (value < 0)
    *--p = '-';
  return p;
}

static void
hash_field (crypto_generichash_state *state,
            const char               *value)
{
  char prefix[24];
  char *end = prefix + sizeof prefix - 1;
  char *start;
  gsize len;

  /* Length-prefixed, with a distinct marker for NULL, so no two different rows share a text. */
  if (value == NULL)
    {
      crypto_generichash_update (state, (const guint8 *) "~;", 2);
      return;
    }
  len = strlen (value);
  *end = ':';
  start = format_int (end, (gint64) len);
  crypto_generichash_update (state, (const guint8 *) start, end + 1 - start);
  crypto_generichash_update (state, (const guint8 *) value, len);
}

static void
compute_hash (const guint8 prev_hash[HASH_LEN],
              gint64       seq,
              gint64       recorded,
              const char  *action,
              const char  *outcome,
              const char  *agent,
              const char  *entity,
              const char  *patient,
              const char  *peer,
              guint8       out_hash[HASH_LEN])
{
  crypto_generichash_state state;
  char numbers[64];
  char *end = numbers + sizeof numbers - 1;
  char *start;

  crypto_generichash_init (&state, NULL, 0, HASH_LEN);
  crypto_generichash_update (&state, prev_hash, HASH_LEN);
  /* "SEQ;RECORDED;" */
  *end = ';';
  start = format_int (end, recorded);
  *--start = ';';
  start = format_int (start, seq);
  crypto_generichash_update (&state, (const guint8 *) start, end + 1 - start);
  hash_field (&state, action);
  hash_field (&state, outcome);
  hash_field (&state, agent);
  hash_field (&state, entity);
  hash_field (&state, patient);
  hash_field (&state, peer);
  crypto_generichash_final (&state, out_hash, HASH_LEN);
}

static sqlite3 *
open_db (const char  *path,
         int          flags,
         GError     **error)
{
  sqlite3 *db = NULL;

  if (sqlite3_open_v2 (path, &db, flags, NULL) != SQLITE_OK)
    {
      set_sqlite_error (error, db, "opening");
      sqlite3_close (db);
      return NULL;
    }
  sqlite3_busy_timeout (db, 5000);
  return db;
}

static gboolean
prepare (sqlite3       *db,
         const char    *sql,
         sqlite3_stmt **out_stmt,
         GError       **error)
{
  if (sqlite3_prepare_v3 (db, sql, -1, SQLITE_PREPARE_PERSISTENT, out_stmt, NULL) != SQLITE_OK)
    return set_sqlite_error (error, db, "preparing");
  return TRUE;
}

static void
audit_batch_free (AuditBatch *batch)
{
  g_ptr_array_unref (batch->rows);
  g_clear_error (&batch->error);
  g_free (batch);
}

static gboolean
dispatch_finished (gpointer data)
{
  WzAudit *self = data;
  GQueue batches = G_QUEUE_INIT;

  g_mutex_lock (&self->lock);
  batches = self->finished;
  g_queue_init (&self->finished);
  self->dispatch_queued = FALSE;
  g_mutex_unlock (&self->lock);

  for (AuditBatch *batch; (batch = g_queue_pop_head (&batches)); )
    {
      for (guint i = 0; i < batch->rows->len; i++)
        {
          AuditRow *row = g_ptr_array_index (batch->rows, i);

          if (row->done != NULL)
            row->done (batch->error, row->user_data);
        }
      audit_batch_free (batch);
    }

  return G_SOURCE_REMOVE;
}

static gboolean load_head (WzAudit  *self,
                           GError  **error);

static gboolean
write_batch (WzAudit    *self,
             GPtrArray  *rows,
             GError    **error)
{
  guint8 hash[HASH_LEN];
  guint8 saved_hash[HASH_LEN];
  gint64 saved_seq = self->last_seq;

  memcpy (saved_hash, self->last_hash, HASH_LEN);

  if (!step_once (self->db, self->begin, "beginning", error))
    return FALSE;

  /* Other processes append too (user add, visit-link while the server runs): the chain goes on
   * from the head on disk, read under the write lock, not from the one remembered. */
  if (!load_head (self, error))
    goto fail;

  for (guint i = 0; i < rows->len; i++)
    {
      AuditRow *row = g_ptr_array_index (rows, i);
      gint64 seq = self->last_seq + 1;
      sqlite3_stmt *stmt = self->insert;

      compute_hash (self->last_hash, seq, row->recorded, row->action, row->outcome, row->agent,
                    row->entity, row->patient, row->peer, hash);

      sqlite3_bind_int64 (stmt, 1, seq);
      sqlite3_bind_int64 (stmt, 2, row->recorded);
      sqlite3_bind_text (stmt, 3, row->action, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 4, row->outcome, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 5, row->agent, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 6, row->entity, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 7, row->patient, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 8, row->peer, -1, SQLITE_STATIC);
      sqlite3_bind_blob (stmt, 9, self->last_hash, HASH_LEN, SQLITE_TRANSIENT);
      sqlite3_bind_blob (stmt, 10, hash, HASH_LEN, SQLITE_TRANSIENT);

      if (sqlite3_step (stmt) != SQLITE_DONE)
        {
          set_sqlite_error (error, self->db, "appending");
          sqlite3_reset (stmt);
          goto fail;
        }
      sqlite3_reset (stmt);

      self->last_seq = seq;
      memcpy (self->last_hash, hash, HASH_LEN);
    }

  if (!step_once (self->db, self->commit, "committing", error))
    goto fail;

  return TRUE;

fail:
  sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
  self->last_seq = saved_seq;
  memcpy (self->last_hash, saved_hash, HASH_LEN);
  return FALSE;
}

static gpointer
writer_thread (gpointer data)
{
  WzAudit *self = data;
  gboolean stop = FALSE;

  while (!stop)
    {
      AuditBatch *batch = g_new0 (AuditBatch, 1);
      AuditRow *row = g_async_queue_pop (self->queue);
      gboolean schedule;
      guint n;

      batch->rows = g_ptr_array_new_with_free_func (g_free);

      /* Group commit: the rows that queued up while the previous fsync ran go into this one
       * transaction, so the number of fsyncs follows the disk, not the request rate. Rows arriving
       * meanwhile wait for the next round, which bounds how long any row waits. */
      n = MIN ((guint) MAX (g_async_queue_length (self->queue), 0), MAX_BATCH - 1);
      for (;;)
        {
          if (row == &stop_row)
            {
              stop = TRUE;
              break;
            }
          g_ptr_array_add (batch->rows, row);
          if (n-- == 0 || (row = g_async_queue_try_pop (self->queue)) == NULL)
            break;
        }

      n = batch->rows->len;
      if (n == 0)
        {
          audit_batch_free (batch);
          continue;
        }

      if (!write_batch (self, batch->rows, &batch->error))
        g_warning ("Could not write %u audit rows: %s", n, batch->error->message);

      g_mutex_lock (&self->lock);
      self->n_written += n;
      if (batch->error == NULL)
        self->n_commits++;
      g_queue_push_tail (&self->finished, batch);
      schedule = !self->dispatch_queued;
      self->dispatch_queued = TRUE;
      g_cond_broadcast (&self->cond);
      g_mutex_unlock (&self->lock);

      /* One idle per wake-up of the opener's loop, however many batches finish meanwhile. */
      if (schedule)
        {
          GSource *source = g_idle_source_new ();

          g_source_set_priority (source, G_PRIORITY_DEFAULT);
          g_source_set_callback (source, dispatch_finished, g_object_ref (self), g_object_unref);
          g_source_set_static_name (source, "[wz-audit] done callbacks");
          g_source_attach (source, self->context);
          g_source_unref (source);
        }
    }

  return NULL;
}

static void
wz_audit_dispose (GObject *object)
{
  WzAudit *self = WZ_AUDIT (object);

  if (self->writer != NULL)
    {
      g_async_queue_push (self->queue, &stop_row);
      g_thread_join (g_steal_pointer (&self->writer));
      /* Rows per commit tells whether the disk's fsync or the request rate set the pace
       * (G_MESSAGES_DEBUG=wz-audit; bench/server-read prints it). */
      g_debug ("%" G_GUINT64_FORMAT " rows in %" G_GUINT64_FORMAT " commits", self->n_written,
               self->n_commits);
    }

  G_OBJECT_CLASS (wz_audit_parent_class)->dispose (object);
}

static void
wz_audit_finalize (GObject *object)
{
  WzAudit *self = WZ_AUDIT (object);

  /* Batches still waiting here belong to callers that dropped the log before their loop ran;
   * their callbacks are not run, since their main context may already be gone. */
  for (AuditBatch *batch; (batch = g_queue_pop_head (&self->finished)); )
    audit_batch_free (batch);

  g_clear_pointer (&self->insert, sqlite3_finalize);
  g_clear_pointer (&self->begin, sqlite3_finalize);
  g_clear_pointer (&self->commit, sqlite3_finalize);
  g_clear_pointer (&self->head, sqlite3_finalize);
  g_clear_pointer (&self->db, sqlite3_close);
  g_clear_pointer (&self->reader, sqlite3_close);
  g_clear_pointer (&self->queue, g_async_queue_unref);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_pointer (&self->path, g_free);
  g_mutex_clear (&self->lock);
  g_mutex_clear (&self->reader_lock);
  g_cond_clear (&self->cond);

  G_OBJECT_CLASS (wz_audit_parent_class)->finalize (object);
}

static void
wz_audit_class_init (WzAuditClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = wz_audit_dispose;
  object_class->finalize = wz_audit_finalize;
}

static void
wz_audit_init (WzAudit *self)
{
  g_mutex_init (&self->lock);
  g_mutex_init (&self->reader_lock);
  g_cond_init (&self->cond);
  g_queue_init (&self->finished);
  self->queue = g_async_queue_new ();
}

static gboolean
load_head (WzAudit  *self,
           GError  **error)
{
  sqlite3_stmt *stmt = self->head;
  int rc;

  memset (self->last_hash, 0, HASH_LEN);
  self->last_seq = 0;

  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      self->last_seq = sqlite3_column_int64 (stmt, 0);
      if (sqlite3_column_bytes (stmt, 1) != HASH_LEN)
        {
          sqlite3_reset (stmt);
          g_set_error (error, WZ_AUDIT_ERROR, WZ_AUDIT_ERROR_TAMPERED,
                       "audit log: row %" G_GINT64_FORMAT " has a malformed hash", self->last_seq);
          return FALSE;
        }
      memcpy (self->last_hash, sqlite3_column_blob (stmt, 1), HASH_LEN);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return set_sqlite_error (error, self->db, "reading the chain head");

  return TRUE;
}

WzAudit *
wz_audit_open (const char  *data_dir,
               GError     **error)
{
  g_autoptr(WzAudit) self = NULL;

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

  self = g_object_new (WZ_TYPE_AUDIT, NULL);
  self->path = g_build_filename (data_dir, "audit.db", NULL);
  self->context = g_main_context_ref_thread_default ();
  self->opener = g_thread_self ();

  self->db = open_db (self->path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, error);
  if (self->db == NULL)
    return NULL;

  if (!exec (self->db, "PRAGMA journal_mode=WAL", error) ||
      !exec (self->db, "PRAGMA synchronous=FULL", error) ||
      !migrate (self->db, error))
    return NULL;

  if (!prepare (self->db, "INSERT INTO audit_event (seq, recorded, action, outcome, agent, entity,"
                          " patient, peer, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                &self->insert, error) ||
      !prepare (self->db, "BEGIN IMMEDIATE", &self->begin, error) ||
      !prepare (self->db, "COMMIT", &self->commit, error) ||
      !prepare (self->db, "SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1",
                &self->head, error) ||
      !load_head (self, error))
    return NULL;

  self->writer = g_thread_try_new ("wz-audit-writer", writer_thread, self, error);
  if (self->writer == NULL)
    return NULL;

  return g_steal_pointer (&self);
}

static const char *
clean_text (const char *value,
            char      **out_fixed)
{
  if (value == NULL || g_utf8_validate (value, -1, NULL))
    return value;
  /* Never lose a row because of a bad byte from the network; keep what can be shown. */
  *out_fixed = g_utf8_make_valid (value, -1);
  return *out_fixed;
}

void
wz_audit_record (WzAudit     *self,
                 const char  *action,
                 const char  *outcome,
                 const char  *agent,
                 const char  *entity,
                 const char  *patient,
                 const char  *peer,
                 WzAuditDone  done,
                 gpointer     user_data)
{
  g_autofree char *fixed[6] = { NULL, };
  const char *fields[6];
  gsize lengths[6];
  gsize total = sizeof (AuditRow);
  AuditRow *row;
  char *p;

  g_return_if_fail (WZ_IS_AUDIT (self));
  g_return_if_fail (action != NULL && outcome != NULL && agent != NULL);

  fields[0] = clean_text (action, &fixed[0]);
  fields[1] = clean_text (outcome, &fixed[1]);
  fields[2] = clean_text (agent, &fixed[2]);
  fields[3] = clean_text (entity, &fixed[3]);
  fields[4] = clean_text (patient, &fixed[4]);
  fields[5] = clean_text (peer, &fixed[5]);

  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      lengths[i] = fields[i] ? strlen (fields[i]) + 1 : 0;
      total += lengths[i];
    }

  row = g_malloc (total);
  row->recorded = g_get_real_time ();
  row->done = done;
  row->user_data = user_data;
  p = (char *) (row + 1);
  {
    const char **slots[6] = { &row->action, &row->outcome, &row->agent,
                              &row->entity, &row->patient, &row->peer };

    for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
      {
        if (fields[i] == NULL)
          {
            *slots[i] = NULL;
            continue;
          }
        memcpy (p, fields[i], lengths[i]);
        *slots[i] = p;
        p += lengths[i];
      }
  }

  for (guint i = 0; i < G_N_ELEMENTS (fixed); i++)
    g_clear_pointer (&fixed[i], g_free);

  g_mutex_lock (&self->lock);
  self->n_enqueued++;
  g_mutex_unlock (&self->lock);

  g_async_queue_push (self->queue, row);
}

void
wz_audit_flush (WzAudit *self)
{
  g_return_if_fail (WZ_IS_AUDIT (self));

  g_mutex_lock (&self->lock);
  while (self->n_written < self->n_enqueued)
    g_cond_wait (&self->cond, &self->lock);
  g_mutex_unlock (&self->lock);

  /* On the opener's thread nobody else would run the callbacks before the caller goes on (and at
   * shutdown the loop may not run again), so deliver them here. */
  if (self->opener == g_thread_self () && g_main_context_acquire (self->context))
    {
      dispatch_finished (self);
      g_main_context_release (self->context);
    }
}

void
wz_audit_get_stats (WzAudit *self,
                    guint64 *out_n_rows,
                    guint64 *out_n_commits)
{
  g_return_if_fail (WZ_IS_AUDIT (self));

  g_mutex_lock (&self->lock);
  if (out_n_rows)
    *out_n_rows = self->n_written;
  if (out_n_commits)
    *out_n_commits = self->n_commits;
  g_mutex_unlock (&self->lock);
}

gboolean
wz_audit_verify_chain (const char  *data_dir,
                       guint64     *out_n_rows,
                       gint64      *out_bad_seq,
                       GError     **error)
{
  g_autofree char *path = NULL;
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  guint8 prev[HASH_LEN] = { 0, };
  guint8 hash[HASH_LEN];
  gint64 expected_seq = 1;
  gint64 bad_seq = 0;
  guint64 n = 0;
  gint64 highest = 0;
  gboolean ok = FALSE;
  int rc;

  g_return_val_if_fail (data_dir != NULL, FALSE);

  if (out_bad_seq)
    *out_bad_seq = 0;
  if (out_n_rows)
    *out_n_rows = 0;

  path = g_build_filename (data_dir, "audit.db", NULL);
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_NOT_FOUND, "No audit log at %s", path);
      return FALSE;
    }

  db = open_db (path, SQLITE_OPEN_READONLY, error);
  if (db == NULL)
    return FALSE;

  if (sqlite3_prepare_v2 (db, "SELECT seq, recorded, action, outcome, agent, entity, patient, peer,"
                              " prev_hash, hash FROM audit_event ORDER BY seq",
                          -1, &stmt, NULL) != SQLITE_OK)
    {
      set_sqlite_error (error, db, "reading");
      goto out;
    }

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 seq = sqlite3_column_int64 (stmt, 0);
      const char *reason = NULL;

      if (seq != expected_seq)
        {
          /* A gap means rows were removed; blame the first missing one. */
          bad_seq = expected_seq;
          reason = "row is missing";
        }
      else if (sqlite3_column_bytes (stmt, 8) != HASH_LEN ||
               sodium_memcmp (sqlite3_column_blob (stmt, 8), prev, HASH_LEN) != 0)
        {
          bad_seq = seq;
          reason = "link to the previous row is broken";
        }
      else
        {
          compute_hash (prev, seq, sqlite3_column_int64 (stmt, 1),
                        (const char *) sqlite3_column_text (stmt, 2),
                        (const char *) sqlite3_column_text (stmt, 3),
                        (const char *) sqlite3_column_text (stmt, 4),
                        (const char *) sqlite3_column_text (stmt, 5),
                        (const char *) sqlite3_column_text (stmt, 6),
                        (const char *) sqlite3_column_text (stmt, 7),
                        hash);
          if (sqlite3_column_bytes (stmt, 9) != HASH_LEN ||
              sodium_memcmp (sqlite3_column_blob (stmt, 9), hash, HASH_LEN) != 0)
            {
              bad_seq = seq;
              reason = "content does not match its hash";
            }
        }

      if (reason != NULL)
        {
          g_set_error (error, WZ_AUDIT_ERROR, WZ_AUDIT_ERROR_TAMPERED,
                       "Audit log broken at seq %" G_GINT64_FORMAT ": %s", bad_seq, reason);
          goto out;
        }

      memcpy (prev, hash, HASH_LEN);
      expected_seq = seq + 1;
      n++;
    }

  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (error, db, "reading");
      goto out;
    }

  sqlite3_finalize (stmt);
  stmt = NULL;

  /* Rows cut off the end leave no gap; the highest seq SQLite ever handed out still shows them. */
  if (sqlite3_prepare_v2 (db, "SELECT seq FROM sqlite_sequence WHERE name = 'audit_event'",
                          -1, &stmt, NULL) == SQLITE_OK &&
      sqlite3_step (stmt) == SQLITE_ROW)
    highest = sqlite3_column_int64 (stmt, 0);

  if (highest > (gint64) n)
    {
      bad_seq = (gint64) n + 1;
      g_set_error (error, WZ_AUDIT_ERROR, WZ_AUDIT_ERROR_TAMPERED,
                   "Audit log broken at seq %" G_GINT64_FORMAT ": rows up to seq %" G_GINT64_FORMAT
                   " were written but are missing", bad_seq, highest);
      goto out;
    }

  if (out_n_rows)
    *out_n_rows = n;
  ok = TRUE;

out:
  if (out_bad_seq)
    *out_bad_seq = bad_seq;
  g_clear_pointer (&stmt, sqlite3_finalize);
  sqlite3_close (db);
  return ok;
}

gboolean
wz_audit_verify (const char  *data_dir,
                 guint64     *out_n_rows,
                 GError     **error)
{
  return wz_audit_verify_chain (data_dir, out_n_rows, NULL, error);
}

static void
add_reference_or_display (JsonBuilder *builder,
                          const char  *value)
{
  json_builder_begin_object (builder);
  /* "Type/id" is a FHIR reference; anything else (a user name) can only be shown. */
  json_builder_set_member_name (builder, strchr (value, '/') ? "reference" : "display");
  json_builder_add_string_value (builder, value);
  json_builder_end_object (builder);
}

static void
add_coding (JsonBuilder *builder,
            const char  *system,
            const char  *code,
            const char  *display)
{
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "system");
  json_builder_add_string_value (builder, system);
  json_builder_set_member_name (builder, "code");
  json_builder_add_string_value (builder, code);
  json_builder_set_member_name (builder, "display");
  json_builder_add_string_value (builder, display);
  json_builder_end_object (builder);
}

static void
add_entity (JsonBuilder *builder,
            const char  *reference,
            gboolean     is_patient)
{
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "what");
  add_reference_or_display (builder, reference);
  if (is_patient)
    {
      json_builder_set_member_name (builder, "role");
      add_coding (builder, "http://terminology.hl7.org/CodeSystem/object-role", "1", "Patient");
    }
  json_builder_end_object (builder);
}

static void
build_audit_event (JsonBuilder  *builder,
                   sqlite3_stmt *stmt)
{
  gint64 seq = sqlite3_column_int64 (stmt, 0);
  gint64 recorded = sqlite3_column_int64 (stmt, 1);
  const char *action = (const char *) sqlite3_column_text (stmt, 2);
  const char *outcome = (const char *) sqlite3_column_text (stmt, 3);
  const char *agent = (const char *) sqlite3_column_text (stmt, 4);
  const char *entity = (const char *) sqlite3_column_text (stmt, 5);
  const char *patient = (const char *) sqlite3_column_text (stmt, 6);
  const char *peer = (const char *) sqlite3_column_text (stmt, 7);
  g_autoptr(GDateTime) when = g_date_time_new_from_unix_utc (recorded / G_USEC_PER_SEC);
  g_autoptr(GDateTime) precise = NULL;
  g_autofree char *recorded_text = NULL;
  g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, seq);

  precise = when ? g_date_time_add (when, recorded % G_USEC_PER_SEC) : NULL;
  recorded_text = precise ? g_date_time_format_iso8601 (precise) : g_strdup ("1970-01-01T00:00:00Z");

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "resourceType");
  json_builder_add_string_value (builder, "AuditEvent");
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, id);
  json_builder_set_member_name (builder, "type");
  if (g_strcmp0 (action, "E") == 0)
    add_coding (builder, "http://dicom.nema.org/resources/ontology/DCM", "110114", "User Authentication");
  else
    add_coding (builder, "http://terminology.hl7.org/CodeSystem/audit-event-type", "rest",
                "RESTful Operation");
  json_builder_set_member_name (builder, "action");
  json_builder_add_string_value (builder, action);
  json_builder_set_member_name (builder, "recorded");
  json_builder_add_string_value (builder, recorded_text);
  json_builder_set_member_name (builder, "outcome");
  json_builder_add_string_value (builder, outcome);

  json_builder_set_member_name (builder, "agent");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "who");
  add_reference_or_display (builder, agent ? agent : "unknown");
  json_builder_set_member_name (builder, "requestor");
  json_builder_add_boolean_value (builder, TRUE);
  if (peer != NULL)
    {
      json_builder_set_member_name (builder, "network");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "address");
      json_builder_add_string_value (builder, peer);
      json_builder_set_member_name (builder, "type");
      json_builder_add_string_value (builder, "2");
      json_builder_end_object (builder);
    }
  json_builder_end_object (builder);
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "source");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "observer");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "display");
  json_builder_add_string_value (builder, "wenzhen-server");
  json_builder_end_object (builder);
  json_builder_end_object (builder);

  if (entity != NULL || patient != NULL)
    {
      json_builder_set_member_name (builder, "entity");
      json_builder_begin_array (builder);
      if (entity != NULL)
        add_entity (builder, entity, g_strcmp0 (entity, patient) == 0);
      if (patient != NULL && g_strcmp0 (entity, patient) != 0)
        add_entity (builder, patient, TRUE);
      json_builder_end_array (builder);
    }

  json_builder_end_object (builder);
}

JsonNode *
wz_audit_search (WzAudit     *self,
                 const char  *patient,
                 const char  *agent,
                 gint64       before_seq,
                 guint        count,
                 GError     **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(GString) sql = NULL;
  sqlite3_stmt *stmt = NULL;
  JsonNode *result = NULL;
  int rc;

  g_return_val_if_fail (WZ_IS_AUDIT (self), NULL);

  count = CLAMP (count, 1, 1000);

  g_mutex_lock (&self->reader_lock);
  if (self->reader == NULL)
    self->reader = open_db (self->path, SQLITE_OPEN_READONLY, error);
  if (self->reader == NULL)
    goto out;

  /* Only the conditions in use, so SQLite can pick the (patient, seq) or (agent, seq) index. */
  sql = g_string_new ("SELECT seq, recorded, action, outcome, agent, entity, patient, peer"
                      " FROM audit_event WHERE 1");
  if (patient != NULL)
    g_string_append (sql, " AND patient = ?1");
  if (agent != NULL)
    g_string_append (sql, " AND agent = ?2");
  if (before_seq > 0)
    g_string_append (sql, " AND seq < ?3");
  g_string_append (sql, " ORDER BY seq DESC LIMIT ?4");

  if (sqlite3_prepare_v2 (self->reader, sql->str, -1, &stmt, NULL) != SQLITE_OK)
    {
      set_sqlite_error (error, self->reader, "searching");
      goto out;
    }
  sqlite3_bind_text (stmt, 1, patient, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, agent, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, before_seq);
  sqlite3_bind_int64 (stmt, 4, count);

  json_builder_begin_array (builder);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    build_audit_event (builder, stmt);
  json_builder_end_array (builder);

  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (error, self->reader, "searching");
      goto out;
    }
  result = json_builder_get_root (builder);

out:
  g_clear_pointer (&stmt, sqlite3_finalize);
  g_mutex_unlock (&self->reader_lock);
  return result;
}
