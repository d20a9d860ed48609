/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-rx-labels"

#include "config.h"

#include "wz-rx-labels.h"

#include <glib/gi18n.h>
#include <math.h>

#include "wz-rx-line-row.h"

typedef struct
{
  const char *code;
  const char *label;   /* untranslated, with its context */
} Label;

/* Routes of administration (data/clinical/formulary.csv, column route). */
static const Label routes[] = {
  { "oral", NC_("route", "by mouth") },
  { "sublingual", NC_("route", "under the tongue") },
  { "topical", NC_("route", "on the skin") },
  { "transdermal", NC_("route", "skin patch") },
  { "ophthalmic", NC_("route", "in the eye") },
  { "otic", NC_("route", "in the ear") },
  { "nasal", NC_("route", "in the nose") },
  { "inhaled", NC_("route", "inhaled") },
  { "sc", NC_("route", "injection under the skin") },
  { "im", NC_("route", "injection into a muscle") },
  { "iv", NC_("route", "into a vein") },
  { "vaginal", NC_("route", "in the vagina") },
  { "rectal", NC_("route", "in the rectum") },
};

/* Dosage forms (column form). */
static const Label forms[] = {
  { "tablet", NC_("dosage form", "tablet") },
  { "tablet_sr", NC_("dosage form", "sustained-release tablet") },
  { "tablet_ec", NC_("dosage form", "enteric-coated tablet") },
  { "tablet_chewable", NC_("dosage form", "chewable tablet") },
  { "tablet_effervescent", NC_("dosage form", "effervescent tablet") },
  { "tablet_sublingual", NC_("dosage form", "sublingual tablet") },
  { "tablet_vaginal", NC_("dosage form", "vaginal tablet") },
  { "capsule", NC_("dosage form", "capsule") },
  { "capsule_sr", NC_("dosage form", "sustained-release capsule") },
  { "pills", NC_("dosage form", "pills") },
  { "granules", NC_("dosage form", "granules") },
  { "powder", NC_("dosage form", "powder") },
  { "dry_suspension", NC_("dosage form", "powder for oral suspension") },
  { "oral_solution", NC_("dosage form", "oral solution") },
  { "oral_suspension", NC_("dosage form", "oral suspension") },
  { "syrup", NC_("dosage form", "syrup") },
  { "drops_oral", NC_("dosage form", "oral drops") },
  { "injection", NC_("dosage form", "injection") },
  { "eye_drops", NC_("dosage form", "eye drops") },
  { "eye_ointment", NC_("dosage form", "eye ointment") },
  { "nasal_drops", NC_("dosage form", "nose drops") },
  { "nasal_spray", NC_("dosage form", "nasal spray") },
  { "inhaler_dpi", NC_("dosage form", "dry-powder inhaler") },
  { "inhaler_mdi", NC_("dosage form", "metered-dose inhaler") },
  { "nebuliser_suspension", NC_("dosage form", "suspension for a nebuliser") },
  { "cream", NC_("dosage form", "cream") },
  { "ointment", NC_("dosage form", "ointment") },
  { "gel", NC_("dosage form", "gel") },
  { "patch", NC_("dosage form", "skin patch") },
  { "cataplasm", NC_("dosage form", "poultice") },
};

static const char *
lookup (const Label *table,
        gsize        n,
        const char  *context,
        const char  *code)
{
  if (code == NULL)
    return "";

  for (gsize i = 0; i < n; i++)
    if (g_ascii_strcasecmp (table[i].code, code) == 0)
      return g_dpgettext2 (GETTEXT_PACKAGE, context, table[i].label);

  return code;
}

const char *
wz_rx_route_label (const char *code)
{
  return lookup (routes, G_N_ELEMENTS (routes), "route", code);
}

const char *
wz_rx_form_label (const char *code)
{
  return lookup (forms, G_N_ELEMENTS (forms), "dosage form", code);
}

const char *const *
wz_rx_route_codes (void)
{
  static const char *codes[G_N_ELEMENTS (routes) + 1];

  if (codes[0] == NULL)
    for (gsize i = 0; i < G_N_ELEMENTS (routes); i++)
      codes[i] = routes[i].code;

  return codes;
}

static JsonObject *
object_member (JsonObject *object,
               const char *name)
{
  JsonNode *node = object ? json_object_get_member (object, name) : NULL;

  return node && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static JsonObject *
first_object (JsonObject *object,
              const char *name)
{
  JsonNode *node = object ? json_object_get_member (object, name) : NULL;
  JsonArray *array = node && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
  JsonNode *first = array && json_array_get_length (array) > 0 ? json_array_get_element (array, 0)
                                                                 : NULL;

  return first && JSON_NODE_HOLDS_OBJECT (first) ? json_node_get_object (first) : NULL;
}

static const char *
string_member (JsonObject *object,
               const char *name)
{
  JsonNode *node = object ? json_object_get_member (object, name) : NULL;

  return node && JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING
         ? json_node_get_string (node) : NULL;
}

static double
number_member (JsonObject *object,
               const char *name)
{
  JsonNode *node = object ? json_object_get_member (object, name) : NULL;

  return node && JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) != G_TYPE_STRING &&
         json_node_get_value_type (node) != G_TYPE_BOOLEAN
         ? json_node_get_double (node) : NAN;
}

char *
wz_rx_dosage_describe (JsonObject *request)
{
  JsonObject *dosage = first_object (request, "dosageInstruction");
  JsonObject *dose = object_member (first_object (dosage, "doseAndRate"), "doseQuantity");
  JsonObject *route = object_member (dosage, "route");
  JsonObject *route_coding = first_object (route, "coding");
  JsonObject *timing_code = object_member (object_member (dosage, "timing"), "code");
  const char *frequency = string_member (first_object (timing_code, "coding"), "code");
  JsonObject *dispense = object_member (request, "dispenseRequest");
  double days = number_member (object_member (dispense, "expectedSupplyDuration"), "value");
  JsonObject *quantity = object_member (dispense, "quantity");
  const char *route_code = string_member (route_coding, "code") ?: string_member (route, "text");
  GString *text = g_string_new (NULL);

  /* Without a coded dose this line was not written by this app: show what it says. */
  if (dose == NULL || isnan (number_member (dose, "value")))
    {
      g_string_free (text, TRUE);
      return g_strdup (string_member (dosage, "text") ?: "");
    }

  g_string_append_printf (text, "%g %s", number_member (dose, "value"),
                          string_member (dose, "unit") ?: "");
  if (route_code != NULL)
    g_string_append_printf (text, " · %s", wz_rx_route_label (route_code));
  if (frequency != NULL)
    g_string_append_printf (text, " · %s (%s)", frequency, wz_rx_frequency_text (frequency));
  if (!isnan (days))
    {
      /* Translators: how long a prescription line lasts */
      g_autofree char *duration = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%g day",
                                                                "%g days", (gulong) days),
                                                   days);

      g_string_append_printf (text, " · %s", duration);
    }
  if (quantity != NULL && !isnan (number_member (quantity, "value")))
    g_string_append_printf (text, " · %g %s", number_member (quantity, "value"),
                            string_member (quantity, "unit") ?: "");

  return g_string_free (text, FALSE);
}
