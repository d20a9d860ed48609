/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define WZ_TYPE_DEMO_SERVER (wz_demo_server_get_type ())

G_DECLARE_FINAL_TYPE (WzDemoServer, wz_demo_server, WZ, DEMO_SERVER, GObject)

#define WZ_DEMO_USERNAME "doctor"

char         *wz_demo_server_find_binary   (GError             **error);
const char   *wz_demo_server_get_password  (void);

WzDemoServer *wz_demo_server_new           (void);
void          wz_demo_server_start_async   (WzDemoServer        *self,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
char         *wz_demo_server_start_finish  (WzDemoServer        *self,
                                            GAsyncResult        *result,
                                            GError             **error);
void          wz_demo_server_stop_async    (WzDemoServer        *self,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
gboolean      wz_demo_server_stop_finish   (WzDemoServer        *self,
                                            GAsyncResult        *result,
                                            GError             **error);
const char   *wz_demo_server_get_url       (WzDemoServer        *self);
const char   *wz_demo_server_get_data_dir  (WzDemoServer        *self);
const char   *wz_demo_server_get_pid       (WzDemoServer        *self);
char         *wz_demo_server_dup_log_tail  (WzDemoServer        *self);

G_END_DECLS
