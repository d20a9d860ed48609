/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "wz-followup-entry.h"

G_BEGIN_DECLS

#define WZ_TYPE_FOLLOWUP_ROW (wz_followup_row_get_type ())

G_DECLARE_FINAL_TYPE (WzFollowupRow, wz_followup_row, WZ, FOLLOWUP_ROW, GtkWidget)

GtkWidget       *wz_followup_row_new       (void);
void             wz_followup_row_set_entry (WzFollowupRow   *self,
                                            WzFollowupEntry *entry);
WzFollowupEntry *wz_followup_row_get_entry (WzFollowupRow   *self);

G_END_DECLS
