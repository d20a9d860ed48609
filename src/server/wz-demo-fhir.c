/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-demo-fhir"

#include "config.h"

#include "wz-demo-fhir.h"

#include "wz-fhir.h"
#include "wz-id.h"
#include "wz-json.h"

#define ROLE_CODE "http://terminology.hl7.org/CodeSystem/v3-RoleCode"

char *
wz_demo_fhir_store (WzDemoSink   *sink,
                    JsonBuilder  *b,
                    GError      **error)
{
  g_autoptr(JsonNode) built = json_builder_get_root (b);
  g_autofree char *text = json_to_string (built, FALSE);
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(WzStoredResource) stored = NULL;
  g_autofree char *entity = NULL;

  root = wz_fhir_parse_resource (text, -1, NULL, NULL, error);
  if (root == NULL)
    return NULL;

  stored = wz_store_create (sink->store, json_node_get_object (root), NULL, NULL, error);
  if (stored == NULL)
    return NULL;

  entity = g_strconcat (stored->type, "/", stored->id, NULL);
  wz_audit_record (sink->audit, "C", "0", WZ_DEMO_AGENT, entity, stored->patient, "local", NULL,
                   NULL);

  return g_steal_pointer (&entity);
}

gboolean
wz_demo_fhir_store_ok (WzDemoSink   *sink,
                       JsonBuilder  *b,
                       GError      **error)
{
  g_autofree char *entity = wz_demo_fhir_store (sink, b, error);

  return entity != NULL;
}

char *
wz_demo_fhir_days_ago_at (int days_ago,
                          int hour,
                          int minute)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autoptr(GDateTime) day = g_date_time_add_days (now, -days_ago);
  g_autoptr(GDateTime) at = g_date_time_new_local (g_date_time_get_year (day),
                                                   g_date_time_get_month (day),
                                                   g_date_time_get_day_of_month (day),
                                                   hour, minute, 0);

  return g_date_time_format (at, "%Y-%m-%dT%H:%M:%S%:z");
}

void
wz_demo_fhir_add_string (JsonBuilder *b,
                         const char  *name,
                         const char  *value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, value);
}

void
wz_demo_fhir_begin_resource (JsonBuilder *b,
                             const char  *type)
{
  g_autofree char *urn = wz_id_new_urn_uuid ();

  json_builder_begin_object (b);
  wz_demo_fhir_add_string (b, "resourceType", type);
  wz_json_add_identifier (b, "urn:ietf:rfc:3986", urn);
}

void
wz_demo_fhir_add_reference (JsonBuilder *b,
                            const char  *name,
                            const char  *reference,
                            const char  *display)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_object (b);
  wz_demo_fhir_add_string (b, "reference", reference);
  if (display != NULL)
    wz_demo_fhir_add_string (b, "display", display);
  json_builder_end_object (b);
}

void
wz_demo_fhir_add_list_of_one (JsonBuilder *b,
                              const char  *name,
                              const char  *member,
                              const char  *value)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  wz_demo_fhir_add_string (b, member, value);
  json_builder_end_object (b);
  json_builder_end_array (b);
}

void
wz_demo_fhir_add_concept (JsonBuilder *b,
                          const char  *name,
                          const char  *system,
                          const char  *code,
                          const char  *display,
                          const char  *text)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "coding");
  json_builder_begin_array (b);
  wz_json_add_coding (b, system, code, display);
  json_builder_end_array (b);
  if (text != NULL)
    wz_demo_fhir_add_string (b, "text", text);
  json_builder_end_object (b);
}

void
wz_demo_fhir_add_category (JsonBuilder *b,
                           const char  *system,
                           const char  *code)
{
  json_builder_set_member_name (b, "category");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "coding");
  json_builder_begin_array (b);
  wz_json_add_coding (b, system, code, NULL);
  json_builder_end_array (b);
  json_builder_end_object (b);
  json_builder_end_array (b);
}

void
wz_demo_fhir_begin_condition (JsonBuilder *b,
                              const char  *category)
{
  wz_demo_fhir_begin_resource (b, "Condition");
  wz_demo_fhir_add_concept (b, "clinicalStatus",
                            "http://terminology.hl7.org/CodeSystem/condition-clinical", "active",
                            NULL, NULL);
  wz_demo_fhir_add_concept (b, "verificationStatus",
                            "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                            "confirmed", NULL, NULL);
  wz_demo_fhir_add_category (b, "http://terminology.hl7.org/CodeSystem/condition-category",
                             category);
}

void
wz_demo_fhir_build_encounter (JsonBuilder *b,
                              const char  *status,
                              const char  *patient,
                              const char  *patient_display,
                              const char  *doctor,
                              const char  *doctor_display,
                              const char  *appointment,
                              const char  *start,
                              const char  *end,
                              const char  *reason)
{
  wz_demo_fhir_begin_resource (b, "Encounter");
  wz_demo_fhir_add_string (b, "status", status);
  json_builder_set_member_name (b, "class");
  wz_json_add_coding (b, "http://terminology.hl7.org/CodeSystem/v3-ActCode", "VR", "virtual");
  wz_demo_fhir_add_reference (b, "subject", patient, patient_display);
  json_builder_set_member_name (b, "participant");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  wz_demo_fhir_add_reference (b, "individual", doctor, doctor_display);
  json_builder_end_object (b);
  json_builder_end_array (b);
  if (appointment != NULL)
    wz_demo_fhir_add_list_of_one (b, "appointment", "reference", appointment);
  json_builder_set_member_name (b, "period");
  json_builder_begin_object (b);
  wz_demo_fhir_add_string (b, "start", start);
  if (end != NULL)
    wz_demo_fhir_add_string (b, "end", end);
  json_builder_end_object (b);
  wz_demo_fhir_add_list_of_one (b, "reasonCode", "text", reason);
  json_builder_end_object (b);
}

void
wz_demo_fhir_add_guardian (JsonBuilder *b,
                           const char  *relation,
                           const char  *relation_display,
                           const char  *relation_text,
                           const char  *name_text,
                           const char  *family,
                           const char  *given,
                           const char  *phone)
{
  json_builder_set_member_name (b, "contact");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "relationship");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "coding");
  json_builder_begin_array (b);
  wz_json_add_coding (b, ROLE_CODE, "GUARD", "guardian");
  if (relation != NULL)
    wz_json_add_coding (b, ROLE_CODE, relation, relation_display);
  json_builder_end_array (b);
  if (relation_text != NULL)
    wz_demo_fhir_add_string (b, "text", relation_text);
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "name");
  json_builder_begin_object (b);
  wz_demo_fhir_add_string (b, "text", name_text);
  wz_demo_fhir_add_string (b, "family", family);
  if (given != NULL)
    {
      json_builder_set_member_name (b, "given");
      json_builder_begin_array (b);
      json_builder_add_string_value (b, given);
      json_builder_end_array (b);
    }
  json_builder_end_object (b);
  if (phone != NULL)
    {
      json_builder_set_member_name (b, "telecom");
      json_builder_begin_array (b);
      json_builder_begin_object (b);
      wz_demo_fhir_add_string (b, "system", "phone");
      wz_demo_fhir_add_string (b, "value", phone);
      json_builder_end_object (b);
      json_builder_end_array (b);
    }
  json_builder_end_object (b);
  json_builder_end_array (b);
}
