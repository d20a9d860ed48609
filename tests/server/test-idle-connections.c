/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <gio/gio.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "wz-test-util.h"

/* Kept-alive connections that their clients close while idle must give their descriptors back
 * (libsoup 3.2 alone leaves them in CLOSE-WAIT for good); those that stay open keep working, and
 * websockets are not touched. */

#define N_CLIENTS 50
#define PASSWORD  "correct horse battery"

static WzTestServer *server;
static guint16 port;

static guint
server_fd_count (void)
{
  const char *pid = g_subprocess_get_identifier (server->process);
  g_autofree char *path = g_strdup_printf ("/proc/%s/fd", pid);
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) dir = g_dir_open (path, 0, &error);
  guint n = 0;

  g_assert_no_error (error);
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

static GSocket *
open_client (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, port);
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                            G_SOCKET_PROTOCOL_TCP, &error);

  g_assert_no_error (error);
  g_socket_set_timeout (socket, 10);
  g_socket_connect (socket, address, NULL, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&socket);
}

/* GET /fhir/metadata on SOCKET (HTTP/1.1, kept alive); returns the status, and asserts the server
 * did not announce that it closes the connection. */
static guint
get_metadata (GSocket *socket)
{
  static const char request[] = "GET /fhir/metadata HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) response = g_string_new (NULL);
  const char *end = NULL;
  const char *length;
  guint status = 0;
  gsize body_length;
  gsize header_length;

  g_socket_send_with_blocking (socket, request, strlen (request), TRUE, NULL, &error);
  g_assert_no_error (error);

  for (;;)
    {
      char buffer[8192];
      gssize n = g_socket_receive_with_blocking (socket, buffer, sizeof buffer, TRUE, NULL, &error);

      g_assert_no_error (error);
      g_assert_cmpint (n, >, 0);
      g_string_append_len (response, buffer, n);
      if (end == NULL && (end = strstr (response->str, "\r\n\r\n")) != NULL)
        {
          g_autofree char *head = g_ascii_strdown (response->str, end - response->str);

          header_length = end - response->str + 4;
          g_assert_null (strstr (head, "connection: close"));
          length = strstr (head, "\r\ncontent-length:");
          g_assert_nonnull (length);
          body_length = g_ascii_strtoull (length + strlen ("\r\ncontent-length:"), NULL, 10);
          g_assert_cmpint (sscanf (response->str, "HTTP/1.1 %u", &status), ==, 1);
        }
      if (end != NULL && response->len >= header_length + body_length)
        break;
    }
  g_assert_cmpuint (response->len, ==, header_length + body_length);
  return status;
}

/* The server's descriptor count once it has answered a request on a connection that is closed
 * since (whatever the first requests open, such as databases, is then open) and nothing changes
 * any more. */
static guint
settled_fd_count (void)
{
  g_autoptr(GSocket) warm = open_client ();
  gint64 deadline = g_get_monotonic_time () + 5 * G_TIME_SPAN_SECOND;
  guint previous;
  guint count;

  g_assert_cmpuint (get_metadata (warm), ==, 200);
  g_socket_close (warm, NULL);
  count = server_fd_count ();
  do
    {
      previous = count;
      g_usleep (300 * 1000);
      count = server_fd_count ();
    }
  while (count != previous && g_get_monotonic_time () < deadline);
  g_assert_cmpuint (count, ==, previous);
  return count;
}

static void
test_idle_connections (void)
{
  g_autofree char *token = wz_test_server_login (server, "doctor", PASSWORD);
  g_autoptr(WzTestWs) ws = wz_test_ws_open (server->url, token);
  g_autoptr(GSocket) kept = open_client ();
  g_autoptr(GPtrArray) clients = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) error = NULL;
  guint baseline;
  guint count;

  /* A connection that stays open between its requests, and everything the server opens on its
   * first requests (databases, the formulary), are part of the baseline. */
  g_assert_cmpuint (get_metadata (kept), ==, 200);
  baseline = settled_fd_count ();

  for (guint i = 0; i < N_CLIENTS; i++)
    {
      GSocket *client = open_client ();

      g_ptr_array_add (clients, client);
      g_assert_cmpuint (get_metadata (client), ==, 200);
    }
  /* The server keeps them alive: one descriptor each. */
  g_assert_cmpuint (server_fd_count (), ==, baseline + N_CLIENTS);

  for (guint i = 0; i < clients->len; i++)
    {
      g_socket_close (g_ptr_array_index (clients, i), &error);
      g_assert_no_error (error);
    }
  WZ_SPIN_UNTIL ((count = server_fd_count ()) == baseline, 3000);
  g_assert_cmpuint (count, ==, baseline);

  /* The connection that stayed open was not closed by mistake: its next request is answered on
   * it, and the websocket still answers a ping. */
  g_assert_cmpuint (get_metadata (kept), ==, 200);
  g_assert_cmpuint (get_metadata (kept), ==, 200);
  wz_test_ws_assert_quiet (ws);
  g_assert_false (ws->closed);
}

static void
test_half_close (void)
{
  static const char request[] = "GET /fhir/metadata HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  g_autoptr(GSocket) client = NULL;
  g_autoptr(GString) response = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  guint baseline = settled_fd_count ();
  guint count;
  gssize n;

  /* A client that sends its request and then shuts down its sending side still gets the answer,
   * and the connection is closed afterwards. */
  client = open_client ();
  g_socket_send_with_blocking (client, request, strlen (request), TRUE, NULL, &error);
  g_assert_no_error (error);
  g_socket_shutdown (client, FALSE, TRUE, &error);
  g_assert_no_error (error);
  do
    {
      char buffer[8192];

      n = g_socket_receive_with_blocking (client, buffer, sizeof buffer, TRUE, NULL, &error);
      g_assert_no_error (error);
      g_string_append_len (response, buffer, MAX (n, 0));
    }
  while (n > 0);
  g_assert_true (g_str_has_prefix (response->str, "HTTP/1.1 200"));
  g_assert_nonnull (strstr (response->str, "CapabilityStatement"));

  g_socket_close (client, NULL);
  WZ_SPIN_UNTIL ((count = server_fd_count ()) == baseline, 3000);
  g_assert_cmpuint (count, ==, baseline);
}

int
main (int argc, char **argv)
{
  g_autoptr(GUri) uri = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

  server = wz_test_server_new ();
  wz_test_server_add_user (server, "doctor", PASSWORD, "doctor");
  wz_test_server_start (server);
  uri = g_uri_parse (server->url, G_URI_FLAGS_NONE, NULL);
  g_assert_nonnull (uri);
  port = g_uri_get_port (uri);

  g_test_add_func ("/server/idle-connections/client-closed", test_idle_connections);
  g_test_add_func ("/server/idle-connections/half-close", test_half_close);

  status = g_test_run ();
  g_assert_cmpint (wz_test_server_stop (server), ==, 0);
  wz_test_server_free (server);
  return status;
}
