/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "wz-test-util.h"
#include "wz-triage.h"

/* Pre-consultation over real HTTP: a patient opens a visit link, sends answers, and the visit is
 * triaged for the doctor. Each case makes its own visit, so they do not depend on each other. */

static WzTestServer *server;
static char *doctor;
static char *doctor_ref;

#define DURATION_SYSTEM WZ_TRIAGE_DURATION_SYSTEM
#define SYMPTOM_SYSTEM  WZ_TRIAGE_SYMPTOM_SYSTEM

typedef struct
{
  char *encounter_id;
  char *patient;       /* "Patient/ID" */
  char *token;         /* the patient's session */
} Visit;

static void
visit_free (Visit *visit)
{
  g_free (visit->encounter_id);
  g_free (visit->patient);
  g_free (visit->token);
  g_free (visit);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Visit, visit_free)

static JsonObject *
object (WzTestResponse *response)
{
  g_assert_nonnull (response->json);
  return json_node_get_object (response->json);
}

static WzTestResponse *
get (const char *token,
     const char *path)
{
  WzTestResponse *response = wz_test_request_text (server, "GET", path, token, NULL);

  if (response->status != 200)
    g_error ("GET %s: %u %.300s", path, response->status,
             (const char *) g_bytes_get_data (response->body, NULL));
  return response;
}

static gint64
total (const char *token,
       const char *path)
{
  g_autoptr(WzTestResponse) response = get (token, path);

  return json_object_get_int_member (object (response), "total");
}

static char *
post_created (const char *token,
              const char *type,
              const char *body)
{
  g_autofree char *path = g_strconcat ("/fhir/", type, NULL);
  g_autoptr(WzTestResponse) response = wz_test_request_text (server, "POST", path, token, body);

  if (response->status != 201)
    g_error ("POST %s: %u %.300s", path, response->status,
             (const char *) g_bytes_get_data (response->body, NULL));
  return g_strdup (wz_test_member (response, "id"));
}

/* A patient of the doctor, born on BIRTH_DATE, with a visit waiting today, and that patient's
 * session from a visit link. */
static Visit *
new_visit (const char *birth_date,
           const char *gender)
{
  Visit *visit = g_new0 (Visit, 1);
  g_autofree char *patient_body = NULL;
  g_autofree char *encounter_body = NULL;
  g_autofree char *patient_id = NULL;
  g_autofree char *link_path = NULL;
  g_autofree char *redeem_body = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *start = g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");
  g_autoptr(WzTestResponse) link = NULL;
  g_autoptr(WzTestResponse) session = NULL;

  patient_body = g_strdup_printf ("{\"resourceType\":\"Patient\",\"name\":[{\"text\":\"测试 Test\","
                                  "\"family\":\"测试\"}],\"gender\":\"%s\",\"birthDate\":\"%s\","
                                  "\"generalPractitioner\":[{\"reference\":\"%s\"}]}",
                                  gender, birth_date, doctor_ref);
  patient_id = post_created (doctor, "Patient", patient_body);
  visit->patient = g_strconcat ("Patient/", patient_id, NULL);

  encounter_body = g_strdup_printf ("{\"resourceType\":\"Encounter\",\"status\":\"arrived\","
                                    "\"class\":{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActCode\","
                                    "\"code\":\"VR\"},\"subject\":{\"reference\":\"%s\"},"
                                    "\"participant\":[{\"individual\":{\"reference\":\"%s\"}}],"
                                    "\"period\":{\"start\":\"%s\"}}",
                                    visit->patient, doctor_ref, start);
  visit->encounter_id = post_created (doctor, "Encounter", encounter_body);

  link_path = g_strdup_printf ("/fhir/Encounter/%s/$visit-link", visit->encounter_id);
  link = wz_test_request_text (server, "POST", link_path, doctor, NULL);
  g_assert_cmpuint (link->status, ==, 200);
  redeem_body = g_strdup_printf ("{\"link_token\":\"%s\"}",
                                 strstr (wz_test_member (link, "url"), "#") + 1);
  session = wz_test_request_text (server, "POST", "/auth/visit", NULL, redeem_body);
  g_assert_cmpuint (session->status, ==, 200);
  g_assert_cmpstr (wz_test_member (session, "role"), ==, "patient");
  visit->token = g_strdup (wz_test_member (session, "access_token"));

  return visit;
}

/* Answers for VISIT: ITEMS is the JSON of the items after the complaint and the duration. */
static char *
answers (const Visit *visit,
         const char  *identifier,
         const char  *duration,
         const char  *items)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *authored = g_date_time_format (now, "%Y-%m-%dT%H:%M:%S%:z");

  return g_strdup_printf ("{\"resourceType\":\"QuestionnaireResponse\","
                          "\"identifier\":{\"system\":\"urn:ietf:rfc:3986\",\"value\":\"%s\"},"
                          "\"questionnaire\":\"" WZ_TRIAGE_QUESTIONNAIRE_URL "|1\","
                          "\"status\":\"completed\",\"subject\":{\"reference\":\"%s\"},"
                          "\"encounter\":{\"reference\":\"Encounter/%s\"},\"authored\":\"%s\","
                          "\"item\":[{\"linkId\":\"chief-complaint\",\"text\":\"主诉\","
                          "\"answer\":[{\"valueString\":\"不舒服 Not well\"}]},"
                          "{\"linkId\":\"duration\",\"answer\":[{\"valueCoding\":{\"system\":\""
                          DURATION_SYSTEM "\",\"code\":\"%s\"}}]}%s%s]}",
                          identifier, visit->patient, visit->encounter_id, authored, duration,
                          items ? "," : "", items ? items : "");
}

static WzTestResponse *
submit (const char *token,
        const char *body,
        const char *identifier)
{
  g_autoptr(GBytes) bytes = g_bytes_new (body, strlen (body));
  g_autofree char *condition = NULL;

  if (identifier == NULL)
    return wz_test_request (server, "POST", "/fhir/QuestionnaireResponse", token, bytes, NULL);

  condition = g_strdup_printf ("identifier=urn%%3Aietf%%3Arfc%%3A3986%%7C%s", identifier);
  return wz_test_request (server, "POST", "/fhir/QuestionnaireResponse", token, bytes,
                          "If-None-Exist", condition, NULL);
}

static JsonObject *
encounter_of (const Visit     *visit,
              WzTestResponse **out_response)
{
  g_autofree char *path = g_strdup_printf ("/fhir/Encounter/%s", visit->encounter_id);

  *out_response = get (doctor, path);
  return object (*out_response);
}

static const char *
priority_code (JsonObject *encounter)
{
  JsonObject *priority;

  if (!json_object_has_member (encounter, "priority"))
    return NULL;
  priority = json_object_get_object_member (encounter, "priority");
  return json_object_get_string_member (
    json_array_get_object_element (json_object_get_array_member (priority, "coding"), 0), "code");
}

static const char *
triage_source (JsonObject *encounter)
{
  JsonObject *priority = json_object_get_object_member (encounter, "priority");

  if (!json_object_has_member (priority, "extension"))
    return NULL;
  return json_object_get_string_member (
    json_array_get_object_element (json_object_get_array_member (priority, "extension"), 0),
    "valueString");
}

static const char *
version_of (JsonObject *resource)
{
  return json_object_get_string_member (json_object_get_object_member (resource, "meta"),
                                        "versionId");
}

static gint64
flags_for (const Visit *visit)
{
  g_autofree char *path = g_strdup_printf ("/fhir/Flag?encounter=Encounter/%s",
                                           visit->encounter_id);

  return total (doctor, path);
}

static gint64
answers_for (const Visit *visit)
{
  g_autofree char *path = g_strdup_printf ("/fhir/QuestionnaireResponse?encounter=Encounter/%s",
                                           visit->encounter_id);

  return total (doctor, path);
}

static const char *const no_red_flags =
  "{\"linkId\":\"red-flag.chest_pain\",\"answer\":[{\"valueBoolean\":false}]},"
  "{\"linkId\":\"red-flag.breathing_difficulty\",\"answer\":[{\"valueBoolean\":false}]},"
  "{\"linkId\":\"red-flag.stroke_signs\",\"answer\":[{\"valueBoolean\":false}]},"
  "{\"linkId\":\"red-flag.heavy_bleeding\",\"answer\":[{\"valueBoolean\":false}]}";

static void
test_questionnaire_seeded (void)
{
  g_autoptr(WzTestResponse) response =
    get (doctor, "/fhir/Questionnaire?identifier=https://wenzhen.example/fhir/Questionnaire"
                 "%7Cpre-consultation-1");
  JsonObject *questionnaire;

  g_assert_cmpint (json_object_get_int_member (object (response), "total"), ==, 1);
  questionnaire = json_object_get_object_member (json_array_get_object_element (
    json_object_get_array_member (object (response), "entry"), 0), "resource");
  g_assert_cmpstr (json_object_get_string_member (questionnaire, "url"), ==,
                   WZ_TRIAGE_QUESTIONNAIRE_URL);
  g_assert_cmpstr (json_object_get_string_member (questionnaire, "status"), ==, "active");
}

static void
test_routine (void)
{
  g_autoptr(Visit) visit = new_visit ("1960-04-02", "female");
  const char *identifier = "urn:uuid:6b1f0e22-6f3a-4b7e-9b31-1c2d3e4f5a01";
  g_autofree char *items = g_strconcat (
    "{\"linkId\":\"symptoms\",\"answer\":[{\"valueCoding\":{\"system\":\"" SYMPTOM_SYSTEM "\","
    "\"code\":\"prescription_renewal\"}}]},"
    "{\"linkId\":\"allergies-none\",\"answer\":[{\"valueBoolean\":true}]},", no_red_flags, NULL);
  g_autofree char *body = answers (visit, identifier, "gt4w", items);
  g_autoptr(WzTestResponse) first = submit (visit->token, body, identifier);
  g_autoptr(WzTestResponse) retry = NULL;
  g_autoptr(WzTestResponse) after = NULL;
  g_autoptr(WzTestResponse) again = NULL;
  g_autoptr(WzTestResponse) queue = NULL;
  JsonObject *encounter;
  g_autofree char *first_id = NULL;
  g_autofree char *queue_auth = NULL;

  g_assert_cmpuint (first->status, ==, 201);
  first_id = g_strdup (wz_test_member (first, "id"));

  encounter = encounter_of (visit, &after);
  g_assert_cmpstr (json_object_get_string_member (encounter, "status"), ==, "triaged");
  g_assert_cmpstr (priority_code (encounter), ==, "EL");
  g_assert_cmpstr (triage_source (encounter), ==, "renewal_followup");
  g_assert_cmpstr (version_of (encounter), ==, "2");
  g_assert_cmpint (flags_for (visit), ==, 0);

  /* The page sends again after a dropped connection: the same answers, not a second set. */
  retry = submit (visit->token, body, identifier);
  g_assert_cmpuint (retry->status, ==, 200);
  g_assert_cmpstr (wz_test_member (retry, "id"), ==, first_id);
  g_assert_cmpint (answers_for (visit), ==, 1);
  encounter = encounter_of (visit, &again);
  g_assert_cmpstr (version_of (encounter), ==, "2");

  /* The patient's place in the doctor's queue. */
  queue = wz_test_request_text (server, "GET", "/visit/queue", visit->token, NULL);
  g_assert_cmpuint (queue->status, ==, 200);
  g_assert_cmpstr (wz_test_member (queue, "status"), ==, "triaged");
  g_assert_cmpint (json_object_get_int_member (object (queue), "position"), >=, 1);
  g_assert_cmpint (json_object_get_int_member (object (queue), "position"), <=,
                   json_object_get_int_member (object (queue), "waiting"));
  {
    g_autoptr(WzTestResponse) anonymous = wz_test_request_text (server, "GET", "/visit/queue",
                                                                NULL, NULL);
    g_autoptr(WzTestResponse) staff = wz_test_request_text (server, "GET", "/visit/queue", doctor,
                                                            NULL);

    wz_test_assert_outcome (anonymous, 401);
    wz_test_assert_outcome (staff, 401);
  }
}

static void
test_red_flag (void)
{
  g_autoptr(Visit) visit = new_visit ("1958-09-30", "male");
  const char *identifier = "urn:uuid:6b1f0e22-6f3a-4b7e-9b31-1c2d3e4f5a02";
  const char *items =
    "{\"linkId\":\"red-flag.chest_pain\",\"answer\":[{\"valueBoolean\":true}]},"
    "{\"linkId\":\"red-flag.stroke_signs\",\"answer\":[{\"valueBoolean\":false}]}";
  g_autofree char *body = answers (visit, identifier, "lt24h", items);
  g_autoptr(WzTestResponse) created = submit (visit->token, body, identifier);
  g_autoptr(WzTestResponse) after = NULL;
  g_autoptr(WzTestResponse) flags = NULL;
  g_autofree char *flags_path = g_strdup_printf ("/fhir/Flag?encounter=Encounter/%s",
                                                 visit->encounter_id);
  g_autofree char *own_flags = g_strdup_printf ("/fhir/Flag?patient=%s", visit->patient);
  JsonObject *encounter;
  JsonObject *flag;

  g_assert_cmpuint (created->status, ==, 201);
  encounter = encounter_of (visit, &after);
  g_assert_cmpstr (json_object_get_string_member (encounter, "status"), ==, "triaged");
  g_assert_cmpstr (priority_code (encounter), ==, "EM");
  g_assert_cmpstr (triage_source (encounter), ==, "chest_pain");

  flags = get (doctor, flags_path);
  g_assert_cmpint (json_object_get_int_member (object (flags), "total"), ==, 1);
  flag = json_object_get_object_member (json_array_get_object_element (
    json_object_get_array_member (object (flags), "entry"), 0), "resource");
  g_assert_cmpstr (json_object_get_string_member (flag, "status"), ==, "active");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (
    json_object_get_array_member (json_array_get_object_element (
      json_object_get_array_member (flag, "category"), 0), "coding"), 0), "code"), ==, "safety");
  g_assert_nonnull (strstr (json_object_get_string_member (
    json_object_get_object_member (flag, "code"), "text"), "Red flag"));
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (flag, "subject"),
                                                  "reference"), ==, visit->patient);

  /* The patient may see the alert raised about their own visit too. */
  g_assert_cmpint (total (visit->token, own_flags), ==, 1);
}

/* The red flag for a feverish baby comes from the age on the record and the temperature, even
 * when the parent does not tick the question. */
static void
test_infant_fever (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autoptr(GDateTime) born = g_date_time_add_days (now, -50);
  g_autofree char *birth_date = g_date_time_format (born, "%Y-%m-%d");
  g_autoptr(Visit) baby = new_visit (birth_date, "female");
  g_autoptr(Visit) adult = new_visit ("1990-01-01", "female");
  const char *items =
    "{\"linkId\":\"symptoms\",\"answer\":[{\"valueCoding\":{\"system\":\"" SYMPTOM_SYSTEM "\","
    "\"code\":\"fever\"}}]},"
    "{\"linkId\":\"measurement.temperature_c\",\"answer\":[{\"valueDecimal\":38.4}]}";
  g_autofree char *baby_body = answers (baby, "urn:uuid:6b1f0e22-6f3a-4b7e-9b31-1c2d3e4f5a03",
                                        "lt24h", items);
  g_autofree char *adult_body = answers (adult, "urn:uuid:6b1f0e22-6f3a-4b7e-9b31-1c2d3e4f5a04",
                                         "lt24h", items);
  g_autoptr(WzTestResponse) baby_created = submit (baby->token, baby_body, NULL);
  g_autoptr(WzTestResponse) adult_created = submit (adult->token, adult_body, NULL);
  g_autoptr(WzTestResponse) baby_after = NULL;
  g_autoptr(WzTestResponse) adult_after = NULL;
  JsonObject *encounter;

  g_assert_cmpuint (baby_created->status, ==, 201);
  g_assert_cmpuint (adult_created->status, ==, 201);

  encounter = encounter_of (baby, &baby_after);
  g_assert_cmpstr (priority_code (encounter), ==, "EM");
  g_assert_nonnull (strstr (triage_source (encounter), "infant_fever"));
  g_assert_cmpint (flags_for (baby), ==, 1);

  encounter = encounter_of (adult, &adult_after);
  g_assert_cmpstr (priority_code (encounter), ==, "R");
  g_assert_cmpstr (triage_source (encounter), ==, "fever_general");
  g_assert_cmpint (flags_for (adult), ==, 0);
}

/* Answers that do not fit the questionnaire are refused and leave no trace in the visit. */
static void
test_malformed (void)
{
  g_autoptr(Visit) visit = new_visit ("1975-03-03", "male");
  g_autoptr(Visit) other = new_visit ("1980-03-03", "female");
  g_autoptr(WzTestResponse) before = NULL;
  g_autoptr(WzTestResponse) after = NULL;
  g_autofree char *version_before = NULL;
  const struct
  {
    const char *duration;
    const char *items;
    guint       status;
    const char *diagnostics;
  } cases[] = {
    { "lt24h", "{\"linkId\":\"favourite-colour\",\"answer\":[{\"valueString\":\"red\"}]}", 400,
      "favourite-colour: is not a question" },
    { "lt24h", "{\"linkId\":\"red-flag.chest_pain\",\"answer\":[{\"valueString\":\"yes\"}]}", 400,
      "valueBoolean" },
    { "forever", NULL, 400, "“forever” is not one of the duration options" },
    { "lt24h", "{\"linkId\":\"measurement.temperature_c\",\"answer\":[{\"valueDecimal\":55}]}", 400,
      "outside the plausible range" },
    { "lt24h", "{\"linkId\":\"symptoms\",\"answer\":[{\"valueCoding\":{\"system\":\"" SYMPTOM_SYSTEM
      "\",\"code\":\"hiccups\"}}]}", 400, "not on the symptom checklist" },
  };

  encounter_of (visit, &before);
  version_before = g_strdup (version_of (object (before)));

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *body = answers (visit, "urn:uuid:6b1f0e22-6f3a-4b7e-9b31-1c2d3e4f5a10",
                                       cases[i].duration, cases[i].items);
      g_autoptr(WzTestResponse) refused = submit (visit->token, body, NULL);
      const char *text = wz_test_assert_outcome (refused, cases[i].status);

      g_test_message ("case %u: %s", i, text);
      g_assert_nonnull (strstr (text, cases[i].diagnostics));
    }

  /* No time given; not JSON at all. */
  {
    g_autofree char *body = answers (visit, "urn:uuid:6b1f0e22-6f3a-4b7e-9b31-1c2d3e4f5a11",
                                     "lt24h", NULL);
    char *authored = strstr (body, "\"authored\"");
    g_autoptr(WzTestResponse) refused = NULL;
    g_autoptr(WzTestResponse) garbage = submit (visit->token, "{\"resourceType\":\"Questionn", NULL);

    g_assert_nonnull (authored);
    memcpy (authored, "\"authorXd\"", strlen ("\"authorXd\""));
    refused = submit (visit->token, body, NULL);
    g_assert_cmpuint (refused->status, ==, 400);
    wz_test_assert_outcome (garbage, 400);
  }

  /* Answers about another patient's visit: the patient session may not, and a doctor writing for
   * the wrong patient is told so. */
  {
    g_autofree char *body = answers (visit, "urn:uuid:6b1f0e22-6f3a-4b7e-9b31-1c2d3e4f5a12",
                                     "lt24h", NULL);
    g_autofree char *swapped = NULL;
    g_autoptr(WzTestResponse) as_patient = NULL;
    g_autoptr(WzTestResponse) as_doctor = NULL;
    g_auto(GStrv) parts = g_strsplit (body, visit->patient, -1);

    swapped = g_strjoinv (other->patient, parts);
    as_patient = submit (visit->token, swapped, NULL);
    g_assert_cmpuint (as_patient->status, ==, 403);
    as_doctor = submit (doctor, swapped, NULL);
    g_assert_nonnull (strstr (wz_test_assert_outcome (as_doctor, 422), "is not the patient of"));
  }

  encounter_of (visit, &after);
  g_assert_cmpstr (version_of (object (after)), ==, version_before);
  g_assert_cmpstr (json_object_get_string_member (object (after), "status"), ==, "arrived");
  g_assert_false (json_object_has_member (object (after), "priority"));
  g_assert_cmpint (answers_for (visit), ==, 0);
  g_assert_cmpint (flags_for (visit), ==, 0);
}

/* The doctor's urgency is the doctor's: triage neither replaces it before nor after. */
static void
test_doctor_override_stands (void)
{
  g_autoptr(Visit) visit = new_visit ("1970-07-07", "male");
  g_autoptr(WzTestResponse) current = NULL;
  g_autoptr(WzTestResponse) updated = NULL;
  g_autoptr(WzTestResponse) created = NULL;
  g_autoptr(WzTestResponse) retried = NULL;
  g_autoptr(WzTestResponse) after = NULL;
  g_autoptr(WzTestResponse) later = NULL;
  g_autoptr(WzTestResponse) second_answers = NULL;
  g_autoptr(WzTestResponse) final = NULL;
  g_autoptr(JsonNode) copy = NULL;
  g_autofree char *path = g_strdup_printf ("/fhir/Encounter/%s", visit->encounter_id);
  g_autofree char *body = NULL;
  g_autofree char *if_match = NULL;
  g_autofree char *answers_body = NULL;
  g_autofree char *red_flag_body = NULL;
  g_autoptr(GBytes) bytes = NULL;
  JsonObject *encounter;
  JsonObject *priority;

  /* Triage first: routine. */
  answers_body = answers (visit, "urn:uuid:6b1f0e22-6f3a-4b7e-9b31-1c2d3e4f5a20", "gt4w",
                          "{\"linkId\":\"symptoms\",\"answer\":[{\"valueCoding\":{\"system\":\""
                          SYMPTOM_SYSTEM "\",\"code\":\"chronic_followup\"}}]}");
  created = submit (visit->token, answers_body, "urn:uuid:6b1f0e22-6f3a-4b7e-9b31-1c2d3e4f5a20");
  g_assert_cmpuint (created->status, ==, 201);

  /* The doctor thinks otherwise: urgent, a new version without triage's extension. */
  encounter = encounter_of (visit, &current);
  g_assert_cmpstr (priority_code (encounter), ==, "EL");
  copy = json_node_copy (current->json);
  priority = json_object_new ();
  {
    JsonArray *codings = json_array_new ();
    JsonObject *coding = json_object_new ();

    json_object_set_string_member (coding, "system",
                                   "http://terminology.hl7.org/CodeSystem/v3-ActPriority");
    json_object_set_string_member (coding, "code", "UR");
    json_array_add_object_element (codings, coding);
    json_object_set_array_member (priority, "coding", codings);
  }
  json_object_set_object_member (json_node_get_object (copy), "priority", priority);
  body = json_to_string (copy, FALSE);
  bytes = g_bytes_new (body, strlen (body));
  if_match = g_strdup_printf ("W/\"%s\"", version_of (encounter));
  updated = wz_test_request (server, "PUT", path, doctor, bytes, "If-Match", if_match, NULL);
  g_assert_cmpuint (updated->status, ==, 200);

  /* The page retries its first send: nothing happens to the visit. */
  retried = submit (visit->token, answers_body, "urn:uuid:6b1f0e22-6f3a-4b7e-9b31-1c2d3e4f5a20");
  g_assert_cmpuint (retried->status, ==, 200);
  encounter = encounter_of (visit, &after);
  g_assert_cmpstr (priority_code (encounter), ==, "UR");
  g_assert_cmpstr (version_of (encounter), ==, "3");

  /* New answers with a red flag: the doctor is alerted, the doctor's urgency stays. */
  red_flag_body = answers (visit, "urn:uuid:6b1f0e22-6f3a-4b7e-9b31-1c2d3e4f5a21", "lt24h",
                           "{\"linkId\":\"red-flag.stroke_signs\",\"answer\":[{\"valueBoolean\":true}]}");
  second_answers = submit (visit->token, red_flag_body, NULL);
  g_assert_cmpuint (second_answers->status, ==, 201);
  encounter = encounter_of (visit, &final);
  g_assert_cmpstr (priority_code (encounter), ==, "UR");
  g_assert_null (triage_source (encounter));
  g_assert_cmpint (flags_for (visit), ==, 1);

  /* History keeps what triage said before the doctor changed it. */
  {
    g_autofree char *history_path = g_strdup_printf ("/fhir/Encounter/%s/_history/2",
                                                     visit->encounter_id);
    g_autoptr(WzTestResponse) v2 = get (doctor, history_path);

    g_assert_cmpstr (priority_code (object (v2)), ==, "EL");
  }
}

static void
on_frame (SoupWebsocketConnection *conn,
          gint                     type,
          GBytes                  *message,
          GPtrArray               *frames)
{
  g_autofree char *text = g_strndup (g_bytes_get_data (message, NULL), g_bytes_get_size (message));
  JsonNode *node = json_from_string (text, NULL);

  g_assert_nonnull (node);
  g_ptr_array_add (frames, node);
}

static void
on_connected (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

/* The index of the first "resource" frame about TYPE in ENCOUNTER, or -1. */
static gint
find_event (GPtrArray  *frames,
            const char *type,
            const char *encounter)
{
  for (guint i = 0; i < frames->len; i++)
    {
      JsonObject *frame = json_node_get_object (g_ptr_array_index (frames, i));

      if (g_strcmp0 (json_object_get_string_member_with_default (frame, "type", ""), "resource") == 0 &&
          g_strcmp0 (json_object_get_string_member_with_default (frame, "resourceType", ""), type) == 0 &&
          g_strcmp0 (json_object_get_string_member_with_default (frame, "encounter", ""), encounter) == 0)
        return i;
    }
  return -1;
}

/* The doctor's open window hears of the triage at once: the Encounter's new version and the
 * Flag reach the doctor's websocket like any other write. */
static void
test_doctor_is_told_live (void)
{
  g_autoptr(Visit) visit = new_visit ("1966-06-06", "female");
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *url = g_strdup_printf ("%s/ws", server->url);
  g_autofree char *bearer = g_strconcat ("Bearer ", doctor, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(SoupWebsocketConnection) conn = NULL;
  g_autoptr(GPtrArray) frames = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  g_autoptr(GError) error = NULL;
  g_autoptr(WzTestResponse) created = NULL;
  g_autofree char *encounter = g_strconcat ("Encounter/", visit->encounter_id, NULL);
  g_autofree char *body = answers (visit, "urn:uuid:6b1f0e22-6f3a-4b7e-9b31-1c2d3e4f5a30", "lt24h",
                                   "{\"linkId\":\"red-flag.heavy_bleeding\",\"answer\":[{\"valueBoolean\":true}]}");
  gint64 deadline;

  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", bearer);
  soup_session_websocket_connect_async (session, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL,
                                        on_connected, &result);
  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (result == NULL && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_nonnull (result);
  conn = soup_session_websocket_connect_finish (session, result, &error);
  g_assert_no_error (error);
  g_signal_connect (conn, "message", G_CALLBACK (on_frame), frames);

  created = submit (visit->token, body, NULL);
  g_assert_cmpuint (created->status, ==, 201);

  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while ((find_event (frames, "Flag", encounter) < 0 ||
          find_event (frames, "Encounter", encounter) < 0) &&
         g_get_monotonic_time () < deadline)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (1000);

  g_assert_cmpint (find_event (frames, "QuestionnaireResponse", encounter), >=, 0);
  g_assert_cmpint (find_event (frames, "Flag", encounter), >=, 0);
  g_assert_cmpint (find_event (frames, "Encounter", encounter), >=, 0);
  soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
}

static void
test_rules_are_public (void)
{
  g_autoptr(WzTestResponse) rules = wz_test_request_text (server, "GET",
                                                          "/visit/triage-rules.json", NULL, NULL);
  g_autoptr(WzTestResponse) post = wz_test_request_text (server, "POST",
                                                         "/visit/triage-rules.json", NULL, "{}");

  g_assert_cmpuint (rules->status, ==, 200);
  g_assert_nonnull (rules->json);
  g_assert_true (json_object_has_member (object (rules), "red_flags"));
  g_assert_true (json_object_has_member (object (rules), "symptom_checklist"));
  g_assert_cmpuint (post->status, ==, 405);
}

/* A rules file the server cannot apply stops it at start, with the place of the mistake. */
static void
test_broken_rules_refuse_to_start (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *data_files = g_dir_make_tmp ("wz-rules-XXXXXX", &error);
  g_autofree char *clinical = g_build_filename (data_files, "clinical", NULL);
  g_autofree char *rules_path = g_build_filename (clinical, "triage-rules.json", NULL);
  g_autofree char *source = g_build_filename (g_getenv ("WZ_DATA_DIR"), "clinical",
                                              "triage-rules.json", NULL);
  g_autofree char *contents = NULL;
  g_autofree char *broken = NULL;
  g_autofree char *data_dir = g_dir_make_tmp ("wz-rules-data-XXXXXX", NULL);
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                                       G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GSubprocess) process = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  char *urgency;

  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (source, &contents, NULL, NULL));
  /* The first rule's urgency becomes 7. */
  urgency = strstr (strstr (contents, "\"rules\":"), "\"urgency\": ");
  g_assert_nonnull (urgency);
  urgency[strlen ("\"urgency\": ")] = '7';
  broken = g_strdup (contents);
  g_assert_cmpint (g_mkdir_with_parents (clinical, 0700), ==, 0);
  g_assert_true (g_file_set_contents (rules_path, broken, -1, NULL));

  g_subprocess_launcher_setenv (launcher, "WZ_DATA_DIR", data_files, TRUE);
  process = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("WZ_SERVER_BINARY"), "serve",
                                         "--data-dir", data_dir, "--listen", "127.0.0.1:0", NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  g_assert_cmpint (g_subprocess_get_exit_status (process), !=, 0);
  g_assert_null (strstr (out, "listening on"));
  g_test_message ("%s", err);
  g_assert_nonnull (strstr (err, "triage-rules.json"));
  g_assert_nonnull (strstr (err, "urgency 7 is not an urgency level"));

  wz_test_rm_rf (data_files);
  wz_test_rm_rf (data_dir);
}

/* Restarting does not store the form twice. */
static void
test_restart_keeps_one_questionnaire (void)
{
  g_assert_cmpint (wz_test_server_stop (server), ==, 0);
  wz_test_server_start (server);
  g_free (doctor);
  doctor = wz_test_server_login (server, "doctor", "demo");
  g_assert_cmpint (total (doctor, "/fhir/Questionnaire?identifier=https://wenzhen.example/fhir/"
                                  "Questionnaire%7Cpre-consultation-1"), ==, 1);
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);

  server = wz_test_server_new ();
  g_assert_cmpint (wz_test_run_cli (NULL, NULL, "demo-data", "--data-dir", server->data_dir,
                                    "--patients", "6", NULL), ==, 0);
  wz_test_server_start (server);
  doctor = wz_test_server_login_full (server, "doctor", "demo", &doctor_ref);

  g_test_add_func ("/preconsult/questionnaire-seeded", test_questionnaire_seeded);
  g_test_add_func ("/preconsult/routine", test_routine);
  g_test_add_func ("/preconsult/red-flag", test_red_flag);
  g_test_add_func ("/preconsult/infant-fever", test_infant_fever);
  g_test_add_func ("/preconsult/malformed", test_malformed);
  g_test_add_func ("/preconsult/doctor-override-stands", test_doctor_override_stands);
  g_test_add_func ("/preconsult/doctor-is-told-live", test_doctor_is_told_live);
  g_test_add_func ("/preconsult/rules-are-public", test_rules_are_public);
  g_test_add_func ("/preconsult/broken-rules-refuse-to-start", test_broken_rules_refuse_to_start);
  g_test_add_func ("/preconsult/restart-keeps-one-questionnaire",
                   test_restart_keeps_one_questionnaire);

  status = g_test_run ();

  g_assert_cmpint (wz_test_server_stop (server), ==, 0);
  g_assert_cmpint (wz_test_run_cli (NULL, NULL, "audit", "verify", "--data-dir",
                                    server->data_dir, NULL), ==, 0);
  wz_test_server_free (server);
  g_free (doctor);
  g_free (doctor_ref);

  return status;
}
