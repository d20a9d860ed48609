/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* What a prescription sheet shows. Strings are UTF-8; any may be NULL. */
typedef struct
{
  char      *hospital;
  char      *patient;          /* name */
  char      *patient_details;  /* sex, age, identifier */
  char      *diagnosis;
  GPtrArray *line_titles;      /* char*: product */
  GPtrArray *line_details;     /* char*: dose, route, frequency, days, quantity, instructions */
  char      *doctor;
  char      *pharmacist;
  char      *status;           /* e.g. "Approved by the pharmacist" */
  char      *date;
  char      *prescription_id;  /* also in the QR code */
} WzRxPrintData;

WzRxPrintData *wz_rx_print_data_new      (void);
void           wz_rx_print_data_free     (WzRxPrintData       *data);
void           wz_rx_print_data_add_line (WzRxPrintData       *data,
                                          const char          *title,
                                          const char          *details);

/* Draws the sheet on CR in a WIDTH × HEIGHT area (points, portrait A5 or larger). */
void           wz_rx_print_draw          (const WzRxPrintData *data,
                                          cairo_t             *cr,
                                          double               width,
                                          double               height);
/* Writes the sheet as a one-page A5 PDF. */
gboolean       wz_rx_print_to_pdf        (const WzRxPrintData *data,
                                          const char          *path,
                                          GError             **error);
/* The print operation behind the print dialog, for running it without one (export to a file). */
GtkPrintOperation *wz_rx_print_operation_new (const WzRxPrintData *data);
/* The print dialog (which also offers printing to a PDF file). */
void           wz_rx_print_run           (const WzRxPrintData *data,
                                          GtkWindow           *parent);
/* Asks where to save, then writes the PDF. */
void           wz_rx_print_export        (const WzRxPrintData *data,
                                          GtkWindow           *parent);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WzRxPrintData, wz_rx_print_data_free)

G_END_DECLS
