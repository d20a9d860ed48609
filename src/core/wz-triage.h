/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The pre-consultation questionnaire every patient page fills in, and the codes its answers use. */
#define WZ_TRIAGE_QUESTIONNAIRE_URL     "https://wenzhen.example/fhir/Questionnaire/pre-consultation"
#define WZ_TRIAGE_QUESTIONNAIRE_VERSION "1"
#define WZ_TRIAGE_SYMPTOM_SYSTEM        "https://wenzhen.example/fhir/CodeSystem/preconsult-symptom"
#define WZ_TRIAGE_DURATION_SYSTEM       "https://wenzhen.example/fhir/CodeSystem/preconsult-duration"
#define WZ_TRIAGE_SOURCE_EXTENSION      "https://wenzhen.example/fhir/StructureDefinition/triage-source"

/* linkIds of the answers; measurements are "measurement.<id>" and red flags "red-flag.<id>" with
 * the ids of the rules file. */
#define WZ_TRIAGE_LINK_COMPLAINT        "chief-complaint"
#define WZ_TRIAGE_LINK_DURATION         "duration"
#define WZ_TRIAGE_LINK_SYMPTOMS         "symptoms"
#define WZ_TRIAGE_LINK_PREGNANT         "pregnant"
#define WZ_TRIAGE_LINK_MEDICATIONS      "medications"
#define WZ_TRIAGE_LINK_MEDICATIONS_NONE "medications-none"
#define WZ_TRIAGE_LINK_ALLERGIES        "allergies"
#define WZ_TRIAGE_LINK_ALLERGIES_NONE   "allergies-none"
#define WZ_TRIAGE_LINK_MEASUREMENT      "measurement."
#define WZ_TRIAGE_LINK_RED_FLAG         "red-flag."

/* Longest free-text answer the questionnaire accepts, in characters. */
#define WZ_TRIAGE_MAX_TEXT 2000

/* What the rules need to know about the patient, from the Patient record. */
typedef struct
{
  const char *birth_date;  /* YYYY-MM-DD, or NULL when unknown */
  const char *gender;      /* FHIR administrative gender, or NULL */
  const char *on_date;     /* YYYY-MM-DD the answers were given; NULL: today (local time) */
} WzTriagePatient;

/* One rule or red flag that fired. The strings belong to the WzTriage the result holds. */
typedef struct
{
  const char *id;
  guint       urgency;
  gboolean    red_flag;
  const char *reason_en;   /* rule reason, or the red flag's alert for the doctor */
  const char *reason_zh;
  const char *message_en;  /* red flags: what the patient is told to do; NULL for rules */
  const char *message_zh;
  const char *source;      /* the first source the rules file gives for it */
} WzTriageMatch;

typedef struct _WzTriageResult WzTriageResult;

struct _WzTriageResult
{
  guint     urgency;   /* 1 emergency … 4 routine */
  gboolean  red_flag;
  GArray   *matches;   /* WzTriageMatch, most urgent first, then in the order of the file */
  GObject  *rules;     /* keeps the strings of MATCHES alive */
};

void  wz_triage_result_free     (WzTriageResult *result);
/* The ids of the matches joined with ","; "default" when nothing matched. */
char *wz_triage_result_rule_ids (const WzTriageResult *result);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WzTriageResult, wz_triage_result_free)

#define WZ_TYPE_TRIAGE (wz_triage_get_type ())
G_DECLARE_FINAL_TYPE (WzTriage, wz_triage, WZ, TRIAGE, GObject)

/* Loads and checks a rules file (data/clinical/triage-rules.json). Any unknown field, an urgency
 * outside 1–4, a rule without a source or with a source _meta.sources does not list, a condition
 * naming an unknown symptom or measurement is a WZ_ERROR_INVALID naming the place in the file. */
WzTriage       *wz_triage_new_from_file  (const char            *path,
                                          GError               **error);
WzTriage       *wz_triage_new_from_data  (const char            *data,
                                          gssize                 length,
                                          GError               **error);

/* Checks that RESPONSE answers the pre-consultation questionnaire (known linkIds, answer types,
 * known codes, measurements in range, a chief complaint and a duration) and applies the rules.
 * Pure: the same answers and patient always give the same result. NULL with WZ_ERROR_INVALID and
 * a diagnostics text when RESPONSE does not fit the questionnaire. */
WzTriageResult *wz_triage_evaluate       (WzTriage              *self,
                                          JsonObject            *response,
                                          const WzTriagePatient *patient,
                                          GError               **error);

/* TRUE when RESPONSE claims to answer the pre-consultation questionnaire. */
gboolean        wz_triage_is_preconsult  (JsonObject            *response);

/* The Questionnaire resource (Chinese, with English translations) the answers refer to, built
 * from the rules so the two never disagree. */
JsonNode       *wz_triage_build_questionnaire (WzTriage         *self);

/* Urgency 1–4 as a v3-ActPriority code (EM, UR, R, EL) and back (0 when unknown). */
const char     *wz_triage_priority_code  (guint                  urgency);
guint           wz_triage_urgency_for_priority (const char      *code);
/* Label of an urgency level from the rules file; LANG "en" or "zh". */
const char     *wz_triage_urgency_label  (WzTriage              *self,
                                          guint                  urgency,
                                          const char            *lang);

G_END_DECLS
