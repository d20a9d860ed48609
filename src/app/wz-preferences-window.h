/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define WZ_TYPE_PREFERENCES_WINDOW (wz_preferences_window_get_type ())

G_DECLARE_FINAL_TYPE (WzPreferencesWindow, wz_preferences_window, WZ, PREFERENCES_WINDOW, AdwPreferencesWindow)

GtkWidget *wz_preferences_window_new (GtkWindow *parent);

G_END_DECLS
