/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "wz-icd10-entry.h"
#include "wz-icd10-index.h"

G_BEGIN_DECLS

#define WZ_TYPE_ICD10_SEARCH (wz_icd10_search_get_type ())

G_DECLARE_FINAL_TYPE (WzIcd10Search, wz_icd10_search, WZ, ICD10_SEARCH, GtkWidget)

GtkWidget    *wz_icd10_search_new       (void);
void          wz_icd10_search_set_index (WzIcd10Search *self,
                                         WzIcd10Index  *index);
GtkEditable  *wz_icd10_search_get_entry (WzIcd10Search *self);
GListModel   *wz_icd10_search_get_results (WzIcd10Search *self);

G_END_DECLS
