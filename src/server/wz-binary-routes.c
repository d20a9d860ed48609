/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-binary-routes"

#include "config.h"

#include "wz-binary-routes.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "wz-audited-response.h"
#include "wz-chat-routes.h"
#include "wz-error.h"
#include "wz-fhir.h"
#include "wz-fhir-index.h"
#include "wz-http.h"
#include "wz-time.h"

struct _WzBinaryRoutes
{
  GObject      parent_instance;

  WzChatStore *chat;
  WzAuth      *auth;
  WzAudit     *audit;
  WzCareTeam  *care_team;
};

G_DEFINE_FINAL_TYPE (WzBinaryRoutes, wz_binary_routes, G_TYPE_OBJECT)

static gboolean
starts_with (const guint8 *data,
             gsize         length,
             const char   *magic,
             gsize         magic_length)
{
  return length >= magic_length && memcmp (data, magic, magic_length) == 0;
}

const char *
wz_binary_sniff (const guint8 *data,
                 gsize         length)
{
  if (data == NULL)
    return NULL;

  if (starts_with (data, length, "\xff\xd8\xff", 3))
    return "image/jpeg";
  if (starts_with (data, length, "\x89PNG\r\n\x1a\n", 8))
    return "image/png";
  if (starts_with (data, length, "%PDF-", 5))
    return "application/pdf";
  if (starts_with (data, length, "OggS", 4))
    return "audio/ogg";
  if (starts_with (data, length, "\x1a\x45\xdf\xa3", 4))
    {
      /* EBML: the DocType element (0x42 0x82, a size, the name) sits in the header, a few
       * dozen bytes in. Matroska video is not a voice note. */
      gsize window = MIN (length, 64);

      for (gsize i = 4; i + 6 <= window; i++)
        if (data[i] == 0x42 && data[i + 1] == 0x82 && data[i + 2] == 0x84 &&
            memcmp (data + i + 3, "webm", 4) == 0)
          return "audio/webm";
      return NULL;
    }

  return NULL;
}

static char *
agent_of (const WzSession *session)
{
  if (session->practitioner_id != NULL)
    return g_strconcat ("Practitioner/", session->practitioner_id, NULL);
  if (session->patient_id != NULL)
    return g_strconcat ("Patient/", session->patient_id, NULL);
  return g_strdup (session->username);
}

static GBytes *
binary_json (const WzChatBinary *binary,
             gboolean            with_data)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autofree char *last_updated = wz_time_format_instant (binary->created);
  gsize length;
  char *text;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "resourceType");
  json_builder_add_string_value (builder, "Binary");
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, binary->id);
  json_builder_set_member_name (builder, "meta");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "versionId");
  json_builder_add_string_value (builder, "1");
  json_builder_set_member_name (builder, "lastUpdated");
  json_builder_add_string_value (builder, last_updated);
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "contentType");
  json_builder_add_string_value (builder, binary->content_type);
  json_builder_set_member_name (builder, "securityContext");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "reference");
  json_builder_add_string_value (builder, binary->encounter);
  json_builder_end_object (builder);
  if (with_data && binary->data != NULL)
    {
      g_autofree char *base64 = g_base64_encode (g_bytes_get_data (binary->data, NULL),
                                                 g_bytes_get_size (binary->data));

      json_builder_set_member_name (builder, "data");
      json_builder_add_string_value (builder, base64);
    }
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, &length);
  return g_bytes_new_take (text, length);
}

static void
handle_create (WzBinaryRoutes    *self,
               SoupServerMessage *msg,
               const WzSession   *session,
               const char        *agent)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *context = soup_message_headers_get_one (headers, "X-Security-Context");
  const char *declared = soup_message_headers_get_content_type (headers, NULL);
  g_autofree char *encounter = NULL;
  g_autofree char *patient = NULL;
  g_autofree char *base = NULL;
  g_autofree char *location = NULL;
  g_autofree char *entity = NULL;
  g_autoptr(WzChatBinary) binary = NULL;
  g_autoptr(GBytes) data = NULL;
  g_autoptr(GBytes) json = NULL;
  g_autoptr(GError) error = NULL;
  const char *sniffed;
  gboolean created = FALSE;
  gsize length;

  if (g_strcmp0 (session->role, "doctor") != 0 && g_strcmp0 (session->role, "patient") != 0)
    {
      wz_http_respond_problem (msg, WZ_ERROR_FORBIDDEN,
                               "Only the doctor and the patient of a visit send attachments");
      wz_audited_response_send (self->audit, msg, "C", agent, "Binary", NULL);
      return;
    }

  encounter = context != NULL ? wz_fhir_index_reference ("Encounter", context) : NULL;
  if (encounter == NULL)
    {
      wz_http_respond_problem (msg, WZ_ERROR_INVALID,
                               "Say which visit the file belongs to: X-Security-Context: "
                               "Encounter/ID");
      wz_audited_response_send (self->audit, msg, "C", agent, "Binary", NULL);
      return;
    }
  if (!wz_chat_may_use_encounter (self->care_team, session, encounter, &patient, &error))
    {
      if (error == NULL)
        g_set_error (&error, WZ_ERROR, WZ_ERROR_FORBIDDEN,
                     "%s is not a visit you take part in, so you cannot send files in it",
                     encounter);
      wz_http_respond_error (msg, error);
      wz_audited_response_send (self->audit, msg, "C", agent, encounter, patient);
      return;
    }

  data = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  length = g_bytes_get_size (data);
  if (length > WZ_CHAT_MAX_BINARY)
    {
      wz_http_respond_problem (msg, WZ_ERROR_TOO_LARGE,
                               "The file is larger than the limit of %d MiB",
                               WZ_CHAT_MAX_BINARY / (1024 * 1024));
      wz_audited_response_send (self->audit, msg, "C", agent, encounter, patient);
      return;
    }

  /* The type is taken from the bytes, and the sender's word must agree with it: a program
   * renamed photo.jpg is neither stored nor ever served. */
  sniffed = wz_binary_sniff (g_bytes_get_data (data, NULL), length);
  if (sniffed == NULL || declared == NULL || g_ascii_strcasecmp (sniffed, declared) != 0)
    {
      wz_http_respond_problem (msg, WZ_ERROR_UNSUPPORTED_MEDIA, WZ_BINARY_REFUSED_TEXT);
      wz_audited_response_send (self->audit, msg, "C", agent, encounter, patient);
      return;
    }

  binary = wz_chat_store_add_binary (self->chat, encounter, sniffed, data, &created, &error);
  if (binary == NULL)
    {
      wz_http_respond_error (msg, error);
      wz_audited_response_send (self->audit, msg, "C", agent, encounter, patient);
      return;
    }

  base = wz_http_base_url (msg);
  location = g_strdup_printf ("%s/fhir/Binary/%s/_history/1", base, binary->id);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Location",
                                location);
  json = binary_json (binary, FALSE);
  wz_http_respond_json (msg, created ? SOUP_STATUS_CREATED : SOUP_STATUS_OK, json);
  wz_http_set_version_headers (msg, 1, binary->created);
  entity = g_strconcat ("Binary/", binary->id, NULL);
  wz_audited_response_send (self->audit, msg, "C", agent, entity, patient);
}

static gboolean
wants_json (SoupMessageHeaders *headers)
{
  const char *accept = soup_message_headers_get_list (headers, "Accept");

  return accept != NULL &&
         (strstr (accept, WZ_FHIR_CONTENT_TYPE) != NULL ||
          strstr (accept, "application/json") != NULL);
}

static void
handle_read (WzBinaryRoutes    *self,
             SoupServerMessage *msg,
             const WzSession   *session,
             const char        *agent,
             const char        *id)
{
  SoupMessageHeaders *response_headers = soup_server_message_get_response_headers (msg);
  g_autoptr(WzChatBinary) binary = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *entity = g_strconcat ("Binary/", id, NULL);
  g_autofree char *patient = NULL;

  if (g_strcmp0 (session->role, "admin") == 0)
    {
      wz_http_respond_problem (msg, WZ_ERROR_FORBIDDEN,
                               "An admin reads no clinical data; attachments are for the care "
                               "team and the patient");
      wz_audited_response_send (self->audit, msg, "R", agent, entity, NULL);
      return;
    }

  binary = wz_chat_store_get_binary (self->chat, id, TRUE, &error);
  if (binary != NULL &&
      !wz_chat_may_use_encounter (self->care_team, session, binary->encounter, &patient, &error))
    {
      /* What one may not see answers as missing; the audit row still names whose it is. */
      if (error == NULL)
        {
          g_autofree char *owner = NULL;
          g_autoptr(GPtrArray) practitioners = NULL;

          g_set_error (&error, WZ_ERROR, WZ_ERROR_NOT_FOUND, "Binary/%s does not exist", id);
          if (wz_care_team_encounter_parties (self->care_team,
                                              binary->encounter + strlen ("Encounter/"),
                                              &owner, &practitioners, NULL))
            patient = g_steal_pointer (&owner);
        }
      g_clear_pointer (&binary, wz_chat_binary_free);
    }
  if (binary == NULL)
    {
      wz_http_respond_error (msg, error);
      wz_audited_response_send (self->audit, msg, "R", agent, entity, patient);
      return;
    }

  wz_http_set_version_headers (msg, 1, binary->created);
  soup_message_headers_replace (response_headers, "Cache-Control", "private, no-cache");
  if (wants_json (soup_server_message_get_request_headers (msg)))
    {
      g_autoptr(GBytes) json = binary_json (binary, TRUE);

      wz_http_respond_json (msg, SOUP_STATUS_OK, json);
    }
  else
    {
      gboolean shown = g_str_has_prefix (binary->content_type, "image/") ||
                       g_str_has_prefix (binary->content_type, "audio/");
      const char *extension = strchr (binary->content_type, '/') + 1;
      g_autofree char *disposition = NULL;

      if (strcmp (extension, "jpeg") == 0)
        extension = "jpg";
      disposition = g_strdup_printf ("%s; filename=\"%s.%s\"", shown ? "inline" : "attachment",
                                     binary->id, extension);
      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
      soup_message_headers_set_content_type (response_headers, binary->content_type, NULL);
      /* Served as exactly what it was checked to be, never as a page of this origin. */
      soup_message_headers_replace (response_headers, "X-Content-Type-Options", "nosniff");
      soup_message_headers_replace (response_headers, "Content-Disposition", disposition);
      soup_message_headers_replace (response_headers, "Content-Security-Policy",
                                    "sandbox; default-src 'none'");
      soup_message_body_append_bytes (soup_server_message_get_response_body (msg), binary->data);
    }
  wz_audited_response_send (self->audit, msg, "R", agent, entity, patient);
}

static void
method_not_allowed (SoupServerMessage *msg,
                    const char        *allow,
                    const char        *what)
{
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", allow);
  wz_http_respond_problem (msg, WZ_ERROR_METHOD_NOT_ALLOWED, "%s %s is not supported; use %s",
                           soup_server_message_get_method (msg), what, allow);
}

static void
binary_handler (SoupServer        *server,
                SoupServerMessage *msg,
                const char        *path,
                GHashTable        *query,
                gpointer           user_data)
{
  WzBinaryRoutes *self = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *authorization = soup_message_headers_get_one (headers, "Authorization");
  const char *method = soup_server_message_get_method (msg);
  const WzSession *session = NULL;
  g_autofree char *agent = NULL;
  g_autofree char *id = NULL;
  const char *version;
  const char *rest;

  /* The early body limit may have answered already. */
  if (soup_server_message_get_status (msg) != 0)
    return;

  if (authorization != NULL && g_ascii_strncasecmp (authorization, "Bearer ", 7) == 0)
    session = wz_auth_lookup (self->auth, authorization + 7);
  if (session == NULL)
    {
      wz_http_respond_problem (msg, WZ_ERROR_UNAUTHORIZED,
                               authorization == NULL
                               ? "Sign in first: send Authorization: Bearer TOKEN"
                               : "The access token is unknown, expired or revoked; sign in again");
      return;
    }
  agent = agent_of (session);

  rest = path + strlen ("/fhir/Binary");
  if (*rest == '\0' || strcmp (rest, "/") == 0)
    {
      if (method == SOUP_METHOD_POST)
        handle_create (self, msg, session, agent);
      else
        method_not_allowed (msg, "POST", "on Binary (attachments are read by id)");
      return;
    }

  rest++;
  /* An attachment has one version, which is what its Location names: ID/_history/1. */
  id = g_strndup (rest, strcspn (rest, "/"));
  version = rest + strlen (id);
  if (!wz_fhir_id_is_valid (id) || (*version != '\0' && strcmp (version, "/_history/1") != 0))
    {
      wz_http_respond_problem (msg, WZ_ERROR_NOT_FOUND,
                               "No such endpoint: %s (Binary is read as /fhir/Binary/ID)", path);
      return;
    }
  if (method == SOUP_METHOD_GET)
    handle_read (self, msg, session, agent, id);
  else
    {
      g_autoptr(WzChatBinary) binary = wz_chat_store_get_binary (self->chat, id, FALSE, NULL);

      /* One that does not exist, or is not the caller's to see, is missing whatever the method. */
      if (binary == NULL ||
          !wz_chat_may_use_encounter (self->care_team, session, binary->encounter, NULL, NULL))
        wz_http_respond_problem (msg, WZ_ERROR_NOT_FOUND, "Binary/%s does not exist", id);
      else
        method_not_allowed (msg, "GET", "on a Binary (attachments are never changed)");
    }
}

void
wz_binary_routes_register (WzBinaryRoutes *self,
                           SoupServer     *server)
{
  g_return_if_fail (WZ_IS_BINARY_ROUTES (self));

  /* A longer path than /fhir: this limit and handler take precedence over the FHIR ones. */
  wz_http_limit_body (server, "/fhir/Binary", WZ_CHAT_MAX_BINARY);
  soup_server_add_handler (server, "/fhir/Binary", binary_handler, g_object_ref (self),
                           g_object_unref);
}

static void
wz_binary_routes_dispose (GObject *object)
{
  WzBinaryRoutes *self = WZ_BINARY_ROUTES (object);

  g_clear_object (&self->chat);
  g_clear_object (&self->auth);
  g_clear_object (&self->audit);
  g_clear_object (&self->care_team);

  G_OBJECT_CLASS (wz_binary_routes_parent_class)->dispose (object);
}

static void
wz_binary_routes_class_init (WzBinaryRoutesClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = wz_binary_routes_dispose;
}

static void
wz_binary_routes_init (WzBinaryRoutes *self)
{
}

WzBinaryRoutes *
wz_binary_routes_new (WzChatStore *chat,
                      WzAuth      *auth,
                      WzAudit     *audit,
                      WzCareTeam  *care_team)
{
  WzBinaryRoutes *self = g_object_new (WZ_TYPE_BINARY_ROUTES, NULL);

  self->chat = g_object_ref (chat);
  self->auth = g_object_ref (auth);
  self->audit = g_object_ref (audit);
  self->care_team = g_object_ref (care_team);

  return self;
}
