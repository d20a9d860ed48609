/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

/* Shared by the server tests: a real wenzhen-server in a fresh data directory, and plain HTTP. */

typedef struct
{
  char        *data_dir;
  GSubprocess *process;
  char        *url;
  SoupSession *session;
} WzTestServer;

typedef struct
{
  guint               status;
  SoupMessageHeaders *headers;
  GBytes             *body;
  JsonNode           *json;   /* NULL when the body is not JSON */
} WzTestResponse;

void            wz_test_rm_rf              (const char    *path);
JsonObject     *wz_test_parse_bytes        (GBytes        *bytes,
                                            JsonNode     **out_root);
const char     *wz_test_family             (JsonObject    *patient);
/* Runs the wenzhen-server binary with ARGV (NULL-terminated), STDIN_TEXT on its stdin; returns
 * its exit status and, if asked, its stdout. */
int             wz_test_run_cli            (const char    *stdin_text,
                                            char         **out_stdout,
                                            const char    *first_arg,
                                            ...) G_GNUC_NULL_TERMINATED;

WzTestServer   *wz_test_server_new         (void);
void            wz_test_server_add_user    (WzTestServer  *server,
                                            const char    *username,
                                            const char    *password,
                                            const char    *role);
void            wz_test_server_start       (WzTestServer  *server);
/* Same, with EXTRA_ARGS (NULL-terminated, or NULL) after the usual `serve` options. */
void            wz_test_server_start_with  (WzTestServer       *server,
                                            const char * const *extra_args);
/* SIGTERM, then waits; returns the exit status. */
int             wz_test_server_stop        (WzTestServer  *server);
void            wz_test_server_free        (WzTestServer  *server);
char           *wz_test_server_login       (WzTestServer  *server,
                                            const char    *username,
                                            const char    *password);
/* Same, and *OUT_PRACTITIONER (nullable) is the user's "Practitioner/ID". */
char           *wz_test_server_login_full  (WzTestServer  *server,
                                            const char    *username,
                                            const char    *password,
                                            char         **out_practitioner);
/* METHOD PATH with TOKEN (or NULL), BODY (or NULL, sent as application/fhir+json) and extra
 * header name/value pairs, NULL-terminated. */
WzTestResponse *wz_test_request            (WzTestServer  *server,
                                            const char    *method,
                                            const char    *path,
                                            const char    *token,
                                            GBytes        *body,
                                            ...) G_GNUC_NULL_TERMINATED;
WzTestResponse *wz_test_request_text       (WzTestServer  *server,
                                            const char    *method,
                                            const char    *path,
                                            const char    *token,
                                            const char    *body);
void            wz_test_response_free      (WzTestResponse *response);
/* Asserts RESPONSE is an OperationOutcome with STATUS, and returns its diagnostics. */
const char     *wz_test_assert_outcome     (WzTestResponse *response,
                                            guint           status);
const char     *wz_test_member             (WzTestResponse *response,
                                            const char     *name);

/* A websocket on loopback that queues every frame it receives (JSON objects). */
typedef struct
{
  SoupWebsocketConnection *conn;
  GQueue                   frames;   /* JsonNode */
  gboolean                 closed;
  gushort                  close_code;
} WzTestWs;

/* How long a test waits for a websocket or a frame before failing. */
#define WZ_TEST_WS_TIMEOUT_MS 10000

/* Turns the main context until CONDITION holds or TIMEOUT_MS pass. */
#define WZ_SPIN_UNTIL(condition, timeout_ms) G_STMT_START {                           \
    gint64 deadline_ = g_get_monotonic_time () + (timeout_ms) * G_TIME_SPAN_MILLISECOND; \
    while (!(condition) && g_get_monotonic_time () < deadline_)                      \
      if (!g_main_context_iteration (NULL, FALSE))                                   \
        g_usleep (500);                                                              \
  } G_STMT_END

/* Connects to BASE_URL/ws with TOKEN (when not NULL) in the Authorization header, or in
 * ?access_token= when IN_QUERY. NULL when the server refused, with *OUT_STATUS the HTTP status
 * it answered. The hello frame is left queued. */
WzTestWs   *wz_test_ws_connect      (const char  *base_url,
                                     const char  *token,
                                     gboolean     in_query,
                                     guint       *out_status);
/* Opens BASE_URL/ws with TOKEN in the header, accepting frames up to 1 MiB, and waits for the
 * hello frame (dropped). */
WzTestWs   *wz_test_ws_open         (const char  *base_url,
                                     const char  *token);
void        wz_test_ws_free         (WzTestWs    *ws);
void        wz_test_ws_send         (WzTestWs    *ws,
                                     const char  *text);
/* The next frame (owned by the caller); fails the test after WZ_TEST_WS_TIMEOUT_MS. */
JsonNode   *wz_test_ws_next         (WzTestWs    *ws);
/* The next frame of TYPE, dropping others before it. */
JsonNode   *wz_test_ws_next_type    (WzTestWs    *ws,
                                     const char  *type);
/* Asserts nothing is queued for WS: a ping sent now is answered before anything sent later,
 * and anything the server sent earlier arrives before the pong. */
void        wz_test_ws_assert_quiet (WzTestWs    *ws);
/* A string member of a frame, or NULL. */
const char *wz_test_frame_member    (JsonNode    *frame,
                                     const char  *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WzTestServer, wz_test_server_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WzTestResponse, wz_test_response_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WzTestWs, wz_test_ws_free)

G_END_DECLS
