/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "wz-api-client.h"

G_BEGIN_DECLS

#define WZ_TYPE_RX_EDITOR (wz_rx_editor_get_type ())
G_DECLARE_FINAL_TYPE (WzRxEditor, wz_rx_editor, WZ, RX_EDITOR, GtkWidget)

/* The Prescription page of a visit: formulary search, lines, live checks ($check), drafts kept
 * on this computer and on the server (MedicationRequest status draft), signing ($sign) and, once
 * signed, the prescription read-only with its review status, cancel and print. */
GtkWidget *wz_rx_editor_new        (void);
void       wz_rx_editor_set_client (WzRxEditor  *self,
                                    WzApiClient *client);
/* Shows the prescription of ENCOUNTER_ID for PATIENT_ID (both NULL: nothing selected). */
void       wz_rx_editor_show       (WzRxEditor  *self,
                                    const char  *patient_id,
                                    const char  *encounter_id);

G_END_DECLS
