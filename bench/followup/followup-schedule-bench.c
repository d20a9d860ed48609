/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Helper for bench/followup-schedule: the vaccination schedule of one child from its
 * Immunization history, against parsing that history's JSON as the baseline. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wz-nip-schedule.h"

#define ROUNDS 2000

static int
compare (const void *a,
         const void *b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

static gint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double
median_us (gint64 *samples)
{
  qsort (samples, ROUNDS, sizeof *samples, compare);
  return samples[ROUNDS / 2] / 1000.0;
}

/* The Bundle a search for a 2½-year-old's Immunizations returns: every dose on time. */
static char *
history_bundle (void)
{
  static const char *doses[][2] = {
    { "HepB", "2022-01-10T09:00:00+08:00" }, { "BCG", "2022-01-11T10:00:00+08:00" },
    { "HepB", "2022-02-10T09:00:00+08:00" }, { "IPV", "2022-03-10T09:00:00+08:00" },
    { "IPV", "2022-04-10T09:00:00+08:00" }, { "DTaP", "2022-04-10T09:05:00+08:00" },
    { "bOPV", "2022-05-10T09:00:00+08:00" }, { "DTaP", "2022-05-10T09:05:00+08:00" },
    { "DTaP", "2022-06-10T09:00:00+08:00" }, { "HepB", "2022-07-10T09:00:00+08:00" },
    { "MPSV-A", "2022-07-10T09:05:00+08:00" }, { "MMR", "2022-09-10T09:00:00+08:00" },
    { "JE-L", "2022-09-10T09:05:00+08:00" }, { "MPSV-A", "2022-10-10T09:00:00+08:00" },
    { "DTaP", "2023-07-10T09:00:00+08:00" }, { "MMR", "2023-07-10T09:05:00+08:00" },
    { "HepA-L", "2023-07-10T09:10:00+08:00" },
  };
  GString *text = g_string_new ("{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":17,"
                                "\"entry\":[");

  for (guint i = 0; i < G_N_ELEMENTS (doses); i++)
    g_string_append_printf (text, "%s{\"fullUrl\":\"http://127.0.0.1/fhir/Immunization/im%u\","
                            "\"resource\":{\"resourceType\":\"Immunization\",\"id\":\"im%u\","
                            "\"meta\":{\"versionId\":\"1\",\"lastUpdated\":\"2023-07-10T01:10:00.000Z\"},"
                            "\"status\":\"completed\",\"vaccineCode\":{\"coding\":[{\"system\":\""
                            WZ_NIP_VACCINE_SYSTEM "\",\"code\":\"%s\"}]},\"patient\":{\"reference\":"
                            "\"Patient/child\"},\"occurrenceDateTime\":\"%s\",\"primarySource\":true,"
                            "\"lotNumber\":\"L%04u\",\"performer\":[{\"actor\":{\"reference\":"
                            "\"Practitioner/d1\"}}]},\"search\":{\"mode\":\"match\"}}",
                            i ? "," : "", i, i, doses[i][0], doses[i][1], 1000 + i);
  g_string_append (text, "]}");
  return g_string_free (text, FALSE);
}

int
main (int   argc,
      char *argv[])
{
  const char *data_dir = g_getenv ("WZ_DATA_DIR");
  g_autofree char *path = g_build_filename (data_dir ? data_dir : SOURCE_DATADIR, "clinical",
                                            "nip-schedule.json", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(WzNipSchedule) schedule = wz_nip_schedule_new_from_file (path, &error);
  g_autoptr(GTimeZone) tz = g_time_zone_new_identifier ("Asia/Shanghai");
  g_autofree char *bundle = history_bundle ();
  g_autofree gint64 *parse = g_new (gint64, ROUNDS);
  g_autofree gint64 *compute = g_new (gint64, ROUNDS);
  gsize length = strlen (bundle);
  WzDay birth, today;
  guint n_doses = 0;

  if (schedule == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  wz_day_parse ("2022-01-10", &birth);
  wz_day_parse ("2024-07-15", &today);

  for (guint i = 0; i < ROUNDS; i++)
    {
      g_autoptr(JsonParser) parser = json_parser_new_immutable ();
      g_autoptr(WzNipHistory) history = NULL;
      g_autoptr(WzNipForecast) forecast = NULL;
      g_autoptr(GBytes) fhir = NULL;
      gint64 parsed, done;

      {
        gint64 t0 = now_ns ();

        if (!json_parser_load_from_data (parser, bundle, length, NULL))
          return 1;
        parsed = now_ns ();
        history = wz_nip_history_from_json (schedule, json_parser_get_root (parser), tz);
        forecast = wz_nip_schedule_compute (schedule, birth, today,
                                            (WzNipDose *) history->doses->data,
                                            history->doses->len, NULL, NULL);
        fhir = wz_nip_forecast_to_fhir (schedule, forecast, "Patient/child",
                                        "2024-07-15T09:00:00+08:00", "zh");
        done = now_ns ();
        parse[i] = parsed - t0;
        compute[i] = done - parsed;
        n_doses = forecast->doses->len;
      }
    }

  g_print ("doses in the schedule: %u, history: 17 Immunizations (%" G_GSIZE_FORMAT " bytes), "
           "median of %d rounds\n", n_doses, length, ROUNDS);
  g_print ("baseline_history_parse_us %.1f us\n", median_us (parse));
  g_print ("nip_schedule_us %.1f us\n", median_us (compute));
  return 0;
}
