/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-followup-row"

#include "config.h"

#include "wz-followup-row.h"

#include <glib/gi18n.h>

#include "wz-allergy-badge.h"
#include "wz-fhir-json.h"
#include "wz-followup-format.h"

/* One line of the follow-up worklist: a group heading, or a patient with what is due and the
 * readings against their targets, out-of-range values in red. */
struct _WzFollowupRow
{
  GtkWidget        parent_instance;

  GtkLabel        *heading_label;
  GtkBox          *patient_box;
  GtkImage        *alert_icon;
  GtkLabel        *name_label;
  GtkLabel        *details_label;
  WzAllergyBadge  *allergy_badge;
  GtkBox          *tasks_box;
  GtkBox          *measurements_box;

  WzFollowupEntry *entry;
};

G_DEFINE_FINAL_TYPE (WzFollowupRow, wz_followup_row, GTK_TYPE_WIDGET)

enum {
  OPEN_PATIENT,
  CALL_IN,
  MARK_DONE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
clear_box (GtkBox *box)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (box))) != NULL)
    gtk_box_remove (box, child);
}

static void
on_done_clicked (GtkButton     *button,
                 WzFollowupRow *self)
{
  g_signal_emit (self, signals[MARK_DONE], 0,
                 g_object_get_data (G_OBJECT (button), "wz-task"),
                 g_object_get_data (G_OBJECT (button), "wz-version"));
}

static void
add_task (WzFollowupRow *self,
          JsonObject    *task)
{
  const char *kind = wz_json_string (task, "kind");
  const char *description = wz_json_string (task, "description");
  g_autofree char *due = wz_followup_format_due (wz_json_string (task, "due"),
                                                 wz_json_string (task, "windowEnd"),
                                                 wz_followup_entry_get_today (self->entry));
  g_autofree char *what = NULL;
  g_autofree char *version = g_strdup_printf ("%" G_GINT64_FORMAT,
                                              json_object_get_int_member_with_default (task, "versionId", 0));
  g_autofree char *done_name = NULL;
  GtkWidget *line = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *label, *when, *button;

  /* Translators: a task on the worklist: its kind, then what it is, e.g. “Revisit: Follow-up visit” */
  what = g_strdup_printf (_("%s: %s"), wz_followup_kind_label (kind),
                          description ? description : "");
  label = gtk_label_new (what);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  /* Wrapped text asks for little width, so the sidebar keeps the queue's width. */
  gtk_label_set_max_width_chars (GTK_LABEL (label), 20);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_box_append (GTK_BOX (line), label);

  when = gtk_label_new (due);
  gtk_widget_add_css_class (when, "caption");
  gtk_widget_add_css_class (when, "numeric");
  if (g_strcmp0 (wz_json_string (task, "timing"), "overdue") == 0 &&
      wz_followup_entry_get_group (self->entry) == WZ_FOLLOWUP_GROUP_OVERDUE)
    gtk_widget_add_css_class (when, "error");
  else
    gtk_widget_add_css_class (when, "dim-label");
  gtk_box_append (GTK_BOX (line), when);

  button = gtk_button_new_from_icon_name ("object-select-symbolic");
  gtk_widget_add_css_class (button, "flat");
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (button, _("Mark Done"));
  /* Translators: accessible name of a worklist button; %s is the task */
  done_name = g_strdup_printf (_("Mark “%s” done"), description ? description : "");
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  done_name, -1);
  g_object_set_data_full (G_OBJECT (button), "wz-task", g_strdup (wz_json_string (task, "task")),
                          g_free);
  g_object_set_data_full (G_OBJECT (button), "wz-version", g_steal_pointer (&version), g_free);
  g_signal_connect (button, "clicked", G_CALLBACK (on_done_clicked), self);
  gtk_box_append (GTK_BOX (line), button);

  gtk_box_append (self->tasks_box, line);
}

static void
add_measurement (WzFollowupRow *self,
                 JsonObject    *measurement)
{
  JsonObject *latest = wz_json_object (measurement, "latest");
  const char *flag = wz_json_string (measurement, "flag");
  const char *unit = wz_json_string (measurement, "unit");
  const char *message = wz_json_string (measurement, "message");
  g_autofree char *target = wz_followup_format_target (wz_json_object (measurement, "target"), unit);
  g_autofree char *value = NULL;
  g_autofree char *text = NULL;
  gboolean flagged = flag != NULL && g_strcmp0 (flag, "none") != 0;
  GtkWidget *label;

  if (latest == NULL)
    /* Translators: a measurement without any reading from the patient */
    value = g_strdup (_("no reading yet"));
  else if (json_object_has_member (latest, "answer"))
    value = g_strdup (json_object_get_boolean_member_with_default (latest, "answer", FALSE)
                      ? _("answered yes") : _("answered no"));
  else
    {
      g_autofree char *number = wz_followup_format_number (json_object_get_double_member_with_default (latest, "value", 0));
      g_autofree char *date = wz_followup_format_date (wz_json_string (latest, "date"));

      /* Translators: a reading: value, unit, date, e.g. “168 mmHg on 20 Nov 2026” */
      value = g_strdup_printf (_("%s %s on %s"), number, wz_followup_format_unit (unit), date);
    }

  if (*target != '\0')
    /* Translators: a measurement on the worklist: name, the latest reading, the target */
    text = g_strdup_printf (_("%s: %s (%s)"), wz_json_string (measurement, "name"), value, target);
  else
    /* Translators: a measurement on the worklist without a target: name, the latest reading */
    text = g_strdup_printf (_("%s: %s"), wz_json_string (measurement, "name"), value);
  label = gtk_label_new (text);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 30);
  gtk_widget_add_css_class (label, "caption");
  if (flagged)
    {
      g_autofree char *accessible = NULL;

      gtk_widget_add_css_class (label, "error");
      gtk_widget_add_css_class (label, "followup-flagged");
      /* Translators: spoken before a reading outside its target */
      accessible = g_strdup_printf (_("Out of range: %s"), text);
      gtk_accessible_update_property (GTK_ACCESSIBLE (label), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      accessible, -1);
    }
  else if (latest == NULL || json_object_get_boolean_member_with_default (measurement, "stale",
                                                                          FALSE))
    gtk_widget_add_css_class (label, "dim-label");
  gtk_box_append (self->measurements_box, label);

  if (flagged && message != NULL)
    {
      GtkWidget *advice = gtk_label_new (message);

      gtk_label_set_xalign (GTK_LABEL (advice), 0);
      gtk_label_set_wrap (GTK_LABEL (advice), TRUE);
      gtk_label_set_wrap_mode (GTK_LABEL (advice), PANGO_WRAP_WORD_CHAR);
      gtk_label_set_max_width_chars (GTK_LABEL (advice), 30);
      gtk_widget_add_css_class (advice, "caption");
      gtk_widget_add_css_class (advice, "dim-label");
      gtk_widget_set_margin_start (advice, 12);
      gtk_box_append (self->measurements_box, advice);
    }
}

static void
update_details (WzFollowupRow *self)
{
  gtk_label_set_text (self->details_label, wz_followup_entry_get_details (self->entry));
}

static void
update_allergies (WzFollowupRow *self)
{
  wz_allergy_badge_set_allergies (self->allergy_badge,
                                  wz_followup_entry_get_allergies (self->entry));
}

static const char *
heading_text (WzFollowupGroup group)
{
  switch (group)
    {
    case WZ_FOLLOWUP_GROUP_OVERDUE:
      /* Translators: heading of the follow-up worklist */
      return _("Overdue");
    case WZ_FOLLOWUP_GROUP_TODAY:
      /* Translators: heading of the follow-up worklist: due now, or readings to review */
      return _("Today");
    case WZ_FOLLOWUP_GROUP_UPCOMING:
    default:
      /* Translators: heading of the follow-up worklist: due in the coming week */
      return _("Upcoming");
    }
}

void
wz_followup_row_set_entry (WzFollowupRow   *self,
                           WzFollowupEntry *entry)
{
  JsonArray *tasks, *measurements;

  g_return_if_fail (WZ_IS_FOLLOWUP_ROW (self));

  if (self->entry != NULL)
    g_signal_handlers_disconnect_by_data (self->entry, self);
  g_set_object (&self->entry, entry);
  clear_box (self->tasks_box);
  clear_box (self->measurements_box);
  if (entry == NULL)
    return;

  if (wz_followup_entry_is_heading (entry))
    {
      g_autofree char *text = g_strdup_printf ("%s · %u", heading_text (wz_followup_entry_get_group (entry)),
                                               wz_followup_entry_get_n_patients (entry));

      gtk_label_set_text (self->heading_label, text);
      gtk_widget_set_visible (GTK_WIDGET (self->heading_label), TRUE);
      gtk_widget_set_visible (GTK_WIDGET (self->patient_box), FALSE);
      return;
    }

  gtk_widget_set_visible (GTK_WIDGET (self->heading_label), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->patient_box), TRUE);
  gtk_label_set_text (self->name_label, wz_followup_entry_get_name (entry));
  gtk_widget_set_visible (GTK_WIDGET (self->alert_icon),
                          g_strcmp0 (wz_followup_entry_get_alert (entry), "urgent") == 0);
  update_details (self);
  update_allergies (self);
  g_signal_connect_swapped (entry, "notify::details", G_CALLBACK (update_details), self);
  g_signal_connect_swapped (entry, "notify::allergies", G_CALLBACK (update_allergies), self);

  tasks = wz_followup_entry_get_tasks (entry);
  for (guint i = 0; tasks != NULL && i < json_array_get_length (tasks); i++)
    add_task (self, wz_json_array_object (tasks, i));
  measurements = wz_followup_entry_get_measurements (entry);
  for (guint i = 0; measurements != NULL && i < json_array_get_length (measurements); i++)
    add_measurement (self, wz_json_array_object (measurements, i));
  gtk_widget_set_visible (GTK_WIDGET (self->measurements_box),
                          measurements != NULL && json_array_get_length (measurements) > 0);
}

WzFollowupEntry *
wz_followup_row_get_entry (WzFollowupRow *self)
{
  g_return_val_if_fail (WZ_IS_FOLLOWUP_ROW (self), NULL);
  return self->entry;
}

static void
action_open (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  g_signal_emit (widget, signals[OPEN_PATIENT], 0);
}

static void
action_call_in (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  g_signal_emit (widget, signals[CALL_IN], 0);
}

static void
wz_followup_row_dispose (GObject *object)
{
  WzFollowupRow *self = WZ_FOLLOWUP_ROW (object);

  if (self->entry != NULL)
    g_signal_handlers_disconnect_by_data (self->entry, self);
  g_clear_object (&self->entry);
  gtk_widget_dispose_template (GTK_WIDGET (self), WZ_TYPE_FOLLOWUP_ROW);

  G_OBJECT_CLASS (wz_followup_row_parent_class)->dispose (object);
}

static void
wz_followup_row_class_init (WzFollowupRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = wz_followup_row_dispose;

  signals[OPEN_PATIENT] =
    g_signal_new ("open-patient", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[CALL_IN] =
    g_signal_new ("call-in", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /**
   * WzFollowupRow::mark-done:
   * @task: "Task/ID"
   * @version: the versionId the worklist showed
   */
  signals[MARK_DONE] =
    g_signal_new ("mark-done", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);

  gtk_widget_class_install_action (widget_class, "row.open", NULL, action_open);
  gtk_widget_class_install_action (widget_class, "row.call-in", NULL, action_call_in);

  g_type_ensure (WZ_TYPE_ALLERGY_BADGE);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/wenzhen/Wenzhen/wz-followup-row.ui");
  gtk_widget_class_bind_template_child (widget_class, WzFollowupRow, heading_label);
  gtk_widget_class_bind_template_child (widget_class, WzFollowupRow, patient_box);
  gtk_widget_class_bind_template_child (widget_class, WzFollowupRow, alert_icon);
  gtk_widget_class_bind_template_child (widget_class, WzFollowupRow, name_label);
  gtk_widget_class_bind_template_child (widget_class, WzFollowupRow, details_label);
  gtk_widget_class_bind_template_child (widget_class, WzFollowupRow, allergy_badge);
  gtk_widget_class_bind_template_child (widget_class, WzFollowupRow, tasks_box);
  gtk_widget_class_bind_template_child (widget_class, WzFollowupRow, measurements_box);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "followuprow");
}

static void
wz_followup_row_init (WzFollowupRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_orientable_set_orientation (GTK_ORIENTABLE (gtk_widget_get_layout_manager (GTK_WIDGET (self))),
                                  GTK_ORIENTATION_VERTICAL);
}

GtkWidget *
wz_followup_row_new (void)
{
  return g_object_new (WZ_TYPE_FOLLOWUP_ROW, NULL);
}
