/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "wz-test-util.h"

/* The realtime endpoint /ws over real loopback websockets, against the demo clinic: who hears
 * about a change, what a bad frame gets, and that call signaling stays inside its encounter. */

#define FRAME_TIMEOUT_MS 5000

static WzTestServer *server;
static SoupSession *ws_session;
static char *doctor;        /* 李伟, the demo doctor */
static char *doctor_ref;
static char *doctor2;       /* 张敏, another doctor with patients of her own */
static char *doctor2_ref;
static char *pharmacist;
static char *encounter;     /* the doctor's waiting patient's visit */
static char *patient;       /* "Patient/ID" of it */
static char *encounter2;    /* doctor2's waiting patient's visit */

typedef struct
{
  SoupWebsocketConnection *conn;
  GQueue                   frames;   /* JsonNode */
  gboolean                 closed;
  gushort                  close_code;
} Ws;

static void
on_ws_message (SoupWebsocketConnection *conn,
               gint                     type,
               GBytes                  *message,
               Ws                      *ws)
{
  g_autofree char *text = g_strndup (g_bytes_get_data (message, NULL), g_bytes_get_size (message));
  g_autoptr(GError) error = NULL;
  JsonNode *node;

  g_assert_cmpint (type, ==, SOUP_WEBSOCKET_DATA_TEXT);
  node = json_from_string (text, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  g_queue_push_tail (&ws->frames, node);
}

static void
on_ws_closed (SoupWebsocketConnection *conn,
              Ws                      *ws)
{
  ws->closed = TRUE;
  ws->close_code = soup_websocket_connection_get_close_code (conn);
}

static void
ws_free (Ws *ws)
{
  if (ws->conn != NULL)
    {
      g_signal_handlers_disconnect_by_data (ws->conn, ws);
      if (soup_websocket_connection_get_state (ws->conn) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (ws->conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
      g_object_unref (ws->conn);
    }
  g_queue_clear_full (&ws->frames, (GDestroyNotify) json_node_unref);
  g_free (ws);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Ws, ws_free)

static void
on_connected (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

/* Turns the main context until CONDITION holds or TIMEOUT_MS pass. */
#define SPIN_UNTIL(condition, timeout_ms) G_STMT_START {                           \
    gint64 deadline_ = g_get_monotonic_time () + (timeout_ms) * G_TIME_SPAN_MILLISECOND; \
    while (!(condition) && g_get_monotonic_time () < deadline_)                      \
      if (!g_main_context_iteration (NULL, FALSE))                                   \
        g_usleep (1000);                                                             \
  } G_STMT_END

/* Opens /ws with TOKEN in the Authorization header, or in ?access_token= when IN_QUERY. Returns
 * NULL when the server refused, with *out_status the HTTP status it answered. */
static Ws *
ws_open_full (const char *token,
              gboolean    in_query,
              guint      *out_status)
{
  g_autofree char *url = NULL;
  g_autoptr(SoupMessage) msg = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  SoupWebsocketConnection *conn;
  Ws *ws;

  if (in_query && token != NULL)
    {
      g_autofree char *escaped = g_uri_escape_string (token, NULL, FALSE);

      url = g_strdup_printf ("%s/ws?access_token=%s", server->url, escaped);
    }
  else
    url = g_strdup_printf ("%s/ws", server->url);
  msg = soup_message_new ("GET", url);
  if (!in_query && token != NULL)
    {
      g_autofree char *value = g_strconcat ("Bearer ", token, NULL);

      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", value);
    }

  soup_session_websocket_connect_async (ws_session, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL,
                                        on_connected, &result);
  SPIN_UNTIL (result != NULL, FRAME_TIMEOUT_MS);
  g_assert_nonnull (result);

  if (out_status != NULL)
    *out_status = soup_message_get_status (msg);
  conn = soup_session_websocket_connect_finish (ws_session, result, &error);
  if (conn == NULL)
    return NULL;

  ws = g_new0 (Ws, 1);
  ws->conn = conn;
  g_queue_init (&ws->frames);
  g_signal_connect (conn, "message", G_CALLBACK (on_ws_message), ws);
  g_signal_connect (conn, "closed", G_CALLBACK (on_ws_closed), ws);
  return ws;
}

/* The next frame (owned by the caller), failing the test after FRAME_TIMEOUT_MS. */
static JsonNode *
next_frame (Ws *ws)
{
  SPIN_UNTIL (!g_queue_is_empty (&ws->frames) || ws->closed, FRAME_TIMEOUT_MS);
  if (g_queue_is_empty (&ws->frames))
    g_error ("no frame arrived (socket %s)", ws->closed ? "closed" : "open");
  return g_queue_pop_head (&ws->frames);
}

static const char *
member (JsonNode   *frame,
        const char *name)
{
  return json_object_get_string_member_with_default (json_node_get_object (frame), name, NULL);
}

static Ws *
ws_open (const char *token,
         gboolean    in_query)
{
  guint status = 0;
  Ws *ws = ws_open_full (token, in_query, &status);
  g_autoptr(JsonNode) hello = NULL;

  g_assert_cmpuint (status, ==, 101);
  g_assert_nonnull (ws);
  hello = next_frame (ws);
  g_assert_cmpstr (member (hello, "type"), ==, "hello");
  return ws;
}

static void
send_text (Ws         *ws,
           const char *text)
{
  soup_websocket_connection_send_text (ws->conn, text);
}

/* Nothing is queued for WS: a ping sent now is answered before anything sent later, and
 * anything the server sent earlier arrives before the pong. */
static void
assert_quiet (Ws *ws)
{
  g_autoptr(JsonNode) frame = NULL;

  send_text (ws, "{\"type\":\"ping\"}");
  frame = next_frame (ws);
  if (g_strcmp0 (member (frame, "type"), "pong") != 0)
    g_error ("expected no frame, got %s", json_to_string (frame, FALSE));
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
assert_resource_event (Ws         *ws,
                       const char *type,
                       const char *id,
                       const char *version)
{
  g_autoptr(JsonNode) frame = next_frame (ws);

  g_assert_cmpstr (member (frame, "type"), ==, "resource");
  g_assert_cmpstr (member (frame, "resourceType"), ==, type);
  g_assert_cmpstr (member (frame, "id"), ==, id);
  if (version != NULL)
    g_assert_cmpstr (member (frame, "versionId"), ==, version);
  /* No resource body: the client reads it with a GET, which is audited. */
  g_assert_false (json_object_has_member (json_node_get_object (frame), "resource"));
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
  Ws *ws;

  ws = ws_open_full (NULL, FALSE, &status);
  g_assert_null (ws);
  g_assert_cmpuint (status, ==, 401);

  ws = ws_open_full ("not-a-token", FALSE, &status);
  g_assert_null (ws);
  g_assert_cmpuint (status, ==, 401);

  ws = ws_open_full ("BDFkE0hjFyy0gyjOtKe0i8SD3RF2t0bY0jQIe6ZEqYk", TRUE, &status);
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
  g_autoptr(Ws) by_header = NULL;
  g_autoptr(Ws) by_query = NULL;
  g_autoptr(JsonNode) hello = NULL;
  guint status = 0;

  by_header = ws_open_full (doctor, FALSE, &status);
  g_assert_nonnull (by_header);
  hello = next_frame (by_header);
  g_assert_cmpstr (member (hello, "type"), ==, "hello");
  g_assert_cmpstr (member (hello, "role"), ==, "doctor");
  g_assert_cmpstr (member (hello, "practitioner"), ==, doctor_ref);
  g_clear_pointer (&hello, json_node_unref);

  /* Browsers cannot set headers on a websocket: the token in the query works the same. */
  by_query = ws_open_full (doctor2, TRUE, &status);
  g_assert_nonnull (by_query);
  hello = next_frame (by_query);
  g_assert_cmpstr (member (hello, "practitioner"), ==, doctor2_ref);

  assert_quiet (by_header);
  assert_quiet (by_query);
}

static void
test_events_reach_only_the_care_team (void)
{
  g_autoptr(Ws) a1 = ws_open (doctor, FALSE);
  g_autoptr(Ws) a2 = ws_open (doctor, TRUE);
  g_autoptr(Ws) b = ws_open (doctor2, FALSE);
  g_autoptr(Ws) pharm = ws_open (pharmacist, FALSE);
  g_autofree char *version = NULL;
  g_autofree char *body = NULL;
  g_autofree char *observation = NULL;
  g_autoptr(WzTestResponse) created = NULL;
  g_autoptr(JsonNode) frame = NULL;

  /* Doctor A changes the visit of their waiting patient: both of A's windows hear of it,
   * doctor B (another care team) and the pharmacist do not. */
  version = touch (doctor, "Encounter", encounter);
  frame = next_frame (a1);
  g_assert_cmpstr (member (frame, "type"), ==, "resource");
  g_assert_cmpstr (member (frame, "resourceType"), ==, "Encounter");
  g_assert_cmpstr (member (frame, "id"), ==, encounter);
  g_assert_cmpstr (member (frame, "versionId"), ==, version);
  g_assert_cmpstr (member (frame, "patient"), ==, patient);
  g_assert_true (g_str_has_suffix (member (frame, "encounter"), encounter));
  assert_resource_event (a2, "Encounter", encounter, version);
  assert_quiet (b);
  assert_quiet (pharm);
  assert_quiet (a1);

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
  assert_quiet (a1);
  assert_quiet (a2);
  assert_quiet (pharm);
}

static void
test_patient_hears_own_visit_only (void)
{
  g_autofree char *visit_token = patient_session (doctor, encounter);
  g_autofree char *other_encounter = NULL;
  g_autofree char *version = NULL;
  g_autofree char *unused = NULL;
  g_autoptr(Ws) doc = ws_open (doctor, FALSE);
  g_autoptr(Ws) pat = NULL;
  g_autoptr(JsonNode) hello = NULL;
  guint status = 0;

  pat = ws_open_full (visit_token, TRUE, &status);
  g_assert_nonnull (pat);
  hello = next_frame (pat);
  g_assert_cmpstr (member (hello, "role"), ==, "patient");
  g_assert_cmpstr (member (hello, "patient"), ==, patient);
  g_assert_true (g_str_has_suffix (member (hello, "encounter"), encounter));

  version = touch (doctor, "Encounter", encounter);
  assert_resource_event (pat, "Encounter", encounter, version);
  assert_resource_event (doc, "Encounter", encounter, version);

  /* Another visit of the same doctor is none of this patient's business. */
  other_encounter = first_id (doctor, "/fhir/Encounter?status=in-progress");
  g_assert_cmpstr (other_encounter, !=, encounter);
  unused = touch (doctor, "Encounter", other_encounter);
  assert_resource_event (doc, "Encounter", other_encounter, NULL);
  assert_quiet (pat);
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
  g_autoptr(Ws) a = NULL;
  g_autoptr(Ws) b = NULL;
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
  assert_quiet (a);
  assert_quiet (b);

  /* …and reading it, A finds it is no longer theirs. */
  path = g_strdup_printf ("/fhir/Encounter/%s", visit_id);
  after = wz_test_request_text (server, "GET", path, doctor, NULL);
  g_assert_cmpuint (after->status, ==, 404);
}

static void
assert_error_frame (Ws         *ws,
                    const char *needle)
{
  g_autoptr(JsonNode) frame = next_frame (ws);

  g_assert_cmpstr (member (frame, "type"), ==, "error");
  if (needle != NULL && strstr (member (frame, "message"), needle) == NULL)
    g_error ("error “%s” does not mention “%s”", member (frame, "message"), needle);
}

static void
test_bad_frames (void)
{
  g_autoptr(Ws) ws = ws_open (doctor, FALSE);
  g_autofree char *huge = NULL;
  const guint8 binary[] = { 0x00, 0xff, 0x10 };
  gsize size = 70 * 1024;

  send_text (ws, "{\"type\":");
  assert_error_frame (ws, "JSON");
  send_text (ws, "[1,2,3]");
  assert_error_frame (ws, "JSON object");
  send_text (ws, "{\"hello\":\"there\"}");
  assert_error_frame (ws, "type");
  send_text (ws, "{\"type\":42}");
  assert_error_frame (ws, "type");
  send_text (ws, "{\"type\":\"launch-missiles\"}");
  assert_error_frame (ws, "launch-missiles");
  soup_websocket_connection_send_binary (ws->conn, binary, sizeof binary);
  assert_error_frame (ws, "text");
  send_text (ws, "{\"type\":\"offer\",\"encounter\":42}");
  assert_error_frame (ws, "encounter");

  /* Still serving after all that. */
  assert_quiet (ws);
  g_assert_false (ws->closed);

  /* Over 64 KiB: told why, then closed with 1009 (message too big). */
  huge = g_malloc (size + 1);
  memset (huge, 'x', size);
  memcpy (huge, "{\"type\":\"typing\",\"pad\":\"", 24);
  memcpy (huge + size - 2, "\"}", 2);
  huge[size] = '\0';
  send_text (ws, huge);
  assert_error_frame (ws, "64 KiB");
  SPIN_UNTIL (ws->closed, FRAME_TIMEOUT_MS);
  g_assert_true (ws->closed);
  g_assert_cmpuint (ws->close_code, ==, SOUP_WEBSOCKET_CLOSE_TOO_BIG);

  /* The server lives on: a new socket works. */
  {
    g_autoptr(Ws) again = ws_open (doctor, FALSE);

    assert_quiet (again);
  }
}

static void
test_signaling_stays_in_the_encounter (void)
{
  g_autofree char *visit_token = patient_session (doctor, encounter);
  g_autoptr(Ws) doc1 = ws_open (doctor, FALSE);
  g_autoptr(Ws) doc2 = ws_open (doctor, FALSE);
  g_autoptr(Ws) other = ws_open (doctor2, FALSE);
  g_autoptr(Ws) pat = ws_open (visit_token, TRUE);
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

  /* The patient calls: both of the doctor's windows ring, nobody else's; the sender's name
   * comes from the server, whatever the frame claimed. */
  send_text (pat, offer);
  frame = next_frame (doc1);
  g_assert_cmpstr (member (frame, "type"), ==, "offer");
  g_assert_cmpstr (member (frame, "from"), ==, patient);
  g_assert_cmpstr (member (frame, "sdp"), ==, "v=0 o=- 1 1 IN IP4 127.0.0.1");
  g_clear_pointer (&frame, json_node_unref);
  frame = next_frame (doc2);
  g_assert_cmpstr (member (frame, "type"), ==, "offer");
  g_clear_pointer (&frame, json_node_unref);
  assert_quiet (other);
  assert_quiet (pat);

  /* The doctor answers with a candidate: the patient gets it, the doctor's other window does
   * not hear its own side. */
  send_text (doc1, ice);
  frame = next_frame (pat);
  g_assert_cmpstr (member (frame, "type"), ==, "ice");
  g_assert_cmpstr (member (frame, "from"), ==, doctor_ref);
  g_clear_pointer (&frame, json_node_unref);
  assert_quiet (doc2);
  assert_quiet (other);

  /* Doctor B is no participant of that visit; the patient has no business in B's visit. */
  send_text (other, intrude);
  assert_error_frame (other, "not a participant");
  send_text (pat, elsewhere);
  assert_error_frame (pat, "not a participant");
  assert_quiet (doc1);
  assert_quiet (doc2);
  assert_quiet (pat);

  /* An encounter that does not exist answers like someone else's. */
  send_text (doc1, "{\"type\":\"hangup\",\"encounter\":\"Encounter/nope\"}");
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
  g_autoptr(Ws) mine = ws_open (token, FALSE);
  g_autoptr(Ws) other = ws_open (doctor, FALSE);
  guint status = 0;

  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", bearer);
  body = soup_session_send_and_read (server->session, msg, NULL, NULL);
  g_assert_cmpuint (soup_message_get_status (msg), ==, 204);

  /* That session's socket closes at once; the same doctor's other session keeps its own. */
  SPIN_UNTIL (mine->closed, FRAME_TIMEOUT_MS);
  g_assert_true (mine->closed);
  g_assert_cmpuint (mine->close_code, ==, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);
  assert_quiet (other);
  g_assert_null (ws_open_full (token, FALSE, &status));
  g_assert_cmpuint (status, ==, 401);
}

static void
test_shutdown_closes_cleanly (void)
{
  g_autoptr(WzTestServer) own = wz_test_server_new ();
  g_autofree char *token = NULL;
  WzTestServer *shared = server;
  g_autoptr(Ws) ws = NULL;

  g_assert_cmpint (wz_test_run_cli (NULL, NULL, "demo-data", "--data-dir", own->data_dir,
                                    "--patients", "1", NULL), ==, 0);
  wz_test_server_start (own);
  server = own;
  token = wz_test_server_login (own, "doctor", "demo");
  ws = ws_open (token, FALSE);
  server = shared;

  g_assert_cmpint (wz_test_server_stop (own), ==, 0);
  SPIN_UNTIL (ws->closed, FRAME_TIMEOUT_MS);
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
  ws_session = soup_session_new ();
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
  g_object_unref (ws_session);
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
