/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include "wz-chat-test.h"
#include "wz-id.h"
#include "wz-sim-patient.h"

/* The demo's simulated patient against a real server: it completes the pre-consultation, and a
 * doctor's message gets an answer after a human-like pause, typing shown first, in the doctor's
 * language, with receipts. */

static WzTestServer *server;
static char *doctor;
static char *encounter_id;
static char *encounter;
static char *patient;
static GSubprocess *sim;

static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static void
test_replies_follow_keywords_and_language (void)
{
  g_assert_nonnull (strstr (wz_sim_patient_reply_for ("发烧吗？体温多少？", WZ_SIM_LANG_EN, 0),
                            "度"));
  g_assert_nonnull (strstr (wz_sim_patient_reply_for ("Any allergies?", WZ_SIM_LANG_ZH, 0),
                            "penicillin"));
  g_assert_nonnull (strstr (wz_sim_patient_reply_for ("对什么药过敏吗", WZ_SIM_LANG_EN, 1),
                            "青霉素"));
  g_assert_nonnull (strstr (wz_sim_patient_reply_for ("Where does it HURT?", WZ_SIM_LANG_ZH, 0),
                            "temples"));
  g_assert_nonnull (strstr (wz_sim_patient_reply_for ("好的，谢谢", WZ_SIM_LANG_EN, 0), "谢谢"));
  /* No words to go by: the language asked for. */
  g_assert_nonnull (strstr (wz_sim_patient_reply_for ("??? 123", WZ_SIM_LANG_EN, 0), "doctor"));
  g_assert_nonnull (strstr (wz_sim_patient_reply_for ("", WZ_SIM_LANG_ZH, 0), "医生"));
  g_assert_cmpstr (wz_sim_patient_reply_for ("hello", WZ_SIM_LANG_ZH, 0), !=,
                   wz_sim_patient_reply_for ("hello", WZ_SIM_LANG_ZH, 1));
}

static void
test_preconsultation_done (void)
{
  g_autofree char *path = g_strdup_printf ("/fhir/QuestionnaireResponse?encounter=%s", encounter);
  g_autoptr(WzTestResponse) answers = wz_test_request_text (server, "GET", path, doctor, NULL);
  g_autofree char *consent_path = g_strdup_printf ("/fhir/Consent?patient=%s", patient);
  g_autoptr(WzTestResponse) consents = wz_test_request_text (server, "GET", consent_path, doctor,
                                                             NULL);

  g_assert_cmpuint (answers->status, ==, 200);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (answers->json), "total"), ==,
                   1);
  g_assert_cmpuint (consents->status, ==, 200);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (consents->json), "total"),
                   >=, 1);
}

/* The doctor writes TEXT; returns the patient's answer after checking what came before it. */
static char *
ask (WzTestWs   *ws,
     const char *text)
{
  g_autofree char *uuid = wz_id_new_urn_uuid ();
  g_autofree char *json = wz_test_message_json (encounter_id, patient, NULL, text, uuid);
  g_autoptr(WzTestResponse) sent = wz_test_post_message (server, doctor, json, uuid);
  const char *sent_stamp;
  gboolean typing = FALSE, delivered = FALSE, read = FALSE;
  gint64 started = g_get_monotonic_time ();
  gint64 answered_after;

  g_assert_cmpuint (sent->status, ==, 201);
  sent_stamp = json_object_get_string_member (
                 json_object_get_object_member (json_node_get_object (sent->json), "meta"),
                 "lastUpdated");

  for (;;)
    {
      g_autoptr(JsonNode) frame = wz_test_ws_next (ws);
      const char *type = wz_test_frame_member (frame, "type");

      if (g_strcmp0 (type, "typing") == 0)
        {
          g_assert_cmpstr (wz_test_frame_member (frame, "from"), ==, patient);
          typing = TRUE;
        }
      else if (g_strcmp0 (type, "receipt") == 0)
        {
          g_assert_cmpstr (wz_test_frame_member (frame, "from"), ==, patient);
          g_assert_cmpstr (wz_test_frame_member (frame, "upTo"), ==, sent_stamp);
          delivered |= g_strcmp0 (wz_test_frame_member (frame, "state"), "delivered") == 0;
          read |= g_strcmp0 (wz_test_frame_member (frame, "state"), "read") == 0;
        }
      else if (g_strcmp0 (type, "resource") == 0 &&
               g_strcmp0 (wz_test_frame_member (frame, "resourceType"), "Communication") == 0 &&
               g_strcmp0 (wz_test_frame_member (frame, "id"),
                          wz_test_member (sent, "id")) != 0)
        {
          g_autofree char *path = g_strdup_printf ("/fhir/Communication/%s",
                                                   wz_test_frame_member (frame, "id"));
          g_autoptr(WzTestResponse) reply = wz_test_request_text (server, "GET", path, doctor,
                                                                  NULL);
          JsonObject *message = json_node_get_object (reply->json);

          answered_after = (g_get_monotonic_time () - started) / 1000;
          g_test_message ("“%s” answered after %" G_GINT64_FORMAT " ms", text, answered_after);
          /* A person reads and types: not at once, not after ages. */
          g_assert_cmpint (answered_after, >=, 900);
          g_assert_cmpint (answered_after, <, 8000);
          g_assert_true (typing);
          g_assert_true (delivered);
          g_assert_true (read);
          g_assert_cmpstr (json_object_get_string_member (
                             json_object_get_object_member (message, "sender"), "reference"), ==,
                           patient);
          return g_strdup (wz_test_message_text (message));
        }
    }
}

static void
test_answers_the_doctor (void)
{
  g_autoptr(WzTestWs) ws = wz_test_ws_open (server->url, doctor);
  g_autofree char *chinese = ask (ws, "您好，昨天晚上发烧了吗？体温多少？");
  g_autofree char *english = ask (ws, "Do you have any allergies to medicines?");

  g_assert_nonnull (strstr (chinese, "度"));
  g_assert_nonnull (strstr (english, "penicillin"));
}

static void
test_stops_on_sigterm (void)
{
  g_autoptr(GError) error = NULL;

  g_subprocess_send_signal (sim, SIGTERM);
  g_subprocess_wait (sim, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (sim));
  g_assert_cmpint (g_subprocess_get_exit_status (sim), ==, 0);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(WzTestResponse) visits = NULL;
  g_autoptr(WzTestResponse) link = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GDataInputStream) lines = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *ready = NULL;
  g_autofree char *expected = NULL;
  JsonObject *visit;
  int status;

  g_test_init (&argc, &argv, NULL);

  server = wz_test_server_new ();
  g_assert_cmpint (wz_test_run_cli (NULL, NULL, "demo-data", "--data-dir", server->data_dir,
                                    "--patients", "4", NULL), ==, 0);
  wz_test_server_start (server);
  doctor = wz_test_server_login (server, "doctor", "demo");

  /* A visit whose patient has not answered the pre-consultation yet. */
  visits = wz_test_request_text (server, "GET", "/fhir/Encounter?status=arrived&_sort=date",
                                 doctor, NULL);
  g_assert_cmpuint (visits->status, ==, 200);
  visit = json_object_get_object_member (
            json_array_get_object_element (
              json_object_get_array_member (json_node_get_object (visits->json), "entry"), 0),
            "resource");
  encounter_id = g_strdup (json_object_get_string_member (visit, "id"));
  encounter = g_strconcat ("Encounter/", encounter_id, NULL);
  patient = g_strdup (json_object_get_string_member (
                        json_object_get_object_member (visit, "subject"), "reference"));

  path = g_strdup_printf ("/fhir/Encounter/%s/$visit-link", encounter_id);
  link = wz_test_request_text (server, "POST", path, doctor, NULL);
  g_assert_cmpuint (link->status, ==, 200);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  sim = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("WZ_SIM_PATIENT_BINARY"),
                                     "--server", server->url,
                                     "--link-token", wz_test_member (link, "url"),
                                     "--lang", "zh", NULL);
  g_assert_no_error (error);
  lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (sim));
  ready = g_data_input_stream_read_line_utf8 (lines, NULL, NULL, &error);
  g_assert_no_error (error);
  expected = g_strdup_printf ("sim patient ready %s %s", patient, encounter);
  g_assert_cmpstr (ready, ==, expected);

  g_test_add_func ("/chat/sim-patient/replies", test_replies_follow_keywords_and_language);
  g_test_add_func ("/chat/sim-patient/preconsultation", test_preconsultation_done);
  g_test_add_func ("/chat/sim-patient/answers-the-doctor", test_answers_the_doctor);
  g_test_add_func ("/chat/sim-patient/stops-on-sigterm", test_stops_on_sigterm);
  status = g_test_run ();

  g_clear_object (&sim);
  g_assert_cmpint (wz_test_server_stop (server), ==, 0);
  wz_test_server_free (server);
  g_free (doctor);
  g_free (encounter_id);
  g_free (encounter);
  g_free (patient);

  return status;
}
