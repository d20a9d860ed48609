/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-formulary"

#include "config.h"

#include "wz-formulary.h"

#include <math.h>
#include <string.h>

/* Each validation run reports at most this many bad rows in full; a file with a systematic
 * problem (wrong separator) would otherwise produce thousands of lines. */
#define MAX_REPORTED_ERRORS 50

G_DEFINE_QUARK (wz-formulary-error-quark, wz_formulary_error)

const char *const wz_formulary_columns[] = {
  "code", "generic_name_en", "generic_name_zh", "brand_name_zh", "pinyin_initials", "atc_code",
  "form", "strength", "strength_unit", "route", "adult_usual_daily_dose", "adult_max_daily_dose",
  "dose_unit", "child_usual_mg_per_kg_day", "child_max_mg_per_kg_day", "min_age_years",
  "controlled_class", "pregnancy", "lactation", "renal_adjust", "allergy_class", "chronic", NULL
};

enum
{
  COL_CODE, COL_NAME_EN, COL_NAME_ZH, COL_BRAND_ZH, COL_PINYIN, COL_ATC, COL_FORM, COL_STRENGTH,
  COL_STRENGTH_UNIT, COL_ROUTE, COL_ADULT_USUAL, COL_ADULT_MAX, COL_DOSE_UNIT, COL_CHILD_USUAL,
  COL_CHILD_MAX, COL_MIN_AGE, COL_CONTROLLED, COL_PREGNANCY, COL_LACTATION, COL_RENAL,
  COL_ALLERGY, COL_CHRONIC, N_COLUMNS
};

static const char *const forms[] = {
  "tablet", "tablet_sr", "tablet_ec", "tablet_chewable", "tablet_effervescent",
  "tablet_sublingual", "tablet_vaginal", "capsule", "capsule_sr", "granules", "powder",
  "dry_suspension", "oral_solution", "oral_suspension", "syrup", "drops_oral", "pills",
  "injection", "inhaler_mdi", "inhaler_dpi", "nebuliser_suspension", "nasal_spray", "nasal_drops",
  "eye_drops", "eye_ointment", "cream", "ointment", "gel", "patch", "cataplasm", NULL
};
static const char *const strength_units[] = {
  "mg", "ug", "g", "IU", "MBq", "mL", "%", "mg/mL", "IU/mL", "ug/dose", NULL
};
static const char *const routes[] = {
  "oral", "sublingual", "iv", "im", "sc", "topical", "transdermal", "inhaled", "nasal",
  "ophthalmic", "vaginal", NULL
};
static const char *const dose_units[] = {
  "mg", "ug", "g", "IU", "MBq", "mL", "tablet", "capsule", "pill", "inhalation", "application",
  NULL
};
static const char *const controlled_classes[] = {
  "none", "narcotic", "psychotropic_1", "psychotropic_2", "toxic", "radioactive", "precursor", NULL
};
static const char *const use_flags[] = {
  "safe", "caution", "avoid", "contraindicated", "unknown", NULL
};
static const char *const renal_values[] = { "no", "yes", "unknown", NULL };
static const char *const yes_no[] = { "no", "yes", NULL };
static const char *const interaction_severities[] = {
  "minor", "moderate", "major", "contraindicated", NULL
};
static const char *const cross_severities[] = { "", "low", "moderate", "high", NULL };

#define N_SEARCH_FIELDS 6

/* One product in the search text: where its folded fields (zh name, pinyin, brand, en name, ATC,
 * code) start in the shared buffer, and where the entry ends. */
typedef struct
{
  const WzDrug *drug;
  guint32       field_start[N_SEARCH_FIELDS];
  guint32       end;
} SearchEntry;

/* Field weights in the ranking, in the order of SearchEntry.field_start. */
static const guint field_weights[N_SEARCH_FIELDS] = { 6, 5, 4, 3, 2, 1 };

struct _WzFormulary
{
  GObject     parent_instance;

  GPtrArray  *drugs;          /* WzDrug */
  GHashTable *by_code;        /* code → WzDrug */
  GHashTable *by_name;        /* folded name → GPtrArray of WzDrug */
  GArray     *search;         /* SearchEntry */
  /* Every product's folded fields in one string, fields ended by \x01 and products by \n, so a
   * search is one pass of strstr over contiguous memory instead of one call per product. */
  GString    *search_text;
  GPtrArray  *interactions;   /* WzInteraction */
  GPtrArray  *classes;        /* WzAllergyClass */
  guint8      cross[WZ_FORMULARY_MAX_ALLERGY_CLASSES][WZ_FORMULARY_MAX_ALLERGY_CLASSES];
  GHashTable *icd10;          /* code → GINT_TO_POINTER (chronic + 1) */
};

G_DEFINE_FINAL_TYPE (WzFormulary, wz_formulary, G_TYPE_OBJECT)

/* --- CSV ---------------------------------------------------------------------------------- */

typedef struct
{
  const char *p;
  const char *end;
  guint       line;
} Cursor;

static void
set_csv_error (GError     **error,
               guint        line,
               GStrv        header,
               guint        field,
               const char  *problem)
{
  if (header != NULL && field < g_strv_length (header))
    g_set_error (error, WZ_FORMULARY_ERROR, WZ_FORMULARY_ERROR_PARSE, "line %u, column %s: %s",
                 line, header[field], problem);
  else
    g_set_error (error, WZ_FORMULARY_ERROR, WZ_FORMULARY_ERROR_PARSE, "line %u, field %u: %s",
                 line, field + 1, problem);
}

GPtrArray *
wz_csv_parse (const char  *data,
              gsize        length,
              GArray     **out_lines,
              GError     **error)
{
  g_autoptr(GPtrArray) records = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  g_autoptr(GArray) lines = g_array_new (FALSE, FALSE, sizeof (guint));
  const char *bad = NULL;
  Cursor c;

  if (!g_utf8_validate_len (data, length, &bad))
    {
      guint line = 1;

      for (const char *p = data; p < bad; p++)
        if (*p == '\n')
          line++;
      g_set_error (error, WZ_FORMULARY_ERROR, WZ_FORMULARY_ERROR_PARSE,
                   "line %u: the text is not valid UTF-8 (byte 0x%02x); save the file as UTF-8",
                   line, (guint) (guchar) *bad);
      return NULL;
    }

  c.p = data;
  c.end = data + length;
  c.line = 1;
  if (length >= 3 && memcmp (data, "\xEF\xBB\xBF", 3) == 0)
    c.p += 3;

  while (c.p < c.end)
    {
      g_autoptr(GStrvBuilder) fields = g_strv_builder_new ();
      guint start_line = c.line;
      guint n_fields = 0;
      gboolean end_of_record = FALSE;
      GStrv header = records->len > 0 ? g_ptr_array_index (records, 0) : NULL;

      /* A completely empty line carries no record (editors leave them at the end). */
      if (*c.p == '\n' || (*c.p == '\r' && c.p + 1 < c.end && c.p[1] == '\n'))
        {
          c.p += *c.p == '\r' ? 2 : 1;
          c.line++;
          continue;
        }

      while (!end_of_record)
        {
          g_autoptr(GString) field = g_string_new (NULL);

          if (c.p < c.end && *c.p == '"')
            {
              guint quote_line = c.line;

              c.p++;
              for (;;)
                {
                  if (c.p >= c.end)
                    {
                      set_csv_error (error, quote_line, header, n_fields,
                                     "the quoted field is never closed (a '\"' is missing)");
                      return NULL;
                    }
                  if (*c.p == '"')
                    {
                      if (c.p + 1 < c.end && c.p[1] == '"')
                        {
                          g_string_append_c (field, '"');
                          c.p += 2;
                          continue;
                        }
                      c.p++;
                      break;
                    }
                  if (*c.p == '\n')
                    c.line++;
                  g_string_append_c (field, *c.p++);
                }
              if (c.p < c.end && *c.p != ',' && *c.p != '\n' &&
                  !(*c.p == '\r' && c.p + 1 < c.end && c.p[1] == '\n'))
                {
                  set_csv_error (error, c.line, header, n_fields,
                                 "text after the closing quote; a quote inside a quoted field "
                                 "must be doubled (\"\")");
                  return NULL;
                }
            }
          else
            {
              while (c.p < c.end && *c.p != ',' && *c.p != '\n')
                {
                  if (*c.p == '"')
                    {
                      set_csv_error (error, c.line, header, n_fields,
                                     "a quote inside an unquoted field; quote the whole field "
                                     "and double the quote");
                      return NULL;
                    }
                  if (*c.p == '\r')
                    {
                      if (c.p + 1 < c.end && c.p[1] == '\n')
                        break;
                      set_csv_error (error, c.line, header, n_fields,
                                     "a carriage return that does not end the line");
                      return NULL;
                    }
                  g_string_append_c (field, *c.p++);
                }
            }

          g_strv_builder_add (fields, field->str);
          n_fields++;

          if (c.p >= c.end)
            end_of_record = TRUE;
          else if (*c.p == ',')
            c.p++;
          else
            {
              c.p += *c.p == '\r' ? 2 : 1;
              c.line++;
              end_of_record = TRUE;
            }
        }

      g_ptr_array_add (records, g_strv_builder_end (fields));
      g_array_append_val (lines, start_line);
    }

  if (out_lines != NULL)
    *out_lines = g_steal_pointer (&lines);
  return g_steal_pointer (&records);
}

/* --- validation helpers --------------------------------------------------------------------- */

typedef struct
{
  GString *text;
  guint    n_errors;
  guint    line;
  GStrv    header;
} Problems;

static void
problem (Problems   *problems,
         guint       column,
         const char *format,
         ...) G_GNUC_PRINTF (3, 4);

static void
problem (Problems   *problems,
         guint       column,
         const char *format,
         ...)
{
  va_list args;

  problems->n_errors++;
  if (problems->n_errors > MAX_REPORTED_ERRORS)
    return;

  if (problems->text->len > 0)
    g_string_append_c (problems->text, '\n');
  if (column != G_MAXUINT)
    g_string_append_printf (problems->text, "line %u, column %s: ", problems->line,
                            problems->header[column]);
  else
    g_string_append_printf (problems->text, "line %u: ", problems->line);
  va_start (args, format);
  g_string_append_vprintf (problems->text, format, args);
  va_end (args);
}

static gboolean
problems_report (Problems     *problems,
                 const char   *file,
                 GError      **error)
{
  if (problems->n_errors == 0)
    return TRUE;

  if (problems->n_errors > MAX_REPORTED_ERRORS)
    g_string_append_printf (problems->text, "\n… and %u more problems",
                            problems->n_errors - MAX_REPORTED_ERRORS);
  g_set_error (error, WZ_FORMULARY_ERROR, WZ_FORMULARY_ERROR_INVALID,
               "%s: %u problem%s, nothing was loaded:\n%s", file, problems->n_errors,
               problems->n_errors == 1 ? "" : "s", problems->text->str);
  return FALSE;
}

static int
enum_index (const char *const *values,
            const char        *value)
{
  for (int i = 0; values[i] != NULL; i++)
    if (strcmp (values[i], value) == 0)
      return i;
  return -1;
}

static char *
enum_list (const char *const *values)
{
  g_autoptr(GString) text = g_string_new (NULL);

  for (guint i = 0; values[i] != NULL; i++)
    {
      if (*values[i] == '\0')
        continue;
      if (text->len > 0)
        g_string_append (text, ", ");
      g_string_append (text, values[i]);
    }
  return g_string_free (g_steal_pointer (&text), FALSE);
}

static int
check_enum (Problems          *problems,
            GStrv              row,
            guint              column,
            const char *const *values)
{
  int index = enum_index (values, row[column]);

  if (index < 0)
    {
      g_autofree char *allowed = enum_list (values);

      problem (problems, column, "“%s” is not one of %s", row[column], allowed);
    }
  return index;
}

/* A plain decimal as the README writes them: digits, optionally a point and more digits. */
static gboolean
parse_decimal (const char *text,
               double     *out_value)
{
  const char *p = text;
  gboolean digits = FALSE;

  while (g_ascii_isdigit (*p))
    p++, digits = TRUE;
  if (*p == '.')
    {
      p++;
      if (!g_ascii_isdigit (*p))
        return FALSE;
      while (g_ascii_isdigit (*p))
        p++;
    }
  if (*p != '\0' || !digits)
    return FALSE;

  *out_value = g_ascii_strtod (text, NULL);
  return isfinite (*out_value);
}

static double
check_number (Problems *problems,
              GStrv     row,
              guint     column,
              gboolean  optional,
              gboolean  positive)
{
  double value = NAN;

  if (*row[column] == '\0')
    {
      if (!optional)
        problem (problems, column, "a number is required");
      return NAN;
    }
  if (!parse_decimal (row[column], &value))
    {
      problem (problems, column, "“%s” is not a decimal number (digits, optionally a point)",
               row[column]);
      return NAN;
    }
  if (positive && value <= 0)
    problem (problems, column, "must be greater than zero");
  return value;
}

static gboolean
is_atc_code (const char *text)
{
  gsize n = strlen (text);

  /* ^[A-Z]\d\d[A-Z]{2}(\d\d)?$ */
  if (n != 5 && n != 7)
    return FALSE;
  return g_ascii_isupper (text[0]) && g_ascii_isdigit (text[1]) && g_ascii_isdigit (text[2]) &&
         g_ascii_isupper (text[3]) && g_ascii_isupper (text[4]) &&
         (n == 5 || (g_ascii_isdigit (text[5]) && g_ascii_isdigit (text[6])));
}

/* An ATC code or the prefix of one (level 1 to 5): A, A10, A10B, A10BA, A10BA02. */
static gboolean
is_atc_prefix (const char *text)
{
  static const char pattern[] = "A00AA00";
  gsize n = strlen (text);

  if (n == 0 || n > 7 || n == 2 || n == 6)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (pattern[i] == 'A' ? !g_ascii_isupper (text[i]) : !g_ascii_isdigit (text[i]))
      return FALSE;
  return TRUE;
}

static gboolean
is_text_id (const char *text,
            gboolean    allow_upper)
{
  if (*text == '\0' || strlen (text) > 64)
    return FALSE;
  for (const char *p = text; *p; p++)
    if (!(g_ascii_islower (*p) || g_ascii_isdigit (*p) || *p == '_' || *p == '-' || *p == '.' ||
          (allow_upper && g_ascii_isupper (*p))))
      return FALSE;
  return TRUE;
}

static gboolean
check_header (GPtrArray          *records,
              const char *const  *expected,
              const char         *file,
              GError            **error)
{
  g_autofree char *wanted = NULL;
  g_autofree char *got = NULL;
  GStrv header;

  if (records->len == 0)
    {
      g_set_error (error, WZ_FORMULARY_ERROR, WZ_FORMULARY_ERROR_INVALID,
                   "%s: the file is empty; expected a header line and rows", file);
      return FALSE;
    }

  header = g_ptr_array_index (records, 0);
  if (g_strv_equal ((const char * const *) header, (const char * const *) expected))
    return TRUE;

  wanted = g_strjoinv (",", (char **) expected);
  got = g_strjoinv (",", header);
  g_set_error (error, WZ_FORMULARY_ERROR, WZ_FORMULARY_ERROR_INVALID,
               "%s: line 1 must be the header “%s”, not “%s”", file, wanted, got);
  return FALSE;
}

static char **
split_list (const char *text)
{
  g_auto(GStrv) parts = NULL;
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  if (*text == '\0')
    return g_strv_builder_end (g_steal_pointer (&builder));

  parts = g_strsplit (text, ";", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    g_strv_builder_add (builder, g_strstrip (parts[i]));
  return g_strv_builder_end (builder);
}

gboolean
wz_unit_is_mass (const char *unit)
{
  return g_strcmp0 (unit, "mg") == 0 || g_strcmp0 (unit, "ug") == 0 || g_strcmp0 (unit, "g") == 0;
}

/* --- drugs ---------------------------------------------------------------------------------- */

void
wz_drug_free (WzDrug *drug)
{
  if (drug == NULL)
    return;

  g_free (drug->code);
  g_free (drug->generic_name_en);
  g_free (drug->generic_name_zh);
  g_free (drug->brand_name_zh);
  g_free (drug->pinyin_initials);
  g_free (drug->atc_code);
  g_free (drug->form);
  g_free (drug->strength_unit);
  g_free (drug->route);
  g_free (drug->dose_unit);
  g_strfreev (drug->allergy_classes);
  g_clear_pointer (&drug->interactions, g_ptr_array_unref);
  g_free (drug);
}

static WzDrug *
parse_drug_row (WzFormulary *self,
                Problems    *problems,
                GStrv        row,
                GHashTable  *seen_codes)
{
  g_autoptr(WzDrug) drug = g_new0 (WzDrug, 1);
  guint before = problems->n_errors;
  int index;

  drug->line = problems->line;
  drug->code = g_strdup (row[COL_CODE]);
  if (!is_text_id (row[COL_CODE], TRUE))
    problem (problems, COL_CODE, "“%s” is not a product code (1–64 letters, digits, - _ .)",
             row[COL_CODE]);
  else if (g_hash_table_contains (seen_codes, row[COL_CODE]))
    problem (problems, COL_CODE, "“%s” is used by line %u already", row[COL_CODE],
             GPOINTER_TO_UINT (g_hash_table_lookup (seen_codes, row[COL_CODE])));
  else
    g_hash_table_insert (seen_codes, g_strdup (row[COL_CODE]),
                         GUINT_TO_POINTER (problems->line));

  drug->generic_name_en = g_strdup (row[COL_NAME_EN]);
  drug->generic_name_zh = g_strdup (row[COL_NAME_ZH]);
  drug->brand_name_zh = g_strdup (row[COL_BRAND_ZH]);
  drug->pinyin_initials = g_strdup (row[COL_PINYIN]);
  if (*row[COL_NAME_EN] == '\0')
    problem (problems, COL_NAME_EN, "the English generic name is required");
  if (*row[COL_NAME_ZH] == '\0')
    problem (problems, COL_NAME_ZH, "the Chinese generic name is required");
  if (*row[COL_PINYIN] == '\0')
    problem (problems, COL_PINYIN, "the pinyin initials are required");
  for (const char *p = row[COL_PINYIN]; *p; p++)
    if (!g_ascii_islower (*p) && !g_ascii_isdigit (*p))
      {
        problem (problems, COL_PINYIN, "“%s” may only hold a-z and 0-9", row[COL_PINYIN]);
        break;
      }

  drug->atc_code = g_strdup (row[COL_ATC]);
  if (*row[COL_ATC] != '\0' && !is_atc_code (row[COL_ATC]))
    problem (problems, COL_ATC, "“%s” is not an ATC code like C08CA01 (or a group like A12AX)",
             row[COL_ATC]);

  if ((index = check_enum (problems, row, COL_FORM, forms)) >= 0)
    drug->form = g_strdup (forms[index]);
  drug->strength = check_number (problems, row, COL_STRENGTH, FALSE, TRUE);
  if ((index = check_enum (problems, row, COL_STRENGTH_UNIT, strength_units)) >= 0)
    drug->strength_unit = g_strdup (strength_units[index]);
  if ((index = check_enum (problems, row, COL_ROUTE, routes)) >= 0)
    drug->route = g_strdup (routes[index]);
  drug->adult_usual_daily_dose = check_number (problems, row, COL_ADULT_USUAL, TRUE, TRUE);
  drug->adult_max_daily_dose = check_number (problems, row, COL_ADULT_MAX, TRUE, TRUE);
  if (drug->adult_usual_daily_dose > drug->adult_max_daily_dose)
    problem (problems, COL_ADULT_USUAL, "the usual dose %s is above the maximum %s",
             row[COL_ADULT_USUAL], row[COL_ADULT_MAX]);
  if ((index = check_enum (problems, row, COL_DOSE_UNIT, dose_units)) >= 0)
    drug->dose_unit = g_strdup (dose_units[index]);

  drug->child_usual_mg_per_kg_day = check_number (problems, row, COL_CHILD_USUAL, TRUE, TRUE);
  drug->child_max_mg_per_kg_day = check_number (problems, row, COL_CHILD_MAX, TRUE, TRUE);
  drug->min_age_years = check_number (problems, row, COL_MIN_AGE, FALSE, FALSE);
  if (isnan (drug->child_usual_mg_per_kg_day) != isnan (drug->child_max_mg_per_kg_day))
    problem (problems, COL_CHILD_MAX, "the usual and maximum per-kg doses go together");
  else if (!isnan (drug->child_usual_mg_per_kg_day))
    {
      if (drug->child_usual_mg_per_kg_day > drug->child_max_mg_per_kg_day)
        problem (problems, COL_CHILD_USUAL, "the usual per-kg dose is above the maximum");
      if (drug->dose_unit != NULL && !wz_unit_is_mass (drug->dose_unit))
        problem (problems, COL_CHILD_USUAL, "per-kg doses need a mass dose_unit (mg, ug, g)");
      if (drug->min_age_years >= 18)
        problem (problems, COL_CHILD_USUAL, "per-kg doses on a product for adults only");
    }

  if ((index = check_enum (problems, row, COL_CONTROLLED, controlled_classes)) >= 0)
    drug->controlled_class = index;
  if ((index = check_enum (problems, row, COL_PREGNANCY, use_flags)) >= 0)
    drug->pregnancy = index;
  if ((index = check_enum (problems, row, COL_LACTATION, use_flags)) >= 0)
    drug->lactation = index;
  if ((index = check_enum (problems, row, COL_RENAL, renal_values)) >= 0)
    drug->renal_adjust = index;
  if ((index = check_enum (problems, row, COL_CHRONIC, yes_no)) >= 0)
    drug->chronic = index == 1;

  drug->allergy_classes = split_list (row[COL_ALLERGY]);
  for (guint i = 0; drug->allergy_classes[i] != NULL; i++)
    if (self->classes->len > 0 &&
        wz_formulary_find_allergy_class (self, drug->allergy_classes[i]) < 0)
      problem (problems, COL_ALLERGY, "“%s” is not a class of allergy-classes.csv",
               drug->allergy_classes[i]);

  if (problems->n_errors != before)
    return NULL;
  return g_steal_pointer (&drug);
}

gboolean
wz_formulary_load_rows (WzFormulary  *self,
                        GPtrArray    *rows,
                        GArray       *lines,
                        GError      **error)
{
  g_autoptr(GPtrArray) drugs = g_ptr_array_new_with_free_func ((GDestroyNotify) wz_drug_free);
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GString) text = g_string_new (NULL);
  Problems problems = { text, 0, 0, (GStrv) wz_formulary_columns };

  g_return_val_if_fail (WZ_IS_FORMULARY (self), FALSE);

  for (guint i = 0; i < rows->len; i++)
    {
      GStrv row = g_ptr_array_index (rows, i);
      WzDrug *drug;

      problems.line = lines ? g_array_index (lines, guint, i) : i + 2;
      if (g_strv_length (row) != N_COLUMNS)
        {
          problem (&problems, G_MAXUINT, "%u columns instead of %u (an unquoted comma?)",
                   g_strv_length (row), N_COLUMNS);
          continue;
        }
      if ((drug = parse_drug_row (self, &problems, row, seen)) != NULL)
        g_ptr_array_add (drugs, drug);
    }

  if (rows->len == 0)
    {
      problems.line = 2;
      problem (&problems, G_MAXUINT, "the file has a header but no products");
    }

  if (!problems_report (&problems, "formulary", error))
    return FALSE;

  g_ptr_array_set_size (self->drugs, 0);
  for (guint i = 0; i < drugs->len; i++)
    g_ptr_array_add (self->drugs, g_steal_pointer (&g_ptr_array_index (drugs, i)));
  wz_formulary_prepare (self);
  return TRUE;
}

gboolean
wz_formulary_load_drugs (WzFormulary  *self,
                         const char   *data,
                         gsize         length,
                         GError      **error)
{
  g_autoptr(GPtrArray) records = NULL;
  g_autoptr(GArray) lines = NULL;

  g_return_val_if_fail (WZ_IS_FORMULARY (self), FALSE);

  if ((records = wz_csv_parse (data, length, &lines, error)) == NULL)
    {
      g_prefix_error (error, "formulary: ");
      return FALSE;
    }
  if (!check_header (records, wz_formulary_columns, "formulary", error))
    return FALSE;

  /* Without the header. */
  g_ptr_array_remove_index (records, 0);
  g_array_remove_index (lines, 0);
  return wz_formulary_load_rows (self, records, lines, error);
}

void
wz_formulary_add_drug (WzFormulary *self,
                       WzDrug      *drug)
{
  g_return_if_fail (WZ_IS_FORMULARY (self));
  g_ptr_array_add (self->drugs, drug);
}

/* --- interactions and allergy classes ------------------------------------------------------- */

static void
interaction_free (WzInteraction *interaction)
{
  g_free (interaction->a_atc);
  g_free (interaction->b_atc);
  g_free (interaction->mechanism_en);
  g_free (interaction->advice_en);
  g_free (interaction->advice_zh);
  g_free (interaction->source);
  g_free (interaction);
}

gboolean
wz_formulary_load_interactions (WzFormulary  *self,
                                const char   *data,
                                gsize         length,
                                GError      **error)
{
  static const char *const columns[] = {
    "a_atc", "b_atc", "severity", "mechanism_en", "advice_en", "advice_zh", "source", NULL
  };
  g_autoptr(GPtrArray) records = NULL;
  g_autoptr(GArray) lines = NULL;
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) interaction_free);
  g_autoptr(GHashTable) pairs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GString) text = g_string_new (NULL);
  Problems problems = { text, 0, 0, (GStrv) columns };

  if ((records = wz_csv_parse (data, length, &lines, error)) == NULL)
    {
      g_prefix_error (error, "interactions: ");
      return FALSE;
    }
  if (!check_header (records, columns, "interactions", error))
    return FALSE;

  for (guint i = 1; i < records->len; i++)
    {
      GStrv row = g_ptr_array_index (records, i);
      guint before = problems.n_errors;
      g_autofree char *key = NULL;
      g_autofree char *reverse = NULL;
      int severity;

      problems.line = g_array_index (lines, guint, i);
      if (g_strv_length (row) != G_N_ELEMENTS (columns) - 1)
        {
          problem (&problems, G_MAXUINT, "%u columns instead of %u", g_strv_length (row),
                   (guint) G_N_ELEMENTS (columns) - 1);
          continue;
        }
      for (guint c = 0; c < 2; c++)
        if (!is_atc_prefix (row[c]))
          problem (&problems, c, "“%s” is not an ATC code or class prefix", row[c]);
      severity = check_enum (&problems, row, 2, interaction_severities);
      for (guint c = 3; c < 6; c++)
        if (*row[c] == '\0')
          problem (&problems, c, "text is required");

      key = g_strconcat (row[0], "|", row[1], NULL);
      reverse = g_strconcat (row[1], "|", row[0], NULL);
      if (g_hash_table_contains (pairs, key) || g_hash_table_contains (pairs, reverse))
        problem (&problems, G_MAXUINT, "the pair %s–%s appears twice", row[0], row[1]);
      g_hash_table_add (pairs, g_steal_pointer (&key));

      if (problems.n_errors == before)
        {
          WzInteraction *interaction = g_new0 (WzInteraction, 1);

          interaction->a_atc = g_strdup (row[0]);
          interaction->b_atc = g_strdup (row[1]);
          interaction->severity = severity;
          interaction->mechanism_en = g_strdup (row[3]);
          interaction->advice_en = g_strdup (row[4]);
          interaction->advice_zh = g_strdup (row[5]);
          interaction->source = g_strdup (row[6]);
          g_ptr_array_add (rows, interaction);
        }
    }

  if (!problems_report (&problems, "interactions", error))
    return FALSE;

  g_ptr_array_unref (self->interactions);
  self->interactions = g_steal_pointer (&rows);
  wz_formulary_prepare (self);
  return TRUE;
}

static void
allergy_class_free (WzAllergyClass *klass)
{
  g_free (klass->id);
  g_strfreev (klass->atc_prefixes);
  g_strfreev (klass->cross_reacts_with);
  g_free (klass->note_en);
  g_free (klass->note_zh);
  g_free (klass);
}

gboolean
wz_formulary_load_allergy_classes (WzFormulary  *self,
                                   const char   *data,
                                   gsize         length,
                                   GError      **error)
{
  static const char *const columns[] = {
    "class", "atc_prefixes", "cross_reacts_with", "cross_severity", "note_en", "note_zh", NULL
  };
  g_autoptr(GPtrArray) records = NULL;
  g_autoptr(GArray) lines = NULL;
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) allergy_class_free);
  g_autoptr(GHashTable) ids = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GString) text = g_string_new (NULL);
  Problems problems = { text, 0, 0, (GStrv) columns };

  if ((records = wz_csv_parse (data, length, &lines, error)) == NULL)
    {
      g_prefix_error (error, "allergy classes: ");
      return FALSE;
    }
  if (!check_header (records, columns, "allergy classes", error))
    return FALSE;

  for (guint i = 1; i < records->len; i++)
    {
      GStrv row = g_ptr_array_index (records, i);
      guint before = problems.n_errors;
      g_auto(GStrv) prefixes = NULL;
      g_auto(GStrv) cross = NULL;
      int severity;

      problems.line = g_array_index (lines, guint, i);
      if (g_strv_length (row) != G_N_ELEMENTS (columns) - 1)
        {
          problem (&problems, G_MAXUINT, "%u columns instead of %u", g_strv_length (row),
                   (guint) G_N_ELEMENTS (columns) - 1);
          continue;
        }
      if (!is_text_id (row[0], FALSE))
        problem (&problems, 0, "“%s” is not a class id (lower-case snake case)", row[0]);
      else if (g_hash_table_contains (ids, row[0]))
        problem (&problems, 0, "“%s” appears twice", row[0]);
      prefixes = split_list (row[1]);
      if (prefixes[0] == NULL)
        problem (&problems, 1, "at least one ATC prefix is required");
      for (guint p = 0; prefixes[p] != NULL; p++)
        if (!is_atc_prefix (prefixes[p]))
          problem (&problems, 1, "“%s” is not an ATC code or prefix", prefixes[p]);
      cross = split_list (row[2]);
      severity = check_enum (&problems, row, 3, cross_severities);
      if ((cross[0] == NULL) != (severity == WZ_CROSS_NONE))
        problem (&problems, 3, "a severity goes with a non-empty cross_reacts_with, and only then");
      if (g_hash_table_size (ids) + 1 > WZ_FORMULARY_MAX_ALLERGY_CLASSES)
        problem (&problems, 0, "more than %d classes", WZ_FORMULARY_MAX_ALLERGY_CLASSES);

      if (problems.n_errors == before)
        {
          WzAllergyClass *klass = g_new0 (WzAllergyClass, 1);

          klass->id = g_strdup (row[0]);
          klass->atc_prefixes = g_steal_pointer (&prefixes);
          klass->cross_reacts_with = g_steal_pointer (&cross);
          klass->cross_severity = severity;
          klass->note_en = g_strdup (row[4]);
          klass->note_zh = g_strdup (row[5]);
          g_ptr_array_add (rows, klass);
          g_hash_table_add (ids, klass->id);
        }
    }

  /* Cross references must name classes of this table. */
  for (guint i = 0; i < rows->len; i++)
    {
      WzAllergyClass *klass = g_ptr_array_index (rows, i);

      for (guint c = 0; klass->cross_reacts_with[c] != NULL; c++)
        if (!g_hash_table_contains (ids, klass->cross_reacts_with[c]))
          {
            problems.line = g_array_index (lines, guint, i + 1);
            problem (&problems, 2, "“%s” is not a class of this table",
                     klass->cross_reacts_with[c]);
          }
    }

  if (!problems_report (&problems, "allergy classes", error))
    return FALSE;

  g_ptr_array_unref (self->classes);
  self->classes = g_steal_pointer (&rows);
  wz_formulary_prepare (self);
  return TRUE;
}

gboolean
wz_formulary_load_icd10 (WzFormulary  *self,
                         const char   *data,
                         gsize         length,
                         GError      **error)
{
  g_autoptr(GHashTable) table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *copy = NULL;
  g_auto(GStrv) lines = NULL;

  if (!g_utf8_validate_len (data, length, NULL))
    {
      g_set_error_literal (error, WZ_FORMULARY_ERROR, WZ_FORMULARY_ERROR_PARSE,
                           "ICD-10 list: the text is not valid UTF-8");
      return FALSE;
    }

  copy = g_strndup (data, length);
  lines = g_strsplit (copy, "\n", -1);
  if (lines[0] == NULL || !g_str_has_prefix (lines[0], "code\t"))
    {
      g_set_error_literal (error, WZ_FORMULARY_ERROR, WZ_FORMULARY_ERROR_INVALID,
                           "ICD-10 list: line 1 must be the header “code, title_en, title_zh, "
                           "chronic” separated by tabs");
      return FALSE;
    }

  for (guint i = 1; lines[i] != NULL; i++)
    {
      g_auto(GStrv) fields = NULL;

      g_strchomp (lines[i]);
      if (*lines[i] == '\0')
        continue;
      fields = g_strsplit (lines[i], "\t", -1);
      if (g_strv_length (fields) != 4 || enum_index (yes_no, fields[3]) < 0)
        {
          g_set_error (error, WZ_FORMULARY_ERROR, WZ_FORMULARY_ERROR_INVALID,
                       "ICD-10 list: line %u must be code, titles and chronic yes/no", i + 1);
          return FALSE;
        }
      g_hash_table_insert (table, g_strdup (fields[0]),
                           GINT_TO_POINTER (strcmp (fields[3], "yes") == 0 ? 2 : 1));
    }

  g_hash_table_unref (self->icd10);
  self->icd10 = g_steal_pointer (&table);
  return TRUE;
}

static gboolean
load_file (WzFormulary  *self,
           const char   *dir,
           const char   *name,
           gboolean    (*load) (WzFormulary *, const char *, gsize, GError **),
           GError      **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *contents = NULL;
  gsize length;

  if (!g_file_get_contents (path, &contents, &length, error))
    return FALSE;
  return load (self, contents, length, error);
}

gboolean
wz_formulary_load_directory (WzFormulary  *self,
                             const char   *dir,
                             GError      **error)
{
  return load_file (self, dir, "allergy-classes.csv", wz_formulary_load_allergy_classes, error) &&
         load_file (self, dir, "formulary.csv", wz_formulary_load_drugs, error) &&
         load_file (self, dir, "interactions.csv", wz_formulary_load_interactions, error) &&
         load_file (self, dir, "icd10-common.tsv", wz_formulary_load_icd10, error);
}

/* --- indexes ---------------------------------------------------------------------------------- */

static char *
fold (const char *text)
{
  g_autofree char *normalized = g_utf8_normalize (text ? text : "", -1, G_NORMALIZE_ALL);

  return g_utf8_casefold (normalized ? normalized : "", -1);
}


static gboolean
atc_matches (const char *atc,
             const char *prefix)
{
  return *atc != '\0' && g_str_has_prefix (atc, prefix);
}

guint64
wz_formulary_classes_for_atc (WzFormulary *self,
                              const char  *atc)
{
  guint64 mask = 0;

  if (atc == NULL || *atc == '\0')
    return 0;

  for (guint i = 0; i < self->classes->len; i++)
    {
      WzAllergyClass *klass = g_ptr_array_index (self->classes, i);

      for (guint p = 0; klass->atc_prefixes[p] != NULL; p++)
        if (g_str_has_prefix (atc, klass->atc_prefixes[p]))
          {
            mask |= G_GUINT64_CONSTANT (1) << i;
            break;
          }
    }

  return mask;
}

static void
add_name (GHashTable   *by_name,
          const char   *name,
          const WzDrug *drug)
{
  g_autofree char *key = NULL;
  GPtrArray *list;

  if (name == NULL || *name == '\0')
    return;

  key = fold (name);
  list = g_hash_table_lookup (by_name, key);
  if (list == NULL)
    {
      list = g_ptr_array_new ();
      g_hash_table_insert (by_name, g_steal_pointer (&key), list);
    }
  if (list->len == 0 || g_ptr_array_index (list, list->len - 1) != drug)
    g_ptr_array_add (list, (gpointer) drug);
}

void
wz_formulary_prepare (WzFormulary *self)
{
  g_return_if_fail (WZ_IS_FORMULARY (self));

  g_hash_table_remove_all (self->by_code);
  g_hash_table_remove_all (self->by_name);
  g_array_set_size (self->search, 0);
  g_string_truncate (self->search_text, 0);

  /* Cross-reactivity, both directions folded into one table. */
  memset (self->cross, 0, sizeof self->cross);
  for (guint p = 0; p < self->classes->len; p++)
    {
      WzAllergyClass *klass = g_ptr_array_index (self->classes, p);

      for (guint c = 0; klass->cross_reacts_with[c] != NULL; c++)
        {
          int other = wz_formulary_find_allergy_class (self, klass->cross_reacts_with[c]);

          if (other < 0)
            continue;
          self->cross[p][other] = MAX (self->cross[p][other], klass->cross_severity);
          self->cross[other][p] = MAX (self->cross[other][p], klass->cross_severity);
        }
    }

  for (guint i = 0; i < self->drugs->len; i++)
    {
      WzDrug *drug = g_ptr_array_index (self->drugs, i);
      SearchEntry entry = { drug, { 0 }, 0 };
      const char *fields[N_SEARCH_FIELDS] = {
        drug->generic_name_zh, drug->pinyin_initials, drug->brand_name_zh, drug->generic_name_en,
        drug->atc_code, drug->code
      };

      g_hash_table_insert (self->by_code, drug->code, drug);
      add_name (self->by_name, drug->generic_name_zh, drug);
      add_name (self->by_name, drug->generic_name_en, drug);
      add_name (self->by_name, drug->brand_name_zh, drug);

      for (guint f = 0; f < N_SEARCH_FIELDS; f++)
        {
          g_autofree char *folded = fold (fields[f]);

          entry.field_start[f] = self->search_text->len;
          g_string_append (self->search_text, folded);
          g_string_append_c (self->search_text, '\x01');
        }
      entry.end = self->search_text->len;
      g_string_append_c (self->search_text, '\n');
      g_array_append_val (self->search, entry);

      /* Classes from the ATC code, plus those the row names (Chinese patent medicines have no
       * ATC code but may still name a class). */
      drug->class_mask = wz_formulary_classes_for_atc (self, drug->atc_code);
      for (guint c = 0; drug->allergy_classes && drug->allergy_classes[c] != NULL; c++)
        {
          int index = wz_formulary_find_allergy_class (self, drug->allergy_classes[c]);

          if (index >= 0)
            drug->class_mask |= G_GUINT64_CONSTANT (1) << index;
        }

      g_clear_pointer (&drug->interactions, g_ptr_array_unref);
      drug->interactions = g_ptr_array_new ();
      for (guint r = 0; r < self->interactions->len; r++)
        {
          WzInteraction *interaction = g_ptr_array_index (self->interactions, r);

          if (atc_matches (drug->atc_code, interaction->a_atc) ||
              atc_matches (drug->atc_code, interaction->b_atc))
            g_ptr_array_add (drug->interactions, interaction);
        }
    }
}

/* --- lookups ---------------------------------------------------------------------------------- */

guint
wz_formulary_get_n_drugs (WzFormulary *self)
{
  g_return_val_if_fail (WZ_IS_FORMULARY (self), 0);
  return self->drugs->len;
}

const WzDrug *
wz_formulary_get_drug (WzFormulary *self,
                       guint        index)
{
  g_return_val_if_fail (WZ_IS_FORMULARY (self), NULL);
  g_return_val_if_fail (index < self->drugs->len, NULL);
  return g_ptr_array_index (self->drugs, index);
}

const WzDrug *
wz_formulary_lookup (WzFormulary *self,
                     const char  *code)
{
  g_return_val_if_fail (WZ_IS_FORMULARY (self), NULL);
  return code ? g_hash_table_lookup (self->by_code, code) : NULL;
}

const GPtrArray *
wz_formulary_lookup_name (WzFormulary *self,
                          const char  *name)
{
  g_autofree char *key = NULL;

  g_return_val_if_fail (WZ_IS_FORMULARY (self), NULL);
  if (name == NULL || *name == '\0')
    return NULL;

  key = fold (name);
  return g_hash_table_lookup (self->by_name, key);
}

guint
wz_formulary_get_n_interactions (WzFormulary *self)
{
  return self->interactions->len;
}

guint
wz_formulary_get_n_allergy_classes (WzFormulary *self)
{
  return self->classes->len;
}

const WzAllergyClass *
wz_formulary_get_allergy_class (WzFormulary *self,
                                guint        index)
{
  g_return_val_if_fail (index < self->classes->len, NULL);
  return g_ptr_array_index (self->classes, index);
}

int
wz_formulary_find_allergy_class (WzFormulary *self,
                                 const char  *id)
{
  for (guint i = 0; i < self->classes->len; i++)
    if (strcmp (((WzAllergyClass *) g_ptr_array_index (self->classes, i))->id, id) == 0)
      return i;
  return -1;
}

WzCrossSeverity
wz_formulary_cross_severity (WzFormulary *self,
                             guint        patient_class,
                             guint        candidate_class)
{
  g_return_val_if_fail (patient_class < WZ_FORMULARY_MAX_ALLERGY_CLASSES &&
                        candidate_class < WZ_FORMULARY_MAX_ALLERGY_CLASSES, WZ_CROSS_NONE);
  return self->cross[patient_class][candidate_class];
}

const WzInteraction *
wz_formulary_interaction (WzFormulary  *self,
                          const WzDrug *drug,
                          const char   *other_atc)
{
  const WzInteraction *best = NULL;
  gsize best_specificity = 0;

  if (drug->interactions == NULL || other_atc == NULL || *other_atc == '\0')
    return NULL;

  for (guint i = 0; i < drug->interactions->len; i++)
    {
      const WzInteraction *row = g_ptr_array_index (drug->interactions, i);
      gsize specificity;

      if (!((atc_matches (drug->atc_code, row->a_atc) && atc_matches (other_atc, row->b_atc)) ||
            (atc_matches (drug->atc_code, row->b_atc) && atc_matches (other_atc, row->a_atc))))
        continue;

      specificity = strlen (row->a_atc) + strlen (row->b_atc);
      if (best == NULL || row->severity > best->severity ||
          (row->severity == best->severity && specificity > best_specificity))
        {
          best = row;
          best_specificity = specificity;
        }
    }

  return best;
}

gboolean
wz_formulary_icd10_is_chronic (WzFormulary *self,
                               const char  *code,
                               gboolean    *out_chronic)
{
  g_autofree char *key = NULL;

  if (code == NULL)
    return FALSE;

  key = g_ascii_strup (code, -1);
  while (strlen (key) >= 3)
    {
      gpointer value = g_hash_table_lookup (self->icd10, key);

      if (value != NULL)
        {
          *out_chronic = GPOINTER_TO_INT (value) == 2;
          return TRUE;
        }
      key[strlen (key) - 1] = '\0';
      if (strlen (key) > 0 && key[strlen (key) - 1] == '.')
        key[strlen (key) - 1] = '\0';
    }

  return FALSE;
}

/* --- search ---------------------------------------------------------------------------------- */

/* The score of a match at offset AT of the search text inside ENTRY: whole field, then prefix,
 * then substring; then the field's weight; then shorter text first. */
static guint
score_match (const SearchEntry *entry,
             guint32            at,
             gsize              query_length)
{
  guint f = N_SEARCH_FIELDS - 1;
  guint32 field_end;
  guint kind;

  while (f > 0 && entry->field_start[f] > at)
    f--;
  field_end = (f + 1 < N_SEARCH_FIELDS ? entry->field_start[f + 1] : entry->end) - 1;
  if (at + query_length > field_end)
    return 0;

  if (at == entry->field_start[f] && at + query_length == field_end)
    kind = 3;
  else if (at == entry->field_start[f])
    kind = 2;
  else
    kind = 1;

  return kind * 100000 + field_weights[f] * 1000 +
         (999 - MIN (field_end - entry->field_start[f], 999));
}

static int
compare_hits (gconstpointer a,
              gconstpointer b)
{
  const WzFormularyHit *x = a;
  const WzFormularyHit *y = b;

  if (x->score != y->score)
    return x->score > y->score ? -1 : 1;
  return strcmp (x->drug->code, y->drug->code);
}

GArray *
wz_formulary_search (WzFormulary *self,
                     const char  *query,
                     guint        limit,
                     guint       *out_total)
{
  GArray *hits = g_array_sized_new (FALSE, FALSE, sizeof (WzFormularyHit), limit + 1);
  g_autofree char *stripped = NULL;
  g_autofree char *folded = NULL;
  gsize query_length;
  guint total = 0;
  guint next = 0;

  g_return_val_if_fail (WZ_IS_FORMULARY (self), hits);

  stripped = g_strstrip (g_strdup (query ? query : ""));
  folded = fold (stripped);
  query_length = strlen (folded);
  if (query_length == 0 || limit == 0)
    {
      if (out_total != NULL)
        *out_total = 0;
      return hits;
    }

  /* Control characters never occur in a field; they are the separators. */
  for (const char *p = folded; *p; p++)
    if ((guchar) *p < 0x20)
      {
        if (out_total != NULL)
          *out_total = 0;
        return hits;
      }

  for (const char *at = strstr (self->search_text->str, folded); at != NULL; )
    {
      guint32 offset = at - self->search_text->str;
      const SearchEntry *entry;
      WzFormularyHit hit;
      guint position;

      /* Products are in text order: move to the one holding this match. */
      while (next < self->search->len &&
             g_array_index (self->search, SearchEntry, next).end < offset)
        next++;
      entry = &g_array_index (self->search, SearchEntry, next);

      /* Every match inside this product; the best one counts. */
      hit.drug = entry->drug;
      hit.score = 0;
      while (at != NULL && (guint32) (at - self->search_text->str) < entry->end)
        {
          hit.score = MAX (hit.score, score_match (entry, at - self->search_text->str,
                                                   query_length));
          at = strstr (at + 1, folded);
        }
      next++;
      if (hit.score == 0)
        continue;
      total++;

      /* Keep the best LIMIT in order; most hits of a long list fall below the last one. */
      if (hits->len == limit &&
          compare_hits (&hit, &g_array_index (hits, WzFormularyHit, limit - 1)) > 0)
        continue;
      position = hits->len;
      while (position > 0 &&
             compare_hits (&hit, &g_array_index (hits, WzFormularyHit, position - 1)) < 0)
        position--;
      g_array_insert_val (hits, position, hit);
      if (hits->len > limit)
        g_array_set_size (hits, limit);
    }

  if (out_total != NULL)
    *out_total = total;
  return hits;
}

/* --- enums ---------------------------------------------------------------------------------- */

const char *
wz_controlled_class_to_string (WzControlledClass value)
{
  g_return_val_if_fail (value <= WZ_CONTROLLED_PRECURSOR, "none");
  return controlled_classes[value];
}

const char *
wz_use_flag_to_string (WzUseFlag value)
{
  g_return_val_if_fail (value <= WZ_USE_UNKNOWN, "unknown");
  return use_flags[value];
}

const char *
wz_interaction_severity_to_string (WzInteractionSeverity value)
{
  g_return_val_if_fail (value <= WZ_INTERACTION_CONTRAINDICATED, "minor");
  return interaction_severities[value];
}

/* --- object ---------------------------------------------------------------------------------- */

static void
wz_formulary_finalize (GObject *object)
{
  WzFormulary *self = WZ_FORMULARY (object);

  g_hash_table_unref (self->by_code);
  g_hash_table_unref (self->by_name);
  g_array_unref (self->search);
  g_string_free (self->search_text, TRUE);
  g_ptr_array_unref (self->drugs);
  g_ptr_array_unref (self->interactions);
  g_ptr_array_unref (self->classes);
  g_hash_table_unref (self->icd10);

  G_OBJECT_CLASS (wz_formulary_parent_class)->finalize (object);
}

static void
wz_formulary_class_init (WzFormularyClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = wz_formulary_finalize;
}

static void
wz_formulary_init (WzFormulary *self)
{
  self->drugs = g_ptr_array_new_with_free_func ((GDestroyNotify) wz_drug_free);
  self->by_code = g_hash_table_new (g_str_hash, g_str_equal);
  self->by_name = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify) g_ptr_array_unref);
  self->search = g_array_new (FALSE, FALSE, sizeof (SearchEntry));
  self->search_text = g_string_new (NULL);
  self->interactions = g_ptr_array_new_with_free_func ((GDestroyNotify) interaction_free);
  self->classes = g_ptr_array_new_with_free_func ((GDestroyNotify) allergy_class_free);
  self->icd10 = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

WzFormulary *
wz_formulary_new (void)
{
  return g_object_new (WZ_TYPE_FORMULARY, NULL);
}
