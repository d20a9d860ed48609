/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-auth-http"

#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <sqlite3.h>
#include <string.h>

#include "wz-audit.h"
#include "wz-auth-routes.h"
#include "wz-auth.h"

/* Every case runs twice: against /auth routes mounted on a SoupServer in this process (always
 * possible), and against the real `wenzhen-server serve` when the build tree has one. */
typedef enum
{
  MODE_IN_PROCESS,
  MODE_BINARY,
  MODE_IN_PROCESS_REAL_COST,
} Mode;

#define PASSWORD "correct horse battery"

typedef struct
{
  Mode          mode;
  gboolean      skip;
  char         *dir;
  char         *base;
  SoupSession  *session;

  /* In-process server, on its own thread and main context. */
  GThread      *thread;
  GMainContext *context;
  GMainLoop    *loop;
  GMutex        lock;
  GCond         cond;
  gboolean      ready;
  gint64        max_tick_gap_us;
  gint64        last_tick;

  /* Binary server. */
  GSubprocess  *proc;
} Fixture;

static gboolean
tick_cb (gpointer data)
{
  Fixture *fx = data;
  gint64 now = g_get_monotonic_time ();

  if (fx->last_tick != 0)
    fx->max_tick_gap_us = MAX (fx->max_tick_gap_us, now - fx->last_tick);
  fx->last_tick = now;
  return G_SOURCE_CONTINUE;
}

static gpointer
server_thread (gpointer data)
{
  Fixture *fx = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(WzAuth) auth = NULL;
  g_autoptr(WzAudit) audit = NULL;
  g_autoptr(SoupServer) server = NULL;
  GSList *uris;
  GSource *tick;

  g_main_context_push_thread_default (fx->context);

  auth = wz_auth_open (fx->dir, &error);
  g_assert_no_error (error);
  g_assert_true (wz_auth_add_user (auth, "liwei", PASSWORD, "doctor", "李伟 Li Wei", "prac-1", &error));
  g_assert_no_error (error);
  audit = wz_audit_open (fx->dir, &error);
  g_assert_no_error (error);

  server = soup_server_new ("server-header", "wenzhen-test ", NULL);
  wz_auth_routes_register (server, auth, audit);
  soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);

  /* A 5 ms heartbeat shows whether anything stalls this loop. */
  tick = g_timeout_source_new (5);
  g_source_set_callback (tick, tick_cb, fx, NULL);
  g_source_attach (tick, fx->context);

  uris = soup_server_get_uris (server);
  g_mutex_lock (&fx->lock);
  fx->base = g_strdup_printf ("http://127.0.0.1:%u", g_uri_get_port (uris->data));
  fx->ready = TRUE;
  g_cond_signal (&fx->cond);
  g_mutex_unlock (&fx->lock);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  g_main_loop_run (fx->loop);

  g_source_destroy (tick);
  g_source_unref (tick);
  soup_server_disconnect (server);
  wz_audit_flush (audit);
  g_clear_object (&server);
  g_clear_object (&audit);
  g_clear_object (&auth);
  g_main_context_pop_thread_default (fx->context);
  return NULL;
}

static void
start_in_process (Fixture *fx)
{
  fx->context = g_main_context_new ();
  fx->loop = g_main_loop_new (fx->context, FALSE);
  fx->thread = g_thread_new ("server", server_thread, fx);

  g_mutex_lock (&fx->lock);
  while (!fx->ready)
    g_cond_wait (&fx->cond, &fx->lock);
  g_mutex_unlock (&fx->lock);
}

static void
run_ok (const char * const *argv,
        const char         *input)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  proc = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                  G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, input, NULL, &out, &err, &error);
  g_assert_no_error (error);
  if (!g_subprocess_get_if_exited (proc) || g_subprocess_get_exit_status (proc) != 0)
    g_error ("%s %s failed: %s", argv[0], argv[1], err);
}

static void
start_binary (Fixture *fx)
{
  const char *binary = g_getenv ("WZ_SERVER_BINARY");
  g_autoptr(GError) error = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autofree char *line = NULL;

  if (binary == NULL || !g_file_test (binary, G_FILE_TEST_IS_EXECUTABLE))
    {
      fx->skip = TRUE;
      return;
    }

  {
    const char *argv[] = { binary, "user", "add", "--data-dir", fx->dir, "--username", "liwei",
                           "--role", "doctor", "--display-name", "李伟 Li Wei", NULL };

    run_ok (argv, PASSWORD "\n");
  }

  {
    const char *argv[] = { binary, "serve", "--data-dir", fx->dir, "--listen", "127.0.0.1:0", NULL };

    fx->proc = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
    g_assert_no_error (error);
  }

  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (fx->proc));
  line = g_data_input_stream_read_line_utf8 (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  g_assert_true (g_str_has_prefix (line, "listening on http://127.0.0.1:"));
  fx->base = g_strdup (line + strlen ("listening on "));
}

static void
fixture_setup (Fixture       *fx,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fx->mode = GPOINTER_TO_INT (data);
  g_mutex_init (&fx->lock);
  g_cond_init (&fx->cond);
  fx->dir = g_dir_make_tmp ("wz-auth-http-XXXXXX", &error);
  g_assert_no_error (error);
  fx->session = soup_session_new_with_options ("timeout", 60, NULL);

  if (fx->mode == MODE_BINARY)
    start_binary (fx);
  else
    start_in_process (fx);
}

static void
fixture_teardown (Fixture       *fx,
                  gconstpointer  data)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  g_clear_object (&fx->session);

  if (fx->thread != NULL)
    {
      g_main_loop_quit (fx->loop);
      g_thread_join (fx->thread);
      g_main_loop_unref (fx->loop);
      g_main_context_unref (fx->context);
    }

  if (fx->proc != NULL)
    {
      g_autoptr(GError) error = NULL;

      /* The contract: SIGTERM is a clean shutdown with exit status 0. */
      g_subprocess_send_signal (fx->proc, SIGTERM);
      g_subprocess_wait (fx->proc, NULL, &error);
      g_assert_no_error (error);
      g_assert_true (g_subprocess_get_if_exited (fx->proc));
      g_assert_cmpint (g_subprocess_get_exit_status (fx->proc), ==, 0);
      g_clear_object (&fx->proc);
    }

  dir = g_dir_open (fx->dir, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (fx->dir, name, NULL);

      g_remove (child);
    }
  g_rmdir (fx->dir);
  g_free (fx->dir);
  g_free (fx->base);
  g_mutex_clear (&fx->lock);
  g_cond_clear (&fx->cond);
}

#define SKIP_IF_NO_SERVER(fx) \
  if ((fx)->skip) { g_test_skip ("wenzhen-server is not built in this tree"); return; }

typedef struct
{
  guint               status;
  JsonNode           *json;
  SoupMessageHeaders *headers;
  char               *content_type;
} Reply;

static void
reply_clear (Reply *reply)
{
  g_clear_pointer (&reply->json, json_node_unref);
  g_clear_pointer (&reply->headers, soup_message_headers_unref);
  g_clear_pointer (&reply->content_type, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Reply, reply_clear)

static void
request (Fixture    *fx,
         const char *method,
         const char *path,
         const char *body,
         gssize      len,
         const char *bearer,
         Reply      *reply)
{
  g_autofree char *url = g_strconcat (fx->base, path, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new (method, url);
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(GError) error = NULL;
  const char *type;

  if (body != NULL)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (body, len < 0 ? strlen (body) : (gsize) len);

      soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
    }
  if (bearer != NULL)
    {
      g_autofree char *value = g_strconcat ("Bearer ", bearer, NULL);

      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", value);
    }

  answer = soup_session_send_and_read (fx->session, msg, NULL, &error);
  g_assert_no_error (error);

  reply->status = soup_message_get_status (msg);
  reply->headers = soup_message_headers_ref (soup_message_get_response_headers (msg));
  type = soup_message_headers_get_content_type (reply->headers, NULL);
  reply->content_type = g_strdup (type);
  if (g_bytes_get_size (answer) > 0)
    {
      g_autoptr(JsonParser) parser = json_parser_new ();
      gsize size;
      const char *data = g_bytes_get_data (answer, &size);

      if (!json_parser_load_from_data (parser, data, size, &error))
        g_error ("Answer to %s %s is not JSON (%s): %.*s", method, path, error->message,
                 (int) MIN (size, 200), data);
      reply->json = json_node_ref (json_parser_get_root (parser));
    }
}

static void
login (Fixture    *fx,
       const char *username,
       const char *password,
       Reply      *reply)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *body = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "username");
  json_builder_add_string_value (builder, username);
  json_builder_set_member_name (builder, "password");
  json_builder_add_string_value (builder, password);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  body = json_to_string (root, FALSE);

  request (fx, "POST", "/auth/login", body, -1, NULL, reply);
}

static const char *
member_string (JsonNode   *node,
               const char *name)
{
  JsonObject *object;

  g_assert_nonnull (node);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  object = json_node_get_object (node);
  g_assert_true (json_object_has_member (object, name));
  return json_object_get_string_member (object, name);
}

/* Asserts an OperationOutcome with one error issue of CODE; returns its diagnostics. */
static const char *
assert_outcome (const Reply *reply,
                guint        status,
                const char  *code)
{
  JsonObject *object;
  JsonArray *issues;
  JsonObject *issue;

  g_assert_cmpuint (reply->status, ==, status);
  g_assert_cmpstr (reply->content_type, ==, "application/fhir+json");
  g_assert_cmpstr (member_string (reply->json, "resourceType"), ==, "OperationOutcome");
  object = json_node_get_object (reply->json);
  issues = json_object_get_array_member (object, "issue");
  g_assert_nonnull (issues);
  g_assert_cmpuint (json_array_get_length (issues), ==, 1);
  issue = json_array_get_object_element (issues, 0);
  g_assert_cmpstr (json_object_get_string_member (issue, "severity"), ==, "error");
  g_assert_cmpstr (json_object_get_string_member (issue, "code"), ==, code);
  g_assert_true (json_object_has_member (issue, "diagnostics"));
  return json_object_get_string_member (issue, "diagnostics");
}

static void
test_login_ok (Fixture       *fx,
               gconstpointer  data)
{
  g_auto(Reply) reply = { 0, };
  g_auto(Reply) out = { 0, };
  g_auto(Reply) again = { 0, };
  g_autofree char *token = NULL;
  JsonObject *object;

  SKIP_IF_NO_SERVER (fx);

  login (fx, "liwei", PASSWORD, &reply);
  g_assert_cmpuint (reply.status, ==, 200);
  g_assert_cmpstr (reply.content_type, ==, "application/fhir+json");
  g_assert_cmpstr (soup_message_headers_get_one (reply.headers, "Cache-Control"), ==, "no-store");

  token = g_strdup (member_string (reply.json, "access_token"));
  g_assert_cmpuint (strlen (token), ==, 43);
  g_assert_cmpstr (member_string (reply.json, "role"), ==, "doctor");
  g_assert_cmpstr (member_string (reply.json, "display_name"), ==, "李伟 Li Wei");
  object = json_node_get_object (reply.json);
  g_assert_cmpint (json_object_get_int_member (object, "expires_in"), ==, 8 * 60 * 60);
  g_assert_true (json_object_has_member (object, "practitioner"));
  if (fx->mode != MODE_BINARY)
    g_assert_cmpstr (member_string (reply.json, "practitioner"), ==, "Practitioner/prac-1");

  /* The token is what signs the user out; once used, it is dead. */
  request (fx, "POST", "/auth/logout", NULL, 0, token, &out);
  g_assert_cmpuint (out.status, ==, 204);
  request (fx, "POST", "/auth/logout", NULL, 0, token, &again);
  assert_outcome (&again, 401, "security");
  g_assert_cmpstr (soup_message_headers_get_one (again.headers, "WWW-Authenticate"), ==, "Bearer");
}

static void
test_wrong_password (Fixture       *fx,
                     gconstpointer  data)
{
  g_auto(Reply) wrong = { 0, };
  g_auto(Reply) unknown = { 0, };
  g_autofree char *wrong_text = NULL;
  const char *unknown_text;

  SKIP_IF_NO_SERVER (fx);

  login (fx, "liwei", "not my password", &wrong);
  wrong_text = g_strdup (assert_outcome (&wrong, 401, "login"));
  g_assert_true (json_object_has_member (json_node_get_object (wrong.json), "resourceType"));
  g_assert_false (json_object_has_member (json_node_get_object (wrong.json), "access_token"));

  /* A user name that does not exist gets exactly the same answer. */
  login (fx, "zhaoliu", "not my password", &unknown);
  unknown_text = assert_outcome (&unknown, 401, "login");
  g_assert_cmpstr (unknown_text, ==, wrong_text);
}

static void
test_lockout (Fixture       *fx,
              gconstpointer  data)
{
  g_auto(Reply) locked = { 0, };
  const char *retry;
  guint64 seconds = 0;

  SKIP_IF_NO_SERVER (fx);

  for (guint i = 0; i < 5; i++)
    {
      g_auto(Reply) reply = { 0, };

      login (fx, "liwei", "guess", &reply);
      assert_outcome (&reply, 401, "login");
    }

  /* Locked: even the right password is refused, with a time to come back. */
  login (fx, "liwei", PASSWORD, &locked);
  assert_outcome (&locked, 429, "throttled");
  retry = soup_message_headers_get_one (locked.headers, "Retry-After");
  g_assert_nonnull (retry);
  g_assert_true (g_ascii_string_to_unsigned (retry, 10, 1, 15 * 60, &seconds, NULL));
  g_assert_cmpuint (seconds, >, 14 * 60);
}

static void
test_malformed (Fixture       *fx,
                gconstpointer  data)
{
  static const char *bodies[] = {
    "{",
    "[]",
    "\"liwei\"",
    "null",
    "{\"username\": \"liwei\"}",
    "{\"password\": \"" PASSWORD "\"}",
    "{\"username\": 42, \"password\": \"" PASSWORD "\"}",
    "{\"username\": \"liwei\", \"password\": null}",
    "{\"username\": \"liwei\", \"password\": [\"" PASSWORD "\"]}",
    "{\"username\": \"liwei\", \"password\": \"" PASSWORD "\", \"totp\": 123456}",
    "{\"username\": \"\", \"password\": \"" PASSWORD "\"}",
    "{\"username\": \"liwei\\u0000x\", \"password\": \"" PASSWORD "\"}",
    "{\"username\": \"li\xff\xfewei\", \"password\": \"" PASSWORD "\"}",
  };

  SKIP_IF_NO_SERVER (fx);

  for (guint i = 0; i < G_N_ELEMENTS (bodies); i++)
    {
      g_auto(Reply) reply = { 0, };

      request (fx, "POST", "/auth/login", bodies[i], -1, NULL, &reply);
      if (reply.status != 400)
        g_error ("body %u (%s) got %u", i, bodies[i], reply.status);
      assert_outcome (&reply, 400, "invalid");
    }

  {
    g_auto(Reply) reply = { 0, };

    request (fx, "POST", "/auth/login", NULL, 0, NULL, &reply);
    assert_outcome (&reply, 400, "invalid");
  }

  /* None of that counted as a failed password: the user can still sign in. */
  {
    g_auto(Reply) reply = { 0, };

    login (fx, "liwei", PASSWORD, &reply);
    g_assert_cmpuint (reply.status, ==, 200);
  }
}

static void
test_unknown_member (Fixture       *fx,
                     gconstpointer  data)
{
  g_auto(Reply) reply = { 0, };
  g_auto(Reply) with_totp = { 0, };
  const char *text;

  SKIP_IF_NO_SERVER (fx);

  /* Even with the right password, a request that smuggles extra members is refused. */
  request (fx, "POST", "/auth/login",
           "{\"username\": \"liwei\", \"password\": \"" PASSWORD "\", \"role\": \"admin\"}", -1,
           NULL, &reply);
  text = assert_outcome (&reply, 400, "invalid");
  g_assert_nonnull (strstr (text, "'role'"));
  g_assert_false (json_object_has_member (json_node_get_object (reply.json), "access_token"));

  /* totp is part of the contract, so it is not an unknown member. */
  request (fx, "POST", "/auth/login",
           "{\"username\": \"liwei\", \"password\": \"" PASSWORD "\", \"totp\": \"123456\"}", -1,
           NULL, &with_totp);
  g_assert_cmpuint (with_totp.status, ==, 200);
}

static void
test_huge_body (Fixture       *fx,
                gconstpointer  data)
{
  gsize size = 10 * 1024 * 1024;
  g_autofree char *body = g_malloc (size);
  g_auto(Reply) reply = { 0, };
  g_auto(Reply) just_over = { 0, };
  g_auto(Reply) after = { 0, };

  SKIP_IF_NO_SERVER (fx);

  memset (body, ' ', size);
  memcpy (body, "{\"username\": \"liwei\", \"password\": \"", 36);
  memcpy (body + size - 2, "\"}", 2);
  memset (body + 36, 'x', size - 40);
  request (fx, "POST", "/auth/login", body, size, NULL, &reply);
  assert_outcome (&reply, 413, "too-long");

  {
    GString *s = g_string_new ("{\"username\": \"liwei\", \"password\": \"");

    while (s->len <= WZ_AUTH_ROUTES_MAX_BODY)
      g_string_append_c (s, 'y');
    g_string_append (s, "\"}");
    request (fx, "POST", "/auth/login", s->str, s->len, NULL, &just_over);
    g_string_free (s, TRUE);
  }
  assert_outcome (&just_over, 413, "too-long");

  /* The server shrugged it off and still answers. */
  login (fx, "liwei", PASSWORD, &after);
  g_assert_cmpuint (after.status, ==, 200);
}

static void
test_method (Fixture       *fx,
             gconstpointer  data)
{
  g_auto(Reply) reply = { 0, };

  SKIP_IF_NO_SERVER (fx);

  request (fx, "GET", "/auth/login", NULL, 0, NULL, &reply);
  assert_outcome (&reply, 405, "not-supported");
  g_assert_cmpstr (soup_message_headers_get_one (reply.headers, "Allow"), ==, "POST");
}

static void
test_logout_without_token (Fixture       *fx,
                           gconstpointer  data)
{
  g_auto(Reply) none = { 0, };
  g_auto(Reply) junk = { 0, };

  SKIP_IF_NO_SERVER (fx);

  request (fx, "POST", "/auth/logout", NULL, 0, NULL, &none);
  assert_outcome (&none, 401, "security");
  request (fx, "POST", "/auth/logout", NULL, 0, "not-a-token", &junk);
  assert_outcome (&junk, 401, "security");
}

static void
test_audited (Fixture       *fx,
              gconstpointer  data)
{
  g_auto(Reply) bad = { 0, };
  g_auto(Reply) good = { 0, };
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  guint n_fail = 0, n_ok = 0;
  guint64 n_rows = 0;

  SKIP_IF_NO_SERVER (fx);

  login (fx, "liwei", "wrong one", &bad);
  g_assert_cmpuint (bad.status, ==, 401);
  login (fx, "liwei", PASSWORD, &good);
  g_assert_cmpuint (good.status, ==, 200);

  /* The answer left only after its audit row was committed, so it is readable right now. */
  path = g_build_filename (fx->dir, "audit.db", NULL);
  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT outcome, peer FROM audit_event"
                                           " WHERE action = 'E' AND agent = 'liwei'",
                                       -1, &stmt, NULL), ==, SQLITE_OK);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      const char *outcome = (const char *) sqlite3_column_text (stmt, 0);

      g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 1), ==, "127.0.0.1");
      if (g_str_equal (outcome, "4"))
        n_fail++;
      else if (g_str_equal (outcome, "0"))
        n_ok++;
    }
  sqlite3_finalize (stmt);
  sqlite3_close (db);

  g_assert_cmpuint (n_fail, ==, 1);
  g_assert_cmpuint (n_ok, ==, 1);
  g_assert_true (wz_audit_verify (fx->dir, &n_rows, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n_rows, >=, 2);
}

static void
test_loop_not_blocked_child (Fixture       *fx,
                             gconstpointer  data)
{
  g_auto(Reply) reply = { 0, };
  g_autoptr(GTimer) timer = NULL;

  if (!g_test_subprocess ())
    {
      g_test_skip ("runs as a child of /auth-http/in-process/login-does-not-block-loop");
      return;
    }
  timer = g_timer_new ();

  /* With real argon2id cost (~tens of ms per login), the server's loop keeps ticking every 5 ms
   * while three logins hash: the work runs on worker threads. */
  for (guint i = 0; i < 3; i++)
    {
      g_auto(Reply) r = { 0, };

      login (fx, "liwei", i == 1 ? "wrong password" : PASSWORD, &r);
      g_assert_cmpuint (r.status, ==, i == 1 ? 401 : 200);
    }
  login (fx, "liwei", PASSWORD, &reply);
  g_assert_cmpuint (reply.status, ==, 200);
  g_test_message ("4 logins in %.0f ms, longest loop stall %" G_GINT64_FORMAT " µs",
                  g_timer_elapsed (timer, NULL) * 1000, fx->max_tick_gap_us);
  /* A login hashed on the loop would stall it for about one login's time. */
  g_assert_cmpint (fx->max_tick_gap_us, <, g_timer_elapsed (timer, NULL) * G_USEC_PER_SEC / 4 / 2);
}

static void
test_loop_not_blocked (void)
{
  /* Runs in a child process, whose main() leaves WZ_PWHASH_FAST unset before any thread exists. */
  g_test_trap_subprocess ("/auth-http/in-process/login-does-not-block-loop/child", 0,
                          G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

int
main (int   argc,
      char *argv[])
{
  static const struct
  {
    const char *name;
    void      (*func) (Fixture *, gconstpointer);
  } cases[] = {
    { "login-ok", test_login_ok },
    { "wrong-password", test_wrong_password },
    { "lockout", test_lockout },
    { "malformed-body", test_malformed },
    { "unknown-member", test_unknown_member },
    { "huge-body", test_huge_body },
    { "method", test_method },
    { "logout-without-token", test_logout_without_token },
    { "audited", test_audited },
  };

  g_setenv ("WZ_PWHASH_FAST", "1", TRUE);
  g_test_init (&argc, &argv, NULL);
  /* Only the real-cost child runs as a subprocess; no thread exists yet, so this is safe. */
  if (g_test_subprocess ())
    g_unsetenv ("WZ_PWHASH_FAST");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *in_process = g_strdup_printf ("/auth-http/in-process/%s", cases[i].name);
      g_autofree char *binary = g_strdup_printf ("/auth-http/wenzhen-server/%s", cases[i].name);

      g_test_add (in_process, Fixture, GINT_TO_POINTER (MODE_IN_PROCESS),
                  fixture_setup, cases[i].func, fixture_teardown);
      g_test_add (binary, Fixture, GINT_TO_POINTER (MODE_BINARY),
                  fixture_setup, cases[i].func, fixture_teardown);
    }
  g_test_add ("/auth-http/in-process/login-does-not-block-loop/child", Fixture,
              GINT_TO_POINTER (MODE_IN_PROCESS_REAL_COST),
              fixture_setup, test_loop_not_blocked_child, fixture_teardown);
  g_test_add_func ("/auth-http/in-process/login-does-not-block-loop", test_loop_not_blocked);

  return g_test_run ();
}
