/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-rx-rules"

#include "config.h"

#include "wz-rx-rules.h"
#include "wz-json.h"

#include <math.h>
#include <string.h>

#define DAYS_PER_YEAR      365.25
#define GUARDIAN_AGE_YEARS 6
#define ICD10              "http://hl7.org/fhir/sid/icd-10"
#define SNOMED             "http://snomed.info/sct"
#define V2_0276            "http://terminology.hl7.org/CodeSystem/v2-0276"

WzRxDiagnosis *
wz_rx_diagnosis_new (const char *reference,
                     const char *code,
                     const char *system,
                     const char *text)
{
  WzRxDiagnosis *diagnosis = g_new0 (WzRxDiagnosis, 1);

  diagnosis->reference = g_strdup (reference);
  diagnosis->code = g_strdup (code);
  diagnosis->system = g_strdup (system);
  diagnosis->text = g_strdup (text);
  return diagnosis;
}

void
wz_rx_diagnosis_free (WzRxDiagnosis *diagnosis)
{
  if (diagnosis == NULL)
    return;
  g_free (diagnosis->reference);
  g_free (diagnosis->code);
  g_free (diagnosis->system);
  g_free (diagnosis->text);
  g_free (diagnosis->clinical_status);
  g_free (diagnosis->verification);
  g_free (diagnosis->recorded_date);
  g_free (diagnosis->encounter);
  g_free (diagnosis);
}

void
wz_rx_violation_free (WzRxViolation *violation)
{
  if (violation == NULL)
    return;
  g_free (violation->code);
  g_free (violation->key);
  g_free (violation->message_en);
  g_free (violation->message_zh);
  g_free (violation);
}

static void
add_violation (GPtrArray  *violations,
               const char *code,
               const char *key,
               int         line,
               gboolean    overridable,
               char       *message_en,
               char       *message_zh)
{
  WzRxViolation *violation = g_new0 (WzRxViolation, 1);

  violation->code = g_strdup (code);
  violation->key = g_strdup (key ? key : code);
  violation->line = line;
  violation->overridable = overridable;
  violation->message_en = message_en;
  violation->message_zh = message_zh;
  g_ptr_array_add (violations, violation);
}

static gboolean
is_withdrawn (const WzRxDiagnosis *diagnosis)
{
  return g_strcmp0 (diagnosis->verification, "refuted") == 0 ||
         g_strcmp0 (diagnosis->verification, "entered-in-error") == 0;
}

static gboolean
is_active (const WzRxDiagnosis *diagnosis)
{
  return diagnosis->clinical_status == NULL ||
         g_strcmp0 (diagnosis->clinical_status, "active") == 0 ||
         g_strcmp0 (diagnosis->clinical_status, "recurrence") == 0 ||
         g_strcmp0 (diagnosis->clinical_status, "relapse") == 0;
}

/* Compares the date part of two FHIR dates/dateTimes; partial dates compare by what they have. */
static gboolean
date_before (const char *a,
             const char *b)
{
  gsize n;

  if (a == NULL || b == NULL)
    return FALSE;
  n = MIN (MIN (strlen (a), strlen (b)), 10);
  return strncmp (a, b, n) < 0;
}

static gboolean
is_followup (const WzRxRulesContext *context)
{
  const char *start = context->encounter_start ? context->encounter_start : context->today;

  for (guint i = 0; i < context->diagnoses->len; i++)
    {
      const WzRxDiagnosis *diagnosis = g_ptr_array_index (context->diagnoses, i);

      if (is_withdrawn (diagnosis) || !is_active (diagnosis))
        continue;

      if (date_before (diagnosis->recorded_date, start) &&
          (diagnosis->encounter == NULL || context->encounter == NULL ||
           strcmp (diagnosis->encounter, context->encounter) != 0))
        return TRUE;

      if (context->encounter_is_followup && g_strcmp0 (diagnosis->verification, "confirmed") == 0)
        return TRUE;
    }

  return FALSE;
}

gboolean
wz_rx_rules_is_chronic (WzFormulary            *formulary,
                        const WzRxRulesContext *context,
                        const WzDrug           *drug)
{
  gboolean any_listed = FALSE;
  gboolean any_chronic = FALSE;

  if (!drug->chronic)
    return FALSE;

  for (guint i = 0; i < context->diagnoses->len; i++)
    {
      const WzRxDiagnosis *diagnosis = g_ptr_array_index (context->diagnoses, i);
      gboolean chronic;

      if (is_withdrawn (diagnosis) || g_strcmp0 (diagnosis->system, ICD10) != 0)
        continue;
      if (wz_formulary_icd10_is_chronic (formulary, diagnosis->code, &chronic))
        {
          any_listed = TRUE;
          any_chronic |= chronic;
        }
    }

  return !any_listed || any_chronic;
}

static const char *
controlled_zh (WzControlledClass value)
{
  static const char *const names[] = {
    "", "麻醉药品", "第一类精神药品", "第二类精神药品", "医疗用毒性药品", "放射性药品",
    "易制毒化学品"
  };

  return names[value];
}

static const char *
reason_for (GHashTable *overrides,
            const char *key)
{
  const char *reason = overrides ? g_hash_table_lookup (overrides, key) : NULL;

  if (reason == NULL)
    return NULL;
  while (g_unichar_isspace (g_utf8_get_char (reason)))
    reason = g_utf8_next_char (reason);
  return *reason ? reason : NULL;
}

GPtrArray *
wz_rx_rules_evaluate (WzFormulary            *formulary,
                      const WzRxRulesContext *context,
                      GPtrArray              *lines,
                      GPtrArray              *findings,
                      GHashTable             *overrides)
{
  GPtrArray *violations = g_ptr_array_new_with_free_func ((GDestroyNotify) wz_rx_violation_free);
  guint n_diagnoses = 0;

  for (guint i = 0; i < context->diagnoses->len; i++)
    if (!is_withdrawn (g_ptr_array_index (context->diagnoses, i)))
      n_diagnoses++;

  if (lines->len == 0)
    add_violation (violations, "no-lines", NULL, -1, FALSE,
                   g_strdup ("The prescription has no lines."),
                   g_strdup ("处方中没有药品。"));

  if (n_diagnoses == 0)
    add_violation (violations, "no-diagnosis", NULL, -1, FALSE,
                   g_strdup ("No diagnosis: a prescription must name the diagnosed condition it "
                             "treats (reasonReference to a Condition)."),
                   g_strdup ("无诊断：处方必须关联所治疗的已确诊疾病。"));
  else if (!is_followup (context))
    add_violation (violations, "followup-required", NULL, -1, FALSE,
                   g_strdup ("Online prescriptions are only for a follow-up visit of a condition "
                             "diagnosed before this visit. For a first diagnosis give advice or "
                             "refer the patient to an in-person visit."),
                   g_strdup ("互联网诊疗仅可为复诊患者开具处方，且疾病须在本次就诊前已确诊。"
                             "首诊患者请给予建议或转线下就诊。"));

  if (context->age_days < 0)
    add_violation (violations, "birthdate-required", NULL, -1, FALSE,
                   g_strdup ("The patient's date of birth is not recorded, so the age rules "
                             "cannot be applied. Record it first."),
                   g_strdup ("未记录患者出生日期，无法核对年龄相关规定，请先补充。"));
  else if (context->age_days / DAYS_PER_YEAR < GUARDIAN_AGE_YEARS && !context->has_guardian)
    add_violation (violations, "guardian-required", NULL, -1, FALSE,
                   g_strdup ("The patient is under 6: record the guardian (a parent or legal "
                             "guardian with name) on the patient before prescribing."),
                   g_strdup ("患者未满6岁：开具处方前须登记监护人（父母或法定监护人及其姓名）。"));

  for (guint i = 0; i < lines->len; i++)
    {
      const WzRxLine *line = g_ptr_array_index (lines, i);
      const WzDrug *drug = wz_formulary_lookup (formulary, line->drug_code);
      const WzRxFrequency *frequency = wz_rx_frequency_lookup (line->frequency);
      g_autofree char *duration_key = NULL;
      guint max_days;

      if (drug == NULL)
        {
          add_violation (violations, "not-in-formulary", NULL, i, FALSE,
                         g_strdup_printf ("Line %u: “%s” is not a product of the formulary.", i + 1,
                                          line->drug_code ? line->drug_code : ""),
                         g_strdup_printf ("第%u行：“%s”不在药品目录中。", i + 1,
                                          line->drug_code ? line->drug_code : ""));
          continue;
        }

      if (drug->controlled_class != WZ_CONTROLLED_NONE)
        add_violation (violations, "controlled-substance", NULL, i, FALSE,
                       g_strdup_printf ("Line %u: %s is a controlled medicine (%s); it cannot be "
                                        "prescribed online.", i + 1, drug->generic_name_en,
                                        wz_controlled_class_to_string (drug->controlled_class)),
                       g_strdup_printf ("第%u行：%s属于%s，不得在互联网诊疗中开具。", i + 1,
                                        drug->generic_name_zh,
                                        controlled_zh (drug->controlled_class)));

      if (isnan (line->dose) || line->dose <= 0 || line->dose_unit == NULL ||
          *line->dose_unit == '\0' || frequency == NULL)
        add_violation (violations, "dose-missing", NULL, i, FALSE,
                       g_strdup_printf ("Line %u: %s needs a dose with its unit and a known "
                                        "frequency.", i + 1, drug->generic_name_en),
                       g_strdup_printf ("第%u行：%s须填写剂量、单位和用药频次。", i + 1,
                                        drug->generic_name_zh));

      if (frequency != NULL && frequency->single)
        continue;

      if (isnan (line->duration_days) || line->duration_days <= 0)
        {
          add_violation (violations, "duration-missing", NULL, i, FALSE,
                         g_strdup_printf ("Line %u: give the number of days for %s.", i + 1,
                                          drug->generic_name_en),
                         g_strdup_printf ("第%u行：请填写%s的用药天数。", i + 1,
                                          drug->generic_name_zh));
          continue;
        }

      max_days = wz_rx_rules_is_chronic (formulary, context, drug)
                 ? WZ_RX_MAX_DAYS_CHRONIC : WZ_RX_MAX_DAYS_ACUTE;
      duration_key = g_strconcat ("duration-exceeded:", drug->code, NULL);
      if (line->duration_days > max_days && reason_for (overrides, duration_key) == NULL)
        add_violation (violations, "duration-exceeded", duration_key, i, TRUE,
                       g_strdup_printf ("Line %u: %g days of %s is more than the %u days allowed "
                                        "for %s condition; shorten it or give a reason.", i + 1,
                                        line->duration_days, drug->generic_name_en, max_days,
                                        max_days == WZ_RX_MAX_DAYS_CHRONIC
                                        ? "a chronic stable" : "an acute"),
                       g_strdup_printf ("第%u行：%s用药%g天，超过%s允许的%u天；请缩短或说明理由。",
                                        i + 1, drug->generic_name_zh, line->duration_days,
                                        max_days == WZ_RX_MAX_DAYS_CHRONIC
                                        ? "慢性病稳定期" : "急性病", max_days));
    }

  for (guint i = 0; findings != NULL && i < findings->len; i++)
    {
      const WzRxFinding *finding = g_ptr_array_index (findings, i);

      if (finding->severity == WZ_RX_SEVERITY_HIGH && reason_for (overrides, finding->key) == NULL)
        add_violation (violations, "override-required", finding->key, finding->line, TRUE,
                       g_strdup_printf ("A high-severity finding needs a reason to go ahead: %s",
                                        finding->message_en),
                       g_strdup_printf ("高风险提示须填写继续用药的理由：%s", finding->message_zh));
    }

  return violations;
}

/* --- FHIR JSON ------------------------------------------------------------------------------ */

static JsonObject *
first_object (JsonArray *array)
{
  JsonNode *node;

  if (array == NULL || json_array_get_length (array) == 0)
    return NULL;
  node = json_array_get_element (array, 0);
  return JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static double
number_member (JsonObject *object,
               const char *name)
{
  JsonNode *node = object ? json_object_get_member (object, name) : NULL;
  GType type;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return NAN;
  type = json_node_get_value_type (node);
  if (type == G_TYPE_INT64)
    return json_node_get_int (node);
  if (type == G_TYPE_DOUBLE)
    return json_node_get_double (node);
  return NAN;
}

static const char *const guardian_roles[] = {
  "GUARD", "PRN", "NPRN", "FTH", "MTH", "NFTH", "NMTH", "ADOPTF", "ADOPTM", "STPFTH", "STPMTH",
  NULL
};

static const char *const guardian_words[] = {
  "监护人", "父亲", "母亲", "guardian", "parent", "father", "mother", NULL
};

static gboolean
relationship_is_guardian (JsonObject *relationship)
{
  JsonArray *codings = wz_json_get_array (relationship, "coding");
  const char *text = wz_json_get_string (relationship, "text");

  for (guint i = 0; codings != NULL && i < json_array_get_length (codings); i++)
    {
      JsonNode *node = json_array_get_element (codings, i);
      const char *code;

      if (JSON_NODE_HOLDS_OBJECT (node) &&
          (code = wz_json_get_string (json_node_get_object (node), "code")) != NULL &&
          g_strv_contains (guardian_roles, code))
        return TRUE;
    }

  if (text != NULL)
    {
      g_autofree char *folded = g_utf8_casefold (text, -1);

      for (guint i = 0; guardian_words[i] != NULL; i++)
        if (strstr (folded, guardian_words[i]) != NULL)
          return TRUE;
    }

  return FALSE;
}

gboolean
wz_rx_patient_has_guardian (JsonObject *patient)
{
  JsonArray *contacts = wz_json_get_array (patient, "contact");

  for (guint i = 0; contacts != NULL && i < json_array_get_length (contacts); i++)
    {
      JsonNode *node = json_array_get_element (contacts, i);
      JsonObject *contact;
      JsonObject *name;
      JsonArray *relationships;
      gboolean named;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        continue;
      contact = json_node_get_object (node);
      name = wz_json_get_object (contact, "name");
      named = name != NULL && (wz_json_get_string (name, "text") != NULL ||
                               wz_json_get_string (name, "family") != NULL);
      relationships = wz_json_get_array (contact, "relationship");
      for (guint r = 0; named && relationships != NULL && r < json_array_get_length (relationships);
           r++)
        {
          JsonNode *relationship = json_array_get_element (relationships, r);

          if (JSON_NODE_HOLDS_OBJECT (relationship) &&
              relationship_is_guardian (json_node_get_object (relationship)))
            return TRUE;
        }
    }

  return FALSE;
}

static const char *
coding_code (JsonObject *concept,
             const char *preferred_system)
{
  JsonArray *codings = wz_json_get_array (concept, "coding");
  const char *first = NULL;

  for (guint i = 0; codings != NULL && i < json_array_get_length (codings); i++)
    {
      JsonNode *node = json_array_get_element (codings, i);
      JsonObject *coding;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        continue;
      coding = json_node_get_object (node);
      if (preferred_system != NULL &&
          g_strcmp0 (wz_json_get_string (coding, "system"), preferred_system) == 0)
        return wz_json_get_string (coding, "code");
      if (first == NULL)
        first = wz_json_get_string (coding, "code");
    }

  return first;
}

WzRxLine *
wz_rx_line_from_medication_request (JsonObject *request)
{
  JsonObject *medication = wz_json_get_object (request, "medicationCodeableConcept");
  JsonObject *dosage = first_object (wz_json_get_array (request, "dosageInstruction"));
  JsonObject *dose_and_rate = first_object (wz_json_get_array (dosage, "doseAndRate"));
  JsonObject *quantity = wz_json_get_object (dose_and_rate, "doseQuantity");
  JsonObject *timing = wz_json_get_object (dosage, "timing");
  JsonObject *supply = wz_json_get_object (wz_json_get_object (request, "dispenseRequest"),
                                      "expectedSupplyDuration");
  JsonNode *as_needed = dosage ? json_object_get_member (dosage, "asNeededBoolean") : NULL;
  const char *unit = wz_json_get_string (quantity, "unit");
  const char *frequency = coding_code (wz_json_get_object (timing, "code"), NULL);
  const char *supply_unit = wz_json_get_string (supply, "code");
  const char *id = wz_json_get_string (request, "id");
  double duration = number_member (supply, "value");
  WzRxLine *line;

  if (unit == NULL)
    unit = wz_json_get_string (quantity, "code");
  if (supply_unit == NULL)
    supply_unit = wz_json_get_string (supply, "unit");
  if (g_strcmp0 (supply_unit, "wk") == 0)
    duration *= 7;
  else if (supply_unit != NULL && g_strcmp0 (supply_unit, "d") != 0 &&
           g_strcmp0 (supply_unit, "day") != 0 && g_strcmp0 (supply_unit, "days") != 0)
    duration = NAN;

  if (as_needed != NULL && JSON_NODE_HOLDS_VALUE (as_needed) &&
      json_node_get_value_type (as_needed) == G_TYPE_BOOLEAN && json_node_get_boolean (as_needed))
    frequency = "prn";

  line = wz_rx_line_new (coding_code (medication, WZ_FORMULARY_SYSTEM),
                         number_member (quantity, "value"), unit, frequency, duration);
  line->route = g_strdup (coding_code (wz_json_get_object (dosage, "route"), NULL));
  if (g_strcmp0 (frequency, "prn") == 0)
    {
      JsonObject *repeat = wz_json_get_object (timing, "repeat");
      double per = number_member (repeat, "period");

      if (g_strcmp0 (wz_json_get_string (repeat, "periodUnit"), "d") == 0 && per == 1)
        line->max_doses_per_day = number_member (repeat, "frequency");
    }
  if (id != NULL)
    line->reference = g_strconcat ("MedicationRequest/", id, NULL);

  return line;
}

WzRxDiagnosis *
wz_rx_diagnosis_from_condition (JsonObject *condition,
                                const char *reference)
{
  JsonObject *code = wz_json_get_object (condition, "code");
  JsonArray *codings = wz_json_get_array (code, "coding");
  const char *system = NULL;
  const char *value = NULL;
  const char *text = wz_json_get_string (code, "text");
  const char *recorded = wz_json_get_string (condition, "recordedDate");
  JsonObject *encounter = wz_json_get_object (condition, "encounter");
  WzRxDiagnosis *diagnosis;

  /* Prefer the ICD-10 coding: it is what the chronic list is keyed on. */
  for (guint i = 0; codings != NULL && i < json_array_get_length (codings); i++)
    {
      JsonNode *node = json_array_get_element (codings, i);
      JsonObject *coding;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        continue;
      coding = json_node_get_object (node);
      if (value == NULL || g_strcmp0 (wz_json_get_string (coding, "system"), ICD10) == 0)
        {
          system = wz_json_get_string (coding, "system");
          value = wz_json_get_string (coding, "code");
          if (text == NULL)
            text = wz_json_get_string (coding, "display");
        }
    }

  diagnosis = wz_rx_diagnosis_new (reference, value, system, text);
  diagnosis->clinical_status = g_strdup (coding_code (wz_json_get_object (condition, "clinicalStatus"),
                                                      NULL));
  diagnosis->verification = g_strdup (coding_code (wz_json_get_object (condition, "verificationStatus"),
                                                   NULL));
  if (recorded == NULL)
    recorded = wz_json_get_string (condition, "onsetDateTime");
  diagnosis->recorded_date = g_strdup (recorded);
  diagnosis->encounter = g_strdup (wz_json_get_string (encounter, "reference"));

  return diagnosis;
}
