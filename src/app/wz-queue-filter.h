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
const char    *wz_queue_key_get_text       (const WzQueueKey  *key);

/* A search as typed, prepared once per keystroke. */
typedef struct _WzQueueQuery WzQueueQuery;

WzQueueQuery  *wz_queue_query_new          (const char        *text);
void           wz_queue_query_free         (WzQueueQuery      *query);
gboolean       wz_queue_query_is_empty     (const WzQueueQuery *query);
gboolean       wz_queue_query_matches      (const WzQueueQuery *query,
                                            const WzQueueKey   *key);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WzQueueKey, wz_queue_key_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WzQueueQuery, wz_queue_query_free)

#define WZ_TYPE_QUEUE_FILTER (wz_queue_filter_get_type ())

G_DECLARE_FINAL_TYPE (WzQueueFilter, wz_queue_filter, WZ, QUEUE_FILTER, GtkFilter)

WzQueueFilter *wz_queue_filter_new         (void);
const char    *wz_queue_filter_get_search  (WzQueueFilter     *self);
void           wz_queue_filter_set_search  (WzQueueFilter     *self,
                                            const char        *search);
WzQueueStatus  wz_queue_filter_get_status  (WzQueueFilter     *self);
void           wz_queue_filter_set_status  (WzQueueFilter     *self,
                                            WzQueueStatus      status);

G_END_DECLS
