/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-rx-print"

#include "config.h"

#include "wz-rx-print.h"

#include <cairo-pdf.h>
#include <glib/gi18n.h>
#include <qrencode.h>

#include "wz-test-report.h"

/* A5 portrait in points: the usual size of a Chinese outpatient prescription (处方笺). */
#define A5_WIDTH  419.53
#define A5_HEIGHT 595.28
#define MARGIN    28.0
#define QR_SIZE   72.0

WzRxPrintData *
wz_rx_print_data_new (void)
{
  WzRxPrintData *data = g_new0 (WzRxPrintData, 1);

  data->line_titles = g_ptr_array_new_with_free_func (g_free);
  data->line_details = g_ptr_array_new_with_free_func (g_free);
  return data;
}

void
wz_rx_print_data_free (WzRxPrintData *data)
{
  if (data == NULL)
    return;
  g_free (data->hospital);
  g_free (data->patient);
  g_free (data->patient_details);
  g_free (data->diagnosis);
  g_ptr_array_unref (data->line_titles);
  g_ptr_array_unref (data->line_details);
  g_free (data->doctor);
  g_free (data->pharmacist);
  g_free (data->status);
  g_free (data->date);
  g_free (data->prescription_id);
  g_free (data);
}

void
wz_rx_print_data_add_line (WzRxPrintData *data,
                           const char    *title,
                           const char    *details)
{
  g_ptr_array_add (data->line_titles, g_strdup (title ? title : ""));
  g_ptr_array_add (data->line_details, g_strdup (details ? details : ""));
}

/* Printing and the file chooser finish after the caller's data is gone. */
static WzRxPrintData *
data_copy (const WzRxPrintData *data)
{
  WzRxPrintData *copy = wz_rx_print_data_new ();

  copy->hospital = g_strdup (data->hospital);
  copy->patient = g_strdup (data->patient);
  copy->patient_details = g_strdup (data->patient_details);
  copy->diagnosis = g_strdup (data->diagnosis);
  for (guint i = 0; i < data->line_titles->len; i++)
    wz_rx_print_data_add_line (copy, g_ptr_array_index (data->line_titles, i),
                               g_ptr_array_index (data->line_details, i));
  copy->doctor = g_strdup (data->doctor);
  copy->pharmacist = g_strdup (data->pharmacist);
  copy->status = g_strdup (data->status);
  copy->date = g_strdup (data->date);
  copy->prescription_id = g_strdup (data->prescription_id);
  return copy;
}

/* Draws TEXT at (X, Y) within WIDTH; returns its height. */
static double
text_at (cairo_t    *cr,
         const char *text,
         const char *font,
         double      x,
         double      y,
         double      width,
         PangoAlignment alignment)
{
  g_autoptr(PangoLayout) layout = pango_cairo_create_layout (cr);
  g_autoptr(PangoFontDescription) description = pango_font_description_from_string (font);
  int text_width, text_height;

  pango_layout_set_font_description (layout, description);
  pango_layout_set_width (layout, (int) (width * PANGO_SCALE));
  pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
  pango_layout_set_alignment (layout, alignment);
  pango_layout_set_text (layout, text ? text : "", -1);
  cairo_move_to (cr, x, y);
  pango_cairo_show_layout (cr, layout);
  pango_layout_get_size (layout, &text_width, &text_height);
  return (double) text_height / PANGO_SCALE;
}

static void
rule (cairo_t *cr,
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

static void
draw_qr (cairo_t    *cr,
         const char *text,
         double      x,
         double      y,
         double      size)
{
  QRcode *code;
  double module;

  if (text == NULL || *text == '\0')
    return;
  code = QRcode_encodeString (text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
  if (code == NULL)
    {
      g_warning ("No QR code for %s", text);
      return;
    }
  /* A quiet zone of two modules on each side, as scanners need. */
  module = size / (code->width + 4);
  for (int row = 0; row < code->width; row++)
    for (int column = 0; column < code->width; column++)
      if (code->data[row * code->width + column] & 1)
        cairo_rectangle (cr, x + (column + 2) * module, y + (row + 2) * module, module, module);
  cairo_fill (cr);
  QRcode_free (code);
}

void
wz_rx_print_draw (const WzRxPrintData *data,
                  cairo_t             *cr,
                  double               width,
                  double               height)
{
  double x = MARGIN, y = MARGIN, inner = width - 2 * MARGIN, left, right;
  g_autofree char *patient = NULL;
  g_autofree char *diagnosis = NULL;
  g_autofree char *doctor = NULL;
  g_autofree char *pharmacist = NULL;
  g_autofree char *date = NULL;
  g_autofree char *number = NULL;

  cairo_save (cr);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);

  y += text_at (cr, data->hospital, "Sans Bold 15", x, y, inner - QR_SIZE, PANGO_ALIGN_LEFT);
  y += text_at (cr, _("Prescription · 处方笺"), "Sans 11", x, y + 2, inner - QR_SIZE,
                PANGO_ALIGN_LEFT) + 2;
  number = g_strdup_printf (_("No. %s"), data->prescription_id ? data->prescription_id : "—");
  y += text_at (cr, number, "Monospace 8", x, y + 2, inner - QR_SIZE, PANGO_ALIGN_LEFT);
  draw_qr (cr, data->prescription_id, width - MARGIN - QR_SIZE, MARGIN - 6, QR_SIZE);
  y = MAX (y + 8, MARGIN + QR_SIZE);
  rule (cr, x, y, inner, 1.2);
  y += 8;

  patient = g_strdup_printf (_("Patient: %s   %s"), data->patient ? data->patient : "",
                             data->patient_details ? data->patient_details : "");
  y += text_at (cr, patient, "Sans 10", x, y, inner, PANGO_ALIGN_LEFT) + 4;
  diagnosis = g_strdup_printf (_("Diagnosis: %s"), data->diagnosis ? data->diagnosis : "—");
  y += text_at (cr, diagnosis, "Sans 10", x, y, inner, PANGO_ALIGN_LEFT) + 6;
  rule (cr, x, y, inner, 0.6);
  y += 8;

  y += text_at (cr, "Rp.", "Serif Bold Italic 16", x, y, inner, PANGO_ALIGN_LEFT) + 4;
  for (guint i = 0; i < data->line_titles->len; i++)
    {
      g_autofree char *title = g_strdup_printf ("%u. %s", i + 1,
                                                (char *) g_ptr_array_index (data->line_titles, i));

      y += text_at (cr, title, "Sans Bold 10", x + 8, y, inner - 8, PANGO_ALIGN_LEFT) + 1;
      y += text_at (cr, g_ptr_array_index (data->line_details, i), "Sans 9", x + 22, y,
                    inner - 22, PANGO_ALIGN_LEFT) + 8;
    }

  /* Signatures sit at the foot of the sheet, however many lines there are. */
  y = MAX (y + 12, height - MARGIN - 96);
  rule (cr, x, y, inner, 0.6);
  y += 8;
  doctor = g_strdup_printf (_("Doctor: %s (e-signed)"), data->doctor ? data->doctor : "");
  pharmacist = g_strdup_printf (_("Pharmacist: %s"), data->pharmacist ? data->pharmacist : "____________");
  left = text_at (cr, doctor, "Sans 10", x, y, inner / 2 - 6, PANGO_ALIGN_LEFT);
  right = text_at (cr, pharmacist, "Sans 10", x + inner / 2, y, inner / 2, PANGO_ALIGN_LEFT);
  y += MAX (left, right) + 4;
  date = g_strdup_printf (_("Date: %s"), data->date ? data->date : "");
  left = text_at (cr, date, "Sans 10", x, y, inner / 2 - 6, PANGO_ALIGN_LEFT);
  right = text_at (cr, data->status, "Sans Italic 9", x + inner / 2, y, inner / 2, PANGO_ALIGN_LEFT);
  y += MAX (left, right) + 6;
  text_at (cr, _("Valid for 3 days from the date of issue. Dispense only against the verified electronic record."),
           "Sans 7", x, y, inner, PANGO_ALIGN_LEFT);
  cairo_restore (cr);
}

gboolean
wz_rx_print_to_pdf (const WzRxPrintData *data,
                    const char          *path,
                    GError             **error)
{
  cairo_surface_t *surface = cairo_pdf_surface_create (path, A5_WIDTH, A5_HEIGHT);
  cairo_t *cr = cairo_create (surface);
  cairo_status_t status;

  wz_rx_print_draw (data, cr, A5_WIDTH, A5_HEIGHT);
  cairo_show_page (cr);
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
              WzRxPrintData     *data)
{
  wz_rx_print_draw (data, gtk_print_context_get_cairo_context (context),
                    gtk_print_context_get_width (context), gtk_print_context_get_height (context));
}

void
wz_rx_print_run (const WzRxPrintData *data,
                 GtkWindow           *parent)
{
  g_autoptr(GtkPrintOperation) operation = gtk_print_operation_new ();
  g_autoptr(GtkPageSetup) setup = gtk_page_setup_new ();
  g_autoptr(GtkPaperSize) paper = gtk_paper_size_new (GTK_PAPER_NAME_A5);
  g_autoptr(GError) error = NULL;
  WzRxPrintData *copy = data_copy (data);

  gtk_page_setup_set_paper_size (setup, paper);
  gtk_print_operation_set_default_page_setup (operation, setup);
  gtk_print_operation_set_n_pages (operation, 1);
  gtk_print_operation_set_unit (operation, GTK_UNIT_POINTS);
  gtk_print_operation_set_job_name (operation, _("Prescription"));
  g_signal_connect (operation, "draw-page", G_CALLBACK (on_draw_page), copy);
  g_object_set_data_full (G_OBJECT (operation), "wz-data", copy,
                          (GDestroyNotify) wz_rx_print_data_free);
  if (gtk_print_operation_run (operation, GTK_PRINT_OPERATION_ACTION_PRINT_DIALOG, parent,
                               &error) == GTK_PRINT_OPERATION_RESULT_ERROR)
    g_warning ("Printing failed: %s", error->message);
}

static void
on_export_response (GtkNativeDialog *dialog,
                    int              response,
                    WzRxPrintData   *data)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      g_autoptr(GError) error = NULL;

      if (path == NULL || !wz_rx_print_to_pdf (data, path, &error))
        g_warning ("PDF not written: %s", error ? error->message : "not a local file");
    }
  wz_rx_print_data_free (data);
  g_object_unref (dialog);
}

void
wz_rx_print_export (const WzRxPrintData *data,
                    GtkWindow           *parent)
{
  GtkFileChooserNative *chooser;
  WzRxPrintData *copy = data_copy (data);
  g_autofree char *name = g_strdup_printf ("%s-%s.pdf", _("prescription"),
                                           data->prescription_id ? data->prescription_id : "");

  chooser = gtk_file_chooser_native_new (_("Export Prescription"), parent,
                                         GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"), NULL);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), name);
  g_signal_connect (chooser, "response", G_CALLBACK (on_export_response), copy);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}
