/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "wz-api-client.h"
#include "wz-realtime.h"

G_BEGIN_DECLS

#define WZ_TYPE_CHAT_VIEW (wz_chat_view_get_type ())

G_DECLARE_FINAL_TYPE (WzChatView, wz_chat_view, WZ, CHAT_VIEW, GtkWidget)

/* The consultation chat of the selected visit: its messages with day headings, files and
 * delivery ticks; typing and read receipts over the realtime connection; a composer (Enter
 * sends, Shift+Enter starts a line) with files, pasted pictures, dropped files and quick-reply
 * phrases; search within the conversation and export to PDF. Outgoing messages go through the
 * outbox (wz-chat-outbox), which outlives the visit shown. */
void  wz_chat_view_set_client (WzChatView  *self,
                               WzApiClient *client);
/* Signed in: opens this user's outbox on this server (sending what a previous run left) and
 * follows REALTIME. */
void  wz_chat_view_start      (WzChatView  *self,
                               WzSession   *session,
                               WzRealtime  *realtime);
void  wz_chat_view_stop       (WzChatView  *self);
/* The visit to show; NULLs for none. NAME is the patient's, for headings. */
void  wz_chat_view_show       (WzChatView  *self,
                               const char  *patient_id,
                               const char  *encounter_id,
                               const char  *name);

G_END_DECLS
