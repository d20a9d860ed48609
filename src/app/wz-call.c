/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-call"

#include "config.h"

#include "wz-call.h"

#include <glib/gi18n.h>
#include <nice/agent.h>
#include <nice/interfaces.h>
#include <string.h>

#define GST_USE_UNSTABLE_API
#include <gst/sdp/sdp.h>
#include <gst/video/video.h>
#include <gst/webrtc/webrtc.h>

#include "wz-call-paintable.h"
#include "wz-call-stats.h"

/* One video call over webrtcbin: VP8 + Opus, DTLS-SRTP, max-bundle, trickle ICE through the
 * "signal-out" signal. A "media session" is one webrtcbin with its pipeline; a reconnect or a
 * peer that re-joins gets a fresh one under the same call id, and callbacks of an old session
 * are dropped by its number. webrtcbin calls back on its own threads; everything that touches
 * the call hops to the main context first. */

#define VIDEO_WIDTH 640
#define VIDEO_HEIGHT 480
#define VIDEO_FPS 30
#define DEFAULT_VIDEO_PT 96
#define DEFAULT_AUDIO_PT 97
/* Time allowed to reach the other side before the call is given up (no network path). */
#define CONNECT_TIMEOUT_S 30
/* Time a dropped path may take to come back before the call fails for good. */
#define RECONNECT_TIMEOUT_S 30
/* A short drop often heals by itself; a new session is made only after this. */
#define RECONNECT_GRACE_MS 2500
/* Nothing received (not a frame, not an audio packet: a muted or camera-off peer still sends)
 * for this long means the path is gone. ICE alone does not tell: it keeps the pair "connected"
 * when packets simply stop arriving. */
#define MEDIA_SILENCE_US (4 * G_USEC_PER_SEC)

struct _WzCall
{
  GObject           parent_instance;

  GMainContext     *context;
  char             *id;
  char             *encounter;
  char             *peer;

  char             *stun;
  char             *turn;
  char             *camera_id;
  char             *microphone_id;
  GstElement       *video_override;
  GstElement       *audio_override;

  /* The media session. */
  guint             session;
  GstElement       *pipeline;
  GstElement       *webrtc;
  GstElement       *volume;
  guint             bus_watch;
  gboolean          offer_made;
  gboolean          we_offered;   /* the pending negotiation of this session is ours */
  gboolean          camera_fallback;
  char             *camera_name; /* the element that is the camera, to tell its errors apart */

  WzCallState       state;
  gboolean          is_caller;
  gboolean          accepted;
  gboolean          muted;
  gboolean          camera_off;
  char             *problem;
  gint64            started_at;
  gint64            ended_at;
  gint64            connected_mono;
  char             *ended_by;
  char             *end_reason;

  GstSDPMessage    *pending_offer;  /* RINGING, or waiting for a session */
  char             *remote_session;   /* o= session id of the peer's connection */
  GPtrArray        *pending_candidates; /* IceCandidate, until a session exists */

  WzCallStats       stats;
  WzCallStatsTotals totals;
  guint             stats_id;
  guint             reconnect_id;
  guint             give_up_id;
  gint              received_seen;   /* frames + audio packets at the last look */
  gint64            received_at;     /* monotonic µs when that count last grew */
  gboolean          media_flowing;   /* it grew since the call (re)connected */

  WzCallPaintable  *remote;
  WzCallPaintable  *local;

  /* Counted on streaming threads. */
  gint              frames_decoded;
  gint              frames_sent;
  gint              audio_packets;
  gint              level_centi_db;  /* loudest remote audio RMS ×100 since the last stats */
};

G_DEFINE_FINAL_TYPE (WzCall, wz_call, G_TYPE_OBJECT)

G_DEFINE_ENUM_TYPE (WzCallState, wz_call_state,
  G_DEFINE_ENUM_VALUE (WZ_CALL_IDLE, "idle"),
  G_DEFINE_ENUM_VALUE (WZ_CALL_RINGING, "ringing"),
  G_DEFINE_ENUM_VALUE (WZ_CALL_OUTGOING, "outgoing"),
  G_DEFINE_ENUM_VALUE (WZ_CALL_CONNECTING, "connecting"),
  G_DEFINE_ENUM_VALUE (WZ_CALL_CONNECTED, "connected"),
  G_DEFINE_ENUM_VALUE (WZ_CALL_RECONNECTING, "reconnecting"),
  G_DEFINE_ENUM_VALUE (WZ_CALL_ENDED, "ended"),
  G_DEFINE_ENUM_VALUE (WZ_CALL_FAILED, "failed"))

G_DEFINE_ENUM_TYPE (WzCallQuality, wz_call_quality,
  G_DEFINE_ENUM_VALUE (WZ_CALL_QUALITY_UNKNOWN, "unknown"),
  G_DEFINE_ENUM_VALUE (WZ_CALL_QUALITY_GOOD, "good"),
  G_DEFINE_ENUM_VALUE (WZ_CALL_QUALITY_FAIR, "fair"),
  G_DEFINE_ENUM_VALUE (WZ_CALL_QUALITY_POOR, "poor"))

enum {
  PROP_0,
  PROP_STATE,
  PROP_MUTED,
  PROP_CAMERA_OFF,
  PROP_PROBLEM,
  PROP_STARTED_AT,
  PROP_ENDED_AT,
  PROP_STATS,
  PROP_QUALITY,
  PROP_PEER,
  N_PROPS
};

enum {
  SIGNAL_OUT,
  REMOTE_FRAME,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

typedef struct
{
  guint  mline;
  char  *candidate;
} IceCandidate;

static void
ice_candidate_free (gpointer data)
{
  IceCandidate *c = data;

  g_free (c->candidate);
  g_free (c);
}

static void build_session     (WzCall *self, const GstSDPMessage *offer);
static void stop_session      (WzCall *self);
static void answer_offer      (WzCall *self, const GstSDPMessage *offer);
static void set_state         (WzCall *self, WzCallState state);

/* ── Hops from webrtcbin's threads to the main context ─────────────────────────────────── */

/* What a webrtcbin callback knows of its call: a weak reference and the session it was made
 * for. Shared (atomic reference count) by every signal connection and promise of a session. */
typedef struct
{
  GWeakRef      call;
  GMainContext *context;
  guint         session;
} Link;

static void
link_clear (gpointer data)
{
  Link *link = data;

  g_weak_ref_clear (&link->call);
  g_main_context_unref (link->context);
}

static Link *
link_new (WzCall *self)
{
  Link *link = g_atomic_rc_box_new0 (Link);

  g_weak_ref_init (&link->call, self);
  link->context = g_main_context_ref (self->context);
  link->session = self->session;
  return link;
}

static void
link_unref (gpointer data)
{
  g_atomic_rc_box_release_full (data, link_clear);
}

static void
link_closure_notify (gpointer  data,
                     GClosure *closure)
{
  link_unref (data);
}

typedef void (*HopFunc) (WzCall *self, gpointer data);

typedef struct
{
  Link           *link;
  HopFunc         func;
  gpointer        data;
  GDestroyNotify  free_data;
} Hop;

static gboolean
hop_run (gpointer user_data)
{
  Hop *hop = user_data;
  g_autoptr(WzCall) self = g_weak_ref_get (&hop->link->call);

  /* A call gone, or a session replaced since: the news is stale. */
  if (self != NULL && self->session == hop->link->session && self->pipeline != NULL)
    hop->func (self, hop->data);
  return G_SOURCE_REMOVE;
}

static void
hop_free (gpointer user_data)
{
  Hop *hop = user_data;

  if (hop->free_data != NULL && hop->data != NULL)
    hop->free_data (hop->data);
  link_unref (hop->link);
  g_free (hop);
}

static void
hop (Link          *link,
     HopFunc        func,
     gpointer       data,
     GDestroyNotify free_data)
{
  Hop *h = g_new0 (Hop, 1);

  h->link = g_atomic_rc_box_acquire (link);
  h->func = func;
  h->data = data;
  h->free_data = free_data;
  g_main_context_invoke_full (link->context, G_PRIORITY_DEFAULT, hop_run, h, hop_free);
}

/* ── Outgoing frames ───────────────────────────────────────────────────────────────────── */

static JsonObject *
frame_new (WzCall     *self,
           const char *type)
{
  JsonObject *frame = json_object_new ();

  json_object_set_string_member (frame, "type", type);
  json_object_set_string_member (frame, "encounter", self->encounter);
  json_object_set_string_member (frame, "call", self->id);
  return frame;
}

static void
send_frame (WzCall     *self,
            JsonObject *frame)
{
  g_signal_emit (self, signals[SIGNAL_OUT], 0, frame);
  json_object_unref (frame);
}

static void
send_description (WzCall                    *self,
                  const char                *type,
                  GstWebRTCSessionDescription *desc)
{
  JsonObject *frame = frame_new (self, type);
  g_autofree char *text = gst_sdp_message_as_text (desc->sdp);
  g_autofree char *offer_id = NULL;

  json_object_set_string_member (frame, "sdp", text);
  /* Which of our offers this is: the answer names it back, so an answer to an offer that was
   * held up while the network was down is not taken for one to the newest. */
  if (desc->type == GST_WEBRTC_SDP_TYPE_OFFER)
    {
      offer_id = g_strdup_printf ("%u", self->session);
      json_object_set_string_member (frame, "offerId", offer_id);
    }
  send_frame (self, frame);
}

static void
send_hangup (WzCall     *self,
             const char *reason)
{
  JsonObject *frame = frame_new (self, "hangup");

  json_object_set_string_member (frame, "reason", reason);
  send_frame (self, frame);
}

/* ── State ─────────────────────────────────────────────────────────────────────────────── */

static void
set_problem (WzCall     *self,
             const char *problem)
{
  if (g_strcmp0 (self->problem, problem) == 0)
    return;
  g_free (self->problem);
  self->problem = g_strdup (problem);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROBLEM]);
}

static gboolean
is_over (WzCall *self)
{
  return self->state == WZ_CALL_ENDED || self->state == WZ_CALL_FAILED;
}

static void
set_state (WzCall      *self,
           WzCallState  state)
{
  if (self->state == state)
    return;

  g_debug ("Call %s: %s → %s", self->id,
           g_enum_get_value (g_type_class_peek (WZ_TYPE_CALL_STATE), self->state)->value_nick,
           g_enum_get_value (g_type_class_peek (WZ_TYPE_CALL_STATE), state)->value_nick);
  self->state = state;

  if (state == WZ_CALL_CONNECTED)
    {
      g_clear_handle_id (&self->give_up_id, g_source_remove);
      g_clear_handle_id (&self->reconnect_id, g_source_remove);
      self->connected_mono = g_get_monotonic_time ();
      if (self->started_at == 0)
        {
          self->started_at = g_get_real_time ();
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STARTED_AT]);
        }
      /* A problem with the path is over once media flows; one with the camera is not. */
      if (!self->camera_fallback)
        set_problem (self, NULL);
    }

  if (state == WZ_CALL_ENDED || state == WZ_CALL_FAILED)
    {
      g_clear_handle_id (&self->give_up_id, g_source_remove);
      g_clear_handle_id (&self->reconnect_id, g_source_remove);
      self->ended_at = g_get_real_time ();
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ENDED_AT]);
    }

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

static void
finish (WzCall      *self,
        WzCallState  state,
        const char  *ended_by,
        const char  *reason)
{
  if (is_over (self))
    return;

  g_free (self->ended_by);
  self->ended_by = g_strdup (ended_by);
  g_free (self->end_reason);
  self->end_reason = g_strdup (reason);
  g_clear_pointer (&self->pending_offer, gst_sdp_message_free);
  g_ptr_array_set_size (self->pending_candidates, 0);

  stop_session (self);
  wz_call_paintable_clear (self->remote);
  wz_call_paintable_clear (self->local);
  set_state (self, state);
}

static void
fail (WzCall     *self,
      const char *problem,
      gboolean    tell_peer)
{
  if (is_over (self))
    return;

  g_message ("Call %s failed: %s", self->id, problem);
  set_problem (self, problem);
  if (tell_peer)
    send_hangup (self, "failed");
  finish (self, WZ_CALL_FAILED, NULL, "failed");
}

static const char *
no_path_problem (void)
{
  return _("No network path to the other side could be found. If either side is behind a "
           "strict firewall, set a TURN server in Preferences.");
}

static gboolean
on_give_up (gpointer user_data)
{
  WzCall *self = user_data;

  self->give_up_id = 0;
  if (self->state == WZ_CALL_OUTGOING)
    {
      set_problem (self, _("There was no answer."));
      send_hangup (self, "ended");
      finish (self, WZ_CALL_ENDED, "local", "no-answer");
    }
  else if (self->state == WZ_CALL_RECONNECTING && self->started_at != 0)
    fail (self, _("The connection was lost and did not come back, so the call ended. When the "
                  "network works again, call again."), TRUE);
  else
    fail (self, no_path_problem (), TRUE);
  return G_SOURCE_REMOVE;
}

static void
arm_give_up (WzCall *self,
             guint   seconds)
{
  g_clear_handle_id (&self->give_up_id, g_source_remove);
  self->give_up_id = g_timeout_add_seconds (seconds, on_give_up, self);
}

/* ── Sources ───────────────────────────────────────────────────────────────────────────── */

char *
wz_call_device_get_id (GstDevice *device)
{
  static const char *const keys[] = {
    "api.v4l2.path", "device.path", "node.name", "object.path", "udev.id", NULL,
  };
  g_autoptr(GstStructure) props = NULL;

  g_return_val_if_fail (GST_IS_DEVICE (device), NULL);

  props = gst_device_get_properties (device);
  for (guint i = 0; props != NULL && keys[i] != NULL; i++)
    {
      const char *value = gst_structure_get_string (props, keys[i]);

      if (value != NULL && *value != '\0')
        return g_strdup (value);
    }
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (device), "internal-name") != NULL)
    {
      char *name = NULL;

      g_object_get (device, "internal-name", &name, NULL);
      if (name != NULL && *name != '\0')
        return name;
      g_free (name);
    }
  return gst_device_get_display_name (device);
}

/* The device of CLASSES ("Video/Source") with ID, or the first one when ID is empty; NULL
 * when there is none. *ANY says whether there is any device of that kind at all. */
static GstDevice *
find_device (const char *classes,
             const char *id,
             gboolean   *any)
{
  g_autoptr(GstDeviceMonitor) monitor = gst_device_monitor_new ();
  GList *devices;
  GstDevice *found = NULL;

  gst_device_monitor_add_filter (monitor, classes, NULL);
  devices = gst_device_monitor_get_devices (monitor);
  *any = devices != NULL;

  for (GList *l = devices; l != NULL && found == NULL; l = l->next)
    {
      g_autofree char *device_id = wz_call_device_get_id (l->data);

      if (id == NULL || *id == '\0' || g_strcmp0 (device_id, id) == 0)
        found = gst_object_ref (l->data);
    }

  g_list_free_full (devices, gst_object_unref);
  return found;
}

static GstElement *
test_pattern (void)
{
  GstElement *src = gst_element_factory_make ("videotestsrc", NULL);

  g_object_set (src, "is-live", TRUE, NULL);
  gst_util_set_object_arg (G_OBJECT (src), "pattern", "ball");
  return src;
}

static GstElement *
make_camera (WzCall *self)
{
  g_autoptr(GstDevice) device = NULL;
  GstElement *camera = NULL;
  gboolean any = FALSE;

  self->camera_fallback = FALSE;
  device = find_device ("Video/Source", self->camera_id, &any);
  if (device != NULL)
    camera = gst_device_create_element (device, NULL);

  if (camera != NULL)
    {
      /* Opening the device now tells a busy or vanished camera from a working one, before
       * the other side is shown anything. */
      if (gst_element_set_state (camera, GST_STATE_READY) == GST_STATE_CHANGE_FAILURE)
        {
          g_autofree char *name = gst_device_get_display_name (device);
          g_autofree char *text =
            g_strdup_printf (_("The camera “%s” could not be opened; another program may be "
                               "using it. The other side sees a test picture instead."), name);

          gst_element_set_state (camera, GST_STATE_NULL);
          gst_object_unref (gst_object_ref_sink (camera));
          camera = NULL;
          self->camera_fallback = TRUE;
          set_problem (self, text);
        }
      else
        gst_element_set_state (camera, GST_STATE_NULL);
    }
  else if (self->camera_id != NULL && *self->camera_id != '\0' && any)
    {
      self->camera_fallback = TRUE;
      set_problem (self, _("The chosen camera is not connected. The other side sees a test "
                           "picture instead; choose another camera in Preferences."));
    }
  else
    {
      self->camera_fallback = TRUE;
      set_problem (self, _("No camera was found. The other side sees a test picture instead."));
    }

  if (camera == NULL)
    return test_pattern ();

  g_free (self->camera_name);
  self->camera_name = g_strdup (GST_OBJECT_NAME (camera));
  return camera;
}

static GstElement *
make_microphone (WzCall *self)
{
  g_autoptr(GstDevice) device = NULL;
  GstElement *mic = NULL;
  gboolean any = FALSE;

  device = find_device ("Audio/Source", self->microphone_id, &any);
  if (device != NULL)
    mic = gst_device_create_element (device, NULL);
  if (mic != NULL)
    {
      /* 10 ms buffers keep the audio steady, which lets the browser show video sooner. */
      if (g_object_class_find_property (G_OBJECT_GET_CLASS (mic), "buffer-time") != NULL)
        g_object_set (mic, "buffer-time", (gint64) 40000, "latency-time", (gint64) 10000, NULL);
      return mic;
    }

  /* No microphone: the call goes on in silence rather than failing. */
  mic = gst_element_factory_make ("audiotestsrc", NULL);
  g_object_set (mic, "is-live", TRUE, "samplesperbuffer", 480, NULL);
  gst_util_set_object_arg (G_OBJECT (mic), "wave", "silence");
  return mic;
}

/* ── Pipeline ──────────────────────────────────────────────────────────────────────────── */

static GstElement *
make (const char *factory,
      const char *name)
{
  GstElement *element = gst_element_factory_make (factory, name);

  if (element == NULL)
    g_critical ("GStreamer element “%s” is missing; install the GStreamer plugins", factory);
  return element;
}

static GstPadProbeReturn
count_buffer (GstPad          *pad,
              GstPadProbeInfo *info,
              gpointer         user_data)
{
  g_atomic_int_inc ((gint *) user_data);
  return GST_PAD_PROBE_OK;
}

static void
count_on (GstElement *element,
          const char *pad_name,
          gint       *counter)
{
  g_autoptr(GstPad) pad = gst_element_get_static_pad (element, pad_name);

  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, count_buffer, counter, NULL);
}

typedef struct
{
  GWeakRef call;
  GstVideoInfo info;
} CameraGate;

static void
camera_gate_free (gpointer data)
{
  CameraGate *gate = data;

  g_weak_ref_clear (&gate->call);
  g_free (gate);
}

/* With the camera off the other side gets black frames (the stream stays up, so turning it on
 * again is instant) and the self view none. */
static GstPadProbeReturn
camera_gate (GstPad          *pad,
             GstPadProbeInfo *info,
             gpointer         user_data)
{
  CameraGate *gate = user_data;
  g_autoptr(WzCall) self = g_weak_ref_get (&gate->call);
  GstBuffer *buffer;
  GstVideoFrame frame;

  if (self == NULL || !g_atomic_int_get (&self->camera_off))
    return GST_PAD_PROBE_OK;

  buffer = gst_buffer_make_writable (GST_PAD_PROBE_INFO_BUFFER (info));
  GST_PAD_PROBE_INFO_DATA (info) = buffer;
  if (gst_video_frame_map (&frame, &gate->info, buffer, GST_MAP_WRITE))
    {
      for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES (&frame); p++)
        {
          guint8 *data = GST_VIDEO_FRAME_PLANE_DATA (&frame, p);
          gsize size = (gsize) GST_VIDEO_FRAME_PLANE_STRIDE (&frame, p) *
                       GST_VIDEO_FRAME_COMP_HEIGHT (&frame, p);

          memset (data, p == 0 ? 16 : 128, size);
        }
      gst_video_frame_unmap (&frame);
    }
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
self_view_gate (GstPad          *pad,
                GstPadProbeInfo *info,
                gpointer         user_data)
{
  g_autoptr(WzCall) self = g_weak_ref_get (user_data);

  return self != NULL && g_atomic_int_get (&self->camera_off) ? GST_PAD_PROBE_DROP
                                                                : GST_PAD_PROBE_OK;
}

static void
weak_ref_free (gpointer data)
{
  g_weak_ref_clear (data);
  g_free (data);
}

static GstElement *
caps_filter (const char *caps_text)
{
  GstElement *filter = gst_element_factory_make ("capsfilter", NULL);
  g_autoptr(GstCaps) caps = gst_caps_from_string (caps_text);

  g_object_set (filter, "caps", caps, NULL);
  return filter;
}

/* One element of a chain: made from FACTORY, or a capsfilter on CAPS where FACTORY is NULL. */
typedef struct
{
  const char *factory;
  const char *caps;
} Stage;

/* Makes an element for each of the N_STAGES STAGES into OUT, adds them to BIN and links them
 * one after the other, after FIRST (already in BIN) when it is not NULL. FALSE, with nothing
 * added, when a plugin is missing; FALSE after a warning at the first pair that does not link
 * (everything added). */
static gboolean
add_chain (GstBin      *bin,
           GstElement  *first,
           const Stage *stages,
           guint        n_stages,
           GstElement **out)
{
  GstElement *prev = first;

  for (guint i = 0; i < n_stages; i++)
    {
      out[i] = stages[i].factory != NULL ? make (stages[i].factory, NULL)
                                         : caps_filter (stages[i].caps);
      if (out[i] == NULL)
        {
          for (guint j = 0; j < i; j++)
            gst_object_unref (gst_object_ref_sink (out[j]));
          return FALSE;
        }
    }
  for (guint i = 0; i < n_stages; i++)
    gst_bin_add (bin, out[i]);
  for (guint i = 0; i < n_stages; prev = out[i++])
    if (prev != NULL && !gst_element_link (prev, out[i]))
      {
        g_warning ("Could not link %s to %s", GST_OBJECT_NAME (prev), GST_OBJECT_NAME (out[i]));
        return FALSE;
      }
  return TRUE;
}

/* Camera → tee; tee → self view (a thumbnail: a quarter of the pixels at half the rate costs an
 * eighth); tee → VP8 → webrtcbin. */
enum { CAM_CONVERT, CAM_SCALE, CAM_RATE, CAM_RAW, CAM_TEE, N_CAM };
enum { SELF_QUEUE, SELF_RATE, SELF_SCALE, SELF_CONVERT, SELF_CAPS, SELF_SINK, N_SELF };
enum { VSEND_QUEUE, VSEND_ENC, VSEND_PAY, VSEND_RTP, N_VSEND };

static gboolean
add_video_send (WzCall *self,
                guint   pt)
{
  GstBin *bin = GST_BIN (self->pipeline);
  g_autofree char *rtp_caps = g_strdup_printf ("application/x-rtp,media=video,encoding-name=VP8,"
                                               "clock-rate=90000,payload=%u,"
                                               "rtcp-fb-nack-pli=(boolean)true", pt);
  const Stage camera_stages[N_CAM] = {
    [CAM_CONVERT] = { "videoconvert" },
    [CAM_SCALE] = { "videoscale" },
    [CAM_RATE] = { "videorate" },
    [CAM_RAW] = { NULL, "video/x-raw,format=I420,width=640,height=480,framerate=30/1,"
                        "pixel-aspect-ratio=1/1" },
    [CAM_TEE] = { "tee" },
  };
  const Stage self_stages[N_SELF] = {
    [SELF_QUEUE] = { "queue" },
    [SELF_RATE] = { "videorate" },
    [SELF_SCALE] = { "videoscale" },
    [SELF_CONVERT] = { "videoconvert" },
    [SELF_CAPS] = { NULL, "video/x-raw,format=RGBA,width=320,height=240,framerate=15/1" },
    [SELF_SINK] = { "appsink" },
  };
  const Stage send_stages[N_VSEND] = {
    [VSEND_QUEUE] = { "queue" },
    [VSEND_ENC] = { "vp8enc" },
    [VSEND_PAY] = { "rtpvp8pay" },
    [VSEND_RTP] = { NULL, rtp_caps },
  };
  GstElement *src, *cam[N_CAM], *view[N_SELF], *send[N_VSEND];
  g_autoptr(GstPad) gate_pad = NULL;
  g_autoptr(GstPad) local_pad = NULL;
  CameraGate *gate;
  GWeakRef *weak;

  /* An override is kept (and unlinked when its pipeline goes) so a new session reuses it. */
  if (self->video_override != NULL)
    {
      src = gst_object_ref (self->video_override);
      self->camera_fallback = FALSE;
    }
  else
    src = make_camera (self);

  gst_bin_add (bin, src);
  if (!add_chain (bin, src, camera_stages, N_CAM, cam) ||
      !add_chain (bin, cam[CAM_TEE], self_stages, N_SELF, view) ||
      !add_chain (bin, cam[CAM_TEE], send_stages, N_VSEND, send))
    return FALSE;

  g_object_set (cam[CAM_RATE], "drop-only", TRUE, NULL);
  g_object_set (view[SELF_RATE], "drop-only", TRUE, NULL);
  g_object_set (view[SELF_QUEUE], "max-size-buffers", 1, "max-size-bytes", 0, "max-size-time",
                (guint64) 0, NULL);
  gst_util_set_object_arg (G_OBJECT (view[SELF_QUEUE]), "leaky", "downstream");
  g_object_set (send[VSEND_QUEUE], "max-size-buffers", 3, "max-size-bytes", 0, "max-size-time",
                (guint64) 0, NULL);
  /* webrtcbin holds its sink pads until the answer is in (a patient may take a minute to
   * answer): frames meanwhile are dropped here instead of stalling the camera and self view. */
  gst_util_set_object_arg (G_OBJECT (send[VSEND_QUEUE]), "leaky", "downstream");
  g_object_set (view[SELF_SINK], "sync", FALSE, "max-buffers", 1, "drop", TRUE, NULL);
  /* Real time: no look-ahead, constant bit rate, a key frame only when the receiver asks. */
  g_object_set (send[VSEND_ENC], "deadline", (gint64) 1, "keyframe-max-dist", 2000,
                "cpu-used", 8, "lag-in-frames", 0, "target-bitrate", 1200000, "threads", 1,
                "buffer-size", 1000, "buffer-initial-size", 500, "buffer-optimal-size", 600,
                "max-quantizer", 56, NULL);
  gst_util_set_object_arg (G_OBJECT (send[VSEND_ENC]), "end-usage", "cbr");
  gst_util_set_object_arg (G_OBJECT (send[VSEND_ENC]), "error-resilient", "default");
  gst_util_set_object_arg (G_OBJECT (send[VSEND_PAY]), "picture-id-mode", "15-bit");

  if (!gst_element_link_pads (send[VSEND_RTP], "src", self->webrtc, "sink_%u"))
    return FALSE;

  gate = g_new0 (CameraGate, 1);
  g_weak_ref_init (&gate->call, self);
  gst_video_info_set_format (&gate->info, GST_VIDEO_FORMAT_I420, VIDEO_WIDTH, VIDEO_HEIGHT);
  gate_pad = gst_element_get_static_pad (send[VSEND_ENC], "sink");
  gst_pad_add_probe (gate_pad, GST_PAD_PROBE_TYPE_BUFFER, camera_gate, gate, camera_gate_free);
  local_pad = gst_element_get_static_pad (view[SELF_QUEUE], "src");
  weak = g_new0 (GWeakRef, 1);
  g_weak_ref_init (weak, self);
  gst_pad_add_probe (local_pad, GST_PAD_PROBE_TYPE_BUFFER, self_view_gate, weak, weak_ref_free);
  count_on (send[VSEND_ENC], "sink", &self->frames_sent);

  wz_call_paintable_attach (self->local, view[SELF_SINK]);
  return TRUE;
}

/* Microphone → Opus → webrtcbin. */
enum { ASEND_CONVERT, ASEND_RESAMPLE, ASEND_RAW, ASEND_VOLUME, ASEND_QUEUE, ASEND_ENC, ASEND_PAY,
       ASEND_RTP, N_ASEND };

static gboolean
add_audio_send (WzCall *self,
                guint   pt)
{
  GstBin *bin = GST_BIN (self->pipeline);
  g_autofree char *rtp_caps = g_strdup_printf ("application/x-rtp,media=audio,encoding-name=OPUS,"
                                               "clock-rate=48000,payload=%u", pt);
  const Stage stages[N_ASEND] = {
    [ASEND_CONVERT] = { "audioconvert" },
    [ASEND_RESAMPLE] = { "audioresample" },
    [ASEND_RAW] = { NULL, "audio/x-raw,rate=48000,channels=1" },
    [ASEND_VOLUME] = { "volume" },
    [ASEND_QUEUE] = { "queue" },
    [ASEND_ENC] = { "opusenc" },
    [ASEND_PAY] = { "rtpopuspay" },
    [ASEND_RTP] = { NULL, rtp_caps },
  };
  GstElement *src, *e[N_ASEND];

  src = self->audio_override != NULL ? gst_object_ref (self->audio_override)
                                     : make_microphone (self);
  gst_bin_add (bin, src);
  if (!add_chain (bin, src, stages, N_ASEND, e))
    return FALSE;

  /* As for video: never let a waiting webrtcbin hold the microphone. */
  g_object_set (e[ASEND_QUEUE], "max-size-buffers", 10, "max-size-bytes", 0, "max-size-time",
                (guint64) 0, NULL);
  gst_util_set_object_arg (G_OBJECT (e[ASEND_QUEUE]), "leaky", "downstream");

  g_object_set (e[ASEND_VOLUME], "mute", self->muted, NULL);
  /* 10 ms frames: steady RTP timestamps that the browser's jitter buffer can stay small on. */
  gst_util_set_object_arg (G_OBJECT (e[ASEND_ENC]), "frame-size", "10");
  gst_util_set_object_arg (G_OBJECT (e[ASEND_ENC]), "audio-type", "voice");
  g_object_set (e[ASEND_ENC], "bitrate", 32000, "inband-fec", TRUE, NULL);

  if (!gst_element_link_pads (e[ASEND_RTP], "src", self->webrtc, "sink_%u"))
    return FALSE;

  self->volume = e[ASEND_VOLUME];
  return TRUE;
}

static void
remote_frame (WzCallPaintable *paintable,
              GdkTexture      *texture,
              WzCall          *self)
{
  if (self->state == WZ_CALL_CONNECTING || self->state == WZ_CALL_RECONNECTING ||
      self->state == WZ_CALL_OUTGOING)
    set_state (self, WZ_CALL_CONNECTED);
  g_signal_emit (self, signals[REMOTE_FRAME], 0, texture);
}

/* A sink added to a running pipeline must not preroll: its ASYNC_START would make the pipeline
 * lose its state and pick a new base time, after which every clock-synced element downstream of
 * the encoders waits for a running time that lies seconds ahead, and the sending stalls. */
static void
no_preroll (GstElement *sink)
{
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (sink), "async") != NULL)
    g_object_set (sink, "async", FALSE, NULL);
  else if (g_object_class_find_property (G_OBJECT_GET_CLASS (sink), "async-handling") != NULL)
    g_object_set (sink, "async-handling", TRUE, NULL);
}

/* webrtcbin → the remote picture (decoded frames counted) or the speaker (packets counted, a
 * level meter for the statistics). */
enum { VRECV_QUEUE, VRECV_DEPAY, VRECV_DEC, VRECV_CONVERT, VRECV_CAPS, VRECV_SINK, N_VRECV };
enum { ARECV_QUEUE, ARECV_DEPAY, ARECV_DEC, ARECV_CONVERT, ARECV_LEVEL, ARECV_RESAMPLE, ARECV_SINK,
       N_ARECV };
G_STATIC_ASSERT ((int) N_VRECV <= (int) N_ARECV);

static void
add_receiver (WzCall *self,
              GstPad *pad)
{
  g_autoptr(GstCaps) caps = gst_pad_get_current_caps (pad);
  const char *sink_name = g_getenv ("WZ_CALL_AUDIO_SINK");
  const Stage video_stages[N_VRECV] = {
    [VRECV_QUEUE] = { "queue" },
    [VRECV_DEPAY] = { "rtpvp8depay" },
    [VRECV_DEC] = { "vp8dec" },
    [VRECV_CONVERT] = { "videoconvert" },
    [VRECV_CAPS] = { NULL, "video/x-raw,format=RGBA" },
    [VRECV_SINK] = { "appsink" },
  };
  const Stage audio_stages[N_ARECV] = {
    [ARECV_QUEUE] = { "queue" },
    [ARECV_DEPAY] = { "rtpopusdepay" },
    [ARECV_DEC] = { "opusdec" },
    [ARECV_CONVERT] = { "audioconvert" },
    [ARECV_LEVEL] = { "level" },
    [ARECV_RESAMPLE] = { "audioresample" },
    [ARECV_SINK] = { sink_name != NULL && *sink_name != '\0' ? sink_name : "autoaudiosink" },
  };
  GstElement *e[N_ARECV] = { NULL };   /* the longer chain */
  guint n;
  const char *media;
  g_autoptr(GstPad) sink_pad = NULL;

  if (caps == NULL)
    caps = gst_pad_query_caps (pad, NULL);
  media = gst_structure_get_string (gst_caps_get_structure (caps, 0), "media");

  if (g_strcmp0 (media, "video") == 0)
    {
      n = N_VRECV;
      if (!add_chain (GST_BIN (self->pipeline), NULL, video_stages, n, e) &&
          e[VRECV_SINK] == NULL)
        return;
      /* Shown as soon as decoded: the jitter buffer already smoothed the arrival. */
      g_object_set (e[VRECV_SINK], "sync", FALSE, "max-buffers", 1, "drop", TRUE, NULL);
      no_preroll (e[VRECV_SINK]);
      count_on (e[VRECV_DEC], "src", &self->frames_decoded);
      wz_call_paintable_attach (self->remote, e[VRECV_SINK]);
    }
  else if (g_strcmp0 (media, "audio") == 0)
    {
      n = N_ARECV;
      if (!add_chain (GST_BIN (self->pipeline), NULL, audio_stages, n, e) &&
          e[ARECV_SINK] == NULL)
        return;
      g_object_set (e[ARECV_LEVEL], "interval", (guint64) 200 * GST_MSECOND,
                    "post-messages", TRUE, NULL);
      no_preroll (e[ARECV_SINK]);
      count_on (e[ARECV_DEPAY], "sink", &self->audio_packets);
    }
  else
    {
      g_debug ("Ignoring a remote stream of media “%s”", media ? media : "?");
      return;
    }

  sink_pad = gst_element_get_static_pad (e[0], "sink");
  if (gst_pad_link (pad, sink_pad) != GST_PAD_LINK_OK)
    g_warning ("Could not link the remote %s stream", media);
  /* Downstream first, so nothing pushes into an element that is not running yet. */
  for (guint i = n; i-- > 0;)
    gst_element_sync_state_with_parent (e[i]);
}

/* On webrtcbin's thread, not hopped: its source pad must be linked before the first packet
 * arrives or the receive path stops as not-linked. Only the pipeline and thread-safe parts of
 * the call are touched. */
static void
on_pad_added (GstElement *webrtc,
              GstPad     *pad,
              Link       *link)
{
  g_autoptr(WzCall) self = NULL;

  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  self = g_weak_ref_get (&link->call);
  if (self == NULL || self->session != link->session || self->pipeline == NULL)
    return;
  add_receiver (self, pad);
}

/* ── Negotiation ───────────────────────────────────────────────────────────────────────── */

/* The reply of a promise that has changed, or NULL: with ERROR set when webrtcbin reported a
 * failure (or expired it), without when it succeeded with nothing to say. */
static GstStructure *
promise_reply (GstPromise *promise,
               GError    **error)
{
  const GstStructure *reply;

  if (gst_promise_wait (promise) != GST_PROMISE_RESULT_REPLIED)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "no reply");
      return NULL;
    }
  reply = gst_promise_get_reply (promise);
  if (reply == NULL)
    return NULL;
  if (gst_structure_has_field (reply, "error"))
    {
      GError *inner = NULL;

      gst_structure_get (reply, "error", G_TYPE_ERROR, &inner, NULL);
      if (inner != NULL)
        g_propagate_error (error, inner);
      else
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "error");
      return NULL;
    }
  return gst_structure_copy (reply);
}

static void
description_failed_main (WzCall   *self,
                         gpointer  data)
{
  const char *message = data;

  g_message ("Call %s: negotiation failed: %s", self->id, message);
  fail (self, _("The call could not be set up: the other side’s description of it was not "
                "usable."), TRUE);
}

static void
local_description_ready_main (WzCall   *self,
                              gpointer  data)
{
  GstWebRTCSessionDescription *desc = data;
  const char *type = desc->type == GST_WEBRTC_SDP_TYPE_OFFER ? "offer" : "answer";

  g_signal_emit_by_name (self->webrtc, "set-local-description", desc, NULL);
  send_description (self, type, desc);
  if (desc->type == GST_WEBRTC_SDP_TYPE_ANSWER && self->state != WZ_CALL_CONNECTED)
    set_state (self, WZ_CALL_CONNECTING);
}

static void
on_description_created (GstPromise *promise,
                        gpointer    user_data)
{
  Link *link = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GstStructure) reply = promise_reply (promise, &error);
  GstWebRTCSessionDescription *desc = NULL;

  if (reply != NULL)
    {
      if (!gst_structure_get (reply, "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &desc, NULL))
        gst_structure_get (reply, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &desc, NULL);
    }
  if (desc != NULL)
    hop (link, local_description_ready_main, desc,
         (GDestroyNotify) gst_webrtc_session_description_free);
  else
    hop (link, description_failed_main,
         g_strdup (error != NULL ? error->message : "no description"), g_free);
  gst_promise_unref (promise);
}

static void
create_offer_main (WzCall   *self,
                   gpointer  data)
{
  GstPromise *promise;

  if (self->offer_made)
    return;
  self->offer_made = TRUE;
  self->we_offered = TRUE;
  promise = gst_promise_new_with_change_func (on_description_created, link_new (self), link_unref);
  g_signal_emit_by_name (self->webrtc, "create-offer", NULL, promise);
}

static void
on_negotiation_needed (GstElement *webrtc,
                       Link       *link)
{
  hop (link, create_offer_main, NULL, NULL);
}

static void
create_answer_main (WzCall   *self,
                    gpointer  data)
{
  GstPromise *promise;

  promise = gst_promise_new_with_change_func (on_description_created, link_new (self), link_unref);
  g_signal_emit_by_name (self->webrtc, "create-answer", NULL, promise);
}

static void
on_remote_set (GstPromise *promise,
               gpointer    user_data)
{
  Link *link = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GstStructure) reply = promise_reply (promise, &error);

  if (error != NULL)
    hop (link, description_failed_main, g_strdup (error->message), g_free);
  gst_promise_unref (promise);
}

static void
on_remote_offer_set (GstPromise *promise,
                     gpointer    user_data)
{
  Link *link = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GstStructure) reply = promise_reply (promise, &error);

  if (error != NULL)
    hop (link, description_failed_main, g_strdup (error->message), g_free);
  else
    hop (link, create_answer_main, NULL, NULL);
  gst_promise_unref (promise);
}

static void
flush_candidates (WzCall *self)
{
  for (guint i = 0; i < self->pending_candidates->len; i++)
    {
      IceCandidate *c = g_ptr_array_index (self->pending_candidates, i);

      g_signal_emit_by_name (self->webrtc, "add-ice-candidate", c->mline, c->candidate);
    }
  g_ptr_array_set_size (self->pending_candidates, 0);
}

static void
set_remote (WzCall              *self,
            GstWebRTCSDPType     type,
            const GstSDPMessage *sdp)
{
  GstSDPMessage *copy = NULL;
  GstWebRTCSessionDescription *desc;
  GstPromise *promise;

  gst_sdp_message_copy (sdp, &copy);
  desc = gst_webrtc_session_description_new (type, copy);
  promise = gst_promise_new_with_change_func (type == GST_WEBRTC_SDP_TYPE_OFFER
                                                ? on_remote_offer_set : on_remote_set,
                                              link_new (self), link_unref);
  g_signal_emit_by_name (self->webrtc, "set-remote-description", desc, promise);
  gst_webrtc_session_description_free (desc);
  flush_candidates (self);
}

/* ── ICE and connection state ─────────────────────────────────────────────────────────── */

typedef struct
{
  guint  mline;
  char  *candidate;
} LocalCandidate;

static void
local_candidate_free (gpointer data)
{
  LocalCandidate *c = data;

  g_free (c->candidate);
  g_free (c);
}

static void
local_candidate_main (WzCall   *self,
                      gpointer  data)
{
  LocalCandidate *c = data;
  JsonObject *frame = frame_new (self, "ice");

  json_object_set_string_member (frame, "candidate", c->candidate);
  json_object_set_int_member (frame, "sdpMLineIndex", c->mline);
  send_frame (self, frame);
}

static void
on_ice_candidate (GstElement *webrtc,
                  guint       mline,
                  char       *candidate,
                  Link       *link)
{
  LocalCandidate *c = g_new0 (LocalCandidate, 1);

  c->mline = mline;
  c->candidate = g_strdup (candidate);
  hop (link, local_candidate_main, c, local_candidate_free);
}

static void new_session_offer (WzCall *self);

/* Whether this computer has an interface up with an address ICE can use (loopback counts). */
static gboolean
have_local_address (void)
{
  GList *ips = nice_interfaces_get_local_ips (TRUE);
  gboolean found = FALSE;

  for (GList *l = ips; l != NULL && !found; l = l->next)
    found = !g_str_has_prefix (l->data, "fe80:");
  g_list_free_full (ips, g_free);
  return found;
}

static gboolean
on_reconnect_due (gpointer user_data)
{
  WzCall *self = user_data;

  self->reconnect_id = 0;
  if (self->state != WZ_CALL_RECONNECTING || !self->is_caller)
    return G_SOURCE_REMOVE;
  /* A session made while the network is down has no candidates and never connects: wait for
   * an interface to come back (the give-up timer still runs). */
  if (!have_local_address ())
    {
      self->reconnect_id = g_timeout_add (500, on_reconnect_due, self);
      return G_SOURCE_REMOVE;
    }
  new_session_offer (self);
  return G_SOURCE_REMOVE;
}

/* The path dropped after media flowed: say so, and (as the side that called) make a new
 * session unless the path heals within the grace time (at once when ICE says it failed). */
static void
path_dropped (WzCall   *self,
              gboolean  failed)
{
  /* The problem first: whoever watches the state reads it on the change. */
  set_problem (self, _("The connection dropped. Reconnecting…"));
  set_state (self, WZ_CALL_RECONNECTING);
  arm_give_up (self, RECONNECT_TIMEOUT_S);
  if (self->is_caller && self->reconnect_id == 0)
    self->reconnect_id = g_timeout_add (failed ? 200 : RECONNECT_GRACE_MS, on_reconnect_due, self);
}

static void
ice_state_main (WzCall   *self,
                gpointer  data)
{
  GstWebRTCICEConnectionState ice = GPOINTER_TO_INT (data);

  switch (ice)
    {
    case GST_WEBRTC_ICE_CONNECTION_STATE_CONNECTED:
    case GST_WEBRTC_ICE_CONNECTION_STATE_COMPLETED:
      if (self->state == WZ_CALL_CONNECTING || self->state == WZ_CALL_RECONNECTING ||
          self->state == WZ_CALL_OUTGOING)
        set_state (self, WZ_CALL_CONNECTED);
      break;
    case GST_WEBRTC_ICE_CONNECTION_STATE_DISCONNECTED:
    case GST_WEBRTC_ICE_CONNECTION_STATE_FAILED:
      if (self->state == WZ_CALL_CONNECTED)
        path_dropped (self, ice == GST_WEBRTC_ICE_CONNECTION_STATE_FAILED);
      else if (self->state == WZ_CALL_RECONNECTING && self->is_caller &&
               ice == GST_WEBRTC_ICE_CONNECTION_STATE_FAILED && self->reconnect_id == 0)
        self->reconnect_id = g_timeout_add (RECONNECT_GRACE_MS, on_reconnect_due, self);
      else if (self->state == WZ_CALL_CONNECTING &&
               ice == GST_WEBRTC_ICE_CONNECTION_STATE_FAILED)
        fail (self, no_path_problem (), TRUE);
      break;
    case GST_WEBRTC_ICE_CONNECTION_STATE_NEW:
    case GST_WEBRTC_ICE_CONNECTION_STATE_CHECKING:
    case GST_WEBRTC_ICE_CONNECTION_STATE_CLOSED:
    default:
      break;
    }
}

static void
on_ice_connection_state (GstElement *webrtc,
                         GParamSpec *pspec,
                         Link       *link)
{
  GstWebRTCICEConnectionState ice;

  g_object_get (webrtc, "ice-connection-state", &ice, NULL);
  hop (link, ice_state_main, GINT_TO_POINTER (ice), NULL);
}

/* libnice leaves loopback out when there is any other interface; a call between two programs
 * on one machine (the demo, the tests) needs it, and the other addresses must then be named
 * too because naming any replaces the automatic choice. */
static void
add_local_addresses (GstElement *webrtc)
{
  g_autoptr(GObject) ice = NULL;
  g_autoptr(GObject) agent = NULL;
  GList *ips;

  g_object_get (webrtc, "ice-agent", &ice, NULL);
  if (ice == NULL || g_object_class_find_property (G_OBJECT_GET_CLASS (ice), "agent") == NULL)
    return;
  g_object_get (ice, "agent", &agent, NULL);
  if (agent == NULL || !NICE_IS_AGENT (agent))
    return;
  /* Asking the home router for a port mapping only delays the candidates of a call. */
  g_object_set (agent, "upnp", FALSE, NULL);

  ips = nice_interfaces_get_local_ips (TRUE);
  for (GList *l = ips; l != NULL; l = l->next)
    {
      NiceAddress address;

      /* IPv6 link-local addresses need a scope and never help here. */
      if (g_str_has_prefix (l->data, "fe80:") || !nice_address_set_from_string (&address, l->data))
        continue;
      nice_agent_add_local_address (NICE_AGENT (agent), &address);
    }
  g_list_free_full (ips, g_free);
}

/* ── Bus ───────────────────────────────────────────────────────────────────────────────── */

static gboolean
on_bus_message (GstBus     *bus,
                GstMessage *message,
                gpointer    user_data)
{
  WzCall *self = user_data;

  switch (GST_MESSAGE_TYPE (message))
    {
    case GST_MESSAGE_ERROR:
      {
        g_autoptr(GError) error = NULL;
        g_autofree char *debug = NULL;
        const char *source = GST_OBJECT_NAME (GST_MESSAGE_SRC (message));

        gst_message_parse_error (message, &error, &debug);
        g_message ("Call %s: error from %s: %s (%s)", self->id, source, error->message,
                   debug ? debug : "");
        if (self->camera_name != NULL && g_strcmp0 (source, self->camera_name) == 0)
          {
            /* The camera went away or was taken mid-call: the pipeline cannot go on with it. */
            fail (self, _("The camera stopped working (it may have been unplugged or taken by "
                          "another program). Choose another camera in Preferences and call "
                          "again."), TRUE);
          }
        else
          fail (self, _("The call stopped because of a problem with the audio or video on "
                        "this computer."), TRUE);
      }
      break;
    case GST_MESSAGE_ELEMENT:
      {
        const GstStructure *s = gst_message_get_structure (message);

        if (gst_structure_has_name (s, "level"))
          {
            const GValue *list = gst_structure_get_value (s, "rms");
            double rms = -100;

            /* level still reports a GValueArray. */
            G_GNUC_BEGIN_IGNORE_DEPRECATIONS
            if (list != NULL && G_VALUE_TYPE (list) == g_value_array_get_type ())
              {
                GValueArray *array = g_value_get_boxed (list);

                if (array != NULL && array->n_values > 0)
                  rms = g_value_get_double (g_value_array_get_nth (array, 0));
              }
            G_GNUC_END_IGNORE_DEPRECATIONS
            /* Kept as the loudest window since the last statistics: speech (or a test beep)
             * between two samplings must not read as silence. */
            {
              gint level = (gint) (MAX (rms, -100.0) * 100);
              gint seen = g_atomic_int_get (&self->level_centi_db);

              while (level > seen
                     && !g_atomic_int_compare_and_exchange (&self->level_centi_db, seen, level))
                seen = g_atomic_int_get (&self->level_centi_db);
            }
          }
      }
      break;
    default:
      break;
    }
  return G_SOURCE_CONTINUE;
}

/* ── Stats ─────────────────────────────────────────────────────────────────────────────── */

static void
stats_main (WzCall   *self,
            gpointer  data)
{
  GstStructure *report = data;
  WzCallQuality before = self->stats.quality;

  wz_call_stats_update (&self->stats, &self->totals, report, g_get_monotonic_time ());
  self->stats.video_frames_decoded = (guint) g_atomic_int_get (&self->frames_decoded);
  self->stats.video_frames_sent = (guint) g_atomic_int_get (&self->frames_sent);
  self->stats.audio_packets_received = (guint) g_atomic_int_get (&self->audio_packets);
  self->stats.remote_audio_level_db = g_atomic_int_exchange (&self->level_centi_db, -10000) / 100.0;

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATS]);
  if (before != self->stats.quality)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_QUALITY]);
}

static void
on_stats (GstPromise *promise,
          gpointer    user_data)
{
  Link *link = user_data;
  g_autoptr(GError) error = NULL;
  GstStructure *reply = promise_reply (promise, &error);

  if (reply != NULL)
    hop (link, stats_main, reply, (GDestroyNotify) gst_structure_free);
  gst_promise_unref (promise);
}

/* Once a second while connected: has anything come in since the last look? */
static void
watch_media (WzCall *self)
{
  gint received = g_atomic_int_get (&self->frames_decoded) + g_atomic_int_get (&self->audio_packets);
  gint64 now = g_get_monotonic_time ();

  if (self->state != WZ_CALL_CONNECTED || received != self->received_seen)
    {
      /* A session whose media has not started yet (a slow computer, a key frame on its way)
       * has not dropped: the connect time-outs look after it. */
      self->media_flowing = self->state == WZ_CALL_CONNECTED && received != self->received_seen;
      self->received_seen = received;
      self->received_at = now;
      return;
    }
  if (self->media_flowing && now - self->received_at >= MEDIA_SILENCE_US)
    {
      g_message ("Call %s: nothing received for %" G_GINT64_FORMAT " s; the path dropped",
                 self->id, (now - self->received_at) / G_USEC_PER_SEC);
      self->received_at = now;
      path_dropped (self, FALSE);
    }
}

static gboolean
on_stats_due (gpointer user_data)
{
  WzCall *self = user_data;
  GstPromise *promise;

  watch_media (self);
  if (self->webrtc == NULL)
    return G_SOURCE_CONTINUE;
  promise = gst_promise_new_with_change_func (on_stats, link_new (self), link_unref);
  g_signal_emit_by_name (self->webrtc, "get-stats", NULL, promise);
  return G_SOURCE_CONTINUE;
}

/* ── Sessions ──────────────────────────────────────────────────────────────────────────── */

static void
stop_session (WzCall *self)
{
  g_clear_handle_id (&self->stats_id, g_source_remove);
  if (self->bus_watch != 0)
    {
      GSource *source = g_main_context_find_source_by_id (self->context, self->bus_watch);

      if (source != NULL)
        g_source_destroy (source);
      self->bus_watch = 0;
    }
  /* Callbacks still on their way belong to this session and are dropped on arrival. */
  self->session++;
  if (self->pipeline != NULL)
    {
      gst_element_set_state (self->pipeline, GST_STATE_NULL);
      g_clear_object (&self->pipeline);
    }
  self->webrtc = NULL;
  self->volume = NULL;
  self->offer_made = FALSE;
  self->we_offered = FALSE;
  g_clear_pointer (&self->camera_name, g_free);
  memset (&self->totals, 0, sizeof self->totals);
}

/* The PT each kind has in OFFER (VP8 and Opus only), so the answer sends with the payload types
 * the other side chose; 0 when the kind is not offered or not with that codec. */
static void
offered_payload_types (const GstSDPMessage *offer,
                       guint               *video_pt,
                       guint               *audio_pt)
{
  *video_pt = 0;
  *audio_pt = 0;
  for (guint m = 0; offer != NULL && m < gst_sdp_message_medias_len (offer); m++)
    {
      const GstSDPMedia *media = gst_sdp_message_get_media (offer, m);
      gboolean video = g_strcmp0 (gst_sdp_media_get_media (media), "video") == 0;
      gboolean audio = g_strcmp0 (gst_sdp_media_get_media (media), "audio") == 0;
      const char *rtpmap;

      for (guint i = 0; (rtpmap = gst_sdp_media_get_attribute_val_n (media, "rtpmap", i)); i++)
        {
          guint64 pt = g_ascii_strtoull (rtpmap, NULL, 10);
          const char *codec = strchr (rtpmap, ' ');

          if (codec == NULL || pt == 0 || pt > 127)
            continue;
          codec++;
          if (video && *video_pt == 0 && g_ascii_strncasecmp (codec, "VP8/90000", 9) == 0)
            *video_pt = (guint) pt;
          else if (audio && *audio_pt == 0 && g_ascii_strncasecmp (codec, "opus/48000", 10) == 0)
            *audio_pt = (guint) pt;
        }
    }
}

static void
build_session (WzCall              *self,
               const GstSDPMessage *offer)
{
  g_autoptr(GstBus) bus = NULL;
  GSource *watch;
  Link *link;
  guint video_pt = DEFAULT_VIDEO_PT, audio_pt = DEFAULT_AUDIO_PT;
  g_autofree char *name = NULL;

  stop_session (self);
  if (offer != NULL)
    offered_payload_types (offer, &video_pt, &audio_pt);

  name = g_strdup_printf ("call-%s-%u", self->id, self->session);
  self->pipeline = gst_pipeline_new (name);
  gst_object_ref_sink (self->pipeline);
  self->webrtc = make ("webrtcbin", "webrtc");
  if (self->webrtc == NULL)
    {
      fail (self, _("Video calls need the GStreamer WebRTC plugins, which are not installed."),
            TRUE);
      return;
    }
  gst_util_set_object_arg (G_OBJECT (self->webrtc), "bundle-policy", "max-bundle");
  g_object_set (self->webrtc, "latency", 60, NULL);
  if (self->stun != NULL)
    g_object_set (self->webrtc, "stun-server", self->stun, NULL);
  if (self->turn != NULL)
    g_object_set (self->webrtc, "turn-server", self->turn, NULL);
  add_local_addresses (self->webrtc);
  gst_bin_add (GST_BIN (self->pipeline), self->webrtc);

  link = link_new (self);
  g_signal_connect_data (self->webrtc, "on-negotiation-needed", G_CALLBACK (on_negotiation_needed),
                         g_atomic_rc_box_acquire (link), link_closure_notify, 0);
  g_signal_connect_data (self->webrtc, "on-ice-candidate", G_CALLBACK (on_ice_candidate),
                         g_atomic_rc_box_acquire (link), link_closure_notify, 0);
  g_signal_connect_data (self->webrtc, "pad-added", G_CALLBACK (on_pad_added),
                         g_atomic_rc_box_acquire (link), link_closure_notify, 0);
  g_signal_connect_data (self->webrtc, "notify::ice-connection-state",
                         G_CALLBACK (on_ice_connection_state),
                         g_atomic_rc_box_acquire (link), link_closure_notify, 0);
  link_unref (link);

  /* An answer carries only what the offer asked for. */
  if (video_pt != 0 && !add_video_send (self, video_pt))
    {
      fail (self, _("The video of the call could not be set up."), TRUE);
      return;
    }
  if (audio_pt != 0 && !add_audio_send (self, audio_pt))
    {
      fail (self, _("The sound of the call could not be set up."), TRUE);
      return;
    }
  if (offer != NULL && video_pt == 0 && audio_pt == 0)
    {
      fail (self, _("The other side offered neither VP8 video nor Opus sound, so the call "
                    "cannot be made."), TRUE);
      return;
    }

  bus = gst_pipeline_get_bus (GST_PIPELINE (self->pipeline));
  watch = gst_bus_create_watch (bus);
  g_source_set_callback (watch, G_SOURCE_FUNC (on_bus_message), self, NULL);
  self->bus_watch = g_source_attach (watch, self->context);
  g_source_unref (watch);

  if (gst_element_set_state (self->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    {
      fail (self, _("The call’s audio and video could not be started on this computer."), TRUE);
      return;
    }
  self->stats_id = g_timeout_add_seconds (1, on_stats_due, self);
}

/* A fresh session with an offer of ours: the first call, or a reconnect. */
static void
new_session_offer (WzCall *self)
{
  g_debug ("Call %s: new media session with an offer", self->id);
  build_session (self, NULL);
  /* on-negotiation-needed makes the offer once the send pads are linked. */
}

static void
answer_offer (WzCall              *self,
              const GstSDPMessage *offer)
{
  build_session (self, offer);
  if (self->pipeline == NULL)
    return;
  self->offer_made = TRUE;  /* negotiation-needed must not make a counter-offer */
  set_remote (self, GST_WEBRTC_SDP_TYPE_OFFER, offer);
  if (self->state != WZ_CALL_CONNECTED && self->state != WZ_CALL_RECONNECTING)
    set_state (self, WZ_CALL_CONNECTING);
  arm_give_up (self, self->state == WZ_CALL_RECONNECTING ? RECONNECT_TIMEOUT_S
                                                          : CONNECT_TIMEOUT_S);
}

/* ── Incoming frames ──────────────────────────────────────────────────────────────────── */

static const char *
member_string (JsonObject *object,
               const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

/* The o= session id: constant over one peer connection's renegotiations, new for a new one
 * (a reload, a restarted program). The DTLS fingerprint cannot tell: one process reuses its
 * certificate. */
static char *
session_of (const GstSDPMessage *sdp)
{
  const GstSDPOrigin *origin = gst_sdp_message_get_origin (sdp);

  return g_strdup (origin != NULL ? origin->sess_id : NULL);
}

static char *
fingerprint_of (const GstSDPMessage *sdp)
{
  const char *value = gst_sdp_message_get_attribute_val (sdp, "fingerprint");

  for (guint m = 0; value == NULL && m < gst_sdp_message_medias_len (sdp); m++)
    value = gst_sdp_media_get_attribute_val (gst_sdp_message_get_media (sdp, m), "fingerprint");
  return g_strdup (value);
}

/* An SDP this call can use: it parses, has media, a DTLS fingerprint and ICE credentials. */
static GstSDPMessage *
parse_sdp (const char  *text,
           GError     **error)
{
  g_autoptr(GstSDPMessage) sdp = NULL;
  g_autofree char *fingerprint = NULL;
  gboolean ice = FALSE;

  if (text == NULL || gst_sdp_message_new_from_text (text, &sdp) != GST_SDP_OK)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "The SDP does not parse");
      return NULL;
    }
  fingerprint = fingerprint_of (sdp);
  ice = gst_sdp_message_get_attribute_val (sdp, "ice-ufrag") != NULL;
  for (guint m = 0; !ice && m < gst_sdp_message_medias_len (sdp); m++)
    ice = gst_sdp_media_get_attribute_val (gst_sdp_message_get_media (sdp, m), "ice-ufrag") != NULL;
  if (gst_sdp_message_medias_len (sdp) == 0 || fingerprint == NULL || !ice)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "The SDP has no media, DTLS fingerprint or ICE credentials");
      return NULL;
    }
  return g_steal_pointer (&sdp);
}

static void
handle_offer (WzCall        *self,
              GstSDPMessage *offer)
{
  g_autofree char *session = session_of (offer);
  gboolean same_peer_session = self->remote_session != NULL &&
                               g_strcmp0 (session, self->remote_session) == 0;

  g_free (self->remote_session);
  self->remote_session = g_steal_pointer (&session);

  switch (self->state)
    {
    case WZ_CALL_IDLE:
    case WZ_CALL_RINGING:
      g_clear_pointer (&self->pending_offer, gst_sdp_message_free);
      self->pending_offer = offer;
      if (self->accepted)
        {
          answer_offer (self, offer);
          g_clear_pointer (&self->pending_offer, gst_sdp_message_free);
        }
      else
        set_state (self, WZ_CALL_RINGING);
      return;

    case WZ_CALL_OUTGOING:
    case WZ_CALL_CONNECTING:
    case WZ_CALL_CONNECTED:
    case WZ_CALL_RECONNECTING:
      if (same_peer_session && self->webrtc != NULL && !self->we_offered)
        {
          /* The same peer renegotiates on its existing connection. */
          set_remote (self, GST_WEBRTC_SDP_TYPE_OFFER, offer);
        }
      else
        {
          /* The peer restarted (a reload) or both sides offered at once: the offer wins and
           * replaces our media session. */
          g_debug ("Call %s: the peer re-joined; answering with a new media session", self->id);
          self->accepted = TRUE;
          if (self->state == WZ_CALL_CONNECTED)
            set_state (self, WZ_CALL_RECONNECTING);
          answer_offer (self, offer);
        }
      gst_sdp_message_free (offer);
      return;

    case WZ_CALL_ENDED:
    case WZ_CALL_FAILED:
    default:
      gst_sdp_message_free (offer);
      return;
    }
}

static void
handle_answer (WzCall        *self,
               GstSDPMessage *answer)
{
  g_free (self->remote_session);
  self->remote_session = session_of (answer);
  self->we_offered = FALSE;
  set_remote (self, GST_WEBRTC_SDP_TYPE_ANSWER, answer);
  if (self->state == WZ_CALL_OUTGOING)
    {
      set_state (self, WZ_CALL_CONNECTING);
      arm_give_up (self, CONNECT_TIMEOUT_S);
    }
  gst_sdp_message_free (answer);
}

static void
handle_hangup (WzCall     *self,
               const char *reason)
{
  if (g_strcmp0 (reason, "camera-refused") == 0)
    set_problem (self, _("The patient’s browser did not allow the camera, so the call "
                         "ended. Ask them to allow camera access for this page and call "
                         "again."));
  else if (g_strcmp0 (reason, "declined") == 0)
    set_problem (self, _("The call was declined."));
  else if (g_strcmp0 (reason, "busy") == 0)
    set_problem (self, _("The other side is in another call."));
  else if (g_strcmp0 (reason, "failed") == 0)
    set_problem (self, _("The other side could not keep the call going."));

  if (g_strcmp0 (reason, "failed") == 0 && self->state != WZ_CALL_CONNECTED)
    finish (self, WZ_CALL_FAILED, "remote", reason);
  else
    finish (self, WZ_CALL_ENDED, "remote", reason != NULL ? reason : "ended");
}

gboolean
wz_call_handle_signal (WzCall      *self,
                       JsonObject  *frame,
                       GError     **error)
{
  const char *type, *call, *encounter, *from;

  g_return_val_if_fail (WZ_IS_CALL (self), FALSE);
  g_return_val_if_fail (frame != NULL, FALSE);

  type = member_string (frame, "type");
  call = member_string (frame, "call");
  encounter = member_string (frame, "encounter");
  from = member_string (frame, "from");

  if (type == NULL || call == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "A call frame needs \"type\" and \"call\"");
      return FALSE;
    }
  if (g_strcmp0 (call, self->id) != 0 ||
      (encounter != NULL && g_strcmp0 (encounter, self->encounter) != 0))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "Frame for another call (%s)", call);
      return FALSE;
    }
  /* Once a peer has spoken for this call, no one else may. */
  if (from != NULL && self->peer != NULL && g_strcmp0 (from, self->peer) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   "%s is not the other side of call %s", from, self->id);
      return FALSE;
    }
  if (is_over (self))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED, "Call %s is over", self->id);
      return FALSE;
    }
  if (from != NULL && self->peer == NULL)
    {
      self->peer = g_strdup (from);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PEER]);
    }

  if (g_str_equal (type, "offer") || g_str_equal (type, "answer"))
    {
      GstSDPMessage *sdp = parse_sdp (member_string (frame, "sdp"), error);

      if (sdp == NULL)
        {
          /* A description that cannot be used ends this attempt, and only it. */
          fail (self, _("The call could not be set up: the other side’s description of it was "
                        "not usable."), TRUE);
          return FALSE;
        }
      if (g_str_equal (type, "offer"))
        handle_offer (self, sdp);
      else if (member_string (frame, "offerId") != NULL &&
               g_ascii_strtoull (member_string (frame, "offerId"), NULL, 10) != self->session)
        {
          gst_sdp_message_free (sdp);
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "An answer to an earlier offer of call %s came late", self->id);
          return FALSE;
        }
      else if (self->state == WZ_CALL_OUTGOING || self->state == WZ_CALL_RECONNECTING ||
               self->we_offered)
        handle_answer (self, sdp);
      else
        {
          gst_sdp_message_free (sdp);
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "An answer came for call %s, which made no offer", self->id);
          return FALSE;
        }
      return TRUE;
    }

  if (g_str_equal (type, "ice"))
    {
      const char *candidate = member_string (frame, "candidate");
      JsonNode *index = json_object_get_member (frame, "sdpMLineIndex");
      gint64 mline = 0;

      if (candidate == NULL || *candidate == '\0')
        return TRUE;  /* end of candidates */
      if (index != NULL && JSON_NODE_HOLDS_VALUE (index) &&
          json_node_get_value_type (index) == G_TYPE_INT64)
        mline = json_node_get_int (index);
      if (!g_str_has_prefix (candidate, "candidate:") || mline < 0 || mline > 16 ||
          strlen (candidate) > 1024)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                               "Not an ICE candidate");
          return FALSE;
        }
      if (self->webrtc != NULL && self->state != WZ_CALL_RINGING)
        g_signal_emit_by_name (self->webrtc, "add-ice-candidate", (guint) mline, candidate);
      else
        {
          IceCandidate *c = g_new0 (IceCandidate, 1);

          c->mline = (guint) mline;
          c->candidate = g_strdup (candidate);
          g_ptr_array_add (self->pending_candidates, c);
        }
      return TRUE;
    }

  if (g_str_equal (type, "hangup"))
    {
      handle_hangup (self, member_string (frame, "reason"));
      return TRUE;
    }

  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "Not a call frame: %s", type);
  return FALSE;
}

/* ── Public API ───────────────────────────────────────────────────────────────────────── */

void
wz_call_signaling_resumed (WzCall *self)
{
  g_return_if_fail (WZ_IS_CALL (self));

  if (self->state != WZ_CALL_RECONNECTING || !self->is_caller)
    return;
  g_debug ("Call %s: the signaling path is back; offering anew", self->id);
  g_clear_handle_id (&self->reconnect_id, g_source_remove);
  on_reconnect_due (self);
}

static char *
normalize_stun (const char *uri)
{
  if (uri == NULL || *uri == '\0')
    return NULL;
  if (g_str_has_prefix (uri, "stun://"))
    return g_strdup (uri);
  if (g_str_has_prefix (uri, "stun:"))
    return g_strconcat ("stun://", uri + 5, NULL);
  return g_strconcat ("stun://", uri, NULL);
}

static char *
normalize_turn (const char *uri)
{
  g_auto(GStrv) parts = NULL;
  const char *scheme = "turn";
  const char *rest;
  g_autofree char *user = NULL;
  g_autofree char *credential = NULL;

  if (uri == NULL || *uri == '\0')
    return NULL;
  if (g_str_has_prefix (uri, "turn://") || g_str_has_prefix (uri, "turns://"))
    return g_strdup (uri);

  /* The server's form: turn:host:port[?transport=…],user,credential */
  parts = g_strsplit (uri, ",", 3);
  rest = parts[0];
  if (g_str_has_prefix (rest, "turns:"))
    {
      scheme = "turns";
      rest += 6;
    }
  else if (g_str_has_prefix (rest, "turn:"))
    rest += 5;
  if (parts[1] == NULL || parts[2] == NULL)
    return g_strdup_printf ("%s://%s", scheme, rest);
  user = g_uri_escape_string (parts[1], NULL, FALSE);
  credential = g_uri_escape_string (parts[2], NULL, FALSE);
  return g_strdup_printf ("%s://%s:%s@%s", scheme, user, credential, rest);
}

void
wz_call_set_ice_servers (WzCall     *self,
                         const char *stun_uri,
                         const char *turn_uri)
{
  g_return_if_fail (WZ_IS_CALL (self));

  g_free (self->stun);
  self->stun = normalize_stun (stun_uri);
  g_free (self->turn);
  self->turn = normalize_turn (turn_uri);
}

void
wz_call_set_devices (WzCall     *self,
                     const char *camera_id,
                     const char *microphone_id)
{
  g_return_if_fail (WZ_IS_CALL (self));

  g_free (self->camera_id);
  self->camera_id = g_strdup (camera_id);
  g_free (self->microphone_id);
  self->microphone_id = g_strdup (microphone_id);
}

void
wz_call_set_sources (WzCall     *self,
                     GstElement *video_source,
                     GstElement *audio_source)
{
  g_return_if_fail (WZ_IS_CALL (self));

  if (video_source != NULL)
    {
      g_clear_object (&self->video_override);
      self->video_override = gst_object_ref_sink (video_source);
    }
  if (audio_source != NULL)
    {
      g_clear_object (&self->audio_override);
      self->audio_override = gst_object_ref_sink (audio_source);
    }
}

void
wz_call_start (WzCall *self)
{
  g_return_if_fail (WZ_IS_CALL (self));
  g_return_if_fail (self->state == WZ_CALL_IDLE);

  self->is_caller = TRUE;
  self->accepted = TRUE;
  set_state (self, WZ_CALL_OUTGOING);
  new_session_offer (self);
  if (!is_over (self))
    arm_give_up (self, 90);
}

void
wz_call_accept (WzCall *self)
{
  g_autoptr(GstSDPMessage) offer = NULL;

  g_return_if_fail (WZ_IS_CALL (self));

  if (self->state != WZ_CALL_RINGING || self->pending_offer == NULL)
    return;
  self->accepted = TRUE;
  offer = g_steal_pointer (&self->pending_offer);
  answer_offer (self, offer);
}

void
wz_call_hangup (WzCall     *self,
                const char *reason)
{
  g_return_if_fail (WZ_IS_CALL (self));

  if (is_over (self))
    return;
  if (reason == NULL)
    reason = self->state == WZ_CALL_RINGING ? "declined" : "ended";
  send_hangup (self, reason);
  finish (self, WZ_CALL_ENDED, "local", reason);
}

void
wz_call_set_muted (WzCall   *self,
                   gboolean  muted)
{
  g_return_if_fail (WZ_IS_CALL (self));

  muted = !!muted;
  if (self->muted == muted)
    return;
  self->muted = muted;
  if (self->volume != NULL)
    g_object_set (self->volume, "mute", muted, NULL);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MUTED]);
}

gboolean
wz_call_get_muted (WzCall *self)
{
  g_return_val_if_fail (WZ_IS_CALL (self), FALSE);
  return self->muted;
}

void
wz_call_set_camera_off (WzCall   *self,
                        gboolean  off)
{
  g_return_if_fail (WZ_IS_CALL (self));

  off = !!off;
  if (self->camera_off == off)
    return;
  g_atomic_int_set (&self->camera_off, off);
  if (off)
    wz_call_paintable_clear (self->local);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAMERA_OFF]);
}

gboolean
wz_call_get_camera_off (WzCall *self)
{
  g_return_val_if_fail (WZ_IS_CALL (self), FALSE);
  return self->camera_off;
}

const char *
wz_call_get_id (WzCall *self)
{
  g_return_val_if_fail (WZ_IS_CALL (self), NULL);
  return self->id;
}

const char *
wz_call_get_encounter (WzCall *self)
{
  g_return_val_if_fail (WZ_IS_CALL (self), NULL);
  return self->encounter;
}

const char *
wz_call_get_peer (WzCall *self)
{
  g_return_val_if_fail (WZ_IS_CALL (self), NULL);
  return self->peer;
}

WzCallState
wz_call_get_state (WzCall *self)
{
  g_return_val_if_fail (WZ_IS_CALL (self), WZ_CALL_IDLE);
  return self->state;
}

const char *
wz_call_get_problem (WzCall *self)
{
  g_return_val_if_fail (WZ_IS_CALL (self), NULL);
  return self->problem;
}

gint64
wz_call_get_started_at (WzCall *self)
{
  g_return_val_if_fail (WZ_IS_CALL (self), 0);
  return self->started_at;
}

gint64
wz_call_get_ended_at (WzCall *self)
{
  g_return_val_if_fail (WZ_IS_CALL (self), 0);
  return self->ended_at;
}

guint
wz_call_get_duration (WzCall *self)
{
  gint64 end;

  g_return_val_if_fail (WZ_IS_CALL (self), 0);

  if (self->started_at == 0)
    return 0;
  end = self->ended_at != 0 ? self->ended_at : g_get_real_time ();
  return (guint) (MAX (end - self->started_at, 0) / G_USEC_PER_SEC);
}

const char *
wz_call_get_ended_by (WzCall *self)
{
  g_return_val_if_fail (WZ_IS_CALL (self), NULL);
  return self->ended_by;
}

const char *
wz_call_get_end_reason (WzCall *self)
{
  g_return_val_if_fail (WZ_IS_CALL (self), NULL);
  return self->end_reason;
}

gboolean
wz_call_get_is_caller (WzCall *self)
{
  g_return_val_if_fail (WZ_IS_CALL (self), FALSE);
  return self->is_caller;
}

const WzCallStats *
wz_call_get_stats (WzCall *self)
{
  g_return_val_if_fail (WZ_IS_CALL (self), NULL);

  /* Counters are fresh on every read; the rates are from the last report. */
  self->stats.video_frames_decoded = (guint) g_atomic_int_get (&self->frames_decoded);
  self->stats.video_frames_sent = (guint) g_atomic_int_get (&self->frames_sent);
  self->stats.audio_packets_received = (guint) g_atomic_int_get (&self->audio_packets);
  return &self->stats;
}

WzCallQuality
wz_call_get_quality (WzCall *self)
{
  g_return_val_if_fail (WZ_IS_CALL (self), WZ_CALL_QUALITY_UNKNOWN);
  return self->stats.quality;
}

GdkPaintable *
wz_call_get_remote_paintable (WzCall *self)
{
  g_return_val_if_fail (WZ_IS_CALL (self), NULL);
  return GDK_PAINTABLE (self->remote);
}

GdkPaintable *
wz_call_get_local_paintable (WzCall *self)
{
  g_return_val_if_fail (WZ_IS_CALL (self), NULL);
  return GDK_PAINTABLE (self->local);
}

GstElement *
wz_call_get_pipeline (WzCall *self)
{
  g_return_val_if_fail (WZ_IS_CALL (self), NULL);
  return self->pipeline;
}

/* ── GObject ──────────────────────────────────────────────────────────────────────────── */

static void
wz_call_dispose (GObject *object)
{
  WzCall *self = WZ_CALL (object);

  stop_session (self);
  g_clear_handle_id (&self->give_up_id, g_source_remove);
  g_clear_handle_id (&self->reconnect_id, g_source_remove);
  if (self->remote != NULL)
    g_signal_handlers_disconnect_by_data (self->remote, self);
  g_clear_object (&self->remote);
  g_clear_object (&self->local);
  g_clear_object (&self->video_override);
  g_clear_object (&self->audio_override);

  G_OBJECT_CLASS (wz_call_parent_class)->dispose (object);
}

static void
wz_call_finalize (GObject *object)
{
  WzCall *self = WZ_CALL (object);

  g_free (self->id);
  g_free (self->encounter);
  g_free (self->peer);
  g_free (self->stun);
  g_free (self->turn);
  g_free (self->camera_id);
  g_free (self->microphone_id);
  g_free (self->camera_name);
  g_free (self->problem);
  g_free (self->ended_by);
  g_free (self->end_reason);
  g_free (self->remote_session);
  g_clear_pointer (&self->pending_offer, gst_sdp_message_free);
  g_ptr_array_unref (self->pending_candidates);
  g_main_context_unref (self->context);

  G_OBJECT_CLASS (wz_call_parent_class)->finalize (object);
}

static void
wz_call_get_property (GObject    *object,
                      guint       prop_id,
                      GValue     *value,
                      GParamSpec *pspec)
{
  WzCall *self = WZ_CALL (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_MUTED:
      g_value_set_boolean (value, self->muted);
      break;
    case PROP_CAMERA_OFF:
      g_value_set_boolean (value, self->camera_off);
      break;
    case PROP_PROBLEM:
      g_value_set_string (value, self->problem);
      break;
    case PROP_STARTED_AT:
      g_value_set_int64 (value, self->started_at);
      break;
    case PROP_ENDED_AT:
      g_value_set_int64 (value, self->ended_at);
      break;
    case PROP_STATS:
      g_value_set_boxed (value, wz_call_get_stats (self));
      break;
    case PROP_QUALITY:
      g_value_set_enum (value, self->stats.quality);
      break;
    case PROP_PEER:
      g_value_set_string (value, self->peer);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
wz_call_set_property (GObject      *object,
                      guint         prop_id,
                      const GValue *value,
                      GParamSpec   *pspec)
{
  WzCall *self = WZ_CALL (object);

  switch (prop_id)
    {
    case PROP_MUTED:
      wz_call_set_muted (self, g_value_get_boolean (value));
      break;
    case PROP_CAMERA_OFF:
      wz_call_set_camera_off (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
wz_call_class_init (WzCallClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = wz_call_dispose;
  object_class->finalize = wz_call_finalize;
  object_class->get_property = wz_call_get_property;
  object_class->set_property = wz_call_set_property;

  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, WZ_TYPE_CALL_STATE, WZ_CALL_IDLE,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MUTED] =
    g_param_spec_boolean ("muted", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_CAMERA_OFF] =
    g_param_spec_boolean ("camera-off", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PROBLEM] =
    g_param_spec_string ("problem", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STARTED_AT] =
    g_param_spec_int64 ("started-at", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ENDED_AT] =
    g_param_spec_int64 ("ended-at", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STATS] =
    g_param_spec_boxed ("stats", NULL, NULL, WZ_TYPE_CALL_STATS,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_QUALITY] =
    g_param_spec_enum ("quality", NULL, NULL, WZ_TYPE_CALL_QUALITY, WZ_CALL_QUALITY_UNKNOWN,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PEER] =
    g_param_spec_string ("peer", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * WzCall::signal-out:
   * @frame: an offer, answer, ice or hangup frame to send over /ws as it is
   */
  signals[SIGNAL_OUT] =
    g_signal_new ("signal-out", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, JSON_TYPE_OBJECT);

  /**
   * WzCall::remote-frame:
   * @texture: the remote picture now shown
   */
  signals[REMOTE_FRAME] =
    g_signal_new ("remote-frame", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, GDK_TYPE_TEXTURE);
}

static void
wz_call_init (WzCall *self)
{
  self->context = g_main_context_ref_thread_default ();
  self->pending_candidates = g_ptr_array_new_with_free_func (ice_candidate_free);
  self->stats.rtt_ms = -1;
  self->stats.remote_audio_level_db = -100;
  self->level_centi_db = -10000;
  self->remote = wz_call_paintable_new (self->context);
  self->local = wz_call_paintable_new (self->context);
  g_signal_connect (self->remote, "frame", G_CALLBACK (remote_frame), self);
}

WzCall *
wz_call_new (const char *encounter_ref,
             const char *call_id)
{
  WzCall *self;

  g_return_val_if_fail (encounter_ref != NULL, NULL);

  if (!gst_is_initialized ())
    gst_init (NULL, NULL);

  self = g_object_new (WZ_TYPE_CALL, NULL);
  self->encounter = g_strdup (encounter_ref);
  self->id = call_id != NULL ? g_strdup (call_id) : g_uuid_string_random ();
  return self;
}
