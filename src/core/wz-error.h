/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define WZ_ERROR (wz_error_quark ())

/* One error domain for the core, server and client. Each code maps to exactly one HTTP status so a
 * handler can turn any GError into the right response, and the client can turn a status back. */
typedef enum
{
  WZ_ERROR_INVALID,             /* 400: malformed input (JSON, UTF-8, types, unknown fields) */
  WZ_ERROR_UNAUTHORIZED,        /* 401: no or bad credentials */
  WZ_ERROR_FORBIDDEN,           /* 403: authenticated, but not allowed */
  WZ_ERROR_NOT_FOUND,           /* 404 */
  WZ_ERROR_CONFLICT,            /* 409: e.g. duplicate identifier */
  WZ_ERROR_GONE,                /* 410: resource was retired */
  WZ_ERROR_PRECONDITION_FAILED, /* 412: stale If-Match */
  WZ_ERROR_TOO_LARGE,           /* 413 */
  WZ_ERROR_UNPROCESSABLE,       /* 422: well formed but breaks a rule */
  WZ_ERROR_LOCKED,              /* 429: too many failed attempts */
  WZ_ERROR_UNAVAILABLE,         /* 503: storage or peer not reachable */
  WZ_ERROR_INTERNAL,            /* 500 */
  WZ_ERROR_METHOD_NOT_ALLOWED,  /* 405: the interaction is not supported on this resource */
  WZ_ERROR_UNSUPPORTED_MEDIA,   /* 415: body is not application/fhir+json or application/json */
  WZ_ERROR_PRECONDITION_REQUIRED, /* 428: update without If-Match */
} WzError;

GQuark   wz_error_quark           (void);
guint    wz_error_to_http_status  (const GError *error);
WzError  wz_error_from_http_status (guint status);
/* Sets a WZ_ERROR_INVALID error with a formatted message and returns FALSE, for validators that
 * report the first problem and stop. */
gboolean wz_error_set_invalid     (GError     **error,
                                   const char  *format,
                                   ...) G_GNUC_PRINTF (2, 3);

G_END_DECLS
