/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-fhir-routes"

#include "config.h"

#include "wz-fhir-routes.h"

#include <string.h>

#include "wz-audited-response.h"
#include "wz-bundle.h"
#include "wz-capability.h"
#include "wz-error.h"
#include "wz-fhir.h"
#include "wz-http.h"

/* Paging through the audit log, which counts by sequence number rather than by offset. */
#define AUDIT_CURSOR_PARAM "_cursor"

struct _WzFhirRoutes
{
  GObject      parent_instance;

  WzStore     *store;
  WzAuth      *auth;
  WzAudit     *audit;
  WzCareTeam  *care_team;
  WzVisitLink *visit_link;
  WzPreconsult *preconsult;
  WzChatRoutes *chat;
  GBytes      *capability;
};

G_DEFINE_FINAL_TYPE (WzFhirRoutes, wz_fhir_routes, G_TYPE_OBJECT)

enum
{
  RESOURCE_WRITTEN,
  RESOURCE_SUPERSEDED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

typedef enum
{
  ACCESS_READ = WZ_CARE_TEAM_READ,
  ACCESS_WRITE = WZ_CARE_TEAM_WRITE,
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

/* Holds the response (already set on the message) until the audit row is on disk. */
static void
audit_and_send (Request    *req,
                const char *action,
                const char *entity,
                const char *patient)
{
  g_autofree char *agent = NULL;

  if (req->session->practitioner_id != NULL)
    agent = g_strconcat ("Practitioner/", req->session->practitioner_id, NULL);
  else
    agent = g_strdup (req->session->username);

  wz_audited_response_send (req->self->audit, req->msg, action, agent, entity, patient);
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

/* The role rule (wz_care_team_check_type); a refusal is answered and audited here. */
static gboolean
check_role (Request    *req,
            Access      access,
            const char *action)
{
  g_autoptr(GError) error = NULL;

  if (wz_care_team_check_type (req->session, req->type, (WzCareTeamAccess) access, &error))
    return TRUE;

  respond_error_audited (req, error, action);
  return FALSE;
}

/* The care-team rule for one stored version. What the user may not see is answered as missing,
 * so another patient's ids cannot be probed; the audit row still names the patient, so the
 * attempt shows in that patient's access log. */
static gboolean
check_visible (Request          *req,
               WzStoredResource *stored,
               const char       *action)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *entity = NULL;

  if (wz_care_team_may_see_stored (req->self->care_team, req->session, stored, &error))
    return TRUE;

  if (error == NULL)
    g_set_error (&error, WZ_ERROR, WZ_ERROR_NOT_FOUND, "%s/%s does not exist", stored->type,
                 stored->id);
  wz_http_respond_error (req->msg, error);
  entity = g_strconcat (stored->type, "/", stored->id, NULL);
  audit_and_send (req, action, entity, stored->patient);
  return FALSE;
}

/* PREVIOUS is the version STORED replaced, NULL for a create. */
static void
resource_written (Request          *req,
                  WzStoredResource *previous,
                  WzStoredResource *stored,
                  JsonObject       *resource)
{
  g_autofree char *encounter = NULL;

  encounter = resource != NULL ? wz_care_team_encounter_of (resource, stored->type, stored->id)
                               : wz_care_team_encounter_of_stored (stored);
  if (previous != NULL)
    g_signal_emit (req->self, signals[RESOURCE_SUPERSEDED], 0, previous, stored, encounter);
  g_signal_emit (req->self, signals[RESOURCE_WRITTEN], 0, stored, encounter);
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

/* Chat messages follow the chat's rules (wz-chat-routes) on top of the care team's. */
static gboolean
check_chat (Request     *req,
            JsonObject  *resource,
            GError     **error)
{
  if (req->self->chat == NULL || strcmp (req->type, "Communication") != 0)
    return TRUE;
  return wz_chat_routes_check_communication (req->self->chat, req->session, resource, error);
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
  if (!check_visible (req, stored, "R"))
    return;

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
  if (!check_visible (req, stored, "R"))
    return;

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
       (condition = wz_search_query_parse (req->type, if_none_exist, &error)) == NULL))
    {
      if (condition == NULL && if_none_exist != NULL && root != NULL)
        g_prefix_error (&error, "If-None-Exist: ");
      respond_error_audited (req, error, "C");
      return;
    }
  if (!wz_care_team_may_write (req->self->care_team, req->session, json_node_get_object (root),
                               NULL, &error) ||
      !check_chat (req, json_node_get_object (root), &error) ||
      (req->self->preconsult != NULL &&
       !wz_preconsult_check (req->self->preconsult, json_node_get_object (root), &error)) ||
      (stored = wz_store_create (req->self->store, json_node_get_object (root), condition,
                                 &created, &error)) == NULL)
    {
      respond_error_audited (req, error, "C");
      return;
    }

  if (created)
    {
      resource_written (req, NULL, stored, json_node_get_object (root));
      if (req->self->preconsult != NULL)
        wz_preconsult_created (req->self->preconsult, stored);
    }
  else if (!wz_care_team_may_see_stored (req->self->care_team, req->session, stored, &error))
    {
      /* The retry of a create finds the first attempt; someone else's match is not shown. */
      if (error == NULL)
        g_set_error_literal (&error, WZ_ERROR, WZ_ERROR_PRECONDITION_FAILED,
                             "If-None-Exist matched a resource you may not see; use another "
                             "identifier");
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
  g_autoptr(WzStoredResource) current = NULL;
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
      (current = wz_store_read (req->self->store, req->type, req->id, &error)) == NULL)
    {
      respond_error_audited (req, error, "U");
      return;
    }
  if (!check_visible (req, current, "U"))
    return;
  if (!wz_care_team_may_write (req->self->care_team, req->session, json_node_get_object (root),
                               req->id, &error) ||
      !check_chat (req, json_node_get_object (root), &error) ||
      (stored = wz_store_update (req->self->store, json_node_get_object (root), req->id, expected,
                                 &error)) == NULL)
    {
      respond_error_audited (req, error, "U");
      return;
    }

  resource_written (req, current, stored, json_node_get_object (root));
  respond_resource (req, SOUP_STATUS_OK, stored, "U");
}

static void
handle_delete (Request *req)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (req->msg);
  const char *if_match = soup_message_headers_get_one (headers, "If-Match");
  g_autoptr(WzStoredResource) current = NULL;
  g_autoptr(WzStoredResource) stored = NULL;
  g_autoptr(GError) error = NULL;
  gint64 expected = 0;

  if (!check_role (req, ACCESS_WRITE, "D"))
    return;

  if (if_match != NULL && !wz_http_parse_etag (if_match, &expected))
    g_set_error (&error, WZ_ERROR, WZ_ERROR_INVALID,
                 "If-Match “%s” is not a version tag like W/\"3\"", if_match);
  else
    current = wz_store_read (req->self->store, req->type, req->id, &error);
  if (current == NULL)
    {
      respond_error_audited (req, error, "D");
      return;
    }
  if (!check_visible (req, current, "D"))
    return;

  stored = wz_store_retire (req->self->store, req->type, req->id, expected, &error);
  if (stored == NULL)
    {
      respond_error_audited (req, error, "D");
      return;
    }

  resource_written (req, current, stored, NULL);
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
               guint                offset,
               gint64               after)
{
  g_autofree char *page = wz_search_query_page_string_after (query, offset, after);
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
      !wz_care_team_restrict_search (req->self->care_team, req->session, query, &error) ||
      (result = wz_store_search (req->self->store, query, &error)) == NULL)
    {
      respond_error_audited (req, error, "E");
      return;
    }

  base = wz_http_base_url (req->msg);
  bundle = wz_bundle_builder_new ("searchset", result->total);
  add_page_link (bundle, "self", base, query, query->offset, query->after);
  if (result->more)
    add_page_link (bundle, "next", base, query, query->offset + query->count,
                   result->next_after);
  if (query->offset > 0)
    add_page_link (bundle, "previous", base, query,
                   query->offset > query->count ? query->offset - query->count : 0, 0);

  for (guint i = 0; i < result->resources->len; i++)
    {
      WzStoredResource *resource = g_ptr_array_index (result->resources, i);
      g_autofree char *full_url = g_strdup_printf ("%s/fhir/%s/%s", base, resource->type,
                                                   resource->id);

      wz_bundle_builder_add_entry (bundle, full_url, resource->json, "match", NULL, NULL);
    }

  /* _include: the store applied the same access filters; checked once more here, since an
   * included resource is a read like any other. */
  for (guint i = 0; result->included != NULL && i < result->included->len; i++)
    {
      WzStoredResource *resource = g_ptr_array_index (result->included, i);
      g_autofree char *full_url = NULL;

      if (!wz_care_team_may_see_stored (req->self->care_team, req->session, resource, NULL))
        continue;
      full_url = g_strdup_printf ("%s/fhir/%s/%s", base, resource->type, resource->id);
      wz_bundle_builder_add_entry (bundle, full_url, resource->json, "include", NULL, NULL);
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
  g_autoptr(WzStoredResource) current = NULL;
  g_autoptr(WzStoreResult) result = NULL;
  g_autoptr(WzBundleBuilder) bundle = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *base = NULL;
  g_autofree char *entity = NULL;
  guint count, offset;

  if (!check_role (req, ACCESS_READ, "R"))
    return;

  if ((current = wz_store_read (req->self->store, req->type, req->id, &error)) == NULL)
    {
      respond_error_audited (req, error, "R");
      return;
    }
  if (!check_visible (req, current, "R"))
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

      /* An older version may have belonged to another patient (a record filed under the wrong
       * name and moved): that version stays theirs. */
      if (!wz_care_team_may_see_stored (req->self->care_team, req->session, resource, NULL))
        continue;

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
add_audit_entry (WzBundleBuilder *bundle,
                 const char      *base,
                 JsonNode        *event)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *full_url = NULL;
  gsize length;
  char *text;

  json_generator_set_root (generator, event);
  text = json_generator_to_data (generator, &length);
  bytes = g_bytes_new_take (text, length);
  full_url = g_strdup_printf ("%s/fhir/AuditEvent/%s", base,
                              json_object_get_string_member (json_node_get_object (event), "id"));
  wz_bundle_builder_add_entry (bundle, full_url, bytes, "match", NULL, NULL);
}

/* The audit log lives in its own hash-chained database, not in the resource store: an admin's
 * search reads it through WzAudit, newest first, paged by sequence number. */
static void
handle_audit_search (Request    *req,
                     GHashTable *query)
{
  g_autoptr(JsonNode) events = NULL;
  g_autoptr(WzBundleBuilder) bundle = NULL;
  g_autoptr(GString) canonical = g_string_new (NULL);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *base = NULL;
  g_autofree char *self_url = NULL;
  const char *patient = NULL;
  const char *agent = NULL;
  guint64 cursor = 0;
  guint count = WZ_SEARCH_DEFAULT_COUNT;
  JsonArray *array;
  GHashTableIter iter;
  const char *name, *value;

  if (!check_role (req, ACCESS_READ, "E"))
    return;

  if (query != NULL)
    {
      g_hash_table_iter_init (&iter, query);
      while (error == NULL && g_hash_table_iter_next (&iter, (gpointer *) &name, (gpointer *) &value))
        {
          if (strcmp (name, "patient") == 0)
            patient = value;
          else if (strcmp (name, "agent") == 0)
            agent = value;
          else if (strcmp (name, "_count") == 0)
            query_uint (query, "_count", WZ_SEARCH_DEFAULT_COUNT, 1000, &count, &error);
          else if (strcmp (name, AUDIT_CURSOR_PARAM) == 0)
            {
              if (!g_ascii_string_to_unsigned (value, 10, 1, G_MAXINT64, &cursor, NULL))
                g_set_error (&error, WZ_ERROR, WZ_ERROR_INVALID,
                             AUDIT_CURSOR_PARAM " must be a sequence number, not “%s”", value);
            }
          else if (strcmp (name, "_format") != 0 && strcmp (name, "_pretty") != 0)
            g_set_error (&error, WZ_ERROR, WZ_ERROR_INVALID,
                         "AuditEvent has no search parameter “%s”; supported: patient, agent, "
                         "_count", name);
        }
    }
  if (error == NULL && count == 0)
    count = 1;
  if (error != NULL ||
      (events = wz_audit_search (req->self->audit, patient, agent, (gint64) cursor, count,
                                 &error)) == NULL)
    {
      respond_error_audited (req, error, "E");
      return;
    }

  if (patient != NULL)
    {
      g_autofree char *escaped = g_uri_escape_string (patient, "/", FALSE);

      g_string_append_printf (canonical, "patient=%s&", escaped);
    }
  if (agent != NULL)
    {
      g_autofree char *escaped = g_uri_escape_string (agent, "/", FALSE);

      g_string_append_printf (canonical, "agent=%s&", escaped);
    }
  g_string_append_printf (canonical, "_count=%u", count);

  base = wz_http_base_url (req->msg);
  array = json_node_get_array (events);
  bundle = wz_bundle_builder_new ("searchset", -1);
  self_url = g_strdup_printf ("%s/fhir/AuditEvent?%s", base, canonical->str);
  wz_bundle_builder_add_link (bundle, "self", self_url);
  if (json_array_get_length (array) == count)
    {
      JsonObject *last = json_array_get_object_element (array, count - 1);
      g_autofree char *next_url = g_strdup_printf ("%s&" AUDIT_CURSOR_PARAM "=%s", self_url,
                                                   json_object_get_string_member (last, "id"));

      wz_bundle_builder_add_link (bundle, "next", next_url);
    }
  for (guint i = 0; i < json_array_get_length (array); i++)
    add_audit_entry (bundle, base, json_array_get_element (array, i));

  body = wz_bundle_builder_end (g_steal_pointer (&bundle));
  wz_http_respond_json (req->msg, SOUP_STATUS_OK, body);
  g_string_prepend (canonical, "AuditEvent?");
  audit_and_send (req, "E", canonical->str, patient);
}

static void
handle_audit_read (Request *req)
{
  g_autoptr(JsonNode) events = NULL;
  g_autoptr(JsonGenerator) generator = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *entity = NULL;
  JsonArray *array;
  guint64 seq;
  gsize length;
  char *text;

  if (!check_role (req, ACCESS_READ, "R"))
    return;

  if (!g_ascii_string_to_unsigned (req->id, 10, 1, G_MAXINT64 - 1, &seq, NULL))
    g_set_error (&error, WZ_ERROR, WZ_ERROR_NOT_FOUND, "AuditEvent/%s does not exist", req->id);
  else
    events = wz_audit_search (req->self->audit, NULL, NULL, (gint64) seq + 1, 1, &error);
  if (events != NULL)
    {
      array = json_node_get_array (events);
      if (json_array_get_length (array) != 1 ||
          g_strcmp0 (json_object_get_string_member (json_array_get_object_element (array, 0), "id"),
                     req->id) != 0)
        g_set_error (&error, WZ_ERROR, WZ_ERROR_NOT_FOUND, "AuditEvent/%s does not exist",
                     req->id);
    }
  if (error != NULL)
    {
      respond_error_audited (req, error, "R");
      return;
    }

  generator = json_generator_new ();
  json_generator_set_root (generator, json_array_get_element (json_node_get_array (events), 0));
  text = json_generator_to_data (generator, &length);
  body = g_bytes_new_take (text, length);
  wz_http_respond_json (req->msg, SOUP_STATUS_OK, body);
  entity = g_strconcat ("AuditEvent/", req->id, NULL);
  audit_and_send (req, "R", entity, NULL);
}

/* POST /fhir/Encounter/{id}/$visit-link → {"url","expires"} */
static void
handle_visit_link (Request *req)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonBuilder) builder = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonGenerator) generator = NULL;
  g_autoptr(GDateTime) expires = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autofree char *token = NULL;
  g_autofree char *patient = NULL;
  g_autofree char *base = NULL;
  g_autofree char *url = NULL;
  g_autofree char *expires_text = NULL;
  g_autofree char *entity = NULL;
  gint64 expires_at = 0;
  gsize length;
  char *text;

  token = wz_visit_link_create (req->self->visit_link, req->session, req->id, &patient,
                                &expires_at, &error);
  if (token == NULL)
    {
      respond_error_audited (req, error, "E");
      return;
    }

  base = wz_http_base_url (req->msg);
  url = wz_visit_link_url (base, token);
  expires = g_date_time_new_from_unix_utc (expires_at / G_USEC_PER_SEC);
  expires_text = g_date_time_format_iso8601 (expires);

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "url");
  json_builder_add_string_value (builder, url);
  json_builder_set_member_name (builder, "expires");
  json_builder_add_string_value (builder, expires_text);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  generator = json_generator_new ();
  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, &length);
  body = g_bytes_new_take (text, length);

  soup_message_headers_replace (soup_server_message_get_response_headers (req->msg),
                                "Cache-Control", "no-store");
  wz_http_respond_json (req->msg, SOUP_STATUS_OK, body);
  entity = g_strconcat ("Encounter/", req->id, NULL);
  audit_and_send (req, "E", entity, patient);
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
  char short_path[128];
  g_autofree char *long_path = NULL;
  char *parts[5];
  guint n_parts = 0;
  char *p;
  Request req = { self, msg, NULL, NULL, NULL };

  /* "/fhir/Patient/1/_history/2" → Patient, 1, _history, 2 */
  if (!g_str_has_prefix (path, "/fhir/") || path[6] == '\0')
    {
      wz_http_respond_problem (msg, WZ_ERROR_NOT_FOUND,
                               "No such endpoint; the FHIR base is /fhir (see /fhir/metadata)");
      return;
    }
  /* Split in a copy on the stack: at most five parts, the last one keeping any further '/',
   * with empty parts where slashes meet. A read is the most common request, and allocating
   * the parts one by one was a visible share of it. */
  if (g_strlcpy (short_path, path + 6, sizeof short_path) < sizeof short_path)
    p = short_path;
  else
    p = long_path = g_strdup (path + 6);
  parts[n_parts++] = p;
  while (n_parts < G_N_ELEMENTS (parts) && (p = strchr (p, '/')) != NULL)
    {
      *p++ = '\0';
      parts[n_parts++] = p;
    }

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

  if (strcmp (req.type, "AuditEvent") == 0 && method == SOUP_METHOD_GET && n_parts <= 2)
    {
      if (n_parts == 1)
        handle_audit_search (&req, query);
      else
        handle_audit_read (&req);
      return;
    }

  if (n_parts == 3 && strcmp (parts[2], "$visit-link") == 0 && strcmp (req.type, "Encounter") == 0)
    {
      if (method != SOUP_METHOD_POST)
        method_not_allowed (msg, "POST", "on $visit-link");
      else
        handle_visit_link (&req);
      return;
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
  g_clear_object (&self->care_team);
  g_clear_object (&self->visit_link);
  g_clear_object (&self->preconsult);
  g_clear_object (&self->chat);
  g_clear_pointer (&self->capability, g_bytes_unref);

  G_OBJECT_CLASS (wz_fhir_routes_parent_class)->dispose (object);
}

static void
wz_fhir_routes_class_init (WzFhirRoutesClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = wz_fhir_routes_dispose;

  /**
   * WzFhirRoutes::resource-written:
   * @stored: (type gpointer): the WzStoredResource just written (created, updated, retired)
   * @encounter: (nullable): "Encounter/ID" it belongs to
   *
   * Emitted once the write is durable, before the response leaves; the websocket hub tells
   * the users who may see it.
   */
  signals[RESOURCE_WRITTEN] = g_signal_new ("resource-written", G_TYPE_FROM_CLASS (klass),
                                            G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                            G_TYPE_NONE, 2, G_TYPE_POINTER, G_TYPE_STRING);

  /**
   * WzFhirRoutes::resource-superseded:
   * @previous: (type gpointer): the WzStoredResource version that was current
   * @stored: (type gpointer): the new version
   * @encounter: (nullable): "Encounter/ID" the new version belongs to
   *
   * Emitted just before "resource-written" for an update or a retirement, so that whoever the
   * old version named (a doctor handing a visit over) hears that it changed, even when the new
   * one is no longer theirs to see.
   */
  signals[RESOURCE_SUPERSEDED] = g_signal_new ("resource-superseded", G_TYPE_FROM_CLASS (klass),
                                               G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                               G_TYPE_NONE, 3, G_TYPE_POINTER, G_TYPE_POINTER,
                                               G_TYPE_STRING);
}

static void
wz_fhir_routes_init (WzFhirRoutes *self)
{
}

WzFhirRoutes *
wz_fhir_routes_new (WzStore     *store,
                    WzAuth      *auth,
                    WzAudit     *audit,
                    WzCareTeam  *care_team,
                    WzVisitLink *visit_link)
{
  WzFhirRoutes *self = g_object_new (WZ_TYPE_FHIR_ROUTES, NULL);

  self->store = g_object_ref (store);
  self->auth = g_object_ref (auth);
  self->audit = g_object_ref (audit);
  self->care_team = g_object_ref (care_team);
  self->visit_link = g_object_ref (visit_link);
  self->capability = wz_capability_statement_new (PACKAGE_VERSION, NULL);

  return self;
}

void
wz_fhir_routes_set_organization_name (WzFhirRoutes *self,
                                      const char   *name)
{
  g_return_if_fail (WZ_IS_FHIR_ROUTES (self));

  g_clear_pointer (&self->capability, g_bytes_unref);
  self->capability = wz_capability_statement_new (PACKAGE_VERSION, name);
}

void
wz_fhir_routes_set_preconsult (WzFhirRoutes *self,
                               WzPreconsult *preconsult)
{
  g_return_if_fail (WZ_IS_FHIR_ROUTES (self));

  g_set_object (&self->preconsult, preconsult);
}

void
wz_fhir_routes_set_chat (WzFhirRoutes *self,
                         WzChatRoutes *chat)
{
  g_return_if_fail (WZ_IS_FHIR_ROUTES (self));

  g_set_object (&self->chat, chat);
}
