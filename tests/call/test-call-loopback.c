/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-call"

#include "config.h"

#include <gst/gst.h>
#include <string.h>

#include "wz-call.h"

/* Two WzCall instances in one process, joined by a signaling shim that does what the server's
 * relay does (passes frames on, adds "from"): the doctor calls, the other side accepts, frames
 * and sound flow both ways, mute silences the far end, hangup ends both. Then bad signaling. */

#define ENCOUNTER "Encounter/enc-1"
#define DOCTOR "Practitioner/doc-1"
#define PATIENT "Patient/pat-1"

typedef struct
{
  WzCall     *doctor;
  WzCall     *patient;
  GPtrArray  *to_doctor;   /* frames in flight, delivered from the main loop like a socket */
  GPtrArray  *to_patient;
  guint       pump_id;
  gboolean    drop_ice;    /* simulates a path that never works */
  guint       n_frames;
} Fixture;

static void
relay_to (GPtrArray  *queue,
          JsonObject *frame,
          const char *from)
{
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *text = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();

  /* Through text, as on the wire. */
  json_node_set_object (node, frame);
  text = json_to_string (node, FALSE);
  g_assert_true (json_parser_load_from_data (parser, text, -1, NULL));
  json_object_set_string_member (json_node_get_object (json_parser_get_root (parser)), "from", from);
  g_ptr_array_add (queue, json_object_ref (json_node_get_object (json_parser_get_root (parser))));
}

static void
doctor_out (WzCall     *call,
            JsonObject *frame,
            Fixture    *f)
{
  f->n_frames++;
  if (f->drop_ice && g_strcmp0 (json_object_get_string_member (frame, "type"), "ice") == 0)
    return;
  relay_to (f->to_patient, frame, DOCTOR);
}

static void
patient_out (WzCall     *call,
             JsonObject *frame,
             Fixture    *f)
{
  f->n_frames++;
  if (f->drop_ice && g_strcmp0 (json_object_get_string_member (frame, "type"), "ice") == 0)
    return;
  relay_to (f->to_doctor, frame, PATIENT);
}

static void
deliver (GPtrArray *queue,
         WzCall   **target,
         Fixture   *f,
         gboolean   to_patient)
{
  g_autoptr(GPtrArray) frames = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);

  /* Swap first: delivering can queue replies. */
  for (guint i = 0; i < queue->len; i++)
    g_ptr_array_add (frames, json_object_ref (g_ptr_array_index (queue, i)));
  g_ptr_array_set_size (queue, 0);

  for (guint i = 0; i < frames->len; i++)
    {
      JsonObject *frame = g_ptr_array_index (frames, i);
      g_autoptr(GError) error = NULL;

      if (*target == NULL && to_patient &&
          g_strcmp0 (json_object_get_string_member (frame, "type"), "offer") == 0)
        {
          /* The patient side learns of the call from its first offer, like the call page. */
          *target = wz_call_new (ENCOUNTER, json_object_get_string_member (frame, "call"));
          g_signal_connect (*target, "signal-out", G_CALLBACK (patient_out), f);
          wz_call_set_sources (*target, gst_parse_bin_from_description (
                                 "videotestsrc is-live=true pattern=ball", TRUE, NULL),
                               gst_parse_bin_from_description (
                                 "audiotestsrc is-live=true samplesperbuffer=480 freq=440", TRUE,
                                 NULL));
        }
      if (*target != NULL && !wz_call_handle_signal (*target, frame, &error))
        g_test_message ("frame refused: %s", error->message);
    }
}

static gboolean
pump (gpointer user_data)
{
  Fixture *f = user_data;

  deliver (f->to_patient, &f->patient, f, TRUE);
  deliver (f->to_doctor, &f->doctor, f, FALSE);
  return G_SOURCE_CONTINUE;
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  f->to_doctor = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  f->to_patient = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  f->pump_id = g_timeout_add (5, pump, f);

  f->doctor = wz_call_new (ENCOUNTER, NULL);
  g_signal_connect (f->doctor, "signal-out", G_CALLBACK (doctor_out), f);
  wz_call_set_sources (f->doctor,
                       gst_parse_bin_from_description ("videotestsrc is-live=true pattern=ball",
                                                       TRUE, NULL),
                       gst_parse_bin_from_description (
                         "audiotestsrc is-live=true samplesperbuffer=480 freq=660", TRUE, NULL));
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_clear_handle_id (&f->pump_id, g_source_remove);
  g_clear_object (&f->doctor);
  g_clear_object (&f->patient);
  g_ptr_array_unref (f->to_doctor);
  g_ptr_array_unref (f->to_patient);
}

/* Turns the main loop until CHECK holds or SECONDS pass. */
#define WAIT_FOR(check, seconds)                                                   \
  G_STMT_START {                                                                   \
    gint64 deadline_ = g_get_monotonic_time () + (seconds) * G_USEC_PER_SEC;       \
    while (!(check) && g_get_monotonic_time () < deadline_)                        \
      g_main_context_iteration (NULL, TRUE);                                       \
  } G_STMT_END

static void
wait_ms (guint ms)
{
  gint64 deadline = g_get_monotonic_time () + ms * 1000;

  while (g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
}

static void
connect_call (Fixture *f)
{
  wz_call_start (f->doctor);
  g_assert_cmpint (wz_call_get_state (f->doctor), ==, WZ_CALL_OUTGOING);

  WAIT_FOR (f->patient != NULL && wz_call_get_state (f->patient) == WZ_CALL_RINGING, 10);
  g_assert_nonnull (f->patient);
  g_assert_cmpint (wz_call_get_state (f->patient), ==, WZ_CALL_RINGING);
  g_assert_cmpstr (wz_call_get_peer (f->patient), ==, DOCTOR);
  g_assert_cmpstr (wz_call_get_id (f->patient), ==, wz_call_get_id (f->doctor));

  /* A person takes a while to answer; the caller's media must survive the wait. */
  wait_ms (GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (f->doctor), "answer-delay-ms")));
  wz_call_accept (f->patient);
  WAIT_FOR (wz_call_get_state (f->doctor) == WZ_CALL_CONNECTED &&
            wz_call_get_state (f->patient) == WZ_CALL_CONNECTED, 20);
  g_assert_cmpint (wz_call_get_state (f->doctor), ==, WZ_CALL_CONNECTED);
  g_assert_cmpint (wz_call_get_state (f->patient), ==, WZ_CALL_CONNECTED);
}

static void
test_app_to_app (Fixture       *f,
                 gconstpointer  data)
{
  double level;

  g_object_set_data (G_OBJECT (f->doctor), "answer-delay-ms", GUINT_TO_POINTER (3000));
  connect_call (f);

  /* Frames decoded on both sides, and a picture of the right size in both paintables. */
  /* Generous: a shared CI machine may give the four codecs little CPU. */
  WAIT_FOR (wz_call_get_stats (f->doctor)->video_frames_decoded >= 60 &&
            wz_call_get_stats (f->patient)->video_frames_decoded >= 60, 60);
  g_test_message ("decoded: doctor %" G_GUINT64_FORMAT ", patient %" G_GUINT64_FORMAT
                  "; sent: doctor %" G_GUINT64_FORMAT ", patient %" G_GUINT64_FORMAT,
                  wz_call_get_stats (f->doctor)->video_frames_decoded,
                  wz_call_get_stats (f->patient)->video_frames_decoded,
                  wz_call_get_stats (f->doctor)->video_frames_sent,
                  wz_call_get_stats (f->patient)->video_frames_sent);
  g_assert_cmpuint (wz_call_get_stats (f->doctor)->video_frames_decoded, >=, 60);
  g_assert_cmpuint (wz_call_get_stats (f->patient)->video_frames_decoded, >=, 60);
  g_assert_cmpint (gdk_paintable_get_intrinsic_width (wz_call_get_remote_paintable (f->doctor)),
                   ==, 640);
  g_assert_cmpint (gdk_paintable_get_intrinsic_height (wz_call_get_local_paintable (f->doctor)),
                   ==, 240);

  /* Sound arrives, and the stats say so within two seconds. */
  WAIT_FOR (wz_call_get_stats (f->patient)->remote_audio_level_db > -40 &&
            wz_call_get_stats (f->patient)->bitrate_in_kbps > 0, 5);
  g_assert_cmpfloat (wz_call_get_stats (f->patient)->remote_audio_level_db, >, -40);
  g_assert_cmpfloat (wz_call_get_stats (f->patient)->bitrate_in_kbps, >, 20);
  g_assert_cmpint (wz_call_get_quality (f->patient), !=, WZ_CALL_QUALITY_UNKNOWN);

  /* Muting the doctor silences the doctor at the patient's end, and only there. The level is the
   * loudest of the last statistics period (one second), so silence shows within two periods. */
  wz_call_set_muted (f->doctor, TRUE);
  wait_ms (2500);
  level = wz_call_get_stats (f->patient)->remote_audio_level_db;
  g_assert_cmpfloat (level, <, -80);
  g_assert_cmpfloat (wz_call_get_stats (f->doctor)->remote_audio_level_db, >, -40);
  wz_call_set_muted (f->doctor, FALSE);
  WAIT_FOR (wz_call_get_stats (f->patient)->remote_audio_level_db > -40, 5);
  g_assert_cmpfloat (wz_call_get_stats (f->patient)->remote_audio_level_db, >, -40);

  /* Hanging up ends both sides with who and why. */
  wz_call_hangup (f->patient, "ended");
  g_assert_cmpint (wz_call_get_state (f->patient), ==, WZ_CALL_ENDED);
  g_assert_cmpstr (wz_call_get_ended_by (f->patient), ==, "local");
  WAIT_FOR (wz_call_get_state (f->doctor) == WZ_CALL_ENDED, 5);
  g_assert_cmpint (wz_call_get_state (f->doctor), ==, WZ_CALL_ENDED);
  g_assert_cmpstr (wz_call_get_ended_by (f->doctor), ==, "remote");
  g_assert_cmpstr (wz_call_get_end_reason (f->doctor), ==, "ended");
  g_assert_cmpuint (wz_call_get_duration (f->doctor), >=, 2);
  g_assert_null (wz_call_get_pipeline (f->doctor));
}

static void
test_decline (Fixture       *f,
              gconstpointer  data)
{
  wz_call_start (f->doctor);
  WAIT_FOR (f->patient != NULL && wz_call_get_state (f->patient) == WZ_CALL_RINGING, 10);
  g_assert_nonnull (f->patient);
  wz_call_hangup (f->patient, NULL);
  g_assert_cmpstr (wz_call_get_end_reason (f->patient), ==, "declined");
  WAIT_FOR (wz_call_get_state (f->doctor) == WZ_CALL_ENDED, 5);
  g_assert_cmpint (wz_call_get_state (f->doctor), ==, WZ_CALL_ENDED);
  g_assert_cmpstr (wz_call_get_end_reason (f->doctor), ==, "declined");
  g_assert_nonnull (wz_call_get_problem (f->doctor));
  g_assert_cmpuint (wz_call_get_duration (f->doctor), ==, 0);
}

/* The peer restarts (a reload): its new offer under the same call id replaces the media
 * session and the call carries on without ringing again. */
static void
test_rejoin (Fixture       *f,
             gconstpointer  data)
{
  guint64 before;

  connect_call (f);
  WAIT_FOR (wz_call_get_stats (f->doctor)->video_frames_decoded >= 30, 40);

  /* The patient's program is gone without a word; a fresh one calls back into the same call. */
  g_clear_object (&f->patient);
  g_ptr_array_set_size (f->to_patient, 0);
  f->patient = wz_call_new (ENCOUNTER, wz_call_get_id (f->doctor));
  g_signal_connect (f->patient, "signal-out", G_CALLBACK (patient_out), f);
  wz_call_set_sources (f->patient,
                       gst_parse_bin_from_description ("videotestsrc is-live=true", TRUE, NULL),
                       gst_parse_bin_from_description ("audiotestsrc is-live=true", TRUE, NULL));
  before = wz_call_get_stats (f->doctor)->video_frames_decoded;
  wz_call_start (f->patient);

  WAIT_FOR (wz_call_get_state (f->patient) == WZ_CALL_CONNECTED &&
            wz_call_get_stats (f->doctor)->video_frames_decoded > before + 30 &&
            wz_call_get_stats (f->patient)->video_frames_decoded > 30, 60);
  g_assert_cmpint (wz_call_get_state (f->patient), ==, WZ_CALL_CONNECTED);
  g_assert_cmpint (wz_call_get_state (f->doctor), ==, WZ_CALL_CONNECTED);
  g_assert_cmpuint (wz_call_get_stats (f->doctor)->video_frames_decoded, >, before + 30);
  g_assert_cmpuint (wz_call_get_stats (f->patient)->video_frames_decoded, >, 30);
}

/* Garbage where an SDP belongs ends that attempt only: the call fails with a reason, the
 * other side is told, and a new call on the same objects' library works. */
static void
test_garbage_sdp (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(JsonObject) frame = json_object_new ();
  g_autoptr(GError) error = NULL;

  wz_call_start (f->doctor);
  WAIT_FOR (f->to_patient->len > 0, 5);

  json_object_set_string_member (frame, "type", "answer");
  json_object_set_string_member (frame, "call", wz_call_get_id (f->doctor));
  json_object_set_string_member (frame, "encounter", ENCOUNTER);
  json_object_set_string_member (frame, "from", PATIENT);
  json_object_set_string_member (frame, "sdp", "v=0\r\nthis is not a session\r\n\x01\x02");
  g_assert_false (wz_call_handle_signal (f->doctor, frame, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_cmpint (wz_call_get_state (f->doctor), ==, WZ_CALL_FAILED);
  g_assert_nonnull (wz_call_get_problem (f->doctor));
  g_assert_cmpstr (json_object_get_string_member (g_ptr_array_index (f->to_patient,
                                                                      f->to_patient->len - 1),
                                                  "type"), ==, "hangup");

  /* The library goes on: a new call connects. */
  g_clear_object (&f->doctor);
  g_clear_object (&f->patient);
  g_ptr_array_set_size (f->to_patient, 0);
  g_ptr_array_set_size (f->to_doctor, 0);
  f->doctor = wz_call_new (ENCOUNTER, NULL);
  g_signal_connect (f->doctor, "signal-out", G_CALLBACK (doctor_out), f);
  wz_call_set_sources (f->doctor,
                       gst_parse_bin_from_description ("videotestsrc is-live=true", TRUE, NULL),
                       gst_parse_bin_from_description ("audiotestsrc is-live=true", TRUE, NULL));
  connect_call (f);
}

/* Frames for another call, another encounter, from a third party, or not frames at all are
 * refused with an error and change nothing. */
static void
test_stray_frames (Fixture       *f,
                   gconstpointer  data)
{
  static const char *const bad[] = {
    "{\"type\":\"ice\",\"call\":\"not-this-call\",\"candidate\":\"candidate:1 1 udp 1 1.2.3.4 9 typ host\",\"sdpMLineIndex\":0}",
    "{\"type\":\"ice\",\"call\":\"%s\",\"encounter\":\"Encounter/other\",\"candidate\":\"candidate:1 1 udp 1 1.2.3.4 9 typ host\"}",
    "{\"type\":\"ice\",\"call\":\"%s\",\"candidate\":\"<script>\",\"sdpMLineIndex\":0}",
    "{\"type\":\"ice\",\"call\":\"%s\",\"candidate\":\"candidate:1 1 udp 1 1.2.3.4 9 typ host\",\"sdpMLineIndex\":99}",
    "{\"type\":\"hangup\",\"call\":\"%s\",\"from\":\"Patient/intruder\"}",
    "{\"call\":\"%s\"}",
    "{\"type\":\"mystery\",\"call\":\"%s\"}",
  };

  connect_call (f);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GString) text_ = g_string_new (bad[i]);
      const char *text;

      g_string_replace (text_, "%s", wz_call_get_id (f->doctor), 0);
      text = text_->str;
      g_autoptr(JsonParser) parser = json_parser_new ();
      g_autoptr(GError) error = NULL;
      JsonObject *frame;

      g_assert_true (json_parser_load_from_data (parser, text, -1, NULL));
      frame = json_node_get_object (json_parser_get_root (parser));
      if (!json_object_has_member (frame, "from"))
        json_object_set_string_member (frame, "from", PATIENT);
      g_test_message ("stray frame %u: %s", i, text);
      g_assert_false (wz_call_handle_signal (f->doctor, frame, &error));
      g_assert_nonnull (error);
      g_assert_cmpint (wz_call_get_state (f->doctor), ==, WZ_CALL_CONNECTED);
    }

  /* Media still flows on the doctor's side. */
  {
    guint64 before = wz_call_get_stats (f->doctor)->video_frames_decoded;

    WAIT_FOR (wz_call_get_stats (f->doctor)->video_frames_decoded > before + 30, 40);
    g_assert_cmpuint (wz_call_get_stats (f->doctor)->video_frames_decoded, >, before + 30);
  }
}

/* No path at all (every candidate lost): the call fails with the TURN hint, not forever. */
static void
test_no_path (Fixture       *f,
              gconstpointer  data)
{
  if (!g_test_slow ())
    {
      g_test_skip ("waits for the connect timeout; run with -m slow");
      return;
    }
  f->drop_ice = TRUE;
  wz_call_start (f->doctor);
  WAIT_FOR (f->patient != NULL && wz_call_get_state (f->patient) == WZ_CALL_RINGING, 10);
  wz_call_accept (f->patient);
  WAIT_FOR (wz_call_get_state (f->doctor) == WZ_CALL_FAILED, 60);
  g_assert_cmpint (wz_call_get_state (f->doctor), ==, WZ_CALL_FAILED);
  g_assert_nonnull (strstr (wz_call_get_problem (f->doctor), "TURN"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  gst_init (&argc, &argv);
  g_setenv ("WZ_CALL_AUDIO_SINK", "fakesink", TRUE);

  g_test_add ("/call/app-to-app", Fixture, NULL, fixture_set_up, test_app_to_app,
              fixture_tear_down);
  g_test_add ("/call/decline", Fixture, NULL, fixture_set_up, test_decline, fixture_tear_down);
  g_test_add ("/call/rejoin", Fixture, NULL, fixture_set_up, test_rejoin, fixture_tear_down);
  g_test_add ("/call/garbage-sdp", Fixture, NULL, fixture_set_up, test_garbage_sdp,
              fixture_tear_down);
  g_test_add ("/call/stray-frames", Fixture, NULL, fixture_set_up, test_stray_frames,
              fixture_tear_down);
  g_test_add ("/call/no-path", Fixture, NULL, fixture_set_up, test_no_path, fixture_tear_down);

  return g_test_run ();
}
