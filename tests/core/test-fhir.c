/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "wz-error.h"
#include "wz-fhir.h"

#define PATIENT "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"张\",\"given\":[\"秀英\"]}]," \
                "\"birthDate\":\"1951-03-14\",\"active\":true}"

/* Parses TEXT and asserts it is refused with CODE and a diagnostics text containing NEEDLE. */
static void
assert_refused (const char *text,
                gssize      length,
                const char *expected_type,
                const char *expected_id,
                WzError     code,
                const char *needle)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = wz_fhir_parse_resource (text, length, expected_type, expected_id,
                                                     &error);

  if (root != NULL)
    g_error ("accepted: %.200s", text);
  g_assert_error (error, WZ_ERROR, (int) code);
  if (strstr (error->message, needle) == NULL)
    g_error ("diagnostics “%s” does not mention “%s”", error->message, needle);
}

static void
test_parse_valid (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = wz_fhir_parse_resource (PATIENT, -1, "Patient", NULL, &error);
  JsonObject *object;

  g_assert_no_error (error);
  g_assert_nonnull (root);
  object = json_node_get_object (root);
  g_assert_cmpstr (json_object_get_string_member (object, "resourceType"), ==, "Patient");
  g_assert_cmpstr (json_object_get_string_member (object, "birthDate"), ==, "1951-03-14");
}

static void
test_parse_rejects_structure (void)
{
  assert_refused ("", 0, NULL, NULL, WZ_ERROR_INVALID, "empty");
  assert_refused ("{\"resourceType\":", -1, NULL, NULL, WZ_ERROR_INVALID, "Malformed JSON");
  assert_refused ("[1,2,3]", -1, NULL, NULL, WZ_ERROR_INVALID, "must be a JSON object, not an array");
  assert_refused ("\"Patient\"", -1, NULL, NULL, WZ_ERROR_INVALID, "not a string");
  assert_refused ("{\"id\":\"a\"}", -1, NULL, NULL, WZ_ERROR_INVALID, "resourceType is missing");
}

static void
test_parse_rejects_resource_type (void)
{
  assert_refused ("{\"resourceType\":42}", -1, NULL, NULL, WZ_ERROR_INVALID,
                  "resourceType must be a string, not a number");
  assert_refused ("{\"resourceType\":\"Spaceship\"}", -1, NULL, NULL, WZ_ERROR_INVALID,
                  "not a type this server supports");
  assert_refused ("{\"resourceType\":\"Observation\",\"status\":\"final\"}", -1, "Patient", NULL,
                  WZ_ERROR_INVALID, "does not match the URL, which names Patient");
}

static void
test_parse_rejects_bad_utf8 (void)
{
  const char text[] = "{\"resourceType\":\"Patient\",\"name\":[{\"text\":\"\xc3\x28\"}]}";

  assert_refused (text, sizeof text - 1, NULL, NULL, WZ_ERROR_INVALID, "not valid UTF-8");
}

static void
test_parse_rejects_too_large (void)
{
  gsize size = WZ_FHIR_MAX_RESOURCE_SIZE + 1;
  g_autofree char *text = g_malloc (size);

  memset (text, ' ', size);
  assert_refused (text, size, NULL, NULL, WZ_ERROR_TOO_LARGE, "limit is 1048576 bytes");
}

static void
test_parse_rejects_deep_nesting (void)
{
  g_autoptr(GString) text = g_string_new ("{\"resourceType\":\"Patient\",\"extension\":");

  for (guint i = 0; i < 100000; i++)
    g_string_append_c (text, '[');
  /* Unbalanced on purpose: the depth check must stop it before the parser recurses. */
  assert_refused (text->str, text->len, NULL, NULL, WZ_ERROR_INVALID, "nested more than 64");
}

static void
test_parse_rejects_wrong_types (void)
{
  assert_refused ("{\"resourceType\":\"Patient\",\"id\":7}", -1, NULL, NULL, WZ_ERROR_INVALID,
                  "id must be a string, not a number");
  assert_refused ("{\"resourceType\":\"Patient\",\"meta\":\"v1\"}", -1, NULL, NULL,
                  WZ_ERROR_INVALID, "Patient.meta must be an object, not a string");
  assert_refused ("{\"resourceType\":\"Patient\",\"meta\":{\"versionId\":2}}", -1, NULL, NULL,
                  WZ_ERROR_INVALID, "meta.versionId must be a string");
  assert_refused ("{\"resourceType\":\"Patient\",\"identifier\":{\"value\":\"x\"}}", -1, NULL,
                  NULL, WZ_ERROR_INVALID, "Patient.identifier must be an array");
  assert_refused ("{\"resourceType\":\"Patient\",\"identifier\":[{\"value\":5}]}", -1, NULL, NULL,
                  WZ_ERROR_INVALID, "identifier[0].value must be a string");
  assert_refused ("{\"resourceType\":\"Patient\",\"name\":\"张秀英\"}", -1, NULL, NULL,
                  WZ_ERROR_INVALID, "Patient.name must be an array");
  assert_refused ("{\"resourceType\":\"Patient\",\"active\":[true]}", -1, NULL, NULL,
                  WZ_ERROR_INVALID, "Patient.active must be a single value, not an array");
  assert_refused ("{\"resourceType\":\"Observation\",\"subject\":\"Patient/1\"}", -1, NULL, NULL,
                  WZ_ERROR_INVALID, "Observation.subject must be an object, not a string");
  assert_refused ("{\"resourceType\":\"Observation\",\"subject\":{\"reference\":1}}", -1, NULL,
                  NULL, WZ_ERROR_INVALID, "Observation.subject.reference must be a string");
  assert_refused ("{\"resourceType\":\"Patient\",\"birthDate\":\"14/03/1951\"}", -1, NULL, NULL,
                  WZ_ERROR_INVALID, "not a FHIR date");
  assert_refused ("{\"resourceType\":\"Patient\",\"gender\":null}", -1, NULL, NULL,
                  WZ_ERROR_INVALID, "Patient.gender is null");
}

static void
test_parse_ids (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;

  assert_refused ("{\"resourceType\":\"Patient\",\"id\":\"a/b\"}", -1, NULL, NULL,
                  WZ_ERROR_INVALID, "1 to 64 characters");
  assert_refused ("{\"resourceType\":\"Patient\"}", -1, "Patient", "abc", WZ_ERROR_INVALID,
                  "id is missing");
  assert_refused ("{\"resourceType\":\"Patient\",\"id\":\"xyz\"}", -1, "Patient", "abc",
                  WZ_ERROR_INVALID, "“xyz” does not match the URL");

  root = wz_fhir_parse_resource ("{\"resourceType\":\"Patient\",\"id\":\"abc\"}", -1, "Patient",
                                 "abc", &error);
  g_assert_no_error (error);
  g_assert_nonnull (root);
}

static void
test_id_format (void)
{
  g_autofree char *longest = g_strnfill (64, 'a');
  g_autofree char *too_long = g_strnfill (65, 'a');

  g_assert_true (wz_fhir_id_is_valid ("Patient-1.v2"));
  g_assert_true (wz_fhir_id_is_valid (longest));
  g_assert_false (wz_fhir_id_is_valid (too_long));
  g_assert_false (wz_fhir_id_is_valid (""));
  g_assert_false (wz_fhir_id_is_valid ("a b"));
  g_assert_false (wz_fhir_id_is_valid ("病人"));
  g_assert_false (wz_fhir_id_is_valid ("../etc"));
}

static void
test_supported_types (void)
{
  const char *design[] = {
    "Patient", "Practitioner", "Appointment", "Encounter", "Task", "Condition",
    "AllergyIntolerance", "Observation", "MedicationStatement", "DocumentReference",
    "Communication", "Binary", "MedicationRequest", "Provenance", "DetectedIssue", "CarePlan",
    "ServiceRequest", "Composition", "Immunization", "ImmunizationRecommendation",
    "Questionnaire", "QuestionnaireResponse", "AdverseEvent", "AuditEvent", "Consent",
    "Flag",
  };
  guint n;

  wz_fhir_type_infos (&n);
  g_assert_cmpuint (n, ==, G_N_ELEMENTS (design));
  for (guint i = 0; i < G_N_ELEMENTS (design); i++)
    g_assert_true (wz_fhir_type_is_supported (design[i]));
  g_assert_false (wz_fhir_type_is_supported ("patient"));
  g_assert_false (wz_fhir_type_is_supported ("Bundle"));
}

static void
test_stamp (void)
{
  g_autoptr(JsonNode) root = wz_fhir_parse_resource (
    "{\"resourceType\":\"Patient\",\"gender\":\"male\",\"meta\":{\"versionId\":\"9\","
    "\"tag\":[{\"code\":\"demo\"}]},\"id\":\"old\"}", -1, NULL, NULL, NULL);
  g_autofree char *text = NULL;
  gsize length;

  g_assert_nonnull (root);
  /* 2024-05-01T08:30:00.123Z */
  text = wz_fhir_stamp (json_node_get_object (root), "p1", 3, G_GINT64_CONSTANT (1714552200123000),
                        &length);
  g_assert_cmpuint (strlen (text), ==, length);
  g_assert_cmpstr (text, ==,
                   "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"meta\":{\"versionId\":\"3\","
                   "\"lastUpdated\":\"2024-05-01T08:30:00.123Z\",\"tag\":[{\"code\":\"demo\"}]},"
                   "\"gender\":\"male\"}");
}

static void
test_retire (void)
{
  struct { const char *json; const char *member; const char *expected; } cases[] = {
    { "{\"resourceType\":\"Encounter\",\"status\":\"in-progress\"}", "status", "entered-in-error" },
    { "{\"resourceType\":\"Questionnaire\",\"status\":\"active\"}", "status", "retired" },
  };
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(JsonNode) root = json_from_string (cases[i].json, NULL);

      g_assert_true (wz_fhir_retire (json_node_get_object (root), NULL));
      g_assert_cmpstr (json_object_get_string_member (json_node_get_object (root), cases[i].member),
                       ==, cases[i].expected);
    }

  {
    g_autoptr(JsonNode) root = json_from_string ("{\"resourceType\":\"Patient\",\"active\":true}", NULL);

    g_assert_true (wz_fhir_retire (json_node_get_object (root), NULL));
    g_assert_false (json_object_get_boolean_member (json_node_get_object (root), "active"));
  }
  {
    g_autoptr(JsonNode) root = json_from_string (
      "{\"resourceType\":\"Condition\",\"clinicalStatus\":{\"text\":\"active\"}}", NULL);
    JsonObject *object = json_node_get_object (root);
    JsonObject *verification;

    g_assert_true (wz_fhir_retire (object, NULL));
    g_assert_false (json_object_has_member (object, "clinicalStatus"));
    verification = json_object_get_object_member (object, "verificationStatus");
    g_assert_cmpstr (json_object_get_string_member (
                       json_array_get_object_element (
                         json_object_get_array_member (verification, "coding"), 0), "code"),
                     ==, "entered-in-error");
  }
  {
    g_autoptr(JsonNode) root = json_from_string ("{\"resourceType\":\"AuditEvent\"}", NULL);

    g_assert_false (wz_fhir_retire (json_node_get_object (root), &error));
    g_assert_error (error, WZ_ERROR, WZ_ERROR_METHOD_NOT_ALLOWED);
  }
}

static void
collect (JsonNode *node,
         gpointer  user_data)
{
  g_ptr_array_add (user_data, (gpointer) json_node_get_string (node));
}

static void
test_walk_path (void)
{
  g_autoptr(JsonNode) root = json_from_string (
    "{\"participant\":[{\"actor\":{\"reference\":\"Patient/1\"}},"
    "{\"actor\":{\"reference\":\"Practitioner/2\"}},{\"type\":[]}]}", NULL);
  g_autoptr(GPtrArray) found = g_ptr_array_new ();

  wz_fhir_walk_path (json_node_get_object (root), "participant.actor.reference", collect, found);
  g_assert_cmpuint (found->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (found, 0), ==, "Patient/1");
  g_assert_cmpstr (g_ptr_array_index (found, 1), ==, "Practitioner/2");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/fhir/parse/valid", test_parse_valid);
  g_test_add_func ("/fhir/parse/rejects-structure", test_parse_rejects_structure);
  g_test_add_func ("/fhir/parse/rejects-resource-type", test_parse_rejects_resource_type);
  g_test_add_func ("/fhir/parse/rejects-bad-utf8", test_parse_rejects_bad_utf8);
  g_test_add_func ("/fhir/parse/rejects-too-large", test_parse_rejects_too_large);
  g_test_add_func ("/fhir/parse/rejects-deep-nesting", test_parse_rejects_deep_nesting);
  g_test_add_func ("/fhir/parse/rejects-wrong-types", test_parse_rejects_wrong_types);
  g_test_add_func ("/fhir/parse/ids", test_parse_ids);
  g_test_add_func ("/fhir/id-format", test_id_format);
  g_test_add_func ("/fhir/supported-types", test_supported_types);
  g_test_add_func ("/fhir/stamp", test_stamp);
  g_test_add_func ("/fhir/retire", test_retire);
  g_test_add_func ("/fhir/walk-path", test_walk_path);

  return g_test_run ();
}
