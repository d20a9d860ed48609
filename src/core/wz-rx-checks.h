/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "wz-formulary.h"

G_BEGIN_DECLS

/* Code system of the finding and rule codes below (DetectedIssue.code.coding[1],
 * OperationOutcome details). */
#define WZ_RX_CHECK_SYSTEM "https://wenzhen.github.io/fhir/CodeSystem/rx-check"
/* DetectedIssue.identifier system: the finding's key (see WzRxFinding). */
#define WZ_RX_FINDING_KEY_SYSTEM "https://wenzhen.github.io/fhir/rx-finding-key"

typedef enum
{
  WZ_RX_SEVERITY_LOW,
  WZ_RX_SEVERITY_MODERATE,
  WZ_RX_SEVERITY_HIGH,
} WzRxSeverity;

/* A dosing frequency: code, plain-language text, and how many doses a day it means. */
typedef struct
{
  const char *code;        /* "bid" */
  const char *text_zh;     /* "每日两次" */
  const char *text_en;     /* "twice a day" */
  double      per_day;     /* 2; 0 for prn (as needed) */
  gboolean    single;      /* "once": one dose in all */
} WzRxFrequency;

/* The known frequencies, in the order an editor lists them: qd bid tid qid q4h q6h q8h q12h qn
 * qm qod qw biw tiw prn once. Terminated by an entry with code NULL. */
const WzRxFrequency *wz_rx_frequencies     (void);
/* Looks CODE up case-insensitively; HL7 v3 GTSAbbreviation codes are understood too (BID, QD,
 * BED = qn, AM = qm, WK = qw, Q6H …). NULL when unknown. */
const WzRxFrequency *wz_rx_frequency_lookup (const char *code);

typedef struct
{
  char *code;        /* coding code (formulary code, ATC code, SNOMED, …) or NULL */
  char *system;      /* coding system or NULL */
  char *text;        /* code.text or display, for matching by name */
  char *reference;   /* "AllergyIntolerance/ID" or NULL */
} WzRxAllergy;

typedef struct
{
  char *code;
  char *system;      /* ICD-10 "http://hl7.org/fhir/sid/icd-10", SNOMED, … */
  char *text;
  char *reference;   /* "Condition/ID" */
} WzRxCondition;

typedef struct
{
  char *drug_code;   /* formulary code, or NULL */
  char *atc_code;    /* or NULL; taken from the formulary when drug_code is known */
  char *text;
  char *reference;   /* "MedicationStatement/ID" or "MedicationRequest/ID" */
} WzRxCurrentMedication;

typedef struct
{
  gint64      age_days;         /* < 0: unknown */
  double      weight_kg;        /* NAN: unknown */
  const char *sex;              /* FHIR gender or NULL */
  gboolean    pregnant;
  gboolean    lactating;
  double      egfr;             /* mL/min/1.73 m², NAN: unknown */
  GPtrArray  *allergies;        /* WzRxAllergy */
  GPtrArray  *conditions;       /* WzRxCondition */
  GPtrArray  *medications;      /* WzRxCurrentMedication */
} WzRxPatient;

typedef struct
{
  char   *drug_code;
  double  dose;               /* per administration; NAN when not given */
  char   *dose_unit;          /* mg, ug, g, IU, mL, tablet, capsule, … */
  char   *frequency;          /* a WzRxFrequency code */
  double  max_doses_per_day;  /* prn only: the most doses a day, NAN when not given */
  char   *route;
  double  duration_days;      /* NAN when not given */
  char   *reference;          /* "MedicationRequest/ID" or NULL for an unsaved line */
} WzRxLine;

/* One check result. KEY identifies it across runs so the doctor's override reason given after a
 * live check still applies when signing: "CODE:DRUG[:OTHER]" with the product code of the line
 * and, for pairs, the other product code, current medication or allergy reference. */
typedef struct
{
  WzRxSeverity  severity;
  char         *code;          /* allergy, cross-allergy, duplicate-therapy, interaction,
                                * dose-above-max, dose-below-usual, dose-unchecked, weight-needed,
                                * min-age, pregnancy, lactation, renal */
  char         *key;
  char         *message_en;
  char         *message_zh;
  int           line;          /* index of the line, or -1 */
  int           other_line;    /* second line of a pair, or -1 */
  char        **implicated;    /* other references: current medication, allergy, condition */
} WzRxFinding;

WzRxPatient *wz_rx_patient_new      (void);
void         wz_rx_patient_free     (WzRxPatient *patient);
void         wz_rx_patient_add_allergy    (WzRxPatient *patient,
                                           const char  *code,
                                           const char  *system,
                                           const char  *text,
                                           const char  *reference);
void         wz_rx_patient_add_condition  (WzRxPatient *patient,
                                           const char  *code,
                                           const char  *system,
                                           const char  *text,
                                           const char  *reference);
void         wz_rx_patient_add_medication (WzRxPatient *patient,
                                           const char  *drug_code,
                                           const char  *atc_code,
                                           const char  *text,
                                           const char  *reference);

WzRxLine    *wz_rx_line_new         (const char  *drug_code,
                                     double       dose,
                                     const char  *dose_unit,
                                     const char  *frequency,
                                     double       duration_days);
void         wz_rx_line_free        (WzRxLine    *line);
void         wz_rx_finding_free     (WzRxFinding *finding);

/* Runs every check of LINES (WzRxLine) for PATIENT against FORMULARY and returns the findings
 * (WzRxFinding), most severe first. Lines whose product is not in the formulary are skipped
 * (the rules refuse them). Pure: no I/O, no clock. */
GPtrArray   *wz_rx_check            (WzFormulary       *formulary,
                                     const WzRxPatient *patient,
                                     GPtrArray         *lines);

/* Amount of DRUG's dose unit LINE gives per day (dose × doses a day, prn with its maximum),
 * converted when the units differ (mass units among themselves, a count of tablets or capsules
 * through the strength, mL through a mg/mL strength). NAN when it cannot be known. */
double       wz_rx_daily_dose       (const WzDrug      *drug,
                                     const WzRxLine    *line);
/* How many units (tablets, capsules, mL …) to dispense: dose × doses a day × days ÷ strength,
 * rounded up; rounded up to whole packs when PACK_SIZE > 0 (then the result counts units, a
 * multiple of PACK_SIZE). NAN when it cannot be worked out (prn without a maximum, units that
 * do not convert, no duration). */
double       wz_rx_quantity         (const WzDrug      *drug,
                                     const WzRxLine    *line,
                                     double             pack_size);

const char  *wz_rx_severity_to_string (WzRxSeverity severity);

/* The FHIR R4 DetectedIssue for FINDING: status (preliminary while editing, final when signed),
 * code (HL7 v3 ActCode: ALGY, DUPTHPY, DRG, DOSEH, DOSEL, AGE, PREG, LACT, COND, plus the
 * finding code in WZ_RX_CHECK_SYSTEM), severity, detail (English) with the Chinese text in a
 * FHIR translation extension (lang zh-CN), identifier (the key), patient, identifiedDateTime,
 * implicated (the lines' references, or "line N" displays for unsaved lines, and the other
 * references), and mitigation with OVERRIDE_REASON when given. PATIENT_REF, AUTHOR_REF,
 * IDENTIFIED and OVERRIDE_REASON may be NULL. */
JsonObject  *wz_rx_finding_to_detected_issue (const WzRxFinding *finding,
                                              GPtrArray         *lines,
                                              const char        *status,
                                              const char        *patient_ref,
                                              const char        *author_ref,
                                              const char        *identified,
                                              const char        *override_reason);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WzRxPatient, wz_rx_patient_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WzRxLine, wz_rx_line_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WzRxFinding, wz_rx_finding_free)

G_END_DECLS
