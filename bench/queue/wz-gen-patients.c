/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-gen-patients"

#include "config.h"

#include <json-glib/json-glib.h>
#include <locale.h>
#include <string.h>

#include "wz-audit.h"
#include "wz-auth.h"
#include "wz-demo-people.h"
#include "wz-error.h"
#include "wz-fhir.h"
#include "wz-sqlite-store.h"
#include "wz-user-admin.h"

/* Fills a new data directory with realistic patients for tests and benchmarks: Chinese names
 * with the surname frequencies of the 2020 census and some foreign residents, ages 0 to 95,
 * resident ID numbers with their birth date and check digit, mobile numbers, conditions and
 * allergies drawn from data/clinical, past visits, and today's queue for the doctor. Everything
 * goes through the store API in one transaction.
 *
 * Users (password from WZ_DEMO_PASSWORD, default "demo"): doctor (李伟 Li Wei) is the general
 * practitioner of every patient, the worst case for care-team filtering; doctor2 (陈明 Chen Ming)
 * has seen --small-team of them; pharmacist; admin. stdout gets one line per doctor:
 * "USERNAME Practitioner/ID N-PATIENTS". */

#define AGENT "wz-gen-patients"
#define ICD10 "http://hl7.org/fhir/sid/icd-10"
#define ATC "http://www.whocc.no/atc"
#define SNOMED "http://snomed.info/sct"
#define LOINC "http://loinc.org"
#define ACT_CODE "http://terminology.hl7.org/CodeSystem/v3-ActCode"
#define ACT_PRIORITY "http://terminology.hl7.org/CodeSystem/v3-ActPriority"

typedef struct
{
  const char *text;
  double      weight;
} Weighted;

/* Chronic conditions: ICD-10 code, built-in title (the ICD list in data/clinical wins), from
 * age, probability at that age, extra probability per year above it. */
static const struct
{
  const char *code;
  const char *title;
  int         from_age;
  double      base;
  double      per_year;
} chronic[] = {
  { "I10", "原发性高血压 Essential hypertension", 35, 0.08, 0.008 },
  { "E11.9", "2型糖尿病 Type 2 diabetes mellitus", 35, 0.04, 0.003 },
  { "E78.5", "高脂血症 Hyperlipidaemia", 35, 0.06, 0.003 },
  { "I25.1", "冠状动脉粥样硬化性心脏病 Atherosclerotic heart disease", 50, 0.03, 0.003 },
  { "J44.9", "慢性阻塞性肺疾病 Chronic obstructive pulmonary disease", 55, 0.03, 0.002 },
  { "J45.9", "支气管哮喘 Asthma", 3, 0.03, 0.0 },
  { "K21.9", "胃食管反流病 Gastro-oesophageal reflux disease", 25, 0.03, 0.0005 },
  { "M81.9", "骨质疏松 Osteoporosis", 55, 0.03, 0.003 },
  { "E03.9", "甲状腺功能减退症 Hypothyroidism", 20, 0.015, 0.0 },
  { "J30.4", "变应性鼻炎 Allergic rhinitis", 5, 0.05, 0.0 },
  { "L20.9", "特应性皮炎 Atopic dermatitis", 0, 0.03, 0.0 },
  { "E79.0", "高尿酸血症 Hyperuricaemia", 30, 0.04, 0.001 },
  { "K76.0", "脂肪肝 Fatty liver", 30, 0.05, 0.001 },
  { "N40", "前列腺增生 Hyperplasia of prostate", 55, 0.05, 0.004 },
  { "M17.9", "膝关节骨关节炎 Osteoarthritis of knee", 50, 0.03, 0.002 },
  { "F41.1", "广泛性焦虑障碍 Generalized anxiety disorder", 18, 0.01, 0.0 },
  { "G43.9", "偏头痛 Migraine", 15, 0.02, 0.0 },
  { "N18.9", "慢性肾脏病 Chronic kidney disease", 50, 0.01, 0.001 },
};

/* Drug allergies when data/clinical/formulary.csv is missing: ATC code, name, class. */
static const char *const builtin_drugs[][3] = {
  { "J01CE01", "青霉素 benzylpenicillin", "penicillin" },
  { "J01CA04", "阿莫西林 amoxicillin", "penicillin" },
  { "J01DC02", "头孢呋辛 cefuroxime", "cephalosporin" },
  { "J01EE01", "复方磺胺甲噁唑 co-trimoxazole", "sulfonamide_antibiotic" },
  { "N02BA01", "阿司匹林 aspirin", "salicylate" },
  { "M01AE01", "布洛芬 ibuprofen", "nsaid" },
  { "J01FA10", "阿奇霉素 azithromycin", "macrolide" },
  { "J01MA12", "左氧氟沙星 levofloxacin", "quinolone" },
};

/* How often each allergy class is recorded, relative to each other. */
static const Weighted allergy_class_weights[] = {
  { "penicillin", 45 }, { "cephalosporin", 12 }, { "sulfonamide_antibiotic", 8 },
  { "nsaid", 8 }, { "salicylate", 5 }, { "macrolide", 5 }, { "quinolone", 6 },
  { "iodinated_contrast", 2 }, { "opioid_phenanthrene", 2 }, { "acei", 2 },
};

static const char *const food_allergies[][2] = {
  { "256349002", "花生 Peanut" }, { "102263004", "鸡蛋 Eggs" }, { "3718001", "牛奶 Cow's milk" },
  { "44027008", "海鲜 Seafood" }, { "256350002", "坚果 Tree nut" },
};

static const char *const complaints[] = {
  "复诊开药 Repeat prescription", "咳嗽三天 Cough for three days", "头痛 Headache",
  "血压复查 Blood pressure review", "发热 Fever", "腹泻 Diarrhoea", "皮疹 Rash",
  "血糖复查 Blood sugar review", "咽痛 Sore throat", "失眠 Poor sleep", "腰痛 Low back pain",
  "检查结果解读 Test results",
};

typedef struct
{
  char *code;
  char *name;
  char *allergy_class;
} Drug;

typedef struct
{
  WzStore     *store;
  GRand       *rand;
  GDateTime   *now;
  GHashTable  *icd_titles;   /* code → "中文 English" */
  GPtrArray   *drugs;        /* Drug with an allergy class */
  guint64      n_resources;
  guint        vitals_months;  /* monthly readings behind each of today's visits */
  char        *doctor;       /* Practitioner/ID */
  char        *doctor2;
} Gen;

static void
drug_free (gpointer data)
{
  Drug *drug = data;

  g_free (drug->code);
  g_free (drug->name);
  g_free (drug->allergy_class);
  g_free (drug);
}

/* ---- reference data ---------------------------------------------------------------------- */

static char *
clinical_path (const char *name)
{
  const char *data_dir = g_getenv ("WZ_DATA_DIR");

  return g_build_filename (data_dir ? data_dir : SOURCE_DATADIR, "clinical", name, NULL);
}

/* RFC 4180: quoted fields may hold commas, doubled quotes and line breaks. */
static GPtrArray *
parse_csv (const char *text)
{
  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  g_autoptr(GStrvBuilder) row = g_strv_builder_new ();
  g_autoptr(GString) field = g_string_new (NULL);
  gboolean quoted = FALSE;
  gboolean row_has_data = FALSE;

  for (const char *p = text;; p++)
    {
      if (quoted)
        {
          if (*p == '\0')
            break;
          if (*p == '"' && p[1] == '"')
            g_string_append_c (field, *p++);
          else if (*p == '"')
            quoted = FALSE;
          else
            g_string_append_c (field, *p);
          continue;
        }

      if (*p == '"')
        quoted = row_has_data = TRUE;
      else if (*p == ',')
        {
          g_strv_builder_add (row, field->str);
          g_string_truncate (field, 0);
          row_has_data = TRUE;
        }
      else if (*p == '\n' || *p == '\0')
        {
          if (row_has_data || field->len > 0)
            {
              g_strv_builder_add (row, field->str);
              g_ptr_array_add (rows, g_strv_builder_end (row));
              g_strv_builder_unref (row);
              row = g_strv_builder_new ();
            }
          g_string_truncate (field, 0);
          row_has_data = FALSE;
          if (*p == '\0')
            break;
        }
      else if (*p != '\r')
        {
          g_string_append_c (field, *p);
          row_has_data = TRUE;
        }
    }

  return rows;
}

static gint
column_index (char       **header,
              const char  *name)
{
  for (guint i = 0; header[i] != NULL; i++)
    if (strcmp (header[i], name) == 0)
      return i;

  return -1;
}

static void
load_reference_data (Gen *gen)
{
  g_autofree char *icd_path = clinical_path ("icd10-common.tsv");
  g_autofree char *formulary_path = clinical_path ("formulary.csv");
  g_autofree char *text = NULL;

  gen->icd_titles = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  gen->drugs = g_ptr_array_new_with_free_func (drug_free);

  if (g_file_get_contents (icd_path, &text, NULL, NULL))
    {
      g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

      for (guint i = 1; lines[i] != NULL; i++)
        {
          g_auto(GStrv) fields = g_strsplit (lines[i], "\t", 4);

          if (g_strv_length (fields) >= 3)
            g_hash_table_insert (gen->icd_titles, g_strdup (fields[0]),
                                 g_strdup_printf ("%s %s", fields[2], fields[1]));
        }
      g_clear_pointer (&text, g_free);
    }

  if (g_file_get_contents (formulary_path, &text, NULL, NULL))
    {
      g_autoptr(GPtrArray) rows = parse_csv (text);
      char **header = rows->len > 0 ? g_ptr_array_index (rows, 0) : NULL;
      gint atc = header ? column_index (header, "atc_code") : -1;
      gint name_zh = header ? column_index (header, "generic_name_zh") : -1;
      gint name_en = header ? column_index (header, "generic_name_en") : -1;
      gint classes = header ? column_index (header, "allergy_class") : -1;

      for (guint i = 1; atc >= 0 && name_zh >= 0 && name_en >= 0 && classes >= 0 &&
                        i < rows->len; i++)
        {
          char **fields = g_ptr_array_index (rows, i);
          guint n = g_strv_length (fields);
          Drug *drug;

          if ((guint) MAX (MAX (atc, name_zh), MAX (name_en, classes)) >= n ||
              *fields[classes] == '\0' || *fields[atc] == '\0')
            continue;

          drug = g_new0 (Drug, 1);
          drug->code = g_strdup (fields[atc]);
          drug->name = g_strdup_printf ("%s %s", fields[name_zh], fields[name_en]);
          /* The first class is the one the allergy is usually recorded under. */
          drug->allergy_class = g_strndup (fields[classes], strcspn (fields[classes], ";"));
          g_ptr_array_add (gen->drugs, drug);
        }
    }

  if (gen->drugs->len == 0)
    for (guint i = 0; i < G_N_ELEMENTS (builtin_drugs); i++)
      {
        Drug *drug = g_new0 (Drug, 1);

        drug->code = g_strdup (builtin_drugs[i][0]);
        drug->name = g_strdup (builtin_drugs[i][1]);
        drug->allergy_class = g_strdup (builtin_drugs[i][2]);
        g_ptr_array_add (gen->drugs, drug);
      }

}

/* ---- random helpers ---------------------------------------------------------------------- */

static gboolean
chance (Gen    *gen,
        double  p)
{
  return g_rand_double (gen->rand) < p;
}

static const char *
pick_weighted (Gen            *gen,
               const Weighted *items,
               guint           n,
               double          total)
{
  double x = g_rand_double (gen->rand) * total;

  for (guint i = 0; i < n; i++)
    {
      if (x < items[i].weight)
        return items[i].text;
      x -= items[i].weight;
    }

  return items[n - 1].text;
}

/* ---- JSON helpers ------------------------------------------------------------------------ */

static void
add_string (JsonBuilder *b,
            const char  *name,
            const char  *value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, value);
}

static void
add_reference (JsonBuilder *b,
               const char  *name,
               const char  *reference,
               const char  *display)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_object (b);
  add_string (b, "reference", reference);
  if (display != NULL)
    add_string (b, "display", display);
  json_builder_end_object (b);
}

static void
begin_concept (JsonBuilder *b,
               const char  *system,
               const char  *code,
               const char  *display)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "coding");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  add_string (b, "system", system);
  add_string (b, "code", code);
  if (display != NULL)
    add_string (b, "display", display);
  json_builder_end_object (b);
  json_builder_end_array (b);
  if (display != NULL)
    add_string (b, "text", display);
}

static void
add_concept (JsonBuilder *b,
             const char  *name,
             const char  *system,
             const char  *code,
             const char  *display)
{
  json_builder_set_member_name (b, name);
  begin_concept (b, system, code, display);
  json_builder_end_object (b);
}

static void
add_concept_array (JsonBuilder *b,
                   const char  *name,
                   const char  *system,
                   const char  *code,
                   const char  *display)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  begin_concept (b, system, code, display);
  json_builder_end_object (b);
  json_builder_end_array (b);
}

/* Stores the resource B built and returns its "Type/ID". */
static char *
store (Gen          *gen,
       JsonBuilder  *b,
       GError      **error)
{
  g_autoptr(JsonNode) root = json_builder_get_root (b);
  g_autoptr(WzStoredResource) stored = NULL;

  stored = wz_store_create (gen->store, json_node_get_object (root), NULL, NULL, error);
  if (stored == NULL)
    return NULL;

  gen->n_resources++;
  return g_strconcat (stored->type, "/", stored->id, NULL);
}

static char *
format_date (GDateTime *date)
{
  return g_date_time_format (date, "%Y-%m-%d");
}

static char *
format_instant (GDateTime *time)
{
  return g_date_time_format (time, "%Y-%m-%dT%H:%M:%S%:z");
}

/* ---- resources --------------------------------------------------------------------------- */

typedef struct
{
  char       *reference;    /* Patient/ID */
  char       *display;
  int         age;
  gboolean    male;
} Person;

static void
person_clear (Person *person)
{
  g_free (person->reference);
  g_free (person->display);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Person, person_clear)

static char *
create_patient (Gen         *gen,
                Person      *person,
                GError     **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new_immutable ();
  g_autoptr(WzDemoPerson) who = wz_demo_person_new_random (gen->rand, gen->now);

  person->age = who->age;
  person->male = who->male;

  json_builder_begin_object (b);
  add_string (b, "resourceType", "Patient");
  json_builder_set_member_name (b, "active");
  json_builder_add_boolean_value (b, TRUE);
  wz_demo_person_add_to_patient (who, FALSE, b);

  json_builder_set_member_name (b, "generalPractitioner");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  add_string (b, "reference", gen->doctor);
  add_string (b, "display", "李伟 Li Wei");
  json_builder_end_object (b);
  json_builder_end_array (b);

  if (person->age < 6)
    {
      /* A young child is seen with a guardian, who is named on the record. */
      g_autofree char *guardian = g_strconcat (who->family, who->foreign ? " " : "", "建国", NULL);

      json_builder_set_member_name (b, "contact");
      json_builder_begin_array (b);
      json_builder_begin_object (b);
      add_concept_array (b, "relationship", "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
                         "GUARD", "监护人 Guardian");
      json_builder_set_member_name (b, "name");
      json_builder_begin_object (b);
      add_string (b, "text", who->foreign ? who->family : guardian);
      add_string (b, "family", who->family);
      json_builder_end_object (b);
      json_builder_end_object (b);
      json_builder_end_array (b);
    }
  json_builder_end_object (b);

  person->display = wz_demo_person_display (who);
  return person->reference = store (gen, b, error);
}

static gboolean
create_condition (Gen         *gen,
                  Person      *person,
                  const char  *code,
                  const char  *fallback_title,
                  GError     **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new_immutable ();
  g_autoptr(GDateTime) recorded = g_date_time_add_days (gen->now,
                                                        -g_rand_int_range (gen->rand, 30, 3650));
  g_autofree char *recorded_text = format_date (recorded);
  const char *title = g_hash_table_lookup (gen->icd_titles, code);
  g_autofree char *stored = NULL;

  json_builder_begin_object (b);
  add_string (b, "resourceType", "Condition");
  add_concept (b, "clinicalStatus", "http://terminology.hl7.org/CodeSystem/condition-clinical",
               "active", NULL);
  add_concept (b, "verificationStatus",
               "http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed", NULL);
  add_concept_array (b, "category", "http://terminology.hl7.org/CodeSystem/condition-category",
                     "problem-list-item", NULL);
  add_concept (b, "code", ICD10, code, title ? title : fallback_title);
  add_reference (b, "subject", person->reference, NULL);
  add_string (b, "recordedDate", recorded_text);
  add_reference (b, "recorder", gen->doctor, NULL);
  json_builder_end_object (b);

  stored = store (gen, b, error);
  return stored != NULL;
}

static gboolean
create_allergy (Gen         *gen,
                Person      *person,
                GError     **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new_immutable ();
  g_autoptr(GDateTime) recorded = g_date_time_add_days (gen->now,
                                                        -g_rand_int_range (gen->rand, 30, 3650));
  g_autofree char *recorded_text = format_date (recorded);
  g_autofree char *stored = NULL;
  gboolean food = chance (gen, 0.25);
  const char *system, *code, *name, *reaction;

  if (food)
    {
      guint i = g_rand_int_range (gen->rand, 0, G_N_ELEMENTS (food_allergies));

      system = SNOMED;
      code = food_allergies[i][0];
      name = food_allergies[i][1];
      reaction = chance (gen, 0.1) ? "过敏性休克 Anaphylaxis" : "荨麻疹 Hives";
    }
  else
    {
      double total = 0;
      const char *wanted;
      g_autoptr(GPtrArray) candidates = g_ptr_array_new ();
      Drug *drug;

      for (guint i = 0; i < G_N_ELEMENTS (allergy_class_weights); i++)
        total += allergy_class_weights[i].weight;
      wanted = pick_weighted (gen, allergy_class_weights, G_N_ELEMENTS (allergy_class_weights),
                              total);
      for (guint i = 0; i < gen->drugs->len; i++)
        if (strcmp (((Drug *) g_ptr_array_index (gen->drugs, i))->allergy_class, wanted) == 0)
          g_ptr_array_add (candidates, g_ptr_array_index (gen->drugs, i));
      if (candidates->len == 0)
        g_ptr_array_add (candidates, g_ptr_array_index (gen->drugs, 0));

      drug = g_ptr_array_index (candidates, g_rand_int_range (gen->rand, 0, candidates->len));
      system = ATC;
      code = drug->code;
      name = drug->name;
      reaction = chance (gen, 0.05) ? "过敏性休克 Anaphylaxis"
                                    : chance (gen, 0.5) ? "皮疹 Rash" : "荨麻疹 Hives";
    }

  json_builder_begin_object (b);
  add_string (b, "resourceType", "AllergyIntolerance");
  add_concept (b, "clinicalStatus",
               "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active", NULL);
  add_concept (b, "verificationStatus",
               "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
               "confirmed", NULL);
  add_string (b, "type", "allergy");
  json_builder_set_member_name (b, "category");
  json_builder_begin_array (b);
  json_builder_add_string_value (b, food ? "food" : "medication");
  json_builder_end_array (b);
  add_string (b, "criticality", strstr (reaction, "Anaphylaxis") ? "high" : "low");
  add_concept (b, "code", system, code, name);
  add_reference (b, "patient", person->reference, NULL);
  add_string (b, "recordedDate", recorded_text);
  json_builder_set_member_name (b, "reaction");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "manifestation");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  add_string (b, "text", reaction);
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_end_object (b);

  stored = store (gen, b, error);
  return stored != NULL;
}

static gboolean
create_vitals (Gen         *gen,
               Person      *person,
               const char  *encounter,
               GDateTime   *when,
               GError     **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new_immutable ();
  g_autofree char *effective = format_instant (when);
  g_autofree char *stored = NULL;
  int systolic = 110 + person->age / 2 + g_rand_int_range (gen->rand, -10, 15);
  int diastolic = 70 + person->age / 5 + g_rand_int_range (gen->rand, -8, 8);
  const struct { const char *code, *display; int value; } parts[] = {
    { "8480-6", "Systolic blood pressure", systolic },
    { "8462-4", "Diastolic blood pressure", diastolic },
  };

  json_builder_begin_object (b);
  add_string (b, "resourceType", "Observation");
  add_string (b, "status", "final");
  add_concept_array (b, "category", "http://terminology.hl7.org/CodeSystem/observation-category",
                     "vital-signs", NULL);
  add_concept (b, "code", LOINC, "85354-9", "血压 Blood pressure panel");
  add_reference (b, "subject", person->reference, NULL);
  if (encounter != NULL)
    add_reference (b, "encounter", encounter, NULL);
  add_string (b, "effectiveDateTime", effective);
  json_builder_set_member_name (b, "component");
  json_builder_begin_array (b);
  for (guint i = 0; i < G_N_ELEMENTS (parts); i++)
    {
      json_builder_begin_object (b);
      add_concept (b, "code", LOINC, parts[i].code, parts[i].display);
      json_builder_set_member_name (b, "valueQuantity");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "value");
      json_builder_add_int_value (b, parts[i].value);
      add_string (b, "unit", "mmHg");
      add_string (b, "system", "http://unitsofmeasure.org");
      add_string (b, "code", "mm[Hg]");
      json_builder_end_object (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);

  stored = store (gen, b, error);
  return stored != NULL;
}

typedef struct
{
  const char *appointment_status;   /* NULL: a walk-in without an appointment */
  const char *encounter_status;
  const char *priority;             /* v3-ActPriority code, NULL: none */
} VisitKind;

static char *
create_encounter (Gen              *gen,
                  Person           *person,
                  const char       *doctor,
                  const VisitKind  *kind,
                  GDateTime        *start,
                  const char       *appointment,
                  GError          **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new_immutable ();
  g_autoptr(GDateTime) end = g_date_time_add_minutes (start, 15);
  g_autofree char *start_text = format_instant (start);
  g_autofree char *end_text = format_instant (end);
  const char *complaint = complaints[g_rand_int_range (gen->rand, 0, G_N_ELEMENTS (complaints))];

  json_builder_begin_object (b);
  add_string (b, "resourceType", "Encounter");
  add_string (b, "status", kind->encounter_status);
  json_builder_set_member_name (b, "class");
  json_builder_begin_object (b);
  add_string (b, "system", ACT_CODE);
  add_string (b, "code", "VR");
  add_string (b, "display", "virtual");
  json_builder_end_object (b);
  if (kind->priority != NULL)
    add_concept (b, "priority", ACT_PRIORITY, kind->priority, NULL);
  add_reference (b, "subject", person->reference, person->display);
  json_builder_set_member_name (b, "participant");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  add_reference (b, "individual", doctor,
                 strcmp (doctor, gen->doctor) == 0 ? "李伟 Li Wei" : "陈明 Chen Ming");
  json_builder_end_object (b);
  json_builder_end_array (b);
  if (appointment != NULL)
    {
      json_builder_set_member_name (b, "appointment");
      json_builder_begin_array (b);
      json_builder_begin_object (b);
      add_string (b, "reference", appointment);
      json_builder_end_object (b);
      json_builder_end_array (b);
    }
  json_builder_set_member_name (b, "period");
  json_builder_begin_object (b);
  add_string (b, "start", start_text);
  if (strcmp (kind->encounter_status, "finished") == 0)
    add_string (b, "end", end_text);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "reasonCode");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  add_string (b, "text", complaint);
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_end_object (b);

  return store (gen, b, error);
}

static char *
create_appointment (Gen              *gen,
                    Person           *person,
                    const VisitKind  *kind,
                    GDateTime        *start,
                    GError          **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new_immutable ();
  g_autoptr(GDateTime) end = g_date_time_add_minutes (start, 15);
  g_autofree char *start_text = format_instant (start);
  g_autofree char *end_text = format_instant (end);

  json_builder_begin_object (b);
  add_string (b, "resourceType", "Appointment");
  add_string (b, "status", kind->appointment_status);
  add_string (b, "start", start_text);
  add_string (b, "end", end_text);
  json_builder_set_member_name (b, "participant");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  add_reference (b, "actor", person->reference, person->display);
  add_string (b, "status", "accepted");
  json_builder_end_object (b);
  json_builder_begin_object (b);
  add_reference (b, "actor", gen->doctor, "李伟 Li Wei");
  add_string (b, "status", "accepted");
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_end_object (b);

  return store (gen, b, error);
}

/* Conditions, allergies and past visits of one patient. */
static gboolean
create_history (Gen         *gen,
                Person      *person,
                gboolean     sees_doctor2,
                gboolean     with_vitals,
                GError     **error)
{
  static const VisitKind past = { NULL, "finished", NULL };
  guint n_visits = g_rand_int_range (gen->rand, 0, 3);

  for (guint i = 0; i < G_N_ELEMENTS (chronic); i++)
    {
      double p;

      if (person->age < chronic[i].from_age)
        continue;
      if (strcmp (chronic[i].code, "N40") == 0 && !person->male)
        continue;
      p = chronic[i].base + chronic[i].per_year * (person->age - chronic[i].from_age);
      if (chance (gen, MIN (p, 0.6)) &&
          !create_condition (gen, person, chronic[i].code, chronic[i].title, error))
        return FALSE;
    }

  if (chance (gen, 0.11) && !create_allergy (gen, person, error))
    return FALSE;

  if (sees_doctor2 && n_visits == 0)
    n_visits = 1;
  for (guint i = 0; i < n_visits; i++)
    {
      g_autoptr(GDateTime) day = g_date_time_add_days (gen->now,
                                                       -g_rand_int_range (gen->rand, 1, 730));
      g_autoptr(GDateTime) start = g_date_time_new_local (g_date_time_get_year (day),
                                                          g_date_time_get_month (day),
                                                          g_date_time_get_day_of_month (day),
                                                          g_rand_int_range (gen->rand, 8, 18),
                                                          g_rand_int_range (gen->rand, 0, 60), 0);
      g_autofree char *encounter = create_encounter (gen, person,
                                                     sees_doctor2 && i == 0 ? gen->doctor2
                                                                            : gen->doctor,
                                                     &past, start, NULL, error);

      if (encounter == NULL ||
          (with_vitals && !create_vitals (gen, person, encounter, start, error)))
        return FALSE;
    }

  return TRUE;
}

/* Today's queue of the doctor: a mix of every state the worklist shows. */
static gboolean
create_today (Gen         *gen,
              Person      *person,
              guint        slot,
              GError     **error)
{
  static const VisitKind kinds[] = {
    { "arrived", "arrived", "R" }, { "arrived", "triaged", "UR" }, { "booked", "planned", NULL },
    { "arrived", "in-progress", "R" }, { "fulfilled", "finished", "R" },
    { NULL, "arrived", "EL" }, { "arrived", "triaged", "R" }, { "noshow", "cancelled", NULL },
    { "arrived", "triaged", "EM" }, { "booked", "planned", NULL },
  };
  const VisitKind *kind = &kinds[slot % G_N_ELEMENTS (kinds)];
  guint minutes = 8 * 60 + slot * 12;
  g_autoptr(GDateTime) start = g_date_time_new_local (g_date_time_get_year (gen->now),
                                                      g_date_time_get_month (gen->now),
                                                      g_date_time_get_day_of_month (gen->now),
                                                      MIN (minutes / 60, 23), minutes % 60, 0);
  g_autofree char *appointment = NULL;
  g_autofree char *encounter = NULL;

  if (kind->appointment_status != NULL &&
      (appointment = create_appointment (gen, person, kind, start, error)) == NULL)
    return FALSE;

  encounter = create_encounter (gen, person, gen->doctor, kind, start, appointment, error);
  if (encounter == NULL)
    return FALSE;

  /* The record pane draws a blood pressure trend: a reading a month for half a year. */
  for (guint m = 1; m <= gen->vitals_months; m++)
    {
      g_autoptr(GDateTime) when = g_date_time_add_months (start, -(int) m);

      if (!create_vitals (gen, person, NULL, when, error))
        return FALSE;
    }

  return TRUE;
}

static gboolean
data_dir_is_empty (const char  *data_dir,
                   GError     **error)
{
  const char *files[] = { "fhir.db", "auth.db", "audit.db" };

  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_build_filename (data_dir, files[i], NULL);

      if (g_file_test (path, G_FILE_TEST_EXISTS))
        {
          g_set_error (error, WZ_ERROR, WZ_ERROR_CONFLICT,
                       "%s already holds data (%s); the generator only fills a new, empty data "
                       "directory", data_dir, files[i]);
          return FALSE;
        }
    }

  return TRUE;
}

static gboolean
generate (const char  *data_dir,
          guint        n_patients,
          guint        small_team,
          guint        n_today,
          guint        vitals_months,
          guint32      seed,
          GError     **error)
{
  g_autoptr(WzSqliteStore) sqlite = NULL;
  g_autoptr(WzAuth) auth = NULL;
  g_autoptr(WzAudit) audit = NULL;
  g_autofree char *doctor_id = NULL;
  g_autofree char *doctor2_id = NULL;
  g_autofree char *pharmacist_id = NULL;
  g_autofree char *admin_id = NULL;
  g_autofree char *summary = NULL;
  const char *password = g_getenv ("WZ_DEMO_PASSWORD");
  gint64 started = g_get_monotonic_time ();
  guint today_every;
  Gen gen = { 0 };
  gboolean ok = FALSE;

  if (password == NULL || *password == '\0')
    password = "demo";

  if (!data_dir_is_empty (data_dir, error) ||
      (sqlite = wz_sqlite_store_open (data_dir, error)) == NULL ||
      (auth = wz_auth_open (data_dir, error)) == NULL ||
      (audit = wz_audit_open (data_dir, error)) == NULL)
    return FALSE;

  gen.store = WZ_STORE (sqlite);
  gen.vitals_months = vitals_months;
  gen.rand = g_rand_new_with_seed (seed);
  gen.now = g_date_time_new_now_local ();
  load_reference_data (&gen);

  if ((doctor_id = wz_user_admin_add (gen.store, auth, audit, AGENT, "doctor", password, "doctor",
                                      "李伟 Li Wei", WZ_AUTH_ADD_USER_DEMO_PASSWORD,
                                      error)) == NULL ||
      (doctor2_id = wz_user_admin_add (gen.store, auth, audit, AGENT, "doctor2", password,
                                       "doctor", "陈明 Chen Ming",
                                       WZ_AUTH_ADD_USER_DEMO_PASSWORD, error)) == NULL ||
      (pharmacist_id = wz_user_admin_add (gen.store, auth, audit, AGENT, "pharmacist", password,
                                          "pharmacist", "王芳 Wang Fang",
                                          WZ_AUTH_ADD_USER_DEMO_PASSWORD, error)) == NULL ||
      (admin_id = wz_user_admin_add (gen.store, auth, audit, AGENT, "admin", password, "admin",
                                     "系统管理员 Administrator", WZ_AUTH_ADD_USER_DEMO_PASSWORD,
                                     error)) == NULL)
    goto out;

  gen.doctor = g_strconcat ("Practitioner/", doctor_id, NULL);
  gen.doctor2 = g_strconcat ("Practitioner/", doctor2_id, NULL);
  small_team = MIN (small_team, n_patients);
  n_today = MIN (n_today, n_patients);
  today_every = n_today > 0 ? MAX (n_patients / n_today, 1) : 0;

  if (!wz_sqlite_store_begin_batch (sqlite, error))
    goto out;

  for (guint i = 0; i < n_patients; i++)
    {
      g_auto(Person) person = { 0 };
      /* Spread over the whole set, so the small team is not just the first patients created. */
      gboolean sees_doctor2 = small_team > 0 && i % (n_patients / small_team) == 0 &&
                              i / (n_patients / small_team) < small_team;
      gboolean today = today_every > 0 && i % today_every == today_every / 2 &&
                       i / today_every < n_today;

      if (create_patient (&gen, &person, error) == NULL ||
          !create_history (&gen, &person, sees_doctor2, today, error) ||
          (today && !create_today (&gen, &person, i / today_every, error)))
        {
          wz_sqlite_store_end_batch (sqlite, FALSE, NULL);
          goto out;
        }
    }

  if (!wz_sqlite_store_end_batch (sqlite, TRUE, error))
    goto out;

  summary = g_strdup_printf ("Patient?generated=%u", n_patients);
  wz_audit_record (audit, "C", "0", AGENT, summary, NULL, "local", NULL, NULL);
  wz_audit_flush (audit);

  g_print ("doctor %s %u\n", gen.doctor, n_patients);
  g_print ("doctor2 %s %u\n", gen.doctor2, small_team);
  g_printerr ("%s: %u patients, %" G_GUINT64_FORMAT " resources in %.1f s\n", AGENT, n_patients,
              gen.n_resources, (g_get_monotonic_time () - started) / 1e6);
  ok = TRUE;

out:
  wz_sqlite_store_close (sqlite);
  g_clear_pointer (&gen.rand, g_rand_free);
  g_clear_pointer (&gen.now, g_date_time_unref);
  g_clear_pointer (&gen.icd_titles, g_hash_table_unref);
  g_clear_pointer (&gen.drugs, g_ptr_array_unref);
  g_free (gen.doctor);
  g_free (gen.doctor2);
  return ok;
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *data_dir = NULL;
  gint patients = 1000;
  gint small_team = 200;
  gint today = 30;
  gint vitals_months = 6;
  gint seed = 1;
  g_autoptr(GOptionContext) context = g_option_context_new ("— fill a data directory with "
                                                            "generated patients");
  g_autoptr(GError) error = NULL;
  const GOptionEntry entries[] = {
    { "data-dir", 0, 0, G_OPTION_ARG_FILENAME, &data_dir, "New data directory", "DIR" },
    { "patients", 0, 0, G_OPTION_ARG_INT, &patients, "Number of patients (1000)", "N" },
    { "small-team", 0, 0, G_OPTION_ARG_INT, &small_team,
      "Patients doctor2 has seen (200)", "N" },
    { "today", 0, 0, G_OPTION_ARG_INT, &today, "Visits in today's queue (30)", "N" },
    { "vitals-months", 0, 0, G_OPTION_ARG_INT, &vitals_months,
      "Months of blood pressure readings behind each of today's visits (6)", "N" },
    { "seed", 0, 0, G_OPTION_ARG_INT, &seed, "Random seed (1)", "N" },
    { NULL },
  };

  setlocale (LC_ALL, "");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s: %s\n", AGENT, error->message);
      return 2;
    }
  if (data_dir == NULL || patients < 0 || small_team < 0 || today < 0 || vitals_months < 0)
    {
      g_printerr ("%s: --data-dir is required; counts cannot be negative\n", AGENT);
      return 2;
    }

  if (!generate (data_dir, patients, small_team, today, vitals_months, seed, &error))
    {
      g_printerr ("%s: %s\n", AGENT, error->message);
      return 1;
    }

  return 0;
}
