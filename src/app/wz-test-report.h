/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Test seam: when WZ_TEST_REPORT_FILE is set, the app appends one line per observable state change
 * (a page became visible, an error was shown) so UI tests can follow what the user sees without
 * scraping pixels. Without the variable these calls do nothing. */
gboolean wz_test_report_enabled (void);
void     wz_test_report         (const char *format,
                                 ...) G_GNUC_PRINTF (1, 2);

G_END_DECLS
