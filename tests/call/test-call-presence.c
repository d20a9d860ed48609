/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "wz-test-util.h"

/* Patient presence over /ws, against the demo clinic: the doctors of a visit hear when the
 * patient's visit page opens its first socket and closes its last, can ask on (re)connect, and
 * nobody else hears or may ask. The call page uses it to say the page is not open instead of
 * ringing into nothing. */

static WzTestServer *server;
static char *doctor;        /* the demo doctor */
static char *doctor2;       /* another doctor, not of this visit */
static char *encounter;     /* the doctor's waiting patient's visit */

static void
ws_close (WzTestWs *ws)
{
  soup_websocket_connection_close (ws->conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  WZ_SPIN_UNTIL (ws->closed, WZ_TEST_WS_TIMEOUT_MS);
  g_assert_true (ws->closed);
  wz_test_ws_free (ws);
}

/* A patient session for the visit, from a link the doctor asks for. */
static char *
visit_token (void)
{
  g_autofree char *path = g_strdup_printf ("/fhir/Encounter/%s/$visit-link", encounter);
  g_autoptr(WzTestResponse) link = wz_test_request_text (server, "POST", path, doctor, NULL);
  g_autoptr(WzTestResponse) session = NULL;
  g_autofree char *body = NULL;
  const char *url;

  g_assert_cmpuint (link->status, ==, 200);
  url = wz_test_member (link, "url");
  body = g_strdup_printf ("{\"link_token\":\"%s\"}", strchr (url, '#') + 1);
  session = wz_test_request_text (server, "POST", "/auth/visit", NULL, body);
  g_assert_cmpuint (session->status, ==, 200);
  return g_strdup (wz_test_member (session, "access_token"));
}

static void
ask (WzTestWs   *ws,
     const char *encounter_id)
{
  g_autofree char *frame = g_strdup_printf ("{\"type\":\"presence\",\"encounter\":\"Encounter/%s\"}",
                                            encounter_id);

  wz_test_ws_send (ws, frame);
}

static void
assert_presence (WzTestWs   *ws,
                 const char *expected)
{
  g_autoptr(JsonNode) frame = wz_test_ws_next (ws);
  g_autofree char *ref = g_strconcat ("Encounter/", encounter, NULL);

  g_assert_cmpstr (wz_test_frame_member (frame, "type"), ==, "presence");
  g_assert_cmpstr (wz_test_frame_member (frame, "encounter"), ==, ref);
  g_assert_cmpstr (wz_test_frame_member (frame, "patient"), ==, expected);
}

static void
assert_error (WzTestWs *ws)
{
  g_autoptr(JsonNode) frame = wz_test_ws_next (ws);

  g_assert_cmpstr (wz_test_frame_member (frame, "type"), ==, "error");
  g_assert_nonnull (strstr (wz_test_frame_member (frame, "message"), "doctors of an encounter"));
}

static void
test_presence (void)
{
  g_autofree char *patient = visit_token ();
  g_autoptr(WzTestWs) doc = wz_test_ws_open (server->url, doctor);
  g_autoptr(WzTestWs) other = wz_test_ws_open (server->url, doctor2);
  WzTestWs *page, *second_tab;

  /* Asked before the page is open: offline. */
  ask (doc, encounter);
  assert_presence (doc, "offline");

  /* The page opens: the visit's doctor hears it at once, the other doctor does not. */
  page = wz_test_ws_open (server->url, patient);
  assert_presence (doc, "online");
  wz_test_ws_assert_quiet (other);
  wz_test_ws_assert_quiet (page);

  /* A second tab of the same visit changes nothing; asking says online. */
  second_tab = wz_test_ws_open (server->url, patient);
  wz_test_ws_assert_quiet (doc);
  ask (doc, encounter);
  assert_presence (doc, "online");

  /* Closing one tab leaves the patient online; closing the last says offline. */
  ws_close (second_tab);
  wz_test_ws_assert_quiet (doc);
  ws_close (page);
  assert_presence (doc, "offline");
  wz_test_ws_assert_quiet (other);

  /* Only the visit's doctors may ask; a patient may not ask about anyone. */
  ask (other, encounter);
  assert_error (other);
  ask (doc, "nope");
  assert_error (doc);
  page = wz_test_ws_open (server->url, patient);
  assert_presence (doc, "online");
  ask (page, encounter);
  assert_error (page);
  ws_close (page);
  assert_presence (doc, "offline");
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
  doctor = wz_test_server_login (server, "doctor", "demo");
  doctor2 = wz_test_server_login (server, "doctor2", "demo");
  {
    g_autoptr(WzTestResponse) visits = wz_test_request_text (
      server, "GET", "/fhir/Encounter?status=arrived,triaged&_sort=date", doctor, NULL);
    JsonArray *entries = json_object_get_array_member (json_node_get_object (visits->json), "entry");

    g_assert_cmpuint (json_array_get_length (entries), >=, 1);
    encounter = g_strdup (json_object_get_string_member (
      json_object_get_object_member (json_array_get_object_element (entries, 0), "resource"), "id"));
  }

  g_test_add_func ("/call/presence", test_presence);
  status = g_test_run ();

  g_assert_cmpint (wz_test_server_stop (server), ==, 0);
  wz_test_server_free (server);
  g_free (doctor);
  g_free (doctor2);
  g_free (encounter);
  return status;
}
