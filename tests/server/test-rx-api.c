/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <sqlite3.h>
#include <string.h>

#include "wz-signature.h"
#include "wz-test-util.h"

/* Prescribing over real HTTP against `wenzhen-server serve`: formulary search, live checks,
 * signing with the rules enforced, pharmacist review, cancellation, the guards on the generic
 * routes, authorization, and `formulary import`. */

#define PASSWORD "rx-test-password"
#define PASSPHRASE "doctor's own passphrase"

static WzTestServer *server;
static char *doctor_token, *doctor2_token, *pharmacist_token;
static char *doctor_ref, *doctor2_ref;
static char *public_key, *protected_key;
static WzSigningKey *signing_key;

/* The adult follow-up patient: penicillin allergy, hypertension since 2023, today's visit. */
static char *patient_ref, *encounter_ref, *condition_ref;
/* A 3-year-old without a guardian on record. */
static char *child_ref, *child_encounter_ref, *child_condition_ref;

static WzTestResponse *
post (const char *path,
      const char *token,
      const char *body)
{
  return wz_test_request_text (server, "POST", path, token, body);
}

static JsonObject *
object (WzTestResponse *response)
{
  g_assert_nonnull (response->json);
  return json_node_get_object (response->json);
}

/* Creates RESOURCE (JSON text) as the doctor and returns "Type/ID". */
static char *
create (const char *type,
        const char *json)
{
  g_autofree char *path = g_strconcat ("/fhir/", type, NULL);
  g_autoptr(WzTestResponse) response = post (path, doctor_token, json);

  if (response->status != 201)
    g_error ("creating %s: %u %s", type, response->status,
             (char *) g_bytes_get_data (response->body, NULL));
  return g_strconcat (type, "/", json_object_get_string_member (object (response), "id"), NULL);
}

static char *
today (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();

  return g_date_time_format (now, "%Y-%m-%dT%H:%M:%S%:z");
}

static void
make_patient (const char  *birth_date,
              const char  *recorded,
              char       **out_patient,
              char       **out_encounter,
              char       **out_condition)
{
  g_autofree char *now = today ();
  g_autofree char *patient = g_strdup_printf (
    "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"测试\",\"given\":[\"病人\"]}],"
    "\"gender\":\"female\",\"birthDate\":\"%s\",\"generalPractitioner\":[{\"reference\":\"%s\"}]}",
    birth_date, doctor_ref);
  g_autofree char *encounter = NULL;
  g_autofree char *condition = NULL;

  *out_patient = create ("Patient", patient);
  encounter = g_strdup_printf (
    "{\"resourceType\":\"Encounter\",\"status\":\"in-progress\",\"class\":{\"system\":"
    "\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"VR\"},\"subject\":{"
    "\"reference\":\"%s\"},\"participant\":[{\"individual\":{\"reference\":\"%s\"}}],"
    "\"period\":{\"start\":\"%s\"}}", *out_patient, doctor_ref, now);
  *out_encounter = create ("Encounter", encounter);
  condition = g_strdup_printf (
    "{\"resourceType\":\"Condition\",\"clinicalStatus\":{\"coding\":[{\"system\":"
    "\"http://terminology.hl7.org/CodeSystem/condition-clinical\",\"code\":\"active\"}]},"
    "\"verificationStatus\":{\"coding\":[{\"system\":"
    "\"http://terminology.hl7.org/CodeSystem/condition-ver-status\",\"code\":\"confirmed\"}]},"
    "\"code\":{\"coding\":[{\"system\":\"http://hl7.org/fhir/sid/icd-10\",\"code\":\"I10\"}],"
    "\"text\":\"高血压 Hypertension\"},\"subject\":{\"reference\":\"%s\"},"
    "\"recordedDate\":\"%s\"}", *out_patient, recorded ? recorded : now);
  *out_condition = create ("Condition", condition);
}

/* A draft line as JSON text. */
static char *
draft (const char *patient,
       const char *encounter,
       const char *condition,
       const char *code,
       double      dose,
       const char *frequency,
       int         days)
{
  char dose_text[G_ASCII_DTOSTR_BUF_SIZE];

  g_ascii_dtostr (dose_text, sizeof dose_text, dose);
  return g_strdup_printf (
    "{\"resourceType\":\"MedicationRequest\",\"status\":\"draft\",\"intent\":\"order\","
    "\"subject\":{\"reference\":\"%s\"},\"encounter\":{\"reference\":\"%s\"},"
    "\"requester\":{\"reference\":\"%s\"},\"reasonReference\":[{\"reference\":\"%s\"}],"
    "\"medicationCodeableConcept\":{\"coding\":[{\"system\":"
    "\"https://wenzhen.github.io/fhir/CodeSystem/formulary\","
    "\"code\":\"%s\"}]},\"dosageInstruction\":[{\"timing\":{\"code\":{\"coding\":[{\"code\":"
    "\"%s\"}]}},\"doseAndRate\":[{\"doseQuantity\":{\"value\":%s,\"unit\":\"mg\"}}]}],"
    "\"dispenseRequest\":{\"expectedSupplyDuration\":{\"value\":%d,\"unit\":\"days\","
    "\"code\":\"d\"}}}",
    patient, encounter, doctor_ref, condition, code, frequency, dose_text, days);
}

/* Saves a draft as the doctor and returns the stored resource. */
static JsonNode *
save_draft (const char *json)
{
  g_autoptr(WzTestResponse) response = post ("/fhir/MedicationRequest", doctor_token, json);

  if (response->status != 201)
    g_error ("saving a draft: %u %s", response->status,
             (char *) g_bytes_get_data (response->body, NULL));
  return json_node_ref (response->json);
}

/* Parameters for $check / $sign: the RESOURCES (JsonNode), signed with KEY when given, and
 * overrides as key/reason pairs (NULL-terminated). */
static char *
parameters (GPtrArray    *resources,
            WzSigningKey *key,
            ...)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  va_list args;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "resourceType");
  json_builder_add_string_value (b, "Parameters");
  json_builder_set_member_name (b, "parameter");
  json_builder_begin_array (b);
  for (guint i = 0; i < resources->len; i++)
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, "medicationRequest");
      json_builder_set_member_name (b, "resource");
      json_builder_add_value (b, json_node_copy (g_ptr_array_index (resources, i)));
      json_builder_end_object (b);
    }
  va_start (args, key);
  for (const char *k = va_arg (args, const char *); k != NULL; k = va_arg (args, const char *))
    {
      const char *reason = va_arg (args, const char *);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, "override");
      json_builder_set_member_name (b, "part");
      json_builder_begin_array (b);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, "key");
      json_builder_set_member_name (b, "valueString");
      json_builder_add_string_value (b, k);
      json_builder_end_object (b);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, "reason");
      json_builder_set_member_name (b, "valueString");
      json_builder_add_string_value (b, reason);
      json_builder_end_object (b);
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  va_end (args);
  if (key != NULL)
    {
      g_autoptr(GPtrArray) objects = g_ptr_array_new ();
      g_autofree char *payload = NULL;
      g_autofree char *signature = NULL;
      gsize length;

      for (guint i = 0; i < resources->len; i++)
        g_ptr_array_add (objects, json_node_get_object (g_ptr_array_index (resources, i)));
      payload = wz_signature_prescription_payload (objects, &length, NULL);
      g_assert_nonnull (payload);
      signature = wz_signing_key_sign (key, payload, length);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, "signature");
      json_builder_set_member_name (b, "valueBase64Binary");
      json_builder_add_string_value (b, signature);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

static GPtrArray *
nodes_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
}

/* The resource of TYPE in a Bundle answer (the first one). */
static JsonObject *
bundle_resource (WzTestResponse *response,
                 const char     *type,
                 guint           nth)
{
  JsonArray *entries = json_object_get_array_member (object (response), "entry");

  for (guint i = 0; i < json_array_get_length (entries); i++)
    {
      JsonObject *resource = json_object_get_object_member (json_array_get_object_element (entries, i),
                                                            "resource");

      if (g_strcmp0 (json_object_get_string_member (resource, "resourceType"), type) == 0 &&
          nth-- == 0)
        return resource;
    }
  return NULL;
}

static char *
signed_task (WzTestResponse *response)
{
  JsonObject *task = bundle_resource (response, "Task", 0);

  g_assert_nonnull (task);
  return g_strdup (json_object_get_string_member (task, "id"));
}

static gboolean
outcome_mentions (WzTestResponse *response,
                  const char     *text)
{
  gsize length;
  const char *data = g_bytes_get_data (response->body, &length);

  return g_strstr_len (data, length, text) != NULL;
}

/* --- tests ------------------------------------------------------------------------------------ */

static void
test_formulary_search (void)
{
  g_autoptr(WzTestResponse) found = wz_test_request (server, "GET", "/formulary?q=aldp&_count=2",
                                                     doctor_token, NULL, NULL);
  g_autoptr(WzTestResponse) pharmacist = wz_test_request (server, "GET", "/formulary?q=%E6%B0%A8%E6%B0%AF",
                                                          pharmacist_token, NULL, NULL);
  g_autoptr(WzTestResponse) anonymous = wz_test_request (server, "GET", "/formulary?q=aldp", NULL,
                                                         NULL, NULL);
  g_autoptr(WzTestResponse) one = wz_test_request (server, "GET", "/formulary/WZ0169",
                                                   doctor_token, NULL, NULL);
  g_autoptr(WzTestResponse) none = wz_test_request (server, "GET", "/formulary/NOPE",
                                                    doctor_token, NULL, NULL);
  g_autoptr(WzTestResponse) bad = wz_test_request (server, "GET", "/formulary?q=a&_count=0",
                                                   doctor_token, NULL, NULL);
  JsonArray *drugs;

  g_assert_cmpuint (found->status, ==, 200);
  drugs = json_object_get_array_member (object (found), "drugs");
  g_assert_cmpuint (json_array_get_length (drugs), ==, 2);
  g_assert_cmpint (json_object_get_int_member (object (found), "total"), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (drugs, 0), "code"),
                   ==, "WZ0001");
  g_assert_true (json_object_get_boolean_member (object (found), "sample"));

  g_assert_cmpuint (pharmacist->status, ==, 200);
  drugs = json_object_get_array_member (object (pharmacist), "drugs");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (drugs, 0),
                                                  "generic_name_zh"), ==, "氨氯地平");

  wz_test_assert_outcome (anonymous, 401);
  g_assert_cmpuint (one->status, ==, 200);
  g_assert_cmpstr (json_object_get_string_member (object (one), "atc_code"), ==, "J01CA04");
  g_assert_cmpfloat (json_object_get_double_member (object (one), "child_max_mg_per_kg_day"), ==, 90);
  wz_test_assert_outcome (none, 404);
  wz_test_assert_outcome (bad, 400);
}

static void
test_check (void)
{
  g_autoptr(GPtrArray) lines = nodes_new ();
  g_autoptr(WzTestResponse) response = NULL;
  g_autoptr(WzTestResponse) outsider = NULL;
  g_autofree char *body = NULL;
  g_autofree char *amoxicillin = draft (patient_ref, encounter_ref, condition_ref, "WZ0169", 500,
                                        "tid", 5);
  g_autofree char *warfarin = draft (patient_ref, encounter_ref, condition_ref, "WZ0061", 3, "qd",
                                     14);
  g_autofree char *ibuprofen = draft (patient_ref, encounter_ref, condition_ref, "WZ0130", 200,
                                      "tid", 3);
  JsonArray *list;
  gboolean allergy = FALSE, interaction = FALSE, override_required = FALSE;

  /* Unsaved drafts can be checked as the doctor types. */
  g_ptr_array_add (lines, json_from_string (amoxicillin, NULL));
  g_ptr_array_add (lines, json_from_string (warfarin, NULL));
  g_ptr_array_add (lines, json_from_string (ibuprofen, NULL));
  body = parameters (lines, NULL, NULL);
  response = post ("/fhir/MedicationRequest/$check", doctor_token, body);
  g_assert_cmpuint (response->status, ==, 200);

  list = json_object_get_array_member (object (response), "parameter");
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *parameter = json_array_get_object_element (list, i);
      const char *name = json_object_get_string_member (parameter, "name");

      if (strcmp (name, "issue") == 0)
        {
          JsonObject *issue = json_object_get_object_member (parameter, "resource");
          const char *key = json_object_get_string_member (
            json_array_get_object_element (json_object_get_array_member (issue, "identifier"), 0),
            "value");

          g_assert_cmpstr (json_object_get_string_member (issue, "resourceType"), ==,
                           "DetectedIssue");
          g_assert_cmpstr (json_object_get_string_member (issue, "status"), ==, "preliminary");
          if (g_str_has_prefix (key, "allergy:WZ0169:AllergyIntolerance/"))
            {
              allergy = TRUE;
              g_assert_cmpstr (json_object_get_string_member (issue, "severity"), ==, "high");
            }
          interaction |= strcmp (key, "interaction:WZ0061:WZ0130") == 0;
        }
      else if (strcmp (name, "violation") == 0)
        {
          g_autofree char *text = json_to_string (json_array_get_element (list, i), FALSE);

          override_required |= strstr (text, "\"override-required\"") != NULL;
        }
      else if (strcmp (name, "can-sign") == 0)
        g_assert_false (json_object_get_boolean_member (parameter, "valueBoolean"));
    }
  g_assert_true (allergy);
  g_assert_true (interaction);
  g_assert_true (override_required);

  /* Another doctor, not on this patient's care team, learns nothing. */
  outsider = post ("/fhir/MedicationRequest/$check", doctor2_token, body);
  wz_test_assert_outcome (outsider, 404);
}

static void
test_register_key (void)
{
  g_autofree char *body = g_strdup_printf ("{\"resourceType\":\"Parameters\",\"parameter\":[{"
                                           "\"name\":\"publicKey\",\"valueBase64Binary\":\"%s\"}]}",
                                           public_key);
  g_autofree char *own = g_strdup_printf ("/fhir/%s/$register-key", doctor_ref);
  g_autoptr(WzTestResponse) someone_else = post (own, doctor2_token, body);
  g_autoptr(WzTestResponse) pharmacist = post (own, pharmacist_token, body);
  g_autoptr(WzTestResponse) bad = post (own, doctor_token, "{\"resourceType\":\"Parameters\","
                                        "\"parameter\":[{\"name\":\"publicKey\","
                                        "\"valueBase64Binary\":\"AAAA\"}]}");
  g_autoptr(WzTestResponse) ok = post (own, doctor_token, body);

  wz_test_assert_outcome (someone_else, 403);
  wz_test_assert_outcome (pharmacist, 403);
  wz_test_assert_outcome (bad, 400);
  g_assert_cmpuint (ok->status, ==, 200);
}

static void
test_sign_and_approve (void)
{
  g_autoptr(GPtrArray) lines = nodes_new ();
  g_autoptr(WzTestResponse) unsigned_high = NULL;
  g_autoptr(WzTestResponse) by_pharmacist = NULL;
  g_autoptr(WzTestResponse) signed_response = NULL;
  g_autoptr(WzTestResponse) put = NULL;
  g_autoptr(WzTestResponse) own_approval = NULL;
  g_autoptr(WzTestResponse) queue = NULL;
  g_autoptr(WzTestResponse) review = NULL;
  g_autoptr(WzTestResponse) no_reason = NULL;
  g_autoptr(WzTestResponse) approved = NULL;
  g_autoptr(WzTestResponse) again = NULL;
  g_autoptr(WzTestResponse) after = NULL;
  g_autoptr(WzTestResponse) read = NULL;
  g_autoptr(WzTestResponse) outsider_read = NULL;
  g_autofree char *amlodipine = draft (patient_ref, encounter_ref, condition_ref, "WZ0001", 5, "qd",
                                       30);
  g_autofree char *warfarin = draft (patient_ref, encounter_ref, condition_ref, "WZ0061", 3, "qd",
                                     14);
  g_autofree char *ibuprofen = draft (patient_ref, encounter_ref, condition_ref, "WZ0130", 200,
                                      "tid", 3);
  g_autofree char *body = NULL;
  g_autofree char *task_id = NULL;
  g_autofree char *path = NULL;
  g_autofree char *request_id = NULL;
  g_autofree char *put_body = NULL;
  JsonObject *stored;
  JsonObject *provenance;

  g_ptr_array_add (lines, save_draft (amlodipine));
  g_ptr_array_add (lines, save_draft (warfarin));
  g_ptr_array_add (lines, save_draft (ibuprofen));

  /* The interaction is high: no signature without a reason. */
  g_clear_pointer (&body, g_free);
  body = parameters (lines, signing_key, NULL);
  unsigned_high = post ("/fhir/MedicationRequest/$sign", doctor_token, body);
  wz_test_assert_outcome (unsigned_high, 422);
  g_assert_true (outcome_mentions (unsigned_high, "\"code\":\"override-required\""));
  g_assert_true (outcome_mentions (unsigned_high, "interaction:WZ0061:WZ0130"));
  g_assert_true (outcome_mentions (unsigned_high, "高风险"));

  /* A pharmacist cannot sign. */
  by_pharmacist = post ("/fhir/MedicationRequest/$sign", pharmacist_token, body);
  wz_test_assert_outcome (by_pharmacist, 403);

  g_clear_pointer (&body, g_free);
  body = parameters (lines, signing_key, "interaction:WZ0061:WZ0130",
                     "Short course with omeprazole; INR in 3 days", NULL);
  signed_response = post ("/fhir/MedicationRequest/$sign", doctor_token, body);
  g_assert_cmpuint (signed_response->status, ==, 200);
  task_id = signed_task (signed_response);
  g_assert_cmpstr (json_object_get_string_member (bundle_resource (signed_response, "Task", 0),
                                                  "status"), ==, "requested");
  provenance = bundle_resource (signed_response, "Provenance", 0);
  g_assert_nonnull (provenance);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (provenance, "target")), ==, 3);
  stored = bundle_resource (signed_response, "MedicationRequest", 0);
  g_assert_cmpstr (json_object_get_string_member (stored, "status"), ==, "draft");
  g_assert_true (outcome_mentions (signed_response, "\"code\":\"signed\""));
  /* The override reason is recorded on the finding. */
  g_assert_true (outcome_mentions (signed_response, "Short course with omeprazole; INR in 3 days"));
  g_assert_nonnull (bundle_resource (signed_response, "DetectedIssue", 0));

  /* Signed: no more edits, only $cancel. */
  request_id = g_strdup (json_object_get_string_member (stored, "id"));
  path = g_strdup_printf ("/fhir/MedicationRequest/%s", request_id);
  {
    g_autoptr(JsonNode) node = json_node_alloc ();

    json_node_init_object (node, stored);
    put_body = json_to_string (node, FALSE);
  }
  put = wz_test_request (server, "PUT", path, doctor_token,
                         g_bytes_new (put_body, strlen (put_body)), "If-Match",
                         "W/\"2\"", NULL);
  g_assert_cmpuint (put->status, ==, 409);
  g_assert_true (outcome_mentions (put, "$cancel"));

  /* The doctor cannot approve; the pharmacist sees it in the queue, with a valid signature. */
  g_clear_pointer (&path, g_free);
  path = g_strdup_printf ("/fhir/Task/%s/$approve", task_id);
  own_approval = post (path, doctor_token, "{\"resourceType\":\"Parameters\"}");
  wz_test_assert_outcome (own_approval, 403);

  queue = wz_test_request (server, "GET", "/fhir/Task/$review-queue", pharmacist_token, NULL, NULL);
  g_assert_cmpuint (queue->status, ==, 200);
  g_assert_true (outcome_mentions (queue, task_id));
  g_clear_pointer (&path, g_free);
  path = g_strdup_printf ("/fhir/Task/%s/$review", task_id);
  review = wz_test_request (server, "GET", path, pharmacist_token, NULL, NULL);
  g_assert_cmpuint (review->status, ==, 200);
  g_assert_true (outcome_mentions (review, "The signature verifies"));
  g_assert_true (outcome_mentions (review, "Short course with omeprazole"));

  g_clear_pointer (&path, g_free);
  path = g_strdup_printf ("/fhir/Task/%s/$reject", task_id);
  no_reason = post (path, pharmacist_token, "{\"resourceType\":\"Parameters\",\"parameter\":[{"
                    "\"name\":\"reason\",\"valueString\":\"  \"}]}");
  wz_test_assert_outcome (no_reason, 400);

  g_clear_pointer (&path, g_free);
  path = g_strdup_printf ("/fhir/Task/%s/$approve", task_id);
  approved = post (path, pharmacist_token, "{\"resourceType\":\"Parameters\"}");
  g_assert_cmpuint (approved->status, ==, 200);
  g_assert_cmpstr (json_object_get_string_member (bundle_resource (approved, "Task", 0), "status"),
                   ==, "completed");
  again = post (path, pharmacist_token, "{\"resourceType\":\"Parameters\"}");
  wz_test_assert_outcome (again, 409);

  /* Approval makes new versions (active); the signed ones still verify. */
  g_clear_pointer (&path, g_free);
  path = g_strdup_printf ("/fhir/Task/%s/$review", task_id);
  after = wz_test_request (server, "GET", path, pharmacist_token, NULL, NULL);
  g_assert_cmpuint (after->status, ==, 200);
  g_assert_true (outcome_mentions (after, "The signature verifies"));

  g_clear_pointer (&path, g_free);
  path = g_strdup_printf ("/fhir/MedicationRequest/%s", request_id);
  read = wz_test_request (server, "GET", path, doctor_token, NULL, NULL);
  g_assert_cmpuint (read->status, ==, 200);
  g_assert_cmpstr (json_object_get_string_member (object (read), "status"), ==, "active");

  /* Another doctor cannot read it. */
  outsider_read = wz_test_request (server, "GET", path, doctor2_token, NULL, NULL);
  wz_test_assert_outcome (outsider_read, 404);
}

static void
test_signature_tamper (void)
{
  g_autoptr(GPtrArray) lines = nodes_new ();
  g_autoptr(GPtrArray) changed = nodes_new ();
  g_autoptr(WzTestResponse) response = NULL;
  g_autofree char *amlodipine = draft (patient_ref, encounter_ref, condition_ref, "WZ0001", 5, "qd",
                                       28);
  g_autofree char *signed_body = NULL;
  g_autofree char *body = NULL;
  g_autoptr(JsonNode) signed_params = NULL;
  JsonObject *dose;

  g_ptr_array_add (lines, save_draft (amlodipine));
  /* Signed over 5 mg, sent with 10 mg. */
  signed_body = parameters (lines, signing_key, NULL);
  signed_params = json_from_string (signed_body, NULL);
  dose = json_object_get_object_member (
           json_array_get_object_element (
             json_object_get_array_member (
               json_array_get_object_element (
                 json_object_get_array_member (
                   json_object_get_object_member (
                     json_array_get_object_element (
                       json_object_get_array_member (json_node_get_object (signed_params),
                                                     "parameter"), 0), "resource"),
                   "dosageInstruction"), 0), "doseAndRate"), 0), "doseQuantity");
  json_object_set_int_member (dose, "value", 10);
  body = json_to_string (signed_params, FALSE);
  response = post ("/fhir/MedicationRequest/$sign", doctor_token, body);
  wz_test_assert_outcome (response, 422);
  g_assert_true (outcome_mentions (response, "signature"));
}

/* Runs SQL on the server's fhir.db from a second connection, as another process could. */
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

static gint64
count_on_store (const char *sql)
{
  g_autofree char *path = g_build_filename (server->data_dir, "fhir.db", NULL);
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 n;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  n = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return n;
}

/* Signing writes the signed lines, the Provenance and the review Task. When the last of those
 * writes fails (a trigger on the database refuses Tasks), nothing is half signed: the lines are
 * still the same unsigned drafts, no Provenance or history version was added, and the same
 * drafts sign normally afterwards. */
static void
test_sign_all_or_nothing (void)
{
  g_autoptr(GPtrArray) lines = nodes_new ();
  g_autoptr(WzTestResponse) failed = NULL;
  g_autoptr(WzTestResponse) read = NULL;
  g_autoptr(WzTestResponse) signed_response = NULL;
  g_autoptr(WzTestResponse) cancelled = NULL;
  g_autofree char *amlodipine = draft (patient_ref, encounter_ref, condition_ref, "WZ0001", 5, "qd",
                                       28);
  g_autofree char *body = NULL;
  g_autofree char *path = NULL;
  const char *id;
  gint64 provenances, versions, tasks;

  g_ptr_array_add (lines, save_draft (amlodipine));
  id = json_object_get_string_member (json_node_get_object (g_ptr_array_index (lines, 0)), "id");
  path = g_strdup_printf ("/fhir/MedicationRequest/%s", id);
  provenances = count_on_store ("SELECT count(*) FROM resources WHERE type = 'Provenance'");
  versions = count_on_store ("SELECT count(*) FROM history");
  tasks = count_on_store ("SELECT count(*) FROM resources WHERE type = 'Task'");

  exec_on_store ("CREATE TRIGGER test_refuse_task BEFORE INSERT ON resources"
                 " WHEN NEW.type = 'Task' BEGIN SELECT RAISE (ABORT, 'refused by the test'); END");
  body = parameters (lines, signing_key, NULL);
  failed = post ("/fhir/MedicationRequest/$sign", doctor_token, body);
  exec_on_store ("DROP TRIGGER test_refuse_task");
  wz_test_assert_outcome (failed, 503);
  g_assert_true (outcome_mentions (failed, "refused by the test"));

  read = wz_test_request (server, "GET", path, doctor_token, NULL, NULL);
  g_assert_cmpuint (read->status, ==, 200);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (object (read),
                                                                                 "meta"),
                                                  "versionId"), ==, "1");
  g_assert_false (outcome_mentions (read, "\"code\":\"signed\""));
  g_assert_cmpint (count_on_store ("SELECT count(*) FROM resources WHERE type = 'Provenance'"),
                   ==, provenances);
  g_assert_cmpint (count_on_store ("SELECT count(*) FROM history"), ==, versions);
  g_assert_cmpint (count_on_store ("SELECT count(*) FROM resources WHERE type = 'Task'"), ==,
                   tasks);

  signed_response = post ("/fhir/MedicationRequest/$sign", doctor_token, body);
  g_assert_cmpuint (signed_response->status, ==, 200);
  g_assert_true (outcome_mentions (signed_response, "\"code\":\"signed\""));
  g_assert_cmpint (count_on_store ("SELECT count(*) FROM resources WHERE type = 'Provenance'"),
                   ==, provenances + 1);

  /* Cancelled again, so the later tests start from this patient's usual medicines. The line and
   * its review Task close together. */
  g_free (path);
  path = g_strdup_printf ("/fhir/MedicationRequest/%s/$cancel", id);
  cancelled = post (path, doctor_token, "{\"resourceType\":\"Parameters\",\"parameter\":[{"
                                        "\"name\":\"reason\",\"valueString\":\"test done\"}]}");
  g_assert_cmpuint (cancelled->status, ==, 200);
  g_assert_nonnull (bundle_resource (cancelled, "Task", 0));
  g_assert_cmpstr (json_object_get_string_member (bundle_resource (cancelled, "Task", 0),
                                                  "status"), ==, "cancelled");
}

static void
test_stale_draft (void)
{
  g_autoptr(GPtrArray) lines = nodes_new ();
  g_autoptr(WzTestResponse) update = NULL;
  g_autoptr(WzTestResponse) response = NULL;
  g_autofree char *amlodipine = draft (patient_ref, encounter_ref, condition_ref, "WZ0001", 5, "qd",
                                       28);
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  g_autofree char *body = NULL;
  JsonObject *line;

  g_ptr_array_add (lines, save_draft (amlodipine));
  line = json_node_get_object (g_ptr_array_index (lines, 0));

  /* Another window saves the same draft (version 2) … */
  path = g_strdup_printf ("/fhir/MedicationRequest/%s", json_object_get_string_member (line, "id"));
  text = json_to_string (g_ptr_array_index (lines, 0), FALSE);
  update = wz_test_request (server, "PUT", path, doctor_token, g_bytes_new (text, strlen (text)),
                            "If-Match", "W/\"1\"", NULL);
  g_assert_cmpuint (update->status, ==, 200);

  /* … and signing version 1 is refused rather than overwriting it. */
  body = parameters (lines, signing_key, NULL);
  response = post ("/fhir/MedicationRequest/$sign", doctor_token, body);
  wz_test_assert_outcome (response, 412);
  g_assert_true (outcome_mentions (response, "reload"));
}

/* Signs LINES (after saving them) and expects 422 naming RULE. */
static void
assert_rule (const char *rule,
             const char *first,
             ...)
{
  g_autoptr(GPtrArray) lines = nodes_new ();
  g_autoptr(WzTestResponse) response = NULL;
  g_autofree char *body = NULL;
  g_autofree char *needle = g_strdup_printf ("\"code\":\"%s\"", rule);
  va_list args;

  va_start (args, first);
  for (const char *json = first; json != NULL; json = va_arg (args, const char *))
    g_ptr_array_add (lines, save_draft (json));
  va_end (args);

  body = parameters (lines, signing_key, NULL);
  response = post ("/fhir/MedicationRequest/$sign", doctor_token, body);
  wz_test_assert_outcome (response, 422);
  if (!outcome_mentions (response, needle))
    g_error ("expected %s in %s", rule, (char *) g_bytes_get_data (response->body, NULL));
}

static void
test_rules (void)
{
  g_autofree char *child_line = draft (child_ref, child_encounter_ref, child_condition_ref,
                                       "WZ0131", 100, "tid", 3);
  g_autofree char *morphine = draft (patient_ref, encounter_ref, condition_ref, "WZ0150", 30, "bid",
                                     3);
  g_autofree char *long_course = draft (patient_ref, encounter_ref, condition_ref, "WZ0188", 500,
                                        "qd", 10);
  g_autofree char *first_visit_condition = NULL;
  g_autofree char *first_visit = NULL;
  g_autofree char *condition = NULL;
  g_autofree char *now = today ();

  assert_rule ("guardian-required", child_line, NULL);
  assert_rule ("controlled-substance", morphine, NULL);
  assert_rule ("duration-exceeded", long_course, NULL);

  /* A condition first recorded in today's visit: a first diagnosis, not a follow-up. */
  condition = g_strdup_printf (
    "{\"resourceType\":\"Condition\",\"code\":{\"coding\":[{\"system\":"
    "\"http://hl7.org/fhir/sid/icd-10\",\"code\":\"J20.9\"}]},\"subject\":{\"reference\":\"%s\"},"
    "\"encounter\":{\"reference\":\"%s\"},\"recordedDate\":\"%s\"}", patient_ref, encounter_ref,
    now);
  first_visit_condition = create ("Condition", condition);
  first_visit = draft (patient_ref, encounter_ref, first_visit_condition, "WZ0188", 500, "qd", 3);
  assert_rule ("followup-required", first_visit, NULL);
}

static void
test_override_duration (void)
{
  g_autoptr(GPtrArray) lines = nodes_new ();
  g_autoptr(WzTestResponse) response = NULL;
  g_autofree char *long_course = draft (patient_ref, encounter_ref, condition_ref, "WZ0188", 250,
                                        "qd", 10);
  g_autofree char *body = NULL;

  g_ptr_array_add (lines, save_draft (long_course));
  body = parameters (lines, signing_key, "duration-exceeded:WZ0188",
                     "Patient travels to a remote area for ten days", NULL);
  response = post ("/fhir/MedicationRequest/$sign", doctor_token, body);
  g_assert_cmpuint (response->status, ==, 200);
}

static void
test_reject_and_cancel (void)
{
  g_autoptr(GPtrArray) lines = nodes_new ();
  g_autoptr(GPtrArray) lines2 = nodes_new ();
  g_autoptr(WzTestResponse) signed1 = NULL;
  g_autoptr(WzTestResponse) signed2 = NULL;
  g_autoptr(WzTestResponse) rejected = NULL;
  g_autoptr(WzTestResponse) no_reason = NULL;
  g_autoptr(WzTestResponse) cancelled = NULL;
  g_autoptr(WzTestResponse) task = NULL;
  g_autoptr(WzTestResponse) delete = NULL;
  g_autofree char *line1 = draft (patient_ref, encounter_ref, condition_ref, "WZ0067", 500, "tid", 30);
  g_autofree char *line2 = draft (patient_ref, encounter_ref, condition_ref, "WZ0001", 5, "qd", 30);
  g_autofree char *body = NULL;
  g_autofree char *task1 = NULL;
  g_autofree char *task2 = NULL;
  g_autofree char *path = NULL;
  JsonObject *request;

  g_ptr_array_add (lines, save_draft (line1));
  body = parameters (lines, signing_key, NULL);
  signed1 = post ("/fhir/MedicationRequest/$sign", doctor_token, body);
  g_assert_cmpuint (signed1->status, ==, 200);
  task1 = signed_task (signed1);

  path = g_strdup_printf ("/fhir/Task/%s/$reject", task1);
  rejected = post (path, pharmacist_token, "{\"resourceType\":\"Parameters\",\"parameter\":[{"
                   "\"name\":\"reason\",\"valueString\":\"二甲双胍剂量请按肾功能调整\"}]}");
  g_assert_cmpuint (rejected->status, ==, 200);
  g_assert_cmpstr (json_object_get_string_member (bundle_resource (rejected, "Task", 0), "status"),
                   ==, "rejected");
  request = bundle_resource (rejected, "MedicationRequest", 0);
  g_assert_cmpstr (json_object_get_string_member (request, "status"), ==, "cancelled");
  g_assert_true (outcome_mentions (rejected, "二甲双胍剂量请按肾功能调整"));

  /* A signed, pending prescription the doctor withdraws: cancelled, and its review closed. */
  g_ptr_array_add (lines2, save_draft (line2));
  g_clear_pointer (&body, g_free);
  body = parameters (lines2, signing_key, NULL);
  signed2 = post ("/fhir/MedicationRequest/$sign", doctor_token, body);
  g_assert_cmpuint (signed2->status, ==, 200);
  task2 = signed_task (signed2);
  request = bundle_resource (signed2, "MedicationRequest", 0);

  g_clear_pointer (&path, g_free);
  path = g_strdup_printf ("/fhir/MedicationRequest/%s", json_object_get_string_member (request, "id"));
  delete = wz_test_request (server, "DELETE", path, doctor_token, NULL, NULL);
  wz_test_assert_outcome (delete, 409);

  g_clear_pointer (&path, g_free);
  path = g_strdup_printf ("/fhir/MedicationRequest/%s/$cancel",
                          json_object_get_string_member (request, "id"));
  no_reason = post (path, doctor_token, "{\"resourceType\":\"Parameters\"}");
  wz_test_assert_outcome (no_reason, 400);
  cancelled = post (path, doctor_token, "{\"resourceType\":\"Parameters\",\"parameter\":[{"
                    "\"name\":\"reason\",\"valueString\":\"Wrong patient selected\"}]}");
  g_assert_cmpuint (cancelled->status, ==, 200);
  g_assert_cmpstr (json_object_get_string_member (bundle_resource (cancelled, "MedicationRequest", 0),
                                                  "status"), ==, "cancelled");

  g_clear_pointer (&path, g_free);
  path = g_strdup_printf ("/fhir/Task/%s", task2);
  task = wz_test_request (server, "GET", path, doctor_token, NULL, NULL);
  g_assert_cmpuint (task->status, ==, 200);
  g_assert_cmpstr (json_object_get_string_member (object (task), "status"), ==, "cancelled");
}

static void
test_generic_guards (void)
{
  g_autofree char *line = draft (patient_ref, encounter_ref, condition_ref, "WZ0001", 5, "qd", 30);
  g_auto(GStrv) parts = g_strsplit (line, "\"status\":\"draft\"", 2);
  g_autofree char *active = g_strjoinv ("\"status\":\"active\"", parts);
  g_autofree char *task = g_strdup_printf (
    "{\"resourceType\":\"Task\",\"status\":\"completed\",\"intent\":\"order\",\"code\":{\"coding\":"
    "[{\"system\":\"http://hl7.org/fhir/CodeSystem/task-code\",\"code\":\"approve\"}]},"
    "\"for\":{\"reference\":\"%s\"}}", patient_ref);
  g_autoptr(WzTestResponse) create_active = NULL;
  g_autoptr(WzTestResponse) create_task = NULL;

  /* Straight to active, past the pharmacist: refused. */
  create_active = post ("/fhir/MedicationRequest", doctor_token, active);
  wz_test_assert_outcome (create_active, 422);
  g_assert_true (outcome_mentions (create_active, "$sign"));

  create_task = post ("/fhir/Task", doctor_token, task);
  wz_test_assert_outcome (create_task, 422);
}

static void
test_import (void)
{
  g_autofree char *good_path = g_build_filename (server->data_dir, "good.csv", NULL);
  g_autofree char *bad_path = g_build_filename (server->data_dir, "bad.csv", NULL);
  g_autofree char *source = g_build_filename (g_getenv ("WZ_DATA_DIR"), "clinical",
                                              "formulary.csv", NULL);
  g_autofree char *contents = NULL;
  g_autofree char *out = NULL;
  g_autofree char *bad = NULL;
  g_autoptr(WzTestResponse) after_good = NULL;
  g_autoptr(WzTestResponse) after_bad = NULL;
  g_auto(GStrv) lines = NULL;
  int status;

  /* The first ten products only. */
  g_assert_true (g_file_get_contents (source, &contents, NULL, NULL));
  lines = g_strsplit (contents, "\r\n", 12);
  g_free (lines[11]);
  lines[11] = NULL;
  g_clear_pointer (&contents, g_free);
  contents = g_strjoinv ("\r\n", lines);
  g_assert_true (g_file_set_contents (good_path, contents, -1, NULL));

  status = wz_test_run_cli (NULL, &out, "formulary", "import", "--data-dir", server->data_dir,
                            good_path, NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (out, "Imported 10 products"));
  g_assert_nonnull (strstr (out, "10 added"));

  /* The running server picks it up. */
  after_good = wz_test_request (server, "GET", "/formulary?q=wz&_count=50", doctor_token, NULL, NULL);
  g_assert_cmpint (json_object_get_int_member (object (after_good), "total"), ==, 10);
  g_assert_false (json_object_get_boolean_member (object (after_good), "sample"));

  /* A bad enum on line 12: nothing changes. */
  bad = g_strdup_printf ("%s\r\nWZ9001,x,甲,,j,C08CA01,tablet,5,mg,oral,5,10,mg,,,18,none,"
                         "sometimes,safe,no,,yes\r\n", contents);
  g_free (bad_path);
  bad_path = g_build_filename (server->data_dir, "bad.csv", NULL);
  g_assert_true (g_file_set_contents (bad_path, bad, -1, NULL));
  g_clear_pointer (&out, g_free);
  status = wz_test_run_cli (NULL, &out, "formulary", "import", "--data-dir", server->data_dir,
                            bad_path, NULL);
  g_assert_cmpint (status, ==, 1);
  after_bad = wz_test_request (server, "GET", "/formulary?q=wz&_count=50", doctor_token, NULL, NULL);
  g_assert_cmpint (json_object_get_int_member (object (after_bad), "total"), ==, 10);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *child_birth = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autoptr(GDateTime) three = g_date_time_add_years (now, -3);
  g_autofree char *allergy = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

  server = wz_test_server_new ();
  wz_test_server_add_user (server, "doctor1", PASSWORD, "doctor");
  wz_test_server_add_user (server, "doctor2", PASSWORD, "doctor");
  wz_test_server_add_user (server, "pharmacist1", PASSWORD, "pharmacist");
  wz_test_server_start (server);
  doctor_token = wz_test_server_login_full (server, "doctor1", PASSWORD, &doctor_ref);
  doctor2_token = wz_test_server_login_full (server, "doctor2", PASSWORD, &doctor2_ref);
  pharmacist_token = wz_test_server_login (server, "pharmacist1", PASSWORD);

  if (!wz_signing_key_generate (PASSPHRASE, &public_key, &protected_key, &error) ||
      (signing_key = wz_signing_key_unlock (protected_key, PASSPHRASE, &error)) == NULL)
    g_error ("%s", error->message);

  make_patient ("1970-04-02", "2023-06-01", &patient_ref, &encounter_ref, &condition_ref);
  allergy = g_strdup_printf ("{\"resourceType\":\"AllergyIntolerance\",\"code\":{\"coding\":[{"
                             "\"system\":\"http://snomed.info/sct\",\"code\":\"764146007\"}],"
                             "\"text\":\"青霉素 Penicillin\"},\"patient\":{\"reference\":\"%s\"}}",
                             patient_ref);
  g_free (create ("AllergyIntolerance", allergy));
  child_birth = g_date_time_format (three, "%Y-%m-%d");
  make_patient (child_birth, "2024-01-10", &child_ref, &child_encounter_ref, &child_condition_ref);

  g_test_add_func ("/rx/api/formulary-search", test_formulary_search);
  g_test_add_func ("/rx/api/check", test_check);
  g_test_add_func ("/rx/api/register-key", test_register_key);
  g_test_add_func ("/rx/api/sign-all-or-nothing", test_sign_all_or_nothing);
  g_test_add_func ("/rx/api/sign-and-approve", test_sign_and_approve);
  g_test_add_func ("/rx/api/signature-tamper", test_signature_tamper);
  g_test_add_func ("/rx/api/stale-draft", test_stale_draft);
  g_test_add_func ("/rx/api/rules", test_rules);
  g_test_add_func ("/rx/api/override-duration", test_override_duration);
  g_test_add_func ("/rx/api/reject-and-cancel", test_reject_and_cancel);
  g_test_add_func ("/rx/api/generic-guards", test_generic_guards);
  g_test_add_func ("/rx/api/import", test_import);

  status = g_test_run ();

  g_assert_cmpint (wz_test_server_stop (server), ==, 0);
  wz_signing_key_free (signing_key);
  wz_test_rm_rf (server->data_dir);
  wz_test_server_free (server);
  g_free (doctor_token);
  g_free (doctor2_token);
  g_free (pharmacist_token);
  g_free (doctor_ref);
  g_free (doctor2_ref);
  g_free (public_key);
  g_free (protected_key);
  g_free (patient_ref);
  g_free (encounter_ref);
  g_free (condition_ref);
  g_free (child_ref);
  g_free (child_encounter_ref);
  g_free (child_condition_ref);
  return status;
}
