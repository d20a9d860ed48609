/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "wz-error.h"
#include "wz-fhir.h"
#include "wz-nip-schedule.h"

/* The China NIP schedule engine against data/clinical/nip-schedule.json: the calendar rule, late
 * starts, catch-up rules, invalid doses, time zones, FHIR output and reaction follow-up Tasks. */

static WzNipSchedule *schedule;
static char *schedule_text;

static WzDay
day (const char *text)
{
  WzDay result = WZ_DAY_NONE;

  if (!wz_day_parse (text, &result))
    g_error ("bad date in test: %s", text);
  return result;
}

static char *
fmt (WzDay d)
{
  return d == WZ_DAY_NONE ? g_strdup ("none") : wz_day_format (d);
}

typedef struct
{
  const char *vaccine;
  const char *date;
  gboolean    counted;
} Given;

static WzNipForecast *
compute (const char        *birth,
         const char        *today,
         const Given       *given,
         guint              n_given,
         const char *const *prefer)
{
  g_autoptr(GArray) history = g_array_new (FALSE, TRUE, sizeof (WzNipDose));
  g_autoptr(GError) error = NULL;
  WzNipForecast *forecast;

  for (guint i = 0; i < n_given; i++)
    {
      WzNipDose dose = { given[i].vaccine, day (given[i].date), NULL, given[i].counted };

      g_array_append_val (history, dose);
    }

  forecast = wz_nip_schedule_compute (schedule, day (birth), day (today),
                                      (WzNipDose *) history->data, history->len, prefer, &error);
  g_assert_no_error (error);
  g_assert_nonnull (forecast);
  return forecast;
}

static const WzNipForecastDose *
find (WzNipForecast *forecast,
      const char    *series,
      guint          dose)
{
  for (guint i = 0; i < forecast->doses->len; i++)
    {
      const WzNipForecastDose *d = &g_array_index (forecast->doses, WzNipForecastDose, i);

      if (strcmp (d->series, series) == 0 && d->dose == dose)
        return d;
    }
  return NULL;
}

static gboolean
has_series (WzNipForecast *forecast,
            const char    *series)
{
  return find (forecast, series, 1) != NULL;
}

/* Asserts SERIES dose DOSE has STATUS, PRODUCT and DUE (NULL: not checked). */
static const WzNipForecastDose *
assert_dose (WzNipForecast *forecast,
             const char    *series,
             guint          dose,
             WzNipStatus    status,
             const char    *product,
             const char    *due)
{
  const WzNipForecastDose *d = find (forecast, series, dose);
  g_autofree char *due_text = NULL;

  if (d == NULL)
    g_error ("%s dose %u is missing", series, dose);
  due_text = fmt (d->due);
  if (d->status != status)
    g_error ("%s dose %u is %s (due %s), expected %s", series, dose,
             wz_nip_status_to_string (d->status), due_text, wz_nip_status_to_string (status));
  if (product != NULL)
    g_assert_cmpstr (d->product->id, ==, product);
  if (due != NULL && d->status != WZ_NIP_COMPLETED)
    g_assert_cmpstr (due_text, ==, due);
  return d;
}

static void
test_calendar_rule (void)
{
  WzPeriod year = { 1, WZ_PERIOD_YEAR }, four_years = { 48, WZ_PERIOD_MONTH };
  WzPeriod month = { 1, WZ_PERIOD_MONTH }, six_months = { 6, WZ_PERIOD_MONTH };
  WzPeriod days = { 28, WZ_PERIOD_DAY }, weeks = { 2, WZ_PERIOD_WEEK };
  struct { const char *from; const WzPeriod *add; const char *expected; } cases[] = {
    { "2024-02-29", &year, "2025-03-01" },        /* leap-day birthday, common year */
    { "2024-02-29", &four_years, "2028-02-29" },  /* leap year again */
    { "2024-01-31", &month, "2024-03-01" },       /* no 31 February: first of March */
    { "2023-01-31", &month, "2023-03-01" },
    { "2024-03-31", &six_months, "2024-10-01" },
    { "2024-05-10", &days, "2024-06-07" },
    { "2024-12-25", &weeks, "2025-01-08" },
    { "2024-11-30", &month, "2024-12-30" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *result = fmt (wz_day_add (day (cases[i].from), cases[i].add));

      g_assert_cmpstr (result, ==, cases[i].expected);
    }

  g_assert_false (wz_day_parse ("2023-02-29", &(WzDay) { 0 }));
  g_assert_false (wz_day_parse ("2024-2-29", &(WzDay) { 0 }));
  g_assert_true (wz_day_parse ("2024-02-29", &(WzDay) { 0 }));
}

/* "Today" is the date in the zone asked for: 16:30 UTC on 1 May is already 2 May in Beijing. */
static void
test_today_across_zones (void)
{
  g_autoptr(GTimeZone) shanghai = wz_followup_time_zone ("Asia/Shanghai");
  g_autoptr(GTimeZone) utc = wz_followup_time_zone ("UTC");
  g_autoptr(GDateTime) instant = g_date_time_new_from_iso8601 ("2024-05-01T16:30:00Z", NULL);
  gint64 now_us = g_date_time_to_unix (instant) * G_USEC_PER_SEC;
  g_autofree char *in_shanghai = fmt (wz_day_today (shanghai, now_us));
  g_autofree char *in_utc = fmt (wz_day_today (utc, now_us));
  WzDay d;

  g_assert_nonnull (shanghai);
  g_assert_cmpstr (in_shanghai, ==, "2024-05-02");
  g_assert_cmpstr (in_utc, ==, "2024-05-01");

  /* A dose given at 00:30 Beijing time is on the Beijing date, whatever the server's zone. */
  g_assert_true (wz_day_parse_in_zone ("2024-03-14T16:30:00Z", shanghai, &d));
  g_assert_cmpuint (d, ==, day ("2024-03-15"));
  g_assert_true (wz_day_parse_in_zone ("2024-03-14T16:30:00Z", utc, &d));
  g_assert_cmpuint (d, ==, day ("2024-03-14"));
  g_assert_true (wz_day_parse_in_zone ("2024-03-15T00:30:00+08:00", utc, &d));
  g_assert_cmpuint (d, ==, day ("2024-03-14"));
  /* A time without a zone, or a partial date, cannot be placed on a day. */
  g_assert_false (wz_day_parse_in_zone ("2024-03-14T16:30:00", utc, &d));
  g_assert_false (wz_day_parse_in_zone ("2024-03", utc, &d));
  g_assert_null (wz_followup_time_zone ("../../etc/passwd"));
}

static void
test_newborn (void)
{
  g_autoptr(WzNipForecast) f = compute ("2024-05-10", "2024-05-10", NULL, 0, NULL);

  assert_dose (f, "hepb", 1, WZ_NIP_DUE, "HepB", "2024-05-10");
  assert_dose (f, "hepb", 2, WZ_NIP_NOT_YET_DUE, "HepB", "2024-06-10");
  /* Dose 3: 6 months, and 4 months after dose 1, and 60 days after dose 2. */
  assert_dose (f, "hepb", 3, WZ_NIP_NOT_YET_DUE, "HepB", "2024-11-10");
  assert_dose (f, "bcg", 1, WZ_NIP_DUE, "BCG", "2024-05-10");
  assert_dose (f, "polio", 1, WZ_NIP_NOT_YET_DUE, "IPV", "2024-07-10");
  assert_dose (f, "polio", 3, WZ_NIP_NOT_YET_DUE, "bOPV", "2024-09-10");
  assert_dose (f, "polio", 4, WZ_NIP_NOT_YET_DUE, "bOPV", "2028-05-10");
  assert_dose (f, "dtp", 5, WZ_NIP_NOT_YET_DUE, "DT", "2030-05-10");
  assert_dose (f, "mmr", 1, WZ_NIP_NOT_YET_DUE, "MMR", "2025-01-10");
  assert_dose (f, "men", 3, WZ_NIP_NOT_YET_DUE, "MPSV-AC", "2027-05-10");
  /* Alternatives: the first listed series unless the history or a preference decides. */
  g_assert_true (has_series (f, "je_live"));
  g_assert_false (has_series (f, "je_inactivated"));
  g_assert_true (has_series (f, "hepa_live"));
  g_assert_false (has_series (f, "hepa_inactivated"));
  g_assert_cmpuint (find (f, "polio", 1)->series_doses, ==, 4);
}

static void
test_on_time_child (void)
{
  const Given given[] = {
    { "HepB", "2023-01-15" }, { "BCG", "2023-01-16" }, { "HepB", "2023-02-15" },
    { "IPV", "2023-03-15" }, { "IPV", "2023-04-15" }, { "DTaP", "2023-04-15" },
    { "bOPV", "2023-05-15" }, { "DTaP", "2023-05-15" }, { "DTaP", "2023-06-15" },
  };
  g_autoptr(WzNipForecast) f = compute ("2023-01-15", "2023-07-20", given, G_N_ELEMENTS (given),
                                        NULL);
  const WzNipForecastDose *d;

  d = assert_dose (f, "hepb", 1, WZ_NIP_COMPLETED, "HepB", NULL);
  g_assert_cmpuint (d->given, ==, day ("2023-01-15"));
  assert_dose (f, "bcg", 1, WZ_NIP_COMPLETED, "BCG", NULL);
  assert_dose (f, "polio", 3, WZ_NIP_COMPLETED, "bOPV", NULL);
  assert_dose (f, "dtp", 3, WZ_NIP_COMPLETED, "DTaP", NULL);
  /* HepB 3 is due from 6 months and overdue only at 12 months (complete_before). */
  d = assert_dose (f, "hepb", 3, WZ_NIP_DUE, "HepB", "2023-07-15");
  g_assert_cmpuint (d->overdue, ==, day ("2024-01-15"));
  /* MPSV-A 1 has no deadline: overdue one month after it is due (product policy). */
  d = assert_dose (f, "men", 1, WZ_NIP_DUE, "MPSV-A", "2023-07-15");
  g_assert_cmpuint (d->overdue, ==, day ("2023-08-15"));
  assert_dose (f, "men", 2, WZ_NIP_NOT_YET_DUE, "MPSV-A", "2023-10-20");
  assert_dose (f, "mmr", 1, WZ_NIP_NOT_YET_DUE, "MMR", "2023-09-15");
  assert_dose (f, "dtp", 4, WZ_NIP_NOT_YET_DUE, "DTaP", "2024-07-15");
  g_assert_cmpuint (f->extra->len, ==, 0);

  /* A week after the MPSV-A deadline it is overdue. */
  {
    g_autoptr(WzNipForecast) later = compute ("2023-01-15", "2023-08-22", given,
                                              G_N_ELEMENTS (given), NULL);

    assert_dose (later, "men", 1, WZ_NIP_OVERDUE, "MPSV-A", "2023-07-15");
    assert_dose (later, "hepb", 3, WZ_NIP_DUE, "HepB", "2023-07-15");
  }
}

/* 29 February: yearly ages fall on 1 March in common years, on 29 February in leap years. */
static void
test_leap_day_birth (void)
{
  const Given given[] = { { "JE-L", "2024-10-29" }, { "HepB", "2024-02-29" },
                          { "HepB", "2024-03-29" } };
  g_autoptr(WzNipForecast) before = compute ("2024-02-29", "2026-02-28", given, 3, NULL);
  g_autoptr(WzNipForecast) on = compute ("2024-02-29", "2026-03-01", given, 3, NULL);
  g_autoptr(WzNipForecast) hepb_before = compute ("2024-02-29", "2025-02-28", given, 3, NULL);
  g_autoptr(WzNipForecast) hepb_on = compute ("2024-02-29", "2025-03-01", given, 3, NULL);
  const WzNipForecastDose *d;

  assert_dose (before, "je_live", 2, WZ_NIP_NOT_YET_DUE, "JE-L", "2026-03-01");
  assert_dose (on, "je_live", 2, WZ_NIP_DUE, "JE-L", "2026-03-01");
  {
    g_autoptr(WzNipForecast) young = compute ("2024-02-29", "2024-03-01", NULL, 0, NULL);

    assert_dose (young, "polio", 4, WZ_NIP_NOT_YET_DUE, "bOPV", "2028-02-29");
    assert_dose (young, "je_live", 1, WZ_NIP_NOT_YET_DUE, "JE-L", "2024-10-29");
  }
  /* HepB 3 "before 12 months" ends the day before the rolled-forward birthday (1 March). */
  d = assert_dose (hepb_before, "hepb", 3, WZ_NIP_DUE, "HepB", "2024-08-29");
  g_assert_cmpuint (d->overdue, ==, day ("2025-03-01"));
  assert_dose (hepb_on, "hepb", 3, WZ_NIP_OVERDUE, "HepB", "2024-08-29");
}

/* Three years old and never vaccinated: only the missing doses, at minimum intervals. */
static void
test_late_start (void)
{
  g_autoptr(WzNipForecast) f = compute ("2020-06-01", "2023-06-01", NULL, 0, NULL);
  const WzNipForecastDose *d;

  d = assert_dose (f, "hepb", 1, WZ_NIP_OVERDUE, "HepB", "2020-06-01");
  g_assert_true (d->reasons & WZ_NIP_REASON_CATCH_UP);
  assert_dose (f, "hepb", 2, WZ_NIP_NOT_YET_DUE, "HepB", "2023-06-29");
  /* 60 days after dose 2 and 4 months after dose 1. */
  assert_dose (f, "hepb", 3, WZ_NIP_NOT_YET_DUE, "HepB", "2023-10-01");
  /* BCG from 3 months needs a negative skin test first. */
  d = assert_dose (f, "bcg", 1, WZ_NIP_OVERDUE, "BCG", "2020-06-01");
  g_assert_true (d->reasons & WZ_NIP_REASON_TUBERCULIN_TEST);
  g_assert_cmpuint (d->latest, ==, day ("2024-05-31"));
  /* From 24 months no MPSV-A: MPSV-AC instead, at once, the next one 3 years later. */
  d = assert_dose (f, "men", 1, WZ_NIP_NOT_RECOMMENDED, "MPSV-A", NULL);
  g_assert_true (d->reasons & WZ_NIP_REASON_REPLACED);
  assert_dose (f, "men", 2, WZ_NIP_NOT_RECOMMENDED, "MPSV-A", NULL);
  assert_dose (f, "men", 3, WZ_NIP_DUE, "MPSV-AC", "2022-06-01");
  assert_dose (f, "men", 4, WZ_NIP_NOT_YET_DUE, "MPSV-AC", "2026-06-01");
  /* Polio starts with IPV; 28 days apart. */
  assert_dose (f, "polio", 1, WZ_NIP_OVERDUE, "IPV", "2020-08-01");
  assert_dose (f, "polio", 2, WZ_NIP_NOT_YET_DUE, "IPV", "2023-06-29");
  assert_dose (f, "polio", 3, WZ_NIP_NOT_YET_DUE, "bOPV", "2023-07-27");
  assert_dose (f, "polio", 4, WZ_NIP_NOT_YET_DUE, "bOPV", "2024-06-01");
  assert_dose (f, "dtp", 4, WZ_NIP_NOT_YET_DUE, "DTaP", "2024-01-27");
  assert_dose (f, "mmr", 2, WZ_NIP_NOT_YET_DUE, "MMR", "2023-06-29");

  /* At 4 years and 1 day the BCG window has closed. */
  {
    g_autoptr(WzNipForecast) older = compute ("2020-06-01", "2024-06-02", NULL, 0, NULL);

    d = assert_dose (older, "bcg", 1, WZ_NIP_NOT_RECOMMENDED, "BCG", NULL);
    g_assert_true (d->reasons & WZ_NIP_REASON_WINDOW_CLOSED);
  }
  /* From 18 years nothing is recommended any more. */
  {
    g_autoptr(WzNipForecast) adult = compute ("2005-01-01", "2023-01-02", NULL, 0, NULL);

    assert_dose (adult, "mmr", 1, WZ_NIP_NOT_RECOMMENDED, "MMR", NULL);
    assert_dose (adult, "hepb", 3, WZ_NIP_NOT_RECOMMENDED, "HepB", NULL);
  }
}

/* From 6 years DT only, by the four cases of the dtp catch-up rule. */
static void
test_dt_from_six_years (void)
{
  {
    /* Three DTaP, no DT: one DT at least 6 months after the third. */
    const Given given[] = { { "DTaP", "2015-04-01" }, { "DTaP", "2015-05-01" },
                            { "DTaP", "2015-06-01" } };
    g_autoptr(WzNipForecast) f = compute ("2015-01-01", "2022-03-01", given, 3, NULL);

    /* Possible from the 6th birthday; no deadline, so overdue a month later. */
    assert_dose (f, "dtp", 4, WZ_NIP_OVERDUE, "DT", "2021-01-01");
    g_assert_null (find (f, "dtp", 5));
    g_assert_cmpuint (find (f, "dtp", 1)->series_doses, ==, 4);
  }
  {
    /* None at all at 7: three DT, 1–2 months then 6–12 months apart. */
    g_autoptr(WzNipForecast) f = compute ("2015-01-01", "2022-03-01", NULL, 0, NULL);

    assert_dose (f, "dtp", 1, WZ_NIP_OVERDUE, "DT", "2021-01-01");
    assert_dose (f, "dtp", 2, WZ_NIP_NOT_YET_DUE, "DT", "2022-04-01");
    assert_dose (f, "dtp", 3, WZ_NIP_NOT_YET_DUE, "DT", "2022-10-01");
    g_assert_null (find (f, "dtp", 4));
  }
  {
    /* Two DTaP and one DT: three doses with a DT, nothing more. */
    const Given given[] = { { "DTaP", "2015-04-01" }, { "DTaP", "2015-05-01" },
                            { "DT", "2021-06-01" } };
    g_autoptr(WzNipForecast) f = compute ("2015-01-01", "2022-03-01", given, 3, NULL);

    assert_dose (f, "dtp", 3, WZ_NIP_COMPLETED, "DT", NULL);
    g_assert_null (find (f, "dtp", 4));
  }
  {
    /* The routine child: four DTaP, then DT at 6 years. */
    const Given given[] = { { "DTaP", "2015-04-01" }, { "DTaP", "2015-05-01" },
                            { "DTaP", "2015-06-01" }, { "DTaP", "2016-07-01" } };
    g_autoptr(WzNipForecast) f = compute ("2015-01-01", "2021-01-05", given, 4, NULL);
    const WzNipForecastDose *d = assert_dose (f, "dtp", 5, WZ_NIP_DUE, "DT", "2021-01-01");

    g_assert_cmpuint (d->overdue, ==, day ("2022-01-01"));
    g_assert_false (d->reasons & WZ_NIP_REASON_CATCH_UP);
  }
}

/* A dose given before its minimum interval is not counted: the dose is due again, with the
 * recorded one named for the doctor, unless the doctor counted it. */
static void
test_minimum_interval_violated (void)
{
  const Given given[] = { { "MMR", "2023-09-15" }, { "MMR", "2024-07-20" },
                          { "MMR", "2024-07-30" } };
  g_autoptr(WzNipForecast) f = compute ("2023-01-15", "2024-08-01", given, 3, NULL);
  const WzNipForecastDose *d;

  assert_dose (f, "mmr", 1, WZ_NIP_COMPLETED, "MMR", NULL);
  /* 18 months old on 2024-07-15, dose 2 on 2024-07-20 is valid (≥ 28 days after dose 1); the
   * third is an extra. */
  assert_dose (f, "mmr", 2, WZ_NIP_COMPLETED, "MMR", NULL);
  g_assert_cmpuint (f->extra->len, ==, 1);

  {
    const Given early[] = { { "MMR", "2023-09-15" }, { "MMR", "2023-10-01" } };
    g_autoptr(WzNipForecast) g = compute ("2023-01-15", "2024-08-01", early, 2, NULL);
    g_autoptr(GBytes) fhir = NULL;
    const char *text;

    d = assert_dose (g, "mmr", 2, WZ_NIP_DUE, "MMR", "2024-07-15");
    g_assert_true (d->reasons & WZ_NIP_REASON_INVALID_DOSE);
    g_assert_nonnull (d->invalid);
    g_assert_cmpuint (d->invalid->len, ==, 1);
    g_assert_cmpuint (g_array_index (d->invalid, WzNipDose, 0).date, ==, day ("2023-10-01"));
    g_assert_nonnull (strstr (g_ptr_array_index (d->invalid_why, 0), "minimum age"));

    fhir = wz_nip_forecast_to_fhir (schedule, g, "Patient/p1", "2024-08-01", "en");
    text = g_bytes_get_data (fhir, NULL);
    g_assert_nonnull (strstr (text, "\"code\":\"invalid-dose\""));
  }
  {
    /* HepB dose 2 only 20 days after dose 1 (and before 1 month of age). */
    const Given early[] = { { "HepB", "2023-01-15" }, { "HepB", "2023-02-04" } };
    g_autoptr(WzNipForecast) g = compute ("2023-01-15", "2023-03-01", early, 2, NULL);

    d = assert_dose (g, "hepb", 2, WZ_NIP_DUE, "HepB", "2023-02-15");
    g_assert_true (d->reasons & WZ_NIP_REASON_INVALID_DOSE);
  }
  {
    /* JE-I dose 3 given 20 days after dose 2: less than the 1-month minimum. */
    const Given early[] = { { "JE-I", "2023-09-15" }, { "JE-I", "2023-09-23" },
                            { "JE-I", "2025-01-15" }, { "JE-I", "2025-02-04" } };
    g_autoptr(WzNipForecast) g = compute ("2023-01-15", "2025-02-10", early, 4, NULL);

    assert_dose (g, "je_inactivated", 2, WZ_NIP_COMPLETED, "JE-I", NULL);
    assert_dose (g, "je_inactivated", 3, WZ_NIP_COMPLETED, "JE-I", NULL);
    assert_dose (g, "je_inactivated", 4, WZ_NIP_NOT_YET_DUE, "JE-I", "2029-01-15");
    g_assert_cmpuint (g->extra->len, ==, 0);
    d = find (g, "je_inactivated", 4);
    g_assert_true (d->reasons & WZ_NIP_REASON_INVALID_DOSE);
  }
  {
    /* The doctor decided to count the early dose. */
    const Given counted[] = { { "MMR", "2023-09-15" }, { "MMR", "2023-10-01", TRUE } };
    g_autoptr(WzNipForecast) g = compute ("2023-01-15", "2024-08-01", counted, 2, NULL);

    d = assert_dose (g, "mmr", 2, WZ_NIP_COMPLETED, "MMR", NULL);
    g_assert_true (d->reasons & WZ_NIP_REASON_COUNTED);
  }
}

/* Injectable live vaccines on different days need 28 days between them. */
static void
test_live_vaccine_spacing (void)
{
  const Given given[] = { { "MMR", "2023-09-15" }, { "JE-L", "2023-09-25" } };
  g_autoptr(WzNipForecast) f = compute ("2023-01-15", "2023-09-30", given, 2, NULL);
  /* 28 days after the JE-L that was given too soon, which was a live vaccine all the same. */
  const WzNipForecastDose *d = assert_dose (f, "je_live", 1, WZ_NIP_NOT_YET_DUE, "JE-L",
                                            "2023-10-23");

  g_assert_true (d->reasons & WZ_NIP_REASON_INVALID_DOSE);
  g_assert_true (d->reasons & WZ_NIP_REASON_LIVE_SPACING);
  g_assert_nonnull (strstr (g_ptr_array_index (d->invalid_why, 0), "28 days"));

  /* The same day is fine. */
  {
    const Given same_day[] = { { "MMR", "2023-09-15" }, { "JE-L", "2023-09-15" } };
    g_autoptr(WzNipForecast) g = compute ("2023-01-15", "2023-09-30", same_day, 2, NULL);

    assert_dose (g, "je_live", 1, WZ_NIP_COMPLETED, "JE-L", NULL);
    assert_dose (g, "mmr", 1, WZ_NIP_COMPLETED, "MMR", NULL);
  }
}

static void
test_alternatives (void)
{
  const Given je_i[] = { { "JE-I", "2023-09-15" } };
  const char *prefer[] = { "je_inactivated", "hepa_inactivated", NULL };
  g_autoptr(WzNipForecast) by_history = compute ("2023-01-15", "2023-09-20", je_i, 1, NULL);
  g_autoptr(WzNipForecast) by_choice = compute ("2023-01-15", "2023-09-20", NULL, 0, prefer);

  g_assert_false (has_series (by_history, "je_live"));
  assert_dose (by_history, "je_inactivated", 1, WZ_NIP_COMPLETED, "JE-I", NULL);
  /* JE-I dose 2 is 7–10 days after dose 1: overdue from day 11. */
  {
    const WzNipForecastDose *d = assert_dose (by_history, "je_inactivated", 2, WZ_NIP_NOT_YET_DUE,
                                              "JE-I", "2023-09-22");

    g_assert_cmpuint (d->overdue, ==, day ("2023-09-26"));
  }
  g_assert_true (has_series (by_choice, "je_inactivated"));
  g_assert_false (has_series (by_choice, "je_live"));
  g_assert_true (has_series (by_choice, "hepa_inactivated"));

  {
    /* One HepA-I, then HepA-L at least 6 months later completes the inactivated series. */
    const Given hepa[] = { { "HepA-I", "2024-07-20" }, { "HepA-L", "2025-02-01" } };
    g_autoptr(WzNipForecast) f = compute ("2023-01-15", "2025-03-01", hepa, 2, NULL);

    g_assert_false (has_series (f, "hepa_live"));
    assert_dose (f, "hepa_inactivated", 2, WZ_NIP_COMPLETED, "HepA-L", NULL);
    g_assert_cmpuint (f->extra->len, ==, 0);
  }
}

/* The day a dose was given is read in the clinic's zone: the same instant is 2 months of age in
 * Beijing and one day short of it in UTC. */
static void
test_history_time_zones (void)
{
  const char *bundle =
    "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":["
    "{\"resource\":{\"resourceType\":\"Immunization\",\"id\":\"i1\",\"status\":\"completed\","
    " \"vaccineCode\":{\"coding\":[{\"system\":\"" WZ_NIP_VACCINE_SYSTEM "\",\"code\":\"IPV\"}]},"
    " \"occurrenceDateTime\":\"2023-03-14T16:30:00Z\"}},"
    "{\"resource\":{\"resourceType\":\"Immunization\",\"id\":\"i2\",\"status\":\"not-done\","
    " \"vaccineCode\":{\"coding\":[{\"code\":\"BCG\"}]},\"occurrenceDateTime\":\"2023-01-15\"}},"
    "{\"resource\":{\"resourceType\":\"Immunization\",\"id\":\"i3\",\"status\":\"completed\","
    " \"vaccineCode\":{\"coding\":[{\"system\":\"http://example.org\",\"code\":\"HepB\"}]},"
    " \"occurrenceDateTime\":\"2023-01-15\"}},"
    "{\"resource\":{\"resourceType\":\"Immunization\",\"id\":\"i4\",\"status\":\"completed\","
    " \"vaccineCode\":{\"coding\":[{\"code\":\"Hib\"}]},\"occurrenceDateTime\":\"2023-03-15\"}},"
    "{\"resource\":{\"resourceType\":\"Immunization\",\"id\":\"i5\",\"status\":\"completed\","
    " \"vaccineCode\":{\"coding\":[{\"code\":\"MMR\"}]},\"occurrenceString\":\"last spring\"}}"
    "]}";
  g_autoptr(JsonNode) root = json_from_string (bundle, NULL);
  g_autoptr(GTimeZone) shanghai = wz_followup_time_zone ("Asia/Shanghai");
  g_autoptr(GTimeZone) utc = wz_followup_time_zone ("UTC");
  g_autoptr(WzNipHistory) in_beijing = wz_nip_history_from_json (schedule, root, shanghai);
  g_autoptr(WzNipHistory) in_utc = wz_nip_history_from_json (schedule, root, utc);
  g_autoptr(WzNipForecast) beijing = NULL;
  g_autoptr(WzNipForecast) london = NULL;
  const WzNipForecastDose *d;

  g_assert_nonnull (root);
  /* IPV and HepB count; not-done, a non-programme vaccine and an undated dose do not. */
  g_assert_cmpuint (in_beijing->doses->len, ==, 2);
  g_assert_cmpuint (in_beijing->skipped->len, ==, 1);
  g_assert_nonnull (strstr (g_ptr_array_index (in_beijing->skipped, 0), "Immunization/i5"));
  g_assert_cmpstr (g_array_index (in_beijing->doses, WzNipDose, 0).immunization, ==,
                   "Immunization/i1");

  beijing = wz_nip_schedule_compute (schedule, day ("2023-01-15"), day ("2023-03-20"),
                                     (WzNipDose *) in_beijing->doses->data,
                                     in_beijing->doses->len, NULL, NULL);
  london = wz_nip_schedule_compute (schedule, day ("2023-01-15"), day ("2023-03-20"),
                                    (WzNipDose *) in_utc->doses->data, in_utc->doses->len,
                                    NULL, NULL);
  d = assert_dose (beijing, "polio", 1, WZ_NIP_COMPLETED, "IPV", NULL);
  g_assert_cmpstr (d->immunization, ==, "Immunization/i1");
  d = assert_dose (london, "polio", 1, WZ_NIP_DUE, "IPV", "2023-03-15");
  g_assert_true (d->reasons & WZ_NIP_REASON_INVALID_DOSE);
}

static void
test_fhir_output (void)
{
  const Given given[] = { { "HepB", "2024-01-10" } };
  g_autoptr(WzNipForecast) f = compute ("2024-01-10", "2024-02-15", given, 1, NULL);
  g_autoptr(GBytes) en_bytes = wz_nip_forecast_to_fhir (schedule, f, "Patient/p1",
                                                        "2024-02-15T10:00:00+08:00", "en");
  g_autoptr(GBytes) zh_bytes = wz_nip_forecast_to_fhir (schedule, f, "Patient/p1",
                                                        "2024-02-15T10:00:00+08:00", "zh_CN");
  const char *text = g_bytes_get_data (en_bytes, NULL);
  const char *zh_text = g_bytes_get_data (zh_bytes, NULL);
  g_autoptr(JsonNode) en = json_from_string (text, NULL);
  g_autoptr(JsonNode) parsed = NULL;
  g_autoptr(GError) error = NULL;
  JsonArray *recommendations;
  gboolean found_due = FALSE;

  /* What the server would store or send must pass its own validation. */
  parsed = wz_fhir_parse_resource (text, -1, "ImmunizationRecommendation", NULL, &error);
  g_assert_no_error (error);

  recommendations = json_object_get_array_member (json_node_get_object (en), "recommendation");
  g_assert_cmpuint (json_array_get_length (recommendations), ==, f->doses->len);
  for (guint i = 0; i < json_array_get_length (recommendations); i++)
    {
      JsonObject *r = json_array_get_object_element (recommendations, i);
      JsonObject *status = json_object_get_object_member (r, "forecastStatus");
      JsonArray *codings = json_object_get_array_member (status, "coding");
      const char *code = json_object_get_string_member (json_array_get_object_element (codings, 0),
                                                        "code");

      if (g_strcmp0 (json_object_get_string_member (r, "series"), "hepb") == 0 &&
          json_object_get_int_member (r, "doseNumberPositiveInt") == 2)
        {
          JsonArray *criteria = json_object_get_array_member (r, "dateCriterion");

          g_assert_cmpstr (code, ==, "due");
          g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (codings, 1),
                                                          "code"), ==, "due");
          /* earliest, due, overdue, latest */
          g_assert_cmpuint (json_array_get_length (criteria), ==, 4);
          g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (criteria, 1),
                                                          "value"), ==, "2024-02-10");
          g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (criteria, 2),
                                                          "value"), ==, "2024-03-10");
          g_assert_cmpuint (json_object_get_int_member (r, "seriesDosesPositiveInt"), ==, 3);
          found_due = TRUE;
        }
    }
  g_assert_true (found_due);
  g_assert_nonnull (strstr (text, "Hepatitis B, dose 1 of 3: HepB, given 2024-01-10"));
  /* Chinese first when asked for, English kept as a translation. */
  g_assert_nonnull (strstr (zh_text, "乙肝疫苗 第2剂（共3剂）"));
  g_assert_nonnull (strstr (zh_text, "\"valueCode\":\"en\""));
}

static void
test_reaction_tasks (void)
{
  g_autoptr(GPtrArray) tasks = wz_nip_reaction_tasks (schedule, "MMR", day ("2024-05-01"),
                                                      "Immunization/im1", "Patient/p1",
                                                      "Practitioner/d1", "2024-05-01T09:00:00+08:00",
                                                      "zh");
  g_autoptr(GPtrArray) none = wz_nip_reaction_tasks (schedule, "Hib", day ("2024-05-01"),
                                                     "Immunization/im2", "Patient/p1", NULL, NULL,
                                                     "en");
  const char *expected[][4] = {
    { "2024-05-02", "2024-05-01", "2024-05-03", "Immunization/im1/reaction-check/day-1" },
    { "2024-05-08", "2024-05-08", "2024-05-13", "Immunization/im1/reaction-check/day-7" },
    { "2024-05-22", "2024-05-11", "2024-06-12", "Immunization/im1/reaction-check/day-21" },
  };

  g_assert_cmpuint (tasks->len, ==, 3);
  g_assert_cmpuint (none->len, ==, 0);
  for (guint i = 0; i < tasks->len; i++)
    {
      JsonObject *task = json_node_get_object (g_ptr_array_index (tasks, i));
      JsonObject *period = json_object_get_object_member (
        json_object_get_object_member (task, "restriction"), "period");
      JsonObject *due = json_array_get_object_element (
        json_object_get_array_member (task, "extension"), 0);
      JsonObject *identifier = json_array_get_object_element (
        json_object_get_array_member (task, "identifier"), 0);
      g_autofree char *text = json_to_string (g_ptr_array_index (tasks, i), FALSE);
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) parsed = wz_fhir_parse_resource (text, -1, "Task", NULL, &error);

      g_assert_no_error (error);
      g_assert_cmpstr (json_object_get_string_member (due, "url"), ==, WZ_FOLLOWUP_DUE_EXTENSION);
      g_assert_cmpstr (json_object_get_string_member (due, "valueDate"), ==, expected[i][0]);
      g_assert_cmpstr (json_object_get_string_member (period, "start"), ==, expected[i][1]);
      g_assert_cmpstr (json_object_get_string_member (period, "end"), ==, expected[i][2]);
      g_assert_cmpstr (json_object_get_string_member (identifier, "value"), ==, expected[i][3]);
      g_assert_cmpstr (json_object_get_string_member (task, "status"), ==, "requested");
      g_assert_cmpstr (json_object_get_string_member (
                         json_object_get_object_member (task, "owner"), "reference"), ==,
                       "Practitioner/d1");
    }
  /* Day 7: fever and rash, in Chinese first. */
  g_assert_nonnull (strstr (json_object_get_string_member (
                              json_node_get_object (g_ptr_array_index (tasks, 1)), "description"),
                            "发热"));
}

static void
test_adverse_event (void)
{
  WzNipReaction reaction = {
    "Immunization/im1", "Patient/p1", "Practitioner/d1", "2024-05-09",
    "2024-05-10T08:00:00+08:00", "Fever 39.2 °C and a fine rash on the trunk", "moderate", FALSE
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) event = wz_nip_adverse_event (schedule, &reaction, &error);
  g_autofree char *text = NULL;
  g_autoptr(JsonNode) parsed = NULL;
  JsonObject *object;

  g_assert_no_error (error);
  text = json_to_string (event, FALSE);
  parsed = wz_fhir_parse_resource (text, -1, "AdverseEvent", NULL, &error);
  g_assert_no_error (error);
  object = json_node_get_object (event);
  g_assert_cmpstr (json_object_get_string_member (object, "actuality"), ==, "actual");
  g_assert_cmpstr (json_object_get_string_member (object, "date"), ==, "2024-05-09");
  g_assert_nonnull (strstr (text, "\"instance\":{\"reference\":\"Immunization/im1\"}"));
  g_assert_nonnull (strstr (text, "\"code\":\"non-serious\""));

  reaction.severity = "terrible";
  g_clear_pointer (&event, json_node_unref);
  event = wz_nip_adverse_event (schedule, &reaction, &error);
  g_assert_null (event);
  g_assert_error (error, WZ_ERROR, WZ_ERROR_INVALID);
  g_clear_error (&error);

  reaction.severity = NULL;
  reaction.immunization_ref = "Patient/p1";
  event = wz_nip_adverse_event (schedule, &reaction, &error);
  g_assert_null (event);
  g_assert_error (error, WZ_ERROR, WZ_ERROR_INVALID);
}

/* Loads the file with one edit (a Python-free way: replace text) and expects the load to fail
 * with a message naming the place. */
static void
assert_load_fails (const char *from,
                   const char *to,
                   const char *needle)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WzNipSchedule) broken = NULL;
  g_autofree char *edited = NULL;
  char *at = strstr (schedule_text, from);
  g_autoptr(GString) text = g_string_new (NULL);

  if (at == NULL)
    g_error ("“%s” is not in the schedule file", from);
  g_string_append_len (text, schedule_text, at - schedule_text);
  g_string_append (text, to);
  g_string_append (text, at + strlen (from));
  edited = g_string_free (g_steal_pointer (&text), FALSE);

  broken = wz_nip_schedule_new_from_data (edited, -1, &error);
  g_assert_null (broken);
  g_assert_error (error, WZ_ERROR, WZ_ERROR_INVALID);
  if (strstr (error->message, needle) == NULL)
    g_error ("“%s” does not mention “%s”", error->message, needle);
}

static void
test_load_validation (void)
{
  assert_load_fails ("\"result\": \"2025-03-01\"", "\"result\": \"2025-02-28\"",
                     "rules.date_arithmetic.examples[0]");
  assert_load_fails ("\"zh\": \"乙型肝炎疫苗\"", "\"zh\": 3", "vaccines[0].name.zh");
  assert_load_fails ("\"dtap_until_exclusive\"", "\"dtap_until_inclusive\"",
                     "not a catch-up rule this version understands");
  assert_load_fails ("\"q_mother_hiv\"\n", "\"q_mother_hiv_status\"\n",
                     "is not an id of screening_questions[]");
  assert_load_fails ("\"recommended_age\": {\n            \"value\": 4,\n            \"unit\": \"year\"",
                     "\"recommended_age\": {\n            \"value\": 4,\n            \"unit\": \"years\"",
                     "series[2].doses[3].recommended_age.unit");
  assert_load_fails ("\"doses_required_from_4_years\": 4", "\"doses_required_from_4_years\": 5",
                     "the dose list gives");
  assert_load_fails ("\"timezone_default\": \"Asia/Shanghai\"", "\"timezone_default\": \"Mars/Base\"",
                     "timezone_default");
  assert_load_fails ("{", "[", "not valid JSON");
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  const char *data_dir = g_getenv ("WZ_DATA_DIR");
  int status;

  g_test_init (&argc, &argv, NULL);

  path = g_build_filename (data_dir ? data_dir : SOURCE_DATADIR, "clinical", "nip-schedule.json",
                           NULL);
  if (!g_file_get_contents (path, &schedule_text, NULL, &error))
    g_error ("%s", error->message);
  schedule = wz_nip_schedule_new_from_data (schedule_text, -1, &error);
  g_assert_no_error (error);

  g_test_add_func ("/nip/calendar-rule", test_calendar_rule);
  g_test_add_func ("/nip/today-across-zones", test_today_across_zones);
  g_test_add_func ("/nip/newborn", test_newborn);
  g_test_add_func ("/nip/on-time-child", test_on_time_child);
  g_test_add_func ("/nip/leap-day-birth", test_leap_day_birth);
  g_test_add_func ("/nip/late-start", test_late_start);
  g_test_add_func ("/nip/dt-from-six-years", test_dt_from_six_years);
  g_test_add_func ("/nip/minimum-interval-violated", test_minimum_interval_violated);
  g_test_add_func ("/nip/live-vaccine-spacing", test_live_vaccine_spacing);
  g_test_add_func ("/nip/alternatives", test_alternatives);
  g_test_add_func ("/nip/history-time-zones", test_history_time_zones);
  g_test_add_func ("/nip/fhir-output", test_fhir_output);
  g_test_add_func ("/nip/reaction-tasks", test_reaction_tasks);
  g_test_add_func ("/nip/adverse-event", test_adverse_event);
  g_test_add_func ("/nip/load-validation", test_load_validation);

  status = g_test_run ();
  g_clear_object (&schedule);
  g_free (schedule_text);
  return status;
}
