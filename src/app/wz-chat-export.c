/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-chat-export"

#include "config.h"

#include "wz-chat-export.h"

#include <cairo-pdf.h>
#include <pango/pangocairo.h>

/* A4 in points, with margins wide enough for a binder. */
#define PAGE_WIDTH 595.0
#define PAGE_HEIGHT 842.0
#define MARGIN 56.0
#define TEXT_WIDTH (PAGE_WIDTH - 2 * MARGIN)
#define BOTTOM (PAGE_HEIGHT - MARGIN - 20.0)
#define PICTURE_MAX 260.0

static void
export_message_free (WzChatExportMessage *message)
{
  g_free (message->sender);
  g_free (message->time);
  g_free (message->text);
  g_ptr_array_unref (message->pictures);
  g_ptr_array_unref (message->files);
  g_free (message);
}

WzChatExport *
wz_chat_export_new (const char *title,
                    const char *footer)
{
  WzChatExport *export = g_new0 (WzChatExport, 1);

  export->title = g_strdup (title);
  export->footer = g_strdup (footer);
  export->header = g_ptr_array_new_with_free_func (g_free);
  export->messages = g_ptr_array_new_with_free_func ((GDestroyNotify) export_message_free);

  return export;
}

void
wz_chat_export_free (WzChatExport *export)
{
  if (export == NULL)
    return;

  g_free (export->title);
  g_free (export->footer);
  g_ptr_array_unref (export->header);
  g_ptr_array_unref (export->messages);
  g_free (export);
}

WzChatExportMessage *
wz_chat_export_add_message (WzChatExport *export,
                            const char   *sender,
                            const char   *time,
                            const char   *text)
{
  WzChatExportMessage *message = g_new0 (WzChatExportMessage, 1);

  message->sender = g_strdup (sender);
  message->time = g_strdup (time);
  message->text = g_strdup (text);
  message->pictures = g_ptr_array_new_with_free_func ((GDestroyNotify) cairo_surface_destroy);
  message->files = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (export->messages, message);

  return message;
}

void
wz_chat_export_add_picture (WzChatExportMessage *message,
                            cairo_surface_t     *surface)
{
  g_ptr_array_add (message->pictures, cairo_surface_reference (surface));
}

typedef struct
{
  cairo_t            *cr;
  const WzChatExport *export;
  double              y;
  int                 page;
} Writer;

static PangoLayout *
layout_for (Writer     *writer,
            const char *text,
            const char *font,
            double      width)
{
  PangoLayout *layout = pango_cairo_create_layout (writer->cr);
  g_autoptr(PangoFontDescription) description = pango_font_description_from_string (font);

  pango_layout_set_font_description (layout, description);
  pango_layout_set_width (layout, (int) (width * PANGO_SCALE));
  pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
  /* Plain text: nothing a patient typed is read as markup. */
  pango_layout_set_text (layout, text != NULL ? text : "", -1);

  return layout;
}

static void
finish_page (Writer *writer)
{
  g_autofree char *footer = NULL;
  g_autoptr(PangoLayout) layout = NULL;

  if (writer->export->footer != NULL)
    {
      g_autofree char *number = g_strdup_printf ("%d", writer->page);
      g_auto(GStrv) parts = g_strsplit (writer->export->footer, "%d", 2);

      /* The pattern comes from a translation: its “%d” is replaced, nothing else is read. */
      footer = g_strjoinv (number, parts);
      layout = layout_for (writer, footer, "Sans 8", TEXT_WIDTH);
      pango_layout_set_alignment (layout, PANGO_ALIGN_CENTER);
      cairo_set_source_rgb (writer->cr, 0.4, 0.4, 0.4);
      cairo_move_to (writer->cr, MARGIN, PAGE_HEIGHT - MARGIN);
      pango_cairo_show_layout (writer->cr, layout);
    }
  cairo_show_page (writer->cr);
  writer->page++;
  writer->y = MARGIN;
}

static void
ensure_space (Writer *writer,
              double  height)
{
  if (writer->y + height > BOTTOM && writer->y > MARGIN)
    finish_page (writer);
}

/* Draws TEXT, breaking pages between its lines when it is longer than what is left. */
static void
draw_text (Writer     *writer,
           const char *text,
           const char *font,
           double      x,
           double      r,
           double      g,
           double      b)
{
  g_autoptr(PangoLayout) layout = layout_for (writer, text, font, TEXT_WIDTH - (x - MARGIN));
  PangoLayoutIter *iter = pango_layout_get_iter (layout);
  double top = 0;

  cairo_set_source_rgb (writer->cr, r, g, b);
  do
    {
      PangoRectangle logical;
      int baseline = pango_layout_iter_get_baseline (iter);
      PangoLayoutLine *line = pango_layout_iter_get_line_readonly (iter);
      double line_top, line_height;

      pango_layout_iter_get_line_extents (iter, NULL, &logical);
      line_top = (double) logical.y / PANGO_SCALE;
      line_height = (double) logical.height / PANGO_SCALE;
      if (writer->y + (line_top - top) + line_height > BOTTOM)
        {
          writer->y += line_top - top;
          finish_page (writer);
          cairo_set_source_rgb (writer->cr, r, g, b);
          top = line_top;
        }
      cairo_move_to (writer->cr, x + (double) logical.x / PANGO_SCALE,
                     writer->y + (line_top - top) + (double) baseline / PANGO_SCALE - line_top);
      pango_cairo_show_layout_line (writer->cr, line);
    }
  while (pango_layout_iter_next_line (iter));

  {
    PangoRectangle logical;

    pango_layout_get_extents (layout, NULL, &logical);
    writer->y += (double) (logical.y + logical.height) / PANGO_SCALE - top;
  }
  pango_layout_iter_free (iter);
}

static void
draw_picture (Writer          *writer,
              cairo_surface_t *surface,
              double           x)
{
  double width = cairo_image_surface_get_width (surface);
  double height = cairo_image_surface_get_height (surface);
  double scale;

  if (width <= 0 || height <= 0)
    return;

  scale = MIN (1.0, MIN (PICTURE_MAX / width, PICTURE_MAX / height));
  ensure_space (writer, height * scale + 6);
  cairo_save (writer->cr);
  cairo_translate (writer->cr, x, writer->y + 3);
  cairo_scale (writer->cr, scale, scale);
  cairo_set_source_surface (writer->cr, surface, 0, 0);
  cairo_pattern_set_filter (cairo_get_source (writer->cr), CAIRO_FILTER_GOOD);
  cairo_paint (writer->cr);
  cairo_restore (writer->cr);
  writer->y += height * scale + 6;
}

gboolean
wz_chat_export_write (WzChatExport  *export,
                      const char    *path,
                      GError       **error)
{
  cairo_surface_t *surface;
  cairo_status_t status;
  Writer writer = { NULL, export, MARGIN, 1 };

  g_return_val_if_fail (export != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  surface = cairo_pdf_surface_create (path, PAGE_WIDTH, PAGE_HEIGHT);
  if (cairo_surface_status (surface) != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", path,
                   cairo_status_to_string (cairo_surface_status (surface)));
      cairo_surface_destroy (surface);
      return FALSE;
    }
  if (export->title != NULL)
    cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_TITLE, export->title);
  cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_CREATOR, PACKAGE_NAME);

  writer.cr = cairo_create (surface);

  draw_text (&writer, export->title, "Sans Bold 16", MARGIN, 0, 0, 0);
  writer.y += 6;
  for (guint i = 0; i < export->header->len; i++)
    draw_text (&writer, g_ptr_array_index (export->header, i), "Sans 10", MARGIN, 0.2, 0.2, 0.2);
  writer.y += 8;
  cairo_set_source_rgb (writer.cr, 0.6, 0.6, 0.6);
  cairo_set_line_width (writer.cr, 0.8);
  cairo_move_to (writer.cr, MARGIN, writer.y);
  cairo_line_to (writer.cr, PAGE_WIDTH - MARGIN, writer.y);
  cairo_stroke (writer.cr);
  writer.y += 12;

  for (guint i = 0; i < export->messages->len; i++)
    {
      WzChatExportMessage *message = g_ptr_array_index (export->messages, i);
      g_autofree char *heading = g_strdup_printf ("%s  ·  %s", message->time, message->sender);

      /* A heading is never left alone at the foot of a page. */
      ensure_space (&writer, 40);
      draw_text (&writer, heading, "Sans Bold 9", MARGIN, 0.25, 0.25, 0.25);
      writer.y += 2;
      if (message->text != NULL && *message->text != '\0')
        draw_text (&writer, message->text, "Sans 10.5", MARGIN + 12, 0, 0, 0);
      for (guint p = 0; p < message->pictures->len; p++)
        draw_picture (&writer, g_ptr_array_index (message->pictures, p), MARGIN + 12);
      for (guint f = 0; f < message->files->len; f++)
        draw_text (&writer, g_ptr_array_index (message->files, f), "Sans Italic 9.5", MARGIN + 12,
                   0.3, 0.3, 0.3);
      writer.y += 10;
    }

  finish_page (&writer);
  cairo_destroy (writer.cr);
  cairo_surface_finish (surface);
  status = cairo_surface_status (surface);
  cairo_surface_destroy (surface);

  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", path,
                   cairo_status_to_string (status));
      return FALSE;
    }

  return TRUE;
}

static void
write_in_thread (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  WzChatExport *export = task_data;
  const char *path = g_object_get_data (G_OBJECT (task), "path");
  GError *error = NULL;

  if (wz_chat_export_write (export, path, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
wz_chat_export_write_async (WzChatExport        *export,
                            const char          *path,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, wz_chat_export_write_async);
  g_task_set_task_data (task, export, (GDestroyNotify) wz_chat_export_free);
  g_object_set_data_full (G_OBJECT (task), "path", g_strdup (path), g_free);
  g_task_run_in_thread (task, write_in_thread);
}

gboolean
wz_chat_export_write_finish (GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
