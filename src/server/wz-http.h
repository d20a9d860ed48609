/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

/* Small helpers every handler uses to answer, so all responses look the same. */

/* Sets STATUS and BODY (application/fhir+json). */
void      wz_http_respond_json      (SoupServerMessage *msg,
                                     guint              status,
                                     GBytes            *body);
/* Answers with the OperationOutcome for ERROR and the matching status; 401 also gets a
 * WWW-Authenticate challenge. */
void      wz_http_respond_error     (SoupServerMessage *msg,
                                     const GError      *error);
/* Same as wz_http_respond_error for a WZ_ERROR CODE and a diagnostics text. */
void      wz_http_respond_problem   (SoupServerMessage *msg,
                                     int                code,
                                     const char        *format,
                                     ...) G_GNUC_PRINTF (3, 4);
/* Parses an ETag/If-Match value W/"3" or "3"; FALSE when malformed. */
gboolean  wz_http_parse_etag        (const char        *value,
                                     gint64            *out_version);
/* Adds ETag W/"VERSION" and Last-Modified for LAST_UPDATED_US. */
void      wz_http_set_version_headers (SoupServerMessage *msg,
                                       gint64             version_id,
                                       gint64             last_updated_us);
/* The client's address as text (soup_server_message_get_remote_host), formatted once per
 * connection rather than once per request; NULL when unknown. */
const char *wz_http_peer            (SoupServerMessage *msg);
/* "scheme://host:port" of the request, as clients reach this server. */
char     *wz_http_base_url          (SoupServerMessage *msg);
/* Refuses request bodies over MAX_BYTES on PATHS (413) without buffering them; installed as an
 * early handler so it runs as soon as the headers are in. */
void      wz_http_limit_body        (SoupServer        *server,
                                     const char        *path,
                                     gsize              max_bytes);

G_END_DECLS
