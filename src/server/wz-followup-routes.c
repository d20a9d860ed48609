/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-followup-routes"

#include "config.h"

#include "wz-followup-routes.h"

#include <string.h>

#include "wz-bundle.h"
#include "wz-careplan-template.h"
#include "wz-error.h"
#include "wz-fhir.h"
#include "wz-followup.h"
#include "wz-http.h"
#include "wz-nip-schedule.h"
#include "wz-prescreen.h"
#include "wz-static-routes.h"
#include "wz-time.h"

#define MAX_BODY (256 * 1024)
#define SYNC_PAGE 1000

/* The worklist view is kept current from these types' changes. */
static const char *sync_types[] = { "Task", "Observation", "Patient" };
#define OPEN_TASKS "status=requested,received,accepted,ready,in-progress"
#define WARM_PAGE 250

/* Where a sync of one type has got to. */
typedef struct
{
  gint64   from;
  guint    offset;
  gint64   newest;
  gboolean running;
} SyncCursor;

struct _WzFollowupRoutes
{
  GObject        parent_instance;

  WzStore       *store;
  WzAuth        *auth;
  WzAudit       *audit;
  WzCareTeam    *care_team;
  WzWsHub       *hub;

  WzNipSchedule *schedule;        /* NULL when the file could not be loaded */
  char          *schedule_problem;
  GPtrArray     *templates;
  char          *templates_problem;

  /* The worklist view, loaded in the background from the start (a page of the store per idle
   * turn of the main loop, so other requests are answered meanwhile), then caught up with the
   * store's changes before each worklist. */
  WzFollowup    *view;
  gint64         marks[G_N_ELEMENTS (sync_types)];
  SyncCursor     cursors[G_N_ELEMENTS (sync_types)];
  guint          warm_type;       /* the type being loaded */
  guint          warm_source;
  GQueue         waiting;         /* Waiting: worklists asked for before the view was loaded */
};

G_DEFINE_FINAL_TYPE (WzFollowupRoutes, wz_followup_routes, G_TYPE_OBJECT)

typedef struct
{
  WzFollowupRoutes  *self;
  SoupServerMessage *msg;
  const WzSession   *session;
  char              *agent;
  GHashTable        *query;
} Request;

/* ---- Answers and the audit log ------------------------------------------------------------ */

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
  if (soup_server_message_get_socket (msg) != NULL)
    soup_server_message_unpause (msg);
  g_object_unref (msg);
}

/* Holds the response already set on the message until its audit row is on disk. */
static void
audit_and_send (Request    *req,
                const char *action,
                const char *entity,
                const char *patient)
{
  guint status = soup_server_message_get_status (req->msg);
  const char *outcome = status < 400 ? "0" : status < 500 ? "4" : "8";

  soup_server_message_pause (req->msg);
  wz_audit_record (req->self->audit, action, outcome,
                   req->agent ? req->agent : "anonymous", entity, patient,
                   soup_server_message_get_remote_host (req->msg), on_audit_done,
                   g_object_ref (req->msg));
}

static void
fail (Request      *req,
      const GError *error,
      const char   *action,
      const char   *entity,
      const char   *patient)
{
  wz_http_respond_error (req->msg, error);
  audit_and_send (req, action, entity, patient);
}

static void
fail_with (Request    *req,
           int         code,
           const char *action,
           const char *entity,
           const char *message)
{
  g_autoptr(GError) error = g_error_new_literal (WZ_ERROR, code, message);

  fail (req, error, action, entity, NULL);
}

static void
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

static GBytes *
node_bytes (JsonNode *node)
{
  gsize length;
  char *text = json_to_string (node, FALSE);

  length = strlen (text);
  return g_bytes_new_take (text, length);
}

static gboolean
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

static gboolean
is_doctor (const WzSession *session)
{
  return g_strcmp0 (session->role, "doctor") == 0 && session->practitioner_id != NULL;
}

static const char *
query_param (Request    *req,
             const char *name)
{
  return req->query ? g_hash_table_lookup (req->query, name) : NULL;
}

static const char *
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

static const char *
default_zone (WzFollowupRoutes *self)
{
  return self->schedule ? wz_nip_schedule_get_default_time_zone (self->schedule) : "Asia/Shanghai";
}

/* The zone for "today": ?tz=, else the patient's tz-code, else the clinic's default. */
static GTimeZone *
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

static gboolean
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

/* ---- Reading the store --------------------------------------------------------------------- */

/* Stored JSON is not NUL-terminated. */
static JsonNode *
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

static JsonNode *
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
static JsonNode *
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

/* Reads one page of TYPE's changes since its mark into the view; *OUT_DONE when it was the last. */
static gboolean
sync_page (WzFollowupRoutes  *self,
           guint              index,
           guint              page,
           gboolean          *out_done,
           GError           **error)
{
  const char *type = sync_types[index];
  SyncCursor *cursor = &self->cursors[index];
  g_autofree char *instant = NULL;
  g_autofree char *escaped = NULL;
  g_autofree char *text = NULL;
  g_autoptr(WzSearchQuery) query = NULL;
  g_autoptr(WzStoreResult) result = NULL;
  gint64 last;

  if (!cursor->running)
    {
      /* Re-read the last second: a write can land with a clock a little behind the newest
       * seen. Versions already taken in cost nothing. */
      cursor->from = self->marks[index] > 0 ? MAX (0, self->marks[index] - G_USEC_PER_SEC) : 0;
      cursor->offset = 0;
      cursor->newest = self->marks[index];
      cursor->running = TRUE;
    }

  instant = wz_time_format_instant (cursor->from);
  escaped = g_uri_escape_string (instant, NULL, FALSE);
  /* The first load needs only the open Tasks; later ones see closures too. */
  text = g_strdup_printf ("_lastUpdated=ge%s&_sort=_lastUpdated%s", escaped,
                          self->marks[index] == 0 && index == 0 ? "&" OPEN_TASKS : "");
  if ((query = wz_search_query_parse (type, text, error)) == NULL)
    return FALSE;
  query->count = page;
  query->offset = cursor->offset;
  if ((result = wz_store_search (self->store, query, error)) == NULL)
    {
      cursor->running = FALSE;
      return FALSE;
    }

  for (guint i = 0; i < result->resources->len; i++)
    {
      WzStoredResource *stored = g_ptr_array_index (result->resources, i);
      gsize length;
      const char *data = g_bytes_get_data (stored->json, &length);

      wz_followup_ingest (self->view, type, stored->id, stored->version_id, stored->status,
                          data, length);
      cursor->newest = MAX (cursor->newest, stored->last_updated);
    }

  if (result->resources->len < page)
    {
      self->marks[index] = cursor->newest;
      cursor->running = FALSE;
      *out_done = TRUE;
      return TRUE;
    }

  /* Next page from the last row seen; the search speaks milliseconds, so a page that ends
   * within the millisecond it started at moves on by offset instead. */
  last = ((WzStoredResource *) g_ptr_array_index (result->resources,
                                                  result->resources->len - 1))->last_updated;
  if (last / 1000 == cursor->from / 1000)
    cursor->offset += page;
  else
    {
      cursor->from = last;
      cursor->offset = 0;
    }
  *out_done = FALSE;
  return TRUE;
}

static void
ensure_view (WzFollowupRoutes *self)
{
  if (self->view != NULL)
    return;
  self->view = wz_followup_new ();
  memset (self->marks, 0, sizeof self->marks);
  memset (self->cursors, 0, sizeof self->cursors);
  /* Patients are read when a worklist first needs them; only their later changes are synced. */
  self->marks[G_N_ELEMENTS (sync_types) - 1] = wz_time_now_us ();
}

/* Catches the view up with the store and reads the names PRACTITIONER's worklist lacks. */
static gboolean
refresh_view (WzFollowupRoutes  *self,
              const char        *practitioner,
              GError           **error)
{
  g_autoptr(GPtrArray) missing = NULL;

  ensure_view (self);
  for (guint i = 0; i < G_N_ELEMENTS (sync_types); i++)
    {
      gboolean done = FALSE;

      while (!done)
        if (!sync_page (self, i, SYNC_PAGE, &done, error))
          return FALSE;
    }

  missing = wz_followup_missing_patients (self->view, practitioner);
  for (guint i = 0; i < missing->len; i++)
    {
      const char *ref = g_ptr_array_index (missing, i);
      g_autoptr(WzStoredResource) stored = NULL;
      g_autoptr(GError) local_error = NULL;
      gsize length;
      const char *data;

      stored = wz_store_read (self->store, "Patient", ref + strlen ("Patient/"), &local_error);
      if (stored == NULL)
        {
          if (g_error_matches (local_error, WZ_ERROR, WZ_ERROR_NOT_FOUND) ||
              g_error_matches (local_error, WZ_ERROR, WZ_ERROR_GONE))
            continue;
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      data = g_bytes_get_data (stored->json, &length);
      wz_followup_ingest (self->view, "Patient", stored->id, stored->version_id, NULL, data,
                          length);
    }
  return TRUE;
}

/* ---- /followup ---------------------------------------------------------------------------- */

/* A worklist asked for while the view was still loading, answered when it is. */
typedef struct
{
  WzFollowupRoutes  *self;
  SoupServerMessage *msg;
  char              *agent;
  WzDay              today;
  char              *zone;
  char              *lang;
} Waiting;

static void
waiting_free (Waiting *waiting)
{
  g_object_unref (waiting->msg);
  g_free (waiting->agent);
  g_free (waiting->zone);
  g_free (waiting->lang);
  g_free (waiting);
}

static void
answer_worklist (WzFollowupRoutes  *self,
                 SoupServerMessage *msg,
                 const char        *agent,
                 WzDay              today,
                 const char        *zone,
                 const char        *lang)
{
  Request req = { self, msg, NULL, (char *) agent, NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autofree char *entity = NULL;
  char buf[16];

  if (!refresh_view (self, agent, &error))
    {
      fail (&req, error, "E", "followup/worklist", NULL);
      return;
    }
  body = wz_followup_worklist (self->view, agent, today, zone, lang);
  respond_plain_json (msg, body);
  entity = g_strconcat ("followup/worklist?date=", wz_day_format_buf (today, buf), NULL);
  audit_and_send (&req, "E", entity, NULL);
}

static gboolean
warm_step (gpointer user_data)
{
  WzFollowupRoutes *self = user_data;
  g_autoptr(GError) error = NULL;
  gboolean done = FALSE;
  Waiting *waiting;

  if (!sync_page (self, self->warm_type, WARM_PAGE, &done, &error))
    {
      g_warning ("Loading the follow-up worklist view failed, trying again at the next "
                 "request: %s", error->message);
      g_clear_object (&self->view);
    }
  else if (!done || ++self->warm_type < G_N_ELEMENTS (sync_types))
    return G_SOURCE_CONTINUE;

  self->warm_source = 0;
  while ((waiting = g_queue_pop_head (&self->waiting)) != NULL)
    {
      if (soup_server_message_get_socket (waiting->msg) != NULL)
        answer_worklist (self, waiting->msg, waiting->agent, waiting->today, waiting->zone,
                         waiting->lang);
      waiting_free (waiting);
    }
  return G_SOURCE_REMOVE;
}

static void
start_warm_up (WzFollowupRoutes *self)
{
  ensure_view (self);
  self->warm_type = 0;
  self->warm_source = g_idle_add_full (G_PRIORITY_LOW, warm_step, self, NULL);
}

static void
handle_worklist (Request *req)
{
  WzFollowupRoutes *self = req->self;
  g_autoptr(GTimeZone) tz = NULL;
  g_autoptr(GError) error = NULL;
  const char *zone = NULL;
  WzDay today;

  if (!is_doctor (req->session))
    {
      fail_with (req, WZ_ERROR_FORBIDDEN, "E", "followup/worklist",
                 "The follow-up worklist is a doctor's");
      return;
    }
  if ((tz = request_zone (req, NULL, &zone, &error)) == NULL ||
      !request_today (req, tz, &today, &error))
    {
      fail (req, error, "E", "followup/worklist", NULL);
      return;
    }

  if (self->warm_source != 0)
    {
      Waiting *waiting = g_new0 (Waiting, 1);

      waiting->self = self;
      waiting->msg = g_object_ref (req->msg);
      waiting->agent = g_strdup (req->agent);
      waiting->today = today;
      waiting->zone = g_strdup (zone);
      waiting->lang = g_strdup (request_lang (req));
      g_queue_push_tail (&self->waiting, waiting);
      soup_server_message_pause (req->msg);
      return;
    }

  answer_worklist (self, req->msg, req->agent, today, zone, request_lang (req));
}

static void
handle_screening_questionnaire (Request *req)
{
  g_autoptr(JsonNode) questionnaire = NULL;
  g_autoptr(GBytes) body = NULL;

  if (req->self->schedule == NULL)
    {
      fail_with (req, WZ_ERROR_UNAVAILABLE, "R", "followup/screening-questionnaire",
                 req->self->schedule_problem);
      return;
    }
  questionnaire = wz_prescreen_questionnaire (req->self->schedule, request_lang (req));
  body = node_bytes (questionnaire);
  wz_http_respond_json (req->msg, SOUP_STATUS_OK, body);
  audit_and_send (req, "R", "Questionnaire/pre-vaccination", NULL);
}

/* Reads Patient/ID for REQ's user: 404 when it does not exist or is not theirs to see. */
static JsonNode *
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

static JsonNode *
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

static void
handle_screening_evaluation (Request *req)
{
  const char *patient_id = query_param (req, "patient");
  const char *vaccines_param = query_param (req, "vaccines");
  g_autoptr(JsonNode) patient = NULL;
  g_autoptr(JsonNode) body = NULL;
  g_autoptr(WzPrescreenResult) result = NULL;
  g_autoptr(JsonNode) answer = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GTimeZone) tz = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) vaccines = NULL;
  g_autofree char *ref = patient_id ? g_strconcat ("Patient/", patient_id, NULL) : NULL;
  const char *zone, *birth_text;
  WzDay birth = WZ_DAY_NONE, today;

  if (req->self->schedule == NULL)
    {
      fail_with (req, WZ_ERROR_UNAVAILABLE, "E", "followup/screening-evaluation",
                 req->self->schedule_problem);
      return;
    }
  if ((patient = read_patient_for (req, patient_id, &error)) == NULL ||
      (tz = request_zone (req, json_node_get_object (patient), &zone, &error)) == NULL ||
      !request_today (req, tz, &today, &error) ||
      (body = parse_body (req, &error)) == NULL)
    {
      fail (req, error, "E", "followup/screening-evaluation", NULL);
      return;
    }

  birth_text = json_object_get_string_member_with_default (json_node_get_object (patient),
                                                           "birthDate", NULL);
  if (birth_text != NULL)
    wz_day_parse (birth_text, &birth);
  if (vaccines_param != NULL)
    vaccines = g_strsplit (vaccines_param, ",", -1);

  result = wz_prescreen_evaluate (req->self->schedule, json_node_get_object (body),
                                  (const char * const *) vaccines, birth,
                                  json_object_get_string_member_with_default (json_node_get_object (patient),
                                                                              "gender", NULL),
                                  today, &error);
  if (result == NULL)
    {
      fail (req, error, "E", "followup/screening-evaluation", ref);
      return;
    }
  answer = wz_prescreen_result_to_json (result, request_lang (req));
  bytes = node_bytes (answer);
  respond_plain_json (req->msg, bytes);
  audit_and_send (req, "E", "followup/screening-evaluation", ref);
}

static void
followup_handler (SoupServer        *server,
                  SoupServerMessage *msg,
                  const char        *path,
                  GHashTable        *query,
                  gpointer           user_data)
{
  Request req = { user_data, msg, NULL, NULL, query };
  const char *method = soup_server_message_get_method (msg);

  if (!authenticate (&req))
    return;

  if (strcmp (path, "/followup/worklist") == 0 && method == SOUP_METHOD_GET)
    handle_worklist (&req);
  else if (strcmp (path, "/followup/screening-questionnaire") == 0 && method == SOUP_METHOD_GET)
    handle_screening_questionnaire (&req);
  else if (strcmp (path, "/followup/screening-evaluation") == 0 && method == SOUP_METHOD_POST)
    handle_screening_evaluation (&req);
  else if (strcmp (path, "/followup/worklist") == 0 ||
           strcmp (path, "/followup/screening-questionnaire") == 0 ||
           strcmp (path, "/followup/screening-evaluation") == 0)
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow",
                                    strstr (path, "evaluation") ? "POST" : "GET");
      wz_http_respond_problem (msg, WZ_ERROR_METHOD_NOT_ALLOWED, "%s is not supported on %s",
                               method, path);
    }
  else
    wz_http_respond_problem (msg, WZ_ERROR_NOT_FOUND, "No such endpoint: %s", path);

  g_free (req.agent);
}

/* ---- Creating resources all or nothing ------------------------------------------------------ */

typedef struct
{
  GPtrArray *stored;   /* WzStoredResource, in creation order */
  GArray    *created;  /* gboolean: made by this request (else found by identifier) */
} Made;

static void
made_clear (Made *made)
{
  g_clear_pointer (&made->stored, g_ptr_array_unref);
  g_clear_pointer (&made->created, g_array_unref);
}

/* Creates RESOURCE unless one with its first identifier exists; validates it as the /fhir API
 * would. */
static WzStoredResource *
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

/* Withdraws what this request made when a later step failed, so a failed request leaves nothing
 * half made; a retry with the same identifier starts again. */
static void
undo (WzFollowupRoutes *self,
      Made             *made)
{
  for (guint i = made->stored->len; i > 0; i--)
    {
      WzStoredResource *stored = g_ptr_array_index (made->stored, i - 1);
      g_autoptr(WzStoredResource) retired = NULL;
      g_autoptr(GError) error = NULL;

      if (!g_array_index (made->created, gboolean, i - 1))
        continue;
      retired = wz_store_retire (self->store, stored->type, stored->id, stored->version_id, &error);
      if (retired == NULL)
        g_warning ("Could not withdraw %s/%s after a failed request: %s", stored->type,
                   stored->id, error->message);
    }
}

static gboolean
create_all (WzFollowupRoutes  *self,
            GPtrArray         *resources,
            Made              *made,
            GError           **error)
{
  for (guint i = 0; i < resources->len; i++)
    {
      gboolean created = FALSE;
      WzStoredResource *stored = create_once (self, g_ptr_array_index (resources, i), &created,
                                              error);

      if (stored == NULL)
        return FALSE;
      g_ptr_array_add (made->stored, stored);
      g_array_append_val (made->created, created);
    }
  return TRUE;
}

/* Answers with a Bundle of what was made (201) or found (200), audits one row per resource and
 * tells the websocket hub about the new ones. */
static void
respond_made (Request    *req,
              Made       *made,
              const char *patient)
{
  g_autoptr(WzBundleBuilder) bundle = wz_bundle_builder_new ("collection", -1);
  g_autofree char *base = wz_http_base_url (req->msg);
  g_autofree char *location = NULL;
  g_autoptr(GBytes) body = NULL;
  gboolean first_created = made->created->len > 0 && g_array_index (made->created, gboolean, 0);
  WzStoredResource *first = g_ptr_array_index (made->stored, 0);

  for (guint i = 0; i < made->stored->len; i++)
    {
      WzStoredResource *stored = g_ptr_array_index (made->stored, i);
      g_autofree char *full_url = g_strdup_printf ("%s/fhir/%s/%s", base, stored->type, stored->id);

      wz_bundle_builder_add_entry (bundle, full_url, stored->json, NULL, NULL, NULL);
      if (i > 0 && g_array_index (made->created, gboolean, i))
        {
          g_autofree char *entity = g_strconcat (stored->type, "/", stored->id, NULL);

          wz_audit_record (req->self->audit, "C", "0", req->agent, entity, patient,
                           soup_server_message_get_remote_host (req->msg), NULL, NULL);
        }
      if (g_array_index (made->created, gboolean, i) && req->self->hub != NULL)
        wz_ws_hub_publish (req->self->hub, stored, NULL);
    }

  body = wz_bundle_builder_end (g_steal_pointer (&bundle));
  wz_http_respond_json (req->msg, first_created ? SOUP_STATUS_CREATED : SOUP_STATUS_OK, body);
  location = g_strdup_printf ("%s/fhir/%s/%s/_history/%" G_GINT64_FORMAT, base, first->type,
                              first->id, first->version_id);
  soup_message_headers_replace (soup_server_message_get_response_headers (req->msg), "Location",
                                location);
  {
    g_autofree char *entity = g_strconcat (first->type, "/", first->id, NULL);

    audit_and_send (req, first_created ? "C" : "R", entity, patient);
  }
}

/* ---- POST /fhir/CarePlan/$apply-template --------------------------------------------------- */

static gboolean
stored_mentions (WzStoredResource *stored,
                 const char       *template_id)
{
  g_autofree char *uri = g_strdup_printf ("\"%s%s\"", WZ_CAREPLAN_TEMPLATE_URI, template_id);
  gsize length;
  const char *data = g_bytes_get_data (stored->json, &length);

  return g_strstr_len (data, length, uri) != NULL;
}

typedef struct
{
  const char *template_id;
  const char *patient;
  const char *start;
  const char *identifier;
  const char *end;
  GPtrArray  *conditions;
  gboolean    include_optional;
  const char *language;
} ApplyParams;

static const char *
param_string (JsonObject *parameter,
              const char *const *kinds)
{
  for (guint i = 0; kinds[i] != NULL; i++)
    {
      JsonNode *node = json_object_get_member (parameter, kinds[i]);

      if (node == NULL)
        continue;
      if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
        return json_node_get_string (node);
      if (JSON_NODE_HOLDS_OBJECT (node))
        {
          JsonObject *object = json_node_get_object (node);
          const char *inner = json_object_get_string_member_with_default (object, "reference",
                                                                          NULL);

          return inner ? inner : json_object_get_string_member_with_default (object, "value",
                                                                             NULL);
        }
    }
  return NULL;
}

static gboolean
read_apply_params (JsonObject   *body,
                   ApplyParams  *params,
                   GError      **error)
{
  JsonArray *list;

  if (g_strcmp0 (json_object_get_string_member_with_default (body, "resourceType", ""),
                 "Parameters") != 0 ||
      !json_object_has_member (body, "parameter") ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (body, "parameter")))
    {
      g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INVALID,
                           "The body must be a Parameters resource with a parameter array");
      return FALSE;
    }
  list = json_object_get_array_member (body, "parameter");
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonNode *node = json_array_get_element (list, i);
      JsonObject *parameter = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      const char *name = parameter ? json_object_get_string_member_with_default (parameter, "name",
                                                                                  NULL) : NULL;
      const char *text;

      if (name == NULL)
        {
          g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "parameter[%u] has no name", i);
          return FALSE;
        }
      text = param_string (parameter, (const char *[]) { "valueString", "valueCode", "valueDate",
                                                          "valueUri", "valueReference",
                                                          "valueIdentifier", NULL });
      if (strcmp (name, "template") == 0)
        params->template_id = text;
      else if (strcmp (name, "patient") == 0)
        params->patient = text;
      else if (strcmp (name, "start") == 0)
        params->start = text;
      else if (strcmp (name, "identifier") == 0)
        params->identifier = text;
      else if (strcmp (name, "end") == 0)
        params->end = text;
      else if (strcmp (name, "language") == 0)
        params->language = text;
      else if (strcmp (name, "condition") == 0 && text != NULL)
        g_ptr_array_add (params->conditions, (gpointer) text);
      else if (strcmp (name, "includeOptional") == 0)
        {
          JsonNode *value = json_object_get_member (parameter, "valueBoolean");

          if (value == NULL || !JSON_NODE_HOLDS_VALUE (value) ||
              json_node_get_value_type (value) != G_TYPE_BOOLEAN)
            {
              g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INVALID,
                                   "includeOptional takes valueBoolean");
              return FALSE;
            }
          params->include_optional = json_node_get_boolean (value);
          continue;
        }
      else
        {
          g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "parameter “%s” is not one of template, "
                       "patient, start, identifier, end, condition, includeOptional, language",
                       name);
          return FALSE;
        }
      if (text == NULL)
        {
          g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "parameter “%s” has no value", name);
          return FALSE;
        }
    }

  if (params->template_id == NULL || params->patient == NULL || params->identifier == NULL)
    {
      g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INVALID,
                           "template, patient and identifier are required");
      return FALSE;
    }
  return TRUE;
}

/* ICD-10 codes of the patient's active Conditions, for the target variants. */
static gboolean
patient_conditions (WzFollowupRoutes  *self,
                    const char        *patient_ref,
                    GPtrArray         *codes,
                    GPtrArray         *owned,
                    GError           **error)
{
  g_autofree char *escaped = g_uri_escape_string (patient_ref, NULL, FALSE);
  g_autofree char *text = g_strdup_printf ("patient=%s&clinical-status=active", escaped);
  g_autoptr(JsonNode) conditions = search_all (self, "Condition", text, error);
  JsonArray *array;

  if (conditions == NULL)
    return FALSE;
  array = json_node_get_array (conditions);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *condition = json_array_get_object_element (array, i);
      JsonNode *code = json_object_get_member (condition, "code");
      JsonNode *codings = code && JSON_NODE_HOLDS_OBJECT (code)
                          ? json_object_get_member (json_node_get_object (code), "coding") : NULL;

      for (guint c = 0; codings && JSON_NODE_HOLDS_ARRAY (codings) &&
                        c < json_array_get_length (json_node_get_array (codings)); c++)
        {
          JsonNode *coding = json_array_get_element (json_node_get_array (codings), c);
          const char *value = JSON_NODE_HOLDS_OBJECT (coding)
                              ? json_object_get_string_member_with_default (json_node_get_object (coding),
                                                                            "code", NULL) : NULL;

          if (value != NULL)
            {
              char *copy = g_strdup (value);

              g_ptr_array_add (owned, copy);
              g_ptr_array_add (codes, copy);
            }
        }
    }
  return TRUE;
}

static void
handle_apply_template (Request *req)
{
  WzFollowupRoutes *self = req->self;
  g_autoptr(JsonNode) body = NULL;
  g_autoptr(JsonNode) patient = NULL;
  g_autoptr(GPtrArray) conditions = g_ptr_array_new ();
  g_autoptr(GPtrArray) owned = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GTimeZone) tz = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(WzCareplanInstance) instance = NULL;
  g_autofree char *patient_ref = NULL;
  g_autofree char *authored = wz_time_format_instant (wz_time_now_us ());
  g_autofree char *created_text = NULL;
  ApplyParams params = { NULL, };
  WzCareplanRequest request = { NULL, };
  WzCareplanTemplate *template;
  Made made = { g_ptr_array_new_with_free_func ((GDestroyNotify) wz_stored_resource_free),
                g_array_new (FALSE, FALSE, sizeof (gboolean)) };
  const char *zone, *birth_text, *patient_id;
  WzDay created;

  params.conditions = conditions;
  if (!is_doctor (req->session))
    {
      fail_with (req, WZ_ERROR_FORBIDDEN, "C", "CarePlan", "Only a doctor makes a care plan");
      goto out;
    }
  if (self->templates == NULL)
    {
      fail_with (req, WZ_ERROR_UNAVAILABLE, "C", "CarePlan", self->templates_problem);
      goto out;
    }
  if ((body = parse_body (req, &error)) == NULL ||
      !read_apply_params (json_node_get_object (body), &params, &error))
    {
      fail (req, error, "C", "CarePlan", NULL);
      goto out;
    }

  patient_id = g_str_has_prefix (params.patient, "Patient/") ? params.patient + 8 : params.patient;
  patient_ref = g_strconcat ("Patient/", patient_id, NULL);
  if ((template = wz_careplan_template_find (self->templates, params.template_id)) == NULL)
    {
      g_set_error (&error, WZ_ERROR, WZ_ERROR_INVALID, "There is no care-plan template “%s”",
                   params.template_id);
      fail (req, error, "C", "CarePlan", NULL);
      goto out;
    }
  if ((patient = read_patient_for (req, patient_id, &error)) == NULL ||
      (tz = request_zone (req, json_node_get_object (patient), &zone, &error)) == NULL)
    {
      fail (req, error, "C", "CarePlan", patient_ref);
      goto out;
    }

  created = wz_day_today (tz, wz_time_now_us ());
  created_text = wz_day_format (created);
  birth_text = json_object_get_string_member_with_default (json_node_get_object (patient),
                                                           "birthDate", NULL);
  request.patient_ref = patient_ref;
  request.author_ref = req->agent;
  request.identifier = params.identifier;
  request.created = created;
  request.include_optional = params.include_optional;
  request.authored_on = authored;
  request.lang = wz_lang_normalize (params.language ? params.language : request_lang (req));
  request.age_years = birth_text ? wz_age_years (birth_text, created_text, NULL) : -1;

  if (params.start != NULL)
    {
      if (!wz_day_parse (params.start, &request.anchor))
        g_set_error (&error, WZ_ERROR, WZ_ERROR_INVALID, "start “%s” is not YYYY-MM-DD",
                     params.start);
    }
  else if (strcmp (wz_careplan_template_get_anchor (template), "birth_date") == 0 &&
           birth_text != NULL)
    wz_day_parse (birth_text, &request.anchor);
  else if (strcmp (wz_careplan_template_get_anchor (template), "plan_start") == 0)
    request.anchor = created;
  else
    g_set_error (&error, WZ_ERROR, WZ_ERROR_INVALID, "start is required for “%s” (the %s)",
                 params.template_id, wz_careplan_template_get_anchor (template));
  if (error == NULL && params.end != NULL && !wz_day_parse (params.end, &request.end))
    g_set_error (&error, WZ_ERROR, WZ_ERROR_INVALID, "end “%s” is not YYYY-MM-DD", params.end);
  if (error == NULL && conditions->len == 0 &&
      !patient_conditions (self, patient_ref, conditions, owned, &error))
    g_prefix_error (&error, "Reading the patient's conditions: ");
  if (error != NULL)
    {
      fail (req, error, "C", "CarePlan", patient_ref);
      goto out;
    }
  g_ptr_array_add (conditions, NULL);
  request.conditions = (const char * const *) conditions->pdata;

  if ((instance = wz_careplan_template_instantiate (template, &request, &error)) == NULL ||
      !wz_care_team_may_write (self->care_team, req->session,
                               json_node_get_object (instance->careplan), NULL, &error))
    {
      fail (req, error, "C", "CarePlan", patient_ref);
      goto out;
    }

  {
    g_autoptr(GPtrArray) first = g_ptr_array_new ();
    WzStoredResource *plan;
    g_autofree char *plan_ref = NULL;

    g_ptr_array_add (first, instance->careplan);
    if (!create_all (self, first, &made, &error))
      {
        fail (req, error, "C", "CarePlan", patient_ref);
        goto out;
      }
    plan = g_ptr_array_index (made.stored, 0);
    /* The identifier is the request's: a plan it already made for someone else, or from another
     * template, is a client bug, not a retry. */
    if (!g_array_index (made.created, gboolean, 0) &&
        (g_strcmp0 (plan->patient, patient_ref) != 0 ||
         !stored_mentions (plan, params.template_id)))
      {
        g_set_error (&error, WZ_ERROR, WZ_ERROR_CONFLICT, "The identifier %s already names "
                     "CarePlan/%s, made for another patient or template", params.identifier,
                     plan->id);
        fail (req, error, "C", "CarePlan", patient_ref);
        goto out;
      }
    plan_ref = g_strconcat ("CarePlan/", plan->id, NULL);
    wz_careplan_instance_set_plan (instance, plan_ref);
  }

  if (!create_all (self, instance->tasks, &made, &error))
    {
      undo (self, &made);
      g_prefix_error (&error, "The plan was not made: ");
      fail (req, error, "C", "CarePlan", patient_ref);
      goto out;
    }

  respond_made (req, &made, patient_ref);

out:
  made_clear (&made);
}

/* ---- GET /fhir/Patient/ID/$vaccination-schedule -------------------------------------------- */

static void
handle_vaccination_schedule (Request    *req,
                             const char *patient_id)
{
  WzFollowupRoutes *self = req->self;
  g_autofree char *patient_ref = g_strconcat ("Patient/", patient_id, NULL);
  g_autofree char *entity = g_strconcat (patient_ref, "/$vaccination-schedule", NULL);
  g_autofree char *escaped = g_uri_escape_string (patient_ref, NULL, FALSE);
  g_autofree char *search = g_strconcat ("patient=", escaped, NULL);
  g_autofree char *now = NULL;
  g_autoptr(JsonNode) patient = NULL;
  g_autoptr(JsonNode) immunizations = NULL;
  g_autoptr(WzNipHistory) history = NULL;
  g_autoptr(WzNipForecast) forecast = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GTimeZone) tz = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) prefer = NULL;
  const char *zone, *birth_text;
  WzDay today, birth;

  if (self->schedule == NULL)
    {
      fail_with (req, WZ_ERROR_UNAVAILABLE, "R", entity, self->schedule_problem);
      return;
    }
  if ((patient = read_patient_for (req, patient_id, &error)) == NULL ||
      (tz = request_zone (req, json_node_get_object (patient), &zone, &error)) == NULL ||
      !request_today (req, tz, &today, &error))
    {
      fail (req, error, "R", entity, NULL);
      return;
    }
  birth_text = json_object_get_string_member_with_default (json_node_get_object (patient),
                                                           "birthDate", NULL);
  if (birth_text == NULL || !wz_day_parse (birth_text, &birth))
    {
      fail_with (req, WZ_ERROR_UNPROCESSABLE, "R", entity,
                 "The patient's birth date (YYYY-MM-DD) is needed to compute the schedule");
      return;
    }

  if ((immunizations = search_all (self, "Immunization", search, &error)) == NULL)
    {
      fail (req, error, "R", entity, patient_ref);
      return;
    }
  history = wz_nip_history_from_json (self->schedule, immunizations, tz);
  for (guint i = 0; i < history->skipped->len; i++)
    g_info ("%s: %s", patient_ref, (char *) g_ptr_array_index (history->skipped, i));
  if (query_param (req, "prefer") != NULL)
    prefer = g_strsplit (query_param (req, "prefer"), ",", -1);

  forecast = wz_nip_schedule_compute (self->schedule, birth, today,
                                      (WzNipDose *) history->doses->data, history->doses->len,
                                      (const char * const *) prefer, &error);
  if (forecast == NULL)
    {
      g_prefix_error (&error, "The schedule cannot be computed: ");
      if (error->code == WZ_ERROR_INVALID)
        error->code = WZ_ERROR_UNPROCESSABLE;
      fail (req, error, "R", entity, patient_ref);
      return;
    }

  now = wz_time_format_instant (wz_time_now_us ());
  body = wz_nip_forecast_to_fhir (self->schedule, forecast, patient_ref, now, request_lang (req));
  wz_http_respond_json (req->msg, SOUP_STATUS_OK, body);
  audit_and_send (req, "R", entity, patient_ref);
}

/* ---- POST /fhir/Immunization/ID/$reaction-followup ----------------------------------------- */

static void
handle_reaction_followup (Request    *req,
                          const char *immunization_id)
{
  WzFollowupRoutes *self = req->self;
  g_autofree char *immunization_ref = g_strconcat ("Immunization/", immunization_id, NULL);
  g_autofree char *authored = wz_time_format_instant (wz_time_now_us ());
  g_autoptr(WzStoredResource) stored = NULL;
  g_autoptr(JsonNode) immunization = NULL;
  g_autoptr(WzNipHistory) history = NULL;
  g_autoptr(GPtrArray) tasks = NULL;
  g_autoptr(GTimeZone) tz = NULL;
  g_autoptr(GError) error = NULL;
  Made made = { g_ptr_array_new_with_free_func ((GDestroyNotify) wz_stored_resource_free),
                g_array_new (FALSE, FALSE, sizeof (gboolean)) };
  const WzNipDose *dose;
  const char *zone;

  if (!is_doctor (req->session))
    {
      fail_with (req, WZ_ERROR_FORBIDDEN, "C", "Task", "Only a doctor plans reaction follow-up");
      goto out;
    }
  if (self->schedule == NULL)
    {
      fail_with (req, WZ_ERROR_UNAVAILABLE, "C", "Task", self->schedule_problem);
      goto out;
    }
  if ((immunization = read_resource (self, "Immunization", immunization_id, &stored,
                                     &error)) == NULL)
    {
      fail (req, error, "C", "Task", NULL);
      goto out;
    }
  if (!wz_care_team_may_see_stored (self->care_team, req->session, stored, &error))
    {
      /* Another patient's dose answers as if it did not exist. */
      if (error == NULL)
        g_set_error (&error, WZ_ERROR, WZ_ERROR_NOT_FOUND, "%s is not known", immunization_ref);
      fail (req, error, "C", "Task", NULL);
      goto out;
    }
  if ((tz = request_zone (req, NULL, &zone, &error)) == NULL)
    {
      fail (req, error, "C", "Task", NULL);
      goto out;
    }

  history = wz_nip_history_from_json (self->schedule, immunization, tz);
  if (history->doses->len != 1 || stored->patient == NULL)
    {
      fail_with (req, WZ_ERROR_UNPROCESSABLE, "C", "Task",
                 "The Immunization must be a completed programme vaccine dose with a patient "
                 "and a date");
      goto out;
    }
  dose = &g_array_index (history->doses, WzNipDose, 0);
  tasks = wz_nip_reaction_tasks (self->schedule, dose->vaccine, dose->date, immunization_ref,
                                 stored->patient, req->agent, authored, request_lang (req));
  if (tasks->len == 0)
    {
      fail_with (req, WZ_ERROR_UNPROCESSABLE, "C", "Task",
                 "The schedule names no reaction follow-up for this vaccine");
      goto out;
    }
  if (!create_all (self, tasks, &made, &error))
    {
      undo (self, &made);
      fail (req, error, "C", "Task", stored->patient);
      goto out;
    }
  respond_made (req, &made, stored->patient);

out:
  made_clear (&made);
}

/* ---- Operations under /fhir ---------------------------------------------------------------- */

/* The generic FHIR handler owns /fhir and libsoup picks handlers by path prefix, so operations
 * on instances (Patient/ID/$vaccination-schedule) cannot get a handler of their own;
 * "request-read" runs before any handler, and an answer set here never reaches the generic one. */
static void
on_request_read (SoupServer        *server,
                 SoupServerMessage *msg,
                 WzFollowupRoutes  *self)
{
  const char *path = g_uri_get_path (soup_server_message_get_uri (msg));
  const char *method = soup_server_message_get_method (msg);
  const char *query_string = g_uri_get_query (soup_server_message_get_uri (msg));
  g_autoptr(GHashTable) query = NULL;
  g_auto(GStrv) parts = NULL;
  Request req = { self, msg, NULL, NULL, NULL };
  const char *allow = NULL;
  guint n;

  if (!g_str_has_prefix (path, "/fhir/") || strchr (path, '$') == NULL ||
      soup_server_message_get_status (msg) != 0)
    return;
  parts = g_strsplit (path + 6, "/", 4);
  n = g_strv_length (parts);

  if (n == 2 && strcmp (parts[0], "CarePlan") == 0 && strcmp (parts[1], "$apply-template") == 0)
    allow = "POST";
  else if (n == 3 && strcmp (parts[0], "Patient") == 0 &&
           strcmp (parts[2], "$vaccination-schedule") == 0)
    allow = "GET";
  else if (n == 3 && strcmp (parts[0], "Immunization") == 0 &&
           strcmp (parts[2], "$reaction-followup") == 0)
    allow = "POST";
  else
    return;

  if (strcmp (method, allow) != 0)
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow",
                                    allow);
      wz_http_respond_problem (msg, WZ_ERROR_METHOD_NOT_ALLOWED, "%s %s is not supported; use %s",
                               method, path, allow);
      return;
    }
  if (n == 3 && !wz_fhir_id_is_valid (parts[1]))
    {
      wz_http_respond_problem (msg, WZ_ERROR_INVALID, "“%s” is not a valid id", parts[1]);
      return;
    }
  if (!authenticate (&req))
    return;
  if (query_string != NULL)
    query = soup_form_decode (query_string);
  req.query = query;

  if (n == 2)
    handle_apply_template (&req);
  else if (strcmp (parts[0], "Patient") == 0)
    handle_vaccination_schedule (&req, parts[1]);
  else
    handle_reaction_followup (&req, parts[1]);

  g_free (req.agent);
}

/* ---- Set-up ------------------------------------------------------------------------------- */

static void
wz_followup_routes_dispose (GObject *object)
{
  WzFollowupRoutes *self = WZ_FOLLOWUP_ROUTES (object);

  g_clear_handle_id (&self->warm_source, g_source_remove);
  g_queue_clear_full (&self->waiting, (GDestroyNotify) waiting_free);
  g_clear_object (&self->store);
  g_clear_object (&self->auth);
  g_clear_object (&self->audit);
  g_clear_object (&self->care_team);
  g_clear_object (&self->hub);
  g_clear_object (&self->schedule);
  g_clear_object (&self->view);
  g_clear_pointer (&self->templates, g_ptr_array_unref);

  G_OBJECT_CLASS (wz_followup_routes_parent_class)->dispose (object);
}

static void
wz_followup_routes_finalize (GObject *object)
{
  WzFollowupRoutes *self = WZ_FOLLOWUP_ROUTES (object);

  g_free (self->schedule_problem);
  g_free (self->templates_problem);

  G_OBJECT_CLASS (wz_followup_routes_parent_class)->finalize (object);
}

static void
wz_followup_routes_class_init (WzFollowupRoutesClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = wz_followup_routes_dispose;
  object_class->finalize = wz_followup_routes_finalize;
}

static void
wz_followup_routes_init (WzFollowupRoutes *self)
{
}

void
wz_followup_routes_setup (SoupServer *server,
                          WzStore    *store,
                          WzAuth     *auth,
                          WzAudit    *audit,
                          WzCareTeam *care_team,
                          WzWsHub    *hub)
{
  g_autoptr(WzFollowupRoutes) self = g_object_new (WZ_TYPE_FOLLOWUP_ROUTES, NULL);
  g_autofree char *data_dir = wz_static_data_dir ();
  g_autofree char *schedule_path = g_build_filename (data_dir, "clinical", "nip-schedule.json",
                                                     NULL);
  g_autofree char *templates_path = g_build_filename (data_dir, "clinical",
                                                      "followup-templates.json", NULL);
  g_autoptr(GError) error = NULL;

  self->store = g_object_ref (store);
  self->auth = g_object_ref (auth);
  self->audit = g_object_ref (audit);
  self->care_team = g_object_ref (care_team);
  self->hub = hub ? g_object_ref (hub) : NULL;

  /* A broken data file disables its features with a clear answer; the rest of the server
   * keeps working. */
  if ((self->schedule = wz_nip_schedule_new_from_file (schedule_path, &error)) == NULL)
    {
      g_warning ("Vaccination features are off: %s", error->message);
      self->schedule_problem = g_strdup_printf ("The vaccination schedule could not be loaded: %s",
                                                error->message);
      g_clear_error (&error);
    }
  if ((self->templates = wz_careplan_template_load_file (templates_path, &error)) == NULL)
    {
      g_warning ("Care-plan templates are off: %s", error->message);
      self->templates_problem = g_strdup_printf ("The care-plan templates could not be loaded: %s",
                                                 error->message);
      g_clear_error (&error);
    }

  wz_http_limit_body (server, "/followup", MAX_BODY);
  soup_server_add_handler (server, "/followup", followup_handler, g_object_ref (self),
                           g_object_unref);
  g_signal_connect_object (server, "request-read", G_CALLBACK (on_request_read), self, 0);
  start_warm_up (self);
  g_object_set_data_full (G_OBJECT (server), "wz-followup-routes", g_steal_pointer (&self),
                          g_object_unref);
}
