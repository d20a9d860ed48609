/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include "wz-chat-test.h"
#include "wz-id.h"

/* Nothing lost, nothing twice: a doctor and a patient each send a burst of messages the way the
 * clients do (an outbox sent in order, one at a time, conditional create, retried while the
 * server does not answer), while the server is killed with SIGKILL in the middle and started
 * again on the same data. Both sides listen on /ws and catch up with _lastUpdated=gt after
 * every event and every reconnect. Every message must be stored exactly once, in each sender's
 * order, and each side must have received every message exactly once. */

#define N_MESSAGES   200
#define KILL_AFTER   150   /* messages acknowledged, both sides together */
#define TIMEOUT_S    240

typedef struct
{
  const char              *name;
  char                    *token;
  char                    *reference;
  char                    *uuids[N_MESSAGES];
  guint                    next;          /* first message not yet acknowledged */
  gboolean                 in_flight;
  guint                    n_created;     /* 201 */
  guint                    n_replayed;    /* 200: the first try was stored, its answer lost */
  guint                    n_retries;

  SoupWebsocketConnection *ws;
  gboolean                 ws_connecting;
  GHashTable              *received;      /* id → times received */
  GPtrArray               *order;         /* ids in the order received */
  char                    *mark;
  gboolean                 catching_up;
  gboolean                 catch_up_again;
} Side;

static WzTestServer *server;
static SoupSession *http;
static char *encounter;
static char *patient;
static guint port;
static gboolean killed;
static guint n_acknowledged_at_kill;

static void send_next  (Side *side);
static void connect_ws (Side *side);
static void catch_up   (Side *side);

static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

/* The same server again, on the same data and port: clients reach it at the address they know. */
static void
restart_server (void)
{
  g_autofree char *listen = g_strdup_printf ("127.0.0.1:%u", port);

  for (guint attempt = 0; attempt < 50; attempt++)
    {
      g_autoptr(GSubprocessLauncher) launcher =
        g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
      g_autoptr(GDataInputStream) lines = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *line = NULL;

      g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
      server->process = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("WZ_SERVER_BINARY"),
                                                     "serve", "--data-dir", server->data_dir,
                                                     "--listen", listen, NULL);
      g_assert_no_error (error);
      lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (server->process));
      line = g_data_input_stream_read_line_utf8 (lines, NULL, NULL, NULL);
      if (line != NULL && g_str_has_prefix (line, "listening on "))
        return;

      /* The port may still be held for a moment after the kill. */
      g_subprocess_wait (server->process, NULL, NULL);
      g_clear_object (&server->process);
      g_usleep (100 * 1000);
    }
  g_error ("the server did not start again on port %u", port);
}

static gboolean
restart_later (gpointer user_data)
{
  restart_server ();
  return G_SOURCE_REMOVE;
}

/* Runs while both sides have a message on its way: the server dies mid-write. It stays down for
 * a moment, so the clients see refused connections and retry. */
static gboolean
kill_and_restart (gpointer user_data)
{
  g_test_message ("SIGKILL with %u messages acknowledged", n_acknowledged_at_kill);
  g_subprocess_force_exit (server->process);
  g_subprocess_wait (server->process, NULL, NULL);
  g_clear_object (&server->process);
  g_timeout_add (300, restart_later, NULL);
  return G_SOURCE_REMOVE;
}

/* ---- sending, as the clients' outboxes do ------------------------------------------------ */

typedef struct
{
  Side        *side;
  SoupMessage *msg;
} Sending;

static Side sides[2];

static char *
message_json (Side  *side,
              guint  i)
{
  g_autofree char *text = g_strdup_printf ("%s %03u", side->name, i);

  return wz_test_message_json (encounter + strlen ("Encounter/"), patient, side->reference, text,
                               side->uuids[i]);
}

static gboolean
retry_send (gpointer user_data)
{
  send_next (user_data);
  return G_SOURCE_REMOVE;
}

static void
on_sent (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Sending *sending = user_data;
  Side *side = sending->side;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  guint status;

  body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  status = body != NULL ? soup_message_get_status (sending->msg) : 0;
  g_object_unref (sending->msg);
  g_free (sending);
  side->in_flight = FALSE;

  if (status == 201 || status == 200)
    {
      if (status == 201)
        side->n_created++;
      else
        side->n_replayed++;
      side->next++;
      send_next (side);
      if (!killed && sides[0].next + sides[1].next >= KILL_AFTER)
        {
          killed = TRUE;
          n_acknowledged_at_kill = sides[0].next + sides[1].next;
          g_timeout_add (2, kill_and_restart, NULL);
        }
      return;
    }

  /* Connection refused or reset, or the server unavailable: the same message again. Anything
   * else would mean the server refused a good message. */
  if (status != 0 && status < 500)
    g_error ("%s message %u refused: %u %.300s", side->name, side->next, status,
             body ? (const char *) g_bytes_get_data (body, NULL) : "");
  side->n_retries++;
  g_timeout_add (20, retry_send, side);
}

static void
send_next (Side *side)
{
  g_autofree char *url = NULL;
  g_autofree char *json = NULL;
  g_autofree char *authorization = NULL;
  g_autofree char *condition = NULL;
  g_autoptr(GBytes) body = NULL;
  Sending *sending;

  if (side->in_flight || side->next >= N_MESSAGES)
    return;

  url = g_strconcat (server->url, "/fhir/Communication", NULL);
  json = message_json (side, side->next);
  authorization = g_strconcat ("Bearer ", side->token, NULL);
  condition = g_strdup_printf ("identifier=urn:ietf:rfc:3986|%s", side->uuids[side->next]);
  body = g_bytes_new (json, strlen (json));

  sending = g_new0 (Sending, 1);
  sending->side = side;
  sending->msg = soup_message_new ("POST", url);
  soup_message_headers_replace (soup_message_get_request_headers (sending->msg), "Authorization",
                                authorization);
  soup_message_headers_replace (soup_message_get_request_headers (sending->msg), "If-None-Exist",
                                condition);
  soup_message_set_request_body_from_bytes (sending->msg, "application/fhir+json", body);
  side->in_flight = TRUE;
  soup_session_send_and_read_async (http, sending->msg, G_PRIORITY_DEFAULT, NULL, on_sent,
                                    sending);
}

/* ---- receiving: websocket events and catch-up ------------------------------------------- */

typedef struct
{
  Side        *side;
  SoupMessage *msg;
} Reading;

static void read_page (Side       *side,
                       const char *path);

static gboolean
retry_catch_up (gpointer user_data)
{
  Side *side = user_data;

  side->catching_up = FALSE;
  catch_up (side);
  return G_SOURCE_REMOVE;
}

static void
on_page (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Reading *reading = user_data;
  Side *side = reading->side;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *next = NULL;
  JsonObject *bundle;
  JsonArray *entries, *links;
  guint status;

  body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  status = body != NULL ? soup_message_get_status (reading->msg) : 0;
  g_object_unref (reading->msg);
  g_free (reading);

  if (status != 200)
    {
      g_timeout_add (50, retry_catch_up, side);
      return;
    }

  bundle = wz_test_parse_bytes (body, &root);
  entries = json_object_has_member (bundle, "entry")
            ? json_object_get_array_member (bundle, "entry") : NULL;
  for (guint i = 0; entries != NULL && i < json_array_get_length (entries); i++)
    {
      JsonObject *message = json_object_get_object_member (
                              json_array_get_object_element (entries, i), "resource");
      const char *id = json_object_get_string_member (message, "id");
      const char *stamp = json_object_get_string_member (
                            json_object_get_object_member (message, "meta"), "lastUpdated");
      guint times = GPOINTER_TO_UINT (g_hash_table_lookup (side->received, id));

      if (times == 0)
        g_ptr_array_add (side->order, g_strdup (id));
      g_hash_table_replace (side->received, g_strdup (id), GUINT_TO_POINTER (times + 1));
      /* Pages come in order of receipt: the last one read is where the next catch-up starts. */
      if (side->mark != NULL)
        g_assert_cmpstr (stamp, >, side->mark);
      g_free (side->mark);
      side->mark = g_strdup (stamp);
    }

  links = json_object_get_array_member (bundle, "link");
  for (guint i = 0; i < json_array_get_length (links); i++)
    {
      JsonObject *link = json_array_get_object_element (links, i);

      if (g_strcmp0 (json_object_get_string_member (link, "relation"), "next") == 0)
        next = g_strdup (strstr (json_object_get_string_member (link, "url"), "/fhir/"));
    }

  if (next != NULL)
    {
      read_page (side, next);
      return;
    }
  side->catching_up = FALSE;
  if (side->catch_up_again)
    catch_up (side);
}

static void
read_page (Side       *side,
           const char *path)
{
  g_autofree char *url = g_strconcat (server->url, path, NULL);
  g_autofree char *authorization = g_strconcat ("Bearer ", side->token, NULL);
  Reading *reading = g_new0 (Reading, 1);

  reading->side = side;
  reading->msg = soup_message_new ("GET", url);
  soup_message_headers_replace (soup_message_get_request_headers (reading->msg), "Authorization",
                                authorization);
  soup_session_send_and_read_async (http, reading->msg, G_PRIORITY_DEFAULT, NULL, on_page,
                                    reading);
}

/* Catch-ups never overlap: one asked for meanwhile runs after, from the new mark. */
static void
catch_up (Side *side)
{
  g_autofree char *path = NULL;

  if (side->catching_up)
    {
      side->catch_up_again = TRUE;
      return;
    }
  side->catching_up = TRUE;
  side->catch_up_again = FALSE;
  if (side->mark != NULL)
    {
      g_autofree char *mark = g_uri_escape_string (side->mark, NULL, FALSE);

      path = g_strdup_printf ("/fhir/Communication?encounter=%s&_sort=_lastUpdated&_count=50"
                              "&_lastUpdated=gt%s", encounter, mark);
    }
  else
    path = g_strdup_printf ("/fhir/Communication?encounter=%s&_sort=_lastUpdated&_count=50",
                            encounter);
  read_page (side, path);
}

static void
on_ws_message (SoupWebsocketConnection *conn,
               gint                     type,
               GBytes                  *message,
               Side                    *side)
{
  g_autoptr(JsonNode) root = NULL;
  JsonObject *frame = wz_test_parse_bytes (message, &root);

  if (g_strcmp0 (json_object_get_string_member_with_default (frame, "resourceType", ""),
                 "Communication") == 0)
    catch_up (side);
}

static gboolean
reconnect (gpointer user_data)
{
  connect_ws (user_data);
  return G_SOURCE_REMOVE;
}

static void
on_ws_closed (SoupWebsocketConnection *conn,
              Side                    *side)
{
  g_signal_handlers_disconnect_by_data (conn, side);
  g_clear_object (&side->ws);
  g_timeout_add (50, reconnect, side);
}

static void
on_ws_connected (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Side *side = user_data;
  g_autoptr(GError) error = NULL;

  side->ws_connecting = FALSE;
  side->ws = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &error);
  if (side->ws == NULL)
    {
      g_timeout_add (50, reconnect, side);
      return;
    }
  g_signal_connect (side->ws, "message", G_CALLBACK (on_ws_message), side);
  g_signal_connect (side->ws, "closed", G_CALLBACK (on_ws_closed), side);
  /* Whatever was written while this side was away. */
  catch_up (side);
}

static void
connect_ws (Side *side)
{
  g_autofree char *url = g_strconcat (server->url, "/ws", NULL);
  g_autofree char *authorization = g_strconcat ("Bearer ", side->token, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);

  if (side->ws != NULL || side->ws_connecting)
    return;
  side->ws_connecting = TRUE;
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                authorization);
  soup_session_websocket_connect_async (http, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL,
                                        on_ws_connected, side);
}

/* ---- the test --------------------------------------------------------------------------- */

static gboolean
done (void)
{
  for (guint s = 0; s < G_N_ELEMENTS (sides); s++)
    if (sides[s].next < N_MESSAGES || sides[s].order->len < 2 * N_MESSAGES ||
        sides[s].catching_up)
      return FALSE;
  return TRUE;
}

static void
test_kill_mid_burst (void)
{
  g_autoptr(GPtrArray) stored = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  g_autoptr(GHashTable) by_uuid = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *path = NULL;
  guint expected[2] = { 0, 0 };

  for (guint s = 0; s < G_N_ELEMENTS (sides); s++)
    {
      connect_ws (&sides[s]);
      send_next (&sides[s]);
    }

  WZ_SPIN_UNTIL (done (), TIMEOUT_S * 1000);
  for (guint s = 0; s < G_N_ELEMENTS (sides); s++)
    g_test_message ("%s: %u created, %u answered again after a lost reply, %u retries, "
                    "%u received", sides[s].name, sides[s].n_created, sides[s].n_replayed,
                    sides[s].n_retries, sides[s].order->len);
  g_assert_true (killed);
  g_assert_cmpuint (sides[0].next, ==, N_MESSAGES);
  g_assert_cmpuint (sides[1].next, ==, N_MESSAGES);

  /* Each side received each message exactly once. */
  for (guint s = 0; s < G_N_ELEMENTS (sides); s++)
    {
      GHashTableIter iter;
      gpointer times;

      g_assert_cmpuint (sides[s].order->len, ==, 2 * N_MESSAGES);
      g_assert_cmpuint (g_hash_table_size (sides[s].received), ==, 2 * N_MESSAGES);
      g_hash_table_iter_init (&iter, sides[s].received);
      while (g_hash_table_iter_next (&iter, NULL, &times))
        g_assert_cmpuint (GPOINTER_TO_UINT (times), ==, 1);
    }
  /* Both saw them in the same order: the server's. */
  for (guint i = 0; i < 2 * N_MESSAGES; i++)
    g_assert_cmpstr (g_ptr_array_index (sides[0].order, i), ==,
                     g_ptr_array_index (sides[1].order, i));

  /* Stored: each once, each sender's messages in the order they were written. */
  path = g_strdup_printf ("/fhir/Communication?encounter=%s&_sort=_lastUpdated&_count=200",
                          encounter);
  while (path != NULL)
    {
      g_autoptr(WzTestResponse) page = wz_test_request_text (server, "GET", path,
                                                             sides[0].token, NULL);
      JsonObject *bundle;
      JsonArray *entries, *links;

      g_assert_cmpuint (page->status, ==, 200);
      bundle = json_node_get_object (page->json);
      entries = json_object_get_array_member (bundle, "entry");
      for (guint i = 0; i < json_array_get_length (entries); i++)
        g_ptr_array_add (stored, json_node_ref (json_object_get_member (
                                                  json_array_get_object_element (entries, i),
                                                  "resource")));
      g_clear_pointer (&path, g_free);
      links = json_object_get_array_member (bundle, "link");
      for (guint i = 0; i < json_array_get_length (links); i++)
        {
          JsonObject *link = json_array_get_object_element (links, i);

          if (g_strcmp0 (json_object_get_string_member (link, "relation"), "next") == 0)
            path = g_strdup (strstr (json_object_get_string_member (link, "url"), "/fhir/"));
        }
    }
  g_assert_cmpuint (stored->len, ==, 2 * N_MESSAGES);
  for (guint i = 0; i < stored->len; i++)
    {
      JsonObject *message = json_node_get_object (g_ptr_array_index (stored, i));
      const char *uuid = json_object_get_string_member (
                           json_array_get_object_element (
                             json_object_get_array_member (message, "identifier"), 0), "value");
      const char *sender = json_object_get_string_member (
                             json_object_get_object_member (message, "sender"), "reference");
      guint s = g_strcmp0 (sender, sides[0].reference) == 0 ? 0 : 1;
      g_autofree char *text = g_strdup_printf ("%s %03u", sides[s].name, expected[s]);

      g_assert_true (g_hash_table_add (by_uuid, (gpointer) uuid));
      g_assert_cmpstr (sender, ==, sides[s].reference);
      g_assert_cmpstr (uuid, ==, sides[s].uuids[expected[s]]);
      g_assert_cmpstr (wz_test_message_text (message), ==, text);
      g_assert_cmpstr (json_object_get_string_member (message, "id"), ==,
                       g_ptr_array_index (sides[0].order, i));
      expected[s]++;
    }
  g_assert_cmpuint (expected[0], ==, N_MESSAGES);
  g_assert_cmpuint (expected[1], ==, N_MESSAGES);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(WzTestServer) own = NULL;
  g_autofree char *visit = NULL;
  g_autoptr(WzTestResponse) response = NULL;
  JsonObject *resource;
  int status;

  g_test_init (&argc, &argv, NULL);

  server = own = wz_test_server_new ();
  g_assert_cmpint (wz_test_run_cli (NULL, NULL, "demo-data", "--data-dir", server->data_dir,
                                    "--patients", "4", NULL), ==, 0);
  wz_test_server_start (server);
  {
    g_autoptr(GUri) uri = g_uri_parse (server->url, G_URI_FLAGS_NONE, NULL);

    port = g_uri_get_port (uri);
  }
  http = soup_session_new_with_options ("timeout", 20, "max-conns-per-host", 8, NULL);

  sides[0].name = "doctor";
  sides[0].token = wz_test_server_login_full (server, "doctor", "demo", &sides[0].reference);
  response = wz_test_request_text (server, "GET",
                                   "/fhir/Encounter?status=arrived,triaged&_sort=date&_count=1",
                                   sides[0].token, NULL);
  resource = json_object_get_object_member (
               json_array_get_object_element (
                 json_object_get_array_member (json_node_get_object (response->json), "entry"), 0),
               "resource");
  visit = g_strdup (json_object_get_string_member (resource, "id"));
  encounter = g_strconcat ("Encounter/", visit, NULL);
  patient = g_strdup (json_object_get_string_member (
                        json_object_get_object_member (resource, "subject"), "reference"));

  sides[1].name = "patient";
  sides[1].token = wz_test_patient_session (server, sides[0].token, visit);
  sides[1].reference = g_strdup (patient);

  for (guint s = 0; s < G_N_ELEMENTS (sides); s++)
    {
      for (guint i = 0; i < N_MESSAGES; i++)
        sides[s].uuids[i] = wz_id_new_urn_uuid ();
      sides[s].received = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      sides[s].order = g_ptr_array_new_with_free_func (g_free);
    }

  g_test_add_func ("/chat/fault/kill-9-mid-burst", test_kill_mid_burst);
  status = g_test_run ();

  for (guint s = 0; s < G_N_ELEMENTS (sides); s++)
    {
      if (sides[s].ws != NULL)
        {
          g_signal_handlers_disconnect_by_data (sides[s].ws, &sides[s]);
          g_clear_object (&sides[s].ws);
        }
      for (guint i = 0; i < N_MESSAGES; i++)
        g_free (sides[s].uuids[i]);
      g_hash_table_unref (sides[s].received);
      g_ptr_array_unref (sides[s].order);
      g_free (sides[s].token);
      g_free (sides[s].reference);
      g_free (sides[s].mark);
    }
  g_assert_cmpint (wz_test_server_stop (server), ==, 0);
  g_object_unref (http);
  g_free (encounter);
  g_free (patient);

  return status;
}
