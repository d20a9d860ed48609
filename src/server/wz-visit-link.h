/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <libsoup/soup.h>

#include "wz-audit.h"
#include "wz-auth.h"
#include "wz-care-team.h"
#include "wz-store.h"

G_BEGIN_DECLS

#define WZ_TYPE_VISIT_LINK (wz_visit_link_get_type ())
G_DECLARE_FINAL_TYPE (WzVisitLink, wz_visit_link, WZ, VISIT_LINK, GObject)

/* Visit links: how a patient reaches their visit without an account. A doctor asks for one
 * (POST /fhir/Encounter/{id}/$visit-link, see wz-fhir-routes), sends the patient
 * BASE/visit/#TOKEN, and the page trades the token once for a patient session:
 *
 *   POST /auth/visit {"link_token": T}
 *   → 200 {"access_token","token_type","expires_in","role":"patient","patient":"Patient/ID",
 *          "encounter":"Encounter/ID"}
 *   → 401 OperationOutcome when the link was used, has expired or is unknown; 400 malformed.
 *
 * Both steps are written to the audit log before the answer leaves. */
WzVisitLink *wz_visit_link_new      (WzStore            *store,
                                     WzAuth             *auth,
                                     WzAudit            *audit,
                                     WzCareTeam         *care_team);
/* Adds POST /auth/visit. */
void         wz_visit_link_register (WzVisitLink        *self,
                                     SoupServer         *server);
/* Makes a link token for Encounter ENCOUNTER_ID if SESSION may hand one out: a doctor on the
 * care team of the encounter's patient. Errors: NOT_FOUND (no such encounter, or not one the
 * doctor may see), FORBIDDEN (not a doctor), UNPROCESSABLE (no patient, or cancelled).
 * *out_patient is the encounter's "Patient/ID". */
char        *wz_visit_link_create   (WzVisitLink        *self,
                                     const WzSession    *session,
                                     const char         *encounter_id,
                                     char              **out_patient,
                                     gint64             *out_expires_at,
                                     GError            **error);

/* Same without a session, for `wenzhen-server visit-link` run by the operator; CREATED_BY names
 * who asked. */
char        *wz_visit_link_make     (WzStore            *store,
                                     WzAuth             *auth,
                                     const char         *encounter_id,
                                     const char         *created_by,
                                     char              **out_patient,
                                     gint64             *out_expires_at,
                                     GError            **error);
/* "BASE/visit/#TOKEN": the token rides in the fragment, which browsers never send to a server or
 * put in a Referer. */
char        *wz_visit_link_url      (const char         *base,
                                     const char         *token);

G_END_DECLS
