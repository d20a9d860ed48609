/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* One line of the electronic vaccination record: a programme dose, given or still to come. */
typedef struct
{
  char     *vaccine;     /* name in the reader's language */
  char     *dose;        /* "2 / 3" */
  char     *status;      /* Given, Due, Overdue, Not yet due… */
  char     *date;        /* the day given, else the day it is due */
  char     *lot;
  char     *site;
  gboolean  given;
} WzVaccinationPrintRow;

typedef struct
{
  char      *clinic;
  char      *child;           /* name */
  char      *child_details;   /* sex, birth date, age */
  char      *guardian;
  char      *schedule;        /* the schedule's edition the record follows */
  char      *printed;         /* date printed */
  GPtrArray *rows;            /* WzVaccinationPrintRow */
} WzVaccinationPrintData;

WzVaccinationPrintData *wz_vaccination_print_data_new     (void);
void                    wz_vaccination_print_data_free    (WzVaccinationPrintData *data);
void                    wz_vaccination_print_data_add_row (WzVaccinationPrintData *data,
                                                           const char             *vaccine,
                                                           const char             *dose,
                                                           const char             *status,
                                                           const char             *date,
                                                           const char             *lot,
                                                           const char             *site,
                                                           gboolean                given);

/* How many A4 pages the record takes. */
int                     wz_vaccination_print_n_pages      (const WzVaccinationPrintData *data);
/* Draws page PAGE of the record on CR in a WIDTH × HEIGHT area (points, portrait A4). */
void                    wz_vaccination_print_draw         (const WzVaccinationPrintData *data,
                                                           cairo_t                *cr,
                                                           int                     page,
                                                           double                  width,
                                                           double                  height);
gboolean                wz_vaccination_print_to_pdf       (const WzVaccinationPrintData *data,
                                                           const char             *path,
                                                           GError                **error);
void                    wz_vaccination_print_run          (const WzVaccinationPrintData *data,
                                                           GtkWindow              *parent);
void                    wz_vaccination_print_export       (const WzVaccinationPrintData *data,
                                                           GtkWindow              *parent);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WzVaccinationPrintData, wz_vaccination_print_data_free)

G_END_DECLS
