/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Search keys, see wz-queue-filter.h. */
typedef struct _WzQueueKey WzQueueKey;

/* A patient as the queue shows and searches them, prepared off the main thread. */
typedef struct _WzQueuePatient WzQueuePatient;

WzQueuePatient *wz_queue_patient_new             (JsonObject           *patient,
                                                  GDate                *today);
void            wz_queue_patient_free            (WzQueuePatient       *patient);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WzQueuePatient, wz_queue_patient_free)

/* Where a visit of today stands, as the worklist groups it. */
typedef enum
{
  WZ_QUEUE_STATUS_WAITING,             /* Encounter arrived or triaged */
  WZ_QUEUE_STATUS_IN_CONSULTATION,     /* in-progress */
  WZ_QUEUE_STATUS_AWAITING_PHARMACIST, /* finished, with an open approval Task */
  WZ_QUEUE_STATUS_FINISHED,            /* finished */
  WZ_QUEUE_STATUS_ALL,                 /* a filter value, never an item's status */
  WZ_QUEUE_STATUS_NONE,                /* not in the queue: planned, cancelled, withdrawn */
} WzQueueStatus;

#define WZ_QUEUE_N_STATUSES WZ_QUEUE_STATUS_ALL

GType          wz_queue_status_get_type          (void) G_GNUC_CONST;
#define WZ_TYPE_QUEUE_STATUS (wz_queue_status_get_type ())

const char    *wz_queue_status_label             (WzQueueStatus  status);
WzQueueStatus  wz_queue_status_from_encounter    (const char    *encounter_status);

#define WZ_TYPE_QUEUE_ITEM (wz_queue_item_get_type ())

G_DECLARE_FINAL_TYPE (WzQueueItem, wz_queue_item, WZ, QUEUE_ITEM, GObject)

WzQueueItem   *wz_queue_item_new                 (const char    *encounter_id);

gboolean       wz_queue_item_apply_encounter     (WzQueueItem   *self,
                                                  JsonObject    *encounter);
gboolean       wz_queue_item_apply_patient       (WzQueueItem   *self,
                                                  JsonObject    *patient,
                                                  GDate         *today);
gboolean       wz_queue_item_set_patient         (WzQueueItem          *self,
                                                  const WzQueuePatient *patient);
void           wz_queue_item_set_allergies       (WzQueueItem   *self,
                                                  int            count,
                                                  const char    *summary);
gboolean       wz_queue_item_set_awaiting_pharmacist (WzQueueItem *self,
                                                      gboolean     awaiting);

const char    *wz_queue_item_get_encounter_id    (WzQueueItem   *self);
guint          wz_queue_item_get_version         (WzQueueItem   *self);
const char    *wz_queue_item_get_encounter_status (WzQueueItem  *self);
WzQueueStatus  wz_queue_item_get_status          (WzQueueItem   *self);
gint64         wz_queue_item_get_arrived         (WzQueueItem   *self);
guint          wz_queue_item_get_urgency         (WzQueueItem   *self);
gboolean       wz_queue_item_get_urgency_from_triage (WzQueueItem *self);
const char    *wz_queue_item_get_reason          (WzQueueItem   *self);
const char    *wz_queue_item_get_patient_id      (WzQueueItem   *self);
gboolean       wz_queue_item_has_patient         (WzQueueItem   *self);
const char    *wz_queue_item_get_name            (WzQueueItem   *self);
const char    *wz_queue_item_get_details         (WzQueueItem   *self);
const char    *wz_queue_item_get_gender          (WzQueueItem   *self);
const char    *wz_queue_item_get_birth_date      (WzQueueItem   *self);
int            wz_queue_item_get_allergy_count   (WzQueueItem   *self);
const char    *wz_queue_item_get_allergies       (WzQueueItem   *self);
gboolean       wz_queue_item_get_awaiting_pharmacist (WzQueueItem *self);
/* Valid until the item's patient changes or it joins or leaves a model (whose key store then
 * holds the key, or no longer does). */
const WzQueueKey *wz_queue_item_get_key         (WzQueueItem   *self);

char          *wz_queue_item_format_waiting      (WzQueueItem   *self,
                                                  gint64         now_us);
const char    *wz_queue_urgency_label            (guint          urgency);

int            wz_queue_item_compare_arrival     (gconstpointer  a,
                                                  gconstpointer  b,
                                                  gpointer       user_data);
int            wz_queue_item_compare_urgency     (gconstpointer  a,
                                                  gconstpointer  b,
                                                  gpointer       user_data);

/* For the benchmark and tests: an item from plain values, as if read from the server. */
WzQueueItem   *wz_queue_item_new_for_values      (const char    *encounter_id,
                                                  const char    *name,
                                                  const char    *identifier,
                                                  const char    *phone,
                                                  WzQueueStatus  status,
                                                  guint          urgency,
                                                  gint64         arrived_us);

/* For WzQueueModel and WzQueueView: the item's row in its model (G_MAXUINT when in none), and
 * its key kept in the model's key store instead of the item's own copy while it is there. */
guint          wz_queue_item_get_row             (WzQueueItem      *self);
void           wz_queue_item_set_row             (WzQueueItem      *self,
                                                  guint             row);
void           wz_queue_item_borrow_key          (WzQueueItem      *self,
                                                  const WzQueueKey *key);
void           wz_queue_item_own_key             (WzQueueItem      *self);
gboolean       wz_queue_item_key_is_borrowed     (WzQueueItem      *self);

G_END_DECLS
