/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-chat-routes"

#include "config.h"

#include "wz-chat-routes.h"

#include <string.h>

#include "wz-audited-response.h"
#include "wz-error.h"
#include "wz-fhir.h"
#include "wz-fhir-index.h"
#include "wz-http.h"
#include "wz-time.h"

struct _WzChatRoutes
{
  GObject      parent_instance;

  WzChatStore *chat;
  WzAuth      *auth;
  WzAudit     *audit;
  WzCareTeam  *care_team;
};

G_DEFINE_FINAL_TYPE (WzChatRoutes, wz_chat_routes, G_TYPE_OBJECT)

char *
wz_chat_own_reference (const WzSession *session)
{
  g_return_val_if_fail (session != NULL, NULL);

  if (g_strcmp0 (session->role, "patient") == 0)
    return session->patient_id ? g_strconcat ("Patient/", session->patient_id, NULL) : NULL;
  return session->practitioner_id ? g_strconcat ("Practitioner/", session->practitioner_id, NULL)
                                  : NULL;
}

gboolean
wz_chat_may_use_encounter (WzCareTeam       *care_team,
                           const WzSession  *session,
                           const char       *encounter,
                           char            **out_patient,
                           GError          **error)
{
  g_autoptr(GPtrArray) practitioners = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *patient = NULL;
  const char *id;

  g_return_val_if_fail (WZ_IS_CARE_TEAM (care_team), FALSE);
  g_return_val_if_fail (session != NULL, FALSE);

  if (out_patient != NULL)
    *out_patient = NULL;
  if (encounter == NULL || !g_str_has_prefix (encounter, "Encounter/"))
    return FALSE;
  id = encounter + strlen ("Encounter/");
  if (!wz_fhir_id_is_valid (id))
    return FALSE;

  if (!wz_care_team_encounter_parties (care_team, id, &patient, &practitioners, &local_error))
    {
      if (g_error_matches (local_error, WZ_ERROR, WZ_ERROR_NOT_FOUND))
        return FALSE;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  if (!wz_care_team_may_see (care_team, session, "Encounter", id, patient, encounter, error))
    return FALSE;

  if (out_patient != NULL)
    *out_patient = g_steal_pointer (&patient);
  return TRUE;
}

/* The string at MEMBER.reference of OBJECT, or NULL; *out_present says whether MEMBER is there. */
static const char *
reference_member (JsonObject *object,
                  const char *member,
                  gboolean   *out_present)
{
  JsonNode *node = json_object_get_member (object, member);
  JsonNode *reference;

  *out_present = node != NULL;
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;
  reference = json_object_get_member (json_node_get_object (node), "reference");
  if (reference == NULL || !JSON_NODE_HOLDS_VALUE (reference) ||
      json_node_get_value_type (reference) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (reference);
}

static void
set_reference (JsonObject *object,
               const char *member,
               const char *value)
{
  JsonObject *reference = json_object_new ();

  json_object_set_string_member (reference, "reference", value);
  json_object_set_object_member (object, member, reference);
}

static gboolean
unprocessable (GError     **error,
               const char  *format,
               ...) G_GNUC_PRINTF (2, 3);

static gboolean
unprocessable (GError     **error,
               const char  *format,
               ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, WZ_ERROR, WZ_ERROR_UNPROCESSABLE, message);
  return FALSE;
}

static gboolean
check_attachment (WzChatRoutes  *self,
                  JsonObject    *attachment,
                  const char    *encounter,
                  guint          index,
                  GError       **error)
{
  g_autoptr(WzChatBinary) binary = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *binary_ref = NULL;
  JsonNode *url = json_object_get_member (attachment, "url");
  JsonNode *content_type = json_object_get_member (attachment, "contentType");
  JsonNode *size = json_object_get_member (attachment, "size");

  if (url == NULL || !JSON_NODE_HOLDS_VALUE (url) ||
      json_node_get_value_type (url) != G_TYPE_STRING ||
      (binary_ref = wz_fhir_index_reference ("Binary", json_node_get_string (url))) == NULL)
    return unprocessable (error, "payload[%u].contentAttachment needs \"url\": \"Binary/ID\" of "
                          "an attachment uploaded with POST /fhir/Binary", index);

  binary = wz_chat_store_get_binary (self->chat, binary_ref + strlen ("Binary/"), FALSE,
                                     &local_error);
  if (binary == NULL && !g_error_matches (local_error, WZ_ERROR, WZ_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  /* Someone else's attachment answers as a missing one: ids are not probed here either. */
  if (binary == NULL || strcmp (binary->encounter, encounter) != 0)
    return unprocessable (error, "payload[%u]: %s is not an attachment of %s; upload it with "
                          "X-Security-Context: %s first", index, binary_ref, encounter, encounter);

  if (content_type != NULL &&
      (!JSON_NODE_HOLDS_VALUE (content_type) ||
       json_node_get_value_type (content_type) != G_TYPE_STRING ||
       g_ascii_strcasecmp (json_node_get_string (content_type), binary->content_type) != 0))
    return unprocessable (error, "payload[%u].contentAttachment.contentType must be %s, the type "
                          "of %s", index, binary->content_type, binary_ref);
  if (size != NULL &&
      (!JSON_NODE_HOLDS_VALUE (size) || json_node_get_value_type (size) != G_TYPE_INT64 ||
       json_node_get_int (size) != binary->size))
    return unprocessable (error, "payload[%u].contentAttachment.size must be %" G_GINT64_FORMAT
                          ", the size of %s", index, binary->size, binary_ref);

  return TRUE;
}

static gboolean
check_payload (WzChatRoutes  *self,
               JsonObject    *resource,
               const char    *encounter,
               GError       **error)
{
  JsonNode *node = json_object_get_member (resource, "payload");
  JsonArray *payload;
  guint n;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node) ||
      (n = json_array_get_length (payload = json_node_get_array (node))) == 0)
    return unprocessable (error, "A message needs \"payload\": one or more of "
                          "{\"contentString\": …} and {\"contentAttachment\": …}");

  for (guint i = 0; i < n; i++)
    {
      JsonNode *element = json_array_get_element (payload, i);
      JsonObject *part;
      JsonNode *text;
      JsonNode *attachment;

      if (!JSON_NODE_HOLDS_OBJECT (element))
        return unprocessable (error, "payload[%u] must be an object", i);
      part = json_node_get_object (element);
      text = json_object_get_member (part, "contentString");
      attachment = json_object_get_member (part, "contentAttachment");

      if ((text != NULL) == (attachment != NULL) || json_object_get_size (part) != 1)
        return unprocessable (error, "payload[%u] holds exactly one of contentString and "
                              "contentAttachment", i);
      if (text != NULL)
        {
          if (!JSON_NODE_HOLDS_VALUE (text) || json_node_get_value_type (text) != G_TYPE_STRING)
            return unprocessable (error, "payload[%u].contentString must be text", i);
          if (g_utf8_strlen (json_node_get_string (text), -1) > WZ_CHAT_MAX_TEXT)
            return unprocessable (error, "payload[%u].contentString is longer than %d "
                                  "characters; send it as several messages", i,
                                  WZ_CHAT_MAX_TEXT);
          if (*json_node_get_string (text) == '\0')
            return unprocessable (error, "payload[%u].contentString is empty", i);
        }
      else
        {
          if (!JSON_NODE_HOLDS_OBJECT (attachment))
            return unprocessable (error, "payload[%u].contentAttachment must be an object", i);
          if (!check_attachment (self, json_node_get_object (attachment), encounter, i, error))
            return FALSE;
        }
    }

  return TRUE;
}

gboolean
wz_chat_routes_check_communication (WzChatRoutes     *self,
                                    const WzSession  *session,
                                    JsonObject       *resource,
                                    GError          **error)
{
  g_autofree char *own = NULL;
  g_autofree char *encounter = NULL;
  g_autofree char *patient = NULL;
  g_autofree char *subject = NULL;
  g_autoptr(GError) local_error = NULL;
  const char *encounter_text;
  const char *sender_text;
  const char *subject_text;
  const char *status;
  gboolean present;
  JsonNode *sent;

  g_return_val_if_fail (WZ_IS_CHAT_ROUTES (self), FALSE);
  g_return_val_if_fail (session != NULL && resource != NULL, FALSE);

  encounter_text = reference_member (resource, "encounter", &present);
  encounter = wz_fhir_index_reference ("Encounter", encounter_text);
  if (encounter == NULL)
    return unprocessable (error, "A message belongs to a visit: give \"encounter\": "
                          "{\"reference\": \"Encounter/ID\"}");

  if (!wz_chat_may_use_encounter (self->care_team, session, encounter, &patient, &local_error))
    {
      if (local_error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      g_set_error (error, WZ_ERROR, WZ_ERROR_FORBIDDEN,
                   "%s is not a visit you take part in, so you cannot send messages in it",
                   encounter);
      return FALSE;
    }

  own = wz_chat_own_reference (session);
  if (own == NULL)
    {
      g_set_error_literal (error, WZ_ERROR, WZ_ERROR_FORBIDDEN,
                           "Your account has no Practitioner record, so it cannot send messages");
      return FALSE;
    }
  /* The receiver learns who wrote from the server's rule, never from the sender's word. */
  sender_text = reference_member (resource, "sender", &present);
  if (!present)
    set_reference (resource, "sender", own);
  else if (sender_text == NULL || g_strcmp0 (sender_text, own) != 0)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_FORBIDDEN,
                   "The sender of a message is the one signed in: \"sender\": {\"reference\": "
                   "\"%s\"}", own);
      return FALSE;
    }

  if (patient == NULL)
    return unprocessable (error, "%s names no patient, so it has no one to chat with", encounter);
  subject_text = reference_member (resource, "subject", &present);
  subject = wz_fhir_index_reference ("Patient", subject_text);
  if (!present)
    set_reference (resource, "subject", patient);
  else if (subject == NULL || strcmp (subject, patient) != 0)
    return unprocessable (error, "The subject of a message in %s is its patient, %s", encounter,
                          patient);

  status = json_object_get_string_member_with_default (resource, "status", NULL);
  if (g_strcmp0 (status, "completed") != 0 && g_strcmp0 (status, "entered-in-error") != 0)
    return unprocessable (error, "A message's status is \"completed\" (or \"entered-in-error\" "
                          "to withdraw it)");

  sent = json_object_get_member (resource, "sent");
  if (sent != NULL)
    {
      gint64 unused;

      if (!JSON_NODE_HOLDS_VALUE (sent) || json_node_get_value_type (sent) != G_TYPE_STRING ||
          !wz_time_parse_instant (json_node_get_string (sent), &unused, NULL))
        return unprocessable (error, "\"sent\" must be a date-time with a time zone, e.g. "
                              "2024-05-01T08:30:00+08:00");
    }

  return check_payload (self, resource, encounter, error);
}

static char *
format_instant_or_null (gint64 us)
{
  return us > 0 ? wz_time_format_instant (us) : NULL;
}

/* GET /chat/receipts?encounter=Encounter/E */
static void
receipts_handler (SoupServer        *server,
                  SoupServerMessage *msg,
                  const char        *path,
                  GHashTable        *query,
                  gpointer           user_data)
{
  WzChatRoutes *self = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *authorization = soup_message_headers_get_one (headers, "Authorization");
  const WzSession *session = NULL;
  const char *encounter_text;
  g_autofree char *encounter = NULL;
  g_autofree char *patient = NULL;
  g_autofree char *agent = NULL;
  g_autoptr(GPtrArray) receipts = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonBuilder) builder = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GBytes) body = NULL;
  char *text;
  gsize length;

  if (strcmp (path, "/chat/receipts") != 0)
    {
      wz_http_respond_problem (msg, WZ_ERROR_NOT_FOUND, "No such endpoint: %s", path);
      return;
    }
  if (soup_server_message_get_method (msg) != SOUP_METHOD_GET)
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", "GET");
      wz_http_respond_problem (msg, WZ_ERROR_METHOD_NOT_ALLOWED, "/chat/receipts is read with GET");
      return;
    }
  if (authorization != NULL && g_ascii_strncasecmp (authorization, "Bearer ", 7) == 0)
    session = wz_auth_lookup (self->auth, authorization + 7);
  if (session == NULL)
    {
      wz_http_respond_problem (msg, WZ_ERROR_UNAUTHORIZED,
                               "Sign in first: send Authorization: Bearer TOKEN");
      return;
    }

  agent = session->practitioner_id != NULL
          ? g_strconcat ("Practitioner/", session->practitioner_id, NULL)
          : g_strdup (session->username);
  encounter_text = query != NULL ? g_hash_table_lookup (query, "encounter") : NULL;
  encounter = wz_fhir_index_reference ("Encounter", encounter_text);
  if (encounter == NULL)
    {
      wz_http_respond_problem (msg, WZ_ERROR_INVALID,
                               "Give the visit: /chat/receipts?encounter=Encounter/ID");
      wz_audited_response_send (self->audit, msg, "E", agent, "Encounter", NULL);
      return;
    }

  if (!wz_chat_may_use_encounter (self->care_team, session, encounter, &patient, &error) ||
      (receipts = wz_chat_store_receipts (self->chat, encounter, &error)) == NULL)
    {
      if (error == NULL)
        g_set_error (&error, WZ_ERROR, WZ_ERROR_NOT_FOUND, "%s does not exist", encounter);
      wz_http_respond_error (msg, error);
      wz_audited_response_send (self->audit, msg, "E", agent, encounter, patient);
      return;
    }

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "encounter");
  json_builder_add_string_value (builder, encounter);
  json_builder_set_member_name (builder, "receipts");
  json_builder_begin_array (builder);
  for (guint i = 0; i < receipts->len; i++)
    {
      WzChatReceipt *receipt = g_ptr_array_index (receipts, i);
      g_autofree char *delivered = format_instant_or_null (receipt->delivered);
      g_autofree char *read = format_instant_or_null (receipt->read);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "reader");
      json_builder_add_string_value (builder, receipt->reader);
      if (delivered != NULL)
        {
          json_builder_set_member_name (builder, "delivered");
          json_builder_add_string_value (builder, delivered);
        }
      if (read != NULL)
        {
          json_builder_set_member_name (builder, "read");
          json_builder_add_string_value (builder, read);
        }
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  text = json_to_string (root, FALSE);
  length = strlen (text);
  body = g_bytes_new_take (text, length);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Cache-Control", "no-store");
  wz_http_respond_json (msg, SOUP_STATUS_OK, body);
  soup_message_headers_set_content_type (soup_server_message_get_response_headers (msg),
                                         "application/json", NULL);
  wz_audited_response_send (self->audit, msg, "E", agent, encounter, patient);
}

void
wz_chat_routes_register (WzChatRoutes *self,
                         SoupServer   *server)
{
  g_return_if_fail (WZ_IS_CHAT_ROUTES (self));

  soup_server_add_handler (server, "/chat", receipts_handler, g_object_ref (self),
                           g_object_unref);
}

static void
wz_chat_routes_dispose (GObject *object)
{
  WzChatRoutes *self = WZ_CHAT_ROUTES (object);

  g_clear_object (&self->chat);
  g_clear_object (&self->auth);
  g_clear_object (&self->audit);
  g_clear_object (&self->care_team);

  G_OBJECT_CLASS (wz_chat_routes_parent_class)->dispose (object);
}

static void
wz_chat_routes_class_init (WzChatRoutesClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = wz_chat_routes_dispose;
}

static void
wz_chat_routes_init (WzChatRoutes *self)
{
}

WzChatRoutes *
wz_chat_routes_new (WzChatStore *chat,
                    WzAuth      *auth,
                    WzAudit     *audit,
                    WzCareTeam  *care_team)
{
  WzChatRoutes *self = g_object_new (WZ_TYPE_CHAT_ROUTES, NULL);

  self->chat = g_object_ref (chat);
  self->auth = g_object_ref (auth);
  self->audit = g_object_ref (audit);
  self->care_team = g_object_ref (care_team);

  return self;
}
