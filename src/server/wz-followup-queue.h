/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "wz-followup.h"
#include "wz-store.h"

G_BEGIN_DECLS

/* Identifier system of the queue Encounters made for follow-up (value: "Task/ID" of the revisit
 * or renewal request), so one Task never gets two visits, whoever asks and however often. */
#define WZ_FOLLOWUP_VISIT_ID_SYSTEM WZ_FOLLOWUP_BASE "sid/followup-visit"
/* Encounter.extension: the follow-up Task the visit is for (valueReference). */
#define WZ_FOLLOWUP_VISIT_TASK_EXTENSION WZ_FOLLOWUP_BASE "StructureDefinition/encounter-followup-task"

/* A revisit in the doctor's queue: when a revisit Task is due (its due date has come and its
 * on-time window has not passed, in the clinic's time zone), or earlier when the patient
 * confirms it on their page, an Encounter (class VR, status planned, or arrived when the patient
 * confirmed, participant the Task's owner, reason the Task's description, the extension
 * pointing at the Task) is created for it, and the Task records it (Task.encounter). Created
 * conditionally on WZ_FOLLOWUP_VISIT_ID_SYSTEM|Task/ID: repeating it finds the same Encounter.
 * Written resources (the Encounter when new, the Task when it changed) go to WRITTEN. */
gboolean   wz_followup_queue_task     (WzStore           *store,
                                       WzStoredResource  *task,
                                       const char        *status,
                                       const char        *reason_prefix,
                                       GPtrArray         *written,
                                       WzStoredResource **out_encounter,
                                       GError           **error);
/* Queues every waiting revisit due by TODAY whose window has not passed and that has no visit
 * yet. Returns what was written (WzStoredResource). */
GPtrArray *wz_followup_queue_sweep    (WzStore           *store,
                                       WzDay              today,
                                       GError           **error);

G_END_DECLS
