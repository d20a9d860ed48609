/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <sqlite3.h>
#include <string.h>

#include "wz-followup.h"
#include "wz-test-util.h"

/* Follow-up and vaccination over real HTTP against a wenzhen-server process: care plans from
 * templates (idempotent), the doctor's worklist with reported values, the vaccination schedule,
 * reaction follow-up Tasks, pre-vaccination screening, and who may do what. */

#define PASSWORD "correct horse battery"

static WzTestServer *server;
static char *doctor;
static char *doctor_ref;
static char *other_doctor;
static char *pharmacist;

static GBytes *
json_bytes (const char *format,
            ...) G_GNUC_PRINTF (1, 2);

static GBytes *
json_bytes (const char *format,
            ...)
{
  va_list args;
  char *text;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  return g_bytes_new_take (text, strlen (text));
}

static JsonObject *
object (WzTestResponse *response)
{
  g_assert_nonnull (response->json);
  return json_node_get_object (response->json);
}

/* Today in Beijing, as the server computes it, plus DAYS. */
static char *
beijing_day (gint days)
{
  g_autoptr(GTimeZone) tz = wz_followup_time_zone ("Asia/Shanghai");

  return wz_day_format (wz_day_add_days (wz_day_today (tz, g_get_real_time ()), days));
}

/* A Patient on DOCTOR's care team (generalPractitioner). */
static char *
create_patient (const char *family,
                const char *given,
                const char *birth_date,
                const char *gender)
{
  g_autoptr(GBytes) body = json_bytes ("{\"resourceType\":\"Patient\",\"active\":true,"
                                       "\"name\":[{\"family\":\"%s\",\"given\":[\"%s\"]}],"
                                       "\"gender\":\"%s\"%s%s%s,"
                                       "\"generalPractitioner\":[{\"reference\":\"%s\"}]}",
                                       family, given, gender,
                                       birth_date ? ",\"birthDate\":\"" : "",
                                       birth_date ? birth_date : "", birth_date ? "\"" : "",
                                       doctor_ref);
  g_autoptr(WzTestResponse) response = wz_test_request (server, "POST", "/fhir/Patient", doctor,
                                                        body, NULL);

  g_assert_cmpuint (response->status, ==, 201);
  return g_strdup (wz_test_member (response, "id"));
}

static WzTestResponse *
apply_template (const char *token,
                const char *template_id,
                const char *patient,
                const char *identifier)
{
  g_autoptr(GBytes) body = json_bytes ("{\"resourceType\":\"Parameters\",\"parameter\":["
                                       "{\"name\":\"template\",\"valueString\":\"%s\"},"
                                       "{\"name\":\"patient\",\"valueReference\":{\"reference\":"
                                       "\"Patient/%s\"}},"
                                       "{\"name\":\"identifier\",\"valueIdentifier\":{\"system\":"
                                       "\"urn:ietf:rfc:3986\",\"value\":\"%s\"}}]}",
                                       template_id, patient, identifier);

  return wz_test_request (server, "POST", "/fhir/CarePlan/$apply-template", token, body, NULL);
}

static JsonArray *
entries (WzTestResponse *response)
{
  return json_object_get_array_member (object (response), "entry");
}

static JsonObject *
entry_resource (WzTestResponse *response,
                guint           i)
{
  return json_object_get_object_member (json_array_get_object_element (entries (response), i),
                                        "resource");
}

static gint64
search_total (const char *path)
{
  g_autoptr(WzTestResponse) response = wz_test_request (server, "GET", path, doctor, NULL, NULL);

  g_assert_cmpuint (response->status, ==, 200);
  return json_object_get_int_member (object (response), "total");
}

static void
test_apply_template_idempotent (void)
{
  g_autofree char *patient = create_patient ("李", "建国", "1960-04-02", "male");
  g_autofree char *identifier = g_strdup ("urn:uuid:3f0f2a3e-8e1b-4f55-9d7e-0b1a2c3d4e5f");
  g_autoptr(WzTestResponse) first = apply_template (doctor, "hypertension", patient, identifier);
  g_autoptr(WzTestResponse) again = NULL;
  g_autofree char *tasks_query = NULL;
  g_autofree char *plan_id = NULL;
  JsonObject *plan;
  guint n;

  g_assert_cmpuint (first->status, ==, 201);
  g_assert_nonnull (soup_message_headers_get_one (first->headers, "Location"));
  n = json_array_get_length (entries (first));
  /* The plan and its Tasks: 4 revisits, an annual review, 26 check-ins, 4 measurements and
   * 6 education items. */
  g_assert_cmpuint (n, ==, 1 + 41);
  plan = entry_resource (first, 0);
  g_assert_cmpstr (json_object_get_string_member (plan, "resourceType"), ==, "CarePlan");
  g_assert_cmpstr (json_object_get_string_member (plan, "status"), ==, "active");
  plan_id = g_strdup (json_object_get_string_member (plan, "id"));
  {
    JsonObject *task = entry_resource (first, 1);
    JsonObject *based_on = json_array_get_object_element (json_object_get_array_member (task,
                                                                                        "basedOn"), 0);
    g_autofree char *expected = g_strconcat ("CarePlan/", plan_id, NULL);

    g_assert_cmpstr (json_object_get_string_member (task, "resourceType"), ==, "Task");
    g_assert_cmpstr (json_object_get_string_member (based_on, "reference"), ==, expected);
  }

  /* The same request again makes nothing new: 200 with the same plan. */
  again = apply_template (doctor, "hypertension", patient, identifier);
  g_assert_cmpuint (again->status, ==, 200);
  g_assert_cmpuint (json_array_get_length (entries (again)), ==, n);
  g_assert_cmpstr (json_object_get_string_member (entry_resource (again, 0), "id"), ==, plan_id);
  g_assert_cmpstr (json_object_get_string_member (entry_resource (again, 5), "id"), ==,
                   json_object_get_string_member (entry_resource (first, 5), "id"));

  tasks_query = g_strdup_printf ("/fhir/Task?patient=Patient/%s&_count=1", patient);
  g_assert_cmpint (search_total (tasks_query), ==, 41);
  {
    g_autofree char *plans_query = g_strdup_printf ("/fhir/CarePlan?patient=Patient/%s", patient);

    g_assert_cmpint (search_total (plans_query), ==, 1);
  }

  /* The identifier belongs to that plan: using it for another template is a conflict. */
  {
    g_autoptr(WzTestResponse) clash = apply_template (doctor, "type2_diabetes", patient,
                                                      identifier);

    wz_test_assert_outcome (clash, 409);
  }
}

static void
test_apply_template_refused (void)
{
  g_autofree char *patient = create_patient ("孙", "丽", "1970-01-01", "female");
  g_autoptr(WzTestResponse) unknown = apply_template (doctor, "gout", patient, "urn:uuid:a");
  g_autoptr(WzTestResponse) by_pharmacist = apply_template (pharmacist, "hypertension", patient,
                                                            "urn:uuid:b");
  g_autoptr(WzTestResponse) not_mine = apply_template (other_doctor, "hypertension", patient,
                                                       "urn:uuid:c");
  g_autoptr(WzTestResponse) anonymous = apply_template (NULL, "hypertension", patient,
                                                        "urn:uuid:d");
  g_autoptr(WzTestResponse) malformed = wz_test_request_text (server, "POST",
                                                              "/fhir/CarePlan/$apply-template",
                                                              doctor, "{\"resourceType\":");
  g_autoptr(WzTestResponse) wrong_method = wz_test_request (server, "GET",
                                                            "/fhir/CarePlan/$apply-template",
                                                            doctor, NULL, NULL);
  g_autoptr(WzTestResponse) unknown_parameter = NULL;
  g_autoptr(GBytes) body = json_bytes ("{\"resourceType\":\"Parameters\",\"parameter\":["
                                       "{\"name\":\"template\",\"valueString\":\"custom\"},"
                                       "{\"name\":\"patinet\",\"valueString\":\"%s\"}]}", patient);
  g_autofree char *query = g_strdup_printf ("/fhir/CarePlan?patient=Patient/%s", patient);

  g_assert_nonnull (strstr (wz_test_assert_outcome (unknown, 400), "gout"));
  wz_test_assert_outcome (by_pharmacist, 403);
  /* Another doctor's patient answers as if it did not exist. */
  wz_test_assert_outcome (not_mine, 404);
  wz_test_assert_outcome (anonymous, 401);
  wz_test_assert_outcome (malformed, 400);
  wz_test_assert_outcome (wrong_method, 405);
  unknown_parameter = wz_test_request (server, "POST", "/fhir/CarePlan/$apply-template", doctor,
                                       body, NULL);
  g_assert_nonnull (strstr (wz_test_assert_outcome (unknown_parameter, 400), "patinet"));
  /* Nothing was made by any of them. */
  g_assert_cmpint (search_total (query), ==, 0);
}

static JsonObject *worklist_row (JsonObject *list, const char *patient);

/* $apply-template with the doctor's edits: EXTRA is more parameters (with a leading comma). */
static WzTestResponse *
apply_edited (const char *template_id,
              const char *patient,
              const char *identifier,
              const char *extra)
{
  g_autoptr(GBytes) body = json_bytes ("{\"resourceType\":\"Parameters\",\"parameter\":["
                                       "{\"name\":\"template\",\"valueString\":\"%s\"},"
                                       "{\"name\":\"patient\",\"valueReference\":{\"reference\":"
                                       "\"Patient/%s\"}},"
                                       "{\"name\":\"identifier\",\"valueString\":\"%s\"}%s]}",
                                       template_id, patient, identifier, extra);

  return wz_test_request (server, "POST", "/fhir/CarePlan/$apply-template", doctor, body, NULL);
}

static void
exec_on_store (const char *sql)
{
  g_autofree char *path = g_build_filename (server->data_dir, "fhir.db", NULL);
  sqlite3 *db = NULL;
  char *message = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 5000);
  if (sqlite3_exec (db, sql, NULL, NULL, &message) != SQLITE_OK)
    g_error ("%s: %s", sql, message);
  sqlite3_close (db);
}

/* The Task of a plan answer whose identifier ends with /KEY, or NULL. */
static JsonObject *
task_with_key (WzTestResponse *response,
               const char     *key)
{
  g_autofree char *suffix = g_strconcat ("/", key, NULL);

  for (guint i = 0; i < json_array_get_length (entries (response)); i++)
    {
      JsonObject *resource = entry_resource (response, i);
      JsonArray *identifiers = json_object_has_member (resource, "identifier")
                               ? json_object_get_array_member (resource, "identifier") : NULL;
      const char *value = identifiers
                          ? json_object_get_string_member (json_array_get_object_element (identifiers, 0),
                                                           "value") : NULL;

      if (strcmp (json_object_get_string_member (resource, "resourceType"), "Task") == 0 &&
          value != NULL && g_str_has_suffix (value, suffix))
        return resource;
    }
  return NULL;
}

/* The valueDecimal of part NAME of the target extension of a Task or activity detail. */
static double
target_limit (JsonObject *holder,
              const char *name)
{
  JsonArray *extensions = json_object_get_array_member (holder, "extension");

  for (guint i = 0; i < json_array_get_length (extensions); i++)
    {
      JsonObject *extension = json_array_get_object_element (extensions, i);

      if (strcmp (json_object_get_string_member (extension, "url"),
                  WZ_FOLLOWUP_BASE "StructureDefinition/followup-target") != 0)
        continue;
      for (guint p = 0; p < json_array_get_length (json_object_get_array_member (extension,
                                                                                 "extension")); p++)
        {
          JsonObject *part = json_array_get_object_element (json_object_get_array_member (extension,
                                                                                          "extension"), p);

          if (strcmp (json_object_get_string_member (part, "url"), name) == 0)
            return json_object_get_double_member (part, "valueDecimal");
        }
    }
  return -1;
}

/* The high limit of the plan's contained Goal about MEASUREMENT. */
static double
goal_high (JsonObject *plan,
           const char *measurement)
{
  JsonArray *contained = json_object_get_array_member (plan, "contained");
  g_autofree char *id = g_strconcat ("goal-", measurement, NULL);

  for (guint i = 0; i < json_array_get_length (contained); i++)
    {
      JsonObject *goal = json_array_get_object_element (contained, i);
      JsonObject *target = json_array_get_object_element (json_object_get_array_member (goal,
                                                                                        "target"), 0);

      if (strcmp (json_object_get_string_member (goal, "id"), id) == 0)
        return json_object_get_double_member (json_object_get_object_member (
          json_object_get_object_member (target, "detailRange"), "high"), "value");
    }
  return -1;
}

static const char *
task_due (JsonObject *task)
{
  JsonArray *extensions = json_object_get_array_member (task, "extension");

  for (guint i = 0; i < json_array_get_length (extensions); i++)
    {
      JsonObject *extension = json_array_get_object_element (extensions, i);

      if (json_object_has_member (extension, "valueDate"))
        return json_object_get_string_member (extension, "valueDate");
    }
  return NULL;
}

/* Home blood pressure SYSTOLIC/DIASTOLIC reported today by PATIENT. */
static void
report_pressure (const char *patient,
                 gint        systolic,
                 gint        diastolic,
                 const char *time)
{
  g_autofree char *today = beijing_day (0);
  g_autoptr(GBytes) body = json_bytes (
    "{\"resourceType\":\"Observation\",\"status\":\"final\",\"subject\":{\"reference\":"
    "\"Patient/%s\"},\"effectiveDateTime\":\"%sT%s:00+08:00\",\"code\":{\"coding\":[{"
    "\"system\":\"http://loinc.org\",\"code\":\"85354-9\"}]},\"component\":[{\"code\":{"
    "\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"8480-6\"}]},\"valueQuantity\":{"
    "\"value\":%d,\"unit\":\"mmHg\",\"system\":\"http://unitsofmeasure.org\",\"code\":"
    "\"mm[Hg]\"}},{\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"8462-4\"}]},"
    "\"valueQuantity\":{\"value\":%d,\"unit\":\"mmHg\",\"system\":\"http://unitsofmeasure.org\","
    "\"code\":\"mm[Hg]\"}}]}", patient, today, time, systolic, diastolic);
  g_autoptr(WzTestResponse) reading = wz_test_request (server, "POST", "/fhir/Observation",
                                                       doctor, body, NULL);

  g_assert_cmpuint (reading->status, ==, 201);
}

/* The worklist's alert and home systolic flag for PATIENT four weeks from now (when the first
 * revisit is due, so both patients have a row). */
static void
worklist_pressure (const char  *patient,
                   char       **out_alert,
                   char       **out_flag)
{
  g_autofree char *day = beijing_day (28);
  g_autofree char *path = g_strdup_printf ("/followup/worklist?date=%s&_count=500", day);
  g_autoptr(WzTestResponse) list = wz_test_request (server, "GET", path, doctor, NULL, NULL);
  JsonObject *row;
  JsonArray *values;

  g_assert_cmpuint (list->status, ==, 200);
  row = worklist_row (object (list), patient);
  g_assert_nonnull (row);
  *out_alert = g_strdup (json_object_get_string_member (row, "alert"));
  *out_flag = NULL;
  values = json_object_get_array_member (row, "measurements");
  for (guint i = 0; i < json_array_get_length (values); i++)
    {
      JsonObject *value = json_array_get_object_element (values, i);

      if (strcmp (json_object_get_string_member (value, "id"), "home_bp_systolic") == 0)
        *out_flag = g_strdup (json_object_get_string_member_with_default (value, "flag", "none"));
    }
  g_assert_nonnull (*out_flag);
}

#define BP_TARGETS_130_80 \
  ",{\"name\":\"target\",\"part\":[{\"name\":\"measurement\",\"valueCode\":\"home_bp_systolic\"}," \
  "{\"name\":\"high\",\"valueDecimal\":130}]}," \
  "{\"name\":\"target\",\"part\":[{\"name\":\"measurement\",\"valueCode\":\"home_bp_diastolic\"}," \
  "{\"name\":\"high\",\"valueDecimal\":80}]}"

/* The doctor's edited plan is made in one request: a revisit moved, a check-in removed, an item
 * added and stricter blood-pressure targets (the CarePlan's Goals, its activities and the
 * measurement Tasks all say 130/80); a reading of 135/85 is then out of range for that plan
 * and not for a plan with the template's targets (150/90 at 80 and over). */
static void
test_apply_template_edited (void)
{
  g_autofree char *edited = create_patient ("赵", "守仁", "1940-05-05", "male");
  g_autofree char *usual = create_patient ("钱", "守义", "1941-06-06", "male");
  g_autofree char *moved = beijing_day (20);
  g_autofree char *soon = beijing_day (3);
  g_autofree char *extra = g_strdup_printf (
    ",{\"name\":\"item\",\"part\":[{\"name\":\"key\",\"valueString\":\"revisit-1\"},"
    "{\"name\":\"due\",\"valueDate\":\"%s\"}]},"
    "{\"name\":\"item\",\"part\":[{\"name\":\"key\",\"valueString\":\"checkin-1\"},"
    "{\"name\":\"remove\",\"valueBoolean\":true}]},"
    "{\"name\":\"add\",\"part\":[{\"name\":\"key\",\"valueString\":\"added-1\"},"
    "{\"name\":\"kind\",\"valueCode\":\"education\"},{\"name\":\"due\",\"valueDate\":\"%s\"},"
    "{\"name\":\"text\",\"valueString\":\"参加社区高血压讲座\"}]}" BP_TARGETS_130_80,
    moved, soon);
  g_autoptr(WzTestResponse) plan = apply_edited ("hypertension", edited, "urn:uuid:edited-1",
                                                 extra);
  g_autoptr(WzTestResponse) again = apply_edited ("hypertension", edited, "urn:uuid:edited-1",
                                                  extra);
  g_autoptr(WzTestResponse) default_plan = apply_edited ("hypertension", usual,
                                                         "urn:uuid:edited-2", "");
  g_autofree char *alert = NULL;
  g_autofree char *flag = NULL;
  JsonObject *careplan, *added, *systolic;

  g_assert_cmpuint (plan->status, ==, 201);
  g_assert_cmpuint (default_plan->status, ==, 201);
  /* One check-in fewer, one item more. */
  g_assert_cmpuint (json_array_get_length (entries (plan)), ==,
                    json_array_get_length (entries (default_plan)));
  careplan = entry_resource (plan, 0);
  g_assert_cmpstr (json_object_get_string_member (careplan, "resourceType"), ==, "CarePlan");
  g_assert_cmpfloat (goal_high (careplan, "home_bp_systolic"), ==, 130);
  g_assert_cmpfloat (goal_high (careplan, "home_bp_diastolic"), ==, 80);
  g_assert_cmpfloat (goal_high (entry_resource (default_plan, 0), "home_bp_systolic"), ==, 150);
  g_assert_cmpstr (task_due (task_with_key (plan, "revisit-1")), ==, moved);
  g_assert_null (task_with_key (plan, "checkin-1"));
  g_assert_nonnull (task_with_key (plan, "checkin-2"));
  added = task_with_key (plan, "added-1");
  g_assert_nonnull (added);
  g_assert_cmpstr (task_due (added), ==, soon);
  g_assert_cmpstr (json_object_get_string_member (added, "description"), ==, "参加社区高血压讲座");
  systolic = task_with_key (plan, "measurement-home_bp_systolic");
  g_assert_cmpfloat (target_limit (systolic, "high"), ==, 130);

  /* The retry after a lost answer gets the same plan, not a second one. */
  g_assert_cmpuint (again->status, ==, 200);
  g_assert_cmpstr (json_object_get_string_member (entry_resource (again, 0), "id"), ==,
                   json_object_get_string_member (careplan, "id"));
  g_assert_cmpuint (json_array_get_length (entries (again)), ==,
                    json_array_get_length (entries (plan)));
  {
    g_autofree char *query = g_strdup_printf ("/fhir/CarePlan?patient=Patient/%s", edited);

    g_assert_cmpint (search_total (query), ==, 1);
  }

  report_pressure (edited, 135, 85, "07:30");
  report_pressure (usual, 135, 85, "07:30");
  worklist_pressure (edited, &alert, &flag);
  g_assert_cmpstr (flag, ==, "high");
  g_assert_cmpstr (alert, ==, "flagged");
  g_clear_pointer (&alert, g_free);
  g_clear_pointer (&flag, g_free);
  worklist_pressure (usual, &alert, &flag);
  g_assert_cmpstr (flag, ==, "none");
  g_assert_cmpstr (alert, ==, "none");
}

/* Bad edits answer 400 or 422 and store nothing; a store failure half way through the plan
 * (a trigger refuses one of its Tasks after the CarePlan and earlier Tasks were written)
 * leaves no CarePlan and no Task behind, and the same request then succeeds. */
static void
test_apply_template_all_or_nothing (void)
{
  g_autofree char *patient = create_patient ("孙", "志远", "1962-02-02", "male");
  g_autofree char *plans = g_strdup_printf ("/fhir/CarePlan?patient=Patient/%s", patient);
  g_autofree char *tasks = g_strdup_printf ("/fhir/Task?patient=Patient/%s&_count=1", patient);
  g_autofree char *yesterday = beijing_day (-1);
  g_autofree char *early = g_strdup_printf (
    ",{\"name\":\"item\",\"part\":[{\"name\":\"key\",\"valueString\":\"revisit-1\"},"
    "{\"name\":\"due\",\"valueDate\":\"%s\"}]}", yesterday);
  struct
  {
    const char *extra;
    guint       status;
    const char *says;
  } bad[] = {
    { ",{\"name\":\"item\",\"part\":[{\"name\":\"key\",\"valueString\":\"revisit-99\"},"
      "{\"name\":\"remove\",\"valueBoolean\":true}]}", 422, "revisit-99" },
    { ",{\"name\":\"item\",\"part\":[{\"name\":\"remove\",\"valueBoolean\":true}]}", 400, "key" },
    { ",{\"name\":\"target\",\"part\":[{\"name\":\"measurement\",\"valueCode\":"
      "\"home_bp_systolic\"},{\"name\":\"high\",\"valueString\":\"130\"}]}", 400, "valueDecimal" },
    { ",{\"name\":\"target\",\"part\":[{\"name\":\"measurement\",\"valueCode\":"
      "\"home_bp_systolic\"},{\"name\":\"low\",\"valueDecimal\":100}]}", 422, "no low limit" },
    { ",{\"name\":\"target\",\"part\":[{\"name\":\"measurement\",\"valueCode\":"
      "\"fasting_glucose\"},{\"name\":\"high\",\"valueDecimal\":7}]}", 422, "fasting_glucose" },
    { ",{\"name\":\"add\",\"part\":[{\"name\":\"key\",\"valueString\":\"added-1\"},"
      "{\"name\":\"kind\",\"valueCode\":\"surgery\"},{\"name\":\"due\",\"valueDate\":"
      "\"2099-01-01\"},{\"name\":\"text\",\"valueString\":\"x\"}]}", 422, "kind" },
    { ",{\"name\":\"add\",\"part\":[{\"name\":\"key\",\"valueString\":\"revisit-1\"},"
      "{\"name\":\"kind\",\"valueCode\":\"revisit\"},{\"name\":\"due\",\"valueDate\":"
      "\"2099-01-01\"},{\"name\":\"text\",\"valueString\":\"again\"}]}", 422, "revisit-1" },
    { early, 422, "before the plan is made" },
  };
  g_autoptr(WzTestResponse) failed = NULL;
  g_autoptr(WzTestResponse) retried = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *identifier = g_strdup_printf ("urn:uuid:bad-edit-%u", i);
      g_autoptr(WzTestResponse) response = apply_edited ("hypertension", patient, identifier,
                                                         bad[i].extra);
      const char *diagnostics = wz_test_assert_outcome (response, bad[i].status);

      if (strstr (diagnostics, bad[i].says) == NULL)
        g_error ("edit %u: “%s” does not mention “%s”", i, diagnostics, bad[i].says);
    }
  g_assert_cmpint (search_total (plans), ==, 0);
  g_assert_cmpint (search_total (tasks), ==, 0);

  exec_on_store ("CREATE TRIGGER test_refuse_checkin BEFORE INSERT ON resources"
                 " WHEN NEW.type = 'Task' AND NEW.json LIKE '%/checkin-3\"%'"
                 " BEGIN SELECT RAISE (ABORT, 'refused by the test'); END");
  failed = apply_edited ("hypertension", patient, "urn:uuid:half-way", BP_TARGETS_130_80);
  exec_on_store ("DROP TRIGGER test_refuse_checkin");
  g_assert_nonnull (strstr (wz_test_assert_outcome (failed, 503), "refused by the test"));
  g_assert_cmpint (search_total (plans), ==, 0);
  g_assert_cmpint (search_total (tasks), ==, 0);

  retried = apply_edited ("hypertension", patient, "urn:uuid:half-way", BP_TARGETS_130_80);
  g_assert_cmpuint (retried->status, ==, 201);
  g_assert_cmpint (search_total (plans), ==, 1);
  g_assert_cmpint (search_total (tasks), ==, json_array_get_length (entries (retried)) - 1);
}

static WzTestResponse *
set_targets (const char *plan_id,
             const char *if_match,
             const char *targets)
{
  g_autofree char *path = g_strdup_printf ("/fhir/CarePlan/%s/$set-targets", plan_id);
  g_autoptr(GBytes) body = json_bytes ("{\"resourceType\":\"Parameters\",\"parameter\":[%s]}",
                                       targets);

  return wz_test_request (server, "POST", path, doctor, body, if_match ? "If-Match" : NULL,
                          if_match, NULL);
}

/* A plan's targets changed later (If-Match its version): the CarePlan's Goals and its
 * measurement Tasks take the new limits together, and the worklist judges readings by them. */
static void
test_set_targets (void)
{
  g_autofree char *patient = create_patient ("李", "长青", "1939-03-03", "female");
  g_autoptr(WzTestResponse) plan = apply_edited ("hypertension", patient, "urn:uuid:targets-1", "");
  g_autoptr(WzTestResponse) no_match = NULL;
  g_autoptr(WzTestResponse) stale = NULL;
  g_autoptr(WzTestResponse) impossible = NULL;
  g_autoptr(WzTestResponse) changed = NULL;
  g_autoptr(WzTestResponse) reread = NULL;
  g_autofree char *alert = NULL;
  g_autofree char *flag = NULL;
  g_autofree char *path = NULL;
  const char *plan_id;
  JsonObject *careplan;
  guint n_measurements = 0;

  g_assert_cmpuint (plan->status, ==, 201);
  plan_id = json_object_get_string_member (entry_resource (plan, 0), "id");
  report_pressure (patient, 135, 85, "07:00");
  worklist_pressure (patient, &alert, &flag);
  g_assert_cmpstr (flag, ==, "none");
  g_clear_pointer (&alert, g_free);
  g_clear_pointer (&flag, g_free);

  no_match = set_targets (plan_id, NULL, BP_TARGETS_130_80 + 1);
  wz_test_assert_outcome (no_match, 428);
  stale = set_targets (plan_id, "W/\"7\"", BP_TARGETS_130_80 + 1);
  wz_test_assert_outcome (stale, 412);
  impossible = set_targets (plan_id, "W/\"1\"",
                            "{\"name\":\"target\",\"part\":[{\"name\":\"measurement\","
                            "\"valueCode\":\"home_bp_systolic\"},{\"name\":\"low\","
                            "\"valueDecimal\":100}]}");
  wz_test_assert_outcome (impossible, 422);

  changed = set_targets (plan_id, "W/\"1\"", BP_TARGETS_130_80 + 1);
  g_assert_cmpuint (changed->status, ==, 200);
  g_assert_cmpstr (soup_message_headers_get_one (changed->headers, "ETag"), ==, "W/\"2\"");
  careplan = entry_resource (changed, 0);
  g_assert_cmpstr (json_object_get_string_member (careplan, "id"), ==, plan_id);
  g_assert_cmpfloat (goal_high (careplan, "home_bp_systolic"), ==, 130);
  g_assert_cmpfloat (goal_high (careplan, "home_bp_diastolic"), ==, 80);
  for (guint i = 1; i < json_array_get_length (entries (changed)); i++)
    {
      JsonObject *task = entry_resource (changed, i);
      double high = target_limit (task, "high");

      g_assert_true (high == 130 || high == 80);
      n_measurements++;
    }
  g_assert_cmpuint (n_measurements, ==, 2);

  path = g_strdup_printf ("/fhir/CarePlan/%s", plan_id);
  reread = wz_test_request (server, "GET", path, doctor, NULL, NULL);
  g_assert_cmpfloat (goal_high (object (reread), "home_bp_systolic"), ==, 130);

  /* The reading already in is judged by the new target; a new one raises an alert. */
  worklist_pressure (patient, &alert, &flag);
  g_assert_cmpstr (flag, ==, "high");
  g_clear_pointer (&alert, g_free);
  g_clear_pointer (&flag, g_free);
  report_pressure (patient, 134, 84, "19:00");
  worklist_pressure (patient, &alert, &flag);
  g_assert_cmpstr (alert, ==, "flagged");

  /* The version moved on: the old tag is stale now. */
  {
    g_autoptr(WzTestResponse) again = set_targets (plan_id, "W/\"1\"", BP_TARGETS_130_80 + 1);

    wz_test_assert_outcome (again, 412);
  }
}

static JsonObject *
worklist_row (JsonObject *list,
              const char *patient)
{
  JsonArray *rows = json_object_get_array_member (list, "patients");
  g_autofree char *ref = g_strconcat ("Patient/", patient, NULL);

  for (guint i = 0; i < json_array_get_length (rows); i++)
    if (strcmp (json_object_get_string_member (json_array_get_object_element (rows, i), "patient"),
                ref) == 0)
      return json_array_get_object_element (rows, i);
  return NULL;
}

static void
test_worklist (void)
{
  g_autofree char *patient = create_patient ("周", "海", "1948-09-09", "male");
  g_autofree char *calm = create_patient ("吴", "平", "1956-03-03", "female");
  g_autofree char *in_four_weeks = beijing_day (28);
  g_autofree char *path = g_strdup_printf ("/followup/worklist?date=%s&lang=zh", in_four_weeks);
  g_autofree char *today = beijing_day (0);
  g_autoptr(WzTestResponse) plan = apply_template (doctor, "hypertension", patient,
                                                   "urn:uuid:worklist-1");
  g_autoptr(WzTestResponse) plan2 = apply_template (doctor, "hypertension", calm,
                                                    "urn:uuid:worklist-2");
  g_autoptr(WzTestResponse) reading = NULL;
  g_autoptr(WzTestResponse) list = NULL;
  g_autoptr(WzTestResponse) bad_date = NULL;
  g_autoptr(WzTestResponse) as_pharmacist = NULL;
  g_autoptr(WzTestResponse) as_other = NULL;
  g_autoptr(WzTestResponse) anonymous = NULL;
  g_autoptr(GBytes) body = json_bytes (
    "{\"resourceType\":\"Observation\",\"status\":\"final\",\"subject\":{\"reference\":"
    "\"Patient/%s\"},\"effectiveDateTime\":\"%sT07:30:00+08:00\",\"code\":{\"coding\":[{"
    "\"system\":\"http://loinc.org\",\"code\":\"85354-9\"}]},\"component\":[{\"code\":{"
    "\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"8480-6\"}]},\"valueQuantity\":{"
    "\"value\":186,\"unit\":\"mmHg\",\"system\":\"http://unitsofmeasure.org\",\"code\":"
    "\"mm[Hg]\"}},{\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"8462-4\"}]},"
    "\"valueQuantity\":{\"value\":96,\"unit\":\"mmHg\",\"system\":\"http://unitsofmeasure.org\","
    "\"code\":\"mm[Hg]\"}}]}", patient, today);
  JsonObject *row, *systolic = NULL;
  JsonArray *tasks, *values;
  gboolean revisit_due = FALSE;

  g_assert_cmpuint (plan->status, ==, 201);
  g_assert_cmpuint (plan2->status, ==, 201);

  /* Before any reading: both patients have the 4-week revisit due. */
  list = wz_test_request (server, "GET", path, doctor, NULL, NULL);
  g_assert_cmpuint (list->status, ==, 200);
  g_assert_cmpstr (soup_message_headers_get_content_type (list->headers, NULL), ==,
                   "application/json");
  g_assert_nonnull (worklist_row (object (list), patient));
  g_assert_nonnull (worklist_row (object (list), calm));
  g_clear_pointer (&list, wz_test_response_free);

  reading = wz_test_request (server, "POST", "/fhir/Observation", doctor, body, NULL);
  g_assert_cmpuint (reading->status, ==, 201);

  list = wz_test_request (server, "GET", path, doctor, NULL, NULL);
  g_assert_cmpuint (list->status, ==, 200);
  g_assert_cmpstr (json_object_get_string_member (object (list), "date"), ==, in_four_weeks);
  row = worklist_row (object (list), patient);
  g_assert_nonnull (row);
  g_assert_cmpstr (json_object_get_string_member (row, "name"), ==, "周海");
  /* The urgent patient comes first. */
  g_assert_true (json_array_get_object_element (json_object_get_array_member (object (list),
                                                                              "patients"), 0) == row);
  g_assert_cmpstr (json_object_get_string_member (row, "alert"), ==, "urgent");
  tasks = json_object_get_array_member (row, "tasks");
  for (guint i = 0; i < json_array_get_length (tasks); i++)
    {
      JsonObject *task = json_array_get_object_element (tasks, i);

      if (strcmp (json_object_get_string_member (task, "kind"), "revisit") == 0 &&
          strcmp (json_object_get_string_member (task, "timing"), "due") == 0)
        revisit_due = TRUE;
      g_assert_true (g_str_has_prefix (json_object_get_string_member (task, "task"), "Task/"));
    }
  g_assert_true (revisit_due);
  values = json_object_get_array_member (row, "measurements");
  for (guint i = 0; i < json_array_get_length (values); i++)
    if (strcmp (json_object_get_string_member (json_array_get_object_element (values, i), "id"),
                "home_bp_systolic") == 0)
      systolic = json_array_get_object_element (values, i);
  g_assert_nonnull (systolic);
  g_assert_cmpstr (json_object_get_string_member (systolic, "flag"), ==, "urgent-high");
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (systolic, "latest"),
                                               "value"), ==, 186);
  g_assert_nonnull (strstr (json_object_get_string_member (systolic, "message"), "120"));

  /* Today nothing is due yet for the calm patient, who reported nothing out of range. */
  {
    g_autofree char *today_path = g_strdup_printf ("/followup/worklist?date=%s", today);
    g_autoptr(WzTestResponse) now = wz_test_request (server, "GET", today_path, doctor, NULL, NULL);

    g_assert_cmpuint (now->status, ==, 200);
    g_assert_null (worklist_row (object (now), calm));
    g_assert_nonnull (worklist_row (object (now), patient));
  }

  bad_date = wz_test_request (server, "GET", "/followup/worklist?date=2024-02-30", doctor, NULL,
                              NULL);
  wz_test_assert_outcome (bad_date, 400);
  {
    g_autoptr(WzTestResponse) bad_zone = wz_test_request (server, "GET",
                                                          "/followup/worklist?tz=Mars/Olympus",
                                                          doctor, NULL, NULL);

    wz_test_assert_outcome (bad_zone, 400);
  }
  as_pharmacist = wz_test_request (server, "GET", path, pharmacist, NULL, NULL);
  wz_test_assert_outcome (as_pharmacist, 403);
  anonymous = wz_test_request (server, "GET", path, NULL, NULL, NULL);
  wz_test_assert_outcome (anonymous, 401);
  as_other = wz_test_request (server, "GET", path, other_doctor, NULL, NULL);
  g_assert_cmpuint (as_other->status, ==, 200);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (object (as_other),
                                                                         "patients")), ==, 0);
}

static char *
create_immunization (const char *patient,
                     const char *vaccine,
                     const char *when)
{
  g_autoptr(GBytes) body = json_bytes ("{\"resourceType\":\"Immunization\",\"status\":"
                                       "\"completed\",\"vaccineCode\":{\"coding\":[{\"system\":\""
                                       WZ_FOLLOWUP_BASE "CodeSystem/nip-vaccine\",\"code\":"
                                       "\"%s\"}]},\"patient\":{\"reference\":\"Patient/%s\"},"
                                       "\"occurrenceDateTime\":\"%s\"}", vaccine, patient, when);
  g_autoptr(WzTestResponse) response = wz_test_request (server, "POST", "/fhir/Immunization",
                                                        doctor, body, NULL);

  g_assert_cmpuint (response->status, ==, 201);
  return g_strdup (wz_test_member (response, "id"));
}

static JsonObject *
recommendation (WzTestResponse *response,
                const char     *series,
                gint64          dose)
{
  JsonArray *list = json_object_get_array_member (object (response), "recommendation");

  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *r = json_array_get_object_element (list, i);

      if (strcmp (json_object_get_string_member (r, "series"), series) == 0 &&
          json_object_get_int_member (r, "doseNumberPositiveInt") == dose)
        return r;
    }
  g_error ("no %s dose %" G_GINT64_FORMAT, series, dose);
  return NULL;
}

static const char *
status_of (JsonObject *r)
{
  return json_object_get_string_member (
    json_array_get_object_element (json_object_get_array_member (
      json_object_get_object_member (r, "forecastStatus"), "coding"), 0), "code");
}

static void
test_vaccination_schedule (void)
{
  g_autofree char *child = create_patient ("王", "小明", "2023-01-15", "male");
  g_autofree char *no_birth = create_patient ("钱", "多", NULL, "male");
  g_autofree char *hepb1 = create_immunization (child, "HepB", "2023-01-15");
  g_autofree char *hepb2 = create_immunization (child, "HepB", "2023-02-15T10:00:00+08:00");
  /* 16:30 UTC on 14 March is 00:30 on 15 March in Beijing: exactly two months of age. */
  g_autofree char *ipv = create_immunization (child, "IPV", "2023-03-14T16:30:00Z");
  g_autofree char *path = g_strdup_printf ("/fhir/Patient/%s/$vaccination-schedule?date=2023-07-20",
                                           child);
  g_autofree char *utc_path = g_strdup_printf ("/fhir/Patient/%s/$vaccination-schedule?"
                                               "date=2023-07-20&tz=UTC&lang=zh", child);
  g_autofree char *no_birth_path = g_strdup_printf ("/fhir/Patient/%s/$vaccination-schedule",
                                                    no_birth);
  g_autoptr(WzTestResponse) schedule = wz_test_request (server, "GET", path, doctor, NULL, NULL);
  g_autoptr(WzTestResponse) in_utc = wz_test_request (server, "GET", utc_path, doctor, NULL, NULL);
  g_autoptr(WzTestResponse) other = wz_test_request (server, "GET", path, other_doctor, NULL, NULL);
  g_autoptr(WzTestResponse) missing = wz_test_request (server, "GET", no_birth_path, doctor, NULL,
                                                       NULL);
  g_autoptr(WzTestResponse) unknown = wz_test_request (server, "GET",
                                                       "/fhir/Patient/nobody/$vaccination-schedule",
                                                       doctor, NULL, NULL);
  g_autoptr(WzTestResponse) post = wz_test_request_text (server, "POST", path, doctor, "{}");
  g_autofree char *patient_ref = g_strconcat ("Patient/", child, NULL);
  JsonObject *r;

  g_assert_cmpuint (schedule->status, ==, 200);
  g_assert_cmpstr (json_object_get_string_member (object (schedule), "resourceType"), ==,
                   "ImmunizationRecommendation");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (object (schedule),
                                                                                 "patient"),
                                                  "reference"), ==, patient_ref);
  g_assert_cmpstr (status_of (recommendation (schedule, "hepb", 2)), ==, "completed");
  r = recommendation (schedule, "hepb", 3);
  g_assert_cmpstr (status_of (r), ==, "due");
  g_assert_cmpstr (status_of (recommendation (schedule, "polio", 1)), ==, "completed");
  g_assert_cmpstr (status_of (recommendation (schedule, "polio", 2)), ==, "overdue");
  g_assert_cmpstr (status_of (recommendation (schedule, "bcg", 1)), ==, "overdue");
  g_assert_cmpstr (status_of (recommendation (schedule, "mmr", 1)), ==, "not_yet_due");

  /* Read in UTC the IPV dose falls a day before two months of age and does not count. */
  g_assert_cmpuint (in_utc->status, ==, 200);
  r = recommendation (in_utc, "polio", 1);
  g_assert_cmpstr (status_of (r), ==, "overdue");
  g_assert_nonnull (strstr (json_object_get_string_member (r, "description"), "不计入"));

  wz_test_assert_outcome (other, 404);
  wz_test_assert_outcome (unknown, 404);
  g_assert_nonnull (strstr (wz_test_assert_outcome (missing, 422), "birth date"));
  wz_test_assert_outcome (post, 405);
}

static void
test_reaction_followup (void)
{
  g_autofree char *child = create_patient ("赵", "乐乐", "2023-01-15", "female");
  g_autofree char *given = beijing_day (-8);
  g_autofree char *when = g_strconcat (given, "T09:30:00+08:00", NULL);
  g_autofree char *mmr = create_immunization (child, "MMR", when);
  g_autofree char *path = g_strdup_printf ("/fhir/Immunization/%s/$reaction-followup?lang=zh", mmr);
  g_autoptr(WzTestResponse) made = wz_test_request_text (server, "POST", path, doctor, NULL);
  g_autoptr(WzTestResponse) again = wz_test_request_text (server, "POST", path, doctor, NULL);
  g_autoptr(WzTestResponse) by_other = wz_test_request_text (server, "POST", path, other_doctor,
                                                             NULL);
  g_autoptr(WzTestResponse) list = NULL;
  g_autofree char *day7 = beijing_day (-1);
  JsonObject *row;

  g_assert_cmpuint (made->status, ==, 201);
  g_assert_cmpuint (json_array_get_length (entries (made)), ==, 3);
  g_assert_cmpuint (again->status, ==, 200);
  g_assert_cmpstr (json_object_get_string_member (entry_resource (again, 1), "id"), ==,
                   json_object_get_string_member (entry_resource (made, 1), "id"));
  wz_test_assert_outcome (by_other, 404);
  /* Day 7 after the dose: fever and rash check, due from the 7th day. */
  g_assert_cmpstr (json_object_get_string_member (
                     json_array_get_object_element (json_object_get_array_member (entry_resource (made, 1),
                                                                                  "extension"), 0),
                     "valueDate"), ==, day7);

  list = wz_test_request (server, "GET", "/followup/worklist?lang=zh", doctor, NULL, NULL);
  g_assert_cmpuint (list->status, ==, 200);
  row = worklist_row (object (list), child);
  g_assert_nonnull (row);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (row, "tasks")), ==, 2);
}

static void
test_screening (void)
{
  g_autofree char *child = create_patient ("郑", "安", "2023-01-15", "male");
  g_autoptr(WzTestResponse) questionnaire = wz_test_request (server, "GET",
                                                             "/followup/screening-questionnaire?lang=zh",
                                                             doctor, NULL, NULL);
  g_autofree char *path = g_strdup_printf ("/followup/screening-evaluation?patient=%s&lang=en",
                                           child);
  g_autoptr(WzTestResponse) evaluation = wz_test_request_text (
    server, "POST", path, doctor,
    "{\"resourceType\":\"QuestionnaireResponse\",\"status\":\"completed\",\"questionnaire\":\""
    WZ_FOLLOWUP_BASE "Questionnaire/pre-vaccination\",\"item\":["
    "{\"linkId\":\"planned-vaccines\",\"answer\":[{\"valueCoding\":{\"code\":\"MMR\"}},"
    "{\"valueCoding\":{\"code\":\"IPV\"}}]},"
    "{\"linkId\":\"q_fever_or_acute_illness\",\"answer\":[{\"valueBoolean\":true}]}]}");
  g_autoptr(WzTestResponse) bad = wz_test_request_text (
    server, "POST", path, doctor,
    "{\"resourceType\":\"QuestionnaireResponse\",\"status\":\"completed\",\"questionnaire\":\""
    WZ_FOLLOWUP_BASE "Questionnaire/pre-vaccination\",\"item\":[{\"linkId\":\"q_x\"}]}");
  JsonArray *vaccines;

  g_assert_cmpuint (questionnaire->status, ==, 200);
  g_assert_cmpstr (json_object_get_string_member (object (questionnaire), "resourceType"), ==,
                   "Questionnaire");
  g_assert_cmpuint (evaluation->status, ==, 200);
  vaccines = json_object_get_array_member (object (evaluation), "vaccines");
  g_assert_cmpuint (json_array_get_length (vaccines), ==, 2);
  for (guint i = 0; i < 2; i++)
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (vaccines, i),
                                                    "decision"), ==, "defer");
  wz_test_assert_outcome (bad, 400);
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);

  server = wz_test_server_new ();
  wz_test_server_add_user (server, "doctor", PASSWORD, "doctor");
  wz_test_server_add_user (server, "doctor2", PASSWORD, "doctor");
  wz_test_server_add_user (server, "pharmacist", PASSWORD, "pharmacist");
  wz_test_server_start (server);
  doctor = wz_test_server_login_full (server, "doctor", PASSWORD, &doctor_ref);
  other_doctor = wz_test_server_login (server, "doctor2", PASSWORD);
  pharmacist = wz_test_server_login (server, "pharmacist", PASSWORD);

  g_test_add_func ("/followup/apply-template-idempotent", test_apply_template_idempotent);
  g_test_add_func ("/followup/apply-template-refused", test_apply_template_refused);
  g_test_add_func ("/followup/apply-template-edited", test_apply_template_edited);
  g_test_add_func ("/followup/apply-template-all-or-nothing", test_apply_template_all_or_nothing);
  g_test_add_func ("/followup/set-targets", test_set_targets);
  g_test_add_func ("/followup/worklist", test_worklist);
  g_test_add_func ("/followup/vaccination-schedule", test_vaccination_schedule);
  g_test_add_func ("/followup/reaction-followup", test_reaction_followup);
  g_test_add_func ("/followup/screening", test_screening);

  status = g_test_run ();

  g_assert_cmpint (wz_test_server_stop (server), ==, 0);
  wz_test_server_free (server);
  g_free (doctor);
  g_free (doctor_ref);
  g_free (other_doctor);
  g_free (pharmacist);
  return status;
}
