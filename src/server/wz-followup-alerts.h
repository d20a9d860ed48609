/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "wz-store.h"

G_BEGIN_DECLS

/* Identifier system of the Flags below (value: "Observation/ID|CarePlan/ID"), so judging the
 * same reading twice (a retry, a restart) never raises a second Flag. */
#define WZ_FOLLOWUP_ALERT_ID_SYSTEM "https://wenzhen.example/fhir/sid/followup-alert"

/* Judges the Observation STORED (a reading the patient reported, or a doctor's) against the
 * targets of the patient's active CarePlans made from templates. For each plan with a value out
 * of its target it raises a Flag (status active, code WZ_FOLLOWUP_ALERT_SYSTEM "urgent" for an
 * alert level, the template's red flags such as blood pressure ≥ 180/110 or glucose < 3.9 or
 * ≥ 16.7 mmol/L, else "out-of-range", plus the measurement codes; author the plan's doctor;
 * flag-detail pointing at the Observation; bilingual text). A reading back in range closes
 * (status inactive) the earlier active Flags of that plan's doctor that were only about those
 * measurements. Returns what was written (WzStoredResource), empty when nothing applied. */
GPtrArray *wz_followup_alerts_judge (WzStore           *store,
                                     WzStoredResource  *stored,
                                     GError           **error);

G_END_DECLS
