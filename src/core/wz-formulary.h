/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* FHIR code system of the formulary's product codes (MedicationRequest.medicationCodeableConcept). */
#define WZ_FORMULARY_SYSTEM "https://wenzhen.github.io/fhir/CodeSystem/formulary"
#define WZ_ATC_SYSTEM       "http://www.whocc.no/atc"

typedef enum
{
  WZ_CONTROLLED_NONE,
  WZ_CONTROLLED_NARCOTIC,
  WZ_CONTROLLED_PSYCHOTROPIC_1,
  WZ_CONTROLLED_PSYCHOTROPIC_2,
  WZ_CONTROLLED_TOXIC,
  WZ_CONTROLLED_RADIOACTIVE,
  WZ_CONTROLLED_PRECURSOR,
} WzControlledClass;

/* pregnancy / lactation columns */
typedef enum
{
  WZ_USE_SAFE,
  WZ_USE_CAUTION,
  WZ_USE_AVOID,
  WZ_USE_CONTRAINDICATED,
  WZ_USE_UNKNOWN,
} WzUseFlag;

typedef enum
{
  WZ_RENAL_NO,
  WZ_RENAL_YES,
  WZ_RENAL_UNKNOWN,
} WzRenalAdjust;

/* One product of the formulary (one row of data/clinical/formulary.csv; see its README for the
 * meaning of each column). Absent numbers are NAN. */
typedef struct
{
  char              *code;
  char              *generic_name_en;
  char              *generic_name_zh;
  char              *brand_name_zh;     /* "" when none */
  char              *pinyin_initials;
  char              *atc_code;          /* "" for Chinese patent medicines */
  char              *form;
  double             strength;
  char              *strength_unit;
  char              *route;
  double             adult_usual_daily_dose;
  double             adult_max_daily_dose;
  char              *dose_unit;
  double             child_usual_mg_per_kg_day;
  double             child_max_mg_per_kg_day;
  double             min_age_years;
  WzControlledClass  controlled_class;
  WzUseFlag          pregnancy;
  WzUseFlag          lactation;
  WzRenalAdjust      renal_adjust;
  char             **allergy_classes;   /* NULL-terminated, may be empty */
  gboolean           chronic;

  /* Filled when the formulary is loaded, for the checks. */
  guint64            class_mask;        /* bit i: allergy class i of the loaded class table */
  GPtrArray         *interactions;      /* const WzInteraction* with a side matching atc_code */
  guint              line;              /* CSV line the row came from */
} WzDrug;

typedef enum
{
  WZ_INTERACTION_MINOR,
  WZ_INTERACTION_MODERATE,
  WZ_INTERACTION_MAJOR,
  WZ_INTERACTION_CONTRAINDICATED,
} WzInteractionSeverity;

typedef struct
{
  char                  *a_atc;
  char                  *b_atc;
  WzInteractionSeverity  severity;
  char                  *mechanism_en;
  char                  *advice_en;
  char                  *advice_zh;
  char                  *source;
} WzInteraction;

typedef enum
{
  WZ_CROSS_NONE,
  WZ_CROSS_LOW,
  WZ_CROSS_MODERATE,
  WZ_CROSS_HIGH,
} WzCrossSeverity;

typedef struct
{
  char            *id;
  char           **atc_prefixes;
  char           **cross_reacts_with;
  WzCrossSeverity  cross_severity;
  char            *note_en;
  char            *note_zh;
} WzAllergyClass;

/* At most this many allergy classes (one bit each in WzDrug.class_mask). */
#define WZ_FORMULARY_MAX_ALLERGY_CLASSES 64

/* One search hit. */
typedef struct
{
  const WzDrug *drug;
  guint         score;   /* higher is better */
} WzFormularyHit;

#define WZ_FORMULARY_ERROR (wz_formulary_error_quark ())

typedef enum
{
  WZ_FORMULARY_ERROR_PARSE,      /* CSV syntax or encoding: the file cannot be read further */
  WZ_FORMULARY_ERROR_INVALID,    /* rows break the format; the message lists every bad row */
} WzFormularyError;

GQuark wz_formulary_error_quark (void);

/* RFC 4180 reader. DATA must be UTF-8 (a leading byte-order mark is skipped); records end in
 * CRLF or LF; a field is quoted with '"' when it holds a comma, quote or line break, and a
 * quote inside it is doubled. Returns an array of records (GStrv of fields) and, in
 * *OUT_LINES (guint), the line each record starts on (1-based). Errors name the line and column:
 * invalid UTF-8, a quote inside an unquoted field, text after a closing quote, a quote left
 * open at the end. */
GPtrArray *wz_csv_parse (const char  *data,
                         gsize        length,
                         GArray     **out_lines,
                         GError     **error);

#define WZ_TYPE_FORMULARY (wz_formulary_get_type ())
G_DECLARE_FINAL_TYPE (WzFormulary, wz_formulary, WZ, FORMULARY, GObject)

/* The exact header line formulary.csv must have. */
extern const char *const wz_formulary_columns[];

WzFormulary   *wz_formulary_new                 (void);
/* Reads a formulary CSV. Every row is checked against the README's rules (header, column count,
 * enumerations, numbers, the ATC pattern, unique codes, usual ≤ max, per-kg doses only with a
 * mass unit, allergy classes known when a class table is loaded); when any row is bad nothing is
 * loaded and the error (WZ_FORMULARY_ERROR_INVALID) lists every bad row as
 * "line N, column NAME: problem", one per line. Replaces the products already loaded. */
gboolean       wz_formulary_load_drugs          (WzFormulary  *self,
                                                 const char   *data,
                                                 gsize         length,
                                                 GError      **error);
/* Same for rows already split into fields (GStrv, in wz_formulary_columns order), LINES (guint,
 * may be NULL) numbering them for the messages. */
gboolean       wz_formulary_load_rows           (WzFormulary  *self,
                                                 GPtrArray    *rows,
                                                 GArray       *lines,
                                                 GError      **error);
/* interactions.csv and allergy-classes.csv (same all-or-nothing rules). */
gboolean       wz_formulary_load_interactions   (WzFormulary  *self,
                                                 const char   *data,
                                                 gsize         length,
                                                 GError      **error);
gboolean       wz_formulary_load_allergy_classes (WzFormulary *self,
                                                  const char  *data,
                                                  gsize        length,
                                                  GError     **error);
/* icd10-common.tsv: which ICD-10 codes are chronic conditions. */
gboolean       wz_formulary_load_icd10          (WzFormulary  *self,
                                                 const char   *data,
                                                 gsize         length,
                                                 GError      **error);
/* Loads the three CSV tables and the ICD list from DIR (data/clinical or an installed copy). */
gboolean       wz_formulary_load_directory      (WzFormulary  *self,
                                                 const char   *dir,
                                                 GError      **error);
/* Adds one product already validated elsewhere (e.g. read back from the server's database). The
 * formulary takes ownership. Call wz_formulary_prepare() after the last one. */
void           wz_formulary_add_drug            (WzFormulary  *self,
                                                 WzDrug       *drug);
/* Rebuilds the search and check indexes after drugs or tables changed. The load functions call
 * it themselves. */
void           wz_formulary_prepare             (WzFormulary  *self);

guint          wz_formulary_get_n_drugs         (WzFormulary  *self);
const WzDrug  *wz_formulary_get_drug            (WzFormulary  *self,
                                                 guint         index);
const WzDrug  *wz_formulary_lookup              (WzFormulary  *self,
                                                 const char   *code);
/* Products whose generic (zh/en) or brand name equals NAME, case-insensitively; NULL if none. */
const GPtrArray *wz_formulary_lookup_name       (WzFormulary  *self,
                                                 const char   *name);
guint          wz_formulary_get_n_interactions  (WzFormulary  *self);
guint          wz_formulary_get_n_allergy_classes (WzFormulary *self);
const WzAllergyClass *wz_formulary_get_allergy_class (WzFormulary *self,
                                                      guint        index);
/* Index of the class with ID, or -1. */
int            wz_formulary_find_allergy_class  (WzFormulary  *self,
                                                 const char   *id);
/* Class bits of an ATC code (the classes whose prefix it starts with). */
guint64        wz_formulary_classes_for_atc     (WzFormulary  *self,
                                                 const char   *atc);
/* Cross-reactivity between a patient's class P and a candidate's class C, the higher of the two
 * directions (WZ_CROSS_NONE when unrelated). */
WzCrossSeverity wz_formulary_cross_severity     (WzFormulary  *self,
                                                 guint         patient_class,
                                                 guint         candidate_class);
/* The interaction row that applies to two ATC codes (most severe, then most specific), or NULL. */
const WzInteraction *wz_formulary_interaction   (WzFormulary  *self,
                                                 const WzDrug *drug,
                                                 const char   *other_atc);
/* TRUE/FALSE for an ICD-10 code in the list (3- or 4-character, the first match of CODE and its
 * 3-character category), setting *OUT_CHRONIC; FALSE when the code is not listed. */
gboolean       wz_formulary_icd10_is_chronic    (WzFormulary  *self,
                                                 const char   *code,
                                                 gboolean     *out_chronic);

/* Search-as-you-type over generic names (zh, en), brand name, pinyin initials, product code and
 * ATC code. Case-insensitive. Ranked: whole-field match, then prefix, then substring; within
 * that, Chinese and pinyin names before English and brand, shorter names first. Returns at most
 * LIMIT hits (WzFormularyHit) and the number of matches in *OUT_TOTAL. */
GArray        *wz_formulary_search              (WzFormulary  *self,
                                                 const char   *query,
                                                 guint         limit,
                                                 guint        *out_total);

const char    *wz_controlled_class_to_string    (WzControlledClass  value);
const char    *wz_use_flag_to_string            (WzUseFlag          value);
const char    *wz_interaction_severity_to_string (WzInteractionSeverity value);
void           wz_drug_free                     (WzDrug            *drug);
/* Whether UNIT is mg, ug, g (a mass unit the checks can convert). */
gboolean       wz_unit_is_mass                  (const char        *unit);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WzDrug, wz_drug_free)

G_END_DECLS
