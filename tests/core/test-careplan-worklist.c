/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "wz-careplan-template.h"
#include "wz-followup.h"
#include "wz-nip-schedule.h"

/* WzFollowup, the worklist view, fed with a real plan's resources: what is due or overdue for
 * which doctor on which day, reported values against targets, updates and time zones. */

static GPtrArray *templates;
static WzNipSchedule *schedule;

static WzDay
day (const char *text)
{
  WzDay result = WZ_DAY_NONE;

  g_assert_true (wz_day_parse (text, &result));
  return result;
}

static void
feed (WzFollowup *followup,
      const char *type,
      const char *id,
      gint64      version,
      JsonNode   *node)
{
  g_autofree char *text = json_to_string (node, FALSE);

  wz_followup_ingest (followup, type, id, version, NULL, text, strlen (text));
}

static void
feed_text (WzFollowup *followup,
           const char *type,
           const char *id,
           gint64      version,
           const char *text)
{
  wz_followup_ingest (followup, type, id, version, NULL, text, strlen (text));
}

/* A hypertension plan for PATIENT by DOCTOR from START, Tasks fed as PREFIX-0, PREFIX-1… */
static WzCareplanInstance *
add_plan (WzFollowup *followup,
          const char *patient,
          const char *doctor,
          const char *plan_id,
          const char *identifier,
          const char *start)
{
  WzCareplanTemplate *template = wz_careplan_template_find (templates, "hypertension");
  WzCareplanRequest request = {
    patient, doctor, identifier, day (start), day (start), WZ_DAY_NONE, NULL, 60,
    FALSE, "2024-05-01T09:00:00+08:00", "zh",
  };
  g_autofree char *plan_ref = g_strconcat ("CarePlan/", plan_id, NULL);
  WzCareplanInstance *plan = wz_careplan_template_instantiate (template, &request, NULL);

  g_assert_nonnull (plan);
  wz_careplan_instance_set_plan (plan, plan_ref);
  feed (followup, "CarePlan", plan_id, 1, plan->careplan);
  for (guint i = 0; i < plan->tasks->len; i++)
    {
      g_autofree char *id = g_strdup_printf ("%s-t%u", plan_id, i);

      feed (followup, "Task", id, 1, g_ptr_array_index (plan->tasks, i));
    }
  return plan;
}

static JsonObject *
worklist (WzFollowup *followup,
          const char *doctor,
          const char *date,
          JsonNode  **out_root)
{
  g_autoptr(GBytes) bytes = wz_followup_worklist (followup, doctor, day (date), "Asia/Shanghai",
                                                  "zh");
  gsize length;
  const char *data = g_bytes_get_data (bytes, &length);

  *out_root = json_from_string (data, NULL);
  g_assert_nonnull (*out_root);
  return json_node_get_object (*out_root);
}

static JsonObject *
patient_row (JsonObject *list,
             const char *patient)
{
  JsonArray *rows = json_object_get_array_member (list, "patients");

  for (guint i = 0; i < json_array_get_length (rows); i++)
    {
      JsonObject *row = json_array_get_object_element (rows, i);

      if (strcmp (json_object_get_string_member (row, "patient"), patient) == 0)
        return row;
    }
  return NULL;
}

static JsonObject *
measurement (JsonObject *row,
             const char *id)
{
  JsonArray *values = json_object_get_array_member (row, "measurements");

  for (guint i = 0; i < json_array_get_length (values); i++)
    if (strcmp (json_object_get_string_member (json_array_get_object_element (values, i), "id"),
                id) == 0)
      return json_array_get_object_element (values, i);
  g_error ("no measurement %s", id);
  return NULL;
}

#define BP_OBSERVATION(patient, when, sys, dia) \
  "{\"resourceType\":\"Observation\",\"status\":\"final\",\"subject\":{\"reference\":\"" patient \
  "\"},\"effectiveDateTime\":\"" when "\",\"code\":{\"coding\":[{\"system\":\"http://loinc.org\"," \
  "\"code\":\"85354-9\"}]},\"component\":[{\"code\":{\"coding\":[{\"system\":\"http://loinc.org\"," \
  "\"code\":\"8480-6\"}]},\"valueQuantity\":{\"value\":" #sys ",\"code\":\"mm[Hg]\"}},{\"code\":" \
  "{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"8462-4\"}]},\"valueQuantity\":" \
  "{\"value\":" #dia ",\"code\":\"mm[Hg]\"}}]}"

static void
test_due_overdue_and_flags (void)
{
  g_autoptr(WzFollowup) followup = wz_followup_new ();
  g_autoptr(WzCareplanInstance) plan = add_plan (followup, "Patient/p1", "Practitioner/d1", "cp1",
                                                 "urn:uuid:plan-1", "2024-05-01");
  g_autoptr(WzCareplanInstance) quiet = add_plan (followup, "Patient/p2", "Practitioner/d1", "cp2",
                                                  "urn:uuid:plan-2", "2024-05-20");
  g_autoptr(GPtrArray) missing = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonObject *list, *row, *systolic;
  JsonArray *tasks;

  /* The view asks for the names it lacks. */
  missing = wz_followup_missing_patients (followup, "Practitioner/d1");
  g_assert_cmpuint (missing->len, ==, 2);
  feed_text (followup, "Patient", "p1", 1, "{\"resourceType\":\"Patient\",\"id\":\"p1\","
             "\"name\":[{\"family\":\"张\",\"given\":[\"秀英\"]}]}");
  g_assert_true (wz_followup_has_patient (followup, "Patient/p1"));
  g_assert_false (wz_followup_has_patient (followup, "Patient/p2"));

  feed_text (followup, "Observation", "o1", 1,
             BP_OBSERVATION ("Patient/p1", "2024-05-20T08:00:00+08:00", 182, 95));
  feed_text (followup, "Observation", "o2", 1,
             BP_OBSERVATION ("Patient/p2", "2024-05-20T08:00:00+08:00", 126, 78));

  /* 29 May: the 4-week revisit is due, the 15 May check-in (window to 18 May) was missed;
   * today's check-in is the patient's to do and not yet the doctor's concern. */
  list = worklist (followup, "Practitioner/d1", "2024-05-29", &root);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (list, "counts"),
                                               "patients"), ==, 1);
  row = patient_row (list, "Patient/p1");
  g_assert_nonnull (row);
  g_assert_null (patient_row (list, "Patient/p2"));
  g_assert_cmpstr (json_object_get_string_member (row, "name"), ==, "张秀英");
  g_assert_cmpstr (json_object_get_string_member (row, "alert"), ==, "urgent");
  g_assert_cmpint (json_object_get_int_member (row, "daysOverdue"), ==, 11);
  tasks = json_object_get_array_member (row, "tasks");
  g_assert_cmpuint (json_array_get_length (tasks), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (tasks, 0), "kind"),
                   ==, "adherence-checkin");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (tasks, 0),
                                                  "timing"), ==, "overdue");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (tasks, 1), "kind"),
                   ==, "revisit");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (tasks, 1),
                                                  "timing"), ==, "due");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (tasks, 1),
                                                  "carePlan"), ==, "CarePlan/cp1");
  systolic = measurement (row, "home_bp_systolic");
  g_assert_cmpstr (json_object_get_string_member (systolic, "flag"), ==, "urgent-high");
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (systolic, "latest"),
                                               "value"), ==, 182);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (systolic, "target"),
                                               "high"), ==, 135);
  g_assert_nonnull (strstr (json_object_get_string_member (systolic, "message"), "120"));
  g_assert_cmpstr (json_object_get_string_member (measurement (row, "home_bp_diastolic"), "flag"),
                   ==, "high");
  /* Weight weekly, nothing reported since the start on 1 May. */
  g_assert_true (json_object_get_boolean_member (measurement (row, "weight"), "stale"));
  g_clear_pointer (&root, json_node_unref);

  /* Another doctor sees none of it. */
  list = worklist (followup, "Practitioner/d2", "2024-05-29", &root);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (list, "patients")), ==, 0);
  g_clear_pointer (&root, json_node_unref);

  /* A calm reading and the visit done: p1 leaves the list except for the missed check-in. */
  feed_text (followup, "Observation", "o3", 1,
             BP_OBSERVATION ("Patient/p1", "2024-05-28T08:00:00+08:00", 128, 80));
  {
    guint index = 0;
    JsonObject *revisit = NULL;
    g_autofree char *text = NULL;
    g_autofree char *id = NULL;

    for (guint i = 0; i < plan->tasks->len && revisit == NULL; i++)
      {
        g_autofree char *task = json_to_string (g_ptr_array_index (plan->tasks, i), FALSE);

        if (strstr (task, "/revisit-1\"") != NULL)
          revisit = json_node_get_object (g_ptr_array_index (plan->tasks, index = i));
      }
    g_assert_nonnull (revisit);
    id = g_strdup_printf ("cp1-t%u", index);

    g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (revisit, "owner"),
                                                    "reference"), ==, "Practitioner/d1");
    json_object_set_string_member (revisit, "status", "completed");
    text = json_to_string (g_ptr_array_index (plan->tasks, index), FALSE);
    wz_followup_ingest (followup, "Task", id, 2, NULL, text, strlen (text));
    /* A stale copy of the old version changes nothing. */
    json_object_set_string_member (revisit, "status", "requested");
    g_free (text);
    text = json_to_string (g_ptr_array_index (plan->tasks, index), FALSE);
    wz_followup_ingest (followup, "Task", id, 1, NULL, text, strlen (text));
  }
  list = worklist (followup, "Practitioner/d1", "2024-05-29", &root);
  row = patient_row (list, "Patient/p1");
  g_assert_nonnull (row);
  g_assert_cmpstr (json_object_get_string_member (row, "alert"), ==, "none");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (row, "tasks")), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (measurement (row, "home_bp_systolic"), "flag"),
                   ==, "none");
}

/* The same instant is 29 May in Beijing and still 28 May in UTC: the revisit due on 29 May is
 * on the Beijing list and not yet on the UTC one. */
static void
test_overdue_across_time_zones (void)
{
  g_autoptr(WzFollowup) followup = wz_followup_new ();
  g_autoptr(WzCareplanInstance) plan = add_plan (followup, "Patient/p1", "Practitioner/d1", "cp1",
                                                 "urn:uuid:plan-1", "2024-05-01");
  g_autoptr(GTimeZone) shanghai = wz_followup_time_zone ("Asia/Shanghai");
  g_autoptr(GTimeZone) utc = wz_followup_time_zone ("UTC");
  g_autoptr(GDateTime) instant = g_date_time_new_from_iso8601 ("2024-06-05T17:00:00Z", NULL);
  gint64 now = g_date_time_to_unix (instant) * G_USEC_PER_SEC;
  WzDay beijing = wz_day_today (shanghai, now), london = wz_day_today (utc, now);
  g_autoptr(GBytes) in_beijing = NULL;
  g_autoptr(GBytes) in_utc = NULL;

  /* The revisit's window ends on 5 June: overdue from 6 June. */
  in_beijing = wz_followup_worklist (followup, "Practitioner/d1", beijing, "Asia/Shanghai", "en");
  in_utc = wz_followup_worklist (followup, "Practitioner/d1", london, "UTC", "en");
  g_assert_nonnull (strstr (g_bytes_get_data (in_beijing, NULL), "\"date\":\"2024-06-06\""));
  g_assert_nonnull (strstr (g_bytes_get_data (in_beijing, NULL),
                            "\"kind\":\"revisit\",\"status\":\"requested\","));
  g_assert_nonnull (strstr (g_bytes_get_data (in_beijing, NULL), "\"timing\":\"overdue\""));
  g_assert_nonnull (strstr (g_bytes_get_data (in_utc, NULL), "\"date\":\"2024-06-05\""));
  {
    g_autoptr(JsonNode) root = json_from_string (g_bytes_get_data (in_utc, NULL), NULL);
    JsonObject *row = patient_row (json_node_get_object (root), "Patient/p1");
    JsonArray *tasks = json_object_get_array_member (row, "tasks");

    for (guint i = 0; i < json_array_get_length (tasks); i++)
      if (strcmp (json_object_get_string_member (json_array_get_object_element (tasks, i), "kind"),
                  "revisit") == 0)
        g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (tasks, i),
                                                        "timing"), ==, "due");
  }
}

static void
test_vaccine_reaction_tasks (void)
{
  g_autoptr(WzFollowup) followup = wz_followup_new ();
  g_autoptr(GPtrArray) tasks = wz_nip_reaction_tasks (schedule, "MMR", day ("2024-05-01"),
                                                      "Immunization/im1", "Patient/c1",
                                                      "Practitioner/d1", NULL, "en");
  g_autoptr(JsonNode) root = NULL;
  JsonObject *list, *row;

  for (guint i = 0; i < tasks->len; i++)
    {
      g_autofree char *id = g_strdup_printf ("r%u", i);

      feed (followup, "Task", id, 1, g_ptr_array_index (tasks, i));
    }
  g_assert_cmpuint (wz_followup_n_open_tasks (followup), ==, 3);

  /* Day 8: the day-1 check is overdue, the day-7 fever and rash check is due. */
  list = worklist (followup, "Practitioner/d1", "2024-05-09", &root);
  row = patient_row (list, "Patient/c1");
  g_assert_nonnull (row);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (row, "tasks")), ==, 2);
  g_assert_nonnull (strstr (json_object_get_string_member (
                              json_array_get_object_element (json_object_get_array_member (row, "tasks"), 1),
                              "description"), "皮疹"));
}

/* The store gives each resource's indexed status: a closed Task leaves the view without its text
 * being read, and an older copy never brings it back. */
static void
test_closed_by_status (void)
{
  g_autoptr(WzFollowup) followup = wz_followup_new ();
  g_autoptr(GPtrArray) tasks = wz_nip_reaction_tasks (schedule, "MMR", day ("2024-05-01"),
                                                      "Immunization/im1", "Patient/c1",
                                                      "Practitioner/d1", NULL, "en");
  g_autofree char *text = json_to_string (g_ptr_array_index (tasks, 0), FALSE);
  const char *not_json = "{\"system\":\"" WZ_FOLLOWUP_TASK_SYSTEM "\", truncated";

  wz_followup_ingest (followup, "Task", "r0", 1, "requested", text, strlen (text));
  g_assert_cmpuint (wz_followup_n_open_tasks (followup), ==, 1);
  wz_followup_ingest (followup, "Task", "r0", 2, "completed", not_json, strlen (not_json));
  g_assert_cmpuint (wz_followup_n_open_tasks (followup), ==, 0);
  wz_followup_ingest (followup, "Task", "r0", 1, "requested", text, strlen (text));
  g_assert_cmpuint (wz_followup_n_open_tasks (followup), ==, 0);
  wz_followup_ingest (followup, "Task", "r0", 3, "in-progress", text, strlen (text));
  g_assert_cmpuint (wz_followup_n_open_tasks (followup), ==, 1);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *nip = NULL;
  const char *data_dir = g_getenv ("WZ_DATA_DIR");
  int status;

  g_test_init (&argc, &argv, NULL);

  path = g_build_filename (data_dir ? data_dir : SOURCE_DATADIR, "clinical",
                           "followup-templates.json", NULL);
  nip = g_build_filename (data_dir ? data_dir : SOURCE_DATADIR, "clinical", "nip-schedule.json",
                          NULL);
  templates = wz_careplan_template_load_file (path, &error);
  g_assert_no_error (error);
  schedule = wz_nip_schedule_new_from_file (nip, &error);
  g_assert_no_error (error);

  g_test_add_func ("/worklist/due-overdue-and-flags", test_due_overdue_and_flags);
  g_test_add_func ("/worklist/overdue-across-time-zones", test_overdue_across_time_zones);
  g_test_add_func ("/worklist/vaccine-reaction-tasks", test_vaccine_reaction_tasks);
  g_test_add_func ("/worklist/closed-by-status", test_closed_by_status);

  status = g_test_run ();
  g_ptr_array_unref (templates);
  g_clear_object (&schedule);
  return status;
}
