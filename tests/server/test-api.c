/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "wz-test-util.h"

/* The FHIR API over real HTTP against a wenzhen-server process, as the app and scripts use it. */

#define PASSWORD "correct horse battery"

static WzTestServer *server;
static char *doctor;
static char *doctor_ref;   /* "Practitioner/ID" of doctor */
static char *pharmacist;
static char *admin;

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

static const char *
header (WzTestResponse *response,
        const char     *name)
{
  return soup_message_headers_get_one (response->headers, name);
}

static JsonObject *
object (WzTestResponse *response)
{
  g_assert_nonnull (response->json);
  return json_node_get_object (response->json);
}

static const char *
version_of (WzTestResponse *response)
{
  return json_object_get_string_member (json_object_get_object_member (object (response), "meta"),
                                        "versionId");
}

static char *
create_patient (const char *family,
                const char *given)
{
  /* The doctor registers the patient as their own, so the care-team rule lets them see it. */
  g_autoptr(GBytes) body = json_bytes ("{\"resourceType\":\"Patient\",\"active\":true,"
                                       "\"name\":[{\"family\":\"%s\",\"given\":[\"%s\"]}],"
                                       "\"generalPractitioner\":[{\"reference\":\"%s\"}]}",
                                       family, given, doctor_ref);
  g_autoptr(WzTestResponse) response = wz_test_request (server, "POST", "/fhir/Patient", doctor,
                                                        body, NULL);

  g_assert_cmpuint (response->status, ==, 201);
  return g_strdup (wz_test_member (response, "id"));
}

static void
test_metadata (void)
{
  g_autoptr(WzTestResponse) response = wz_test_request_text (server, "GET", "/fhir/metadata",
                                                             NULL, NULL);
  JsonArray *resources;
  gboolean found_family = FALSE;

  g_assert_cmpuint (response->status, ==, 200);
  g_assert_cmpstr (header (response, "Content-Type"), ==, "application/fhir+json");
  g_assert_cmpstr (wz_test_member (response, "resourceType"), ==, "CapabilityStatement");
  g_assert_cmpstr (wz_test_member (response, "fhirVersion"), ==, "4.0.1");

  resources = json_object_get_array_member (
    json_array_get_object_element (json_object_get_array_member (object (response), "rest"), 0),
    "resource");
  g_assert_cmpuint (json_array_get_length (resources), ==, 26);
  for (guint i = 0; i < json_array_get_length (resources); i++)
    {
      JsonObject *resource = json_array_get_object_element (resources, i);
      JsonArray *params = json_object_get_array_member (resource, "searchParam");

      if (g_strcmp0 (json_object_get_string_member (resource, "type"), "Patient") != 0)
        continue;
      g_assert_false (json_object_get_boolean_member (resource, "updateCreate"));
      for (guint p = 0; p < json_array_get_length (params); p++)
        found_family |= g_strcmp0 (json_object_get_string_member (
                                     json_array_get_object_element (params, p), "name"),
                                   "family") == 0;
    }
  g_assert_true (found_family);
}

static void
test_unauthorized (void)
{
  g_autoptr(WzTestResponse) none = wz_test_request_text (server, "GET", "/fhir/Patient", NULL, NULL);
  g_autoptr(WzTestResponse) bad = wz_test_request_text (server, "GET", "/fhir/Patient",
                                                        "not-a-real-token", NULL);

  g_assert_nonnull (strstr (wz_test_assert_outcome (none, 401), "Authorization"));
  g_assert_nonnull (strstr (header (none, "WWW-Authenticate"), "Bearer"));
  g_assert_nonnull (strstr (wz_test_assert_outcome (bad, 401), "sign in again"));
}

static void
test_create_read_update (void)
{
  g_autoptr(GBytes) body = json_bytes ("{\"resourceType\":\"Patient\",\"gender\":\"female\","
                                       "\"name\":[{\"family\":\"陈\",\"given\":[\"静\"]}],"
                                       "\"generalPractitioner\":[{\"reference\":\"%s\"}]}",
                                       doctor_ref);
  g_autoptr(WzTestResponse) created = wz_test_request (server, "POST", "/fhir/Patient", doctor,
                                                       body, NULL);
  g_autoptr(WzTestResponse) read = NULL;
  g_autoptr(WzTestResponse) updated = NULL;
  g_autoptr(WzTestResponse) stale = NULL;
  g_autoptr(WzTestResponse) missing = NULL;
  g_autoptr(WzTestResponse) after = NULL;
  g_autoptr(WzTestResponse) nonexistent = NULL;
  g_autoptr(GBytes) change = NULL;
  g_autoptr(GBytes) ghost = NULL;
  g_autofree char *path = NULL;
  g_autofree char *location_suffix = NULL;
  const char *id;

  g_assert_cmpuint (created->status, ==, 201);
  id = wz_test_member (created, "id");
  location_suffix = g_strdup_printf ("/fhir/Patient/%s/_history/1", id);
  g_assert_true (g_str_has_prefix (header (created, "Location"), server->url));
  g_assert_true (g_str_has_suffix (header (created, "Location"), location_suffix));
  g_assert_cmpstr (header (created, "ETag"), ==, "W/\"1\"");

  path = g_strdup_printf ("/fhir/Patient/%s", id);
  read = wz_test_request_text (server, "GET", path, doctor, NULL);
  g_assert_cmpuint (read->status, ==, 200);
  g_assert_cmpstr (header (read, "ETag"), ==, "W/\"1\"");
  g_assert_nonnull (header (read, "Last-Modified"));
  g_assert_true (g_bytes_equal (read->body, created->body));

  change = json_bytes ("{\"resourceType\":\"Patient\",\"id\":\"%s\",\"gender\":\"female\","
                       "\"birthDate\":\"1992-11-23\",\"name\":[{\"family\":\"陈\",\"given\":[\"静\"]}],"
                       "\"generalPractitioner\":[{\"reference\":\"%s\"}]}",
                       id, doctor_ref);
  updated = wz_test_request (server, "PUT", path, doctor, change, "If-Match", "W/\"1\"", NULL);
  g_assert_cmpuint (updated->status, ==, 200);
  g_assert_cmpstr (header (updated, "ETag"), ==, "W/\"2\"");
  g_assert_cmpstr (version_of (updated), ==, "2");
  g_assert_cmpstr (wz_test_member (updated, "birthDate"), ==, "1992-11-23");

  /* Another client still on version 1: refused, never a silent overwrite. */
  stale = wz_test_request (server, "PUT", path, doctor, change, "If-Match", "W/\"1\"", NULL);
  g_assert_nonnull (strstr (wz_test_assert_outcome (stale, 412), "version 2"));
  missing = wz_test_request (server, "PUT", path, doctor, change, NULL);
  g_assert_nonnull (strstr (wz_test_assert_outcome (missing, 428), "If-Match"));

  after = wz_test_request_text (server, "GET", path, doctor, NULL);
  g_assert_cmpstr (version_of (after), ==, "2");
  g_assert_true (g_bytes_equal (after->body, updated->body));

  ghost = json_bytes ("{\"resourceType\":\"Patient\",\"id\":\"no-such-patient\"}");
  nonexistent = wz_test_request (server, "PUT", "/fhir/Patient/no-such-patient", doctor, ghost,
                                 "If-Match", "W/\"1\"", NULL);
  wz_test_assert_outcome (nonexistent, 404);
}

static void
test_history_vread (void)
{
  g_autofree char *id = create_patient ("黄", "小明");
  g_autofree char *path = g_strdup_printf ("/fhir/Patient/%s", id);
  g_autofree char *history_path = g_strdup_printf ("/fhir/Patient/%s/_history", id);
  g_autofree char *v1_path = g_strdup_printf ("/fhir/Patient/%s/_history/1", id);
  g_autofree char *v9_path = g_strdup_printf ("/fhir/Patient/%s/_history/9", id);
  g_autoptr(GBytes) change = json_bytes ("{\"resourceType\":\"Patient\",\"id\":\"%s\","
                                         "\"active\":false,"
                                         "\"generalPractitioner\":[{\"reference\":\"%s\"}]}",
                                         id, doctor_ref);
  g_autoptr(WzTestResponse) updated = wz_test_request (server, "PUT", path, doctor, change,
                                                       "If-Match", "W/\"1\"", NULL);
  g_autoptr(WzTestResponse) history = wz_test_request_text (server, "GET", history_path, doctor,
                                                            NULL);
  g_autoptr(WzTestResponse) v1 = wz_test_request_text (server, "GET", v1_path, doctor, NULL);
  g_autoptr(WzTestResponse) v9 = wz_test_request_text (server, "GET", v9_path, doctor, NULL);
  JsonArray *entries;
  JsonObject *newest;

  g_assert_cmpuint (updated->status, ==, 200);
  g_assert_cmpuint (history->status, ==, 200);
  g_assert_cmpstr (wz_test_member (history, "type"), ==, "history");
  g_assert_cmpint (json_object_get_int_member (object (history), "total"), ==, 2);
  entries = json_object_get_array_member (object (history), "entry");
  g_assert_cmpuint (json_array_get_length (entries), ==, 2);
  newest = json_object_get_object_member (json_array_get_object_element (entries, 0), "resource");
  g_assert_false (json_object_get_boolean_member (newest, "active"));
  g_assert_cmpstr (json_object_get_string_member (
                     json_object_get_object_member (json_array_get_object_element (entries, 1),
                                                   "request"), "method"), ==, "POST");

  g_assert_cmpuint (v1->status, ==, 200);
  g_assert_cmpstr (version_of (v1), ==, "1");
  g_assert_cmpstr (header (v1, "ETag"), ==, "W/\"1\"");
  g_assert_true (json_object_get_boolean_member (object (v1), "active"));
  wz_test_assert_outcome (v9, 404);
}

static void
test_search_paging (void)
{
  const char *families[] = { "Pgf", "Pgb", "Pgg", "Pga", "Pge", "Pgc", "Pgd" };
  g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *path = g_strdup ("/fhir/Patient?family=pg&_count=3&_sort=family");
  guint pages = 0;

  for (guint i = 0; i < G_N_ELEMENTS (families); i++)
    g_free (create_patient (families[i], "Paging"));

  while (path != NULL)
    {
      g_autoptr(WzTestResponse) page = wz_test_request_text (server, "GET", path, doctor, NULL);
      JsonArray *entries, *links;

      g_clear_pointer (&path, g_free);
      g_assert_cmpuint (page->status, ==, 200);
      g_assert_cmpstr (wz_test_member (page, "type"), ==, "searchset");
      g_assert_cmpint (json_object_get_int_member (object (page), "total"), ==, 7);
      entries = json_object_get_array_member (object (page), "entry");
      for (guint i = 0; i < json_array_get_length (entries); i++)
        {
          JsonObject *resource = json_object_get_object_member (
            json_array_get_object_element (entries, i), "resource");

          g_ptr_array_add (seen, g_strdup (wz_test_family (resource)));
        }

      links = json_object_get_array_member (object (page), "link");
      for (guint i = 0; i < json_array_get_length (links); i++)
        {
          JsonObject *link = json_array_get_object_element (links, i);

          if (g_strcmp0 (json_object_get_string_member (link, "relation"), "next") == 0)
            {
              const char *url = json_object_get_string_member (link, "url");

              g_assert_true (g_str_has_prefix (url, server->url));
              path = g_strdup (url + strlen (server->url));
            }
        }
      pages++;
      g_assert_cmpuint (pages, <=, 3);
    }

  g_assert_cmpuint (pages, ==, 3);
  g_assert_cmpuint (seen->len, ==, 7);
  for (guint i = 0; i < seen->len; i++)
    {
      g_autofree char *expected = g_strdup_printf ("Pg%c", 'a' + i);

      g_assert_cmpstr (g_ptr_array_index (seen, i), ==, expected);
    }
}

static void
test_conditional_create (void)
{
  g_autofree char *patient = create_patient ("刘", "洋");
  g_autoptr(GBytes) body = json_bytes (
    "{\"resourceType\":\"Flag\",\"status\":\"active\","
    "\"identifier\":[{\"system\":\"urn:ietf:rfc:3986\",\"value\":\"urn:uuid:4f1c2a9e-0000-4000-8000-000000000001\"}],"
    "\"subject\":{\"reference\":\"Patient/%s\"},"
    "\"code\":{\"text\":\"请复诊\"}}", patient);
  const char *condition = "identifier=urn:uuid:4f1c2a9e-0000-4000-8000-000000000001";
  g_autoptr(WzTestResponse) first = wz_test_request (server, "POST", "/fhir/Flag", doctor,
                                                     body, "If-None-Exist", condition, NULL);
  g_autoptr(WzTestResponse) retry = wz_test_request (server, "POST", "/fhir/Flag", doctor,
                                                     body, "If-None-Exist", condition, NULL);
  g_autofree char *search_path = g_strdup_printf ("/fhir/Flag?%s", condition);
  g_autoptr(WzTestResponse) found = wz_test_request_text (server, "GET", search_path, doctor, NULL);

  g_assert_cmpuint (first->status, ==, 201);
  g_assert_cmpuint (retry->status, ==, 200);
  g_assert_cmpstr (wz_test_member (retry, "id"), ==, wz_test_member (first, "id"));
  g_assert_cmpint (json_object_get_int_member (object (found), "total"), ==, 1);
}

static void
test_roles (void)
{
  g_autofree char *id = create_patient ("赵", "丽");
  g_autofree char *path = g_strdup_printf ("/fhir/Patient/%s", id);
  g_autoptr(GBytes) patient = json_bytes ("{\"resourceType\":\"Patient\"}");
  g_autoptr(GBytes) practitioner = json_bytes ("{\"resourceType\":\"Practitioner\","
                                               "\"name\":[{\"text\":\"孙医生\"}]}");
  g_autoptr(WzTestResponse) pharmacist_read = wz_test_request_text (server, "GET", path,
                                                                    pharmacist, NULL);
  g_autoptr(WzTestResponse) pharmacist_write = wz_test_request (server, "POST", "/fhir/Patient",
                                                                pharmacist, patient, NULL);
  g_autoptr(WzTestResponse) admin_practitioner = wz_test_request (server, "POST",
                                                                  "/fhir/Practitioner", admin,
                                                                  practitioner, NULL);
  g_autoptr(WzTestResponse) admin_patient = wz_test_request (server, "POST", "/fhir/Patient",
                                                             admin, patient, NULL);
  g_autoptr(WzTestResponse) doctor_audit = wz_test_request_text (server, "GET", "/fhir/AuditEvent",
                                                                 doctor, NULL);

  /* The pharmacist is on no care team yet: the doctor's patient does not exist for them. */
  wz_test_assert_outcome (pharmacist_read, 404);
  g_assert_nonnull (strstr (wz_test_assert_outcome (pharmacist_write, 403), "pharmacist"));
  g_assert_cmpuint (admin_practitioner->status, ==, 201);
  wz_test_assert_outcome (admin_patient, 403);
  wz_test_assert_outcome (doctor_audit, 403);
}

static void
test_delete_is_a_version (void)
{
  g_autofree char *patient = create_patient ("王", "浩然");
  g_autoptr(GBytes) body = json_bytes ("{\"resourceType\":\"Observation\",\"status\":\"final\","
                                       "\"code\":{\"text\":\"体温 Body temperature\"},"
                                       "\"subject\":{\"reference\":\"Patient/%s\"},"
                                       "\"valueQuantity\":{\"value\":37.8,\"unit\":\"Cel\"}}",
                                       patient);
  g_autoptr(WzTestResponse) created = wz_test_request (server, "POST", "/fhir/Observation", doctor,
                                                       body, NULL);
  g_autofree char *path = g_strdup_printf ("/fhir/Observation/%s", wz_test_member (created, "id"));
  g_autofree char *v1 = g_strdup_printf ("%s/_history/1", path);
  g_autoptr(WzTestResponse) deleted = wz_test_request_text (server, "DELETE", path, doctor, NULL);
  g_autoptr(WzTestResponse) read = wz_test_request_text (server, "GET", path, doctor, NULL);
  g_autoptr(WzTestResponse) first = wz_test_request_text (server, "GET", v1, doctor, NULL);

  g_assert_cmpuint (deleted->status, ==, 200);
  g_assert_cmpuint (read->status, ==, 200);
  g_assert_cmpstr (wz_test_member (read, "status"), ==, "entered-in-error");
  g_assert_cmpstr (version_of (read), ==, "2");
  g_assert_cmpstr (wz_test_member (first, "status"), ==, "final");
}

static void
test_method_and_path_errors (void)
{
  g_autoptr(WzTestResponse) patch = wz_test_request_text (server, "PATCH", "/fhir/Patient/x",
                                                          doctor, NULL);
  g_autoptr(WzTestResponse) post_metadata = wz_test_request_text (server, "POST", "/fhir/metadata",
                                                                  doctor, "{}");
  g_autoptr(WzTestResponse) unknown = wz_test_request_text (server, "GET", "/fhir/Spaceship",
                                                            doctor, NULL);
  g_autoptr(WzTestResponse) bad_id = wz_test_request_text (server, "GET",
                                                           "/fhir/Patient/%E7%97%85%E4%BA%BA",
                                                           doctor, NULL);
  g_autoptr(WzTestResponse) absent = wz_test_request_text (server, "GET", "/fhir/Patient/absent",
                                                           doctor, NULL);
  g_autoptr(WzTestResponse) audit_delete = wz_test_request_text (server, "DELETE",
                                                                 "/fhir/Binary/b1", doctor, NULL);

  wz_test_assert_outcome (patch, 405);
  g_assert_cmpstr (header (patch, "Allow"), ==, "GET, PUT, DELETE");
  wz_test_assert_outcome (post_metadata, 405);
  g_assert_nonnull (strstr (wz_test_assert_outcome (unknown, 404), "Spaceship"));
  wz_test_assert_outcome (bad_id, 400);
  wz_test_assert_outcome (absent, 404);
  wz_test_assert_outcome (audit_delete, 404);
}

static void
test_static_files (void)
{
  g_autoptr(WzTestResponse) index = wz_test_request_text (server, "GET", "/", NULL, NULL);
  g_autoptr(WzTestResponse) traversal = wz_test_request_text (server, "GET",
                                                              "/%2e%2e/%2e%2e/etc/passwd", NULL,
                                                              NULL);
  g_autoptr(WzTestResponse) hidden = wz_test_request_text (server, "GET", "/.git/config", NULL,
                                                           NULL);
  g_autoptr(WzTestResponse) missing = wz_test_request_text (server, "GET", "/no-such-file.js",
                                                            NULL, NULL);
  g_autoptr(WzTestResponse) post = wz_test_request_text (server, "POST", "/", NULL, "x");
  g_autoptr(WzTestResponse) cached = NULL;

  g_assert_cmpuint (index->status, ==, 200);
  g_assert_cmpstr (header (index, "Content-Type"), ==, "text/html; charset=utf-8");
  g_assert_cmpstr (header (index, "X-Content-Type-Options"), ==, "nosniff");
  g_assert_cmpstr (header (index, "Cache-Control"), ==, "no-cache");
  g_assert_nonnull (strstr (g_bytes_get_data (index->body, NULL), "<"));
  g_assert_cmpuint (traversal->status, >=, 400);
  g_assert_cmpuint (traversal->status, <, 500);
  g_assert_cmpuint (hidden->status, ==, 404);
  g_assert_cmpuint (missing->status, ==, 404);
  g_assert_cmpuint (post->status, ==, 405);

  cached = wz_test_request (server, "GET", "/", NULL, NULL,
                            "If-None-Match", header (index, "ETag"), NULL);
  g_assert_cmpuint (cached->status, ==, 304);
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);

  server = wz_test_server_new ();
  wz_test_server_add_user (server, "doctor", PASSWORD, "doctor");
  wz_test_server_add_user (server, "pharmacist", PASSWORD, "pharmacist");
  wz_test_server_add_user (server, "admin", PASSWORD, "admin");
  wz_test_server_start (server);
  doctor = wz_test_server_login_full (server, "doctor", PASSWORD, &doctor_ref);
  pharmacist = wz_test_server_login (server, "pharmacist", PASSWORD);
  admin = wz_test_server_login (server, "admin", PASSWORD);

  g_test_add_func ("/api/metadata", test_metadata);
  g_test_add_func ("/api/unauthorized", test_unauthorized);
  g_test_add_func ("/api/create-read-update", test_create_read_update);
  g_test_add_func ("/api/history-vread", test_history_vread);
  g_test_add_func ("/api/search-paging", test_search_paging);
  g_test_add_func ("/api/conditional-create", test_conditional_create);
  g_test_add_func ("/api/roles", test_roles);
  g_test_add_func ("/api/delete-is-a-version", test_delete_is_a_version);
  g_test_add_func ("/api/method-and-path-errors", test_method_and_path_errors);
  g_test_add_func ("/api/static-files", test_static_files);

  status = g_test_run ();

  g_assert_cmpint (wz_test_server_stop (server), ==, 0);
  wz_test_server_free (server);
  g_free (doctor);
  g_free (doctor_ref);
  g_free (pharmacist);
  g_free (admin);

  return status;
}
