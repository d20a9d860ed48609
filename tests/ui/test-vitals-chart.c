/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <math.h>
#include <gtk/gtk.h>

#include "wz-vitals-chart.h"

/* The trend chart draws what it is given: rendered to a texture and read back pixel by pixel,
 * the target band, both pressure lines (systolic above diastolic) and the axis labels must be
 * there, and an empty chart must draw no line at all. Needs a display (run-record-test.sh unit). */

#define WIDTH  420
#define HEIGHT 180

typedef struct
{
  guchar *pixels;   /* B G R A, premultiplied (cairo's ARGB32 on little-endian) */
  gsize   stride;
} Image;

static void
wait_for_draw (GtkWidget *window)
{
  gint64 until = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  while (g_get_monotonic_time () < until)
    {
      g_main_context_iteration (NULL, FALSE);
      if (gtk_widget_get_mapped (window) && gtk_widget_get_width (window) > 0)
        break;
      g_usleep (1000);
    }
  for (int i = 0; i < 50; i++)
    g_main_context_iteration (NULL, FALSE);
}

static Image
render (GtkWidget *window,
        GtkWidget *chart)
{
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  int width = gtk_widget_get_width (chart);
  int height = gtk_widget_get_height (chart);
  Image image;

  g_assert_cmpint (width, ==, WIDTH);
  g_assert_cmpint (height, ==, HEIGHT);

  /* What the widget draws for its allocation, as GTK asks it to on each frame. */
  GTK_WIDGET_GET_CLASS (chart)->snapshot (chart, snapshot);
  node = gtk_snapshot_free_to_node (snapshot);
  g_assert_nonnull (node);
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (window)), node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));
  image.stride = (gsize) width * 4;
  image.pixels = g_malloc0 (image.stride * height);
  gdk_texture_download (texture, image.pixels, image.stride);

  return image;
}

static gboolean
near (const guchar *p,
      int           r,
      int           g,
      int           b)
{
  return abs (p[2] - r) < 40 && abs (p[1] - g) < 40 && abs (p[0] - b) < 40 && p[3] > 200;
}

typedef struct
{
  guint  count;
  double y_sum;
} Found;

static Found
find (Image *image,
      int    x0,
      int    x1,
      int    r,
      int    g,
      int    b)
{
  Found found = { 0, 0 };

  for (int y = 0; y < HEIGHT; y++)
    for (int x = x0; x < x1; x++)
      {
        const guchar *p = image->pixels + y * image->stride + x * 4;

        if (near (p, r, g, b))
          {
            found.count++;
            found.y_sum += y;
          }
      }

  return found;
}

static Found
translucent_green (Image *image,
                   int    x0,
                   int    x1)
{
  Found found = { 0, 0 };

  for (int y = 0; y < HEIGHT; y++)
    for (int x = x0; x < x1; x++)
      {
        const guchar *p = image->pixels + y * image->stride + x * 4;

        if (p[3] > 30 && p[3] < 90 && p[1] > p[2] + 10 && p[1] > p[0])
          {
            found.count++;
            found.y_sum += y;
          }
      }

  return found;
}

/* Text: pixels much darker than the light background. */
static guint
dark_pixels (Image *image,
             int    x0,
             int    x1,
             int    y0,
             int    y1)
{
  guint count = 0;

  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++)
      {
        const guchar *p = image->pixels + y * image->stride + x * 4;

        if (p[3] > 100 && p[0] < 120 && p[1] < 120 && p[2] < 120)
          count++;
      }

  return count;
}

static GtkWidget *
chart_window (GtkWidget **out_chart)
{
  GtkWidget *window = gtk_window_new ();
  GtkWidget *chart = wz_vitals_chart_new ();

  gtk_widget_set_size_request (chart, WIDTH, HEIGHT);
  gtk_widget_set_halign (chart, GTK_ALIGN_START);
  gtk_widget_set_valign (chart, GTK_ALIGN_START);
  gtk_window_set_child (GTK_WINDOW (window), chart);
  gtk_window_set_default_size (GTK_WINDOW (window), WIDTH, HEIGHT);
  gtk_window_present (GTK_WINDOW (window));
  *out_chart = chart;

  return window;
}

static void
test_blood_pressure (void)
{
  GtkWidget *chart;
  GtkWidget *window = chart_window (&chart);
  g_autoptr(GArray) points = g_array_new (FALSE, FALSE, sizeof (WzVitalsPoint));
  gint64 start = g_get_real_time () - 300 * G_TIME_SPAN_DAY;
  Image image;
  Found blue, purple, band;
  guint labels;

  for (int i = 0; i < 10; i++)
    {
      WzVitalsPoint p = { start + i * 30 * G_TIME_SPAN_DAY, 156 - i * 2, 94 - i };

      g_array_append_val (points, p);
    }
  wz_vitals_chart_set_points (WZ_VITALS_CHART (chart), points);
  wz_vitals_chart_set_unit (WZ_VITALS_CHART (chart), "mmHg");
  wz_vitals_chart_set_target (WZ_VITALS_CHART (chart), 90, 140);
  wz_vitals_chart_set_target2 (WZ_VITALS_CHART (chart), 60, 90);
  g_assert_cmpuint (wz_vitals_chart_get_n_points (WZ_VITALS_CHART (chart)), ==, 10);
  wait_for_draw (window);

  image = render (window, chart);

  /* Systolic in blue, diastolic in purple, the systolic line above (smaller y). */
  blue = find (&image, 44, WIDTH, 0x35, 0x84, 0xe4);
  purple = find (&image, 44, WIDTH, 0x91, 0x41, 0xac);
  g_assert_cmpuint (blue.count, >, 150);
  g_assert_cmpuint (purple.count, >, 150);
  g_assert_cmpfloat (blue.y_sum / blue.count, <, purple.y_sum / purple.count);

  /* The green target band: translucent (the chart draws no background of its own). */
  band = translucent_green (&image, 50, WIDTH - 20);
  g_assert_cmpuint (band.count, >, 2000);

  /* Value labels on the left, dates along the bottom. */
  labels = dark_pixels (&image, 0, 40, 20, HEIGHT - 24);
  g_assert_cmpuint (labels, >, 40);
  g_assert_cmpuint (dark_pixels (&image, 40, WIDTH, HEIGHT - 22, HEIGHT), >, 40);

  g_free (image.pixels);

  /* No measurements: no line, but a message in the middle. */
  wz_vitals_chart_set_points (WZ_VITALS_CHART (chart), NULL);
  wait_for_draw (window);
  image = render (window, chart);
  g_assert_cmpuint (find (&image, 0, WIDTH, 0x35, 0x84, 0xe4).count, ==, 0);
  g_assert_cmpuint (dark_pixels (&image, WIDTH / 4, 3 * WIDTH / 4, HEIGHT / 3, 2 * HEIGHT / 3), >, 30);
  g_free (image.pixels);

  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);

  g_test_add_func ("/vitals-chart/blood-pressure", test_blood_pressure);

  return g_test_run ();
}
