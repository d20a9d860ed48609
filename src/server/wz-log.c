/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-log"

#include "config.h"

#include "wz-log.h"

#include <stdio.h>
#include <string.h>

#include "wz-time.h"

static const char *
level_name (GLogLevelFlags level)
{
  if (level & G_LOG_LEVEL_ERROR)
    return "fatal";
  if (level & G_LOG_LEVEL_CRITICAL)
    return "critical";
  if (level & G_LOG_LEVEL_WARNING)
    return "warning";
  if (level & G_LOG_LEVEL_MESSAGE)
    return "notice";
  if (level & G_LOG_LEVEL_INFO)
    return "info";
  return "debug";
}

void
wz_log_append_value (GString    *out,
                     const char *text)
{
  gboolean needs_quotes = *text == '\0';

  for (const char *p = text; *p && !needs_quotes; p++)
    if (*p == ' ' || *p == '"' || *p == '=' || *p == '\\' || (guchar) *p < 0x20)
      needs_quotes = TRUE;

  if (!needs_quotes)
    {
      g_string_append (out, text);
      return;
    }

  g_string_append_c (out, '"');
  for (const char *p = text; *p; p++)
    {
      switch (*p)
        {
        case '"':
          g_string_append (out, "\\\"");
          break;
        case '\\':
          g_string_append (out, "\\\\");
          break;
        case '\n':
          g_string_append (out, "\\n");
          break;
        case '\t':
          g_string_append (out, "\\t");
          break;
        default:
          if ((guchar) *p < 0x20)
            g_string_append_printf (out, "\\x%02x", (guchar) *p);
          else
            g_string_append_c (out, *p);
        }
    }
  g_string_append_c (out, '"');
}

gboolean
wz_log_debug_enabled (const char *domain)
{
  return !g_log_writer_default_would_drop (G_LOG_LEVEL_DEBUG, domain);
}

static gboolean
is_standard_field (const char *key)
{
  static const char *const standard[] = {
    "MESSAGE", "PRIORITY", "GLIB_DOMAIN", "CODE_FILE", "CODE_LINE", "CODE_FUNC",
    "GLIB_OLD_LOG_API", "SYSLOG_IDENTIFIER",
  };

  for (guint i = 0; i < G_N_ELEMENTS (standard); i++)
    if (strcmp (key, standard[i]) == 0)
      return TRUE;

  return FALSE;
}

static GLogWriterOutput
logfmt_writer (GLogLevelFlags   level,
               const GLogField *fields,
               gsize            n_fields,
               gpointer         user_data)
{
  const char *domain = NULL;
  const char *message = NULL;
  g_autofree char *ts = NULL;
  g_autoptr(GString) line = NULL;

  for (gsize i = 0; i < n_fields; i++)
    {
      if (strcmp (fields[i].key, "GLIB_DOMAIN") == 0)
        domain = fields[i].value;
      else if (strcmp (fields[i].key, "MESSAGE") == 0)
        message = fields[i].value;
    }

  if (g_log_writer_default_would_drop (level, domain))
    return G_LOG_WRITER_HANDLED;

  ts = wz_time_format_instant (wz_time_now_us ());
  line = g_string_sized_new (160);
  g_string_append_printf (line, "ts=%s level=%s domain=", ts, level_name (level));
  wz_log_append_value (line, domain ? domain : "wenzhen-server");
  g_string_append (line, " msg=");
  wz_log_append_value (line, message ? message : "");

  for (gsize i = 0; i < n_fields; i++)
    {
      if (is_standard_field (fields[i].key) || fields[i].length != -1)
        continue;
      g_string_append_c (line, ' ');
      g_string_append (line, fields[i].key);
      g_string_append_c (line, '=');
      wz_log_append_value (line, fields[i].value);
    }
  g_string_append_c (line, '\n');

  /* One write per line, so lines from the audit thread and the main loop never interleave. */
  fwrite (line->str, 1, line->len, stderr);
  fflush (stderr);

  return G_LOG_WRITER_HANDLED;
}

void
wz_log_init (void)
{
  g_log_set_writer_func (logfmt_writer, NULL, NULL);
}
