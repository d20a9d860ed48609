/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-http"

#include "config.h"

#include "wz-http.h"

#include <string.h>

#include "wz-error.h"
#include "wz-fhir.h"
#include "wz-outcome.h"

void
wz_http_respond_json (SoupServerMessage *msg,
                      guint              status,
                      GBytes            *body)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  SoupMessageBody *response = soup_server_message_get_response_body (msg);

  soup_message_body_truncate (response);
  soup_message_headers_replace (headers, "Content-Type", WZ_FHIR_CONTENT_TYPE);
  soup_message_body_append_bytes (response, body);
  soup_server_message_set_status (msg, status, NULL);
}

void
wz_http_respond_error (SoupServerMessage *msg,
                       const GError      *error)
{
  g_autoptr(GBytes) outcome = wz_outcome_new_for_error (error);
  guint status = wz_error_to_http_status (error);

  if (status == SOUP_STATUS_UNAUTHORIZED)
    soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                         "WWW-Authenticate",
                                         "Bearer realm=\"wenzhen\"");
  wz_http_respond_json (msg, status, outcome);
}

void
wz_http_respond_problem (SoupServerMessage *msg,
                         int                code,
                         const char        *format,
                         ...)
{
  g_autoptr(GError) error = NULL;
  va_list args;

  va_start (args, format);
  error = g_error_new_valist (WZ_ERROR, code, format, args);
  va_end (args);

  wz_http_respond_error (msg, error);
}

gboolean
wz_http_parse_etag (const char *value,
                    gint64     *out_version)
{
  g_autofree char *digits = NULL;
  const char *p = value;
  gsize n;
  guint64 version;

  if (p == NULL)
    return FALSE;

  while (*p == ' ')
    p++;
  if (g_str_has_prefix (p, "W/"))
    p += 2;
  if (*p != '"')
    return FALSE;
  p++;
  n = strcspn (p, "\"");
  if (p[n] != '"')
    return FALSE;
  for (const char *q = p + n + 1; *q; q++)
    if (*q != ' ')
      return FALSE;

  digits = g_strndup (p, n);
  if (!g_ascii_string_to_unsigned (digits, 10, 1, G_MAXINT64, &version, NULL))
    return FALSE;

  *out_version = version;
  return TRUE;
}

void
wz_http_set_version_headers (SoupServerMessage *msg,
                             gint64             version_id,
                             gint64             last_updated_us)
{
  /* Formatting an HTTP date is a visible share of a read; many reads in a row name the same
   * second, so the last one is kept. Handlers run on the main thread only. */
  static gint64 cached_second = -1;
  static char *cached_date;
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  gint64 second = last_updated_us / G_USEC_PER_SEC;
  char etag[32];

  if (second != cached_second)
    {
      g_autoptr(GDateTime) modified = g_date_time_new_from_unix_utc (second);

      g_free (cached_date);
      cached_date = soup_date_time_to_string (modified, SOUP_DATE_HTTP);
      cached_second = second;
    }

  /* W/"N", written backwards from the end: printf was a third of this function. */
  {
    char *p = etag + sizeof etag - 1;
    guint64 n = (guint64) MAX (version_id, 0);

    *p = '\0';
    *--p = '"';
    do
      *--p = '0' + n % 10;
    while ((n /= 10) != 0);
    *--p = '"';
    *--p = '/';
    *--p = 'W';
    soup_message_headers_replace (headers, "ETag", p);
  }
  soup_message_headers_replace (headers, "Last-Modified", cached_date);
}

const char *
wz_http_peer (SoupServerMessage *msg)
{
  static GQuark quark;
  GSocket *socket = soup_server_message_get_socket (msg);
  const char *peer;

  if (G_UNLIKELY (quark == 0))
    quark = g_quark_from_static_string ("wz-http-peer");
  if (socket == NULL)
    return soup_server_message_get_remote_host (msg);

  /* A connection's peer never changes, and formatting the address was a visible share of a
   * keep-alive read. */
  peer = g_object_get_qdata (G_OBJECT (socket), quark);
  if (peer == NULL)
    {
      peer = soup_server_message_get_remote_host (msg);
      if (peer == NULL)
        return NULL;
      g_object_set_qdata_full (G_OBJECT (socket), quark, g_strdup (peer), g_free);
    }
  return peer;
}

char *
wz_http_base_url (SoupServerMessage *msg)
{
  GUri *uri = soup_server_message_get_uri (msg);
  const char *host = g_uri_get_host (uri);
  gboolean ipv6 = host != NULL && strchr (host, ':') != NULL;

  return g_strdup_printf ("%s://%s%s%s:%d", g_uri_get_scheme (uri), ipv6 ? "[" : "",
                          host ? host : "localhost", ipv6 ? "]" : "", g_uri_get_port (uri));
}

typedef struct
{
  gsize max_bytes;
} BodyLimit;

static void
refuse_too_large (SoupServerMessage *msg,
                  gsize              max_bytes)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);

  /* Stop keeping what is still arriving; libsoup drains the rest before answering. */
  soup_message_body_set_accumulate (body, FALSE);
  soup_message_body_truncate (body);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                       "Connection", "close");
  wz_http_respond_problem (msg, WZ_ERROR_TOO_LARGE,
                           "Request body is larger than the limit of %" G_GSIZE_FORMAT " bytes",
                           max_bytes);
}

static void
on_got_chunk (SoupServerMessage *msg,
              GBytes            *chunk,
              gpointer           user_data)
{
  BodyLimit *limit = user_data;
  SoupMessageBody *body = soup_server_message_get_request_body (msg);

  if (soup_server_message_get_status (msg) == 0 && (gsize) body->length > limit->max_bytes)
    refuse_too_large (msg, limit->max_bytes);
}

static void
limit_early_handler (SoupServer        *server,
                     SoupServerMessage *msg,
                     const char        *path,
                     GHashTable        *query,
                     gpointer           user_data)
{
  BodyLimit *limit = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);

  switch (soup_message_headers_get_encoding (headers))
    {
    case SOUP_ENCODING_CONTENT_LENGTH:
      if ((guint64) soup_message_headers_get_content_length (headers) > limit->max_bytes)
        refuse_too_large (msg, limit->max_bytes);
      break;

    case SOUP_ENCODING_CHUNKED:
    case SOUP_ENCODING_EOF:
      /* No length up front: count as the body arrives. */
      g_signal_connect (msg, "got-chunk", G_CALLBACK (on_got_chunk), limit);
      break;

    case SOUP_ENCODING_NONE:
    case SOUP_ENCODING_UNRECOGNIZED:
    case SOUP_ENCODING_BYTERANGES:
    default:
      break;
    }
}

void
wz_http_limit_body (SoupServer *server,
                    const char *path,
                    gsize       max_bytes)
{
  BodyLimit *limit = g_new0 (BodyLimit, 1);

  limit->max_bytes = max_bytes;
  soup_server_add_early_handler (server, path, limit_early_handler, limit, g_free);
}
