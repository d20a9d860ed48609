/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "wz-careplan-template.h"
#include "wz-error.h"
#include "wz-fhir.h"

/* Care-plan templates from data/clinical/followup-templates.json: strict loading, plans with
 * their Tasks and due dates, target variants, and patient-reported values against targets. */

static GPtrArray *templates;
static char *templates_text;

static WzDay
day (const char *text)
{
  WzDay result = WZ_DAY_NONE;

  if (!wz_day_parse (text, &result))
    g_error ("bad date in test: %s", text);
  return result;
}

static WzCareplanInstance *
instantiate (const char        *template_id,
             const char        *anchor,
             const char        *created,
             const char *const *conditions,
             gint               age_years,
             gboolean           include_optional)
{
  WzCareplanTemplate *template = wz_careplan_template_find (templates, template_id);
  WzCareplanRequest request = {
    "Patient/p1", "Practitioner/d1", "urn:uuid:7d7c0b4e-0f1c-4d41-9c55-0d7a3c1e2f10",
    day (anchor), day (created), WZ_DAY_NONE, conditions, age_years, include_optional,
    "2024-05-01T09:00:00+08:00", "en",
  };
  g_autoptr(GError) error = NULL;
  WzCareplanInstance *instance;

  g_assert_nonnull (template);
  instance = wz_careplan_template_instantiate (template, &request, &error);
  g_assert_no_error (error);
  return instance;
}

static const char *
task_code (JsonObject *task)
{
  JsonArray *codings = json_object_get_array_member (json_object_get_object_member (task, "code"),
                                                     "coding");

  return json_object_get_string_member (json_array_get_object_element (codings, 0), "code");
}

static const char *
task_due (JsonObject *task)
{
  return json_object_get_string_member (
    json_array_get_object_element (json_object_get_array_member (task, "extension"), 0),
    "valueDate");
}

static const char *
task_window (JsonObject *task,
             const char *edge)
{
  return json_object_get_string_member (
    json_object_get_object_member (json_object_get_object_member (task, "restriction"), "period"),
    edge);
}

static const char *
task_owner (JsonObject *task)
{
  return json_object_get_string_member (json_object_get_object_member (task, "owner"), "reference");
}

/* The Tasks of KIND, in due order. */
static GPtrArray *
tasks_of (WzCareplanInstance *instance,
          const char         *kind)
{
  GPtrArray *found = g_ptr_array_new ();

  for (guint i = 0; i < instance->tasks->len; i++)
    {
      JsonObject *task = json_node_get_object (g_ptr_array_index (instance->tasks, i));

      if (strcmp (task_code (task), kind) == 0)
        g_ptr_array_add (found, task);
    }
  return found;
}

static void
assert_valid_fhir (JsonNode   *node,
                   const char *type)
{
  g_autofree char *text = json_to_string (node, FALSE);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) parsed = wz_fhir_parse_resource (text, -1, type, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (parsed);
}

static const WzCareplanTarget *
target_named (GPtrArray  *targets,
              const char *id)
{
  for (guint i = 0; i < targets->len; i++)
    {
      const WzCareplanTarget *target = g_ptr_array_index (targets, i);

      if (strcmp (target->id, id) == 0)
        return target;
    }
  g_error ("no target %s", id);
  return NULL;
}

static void
test_load (void)
{
  const char *ids[] = { "hypertension", "type2_diabetes", "post_operative", "pregnancy",
                        "child_health", "custom" };

  g_assert_cmpuint (templates->len, ==, G_N_ELEMENTS (ids));
  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    {
      WzCareplanTemplate *template = g_ptr_array_index (templates, i);

      g_assert_cmpstr (wz_careplan_template_get_id (template), ==, ids[i]);
      g_assert_nonnull (wz_careplan_template_get_title (template)->zh);
      g_assert_nonnull (wz_careplan_template_get_title (template)->en);
    }
  g_assert_cmpstr (wz_careplan_template_get_anchor (wz_careplan_template_find (templates,
                                                                              "pregnancy")),
                   ==, "last_menstrual_period");
}

static void
assert_load_fails (const char *from,
                   const char *to,
                   const char *needle)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) broken = NULL;
  g_autoptr(GString) text = g_string_new (NULL);
  char *at = strstr (templates_text, from);

  if (at == NULL)
    g_error ("“%s” is not in the templates file", from);
  g_string_append_len (text, templates_text, at - templates_text);
  g_string_append (text, to);
  g_string_append (text, at + strlen (from));

  broken = wz_careplan_template_load_data (text->str, text->len, &error);
  g_assert_null (broken);
  g_assert_error (error, WZ_ERROR, WZ_ERROR_INVALID);
  if (strstr (error->message, needle) == NULL)
    g_error ("“%s” does not mention “%s”", error->message, needle);
}

static void
test_load_validation (void)
{
  /* A misspelt alert level must not silently drop the alert. */
  assert_load_fails ("\"urgent_high\": 180", "\"urgent_hihg\": 180",
                     "templates[0].measurements[0].alert.urgent_hihg");
  assert_load_fails ("\"zh\": \"高血压\"", "\"cn\": \"高血压\"", "templates[0].title.zh");
  assert_load_fails ("\"unit\": \"week\"", "\"unit\": \"fortnight\"", "templates[0].revisits");
  assert_load_fails ("\"low\": 4.4", "\"low\": 8.4", "low 8.4 is not below high 7");
  assert_load_fails ("\"anchor\": \"plan_start\"", "\"anchor\": \"birthday\"",
                     "templates[0].anchor");
  assert_load_fails ("\"per\": \"day\"", "\"per\": \"hour\"", "frequency.per");
  assert_load_fails ("\"default_plan_length\"", "\"plan_length\"", "conventions");
}

static void
test_hypertension_plan (void)
{
  g_autoptr(WzCareplanInstance) plan = instantiate ("hypertension", "2024-05-01", "2024-05-01",
                                                    NULL, 60, FALSE);
  g_autoptr(GPtrArray) revisits = tasks_of (plan, "revisit");
  g_autoptr(GPtrArray) annual = tasks_of (plan, "annual-review");
  g_autoptr(GPtrArray) checkins = tasks_of (plan, "adherence-checkin");
  g_autoptr(GPtrArray) measurements = tasks_of (plan, "measurement");
  g_autoptr(GPtrArray) education = tasks_of (plan, "education");
  g_autoptr(GHashTable) identifiers = g_hash_table_new (g_str_hash, g_str_equal);
  JsonObject *careplan = json_node_get_object (plan->careplan);
  g_autoptr(GPtrArray) targets = NULL;
  const WzCareplanTarget *systolic;
  const char *expected_revisits[] = { "2024-05-29", "2024-08-29", "2024-11-29", "2025-03-01" };

  assert_valid_fhir (plan->careplan, "CarePlan");
  g_assert_cmpstr (json_object_get_string_member (careplan, "status"), ==, "active");
  g_assert_cmpstr (json_object_get_string_member (
                     json_object_get_object_member (careplan, "period"), "end"), ==, "2025-05-01");

  /* Four weeks, then every three months; 29 February 2025 does not exist: 1 March. */
  g_assert_cmpuint (revisits->len, ==, G_N_ELEMENTS (expected_revisits));
  for (guint i = 0; i < revisits->len; i++)
    {
      JsonObject *task = g_ptr_array_index (revisits, i);

      g_assert_cmpstr (task_due (task), ==, expected_revisits[i]);
      g_assert_cmpstr (task_owner (task), ==, "Practitioner/d1");
    }
  g_assert_cmpstr (task_window (g_ptr_array_index (revisits, 0), "start"), ==, "2024-05-26");
  g_assert_cmpstr (task_window (g_ptr_array_index (revisits, 0), "end"), ==, "2024-06-05");
  g_assert_cmpuint (annual->len, ==, 1);
  g_assert_cmpstr (task_due (g_ptr_array_index (annual, 0)), ==, "2025-05-01");

  /* Every two weeks for a year, for the patient to answer. */
  g_assert_cmpuint (checkins->len, ==, 26);
  g_assert_cmpstr (task_due (g_ptr_array_index (checkins, 0)), ==, "2024-05-15");
  g_assert_cmpstr (task_due (g_ptr_array_index (checkins, 25)), ==, "2025-04-30");
  g_assert_cmpstr (task_owner (g_ptr_array_index (checkins, 0)), ==, "Patient/p1");
  /* Their questions are in the plan, once. */
  g_assert_false (json_object_has_member (g_ptr_array_index (checkins, 0), "input"));
  {
    JsonArray *activities = json_object_get_array_member (careplan, "activity");
    guint n_checkin_activities = 0;

    for (guint i = 0; i < json_array_get_length (activities); i++)
      {
        JsonObject *detail = json_object_get_object_member (
          json_array_get_object_element (activities, i), "detail");
        g_autofree char *text = json_to_string (json_object_get_member (detail, "code"), FALSE);
        JsonObject *questions;

        if (strstr (text, "\"adherence-checkin\"") == NULL)
          continue;
        n_checkin_activities++;
        questions = json_array_get_object_element (json_object_get_array_member (detail,
                                                                                 "extension"), 0);
        g_assert_cmpstr (json_object_get_string_member (questions, "url"), ==,
                         WZ_CAREPLAN_QUESTIONS_EXTENSION);
        g_assert_cmpuint (json_array_get_length (json_object_get_array_member (questions,
                                                                               "extension")), ==, 5);
      }
    g_assert_cmpuint (n_checkin_activities, ==, 1);
  }

  g_assert_cmpuint (measurements->len, ==, 4);
  g_assert_cmpuint (education->len, ==, 6);
  g_assert_cmpuint (plan->tasks->len, ==, 4 + 1 + 26 + 4 + 6);

  for (guint i = 0; i < plan->tasks->len; i++)
    {
      JsonObject *task = json_node_get_object (g_ptr_array_index (plan->tasks, i));
      const char *identifier = json_object_get_string_member (
        json_array_get_object_element (json_object_get_array_member (task, "identifier"), 0),
        "value");

      assert_valid_fhir (g_ptr_array_index (plan->tasks, i), "Task");
      g_assert_true (g_str_has_prefix (identifier, "urn:uuid:7d7c0b4e"));
      g_assert_false (g_hash_table_contains (identifiers, identifier));
      g_hash_table_add (identifiers, (gpointer) identifier);
      if (i > 0)
        g_assert_cmpstr (task_due (json_node_get_object (g_ptr_array_index (plan->tasks, i - 1))),
                         <=, task_due (task));
    }

  wz_careplan_instance_set_plan (plan, "CarePlan/cp1");
  g_assert_cmpstr (json_object_get_string_member (
                     json_array_get_object_element (json_object_get_array_member (
                       json_node_get_object (g_ptr_array_index (plan->tasks, 0)), "basedOn"), 0),
                     "reference"), ==, "CarePlan/cp1");

  /* The targets survive the trip through the CarePlan. */
  targets = wz_careplan_targets_from_json (careplan);
  g_assert_cmpuint (targets->len, ==, 4);
  systolic = target_named (targets, "home_bp_systolic");
  g_assert_cmpstr (systolic->loinc, ==, "8480-6");
  g_assert_cmpstr (systolic->unit, ==, "mm[Hg]");
  g_assert_true (systolic->has_high);
  g_assert_cmpfloat (systolic->high, ==, 135);
  g_assert_cmpfloat (systolic->urgent_high, ==, 180);
  g_assert_cmpfloat (systolic->flag_low, ==, 90);
  g_assert_cmpstr (systolic->per, ==, "day");
  g_assert_nonnull (systolic->urgent_message.zh);
  g_assert_nonnull (strstr (systolic->urgent_message.en, "call 120"));
}

static void
test_target_variants (void)
{
  const char *diabetes[] = { "I10", "E11.9", NULL };
  g_autoptr(WzCareplanInstance) with_diabetes = instantiate ("hypertension", "2024-05-01",
                                                             "2024-05-01", diabetes, 60, FALSE);
  g_autoptr(WzCareplanInstance) elderly = instantiate ("hypertension", "2024-05-01", "2024-05-01",
                                                       NULL, 82, FALSE);
  g_autoptr(WzCareplanInstance) both = instantiate ("hypertension", "2024-05-01", "2024-05-01",
                                                    diabetes, 82, FALSE);
  g_autoptr(GPtrArray) t1 = wz_careplan_targets_from_json (json_node_get_object (with_diabetes->careplan));
  g_autoptr(GPtrArray) t2 = wz_careplan_targets_from_json (json_node_get_object (elderly->careplan));
  g_autoptr(GPtrArray) t3 = wz_careplan_targets_from_json (json_node_get_object (both->careplan));

  g_assert_cmpfloat (target_named (t1, "home_bp_systolic")->high, ==, 130);
  g_assert_cmpfloat (target_named (t1, "home_bp_diastolic")->high, ==, 80);
  g_assert_cmpfloat (target_named (t2, "home_bp_systolic")->high, ==, 150);
  g_assert_cmpfloat (target_named (t2, "home_bp_diastolic")->high, ==, 90);
  /* The stricter comorbidity variant is listed first and wins. */
  g_assert_cmpfloat (target_named (t3, "home_bp_systolic")->high, ==, 130);
}

static void
test_post_operative_plan (void)
{
  g_autoptr(WzCareplanInstance) plan = instantiate ("post_operative", "2024-05-01", "2024-05-02",
                                                    NULL, 45, FALSE);
  g_autoptr(WzCareplanInstance) implant = instantiate ("post_operative", "2024-05-01",
                                                       "2024-05-02", NULL, 45, TRUE);
  g_autoptr(GPtrArray) revisits = tasks_of (plan, "revisit");
  g_autoptr(GPtrArray) with_implant = tasks_of (implant, "revisit");
  g_autoptr(GPtrArray) checkins = tasks_of (plan, "adherence-checkin");
  g_autoptr(GPtrArray) measurements = tasks_of (plan, "measurement");
  JsonObject *wound = NULL;

  g_assert_cmpuint (revisits->len, ==, 3);
  g_assert_cmpstr (task_due (g_ptr_array_index (revisits, 0)), ==, "2024-05-04");
  g_assert_cmpstr (task_window (g_ptr_array_index (revisits, 0), "start"), ==, "2024-05-03");
  g_assert_cmpstr (task_window (g_ptr_array_index (revisits, 0), "end"), ==, "2024-05-05");
  g_assert_cmpstr (task_due (g_ptr_array_index (revisits, 2)), ==, "2024-05-31");
  /* The 90-day review only with an implant. */
  g_assert_cmpuint (with_implant->len, ==, 4);
  g_assert_cmpstr (task_due (g_ptr_array_index (with_implant, 3)), ==, "2024-07-30");
  g_assert_cmpstr (json_object_get_string_member (
                     json_object_get_object_member (json_node_get_object (plan->careplan),
                                                    "period"), "end"), ==, "2024-06-07");
  g_assert_cmpuint (checkins->len, ==, 2);
  g_assert_cmpstr (task_due (g_ptr_array_index (checkins, 1)), ==, "2024-05-08");

  /* The wound questions go to the patient with the measurement. */
  for (guint i = 0; i < measurements->len; i++)
    if (g_strcmp0 (json_object_get_string_member (json_object_get_object_member (
                     g_ptr_array_index (measurements, i), "code"), "text"), "Wound check") == 0 ||
        json_object_has_member (g_ptr_array_index (measurements, i), "input"))
      wound = g_ptr_array_index (measurements, i);
  g_assert_nonnull (wound);
  {
    g_autofree char *text = json_to_string (json_object_get_member (wound, "input"), FALSE);

    g_assert_nonnull (strstr (text, "\"code\":\"wound.discharge\""));
  }
}

/* A plan made for a two-year-old from the birth-date template starts with what is still ahead. */
static void
test_child_plan_skips_the_past (void)
{
  g_autoptr(WzCareplanInstance) plan = instantiate ("child_health", "2022-05-01", "2024-06-01",
                                                    NULL, 2, FALSE);
  g_autoptr(GPtrArray) revisits = tasks_of (plan, "revisit");
  g_autoptr(GPtrArray) checkins = tasks_of (plan, "adherence-checkin");
  g_autoptr(GPtrArray) education = tasks_of (plan, "education");

  g_assert_cmpuint (revisits->len, ==, 5);
  g_assert_cmpstr (task_due (g_ptr_array_index (revisits, 0)), ==, "2024-11-01");
  g_assert_cmpstr (task_due (g_ptr_array_index (revisits, 4)), ==, "2028-05-01");
  /* Vitamin D check-ins end at 12 months; newborn education is long past. */
  g_assert_cmpuint (checkins->len, ==, 0);
  g_assert_cmpuint (education->len, ==, 0);
  g_assert_cmpuint (plan->tasks->len, ==, 5 + 7);
}

static void
test_pregnancy_plan (void)
{
  g_autoptr(WzCareplanInstance) plan = instantiate ("pregnancy", "2024-01-01", "2024-02-05", NULL,
                                                    30, FALSE);
  g_autoptr(GPtrArray) revisits = tasks_of (plan, "revisit");
  JsonObject *first, *last;

  /* Seven visits by window, then weekly from 37 weeks until 42. */
  g_assert_cmpuint (revisits->len, ==, 12);
  first = g_ptr_array_index (revisits, 0);
  g_assert_cmpstr (task_due (first), ==, "2024-02-12");
  g_assert_cmpstr (task_window (first, "end"), ==, "2024-04-07");
  last = g_ptr_array_index (revisits, 11);
  g_assert_cmpstr (task_due (last), ==, "2024-10-14");
  g_assert_cmpstr (task_window (last, "end"), ==, "2024-10-20");
}

static GArray *
evaluate (GPtrArray  *targets,
          const char *observation)
{
  g_autoptr(JsonNode) node = json_from_string (observation, NULL);

  g_assert_nonnull (node);
  return wz_careplan_evaluate_observation (targets, json_node_get_object (node));
}

#define BP(sys, dia) \
  "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"coding\":[{\"system\":" \
  "\"http://loinc.org\",\"code\":\"85354-9\"}]},\"component\":[" \
  "{\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"8480-6\"}]}," \
  "\"valueQuantity\":{\"value\":" #sys ",\"unit\":\"mmHg\",\"system\":\"http://unitsofmeasure.org\"," \
  "\"code\":\"mm[Hg]\"}},{\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":" \
  "\"8462-4\"}]},\"valueQuantity\":{\"value\":" #dia ",\"unit\":\"mmHg\",\"system\":" \
  "\"http://unitsofmeasure.org\",\"code\":\"mm[Hg]\"}}]}"

#define GLUCOSE(codings, value) \
  "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"coding\":[" codings "]}," \
  "\"valueQuantity\":{\"value\":" #value ",\"code\":\"mmol/L\"}}"

static WzFollowupFlag
flag_of (GArray     *readings,
         const char *id)
{
  for (guint i = 0; i < readings->len; i++)
    {
      WzCareplanReading *reading = &g_array_index (readings, WzCareplanReading, i);

      if (strcmp (reading->target->id, id) == 0)
        return reading->flag;
    }
  g_error ("no reading for %s", id);
  return WZ_FOLLOWUP_FLAG_NONE;
}

static void
test_observation_flags (void)
{
  g_autoptr(WzCareplanInstance) bp_plan = instantiate ("hypertension", "2024-05-01", "2024-05-01",
                                                       NULL, 60, FALSE);
  g_autoptr(WzCareplanInstance) dm_plan = instantiate ("type2_diabetes", "2024-05-01",
                                                       "2024-05-01", NULL, 60, FALSE);
  g_autoptr(WzCareplanInstance) op_plan = instantiate ("post_operative", "2024-05-01",
                                                       "2024-05-01", NULL, 60, FALSE);
  g_autoptr(WzCareplanInstance) ob_plan = instantiate ("pregnancy", "2024-01-01", "2024-02-05",
                                                       NULL, 30, FALSE);
  g_autoptr(GPtrArray) bp = wz_careplan_targets_from_json (json_node_get_object (bp_plan->careplan));
  g_autoptr(GPtrArray) dm = wz_careplan_targets_from_json (json_node_get_object (dm_plan->careplan));
  g_autoptr(GPtrArray) op = wz_careplan_targets_from_json (json_node_get_object (op_plan->careplan));
  g_autoptr(GPtrArray) ob = wz_careplan_targets_from_json (json_node_get_object (ob_plan->careplan));
  struct { const char *observation; const char *target; WzFollowupFlag flag; } cases[] = {
    { BP (182, 95), "home_bp_systolic", WZ_FOLLOWUP_FLAG_URGENT_HIGH },
    { BP (182, 95), "home_bp_diastolic", WZ_FOLLOWUP_FLAG_HIGH },
    { BP (134, 84), "home_bp_systolic", WZ_FOLLOWUP_FLAG_NONE },
    { BP (134, 84), "home_bp_diastolic", WZ_FOLLOWUP_FLAG_NONE },
    /* "Below 135/85": 135 is already above target. */
    { BP (135, 85), "home_bp_systolic", WZ_FOLLOWUP_FLAG_HIGH },
    { BP (135, 85), "home_bp_diastolic", WZ_FOLLOWUP_FLAG_HIGH },
    { BP (88, 60), "home_bp_systolic", WZ_FOLLOWUP_FLAG_LOW },
    { BP (120, 110), "home_bp_diastolic", WZ_FOLLOWUP_FLAG_URGENT_HIGH },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GArray) readings = evaluate (bp, cases[i].observation);

      g_assert_cmpuint (readings->len, ==, 2);
      if (flag_of (readings, cases[i].target) != cases[i].flag)
        g_error ("case %u: %s is %s", i, cases[i].target,
                 wz_followup_flag_to_string (flag_of (readings, cases[i].target)));
    }

  {
    /* Fasting 4.4–7.0 with 7.0 inclusive; below 3.9 is urgent. */
    const char *fasting = "{\"system\":\"" WZ_FOLLOWUP_LOINC_SYSTEM "\",\"code\":\"14743-9\"},"
                          "{\"system\":\"" WZ_FOLLOWUP_MEASUREMENT_SYSTEM "\",\"code\":\"fasting_glucose\"}";
    struct { double value; WzFollowupFlag flag; } glucose[] = {
      { 7.0, WZ_FOLLOWUP_FLAG_NONE }, { 7.1, WZ_FOLLOWUP_FLAG_HIGH },
      { 4.3, WZ_FOLLOWUP_FLAG_LOW }, { 3.8, WZ_FOLLOWUP_FLAG_URGENT_LOW },
      { 16.7, WZ_FOLLOWUP_FLAG_URGENT_HIGH },
    };

    for (guint i = 0; i < G_N_ELEMENTS (glucose); i++)
      {
        g_autofree char *text = g_strdup_printf ("{\"resourceType\":\"Observation\",\"status\":"
                                                 "\"final\",\"code\":{\"coding\":[%s]},"
                                                 "\"valueQuantity\":{\"value\":%.1f,\"code\":"
                                                 "\"mmol/L\"}}", fasting, glucose[i].value);
        g_autoptr(GArray) readings = evaluate (dm, text);

        g_assert_cmpuint (readings->len, ==, 1);
        g_assert_cmpint (flag_of (readings, "fasting_glucose"), ==, glucose[i].flag);
      }
  }
  {
    /* LOINC 14743-9 alone could be fasting or post-meal: not judged against either. */
    g_autoptr(GArray) loinc_only = evaluate (dm, GLUCOSE ("{\"system\":\"http://loinc.org\","
                                                          "\"code\":\"14743-9\"}", 9.5));
    g_autoptr(GArray) post_meal = evaluate (dm, GLUCOSE ("{\"system\":\"" WZ_FOLLOWUP_MEASUREMENT_SYSTEM
                                                         "\",\"code\":\"postprandial_glucose\"}", 9.5));
    /* A value in another unit is not compared. */
    g_autoptr(GArray) kpa = evaluate (bp, "{\"resourceType\":\"Observation\",\"status\":\"final\","
                                          "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\","
                                          "\"code\":\"8480-6\"}]},\"valueQuantity\":{\"value\":20,"
                                          "\"code\":\"kPa\"}}");
    g_autoptr(GArray) withdrawn = evaluate (bp, "{\"resourceType\":\"Observation\",\"status\":"
                                                "\"entered-in-error\",\"code\":{\"coding\":[{"
                                                "\"system\":\"http://loinc.org\",\"code\":"
                                                "\"8480-6\"}]},\"valueQuantity\":{\"value\":200,"
                                                "\"code\":\"mm[Hg]\"}}");

    g_assert_cmpuint (loinc_only->len, ==, 0);
    g_assert_cmpuint (post_meal->len, ==, 1);
    g_assert_cmpint (flag_of (post_meal, "postprandial_glucose"), ==, WZ_FOLLOWUP_FLAG_NONE);
    g_assert_cmpuint (kpa->len, ==, 0);
    g_assert_cmpuint (withdrawn->len, ==, 0);
  }
  {
    /* Yes to a wound question is flagged; fewer fetal movements is urgent. */
    g_autoptr(GArray) wound = evaluate (op, "{\"resourceType\":\"Observation\",\"status\":\"final\","
      "\"code\":{\"coding\":[{\"system\":\"" WZ_FOLLOWUP_MEASUREMENT_SYSTEM "\",\"code\":\"wound\"}]},"
      "\"component\":[{\"code\":{\"coding\":[{\"system\":\"" WZ_FOLLOWUP_MEASUREMENT_SYSTEM "\","
      "\"code\":\"wound.redness\"}]},\"valueBoolean\":false},{\"code\":{\"coding\":[{\"system\":\""
      WZ_FOLLOWUP_MEASUREMENT_SYSTEM "\",\"code\":\"wound.discharge\"}]},\"valueBoolean\":true}]}");
    g_autoptr(GArray) movements = evaluate (ob, "{\"resourceType\":\"Observation\",\"status\":"
      "\"final\",\"code\":{\"coding\":[{\"system\":\"" WZ_FOLLOWUP_MEASUREMENT_SYSTEM "\",\"code\":"
      "\"fetal_movements.fewer_movements\"}]},\"valueBoolean\":true}");

    g_assert_cmpuint (wound->len, ==, 2);
    g_assert_cmpint (g_array_index (wound, WzCareplanReading, 0).flag, ==, WZ_FOLLOWUP_FLAG_NONE);
    g_assert_cmpint (g_array_index (wound, WzCareplanReading, 1).flag, ==,
                     WZ_FOLLOWUP_FLAG_ABNORMAL);
    g_assert_cmpstr (g_array_index (wound, WzCareplanReading, 1).question, ==, "discharge");
    g_assert_cmpuint (movements->len, ==, 1);
    g_assert_cmpint (g_array_index (movements, WzCareplanReading, 0).flag, ==,
                     WZ_FOLLOWUP_FLAG_URGENT);
  }
}

static void
test_request_checks (void)
{
  WzCareplanTemplate *template = wz_careplan_template_find (templates, "custom");
  WzCareplanRequest request = {
    "Patient/p1", "Practitioner/d1", NULL, day ("2024-05-01"), day ("2024-05-01"), WZ_DAY_NONE,
    NULL, -1, FALSE, NULL, "zh",
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(WzCareplanInstance) instance = NULL;

  /* Without an identifier a retried request would make a second plan. */
  instance = wz_careplan_template_instantiate (template, &request, &error);
  g_assert_null (instance);
  g_assert_error (error, WZ_ERROR, WZ_ERROR_INVALID);
  g_clear_error (&error);

  request.identifier = "urn:uuid:1";
  request.patient_ref = "Practitioner/x";
  instance = wz_careplan_template_instantiate (template, &request, &error);
  g_assert_null (instance);
  g_assert_error (error, WZ_ERROR, WZ_ERROR_INVALID);
  g_clear_error (&error);

  request.patient_ref = "Patient/p1";
  request.end = day ("2024-04-01");
  instance = wz_careplan_template_instantiate (template, &request, &error);
  g_assert_null (instance);
  g_assert_error (error, WZ_ERROR, WZ_ERROR_INVALID);
  g_clear_error (&error);

  /* The custom plan: monthly revisits in Chinese first. */
  request.end = day ("2024-08-01");
  instance = wz_careplan_template_instantiate (template, &request, &error);
  g_assert_no_error (error);
  {
    g_autoptr(GPtrArray) revisits = tasks_of (instance, "revisit");

    g_assert_cmpuint (revisits->len, ==, 3);
    g_assert_nonnull (strstr (json_object_get_string_member (
                                json_object_get_object_member (g_ptr_array_index (revisits, 0),
                                                               "code"), "text"), "随访"));
  }
}

static void
test_timing (void)
{
  WzDay due = day ("2024-05-10"), end = day ("2024-05-17");

  g_assert_cmpint (wz_followup_timing (due, end, day ("2024-05-09")), ==, WZ_FOLLOWUP_UPCOMING);
  g_assert_cmpint (wz_followup_timing (due, end, day ("2024-05-10")), ==, WZ_FOLLOWUP_DUE);
  g_assert_cmpint (wz_followup_timing (due, end, day ("2024-05-17")), ==, WZ_FOLLOWUP_DUE);
  g_assert_cmpint (wz_followup_timing (due, end, day ("2024-05-18")), ==, WZ_FOLLOWUP_OVERDUE);
  g_assert_cmpint (wz_followup_timing (due, WZ_DAY_NONE, day ("2024-05-11")), ==,
                   WZ_FOLLOWUP_OVERDUE);
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

  path = g_build_filename (data_dir ? data_dir : SOURCE_DATADIR, "clinical",
                           "followup-templates.json", NULL);
  if (!g_file_get_contents (path, &templates_text, NULL, &error))
    g_error ("%s", error->message);
  templates = wz_careplan_template_load_data (templates_text, -1, &error);
  g_assert_no_error (error);

  g_test_add_func ("/careplan/load", test_load);
  g_test_add_func ("/careplan/load-validation", test_load_validation);
  g_test_add_func ("/careplan/hypertension", test_hypertension_plan);
  g_test_add_func ("/careplan/target-variants", test_target_variants);
  g_test_add_func ("/careplan/post-operative", test_post_operative_plan);
  g_test_add_func ("/careplan/child-skips-the-past", test_child_plan_skips_the_past);
  g_test_add_func ("/careplan/pregnancy", test_pregnancy_plan);
  g_test_add_func ("/careplan/observation-flags", test_observation_flags);
  g_test_add_func ("/careplan/request-checks", test_request_checks);
  g_test_add_func ("/careplan/timing", test_timing);

  status = g_test_run ();
  g_ptr_array_unref (templates);
  g_free (templates_text);
  return status;
}
