/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "wz-test-util.h"

/* Who may see and change what, over real HTTP against the demo clinic: two doctors with their
 * own patients, a pharmacist, an admin, and a patient who opened a visit link.
 *
 * What a user may not see answers 404 exactly like an id that does not exist, so nobody can
 * probe which ids belong to other doctors' patients; refusals by role or type are 403. */

static WzTestServer *server;
static char *doctor;
static char *doctor_ref;
static char *doctor2;
static char *pharmacist;
static char *admin;
static char *own_patient;      /* "Patient/ID", the doctor's, with a waiting visit */
static char *own_encounter;    /* that visit */
static char *other_patient;    /* doctor2's */
static char *other_encounter;

static JsonObject *
object (WzTestResponse *response)
{
  g_assert_nonnull (response->json);
  return json_node_get_object (response->json);
}

static guint
status_of (const char *method,
           const char *path,
           const char *token,
           const char *body)
{
  g_autoptr(WzTestResponse) response = wz_test_request_text (server, method, path, token, body);

  return response->status;
}

static gint64
total (const char *token,
       const char *path)
{
  g_autoptr(WzTestResponse) response = wz_test_request_text (server, "GET", path, token, NULL);

  g_assert_cmpuint (response->status, ==, 200);
  return json_object_get_int_member (object (response), "total");
}

static char *
first_id (const char *token,
          const char *path)
{
  g_autoptr(WzTestResponse) response = wz_test_request_text (server, "GET", path, token, NULL);
  JsonArray *entries;

  g_assert_cmpuint (response->status, ==, 200);
  entries = json_object_get_array_member (object (response), "entry");
  g_assert_nonnull (entries);
  return g_strdup (json_object_get_string_member (
                     json_object_get_object_member (json_array_get_object_element (entries, 0),
                                                    "resource"), "id"));
}

static char *
subject_of (const char *token,
            const char *encounter_id)
{
  g_autofree char *path = g_strdup_printf ("/fhir/Encounter/%s", encounter_id);
  g_autoptr(WzTestResponse) response = wz_test_request_text (server, "GET", path, token, NULL);

  g_assert_cmpuint (response->status, ==, 200);
  return g_strdup (json_object_get_string_member (json_object_get_object_member (object (response),
                                                                                 "subject"),
                                                  "reference"));
}

static const char *
diagnostics (WzTestResponse *response,
             guint           status)
{
  return wz_test_assert_outcome (response, status);
}

static char *
visit_link (const char *token,
            const char *encounter_id,
            guint      *out_status)
{
  g_autofree char *path = g_strdup_printf ("/fhir/Encounter/%s/$visit-link", encounter_id);
  g_autoptr(WzTestResponse) response = wz_test_request_text (server, "POST", path, token, NULL);

  *out_status = response->status;
  if (response->status != 200)
    return NULL;
  g_assert_nonnull (wz_test_member (response, "expires"));
  return g_strdup (strstr (wz_test_member (response, "url"), "#") + 1);
}

static WzTestResponse *
redeem (const char *link_token)
{
  g_autofree char *body = g_strdup_printf ("{\"link_token\":\"%s\"}", link_token);

  return wz_test_request_text (server, "POST", "/auth/visit", NULL, body);
}

static void
test_doctor_sees_own_patients_only (void)
{
  g_autofree char *own = g_strdup_printf ("/fhir/%s", own_patient);
  g_autofree char *other = g_strdup_printf ("/fhir/%s", other_patient);
  g_autofree char *other_history = g_strdup_printf ("/fhir/%s/_history", other_patient);
  g_autofree char *other_v1 = g_strdup_printf ("/fhir/%s/_history/1", other_patient);
  g_autofree char *other_conditions = g_strdup_printf ("/fhir/Condition?patient=%s",
                                                       other_patient);
  g_autofree char *other_condition = NULL;
  g_autofree char *other_condition_path = NULL;
  g_autoptr(WzTestResponse) hidden = NULL;
  g_autoptr(WzTestResponse) missing = NULL;

  g_assert_cmpuint (status_of ("GET", own, doctor, NULL), ==, 200);

  /* Someone else's patient reads exactly like one that does not exist. */
  hidden = wz_test_request_text (server, "GET", other, doctor, NULL);
  missing = wz_test_request_text (server, "GET", "/fhir/Patient/aaaaaaaaaaaaaaaaaaaaaaaaaa",
                                  doctor, NULL);
  g_assert_cmpuint (hidden->status, ==, 404);
  g_assert_cmpuint (missing->status, ==, 404);
  g_assert_cmpstr (strstr (diagnostics (hidden, 404), "does not exist"), !=, NULL);
  g_assert_cmpuint (status_of ("GET", other_history, doctor, NULL), ==, 404);
  g_assert_cmpuint (status_of ("GET", other_v1, doctor, NULL), ==, 404);

  /* Searches are narrowed, not refused: each doctor finds their own list. */
  g_assert_cmpint (total (doctor, "/fhir/Patient?_count=50"), ==, 6);
  g_assert_cmpint (total (doctor2, "/fhir/Patient?_count=50"), ==, 2);
  g_assert_cmpint (total (doctor, other_conditions), ==, 0);
  g_assert_cmpint (total (doctor, "/fhir/Patient?name=孙丽华"), ==, 0);
  g_assert_cmpint (total (doctor2, "/fhir/Patient?name=孙丽华"), ==, 1);

  /* _include brings the doctor's own patients along with their visits, nobody else's. */
  {
    g_autoptr(WzTestResponse) visits = wz_test_request_text (
      server, "GET", "/fhir/Encounter?_include=Encounter:subject&_count=50", doctor, NULL);
    JsonArray *entries = json_object_get_array_member (object (visits), "entry");
    guint included = 0;

    g_assert_cmpuint (visits->status, ==, 200);
    for (guint i = 0; i < json_array_get_length (entries); i++)
      {
        JsonObject *entry = json_array_get_object_element (entries, i);
        JsonObject *resource = json_object_get_object_member (entry, "resource");
        const char *mode = json_object_get_string_member (json_object_get_object_member (entry,
                                                                                         "search"),
                                                          "mode");
        g_autofree char *ref = g_strconcat (json_object_get_string_member (resource,
                                                                           "resourceType"),
                                            "/", json_object_get_string_member (resource, "id"),
                                            NULL);

        g_assert_cmpstr (ref, !=, other_patient);
        if (g_strcmp0 (mode, "include") == 0)
          {
            g_assert_cmpstr (json_object_get_string_member (resource, "resourceType"), ==,
                             "Patient");
            included++;
          }
      }
    g_assert_cmpuint (included, ==, 6);
  }

  /* Their clinical data too. */
  other_condition = first_id (doctor2, other_conditions);
  other_condition_path = g_strdup_printf ("/fhir/Condition/%s", other_condition);
  g_assert_cmpuint (status_of ("GET", other_condition_path, doctor2, NULL), ==, 200);
  g_assert_cmpuint (status_of ("GET", other_condition_path, doctor, NULL), ==, 404);
}

static void
test_doctor_writes_for_own_patients_only (void)
{
  g_autofree char *other = g_strdup_printf ("/fhir/%s", other_patient);
  g_autofree char *condition = g_strdup_printf (
    "{\"resourceType\":\"Condition\",\"subject\":{\"reference\":\"%s\"},"
    "\"code\":{\"text\":\"头痛 Headache\"}}", other_patient);
  g_autofree char *own_condition = g_strdup_printf (
    "{\"resourceType\":\"Condition\",\"subject\":{\"reference\":\"%s\"},"
    "\"code\":{\"text\":\"头痛 Headache\"}}", own_patient);
  g_autofree char *take_over = g_strdup_printf (
    "{\"resourceType\":\"Encounter\",\"status\":\"arrived\","
    "\"class\":{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"VR\"},"
    "\"subject\":{\"reference\":\"%s\"},"
    "\"participant\":[{\"individual\":{\"reference\":\"%s\"}}]}", other_patient, doctor_ref);
  g_autofree char *orphan = g_strdup ("{\"resourceType\":\"Observation\",\"status\":\"final\","
                                      "\"code\":{\"text\":\"体温\"}}");
  g_autoptr(WzTestResponse) read = wz_test_request_text (server, "GET", other, doctor2, NULL);
  g_autoptr(WzTestResponse) update = NULL;
  g_autoptr(WzTestResponse) create = NULL;
  g_autoptr(WzTestResponse) encounter = NULL;
  g_autoptr(WzTestResponse) nameless = NULL;

  /* An update of what one may not see is a 404, whatever the body. */
  g_assert_cmpuint (read->status, ==, 200);
  update = wz_test_request (server, "PUT", other, doctor, read->body, "If-Match", "W/\"1\"", NULL);
  diagnostics (update, 404);
  g_assert_cmpuint (status_of ("DELETE", other, doctor, NULL), ==, 404);

  /* Recording data for someone else's patient, or taking over their visit, is refused. */
  create = wz_test_request_text (server, "POST", "/fhir/Condition", doctor, condition);
  g_assert_nonnull (strstr (diagnostics (create, 403), "care team"));
  encounter = wz_test_request_text (server, "POST", "/fhir/Encounter", doctor, take_over);
  g_assert_nonnull (strstr (diagnostics (encounter, 403), "care team"));
  g_assert_cmpint (total (doctor, "/fhir/Patient?_count=50"), ==, 6);

  /* Data that names no patient could never be found again. */
  nameless = wz_test_request_text (server, "POST", "/fhir/Observation", doctor, orphan);
  diagnostics (nameless, 422);

  g_assert_cmpuint (status_of ("POST", "/fhir/Condition", doctor, own_condition), ==, 201);
  /* The same write as a pharmacist: only doctors write clinical data. */
  g_assert_cmpuint (status_of ("POST", "/fhir/Condition", pharmacist, own_condition), ==, 403);
}

static void
test_pharmacist (void)
{
  g_autofree char *own = g_strdup_printf ("/fhir/%s", own_patient);

  /* Not on any care team yet (prescriptions will put them there). */
  g_assert_cmpuint (status_of ("GET", own, pharmacist, NULL), ==, 404);
  g_assert_cmpint (total (pharmacist, "/fhir/Patient"), ==, 0);
  g_assert_cmpint (total (pharmacist, "/fhir/Encounter"), ==, 0);
  /* Reference data is open to them. */
  g_assert_cmpint (total (pharmacist, "/fhir/Practitioner?name=李伟"), ==, 1);
}

static void
test_admin (void)
{
  g_autofree char *own = g_strdup_printf ("/fhir/%s", own_patient);
  g_autoptr(WzTestResponse) patients = wz_test_request_text (server, "GET", "/fhir/Patient", admin,
                                                             NULL);
  g_autoptr(WzTestResponse) first = NULL;
  g_autoptr(WzTestResponse) second = NULL;
  g_autoptr(WzTestResponse) one = NULL;
  g_autofree char *next = NULL;
  g_autofree char *first_id_text = NULL;
  g_autofree char *event_path = NULL;
  g_autofree char *by_patient = NULL;
  JsonArray *entries, *links;

  /* Users and the audit log, not clinical data. */
  g_assert_nonnull (strstr (diagnostics (patients, 403), "admin"));
  g_assert_cmpuint (status_of ("GET", own, admin, NULL), ==, 403);
  /* doctor, doctor2, pharmacist and admin each have a Practitioner record. */
  g_assert_cmpint (total (admin, "/fhir/Practitioner"), ==, 4);
  g_assert_cmpuint (status_of ("GET", "/fhir/AuditEvent", doctor, NULL), ==, 403);
  g_assert_cmpuint (status_of ("POST", "/fhir/AuditEvent", admin,
                               "{\"resourceType\":\"AuditEvent\"}"), ==, 403);

  /* The audit log, newest first, two at a time. */
  first = wz_test_request_text (server, "GET", "/fhir/AuditEvent?_count=2", admin, NULL);
  g_assert_cmpuint (first->status, ==, 200);
  entries = json_object_get_array_member (object (first), "entry");
  g_assert_cmpuint (json_array_get_length (entries), ==, 2);
  first_id_text = g_strdup (json_object_get_string_member (
    json_object_get_object_member (json_array_get_object_element (entries, 0), "resource"), "id"));
  links = json_object_get_array_member (object (first), "link");
  for (guint i = 0; i < json_array_get_length (links); i++)
    {
      JsonObject *link = json_array_get_object_element (links, i);

      if (g_strcmp0 (json_object_get_string_member (link, "relation"), "next") == 0)
        next = g_strdup (json_object_get_string_member (link, "url") + strlen (server->url));
    }
  g_assert_nonnull (next);
  second = wz_test_request_text (server, "GET", next, admin, NULL);
  g_assert_cmpuint (second->status, ==, 200);
  entries = json_object_get_array_member (object (second), "entry");
  g_assert_cmpuint (json_array_get_length (entries), ==, 2);
  g_assert_cmpint (g_ascii_strtoll (json_object_get_string_member (
                     json_object_get_object_member (json_array_get_object_element (entries, 0),
                                                    "resource"), "id"), NULL, 10),
                   <, g_ascii_strtoll (first_id_text, NULL, 10) - 1);

  event_path = g_strdup_printf ("/fhir/AuditEvent/%s", first_id_text);
  one = wz_test_request_text (server, "GET", event_path, admin, NULL);
  g_assert_cmpuint (one->status, ==, 200);
  g_assert_cmpstr (wz_test_member (one, "resourceType"), ==, "AuditEvent");
  g_assert_cmpuint (status_of ("GET", "/fhir/AuditEvent/999999999", admin, NULL), ==, 404);

  /* Every read of the doctor's patient is in that patient's log, refused ones included. */
  by_patient = g_strdup_printf ("/fhir/AuditEvent?patient=%s&_count=1000", other_patient);
  {
    g_autoptr(WzTestResponse) log = wz_test_request_text (server, "GET", by_patient, admin, NULL);
    gboolean refused_read = FALSE;

    g_assert_cmpuint (log->status, ==, 200);
    entries = json_object_get_array_member (object (log), "entry");
    for (guint i = 0; entries != NULL && i < json_array_get_length (entries); i++)
      {
        JsonObject *event = json_object_get_object_member (json_array_get_object_element (entries, i),
                                                           "resource");

        refused_read |= g_strcmp0 (json_object_get_string_member (event, "outcome"), "4") == 0;
      }
    g_assert_true (refused_read);
  }
  g_assert_cmpuint (status_of ("GET", "/fhir/AuditEvent?shoe=42", admin, NULL), ==, 400);
}

static void
test_patient_session (void)
{
  g_autofree char *link = NULL;
  g_autofree char *token = NULL;
  g_autofree char *own = g_strdup_printf ("/fhir/%s", own_patient);
  g_autofree char *other = g_strdup_printf ("/fhir/%s", other_patient);
  g_autofree char *visit = g_strdup_printf ("/fhir/Encounter/%s", own_encounter);
  g_autofree char *other_visit = g_strdup_printf ("/fhir/Encounter/%s", other_encounter);
  g_autofree char *same_doctor_patient = NULL;
  g_autofree char *same_doctor_path = NULL;
  g_autofree char *message = NULL;
  g_autofree char *stray = NULL;
  g_autofree char *impostor = NULL;
  g_autoptr(WzTestResponse) session = NULL;
  g_autoptr(WzTestResponse) sent = NULL;
  g_autoptr(WzTestResponse) read = NULL;
  guint status = 0;

  link = visit_link (doctor, own_encounter, &status);
  g_assert_cmpuint (status, ==, 200);
  session = redeem (link);
  g_assert_cmpuint (session->status, ==, 200);
  g_assert_cmpstr (wz_test_member (session, "patient"), ==, own_patient);
  g_assert_true (g_str_has_suffix (wz_test_member (session, "encounter"), own_encounter));
  g_assert_cmpint (json_object_get_int_member (object (session), "expires_in"), ==, 24 * 3600);
  token = g_strdup (wz_test_member (session, "access_token"));

  /* Their own record and visit. */
  g_assert_cmpuint (status_of ("GET", own, token, NULL), ==, 200);
  g_assert_cmpuint (status_of ("GET", visit, token, NULL), ==, 200);
  g_assert_cmpint (total (token, "/fhir/Patient"), ==, 1);
  g_assert_cmpint (total (token, "/fhir/Encounter"), ==, 1);

  /* Nobody else's, not even another patient of the same doctor. */
  same_doctor_patient = first_id (doctor, "/fhir/Patient?_sort=family&_count=1");
  if (g_str_has_suffix (own_patient, same_doctor_patient))
    {
      g_free (same_doctor_patient);
      same_doctor_patient = first_id (doctor, "/fhir/Patient?_sort=-family&_count=1");
    }
  same_doctor_path = g_strdup_printf ("/fhir/Patient/%s", same_doctor_patient);
  g_assert_cmpuint (status_of ("GET", same_doctor_path, token, NULL), ==, 404);
  g_assert_cmpuint (status_of ("GET", other, token, NULL), ==, 404);
  g_assert_cmpuint (status_of ("GET", other_visit, token, NULL), ==, 404);
  /* Clinical records and other types are for the care team. */
  g_assert_cmpuint (status_of ("GET", "/fhir/Condition", token, NULL), ==, 403);
  g_assert_cmpuint (status_of ("GET", "/fhir/Practitioner", token, NULL), ==, 403);

  /* They write what the visit produces, for themselves and this visit only. */
  message = g_strdup_printf ("{\"resourceType\":\"Communication\",\"status\":\"completed\","
                             "\"subject\":{\"reference\":\"%s\"},"
                             "\"encounter\":{\"reference\":\"Encounter/%s\"},"
                             "\"payload\":[{\"contentString\":\"医生您好\"}]}",
                             own_patient, own_encounter);
  sent = wz_test_request_text (server, "POST", "/fhir/Communication", token, message);
  g_assert_cmpuint (sent->status, ==, 201);
  {
    g_autofree char *path = g_strdup_printf ("/fhir/Communication/%s", wz_test_member (sent, "id"));

    read = wz_test_request_text (server, "GET", path, doctor, NULL);
    g_assert_cmpuint (read->status, ==, 200);
    g_assert_cmpuint (status_of ("GET", path, token, NULL), ==, 200);
    g_assert_cmpuint (status_of ("GET", path, doctor2, NULL), ==, 404);
  }
  g_assert_cmpint (total (token, "/fhir/Communication"), ==, 1);

  stray = g_strdup_printf ("{\"resourceType\":\"Communication\",\"status\":\"completed\","
                           "\"subject\":{\"reference\":\"%s\"},"
                           "\"encounter\":{\"reference\":\"Encounter/%s\"}}",
                           own_patient, other_encounter);
  g_assert_cmpuint (status_of ("POST", "/fhir/Communication", token, stray), ==, 403);
  impostor = g_strdup_printf ("{\"resourceType\":\"QuestionnaireResponse\",\"status\":\"completed\","
                              "\"subject\":{\"reference\":\"%s\"},"
                              "\"encounter\":{\"reference\":\"Encounter/%s\"}}",
                              other_patient, own_encounter);
  g_assert_cmpuint (status_of ("POST", "/fhir/QuestionnaireResponse", token, impostor), ==, 403);
  {
    g_autoptr(WzTestResponse) current = wz_test_request_text (server, "GET", visit, token, NULL);
    g_autoptr(WzTestResponse) changed = wz_test_request (server, "PUT", visit, token,
                                                         current->body, "If-Match",
                                                         soup_message_headers_get_one (
                                                           current->headers, "ETag"), NULL);

    /* The visit itself is the care team's to change. */
    diagnostics (changed, 403);
  }
  g_assert_cmpuint (status_of ("POST", "/fhir/Encounter/x/$visit-link", token, NULL), ==, 403);

  /* Signing out ends the session. */
  {
    g_autoptr(SoupMessage) msg = NULL;
    g_autofree char *url = g_strconcat (server->url, "/auth/logout", NULL);
    g_autofree char *bearer = g_strconcat ("Bearer ", token, NULL);
    g_autoptr(GBytes) body = NULL;

    msg = soup_message_new ("POST", url);
    soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", bearer);
    body = soup_session_send_and_read (server->session, msg, NULL, NULL);
    g_assert_cmpuint (soup_message_get_status (msg), ==, 204);
  }
  g_assert_cmpuint (status_of ("GET", own, token, NULL), ==, 401);
}

static void
test_visit_links (void)
{
  g_autofree char *link = NULL;
  g_autofree char *second = NULL;
  g_autoptr(WzTestResponse) first_use = NULL;
  g_autoptr(WzTestResponse) reuse = NULL;
  g_autoptr(WzTestResponse) wrong = NULL;
  g_autoptr(WzTestResponse) malformed = NULL;
  g_autoptr(WzTestResponse) extra = NULL;
  g_autoptr(WzTestResponse) short_link = NULL;
  guint status = 0;

  /* Only a doctor of the patient hands out a link. */
  g_assert_null (visit_link (doctor2, own_encounter, &status));
  g_assert_cmpuint (status, ==, 404);
  g_assert_null (visit_link (pharmacist, own_encounter, &status));
  g_assert_cmpuint (status, ==, 403);
  g_assert_null (visit_link (admin, own_encounter, &status));
  g_assert_cmpuint (status, ==, 403);
  g_assert_null (visit_link (doctor, "no-such-encounter", &status));
  g_assert_cmpuint (status, ==, 404);
  g_assert_cmpuint (status_of ("GET", "/fhir/Encounter/x/$visit-link", doctor, NULL), ==, 405);

  /* Single use. */
  link = visit_link (doctor, own_encounter, &status);
  g_assert_cmpuint (status, ==, 200);
  g_assert_cmpuint (strlen (link), ==, 43);
  first_use = redeem (link);
  g_assert_cmpuint (first_use->status, ==, 200);
  g_assert_cmpstr (soup_message_headers_get_one (first_use->headers, "Cache-Control"), ==,
                   "no-store");
  reuse = redeem (link);
  g_assert_nonnull (strstr (diagnostics (reuse, 401), "already used"));

  /* A link made by someone else, mistyped or cut short. */
  second = visit_link (doctor, own_encounter, &status);
  second[10] = second[10] == 'A' ? 'B' : 'A';
  wrong = redeem (second);
  g_assert_nonnull (strstr (diagnostics (wrong, 401), "not valid"));
  short_link = redeem ("short");
  g_assert_cmpuint (short_link->status, ==, 401);

  malformed = wz_test_request_text (server, "POST", "/auth/visit", NULL, "{\"link_token\":");
  diagnostics (malformed, 400);
  extra = wz_test_request_text (server, "POST", "/auth/visit", NULL,
                                "{\"link_token\":\"x\",\"role\":\"doctor\"}");
  diagnostics (extra, 400);
  g_assert_cmpuint (status_of ("GET", "/auth/visit", NULL, NULL), ==, 405);
}

static void
test_visit_link_cli (void)
{
  g_autofree char *out = NULL;
  g_autoptr(WzTestResponse) session = NULL;
  char *hash;

  /* The operator's way, beside the running server; the answer is the link and nothing else. */
  g_assert_cmpint (wz_test_run_cli (NULL, &out, "visit-link", "--data-dir", server->data_dir,
                                    "--encounter", own_encounter, "--base-url",
                                    "https://clinic.example/", NULL), ==, 0);
  g_strchomp (out);
  g_assert_true (g_str_has_prefix (out, "https://clinic.example/visit/#"));
  hash = strchr (out, '#');
  session = redeem (hash + 1);
  g_assert_cmpuint (session->status, ==, 200);

  g_assert_cmpint (wz_test_run_cli (NULL, NULL, "visit-link", "--data-dir", server->data_dir,
                                    "--encounter", "nope", NULL), ==, 1);
  /* The audit log is still one intact chain after a second process wrote to it. */
  g_assert_cmpuint (status_of ("GET", "/fhir/Patient", doctor, NULL), ==, 200);
}

static void
test_visit_page_is_served (void)
{
  g_autoptr(WzTestResponse) page = wz_test_request_text (server, "GET", "/visit/", NULL, NULL);

  g_assert_cmpuint (page->status, ==, 200);
  g_assert_cmpstr (soup_message_headers_get_one (page->headers, "Content-Type"), ==,
                   "text/html; charset=utf-8");
  /* The token rides in the fragment; no Referer ever carries the page address elsewhere. */
  g_assert_cmpstr (soup_message_headers_get_one (page->headers, "Referrer-Policy"), ==,
                   "no-referrer");
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
  doctor2 = wz_test_server_login (server, "doctor2", "demo");
  pharmacist = wz_test_server_login (server, "pharmacist", "demo");
  admin = wz_test_server_login (server, "admin", "demo");
  own_encounter = first_id (doctor, "/fhir/Encounter?status=arrived,triaged&_sort=date");
  own_patient = subject_of (doctor, own_encounter);
  other_encounter = first_id (doctor2, "/fhir/Encounter?status=arrived,triaged&_sort=date");
  other_patient = subject_of (doctor2, other_encounter);

  g_test_add_func ("/authz/doctor-sees-own-patients-only", test_doctor_sees_own_patients_only);
  g_test_add_func ("/authz/doctor-writes-for-own-patients-only",
                   test_doctor_writes_for_own_patients_only);
  g_test_add_func ("/authz/pharmacist", test_pharmacist);
  g_test_add_func ("/authz/admin", test_admin);
  g_test_add_func ("/authz/patient-session", test_patient_session);
  g_test_add_func ("/authz/visit-links", test_visit_links);
  g_test_add_func ("/authz/visit-link-cli", test_visit_link_cli);
  g_test_add_func ("/authz/visit-page-is-served", test_visit_page_is_served);

  status = g_test_run ();

  g_assert_cmpint (wz_test_server_stop (server), ==, 0);
  g_assert_cmpint (wz_test_run_cli (NULL, NULL, "audit", "verify", "--data-dir",
                                    server->data_dir, NULL), ==, 0);
  wz_test_server_free (server);
  g_free (doctor);
  g_free (doctor_ref);
  g_free (doctor2);
  g_free (pharmacist);
  g_free (admin);
  g_free (own_patient);
  g_free (own_encounter);
  g_free (other_patient);
  g_free (other_encounter);

  return status;
}
