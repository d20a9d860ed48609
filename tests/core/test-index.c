/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "wz-fhir-index.h"

static gboolean
has_token (WzFhirIndex *index,
           const char  *param,
           const char  *value)
{
  for (guint i = 0; i < index->tokens->len; i++)
    {
      WzFhirToken *token = g_ptr_array_index (index->tokens, i);

      if (strcmp (token->param, param) == 0 && strcmp (token->value, value) == 0)
        return TRUE;
    }

  return FALSE;
}

static WzFhirIndex *
index_json (const char *json,
            const char *id)
{
  g_autoptr(JsonNode) root = json_from_string (json, NULL);

  g_assert_nonnull (root);
  return wz_fhir_index_new (json_node_get_object (root), id);
}

static void
test_patient (void)
{
  g_autoptr(WzFhirIndex) index = index_json (
    "{\"resourceType\":\"Patient\",\"active\":true,\"birthDate\":\"1951-03-14\","
    "\"identifier\":[{\"system\":\"urn:ietf:rfc:3986\",\"value\":\"urn:uuid:1\"}],"
    "\"name\":[{\"family\":\"张\",\"given\":[\"秀英\"]},{\"family\":\"Zhang\",\"given\":[\"Xiuying\"]}]}",
    "p1");

  g_assert_cmpstr (index->patient, ==, "Patient/p1");
  g_assert_cmpstr (index->status, ==, "true");
  g_assert_cmpstr (index->date, ==, "1951-03-14");
  g_assert_cmpstr (index->family, ==, "张");
  g_assert_true (has_token (index, "identifier", "urn:ietf:rfc:3986|urn:uuid:1"));
  g_assert_true (has_token (index, "identifier:value", "urn:uuid:1"));
  g_assert_true (has_token (index, "family", "zhang"));
  g_assert_true (has_token (index, "name", "xiuying"));
  /* Written together, as Chinese names are searched. */
  g_assert_true (has_token (index, "name", "张秀英"));
  g_assert_false (has_token (index, "name", "Zhang"));
}

static void
test_appointment_participants (void)
{
  g_autoptr(WzFhirIndex) index = index_json (
    "{\"resourceType\":\"Appointment\",\"status\":\"booked\",\"start\":\"2024-05-01T09:00:00+08:00\","
    "\"participant\":[{\"actor\":{\"reference\":\"Practitioner/d1\"}},"
    "{\"actor\":{\"reference\":\"Patient/p1\"}},{\"actor\":{\"reference\":\"Practitioner/d2\"}}]}",
    "a1");

  g_assert_cmpstr (index->patient, ==, "Patient/p1");
  g_assert_cmpstr (index->status, ==, "booked");
  /* Normalised to UTC so dates compare as text. */
  g_assert_cmpstr (index->date, ==, "2024-05-01T01:00:00.000Z");
  g_assert_true (has_token (index, "practitioner", "Practitioner/d1"));
  g_assert_true (has_token (index, "practitioner", "Practitioner/d2"));
  g_assert_false (has_token (index, "practitioner", "Patient/p1"));
}

static void
test_condition (void)
{
  g_autoptr(WzFhirIndex) index = index_json (
    "{\"resourceType\":\"Condition\",\"clinicalStatus\":{\"coding\":[{\"code\":\"active\"}]},"
    "\"subject\":{\"reference\":\"http://example.org/fhir/Patient/p9\"},"
    "\"encounter\":{\"reference\":\"Encounter/e1\"},\"recordedDate\":\"2023-06\"}", "c1");

  g_assert_cmpstr (index->patient, ==, "Patient/p9");
  g_assert_cmpstr (index->encounter, ==, "Encounter/e1");
  g_assert_cmpstr (index->status, ==, "active");
  g_assert_cmpstr (index->date, ==, "2023-06");
  g_assert_null (index->family);
}

static void
test_reference (void)
{
  g_autofree char *a = wz_fhir_index_reference ("Patient", "p1");
  g_autofree char *b = wz_fhir_index_reference ("Patient", "Patient/p1/_history/3");
  g_autofree char *c = wz_fhir_index_reference ("Patient", "Practitioner/p1");
  g_autofree char *d = wz_fhir_index_reference ("Patient", "https://h/fhir/Patient/x.1");

  g_assert_cmpstr (a, ==, "Patient/p1");
  g_assert_cmpstr (b, ==, "Patient/p1");
  g_assert_null (c);
  g_assert_cmpstr (d, ==, "Patient/x.1");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/index/patient", test_patient);
  g_test_add_func ("/index/appointment-participants", test_appointment_participants);
  g_test_add_func ("/index/condition", test_condition);
  g_test_add_func ("/index/reference", test_reference);

  return g_test_run ();
}
