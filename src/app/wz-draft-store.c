/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-draft-store"

#include "config.h"

#include "wz-draft-store.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <gio/gio.h>

char *
wz_draft_store_path (const char *name)
{
  g_autofree char *file = g_strconcat (name, ".json", NULL);

  return g_build_filename (g_get_user_data_dir (), "wenzhen", "drafts", file, NULL);
}

gboolean
wz_draft_store_write (const char  *path,
                      const char  *data,
                      gsize        length,
                      GError     **error)
{
  g_autofree char *dir = g_path_get_dirname (path);

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno), "%s: %s", dir,
                   g_strerror (saved_errno));
      return FALSE;
    }

  /* Drafts are health data: readable by this user only. DURABLE also syncs the folder, so the
   * rename survives a power cut. */
  return g_file_set_contents_full (path, data, (gssize) length,
                                   G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                   0600, error);
}

JsonNode *
wz_draft_store_read (const char *path)
{
  g_autofree char *data = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  gsize length;

  if (!g_file_get_contents (path, &data, &length, NULL) ||
      !json_parser_load_from_data (parser, data, (gssize) length, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return NULL;

  return json_parser_steal_root (parser);
}

gboolean
wz_draft_store_remove (const char  *path,
                       GError     **error)
{
  if (g_unlink (path) != 0 && errno != ENOENT)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno), "%s: %s", path,
                   g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}
