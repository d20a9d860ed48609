/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "wz-api-client.h"

G_BEGIN_DECLS

#define WZ_TYPE_FOLLOWUP_PAGE (wz_followup_page_get_type ())

G_DECLARE_FINAL_TYPE (WzFollowupPage, wz_followup_page, WZ, FOLLOWUP_PAGE, GtkWidget)

void wz_followup_page_set_client  (WzFollowupPage *self,
                                   WzApiClient    *client);
/* The Follow-up tab for PATIENT_ID (NULL: nobody selected). */
void wz_followup_page_show        (WzFollowupPage *self,
                                   const char     *patient_id);
/* A resource of the shown patient changed on the server. */
void wz_followup_page_handle_event (WzFollowupPage *self,
                                    const char     *resource_type,
                                    const char     *patient);

G_END_DECLS
