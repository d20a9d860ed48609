/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "chat-latency"

#include "config.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* Helper of bench/chat-latency: chat end-to-end latency on loopback, from the moment a sender
 * writes a message (POST /fhir/Communication) to the moment the other side's websocket hears of
 * it, with N conversations going on at once.
 *
 *   chat-latency BASE_URL DOCTOR_TOKEN DOCTOR_REF CONVERSATIONS SECONDS INTERVAL_MS
 *
 * It makes CONVERSATIONS patients, each with a waiting visit of the doctor and a patient session
 * from a visit link, opens one websocket for the doctor and one per patient (each patient with
 * HTTP connections of its own, like a browser, the doctor's shared like the app's), then every
 * conversation sends a message every INTERVAL_MS (random phase), doctor and patient taking
 * turns, for SECONDS. Meanwhile the patient sockets are pinged in turn, 50 a second: the ping → pong
 * round trip through the same server and sockets is the baseline.
 *
 * With WZ_BENCH_SERVER_PID set it also reads the server's CPU time over the sending phase (all
 * its threads, and its main thread alone, from /proc/PID/task/TID/schedstat) and the time its
 * threads spent ready but waiting for a CPU: figures the load of a shared machine moves far less
 * than the wall clock.
 *
 * The messages are marked idempotent (a conditional create is), so they reuse kept-alive
 * connections as a browser's do; WZ_BENCH_NEW_CONNECTIONS=1 sends each on a new connection, which
 * libsoup otherwise does for a POST. */

typedef struct
{
  SoupWebsocketConnection *conn;
  GHashTable              *heard;      /* Communication id → gint64 monotonic µs of its event */
  gint64                   ping_sent;
} Socket;

typedef struct
{
  guint   index;
  char   *patient;      /* Patient/ID */
  char   *encounter;    /* Encounter/ID */
  char   *token;        /* the patient's session */
  Socket  socket;
  /* The patient's browser: its own connections, as each patient has. */
  SoupSession *session;
  guint   n_sent;
} Conversation;

typedef struct
{
  Conversation *conversation;
  gboolean      from_doctor;
  gint64        sent_at;
  char         *id;       /* once the POST has answered */
  SoupMessage  *msg;
} Message;

static struct
{
  char         *url;
  char         *doctor_token;
  char         *doctor_ref;
  guint         n_conversations;
  guint         seconds;
  guint         interval_ms;
  SoupSession  *session;
  GMainLoop    *loop;
  Socket        doctor;
  Conversation *conversations;
  GPtrArray    *messages;      /* Message */
  GArray       *ping_rtts;     /* gdouble ms */
  guint         n_pending;
  guint         n_failed;
  guint         n_connecting;
  gboolean      sending;
  gboolean      new_connections;
} bench;

/* ---- CPU time ---------------------------------------------------------------------------- */

typedef struct
{
  gint64 cpu_ns;        /* all threads */
  gint64 main_cpu_ns;   /* the thread whose id is the process id: the main loop */
  gint64 wait_ns;       /* ready to run, waiting for a CPU */
} ServerTimes;

static gboolean
read_server_times (const char  *pid,
                   ServerTimes *out)
{
  g_autofree char *dir_path = g_strdup_printf ("/proc/%s/task", pid);
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
  const char *tid;

  memset (out, 0, sizeof *out);
  if (dir == NULL)
    return FALSE;
  while ((tid = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir_path, tid, "schedstat", NULL);
      g_autofree char *text = NULL;
      gint64 cpu = 0, wait = 0;

      /* A thread may end between the listing and the read: it is left out. */
      if (!g_file_get_contents (path, &text, NULL, NULL) ||
          sscanf (text, "%" G_GINT64_FORMAT " %" G_GINT64_FORMAT, &cpu, &wait) != 2)
        continue;
      out->cpu_ns += cpu;
      out->wait_ns += wait;
      if (strcmp (tid, pid) == 0)
        out->main_cpu_ns = cpu;
    }
  return TRUE;
}

static gint64
own_cpu_us (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec * G_USEC_PER_SEC + usage.ru_utime.tv_usec +
         usage.ru_stime.tv_sec * G_USEC_PER_SEC + usage.ru_stime.tv_usec;
}

/* ---- blocking HTTP for the set-up -------------------------------------------------------- */

static JsonObject *
call (const char *method,
      const char *path,
      const char *token,
      const char *body,
      JsonNode  **out_root)
{
  g_autofree char *url = g_strconcat (bench.url, path, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new (method, url);
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  if (token != NULL)
    {
      g_autofree char *authorization = g_strconcat ("Bearer ", token, NULL);

      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                    authorization);
    }
  if (body != NULL)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (body, strlen (body));

      soup_message_set_request_body_from_bytes (msg, "application/fhir+json", bytes);
    }
  answer = soup_session_send_and_read (bench.session, msg, NULL, &error);
  if (answer == NULL || soup_message_get_status (msg) >= 300)
    {
      g_printerr ("chat-latency: %s %s failed: %u %s\n", method, path,
                  soup_message_get_status (msg),
                  error ? error->message : (const char *) g_bytes_get_data (answer, NULL));
      exit (1);
    }
  text = g_strndup (g_bytes_get_data (answer, NULL), g_bytes_get_size (answer));
  *out_root = json_from_string (text, NULL);
  return json_node_get_object (*out_root);
}

static void
make_conversation (Conversation *conversation)
{
  g_autoptr(JsonNode) patient_root = NULL;
  g_autoptr(JsonNode) visit_root = NULL;
  g_autoptr(JsonNode) link_root = NULL;
  g_autoptr(JsonNode) session_root = NULL;
  g_autofree char *patient = NULL;
  g_autofree char *visit = NULL;
  g_autofree char *path = NULL;
  g_autofree char *link_body = NULL;
  JsonObject *object;
  const char *link;

  patient = g_strdup_printf ("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"测\","
                             "\"given\":[\"试%u\"]}],\"gender\":\"female\","
                             "\"birthDate\":\"1980-01-01\","
                             "\"generalPractitioner\":[{\"reference\":\"%s\"}]}",
                             conversation->index, bench.doctor_ref);
  object = call ("POST", "/fhir/Patient", bench.doctor_token, patient, &patient_root);
  conversation->patient = g_strconcat ("Patient/", json_object_get_string_member (object, "id"),
                                       NULL);

  visit = g_strdup_printf ("{\"resourceType\":\"Encounter\",\"status\":\"arrived\","
                           "\"class\":{\"system\":"
                           "\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"VR\"},"
                           "\"subject\":{\"reference\":\"%s\"},"
                           "\"participant\":[{\"individual\":{\"reference\":\"%s\"}}]}",
                           conversation->patient, bench.doctor_ref);
  object = call ("POST", "/fhir/Encounter", bench.doctor_token, visit, &visit_root);
  conversation->encounter = g_strconcat ("Encounter/", json_object_get_string_member (object, "id"),
                                         NULL);

  path = g_strdup_printf ("/fhir/%s/$visit-link", conversation->encounter);
  object = call ("POST", path, bench.doctor_token, NULL, &link_root);
  link = strchr (json_object_get_string_member (object, "url"), '#') + 1;
  link_body = g_strdup_printf ("{\"link_token\":\"%s\"}", link);
  object = call ("POST", "/auth/visit", NULL, link_body, &session_root);
  conversation->token = g_strdup (json_object_get_string_member (object, "access_token"));
}

/* ---- websockets ------------------------------------------------------------------------- */

static void
on_ws_message (SoupWebsocketConnection *conn,
               gint                     type,
               GBytes                  *message,
               Socket                  *socket)
{
  gint64 now = g_get_monotonic_time ();
  gsize length;
  const char *data = g_bytes_get_data (message, &length);
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *text = NULL;
  JsonObject *frame;

  if (g_strstr_len (data, length, "\"pong\"") != NULL)
    {
      if (socket->ping_sent != 0)
        {
          gdouble ms = (now - socket->ping_sent) / 1000.0;

          g_array_append_val (bench.ping_rtts, ms);
          socket->ping_sent = 0;
        }
      return;
    }
  if (g_strstr_len (data, length, "Communication") == NULL)
    return;

  text = g_strndup (data, length);
  root = json_from_string (text, NULL);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return;
  frame = json_node_get_object (root);
  if (g_strcmp0 (json_object_get_string_member_with_default (frame, "type", ""), "resource") == 0)
    g_hash_table_insert (socket->heard,
                         g_strdup (json_object_get_string_member_with_default (frame, "id", "")),
                         g_memdup2 (&now, sizeof now));
}

static void
on_ws_connected (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Socket *socket = user_data;
  g_autoptr(GError) error = NULL;

  socket->conn = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &error);
  if (socket->conn == NULL)
    {
      g_printerr ("chat-latency: a websocket did not open: %s\n", error->message);
      exit (1);
    }
  g_signal_connect (socket->conn, "message", G_CALLBACK (on_ws_message), socket);
  if (--bench.n_connecting == 0)
    g_main_loop_quit (bench.loop);
}

static void
open_socket (Socket      *socket,
             SoupSession *session,
             const char  *token)
{
  g_autofree char *url = g_strconcat (bench.url, "/ws", NULL);
  g_autofree char *authorization = g_strconcat ("Bearer ", token, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);

  socket->heard = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                authorization);
  bench.n_connecting++;
  soup_session_websocket_connect_async (session, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL,
                                        on_ws_connected, socket);
}

/* ---- the run ---------------------------------------------------------------------------- */

static void
on_posted (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  Message *message = user_data;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;

  body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  bench.n_pending--;
  if (body != NULL && soup_message_get_status (message->msg) == 201)
    {
      g_autofree char *text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
      g_autoptr(JsonNode) root = json_from_string (text, NULL);

      message->id = g_strdup (json_object_get_string_member (json_node_get_object (root), "id"));
    }
  else
    {
      bench.n_failed++;
      g_printerr ("chat-latency: a message failed: %u %s\n",
                  soup_message_get_status (message->msg), error ? error->message : "");
    }
  g_clear_object (&message->msg);
}

static gboolean
send_one (gpointer user_data)
{
  Conversation *conversation = user_data;
  gboolean from_doctor = conversation->n_sent % 2 == 0;
  g_autofree char *url = g_strconcat (bench.url, "/fhir/Communication", NULL);
  g_autofree char *uuid = g_uuid_string_random ();
  g_autofree char *authorization = NULL;
  g_autofree char *condition = NULL;
  g_autofree char *body = NULL;
  g_autoptr(GBytes) bytes = NULL;
  SoupMessageHeaders *headers;
  Message *message;

  if (!bench.sending)
    return G_SOURCE_REMOVE;

  body = g_strdup_printf ("{\"resourceType\":\"Communication\",\"status\":\"completed\","
                          "\"identifier\":[{\"system\":\"urn:ietf:rfc:3986\","
                          "\"value\":\"urn:uuid:%s\"}],"
                          "\"encounter\":{\"reference\":\"%s\"},\"subject\":{\"reference\":\"%s\"},"
                          "\"sender\":{\"reference\":\"%s\"},"
                          "\"payload\":[{\"contentString\":\"%s %u\"}]}",
                          uuid, conversation->encounter, conversation->patient,
                          from_doctor ? bench.doctor_ref : conversation->patient,
                          from_doctor ? "请问还有哪里不舒服？" : "头还有点痛", conversation->n_sent);
  authorization = g_strconcat ("Bearer ", from_doctor ? bench.doctor_token : conversation->token,
                               NULL);
  condition = g_strdup_printf ("identifier=urn:ietf:rfc:3986|urn:uuid:%s", uuid);
  bytes = g_bytes_new (body, strlen (body));

  message = g_new0 (Message, 1);
  message->conversation = conversation;
  message->from_doctor = from_doctor;
  message->msg = soup_message_new ("POST", url);
  headers = soup_message_get_request_headers (message->msg);
  soup_message_headers_replace (headers, "Authorization", authorization);
  soup_message_headers_replace (headers, "If-None-Exist", condition);
  soup_message_set_request_body_from_bytes (message->msg, "application/fhir+json", bytes);
  /* A conditional create is safe to repeat, so the message may go on a kept-alive connection,
   * as from a browser (and from the app); libsoup opens a new connection for every other POST. */
  if (!bench.new_connections)
    soup_message_add_flags (message->msg, SOUP_MESSAGE_IDEMPOTENT);
  g_ptr_array_add (bench.messages, message);
  conversation->n_sent++;
  bench.n_pending++;

  message->sent_at = g_get_monotonic_time ();
  soup_session_send_and_read_async (from_doctor ? bench.session : conversation->session,
                                    message->msg, G_PRIORITY_DEFAULT, NULL, on_posted, message);
  return G_SOURCE_CONTINUE;
}

static gboolean
start_conversation (gpointer user_data)
{
  Conversation *conversation = user_data;

  send_one (conversation);
  g_timeout_add (bench.interval_ms, send_one, conversation);
  return G_SOURCE_REMOVE;
}

static gboolean
ping_patients (gpointer user_data)
{
  static guint next;
  Socket *socket;

  if (!bench.sending)
    return G_SOURCE_REMOVE;

  /* One socket at a time, in turn, so the pings do not make a burst of their own. */
  socket = &bench.conversations[next++ % bench.n_conversations].socket;
  if (socket->ping_sent == 0 &&
      soup_websocket_connection_get_state (socket->conn) == SOUP_WEBSOCKET_STATE_OPEN)
    {
      socket->ping_sent = g_get_monotonic_time ();
      soup_websocket_connection_send_text (socket->conn, "{\"type\":\"ping\"}");
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
stop_sending (gpointer user_data)
{
  bench.sending = FALSE;
  return G_SOURCE_REMOVE;
}

static gboolean
check_finished (gpointer user_data)
{
  static gint64 drained_at;

  if (bench.sending || bench.n_pending > 0)
    return G_SOURCE_CONTINUE;
  /* The last events may still be on their way: a moment more. */
  if (drained_at == 0)
    drained_at = g_get_monotonic_time ();
  if (g_get_monotonic_time () - drained_at < G_USEC_PER_SEC)
    return G_SOURCE_CONTINUE;
  g_main_loop_quit (bench.loop);
  return G_SOURCE_REMOVE;
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;

  return x < y ? -1 : x > y;
}

static gdouble
percentile (GArray *values,
            gdouble p)
{
  guint i;

  if (values->len == 0)
    return 0;
  g_array_sort (values, compare_doubles);
  i = (guint) (p / 100.0 * (values->len - 1) + 0.5);
  return g_array_index (values, gdouble, MIN (i, values->len - 1));
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GArray) latencies = g_array_new (FALSE, FALSE, sizeof (gdouble));
  g_autoptr(GArray) to_patient = g_array_new (FALSE, FALSE, sizeof (gdouble));
  g_autoptr(GArray) to_doctor = g_array_new (FALSE, FALSE, sizeof (gdouble));
  guint n_lost = 0;
  gint64 started;
  const char *server_pid = g_getenv ("WZ_BENCH_SERVER_PID");
  ServerTimes server_before = { 0 }, server_after = { 0 };
  gboolean have_server_times = FALSE;
  gint64 own_before, own_after;

  if (argc != 7)
    {
      g_printerr ("usage: chat-latency BASE_URL DOCTOR_TOKEN DOCTOR_REF CONVERSATIONS SECONDS "
                  "INTERVAL_MS\n");
      return 2;
    }
  bench.url = argv[1];
  bench.doctor_token = argv[2];
  bench.doctor_ref = argv[3];
  bench.n_conversations = MAX (1, atoi (argv[4]));
  bench.seconds = MAX (1, atoi (argv[5]));
  bench.interval_ms = MAX (10, atoi (argv[6]));
  bench.new_connections = g_strcmp0 (g_getenv ("WZ_BENCH_NEW_CONNECTIONS"), "1") == 0;
  /* Every conversation has a request in flight now and then: no queueing in the client. */
  bench.session = soup_session_new_with_options ("timeout", 60, "max-conns", 1024,
                                                 "max-conns-per-host", 1024, NULL);
  bench.loop = g_main_loop_new (NULL, FALSE);
  bench.messages = g_ptr_array_new ();
  bench.ping_rtts = g_array_new (FALSE, FALSE, sizeof (gdouble));
  bench.conversations = g_new0 (Conversation, bench.n_conversations);

  started = g_get_monotonic_time ();
  for (guint i = 0; i < bench.n_conversations; i++)
    {
      bench.conversations[i].index = i;
      make_conversation (&bench.conversations[i]);
    }
  /* The set-up's connections (four POSTs a conversation, each on a connection of its own) are
   * no part of the conversations: closed before they start, so this client's main loop does
   * not carry hundreds of idle ones. */
  soup_session_abort (bench.session);
  open_socket (&bench.doctor, bench.session, bench.doctor_token);
  for (guint i = 0; i < bench.n_conversations; i++)
    {
      bench.conversations[i].session = soup_session_new_with_options ("timeout", 60, NULL);
      open_socket (&bench.conversations[i].socket, bench.conversations[i].session,
                   bench.conversations[i].token);
    }
  g_main_loop_run (bench.loop);
  g_printerr ("set up %u conversations in %.1f s\n", bench.n_conversations,
              (g_get_monotonic_time () - started) / 1e6);

  if (server_pid != NULL)
    have_server_times = read_server_times (server_pid, &server_before);
  own_before = own_cpu_us ();
  bench.sending = TRUE;
  for (guint i = 0; i < bench.n_conversations; i++)
    g_timeout_add (g_random_int_range (0, bench.interval_ms), start_conversation,
                   &bench.conversations[i]);
  g_timeout_add (20, ping_patients, NULL);
  g_timeout_add_seconds (bench.seconds, stop_sending, NULL);
  g_timeout_add (50, check_finished, NULL);
  g_main_loop_run (bench.loop);
  own_after = own_cpu_us ();
  if (have_server_times)
    have_server_times = read_server_times (server_pid, &server_after);

  for (guint i = 0; i < bench.messages->len; i++)
    {
      Message *message = g_ptr_array_index (bench.messages, i);
      Socket *receiver = message->from_doctor ? &message->conversation->socket : &bench.doctor;
      gint64 *heard_at;
      gdouble ms;

      if (message->id == NULL)
        continue;
      heard_at = g_hash_table_lookup (receiver->heard, message->id);
      if (heard_at == NULL)
        {
          n_lost++;
          continue;
        }
      ms = (*heard_at - message->sent_at) / 1000.0;
      g_array_append_val (latencies, ms);
      g_array_append_val (message->from_doctor ? to_patient : to_doctor, ms);
    }

  printf ("conversations %u, messages %u (%.0f per second), failed %u, not heard %u\n",
          bench.n_conversations, bench.messages->len,
          bench.messages->len / (gdouble) bench.seconds, bench.n_failed, n_lost);
  if (have_server_times && bench.messages->len > 0)
    printf ("server CPU per message %.3f ms (main thread %.3f ms), waiting for a CPU %.3f ms; "
            "this client's CPU per message %.3f ms\n",
            (server_after.cpu_ns - server_before.cpu_ns) / 1e6 / bench.messages->len,
            (server_after.main_cpu_ns - server_before.main_cpu_ns) / 1e6 / bench.messages->len,
            (server_after.wait_ns - server_before.wait_ns) / 1e6 / bench.messages->len,
            (own_after - own_before) / 1e3 / bench.messages->len);
  printf ("doctor_to_patient_p50 %.2f ms\n", percentile (to_patient, 50));
  printf ("patient_to_doctor_p50 %.2f ms\n", percentile (to_doctor, 50));
  printf ("chat_e2e_p50 %.2f ms\n", percentile (latencies, 50));
  printf ("baseline_ws_echo_p50 %.2f ms\n", percentile (bench.ping_rtts, 50));
  printf ("baseline_ws_echo_p99 %.2f ms\n", percentile (bench.ping_rtts, 99));
  printf ("chat_e2e_p99 %.2f ms\n", percentile (latencies, 99));
  fflush (stdout);

  return n_lost == 0 && bench.n_failed == 0 ? 0 : 1;
}
