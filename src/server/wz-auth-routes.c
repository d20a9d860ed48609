/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-auth-routes"

#include "config.h"

#include "wz-auth-routes.h"

#include <json-glib/json-glib.h>
#include <sodium.h>
#include <string.h>

#include "wz-error.h"

#define FHIR_JSON "application/fhir+json"
#define MAX_AGENT_BYTES 128

typedef struct
{
  WzAuth  *auth;
  WzAudit *audit;
} Routes;

typedef struct
{
  Routes            *routes;
  SoupServerMessage *msg;
  char              *username;
  char              *password;
  char              *totp;
  char              *peer;

  /* Filled by the worker thread. */
  char              *token;
  char              *role;
  char              *display_name;
  char              *practitioner_id;
  guint              retry_after_s;
  GError            *error;
} LoginJob;

static void
routes_release (gpointer data)
{
  Routes *routes = data;

  g_clear_object (&routes->auth);
  g_clear_object (&routes->audit);
}

static void
routes_unref (gpointer data)
{
  g_atomic_rc_box_release_full (data, routes_release);
}

static void
secret_free (char *secret)
{
  if (secret != NULL)
    {
      sodium_memzero (secret, strlen (secret));
      g_free (secret);
    }
}

static void
login_job_free (gpointer data)
{
  LoginJob *job = data;

  routes_unref (job->routes);
  g_clear_object (&job->msg);
  g_free (job->username);
  secret_free (job->password);
  secret_free (job->totp);
  secret_free (job->token);
  g_free (job->peer);
  g_free (job->role);
  g_free (job->display_name);
  g_free (job->practitioner_id);
  g_clear_error (&job->error);
  g_free (job);
}

static void
set_json_response (SoupServerMessage *msg,
                   guint              status,
                   JsonNode          *root)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  gsize len = 0;
  char *text;

  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, &len);
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, FHIR_JSON, SOUP_MEMORY_TAKE, text, len);
}

/* issue_code is the FHIR IssueType: login, security, invalid, throttled, too-long, exception… */
static void
send_outcome (SoupServerMessage *msg,
              guint              status,
              const char        *issue_code,
              const char        *diagnostics)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "resourceType");
  json_builder_add_string_value (builder, "OperationOutcome");
  json_builder_set_member_name (builder, "issue");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "severity");
  json_builder_add_string_value (builder, "error");
  json_builder_set_member_name (builder, "code");
  json_builder_add_string_value (builder, issue_code);
  json_builder_set_member_name (builder, "diagnostics");
  json_builder_add_string_value (builder, diagnostics);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  set_json_response (msg, status, root);
}

static gboolean
body_too_large (SoupMessageHeaders *headers)
{
  return soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH &&
         soup_message_headers_get_content_length (headers) > WZ_AUTH_ROUTES_MAX_BODY;
}

static void
auth_early_cb (SoupServer        *server,
               SoupServerMessage *msg,
               const char        *path,
               GHashTable        *query,
               gpointer           user_data)
{
  /* Answering here, before the body is read, keeps a huge upload from ever being buffered. */
  if (body_too_large (soup_server_message_get_request_headers (msg)))
    send_outcome (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too-long",
                  "Request body is larger than 16 KiB");
}

static gboolean
allow_only_post (SoupServerMessage *msg)
{
  if (g_strcmp0 (soup_server_message_get_method (msg), SOUP_METHOD_POST) == 0)
    return TRUE;

  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", "POST");
  send_outcome (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "not-supported", "Only POST is allowed here");
  return FALSE;
}

static char *
truncate_utf8 (const char *text,
               gsize       max_bytes)
{
  const char *end;

  if (strlen (text) <= max_bytes)
    return g_strdup (text);
  end = g_utf8_find_prev_char (text, text + max_bytes + 1);
  return g_strndup (text, end ? (gsize) (end - text) : 0);
}

static gboolean
string_member (JsonNode    *node,
               const char  *name,
               const char **out_value,
               GError     **error)
{
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "Member '%s' must be a string", name);
      return FALSE;
    }
  *out_value = json_node_get_string (node);
  return TRUE;
}

/* json-glib hands strings out NUL-terminated, so "ab\u0000cd" would quietly become "ab": a
 * different user name or password than the client sent. Such text is refused instead. */
static gboolean
has_escaped_nul (const char *data,
                 gsize       size)
{
  gboolean in_string = FALSE;

  for (gsize i = 0; i < size; i++)
    {
      if (!in_string)
        {
          in_string = data[i] == '"';
          continue;
        }
      if (data[i] == '"')
        in_string = FALSE;
      else if (data[i] == '\\' && i + 1 < size)
        {
          if (data[i + 1] == 'u' && i + 5 < size && memcmp (data + i + 2, "0000", 4) == 0)
            return TRUE;
          i++;
        }
    }
  return FALSE;
}

/* Strict: an object with string username and password, optional string totp, nothing else. */
static gboolean
parse_login_body (GBytes      *body,
                  LoginJob    *job,
                  GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GList) members = NULL;
  g_autoptr(GError) parse_error = NULL;
  const char *data;
  gsize size;
  JsonObject *object;
  const char *username = NULL;
  const char *password = NULL;
  const char *totp = NULL;

  data = g_bytes_get_data (body, &size);
  if (size == 0)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "Request body is empty; expected a JSON object");
      return FALSE;
    }
  if (!g_utf8_validate_len (data, size, NULL))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "Request body is not valid UTF-8");
      return FALSE;
    }
  if (has_escaped_nul (data, size))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "Strings must not contain NUL characters");
      return FALSE;
    }
  if (!json_parser_load_from_data (parser, data, size, &parse_error))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "Request body is not valid JSON: %s",
                   parse_error->message);
      return FALSE;
    }
  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "Request body must be a JSON object");
      return FALSE;
    }

  object = json_node_get_object (json_parser_get_root (parser));
  members = json_object_get_members (object);
  for (GList *l = members; l != NULL; l = l->next)
    {
      const char *name = l->data;
      JsonNode *node = json_object_get_member (object, name);
      gboolean ok;

      if (g_str_equal (name, "username"))
        ok = string_member (node, name, &username, error);
      else if (g_str_equal (name, "password"))
        ok = string_member (node, name, &password, error);
      else if (g_str_equal (name, "totp"))
        ok = string_member (node, name, &totp, error);
      else
        {
          g_autofree char *shown = truncate_utf8 (name, 64);

          g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "Unknown member '%s' in login request", shown);
          ok = FALSE;
        }
      if (!ok)
        return FALSE;
    }

  if (username == NULL || *username == '\0')
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "Member 'username' is required");
      return FALSE;
    }
  if (password == NULL)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "Member 'password' is required");
      return FALSE;
    }
  job->username = g_strdup (username);
  job->password = g_strdup (password);
  job->totp = g_strdup (totp);
  return TRUE;
}

static void
login_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  LoginJob *job = task_data;
  const WzSession *session = NULL;

  job->token = wz_auth_login (job->routes->auth, job->username, job->password, job->totp,
                              job->peer, &session, &job->retry_after_s, &job->error);
  if (job->token != NULL)
    {
      /* Copied here: the session belongs to the auth cache, which the main loop may change. */
      job->role = g_strdup (session->role);
      job->display_name = g_strdup (session->display_name);
      job->practitioner_id = g_strdup (session->practitioner_id);
    }
  secret_free (g_steal_pointer (&job->password));

  g_task_return_boolean (task, TRUE);
}

static void
send_login_answer (LoginJob *job)
{
  SoupServerMessage *msg = job->msg;

  if (job->token != NULL)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "access_token");
      json_builder_add_string_value (builder, job->token);
      json_builder_set_member_name (builder, "token_type");
      json_builder_add_string_value (builder, "Bearer");
      json_builder_set_member_name (builder, "expires_in");
      json_builder_add_int_value (builder, WZ_AUTH_TOKEN_LIFETIME_S);
      json_builder_set_member_name (builder, "practitioner");
      if (job->practitioner_id != NULL)
        {
          g_autofree char *reference = g_strconcat ("Practitioner/", job->practitioner_id, NULL);

          json_builder_add_string_value (builder, reference);
        }
      else
        json_builder_add_null_value (builder);
      json_builder_set_member_name (builder, "role");
      json_builder_add_string_value (builder, job->role);
      json_builder_set_member_name (builder, "display_name");
      json_builder_add_string_value (builder, job->display_name);
      json_builder_end_object (builder);

      root = json_builder_get_root (builder);
      set_json_response (msg, SOUP_STATUS_OK, root);
      return;
    }

  if (g_error_matches (job->error, WZ_ERROR, WZ_ERROR_LOCKED))
    {
      g_autofree char *retry = g_strdup_printf ("%u", MAX (job->retry_after_s, 1));

      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "Retry-After", retry);
      send_outcome (msg, 429, "throttled", job->error->message);
    }
  else if (g_error_matches (job->error, WZ_ERROR, WZ_ERROR_UNAUTHORIZED))
    send_outcome (msg, SOUP_STATUS_UNAUTHORIZED, "login", job->error->message);
  else if (g_error_matches (job->error, WZ_ERROR, WZ_ERROR_INVALID))
    send_outcome (msg, SOUP_STATUS_BAD_REQUEST, "invalid", job->error->message);
  else
    {
      g_warning ("Login failed: %s", job->error->message);
      send_outcome (msg, wz_error_to_http_status (job->error), "exception",
                    "The server could not complete the login; try again later");
    }
}

static void
login_audited (const GError *error,
               gpointer      user_data)
{
  LoginJob *job = user_data;

  /* A login nobody could trace later must not succeed: take the token back. */
  if (error != NULL && job->token != NULL)
    {
      g_warning ("Refusing login of %s: audit log unavailable: %s", job->username, error->message);
      wz_auth_logout (job->routes->auth, job->token);
      soup_message_headers_remove (soup_server_message_get_response_headers (job->msg), "Cache-Control");
      send_outcome (job->msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "exception",
                    "The audit log is unavailable; try again later");
    }

  soup_server_message_unpause (job->msg);
  login_job_free (job);
}

static void
login_done (GObject      *source_object,
            GAsyncResult *result,
            gpointer      user_data)
{
  /* The job outlives the task: it waits for the audit row, and is freed once that is written. */
  LoginJob *job = user_data;
  g_autofree char *agent = NULL;
  g_autofree char *entity = NULL;

  soup_message_headers_replace (soup_server_message_get_response_headers (job->msg),
                                "Cache-Control", "no-store");
  send_login_answer (job);

  if (job->routes->audit == NULL)
    {
      login_audited (NULL, job);
      return;
    }

  agent = truncate_utf8 (job->username, MAX_AGENT_BYTES);
  if (job->practitioner_id != NULL)
    entity = g_strconcat ("Practitioner/", job->practitioner_id, NULL);
  wz_audit_record (job->routes->audit, "E", job->token != NULL ? "0" : "4",
                   agent, entity, NULL, job->peer, login_audited, job);
}

static void
login_cb (SoupServer        *server,
          SoupServerMessage *msg,
          const char        *path,
          GHashTable        *query,
          gpointer           user_data)
{
  Routes *routes = user_data;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GTask) task = NULL;
  LoginJob *job;

  if (!allow_only_post (msg))
    return;

  body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  if (g_bytes_get_size (body) > WZ_AUTH_ROUTES_MAX_BODY)
    {
      send_outcome (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too-long",
                    "Request body is larger than 16 KiB");
      return;
    }

  job = g_new0 (LoginJob, 1);
  job->routes = g_atomic_rc_box_acquire (routes);
  job->msg = g_object_ref (msg);
  job->peer = g_strdup (soup_server_message_get_remote_host (msg));

  if (!parse_login_body (body, job, &error))
    {
      send_outcome (msg, SOUP_STATUS_BAD_REQUEST, "invalid", error->message);
      login_job_free (job);
      return;
    }

  /* argon2id takes tens of milliseconds; the main loop keeps serving meanwhile. */
  soup_server_message_pause (msg);
  task = g_task_new (NULL, NULL, login_done, job);
  g_task_set_source_tag (task, login_cb);
  g_task_set_task_data (task, job, NULL);
  g_task_run_in_thread (task, login_thread);
}

static void
logout_audited (const GError *error,
                gpointer      user_data)
{
  SoupServerMessage *msg = user_data;

  soup_server_message_unpause (msg);
  g_object_unref (msg);
}

const char *
wz_auth_routes_bearer_token (SoupServerMessage *msg)
{
  const char *header;

  header = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                         "Authorization");
  if (header == NULL || g_ascii_strncasecmp (header, "Bearer ", 7) != 0)
    return NULL;
  header += 7;
  while (*header == ' ')
    header++;
  return *header ? header : NULL;
}

static void
logout_cb (SoupServer        *server,
           SoupServerMessage *msg,
           const char        *path,
           GHashTable        *query,
           gpointer           user_data)
{
  Routes *routes = user_data;
  const WzSession *session;
  const char *token;
  g_autofree char *agent = NULL;

  if (!allow_only_post (msg))
    return;

  token = wz_auth_routes_bearer_token (msg);
  session = token ? wz_auth_lookup (routes->auth, token) : NULL;
  if (session == NULL)
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "WWW-Authenticate", "Bearer");
      send_outcome (msg, SOUP_STATUS_UNAUTHORIZED, "security",
                    token ? "The access token is not valid (expired or signed out)"
                          : "An Authorization: Bearer token is required");
      return;
    }

  agent = g_strdup (session->username);
  wz_auth_logout (routes->auth, token);
  soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);

  if (routes->audit != NULL)
    {
      soup_server_message_pause (msg);
      wz_audit_record (routes->audit, "E", "0", agent, NULL, NULL,
                       soup_server_message_get_remote_host (msg), logout_audited,
                       g_object_ref (msg));
    }
}

void
wz_auth_routes_register (SoupServer *server,
                         WzAuth     *auth,
                         WzAudit    *audit)
{
  Routes *routes;

  g_return_if_fail (SOUP_IS_SERVER (server));
  g_return_if_fail (WZ_IS_AUTH (auth));
  g_return_if_fail (audit == NULL || WZ_IS_AUDIT (audit));

  routes = g_atomic_rc_box_new0 (Routes);
  routes->auth = g_object_ref (auth);
  routes->audit = audit ? g_object_ref (audit) : NULL;

  soup_server_add_early_handler (server, "/auth", auth_early_cb, NULL, NULL);
  soup_server_add_handler (server, "/auth/login", login_cb,
                           g_atomic_rc_box_acquire (routes), routes_unref);
  soup_server_add_handler (server, "/auth/logout", logout_cb,
                           g_atomic_rc_box_acquire (routes), routes_unref);
  routes_unref (routes);
}
