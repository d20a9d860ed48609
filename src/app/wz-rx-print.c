/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-rx-print"

#include "config.h"

#include "wz-rx-print.h"

#include <glib/gi18n.h>
#include <qrencode.h>

#include "wz-print-pdf.h"
#include "wz-test-report.h"

/* A5 portrait in points: the usual size of a Chinese outpatient prescription (处方笺). */
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

  y += wz_print_sheet_begin (cr, data->hospital, _("Prescription · 处方笺"), "Sans 11", x, y,
                             inner - QR_SIZE) + 2;
  number = g_strdup_printf (_("No. %s"), data->prescription_id ? data->prescription_id : "—");
  y += wz_print_text (cr, number, "Monospace 8", x, y + 2, inner - QR_SIZE, PANGO_ALIGN_LEFT);
  draw_qr (cr, data->prescription_id, width - MARGIN - QR_SIZE, MARGIN - 6, QR_SIZE);
  y = MAX (y + 8, MARGIN + QR_SIZE);
  wz_print_rule (cr, x, y, inner, 1.2);
  y += 8;

  patient = g_strdup_printf (_("Patient: %s   %s"), data->patient ? data->patient : "",
                             data->patient_details ? data->patient_details : "");
  y += wz_print_text (cr, patient, "Sans 10", x, y, inner, PANGO_ALIGN_LEFT) + 4;
  diagnosis = g_strdup_printf (_("Diagnosis: %s"), data->diagnosis ? data->diagnosis : "—");
  y += wz_print_text (cr, diagnosis, "Sans 10", x, y, inner, PANGO_ALIGN_LEFT) + 6;
  wz_print_rule (cr, x, y, inner, 0.6);
  y += 8;

  y += wz_print_text (cr, "Rp.", "Serif Bold Italic 16", x, y, inner, PANGO_ALIGN_LEFT) + 4;
  for (guint i = 0; i < data->line_titles->len; i++)
    {
      g_autofree char *title = g_strdup_printf ("%u. %s", i + 1,
                                                (char *) g_ptr_array_index (data->line_titles, i));

      y += wz_print_text (cr, title, "Sans Bold 10", x + 8, y, inner - 8, PANGO_ALIGN_LEFT) + 1;
      y += wz_print_text (cr, g_ptr_array_index (data->line_details, i), "Sans 9", x + 22, y,
                    inner - 22, PANGO_ALIGN_LEFT) + 8;
    }

  /* Signatures sit at the foot of the sheet, however many lines there are. */
  y = MAX (y + 12, height - MARGIN - 96);
  wz_print_rule (cr, x, y, inner, 0.6);
  y += 8;
  doctor = g_strdup_printf (_("Doctor: %s (e-signed)"), data->doctor ? data->doctor : "");
  pharmacist = g_strdup_printf (_("Pharmacist: %s"), data->pharmacist ? data->pharmacist : "____________");
  left = wz_print_text (cr, doctor, "Sans 10", x, y, inner / 2 - 6, PANGO_ALIGN_LEFT);
  right = wz_print_text (cr, pharmacist, "Sans 10", x + inner / 2, y, inner / 2, PANGO_ALIGN_LEFT);
  y += MAX (left, right) + 4;
  date = g_strdup_printf (_("Date: %s"), data->date ? data->date : "");
  left = wz_print_text (cr, date, "Sans 10", x, y, inner / 2 - 6, PANGO_ALIGN_LEFT);
  right = wz_print_text (cr, data->status, "Sans Italic 9", x + inner / 2, y, inner / 2, PANGO_ALIGN_LEFT);
  y += MAX (left, right) + 6;
  wz_print_text (cr, _("Valid for 3 days from the date of issue. Dispense only against the verified electronic record."),
                 "Sans 7", x, y, inner, PANGO_ALIGN_LEFT);
  cairo_restore (cr);
}

static void
draw_page (gconstpointer  data,
           cairo_t       *cr,
           int            page,
           double         width,
           double         height)
{
  wz_rx_print_draw (data, cr, width, height);
}

static WzPrintJob
sheet_job (const WzRxPrintData *data)
{
  WzPrintJob job = { _("Prescription"), GTK_PAPER_NAME_A5, FALSE, 1, draw_page, data,
                     (GBoxedCopyFunc) data_copy, (GDestroyNotify) wz_rx_print_data_free };

  return job;
}

gboolean
wz_rx_print_to_pdf (const WzRxPrintData *data,
                    const char          *path,
                    GError             **error)
{
  WzPrintJob job = sheet_job (data);

  return wz_print_to_pdf (&job, path, error);
}

GtkPrintOperation *
wz_rx_print_operation_new (const WzRxPrintData *data)
{
  WzPrintJob job = sheet_job (data);

  return wz_print_operation_new (&job);
}

void
wz_rx_print_run (const WzRxPrintData *data,
                 GtkWindow           *parent)
{
  WzPrintJob job = sheet_job (data);

  wz_print_run (&job, parent);
}

void
wz_rx_print_export (const WzRxPrintData *data,
                    GtkWindow           *parent)
{
  WzPrintJob job = sheet_job (data);

  wz_print_export (&job, parent, _("Export Prescription"), _("prescription"),
                   data->prescription_id);
}
