/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-backup"

#include "config.h"

#include "wz-backup.h"

#include <glib/gstdio.h>
#include <sqlite3.h>

#include "wz-error.h"
#include "wz-time.h"

#define FORMAT_VERSION "1"

/* formulary.db holds the imported formulary and the doctors' public signing keys; chat.db the
 * chat's attachments and receipts. */
static const char *const databases[] = { "fhir.db", "auth.db", "audit.db", "formulary.db",
                                         "chat.db" };

static gboolean
sqlite_fail (sqlite3     *db,
             GError     **error,
             const char  *what,
             const char  *name)
{
  g_set_error (error, WZ_ERROR, WZ_ERROR_UNAVAILABLE, "%s %s: %s", what, name,
               db ? sqlite3_errmsg (db) : "out of memory");
  return FALSE;
}

static gboolean
exec (sqlite3     *db,
      const char  *sql,
      GError     **error)
{
  char *message = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &message) != SQLITE_OK)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_UNAVAILABLE, "Backup archive: %s", message);
      sqlite3_free (message);
      return FALSE;
    }

  return TRUE;
}

/* Copies the live database at PATH into memory through the backup API (one read transaction,
 * so the copy is consistent even while the server writes) and returns its bytes. */
static GBytes *
snapshot (const char  *path,
          const char  *name,
          GError     **error)
{
  sqlite3 *src = NULL;
  sqlite3 *mem = NULL;
  sqlite3_backup *backup;
  sqlite3_int64 size = 0;
  unsigned char *data;
  GBytes *bytes = NULL;

  if (sqlite3_open_v2 (path, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
    {
      sqlite_fail (src, error, "Cannot open", name);
      goto out;
    }
  sqlite3_busy_timeout (src, 10000);
  if (sqlite3_open (":memory:", &mem) != SQLITE_OK)
    {
      sqlite_fail (mem, error, "Cannot copy", name);
      goto out;
    }

  backup = sqlite3_backup_init (mem, "main", src, "main");
  if (backup == NULL)
    {
      sqlite_fail (mem, error, "Cannot copy", name);
      goto out;
    }
  sqlite3_backup_step (backup, -1);
  if (sqlite3_backup_finish (backup) != SQLITE_OK)
    {
      sqlite_fail (mem, error, "Copying failed for", name);
      goto out;
    }

  data = sqlite3_serialize (mem, "main", &size, 0);
  if (data == NULL)
    {
      sqlite_fail (mem, error, "Cannot serialise", name);
      goto out;
    }
  bytes = g_bytes_new (data, size);
  sqlite3_free (data);

out:
  sqlite3_close (mem);
  sqlite3_close (src);
  return bytes;
}

gboolean
wz_backup_create (const char  *data_dir,
                  const char  *file,
                  GError     **error)
{
  g_autofree char *partial = g_strconcat (file, ".partial", NULL);
  g_autofree char *now = wz_time_format_instant (wz_time_now_us ());
  sqlite3 *archive = NULL;
  sqlite3_stmt *stmt = NULL;
  guint n_copied = 0;
  gboolean ok = FALSE;

  g_unlink (partial);
  if (sqlite3_open (partial, &archive) != SQLITE_OK)
    {
      sqlite_fail (archive, error, "Cannot create", partial);
      goto out;
    }
  g_chmod (partial, 0600);

  if (!exec (archive, "CREATE TABLE backup_info (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                      "CREATE TABLE backup_files (name TEXT PRIMARY KEY, sha256 TEXT NOT NULL,"
                      " data BLOB NOT NULL);"
                      "BEGIN", error))
    goto out;

  if (sqlite3_prepare_v2 (archive, "INSERT INTO backup_info VALUES ('format', '" FORMAT_VERSION
                          "'), ('software', 'wenzhen-server " PACKAGE_VERSION "'), "
                          "('created', ?1)", -1, &stmt, NULL) != SQLITE_OK)
    {
      sqlite_fail (archive, error, "Writing", partial);
      goto out;
    }
  sqlite3_bind_text (stmt, 1, now, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      sqlite_fail (archive, error, "Writing", partial);
      goto out;
    }
  g_clear_pointer (&stmt, sqlite3_finalize);

  if (sqlite3_prepare_v2 (archive, "INSERT INTO backup_files VALUES (?1, ?2, ?3)", -1, &stmt,
                          NULL) != SQLITE_OK)
    {
      sqlite_fail (archive, error, "Writing", partial);
      goto out;
    }

  for (guint i = 0; i < G_N_ELEMENTS (databases); i++)
    {
      g_autofree char *path = g_build_filename (data_dir, databases[i], NULL);
      g_autoptr(GBytes) bytes = NULL;
      g_autofree char *sha256 = NULL;

      if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
        continue;

      if ((bytes = snapshot (path, databases[i], error)) == NULL)
        goto out;
      sha256 = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes);

      sqlite3_bind_text (stmt, 1, databases[i], -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, sha256, -1, SQLITE_STATIC);
      sqlite3_bind_blob64 (stmt, 3, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                           SQLITE_STATIC);
      if (sqlite3_step (stmt) != SQLITE_DONE)
        {
          sqlite_fail (archive, error, "Writing", partial);
          goto out;
        }
      sqlite3_reset (stmt);
      n_copied++;
    }
  g_clear_pointer (&stmt, sqlite3_finalize);

  if (n_copied == 0)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_NOT_FOUND,
                   "%s holds no Wenzhen databases (fhir.db, auth.db, audit.db)", data_dir);
      goto out;
    }

  if (!exec (archive, "COMMIT", error))
    goto out;
  if (sqlite3_close (archive) != SQLITE_OK)
    {
      sqlite_fail (archive, error, "Closing", partial);
      goto out;
    }
  archive = NULL;

  if (g_rename (partial, file) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, WZ_ERROR, WZ_ERROR_UNAVAILABLE, "Cannot move the backup to %s: %s",
                   file, g_strerror (saved_errno));
      goto out;
    }
  ok = TRUE;

out:
  g_clear_pointer (&stmt, sqlite3_finalize);
  if (archive != NULL)
    sqlite3_close (archive);
  if (!ok)
    g_unlink (partial);
  return ok;
}

static gboolean
check_database (const char  *path,
                const char  *name,
                GError     **error)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gboolean ok = FALSE;

  if (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
      sqlite3_prepare_v2 (db, "PRAGMA integrity_check", -1, &stmt, NULL) == SQLITE_OK &&
      sqlite3_step (stmt) == SQLITE_ROW &&
      g_strcmp0 ((const char *) sqlite3_column_text (stmt, 0), "ok") == 0)
    ok = TRUE;
  else
    g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "%s in the backup is damaged: %s", name,
                 stmt ? (const char *) sqlite3_column_text (stmt, 0) : sqlite3_errmsg (db));

  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return ok;
}

gboolean
wz_backup_restore (const char  *data_dir,
                   const char  *file,
                   char       **out_moved_aside,
                   GError     **error)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *aside = NULL;
  sqlite3 *archive = NULL;
  sqlite3_stmt *stmt = NULL;
  gboolean ok = FALSE;
  int rc;

  if (out_moved_aside != NULL)
    *out_moved_aside = NULL;

  if (!g_file_test (file, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_NOT_FOUND, "%s does not exist", file);
      return FALSE;
    }
  if (g_mkdir_with_parents (data_dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, WZ_ERROR, WZ_ERROR_UNAVAILABLE, "Cannot create %s: %s", data_dir,
                   g_strerror (saved_errno));
      return FALSE;
    }

  if (sqlite3_open_v2 (file, &archive, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2 (archive, "SELECT value FROM backup_info WHERE key = 'format'", -1,
                          &stmt, NULL) != SQLITE_OK ||
      sqlite3_step (stmt) != SQLITE_ROW ||
      g_strcmp0 ((const char *) sqlite3_column_text (stmt, 0), FORMAT_VERSION) != 0)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                   "%s is not a wenzhen-server backup this version can read", file);
      goto out;
    }
  g_clear_pointer (&stmt, sqlite3_finalize);

  /* First unpack and check everything next to the live files; nothing live changes yet. */
  if (sqlite3_prepare_v2 (archive, "SELECT name, sha256, data FROM backup_files", -1, &stmt,
                          NULL) != SQLITE_OK)
    {
      sqlite_fail (archive, error, "Reading", file);
      goto out;
    }
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *name = (const char *) sqlite3_column_text (stmt, 0);
      const char *sha256 = (const char *) sqlite3_column_text (stmt, 1);
      g_autoptr(GBytes) bytes = g_bytes_new (sqlite3_column_blob (stmt, 2),
                                             sqlite3_column_bytes (stmt, 2));
      g_autofree char *actual = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes);
      g_autofree char *staged = NULL;
      gboolean known = FALSE;

      for (guint i = 0; i < G_N_ELEMENTS (databases); i++)
        known |= g_strcmp0 (name, databases[i]) == 0;
      if (!known || g_strcmp0 (actual, sha256) != 0)
        {
          g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                       "%s: entry “%s” is unknown or its checksum does not match", file, name);
          goto out;
        }

      staged = g_strdup_printf ("%s/%s.restoring", data_dir, name);
      if (!g_file_set_contents_full (staged, g_bytes_get_data (bytes, NULL),
                                     g_bytes_get_size (bytes), G_FILE_SET_CONTENTS_CONSISTENT,
                                     0600, error) ||
          !check_database (staged, name, error))
        goto out;
      g_ptr_array_add (names, g_strdup (name));
    }
  if (rc != SQLITE_DONE || names->len == 0)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "%s holds no databases", file);
      goto out;
    }

  for (guint i = 0; i < names->len; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      const char *suffixes[] = { "", "-wal", "-shm" };
      g_autofree char *staged = g_strdup_printf ("%s/%s.restoring", data_dir, name);
      g_autofree char *live = g_build_filename (data_dir, name, NULL);

      for (guint s = 0; s < G_N_ELEMENTS (suffixes); s++)
        {
          g_autofree char *path = g_strconcat (live, suffixes[s], NULL);
          g_autofree char *moved = NULL;

          if (!g_file_test (path, G_FILE_TEST_EXISTS))
            continue;

          if (aside == NULL)
            {
              g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
              g_autofree char *stamp = g_date_time_format (now, "%Y%m%dT%H%M%SZ");

              aside = g_strdup_printf ("%s/pre-restore-%s", data_dir, stamp);
              g_mkdir_with_parents (aside, 0700);
            }
          moved = g_strdup_printf ("%s/%s%s", aside, name, suffixes[s]);
          if (g_rename (path, moved) != 0)
            {
              int saved_errno = errno;

              g_set_error (error, WZ_ERROR, WZ_ERROR_UNAVAILABLE, "Cannot move %s aside: %s",
                           path, g_strerror (saved_errno));
              goto out;
            }
        }

      if (g_rename (staged, live) != 0)
        {
          int saved_errno = errno;

          g_set_error (error, WZ_ERROR, WZ_ERROR_UNAVAILABLE, "Cannot put %s in place: %s", live,
                       g_strerror (saved_errno));
          goto out;
        }
    }

  ok = TRUE;
  if (out_moved_aside != NULL)
    *out_moved_aside = g_steal_pointer (&aside);

out:
  sqlite3_finalize (stmt);
  sqlite3_close (archive);
  if (!ok)
    for (guint i = 0; i < G_N_ELEMENTS (databases); i++)
      {
        g_autofree char *staged = g_strdup_printf ("%s/%s.restoring", data_dir, databases[i]);

        g_unlink (staged);
      }
  return ok;
}
