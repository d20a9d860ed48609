/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "wz-store.h"

G_BEGIN_DECLS

/* Follow-up in the demo (see /work/notes/followup-demo.md for what the app's tests rely on):
 *  - ADULT (hypertensive) on a hypertension care plan started 100 days ago by DOCTOR: the plan's
 *    past Tasks done except the first revisit (overdue) and one missed check-in; a home blood
 *    pressure of 162/98 reported yesterday, judged like any reading (an out-of-range Flag); an
 *    amlodipine prescription approved by PHARMACIST ten days ago (active, with its completed
 *    approval Task) and a draft one that is not approved.
 *  - CHILD: the programme doses given on their due dates up to six weeks ago, so the record has
 *    a history and the latest doses are due (or overdue).
 * Written straight to STORE inside the demo's transaction. */
gboolean wz_followup_demo_add (WzStore     *store,
                               const char  *adult,
                               const char  *child,
                               const char  *doctor,
                               const char  *pharmacist,
                               GError     **error);

G_END_DECLS
