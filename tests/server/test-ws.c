/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "wz-test-util.h"

/* The realtime endpoint /ws over real loopback websockets, against the demo clinic: who hears
 * about a change, what a bad frame gets, and that call signaling stays inside its encounter. */

#define FRAME_TIMEOUT_MS 5000

static WzTestServer *server;
static char *doctor;        /* 李伟, the demo doctor */
static char *doctor_ref;
static char *doctor2;       /* 张敏, another doctor with patients of her own */
static char *doctor2_ref;
static char *pharmacist;
static char *encounter;     /* the doctor's waiting patient's visit */
static char *patient;       /* "Patient/ID" of it */
static char *encounter2;    /* doctor2's waiting patient's visit */

static WzTestWs *
ws_open (const char *token,
         gboolean    in_query)
{
  guint status = 0;
  WzTestWs *ws = wz_test_ws_connect (server->url, token, in_query, &status);
  g_autoptr(JsonNode) hello = NULL;

  g_assert_cmpuint (status, ==, 101);
  g_assert_nonnull (ws);
  hello = wz_test_ws_next (ws);
  g_assert_cmpstr (wz_test_frame_member (hello, "type"), ==, "hello");
  return ws;
}

/* Reads ID and writes it back unchanged as TOKEN: a new version, an event. Returns the version. */
static char *
touch (const char *token,
       const char *type,
       const char *id)
{
  g_autofree char *path = g_strdup_printf ("/fhir/%s/%s", type, id);
  g_autoptr(WzTestResponse) read = wz_test_request_text (server, "GET", path, token, NULL);
  g_autoptr(WzTestResponse) written = NULL;
  const char *etag;

  g_assert_cmpuint (read->status, ==, 200);
  etag = soup_message_headers_get_one (read->headers, "ETag");
  written = wz_test_request (server, "PUT", path, token, read->body, "If-Match", etag, NULL);
  g_assert_cmpuint (written->status, ==, 200);
  return g_strdup (json_object_get_string_member (
                     json_object_get_object_member (json_node_get_object (written->json), "meta"),
                     "versionId"));
}

static void
assert_resource_event (WzTestWs         *ws,
                       const char *type,
                       const char *id,
                       const char *version)
{
  g_autoptr(JsonNode) frame = wz_test_ws_next (ws);

  g_assert_cmpstr (wz_test_frame_member (frame, "type"), ==, "resource");
  g_assert_cmpstr (wz_test_frame_member (frame, "resourceType"), ==, type);
  g_assert_cmpstr (wz_test_frame_member (frame, "id"), ==, id);
  if (version != NULL)
    g_assert_cmpstr (wz_test_frame_member (frame, "versionId"), ==, version);
  /* No resource body: the client reads it with a GET, which is audited. */
  g_assert_false (json_object_has_member (json_node_get_object (frame), "resource"));
}

/* The visit's doctors hear when the patient's page opens its first socket. */
static void
assert_presence (WzTestWs   *ws,
                 const char *state)
{
  g_autoptr(JsonNode) frame = wz_test_ws_next (ws);
  g_autofree char *visit = g_strdup_printf ("Encounter/%s", encounter);

  g_assert_cmpstr (wz_test_frame_member (frame, "type"), ==, "presence");
  g_assert_cmpstr (wz_test_frame_member (frame, "encounter"), ==, visit);
  g_assert_cmpstr (wz_test_frame_member (frame, "patient"), ==, state);
}

static char *
first_id (const char *token,
          const char *path)
{
  g_autoptr(WzTestResponse) response = wz_test_request_text (server, "GET", path, token, NULL);
  JsonArray *entries;

  g_assert_cmpuint (response->status, ==, 200);
  entries = json_object_get_array_member (json_node_get_object (response->json), "entry");
  g_assert_nonnull (entries);
  g_assert_cmpuint (json_array_get_length (entries), >=, 1);
  return g_strdup (json_object_get_string_member (
                     json_object_get_object_member (json_array_get_object_element (entries, 0),
                                                    "resource"), "id"));
}

/* A patient session for ENCOUNTER_ID, from a visit link the doctor asks for. */
static char *
patient_session (const char *token,
                 const char *encounter_id)
{
  g_autofree char *path = g_strdup_printf ("/fhir/Encounter/%s/$visit-link", encounter_id);
  g_autoptr(WzTestResponse) link = wz_test_request_text (server, "POST", path, token, NULL);
  g_autoptr(WzTestResponse) session = NULL;
  g_autofree char *body = NULL;
  const char *url;

  g_assert_cmpuint (link->status, ==, 200);
  url = wz_test_member (link, "url");
  g_assert_nonnull (strstr (url, "/visit/#"));
  body = g_strdup_printf ("{\"link_token\":\"%s\"}", strstr (url, "#") + 1);
  session = wz_test_request_text (server, "POST", "/auth/visit", NULL, body);
  g_assert_cmpuint (session->status, ==, 200);
  g_assert_cmpstr (wz_test_member (session, "role"), ==, "patient");
  return g_strdup (wz_test_member (session, "access_token"));
}

static void
test_refused_before_upgrade (void)
{
  guint status = 0;
  WzTestWs *ws;

  ws = wz_test_ws_connect (server->url, NULL, FALSE, &status);
  g_assert_null (ws);
  g_assert_cmpuint (status, ==, 401);

  ws = wz_test_ws_connect (server->url, "not-a-token", FALSE, &status);
  g_assert_null (ws);
  g_assert_cmpuint (status, ==, 401);

  ws = wz_test_ws_connect (server->url, "BDFkE0hjFyy0gyjOtKe0i8SD3RF2t0bY0jQIe6ZEqYk", TRUE, &status);
  g_assert_null (ws);
  g_assert_cmpuint (status, ==, 401);

  /* A plain GET is not a websocket, even with a good token. */
  {
    g_autoptr(WzTestResponse) plain = wz_test_request_text (server, "GET", "/ws", doctor, NULL);

    g_assert_cmpuint (plain->status, >=, 400);
    g_assert_cmpuint (plain->status, <, 500);
  }
}

static void
test_hello (void)
{
  g_autoptr(WzTestWs) by_header = NULL;
  g_autoptr(WzTestWs) by_query = NULL;
  g_autoptr(JsonNode) hello = NULL;
  guint status = 0;

  by_header = wz_test_ws_connect (server->url, doctor, FALSE, &status);
  g_assert_nonnull (by_header);
  hello = wz_test_ws_next (by_header);
  g_assert_cmpstr (wz_test_frame_member (hello, "type"), ==, "hello");
  g_assert_cmpstr (wz_test_frame_member (hello, "role"), ==, "doctor");
  g_assert_cmpstr (wz_test_frame_member (hello, "practitioner"), ==, doctor_ref);
  g_clear_pointer (&hello, json_node_unref);

  /* Browsers cannot set headers on a websocket: the token in the query works the same. */
  by_query = wz_test_ws_connect (server->url, doctor2, TRUE, &status);
  g_assert_nonnull (by_query);
  hello = wz_test_ws_next (by_query);
  g_assert_cmpstr (wz_test_frame_member (hello, "practitioner"), ==, doctor2_ref);

  wz_test_ws_assert_quiet (by_header);
  wz_test_ws_assert_quiet (by_query);
}

static void
test_events_reach_only_the_care_team (void)
{
  g_autoptr(WzTestWs) a1 = ws_open (doctor, FALSE);
  g_autoptr(WzTestWs) a2 = ws_open (doctor, TRUE);
  g_autoptr(WzTestWs) b = ws_open (doctor2, FALSE);
  g_autoptr(WzTestWs) pharm = ws_open (pharmacist, FALSE);
  g_autofree char *version = NULL;
  g_autofree char *body = NULL;
  g_autofree char *observation = NULL;
  g_autoptr(WzTestResponse) created = NULL;
  g_autoptr(JsonNode) frame = NULL;

  /* Doctor A changes the visit of their waiting patient: both of A's windows hear of it,
   * doctor B (another care team) and the pharmacist do not. */
  version = touch (doctor, "Encounter", encounter);
  frame = wz_test_ws_next (a1);
  g_assert_cmpstr (wz_test_frame_member (frame, "type"), ==, "resource");
  g_assert_cmpstr (wz_test_frame_member (frame, "resourceType"), ==, "Encounter");
  g_assert_cmpstr (wz_test_frame_member (frame, "id"), ==, encounter);
  g_assert_cmpstr (wz_test_frame_member (frame, "versionId"), ==, version);
  g_assert_cmpstr (wz_test_frame_member (frame, "patient"), ==, patient);
  g_assert_true (g_str_has_suffix (wz_test_frame_member (frame, "encounter"), encounter));
  assert_resource_event (a2, "Encounter", encounter, version);
  wz_test_ws_assert_quiet (b);
  wz_test_ws_assert_quiet (pharm);
  wz_test_ws_assert_quiet (a1);

  /* A create for one of B's patients: only B hears of it. */
  {
    g_autofree char *path = g_strdup_printf ("/fhir/Encounter/%s", encounter2);
    g_autoptr(WzTestResponse) visit = wz_test_request_text (server, "GET", path, doctor2, NULL);
    const char *patient2 = json_object_get_string_member (
      json_object_get_object_member (json_node_get_object (visit->json), "subject"), "reference");

    body = g_strdup_printf ("{\"resourceType\":\"Observation\",\"status\":\"final\","
                            "\"code\":{\"text\":\"体温 Body temperature\"},"
                            "\"subject\":{\"reference\":\"%s\"},"
                            "\"encounter\":{\"reference\":\"Encounter/%s\"},"
                            "\"valueQuantity\":{\"value\":37.9,\"unit\":\"Cel\"}}",
                            patient2, encounter2);
  }
  created = wz_test_request_text (server, "POST", "/fhir/Observation", doctor2, body);
  g_assert_cmpuint (created->status, ==, 201);
  observation = g_strdup (wz_test_member (created, "id"));
  assert_resource_event (b, "Observation", observation, "1");
  wz_test_ws_assert_quiet (a1);
  wz_test_ws_assert_quiet (a2);
  wz_test_ws_assert_quiet (pharm);
}

static void
test_patient_hears_own_visit_only (void)
{
  g_autofree char *visit_token = patient_session (doctor, encounter);
  g_autofree char *other_encounter = NULL;
  g_autofree char *version = NULL;
  g_autofree char *unused = NULL;
  g_autoptr(WzTestWs) doc = ws_open (doctor, FALSE);
  g_autoptr(WzTestWs) pat = NULL;
  g_autoptr(JsonNode) hello = NULL;
  guint status = 0;

  pat = wz_test_ws_connect (server->url, visit_token, TRUE, &status);
  g_assert_nonnull (pat);
  hello = wz_test_ws_next (pat);
  g_assert_cmpstr (wz_test_frame_member (hello, "role"), ==, "patient");
  g_assert_cmpstr (wz_test_frame_member (hello, "patient"), ==, patient);
  g_assert_true (g_str_has_suffix (wz_test_frame_member (hello, "encounter"), encounter));
  assert_presence (doc, "online");

  version = touch (doctor, "Encounter", encounter);
  assert_resource_event (pat, "Encounter", encounter, version);
  assert_resource_event (doc, "Encounter", encounter, version);

  /* Another visit of the same doctor is none of this patient's business. */
  other_encounter = first_id (doctor, "/fhir/Encounter?status=in-progress");
  g_assert_cmpstr (other_encounter, !=, encounter);
  unused = touch (doctor, "Encounter", other_encounter);
  assert_resource_event (doc, "Encounter", other_encounter, NULL);
  wz_test_ws_assert_quiet (pat);
}

static char *
post (const char *token,
      const char *type,
      const char *body)
{
  g_autofree char *path = g_strdup_printf ("/fhir/%s", type);
  g_autoptr(WzTestResponse) created = wz_test_request_text (server, "POST", path, token, body);

  g_assert_cmpuint (created->status, ==, 201);
  return g_strdup (wz_test_member (created, "id"));
}

static void
put (const char *token,
     const char *type,
     const char *id,
     const char *version,
     const char *body)
{
  g_autofree char *path = g_strdup_printf ("/fhir/%s/%s", type, id);
  g_autofree char *etag = g_strdup_printf ("W/\"%s\"", version);
  g_autoptr(GBytes) bytes = g_bytes_new (body, strlen (body));
  g_autoptr(WzTestResponse) written = wz_test_request (server, "PUT", path, token, bytes,
                                                       "If-Match", etag, NULL);

  g_assert_cmpuint (written->status, ==, 200);
}

static void
test_handover_reaches_previous_doctor (void)
{
  g_autofree char *patient_body = g_strdup_printf (
    "{\"resourceType\":\"Patient\",\"name\":[{\"text\":\"马建华\"}],"
    "\"generalPractitioner\":[{\"reference\":\"%s\"}]}", doctor_ref);
  g_autofree char *patient_id = post (doctor, "Patient", patient_body);
  g_autofree char *visit_body = NULL;
  g_autofree char *visit_id = NULL;
  g_autofree char *path = NULL;
  g_autofree char *handed = NULL;
  g_autofree char *unlisted = NULL;
  g_autoptr(WzTestWs) a = NULL;
  g_autoptr(WzTestWs) b = NULL;
  g_autoptr(WzTestResponse) after = NULL;

  visit_body = g_strdup_printf (
    "{\"resourceType\":\"Encounter\",\"status\":\"arrived\","
    "\"class\":{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"VR\"},"
    "\"subject\":{\"reference\":\"Patient/%s\"},"
    "\"participant\":[{\"individual\":{\"reference\":\"%s\"}}]}", patient_id, doctor_ref);
  visit_id = post (doctor, "Encounter", visit_body);
  /* The visit alone ties the patient to doctor A now. */
  unlisted = g_strdup_printf ("{\"resourceType\":\"Patient\",\"id\":\"%s\","
                              "\"name\":[{\"text\":\"马建华\"}]}", patient_id);
  put (doctor, "Patient", patient_id, "1", unlisted);

  a = ws_open (doctor, FALSE);
  b = ws_open (doctor2, FALSE);

  /* A hands the visit to B: B's queue gains it, and A's hears of it too, so it can let it go. */
  handed = g_strdup_printf (
    "{\"resourceType\":\"Encounter\",\"id\":\"%s\",\"status\":\"arrived\","
    "\"class\":{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"VR\"},"
    "\"subject\":{\"reference\":\"Patient/%s\"},"
    "\"participant\":[{\"individual\":{\"reference\":\"%s\"}}]}",
    visit_id, patient_id, doctor2_ref);
  put (doctor, "Encounter", visit_id, "1", handed);
  assert_resource_event (b, "Encounter", visit_id, "2");
  assert_resource_event (a, "Encounter", visit_id, "2");
  wz_test_ws_assert_quiet (a);
  wz_test_ws_assert_quiet (b);

  /* …and reading it, A finds it is no longer theirs. */
  path = g_strdup_printf ("/fhir/Encounter/%s", visit_id);
  after = wz_test_request_text (server, "GET", path, doctor, NULL);
  g_assert_cmpuint (after->status, ==, 404);
}

static void
assert_error_frame (WzTestWs         *ws,
                    const char *needle)
{
  g_autoptr(JsonNode) frame = wz_test_ws_next (ws);

  g_assert_cmpstr (wz_test_frame_member (frame, "type"), ==, "error");
  if (needle != NULL && strstr (wz_test_frame_member (frame, "message"), needle) == NULL)
    g_error ("error “%s” does not mention “%s”", wz_test_frame_member (frame, "message"), needle);
}

static void
test_bad_frames (void)
{
  g_autoptr(WzTestWs) ws = ws_open (doctor, FALSE);
  g_autofree char *huge = NULL;
  const guint8 binary[] = { 0x00, 0xff, 0x10 };
  gsize size = 70 * 1024;

  wz_test_ws_send (ws, "{\"type\":");
  assert_error_frame (ws, "JSON");
  wz_test_ws_send (ws, "[1,2,3]");
  assert_error_frame (ws, "JSON object");
  wz_test_ws_send (ws, "{\"hello\":\"there\"}");
  assert_error_frame (ws, "type");
  wz_test_ws_send (ws, "{\"type\":42}");
  assert_error_frame (ws, "type");
  wz_test_ws_send (ws, "{\"type\":\"launch-missiles\"}");
  assert_error_frame (ws, "launch-missiles");
  soup_websocket_connection_send_binary (ws->conn, binary, sizeof binary);
  assert_error_frame (ws, "text");
  wz_test_ws_send (ws, "{\"type\":\"offer\",\"encounter\":42}");
  assert_error_frame (ws, "encounter");

  /* Still serving after all that. */
  wz_test_ws_assert_quiet (ws);
  g_assert_false (ws->closed);

  /* Over 64 KiB: told why, then closed with 1009 (message too big). */
  huge = g_malloc (size + 1);
  memset (huge, 'x', size);
  memcpy (huge, "{\"type\":\"typing\",\"pad\":\"", 24);
  memcpy (huge + size - 2, "\"}", 2);
  huge[size] = '\0';
  wz_test_ws_send (ws, huge);
  assert_error_frame (ws, "64 KiB");
  WZ_SPIN_UNTIL (ws->closed, FRAME_TIMEOUT_MS);
  g_assert_true (ws->closed);
  g_assert_cmpuint (ws->close_code, ==, SOUP_WEBSOCKET_CLOSE_TOO_BIG);

  /* The server lives on: a new socket works. */
  {
    g_autoptr(WzTestWs) again = ws_open (doctor, FALSE);

    wz_test_ws_assert_quiet (again);
  }
}

static void
test_signaling_stays_in_the_encounter (void)
{
  g_autofree char *visit_token = patient_session (doctor, encounter);
  g_autoptr(WzTestWs) doc1 = ws_open (doctor, FALSE);
  g_autoptr(WzTestWs) doc2 = ws_open (doctor, FALSE);
  g_autoptr(WzTestWs) other = ws_open (doctor2, FALSE);
  g_autoptr(WzTestWs) pat = ws_open (visit_token, TRUE);
  g_autoptr(JsonNode) frame = NULL;
  g_autofree char *offer = g_strdup_printf ("{\"type\":\"offer\",\"encounter\":\"Encounter/%s\","
                                            "\"sdp\":\"v=0 o=- 1 1 IN IP4 127.0.0.1\","
                                            "\"from\":\"Practitioner/forged\"}", encounter);
  g_autofree char *ice = g_strdup_printf ("{\"type\":\"ice\",\"encounter\":\"Encounter/%s\","
                                          "\"candidate\":\"candidate:1 1 UDP 1 127.0.0.1 5000 typ host\"}",
                                          encounter);
  g_autofree char *intrude = g_strdup_printf ("{\"type\":\"offer\",\"encounter\":\"Encounter/%s\","
                                              "\"sdp\":\"x\"}", encounter);
  g_autofree char *elsewhere = g_strdup_printf ("{\"type\":\"typing\",\"encounter\":\"Encounter/%s\"}",
                                                encounter2);

  assert_presence (doc1, "online");
  assert_presence (doc2, "online");
  wz_test_ws_assert_quiet (other);

  /* The patient calls: both of the doctor's windows ring, nobody else's; the sender's name
   * comes from the server, whatever the frame claimed. */
  wz_test_ws_send (pat, offer);
  frame = wz_test_ws_next (doc1);
  g_assert_cmpstr (wz_test_frame_member (frame, "type"), ==, "offer");
  g_assert_cmpstr (wz_test_frame_member (frame, "from"), ==, patient);
  g_assert_cmpstr (wz_test_frame_member (frame, "sdp"), ==, "v=0 o=- 1 1 IN IP4 127.0.0.1");
  g_clear_pointer (&frame, json_node_unref);
  frame = wz_test_ws_next (doc2);
  g_assert_cmpstr (wz_test_frame_member (frame, "type"), ==, "offer");
  g_clear_pointer (&frame, json_node_unref);
  wz_test_ws_assert_quiet (other);
  wz_test_ws_assert_quiet (pat);

  /* The doctor answers with a candidate: the patient gets it, the doctor's other window does
   * not hear its own side. */
  wz_test_ws_send (doc1, ice);
  frame = wz_test_ws_next (pat);
  g_assert_cmpstr (wz_test_frame_member (frame, "type"), ==, "ice");
  g_assert_cmpstr (wz_test_frame_member (frame, "from"), ==, doctor_ref);
  g_clear_pointer (&frame, json_node_unref);
  wz_test_ws_assert_quiet (doc2);
  wz_test_ws_assert_quiet (other);

  /* Doctor B is no participant of that visit; the patient has no business in B's visit. */
  wz_test_ws_send (other, intrude);
  assert_error_frame (other, "not a participant");
  wz_test_ws_send (pat, elsewhere);
  assert_error_frame (pat, "not a participant");
  wz_test_ws_assert_quiet (doc1);
  wz_test_ws_assert_quiet (doc2);
  wz_test_ws_assert_quiet (pat);

  /* An encounter that does not exist answers like someone else's. */
  wz_test_ws_send (doc1, "{\"type\":\"hangup\",\"encounter\":\"Encounter/nope\"}");
  assert_error_frame (doc1, "not a participant");
}

static void
test_sign_out_closes_socket (void)
{
  g_autofree char *token = wz_test_server_login (server, "doctor", "demo");
  g_autofree char *url = g_strconcat (server->url, "/auth/logout", NULL);
  g_autofree char *bearer = g_strconcat ("Bearer ", token, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new ("POST", url);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(WzTestWs) mine = ws_open (token, FALSE);
  g_autoptr(WzTestWs) other = ws_open (doctor, FALSE);
  guint status = 0;

  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", bearer);
  body = soup_session_send_and_read (server->session, msg, NULL, NULL);
  g_assert_cmpuint (soup_message_get_status (msg), ==, 204);

  /* That session's socket closes at once; the same doctor's other session keeps its own. */
  WZ_SPIN_UNTIL (mine->closed, FRAME_TIMEOUT_MS);
  g_assert_true (mine->closed);
  g_assert_cmpuint (mine->close_code, ==, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);
  wz_test_ws_assert_quiet (other);
  g_assert_null (wz_test_ws_connect (server->url, token, FALSE, &status));
  g_assert_cmpuint (status, ==, 401);
}

static void
test_shutdown_closes_cleanly (void)
{
  g_autoptr(WzTestServer) own = wz_test_server_new ();
  g_autofree char *token = NULL;
  WzTestServer *shared = server;
  g_autoptr(WzTestWs) ws = NULL;

  g_assert_cmpint (wz_test_run_cli (NULL, NULL, "demo-data", "--data-dir", own->data_dir,
                                    "--patients", "1", NULL), ==, 0);
  wz_test_server_start (own);
  server = own;
  token = wz_test_server_login (own, "doctor", "demo");
  ws = ws_open (token, FALSE);
  server = shared;

  g_assert_cmpint (wz_test_server_stop (own), ==, 0);
  WZ_SPIN_UNTIL (ws->closed, FRAME_TIMEOUT_MS);
  g_assert_true (ws->closed);
  g_assert_cmpuint (ws->close_code, ==, SOUP_WEBSOCKET_CLOSE_GOING_AWAY);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(WzTestResponse) visit = NULL;
  g_autofree char *path = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

  server = wz_test_server_new ();
  g_assert_cmpint (wz_test_run_cli (NULL, NULL, "demo-data", "--data-dir", server->data_dir,
                                    "--patients", "6", NULL), ==, 0);
  wz_test_server_start (server);
  doctor = wz_test_server_login_full (server, "doctor", "demo", &doctor_ref);
  doctor2 = wz_test_server_login_full (server, "doctor2", "demo", &doctor2_ref);
  pharmacist = wz_test_server_login (server, "pharmacist", "demo");
  encounter = first_id (doctor, "/fhir/Encounter?status=arrived,triaged&_sort=date");
  encounter2 = first_id (doctor2, "/fhir/Encounter?status=arrived,triaged&_sort=date");
  g_assert_cmpstr (encounter, !=, encounter2);
  path = g_strdup_printf ("/fhir/Encounter/%s", encounter);
  visit = wz_test_request_text (server, "GET", path, doctor, NULL);
  patient = g_strdup (json_object_get_string_member (
                        json_object_get_object_member (json_node_get_object (visit->json),
                                                       "subject"), "reference"));

  g_test_add_func ("/ws/refused-before-upgrade", test_refused_before_upgrade);
  g_test_add_func ("/ws/hello", test_hello);
  g_test_add_func ("/ws/events-reach-only-the-care-team", test_events_reach_only_the_care_team);
  g_test_add_func ("/ws/patient-hears-own-visit-only", test_patient_hears_own_visit_only);
  g_test_add_func ("/ws/handover-reaches-previous-doctor",
                   test_handover_reaches_previous_doctor);
  g_test_add_func ("/ws/bad-frames", test_bad_frames);
  g_test_add_func ("/ws/signaling-stays-in-the-encounter", test_signaling_stays_in_the_encounter);
  g_test_add_func ("/ws/sign-out-closes-socket", test_sign_out_closes_socket);
  g_test_add_func ("/ws/shutdown-closes-cleanly", test_shutdown_closes_cleanly);

  status = g_test_run ();

  g_assert_cmpint (wz_test_server_stop (server), ==, 0);
  wz_test_server_free (server);
  g_free (doctor);
  g_free (doctor_ref);
  g_free (doctor2);
  g_free (doctor2_ref);
  g_free (pharmacist);
  g_free (encounter);
  g_free (encounter2);
  g_free (patient);

  return status;
}
