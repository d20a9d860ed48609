/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-fhir-routes"

#include "config.h"

#include "wz-fhir-routes.h"

#include <string.h>

#include "wz-bundle.h"
#include "wz-capability.h"
#include "wz-error.h"
#include "wz-fhir.h"
#include "wz-http.h"

struct _WzFhirRoutes
{
  GObject  parent_instance;

  WzStore *store;
  WzAuth  *auth;
  WzAudit *audit;
  GBytes  *capability;
};

G_DEFINE_FINAL_TYPE (WzFhirRoutes, wz_fhir_routes, G_TYPE_OBJECT)

typedef enum
{
  ACCESS_READ,
  ACCESS_WRITE,
} Access;

/* One request being answered: who asks, and for what. */
typedef struct
{
  WzFhirRoutes      *self;
  SoupServerMessage *msg;
  const WzSession   *session;
  const char        *type;
  const char        *id;
} Request;

/* Role rules for this stage: every staff role may read clinical data, doctors write it, admins
 * manage Practitioner records, and only admins read AuditEvent resources. Care-team checks come on
 * top of this. */
static gboolean
role_may (const WzSession *session,
          const char      *type,
          Access           access)
{
  const char *role = session->role;
  gboolean is_doctor = g_strcmp0 (role, "doctor") == 0;
  gboolean is_admin = g_strcmp0 (role, "admin") == 0;
  gboolean is_pharmacist = g_strcmp0 (role, "pharmacist") == 0;

  if (strcmp (type, "AuditEvent") == 0)
    return access == ACCESS_READ && is_admin;

  if (access == ACCESS_READ)
    return is_doctor || is_pharmacist || is_admin;

  if (strcmp (type, "Practitioner") == 0)
    return is_doctor || is_admin;

  return is_doctor;
}

static void
on_audit_done (const GError *error,
               gpointer      user_data)
{
  SoupServerMessage *msg = user_data;

  if (error != NULL)
    {
      g_warning ("Audit row could not be written, withholding the response: %s", error->message);
      wz_http_respond_problem (msg, WZ_ERROR_UNAVAILABLE,
                               "The access could not be written to the audit log, so it was not "
                               "answered; try again");
    }

  /* The client may have gone away while the row was written; libsoup drops the socket of a
   * closed connection, and unpausing it then would be an error. */
  if (soup_server_message_get_socket (msg) != NULL)
    soup_server_message_unpause (msg);
  g_object_unref (msg);
}

/* Holds the response (already set on the message) until the audit row is on disk. */
static void
audit_and_send (Request    *req,
                const char *action,
                const char *entity,
                const char *patient)
{
  guint status = soup_server_message_get_status (req->msg);
  const char *outcome = status < 400 ? "0" : status < 500 ? "4" : "8";
  g_autofree char *agent = NULL;

  if (req->session->practitioner_id != NULL)
    agent = g_strconcat ("Practitioner/", req->session->practitioner_id, NULL);
  else
    agent = g_strdup (req->session->username);

  soup_server_message_pause (req->msg);
  wz_audit_record (req->self->audit, action, outcome, agent, entity, patient,
                   soup_server_message_get_remote_host (req->msg), on_audit_done,
                   g_object_ref (req->msg));
}

static gboolean
check_role (Request    *req,
            Access      access,
            const char *action)
{
  g_autofree char *entity = NULL;

  if (role_may (req->session, req->type, access))
    return TRUE;

  wz_http_respond_problem (req->msg, WZ_ERROR_FORBIDDEN, "A %s may not %s %s resources",
                           req->session->role, access == ACCESS_READ ? "read" : "write",
                           req->type);
  if (req->id != NULL)
    entity = g_strconcat (req->type, "/", req->id, NULL);
  audit_and_send (req, action, entity ? entity : req->type, NULL);

  return FALSE;
}

static void
respond_error_audited (Request      *req,
                       const GError *error,
                       const char   *action)
{
  g_autofree char *entity = NULL;

  wz_http_respond_error (req->msg, error);
  if (req->id != NULL)
    entity = g_strconcat (req->type, "/", req->id, NULL);
  audit_and_send (req, action, entity ? entity : req->type, NULL);
}

static void
respond_resource (Request          *req,
                  guint             status,
                  WzStoredResource *stored,
                  const char       *action)
{
  g_autofree char *entity = g_strconcat (stored->type, "/", stored->id, NULL);

  wz_http_respond_json (req->msg, status, stored->json);
  wz_http_set_version_headers (req->msg, stored->version_id, stored->last_updated);
  audit_and_send (req, action, entity, stored->patient);
}

static gboolean
check_content_type (Request *req)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (req->msg);
  g_autoptr(GHashTable) params = NULL;
  const char *content_type = soup_message_headers_get_content_type (headers, &params);
  const char *charset = params ? g_hash_table_lookup (params, "charset") : NULL;

  if (content_type != NULL &&
      (g_ascii_strcasecmp (content_type, WZ_FHIR_CONTENT_TYPE) == 0 ||
       g_ascii_strcasecmp (content_type, "application/json") == 0) &&
      (charset == NULL || g_ascii_strcasecmp (charset, "utf-8") == 0))
    return TRUE;

  wz_http_respond_problem (req->msg, WZ_ERROR_UNSUPPORTED_MEDIA,
                           "Content-Type must be %s (UTF-8), not “%s”", WZ_FHIR_CONTENT_TYPE,
                           content_type ? content_type : "(none)");
  return FALSE;
}

static JsonNode *
parse_body (Request     *req,
            const char  *expected_id,
            GError     **error)
{
  SoupMessageBody *body = soup_server_message_get_request_body (req->msg);
  g_autoptr(GBytes) bytes = soup_message_body_flatten (body);
  gsize length;
  const char *data = g_bytes_get_data (bytes, &length);

  return wz_fhir_parse_resource (data ? data : "", length, req->type, expected_id, error);
}

static void
handle_read (Request *req)
{
  g_autoptr(WzStoredResource) stored = NULL;
  g_autoptr(GError) error = NULL;

  if (!check_role (req, ACCESS_READ, "R"))
    return;

  stored = wz_store_read (req->self->store, req->type, req->id, &error);
  if (stored == NULL)
    {
      respond_error_audited (req, error, "R");
      return;
    }

  respond_resource (req, SOUP_STATUS_OK, stored, "R");
}

static void
handle_vread (Request    *req,
              const char *vid)
{
  g_autoptr(WzStoredResource) stored = NULL;
  g_autoptr(GError) error = NULL;
  guint64 version;

  if (!check_role (req, ACCESS_READ, "R"))
    return;

  if (!g_ascii_string_to_unsigned (vid, 10, 1, G_MAXINT64, &version, NULL))
    g_set_error (&error, WZ_ERROR, WZ_ERROR_NOT_FOUND,
                 "“%s” is not a version of %s/%s; versions are 1, 2, 3, …", vid, req->type, req->id);
  else
    stored = wz_store_vread (req->self->store, req->type, req->id, version, &error);

  if (stored == NULL)
    {
      respond_error_audited (req, error, "R");
      return;
    }

  respond_resource (req, SOUP_STATUS_OK, stored, "R");
}

static void
handle_create (Request *req)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (req->msg);
  const char *if_none_exist = soup_message_headers_get_one (headers, "If-None-Exist");
  g_autoptr(WzSearchQuery) condition = NULL;
  g_autoptr(WzStoredResource) stored = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *base = NULL;
  g_autofree char *location = NULL;
  gboolean created = FALSE;

  if (!check_role (req, ACCESS_WRITE, "C"))
    return;

  if (!check_content_type (req))
    {
      audit_and_send (req, "C", req->type, NULL);
      return;
    }

  if ((root = parse_body (req, NULL, &error)) == NULL ||
      (if_none_exist != NULL &&
       (condition = wz_search_query_parse (req->type, if_none_exist, &error)) == NULL) ||
      (stored = wz_store_create (req->self->store, json_node_get_object (root), condition,
                                 &created, &error)) == NULL)
    {
      if (condition == NULL && if_none_exist != NULL && root != NULL)
        g_prefix_error (&error, "If-None-Exist: ");
      respond_error_audited (req, error, "C");
      return;
    }

  base = wz_http_base_url (req->msg);
  location = g_strdup_printf ("%s/fhir/%s/%s/_history/%" G_GINT64_FORMAT, base, stored->type,
                              stored->id, stored->version_id);
  soup_message_headers_replace (soup_server_message_get_response_headers (req->msg),
                                       "Location", location);
  respond_resource (req, created ? SOUP_STATUS_CREATED : SOUP_STATUS_OK, stored, "C");
}

static void
handle_update (Request *req)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (req->msg);
  const char *if_match = soup_message_headers_get_one (headers, "If-Match");
  g_autoptr(WzStoredResource) stored = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  gint64 expected;

  if (!check_role (req, ACCESS_WRITE, "U"))
    return;

  if (if_match == NULL)
    g_set_error (&error, WZ_ERROR, WZ_ERROR_PRECONDITION_REQUIRED,
                 "An update needs If-Match: W/\"n\" naming the version it is based on");
  else if (!wz_http_parse_etag (if_match, &expected))
    g_set_error (&error, WZ_ERROR, WZ_ERROR_INVALID,
                 "If-Match “%s” is not a version tag like W/\"3\"", if_match);
  if (error != NULL)
    {
      respond_error_audited (req, error, "U");
      return;
    }

  if (!check_content_type (req))
    {
      audit_and_send (req, "U", req->type, NULL);
      return;
    }

  if ((root = parse_body (req, req->id, &error)) == NULL ||
      (stored = wz_store_update (req->self->store, json_node_get_object (root), req->id, expected,
                                 &error)) == NULL)
    {
      respond_error_audited (req, error, "U");
      return;
    }

  respond_resource (req, SOUP_STATUS_OK, stored, "U");
}

static void
handle_delete (Request *req)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (req->msg);
  const char *if_match = soup_message_headers_get_one (headers, "If-Match");
  g_autoptr(WzStoredResource) stored = NULL;
  g_autoptr(GError) error = NULL;
  gint64 expected = 0;

  if (!check_role (req, ACCESS_WRITE, "D"))
    return;

  if (if_match != NULL && !wz_http_parse_etag (if_match, &expected))
    g_set_error (&error, WZ_ERROR, WZ_ERROR_INVALID,
                 "If-Match “%s” is not a version tag like W/\"3\"", if_match);
  else
    stored = wz_store_retire (req->self->store, req->type, req->id, expected, &error);

  if (stored == NULL)
    {
      respond_error_audited (req, error, "D");
      return;
    }

  respond_resource (req, SOUP_STATUS_OK, stored, "D");
}

/* The patient all of RESOURCES belong to, or NULL when they are not one patient's. */
static const char *
common_patient (GPtrArray *resources)
{
  const char *patient = NULL;

  for (guint i = 0; i < resources->len; i++)
    {
      WzStoredResource *resource = g_ptr_array_index (resources, i);

      if (resource->patient == NULL || (patient != NULL && strcmp (patient, resource->patient) != 0))
        return NULL;
      patient = resource->patient;
    }

  return patient;
}

static void
add_page_link (WzBundleBuilder     *bundle,
               const char          *relation,
               const char          *base,
               const WzSearchQuery *query,
               guint                offset)
{
  g_autofree char *page = wz_search_query_page_string (query, offset);
  g_autofree char *url = g_strdup_printf ("%s/fhir/%s?%s", base, query->type, page);

  wz_bundle_builder_add_link (bundle, relation, url);
}

static void
handle_search (Request *req)
{
  const char *query_string = g_uri_get_query (soup_server_message_get_uri (req->msg));
  g_autoptr(WzSearchQuery) query = NULL;
  g_autoptr(WzStoreResult) result = NULL;
  g_autoptr(WzBundleBuilder) bundle = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *base = NULL;
  g_autofree char *entity = NULL;

  if (!check_role (req, ACCESS_READ, "E"))
    return;

  if ((query = wz_search_query_parse (req->type, query_string, &error)) == NULL ||
      (result = wz_store_search (req->self->store, query, &error)) == NULL)
    {
      respond_error_audited (req, error, "E");
      return;
    }

  base = wz_http_base_url (req->msg);
  bundle = wz_bundle_builder_new ("searchset", result->total);
  add_page_link (bundle, "self", base, query, query->offset);
  if ((gint64) query->offset + query->count < result->total && query->count > 0)
    add_page_link (bundle, "next", base, query, query->offset + query->count);
  if (query->offset > 0)
    add_page_link (bundle, "previous", base, query,
                   query->offset > query->count ? query->offset - query->count : 0);

  for (guint i = 0; i < result->resources->len; i++)
    {
      WzStoredResource *resource = g_ptr_array_index (result->resources, i);
      g_autofree char *full_url = g_strdup_printf ("%s/fhir/%s/%s", base, resource->type,
                                                   resource->id);

      wz_bundle_builder_add_entry (bundle, full_url, resource->json, "match", NULL, NULL);
    }

  body = wz_bundle_builder_end (g_steal_pointer (&bundle));
  wz_http_respond_json (req->msg, SOUP_STATUS_OK, body);

  /* The log says what was looked for, so a search is as traceable as a read. */
  entity = *query->canonical ? g_strconcat (req->type, "?", query->canonical, NULL)
                             : g_strdup (req->type);
  audit_and_send (req, "E", entity, common_patient (result->resources));
}

static gboolean
query_uint (GHashTable  *query,
            const char  *name,
            guint        fallback,
            guint        max,
            guint       *out_value,
            GError     **error)
{
  const char *text = query ? g_hash_table_lookup (query, name) : NULL;
  guint64 value;

  if (text == NULL)
    {
      *out_value = fallback;
      return TRUE;
    }

  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT32, &value, NULL))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "%s must be a whole number, not “%s”",
                   name, text);
      return FALSE;
    }

  *out_value = MIN (value, max);
  return TRUE;
}

static void
handle_history (Request    *req,
                GHashTable *query)
{
  g_autoptr(WzStoreResult) result = NULL;
  g_autoptr(WzBundleBuilder) bundle = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *base = NULL;
  g_autofree char *entity = NULL;
  guint count, offset;

  if (!check_role (req, ACCESS_READ, "R"))
    return;

  if (!query_uint (query, "_count", WZ_SEARCH_DEFAULT_COUNT, WZ_SEARCH_MAX_COUNT, &count, &error) ||
      !query_uint (query, "_offset", 0, G_MAXINT32, &offset, &error) ||
      (result = wz_store_history (req->self->store, req->type, req->id, count, offset,
                                  &error)) == NULL)
    {
      respond_error_audited (req, error, "R");
      return;
    }

  base = wz_http_base_url (req->msg);
  bundle = wz_bundle_builder_new ("history", result->total);
  {
    g_autofree char *self_url = g_strdup_printf ("%s/fhir/%s/%s/_history?_count=%u&_offset=%u",
                                                 base, req->type, req->id, count, offset);

    wz_bundle_builder_add_link (bundle, "self", self_url);
  }
  if ((gint64) offset + count < result->total && count > 0)
    {
      g_autofree char *next_url = g_strdup_printf ("%s/fhir/%s/%s/_history?_count=%u&_offset=%u",
                                                   base, req->type, req->id, count,
                                                   offset + count);

      wz_bundle_builder_add_link (bundle, "next", next_url);
    }

  for (guint i = 0; i < result->resources->len; i++)
    {
      WzStoredResource *resource = g_ptr_array_index (result->resources, i);
      g_autofree char *full_url = g_strdup_printf ("%s/fhir/%s/%s", base, resource->type,
                                                   resource->id);
      g_autofree char *request_url = NULL;

      request_url = resource->version_id == 1
                    ? g_strdup (resource->type)
                    : g_strdup_printf ("%s/%s", resource->type, resource->id);
      wz_bundle_builder_add_entry (bundle, full_url, resource->json, NULL,
                                   resource->version_id == 1 ? "POST" : "PUT", request_url);
    }

  body = wz_bundle_builder_end (g_steal_pointer (&bundle));
  wz_http_respond_json (req->msg, SOUP_STATUS_OK, body);

  entity = g_strconcat (req->type, "/", req->id, NULL);
  audit_and_send (req, "R", entity, common_patient (result->resources));
}

static void
method_not_allowed (SoupServerMessage *msg,
                    const char        *allow,
                    const char        *what)
{
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                       "Allow", allow);
  wz_http_respond_problem (msg, WZ_ERROR_METHOD_NOT_ALLOWED, "%s %s is not supported; use %s",
                           soup_server_message_get_method (msg), what, allow);
}

static const WzSession *
authenticate (WzFhirRoutes      *self,
              SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *authorization = soup_message_headers_get_one (headers,
                                                                   "Authorization");
  const WzSession *session = NULL;

  if (authorization != NULL && g_ascii_strncasecmp (authorization, "Bearer ", 7) == 0)
    session = wz_auth_lookup (self->auth, authorization + 7);

  if (session == NULL)
    wz_http_respond_problem (msg, WZ_ERROR_UNAUTHORIZED,
                             authorization == NULL
                             ? "Sign in first: send Authorization: Bearer TOKEN from POST /auth/login"
                             : "The access token is unknown, expired or revoked; sign in again");

  return session;
}

static void
fhir_handler (SoupServer        *server,
              SoupServerMessage *msg,
              const char        *path,
              GHashTable        *query,
              gpointer           user_data)
{
  WzFhirRoutes *self = user_data;
  const char *method = soup_server_message_get_method (msg);
  g_auto(GStrv) parts = NULL;
  guint n_parts;
  Request req = { self, msg, NULL, NULL, NULL };

  /* "/fhir/Patient/1/_history/2" → Patient, 1, _history, 2 */
  if (!g_str_has_prefix (path, "/fhir/") || path[6] == '\0')
    {
      wz_http_respond_problem (msg, WZ_ERROR_NOT_FOUND,
                               "No such endpoint; the FHIR base is /fhir (see /fhir/metadata)");
      return;
    }
  parts = g_strsplit (path + 6, "/", 5);
  n_parts = g_strv_length (parts);

  if (n_parts == 1 && strcmp (parts[0], "metadata") == 0)
    {
      if (method != SOUP_METHOD_GET)
        method_not_allowed (msg, "GET", "on /fhir/metadata");
      else
        wz_http_respond_json (msg, SOUP_STATUS_OK, self->capability);
      return;
    }

  if ((req.session = authenticate (self, msg)) == NULL)
    return;

  req.type = parts[0];
  if (!wz_fhir_type_is_supported (req.type))
    {
      wz_http_respond_problem (msg, WZ_ERROR_NOT_FOUND,
                               "“%s” is not a resource type this server supports (see /fhir/metadata)",
                               req.type);
      return;
    }

  if (n_parts >= 2)
    {
      req.id = parts[1];
      if (!wz_fhir_id_is_valid (req.id))
        {
          wz_http_respond_problem (msg, WZ_ERROR_INVALID,
                                   "“%s” is not a valid id (1 to 64 of A-Z a-z 0-9 - .)", req.id);
          return;
        }
    }

  if (n_parts == 1)
    {
      if (method == SOUP_METHOD_GET)
        handle_search (&req);
      else if (method == SOUP_METHOD_POST)
        handle_create (&req);
      else
        method_not_allowed (msg, "GET, POST", "on a resource type");
    }
  else if (n_parts == 2)
    {
      if (method == SOUP_METHOD_GET)
        handle_read (&req);
      else if (method == SOUP_METHOD_PUT)
        handle_update (&req);
      else if (method == SOUP_METHOD_DELETE)
        handle_delete (&req);
      else
        method_not_allowed (msg, "GET, PUT, DELETE", "on a resource");
    }
  else if (strcmp (parts[2], "_history") == 0 && n_parts <= 4)
    {
      if (method != SOUP_METHOD_GET)
        method_not_allowed (msg, "GET", "on a resource's history");
      else if (n_parts == 3)
        handle_history (&req, query);
      else
        handle_vread (&req, parts[3]);
    }
  else
    wz_http_respond_problem (msg, WZ_ERROR_NOT_FOUND, "No such endpoint: %s", path);
}

void
wz_fhir_routes_register (WzFhirRoutes *self,
                         SoupServer   *server)
{
  g_return_if_fail (WZ_IS_FHIR_ROUTES (self));

  wz_http_limit_body (server, "/fhir", WZ_FHIR_MAX_RESOURCE_SIZE);
  soup_server_add_handler (server, "/fhir", fhir_handler, g_object_ref (self), g_object_unref);
}

static void
wz_fhir_routes_dispose (GObject *object)
{
  WzFhirRoutes *self = WZ_FHIR_ROUTES (object);

  g_clear_object (&self->store);
  g_clear_object (&self->auth);
  g_clear_object (&self->audit);
  g_clear_pointer (&self->capability, g_bytes_unref);

  G_OBJECT_CLASS (wz_fhir_routes_parent_class)->dispose (object);
}

static void
wz_fhir_routes_class_init (WzFhirRoutesClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = wz_fhir_routes_dispose;
}

static void
wz_fhir_routes_init (WzFhirRoutes *self)
{
}

WzFhirRoutes *
wz_fhir_routes_new (WzStore *store,
                    WzAuth  *auth,
                    WzAudit *audit)
{
  WzFhirRoutes *self = g_object_new (WZ_TYPE_FHIR_ROUTES, NULL);

  self->store = g_object_ref (store);
  self->auth = g_object_ref (auth);
  self->audit = g_object_ref (audit);
  self->capability = wz_capability_statement_new (PACKAGE_VERSION);

  return self;
}
