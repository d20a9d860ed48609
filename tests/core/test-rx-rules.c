/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>

#include "wz-rx-rules.h"

#define ICD10 "http://hl7.org/fhir/sid/icd-10"
#define YEAR 365.25

static WzFormulary *formulary;

typedef struct
{
  WzRxRulesContext  context;
  GPtrArray        *lines;
  GPtrArray        *findings;
  GHashTable       *overrides;
} Fixture;

/* An adult on a follow-up visit for hypertension diagnosed last year. */
static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  WzRxDiagnosis *diagnosis;

  fixture->context.age_days = 50 * YEAR;
  fixture->context.has_guardian = FALSE;
  fixture->context.encounter = "Encounter/e1";
  fixture->context.encounter_start = "2024-05-01T09:00:00+08:00";
  fixture->context.encounter_is_followup = FALSE;
  fixture->context.today = "2024-05-01";
  fixture->context.diagnoses = g_ptr_array_new_with_free_func ((GDestroyNotify) wz_rx_diagnosis_free);
  diagnosis = wz_rx_diagnosis_new ("Condition/c1", "I10", ICD10, "Hypertension");
  diagnosis->clinical_status = g_strdup ("active");
  diagnosis->verification = g_strdup ("confirmed");
  diagnosis->recorded_date = g_strdup ("2023-06-01");
  g_ptr_array_add (fixture->context.diagnoses, diagnosis);

  fixture->lines = g_ptr_array_new_with_free_func ((GDestroyNotify) wz_rx_line_free);
  g_ptr_array_add (fixture->lines, wz_rx_line_new ("WZ0001", 5, "mg", "qd", 30));
  fixture->findings = g_ptr_array_new_with_free_func ((GDestroyNotify) wz_rx_finding_free);
  fixture->overrides = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  g_ptr_array_unref (fixture->context.diagnoses);
  g_ptr_array_unref (fixture->lines);
  g_ptr_array_unref (fixture->findings);
  g_hash_table_unref (fixture->overrides);
}

static GPtrArray *
evaluate (Fixture *fixture)
{
  return wz_rx_rules_evaluate (formulary, &fixture->context, fixture->lines, fixture->findings,
                               fixture->overrides);
}

static const WzRxViolation *
find (GPtrArray  *violations,
      const char *code)
{
  for (guint i = 0; i < violations->len; i++)
    if (strcmp (((WzRxViolation *) g_ptr_array_index (violations, i))->code, code) == 0)
      return g_ptr_array_index (violations, i);
  return NULL;
}

static WzRxDiagnosis *
diagnosis (Fixture *fixture)
{
  return g_ptr_array_index (fixture->context.diagnoses, 0);
}

static WzRxLine *
line (Fixture *fixture,
      guint    index)
{
  return g_ptr_array_index (fixture->lines, index);
}

static void
test_allowed (Fixture       *fixture,
              gconstpointer  data)
{
  g_autoptr(GPtrArray) violations = evaluate (fixture);

  g_assert_cmpuint (violations->len, ==, 0);
}

static void
test_no_diagnosis (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GPtrArray) violations = NULL;
  const WzRxViolation *violation;

  g_free (diagnosis (fixture)->verification);
  diagnosis (fixture)->verification = g_strdup ("entered-in-error");
  violations = evaluate (fixture);
  violation = find (violations, "no-diagnosis");
  g_assert_nonnull (violation);
  g_assert_false (violation->overridable);
  g_assert_nonnull (strstr (violation->message_zh, "无诊断"));
  g_clear_pointer (&violations, g_ptr_array_unref);

  g_ptr_array_set_size (fixture->context.diagnoses, 0);
  violations = evaluate (fixture);
  g_assert_nonnull (find (violations, "no-diagnosis"));
  /* One reason is enough: no follow-up complaint on top. */
  g_assert_null (find (violations, "followup-required"));
}

static void
test_first_visit (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GPtrArray) violations = NULL;

  /* Diagnosed today, in this visit: a first diagnosis. */
  g_free (diagnosis (fixture)->recorded_date);
  diagnosis (fixture)->recorded_date = g_strdup ("2024-05-01T09:10:00+08:00");
  violations = evaluate (fixture);
  g_assert_nonnull (find (violations, "followup-required"));
  g_clear_pointer (&violations, g_ptr_array_unref);

  /* A follow-up visit type with a confirmed diagnosis from elsewhere is a follow-up. */
  fixture->context.encounter_is_followup = TRUE;
  violations = evaluate (fixture);
  g_assert_null (find (violations, "followup-required"));
  g_clear_pointer (&violations, g_ptr_array_unref);

  /* … but not with a provisional one. */
  g_free (diagnosis (fixture)->verification);
  diagnosis (fixture)->verification = g_strdup ("provisional");
  violations = evaluate (fixture);
  g_assert_nonnull (find (violations, "followup-required"));
}

static void
test_followup_conditions (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(GPtrArray) violations = NULL;

  /* Recorded earlier, but belonging to this encounter (back-dated): not a follow-up. */
  diagnosis (fixture)->encounter = g_strdup ("Encounter/e1");
  violations = evaluate (fixture);
  g_assert_nonnull (find (violations, "followup-required"));
  g_clear_pointer (&violations, g_ptr_array_unref);

  g_free (diagnosis (fixture)->encounter);
  diagnosis (fixture)->encounter = g_strdup ("Encounter/e0");
  violations = evaluate (fixture);
  g_assert_null (find (violations, "followup-required"));
  g_clear_pointer (&violations, g_ptr_array_unref);

  /* A resolved condition is not one being followed up. */
  g_free (diagnosis (fixture)->clinical_status);
  diagnosis (fixture)->clinical_status = g_strdup ("resolved");
  violations = evaluate (fixture);
  g_assert_nonnull (find (violations, "followup-required"));
}

static void
test_controlled (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(GPtrArray) violations = NULL;
  const WzRxViolation *violation;

  g_ptr_array_add (fixture->lines, wz_rx_line_new ("WZ0150", 30, "mg", "bid", 3));  /* morphine */
  violations = evaluate (fixture);
  violation = find (violations, "controlled-substance");
  g_assert_nonnull (violation);
  g_assert_cmpint (violation->line, ==, 1);
  g_assert_false (violation->overridable);
  g_assert_nonnull (strstr (violation->message_en, "narcotic"));
  g_assert_nonnull (strstr (violation->message_zh, "麻醉药品"));
  g_clear_pointer (&violations, g_ptr_array_unref);

  /* An override reason changes nothing. */
  g_hash_table_insert (fixture->overrides, g_strdup ("controlled-substance"), g_strdup ("pain"));
  violations = evaluate (fixture);
  g_assert_nonnull (find (violations, "controlled-substance"));
}

static void
test_guardian (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GPtrArray) violations = NULL;
  g_autoptr(JsonNode) with = json_from_string ("{\"resourceType\":\"Patient\",\"contact\":[{"
                                               "\"relationship\":[{\"coding\":[{\"system\":"
                                               "\"http://terminology.hl7.org/CodeSystem/v3-RoleCode\","
                                               "\"code\":\"GUARD\"}]}],\"name\":{\"text\":\"王建国\"}}]}",
                                               NULL);
  g_autoptr(JsonNode) mother = json_from_string ("{\"contact\":[{\"relationship\":[{\"text\":"
                                                 "\"母亲\"}],\"name\":{\"family\":\"李\"}}]}", NULL);
  g_autoptr(JsonNode) unnamed = json_from_string ("{\"contact\":[{\"relationship\":[{\"text\":"
                                                  "\"guardian\"}]}]}", NULL);
  g_autoptr(JsonNode) neighbour = json_from_string ("{\"contact\":[{\"relationship\":[{\"coding\":"
                                                    "[{\"code\":\"NBOR\"}]}],\"name\":{\"text\":"
                                                    "\"张三\"}}]}", NULL);

  g_assert_true (wz_rx_patient_has_guardian (json_node_get_object (with)));
  g_assert_true (wz_rx_patient_has_guardian (json_node_get_object (mother)));
  g_assert_false (wz_rx_patient_has_guardian (json_node_get_object (unnamed)));
  g_assert_false (wz_rx_patient_has_guardian (json_node_get_object (neighbour)));

  fixture->context.age_days = 3 * YEAR;
  violations = evaluate (fixture);
  g_assert_nonnull (find (violations, "guardian-required"));
  g_clear_pointer (&violations, g_ptr_array_unref);

  fixture->context.has_guardian = TRUE;
  violations = evaluate (fixture);
  g_assert_null (find (violations, "guardian-required"));
  g_clear_pointer (&violations, g_ptr_array_unref);

  fixture->context.has_guardian = FALSE;
  fixture->context.age_days = 7 * YEAR;
  violations = evaluate (fixture);
  g_assert_null (find (violations, "guardian-required"));
  g_clear_pointer (&violations, g_ptr_array_unref);

  fixture->context.age_days = -1;
  violations = evaluate (fixture);
  g_assert_nonnull (find (violations, "birthdate-required"));
}

static void
test_duration (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GPtrArray) violations = NULL;
  const WzRxViolation *violation;

  /* Hypertension is chronic and amlodipine a long-term product: 30 days, not 31. */
  line (fixture, 0)->duration_days = 31;
  violations = evaluate (fixture);
  violation = find (violations, "duration-exceeded");
  g_assert_nonnull (violation);
  g_assert_true (violation->overridable);
  g_assert_cmpstr (violation->key, ==, "duration-exceeded:WZ0001");
  g_assert_nonnull (strstr (violation->message_en, "30 days"));
  g_clear_pointer (&violations, g_ptr_array_unref);

  /* A reason lifts it; a blank one does not. */
  g_hash_table_insert (fixture->overrides, g_strdup ("duration-exceeded:WZ0001"), g_strdup ("  "));
  violations = evaluate (fixture);
  g_assert_nonnull (find (violations, "duration-exceeded"));
  g_clear_pointer (&violations, g_ptr_array_unref);
  g_hash_table_insert (fixture->overrides, g_strdup ("duration-exceeded:WZ0001"),
                       g_strdup ("Travelling abroad for five weeks"));
  violations = evaluate (fixture);
  g_assert_null (find (violations, "duration-exceeded"));
  g_clear_pointer (&violations, g_ptr_array_unref);

  /* Amoxicillin for the same hypertensive patient is acute: 7 days. */
  g_ptr_array_add (fixture->lines, wz_rx_line_new ("WZ0169", 500, "mg", "tid", 8));
  violations = evaluate (fixture);
  violation = find (violations, "duration-exceeded");
  g_assert_nonnull (violation);
  g_assert_cmpint (violation->line, ==, 1);
  g_assert_nonnull (strstr (violation->message_en, "7 days"));
  g_clear_pointer (&violations, g_ptr_array_unref);
  line (fixture, 1)->duration_days = 7;
  violations = evaluate (fixture);
  g_assert_null (find (violations, "duration-exceeded"));
  g_clear_pointer (&violations, g_ptr_array_unref);

  /* An acute diagnosis alone makes even amlodipine acute. */
  g_free (diagnosis (fixture)->code);
  diagnosis (fixture)->code = g_strdup ("J20.9");
  line (fixture, 0)->duration_days = 14;
  g_hash_table_remove_all (fixture->overrides);
  violations = evaluate (fixture);
  g_assert_nonnull (find (violations, "duration-exceeded"));
}

static void
test_missing_fields (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(GPtrArray) violations = NULL;

  g_ptr_array_add (fixture->lines, wz_rx_line_new ("WZ0067", 500, "mg", "tid", NAN));
  g_ptr_array_add (fixture->lines, wz_rx_line_new ("WZ0067", NAN, "mg", "tid", 7));
  g_ptr_array_add (fixture->lines, wz_rx_line_new ("WZ0067", 500, "mg", "often", 7));
  g_ptr_array_add (fixture->lines, wz_rx_line_new ("WZ9999", 1, "mg", "qd", 7));
  g_ptr_array_add (fixture->lines, wz_rx_line_new ("WZ0130", 400, "mg", "once", NAN));
  violations = evaluate (fixture);

  g_assert_cmpint (find (violations, "duration-missing")->line, ==, 1);
  g_assert_cmpint (find (violations, "dose-missing")->line, ==, 2);
  g_assert_cmpint (find (violations, "not-in-formulary")->line, ==, 4);
  /* The "once" line needs no duration; lines 1 to 4 have one problem each. */
  g_assert_cmpuint (violations->len, ==, 4);
  g_assert_cmpint (((WzRxViolation *) g_ptr_array_index (violations, 2))->line, ==, 3);

  g_ptr_array_set_size (fixture->lines, 0);
  g_clear_pointer (&violations, g_ptr_array_unref);
  violations = evaluate (fixture);
  g_assert_nonnull (find (violations, "no-lines"));
}

static void
test_high_finding_needs_reason (Fixture       *fixture,
                                gconstpointer  data)
{
  g_autoptr(WzRxPatient) patient = wz_rx_patient_new ();
  g_autoptr(GPtrArray) violations = NULL;
  const WzRxViolation *violation;

  patient->age_days = fixture->context.age_days;
  g_ptr_array_add (fixture->lines, wz_rx_line_new ("WZ0061", 3, "mg", "qd", 14));
  g_ptr_array_add (fixture->lines, wz_rx_line_new ("WZ0130", 200, "mg", "tid", 3));
  g_ptr_array_unref (fixture->findings);
  fixture->findings = wz_rx_check (formulary, patient, fixture->lines);

  violations = evaluate (fixture);
  violation = find (violations, "override-required");
  g_assert_nonnull (violation);
  g_assert_cmpstr (violation->key, ==, "interaction:WZ0061:WZ0130");
  g_assert_true (violation->overridable);
  g_clear_pointer (&violations, g_ptr_array_unref);

  g_hash_table_insert (fixture->overrides, g_strdup ("interaction:WZ0061:WZ0130"),
                       g_strdup ("Short course with PPI, INR in 3 days"));
  violations = evaluate (fixture);
  g_assert_null (find (violations, "override-required"));
}

static void
test_line_from_medication_request (void)
{
  const char *json =
    "{\"resourceType\":\"MedicationRequest\",\"id\":\"r7\",\"status\":\"draft\","
    "\"medicationCodeableConcept\":{\"coding\":[{\"system\":\"http://www.whocc.no/atc\","
    "\"code\":\"C08CA01\"},{\"system\":\"" WZ_FORMULARY_SYSTEM "\",\"code\":\"WZ0001\"}]},"
    "\"dosageInstruction\":[{\"timing\":{\"code\":{\"coding\":[{\"code\":\"BID\"}]}},"
    "\"route\":{\"coding\":[{\"code\":\"oral\"}]},"
    "\"doseAndRate\":[{\"doseQuantity\":{\"value\":2.5,\"unit\":\"mg\"}}]}],"
    "\"dispenseRequest\":{\"expectedSupplyDuration\":{\"value\":2,\"unit\":\"weeks\","
    "\"code\":\"wk\"}}}";
  const char *prn =
    "{\"resourceType\":\"MedicationRequest\",\"medicationCodeableConcept\":{\"coding\":[{"
    "\"code\":\"WZ0130\"}]},\"dosageInstruction\":[{\"asNeededBoolean\":true,\"timing\":{"
    "\"repeat\":{\"frequency\":3,\"period\":1,\"periodUnit\":\"d\"}},\"doseAndRate\":[{"
    "\"doseQuantity\":{\"value\":200,\"code\":\"mg\"}}]}]}";
  g_autoptr(JsonNode) node = json_from_string (json, NULL);
  g_autoptr(JsonNode) prn_node = json_from_string (prn, NULL);
  g_autoptr(WzRxLine) line = wz_rx_line_from_medication_request (json_node_get_object (node));
  g_autoptr(WzRxLine) prn_line = wz_rx_line_from_medication_request (json_node_get_object (prn_node));

  g_assert_cmpstr (line->drug_code, ==, "WZ0001");
  g_assert_cmpfloat (line->dose, ==, 2.5);
  g_assert_cmpstr (line->dose_unit, ==, "mg");
  g_assert_cmpstr (line->frequency, ==, "BID");
  g_assert_cmpstr (line->route, ==, "oral");
  g_assert_cmpfloat (line->duration_days, ==, 14);
  g_assert_cmpstr (line->reference, ==, "MedicationRequest/r7");

  g_assert_cmpstr (prn_line->frequency, ==, "prn");
  g_assert_cmpfloat (prn_line->max_doses_per_day, ==, 3);
  g_assert_true (isnan (prn_line->duration_days));
  g_assert_null (prn_line->reference);
}

static void
test_diagnosis_from_condition (void)
{
  const char *json =
    "{\"resourceType\":\"Condition\",\"clinicalStatus\":{\"coding\":[{\"code\":\"active\"}]},"
    "\"verificationStatus\":{\"coding\":[{\"code\":\"confirmed\"}]},"
    "\"code\":{\"coding\":[{\"system\":\"http://snomed.info/sct\",\"code\":\"38341003\"},"
    "{\"system\":\"" ICD10 "\",\"code\":\"I10\",\"display\":\"Hypertension\"}]},"
    "\"encounter\":{\"reference\":\"Encounter/e0\"},\"onsetDateTime\":\"2019-03-01\"}";
  g_autoptr(JsonNode) node = json_from_string (json, NULL);
  g_autoptr(WzRxDiagnosis) diagnosis = wz_rx_diagnosis_from_condition (json_node_get_object (node),
                                                                       "Condition/c9");

  g_assert_cmpstr (diagnosis->reference, ==, "Condition/c9");
  g_assert_cmpstr (diagnosis->code, ==, "I10");
  g_assert_cmpstr (diagnosis->system, ==, ICD10);
  g_assert_cmpstr (diagnosis->text, ==, "Hypertension");
  g_assert_cmpstr (diagnosis->clinical_status, ==, "active");
  g_assert_cmpstr (diagnosis->verification, ==, "confirmed");
  g_assert_cmpstr (diagnosis->recorded_date, ==, "2019-03-01");
  g_assert_cmpstr (diagnosis->encounter, ==, "Encounter/e0");
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *dir = NULL;
  g_autoptr(GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

  dir = g_build_filename (g_getenv ("WZ_DATA_DIR"), "clinical", NULL);
  formulary = wz_formulary_new ();
  if (!wz_formulary_load_directory (formulary, dir, &error))
    g_error ("%s", error->message);

#define ADD(path, func) \
  g_test_add ("/rx/rules/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("allowed", test_allowed);
  ADD ("no-diagnosis", test_no_diagnosis);
  ADD ("first-visit", test_first_visit);
  ADD ("followup-conditions", test_followup_conditions);
  ADD ("controlled", test_controlled);
  ADD ("guardian", test_guardian);
  ADD ("duration", test_duration);
  ADD ("missing-fields", test_missing_fields);
  ADD ("high-finding-needs-reason", test_high_finding_needs_reason);
#undef ADD
  g_test_add_func ("/rx/rules/line-from-medication-request", test_line_from_medication_request);
  g_test_add_func ("/rx/rules/diagnosis-from-condition", test_diagnosis_from_condition);

  status = g_test_run ();
  g_object_unref (formulary);
  return status;
}
