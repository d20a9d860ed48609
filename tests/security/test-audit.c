/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-audit"

#include "config.h"

#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

#include "wz-audit.h"
#include "wz-error.h"

typedef struct
{
  char *dir;
} Fixture;

static void
fixture_setup (Fixture       *fx,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fx->dir = g_dir_make_tmp ("wz-audit-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir == NULL)
    return;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      g_remove (child);
    }
  g_rmdir (path);
}

static void
fixture_teardown (Fixture       *fx,
                  gconstpointer  data)
{
  remove_tree (fx->dir);
  g_free (fx->dir);
}

typedef struct
{
  guint    n_done;
  guint    n_errors;
  GThread *thread;
  gboolean wrong_thread;
} Counter;

static void
count_done (const GError *error,
            gpointer      user_data)
{
  Counter *counter = user_data;

  counter->n_done++;
  if (error != NULL)
    counter->n_errors++;
  if (g_thread_self () != counter->thread)
    counter->wrong_thread = TRUE;
}

static void
wait_for (guint *value,
          guint  target)
{
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  while (*value < target && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (*value, ==, target);
}

static void
record_rows (WzAudit *audit,
             guint    first,
             guint    n,
             Counter *counter)
{
  for (guint i = first; i < first + n; i++)
    {
      g_autofree char *entity = g_strdup_printf ("Patient/p%u", i);

      /* Mix in absent fields and non-ASCII text; both must survive the hash round trip. */
      wz_audit_record (audit, i % 2 ? "R" : "U", "0", i % 3 ? "Practitioner/d1" : "王芳",
                       i % 5 ? entity : NULL, i % 7 ? entity : NULL, "127.0.0.1",
                       count_done, counter);
    }
}

static sqlite3 *
open_raw (const Fixture *fx)
{
  g_autofree char *path = g_build_filename (fx->dir, "audit.db", NULL);
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  return db;
}

static void
exec_ok (sqlite3    *db,
         const char *sql)
{
  char *msg = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &msg) != SQLITE_OK)
    g_error ("%s: %s", sql, msg);
}

static void
make_log (const Fixture *fx,
          guint          n)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WzAudit) audit = wz_audit_open (fx->dir, &error);
  Counter counter = { 0, 0, g_thread_self (), FALSE };

  g_assert_no_error (error);
  record_rows (audit, 0, n, &counter);
  wait_for (&counter.n_done, n);
  g_assert_cmpuint (counter.n_errors, ==, 0);
}

static void
test_verify_ok (Fixture       *fx,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  guint64 n = 0;

  make_log (fx, 100);
  g_assert_true (wz_audit_verify (fx->dir, &n, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 100);
}

typedef struct
{
  const Fixture *fx;
  guint          n_done;
  gint64         rows_seen;
  gboolean       wrong_thread;
  GThread       *thread;
} DurableCheck;

static void
check_on_disk (const GError *error,
               gpointer      user_data)
{
  DurableCheck *check = user_data;
  sqlite3 *db = open_raw (check->fx);
  sqlite3_stmt *stmt = NULL;

  g_assert_no_error ((GError *) error);
  if (g_thread_self () != check->thread)
    check->wrong_thread = TRUE;

  /* Another connection must already see the row: "done" means committed. */
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT count(*) FROM audit_event", -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  check->n_done++;
  check->rows_seen = MAX (check->rows_seen, sqlite3_column_int64 (stmt, 0));
  g_assert_cmpint (sqlite3_column_int64 (stmt, 0), >=, check->n_done);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
}

static void
test_done_after_commit (Fixture       *fx,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WzAudit) audit = wz_audit_open (fx->dir, &error);
  DurableCheck check = { fx, 0, 0, FALSE, g_thread_self () };

  g_assert_no_error (error);
  for (guint i = 0; i < 20; i++)
    wz_audit_record (audit, "R", "0", "Practitioner/d1", "Patient/p1", "Patient/p1", "::1",
                     check_on_disk, &check);
  wait_for (&check.n_done, 20);
  g_assert_false (check.wrong_thread);
  g_assert_cmpint (check.rows_seen, ==, 20);
}

static void
test_append_only (Fixture       *fx,
                  gconstpointer  data)
{
  sqlite3 *db;
  g_autoptr(GError) error = NULL;
  char *msg = NULL;
  guint64 n = 0;

  make_log (fx, 5);
  db = open_raw (fx);

  g_assert_cmpint (sqlite3_exec (db, "UPDATE audit_event SET agent = 'mallory' WHERE seq = 2",
                                 NULL, NULL, &msg), !=, SQLITE_OK);
  g_assert_nonnull (strstr (msg, "append-only"));
  sqlite3_free (msg);
  msg = NULL;

  g_assert_cmpint (sqlite3_exec (db, "DELETE FROM audit_event WHERE seq = 5", NULL, NULL, &msg),
                   !=, SQLITE_OK);
  g_assert_nonnull (strstr (msg, "append-only"));
  sqlite3_free (msg);
  sqlite3_close (db);

  g_assert_true (wz_audit_verify (fx->dir, &n, &error));
  g_assert_cmpuint (n, ==, 5);
}

static void
assert_broken_at (const Fixture *fx,
                  gint64         expected_seq)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *needle = g_strdup_printf ("seq %" G_GINT64_FORMAT ":", expected_seq);
  gint64 bad = -1;
  guint64 n = 0;

  g_assert_false (wz_audit_verify_chain (fx->dir, &n, &bad, &error));
  g_assert_error (error, WZ_AUDIT_ERROR, WZ_AUDIT_ERROR_TAMPERED);
  g_assert_cmpint (bad, ==, expected_seq);
  g_assert_nonnull (strstr (error->message, needle));
}

static void
test_tamper_update (Fixture       *fx,
                    gconstpointer  data)
{
  sqlite3 *db;

  make_log (fx, 60);
  db = open_raw (fx);
  exec_ok (db, "DROP TRIGGER audit_event_no_update");
  exec_ok (db, "UPDATE audit_event SET patient = 'Patient/other' WHERE seq = 37");
  sqlite3_close (db);

  assert_broken_at (fx, 37);
}

static void
test_tamper_delete (Fixture       *fx,
                    gconstpointer  data)
{
  sqlite3 *db;

  make_log (fx, 60);
  db = open_raw (fx);
  exec_ok (db, "DROP TRIGGER audit_event_no_delete");
  exec_ok (db, "DELETE FROM audit_event WHERE seq = 50");
  sqlite3_close (db);

  assert_broken_at (fx, 50);
}

static void
test_tamper_truncate (Fixture       *fx,
                      gconstpointer  data)
{
  sqlite3 *db;

  make_log (fx, 60);
  db = open_raw (fx);
  exec_ok (db, "DROP TRIGGER audit_event_no_delete");
  exec_ok (db, "DELETE FROM audit_event WHERE seq > 57");
  sqlite3_close (db);

  assert_broken_at (fx, 58);
}

static void
test_tamper_relink (Fixture       *fx,
                    gconstpointer  data)
{
  sqlite3 *db;

  /* Copying the next row's prev_hash into place does not help a forger: the content check of
   * that row still fails. */
  make_log (fx, 10);
  db = open_raw (fx);
  exec_ok (db, "DROP TRIGGER audit_event_no_update");
  exec_ok (db, "UPDATE audit_event SET outcome = '0', action = 'C' WHERE seq = 4");
  sqlite3_close (db);

  assert_broken_at (fx, 4);
}

static void
test_reopen_continues (Fixture       *fx,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  guint64 n = 0;

  make_log (fx, 10);
  make_log (fx, 15);
  g_assert_true (wz_audit_verify (fx->dir, &n, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 25);
}

#define N_THREADS 4
#define N_GROUP   10000

typedef struct
{
  WzAudit *audit;
  guint    first;
  guint    n;
  guint   *calls;
} Producer;

static guint group_done;
static GThread *main_thread;
static gboolean group_wrong_thread;

static void
group_cb (const GError *error,
          gpointer      user_data)
{
  guint *slot = user_data;

  g_assert_no_error ((GError *) error);
  if (g_thread_self () != main_thread)
    group_wrong_thread = TRUE;
  (*slot)++;
  group_done++;
}

static gpointer
producer_thread (gpointer data)
{
  Producer *p = data;

  for (guint i = p->first; i < p->first + p->n; i++)
    wz_audit_record (p->audit, "R", "0", "Practitioner/d1", "Patient/p1", "Patient/p1",
                     "127.0.0.1", group_cb, &p->calls[i]);
  return NULL;
}

static void
test_group_commit (Fixture       *fx,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WzAudit) audit = wz_audit_open (fx->dir, &error);
  g_autofree guint *calls = g_new0 (guint, N_GROUP);
  Producer producers[N_THREADS];
  GThread *threads[N_THREADS];
  guint64 rows = 0, commits = 0, n = 0;

  g_assert_no_error (error);
  main_thread = g_thread_self ();
  group_done = 0;
  group_wrong_thread = FALSE;

  for (guint t = 0; t < N_THREADS; t++)
    {
      producers[t] = (Producer) { audit, t * (N_GROUP / N_THREADS), N_GROUP / N_THREADS, calls };
      threads[t] = g_thread_new ("producer", producer_thread, &producers[t]);
    }
  for (guint t = 0; t < N_THREADS; t++)
    g_thread_join (threads[t]);

  wait_for (&group_done, N_GROUP);
  /* Give any stray duplicate a chance to show up before counting. */
  while (g_main_context_iteration (NULL, FALSE))
    ;

  for (guint i = 0; i < N_GROUP; i++)
    if (calls[i] != 1)
      g_error ("row %u got its callback %u times", i, calls[i]);
  g_assert_false (group_wrong_thread);

  wz_audit_get_stats (audit, &rows, &commits);
  g_assert_cmpuint (rows, ==, N_GROUP);
  g_test_message ("%" G_GUINT64_FORMAT " rows in %" G_GUINT64_FORMAT " commits", rows, commits);
  /* Group commit: far fewer fsyncs than rows. */
  g_assert_cmpuint (commits, <=, N_GROUP / 4);

  g_assert_true (wz_audit_verify (fx->dir, &n, &error));
  g_assert_cmpuint (n, ==, N_GROUP);
}

static void
test_flush (Fixture       *fx,
            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WzAudit) audit = wz_audit_open (fx->dir, &error);
  Counter counter = { 0, 0, g_thread_self (), FALSE };
  guint64 n = 0;

  g_assert_no_error (error);
  /* No main loop runs here: flush alone must get every row on disk and its callback run. */
  record_rows (audit, 0, 1000, &counter);
  wz_audit_flush (audit);
  g_assert_cmpuint (counter.n_done, ==, 1000);
  g_assert_cmpuint (counter.n_errors, ==, 0);
  g_assert_false (counter.wrong_thread);

  g_assert_true (wz_audit_verify (fx->dir, &n, &error));
  g_assert_cmpuint (n, ==, 1000);
}

static void
test_search (Fixture       *fx,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WzAudit) audit = wz_audit_open (fx->dir, &error);
  g_autoptr(JsonNode) page1 = NULL;
  g_autoptr(JsonNode) page2 = NULL;
  g_autoptr(JsonNode) logins = NULL;
  Counter counter = { 0, 0, g_thread_self (), FALSE };
  JsonArray *events;
  JsonObject *event;
  JsonObject *agent;

  g_assert_no_error (error);
  for (guint i = 0; i < 30; i++)
    wz_audit_record (audit, "R", "0", "Practitioner/d1", i % 3 ? "Patient/a" : "Encounter/e1",
                     i % 3 ? "Patient/a" : "Patient/b", "10.0.0.7", count_done, &counter);
  wz_audit_record (audit, "E", "4", "liwei", NULL, NULL, "10.0.0.8", count_done, &counter);
  wz_audit_flush (audit);
  g_assert_cmpuint (counter.n_done, ==, 31);

  /* Patient b: rows 1, 4, 7, … 28 (seq = i + 1), newest first, in pages of 4. */
  page1 = wz_audit_search (audit, "Patient/b", NULL, 0, 4, &error);
  g_assert_no_error (error);
  events = json_node_get_array (page1);
  g_assert_cmpuint (json_array_get_length (events), ==, 4);
  event = json_array_get_object_element (events, 0);
  g_assert_cmpstr (json_object_get_string_member (event, "resourceType"), ==, "AuditEvent");
  g_assert_cmpstr (json_object_get_string_member (event, "id"), ==, "28");
  g_assert_cmpstr (json_object_get_string_member (event, "action"), ==, "R");
  g_assert_cmpstr (json_object_get_string_member (event, "outcome"), ==, "0");
  g_assert_true (g_str_has_suffix (json_object_get_string_member (event, "recorded"), "Z"));
  agent = json_array_get_object_element (json_object_get_array_member (event, "agent"), 0);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (agent, "who"), "reference"),
                   ==, "Practitioner/d1");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (agent, "network"), "address"),
                   ==, "10.0.0.7");
  /* Encounter read for patient b: two entities, the patient one with role Patient. */
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (event, "entity")), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (events, 3), "id"), ==, "19");

  page2 = wz_audit_search (audit, "Patient/b", NULL, 19, 100, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (page2)), ==, 6);

  logins = wz_audit_search (audit, NULL, "liwei", 0, 10, &error);
  g_assert_no_error (error);
  events = json_node_get_array (logins);
  g_assert_cmpuint (json_array_get_length (events), ==, 1);
  event = json_array_get_object_element (events, 0);
  g_assert_cmpstr (json_object_get_string_member (event, "outcome"), ==, "4");
  agent = json_array_get_object_element (json_object_get_array_member (event, "agent"), 0);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (agent, "who"), "display"),
                   ==, "liwei");
  g_assert_false (json_object_has_member (event, "entity"));
}

static void
test_verify_missing (Fixture       *fx,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  guint64 n = 7;

  g_assert_false (wz_audit_verify (fx->dir, &n, &error));
  g_assert_error (error, WZ_ERROR, WZ_ERROR_NOT_FOUND);
  g_assert_cmpuint (n, ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("/audit/verify/ok", test_verify_ok);
  ADD ("/audit/verify/missing-log", test_verify_missing);
  ADD ("/audit/done-after-commit", test_done_after_commit);
  ADD ("/audit/append-only", test_append_only);
  ADD ("/audit/tamper/update", test_tamper_update);
  ADD ("/audit/tamper/delete", test_tamper_delete);
  ADD ("/audit/tamper/truncate", test_tamper_truncate);
  ADD ("/audit/tamper/content", test_tamper_relink);
  ADD ("/audit/reopen-continues-chain", test_reopen_continues);
  ADD ("/audit/group-commit", test_group_commit);
  ADD ("/audit/flush", test_flush);
  ADD ("/audit/search", test_search);
#undef ADD

  return g_test_run ();
}
