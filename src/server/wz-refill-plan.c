/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-refill-plan"

#include "config.h"

#include "wz-refill-plan.h"

#include <math.h>
#include <string.h>

#include "wz-error.h"
#include "wz-json.h"
#include "wz-rx-checks.h"
#include "wz-rx-rules.h"

/* Counted units, as prescriptions write them (singular, plural, Chinese). */
static gboolean
is_count (const char *unit)
{
  static const char *const units[] = {
    "tablet", "tablets", "capsule", "capsules", "pill", "pills", "sachet", "sachets", "bag",
    "bags", "puff", "puffs", "inhalation", "inhalations", "片", "粒", "丸", "袋", "揿", "喷", NULL
  };

  return unit != NULL && g_strv_contains (units, unit);
}

static double
number_of (JsonObject *object,
           const char *member)
{
  JsonNode *node = object ? json_object_get_member (object, member) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      (json_node_get_value_type (node) != G_TYPE_DOUBLE &&
       json_node_get_value_type (node) != G_TYPE_INT64))
    return NAN;
  return json_node_get_double (node);
}

gboolean
wz_refill_plan_compute (JsonObject    *request,
                        WzDay          start,
                        double         strength,
                        WzRefillPlan  *out_plan,
                        GError       **error)
{
  JsonObject *quantity = wz_json_get_object (wz_json_get_object (request, "dispenseRequest"),
                                             "quantity");
  const char *quantity_unit = wz_json_get_string (quantity, "unit");
  double amount = number_of (quantity, "value");
  WzRxLine *line = wz_rx_line_from_medication_request (request);
  const WzRxFrequency *frequency = wz_rx_frequency_lookup (line->frequency);
  double per_day = NAN, per_dose = NAN, days = NAN;

  if (quantity_unit == NULL)
    quantity_unit = wz_json_get_string (quantity, "code");
  if (frequency != NULL)
    per_day = frequency->per_day > 0 ? frequency->per_day : line->max_doses_per_day;

  /* The dose in the dispensed unit: the same unit, both counted, or mass against a strength. */
  if (!isnan (line->dose) && line->dose > 0)
    {
      if (g_strcmp0 (line->dose_unit, quantity_unit) == 0 ||
          (is_count (line->dose_unit) && is_count (quantity_unit)))
        per_dose = line->dose;
      else if (is_count (quantity_unit) && strength > 0)
        per_dose = line->dose / strength;
    }
  if (frequency != NULL && !frequency->single && !isnan (per_day) && per_day > 0 &&
      !isnan (per_dose) && !isnan (amount) && amount > 0)
    days = floor (amount / (per_dose * per_day) + 1e-9);

  memset (out_plan, 0, sizeof *out_plan);
  out_plan->start = start;
  out_plan->from_quantity = !isnan (days);
  if (isnan (days) && !isnan (line->duration_days) && line->duration_days > 0)
    days = floor (line->duration_days);
  wz_rx_line_free (line);

  if (isnan (days) || days < 1)
    {
      g_set_error_literal (error, WZ_ERROR, WZ_ERROR_UNPROCESSABLE,
                           "The prescription says neither how much was dispensed for a regular "
                           "dose nor for how many days, so no refill date can be given");
      return FALSE;
    }
  out_plan->days_supply = days;
  out_plan->runs_out = wz_day_add_days (start, (gint) days);
  out_plan->refill_due = wz_day_add_days (out_plan->runs_out, -WZ_REFILL_LEAD_DAYS);
  if (out_plan->refill_due < start)
    out_plan->refill_due = start;
  return TRUE;
}
