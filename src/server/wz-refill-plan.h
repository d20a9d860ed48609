/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "wz-followup.h"

G_BEGIN_DECLS

/* How long an approved prescription lasts and when the patient should ask for more. */
typedef struct
{
  WzDay    start;          /* when the supply started: the day the pharmacist approved it */
  double   days_supply;    /* whole days the dispensed quantity lasts */
  WzDay    runs_out;       /* start + days_supply: the first day without medicine */
  WzDay    refill_due;     /* runs_out − WZ_REFILL_LEAD_DAYS */
  gboolean from_quantity;  /* TRUE: dispense quantity ÷ daily amount; FALSE: the supply
                            * duration the prescriber wrote */
} WzRefillPlan;

/* Days before the medicine runs out that a renewal is due: time for the visit, the doctor's
 * signature, the pharmacist's review and delivery. */
#define WZ_REFILL_LEAD_DAYS 5

/* The refill plan of an active MedicationRequest REQUEST whose supply started on START.
 * dispenseRequest.quantity ÷ (dose × doses a day) when the quantity is in the dose's unit (or
 * both are counts of tablets, capsules…); STRENGTH (amount of the dose unit in one dispensed
 * unit, e.g. 5 for 5 mg tablets; ≤ 0 when unknown) converts a quantity of tablets against a dose
 * in mg. Else dispenseRequest.expectedSupplyDuration. FALSE with WZ_ERROR_UNPROCESSABLE when
 * neither tells (a dose "as needed" without a daily maximum, no quantity and no duration). */
gboolean     wz_refill_plan_compute (JsonObject    *request,
                                     WzDay          start,
                                     double         strength,
                                     WzRefillPlan  *out_plan,
                                     GError       **error);

G_END_DECLS
