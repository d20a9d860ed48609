/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-followup-demo"

#include "config.h"

#include "wz-followup-demo.h"

#include <string.h>

#include "wz-careplan-template.h"
#include "wz-error.h"
#include "wz-followup-alerts.h"
#include "wz-json.h"
#include "wz-nip-schedule.h"
#include "wz-static-routes.h"
#include "wz-time.h"

#define ZONE "Asia/Shanghai"
#define TASK_CODE_SYSTEM "http://hl7.org/fhir/CodeSystem/task-code"
#define FORMULARY_SYSTEM "https://wenzhen.github.io/fhir/CodeSystem/formulary"
#define FREQUENCY_SYSTEM "https://wenzhen.github.io/fhir/CodeSystem/rx-frequency"
/* Doses given up to this many days ago; the later ones are what the demo child is due. */
#define CHILD_HISTORY_UNTIL_DAYS 120

static WzStoredResource *
store_text (WzStore     *store,
            const char  *text,
            GError     **error)
{
  g_autoptr(JsonNode) node = json_from_string (text, error);

  if (node == NULL)
    return NULL;
  return wz_store_create (store, json_node_get_object (node), NULL, NULL, error);
}

static gboolean
store_node (WzStore   *store,
            JsonNode  *node,
            char     **out_id,
            GError   **error)
{
  g_autoptr(WzStoredResource) stored = wz_store_create (store, json_node_get_object (node), NULL,
                                                        NULL, error);

  if (stored == NULL)
    return FALSE;
  if (out_id != NULL)
    *out_id = g_strdup (stored->id);
  return TRUE;
}

/* "YYYY-MM-DDTHH:MM:00+08:00" DAYS days from today. */
static char *
beijing_time (WzDay       today,
              gint        days,
              const char *clock)
{
  char day[16];

  return g_strdup_printf ("%sT%s:00+08:00", wz_day_format_buf (wz_day_add_days (today, days), day),
                          clock);
}

static gboolean
add_care_plan (WzStore     *store,
               const char  *adult,
               const char  *doctor,
               WzDay        today,
               GError     **error)
{
  g_autofree char *path = NULL;
  g_autofree char *data_dir = wz_static_data_dir ();
  g_autoptr(GPtrArray) templates = NULL;
  g_autoptr(WzCareplanInstance) instance = NULL;
  g_autofree char *authored = NULL;
  g_autofree char *plan_id = NULL;
  g_autofree char *plan_ref = NULL;
  const char *conditions[] = { "I10", "E11", NULL };
  WzCareplanRequest request = { NULL, };
  WzCareplanTemplate *template;
  WzDay start = wz_day_add_days (today, -100);
  gboolean revisit_left = FALSE;
  gint last_checkin = -1;
  char today_text[16];

  path = g_build_filename (data_dir, "clinical", "followup-templates.json", NULL);
  if ((templates = wz_careplan_template_load_file (path, error)) == NULL)
    return FALSE;
  if ((template = wz_careplan_template_find (templates, "hypertension")) == NULL)
    {
      g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INTERNAL,
                           "The care-plan templates have no hypertension plan");
      return FALSE;
    }
  authored = beijing_time (today, -100, "10:00");
  request.patient_ref = adult;
  request.author_ref = doctor;
  request.identifier = "urn:uuid:8d0f5a52-64e1-4c1e-9a51-2f6a7e1c0b01";
  request.anchor = start;
  request.created = start;
  request.conditions = conditions;
  request.age_years = 75;
  request.authored_on = authored;
  request.lang = "zh";
  if ((instance = wz_careplan_template_instantiate (template, &request, error)) == NULL ||
      !store_node (store, instance->careplan, &plan_id, error))
    return FALSE;
  plan_ref = g_strconcat ("CarePlan/", plan_id, NULL);
  wz_careplan_instance_set_plan (instance, plan_ref);
  wz_day_format_buf (today, today_text);

  /* The last check-in whose window has passed is the one the patient missed. */
  for (guint i = 0; i < instance->tasks->len; i++)
    {
      JsonObject *task = json_node_get_object (g_ptr_array_index (instance->tasks, i));
      const char *kind = wz_json_get_string (json_array_get_object_element (
        wz_json_get_array (wz_json_get_object (task, "code"), "coding"), 0), "code");
      const char *end = wz_json_get_string (wz_json_get_object (wz_json_get_object (task,
                                                                                    "restriction"),
                                                                "period"), "end");

      if (g_strcmp0 (kind, "adherence-checkin") == 0 && end != NULL && strcmp (end, today_text) < 0)
        last_checkin = i;
    }

  for (guint i = 0; i < instance->tasks->len; i++)
    {
      JsonObject *task = json_node_get_object (g_ptr_array_index (instance->tasks, i));
      const char *kind = wz_json_get_string (json_array_get_object_element (
        wz_json_get_array (wz_json_get_object (task, "code"), "coding"), 0), "code");
      const char *end = wz_json_get_string (wz_json_get_object (wz_json_get_object (task,
                                                                                    "restriction"),
                                                                "period"), "end");

      /* What was due before today was done, but for the first revisit (overdue on the doctor's
       * worklist) and the last check-in (missed). */
      if (g_strcmp0 (kind, "measurement") != 0 && end != NULL && strcmp (end, today_text) < 0)
        {
          if (g_strcmp0 (kind, "revisit") == 0 && !revisit_left)
            revisit_left = TRUE;
          else if ((gint) i != last_checkin)
            {
              g_autofree char *done = g_strdup_printf ("%sT09:00:00+08:00", end);

              json_object_set_string_member (task, "status", "completed");
              json_object_set_string_member (task, "lastModified", done);
            }
        }
      if (!store_node (store, g_ptr_array_index (instance->tasks, i), NULL, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
add_reading (WzStore     *store,
             const char  *adult,
             WzDay        today,
             GError     **error)
{
  g_autofree char *when = beijing_time (today, -1, "07:40");
  g_autofree char *text = g_strdup_printf (
    "{\"resourceType\":\"Observation\",\"identifier\":[{\"system\":\"urn:ietf:rfc:3986\","
    "\"value\":\"urn:uuid:0b6f1f0e-5d1c-4a8e-b7c2-1c7a4d9e2f30\"}],\"status\":\"final\","
    "\"category\":[{\"coding\":[{\"system\":"
    "\"http://terminology.hl7.org/CodeSystem/observation-category\",\"code\":\"vital-signs\"}]}],"
    "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"85354-9\"}],"
    "\"text\":\"血压 Blood pressure\"},\"subject\":{\"reference\":\"%s\"},"
    "\"performer\":[{\"reference\":\"%s\"}],\"effectiveDateTime\":\"%s\",\"component\":["
    "{\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"8480-6\"},{\"system\":"
    "\"" WZ_FOLLOWUP_MEASUREMENT_SYSTEM "\",\"code\":\"home_bp_systolic\"}]},\"valueQuantity\":"
    "{\"value\":162,\"unit\":\"mm[Hg]\",\"system\":\"http://unitsofmeasure.org\",\"code\":"
    "\"mm[Hg]\"}},{\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"8462-4\"},"
    "{\"system\":\"" WZ_FOLLOWUP_MEASUREMENT_SYSTEM "\",\"code\":\"home_bp_diastolic\"}]},"
    "\"valueQuantity\":{\"value\":98,\"unit\":\"mm[Hg]\",\"system\":"
    "\"http://unitsofmeasure.org\",\"code\":\"mm[Hg]\"}}]}", adult, adult, when);
  g_autoptr(WzStoredResource) stored = store_text (store, text, error);
  g_autoptr(GPtrArray) flags = NULL;

  if (stored == NULL)
    return FALSE;
  /* As the server does for every new reading. */
  flags = wz_followup_alerts_judge (store, stored, error);
  return flags != NULL;
}

static char *
medication_request (const char *adult,
                    const char *doctor,
                    const char *status,
                    const char *code,
                    const char *name,
                    const char *dosage,
                    const char *frequency,
                    double      dose,
                    guint       quantity,
                    guint       days,
                    const char *authored)
{
  return g_strdup_printf (
    "{\"resourceType\":\"MedicationRequest\",\"status\":\"%s\",\"intent\":\"order\","
    "\"medicationCodeableConcept\":{\"coding\":[{\"system\":\"" FORMULARY_SYSTEM "\",\"code\":"
    "\"%s\",\"display\":\"%s\"}],\"text\":\"%s\"},\"subject\":{\"reference\":\"%s\"},"
    "\"requester\":{\"reference\":\"%s\"},\"authoredOn\":\"%s\",\"dosageInstruction\":[{"
    "\"text\":\"%s\",\"timing\":{\"code\":{\"coding\":[{\"system\":\"" FREQUENCY_SYSTEM "\","
    "\"code\":\"%s\"}]}},\"route\":{\"text\":\"oral\"},\"doseAndRate\":[{\"doseQuantity\":"
    "{\"value\":%g,\"unit\":\"mg\"}}]}],\"dispenseRequest\":{\"quantity\":{\"value\":%u,"
    "\"unit\":\"片\"},\"expectedSupplyDuration\":{\"value\":%u,\"unit\":\"d\",\"code\":\"d\"}}}",
    status, code, name, name, adult, doctor, authored, dosage, frequency, dose, quantity, days);
}

static gboolean
add_prescriptions (WzStore     *store,
                   const char  *adult,
                   const char  *doctor,
                   const char  *pharmacist,
                   WzDay        today,
                   GError     **error)
{
  g_autofree char *signed_at = beijing_time (today, -27, "10:05");
  g_autofree char *approved_at = beijing_time (today, -27, "10:40");
  g_autofree char *draft_at = beijing_time (today, 0, "08:30");
  g_autofree char *active = medication_request (adult, doctor, "active", "WZ0001",
                                                "氨氯地平片 Amlodipine 5 mg tablets",
                                                "每日一次，每次5 mg 5 mg once a day", "qd", 5, 30,
                                                30, signed_at);
  g_autofree char *draft = medication_request (adult, doctor, "draft", "WZ0002",
                                               "左氨氯地平片 Levamlodipine 2.5 mg tablets",
                                               "每日一次，每次2.5 mg 2.5 mg once a day", "qd", 2.5,
                                               30, 30, draft_at);
  g_autoptr(WzStoredResource) request = NULL;
  g_autoptr(WzStoredResource) task = NULL;
  g_autoptr(WzStoredResource) unsigned_draft = NULL;
  g_autofree char *task_text = NULL;

  if ((request = store_text (store, active, error)) == NULL ||
      (unsigned_draft = store_text (store, draft, error)) == NULL)
    return FALSE;
  /* The pharmacist's review, as $approve leaves it. */
  task_text = g_strdup_printf (
    "{\"resourceType\":\"Task\",\"status\":\"completed\",\"intent\":\"order\",\"code\":{"
    "\"coding\":[{\"system\":\"" TASK_CODE_SYSTEM "\",\"code\":\"approve\"}],\"text\":"
    "\"处方审核 Prescription review\"},\"description\":\"药师审核处方 Pharmacist review of a "
    "signed prescription\",\"focus\":{\"reference\":\"MedicationRequest/%s\"},\"for\":{"
    "\"reference\":\"%s\"},\"authoredOn\":\"%s\",\"lastModified\":\"%s\",\"requester\":{"
    "\"reference\":\"%s\"},\"owner\":{\"reference\":\"%s\"},\"input\":[{\"type\":{\"text\":"
    "\"MedicationRequest\"},\"valueReference\":{\"reference\":\"MedicationRequest/%s\"}}]}",
    request->id, adult, signed_at, approved_at, doctor, pharmacist, request->id);
  task = store_text (store, task_text, error);
  return task != NULL;
}

static gboolean
add_child_history (WzStore     *store,
                   const char  *child,
                   const char  *doctor,
                   WzDay        today,
                   GError     **error)
{
  g_autofree char *data_dir = wz_static_data_dir ();
  g_autofree char *path = g_build_filename (data_dir, "clinical", "nip-schedule.json", NULL);
  g_autoptr(WzNipSchedule) schedule = NULL;
  g_autoptr(WzStoredResource) patient = NULL;
  g_autoptr(JsonNode) patient_root = NULL;
  g_autoptr(GArray) history = g_array_new (FALSE, TRUE, sizeof (WzNipDose));
  WzDay birth, until = wz_day_add_days (today, -CHILD_HISTORY_UNTIL_DAYS);
  const char *birth_text;

  if ((schedule = wz_nip_schedule_new_from_file (path, error)) == NULL ||
      (patient = wz_store_read (store, "Patient", child + strlen ("Patient/"), error)) == NULL)
    return FALSE;
  {
    /* Stored JSON is not NUL-terminated. */
    g_autoptr(JsonParser) parser = json_parser_new_immutable ();
    gsize length;
    const char *data = g_bytes_get_data (patient->json, &length);

    if (!json_parser_load_from_data (parser, data, length, error))
      return FALSE;
    patient_root = json_node_ref (json_parser_get_root (parser));
  }
  birth_text = wz_json_get_string (json_node_get_object (patient_root), "birthDate");
  if (birth_text == NULL || !wz_day_parse (birth_text, &birth))
    return TRUE;

  /* A family that keeps to the schedule: on each day a dose becomes due (the schedule computed as
   * of that day), everything due is given, until a few months ago. */
  for (WzDay day = birth; day != WZ_DAY_NONE && day <= until;)
    {
      g_autoptr(WzNipForecast) forecast = wz_nip_schedule_compute (schedule, birth, day,
                                                                   (WzNipDose *) history->data,
                                                                   history->len, NULL, error);
      WzDay next = WZ_DAY_NONE;
      gboolean gave = FALSE;

      if (forecast == NULL)
        return FALSE;
      for (guint i = 0; i < forecast->doses->len; i++)
        {
          const WzNipForecastDose *dose = &g_array_index (forecast->doses, WzNipForecastDose, i);

          if ((dose->status == WZ_NIP_DUE || dose->status == WZ_NIP_OVERDUE) &&
              dose->earliest != WZ_DAY_NONE && dose->earliest <= day && history->len < 64)
            {
              WzNipDose given = { dose->product->id, day, NULL, FALSE };

              g_array_append_val (history, given);
              gave = TRUE;
            }
          else if (dose->status == WZ_NIP_NOT_YET_DUE && dose->earliest > day &&
                   (next == WZ_DAY_NONE || dose->earliest < next))
            next = dose->earliest;
        }
      if (!gave)
        day = next;
    }

  for (guint i = 0; i < history->len; i++)
    {
      const WzNipDose *dose = &g_array_index (history, WzNipDose, i);
      const WzNipVaccine *vaccine = wz_nip_schedule_get_vaccine (schedule, dose->vaccine);
      char day[16];
      g_autofree char *text = g_strdup_printf (
        "{\"resourceType\":\"Immunization\",\"status\":\"completed\",\"vaccineCode\":{\"coding\":"
        "[{\"system\":\"" WZ_NIP_VACCINE_SYSTEM "\",\"code\":\"%s\"}],\"text\":\"%s\"},"
        "\"patient\":{\"reference\":\"%s\"},\"occurrenceDateTime\":\"%sT09:30:00+08:00\","
        "\"primarySource\":true,\"lotNumber\":\"DEMO-%04u\",\"performer\":[{\"actor\":{"
        "\"reference\":\"%s\"}}]}", dose->vaccine, wz_text_get (&vaccine->name, "zh"), child,
        wz_day_format_buf (dose->date, day), 1000 + i, doctor);
      g_autoptr(WzStoredResource) stored = store_text (store, text, error);

      if (stored == NULL)
        return FALSE;
    }
  return TRUE;
}

gboolean
wz_followup_demo_add (WzStore     *store,
                      const char  *adult,
                      const char  *child,
                      const char  *doctor,
                      const char  *pharmacist,
                      GError     **error)
{
  g_autoptr(GTimeZone) tz = wz_followup_time_zone (ZONE);
  WzDay today = wz_day_today (tz, wz_time_now_us ());

  return (adult == NULL ||
          (add_care_plan (store, adult, doctor, today, error) &&
           add_reading (store, adult, today, error) &&
           add_prescriptions (store, adult, doctor, pharmacist, today, error))) &&
         (child == NULL || add_child_history (store, child, doctor, today, error));
}
