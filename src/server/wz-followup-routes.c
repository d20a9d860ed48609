/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-followup-routes"

#include "config.h"

#include "wz-followup-routes-private.h"

G_DEFINE_FINAL_TYPE (WzFollowupRoutes, wz_followup_routes, G_TYPE_OBJECT)

/* ---- /followup ---------------------------------------------------------------------------- */

static void
handle_worklist (Request *req)
{
  WzFollowupRoutes *self = req->self;
  g_autoptr(GTimeZone) tz = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autofree char *entity = NULL;
  const char *zone = NULL;
  const char *count_text = query_param (req, "_count");
  const char *offset_text = query_param (req, "_offset");
  guint64 count = WORKLIST_PAGE, offset = 0;
  WzDay today;
  char buf[16];

  if (!is_doctor (req->session))
    {
      fail_with (req, WZ_ERROR_FORBIDDEN, "E", "followup/worklist",
                 "The follow-up worklist is a doctor's");
      return;
    }
  if ((count_text != NULL &&
       !g_ascii_string_to_unsigned (count_text, 10, 1, WORKLIST_MAX_PAGE, &count, NULL)) ||
      (offset_text != NULL &&
       !g_ascii_string_to_unsigned (offset_text, 10, 0, G_MAXINT32, &offset, NULL)))
    {
      fail_with (req, WZ_ERROR_INVALID, "E", "followup/worklist",
                 "_count must be a whole number from 1 to 500 and _offset one from 0");
      return;
    }
  if ((tz = request_zone (req, NULL, &zone, &error)) == NULL ||
      !request_today (req, tz, &today, &error))
    {
      fail (req, error, "E", "followup/worklist", NULL);
      return;
    }

  body = wz_followup_worklist_build (self->store, req->agent, today, zone, request_lang (req),
                                     count, offset, &error);
  if (body == NULL)
    {
      fail (req, error, "E", "followup/worklist", NULL);
      return;
    }
  respond_plain_json (req->msg, body);
  entity = g_strconcat ("followup/worklist?date=", wz_day_format_buf (today, buf), NULL);
  audit_and_send (req, "E", entity, NULL);
}

static void handle_reading       (Request *req);
static void handle_reminders     (Request *req);
static void handle_checkin       (Request *req);
static void handle_prescriptions (Request *req);
static void handle_renewal       (Request *req);
static void handle_confirm       (Request *req);

typedef struct
{
  const char *path;
  const char *method;
  void      (*handle) (Request *req);
} MeRoute;

/* The patient's own pages, for the patient web page's records module. */
static const MeRoute me_routes[] = {
  { "/followup/me/reminders", "GET", handle_reminders },
  { "/followup/me/readings", "POST", handle_reading },
  { "/followup/me/checkin", "POST", handle_checkin },
  { "/followup/me/prescriptions", "GET", handle_prescriptions },
  { "/followup/me/renewal", "POST", handle_renewal },
  { "/followup/me/vaccinations", "GET", handle_vaccinations },
  { "/followup/me/screening", "POST", handle_me_screening },
  { "/followup/me/reaction", "POST", handle_reaction },
  { "/followup/me/confirm", "POST", handle_confirm },
};

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

  for (guint i = 0; i < G_N_ELEMENTS (me_routes); i++)
    if (strcmp (path, me_routes[i].path) == 0)
      {
        if (strcmp (method, me_routes[i].method) == 0)
          me_routes[i].handle (&req);
        else
          {
            soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow",
                                          me_routes[i].method);
            wz_http_respond_problem (msg, WZ_ERROR_METHOD_NOT_ALLOWED,
                                     "%s is not supported on %s", method, path);
          }
        g_free (req.agent);
        return;
      }

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

/* ---- After a write: alerts and reactions ---------------------------------------------------- */

/* Announces and audits what the server wrote on its own account (Flags, queue visits). */
void
publish_written (WzFollowupRoutes *self,
                 GPtrArray        *written,
                 const char       *peer)
{
  for (guint i = 0; i < written->len; i++)
    {
      WzStoredResource *stored = g_ptr_array_index (written, i);
      g_autofree char *entity = g_strconcat (stored->type, "/", stored->id, NULL);
      g_autofree char *encounter = NULL;

      wz_audit_record (self->audit, stored->version_id == 1 ? "C" : "U", "0",
                       "wenzhen-server/followup", entity, stored->patient, peer, NULL, NULL);
      if (self->hub != NULL)
        {
          encounter = wz_care_team_encounter_of_stored (stored);
          wz_ws_hub_publish (self->hub, stored, encounter);
        }
    }
}

/* The doctor a reaction is for: who recorded it, else who gave the dose, else the patient's own
 * doctor. */
static char *
reaction_doctor (WzFollowupRoutes *self,
                 JsonObject       *event)
{
  const char *recorder = wz_json_get_reference (event, "recorder");
  g_auto(GStrv) suspects = wz_adverse_event_suspects (event);
  const char *subject = wz_json_get_reference (event, "subject");

  if (recorder != NULL && g_str_has_prefix (recorder, "Practitioner/"))
    return g_strdup (recorder);
  for (guint i = 0; suspects[i] != NULL; i++)
    {
      g_autoptr(JsonNode) immunization = read_resource (self, "Immunization",
                                                        suspects[i] + strlen ("Immunization/"),
                                                        NULL, NULL);
      JsonArray *performers = immunization
                              ? wz_json_get_array (json_node_get_object (immunization), "performer")
                              : NULL;

      for (guint p = 0; performers != NULL && p < json_array_get_length (performers); p++)
        {
          JsonNode *node = json_array_get_element (performers, p);
          const char *actor = JSON_NODE_HOLDS_OBJECT (node)
                              ? wz_json_get_string (wz_json_get_object (json_node_get_object (node),
                                                                        "actor"), "reference")
                              : NULL;

          if (actor != NULL && g_str_has_prefix (actor, "Practitioner/"))
            return g_strdup (actor);
        }
    }
  if (subject != NULL && g_str_has_prefix (subject, "Patient/"))
    {
      g_autoptr(JsonNode) patient = read_resource (self, "Patient", subject + strlen ("Patient/"),
                                                   NULL, NULL);
      JsonArray *doctors = patient ? wz_json_get_array (json_node_get_object (patient),
                                                        "generalPractitioner") : NULL;

      for (guint i = 0; doctors != NULL && i < json_array_get_length (doctors); i++)
        {
          JsonNode *node = json_array_get_element (doctors, i);
          const char *ref = JSON_NODE_HOLDS_OBJECT (node)
                            ? wz_json_get_string (json_node_get_object (node), "reference") : NULL;

          if (ref != NULL && g_str_has_prefix (ref, "Practitioner/"))
            return g_strdup (ref);
        }
    }
  return NULL;
}

/* What follows a new resource, wherever it came from: a reading is judged against the plan
 * targets, a serious reaction alerts its doctor. Failures are logged; the write stands. */
void
after_write (WzFollowupRoutes *self,
             WzStoredResource *stored,
             const char       *peer)
{
  g_autoptr(GPtrArray) written = NULL;
  g_autoptr(GError) error = NULL;

  if (stored->version_id != 1)
    return;
  if (strcmp (stored->type, "Observation") == 0)
    written = wz_followup_alerts_judge (self->store, stored, &error);
  else if (strcmp (stored->type, "AdverseEvent") == 0)
    {
      g_autoptr(JsonNode) root = parse_stored (stored, NULL);
      JsonObject *event = root ? json_node_get_object (root) : NULL;
      g_autofree char *doctor = NULL;
      g_autofree char *ref = g_strconcat ("AdverseEvent/", stored->id, NULL);

      written = g_ptr_array_new_with_free_func ((GDestroyNotify) wz_stored_resource_free);
      if (event != NULL && wz_adverse_event_is_serious (event) &&
          (doctor = reaction_doctor (self, event)) != NULL)
        {
          g_autoptr(JsonNode) flag = wz_adverse_event_flag (event, ref, doctor);
          g_autofree char *system = g_uri_escape_string (WZ_FOLLOWUP_ALERT_ID_SYSTEM "|", NULL,
                                                         FALSE);
          g_autofree char *condition_text = g_strconcat ("identifier=", system, ref, NULL);
          g_autoptr(WzSearchQuery) condition = wz_search_query_parse ("Flag", condition_text,
                                                                      &error);
          gboolean created = FALSE;
          WzStoredResource *made = condition
                                   ? wz_store_create (self->store, json_node_get_object (flag),
                                                      condition, &created, &error)
                                   : NULL;

          if (made != NULL && created)
            g_ptr_array_add (written, made);
          else
            g_clear_pointer (&made, wz_stored_resource_free);
        }
    }
  else
    return;

  if (written == NULL)
    {
      g_warning ("%s/%s was stored, but its follow-up checks failed: %s", stored->type,
                 stored->id, error->message);
      return;
    }
  publish_written (self, written, peer);
}

static void
on_resource_written (GObject          *writer,
                     WzStoredResource *stored,
                     const char       *encounter,
                     WzFollowupRoutes *self)
{
  after_write (self, stored, NULL);
}

/* ---- Revisits into the queue ------------------------------------------------------------------ */

static gboolean
sweep (gpointer user_data)
{
  WzFollowupRoutes *self = user_data;
  g_autoptr(GTimeZone) tz = wz_followup_time_zone (default_zone (self));
  g_autoptr(GPtrArray) written = NULL;
  g_autoptr(GError) error = NULL;

  written = wz_followup_queue_sweep (self->store, wz_day_today (tz, wz_time_now_us ()), &error);
  if (written == NULL)
    g_warning ("Due revisits could not be put in the queue: %s", error->message);
  else
    publish_written (self, written, NULL);
  if (self->sweep_source == 0 || g_source_get_id (g_main_current_source ()) != self->sweep_source)
    return G_SOURCE_REMOVE;
  return G_SOURCE_CONTINUE;
}

/* ---- POST /followup/me/readings -------------------------------------------------------------- */

static void
add_quantity_component (JsonBuilder *builder,
                        const char  *loinc,
                        const char  *measurement,
                        double       value,
                        const char  *unit)
{
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "code");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "coding");
  json_builder_begin_array (builder);
  wz_json_add_coding (builder, WZ_FOLLOWUP_LOINC_SYSTEM, loinc, NULL);
  if (measurement != NULL)
    {
      wz_json_add_coding (builder, WZ_FOLLOWUP_MEASUREMENT_SYSTEM, measurement, NULL);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "valueQuantity");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "value");
  json_builder_add_double_value (builder, value);
  add_string_member (builder, "unit", unit);
  add_string_member (builder, "system", WZ_FOLLOWUP_UCUM_SYSTEM);
  add_string_member (builder, "code", unit);
  json_builder_end_object (builder);
  json_builder_end_object (builder);
}

static void
begin_observation (JsonBuilder *builder,
                   Request     *req,
                   const char  *identifier,
                   const char  *category,
                   const char  *effective)
{
  g_autofree char *patient = own_patient (req);
  g_autofree char *encounter = g_strconcat ("Encounter/", req->session->encounter_id, NULL);

  json_builder_begin_object (builder);
  add_string_member (builder, "resourceType", "Observation");
  wz_json_add_identifier (builder, "urn:ietf:rfc:3986", identifier);
  add_string_member (builder, "status", "final");
  json_builder_set_member_name (builder, "category");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "coding");
  json_builder_begin_array (builder);
  wz_json_add_coding (builder, "http://terminology.hl7.org/CodeSystem/observation-category",
                      category, NULL);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  wz_json_add_reference (builder, "subject", patient);
  wz_json_add_reference (builder, "encounter", encounter);
  json_builder_set_member_name (builder, "performer");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  add_string_member (builder, "reference", patient);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  add_string_member (builder, "effectiveDateTime", effective);
}

static void
set_code (JsonBuilder *builder,
          const char  *loinc,
          const char  *measurement,
          const char  *text)
{
  json_builder_set_member_name (builder, "code");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "coding");
  json_builder_begin_array (builder);
  if (loinc != NULL)
    {
      wz_json_add_coding (builder, WZ_FOLLOWUP_LOINC_SYSTEM, loinc, NULL);
    }
  if (measurement != NULL)
    {
      wz_json_add_coding (builder, WZ_FOLLOWUP_MEASUREMENT_SYSTEM, measurement, NULL);
    }
  json_builder_end_array (builder);
  add_string_member (builder, "text", text);
  json_builder_end_object (builder);
}

/* The Flags a reading raised, for the patient: level and text in their language. */
static JsonNode *
alerts_for_patient (GPtrArray  *written,
                    const char *lang)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_array (builder);
  for (guint i = 0; written != NULL && i < written->len; i++)
    {
      WzStoredResource *stored = g_ptr_array_index (written, i);
      g_autoptr(JsonNode) root = NULL;
      JsonObject *code;
      WzText text = { NULL, NULL };
      gboolean urgent;

      if (strcmp (stored->type, "Flag") != 0 || g_strcmp0 (stored->status, "active") != 0 ||
          (root = parse_stored (stored, NULL)) == NULL)
        continue;
      code = wz_json_get_object (json_node_get_object (root), "code");
      wz_json_get_text (code, "text", &text);
      urgent = g_strstr_len (g_bytes_get_data (stored->json, NULL),
                             g_bytes_get_size (stored->json),
                             WZ_FOLLOWUP_ALERT_SYSTEM "\",\"code\":\"urgent\"") != NULL;
      json_builder_begin_object (builder);
      add_string_member (builder, "level", urgent ? "urgent" : "out-of-range");
      add_string_member (builder, "text", wz_text_get (&text, lang));
      json_builder_end_object (builder);
      wz_text_clear (&text);
    }
  json_builder_end_array (builder);
  return json_builder_get_root (builder);
}

/* POST /followup/me/readings
 *   {"identifier":"urn:uuid:…","kind":"blood-pressure","systolic":150,"diastolic":95[,"pulse":72]}
 *   {"identifier","kind":"glucose","value":6.1,"timing":"fasting"|"after-meal"}
 *   {"identifier","kind":"weight","value":68.5}
 *   [,"effective":"2026-11-25T07:30:00+08:00"]  (default: now)
 * → 201 {"observation":"Observation/ID","alerts":[{"level":"urgent"|"out-of-range","text"}]}
 *   (200 with the same when the identifier was already used). */
static void
handle_reading (Request *req)
{
  WzFollowupRoutes *self = req->self;
  static const char *const allowed[] = { "identifier", "kind", "systolic", "diastolic", "pulse",
                                         "value", "timing", "effective", NULL };
  g_autoptr(JsonNode) body = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) observation = NULL;
  g_autoptr(WzStoredResource) stored = NULL;
  g_autoptr(GPtrArray) written = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *now = wz_time_format_instant (wz_time_now_us ());
  g_autofree char *patient = NULL;
  JsonObject *object;
  const char *identifier, *kind, *effective;
  gboolean created = FALSE;
  gint64 when;

  if ((body = own_post (req, allowed, "Observation", &patient, &object,
                        &identifier)) == NULL)
    return;
  kind = member_string (object, "kind");
  effective = member_string (object, "effective");
  if (effective == NULL)
    effective = now;
  else if (!wz_time_parse_instant (effective, &when, NULL) ||
           when > wz_time_now_us () + 10 * 60 * G_USEC_PER_SEC)
    {
      fail_with (req, WZ_ERROR_INVALID, "C", "Observation",
                 "“effective” must be a dateTime with a time zone, not in the future");
      return;
    }

  if (g_strcmp0 (kind, "blood-pressure") == 0)
    {
      double systolic, diastolic, pulse = 0;
      gboolean has_pulse = json_object_has_member (object, "pulse");

      if (!member_number (object, "systolic", 40, 300, &systolic, &error) ||
          !member_number (object, "diastolic", 20, 200, &diastolic, &error) ||
          (has_pulse && !member_number (object, "pulse", 20, 250, &pulse, &error)))
        {
          fail (req, error, "C", "Observation", patient);
          return;
        }
      if (diastolic >= systolic)
        {
          fail_with (req, WZ_ERROR_INVALID, "C", "Observation",
                     "The diastolic (lower) number must be below the systolic (upper) one");
          return;
        }
      begin_observation (builder, req, identifier, "vital-signs", effective);
      set_code (builder, "85354-9", NULL, "血压 Blood pressure");
      json_builder_set_member_name (builder, "component");
      json_builder_begin_array (builder);
      add_quantity_component (builder, "8480-6", "home_bp_systolic", systolic, "mm[Hg]");
      add_quantity_component (builder, "8462-4", "home_bp_diastolic", diastolic, "mm[Hg]");
      if (has_pulse)
        add_quantity_component (builder, "8867-4", "heart_rate", pulse, "/min");
      json_builder_end_array (builder);
    }
  else if (g_strcmp0 (kind, "glucose") == 0)
    {
      const char *timing = member_string (object, "timing");
      gboolean fasting = g_strcmp0 (timing, "fasting") == 0;
      double value;

      if (!member_number (object, "value", 0.5, 50, &value, &error))
        {
          fail (req, error, "C", "Observation", patient);
          return;
        }
      if (!fasting && g_strcmp0 (timing, "after-meal") != 0)
        {
          fail_with (req, WZ_ERROR_INVALID, "C", "Observation",
                     "“timing” must be fasting or after-meal");
          return;
        }
      begin_observation (builder, req, identifier, "vital-signs", effective);
      set_code (builder, fasting ? "1558-6" : "1521-4",
                fasting ? "fasting_glucose" : "postprandial_glucose",
                fasting ? "空腹血糖 Fasting glucose" : "餐后血糖 Glucose after a meal");
      json_builder_set_member_name (builder, "valueQuantity");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "value");
      json_builder_add_double_value (builder, value);
      add_string_member (builder, "unit", "mmol/L");
      add_string_member (builder, "system", WZ_FOLLOWUP_UCUM_SYSTEM);
      add_string_member (builder, "code", "mmol/L");
      json_builder_end_object (builder);
    }
  else if (g_strcmp0 (kind, "weight") == 0)
    {
      double value;

      if (!member_number (object, "value", 1, 400, &value, &error))
        {
          fail (req, error, "C", "Observation", patient);
          return;
        }
      begin_observation (builder, req, identifier, "vital-signs", effective);
      set_code (builder, "29463-7", "weight", "体重 Body weight");
      json_builder_set_member_name (builder, "valueQuantity");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "value");
      json_builder_add_double_value (builder, value);
      add_string_member (builder, "unit", "kg");
      add_string_member (builder, "system", WZ_FOLLOWUP_UCUM_SYSTEM);
      add_string_member (builder, "code", "kg");
      json_builder_end_object (builder);
    }
  else
    {
      fail_with (req, WZ_ERROR_INVALID, "C", "Observation",
                 "“kind” must be blood-pressure, glucose or weight");
      return;
    }
  json_builder_end_object (builder);
  observation = json_builder_get_root (builder);

  if ((stored = create_with_identifier (self, observation, &created, &error)) == NULL)
    {
      fail (req, error, "C", "Observation", patient);
      return;
    }
  if (created)
    {
      if (self->hub != NULL)
        {
          g_autofree char *encounter = g_strconcat ("Encounter/", req->session->encounter_id, NULL);

          wz_ws_hub_publish (self->hub, stored, encounter);
        }
      written = wz_followup_alerts_judge (self->store, stored, &error);
      if (written == NULL)
        g_warning ("Observation/%s was stored, but could not be judged: %s", stored->id,
                   error->message);
      else
        publish_written (self, written, soup_server_message_get_remote_host (req->msg));
    }
  else
    {
      /* A retry: the Flags the first attempt raised. */
      g_autofree char *text = g_strdup_printf ("patient=%s&status=active", patient);
      g_autoptr(GPtrArray) flags = wz_followup_search_stored (self->store, "Flag", text, NULL);
      g_autofree char *needle = g_strconcat ("Observation/", stored->id, "|", NULL);

      written = g_ptr_array_new_with_free_func ((GDestroyNotify) wz_stored_resource_free);
      for (guint i = 0; flags != NULL && i < flags->len; i++)
        {
          WzStoredResource *flag = g_ptr_array_index (flags, i);

          if (g_strstr_len (g_bytes_get_data (flag->json, NULL), g_bytes_get_size (flag->json),
                            needle) != NULL)
            g_ptr_array_add (written, g_ptr_array_steal_index (flags, i--));
        }
    }

  {
    g_autoptr(JsonBuilder) answer = json_builder_new ();
    g_autofree char *ref = g_strconcat ("Observation/", stored->id, NULL);

    json_builder_begin_object (answer);
    add_string_member (answer, "observation", ref);
    json_builder_set_member_name (answer, "alerts");
    json_builder_add_value (answer, alerts_for_patient (written, request_lang (req)));
    json_builder_end_object (answer);
    respond_written (req, answer, created, ref, patient);
  }
}

/* ---- GET /followup/me/reminders ---------------------------------------------------------------- */

static void
add_text_member (JsonBuilder *builder,
                 const char  *member,
                 JsonObject  *object,
                 const char  *field,
                 const char  *lang)
{
  WzText text = { NULL, NULL };

  wz_json_get_text (object, field, &text);
  json_builder_set_member_name (builder, member);
  if (wz_text_get (&text, lang) != NULL)
    json_builder_add_string_value (builder, wz_text_get (&text, lang));
  else
    json_builder_add_null_value (builder);
  wz_text_clear (&text);
}

static void
add_day_member (JsonBuilder *builder,
                const char  *member,
                WzDay        day)
{
  char buf[16];

  json_builder_set_member_name (builder, member);
  if (day != WZ_DAY_NONE)
    json_builder_add_string_value (builder, wz_day_format_buf (day, buf));
  else
    json_builder_add_null_value (builder);
}

/* The check-in questions of the plan a Task is based on. */
static void
add_checkin_questions (JsonBuilder *builder,
                       JsonObject  *plan,
                       const char  *lang)
{
  JsonArray *activities = wz_json_get_array (plan, "activity");

  json_builder_set_member_name (builder, "questions");
  json_builder_begin_array (builder);
  for (guint a = 0; activities != NULL && a < json_array_get_length (activities); a++)
    {
      JsonNode *node = json_array_get_element (activities, a);
      JsonObject *detail = JSON_NODE_HOLDS_OBJECT (node)
                           ? wz_json_get_object (json_node_get_object (node), "detail") : NULL;
      JsonArray *extensions = wz_json_get_array (detail, "extension");

      for (guint e = 0; extensions != NULL && e < json_array_get_length (extensions); e++)
        {
          JsonNode *ext_node = json_array_get_element (extensions, e);
          JsonObject *extension = JSON_NODE_HOLDS_OBJECT (ext_node) ? json_node_get_object (ext_node)
                                                                    : NULL;
          JsonArray *questions = wz_json_get_array (extension, "extension");

          if (g_strcmp0 (wz_json_get_string (extension, "url"),
                         WZ_CAREPLAN_QUESTIONS_EXTENSION) != 0)
            continue;
          for (guint q = 0; questions != NULL && q < json_array_get_length (questions); q++)
            {
              JsonNode *q_node = json_array_get_element (questions, q);
              JsonArray *parts = JSON_NODE_HOLDS_OBJECT (q_node)
                                 ? wz_json_get_array (json_node_get_object (q_node), "extension")
                                 : NULL;

              json_builder_begin_object (builder);
              for (guint p = 0; parts != NULL && p < json_array_get_length (parts); p++)
                {
                  JsonNode *p_node = json_array_get_element (parts, p);
                  JsonObject *part = JSON_NODE_HOLDS_OBJECT (p_node) ? json_node_get_object (p_node)
                                                                     : NULL;
                  const char *url = wz_json_get_string (part, "url");

                  if (g_strcmp0 (url, "id") == 0 || g_strcmp0 (url, "kind") == 0)
                    {
                      json_builder_set_member_name (builder, url);
                      json_builder_add_string_value (builder, wz_json_get_string (part, "valueCode")
                                                              ?: "");
                    }
                  else if (g_strcmp0 (url, "text") == 0)
                    add_text_member (builder, "text", part, "valueString", lang);
                }
              json_builder_end_object (builder);
            }
        }
    }
  json_builder_end_array (builder);
}

/* Upcoming within a week, due and overdue: revisits, measurements, check-ins, education, reaction
 * checks; programme vaccines due or overdue; medicines to renew. */
static void
handle_reminders (Request *req)
{
  WzFollowupRoutes *self = req->self;
  g_autofree char *patient_ref = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GPtrArray) tasks = NULL;
  g_autoptr(GHashTable) plans = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                       (GDestroyNotify) json_node_unref);
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) patient = NULL;
  g_autoptr(JsonNode) forecast = NULL;
  g_autoptr(GTimeZone) tz = NULL;
  g_autoptr(GError) error = NULL;
  const char *zone, *lang = request_lang (req);
  WzDay today;
  char horizon[16];

  if ((tz = own_read (req, "followup/me/reminders", &patient_ref, &patient, &zone, &today)) == NULL)
    return;
  text = g_strdup_printf ("patient=%s&status=" WZ_FOLLOWUP_ACTIONABLE ",in-progress&due-date=le%s"
                          "&_sort=due-date", patient_ref,
                          wz_day_format_buf (wz_day_add_days (today, 7), horizon));
  if ((tasks = wz_followup_search_stored (self->store, "Task", text, &error)) == NULL)
    {
      fail (req, error, "R", "followup/me/reminders", patient_ref);
      return;
    }

  json_builder_begin_object (builder);
  add_string_member (builder, "patient", patient_ref);
  add_day_member (builder, "date", today);
  json_builder_set_member_name (builder, "reminders");
  json_builder_begin_array (builder);
  for (guint i = 0; i < tasks->len; i++)
    {
      WzStoredResource *stored = g_ptr_array_index (tasks, i);
      g_autoptr(JsonNode) task_root = parse_stored (stored, NULL);
      JsonObject *task = task_root ? json_node_get_object (task_root) : NULL;
      JsonArray *codings = task ? wz_json_get_array (wz_json_get_object (task, "code"), "coding")
                                : NULL;
      JsonObject *period = wz_json_get_object (wz_json_get_object (task, "restriction"), "period");
      const char *kind = NULL, *measurement = NULL, *plan_ref;
      g_autofree char *task_ref = g_strconcat ("Task/", stored->id, NULL);
      g_autoptr(GTimeZone) utc = g_time_zone_new_utc ();
      WzDay due = WZ_DAY_NONE, end = WZ_DAY_NONE;
      JsonArray *extensions = wz_json_get_array (task, "extension");

      for (guint c = 0; codings != NULL && c < json_array_get_length (codings); c++)
        {
          JsonNode *node = json_array_get_element (codings, c);
          JsonObject *coding = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
          const char *system = wz_json_get_string (coding, "system");

          if (g_strcmp0 (system, WZ_FOLLOWUP_TASK_SYSTEM) == 0)
            kind = wz_json_get_string (coding, "code");
          else if (g_strcmp0 (system, WZ_FOLLOWUP_MEASUREMENT_SYSTEM) == 0)
            measurement = wz_json_get_string (coding, "code");
        }
      if (kind == NULL)
        continue;
      for (guint e = 0; extensions != NULL && e < json_array_get_length (extensions); e++)
        {
          JsonNode *node = json_array_get_element (extensions, e);
          JsonObject *extension = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;

          if (g_strcmp0 (wz_json_get_string (extension, "url"), WZ_FOLLOWUP_DUE_EXTENSION) == 0)
            wz_day_parse (wz_json_get_string (extension, "valueDate"), &due);
        }
      if (period != NULL)
        wz_day_parse_in_zone (wz_json_get_string (period, "end"), utc, &end);
      if (due == WZ_DAY_NONE)
        continue;

      json_builder_begin_object (builder);
      add_string_member (builder, "task", task_ref);
      add_string_member (builder, "kind", kind);
      add_text_member (builder, "title", wz_json_get_object (task, "code"), "text", lang);
      add_text_member (builder, "description", task, "description", lang);
      add_day_member (builder, "due", due);
      add_day_member (builder, "windowEnd", end != WZ_DAY_NONE ? end : due);
      json_builder_set_member_name (builder, "timing");
      json_builder_add_string_value (builder,
                                     strcmp (kind, "measurement") == 0 && due <= today ? "due"
                                     : wz_followup_timing_to_string (wz_followup_timing (due, end,
                                                                                         today)));
      if (measurement != NULL)
        {
          add_string_member (builder, "measurement", measurement);
        }
      if (wz_json_get_object (task, "encounter") != NULL)
        {
          json_builder_set_member_name (builder, "visit");
          json_builder_add_string_value (builder,
                                         wz_json_get_string (wz_json_get_object (task, "encounter"),
                                                             "reference"));
        }
      {
        JsonArray *based_on = wz_json_get_array (task, "basedOn");
        JsonNode *first = based_on && json_array_get_length (based_on) > 0
                          ? json_array_get_element (based_on, 0) : NULL;

        plan_ref = first && JSON_NODE_HOLDS_OBJECT (first)
                   ? wz_json_get_string (json_node_get_object (first), "reference") : NULL;
      }
      if (strcmp (kind, "adherence-checkin") == 0 && plan_ref != NULL &&
          g_str_has_prefix (plan_ref, "CarePlan/"))
        {
          JsonNode *plan = g_hash_table_lookup (plans, plan_ref);

          if (plan == NULL &&
              (plan = read_resource (self, "CarePlan", plan_ref + strlen ("CarePlan/"), NULL,
                                     NULL)) != NULL)
            g_hash_table_insert (plans, g_strdup (plan_ref), plan);
          if (plan != NULL)
            add_checkin_questions (builder, json_node_get_object (plan), lang);
        }
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  /* Programme vaccines due or overdue, for children with a birth date. */
  json_builder_set_member_name (builder, "vaccines");
  json_builder_begin_array (builder);
  if (self->schedule != NULL &&
      (forecast = vaccination_forecast (req, json_node_get_object (patient), tz, today, NULL,
                                        NULL)) != NULL)
    {
      JsonArray *recommendations = wz_json_get_array (json_node_get_object (forecast),
                                                      "recommendation");

      for (guint i = 0; recommendations != NULL && i < json_array_get_length (recommendations); i++)
        {
          JsonObject *recommendation = json_array_get_object_element (recommendations, i);
          JsonArray *statuses = wz_json_get_array (wz_json_get_object (recommendation,
                                                                       "forecastStatus"), "coding");
          const char *status = statuses && json_array_get_length (statuses) > 0
                               ? wz_json_get_string (json_array_get_object_element (statuses, 0),
                                                     "code") : NULL;

          if (g_strcmp0 (status, "due") == 0 || g_strcmp0 (status, "overdue") == 0)
            json_builder_add_value (builder,
                                    json_node_copy (json_array_get_element (recommendations, i)));
        }
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  own_read_done (req, builder, "followup/me/reminders", patient_ref);
}

/* ---- POST /followup/me/checkin ---------------------------------------------------------------
 *   {"identifier","task":"Task/ID","answers":{"missed_doses":false,"days_left":12,…}}
 * The answers become one Observation (category survey, a component per question, coded
 * CHECKIN.QUESTION in the measurement system) and the check-in Task is completed. */
static void
handle_checkin (Request *req)
{
  WzFollowupRoutes *self = req->self;
  static const char *const allowed[] = { "identifier", "task", "answers", NULL };
  g_autofree char *patient_ref = NULL;
  g_autofree char *now = wz_time_format_instant (wz_time_now_us ());
  g_autoptr(JsonNode) body = NULL;
  g_autoptr(JsonNode) task_root = NULL;
  g_autoptr(WzStoredResource) task_stored = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) observation = NULL;
  g_autoptr(WzStoredResource) stored = NULL;
  g_autoptr(GPtrArray) written = g_ptr_array_new_with_free_func ((GDestroyNotify) wz_stored_resource_free);
  g_autoptr(GList) questions = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *object, *answers, *task;
  const char *identifier, *task_ref;
  gboolean created = FALSE;

  if ((body = own_post (req, allowed, "Observation", &patient_ref, &object,
                        &identifier)) == NULL)
    return;
  task_ref = member_string (object, "task");
  answers = wz_json_get_object (object, "answers");
  if (task_ref == NULL || !g_str_has_prefix (task_ref, "Task/") ||
      !wz_fhir_id_is_valid (task_ref + 5) || answers == NULL || json_object_get_size (answers) == 0)
    {
      fail_with (req, WZ_ERROR_INVALID, "C", "Observation",
                 "A check-in needs “task” (Task/ID) and “answers” (an object of question ids)");
      return;
    }
  task_root = read_resource (self, "Task", task_ref + 5, &task_stored, NULL);
  task = task_root ? json_node_get_object (task_root) : NULL;
  if (task == NULL || g_strcmp0 (task_stored->patient, patient_ref) != 0 ||
      g_strstr_len (g_bytes_get_data (task_stored->json, NULL), g_bytes_get_size (task_stored->json),
                    WZ_FOLLOWUP_TASK_SYSTEM "\",\"code\":\"adherence-checkin\"") == NULL)
    {
      fail_with (req, WZ_ERROR_NOT_FOUND, "C", "Observation",
                 "That check-in is not one of yours");
      return;
    }

  begin_observation (builder, req, identifier, "survey", now);
  set_code (builder, NULL, "checkin", "用药与自我管理随访 Medication and self-care check-in");
  json_builder_set_member_name (builder, "component");
  json_builder_begin_array (builder);
  questions = json_object_get_members (answers);
  for (GList *l = questions; l != NULL; l = l->next)
    {
      const char *id = l->data;
      JsonNode *value = json_object_get_member (answers, id);
      g_autofree char *code = g_strconcat ("checkin.", id, NULL);
      GType value_type = JSON_NODE_HOLDS_VALUE (value) ? json_node_get_value_type (value)
                                                       : G_TYPE_INVALID;

      if (strlen (id) == 0 || strlen (id) > 40 || strspn (id, "abcdefghijklmnopqrstuvwxyz_") !=
          strlen (id) ||
          (value_type != G_TYPE_BOOLEAN && value_type != G_TYPE_INT64))
        {
          fail_with (req, WZ_ERROR_INVALID, "C", "Observation",
                     "Each answer is a question id with yes/no (true/false) or a whole number");
          return;
        }
      if (value_type == G_TYPE_INT64 &&
          (json_node_get_int (value) < 0 || json_node_get_int (value) > 365))
        {
          fail_with (req, WZ_ERROR_INVALID, "C", "Observation",
                     "Numbers in a check-in are between 0 and 365");
          return;
        }
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "code");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "coding");
      json_builder_begin_array (builder);
      wz_json_add_coding (builder, WZ_FOLLOWUP_MEASUREMENT_SYSTEM, code, NULL);
      json_builder_end_array (builder);
      json_builder_end_object (builder);
      if (value_type == G_TYPE_BOOLEAN)
        {
          json_builder_set_member_name (builder, "valueBoolean");
          json_builder_add_boolean_value (builder, json_node_get_boolean (value));
        }
      else
        {
          json_builder_set_member_name (builder, "valueInteger");
          json_builder_add_int_value (builder, json_node_get_int (value));
        }
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  observation = json_builder_get_root (builder);
  {
    JsonArray *focus = json_array_new ();
    JsonObject *link = json_object_new ();

    /* R4 Observation.basedOn and partOf cannot name a Task; focus can. */
    json_object_set_string_member (link, "reference", task_ref);
    json_array_add_object_element (focus, link);
    json_object_set_array_member (json_node_get_object (observation), "focus", focus);
  }

  if ((stored = create_with_identifier (self, observation, &created, &error)) == NULL)
    {
      fail (req, error, "C", "Observation", patient_ref);
      return;
    }
  if (created)
    g_ptr_array_add (written, g_steal_pointer (&stored));
  if (created && g_strv_contains ((const char *[]) { "requested", "received", "accepted", "ready",
                                                     "in-progress", NULL },
                                  task_stored->status ? task_stored->status : ""))
    {
      JsonObject *output = json_object_new ();
      JsonArray *outputs = json_array_new ();
      JsonObject *type = json_object_new ();
      JsonObject *value = json_object_new ();
      WzStoredResource *created_obs = g_ptr_array_index (written, 0);
      g_autofree char *obs_ref = g_strconcat ("Observation/", created_obs->id, NULL);
      WzStoredResource *updated;

      json_object_set_string_member (type, "text", "check-in answers");
      json_object_set_string_member (value, "reference", obs_ref);
      json_object_set_object_member (output, "type", type);
      json_object_set_object_member (output, "valueReference", value);
      json_array_add_object_element (outputs, output);
      json_object_set_array_member (task, "output", outputs);
      json_object_set_string_member (task, "status", "completed");
      json_object_set_string_member (task, "lastModified", now);
      json_object_remove_member (task, "meta");
      if ((updated = wz_store_update (self->store, task, task_stored->id, task_stored->version_id,
                                      &error)) == NULL)
        g_warning ("Check-in stored, but %s could not be completed: %s", task_ref, error->message);
      else
        g_ptr_array_add (written, updated);
    }
  publish_written (self, written, soup_server_message_get_remote_host (req->msg));
  {
    g_autoptr(JsonBuilder) answer = json_builder_new ();

    json_builder_begin_object (answer);
    add_string_member (answer, "task", task_ref);
    add_string_member (answer, "status", "completed");
    json_builder_end_object (answer);
    respond_written (req, answer, created, task_ref, patient_ref);
  }
}

/* ---- Prescriptions -------------------------------------------------------------------------- */

static char *
practitioner_name (WzFollowupRoutes *self,
                   const char       *ref,
                   GHashTable       *cache)
{
  const char *known;
  g_autoptr(JsonNode) root = NULL;
  JsonArray *names;
  JsonObject *name;
  char *text = NULL;

  if (ref == NULL || !g_str_has_prefix (ref, "Practitioner/"))
    return NULL;
  if ((known = g_hash_table_lookup (cache, ref)) != NULL)
    return g_strdup (known);
  root = read_resource (self, "Practitioner", ref + strlen ("Practitioner/"), NULL, NULL);
  names = root ? wz_json_get_array (json_node_get_object (root), "name") : NULL;
  name = names && json_array_get_length (names) > 0 &&
         JSON_NODE_HOLDS_OBJECT (json_array_get_element (names, 0))
         ? json_array_get_object_element (names, 0) : NULL;
  if (wz_json_get_string (name, "text") != NULL)
    text = g_strdup (wz_json_get_string (name, "text"));
  else if (wz_json_get_string (name, "family") != NULL)
    {
      JsonArray *given = wz_json_get_array (name, "given");

      text = g_strconcat (wz_json_get_string (name, "family"),
                          given && json_array_get_length (given) > 0
                          ? json_array_get_string_element (given, 0) : "", NULL);
    }
  if (text == NULL)
    text = g_strdup (ref);
  g_hash_table_insert (cache, g_strdup (ref), g_strdup (text));
  return text;
}

static WzDay
day_of (const char *date_time,
        GTimeZone  *tz)
{
  WzDay day = WZ_DAY_NONE;

  if (date_time != NULL)
    wz_day_parse_in_zone (date_time, tz, &day);
  return day;
}

/* doseAndRate[0].doseQuantity.unit of dosageInstruction[0]. */
static const char *
dose_unit_of (JsonObject *request)
{
  JsonArray *dosages = wz_json_get_array (request, "dosageInstruction");
  JsonNode *dosage = dosages && json_array_get_length (dosages) > 0
                     ? json_array_get_element (dosages, 0) : NULL;
  JsonArray *rates = dosage && JSON_NODE_HOLDS_OBJECT (dosage)
                     ? wz_json_get_array (json_node_get_object (dosage), "doseAndRate") : NULL;
  JsonNode *rate = rates && json_array_get_length (rates) > 0
                   ? json_array_get_element (rates, 0) : NULL;

  if (rate == NULL || !JSON_NODE_HOLDS_OBJECT (rate))
    return NULL;
  return wz_json_get_string (wz_json_get_object (json_node_get_object (rate), "doseQuantity"),
                             "unit");
}

static double
drug_strength (WzFollowupRoutes *self,
               JsonObject       *request)
{
  JsonArray *codings = wz_json_get_array (wz_json_get_object (request, "medicationCodeableConcept"),
                                          "coding");
  WzFormulary *formulary;
  const WzDrug *drug;

  if (self->data_dir == NULL)
    return 0;
  if (self->formulary == NULL)
    {
      g_autoptr(GError) error = NULL;

      if ((self->formulary = wz_formulary_store_open (self->data_dir, NULL, &error)) == NULL)
        {
          g_warning ("Refill dates without the formulary: %s", error->message);
          g_clear_pointer (&self->data_dir, g_free);
          return 0;
        }
    }
  if ((formulary = wz_formulary_store_get (self->formulary, NULL)) == NULL)
    return 0;
  for (guint i = 0; codings != NULL && i < json_array_get_length (codings); i++)
    {
      JsonNode *node = json_array_get_element (codings, i);
      JsonObject *coding = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;

      if (g_strcmp0 (wz_json_get_string (coding, "system"), WZ_FORMULARY_SYSTEM) == 0 &&
          (drug = wz_formulary_lookup (formulary, wz_json_get_string (coding, "code"))) != NULL &&
          drug->dose_unit != NULL)
        {
          const char *dose_unit = dose_unit_of (request);

          /* The strength counts the dose's unit per tablet (5 mg tablets, a dose in mg). */
          if (g_strcmp0 (drug->strength_unit, dose_unit) == 0)
            return drug->strength;
        }
    }
  return 0;
}

/* The patient's approved (active) MedicationRequests, each with who prescribed and who approved
 * it and when, and its refill plan. Drafts and requests awaiting review are not active, so they
 * are never here. */
static JsonNode *
approved_prescriptions (Request     *req,
                        GTimeZone   *tz,
                        WzDay        today,
                        GError     **error)
{
  WzFollowupRoutes *self = req->self;
  g_autofree char *patient_ref = own_patient (req);
  g_autofree char *text = g_strdup_printf ("patient=%s&status=active&_sort=-date", patient_ref);
  g_autofree char *approvals_text = g_strdup_printf ("patient=%s&status=completed&code=approve",
                                                     patient_ref);
  g_autoptr(GPtrArray) requests = NULL;
  g_autoptr(GPtrArray) approvals = NULL;
  g_autoptr(GHashTable) approved_by = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                             (GDestroyNotify) json_node_unref);
  g_autoptr(GHashTable) names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  const char *lang = request_lang (req);
  gboolean zh = strcmp (lang, "zh") == 0;

  if ((requests = wz_followup_search_stored (self->store, "MedicationRequest", text, error)) == NULL ||
      (approvals = wz_followup_search_stored (self->store, "Task", approvals_text, error)) == NULL)
    return NULL;
  /* Each approval Task lists the requests it approved as inputs. */
  for (guint i = 0; i < approvals->len; i++)
    {
      WzStoredResource *stored = g_ptr_array_index (approvals, i);
      JsonNode *root = parse_stored (stored, NULL);
      JsonArray *inputs = root ? wz_json_get_array (json_node_get_object (root), "input") : NULL;

      for (guint n = 0; inputs != NULL && n < json_array_get_length (inputs); n++)
        {
          JsonNode *node = json_array_get_element (inputs, n);
          const char *ref = JSON_NODE_HOLDS_OBJECT (node)
                            ? wz_json_get_string (wz_json_get_object (json_node_get_object (node),
                                                                      "valueReference"),
                                                  "reference") : NULL;

          if (ref != NULL && g_str_has_prefix (ref, "MedicationRequest/"))
            g_hash_table_insert (approved_by, g_strdup (ref), json_node_ref (root));
        }
      g_clear_pointer (&root, json_node_unref);
    }

  json_builder_begin_array (builder);
  for (guint i = 0; i < requests->len; i++)
    {
      WzStoredResource *stored = g_ptr_array_index (requests, i);
      g_autoptr(JsonNode) root = parse_stored (stored, NULL);
      JsonObject *request = root ? json_node_get_object (root) : NULL;
      g_autofree char *ref = g_strconcat ("MedicationRequest/", stored->id, NULL);
      JsonNode *approval = g_hash_table_lookup (approved_by, ref);
      JsonObject *task = approval ? json_node_get_object (approval) : NULL;
      JsonObject *medication = wz_json_get_object (request, "medicationCodeableConcept");
      JsonArray *dosages = wz_json_get_array (request, "dosageInstruction");
      JsonObject *dosage = dosages && json_array_get_length (dosages) > 0 &&
                           JSON_NODE_HOLDS_OBJECT (json_array_get_element (dosages, 0))
                           ? json_array_get_object_element (dosages, 0) : NULL;
      WzRxLine *line = request ? wz_rx_line_from_medication_request (request) : NULL;
      const WzRxFrequency *frequency = line ? wz_rx_frequency_lookup (line->frequency) : NULL;
      g_autofree char *doctor = NULL;
      g_autofree char *pharmacist = NULL;
      const char *approved_at = task ? wz_json_get_string (task, "lastModified") : NULL;
      WzRefillPlan plan;
      g_autoptr(GError) refill_error = NULL;
      const char *name = wz_json_get_string (medication, "text");

      /* Active only through a pharmacist's approval; one without it is not shown as approved. */
      if (request == NULL || task == NULL)
        {
          g_clear_pointer (&line, wz_rx_line_free);
          continue;
        }
      if (name == NULL)
        {
          JsonArray *codings = wz_json_get_array (medication, "coding");

          if (codings != NULL && json_array_get_length (codings) > 0 &&
              JSON_NODE_HOLDS_OBJECT (json_array_get_element (codings, 0)))
            name = wz_json_get_string (json_array_get_object_element (codings, 0), "display");
        }
      doctor = practitioner_name (self, wz_json_get_string (wz_json_get_object (request, "requester"),
                                                            "reference"), names);
      pharmacist = practitioner_name (self, wz_json_get_string (wz_json_get_object (task, "owner"),
                                                                "reference"), names);

      json_builder_begin_object (builder);
      add_string_member (builder, "medicationRequest", ref);
      add_string_member (builder, "medication", name ? name : "");
      add_string_member (builder, "dosage", wz_json_get_string (dosage, "text") ?: "");
      add_string_member (builder, "instruction", wz_json_get_string (dosage, "patientInstruction") ?: "");
      json_builder_set_member_name (builder, "dose");
      if (line != NULL && !isnan (line->dose))
        {
          g_autofree char *dose = g_strdup_printf ("%g %s", line->dose,
                                                   line->dose_unit ? line->dose_unit : "");

          json_builder_add_string_value (builder, dose);
        }
      else
        json_builder_add_null_value (builder);
      json_builder_set_member_name (builder, "frequency");
      json_builder_add_string_value (builder, frequency ? (zh ? frequency->text_zh
                                                              : frequency->text_en)
                                                        : (line && line->frequency
                                                           ? line->frequency : ""));
      json_builder_set_member_name (builder, "days");
      if (line != NULL && !isnan (line->duration_days))
        json_builder_add_int_value (builder, (gint64) line->duration_days);
      else
        json_builder_add_null_value (builder);
      add_string_member (builder, "doctor", doctor ? doctor : "");
      add_string_member (builder, "pharmacist", pharmacist ? pharmacist : "");
      add_string_member (builder, "prescribed", wz_json_get_string (request, "authoredOn") ?: "");
      add_string_member (builder, "approved", approved_at ? approved_at : "");
      if (wz_refill_plan_compute (request, day_of (approved_at, tz) ?: day_of (wz_json_get_string (request, "authoredOn"), tz) ?: today,
                                  drug_strength (self, request), &plan, &refill_error))
        {
          json_builder_set_member_name (builder, "refill");
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "daysSupply");
          json_builder_add_int_value (builder, (gint64) plan.days_supply);
          add_day_member (builder, "runsOut", plan.runs_out);
          add_day_member (builder, "due", plan.refill_due);
          json_builder_set_member_name (builder, "fromQuantity");
          json_builder_add_boolean_value (builder, plan.from_quantity);
          json_builder_set_member_name (builder, "timing");
          json_builder_add_string_value (builder, today >= plan.runs_out ? "overdue"
                                                  : today >= plan.refill_due ? "due" : "upcoming");
          json_builder_end_object (builder);
        }
      json_builder_end_object (builder);
      g_clear_pointer (&line, wz_rx_line_free);
    }
  json_builder_end_array (builder);
  return json_builder_get_root (builder);
}

/* GET /followup/me/prescriptions → {"prescriptions":[…]} */
static void
handle_prescriptions (Request *req)
{
  g_autofree char *patient_ref = NULL;
  g_autoptr(JsonNode) patient = NULL;
  g_autoptr(JsonNode) list = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(GTimeZone) tz = NULL;
  g_autoptr(GError) error = NULL;
  const char *zone;
  WzDay today;

  if ((tz = own_read (req, "followup/me/prescriptions", &patient_ref, &patient, &zone,
                      &today)) == NULL)
    return;
  if ((list = approved_prescriptions (req, tz, today, &error)) == NULL)
    {
      fail (req, error, "R", "followup/me/prescriptions", patient_ref);
      return;
    }
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "prescriptions");
  json_builder_add_value (builder, g_steal_pointer (&list));
  json_builder_end_object (builder);
  own_read_done (req, builder, "followup/me/prescriptions", patient_ref);
}

/* POST /followup/me/renewal {"identifier","medicationRequest":"MedicationRequest/ID"[,"note"]}
 * → a follow-up visit request in the prescriber's queue: a Task (code renewal-request, focus the
 * prescription, owner the prescriber) and its queue Encounter (planned, reason naming the
 * medicine). 201 {"task","encounter"}; 200 with the same when the identifier was used. */
static void
handle_renewal (Request *req)
{
  WzFollowupRoutes *self = req->self;
  static const char *const allowed[] = { "identifier", "medicationRequest", "note", NULL };
  g_autofree char *patient_ref = NULL;
  g_autofree char *now = wz_time_format_instant (wz_time_now_us ());
  g_autoptr(JsonNode) body = NULL;
  g_autoptr(JsonNode) request_root = NULL;
  g_autoptr(WzStoredResource) request_stored = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) task = NULL;
  g_autoptr(WzStoredResource) task_stored = NULL;
  g_autoptr(WzStoredResource) encounter = NULL;
  g_autoptr(GPtrArray) written = g_ptr_array_new_with_free_func ((GDestroyNotify) wz_stored_resource_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *description = NULL;
  JsonObject *object, *request;
  const char *identifier, *ref, *note, *doctor, *name;
  gboolean created = FALSE;

  if ((body = own_post (req, allowed, "Task", &patient_ref, &object,
                        &identifier)) == NULL)
    return;
  ref = member_string (object, "medicationRequest");
  note = member_string (object, "note");
  if (json_object_has_member (object, "note") && (note == NULL || strlen (note) > 500))
    {
      fail_with (req, WZ_ERROR_INVALID, "C", "Task", "“note” is a text of at most 500 bytes");
      return;
    }
  if (ref == NULL || !g_str_has_prefix (ref, "MedicationRequest/") ||
      !wz_fhir_id_is_valid (ref + strlen ("MedicationRequest/")))
    {
      fail_with (req, WZ_ERROR_INVALID, "C", "Task",
                 "“medicationRequest” must name the prescription (MedicationRequest/ID)");
      return;
    }
  request_root = read_resource (self, "MedicationRequest", ref + strlen ("MedicationRequest/"),
                                &request_stored, NULL);
  request = request_root ? json_node_get_object (request_root) : NULL;
  /* Only the patient's own current medicine: anything else answers as unknown. */
  if (request == NULL || g_strcmp0 (request_stored->patient, patient_ref) != 0 ||
      g_strcmp0 (request_stored->status, "active") != 0)
    {
      fail_with (req, WZ_ERROR_NOT_FOUND, "C", "Task",
                 "That is not one of your current prescriptions");
      return;
    }
  doctor = wz_json_get_reference (request, "requester");
  name = wz_json_get_string (wz_json_get_object (request, "medicationCodeableConcept"), "text");
  if (name == NULL)
    name = ref;
  description = g_strconcat ("续方申请 Renewal request: ", name, NULL);

  json_builder_begin_object (builder);
  add_string_member (builder, "resourceType", "Task");
  wz_json_add_identifier (builder, "urn:ietf:rfc:3986", identifier);
  add_string_member (builder, "status", "requested");
  add_string_member (builder, "intent", "proposal");
  json_builder_set_member_name (builder, "code");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "coding");
  json_builder_begin_array (builder);
  wz_json_add_coding (builder, WZ_FOLLOWUP_TASK_SYSTEM, "renewal-request", NULL);
  json_builder_end_array (builder);
  add_string_member (builder, "text", "续方申请 Renewal request");
  json_builder_end_object (builder);
  add_string_member (builder, "description", description);
  json_builder_set_member_name (builder, "focus");
  json_builder_begin_object (builder);
  add_string_member (builder, "reference", ref);
  add_string_member (builder, "display", name);
  json_builder_end_object (builder);
  wz_json_add_reference (builder, "for", patient_ref);
  add_string_member (builder, "authoredOn", now);
  json_builder_set_member_name (builder, "extension");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  add_string_member (builder, "url", WZ_FOLLOWUP_DUE_EXTENSION);
  json_builder_set_member_name (builder, "valueDate");
  {
    g_autoptr(GTimeZone) tz = wz_followup_time_zone (default_zone (self));
    char day[16];

    json_builder_add_string_value (builder, wz_day_format_buf (wz_day_today (tz, wz_time_now_us ()),
                                                               day));
  }
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  wz_json_add_reference (builder, "requester", patient_ref);
  if (doctor != NULL)
    {
      wz_json_add_reference (builder, "owner", doctor);
    }
  if (note != NULL && *note != '\0')
    {
      json_builder_set_member_name (builder, "note");
      json_builder_begin_array (builder);
      json_builder_begin_object (builder);
      add_string_member (builder, "text", note);
      json_builder_end_object (builder);
      json_builder_end_array (builder);
    }
  json_builder_end_object (builder);
  task = json_builder_get_root (builder);

  if ((task_stored = create_with_identifier (self, task, &created, &error)) == NULL)
    {
      fail (req, error, "C", "Task", patient_ref);
      return;
    }
  if (created)
    {
      g_autofree char *entity = g_strconcat ("Task/", task_stored->id, NULL);

      wz_audit_record (self->audit, "C", "0", req->agent, entity, patient_ref,
                       soup_server_message_get_remote_host (req->msg), NULL, NULL);
      if (self->hub != NULL)
        wz_ws_hub_publish (self->hub, task_stored, NULL);
    }
  if (!wz_followup_queue_task (self->store, task_stored, "planned", "续方 Renewal: ", written,
                               &encounter, &error))
    {
      fail (req, error, "C", "Task", patient_ref);
      return;
    }
  publish_written (self, written, soup_server_message_get_remote_host (req->msg));
  {
    g_autoptr(JsonBuilder) answer = json_builder_new ();
    g_autofree char *task_ref = g_strconcat ("Task/", task_stored->id, NULL);
    g_autofree char *encounter_ref = g_strconcat ("Encounter/", encounter->id, NULL);

    json_builder_begin_object (answer);
    add_string_member (answer, "task", task_ref);
    add_string_member (answer, "encounter", encounter_ref);
    json_builder_end_object (answer);
    respond_written (req, answer, created, task_ref, patient_ref);
  }
}

/* POST /followup/me/confirm {"task":"Task/ID"}: the patient confirms a revisit, which puts it in
 * the doctor's queue now (arrived), or finds the visit already made. */
static void
handle_confirm (Request *req)
{
  WzFollowupRoutes *self = req->self;
  static const char *const allowed[] = { "task", NULL };
  g_autofree char *patient_ref = NULL;
  g_autoptr(JsonNode) body = NULL;
  g_autoptr(JsonNode) task_root = NULL;
  g_autoptr(WzStoredResource) task_stored = NULL;
  g_autoptr(WzStoredResource) encounter = NULL;
  g_autoptr(GPtrArray) written = g_ptr_array_new_with_free_func ((GDestroyNotify) wz_stored_resource_free);
  g_autoptr(GError) error = NULL;
  JsonObject *object;
  const char *task_ref;

  if ((patient_ref = own_request (req, "C", "Encounter")) == NULL)
    return;
  if ((body = parse_body (req, &error)) == NULL ||
      !check_members (object = json_node_get_object (body), allowed, &error))
    {
      fail (req, error, "C", "Encounter", patient_ref);
      return;
    }
  task_ref = member_string (object, "task");
  if (task_ref == NULL || !g_str_has_prefix (task_ref, "Task/") || !wz_fhir_id_is_valid (task_ref + 5))
    {
      fail_with (req, WZ_ERROR_INVALID, "C", "Encounter", "“task” must be Task/ID of a revisit");
      return;
    }
  task_root = read_resource (self, "Task", task_ref + 5, &task_stored, NULL);
  if (task_root == NULL || g_strcmp0 (task_stored->patient, patient_ref) != 0 ||
      g_strstr_len (g_bytes_get_data (task_stored->json, NULL), g_bytes_get_size (task_stored->json),
                    WZ_FOLLOWUP_TASK_SYSTEM "\",\"code\":\"revisit\"") == NULL)
    {
      fail_with (req, WZ_ERROR_NOT_FOUND, "C", "Encounter", "That revisit is not one of yours");
      return;
    }
  if (!g_strv_contains ((const char *[]) { "requested", "received", "accepted", "ready", NULL },
                        task_stored->status ? task_stored->status : ""))
    {
      fail_with (req, WZ_ERROR_CONFLICT, "C", "Encounter", "That revisit is already done");
      return;
    }
  if (!wz_followup_queue_task (self->store, task_stored, "arrived", "复诊 Follow-up revisit: ",
                               written, &encounter, &error))
    {
      fail (req, error, "C", "Encounter", patient_ref);
      return;
    }
  publish_written (self, written, soup_server_message_get_remote_host (req->msg));
  {
    g_autoptr(JsonBuilder) answer = json_builder_new ();
    g_autofree char *encounter_ref = g_strconcat ("Encounter/", encounter->id, NULL);

    json_builder_begin_object (answer);
    add_string_member (answer, "encounter", encounter_ref);
    json_builder_end_object (answer);
    respond_built (req->msg, answer);
    audit_and_send (req, "C", encounter_ref, patient_ref);
  }
}

/* ---- Operations under /fhir ---------------------------------------------------------------- */

/* A reaction recorded through the FHIR API is held to what the patient page records: checked
 * here before the generic route stores it (its answer set here, that route never runs). */
static void
guard_adverse_event (WzFollowupRoutes  *self,
                     SoupServerMessage *msg)
{
  Request req = { self, msg, NULL, NULL, NULL };
  g_autoptr(JsonNode) body = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) suspects = NULL;
  JsonObject *event;
  const char *subject;

  if (!authenticate (&req))
    {
      /* The generic route answers 401 the same way for everything under /fhir. */
      soup_server_message_set_status (msg, 0, NULL);
      soup_message_body_truncate (soup_server_message_get_response_body (msg));
      return;
    }
  /* Who may write AdverseEvents at all, and malformed bodies, are the generic route's to
   * answer. */
  if (!wz_care_team_check_type (req.session, "AdverseEvent", WZ_CARE_TEAM_WRITE, NULL) ||
      (body = parse_body (&req, NULL)) == NULL)
    goto out;
  event = json_node_get_object (body);
  if (!wz_adverse_event_check (event, wz_time_now_us (), &error))
    {
      fail (&req, error, "C", "AdverseEvent", NULL);
      goto out;
    }
  subject = wz_json_get_reference (event, "subject");
  suspects = wz_adverse_event_suspects (event);
  for (guint i = 0; suspects[i] != NULL; i++)
    {
      g_autoptr(WzStoredResource) stored = wz_store_read (self->store, "Immunization",
                                                          suspects[i] + strlen ("Immunization/"),
                                                          NULL);

      if (stored == NULL || g_strcmp0 (stored->patient, subject) != 0 ||
          !wz_care_team_may_see_stored (self->care_team, req.session, stored, NULL))
        {
          g_autofree char *message = g_strdup_printf ("%s is not a vaccination of %s",
                                                      suspects[i], subject);

          fail_with (&req, WZ_ERROR_UNPROCESSABLE, "C", "AdverseEvent", message);
          goto out;
        }
    }
out:
  g_free (req.agent);
}

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

  if (soup_server_message_get_status (msg) == 0 &&
      (g_str_has_prefix (path, "/fhir/AdverseEvent") &&
       (path[18] == '\0' || (path[18] == '/' && strchr (path + 19, '/') == NULL))) &&
      (method == SOUP_METHOD_POST || method == SOUP_METHOD_PUT))
    {
      guard_adverse_event (self, msg);
      return;
    }
  if (!g_str_has_prefix (path, "/fhir/") || strchr (path, '$') == NULL ||
      soup_server_message_get_status (msg) != 0)
    return;
  parts = g_strsplit (path + 6, "/", 4);
  n = g_strv_length (parts);

  if (n == 2 && strcmp (parts[0], "CarePlan") == 0 && strcmp (parts[1], "$apply-template") == 0)
    allow = "POST";
  else if (n == 3 && strcmp (parts[0], "CarePlan") == 0 &&
           strcmp (parts[2], "$set-targets") == 0)
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
  else if (strcmp (parts[0], "CarePlan") == 0)
    handle_set_targets (&req, parts[1]);
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

  g_clear_object (&self->store);
  g_clear_object (&self->auth);
  g_clear_object (&self->audit);
  g_clear_object (&self->care_team);
  g_clear_object (&self->hub);
  g_clear_object (&self->schedule);
  g_clear_object (&self->formulary);
  g_clear_handle_id (&self->sweep_source, g_source_remove);
  g_clear_pointer (&self->templates, g_ptr_array_unref);

  G_OBJECT_CLASS (wz_followup_routes_parent_class)->dispose (object);
}

static void
wz_followup_routes_finalize (GObject *object)
{
  WzFollowupRoutes *self = WZ_FOLLOWUP_ROUTES (object);

  g_free (self->schedule_problem);
  g_free (self->templates_problem);
  g_free (self->data_dir);

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
  /* Revisits due today reach the queue soon after start and then within ten minutes of their
   * day beginning. */
  g_idle_add_full (G_PRIORITY_LOW, sweep, g_object_ref (self), g_object_unref);
  self->sweep_source = g_timeout_add_seconds (600, sweep, self);
  g_object_set_data_full (G_OBJECT (server), "wz-followup-routes", g_steal_pointer (&self),
                          g_object_unref);
}

void
wz_followup_routes_watch (SoupServer *server,
                          GObject    *writer,
                          const char *data_dir)
{
  WzFollowupRoutes *self = g_object_get_data (G_OBJECT (server), "wz-followup-routes");

  g_return_if_fail (self != NULL);
  g_free (self->data_dir);
  self->data_dir = g_strdup (data_dir);
  g_signal_connect_object (writer, "resource-written", G_CALLBACK (on_resource_written), self, 0);
}
