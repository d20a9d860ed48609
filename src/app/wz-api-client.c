/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-api-client"

#include "config.h"

#include "wz-api-client.h"

#include <glib/gi18n.h>
#include <libsoup/soup.h>

/* Talks to wenzhen-server over HTTP(S). Every request is asynchronous and carries the caller's
 * cancellable; the response body is parsed on a worker thread so a large Bundle never stalls the
 * main loop. Failures come back as WZ_CLIENT_ERROR errors whose message is ready to show. */
struct _WzApiClient
{
  GObject      parent_instance;

  SoupSession *soup;
  char        *base_url;
  WzSession   *session;
  char        *organization_name;
};

G_DEFINE_FINAL_TYPE (WzApiClient, wz_api_client, G_TYPE_OBJECT)
G_DEFINE_QUARK (wz-client-error-quark, wz_client_error)

enum {
  PROP_0,
  PROP_BASE_URL,
  PROP_SESSION,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Long enough for a busy server on a slow link, short enough that a doctor is not left waiting. */
#define REQUEST_TIMEOUT_SECONDS 20
/* A queue page is a few hundred kilobytes at most; anything far larger is not our server. */
#define MAX_BODY_BYTES (16 * 1024 * 1024)

typedef enum
{
  REQUEST_CHECK,
  REQUEST_LOGIN,
  REQUEST_DATA,
  REQUEST_LOGOUT,
} RequestKind;

typedef struct
{
  RequestKind  kind;
  SoupMessage *msg;
  char        *display_host;
  char        *username;
  GBytes      *body;
  guint        status;
  gint64       retry_after;
} Request;

static void
request_free (Request *request)
{
  g_clear_object (&request->msg);
  g_clear_pointer (&request->display_host, g_free);
  g_clear_pointer (&request->username, g_free);
  g_clear_pointer (&request->body, g_bytes_unref);
  g_free (request);
}

const char *
wz_client_error_nick (const GError *error)
{
  static const char * const nicks[] = {
    [WZ_CLIENT_ERROR_BAD_URL] = "bad-url",
    [WZ_CLIENT_ERROR_UNREACHABLE] = "unreachable",
    [WZ_CLIENT_ERROR_TLS] = "tls",
    [WZ_CLIENT_ERROR_WRONG_PASSWORD] = "wrong-password",
    [WZ_CLIENT_ERROR_LOCKED] = "locked",
    [WZ_CLIENT_ERROR_SESSION_ENDED] = "session-ended",
    [WZ_CLIENT_ERROR_FORBIDDEN] = "forbidden",
    [WZ_CLIENT_ERROR_NOT_FOUND] = "not-found",
    [WZ_CLIENT_ERROR_NOT_WENZHEN] = "not-wenzhen",
    [WZ_CLIENT_ERROR_REJECTED] = "rejected",
    [WZ_CLIENT_ERROR_SERVER] = "server",
    [WZ_CLIENT_ERROR_CONFLICT] = "conflict",
  };

  if (error == NULL)
    return "none";
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return "cancelled";
  if (error->domain != WZ_CLIENT_ERROR || error->code < 0 || error->code >= (int) G_N_ELEMENTS (nicks))
    return "other";

  return nicks[error->code];
}

/* GUri accepts spaces and other characters no DNS name or IP address can hold. */
static gboolean
host_is_plausible (const char *host)
{
  g_autoptr(GInetAddress) address = g_inet_address_new_from_string (host);

  if (address != NULL)
    return TRUE;

  for (const char *p = host; *p != '\0'; p++)
    {
      guchar c = (guchar) *p;

      /* Non-ASCII is allowed for internationalized names (医院.中国). */
      if (c < 0x80 && !g_ascii_isalnum (c) && c != '-' && c != '.' && c != '_')
        return FALSE;
    }

  return *host != '.' && *host != '-';
}

static gboolean
host_is_loopback (const char *host)
{
  g_autoptr(GInetAddress) address = NULL;

  if (g_ascii_strcasecmp (host, "localhost") == 0)
    return TRUE;

  address = g_inet_address_new_from_string (host);

  return address != NULL && g_inet_address_get_is_loopback (address);
}

/**
 * wz_api_client_normalize_url:
 * @text: what the user typed
 *
 * Checks a server address before anything is sent to it and returns it in the one form the client
 * uses (`scheme://host[:port][/path]`, no trailing slash). An address without a scheme is taken as
 * https. Plain http is refused unless the host is this computer, because the password and patient
 * data would otherwise cross the network unencrypted.
 *
 * Returns: (transfer full): the normalized address, or %NULL with a %WZ_CLIENT_ERROR_BAD_URL error
 */
char *
wz_api_client_normalize_url (const char  *text,
                             GError     **error)
{
  g_autofree char *trimmed = NULL;
  g_autofree char *with_scheme = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GUri) uri = NULL;
  const char *scheme;
  const char *host;

  trimmed = g_strstrip (g_strdup (text != NULL ? text : ""));
  if (*trimmed == '\0')
    {
      g_set_error_literal (error, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_BAD_URL,
                           _("Enter the address of your Wenzhen server, for example https://clinic.example.org."));
      return NULL;
    }

  if (strstr (trimmed, "://") == NULL)
    with_scheme = g_strconcat ("https://", trimmed, NULL);
  else
    with_scheme = g_strdup (trimmed);

  uri = g_uri_parse (with_scheme, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL)
    {
      g_set_error (error, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_BAD_URL,
                   _("“%s” is not a valid server address. Use the form https://clinic.example.org."),
                   trimmed);
      return NULL;
    }

  scheme = g_uri_get_scheme (uri);
  if (g_ascii_strcasecmp (scheme, "https") != 0 && g_ascii_strcasecmp (scheme, "http") != 0)
    {
      g_set_error (error, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_BAD_URL,
                   /* Translators: %s is a URL scheme such as “ftp” */
                   _("Wenzhen servers are reached with https://, not %s://. Check the server address."),
                   scheme);
      return NULL;
    }

  host = g_uri_get_host (uri);
  if (host == NULL || *host == '\0')
    {
      g_set_error (error, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_BAD_URL,
                   _("“%s” has no server name. Use the form https://clinic.example.org."),
                   trimmed);
      return NULL;
    }

  if (!host_is_plausible (host))
    {
      g_set_error (error, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_BAD_URL,
                   _("“%s” is not a valid server address. Use the form https://clinic.example.org."),
                   trimmed);
      return NULL;
    }

  if (g_uri_get_userinfo (uri) != NULL || g_uri_get_query (uri) != NULL
      || g_uri_get_fragment (uri) != NULL)
    {
      g_set_error_literal (error, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_BAD_URL,
                           _("The server address must not contain a user name, “?” or “#”. Enter only the address, for example https://clinic.example.org."));
      return NULL;
    }

  if (g_ascii_strcasecmp (scheme, "http") == 0 && !host_is_loopback (host))
    {
      g_set_error (error, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_BAD_URL,
                   _("Unencrypted http:// is only allowed for a server on this computer, because passwords and patient data would cross the network readable by anyone. Use https://%s instead."),
                   host);
      return NULL;
    }

  path = g_strdup (g_uri_get_path (uri));
  while (*path != '\0' && path[strlen (path) - 1] == '/')
    path[strlen (path) - 1] = '\0';

  return g_uri_join (G_URI_FLAGS_NONE,
                     g_ascii_strcasecmp (scheme, "https") == 0 ? "https" : "http",
                     NULL, host, g_uri_get_port (uri), path, NULL, NULL);
}

static void
wz_api_client_dispose (GObject *object)
{
  WzApiClient *self = WZ_API_CLIENT (object);

  if (self->soup != NULL)
    soup_session_abort (self->soup);
  g_clear_object (&self->soup);
  g_clear_object (&self->session);

  G_OBJECT_CLASS (wz_api_client_parent_class)->dispose (object);
}

static void
wz_api_client_finalize (GObject *object)
{
  WzApiClient *self = WZ_API_CLIENT (object);

  g_clear_pointer (&self->base_url, g_free);
  g_clear_pointer (&self->organization_name, g_free);

  G_OBJECT_CLASS (wz_api_client_parent_class)->finalize (object);
}

static void
wz_api_client_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  WzApiClient *self = WZ_API_CLIENT (object);

  switch (prop_id)
    {
    case PROP_BASE_URL:
      g_value_set_string (value, self->base_url);
      break;
    case PROP_SESSION:
      g_value_set_object (value, self->session);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
wz_api_client_class_init (WzApiClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = wz_api_client_dispose;
  object_class->finalize = wz_api_client_finalize;
  object_class->get_property = wz_api_client_get_property;

  properties[PROP_BASE_URL] =
    g_param_spec_string ("base-url", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SESSION] =
    g_param_spec_object ("session", NULL, NULL, WZ_TYPE_SESSION,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
wz_api_client_init (WzApiClient *self)
{
  self->soup = soup_session_new_with_options ("timeout", REQUEST_TIMEOUT_SECONDS,
                                              "user-agent", PACKAGE_NAME "/" PACKAGE_VERSION " ",
                                              NULL);
}

WzApiClient *
wz_api_client_new (void)
{
  return g_object_new (WZ_TYPE_API_CLIENT, NULL);
}

const char *
wz_api_client_get_base_url (WzApiClient *self)
{
  g_return_val_if_fail (WZ_IS_API_CLIENT (self), NULL);

  return self->base_url;
}

gboolean
wz_api_client_set_base_url (WzApiClient  *self,
                            const char   *url,
                            GError      **error)
{
  g_autofree char *normalized = NULL;

  g_return_val_if_fail (WZ_IS_API_CLIENT (self), FALSE);

  normalized = wz_api_client_normalize_url (url, error);
  if (normalized == NULL)
    return FALSE;

  if (g_strcmp0 (normalized, self->base_url) != 0)
    {
      /* A token is only good for the server that issued it. */
      wz_api_client_forget_session (self);
      g_clear_pointer (&self->organization_name, g_free);
      g_free (self->base_url);
      self->base_url = g_steal_pointer (&normalized);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BASE_URL]);
    }

  return TRUE;
}

WzSession *
wz_api_client_get_session (WzApiClient *self)
{
  g_return_val_if_fail (WZ_IS_API_CLIENT (self), NULL);

  return self->session;
}

void
wz_api_client_forget_session (WzApiClient *self)
{
  g_return_if_fail (WZ_IS_API_CLIENT (self));

  if (self->session == NULL)
    return;

  g_clear_object (&self->session);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SESSION]);
}

static char *
describe_certificate_errors (GTlsCertificateFlags flags)
{
  if (flags & G_TLS_CERTIFICATE_BAD_IDENTITY)
    return g_strdup (_("it was issued for a different server name"));
  if (flags & G_TLS_CERTIFICATE_EXPIRED)
    return g_strdup (_("it has expired"));
  if (flags & G_TLS_CERTIFICATE_NOT_ACTIVATED)
    return g_strdup (_("it is not valid yet; check this computer’s date and time"));
  if (flags & G_TLS_CERTIFICATE_REVOKED)
    return g_strdup (_("it has been revoked"));
  if (flags & G_TLS_CERTIFICATE_INSECURE)
    return g_strdup (_("it uses an insecure algorithm"));
  if (flags & G_TLS_CERTIFICATE_UNKNOWN_CA)
    return g_strdup (_("it is not signed by an authority this computer trusts"));

  return g_strdup (_("it could not be verified"));
}

/* Turns a transport failure into the sentence a doctor can act on: what happened, to which
 * server, and what to check. */
static GError *
error_from_transport (Request      *request,
                      const GError *error)
{
  const char *host = request->display_host;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return g_error_copy (error);

  if (error->domain == G_RESOLVER_ERROR)
    return g_error_new (WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_UNREACHABLE,
                        _("The server name “%s” could not be found. Check the server address and this computer’s network connection."),
                        host);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
    return g_error_new (WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_UNREACHABLE,
                        _("Cannot reach the server at %s: the connection was refused. Check the server address and that the Wenzhen server is running."),
                        host);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return g_error_new (WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_UNREACHABLE,
                        _("The server at %s did not answer in time. Check the server address and this computer’s network connection."),
                        host);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE)
      || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE))
    return g_error_new (WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_UNREACHABLE,
                        _("There is no network route to %s. Check this computer’s network connection and the server address."),
                        host);

  if (g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_NOT_TLS))
    return g_error_new (WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_TLS,
                        _("The server at %s does not speak https. Check whether its address starts with http:// or https://."),
                        host);

  if (error->domain == G_TLS_ERROR)
    {
      g_autofree char *why =
        describe_certificate_errors (soup_message_get_tls_peer_certificate_errors (request->msg));

      return g_error_new (WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_TLS,
                          /* Translators: the second %s explains the problem, e.g. “it has expired” */
                          _("The security certificate of %s is not trusted: %s. Do not continue; ask your administrator to check the server’s certificate."),
                          host, why);
    }

  if (error->domain == SOUP_SESSION_ERROR)
    return g_error_new (WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_NOT_WENZHEN,
                        _("The answer from %s could not be understood. Check that the address belongs to a Wenzhen server."),
                        host);

  g_debug ("Request to %s failed: %s", host, error->message);

  return g_error_new (WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_UNREACHABLE,
                      _("The connection to %s was interrupted (%s). Check the network connection and try again."),
                      host, error->message);
}

/* The human-readable text of an OperationOutcome, if the body is one. */
static const char *
outcome_diagnostics (JsonNode *node)
{
  JsonObject *object;
  JsonArray *issues;
  JsonObject *issue;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;

  object = json_node_get_object (node);
  if (g_strcmp0 (json_object_get_string_member_with_default (object, "resourceType", NULL),
                 "OperationOutcome") != 0)
    return NULL;

  if (!json_object_has_member (object, "issue")
      || !JSON_NODE_HOLDS_ARRAY (json_object_get_member (object, "issue")))
    return NULL;

  issues = json_object_get_array_member (object, "issue");
  if (json_array_get_length (issues) == 0
      || !JSON_NODE_HOLDS_OBJECT (json_array_get_element (issues, 0)))
    return NULL;

  issue = json_array_get_object_element (issues, 0);

  return json_object_get_string_member_with_default (issue, "diagnostics", NULL);
}

static GError *
error_from_status (Request  *request,
                   JsonNode *body)
{
  const char *host = request->display_host;
  const char *diagnostics = outcome_diagnostics (body);
  guint status = request->status;

  if (diagnostics == NULL)
    diagnostics = soup_status_get_phrase (status);
  if (diagnostics == NULL)
    diagnostics = "";

  if (status == SOUP_STATUS_UNAUTHORIZED && request->kind == REQUEST_LOGIN)
    return g_error_new_literal (WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_WRONG_PASSWORD,
                                _("The user name or password is wrong. Check them and try again."));

  if (status == SOUP_STATUS_UNAUTHORIZED)
    return g_error_new_literal (WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_SESSION_ENDED,
                                _("Your session has ended. Sign in again to continue."));

  if (status == 429 /* Too Many Requests */)
    {
      /* The server says how long the lockout lasts; 15 minutes is its documented default. */
      gint64 minutes = request->retry_after > 0 ? (request->retry_after + 59) / 60 : 15;

      return g_error_new (WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_LOCKED,
                          g_dngettext (GETTEXT_PACKAGE,
                                       "Too many failed sign-in attempts. This account is locked; try again in %d minute.",
                                       "Too many failed sign-in attempts. This account is locked; try again in %d minutes.",
                                       (gulong) minutes),
                          (int) minutes);
    }

  if (status == SOUP_STATUS_FORBIDDEN)
    return g_error_new (WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_FORBIDDEN,
                        _("You are not allowed to do this (%s)."), diagnostics);

  if (status == SOUP_STATUS_NOT_FOUND && request->kind != REQUEST_DATA)
    return g_error_new (WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_NOT_WENZHEN,
                        _("%s answers, but it is not a Wenzhen server. Check the server address."),
                        host);

  if (status == SOUP_STATUS_NOT_FOUND)
    return g_error_new (WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_NOT_FOUND,
                        _("The server does not have this record (%s)."), diagnostics);

  if (status == SOUP_STATUS_PRECONDITION_FAILED || status == SOUP_STATUS_CONFLICT)
    return g_error_new_literal (WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_CONFLICT,
                                _("Someone else changed this record after you opened it. The latest version is shown."));

  if (status >= 500)
    return g_error_new (WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_SERVER,
                        _("The server at %s has a problem (HTTP %u: %s). Try again later, or tell your administrator if it persists."),
                        host, status, diagnostics);

  return g_error_new (WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_REJECTED,
                      _("The server refused the request (HTTP %u: %s)."), status, diagnostics);
}

static gboolean
node_is_resource (JsonNode   *node,
                  const char *resource_type)
{
  return node != NULL
    && JSON_NODE_HOLDS_OBJECT (node)
    && g_strcmp0 (json_object_get_string_member_with_default (json_node_get_object (node),
                                                              "resourceType", NULL),
                  resource_type) == 0;
}

/* Runs on a worker thread: parse the body, then decide between a result and an error. */
static void
finish_request_in_thread (GTask        *task,
                          gpointer      source_object,
                          gpointer      task_data,
                          GCancellable *cancellable)
{
  Request *request = task_data;
  g_autoptr(JsonNode) node = NULL;
  gboolean success = SOUP_STATUS_IS_SUCCESSFUL (request->status);
  gsize size = 0;
  const char *data = NULL;

  if (request->body != NULL)
    data = g_bytes_get_data (request->body, &size);

  if (size > 0)
    {
      g_autoptr(JsonParser) parser = json_parser_new_immutable ();
      g_autoptr(GError) parse_error = NULL;

      if (json_parser_load_from_data (parser, data, size, &parse_error))
        node = json_parser_steal_root (parser);
      else if (success)
        {
          g_debug ("Response from %s is not JSON: %s", request->display_host, parse_error->message);
          g_task_return_new_error (task, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_NOT_WENZHEN,
                                   _("%s answers, but not like a Wenzhen server. Check the server address."),
                                   request->display_host);
          return;
        }
    }

  if (!success)
    {
      g_task_return_error (task, error_from_status (request, node));
      return;
    }

  if (request->kind == REQUEST_CHECK && !node_is_resource (node, "CapabilityStatement"))
    {
      g_task_return_new_error (task, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_NOT_WENZHEN,
                               _("%s answers, but it is not a Wenzhen server. Check the server address."),
                               request->display_host);
      return;
    }

  if (node == NULL)
    node = json_node_new (JSON_NODE_NULL);

  g_task_return_pointer (task, g_steal_pointer (&node), (GDestroyNotify) json_node_unref);
}

static void
on_request_sent (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Request *request = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  const char *retry_after;

  request->body = soup_session_send_and_read_finish (SOUP_SESSION (object), result, &error);
  if (request->body == NULL)
    {
      g_task_return_error (task, error_from_transport (request, error));
      return;
    }

  request->status = soup_message_get_status (request->msg);
  retry_after = soup_message_headers_get_one (soup_message_get_response_headers (request->msg),
                                              "Retry-After");
  if (retry_after != NULL)
    request->retry_after = g_ascii_strtoll (retry_after, NULL, 10);

  if (g_bytes_get_size (request->body) > MAX_BODY_BYTES)
    {
      g_task_return_new_error (task, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_NOT_WENZHEN,
                               _("%s sent a far larger answer than a Wenzhen server would. Check the server address."),
                               request->display_host);
      return;
    }

  g_debug ("%s %s → %u (%zu bytes)",
           soup_message_get_method (request->msg),
           g_uri_get_path (soup_message_get_uri (request->msg)),
           request->status, g_bytes_get_size (request->body));

  g_task_run_in_thread (task, finish_request_in_thread);
}

/* CONTENT_TYPE, when set, is the type of a raw BODY (an upload); HEADERS, when set, are further
 * name, value pairs (NULL-terminated) such as If-None-Exist. */
static void
start_request_full (WzApiClient         *self,
                    RequestKind          kind,
                    const char          *method,
                    const char          *path,
                    GBytes              *json_body,
                    const char          *content_type,
                    const char * const  *extra_headers,
                    const char          *if_match,
                    gboolean             authenticated,
                    const char          *username,
                    GCancellable        *cancellable,
                    gpointer             source_tag,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autofree char *url = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GUri) uri = NULL;
  SoupMessageHeaders *headers;
  Request *request;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);

  if (self->base_url == NULL)
    {
      g_task_return_new_error (task, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_BAD_URL,
                               _("Enter the address of your Wenzhen server, for example https://clinic.example.org."));
      return;
    }

  if (authenticated && self->session == NULL)
    {
      g_task_return_new_error (task, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_SESSION_ENDED,
                               _("Your session has ended. Sign in again to continue."));
      return;
    }

  url = g_strconcat (self->base_url, path, NULL);
  uri = g_uri_parse (url, SOUP_HTTP_URI_FLAGS, &error);
  if (uri == NULL)
    {
      g_task_return_new_error (task, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_BAD_URL,
                               _("“%s” is not a valid server address. Use the form https://clinic.example.org."),
                               url);
      return;
    }

  request = g_new0 (Request, 1);
  request->kind = kind;
  request->username = g_strdup (username);
  request->msg = soup_message_new_from_uri (method, uri);
  if (g_uri_get_port (uri) > 0)
    request->display_host = g_strdup_printf ("%s:%d", g_uri_get_host (uri), g_uri_get_port (uri));
  else
    request->display_host = g_strdup (g_uri_get_host (uri));
  g_task_set_task_data (task, request, (GDestroyNotify) request_free);

  headers = soup_message_get_request_headers (request->msg);
  soup_message_headers_replace (headers, "Accept", "application/fhir+json, application/json");
  if (authenticated)
    {
      g_autofree char *bearer =
        g_strconcat ("Bearer ", wz_session_get_access_token (self->session), NULL);

      soup_message_headers_replace (headers, "Authorization", bearer);
    }
  if (if_match != NULL)
    {
      g_autofree char *tag = g_strdup_printf ("W/\"%s\"", if_match);

      soup_message_headers_replace (headers, "If-Match", tag);
    }
  for (guint i = 0; extra_headers != NULL && extra_headers[i] != NULL && extra_headers[i + 1] != NULL; i += 2)
    soup_message_headers_replace (headers, extra_headers[i], extra_headers[i + 1]);
  /* A conditional create is safe to repeat, so libsoup may send it on a kept-alive connection;
   * it opens a new one (a TLS handshake) for every other POST, each chat message among them. */
  if (soup_message_headers_get_one (headers, "If-None-Exist") != NULL)
    soup_message_add_flags (request->msg, SOUP_MESSAGE_IDEMPOTENT);
  if (json_body != NULL)
    soup_message_set_request_body_from_bytes (request->msg,
                                              content_type != NULL ? content_type
                                              : kind == REQUEST_DATA ? "application/fhir+json"
                                                                     : "application/json",
                                              json_body);

  soup_session_send_and_read_async (self->soup, request->msg, G_PRIORITY_DEFAULT, cancellable,
                                    on_request_sent, g_steal_pointer (&task));
}

static void
start_request (WzApiClient         *self,
               RequestKind          kind,
               const char          *method,
               const char          *path,
               GBytes              *json_body,
               const char          *if_match,
               gboolean             authenticated,
               const char          *username,
               GCancellable        *cancellable,
               gpointer             source_tag,
               GAsyncReadyCallback  callback,
               gpointer             user_data)
{
  start_request_full (self, kind, method, path, json_body, NULL, NULL, if_match, authenticated,
                      username, cancellable, source_tag, callback, user_data);
}

void
wz_api_client_check_server_async (WzApiClient         *self,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_return_if_fail (WZ_IS_API_CLIENT (self));

  start_request (self, REQUEST_CHECK, SOUP_METHOD_GET, "/fhir/metadata", NULL, NULL, FALSE, NULL,
                 cancellable, wz_api_client_check_server_async, callback, user_data);
}

gboolean
wz_api_client_check_server_finish (WzApiClient   *self,
                                   GAsyncResult  *result,
                                   GError       **error)
{
  g_autoptr(JsonNode) node = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  node = g_task_propagate_pointer (G_TASK (result), error);
  if (node == NULL)
    return FALSE;

  /* The hospital that runs the server publishes its CapabilityStatement. */
  g_clear_pointer (&self->organization_name, g_free);
  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonNode *publisher = json_object_get_member (json_node_get_object (node), "publisher");

      if (publisher != NULL && JSON_NODE_HOLDS_VALUE (publisher)
          && json_node_get_value_type (publisher) == G_TYPE_STRING
          && *json_node_get_string (publisher) != '\0')
        self->organization_name = g_strdup (json_node_get_string (publisher));
    }

  return TRUE;
}

const char *
wz_api_client_get_organization_name (WzApiClient *self)
{
  g_return_val_if_fail (WZ_IS_API_CLIENT (self), NULL);

  return self->organization_name;
}

void
wz_api_client_login_async (WzApiClient         *self,
                           const char          *username,
                           const char          *password,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GBytes) body = NULL;
  char *text;
  gsize length;

  g_return_if_fail (WZ_IS_API_CLIENT (self));
  g_return_if_fail (username != NULL);
  g_return_if_fail (password != NULL);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "username");
  json_builder_add_string_value (builder, username);
  json_builder_set_member_name (builder, "password");
  json_builder_add_string_value (builder, password);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, &length);
  body = g_bytes_new_take (text, length);

  start_request (self, REQUEST_LOGIN, SOUP_METHOD_POST, "/auth/login", body, NULL, FALSE, username,
                 cancellable, wz_api_client_login_async, callback, user_data);
}

WzSession *
wz_api_client_login_finish (WzApiClient   *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) local_error = NULL;
  Request *request;
  WzSession *session;

  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  request = g_task_get_task_data (G_TASK (result));
  node = g_task_propagate_pointer (G_TASK (result), error);
  if (node == NULL)
    return NULL;

  session = wz_session_new_from_json (node, request != NULL ? request->username : NULL,
                                      &local_error);
  if (session == NULL)
    {
      g_debug ("Sign-in answer unusable: %s", local_error->message);
      g_set_error (error, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_NOT_WENZHEN,
                   _("%s answers, but not like a Wenzhen server. Check the server address."),
                   request != NULL ? request->display_host : self->base_url);
      return NULL;
    }

  g_set_object (&self->session, session);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SESSION]);

  return session;
}

void
wz_api_client_get_json_async (WzApiClient         *self,
                              const char          *path,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_return_if_fail (WZ_IS_API_CLIENT (self));
  g_return_if_fail (path != NULL && path[0] == '/');

  start_request (self, REQUEST_DATA, SOUP_METHOD_GET, path, NULL, NULL, TRUE, NULL,
                 cancellable, wz_api_client_get_json_async, callback, user_data);
}

JsonNode *
wz_api_client_get_json_finish (WzApiClient   *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

void
wz_api_client_send_json_async (WzApiClient         *self,
                               const char          *method,
                               const char          *path,
                               JsonNode            *body,
                               const char          *if_match,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(GBytes) bytes = NULL;
  char *text;
  gsize length;

  g_return_if_fail (WZ_IS_API_CLIENT (self));
  g_return_if_fail (method != NULL);
  g_return_if_fail (path != NULL && path[0] == '/');
  g_return_if_fail (body != NULL);

  json_generator_set_root (generator, body);
  text = json_generator_to_data (generator, &length);
  bytes = g_bytes_new_take (text, length);

  start_request (self, REQUEST_DATA, method, path, bytes, if_match, TRUE, NULL,
                 cancellable, wz_api_client_send_json_async, callback, user_data);
}

JsonNode *
wz_api_client_send_json_finish (WzApiClient   *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

void
wz_api_client_logout_async (WzApiClient         *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(WzSession) session = NULL;

  g_return_if_fail (WZ_IS_API_CLIENT (self));

  if (self->session == NULL)
    {
      g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);

      g_task_set_source_tag (task, wz_api_client_logout_async);
      g_task_return_pointer (task, json_node_new (JSON_NODE_NULL), (GDestroyNotify) json_node_unref);
      return;
    }

  start_request (self, REQUEST_LOGOUT, SOUP_METHOD_POST, "/auth/logout", NULL, NULL, TRUE, NULL,
                 cancellable, wz_api_client_logout_async, callback, user_data);

  /* The token is gone for this client whatever the server answers: signing out must never be
   * undone by a network problem. The request above already carries it. */
  session = g_steal_pointer (&self->session);
  if (session != NULL)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SESSION]);
}

gboolean
wz_api_client_logout_finish (WzApiClient   *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_autoptr(JsonNode) node = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  node = g_task_propagate_pointer (G_TASK (result), error);

  return node != NULL;
}

/**
 * wz_api_client_send_bytes_async:
 * @body: (nullable): the request body
 * @content_type: (nullable): its type; JSON bodies default to application/fhir+json
 * @headers: (nullable): further request headers as NULL-terminated name, value pairs
 *
 * A request for what the other calls do not cover: raw uploads (Binary) and conditional
 * creates (If-None-Exist). The answer, when JSON, comes back as a node; the HTTP status is
 * given by the finish function even on failure, so a caller can tell a retry from a refusal.
 */
void
wz_api_client_send_bytes_async (WzApiClient         *self,
                                const char          *method,
                                const char          *path,
                                GBytes              *body,
                                const char          *content_type,
                                const char * const  *headers,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_return_if_fail (WZ_IS_API_CLIENT (self));
  g_return_if_fail (method != NULL);
  g_return_if_fail (path != NULL && path[0] == '/');

  start_request_full (self, REQUEST_DATA, method, path, body, content_type, headers, NULL, TRUE,
                      NULL, cancellable, wz_api_client_send_bytes_async, callback, user_data);
}

/* STATUS is the HTTP status, 0 when no answer arrived. */
JsonNode *
wz_api_client_send_bytes_finish (WzApiClient   *self,
                                 GAsyncResult  *result,
                                 guint         *status,
                                 GError       **error)
{
  Request *request;

  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  request = g_task_get_task_data (G_TASK (result));
  if (status != NULL)
    *status = request != NULL ? request->status : 0;

  return g_task_propagate_pointer (G_TASK (result), error);
}
