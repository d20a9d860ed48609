/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* Largest attachment a chat accepts. */
#define WZ_CHAT_MAX_BINARY (10 * 1024 * 1024)

/* One stored attachment; DATA is NULL unless asked for. */
typedef struct
{
  char   *id;
  char   *encounter;      /* "Encounter/ID": its security context */
  char   *content_type;
  char   *sha256;         /* hex */
  gint64  size;
  gint64  created;        /* µs since the epoch */
  GBytes *data;
} WzChatBinary;

void wz_chat_binary_free (WzChatBinary *binary);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WzChatBinary, wz_chat_binary_free)

/* What one reader has acknowledged in one encounter; 0 where nothing yet. */
typedef struct
{
  char   *reader;         /* "Patient/ID" or "Practitioner/ID" */
  gint64  delivered;      /* µs since the epoch, a Communication's meta.lastUpdated */
  gint64  read;
} WzChatReceipt;

void wz_chat_receipt_free (WzChatReceipt *receipt);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WzChatReceipt, wz_chat_receipt_free)

#define WZ_TYPE_CHAT_STORE (wz_chat_store_get_type ())
G_DECLARE_FINAL_TYPE (WzChatStore, wz_chat_store, WZ, CHAT_STORE, GObject)

/* What the chat keeps besides its Communication resources, in DATA_DIR/chat.db (SQLite WAL,
 * synchronous=FULL, so a successful call is on disk; part of `wenzhen-server backup`):
 * attachments (Binary) with their bytes, at most once per encounter and content, and delivery /
 * read receipts, the highest instant per (encounter, reader). Nothing is ever deleted. Calls
 * belong to the thread that opened it. Errors are WZ_ERROR codes. */
WzChatStore   *wz_chat_store_open           (const char    *data_dir,
                                             GError       **error);
/* Stores DATA as a Binary of ENCOUNTER, or finds the one with the same bytes there
 * (*out_created FALSE). */
WzChatBinary  *wz_chat_store_add_binary     (WzChatStore   *self,
                                             const char    *encounter,
                                             const char    *content_type,
                                             GBytes        *data,
                                             gboolean      *out_created,
                                             GError       **error);
/* WZ_ERROR_NOT_FOUND when there is no such Binary. */
WzChatBinary  *wz_chat_store_get_binary     (WzChatStore   *self,
                                             const char    *id,
                                             gboolean       with_data,
                                             GError       **error);
/* Raises READER's STATE ("delivered" or "read") mark in ENCOUNTER to UP_TO (µs) if that is
 * higher; "read" implies "delivered". *out_advanced says whether anything changed. */
gboolean       wz_chat_store_record_receipt (WzChatStore   *self,
                                             const char    *encounter,
                                             const char    *reader,
                                             const char    *state,
                                             gint64         up_to,
                                             gboolean      *out_advanced,
                                             GError       **error);
/* WzChatReceipt of every reader of ENCOUNTER. */
GPtrArray     *wz_chat_store_receipts       (WzChatStore   *self,
                                             const char    *encounter,
                                             GError       **error);
void           wz_chat_store_close          (WzChatStore   *self);

G_END_DECLS
