/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Test seam: when WZ_TEST_REPORT_FILE is set, the app appends one line per observable state change
 * (a page became visible, an error was shown) so UI tests can follow what the user sees without
 * scraping pixels. Without the variable these calls do nothing. */
gboolean wz_test_report_enabled (void);
void     wz_test_report         (const char *format,
                                 ...) G_GNUC_PRINTF (1, 2);

/* Whether @widget's own animations (page transitions, revealers) have finished. */
typedef gboolean (*WzSettledFunc) (GtkWidget *widget);

/* Reports the line once the screen shows it: after a frame has been painted, and no page
 * transition of @widget (checked by @settled) or of a stack around it is still running. A test
 * that takes a screenshot on seeing the line gets the finished state, not a cross-fade. */
void     wz_test_report_when_settled (GtkWidget     *widget,
                                      WzSettledFunc  settled,
                                      const char    *format,
                                      ...) G_GNUC_PRINTF (3, 4);

G_END_DECLS
