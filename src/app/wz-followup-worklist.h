/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "wz-api-client.h"

G_BEGIN_DECLS

#define WZ_TYPE_FOLLOWUP_WORKLIST (wz_followup_worklist_get_type ())

G_DECLARE_FINAL_TYPE (WzFollowupWorklist, wz_followup_worklist, WZ, FOLLOWUP_WORKLIST, GtkWidget)

GtkWidget *wz_followup_worklist_new          (void);
void       wz_followup_worklist_set_client   (WzFollowupWorklist *self,
                                              WzApiClient        *client);
/* Reads the worklist again (a later call replaces one still running). */
void       wz_followup_worklist_refresh      (WzFollowupWorklist *self);
/* Forgets everything shown (sign-out). */
void       wz_followup_worklist_stop         (WzFollowupWorklist *self);
/* A resource changed on the server (from /ws): Tasks, Observations, Flags and CarePlans may
 * change the worklist, which is then read again shortly after. */
void       wz_followup_worklist_handle_event (WzFollowupWorklist *self,
                                              const char         *resource_type);

G_END_DECLS
