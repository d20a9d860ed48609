/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <adwaita.h>
#include <time.h>

#include "wz-queue-item.h"
#include "wz-queue-row.h"

/* The worklist's row draws itself, so what a doctor and a screen reader get from it is checked
 * here: the sentence screen readers announce (name, gender and age, status, urgency,
 * allergies) and the waiting time beside it, a height that does not depend on the name (the
 * list view never measures a row while scrolling) but grows with the large-text setting, and in
 * the drawn pixels the urgency badge's triage colour and the red allergy mark only where the
 * visit has them. Needs a display (run-record-test.sh unit). */

#define WIDTH 362

typedef struct
{
  GtkWidget *window;
  GtkWidget *row;
} Fixture;

static WzQueueItem *
make_item (const char    *id,
           const char    *name,
           const char    *gender,
           const char    *birth_date,
           WzQueueStatus  status,
           guint          urgency,
           const char    *allergies)
{
  g_autoptr(JsonObject) patient = json_object_new ();
  g_autoptr(GDate) today = g_date_new ();
  WzQueueItem *item;

  JsonArray *names = json_array_new ();
  JsonObject *human_name = json_object_new ();

  g_date_set_time_t (today, time (NULL));
  json_object_set_string_member (human_name, "text", name);
  json_array_add_object_element (names, human_name);
  json_object_set_array_member (patient, "name", names);
  json_object_set_string_member (patient, "gender", gender);
  json_object_set_string_member (patient, "birthDate", birth_date);
  item = wz_queue_item_new_for_values (id, name, NULL, NULL, status, urgency,
                                       g_get_real_time () - 12 * 60 * G_USEC_PER_SEC);
  wz_queue_item_apply_patient (item, patient, today);
  wz_queue_item_set_allergies (item, allergies != NULL ? 1 : 0, allergies);

  return item;
}

static void
settle (GtkWidget *window)
{
  gint64 until = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  while (g_get_monotonic_time () < until
         && !(gtk_widget_get_mapped (window) && gtk_widget_get_width (window) > 0))
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  /* A few frames: styles are worked out in the frame clock's layout phase. */
  until = g_get_monotonic_time () + G_USEC_PER_SEC / 4;
  while (g_get_monotonic_time () < until)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  fixture->window = gtk_window_new ();
  fixture->row = wz_queue_row_new ();
  gtk_widget_set_size_request (fixture->row, WIDTH, -1);
  gtk_window_set_child (GTK_WINDOW (fixture->window), fixture->row);
  gtk_window_present (GTK_WINDOW (fixture->window));
  settle (fixture->window);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  gtk_window_destroy (GTK_WINDOW (fixture->window));
}

static int
row_height (GtkWidget *row)
{
  int minimum, natural;

  gtk_widget_measure (row, GTK_ORIENTATION_VERTICAL, WIDTH, &minimum, &natural, NULL, NULL);
  g_assert_cmpint (minimum, ==, natural);

  return natural;
}

static void
test_accessible (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(WzQueueItem) urgent = make_item ("e1", "Anna Smith", "female", "1990-04-12",
                                             WZ_QUEUE_STATUS_WAITING, 2, "Penicillin");
  g_autoptr(WzQueueItem) finished = make_item ("e2", "王伟", "male", "1950-01-02",
                                               WZ_QUEUE_STATUS_FINISHED, 0, NULL);
  g_autofree char *first = g_strdup_printf ("Anna Smith, %s, Waiting, Urgency 2: Urgent, Allergies: Penicillin",
                                            wz_queue_item_get_details (urgent));
  g_autofree char *second = g_strdup_printf ("王伟, %s, Finished", wz_queue_item_get_details (finished));
  g_autoptr(GDateTime) arrived = g_date_time_new_from_unix_local (wz_queue_item_get_arrived (finished)
                                                                  / G_USEC_PER_SEC);
  g_autofree char *arrival = g_date_time_format (arrived, "%H:%M");

  g_assert_cmpstr (wz_queue_item_get_details (urgent), !=, "");

  wz_queue_row_set_item (WZ_QUEUE_ROW (fixture->row), urgent);
  gtk_test_accessible_assert_property (fixture->row, GTK_ACCESSIBLE_PROPERTY_LABEL, first);
  gtk_test_accessible_assert_property (fixture->row, GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, "12 min");

  /* A recycled row tells the new patient's story, with no trace of the last one. */
  wz_queue_row_set_item (WZ_QUEUE_ROW (fixture->row), finished);
  gtk_test_accessible_assert_property (fixture->row, GTK_ACCESSIBLE_PROPERTY_LABEL, second);
  gtk_test_accessible_assert_property (fixture->row, GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, arrival);

  /* A change of the item reaches the row without a rebind. */
  wz_queue_item_set_allergies (finished, 1, "Eggs");
  {
    g_autofree char *allergic = g_strdup_printf ("%s, Allergies: Eggs", second);

    gtk_test_accessible_assert_property (fixture->row, GTK_ACCESSIBLE_PROPERTY_LABEL, allergic);
  }
}

static void
test_height (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(WzQueueItem) latin = make_item ("e1", "Anna Smith", "female", "1990-04-12",
                                            WZ_QUEUE_STATUS_WAITING, 1, "Penicillin");
  g_autoptr(WzQueueItem) chinese = make_item ("e2", "欧阳娜娜", "female", "2021-06-01",
                                              WZ_QUEUE_STATUS_AWAITING_PHARMACIST, 0, NULL);
  int height;

  wz_queue_row_set_item (WZ_QUEUE_ROW (fixture->row), latin);
  height = row_height (fixture->row);
  /* Room for the 38 px avatar and 6 px above and below it. */
  g_assert_cmpint (height, >=, 50);
  wz_queue_row_set_item (WZ_QUEUE_ROW (fixture->row), chinese);
  g_assert_cmpint (row_height (fixture->row), ==, height);

  /* The large-text setting (a class on the window) makes the text, and so the row, larger. */
  gtk_widget_add_css_class (fixture->window, "large-text");
  settle (fixture->window);
  g_assert_cmpint (row_height (fixture->row), >, height);
  gtk_widget_remove_css_class (fixture->window, "large-text");
  settle (fixture->window);
  g_assert_cmpint (row_height (fixture->row), ==, height);
}

/* How many pixels of the drawn row are close to a colour, within a box. */
static guint
count_pixels (const guchar *pixels,
              gsize         stride,
              int           x0,
              int           y0,
              int           x1,
              int           y1,
              guint         red,
              guint         green,
              guint         blue)
{
  guint count = 0;

  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++)
      {
        const guchar *p = pixels + y * stride + x * 4;   /* B G R A */

        if (p[3] == 255 && ABS ((int) p[2] - (int) red) < 24 && ABS ((int) p[1] - (int) green) < 24
            && ABS ((int) p[0] - (int) blue) < 24)
          count++;
      }

  return count;
}

static guchar *
render_row (Fixture *fixture,
            int     *height,
            gsize   *stride)
{
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  guchar *pixels;

  settle (fixture->window);
  *height = gtk_widget_get_height (fixture->row);
  g_assert_cmpint (gtk_widget_get_width (fixture->row), ==, WIDTH);
  /* On the list's background, as the list view shows it. */
  gtk_snapshot_append_color (snapshot, &(GdkRGBA) { 1, 1, 1, 1 }, &GRAPHENE_RECT_INIT (0, 0, WIDTH, *height));
  GTK_WIDGET_GET_CLASS (fixture->row)->snapshot (fixture->row, snapshot);
  node = gtk_snapshot_free_to_node (snapshot);
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (fixture->window)), node,
                                         &GRAPHENE_RECT_INIT (0, 0, WIDTH, *height));
  *stride = (gsize) WIDTH * 4;
  pixels = g_malloc0 (*stride * *height);
  gdk_texture_download (texture, pixels, *stride);

  return pixels;
}

static void
test_pixels (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(WzQueueItem) urgent = make_item ("e1", "Anna Smith", "female", "1990-04-12",
                                             WZ_QUEUE_STATUS_WAITING, 2, "Penicillin");
  g_autoptr(WzQueueItem) plain = make_item ("e2", "王伟", "male", "1950-01-02",
                                            WZ_QUEUE_STATUS_FINISHED, 0, NULL);
  g_autofree guchar *first = NULL;
  g_autofree guchar *second = NULL;
  gsize stride;
  int height;

  wz_queue_row_set_item (WZ_QUEUE_ROW (fixture->row), urgent);
  first = render_row (fixture, &height, &stride);
  /* The orange badge of urgency 2 at the avatar's lower right; the red allergy mark (on its
   * pale red pill) right of the name, in the middle column. */
  g_assert_cmpuint (count_pixels (first, stride, 20, height / 2, 48, height, 0xff, 0x78, 0x00), >, 20);
  g_assert_cmpuint (count_pixels (first, stride, 48, 0, WIDTH - 80, height / 2 + 4, 0xc0, 0x1c, 0x28), >, 10);

  wz_queue_row_set_item (WZ_QUEUE_ROW (fixture->row), plain);
  second = render_row (fixture, &height, &stride);
  g_assert_cmpuint (count_pixels (second, stride, 20, height / 2, 48, height, 0xff, 0x78, 0x00), ==, 0);
  g_assert_cmpuint (count_pixels (second, stride, 48, 0, WIDTH - 80, height, 0xc0, 0x1c, 0x28), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GtkCssProvider) css = NULL;

  /* The test context keeps the accessible properties where gtk_test_accessible_* reads them. */
  g_setenv ("GTK_A11Y", "test", TRUE);
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  css = gtk_css_provider_new ();
  gtk_css_provider_load_from_resource (css, "/io/github/wenzhen/Wenzhen/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);

  g_test_add ("/queue-row/accessible", Fixture, NULL, fixture_set_up, test_accessible, fixture_tear_down);
  g_test_add ("/queue-row/height", Fixture, NULL, fixture_set_up, test_height, fixture_tear_down);
  g_test_add ("/queue-row/pixels", Fixture, NULL, fixture_set_up, test_pixels, fixture_tear_down);

  return g_test_run ();
}
