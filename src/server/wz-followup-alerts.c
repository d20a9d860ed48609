/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-followup-alerts"

#include "config.h"

#include "wz-followup-alerts.h"

#include <string.h>

#include "wz-careplan-template.h"
#include "wz-error.h"
#include "wz-fhir.h"
#include "wz-followup-worklist.h"
#include "wz-json.h"
#include "wz-search-query.h"
#include "wz-time.h"

#define FLAG_CATEGORY_SYSTEM "http://terminology.hl7.org/CodeSystem/flag-category"
#define FLAG_DETAIL_EXTENSION "http://hl7.org/fhir/StructureDefinition/flag-detail"
#define FLAG_PRIORITY_EXTENSION "http://hl7.org/fhir/StructureDefinition/flag-priority"

static JsonNode *
parse_stored (WzStoredResource *stored)
{
  gsize length;
  const char *data = g_bytes_get_data (stored->json, &length);
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();

  if (!json_parser_load_from_data (parser, data, length, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return NULL;
  return json_node_ref (json_parser_get_root (parser));
}

static const char *
effective_of (JsonObject *observation)
{
  const char *when = wz_json_get_string (observation, "effectiveDateTime");

  if (when == NULL)
    when = wz_json_get_string (wz_json_get_object (observation, "effectivePeriod"), "start");
  if (when == NULL)
    when = wz_json_get_string (observation, "issued");
  return when;
}

/* A UCUM unit as people write it. */
static const char *
unit_text (const char *unit)
{
  if (g_strcmp0 (unit, "mm[Hg]") == 0)
    return "mmHg";
  if (g_strcmp0 (unit, "Cel") == 0)
    return "°C";
  if (unit != NULL && unit[0] == '{')
    return "";
  return unit ? unit : "";
}

/* "182 mmHg" or "yes" / "是". */
static char *
reading_value (const WzCareplanReading *reading,
               gboolean                 zh)
{
  char number[G_ASCII_DTOSTR_BUF_SIZE];

  if (reading->is_answer)
    return g_strdup (reading->answer ? (zh ? "是" : "yes") : (zh ? "否" : "no"));
  g_ascii_formatd (number, sizeof number, "%g", reading->value);
  return g_strconcat (number, " ", unit_text (reading->unit), NULL);
}

/* "<135", "4.4–7.0", "≥60" in the target's unit; NULL without numbers. */
static char *
target_range (const WzCareplanTarget *target,
              gboolean                zh)
{
  char low[G_ASCII_DTOSTR_BUF_SIZE], high[G_ASCII_DTOSTR_BUF_SIZE];

  if (target->has_low)
    g_ascii_formatd (low, sizeof low, "%g", target->low);
  if (target->has_high)
    g_ascii_formatd (high, sizeof high, "%g", target->high);
  if (target->has_low && target->has_high)
    return g_strdup_printf ("%s–%s %s", low, high, unit_text (target->unit));
  if (target->has_high)
    return g_strdup_printf ("%s%s %s", target->high_inclusive ? "≤" : "<", high,
                            unit_text (target->unit));
  if (target->has_low)
    return g_strdup_printf ("≥%s %s", low, unit_text (target->unit));
  return NULL;
}

/* The text of the Flag in one language: what was out of range, and the target. */
static char *
flag_text (GArray   *readings,
           gboolean  urgent,
           gboolean  zh)
{
  GString *text = g_string_new (urgent ? (zh ? "红旗警示：" : "Red flag: ")
                                       : (zh ? "超出目标：" : "Out of target: "));
  guint n = 0;

  for (guint i = 0; i < readings->len; i++)
    {
      const WzCareplanReading *reading = &g_array_index (readings, WzCareplanReading, i);
      g_autofree char *value = NULL;
      g_autofree char *target = NULL;

      if (reading->flag == WZ_FOLLOWUP_FLAG_NONE)
        continue;
      value = reading_value (reading, zh);
      if (n++ > 0)
        g_string_append (text, zh ? "；" : "; ");
      g_string_append_printf (text, "%s %s", wz_text_get (&reading->target->name, zh ? "zh" : "en"),
                              value);
      target = target_range (reading->target, zh);
      if (target != NULL)
        g_string_append_printf (text, zh ? "（目标 %s）" : " (target %s)", target);
    }
  return g_string_free (text, FALSE);
}

static JsonNode *
build_flag (JsonObject *observation,
            const char *observation_ref,
            const char *plan_ref,
            const char *doctor,
            GArray     *readings,
            gboolean    urgent)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *identifier = g_strconcat (observation_ref, "|", plan_ref, NULL);
  g_autofree char *text_zh = flag_text (readings, urgent, TRUE);
  g_autofree char *text_en = flag_text (readings, urgent, FALSE);
  const char *encounter = wz_json_get_reference (observation, "encounter");
  const char *effective = effective_of (observation);
  g_autofree char *now = wz_time_format_instant (wz_time_now_us ());
  WzText text = { text_en, text_zh };

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "resourceType");
  json_builder_add_string_value (builder, "Flag");
  json_builder_set_member_name (builder, "extension");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "url");
  json_builder_add_string_value (builder, FLAG_DETAIL_EXTENSION);
  wz_json_add_reference (builder, "valueReference", observation_ref);
  json_builder_end_object (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "url");
  json_builder_add_string_value (builder, FLAG_PRIORITY_EXTENSION);
  json_builder_set_member_name (builder, "valueCodeableConcept");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "coding");
  json_builder_begin_array (builder);
  wz_json_add_coding (builder, "http://hl7.org/fhir/flag-priority-code", urgent ? "PH" : "PM",
                      urgent ? "High priority" : "Medium priority");
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  json_builder_end_array (builder);

  wz_json_add_identifier (builder, WZ_FOLLOWUP_ALERT_ID_SYSTEM, identifier);
  json_builder_set_member_name (builder, "status");
  json_builder_add_string_value (builder, "active");
  json_builder_set_member_name (builder, "category");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "coding");
  json_builder_begin_array (builder);
  wz_json_add_coding (builder, FLAG_CATEGORY_SYSTEM, "clinical", "Clinical");
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "code");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "coding");
  json_builder_begin_array (builder);
  wz_json_add_coding (builder, WZ_FOLLOWUP_ALERT_SYSTEM, urgent ? "urgent" : "out-of-range",
                      urgent ? "Red flag: act today" : "Reported value out of the plan's target");
  for (guint i = 0; i < readings->len; i++)
    {
      const WzCareplanReading *reading = &g_array_index (readings, WzCareplanReading, i);

      if (reading->flag != WZ_FOLLOWUP_FLAG_NONE)
        wz_json_add_coding (builder, WZ_FOLLOWUP_MEASUREMENT_SYSTEM, reading->target->id,
                            wz_followup_flag_to_string (reading->flag));
    }
  json_builder_end_array (builder);
  wz_json_add_text (builder, "text", &text, "zh");
  json_builder_end_object (builder);

  wz_json_add_reference (builder, "subject", wz_json_get_reference (observation, "subject"));
  json_builder_set_member_name (builder, "period");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "start");
  json_builder_add_string_value (builder, effective ? effective : now);
  json_builder_end_object (builder);
  if (encounter != NULL)
    wz_json_add_reference (builder, "encounter", encounter);
  wz_json_add_reference (builder, "author", doctor);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

static WzStoredResource *
create_flag (WzStore   *store,
             JsonNode  *flag,
             gboolean  *out_created,
             GError   **error)
{
  JsonObject *object = json_node_get_object (flag);
  JsonObject *identifier = json_array_get_object_element (json_object_get_array_member (object,
                                                                                        "identifier"), 0);
  g_autofree char *system = g_uri_escape_string (WZ_FOLLOWUP_ALERT_ID_SYSTEM, NULL, FALSE);
  g_autofree char *value = g_uri_escape_string (json_object_get_string_member (identifier, "value"),
                                                NULL, FALSE);
  g_autofree char *condition_text = g_strdup_printf ("identifier=%s%%7C%s", system, value);
  g_autoptr(WzSearchQuery) condition = wz_search_query_parse ("Flag", condition_text, error);

  if (condition == NULL)
    return NULL;
  return wz_store_create (store, object, condition, out_created, error);
}

/* Measurements (WZ_FOLLOWUP_MEASUREMENT_SYSTEM codes) a Flag is about. */
static gboolean
flag_only_about (JsonObject *flag,
                 GHashTable *in_range)
{
  JsonArray *codings = wz_json_get_array (wz_json_get_object (flag, "code"), "coding");
  guint n = 0;

  for (guint i = 0; codings != NULL && i < json_array_get_length (codings); i++)
    {
      JsonNode *node = json_array_get_element (codings, i);
      JsonObject *coding = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;

      if (g_strcmp0 (wz_json_get_string (coding, "system"), WZ_FOLLOWUP_MEASUREMENT_SYSTEM) != 0)
        continue;
      if (!g_hash_table_contains (in_range, wz_json_get_string (coding, "code")))
        return FALSE;
      n++;
    }
  return n > 0;
}

/* Closes the doctor's earlier alerts about measurements this reading shows back in range. */
static gboolean
close_resolved (WzStore     *store,
                const char  *patient,
                const char  *doctor,
                const char  *effective,
                GHashTable  *in_range,
                GPtrArray   *written,
                GError     **error)
{
  g_autofree char *escaped = g_uri_escape_string (patient, "/", FALSE);
  g_autofree char *doctor_escaped = g_uri_escape_string (doctor, "/", FALSE);
  g_autofree char *text = g_strdup_printf ("patient=%s&practitioner=%s&status=active&code="
                                           "%s%%7Curgent,%s%%7Cout-of-range", escaped,
                                           doctor_escaped, WZ_FOLLOWUP_ALERT_SYSTEM,
                                           WZ_FOLLOWUP_ALERT_SYSTEM);
  g_autoptr(GPtrArray) flags = NULL;

  if (g_hash_table_size (in_range) == 0)
    return TRUE;
  if ((flags = wz_followup_search_stored (store, "Flag", text, error)) == NULL)
    return FALSE;
  for (guint i = 0; i < flags->len; i++)
    {
      WzStoredResource *stored = g_ptr_array_index (flags, i);
      g_autoptr(JsonNode) root = parse_stored (stored);
      JsonObject *flag = root ? json_node_get_object (root) : NULL;
      JsonObject *period = flag ? wz_json_get_object (flag, "period") : NULL;
      const char *start = wz_json_get_string (period, "start");
      g_autoptr(GError) local_error = NULL;
      WzStoredResource *updated;

      if (flag == NULL || g_strcmp0 (wz_json_get_reference (flag, "author"), doctor) != 0 ||
          !flag_only_about (flag, in_range))
        continue;
      /* An older reading sent late does not close an alert about a newer one. */
      if (start != NULL && effective != NULL)
        {
          g_autofree char *a = wz_time_normalize_date (start);
          g_autofree char *b = wz_time_normalize_date (effective);

          if (g_strcmp0 (a, b) > 0)
            continue;
        }
      json_object_set_string_member (flag, "status", "inactive");
      json_object_set_string_member (period, "end", effective ? effective : start);
      json_object_remove_member (flag, "meta");
      updated = wz_store_update (store, flag, stored->id, stored->version_id, &local_error);
      if (updated == NULL)
        {
          /* Someone else changed it meanwhile: theirs stands. */
          if (g_error_matches (local_error, WZ_ERROR, WZ_ERROR_PRECONDITION_FAILED))
            continue;
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      g_ptr_array_add (written, updated);
    }
  return TRUE;
}

GPtrArray *
wz_followup_alerts_judge (WzStore           *store,
                          WzStoredResource  *stored,
                          GError           **error)
{
  g_autoptr(GPtrArray) written = g_ptr_array_new_with_free_func ((GDestroyNotify) wz_stored_resource_free);
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GPtrArray) plans = NULL;
  g_autofree char *escaped = NULL;
  g_autofree char *text = NULL;
  g_autofree char *observation_ref = NULL;
  JsonObject *observation;
  const char *patient, *status;

  if (strcmp (stored->type, "Observation") != 0 || (root = parse_stored (stored)) == NULL)
    return g_steal_pointer (&written);
  observation = json_node_get_object (root);
  patient = wz_json_get_reference (observation, "subject");
  status = wz_json_get_string (observation, "status");
  if (patient == NULL || !g_str_has_prefix (patient, "Patient/") ||
      !g_strv_contains ((const char *[]) { "final", "amended", "corrected", "preliminary", NULL },
                        status ? status : ""))
    return g_steal_pointer (&written);

  observation_ref = g_strconcat ("Observation/", stored->id, NULL);
  escaped = g_uri_escape_string (patient, "/", FALSE);
  text = g_strdup_printf ("patient=%s&status=active", escaped);
  if ((plans = wz_followup_search_stored (store, "CarePlan", text, error)) == NULL)
    return NULL;

  for (guint p = 0; p < plans->len; p++)
    {
      WzStoredResource *plan_stored = g_ptr_array_index (plans, p);
      g_autoptr(JsonNode) plan_root = parse_stored (plan_stored);
      JsonObject *plan = plan_root ? json_node_get_object (plan_root) : NULL;
      g_autoptr(GPtrArray) targets = NULL;
      g_autoptr(GArray) readings = NULL;
      g_autoptr(GHashTable) in_range = g_hash_table_new (g_str_hash, g_str_equal);
      g_autofree char *plan_ref = NULL;
      const char *doctor = plan ? wz_json_get_reference (plan, "author") : NULL;
      gboolean flagged = FALSE, urgent = FALSE;

      if (doctor == NULL || !g_str_has_prefix (doctor, "Practitioner/"))
        continue;
      targets = wz_careplan_targets_from_json (plan);
      if (targets->len == 0)
        continue;
      readings = wz_careplan_evaluate_observation (targets, observation);
      for (guint i = 0; i < readings->len; i++)
        {
          const WzCareplanReading *reading = &g_array_index (readings, WzCareplanReading, i);

          if (reading->flag == WZ_FOLLOWUP_FLAG_NONE)
            g_hash_table_add (in_range, reading->target->id);
          else
            {
              flagged = TRUE;
              urgent = urgent || wz_followup_flag_is_urgent (reading->flag);
            }
        }
      /* A measurement also out of range in this reading stays alerted. */
      for (guint i = 0; i < readings->len; i++)
        {
          const WzCareplanReading *reading = &g_array_index (readings, WzCareplanReading, i);

          if (reading->flag != WZ_FOLLOWUP_FLAG_NONE)
            g_hash_table_remove (in_range, reading->target->id);
        }

      plan_ref = g_strconcat ("CarePlan/", plan_stored->id, NULL);
      if (!close_resolved (store, patient, doctor, effective_of (observation), in_range, written,
                           error))
        return NULL;
      if (flagged)
        {
          g_autoptr(JsonNode) flag = build_flag (observation, observation_ref, plan_ref, doctor,
                                                 readings, urgent);
          gboolean created = FALSE;
          WzStoredResource *flag_stored = create_flag (store, flag, &created, error);

          if (flag_stored == NULL)
            return NULL;
          if (created)
            g_ptr_array_add (written, flag_stored);
          else
            wz_stored_resource_free (flag_stored);
        }
    }
  return g_steal_pointer (&written);
}
