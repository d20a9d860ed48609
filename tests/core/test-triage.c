/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>
#include <time.h>

#include "wz-error.h"
#include "wz-fhir.h"
#include "wz-triage.h"

/* The shipped rules file is what these tests check: a change to it that breaks a red flag fails
 * here. */
static WzTriage *rules;
static JsonNode *rules_json;
static char *rules_text;

static char *
rules_path (void)
{
  const char *data_dir = g_getenv ("WZ_DATA_DIR");

  return g_build_filename (data_dir ? data_dir : SOURCE_DATADIR, "clinical", "triage-rules.json",
                           NULL);
}

/* A pre-consultation answer set: DURATION option id, SYMPTOMS comma-separated ids (or NULL),
 * EXTRA further items as JSON text (or NULL). */
static JsonNode *
answers (const char *duration,
         const char *symptoms,
         const char *extra)
{
  GString *json = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  JsonNode *node;

  g_string_append_printf (json,
                          "{\"resourceType\":\"QuestionnaireResponse\",\"questionnaire\":\"%s\","
                          "\"status\":\"completed\",\"item\":["
                          "{\"linkId\":\"chief-complaint\",\"text\":\"Main problem\","
                          "\"answer\":[{\"valueString\":\"不舒服 Not well\"}]},"
                          "{\"linkId\":\"duration\",\"answer\":[{\"valueCoding\":{\"system\":\"%s\","
                          "\"code\":\"%s\",\"display\":\"…\"}}]}",
                          WZ_TRIAGE_QUESTIONNAIRE_URL, WZ_TRIAGE_DURATION_SYSTEM, duration);
  if (symptoms != NULL)
    {
      g_auto(GStrv) ids = g_strsplit (symptoms, ",", -1);

      g_string_append (json, ",{\"linkId\":\"symptoms\",\"answer\":[");
      for (guint i = 0; ids[i] != NULL; i++)
        g_string_append_printf (json, "%s{\"valueCoding\":{\"system\":\"%s\",\"code\":\"%s\"}}",
                                i ? "," : "", WZ_TRIAGE_SYMPTOM_SYSTEM, ids[i]);
      g_string_append (json, "]}");
    }
  if (extra != NULL)
    g_string_append_printf (json, ",%s", extra);
  g_string_append (json, "]}");

  node = json_from_string (json->str, &error);
  g_assert_no_error (error);
  g_string_free (json, TRUE);
  return node;
}

static char *
red_flag_item (const char *id,
               gboolean    yes)
{
  return g_strdup_printf ("{\"linkId\":\"red-flag.%s\",\"answer\":[{\"valueBoolean\":%s}]}", id,
                          yes ? "true" : "false");
}

static WzTriageResult *
evaluate (JsonNode              *response,
          const WzTriagePatient *patient)
{
  g_autoptr(GError) error = NULL;
  WzTriageResult *result = wz_triage_evaluate (rules, json_node_get_object (response), patient,
                                               &error);

  g_assert_no_error (error);
  g_assert_nonnull (result);
  return result;
}

static gboolean
matched (const WzTriageResult *result,
         const char           *id)
{
  for (guint i = 0; i < result->matches->len; i++)
    if (strcmp (g_array_index (result->matches, WzTriageMatch, i).id, id) == 0)
      return TRUE;
  return FALSE;
}

static const WzTriagePatient adult = { "1980-05-20", "male", "2024-03-15" };

static void
test_load_shipped (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = rules_path ();
  g_autoptr(WzTriage) again = wz_triage_new_from_file (path, &error);

  g_assert_no_error (error);
  g_assert_nonnull (again);
  g_assert_cmpstr (wz_triage_urgency_label (again, 1, "zh"), ==, "急危：请立即前往急诊");
  g_assert_cmpstr (wz_triage_urgency_label (again, 4, "en"), ==, "Routine");
  g_assert_null (wz_triage_urgency_label (again, 5, "en"));
}

/* Every red flag of the file: "yes" sends the patient to the emergency department with its own
 * message; "no" to all of them leaves a routine answer routine. */
static void
test_every_red_flag (void)
{
  JsonArray *flags = json_object_get_array_member (json_node_get_object (rules_json), "red_flags");

  g_assert_cmpuint (json_array_get_length (flags), >=, 10);
  for (guint i = 0; i < json_array_get_length (flags); i++)
    {
      JsonObject *flag = json_array_get_object_element (flags, i);
      const char *id = json_object_get_string_member (flag, "id");
      JsonObject *message = json_object_get_object_member (flag, "message");
      g_autofree char *yes_item = red_flag_item (id, TRUE);
      g_autofree char *no_item = red_flag_item (id, FALSE);
      g_autoptr(JsonNode) yes = answers ("d1_3", "prescription_renewal", yes_item);
      g_autoptr(JsonNode) no = answers ("d1_3", "prescription_renewal", no_item);
      g_autoptr(WzTriageResult) fired = evaluate (yes, &adult);
      g_autoptr(WzTriageResult) quiet = evaluate (no, &adult);
      const WzTriageMatch *first;

      g_test_message ("red flag %s", id);
      g_assert_cmpuint (fired->urgency, ==, 1);
      g_assert_true (fired->red_flag);
      first = &g_array_index (fired->matches, WzTriageMatch, 0);
      g_assert_cmpstr (first->id, ==, id);
      g_assert_true (first->red_flag);
      g_assert_cmpstr (first->message_en, ==, json_object_get_string_member (message, "en"));
      g_assert_cmpstr (first->message_zh, ==, json_object_get_string_member (message, "zh"));
      g_assert_true (g_str_has_prefix (first->reason_en, "Red flag"));
      g_assert_nonnull (strstr (first->reason_zh, "红旗征象"));
      g_assert_nonnull (first->source);
      /* The routine reason is still listed, after the red flag. */
      g_assert_true (matched (fired, "renewal_followup"));

      g_assert_cmpuint (quiet->urgency, ==, 4);
      g_assert_false (quiet->red_flag);
      g_assert_false (matched (quiet, id));
    }
}

static void
test_named_red_flags (void)
{
  const char *ids[] = { "chest_pain", "breathing_difficulty", "stroke_signs", "heavy_bleeding",
                        "infant_fever" };

  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    {
      g_autofree char *item = red_flag_item (ids[i], TRUE);
      g_autoptr(JsonNode) response = answers ("lt24h", NULL, item);
      g_autoptr(WzTriageResult) result = evaluate (response, &adult);
      g_autofree char *joined = wz_triage_result_rule_ids (result);

      g_assert_cmpuint (result->urgency, ==, 1);
      g_assert_true (result->red_flag);
      g_assert_cmpstr (joined, ==, ids[i]);
    }
}

static void
test_several_red_flags (void)
{
  g_autofree char *chest = red_flag_item ("chest_pain", TRUE);
  g_autofree char *breath = red_flag_item ("breathing_difficulty", TRUE);
  g_autofree char *items = g_strconcat (chest, ",", breath, NULL);
  g_autoptr(JsonNode) response = answers ("lt24h", "cough,shortness_of_breath", items);
  g_autoptr(WzTriageResult) result = evaluate (response, &adult);
  g_autofree char *joined = wz_triage_result_rule_ids (result);

  /* Most urgent first, in the order of the file within a level. */
  g_assert_cmpstr (joined, ==, "chest_pain,breathing_difficulty,breathless_not_severe,mild_cold");
}

/* Fever in a baby: the red flag needs the age, from the birth date, at the date of the answers. */
static void
test_infant_fever_by_age (void)
{
  const char *temp_38 = "{\"linkId\":\"measurement.temperature_c\",\"answer\":[{\"valueDecimal\":38.0}]}";
  const char *temp_379 = "{\"linkId\":\"measurement.temperature_c\",\"answer\":[{\"valueDecimal\":37.9}]}";
  const char *temp_392 = "{\"linkId\":\"measurement.temperature_c\",\"answer\":[{\"valueDecimal\":39.2}]}";
  const WzTriagePatient two_months = { "2024-01-15", "female", "2024-03-15" };
  const WzTriagePatient day_before_three = { "2023-12-16", "female", "2024-03-15" };
  const WzTriagePatient three_months = { "2023-12-15", "female", "2024-03-15" };
  const WzTriagePatient four_months = { "2023-11-10", "male", "2024-03-15" };
  const WzTriagePatient unknown_age = { NULL, "male", "2024-03-15" };
  const WzTriagePatient partial_date = { "2024-01", "male", "2024-03-15" };

  {
    g_autoptr(JsonNode) response = answers ("lt24h", "fever", temp_38);
    g_autoptr(WzTriageResult) result = evaluate (response, &two_months);

    g_assert_cmpuint (result->urgency, ==, 1);
    g_assert_true (result->red_flag);
    g_assert_true (matched (result, "infant_fever"));
    /* fever_general starts at 3 months, so it does not double up. */
    g_assert_false (matched (result, "fever_general"));
  }
  {
    g_autoptr(JsonNode) response = answers ("lt24h", "fever", temp_38);
    g_autoptr(WzTriageResult) result = evaluate (response, &day_before_three);

    g_assert_true (matched (result, "infant_fever"));
  }
  {
    g_autoptr(JsonNode) response = answers ("lt24h", "fever", temp_379);
    g_autoptr(WzTriageResult) result = evaluate (response, &two_months);

    g_assert_false (matched (result, "infant_fever"));
    g_assert_cmpuint (result->urgency, ==, 3);  /* infant_any: an acute symptom under 1 */
    g_assert_false (result->red_flag);
  }
  {
    /* Three months to the day: no longer "under 3 months". */
    g_autoptr(JsonNode) response = answers ("lt24h", "fever", temp_38);
    g_autoptr(WzTriageResult) result = evaluate (response, &three_months);

    g_assert_false (matched (result, "infant_fever"));
    g_assert_true (matched (result, "fever_general"));
    g_assert_cmpuint (result->urgency, ==, 3);
  }
  {
    g_autoptr(JsonNode) response = answers ("lt24h", "fever", temp_392);
    g_autoptr(WzTriageResult) result = evaluate (response, &four_months);

    g_assert_false (matched (result, "infant_fever"));
    g_assert_true (matched (result, "fever_infant_3_6m"));
    g_assert_cmpuint (result->urgency, ==, 2);
  }
  {
    /* The same fever with no birth date: the age is unknown, no age rule fires. */
    g_autoptr(JsonNode) response = answers ("lt24h", "fever", temp_392);
    g_autoptr(WzTriageResult) unknown = evaluate (response, &unknown_age);
    g_autoptr(WzTriageResult) partial = evaluate (response, &partial_date);
    g_autoptr(WzTriageResult) no_patient = evaluate (response, NULL);

    g_assert_false (matched (unknown, "infant_fever"));
    g_assert_false (matched (unknown, "fever_general"));
    g_assert_cmpuint (unknown->urgency, ==, 4);
    g_assert_cmpuint (partial->urgency, ==, 4);
    g_assert_cmpuint (no_patient->urgency, ==, 4);
  }
  {
    /* The parent says "yes" to the infant question: that alone is enough. */
    g_autofree char *item = red_flag_item ("infant_fever", TRUE);
    g_autoptr(JsonNode) response = answers ("lt24h", "fever", item);
    g_autoptr(WzTriageResult) result = evaluate (response, &two_months);

    g_assert_true (result->red_flag);
  }
}

static void
test_age_rules (void)
{
  const WzTriagePatient older = { "1950-03-16", "female", "2024-03-15" };   /* 73 */
  const WzTriagePatient turned_65 = { "1959-03-15", "female", "2024-03-15" };
  const WzTriagePatient almost_65 = { "1959-03-16", "female", "2024-03-15" };
  const WzTriagePatient child = { "2021-06-01", "male", "2024-03-15" };
  g_autoptr(JsonNode) fever = answers ("d1_3", "fever", NULL);
  g_autoptr(JsonNode) fall = answers ("lt24h", "fall", NULL);
  g_autoptr(JsonNode) long_fever = answers ("d3_7", "fever", NULL);

  {
    g_autoptr(WzTriageResult) a = evaluate (fever, &older);
    g_autoptr(WzTriageResult) b = evaluate (fever, &adult);
    g_autoptr(WzTriageResult) c = evaluate (fever, &turned_65);
    g_autoptr(WzTriageResult) d = evaluate (fever, &almost_65);

    g_assert_cmpuint (a->urgency, ==, 2);
    g_assert_true (matched (a, "fever_older_adult"));
    g_assert_cmpuint (b->urgency, ==, 3);
    g_assert_false (matched (b, "fever_older_adult"));
    g_assert_true (matched (c, "fever_older_adult"));
    g_assert_false (matched (d, "fever_older_adult"));
  }
  {
    g_autoptr(WzTriageResult) a = evaluate (fall, &older);
    g_autoptr(WzTriageResult) b = evaluate (fall, &adult);

    g_assert_true (matched (a, "fall_older_adult"));
    g_assert_cmpuint (a->urgency, ==, 2);
    g_assert_cmpuint (b->urgency, ==, 4);
  }
  {
    /* Three days of fever in a child under 5, by duration. */
    g_autoptr(WzTriageResult) a = evaluate (long_fever, &child);
    g_autoptr(WzTriageResult) b = evaluate (fever, &child);

    g_assert_true (matched (a, "fever_child_prolonged"));
    g_assert_cmpuint (a->urgency, ==, 2);
    g_assert_false (matched (b, "fever_child_prolonged"));
    g_assert_cmpuint (b->urgency, ==, 3);
  }
}

static void
test_measurement_triggers (void)
{
  {
    g_autoptr(JsonNode) low = answers ("lt24h", NULL,
      "{\"linkId\":\"measurement.glucose_mmol_l\",\"answer\":[{\"valueDecimal\":2.8}]}");
    g_autoptr(JsonNode) edge = answers ("lt24h", NULL,
      "{\"linkId\":\"measurement.glucose_mmol_l\",\"answer\":[{\"valueDecimal\":3.0}]}");
    g_autoptr(WzTriageResult) a = evaluate (low, &adult);
    g_autoptr(WzTriageResult) b = evaluate (edge, &adult);

    g_assert_true (a->red_flag);
    g_assert_true (matched (a, "severe_hypoglycaemia"));
    g_assert_false (b->red_flag);
    g_assert_true (matched (b, "glucose_low"));
    g_assert_cmpuint (b->urgency, ==, 2);
  }
  {
    const char *bp = "{\"linkId\":\"measurement.sbp\",\"answer\":[{\"valueInteger\":185}]},"
                     "{\"linkId\":\"measurement.dbp\",\"answer\":[{\"valueInteger\":100}]}";
    g_autoptr(JsonNode) with_headache = answers ("lt24h", "headache", bp);
    g_autoptr(JsonNode) alone = answers ("lt24h", NULL, bp);
    g_autoptr(WzTriageResult) a = evaluate (with_headache, &adult);
    g_autoptr(WzTriageResult) b = evaluate (alone, &adult);

    g_assert_true (a->red_flag);
    g_assert_true (matched (a, "hypertensive_emergency"));
    g_assert_false (b->red_flag);
    g_assert_true (matched (b, "bp_very_high"));
    g_assert_cmpuint (b->urgency, ==, 2);
  }
}

static void
test_pregnancy_and_sex (void)
{
  const WzTriagePatient woman = { "1994-08-08", "female", "2024-03-15" };
  g_autoptr(JsonNode) pregnant = answers ("lt24h", "abdominal_pain",
    "{\"linkId\":\"pregnant\",\"answer\":[{\"valueBoolean\":true}]}");
  g_autoptr(JsonNode) not_pregnant = answers ("lt24h", "abdominal_pain",
    "{\"linkId\":\"pregnant\",\"answer\":[{\"valueBoolean\":false}]}");
  g_autoptr(WzTriageResult) a = evaluate (pregnant, &woman);
  g_autoptr(WzTriageResult) b = evaluate (not_pregnant, &woman);

  g_assert_true (matched (a, "pregnant_abdominal_pain"));
  g_assert_cmpuint (a->urgency, ==, 2);
  g_assert_false (matched (b, "pregnant_abdominal_pain"));
  g_assert_cmpuint (b->urgency, ==, 3);
}

static void
test_routine_and_default (void)
{
  g_autoptr(JsonNode) renewal = answers ("gt4w", "prescription_renewal", NULL);
  g_autoptr(JsonNode) nothing = answers ("d1_3", NULL,
    "{\"linkId\":\"medications\",\"answer\":[{\"valueString\":\"氨氯地平 5 mg\"}]},"
    "{\"linkId\":\"allergies-none\",\"answer\":[{\"valueBoolean\":true}]}");
  g_autoptr(WzTriageResult) a = evaluate (renewal, &adult);
  g_autoptr(WzTriageResult) b = evaluate (nothing, &adult);
  g_autofree char *a_ids = wz_triage_result_rule_ids (a);
  g_autofree char *b_ids = wz_triage_result_rule_ids (b);

  g_assert_cmpuint (a->urgency, ==, 4);
  g_assert_cmpstr (a_ids, ==, "renewal_followup");
  g_assert_cmpstr (g_array_index (a->matches, WzTriageMatch, 0).reason_en, ==,
                   "Follow-up, renewal or results review.");
  g_assert_cmpuint (b->urgency, ==, 4);
  g_assert_cmpuint (b->matches->len, ==, 0);
  g_assert_cmpstr (b_ids, ==, "default");
}

static void
test_priority_codes (void)
{
  g_assert_cmpstr (wz_triage_priority_code (1), ==, "EM");
  g_assert_cmpstr (wz_triage_priority_code (2), ==, "UR");
  g_assert_cmpstr (wz_triage_priority_code (3), ==, "R");
  g_assert_cmpstr (wz_triage_priority_code (4), ==, "EL");
  g_assert_null (wz_triage_priority_code (0));
  g_assert_null (wz_triage_priority_code (5));
  for (guint u = 1; u <= 4; u++)
    g_assert_cmpuint (wz_triage_urgency_for_priority (wz_triage_priority_code (u)), ==, u);
  g_assert_cmpuint (wz_triage_urgency_for_priority ("S"), ==, 0);
  g_assert_cmpuint (wz_triage_urgency_for_priority (NULL), ==, 0);
}

/* TEMPLATE with each "%s" replaced by the next of A, B, C in turn. */
static char *
fill (const char *template,
      const char *a,
      const char *b,
      const char *c)
{
  const char *values[] = { a, b, c };
  GString *text = g_string_new (NULL);
  guint next = 0;

  for (const char *p = template; *p; p++)
    {
      if (p[0] == '%' && p[1] == 's' && next < G_N_ELEMENTS (values) && values[next] != NULL)
        {
          g_string_append (text, values[next++]);
          p++;
        }
      else
        g_string_append_c (text, *p);
    }

  return g_string_free (text, FALSE);
}

/* Answers that do not fit the questionnaire are refused with a reason, never guessed at. */
static void
test_malformed_answers (void)
{
  const char *duration = "{\"linkId\":\"duration\",\"answer\":[{\"valueCoding\":{\"system\":\""
                         WZ_TRIAGE_DURATION_SYSTEM "\",\"code\":\"lt24h\"}}]}";
  const char *complaint = "{\"linkId\":\"chief-complaint\",\"answer\":[{\"valueString\":\"咳嗽\"}]}";
  g_autofree char *long_text = NULL;
  g_autofree char *too_long = NULL;
  const struct
  {
    const char *json;
    const char *expected;
  } cases[] = {
    { "{\"questionnaire\":\"" WZ_TRIAGE_QUESTIONNAIRE_URL "\",\"status\":\"completed\",\"item\":[%s,%s,"
      "{\"linkId\":\"favourite-colour\",\"answer\":[{\"valueString\":\"red\"}]}]}",
      "favourite-colour: is not a question" },
    { "{\"questionnaire\":\"" WZ_TRIAGE_QUESTIONNAIRE_URL "\",\"status\":\"completed\",\"item\":[%s,%s,"
      "{\"linkId\":\"red-flag.chest_pain\",\"answer\":[{\"valueString\":\"yes\"}]}]}",
      "red-flag.chest_pain: the answer must be one valueBoolean" },
    { "{\"questionnaire\":\"" WZ_TRIAGE_QUESTIONNAIRE_URL "\",\"status\":\"completed\",\"item\":[%s,%s,"
      "{\"linkId\":\"red-flag.chest_pain\",\"answer\":[{\"valueBoolean\":\"true\"}]}]}",
      "valueBoolean must be true or false" },
    { "{\"questionnaire\":\"" WZ_TRIAGE_QUESTIONNAIRE_URL "\",\"status\":\"completed\",\"item\":[%s,%s,"
      "{\"linkId\":\"red-flag.alien_abduction\",\"answer\":[{\"valueBoolean\":true}]}]}",
      "red-flag.alien_abduction: is not a question" },
    { "{\"questionnaire\":\"" WZ_TRIAGE_QUESTIONNAIRE_URL "\",\"status\":\"completed\",\"item\":[%s,%s,"
      "{\"linkId\":\"symptoms\",\"answer\":[{\"valueCoding\":{\"system\":\"" WZ_TRIAGE_SYMPTOM_SYSTEM
      "\",\"code\":\"hiccups\"}}]}]}",
      "“hiccups” is not on the symptom checklist" },
    { "{\"questionnaire\":\"" WZ_TRIAGE_QUESTIONNAIRE_URL "\",\"status\":\"completed\",\"item\":[%s,%s,"
      "{\"linkId\":\"symptoms\",\"answer\":[{\"valueCoding\":{\"system\":\"http://snomed.info/sct\","
      "\"code\":\"fever\"}}]}]}",
      "valueCoding.system must be" },
    { "{\"questionnaire\":\"" WZ_TRIAGE_QUESTIONNAIRE_URL "\",\"status\":\"completed\",\"item\":[%s,%s,"
      "{\"linkId\":\"measurement.temperature_c\",\"answer\":[{\"valueDecimal\":93.5}]}]}",
      "93.5 is outside the plausible range 34–43" },
    { "{\"questionnaire\":\"" WZ_TRIAGE_QUESTIONNAIRE_URL "\",\"status\":\"completed\",\"item\":[%s,%s,"
      "{\"linkId\":\"measurement.sbp\",\"answer\":[{\"valueDecimal\":150}]}]}",
      "measurement.sbp: the answer must be one valueInteger" },
    { "{\"questionnaire\":\"" WZ_TRIAGE_QUESTIONNAIRE_URL "\",\"status\":\"completed\",\"item\":[%s,%s,"
      "{\"linkId\":\"measurement.sbp\",\"answer\":[{\"valueInteger\":150.5}]}]}",
      "measurement.sbp: valueInteger must be a whole number" },
    { "{\"questionnaire\":\"" WZ_TRIAGE_QUESTIONNAIRE_URL "\",\"status\":\"completed\",\"item\":[%s,%s,%s]}",
      "chief-complaint: is answered twice" },
    { "{\"questionnaire\":\"" WZ_TRIAGE_QUESTIONNAIRE_URL "\",\"status\":\"completed\",\"item\":[%s%s"
      "{\"linkId\":\"symptoms\",\"answer\":[]}]}",
      "symptoms: needs a non-empty answer array" },
    { "{\"questionnaire\":\"" WZ_TRIAGE_QUESTIONNAIRE_URL "\",\"status\":\"completed\",\"item\":[%s,%s,"
      "{\"linkId\":\"symptoms\",\"answer\":[{\"valueCoding\":{\"system\":\"" WZ_TRIAGE_SYMPTOM_SYSTEM
      "\",\"code\":\"fever\"}}],\"item\":[]}]}",
      "symptoms: unknown field “item”" },
    { "{\"questionnaire\":\"" WZ_TRIAGE_QUESTIONNAIRE_URL "\",\"status\":\"completed\",\"item\":[%s,%s,"
      "{\"linkId\":\"allergies\",\"answer\":[{\"valueString\":\"x\",\"valueBoolean\":true}]}]}",
      "allergies: the answer must be one valueString" },
    { "{\"questionnaire\":\"" WZ_TRIAGE_QUESTIONNAIRE_URL "\",\"status\":\"completed\",\"item\":[%s,%s,"
      "{\"linkId\":\"duration\",\"answer\":[{\"valueCoding\":{\"system\":\"" WZ_TRIAGE_DURATION_SYSTEM
      "\",\"code\":\"forever\"}}]}]}",
      "duration: is answered twice" },
    { "{\"questionnaire\":\"" WZ_TRIAGE_QUESTIONNAIRE_URL "\",\"status\":\"completed\",\"item\":[%s]}",
      "the duration (duration) is missing" },
    { "{\"questionnaire\":\"" WZ_TRIAGE_QUESTIONNAIRE_URL "\",\"status\":\"in-progress\",\"item\":[%s,%s]}",
      "status must be completed" },
    { "{\"questionnaire\":\"https://example.org/Questionnaire/phq9\",\"status\":\"completed\",\"item\":[%s,%s]}",
      "questionnaire must be " WZ_TRIAGE_QUESTIONNAIRE_URL },
    { "{\"questionnaire\":{\"reference\":\"x\"},\"status\":\"completed\",\"item\":[%s,%s]}",
      "questionnaire must be " WZ_TRIAGE_QUESTIONNAIRE_URL },
    { "{\"questionnaire\":\"" WZ_TRIAGE_QUESTIONNAIRE_URL "\",\"status\":\"completed\",\"item\":{}}",
      "item must be an array" },
    { "{\"questionnaire\":\"" WZ_TRIAGE_QUESTIONNAIRE_URL "\",\"status\":\"completed\",\"item\":[%s,%s,42]}",
      "every item must be an object" },
    { "{\"questionnaire\":\"" WZ_TRIAGE_QUESTIONNAIRE_URL "\",\"status\":\"completed\",\"item\":[%s,%s,"
      "{\"answer\":[{\"valueBoolean\":true}]}]}",
      "every item needs a linkId string" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = NULL;
      g_autoptr(JsonNode) node = NULL;
      g_autoptr(WzTriageResult) result = NULL;
      g_autoptr(GError) error = NULL;

      /* Each case has room for the complaint and the duration; the one without a duration only
       * takes the complaint. */
      if (strstr (cases[i].json, "[%s,%s,%s]") != NULL)
        text = fill (cases[i].json, complaint, duration, complaint);
      else if (strstr (cases[i].json, "[%s%s") != NULL)
        text = fill (cases[i].json, complaint, ",", NULL);
      else
        text = fill (cases[i].json, complaint, duration, NULL);

      node = json_from_string (text, &error);
      g_assert_no_error (error);
      result = wz_triage_evaluate (rules, json_node_get_object (node), &adult, &error);
      g_test_message ("case %u: %s", i, error ? error->message : "(accepted)");
      g_assert_null (result);
      g_assert_error (error, WZ_ERROR, WZ_ERROR_INVALID);
      g_assert_nonnull (strstr (error->message, cases[i].expected));
    }

  /* An empty complaint, and one past the length limit. */
  {
    g_autoptr(JsonNode) node = json_from_string (
      "{\"questionnaire\":\"" WZ_TRIAGE_QUESTIONNAIRE_URL "\",\"status\":\"completed\",\"item\":["
      "{\"linkId\":\"chief-complaint\",\"answer\":[{\"valueString\":\"   \"}]}]}", NULL);
    g_autoptr(GError) error = NULL;

    g_assert_null (wz_triage_evaluate (rules, json_node_get_object (node), &adult, &error));
    g_assert_error (error, WZ_ERROR, WZ_ERROR_INVALID);
    g_assert_nonnull (strstr (error->message, "must not be empty"));
  }

  long_text = g_strnfill (WZ_TRIAGE_MAX_TEXT + 1, 'a');
  too_long = g_strdup_printf ("{\"linkId\":\"medications\",\"answer\":[{\"valueString\":\"%s\"}]}",
                              long_text);
  {
    g_autoptr(JsonNode) node = answers ("lt24h", NULL, too_long);
    g_autoptr(GError) error = NULL;

    g_assert_null (wz_triage_evaluate (rules, json_node_get_object (node), &adult, &error));
    g_assert_error (error, WZ_ERROR, WZ_ERROR_INVALID);
    g_assert_nonnull (strstr (error->message, "longer than 2000 characters"));
  }
}

/* ---- Malformed rules files ---------------------------------------------------------------- */

static JsonObject *
find_by_id (JsonObject *root,
            const char *list,
            const char *id)
{
  JsonArray *array = json_object_get_array_member (root, list);

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *entry = json_array_get_object_element (array, i);

      if (g_strcmp0 (json_object_get_string_member (entry, "id"), id) == 0)
        return entry;
    }
  g_assert_not_reached ();
}

typedef void (*Mutate) (JsonObject *root);

static void
mutate_unknown_top (JsonObject *root)
{
  json_object_set_string_member (root, "extra_rules", "x");
}

static void
mutate_unknown_rule_field (JsonObject *root)
{
  json_object_set_string_member (find_by_id (root, "rules", "fever_general"), "whenever", "x");
}

static void
mutate_urgency_zero (JsonObject *root)
{
  json_object_set_int_member (find_by_id (root, "rules", "fever_general"), "urgency", 0);
}

static void
mutate_urgency_five (JsonObject *root)
{
  json_object_set_int_member (find_by_id (root, "rules", "mild_cold"), "urgency", 5);
}

static void
mutate_urgency_text (JsonObject *root)
{
  json_object_set_string_member (find_by_id (root, "rules", "mild_cold"), "urgency", "2");
}

static void
mutate_urgency_fraction (JsonObject *root)
{
  json_object_set_double_member (find_by_id (root, "rules", "mild_cold"), "urgency", 2.5);
}

static void
mutate_no_source (JsonObject *root)
{
  json_object_remove_member (find_by_id (root, "rules", "skin_itch"), "source");
}

static void
mutate_empty_source (JsonObject *root)
{
  json_object_set_array_member (find_by_id (root, "red_flags", "seizure"), "source",
                                json_array_new ());
}

static void
mutate_unlisted_source (JsonObject *root)
{
  JsonArray *sources = json_array_new ();

  json_array_add_string_element (sources, "My aunt's advice");
  json_object_set_array_member (find_by_id (root, "red_flags", "chest_pain"), "source", sources);
}

static void
mutate_red_flag_urgency (JsonObject *root)
{
  json_object_set_int_member (find_by_id (root, "red_flags", "stroke_signs"), "urgency", 2);
}

static void
mutate_unknown_symptom (JsonObject *root)
{
  JsonObject *when = json_object_get_object_member (find_by_id (root, "rules", "mild_cold"), "when");
  JsonArray *any = json_array_new ();

  json_array_add_string_element (any, "sneezing_fit");
  json_object_set_array_member (when, "symptoms_any", any);
}

static void
mutate_duplicate_id (JsonObject *root)
{
  json_object_set_string_member (find_by_id (root, "rules", "mild_cold"), "id", "chest_pain");
}

static void
mutate_bad_age_unit (JsonObject *root)
{
  JsonObject *when = json_object_get_object_member (find_by_id (root, "rules", "fever_older_adult"),
                                                    "when");
  JsonObject *min = json_object_get_object_member (json_object_get_object_member (when, "age"),
                                                   "min");

  json_object_set_string_member (min, "unit", "decade");
}

static void
mutate_empty_when (JsonObject *root)
{
  json_object_set_object_member (find_by_id (root, "rules", "sleep"), "when", json_object_new ());
}

static void
mutate_unknown_condition (JsonObject *root)
{
  JsonObject *when = json_object_get_object_member (find_by_id (root, "rules", "sleep"), "when");

  json_object_set_int_member (when, "heart_rate_min", 120);
}

static void
mutate_missing_zh (JsonObject *root)
{
  json_object_remove_member (json_object_get_object_member (find_by_id (root, "red_flags",
                                                                        "poisoning"),
                                                            "message"), "zh");
}

static void
mutate_format_version (JsonObject *root)
{
  json_object_set_int_member (json_object_get_object_member (root, "_meta"), "format_version", 2);
}

static void
mutate_unknown_measurement (JsonObject *root)
{
  JsonArray *list = json_object_get_array_member (root, "measurements");

  json_object_set_string_member (json_array_get_object_element (list, 0), "id", "heart_rate");
}

static void
mutate_default_urgency (JsonObject *root)
{
  json_object_set_int_member (root, "default_urgency", 9);
}

static void
test_malformed_rules (void)
{
  const struct
  {
    Mutate      mutate;
    const char *expected;
  } cases[] = {
    { mutate_unknown_top, "rules file: unknown field “extra_rules”" },
    { mutate_unknown_rule_field, "unknown field “whenever”" },
    { mutate_urgency_zero, "(fever_general): urgency 0 is not an urgency level" },
    { mutate_urgency_five, "(mild_cold): urgency 5 is not an urgency level" },
    { mutate_urgency_text, "urgency \"2\" is not an urgency level" },
    { mutate_urgency_fraction, "urgency 2.5 is not an urgency level" },
    { mutate_no_source, "(skin_itch): has no source" },
    { mutate_empty_source, "(seizure): “source” must be a non-empty list" },
    { mutate_unlisted_source, "(chest_pain): source “My aunt's advice” is not listed in _meta.sources" },
    { mutate_red_flag_urgency, "(stroke_signs): a red flag has urgency 1, not 2" },
    { mutate_unknown_symptom, "“sneezing_fit” is not in symptom_checklist" },
    { mutate_duplicate_id, "id “chest_pain” is used twice" },
    { mutate_bad_age_unit, "unit “decade” is not day, month or year" },
    { mutate_empty_when, "(sleep).when: a condition must name at least one thing" },
    { mutate_unknown_condition, "unknown field “heart_rate_min”" },
    { mutate_missing_zh, "(poisoning).message: “zh” must be a non-empty string" },
    { mutate_format_version, "format_version must be 1" },
    { mutate_unknown_measurement, "“heart_rate” is not a measurement the rules can use" },
    { mutate_default_urgency, "default_urgency 9 is not an urgency level" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      /* A fresh parse: json_node_copy() would share the objects being changed. */
      g_autoptr(JsonNode) copy = json_from_string (rules_text, NULL);
      g_autofree char *text = NULL;
      g_autoptr(WzTriage) broken = NULL;
      g_autoptr(GError) error = NULL;

      cases[i].mutate (json_node_get_object (copy));
      text = json_to_string (copy, FALSE);
      broken = wz_triage_new_from_data (text, -1, &error);
      g_test_message ("case %u: %s", i, error ? error->message : "(accepted)");
      g_assert_null (broken);
      g_assert_error (error, WZ_ERROR, WZ_ERROR_INVALID);
      g_assert_nonnull (strstr (error->message, cases[i].expected));
    }
}

static void
test_rules_not_json (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (g_get_tmp_dir (), "wz-no-such-rules.json", NULL);

  g_assert_null (wz_triage_new_from_data ("{\"_meta\":", -1, &error));
  g_assert_error (error, WZ_ERROR, WZ_ERROR_INVALID);
  g_assert_true (g_str_has_prefix (error->message, "rules file is not valid JSON"));
  g_clear_error (&error);

  g_assert_null (wz_triage_new_from_data ("[]", -1, &error));
  g_assert_error (error, WZ_ERROR, WZ_ERROR_INVALID);
  g_clear_error (&error);

  g_assert_null (wz_triage_new_from_file (path, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
}

static void
test_questionnaire (void)
{
  g_autoptr(JsonNode) questionnaire = wz_triage_build_questionnaire (rules);
  g_autofree char *text = json_to_string (questionnaire, FALSE);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) parsed = wz_fhir_parse_resource (text, -1, "Questionnaire", NULL, &error);
  JsonObject *root;
  JsonArray *items;
  JsonArray *flags;
  g_autoptr(GHashTable) link_ids = g_hash_table_new (g_str_hash, g_str_equal);

  g_assert_no_error (error);
  root = json_node_get_object (parsed);
  g_assert_cmpstr (json_object_get_string_member (root, "url"), ==, WZ_TRIAGE_QUESTIONNAIRE_URL);
  g_assert_cmpstr (json_object_get_string_member (root, "status"), ==, "active");
  items = json_object_get_array_member (root, "item");
  for (guint i = 0; i < json_array_get_length (items); i++)
    g_hash_table_add (link_ids, (gpointer) json_object_get_string_member (
                        json_array_get_object_element (items, i), "linkId"));

  g_assert_true (g_hash_table_contains (link_ids, "chief-complaint"));
  g_assert_true (g_hash_table_contains (link_ids, "duration"));
  g_assert_true (g_hash_table_contains (link_ids, "symptoms"));
  g_assert_true (g_hash_table_contains (link_ids, "measurement.temperature_c"));
  g_assert_true (g_hash_table_contains (link_ids, "allergies-none"));
  flags = json_object_get_array_member (json_node_get_object (rules_json), "red_flags");
  for (guint i = 0; i < json_array_get_length (flags); i++)
    {
      g_autofree char *link_id = g_strconcat ("red-flag.", json_object_get_string_member (
                                                json_array_get_object_element (flags, i), "id"),
                                              NULL);

      g_assert_true (g_hash_table_contains (link_ids, link_id));
    }

  /* Chinese text with the English translation alongside. */
  g_assert_nonnull (strstr (text, "\"text\":\"您这次主要哪里不舒服？\""));
  g_assert_nonnull (strstr (text, "What is the main problem you would like to see the doctor about?"));
  g_assert_nonnull (strstr (text, "http://hl7.org/fhir/StructureDefinition/translation"));
}

static double
thread_cpu_us (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* The rules run on the server for every submitted questionnaire; they must cost next to nothing.
 * Timed in this thread's CPU time, best of several rounds, so a busy machine (parallel builds,
 * other tests) does not make the figure lie. */
static void
test_speed (void)
{
  const char *budget_text = g_getenv ("WZ_TRIAGE_BUDGET_US");
  double budget_us = budget_text ? g_ascii_strtod (budget_text, NULL) : 50.0;
  g_autofree char *chest = red_flag_item ("chest_pain", FALSE);
  g_autofree char *stroke = red_flag_item ("stroke_signs", FALSE);
  g_autofree char *extra = g_strconcat (
    chest, ",", stroke, ",",
    "{\"linkId\":\"measurement.temperature_c\",\"answer\":[{\"valueDecimal\":38.6}]},"
    "{\"linkId\":\"medications\",\"answer\":[{\"valueString\":\"二甲双胍\"}]}", NULL);
  g_autoptr(JsonNode) response = answers ("d3_7", "fever,cough,headache,fatigue", extra);
  const WzTriagePatient older = { "1948-02-29", "female", "2024-03-15" };
  const guint rounds = 10;
  const guint per_round = 500;
  double best_us = G_MAXDOUBLE;

  for (guint r = 0; r < rounds; r++)
    {
      double start = thread_cpu_us ();

      for (guint i = 0; i < per_round; i++)
        {
          g_autoptr(WzTriageResult) result = wz_triage_evaluate (rules,
                                                                 json_node_get_object (response),
                                                                 &older, NULL);

          g_assert_cmpuint (result->urgency, ==, 2);
        }
      best_us = MIN (best_us, (thread_cpu_us () - start) / per_round);
    }

  g_test_message ("triage evaluation: %.2f µs per questionnaire (budget %.0f µs)", best_us,
                  budget_us);
  g_assert_cmpfloat (best_us, <, budget_us);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *path = rules_path ();
  g_autoptr(GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

  g_file_get_contents (path, &rules_text, NULL, &error);
  g_assert_no_error (error);
  rules_json = json_from_string (rules_text, &error);
  g_assert_no_error (error);
  rules = wz_triage_new_from_file (path, &error);
  g_assert_no_error (error);

  g_test_add_func ("/triage/load-shipped", test_load_shipped);
  g_test_add_func ("/triage/every-red-flag", test_every_red_flag);
  g_test_add_func ("/triage/named-red-flags", test_named_red_flags);
  g_test_add_func ("/triage/several-red-flags", test_several_red_flags);
  g_test_add_func ("/triage/infant-fever-by-age", test_infant_fever_by_age);
  g_test_add_func ("/triage/age-rules", test_age_rules);
  g_test_add_func ("/triage/measurement-triggers", test_measurement_triggers);
  g_test_add_func ("/triage/pregnancy", test_pregnancy_and_sex);
  g_test_add_func ("/triage/routine-and-default", test_routine_and_default);
  g_test_add_func ("/triage/priority-codes", test_priority_codes);
  g_test_add_func ("/triage/malformed-answers", test_malformed_answers);
  g_test_add_func ("/triage/malformed-rules", test_malformed_rules);
  g_test_add_func ("/triage/rules-not-json", test_rules_not_json);
  g_test_add_func ("/triage/questionnaire", test_questionnaire);
  g_test_add_func ("/triage/speed", test_speed);

  status = g_test_run ();

  g_clear_object (&rules);
  g_clear_pointer (&rules_json, json_node_unref);
  g_clear_pointer (&rules_text, g_free);
  return status;
}
