/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-patient-item"

#include "config.h"

#include "wz-patient-item.h"
#include "wz-json.h"

#include <string.h>
#include <glib/gi18n.h>

/* One patient in the queue, reduced to what the queue row shows. Built from a FHIR Patient
 * resource; a refresh updates the existing item in place so the list keeps its selection. */
struct _WzPatientItem
{
  GObject  parent_instance;

  char    *id;
  char    *name;
  char    *gender;
  char    *birth_date;
  char    *age_label;
  char    *details;
};

G_DEFINE_FINAL_TYPE (WzPatientItem, wz_patient_item, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ID,
  PROP_NAME,
  PROP_GENDER,
  PROP_BIRTH_DATE,
  PROP_AGE_LABEL,
  PROP_DETAILS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
wz_patient_item_finalize (GObject *object)
{
  WzPatientItem *self = WZ_PATIENT_ITEM (object);

  g_clear_pointer (&self->id, g_free);
  g_clear_pointer (&self->name, g_free);
  g_clear_pointer (&self->gender, g_free);
  g_clear_pointer (&self->birth_date, g_free);
  g_clear_pointer (&self->age_label, g_free);
  g_clear_pointer (&self->details, g_free);

  G_OBJECT_CLASS (wz_patient_item_parent_class)->finalize (object);
}

static void
wz_patient_item_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  WzPatientItem *self = WZ_PATIENT_ITEM (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_string (value, self->id);
      break;
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_GENDER:
      g_value_set_string (value, self->gender);
      break;
    case PROP_BIRTH_DATE:
      g_value_set_string (value, self->birth_date);
      break;
    case PROP_AGE_LABEL:
      g_value_set_string (value, self->age_label);
      break;
    case PROP_DETAILS:
      g_value_set_string (value, self->details);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
wz_patient_item_class_init (WzPatientItemClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = wz_patient_item_finalize;
  object_class->get_property = wz_patient_item_get_property;

  properties[PROP_ID] =
    g_param_spec_string ("id", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_GENDER] =
    g_param_spec_string ("gender", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_BIRTH_DATE] =
    g_param_spec_string ("birth-date", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_AGE_LABEL] =
    g_param_spec_string ("age-label", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_DETAILS] =
    g_param_spec_string ("details", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
wz_patient_item_init (WzPatientItem *self)
{
}

static gboolean
parse_date_part (const char *text,
                 gsize       length,
                 guint       min,
                 guint       max,
                 guint      *out)
{
  guint64 value = 0;

  if (length == 0)
    return FALSE;

  for (gsize i = 0; i < length; i++)
    {
      if (!g_ascii_isdigit (text[i]))
        return FALSE;
      value = value * 10 + (guint) (text[i] - '0');
    }

  if (value < min || value > max)
    return FALSE;

  *out = (guint) value;
  return TRUE;
}

/**
 * wz_patient_compute_age:
 * @birth_date: a FHIR date: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`
 * @today: the date to compute the age on
 * @years: (out): completed years
 * @months: (out): completed months in total (so 1 year 2 months gives 14)
 * @days: (out): days since birth
 *
 * A partial date counts from its first day, so the age shown is never younger than the patient.
 *
 * Returns: %FALSE for an unreadable date or one after @today
 */
gboolean
wz_patient_compute_age (const char *birth_date,
                        GDate      *today,
                        guint      *years,
                        guint      *months,
                        guint      *days)
{
  g_autoptr(GDate) birth = NULL;
  guint year, month = 1, day = 1;
  gsize length;
  guint total_months;

  g_return_val_if_fail (today != NULL && g_date_valid (today), FALSE);

  if (birth_date == NULL)
    return FALSE;

  length = strlen (birth_date);
  if (length != 4 && length != 7 && length != 10)
    return FALSE;
  if (!parse_date_part (birth_date, 4, 1, 9999, &year))
    return FALSE;
  if (length >= 7 && (birth_date[4] != '-' || !parse_date_part (birth_date + 5, 2, 1, 12, &month)))
    return FALSE;
  if (length == 10 && (birth_date[7] != '-' || !parse_date_part (birth_date + 8, 2, 1, 31, &day)))
    return FALSE;
  if (!g_date_valid_dmy ((GDateDay) day, (GDateMonth) month, (GDateYear) year))
    return FALSE;

  birth = g_date_new_dmy ((GDateDay) day, (GDateMonth) month, (GDateYear) year);
  if (g_date_compare (birth, today) > 0)
    return FALSE;

  total_months = (g_date_get_year (today) - year) * 12 + g_date_get_month (today) - month;
  /* A month is only complete once its day has come round; someone born on the 31st completes
   * a month on the last day of a shorter one. */
  if (g_date_get_day (today) < day
      && g_date_get_day (today) < g_date_get_days_in_month (g_date_get_month (today),
                                                            g_date_get_year (today)))
    total_months--;

  if (years != NULL)
    *years = total_months / 12;
  if (months != NULL)
    *months = total_months;
  if (days != NULL)
    *days = (guint) g_date_days_between (birth, today);

  return TRUE;
}

/**
 * wz_patient_format_age:
 *
 * The way a clinician reads an age: days for a newborn, months up to two years, years after.
 *
 * Returns: (transfer full) (nullable): the label, or %NULL when the birth date is unusable
 */
char *
wz_patient_format_age (const char *birth_date,
                       GDate      *today)
{
  guint years, months, days;

  if (!wz_patient_compute_age (birth_date, today, &years, &months, &days))
    return NULL;

  if (months < 1)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u day", "%u days", days), days);

  if (months < 24)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u month", "%u months", months), months);

  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u year", "%u years", years), years);
}

const char *
wz_patient_gender_label (const char *gender)
{
  if (g_strcmp0 (gender, "female") == 0)
    return _("Female");
  if (g_strcmp0 (gender, "male") == 0)
    return _("Male");
  if (g_strcmp0 (gender, "other") == 0)
    /* Translators: administrative gender “other” in a patient’s details */
    return _("Other");

  return NULL;
}

static gboolean
has_han (const char *text)
{
  for (const char *p = text; p != NULL && *p != '\0'; p = g_utf8_next_char (p))
    if (g_unichar_get_script (g_utf8_get_char (p)) == G_UNICODE_SCRIPT_HAN)
      return TRUE;

  return FALSE;
}

static JsonObject *
pick_name (JsonObject *resource)
{
  JsonArray *names;
  JsonObject *first = NULL;

  if (!json_object_has_member (resource, "name")
      || !JSON_NODE_HOLDS_ARRAY (json_object_get_member (resource, "name")))
    return NULL;

  names = json_object_get_array_member (resource, "name");
  for (guint i = 0; i < json_array_get_length (names); i++)
    {
      JsonNode *element = json_array_get_element (names, i);
      JsonObject *name;

      if (!JSON_NODE_HOLDS_OBJECT (element))
        continue;

      name = json_node_get_object (element);
      if (first == NULL)
        first = name;
      if (g_strcmp0 (wz_json_get_string (name, "use"), "official") == 0)
        return name;
    }

  return first;
}

/**
 * wz_patient_name_from_resource:
 *
 * The name as the patient writes it: `text` when present, else Chinese names family name first
 * without a space (张伟), others given names first (Anna Müller).
 *
 * Returns: (transfer full) (nullable): the name, or %NULL when the resource has none
 */
char *
wz_patient_name_from_resource (JsonObject *resource)
{
  JsonObject *name = pick_name (resource);
  g_autoptr(GString) given = g_string_new (NULL);
  const char *family;
  const char *text;

  if (name == NULL)
    return NULL;

  text = wz_json_get_string (name, "text");
  if (text != NULL && *text != '\0')
    return g_strdup (text);

  family = wz_json_get_string (name, "family");
  if (json_object_has_member (name, "given")
      && JSON_NODE_HOLDS_ARRAY (json_object_get_member (name, "given")))
    {
      JsonArray *parts = json_object_get_array_member (name, "given");

      for (guint i = 0; i < json_array_get_length (parts); i++)
        {
          JsonNode *part = json_array_get_element (parts, i);

          if (!JSON_NODE_HOLDS_VALUE (part) || json_node_get_value_type (part) != G_TYPE_STRING)
            continue;
          if (given->len > 0 && !has_han (json_node_get_string (part)))
            g_string_append_c (given, ' ');
          g_string_append (given, json_node_get_string (part));
        }
    }

  if (family == NULL || *family == '\0')
    return given->len > 0 ? g_strdup (given->str) : NULL;
  if (given->len == 0)
    return g_strdup (family);
  if (has_han (family))
    return g_strconcat (family, given->str, NULL);

  return g_strconcat (given->str, " ", family, NULL);
}

/**
 * wz_patient_item_new_from_resource:
 * @resource: a FHIR Patient
 * @today: the date ages are computed on
 *
 * Returns: (transfer full) (nullable): the item, or %NULL when @resource is not a Patient with an id
 */
WzPatientItem *
wz_patient_item_new_from_resource (JsonObject *resource,
                                   GDate      *today)
{
  g_autoptr(WzPatientItem) self = NULL;
  const char *gender_label;
  const char *id;

  g_return_val_if_fail (resource != NULL, NULL);
  g_return_val_if_fail (today != NULL, NULL);

  if (g_strcmp0 (wz_json_get_string (resource, "resourceType"), "Patient") != 0)
    return NULL;
  id = wz_json_get_string (resource, "id");
  if (id == NULL || *id == '\0')
    return NULL;

  self = g_object_new (WZ_TYPE_PATIENT_ITEM, NULL);
  self->id = g_strdup (id);
  self->name = wz_patient_name_from_resource (resource);
  if (self->name == NULL)
    self->name = g_strdup (_("Unnamed patient"));
  self->gender = g_strdup (wz_json_get_string (resource, "gender"));
  self->birth_date = g_strdup (wz_json_get_string (resource, "birthDate"));
  self->age_label = wz_patient_format_age (self->birth_date, today);

  gender_label = wz_patient_gender_label (self->gender);
  if (gender_label != NULL && self->age_label != NULL)
    /* Translators: a patient’s gender and age in the queue, e.g. “Female · 34 years” */
    self->details = g_strdup_printf (_("%s · %s"), gender_label, self->age_label);
  else if (gender_label != NULL)
    self->details = g_strdup (gender_label);
  else if (self->age_label != NULL)
    self->details = g_strdup (self->age_label);
  else
    self->details = g_strdup ("");

  return g_steal_pointer (&self);
}

const char *
wz_patient_item_get_id (WzPatientItem *self)
{
  g_return_val_if_fail (WZ_IS_PATIENT_ITEM (self), NULL);
  return self->id;
}

const char *
wz_patient_item_get_name (WzPatientItem *self)
{
  g_return_val_if_fail (WZ_IS_PATIENT_ITEM (self), NULL);
  return self->name;
}

const char *
wz_patient_item_get_gender (WzPatientItem *self)
{
  g_return_val_if_fail (WZ_IS_PATIENT_ITEM (self), NULL);
  return self->gender;
}

const char *
wz_patient_item_get_birth_date (WzPatientItem *self)
{
  g_return_val_if_fail (WZ_IS_PATIENT_ITEM (self), NULL);
  return self->birth_date;
}

const char *
wz_patient_item_get_age_label (WzPatientItem *self)
{
  g_return_val_if_fail (WZ_IS_PATIENT_ITEM (self), NULL);
  return self->age_label;
}

const char *
wz_patient_item_get_details (WzPatientItem *self)
{
  g_return_val_if_fail (WZ_IS_PATIENT_ITEM (self), NULL);
  return self->details;
}

static gboolean
replace_string (char       **field,
                const char  *value)
{
  if (g_strcmp0 (*field, value) == 0)
    return FALSE;

  g_free (*field);
  *field = g_strdup (value);
  return TRUE;
}

/**
 * wz_patient_item_update:
 * @other: a fresher item for the same patient
 *
 * Copies what changed and notifies only those properties, so bound rows redraw what they must.
 *
 * Returns: %TRUE if anything changed
 */
gboolean
wz_patient_item_update (WzPatientItem *self,
                        WzPatientItem *other)
{
  gboolean changed = FALSE;

  g_return_val_if_fail (WZ_IS_PATIENT_ITEM (self), FALSE);
  g_return_val_if_fail (WZ_IS_PATIENT_ITEM (other), FALSE);
  g_return_val_if_fail (g_strcmp0 (self->id, other->id) == 0, FALSE);

  g_object_freeze_notify (G_OBJECT (self));
#define UPDATE(field, prop) \
  if (replace_string (&self->field, other->field)) \
    { \
      g_object_notify_by_pspec (G_OBJECT (self), properties[prop]); \
      changed = TRUE; \
    }
  UPDATE (name, PROP_NAME)
  UPDATE (gender, PROP_GENDER)
  UPDATE (birth_date, PROP_BIRTH_DATE)
  UPDATE (age_label, PROP_AGE_LABEL)
  UPDATE (details, PROP_DETAILS)
#undef UPDATE
  g_object_thaw_notify (G_OBJECT (self));

  return changed;
}
