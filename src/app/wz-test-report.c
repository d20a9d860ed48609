/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-test-report"

#include "config.h"

#include "wz-test-report.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static const char *
report_path (void)
{
  static const char *path;
  static gsize initialized;

  if (g_once_init_enter (&initialized))
    {
      const char *env = g_getenv ("WZ_TEST_REPORT_FILE");

      path = (env != NULL && *env != '\0') ? g_strdup (env) : NULL;
      g_once_init_leave (&initialized, 1);
    }

  return path;
}

gboolean
wz_test_report_enabled (void)
{
  return report_path () != NULL;
}

void
wz_test_report (const char *format,
                ...)
{
  g_autofree char *line = NULL;
  const char *path = report_path ();
  va_list args;
  gsize len;
  int fd;

  if (path == NULL)
    return;

  va_start (args, format);
  line = g_strdup_vprintf (format, args);
  va_end (args);

  g_debug ("test report: %s", line);

  /* One short O_APPEND write per line, so a reader polling the file never sees half a line. This
   * runs only under tests, which is why it may write synchronously. */
  len = strlen (line);
  line = g_realloc (line, len + 2);
  line[len] = '\n';
  line[len + 1] = '\0';

  fd = open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      g_warning ("Cannot open test report file %s: %s", path, g_strerror (errno));
      return;
    }
  if (write (fd, line, len + 1) != (gssize) (len + 1))
    g_warning ("Cannot write test report file %s: %s", path, g_strerror (errno));
  close (fd);
}
