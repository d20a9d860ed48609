/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-reaper"
/* POLLRDHUP: the peer's FIN is seen even behind queued data. */
#define _GNU_SOURCE

#include "config.h"

#include "wz-connection-reaper.h"

#include <errno.h>
#include <glib-unix.h>
#include <poll.h>
#include <sys/socket.h>

/* libsoup 3.2 leaves a kept-alive connection in CLOSE-WAIT when it reads the client's end of file
 * while waiting for the next request: soup_server_message_io_http1_finished() only disconnects
 * through the request's completion callback, and the empty message libsoup keeps waiting for
 * the next request has none. Once libsoup has read that end of file nothing of its own watches the
 * connection any more, and it cannot be taken from libsoup safely (stealing it then dereferences
 * that freed empty message). So the reaper must see the end of file first: its watch on the socket
 * has a higher priority than libsoup's source on the same descriptor, and GLib dispatches only
 * the highest priority among the sources that are ready. */

typedef enum
{
  /* A request is being read or answered: the socket is libsoup's alone. */
  WATCH_BUSY,
  /* Between requests, nothing read yet: the first to react to any input. */
  WATCH_IDLE,
  /* TLS only: input that is not an alert came, which libsoup now reads; a request start makes
   * the watch busy, the peer's FIN before that means libsoup has read an end of file (its own
   * source, ahead of this one, no longer fires) and forgotten the connection. */
  WATCH_TLS_INPUT,
} WatchState;

typedef struct
{
  WzConnectionReaper *reaper;     /* unowned: it owns this watch */
  SoupServerMessage  *msg;        /* the finished request: the handle to take the connection */
  GSocket            *socket;
  GSource            *source;     /* attached for the connection's life */
  gpointer            fd_tag;     /* polling the socket; NULL while busy */
  gulong              disconnected_id;
  WatchState          state;
  gboolean            tls;
} Watch;

struct _WzConnectionReaper
{
  GObject     parent_instance;

  SoupServer *server;
  GHashTable *watches;   /* GSocket (owned by the watch) → Watch */
  gulong      started_id;
  gulong      finished_id;
};

G_DEFINE_FINAL_TYPE (WzConnectionReaper, wz_connection_reaper, G_TYPE_OBJECT)

static gboolean on_socket_ready (gpointer user_data);

/* One source per connection that only adds and removes its descriptor between requests: a source
 * and a signal handler made per request cost more than the rest of the reaper together. */
static gboolean
watch_source_dispatch (GSource     *source,
                       GSourceFunc  callback,
                       gpointer     user_data)
{
  return callback (user_data);
}

static GSourceFuncs watch_source_funcs = {
  .dispatch = watch_source_dispatch,
};

static void
watch_free (gpointer data)
{
  Watch *watch = data;

  g_clear_signal_handler (&watch->disconnected_id, watch->msg);
  if (watch->source != NULL)
    {
      g_source_destroy (watch->source);
      g_clear_pointer (&watch->source, g_source_unref);
    }
  g_clear_object (&watch->msg);
  g_clear_object (&watch->socket);
  g_free (watch);
}

static void
watch_arm (Watch      *watch,
           WatchState  state)
{
  /* POLLRDHUP reports the peer's FIN even when data is queued before it. */
  GIOCondition events = (GIOCondition) POLLRDHUP;
  int priority;

  watch->state = state;
  if (state == WATCH_BUSY)
    {
      /* Not even HUP/ERR (which poll reports unasked) while libsoup owns the request. */
      if (watch->fd_tag != NULL)
        g_source_remove_unix_fd (watch->source, g_steal_pointer (&watch->fd_tag));
      return;
    }

  if (state == WATCH_IDLE)
    events |= G_IO_IN;
  /* Idle: ahead of libsoup. TLS input: behind it, so a FIN only counts once libsoup has nothing
   * left to read. */
  priority = state == WATCH_IDLE ? G_PRIORITY_HIGH : G_PRIORITY_LOW;
  if (g_source_get_priority (watch->source) != priority)
    g_source_set_priority (watch->source, priority);
  if (watch->fd_tag != NULL)
    g_source_modify_unix_fd (watch->source, watch->fd_tag, events);
  else
    watch->fd_tag = g_source_add_unix_fd (watch->source, g_socket_get_fd (watch->socket), events);
}

static void
reap_idle (WzConnectionReaper *self,
           Watch              *watch)
{
  g_autoptr(SoupServerMessage) msg = g_object_ref (watch->msg);
  g_autoptr(GSocket) socket = g_object_ref (watch->socket);
  g_autoptr(GIOStream) stream = NULL;
  g_autoptr(GError) error = NULL;

  /* Frees WATCH before libsoup reports the disconnection. */
  g_hash_table_remove (self->watches, socket);
  /* libsoup has not read the end of file yet, so its empty message waiting for the next request
   * is still there; taking the connection drops it and removes the connection from the server's clients. */
  stream = soup_server_message_steal_connection (msg);
  if (stream != NULL && !g_io_stream_close (stream, NULL, &error))
    g_debug ("closing a connection its client closed: %s", error->message);
  g_socket_close (socket, NULL);
  g_debug ("closed an idle connection its client had closed");
}

static void
close_forgotten (WzConnectionReaper *self,
                 Watch              *watch)
{
  g_autoptr(GSocket) socket = g_object_ref (watch->socket);

  g_hash_table_remove (self->watches, socket);
  /* libsoup has read the end of file and keeps the connection without a source or a pending
   * request; closing the descriptor is all that can be done safely. The small connection object
   * stays in the server's list until shutdown. */
  g_socket_close (socket, NULL);
  g_debug ("closed a TLS connection its client had closed after close_notify");
}

/* Whether the next TLS record on FD is an alert: TLS 1.2 names it; TLS 1.3 hides it as application
 * data, but an alert is the only record a client sends with 2 bytes of content (19 bytes with
 * the content type and a 16-byte AEAD tag), and no request is that short. */
static gboolean
is_tls_alert (int fd)
{
  guint8 header[5];
  gssize n = recv (fd, header, sizeof header, MSG_PEEK | MSG_DONTWAIT);
  guint length;

  if (n != sizeof header)
    return FALSE;
  length = (guint) header[3] << 8 | header[4];
  return header[0] == 0x15 || (header[0] == 0x17 && length == 2 + 1 + 16);
}

static gboolean
on_socket_ready (gpointer user_data)
{
  Watch *watch = user_data;
  WzConnectionReaper *self = watch->reaper;
  GIOCondition condition;
  gboolean peer_done;
  char byte;
  gssize n;

  if (watch->fd_tag == NULL)
    return G_SOURCE_CONTINUE;
  condition = g_source_query_unix_fd (watch->source, watch->fd_tag);
  if (condition == 0)
    return G_SOURCE_CONTINUE;
  peer_done = (condition & (G_IO_HUP | G_IO_ERR | POLLRDHUP)) != 0;

  if (watch->state == WATCH_TLS_INPUT)
    {
      /* No request started since the input (that would have made the watch busy) and libsoup,
       * ahead of this source, has nothing to read: it consumed an end of file. */
      close_forgotten (self, watch);
      return G_SOURCE_REMOVE;
    }

  n = recv (g_socket_get_fd (watch->socket), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) && !peer_done)
    return G_SOURCE_CONTINUE;

  if (n == 0 || n < 0 || (condition & (G_IO_HUP | G_IO_ERR)) != 0 ||
      (watch->tls && peer_done))
    {
      /* End of file (or reset) before any new request, or a TLS close_notify with its FIN: a
       * TLS client does not half-close. */
      reap_idle (self, watch);
      return G_SOURCE_REMOVE;
    }

  if (watch->tls && is_tls_alert (g_socket_get_fd (watch->socket)))
    {
      /* close_notify, usually: the client is done, and libsoup would read it as an end of file. */
      reap_idle (self, watch);
      return G_SOURCE_REMOVE;
    }

  /* A new request (even one followed by a half-close, which libsoup answers; the next idle watch
   * then sees the end of file): libsoup takes it from here. */
  watch_arm (watch, watch->tls ? WATCH_TLS_INPUT : WATCH_BUSY);
  return G_SOURCE_CONTINUE;
}

static void
on_msg_disconnected (SoupServerMessage *msg,
                     gpointer           user_data)
{
  Watch *watch = user_data;

  g_hash_table_remove (watch->reaper->watches, watch->socket);
}

static void
on_request_started (SoupServer        *server,
                    SoupServerMessage *msg,
                    gpointer           user_data)
{
  WzConnectionReaper *self = user_data;
  GSocket *socket = soup_server_message_get_socket (msg);

  /* The connection is busy again (this also covers pipelined requests that were read from
   * libsoup's buffer without the socket becoming readable). */
  Watch *watch = socket != NULL ? g_hash_table_lookup (self->watches, socket) : NULL;

  if (watch != NULL)
    watch_arm (watch, WATCH_BUSY);
}

static void
on_request_finished (SoupServer        *server,
                     SoupServerMessage *msg,
                     gpointer           user_data)
{
  WzConnectionReaper *self = user_data;
  GSocket *socket = soup_server_message_get_socket (msg);
  GUri *uri = soup_server_message_get_uri (msg);
  Watch *watch;

  /* HTTP/2 connections are closed by libsoup itself; a closed socket has nothing to watch. If
   * libsoup does not keep this connection alive it disconnects it right after this signal, which
   * drops the watch before it can fire. */
  if (socket == NULL || g_socket_is_closed (socket) ||
      soup_server_message_get_http_version (msg) == SOUP_HTTP_2_0)
    return;

  /* Taking the connection later looks its addresses up if they are not cached yet, which fails
   * (with a libsoup warning) once the peer has reset it; the connection caches them now. */
  soup_server_message_get_remote_address (msg);
  soup_server_message_get_local_address (msg);

  watch = g_hash_table_lookup (self->watches, socket);
  if (watch == NULL)
    {
      /* The connection's first request stands for it: any of its requests can take the
       * connection from libsoup, and its "disconnected" ends the watch. */
      watch = g_new0 (Watch, 1);
      watch->reaper = self;
      watch->msg = g_object_ref (msg);
      watch->socket = g_object_ref (socket);
      watch->tls = uri != NULL && g_strcmp0 (g_uri_get_scheme (uri), "https") == 0;
      watch->disconnected_id = g_signal_connect (msg, "disconnected",
                                                 G_CALLBACK (on_msg_disconnected), watch);
      /* Nobody reads a finished request's bodies any more (this handler runs after the
       * others); an idle connection should not pin an upload or a download in memory. */
      soup_message_body_truncate (soup_server_message_get_request_body (msg));
      soup_message_body_truncate (soup_server_message_get_response_body (msg));
      watch->source = g_source_new (&watch_source_funcs, sizeof (GSource));
      g_source_set_priority (watch->source, G_PRIORITY_HIGH);
      g_source_set_callback (watch->source, on_socket_ready, watch, NULL);
      g_source_set_static_name (watch->source, "WzConnectionReaper");
      g_source_attach (watch->source, g_main_context_get_thread_default ());
      g_hash_table_insert (self->watches, watch->socket, watch);
    }
  watch_arm (watch, WATCH_IDLE);
}

void
wz_connection_reaper_stop (WzConnectionReaper *self)
{
  g_return_if_fail (WZ_IS_CONNECTION_REAPER (self));

  if (self->server != NULL)
    {
      g_clear_signal_handler (&self->started_id, self->server);
      g_clear_signal_handler (&self->finished_id, self->server);
    }
  g_hash_table_remove_all (self->watches);
}

guint
wz_connection_reaper_get_n_watched (WzConnectionReaper *self)
{
  g_return_val_if_fail (WZ_IS_CONNECTION_REAPER (self), 0);

  return g_hash_table_size (self->watches);
}

static void
wz_connection_reaper_dispose (GObject *object)
{
  WzConnectionReaper *self = WZ_CONNECTION_REAPER (object);

  wz_connection_reaper_stop (self);
  g_clear_object (&self->server);

  G_OBJECT_CLASS (wz_connection_reaper_parent_class)->dispose (object);
}

static void
wz_connection_reaper_finalize (GObject *object)
{
  WzConnectionReaper *self = WZ_CONNECTION_REAPER (object);

  g_clear_pointer (&self->watches, g_hash_table_unref);

  G_OBJECT_CLASS (wz_connection_reaper_parent_class)->finalize (object);
}

static void
wz_connection_reaper_class_init (WzConnectionReaperClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = wz_connection_reaper_dispose;
  object_class->finalize = wz_connection_reaper_finalize;
}

static void
wz_connection_reaper_init (WzConnectionReaper *self)
{
  self->watches = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, watch_free);
}

WzConnectionReaper *
wz_connection_reaper_new (SoupServer *server)
{
  WzConnectionReaper *self;

  g_return_val_if_fail (SOUP_IS_SERVER (server), NULL);

  self = g_object_new (WZ_TYPE_CONNECTION_REAPER, NULL);
  self->server = g_object_ref (server);
  self->started_id = g_signal_connect (server, "request-started",
                                       G_CALLBACK (on_request_started), self);
  /* After the server's other handlers: this one empties the finished request's bodies. */
  self->finished_id = g_signal_connect_after (server, "request-finished",
                                              G_CALLBACK (on_request_finished), self);
  return self;
}
