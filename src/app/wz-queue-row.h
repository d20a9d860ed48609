/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "wz-queue-item.h"

G_BEGIN_DECLS

#define WZ_TYPE_QUEUE_ROW (wz_queue_row_get_type ())

G_DECLARE_FINAL_TYPE (WzQueueRow, wz_queue_row, WZ, QUEUE_ROW, GtkWidget)

GtkWidget   *wz_queue_row_new      (void);
WzQueueItem *wz_queue_row_get_item (WzQueueRow  *self);
void         wz_queue_row_set_item (WzQueueRow  *self,
                                    WzQueueItem *item);

G_END_DECLS
