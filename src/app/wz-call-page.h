/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "wz-api-client.h"
#include "wz-queue-item.h"
#include "wz-queue-model.h"
#include "wz-realtime.h"

G_BEGIN_DECLS

#define WZ_TYPE_CALL_PAGE (wz_call_page_get_type ())

G_DECLARE_FINAL_TYPE (WzCallPage, wz_call_page, WZ, CALL_PAGE, GtkWidget)

GtkWidget  *wz_call_page_new           (void);

/* The signed-in user's connection: a call's record goes into its visit through it. */
void        wz_call_page_set_client    (WzCallPage  *self,
                                        WzApiClient *client);
/* Signaling rides REALTIME; QUEUE names the patient of a call that comes in. */
void        wz_call_page_set_realtime  (WzCallPage  *self,
                                        WzRealtime  *realtime,
                                        WzQueueModel *queue);
/* The visit the doctor has open (NULL: none). Leaving the visit of a call ends it. */
void        wz_call_page_set_item      (WzCallPage  *self,
                                        WzQueueItem *item);
/* Hangs up whatever call there is (sign-out, quitting). */
void        wz_call_page_end_call      (WzCallPage  *self);

/* Whether a call rings, is being set up or is on. */
gboolean    wz_call_page_get_active    (WzCallPage  *self);
/* Whether a call comes in and waits for an answer. */
gboolean    wz_call_page_get_ringing   (WzCallPage  *self);
/* "Video call with NAME · 3:05", for the banner that leads back to the call. */
const char *wz_call_page_get_summary   (WzCallPage  *self);
gboolean    wz_call_page_get_fullscreen (WzCallPage *self);

G_END_DECLS
