/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-ws-hub"

#include "config.h"

#include "wz-ws-hub.h"

#include <json-glib/json-glib.h>
#include <sodium.h>
#include <string.h>

#include "wz-error.h"
#include "wz-fhir.h"
#include "wz-time.h"
#include "wz-fhir-index.h"
#include "wz-http.h"

/* Frames that carry call signaling or presence between the two ends of an encounter. */
static const char *const relayed_types[] = {
  "typing", "offer", "answer", "ice", "hangup", "receipt", NULL,
};

typedef struct _Principal Principal;

/* One open socket. Kept small on purpose: thousands of them are open at once. */
typedef struct
{
  WzWsHub                 *hub;
  SoupWebsocketConnection *conn;
  Principal               *principal;
  /* Kept so the socket can be closed once its session ends (logout, expiry, idle). */
  char                    *token;
  GList                    link;      /* in principal->clients; data is this Client */
} Client;

/* A user (or a patient's visit), shared by all of their sockets, so a fan-out decides once per
 * user and not once per socket. */
struct _Principal
{
  char      *key;
  char      *reference;   /* "Practitioner/ID" or "Patient/ID": "from" of what they relay */
  WzSession *session;
  GQueue     clients;
};

struct _WzWsHub
{
  GObject     parent_instance;

  WzAuth     *auth;
  WzCareTeam *care_team;
  WzChatStore *chat;        /* receipts are kept here; NULL: they are refused */
  GHashTable *principals;   /* key → Principal */
  guint       n_clients;
  guint       check_source;
  gboolean    closing;
};

G_DEFINE_FINAL_TYPE (WzWsHub, wz_ws_hub, G_TYPE_OBJECT)

static void
principal_free (gpointer data)
{
  Principal *principal = data;

  g_free (principal->key);
  g_free (principal->reference);
  wz_session_free (principal->session);
  g_free (principal);
}

static char *
principal_key (const WzSession *session)
{
  /* Every session of one visit link is the same patient at the same visit. */
  if (g_strcmp0 (session->role, "patient") == 0)
    return g_strconcat ("patient:", session->encounter_id, NULL);
  return g_strconcat ("user:", session->username, NULL);
}

static char *
principal_reference (const WzSession *session)
{
  if (session->patient_id != NULL)
    return g_strconcat ("Patient/", session->patient_id, NULL);
  if (session->practitioner_id != NULL)
    return g_strconcat ("Practitioner/", session->practitioner_id, NULL);
  return g_strdup (session->username);
}

static GBytes *
node_to_bytes (JsonNode *root)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  gsize length;
  char *text;

  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, &length);
  return g_bytes_new_take (text, length);
}

static void
send_bytes (Client *client,
            GBytes *bytes)
{
  if (soup_websocket_connection_get_state (client->conn) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_message (client->conn, SOUP_WEBSOCKET_DATA_TEXT, bytes);
}

static void
send_error (Client     *client,
            const char *message)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GBytes) bytes = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "error");
  json_builder_set_member_name (builder, "message");
  json_builder_add_string_value (builder, message);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  bytes = node_to_bytes (root);
  send_bytes (client, bytes);
}

static void
send_hello (Client *client)
{
  const WzSession *session = client->principal->session;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GBytes) bytes = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "hello");
  json_builder_set_member_name (builder, "role");
  json_builder_add_string_value (builder, session->role);
  if (session->practitioner_id != NULL)
    {
      json_builder_set_member_name (builder, "practitioner");
      json_builder_add_string_value (builder, client->principal->reference);
    }
  if (session->patient_id != NULL)
    {
      g_autofree char *encounter = g_strconcat ("Encounter/", session->encounter_id, NULL);

      json_builder_set_member_name (builder, "patient");
      json_builder_add_string_value (builder, client->principal->reference);
      json_builder_set_member_name (builder, "encounter");
      json_builder_add_string_value (builder, encounter);
    }
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  bytes = node_to_bytes (root);
  send_bytes (client, bytes);
}

/* Sockets of every principal in PRINCIPALS, referenced, so sending cannot pull one from under
 * the loop. */
static GPtrArray *
sockets_of (GPtrArray *principals)
{
  GPtrArray *sockets = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < principals->len; i++)
    {
      Principal *principal = g_ptr_array_index (principals, i);

      for (GList *l = principal->clients.head; l != NULL; l = l->next)
        g_ptr_array_add (sockets, g_object_ref (((Client *) l->data)->conn));
    }

  return sockets;
}

static void
send_to_all (GPtrArray *sockets,
             GBytes    *bytes)
{
  for (guint i = 0; i < sockets->len; i++)
    {
      SoupWebsocketConnection *conn = g_ptr_array_index (sockets, i);

      if (soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_send_message (conn, SOUP_WEBSOCKET_DATA_TEXT, bytes);
    }
}

static GBytes *
event_bytes (const WzStoredResource *resource,
             const char             *encounter)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *version = g_strdup_printf ("%" G_GINT64_FORMAT, resource->version_id);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "resource");
  json_builder_set_member_name (builder, "resourceType");
  json_builder_add_string_value (builder, resource->type);
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, resource->id);
  json_builder_set_member_name (builder, "versionId");
  json_builder_add_string_value (builder, version);
  if (resource->patient != NULL)
    {
      json_builder_set_member_name (builder, "patient");
      json_builder_add_string_value (builder, resource->patient);
    }
  if (encounter != NULL)
    {
      json_builder_set_member_name (builder, "encounter");
      json_builder_add_string_value (builder, encounter);
    }
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  return node_to_bytes (root);
}

static gboolean
principal_may_see (WzWsHub                *self,
                   Principal              *principal,
                   const WzStoredResource *resource,
                   const char             *encounter)
{
  g_autoptr(GError) error = NULL;

  if (wz_care_team_may_see (self->care_team, principal->session, resource->type, resource->id,
                            resource->patient, encounter, &error))
    return TRUE;
  if (error != NULL)
    g_warning ("Could not decide who sees %s/%s: %s", resource->type, resource->id,
               error->message);
  return FALSE;
}

void
wz_ws_hub_publish (WzWsHub                *self,
                   const WzStoredResource *resource,
                   const char             *encounter)
{
  g_autoptr(GPtrArray) recipients = g_ptr_array_new ();
  g_autoptr(GPtrArray) sockets = NULL;
  g_autoptr(GBytes) bytes = NULL;
  GHashTableIter iter;
  Principal *principal;

  g_return_if_fail (WZ_IS_WS_HUB (self));
  g_return_if_fail (resource != NULL);

  g_hash_table_iter_init (&iter, self->principals);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &principal))
    if (principal_may_see (self, principal, resource, encounter))
      g_ptr_array_add (recipients, principal);

  if (recipients->len == 0)
    return;

  bytes = event_bytes (resource, encounter);
  sockets = sockets_of (recipients);
  send_to_all (sockets, bytes);
}

void
wz_ws_hub_publish_superseded (WzWsHub                *self,
                              const WzStoredResource *previous,
                              const WzStoredResource *resource,
                              const char             *encounter)
{
  const WzFhirTypeInfo *info;
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(WzFhirIndex) index = NULL;
  g_autoptr(GPtrArray) recipients = g_ptr_array_new ();
  g_autoptr(GPtrArray) sockets = NULL;
  g_autoptr(GBytes) bytes = NULL;
  GHashTableIter iter;
  Principal *principal;
  gsize length;
  const char *data;

  g_return_if_fail (WZ_IS_WS_HUB (self));
  g_return_if_fail (previous != NULL && resource != NULL);

  /* Only the records that make up a care team can take a patient away from someone. */
  info = wz_fhir_type_info (previous->type);
  if (info == NULL || !info->care_team || g_hash_table_size (self->principals) == 0)
    return;

  parser = json_parser_new_immutable ();
  data = g_bytes_get_data (previous->json, &length);
  if (!json_parser_load_from_data (parser, data, length, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return;
  index = wz_fhir_index_new (json_node_get_object (json_parser_get_root (parser)), previous->id);

  g_hash_table_iter_init (&iter, self->principals);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &principal))
    {
      gboolean named = FALSE;

      if (principal->session->practitioner_id == NULL)
        continue;
      for (guint i = 0; i < index->tokens->len && !named; i++)
        {
          WzFhirToken *token = g_ptr_array_index (index->tokens, i);

          named = g_strcmp0 (token->param, "practitioner") == 0 &&
                  g_strcmp0 (token->value, principal->reference) == 0;
        }
      /* Those who still see it hear of it through wz_ws_hub_publish(). */
      if (named && !principal_may_see (self, principal, resource, encounter))
        g_ptr_array_add (recipients, principal);
    }

  if (recipients->len == 0)
    return;

  bytes = event_bytes (resource, encounter);
  sockets = sockets_of (recipients);
  send_to_all (sockets, bytes);
}

/* A receipt is kept (the highest per encounter and reader, durably) before it is passed on; one
 * that acknowledges nothing new is not passed on. FALSE when there is nothing to relay. */
static gboolean
record_receipt (Client     *client,
                JsonObject *frame,
                const char *encounter)
{
  const char *state = json_object_get_string_member_with_default (frame, "state", NULL);
  const char *up_to = json_object_get_string_member_with_default (frame, "upTo", NULL);
  g_autoptr(GError) error = NULL;
  gboolean advanced = FALSE;
  gint64 up_to_us = 0;

  if (client->hub->chat == NULL)
    {
      send_error (client, "This server keeps no receipts");
      return FALSE;
    }
  /* A mark in the future would stop every later receipt from counting: refused. */
  if (up_to == NULL || !wz_time_parse_instant (up_to, &up_to_us, NULL) || up_to_us <= 0 ||
      up_to_us > wz_time_now_us () + 60 * G_USEC_PER_SEC)
    {
      send_error (client, "A receipt needs \"upTo\": the meta.lastUpdated of the newest message "
                          "received or read");
      return FALSE;
    }
  if (!wz_chat_store_record_receipt (client->hub->chat, encounter, client->principal->reference,
                                     state ? state : "", up_to_us, &advanced, &error))
    {
      send_error (client, error->message);
      return FALSE;
    }
  if (!advanced)
    return FALSE;

  /* Passed on as the server understood it, nothing else the sender put in. */
  {
    g_autoptr(GList) members = json_object_get_members (frame);
    g_autoptr(GPtrArray) extra = g_ptr_array_new_with_free_func (g_free);

    for (GList *l = members; l != NULL; l = l->next)
      if (strcmp (l->data, "type") != 0 && strcmp (l->data, "state") != 0 &&
          strcmp (l->data, "upTo") != 0)
        g_ptr_array_add (extra, g_strdup (l->data));
    for (guint i = 0; i < extra->len; i++)
      json_object_remove_member (frame, g_ptr_array_index (extra, i));
  }
  return TRUE;
}

/* Relays a signaling frame to the other parties of its encounter. */
static void
relay (Client     *client,
       JsonObject *frame,
       const char *type)
{
  Principal *sender = client->principal;
  const WzSession *session = sender->session;
  g_autofree char *encounter = NULL;
  g_autofree char *patient = NULL;
  g_autofree char *error_text = NULL;
  g_autoptr(GPtrArray) practitioners = NULL;
  g_autoptr(GPtrArray) recipients = g_ptr_array_new ();
  g_autoptr(GPtrArray) sockets = NULL;
  g_autoptr(JsonNode) forward = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  JsonNode *member = json_object_get_member (frame, "encounter");
  const char *encounter_id;
  gboolean participant = FALSE;
  GHashTableIter iter;
  Principal *principal;

  if (member == NULL || !JSON_NODE_HOLDS_VALUE (member) ||
      json_node_get_value_type (member) != G_TYPE_STRING ||
      (encounter = wz_fhir_index_reference ("Encounter", json_node_get_string (member))) == NULL)
    {
      error_text = g_strdup_printf ("A “%s” frame needs \"encounter\": \"Encounter/ID\"", type);
      send_error (client, error_text);
      return;
    }
  encounter_id = encounter + strlen ("Encounter/");

  /* An unknown encounter and someone else's get the same answer: ids are not probed here. */
  if (wz_care_team_encounter_parties (client->hub->care_team, encounter_id, &patient,
                                      &practitioners, &error))
    {
      if (session->patient_id != NULL)
        participant = g_strcmp0 (session->encounter_id, encounter_id) == 0;
      else if (session->practitioner_id != NULL)
        participant = g_ptr_array_find_with_equal_func (practitioners, sender->reference,
                                                        g_str_equal, NULL);
    }
  else if (!g_error_matches (error, WZ_ERROR, WZ_ERROR_NOT_FOUND))
    g_warning ("Could not read %s to relay a frame: %s", encounter, error->message);

  if (!participant)
    {
      error_text = g_strdup_printf ("You are not a participant of %s, so nothing was relayed",
                                    encounter);
      send_error (client, error_text);
      return;
    }

  if (strcmp (type, "receipt") == 0 && !record_receipt (client, frame, encounter))
    return;

  g_hash_table_iter_init (&iter, client->hub->principals);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &principal))
    {
      const WzSession *other = principal->session;
      gboolean party;

      if (principal == sender)
        continue;
      if (other->patient_id != NULL)
        party = g_strcmp0 (other->encounter_id, encounter_id) == 0;
      else
        party = other->practitioner_id != NULL &&
                g_ptr_array_find_with_equal_func (practitioners, principal->reference,
                                                  g_str_equal, NULL) &&
                g_strcmp0 (principal->reference, sender->reference) != 0;
      if (party)
        g_ptr_array_add (recipients, principal);
    }

  if (recipients->len == 0)
    return;

  /* The receiver learns who sent it from the server, never from the sender's claim. */
  forward = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (forward, json_object_ref (frame));
  json_object_set_string_member (frame, "from", sender->reference);
  json_object_set_string_member (frame, "encounter", encounter);
  bytes = node_to_bytes (forward);

  sockets = sockets_of (recipients);
  send_to_all (sockets, bytes);
}

/* Presence: whether the patient's visit page of ENCOUNTER_ID has a socket open, told to ONLY
 * (who asked) or else to the doctors of the encounter (it opened or closed), so the app can
 * say the page is not open instead of ringing into nothing. */
static void
send_presence (WzWsHub    *self,
               const char *encounter_id,
               Client     *only)
{
  g_autofree char *key = g_strconcat ("patient:", encounter_id, NULL);
  g_autofree char *encounter = g_strconcat ("Encounter/", encounter_id, NULL);
  Principal *page = g_hash_table_lookup (self->principals, key);
  g_autofree char *patient = NULL;
  g_autoptr(GPtrArray) practitioners = NULL;
  g_autoptr(GPtrArray) recipients = g_ptr_array_new ();
  g_autoptr(GPtrArray) sockets = NULL;
  g_autoptr(JsonObject) frame = json_object_new ();
  g_autoptr(JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  g_autoptr(GBytes) bytes = NULL;
  GHashTableIter iter;
  Principal *principal;

  json_object_set_string_member (frame, "type", "presence");
  json_object_set_string_member (frame, "encounter", encounter);
  json_object_set_string_member (frame, "patient", page != NULL && page->clients.length > 0
                                                   ? "online" : "offline");
  json_node_set_object (root, frame);
  bytes = node_to_bytes (root);
  if (only != NULL)
    {
      send_bytes (only, bytes);
      return;
    }
  if (!wz_care_team_encounter_parties (self->care_team, encounter_id, &patient, &practitioners,
                                       NULL))
    return;
  g_hash_table_iter_init (&iter, self->principals);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &principal))
    if (principal->session->practitioner_id != NULL &&
        g_ptr_array_find_with_equal_func (practitioners, principal->reference, g_str_equal, NULL))
      g_ptr_array_add (recipients, principal);
  sockets = sockets_of (recipients);
  send_to_all (sockets, bytes);
}

/* {"type":"presence","encounter":"Encounter/E"} from a doctor of E: the answer goes to them. */
static void
answer_presence (Client     *client,
                 JsonObject *frame)
{
  const WzSession *session = client->principal->session;
  const char *reference = json_object_get_string_member_with_default (frame, "encounter", NULL);
  g_autofree char *encounter = reference != NULL ? wz_fhir_index_reference ("Encounter", reference)
                                                 : NULL;
  g_autofree char *patient = NULL;
  g_autoptr(GPtrArray) practitioners = NULL;

  if (encounter == NULL || session->practitioner_id == NULL ||
      !wz_care_team_encounter_parties (client->hub->care_team, encounter + strlen ("Encounter/"),
                                       &patient, &practitioners, NULL) ||
      !g_ptr_array_find_with_equal_func (practitioners, client->principal->reference,
                                         g_str_equal, NULL))
    {
      send_error (client, "Presence is told to the doctors of an encounter: send "
                          "{\"type\":\"presence\",\"encounter\":\"Encounter/ID\"} for one of yours");
      return;
    }
  send_presence (client->hub, encounter + strlen ("Encounter/"), client);
}

static void
on_message (SoupWebsocketConnection *conn,
            gint                     data_type,
            GBytes                  *message,
            gpointer                 user_data)
{
  Client *client = user_data;
  g_autoptr(JsonParser) parser = NULL;
  g_autofree char *error_text = NULL;
  JsonObject *frame;
  JsonNode *type_node;
  const char *type;
  gsize length;
  const char *data;

  if (data_type != SOUP_WEBSOCKET_DATA_TEXT)
    {
      send_error (client, "Send text frames holding a JSON object with a \"type\"");
      return;
    }

  data = g_bytes_get_data (message, &length);
  /* Mutable: a relayed frame is passed on with "from" added. */
  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, data, length, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      send_error (client, "The frame is not a JSON object; send {\"type\": …}");
      return;
    }

  frame = json_node_get_object (json_parser_get_root (parser));
  type_node = json_object_get_member (frame, "type");
  if (type_node == NULL || !JSON_NODE_HOLDS_VALUE (type_node) ||
      json_node_get_value_type (type_node) != G_TYPE_STRING)
    {
      send_error (client, "The frame has no \"type\" string");
      return;
    }
  type = json_node_get_string (type_node);

  if (strcmp (type, "ping") == 0)
    {
      static const char pong[] = "{\"type\":\"pong\"}";

      soup_websocket_connection_send_text (conn, pong);
    }
  else if (g_strv_contains (relayed_types, type))
    relay (client, frame, type);
  else if (strcmp (type, "presence") == 0)
    answer_presence (client, frame);
  else
    {
      g_autofree char *shown = g_utf8_substring (type, 0, MIN (g_utf8_strlen (type, -1), 40));

      error_text = g_strdup_printf ("Unknown frame type “%s”; the server understands ping, "
                                    "typing, receipt, offer, answer, ice, hangup and presence",
                                    shown);
      send_error (client, error_text);
    }
}

static void
on_error (SoupWebsocketConnection *conn,
          GError                  *error,
          gpointer                 user_data)
{
  Client *client = user_data;

  /* libsoup drops a connection whose frame is over the limit without a word; the client is
   * told why first, and gets the close code that says so. */
  if (g_error_matches (error, SOUP_WEBSOCKET_ERROR, SOUP_WEBSOCKET_CLOSE_TOO_BIG) &&
      soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_OPEN)
    {
      send_error (client, "The frame is larger than 64 KiB; the connection is closed");
      soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_TOO_BIG, "Frame too large");
      return;
    }

  g_debug ("Websocket of %s: %s", client->principal->key, error->message);
}

static void
client_free (Client *client)
{
  if (client->token != NULL)
    {
      sodium_memzero (client->token, strlen (client->token));
      g_free (client->token);
    }
  g_free (client);
}

static void
on_closed (SoupWebsocketConnection *conn,
           gpointer                 user_data)
{
  Client *client = user_data;
  WzWsHub *self = client->hub;
  Principal *principal = client->principal;
  g_autofree char *page_closed = NULL;

  g_signal_handlers_disconnect_by_data (conn, client);
  g_queue_unlink (&principal->clients, &client->link);
  if (principal->clients.length == 0)
    {
      if (principal->session->patient_id != NULL && !self->closing)
        page_closed = g_strdup (principal->session->encounter_id);
      g_hash_table_remove (self->principals, principal->key);
    }
  self->n_clients--;
  if (page_closed != NULL)
    send_presence (self, page_closed, NULL);

  g_debug ("Websocket closed (%u open)", self->n_clients);
  g_object_unref (conn);
  client_free (client);
}

/* The token of a request: Authorization: Bearer, else ?access_token= (browsers cannot set
 * headers on a websocket). Borrowed from MSG or QUERY. */
static const char *
request_token (SoupServerMessage *msg,
               GHashTable        *query)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *authorization = soup_message_headers_get_one (headers, "Authorization");

  if (authorization != NULL && g_ascii_strncasecmp (authorization, "Bearer ", 7) == 0)
    return authorization + 7;
  return query != NULL ? g_hash_table_lookup (query, "access_token") : NULL;
}

/* Runs before libsoup looks at the upgrade: a request without a live session is answered here,
 * so it never becomes a websocket. */
static void
ws_http_handler (SoupServer        *server,
                 SoupServerMessage *msg,
                 const char        *path,
                 GHashTable        *query,
                 gpointer           user_data)
{
  WzWsHub *self = user_data;
  const char *token;

  if (strcmp (path, "/ws") != 0)
    {
      wz_http_respond_problem (msg, WZ_ERROR_NOT_FOUND, "No such endpoint; the websocket is /ws");
      return;
    }
  if (soup_server_message_get_method (msg) != SOUP_METHOD_GET)
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", "GET");
      wz_http_respond_problem (msg, WZ_ERROR_METHOD_NOT_ALLOWED,
                               "/ws is a websocket: open it with GET and Upgrade: websocket");
      return;
    }
  if (self->closing)
    {
      wz_http_respond_problem (msg, WZ_ERROR_UNAVAILABLE, "The server is shutting down");
      return;
    }

  token = request_token (msg, query);
  if (token == NULL)
    wz_http_respond_problem (msg, WZ_ERROR_UNAUTHORIZED,
                             "Sign in first: send Authorization: Bearer TOKEN, or ?access_token=");
  else if (wz_auth_lookup (self->auth, token) == NULL)
    wz_http_respond_problem (msg, WZ_ERROR_UNAUTHORIZED,
                             "The access token is unknown, expired or revoked; sign in again");
}

static void
ws_handler (SoupServer              *server,
            SoupServerMessage       *msg,
            const char              *path,
            SoupWebsocketConnection *conn,
            gpointer                 user_data)
{
  WzWsHub *self = user_data;
  g_autoptr(GHashTable) query = NULL;
  const char *query_string = g_uri_get_query (soup_server_message_get_uri (msg));
  const WzSession *session;
  const char *token;
  g_autofree char *key = NULL;
  Principal *principal;
  Client *client;

  if (query_string != NULL)
    query = g_uri_parse_params (query_string, -1, "&", G_URI_PARAMS_NONE, NULL);
  token = request_token (msg, query);
  session = token ? wz_auth_lookup (self->auth, token) : NULL;
  if (session == NULL)
    {
      /* Checked a moment ago; it can only have ended in between. The socket is held until it
       * has closed properly. */
      g_signal_connect (g_object_ref (conn), "closed", G_CALLBACK (g_object_unref), NULL);
      soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION,
                                       "Session ended; sign in again");
      return;
    }

  key = principal_key (session);
  principal = g_hash_table_lookup (self->principals, key);
  if (principal == NULL)
    {
      principal = g_new0 (Principal, 1);
      principal->key = g_steal_pointer (&key);
      principal->reference = principal_reference (session);
      principal->session = wz_session_copy (session);
      g_queue_init (&principal->clients);
      g_hash_table_insert (self->principals, principal->key, principal);
    }

  client = g_new0 (Client, 1);
  client->hub = self;
  client->conn = g_object_ref (conn);
  client->principal = principal;
  client->token = g_strdup (token);
  client->link.data = client;
  g_queue_push_tail_link (&principal->clients, &client->link);
  self->n_clients++;

  soup_websocket_connection_set_max_incoming_payload_size (conn, WZ_WS_MAX_MESSAGE);
  soup_websocket_connection_set_keepalive_interval (conn, WZ_WS_KEEPALIVE_S);
  g_signal_connect (conn, "message", G_CALLBACK (on_message), client);
  g_signal_connect (conn, "error", G_CALLBACK (on_error), client);
  g_signal_connect (conn, "closed", G_CALLBACK (on_closed), client);

  g_debug ("Websocket opened by %s (%u open)", principal->key, self->n_clients);
  send_hello (client);
  if (session->patient_id != NULL && principal->clients.length == 1)
    send_presence (self, session->encounter_id, NULL);
}

static gboolean
check_sessions (gpointer user_data)
{
  WzWsHub *self = user_data;
  g_autoptr(GPtrArray) ended = g_ptr_array_new_with_free_func (g_object_unref);
  GHashTableIter iter;
  Principal *principal;

  g_hash_table_iter_init (&iter, self->principals);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &principal))
    for (GList *l = principal->clients.head; l != NULL; l = l->next)
      {
        Client *client = l->data;

        if (!wz_auth_check (self->auth, client->token))
          g_ptr_array_add (ended, g_object_ref (client->conn));
      }

  for (guint i = 0; i < ended->len; i++)
    {
      SoupWebsocketConnection *conn = g_ptr_array_index (ended, i);

      if (soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION,
                                         "Session ended; sign in again");
    }

  return G_SOURCE_CONTINUE;
}

/* Signing out closes that session's sockets at once, not at the next check. */
static void
on_token_revoked (WzAuth     *auth,
                  const char *token,
                  WzWsHub    *self)
{
  g_autoptr(GPtrArray) ended = g_ptr_array_new_with_free_func (g_object_unref);
  GHashTableIter iter;
  Principal *principal;

  g_hash_table_iter_init (&iter, self->principals);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &principal))
    for (GList *l = principal->clients.head; l != NULL; l = l->next)
      {
        Client *client = l->data;

        if (g_strcmp0 (client->token, token) == 0)
          g_ptr_array_add (ended, g_object_ref (client->conn));
      }

  for (guint i = 0; i < ended->len; i++)
    {
      SoupWebsocketConnection *conn = g_ptr_array_index (ended, i);

      if (soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION,
                                         "Signed out");
    }
}

void
wz_ws_hub_set_chat_store (WzWsHub     *self,
                          WzChatStore *chat)
{
  g_return_if_fail (WZ_IS_WS_HUB (self));

  g_set_object (&self->chat, chat);
}

void
wz_ws_hub_register (WzWsHub    *self,
                    SoupServer *server)
{
  g_return_if_fail (WZ_IS_WS_HUB (self));

  /* permessage-deflate keeps two zlib streams (hundreds of KiB) per socket; the frames here are
   * small JSON, and thousands of sockets must fit in memory. */
  soup_server_remove_websocket_extension (server, SOUP_TYPE_WEBSOCKET_EXTENSION_DEFLATE);

  soup_server_add_handler (server, "/ws", ws_http_handler, g_object_ref (self), g_object_unref);
  soup_server_add_websocket_handler (server, "/ws", NULL, NULL, ws_handler, g_object_ref (self),
                                     g_object_unref);

  if (self->check_source == 0)
    self->check_source = g_timeout_add_seconds (WZ_WS_SESSION_CHECK_S, check_sessions, self);
}

static void
close_every_socket (WzWsHub *self,
                    gushort  code,
                    const char *reason)
{
  g_autoptr(GPtrArray) all = g_ptr_array_new ();
  g_autoptr(GPtrArray) sockets = NULL;
  GHashTableIter iter;
  Principal *principal;

  g_hash_table_iter_init (&iter, self->principals);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &principal))
    g_ptr_array_add (all, principal);

  sockets = sockets_of (all);
  for (guint i = 0; i < sockets->len; i++)
    {
      SoupWebsocketConnection *conn = g_ptr_array_index (sockets, i);

      if (soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (conn, code, reason);
    }
}

void
wz_ws_hub_close_all (WzWsHub *self)
{
  gint64 deadline;

  g_return_if_fail (WZ_IS_WS_HUB (self));

  self->closing = TRUE;
  g_clear_handle_id (&self->check_source, g_source_remove);
  if (self->n_clients == 0)
    return;

  close_every_socket (self, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "Server is shutting down");

  /* The main loop has stopped by now; turn it by hand until the close frames are out and the
   * clients have answered, or a second has passed. */
  deadline = g_get_monotonic_time () + G_USEC_PER_SEC;
  while (self->n_clients > 0 && g_get_monotonic_time () < deadline)
    {
      if (!g_main_context_iteration (NULL, FALSE))
        g_usleep (1000);
    }

  g_debug ("Shutdown: %u websockets did not close in time", self->n_clients);
}

guint
wz_ws_hub_get_n_connections (WzWsHub *self)
{
  g_return_val_if_fail (WZ_IS_WS_HUB (self), 0);

  return self->n_clients;
}

static void
wz_ws_hub_dispose (GObject *object)
{
  WzWsHub *self = WZ_WS_HUB (object);

  g_clear_handle_id (&self->check_source, g_source_remove);
  g_clear_object (&self->auth);
  g_clear_object (&self->care_team);
  g_clear_object (&self->chat);

  G_OBJECT_CLASS (wz_ws_hub_parent_class)->dispose (object);
}

static void
wz_ws_hub_finalize (GObject *object)
{
  WzWsHub *self = WZ_WS_HUB (object);

  g_clear_pointer (&self->principals, g_hash_table_unref);

  G_OBJECT_CLASS (wz_ws_hub_parent_class)->finalize (object);
}

static void
wz_ws_hub_class_init (WzWsHubClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = wz_ws_hub_dispose;
  object_class->finalize = wz_ws_hub_finalize;
}

static void
wz_ws_hub_init (WzWsHub *self)
{
  self->principals = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, principal_free);
}

WzWsHub *
wz_ws_hub_new (WzAuth     *auth,
               WzCareTeam *care_team)
{
  WzWsHub *self;

  g_return_val_if_fail (WZ_IS_AUTH (auth), NULL);
  g_return_val_if_fail (WZ_IS_CARE_TEAM (care_team), NULL);

  self = g_object_new (WZ_TYPE_WS_HUB, NULL);
  self->auth = g_object_ref (auth);
  self->care_team = g_object_ref (care_team);
  g_signal_connect_object (auth, "token-revoked", G_CALLBACK (on_token_revoked), self, 0);

  return self;
}
