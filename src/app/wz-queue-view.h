/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "wz-queue-filter.h"
#include "wz-queue-model.h"

G_BEGIN_DECLS

#define WZ_TYPE_QUEUE_VIEW (wz_queue_view_get_type ())

G_DECLARE_FINAL_TYPE (WzQueueView, wz_queue_view, WZ, QUEUE_VIEW, GObject)

WzQueueView   *wz_queue_view_new             (WzQueueModel  *model,
                                              WzQueueFilter *filter,
                                              GtkSorter     *sorter);
WzQueueModel  *wz_queue_view_get_model       (WzQueueView   *self);
WzQueueFilter *wz_queue_view_get_filter      (WzQueueView   *self);
GtkSorter     *wz_queue_view_get_sorter      (WzQueueView   *self);
guint          wz_queue_view_find            (WzQueueView   *self,
                                              WzQueueItem   *item);

G_END_DECLS
