/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "wz-api-client.h"

G_BEGIN_DECLS

#define WZ_TYPE_WORKSPACE (wz_workspace_get_type ())

G_DECLARE_FINAL_TYPE (WzWorkspace, wz_workspace, WZ, WORKSPACE, GtkWidget)

GtkWidget  *wz_workspace_new          (WzApiClient *client);
void        wz_workspace_start        (WzWorkspace *self,
                                       WzSession   *session);
void        wz_workspace_stop         (WzWorkspace *self);
void        wz_workspace_refresh      (WzWorkspace *self);
void        wz_workspace_focus_search (WzWorkspace *self);
void        wz_workspace_show_view    (WzWorkspace *self,
                                       const char  *name);
const char *wz_workspace_get_status   (WzWorkspace *self);
void        wz_workspace_show_encounter (WzWorkspace *self,
                                         const char  *encounter_id);

G_END_DECLS
