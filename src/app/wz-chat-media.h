/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>
#include <json-glib/json-glib.h>

#include "wz-api-client.h"

G_BEGIN_DECLS

#define WZ_TYPE_CHAT_MEDIA (wz_chat_media_get_type ())

G_DECLARE_FINAL_TYPE (WzChatMedia, wz_chat_media, WZ, CHAT_MEDIA, GObject)

/* The files of one conversation (Binary attachments), fetched once and kept while the
 * conversation is shown, so a row scrolled back into view or an export does not fetch them
 * again. Pictures are decoded once into textures. */
WzChatMedia *wz_chat_media_new              (WzApiClient   *client);
WzApiClient *wz_chat_media_get_client       (WzChatMedia   *self);
/* Forgets every file and cancels what is being fetched. */
void         wz_chat_media_clear            (WzChatMedia   *self);
/* The bytes of URL ("Binary/ID") when already fetched. */
GBytes      *wz_chat_media_lookup           (WzChatMedia   *self,
                                             const char    *url);
void         wz_chat_media_load_async       (WzChatMedia   *self,
                                             const char    *url,
                                             GCancellable  *cancellable,
                                             GAsyncReadyCallback callback,
                                             gpointer       user_data);
GBytes      *wz_chat_media_load_finish      (WzChatMedia   *self,
                                             GAsyncResult  *result,
                                             GError       **error);
/* A texture of picture BYTES, decoded once per KEY (a url, or the message uuid and index). */
GdkTexture  *wz_chat_media_texture          (WzChatMedia   *self,
                                             const char    *key,
                                             GBytes        *bytes,
                                             GError       **error);
/* Opens ATTACHMENT (a contentAttachment) full size: pictures in the document viewer, PDFs and
 * other files in the desktop's application for them. BYTES when this computer has them. */
void         wz_chat_media_open             (WzChatMedia   *self,
                                             GtkWidget     *parent,
                                             JsonObject    *attachment,
                                             GBytes        *bytes);
/* Writes BYTES to a file readable by this user only under the user's runtime folder (gone at
 * log-out), for players that want a file; returns its path. */
char        *wz_chat_media_save_temporary   (GBytes        *bytes,
                                             const char    *suffix,
                                             GError       **error);

G_END_DECLS
