/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-rx-print"

#include "config.h"

#include <fontconfig/fontconfig.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <pango/pangocairo.h>
#include <glib/gstdio.h>
#include <string.h>

#include "wz-rx-print.h"

static WzRxPrintData *
sample (void)
{
  WzRxPrintData *data = wz_rx_print_data_new ();

  data->hospital = g_strdup ("问诊互联网医院 Wenzhen Internet Hospital");
  data->patient = g_strdup ("张秀英");
  data->patient_details = g_strdup ("female · 1956-03-14");
  data->diagnosis = g_strdup ("J02.9 急性咽炎 Acute pharyngitis");
  wz_rx_print_data_add_line (data, "阿莫西林 amoxicillin 500 mg capsule",
                             "500 mg · oral · tid (three times a day) · 7 days · 21 capsules\nafter meals");
  wz_rx_print_data_add_line (data, "布洛芬 ibuprofen 200 mg tablet",
                             "200 mg · oral · prn (as needed) · 3 days");
  data->doctor = g_strdup ("李伟 Li Wei");
  data->pharmacist = g_strdup ("王芳 Wang Fang");
  data->status = g_strdup ("Approved by the pharmacist");
  data->date = g_strdup ("2026-11-25");
  data->prescription_id = g_strdup ("mr-0123456789abcdef");
  return data;
}

/* Share of dark pixels in a rectangle of the page, as fractions of its size. */
static double
ink (GdkPixbuf *pixbuf,
     double     x0,
     double     y0,
     double     x1,
     double     y1)
{
  int width = gdk_pixbuf_get_width (pixbuf), height = gdk_pixbuf_get_height (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf), channels = gdk_pixbuf_get_n_channels (pixbuf);
  const guchar *pixels = gdk_pixbuf_read_pixels (pixbuf);
  guint dark = 0, all = 0;

  for (int y = (int) (y0 * height); y < (int) (y1 * height); y++)
    for (int x = (int) (x0 * width); x < (int) (x1 * width); x++)
      {
        const guchar *p = pixels + y * stride + x * channels;

        all++;
        dark += (p[0] + p[1] + p[2]) / 3 < 128;
      }
  return all ? (double) dark / all : 0;
}

/* Rasterizes the PDF at DIR/rx.pdf at 72 dpi. */
static GdkPixbuf *
rasterize (const char *dir)
{
  g_autofree char *pdf = g_build_filename (dir, "rx.pdf", NULL);
  g_autofree char *prefix = g_build_filename (dir, "rx", NULL);
  g_autofree char *png = g_build_filename (dir, "rx.png", NULL);
  g_autofree char *pdf_data = NULL;
  g_autoptr(GError) error = NULL;
  const char *argv[] = { "pdftoppm", "-png", "-r", "72", "-singlefile", pdf, prefix, NULL };
  int status = 0;
  gsize length;
  GdkPixbuf *pixbuf;

  g_assert_true (g_file_get_contents (pdf, &pdf_data, &length, NULL));
  g_assert_true (g_str_has_prefix (pdf_data, "%PDF-"));

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                               NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  pixbuf = gdk_pixbuf_new_from_file (png, &error);
  g_assert_no_error (error);
  return pixbuf;
}

static GdkPixbuf *
render (WzRxPrintData *data,
        const char    *dir)
{
  g_autofree char *pdf = g_build_filename (dir, "rx.pdf", NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (wz_rx_print_to_pdf (data, pdf, &error));
  g_assert_no_error (error);
  return rasterize (dir);
}

/* Whether DATA (binary, with NUL bytes) holds TEXT. */
static gboolean
contains_bytes (const char *data,
                gsize       length,
                const char *text)
{
  gsize n = strlen (text);

  for (gsize i = 0; i + n <= length; i++)
    if (memcmp (data + i, text, n) == 0)
      return TRUE;
  return FALSE;
}

static void
on_print_done (GtkPrintOperation       *operation,
               GtkPrintOperationResult  result,
               int                     *out_result)
{
  *out_result = result;
}

/* The sheet as the print dialog prints it: the same GtkPrintOperation, run to a PDF file (what
 * the dialog's "Print to File" does) instead of showing the dialog. One A5 page with the QR code,
 * the text and the foot where the sheet drawn directly has them. */
static void
test_print_operation (void)
{
  g_autoptr(WzRxPrintData) data = sample ();
  g_autofree char *dir = g_dir_make_tmp ("wz-rx-print-XXXXXX", NULL);
  g_autofree char *pdf = g_build_filename (dir, "rx.pdf", NULL);
  g_autofree char *text = NULL;
  g_autoptr(GtkPrintOperation) operation = wz_rx_print_operation_new (data);
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(GError) error = NULL;
  GtkPrintOperationResult result;
  int done = -1;
  gsize length;

  /* The operation holds its own copy of what it prints. */
  g_clear_pointer (&data, wz_rx_print_data_free);
  g_signal_connect (operation, "done", G_CALLBACK (on_print_done), &done);
  gtk_print_operation_set_export_filename (operation, pdf);
  result = gtk_print_operation_run (operation, GTK_PRINT_OPERATION_ACTION_EXPORT, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (result, ==, GTK_PRINT_OPERATION_RESULT_APPLY);
  g_assert_cmpint (done, ==, GTK_PRINT_OPERATION_RESULT_APPLY);

  g_assert_true (g_file_get_contents (pdf, &text, &length, NULL));
  g_assert_true (g_str_has_prefix (text, "%PDF-"));
  if (!contains_bytes (text, length, "/Count 1"))
    g_error ("The PDF (%zu bytes) does not say it has one page", length);
  pixbuf = rasterize (dir);
  {
    g_autofree char *keep = g_build_filename (g_getenv ("WZ_BUILD") ? g_getenv ("WZ_BUILD") : ".",
                                              "tests", "ui", "rx-sheet-printed.png", NULL);

    gdk_pixbuf_save (pixbuf, keep, "png", NULL, NULL);
  }
  /* A5 portrait: 420 × 595 at 72 dpi. */
  g_assert_cmpint (ABS (gdk_pixbuf_get_width (pixbuf) - 420), <=, 1);
  g_assert_cmpint (ABS (gdk_pixbuf_get_height (pixbuf) - 595), <=, 1);
  /* The printer's margins move the sheet in a little and shrink it (rx-sheet-printed.png):
   * the QR code, the text, a white gap and the signatures, each a bit further in. */
  g_assert_cmpfloat (ink (pixbuf, 0.75, 0.08, 0.87, 0.17), >, 0.25);
  g_assert_cmpfloat (ink (pixbuf, 0.75, 0.08, 0.87, 0.17), <, 0.75);
  g_assert_cmpfloat (ink (pixbuf, 0.10, 0.20, 0.90, 0.55), >, 0.01);
  g_assert_cmpfloat (ink (pixbuf, 0.58, 0.58, 0.95, 0.70), <, 0.002);
  g_assert_cmpfloat (ink (pixbuf, 0.10, 0.74, 0.90, 0.90), >, 0.01);
  /* Nothing is drawn outside the printable area. */
  g_assert_cmpfloat (ink (pixbuf, 0.0, 0.0, 1.0, 0.03), <, 0.001);
  g_assert_cmpfloat (ink (pixbuf, 0.0, 0.97, 1.0, 1.0), <, 0.001);
}

static void
test_sheet (void)
{
  g_autoptr(WzRxPrintData) data = sample ();
  g_autofree char *dir = g_dir_make_tmp ("wz-rx-print-XXXXXX", NULL);
  g_autoptr(GdkPixbuf) pixbuf = render (data, dir);
  g_autofree char *keep = g_build_filename (g_getenv ("WZ_BUILD") ? g_getenv ("WZ_BUILD") : ".",
                                            "tests", "ui", "rx-sheet.png", NULL);
  double qr, body, foot, blank_middle;

  /* A5 portrait at 72 dpi: 420 × 595. */
  g_assert_cmpint (ABS (gdk_pixbuf_get_width (pixbuf) - 420), <=, 1);
  g_assert_cmpint (ABS (gdk_pixbuf_get_height (pixbuf) - 595), <=, 1);

  /* The QR code in the top right corner is about half dark modules. */
  qr = ink (pixbuf, 0.80, 0.04, 0.92, 0.15);
  g_assert_cmpfloat (qr, >, 0.25);
  g_assert_cmpfloat (qr, <, 0.75);
  /* Text: heading, patient and the lines in the upper half, signatures at the foot. */
  body = ink (pixbuf, 0.05, 0.15, 0.95, 0.45);
  foot = ink (pixbuf, 0.05, 0.85, 0.95, 0.97);
  g_assert_cmpfloat (body, >, 0.01);
  g_assert_cmpfloat (foot, >, 0.01);
  /* Between the two lines of a short prescription and the signatures the sheet stays white. */
  blank_middle = ink (pixbuf, 0.05, 0.55, 0.95, 0.75);
  g_assert_cmpfloat (blank_middle, <, 0.002);

  gdk_pixbuf_save (pixbuf, keep, "png", NULL, NULL);
  g_test_message ("sheet kept as %s (ink: qr %.2f, body %.3f, foot %.3f)", keep, qr, body, foot);
}

static void
test_no_id_no_qr (void)
{
  g_autoptr(WzRxPrintData) data = sample ();
  g_autofree char *dir = NULL;
  g_autoptr(GdkPixbuf) pixbuf = NULL;

  g_clear_pointer (&data->prescription_id, g_free);
  dir = g_dir_make_tmp ("wz-rx-print-XXXXXX", NULL);
  pixbuf = render (data, dir);
  /* Without an id there is nothing to encode: the corner stays white. */
  g_assert_cmpfloat (ink (pixbuf, 0.80, 0.04, 0.92, 0.15), <, 0.01);
}

static void
test_many_lines (void)
{
  g_autoptr(WzRxPrintData) data = sample ();
  g_autofree char *dir = g_dir_make_tmp ("wz-rx-print-XXXXXX", NULL);
  g_autoptr(GdkPixbuf) pixbuf = NULL;

  for (guint i = 0; i < 3; i++)
    wz_rx_print_data_add_line (data, "氨氯地平 amlodipine 5 mg tablet", "5 mg · oral · qd · 30 days · 30 tablets");
  pixbuf = render (data, dir);
  /* Five lines reach into the middle of the sheet. */
  g_assert_cmpfloat (ink (pixbuf, 0.05, 0.45, 0.95, 0.62), >, 0.005);
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rx-print/sheet", test_sheet);
  g_test_add_func ("/rx-print/no-id-no-qr", test_no_id_no_qr);
  g_test_add_func ("/rx-print/many-lines", test_many_lines);
  g_test_add_func ("/rx-print/print-operation", test_print_operation);
  status = g_test_run ();

  /* Pango, cairo and fontconfig keep font caches for the life of the process; handing them
   * back lets the leak checker of a sanitizer build see only this program's own memory. */
  pango_cairo_font_map_set_default (NULL);
  cairo_debug_reset_static_data ();
  FcFini ();
  return status;
}
