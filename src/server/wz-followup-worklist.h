/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "wz-followup.h"
#include "wz-store.h"

G_BEGIN_DECLS

/* Code system of the Flags the server raises for patient-reported values out of a plan's
 * target: "urgent" (an alert level, e.g. blood pressure ≥ 180/110) and "out-of-range". */
#define WZ_FOLLOWUP_ALERT_SYSTEM WZ_FOLLOWUP_BASE "CodeSystem/followup-alert"

/* Task statuses of follow-up work that waits for someone (a running measurement is
 * in-progress instead). */
#define WZ_FOLLOWUP_ACTIONABLE "requested,received,accepted,ready"

/* The follow-up worklist of PRACTITIONER ("Practitioner/ID") on TODAY, read from the store's
 * indexes on every call (no view kept in memory):
 *
 *  - Tasks the practitioner owns that wait and are due by TODAY
 *    (Task?owner=…&status=…&due-date=le…), and follow-up Tasks they requested that the patient
 *    owns and has let pass their window (missed check-ins);
 *  - patients with an active follow-up Flag the practitioner authored (raised when a reported
 *    value was out of range: Flag?practitioner=…&status=active&code=…).
 *
 * Patients are ordered urgent first, then flagged, then by days overdue; COUNT of them from
 * OFFSET are written in full (tasks, and measurements with the latest readings against the plan
 * targets, read for those patients only). The JSON is the one wz_followup_worklist() documents,
 * with "counts" over the whole list, "total" (patients listed), "offset" and "count". */
GBytes *wz_followup_worklist_build (WzStore     *store,
                                    const char  *practitioner,
                                    WzDay        today,
                                    const char  *time_zone_name,
                                    const char  *lang,
                                    guint        count,
                                    guint        offset,
                                    GError     **error);

/* Every match of QUERY_TEXT on TYPE in one page (WzStoredResource). */
GPtrArray *wz_followup_search_stored (WzStore     *store,
                                      const char  *type,
                                      const char  *query_text,
                                      GError     **error);

G_END_DECLS
