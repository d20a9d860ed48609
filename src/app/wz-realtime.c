/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-realtime"

#include "config.h"

#include "wz-realtime.h"

#include <signal.h>
#include <glib-unix.h>
#include <libsoup/soup.h>

#include "wz-test-report.h"
#include "wz-json.h"

/* The live connection to the server's `/ws`: resource events for the queue (and later chat and
 * call signaling). Authenticated with the session's token; a ping every 30 s keeps it honest
 * (no answer within two rounds counts as a drop); a drop is retried with exponential back-off
 * and jitter, and each hello after a drop is announced so the views can catch up on what they
 * missed. Everything is tied to one GCancellable per session. */
struct _WzRealtime
{
  GObject                  parent_instance;

  WzApiClient             *client;
  SoupSession             *soup;
  GCancellable            *cancellable;
  SoupWebsocketConnection *connection;
  char                    *token;
  char                    *url;
  WzRealtimeState          state;
  guint                    attempt;
  guint                    retry_id;
  guint                    ping_id;
  gint64                   last_heard_us;
  gboolean                 had_hello;

  /* Test seam (WZ_TEST_REPORT_FILE only): SIGUSR1 drops the connection and holds it down,
   * SIGUSR2 lets it come back, so a test can change data while the app is offline. */
  guint                    drop_signal_id;
  guint                    resume_signal_id;
  gboolean                 held_down;
};

G_DEFINE_FINAL_TYPE (WzRealtime, wz_realtime, G_TYPE_OBJECT)

G_DEFINE_ENUM_TYPE (WzRealtimeState, wz_realtime_state,
  G_DEFINE_ENUM_VALUE (WZ_REALTIME_STOPPED, "stopped"),
  G_DEFINE_ENUM_VALUE (WZ_REALTIME_CONNECTING, "connecting"),
  G_DEFINE_ENUM_VALUE (WZ_REALTIME_CONNECTED, "connected"),
  G_DEFINE_ENUM_VALUE (WZ_REALTIME_RECONNECTING, "reconnecting"))

enum {
  PROP_0,
  PROP_STATE,
  PROP_OFFLINE,
  N_PROPS
};

enum {
  CONNECTED,
  RESOURCE,
  MESSAGE,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

#define PING_SECONDS 30
#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 30000
/* The server refuses larger frames; ours are small JSON objects. */
#define MAX_FRAME_BYTES (64 * 1024)

static void connect_now (WzRealtime *self);

guint
wz_realtime_backoff_ms (guint  attempt,
                        double random)
{
  guint64 delay = BACKOFF_FIRST_MS;

  for (guint i = 0; i < attempt && delay < BACKOFF_MAX_MS; i++)
    delay *= 2;
  delay = MIN (delay, BACKOFF_MAX_MS);

  return (guint) (delay * (0.8 + 0.4 * CLAMP (random, 0.0, 1.0)));
}

static void
set_state (WzRealtime      *self,
           WzRealtimeState  state)
{
  gboolean was_offline = wz_realtime_get_offline (self);

  if (self->state == state)
    return;

  self->state = state;
  g_debug ("Realtime connection %s", g_enum_to_string (WZ_TYPE_REALTIME_STATE, state));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
  if (was_offline != wz_realtime_get_offline (self))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OFFLINE]);
}

static void
drop_connection (WzRealtime *self)
{
  g_clear_handle_id (&self->ping_id, g_source_remove);

  if (self->connection == NULL)
    return;

  g_signal_handlers_disconnect_by_data (self->connection, self);
  if (soup_websocket_connection_get_state (self->connection) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (self->connection, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  g_clear_object (&self->connection);
}

static gboolean
on_retry_timeout (gpointer user_data)
{
  WzRealtime *self = user_data;

  self->retry_id = 0;
  connect_now (self);

  return G_SOURCE_REMOVE;
}

static void
schedule_reconnect (WzRealtime *self)
{
  guint delay;

  drop_connection (self);
  if (self->cancellable == NULL || g_cancellable_is_cancelled (self->cancellable))
    return;

  set_state (self, self->had_hello ? WZ_REALTIME_RECONNECTING
                                   : (self->attempt == 0 ? WZ_REALTIME_CONNECTING
                                                         : WZ_REALTIME_RECONNECTING));
  if (self->held_down || self->retry_id != 0)
    return;

  delay = wz_realtime_backoff_ms (self->attempt, g_random_double ());
  self->attempt++;
  wz_test_report ("realtime=reconnecting attempt=%u delay-ms=%u", self->attempt, delay);
  self->retry_id = g_timeout_add (delay, on_retry_timeout, self);
}

/* ---------------------------------------------------------------------------------------- */
/* Frames */

static void
handle_frame (WzRealtime *self,
              JsonNode   *node)
{
  JsonObject *object = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  const char *type = wz_json_get_string (object, "type");

  if (type == NULL)
    {
      g_debug ("Ignoring a realtime frame without a type");
      return;
    }

  if (g_str_equal (type, "hello"))
    {
      gboolean again = self->had_hello;

      self->had_hello = TRUE;
      self->attempt = 0;
      set_state (self, WZ_REALTIME_CONNECTED);
      wz_test_report ("realtime=connected again=%s", again ? "yes" : "no");
      g_signal_emit (self, signals[CONNECTED], 0, again);
    }
  else if (g_str_equal (type, "resource"))
    {
      const char *resource_type = wz_json_get_string (object, "resourceType");
      const char *id = wz_json_get_string (object, "id");

      if (resource_type == NULL || id == NULL)
        return;

      g_signal_emit (self, signals[RESOURCE], g_quark_from_string (resource_type),
                     resource_type, id, wz_json_get_string (object, "versionId"),
                     wz_json_get_string (object, "patient"), wz_json_get_string (object, "encounter"));
    }
  else if (g_str_equal (type, "pong"))
    ;
  else if (g_str_equal (type, "error"))
    g_debug ("The server refused a realtime frame: %s", wz_json_get_string (object, "message"));
  else
    g_signal_emit (self, signals[MESSAGE], g_quark_from_string (type), type, node);
}

static void
on_message (SoupWebsocketConnection *connection,
            int                      data_type,
            GBytes                  *message,
            WzRealtime              *self)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) error = NULL;
  gsize size;
  const char *data;

  self->last_heard_us = g_get_monotonic_time ();
  if (data_type != SOUP_WEBSOCKET_DATA_TEXT)
    return;

  data = g_bytes_get_data (message, &size);
  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, data, (gssize) size, &error))
    {
      g_debug ("Ignoring a realtime frame that is not JSON: %s", error->message);
      return;
    }

  handle_frame (self, json_parser_get_root (parser));
}

static void
on_closed (SoupWebsocketConnection *connection,
           WzRealtime              *self)
{
  g_debug ("Realtime connection closed (code %u)",
           soup_websocket_connection_get_close_code (connection));
  wz_test_report ("realtime=dropped");
  schedule_reconnect (self);
}

static void
on_error (SoupWebsocketConnection *connection,
          GError                  *error,
          WzRealtime              *self)
{
  g_debug ("Realtime connection error: %s", error->message);
}

static gboolean
on_ping_timeout (gpointer user_data)
{
  WzRealtime *self = user_data;
  gint64 silent_us = g_get_monotonic_time () - self->last_heard_us;

  if (self->connection == NULL)
    {
      self->ping_id = 0;
      return G_SOURCE_REMOVE;
    }

  /* Two pings without an answer: the connection is gone even if TCP has not noticed. */
  if (silent_us > 2 * PING_SECONDS * G_USEC_PER_SEC + G_USEC_PER_SEC)
    {
      g_debug ("No answer from the server for %" G_GINT64_FORMAT " s; reconnecting",
               silent_us / G_USEC_PER_SEC);
      self->ping_id = 0;
      wz_test_report ("realtime=dropped reason=silent");
      schedule_reconnect (self);
      return G_SOURCE_REMOVE;
    }

  soup_websocket_connection_send_text (self->connection, "{\"type\":\"ping\"}");

  return G_SOURCE_CONTINUE;
}

gboolean
wz_realtime_send (WzRealtime *self,
                  JsonNode   *message)
{
  g_autofree char *text = NULL;

  g_return_val_if_fail (WZ_IS_REALTIME (self), FALSE);
  g_return_val_if_fail (message != NULL, FALSE);

  if (self->connection == NULL
      || soup_websocket_connection_get_state (self->connection) != SOUP_WEBSOCKET_STATE_OPEN)
    return FALSE;

  text = json_to_string (message, FALSE);
  soup_websocket_connection_send_text (self->connection, text);

  return TRUE;
}

/* ---------------------------------------------------------------------------------------- */
/* Connecting */

static void
on_connected (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(WzRealtime) self = user_data;
  g_autoptr(GError) error = NULL;
  SoupWebsocketConnection *connection;

  connection = soup_session_websocket_connect_finish (SOUP_SESSION (object), result, &error);
  if (connection == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      g_debug ("Cannot open the realtime connection to %s: %s", self->url, error->message);
      schedule_reconnect (self);
      return;
    }

  if (self->cancellable == NULL || g_cancellable_is_cancelled (self->cancellable))
    {
      soup_websocket_connection_close (connection, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
      g_object_unref (connection);
      return;
    }

  self->connection = connection;
  self->last_heard_us = g_get_monotonic_time ();
  soup_websocket_connection_set_max_incoming_payload_size (connection, MAX_FRAME_BYTES);
  g_signal_connect (connection, "message", G_CALLBACK (on_message), self);
  g_signal_connect (connection, "closed", G_CALLBACK (on_closed), self);
  g_signal_connect (connection, "error", G_CALLBACK (on_error), self);
  self->ping_id = g_timeout_add_seconds (PING_SECONDS, on_ping_timeout, self);
}

static void
connect_now (WzRealtime *self)
{
  g_autoptr(SoupMessage) msg = NULL;
  g_autofree char *bearer = NULL;

  if (self->url == NULL || self->cancellable == NULL || self->held_down)
    return;

  msg = soup_message_new (SOUP_METHOD_GET, self->url);
  if (msg == NULL)
    {
      g_warning ("Cannot connect to %s: not a valid address", self->url);
      return;
    }

  bearer = g_strconcat ("Bearer ", self->token, NULL);
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", bearer);
  soup_session_websocket_connect_async (self->soup, msg, NULL, NULL, G_PRIORITY_DEFAULT,
                                        self->cancellable, on_connected, g_object_ref (self));
}

static gboolean
on_test_drop (gpointer user_data)
{
  WzRealtime *self = user_data;

  self->held_down = TRUE;
  g_clear_handle_id (&self->retry_id, g_source_remove);
  wz_test_report ("realtime=dropped reason=test");
  if (self->state != WZ_REALTIME_STOPPED)
    schedule_reconnect (self);

  return G_SOURCE_CONTINUE;
}

static gboolean
on_test_resume (gpointer user_data)
{
  WzRealtime *self = user_data;

  self->held_down = FALSE;
  if (self->state != WZ_REALTIME_STOPPED && self->connection == NULL && self->retry_id == 0)
    schedule_reconnect (self);

  return G_SOURCE_CONTINUE;
}

/**
 * wz_realtime_start:
 * @session: the session whose token authenticates the connection
 *
 * Connects, and keeps connecting, until wz_realtime_stop().
 */
void
wz_realtime_start (WzRealtime *self,
                   WzSession  *session)
{
  const char *base;

  g_return_if_fail (WZ_IS_REALTIME (self));
  g_return_if_fail (WZ_IS_SESSION (session));

  wz_realtime_stop (self);

  base = wz_api_client_get_base_url (self->client);
  if (base == NULL)
    return;

  self->cancellable = g_cancellable_new ();
  self->token = g_strdup (wz_session_get_access_token (session));
  self->url = g_strconcat (base, "/ws", NULL);
  self->attempt = 0;
  self->had_hello = FALSE;
  set_state (self, WZ_REALTIME_CONNECTING);
  connect_now (self);
}

void
wz_realtime_stop (WzRealtime *self)
{
  g_return_if_fail (WZ_IS_REALTIME (self));

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_handle_id (&self->retry_id, g_source_remove);
  drop_connection (self);
  g_clear_pointer (&self->token, g_free);
  g_clear_pointer (&self->url, g_free);
  set_state (self, WZ_REALTIME_STOPPED);
}

WzRealtimeState
wz_realtime_get_state (WzRealtime *self)
{
  g_return_val_if_fail (WZ_IS_REALTIME (self), WZ_REALTIME_STOPPED);

  return self->state;
}

/* Whether the doctor should be told that updates are not arriving. */
gboolean
wz_realtime_get_offline (WzRealtime *self)
{
  g_return_val_if_fail (WZ_IS_REALTIME (self), FALSE);

  return self->state == WZ_REALTIME_RECONNECTING;
}

/* ---------------------------------------------------------------------------------------- */
/* GObject */

static void
wz_realtime_dispose (GObject *object)
{
  WzRealtime *self = WZ_REALTIME (object);

  if (self->cancellable != NULL)
    wz_realtime_stop (self);
  g_clear_handle_id (&self->drop_signal_id, g_source_remove);
  g_clear_handle_id (&self->resume_signal_id, g_source_remove);
  if (self->soup != NULL)
    soup_session_abort (self->soup);
  g_clear_object (&self->soup);
  g_clear_object (&self->client);

  G_OBJECT_CLASS (wz_realtime_parent_class)->dispose (object);
}

static void
wz_realtime_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  WzRealtime *self = WZ_REALTIME (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_OFFLINE:
      g_value_set_boolean (value, wz_realtime_get_offline (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
wz_realtime_class_init (WzRealtimeClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = wz_realtime_dispose;
  object_class->get_property = wz_realtime_get_property;

  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, WZ_TYPE_REALTIME_STATE, WZ_REALTIME_STOPPED,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_OFFLINE] =
    g_param_spec_boolean ("offline", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * WzRealtime::connected:
   * @again: whether an earlier connection of this session dropped; events may have been missed
   */
  signals[CONNECTED] =
    g_signal_new ("connected", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_BOOLEAN);

  /**
   * WzRealtime::resource:
   * @resource_type: e.g. "Encounter"; also the signal detail
   * @id: the resource id
   * @version_id: (nullable): the new version
   * @patient: (nullable): "Patient/…" the resource is about
   * @encounter: (nullable): "Encounter/…" it belongs to
   *
   * A resource the user may see was created or updated.
   */
  signals[RESOURCE] =
    g_signal_new ("resource", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_DETAILED,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 5,
                  G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING);

  /**
   * WzRealtime::message:
   * @type: the frame's type (typing, offer, answer, ice, hangup…); also the signal detail
   * @frame: the whole frame
   */
  signals[MESSAGE] =
    g_signal_new ("message", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_DETAILED,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, JSON_TYPE_NODE);
}

static void
wz_realtime_init (WzRealtime *self)
{
  /* Its own session: a long-lived socket must not count against the API client's connections. */
  self->soup = soup_session_new_with_options ("user-agent", PACKAGE_NAME "/" PACKAGE_VERSION " ",
                                              "timeout", 20,
                                              NULL);

  if (wz_test_report_enabled ())
    {
      self->drop_signal_id = g_unix_signal_add (SIGUSR1, on_test_drop, self);
      self->resume_signal_id = g_unix_signal_add (SIGUSR2, on_test_resume, self);
    }
}

WzRealtime *
wz_realtime_new (WzApiClient *client)
{
  WzRealtime *self;

  g_return_val_if_fail (WZ_IS_API_CLIENT (client), NULL);

  self = g_object_new (WZ_TYPE_REALTIME, NULL);
  self->client = g_object_ref (client);

  return self;
}
