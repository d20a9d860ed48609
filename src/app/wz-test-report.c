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

typedef struct
{
  GtkWidget     *widget;
  WzSettledFunc  settled;
  char          *line;
  gulong         handler_id;
} PendingReport;

static gboolean
ancestors_settled (GtkWidget *widget)
{
  for (GtkWidget *w = gtk_widget_get_parent (widget); w != NULL; w = gtk_widget_get_parent (w))
    if (GTK_IS_STACK (w) && gtk_stack_get_transition_running (GTK_STACK (w)))
      return FALSE;

  return TRUE;
}

static void arm_report (PendingReport *pending);

static void
on_report_after_paint (GdkFrameClock *clock,
                       PendingReport *pending)
{
  g_clear_signal_handler (&pending->handler_id, clock);

  if ((pending->settled != NULL && !pending->settled (pending->widget))
      || !ancestors_settled (pending->widget))
    {
      arm_report (pending);
      return;
    }

  wz_test_report ("%s", pending->line);
  g_object_unref (pending->widget);
  g_free (pending->line);
  g_free (pending);
}

static void
arm_report (PendingReport *pending)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (pending->widget);

  if (clock == NULL)
    {
      /* Not on screen (yet): nothing to wait for. */
      wz_test_report ("%s", pending->line);
      g_object_unref (pending->widget);
      g_free (pending->line);
      g_free (pending);
      return;
    }

  pending->handler_id = g_signal_connect (clock, "after-paint",
                                          G_CALLBACK (on_report_after_paint), pending);
  gtk_widget_queue_draw (pending->widget);
}

void
wz_test_report_when_settled (GtkWidget     *widget,
                             WzSettledFunc  settled,
                             const char    *format,
                             ...)
{
  PendingReport *pending;
  va_list args;

  g_return_if_fail (GTK_IS_WIDGET (widget));

  if (!wz_test_report_enabled ())
    return;

  pending = g_new0 (PendingReport, 1);
  pending->widget = g_object_ref (widget);
  pending->settled = settled;
  va_start (args, format);
  pending->line = g_strdup_vprintf (format, args);
  va_end (args);

  arm_report (pending);
}
