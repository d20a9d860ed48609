/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* One measurement; VALUE2 is the second line (diastolic pressure) or NAN. */
typedef struct
{
  gint64 time_us;
  double value;
  double value2;
} WzVitalsPoint;

#define WZ_TYPE_VITALS_CHART (wz_vitals_chart_get_type ())

G_DECLARE_FINAL_TYPE (WzVitalsChart, wz_vitals_chart, WZ, VITALS_CHART, GtkWidget)

GtkWidget *wz_vitals_chart_new         (void);
/* POINTS: WzVitalsPoint in any order; NULL or empty shows “no measurements”. */
void       wz_vitals_chart_set_points  (WzVitalsChart *self,
                                        GArray        *points);
guint      wz_vitals_chart_get_n_points (WzVitalsChart *self);
void       wz_vitals_chart_set_unit    (WzVitalsChart *self,
                                        const char    *unit);
/* The range a value should stay in, drawn as a band behind the line; NAN for none. */
void       wz_vitals_chart_set_target  (WzVitalsChart *self,
                                        double         low,
                                        double         high);
void       wz_vitals_chart_set_target2 (WzVitalsChart *self,
                                        double         low,
                                        double         high);

G_END_DECLS
