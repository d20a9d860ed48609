/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>
#include <json-glib/json-glib.h>

#include "wz-api-client.h"

G_BEGIN_DECLS

#define WZ_TYPE_DOCUMENT_VIEWER (wz_document_viewer_get_type ())

G_DECLARE_FINAL_TYPE (WzDocumentViewer, wz_document_viewer, WZ, DOCUMENT_VIEWER, AdwWindow)

/* Opens an uploaded document (a DocumentReference): images in a viewer window with zoom, other
 * files (PDF) in the desktop's default application. The content is fetched first when the
 * attachment only points at a Binary. Problems are reported in a dialog over PARENT's window. */
void       wz_document_viewer_open      (GtkWidget        *parent,
                                         WzApiClient      *client,
                                         JsonObject       *document);

GtkWidget *wz_document_viewer_new       (GtkWindow        *parent,
                                         const char       *title,
                                         GdkTexture       *texture);
void       wz_document_viewer_set_zoom  (WzDocumentViewer *self,
                                         double            zoom);
double     wz_document_viewer_get_zoom  (WzDocumentViewer *self);

G_END_DECLS
