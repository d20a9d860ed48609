/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "bare-soup"

#include "config.h"

#include <glib-unix.h>
#include <libsoup/soup.h>
#include <stdio.h>

/* The baseline for bench/server-read: what libsoup alone costs for a small JSON answer on this
 * machine, so the server's own share of the time can be read off. */

static const char body[] =
  "{\"resourceType\":\"Patient\",\"id\":\"baseline\",\"meta\":{\"versionId\":\"1\","
  "\"lastUpdated\":\"2024-05-01T08:30:00.000Z\"},\"active\":true,\"name\":[{\"family\":\"Zhang\","
  "\"given\":[\"Xiuying\"]}],\"gender\":\"female\",\"birthDate\":\"1951-03-14\"}";

static void
handler (SoupServer        *server,
         SoupServerMessage *msg,
         const char        *path,
         GHashTable        *query,
         gpointer           user_data)
{
  soup_server_message_set_response (msg, "application/fhir+json", SOUP_MEMORY_STATIC,
                                    body, sizeof body - 1);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
}

static gboolean
on_signal (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(SoupServer) server = soup_server_new (NULL, NULL);
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  GSList *uris;
  g_autofree char *url = NULL;

  soup_server_add_handler (server, "/", handler, NULL, NULL);
  if (!soup_server_listen (server, address, 0, &error))
    {
      g_printerr ("bare-soup: %s\n", error->message);
      return 1;
    }

  uris = soup_server_get_uris (server);
  url = g_strdup_printf ("http://127.0.0.1:%d", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  printf ("listening on %s\n", url);
  fflush (stdout);

  g_unix_signal_add (SIGTERM, on_signal, loop);
  g_unix_signal_add (SIGINT, on_signal, loop);
  g_main_loop_run (loop);

  return 0;
}
