/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "wz-store.h"

G_BEGIN_DECLS

#define WZ_TYPE_SQLITE_STORE (wz_sqlite_store_get_type ())
G_DECLARE_FINAL_TYPE (WzSqliteStore, wz_sqlite_store, WZ, SQLITE_STORE, GObject)

/* Opens (creating it and applying pending schema migrations) DATA_DIR/fhir.db. */
WzSqliteStore *wz_sqlite_store_open           (const char     *data_dir,
                                               GError        **error);
/* The schema version after migrations, for tests. */
gint           wz_sqlite_store_schema_version (WzSqliteStore  *self);
/* The schema version this server migrates to. */
gint           wz_sqlite_store_latest_schema_version (void);
/* Number of resources of all types (current versions), e.g. to tell an empty data dir. */
gint64         wz_sqlite_store_count          (WzSqliteStore  *self,
                                               GError        **error);
/* Closes the database; later calls fail with WZ_ERROR_UNAVAILABLE. */
void           wz_sqlite_store_close          (WzSqliteStore  *self);

G_END_DECLS
