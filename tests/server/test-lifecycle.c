/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "wz-test-util.h"

/* The server as an operator runs it: start, stop, restart, refuse unsafe listening, demo data,
 * backup and restore, audit verification. */

#define PASSWORD "correct horse battery"

static char *
run_capturing_stderr (int        *out_status,
                      const char *first_arg,
                      ...) G_GNUC_NULL_TERMINATED;

static char *
run_capturing_stderr (int        *out_status,
                      const char *first_arg,
                      ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  char *err = NULL;
  va_list args;

  g_ptr_array_add (argv, (char *) g_getenv ("WZ_SERVER_BINARY"));
  va_start (args, first_arg);
  for (const char *arg = first_arg; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (char *) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  process = g_subprocess_newv ((const char * const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                               &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_assert_null (strstr (out, "listening on"));
  *out_status = g_subprocess_get_exit_status (process);

  return err;
}

static gint64
count (WzTestServer *server,
       const char   *token,
       const char   *path)
{
  g_autoptr(WzTestResponse) response = wz_test_request_text (server, "GET", path, token, NULL);

  g_assert_cmpuint (response->status, ==, 200);
  return json_object_get_int_member (json_node_get_object (response->json), "total");
}

static void
test_restart_keeps_data (void)
{
  g_autoptr(WzTestServer) server = wz_test_server_new ();
  g_autoptr(GBytes) body = NULL;
  g_autoptr(WzTestResponse) created = NULL;
  g_autoptr(WzTestResponse) read = NULL;
  g_autofree char *token = NULL;
  g_autofree char *path = NULL;
  g_autofree char *doctor_ref = NULL;
  char *text;

  wz_test_server_add_user (server, "doctor", PASSWORD, "doctor");
  wz_test_server_start (server);
  token = wz_test_server_login_full (server, "doctor", PASSWORD, &doctor_ref);
  /* The doctor's own patient, so the care-team rule lets them read it after the restart. */
  text = g_strdup_printf ("{\"resourceType\":\"Patient\",\"name\":[{\"text\":\"周桂兰\"}],"
                          "\"generalPractitioner\":[{\"reference\":\"%s\"}]}", doctor_ref);
  body = g_bytes_new_take (text, strlen (text));
  created = wz_test_request (server, "POST", "/fhir/Patient", token, body, NULL);
  g_assert_cmpuint (created->status, ==, 201);

  /* SIGTERM is a clean shutdown. */
  g_assert_cmpint (wz_test_server_stop (server), ==, 0);

  wz_test_server_start (server);
  g_free (token);
  token = wz_test_server_login (server, "doctor", PASSWORD);
  path = g_strdup_printf ("/fhir/Patient/%s", wz_test_member (created, "id"));
  read = wz_test_request_text (server, "GET", path, token, NULL);
  g_assert_cmpuint (read->status, ==, 200);
  g_assert_true (g_bytes_equal (read->body, created->body));
  g_assert_cmpint (wz_test_server_stop (server), ==, 0);
}

static void
test_refuses_plain_http_off_loopback (void)
{
  g_autofree char *dir = g_dir_make_tmp ("wz-listen-XXXXXX", NULL);
  g_autofree char *err = NULL;
  int status = 0;

  err = run_capturing_stderr (&status, "serve", "--data-dir", dir, "--listen", "0.0.0.0:0", NULL);
  g_assert_cmpint (status, ==, 1);
  g_assert_nonnull (strstr (err, "without TLS"));
  g_assert_nonnull (strstr (err, "--tls-cert"));
  g_free (err);

  err = run_capturing_stderr (&status, "serve", "--data-dir", dir, "--listen", "nowhere", NULL);
  g_assert_cmpint (status, ==, 1);
  g_assert_nonnull (strstr (err, "HOST:PORT"));
  wz_test_rm_rf (dir);
}

/* The hospital's name given to `serve` is the CapabilityStatement's publisher (clients print
 * it on prescriptions); without it there is none, and an empty one is refused. */
static void
test_organization_name (void)
{
  static const char *const named[] = { "--organization-name", "  问诊示范互联网医院 Wenzhen Demo  ", NULL };
  g_autoptr(WzTestServer) server = wz_test_server_new ();
  g_autoptr(WzTestResponse) with_name = NULL;
  g_autoptr(WzTestResponse) without = NULL;
  g_autofree char *err = NULL;
  JsonObject *implementation;
  int status = 0;

  wz_test_server_start_with (server, named);
  with_name = wz_test_request_text (server, "GET", "/fhir/metadata", NULL, NULL);
  g_assert_cmpuint (with_name->status, ==, 200);
  g_assert_cmpstr (wz_test_member (with_name, "publisher"), ==, "问诊示范互联网医院 Wenzhen Demo");
  implementation = json_object_get_object_member (json_node_get_object (with_name->json),
                                                  "implementation");
  g_assert_nonnull (implementation);
  g_assert_cmpstr (json_object_get_string_member (implementation, "description"), ==,
                   "问诊示范互联网医院 Wenzhen Demo");
  g_assert_cmpint (wz_test_server_stop (server), ==, 0);

  wz_test_server_start (server);
  without = wz_test_request_text (server, "GET", "/fhir/metadata", NULL, NULL);
  g_assert_cmpuint (without->status, ==, 200);
  g_assert_false (json_object_has_member (json_node_get_object (without->json), "publisher"));
  g_assert_cmpint (wz_test_server_stop (server), ==, 0);

  err = run_capturing_stderr (&status, "serve", "--data-dir", server->data_dir,
                              "--listen", "127.0.0.1:0", "--organization-name", " ", NULL);
  g_assert_cmpint (status, !=, 0);
  g_assert_nonnull (strstr (err, "organization name"));
}

static void
test_demo_data (void)
{
  g_autoptr(WzTestServer) server = wz_test_server_new ();
  g_autofree char *err = NULL;
  g_autofree char *token = NULL;
  g_autofree char *practitioner_search = NULL;
  g_autoptr(WzTestResponse) doctors = NULL;
  g_autoptr(WzTestResponse) encounters = NULL;
  JsonArray *entries;
  int status = -1;

  g_assert_cmpint (wz_test_run_cli (NULL, NULL, "demo-data", "--data-dir", server->data_dir,
                                    "--patients", "10", NULL), ==, 0);
  /* A second run must not pile a second demo on top of the first. */
  err = run_capturing_stderr (&status, "demo-data", "--data-dir", server->data_dir, NULL);
  g_assert_cmpint (status, ==, 1);
  g_assert_nonnull (strstr (err, "already holds data"));

  wz_test_server_start (server);
  token = wz_test_server_login (server, "doctor", "demo");
  g_assert_cmpint (count (server, token, "/fhir/Patient"), ==, 10);
  g_assert_cmpint (count (server, token, "/fhir/AllergyIntolerance"), >=, 3);
  g_assert_cmpint (count (server, token, "/fhir/Condition"), >=, 8);
  /* The child under 6 and the eldest patient. */
  g_assert_cmpint (count (server, token, "/fhir/Patient?birthdate=ge2019-01-01"), ==, 1);
  g_assert_cmpint (count (server, token, "/fhir/Patient?birthdate=lt1945"), ==, 1);

  doctors = wz_test_request_text (server, "GET", "/fhir/Practitioner?name=李伟", token, NULL);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (doctors->json), "total"), ==, 1);
  entries = json_object_get_array_member (json_node_get_object (doctors->json), "entry");
  /* Today's visits (the record history adds earlier, finished ones a month and more ago). */
  {
    g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
    g_autoptr(GDateTime) recent = g_date_time_add_days (now, -2);
    g_autofree char *since = g_date_time_format (recent, "%Y-%m-%d");

    practitioner_search = g_strdup_printf (
      "/fhir/Encounter?practitioner=%s&date=ge%s&_count=50",
      json_object_get_string_member (json_object_get_object_member (
        json_array_get_object_element (entries, 0), "resource"), "id"), since);
  }
  encounters = wz_test_request_text (server, "GET", practitioner_search, token, NULL);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (encounters->json), "total"),
                   ==, 6);
  /* The record history: earlier visits with their notes, months of vital signs, medicines, and
   * an ECG picture and a PDF report. */
  g_assert_cmpint (count (server, token, "/fhir/Encounter?status=finished"), ==, 6);
  g_assert_cmpint (count (server, token, "/fhir/Observation"), >=, 100);
  g_assert_cmpint (count (server, token, "/fhir/MedicationStatement?status=active"), ==, 9);
  g_assert_cmpint (count (server, token, "/fhir/DocumentReference"), ==, 7);
  g_assert_cmpint (count (server, token, "/fhir/Encounter?status=in-progress"), ==, 1);
  g_assert_cmpint (count (server, token, "/fhir/Appointment?status=booked"), ==, 2);

  {
    g_autofree char *pharmacist = wz_test_server_login (server, "pharmacist", "demo");
    g_autofree char *admin = wz_test_server_login (server, "admin", "demo");

    g_assert_nonnull (pharmacist);
    g_assert_nonnull (admin);
  }
  g_assert_cmpint (wz_test_server_stop (server), ==, 0);
}

static void
test_backup_restore (void)
{
  g_autoptr(WzTestServer) source = wz_test_server_new ();
  g_autoptr(WzTestServer) target = wz_test_server_new ();
  g_autofree char *archive = g_build_filename (source->data_dir, "..",
                                               "wz-lifecycle-backup.wzbak", NULL);
  g_autofree char *token = NULL;
  g_autofree char *out = NULL;

  g_assert_cmpint (wz_test_run_cli (NULL, NULL, "demo-data", "--data-dir", source->data_dir,
                                    "--patients", "5", NULL), ==, 0);
  /* Taken while the server runs: the backup API reads a consistent snapshot. */
  wz_test_server_start (source);
  g_assert_cmpint (wz_test_run_cli (NULL, &out, "backup", "--data-dir", source->data_dir, archive,
                                    NULL), ==, 0);
  g_assert_nonnull (strstr (out, "Backup written"));
  g_assert_cmpint (wz_test_server_stop (source), ==, 0);

  g_assert_cmpint (wz_test_run_cli (NULL, NULL, "restore", "--data-dir", target->data_dir,
                                    archive, NULL), ==, 0);
  wz_test_server_start (target);
  token = wz_test_server_login (target, "doctor", "demo");
  g_assert_cmpint (count (target, token, "/fhir/Patient"), ==, 5);
  g_assert_cmpint (wz_test_server_stop (target), ==, 0);
  g_assert_cmpint (wz_test_run_cli (NULL, NULL, "audit", "verify", "--data-dir", target->data_dir,
                                    NULL), ==, 0);

  /* A damaged archive is refused before anything in the data dir changes. */
  {
    g_autofree char *junk = g_build_filename (source->data_dir, "junk.wzbak", NULL);

    g_assert_true (g_file_set_contents (junk, "not a backup", -1, NULL));
    g_assert_cmpint (wz_test_run_cli (NULL, NULL, "restore", "--data-dir", target->data_dir, junk,
                                      NULL), ==, 1);
  }
  wz_test_rm_rf (archive);
}

static void
test_audit_records_reads (void)
{
  g_autoptr(WzTestServer) server = wz_test_server_new ();
  g_autofree char *token = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  guint64 n_before, n_after;

  wz_test_server_add_user (server, "doctor", PASSWORD, "doctor");
  wz_test_server_start (server);
  token = wz_test_server_login (server, "doctor", PASSWORD);
  g_assert_cmpint (wz_test_server_stop (server), ==, 0);
  g_assert_cmpint (wz_test_run_cli (NULL, &before, "audit", "verify", "--data-dir",
                                    server->data_dir, NULL), ==, 0);

  wz_test_server_start (server);
  for (guint i = 0; i < 5; i++)
    count (server, token, "/fhir/Patient");
  g_assert_cmpint (wz_test_server_stop (server), ==, 0);
  g_assert_cmpint (wz_test_run_cli (NULL, &after, "audit", "verify", "--data-dir",
                                    server->data_dir, NULL), ==, 0);

  /* "audit log intact: N rows verified": every search left its row. */
  g_assert_true (g_str_has_prefix (before, "audit log intact: "));
  n_before = g_ascii_strtoull (before + strlen ("audit log intact: "), NULL, 10);
  n_after = g_ascii_strtoull (after + strlen ("audit log intact: "), NULL, 10);
  g_assert_cmpuint (n_after, >=, n_before + 5);
}

static void
test_user_add_refusals (void)
{
  g_autofree char *dir = g_dir_make_tmp ("wz-user-XXXXXX", NULL);

  g_assert_cmpint (wz_test_run_cli ("short\n", NULL, "user", "add", "--data-dir", dir,
                                    "--username", "liwei", "--role", "doctor", NULL), ==, 1);
  g_assert_cmpint (wz_test_run_cli (PASSWORD "\n", NULL, "user", "add", "--data-dir", dir,
                                    "--username", "liwei", "--role", "surgeon", NULL), ==, 2);
  g_assert_cmpint (wz_test_run_cli (PASSWORD "\n", NULL, "user", "add", "--data-dir", dir,
                                    "--username", "liwei", "--role", "doctor",
                                    "--display-name", "李伟 Li Wei", NULL), ==, 0);
  /* The same user twice is a conflict, not a second account. */
  g_assert_cmpint (wz_test_run_cli (PASSWORD "\n", NULL, "user", "add", "--data-dir", dir,
                                    "--username", "liwei", "--role", "doctor", NULL), ==, 1);
  wz_test_rm_rf (dir);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/lifecycle/restart-keeps-data", test_restart_keeps_data);
  g_test_add_func ("/lifecycle/refuses-plain-http-off-loopback", test_refuses_plain_http_off_loopback);
  g_test_add_func ("/lifecycle/demo-data", test_demo_data);
  g_test_add_func ("/lifecycle/organization-name", test_organization_name);
  g_test_add_func ("/lifecycle/backup-restore", test_backup_restore);
  g_test_add_func ("/lifecycle/audit-records-reads", test_audit_records_reads);
  g_test_add_func ("/lifecycle/user-add-refusals", test_user_add_refusals);

  return g_test_run ();
}
