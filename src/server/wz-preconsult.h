/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <libsoup/soup.h>

#include "wz-audit.h"
#include "wz-auth.h"
#include "wz-store.h"
#include "wz-triage.h"

G_BEGIN_DECLS

#define WZ_TYPE_PRECONSULT (wz_preconsult_get_type ())
G_DECLARE_FINAL_TYPE (WzPreconsult, wz_preconsult, WZ, PRECONSULT, GObject)

/* Pre-consultation (预问诊): the patient's answers before the visit, triaged by the rules in
 * data/clinical/triage-rules.json.
 *
 * When a QuestionnaireResponse for the pre-consultation questionnaire is created, the visit's
 * Encounter gets a new version: status arrived (or planned) → triaged, priority from the urgency
 * (EM, UR, R, EL) carrying the triage-source extension with the rule ids. A priority a doctor set
 * (one without that extension) is never replaced. A red flag also raises one Flag (category
 * safety) per red flag for the doctor. Writes made here are audited and announced with the
 * "resource-written" signal (WzStoredResource *, "Encounter/ID"), like a client's writes.
 *
 * The rules file is loaded and checked here: a broken file is an error, so the server does not
 * start with rules it cannot apply. Calls use the store and belong to its thread. */
WzPreconsult *wz_preconsult_new       (WzStore          *store,
                                       WzAudit          *audit,
                                       GError          **error);
/* Same with the rules at RULES_PATH instead of the data directory's. */
WzPreconsult *wz_preconsult_new_with_rules (WzStore     *store,
                                            WzAudit     *audit,
                                            const char  *rules_path,
                                            GError     **error);
WzTriage     *wz_preconsult_get_triage (WzPreconsult    *self);

/* Stores the pre-consultation Questionnaire built from the rules, or brings the stored one up to
 * date; nothing is written when it already matches. */
gboolean      wz_preconsult_seed_questionnaire (WzPreconsult  *self,
                                                GError       **error);

/* Before a create: RESOURCE, if it answers the pre-consultation questionnaire, must fit it and
 * name an existing Encounter whose patient is its subject, with the time it was authored.
 * WZ_ERROR_INVALID or WZ_ERROR_UNPROCESSABLE otherwise; TRUE for every other resource. */
gboolean      wz_preconsult_check     (WzPreconsult     *self,
                                       JsonObject       *resource,
                                       GError          **error);
/* After a create (not a conditional create that found an existing match): triages STORED when
 * it is a pre-consultation QuestionnaireResponse. Failures are logged; the answers stay stored. */
void          wz_preconsult_created   (WzPreconsult            *self,
                                       const WzStoredResource  *stored);
/* Triages the answers RESPONSE (stored as QuestionnaireResponse/ID) and updates the visit. */
gboolean      wz_preconsult_apply     (WzPreconsult     *self,
                                       JsonObject       *response,
                                       const char       *id,
                                       GError          **error);

typedef enum
{
  WZ_PRECONSULT_DEMO_ROUTINE,  /* blood pressure review and a repeat prescription: urgency 4 */
  WZ_PRECONSULT_DEMO_URGENT,   /* pregnant, with a migraine attack and vomiting: urgency 2 */
} WzPreconsultDemo;

/* For `demo-data`: answers of KIND from PATIENT ("Patient/ID") for their planned or waiting
 * Encounter, stored and triaged as if the patient had sent them. */
gboolean      wz_preconsult_add_demo_answers (WzPreconsult     *self,
                                              const char       *patient,
                                              WzPreconsultDemo  kind,
                                              GError          **error);

/* Adds, for the patient page:
 *   GET /visit/triage-rules.json  the rules, public: the questions and what they lead to
 *   GET /visit/queue              with a patient session: {"status","position","waiting"}, the
 *                                 patient's place among the doctor's waiting patients today */
void          wz_preconsult_register  (WzPreconsult     *self,
                                       SoupServer       *server,
                                       WzAuth           *auth);

G_END_DECLS
