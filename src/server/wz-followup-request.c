/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-followup-routes"

#include "config.h"

#include "wz-followup-routes-private.h"

/* The steps every follow-up handler takes: see wz-followup-routes-private.h. */

/* ---- Answers and the audit log ------------------------------------------------------------ */

/* Holds the response already set on the message until its audit row is on disk. */
void
audit_and_send (Request    *req,
                const char *action,
                const char *entity,
                const char *patient)
{
  wz_audited_response_send (req->self->audit, req->msg, action, req->agent, entity, patient);
}

void
fail (Request      *req,
      const GError *error,
      const char   *action,
      const char   *entity,
      const char   *patient)
{
  wz_http_respond_error (req->msg, error);
  audit_and_send (req, action, entity, patient);
}

void
fail_with (Request    *req,
           int         code,
           const char *action,
           const char *entity,
           const char *message)
{
  g_autoptr(GError) error = g_error_new_literal (WZ_ERROR, code, message);

  fail (req, error, action, entity, NULL);
}

void
respond_plain_json (SoupServerMessage *msg,
                    GBytes            *body)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  SoupMessageBody *response = soup_server_message_get_response_body (msg);

  soup_message_body_truncate (response);
  soup_message_headers_replace (headers, "Content-Type", "application/json");
  soup_message_body_append_bytes (response, body);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
}

GBytes *
node_bytes (JsonNode *node)
{
  gsize length;
  char *text = json_to_string (node, FALSE);

  length = strlen (text);
  return g_bytes_new_take (text, length);
}

/* Answers with the object BUILDER holds. */
void
respond_built (SoupServerMessage *msg,
               JsonBuilder       *builder)
{
  g_autoptr(JsonNode) root = json_builder_get_root (builder);
  g_autoptr(GBytes) bytes = node_bytes (root);

  respond_plain_json (msg, bytes);
}

gboolean
authenticate (Request *req)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (req->msg);
  const char *authorization = soup_message_headers_get_one (headers, "Authorization");

  if (authorization != NULL && g_ascii_strncasecmp (authorization, "Bearer ", 7) == 0)
    req->session = wz_auth_lookup (req->self->auth, authorization + 7);
  if (req->session == NULL)
    {
      wz_http_respond_problem (req->msg, WZ_ERROR_UNAUTHORIZED,
                               authorization == NULL
                               ? "Sign in first: send Authorization: Bearer TOKEN from POST /auth/login"
                               : "The access token is unknown, expired or revoked; sign in again");
      return FALSE;
    }
  req->agent = req->session->practitioner_id != NULL
               ? g_strconcat ("Practitioner/", req->session->practitioner_id, NULL)
               : g_strdup (req->session->username);
  return TRUE;
}

gboolean
is_doctor (const WzSession *session)
{
  return g_strcmp0 (session->role, "doctor") == 0 && session->practitioner_id != NULL;
}

const char *
query_param (Request    *req,
             const char *name)
{
  return req->query ? g_hash_table_lookup (req->query, name) : NULL;
}

const char *
request_lang (Request *req)
{
  const char *lang = query_param (req, "lang");
  const char *accept;

  if (lang != NULL)
    return wz_lang_normalize (lang);
  accept = soup_message_headers_get_one (soup_server_message_get_request_headers (req->msg),
                                         "Accept-Language");
  return wz_lang_normalize (accept);
}

const char *
default_zone (WzFollowupRoutes *self)
{
  return self->schedule ? wz_nip_schedule_get_default_time_zone (self->schedule) : "Asia/Shanghai";
}

/* The zone for "today": ?tz=, else the patient's tz-code, else the clinic's default. */
GTimeZone *
request_zone (Request     *req,
              JsonObject  *patient,
              const char **out_name,
              GError     **error)
{
  const char *name = query_param (req, "tz");
  GTimeZone *tz;

  if (name == NULL && patient != NULL && json_object_has_member (patient, "extension") &&
      JSON_NODE_HOLDS_ARRAY (json_object_get_member (patient, "extension")))
    {
      JsonArray *extensions = json_object_get_array_member (patient, "extension");

      for (guint i = 0; i < json_array_get_length (extensions); i++)
        {
          JsonNode *node = json_array_get_element (extensions, i);
          JsonObject *extension = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;

          if (extension != NULL &&
              g_strcmp0 (json_object_get_string_member_with_default (extension, "url", ""),
                         WZ_FOLLOWUP_TZ_EXTENSION) == 0)
            name = json_object_get_string_member_with_default (extension, "valueCode", NULL);
        }
    }
  if (name == NULL)
    name = default_zone (req->self);

  if ((tz = wz_followup_time_zone (name)) == NULL)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "tz “%s” is not a time zone name such as "
                   "Asia/Shanghai", name);
      return NULL;
    }
  *out_name = name;
  return tz;
}

gboolean
request_today (Request    *req,
               GTimeZone  *tz,
               WzDay      *out_today,
               GError    **error)
{
  const char *date = query_param (req, "date");

  if (date == NULL)
    {
      *out_today = wz_day_today (tz, wz_time_now_us ());
      return TRUE;
    }
  if (!wz_day_parse (date, out_today))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "date “%s” is not YYYY-MM-DD", date);
      return FALSE;
    }
  return TRUE;
}

/* Writes MEMBER: VALUE into the object BUILDER is building. */
void
add_string_member (JsonBuilder *builder,
                   const char  *member,
                   const char  *value)
{
  json_builder_set_member_name (builder, member);
  json_builder_add_string_value (builder, value);
}

/* ---- Reading the store --------------------------------------------------------------------- */

/* Stored JSON is not NUL-terminated. */
JsonNode *
parse_stored (WzStoredResource  *stored,
              GError           **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  gsize length;
  const char *data = g_bytes_get_data (stored->json, &length);

  if (!json_parser_load_from_data (parser, data, length, error))
    return NULL;
  return json_node_ref (json_parser_get_root (parser));
}

JsonNode *
read_resource (WzFollowupRoutes  *self,
               const char        *type,
               const char        *id,
               WzStoredResource **out_stored,
               GError           **error)
{
  g_autoptr(WzStoredResource) stored = wz_store_read (self->store, type, id, error);
  JsonNode *node;

  if (stored == NULL)
    return NULL;
  node = parse_stored (stored, error);
  if (node != NULL && out_stored != NULL)
    *out_stored = g_steal_pointer (&stored);
  return node;
}

/* Every match of QUERY_TEXT on TYPE (all pages), parsed. */
JsonNode *
search_all (WzFollowupRoutes  *self,
            const char        *type,
            const char        *query_text,
            GError           **error)
{
  g_autoptr(JsonArray) array = json_array_new ();
  g_autoptr(WzSearchQuery) query = wz_search_query_parse (type, query_text, error);
  JsonNode *node;

  if (query == NULL)
    return NULL;
  query->count = WZ_SEARCH_MAX_COUNT;
  for (query->offset = 0;; query->offset += query->count)
    {
      g_autoptr(WzStoreResult) result = wz_store_search (self->store, query, error);

      if (result == NULL)
        return NULL;
      for (guint i = 0; i < result->resources->len; i++)
        {
          WzStoredResource *stored = g_ptr_array_index (result->resources, i);
          JsonNode *element = parse_stored (stored, NULL);

          if (element != NULL)
            json_array_add_element (array, element);
        }
      if (result->resources->len < query->count)
        break;
    }

  node = json_node_new (JSON_NODE_ARRAY);
  json_node_set_array (node, array);
  return node;
}

/* Reads Patient/ID for REQ's user: 404 when it does not exist or is not theirs to see. */
JsonNode *
read_patient_for (Request     *req,
                  const char  *id,
                  GError     **error)
{
  g_autoptr(WzStoredResource) stored = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *ref = NULL;

  if (id == NULL || !wz_fhir_id_is_valid (id))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "“%s” is not a Patient id", id ? id : "");
      return NULL;
    }
  ref = g_strconcat ("Patient/", id, NULL);
  if ((node = read_resource (req->self, "Patient", id, &stored, error)) == NULL)
    return NULL;
  if (!wz_care_team_may_see_stored (req->self->care_team, req->session, stored, error))
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, WZ_ERROR, WZ_ERROR_NOT_FOUND, "Patient/%s is not known", id);
      return NULL;
    }
  return g_steal_pointer (&node);
}

/* The Patient PATIENT_ID (in *OUT_PATIENT), the time zone of the request for them (returned,
 * its name in *OUT_ZONE) and the day it is there (in *OUT_TODAY). */
GTimeZone *
read_patient_day (Request     *req,
                  const char  *patient_id,
                  JsonNode   **out_patient,
                  const char **out_zone,
                  WzDay       *out_today,
                  GError     **error)
{
  g_autoptr(JsonNode) patient = NULL;
  g_autoptr(GTimeZone) tz = NULL;

  if ((patient = read_patient_for (req, patient_id, error)) == NULL ||
      (tz = request_zone (req, json_node_get_object (patient), out_zone, error)) == NULL ||
      !request_today (req, tz, out_today, error))
    return NULL;
  *out_patient = g_steal_pointer (&patient);
  return g_steal_pointer (&tz);
}

JsonNode *
parse_body (Request  *req,
            GError  **error)
{
  SoupMessageBody *body = soup_server_message_get_request_body (req->msg);
  g_autoptr(GBytes) bytes = soup_message_body_flatten (body);
  gsize length;
  const char *data = g_bytes_get_data (bytes, &length);
  guint depth = 0;
  gboolean in_string = FALSE;
  g_autoptr(JsonNode) root = NULL;

  if (length == 0 || length > MAX_BODY || !g_utf8_validate (data, length, NULL))
    {
      g_set_error (error, WZ_ERROR, length > MAX_BODY ? WZ_ERROR_TOO_LARGE : WZ_ERROR_INVALID,
                   "The body must be a JSON object in UTF-8, at most %d bytes", MAX_BODY);
      return NULL;
    }
  /* json-glib recurses per nesting level; refuse deep bodies before parsing them. */
  for (gsize i = 0; i < length; i++)
    {
      if (in_string)
        {
          if (data[i] == '\\')
            i++;
          else if (data[i] == '"')
            in_string = FALSE;
        }
      else if (data[i] == '"')
        in_string = TRUE;
      else if ((data[i] == '{' || data[i] == '[') && ++depth > WZ_FHIR_MAX_DEPTH)
        {
          g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "JSON is nested more than %d levels deep",
                       WZ_FHIR_MAX_DEPTH);
          return NULL;
        }
      else if ((data[i] == '}' || data[i] == ']') && depth > 0)
        depth--;
    }
  {
    g_autoptr(JsonParser) parser = json_parser_new_immutable ();
    g_autoptr(GError) parse_error = NULL;

    if (!json_parser_load_from_data (parser, data, length, &parse_error))
      {
        g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "Malformed JSON: %s", parse_error->message);
        return NULL;
      }
    root = json_node_ref (json_parser_get_root (parser));
  }
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INVALID, "The body must be a JSON object");
      return NULL;
    }
  return g_steal_pointer (&root);
}

/* ---- Creating resources all or nothing ------------------------------------------------------ */


void
made_clear (Made *made)
{
  g_clear_pointer (&made->stored, g_ptr_array_unref);
  g_clear_pointer (&made->created, g_array_unref);
}

/* Creates RESOURCE unless one with its first identifier exists; validates it as the /fhir API
 * would. */
WzStoredResource *
create_once (WzFollowupRoutes  *self,
             JsonNode          *resource,
             gboolean          *out_created,
             GError           **error)
{
  JsonObject *object = json_node_get_object (resource);
  const char *type = json_object_get_string_member (object, "resourceType");
  JsonObject *identifier = json_array_get_object_element (json_object_get_array_member (object,
                                                                                        "identifier"), 0);
  g_autofree char *system = g_uri_escape_string (json_object_get_string_member (identifier, "system"),
                                                 NULL, FALSE);
  g_autofree char *value = g_uri_escape_string (json_object_get_string_member (identifier, "value"),
                                                NULL, FALSE);
  g_autofree char *condition_text = g_strdup_printf ("identifier=%s%%7C%s", system, value);
  g_autoptr(WzSearchQuery) condition = NULL;
  g_autofree char *text = json_to_string (resource, FALSE);
  g_autoptr(JsonNode) checked = NULL;

  if ((checked = wz_fhir_parse_resource (text, -1, type, NULL, error)) == NULL ||
      (condition = wz_search_query_parse (type, condition_text, error)) == NULL)
    return NULL;
  return wz_store_create (self->store, json_node_get_object (checked), condition, out_created,
                          error);
}

gboolean
create_into (WzFollowupRoutes  *self,
             JsonNode          *resource,
             Made              *made,
             GError           **error)
{
  gboolean created = FALSE;
  WzStoredResource *stored = create_once (self, resource, &created, error);

  if (stored == NULL)
    return FALSE;
  g_ptr_array_add (made->stored, stored);
  g_array_append_val (made->created, created);
  return TRUE;
}

/* Creates RESOURCES (each once) in one store transaction: all of them or none. */
gboolean
create_all (WzFollowupRoutes  *self,
            GPtrArray         *resources,
            Made              *made,
            GError           **error)
{
  if (!wz_store_begin (self->store, error))
    return FALSE;
  for (guint i = 0; i < resources->len; i++)
    if (!create_into (self, g_ptr_array_index (resources, i), made, error))
      {
        wz_store_rollback (self->store);
        return FALSE;
      }
  if (!wz_store_commit (self->store, error))
    {
      wz_store_rollback (self->store);
      return FALSE;
    }
  return TRUE;
}

/* Answers with a Bundle of what was written (ACTION "C": 201 when the first was made, else 200;
 * "U": 200), audits one row per resource and tells the websocket hub about the written ones. */
void
respond_made (Request    *req,
              Made       *made,
              const char *patient,
              const char *action)
{
  g_autoptr(WzBundleBuilder) bundle = wz_bundle_builder_new ("collection", -1);
  g_autofree char *base = wz_http_base_url (req->msg);
  g_autofree char *location = NULL;
  g_autofree char *first_entity = NULL;
  g_autoptr(GBytes) body = NULL;
  gboolean first_written = made->created->len > 0 && g_array_index (made->created, gboolean, 0);
  gboolean is_create = strcmp (action, "C") == 0;
  WzStoredResource *first = g_ptr_array_index (made->stored, 0);

  for (guint i = 0; i < made->stored->len; i++)
    {
      WzStoredResource *stored = g_ptr_array_index (made->stored, i);
      g_autofree char *full_url = g_strdup_printf ("%s/fhir/%s/%s", base, stored->type, stored->id);

      wz_bundle_builder_add_entry (bundle, full_url, stored->json, NULL, NULL, NULL);
      if (i > 0 && g_array_index (made->created, gboolean, i))
        {
          g_autofree char *entity = g_strconcat (stored->type, "/", stored->id, NULL);

          wz_audit_record (req->self->audit, action, "0", req->agent, entity, patient,
                           soup_server_message_get_remote_host (req->msg), NULL, NULL);
        }
      if (g_array_index (made->created, gboolean, i) && req->self->hub != NULL)
        wz_ws_hub_publish (req->self->hub, stored, NULL);
    }

  body = wz_bundle_builder_end (g_steal_pointer (&bundle));
  wz_http_respond_json (req->msg, first_written && is_create ? SOUP_STATUS_CREATED : SOUP_STATUS_OK,
                        body);
  location = g_strdup_printf ("%s/fhir/%s/%s/_history/%" G_GINT64_FORMAT, base, first->type,
                              first->id, first->version_id);
  soup_message_headers_replace (soup_server_message_get_response_headers (req->msg),
                                is_create ? "Location" : "Content-Location", location);
  wz_http_set_version_headers (req->msg, first->version_id, first->last_updated);
  first_entity = g_strconcat (first->type, "/", first->id, NULL);
  audit_and_send (req, first_written ? action : "R", first_entity, patient);
}

/* ---- The patient's own pages: /followup/me/… ------------------------------------------------ */

char *
own_patient (Request *req)
{
  return g_strconcat ("Patient/", req->session->patient_id, NULL);
}

/* Every /followup/me request starts here: the signed-in patient's own reference ("Patient/ID"),
 * or NULL with a 403 answered and audited as ACTION on ENTITY for anyone else. */
char *
own_request (Request    *req,
             const char *action,
             const char *entity)
{
  if (g_strcmp0 (req->session->role, "patient") == 0 && req->session->patient_id != NULL)
    return own_patient (req);
  fail_with (req, WZ_ERROR_FORBIDDEN, action, entity,
             "These are the patient's own pages: open them with the visit link");
  return NULL;
}

/* A patient's read of their own page ENTITY: their reference, record, time zone (returned, its
 * name in *OUT_ZONE) and today. NULL with the problem answered and audited otherwise. */
GTimeZone *
own_read (Request     *req,
          const char  *entity,
          char       **out_patient_ref,
          JsonNode   **out_patient,
          const char **out_zone,
          WzDay       *out_today)
{
  g_autoptr(GError) error = NULL;
  GTimeZone *tz;

  if ((*out_patient_ref = own_request (req, "R", entity)) == NULL)
    return NULL;
  if ((tz = read_patient_day (req, req->session->patient_id, out_patient, out_zone, out_today,
                              &error)) == NULL)
    fail (req, error, "R", entity, *out_patient_ref);
  return tz;
}

/* Answers a patient's read of ENTITY with the object BUILDER holds, audited. */
void
own_read_done (Request     *req,
               JsonBuilder *builder,
               const char  *entity,
               const char  *patient_ref)
{
  respond_built (req->msg, builder);
  audit_and_send (req, "R", entity, patient_ref);
}

const char *
member_string (JsonObject *object,
               const char *member)
{
  return wz_json_get_string (object, member);
}

gboolean
member_number (JsonObject *object,
               const char *member,
               double      min,
               double      max,
               double     *out_value,
               GError    **error)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      (json_node_get_value_type (node) != G_TYPE_INT64 &&
       json_node_get_value_type (node) != G_TYPE_DOUBLE))
    return wz_error_set_invalid (error, "“%s” must be a number", member);
  *out_value = json_node_get_double (node);
  if (*out_value < min || *out_value > max)
    return wz_error_set_invalid (error, "“%s” must be between %g and %g", member, min, max);
  return TRUE;
}

/* A client-made urn:uuid, so a retry finds what the first attempt stored. */
static const char *
body_identifier (JsonObject  *body,
                 GError     **error)
{
  const char *identifier = member_string (body, "identifier");

  if (identifier == NULL || !g_str_has_prefix (identifier, "urn:uuid:") ||
      strlen (identifier) < 20 || strlen (identifier) > 64)
    {
      wz_error_set_invalid (error, "“identifier” must be a urn:uuid: made by the page, so a "
                            "retry is not stored twice");
      return NULL;
    }
  return identifier;
}

/* Only the members in ALLOWED (NULL-terminated). */
gboolean
check_members (JsonObject         *body,
               const char * const *allowed,
               GError            **error)
{
  g_autoptr(GList) members = json_object_get_members (body);

  for (GList *l = members; l != NULL; l = l->next)
    if (!g_strv_contains (allowed, l->data))
      return wz_error_set_invalid (error, "“%s” is not a member this request takes",
                                   (const char *) l->data);
  return TRUE;
}

/* The body of a patient's POST: an object with only ALLOWED members and the client-made
 * "identifier" that lets a retry find what the first attempt wrote. On a problem the error is
 * answered, audited as ACTION on ENTITY, and NULL returned. */
static JsonNode *
read_identified_body (Request             *req,
                      const char * const  *allowed,
                      const char          *action,
                      const char          *entity,
                      const char          *patient,
                      JsonObject         **out_object,
                      const char         **out_identifier)
{
  g_autoptr(JsonNode) body = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *object = NULL;
  const char *identifier = NULL;

  if ((body = parse_body (req, &error)) == NULL ||
      !check_members (object = json_node_get_object (body), allowed, &error) ||
      (identifier = body_identifier (object, &error)) == NULL)
    {
      fail (req, error, action, entity, patient);
      return NULL;
    }
  *out_object = object;
  *out_identifier = identifier;
  return g_steal_pointer (&body);
}

/* A patient's identified POST that creates ENTITY: their reference in *OUT_PATIENT_REF and the
 * body (see read_identified_body()), or NULL with the problem answered. */
JsonNode *
own_post (Request             *req,
          const char * const  *allowed,
          const char          *entity,
          char               **out_patient_ref,
          JsonObject         **out_object,
          const char         **out_identifier)
{
  if ((*out_patient_ref = own_request (req, "C", entity)) == NULL)
    return NULL;
  return read_identified_body (req, allowed, "C", entity, *out_patient_ref, out_object,
                               out_identifier);
}

/* Answers a patient's identified POST: 201 when CREATED, else 200 (the identifier had been used
 * and ENTITY is what the first attempt wrote, so the access is a read). */
void
respond_written (Request     *req,
                 JsonBuilder *answer,
                 gboolean     created,
                 const char  *entity,
                 const char  *patient)
{
  respond_built (req->msg, answer);
  soup_server_message_set_status (req->msg, created ? SOUP_STATUS_CREATED : SOUP_STATUS_OK, NULL);
  audit_and_send (req, created ? "C" : "R", entity, patient);
}

WzStoredResource *
create_with_identifier (WzFollowupRoutes  *self,
                        JsonNode          *resource,
                        gboolean          *out_created,
                        GError           **error)
{
  return create_once (self, resource, out_created, error);
}
