/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-print-pdf"

#include "config.h"

#include "wz-print-pdf.h"

#include <cairo-pdf.h>
#include <glib/gi18n.h>

static PangoLayout *
make_layout (cairo_t        *cr,
             const char     *text,
             const char     *font,
             double          width,
             PangoAlignment  alignment)
{
  PangoLayout *layout = pango_cairo_create_layout (cr);
  g_autoptr(PangoFontDescription) description = pango_font_description_from_string (font);

  pango_layout_set_font_description (layout, description);
  pango_layout_set_width (layout, (int) (width * PANGO_SCALE));
  pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
  pango_layout_set_alignment (layout, alignment);
  pango_layout_set_text (layout, text ? text : "", -1);
  return layout;
}

double
wz_print_text (cairo_t        *cr,
               const char     *text,
               const char     *font,
               double          x,
               double          y,
               double          width,
               PangoAlignment  alignment)
{
  g_autoptr(PangoLayout) layout = make_layout (cr, text, font, width, alignment);
  int text_width, text_height;

  cairo_move_to (cr, x, y);
  pango_cairo_show_layout (cr, layout);
  pango_layout_get_size (layout, &text_width, &text_height);
  return (double) text_height / PANGO_SCALE;
}

double
wz_print_text_height (cairo_t    *cr,
                      const char *text,
                      const char *font,
                      double      width)
{
  g_autoptr(PangoLayout) layout = make_layout (cr, text, font, width, PANGO_ALIGN_LEFT);
  int text_width, text_height;

  pango_layout_get_size (layout, &text_width, &text_height);
  return (double) text_height / PANGO_SCALE;
}

double
wz_print_sheet_begin (cairo_t    *cr,
                      const char *institution,
                      const char *title,
                      const char *title_font,
                      double      x,
                      double      y,
                      double      width)
{
  double height;

  cairo_save (cr);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);

  height = wz_print_text (cr, institution, "Sans Bold 15", x, y, width, PANGO_ALIGN_LEFT);
  return height + wz_print_text (cr, title, title_font, x, y + height + 2, width,
                                 PANGO_ALIGN_LEFT);
}

void
wz_print_rule (cairo_t *cr,
               double   x,
               double   y,
               double   width,
               double   line_width)
{
  cairo_set_line_width (cr, line_width);
  cairo_move_to (cr, x, y);
  cairo_line_to (cr, x + width, y);
  cairo_stroke (cr);
}

/* The job's own copy: printing and the file chooser finish after the caller has gone on. */
static WzPrintJob *
job_take (const WzPrintJob *job)
{
  WzPrintJob *copy = g_new (WzPrintJob, 1);

  *copy = *job;
  copy->job_name = g_strdup (job->job_name);
  copy->paper = g_strdup (job->paper);
  copy->data = job->copy != NULL ? job->copy ((gpointer) job->data) : job->data;
  return copy;
}

static void
job_free (WzPrintJob *job)
{
  if (job->copy != NULL && job->destroy != NULL)
    job->destroy ((gpointer) job->data);
  g_free ((char *) job->job_name);
  g_free ((char *) job->paper);
  g_free (job);
}

gboolean
wz_print_to_pdf (const WzPrintJob  *job,
                 const char        *path,
                 GError           **error)
{
  g_autoptr(GtkPaperSize) paper = gtk_paper_size_new (job->paper);
  double width = gtk_paper_size_get_width (paper, GTK_UNIT_POINTS);
  double height = gtk_paper_size_get_height (paper, GTK_UNIT_POINTS);
  cairo_surface_t *surface;
  cairo_t *cr;
  cairo_status_t status;

  if (job->landscape)
    {
      double swap = width;

      width = height;
      height = swap;
    }
  surface = cairo_pdf_surface_create (path, width, height);
  cr = cairo_create (surface);
  for (int page = 0; page < MAX (job->n_pages, 1); page++)
    {
      job->draw (job->data, cr, page, width, height);
      cairo_show_page (cr);
    }
  cairo_destroy (cr);
  cairo_surface_finish (surface);
  status = cairo_surface_status (surface);
  cairo_surface_destroy (surface);
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("The PDF could not be written: %s"),
                   cairo_status_to_string (status));
      return FALSE;
    }
  return TRUE;
}

static void
on_draw_page (GtkPrintOperation *operation,
              GtkPrintContext   *context,
              int                page,
              WzPrintJob        *job)
{
  job->draw (job->data, gtk_print_context_get_cairo_context (context), page,
             gtk_print_context_get_width (context), gtk_print_context_get_height (context));
}

GtkPrintOperation *
wz_print_operation_new (const WzPrintJob *job)
{
  GtkPrintOperation *operation = gtk_print_operation_new ();
  g_autoptr(GtkPageSetup) setup = gtk_page_setup_new ();
  g_autoptr(GtkPaperSize) paper = gtk_paper_size_new (job->paper);
  WzPrintJob *copy = job_take (job);

  gtk_page_setup_set_paper_size (setup, paper);
  gtk_page_setup_set_orientation (setup, job->landscape ? GTK_PAGE_ORIENTATION_LANDSCAPE
                                                        : GTK_PAGE_ORIENTATION_PORTRAIT);
  gtk_print_operation_set_default_page_setup (operation, setup);
  gtk_print_operation_set_n_pages (operation, MAX (job->n_pages, 1));
  gtk_print_operation_set_unit (operation, GTK_UNIT_POINTS);
  gtk_print_operation_set_job_name (operation, job->job_name);
  g_signal_connect (operation, "draw-page", G_CALLBACK (on_draw_page), copy);
  g_object_set_data_full (G_OBJECT (operation), "wz-print-job", copy, (GDestroyNotify) job_free);

  return operation;
}

void
wz_print_run (const WzPrintJob *job,
              GtkWindow        *parent)
{
  g_autoptr(GtkPrintOperation) operation = wz_print_operation_new (job);
  g_autoptr(GError) error = NULL;

  if (gtk_print_operation_run (operation, GTK_PRINT_OPERATION_ACTION_PRINT_DIALOG, parent,
                               &error) == GTK_PRINT_OPERATION_RESULT_ERROR)
    g_warning ("Printing failed: %s", error->message);
}

static void
on_export_response (GtkNativeDialog *dialog,
                    int              response,
                    WzPrintJob      *job)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      g_autoptr(GError) error = NULL;

      if (path == NULL || !wz_print_to_pdf (job, path, &error))
        g_warning ("PDF not written: %s", error ? error->message : "not a local file");
    }
  job_free (job);
  g_object_unref (dialog);
}

void
wz_print_export (const WzPrintJob *job,
                 GtkWindow        *parent,
                 const char       *title,
                 const char       *file_kind,
                 const char       *file_subject)
{
  g_autofree char *file_name = g_strdup_printf ("%s-%s.pdf", file_kind,
                                                file_subject ? file_subject : "");
  GtkFileChooserNative *chooser;

  chooser = gtk_file_chooser_native_new (title, parent, GTK_FILE_CHOOSER_ACTION_SAVE,
                                         _("_Export"), NULL);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), file_name);
  g_signal_connect (chooser, "response", G_CALLBACK (on_export_response), job_take (job));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}
