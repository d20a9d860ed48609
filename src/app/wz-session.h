/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define WZ_TYPE_SESSION (wz_session_get_type ())

G_DECLARE_FINAL_TYPE (WzSession, wz_session, WZ, SESSION, GObject)

WzSession  *wz_session_new_from_json    (JsonNode    *node,
                                         const char  *username,
                                         GError     **error);
const char *wz_session_get_access_token (WzSession   *self);
const char *wz_session_get_username     (WzSession   *self);
const char *wz_session_get_display_name (WzSession   *self);
const char *wz_session_get_role         (WzSession   *self);
const char *wz_session_get_role_label   (WzSession   *self);
const char *wz_session_get_practitioner (WzSession   *self);
gint64      wz_session_get_expires_at   (WzSession   *self);

G_END_DECLS
