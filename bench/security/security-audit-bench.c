/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "security-audit-bench"

#include "config.h"

#include <glib/gstdio.h>
#include <stdio.h>

#include "wz-audit.h"

/* Usage: security-audit-bench DATA_DIR. Prints the figures; the last line is the metric. */

typedef struct
{
  WzAudit *audit;
  guint    done;
  guint    errors;
  guint    to_issue;       /* closed loop: rows still to start */
} Run;

static void
on_done (const GError *error,
         gpointer      user_data)
{
  Run *run = user_data;

  run->done++;
  if (error != NULL)
    run->errors++;
}

static void
record (Run  *run,
        guint i,
        WzAuditDone done)
{
  char entity[32];

  g_snprintf (entity, sizeof entity, "Patient/p%u", i % 500);
  wz_audit_record (run->audit, "R", "0", "Practitioner/doctor-1", entity, entity, "127.0.0.1",
                   done, run);
}

static void
wait_done (Run   *run,
           guint  target)
{
  while (run->done < target)
    g_main_context_iteration (NULL, TRUE);
}

/* A request that must wait for its row before the next one: what a single client sees, and
 * exactly one transaction + fsync per row. */
static double
one_commit_per_row (Run    *run,
                    double  seconds)
{
  g_autoptr(GTimer) timer = g_timer_new ();
  guint start = run->done;
  guint n = 0;

  while (g_timer_elapsed (timer, NULL) < seconds)
    {
      record (run, n, on_done);
      n++;
      wait_done (run, start + n);
    }
  return n / g_timer_elapsed (timer, NULL);
}

static void
closed_loop_done (const GError *error,
                  gpointer      user_data)
{
  Run *run = user_data;

  on_done (error, user_data);
  if (run->to_issue > 0)
    {
      run->to_issue--;
      record (run, run->to_issue, closed_loop_done);
    }
}

/* IN_FLIGHT clients, each sending its next request once its previous row is on disk (like
 * wrk -cN against the server). */
static double
closed_loop (Run   *run,
             guint  in_flight,
             guint  total)
{
  g_autoptr(GTimer) timer = g_timer_new ();
  guint start = run->done;

  run->to_issue = total - in_flight;
  for (guint i = 0; i < in_flight; i++)
    record (run, i, closed_loop_done);
  wait_done (run, start + total);
  return total / g_timer_elapsed (timer, NULL);
}

/* Everything enqueued as fast as it comes, timed from the first record to the last callback. */
static double
open_loop (Run   *run,
           guint  total)
{
  g_autoptr(GTimer) timer = g_timer_new ();
  guint start = run->done;

  for (guint i = 0; i < total; i++)
    {
      record (run, i, on_done);
      /* Let callbacks run now and then, as a server's loop would between requests. */
      if (i % 1024 == 0)
        g_main_context_iteration (NULL, FALSE);
    }
  wait_done (run, start + total);
  return total / g_timer_elapsed (timer, NULL);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WzAudit) audit = NULL;
  Run run = { 0, };
  guint64 rows0, commits0, rows1, commits1;
  guint64 n_verified = 0;
  double baseline, c16, c256, open;
  g_autoptr(GTimer) verify_timer = NULL;

  if (argc != 2)
    {
      fprintf (stderr, "usage: %s DATA_DIR\n", argv[0]);
      return 2;
    }

  audit = wz_audit_open (argv[1], &error);
  if (audit == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  run.audit = audit;

  /* Warm up: create the file, page cache, WAL. */
  closed_loop (&run, 64, 2000);

  wz_audit_get_stats (audit, &rows0, &commits0);
  baseline = one_commit_per_row (&run, 3.0);
  wz_audit_get_stats (audit, &rows1, &commits1);
  printf ("one row per commit (serial): %.0f rows/s, %.1f rows/commit\n", baseline,
          (double) (rows1 - rows0) / MAX (1, commits1 - commits0));

  wz_audit_get_stats (audit, &rows0, &commits0);
  c16 = closed_loop (&run, 16, 20000);
  wz_audit_get_stats (audit, &rows1, &commits1);
  printf ("closed loop, 16 in flight: %.0f rows/s, %.1f rows/commit\n", c16,
          (double) (rows1 - rows0) / MAX (1, commits1 - commits0));

  wz_audit_get_stats (audit, &rows0, &commits0);
  c256 = closed_loop (&run, 256, 200000);
  wz_audit_get_stats (audit, &rows1, &commits1);
  printf ("closed loop, 256 in flight: %.0f rows/s, %.1f rows/commit\n", c256,
          (double) (rows1 - rows0) / MAX (1, commits1 - commits0));

  wz_audit_get_stats (audit, &rows0, &commits0);
  open = open_loop (&run, 300000);
  wz_audit_get_stats (audit, &rows1, &commits1);
  printf ("open loop (enqueue all, then wait): %.0f rows/s, %.1f rows/commit\n", open,
          (double) (rows1 - rows0) / MAX (1, commits1 - commits0));

  wz_audit_flush (audit);
  if (run.errors > 0)
    {
      fprintf (stderr, "%u rows failed to write\n", run.errors);
      return 1;
    }

  verify_timer = g_timer_new ();
  if (!wz_audit_verify (argv[1], &n_verified, &error))
    {
      fprintf (stderr, "verify failed: %s\n", error->message);
      return 1;
    }
  printf ("verify: %" G_GUINT64_FORMAT " rows in %.2f s\n", n_verified,
          g_timer_elapsed (verify_timer, NULL));

  printf ("audit_rows_per_s_baseline %.0f rows/s\n", baseline);
  printf ("audit_rows_per_s %.0f rows/s\n", open);
  return 0;
}
