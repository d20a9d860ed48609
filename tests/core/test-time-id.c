/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "wz-error.h"
#include "wz-fhir.h"
#include "wz-id.h"
#include "wz-time.h"

static void
test_format_instant (void)
{
  g_autofree char *a = wz_time_format_instant (G_GINT64_CONSTANT (1714552200123456));
  g_autofree char *b = wz_time_format_instant (0);

  g_assert_cmpstr (a, ==, "2024-05-01T08:30:00.123Z");
  g_assert_cmpstr (b, ==, "1970-01-01T00:00:00.000Z");
}

static void
test_parse_instant (void)
{
  g_autoptr(GError) error = NULL;
  gint64 us = 0;

  g_assert_true (wz_time_parse_instant ("2024-05-01T16:30:00.123+08:00", &us, NULL));
  g_assert_cmpint (us, ==, G_GINT64_CONSTANT (1714552200123000));
  g_assert_false (wz_time_parse_instant ("2024-05-01T16:30:00", &us, &error));
  g_assert_error (error, WZ_ERROR, WZ_ERROR_INVALID);
  g_assert_false (wz_time_parse_instant ("2024-02-30T00:00:00Z", &us, NULL));
  g_assert_false (wz_time_parse_instant ("yesterday", &us, NULL));
}

static void
test_range (void)
{
  gint64 start, end;

  g_assert_true (wz_time_parse_range ("2024", &start, &end, NULL));
  g_assert_cmpint (end - start, ==, (gint64) 366 * 24 * 3600 * G_USEC_PER_SEC);
  g_assert_true (wz_time_parse_range ("2023-02", &start, &end, NULL));
  g_assert_cmpint (end - start, ==, (gint64) 28 * 24 * 3600 * G_USEC_PER_SEC);
  g_assert_true (wz_time_parse_range ("2023-12-31", &start, &end, NULL));
  g_assert_cmpint (end - start, ==, (gint64) 24 * 3600 * G_USEC_PER_SEC);
  g_assert_true (wz_time_parse_range ("2024-05-01T08:30:00Z", &start, &end, NULL));
  g_assert_cmpint (end - start, ==, G_USEC_PER_SEC);
  g_assert_false (wz_time_parse_range ("2024-13", &start, &end, NULL));
  g_assert_false (wz_time_parse_range ("", &start, &end, NULL));
}

static void
test_normalize (void)
{
  g_autofree char *a = wz_time_normalize_date ("2024-05-01T09:00:00+08:00");
  g_autofree char *b = wz_time_normalize_date ("2024-05");
  g_autofree char *c = wz_time_normalize_date ("May 2024");

  g_assert_cmpstr (a, ==, "2024-05-01T01:00:00.000Z");
  g_assert_cmpstr (b, ==, "2024-05");
  g_assert_null (c);
}

static void
test_age (void)
{
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (wz_age_years ("2020-06-15", "2026-06-14", NULL), ==, 5);
  g_assert_cmpint (wz_age_years ("2020-06-15", "2026-06-15", NULL), ==, 6);
  g_assert_cmpint (wz_age_years ("2000-02-29", "2001-02-28", NULL), ==, 0);
  g_assert_cmpint (wz_age_years ("2000-02-29", "2001-03-01", NULL), ==, 1);
  g_assert_cmpint (wz_age_years ("1938-12-05", "2024-12-04", NULL), ==, 85);
  g_assert_cmpint (wz_age_years ("2030-01-01", "2024-01-01", &error), ==, -1);
  g_assert_error (error, WZ_ERROR, WZ_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpint (wz_age_years ("1951-03", NULL, &error), ==, -1);
  g_assert_error (error, WZ_ERROR, WZ_ERROR_INVALID);
  g_assert_cmpint (wz_age_years ("1951-03-14", NULL, NULL), >=, 73);
}

static void
test_ids (void)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *hex = wz_id_new_hex (32);
  g_autofree char *urn = wz_id_new_urn_uuid ();

  for (guint i = 0; i < 1000; i++)
    {
      char *id = wz_id_new ();

      g_assert_cmpuint (strlen (id), ==, 26);
      g_assert_true (wz_fhir_id_is_valid (id));
      g_assert_false (g_hash_table_contains (seen, id));
      g_hash_table_add (seen, id);
    }

  g_assert_cmpuint (strlen (hex), ==, 64);
  for (const char *p = hex; *p; p++)
    g_assert_true (g_ascii_isxdigit (*p));
  g_assert_true (g_str_has_prefix (urn, "urn:uuid:"));
  g_assert_true (g_uuid_string_is_valid (urn + strlen ("urn:uuid:")));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/time/format-instant", test_format_instant);
  g_test_add_func ("/time/parse-instant", test_parse_instant);
  g_test_add_func ("/time/range", test_range);
  g_test_add_func ("/time/normalize", test_normalize);
  g_test_add_func ("/time/age-years", test_age);
  g_test_add_func ("/id/random", test_ids);

  return g_test_run ();
}
