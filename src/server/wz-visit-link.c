/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-visit-link"

#include "config.h"

#include "wz-visit-link.h"

#include <json-glib/json-glib.h>
#include <sodium.h>
#include <string.h>

#include "wz-error.h"
#include "wz-fhir.h"
#include "wz-http.h"

/* The body is one short token; anything much bigger is not a visit-link request. */
#define MAX_BODY 1024

struct _WzVisitLink
{
  GObject     parent_instance;

  WzStore    *store;
  WzAuth     *auth;
  WzAudit    *audit;
  WzCareTeam *care_team;
};

G_DEFINE_FINAL_TYPE (WzVisitLink, wz_visit_link, G_TYPE_OBJECT)

char *
wz_visit_link_url (const char *base,
                   const char *token)
{
  return g_strconcat (base, "/visit/#", token, NULL);
}

static char *
make_for (WzStore                 *store,
          WzAuth                  *auth,
          const WzStoredResource  *encounter,
          const char              *created_by,
          char                   **out_patient,
          gint64                  *out_expires_at,
          GError                 **error)
{
  char *token;

  if (g_strcmp0 (encounter->status, "cancelled") == 0 ||
      g_strcmp0 (encounter->status, "entered-in-error") == 0)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_UNPROCESSABLE,
                   "Encounter/%s is %s; a visit link is only for a visit that takes place",
                   encounter->id, encounter->status);
      return NULL;
    }
  if (encounter->patient == NULL || !g_str_has_prefix (encounter->patient, "Patient/"))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_UNPROCESSABLE,
                   "Encounter/%s names no patient (subject), so there is nobody to send a link to",
                   encounter->id);
      return NULL;
    }

  token = wz_auth_create_visit_link (auth, encounter->patient + strlen ("Patient/"),
                                     encounter->id, created_by, out_expires_at, error);
  if (token != NULL && out_patient != NULL)
    *out_patient = g_strdup (encounter->patient);
  return token;
}

char *
wz_visit_link_make (WzStore     *store,
                    WzAuth      *auth,
                    const char  *encounter_id,
                    const char  *created_by,
                    char       **out_patient,
                    gint64      *out_expires_at,
                    GError     **error)
{
  g_autoptr(WzStoredResource) encounter = NULL;

  g_return_val_if_fail (WZ_IS_STORE (store), NULL);
  g_return_val_if_fail (WZ_IS_AUTH (auth), NULL);

  if (encounter_id == NULL || !wz_fhir_id_is_valid (encounter_id))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "“%s” is not an encounter id",
                   encounter_id ? encounter_id : "");
      return NULL;
    }
  if ((encounter = wz_store_read (store, "Encounter", encounter_id, error)) == NULL)
    return NULL;

  return make_for (store, auth, encounter, created_by, out_patient, out_expires_at, error);
}

char *
wz_visit_link_create (WzVisitLink      *self,
                      const WzSession  *session,
                      const char       *encounter_id,
                      char            **out_patient,
                      gint64           *out_expires_at,
                      GError          **error)
{
  g_autoptr(WzStoredResource) encounter = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *created_by = NULL;

  g_return_val_if_fail (WZ_IS_VISIT_LINK (self), NULL);
  g_return_val_if_fail (session != NULL, NULL);

  if (g_strcmp0 (session->role, "doctor") != 0 || session->practitioner_id == NULL)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_FORBIDDEN,
                   "Only a doctor hands out visit links, not a %s", session->role);
      return NULL;
    }

  encounter = wz_store_read (self->store, "Encounter", encounter_id, error);
  if (encounter == NULL)
    return NULL;
  if (!wz_care_team_may_see_stored (self->care_team, session, encounter, &local_error))
    {
      if (local_error != NULL)
        g_propagate_error (error, g_steal_pointer (&local_error));
      else
        g_set_error (error, WZ_ERROR, WZ_ERROR_NOT_FOUND, "Encounter/%s does not exist",
                     encounter_id);
      return NULL;
    }

  created_by = g_strconcat ("Practitioner/", session->practitioner_id, NULL);
  return make_for (self->store, self->auth, encounter, created_by, out_patient, out_expires_at,
                   error);
}

/* One POST /auth/visit, from the request to the audited answer. */
typedef struct
{
  WzVisitLink       *self;
  SoupServerMessage *msg;
  char              *link_token;
  char              *peer;

  /* Filled by the worker thread. */
  char              *token;
  char              *patient;
  char              *encounter;
  GError            *error;
} RedeemJob;

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
redeem_job_free (RedeemJob *job)
{
  g_clear_object (&job->self);
  g_clear_object (&job->msg);
  secret_free (job->link_token);
  secret_free (job->token);
  g_free (job->peer);
  g_free (job->patient);
  g_free (job->encounter);
  g_clear_error (&job->error);
  g_free (job);
}

static gboolean
parse_body (SoupServerMessage  *msg,
            char              **out_link_token,
            GError            **error)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr(GBytes) bytes = soup_message_body_flatten (body);
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GList) members = NULL;
  JsonObject *object;
  JsonNode *token;
  gsize length;
  const char *data = g_bytes_get_data (bytes, &length);

  if (length == 0 || length > MAX_BODY || !g_utf8_validate_len (data, length, NULL) ||
      !json_parser_load_from_data (parser, data, length, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INVALID,
                           "Send a JSON object {\"link_token\": \"…\"} of at most 1 KiB");
      return FALSE;
    }

  object = json_node_get_object (json_parser_get_root (parser));
  members = json_object_get_members (object);
  token = json_object_get_member (object, "link_token");
  if (g_list_length (members) != 1 || token == NULL || !JSON_NODE_HOLDS_VALUE (token) ||
      json_node_get_value_type (token) != G_TYPE_STRING)
    {
      g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INVALID,
                           "The body must hold exactly one member, \"link_token\", a string");
      return FALSE;
    }

  *out_link_token = g_strdup (json_node_get_string (token));
  return TRUE;
}

static void
redeem_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  RedeemJob *job = task_data;
  const WzSession *session = NULL;

  job->token = wz_auth_redeem_visit_link (job->self->auth, job->link_token, &session, &job->error);
  if (job->token != NULL)
    {
      /* Copied here: the session belongs to the auth cache, which the main loop may change. */
      job->patient = g_strconcat ("Patient/", session->patient_id, NULL);
      job->encounter = g_strconcat ("Encounter/", session->encounter_id, NULL);
    }
  g_task_return_boolean (task, TRUE);
}

static void
redeem_audited (const GError *error,
                gpointer      user_data)
{
  RedeemJob *job = user_data;

  /* A session nobody could trace later must not be handed out: take it back. */
  if (error != NULL && job->token != NULL)
    {
      g_warning ("Refusing visit link session: audit log unavailable: %s", error->message);
      wz_auth_logout (job->self->auth, job->token);
      wz_http_respond_problem (job->msg, WZ_ERROR_UNAVAILABLE,
                               "The audit log is unavailable; try the link again later");
    }

  if (soup_server_message_get_socket (job->msg) != NULL)
    soup_server_message_unpause (job->msg);
  redeem_job_free (job);
}

static void
redeem_done (GObject      *source_object,
             GAsyncResult *result,
             gpointer      user_data)
{
  RedeemJob *job = user_data;
  SoupServerMessage *msg = job->msg;

  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Cache-Control", "no-store");

  if (job->token != NULL)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;
      g_autoptr(JsonGenerator) generator = json_generator_new ();
      g_autoptr(GBytes) body = NULL;
      gsize length;
      char *text;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "access_token");
      json_builder_add_string_value (builder, job->token);
      json_builder_set_member_name (builder, "token_type");
      json_builder_add_string_value (builder, "Bearer");
      json_builder_set_member_name (builder, "expires_in");
      json_builder_add_int_value (builder, WZ_AUTH_PATIENT_TOKEN_LIFETIME_S);
      json_builder_set_member_name (builder, "role");
      json_builder_add_string_value (builder, "patient");
      json_builder_set_member_name (builder, "patient");
      json_builder_add_string_value (builder, job->patient);
      json_builder_set_member_name (builder, "encounter");
      json_builder_add_string_value (builder, job->encounter);
      json_builder_end_object (builder);

      root = json_builder_get_root (builder);
      json_generator_set_root (generator, root);
      text = json_generator_to_data (generator, &length);
      body = g_bytes_new_take (text, length);
      wz_http_respond_json (msg, SOUP_STATUS_OK, body);
    }
  else
    {
      if (!g_error_matches (job->error, WZ_ERROR, WZ_ERROR_UNAUTHORIZED))
        g_warning ("Visit link could not be opened: %s", job->error->message);
      wz_http_respond_error (msg, job->error);
    }

  wz_audit_record (job->self->audit, "E", job->token != NULL ? "0" : "4",
                   job->patient ? job->patient : "visit-link", job->encounter, job->patient,
                   job->peer, redeem_audited, job);
}

static void
visit_cb (SoupServer        *server,
          SoupServerMessage *msg,
          const char        *path,
          GHashTable        *query,
          gpointer           user_data)
{
  WzVisitLink *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GTask) task = NULL;
  g_autofree char *link_token = NULL;
  RedeemJob *job;

  if (strcmp (path, "/auth/visit") != 0)
    {
      wz_http_respond_problem (msg, WZ_ERROR_NOT_FOUND, "No such endpoint: %s", path);
      return;
    }
  if (soup_server_message_get_method (msg) != SOUP_METHOD_POST)
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow",
                                    "POST");
      wz_http_respond_problem (msg, WZ_ERROR_METHOD_NOT_ALLOWED, "Only POST is allowed here");
      return;
    }
  if (!parse_body (msg, &link_token, &error))
    {
      wz_http_respond_error (msg, error);
      return;
    }

  job = g_new0 (RedeemJob, 1);
  job->self = g_object_ref (self);
  job->msg = g_object_ref (msg);
  job->link_token = g_steal_pointer (&link_token);
  job->peer = g_strdup (soup_server_message_get_remote_host (msg));

  /* Spending the link is a synced write; the main loop keeps serving meanwhile. */
  soup_server_message_pause (msg);
  task = g_task_new (NULL, NULL, redeem_done, job);
  g_task_set_source_tag (task, visit_cb);
  g_task_set_task_data (task, job, NULL);
  g_task_run_in_thread (task, redeem_thread);
}

static void
visit_early_cb (SoupServer        *server,
                SoupServerMessage *msg,
                const char        *path,
                GHashTable        *query,
                gpointer           user_data)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);

  /* Answered before the body is read, so a huge upload is never buffered. */
  if (soup_message_headers_get_encoding (headers) != SOUP_ENCODING_CONTENT_LENGTH ||
      soup_message_headers_get_content_length (headers) > MAX_BODY)
    {
      if (soup_server_message_get_method (msg) == SOUP_METHOD_POST)
        wz_http_respond_problem (msg, WZ_ERROR_TOO_LARGE,
                                 "Send the link token as a JSON body of at most 1 KiB, with "
                                 "Content-Length");
    }
}

void
wz_visit_link_register (WzVisitLink *self,
                        SoupServer  *server)
{
  g_return_if_fail (WZ_IS_VISIT_LINK (self));

  soup_server_add_early_handler (server, "/auth/visit", visit_early_cb, NULL, NULL);
  soup_server_add_handler (server, "/auth/visit", visit_cb, g_object_ref (self), g_object_unref);
}

static void
wz_visit_link_dispose (GObject *object)
{
  WzVisitLink *self = WZ_VISIT_LINK (object);

  g_clear_object (&self->store);
  g_clear_object (&self->auth);
  g_clear_object (&self->audit);
  g_clear_object (&self->care_team);

  G_OBJECT_CLASS (wz_visit_link_parent_class)->dispose (object);
}

static void
wz_visit_link_class_init (WzVisitLinkClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = wz_visit_link_dispose;
}

static void
wz_visit_link_init (WzVisitLink *self)
{
}

WzVisitLink *
wz_visit_link_new (WzStore    *store,
                   WzAuth     *auth,
                   WzAudit    *audit,
                   WzCareTeam *care_team)
{
  WzVisitLink *self = g_object_new (WZ_TYPE_VISIT_LINK, NULL);

  self->store = g_object_ref (store);
  self->auth = g_object_ref (auth);
  self->audit = g_object_ref (audit);
  self->care_team = g_object_ref (care_team);

  return self;
}
