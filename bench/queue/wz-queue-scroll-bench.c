/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <adwaita.h>
#include <json-glib/json-glib.h>
#include <stdlib.h>
#include <time.h>
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#endif

#include "wz-queue-item.h"
#include "wz-queue-model.h"
#include "wz-queue-row.h"

/* Scrolling through a 100,000-row worklist as the app shows it: WzQueueRows (avatar, urgency
 * badge, name, allergy mark, gender · age · reason, waiting time, status) in a GtkListView over a
 * WzQueueModel, the app's style sheet loaded. Or, with "labels", the baseline: a bare GtkListView
 * of 100,000 GtkLabels over a GtkStringList. The list is moved by most of a page on every frame
 * clock tick for SECONDS seconds; each frame's interval (from one tick to the next, what the eye
 * sees) and its work (from the tick that moved the list to the end of that frame's paint: layout,
 * rebinding rows, snapshot, drawing) are recorded, the work both in wall clock and in the main
 * thread's CPU time.
 *
 * Usage: wz-queue-scroll-bench queue|labels [ROWS] [SECONDS] [STEP]
 * STEP is how far each frame moves, as a share of the page (0.8: most of a page).
 * Prints one line:
 *   <kind> frames N interval_p50 A p95 B max C over16.7 S% dropped T% work_p50 D p95 E max F
 *     over16.7 G% cpu_p50 … (the main thread's CPU time for the same span as work) */

static const char *const surnames[] = {
  "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
  "何", "林", "高", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
  "欧阳", "司马", "单", "吕",
};
static const char *const given_chars[] = {
  "伟", "芳", "娜", "秀", "英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟",
  "涛", "明", "超", "兰", "霞", "平", "刚", "桂", "华", "建", "国", "志", "红", "浩", "然", "梓",
  "涵", "宇", "轩", "欣", "怡", "子", "文", "博",
};
static const char *const latin_given[] = { "Anna", "John", "Maria", "Peter", "Olga", "Yuki", "Lars" };
static const char *const latin_family[] = { "Müller", "Smith", "Ivanova", "Tanaka", "Silva", "Berg" };

typedef struct
{
  GtkAdjustment *adjustment;
  GArray        *intervals;    /* double ms */
  GArray        *works;        /* double ms */
  GArray        *cpus;         /* double ms */
  gint64         previous_tick;
  gint64         tick_started;
  gint64         tick_cpu;
  gint64         started;
  gint64         duration_us;
  gint64         settle_until;
  double         step;         /* of a page, per frame */
  gboolean       done;
} Run;

static char *
make_name (GRand *rand)
{
  GString *name = g_string_new (NULL);

  if (g_rand_int_range (rand, 0, 10) == 0)
    g_string_printf (name, "%s %s", latin_given[g_rand_int_range (rand, 0, G_N_ELEMENTS (latin_given))],
                     latin_family[g_rand_int_range (rand, 0, G_N_ELEMENTS (latin_family))]);
  else
    {
      guint given = (guint) g_rand_int_range (rand, 1, 3);

      g_string_append (name, surnames[g_rand_int_range (rand, 0, G_N_ELEMENTS (surnames))]);
      for (guint k = 0; k < given; k++)
        g_string_append (name, given_chars[g_rand_int_range (rand, 0, G_N_ELEMENTS (given_chars))]);
    }

  return g_string_free (name, FALSE);
}

/* A visit as the worklist shows it once its patient is read: name, gender and age from a FHIR
 * Patient, an ID number and a phone, a status, an urgency, an arrival time and, for one in
 * five, allergies. */
static GPtrArray *
make_items (guint  n,
            GRand *rand,
            GDate *today)
{
  GPtrArray *items = g_ptr_array_new_with_free_func (g_object_unref);
  gint64 now = g_get_real_time ();

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *id = g_strdup_printf ("enc-%u", i);
      g_autofree char *name = make_name (rand);
      g_autofree char *id_number = g_strdup_printf ("%06u19%02u%02u%02u%03u%c",
                                                    110101 + g_rand_int_range (rand, 0, 90000),
                                                    g_rand_int_range (rand, 40, 100),
                                                    g_rand_int_range (rand, 1, 13),
                                                    g_rand_int_range (rand, 1, 29),
                                                    g_rand_int_range (rand, 0, 1000),
                                                    "0123456789X"[g_rand_int_range (rand, 0, 11)]);
      g_autofree char *phone = g_strdup_printf ("+86 1%02d %04d %04d", g_rand_int_range (rand, 30, 99),
                                                g_rand_int_range (rand, 0, 10000),
                                                g_rand_int_range (rand, 0, 10000));
      g_autofree char *birth = g_strdup_printf ("%04d-%02d-%02d", g_rand_int_range (rand, 1930, 2025),
                                                g_rand_int_range (rand, 1, 13), g_rand_int_range (rand, 1, 29));
      g_autoptr(JsonObject) patient = json_object_new ();
      JsonArray *names = json_array_new ();
      JsonObject *human_name = json_object_new ();
      JsonArray *identifiers = json_array_new ();
      JsonObject *identifier = json_object_new ();
      JsonArray *telecoms = json_array_new ();
      JsonObject *telecom = json_object_new ();
      WzQueueItem *item;

      json_object_set_string_member (human_name, "text", name);
      json_array_add_object_element (names, human_name);
      json_object_set_array_member (patient, "name", names);
      json_object_set_string_member (patient, "gender", g_rand_boolean (rand) ? "female" : "male");
      json_object_set_string_member (patient, "birthDate", birth);
      json_object_set_string_member (identifier, "value", id_number);
      json_array_add_object_element (identifiers, identifier);
      json_object_set_array_member (patient, "identifier", identifiers);
      json_object_set_string_member (telecom, "system", "phone");
      json_object_set_string_member (telecom, "value", phone);
      json_array_add_object_element (telecoms, telecom);
      json_object_set_array_member (patient, "telecom", telecoms);

      item = wz_queue_item_new_for_values (id, name, NULL, NULL,
                                           (WzQueueStatus) g_rand_int_range (rand, 0, WZ_QUEUE_N_STATUSES),
                                           (guint) g_rand_int_range (rand, 0, 5),
                                           now - (gint64) (n - i) * 300000);
      wz_queue_item_apply_patient (item, patient, today);
      if (g_rand_int_range (rand, 0, 5) == 0)
        wz_queue_item_set_allergies (item, 1, "Penicillin");
      else
        wz_queue_item_set_allergies (item, 0, NULL);
      g_ptr_array_add (items, item);
    }

  return items;
}

static void
setup_queue_row (GtkSignalListItemFactory *factory,
                 GtkListItem              *list_item,
                 gpointer                  user_data)
{
  gtk_list_item_set_child (list_item, wz_queue_row_new ());
}

static void
bind_queue_row (GtkSignalListItemFactory *factory,
                GtkListItem              *list_item,
                gpointer                  user_data)
{
  wz_queue_row_set_item (WZ_QUEUE_ROW (gtk_list_item_get_child (list_item)),
                         gtk_list_item_get_item (list_item));
}

static void
unbind_queue_row (GtkSignalListItemFactory *factory,
                  GtkListItem              *list_item,
                  gpointer                  user_data)
{
  wz_queue_row_set_item (WZ_QUEUE_ROW (gtk_list_item_get_child (list_item)), NULL);
}

static void
setup_label (GtkSignalListItemFactory *factory,
             GtkListItem              *list_item,
             gpointer                  user_data)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_list_item_set_child (list_item, label);
}

static void
bind_label (GtkSignalListItemFactory *factory,
            GtkListItem              *list_item,
            gpointer                  user_data)
{
  gtk_label_set_text (GTK_LABEL (gtk_list_item_get_child (list_item)),
                      gtk_string_object_get_string (gtk_list_item_get_item (list_item)));
}

/* WZ_BENCH_SCREENSHOT=FILE.png: the first screen of rows as drawn, to look at (with
 * WZ_BENCH_LARGE_TEXT=1 for the large-text setting; ADW_DEBUG_COLOR_SCHEME=prefer-dark and
 * ADW_DEBUG_HIGH_CONTRAST=1 for the other styles). */
static void
save_screenshot (GtkWidget  *window,
                 const char *path)
{
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (window);
  g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;

  gdk_paintable_snapshot (paintable, snapshot, gtk_widget_get_width (window), gtk_widget_get_height (window));
  node = gtk_snapshot_to_node (snapshot);
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (window)), node, NULL);
  if (!gdk_texture_save_to_png (texture, path))
    g_printerr ("could not save %s\n", path);
}

/* The main thread's own CPU time: on a shared machine the wall clock also counts the time the
 * thread waited for a core. */
static gint64
thread_cpu_us (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);

  return (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static gboolean
on_tick (GtkWidget     *widget,
         GdkFrameClock *clock,
         gpointer       user_data)
{
  Run *run = user_data;
  gint64 now = g_get_monotonic_time ();
  double value, page, upper;

  if (run->done)
    return G_SOURCE_REMOVE;

  /* The first frames lay out and bind the first screen of rows; scrolling starts after. */
  if (run->settle_until == 0)
    run->settle_until = now + G_USEC_PER_SEC;
  if (now < run->settle_until)
    return G_SOURCE_CONTINUE;
  if (g_getenv ("WZ_BENCH_SCREENSHOT") != NULL)
    {
      save_screenshot (GTK_WIDGET (gtk_widget_get_root (widget)), g_getenv ("WZ_BENCH_SCREENSHOT"));
      run->done = TRUE;
      return G_SOURCE_REMOVE;
    }

  if (run->started == 0)
    {
      run->started = now;
      /* Under callgrind only the scrolling frames count: building the rows and the first
       * layout are left out (the macros do nothing outside valgrind). */
#ifdef CALLGRIND_ZERO_STATS
      CALLGRIND_ZERO_STATS;
#endif
    }
  else
    {
      double interval = (now - run->previous_tick) / 1000.0;

      g_array_append_val (run->intervals, interval);
    }
  run->previous_tick = now;
  run->tick_started = now;
  run->tick_cpu = thread_cpu_us ();

  if (now - run->started >= run->duration_us)
    {
      run->done = TRUE;
#ifdef CALLGRIND_DUMP_STATS_AT
      CALLGRIND_DUMP_STATS_AT ("scrolling");
#endif
      return G_SOURCE_REMOVE;
    }

  /* By default most of a page per frame: every row on screen is new each frame, the hardest
   * case for recycling short of jumping. Back to the top at the end. */
  value = gtk_adjustment_get_value (run->adjustment);
  page = gtk_adjustment_get_page_size (run->adjustment);
  upper = gtk_adjustment_get_upper (run->adjustment);
  value += page * run->step;
  if (value > upper - page)
    value = 0;
  gtk_adjustment_set_value (run->adjustment, value);

  return G_SOURCE_CONTINUE;
}

static void
on_after_paint (GdkFrameClock *clock,
                Run           *run)
{
  double work, cpu;

  if (run->tick_started == 0)
    return;
  work = (g_get_monotonic_time () - run->tick_started) / 1000.0;
  cpu = (thread_cpu_us () - run->tick_cpu) / 1000.0;
  g_array_append_val (run->works, work);
  g_array_append_val (run->cpus, cpu);
  /* WZ_BENCH_TRACE: every frame's CPU time on stderr, to see whether it changes as the list moves. */
  if (g_getenv ("WZ_BENCH_TRACE") != NULL)
    g_printerr ("frame %u at %.2f s: cpu %.1f ms\n", run->cpus->len,
                (run->tick_started - run->started) / (double) G_USEC_PER_SEC, cpu);
  run->tick_started = 0;
}

static int
compare_double (const void *a,
                const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y ? 1 : 0;
}

static void
print_stats (const char *label,
             GArray     *values,
             gboolean    dropped_too)
{
  double *v = (double *) values->data;
  guint n = values->len, over = 0, dropped = 0;

  if (n == 0)
    {
      g_print (" %s none", label);
      return;
    }
  qsort (v, n, sizeof (double), compare_double);
  for (guint i = 0; i < n; i++)
    {
      over += v[i] > 1000.0 / 60.0;
      dropped += v[i] > 1.5 * 1000.0 / 60.0;
    }
  g_print (" %s_p50 %.1f p95 %.1f max %.1f over16.7 %.1f%%", label, v[n / 2],
           v[MIN (n - 1, (guint) (n * 0.95))], v[n - 1], 100.0 * over / n);
  /* An interval is never below the 16.7 ms refresh period, and jitters around it; one past
   * 25 ms means a refresh went by without a new frame. */
  if (dropped_too)
    g_print (" dropped %.1f%%", 100.0 * dropped / n);
}

int
main (int   argc,
      char *argv[])
{
  const char *kind = argc > 1 ? argv[1] : "queue";
  guint n = argc > 2 ? (guint) g_ascii_strtoull (argv[2], NULL, 10) : 100000;
  double seconds = argc > 3 ? g_ascii_strtod (argv[3], NULL) : 10.0;
  double step = argc > 4 ? g_ascii_strtod (argv[4], NULL) : 0.8;
  g_autoptr(GRand) rand = g_rand_new_with_seed (20240501);
  g_autoptr(GDate) today = g_date_new ();
  g_autoptr(GtkListItemFactory) factory = gtk_signal_list_item_factory_new ();
  g_autoptr(GtkCssProvider) css = NULL;
  GListModel *model;
  GtkWidget *window, *scrolled, *list;
  gint64 start;
  Run run = { 0 };

  if (n == 0)
    n = 100000;
  gtk_init ();
  adw_init ();
  g_date_set_time_t (today, time (NULL));

  start = g_get_monotonic_time ();
  if (g_strcmp0 (kind, "labels") == 0)
    {
      GtkStringList *strings = gtk_string_list_new (NULL);

      for (guint i = 0; i < n; i++)
        {
          g_autofree char *name = make_name (rand);

          gtk_string_list_append (strings, name);
        }
      model = G_LIST_MODEL (strings);
      g_signal_connect (factory, "setup", G_CALLBACK (setup_label), NULL);
      g_signal_connect (factory, "bind", G_CALLBACK (bind_label), NULL);
    }
  else
    {
      g_autoptr(GPtrArray) items = make_items (n, rand, today);
      WzQueueModel *queue = wz_queue_model_new (NULL);

      wz_queue_model_add_items (queue, items);
      model = G_LIST_MODEL (queue);
      g_signal_connect (factory, "setup", G_CALLBACK (setup_queue_row), NULL);
      g_signal_connect (factory, "bind", G_CALLBACK (bind_queue_row), NULL);
      g_signal_connect (factory, "unbind", G_CALLBACK (unbind_queue_row), NULL);

      /* The app's own look: badges, allergy colours, row spacing. */
      css = gtk_css_provider_new ();
      gtk_css_provider_load_from_resource (css, "/io/github/wenzhen/Wenzhen/style.css");
      gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                                  GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
    }
  g_printerr ("%s: %u rows built in %.0f ms\n", kind, g_list_model_get_n_items (model),
              (g_get_monotonic_time () - start) / 1000.0);

  list = gtk_list_view_new (GTK_SELECTION_MODEL (gtk_single_selection_new (model)),
                            g_object_ref (factory));
  scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), list);
  window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (window), 380, 760);
  gtk_window_set_child (GTK_WINDOW (window), scrolled);
  if (g_strcmp0 (g_getenv ("WZ_BENCH_LARGE_TEXT"), "1") == 0)
    gtk_widget_add_css_class (window, "large-text");

  run.adjustment = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scrolled));
  run.intervals = g_array_new (FALSE, FALSE, sizeof (double));
  run.works = g_array_new (FALSE, FALSE, sizeof (double));
  run.cpus = g_array_new (FALSE, FALSE, sizeof (double));
  run.duration_us = (gint64) (seconds * G_USEC_PER_SEC);
  run.step = step > 0 ? step : 0.8;

  gtk_window_present (GTK_WINDOW (window));
  g_signal_connect (gtk_widget_get_frame_clock (window), "after-paint", G_CALLBACK (on_after_paint), &run);
  gtk_widget_add_tick_callback (list, on_tick, &run, NULL);

  while (!run.done)
    g_main_context_iteration (NULL, TRUE);

  g_print ("%s step %.2f frames %u", kind, run.step, run.intervals->len);
  print_stats ("interval", run.intervals, TRUE);
  print_stats ("work", run.works, FALSE);
  print_stats ("cpu", run.cpus, FALSE);
  g_print ("\n");

  gtk_window_destroy (GTK_WINDOW (window));
  g_array_unref (run.intervals);
  g_array_unref (run.works);
  g_array_unref (run.cpus);

  return 0;
}
