/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-followup-page"

#include "config.h"

#include "wz-followup-page.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "wz-careplan-editor.h"
#include "wz-fhir-json.h"
#include "wz-test-report.h"
#include "wz-time.h"
#include "wz-vaccination-view.h"

/* Children are vaccinated under the programme until their seventh birthday. */
#define VACCINATION_AGE_LIMIT 7

/* The Follow-up tab of the selected patient: care plans for everyone, and for a child the
 * vaccination record beside them. The Patient is read once here for both. */
struct _WzFollowupPage
{
  GtkWidget          parent_instance;

  GtkStack          *outer_stack;
  GtkStackSwitcher  *switcher;
  GtkStack          *inner_stack;
  WzCareplanEditor  *editor;
  WzVaccinationView *vaccination;

  WzApiClient       *client;
  GCancellable      *cancellable;
  char              *patient_id;
};

G_DEFINE_FINAL_TYPE (WzFollowupPage, wz_followup_page, GTK_TYPE_WIDGET)

static void
on_patient_read (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(WzFollowupPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = wz_api_client_get_json_finish (WZ_API_CLIENT (object), result, &error);
  JsonObject *patient;
  const char *birth;
  gint age;
  gboolean child;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      gtk_stack_set_visible_child_name (self->outer_stack, "none");
      return;
    }
  patient = json_node_get_object (node);
  birth = wz_json_string (patient, "birthDate");
  age = birth ? wz_age_years (birth, NULL, NULL) : -1;
  child = age >= 0 && age < VACCINATION_AGE_LIMIT;

  gtk_widget_set_visible (GTK_WIDGET (self->switcher), child);
  /* A young child's follow-up is mostly vaccination: that page comes first. */
  gtk_stack_set_visible_child_name (self->inner_stack, child ? "vaccination" : "plans");
  gtk_stack_set_visible_child_name (self->outer_stack, "patient");
  wz_careplan_editor_show (self->editor, patient);
  wz_vaccination_view_show (self->vaccination, child ? patient : NULL);
  wz_test_report ("followup-page patient=%s child=%s", self->patient_id, child ? "yes" : "no");
}

void
wz_followup_page_show (WzFollowupPage *self,
                       const char     *patient_id)
{
  g_autofree char *path = NULL;

  g_return_if_fail (WZ_IS_FOLLOWUP_PAGE (self));

  if (g_strcmp0 (self->patient_id, patient_id) == 0 && patient_id != NULL)
    return;
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_free (self->patient_id);
  self->patient_id = g_strdup (patient_id);
  if (patient_id == NULL || self->client == NULL)
    {
      wz_careplan_editor_show (self->editor, NULL);
      wz_vaccination_view_show (self->vaccination, NULL);
      gtk_stack_set_visible_child_name (self->outer_stack, "none");
      return;
    }
  self->cancellable = g_cancellable_new ();
  path = g_strdup_printf ("/fhir/Patient/%s", patient_id);
  wz_api_client_get_json_async (self->client, path, self->cancellable, on_patient_read,
                                g_object_ref (self));
}

void
wz_followup_page_handle_event (WzFollowupPage *self,
                               const char     *resource_type,
                               const char     *patient)
{
  g_return_if_fail (WZ_IS_FOLLOWUP_PAGE (self));

  if (self->patient_id == NULL || patient == NULL || !g_str_has_suffix (patient, self->patient_id))
    return;
  if (g_strcmp0 (resource_type, "Immunization") == 0 ||
      g_strcmp0 (resource_type, "AdverseEvent") == 0 ||
      g_strcmp0 (resource_type, "QuestionnaireResponse") == 0)
    wz_vaccination_view_reload (self->vaccination);
}

void
wz_followup_page_set_client (WzFollowupPage *self,
                             WzApiClient    *client)
{
  g_return_if_fail (WZ_IS_FOLLOWUP_PAGE (self));

  g_set_object (&self->client, client);
  wz_careplan_editor_set_client (self->editor, client);
  wz_vaccination_view_set_client (self->vaccination, client);
}

static void
wz_followup_page_dispose (GObject *object)
{
  WzFollowupPage *self = WZ_FOLLOWUP_PAGE (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), WZ_TYPE_FOLLOWUP_PAGE);
  g_clear_object (&self->client);
  g_clear_pointer (&self->patient_id, g_free);

  G_OBJECT_CLASS (wz_followup_page_parent_class)->dispose (object);
}

static void
wz_followup_page_class_init (WzFollowupPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = wz_followup_page_dispose;

  g_type_ensure (WZ_TYPE_CAREPLAN_EDITOR);
  g_type_ensure (WZ_TYPE_VACCINATION_VIEW);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/wenzhen/Wenzhen/wz-followup-page.ui");
  gtk_widget_class_bind_template_child (widget_class, WzFollowupPage, outer_stack);
  gtk_widget_class_bind_template_child (widget_class, WzFollowupPage, switcher);
  gtk_widget_class_bind_template_child (widget_class, WzFollowupPage, inner_stack);
  gtk_widget_class_bind_template_child (widget_class, WzFollowupPage, editor);
  gtk_widget_class_bind_template_child (widget_class, WzFollowupPage, vaccination);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "followuppage");
}

static void
wz_followup_page_init (WzFollowupPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}
