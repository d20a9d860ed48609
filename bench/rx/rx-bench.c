/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "rx-bench"

#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "wz-formulary.h"
#include "wz-rx-checks.h"
#include "wz-rx-rules.h"

#define N_PRODUCTS 20000
#define CHECK_RUNS 2000
#define SEARCH_REPEATS 5

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static double
percentile (GArray *samples,
            double  p)
{
  guint index;

  g_array_sort (samples, compare_doubles);
  index = MIN (samples->len - 1, (guint) ceil (p * samples->len) - 1);
  return g_array_index (samples, double, index);
}

static WzFormulary *
load (const char *dir)
{
  WzFormulary *formulary = wz_formulary_new ();
  g_autoptr(GError) error = NULL;

  if (!wz_formulary_load_directory (formulary, dir, &error))
    g_error ("%s", error->message);
  return formulary;
}

static void
append_field (GString    *out,
              const char *field)
{
  if (strpbrk (field, ",\"\r\n") == NULL)
    {
      g_string_append (out, field);
      return;
    }
  g_string_append_c (out, '"');
  for (const char *p = field; *p; p++)
    {
      if (*p == '"')
        g_string_append_c (out, '"');
      g_string_append_c (out, *p);
    }
  g_string_append_c (out, '"');
}

/* The shipped rows replicated with the variations a large hospital catalogue has: other
 * manufacturers' brands, other forms of the same ingredient, other strengths. */
static char *
generate_csv (const char *dir,
              guint       n_products)
{
  static const char *const syllables[] = { "康", "华", "力", "泰", "宁", "安", "美", "欣", "达", "通" };
  static const struct { const char *zh; const char *pinyin; const char *en; } forms[] = {
    { "片", "p", "tablets" }, { "胶囊", "jn", "capsules" }, { "缓释片", "hsp", "SR tablets" },
    { "分散片", "fsp", "dispersible tablets" }, { "颗粒", "kl", "granules" },
  };
  g_autofree char *path = g_build_filename (dir, "formulary.csv", NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GPtrArray) records = NULL;
  g_autoptr(GError) error = NULL;
  GString *out = g_string_new (NULL);
  gsize length;
  guint written = 0;

  if (!g_file_get_contents (path, &contents, &length, &error) ||
      (records = wz_csv_parse (contents, length, NULL, &error)) == NULL)
    g_error ("%s", error->message);

  for (guint f = 0; f < g_strv_length (g_ptr_array_index (records, 0)); f++)
    {
      if (f > 0)
        g_string_append_c (out, ',');
      append_field (out, ((GStrv) g_ptr_array_index (records, 0))[f]);
    }
  g_string_append (out, "\r\n");

  for (guint k = 0; written < n_products; k++)
    for (guint r = 1; r < records->len && written < n_products; r++, written++)
      {
        GStrv row = g_strdupv (g_ptr_array_index (records, r));

        if (k > 0)
          {
            char *value;
            double strength = g_ascii_strtod (row[7], NULL) * (1 + k % 3);
            char number[G_ASCII_DTOSTR_BUF_SIZE];

            value = g_strdup_printf ("%s-%u", row[0], k);
            g_free (row[0]), row[0] = value;
            value = g_strdup_printf ("%s %s (maker %u)", row[1], forms[k % 5].en, k);
            g_free (row[1]), row[1] = value;
            value = g_strconcat (row[2], forms[k % 5].zh, NULL);
            g_free (row[2]), row[2] = value;
            value = g_strconcat (syllables[k % 10], syllables[(k / 10) % 10], row[3], NULL);
            g_free (row[3]), row[3] = value;
            value = g_strconcat (row[4], forms[k % 5].pinyin, NULL);
            g_free (row[4]), row[4] = value;
            g_ascii_dtostr (number, sizeof number, strength);
            g_free (row[7]), row[7] = g_strdup (number);
          }
        for (guint f = 0; row[f] != NULL; f++)
          {
            if (f > 0)
              g_string_append_c (out, ',');
            append_field (out, row[f]);
          }
        g_string_append (out, "\r\n");
        g_strfreev (row);
      }

  return g_string_free (out, FALSE);
}

/* Every prefix of each query, as a doctor types it. */
static GPtrArray *
keystrokes (void)
{
  static const char *const queries[] = {
    "aldp", "amlodipine", "氨氯地平", "阿莫西林", "amox", "C08CA", "J01C", "布洛芬", "ibuprofen",
    "ejsg", "二甲双胍", "络活喜", "xbdp", "头孢", "cef", "hfl", "atorvastatin", "阿托伐他汀",
    "WZ01", "omeprazole", "奥美拉唑", "lsp", "左氧氟沙星", "N02BE",
  };
  GPtrArray *list = g_ptr_array_new_with_free_func (g_free);

  for (guint q = 0; q < G_N_ELEMENTS (queries); q++)
    for (const char *end = g_utf8_next_char (queries[q]); ; end = g_utf8_next_char (end))
      {
        g_ptr_array_add (list, g_strndup (queries[q], end - queries[q]));
        if (*end == '\0')
          break;
      }
  return list;
}

static const char *
load_average (void)
{
  static char text[128];
  FILE *file = fopen ("/proc/loadavg", "r");

  text[0] = '\0';
  if (file != NULL)
    {
      if (fgets (text, sizeof text, file) == NULL)
        text[0] = '\0';
      fclose (file);
    }
  return text;
}

static double
thread_cpu_ms (void)
{
  struct timespec now;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &now);
  return now.tv_sec * 1e3 + now.tv_nsec / 1e6;
}

/* Time this thread has spent runnable but waiting for a CPU (ms), from the scheduler's own
 * accounting (the second field of schedstat); -1 where the kernel does not keep it. */
static double
thread_run_delay_ms (void)
{
  g_autofree char *text = NULL;
  const char *space;

  if (!g_file_get_contents ("/proc/thread-self/schedstat", &text, NULL, NULL) ||
      (space = strchr (text, ' ')) == NULL)
    return -1;
  return g_ascii_strtoull (space + 1, NULL, 10) / 1e6;
}

/* Wall-clock p99 per keystroke; *OUT_P50 the median, *OUT_CPU_P99 the p99 of CPU time alone
 * (what the search costs when the machine is busy with other work), *OUT_WAIT_P99 the p99 of the
 * time spent waiting for a CPU during a keystroke, and *OUT_OTHER_P99 the p99 of what is left
 * of the wall clock after both (anything else a keystroke could wait for). */
static double
search_p99 (WzFormulary *formulary,
            GPtrArray   *typed,
            double      *out_p50,
            double      *out_cpu_p99,
            double      *out_wait_p99,
            double      *out_other_p99)
{
  g_autoptr(GArray) samples = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) cpu_samples = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) wait_samples = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) other_samples = g_array_new (FALSE, FALSE, sizeof (double));

  for (guint repeat = 0; repeat < SEARCH_REPEATS; repeat++)
    for (guint i = 0; i < typed->len; i++)
      {
        double wait_start = thread_run_delay_ms ();
        gint64 start = g_get_monotonic_time ();
        double cpu_start = thread_cpu_ms ();
        guint total;
        g_autoptr(GArray) hits = wz_formulary_search (formulary, g_ptr_array_index (typed, i), 20,
                                                      &total);
        double cpu_ms = thread_cpu_ms () - cpu_start;
        double ms = (g_get_monotonic_time () - start) / 1000.0;
        double wait_ms = thread_run_delay_ms () - wait_start;
        double other_ms = MAX (ms - cpu_ms - wait_ms, 0);

        g_array_append_val (samples, ms);
        g_array_append_val (cpu_samples, cpu_ms);
        g_array_append_val (wait_samples, wait_ms);
        g_array_append_val (other_samples, other_ms);
      }
  *out_p50 = percentile (samples, 0.5);
  *out_cpu_p99 = percentile (cpu_samples, 0.99);
  *out_wait_p99 = percentile (wait_samples, 0.99);
  *out_other_p99 = percentile (other_samples, 0.99);
  return percentile (samples, 0.99);
}

static int
run_search (const char *dir)
{
  g_autoptr(WzFormulary) small = load (dir);
  g_autoptr(WzFormulary) large = load (dir);
  g_autoptr(GPtrArray) typed = keystrokes ();
  g_autoptr(GError) error = NULL;
  g_autofree char *csv = generate_csv (dir, N_PRODUCTS);
  gint64 start = g_get_monotonic_time ();
  double p50_small, p50_large, p99_small, p99_large, cpu_small, cpu_large;
  double wait_small, wait_large, other_small, other_large;

  if (!wz_formulary_load_drugs (large, csv, strlen (csv), &error))
    g_error ("%s", error->message);
  printf ("formulary: %u products parsed, validated and indexed in %.1f ms\n",
          wz_formulary_get_n_drugs (large), (g_get_monotonic_time () - start) / 1000.0);
  printf ("keystrokes: %u (every prefix of %s), each searched %d times, top 20 kept\n",
          typed->len, "24 typical queries", SEARCH_REPEATS);

  p99_small = search_p99 (small, typed, &p50_small, &cpu_small, &wait_small, &other_small);
  p99_large = search_p99 (large, typed, &p50_large, &cpu_large, &wait_large, &other_large);
  printf ("formulary_search_%u_p50 %.3f ms\n", wz_formulary_get_n_drugs (small), p50_small);
  printf ("formulary_search_20k_p50 %.3f ms\n", p50_large);
  printf ("formulary_search_20k_cpu_p99 %.3f ms\n", cpu_large);
  /* What the wall clock waits for beyond the search's own CPU time: the run queue of a shared
   * machine (schedstat run_delay), or anything else. */
  printf ("formulary_search_20k_cpu_wait_p99 %.3f ms\n", wait_large);
  printf ("formulary_search_20k_other_wait_p99 %.3f ms\n", other_large);
  printf ("machine load average: %s", load_average ());
  printf ("formulary_search_%u_p99 %.3f ms\n", wz_formulary_get_n_drugs (small), p99_small);
  printf ("formulary_search_20k_p99 %.3f ms\n", p99_large);
  return 0;
}

static const char *
code_of (WzFormulary *formulary,
         const char  *name)
{
  const GPtrArray *drugs = wz_formulary_lookup_name (formulary, name);

  if (drugs == NULL)
    g_error ("no product named %s", name);
  return ((const WzDrug *) g_ptr_array_index (drugs, 0))->code;
}

static char *
prescription_json (WzFormulary *formulary)
{
  static const struct { const char *name; double dose; const char *frequency; } lines[] = {
    { "amlodipine", 5, "qd" }, { "warfarin sodium", 3, "qd" }, { "ibuprofen", 400, "tid" },
    { "atorvastatin", 20, "qn" }, { "amoxicillin", 500, "tid" }, { "clarithromycin", 250, "bid" },
    { "captopril", 25, "tid" }, { "omeprazole", 20, "qd" }, { "levothyroxine sodium", 50, "qd" },
    { "metformin hydrochloride", 500, "tid" },
  };
  GString *out = g_string_new ("{\"resourceType\":\"Parameters\",\"parameter\":[");

  for (guint i = 0; i < G_N_ELEMENTS (lines); i++)
    g_string_append_printf (out, "%s{\"name\":\"medicationRequest\",\"resource\":{"
                            "\"resourceType\":\"MedicationRequest\",\"id\":\"r%u\","
                            "\"status\":\"draft\",\"intent\":\"order\",\"subject\":{\"reference\":"
                            "\"Patient/p1\"},\"medicationCodeableConcept\":{\"coding\":[{"
                            "\"system\":\"" WZ_FORMULARY_SYSTEM "\",\"code\":\"%s\"}]},"
                            "\"dosageInstruction\":[{\"timing\":{\"code\":{\"coding\":[{\"code\":"
                            "\"%s\"}]}},\"doseAndRate\":[{\"doseQuantity\":{\"value\":%g,"
                            "\"unit\":\"mg\"}}]}],\"dispenseRequest\":{\"expectedSupplyDuration\":"
                            "{\"value\":7,\"code\":\"d\"}}}}", i ? "," : "", i,
                            code_of (formulary, lines[i].name), lines[i].frequency, lines[i].dose);
  g_string_append (out, "]}");
  return g_string_free (out, FALSE);
}

static GPtrArray *
parse_lines (const char *json)
{
  g_autoptr(JsonNode) root = json_from_string (json, NULL);
  JsonArray *parameters = json_object_get_array_member (json_node_get_object (root), "parameter");
  GPtrArray *lines = g_ptr_array_new_with_free_func ((GDestroyNotify) wz_rx_line_free);

  for (guint i = 0; i < json_array_get_length (parameters); i++)
    g_ptr_array_add (lines, wz_rx_line_from_medication_request (
                              json_object_get_object_member (
                                json_array_get_object_element (parameters, i), "resource")));
  return lines;
}

static WzRxPatient *
busy_patient (void)
{
  static const char *const allergy_texts[] = {
    "青霉素 Penicillin", "磺胺", "阿司匹林", "头孢类", "碘对比剂", "花生", "鸡蛋", "尘螨",
    "卡托普利", "喹诺酮",
  };
  static const char *const icd[] = {
    "I10", "E11.9", "N18.3", "E78.5", "I25.1", "K21.0", "M81.0", "J45.9", "F32.9", "H40.1",
  };
  WzRxPatient *patient = wz_rx_patient_new ();

  patient->age_days = 72 * 365.25;
  patient->weight_kg = 58;
  patient->sex = "female";
  patient->egfr = 45;
  for (guint i = 0; i < G_N_ELEMENTS (allergy_texts); i++)
    {
      g_autofree char *reference = g_strdup_printf ("AllergyIntolerance/a%u", i);

      wz_rx_patient_add_allergy (patient, i == 0 ? "764146007" : NULL,
                                 i == 0 ? "http://snomed.info/sct" : NULL, allergy_texts[i],
                                 reference);
    }
  for (guint i = 0; i < G_N_ELEMENTS (icd); i++)
    {
      g_autofree char *reference = g_strdup_printf ("Condition/c%u", i);

      wz_rx_patient_add_condition (patient, icd[i], "http://hl7.org/fhir/sid/icd-10", NULL,
                                   reference);
    }
  wz_rx_patient_add_medication (patient, NULL, "B01AC06", "阿司匹林", "MedicationStatement/m1");
  wz_rx_patient_add_medication (patient, NULL, "C10AA01", "辛伐他汀", "MedicationStatement/m2");
  wz_rx_patient_add_medication (patient, NULL, "N06AB06", "舍曲林", "MedicationStatement/m3");
  return patient;
}

static int
run_checks (const char *dir)
{
  g_autoptr(WzFormulary) formulary = load (dir);
  g_autoptr(WzRxPatient) patient = busy_patient ();
  g_autofree char *json = prescription_json (formulary);
  g_autoptr(GArray) parse_samples = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) check_samples = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GPtrArray) diagnoses = g_ptr_array_new_with_free_func ((GDestroyNotify) wz_rx_diagnosis_free);
  WzRxRulesContext context = { 0 };
  guint n_findings = 0, n_high = 0, n_violations = 0;

  for (guint i = 0; i < patient->conditions->len; i++)
    {
      WzRxCondition *condition = g_ptr_array_index (patient->conditions, i);
      WzRxDiagnosis *diagnosis = wz_rx_diagnosis_new (condition->reference, condition->code,
                                                      condition->system, NULL);

      diagnosis->recorded_date = g_strdup ("2023-01-01");
      g_ptr_array_add (diagnoses, diagnosis);
    }
  context.age_days = patient->age_days;
  context.encounter = "Encounter/e1";
  context.encounter_start = "2024-05-01";
  context.today = "2024-05-01";
  context.diagnoses = diagnoses;

  for (guint run = 0; run < CHECK_RUNS; run++)
    {
      gint64 start = g_get_monotonic_time ();
      g_autoptr(GPtrArray) lines = parse_lines (json);
      gint64 parsed = g_get_monotonic_time ();
      g_autoptr(GPtrArray) findings = wz_rx_check (formulary, patient, lines);
      g_autoptr(GPtrArray) violations = wz_rx_rules_evaluate (formulary, &context, lines, findings,
                                                               NULL);
      gint64 checked = g_get_monotonic_time ();
      double parse_us = parsed - start;
      double check_us = checked - parsed;

      g_array_append_val (parse_samples, parse_us);
      g_array_append_val (check_samples, check_us);
      if (run == 0)
        {
          n_findings = findings->len;
          n_violations = violations->len;
          for (guint i = 0; i < findings->len; i++)
            n_high += ((WzRxFinding *) g_ptr_array_index (findings, i))->severity ==
                      WZ_RX_SEVERITY_HIGH;
        }
    }

  printf ("prescription: 10 lines; patient: %u allergies, %u conditions, %u current medicines\n",
          patient->allergies->len, patient->conditions->len, patient->medications->len);
  printf ("findings: %u (%u high), rule violations: %u; %d runs, median\n", n_findings, n_high,
          n_violations, CHECK_RUNS);
  printf ("rx_checks_10_lines_p99_us %.0f us\n", percentile (check_samples, 0.99));
  printf ("rx_parse_10_lines_us %.0f us\n", percentile (parse_samples, 0.5));
  printf ("rx_checks_10_lines_us %.0f us\n", percentile (check_samples, 0.5));
  return 0;
}

int
main (int    argc,
      char **argv)
{
  const char *dir = argc > 2 ? argv[2] : SOURCE_DATADIR "/clinical";

  if (argc < 2 || (strcmp (argv[1], "checks") != 0 && strcmp (argv[1], "search") != 0))
    {
      fprintf (stderr, "usage: rx-bench checks|search [CLINICAL_DATA_DIR]\n");
      return 2;
    }
  return strcmp (argv[1], "checks") == 0 ? run_checks (dir) : run_search (dir);
}
