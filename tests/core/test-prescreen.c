/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "wz-error.h"
#include "wz-fhir.h"
#include "wz-prescreen.h"

/* The pre-vaccination screening questionnaire and what its answers mean for each vaccine. */

static WzNipSchedule *schedule;

static WzDay
day (const char *text)
{
  WzDay result = WZ_DAY_NONE;

  g_assert_true (wz_day_parse (text, &result));
  return result;
}

/* A completed response with "yes" to the questions in YES, "no" to those in NO, and PLANNED
 * vaccines (may be NULL). */
static JsonNode *
response (const char *const *yes,
          const char *const *no,
          const char *const *planned,
          const char        *extra_item)
{
  g_autoptr(GString) text = g_string_new ("{\"resourceType\":\"QuestionnaireResponse\","
                                          "\"questionnaire\":\"" WZ_PRESCREEN_QUESTIONNAIRE_URL
                                          "|1\",\"status\":\"completed\",\"item\":[");
  gboolean first = TRUE;
  JsonNode *node;

  for (guint i = 0; yes != NULL && yes[i] != NULL; i++, first = FALSE)
    g_string_append_printf (text, "%s{\"linkId\":\"%s\",\"answer\":[{\"valueBoolean\":true}]}",
                            first ? "" : ",", yes[i]);
  for (guint i = 0; no != NULL && no[i] != NULL; i++, first = FALSE)
    g_string_append_printf (text, "%s{\"linkId\":\"%s\",\"answer\":[{\"valueBoolean\":false}]}",
                            first ? "" : ",", no[i]);
  if (planned != NULL)
    {
      g_string_append_printf (text, "%s{\"linkId\":\"" WZ_PRESCREEN_LINK_VACCINES "\",\"answer\":[",
                              first ? "" : ",");
      for (guint i = 0; planned[i] != NULL; i++)
        g_string_append_printf (text, "%s{\"valueCoding\":{\"system\":\"" WZ_NIP_VACCINE_SYSTEM
                                "\",\"code\":\"%s\"}}", i ? "," : "", planned[i]);
      g_string_append (text, "]}");
      first = FALSE;
    }
  if (extra_item != NULL)
    g_string_append_printf (text, "%s%s", first ? "" : ",", extra_item);
  g_string_append (text, "]}");

  node = json_from_string (text->str, NULL);
  g_assert_nonnull (node);
  return node;
}

static const WzPrescreenVaccine *
verdict (WzPrescreenResult *result,
         const char        *vaccine)
{
  for (guint i = 0; i < result->vaccines->len; i++)
    {
      const WzPrescreenVaccine *entry = &g_array_index (result->vaccines, WzPrescreenVaccine, i);

      if (strcmp (entry->vaccine->id, vaccine) == 0)
        return entry;
    }
  return NULL;
}

static gboolean
has_finding (const WzPrescreenVaccine *entry,
             const char               *id)
{
  for (guint i = 0; i < entry->findings->len; i++)
    if (strcmp (((const WzNipContraindication *) g_ptr_array_index (entry->findings, i))->id,
                id) == 0)
      return TRUE;
  return FALSE;
}

static const char *all_no[] = {
  "q_fever_or_acute_illness", "q_previous_severe_reaction", "q_component_allergy",
  "q_immune_status", "q_household_immunodeficiency", "q_neurological", "q_blood_products",
  "q_thrombocytopenia", "q_recent_live_vaccine", NULL
};

static WzPrescreenResult *
evaluate (JsonNode          *node,
          const char *const *vaccines,
          const char        *birth,
          const char        *gender)
{
  g_autoptr(GError) error = NULL;
  WzPrescreenResult *result = wz_prescreen_evaluate (schedule, json_node_get_object (node),
                                                     vaccines, day (birth), gender,
                                                     day ("2024-06-01"), &error);

  g_assert_no_error (error);
  g_assert_nonnull (result);
  return result;
}

static void
test_questionnaire (void)
{
  g_autoptr(JsonNode) zh = wz_prescreen_questionnaire (schedule, "zh_CN");
  g_autofree char *text = json_to_string (zh, FALSE);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) parsed = wz_fhir_parse_resource (text, -1, "Questionnaire", NULL, &error);
  JsonArray *items = json_object_get_array_member (json_node_get_object (zh), "item");

  g_assert_no_error (error);
  /* Planned vaccines, twelve questions and the allergy detail. */
  g_assert_cmpuint (json_array_get_length (items), ==, 14);
  g_assert_nonnull (strstr (text, "孩子今天是否发热"));
  g_assert_nonnull (strstr (text, "Does the child have a fever"));
  g_assert_nonnull (strstr (text, "\"valueCode\":\"female\""));
  g_assert_nonnull (strstr (text, "\"valueString\":\"10 year\""));
}

static void
test_fever_postpones_everything_planned (void)
{
  const char *yes[] = { "q_fever_or_acute_illness", NULL };
  const char *planned[] = { "MMR", "HepB", NULL };
  g_autoptr(JsonNode) node = response (yes, all_no + 1, planned, NULL);
  g_autoptr(WzPrescreenResult) result = evaluate (node, NULL, "2023-01-15", "male");
  g_autoptr(JsonNode) json = wz_prescreen_result_to_json (result, "zh");
  g_autofree char *text = json_to_string (json, FALSE);

  g_assert_cmpuint (result->vaccines->len, ==, 2);
  g_assert_cmpint (verdict (result, "MMR")->decision, ==, WZ_PRESCREEN_DEFER);
  g_assert_cmpint (verdict (result, "HepB")->decision, ==, WZ_PRESCREEN_DEFER);
  g_assert_true (has_finding (verdict (result, "MMR"), "acute_illness"));
  g_assert_null (verdict (result, "BCG"));
  g_assert_nonnull (strstr (text, "\"decision\":\"defer\""));
  g_assert_nonnull (strstr (text, "痊愈后再接种"));
}

static void
test_immune_status_stops_live_vaccines (void)
{
  const char *yes[] = { "q_immune_status", NULL };
  const char *no[] = { "q_fever_or_acute_illness", "q_previous_severe_reaction",
                       "q_component_allergy", "q_household_immunodeficiency", "q_neurological",
                       "q_blood_products", "q_thrombocytopenia", "q_recent_live_vaccine",
                       "q_mother_hiv", NULL };
  g_autoptr(JsonNode) node = response (yes, no, NULL, NULL);
  g_autoptr(WzPrescreenResult) result = evaluate (node, NULL, "2023-01-15", "male");

  /* Every programme vaccine is judged when none is named as planned. */
  g_assert_cmpuint (result->vaccines->len, ==, 13);
  g_assert_cmpint (verdict (result, "MMR")->decision, ==, WZ_PRESCREEN_CONTRAINDICATED);
  g_assert_cmpint (verdict (result, "BCG")->decision, ==, WZ_PRESCREEN_CONTRAINDICATED);
  g_assert_cmpint (verdict (result, "bOPV")->decision, ==, WZ_PRESCREEN_CONTRAINDICATED);
  g_assert_cmpint (verdict (result, "IPV")->decision, ==, WZ_PRESCREEN_OK);
  g_assert_cmpint (verdict (result, "HepB")->decision, ==, WZ_PRESCREEN_OK);
  g_assert_cmpint (verdict (result, "DTaP")->decision, ==, WZ_PRESCREEN_OK);
  g_assert_cmpuint (result->yes->len, ==, 1);
}

static void
test_allergy_and_precaution (void)
{
  const char *yes[] = { "q_component_allergy", "q_thrombocytopenia", NULL };
  const char *vaccines[] = { "HepB", "MMR", "DTaP", NULL };
  g_autoptr(JsonNode) node = response (yes, NULL, NULL,
                                       "{\"linkId\":\"" WZ_PRESCREEN_LINK_ALLERGY_DETAIL "\","
                                       "\"answer\":[{\"valueString\":\"yeast: hives\"}]}");
  g_autoptr(WzPrescreenResult) result = evaluate (node, vaccines, "2023-01-15", "female");
  const WzPrescreenVaccine *mmr = verdict (result, "MMR");

  g_assert_cmpint (verdict (result, "HepB")->decision, ==, WZ_PRESCREEN_CONTRAINDICATED);
  g_assert_true (has_finding (verdict (result, "HepB"), "yeast_allergy"));
  g_assert_cmpint (mmr->decision, ==, WZ_PRESCREEN_CONTRAINDICATED);
  g_assert_true (has_finding (mmr, "thrombocytopenia_history"));
  g_assert_true (has_finding (mmr, "neomycin_gelatin_allergy"));
  g_assert_cmpstr (result->allergy_detail, ==, "yeast: hives");

  {
    /* Low platelets alone is a precaution for MMR, nothing for HepB. */
    const char *only[] = { "q_thrombocytopenia", NULL };
    const char *no[] = { "q_fever_or_acute_illness", "q_previous_severe_reaction",
                         "q_component_allergy", "q_immune_status", "q_recent_live_vaccine",
                         "q_blood_products", NULL };
    g_autoptr(JsonNode) node2 = response (only, no, NULL, NULL);
    g_autoptr(WzPrescreenResult) result2 = evaluate (node2, vaccines, "2023-01-15", "female");

    g_assert_cmpint (verdict (result2, "MMR")->decision, ==, WZ_PRESCREEN_PRECAUTION);
    g_assert_cmpint (verdict (result2, "HepB")->decision, ==, WZ_PRESCREEN_OK);
  }
}

/* The pregnancy question matters only for girls from 10: unanswered for a toddler is fine,
 * unanswered for a 14-year-old girl leaves MMR incomplete. */
static void
test_questions_that_apply (void)
{
  const char *vaccines[] = { "MMR", NULL };
  g_autoptr(JsonNode) node = response (NULL, all_no, NULL, NULL);
  g_autoptr(WzPrescreenResult) toddler = evaluate (node, vaccines, "2022-01-15", "female");
  g_autoptr(WzPrescreenResult) teenager = evaluate (node, vaccines, "2010-01-15", "female");
  g_autoptr(WzPrescreenResult) boy = evaluate (node, vaccines, "2010-01-15", "male");
  const WzNipQuestion *pregnancy = wz_nip_schedule_get_question (schedule, "q_pregnancy");

  g_assert_cmpint (verdict (toddler, "MMR")->decision, ==, WZ_PRESCREEN_OK);
  g_assert_cmpint (verdict (teenager, "MMR")->decision, ==, WZ_PRESCREEN_INCOMPLETE);
  g_assert_true (g_ptr_array_index (verdict (teenager, "MMR")->unanswered, 0) == pregnancy);
  g_assert_cmpint (verdict (boy, "MMR")->decision, ==, WZ_PRESCREEN_OK);
  g_assert_true (wz_prescreen_question_applies (pregnancy, day ("2014-06-01"), "female",
                                                day ("2024-06-01")));
  g_assert_false (wz_prescreen_question_applies (pregnancy, day ("2014-06-02"), "female",
                                                 day ("2024-06-01")));
}

static void
assert_refused (const char *text,
                const char *needle)
{
  g_autoptr(JsonNode) node = json_from_string (text, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(WzPrescreenResult) result = NULL;

  g_assert_nonnull (node);
  result = wz_prescreen_evaluate (schedule, json_node_get_object (node), NULL, day ("2020-01-01"),
                                  NULL, day ("2024-06-01"), &error);
  g_assert_null (result);
  g_assert_error (error, WZ_ERROR, WZ_ERROR_INVALID);
  if (strstr (error->message, needle) == NULL)
    g_error ("“%s” does not mention “%s”", error->message, needle);
}

static void
test_bad_responses (void)
{
  assert_refused ("{\"resourceType\":\"QuestionnaireResponse\",\"status\":\"completed\","
                  "\"questionnaire\":\"https://example.org/other\"}", "Not a response to");
  assert_refused ("{\"resourceType\":\"QuestionnaireResponse\",\"status\":\"in-progress\","
                  "\"questionnaire\":\"" WZ_PRESCREEN_QUESTIONNAIRE_URL "\"}", "in-progress");
  assert_refused ("{\"resourceType\":\"QuestionnaireResponse\",\"status\":\"completed\","
                  "\"questionnaire\":\"" WZ_PRESCREEN_QUESTIONNAIRE_URL "\",\"item\":["
                  "{\"linkId\":\"q_fever\",\"answer\":[{\"valueBoolean\":true}]}]}",
                  "“q_fever” is not an item");
  assert_refused ("{\"resourceType\":\"QuestionnaireResponse\",\"status\":\"completed\","
                  "\"questionnaire\":\"" WZ_PRESCREEN_QUESTIONNAIRE_URL "\",\"item\":["
                  "{\"linkId\":\"q_fever_or_acute_illness\",\"answer\":[{\"valueString\":\"yes\"}]}]}",
                  "valueBoolean");
  assert_refused ("{\"resourceType\":\"QuestionnaireResponse\",\"status\":\"completed\","
                  "\"questionnaire\":\"" WZ_PRESCREEN_QUESTIONNAIRE_URL "\",\"item\":["
                  "{\"linkId\":\"" WZ_PRESCREEN_LINK_VACCINES "\",\"answer\":[{\"valueCoding\":"
                  "{\"code\":\"Hib\"}}]}]}", "not a programme vaccine");
  assert_refused ("{\"resourceType\":\"QuestionnaireResponse\",\"status\":\"completed\","
                  "\"questionnaire\":\"" WZ_PRESCREEN_QUESTIONNAIRE_URL "\",\"item\":["
                  "{\"linkId\":\"q_neurological\",\"answer\":[{\"valueBoolean\":true}]},"
                  "{\"linkId\":\"q_neurological\",\"answer\":[{\"valueBoolean\":false}]}]}",
                  "answered twice");
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  const char *data_dir = g_getenv ("WZ_DATA_DIR");
  int status;

  g_test_init (&argc, &argv, NULL);

  path = g_build_filename (data_dir ? data_dir : SOURCE_DATADIR, "clinical", "nip-schedule.json",
                           NULL);
  schedule = wz_nip_schedule_new_from_file (path, &error);
  g_assert_no_error (error);

  g_test_add_func ("/prescreen/questionnaire", test_questionnaire);
  g_test_add_func ("/prescreen/fever-postpones", test_fever_postpones_everything_planned);
  g_test_add_func ("/prescreen/immune-status", test_immune_status_stops_live_vaccines);
  g_test_add_func ("/prescreen/allergy-and-precaution", test_allergy_and_precaution);
  g_test_add_func ("/prescreen/questions-that-apply", test_questions_that_apply);
  g_test_add_func ("/prescreen/bad-responses", test_bad_responses);

  status = g_test_run ();
  g_clear_object (&schedule);
  return status;
}
