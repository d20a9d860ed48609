/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>
#include <json-glib/json-glib.h>

#include "wz-api-client.h"

G_BEGIN_DECLS

#define WZ_TYPE_FORMULARY_SEARCH (wz_formulary_search_get_type ())
G_DECLARE_FINAL_TYPE (WzFormularySearch, wz_formulary_search, WZ, FORMULARY_SEARCH, GtkWidget)

/* A search entry over the server's formulary (GET /formulary?q=) with its matches in a popover,
 * as you type: generic or brand name, pinyin initials, ATC or product code. Down moves into the
 * matches, Enter takes the highlighted one (the first when none is) and emits ::drug-chosen with
 * the product's JSON object. */
GtkWidget *wz_formulary_search_new        (void);
void       wz_formulary_search_set_client (WzFormularySearch *self,
                                           WzApiClient       *client);
void       wz_formulary_search_focus      (WzFormularySearch *self);

G_END_DECLS
