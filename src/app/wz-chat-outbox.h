/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "wz-api-client.h"
#include "wz-chat-message.h"

G_BEGIN_DECLS

#define WZ_TYPE_CHAT_OUTBOX (wz_chat_outbox_get_type ())

G_DECLARE_FINAL_TYPE (WzChatOutbox, wz_chat_outbox, WZ, CHAT_OUTBOX, GObject)

/* Every chat message the doctor writes, kept in a SQLite file on this computer (synchronous=FULL,
 * one file per server and user, readable by this user only) from before it is shown until the
 * server has stored it (201 or 200). Messages go out strictly in the order they were written, one
 * at a time: attachments first (POST /fhir/Binary), then the Communication with If-None-Exist on
 * its urn:uuid, so a retry after a lost answer never stores it twice. A network failure, 5xx,
 * 408 or 429 is retried with back-off (the message shows “waiting”); any other refusal marks
 * the message failed with the server's explanation and the next one goes. What is still in the
 * file when the app starts again (after a crash or kill -9) is sent then.
 *
 * The database is only touched on a worker thread of its own; the main thread never waits for
 * the disk. */

/* $XDG_DATA_HOME/wenzhen/outbox/<hash of SERVER_URL and USERNAME>.db */
char          *wz_chat_outbox_path_for      (const char           *server_url,
                                             const char           *username);

WzChatOutbox  *wz_chat_outbox_new           (WzApiClient          *client);
/* Opens (creating) the file at PATH and reads what it holds; sending starts when it is open. */
void           wz_chat_outbox_open_async    (WzChatOutbox         *self,
                                             const char           *path,
                                             GCancellable         *cancellable,
                                             GAsyncReadyCallback   callback,
                                             gpointer              user_data);
gboolean       wz_chat_outbox_open_finish   (WzChatOutbox         *self,
                                             GAsyncResult         *result,
                                             GError              **error);
/* Stops sending and closes the file; what it holds stays for the next start. */
void           wz_chat_outbox_close         (WzChatOutbox         *self);

/* Writes MESSAGE (a pending message of the user's; its attachments with their bytes) for
 * ENCOUNTER ("Encounter/ID") about PATIENT ("Patient/ID") to the disk, then queues it. Only
 * once this finishes may the message be shown. */
void           wz_chat_outbox_add_async     (WzChatOutbox         *self,
                                             WzChatMessage        *message,
                                             const char           *encounter,
                                             const char           *patient,
                                             GCancellable         *cancellable,
                                             GAsyncReadyCallback   callback,
                                             gpointer              user_data);
gboolean       wz_chat_outbox_add_finish    (WzChatOutbox         *self,
                                             GAsyncResult         *result,
                                             GError              **error);

/* The messages still waiting for ENCOUNTER, oldest first (borrowed; their state follows the
 * outbox). */
GPtrArray     *wz_chat_outbox_get_pending   (WzChatOutbox         *self,
                                             const char           *encounter);
guint          wz_chat_outbox_get_n_pending (WzChatOutbox         *self);
/* Sends again a message the server refused. */
void           wz_chat_outbox_retry         (WzChatOutbox         *self,
                                             const char           *uuid);
/* The server is back (the realtime connection said hello): try now instead of after back-off. */
void           wz_chat_outbox_kick          (WzChatOutbox         *self);

G_END_DECLS
