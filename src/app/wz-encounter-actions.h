/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "wz-api-client.h"

G_BEGIN_DECLS

#define WZ_ACT_PRIORITY_SYSTEM "http://terminology.hl7.org/CodeSystem/v3-ActPriority"
#define WZ_TRIAGE_SOURCE_URL   "https://wenzhen.example/fhir/StructureDefinition/triage-source"

typedef enum
{
  WZ_ENCOUNTER_START,     /* arrived/triaged → in-progress */
  WZ_ENCOUNTER_FINISH,    /* in-progress → finished */
  WZ_ENCOUNTER_NO_SHOW,   /* planned/arrived/triaged → cancelled, Appointment noshow */
  WZ_ENCOUNTER_URGENCY,   /* waiting or in consultation: the doctor sets the urgency */
} WzEncounterChange;

/* Urgency 1 (emergency) … 4 (can wait) from Encounter.priority; 3 when it has none. */
guint       wz_encounter_urgency          (JsonObject        *encounter);
const char *wz_encounter_priority_code    (guint              urgency);
const char *wz_encounter_urgency_label    (guint              urgency);
/* Whether the change makes sense for the encounter's current status. */
gboolean    wz_encounter_can              (JsonObject        *encounter,
                                           WzEncounterChange  change);
/* The waiting encounter (arrived or triaged) to call in next: the most urgent, then the one
 * waiting longest; NULL when nobody waits. Borrowed from ENCOUNTERS. */
JsonObject *wz_encounter_pick_next        (GPtrArray         *encounters);

#define WZ_TYPE_ENCOUNTER_ACTIONS (wz_encounter_actions_get_type ())

G_DECLARE_FINAL_TYPE (WzEncounterActions, wz_encounter_actions, WZ, ENCOUNTER_ACTIONS, GObject)

WzEncounterActions *wz_encounter_actions_new     (WzApiClient        *client);

/* Finds today's next waiting patient of PRACTITIONER and takes them into consultation. Another
 * doctor taking the same patient first gives WZ_CLIENT_ERROR_CONFLICT; nobody waiting gives
 * WZ_CLIENT_ERROR_NOT_FOUND. */
void        wz_encounter_actions_call_next_async (WzEncounterActions *self,
                                                  const char         *practitioner,
                                                  GCancellable       *cancellable,
                                                  GAsyncReadyCallback callback,
                                                  gpointer            user_data);

/* Changes ENCOUNTER (as last read, with its meta.versionId) on the server with If-Match.
 * FINISH takes CONDITIONS (NULL-terminated "Condition/…" references) and REASON (the chief
 * complaint, may be NULL); URGENCY takes URGENCY and REASON (required: why the doctor changed
 * it), recorded in a Provenance by PRACTITIONER. */
void        wz_encounter_actions_change_async (WzEncounterActions *self,
                                               JsonObject         *encounter,
                                               WzEncounterChange   change,
                                               const char         *practitioner,
                                               guint               urgency,
                                               const char         *reason,
                                               const char * const *conditions,
                                               GCancellable       *cancellable,
                                               GAsyncReadyCallback callback,
                                               gpointer            user_data);

/* Both return the encounter as the server now has it. */
JsonObject *wz_encounter_actions_finish       (WzEncounterActions *self,
                                               GAsyncResult       *result,
                                               GError            **error);

G_END_DECLS
