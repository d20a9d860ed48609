/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-call-probe"

#include "config.h"

#include <gio/gio.h>
#include <gio/gunixinputstream.h>
#include <libsoup/soup.h>
#include <stdio.h>
#include <string.h>

#define GST_USE_UNSTABLE_API
#include <gst/video/video.h>

#include "wz-call.h"

/* The doctor's end of a call without a window: signs nothing in itself (it is given a token),
 * opens the real server's /ws, and runs one WzCall against whoever answers in the encounter —
 * the patient page in Chromium for the browser tests and the latency benchmark.
 *
 * Commands, one per line on stdin: call, mute, unmute, camera-off, camera-on, hangup,
 * garbage-offer (an offer with a broken SDP under a new call id), ice-unknown (a candidate for
 * a call nobody has), drop-socket (cut the /ws connection; it is opened again), quit. Status goes to stdout as one JSON object per line, every 250 ms and
 * on every change; a socket that closes is opened again. With --counter the picture carries a frame counter as black and white blocks
 * and the times each number was drawn and seen are written to --latency-log. */

#define WIDTH 640
#define HEIGHT 480
#define BITS 16
#define BLOCK 40   /* 16 blocks of 40 px fill the top row */

typedef struct
{
  GMainLoop               *loop;
  SoupSession             *soup;
  SoupWebsocketConnection *ws;
  WzCall                  *call;
  GDataInputStream        *commands;
  GCancellable            *cancellable;
  char                    *server;
  char                    *token;
  char                    *encounter;
  char                    *stun;
  char                    *turn;
  gboolean                 counter;
  FILE                    *latency_log;
  GMutex                   log_lock;
  guint                    counter_value;
  int                      last_seen;
  gboolean                 ready;
  guint                    offers_sent;
  guint                    socket_attempt;
  guint                    socket_retry_id;
  int                      exit_code;
} Probe;

static void
emit_line (JsonBuilder *builder)
{
  g_autoptr(JsonNode) root = json_builder_get_root (builder);
  g_autofree char *text = json_to_string (root, FALSE);

  printf ("%s\n", text);
  fflush (stdout);
}

static void
report (Probe      *self,
        const char *event)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "event");
  json_builder_add_string_value (b, event);
  if (self->call != NULL)
    {
      const WzCallStats *stats = wz_call_get_stats (self->call);
      GEnumClass *states = g_type_class_ref (WZ_TYPE_CALL_STATE);

      json_builder_set_member_name (b, "call");
      json_builder_add_string_value (b, wz_call_get_id (self->call));
      json_builder_set_member_name (b, "state");
      json_builder_add_string_value (b, g_enum_get_value (states,
                                                          wz_call_get_state (self->call))->value_nick);
      g_type_class_unref (states);
      json_builder_set_member_name (b, "framesDecoded");
      json_builder_add_int_value (b, (gint64) stats->video_frames_decoded);
      json_builder_set_member_name (b, "framesSent");
      json_builder_add_int_value (b, (gint64) stats->video_frames_sent);
      json_builder_set_member_name (b, "audioPackets");
      json_builder_add_int_value (b, (gint64) stats->audio_packets_received);
      json_builder_set_member_name (b, "audioLevel");
      json_builder_add_double_value (b, stats->remote_audio_level_db);
      json_builder_set_member_name (b, "bitrateIn");
      json_builder_add_double_value (b, stats->bitrate_in_kbps);
      json_builder_set_member_name (b, "rtt");
      json_builder_add_double_value (b, stats->rtt_ms);
      json_builder_set_member_name (b, "muted");
      json_builder_add_boolean_value (b, wz_call_get_muted (self->call));
      json_builder_set_member_name (b, "problem");
      json_builder_add_string_value (b, wz_call_get_problem (self->call));
      json_builder_set_member_name (b, "endedBy");
      json_builder_add_string_value (b, wz_call_get_ended_by (self->call));
      json_builder_set_member_name (b, "endReason");
      json_builder_add_string_value (b, wz_call_get_end_reason (self->call));
      json_builder_set_member_name (b, "peer");
      json_builder_add_string_value (b, wz_call_get_peer (self->call));
      json_builder_set_member_name (b, "startedAt");
      json_builder_add_int_value (b, wz_call_get_started_at (self->call));
      json_builder_set_member_name (b, "duration");
      json_builder_add_int_value (b, wz_call_get_duration (self->call));
      json_builder_set_member_name (b, "offersSent");
      json_builder_add_int_value (b, self->offers_sent);
    }
  json_builder_set_member_name (b, "socket");
  json_builder_add_boolean_value (b, self->ws != NULL && soup_websocket_connection_get_state (self->ws) ==
                                                         SOUP_WEBSOCKET_STATE_OPEN);
  json_builder_end_object (b);
  emit_line (b);
}

static void
send_object (Probe      *self,
             JsonObject *frame)
{
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *text = NULL;

  if (self->ws == NULL || soup_websocket_connection_get_state (self->ws) != SOUP_WEBSOCKET_STATE_OPEN)
    return;
  json_node_set_object (node, frame);
  text = json_to_string (node, FALSE);
  soup_websocket_connection_send_text (self->ws, text);
}

static void
on_signal_out (WzCall     *call,
               JsonObject *frame,
               Probe      *self)
{
  if (g_strcmp0 (json_object_get_string_member_with_default (frame, "type", ""), "offer") == 0)
    self->offers_sent++;
  send_object (self, frame);
}

static void
on_call_state (WzCall     *call,
               GParamSpec *pspec,
               Probe      *self)
{
  report (self, "state");
}

/* ── Frame counter in the picture ─────────────────────────────────────────────────────── */

static void
log_time (Probe *self,
          char   kind,
          guint  value)
{
  if (self->latency_log == NULL)
    return;
  g_mutex_lock (&self->log_lock);
  fprintf (self->latency_log, "%c %u %" G_GINT64_FORMAT "\n", kind, value, g_get_real_time ());
  g_mutex_unlock (&self->log_lock);
}

/* Draws the counter into each I420 frame just as the source made it: that instant is the
 * "glass" the latency is measured from. */
static GstPadProbeReturn
draw_counter (GstPad          *pad,
              GstPadProbeInfo *info,
              gpointer         user_data)
{
  Probe *self = user_data;
  GstBuffer *buffer = gst_buffer_make_writable (GST_PAD_PROBE_INFO_BUFFER (info));
  GstVideoInfo vinfo;
  GstVideoFrame frame;
  guint value = (self->counter_value++) & ((1u << BITS) - 1);

  GST_PAD_PROBE_INFO_DATA (info) = buffer;
  gst_video_info_set_format (&vinfo, GST_VIDEO_FORMAT_I420, WIDTH, HEIGHT);
  if (!gst_video_frame_map (&frame, &vinfo, buffer, GST_MAP_WRITE))
    return GST_PAD_PROBE_OK;

  for (guint bit = 0; bit < BITS; bit++)
    {
      guint8 luma = (value >> (BITS - 1 - bit)) & 1 ? 235 : 16;

      for (guint y = 0; y < BLOCK; y++)
        {
          guint8 *row = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, 0) +
                        y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0);

          memset (row + bit * BLOCK, luma, BLOCK);
        }
      for (guint p = 1; p < 3; p++)
        for (guint y = 0; y < BLOCK / 2; y++)
          {
            guint8 *row = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, p) +
                          y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, p);

            memset (row + bit * BLOCK / 2, 128, BLOCK / 2);
          }
    }
  gst_video_frame_unmap (&frame);
  log_time (self, 'S', value);
  return GST_PAD_PROBE_OK;
}

static void
on_remote_frame (WzCall     *call,
                 GdkTexture *texture,
                 Probe      *self)
{
  int width = gdk_texture_get_width (texture);
  int height = gdk_texture_get_height (texture);
  g_autofree guchar *pixels = NULL;
  gsize stride = (gsize) width * 4;
  guint value = 0;

  if (width < BITS * 8 || height < BLOCK)
    return;
  pixels = g_malloc (stride * height);
  gdk_texture_download (texture, pixels, stride);

  /* The sender's picture may be scaled: sample the middle of each of the 16 blocks of the top
   * row in proportion. */
  for (guint bit = 0; bit < BITS; bit++)
    {
      int x = (int) ((bit + 0.5) * width / BITS);
      int y = (int) (0.5 * BLOCK * height / HEIGHT);
      const guchar *px = pixels + y * stride + x * 4;
      int luma = (px[0] * 3 + px[1] * 6 + px[2]) / 10;

      value = (value << 1) | (luma > 128 ? 1 : 0);
    }
  if ((int) value != self->last_seen)
    {
      self->last_seen = (int) value;
      log_time (self, 'R', value);
    }
}

static GstElement *
video_source (Probe *self)
{
  g_autoptr(GError) error = NULL;
  GstElement *bin = gst_parse_bin_from_description (
    "videotestsrc is-live=true pattern=ball ! "
    "video/x-raw,format=I420,width=640,height=480,framerate=30/1 ! identity name=stamp",
    TRUE, &error);

  g_assert_no_error (error);
  if (self->counter)
    {
      g_autoptr(GstElement) stamp = gst_bin_get_by_name (GST_BIN (bin), "stamp");
      g_autoptr(GstPad) pad = gst_element_get_static_pad (stamp, "src");

      gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, draw_counter, self, NULL);
    }
  return bin;
}

static GstElement *
audio_source (void)
{
  g_autoptr(GError) error = NULL;
  GstElement *bin = gst_parse_bin_from_description (
    "audiotestsrc is-live=true samplesperbuffer=480 freq=440 volume=0.3", TRUE, &error);

  g_assert_no_error (error);
  return bin;
}

/* ── Commands ────────────────────────────────────────────────────────────────────────── */

static void
start_call (Probe *self)
{
  if (self->call != NULL && wz_call_get_state (self->call) != WZ_CALL_ENDED &&
      wz_call_get_state (self->call) != WZ_CALL_FAILED)
    return;
  g_clear_object (&self->call);
  self->call = wz_call_new (self->encounter, NULL);
  wz_call_set_ice_servers (self->call, self->stun, self->turn);
  wz_call_set_sources (self->call, video_source (self), audio_source ());
  g_signal_connect (self->call, "signal-out", G_CALLBACK (on_signal_out), self);
  g_signal_connect (self->call, "notify::state", G_CALLBACK (on_call_state), self);
  if (self->counter)
    g_signal_connect (self->call, "remote-frame", G_CALLBACK (on_remote_frame), self);
  wz_call_start (self->call);
}

static void
send_stray (Probe      *self,
            const char *kind)
{
  g_autoptr(JsonObject) frame = json_object_new ();
  g_autofree char *id = g_uuid_string_random ();

  json_object_set_string_member (frame, "encounter", self->encounter);
  json_object_set_string_member (frame, "call", id);
  if (g_str_equal (kind, "garbage-offer"))
    {
      json_object_set_string_member (frame, "type", "offer");
      json_object_set_string_member (frame, "sdp", "v=0\r\no=garbage\r\nm=video nonsense\r\n");
    }
  else
    {
      json_object_set_string_member (frame, "type", "ice");
      json_object_set_string_member (frame, "candidate",
                                     "candidate:1 1 udp 2122260223 10.9.9.9 9 typ host");
      json_object_set_int_member (frame, "sdpMLineIndex", 0);
    }
  send_object (self, frame);
}

static void read_command (Probe *self);
static void retry_socket (Probe *self);

static void
on_command (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Probe *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source),
                                                                      result, NULL, &error);

  if (line == NULL)
    {
      /* stdin closed: the driver is gone, so is the probe. */
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_main_loop_quit (self->loop);
      return;
    }
  g_strstrip (line);

  if (g_str_equal (line, "call"))
    start_call (self);
  else if (g_str_equal (line, "mute") && self->call)
    wz_call_set_muted (self->call, TRUE);
  else if (g_str_equal (line, "unmute") && self->call)
    wz_call_set_muted (self->call, FALSE);
  else if (g_str_equal (line, "camera-off") && self->call)
    wz_call_set_camera_off (self->call, TRUE);
  else if (g_str_equal (line, "camera-on") && self->call)
    wz_call_set_camera_off (self->call, FALSE);
  else if (g_str_equal (line, "hangup") && self->call)
    wz_call_hangup (self->call, "ended");
  else if (g_str_equal (line, "garbage-offer") || g_str_equal (line, "ice-unknown"))
    send_stray (self, line);
  else if (g_str_equal (line, "drop-socket") && self->ws != NULL)
    {
      /* The connection is cut here, not closed politely: what was queued on it is lost. */
      g_signal_handlers_disconnect_by_data (self->ws, self);
      g_io_stream_close (soup_websocket_connection_get_io_stream (self->ws), NULL, NULL);
      g_clear_object (&self->ws);
      report (self, "socket-closed");
      retry_socket (self);
    }
  else if (g_str_equal (line, "quit"))
    {
      g_main_loop_quit (self->loop);
      return;
    }
  else if (*line != '\0')
    g_printerr ("wz-call-probe: unknown command “%s”\n", line);

  report (self, "command");
  read_command (self);
}

static void
read_command (Probe *self)
{
  g_data_input_stream_read_line_async (self->commands, G_PRIORITY_DEFAULT, self->cancellable,
                                       on_command, self);
}

/* ── The socket ──────────────────────────────────────────────────────────────────────── */

static void
on_ws_message (SoupWebsocketConnection *ws,
               int                      data_type,
               GBytes                  *message,
               Probe                   *self)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  gsize size;
  const char *data = g_bytes_get_data (message, &size);
  JsonObject *frame;
  const char *type;

  if (!json_parser_load_from_data (parser, data, (gssize) size, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return;
  frame = json_node_get_object (json_parser_get_root (parser));
  type = json_object_get_string_member_with_default (frame, "type", "");

  if (g_str_equal (type, "hello"))
    {
      /* As the app does: after a break in the socket, a reconnecting call offers anew. */
      if (self->ready && self->call != NULL)
        wz_call_signaling_resumed (self->call);
      self->ready = TRUE;
      report (self, "ready");
    }
  else if (g_str_equal (type, "presence"))
    {
      if (self->call != NULL &&
          g_strcmp0 (json_object_get_string_member_with_default (frame, "patient", ""), "online") == 0)
        wz_call_signaling_resumed (self->call);
    }
  else if (g_str_equal (type, "error"))
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "event");
      json_builder_add_string_value (b, "server-error");
      json_builder_set_member_name (b, "message");
      json_builder_add_string_value (b, json_object_get_string_member_with_default (frame, "message", ""));
      json_builder_end_object (b);
      emit_line (b);
    }
  else if (g_strv_contains ((const char *const[]) { "offer", "answer", "ice", "hangup", NULL }, type))
    {
      if (self->call == NULL || !wz_call_handle_signal (self->call, frame, &error))
        {
          g_autoptr(JsonBuilder) b = json_builder_new ();

          json_builder_begin_object (b);
          json_builder_set_member_name (b, "event");
          json_builder_add_string_value (b, "refused");
          json_builder_set_member_name (b, "type");
          json_builder_add_string_value (b, type);
          json_builder_set_member_name (b, "message");
          json_builder_add_string_value (b, error ? error->message : "no call");
          json_builder_end_object (b);
          emit_line (b);
        }
    }
}

static void connect_socket (Probe *self);

static gboolean
on_socket_retry (gpointer user_data)
{
  Probe *self = user_data;

  self->socket_retry_id = 0;
  connect_socket (self);
  return G_SOURCE_REMOVE;
}

/* As the app's realtime connection does: a lost socket is opened again, sooner at first. */
static void
retry_socket (Probe *self)
{
  guint delay_ms = MIN (500u << MIN (self->socket_attempt, 4u), 4000u);

  self->socket_attempt++;
  g_clear_handle_id (&self->socket_retry_id, g_source_remove);
  self->socket_retry_id = g_timeout_add (delay_ms, on_socket_retry, self);
}

static void
on_ws_closed (SoupWebsocketConnection *ws,
              Probe                   *self)
{
  g_printerr ("wz-call-probe: the socket closed; opening it again\n");
  g_signal_handlers_disconnect_by_data (ws, self);
  g_clear_object (&self->ws);
  report (self, "socket-closed");
  retry_socket (self);
}

static void
on_ws_connected (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Probe *self = user_data;
  g_autoptr(GError) error = NULL;

  self->ws = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &error);
  if (self->ws == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      g_printerr ("wz-call-probe: cannot open %s/ws: %s\n", self->server, error->message);
      if (!self->ready)
        {
          /* Never reached: a wrong address or token, not a dropped network. */
          self->exit_code = 2;
          g_main_loop_quit (self->loop);
        }
      else
        retry_socket (self);
      return;
    }
  self->socket_attempt = 0;
  soup_websocket_connection_set_keepalive_interval (self->ws, 20);
  g_signal_connect (self->ws, "message", G_CALLBACK (on_ws_message), self);
  g_signal_connect (self->ws, "closed", G_CALLBACK (on_ws_closed), self);
}

static void
connect_socket (Probe *self)
{
  g_autofree char *ws_url = g_strconcat (self->server, "/ws", NULL);
  g_autofree char *bearer = g_strconcat ("Bearer ", self->token, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new (SOUP_METHOD_GET, ws_url);

  if (msg == NULL)
    return;
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", bearer);
  soup_session_websocket_connect_async (self->soup, msg, NULL, NULL, G_PRIORITY_DEFAULT,
                                        self->cancellable, on_ws_connected, self);
}

static gboolean
on_tick (gpointer user_data)
{
  Probe *self = user_data;

  if (self->ready)
    report (self, "status");
  return G_SOURCE_CONTINUE;
}

int
main (int   argc,
      char *argv[])
{
  Probe probe = { 0 };
  g_autofree char *latency_log = NULL;
  g_autofree char *ws_url = NULL;
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GInputStream) in = NULL;
  const GOptionEntry entries[] = {
    { "server", 0, 0, G_OPTION_ARG_STRING, &probe.server, "Server URL", "URL" },
    { "token", 0, 0, G_OPTION_ARG_STRING, &probe.token, "Doctor's access token", "TOKEN" },
    { "encounter", 0, 0, G_OPTION_ARG_STRING, &probe.encounter, "Encounter/ID", "REF" },
    { "stun-server", 0, 0, G_OPTION_ARG_STRING, &probe.stun, "STUN server", "URI" },
    { "turn-server", 0, 0, G_OPTION_ARG_STRING, &probe.turn, "TURN server", "URI" },
    { "counter", 0, 0, G_OPTION_ARG_NONE, &probe.counter, "Frame counter in the picture", NULL },
    { "latency-log", 0, 0, G_OPTION_ARG_FILENAME, &latency_log, "Where counter times go", "FILE" },
    { NULL }
  };

  context = g_option_context_new ("- the doctor's end of a video call, headless");
  g_option_context_add_main_entries (context, entries, NULL);
  gst_init (&argc, &argv);
  if (!g_option_context_parse (context, &argc, &argv, &error) || probe.server == NULL ||
      probe.token == NULL || probe.encounter == NULL)
    {
      g_printerr ("wz-call-probe: %s\n", error ? error->message
                                               : "--server, --token and --encounter are needed");
      return 64;
    }
  if (latency_log != NULL && (probe.latency_log = fopen (latency_log, "w")) == NULL)
    {
      g_printerr ("wz-call-probe: cannot write %s\n", latency_log);
      return 64;
    }
  if (g_getenv ("WZ_CALL_AUDIO_SINK") == NULL)
    g_setenv ("WZ_CALL_AUDIO_SINK", "fakesink", TRUE);

  g_mutex_init (&probe.log_lock);
  probe.last_seen = -1;
  probe.loop = g_main_loop_new (NULL, FALSE);
  probe.cancellable = g_cancellable_new ();
  probe.soup = soup_session_new ();
  ws_url = g_strconcat (probe.server, "/ws", NULL);
  if (!g_uri_is_valid (ws_url, G_URI_FLAGS_NONE, NULL))
    {
      g_printerr ("wz-call-probe: “%s” is not a URL\n", probe.server);
      return 64;
    }
  connect_socket (&probe);

  in = g_unix_input_stream_new (0, FALSE);
  probe.commands = g_data_input_stream_new (in);
  read_command (&probe);
  g_timeout_add (250, on_tick, &probe);

  g_main_loop_run (probe.loop);

  report (&probe, "exit");
  g_cancellable_cancel (probe.cancellable);
  g_clear_handle_id (&probe.socket_retry_id, g_source_remove);
  if (probe.call != NULL)
    {
      g_signal_handlers_disconnect_by_data (probe.call, &probe);
      g_clear_object (&probe.call);
    }
  if (probe.ws != NULL)
    {
      g_signal_handlers_disconnect_by_data (probe.ws, &probe);
      if (soup_websocket_connection_get_state (probe.ws) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (probe.ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
      g_clear_object (&probe.ws);
    }
  if (probe.latency_log != NULL)
    fclose (probe.latency_log);
  g_clear_object (&probe.commands);
  g_clear_object (&probe.soup);
  g_clear_object (&probe.cancellable);
  g_main_loop_unref (probe.loop);
  g_free (probe.server);
  g_free (probe.token);
  g_free (probe.encounter);
  g_free (probe.stun);
  g_free (probe.turn);
  return probe.exit_code;
}
