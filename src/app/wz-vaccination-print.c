/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-vaccination-print"

#include "config.h"

#include "wz-vaccination-print.h"

#include <glib/gi18n.h>

#include "wz-print-pdf.h"

/* A4 portrait, the size of the paper vaccination certificate (预防接种证) pages. */
#define A4_HEIGHT   841.89
#define MARGIN      36.0
#define ROW_HEIGHT  20.0
#define HEADER_SIZE 150.0
#define FOOTER_SIZE 40.0

static void
row_free (gpointer data)
{
  WzVaccinationPrintRow *row = data;

  g_free (row->vaccine);
  g_free (row->dose);
  g_free (row->status);
  g_free (row->date);
  g_free (row->lot);
  g_free (row->site);
  g_free (row);
}

WzVaccinationPrintData *
wz_vaccination_print_data_new (void)
{
  WzVaccinationPrintData *data = g_new0 (WzVaccinationPrintData, 1);

  data->rows = g_ptr_array_new_with_free_func (row_free);
  return data;
}

void
wz_vaccination_print_data_free (WzVaccinationPrintData *data)
{
  if (data == NULL)
    return;
  g_free (data->clinic);
  g_free (data->child);
  g_free (data->child_details);
  g_free (data->guardian);
  g_free (data->schedule);
  g_free (data->printed);
  g_ptr_array_unref (data->rows);
  g_free (data);
}

void
wz_vaccination_print_data_add_row (WzVaccinationPrintData *data,
                                   const char             *vaccine,
                                   const char             *dose,
                                   const char             *status,
                                   const char             *date,
                                   const char             *lot,
                                   const char             *site,
                                   gboolean                given)
{
  WzVaccinationPrintRow *row = g_new0 (WzVaccinationPrintRow, 1);

  row->vaccine = g_strdup (vaccine ? vaccine : "");
  row->dose = g_strdup (dose ? dose : "");
  row->status = g_strdup (status ? status : "");
  row->date = g_strdup (date ? date : "");
  row->lot = g_strdup (lot ? lot : "");
  row->site = g_strdup (site ? site : "");
  row->given = given;
  g_ptr_array_add (data->rows, row);
}

static WzVaccinationPrintData *
data_copy (const WzVaccinationPrintData *data)
{
  WzVaccinationPrintData *copy = wz_vaccination_print_data_new ();

  copy->clinic = g_strdup (data->clinic);
  copy->child = g_strdup (data->child);
  copy->child_details = g_strdup (data->child_details);
  copy->guardian = g_strdup (data->guardian);
  copy->schedule = g_strdup (data->schedule);
  copy->printed = g_strdup (data->printed);
  for (guint i = 0; i < data->rows->len; i++)
    {
      WzVaccinationPrintRow *row = g_ptr_array_index (data->rows, i);

      wz_vaccination_print_data_add_row (copy, row->vaccine, row->dose, row->status, row->date,
                                         row->lot, row->site, row->given);
    }
  return copy;
}

static guint
rows_per_page (double height)
{
  return (guint) MAX (1.0, (height - 2 * MARGIN - HEADER_SIZE - FOOTER_SIZE) / ROW_HEIGHT);
}

int
wz_vaccination_print_n_pages (const WzVaccinationPrintData *data)
{
  guint per_page = rows_per_page (A4_HEIGHT);

  return MAX (1, (int) ((data->rows->len + per_page - 1) / per_page));
}

void
wz_vaccination_print_draw (const WzVaccinationPrintData *data,
                           cairo_t                      *cr,
                           int                           page,
                           double                        width,
                           double                        height)
{
  /* Column starts as fractions of the inner width: vaccine, dose, status, date, lot, site. */
  static const double columns[] = { 0.0, 0.36, 0.44, 0.60, 0.73, 0.86 };
  const char *headings[] = {
    /* Translators: column headings of the printed vaccination record */
    _("Vaccine"), _("Dose"), _("Status"), _("Date"), _("Lot"), _("Site"),
  };
  double x = MARGIN, y = MARGIN, inner = width - 2 * MARGIN;
  guint per_page = rows_per_page (height);
  guint first = (guint) page * per_page;
  g_autofree char *child = NULL;
  g_autofree char *footer = NULL;

  y += wz_print_sheet_begin (cr, data->clinic, _("Electronic Vaccination Record · 电子预防接种记录"),
                             "Sans 12", x, y, inner) + 8;
  wz_print_rule (cr, x, y, inner, 1.2);
  y += 8;
  child = g_strdup_printf (_("Child: %s   %s"), data->child ? data->child : "",
                           data->child_details ? data->child_details : "");
  y += wz_print_text (cr, child, "Sans 10", x, y, inner, PANGO_ALIGN_LEFT) + 3;
  if (data->guardian != NULL)
    {
      g_autofree char *guardian = g_strdup_printf (_("Guardian: %s"), data->guardian);

      y += wz_print_text (cr, guardian, "Sans 10", x, y, inner, PANGO_ALIGN_LEFT) + 3;
    }
  if (data->schedule != NULL)
    y += wz_print_text (cr, data->schedule, "Sans Italic 8", x, y, inner, PANGO_ALIGN_LEFT) + 3;
  y = MAX (y + 6, MARGIN + HEADER_SIZE - ROW_HEIGHT - 6);

  for (guint c = 0; c < G_N_ELEMENTS (columns); c++)
    wz_print_text (cr, headings[c], "Sans Bold 9", x + columns[c] * inner, y,
                   (c + 1 < G_N_ELEMENTS (columns) ? columns[c + 1] : 1.0) * inner
                   - columns[c] * inner - 4, PANGO_ALIGN_LEFT);
  y += ROW_HEIGHT - 4;
  wz_print_rule (cr, x, y, inner, 0.8);
  y += 4;

  for (guint i = first; i < data->rows->len && i < first + per_page; i++)
    {
      WzVaccinationPrintRow *row = g_ptr_array_index (data->rows, i);
      const char *cells[] = { row->vaccine, row->dose, row->status, row->date, row->lot,
                              row->site };

      /* Given doses in full black, the ones still to come in grey. */
      if (row->given)
        cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
      else
        cairo_set_source_rgb (cr, 0.42, 0.42, 0.42);
      for (guint c = 0; c < G_N_ELEMENTS (columns); c++)
        {
          double column_width = (c + 1 < G_N_ELEMENTS (columns) ? columns[c + 1] : 1.0) * inner
                                - columns[c] * inner - 4;
          g_autoptr(PangoLayout) layout = pango_cairo_create_layout (cr);
          g_autoptr(PangoFontDescription) font =
            pango_font_description_from_string ("Sans 8.5");

          /* One line per dose: long names end in an ellipsis instead of overlapping. */
          pango_layout_set_font_description (layout, font);
          pango_layout_set_width (layout, (int) (column_width * PANGO_SCALE));
          pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
          pango_layout_set_text (layout, cells[c], -1);
          cairo_move_to (cr, x + columns[c] * inner, y + 3);
          pango_cairo_show_layout (cr, layout);
        }
      y += ROW_HEIGHT;
      cairo_set_source_rgb (cr, 0.8, 0.8, 0.8);
      wz_print_rule (cr, x, y, inner, 0.4);
    }

  cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
  /* Translators: footer of the printed vaccination record; %s is the date, %d/%d the page */
  footer = g_strdup_printf (_("Printed %s · page %d of %d · Keep with the child’s vaccination certificate."),
                            data->printed ? data->printed : "", page + 1,
                            MAX (1, (int) ((data->rows->len + per_page - 1) / per_page)));
  wz_print_text (cr, footer, "Sans 7", x, height - MARGIN - 12, inner, PANGO_ALIGN_LEFT);
  cairo_restore (cr);
}

static void
draw_page (gconstpointer  data,
           cairo_t       *cr,
           int            page,
           double         width,
           double         height)
{
  wz_vaccination_print_draw (data, cr, page, width, height);
}

static WzPrintJob
record_job (const WzVaccinationPrintData *data)
{
  WzPrintJob job = { _("Vaccination record"), GTK_PAPER_NAME_A4, FALSE,
                     wz_vaccination_print_n_pages (data), draw_page, data,
                     (GBoxedCopyFunc) data_copy, (GDestroyNotify) wz_vaccination_print_data_free };

  return job;
}

gboolean
wz_vaccination_print_to_pdf (const WzVaccinationPrintData  *data,
                             const char                    *path,
                             GError                       **error)
{
  WzPrintJob job = record_job (data);

  return wz_print_to_pdf (&job, path, error);
}

void
wz_vaccination_print_run (const WzVaccinationPrintData *data,
                          GtkWindow                    *parent)
{
  WzPrintJob job = record_job (data);

  wz_print_run (&job, parent);
}

void
wz_vaccination_print_export (const WzVaccinationPrintData *data,
                             GtkWindow                    *parent)
{
  WzPrintJob job = record_job (data);

  wz_print_export (&job, parent, _("Export Vaccination Record"),
                   /* Translators: file name of the exported vaccination record, before the
                    * child's name */
                   _("vaccination-record"), data->child);
}
