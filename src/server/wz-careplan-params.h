/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "wz-careplan-template.h"

G_BEGIN_DECLS

/* The body of POST /fhir/CarePlan/$apply-template, a Parameters resource:
 *
 *   template         valueString     template id (data/clinical/followup-templates.json)   1..1
 *   patient          valueReference  Patient/ID                                            1..1
 *   identifier       valueString or valueIdentifier.value: the plan's business identifier,
 *                    a urn:uuid the client makes once per plan; sending the same request again
 *                    (after a lost answer) finds the plan made the first time (200)   1..1
 *   start            valueDate       the template's anchor (operation day, LMP; default today
 *                    or the birth date)                                                0..1
 *   end              valueDate       the plan's last day                                   0..1
 *   condition        valueString     ICD-10 code for the target variants (default: the
 *                    patient's active Conditions)                                          0..*
 *   includeOptional  valueBoolean    include the template's optional revisits              0..1
 *   language         valueCode       zh | en, the plan's main language                     0..1
 *   item             the doctor's change to a generated item                               0..*
 *     part key       valueString     the item's key: its Task identifier after "<identifier>/"
 *     part due       valueDate       new due date (the on-time window moves with it)       0..1
 *     part remove    valueBoolean    true: the item is left out of the plan                0..1
 *   add              an item the doctor adds                                               0..*
 *     part key       valueString     its own key, [a-z0-9-], e.g. added-1
 *     part kind      valueCode       revisit | adherence-checkin | education
 *     part due       valueDate
 *     part text      valueString     what is to be done (1-1,000 characters)
 *   target           new limits of a measurement's target                                  0..*
 *     part measurement valueCode     the template's measurement id, e.g. home_bp_systolic
 *     part low       valueDecimal    0..1 (only a limit the target has)
 *     part high      valueDecimal    0..1
 *
 * The CarePlan (with a contained Goal per measurement target: Goal.target.detailRange) and its
 * Tasks are stored in one store transaction: all of them or, on any failure, none. Malformed
 * parameters answer 400, edits that do not fit the plan (an unknown key, a date before today,
 * a low limit above the high) 422, both with an OperationOutcome and nothing stored. */
typedef struct
{
  const char *template_id;
  const char *patient;
  const char *start;
  const char *identifier;
  const char *end;
  GPtrArray  *conditions;     /* const char *: ICD-10 codes */
  gboolean    include_optional;
  const char *language;
  GArray     *item_edits;     /* WzCareplanItemEdit */
  GArray     *added_items;    /* WzCareplanAddedItem */
  GArray     *target_edits;   /* WzCareplanTargetEdit */
} WzCareplanParams;

void     wz_careplan_params_init  (WzCareplanParams  *params);
void     wz_careplan_params_clear (WzCareplanParams  *params);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (WzCareplanParams, wz_careplan_params_clear)

/* Reads BODY (an $apply-template Parameters resource) into PARAMS, whose strings point into
 * BODY; WZ_ERROR_INVALID naming the parameter that is malformed, unknown or missing. Whether
 * the edits fit the plan is wz_careplan_template_instantiate()'s to say. */
gboolean wz_careplan_params_read  (JsonObject        *body,
                                   WzCareplanParams  *params,
                                   GError           **error);

/* Reads the body of POST /fhir/CarePlan/ID/$set-targets: one or more "target" parameters (parts
 * measurement, low, high, as above) appended to EDITS (WzCareplanTargetEdit), and an optional
 * "language" (valueCode zh | en) in *OUT_LANGUAGE; WZ_ERROR_INVALID otherwise. */
gboolean wz_careplan_params_read_targets (JsonObject   *body,
                                          GArray       *edits,
                                          const char  **out_language,
                                          GError      **error);

G_END_DECLS
