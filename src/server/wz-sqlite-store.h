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
/* Bulk loading (generators, imports): the writes up to end_batch form one transaction, stored
 * when it commits (COMMIT_WRITES) or not at all. A write that fails inside the batch makes the
 * whole batch fail. Reads in between see the batch's own writes. */
gboolean       wz_sqlite_store_begin_batch    (WzSqliteStore  *self,
                                               GError        **error);
gboolean       wz_sqlite_store_end_batch      (WzSqliteStore  *self,
                                               gboolean        commit_writes,
                                               GError        **error);
/* Closes the database; later calls fail with WZ_ERROR_UNAVAILABLE. */
void           wz_sqlite_store_close          (WzSqliteStore  *self);

G_END_DECLS
