/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <cairo.h>
#include <gio/gio.h>

G_BEGIN_DECLS

/* The whole conversation as a PDF for the patient's record: a header naming the patient, the
 * doctor, the visit and when it was exported, then every message with its time and sender, its
 * text wrapped to the page and its pictures scaled in. Strings are ready to print (translated,
 * times formatted); pictures are cairo image surfaces, so the PDF can be written on a worker
 * thread. */
typedef struct
{
  char            *sender;     /* e.g. “李伟 Li Wei (doctor)” */
  char            *time;       /* e.g. “2026-11-25 14:32” */
  char            *text;
  GPtrArray       *pictures;   /* cairo_surface_t */
  GPtrArray       *files;      /* char *: other attachments, described */
} WzChatExportMessage;

typedef struct
{
  char            *title;
  GPtrArray       *header;     /* char *: “Patient: …”, “Doctor: …” lines */
  GPtrArray       *messages;   /* WzChatExportMessage */
  char            *footer;     /* printf pattern with %d for the page number */
} WzChatExport;

WzChatExport        *wz_chat_export_new          (const char    *title,
                                                  const char    *footer);
void                 wz_chat_export_free         (WzChatExport  *export);
WzChatExportMessage *wz_chat_export_add_message  (WzChatExport  *export,
                                                  const char    *sender,
                                                  const char    *time,
                                                  const char    *text);
/* Takes a reference to SURFACE (an image surface). */
void                 wz_chat_export_add_picture  (WzChatExportMessage *message,
                                                  cairo_surface_t     *surface);

gboolean             wz_chat_export_write        (WzChatExport  *export,
                                                  const char    *path,
                                                  GError       **error);
/* Writes on a worker thread; takes EXPORT. */
void                 wz_chat_export_write_async  (WzChatExport  *export,
                                                  const char    *path,
                                                  GCancellable  *cancellable,
                                                  GAsyncReadyCallback callback,
                                                  gpointer       user_data);
gboolean             wz_chat_export_write_finish (GAsyncResult  *result,
                                                  GError       **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WzChatExport, wz_chat_export_free)

G_END_DECLS
