/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>
#include <json-glib/json-glib.h>

#include "wz-api-client.h"

G_BEGIN_DECLS

#define WZ_TYPE_CAREPLAN_EDITOR (wz_careplan_editor_get_type ())

G_DECLARE_FINAL_TYPE (WzCareplanEditor, wz_careplan_editor, WZ, CAREPLAN_EDITOR, GtkWidget)

GtkWidget *wz_careplan_editor_new        (void);
void       wz_careplan_editor_set_client (WzCareplanEditor *self,
                                          WzApiClient      *client);
/* Shows the care plans of PATIENT (a Patient resource, NULL for none) and a new plan to build. */
void       wz_careplan_editor_show       (WzCareplanEditor *self,
                                          JsonObject       *patient);
/* Reads the patient's plans again (a Task or CarePlan changed on the server). */
void       wz_careplan_editor_reload     (WzCareplanEditor *self);

G_END_DECLS
