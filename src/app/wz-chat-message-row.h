/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "wz-chat-media.h"
#include "wz-chat-message.h"

G_BEGIN_DECLS

#define WZ_TYPE_CHAT_MESSAGE_ROW (wz_chat_message_row_get_type ())

G_DECLARE_FINAL_TYPE (WzChatMessageRow, wz_chat_message_row, WZ, CHAT_MESSAGE_ROW, GtkWidget)

GtkWidget     *wz_chat_message_row_new          (WzChatMedia      *media);
void           wz_chat_message_row_set_message  (WzChatMessageRow *self,
                                                 WzChatMessage    *message);
WzChatMessage *wz_chat_message_row_get_message  (WzChatMessageRow *self);

/* Pango markup showing TEXT exactly as written (nothing in it is taken as markup), with web
 * addresses as links and every case-insensitive occurrence of HIGHLIGHT marked (more strongly
 * when CURRENT). */
char          *wz_chat_message_row_build_markup (const char       *text,
                                                 const char       *highlight,
                                                 gboolean          current);
/* The day heading for DAY relative to NOW: “Today”, “Yesterday”, or the date. */
char          *wz_chat_message_row_format_day   (GDateTime        *day,
                                                 GDateTime        *now);
/* The time of a message in the user's locale. */
char          *wz_chat_message_row_format_time  (GDateTime        *time);

G_END_DECLS
