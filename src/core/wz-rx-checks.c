/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-rx-checks"

#include "config.h"

#include "wz-rx-checks.h"

#include <math.h>
#include <string.h>

#define DAYS_PER_YEAR 365.25
#define SNOMED "http://snomed.info/sct"
#define ICD10 "http://hl7.org/fhir/sid/icd-10"
#define V3_ACT_CODE "http://terminology.hl7.org/CodeSystem/v3-ActCode"
#define TRANSLATION "http://hl7.org/fhir/StructureDefinition/translation"

/* Float slack for comparing doses that were multiplied and divided. */
#define DOSE_EPSILON 1e-9

static const WzRxFrequency frequencies[] = {
  { "qd", "每日一次", "once a day", 1, FALSE },
  { "bid", "每日两次", "twice a day", 2, FALSE },
  { "tid", "每日三次", "three times a day", 3, FALSE },
  { "qid", "每日四次", "four times a day", 4, FALSE },
  { "q4h", "每4小时一次", "every 4 hours", 6, FALSE },
  { "q6h", "每6小时一次", "every 6 hours", 4, FALSE },
  { "q8h", "每8小时一次", "every 8 hours", 3, FALSE },
  { "q12h", "每12小时一次", "every 12 hours", 2, FALSE },
  { "qn", "每晚睡前一次", "once a night, at bedtime", 1, FALSE },
  { "qm", "每日早晨一次", "once every morning", 1, FALSE },
  { "qod", "隔日一次", "every other day", 0.5, FALSE },
  { "qw", "每周一次", "once a week", 1.0 / 7, FALSE },
  { "biw", "每周两次", "twice a week", 2.0 / 7, FALSE },
  { "tiw", "每周三次", "three times a week", 3.0 / 7, FALSE },
  { "prn", "必要时使用", "when needed", 0, FALSE },
  { "once", "仅用一次", "once only", 1, TRUE },
  { NULL, NULL, NULL, 0, FALSE },
};

/* HL7 v3 GTSAbbreviation codes that mean one of ours under another name. */
static const struct
{
  const char *gts;
  const char *code;
} frequency_synonyms[] = {
  { "BED", "qn" }, { "HS", "qn" }, { "QHS", "qn" }, { "AM", "qm" }, { "WK", "qw" },
  { "STAT", "once" }, { "ST", "once" },
};

/* Common ways a recorded drug allergy names a class (in Chinese or English); matched as a
 * substring of the case-folded allergy text. */
static const struct
{
  const char *keyword;
  const char *class_id;
} allergy_keywords[] = {
  { "青霉素", "penicillin" }, { "penicillin", "penicillin" },
  { "头孢", "cephalosporin" }, { "cephalosporin", "cephalosporin" },
  { "碳青霉烯", "carbapenem" }, { "carbapenem", "carbapenem" },
  { "磺胺", "sulfonamide_antibiotic" }, { "sulfonamide", "sulfonamide_antibiotic" },
  { "sulfa", "sulfonamide_antibiotic" },
  { "非甾体", "nsaid" }, { "nsaid", "nsaid" },
  { "阿司匹林", "salicylate" }, { "aspirin", "salicylate" }, { "水杨酸", "salicylate" },
  { "大环内酯", "macrolide" }, { "macrolide", "macrolide" },
  { "喹诺酮", "quinolone" }, { "quinolone", "quinolone" },
  { "四环素", "tetracycline" }, { "tetracycline", "tetracycline" },
  { "氨基糖苷", "aminoglycoside" }, { "aminoglycoside", "aminoglycoside" },
  { "肝素", "heparin" }, { "heparin", "heparin" },
  { "造影剂", "iodinated_contrast" }, { "对比剂", "iodinated_contrast" },
  { "contrast", "iodinated_contrast" },
  { "磺脲", "sulfonylurea" }, { "sulfonylurea", "sulfonylurea" },
  { "苯二氮", "benzodiazepine" }, { "benzodiazepine", "benzodiazepine" },
};

/* SNOMED CT substances and disorders often used to record drug allergies. */
static const struct
{
  const char *code;
  const char *atc;       /* a substance: same-substance and its classes */
  const char *class_id;  /* or a class */
} snomed_allergens[] = {
  { "764146007", NULL, "penicillin" },     /* Penicillin (substance) */
  { "373270004", NULL, "penicillin" },     /* Penicillin antibacterial (product) */
  { "91936005", NULL, "penicillin" },      /* Allergy to penicillin (disorder) */
  { "387458008", "N02BA01", NULL },        /* Aspirin (substance) */
  { "372687004", "J01CA04", NULL },        /* Amoxicillin (substance) */
  { "387406002", "J01EE01", NULL },        /* Sulfamethoxazole (substance) */
};

const WzRxFrequency *
wz_rx_frequencies (void)
{
  return frequencies;
}

const WzRxFrequency *
wz_rx_frequency_lookup (const char *code)
{
  if (code == NULL)
    return NULL;

  for (guint i = 0; i < G_N_ELEMENTS (frequency_synonyms); i++)
    if (g_ascii_strcasecmp (code, frequency_synonyms[i].gts) == 0)
      code = frequency_synonyms[i].code;

  for (guint i = 0; frequencies[i].code != NULL; i++)
    if (g_ascii_strcasecmp (code, frequencies[i].code) == 0)
      return &frequencies[i];

  return NULL;
}

const char *
wz_rx_severity_to_string (WzRxSeverity severity)
{
  switch (severity)
    {
    case WZ_RX_SEVERITY_HIGH:
      return "high";
    case WZ_RX_SEVERITY_MODERATE:
      return "moderate";
    case WZ_RX_SEVERITY_LOW:
    default:
      return "low";
    }
}

/* --- patient and lines ---------------------------------------------------------------------- */

static void
allergy_free (WzRxAllergy *allergy)
{
  g_free (allergy->code);
  g_free (allergy->system);
  g_free (allergy->text);
  g_free (allergy->reference);
  g_free (allergy);
}

static void
condition_free (WzRxCondition *condition)
{
  g_free (condition->code);
  g_free (condition->system);
  g_free (condition->text);
  g_free (condition->reference);
  g_free (condition);
}

static void
medication_free (WzRxCurrentMedication *medication)
{
  g_free (medication->drug_code);
  g_free (medication->atc_code);
  g_free (medication->text);
  g_free (medication->reference);
  g_free (medication);
}

WzRxPatient *
wz_rx_patient_new (void)
{
  WzRxPatient *patient = g_new0 (WzRxPatient, 1);

  patient->age_days = -1;
  patient->weight_kg = NAN;
  patient->egfr = NAN;
  patient->allergies = g_ptr_array_new_with_free_func ((GDestroyNotify) allergy_free);
  patient->conditions = g_ptr_array_new_with_free_func ((GDestroyNotify) condition_free);
  patient->medications = g_ptr_array_new_with_free_func ((GDestroyNotify) medication_free);
  return patient;
}

void
wz_rx_patient_free (WzRxPatient *patient)
{
  if (patient == NULL)
    return;
  g_ptr_array_unref (patient->allergies);
  g_ptr_array_unref (patient->conditions);
  g_ptr_array_unref (patient->medications);
  g_free (patient);
}

void
wz_rx_patient_add_allergy (WzRxPatient *patient,
                           const char  *code,
                           const char  *system,
                           const char  *text,
                           const char  *reference)
{
  WzRxAllergy *allergy = g_new0 (WzRxAllergy, 1);

  allergy->code = g_strdup (code);
  allergy->system = g_strdup (system);
  allergy->text = g_strdup (text);
  allergy->reference = g_strdup (reference);
  g_ptr_array_add (patient->allergies, allergy);
}

void
wz_rx_patient_add_condition (WzRxPatient *patient,
                             const char  *code,
                             const char  *system,
                             const char  *text,
                             const char  *reference)
{
  WzRxCondition *condition = g_new0 (WzRxCondition, 1);

  condition->code = g_strdup (code);
  condition->system = g_strdup (system);
  condition->text = g_strdup (text);
  condition->reference = g_strdup (reference);
  g_ptr_array_add (patient->conditions, condition);
}

void
wz_rx_patient_add_medication (WzRxPatient *patient,
                              const char  *drug_code,
                              const char  *atc_code,
                              const char  *text,
                              const char  *reference)
{
  WzRxCurrentMedication *medication = g_new0 (WzRxCurrentMedication, 1);

  medication->drug_code = g_strdup (drug_code);
  medication->atc_code = g_strdup (atc_code);
  medication->text = g_strdup (text);
  medication->reference = g_strdup (reference);
  g_ptr_array_add (patient->medications, medication);
}

WzRxLine *
wz_rx_line_new (const char *drug_code,
                double      dose,
                const char *dose_unit,
                const char *frequency,
                double      duration_days)
{
  WzRxLine *line = g_new0 (WzRxLine, 1);

  line->drug_code = g_strdup (drug_code);
  line->dose = dose;
  line->dose_unit = g_strdup (dose_unit);
  line->frequency = g_strdup (frequency);
  line->max_doses_per_day = NAN;
  line->duration_days = duration_days;
  return line;
}

void
wz_rx_line_free (WzRxLine *line)
{
  if (line == NULL)
    return;
  g_free (line->drug_code);
  g_free (line->dose_unit);
  g_free (line->frequency);
  g_free (line->route);
  g_free (line->reference);
  g_free (line);
}

void
wz_rx_finding_free (WzRxFinding *finding)
{
  if (finding == NULL)
    return;
  g_free (finding->code);
  g_free (finding->key);
  g_free (finding->message_en);
  g_free (finding->message_zh);
  g_strfreev (finding->implicated);
  g_free (finding);
}

/* --- units and quantities ------------------------------------------------------------------- */

static double
mass_in_mg (const char *unit)
{
  if (g_strcmp0 (unit, "mg") == 0)
    return 1;
  if (g_strcmp0 (unit, "ug") == 0 || g_strcmp0 (unit, "mcg") == 0 || g_strcmp0 (unit, "µg") == 0)
    return 0.001;
  if (g_strcmp0 (unit, "g") == 0)
    return 1000;
  return NAN;
}

static gboolean
is_count_unit (const char *unit)
{
  static const char *const units[] = {
    "tablet", "capsule", "pill", "inhalation", "application", "puff", "drop", "bag", "sachet",
    "片", "粒", "丸", "袋", "揿", "喷", "滴", NULL
  };

  return unit != NULL && g_strv_contains (units, unit);
}

/* The strength of one unit of DRUG in mg, for converting counts; NAN when not a mass. */
static double
strength_in_mg (const WzDrug *drug)
{
  double factor = mass_in_mg (drug->strength_unit);

  if (g_strcmp0 (drug->strength_unit, "ug/dose") == 0)
    factor = 0.001;
  return drug->strength * factor;
}

/* AMOUNT in FROM converted to TO for DRUG; NAN when they do not convert. */
static double
convert (const WzDrug *drug,
         double        amount,
         const char   *from,
         const char   *to)
{
  double from_mg, to_mg;

  if (g_strcmp0 (from, to) == 0)
    return amount;

  from_mg = mass_in_mg (from);
  to_mg = mass_in_mg (to);
  if (!isnan (from_mg) && !isnan (to_mg))
    return amount * from_mg / to_mg;

  /* A count of tablets, capsules, puffs into a mass through the strength, and back. */
  if (is_count_unit (from) && !isnan (to_mg) && !isnan (strength_in_mg (drug)))
    return amount * strength_in_mg (drug) / to_mg;
  if (!isnan (from_mg) && is_count_unit (to) && !isnan (strength_in_mg (drug)))
    return amount * from_mg / strength_in_mg (drug);

  /* mL of a solution with a mg/mL (or IU/mL) strength. */
  if (g_strcmp0 (from, "mL") == 0 && g_strcmp0 (drug->strength_unit, "mg/mL") == 0 &&
      !isnan (to_mg))
    return amount * drug->strength / to_mg;
  if (!isnan (from_mg) && g_strcmp0 (to, "mL") == 0 &&
      g_strcmp0 (drug->strength_unit, "mg/mL") == 0)
    return amount * from_mg / drug->strength;
  if (g_strcmp0 (from, "mL") == 0 && g_strcmp0 (drug->strength_unit, "IU/mL") == 0 &&
      g_strcmp0 (to, "IU") == 0)
    return amount * drug->strength;
  if (g_strcmp0 (from, "IU") == 0 && g_strcmp0 (drug->strength_unit, "IU/mL") == 0 &&
      g_strcmp0 (to, "mL") == 0)
    return amount / drug->strength;

  return NAN;
}

static double
doses_per_day (const WzRxLine *line)
{
  const WzRxFrequency *frequency = wz_rx_frequency_lookup (line->frequency);

  if (frequency == NULL)
    return NAN;
  if (frequency->per_day == 0)
    return line->max_doses_per_day;
  return frequency->per_day;
}

double
wz_rx_daily_dose (const WzDrug   *drug,
                  const WzRxLine *line)
{
  double per_day = doses_per_day (line);

  if (isnan (line->dose) || isnan (per_day) || drug->dose_unit == NULL)
    return NAN;
  return convert (drug, line->dose * per_day, line->dose_unit, drug->dose_unit);
}

double
wz_rx_quantity (const WzDrug   *drug,
                const WzRxLine *line,
                double          pack_size)
{
  const WzRxFrequency *frequency = wz_rx_frequency_lookup (line->frequency);
  const char *unit_of_product;
  double n_doses, per_dose, units;

  if (frequency == NULL || isnan (line->dose) || line->dose <= 0)
    return NAN;

  if (frequency->single)
    n_doses = 1;
  else if (isnan (line->duration_days) || line->duration_days <= 0)
    return NAN;
  else
    n_doses = ceil (doses_per_day (line) * line->duration_days - DOSE_EPSILON);
  if (isnan (n_doses))
    return NAN;

  /* What one dispensed unit is: a tablet, or a mL of a solution, or the strength's own unit. */
  if (g_strcmp0 (drug->strength_unit, "mg/mL") == 0 || g_strcmp0 (drug->strength_unit, "IU/mL") == 0)
    unit_of_product = "mL";
  else if (is_count_unit (line->dose_unit))
    unit_of_product = line->dose_unit;
  else if (!isnan (mass_in_mg (drug->strength_unit)) ||
           g_strcmp0 (drug->strength_unit, "ug/dose") == 0)
    unit_of_product = "tablet";
  else
    unit_of_product = drug->strength_unit;

  per_dose = convert (drug, line->dose, line->dose_unit, unit_of_product);
  if (isnan (per_dose) && g_strcmp0 (line->dose_unit, drug->strength_unit) == 0)
    per_dose = line->dose / drug->strength;
  if (isnan (per_dose))
    return NAN;

  units = ceil (per_dose * n_doses - DOSE_EPSILON);
  if (pack_size > 0)
    units = ceil (units / pack_size - DOSE_EPSILON) * pack_size;
  return units;
}

/* --- findings ------------------------------------------------------------------------------- */

static char *
format_number (double value)
{
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];

  if (fabs (value - round (value)) < 1e-9)
    return g_strdup_printf ("%.0f", value);
  g_ascii_formatd (buffer, sizeof buffer, "%.3g", value);
  return g_strdup (buffer);
}

static WzRxFinding *
add_finding (GPtrArray    *findings,
             WzRxSeverity  severity,
             const char   *code,
             int           line,
             int           other_line,
             const char   *key_tail,
             char         *message_en,
             char         *message_zh)
{
  WzRxFinding *finding = g_new0 (WzRxFinding, 1);

  finding->severity = severity;
  finding->code = g_strdup (code);
  finding->key = g_strconcat (code, ":", key_tail, NULL);
  finding->message_en = message_en;
  finding->message_zh = message_zh;
  finding->line = line;
  finding->other_line = other_line;
  g_ptr_array_add (findings, finding);
  return finding;
}

static void
set_implicated (WzRxFinding *finding,
                const char  *reference)
{
  if (reference == NULL)
    return;
  g_strfreev (finding->implicated);
  finding->implicated = g_new0 (char *, 2);
  finding->implicated[0] = g_strdup (reference);
}

static const char *
en_name (const WzDrug *drug)
{
  return drug->generic_name_en;
}

static const char *
zh_name (const WzDrug *drug)
{
  return drug->generic_name_zh;
}

static WzRxSeverity
cross_to_severity (WzCrossSeverity cross)
{
  return cross == WZ_CROSS_HIGH ? WZ_RX_SEVERITY_HIGH
         : cross == WZ_CROSS_MODERATE ? WZ_RX_SEVERITY_MODERATE : WZ_RX_SEVERITY_LOW;
}

/* What one recorded allergy means for the checks. */
typedef struct
{
  const WzRxAllergy *allergy;
  const char        *label;      /* text to show */
  guint64            classes;
  GPtrArray         *atc_codes;  /* substances (or classes) named directly */
  GPtrArray         *products;   /* formulary codes named directly */
} ResolvedAllergy;

static void
resolved_allergy_clear (ResolvedAllergy *resolved)
{
  g_ptr_array_unref (resolved->atc_codes);
  g_ptr_array_unref (resolved->products);
}

static gboolean
looks_like_atc (const char *code)
{
  return code != NULL && g_ascii_isupper (code[0]) && strlen (code) >= 3 &&
         g_ascii_isdigit (code[1]) && g_ascii_isdigit (code[2]) && strlen (code) <= 7;
}

static void
resolve_product (WzFormulary     *formulary,
                 ResolvedAllergy *resolved,
                 const WzDrug    *drug)
{
  g_ptr_array_add (resolved->products, drug->code);
  if (*drug->atc_code != '\0')
    g_ptr_array_add (resolved->atc_codes, drug->atc_code);
  resolved->classes |= drug->class_mask;
}

static void
resolve_allergy (WzFormulary       *formulary,
                 const WzRxAllergy *allergy,
                 ResolvedAllergy   *resolved)
{
  const WzDrug *drug;
  const GPtrArray *named;

  resolved->allergy = allergy;
  resolved->label = allergy->text ? allergy->text : allergy->code ? allergy->code : "?";
  resolved->classes = 0;
  resolved->atc_codes = g_ptr_array_new ();
  resolved->products = g_ptr_array_new ();

  if (allergy->code != NULL)
    {
      gboolean is_snomed = g_strcmp0 (allergy->system, SNOMED) == 0;

      if ((g_strcmp0 (allergy->system, WZ_FORMULARY_SYSTEM) == 0 || allergy->system == NULL) &&
          (drug = wz_formulary_lookup (formulary, allergy->code)) != NULL)
        resolve_product (formulary, resolved, drug);
      else if ((g_strcmp0 (allergy->system, WZ_ATC_SYSTEM) == 0 || allergy->system == NULL) &&
               looks_like_atc (allergy->code))
        {
          g_ptr_array_add (resolved->atc_codes, allergy->code);
          resolved->classes |= wz_formulary_classes_for_atc (formulary, allergy->code);
        }
      else if (is_snomed)
        for (guint i = 0; i < G_N_ELEMENTS (snomed_allergens); i++)
          if (strcmp (snomed_allergens[i].code, allergy->code) == 0)
            {
              if (snomed_allergens[i].atc != NULL)
                {
                  g_ptr_array_add (resolved->atc_codes, (gpointer) snomed_allergens[i].atc);
                  resolved->classes |= wz_formulary_classes_for_atc (formulary,
                                                                     snomed_allergens[i].atc);
                }
              else
                {
                  int index = wz_formulary_find_allergy_class (formulary,
                                                               snomed_allergens[i].class_id);

                  if (index >= 0)
                    resolved->classes |= G_GUINT64_CONSTANT (1) << index;
                }
            }
    }

  if (allergy->text != NULL && *allergy->text != '\0')
    {
      g_autofree char *folded = g_utf8_casefold (allergy->text, -1);
      g_auto(GStrv) words = g_strsplit_set (allergy->text, " ,;/、，；", -1);

      /* The text, or any word of it, naming a product ("阿莫西林", "Penicillin 青霉素"). */
      for (guint w = 0; words[w] != NULL; w++)
        if ((named = wz_formulary_lookup_name (formulary, words[w])) != NULL)
          for (guint i = 0; i < named->len; i++)
            resolve_product (formulary, resolved, g_ptr_array_index (named, i));
      if ((named = wz_formulary_lookup_name (formulary, allergy->text)) != NULL)
        for (guint i = 0; i < named->len; i++)
          resolve_product (formulary, resolved, g_ptr_array_index (named, i));

      for (guint i = 0; i < G_N_ELEMENTS (allergy_keywords); i++)
        if (strstr (folded, allergy_keywords[i].keyword) != NULL)
          {
            int index = wz_formulary_find_allergy_class (formulary, allergy_keywords[i].class_id);

            if (index >= 0)
              resolved->classes |= G_GUINT64_CONSTANT (1) << index;
          }
    }
}

static gboolean
same_substance (const ResolvedAllergy *resolved,
                const WzDrug          *drug)
{
  for (guint i = 0; i < resolved->products->len; i++)
    if (strcmp (g_ptr_array_index (resolved->products, i), drug->code) == 0)
      return TRUE;
  for (guint i = 0; i < resolved->atc_codes->len; i++)
    if (*drug->atc_code != '\0' &&
        g_str_has_prefix (drug->atc_code, g_ptr_array_index (resolved->atc_codes, i)))
      return TRUE;
  return FALSE;
}

static const char *
class_name (WzFormulary *formulary,
            guint64      mask)
{
  for (guint i = 0; i < wz_formulary_get_n_allergy_classes (formulary); i++)
    if (mask & (G_GUINT64_CONSTANT (1) << i))
      return wz_formulary_get_allergy_class (formulary, i)->id;
  return "?";
}

static void
check_allergies (WzFormulary     *formulary,
                 GArray          *resolved,
                 const WzDrug    *drug,
                 int              index,
                 GPtrArray       *findings)
{
  for (guint a = 0; a < resolved->len; a++)
    {
      const ResolvedAllergy *allergy = &g_array_index (resolved, ResolvedAllergy, a);
      const char *who = allergy->allergy->reference ? allergy->allergy->reference : allergy->label;
      g_autofree char *tail = g_strconcat (drug->code, ":", who, NULL);
      guint64 shared = allergy->classes & drug->class_mask;
      WzCrossSeverity cross = WZ_CROSS_NONE;
      guint64 cross_class = 0;
      WzRxFinding *finding;

      if (same_substance (allergy, drug) || shared != 0)
        {
          const char *klass = shared ? class_name (formulary, shared) : NULL;

          finding = add_finding (findings, WZ_RX_SEVERITY_HIGH, "allergy", index, -1, tail,
                                 klass
                                 ? g_strdup_printf ("Allergy: the patient is allergic to %s, and "
                                                    "%s belongs to the same class (%s).",
                                                    allergy->label, en_name (drug), klass)
                                 : g_strdup_printf ("Allergy: the patient is allergic to %s (%s).",
                                                    allergy->label, en_name (drug)),
                                 klass
                                 ? g_strdup_printf ("过敏：患者对%s过敏，%s属于同一类别（%s）。",
                                                    allergy->label, zh_name (drug), klass)
                                 : g_strdup_printf ("过敏：患者对%s过敏（%s）。", allergy->label,
                                                    zh_name (drug)));
          set_implicated (finding, allergy->allergy->reference);
          continue;
        }

      for (guint p = 0; p < wz_formulary_get_n_allergy_classes (formulary); p++)
        {
          if (!(allergy->classes & (G_GUINT64_CONSTANT (1) << p)))
            continue;
          for (guint c = 0; c < wz_formulary_get_n_allergy_classes (formulary); c++)
            if ((drug->class_mask & (G_GUINT64_CONSTANT (1) << c)) &&
                wz_formulary_cross_severity (formulary, p, c) > cross)
              {
                cross = wz_formulary_cross_severity (formulary, p, c);
                cross_class = G_GUINT64_CONSTANT (1) << p;
              }
        }

      if (cross != WZ_CROSS_NONE)
        {
          const WzAllergyClass *klass = NULL;

          for (guint c = 0; c < wz_formulary_get_n_allergy_classes (formulary); c++)
            if (cross_class & (G_GUINT64_CONSTANT (1) << c))
              klass = wz_formulary_get_allergy_class (formulary, c);

          finding = add_finding (findings, cross_to_severity (cross), "cross-allergy", index, -1,
                                 tail,
                                 g_strdup_printf ("Possible cross-allergy: the patient is allergic "
                                                  "to %s (%s); %s may cross-react. %s",
                                                  allergy->label, klass->id, en_name (drug),
                                                  klass->note_en),
                                 g_strdup_printf ("可能交叉过敏：患者对%s过敏（%s），%s可能发生交叉"
                                                  "过敏。%s", allergy->label, klass->id,
                                                  zh_name (drug), klass->note_zh));
          set_implicated (finding, allergy->allergy->reference);
        }
    }
}

static gboolean
same_class (const char *a,
            const char *b)
{
  return a != NULL && b != NULL && strlen (a) >= 5 && strlen (b) >= 5 && strncmp (a, b, 5) == 0;
}

static WzRxSeverity
interaction_severity (const WzInteraction *interaction)
{
  switch (interaction->severity)
    {
    case WZ_INTERACTION_CONTRAINDICATED:
    case WZ_INTERACTION_MAJOR:
      return WZ_RX_SEVERITY_HIGH;
    case WZ_INTERACTION_MODERATE:
      return WZ_RX_SEVERITY_MODERATE;
    case WZ_INTERACTION_MINOR:
    default:
      return WZ_RX_SEVERITY_LOW;
    }
}

static const char *
interaction_severity_zh (const WzInteraction *interaction)
{
  static const char *const names[] = { "轻度", "中度", "严重", "禁忌" };

  return names[interaction->severity];
}

static void
add_interaction (GPtrArray           *findings,
                 const WzInteraction *interaction,
                 const WzDrug        *drug,
                 int                  index,
                 int                  other_index,
                 const char          *other_en,
                 const char          *other_zh,
                 const char          *other_key,
                 const char          *other_reference)
{
  g_autofree char *tail = g_strconcat (drug->code, ":", other_key, NULL);
  WzRxFinding *finding;

  finding = add_finding (findings, interaction_severity (interaction), "interaction", index,
                         other_index, tail,
                         g_strdup_printf ("Interaction (%s): %s with %s. %s %s",
                                          wz_interaction_severity_to_string (interaction->severity),
                                          en_name (drug), other_en, interaction->mechanism_en,
                                          interaction->advice_en),
                         g_strdup_printf ("相互作用（%s）：%s与%s。%s",
                                          interaction_severity_zh (interaction), zh_name (drug),
                                          other_zh, interaction->advice_zh));
  set_implicated (finding, other_reference);
}

static void
check_pairs (WzFormulary        *formulary,
             const WzRxPatient  *patient,
             GPtrArray          *lines,
             const WzDrug      **drugs,
             GPtrArray          *findings)
{
  for (guint i = 0; i < lines->len; i++)
    {
      const WzDrug *drug = drugs[i];

      if (drug == NULL)
        continue;

      for (guint j = i + 1; j < lines->len; j++)
        {
          const WzDrug *other = drugs[j];
          const WzInteraction *interaction;
          g_autofree char *tail = NULL;

          if (other == NULL)
            continue;

          if (strcmp (drug->code, other->code) == 0 || same_class (drug->atc_code, other->atc_code))
            {
              gboolean same = strcmp (drug->code, other->code) == 0;

              tail = g_strconcat (drug->code, ":", other->code, NULL);
              add_finding (findings, WZ_RX_SEVERITY_MODERATE, "duplicate-therapy", i, j, tail,
                           same
                           ? g_strdup_printf ("Duplicate: %s is prescribed on two lines.",
                                              en_name (drug))
                           : g_strdup_printf ("Duplicate therapy: %s and %s are in the same "
                                              "class (ATC %.5s).", en_name (drug),
                                              en_name (other), drug->atc_code),
                           same
                           ? g_strdup_printf ("重复用药：%s在两行中重复开具。", zh_name (drug))
                           : g_strdup_printf ("重复用药：%s与%s属于同一类药物（ATC %.5s）。",
                                              zh_name (drug), zh_name (other), drug->atc_code));
            }

          if ((interaction = wz_formulary_interaction (formulary, drug, other->atc_code)) != NULL)
            add_interaction (findings, interaction, drug, i, j, en_name (other), zh_name (other),
                             other->code, NULL);
        }

      for (guint m = 0; m < patient->medications->len; m++)
        {
          const WzRxCurrentMedication *medication = g_ptr_array_index (patient->medications, m);
          const WzDrug *current = wz_formulary_lookup (formulary, medication->drug_code);
          const char *atc = current ? current->atc_code : medication->atc_code;
          const char *label = medication->text ? medication->text
                              : current ? current->generic_name_en : atc ? atc : "?";
          const char *label_zh = medication->text ? medication->text
                                 : current ? current->generic_name_zh : label;
          const char *other_key = medication->reference ? medication->reference : label;
          const WzRxLine *line = g_ptr_array_index (lines, i);
          const WzInteraction *interaction;

          /* An active request of this same prescription is not "another" medication. */
          if (medication->reference != NULL && line->reference != NULL &&
              strcmp (medication->reference, line->reference) == 0)
            continue;

          if ((current != NULL && strcmp (current->code, drug->code) == 0) ||
              same_class (drug->atc_code, atc))
            {
              g_autofree char *tail = g_strconcat (drug->code, ":", other_key, NULL);
              WzRxFinding *finding;

              finding = add_finding (findings, WZ_RX_SEVERITY_MODERATE, "duplicate-therapy", i, -1,
                                     tail,
                                     g_strdup_printf ("Duplicate therapy: the patient already "
                                                      "takes %s, in the same class as %s.",
                                                      label, en_name (drug)),
                                     g_strdup_printf ("重复用药：患者正在使用%s，与%s属于同一类药物。",
                                                      label_zh, zh_name (drug)));
              set_implicated (finding, medication->reference);
            }

          if (atc != NULL && (interaction = wz_formulary_interaction (formulary, drug, atc)) != NULL)
            add_interaction (findings, interaction, drug, i, -1, label, label_zh, other_key,
                             medication->reference);
        }
    }
}

static gboolean
has_ckd (const WzRxPatient *patient)
{
  static const char *const snomed_ckd[] = {
    "709044004", "46177005", "431855005", "431856006", "433144002", "433146000", "90688005", NULL
  };

  for (guint i = 0; i < patient->conditions->len; i++)
    {
      const WzRxCondition *condition = g_ptr_array_index (patient->conditions, i);

      if (condition->code == NULL)
        continue;
      if (g_strcmp0 (condition->system, SNOMED) == 0 &&
          g_strv_contains (snomed_ckd, condition->code))
        return TRUE;
      if ((condition->system == NULL || g_strcmp0 (condition->system, ICD10) == 0) &&
          (g_str_has_prefix (condition->code, "N18") || g_str_has_prefix (condition->code, "N19")))
        return TRUE;
    }
  return FALSE;
}

static void
check_dose (const WzRxPatient *patient,
            const WzDrug      *drug,
            const WzRxLine    *line,
            int                index,
            GPtrArray         *findings)
{
  double age_years = patient->age_days >= 0 ? patient->age_days / DAYS_PER_YEAR : NAN;
  gboolean child = !isnan (age_years) && age_years < 18;
  gboolean per_kg = !isnan (drug->child_max_mg_per_kg_day);
  double daily = wz_rx_daily_dose (drug, line);
  g_autofree char *daily_text = NULL;
  g_autofree char *limit_text = NULL;
  gboolean above = FALSE;

  if (isnan (line->dose))
    return;

  if (isnan (daily))
    {
      const WzRxFrequency *frequency = wz_rx_frequency_lookup (line->frequency);
      double single = convert (drug, line->dose, line->dose_unit, drug->dose_unit);

      /* When needed without a daily maximum: one dose can still be too much for a day. */
      if (frequency != NULL && frequency->per_day == 0 && !isnan (single) &&
          !isnan (drug->adult_max_daily_dose) && single > drug->adult_max_daily_dose + DOSE_EPSILON)
        {
          daily_text = format_number (single);
          limit_text = format_number (drug->adult_max_daily_dose);
          add_finding (findings, WZ_RX_SEVERITY_HIGH, "dose-above-max", index, -1, drug->code,
                       g_strdup_printf ("Dose too high: one dose of %s is %s %s, above the maximum "
                                        "of %s %s a day.", en_name (drug), daily_text,
                                        drug->dose_unit, limit_text, drug->dose_unit),
                       g_strdup_printf ("剂量过高：%s单次剂量%s %s，超过每日最大剂量%s %s。",
                                        zh_name (drug), daily_text, drug->dose_unit, limit_text,
                                        drug->dose_unit));
          return;
        }
      if (frequency != NULL && frequency->per_day != 0 && isnan (convert (drug, 1, line->dose_unit,
                                                                           drug->dose_unit)))
        add_finding (findings, WZ_RX_SEVERITY_LOW, "dose-unchecked", index, -1, drug->code,
                     g_strdup_printf ("The dose of %s in %s cannot be compared with the formulary, "
                                      "which doses it in %s.", en_name (drug),
                                      line->dose_unit ? line->dose_unit : "(no unit)",
                                      drug->dose_unit),
                     g_strdup_printf ("%s的剂量单位%s无法与药品目录的单位%s比较，未能核对剂量。",
                                      zh_name (drug), line->dose_unit ? line->dose_unit : "（无）",
                                      drug->dose_unit));
      return;
    }

  daily_text = format_number (daily);

  if (child && per_kg)
    {
      if (isnan (patient->weight_kg) || patient->weight_kg <= 0)
        add_finding (findings, WZ_RX_SEVERITY_MODERATE, "weight-needed", index, -1, drug->code,
                     g_strdup_printf ("A child's dose of %s is checked per kg of body weight; "
                                      "record the weight.", en_name (drug)),
                     g_strdup_printf ("儿童使用%s需按体重核对剂量，请记录体重。", zh_name (drug)));
      else
        {
          double daily_mg = convert (drug, daily, drug->dose_unit, "mg");
          double mg_per_kg = daily_mg / patient->weight_kg;
          g_autofree char *per_kg_text = format_number (mg_per_kg);

          if (mg_per_kg > drug->child_max_mg_per_kg_day + DOSE_EPSILON)
            {
              limit_text = format_number (drug->child_max_mg_per_kg_day);
              add_finding (findings, WZ_RX_SEVERITY_HIGH, "dose-above-max", index, -1, drug->code,
                           g_strdup_printf ("Dose too high for the child's weight: %s mg/kg a day "
                                            "of %s, above the maximum of %s mg/kg a day.",
                                            per_kg_text, en_name (drug), limit_text),
                           g_strdup_printf ("按体重剂量过高：%s每日%s mg/kg，超过最大%s mg/kg/日。",
                                            zh_name (drug), per_kg_text, limit_text));
              above = TRUE;
            }
          else if (mg_per_kg < drug->child_usual_mg_per_kg_day / 2 - DOSE_EPSILON)
            {
              limit_text = format_number (drug->child_usual_mg_per_kg_day);
              add_finding (findings, WZ_RX_SEVERITY_LOW, "dose-below-usual", index, -1,
                           drug->code,
                           g_strdup_printf ("Dose possibly too low: %s mg/kg a day of %s is under "
                                            "half the usual %s mg/kg a day.", per_kg_text,
                                            en_name (drug), limit_text),
                           g_strdup_printf ("剂量可能偏低：%s每日%s mg/kg，不足常用量%s mg/kg/日的一半。",
                                            zh_name (drug), per_kg_text, limit_text));
            }
        }
    }

  if (!above && !isnan (drug->adult_max_daily_dose) &&
      daily > drug->adult_max_daily_dose + DOSE_EPSILON)
    {
      limit_text = format_number (drug->adult_max_daily_dose);
      add_finding (findings, WZ_RX_SEVERITY_HIGH, "dose-above-max", index, -1, drug->code,
                   g_strdup_printf ("Dose too high: %s %s a day of %s, above the maximum of %s %s "
                                    "a day.", daily_text, drug->dose_unit, en_name (drug),
                                    limit_text, drug->dose_unit),
                   g_strdup_printf ("剂量过高：%s每日%s %s，超过每日最大剂量%s %s。", zh_name (drug),
                                    daily_text, drug->dose_unit, limit_text, drug->dose_unit));
    }
  else if (!(child && per_kg) && !isnan (drug->adult_usual_daily_dose) &&
           daily < drug->adult_usual_daily_dose / 2 - DOSE_EPSILON && !child)
    {
      limit_text = format_number (drug->adult_usual_daily_dose);
      add_finding (findings, WZ_RX_SEVERITY_LOW, "dose-below-usual", index, -1, drug->code,
                   g_strdup_printf ("Dose possibly too low: %s %s a day of %s is under half the "
                                    "usual %s %s a day.", daily_text, drug->dose_unit,
                                    en_name (drug), limit_text, drug->dose_unit),
                   g_strdup_printf ("剂量可能偏低：%s每日%s %s，不足常用量%s %s的一半。",
                                    zh_name (drug), daily_text, drug->dose_unit, limit_text,
                                    drug->dose_unit));
    }

  if (child && !per_kg && drug->min_age_years < 18)
    add_finding (findings, WZ_RX_SEVERITY_LOW, "dose-unchecked", index, -1, drug->code,
                 g_strdup_printf ("The formulary has no weight-based dose of %s for children; only "
                                  "the adult maximum was checked.", en_name (drug)),
                 g_strdup_printf ("药品目录中没有%s的儿童按体重剂量，仅核对了成人最大剂量。",
                                  zh_name (drug)));
}

static void
check_patient_flags (const WzRxPatient *patient,
                     const WzDrug      *drug,
                     int                index,
                     gboolean           ckd,
                     GPtrArray         *findings)
{
  double age_years = patient->age_days >= 0 ? patient->age_days / DAYS_PER_YEAR : NAN;
  gboolean female = g_strcmp0 (patient->sex, "male") != 0;

  if (!isnan (age_years) && age_years + DOSE_EPSILON < drug->min_age_years)
    {
      g_autofree char *minimum = format_number (drug->min_age_years);

      add_finding (findings, WZ_RX_SEVERITY_HIGH, "min-age", index, -1, drug->code,
                   g_strdup_printf ("Too young: %s is for patients of %s years or older.",
                                    en_name (drug), minimum),
                   g_strdup_printf ("年龄不足：%s适用于%s岁及以上患者。", zh_name (drug), minimum));
    }

  if (patient->pregnant && female && drug->pregnancy != WZ_USE_SAFE)
    {
      static const WzRxSeverity severities[] = {
        WZ_RX_SEVERITY_LOW, WZ_RX_SEVERITY_MODERATE, WZ_RX_SEVERITY_HIGH, WZ_RX_SEVERITY_HIGH,
        WZ_RX_SEVERITY_LOW
      };
      static const char *const zh[] = { "安全", "慎用", "避免使用", "禁用", "资料不足" };

      add_finding (findings, severities[drug->pregnancy], "pregnancy", index, -1, drug->code,
                   g_strdup_printf ("Pregnancy: %s is marked “%s” in pregnancy.", en_name (drug),
                                    wz_use_flag_to_string (drug->pregnancy)),
                   g_strdup_printf ("妊娠：%s妊娠期%s。", zh_name (drug), zh[drug->pregnancy]));
    }

  if (patient->lactating && female && drug->lactation != WZ_USE_SAFE)
    {
      static const WzRxSeverity severities[] = {
        WZ_RX_SEVERITY_LOW, WZ_RX_SEVERITY_LOW, WZ_RX_SEVERITY_MODERATE, WZ_RX_SEVERITY_HIGH,
        WZ_RX_SEVERITY_LOW
      };
      static const char *const zh[] = { "安全", "慎用", "避免使用", "禁用", "资料不足" };

      add_finding (findings, severities[drug->lactation], "lactation", index, -1, drug->code,
                   g_strdup_printf ("Breastfeeding: %s is marked “%s” during lactation.",
                                    en_name (drug), wz_use_flag_to_string (drug->lactation)),
                   g_strdup_printf ("哺乳期：%s哺乳期%s。", zh_name (drug), zh[drug->lactation]));
    }

  if ((ckd || (!isnan (patient->egfr) && patient->egfr < 60)) &&
      drug->renal_adjust != WZ_RENAL_NO)
    {
      gboolean severe = !isnan (patient->egfr) && patient->egfr < 30;
      gboolean known = drug->renal_adjust == WZ_RENAL_YES;
      g_autofree char *egfr = isnan (patient->egfr) ? NULL : format_number (patient->egfr);

      add_finding (findings,
                   !known ? WZ_RX_SEVERITY_LOW
                   : severe ? WZ_RX_SEVERITY_HIGH : WZ_RX_SEVERITY_MODERATE,
                   "renal", index, -1, drug->code,
                   known
                   ? g_strdup_printf ("Kidney function: %s needs a lower dose, a longer interval or "
                                      "avoiding in renal impairment (%s%s).", en_name (drug),
                                      egfr ? "eGFR " : "chronic kidney disease", egfr ? egfr : "")
                   : g_strdup_printf ("Kidney function: no data on %s in renal impairment (%s%s).",
                                      en_name (drug),
                                      egfr ? "eGFR " : "chronic kidney disease", egfr ? egfr : ""),
                   known
                   ? g_strdup_printf ("肾功能：肾功能不全时%s需减量、延长给药间隔或避免使用（%s%s）。",
                                      zh_name (drug), egfr ? "eGFR " : "慢性肾脏病",
                                      egfr ? egfr : "")
                   : g_strdup_printf ("肾功能：%s缺乏肾功能不全时的用药资料（%s%s）。",
                                      zh_name (drug), egfr ? "eGFR " : "慢性肾脏病",
                                      egfr ? egfr : ""));
    }
}

static int
compare_findings (gconstpointer a,
                  gconstpointer b)
{
  const WzRxFinding *x = *(WzRxFinding * const *) a;
  const WzRxFinding *y = *(WzRxFinding * const *) b;

  if (x->severity != y->severity)
    return x->severity > y->severity ? -1 : 1;
  if (x->line != y->line)
    return x->line < y->line ? -1 : 1;
  return strcmp (x->key, y->key);
}

GPtrArray *
wz_rx_check (WzFormulary       *formulary,
             const WzRxPatient *patient,
             GPtrArray         *lines)
{
  GPtrArray *findings = g_ptr_array_new_with_free_func ((GDestroyNotify) wz_rx_finding_free);
  g_autoptr(GArray) resolved = g_array_new (FALSE, FALSE, sizeof (ResolvedAllergy));
  g_autofree const WzDrug **drugs = g_new0 (const WzDrug *, lines->len + 1);
  gboolean ckd = has_ckd (patient);

  g_return_val_if_fail (WZ_IS_FORMULARY (formulary), findings);

  g_array_set_clear_func (resolved, (GDestroyNotify) resolved_allergy_clear);
  g_array_set_size (resolved, patient->allergies->len);
  for (guint a = 0; a < patient->allergies->len; a++)
    resolve_allergy (formulary, g_ptr_array_index (patient->allergies, a),
                     &g_array_index (resolved, ResolvedAllergy, a));

  for (guint i = 0; i < lines->len; i++)
    {
      const WzRxLine *line = g_ptr_array_index (lines, i);

      drugs[i] = wz_formulary_lookup (formulary, line->drug_code);
      if (drugs[i] == NULL)
        continue;

      check_allergies (formulary, resolved, drugs[i], i, findings);
      check_dose (patient, drugs[i], line, i, findings);
      check_patient_flags (patient, drugs[i], i, ckd, findings);
    }

  check_pairs (formulary, patient, lines, drugs, findings);

  g_ptr_array_sort (findings, compare_findings);
  return findings;
}

/* --- DetectedIssue ---------------------------------------------------------------------------- */

static const char *
act_code (const char *code,
          const char **out_display)
{
  static const struct
  {
    const char *finding;
    const char *act;
    const char *display;
  } map[] = {
    { "allergy", "ALGY", "Allergy Alert" },
    { "cross-allergy", "ALGY", "Allergy Alert" },
    { "duplicate-therapy", "DUPTHPY", "Duplicate Therapy Alert" },
    { "interaction", "DRG", "Drug Interaction Alert" },
    { "dose-above-max", "DOSEH", "High Dose Alert" },
    { "dose-below-usual", "DOSEL", "Low Dose Alert" },
    { "dose-unchecked", "DOSE", "Dosage problem" },
    { "weight-needed", "DOSE", "Dosage problem" },
    { "min-age", "AGE", "Age Alert" },
    { "pregnancy", "PREG", "Pregnancy Alert" },
    { "lactation", "LACT", "Lactation Alert" },
    { "renal", "COND", "Condition Alert" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (map); i++)
    if (strcmp (map[i].finding, code) == 0)
      {
        *out_display = map[i].display;
        return map[i].act;
      }

  *out_display = "Detected issue";
  return "ISSUE";
}

static JsonObject *
coding_object (const char *system,
               const char *code,
               const char *display)
{
  JsonObject *coding = json_object_new ();

  json_object_set_string_member (coding, "system", system);
  json_object_set_string_member (coding, "code", code);
  if (display != NULL)
    json_object_set_string_member (coding, "display", display);
  return coding;
}

static JsonObject *
reference_object (const char *reference,
                  const char *display)
{
  JsonObject *object = json_object_new ();

  if (reference != NULL)
    json_object_set_string_member (object, "reference", reference);
  if (display != NULL)
    json_object_set_string_member (object, "display", display);
  return object;
}

static void
add_line_reference (JsonArray *implicated,
                    GPtrArray *lines,
                    int        index)
{
  const WzRxLine *line;
  g_autofree char *display = NULL;

  if (index < 0 || lines == NULL || (guint) index >= lines->len)
    return;

  line = g_ptr_array_index (lines, index);
  display = g_strdup_printf ("line %d", index + 1);
  json_array_add_object_element (implicated,
                                 reference_object (line->reference,
                                                   line->reference ? NULL : display));
}

JsonObject *
wz_rx_finding_to_detected_issue (const WzRxFinding *finding,
                                 GPtrArray         *lines,
                                 const char        *status,
                                 const char        *patient_ref,
                                 const char        *author_ref,
                                 const char        *identified,
                                 const char        *override_reason)
{
  JsonObject *issue = json_object_new ();
  JsonArray *identifiers = json_array_new ();
  JsonObject *identifier = json_object_new ();
  JsonObject *code = json_object_new ();
  JsonArray *codings = json_array_new ();
  JsonArray *implicated = json_array_new ();
  JsonObject *detail_element = json_object_new ();
  JsonArray *detail_extensions = json_array_new ();
  JsonObject *translation = json_object_new ();
  JsonArray *translation_parts = json_array_new ();
  JsonObject *lang = json_object_new ();
  JsonObject *content = json_object_new ();
  const char *display;
  const char *act = act_code (finding->code, &display);

  json_object_set_string_member (issue, "resourceType", "DetectedIssue");

  json_object_set_string_member (identifier, "system", WZ_RX_FINDING_KEY_SYSTEM);
  json_object_set_string_member (identifier, "value", finding->key);
  json_array_add_object_element (identifiers, identifier);
  json_object_set_array_member (issue, "identifier", identifiers);

  json_object_set_string_member (issue, "status", status);

  json_array_add_object_element (codings, coding_object (V3_ACT_CODE, act, display));
  json_array_add_object_element (codings, coding_object (WZ_RX_CHECK_SYSTEM, finding->code, NULL));
  json_object_set_array_member (code, "coding", codings);
  json_object_set_object_member (issue, "code", code);

  json_object_set_string_member (issue, "severity", wz_rx_severity_to_string (finding->severity));
  if (patient_ref != NULL)
    json_object_set_object_member (issue, "patient", reference_object (patient_ref, NULL));
  if (identified != NULL)
    json_object_set_string_member (issue, "identifiedDateTime", identified);
  if (author_ref != NULL)
    json_object_set_object_member (issue, "author", reference_object (author_ref, NULL));

  add_line_reference (implicated, lines, finding->line);
  add_line_reference (implicated, lines, finding->other_line);
  for (guint i = 0; finding->implicated && finding->implicated[i] != NULL; i++)
    json_array_add_object_element (implicated, reference_object (finding->implicated[i], NULL));
  if (json_array_get_length (implicated) > 0)
    json_object_set_array_member (issue, "implicated", implicated);
  else
    json_array_unref (implicated);

  json_object_set_string_member (issue, "detail", finding->message_en);
  json_object_set_string_member (lang, "url", "lang");
  json_object_set_string_member (lang, "valueCode", "zh-CN");
  json_object_set_string_member (content, "url", "content");
  json_object_set_string_member (content, "valueString", finding->message_zh);
  json_array_add_object_element (translation_parts, lang);
  json_array_add_object_element (translation_parts, content);
  json_object_set_string_member (translation, "url", TRANSLATION);
  json_object_set_array_member (translation, "extension", translation_parts);
  json_array_add_object_element (detail_extensions, translation);
  json_object_set_array_member (detail_element, "extension", detail_extensions);
  json_object_set_object_member (issue, "_detail", detail_element);

  if (override_reason != NULL)
    {
      JsonArray *mitigations = json_array_new ();
      JsonObject *mitigation = json_object_new ();
      JsonObject *action = json_object_new ();
      JsonArray *action_codings = json_array_new ();

      json_array_add_object_element (action_codings,
                                     coding_object (WZ_RX_CHECK_SYSTEM, "override",
                                                    "Prescriber override with reason"));
      json_object_set_array_member (action, "coding", action_codings);
      json_object_set_string_member (action, "text", override_reason);
      json_object_set_object_member (mitigation, "action", action);
      if (identified != NULL)
        json_object_set_string_member (mitigation, "date", identified);
      if (author_ref != NULL)
        json_object_set_object_member (mitigation, "author", reference_object (author_ref, NULL));
      json_array_add_object_element (mitigations, mitigation);
      json_object_set_array_member (issue, "mitigation", mitigations);
    }

  return issue;
}
