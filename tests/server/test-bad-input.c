/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "wz-test-util.h"

#define STATIC_BYTES(text) g_bytes_new_static (text, sizeof (text) - 1)

/* Bad input gets a 4xx OperationOutcome, never a crash, and changes nothing: after every case
 * the server still answers and the patient reads back byte for byte as before. */

#define PASSWORD "correct horse battery"

static WzTestServer *server;
static char *token;
static char *patient_path;
static GBytes *patient_before;

static void
assert_unchanged (void)
{
  g_autoptr(WzTestResponse) read = wz_test_request_text (server, "GET", patient_path, token, NULL);
  g_autoptr(WzTestResponse) search = wz_test_request_text (server, "GET", "/fhir/Patient", token,
                                                           NULL);

  g_assert_cmpuint (read->status, ==, 200);
  g_assert_cmpstr (soup_message_headers_get_one (read->headers, "ETag"), ==, "W/\"1\"");
  g_assert_true (g_bytes_equal (read->body, patient_before));
  /* Nothing was created by any of the refused requests. */
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (search->json), "total"), ==, 1);
}

static void
post_and_expect (const char *path,
                 const char *body,
                 gssize      length,
                 guint       status,
                 const char *needle)
{
  g_autoptr(GBytes) bytes = g_bytes_new (body, length < 0 ? strlen (body) : (gsize) length);
  g_autoptr(WzTestResponse) response = wz_test_request (server, "POST", path, token, bytes, NULL);
  const char *diagnostics = wz_test_assert_outcome (response, status);

  if (needle != NULL && strstr (diagnostics, needle) == NULL)
    g_error ("diagnostics “%s” do not mention “%s”", diagnostics, needle);
  assert_unchanged ();
}

static void
test_malformed_json (void)
{
  post_and_expect ("/fhir/Patient", "{\"resourceType\":\"Patient\",", -1, 400, "Malformed JSON");
  post_and_expect ("/fhir/Patient", "not json at all", -1, 400, "Malformed JSON");
  post_and_expect ("/fhir/Patient", "", 0, 400, "empty");
}

static void
test_wrong_resource_type (void)
{
  post_and_expect ("/fhir/Patient", "{\"resourceType\":\"Starship\"}", -1, 400, "Starship");
  post_and_expect ("/fhir/Patient", "{\"resourceType\":\"Observation\",\"status\":\"final\"}", -1,
                   400, "does not match the URL");
  post_and_expect ("/fhir/Patient", "{\"name\":[]}", -1, 400, "resourceType is missing");
}

static void
test_invalid_utf8 (void)
{
  const char body[] = "{\"resourceType\":\"Patient\",\"name\":[{\"text\":\"\xff\xfe\"}]}";

  post_and_expect ("/fhir/Patient", body, sizeof body - 1, 400, "UTF-8");
}

static void
test_wrong_json_types (void)
{
  post_and_expect ("/fhir/Patient", "{\"resourceType\":\"Patient\",\"id\":123}", -1, 400,
                   "id must be a string");
  post_and_expect ("/fhir/Patient", "{\"resourceType\":\"Patient\",\"meta\":[]}", -1, 400,
                   "meta must be an object");
  post_and_expect ("/fhir/Patient", "{\"resourceType\":[\"Patient\"]}", -1, 400,
                   "resourceType must be a string");
  post_and_expect ("/fhir/Patient", "{\"resourceType\":\"Patient\",\"birthDate\":19510314}", -1,
                   400, "birthDate must be a string");
  post_and_expect ("/fhir/Patient", "{\"resourceType\":\"Patient\",\"gender\":null}", -1, 400,
                   "null");
  post_and_expect ("/fhir/Patient", "[{\"resourceType\":\"Patient\"}]", -1, 400,
                   "must be a JSON object");
}

static void
test_deep_nesting (void)
{
  g_autoptr(GString) body = g_string_new ("{\"resourceType\":\"Patient\",\"extension\":");

  for (guint i = 0; i < 200000; i++)
    g_string_append_c (body, '[');
  post_and_expect ("/fhir/Patient", body->str, body->len, 400, "nested");
}

static void
test_ten_megabytes (void)
{
  gsize size = 10 * 1024 * 1024;
  g_autofree char *body = g_malloc (size);

  /* A syntactically fine resource, just far too big. */
  memset (body, ' ', size);
  memcpy (body, "{\"resourceType\":\"Patient\",\"text\":{\"div\":\"", 41);
  memset (body + 41, 'x', size - 41 - 4);
  memcpy (body + size - 4, "\"}} ", 4);
  post_and_expect ("/fhir/Patient", body, size, 413, "larger than the limit");
}

static void
test_wrong_content_type (void)
{
  g_autofree char *url = g_strconcat (server->url, "/fhir/Patient", NULL);
  g_autoptr(SoupMessage) msg = soup_message_new ("POST", url);
  g_autofree char *authorization = g_strconcat ("Bearer ", token, NULL);
  g_autoptr(GBytes) body = STATIC_BYTES ("<Patient xmlns=\"http://hl7.org/fhir\"/>");
  g_autoptr(GBytes) reply = NULL;
  g_autoptr(GError) error = NULL;

  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                authorization);
  soup_message_set_request_body_from_bytes (msg, "application/fhir+xml", body);
  reply = soup_session_send_and_read (server->session, msg, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (soup_message_get_status (msg), ==, 415);
  g_assert_nonnull (strstr (g_bytes_get_data (reply, NULL), "OperationOutcome"));
  assert_unchanged ();
}

static void
test_bad_updates (void)
{
  g_autoptr(GBytes) other_id = STATIC_BYTES ("{\"resourceType\":\"Patient\",\"id\":\"x\"}");
  g_autoptr(GBytes) broken = STATIC_BYTES ("{\"resourceType\":");
  g_autoptr(WzTestResponse) mismatch = wz_test_request (server, "PUT", patient_path, token,
                                                        other_id, "If-Match", "W/\"1\"", NULL);
  g_autoptr(WzTestResponse) malformed = wz_test_request (server, "PUT", patient_path, token,
                                                         broken, "If-Match", "W/\"1\"", NULL);
  g_autoptr(WzTestResponse) bad_tag = wz_test_request (server, "PUT", patient_path, token,
                                                       other_id, "If-Match", "version one", NULL);

  g_assert_nonnull (strstr (wz_test_assert_outcome (mismatch, 400), "does not match the URL"));
  wz_test_assert_outcome (malformed, 400);
  g_assert_nonnull (strstr (wz_test_assert_outcome (bad_tag, 400), "If-Match"));
  assert_unchanged ();
}

static void
test_bad_searches (void)
{
  const char *paths[] = {
    "/fhir/Patient?colour=blue", "/fhir/Patient?_count=-1", "/fhir/Patient?_sort=shoe-size",
    "/fhir/Patient?birthdate=sometime", "/fhir/Appointment?patient=%00",
    "/fhir/Patient/%2e%2e/_history",
  };

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autoptr(WzTestResponse) response = wz_test_request_text (server, "GET", paths[i], token,
                                                                 NULL);

      g_assert_cmpuint (response->status, >=, 400);
      g_assert_cmpuint (response->status, <, 500);
    }
  assert_unchanged ();
}

static void
test_bad_if_none_exist (void)
{
  g_autoptr(GBytes) body = STATIC_BYTES ("{\"resourceType\":\"Patient\"}");
  g_autoptr(WzTestResponse) response = wz_test_request (server, "POST", "/fhir/Patient", token,
                                                        body, "If-None-Exist", "shoe=42", NULL);

  g_assert_nonnull (strstr (wz_test_assert_outcome (response, 400), "If-None-Exist"));
  assert_unchanged ();
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(WzTestResponse) created = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autofree char *doctor_ref = NULL;
  g_autofree char *text = NULL;
  gsize length;
  int status;

  g_test_init (&argc, &argv, NULL);

  server = wz_test_server_new ();
  wz_test_server_add_user (server, "doctor", PASSWORD, "doctor");
  wz_test_server_start (server);
  token = wz_test_server_login_full (server, "doctor", PASSWORD, &doctor_ref);

  /* The doctor's own patient (generalPractitioner), so the care-team rule lets them read it. */
  text = g_strdup_printf ("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"杨\","
                          "\"given\":[\"志强\"]}],\"birthDate\":\"1965-05-09\","
                          "\"generalPractitioner\":[{\"reference\":\"%s\"}]}", doctor_ref);
  length = strlen (text);
  body = g_bytes_new_take (g_steal_pointer (&text), length);
  created = wz_test_request (server, "POST", "/fhir/Patient", token, body, NULL);
  g_assert_cmpuint (created->status, ==, 201);
  patient_path = g_strdup_printf ("/fhir/Patient/%s", wz_test_member (created, "id"));
  patient_before = g_bytes_ref (created->body);

  g_test_add_func ("/bad-input/malformed-json", test_malformed_json);
  g_test_add_func ("/bad-input/wrong-resource-type", test_wrong_resource_type);
  g_test_add_func ("/bad-input/invalid-utf8", test_invalid_utf8);
  g_test_add_func ("/bad-input/wrong-json-types", test_wrong_json_types);
  g_test_add_func ("/bad-input/deep-nesting", test_deep_nesting);
  g_test_add_func ("/bad-input/ten-megabytes", test_ten_megabytes);
  g_test_add_func ("/bad-input/wrong-content-type", test_wrong_content_type);
  g_test_add_func ("/bad-input/bad-updates", test_bad_updates);
  g_test_add_func ("/bad-input/bad-searches", test_bad_searches);
  g_test_add_func ("/bad-input/bad-if-none-exist", test_bad_if_none_exist);

  status = g_test_run ();

  g_assert_cmpint (wz_test_server_stop (server), ==, 0);
  wz_test_server_free (server);
  g_free (token);
  g_free (patient_path);
  g_bytes_unref (patient_before);

  return status;
}
