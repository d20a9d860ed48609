/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "wz-icd10-entry.h"

G_BEGIN_DECLS

#define WZ_TYPE_ICD10_INDEX (wz_icd10_index_get_type ())

G_DECLARE_FINAL_TYPE (WzIcd10Index, wz_icd10_index, WZ, ICD10_INDEX, GObject)

/* The shipped list (clinical/icd10-common.tsv in the data directory), shared by every editor. */
WzIcd10Index *wz_icd10_index_get_default  (void);
WzIcd10Index *wz_icd10_index_new          (const char          *path);
char         *wz_icd10_index_default_path (void);

/* Reads and parses the file on a worker thread; calls after the first share its result. */
void          wz_icd10_index_load_async   (WzIcd10Index        *self,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data);
gboolean      wz_icd10_index_load_finish  (WzIcd10Index        *self,
                                           GAsyncResult        *result,
                                           GError             **error);
gboolean      wz_icd10_index_is_loaded    (WzIcd10Index        *self);
guint         wz_icd10_index_get_n_codes  (WzIcd10Index        *self);

/* Codes matching QUERY, best first: the code itself (with or without the dot), then titles
 * starting with it (English words, Chinese), then pinyin initials of the Chinese title, then
 * titles containing it. At most MAX_RESULTS. Empty before the list is loaded. */
GListModel   *wz_icd10_index_search       (WzIcd10Index        *self,
                                           const char          *query,
                                           guint                max_results);
WzIcd10Entry *wz_icd10_index_lookup       (WzIcd10Index        *self,
                                           const char          *code);

G_END_DECLS
