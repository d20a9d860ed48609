/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-sqlite-file"

#include "config.h"

#include "wz-sqlite-file.h"

#include <errno.h>
#include <glib/gstdio.h>

#include "wz-error.h"

sqlite3 *
wz_sqlite_file_open_private (const char  *data_dir,
                             const char  *path,
                             GError     **error)
{
  sqlite3 *db = NULL;
  int rc;

  if (g_mkdir_with_parents (data_dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, WZ_ERROR, WZ_ERROR_UNAVAILABLE, "Cannot create data directory %s: %s",
                   data_dir, g_strerror (saved_errno));
      return NULL;
    }

  rc = sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_UNAVAILABLE, "Cannot open %s: %s", path,
                   db ? sqlite3_errmsg (db) : sqlite3_errstr (rc));
      sqlite3_close_v2 (db);
      return NULL;
    }

  /* Patient data: the file is created with the umask's mode, which may let others read it. */
  g_chmod (path, 0600);
  sqlite3_busy_timeout (db, 5000);
  sqlite3_extended_result_codes (db, 1);
  return db;
}
