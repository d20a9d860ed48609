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
 *   GET  /followup/worklist also takes _count (1–500, default 25) and _offset: patients are
 *        paged, "counts" and "total" cover the whole list
 *
 * For the patient web page, with a patient (visit-link) session, about that patient only:
 *   GET  /followup/me/reminders       due and overdue Tasks (and those due within a week),
 *                                     programme vaccines due
 *   POST /followup/me/readings        blood pressure, glucose, weight → Observation, judged
 *   POST /followup/me/checkin         adherence check-in answers → Observation, Task completed
 *   GET  /followup/me/prescriptions   approved (active) prescriptions with refill dates
 *   POST /followup/me/renewal         a renewal request → Task and a visit in the doctor's queue
 *   GET  /followup/me/vaccinations    Immunization record and the schedule
 *   POST /followup/me/screening       pre-vaccination QuestionnaireResponse, stored and judged
 *   POST /followup/me/reaction        a reaction after a vaccination → AdverseEvent
 *   POST /followup/me/confirm         confirms a revisit: the visit joins the doctor's queue
 * (bodies in wz-followup-routes.c). New Observations and AdverseEvents, from here or the FHIR
 * API, are judged: a value out of a plan's target or a serious reaction raises a Flag for the
 * doctor, announced on /ws. AdverseEvents sent to the FHIR API are checked as
 * wz_adverse_event_check() says. Revisits due today are put in the queue
 * (wz_followup_queue_sweep) at start and every ten minutes.
 *
 * The data files come from data/clinical under the server's data directory. */
void wz_followup_routes_setup (SoupServer *server,
                               WzStore    *store,
                               WzAuth     *auth,
                               WzAudit    *audit,
                               WzCareTeam *care_team,
                               WzWsHub    *hub);

/* Judges what WRITER (an object with the "resource-written" signal, the FHIR routes) stores;
 * DATA_DIR holds formulary.db, read for refill dates. */
void wz_followup_routes_watch (SoupServer *server,
                               GObject    *writer,
                               const char *data_dir);

G_END_DECLS
