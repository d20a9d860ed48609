/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-auth"

#include "config.h"

#include <glib/gstdio.h>
#include <sodium.h>
#include <sqlite3.h>
#include <string.h>

#include "wz-auth.h"
#include "wz-error.h"

#define MINUTE ((gint64) 60 * G_USEC_PER_SEC)
#define PASSWORD "correct horse battery"
#define BAD_CREDENTIALS "Incorrect user name or password"

typedef struct
{
  char   *dir;
  WzAuth *auth;
  gint64  now;
} Fixture;

static gint64
fake_clock (gpointer user_data)
{
  Fixture *fx = user_data;

  return fx->now;
}

static void
open_auth (Fixture *fx)
{
  g_autoptr(GError) error = NULL;

  g_clear_object (&fx->auth);
  fx->auth = wz_auth_open (fx->dir, &error);
  g_assert_no_error (error);
  g_assert_nonnull (fx->auth);
  wz_auth_set_clock (fx->auth, fake_clock, fx);
}

static void
fixture_setup (Fixture       *fx,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fx->dir = g_dir_make_tmp ("wz-auth-XXXXXX", &error);
  g_assert_no_error (error);
  fx->now = g_get_real_time ();
  open_auth (fx);

  g_assert_true (wz_auth_add_user (fx->auth, "liwei", PASSWORD, "doctor", "李伟 Li Wei", "prac-1", &error));
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture       *fx,
                  gconstpointer  data)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  g_clear_object (&fx->auth);
  dir = g_dir_open (fx->dir, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (fx->dir, name, NULL);

      g_remove (child);
    }
  g_rmdir (fx->dir);
  g_free (fx->dir);
}

static char *
login (Fixture          *fx,
       const char       *username,
       const char       *password,
       const WzSession **out_session,
       guint            *out_retry,
       GError          **error)
{
  const WzSession *session = NULL;
  guint retry = 0;
  char *token;

  token = wz_auth_login (fx->auth, username, password, NULL, "127.0.0.1", &session, &retry, error);
  if (out_session)
    *out_session = session;
  if (out_retry)
    *out_retry = retry;
  return token;
}

static void
assert_login_fails (Fixture    *fx,
                    const char *username,
                    const char *password,
                    gint        code)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *token = login (fx, username, password, NULL, NULL, &error);

  g_assert_null (token);
  g_assert_error (error, WZ_ERROR, code);
}

static void
test_add_user_validation (Fixture       *fx,
                          gconstpointer  data)
{
  static const char *bad_names[] = { "", "has space", "-dash", "semi;colon", "名字",
                                     "a234567890123456789012345678901234567890123456789012345678901234x" };

  for (guint i = 0; i < G_N_ELEMENTS (bad_names); i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_false (wz_auth_add_user (fx->auth, bad_names[i], PASSWORD, "doctor", NULL, NULL, &error));
      g_assert_error (error, WZ_ERROR, WZ_ERROR_INVALID);
    }

  {
    g_autoptr(GError) error = NULL;

    g_assert_false (wz_auth_add_user (fx->auth, "nurse1", PASSWORD, "nurse", NULL, NULL, &error));
    g_assert_error (error, WZ_ERROR, WZ_ERROR_INVALID);
    g_assert_nonnull (strstr (error->message, "doctor, pharmacist, admin"));
  }
  {
    g_autoptr(GError) error = NULL;

    g_assert_false (wz_auth_add_user (fx->auth, "short", "seven77", "doctor", NULL, NULL, &error));
    g_assert_error (error, WZ_ERROR, WZ_ERROR_INVALID);
    g_assert_nonnull (strstr (error->message, "at least 8"));
  }
  {
    g_autoptr(GError) error = NULL;

    /* Eight characters, not eight bytes: a Chinese passphrase counts by characters. */
    g_assert_true (wz_auth_add_user (fx->auth, "zhang", "问诊问诊问诊问诊", "pharmacist", NULL, NULL, &error));
    g_assert_no_error (error);
  }
  {
    g_autoptr(GError) error = NULL;

    g_assert_false (wz_auth_add_user_full (fx->auth, "demo0", "", "doctor", NULL, NULL,
                                           WZ_AUTH_ADD_USER_DEMO_PASSWORD, &error));
    g_assert_error (error, WZ_ERROR, WZ_ERROR_INVALID);
  }
  {
    g_autoptr(GError) error = NULL;

    g_assert_true (wz_auth_add_user_full (fx->auth, "doctor", "demo", "doctor", NULL, "prac-2",
                                          WZ_AUTH_ADD_USER_DEMO_PASSWORD, &error));
    g_assert_no_error (error);
  }
  {
    g_autoptr(GError) error = NULL;

    g_assert_false (wz_auth_add_user (fx->auth, "LiWei", PASSWORD, "admin", NULL, NULL, &error));
    g_assert_error (error, WZ_ERROR, WZ_ERROR_CONFLICT);
  }
  {
    g_autoptr(GError) error = NULL;

    g_assert_false (wz_auth_add_user (fx->auth, "bad-prac", PASSWORD, "doctor", NULL, "Practitioner/x", &error));
    g_assert_error (error, WZ_ERROR, WZ_ERROR_INVALID);
  }

  /* The demo user logs in with its short password. */
  {
    g_autoptr(GError) error = NULL;
    const WzSession *session = NULL;
    g_autofree char *token = login (fx, "doctor", "demo", &session, NULL, &error);

    g_assert_no_error (error);
    g_assert_nonnull (token);
    g_assert_cmpstr (session->display_name, ==, "doctor");
  }
}

static void
test_login_good (Fixture       *fx,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  const WzSession *session = NULL;
  const WzSession *looked_up;
  g_autofree char *token = login (fx, "liwei", PASSWORD, &session, NULL, &error);
  g_autofree char *again = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (token);
  g_assert_cmpuint (strlen (token), ==, 43);
  g_assert_true (strspn (token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == 43);

  g_assert_cmpstr (session->username, ==, "liwei");
  g_assert_cmpstr (session->role, ==, "doctor");
  g_assert_cmpstr (session->practitioner_id, ==, "prac-1");
  g_assert_cmpstr (session->display_name, ==, "李伟 Li Wei");
  g_assert_cmpint (session->expires_at, ==, fx->now + (gint64) WZ_AUTH_TOKEN_LIFETIME_S * G_USEC_PER_SEC);

  looked_up = wz_auth_lookup (fx->auth, token);
  g_assert_nonnull (looked_up);
  g_assert_cmpstr (looked_up->username, ==, "liwei");

  /* User names are matched without regard to case; each login is its own token. */
  again = login (fx, "LIWEI", PASSWORD, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (again, !=, token);
  g_assert_nonnull (wz_auth_lookup (fx->auth, again));
  g_assert_nonnull (wz_auth_lookup (fx->auth, token));
}

static void
test_wrong_and_unknown (Fixture       *fx,
                        gconstpointer  data)
{
  g_autoptr(GError) wrong = NULL;
  g_autoptr(GError) unknown = NULL;
  g_autofree char *t1 = login (fx, "liwei", "not the password", NULL, NULL, &wrong);
  g_autofree char *t2 = login (fx, "nobody", "not the password", NULL, NULL, &unknown);

  g_assert_null (t1);
  g_assert_null (t2);
  g_assert_error (wrong, WZ_ERROR, WZ_ERROR_UNAUTHORIZED);
  g_assert_error (unknown, WZ_ERROR, WZ_ERROR_UNAUTHORIZED);
  /* Same words for both, so the answer does not tell which user names exist. */
  g_assert_cmpstr (wrong->message, ==, unknown->message);
  g_assert_cmpstr (wrong->message, ==, BAD_CREDENTIALS);

  assert_login_fails (fx, "liwei", "", WZ_ERROR_UNAUTHORIZED);
  assert_login_fails (fx, "liwei", PASSWORD " ", WZ_ERROR_UNAUTHORIZED);
  assert_login_fails (fx, "", PASSWORD, WZ_ERROR_INVALID);
}

static void
test_lockout (Fixture       *fx,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *token = NULL;
  guint retry = 0;

  /* Four failures, then success: the count starts again. */
  for (guint i = 0; i < 4; i++)
    assert_login_fails (fx, "liwei", "wrong password", WZ_ERROR_UNAUTHORIZED);
  token = login (fx, "liwei", PASSWORD, NULL, NULL, &error);
  g_assert_no_error (error);
  g_clear_pointer (&token, g_free);

  /* Five in a row lock the name; the fifth itself still says "wrong password". */
  for (guint i = 0; i < WZ_AUTH_MAX_FAILURES; i++)
    assert_login_fails (fx, "liwei", "wrong password", WZ_ERROR_UNAUTHORIZED);

  fx->now += 1 * MINUTE;
  token = login (fx, "liwei", PASSWORD, NULL, &retry, &error);
  g_assert_null (token);
  g_assert_error (error, WZ_ERROR, WZ_ERROR_LOCKED);
  g_assert_cmpuint (retry, ==, 14 * 60);
  g_clear_error (&error);

  fx->now += 13 * MINUTE + 30 * G_USEC_PER_SEC;
  token = login (fx, "liwei", PASSWORD, NULL, &retry, &error);
  g_assert_error (error, WZ_ERROR, WZ_ERROR_LOCKED);
  g_assert_cmpuint (retry, ==, 30);
  g_clear_error (&error);

  /* The lock survives a restart: it lives in auth.db. */
  open_auth (fx);
  token = login (fx, "liwei", PASSWORD, NULL, &retry, &error);
  g_assert_error (error, WZ_ERROR, WZ_ERROR_LOCKED);
  g_clear_error (&error);

  fx->now += 31 * G_USEC_PER_SEC;
  token = login (fx, "liwei", PASSWORD, NULL, &retry, &error);
  g_assert_no_error (error);
  g_assert_nonnull (token);
}

static void
test_lockout_expired_counts_afresh (Fixture       *fx,
                                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *token = NULL;

  for (guint i = 0; i < WZ_AUTH_MAX_FAILURES; i++)
    assert_login_fails (fx, "liwei", "wrong password", WZ_ERROR_UNAUTHORIZED);
  assert_login_fails (fx, "liwei", PASSWORD, WZ_ERROR_LOCKED);

  /* After the lock runs out one more mistake is just a mistake, not a new lock. */
  fx->now += WZ_AUTH_LOCKOUT_S * G_USEC_PER_SEC + 1;
  assert_login_fails (fx, "liwei", "wrong password", WZ_ERROR_UNAUTHORIZED);
  token = login (fx, "liwei", PASSWORD, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (token);
}

static void
test_lockout_unknown_user (Fixture       *fx,
                           gconstpointer  data)
{
  guint retry = 0;
  g_autoptr(GError) error = NULL;
  g_autofree char *token = NULL;

  /* A name that does not exist locks the same way, so lockout does not reveal which exist. */
  for (guint i = 0; i < WZ_AUTH_MAX_FAILURES; i++)
    assert_login_fails (fx, "ghost", "whatever1", WZ_ERROR_UNAUTHORIZED);
  token = login (fx, "Ghost", "whatever1", NULL, &retry, &error);
  g_assert_error (error, WZ_ERROR, WZ_ERROR_LOCKED);
  g_assert_cmpuint (retry, ==, WZ_AUTH_LOCKOUT_S);

  /* Other names are unaffected. */
  g_clear_error (&error);
  token = login (fx, "liwei", PASSWORD, NULL, NULL, &error);
  g_assert_no_error (error);
}

static void
test_token_expiry (Fixture       *fx,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *token = login (fx, "liwei", PASSWORD, NULL, NULL, &error);
  gint64 start = fx->now;

  g_assert_no_error (error);

  /* Used every 20 minutes it lives until the 8 hours are up, not a moment longer. */
  while (fx->now + 20 * MINUTE < start + (gint64) WZ_AUTH_TOKEN_LIFETIME_S * G_USEC_PER_SEC)
    {
      fx->now += 20 * MINUTE;
      g_assert_nonnull (wz_auth_lookup (fx->auth, token));
    }
  fx->now = start + (gint64) WZ_AUTH_TOKEN_LIFETIME_S * G_USEC_PER_SEC - 1;
  g_assert_nonnull (wz_auth_lookup (fx->auth, token));
  fx->now += 1;
  g_assert_null (wz_auth_lookup (fx->auth, token));
  fx->now -= 10;
  g_assert_null (wz_auth_lookup (fx->auth, token));
}

static void
test_token_idle (Fixture       *fx,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *token = login (fx, "liwei", PASSWORD, NULL, NULL, &error);

  g_assert_no_error (error);
  fx->now += 29 * MINUTE;
  g_assert_nonnull (wz_auth_lookup (fx->auth, token));
  fx->now += 30 * MINUTE;
  g_assert_nonnull (wz_auth_lookup (fx->auth, token));
  fx->now += 30 * MINUTE + 1;
  g_assert_null (wz_auth_lookup (fx->auth, token));
}

static void
test_logout (Fixture       *fx,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *token = login (fx, "liwei", PASSWORD, NULL, NULL, &error);
  g_autofree char *other = login (fx, "liwei", PASSWORD, NULL, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (wz_auth_lookup (fx->auth, token));
  wz_auth_logout (fx->auth, token);
  g_assert_null (wz_auth_lookup (fx->auth, token));
  /* Signing out one session leaves the user's other sessions alone. */
  g_assert_nonnull (wz_auth_lookup (fx->auth, other));

  /* Revocation is on disk: a restarted server does not bring the token back. */
  open_auth (fx);
  g_assert_null (wz_auth_lookup (fx->auth, token));
  g_assert_nonnull (wz_auth_lookup (fx->auth, other));
}

static void
test_token_survives_restart (Fixture       *fx,
                             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *token = login (fx, "liwei", PASSWORD, NULL, NULL, &error);
  const WzSession *session;

  g_assert_no_error (error);
  open_auth (fx);
  session = wz_auth_lookup (fx->auth, token);
  g_assert_nonnull (session);
  g_assert_cmpstr (session->display_name, ==, "李伟 Li Wei");
  g_assert_cmpstr (session->practitioner_id, ==, "prac-1");
}

static void
test_bad_tokens (Fixture       *fx,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *token = login (fx, "liwei", PASSWORD, NULL, NULL, &error);
  g_autofree char *flipped = g_strdup (token);
  g_autofree char *longer = g_strconcat (token, "A", NULL);

  g_assert_no_error (error);
  flipped[10] = flipped[10] == 'A' ? 'B' : 'A';

  g_assert_null (wz_auth_lookup (fx->auth, NULL));
  g_assert_null (wz_auth_lookup (fx->auth, ""));
  g_assert_null (wz_auth_lookup (fx->auth, "abc"));
  g_assert_null (wz_auth_lookup (fx->auth, flipped));
  g_assert_null (wz_auth_lookup (fx->auth, longer));
  g_assert_null (wz_auth_lookup (fx->auth, "*******************************************"));
  g_assert_nonnull (wz_auth_lookup (fx->auth, token));
}

static GBytes *
read_all_db_files (const Fixture *fx)
{
  GByteArray *all = g_byte_array_new ();
  static const char *suffixes[] = { "", "-wal", "-shm" };

  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *path = g_strconcat (fx->dir, "/auth.db", suffixes[i], NULL);
      g_autofree char *contents = NULL;
      gsize len = 0;

      if (g_file_get_contents (path, &contents, &len, NULL))
        g_byte_array_append (all, (const guint8 *) contents, len);
    }
  return g_byte_array_free_to_bytes (all);
}

static gboolean
contains (GBytes       *haystack,
          const guint8 *needle,
          gsize         len)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (haystack, &size);

  for (gsize i = 0; i + len <= size; i++)
    if (memcmp (data + i, needle, len) == 0)
      return TRUE;
  return FALSE;
}

static void
test_token_hashed_at_rest (Fixture       *fx,
                           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *token = login (fx, "liwei", PASSWORD, NULL, NULL, &error);
  g_autoptr(GBytes) files = NULL;
  guint8 raw[32];
  guint8 hashed[32];
  size_t raw_len = 0;

  g_assert_no_error (error);
  g_assert_cmpint (sodium_base642bin (raw, sizeof raw, token, strlen (token), NULL, &raw_len, NULL,
                                      sodium_base64_VARIANT_URLSAFE_NO_PADDING), ==, 0);
  g_assert_cmpuint (raw_len, ==, 32);
  crypto_generichash (hashed, sizeof hashed, raw, sizeof raw, NULL, 0);

  g_clear_object (&fx->auth);
  files = read_all_db_files (fx);
  g_assert_cmpuint (g_bytes_get_size (files), >, 0);

  g_assert_false (contains (files, (const guint8 *) token, strlen (token)));
  g_assert_false (contains (files, raw, sizeof raw));
  g_assert_false (contains (files, (const guint8 *) PASSWORD, strlen (PASSWORD)));
  /* What is there instead is the token's hash. */
  g_assert_true (contains (files, hashed, sizeof hashed));
}

static void
test_interactive_cost (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("wz-auth-XXXXXX", &error);
  g_autoptr(WzAuth) auth = NULL;
  g_autofree char *path = NULL;
  g_autofree char *hash = NULL;
  const WzSession *session = NULL;
  g_autofree char *token = NULL;
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 start, unknown_us;

  /* The real cost, as production runs it: argon2id at libsodium's interactive limits. */
  g_unsetenv ("WZ_PWHASH_FAST");
  auth = wz_auth_open (dir, &error);
  g_setenv ("WZ_PWHASH_FAST", "1", TRUE);
  g_assert_no_error (error);
  g_assert_true (wz_auth_add_user (auth, "wangfang", PASSWORD, "pharmacist", NULL, NULL, &error));

  path = g_build_filename (dir, "auth.db", NULL);
  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT password_hash FROM users WHERE username = 'wangfang'",
                                       -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  hash = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  sqlite3_close (db);

  g_assert_true (g_str_has_prefix (hash, "$argon2id$"));
  g_assert_nonnull (strstr (hash, "m=65536"));

  token = wz_auth_login (auth, "wangfang", PASSWORD, NULL, NULL, &session, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (token);

  /* An unknown name costs a real verification too (a shortcut would take microseconds). Warm
   * the dummy hash first: it is made on first use. */
  g_clear_pointer (&token, g_free);
  token = wz_auth_login (auth, "nobody", PASSWORD, NULL, NULL, &session, NULL, NULL);
  start = g_get_monotonic_time ();
  token = wz_auth_login (auth, "nobody2", PASSWORD, NULL, NULL, &session, NULL, NULL);
  unknown_us = g_get_monotonic_time () - start;
  g_assert_null (token);
  g_test_message ("unknown-user login took %" G_GINT64_FORMAT " µs", unknown_us);
  g_assert_cmpint (unknown_us, >=, 10000);

  g_clear_object (&auth);
  {
    static const char *suffixes[] = { "", "-wal", "-shm" };

    for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
      {
        g_autofree char *f = g_strconcat (path, suffixes[i], NULL);

        g_remove (f);
      }
    g_rmdir (dir);
  }
}

typedef struct
{
  Fixture *fx;
  char    *token;
} ThreadLogin;

static gpointer
login_thread (gpointer data)
{
  ThreadLogin *tl = data;
  const WzSession *session = NULL;

  tl->token = wz_auth_login (tl->fx->auth, "liwei", PASSWORD, NULL, NULL, &session, NULL, NULL);
  return NULL;
}

static void
test_concurrent_logins (Fixture       *fx,
                        gconstpointer  data)
{
  ThreadLogin logins[6];
  GThread *threads[6];

  for (guint i = 0; i < G_N_ELEMENTS (logins); i++)
    {
      logins[i] = (ThreadLogin) { fx, NULL };
      threads[i] = g_thread_new ("login", login_thread, &logins[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (logins); i++)
    g_thread_join (threads[i]);

  for (guint i = 0; i < G_N_ELEMENTS (logins); i++)
    {
      g_assert_nonnull (logins[i].token);
      g_assert_nonnull (wz_auth_lookup (fx->auth, logins[i].token));
      for (guint j = 0; j < i; j++)
        g_assert_cmpstr (logins[i].token, !=, logins[j].token);
    }
  for (guint i = 0; i < G_N_ELEMENTS (logins); i++)
    g_free (logins[i].token);
}

int
main (int   argc,
      char *argv[])
{
  /* Minimum argon2id cost keeps the many logins below fast; /auth/password/interactive-cost
   * checks the production setting. */
  g_setenv ("WZ_PWHASH_FAST", "1", TRUE);
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("/auth/add-user/validation", test_add_user_validation);
  ADD ("/auth/login/good", test_login_good);
  ADD ("/auth/login/wrong-and-unknown", test_wrong_and_unknown);
  ADD ("/auth/lockout/after-five", test_lockout);
  ADD ("/auth/lockout/expired-counts-afresh", test_lockout_expired_counts_afresh);
  ADD ("/auth/lockout/unknown-user", test_lockout_unknown_user);
  ADD ("/auth/token/expiry", test_token_expiry);
  ADD ("/auth/token/idle-timeout", test_token_idle);
  ADD ("/auth/token/logout", test_logout);
  ADD ("/auth/token/survives-restart", test_token_survives_restart);
  ADD ("/auth/token/bad-tokens", test_bad_tokens);
  ADD ("/auth/token/hashed-at-rest", test_token_hashed_at_rest);
  ADD ("/auth/login/concurrent", test_concurrent_logins);
#undef ADD
  g_test_add_func ("/auth/password/interactive-cost", test_interactive_cost);

  return g_test_run ();
}
