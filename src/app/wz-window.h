/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "wz-application.h"

G_BEGIN_DECLS

#define WZ_TYPE_WINDOW (wz_window_get_type ())

G_DECLARE_FINAL_TYPE (WzWindow, wz_window, WZ, WINDOW, AdwApplicationWindow)

WzWindow *wz_window_new                (WzApplication *application);
void      wz_window_set_server_url     (WzWindow      *self,
                                        const char    *url,
                                        gboolean       check_now);
void      wz_window_show_demo_starting (WzWindow      *self);
void      wz_window_show_demo_error    (WzWindow      *self,
                                        const GError  *error,
                                        const char    *server_log);
void      wz_window_sign_in_demo       (WzWindow      *self,
                                        const char    *url,
                                        const char    *username,
                                        const char    *password);
void      wz_window_sign_out           (WzWindow      *self);
gboolean  wz_window_is_signed_in       (WzWindow      *self);

G_END_DECLS
