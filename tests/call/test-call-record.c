/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-call"

#include "config.h"

#include <gst/gst.h>
#include <signal.h>
#include <string.h>

#include "wz-api-client.h"
#include "wz-call-record.h"

/* A call that connected and was hung up by the patient is recorded in its Encounter on a real
 * wenzhen-server: start, end, duration, who ended it and why; saving twice keeps one record. */

typedef struct
{
  GSubprocess *server;
  char        *data_dir;
  char        *url;
  WzApiClient *client;
  WzCall      *doctor;
  WzCall      *patient;
  char        *patient_ref;
  GPtrArray   *to_doctor;
  GPtrArray   *to_patient;
} Fixture;

#define WAIT_FOR(check, seconds)                                                   \
  G_STMT_START {                                                                   \
    gint64 deadline_ = g_get_monotonic_time () + (seconds) * G_USEC_PER_SEC;       \
    while (!(check) && g_get_monotonic_time () < deadline_)                        \
      g_main_context_iteration (NULL, TRUE);                                       \
  } G_STMT_END

static void
on_done (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GAsyncResult *
wait_result (GAsyncResult **slot)
{
  WAIT_FOR (*slot != NULL, 30);
  g_assert_nonnull (*slot);
  return *slot;
}

static void
relay (GPtrArray  *queue,
       JsonObject *frame,
       const char *from)
{
  JsonObject *copy = json_object_new ();
  GList *members = json_object_get_members (frame);

  for (GList *l = members; l != NULL; l = l->next)
    json_object_set_member (copy, l->data, json_node_copy (json_object_get_member (frame, l->data)));
  g_list_free (members);
  json_object_set_string_member (copy, "from", from);
  g_ptr_array_add (queue, copy);
}

static void
doctor_out (WzCall     *call,
            JsonObject *frame,
            Fixture    *f)
{
  relay (f->to_patient, frame, wz_session_get_practitioner (wz_api_client_get_session (f->client)));
}

static void
patient_out (WzCall     *call,
             JsonObject *frame,
             Fixture    *f)
{
  relay (f->to_doctor, frame, f->patient_ref);
}

static gboolean
pump (gpointer user_data)
{
  Fixture *f = user_data;

  while (f->to_patient->len > 0)
    {
      g_autoptr(JsonObject) frame = g_ptr_array_steal_index (f->to_patient, 0);

      if (f->patient == NULL)
        {
          f->patient = wz_call_new (wz_call_get_encounter (f->doctor),
                                    json_object_get_string_member (frame, "call"));
          g_signal_connect (f->patient, "signal-out", G_CALLBACK (patient_out), f);
          wz_call_set_sources (f->patient,
                               gst_parse_bin_from_description ("videotestsrc is-live=true pattern=ball", TRUE, NULL),
                               gst_parse_bin_from_description ("audiotestsrc is-live=true", TRUE, NULL));
        }
      wz_call_handle_signal (f->patient, frame, NULL);
    }
  while (f->to_doctor->len > 0)
    {
      g_autoptr(JsonObject) frame = g_ptr_array_steal_index (f->to_doctor, 0);

      wz_call_handle_signal (f->doctor, frame, NULL);
    }
  return G_SOURCE_CONTINUE;
}

static JsonObject *
get_json (Fixture    *f,
          const char *path)
{
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;
  JsonNode *node;

  wz_api_client_get_json_async (f->client, path, NULL, on_done, &result);
  node = wz_api_client_get_json_finish (f->client, wait_result (&result), &error);
  g_object_unref (result);
  g_assert_no_error (error);
  return json_object_ref (json_node_get_object (node));
}

static JsonObject *
member (JsonArray  *members,
        const char *url)
{
  for (guint i = 0; i < json_array_get_length (members); i++)
    {
      JsonObject *m = json_array_get_object_element (members, i);

      if (g_strcmp0 (json_object_get_string_member (m, "url"), url) == 0)
        return m;
    }
  return NULL;
}

static void
test_record (void)
{
  const char *server_binary = g_getenv ("WZ_SERVER_BINARY");
  Fixture fx = { 0 }, *f = &fx;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autofree char *line = NULL;
  g_autofree char *encounter_ref = NULL;
  g_autoptr(JsonObject) bundle = NULL;
  g_autoptr(JsonObject) encounter = NULL;
  g_autoptr(WzSession) session = NULL;
  GAsyncResult *result = NULL;
  JsonArray *entries;
  JsonArray *extensions;
  JsonArray *members = NULL;
  guint records = 0;
  guint pump_id;

  if (server_binary == NULL || !g_file_test (server_binary, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip ("WZ_SERVER_BINARY is not built");
      return;
    }

  f->data_dir = g_dir_make_tmp ("wz-call-record-XXXXXX", &error);
  g_assert_no_error (error);
  g_setenv ("WZ_PWHASH_FAST", "1", TRUE);
  {
    g_autoptr(GSubprocess) demo = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                                    G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error,
                                                    server_binary, "demo-data", "--data-dir",
                                                    f->data_dir, NULL);

    g_assert_no_error (error);
    g_assert_true (g_subprocess_wait_check (demo, NULL, &error));
  }
  f->server = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                                &error, server_binary, "serve", "--data-dir", f->data_dir,
                                "--listen", "127.0.0.1:0", NULL);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (f->server));
  line = g_data_input_stream_read_line_utf8 (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (line, "listening on "));
  f->url = g_strdup (line + strlen ("listening on "));

  f->client = wz_api_client_new ();
  g_assert_true (wz_api_client_set_base_url (f->client, f->url, &error));
  wz_api_client_login_async (f->client, "doctor", g_getenv ("WZ_DEMO_PASSWORD") ?: "demo", NULL,
                             on_done, &result);
  session = wz_api_client_login_finish (f->client, wait_result (&result), &error);
  g_clear_object (&result);
  g_assert_no_error (error);

  bundle = get_json (f, "/fhir/Encounter?status=arrived&_count=1");
  entries = json_object_get_array_member (bundle, "entry");
  if (entries == NULL || json_array_get_length (entries) == 0)
    {
      g_clear_pointer (&bundle, json_object_unref);
      bundle = get_json (f, "/fhir/Encounter?_count=1");
      entries = json_object_get_array_member (bundle, "entry");
    }
  g_assert_nonnull (entries);
  {
    JsonObject *resource = json_object_get_object_member (json_array_get_object_element (entries, 0),
                                                          "resource");

    encounter_ref = g_strconcat ("Encounter/", json_object_get_string_member (resource, "id"), NULL);
    f->patient_ref = g_strdup (json_object_get_string_member (json_object_get_object_member (resource, "subject"), "reference"));
  }

  /* The call: connects, then the patient hangs up. */
  f->to_doctor = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  f->to_patient = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  pump_id = g_timeout_add (5, pump, f);
  f->doctor = wz_call_new (encounter_ref, NULL);
  g_signal_connect (f->doctor, "signal-out", G_CALLBACK (doctor_out), f);
  wz_call_set_sources (f->doctor,
                       gst_parse_bin_from_description ("videotestsrc is-live=true pattern=ball", TRUE, NULL),
                       gst_parse_bin_from_description ("audiotestsrc is-live=true", TRUE, NULL));
  wz_call_start (f->doctor);
  WAIT_FOR (f->patient != NULL && wz_call_get_state (f->patient) == WZ_CALL_RINGING, 20);
  g_assert_nonnull (f->patient);
  wz_call_accept (f->patient);
  WAIT_FOR (wz_call_get_state (f->doctor) == WZ_CALL_CONNECTED, 60);
  g_assert_cmpint (wz_call_get_state (f->doctor), ==, WZ_CALL_CONNECTED);
  WAIT_FOR (FALSE, 2);
  wz_call_hangup (f->patient, "ended");
  WAIT_FOR (wz_call_get_state (f->doctor) == WZ_CALL_ENDED, 10);
  g_assert_cmpint (wz_call_get_state (f->doctor), ==, WZ_CALL_ENDED);

  /* Saved twice (a retry): one record. */
  for (int i = 0; i < 2; i++)
    {
      wz_call_record_save_async (f->client, f->doctor, NULL, on_done, &result);
      g_assert_true (wz_call_record_save_finish (wait_result (&result), &error));
      g_clear_object (&result);
      g_assert_no_error (error);
    }

  {
    g_autofree char *path = g_strconcat ("/fhir/", encounter_ref, NULL);

    encounter = get_json (f, path);
  }
  extensions = json_object_get_array_member (encounter, "extension");
  g_assert_nonnull (extensions);
  for (guint i = 0; i < json_array_get_length (extensions); i++)
    {
      JsonObject *e = json_array_get_object_element (extensions, i);

      if (g_strcmp0 (json_object_get_string_member (e, "url"), WZ_CALL_RECORD_URL) == 0)
        {
          records++;
          members = json_object_get_array_member (e, "extension");
        }
    }
  g_assert_cmpuint (records, ==, 1);
  g_assert_cmpstr (json_object_get_string_member (member (members, "callId"), "valueString"), ==,
                   wz_call_get_id (f->doctor));
  g_assert_nonnull (member (members, "start"));
  g_assert_nonnull (member (members, "end"));
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (member (members, "duration"),
                                                                              "valueDuration"), "value"),
                   >=, 2);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (member (members, "endedBy"),
                                                                                 "valueReference"),
                                                  "reference"), ==, f->patient_ref);
  g_assert_cmpstr (json_object_get_string_member (member (members, "endReason"), "valueCode"), ==,
                   "ended");

  g_source_remove (pump_id);
  g_clear_object (&f->doctor);
  g_clear_object (&f->patient);
  g_clear_object (&f->client);
  g_ptr_array_unref (f->to_doctor);
  g_ptr_array_unref (f->to_patient);
  g_subprocess_send_signal (f->server, SIGTERM);
  g_subprocess_wait (f->server, NULL, NULL);
  g_clear_object (&f->server);
  {
    g_autoptr(GSubprocess) rm = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, NULL, "rm", "-rf",
                                                  f->data_dir, NULL);

    if (rm != NULL)
      g_subprocess_wait (rm, NULL, NULL);
  }
  g_free (f->data_dir);
  g_free (f->url);
  g_free (f->patient_ref);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  gst_init (&argc, &argv);
  g_setenv ("WZ_CALL_AUDIO_SINK", "fakesink", TRUE);

  g_test_add_func ("/call/record-in-encounter", test_record);

  return g_test_run ();
}
