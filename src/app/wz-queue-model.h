/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "wz-api-client.h"
#include "wz-queue-filter.h"
#include "wz-queue-item.h"

G_BEGIN_DECLS

#define WZ_TYPE_QUEUE_MODEL (wz_queue_model_get_type ())

G_DECLARE_FINAL_TYPE (WzQueueModel, wz_queue_model, WZ, QUEUE_MODEL, GObject)

WzQueueModel *wz_queue_model_new             (WzApiClient  *client);

void          wz_queue_model_start           (WzQueueModel *self,
                                              WzSession    *session);
void          wz_queue_model_stop            (WzQueueModel *self);
void          wz_queue_model_reload          (WzQueueModel *self);
void          wz_queue_model_catch_up        (WzQueueModel *self);
void          wz_queue_model_handle_event    (WzQueueModel *self,
                                              const char   *resource_type,
                                              const char   *id,
                                              const char   *version_id,
                                              const char   *patient,
                                              const char   *encounter);
void          wz_queue_model_want_allergies  (WzQueueModel *self,
                                              WzQueueItem  *item);

gboolean      wz_queue_model_get_loading     (WzQueueModel *self);
gboolean      wz_queue_model_get_loaded      (WzQueueModel *self);
guint         wz_queue_model_get_count       (WzQueueModel *self,
                                              WzQueueStatus status);
WzQueueItem  *wz_queue_model_find            (WzQueueModel *self,
                                              const char   *encounter_id,
                                              guint        *position);

/* Without a server: the day the queue is for, the doctor, and a searchset Bundle of Encounters
 * with their Patients, as a load or a live update would apply it. For tests. */
void          wz_queue_model_set_context     (WzQueueModel *self,
                                              const char   *practitioner,
                                              GDateTime    *day);
void          wz_queue_model_apply_bundle    (WzQueueModel *self,
                                              JsonNode     *bundle,
                                              gboolean      live);
void          wz_queue_model_add_items       (WzQueueModel *self,
                                              GPtrArray    *items);

/* For WzQueueView: rows are numbers that stay with an item while it is in the model (see
 * wz_queue_item_get_row()); a freed row is given to the next item that joins. */
guint         wz_queue_model_get_n_rows      (WzQueueModel *self);
WzQueueItem  *wz_queue_model_get_row_item    (WzQueueModel *self,
                                              guint         row);
WzQueueItem  *wz_queue_model_peek_item       (WzQueueModel *self,
                                              guint         position);
void          wz_queue_model_match_rows      (WzQueueModel *self,
                                              const WzQueueQuery *query,
                                              guint8       *matches,
                                              guint         n_rows);

G_END_DECLS
