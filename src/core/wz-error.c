/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-error"

#include "config.h"

#include "wz-error.h"

G_DEFINE_QUARK (wz-error-quark, wz_error)

static const struct
{
  WzError code;
  guint   status;
} status_map[] = {
  { WZ_ERROR_INVALID, 400 },
  { WZ_ERROR_UNAUTHORIZED, 401 },
  { WZ_ERROR_FORBIDDEN, 403 },
  { WZ_ERROR_NOT_FOUND, 404 },
  { WZ_ERROR_CONFLICT, 409 },
  { WZ_ERROR_GONE, 410 },
  { WZ_ERROR_PRECONDITION_FAILED, 412 },
  { WZ_ERROR_TOO_LARGE, 413 },
  { WZ_ERROR_UNPROCESSABLE, 422 },
  { WZ_ERROR_LOCKED, 429 },
  { WZ_ERROR_UNAVAILABLE, 503 },
  { WZ_ERROR_INTERNAL, 500 },
  { WZ_ERROR_METHOD_NOT_ALLOWED, 405 },
  { WZ_ERROR_UNSUPPORTED_MEDIA, 415 },
  { WZ_ERROR_PRECONDITION_REQUIRED, 428 },
};

guint
wz_error_to_http_status (const GError *error)
{
  if (error == NULL || error->domain != WZ_ERROR)
    return 500;

  for (guint i = 0; i < G_N_ELEMENTS (status_map); i++)
    if (status_map[i].code == (WzError) error->code)
      return status_map[i].status;

  return 500;
}

WzError
wz_error_from_http_status (guint status)
{
  for (guint i = 0; i < G_N_ELEMENTS (status_map); i++)
    if (status_map[i].status == status)
      return status_map[i].code;

  return status >= 500 ? WZ_ERROR_UNAVAILABLE : WZ_ERROR_INVALID;
}

gboolean
wz_error_set_invalid (GError     **error,
                      const char  *format,
                      ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INVALID, message);
  return FALSE;
}
