/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

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
