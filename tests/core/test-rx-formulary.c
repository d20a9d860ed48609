/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>

#include "wz-formulary.h"

#define HEADER "code,generic_name_en,generic_name_zh,brand_name_zh,pinyin_initials,atc_code,form," \
  "strength,strength_unit,route,adult_usual_daily_dose,adult_max_daily_dose,dose_unit," \
  "child_usual_mg_per_kg_day,child_max_mg_per_kg_day,min_age_years,controlled_class,pregnancy," \
  "lactation,renal_adjust,allergy_class,chronic\r\n"
#define AMLODIPINE "WZ0001,amlodipine,氨氯地平,络活喜,aldp,C08CA01,tablet,5,mg,oral,5,10,mg,,,18," \
  "none,caution,caution,no,,yes\r\n"
#define METFORMIN "WZ0067,metformin hydrochloride,二甲双胍,格华止,ejsg,A10BA02,tablet,500,mg,oral," \
  "1500,2550,mg,,,10,none,caution,caution,yes,,yes\r\n"

static WzFormulary *
load_shipped (void)
{
  g_autofree char *dir = g_build_filename (g_getenv ("WZ_DATA_DIR"), "clinical", NULL);
  WzFormulary *formulary = wz_formulary_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (wz_formulary_load_directory (formulary, dir, &error));
  g_assert_no_error (error);
  return formulary;
}

static void
test_shipped_tables (void)
{
  g_autoptr(WzFormulary) formulary = load_shipped ();
  const WzDrug *drug;
  gboolean chronic = FALSE;

  /* Counts as the data README states them. */
  g_assert_cmpuint (wz_formulary_get_n_drugs (formulary), ==, 333);
  g_assert_cmpuint (wz_formulary_get_n_interactions (formulary), ==, 211);
  g_assert_cmpuint (wz_formulary_get_n_allergy_classes (formulary), ==, 28);

  drug = wz_formulary_lookup (formulary, "WZ0169");
  g_assert_nonnull (drug);
  g_assert_cmpstr (drug->generic_name_zh, ==, "阿莫西林");
  g_assert_cmpstr (drug->atc_code, ==, "J01CA04");
  g_assert_cmpfloat (drug->child_max_mg_per_kg_day, ==, 90);
  g_assert_true (isnan (wz_formulary_lookup (formulary, "WZ0001")->child_max_mg_per_kg_day));
  /* Amoxicillin is a penicillin and in the aminobenzyl side-chain group. */
  g_assert_cmpuint (drug->class_mask, ==,
                    (G_GUINT64_CONSTANT (1) << wz_formulary_find_allergy_class (formulary, "penicillin")) |
                    (G_GUINT64_CONSTANT (1) << wz_formulary_find_allergy_class (formulary, "aminobenzyl_r1")));
  g_assert_cmpint (wz_formulary_lookup (formulary, "WZ0150")->controlled_class, ==,
                   WZ_CONTROLLED_NARCOTIC);

  g_assert_true (wz_formulary_icd10_is_chronic (formulary, "I10", &chronic));
  g_assert_true (chronic);
  /* A code below a listed category takes the category's flag. */
  g_assert_true (wz_formulary_icd10_is_chronic (formulary, "E11.21", &chronic));
  g_assert_true (chronic);
  g_assert_false (wz_formulary_icd10_is_chronic (formulary, "XYZ", &chronic));
}

static void
test_csv_quoting (void)
{
  const char data[] = "\xEF\xBB\xBF" "a,b,c\r\n"
                      "\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n"
                      "\r\n"
                      "1,,3\n";
  g_autoptr(GArray) lines = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) records = wz_csv_parse (data, strlen (data), &lines, &error);
  GStrv row;

  g_assert_no_error (error);
  g_assert_cmpuint (records->len, ==, 3);
  row = g_ptr_array_index (records, 1);
  g_assert_cmpstr (row[0], ==, "x, y");
  g_assert_cmpstr (row[1], ==, "say \"hi\"");
  g_assert_cmpstr (row[2], ==, "two\nlines");
  row = g_ptr_array_index (records, 2);
  g_assert_cmpstr (row[1], ==, "");
  g_assert_cmpuint (g_strv_length (row), ==, 3);
  /* The record after a quoted line break starts two lines further on, after the blank one. */
  g_assert_cmpuint (g_array_index (lines, guint, 2), ==, 5);
}

/* Loads DATA into a formulary that already holds amlodipine, expects failure mentioning every
 * string of EXPECTED, and checks the formulary was left as it was. */
static void
assert_rejected (const char        *data,
                 const char *const *expected)
{
  g_autoptr(WzFormulary) formulary = wz_formulary_new ();
  g_autoptr(GError) error = NULL;
  const char good[] = HEADER AMLODIPINE;

  g_assert_true (wz_formulary_load_drugs (formulary, good, strlen (good), &error));
  g_assert_no_error (error);

  g_assert_false (wz_formulary_load_drugs (formulary, data, strlen (data), &error));
  g_assert_nonnull (error);
  g_assert_true (error->domain == WZ_FORMULARY_ERROR);
  for (guint i = 0; expected[i] != NULL; i++)
    if (strstr (error->message, expected[i]) == NULL)
      g_error ("“%s” not in the error: %s", expected[i], error->message);

  /* Nothing half-imported. */
  g_assert_cmpuint (wz_formulary_get_n_drugs (formulary), ==, 1);
  g_assert_nonnull (wz_formulary_lookup (formulary, "WZ0001"));
  g_assert_null (wz_formulary_lookup (formulary, "WZ0067"));
}

static void
test_bad_quote (void)
{
  const char *expected[] = { "line 3, column generic_name_en", "quote inside an unquoted", NULL };
  const char *after[] = { "line 2, column generic_name_en", "after the closing quote", NULL };
  const char *open[] = { "line 3", "never closed", NULL };

  assert_rejected (HEADER METFORMIN "WZ0002,amlo\"dipine,x,y,z,C08CA01,tablet,5,mg,oral,5,10,"
                   "mg,,,18,none,caution,caution,no,,yes\r\n", expected);
  assert_rejected (HEADER "WZ0067,\"metformin\"x,二甲双胍,,ejsg,A10BA02,tablet,500,mg,oral,"
                   "1500,2550,mg,,,10,none,caution,caution,yes,,yes\r\n", after);
  assert_rejected (HEADER METFORMIN "WZ0002,\"amlodipine,x\r\n", open);
}

static void
test_wrong_column_count (void)
{
  const char *expected[] = { "line 3: 21 columns instead of 22", NULL };

  assert_rejected (HEADER METFORMIN "WZ0002,amlodipine,氨氯地平,络活喜,aldp,C08CA01,tablet,5,mg,"
                   "oral,5,10,mg,,,18,none,caution,caution,no,yes\r\n", expected);
}

static void
test_bad_enum_and_number (void)
{
  const char *expected[] = {
    "line 2, column form: “pill” is not one of tablet",
    "line 3, column strength: “5mg” is not a decimal number",
    "line 4, column atc_code: “C8CA01” is not an ATC code",
    "line 5, column pregnancy: “maybe”",
    "line 6, column code: “WZ0067” is used by line 5 already",
    "5 problems",
    NULL
  };

  assert_rejected (HEADER
                   "WZ0010,a,甲,,j,C08CA01,pill,5,mg,oral,5,10,mg,,,18,none,safe,safe,no,,yes\r\n"
                   "WZ0011,b,乙,,y,C08CA01,tablet,5mg,mg,oral,5,10,mg,,,18,none,safe,safe,no,,yes\r\n"
                   "WZ0012,c,丙,,b,C8CA01,tablet,5,mg,oral,5,10,mg,,,18,none,safe,safe,no,,yes\r\n"
                   "WZ0067,d,丁,,d,C08CA01,tablet,5,mg,oral,5,10,mg,,,18,none,maybe,safe,no,,yes\r\n"
                   "WZ0067,e,戊,,w,C08CA01,tablet,5,mg,oral,5,10,mg,,,18,none,safe,safe,no,,yes\r\n",
                   expected);
}

static void
test_dose_consistency (void)
{
  const char *usual[] = { "line 2, column adult_usual_daily_dose: the usual dose 20 is above the maximum 10", NULL };
  const char *per_kg[] = { "line 2, column child_usual_mg_per_kg_day: per-kg doses need a mass dose_unit", NULL };
  const char *pairs[] = { "line 2, column child_max_mg_per_kg_day: the usual and maximum per-kg doses go together", NULL };

  assert_rejected (HEADER "WZ0002,a,甲,,j,C08CA01,tablet,5,mg,oral,20,10,mg,,,18,none,safe,safe,"
                   "no,,yes\r\n", usual);
  assert_rejected (HEADER "WZ0002,a,甲,,j,C08CA01,tablet,5,mg,oral,1,2,tablet,10,20,1,none,safe,"
                   "safe,no,,yes\r\n", per_kg);
  assert_rejected (HEADER "WZ0002,a,甲,,j,C08CA01,tablet,5,mg,oral,1,2,mg,10,,1,none,safe,"
                   "safe,no,,yes\r\n", pairs);
}

static void
test_invalid_utf8 (void)
{
  const char *expected[] = { "line 3", "not valid UTF-8", NULL };

  assert_rejected (HEADER METFORMIN "WZ0002,amlodipine,\xB0\xB1,,aldp,C08CA01,tablet,5,mg,oral,5,"
                   "10,mg,,,18,none,caution,caution,no,,yes\r\n", expected);
}

static void
test_bad_header (void)
{
  const char *expected[] = { "line 1 must be the header", NULL };

  assert_rejected ("code,name\r\nWZ0002,x\r\n", expected);
}

static void
test_unknown_allergy_class (void)
{
  g_autoptr(WzFormulary) formulary = load_shipped ();
  g_autoptr(GError) error = NULL;
  const char data[] = HEADER "WZ0002,a,甲,,j,J01CA04,tablet,5,mg,oral,5,10,mg,,,18,none,safe,safe,"
                      "no,penicilin,no\r\n";

  g_assert_false (wz_formulary_load_drugs (formulary, data, strlen (data), &error));
  g_assert_nonnull (strstr (error->message, "column allergy_class: “penicilin” is not a class"));
  g_assert_cmpuint (wz_formulary_get_n_drugs (formulary), ==, 333);
}

static const char *
first_code (WzFormulary *formulary,
            const char  *query,
            guint       *out_total)
{
  g_autoptr(GArray) hits = wz_formulary_search (formulary, query, 20, out_total);

  if (hits->len == 0)
    return NULL;
  return g_array_index (hits, WzFormularyHit, 0).drug->code;
}

static void
test_search (void)
{
  g_autoptr(WzFormulary) formulary = load_shipped ();
  g_autoptr(GArray) hits = NULL;
  guint total = 0;

  /* Pinyin initials, Chinese, English (any case), brand, ATC prefix, product code. */
  g_assert_cmpstr (first_code (formulary, "aldp", &total), ==, "WZ0001");
  g_assert_cmpstr (first_code (formulary, "氨氯地平", &total), ==, "WZ0001");
  g_assert_cmpstr (first_code (formulary, "AMLODIPINE", &total), ==, "WZ0001");
  g_assert_cmpstr (first_code (formulary, "络活喜", &total), ==, "WZ0001");
  g_assert_cmpstr (first_code (formulary, "wz0169", &total), ==, "WZ0169");
  g_assert_cmpuint (total, ==, 1);

  /* An exact name ranks before names that only start with it: 阿莫西林 before 阿莫西林克拉维酸钾. */
  hits = wz_formulary_search (formulary, "阿莫西林", 20, &total);
  g_assert_cmpuint (total, ==, 4);
  g_assert_cmpstr (g_array_index (hits, WzFormularyHit, 0).drug->generic_name_zh, ==, "阿莫西林");
  g_assert_cmpstr (g_array_index (hits, WzFormularyHit, 3).drug->generic_name_zh, ==,
                   "阿莫西林克拉维酸钾");
  g_clear_pointer (&hits, g_array_unref);

  /* ATC prefix: every calcium-channel blocker of C08, and the limit holds with the total. */
  hits = wz_formulary_search (formulary, "C08", 3, &total);
  g_assert_cmpuint (hits->len, ==, 3);
  g_assert_cmpuint (total, >, 3);
  for (guint i = 0; i < hits->len; i++)
    g_assert_true (g_str_has_prefix (g_array_index (hits, WzFormularyHit, i).drug->atc_code, "C08"));
  g_clear_pointer (&hits, g_array_unref);

  /* A substring in the middle still matches, ranked after prefixes ("地平" in 氨氯地平). */
  hits = wz_formulary_search (formulary, "地平", 50, &total);
  g_assert_cmpuint (total, >=, 4);
  for (guint i = 0; i < hits->len; i++)
    g_assert_nonnull (strstr (g_array_index (hits, WzFormularyHit, i).drug->generic_name_zh, "地平"));
  g_clear_pointer (&hits, g_array_unref);

  hits = wz_formulary_search (formulary, "  ", 20, &total);
  g_assert_cmpuint (hits->len, ==, 0);
  g_assert_cmpuint (total, ==, 0);
  g_clear_pointer (&hits, g_array_unref);

  g_assert_null (first_code (formulary, "zzzzqqq", &total));
  g_assert_cmpuint (total, ==, 0);
}

static void
test_interaction_specificity (void)
{
  g_autoptr(WzFormulary) formulary = wz_formulary_new ();
  g_autoptr(GError) error = NULL;
  const char drugs[] = HEADER
    "D1,simvastatin,辛伐他汀,,xftt,C10AA01,tablet,20,mg,oral,20,40,mg,,,10,none,contraindicated,"
    "contraindicated,no,,yes\r\n"
    "D2,atorvastatin,阿托伐他汀,,atftt,C10AA05,tablet,20,mg,oral,20,80,mg,,,10,none,"
    "contraindicated,contraindicated,no,,yes\r\n"
    "D3,gemfibrozil,吉非罗齐,,jfll,C10AB04,capsule,300,mg,oral,1200,1200,mg,,,18,none,avoid,"
    "avoid,yes,,yes\r\n";
  const char interactions[] = "a_atc,b_atc,severity,mechanism_en,advice_en,advice_zh,source\r\n"
    "C10AA,C10AB04,major,Myopathy risk.,Avoid.,避免。,label\r\n"
    "C10AB04,C10AA01,contraindicated,Rhabdomyolysis.,Do not combine.,禁止合用。,label\r\n";
  const char duplicate[] = "a_atc,b_atc,severity,mechanism_en,advice_en,advice_zh,source\r\n"
    "C10AA,C10AB04,major,Myopathy risk.,Avoid.,避免。,label\r\n"
    "C10AB04,C10AA,moderate,Again.,Again.,再次。,label\r\n";
  const WzInteraction *row;

  g_assert_true (wz_formulary_load_drugs (formulary, drugs, strlen (drugs), &error));
  g_assert_true (wz_formulary_load_interactions (formulary, interactions, strlen (interactions),
                                                 &error));
  g_assert_no_error (error);

  /* Most severe wins, in either order of the pair. */
  row = wz_formulary_interaction (formulary, wz_formulary_lookup (formulary, "D1"), "C10AB04");
  g_assert_cmpint (row->severity, ==, WZ_INTERACTION_CONTRAINDICATED);
  row = wz_formulary_interaction (formulary, wz_formulary_lookup (formulary, "D3"), "C10AA01");
  g_assert_cmpint (row->severity, ==, WZ_INTERACTION_CONTRAINDICATED);
  row = wz_formulary_interaction (formulary, wz_formulary_lookup (formulary, "D2"), "C10AB04");
  g_assert_cmpint (row->severity, ==, WZ_INTERACTION_MAJOR);
  g_assert_null (wz_formulary_interaction (formulary, wz_formulary_lookup (formulary, "D1"),
                                           "C10AA05"));

  g_assert_false (wz_formulary_load_interactions (formulary, duplicate, strlen (duplicate),
                                                  &error));
  g_assert_nonnull (strstr (error->message, "line 3: the pair C10AB04–C10AA appears twice"));
  g_assert_cmpuint (wz_formulary_get_n_interactions (formulary), ==, 2);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/rx/formulary/shipped-tables", test_shipped_tables);
  g_test_add_func ("/rx/formulary/csv-quoting", test_csv_quoting);
  g_test_add_func ("/rx/formulary/bad-quote", test_bad_quote);
  g_test_add_func ("/rx/formulary/wrong-column-count", test_wrong_column_count);
  g_test_add_func ("/rx/formulary/bad-enum-and-number", test_bad_enum_and_number);
  g_test_add_func ("/rx/formulary/dose-consistency", test_dose_consistency);
  g_test_add_func ("/rx/formulary/invalid-utf8", test_invalid_utf8);
  g_test_add_func ("/rx/formulary/bad-header", test_bad_header);
  g_test_add_func ("/rx/formulary/unknown-allergy-class", test_unknown_allergy_class);
  g_test_add_func ("/rx/formulary/search", test_search);
  g_test_add_func ("/rx/formulary/interaction-specificity", test_interaction_specificity);

  return g_test_run ();
}
