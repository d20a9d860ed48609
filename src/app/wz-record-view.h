/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "wz-api-client.h"

G_BEGIN_DECLS

#define WZ_TYPE_RECORD_VIEW (wz_record_view_get_type ())

G_DECLARE_FINAL_TYPE (WzRecordView, wz_record_view, WZ, RECORD_VIEW, GtkWidget)

GtkWidget          *wz_record_view_new            (void);
void                wz_record_view_set_client     (WzRecordView *self,
                                                   WzApiClient  *client);
/* Shows the record of PATIENT_ID ("Patient/…" or the bare id; NULL: nobody) with ENCOUNTER_ID
 * as the visit the actions apply to (NULL: today's open visit of the patient, if any). */
void                wz_record_view_show           (WzRecordView *self,
                                                   const char   *patient_id,
                                                   const char   *encounter_id);
const char         *wz_record_view_get_patient_id (WzRecordView *self);
const char         *wz_record_view_get_encounter_id (WzRecordView *self);
const char * const *wz_record_view_get_allergies  (WzRecordView *self);

G_END_DECLS
