/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wenzhen-sim-patient"

#include "config.h"

#include "wz-sim-call.h"

#include <libsoup/soup.h>
#include <string.h>

/* How long the simulated patient lets a call ring before answering, as a person would. */
#define RING_MS 1500
#define CONSENT_SYSTEM "https://wenzhen.example/fhir/Consent/video-visit"

struct _WzSimCall
{
  GObject       parent_instance;

  WzSimPatient *patient;   /* weak: it owns us in the program */
  WzCall       *call;
  guint         answer_id;
  gboolean      consented;
  GCancellable *cancellable;
};

G_DEFINE_FINAL_TYPE (WzSimCall, wz_sim_call, G_TYPE_OBJECT)

static gboolean
is_live (WzCall *call)
{
  WzCallState state = call != NULL ? wz_call_get_state (call) : WZ_CALL_ENDED;

  return state != WZ_CALL_ENDED && state != WZ_CALL_FAILED;
}

static GstElement *
picture (void)
{
  g_autoptr(GError) error = NULL;
  GstElement *bin;

  /* timeoverlay comes with the pango plugin; without it the ball alone still moves. */
  bin = gst_parse_bin_from_description (
    "videotestsrc is-live=true pattern=ball background-color=0xff204a87 foreground-color=0xfff0f0f0 "
    "! video/x-raw,width=640,height=480,framerate=30/1 "
    "! timeoverlay halignment=left valignment=bottom font-desc=\"Sans 24\"",
    TRUE, &error);
  if (bin == NULL)
    {
      g_debug ("No time overlay (%s); the ball alone", error->message);
      g_clear_error (&error);
      bin = gst_parse_bin_from_description ("videotestsrc is-live=true pattern=ball", TRUE, &error);
    }
  return bin;
}

static GstElement *
tone (void)
{
  return gst_parse_bin_from_description (
    "audiotestsrc is-live=true samplesperbuffer=480 wave=sine freq=440 volume=0.15", TRUE, NULL);
}

static void
on_signal_out (WzCall     *call,
               JsonObject *frame,
               WzSimCall  *self)
{
  if (self->patient != NULL)
    wz_sim_patient_send_frame (self->patient, json_object_get_string_member (frame, "type"),
                               frame);
}

static void
on_state (WzCall     *call,
          GParamSpec *pspec,
          WzSimCall  *self)
{
  g_autoptr(GEnumClass) states = g_type_class_ref (WZ_TYPE_CALL_STATE);

  g_message ("Call %s: %s%s%s", wz_call_get_id (call),
             g_enum_get_value (states, wz_call_get_state (call))->value_nick,
             wz_call_get_problem (call) ? " — " : "",
             wz_call_get_problem (call) ? wz_call_get_problem (call) : "");
}

static gboolean
on_answer_due (gpointer user_data)
{
  WzSimCall *self = user_data;

  self->answer_id = 0;
  if (self->call != NULL && wz_call_get_state (self->call) == WZ_CALL_RINGING)
    wz_call_accept (self->call);
  return G_SOURCE_REMOVE;
}

static void
on_consent_stored (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(WzSimCall) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (source), result,
                                                             &error);
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);

  if (body != NULL && SOUP_STATUS_IS_SUCCESSFUL (soup_message_get_status (msg)))
    self->consented = TRUE;
  else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_message ("The video-visit consent was not stored (%u%s%s); answering anyway",
               soup_message_get_status (msg), error ? ": " : "", error ? error->message : "");
  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) && self->answer_id == 0)
    self->answer_id = g_timeout_add (RING_MS, on_answer_due, self);
}

/* The Consent the patient page records before its camera starts. */
static void
store_consent (WzSimCall *self)
{
  const char *patient = wz_sim_patient_get_patient (self->patient);
  const char *encounter = wz_sim_patient_get_encounter (self->patient);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *when = g_date_time_format_iso8601 (now);
  g_autofree char *url = g_strconcat (wz_sim_patient_get_server_url (self->patient),
                                      "/fhir/Consent", NULL);
  g_autofree char *bearer = g_strconcat ("Bearer ", wz_sim_patient_get_token (self->patient), NULL);
  g_autofree char *condition = NULL;
  g_autofree char *text = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(SoupMessage) msg = NULL;
  const char *encounter_id = encounter ? strchr (encounter, '/') + 1 : "";
  gsize length;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "resourceType");
  json_builder_add_string_value (b, "Consent");
  json_builder_set_member_name (b, "identifier");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "system");
  json_builder_add_string_value (b, CONSENT_SYSTEM);
  json_builder_set_member_name (b, "value");
  json_builder_add_string_value (b, encounter_id);
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "status");
  json_builder_add_string_value (b, "active");
  json_builder_set_member_name (b, "scope");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "coding");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "system");
  json_builder_add_string_value (b, "http://terminology.hl7.org/CodeSystem/consentscope");
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, "treatment");
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "category");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "coding");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "system");
  json_builder_add_string_value (b, "http://loinc.org");
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, "59284-0");
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "text");
  json_builder_add_string_value (b, "视频问诊知情同意 Consent to a video visit");
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "patient");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "reference");
  json_builder_add_string_value (b, patient);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "dateTime");
  json_builder_add_string_value (b, when);
  json_builder_set_member_name (b, "performer");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "reference");
  json_builder_add_string_value (b, patient);
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "provision");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "permit");
  json_builder_set_member_name (b, "period");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "start");
  json_builder_add_string_value (b, when);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "data");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "meaning");
  json_builder_add_string_value (b, "related");
  json_builder_set_member_name (b, "reference");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "reference");
  json_builder_add_string_value (b, encounter);
  json_builder_end_object (b);
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_end_object (b);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  text = json_to_string (root, FALSE);
  length = strlen (text);
  bytes = g_bytes_new_take (g_steal_pointer (&text), length);
  msg = soup_message_new (SOUP_METHOD_POST, url);
  condition = g_strdup_printf ("identifier=%s|%s", CONSENT_SYSTEM, encounter_id);
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", bearer);
  soup_message_headers_replace (soup_message_get_request_headers (msg), "If-None-Exist", condition);
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Accept",
                                "application/fhir+json");
  soup_message_set_request_body_from_bytes (msg, "application/fhir+json", bytes);
  soup_session_send_and_read_async (wz_sim_patient_get_session (self->patient), msg,
                                    G_PRIORITY_DEFAULT, self->cancellable, on_consent_stored,
                                    g_object_ref (self));
}

static void
on_offer (WzSimPatient *patient,
          JsonObject   *frame,
          WzSimCall    *self)
{
  const char *call_id = json_object_get_string_member_with_default (frame, "call", NULL);
  g_autoptr(GError) error = NULL;

  if (call_id == NULL)
    return;

  if (self->call != NULL && g_strcmp0 (wz_call_get_id (self->call), call_id) == 0)
    {
      /* A reconnect of the call in progress. */
      if (!wz_call_handle_signal (self->call, frame, &error))
        g_debug ("Offer refused: %s", error->message);
      return;
    }

  if (is_live (self->call))
    {
      g_autoptr(JsonObject) busy = json_object_new ();

      json_object_set_string_member (busy, "call", call_id);
      json_object_set_string_member (busy, "reason", "busy");
      wz_sim_patient_send_frame (patient, "hangup", busy);
      return;
    }

  if (self->call != NULL)
    g_signal_handlers_disconnect_by_data (self->call, self);
  g_clear_object (&self->call);
  g_clear_handle_id (&self->answer_id, g_source_remove);

  self->call = wz_call_new (wz_sim_patient_get_encounter (patient), call_id);
  wz_call_set_sources (self->call, picture (), tone ());
  g_signal_connect (self->call, "signal-out", G_CALLBACK (on_signal_out), self);
  g_signal_connect (self->call, "notify::state", G_CALLBACK (on_state), self);
  if (!wz_call_handle_signal (self->call, frame, &error))
    {
      g_message ("Cannot take the call: %s", error->message);
      return;
    }

  if (self->consented)
    self->answer_id = g_timeout_add (RING_MS, on_answer_due, self);
  else
    store_consent (self);
}

static void
on_other (WzSimPatient *patient,
          JsonObject   *frame,
          WzSimCall    *self)
{
  g_autoptr(GError) error = NULL;

  if (self->call != NULL && !wz_call_handle_signal (self->call, frame, &error))
    g_debug ("Call frame refused: %s", error->message);
}

WzCall *
wz_sim_call_get_call (WzSimCall *self)
{
  g_return_val_if_fail (WZ_IS_SIM_CALL (self), NULL);

  return self->call;
}

static void
wz_sim_call_dispose (GObject *object)
{
  WzSimCall *self = WZ_SIM_CALL (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->answer_id, g_source_remove);
  if (self->call != NULL)
    {
      if (is_live (self->call))
        wz_call_hangup (self->call, "ended");
      g_signal_handlers_disconnect_by_data (self->call, self);
      g_clear_object (&self->call);
    }
  if (self->patient != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->patient, self);
      g_object_remove_weak_pointer (G_OBJECT (self->patient), (gpointer *) &self->patient);
      self->patient = NULL;
    }
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (wz_sim_call_parent_class)->dispose (object);
}

static void
wz_sim_call_class_init (WzSimCallClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = wz_sim_call_dispose;
}

static void
wz_sim_call_init (WzSimCall *self)
{
  self->cancellable = g_cancellable_new ();
}

WzSimCall *
wz_sim_call_new (WzSimPatient *patient)
{
  WzSimCall *self;

  g_return_val_if_fail (WZ_IS_SIM_PATIENT (patient), NULL);

  /* The demo runs on the doctor's own computer: playing the doctor's voice back would echo. */
  if (g_getenv ("WZ_CALL_AUDIO_SINK") == NULL)
    g_setenv ("WZ_CALL_AUDIO_SINK", "fakesink", TRUE);

  self = g_object_new (WZ_TYPE_SIM_CALL, NULL);
  self->patient = patient;
  g_object_add_weak_pointer (G_OBJECT (patient), (gpointer *) &self->patient);
  g_signal_connect (patient, "message::offer", G_CALLBACK (on_offer), self);
  g_signal_connect (patient, "message::answer", G_CALLBACK (on_other), self);
  g_signal_connect (patient, "message::ice", G_CALLBACK (on_other), self);
  g_signal_connect (patient, "message::hangup", G_CALLBACK (on_other), self);
  return self;
}
