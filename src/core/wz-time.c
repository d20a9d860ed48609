/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-time"

#include "config.h"

#include "wz-time.h"

#include "wz-error.h"

#define DATE_TIME_PATTERN \
  "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})$"
#define PARTIAL_DATE_PATTERN "^([0-9]{4})(-([0-9]{2})(-([0-9]{2}))?)?$"

static GRegex *
get_regex (const char *pattern,
           GRegex    **slot)
{
  if (g_once_init_enter (slot))
    g_once_init_leave (slot, g_regex_new (pattern, G_REGEX_OPTIMIZE, 0, NULL));

  return *slot;
}

static GRegex *
date_time_regex (void)
{
  static GRegex *regex;

  return get_regex (DATE_TIME_PATTERN, &regex);
}

static GRegex *
partial_date_regex (void)
{
  static GRegex *regex;

  return get_regex (PARTIAL_DATE_PATTERN, &regex);
}

gint64
wz_time_now_us (void)
{
  return g_get_real_time ();
}

char *
wz_time_format_instant (gint64 unix_us)
{
  g_autoptr(GDateTime) dt = NULL;
  gint64 seconds = unix_us / G_USEC_PER_SEC;
  gint64 rest = unix_us % G_USEC_PER_SEC;

  if (rest < 0)
    {
      rest += G_USEC_PER_SEC;
      seconds -= 1;
    }

  dt = g_date_time_new_from_unix_utc (seconds);
  if (dt == NULL)
    return NULL;

  return g_strdup_printf ("%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                          g_date_time_get_year (dt),
                          g_date_time_get_month (dt),
                          g_date_time_get_day_of_month (dt),
                          g_date_time_get_hour (dt),
                          g_date_time_get_minute (dt),
                          g_date_time_get_second (dt),
                          (int) (rest / 1000));
}

gboolean
wz_time_parse_instant (const char  *text,
                       gint64      *out_unix_us,
                       GError     **error)
{
  g_autoptr(GDateTime) dt = NULL;

  if (text == NULL || !g_regex_match (date_time_regex (), text, 0, NULL) ||
      (dt = g_date_time_new_from_iso8601 (text, NULL)) == NULL)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                   "“%s” is not a date-time with a time zone (expected e.g. 2024-05-01T08:30:00Z)",
                   text ? text : "");
      return FALSE;
    }

  *out_unix_us = g_date_time_to_unix (dt) * G_USEC_PER_SEC + g_date_time_get_microsecond (dt);
  return TRUE;
}

static gboolean
parse_partial_date (const char *text,
                    int        *out_year,
                    int        *out_month,
                    int        *out_day)
{
  g_autoptr(GMatchInfo) info = NULL;
  g_autofree char *month = NULL;
  g_autofree char *day = NULL;
  g_autofree char *year = NULL;

  if (!g_regex_match (partial_date_regex (), text, 0, &info))
    return FALSE;

  year = g_match_info_fetch (info, 1);
  month = g_match_info_fetch (info, 3);
  day = g_match_info_fetch (info, 5);

  *out_year = atoi (year);
  *out_month = month != NULL && month[0] != '\0' ? atoi (month) : 0;
  *out_day = day != NULL && day[0] != '\0' ? atoi (day) : 0;

  if (*out_year < 1)
    return FALSE;
  if (*out_month != 0 && (*out_month < 1 || *out_month > 12))
    return FALSE;
  if (*out_day != 0 && !g_date_valid_dmy (*out_day, *out_month, *out_year))
    return FALSE;

  return TRUE;
}

static gint64
utc_us (int year,
        int month,
        int day)
{
  g_autoptr(GDateTime) dt = g_date_time_new_utc (year, month, day, 0, 0, 0);

  return dt ? g_date_time_to_unix (dt) * G_USEC_PER_SEC : 0;
}

gboolean
wz_time_parse_range (const char  *text,
                     gint64      *out_start_us,
                     gint64      *out_end_us,
                     GError     **error)
{
  int year, month, day;

  if (text == NULL)
    text = "";

  if (parse_partial_date (text, &year, &month, &day))
    {
      if (month == 0)
        {
          *out_start_us = utc_us (year, 1, 1);
          *out_end_us = utc_us (year + 1, 1, 1);
        }
      else if (day == 0)
        {
          *out_start_us = utc_us (year, month, 1);
          *out_end_us = month == 12 ? utc_us (year + 1, 1, 1) : utc_us (year, month + 1, 1);
        }
      else
        {
          *out_start_us = utc_us (year, month, day);
          *out_end_us = *out_start_us + (gint64) 24 * 3600 * G_USEC_PER_SEC;
        }
      return TRUE;
    }

  if (!wz_time_parse_instant (text, out_start_us, NULL))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                   "“%s” is not a date (YYYY, YYYY-MM, YYYY-MM-DD) or a date-time with a time zone",
                   text);
      return FALSE;
    }

  /* A value given to the millisecond covers that millisecond, one given to the second covers the
   * whole second, so "eq" finds what the client wrote down. */
  *out_end_us = *out_start_us + (strchr (text, '.') != NULL ? 1000 : G_USEC_PER_SEC);
  return TRUE;
}

char *
wz_time_normalize_date (const char *text)
{
  int year, month, day;
  gint64 us;

  if (text == NULL)
    return NULL;

  if (parse_partial_date (text, &year, &month, &day))
    return g_strdup (text);

  if (wz_time_parse_instant (text, &us, NULL))
    return wz_time_format_instant (us);

  return NULL;
}

static gboolean
parse_full_date (const char *text,
                 GDate      *date)
{
  int year, month, day;

  if (text == NULL || !parse_partial_date (text, &year, &month, &day) || day == 0)
    return FALSE;

  g_date_clear (date, 1);
  g_date_set_dmy (date, day, month, year);
  return g_date_valid (date);
}

gint
wz_age_years (const char  *birth_date,
              const char  *on_date,
              GError     **error)
{
  GDate birth, on;
  gint years;

  if (!parse_full_date (birth_date, &birth))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                   "“%s” is not a full birth date (YYYY-MM-DD)", birth_date ? birth_date : "");
      return -1;
    }

  if (on_date == NULL)
    {
      g_autoptr(GDateTime) now = g_date_time_new_now_local ();

      g_date_clear (&on, 1);
      g_date_set_dmy (&on,
                      g_date_time_get_day_of_month (now),
                      g_date_time_get_month (now),
                      g_date_time_get_year (now));
    }
  else if (!parse_full_date (on_date, &on))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                   "“%s” is not a full date (YYYY-MM-DD)", on_date);
      return -1;
    }

  if (g_date_compare (&on, &birth) < 0)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                   "Birth date %s is after %s", birth_date, on_date ? on_date : "today");
      return -1;
    }

  years = g_date_get_year (&on) - g_date_get_year (&birth);
  if (g_date_get_month (&on) < g_date_get_month (&birth) ||
      (g_date_get_month (&on) == g_date_get_month (&birth) &&
       g_date_get_day (&on) < g_date_get_day (&birth)))
    years--;

  return years;
}
