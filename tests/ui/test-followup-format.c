/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <locale.h>

#include "wz-followup-format.h"
#include "wz-vaccination-print.h"

/* How the follow-up pages word dates, due dates, units and targets (English, C locale). */

static void
test_due (void)
{
  struct { const char *due, *end, *today, *expected; } cases[] = {
    { "2026-11-25", "2026-12-02", "2026-11-25", "Due today" },
    { "2026-11-26", NULL, "2026-11-25", "Due tomorrow" },
    { "2026-11-28", NULL, "2026-11-25", "Due in 3 days" },
    { "2026-11-20", "2026-11-27", "2026-11-25", "Due now" },
    { "2026-11-10", "2026-11-17", "2026-11-25", "8 days overdue" },
    { "2026-11-24", NULL, "2026-11-25", "1 day overdue" },
    /* Across a leap day and a year end. */
    { "2028-02-28", "2028-02-28", "2028-03-01", "2 days overdue" },
    { "2027-01-01", NULL, "2026-12-31", "Due tomorrow" },
    { "2027-03-01", NULL, "2026-11-25", "Due 1 Mar 2027" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = wz_followup_format_due (cases[i].due, cases[i].end, cases[i].today);

      g_assert_cmpstr (text, ==, cases[i].expected);
    }
  g_assert_cmpint (wz_followup_days_between ("2024-02-28", "2024-03-01"), ==, 2);
  g_assert_cmpint (wz_followup_days_between ("not a date", "2024-03-01"), ==, 0);
}

static void
test_target (void)
{
  struct { const char *json, *unit, *expected; } cases[] = {
    { "{\"high\":130}", "mm[Hg]", "target below 130 mmHg" },
    { "{\"low\":4.4,\"high\":7}", "mmol/L", "target 4.4–7 mmol/L" },
    { "{\"low\":55,\"high\":100}", "/min", "target 55–100 /min" },
    { "{\"high\":37.3,\"highInclusive\":true}", "Cel", "target at most 37.3 °C" },
    { "{\"low\":6.5}", "%", "target at least 6.5 %" },
    { "{}", "kg", "" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(JsonNode) node = json_from_string (cases[i].json, NULL);
      g_autofree char *text = wz_followup_format_target (json_node_get_object (node), cases[i].unit);

      g_assert_cmpstr (text, ==, cases[i].expected);
    }
}

static void
test_text (void)
{
  g_autoptr(JsonNode) node = json_from_string ("{\"text\":\"Hepatitis B vaccine\",\"_text\":{\"extension\":"
                                               "[{\"url\":\"http://hl7.org/fhir/StructureDefinition/translation\","
                                               "\"extension\":[{\"url\":\"lang\",\"valueCode\":\"zh\"},"
                                               "{\"url\":\"content\",\"valueString\":\"乙型肝炎疫苗\"}]}]}}",
                                               NULL);

  /* The C locale reads English; the translation stays for a Chinese reader. */
  g_assert_cmpstr (wz_followup_text (json_node_get_object (node), "text"), ==, "Hepatitis B vaccine");
  g_assert_cmpstr (wz_followup_kind_label ("revisit"), ==, "Revisit");
  g_assert_cmpstr (wz_followup_kind_label ("something-else"), ==, "Follow-up");
}

/* More doses than one A4 page holds go on to a second page. */
static void
test_print_pages (void)
{
  g_autoptr(WzVaccinationPrintData) data = wz_vaccination_print_data_new ();

  g_assert_cmpint (wz_vaccination_print_n_pages (data), ==, 1);
  for (guint i = 0; i < 25; i++)
    wz_vaccination_print_data_add_row (data, "MMR", "1 / 2", "Given", "2023-08-15", "L1", NULL, TRUE);
  g_assert_cmpint (wz_vaccination_print_n_pages (data), ==, 1);
  for (guint i = 0; i < 25; i++)
    wz_vaccination_print_data_add_row (data, "MMR", "2 / 2", "Due", "2026-12-23", NULL, NULL, FALSE);
  g_assert_cmpint (wz_vaccination_print_n_pages (data), ==, 2);
}

int
main (int   argc,
      char *argv[])
{
  setlocale (LC_ALL, "C");
  g_setenv ("LANGUAGE", "C", TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/followup-format/due", test_due);
  g_test_add_func ("/followup-format/target", test_target);
  g_test_add_func ("/followup-format/text", test_text);
  g_test_add_func ("/followup-format/print-pages", test_print_pages);
  return g_test_run ();
}
