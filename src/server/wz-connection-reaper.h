/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

#define WZ_TYPE_CONNECTION_REAPER (wz_connection_reaper_get_type ())
G_DECLARE_FINAL_TYPE (WzConnectionReaper, wz_connection_reaper, WZ, CONNECTION_REAPER, GObject)

/* Closes SERVER's kept-alive HTTP/1 connections once their client has closed them.
 *
 * libsoup 3.2 reads the end of file of an idle kept-alive connection, ends the (never started)
 * next request, and then forgets the connection without closing it: the socket stays in
 * CLOSE-WAIT with its descriptor until the server is disposed (fixed in libsoup 3.3.0). The
 * reaper watches each connection between a finished request and the next one, ahead of libsoup,
 * and when the peer's end of file is the next thing on the socket it takes the connection from
 * libsoup (which then forgets it properly) and closes it. Websockets, requests in flight and
 * HTTP/2 connections are never watched. */
WzConnectionReaper *wz_connection_reaper_new  (SoupServer         *server);
/* Stops watching (before the server disconnects its clients). */
void                wz_connection_reaper_stop (WzConnectionReaper *self);
/* Kept-alive connections the reaper follows now. */
guint               wz_connection_reaper_get_n_watched (WzConnectionReaper *self);

G_END_DECLS
