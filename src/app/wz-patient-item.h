/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define WZ_TYPE_PATIENT_ITEM (wz_patient_item_get_type ())

G_DECLARE_FINAL_TYPE (WzPatientItem, wz_patient_item, WZ, PATIENT_ITEM, GObject)

WzPatientItem *wz_patient_item_new_from_resource (JsonObject    *resource,
                                                  GDate         *today);
const char    *wz_patient_item_get_id            (WzPatientItem *self);
const char    *wz_patient_item_get_name          (WzPatientItem *self);
const char    *wz_patient_item_get_gender        (WzPatientItem *self);
const char    *wz_patient_item_get_birth_date    (WzPatientItem *self);
const char    *wz_patient_item_get_age_label     (WzPatientItem *self);
const char    *wz_patient_item_get_details       (WzPatientItem *self);
gboolean       wz_patient_item_update            (WzPatientItem *self,
                                                  WzPatientItem *other);

gboolean       wz_patient_compute_age            (const char    *birth_date,
                                                  GDate         *today,
                                                  guint         *years,
                                                  guint         *months,
                                                  guint         *days);
char          *wz_patient_format_age             (const char    *birth_date,
                                                  GDate         *today);
const char    *wz_patient_gender_label           (const char    *gender);
char          *wz_patient_name_from_resource     (JsonObject    *resource);

G_END_DECLS
