/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-allergy-badge"

#include "config.h"

#include "wz-allergy-badge.h"

#include <glib/gi18n.h>

#include "wz-fhir-json.h"

/* The red “Allergies: …” strip. It goes wherever a patient appears (the record, the banner above
 * the consultation, queue rows), so a doctor about to prescribe cannot miss it. It carries an
 * icon and the word “Allergies” as well as the colour, so it does not rely on colour alone. It
 * hides itself when the patient has no known allergy. */
struct _WzAllergyBadge
{
  GtkWidget  parent_instance;

  GtkWidget *box;
  GtkWidget *label;
  char     **allergies;
  gboolean   compact;
};

G_DEFINE_FINAL_TYPE (WzAllergyBadge, wz_allergy_badge, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_ALLERGIES,
  PROP_COMPACT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/**
 * wz_allergy_summary:
 * @allergies: (nullable): substance names
 *
 * Returns: (transfer full): “Allergies: penicillin, eggs”, or %NULL when there are none
 */
char *
wz_allergy_summary (const char * const *allergies)
{
  g_autofree char *joined = NULL;

  if (allergies == NULL || allergies[0] == NULL)
    return NULL;

  /* Translators: list separator between allergy names, e.g. “penicillin, eggs” */
  joined = g_strjoinv (_(", "), (char **) allergies);

  /* Translators: the red allergy warning; %s is a list of substances */
  return g_strdup_printf (_("Allergies: %s"), joined);
}

/**
 * wz_allergy_names_from_bundle:
 * @bundle: a searchset Bundle of AllergyIntolerance resources
 *
 * The substances of the allergies that still apply: not resolved or inactive, not refuted or
 * entered in error. A record without a clinical status counts, because an allergy nobody
 * confirmed as gone must still be shown.
 *
 * Returns: (transfer full): the names, possibly empty; %NULL if @bundle is not a Bundle
 */
char **
wz_allergy_names_from_bundle (JsonNode *bundle)
{
  g_autoptr(GStrvBuilder) names = g_strv_builder_new ();
  g_autoptr(GPtrArray) resources = wz_bundle_resources (bundle, "AllergyIntolerance");

  if (resources == NULL)
    return NULL;

  for (guint i = 0; i < resources->len; i++)
    {
      JsonObject *resource = resources->pdata[i];
      const char *clinical = wz_concept_code (wz_json_object (resource, "clinicalStatus"), NULL);
      const char *verification = wz_concept_code (wz_json_object (resource, "verificationStatus"),
                                                  NULL);
      const char *name;

      if (g_strcmp0 (clinical, "inactive") == 0 || g_strcmp0 (clinical, "resolved") == 0
          || g_strcmp0 (verification, "refuted") == 0
          || g_strcmp0 (verification, "entered-in-error") == 0)
        continue;

      name = wz_concept_text (wz_json_object (resource, "code"));
      g_strv_builder_add (names, name != NULL ? name : _("unnamed substance"));
    }

  return g_strv_builder_end (names);
}

static void
update (WzAllergyBadge *self)
{
  g_autofree char *summary = wz_allergy_summary ((const char * const *) self->allergies);

  gtk_widget_set_visible (GTK_WIDGET (self), summary != NULL);
  gtk_label_set_text (GTK_LABEL (self->label), summary != NULL ? summary : "");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self), self->compact ? summary : NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, summary != NULL ? summary : "",
                                  -1);
}

void
wz_allergy_badge_set_allergies (WzAllergyBadge     *self,
                                const char * const *allergies)
{
  g_return_if_fail (WZ_IS_ALLERGY_BADGE (self));

  if (self->allergies == NULL && (allergies == NULL || allergies[0] == NULL))
    return;
  if (self->allergies != NULL && allergies != NULL
      && g_strv_equal ((const char * const *) self->allergies, allergies))
    return;

  g_strfreev (self->allergies);
  self->allergies = allergies != NULL && allergies[0] != NULL ? g_strdupv ((char **) allergies)
                                                              : NULL;
  update (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ALLERGIES]);
}

const char * const *
wz_allergy_badge_get_allergies (WzAllergyBadge *self)
{
  g_return_val_if_fail (WZ_IS_ALLERGY_BADGE (self), NULL);

  return (const char * const *) self->allergies;
}

/* One line that ellipsizes, for list rows; the full text is in the tooltip. */
void
wz_allergy_badge_set_compact (WzAllergyBadge *self,
                              gboolean        compact)
{
  g_return_if_fail (WZ_IS_ALLERGY_BADGE (self));

  compact = !!compact;
  if (self->compact == compact)
    return;

  self->compact = compact;
  gtk_label_set_wrap (GTK_LABEL (self->label), !compact);
  gtk_label_set_ellipsize (GTK_LABEL (self->label),
                           compact ? PANGO_ELLIPSIZE_END : PANGO_ELLIPSIZE_NONE);
  if (compact)
    gtk_widget_add_css_class (GTK_WIDGET (self), "compact");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self), "compact");
  update (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_COMPACT]);
}

GtkWidget *
wz_allergy_badge_new (void)
{
  return g_object_new (WZ_TYPE_ALLERGY_BADGE, NULL);
}

static void
wz_allergy_badge_dispose (GObject *object)
{
  WzAllergyBadge *self = WZ_ALLERGY_BADGE (object);

  g_clear_pointer (&self->box, gtk_widget_unparent);

  G_OBJECT_CLASS (wz_allergy_badge_parent_class)->dispose (object);
}

static void
wz_allergy_badge_finalize (GObject *object)
{
  WzAllergyBadge *self = WZ_ALLERGY_BADGE (object);

  g_clear_pointer (&self->allergies, g_strfreev);

  G_OBJECT_CLASS (wz_allergy_badge_parent_class)->finalize (object);
}

static void
wz_allergy_badge_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  WzAllergyBadge *self = WZ_ALLERGY_BADGE (object);

  switch (prop_id)
    {
    case PROP_ALLERGIES:
      g_value_set_boxed (value, self->allergies);
      break;
    case PROP_COMPACT:
      g_value_set_boolean (value, self->compact);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
wz_allergy_badge_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  WzAllergyBadge *self = WZ_ALLERGY_BADGE (object);

  switch (prop_id)
    {
    case PROP_ALLERGIES:
      wz_allergy_badge_set_allergies (self, g_value_get_boxed (value));
      break;
    case PROP_COMPACT:
      wz_allergy_badge_set_compact (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
wz_allergy_badge_class_init (WzAllergyBadgeClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = wz_allergy_badge_dispose;
  object_class->finalize = wz_allergy_badge_finalize;
  object_class->get_property = wz_allergy_badge_get_property;
  object_class->set_property = wz_allergy_badge_set_property;

  properties[PROP_ALLERGIES] =
    g_param_spec_boxed ("allergies", NULL, NULL, G_TYPE_STRV,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_COMPACT] =
    g_param_spec_boolean ("compact", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "allergybadge");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_ALERT);
}

static void
wz_allergy_badge_init (WzAllergyBadge *self)
{
  GtkWidget *icon;

  self->box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_set_parent (self->box, GTK_WIDGET (self));

  icon = gtk_image_new_from_icon_name ("dialog-warning-symbolic");
  gtk_widget_set_valign (icon, GTK_ALIGN_START);
  gtk_box_append (GTK_BOX (self->box), icon);

  self->label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->label), 0);
  gtk_label_set_wrap (GTK_LABEL (self->label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (self->label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_selectable (GTK_LABEL (self->label), FALSE);
  gtk_widget_set_hexpand (self->label, TRUE);
  gtk_box_append (GTK_BOX (self->box), self->label);

  gtk_widget_set_visible (GTK_WIDGET (self), FALSE);
}
