/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "fsync-latency"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How long the disk under DIR takes to make a small overwrite durable (pwrite + fdatasync),
 * which is what each audit commit waits for: SQLite in WAL mode with synchronous=FULL rewrites
 * a few pages of the log and syncs it. With N clients that each wait for their answer, reads
 * can go no faster than N / that time, however many rows share one commit.
 *
 * Usage: fsync-latency DIR [ROUNDS]. Prints "fsync_median_ms X" and p10/p90 lines. */

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a;
  double y = *(const double *) b;

  return x < y ? -1 : x > y;
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *path = NULL;
  g_autofree double *times = NULL;
  char page[8192];
  guint rounds;
  int fd;

  if (argc < 2)
    {
      g_printerr ("usage: fsync-latency DIR [ROUNDS]\n");
      return 2;
    }
  rounds = argc > 2 ? (guint) g_ascii_strtoull (argv[2], NULL, 10) : 200;
  rounds = CLAMP (rounds, 10, 100000);

  path = g_build_filename (argv[1], "fsync-latency.tmp", NULL);
  fd = g_open (path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0)
    {
      g_printerr ("fsync-latency: %s: %s\n", path, g_strerror (errno));
      return 1;
    }

  /* Overwrites of an allocated file, as a WAL that is reused after each checkpoint. */
  memset (page, 'w', sizeof page);
  for (guint i = 0; i < 64; i++)
    if (pwrite (fd, page, sizeof page, (off_t) i * sizeof page) != (ssize_t) sizeof page)
      {
        g_printerr ("fsync-latency: writing %s: %s\n", path, g_strerror (errno));
        close (fd);
        g_unlink (path);
        return 1;
      }
  fsync (fd);

  times = g_new (double, rounds);
  for (guint i = 0; i < rounds; i++)
    {
      gint64 start = g_get_monotonic_time ();

      if (pwrite (fd, page, sizeof page, (off_t) (i % 64) * sizeof page) != (ssize_t) sizeof page ||
          fdatasync (fd) != 0)
        {
          g_printerr ("fsync-latency: %s: %s\n", path, g_strerror (errno));
          close (fd);
          g_unlink (path);
          return 1;
        }
      times[i] = (g_get_monotonic_time () - start) / 1000.0;
    }
  close (fd);
  g_unlink (path);

  qsort (times, rounds, sizeof *times, compare_doubles);
  printf ("fsync_p10_ms %.3f\n", times[rounds / 10]);
  printf ("fsync_p90_ms %.3f\n", times[rounds * 9 / 10]);
  printf ("fsync_median_ms %.3f\n", times[rounds / 2]);

  return 0;
}
