/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-document-viewer"

#include "config.h"

#include "wz-document-viewer.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "wz-fhir-json.h"
#include "wz-test-report.h"

/* A photo or scan a patient uploaded, in a window of its own so it can be as large as the
 * screen: fit to the window by default, zoom with the buttons, Ctrl+plus/minus or Ctrl+scroll. */
struct _WzDocumentViewer
{
  AdwWindow          parent_instance;

  AdwWindowTitle    *window_title;
  GtkButton         *zoom_button;
  GtkScrolledWindow *scroller;
  GtkPicture        *picture;

  GdkTexture        *texture;
  double             zoom;    /* 0: fit to the window */
};

G_DEFINE_FINAL_TYPE (WzDocumentViewer, wz_document_viewer, ADW_TYPE_WINDOW)

#define MIN_ZOOM 0.1
#define MAX_ZOOM 8.0

static double
fit_zoom (WzDocumentViewer *self)
{
  int width = gtk_widget_get_width (GTK_WIDGET (self->scroller));
  int height = gtk_widget_get_height (GTK_WIDGET (self->scroller));
  int tw = gdk_texture_get_width (self->texture);
  int th = gdk_texture_get_height (self->texture);

  if (width <= 0 || height <= 0 || tw <= 0 || th <= 0)
    return 1.0;

  return MIN (1.0, MIN ((double) width / tw, (double) height / th));
}

double
wz_document_viewer_get_zoom (WzDocumentViewer *self)
{
  g_return_val_if_fail (WZ_IS_DOCUMENT_VIEWER (self), 1.0);

  return self->zoom > 0 ? self->zoom : fit_zoom (self);
}

void
wz_document_viewer_set_zoom (WzDocumentViewer *self,
                             double            zoom)
{
  g_autofree char *label = NULL;
  double shown;

  g_return_if_fail (WZ_IS_DOCUMENT_VIEWER (self));

  self->zoom = zoom > 0 ? CLAMP (zoom, MIN_ZOOM, MAX_ZOOM) : 0;
  if (self->zoom > 0)
    {
      gtk_widget_set_size_request (GTK_WIDGET (self->picture),
                                   (int) (gdk_texture_get_width (self->texture) * self->zoom),
                                   (int) (gdk_texture_get_height (self->texture) * self->zoom));
      gtk_scrolled_window_set_policy (self->scroller, GTK_POLICY_AUTOMATIC, GTK_POLICY_AUTOMATIC);
    }
  else
    {
      gtk_widget_set_size_request (GTK_WIDGET (self->picture), -1, -1);
      gtk_scrolled_window_set_policy (self->scroller, GTK_POLICY_NEVER, GTK_POLICY_NEVER);
    }

  shown = wz_document_viewer_get_zoom (self);
  label = g_strdup_printf ("%.0f%%", shown * 100);
  gtk_button_set_label (self->zoom_button, label);
  wz_test_report ("document-zoom %.0f", shown * 100);
}

static void
action_zoom (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  WzDocumentViewer *self = WZ_DOCUMENT_VIEWER (widget);
  double zoom = wz_document_viewer_get_zoom (self);

  if (g_str_equal (action_name, "viewer.zoom-in"))
    wz_document_viewer_set_zoom (self, zoom * 1.25);
  else if (g_str_equal (action_name, "viewer.zoom-out"))
    wz_document_viewer_set_zoom (self, zoom / 1.25);
  else
    wz_document_viewer_set_zoom (self, 0);
}

static gboolean
on_scroll (GtkEventControllerScroll *controller,
           double                    dx,
           double                    dy,
           WzDocumentViewer         *self)
{
  GdkModifierType state = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (controller));

  if (!(state & GDK_CONTROL_MASK) || dy == 0)
    return FALSE;

  wz_document_viewer_set_zoom (self, wz_document_viewer_get_zoom (self) * (dy < 0 ? 1.1 : 1 / 1.1));

  return TRUE;
}

static void
wz_document_viewer_dispose (GObject *object)
{
  WzDocumentViewer *self = WZ_DOCUMENT_VIEWER (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), WZ_TYPE_DOCUMENT_VIEWER);
  g_clear_object (&self->texture);

  G_OBJECT_CLASS (wz_document_viewer_parent_class)->dispose (object);
}

static void
wz_document_viewer_class_init (WzDocumentViewerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = wz_document_viewer_dispose;

  gtk_widget_class_install_action (widget_class, "viewer.zoom-in", NULL, action_zoom);
  gtk_widget_class_install_action (widget_class, "viewer.zoom-out", NULL, action_zoom);
  gtk_widget_class_install_action (widget_class, "viewer.zoom-fit", NULL, action_zoom);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_plus, GDK_CONTROL_MASK, "viewer.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_equal, GDK_CONTROL_MASK, "viewer.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Add, GDK_CONTROL_MASK, "viewer.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_minus, GDK_CONTROL_MASK, "viewer.zoom-out", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Subtract, GDK_CONTROL_MASK, "viewer.zoom-out", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_0, GDK_CONTROL_MASK, "viewer.zoom-fit", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_w, GDK_CONTROL_MASK, "window.close", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/wenzhen/Wenzhen/wz-document-viewer.ui");
  gtk_widget_class_bind_template_child (widget_class, WzDocumentViewer, window_title);
  gtk_widget_class_bind_template_child (widget_class, WzDocumentViewer, zoom_button);
  gtk_widget_class_bind_template_child (widget_class, WzDocumentViewer, scroller);
  gtk_widget_class_bind_template_child (widget_class, WzDocumentViewer, picture);
}

static void
wz_document_viewer_init (WzDocumentViewer *self)
{
  GtkEventController *scroll;

  gtk_widget_init_template (GTK_WIDGET (self));

  scroll = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);
  gtk_event_controller_set_propagation_phase (scroll, GTK_PHASE_CAPTURE);
  g_signal_connect (scroll, "scroll", G_CALLBACK (on_scroll), self);
  gtk_widget_add_controller (GTK_WIDGET (self->scroller), scroll);
}

GtkWidget *
wz_document_viewer_new (GtkWindow  *parent,
                        const char *title,
                        GdkTexture *texture)
{
  WzDocumentViewer *self;

  g_return_val_if_fail (GDK_IS_TEXTURE (texture), NULL);

  self = g_object_new (WZ_TYPE_DOCUMENT_VIEWER,
                       "transient-for", parent,
                       "title", title,
                       NULL);
  self->texture = g_object_ref (texture);
  adw_window_title_set_title (self->window_title, title);
  gtk_picture_set_paintable (self->picture, GDK_PAINTABLE (texture));
  wz_document_viewer_set_zoom (self, 0);

  return GTK_WIDGET (self);
}

/* ---------------------------------------------------------------------------------------- */
/* Opening a DocumentReference */

typedef struct
{
  GtkWidget  *parent;
  char       *title;
  char       *content_type;
} OpenData;

static void
open_data_free (OpenData *data)
{
  g_clear_object (&data->parent);
  g_free (data->title);
  g_free (data->content_type);
  g_free (data);
}

static void
show_problem (GtkWidget  *parent,
              const char *message)
{
  GtkRoot *root = gtk_widget_get_root (parent);
  GtkWidget *dialog;

  wz_test_report ("document-error message=%s", message);
  dialog = adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                   _("Document Not Opened"), message);
  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
on_launched (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  OpenData *data = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_app_info_launch_default_for_uri_finish (result, &error))
    {
      g_autofree char *message =
        g_strdup_printf (_("No application on this computer opens this kind of file (%s): %s"),
                         data->content_type, error->message);

      show_problem (data->parent, message);
    }
  else
    wz_test_report ("document-opened kind=external type=%s", data->content_type);

  open_data_free (data);
}

/* Files for other applications go to the user's runtime folder: private to the user and gone
 * at log-out, so patient documents do not pile up on the disk. */
static void
launch_external (OpenData *data,
                 GBytes   *bytes)
{
  g_autofree char *dir = g_build_filename (g_get_user_runtime_dir (), "wenzhen", "documents", NULL);
  g_autofree char *template = NULL;
  g_autofree char *path = NULL;
  g_autofree char *uri = NULL;
  g_autoptr(GError) error = NULL;
  const char *extension = g_strcmp0 (data->content_type, "application/pdf") == 0 ? ".pdf" : "";
  int fd;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      show_problem (data->parent, g_strerror (errno));
      open_data_free (data);
      return;
    }

  template = g_strconcat ("document-XXXXXX", extension, NULL);
  path = g_build_filename (dir, template, NULL);
  fd = g_mkstemp_full (path, O_RDWR, 0600);
  if (fd < 0)
    {
      show_problem (data->parent, g_strerror (errno));
      open_data_free (data);
      return;
    }
  close (fd);

  if (!g_file_set_contents_full (path, g_bytes_get_data (bytes, NULL), (gssize) g_bytes_get_size (bytes),
                                 G_FILE_SET_CONTENTS_NONE, 0600, &error))
    {
      show_problem (data->parent, error->message);
      open_data_free (data);
      return;
    }

  uri = g_filename_to_uri (path, NULL, NULL);
  g_app_info_launch_default_for_uri_async (uri, NULL, NULL, on_launched, data);
}

static void
show_content (OpenData *data,
              GBytes   *bytes)
{
  if (g_str_has_prefix (data->content_type, "image/"))
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GdkTexture) texture = gdk_texture_new_from_bytes (bytes, &error);
      GtkRoot *root = gtk_widget_get_root (data->parent);
      GtkWidget *viewer;

      if (texture == NULL)
        {
          g_autofree char *message = g_strdup_printf (_("The picture could not be read: %s"),
                                                      error->message);

          show_problem (data->parent, message);
          open_data_free (data);
          return;
        }

      viewer = wz_document_viewer_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, data->title,
                                       texture);
      gtk_window_present (GTK_WINDOW (viewer));
      wz_test_report ("document-opened kind=image width=%d height=%d",
                      gdk_texture_get_width (texture), gdk_texture_get_height (texture));
      open_data_free (data);
      return;
    }

  launch_external (data, bytes);
}

static GBytes *
decode (const char *base64)
{
  gsize length = 0;
  guchar *raw = g_base64_decode (base64, &length);

  return g_bytes_new_take (raw, length);
}

static void
on_binary_loaded (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  OpenData *data = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = wz_api_client_get_json_finish (WZ_API_CLIENT (object), result, &error);
  const char *content;
  g_autoptr(GBytes) bytes = NULL;

  if (node == NULL)
    {
      show_problem (data->parent, error->message);
      open_data_free (data);
      return;
    }

  content = JSON_NODE_HOLDS_OBJECT (node) ? wz_json_string (json_node_get_object (node), "data") : NULL;
  if (content == NULL)
    {
      show_problem (data->parent, _("The server has no content for this document."));
      open_data_free (data);
      return;
    }

  bytes = decode (content);
  show_content (data, bytes);
}

void
wz_document_viewer_open (GtkWidget   *parent,
                         WzApiClient *client,
                         JsonObject  *document)
{
  JsonObject *attachment;
  const char *url;
  const char *content;
  OpenData *data;

  g_return_if_fail (GTK_IS_WIDGET (parent));
  g_return_if_fail (WZ_IS_API_CLIENT (client));

  attachment = wz_json_object (wz_json_array_object (wz_json_array (document, "content"), 0),
                               "attachment");
  data = g_new0 (OpenData, 1);
  data->parent = g_object_ref (parent);
  data->title = g_strdup (wz_json_string (attachment, "title") ?: _("Document"));
  data->content_type = g_strdup (wz_json_string (attachment, "contentType") ?: "application/octet-stream");

  content = wz_json_string (attachment, "data");
  url = wz_json_string (attachment, "url");
  if (content != NULL)
    {
      g_autoptr(GBytes) bytes = decode (content);

      show_content (data, bytes);
    }
  else if (url != NULL && g_str_has_prefix (url, "Binary/"))
    {
      g_autofree char *path = g_strconcat ("/fhir/", url, NULL);

      wz_api_client_get_json_async (client, path, NULL, on_binary_loaded, data);
    }
  else
    {
      show_problem (parent, _("This document has no content the app can open."));
      open_data_free (data);
    }
}
