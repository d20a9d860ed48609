/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "wz-chat-test.h"

#include <string.h>

static SoupSession *ws_session;

static void
on_ws_message (SoupWebsocketConnection *conn,
               gint                     type,
               GBytes                  *message,
               WzTestWs                *ws)
{
  g_autofree char *text = g_strndup (g_bytes_get_data (message, NULL), g_bytes_get_size (message));
  g_autoptr(GError) error = NULL;
  JsonNode *node;

  g_assert_cmpint (type, ==, SOUP_WEBSOCKET_DATA_TEXT);
  node = json_from_string (text, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  g_queue_push_tail (&ws->frames, node);
}

static void
on_ws_closed (SoupWebsocketConnection *conn,
              WzTestWs                *ws)
{
  ws->closed = TRUE;
  ws->close_code = soup_websocket_connection_get_close_code (conn);
}

static void
on_connected (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

WzTestWs *
wz_test_ws_open (const char *base_url,
                 const char *token)
{
  g_autofree char *url = g_strdup_printf ("%s/ws", base_url);
  g_autofree char *authorization = g_strconcat ("Bearer ", token, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) hello = NULL;
  WzTestWs *ws;

  if (ws_session == NULL)
    ws_session = soup_session_new ();

  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                authorization);
  soup_session_websocket_connect_async (ws_session, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL,
                                        on_connected, &result);
  WZ_SPIN_UNTIL (result != NULL, WZ_CHAT_TEST_TIMEOUT_MS);
  g_assert_nonnull (result);

  ws = g_new0 (WzTestWs, 1);
  g_queue_init (&ws->frames);
  ws->conn = soup_session_websocket_connect_finish (ws_session, result, &error);
  g_assert_no_error (error);
  soup_websocket_connection_set_max_incoming_payload_size (ws->conn, 1024 * 1024);
  g_signal_connect (ws->conn, "message", G_CALLBACK (on_ws_message), ws);
  g_signal_connect (ws->conn, "closed", G_CALLBACK (on_ws_closed), ws);

  hello = wz_test_ws_next (ws);
  g_assert_cmpstr (wz_test_frame_member (hello, "type"), ==, "hello");
  return ws;
}

void
wz_test_ws_free (WzTestWs *ws)
{
  if (ws == NULL)
    return;

  if (ws->conn != NULL)
    {
      g_signal_handlers_disconnect_by_data (ws->conn, ws);
      if (soup_websocket_connection_get_state (ws->conn) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (ws->conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
      g_object_unref (ws->conn);
    }
  g_queue_clear_full (&ws->frames, (GDestroyNotify) json_node_unref);
  g_free (ws);
}

void
wz_test_ws_send (WzTestWs   *ws,
                 const char *text)
{
  soup_websocket_connection_send_text (ws->conn, text);
}

JsonNode *
wz_test_ws_next (WzTestWs *ws)
{
  WZ_SPIN_UNTIL (!g_queue_is_empty (&ws->frames) || ws->closed, WZ_CHAT_TEST_TIMEOUT_MS);
  if (g_queue_is_empty (&ws->frames))
    g_error ("no frame arrived (socket %s)", ws->closed ? "closed" : "open");
  return g_queue_pop_head (&ws->frames);
}

JsonNode *
wz_test_ws_next_type (WzTestWs   *ws,
                      const char *type)
{
  for (;;)
    {
      JsonNode *frame = wz_test_ws_next (ws);

      if (g_strcmp0 (wz_test_frame_member (frame, "type"), type) == 0)
        return frame;
      json_node_unref (frame);
    }
}

void
wz_test_ws_assert_quiet (WzTestWs *ws)
{
  g_autoptr(JsonNode) frame = NULL;

  wz_test_ws_send (ws, "{\"type\":\"ping\"}");
  frame = wz_test_ws_next (ws);
  if (g_strcmp0 (wz_test_frame_member (frame, "type"), "pong") != 0)
    g_error ("expected no frame, got %s", json_to_string (frame, FALSE));
}

const char *
wz_test_frame_member (JsonNode   *frame,
                      const char *name)
{
  return json_object_get_string_member_with_default (json_node_get_object (frame), name, NULL);
}

char *
wz_test_patient_session (WzTestServer *server,
                         const char   *doctor_token,
                         const char   *encounter_id)
{
  g_autofree char *path = g_strdup_printf ("/fhir/Encounter/%s/$visit-link", encounter_id);
  g_autoptr(WzTestResponse) link = wz_test_request_text (server, "POST", path, doctor_token, NULL);
  g_autoptr(WzTestResponse) session = NULL;
  g_autofree char *body = NULL;
  const char *url;

  g_assert_cmpuint (link->status, ==, 200);
  url = wz_test_member (link, "url");
  body = g_strdup_printf ("{\"link_token\":\"%s\"}", strchr (url, '#') + 1);
  session = wz_test_request_text (server, "POST", "/auth/visit", NULL, body);
  g_assert_cmpuint (session->status, ==, 200);
  return g_strdup (wz_test_member (session, "access_token"));
}

char *
wz_test_message_json (const char *encounter_id,
                      const char *patient_ref,
                      const char *sender_ref,
                      const char *text,
                      const char *uuid)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *encounter = g_strconcat ("Encounter/", encounter_id, NULL);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *sent = g_date_time_format_iso8601 (now);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "resourceType");
  json_builder_add_string_value (builder, "Communication");
  json_builder_set_member_name (builder, "status");
  json_builder_add_string_value (builder, "completed");
  json_builder_set_member_name (builder, "identifier");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "system");
  json_builder_add_string_value (builder, "urn:ietf:rfc:3986");
  json_builder_set_member_name (builder, "value");
  json_builder_add_string_value (builder, uuid);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "encounter");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "reference");
  json_builder_add_string_value (builder, encounter);
  json_builder_end_object (builder);
  if (patient_ref != NULL)
    {
      json_builder_set_member_name (builder, "subject");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "reference");
      json_builder_add_string_value (builder, patient_ref);
      json_builder_end_object (builder);
    }
  if (sender_ref != NULL)
    {
      json_builder_set_member_name (builder, "sender");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "reference");
      json_builder_add_string_value (builder, sender_ref);
      json_builder_end_object (builder);
    }
  json_builder_set_member_name (builder, "sent");
  json_builder_add_string_value (builder, sent);
  json_builder_set_member_name (builder, "payload");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "contentString");
  json_builder_add_string_value (builder, text);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  return json_to_string (root, FALSE);
}

WzTestResponse *
wz_test_post_message (WzTestServer *server,
                      const char   *token,
                      const char   *json,
                      const char   *uuid)
{
  g_autoptr(GBytes) body = g_bytes_new (json, strlen (json));
  g_autofree char *condition = g_strdup_printf ("identifier=urn:ietf:rfc:3986|%s", uuid);

  return wz_test_request (server, "POST", "/fhir/Communication", token, body,
                          "If-None-Exist", condition, NULL);
}

const char *
wz_test_message_text (JsonObject *communication)
{
  JsonArray *payload = json_object_get_array_member (communication, "payload");

  return json_object_get_string_member (json_array_get_object_element (payload, 0),
                                        "contentString");
}
