/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-call-peer"

#include "config.h"

#include <glib-unix.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <stdio.h>

#include "wz-call.h"

/* The patient's end of a call for the call page's UI tests: a WzCall on the server's /ws with a
 * patient session (from a visit link), sending a moving test picture and a tone instead of a
 * camera and microphone. It answers the doctor's calls, or calls the doctor itself, and prints
 * one line per observable change on stdout for the test script to follow:
 *
 *   wz-call-peer --server URL --token PATIENT_TOKEN --encounter Encounter/E
 *                [--call] [--answer-after MS] [--decline]
 *
 *   peer=connected                   the socket is up (hello received)
 *   peer-state=STATE call=ID         the call's state (ringing, connecting, connected, ended…)
 *   peer-stats decoded=N level=DB    once a second while connected: the doctor's video frames
 *                                    decoded so far and the level of the doctor's audio
 *   peer-ended by=… reason=…
 *
 * SIGUSR1 hangs up; SIGTERM quits. */

static SoupWebsocketConnection *connection;
static WzCall *call;
static char *encounter;
static gboolean place_call;
static gboolean decline;
static int answer_after_ms = 300;
static GMainLoop *loop;

static const char *
state_nick (WzCallState state)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (WZ_TYPE_CALL_STATE);
  GEnumValue *value = g_enum_get_value (klass, state);

  return value != NULL ? value->value_nick : "unknown";
}

static void
say (const char *format,
     ...)
{
  va_list args;

  va_start (args, format);
  vprintf (format, args);
  va_end (args);
  putchar ('\n');
  fflush (stdout);
}

static void
on_signal_out (WzCall     *source,
               JsonObject *frame,
               gpointer    user_data)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), frame);
  g_autofree char *text = json_to_string (node, FALSE);

  if (connection != NULL
      && soup_websocket_connection_get_state (connection) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_text (connection, text);
}

static gboolean
accept_later (gpointer user_data)
{
  if (call != NULL && wz_call_get_state (call) == WZ_CALL_RINGING)
    {
      if (decline)
        wz_call_hangup (call, "declined");
      else
        wz_call_accept (call);
    }

  return G_SOURCE_REMOVE;
}

static void
on_state (WzCall     *source,
          GParamSpec *pspec,
          gpointer    user_data)
{
  WzCallState state = wz_call_get_state (source);

  say ("peer-state=%s call=%s", state_nick (state), wz_call_get_id (source));
  if (state == WZ_CALL_RINGING)
    g_timeout_add (answer_after_ms, accept_later, NULL);
  if (state == WZ_CALL_ENDED || state == WZ_CALL_FAILED)
    say ("peer-ended by=%s reason=%s problem=%s",
         wz_call_get_ended_by (source) ? wz_call_get_ended_by (source) : "",
         wz_call_get_end_reason (source) ? wz_call_get_end_reason (source) : "",
         wz_call_get_problem (source) ? wz_call_get_problem (source) : "");
}

static void
on_stats (WzCall     *source,
          GParamSpec *pspec,
          gpointer    user_data)
{
  const WzCallStats *stats = wz_call_get_stats (source);

  if (stats != NULL)
    say ("peer-stats decoded=%" G_GUINT64_FORMAT " sent=%" G_GUINT64_FORMAT " level=%.0f",
         stats->video_frames_decoded, stats->video_frames_sent, stats->remote_audio_level_db);
}

static WzCall *
make_call (const char *call_id)
{
  WzCall *made = wz_call_new (encounter, call_id);
  GstElement *video = gst_parse_bin_from_description ("videotestsrc is-live=true pattern=ball "
                                                      "background-color=0xff2e5a88 ! "
                                                      "video/x-raw,width=640,height=480,framerate=30/1",
                                                      TRUE, NULL);
  GstElement *audio = gst_parse_bin_from_description ("audiotestsrc is-live=true wave=sine freq=440",
                                                      TRUE, NULL);

  wz_call_set_sources (made, video, audio);
  g_signal_connect (made, "signal-out", G_CALLBACK (on_signal_out), NULL);
  g_signal_connect (made, "notify::state", G_CALLBACK (on_state), NULL);
  g_signal_connect (made, "notify::stats", G_CALLBACK (on_stats), NULL);

  return made;
}

static void
on_message (SoupWebsocketConnection *conn,
            int                      type,
            GBytes                  *message,
            gpointer                 user_data)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *frame;
  const char *kind;
  const char *call_id;
  gsize size;
  const char *data = g_bytes_get_data (message, &size);

  if (!json_parser_load_from_data (parser, data, (gssize) size, NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return;

  frame = json_node_get_object (json_parser_get_root (parser));
  kind = json_object_get_string_member_with_default (frame, "type", "");
  call_id = json_object_get_string_member_with_default (frame, "call", NULL);

  if (g_str_equal (kind, "hello"))
    {
      say ("peer=connected");
      if (place_call && call == NULL)
        {
          call = make_call (NULL);
          wz_call_start (call);
        }
      return;
    }
  if (g_str_equal (kind, "error"))
    {
      say ("peer-error=%s", json_object_get_string_member_with_default (frame, "message", ""));
      return;
    }
  if (!g_str_equal (kind, "offer") && !g_str_equal (kind, "answer")
      && !g_str_equal (kind, "ice") && !g_str_equal (kind, "hangup"))
    return;

  /* A new call id from the doctor is a new call; an ended one makes room for it. */
  if (g_str_equal (kind, "offer") && call_id != NULL
      && (call == NULL || (g_strcmp0 (wz_call_get_id (call), call_id) != 0
                           && (wz_call_get_state (call) == WZ_CALL_ENDED
                               || wz_call_get_state (call) == WZ_CALL_FAILED))))
    {
      g_clear_object (&call);
      call = make_call (call_id);
    }

  if (call != NULL && !wz_call_handle_signal (call, frame, &error))
    g_debug ("Frame refused: %s", error->message);
}

static void
on_closed (SoupWebsocketConnection *conn,
           gpointer                 user_data)
{
  say ("peer=disconnected");
  g_main_loop_quit (loop);
}

static void
on_connected (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  connection = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &error);
  if (connection == NULL)
    {
      g_printerr ("wz-call-peer: cannot open /ws: %s\n", error->message);
      g_main_loop_quit (loop);
      return;
    }
  soup_websocket_connection_set_max_incoming_payload_size (connection, 256 * 1024);
  g_signal_connect (connection, "message", G_CALLBACK (on_message), NULL);
  g_signal_connect (connection, "closed", G_CALLBACK (on_closed), NULL);
}

static gboolean
on_hangup_signal (gpointer user_data)
{
  if (call != NULL)
    wz_call_hangup (call, "ended");

  return G_SOURCE_CONTINUE;
}

static gboolean
on_quit_signal (gpointer user_data)
{
  if (call != NULL)
    wz_call_hangup (call, "ended");
  g_main_loop_quit (loop);

  return G_SOURCE_REMOVE;
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *server = NULL;
  g_autofree char *token = NULL;
  g_autofree char *url = NULL;
  g_autofree char *bearer = NULL;
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(SoupSession) session = NULL;
  g_autoptr(SoupMessage) msg = NULL;
  GOptionEntry entries[] = {
    { "server", 0, 0, G_OPTION_ARG_STRING, &server, "Server base URL", "URL" },
    { "token", 0, 0, G_OPTION_ARG_STRING, &token, "The patient session's token", "TOKEN" },
    { "encounter", 0, 0, G_OPTION_ARG_STRING, &encounter, "Encounter/ID", "REF" },
    { "call", 0, 0, G_OPTION_ARG_NONE, &place_call, "Call the doctor once connected", NULL },
    { "answer-after", 0, 0, G_OPTION_ARG_INT, &answer_after_ms, "Answer after MS", "MS" },
    { "decline", 0, 0, G_OPTION_ARG_NONE, &decline, "Decline instead of answering", NULL },
    G_OPTION_ENTRY_NULL
  };

  context = g_option_context_new ("— the patient's end of a test call");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_group (context, gst_init_get_option_group ());
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("wz-call-peer: %s\n", error->message);
      return 2;
    }
  if (server == NULL || token == NULL || encounter == NULL)
    {
      g_printerr ("wz-call-peer: --server, --token and --encounter are required\n");
      return 2;
    }

  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGUSR1, on_hangup_signal, NULL);
  g_unix_signal_add (SIGTERM, on_quit_signal, NULL);
  g_unix_signal_add (SIGINT, on_quit_signal, NULL);

  session = soup_session_new ();
  url = g_strconcat (server, "/ws", NULL);
  msg = soup_message_new (SOUP_METHOD_GET, url);
  bearer = g_strconcat ("Bearer ", token, NULL);
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", bearer);
  soup_session_websocket_connect_async (session, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL,
                                        on_connected, NULL);

  g_main_loop_run (loop);

  g_clear_object (&call);
  if (connection != NULL
      && soup_websocket_connection_get_state (connection) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (connection, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  g_clear_object (&connection);
  g_main_loop_unref (loop);
  g_free (encounter);

  return 0;
}
