/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-test-api-client"

#include "config.h"

#include <libsoup/soup.h>

#include "wz-api-client.h"
#include "wz-patient-item.h"

/* The app's client against a small in-process HTTP server that answers the way wenzhen-server
 * does (and the ways it fails), plus the queue's age and name rules. */

typedef struct
{
  SoupServer  *server;
  char        *base_url;
  WzApiClient *client;
  GMainLoop   *loop;
  GAsyncResult *result;
  /* What the fake server saw. */
  char        *last_body;
  char        *last_authorization;
} Fixture;

static void
respond_json (SoupServerMessage *msg,
              guint              status,
              const char        *json)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/fhir+json", SOUP_MEMORY_COPY,
                                    json, strlen (json));
}

static const char outcome_fmt[] =
  "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\","
  "\"code\":\"%s\",\"diagnostics\":\"%s\"}]}";

static void
handle_request (SoupServer        *server,
                SoupServerMessage *msg,
                const char        *path,
                GHashTable        *query,
                gpointer           user_data)
{
  Fixture *fixture = user_data;
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  const char *authorization =
    soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Authorization");

  g_clear_pointer (&fixture->last_body, g_free);
  g_clear_pointer (&fixture->last_authorization, g_free);
  fixture->last_body = g_strndup (body->data, body->length);
  fixture->last_authorization = g_strdup (authorization);

  if (g_str_equal (path, "/fhir/metadata"))
    respond_json (msg, 200, "{\"resourceType\":\"CapabilityStatement\",\"status\":\"active\"}");
  else if (g_str_equal (path, "/auth/login"))
    {
      if (strstr (fixture->last_body, "\"password\":\"right\"") != NULL)
        respond_json (msg, 200,
                      "{\"access_token\":\"tok-123\",\"expires_in\":3600,"
                      "\"practitioner\":\"Practitioner/p1\",\"role\":\"doctor\","
                      "\"display_name\":\"李伟 Li Wei\"}");
      else if (strstr (fixture->last_body, "\"password\":\"locked\"") != NULL)
        {
          g_autofree char *json = g_strdup_printf (outcome_fmt, "throttled", "account locked");

          soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                        "Retry-After", "600");
          respond_json (msg, 429, json);
        }
      else if (strstr (fixture->last_body, "\"password\":\"crash\"") != NULL)
        {
          g_autofree char *json = g_strdup_printf (outcome_fmt, "exception", "database is locked");

          respond_json (msg, 500, json);
        }
      else
        {
          g_autofree char *json = g_strdup_printf (outcome_fmt, "login", "invalid credentials");

          respond_json (msg, 401, json);
        }
    }
  else if (g_str_equal (path, "/fhir/Patient"))
    {
      if (g_strcmp0 (authorization, "Bearer tok-123") != 0)
        {
          g_autofree char *json = g_strdup_printf (outcome_fmt, "login", "token required");

          respond_json (msg, 401, json);
        }
      else
        respond_json (msg, 200,
                      "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":1,"
                      "\"entry\":[{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"a\"}}]}");
    }
  else if (g_str_equal (path, "/html/fhir/metadata"))
    {
      static const char html[] = "<html><body>It works!</body></html>";

      soup_server_message_set_status (msg, 200, NULL);
      soup_server_message_set_response (msg, "text/html", SOUP_MEMORY_STATIC, html, strlen (html));
    }
  else
    soup_server_message_set_status (msg, 404, NULL);
}

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSList) uris = NULL;
  GUri *uri;

  fixture->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (fixture->server, NULL, handle_request, fixture, NULL);
  soup_server_listen_local (fixture->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);

  uris = soup_server_get_uris (fixture->server);
  uri = uris->data;
  fixture->base_url = g_strdup_printf ("http://127.0.0.1:%d", g_uri_get_port (uri));
  g_slist_free_full (g_steal_pointer (&uris), (GDestroyNotify) g_uri_unref);

  fixture->client = wz_api_client_new ();
  fixture->loop = g_main_loop_new (NULL, FALSE);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  g_clear_object (&fixture->client);
  g_clear_object (&fixture->result);
  soup_server_disconnect (fixture->server);
  g_clear_object (&fixture->server);
  g_clear_pointer (&fixture->loop, g_main_loop_unref);
  g_clear_pointer (&fixture->base_url, g_free);
  g_clear_pointer (&fixture->last_body, g_free);
  g_clear_pointer (&fixture->last_authorization, g_free);
}

static void
on_done (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  Fixture *fixture = user_data;

  fixture->result = g_object_ref (result);
  g_main_loop_quit (fixture->loop);
}

static GAsyncResult *
wait_result (Fixture *fixture)
{
  g_clear_object (&fixture->result);
  g_main_loop_run (fixture->loop);

  return fixture->result;
}

static WzSession *
login (Fixture     *fixture,
       const char  *password,
       GError     **error)
{
  wz_api_client_login_async (fixture->client, "doctor", password, NULL, on_done, fixture);

  return wz_api_client_login_finish (fixture->client, wait_result (fixture), error);
}

static void
test_normalize_url (void)
{
  static const struct
  {
    const char *input;
    const char *expected;
  } good[] = {
    { "https://clinic.example.org/", "https://clinic.example.org" },
    { "  clinic.example.org  ", "https://clinic.example.org" },
    { "https://clinic.example.org:8443/wenzhen//", "https://clinic.example.org:8443/wenzhen" },
    { "HTTPS://clinic.example.org", "https://clinic.example.org" },
    { "http://127.0.0.1:8080", "http://127.0.0.1:8080" },
    { "http://127.1.2.3:8080/", "http://127.1.2.3:8080" },
    { "http://localhost:8080", "http://localhost:8080" },
    { "http://[::1]:9000", "http://[::1]:9000" },
  };
  static const struct
  {
    const char *input;
    const char *message_part;
  } bad[] = {
    { "", "Enter the address" },
    { "   ", "Enter the address" },
    { "ftp://x", "not ftp://" },
    { "file:///etc/passwd", "not file://" },
    { "http://clinic.example.org", "Use https://clinic.example.org instead" },
    { "http://192.168.1.20:8080", "Use https://192.168.1.20 instead" },
    { "https://", "no server name" },
    { "https://exa mple.org", "not a valid server address" },
    { "https://user:secret@clinic.example.org", "must not contain a user name" },
    { "https://clinic.example.org/?next=1", "must not contain" },
    { "https://clinic.example.org/#top", "must not contain" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *url = wz_api_client_normalize_url (good[i].input, &error);

      g_assert_no_error (error);
      g_assert_cmpstr (url, ==, good[i].expected);
    }

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *url = wz_api_client_normalize_url (bad[i].input, &error);

      g_test_message ("bad URL “%s”", bad[i].input);
      g_assert_null (url);
      g_assert_error (error, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_BAD_URL);
      g_assert_nonnull (strstr (error->message, bad[i].message_part));
      g_assert_cmpstr (wz_client_error_nick (error), ==, "bad-url");
    }
}

static void
test_bad_url_sends_nothing (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (wz_api_client_set_base_url (fixture->client, "ftp://127.0.0.1", &error));
  g_assert_error (error, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_BAD_URL);
  g_assert_null (wz_api_client_get_base_url (fixture->client));
  g_clear_error (&error);

  /* Without a valid address the sign-in fails before any connection. */
  g_assert_null (login (fixture, "right", &error));
  g_assert_error (error, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_BAD_URL);
  g_assert_null (fixture->last_body);
}

static void
test_login_ok (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) bundle = NULL;
  WzSession *session;

  g_assert_true (wz_api_client_set_base_url (fixture->client, fixture->base_url, &error));
  session = login (fixture, "right", &error);
  g_assert_no_error (error);
  g_assert_nonnull (session);
  g_assert_true (wz_api_client_get_session (fixture->client) == session);
  g_assert_cmpstr (wz_session_get_display_name (session), ==, "李伟 Li Wei");
  g_assert_cmpstr (wz_session_get_role (session), ==, "doctor");
  g_assert_cmpstr (wz_session_get_role_label (session), ==, "Doctor");
  g_assert_cmpstr (wz_session_get_practitioner (session), ==, "Practitioner/p1");
  g_assert_cmpstr (wz_session_get_username (session), ==, "doctor");
  g_assert_cmpint (wz_session_get_expires_at (session), >, g_get_real_time () / G_USEC_PER_SEC);

  /* The body is the JSON the server expects. */
  g_assert_nonnull (strstr (fixture->last_body, "\"username\":\"doctor\""));
  g_assert_null (fixture->last_authorization);

  /* Data requests carry the token. */
  wz_api_client_get_json_async (fixture->client, "/fhir/Patient?_count=100", NULL, on_done, fixture);
  bundle = wz_api_client_get_json_finish (fixture->client, wait_result (fixture), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (fixture->last_authorization, ==, "Bearer tok-123");
  g_assert_true (JSON_NODE_HOLDS_OBJECT (bundle));
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (bundle), "total"), ==, 1);
}

static void
test_wrong_password (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (wz_api_client_set_base_url (fixture->client, fixture->base_url, NULL));
  g_assert_null (login (fixture, "wrong", &error));
  g_assert_error (error, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_WRONG_PASSWORD);
  g_assert_nonnull (strstr (error->message, "user name or password is wrong"));
  g_assert_null (wz_api_client_get_session (fixture->client));
}

static void
test_locked (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (wz_api_client_set_base_url (fixture->client, fixture->base_url, NULL));
  g_assert_null (login (fixture, "locked", &error));
  g_assert_error (error, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_LOCKED);
  g_assert_nonnull (strstr (error->message, "try again in 10 minutes"));
}

static void
test_server_error (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (wz_api_client_set_base_url (fixture->client, fixture->base_url, NULL));
  g_assert_null (login (fixture, "crash", &error));
  g_assert_error (error, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_SERVER);
  g_assert_nonnull (strstr (error->message, "HTTP 500"));
  g_assert_nonnull (strstr (error->message, "database is locked"));
}

static void
test_session_ended (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;

  g_assert_true (wz_api_client_set_base_url (fixture->client, fixture->base_url, NULL));

  /* Not signed in: refused locally. */
  wz_api_client_get_json_async (fixture->client, "/fhir/Patient", NULL, on_done, fixture);
  node = wz_api_client_get_json_finish (fixture->client, wait_result (fixture), &error);
  g_assert_null (node);
  g_assert_error (error, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_SESSION_ENDED);
  g_assert_null (fixture->last_body);
}

static void
test_check_server (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *html_base = g_strconcat (fixture->base_url, "/html", NULL);

  g_assert_true (wz_api_client_set_base_url (fixture->client, fixture->base_url, NULL));
  wz_api_client_check_server_async (fixture->client, NULL, on_done, fixture);
  g_assert_true (wz_api_client_check_server_finish (fixture->client, wait_result (fixture), &error));
  g_assert_no_error (error);

  /* Something answers, but it is a web page, not Wenzhen. */
  g_assert_true (wz_api_client_set_base_url (fixture->client, html_base, NULL));
  wz_api_client_check_server_async (fixture->client, NULL, on_done, fixture);
  g_assert_false (wz_api_client_check_server_finish (fixture->client, wait_result (fixture), &error));
  g_assert_error (error, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_NOT_WENZHEN);
  g_assert_cmpstr (wz_client_error_nick (error), ==, "not-wenzhen");
}

static void
test_connection_refused (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autofree char *url = NULL;

  /* A port that was just free and is closed again: nothing listens there. */
  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_bind (socket, address, TRUE, &error));
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  url = g_strdup_printf ("http://127.0.0.1:%u",
                         g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  g_socket_close (socket, NULL);

  g_assert_true (wz_api_client_set_base_url (fixture->client, url, NULL));
  g_assert_null (login (fixture, "right", &error));
  g_assert_error (error, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_UNREACHABLE);
  g_assert_nonnull (strstr (error->message, "connection was refused"));
  g_assert_nonnull (strstr (error->message, "Check the server address"));
}

static void
test_cancelled (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();

  g_assert_true (wz_api_client_set_base_url (fixture->client, fixture->base_url, NULL));
  wz_api_client_login_async (fixture->client, "doctor", "right", cancellable, on_done, fixture);
  g_cancellable_cancel (cancellable);
  g_assert_null (wz_api_client_login_finish (fixture->client, wait_result (fixture), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (wz_api_client_get_session (fixture->client));
}

static GDate *
date (int year, int month, int day)
{
  return g_date_new_dmy ((GDateDay) day, (GDateMonth) month, (GDateYear) year);
}

static void
test_age (void)
{
  g_autoptr(GDate) today = date (2026, 6, 15);
  g_autoptr(GDate) feb28 = date (2026, 2, 28);
  guint years, months, days;

  g_assert_true (wz_patient_compute_age ("1990-06-15", today, &years, &months, &days));
  g_assert_cmpuint (years, ==, 36);
  g_assert_true (wz_patient_compute_age ("1990-06-16", today, &years, NULL, NULL));
  g_assert_cmpuint (years, ==, 35);
  g_assert_true (wz_patient_compute_age ("1990-07-01", today, &years, NULL, NULL));
  g_assert_cmpuint (years, ==, 35);

  /* Partial dates count from their first day. */
  g_assert_true (wz_patient_compute_age ("1990", today, &years, NULL, NULL));
  g_assert_cmpuint (years, ==, 36);
  g_assert_true (wz_patient_compute_age ("2025-12", today, NULL, &months, NULL));
  g_assert_cmpuint (months, ==, 6);

  /* Born on the 31st: a month completes on the last day of a shorter month. */
  g_assert_true (wz_patient_compute_age ("2026-01-31", feb28, NULL, &months, &days));
  g_assert_cmpuint (months, ==, 1);
  g_assert_cmpuint (days, ==, 28);
  g_assert_true (wz_patient_compute_age ("2024-02-29", feb28, &years, NULL, NULL));
  g_assert_cmpuint (years, ==, 2);

  /* Unusable dates. */
  g_assert_false (wz_patient_compute_age ("2026-06-16", today, NULL, NULL, NULL));
  g_assert_false (wz_patient_compute_age ("2026-13-01", today, NULL, NULL, NULL));
  g_assert_false (wz_patient_compute_age ("2023-02-29", today, NULL, NULL, NULL));
  g_assert_false (wz_patient_compute_age ("1990-6-15", today, NULL, NULL, NULL));
  g_assert_false (wz_patient_compute_age ("abcd", today, NULL, NULL, NULL));
  g_assert_false (wz_patient_compute_age ("", today, NULL, NULL, NULL));
  g_assert_false (wz_patient_compute_age (NULL, today, NULL, NULL, NULL));
}

static void
test_age_label (void)
{
  g_autoptr(GDate) today = date (2026, 6, 15);
  struct
  {
    const char *birth;
    const char *label;
  } cases[] = {
    { "2026-06-15", "0 days" },
    { "2026-06-14", "1 day" },
    { "2026-05-20", "26 days" },
    { "2026-05-15", "1 month" },
    { "2024-12-01", "18 months" },
    { "2024-06-16", "23 months" },
    { "2024-06-15", "2 years" },
    { "1948-03-02", "78 years" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *label = wz_patient_format_age (cases[i].birth, today);

      g_assert_cmpstr (label, ==, cases[i].label);
    }

  g_assert_null (wz_patient_format_age ("2030-01-01", today));
}

static JsonObject *
parse_object (const char *json)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, json, -1, &error);
  g_assert_no_error (error);

  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

static void
test_patient_item (void)
{
  g_autoptr(GDate) today = date (2026, 6, 15);
  g_autoptr(JsonObject) zh = parse_object (
    "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"gender\":\"female\",\"birthDate\":\"1992-03-08\","
    "\"name\":[{\"use\":\"nickname\",\"text\":\"小芳\"},{\"use\":\"official\",\"family\":\"张\",\"given\":[\"芳\"]}]}");
  g_autoptr(JsonObject) en = parse_object (
    "{\"resourceType\":\"Patient\",\"id\":\"p2\",\"gender\":\"male\",\"birthDate\":\"2025-01-10\","
    "\"name\":[{\"family\":\"Müller\",\"given\":[\"Jan\",\"Peter\"]}]}");
  g_autoptr(JsonObject) text = parse_object (
    "{\"resourceType\":\"Patient\",\"id\":\"p3\",\"name\":[{\"text\":\"欧阳娜娜\",\"family\":\"欧阳\"}]}");
  g_autoptr(JsonObject) nameless = parse_object ("{\"resourceType\":\"Patient\",\"id\":\"p4\"}");
  g_autoptr(JsonObject) not_patient = parse_object ("{\"resourceType\":\"Practitioner\",\"id\":\"x\"}");
  g_autoptr(JsonObject) no_id = parse_object ("{\"resourceType\":\"Patient\"}");
  g_autoptr(WzPatientItem) a = NULL;
  g_autoptr(WzPatientItem) b = NULL;
  g_autoptr(WzPatientItem) c = NULL;
  g_autoptr(WzPatientItem) d = NULL;
  g_autoptr(WzPatientItem) a2 = NULL;

  a = wz_patient_item_new_from_resource (zh, today);
  g_assert_cmpstr (wz_patient_item_get_id (a), ==, "p1");
  g_assert_cmpstr (wz_patient_item_get_name (a), ==, "张芳");
  g_assert_cmpstr (wz_patient_item_get_details (a), ==, "Female · 34 years");

  b = wz_patient_item_new_from_resource (en, today);
  g_assert_cmpstr (wz_patient_item_get_name (b), ==, "Jan Peter Müller");
  g_assert_cmpstr (wz_patient_item_get_details (b), ==, "Male · 17 months");

  c = wz_patient_item_new_from_resource (text, today);
  g_assert_cmpstr (wz_patient_item_get_name (c), ==, "欧阳娜娜");
  g_assert_cmpstr (wz_patient_item_get_details (c), ==, "");

  d = wz_patient_item_new_from_resource (nameless, today);
  g_assert_cmpstr (wz_patient_item_get_name (d), ==, "Unnamed patient");

  g_assert_null (wz_patient_item_new_from_resource (not_patient, today));
  g_assert_null (wz_patient_item_new_from_resource (no_id, today));

  /* A refresh updates in place and says whether anything changed. */
  a2 = wz_patient_item_new_from_resource (zh, today);
  g_assert_false (wz_patient_item_update (a, a2));
  json_object_set_string_member (zh, "birthDate", "1990-03-08");
  g_clear_object (&a2);
  a2 = wz_patient_item_new_from_resource (zh, today);
  g_assert_true (wz_patient_item_update (a, a2));
  g_assert_cmpstr (wz_patient_item_get_details (a), ==, "Female · 36 years");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/api-client/normalize-url", test_normalize_url);
  g_test_add ("/api-client/bad-url-sends-nothing", Fixture, NULL, fixture_setup,
              test_bad_url_sends_nothing, fixture_teardown);
  g_test_add ("/api-client/login-ok", Fixture, NULL, fixture_setup, test_login_ok, fixture_teardown);
  g_test_add ("/api-client/wrong-password", Fixture, NULL, fixture_setup, test_wrong_password,
              fixture_teardown);
  g_test_add ("/api-client/locked", Fixture, NULL, fixture_setup, test_locked, fixture_teardown);
  g_test_add ("/api-client/server-error", Fixture, NULL, fixture_setup, test_server_error,
              fixture_teardown);
  g_test_add ("/api-client/session-ended", Fixture, NULL, fixture_setup, test_session_ended,
              fixture_teardown);
  g_test_add ("/api-client/check-server", Fixture, NULL, fixture_setup, test_check_server,
              fixture_teardown);
  g_test_add ("/api-client/connection-refused", Fixture, NULL, fixture_setup,
              test_connection_refused, fixture_teardown);
  g_test_add ("/api-client/cancelled", Fixture, NULL, fixture_setup, test_cancelled,
              fixture_teardown);
  g_test_add_func ("/patient/age", test_age);
  g_test_add_func ("/patient/age-label", test_age_label);
  g_test_add_func ("/patient/item", test_patient_item);

  return g_test_run ();
}
