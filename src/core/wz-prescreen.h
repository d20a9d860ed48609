/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "wz-nip-schedule.h"

G_BEGIN_DECLS

/* The pre-vaccination screening questionnaire, made from nip-schedule.json's
 * screening_questions, and the evaluation of its answers against each vaccine's
 * contraindications, precautions and reasons to postpone. */
#define WZ_PRESCREEN_QUESTIONNAIRE_URL  WZ_FOLLOWUP_BASE "Questionnaire/pre-vaccination"
#define WZ_PRESCREEN_VERSION            "1"
/* Item.extension with who a question applies to (sub-extensions sex, minAge, maxAge as
 * {value, unit} in valueString "6 month" form), so the patient page can leave it out. */
#define WZ_PRESCREEN_APPLIES_EXTENSION  WZ_FOLLOWUP_BASE "StructureDefinition/screening-applies-to"
/* linkIds besides the questions' ids: the vaccines planned (choice, repeats) and the free-text
 * detail of the allergy question. */
#define WZ_PRESCREEN_LINK_VACCINES      "planned-vaccines"
#define WZ_PRESCREEN_LINK_ALLERGY_DETAIL "q_component_allergy.detail"

typedef enum
{
  WZ_PRESCREEN_OK,
  WZ_PRESCREEN_INCOMPLETE,       /* a question that matters for it is unanswered */
  WZ_PRESCREEN_PRECAUTION,       /* the doctor weighs benefit and risk */
  WZ_PRESCREEN_DEFER,            /* postpone */
  WZ_PRESCREEN_CONTRAINDICATED,  /* do not give */
} WzPrescreenDecision;

const char *wz_prescreen_decision_to_string (WzPrescreenDecision decision);

/* The Questionnaire resource, texts in LANG with the other language as a translation. */
JsonNode   *wz_prescreen_questionnaire      (WzNipSchedule        *schedule,
                                             const char           *lang);
/* Whether QUESTION is asked of a patient born on BIRTH with GENDER (FHIR code or NULL) on ON. */
gboolean    wz_prescreen_question_applies   (const WzNipQuestion  *question,
                                             WzDay                 birth,
                                             const char           *gender,
                                             WzDay                 on);

typedef struct
{
  const WzNipVaccine  *vaccine;
  WzPrescreenDecision  decision;     /* the most serious finding */
  GPtrArray           *findings;     /* const WzNipContraindication *, answered yes */
  GPtrArray           *unanswered;   /* const WzNipQuestion *, relevant but not answered */
} WzPrescreenVaccine;

typedef struct
{
  GArray    *vaccines;        /* WzPrescreenVaccine, in file order */
  GPtrArray *yes;             /* const WzNipQuestion *, answered yes */
  char      *allergy_detail;  /* what the family wrote, or NULL */
} WzPrescreenResult;

void                wz_prescreen_result_free (WzPrescreenResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WzPrescreenResult, wz_prescreen_result_free)

/* Judges a QuestionnaireResponse to WZ_PRESCREEN_QUESTIONNAIRE_URL for VACCINES (vaccines[].id,
 * NULL: those answered under planned-vaccines, or every programme vaccine when none is). A
 * response to another questionnaire, an unknown linkId or a non-boolean answer to a question is
 * WZ_ERROR_INVALID. */
WzPrescreenResult  *wz_prescreen_evaluate    (WzNipSchedule      *schedule,
                                              JsonObject         *response,
                                              const char *const  *vaccines,
                                              WzDay               birth,
                                              const char         *gender,
                                              WzDay               on,
                                              GError            **error);
/* {"vaccines":[{"vaccine","decision","findings":[{"id","kind","text"}],"unanswered":[…]}],
 *  "yes":[question ids],"allergyDetail"} with texts in LANG. */
JsonNode           *wz_prescreen_result_to_json (const WzPrescreenResult *result,
                                                 const char              *lang);

G_END_DECLS
