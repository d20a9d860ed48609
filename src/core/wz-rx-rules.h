/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "wz-formulary.h"
#include "wz-rx-checks.h"

G_BEGIN_DECLS

/* The rules of online prescribing (互联网诊疗监管细则) the server enforces when signing.
 *
 *  no-diagnosis         Every prescription needs a diagnosis: at least one Condition named by
 *                       the lines' reasonReference or the Encounter's diagnosis that is not
 *                       refuted or entered-in-error.
 *  followup-required    Only a follow-up (复诊) of an already diagnosed condition: at least one
 *                       diagnosis Condition that is active (clinicalStatus active, recurrence or
 *                       relapse, or not given) and either
 *                       (a) was recorded (recordedDate, else onsetDateTime) on a day before the
 *                           Encounter began (period.start; the signing day when absent) and does
 *                           not belong to this Encounter (Condition.encounter), or
 *                       (b) is confirmed (verificationStatus confirmed) and the Encounter's type
 *                           says follow-up (HL7 v2-0276 FOLLOWUP or SNOMED 390906007): the doctor
 *                           records a diagnosis made elsewhere, e.g. another hospital's records.
 *                       A first visit gets advice or a referral, not a prescription.
 *  controlled-substance No narcotic, psychotropic, toxic, radioactive or precursor product
 *                       (formulary controlled_class other than none).
 *  not-in-formulary     Every line names a product of the formulary.
 *  guardian-required    A patient under 6 years needs a guardian on record: a Patient.contact
 *                       whose relationship has a v3 RoleCode of a guardian or parent (GUARD, PRN,
 *                       NPRN, FTH, MTH, NFTH, NMTH, ADOPTF, ADOPTM, STPFTH, STPMTH) or whose
 *                       relationship text says 监护人, 父亲, 母亲, guardian, parent, father or
 *                       mother, and a name.
 *  birthdate-required   The age must be known (Patient.birthDate) to apply the age rules.
 *  duration-missing     Every line (except "once") needs a duration in days.
 *  duration-exceeded    At most 7 days for an acute condition and 30 days for a chronic stable
 *                       one, unless an override reason is given for that line. Chronic means:
 *                       the product is one used long-term (formulary `chronic` yes) and, when
 *                       any diagnosis is coded in ICD-10 and found in the ICD list, one of them
 *                       is marked chronic there (so hypertension does not stretch a course of
 *                       amoxicillin to 30 days); without ICD-coded diagnoses the product's flag
 *                       decides alone.
 *  override-required    A high-severity finding of the checks needs an override reason.
 *  dose-missing         Every line needs a dose, a unit and a known frequency.
 *
 * Overridable rules are duration-exceeded and override-required; the others are never. */

#define WZ_RX_MAX_DAYS_ACUTE   7
#define WZ_RX_MAX_DAYS_CHRONIC 30

typedef struct
{
  char     *reference;       /* "Condition/ID" */
  char     *code;
  char     *system;
  char     *text;
  char     *clinical_status; /* active, recurrence, relapse, inactive, remission, resolved, NULL */
  char     *verification;    /* confirmed, provisional, refuted, entered-in-error, … or NULL */
  char     *recorded_date;   /* YYYY-MM-DD (recordedDate, else onsetDateTime) or NULL */
  char     *encounter;       /* "Encounter/ID" the Condition was recorded in, or NULL */
} WzRxDiagnosis;

typedef struct
{
  gint64      age_days;          /* < 0: unknown */
  gboolean    has_guardian;
  const char *encounter;         /* "Encounter/ID" */
  const char *encounter_start;   /* YYYY-MM-DD, or NULL */
  gboolean    encounter_is_followup;
  const char *today;             /* YYYY-MM-DD: the signing day */
  GPtrArray  *diagnoses;         /* WzRxDiagnosis */
} WzRxRulesContext;

typedef struct
{
  char     *code;
  char     *key;          /* what an override names: "duration-exceeded:DRUG", finding keys */
  char     *message_en;
  char     *message_zh;
  int       line;         /* -1 when about the whole prescription */
  gboolean  overridable;
} WzRxViolation;

WzRxDiagnosis *wz_rx_diagnosis_new  (const char *reference,
                                     const char *code,
                                     const char *system,
                                     const char *text);
void           wz_rx_diagnosis_free (WzRxDiagnosis *diagnosis);
void           wz_rx_violation_free (WzRxViolation *violation);

/* Evaluates the rules for LINES (WzRxLine) with FINDINGS (from wz_rx_check(), may be NULL) and
 * OVERRIDES (key → reason text, may be NULL; blank reasons do not count). Returns the violations
 * (WzRxViolation) that remain, empty when the prescription may be signed. Pure. */
GPtrArray     *wz_rx_rules_evaluate (WzFormulary            *formulary,
                                     const WzRxRulesContext *context,
                                     GPtrArray              *lines,
                                     GPtrArray              *findings,
                                     GHashTable             *overrides);

/* Whether CONTEXT's diagnoses make LINE's condition chronic (see duration-exceeded). */
gboolean       wz_rx_rules_is_chronic (WzFormulary            *formulary,
                                       const WzRxRulesContext *context,
                                       const WzDrug           *drug);

/* Reading the inputs from FHIR JSON, the same way on the server and in the app. */

/* The Patient names a guardian or parent (see guardian-required). */
gboolean       wz_rx_patient_has_guardian        (JsonObject  *patient);
/* A prescription line from a MedicationRequest: the product from medicationCodeableConcept (the
 * coding in WZ_FORMULARY_SYSTEM, else the first coding), from dosageInstruction[0] the dose
 * (doseAndRate[0].doseQuantity value and unit, else code), the frequency (timing.code coding
 * code; asNeededBoolean true means prn, with timing.repeat frequency per 1 d as its daily
 * maximum) and the route (route coding code), and the duration from
 * dispenseRequest.expectedSupplyDuration (d, wk). Missing parts stay NAN/NULL for the rules to
 * report. The reference is "MedicationRequest/ID" when the request has an id. */
WzRxLine      *wz_rx_line_from_medication_request (JsonObject *request);
/* A diagnosis from a Condition resource (REFERENCE "Condition/ID"). */
WzRxDiagnosis *wz_rx_diagnosis_from_condition    (JsonObject  *condition,
                                                  const char  *reference);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WzRxDiagnosis, wz_rx_diagnosis_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WzRxViolation, wz_rx_violation_free)

G_END_DECLS
