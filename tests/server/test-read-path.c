/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <signal.h>
#include <sqlite3.h>
#include <string.h>

#include "wz-fhir.h"
#include "wz-sqlite-store.h"
#include "wz-test-util.h"

/* The read path keeps shortcuts (remembered care-team answers, one read transaction per main
 * loop pass, audit rows written in groups); these tests hold it to what a plain read would do:
 * access follows care-team changes at once, and no answered read lacks its audit row. */

#define PASSWORD "demo"

typedef struct
{
  WzTestServer *server;
  char         *doctor;
  char         *doctor_ref;
  char         *doctor2;
  char         *other_patient;   /* "Patient/ID", doctor2's and not doctor's */
} Clinic;

static JsonObject *
object (WzTestResponse *response)
{
  g_assert_nonnull (response->json);
  return json_node_get_object (response->json);
}

static guint
status_of (Clinic     *clinic,
           const char *path,
           const char *token)
{
  g_autoptr(WzTestResponse) response = wz_test_request_text (clinic->server, "GET", path, token,
                                                             NULL);

  return response->status;
}

static void
clinic_set_up (Clinic *clinic)
{
  g_autoptr(WzTestResponse) visits = NULL;
  JsonObject *resource;

  clinic->server = wz_test_server_new ();
  g_assert_cmpint (wz_test_run_cli (NULL, NULL, "demo-data", "--data-dir",
                                    clinic->server->data_dir, "--patients", "6", NULL), ==, 0);
  wz_test_server_start (clinic->server);
  clinic->doctor = wz_test_server_login_full (clinic->server, "doctor", PASSWORD,
                                              &clinic->doctor_ref);
  clinic->doctor2 = wz_test_server_login (clinic->server, "doctor2", PASSWORD);

  visits = wz_test_request_text (clinic->server, "GET", "/fhir/Encounter?status=arrived,triaged&_sort=date",
                                 clinic->doctor2, NULL);
  g_assert_cmpuint (visits->status, ==, 200);
  resource = json_object_get_object_member (
    json_array_get_object_element (json_object_get_array_member (object (visits), "entry"), 0),
    "resource");
  clinic->other_patient = g_strdup (json_object_get_string_member (
    json_object_get_object_member (resource, "subject"), "reference"));
}

static void
clinic_tear_down (Clinic *clinic)
{
  g_clear_pointer (&clinic->server, wz_test_server_free);
  g_free (clinic->doctor);
  g_free (clinic->doctor_ref);
  g_free (clinic->doctor2);
  g_free (clinic->other_patient);
}

/* Doctor 2 asks doctor 1 to see their patient (a visit naming both), then withdraws the visit:
 * doctor 1's reads of the patient follow each step, although the same read was answered
 * moments before. */
static void
test_care_team_follows_writes (void)
{
  Clinic clinic = { NULL, };
  g_autofree char *path = NULL;
  g_autofree char *visit = NULL;
  g_autofree char *visit_path = NULL;
  g_autofree char *withdrawn = NULL;
  g_autoptr(GBytes) withdrawn_body = NULL;
  g_autoptr(WzTestResponse) created = NULL;
  g_autoptr(WzTestResponse) updated = NULL;

  clinic_set_up (&clinic);
  path = g_strdup_printf ("/fhir/%s", clinic.other_patient);

  for (guint i = 0; i < 3; i++)
    g_assert_cmpuint (status_of (&clinic, path, clinic.doctor), ==, 404);
  g_assert_cmpuint (status_of (&clinic, path, clinic.doctor2), ==, 200);

  visit = g_strdup_printf (
    "{\"resourceType\":\"Encounter\",\"status\":\"planned\","
    "\"class\":{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"VR\"},"
    "\"subject\":{\"reference\":\"%s\"},"
    "\"participant\":[{\"individual\":{\"reference\":\"%s\"}}]}",
    clinic.other_patient, clinic.doctor_ref);
  created = wz_test_request_text (clinic.server, "POST", "/fhir/Encounter", clinic.doctor2, visit);
  g_assert_cmpuint (created->status, ==, 201);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpuint (status_of (&clinic, path, clinic.doctor), ==, 200);

  /* Entered in error: the visit no longer makes anyone part of the care team. */
  visit_path = g_strdup_printf ("/fhir/Encounter/%s",
                                json_object_get_string_member (object (created), "id"));
  json_object_set_string_member (object (created), "status", "entered-in-error");
  json_object_remove_member (object (created), "meta");
  withdrawn = json_to_string (created->json, FALSE);
  withdrawn_body = g_bytes_new_static (withdrawn, strlen (withdrawn));
  updated = wz_test_request (clinic.server, "PUT", visit_path, clinic.doctor2, withdrawn_body,
                             "If-Match", "W/\"1\"", NULL);
  g_assert_cmpuint (updated->status, ==, 200);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpuint (status_of (&clinic, path, clinic.doctor), ==, 404);
  g_assert_cmpuint (status_of (&clinic, path, clinic.doctor2), ==, 200);

  clinic_tear_down (&clinic);
}

/* Two connections to one data directory, as with a second server process: what one commits to
 * the care team, the other's remembered answers do not hide. */
typedef struct
{
  GMainLoop     *loop;
  WzStore       *reader;
  WzStore       *writer;
  guint          step;
} TwoStores;

static gboolean
on_team (TwoStores *two)
{
  g_autoptr(GError) error = NULL;
  gboolean member = wz_store_is_on_care_team (two->reader, "Patient/p1", "Practitioner/d1", &error);

  g_assert_no_error (error);
  return member;
}

static gboolean
two_stores_step (gpointer user_data)
{
  TwoStores *two = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(WzStoredResource) stored = NULL;

  switch (two->step++)
    {
    case 0:
      /* Asked twice inside one main-loop pass, which shares one read transaction. */
      g_assert_false (on_team (two));
      g_assert_false (on_team (two));
      root = wz_fhir_parse_resource (
        "{\"resourceType\":\"Encounter\",\"status\":\"planned\","
        "\"class\":{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"VR\"},"
        "\"subject\":{\"reference\":\"Patient/p1\"},"
        "\"participant\":[{\"individual\":{\"reference\":\"Practitioner/d1\"}}]}",
        -1, NULL, NULL, &error);
      g_assert_no_error (error);
      stored = wz_store_create (two->writer, json_node_get_object (root), NULL, NULL, &error);
      g_assert_no_error (error);
      /* Still the snapshot this pass began with. */
      g_assert_false (on_team (two));
      return G_SOURCE_CONTINUE;

    case 1:
      /* A new pass, a new read transaction: the other connection's commit shows. */
      g_assert_true (on_team (two));
      g_assert_true (on_team (two));
      g_main_loop_quit (two->loop);
      return G_SOURCE_REMOVE;

    default:
      g_assert_not_reached ();
    }
}

static void
test_care_team_other_connection (void)
{
  g_autofree char *dir = g_dir_make_tmp ("wz-read-path-XXXXXX", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(WzSqliteStore) reader = NULL;
  g_autoptr(WzSqliteStore) writer = NULL;
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  TwoStores two = { loop, NULL, NULL, 0 };

  reader = wz_sqlite_store_open (dir, &error);
  g_assert_no_error (error);
  writer = wz_sqlite_store_open (dir, &error);
  g_assert_no_error (error);
  two.reader = WZ_STORE (reader);
  two.writer = WZ_STORE (writer);

  /* Low priority, so the store's end-of-pass idle runs between the steps. */
  g_idle_add_full (G_PRIORITY_LOW, two_stores_step, &two, NULL);
  g_main_loop_run (loop);
  g_assert_cmpuint (two.step, ==, 2);

  g_clear_object (&reader);
  g_clear_object (&writer);
  wz_test_rm_rf (dir);
}

/* Readers on their own threads, each counting the reads answered to it. */
typedef struct
{
  const char *url;
  const char *token;
  gint       *answered;
  gint       *stop;
} Reader;

static gpointer
reader_thread (gpointer data)
{
  Reader *reader = data;
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(SoupSession) session = NULL;
  g_autofree char *authorization = g_strconcat ("Bearer ", reader->token, NULL);

  g_main_context_push_thread_default (context);
  session = soup_session_new_with_options ("timeout", 10, NULL);
  while (!g_atomic_int_get (reader->stop))
    {
      g_autoptr(SoupMessage) msg = soup_message_new ("GET", reader->url);
      g_autoptr(GBytes) body = NULL;

      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                    authorization);
      body = soup_session_send_and_read (session, msg, NULL, NULL);
      if (body == NULL || soup_message_get_status (msg) != 200)
        break;   /* the server is gone */
      g_atomic_int_inc (reader->answered);
    }
  g_clear_object (&session);
  g_main_context_pop_thread_default (context);

  return NULL;
}

static gint64
audit_rows (const char *data_dir,
            const char *entity)
{
  g_autofree char *path = g_build_filename (data_dir, "audit.db", NULL);
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 n;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT count(*) FROM audit_event WHERE action = 'R'"
                                           " AND outcome = '0' AND entity = ?1", -1, &stmt, NULL),
                   ==, SQLITE_OK);
  sqlite3_bind_text (stmt, 1, entity, -1, SQLITE_STATIC);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  n = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);

  return n;
}

/* The server is killed (SIGKILL, no shutdown) while reads are in flight. Every read whose answer
 * arrived must have its row in audit.db: a response leaves only once its row is written, never
 * from the queue ahead of it. (Whether the row also reached the platter is fsync's part, which a
 * killed process cannot show.) */
static void
test_answered_reads_are_audited (void)
{
  Clinic clinic = { NULL, };
  g_autofree char *own_patient = NULL;
  g_autofree char *url = NULL;
  g_autoptr(WzTestResponse) visits = NULL;
  GThread *threads[6];
  Reader readers[G_N_ELEMENTS (threads)];
  gint answered = 0;
  gint stop = 0;
  gint answered_at_kill;
  gint64 rows;

  clinic_set_up (&clinic);
  visits = wz_test_request_text (clinic.server, "GET", "/fhir/Patient?_count=1", clinic.doctor,
                                 NULL);
  g_assert_cmpuint (visits->status, ==, 200);
  own_patient = g_strconcat ("Patient/", json_object_get_string_member (
    json_object_get_object_member (
      json_array_get_object_element (json_object_get_array_member (object (visits), "entry"), 0),
      "resource"), "id"), NULL);
  url = g_strdup_printf ("%s/fhir/%s", clinic.server->url, own_patient);

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    {
      readers[i] = (Reader) { url, clinic.doctor, &answered, &stop };
      threads[i] = g_thread_new ("reader", reader_thread, &readers[i]);
    }
  while (g_atomic_int_get (&answered) < 600)
    g_usleep (1000);

  g_subprocess_send_signal (clinic.server->process, SIGKILL);
  g_subprocess_wait (clinic.server->process, NULL, NULL);
  g_clear_object (&clinic.server->process);
  /* Answers still arriving now were sent before the kill, and count. */
  g_atomic_int_set (&stop, 1);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);
  answered_at_kill = g_atomic_int_get (&answered);

  rows = audit_rows (clinic.server->data_dir, own_patient);
  g_test_message ("%d reads answered, %" G_GINT64_FORMAT " audit rows", answered_at_kill, rows);
  g_assert_cmpint (rows, >=, answered_at_kill);
  /* The chain is whole even though the writer was cut off mid-stream. */
  g_assert_cmpint (wz_test_run_cli (NULL, NULL, "audit", "verify", "--data-dir",
                                    clinic.server->data_dir, NULL), ==, 0);

  clinic_tear_down (&clinic);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/read-path/care-team-follows-writes", test_care_team_follows_writes);
  g_test_add_func ("/read-path/care-team-other-connection", test_care_team_other_connection);
  g_test_add_func ("/read-path/answered-reads-are-audited", test_answered_reads_are_audited);

  return g_test_run ();
}
