/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "wz-patient-item.h"

G_BEGIN_DECLS

#define WZ_TYPE_PATIENT_ROW (wz_patient_row_get_type ())

G_DECLARE_FINAL_TYPE (WzPatientRow, wz_patient_row, WZ, PATIENT_ROW, GtkWidget)

GtkWidget     *wz_patient_row_new         (void);
WzPatientItem *wz_patient_row_get_patient (WzPatientRow  *self);
void           wz_patient_row_set_patient (WzPatientRow  *self,
                                           WzPatientItem *patient);

G_END_DECLS
