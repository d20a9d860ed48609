/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* What the printed sheets of the app (prescription, vaccination record) share: the print dialog,
 * writing a PDF, the file chooser for exporting one, and drawing wrapped text and rules. */

/* Draws page PAGE (0-based) of a sheet on CR in a WIDTH × HEIGHT area (points). */
typedef void (*WzPrintDrawFunc) (gconstpointer  data,
                                 cairo_t       *cr,
                                 int            page,
                                 double         width,
                                 double         height);

typedef struct
{
  const char      *job_name;   /* the name in the printer's queue */
  const char      *paper;      /* GTK_PAPER_NAME_A5, GTK_PAPER_NAME_A4 */
  gboolean         landscape;
  int              n_pages;
  WzPrintDrawFunc  draw;
  gpointer         data;       /* handed to DRAW; owned by the job from run/export on */
  GDestroyNotify   destroy;    /* frees DATA once printing or exporting is over */
} WzPrintJob;

/* Draws TEXT wrapped within WIDTH at (X, Y) in the Pango FONT; returns the height it took. */
double   wz_print_text    (cairo_t          *cr,
                           const char       *text,
                           const char       *font,
                           double            x,
                           double            y,
                           double            width,
                           PangoAlignment    alignment);
/* The height TEXT would take, without drawing it. */
double   wz_print_text_height (cairo_t      *cr,
                           const char       *text,
                           const char       *font,
                           double            width);
void     wz_print_rule    (cairo_t          *cr,
                           double            x,
                           double            y,
                           double            width,
                           double            line_width);

/* Writes every page of JOB to a PDF at PATH, in the job's paper size. */
gboolean wz_print_to_pdf  (const WzPrintJob *job,
                           const char       *path,
                           GError          **error);
/* The print operation wz_print_run() shows the dialog of: paper, orientation, pages and JOB's
 * drawing set up. Takes JOB's data. Tests run it with GTK_PRINT_OPERATION_ACTION_EXPORT. */
GtkPrintOperation *wz_print_operation_new (const WzPrintJob *job);
/* The print dialog (which also offers printing to a file). Takes JOB's data. */
void     wz_print_run     (const WzPrintJob *job,
                           GtkWindow        *parent);
/* Asks where to save FILE_NAME, then writes the PDF. Takes JOB's data. */
void     wz_print_export  (const WzPrintJob *job,
                           GtkWindow        *parent,
                           const char       *title,
                           const char       *file_name);

G_END_DECLS
