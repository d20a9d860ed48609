/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "wz-queue-item.h"

G_BEGIN_DECLS

/* What search-as-you-type compares against, computed once per patient: the name, its pinyin
 * initials and full pinyin, identifiers (ID card numbers) and phone digits, all case-folded. */
WzQueueKey    *wz_queue_key_new            (const char        *name,
                                            const char        *pinyin_initials,
                                            const char        *pinyin_full,
                                            const char *const *identifiers,
                                            const char *const *phones);
WzQueueKey    *wz_queue_key_copy           (const WzQueueKey  *key);
void           wz_queue_key_free           (WzQueueKey        *key);
gboolean       wz_queue_key_equal          (const WzQueueKey  *a,
                                            const WzQueueKey  *b);
const char    *wz_queue_key_get_text       (const WzQueueKey  *key);

/* A search as typed, prepared once per keystroke. */
typedef struct _WzQueueQuery WzQueueQuery;

WzQueueQuery  *wz_queue_query_new          (const char        *text);
void           wz_queue_query_free         (WzQueueQuery      *query);
gboolean       wz_queue_query_is_empty     (const WzQueueQuery *query);
gboolean       wz_queue_query_matches      (const WzQueueQuery *query,
                                            const WzQueueKey   *key);

const char    *wz_queue_query_get_text     (const WzQueueQuery *query);
GtkFilterChange wz_queue_query_compare     (const WzQueueQuery *old_query,
                                            const WzQueueQuery *new_query);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WzQueueKey, wz_queue_key_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WzQueueQuery, wz_queue_query_free)

/* The keys of a whole worklist, one after the other in large blocks, each tagged with its row:
 * a keystroke reads them in one sequential pass instead of following a pointer per patient, and
 * 100,000 keys cost no allocation each. Keys never move while they are in the store. */
typedef struct _WzQueueKeyStore WzQueueKeyStore;

WzQueueKeyStore  *wz_queue_key_store_new       (void);
void              wz_queue_key_store_free      (WzQueueKeyStore    *store);
const WzQueueKey *wz_queue_key_store_add       (WzQueueKeyStore    *store,
                                                guint               row,
                                                const WzQueueKey   *key);
void              wz_queue_key_store_remove    (WzQueueKeyStore    *store,
                                                const WzQueueKey   *key);
gsize             wz_queue_key_store_get_live  (WzQueueKeyStore    *store);
gsize             wz_queue_key_store_get_dead  (WzQueueKeyStore    *store);
void              wz_queue_key_store_match     (WzQueueKeyStore    *store,
                                                const WzQueueQuery *query,
                                                guint8             *matches,
                                                guint               n_rows);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WzQueueKeyStore, wz_queue_key_store_free)

#define WZ_TYPE_QUEUE_FILTER (wz_queue_filter_get_type ())

G_DECLARE_FINAL_TYPE (WzQueueFilter, wz_queue_filter, WZ, QUEUE_FILTER, GtkFilter)

WzQueueFilter *wz_queue_filter_new         (void);
const char    *wz_queue_filter_get_search  (WzQueueFilter     *self);
void           wz_queue_filter_set_search  (WzQueueFilter     *self,
                                            const char        *search);
WzQueueStatus  wz_queue_filter_get_status  (WzQueueFilter     *self);
const WzQueueQuery *wz_queue_filter_get_query (WzQueueFilter *self);
void           wz_queue_filter_set_status  (WzQueueFilter     *self,
                                            WzQueueStatus      status);

G_END_DECLS
