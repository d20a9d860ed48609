/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-followup-entry"

#include "config.h"

#include "wz-followup-entry.h"

struct _WzFollowupEntry
{
  GObject          parent_instance;

  gboolean         heading;
  WzFollowupGroup  group;
  guint            n_patients;
  char            *patient;
  char            *name;
  char            *alert;
  char            *today;
  JsonArray       *tasks;
  JsonArray       *measurements;
  char            *details;
  GStrv            allergies;
};

G_DEFINE_FINAL_TYPE (WzFollowupEntry, wz_followup_entry, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_DETAILS,
  PROP_ALLERGIES,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
wz_followup_entry_finalize (GObject *object)
{
  WzFollowupEntry *self = WZ_FOLLOWUP_ENTRY (object);

  g_free (self->patient);
  g_free (self->name);
  g_free (self->alert);
  g_free (self->today);
  g_clear_pointer (&self->tasks, json_array_unref);
  g_clear_pointer (&self->measurements, json_array_unref);
  g_free (self->details);
  g_strfreev (self->allergies);

  G_OBJECT_CLASS (wz_followup_entry_parent_class)->finalize (object);
}

static void
wz_followup_entry_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  WzFollowupEntry *self = WZ_FOLLOWUP_ENTRY (object);

  switch (prop_id)
    {
    case PROP_DETAILS:
      g_value_set_string (value, self->details);
      break;
    case PROP_ALLERGIES:
      g_value_set_boxed (value, self->allergies);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
wz_followup_entry_class_init (WzFollowupEntryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = wz_followup_entry_finalize;
  object_class->get_property = wz_followup_entry_get_property;

  properties[PROP_DETAILS] =
    g_param_spec_string ("details", NULL, NULL, "",
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ALLERGIES] =
    g_param_spec_boxed ("allergies", NULL, NULL, G_TYPE_STRV,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
wz_followup_entry_init (WzFollowupEntry *self)
{
  self->details = g_strdup ("");
}

WzFollowupEntry *
wz_followup_entry_new_heading (WzFollowupGroup group,
                               guint           n_patients)
{
  WzFollowupEntry *self = g_object_new (WZ_TYPE_FOLLOWUP_ENTRY, NULL);

  self->heading = TRUE;
  self->group = group;
  self->n_patients = n_patients;
  return self;
}

WzFollowupEntry *
wz_followup_entry_new_patient (WzFollowupGroup  group,
                               const char      *patient_ref,
                               const char      *name,
                               const char      *alert,
                               JsonArray       *tasks,
                               JsonArray       *measurements,
                               const char      *today)
{
  WzFollowupEntry *self = g_object_new (WZ_TYPE_FOLLOWUP_ENTRY, NULL);

  self->group = group;
  self->patient = g_strdup (patient_ref);
  self->name = g_strdup (name ? name : "");
  self->alert = g_strdup (alert ? alert : "none");
  self->tasks = tasks ? json_array_ref (tasks) : NULL;
  self->measurements = measurements ? json_array_ref (measurements) : NULL;
  self->today = g_strdup (today);
  return self;
}

gboolean
wz_followup_entry_is_heading (WzFollowupEntry *self)
{
  g_return_val_if_fail (WZ_IS_FOLLOWUP_ENTRY (self), FALSE);
  return self->heading;
}

WzFollowupGroup
wz_followup_entry_get_group (WzFollowupEntry *self)
{
  g_return_val_if_fail (WZ_IS_FOLLOWUP_ENTRY (self), WZ_FOLLOWUP_GROUP_TODAY);
  return self->group;
}

guint
wz_followup_entry_get_n_patients (WzFollowupEntry *self)
{
  g_return_val_if_fail (WZ_IS_FOLLOWUP_ENTRY (self), 0);
  return self->n_patients;
}

const char *
wz_followup_entry_get_patient (WzFollowupEntry *self)
{
  g_return_val_if_fail (WZ_IS_FOLLOWUP_ENTRY (self), NULL);
  return self->patient;
}

const char *
wz_followup_entry_get_patient_id (WzFollowupEntry *self)
{
  g_return_val_if_fail (WZ_IS_FOLLOWUP_ENTRY (self), NULL);
  if (self->patient == NULL)
    return NULL;
  return g_str_has_prefix (self->patient, "Patient/") ? self->patient + 8 : self->patient;
}

const char *
wz_followup_entry_get_name (WzFollowupEntry *self)
{
  g_return_val_if_fail (WZ_IS_FOLLOWUP_ENTRY (self), NULL);
  return self->name;
}

const char *
wz_followup_entry_get_today (WzFollowupEntry *self)
{
  g_return_val_if_fail (WZ_IS_FOLLOWUP_ENTRY (self), NULL);
  return self->today;
}

const char *
wz_followup_entry_get_alert (WzFollowupEntry *self)
{
  g_return_val_if_fail (WZ_IS_FOLLOWUP_ENTRY (self), NULL);
  return self->alert;
}

JsonArray *
wz_followup_entry_get_tasks (WzFollowupEntry *self)
{
  g_return_val_if_fail (WZ_IS_FOLLOWUP_ENTRY (self), NULL);
  return self->tasks;
}

JsonArray *
wz_followup_entry_get_measurements (WzFollowupEntry *self)
{
  g_return_val_if_fail (WZ_IS_FOLLOWUP_ENTRY (self), NULL);
  return self->measurements;
}

const char *
wz_followup_entry_get_details (WzFollowupEntry *self)
{
  g_return_val_if_fail (WZ_IS_FOLLOWUP_ENTRY (self), NULL);
  return self->details;
}

void
wz_followup_entry_set_details (WzFollowupEntry *self,
                               const char      *details)
{
  g_return_if_fail (WZ_IS_FOLLOWUP_ENTRY (self));

  if (g_strcmp0 (self->details, details) == 0)
    return;
  g_free (self->details);
  self->details = g_strdup (details ? details : "");
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DETAILS]);
}

const char * const *
wz_followup_entry_get_allergies (WzFollowupEntry *self)
{
  g_return_val_if_fail (WZ_IS_FOLLOWUP_ENTRY (self), NULL);
  return (const char * const *) self->allergies;
}

void
wz_followup_entry_set_allergies (WzFollowupEntry    *self,
                                 const char * const *allergies)
{
  g_return_if_fail (WZ_IS_FOLLOWUP_ENTRY (self));

  g_strfreev (self->allergies);
  self->allergies = g_strdupv ((char **) allergies);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ALLERGIES]);
}
