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

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WzTestServer, wz_test_server_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WzTestResponse, wz_test_response_free)

G_END_DECLS
