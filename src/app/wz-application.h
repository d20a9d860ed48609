/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define WZ_TYPE_APPLICATION (wz_application_get_type ())

G_DECLARE_FINAL_TYPE (WzApplication, wz_application, WZ, APPLICATION, AdwApplication)

WzApplication *wz_application_new (void);

G_END_DECLS
