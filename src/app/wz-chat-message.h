/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Where one message stands, from the doctor's side. The order is the order of progress of an
 * outgoing message: a receipt never moves one backwards. */
typedef enum
{
  WZ_CHAT_MESSAGE_SENDING,   /* in the outbox on this computer, going out */
  WZ_CHAT_MESSAGE_WAITING,   /* in the outbox; the server cannot be reached just now */
  WZ_CHAT_MESSAGE_FAILED,    /* refused by the server; stays in the outbox */
  WZ_CHAT_MESSAGE_SENT,      /* stored by the server */
  WZ_CHAT_MESSAGE_DELIVERED, /* the patient's device has it */
  WZ_CHAT_MESSAGE_READ,      /* shown to the patient */
  WZ_CHAT_MESSAGE_RECEIVED,  /* a message from the other side */
} WzChatMessageState;

GType       wz_chat_message_state_get_type (void) G_GNUC_CONST;
#define WZ_TYPE_CHAT_MESSAGE_STATE (wz_chat_message_state_get_type ())
const char *wz_chat_message_state_nick     (WzChatMessageState state);

#define WZ_TYPE_CHAT_MESSAGE (wz_chat_message_get_type ())

G_DECLARE_FINAL_TYPE (WzChatMessage, wz_chat_message, WZ, CHAT_MESSAGE, GObject)

WzChatMessage      *wz_chat_message_new_from_resource  (JsonObject         *communication,
                                                        const char         *me);
WzChatMessage      *wz_chat_message_new_pending        (const char         *uuid,
                                                        const char         *sender,
                                                        const char         *text,
                                                        GDateTime          *sent);
gboolean            wz_chat_message_update_from_resource (WzChatMessage    *self,
                                                        JsonObject         *communication);

const char         *wz_chat_message_get_uuid           (WzChatMessage      *self);
const char         *wz_chat_message_get_id             (WzChatMessage      *self);
const char         *wz_chat_message_get_sender         (WzChatMessage      *self);
gboolean            wz_chat_message_get_outgoing       (WzChatMessage      *self);
const char         *wz_chat_message_get_text           (WzChatMessage      *self);
GDateTime          *wz_chat_message_get_sent           (WzChatMessage      *self);
/* meta.lastUpdated as the server wrote it, and in µs since the epoch (0 while not stored). */
const char         *wz_chat_message_get_last_updated   (WzChatMessage      *self);
gint64              wz_chat_message_get_order          (WzChatMessage      *self);
WzChatMessageState  wz_chat_message_get_state          (WzChatMessage      *self);
void                wz_chat_message_set_state          (WzChatMessage      *self,
                                                        WzChatMessageState  state);
/* Raises the state to STATE if that is further along; TRUE if it changed. */
gboolean            wz_chat_message_advance            (WzChatMessage      *self,
                                                        WzChatMessageState  state);
const char         *wz_chat_message_get_error          (WzChatMessage      *self);
void                wz_chat_message_set_error          (WzChatMessage      *self,
                                                        const char         *error);

/* contentAttachment objects, in payload order. */
guint               wz_chat_message_get_n_attachments  (WzChatMessage      *self);
JsonObject         *wz_chat_message_get_attachment     (WzChatMessage      *self,
                                                        guint               index);
/* The bytes of attachment INDEX when this computer has them (an outgoing file), else NULL. */
GBytes             *wz_chat_message_get_attachment_bytes (WzChatMessage    *self,
                                                        guint               index);
void                wz_chat_message_add_attachment     (WzChatMessage      *self,
                                                        const char         *content_type,
                                                        const char         *title,
                                                        GBytes             *bytes);

/* Set by the model: the first message of its day shows the day above it. */
gboolean            wz_chat_message_get_first_of_day   (WzChatMessage      *self);
void                wz_chat_message_set_first_of_day   (WzChatMessage      *self,
                                                        gboolean            first);
/* Set by the view's search: the text to highlight, and whether this is the current match. */
const char         *wz_chat_message_get_highlight      (WzChatMessage      *self);
gboolean            wz_chat_message_get_current_match  (WzChatMessage      *self);
void                wz_chat_message_set_highlight      (WzChatMessage      *self,
                                                        const char         *highlight,
                                                        gboolean            current);
/* Whether the text contains QUERY, ignoring case. */
gboolean            wz_chat_message_matches            (WzChatMessage      *self,
                                                        const char         *query);

G_END_DECLS
