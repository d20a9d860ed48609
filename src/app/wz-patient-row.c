/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-patient-row"

#include "config.h"

#include "wz-patient-row.h"

#include <adwaita.h>

/* A patient in the queue: avatar, name, and gender · age. Everything it shows is bound in the
 * template to the WzPatientItem, so an updated item redraws the row by itself. */
struct _WzPatientRow
{
  GtkWidget      parent_instance;

  WzPatientItem *patient;
};

G_DEFINE_FINAL_TYPE (WzPatientRow, wz_patient_row, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_PATIENT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
update_accessible_label (WzPatientRow *self)
{
  g_autofree char *label = NULL;

  if (self->patient == NULL)
    return;

  /* Screen readers announce the row as one sentence-like label rather than three fragments. */
  label = g_strdup_printf ("%s, %s",
                           wz_patient_item_get_name (self->patient),
                           wz_patient_item_get_details (self->patient));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                  -1);
}

static void
wz_patient_row_dispose (GObject *object)
{
  WzPatientRow *self = WZ_PATIENT_ROW (object);
  GtkWidget *child;

  if (self->patient != NULL)
    g_signal_handlers_disconnect_by_func (self->patient, update_accessible_label, self);
  g_clear_object (&self->patient);
  gtk_widget_dispose_template (GTK_WIDGET (self), WZ_TYPE_PATIENT_ROW);
  /* The template's top-level box is not a bound child; a bin widget unparents it itself. */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (wz_patient_row_parent_class)->dispose (object);
}

static void
wz_patient_row_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  WzPatientRow *self = WZ_PATIENT_ROW (object);

  switch (prop_id)
    {
    case PROP_PATIENT:
      g_value_set_object (value, self->patient);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
wz_patient_row_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  WzPatientRow *self = WZ_PATIENT_ROW (object);

  switch (prop_id)
    {
    case PROP_PATIENT:
      wz_patient_row_set_patient (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
wz_patient_row_class_init (WzPatientRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = wz_patient_row_dispose;
  object_class->get_property = wz_patient_row_get_property;
  object_class->set_property = wz_patient_row_set_property;

  properties[PROP_PATIENT] =
    g_param_spec_object ("patient", NULL, NULL, WZ_TYPE_PATIENT_ITEM,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (ADW_TYPE_AVATAR);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/wenzhen/Wenzhen/wz-patient-row.ui");
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "patientrow");
}

static void
wz_patient_row_init (WzPatientRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
wz_patient_row_new (void)
{
  return g_object_new (WZ_TYPE_PATIENT_ROW, NULL);
}

WzPatientItem *
wz_patient_row_get_patient (WzPatientRow *self)
{
  g_return_val_if_fail (WZ_IS_PATIENT_ROW (self), NULL);

  return self->patient;
}

void
wz_patient_row_set_patient (WzPatientRow  *self,
                            WzPatientItem *patient)
{
  g_return_if_fail (WZ_IS_PATIENT_ROW (self));
  g_return_if_fail (patient == NULL || WZ_IS_PATIENT_ITEM (patient));

  if (self->patient == patient)
    return;

  if (self->patient != NULL)
    g_signal_handlers_disconnect_by_func (self->patient, update_accessible_label, self);

  g_set_object (&self->patient, patient);

  if (self->patient != NULL)
    {
      g_signal_connect_swapped (self->patient, "notify::details",
                                G_CALLBACK (update_accessible_label), self);
      g_signal_connect_swapped (self->patient, "notify::name",
                                G_CALLBACK (update_accessible_label), self);
      update_accessible_label (self);
    }

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PATIENT]);
}
