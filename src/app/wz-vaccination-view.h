/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>
#include <json-glib/json-glib.h>

#include "wz-api-client.h"
#include "wz-vaccination-print.h"

G_BEGIN_DECLS

#define WZ_TYPE_VACCINATION_VIEW (wz_vaccination_view_get_type ())

G_DECLARE_FINAL_TYPE (WzVaccinationView, wz_vaccination_view, WZ, VACCINATION_VIEW, GtkWidget)

GtkWidget              *wz_vaccination_view_new         (void);
void                    wz_vaccination_view_set_client  (WzVaccinationView *self,
                                                         WzApiClient       *client);
/* Shows the child's schedule, doses, screening answers and reactions (NULL: nothing). */
void                    wz_vaccination_view_show        (WzVaccinationView *self,
                                                         JsonObject        *patient);
void                    wz_vaccination_view_reload      (WzVaccinationView *self);
/* The electronic vaccination record as shown, for printing (NULL before it is read). */
WzVaccinationPrintData *wz_vaccination_view_print_data  (WzVaccinationView *self);

G_END_DECLS
