/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gdk/gdk.h>
#include <gst/gst.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Where one call stands. Changes only on the main context. */
typedef enum
{
  WZ_CALL_IDLE,          /* made, nothing sent or received yet */
  WZ_CALL_RINGING,       /* an offer came in; waiting for wz_call_accept() or a decline */
  WZ_CALL_OUTGOING,      /* our offer is out; waiting for the answer */
  WZ_CALL_CONNECTING,    /* offer and answer exchanged; ICE/DTLS not up yet */
  WZ_CALL_CONNECTED,     /* media flows */
  WZ_CALL_RECONNECTING,  /* the network path dropped; ICE restart under way */
  WZ_CALL_ENDED,         /* hung up by either side (see ended-by, end-reason) */
  WZ_CALL_FAILED,        /* could not connect or broke for good (see problem) */
} WzCallState;

GType wz_call_state_get_type (void) G_GNUC_CONST;
#define WZ_TYPE_CALL_STATE (wz_call_state_get_type ())

/* Derived from the figures below: good (loss < 2 %, RTT < 200 ms, jitter < 30 ms), poor (loss
 * > 8 %, RTT > 400 ms, jitter > 60 ms or nothing received for 3 s), fair in between. */
typedef enum
{
  WZ_CALL_QUALITY_UNKNOWN,
  WZ_CALL_QUALITY_GOOD,
  WZ_CALL_QUALITY_FAIR,
  WZ_CALL_QUALITY_POOR,
} WzCallQuality;

GType wz_call_quality_get_type (void) G_GNUC_CONST;
#define WZ_TYPE_CALL_QUALITY (wz_call_quality_get_type ())

/* Refreshed once a second while the call has media (property "stats", notified each time). */
typedef struct
{
  double        bitrate_in_kbps;     /* received video + audio payload */
  double        bitrate_out_kbps;    /* sent video + audio payload */
  double        loss_percent;        /* inbound packets lost over the last second(s), 0–100 */
  double        rtt_ms;              /* round trip from RTCP, -1 when not known yet */
  double        jitter_ms;           /* inbound, the larger of audio and video */
  WzCallQuality quality;
  guint64       video_frames_decoded;  /* remote video frames decoded so far */
  guint64       video_frames_sent;     /* local video frames handed to the encoder */
  guint64       audio_packets_received;
  double        remote_audio_level_db; /* RMS of the remote audio over the last second; -100 silent */
} WzCallStats;

GType        wz_call_stats_get_type (void) G_GNUC_CONST;
#define WZ_TYPE_CALL_STATS (wz_call_stats_get_type ())
WzCallStats *wz_call_stats_copy     (const WzCallStats *stats);
void         wz_call_stats_free     (WzCallStats       *stats);

#define WZ_TYPE_CALL (wz_call_get_type ())

G_DECLARE_FINAL_TYPE (WzCall, wz_call, WZ, CALL, GObject)

/* ENCOUNTER_REF is "Encounter/ID". CALL_ID NULL makes a new v4 uuid (for calling out); for an
 * incoming offer pass its "call". */
WzCall        *wz_call_new                (const char  *encounter_ref,
                                           const char  *call_id);

const char    *wz_call_get_id             (WzCall      *self);
const char    *wz_call_get_encounter      (WzCall      *self);
/* "Patient/…" or "Practitioner/…" of the other side once a relayed frame named it. */
const char    *wz_call_get_peer           (WzCall      *self);

/* Before start/accept. STUN_URI as stun://host:port; TURN_URI as turn(s)://user:password@host:port
 * or "turn:host:port,user,credential" (the server's form). NULL or "" for none. Host candidates,
 * loopback included, are always gathered. */
void           wz_call_set_ice_servers    (WzCall      *self,
                                           const char  *stun_uri,
                                           const char  *turn_uri);
/* Before start/accept. Ids as from wz_call_device_get_id(); NULL or "" = system default. With no
 * camera at all a test pattern is sent (and "problem" says why); a chosen camera that is missing
 * or busy also falls back to the pattern and sets "problem". */
void           wz_call_set_devices        (WzCall      *self,
                                           const char  *camera_id,
                                           const char  *microphone_id);
/* Before start/accept: use these elements (or bins with one src pad, raw video / raw audio) as
 * the sources instead of devices; the call takes the floating references. For the simulated
 * patient and the benchmarks. Either may be NULL to keep devices for that kind. */
void           wz_call_set_sources        (WzCall      *self,
                                           GstElement  *video_source,
                                           GstElement  *audio_source);

/* Doctor calls: builds the pipeline and sends an offer (state OUTGOING). */
void           wz_call_start              (WzCall      *self);
/* Feeds a frame from the server (offer / answer / ice / hangup, relayed, with "from").
 * Returns FALSE with an error when the frame is not for this call (other call id or encounter,
 * G_IO_ERROR_NOT_FOUND) or malformed (G_IO_ERROR_INVALID_DATA); a bad SDP fails only the
 * attempt it belongs to (state FAILED, "problem" set). Re-join: an offer with this call id
 * from a peer that restarted (new DTLS fingerprint) replaces the media session and is answered
 * at once if the call had been accepted; one with the same fingerprint is an ICE restart. */
gboolean       wz_call_handle_signal      (WzCall      *self,
                                           JsonObject  *frame,
                                           GError     **error);
/* The signaling path is back after a break: our /ws reconnected, or the other side's page
 * opened its socket again (presence "online"). What was sent meanwhile may be lost, so a call
 * that is RECONNECTING, as the side that called, offers a new session now. Otherwise nothing. */
void           wz_call_signaling_resumed  (WzCall      *self);
/* Answers the pending offer (state RINGING → CONNECTING). */
void           wz_call_accept             (WzCall      *self);
/* Sends a hangup with REASON ("ended", "declined", "busy", "failed") and stops the media;
 * state ENDED. Does nothing once ENDED/FAILED. */
void           wz_call_hangup             (WzCall      *self,
                                           const char  *reason);

void           wz_call_set_muted          (WzCall      *self,
                                           gboolean     muted);
gboolean       wz_call_get_muted          (WzCall      *self);
void           wz_call_set_camera_off     (WzCall      *self,
                                           gboolean     off);
gboolean       wz_call_get_camera_off     (WzCall      *self);

WzCallState    wz_call_get_state          (WzCall      *self);
/* A translated sentence for the user, or NULL: why the call failed, the camera is missing or
 * busy, the patient's browser refused the camera, or no network path was found (suggests TURN). */
const char    *wz_call_get_problem        (WzCall      *self);
/* Wall-clock microseconds (g_get_real_time) when media first connected / the call ended; 0 if
 * not (yet). */
gint64         wz_call_get_started_at     (WzCall      *self);
gint64         wz_call_get_ended_at       (WzCall      *self);
/* Seconds connected so far (or in total once ended). */
guint          wz_call_get_duration       (WzCall      *self);
/* Once ENDED/FAILED: "local", "remote" or NULL (failure nobody chose); and the hangup reason
 * ("ended", "declined", "busy", "failed", "camera-refused"). */
const char    *wz_call_get_ended_by       (WzCall      *self);
const char    *wz_call_get_end_reason     (WzCall      *self);
gboolean       wz_call_get_is_caller      (WzCall      *self);

const WzCallStats *wz_call_get_stats      (WzCall      *self);
WzCallQuality  wz_call_get_quality        (WzCall      *self);

/* The remote video and our own camera (self view), as the frames arrive; never NULL. */
GdkPaintable  *wz_call_get_remote_paintable (WzCall    *self);
GdkPaintable  *wz_call_get_local_paintable  (WzCall    *self);

/* The id wz_call_set_devices() expects for a GstDevice from a GstDeviceMonitor (stable across
 * runs: the device path where there is one, else its name). */
char          *wz_call_device_get_id      (GstDevice   *device);

/* The pipeline, for benchmarks and tests that add probes; NULL before start/accept. */
GstElement    *wz_call_get_pipeline       (WzCall      *self);

G_END_DECLS

/* Properties: "state" (WzCallState), "muted", "camera-off", "problem", "started-at",
 * "ended-at", "stats" (WzCallStats, boxed), "quality" (WzCallQuality), "peer".
 * Signals:
 *   signal-out (JsonObject *frame): send FRAME over /ws as it is (WzRealtime);
 *   remote-frame (GdkTexture *texture): a remote video frame arrived (also in the paintable).
 * Everything is emitted on the main context the call was made on. */
