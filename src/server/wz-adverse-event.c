/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-adverse-event"

#include "config.h"

#include "wz-adverse-event.h"

#include <string.h>

#include "wz-error.h"
#include "wz-fhir.h"
#include "wz-fhir-index.h"
#include "wz-followup-alerts.h"
#include "wz-followup-worklist.h"
#include "wz-json.h"
#include "wz-time.h"

/* Reactions are reported within weeks of a dose; a date a day ahead allows for clocks. */
#define FUTURE_SLACK_US (G_GINT64_CONSTANT (86400) * G_USEC_PER_SEC)

static gboolean
concept_has_content (JsonObject *concept)
{
  JsonArray *codings = wz_json_get_array (concept, "coding");
  const char *text = wz_json_get_string (concept, "text");

  if (text != NULL)
    {
      g_autofree char *stripped = g_strstrip (g_strdup (text));

      if (*stripped != '\0')
        return TRUE;
    }
  for (guint i = 0; codings != NULL && i < json_array_get_length (codings); i++)
    {
      JsonNode *node = json_array_get_element (codings, i);
      JsonObject *coding = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;

      if (wz_json_get_string (coding, "code") != NULL || wz_json_get_string (coding, "display") != NULL)
        return TRUE;
    }
  return FALSE;
}

GStrv
wz_adverse_event_suspects (JsonObject *event)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  JsonArray *suspects = wz_json_get_array (event, "suspectEntity");

  for (guint i = 0; suspects != NULL && i < json_array_get_length (suspects); i++)
    {
      JsonNode *node = json_array_get_element (suspects, i);
      JsonObject *suspect = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      const char *reference = wz_json_get_string (wz_json_get_object (suspect, "instance"),
                                                  "reference");
      g_autofree char *normalized = wz_fhir_index_reference ("Immunization", reference);

      if (normalized != NULL && g_str_has_prefix (reference, "Immunization/"))
        g_strv_builder_add (builder, normalized);
    }
  return g_strv_builder_end (builder);
}

gboolean
wz_adverse_event_check (JsonObject  *event,
                        gint64       now_us,
                        GError     **error)
{
  const char *subject = wz_json_get_reference (event, "subject");
  const char *date = wz_json_get_string (event, "date");
  JsonObject *concept = wz_json_get_object (event, "event");
  JsonObject *seriousness = wz_json_get_object (event, "seriousness");
  JsonArray *suspects = wz_json_get_array (event, "suspectEntity");
  g_auto(GStrv) immunizations = NULL;
  gint64 when;

  if (g_strcmp0 (wz_json_get_string (event, "resourceType"), "AdverseEvent") != 0)
    return wz_error_set_invalid (error, "The body must be an AdverseEvent");
  if (g_strcmp0 (wz_json_get_string (event, "actuality"), "actual") != 0)
    return wz_error_set_invalid (error, "AdverseEvent.actuality must be “actual”: a reaction "
                                 "that happened");
  if (subject == NULL || !g_str_has_prefix (subject, "Patient/") ||
      !wz_fhir_id_is_valid (subject + strlen ("Patient/")))
    return wz_error_set_invalid (error, "AdverseEvent.subject must reference the patient "
                                 "(Patient/ID)");
  if (date == NULL || !wz_time_parse_instant (date, &when, NULL))
    return wz_error_set_invalid (error, "AdverseEvent.date must be when the reaction began, a "
                                 "dateTime with a time zone");
  if (when > now_us + FUTURE_SLACK_US)
    return wz_error_set_invalid (error, "AdverseEvent.date is in the future");
  if (concept == NULL || !concept_has_content (concept))
    return wz_error_set_invalid (error, "AdverseEvent.event must say what happened (a coding or "
                                 "a text)");
  immunizations = wz_adverse_event_suspects (event);
  if (suspects == NULL || json_array_get_length (suspects) == 0 || immunizations[0] == NULL ||
      g_strv_length (immunizations) != json_array_get_length (suspects))
    return wz_error_set_invalid (error, "AdverseEvent.suspectEntity must name the vaccine dose: "
                                 "each instance an Immunization/ID");
  if (seriousness != NULL)
    {
      JsonArray *codings = wz_json_get_array (seriousness, "coding");
      gboolean known = FALSE;

      for (guint i = 0; codings != NULL && i < json_array_get_length (codings); i++)
        {
          JsonNode *node = json_array_get_element (codings, i);
          JsonObject *coding = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;

          if (g_strcmp0 (wz_json_get_string (coding, "system"),
                         WZ_ADVERSE_SERIOUSNESS_SYSTEM) == 0 &&
              g_strv_contains ((const char *[]) { "serious", "non-serious", NULL },
                               wz_json_get_string (coding, "code") ?: ""))
            known = TRUE;
        }
      if (!known)
        return wz_error_set_invalid (error, "AdverseEvent.seriousness must be serious or "
                                     "non-serious (" WZ_ADVERSE_SERIOUSNESS_SYSTEM ")");
    }
  return TRUE;
}

gboolean
wz_adverse_event_is_serious (JsonObject *event)
{
  JsonArray *codings = wz_json_get_array (wz_json_get_object (event, "seriousness"), "coding");

  for (guint i = 0; codings != NULL && i < json_array_get_length (codings); i++)
    {
      JsonNode *node = json_array_get_element (codings, i);
      JsonObject *coding = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;

      if (g_strcmp0 (wz_json_get_string (coding, "system"), WZ_ADVERSE_SERIOUSNESS_SYSTEM) == 0 &&
          g_strcmp0 (wz_json_get_string (coding, "code"), "serious") == 0)
        return TRUE;
    }
  return FALSE;
}

JsonNode *
wz_adverse_event_flag (JsonObject *event,
                       const char *event_ref,
                       const char *doctor)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  JsonObject *concept = wz_json_get_object (event, "event");
  const char *what = wz_json_get_string (concept, "text");
  JsonArray *codings = wz_json_get_array (concept, "coding");
  g_autofree char *text_zh = NULL;
  g_autofree char *text_en = NULL;
  WzText text;

  if (what == NULL && codings != NULL && json_array_get_length (codings) > 0 &&
      JSON_NODE_HOLDS_OBJECT (json_array_get_element (codings, 0)))
    {
      JsonObject *coding = json_array_get_object_element (codings, 0);

      what = wz_json_get_string (coding, "display");
      if (what == NULL)
        what = wz_json_get_string (coding, "code");
    }
  text_zh = g_strconcat ("严重疫苗接种反应：", what ? what : "", NULL);
  text_en = g_strconcat ("Serious vaccine reaction: ", what ? what : "", NULL);
  text.en = text_en;
  text.zh = text_zh;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "resourceType");
  json_builder_add_string_value (builder, "Flag");
  json_builder_set_member_name (builder, "extension");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "url");
  json_builder_add_string_value (builder, "http://hl7.org/fhir/StructureDefinition/flag-detail");
  json_builder_set_member_name (builder, "valueReference");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "reference");
  json_builder_add_string_value (builder, event_ref);
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  wz_json_add_identifier (builder, WZ_FOLLOWUP_ALERT_ID_SYSTEM, event_ref);
  json_builder_set_member_name (builder, "status");
  json_builder_add_string_value (builder, "active");
  json_builder_set_member_name (builder, "category");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "coding");
  json_builder_begin_array (builder);
  wz_json_add_coding (builder, "http://terminology.hl7.org/CodeSystem/flag-category",
                      "safety", NULL);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "code");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "coding");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "system");
  json_builder_add_string_value (builder, WZ_FOLLOWUP_ALERT_SYSTEM);
  json_builder_set_member_name (builder, "code");
  json_builder_add_string_value (builder, "urgent");
  json_builder_set_member_name (builder, "display");
  json_builder_add_string_value (builder, "Serious adverse event after immunization");
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  wz_json_add_text (builder, "text", &text, "zh");
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "subject");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "reference");
  json_builder_add_string_value (builder, wz_json_get_string (wz_json_get_object (event, "subject"),
                                                              "reference"));
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "period");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "start");
  json_builder_add_string_value (builder, wz_json_get_string (event, "date"));
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "author");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "reference");
  json_builder_add_string_value (builder, doctor);
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}
