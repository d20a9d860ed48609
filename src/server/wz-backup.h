/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A backup is one SQLite file holding a table backup_files (name, sha256, data): a consistent
 * snapshot of each of fhir.db, auth.db and audit.db taken with SQLite's online backup API, so it
 * can be made while the server runs, and inspected with the sqlite3 tool. */
gboolean wz_backup_create  (const char  *data_dir,
                            const char  *file,
                            GError     **error);
/* Checks every database in FILE (checksum, integrity_check) before touching DATA_DIR, then moves
 * the current databases aside into DATA_DIR/pre-restore-TIMESTAMP/ and puts the restored ones in
 * place. The server must be stopped. Sets *out_moved_aside to that folder (or NULL). */
gboolean wz_backup_restore (const char  *data_dir,
                            const char  *file,
                            char       **out_moved_aside,
                            GError     **error);

G_END_DECLS
