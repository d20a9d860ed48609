/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "wz-test-util.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

void
wz_test_rm_rf (const char *path)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      dir = g_dir_open (path, 0, NULL);
      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          wz_test_rm_rf (child);
        }
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

JsonObject *
wz_test_parse_bytes (GBytes    *bytes,
                     JsonNode **out_root)
{
  g_autofree char *text = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  g_autoptr(GError) error = NULL;

  *out_root = json_from_string (text, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (*out_root));
  return json_node_get_object (*out_root);
}

const char *
wz_test_family (JsonObject *patient)
{
  JsonArray *names = json_object_get_array_member (patient, "name");

  return json_object_get_string_member (json_array_get_object_element (names, 0), "family");
}

static const char *
server_binary (void)
{
  const char *binary = g_getenv ("WZ_SERVER_BINARY");

  g_assert_nonnull (binary);
  return binary;
}

int
wz_test_run_cli (const char  *stdin_text,
                 char       **out_stdout,
                 const char  *first_arg,
                 ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  va_list args;

  g_ptr_array_add (argv, (char *) server_binary ());
  va_start (args, first_arg);
  for (const char *arg = first_arg; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (char *) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  process = g_subprocess_newv ((const char * const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE,
                               &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, stdin_text ? stdin_text : "", NULL, &out, NULL, &error);
  g_assert_no_error (error);

  if (out_stdout != NULL)
    *out_stdout = g_steal_pointer (&out);

  return g_subprocess_get_if_exited (process) ? g_subprocess_get_exit_status (process) : -1;
}

WzTestServer *
wz_test_server_new (void)
{
  WzTestServer *server = g_new0 (WzTestServer, 1);
  g_autoptr(GError) error = NULL;

  server->data_dir = g_dir_make_tmp ("wz-server-test-XXXXXX", &error);
  g_assert_no_error (error);
  server->session = soup_session_new_with_options ("timeout", 30, NULL);

  return server;
}

void
wz_test_server_add_user (WzTestServer *server,
                         const char   *username,
                         const char   *password,
                         const char   *role)
{
  g_autofree char *line = g_strconcat (password, "\n", NULL);
  int status = wz_test_run_cli (line, NULL, "user", "add", "--data-dir", server->data_dir,
                                "--username", username, "--role", role, NULL);

  g_assert_cmpint (status, ==, 0);
}

static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

void
wz_test_server_start (WzTestServer *server)
{
  wz_test_server_start_with (server, NULL);
}

void
wz_test_server_start_with (WzTestServer       *server,
                           const char * const *extra_args)
{
  g_autoptr(GDataInputStream) lines = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);

  g_assert_null (server->process);
  /* A failed assertion aborts the test; the server must not outlive it and keep meson waiting
   * on the stderr they share. */
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  g_ptr_array_add (argv, (char *) server_binary ());
  g_ptr_array_add (argv, (char *) "serve");
  g_ptr_array_add (argv, (char *) "--data-dir");
  g_ptr_array_add (argv, server->data_dir);
  g_ptr_array_add (argv, (char *) "--listen");
  g_ptr_array_add (argv, (char *) "127.0.0.1:0");
  for (guint i = 0; extra_args != NULL && extra_args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) extra_args[i]);
  g_ptr_array_add (argv, NULL);
  server->process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata,
                                                  &error);
  g_assert_no_error (error);

  lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (server->process));
  line = g_data_input_stream_read_line_utf8 (lines, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  g_assert_true (g_str_has_prefix (line, "listening on http://127.0.0.1:"));
  g_free (server->url);
  server->url = g_strdup (line + strlen ("listening on "));
}

int
wz_test_server_stop (WzTestServer *server)
{
  g_autoptr(GError) error = NULL;
  int status;

  g_assert_nonnull (server->process);
  g_subprocess_send_signal (server->process, SIGTERM);
  g_subprocess_wait (server->process, NULL, &error);
  g_assert_no_error (error);
  status = g_subprocess_get_if_exited (server->process)
           ? g_subprocess_get_exit_status (server->process) : -1;
  g_clear_object (&server->process);

  return status;
}

void
wz_test_server_free (WzTestServer *server)
{
  if (server->process != NULL)
    {
      g_subprocess_send_signal (server->process, SIGKILL);
      g_subprocess_wait (server->process, NULL, NULL);
      g_clear_object (&server->process);
    }
  g_clear_object (&server->session);
  wz_test_rm_rf (server->data_dir);
  g_free (server->data_dir);
  g_free (server->url);
  g_free (server);
}

static WzTestResponse *
send_message (WzTestServer *server,
              SoupMessage  *msg)
{
  WzTestResponse *response = g_new0 (WzTestResponse, 1);
  g_autoptr(GError) error = NULL;
  const char *content_type;

  response->body = soup_session_send_and_read (server->session, msg, NULL, &error);
  g_assert_no_error (error);
  response->status = soup_message_get_status (msg);
  response->headers = soup_message_headers_ref (soup_message_get_response_headers (msg));

  content_type = soup_message_headers_get_content_type (response->headers, NULL);
  if (content_type != NULL && strstr (content_type, "json") != NULL)
    {
      g_autofree char *text = g_strndup (g_bytes_get_data (response->body, NULL),
                                         g_bytes_get_size (response->body));

      response->json = json_from_string (text, NULL);
    }

  return response;
}

WzTestResponse *
wz_test_request (WzTestServer *server,
                 const char   *method,
                 const char   *path,
                 const char   *token,
                 GBytes       *body,
                 ...)
{
  g_autofree char *url = g_strconcat (server->url, path, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new (method, url);
  SoupMessageHeaders *headers;
  va_list args;

  g_assert_nonnull (msg);
  headers = soup_message_get_request_headers (msg);
  if (token != NULL)
    {
      g_autofree char *value = g_strconcat ("Bearer ", token, NULL);

      soup_message_headers_replace (headers, "Authorization", value);
    }
  if (body != NULL)
    soup_message_set_request_body_from_bytes (msg, "application/fhir+json", body);

  va_start (args, body);
  for (const char *name = va_arg (args, const char *); name != NULL;
       name = va_arg (args, const char *))
    soup_message_headers_replace (headers, name, va_arg (args, const char *));
  va_end (args);

  return send_message (server, msg);
}

WzTestResponse *
wz_test_request_text (WzTestServer *server,
                      const char   *method,
                      const char   *path,
                      const char   *token,
                      const char   *body)
{
  g_autoptr(GBytes) bytes = body ? g_bytes_new (body, strlen (body)) : NULL;

  return wz_test_request (server, method, path, token, bytes, NULL);
}

char *
wz_test_server_login (WzTestServer *server,
                      const char   *username,
                      const char   *password)
{
  return wz_test_server_login_full (server, username, password, NULL);
}

char *
wz_test_server_login_full (WzTestServer  *server,
                           const char    *username,
                           const char    *password,
                           char         **out_practitioner)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *body = NULL;
  g_autoptr(WzTestResponse) response = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "username");
  json_builder_add_string_value (builder, username);
  json_builder_set_member_name (builder, "password");
  json_builder_add_string_value (builder, password);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  body = json_to_string (root, FALSE);

  response = wz_test_request_text (server, "POST", "/auth/login", NULL, body);
  g_assert_cmpuint (response->status, ==, 200);
  if (out_practitioner != NULL)
    *out_practitioner = g_strdup (wz_test_member (response, "practitioner"));
  return g_strdup (wz_test_member (response, "access_token"));
}

const char *
wz_test_member (WzTestResponse *response,
                const char     *name)
{
  g_assert_nonnull (response->json);
  return json_object_get_string_member_with_default (json_node_get_object (response->json), name,
                                                     NULL);
}

const char *
wz_test_assert_outcome (WzTestResponse *response,
                        guint           status)
{
  JsonObject *object;
  JsonObject *issue;

  if (response->status != status)
    g_error ("expected status %u, got %u: %.300s", status, response->status,
             (const char *) g_bytes_get_data (response->body, NULL));
  g_assert_nonnull (response->json);
  object = json_node_get_object (response->json);
  g_assert_cmpstr (json_object_get_string_member (object, "resourceType"), ==, "OperationOutcome");
  issue = json_array_get_object_element (json_object_get_array_member (object, "issue"), 0);
  g_assert_cmpstr (json_object_get_string_member (issue, "severity"), ==, "error");

  return json_object_get_string_member (issue, "diagnostics");
}

void
wz_test_response_free (WzTestResponse *response)
{
  if (response == NULL)
    return;

  g_clear_pointer (&response->headers, soup_message_headers_unref);
  g_clear_pointer (&response->body, g_bytes_unref);
  g_clear_pointer (&response->json, json_node_unref);
  g_free (response);
}

/* ---- Websockets ---------------------------------------------------------------------------- */

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
wz_test_ws_connect (const char *base_url,
                    const char *token,
                    gboolean    in_query,
                    guint      *out_status)
{
  g_autofree char *url = NULL;
  g_autoptr(SoupMessage) msg = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  SoupWebsocketConnection *conn;
  WzTestWs *ws;

  if (ws_session == NULL)
    ws_session = soup_session_new ();

  if (in_query && token != NULL)
    {
      g_autofree char *escaped = g_uri_escape_string (token, NULL, FALSE);

      url = g_strdup_printf ("%s/ws?access_token=%s", base_url, escaped);
    }
  else
    url = g_strdup_printf ("%s/ws", base_url);
  msg = soup_message_new ("GET", url);
  if (!in_query && token != NULL)
    {
      g_autofree char *authorization = g_strconcat ("Bearer ", token, NULL);

      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                    authorization);
    }

  soup_session_websocket_connect_async (ws_session, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL,
                                        on_connected, &result);
  WZ_SPIN_UNTIL (result != NULL, WZ_TEST_WS_TIMEOUT_MS);
  g_assert_nonnull (result);

  if (out_status != NULL)
    *out_status = soup_message_get_status (msg);
  conn = soup_session_websocket_connect_finish (ws_session, result, &error);
  if (conn == NULL)
    return NULL;

  ws = g_new0 (WzTestWs, 1);
  g_queue_init (&ws->frames);
  ws->conn = conn;
  g_signal_connect (conn, "message", G_CALLBACK (on_ws_message), ws);
  g_signal_connect (conn, "closed", G_CALLBACK (on_ws_closed), ws);
  return ws;
}

WzTestWs *
wz_test_ws_open (const char *base_url,
                 const char *token)
{
  guint status = 0;
  WzTestWs *ws = wz_test_ws_connect (base_url, token, FALSE, &status);
  g_autoptr(JsonNode) hello = NULL;

  g_assert_cmpuint (status, ==, 101);
  g_assert_nonnull (ws);
  soup_websocket_connection_set_max_incoming_payload_size (ws->conn, 1024 * 1024);
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
  WZ_SPIN_UNTIL (!g_queue_is_empty (&ws->frames) || ws->closed, WZ_TEST_WS_TIMEOUT_MS);
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
