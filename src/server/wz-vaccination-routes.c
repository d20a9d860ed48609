/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-vaccination-routes"

#include "config.h"

#include "wz-followup-routes-private.h"

/* Vaccination: the schedule of a child, reaction follow-up, pre-vaccination screening and the
 * patient's own vaccination record and reaction reports (routed by wz-followup-routes.c). */

/* ---- Pre-vaccination screening: /followup/screening-questionnaire and -evaluation ----------- */

/* The answers RESPONSE of PATIENT judged for the vaccines named by ?vaccines= (all due ones
 * without it), TODAY. */
static WzPrescreenResult *
evaluate_screening (Request     *req,
                    JsonObject  *patient,
                    JsonObject  *response,
                    WzDay        today,
                    GError     **error)
{
  const char *birth_text = wz_json_get_string (patient, "birthDate");
  const char *vaccines_param = query_param (req, "vaccines");
  g_auto(GStrv) vaccines = vaccines_param ? g_strsplit (vaccines_param, ",", -1) : NULL;
  WzDay birth = WZ_DAY_NONE;

  if (birth_text != NULL)
    wz_day_parse (birth_text, &birth);
  return wz_prescreen_evaluate (req->self->schedule, response, (const char * const *) vaccines,
                                birth, wz_json_get_string (patient, "gender"), today, error);
}

void
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

void
handle_screening_evaluation (Request *req)
{
  const char *patient_id = query_param (req, "patient");
  g_autoptr(JsonNode) patient = NULL;
  g_autoptr(JsonNode) body = NULL;
  g_autoptr(WzPrescreenResult) result = NULL;
  g_autoptr(JsonNode) answer = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GTimeZone) tz = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *ref = patient_id ? g_strconcat ("Patient/", patient_id, NULL) : NULL;
  const char *zone;
  WzDay today;

  if (req->self->schedule == NULL)
    {
      fail_with (req, WZ_ERROR_UNAVAILABLE, "E", "followup/screening-evaluation",
                 req->self->schedule_problem);
      return;
    }
  if ((tz = read_patient_day (req, patient_id, &patient, &zone, &today, &error)) == NULL ||
      (body = parse_body (req, &error)) == NULL)
    {
      fail (req, error, "E", "followup/screening-evaluation", NULL);
      return;
    }

  result = evaluate_screening (req, json_node_get_object (patient), json_node_get_object (body),
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

/* ---- GET /fhir/Patient/ID/$vaccination-schedule -------------------------------------------- */

void
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
  if ((tz = read_patient_day (req, patient_id, &patient, &zone, &today, &error)) == NULL)
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

void
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
      fail (req, error, "C", "Task", stored->patient);
      goto out;
    }
  respond_made (req, &made, stored->patient, "C");

out:
  made_clear (&made);
}

/* ---- Vaccination record ---------------------------------------------------------------------- */

/* The ImmunizationRecommendation for PATIENT (NULL without a birth date or schedule); the
 * Immunizations read go to *OUT_IMMUNIZATIONS when asked. */
JsonNode *
vaccination_forecast (Request     *req,
                      JsonObject  *patient,
                      GTimeZone   *tz,
                      WzDay        today,
                      JsonNode   **out_immunizations,
                      GError     **error)
{
  WzFollowupRoutes *self = req->self;
  const char *id = wz_json_get_string (patient, "id");
  const char *birth_text = wz_json_get_string (patient, "birthDate");
  g_autofree char *patient_ref = g_strconcat ("Patient/", id, NULL);
  g_autofree char *search = g_strconcat ("patient=", patient_ref, "&_sort=date", NULL);
  g_autofree char *now = wz_time_format_instant (wz_time_now_us ());
  g_autoptr(JsonNode) immunizations = NULL;
  g_autoptr(WzNipHistory) history = NULL;
  g_autoptr(WzNipForecast) forecast = NULL;
  g_autoptr(GBytes) body = NULL;
  WzDay birth;

  if ((immunizations = search_all (self, "Immunization", search, error)) == NULL)
    return NULL;
  if (out_immunizations != NULL)
    *out_immunizations = json_node_ref (immunizations);
  if (self->schedule == NULL || birth_text == NULL || !wz_day_parse (birth_text, &birth) ||
      wz_day_add_days (birth, 18 * 366) < today)
    return NULL;
  history = wz_nip_history_from_json (self->schedule, immunizations, tz);
  forecast = wz_nip_schedule_compute (self->schedule, birth, today,
                                      (WzNipDose *) history->doses->data, history->doses->len,
                                      NULL, error);
  if (forecast == NULL)
    return NULL;
  body = wz_nip_forecast_to_fhir (self->schedule, forecast, patient_ref, now, request_lang (req));
  {
    g_autoptr(JsonParser) parser = json_parser_new_immutable ();
    gsize length;
    const char *data = g_bytes_get_data (body, &length);

    if (!json_parser_load_from_data (parser, data, length, error))
      return NULL;
    return json_node_ref (json_parser_get_root (parser));
  }
}

/* GET /followup/me/vaccinations → {"immunizations":[Immunization…], "record":[{"immunization",
 *   "vaccine","name" (in the reader's language),"date","lotNumber"}] of the completed doses,
 *   "recommendation": ImmunizationRecommendation or null (adults)} */
void
handle_vaccinations (Request *req)
{
  g_autofree char *patient_ref = NULL;
  g_autoptr(JsonNode) patient = NULL;
  g_autoptr(JsonNode) forecast = NULL;
  g_autoptr(JsonNode) immunizations = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(GTimeZone) tz = NULL;
  g_autoptr(GError) error = NULL;
  const char *zone;
  WzDay today;

  if ((tz = own_read (req, "followup/me/vaccinations", &patient_ref, &patient, &zone, &today)) == NULL)
    return;
  forecast = vaccination_forecast (req, json_node_get_object (patient), tz, today, &immunizations,
                                   &error);
  if (forecast == NULL && error != NULL)
    {
      fail (req, error, "R", "followup/me/vaccinations", patient_ref);
      return;
    }
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "immunizations");
  json_builder_add_value (builder, immunizations ? json_node_ref (immunizations)
                                                 : json_node_new (JSON_NODE_ARRAY));
  /* The same doses, named in the reader's language from the schedule where it knows them. */
  json_builder_set_member_name (builder, "record");
  json_builder_begin_array (builder);
  for (guint i = 0; immunizations != NULL && JSON_NODE_HOLDS_ARRAY (immunizations) &&
                    i < json_array_get_length (json_node_get_array (immunizations)); i++)
    {
      JsonNode *node = json_array_get_element (json_node_get_array (immunizations), i);
      JsonObject *dose = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      JsonObject *code = wz_json_get_object (dose, "vaccineCode");
      JsonArray *codings = wz_json_get_array (code, "coding");
      const char *name = wz_json_get_string (code, "text");
      const char *vaccine = NULL;
      g_autofree char *ref = NULL;

      if (dose == NULL || g_strcmp0 (wz_json_get_string (dose, "status"), "completed") != 0)
        continue;
      for (guint c = 0; codings != NULL && c < json_array_get_length (codings); c++)
        {
          JsonNode *coding_node = json_array_get_element (codings, c);
          JsonObject *coding = JSON_NODE_HOLDS_OBJECT (coding_node)
                               ? json_node_get_object (coding_node) : NULL;
          const WzNipVaccine *known = req->self->schedule
                                      ? wz_nip_schedule_get_vaccine (req->self->schedule,
                                                                     wz_json_get_string (coding, "code"))
                                      : NULL;

          if (known != NULL)
            {
              vaccine = known->id;
              name = wz_text_get (&known->name, request_lang (req));
            }
          else if (name == NULL)
            name = wz_json_get_string (coding, "display");
        }
      ref = g_strconcat ("Immunization/", wz_json_get_string (dose, "id"), NULL);
      json_builder_begin_object (builder);
      add_string_member (builder, "immunization", ref);
      add_string_member (builder, "vaccine", vaccine ? vaccine : "");
      add_string_member (builder, "name", name ? name : "");
      add_string_member (builder, "date", wz_json_get_string (dose, "occurrenceDateTime") ?: "");
      add_string_member (builder, "lotNumber", wz_json_get_string (dose, "lotNumber") ?: "");
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "recommendation");
  if (forecast != NULL)
    json_builder_add_value (builder, json_node_ref (forecast));
  else
    json_builder_add_null_value (builder);
  json_builder_end_object (builder);
  own_read_done (req, builder, "followup/me/vaccinations", patient_ref);
}

/* ---- POST /followup/me/reaction ---------------------------------------------------------------
 *   {"identifier","immunization":"Immunization/ID","date":"…T…+08:00","what":"发热 38.5°C",
 *    "serious":false}
 * → the AdverseEvent (201, or 200 for a retry); a serious one raises a Flag for the doctor. */
void
handle_reaction (Request *req)
{
  WzFollowupRoutes *self = req->self;
  static const char *const allowed[] = { "identifier", "immunization", "date", "what", "serious",
                                         NULL };
  g_autofree char *patient_ref = NULL;
  g_autoptr(JsonNode) body = NULL;
  g_autoptr(WzStoredResource) immunization = NULL;
  g_autoptr(JsonNode) immunization_root = NULL;
  g_autoptr(WzStoredResource) stored = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) event = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *encounter = NULL;
  g_autofree char *ref = NULL;
  JsonObject *object;
  JsonNode *serious_node;
  const char *identifier, *immunization_ref, *date, *what;
  gboolean created = FALSE, serious;

  if ((body = own_post (req, allowed, "AdverseEvent", &patient_ref, &object,
                        &identifier)) == NULL)
    return;
  immunization_ref = member_string (object, "immunization");
  date = member_string (object, "date");
  what = member_string (object, "what");
  serious_node = json_object_get_member (object, "serious");
  if (serious_node == NULL || !JSON_NODE_HOLDS_VALUE (serious_node) ||
      json_node_get_value_type (serious_node) != G_TYPE_BOOLEAN || what == NULL ||
      strlen (what) > 1000 || immunization_ref == NULL ||
      !g_str_has_prefix (immunization_ref, "Immunization/") ||
      !wz_fhir_id_is_valid (immunization_ref + strlen ("Immunization/")))
    {
      fail_with (req, WZ_ERROR_INVALID, "C", "AdverseEvent",
                 "A reaction needs “immunization” (Immunization/ID), “date”, “what” happened "
                 "(at most 1000 bytes) and “serious” (true or false)");
      return;
    }
  serious = json_node_get_boolean (serious_node);
  immunization_root = read_resource (self, "Immunization",
                                     immunization_ref + strlen ("Immunization/"), &immunization,
                                     NULL);
  if (immunization_root == NULL || g_strcmp0 (immunization->patient, patient_ref) != 0)
    {
      fail_with (req, WZ_ERROR_NOT_FOUND, "C", "AdverseEvent",
                 "That vaccination is not in your record");
      return;
    }

  encounter = g_strconcat ("Encounter/", req->session->encounter_id, NULL);
  json_builder_begin_object (builder);
  add_string_member (builder, "resourceType", "AdverseEvent");
  json_builder_set_member_name (builder, "identifier");
  json_builder_begin_object (builder);
  add_string_member (builder, "system", "urn:ietf:rfc:3986");
  add_string_member (builder, "value", identifier);
  json_builder_end_object (builder);
  add_string_member (builder, "actuality", "actual");
  json_builder_set_member_name (builder, "category");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "coding");
  json_builder_begin_array (builder);
  wz_json_add_coding (builder, "http://terminology.hl7.org/CodeSystem/adverse-event-category",
                      "product-use-error", NULL);
  json_builder_end_array (builder);
  add_string_member (builder, "text", "疫苗接种后反应 Reaction after vaccination");
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "event");
  json_builder_begin_object (builder);
  add_string_member (builder, "text", what);
  json_builder_end_object (builder);
  wz_json_add_reference (builder, "subject", patient_ref);
  wz_json_add_reference (builder, "encounter", encounter);
  add_string_member (builder, "date", date ? date : "");
  wz_json_add_reference (builder, "recorder", patient_ref);
  json_builder_set_member_name (builder, "seriousness");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "coding");
  json_builder_begin_array (builder);
  wz_json_add_coding (builder, WZ_ADVERSE_SERIOUSNESS_SYSTEM,
                      serious ? "serious" : "non-serious", NULL);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "suspectEntity");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  wz_json_add_reference (builder, "instance", immunization_ref);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  event = json_builder_get_root (builder);

  /* R4 gives AdverseEvent one identifier; create_once reads an array. */
  if (!wz_adverse_event_check (json_node_get_object (event), wz_time_now_us (), &error))
    {
      fail (req, error, "C", "AdverseEvent", patient_ref);
      return;
    }
  {
    g_autofree char *escaped = g_uri_escape_string ("urn:ietf:rfc:3986|", NULL, FALSE);
    g_autofree char *value = g_uri_escape_string (identifier, NULL, FALSE);
    g_autofree char *condition_text = g_strconcat ("identifier=", escaped, value, NULL);
    g_autoptr(WzSearchQuery) condition = wz_search_query_parse ("AdverseEvent", condition_text,
                                                                &error);
    g_autofree char *text = json_to_string (event, FALSE);
    g_autoptr(JsonNode) checked = NULL;

    if (condition == NULL ||
        (checked = wz_fhir_parse_resource (text, -1, "AdverseEvent", NULL, &error)) == NULL ||
        (stored = wz_store_create (self->store, json_node_get_object (checked), condition,
                                   &created, &error)) == NULL)
      {
        fail (req, error, "C", "AdverseEvent", patient_ref);
        return;
      }
  }
  ref = g_strconcat ("AdverseEvent/", stored->id, NULL);
  if (created)
    {
      if (self->hub != NULL)
        wz_ws_hub_publish (self->hub, stored, encounter);
      after_write (self, stored, soup_server_message_get_remote_host (req->msg));
    }
  {
    g_autoptr(JsonBuilder) answer = json_builder_new ();

    json_builder_begin_object (answer);
    add_string_member (answer, "adverseEvent", ref);
    json_builder_set_member_name (answer, "serious");
    json_builder_add_boolean_value (answer, serious);
    json_builder_end_object (answer);
    respond_written (req, answer, created, ref, patient_ref);
  }
}

/* POST /followup/me/screening?vaccines=MMR,…  body: the QuestionnaireResponse to the
 * pre-vaccination questionnaire (with its identifier). It is stored (for the patient and this
 * visit) and judged; anything to postpone or not give raises a Flag for the patient's doctor.
 * → the evaluation (as /followup/screening-evaluation answers). */
void
handle_me_screening (Request *req)
{
  WzFollowupRoutes *self = req->self;
  g_autofree char *patient_ref = NULL;
  g_autofree char *encounter = NULL;
  g_autoptr(JsonNode) patient = NULL;
  g_autoptr(JsonNode) body = NULL;
  g_autoptr(WzPrescreenResult) result = NULL;
  g_autoptr(JsonNode) answer = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GTimeZone) tz = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(WzStoredResource) stored = NULL;
  const char *zone;
  JsonObject *response;
  JsonObject *identifier;
  WzDay today;
  gboolean created = FALSE;

  if ((patient_ref = own_request (req, "C", "QuestionnaireResponse")) == NULL)
    return;
  encounter = g_strconcat ("Encounter/", req->session->encounter_id, NULL);
  if (self->schedule == NULL)
    {
      fail_with (req, WZ_ERROR_UNAVAILABLE, "C", "QuestionnaireResponse", self->schedule_problem);
      return;
    }
  if ((tz = read_patient_day (req, req->session->patient_id, &patient,
                              &zone, &today, &error)) == NULL ||
      (body = parse_body (req, &error)) == NULL)
    {
      fail (req, error, "C", "QuestionnaireResponse", patient_ref);
      return;
    }
  response = json_node_get_object (body);
  identifier = wz_json_get_object (response, "identifier");
  if (identifier == NULL || !g_str_has_prefix (wz_json_get_string (identifier, "value") ?: "",
                                               "urn:uuid:"))
    {
      fail_with (req, WZ_ERROR_INVALID, "C", "QuestionnaireResponse",
                 "The answers need an identifier (urn:uuid:) so a retry is not stored twice");
      return;
    }
  result = evaluate_screening (req, json_node_get_object (patient), response, today, &error);
  if (result == NULL)
    {
      fail (req, error, "C", "QuestionnaireResponse", patient_ref);
      return;
    }

  /* Stored as the patient's own, for this visit, whatever the page wrote there. */
  {
    JsonObject *subject = json_object_new ();
    JsonObject *link = json_object_new ();
    JsonObject *author = json_object_new ();
    g_autofree char *text = NULL;
    g_autofree char *escaped = g_uri_escape_string (wz_json_get_string (identifier, "system")
                                                    ?: "urn:ietf:rfc:3986", NULL, FALSE);
    g_autofree char *value = g_uri_escape_string (wz_json_get_string (identifier, "value"), NULL,
                                                  FALSE);
    g_autofree char *condition_text = g_strdup_printf ("identifier=%s%%7C%s", escaped, value);
    g_autoptr(WzSearchQuery) condition = NULL;
    g_autoptr(JsonNode) checked = NULL;
    g_autoptr(JsonNode) copy = json_node_copy (body);
    JsonObject *object = json_node_get_object (copy);

    json_object_set_string_member (subject, "reference", patient_ref);
    json_object_set_string_member (link, "reference", encounter);
    json_object_set_string_member (author, "reference", patient_ref);
    json_object_set_object_member (object, "subject", subject);
    json_object_set_object_member (object, "encounter", link);
    json_object_set_object_member (object, "author", author);
    json_object_remove_member (object, "id");
    json_object_remove_member (object, "meta");
    text = json_to_string (copy, FALSE);
    if ((condition = wz_search_query_parse ("QuestionnaireResponse", condition_text, &error)) == NULL ||
        (checked = wz_fhir_parse_resource (text, -1, "QuestionnaireResponse", NULL, &error)) == NULL ||
        (stored = wz_store_create (self->store, json_node_get_object (checked), condition, &created,
                                   &error)) == NULL)
      {
        fail (req, error, "C", "QuestionnaireResponse", patient_ref);
        return;
      }
  }
  if (created && self->hub != NULL)
    wz_ws_hub_publish (self->hub, stored, encounter);

  /* Anything but "go ahead" is for the doctor to see before the appointment. */
  if (created)
    {
      gboolean concern = FALSE;

      for (guint i = 0; i < result->vaccines->len; i++)
        if (g_array_index (result->vaccines, WzPrescreenVaccine, i).findings->len > 0)
          concern = TRUE;
      if (concern)
        {
          g_autoptr(GPtrArray) written = g_ptr_array_new_with_free_func ((GDestroyNotify) wz_stored_resource_free);
          JsonArray *doctors = wz_json_get_array (json_node_get_object (patient),
                                                  "generalPractitioner");
          g_autofree char *qr_ref = g_strconcat ("QuestionnaireResponse/", stored->id, NULL);
          const char *doctor = NULL;

          for (guint i = 0; doctors != NULL && i < json_array_get_length (doctors) && !doctor; i++)
            if (JSON_NODE_HOLDS_OBJECT (json_array_get_element (doctors, i)))
              doctor = wz_json_get_string (json_array_get_object_element (doctors, i), "reference");
          if (doctor != NULL && g_str_has_prefix (doctor, "Practitioner/"))
            {
              g_autofree char *now = wz_time_format_instant (wz_time_now_us ());
              g_autofree char *system = g_uri_escape_string (WZ_FOLLOWUP_ALERT_ID_SYSTEM "|", NULL,
                                                             FALSE);
              g_autofree char *flag_condition = g_strconcat ("identifier=", system, qr_ref, NULL);
              g_autoptr(WzSearchQuery) query = wz_search_query_parse ("Flag", flag_condition, NULL);
              g_autofree char *flag_text = g_strdup_printf (
                "{\"resourceType\":\"Flag\",\"extension\":[{\"url\":"
                "\"http://hl7.org/fhir/StructureDefinition/flag-detail\",\"valueReference\":"
                "{\"reference\":\"%s\"}}],\"identifier\":[{\"system\":\"%s\",\"value\":\"%s\"}],"
                "\"status\":\"active\",\"category\":[{\"coding\":[{\"system\":"
                "\"http://terminology.hl7.org/CodeSystem/flag-category\",\"code\":\"safety\"}]}],"
                "\"code\":{\"coding\":[{\"system\":\"%s\",\"code\":\"out-of-range\","
                "\"display\":\"Pre-vaccination screening finding\"}],\"text\":"
                "\"接种前筛查有需医生评估的回答 Pre-vaccination screening answers need the "
                "doctor's review\"},\"subject\":{\"reference\":\"%s\"},\"period\":{\"start\":"
                "\"%s\"},\"author\":{\"reference\":\"%s\"}}", qr_ref,
                WZ_FOLLOWUP_ALERT_ID_SYSTEM, qr_ref, WZ_FOLLOWUP_ALERT_SYSTEM, patient_ref, now,
                doctor);
              g_autoptr(JsonNode) flag = json_from_string (flag_text, NULL);
              WzStoredResource *made;
              gboolean flag_created = FALSE;

              if (query != NULL && flag != NULL &&
                  (made = wz_store_create (self->store, json_node_get_object (flag), query,
                                           &flag_created, NULL)) != NULL)
                {
                  if (flag_created)
                    g_ptr_array_add (written, made);
                  else
                    wz_stored_resource_free (made);
                }
              publish_written (self, written, soup_server_message_get_remote_host (req->msg));
            }
        }
    }

  answer = wz_prescreen_result_to_json (result, request_lang (req));
  bytes = node_bytes (answer);
  respond_plain_json (req->msg, bytes);
  soup_server_message_set_status (req->msg, created ? SOUP_STATUS_CREATED : SOUP_STATUS_OK, NULL);
  {
    g_autofree char *entity = g_strconcat ("QuestionnaireResponse/", stored->id, NULL);

    audit_and_send (req, created ? "C" : "R", entity, patient_ref);
  }
}
