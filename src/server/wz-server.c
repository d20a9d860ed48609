/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-server"

#include "config.h"

#include "wz-server.h"

#include <libsoup/soup.h>
#include <string.h>

#include "wz-audit.h"
#include "wz-auth-routes.h"
#include "wz-auth.h"
#include "wz-binary-routes.h"
#include "wz-care-team.h"
#include "wz-chat-routes.h"
#include "wz-chat-store.h"
#include "wz-connection-reaper.h"
#include "wz-error.h"
#include "wz-fhir-routes.h"
#include "wz-followup-routes.h"
#include "wz-log.h"
#include "wz-preconsult.h"
#include "wz-rx-routes.h"
#include "wz-sqlite-store.h"
#include "wz-ice-config.h"
#include "wz-static-routes.h"
#include "wz-visit-link.h"
#include "wz-ws-hub.h"

struct _WzServer
{
  GObject        parent_instance;

  SoupServer    *soup;
  WzSqliteStore *store;
  WzAuth        *auth;
  WzAudit       *audit;
  WzFhirRoutes  *fhir;
  WzCareTeam    *care_team;
  WzVisitLink   *visit_link;
  WzWsHub       *hub;
  WzIceConfig   *ice;
  WzChatStore   *chat_store;
  WzChatRoutes  *chat;
  WzBinaryRoutes *binary;
  WzConnectionReaper *reaper;
  GQuark         started_quark;
  gboolean       access_log;
};

G_DEFINE_FINAL_TYPE (WzServer, wz_server, G_TYPE_OBJECT)

static void
wz_server_dispose (GObject *object)
{
  WzServer *self = WZ_SERVER (object);

  wz_server_shutdown (self);
  g_clear_object (&self->reaper);
  g_clear_object (&self->soup);
  g_clear_object (&self->fhir);
  g_clear_object (&self->binary);
  g_clear_object (&self->chat);
  g_clear_object (&self->hub);
  g_clear_object (&self->ice);
  g_clear_object (&self->chat_store);
  g_clear_object (&self->visit_link);
  g_clear_object (&self->care_team);
  g_clear_object (&self->store);
  g_clear_object (&self->auth);
  g_clear_object (&self->audit);

  G_OBJECT_CLASS (wz_server_parent_class)->dispose (object);
}

static void
wz_server_class_init (WzServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = wz_server_dispose;
}

static void
wz_server_init (WzServer *self)
{
  self->started_quark = g_quark_from_static_string ("wz-server-request-start");
}

/* The access log costs a clock read and a line per request, so it is only wired up when debug
 * output for this domain is on (G_MESSAGES_DEBUG=wz-server or all). */
static void
on_request_started (SoupServer        *server,
                    SoupServerMessage *msg,
                    WzServer          *self)
{
  g_object_set_qdata (G_OBJECT (msg), self->started_quark,
                      GSIZE_TO_POINTER ((gsize) g_get_monotonic_time ()));
}

static void
log_request (WzServer          *self,
             SoupServerMessage *msg,
             const char        *result)
{
  gint64 started = GPOINTER_TO_SIZE (g_object_get_qdata (G_OBJECT (msg), self->started_quark));
  g_autofree char *status = g_strdup_printf ("%u", soup_server_message_get_status (msg));
  g_autofree char *duration = g_strdup_printf ("%.3f",
                                               (g_get_monotonic_time () - started) / 1000.0);
  const char *peer = soup_server_message_get_remote_host (msg);
  GLogField fields[] = {
    { "GLIB_DOMAIN", G_LOG_DOMAIN, -1 },
    { "PRIORITY", "7", -1 },
    { "MESSAGE", result, -1 },
    { "method", soup_server_message_get_method (msg), -1 },
    { "path", g_uri_get_path (soup_server_message_get_uri (msg)), -1 },
    { "status", status, -1 },
    { "dur_ms", duration, -1 },
    { "peer", peer ? peer : "-", -1 },
  };

  g_log_structured_array (G_LOG_LEVEL_DEBUG, fields, G_N_ELEMENTS (fields));
}

static void
on_request_finished (SoupServer        *server,
                     SoupServerMessage *msg,
                     WzServer          *self)
{
  log_request (self, msg, "request");
}

static void
on_request_aborted (SoupServer        *server,
                    SoupServerMessage *msg,
                    WzServer          *self)
{
  log_request (self, msg, "request aborted");
}

static void
on_resource_written (WzWsHub          *hub,
                     WzStoredResource *stored,
                     const char       *encounter)
{
  wz_ws_hub_publish (hub, stored, encounter);
}

static void
on_resource_superseded (WzWsHub          *hub,
                        WzStoredResource *previous,
                        WzStoredResource *stored,
                        const char       *encounter)
{
  wz_ws_hub_publish_superseded (hub, previous, stored, encounter);
}

WzServer *
wz_server_new (const char  *data_dir,
               GError     **error)
{
  g_autoptr(WzServer) self = g_object_new (WZ_TYPE_SERVER, NULL);
  g_autofree char *shared = wz_static_data_dir ();
  g_autofree char *web_root = g_build_filename (shared, "web", NULL);
  g_autoptr(WzPreconsult) preconsult = NULL;

  if ((self->store = wz_sqlite_store_open (data_dir, error)) == NULL ||
      (self->auth = wz_auth_open (data_dir, error)) == NULL ||
      (self->audit = wz_audit_open (data_dir, error)) == NULL ||
      (self->chat_store = wz_chat_store_open (data_dir, error)) == NULL ||
      (preconsult = wz_preconsult_new (WZ_STORE (self->store), self->audit, error)) == NULL ||
      !wz_preconsult_seed_questionnaire (preconsult, error))
    return NULL;

  self->soup = soup_server_new ("server-header", "wenzhen-server/" PACKAGE_VERSION " ", NULL);
  self->care_team = wz_care_team_new (WZ_STORE (self->store));
  self->visit_link = wz_visit_link_new (WZ_STORE (self->store), self->auth, self->audit,
                                        self->care_team);
  self->hub = wz_ws_hub_new (self->auth, self->care_team);
  wz_ws_hub_set_chat_store (self->hub, self->chat_store);
  self->chat = wz_chat_routes_new (self->chat_store, self->auth, self->audit, self->care_team);
  self->binary = wz_binary_routes_new (self->chat_store, self->auth, self->audit,
                                       self->care_team);
  self->fhir = wz_fhir_routes_new (WZ_STORE (self->store), self->auth, self->audit,
                                   self->care_team, self->visit_link);
  g_signal_connect_object (self->fhir, "resource-superseded",
                           G_CALLBACK (on_resource_superseded), self->hub, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->fhir, "resource-written", G_CALLBACK (on_resource_written),
                           self->hub, G_CONNECT_SWAPPED);
  wz_fhir_routes_set_preconsult (self->fhir, preconsult);
  wz_fhir_routes_set_chat (self->fhir, self->chat);
  g_signal_connect_object (preconsult, "resource-written", G_CALLBACK (on_resource_written),
                           self->hub, G_CONNECT_SWAPPED);
  wz_preconsult_register (preconsult, self->soup, self->auth);
  wz_fhir_routes_register (self->fhir, self->soup);
  wz_binary_routes_register (self->binary, self->soup);
  wz_chat_routes_register (self->chat, self->soup);
  wz_auth_routes_register (self->soup, self->auth, self->audit);
  wz_visit_link_register (self->visit_link, self->soup);
  wz_ws_hub_register (self->hub, self->soup);
  self->ice = wz_ice_config_new (self->auth);
  wz_ice_config_register (self->ice, self->soup);
  if (!wz_rx_routes_setup (self->soup, WZ_STORE (self->store), self->auth, self->audit,
                           self->care_team, self->hub, data_dir, error))
    return NULL;
  wz_followup_routes_setup (self->soup, WZ_STORE (self->store), self->auth, self->audit,
                            self->care_team, self->hub);
  wz_followup_routes_watch (self->soup, G_OBJECT (self->fhir), data_dir);
  wz_static_routes_register (self->soup, web_root);

  self->access_log = wz_log_debug_enabled (G_LOG_DOMAIN);
  if (self->access_log)
    {
      g_signal_connect (self->soup, "request-started", G_CALLBACK (on_request_started), self);
      g_signal_connect (self->soup, "request-finished", G_CALLBACK (on_request_finished), self);
      g_signal_connect (self->soup, "request-aborted", G_CALLBACK (on_request_aborted), self);
    }
  /* libsoup 3.2 leaks kept-alive connections that their clients close while idle. */
  self->reaper = wz_connection_reaper_new (self->soup);

  return g_steal_pointer (&self);
}

GInetSocketAddress *
wz_server_parse_listen (const char  *listen,
                        GError     **error)
{
  g_autoptr(GInetAddress) address = NULL;
  g_autofree char *host = NULL;
  const char *colon;
  guint64 port;

  colon = listen ? strrchr (listen, ':') : NULL;
  if (colon == NULL || colon == listen ||
      !g_ascii_string_to_unsigned (colon + 1, 10, 0, 65535, &port, NULL))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                   "--listen “%s” is not HOST:PORT (e.g. 127.0.0.1:8080, [::1]:8080, port 0 for "
                   "any free port)", listen ? listen : "");
      return NULL;
    }

  host = g_strndup (listen, colon - listen);
  if (host[0] == '[' && host[strlen (host) - 1] == ']')
    {
      char *inner = g_strndup (host + 1, strlen (host) - 2);

      g_free (host);
      host = inner;
    }
  if (strcmp (host, "localhost") == 0)
    {
      g_free (host);
      host = g_strdup ("127.0.0.1");
    }

  address = g_inet_address_new_from_string (host);
  if (address == NULL)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                   "--listen host “%s” is not an IP address", host);
      return NULL;
    }

  return G_INET_SOCKET_ADDRESS (g_inet_socket_address_new (address, port));
}

char *
wz_server_listen (WzServer    *self,
                  const char  *listen,
                  const char  *tls_cert,
                  const char  *tls_key,
                  GError     **error)
{
  g_autoptr(GInetSocketAddress) address = NULL;
  g_autoptr(GTlsCertificate) certificate = NULL;
  SoupServerListenOptions options = 0;
  GInetAddress *inet;
  GSList *uris;
  GUri *uri;
  char *url;
  const char *host;

  g_return_val_if_fail (WZ_IS_SERVER (self), NULL);

  if ((address = wz_server_parse_listen (listen, error)) == NULL)
    return NULL;
  inet = g_inet_socket_address_get_address (address);

  if ((tls_cert == NULL) != (tls_key == NULL))
    {
      g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INVALID,
                           "--tls-cert and --tls-key go together");
      return NULL;
    }

  if (tls_cert != NULL)
    {
      certificate = g_tls_certificate_new_from_files (tls_cert, tls_key, error);
      if (certificate == NULL)
        {
          g_prefix_error (error, "Cannot load the TLS certificate: ");
          return NULL;
        }
      g_object_set (self->soup, "tls-certificate", certificate, NULL);
      options |= SOUP_SERVER_LISTEN_HTTPS;
    }
  else if (!g_inet_address_get_is_loopback (inet))
    {
      g_autofree char *text = g_inet_address_to_string (inet);

      /* Patient data and passwords must never cross a network in the clear. */
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                   "Refusing to listen on %s without TLS: patient data and passwords would cross "
                   "the network unencrypted. Give --tls-cert and --tls-key, or listen on a "
                   "loopback address such as 127.0.0.1", text);
      return NULL;
    }

  if (!soup_server_listen (self->soup, G_SOCKET_ADDRESS (address), options, error))
    {
      g_prefix_error (error, "Cannot listen on %s: ", listen);
      return NULL;
    }

  uris = soup_server_get_uris (self->soup);
  g_return_val_if_fail (uris != NULL, NULL);
  uri = uris->data;
  host = g_uri_get_host (uri);
  url = g_strdup_printf ("%s://%s%s%s:%d", g_uri_get_scheme (uri),
                         strchr (host, ':') ? "[" : "", host, strchr (host, ':') ? "]" : "",
                         g_uri_get_port (uri));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  g_info ("Listening on %s", url);
  return url;
}

void
wz_server_shutdown (WzServer *self)
{
  g_return_if_fail (WZ_IS_SERVER (self));

  /* Websockets first: they get a proper close (1001) while the loop can still send it. */
  if (self->hub != NULL)
    wz_ws_hub_close_all (self->hub);
  if (self->reaper != NULL)
    wz_connection_reaper_stop (self->reaper);
  if (self->soup != NULL)
    soup_server_disconnect (self->soup);
  /* Rows queued by the last requests must reach the disk before the process ends. */
  if (self->audit != NULL)
    wz_audit_flush (self->audit);
  if (self->store != NULL)
    wz_sqlite_store_close (self->store);
  if (self->chat_store != NULL)
    wz_chat_store_close (self->chat_store);
}

gboolean
wz_server_set_organization_name (WzServer    *self,
                                 const char  *name,
                                 GError     **error)
{
  g_autofree char *trimmed = NULL;

  g_return_val_if_fail (WZ_IS_SERVER (self), FALSE);

  if (name == NULL)
    return TRUE;
  trimmed = g_strstrip (g_strdup (name));
  if (!g_utf8_validate (trimmed, -1, NULL) || *trimmed == '\0' || g_utf8_strlen (trimmed, -1) > 200)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                   "The organization name must be 1 to 200 characters of UTF-8 text");
      return FALSE;
    }
  wz_fhir_routes_set_organization_name (self->fhir, trimmed);
  return TRUE;
}

gboolean
wz_server_set_ice_servers (WzServer    *self,
                           const char  *stun,
                           const char  *turn,
                           GError     **error)
{
  g_return_val_if_fail (WZ_IS_SERVER (self), FALSE);

  return wz_ice_config_set (self->ice, stun, turn, error);
}
