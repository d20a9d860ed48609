/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define WZ_TYPE_ALLERGY_BADGE (wz_allergy_badge_get_type ())

G_DECLARE_FINAL_TYPE (WzAllergyBadge, wz_allergy_badge, WZ, ALLERGY_BADGE, GtkWidget)

GtkWidget          *wz_allergy_badge_new             (void);
void                wz_allergy_badge_set_allergies   (WzAllergyBadge     *self,
                                                      const char * const *allergies);
const char * const *wz_allergy_badge_get_allergies   (WzAllergyBadge     *self);
void                wz_allergy_badge_set_compact     (WzAllergyBadge     *self,
                                                      gboolean            compact);

char              **wz_allergy_names_from_bundle     (JsonNode           *bundle);
char               *wz_allergy_summary               (const char * const *allergies);

G_END_DECLS
