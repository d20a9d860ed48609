/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Current wall-clock time in microseconds since the Unix epoch. */
gint64    wz_time_now_us            (void);
/* RFC 3339 instant in UTC with milliseconds, e.g. "2024-05-01T08:30:00.123Z". */
char     *wz_time_format_instant    (gint64       unix_us);
/* Parses an RFC 3339 date-time with a time zone (FHIR instant/dateTime with time). */
gboolean  wz_time_parse_instant     (const char  *text,
                                     gint64      *out_unix_us,
                                     GError     **error);
/* Parses a FHIR search date value: YYYY, YYYY-MM, YYYY-MM-DD or a full date-time, and returns the
 * half-open range [*out_start_us, *out_end_us) it covers (dates are taken as UTC). */
gboolean  wz_time_parse_range       (const char  *text,
                                     gint64      *out_start_us,
                                     gint64      *out_end_us,
                                     GError     **error);
/* Normalises a FHIR date or dateTime for sorting and comparing as text: partial dates stay as
 * they are, date-times become UTC "YYYY-MM-DDTHH:MM:SS[.mmm]Z". NULL when TEXT is not a date. */
char     *wz_time_normalize_date    (const char  *text);
/* Whole years between BIRTH_DATE (YYYY-MM-DD) and ON_DATE (YYYY-MM-DD, or NULL for today in the
 * local time zone); -1 with an error when a date is invalid or ON_DATE is before BIRTH_DATE. */
gint      wz_age_years              (const char  *birth_date,
                                     const char  *on_date,
                                     GError     **error);

G_END_DECLS
