/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-static-routes"

#include "config.h"

#include "wz-static-routes.h"

#include <glib/gstdio.h>
#include <string.h>

#include "wz-error.h"
#include "wz-http.h"

/* A fixed table rather than the shared-mime database: the server must send the same types on a
 * minimal system, and browsers refuse scripts and styles sent with the wrong one. */
static const struct
{
  const char *extension;
  const char *content_type;
} content_types[] = {
  { ".html", "text/html; charset=utf-8" },
  { ".htm", "text/html; charset=utf-8" },
  { ".css", "text/css; charset=utf-8" },
  { ".js", "text/javascript; charset=utf-8" },
  { ".mjs", "text/javascript; charset=utf-8" },
  { ".json", "application/json" },
  { ".webmanifest", "application/manifest+json" },
  { ".svg", "image/svg+xml" },
  { ".png", "image/png" },
  { ".jpg", "image/jpeg" },
  { ".jpeg", "image/jpeg" },
  { ".webp", "image/webp" },
  { ".ico", "image/vnd.microsoft.icon" },
  { ".woff2", "font/woff2" },
  { ".txt", "text/plain; charset=utf-8" },
  { ".wasm", "application/wasm" },
};

const char *
wz_static_content_type (const char *filename)
{
  const char *dot = strrchr (filename, '.');

  if (dot != NULL)
    for (guint i = 0; i < G_N_ELEMENTS (content_types); i++)
      if (g_ascii_strcasecmp (dot, content_types[i].extension) == 0)
        return content_types[i].content_type;

  return "application/octet-stream";
}

char *
wz_static_data_dir (void)
{
  const char *env = g_getenv ("WZ_DATA_DIR");

  if (env != NULL && *env != '\0')
    return g_strdup (env);
  if (g_file_test (PKGDATADIR, G_FILE_TEST_IS_DIR))
    return g_strdup (PKGDATADIR);
  return g_strdup (SOURCE_DATADIR);
}

typedef struct
{
  char *root;   /* canonical, without trailing slash */
} StaticRoot;

static void
static_root_free (gpointer data)
{
  StaticRoot *root = data;

  g_free (root->root);
  g_free (root);
}

static void
respond_not_found (SoupServerMessage *msg)
{
  soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
  soup_server_message_set_response (msg, "text/plain; charset=utf-8", SOUP_MEMORY_STATIC,
                                    "Not found\n", strlen ("Not found\n"));
}

/* Maps the URL path to a file under ROOT; NULL for anything that is not a plain path inside it. */
static char *
resolve (const StaticRoot *root,
         const char       *path)
{
  g_auto(GStrv) segments = NULL;
  g_autofree char *joined = NULL;
  g_autofree char *canonical = NULL;

  if (path[0] != '/' || strchr (path, '\\') != NULL)
    return NULL;

  segments = g_strsplit (path + 1, "/", -1);
  for (guint i = 0; segments[i] != NULL; i++)
    {
      /* No parent or hidden entries (.., .git, .env); an empty segment only at the end. */
      if (segments[i][0] == '.' || (segments[i][0] == '\0' && segments[i + 1] != NULL))
        return NULL;
    }

  joined = g_build_filename (root->root, path + 1, NULL);
  if (g_file_test (joined, G_FILE_TEST_IS_DIR))
    {
      char *index = g_build_filename (joined, "index.html", NULL);

      g_free (joined);
      joined = index;
    }

  /* A symbolic link must not lead out of the root either. */
  canonical = realpath (joined, NULL);
  if (canonical == NULL || !g_str_has_prefix (canonical, root->root) ||
      canonical[strlen (root->root)] != '/')
    return NULL;

  return g_steal_pointer (&canonical);
}

static void
static_handler (SoupServer        *server,
                SoupServerMessage *msg,
                const char        *path,
                GHashTable        *query,
                gpointer           user_data)
{
  StaticRoot *root = user_data;
  const char *method = soup_server_message_get_method (msg);
  SoupMessageHeaders *request_headers = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  g_autofree char *file = NULL;
  g_autofree char *etag = NULL;
  g_autofree char *contents = NULL;
  g_autoptr(GDateTime) modified = NULL;
  g_autofree char *http_date = NULL;
  const char *if_none_match;
  GStatBuf st;
  gsize length;

  if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD)
    {
      soup_message_headers_replace (headers, "Allow", "GET, HEAD");
      soup_server_message_set_status (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
      return;
    }

  file = resolve (root, path);
  if (file == NULL || g_stat (file, &st) != 0 || !S_ISREG (st.st_mode))
    {
      respond_not_found (msg);
      return;
    }

  etag = g_strdup_printf ("\"%" G_GINT64_MODIFIER "x-%" G_GINT64_MODIFIER "x\"",
                          (gint64) st.st_size, (gint64) st.st_mtime);
  modified = g_date_time_new_from_unix_utc (st.st_mtime);
  http_date = soup_date_time_to_string (modified, SOUP_DATE_HTTP);

  soup_message_headers_replace (headers, "ETag", etag);
  soup_message_headers_replace (headers, "Last-Modified", http_date);
  /* The page changes with server upgrades: always revalidate, which costs a 304 at most. */
  soup_message_headers_replace (headers, "Cache-Control", "no-cache");
  soup_message_headers_replace (headers, "X-Content-Type-Options", "nosniff");
  soup_message_headers_replace (headers, "Referrer-Policy", "no-referrer");
  soup_message_headers_replace (headers, "X-Frame-Options", "DENY");

  if_none_match = soup_message_headers_get_one (request_headers, "If-None-Match");
  if (if_none_match != NULL && strstr (if_none_match, etag) != NULL)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_NOT_MODIFIED, NULL);
      return;
    }

  if (!g_file_get_contents (file, &contents, &length, NULL))
    {
      respond_not_found (msg);
      return;
    }

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  if (method == SOUP_METHOD_HEAD)
    {
      soup_message_headers_replace (headers, "Content-Type",
                                           wz_static_content_type (file));
      soup_message_headers_set_content_length (headers, length);
      return;
    }

  soup_server_message_set_response (msg, wz_static_content_type (file), SOUP_MEMORY_TAKE,
                                    g_steal_pointer (&contents), length);
}

void
wz_static_routes_register (SoupServer *server,
                           const char *web_root)
{
  StaticRoot *root = g_new0 (StaticRoot, 1);

  root->root = realpath (web_root, NULL);
  if (root->root == NULL)
    {
      g_warning ("Web folder %s is missing; the patient page will not be served", web_root);
      root->root = g_strdup (web_root);
    }

  soup_server_add_handler (server, "/", static_handler, root, static_root_free);
}
