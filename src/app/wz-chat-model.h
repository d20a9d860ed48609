/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "wz-chat-message.h"

G_BEGIN_DECLS

#define WZ_TYPE_CHAT_MODEL (wz_chat_model_get_type ())

G_DECLARE_FINAL_TYPE (WzChatModel, wz_chat_model, WZ, CHAT_MODEL, GObject)

/* The messages of one conversation as a GListModel of WzChatMessage: what the server stored in
 * its order of receipt (meta.lastUpdated), then what is still in the outbox in the order it was
 * written. A message is there once, found by its server id or its client urn:uuid. */
WzChatModel   *wz_chat_model_new                (void);
void           wz_chat_model_clear              (WzChatModel   *self);
/* Adds or updates the message a stored Communication is; ME is the user's own reference.
 * *OUT_ADDED tells whether it is new to the conversation. Returns the message (borrowed). */
WzChatMessage *wz_chat_model_add_resource       (WzChatModel   *self,
                                                 JsonObject    *communication,
                                                 const char    *me,
                                                 gboolean      *out_added);
/* Appends a message that is only in the outbox so far (nothing if its uuid is there). */
void           wz_chat_model_add_pending        (WzChatModel   *self,
                                                 WzChatMessage *message);
WzChatMessage *wz_chat_model_find_uuid          (WzChatModel   *self,
                                                 const char    *uuid);
guint          wz_chat_model_get_position       (WzChatModel   *self,
                                                 WzChatMessage *message);
/* The newest meta.lastUpdated the conversation holds, for `_lastUpdated=gt…` (NULL if none). */
const char    *wz_chat_model_get_last_updated   (WzChatModel   *self);
/* The newest meta.lastUpdated of a message from the other side (NULL if none). */
const char    *wz_chat_model_get_last_incoming  (WzChatModel   *self);
/* The other side reports STATE (delivered or read) up to UP_TO: outgoing messages stored up to
 * that instant move on. Returns how many changed. */
guint          wz_chat_model_apply_receipt      (WzChatModel   *self,
                                                 WzChatMessageState state,
                                                 const char    *up_to);

G_END_DECLS
