/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "wz-auth.h"
#include "wz-store.h"

G_BEGIN_DECLS

typedef enum
{
  WZ_CARE_TEAM_READ,
  WZ_CARE_TEAM_WRITE,
} WzCareTeamAccess;

#define WZ_TYPE_CARE_TEAM (wz_care_team_get_type ())
G_DECLARE_FINAL_TYPE (WzCareTeam, wz_care_team, WZ, CARE_TEAM, GObject)

/* Who may see and change which resources; the server asks this before every answer.
 *
 * - doctor, pharmacist: a Patient and the resources that belong to them when the practitioner is
 *   on the patient's care team (wz_store_is_on_care_team: named in Patient.generalPractitioner,
 *   or a participant of one of the patient's Encounters or Appointments). Data that names no
 *   patient belongs to the patient of the encounter it names; data naming neither is nobody's to
 *   see, so it cannot be written (422). Reference data (Practitioner, Questionnaire) is open to
 *   them; a Binary (chat attachment, wz-binary-routes) is readable by whoever takes part in its
 *   security-context Encounter. Only doctors write clinical data, and only for patients on their
 *   care team; anyone may register a new Patient.
 * - admin: Practitioner records and the audit log, no clinical data.
 * - patient (a visit-link session): their own Patient, the Encounter of the link, and what that
 *   visit produces (Communication, QuestionnaireResponse, Consent, Observation, Flag), and the
 *   Questionnaire forms. They may create and update Communication, QuestionnaireResponse, Consent
 *   and Observation, always for themselves and that encounter.
 *
 * A resource outside what a user may see answers as if it did not exist (404), so ids of other
 * patients' data cannot be probed; refusals by type or role are 403. Calls use the store and so
 * belong to its thread. */
WzCareTeam *wz_care_team_new               (WzStore                *store);

/* The role rule alone: may SESSION read or write resources of TYPE at all? FALSE with
 * WZ_ERROR_FORBIDDEN naming the role and the type. */
gboolean    wz_care_team_check_type        (const WzSession        *session,
                                            const char             *type,
                                            WzCareTeamAccess        access,
                                            GError                **error);
/* May SESSION see TYPE/ID, whose data belongs to PATIENT ("Patient/ID", nullable) and ENCOUNTER
 * ("Encounter/ID", nullable)? FALSE without an error means no; FALSE with one means the store
 * could not tell (WZ_ERROR_UNAVAILABLE). */
gboolean    wz_care_team_may_see           (WzCareTeam             *self,
                                            const WzSession        *session,
                                            const char             *type,
                                            const char             *id,
                                            const char             *patient,
                                            const char             *encounter,
                                            GError                **error);
/* Same for one stored version of a resource. */
gboolean    wz_care_team_may_see_stored    (WzCareTeam             *self,
                                            const WzSession        *session,
                                            const WzStoredResource *resource,
                                            GError                **error);
/* May SESSION store RESOURCE (the new content, ID NULL for a create)? FALSE with
 * WZ_ERROR_FORBIDDEN saying why, or a store error. Reading the current version first is the
 * caller's job (an update of what one may not see is a 404). */
gboolean    wz_care_team_may_write         (WzCareTeam             *self,
                                            const WzSession        *session,
                                            JsonObject             *resource,
                                            const char             *id,
                                            GError                **error);
/* Narrows QUERY to what SESSION may see: searches are filtered, never refused for care-team
 * reasons. */
gboolean    wz_care_team_restrict_search   (WzCareTeam             *self,
                                            const WzSession        *session,
                                            WzSearchQuery          *query,
                                            GError                **error);
/* Whether PRACTITIONER ("Practitioner/ID") is on the care team of PATIENT ("Patient/ID"). */
gboolean    wz_care_team_includes          (WzCareTeam             *self,
                                            const char             *patient,
                                            const char             *practitioner,
                                            GError                **error);
/* The parties of Encounter ENCOUNTER_ID: its subject ("Patient/ID", may be NULL) and the
 * practitioners taking part ("Practitioner/ID"). FALSE with WZ_ERROR_NOT_FOUND when there is no
 * such encounter. */
gboolean    wz_care_team_encounter_parties (WzCareTeam             *self,
                                            const char             *encounter_id,
                                            char                  **out_patient,
                                            GPtrArray             **out_practitioners,
                                            GError                **error);
/* "Encounter/ID" of RESOURCE (TYPE/ID): itself for an Encounter, else the encounter it
 * references, or NULL. */
char       *wz_care_team_encounter_of      (JsonObject             *resource,
                                            const char             *type,
                                            const char             *id);
/* Same for one stored version (parses its JSON). */
char       *wz_care_team_encounter_of_stored (const WzStoredResource *resource);

G_END_DECLS
