/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <sqlite3.h>

G_BEGIN_DECLS

/* Opens the SQLite database at PATH inside DATA_DIR, creating both when missing, readable by the
 * server's user only, with a 5 s busy timeout and extended result codes. NULL with an
 * unavailable error when the folder or the file cannot be made. */
sqlite3 *wz_sqlite_file_open_private (const char  *data_dir,
                                      const char  *path,
                                      GError     **error);

G_END_DECLS
