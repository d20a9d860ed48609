/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <json-glib/json-glib.h>

#include "wz-bundle.h"
#include "wz-error.h"
#include "wz-outcome.h"

#define STATIC_BYTES(text) g_bytes_new_static (text, sizeof (text) - 1)

static JsonObject *
parse_bytes (GBytes    *bytes,
             JsonNode **out_root)
{
  gsize length;
  const char *data = g_bytes_get_data (bytes, &length);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = g_strndup (data, length);

  *out_root = json_from_string (text, &error);
  g_assert_no_error (error);
  return json_node_get_object (*out_root);
}

static void
test_outcome_for_error (void)
{
  const struct { WzError code; const char *issue; guint status; } cases[] = {
    { WZ_ERROR_INVALID, "invalid", 400 },
    { WZ_ERROR_UNAUTHORIZED, "login", 401 },
    { WZ_ERROR_FORBIDDEN, "forbidden", 403 },
    { WZ_ERROR_NOT_FOUND, "not-found", 404 },
    { WZ_ERROR_METHOD_NOT_ALLOWED, "not-supported", 405 },
    { WZ_ERROR_PRECONDITION_FAILED, "conflict", 412 },
    { WZ_ERROR_TOO_LARGE, "too-long", 413 },
    { WZ_ERROR_UNSUPPORTED_MEDIA, "not-supported", 415 },
    { WZ_ERROR_UNPROCESSABLE, "business-rule", 422 },
    { WZ_ERROR_PRECONDITION_REQUIRED, "required", 428 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = g_error_new (WZ_ERROR, cases[i].code, "Case “%u” \"quoted\"", i);
      g_autoptr(GBytes) bytes = wz_outcome_new_for_error (error);
      g_autoptr(JsonNode) root = NULL;
      JsonObject *outcome = parse_bytes (bytes, &root);
      JsonObject *issue;
      g_autofree char *expected = g_strdup_printf ("Case “%u” \"quoted\"", i);

      g_assert_cmpuint (wz_error_to_http_status (error), ==, cases[i].status);
      g_assert_cmpint (wz_error_from_http_status (cases[i].status), ==, cases[i].code);
      g_assert_cmpstr (json_object_get_string_member (outcome, "resourceType"), ==,
                       "OperationOutcome");
      issue = json_array_get_object_element (json_object_get_array_member (outcome, "issue"), 0);
      g_assert_cmpstr (json_object_get_string_member (issue, "severity"), ==, "error");
      g_assert_cmpstr (json_object_get_string_member (issue, "code"), ==, cases[i].issue);
      g_assert_cmpstr (json_object_get_string_member (issue, "diagnostics"), ==, expected);
    }
}

static void
test_bundle (void)
{
  g_autoptr(WzBundleBuilder) builder = wz_bundle_builder_new ("searchset", 7);
  g_autoptr(GBytes) first = STATIC_BYTES ("{\"resourceType\":\"Patient\",\"id\":\"a\"}");
  g_autoptr(GBytes) second = STATIC_BYTES ("{\"resourceType\":\"Patient\",\"id\":\"b\"}");
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonObject *bundle;
  JsonArray *entries;
  JsonArray *links;

  wz_bundle_builder_add_link (builder, "self", "http://h/fhir/Patient?_count=2&_offset=0");
  wz_bundle_builder_add_link (builder, "next", "http://h/fhir/Patient?_count=2&_offset=2");
  wz_bundle_builder_add_entry (builder, "http://h/fhir/Patient/a", first, "match", NULL, NULL);
  wz_bundle_builder_add_entry (builder, "http://h/fhir/Patient/b", second, "match", NULL, NULL);
  bytes = wz_bundle_builder_end (g_steal_pointer (&builder));

  bundle = parse_bytes (bytes, &root);
  g_assert_cmpstr (json_object_get_string_member (bundle, "type"), ==, "searchset");
  g_assert_cmpint (json_object_get_int_member (bundle, "total"), ==, 7);
  links = json_object_get_array_member (bundle, "link");
  g_assert_cmpuint (json_array_get_length (links), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (links, 1),
                                                  "relation"), ==, "next");
  entries = json_object_get_array_member (bundle, "entry");
  g_assert_cmpuint (json_array_get_length (entries), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (
                     json_object_get_object_member (json_array_get_object_element (entries, 1),
                                                   "resource"), "id"), ==, "b");
}

static void
test_bundle_history_empty (void)
{
  g_autoptr(WzBundleBuilder) builder = wz_bundle_builder_new ("history", -1);
  g_autoptr(GBytes) bytes = wz_bundle_builder_end (g_steal_pointer (&builder));
  g_autoptr(JsonNode) root = NULL;
  JsonObject *bundle = parse_bytes (bytes, &root);

  g_assert_cmpstr (json_object_get_string_member (bundle, "type"), ==, "history");
  /* FHIR JSON has no empty arrays and no total when it is unknown. */
  g_assert_false (json_object_has_member (bundle, "total"));
  g_assert_false (json_object_has_member (bundle, "entry"));
  g_assert_false (json_object_has_member (bundle, "link"));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/outcome/for-error", test_outcome_for_error);
  g_test_add_func ("/bundle/searchset", test_bundle);
  g_test_add_func ("/bundle/history-empty", test_bundle_history_empty);

  return g_test_run ();
}
