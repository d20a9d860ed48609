/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>

#include "wz-rx-checks.h"

#define SNOMED "http://snomed.info/sct"
#define YEAR 365.25

static WzFormulary *formulary;

static WzRxPatient *
adult (void)
{
  WzRxPatient *patient = wz_rx_patient_new ();

  patient->age_days = 45 * YEAR;
  patient->weight_kg = 65;
  patient->sex = "female";
  return patient;
}

static GPtrArray *
lines_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) wz_rx_line_free);
}

static WzRxLine *
add_line (GPtrArray  *lines,
          const char *code,
          double      dose,
          const char *unit,
          const char *frequency,
          double      days)
{
  WzRxLine *line = wz_rx_line_new (code, dose, unit, frequency, days);

  g_ptr_array_add (lines, line);
  return line;
}

/* The finding with CODE about line LINE, or NULL. */
static const WzRxFinding *
find (GPtrArray  *findings,
      const char *code,
      int         line)
{
  for (guint i = 0; i < findings->len; i++)
    {
      const WzRxFinding *finding = g_ptr_array_index (findings, i);

      if (strcmp (finding->code, code) == 0 && finding->line == line)
        return finding;
    }
  return NULL;
}

static guint
count (GPtrArray  *findings,
       const char *code)
{
  guint n = 0;

  for (guint i = 0; i < findings->len; i++)
    n += strcmp (((WzRxFinding *) g_ptr_array_index (findings, i))->code, code) == 0;
  return n;
}

static void
test_allergy_same_class (void)
{
  g_autoptr(WzRxPatient) patient = adult ();
  g_autoptr(GPtrArray) lines = lines_new ();
  g_autoptr(GPtrArray) findings = NULL;
  const WzRxFinding *finding;

  wz_rx_patient_add_allergy (patient, "764146007", SNOMED, "青霉素 Penicillin",
                             "AllergyIntolerance/a1");
  add_line (lines, "WZ0169", 500, "mg", "tid", 5);    /* amoxicillin */
  add_line (lines, "WZ0188", 500, "mg", "qd", 3);     /* azithromycin */
  findings = wz_rx_check (formulary, patient, lines);

  finding = find (findings, "allergy", 0);
  g_assert_nonnull (finding);
  g_assert_cmpint (finding->severity, ==, WZ_RX_SEVERITY_HIGH);
  g_assert_cmpstr (finding->key, ==, "allergy:WZ0169:AllergyIntolerance/a1");
  g_assert_nonnull (strstr (finding->message_en, "amoxicillin"));
  g_assert_nonnull (strstr (finding->message_zh, "阿莫西林"));
  g_assert_cmpstr (finding->implicated[0], ==, "AllergyIntolerance/a1");
  /* A macrolide is not a beta-lactam: nothing about azithromycin. */
  g_assert_null (find (findings, "allergy", 1));
  g_assert_null (find (findings, "cross-allergy", 1));
}

static void
test_allergy_by_name_and_code (void)
{
  g_autoptr(WzRxPatient) patient = adult ();
  g_autoptr(GPtrArray) lines = lines_new ();
  g_autoptr(GPtrArray) findings = NULL;
  const WzDrug *cpm = wz_formulary_lookup (formulary, "WZ0325");

  g_assert_nonnull (cpm);
  g_assert_cmpstr (cpm->atc_code, ==, "");
  /* Free text naming a product, and a Chinese patent medicine by its formulary code. */
  wz_rx_patient_add_allergy (patient, NULL, NULL, "阿莫西林", NULL);
  wz_rx_patient_add_allergy (patient, "WZ0325", WZ_FORMULARY_SYSTEM, cpm->generic_name_zh, NULL);
  add_line (lines, "WZ0171", 1, "tablet", "bid", 5);  /* co-amoxiclav */
  add_line (lines, "WZ0325", 1, cpm->dose_unit, "tid", 3);
  add_line (lines, "WZ0326", 1, "g", "tid", 3);
  findings = wz_rx_check (formulary, patient, lines);

  g_assert_nonnull (find (findings, "allergy", 0));
  g_assert_nonnull (find (findings, "allergy", 1));
  g_assert_null (find (findings, "allergy", 2));
}

static void
test_cross_allergy (void)
{
  g_autoptr(WzRxPatient) patient = adult ();
  g_autoptr(GPtrArray) lines = lines_new ();
  g_autoptr(GPtrArray) findings = NULL;
  const WzRxFinding *finding;

  wz_rx_patient_add_allergy (patient, "764146007", SNOMED, "Penicillin", "AllergyIntolerance/p");
  wz_rx_patient_add_allergy (patient, NULL, NULL, "卡托普利", "AllergyIntolerance/c");
  add_line (lines, "WZ0181", 250, "mg", "bid", 5);    /* cefuroxime */
  add_line (lines, "WZ0015", 80, "mg", "qd", 14);     /* valsartan (ARB) */
  add_line (lines, "WZ0022", 100, "mg", "bid", 14);   /* sacubitril/valsartan */
  add_line (lines, "WZ0009", 10, "mg", "qd", 14);     /* enalapril, same class as captopril */
  findings = wz_rx_check (formulary, patient, lines);

  finding = find (findings, "cross-allergy", 0);
  g_assert_nonnull (finding);
  g_assert_cmpint (finding->severity, ==, WZ_RX_SEVERITY_LOW);
  g_assert_nonnull (strstr (finding->message_en, "cefuroxime"));
  finding = find (findings, "cross-allergy", 1);
  g_assert_nonnull (finding);
  g_assert_cmpint (finding->severity, ==, WZ_RX_SEVERITY_MODERATE);
  /* ACE-inhibitor allergy → sacubitril/valsartan is high through arni. */
  finding = find (findings, "cross-allergy", 2);
  g_assert_nonnull (finding);
  g_assert_cmpint (finding->severity, ==, WZ_RX_SEVERITY_HIGH);
  finding = find (findings, "allergy", 3);
  g_assert_nonnull (finding);
  g_assert_cmpint (finding->severity, ==, WZ_RX_SEVERITY_HIGH);
}

static void
test_aspirin_allergy (void)
{
  g_autoptr(WzRxPatient) patient = adult ();
  g_autoptr(GPtrArray) lines = lines_new ();
  g_autoptr(GPtrArray) findings = NULL;

  wz_rx_patient_add_allergy (patient, "387458008", SNOMED, "阿司匹林 Aspirin", NULL);
  add_line (lines, "WZ0121", 1000, "mg", "tid", 14);  /* mesalazine: shares salicylate */
  add_line (lines, "WZ0130", 200, "mg", "tid", 3);    /* ibuprofen: shares nsaid */
  add_line (lines, "WZ0001", 5, "mg", "qd", 14);      /* amlodipine: unrelated */
  findings = wz_rx_check (formulary, patient, lines);

  g_assert_cmpint (find (findings, "allergy", 0)->severity, ==, WZ_RX_SEVERITY_HIGH);
  g_assert_cmpint (find (findings, "allergy", 1)->severity, ==, WZ_RX_SEVERITY_HIGH);
  g_assert_null (find (findings, "allergy", 2));
  g_assert_null (find (findings, "cross-allergy", 2));
}

static void
test_duplicate_therapy (void)
{
  g_autoptr(WzRxPatient) patient = adult ();
  g_autoptr(GPtrArray) lines = lines_new ();
  g_autoptr(GPtrArray) findings = NULL;
  const WzRxFinding *finding;

  wz_rx_patient_add_medication (patient, "WZ0067", NULL, NULL, "MedicationStatement/m1");
  add_line (lines, "WZ0001", 5, "mg", "qd", 14);      /* amlodipine C08CA01 */
  add_line (lines, "WZ0003", 30, "mg", "qd", 14);     /* nifedipine C08CA05 */
  add_line (lines, "WZ0068", 500, "mg", "bid", 14);   /* metformin SR, patient takes metformin */
  findings = wz_rx_check (formulary, patient, lines);

  finding = find (findings, "duplicate-therapy", 0);
  g_assert_nonnull (finding);
  g_assert_cmpint (finding->severity, ==, WZ_RX_SEVERITY_MODERATE);
  g_assert_cmpint (finding->other_line, ==, 1);
  g_assert_cmpstr (finding->key, ==, "duplicate-therapy:WZ0001:WZ0003");
  finding = find (findings, "duplicate-therapy", 2);
  g_assert_nonnull (finding);
  g_assert_cmpstr (finding->implicated[0], ==, "MedicationStatement/m1");
  g_assert_cmpuint (count (findings, "duplicate-therapy"), ==, 2);
}

static void
test_no_duplicate (void)
{
  g_autoptr(WzRxPatient) patient = adult ();
  g_autoptr(GPtrArray) lines = lines_new ();
  g_autoptr(GPtrArray) findings = NULL;

  add_line (lines, "WZ0001", 5, "mg", "qd", 14);
  add_line (lines, "WZ0067", 500, "mg", "tid", 14);
  findings = wz_rx_check (formulary, patient, lines);
  g_assert_cmpuint (findings->len, ==, 0);
}

static void
test_interactions (void)
{
  g_autoptr(WzRxPatient) patient = adult ();
  g_autoptr(GPtrArray) lines = lines_new ();
  g_autoptr(GPtrArray) findings = NULL;
  const WzRxFinding *finding;

  add_line (lines, "WZ0061", 3, "mg", "qd", 14);      /* warfarin */
  add_line (lines, "WZ0130", 200, "mg", "tid", 3);    /* ibuprofen */
  findings = wz_rx_check (formulary, patient, lines);

  finding = find (findings, "interaction", 0);
  g_assert_nonnull (finding);
  g_assert_cmpint (finding->severity, ==, WZ_RX_SEVERITY_HIGH);
  g_assert_cmpint (finding->other_line, ==, 1);
  g_assert_nonnull (strstr (finding->message_en, "Interaction (major)"));
  g_assert_nonnull (strstr (finding->message_zh, "对乙酰氨基酚"));
  /* High findings come first. */
  g_assert_true (g_ptr_array_index (findings, 0) == finding);
}

static void
test_interaction_with_current_medication (void)
{
  g_autoptr(WzRxPatient) patient = adult ();
  g_autoptr(GPtrArray) lines = lines_new ();
  g_autoptr(GPtrArray) findings = NULL;
  const WzRxFinding *finding;

  /* Known only by its ATC code, as another hospital's record would have it. */
  wz_rx_patient_add_medication (patient, NULL, "B01AA03", "华法林 warfarin", "MedicationStatement/w");
  add_line (lines, "WZ0130", 200, "mg", "tid", 3);
  add_line (lines, "WZ0001", 5, "mg", "qd", 14);
  findings = wz_rx_check (formulary, patient, lines);

  finding = find (findings, "interaction", 0);
  g_assert_nonnull (finding);
  g_assert_cmpint (finding->severity, ==, WZ_RX_SEVERITY_HIGH);
  g_assert_cmpint (finding->other_line, ==, -1);
  g_assert_cmpstr (finding->implicated[0], ==, "MedicationStatement/w");
  g_assert_cmpstr (finding->key, ==, "interaction:WZ0130:MedicationStatement/w");
  g_assert_null (find (findings, "interaction", 1));
}

static void
test_adult_dose (void)
{
  g_autoptr(WzRxPatient) patient = adult ();
  g_autoptr(GPtrArray) lines = lines_new ();
  g_autoptr(GPtrArray) findings = NULL;
  const WzRxFinding *finding;

  add_line (lines, "WZ0001", 10, "mg", "bid", 14);      /* 20 mg > 10 */
  add_line (lines, "WZ0001", 10, "mg", "qd", 14);       /* exactly the maximum: fine */
  add_line (lines, "WZ0001", 2, "tablet", "bid", 14);   /* 4 × 5 mg = 20 mg */
  add_line (lines, "WZ0001", 1, "mg", "qd", 14);        /* under half of usual 5 mg */
  add_line (lines, "WZ0281", 70, "mg", "qd", 7);        /* weekly alendronate daily */
  add_line (lines, "WZ0281", 70, "mg", "qw", 28);
  add_line (lines, "WZ0001", 5000, "ug", "qd", 14);     /* 5 mg in µg */
  findings = wz_rx_check (formulary, patient, lines);

  finding = find (findings, "dose-above-max", 0);
  g_assert_nonnull (finding);
  g_assert_cmpint (finding->severity, ==, WZ_RX_SEVERITY_HIGH);
  g_assert_nonnull (strstr (finding->message_en, "20 mg a day"));
  g_assert_null (find (findings, "dose-above-max", 1));
  g_assert_nonnull (find (findings, "dose-above-max", 2));
  finding = find (findings, "dose-below-usual", 3);
  g_assert_nonnull (finding);
  g_assert_cmpint (finding->severity, ==, WZ_RX_SEVERITY_LOW);
  g_assert_nonnull (find (findings, "dose-above-max", 4));
  g_assert_null (find (findings, "dose-above-max", 5));
  g_assert_null (find (findings, "dose-below-usual", 5));
  g_assert_null (find (findings, "dose-above-max", 6));
  g_assert_null (find (findings, "dose-below-usual", 6));
}

static void
test_prn_dose (void)
{
  g_autoptr(WzRxPatient) patient = adult ();
  g_autoptr(GPtrArray) lines = lines_new ();
  g_autoptr(GPtrArray) findings = NULL;
  WzRxLine *line;

  add_line (lines, "WZ0130", 3000, "mg", "prn", 3);   /* one dose above the daily maximum */
  line = add_line (lines, "WZ0130", 400, "mg", "prn", 3);
  line->max_doses_per_day = 4;                        /* 1600 mg a day at most: fine */
  line = add_line (lines, "WZ0130", 400, "mg", "prn", 3);
  line->max_doses_per_day = 8;                        /* 3200 mg */
  findings = wz_rx_check (formulary, patient, lines);

  g_assert_nonnull (find (findings, "dose-above-max", 0));
  g_assert_null (find (findings, "dose-above-max", 1));
  g_assert_nonnull (find (findings, "dose-above-max", 2));
}

static void
test_child_dose (void)
{
  g_autoptr(WzRxPatient) patient = wz_rx_patient_new ();
  g_autoptr(GPtrArray) lines = lines_new ();
  g_autoptr(GPtrArray) findings = NULL;
  const WzRxFinding *finding;

  patient->age_days = 5 * YEAR;
  patient->weight_kg = 20;
  /* ibuprofen suspension 20 mg/mL, 30–40 mg/kg/day */
  add_line (lines, "WZ0131", 10, "mL", "tid", 3);     /* 600 mg = 30 mg/kg: fine */
  add_line (lines, "WZ0131", 15, "mL", "tid", 3);     /* 900 mg = 45 mg/kg */
  add_line (lines, "WZ0131", 2, "mL", "tid", 3);      /* 120 mg = 6 mg/kg */
  add_line (lines, "WZ0130", 200, "mg", "tid", 3);    /* tablets are for 12 years and older */
  findings = wz_rx_check (formulary, patient, lines);

  g_assert_null (find (findings, "dose-above-max", 0));
  g_assert_null (find (findings, "dose-below-usual", 0));
  finding = find (findings, "dose-above-max", 1);
  g_assert_nonnull (finding);
  g_assert_nonnull (strstr (finding->message_en, "45 mg/kg"));
  g_assert_nonnull (find (findings, "dose-below-usual", 2));
  finding = find (findings, "min-age", 3);
  g_assert_nonnull (finding);
  g_assert_cmpint (finding->severity, ==, WZ_RX_SEVERITY_HIGH);
  g_assert_null (find (findings, "min-age", 0));
}

static void
test_child_weight_and_adult_ceiling (void)
{
  g_autoptr(WzRxPatient) patient = wz_rx_patient_new ();
  g_autoptr(GPtrArray) lines = lines_new ();
  g_autoptr(GPtrArray) findings = NULL;
  const WzRxFinding *finding;

  patient->age_days = 15 * YEAR;
  add_line (lines, "WZ0169", 500, "mg", "tid", 5);
  findings = wz_rx_check (formulary, patient, lines);
  finding = find (findings, "weight-needed", 0);
  g_assert_nonnull (finding);
  g_assert_cmpint (finding->severity, ==, WZ_RX_SEVERITY_MODERATE);
  g_clear_pointer (&findings, g_ptr_array_unref);

  /* 60 kg: 4500 mg a day is 75 mg/kg (under 90) but above the adult maximum of 4000 mg. */
  patient->weight_kg = 60;
  g_ptr_array_set_size (lines, 0);
  add_line (lines, "WZ0169", 1500, "mg", "tid", 5);
  findings = wz_rx_check (formulary, patient, lines);
  finding = find (findings, "dose-above-max", 0);
  g_assert_nonnull (finding);
  g_assert_nonnull (strstr (finding->message_en, "4000 mg"));
  g_assert_null (find (findings, "weight-needed", 0));
}

static void
test_pregnancy_and_lactation (void)
{
  g_autoptr(WzRxPatient) patient = adult ();
  g_autoptr(GPtrArray) lines = lines_new ();
  g_autoptr(GPtrArray) findings = NULL;

  patient->pregnant = TRUE;
  add_line (lines, "WZ0061", 3, "mg", "qd", 14);      /* warfarin: contraindicated */
  add_line (lines, "WZ0169", 500, "mg", "tid", 5);    /* amoxicillin: safe */
  add_line (lines, "WZ0001", 5, "mg", "qd", 14);      /* amlodipine: caution */
  findings = wz_rx_check (formulary, patient, lines);
  g_assert_cmpint (find (findings, "pregnancy", 0)->severity, ==, WZ_RX_SEVERITY_HIGH);
  g_assert_null (find (findings, "pregnancy", 1));
  g_assert_cmpint (find (findings, "pregnancy", 2)->severity, ==, WZ_RX_SEVERITY_MODERATE);
  g_clear_pointer (&findings, g_ptr_array_unref);

  /* The flag means nothing for a male patient. */
  patient->sex = "male";
  findings = wz_rx_check (formulary, patient, lines);
  g_assert_cmpuint (count (findings, "pregnancy"), ==, 0);
  g_clear_pointer (&findings, g_ptr_array_unref);

  patient->sex = "female";
  patient->pregnant = FALSE;
  patient->lactating = TRUE;
  g_ptr_array_set_size (lines, 0);
  add_line (lines, "WZ0047", 20, "mg", "qn", 30);     /* atorvastatin: contraindicated */
  add_line (lines, "WZ0061", 3, "mg", "qd", 14);      /* warfarin: safe in lactation */
  findings = wz_rx_check (formulary, patient, lines);
  g_assert_cmpint (find (findings, "lactation", 0)->severity, ==, WZ_RX_SEVERITY_HIGH);
  g_assert_null (find (findings, "lactation", 1));
}

static void
test_renal (void)
{
  g_autoptr(WzRxPatient) patient = adult ();
  g_autoptr(GPtrArray) lines = lines_new ();
  g_autoptr(GPtrArray) findings = NULL;

  add_line (lines, "WZ0008", 25, "mg", "tid", 14);    /* captopril: renal adjust */
  add_line (lines, "WZ0001", 5, "mg", "qd", 14);      /* amlodipine: none */

  findings = wz_rx_check (formulary, patient, lines);
  g_assert_cmpuint (count (findings, "renal"), ==, 0);
  g_clear_pointer (&findings, g_ptr_array_unref);

  wz_rx_patient_add_condition (patient, "N18.3", "http://hl7.org/fhir/sid/icd-10", "CKD 3",
                               "Condition/ckd");
  findings = wz_rx_check (formulary, patient, lines);
  g_assert_cmpint (find (findings, "renal", 0)->severity, ==, WZ_RX_SEVERITY_MODERATE);
  g_assert_null (find (findings, "renal", 1));
  g_clear_pointer (&findings, g_ptr_array_unref);

  patient->egfr = 25;
  findings = wz_rx_check (formulary, patient, lines);
  g_assert_cmpint (find (findings, "renal", 0)->severity, ==, WZ_RX_SEVERITY_HIGH);
  g_assert_nonnull (strstr (find (findings, "renal", 0)->message_en, "eGFR 25"));
}

static void
test_frequencies (void)
{
  g_assert_cmpstr (wz_rx_frequency_lookup ("BID")->code, ==, "bid");
  g_assert_cmpstr (wz_rx_frequency_lookup ("bed")->code, ==, "qn");
  g_assert_cmpstr (wz_rx_frequency_lookup ("WK")->code, ==, "qw");
  g_assert_cmpstr (wz_rx_frequency_lookup ("qn")->text_zh, ==, "每晚睡前一次");
  g_assert_cmpfloat (wz_rx_frequency_lookup ("q8h")->per_day, ==, 3);
  g_assert_null (wz_rx_frequency_lookup ("sometimes"));
  g_assert_null (wz_rx_frequency_lookup (NULL));
  for (const WzRxFrequency *f = wz_rx_frequencies (); f->code != NULL; f++)
    g_assert_true (*f->text_en != '\0' && *f->text_zh != '\0');
}

static void
test_quantity (void)
{
  const WzDrug *amlodipine = wz_formulary_lookup (formulary, "WZ0001");
  const WzDrug *syrup = wz_formulary_lookup (formulary, "WZ0131");
  g_autoptr(WzRxLine) line = wz_rx_line_new ("WZ0001", 5, "mg", "qd", 30);

  g_assert_cmpfloat (wz_rx_quantity (amlodipine, line, 0), ==, 30);
  g_assert_cmpfloat (wz_rx_quantity (amlodipine, line, 7), ==, 35);
  line->dose = 2.5;
  g_free (line->frequency);
  line->frequency = g_strdup ("bid");
  line->duration_days = 7;
  g_assert_cmpfloat (wz_rx_quantity (amlodipine, line, 0), ==, 7);
  line->dose = 2;
  g_free (line->dose_unit);
  line->dose_unit = g_strdup ("tablet");
  line->duration_days = 3;
  g_assert_cmpfloat (wz_rx_quantity (amlodipine, line, 0), ==, 12);
  g_free (line->frequency);
  line->frequency = g_strdup ("once");
  g_assert_cmpfloat (wz_rx_quantity (amlodipine, line, 0), ==, 2);
  g_free (line->frequency);
  line->frequency = g_strdup ("prn");
  g_assert_true (isnan (wz_rx_quantity (amlodipine, line, 0)));
  line->max_doses_per_day = 1;
  g_assert_cmpfloat (wz_rx_quantity (amlodipine, line, 0), ==, 6);

  /* mL of a suspension: 5 mL three times a day for 3 days. */
  g_free (line->frequency);
  line->frequency = g_strdup ("tid");
  g_free (line->dose_unit);
  line->dose_unit = g_strdup ("mL");
  line->dose = 5;
  g_assert_cmpfloat (wz_rx_quantity (syrup, line, 0), ==, 45);
  /* 100 mg is 5 mL too. */
  g_free (line->dose_unit);
  line->dose_unit = g_strdup ("mg");
  line->dose = 100;
  g_assert_cmpfloat (wz_rx_quantity (syrup, line, 0), ==, 45);
  g_assert_cmpfloat (wz_rx_daily_dose (syrup, line), ==, 300);
}

static void
test_detected_issue (void)
{
  g_autoptr(WzRxPatient) patient = adult ();
  g_autoptr(GPtrArray) lines = lines_new ();
  g_autoptr(GPtrArray) findings = NULL;
  g_autoptr(JsonObject) issue = NULL;
  g_autoptr(JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *text = NULL;
  JsonArray *implicated;
  JsonArray *codings;

  add_line (lines, "WZ0061", 3, "mg", "qd", 14)->reference = g_strdup ("MedicationRequest/r1");
  add_line (lines, "WZ0130", 200, "mg", "tid", 3);
  findings = wz_rx_check (formulary, patient, lines);
  issue = wz_rx_finding_to_detected_issue (find (findings, "interaction", 0), lines, "final",
                                           "Patient/p1", "Practitioner/d1",
                                           "2024-05-01T08:00:00Z", "INR checked weekly");

  g_assert_cmpstr (json_object_get_string_member (issue, "resourceType"), ==, "DetectedIssue");
  g_assert_cmpstr (json_object_get_string_member (issue, "severity"), ==, "high");
  g_assert_cmpstr (json_object_get_string_member (issue, "status"), ==, "final");
  codings = json_object_get_array_member (json_object_get_object_member (issue, "code"), "coding");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (codings, 0), "code"),
                   ==, "DRG");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (codings, 1), "code"),
                   ==, "interaction");
  implicated = json_object_get_array_member (issue, "implicated");
  g_assert_cmpuint (json_array_get_length (implicated), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (implicated, 0),
                                                  "reference"), ==, "MedicationRequest/r1");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (implicated, 1),
                                                  "display"), ==, "line 2");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (issue, "patient"),
                                                  "reference"), ==, "Patient/p1");
  json_node_set_object (root, issue);
  text = json_to_string (root, FALSE);
  g_assert_nonnull (strstr (text, "\"valueCode\":\"zh-CN\""));
  g_assert_nonnull (strstr (text, "\"text\":\"INR checked weekly\""));
  g_assert_nonnull (strstr (text, "\"value\":\"interaction:WZ0061:WZ0130\""));
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

  g_test_add_func ("/rx/checks/allergy-same-class", test_allergy_same_class);
  g_test_add_func ("/rx/checks/allergy-by-name-and-code", test_allergy_by_name_and_code);
  g_test_add_func ("/rx/checks/cross-allergy", test_cross_allergy);
  g_test_add_func ("/rx/checks/aspirin-allergy", test_aspirin_allergy);
  g_test_add_func ("/rx/checks/duplicate-therapy", test_duplicate_therapy);
  g_test_add_func ("/rx/checks/no-duplicate", test_no_duplicate);
  g_test_add_func ("/rx/checks/interactions", test_interactions);
  g_test_add_func ("/rx/checks/interaction-with-current-medication",
                   test_interaction_with_current_medication);
  g_test_add_func ("/rx/checks/adult-dose", test_adult_dose);
  g_test_add_func ("/rx/checks/prn-dose", test_prn_dose);
  g_test_add_func ("/rx/checks/child-dose", test_child_dose);
  g_test_add_func ("/rx/checks/child-weight-and-adult-ceiling", test_child_weight_and_adult_ceiling);
  g_test_add_func ("/rx/checks/pregnancy-and-lactation", test_pregnancy_and_lactation);
  g_test_add_func ("/rx/checks/renal", test_renal);
  g_test_add_func ("/rx/checks/frequencies", test_frequencies);
  g_test_add_func ("/rx/checks/quantity", test_quantity);
  g_test_add_func ("/rx/checks/detected-issue", test_detected_issue);

  status = g_test_run ();
  g_object_unref (formulary);
  return status;
}
