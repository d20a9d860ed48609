/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* What the printed sheets of the app (prescription, vaccination record) share: the print dialog,
 * writing a PDF, the file chooser for exporting one, the sheet's heading, and drawing wrapped
 * text and rules. */

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
  gconstpointer    data;       /* handed to DRAW */
  /* Printing and exporting finish after the caller has gone on, so they draw a COPY of DATA,
   * which DESTROY frees when they are over. */
  GBoxedCopyFunc   copy;
  GDestroyNotify   destroy;
} WzPrintJob;

/* Starts a page of a sheet: saves CR's state (cairo_restore() it when the page is drawn), white
 * paper, dark ink, and at (X, Y) the INSTITUTION's name in bold with the sheet's TITLE (in
 * TITLE_FONT) under it, both wrapped within WIDTH. Returns the height they took. */
double   wz_print_sheet_begin (cairo_t      *cr,
                           const char       *institution,
                           const char       *title,
                           const char       *title_font,
                           double            x,
                           double            y,
                           double            width);

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
 * drawing set up. Tests run it with GTK_PRINT_OPERATION_ACTION_EXPORT. */
GtkPrintOperation *wz_print_operation_new (const WzPrintJob *job);
/* The print dialog (which also offers printing to a file). */
void     wz_print_run     (const WzPrintJob *job,
                           GtkWindow        *parent);
/* Asks (in a dialog titled TITLE) where to save the PDF, offering the file name
 * "FILE_KIND-FILE_SUBJECT.pdf", then writes it. */
void     wz_print_export  (const WzPrintJob *job,
                           GtkWindow        *parent,
                           const char       *title,
                           const char       *file_kind,
                           const char       *file_subject);

G_END_DECLS
