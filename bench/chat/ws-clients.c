/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "ws-clients"

#include "config.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

/* Helper of bench/chat-sockets: opens N websockets to BASE/ws with TOKEN, 32 handshakes at a time,
 * waits until every one has had its hello, prints "open N" (flushed), then holds them, answering
 * the server's keepalive pings, until standard input is closed. */

typedef struct
{
  guint     n_wanted;
  guint     n_started;
  guint     n_open;
  guint     n_hello;
  guint     n_failed;
  char     *url;
  char     *token;
  SoupSession *session;
  GPtrArray *conns;
  GMainLoop *loop;
} Clients;

static void start_next (Clients *clients);

static void
on_message (SoupWebsocketConnection *conn,
            gint                     type,
            GBytes                  *message,
            Clients                 *clients)
{
  gsize length;
  const char *data = g_bytes_get_data (message, &length);

  if (g_strstr_len (data, length, "\"hello\"") != NULL)
    clients->n_hello++;
  if (clients->n_hello + clients->n_failed == clients->n_wanted)
    g_main_loop_quit (clients->loop);
}

static void
on_connected (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Clients *clients = user_data;
  g_autoptr(GError) error = NULL;
  SoupWebsocketConnection *conn;

  conn = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &error);
  if (conn == NULL)
    {
      g_printerr ("ws-clients: connection %u failed: %s\n", clients->n_open + clients->n_failed,
                  error->message);
      clients->n_failed++;
    }
  else
    {
      clients->n_open++;
      g_signal_connect (conn, "message", G_CALLBACK (on_message), clients);
      g_ptr_array_add (clients->conns, conn);
    }
  start_next (clients);
}

static void
start_next (Clients *clients)
{
  g_autoptr(SoupMessage) msg = NULL;
  g_autofree char *bearer = NULL;

  if (clients->n_started == clients->n_wanted)
    {
      if (clients->n_hello + clients->n_failed == clients->n_wanted)
        g_main_loop_quit (clients->loop);
      return;
    }
  clients->n_started++;

  msg = soup_message_new ("GET", clients->url);
  bearer = g_strconcat ("Bearer ", clients->token, NULL);
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", bearer);
  soup_session_websocket_connect_async (clients->session, msg, NULL, NULL, G_PRIORITY_DEFAULT,
                                        NULL, on_connected, clients);
}

static gboolean
on_stdin_closed (GIOChannel   *channel,
                 GIOCondition  condition,
                 gpointer      user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

int
main (int    argc,
      char **argv)
{
  Clients clients = { 0, };
  struct rlimit limit;
  guint parallel = 32;
  g_autoptr(GIOChannel) input = NULL;

  if (argc != 4)
    {
      g_printerr ("usage: ws-clients BASE-URL TOKEN N\n");
      return 2;
    }

  /* One descriptor per socket, and then some. */
  if (getrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max)
    {
      limit.rlim_cur = limit.rlim_max;
      setrlimit (RLIMIT_NOFILE, &limit);
    }

  clients.url = g_strconcat (argv[1], "/ws", NULL);
  clients.token = argv[2];
  clients.n_wanted = (guint) g_ascii_strtoull (argv[3], NULL, 10);
  clients.conns = g_ptr_array_new_with_free_func (g_object_unref);
  clients.loop = g_main_loop_new (NULL, FALSE);
  clients.session = soup_session_new_with_options ("max-conns", 1000, "max-conns-per-host", 1000,
                                                   "timeout", 60, NULL);
  /* The server offers no compression; neither does this client, like a plain browser socket. */
  soup_session_remove_feature_by_type (clients.session, SOUP_TYPE_WEBSOCKET_EXTENSION_MANAGER);

  for (guint i = 0; i < parallel; i++)
    start_next (&clients);
  if (clients.n_wanted > 0)
    g_main_loop_run (clients.loop);

  printf ("open %u\n", clients.n_hello);
  fflush (stdout);
  if (clients.n_failed > 0)
    return 1;

  /* Hold the sockets (answering the server's keepalive pings) until told to stop. */
  input = g_io_channel_unix_new (0);
  g_io_add_watch (input, G_IO_IN | G_IO_HUP | G_IO_ERR, on_stdin_closed, clients.loop);
  g_main_loop_run (clients.loop);

  g_ptr_array_unref (clients.conns);
  g_object_unref (clients.session);
  g_main_loop_unref (clients.loop);
  g_free (clients.url);
  return 0;
}
