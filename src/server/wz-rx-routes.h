/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <libsoup/soup.h>

#include "wz-audit.h"
#include "wz-auth.h"
#include "wz-care-team.h"
#include "wz-store.h"
#include "wz-ws-hub.h"

G_BEGIN_DECLS

/* meta.tag the server puts on a MedicationRequest version it accepted a signature for. */
#define WZ_RX_STATE_SYSTEM "https://wenzhen.github.io/fhir/CodeSystem/rx-state"
#define WZ_TASK_CODE_SYSTEM "http://hl7.org/fhir/CodeSystem/task-code"

#define WZ_TYPE_RX_ROUTES (wz_rx_routes_get_type ())
G_DECLARE_FINAL_TYPE (WzRxRoutes, wz_rx_routes, WZ, RX_ROUTES, GObject)

/* Prescribing on the server (see docs in wz-rx-routes.c for bodies and answers):
 *
 *   GET  /formulary?q=TEXT&_count=20              search-as-you-type (doctor, pharmacist)
 *   GET  /formulary/CODE                           one product
 *   POST /fhir/MedicationRequest/$check           checks and rules for drafts → Parameters
 *   POST /fhir/MedicationRequest/$sign            doctor signs drafts → Provenance, DetectedIssue,
 *                                                 Task "approve" for the pharmacy
 *   POST /fhir/MedicationRequest/{id}/$cancel     doctor withdraws with a reason
 *   POST /fhir/Practitioner/{id}/$register-key    a doctor registers their public key
 *   GET  /fhir/Task/$review-queue                 pharmacist: open approval Tasks
 *   GET  /fhir/Task/{id}/$review                  the prescription behind a Task, signature checked
 *   POST /fhir/Task/{id}/$approve                 pharmacist: requests become active
 *   POST /fhir/Task/{id}/$reject                  pharmacist, with a reason: back to the doctor
 *
 * It also guards the generic FHIR routes: a signed MedicationRequest cannot be updated or
 * deleted (409), requests are only created and edited as drafts, and approval Tasks and
 * signature Provenances are only made by the operations above (422).
 *
 * Opens DATA_DIR/formulary.db, hooks itself into SERVER (kept alive by it) and publishes its
 * writes on HUB. */
gboolean wz_rx_routes_setup (SoupServer  *server,
                             WzStore     *store,
                             WzAuth      *auth,
                             WzAudit     *audit,
                             WzCareTeam  *care_team,
                             WzWsHub     *hub,
                             const char  *data_dir,
                             GError     **error);

G_END_DECLS
