/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>

#include "wz-error.h"
#include "wz-followup.h"
#include "wz-refill-plan.h"
#include "wz-sqlite-store.h"
#include "wz-test-util.h"

/* Follow-up after the visit, over real HTTP: Task search by due date, owner, focus and based-on;
 * the worklist's pages; a revisit due today put in the doctor's queue once however often the
 * server starts; readings from the patient page judged against the plan (a Flag, a /ws event for
 * the patient's doctor and not another); refill dates; renewal requests; reactions after a
 * vaccination (AdverseEvent) and who may record and see them; the patient's own pages, which
 * show that patient only; and bad input to each of them refused with nothing stored. */

#define PASSWORD "correct horse battery"
#define TASK_SYSTEM "https://wenzhen.example/fhir/CodeSystem/followup-task"
#define ALERT_SYSTEM "https://wenzhen.example/fhir/CodeSystem/followup-alert"
#define DUE_EXTENSION "https://wenzhen.example/fhir/StructureDefinition/task-due-date"
#define VISIT_SYSTEM "https://wenzhen.example/fhir/sid/followup-visit"
#define FRAME_TIMEOUT_MS 5000

static WzTestServer *server;
static char *doctor;
static char *doctor_ref;
static char *doctor2;
static char *doctor2_ref;
static char *pharmacist_ref;
static SoupSession *ws_session;

/* ---- Helpers ------------------------------------------------------------------------------ */

static char *
beijing_day (gint days)
{
  g_autoptr(GTimeZone) tz = wz_followup_time_zone ("Asia/Shanghai");

  return wz_day_format (wz_day_add_days (wz_day_today (tz, g_get_real_time ()), days));
}

static WzTestResponse *
request (const char *method,
         const char *path,
         const char *token,
         const char *body)
{
  return wz_test_request_text (server, method, path, token, body);
}

static JsonObject *
object (WzTestResponse *response)
{
  g_assert_nonnull (response->json);
  return json_node_get_object (response->json);
}

static gint64
total (const char *token,
       const char *path)
{
  g_autoptr(WzTestResponse) response = request ("GET", path, token, NULL);

  if (response->status != 200)
    g_error ("GET %s: %u %.*s", path, response->status, (int) g_bytes_get_size (response->body),
             (const char *) g_bytes_get_data (response->body, NULL));
  return json_object_get_int_member (object (response), "total");
}

static char *
create (const char *token,
        const char *type,
        const char *json)
{
  g_autofree char *path = g_strconcat ("/fhir/", type, NULL);
  g_autoptr(WzTestResponse) response = request ("POST", path, token, json);

  if (response->status != 201)
    g_error ("POST %s: %u %.*s", path, response->status, (int) g_bytes_get_size (response->body),
             (const char *) g_bytes_get_data (response->body, NULL));
  return g_strdup (wz_test_member (response, "id"));
}

/* A Patient of DOCTOR (generalPractitioner), "Patient/ID". */
static char *
new_patient (const char *family,
             const char *birth_date)
{
  g_autofree char *json = g_strdup_printf ("{\"resourceType\":\"Patient\",\"active\":true,"
                                           "\"name\":[{\"family\":\"%s\",\"given\":[\"测\"]}],"
                                           "\"gender\":\"female\",\"birthDate\":\"%s\","
                                           "\"generalPractitioner\":[{\"reference\":\"%s\"}]}",
                                           family, birth_date, doctor_ref);
  g_autofree char *id = create (doctor, "Patient", json);

  return g_strconcat ("Patient/", id, NULL);
}

/* A visit of PATIENT with DOCTOR today and a patient session for it (the visit link redeemed). */
static char *
patient_session (const char *patient)
{
  g_autofree char *json = g_strdup_printf ("{\"resourceType\":\"Encounter\",\"status\":\"arrived\","
                                           "\"class\":{\"system\":\"http://terminology.hl7.org/"
                                           "CodeSystem/v3-ActCode\",\"code\":\"VR\"},\"subject\":"
                                           "{\"reference\":\"%s\"},\"participant\":[{\"individual\":"
                                           "{\"reference\":\"%s\"}}],\"period\":{\"start\":"
                                           "\"2026-01-01T09:00:00+08:00\"}}", patient, doctor_ref);
  g_autofree char *encounter = create (doctor, "Encounter", json);
  g_autofree char *path = g_strdup_printf ("/fhir/Encounter/%s/$visit-link", encounter);
  g_autoptr(WzTestResponse) link = request ("POST", path, doctor, NULL);
  g_autofree char *body = NULL;
  g_autoptr(WzTestResponse) session = NULL;

  g_assert_cmpuint (link->status, ==, 200);
  body = g_strdup_printf ("{\"link_token\":\"%s\"}", strstr (wz_test_member (link, "url"), "#") + 1);
  session = request ("POST", "/auth/visit", NULL, body);
  g_assert_cmpuint (session->status, ==, 200);
  return g_strdup (wz_test_member (session, "access_token"));
}

/* Writes JSON straight to the server's store, as only a server-side operation could (an approved
 * prescription); the server sees it at its next read. Returns the id. */
static char *
store_direct (const char *json)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WzSqliteStore) store = wz_sqlite_store_open (server->data_dir, &error);
  g_autoptr(JsonNode) node = json_from_string (json, &error);
  g_autoptr(WzStoredResource) stored = NULL;

  g_assert_no_error (error);
  stored = wz_store_create (WZ_STORE (store), json_node_get_object (node), NULL, NULL, &error);
  g_assert_no_error (error);
  return g_strdup (stored->id);
}

static WzTestResponse *
apply_hypertension (const char *patient,
                    const char *identifier,
                    const char *start)
{
  g_autofree char *body = g_strdup_printf ("{\"resourceType\":\"Parameters\",\"parameter\":["
                                           "{\"name\":\"template\",\"valueString\":\"hypertension\"},"
                                           "{\"name\":\"patient\",\"valueReference\":{\"reference\":"
                                           "\"%s\"}},{\"name\":\"identifier\",\"valueIdentifier\":"
                                           "{\"system\":\"urn:ietf:rfc:3986\",\"value\":\"%s\"}},"
                                           "{\"name\":\"start\",\"valueDate\":\"%s\"}]}",
                                           patient, identifier, start);

  return request ("POST", "/fhir/CarePlan/$apply-template", doctor, body);
}

static guint
array_length (JsonObject *o,
              const char *member)
{
  return json_array_get_length (json_object_get_array_member (o, member));
}

static const char *
outcome (WzTestResponse *response,
         guint           status)
{
  return wz_test_assert_outcome (response, status);
}

/* ---- Websocket ----------------------------------------------------------------------------- */

typedef struct
{
  SoupWebsocketConnection *conn;
  GQueue                   frames;
} Ws;

#define SPIN_UNTIL(condition, timeout_ms) G_STMT_START {                                   \
    gint64 deadline_ = g_get_monotonic_time () + (timeout_ms) * G_TIME_SPAN_MILLISECOND;   \
    while (!(condition) && g_get_monotonic_time () < deadline_)                            \
      if (!g_main_context_iteration (NULL, FALSE))                                         \
        g_usleep (1000);                                                                   \
  } G_STMT_END

static void
on_ws_message (SoupWebsocketConnection *conn,
               gint                     type,
               GBytes                  *message,
               Ws                      *ws)
{
  g_autofree char *text = g_strndup (g_bytes_get_data (message, NULL), g_bytes_get_size (message));

  g_queue_push_tail (&ws->frames, json_from_string (text, NULL));
}

static void
on_connected (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static Ws *
ws_open (const char *token)
{
  g_autofree char *url = g_strdup_printf ("%s/ws", server->url);
  g_autofree char *value = g_strconcat ("Bearer ", token, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  Ws *ws = g_new0 (Ws, 1);

  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", value);
  soup_session_websocket_connect_async (ws_session, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL,
                                        on_connected, &result);
  SPIN_UNTIL (result != NULL, FRAME_TIMEOUT_MS);
  ws->conn = soup_session_websocket_connect_finish (ws_session, result, &error);
  g_assert_no_error (error);
  g_queue_init (&ws->frames);
  g_signal_connect (ws->conn, "message", G_CALLBACK (on_ws_message), ws);
  SPIN_UNTIL (!g_queue_is_empty (&ws->frames), FRAME_TIMEOUT_MS);   /* hello */
  g_assert_false (g_queue_is_empty (&ws->frames));
  json_node_unref (g_queue_pop_head (&ws->frames));
  return ws;
}

static void
ws_free (Ws *ws)
{
  g_signal_handlers_disconnect_by_data (ws->conn, ws);
  soup_websocket_connection_close (ws->conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  g_object_unref (ws->conn);
  g_queue_clear_full (&ws->frames, (GDestroyNotify) json_node_unref);
  g_free (ws);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Ws, ws_free)

/* Every frame up to the answer to a ping sent now: the server sends in order, so whatever it
 * sent before is in. Counts "resource" frames about TYPE. */
static guint
resource_frames (Ws         *ws,
                 const char *type)
{
  guint n = 0;
  gboolean pong = FALSE;

  soup_websocket_connection_send_text (ws->conn, "{\"type\":\"ping\"}");
  while (!pong)
    {
      g_autoptr(JsonNode) frame = NULL;
      JsonObject *o;

      SPIN_UNTIL (!g_queue_is_empty (&ws->frames), FRAME_TIMEOUT_MS);
      g_assert_false (g_queue_is_empty (&ws->frames));
      frame = g_queue_pop_head (&ws->frames);
      o = json_node_get_object (frame);
      if (g_strcmp0 (json_object_get_string_member_with_default (o, "type", ""), "pong") == 0)
        pong = TRUE;
      else if (g_strcmp0 (json_object_get_string_member_with_default (o, "resourceType", ""),
                          type) == 0)
        n++;
    }
  return n;
}

/* ---- Tests --------------------------------------------------------------------------------- */

static void
test_task_search_params (void)
{
  g_autofree char *patient = new_patient ("甲", "1955-02-01");
  g_autofree char *start = beijing_day (-30);
  g_autofree char *end_of_year = beijing_day (365);
  g_autoptr(WzTestResponse) plan = apply_hypertension (patient, "urn:uuid:6a0e9a3c-1f11-4a5b-8c3d-0e1f2a3b4c5d", start);
  JsonArray *entries;
  const char *plan_id;
  g_autofree char *path = NULL;
  gint64 n_tasks, owned, in_progress, mine;

  g_assert_cmpuint (plan->status, ==, 201);
  entries = json_object_get_array_member (object (plan), "entry");
  n_tasks = json_array_get_length (entries) - 1;
  plan_id = json_object_get_string_member (json_object_get_object_member (
    json_array_get_object_element (entries, 0), "resource"), "id");

  path = g_strdup_printf ("/fhir/Task?based-on=CarePlan/%s&_count=200", plan_id);
  g_assert_cmpint (total (doctor, path), ==, n_tasks);
  g_free (path);
  path = g_strdup_printf ("/fhir/Task?patient=%s&status=in-progress&_count=1", patient);
  in_progress = total (doctor, path);
  g_assert_cmpint (in_progress, ==, 4);   /* the template's four measurements run the whole plan */
  g_free (path);
  path = g_strdup_printf ("/fhir/Task?owner=%s&due-date=le%s&based-on=CarePlan/%s&_count=200",
                          doctor_ref, end_of_year, plan_id);
  owned = total (doctor, path);
  g_assert_cmpint (owned, >, 0);
  g_assert_cmpint (owned, <, n_tasks);
  {
    g_autoptr(WzTestResponse) page = request ("GET", path, doctor, NULL);
    JsonArray *found = json_object_get_array_member (object (page), "entry");

    for (guint i = 0; i < json_array_get_length (found); i++)
      {
        JsonObject *task = json_object_get_object_member (json_array_get_object_element (found, i),
                                                          "resource");

        g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (task, "owner"),
                                                        "reference"), ==, doctor_ref);
      }
  }
  g_free (path);
  path = g_strdup_printf ("/fhir/Task?owner=%s&based-on=CarePlan/%s&_count=200", patient, plan_id);
  mine = total (doctor, path);
  g_assert_cmpint (mine + owned, ==, n_tasks);
  /* Due dates: nothing of a plan started a month ago is due before it started. */
  g_free (path);
  path = g_strdup_printf ("/fhir/Task?based-on=CarePlan/%s&due-date=lt%s", plan_id, start);
  g_assert_cmpint (total (doctor, path), ==, 0);
  g_free (path);
  path = g_strdup_printf ("/fhir/Task?based-on=CarePlan/%s&_sort=due-date&_count=2", plan_id);
  {
    g_autoptr(WzTestResponse) sorted = request ("GET", path, doctor, NULL);

    g_assert_cmpuint (sorted->status, ==, 200);
  }
  /* Another doctor's search finds none of it. */
  g_free (path);
  path = g_strdup_printf ("/fhir/Task?based-on=CarePlan/%s", plan_id);
  g_assert_cmpint (total (doctor2, path), ==, 0);

  {
    g_autoptr(WzTestResponse) bad_owner = request ("GET", "/fhir/Task?owner=nobody", doctor, NULL);
    g_autoptr(WzTestResponse) bad_date = request ("GET", "/fhir/Task?due-date=2024-02-30", doctor,
                                                  NULL);
    g_autoptr(WzTestResponse) bad_focus = request ("GET", "/fhir/Task?focus=", doctor, NULL);

    g_assert_nonnull (strstr (outcome (bad_owner, 400), "owner"));
    outcome (bad_date, 400);
    outcome (bad_focus, 400);
  }
}

static void
test_worklist_pages (void)
{
  g_autoptr(WzTestResponse) first = NULL;
  g_autoptr(WzTestResponse) zero = NULL;
  g_autoptr(WzTestResponse) negative = NULL;
  g_autoptr(WzTestResponse) by_patient = NULL;
  g_autofree char *patient = new_patient ("乙", "1950-06-01");
  g_autofree char *session = patient_session (patient);
  g_autofree char *start = beijing_day (-10);
  g_autoptr(WzTestResponse) plan = apply_hypertension (patient, "urn:uuid:0c7d3e51-2b1a-4f3e-9d8c-7b6a5f4e3d2c", start);
  g_autoptr(WzTestResponse) reading = NULL;
  JsonObject *list;

  g_assert_cmpuint (plan->status, ==, 201);
  reading = request ("POST", "/followup/me/readings", session,
                     "{\"identifier\":\"urn:uuid:5e2b1c0d-9f8e-4d7c-a6b5-4c3d2e1f0a9b\","
                     "\"kind\":\"blood-pressure\",\"systolic\":150,\"diastolic\":92}");
  g_assert_cmpuint (reading->status, ==, 201);

  first = request ("GET", "/followup/worklist?_count=1&lang=en", doctor, NULL);
  g_assert_cmpuint (first->status, ==, 200);
  list = object (first);
  g_assert_cmpint (json_object_get_int_member (list, "count"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (list, "total"), >=, 1);
  g_assert_cmpint (array_length (list, "patients"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (list, "counts"),
                                               "patients"), ==,
                   json_object_get_int_member (list, "total"));
  {
    /* The flagged patient is on the list with the reading against its target. */
    g_autoptr(WzTestResponse) all = request ("GET", "/followup/worklist?lang=en", doctor, NULL);
    JsonArray *rows = json_object_get_array_member (object (all), "patients");
    gboolean seen = FALSE;

    for (guint i = 0; i < json_array_get_length (rows); i++)
      {
        JsonObject *row = json_array_get_object_element (rows, i);

        if (g_strcmp0 (json_object_get_string_member (row, "patient"), patient) != 0)
          continue;
        seen = TRUE;
        g_assert_cmpstr (json_object_get_string_member (row, "alert"), ==, "flagged");
        g_assert_cmpint (array_length (row, "measurements"), >, 0);
      }
    g_assert_true (seen);
  }
  {
    g_autoptr(WzTestResponse) other = request ("GET", "/followup/worklist", doctor2, NULL);
    JsonArray *rows = json_object_get_array_member (object (other), "patients");

    for (guint i = 0; i < json_array_get_length (rows); i++)
      g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (rows, i),
                                                      "patient"), !=, patient);
  }

  zero = request ("GET", "/followup/worklist?_count=0", doctor, NULL);
  outcome (zero, 400);
  negative = request ("GET", "/followup/worklist?_offset=-1", doctor, NULL);
  outcome (negative, 400);
  by_patient = request ("GET", "/followup/worklist", session, NULL);
  outcome (by_patient, 403);
}

static char *
revisit_task (const char *patient,
              const char *due,
              const char *window_end)
{
  g_autofree char *json = g_strdup_printf (
    "{\"resourceType\":\"Task\",\"extension\":[{\"url\":\"" DUE_EXTENSION "\",\"valueDate\":"
    "\"%s\"}],\"status\":\"requested\",\"intent\":\"plan\",\"code\":{\"coding\":[{\"system\":"
    "\"" TASK_SYSTEM "\",\"code\":\"revisit\"}],\"text\":\"复诊 Revisit\"},\"description\":"
    "\"复诊：血压复查 Revisit: blood pressure review\",\"for\":{\"reference\":\"%s\"},"
    "\"requester\":{\"reference\":\"%s\"},\"owner\":{\"reference\":\"%s\"},\"restriction\":"
    "{\"period\":{\"start\":\"%s\",\"end\":\"%s\"}}}", due, patient, doctor_ref, doctor_ref, due,
    window_end);

  return create (doctor, "Task", json);
}

static void
test_revisit_queue (void)
{
  g_autofree char *patient = new_patient ("丙", "1948-09-09");
  g_autofree char *today = beijing_day (0);
  g_autofree char *next_week = beijing_day (7);
  g_autofree char *long_ago = beijing_day (-60);
  g_autofree char *long_ago_end = beijing_day (-50);
  g_autofree char *task = revisit_task (patient, today, next_week);
  g_autofree char *missed = revisit_task (patient, long_ago, long_ago_end);
  g_autofree char *escaped = g_uri_escape_string (VISIT_SYSTEM "|", NULL, FALSE);
  g_autofree char *query = g_strdup_printf ("/fhir/Encounter?identifier=%sTask/%s", escaped, task);
  g_autofree char *missed_query = g_strdup_printf ("/fhir/Encounter?identifier=%sTask/%s", escaped,
                                                   missed);
  g_autofree char *encounter_id = NULL;
  g_autofree char *session = NULL;
  g_autofree char *body = NULL;

  /* Due today: queued when the server starts (and every ten minutes), once. */
  for (guint round = 0; round < 2; round++)
    {
      g_assert_cmpint (wz_test_server_stop (server), ==, 0);
      wz_test_server_start (server);
      {
        g_autoptr(WzTestResponse) found = NULL;
        JsonObject *visit;

        /* The queue is filled just after the server starts listening. */
        for (guint wait = 0; wait < 100; wait++)
          {
            g_clear_pointer (&found, wz_test_response_free);
            found = request ("GET", query, doctor, NULL);
            if (found->status == 200 && json_object_get_int_member (object (found), "total") > 0)
              break;
            g_usleep (100 * 1000);
          }
        g_assert_cmpuint (found->status, ==, 200);
        g_assert_cmpint (json_object_get_int_member (object (found), "total"), ==, 1);
        visit = json_object_get_object_member (json_array_get_object_element (
          json_object_get_array_member (object (found), "entry"), 0), "resource");
        g_assert_cmpstr (json_object_get_string_member (visit, "status"), ==, "planned");
        g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (visit, "class"),
                                                        "code"), ==, "VR");
        if (encounter_id == NULL)
          encounter_id = g_strdup (json_object_get_string_member (visit, "id"));
        else
          g_assert_cmpstr (encounter_id, ==, json_object_get_string_member (visit, "id"));
      }
    }
  /* A revisit whose window passed weeks ago stays on the worklist, not in today's queue. */
  g_assert_cmpint (total (doctor, missed_query), ==, 0);

  /* The patient confirming it finds the same visit. */
  session = patient_session (patient);
  body = g_strdup_printf ("{\"task\":\"Task/%s\"}", task);
  {
    g_autoptr(WzTestResponse) confirm = request ("POST", "/followup/me/confirm", session, body);
    g_autofree char *expected = g_strconcat ("Encounter/", encounter_id, NULL);

    g_assert_cmpuint (confirm->status, ==, 200);
    g_assert_cmpstr (wz_test_member (confirm, "encounter"), ==, expected);
  }
  g_assert_cmpint (total (doctor, query), ==, 1);
  {
    g_autoptr(WzTestResponse) bad = request ("POST", "/followup/me/confirm", session, "{\"task\":1}");
    g_autoptr(WzTestResponse) not_a_revisit = request ("POST", "/followup/me/confirm", session,
                                                       "{\"task\":\"Task/nope\"}");
    g_autoptr(WzTestResponse) extra = request ("POST", "/followup/me/confirm", session,
                                               "{\"task\":\"Task/x\",\"also\":1}");

    outcome (bad, 400);
    outcome (not_a_revisit, 404);
    outcome (extra, 400);
  }
}

static void
test_reading_flags (void)
{
  g_autofree char *patient = new_patient ("丁", "1958-03-03");
  g_autofree char *session = patient_session (patient);
  g_autofree char *start = beijing_day (-5);
  g_autoptr(WzTestResponse) plan = apply_hypertension (patient, "urn:uuid:9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", start);
  g_autofree char *flags = g_strdup_printf ("/fhir/Flag?patient=%s&status=active", patient);
  g_autofree char *urgent = g_strdup_printf ("/fhir/Flag?patient=%s&status=active&code=" ALERT_SYSTEM
                                             "%%7Curgent", patient);
  g_autofree char *observations = g_strdup_printf ("/fhir/Observation?patient=%s", patient);
  g_autoptr(Ws) mine = NULL;
  g_autoptr(Ws) other = NULL;
  const char *high = "{\"identifier\":\"urn:uuid:1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d\","
                     "\"kind\":\"blood-pressure\",\"systolic\":186,\"diastolic\":112}";
  gint64 n_observations;

  g_assert_cmpuint (plan->status, ==, 201);
  mine = ws_open (doctor);
  other = ws_open (doctor2);

  {
    g_autoptr(WzTestResponse) sent = request ("POST", "/followup/me/readings?lang=en", session, high);
    g_autoptr(WzTestResponse) again = request ("POST", "/followup/me/readings?lang=en", session, high);
    JsonArray *alerts;

    g_assert_cmpuint (sent->status, ==, 201);
    alerts = json_object_get_array_member (object (sent), "alerts");
    g_assert_cmpint (json_array_get_length (alerts), ==, 1);
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (alerts, 0),
                                                    "level"), ==, "urgent");
    g_assert_nonnull (strstr (json_object_get_string_member (json_array_get_object_element (alerts, 0),
                                                             "text"), "186"));
    /* The retry finds the reading and its alert; nothing more is stored. */
    g_assert_cmpuint (again->status, ==, 200);
    g_assert_cmpstr (wz_test_member (again, "observation"), ==, wz_test_member (sent, "observation"));
    g_assert_cmpint (array_length (object (again), "alerts"), ==, 1);
  }
  g_assert_cmpint (total (doctor, urgent), ==, 1);
  g_assert_cmpint (total (doctor2, flags), ==, 0);
  /* The doctor's app hears of the Flag; another doctor's does not. */
  g_assert_cmpuint (resource_frames (mine, "Flag"), ==, 1);
  g_assert_cmpuint (resource_frames (other, "Flag"), ==, 0);

  /* Back in range: the alert closes. */
  {
    g_autoptr(WzTestResponse) calm = request ("POST", "/followup/me/readings", session,
                                              "{\"identifier\":\"urn:uuid:2b3c4d5e-6f70-4a8b-9cad-1e2f3a4b5c6d\","
                                              "\"kind\":\"blood-pressure\",\"systolic\":122,"
                                              "\"diastolic\":76,\"pulse\":70}");

    g_assert_cmpuint (calm->status, ==, 201);
    g_assert_cmpint (array_length (object (calm), "alerts"), ==, 0);
  }
  g_assert_cmpint (total (doctor, flags), ==, 0);

  /* Bad readings are refused and store nothing. */
  n_observations = total (doctor, observations);
  {
    const char *bodies[] = {
      "{\"identifier\":\"urn:uuid:3c4d5e6f-7081-4a9b-8cbd-2e3f4a5b6c7d\",\"kind\":\"temperature\",\"value\":38}",
      "{\"identifier\":\"urn:uuid:3c4d5e6f-7081-4a9b-8cbd-2e3f4a5b6c7d\",\"kind\":\"blood-pressure\",\"systolic\":500,\"diastolic\":80}",
      "{\"identifier\":\"urn:uuid:3c4d5e6f-7081-4a9b-8cbd-2e3f4a5b6c7d\",\"kind\":\"blood-pressure\",\"systolic\":80,\"diastolic\":120}",
      "{\"identifier\":\"urn:uuid:3c4d5e6f-7081-4a9b-8cbd-2e3f4a5b6c7d\",\"kind\":\"blood-pressure\",\"systolic\":\"140\",\"diastolic\":80}",
      "{\"identifier\":\"urn:uuid:3c4d5e6f-7081-4a9b-8cbd-2e3f4a5b6c7d\",\"kind\":\"glucose\",\"value\":6.1,\"timing\":\"lunch\"}",
      "{\"identifier\":\"urn:uuid:3c4d5e6f-7081-4a9b-8cbd-2e3f4a5b6c7d\",\"kind\":\"weight\",\"value\":70,\"subject\":\"Patient/x\"}",
      "{\"identifier\":\"urn:uuid:3c4d5e6f-7081-4a9b-8cbd-2e3f4a5b6c7d\",\"kind\":\"weight\",\"value\":70,\"effective\":\"2999-01-01T00:00:00Z\"}",
      "{\"kind\":\"weight\",\"value\":70}",
      "{\"identifier\":\"urn:uuid:3c4d5e6f\",\"kind\":",
      "[1,2]",
    };

    for (guint i = 0; i < G_N_ELEMENTS (bodies); i++)
      {
        g_autoptr(WzTestResponse) refused = request ("POST", "/followup/me/readings", session,
                                                     bodies[i]);

        outcome (refused, 400);
      }
  }
  g_assert_cmpint (total (doctor, observations), ==, n_observations);
  {
    /* Only the patient page reports for the patient. */
    g_autoptr(WzTestResponse) by_doctor = request ("POST", "/followup/me/readings", doctor, high);

    outcome (by_doctor, 403);
  }
  {
    /* A reading written through the FHIR API is judged too. */
    g_autofree char *json = g_strdup_printf (
      "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"coding\":[{\"system\":"
      "\"http://loinc.org\",\"code\":\"85354-9\"}]},\"subject\":{\"reference\":\"%s\"},"
      "\"effectiveDateTime\":\"2026-11-20T08:00:00+08:00\",\"component\":[{\"code\":{\"coding\":"
      "[{\"system\":\"http://loinc.org\",\"code\":\"8480-6\"}]},\"valueQuantity\":{\"value\":"
      "150,\"unit\":\"mmHg\",\"system\":\"http://unitsofmeasure.org\",\"code\":\"mm[Hg]\"}}]}",
      patient);
    g_autofree char *id = create (doctor, "Observation", json);
    g_autofree char *out_of_range = g_strdup_printf ("/fhir/Flag?patient=%s&status=active&code="
                                                     ALERT_SYSTEM "%%7Cout-of-range", patient);

    g_assert_nonnull (id);
    g_assert_cmpint (total (doctor, out_of_range), ==, 1);
  }
}

static void
test_refill_plan (void)
{
  struct
  {
    const char *json;
    double      strength;
    double      days;
    gboolean    from_quantity;
  } cases[] = {
    /* 30 tablets of 5 mg, 5 mg once a day: a month. */
    { "{\"dosageInstruction\":[{\"timing\":{\"code\":{\"coding\":[{\"code\":\"qd\"}]}},"
      "\"doseAndRate\":[{\"doseQuantity\":{\"value\":5,\"unit\":\"mg\"}}]}],"
      "\"dispenseRequest\":{\"quantity\":{\"value\":30,\"unit\":\"片\"},"
      "\"expectedSupplyDuration\":{\"value\":28,\"code\":\"d\"}}}", 5, 30, TRUE },
    /* 10 mg twice a day from 5 mg tablets: 60 tablets last 15 days. */
    { "{\"dosageInstruction\":[{\"timing\":{\"code\":{\"coding\":[{\"code\":\"bid\"}]}},"
      "\"doseAndRate\":[{\"doseQuantity\":{\"value\":10,\"unit\":\"mg\"}}]}],"
      "\"dispenseRequest\":{\"quantity\":{\"value\":60,\"unit\":\"tablets\"}}}", 5, 15, TRUE },
    /* Dosed in tablets: no strength needed. 2 tablets three times a day, 42 tablets: 7 days. */
    { "{\"dosageInstruction\":[{\"timing\":{\"code\":{\"coding\":[{\"code\":\"tid\"}]}},"
      "\"doseAndRate\":[{\"doseQuantity\":{\"value\":2,\"unit\":\"tablet\"}}]}],"
      "\"dispenseRequest\":{\"quantity\":{\"value\":42,\"unit\":\"片\"}}}", 0, 7, TRUE },
    /* Tablets against mg without a known strength: the prescriber's days. */
    { "{\"dosageInstruction\":[{\"timing\":{\"code\":{\"coding\":[{\"code\":\"qd\"}]}},"
      "\"doseAndRate\":[{\"doseQuantity\":{\"value\":5,\"unit\":\"mg\"}}]}],"
      "\"dispenseRequest\":{\"quantity\":{\"value\":30,\"unit\":\"片\"},"
      "\"expectedSupplyDuration\":{\"value\":28,\"code\":\"d\"}}}", 0, 28, FALSE },
  };
  WzDay start = wz_day_from_ymd (2024, 2, 20);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(JsonNode) node = json_from_string (cases[i].json, NULL);
      g_autoptr(GError) error = NULL;
      WzRefillPlan plan;

      g_assert_true (wz_refill_plan_compute (json_node_get_object (node), start, cases[i].strength,
                                             &plan, &error));
      g_assert_no_error (error);
      g_assert_cmpfloat (plan.days_supply, ==, cases[i].days);
      g_assert_cmpint (plan.from_quantity, ==, cases[i].from_quantity);
      g_assert_cmpuint (plan.runs_out, ==, wz_day_add_days (start, (gint) cases[i].days));
      g_assert_cmpuint (plan.refill_due, ==, wz_day_add_days (plan.runs_out, -WZ_REFILL_LEAD_DAYS));
    }
  {
    /* 2024 is a leap year: 30 days from 20 February run out on 21 March. */
    g_autoptr(JsonNode) node = json_from_string (cases[0].json, NULL);
    WzRefillPlan plan;
    g_autofree char *runs_out = NULL;

    g_assert_true (wz_refill_plan_compute (json_node_get_object (node), start, 5, &plan, NULL));
    runs_out = wz_day_format (plan.runs_out);
    g_assert_cmpstr (runs_out, ==, "2024-03-21");
  }
  {
    /* As needed without a daily maximum, and nothing dispensed: no date can be given. */
    g_autoptr(JsonNode) node = json_from_string (
      "{\"dosageInstruction\":[{\"asNeededBoolean\":true,\"doseAndRate\":[{\"doseQuantity\":"
      "{\"value\":1,\"unit\":\"tablet\"}}]}]}", NULL);
    g_autoptr(GError) error = NULL;
    WzRefillPlan plan;

    g_assert_false (wz_refill_plan_compute (json_node_get_object (node), start, 0, &plan, &error));
    g_assert_error (error, WZ_ERROR, WZ_ERROR_UNPROCESSABLE);
  }
}

static char *
medication_request (const char *patient,
                    const char *status,
                    const char *name)
{
  g_autofree char *json = g_strdup_printf (
    "{\"resourceType\":\"MedicationRequest\",\"status\":\"%s\",\"intent\":\"order\","
    "\"medicationCodeableConcept\":{\"coding\":[{\"system\":"
    "\"https://wenzhen.github.io/fhir/CodeSystem/formulary\",\"code\":\"WZ0001\"}],\"text\":"
    "\"%s\"},\"subject\":{\"reference\":\"%s\"},\"requester\":{\"reference\":\"%s\"},"
    "\"authoredOn\":\"2026-11-01T10:00:00+08:00\",\"dosageInstruction\":[{\"text\":"
    "\"每日一次，每次5 mg\",\"timing\":{\"code\":{\"coding\":[{\"code\":\"qd\"}]}},"
    "\"doseAndRate\":[{\"doseQuantity\":{\"value\":5,\"unit\":\"mg\"}}]}],\"dispenseRequest\":"
    "{\"quantity\":{\"value\":30,\"unit\":\"片\"},\"expectedSupplyDuration\":{\"value\":30,"
    "\"code\":\"d\"}}}", status, name, patient, doctor_ref);

  return store_direct (json);
}

static void
approve (const char *patient,
         const char *request_id)
{
  g_autofree char *json = g_strdup_printf (
    "{\"resourceType\":\"Task\",\"status\":\"completed\",\"intent\":\"order\",\"code\":{"
    "\"coding\":[{\"system\":\"http://hl7.org/fhir/CodeSystem/task-code\",\"code\":\"approve\"}]},"
    "\"focus\":{\"reference\":\"MedicationRequest/%s\"},\"for\":{\"reference\":\"%s\"},"
    "\"lastModified\":\"2026-11-01T11:00:00+08:00\",\"requester\":{\"reference\":\"%s\"},"
    "\"owner\":{\"reference\":\"%s\"},\"input\":[{\"type\":{\"text\":\"MedicationRequest\"},"
    "\"valueReference\":{\"reference\":\"MedicationRequest/%s\"}}]}", request_id, patient,
    doctor_ref, pharmacist_ref, request_id);
  g_autofree char *id = store_direct (json);

  g_assert_nonnull (id);
}

static void
test_prescriptions_and_renewal (void)
{
  g_autofree char *patient = new_patient ("戊", "1960-01-10");
  g_autofree char *someone = new_patient ("己", "1961-01-10");
  g_autofree char *session = patient_session (patient);
  g_autofree char *approved = medication_request (patient, "active", "氨氯地平片 Amlodipine 5 mg");
  g_autofree char *draft = medication_request (patient, "draft", "未审核的草稿 Unreviewed draft");
  g_autofree char *theirs = medication_request (someone, "active", "别人的药 Someone else's");
  g_autofree char *body = NULL;
  g_autofree char *renewal_task = NULL;
  g_autofree char *renewal_visit = NULL;
  JsonArray *list;
  JsonObject *line;

  approve (patient, approved);
  approve (someone, theirs);
  {
    g_autoptr(WzTestResponse) mine = request ("GET", "/followup/me/prescriptions?lang=en", session,
                                              NULL);

    g_assert_cmpuint (mine->status, ==, 200);
    list = json_object_get_array_member (object (mine), "prescriptions");
    /* The approved one only: not the draft, not another patient's. */
    g_assert_cmpint (json_array_get_length (list), ==, 1);
    line = json_array_get_object_element (list, 0);
    g_assert_cmpstr (json_object_get_string_member (line, "medication"), ==,
                     "氨氯地平片 Amlodipine 5 mg");
    g_assert_cmpstr (json_object_get_string_member (line, "frequency"), ==, "once a day");
    g_assert_cmpint (json_object_get_int_member (line, "days"), ==, 30);
    g_assert_nonnull (strstr (json_object_get_string_member (line, "approved"), "2026-11-01"));
    g_assert_cmpstr (json_object_get_string_member (line, "pharmacist"), !=, "");
    /* 30 tablets of 5 mg at 5 mg a day from the approval day (sample formulary strength). */
    g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (line, "refill"),
                                                 "daysSupply"), ==, 30);
    g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (line, "refill"),
                                                    "runsOut"), ==, "2026-12-01");
  }

  body = g_strdup_printf ("{\"identifier\":\"urn:uuid:4d5e6f70-8192-4aab-9bcd-3f4a5b6c7d8e\","
                          "\"medicationRequest\":\"MedicationRequest/%s\"}", approved);
  {
    g_autoptr(WzTestResponse) renewal = request ("POST", "/followup/me/renewal", session, body);
    g_autoptr(WzTestResponse) again = request ("POST", "/followup/me/renewal", session, body);

    g_assert_cmpuint (renewal->status, ==, 201);
    renewal_task = g_strdup (wz_test_member (renewal, "task"));
    renewal_visit = g_strdup (wz_test_member (renewal, "encounter"));
    g_assert_cmpuint (again->status, ==, 200);
    g_assert_cmpstr (wz_test_member (again, "task"), ==, renewal_task);
    g_assert_cmpstr (wz_test_member (again, "encounter"), ==, renewal_visit);
  }
  {
    /* In the prescriber's queue, naming the medicine; the Task points at the prescription. */
    g_autofree char *path = g_strconcat ("/fhir/", renewal_visit, NULL);
    g_autoptr(WzTestResponse) visit = request ("GET", path, doctor, NULL);
    g_autofree char *by_focus = g_strdup_printf ("/fhir/Task?focus=MedicationRequest/%s&code="
                                                 TASK_SYSTEM "%%7Crenewal-request", approved);
    JsonObject *reason;

    g_assert_cmpuint (visit->status, ==, 200);
    g_assert_cmpstr (wz_test_member (visit, "status"), ==, "planned");
    reason = json_array_get_object_element (json_object_get_array_member (object (visit),
                                                                          "reasonCode"), 0);
    g_assert_nonnull (strstr (json_object_get_string_member (reason, "text"), "Amlodipine"));
    g_assert_cmpint (total (doctor, by_focus), ==, 1);
  }
  {
    g_autofree char *for_draft = g_strdup_printf (
      "{\"identifier\":\"urn:uuid:5e6f7081-92a3-4bbc-8cde-4a5b6c7d8e9f\",\"medicationRequest\":"
      "\"MedicationRequest/%s\"}", draft);
    g_autofree char *for_theirs = g_strdup_printf (
      "{\"identifier\":\"urn:uuid:5e6f7081-92a3-4bbc-8cde-4a5b6c7d8e9f\",\"medicationRequest\":"
      "\"MedicationRequest/%s\"}", theirs);
    g_autoptr(WzTestResponse) refused_draft = request ("POST", "/followup/me/renewal", session,
                                                       for_draft);
    g_autoptr(WzTestResponse) refused_theirs = request ("POST", "/followup/me/renewal", session,
                                                        for_theirs);
    g_autoptr(WzTestResponse) malformed = request ("POST", "/followup/me/renewal", session,
                                                   "{\"identifier\":\"urn:uuid:5e6f7081-92a3-4bbc-8cde-4a5b6c7d8e9f\","
                                                   "\"medicationRequest\":\"Patient/1\"}");
    g_autoptr(WzTestResponse) by_doctor = request ("GET", "/followup/me/prescriptions", doctor,
                                                   NULL);
    g_autofree char *tasks = g_strdup_printf ("/fhir/Task?patient=%s&code=" TASK_SYSTEM
                                              "%%7Crenewal-request", patient);

    outcome (refused_draft, 404);
    outcome (refused_theirs, 404);
    outcome (malformed, 400);
    outcome (by_doctor, 403);
    g_assert_cmpint (total (doctor, tasks), ==, 1);
  }
  {
    /* The patient's session reads no prescription, Task or other data through the FHIR API. */
    g_autoptr(WzTestResponse) requests = request ("GET", "/fhir/MedicationRequest", session, NULL);
    g_autofree char *path = g_strconcat ("/fhir/MedicationRequest/", theirs, NULL);
    g_autoptr(WzTestResponse) read = request ("GET", path, session, NULL);
    g_autoptr(WzTestResponse) tasks = request ("GET", "/fhir/Task", session, NULL);

    outcome (requests, 403);
    outcome (read, 403);
    outcome (tasks, 403);
  }
}

static char *
immunization (const char *patient,
              const char *vaccine,
              const char *date)
{
  g_autofree char *json = g_strdup_printf (
    "{\"resourceType\":\"Immunization\",\"status\":\"completed\",\"vaccineCode\":{\"coding\":"
    "[{\"system\":\"https://wenzhen.example/fhir/CodeSystem/nip-vaccine\",\"code\":\"%s\"}]},"
    "\"patient\":{\"reference\":\"%s\"},\"occurrenceDateTime\":\"%sT09:00:00+08:00\","
    "\"performer\":[{\"actor\":{\"reference\":\"%s\"}}]}", vaccine, patient, date, doctor_ref);

  return create (doctor, "Immunization", json);
}

static char *
adverse_event (const char *patient,
               const char *immunization_id,
               const char *seriousness,
               gboolean    with_suspect)
{
  g_autofree char *suspect = with_suspect
                             ? g_strdup_printf (",\"suspectEntity\":[{\"instance\":{\"reference\":"
                                                "\"Immunization/%s\"}}]", immunization_id)
                             : g_strdup ("");

  return g_strdup_printf (
    "{\"resourceType\":\"AdverseEvent\",\"actuality\":\"actual\",\"event\":{\"text\":"
    "\"发热 39.2°C Fever 39.2 °C\"},\"subject\":{\"reference\":\"%s\"},\"date\":"
    "\"2026-11-20T20:00:00+08:00\",\"recorder\":{\"reference\":\"%s\"},\"seriousness\":{"
    "\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/adverse-event-seriousness\","
    "\"code\":\"%s\"}]}%s}", patient, doctor_ref, seriousness, suspect);
}

static void
test_adverse_event (void)
{
  g_autofree char *child = new_patient ("庚", "2025-05-20");
  g_autofree char *other_child = new_patient ("辛", "2025-06-20");
  g_autofree char *dose = immunization (child, "MMR", "2026-11-19");
  g_autofree char *other_dose = immunization (other_child, "MMR", "2026-11-19");
  g_autofree char *session = patient_session (child);
  g_autofree char *events = g_strdup_printf ("/fhir/AdverseEvent?patient=%s", child);
  g_autofree char *by_substance = g_strdup_printf ("/fhir/AdverseEvent?substance=Immunization/%s",
                                                   dose);
  g_autofree char *serious_flags = g_strdup_printf ("/fhir/Flag?patient=%s&status=active&code="
                                                    ALERT_SYSTEM "%%7Curgent", child);
  g_autofree char *event_id = NULL;

  {
    g_autofree char *no_suspect = adverse_event (child, dose, "serious", FALSE);
    g_autofree char *bad_seriousness = adverse_event (child, dose, "grave", TRUE);
    g_autofree char *wrong_child = adverse_event (child, other_dose, "serious", TRUE);
    g_autoptr(WzTestResponse) a = request ("POST", "/fhir/AdverseEvent", doctor, no_suspect);
    g_autoptr(WzTestResponse) b = request ("POST", "/fhir/AdverseEvent", doctor, bad_seriousness);
    g_autoptr(WzTestResponse) c = request ("POST", "/fhir/AdverseEvent", doctor, wrong_child);
    g_autoptr(WzTestResponse) d = request ("POST", "/fhir/AdverseEvent", doctor,
                                           "{\"resourceType\":\"AdverseEvent\",\"actuality\":"
                                           "\"actual\"}");

    g_assert_nonnull (strstr (outcome (a, 400), "suspectEntity"));
    g_assert_nonnull (strstr (outcome (b, 400), "seriousness"));
    outcome (c, 422);
    outcome (d, 400);
    g_assert_cmpint (total (doctor, events), ==, 0);
  }
  {
    g_autofree char *valid = adverse_event (child, dose, "serious", TRUE);

    event_id = create (doctor, "AdverseEvent", valid);
  }
  g_assert_cmpint (total (doctor, events), ==, 1);
  g_assert_cmpint (total (doctor, by_substance), ==, 1);
  g_assert_cmpint (total (doctor, serious_flags), ==, 1);
  /* Care-team scoped: another doctor neither finds nor reads it. */
  g_assert_cmpint (total (doctor2, events), ==, 0);
  {
    g_autofree char *path = g_strconcat ("/fhir/AdverseEvent/", event_id, NULL);
    g_autoptr(WzTestResponse) read = request ("GET", path, doctor2, NULL);

    outcome (read, 404);
  }

  /* The family reports from the page: their own child's dose only. */
  {
    g_autofree char *body = g_strdup_printf (
      "{\"identifier\":\"urn:uuid:6f708192-a3b4-4ccd-9def-5b6c7d8e9fa0\",\"immunization\":"
      "\"Immunization/%s\",\"date\":\"2026-11-21T08:00:00+08:00\",\"what\":\"皮疹 Rash\","
      "\"serious\":false}", dose);
    g_autofree char *theirs = g_strdup_printf (
      "{\"identifier\":\"urn:uuid:708192a3-b4c5-4dde-8f01-6c7d8e9fa0b1\",\"immunization\":"
      "\"Immunization/%s\",\"date\":\"2026-11-21T08:00:00+08:00\",\"what\":\"皮疹 Rash\","
      "\"serious\":false}", other_dose);
    g_autoptr(WzTestResponse) reported = request ("POST", "/followup/me/reaction", session, body);
    g_autoptr(WzTestResponse) again = request ("POST", "/followup/me/reaction", session, body);
    g_autoptr(WzTestResponse) refused = request ("POST", "/followup/me/reaction", session, theirs);
    g_autoptr(WzTestResponse) no_what = request ("POST", "/followup/me/reaction", session,
                                                 "{\"identifier\":\"urn:uuid:8192a3b4-c5d6-4eef-9012-7d8e9fa0b1c2\","
                                                 "\"immunization\":\"Immunization/x\",\"date\":"
                                                 "\"2026-11-21T08:00:00+08:00\",\"serious\":false}");
    g_autoptr(WzTestResponse) future = NULL;
    g_autoptr(WzTestResponse) generic = NULL;
    g_autofree char *future_body = g_strdup_printf (
      "{\"identifier\":\"urn:uuid:92a3b4c5-d6e7-4ff0-8123-8e9fa0b1c2d3\",\"immunization\":"
      "\"Immunization/%s\",\"date\":\"2999-01-01T08:00:00+08:00\",\"what\":\"x\","
      "\"serious\":false}", dose);
    g_autofree char *generic_body = adverse_event (child, dose, "non-serious", TRUE);

    g_assert_cmpuint (reported->status, ==, 201);
    g_assert_cmpuint (again->status, ==, 200);
    g_assert_cmpstr (wz_test_member (again, "adverseEvent"), ==,
                     wz_test_member (reported, "adverseEvent"));
    outcome (refused, 404);
    outcome (no_what, 400);
    future = request ("POST", "/followup/me/reaction", session, future_body);
    outcome (future, 400);
    /* The page has its own door; the FHIR API's is for the care team. */
    generic = request ("POST", "/fhir/AdverseEvent", session, generic_body);
    outcome (generic, 403);
  }
  g_assert_cmpint (total (doctor, events), ==, 2);
  /* Not serious: no further alert. */
  g_assert_cmpint (total (doctor, serious_flags), ==, 1);

  {
    /* Screening before the next dose: stored once, a finding alerts the doctor, foreign answers
     * are refused. */
    g_autoptr(WzTestResponse) questionnaire = request ("GET", "/followup/screening-questionnaire",
                                                       session, NULL);
    JsonArray *items = json_object_get_array_member (object (questionnaire), "item");
    const char *fever = NULL;
    g_autofree char *answers = NULL;
    g_autofree char *screening_flags = g_strdup_printf ("/fhir/Flag?patient=%s&status=active&code="
                                                        ALERT_SYSTEM "%%7Cout-of-range", child);
    g_autofree char *responses = g_strdup_printf ("/fhir/QuestionnaireResponse?patient=%s", child);
    gint64 n_responses = total (doctor, responses);

    for (guint i = 0; i < json_array_get_length (items) && fever == NULL; i++)
      {
        JsonObject *item = json_array_get_object_element (items, i);

        if (g_strcmp0 (json_object_get_string_member (item, "type"), "boolean") == 0)
          fever = json_object_get_string_member (item, "linkId");
      }
    g_assert_nonnull (fever);
    answers = g_strdup_printf ("{\"resourceType\":\"QuestionnaireResponse\",\"identifier\":"
                               "{\"system\":\"urn:ietf:rfc:3986\",\"value\":"
                               "\"urn:uuid:a0b1c2d3-e4f5-4a67-8b9c-0d1e2f3a4b5c\"},\"questionnaire\":"
                               "\"%s\",\"status\":\"completed\",\"item\":[{\"linkId\":\"%s\","
                               "\"answer\":[{\"valueBoolean\":true}]}]}",
                               json_object_get_string_member (object (questionnaire), "url"), fever);
    {
      g_autoptr(WzTestResponse) judged = request ("POST", "/followup/me/screening?vaccines=MMR",
                                                  session, answers);
      g_autoptr(WzTestResponse) again = request ("POST", "/followup/me/screening?vaccines=MMR",
                                                 session, answers);
      g_autoptr(WzTestResponse) foreign = request ("POST", "/followup/me/screening", session,
                                                   "{\"resourceType\":\"QuestionnaireResponse\","
                                                   "\"identifier\":{\"value\":\"urn:uuid:b1c2d3e4-f5a6-4b78-9cad-1e2f3a4b5c6d\"},"
                                                   "\"questionnaire\":\"http://example.org/other\","
                                                   "\"status\":\"completed\"}");
      g_autoptr(WzTestResponse) by_doctor = request ("POST", "/followup/me/screening", doctor, answers);

      g_assert_cmpuint (judged->status, ==, 201);
      g_assert_cmpuint (again->status, ==, 200);
      outcome (foreign, 400);
      outcome (by_doctor, 403);
    }
    g_assert_cmpint (total (doctor, responses), ==, n_responses + 1);
    g_assert_cmpint (total (doctor, screening_flags), ==, 1);
  }
  {
    /* The record and the schedule are the child's own. */
    g_autoptr(WzTestResponse) record = request ("GET", "/followup/me/vaccinations?lang=en", session,
                                                NULL);
    JsonArray *doses;

    g_assert_cmpuint (record->status, ==, 200);
    doses = json_object_get_array_member (object (record), "immunizations");
    g_assert_cmpint (json_array_get_length (doses), ==, 1);
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (doses, 0), "id"),
                     ==, dose);
    doses = json_object_get_array_member (object (record), "record");
    g_assert_cmpint (json_array_get_length (doses), ==, 1);
    g_assert_nonnull (strstr (json_object_get_string_member (json_array_get_object_element (doses, 0),
                                                             "name"), "easles"));
    g_assert_nonnull (json_object_get_object_member (object (record), "recommendation"));
  }
}

static void
test_reminders_and_checkin (void)
{
  g_autofree char *patient = new_patient ("壬", "1957-07-07");
  g_autofree char *someone = new_patient ("癸", "1957-08-08");
  g_autofree char *session = patient_session (patient);
  g_autofree char *start = beijing_day (-14);
  g_autoptr(WzTestResponse) plan = apply_hypertension (patient, "urn:uuid:a3b4c5d6-e7f8-4a01-8234-9fa0b1c2d3e4", start);
  g_autoptr(WzTestResponse) theirs = apply_hypertension (someone, "urn:uuid:b4c5d6e7-f809-4b12-9345-a0b1c2d3e4f5", start);
  g_autofree char *patient_tasks = NULL;
  const char *checkin = NULL;
  JsonArray *reminders;

  g_assert_cmpuint (plan->status, ==, 201);
  g_assert_cmpuint (theirs->status, ==, 201);
  {
    g_autoptr(WzTestResponse) mine = request ("GET", "/followup/me/reminders?lang=en", session, NULL);

    g_assert_cmpuint (mine->status, ==, 200);
    g_assert_cmpstr (wz_test_member (mine, "patient"), ==, patient);
    reminders = json_object_get_array_member (object (mine), "reminders");
    g_assert_cmpint (json_array_get_length (reminders), >, 0);
    for (guint i = 0; i < json_array_get_length (reminders); i++)
      {
        JsonObject *reminder = json_array_get_object_element (reminders, i);
        g_autofree char *path = g_strconcat ("/fhir/", json_object_get_string_member (reminder, "task"),
                                             NULL);
        g_autoptr(WzTestResponse) task = request ("GET", path, doctor, NULL);

        /* Each is this patient's own Task. */
        g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (object (task),
                                                                                       "for"),
                                                        "reference"), ==, patient);
        if (g_strcmp0 (json_object_get_string_member (reminder, "kind"), "adherence-checkin") == 0 &&
            g_strcmp0 (json_object_get_string_member (reminder, "timing"), "upcoming") != 0)
          {
            checkin = json_object_get_string_member (reminder, "task");
            g_assert_cmpint (array_length (reminder, "questions"), >, 0);
          }
      }
    g_assert_nonnull (checkin);
    patient_tasks = g_strdup (checkin);

    {
      g_autofree char *body = g_strdup_printf (
        "{\"identifier\":\"urn:uuid:c5d6e7f8-091a-4c23-8456-b1c2d3e4f5a6\",\"task\":\"%s\","
        "\"answers\":{\"missed_doses\":false,\"side_effects\":true,\"days_left\":12}}", checkin);
      g_autofree char *bad_answer = g_strdup_printf (
        "{\"identifier\":\"urn:uuid:d6e7f809-1a2b-4d34-9567-c2d3e4f5a6b7\",\"task\":\"%s\","
        "\"answers\":{\"missed_doses\":\"maybe\"}}", checkin);
      g_autofree char *path = g_strconcat ("/fhir/", checkin, NULL);
      g_autoptr(WzTestResponse) refused = request ("POST", "/followup/me/checkin", session,
                                                   bad_answer);
      g_autoptr(WzTestResponse) done = NULL;
      g_autoptr(WzTestResponse) task = NULL;

      outcome (refused, 400);
      task = request ("GET", path, doctor, NULL);
      g_assert_cmpstr (wz_test_member (task, "status"), ==, "requested");
      done = request ("POST", "/followup/me/checkin", session, body);
      g_assert_cmpuint (done->status, ==, 201);
      g_clear_pointer (&task, wz_test_response_free);
      task = request ("GET", path, doctor, NULL);
      g_assert_cmpstr (wz_test_member (task, "status"), ==, "completed");
    }
  }
  {
    /* Another patient's Task is not theirs to check in. */
    JsonArray *entries = json_object_get_array_member (object (theirs), "entry");
    const char *foreign = NULL;

    for (guint i = 1; i < json_array_get_length (entries) && foreign == NULL; i++)
      {
        JsonObject *task = json_object_get_object_member (json_array_get_object_element (entries, i),
                                                          "resource");
        g_autofree char *code = json_to_string (json_object_get_member (task, "code"), FALSE);

        if (strstr (code, "adherence-checkin") != NULL)
          foreign = json_object_get_string_member (task, "id");
      }
    g_assert_nonnull (foreign);
    {
      g_autofree char *body = g_strdup_printf (
        "{\"identifier\":\"urn:uuid:e7f8091a-2b3c-4e45-8678-d3e4f5a6b7c8\",\"task\":\"Task/%s\","
        "\"answers\":{\"missed_doses\":false}}", foreign);
      g_autoptr(WzTestResponse) refused = request ("POST", "/followup/me/checkin", session, body);

      outcome (refused, 404);
    }
  }
  {
    g_autoptr(WzTestResponse) by_doctor = request ("GET", "/followup/me/reminders", doctor, NULL);
    g_autoptr(WzTestResponse) wrong_method = request ("POST", "/followup/me/reminders", session, "{}");
    g_autoptr(WzTestResponse) anonymous = request ("GET", "/followup/me/reminders", NULL, NULL);

    outcome (by_doctor, 403);
    outcome (wrong_method, 405);
    outcome (anonymous, 401);
  }
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);

  server = wz_test_server_new ();
  wz_test_server_add_user (server, "doctor", PASSWORD, "doctor");
  wz_test_server_add_user (server, "doctor2", PASSWORD, "doctor");
  wz_test_server_add_user (server, "pharmacist", PASSWORD, "pharmacist");
  wz_test_server_start (server);
  doctor = wz_test_server_login_full (server, "doctor", PASSWORD, &doctor_ref);
  doctor2 = wz_test_server_login_full (server, "doctor2", PASSWORD, &doctor2_ref);
  g_free (wz_test_server_login_full (server, "pharmacist", PASSWORD, &pharmacist_ref));
  ws_session = soup_session_new ();

  g_test_add_func ("/followup-records/task-search-params", test_task_search_params);
  g_test_add_func ("/followup-records/worklist-pages", test_worklist_pages);
  g_test_add_func ("/followup-records/reading-flags", test_reading_flags);
  g_test_add_func ("/followup-records/refill-plan", test_refill_plan);
  g_test_add_func ("/followup-records/prescriptions-and-renewal", test_prescriptions_and_renewal);
  g_test_add_func ("/followup-records/adverse-event", test_adverse_event);
  g_test_add_func ("/followup-records/reminders-and-checkin", test_reminders_and_checkin);
  g_test_add_func ("/followup-records/revisit-queue", test_revisit_queue);

  status = g_test_run ();

  g_assert_cmpint (wz_test_server_stop (server), ==, 0);
  wz_test_server_free (server);
  g_object_unref (ws_session);
  g_free (doctor);
  g_free (doctor_ref);
  g_free (doctor2);
  g_free (doctor2_ref);
  g_free (pharmacist_ref);
  return status;
}
