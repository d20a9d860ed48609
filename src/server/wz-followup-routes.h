/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <libsoup/soup.h>

#include "wz-audit.h"
#include "wz-auth.h"
#include "wz-care-team.h"
#include "wz-store.h"
#include "wz-ws-hub.h"

G_BEGIN_DECLS

#define WZ_TYPE_FOLLOWUP_ROUTES (wz_followup_routes_get_type ())
G_DECLARE_FINAL_TYPE (WzFollowupRoutes, wz_followup_routes, WZ, FOLLOWUP_ROUTES, GObject)

/* Follow-up and vaccination over HTTP, every answer audited:
 *
 *   GET  /followup/worklist?date=YYYY-MM-DD[&tz=Area/City][&lang=zh|en]   (doctor)
 *        today's and overdue follow-up Tasks of the doctor's patients with their latest
 *        reported values against the plan targets (application/json, see wz-followup.c)
 *   GET  /followup/screening-questionnaire[?lang=]     the pre-vaccination Questionnaire
 *   POST /followup/screening-evaluation?patient=ID[&vaccines=MMR,HepB][&lang=]
 *        body: the QuestionnaireResponse; answer: decision per vaccine with reasons
 *   POST /fhir/CarePlan/$apply-template   body: Parameters (template, patient, start,
 *        identifier[, end][, condition…][, includeOptional][, language]); creates the CarePlan
 *        and its Tasks (201), or returns what the identifier already made (200)
 *   GET  /fhir/Patient/ID/$vaccination-schedule[?date=][&tz=][&lang=][&prefer=je_inactivated]
 *        the ImmunizationRecommendation computed from the Patient's Immunizations
 *   POST /fhir/Immunization/ID/$reaction-followup[?lang=]
 *        the adverse-event follow-up Tasks for that dose, owned by the calling doctor
 *
 * The data files come from data/clinical under the server's data directory. */
void wz_followup_routes_setup (SoupServer *server,
                               WzStore    *store,
                               WzAuth     *auth,
                               WzAudit    *audit,
                               WzCareTeam *care_team,
                               WzWsHub    *hub);

G_END_DECLS
