/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "wz-api-client.h"

G_BEGIN_DECLS

#define WZ_TYPE_LOGIN_PAGE (wz_login_page_get_type ())

G_DECLARE_FINAL_TYPE (WzLoginPage, wz_login_page, WZ, LOGIN_PAGE, GtkWidget)

void        wz_login_page_set_client      (WzLoginPage  *self,
                                           WzApiClient  *client);
void        wz_login_page_set_server_url  (WzLoginPage  *self,
                                           const char   *url,
                                           gboolean      check_now);
void        wz_login_page_sign_in_as      (WzLoginPage  *self,
                                           const char   *username,
                                           const char   *password);
void        wz_login_page_show_error      (WzLoginPage  *self,
                                           const GError *error);
void        wz_login_page_clear_password  (WzLoginPage  *self);
void        wz_login_page_focus_first     (WzLoginPage  *self);
gboolean    wz_login_page_get_busy        (WzLoginPage  *self);

G_END_DECLS
