/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-ice-config"

#include "config.h"

#include "wz-ice-config.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "wz-error.h"
#include "wz-http.h"

struct _WzIceConfig
{
  GObject  parent_instance;

  WzAuth  *auth;
  char    *stun;          /* "stun:host:port" */
  char    *turn;          /* "turn:host:port[?transport=…]" */
  char    *turn_user;
  char    *turn_credential;
};

G_DEFINE_FINAL_TYPE (WzIceConfig, wz_ice_config, G_TYPE_OBJECT)

/* "host:port" with a port, and nothing a browser would read as another URL part. */
static gboolean
valid_host_port (const char *text)
{
  const char *colon = strrchr (text, ':');
  const char *query = strchr (text, '?');
  guint64 port;
  g_autofree char *port_text = NULL;

  if (colon == NULL || colon == text || strpbrk (text, " /@#\"\\") != NULL)
    return FALSE;
  port_text = query != NULL && query > colon ? g_strndup (colon + 1, query - colon - 1)
                                             : g_strdup (colon + 1);
  return g_ascii_string_to_unsigned (port_text, 10, 1, 65535, &port, NULL);
}

gboolean
wz_ice_config_set (WzIceConfig  *self,
                   const char   *stun,
                   const char   *turn,
                   GError      **error)
{
  g_autofree char *stun_norm = NULL;
  g_autofree char *turn_norm = NULL;
  g_autofree char *user = NULL;
  g_autofree char *credential = NULL;

  g_return_val_if_fail (WZ_IS_ICE_CONFIG (self), FALSE);

  if (stun != NULL && *stun != '\0')
    {
      const char *rest = g_str_has_prefix (stun, "stun://") ? stun + 7
                         : g_str_has_prefix (stun, "stun:") ? stun + 5 : NULL;

      if (rest == NULL || !valid_host_port (rest))
        {
          g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                       "--stun-server “%s” is not stun:HOST:PORT", stun);
          return FALSE;
        }
      stun_norm = g_strconcat ("stun:", rest, NULL);
    }

  if (turn != NULL && *turn != '\0')
    {
      g_auto(GStrv) parts = g_strsplit (turn, ",", 3);
      const char *scheme = g_str_has_prefix (parts[0], "turns:") ? "turns" : "turn";
      const char *rest = parts[0] + strlen (scheme) + 1;
      const char *at;

      if (!g_str_has_prefix (parts[0], "turn:") && !g_str_has_prefix (parts[0], "turns:"))
        rest = NULL;
      else if (g_str_has_prefix (rest, "//"))
        {
          /* turn://user:credential@host:port, the app's preference form */
          g_autofree char *userinfo = NULL;
          const char *colon;

          rest += 2;
          at = strrchr (rest, '@');
          if (at == NULL || parts[1] != NULL)
            rest = NULL;
          else
            {
              userinfo = g_strndup (rest, at - rest);
              colon = strchr (userinfo, ':');
              if (colon == NULL)
                rest = NULL;
              else
                {
                  user = g_uri_unescape_segment (userinfo, colon, NULL);
                  credential = g_uri_unescape_string (colon + 1, NULL);
                  rest = at + 1;
                }
            }
        }
      else if (parts[1] != NULL && parts[2] != NULL)
        {
          user = g_strdup (parts[1]);
          credential = g_strdup (parts[2]);
        }
      else
        rest = NULL;

      if (rest == NULL || !valid_host_port (rest) || user == NULL || *user == '\0' ||
          credential == NULL)
        {
          g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                       "--turn-server “%s” is not turn:HOST:PORT,USER,CREDENTIAL", turn);
          return FALSE;
        }
      turn_norm = g_strdup_printf ("%s:%s", scheme, rest);
    }

  g_free (self->stun);
  self->stun = g_steal_pointer (&stun_norm);
  g_free (self->turn);
  self->turn = g_steal_pointer (&turn_norm);
  g_free (self->turn_user);
  self->turn_user = g_steal_pointer (&user);
  g_free (self->turn_credential);
  self->turn_credential = g_steal_pointer (&credential);
  return TRUE;
}

static void
ice_servers_handler (SoupServer        *server,
                     SoupServerMessage *msg,
                     const char        *path,
                     GHashTable        *query,
                     gpointer           user_data)
{
  WzIceConfig *self = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *authorization = soup_message_headers_get_one (headers, "Authorization");
  g_autoptr(JsonBuilder) builder = NULL;
  g_autoptr(JsonNode) root = NULL;
  char *text;
  gsize length;

  if (strcmp (path, "/visit/ice-servers") != 0)
    {
      wz_http_respond_problem (msg, WZ_ERROR_NOT_FOUND, "No such endpoint: %s", path);
      return;
    }
  if (soup_server_message_get_method (msg) != SOUP_METHOD_GET)
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", "GET");
      wz_http_respond_problem (msg, WZ_ERROR_METHOD_NOT_ALLOWED,
                               "/visit/ice-servers is read with GET");
      return;
    }
  /* TURN credentials are for those in a visit, not for anyone who finds the server. */
  if (authorization == NULL || g_ascii_strncasecmp (authorization, "Bearer ", 7) != 0 ||
      wz_auth_lookup (self->auth, authorization + 7) == NULL)
    {
      wz_http_respond_problem (msg, WZ_ERROR_UNAUTHORIZED,
                               "Sign in first: send Authorization: Bearer TOKEN");
      return;
    }

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "iceServers");
  json_builder_begin_array (builder);
  if (self->stun != NULL)
    {
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "urls");
      json_builder_begin_array (builder);
      json_builder_add_string_value (builder, self->stun);
      json_builder_end_array (builder);
      json_builder_end_object (builder);
    }
  if (self->turn != NULL)
    {
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "urls");
      json_builder_begin_array (builder);
      json_builder_add_string_value (builder, self->turn);
      json_builder_end_array (builder);
      json_builder_set_member_name (builder, "username");
      json_builder_add_string_value (builder, self->turn_user);
      json_builder_set_member_name (builder, "credential");
      json_builder_add_string_value (builder, self->turn_credential);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  text = json_to_string (root, FALSE);
  length = strlen (text);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Cache-Control",
                                "no-store");
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, text, length);
}

void
wz_ice_config_register (WzIceConfig *self,
                        SoupServer  *server)
{
  g_return_if_fail (WZ_IS_ICE_CONFIG (self));

  soup_server_add_handler (server, "/visit/ice-servers", ice_servers_handler,
                           g_object_ref (self), g_object_unref);
}

static void
wz_ice_config_finalize (GObject *object)
{
  WzIceConfig *self = WZ_ICE_CONFIG (object);

  g_clear_object (&self->auth);
  g_free (self->stun);
  g_free (self->turn);
  g_free (self->turn_user);
  g_free (self->turn_credential);

  G_OBJECT_CLASS (wz_ice_config_parent_class)->finalize (object);
}

static void
wz_ice_config_class_init (WzIceConfigClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = wz_ice_config_finalize;
}

static void
wz_ice_config_init (WzIceConfig *self)
{
}

WzIceConfig *
wz_ice_config_new (WzAuth *auth)
{
  WzIceConfig *self;

  g_return_val_if_fail (WZ_IS_AUTH (auth), NULL);

  self = g_object_new (WZ_TYPE_ICE_CONFIG, NULL);
  self->auth = g_object_ref (auth);
  return self;
}
