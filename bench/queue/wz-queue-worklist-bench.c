/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-queue-worklist-bench"

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wz-sqlite-store.h"

/* The store's side of bench/queue-worklist: the Encounter search the app's queue sends for a
 * doctor's day (practitioner, today's date range, statuses, _include=Encounter:subject, pages of
 * 200), run on a data directory through the store itself, so the figures are the search's own
 * time without HTTP, the audit log or whatever else the server does in between. Pages follow
 * the store's next position as a next link does.
 *
 * Two shapes, one after the other: as the app asks now (_total=none, next pages by cursor), and
 * the first pages with every match counted and reached by offset (_total=accurate, no cursor),
 * which is what each page cost before.
 *
 * Output: per shape "SHAPE pages N … cpu p50 X p95 Y max Z ms wall p50 .. p95 .. ms" (the app's,
 * then the baseline), then "worklist_page_cpu_p95 X ms" for the app's shape. */

static double
thread_cpu_ms (void)
{
  struct timespec now;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &now);
  return now.tv_sec * 1e3 + now.tv_nsec / 1e6;
}

static int
compare_double (gconstpointer a,
                gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static double
percentile (GArray *values,
            double  p)
{
  g_array_sort (values, compare_double);
  return g_array_index (values, double, MIN ((guint) (p * values->len), values->len - 1));
}

typedef struct
{
  WzStore       *store;
  WzSearchQuery *query;
  WzStoreResult *result;
  GError        *error;
} Page;

static gboolean
search_page (gpointer data)
{
  Page *p = data;

  p->result = wz_store_search (p->store, p->query, &p->error);
  return G_SOURCE_REMOVE;
}

/* Runs up to MAX_PAGES pages of QUERY_STRING; prints the line for SHAPE; returns the CPU p95. */
static double
run (WzStore    *store,
     const char *shape,
     const char *query_string,
     const char *practitioner,
     gboolean    by_cursor,
     guint       max_pages)
{
  g_autoptr(GArray) cpu = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) wall = g_array_new (FALSE, FALSE, sizeof (double));
  gint64 after = 0;
  guint offset = 0, matches = 0, included = 0;

  for (guint page = 0; page < max_pages; page++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(WzSearchQuery) query = wz_search_query_parse ("Encounter", query_string, &error);
      g_autoptr(WzStoreResult) result = NULL;
      double cpu_start, cpu_ms, wall_ms;
      gint64 start;

      if (query == NULL)
        g_error ("%s", error->message);
      query->visible_to_practitioner = g_strdup (practitioner);
      query->offset = offset;
      query->after = by_cursor ? after : 0;

      /* As in the server: one request per main-loop dispatch, where the store's reads share one
       * read transaction, ended when the loop comes round again. */
      {
        Page p = { store, query, NULL, NULL };

        g_idle_add (search_page, &p);
        start = g_get_monotonic_time ();
        cpu_start = thread_cpu_ms ();
        while (p.result == NULL && p.error == NULL)
          g_main_context_iteration (NULL, TRUE);
        while (g_main_context_pending (NULL))
          g_main_context_iteration (NULL, FALSE);
        cpu_ms = thread_cpu_ms () - cpu_start;
        wall_ms = (g_get_monotonic_time () - start) / 1000.0;
        if (p.result == NULL)
          g_error ("%s", p.error->message);
        result = p.result;
      }

      g_array_append_val (cpu, cpu_ms);
      g_array_append_val (wall, wall_ms);
      matches += result->resources->len;
      included += result->included ? result->included->len : 0;
      if (!result->more)
        break;
      offset += query->count;
      after = result->next_after;
    }

  printf ("%s pages %u matches %u included %u cpu p50 %.2f p95 %.2f max %.2f ms"
          " wall p50 %.2f p95 %.2f ms\n", shape, cpu->len, matches, included,
          percentile (cpu, 0.5), percentile (cpu, 0.95), percentile (cpu, 1.0),
          percentile (wall, 0.5), percentile (wall, 0.95));
  return percentile (cpu, 0.95);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WzSqliteStore) store = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autoptr(GDateTime) day = NULL;
  g_autoptr(GDateTime) next_day = NULL;
  g_autofree char *start = NULL;
  g_autofree char *end = NULL;
  g_autofree char *escaped = NULL;
  g_autofree char *base = NULL;
  g_autofree char *app_shape = NULL;
  g_autofree char *old_shape = NULL;
  guint max_pages, old_pages;
  double p95;

  if (argc != 5)
    {
      fprintf (stderr, "usage: %s DATA-DIR PRACTITIONER-REF MAX-PAGES OLD-SHAPE-PAGES\n", argv[0]);
      return 2;
    }
  max_pages = MAX (atoi (argv[3]), 1);
  old_pages = (guint) MAX (atoi (argv[4]), 0);

  if ((store = wz_sqlite_store_open (argv[1], &error)) == NULL)
    g_error ("%s", error->message);

  day = g_date_time_new_local (g_date_time_get_year (now), g_date_time_get_month (now),
                               g_date_time_get_day_of_month (now), 0, 0, 0);
  next_day = g_date_time_add_days (day, 1);
  start = g_date_time_format (day, "%Y-%m-%dT%H:%M:%S%:z");
  end = g_date_time_format (next_day, "%Y-%m-%dT%H:%M:%S%:z");
  escaped = g_uri_escape_string (argv[2], NULL, FALSE);
  base = g_strdup_printf ("practitioner=%s&date=ge%s&date=lt%s&_include=Encounter:subject"
                          "&_count=200&status=arrived,triaged,in-progress,finished",
                          escaped, start, end);
  app_shape = g_strconcat (base, "&_total=none", NULL);
  old_shape = g_strconcat (base, "&_total=accurate", NULL);

  /* The baseline after the app's shape, so it runs with the cache the app's pages warmed and
   * is printed on the line before the result. */
  p95 = run (WZ_STORE (store), "app", app_shape, argv[2], TRUE, max_pages);
  if (old_pages > 0)
    run (WZ_STORE (store), "counted-by-offset", old_shape, argv[2], FALSE, old_pages);
  printf ("worklist_page_cpu_p95 %.2f ms\n", p95);

  return 0;
}
