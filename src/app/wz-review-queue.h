/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "wz-api-client.h"

G_BEGIN_DECLS

#define WZ_TYPE_REVIEW_QUEUE (wz_review_queue_get_type ())
G_DECLARE_FINAL_TYPE (WzReviewQueue, wz_review_queue, WZ, REVIEW_QUEUE, GtkWidget)

/* The pharmacist's work: signed prescriptions waiting for review (Task $review-queue), each with
 * its lines, the findings and override reasons recorded at signing, and whether the doctor's
 * signature verifies; Approve, or Reject with a reason that goes back to the doctor. */
GtkWidget *wz_review_queue_new        (void);
void       wz_review_queue_set_client (WzReviewQueue *self,
                                       WzApiClient   *client);
void       wz_review_queue_refresh    (WzReviewQueue *self);

G_END_DECLS
