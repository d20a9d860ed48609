/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-careplan-editor"

#include "config.h"

#include "wz-careplan-editor.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <stdlib.h>
#include <string.h>

#include "wz-careplan-template.h"
#include "wz-draft-store.h"
#include "wz-fhir-json.h"
#include "wz-followup-format.h"
#include "wz-id.h"
#include "wz-test-report.h"
#include "wz-time.h"

/* The clinic's zone when the patient's record names none (as the server's default). */
#define DEFAULT_ZONE "Asia/Shanghai"
/* Days an added item counts as on time after its due date. */
#define ADDED_WINDOW_DAYS 7

/* The Follow-up tab's care plans: the patient's plans with their Tasks' state (stop a plan with
 * a reason), and a new plan generated from a template on this computer (the same code and data
 * file the server uses), which the doctor edits before saving. Saving is one request: the
 * template with the doctor's changes ($apply-template with moved, removed and added items and
 * changed targets), which the server stores whole or not at all, and which is idempotent by the
 * plan's identifier, so saving again after a lost answer makes no second plan. Until then the
 * changes are kept in a local draft. */

typedef enum
{
  GROUP_REVISITS,
  GROUP_MEASUREMENTS,
  GROUP_CHECKINS,
  GROUP_EDUCATION,
  N_GROUPS
} ItemGroup;

typedef struct
{
  JsonNode  *task;        /* the Task as it will be saved */
  char      *identifier;  /* its business identifier value */
  ItemGroup  group;
  gboolean   added;
  gboolean   removed;
  gboolean   edited;
  GtkWidget *row;
} Item;

static void
item_free (Item *item)
{
  json_node_unref (item->task);
  g_free (item->identifier);
  g_free (item);
}

struct _WzCareplanEditor
{
  GtkWidget            parent_instance;

  AdwPreferencesGroup *plans_group;
  AdwPreferencesGroup *new_group;
  AdwComboRow         *template_row;
  AdwActionRow        *anchor_row;
  GtkMenuButton       *anchor_button;
  GtkCalendar         *anchor_calendar;
  GtkBox              *items_box;
  GtkLabel            *error_label;
  GtkSpinner          *save_spinner;
  GtkButton           *save_button;
  GtkLabel            *draft_label;

  WzApiClient         *client;
  GCancellable        *cancellable;      /* the shown patient's reads and writes */
  JsonObject          *patient;
  char                *patient_ref;
  GTimeZone           *zone;
  WzDay                today;
  GPtrArray           *templates;        /* WzCareplanTemplate */
  GPtrArray           *template_codes;   /* GStrv per template: ICD-10 prefixes it is for */
  GPtrArray           *conditions;       /* char *: the patient's active ICD-10 codes */
  gboolean             conditions_known;
  WzDay                anchor;
  char                *identifier;       /* the new plan's, kept until it is saved */
  GPtrArray           *items;            /* Item */
  GPtrArray           *rows;             /* plan rows shown in plans_group */
  GtkWidget           *groups[N_GROUPS];
  guint                n_added;
  gboolean             saving;
  gboolean             ignore_template;

  /* The local draft: one write or removal at a time. */
  gboolean             draft_busy;
  gboolean             draft_dirty;      /* changed again while it was being written */
  char                *draft_discard;    /* Patient/ID whose draft goes once the write is done */
  gboolean             restoring;

  /* Saving: what the request carried and the server's answer. */
  char                *saved_plan;
  guint                n_edited, n_removed, n_added_saved, n_tasks;
};

G_DEFINE_FINAL_TYPE (WzCareplanEditor, wz_careplan_editor, GTK_TYPE_WIDGET)

static void rebuild_preview (WzCareplanEditor *self);
static void draft_changed (WzCareplanEditor *self);
static void read_draft (WzCareplanEditor *self);

/* ---- Small JSON helpers ------------------------------------------------------------------- */

static JsonObject *
extension_with_url (JsonObject *object,
                    const char *url)
{
  JsonArray *extensions = wz_json_array (object, "extension");

  for (guint i = 0; extensions != NULL && i < json_array_get_length (extensions); i++)
    {
      JsonObject *extension = wz_json_array_object (extensions, i);

      if (g_strcmp0 (wz_json_string (extension, "url"), url) == 0)
        return extension;
    }
  return NULL;
}

static const char *
task_due (JsonObject *task)
{
  return wz_json_string (extension_with_url (task, WZ_FOLLOWUP_DUE_EXTENSION), "valueDate");
}

static const char *
task_kind (JsonObject *task)
{
  return wz_concept_code (wz_json_object (task, "code"), WZ_FOLLOWUP_TASK_SYSTEM);
}

static const char *
task_identifier (JsonObject *task)
{
  return wz_json_string (wz_json_array_object (wz_json_array (task, "identifier"), 0), "value");
}

static WzDay
day_of (const char *text)
{
  WzDay day = WZ_DAY_NONE;

  if (text != NULL && strlen (text) >= 10)
    {
      char buf[11];

      memcpy (buf, text, 10);
      buf[10] = '\0';
      wz_day_parse (buf, &day);
    }
  return day;
}

/* Moves the Task's due date to DAY and its on-time window with it. */
static void
task_set_due (JsonObject *task,
              WzDay       day)
{
  JsonObject *due = extension_with_url (task, WZ_FOLLOWUP_DUE_EXTENSION);
  JsonObject *period = wz_json_object (wz_json_object (task, "restriction"), "period");
  WzDay old = day_of (task_due (task));
  gint shift = old != WZ_DAY_NONE ? (gint) day - (gint) old : 0;
  char buf[16];

  if (due != NULL)
    json_object_set_string_member (due, "valueDate", wz_day_format_buf (day, buf));
  if (period != NULL)
    for (guint i = 0; i < 2; i++)
      {
        const char *member = i == 0 ? "start" : "end";
        WzDay edge = day_of (wz_json_string (period, member));

        if (edge != WZ_DAY_NONE)
          json_object_set_string_member (period, member,
                                         wz_day_format_buf (wz_day_add_days (edge, shift), buf));
      }
}

static gboolean
target_number (JsonObject *task,
               const char *name,
               double     *out)
{
  JsonObject *target = extension_with_url (task, WZ_CAREPLAN_TARGET_EXTENSION);

  *out = 0;
  if (target == NULL)
    return FALSE;
  {
    JsonObject *part = extension_with_url (target, name);

    if (part == NULL || !json_object_has_member (part, "valueDecimal"))
      return FALSE;
    *out = json_object_get_double_member (part, "valueDecimal");
    return TRUE;
  }
}

static void
target_set_number (JsonObject *task,
                   const char *name,
                   double      value)
{
  JsonObject *target = extension_with_url (task, WZ_CAREPLAN_TARGET_EXTENSION);
  JsonObject *part = target ? extension_with_url (target, name) : NULL;

  if (part != NULL)
    json_object_set_double_member (part, "valueDecimal", value);
}

static char *
practitioner_ref (WzCareplanEditor *self)
{
  WzSession *session = self->client ? wz_api_client_get_session (self->client) : NULL;
  const char *practitioner = session ? wz_session_get_practitioner (session) : NULL;

  if (practitioner == NULL)
    return NULL;
  if (g_str_has_prefix (practitioner, "Practitioner/"))
    return g_strdup (practitioner);
  return g_strconcat ("Practitioner/", practitioner, NULL);
}

/* ---- Messages ----------------------------------------------------------------------------- */

static void
show_error (WzCareplanEditor *self,
            const char       *message)
{
  gtk_label_set_text (self->error_label, message ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), message != NULL);
  if (message != NULL)
    wz_test_report ("careplan-error message=%s", message);
}

static void
set_saving (WzCareplanEditor *self,
            gboolean          saving)
{
  self->saving = saving;
  gtk_spinner_set_spinning (self->save_spinner, saving);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "careplan.save",
                                 !saving && self->items != NULL && self->items->len > 0);
}

/* ---- Templates ---------------------------------------------------------------------------- */

static char *
data_path (const char *name)
{
  const char *env = g_getenv ("WZ_DATA_DIR");
  const char *dir = env != NULL && *env != '\0' ? env
                    : g_file_test (PKGDATADIR, G_FILE_TEST_IS_DIR) ? PKGDATADIR : SOURCE_DATADIR;

  return g_build_filename (dir, "clinical", name, NULL);
}

static void
load_templates (WzCareplanEditor *self)
{
  g_autofree char *path = data_path ("followup-templates.json");
  g_autofree char *contents = NULL;
  g_autoptr(GtkStringList) titles = gtk_string_list_new (NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  gsize length;
  JsonArray *list = NULL;

  if (!g_file_get_contents (path, &contents, &length, &error) ||
      (self->templates = wz_careplan_template_load_data (contents, length, &error)) == NULL)
    {
      g_warning ("Care-plan templates not loaded: %s", error->message);
      show_error (self, _("The care-plan templates could not be read, so no new plan can be made on this computer. Reinstall Wenzhen or ask your administrator."));
      return;
    }
  /* Which conditions each template is for, to propose the right one. */
  if (json_parser_load_from_data (parser, contents, length, NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    list = wz_json_array (json_node_get_object (json_parser_get_root (parser)), "templates");
  self->template_codes = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  for (guint i = 0; i < self->templates->len; i++)
    {
      WzCareplanTemplate *template = g_ptr_array_index (self->templates, i);
      JsonObject *entry = list ? wz_json_array_object (list, i) : NULL;
      JsonArray *prefixes = wz_json_array (wz_json_object (entry, "applies_to"), "icd10_prefixes");
      GStrvBuilder *codes = g_strv_builder_new ();

      for (guint p = 0; prefixes != NULL && p < json_array_get_length (prefixes); p++)
        if (JSON_NODE_HOLDS_VALUE (json_array_get_element (prefixes, p)))
          g_strv_builder_add (codes, json_array_get_string_element (prefixes, p));
      g_ptr_array_add (self->template_codes, g_strv_builder_end (codes));
      g_strv_builder_unref (codes);
      gtk_string_list_append (titles,
                              wz_text_get (wz_careplan_template_get_title (template),
                                           wz_followup_lang ()));
    }
  self->ignore_template = TRUE;
  adw_combo_row_set_model (self->template_row, G_LIST_MODEL (titles));
  self->ignore_template = FALSE;
}

static WzCareplanTemplate *
current_template (WzCareplanEditor *self)
{
  guint selected = adw_combo_row_get_selected (self->template_row);

  if (self->templates == NULL || selected >= self->templates->len)
    return NULL;
  return g_ptr_array_index (self->templates, selected);
}

/* The template for the patient's conditions (the first listed for children under 7 is child
 * health), else the first one. */
static guint
proposed_template (WzCareplanEditor *self)
{
  const char *birth = wz_json_string (self->patient, "birthDate");
  gint age = birth ? wz_age_years (birth, NULL, NULL) : -1;

  for (guint i = 0; self->templates && i < self->templates->len; i++)
    {
      GStrv codes = g_ptr_array_index (self->template_codes, i);

      for (guint c = 0; c < self->conditions->len; c++)
        for (guint p = 0; codes != NULL && codes[p] != NULL; p++)
          if (g_str_has_prefix (g_ptr_array_index (self->conditions, c), codes[p]))
            return i;
    }
  for (guint i = 0; age >= 0 && age < 7 && self->templates && i < self->templates->len; i++)
    if (g_strcmp0 (wz_careplan_template_get_id (g_ptr_array_index (self->templates, i)),
                   "child_health") == 0)
      return i;
  return 0;
}

/* ---- The new plan's items ----------------------------------------------------------------- */

static ItemGroup
group_of_kind (const char *kind)
{
  if (g_strcmp0 (kind, "measurement") == 0)
    return GROUP_MEASUREMENTS;
  if (g_strcmp0 (kind, "adherence-checkin") == 0)
    return GROUP_CHECKINS;
  if (g_strcmp0 (kind, "education") == 0)
    return GROUP_EDUCATION;
  return GROUP_REVISITS;
}

static void
report_preview (WzCareplanEditor *self)
{
  guint counts[N_GROUPS] = { 0, };
  WzCareplanTemplate *template = current_template (self);

  if (!wz_test_report_enabled ())
    return;
  for (guint i = 0; self->items && i < self->items->len; i++)
    {
      Item *item = g_ptr_array_index (self->items, i);

      if (!item->removed)
        counts[item->group]++;
    }
  wz_test_report_when_settled (GTK_WIDGET (self), NULL,
                               "careplan-preview patient=%s template=%s revisits=%u "
                               "measurements=%u checkins=%u education=%u",
                               self->patient_ref ? self->patient_ref : "-",
                               template ? wz_careplan_template_get_id (template) : "-",
                               counts[GROUP_REVISITS], counts[GROUP_MEASUREMENTS],
                               counts[GROUP_CHECKINS], counts[GROUP_EDUCATION]);
}

typedef struct
{
  WzCareplanEditor *self;
  Item             *item;
} ItemRef;

static void
on_item_removed (GtkButton *button,
                 ItemRef   *ref)
{
  ref->item->removed = TRUE;
  gtk_widget_set_visible (ref->item->row, FALSE);
  wz_test_report ("careplan-item-removed id=%s", ref->item->identifier);
  draft_changed (ref->self);
  report_preview (ref->self);
}

static void
on_item_day_selected (GtkCalendar *calendar,
                      ItemRef     *ref)
{
  g_autoptr(GDateTime) picked = gtk_calendar_get_date (calendar);
  WzDay day = wz_day_from_ymd (g_date_time_get_year (picked), g_date_time_get_month (picked),
                               g_date_time_get_day_of_month (picked));
  GtkWidget *button = gtk_widget_get_ancestor (GTK_WIDGET (calendar), GTK_TYPE_POPOVER);
  char buf[16];
  g_autofree char *label = NULL;

  task_set_due (json_node_get_object (ref->item->task), day);
  ref->item->edited = TRUE;
  label = wz_followup_format_date (wz_day_format_buf (day, buf));
  button = button ? gtk_widget_get_parent (button) : NULL;
  if (GTK_IS_MENU_BUTTON (button))
    {
      gtk_menu_button_set_label (GTK_MENU_BUTTON (button), label);
      gtk_menu_button_popdown (GTK_MENU_BUTTON (button));
    }
  wz_test_report ("careplan-item-date id=%s due=%s", ref->item->identifier, buf);
  draft_changed (ref->self);
}

static void
on_target_changed (GtkSpinButton *spin,
                   ItemRef       *ref)
{
  const char *name = g_object_get_data (G_OBJECT (spin), "wz-target");

  target_set_number (json_node_get_object (ref->item->task), name,
                     gtk_spin_button_get_value (spin));
  ref->item->edited = TRUE;
  draft_changed (ref->self);
}

static void
on_description_changed (GtkEditable *editable,
                        ItemRef     *ref)
{
  JsonObject *task = json_node_get_object (ref->item->task);
  const char *text = gtk_editable_get_text (editable);

  json_object_set_string_member (task, "description", text);
  json_object_set_string_member (wz_json_object (task, "code"), "text", text);
  ref->item->edited = TRUE;
  draft_changed (ref->self);
}

static GtkWidget *
date_button (WzCareplanEditor *self,
             Item             *item,
             ItemRef          *ref)
{
  const char *due = task_due (json_node_get_object (item->task));
  g_autofree char *label = wz_followup_format_date (due);
  GtkWidget *button = gtk_menu_button_new ();
  GtkWidget *popover = gtk_popover_new ();
  GtkWidget *calendar = gtk_calendar_new ();
  WzDay day = day_of (due);

  if (day != WZ_DAY_NONE)
    {
      guint y, m, d;
      g_autoptr(GDateTime) date = NULL;

      wz_day_get_ymd (day, &y, &m, &d);
      date = g_date_time_new_local (y, m, d, 12, 0, 0);
      gtk_calendar_select_day (GTK_CALENDAR (calendar), date);
    }
  gtk_popover_set_child (GTK_POPOVER (popover), calendar);
  gtk_menu_button_set_popover (GTK_MENU_BUTTON (button), popover);
  gtk_menu_button_set_label (GTK_MENU_BUTTON (button), label);
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (button, "flat");
  gtk_widget_set_tooltip_text (button, _("Change the Due Date"));
  g_signal_connect_data (calendar, "day-selected", G_CALLBACK (on_item_day_selected), ref,
                         NULL, 0);
  return button;
}

static GtkWidget *
target_spin (Item       *item,
             ItemRef    *ref,
             const char *name,
             double      value,
             const char *accessible)
{
  GtkWidget *spin = gtk_spin_button_new_with_range (0, 1000, 0.1);

  gtk_spin_button_set_digits (GTK_SPIN_BUTTON (spin), value == (double) (gint64) value ? 0 : 1);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (spin), value);
  gtk_widget_set_valign (spin, GTK_ALIGN_CENTER);
  gtk_editable_set_width_chars (GTK_EDITABLE (spin), 4);
  gtk_accessible_update_property (GTK_ACCESSIBLE (spin), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  accessible, -1);
  g_object_set_data_full (G_OBJECT (spin), "wz-target", g_strdup (name), g_free);
  g_signal_connect_data (spin, "value-changed", G_CALLBACK (on_target_changed), ref, NULL, 0);
  return spin;
}

static GtkWidget *
item_row (WzCareplanEditor *self,
          Item             *item)
{
  JsonObject *task = json_node_get_object (item->task);
  const char *kind = task_kind (task);
  const char *description = wz_followup_text (task, "description");
  const char *name = wz_followup_text (wz_json_object (task, "code"), "text");
  ItemRef *ref = g_new0 (ItemRef, 1);
  GtkWidget *row, *remove;
  g_autofree char *remove_name = NULL;

  ref->self = self;
  ref->item = item;

  if (item->added)
    {
      row = adw_entry_row_new ();
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), wz_followup_kind_label (kind));
      gtk_editable_set_text (GTK_EDITABLE (row), description ? description : "");
      g_signal_connect_data (row, "changed", G_CALLBACK (on_description_changed), ref, NULL, 0);
    }
  else
    {
      row = adw_action_row_new ();
      /* Template texts are plain text (“<5 g”), never markup. */
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      if (item->group == GROUP_MEASUREMENTS)
        {
          adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), name ? name : "");
          adw_action_row_set_subtitle (ADW_ACTION_ROW (row), description ? description : "");
        }
      else
        {
          adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), description ? description : "");
          adw_action_row_set_subtitle (ADW_ACTION_ROW (row), wz_followup_kind_label (kind));
        }
      adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 2);
    }
  g_object_set_data_full (G_OBJECT (row), "wz-item-ref", ref, g_free);

  if (item->group == GROUP_MEASUREMENTS)
    {
      JsonObject *target = extension_with_url (task, WZ_CAREPLAN_TARGET_EXTENSION);
      const char *unit = wz_json_string (extension_with_url (target, "unit"), "valueCode");
      double low, high;
      gboolean has_low = target_number (task, "low", &low);
      gboolean has_high = target_number (task, "high", &high);
      GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 4);
      GtkWidget *caption;

      gtk_widget_set_valign (box, GTK_ALIGN_CENTER);
      /* Translators: before a measurement's target range in the care-plan editor */
      caption = gtk_label_new (_("Target"));
      gtk_widget_add_css_class (caption, "dim-label");
      gtk_box_append (GTK_BOX (box), caption);
      if (has_low)
        gtk_box_append (GTK_BOX (box), target_spin (item, ref, "low", low, _("Lowest value on target")));
      if (has_low && has_high)
        gtk_box_append (GTK_BOX (box), gtk_label_new ("–"));
      else if (has_high)
        gtk_box_append (GTK_BOX (box), gtk_label_new ("<"));
      else if (has_low)
        gtk_box_append (GTK_BOX (box), gtk_label_new ("≥"));
      if (has_high)
        gtk_box_append (GTK_BOX (box), target_spin (item, ref, "high", high, _("Value the reading should stay below")));
      if (has_low || has_high)
        {
          GtkWidget *unit_label = gtk_label_new (wz_followup_format_unit (unit));

          gtk_widget_add_css_class (unit_label, "dim-label");
          gtk_box_append (GTK_BOX (box), unit_label);
          adw_action_row_add_suffix (ADW_ACTION_ROW (row), box);
        }
      else
        {
          g_object_ref_sink (box);
          g_object_unref (box);
        }
    }
  else if (item->added)
    adw_entry_row_add_suffix (ADW_ENTRY_ROW (row), date_button (self, item, ref));
  else
    adw_action_row_add_suffix (ADW_ACTION_ROW (row), date_button (self, item, ref));

  remove = gtk_button_new_from_icon_name ("user-trash-symbolic");
  gtk_widget_add_css_class (remove, "flat");
  gtk_widget_set_valign (remove, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (remove, _("Remove From Plan"));
  /* Translators: accessible name of a button; %s is a care-plan item */
  remove_name = g_strdup_printf (_("Remove “%s” from the plan"),
                                 (item->group == GROUP_MEASUREMENTS ? name : description) ?: "");
  gtk_accessible_update_property (GTK_ACCESSIBLE (remove), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  remove_name, -1);
  g_signal_connect_data (remove, "clicked", G_CALLBACK (on_item_removed), ref, NULL, 0);
  if (item->added)
    adw_entry_row_add_suffix (ADW_ENTRY_ROW (row), remove);
  else
    adw_action_row_add_suffix (ADW_ACTION_ROW (row), remove);

  item->row = row;
  return row;
}

static const char *
group_title (ItemGroup group)
{
  switch (group)
    {
    case GROUP_REVISITS:
      return _("Revisits and Reviews");
    case GROUP_MEASUREMENTS:
      return _("Measurements at Home");
    case GROUP_CHECKINS:
      return _("Medication Check-ins");
    case GROUP_EDUCATION:
    default:
      return _("Education");
    }
}

static void add_item (WzCareplanEditor *self, ItemGroup group);

static void
on_add_clicked (GtkButton        *button,
                WzCareplanEditor *self)
{
  add_item (self, GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (button), "wz-group")));
}

/* The check-ins are many (one every two weeks): they sit folded in one row. */
static GtkWidget *
checkins_expander (WzCareplanEditor *self,
                   guint             n)
{
  GtkWidget *expander = adw_expander_row_new ();
  g_autofree char *subtitle = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u check-in",
                                                            "%u check-ins", n), n);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (expander), _("Scheduled check-ins"));
  adw_expander_row_set_subtitle (ADW_EXPANDER_ROW (expander), subtitle);
  return expander;
}

static void
rebuild_items (WzCareplanEditor *self)
{
  GtkWidget *child;
  GtkWidget *expander = NULL;
  guint counts[N_GROUPS] = { 0, };

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->items_box))) != NULL)
    gtk_box_remove (self->items_box, child);
  memset (self->groups, 0, sizeof self->groups);
  if (self->items == NULL)
    return;

  for (guint i = 0; i < self->items->len; i++)
    counts[((Item *) g_ptr_array_index (self->items, i))->group]++;

  for (guint g = 0; g < N_GROUPS; g++)
    {
      GtkWidget *group = adw_preferences_group_new ();

      adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), group_title (g));
      if (g != GROUP_MEASUREMENTS)
        {
          GtkWidget *add = gtk_button_new_from_icon_name ("list-add-symbolic");
          g_autofree char *accessible = g_strdup_printf (_("Add to %s"), group_title (g));

          gtk_widget_add_css_class (add, "flat");
          gtk_widget_set_tooltip_text (add, _("Add Item"));
          gtk_accessible_update_property (GTK_ACCESSIBLE (add), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                          accessible, -1);
          g_object_set_data (G_OBJECT (add), "wz-group", GUINT_TO_POINTER (g));
          g_signal_connect (add, "clicked", G_CALLBACK (on_add_clicked), self);
          adw_preferences_group_set_header_suffix (ADW_PREFERENCES_GROUP (group), add);
        }
      if (g == GROUP_CHECKINS && counts[g] > 3)
        {
          expander = checkins_expander (self, counts[g]);
          adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), expander);
        }
      self->groups[g] = group;
      gtk_box_append (self->items_box, group);
    }

  for (guint i = 0; i < self->items->len; i++)
    {
      Item *item = g_ptr_array_index (self->items, i);
      GtkWidget *row = item_row (self, item);

      if (item->group == GROUP_CHECKINS && expander != NULL && !item->added)
        adw_expander_row_add_row (ADW_EXPANDER_ROW (expander), row);
      else
        adw_preferences_group_add (ADW_PREFERENCES_GROUP (self->groups[item->group]), row);
      gtk_widget_set_visible (row, !item->removed);
    }
}

static void
rebuild_preview (WzCareplanEditor *self)
{
  WzCareplanTemplate *template = current_template (self);
  g_autoptr(WzCareplanInstance) instance = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *author = practitioner_ref (self);
  g_autofree char *authored = wz_time_format_instant (wz_time_now_us ());
  g_autoptr(GPtrArray) codes = g_ptr_array_new ();
  const char *anchor_kind;
  const char *birth;
  WzCareplanRequest request = { NULL, };

  g_clear_pointer (&self->items, g_ptr_array_unref);
  show_error (self, NULL);
  if (template == NULL || self->patient == NULL || author == NULL)
    {
      rebuild_items (self);
      set_saving (self, self->saving);
      return;
    }

  anchor_kind = wz_careplan_template_get_anchor (template);
  birth = wz_json_string (self->patient, "birthDate");
  if (g_strcmp0 (anchor_kind, "birth_date") == 0 && birth != NULL)
    wz_day_parse (birth, &self->anchor);
  else if (g_strcmp0 (anchor_kind, "plan_start") == 0)
    self->anchor = self->today;
  else if (self->anchor == WZ_DAY_NONE)
    self->anchor = self->today;

  /* The operation's or the last period's date is the doctor's to give. */
  gtk_widget_set_visible (GTK_WIDGET (self->anchor_row),
                          g_strcmp0 (anchor_kind, "procedure_date") == 0 ||
                          g_strcmp0 (anchor_kind, "last_menstrual_period") == 0);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->anchor_row),
                                 g_strcmp0 (anchor_kind, "procedure_date") == 0
                                 ? _("Date of the operation")
                                 : _("First day of the last menstrual period"));
  {
    char buf[16];
    g_autofree char *label = wz_followup_format_date (wz_day_format_buf (self->anchor, buf));

    gtk_menu_button_set_label (self->anchor_button, label);
  }

  for (guint i = 0; i < self->conditions->len; i++)
    g_ptr_array_add (codes, g_ptr_array_index (self->conditions, i));
  g_ptr_array_add (codes, NULL);

  if (self->identifier == NULL)
    self->identifier = wz_id_new_urn_uuid ();
  request.patient_ref = self->patient_ref;
  request.author_ref = author;
  request.identifier = self->identifier;
  request.anchor = self->anchor;
  request.created = self->today;
  request.end = WZ_DAY_NONE;
  request.conditions = (const char * const *) codes->pdata;
  request.age_years = birth ? wz_age_years (birth, NULL, NULL) : -1;
  request.include_optional = FALSE;
  request.authored_on = authored;
  request.lang = wz_followup_lang ();

  self->items = g_ptr_array_new_with_free_func ((GDestroyNotify) item_free);
  self->n_added = 0;
  instance = wz_careplan_template_instantiate (template, &request, &error);
  if (instance == NULL)
    {
      g_autofree char *message = g_strdup_printf (_("This template cannot be used for the patient: %s"),
                                                  error->message);

      show_error (self, message);
    }
  for (guint i = 0; instance != NULL && i < instance->tasks->len; i++)
    {
      JsonNode *task = g_ptr_array_index (instance->tasks, i);
      Item *item = g_new0 (Item, 1);

      item->task = json_node_copy (task);
      item->identifier = g_strdup (task_identifier (json_node_get_object (task)));
      item->group = group_of_kind (task_kind (json_node_get_object (task)));
      g_ptr_array_add (self->items, item);
    }
  rebuild_items (self);
  set_saving (self, self->saving);
  report_preview (self);
}

static void
add_item (WzCareplanEditor *self,
          ItemGroup         group)
{
  static const char *kinds[] = { "revisit", "measurement", "adherence-checkin", "education" };
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *author = practitioner_ref (self);
  g_autofree char *authored = wz_time_format_instant (wz_time_now_us ());
  g_autofree char *identifier = NULL;
  const char *text;
  WzDay due = wz_day_add_days (self->today, 14);
  char due_text[16], end_text[16];
  Item *item;
  GtkWidget *row;

  if (self->items == NULL || author == NULL)
    return;

  switch (group)
    {
    case GROUP_REVISITS:
      text = _("Follow-up visit");
      break;
    case GROUP_CHECKINS:
      text = _("Medication and self-care check-in");
      break;
    case GROUP_EDUCATION:
    default:
      text = _("Reading for the patient");
      break;
    }
  identifier = g_strdup_printf ("%s/added-%u", self->identifier, ++self->n_added);
  wz_day_format_buf (due, due_text);
  wz_day_format_buf (wz_day_add_days (due, ADDED_WINDOW_DAYS), end_text);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "resourceType");
  json_builder_add_string_value (builder, "Task");
  json_builder_set_member_name (builder, "extension");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "url");
  json_builder_add_string_value (builder, WZ_FOLLOWUP_DUE_EXTENSION);
  json_builder_set_member_name (builder, "valueDate");
  json_builder_add_string_value (builder, due_text);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "identifier");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "system");
  json_builder_add_string_value (builder, WZ_FOLLOWUP_TASK_ID_SYSTEM);
  json_builder_set_member_name (builder, "value");
  json_builder_add_string_value (builder, identifier);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "status");
  json_builder_add_string_value (builder, "requested");
  json_builder_set_member_name (builder, "intent");
  json_builder_add_string_value (builder, "plan");
  json_builder_set_member_name (builder, "priority");
  json_builder_add_string_value (builder, "routine");
  json_builder_set_member_name (builder, "code");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "coding");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "system");
  json_builder_add_string_value (builder, WZ_FOLLOWUP_TASK_SYSTEM);
  json_builder_set_member_name (builder, "code");
  json_builder_add_string_value (builder, kinds[group]);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "text");
  json_builder_add_string_value (builder, text);
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "description");
  json_builder_add_string_value (builder, text);
  json_builder_set_member_name (builder, "for");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "reference");
  json_builder_add_string_value (builder, self->patient_ref);
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "authoredOn");
  json_builder_add_string_value (builder, authored);
  json_builder_set_member_name (builder, "requester");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "reference");
  json_builder_add_string_value (builder, author);
  json_builder_end_object (builder);
  /* Revisits are the doctor's to hold; the rest reach the patient's page. */
  json_builder_set_member_name (builder, "owner");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "reference");
  json_builder_add_string_value (builder, group == GROUP_REVISITS ? author : self->patient_ref);
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "restriction");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "period");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "start");
  json_builder_add_string_value (builder, due_text);
  json_builder_set_member_name (builder, "end");
  json_builder_add_string_value (builder, end_text);
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  json_builder_end_object (builder);

  item = g_new0 (Item, 1);
  item->task = json_builder_get_root (builder);
  item->identifier = g_steal_pointer (&identifier);
  item->group = group;
  item->added = TRUE;
  g_ptr_array_add (self->items, item);
  row = item_row (self, item);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (self->groups[group]), row);
  gtk_widget_grab_focus (row);
  wz_test_report ("careplan-item-added id=%s kind=%s", item->identifier, kinds[group]);
  draft_changed (self);
  report_preview (self);
}

static void
on_template_selected (WzCareplanEditor *self)
{
  if (self->ignore_template)
    return;
  /* Another template is another plan. */
  g_clear_pointer (&self->identifier, g_free);
  self->anchor = WZ_DAY_NONE;
  rebuild_preview (self);
  draft_changed (self);
}

static void
on_anchor_selected (WzCareplanEditor *self)
{
  g_autoptr(GDateTime) picked = gtk_calendar_get_date (self->anchor_calendar);

  self->anchor = wz_day_from_ymd (g_date_time_get_year (picked), g_date_time_get_month (picked),
                                  g_date_time_get_day_of_month (picked));
  gtk_menu_button_popdown (self->anchor_button);
  rebuild_preview (self);
  draft_changed (self);
}

/* ---- The patient's plans ------------------------------------------------------------------ */

static void
clear_plans (WzCareplanEditor *self)
{
  for (guint i = 0; self->rows && i < self->rows->len; i++)
    adw_preferences_group_remove (self->plans_group, g_ptr_array_index (self->rows, i));
  g_ptr_array_set_size (self->rows, 0);
}

static void
add_plan_row (WzCareplanEditor *self,
              GtkWidget        *row)
{
  adw_preferences_group_add (self->plans_group, row);
  g_ptr_array_add (self->rows, row);
}

/* Done, cancelled, overdue, due or upcoming, as the doctor reads it. */
static const char *
task_state (WzCareplanEditor *self,
            JsonObject       *task,
            const char      **css)
{
  const char *status = wz_json_string (task, "status");
  WzDay due = day_of (task_due (task));
  WzDay end = day_of (wz_json_string (wz_json_object (wz_json_object (task, "restriction"),
                                                      "period"), "end"));

  *css = "dim-label";
  if (g_strcmp0 (status, "completed") == 0)
    {
      *css = "success";
      /* Translators: state of a follow-up task */
      return _("Done");
    }
  if (g_strcmp0 (status, "cancelled") == 0 || g_strcmp0 (status, "rejected") == 0 ||
      g_strcmp0 (status, "entered-in-error") == 0)
    return _("Cancelled");
  if (g_strcmp0 (status, "failed") == 0)
    {
      *css = "error";
      return _("Missed");
    }
  switch (wz_followup_timing (due, end, self->today))
    {
    case WZ_FOLLOWUP_OVERDUE:
      *css = "error";
      return _("Overdue");
    case WZ_FOLLOWUP_DUE:
      *css = "warning";
      /* Translators: state of a follow-up task: its day has come */
      return _("Due");
    case WZ_FOLLOWUP_UPCOMING:
    default:
      return _("Upcoming");
    }
}

static gint
compare_due (gconstpointer a,
             gconstpointer b)
{
  JsonObject *x = *(JsonObject * const *) a;
  JsonObject *y = *(JsonObject * const *) b;

  return g_strcmp0 (task_due (x), task_due (y));
}

static void stop_plan (WzCareplanEditor *self, JsonObject *plan);

static void
on_stop_clicked (GtkButton        *button,
                 WzCareplanEditor *self)
{
  stop_plan (self, g_object_get_data (G_OBJECT (button), "wz-plan"));
}

static void
show_plans (WzCareplanEditor *self,
            JsonNode         *plans_bundle,
            JsonNode         *tasks_bundle)
{
  g_autoptr(GPtrArray) plans = wz_bundle_resources (plans_bundle, "CarePlan");
  g_autoptr(GPtrArray) tasks = wz_bundle_resources (tasks_bundle, "Task");
  guint n_active = 0;

  clear_plans (self);
  if (plans == NULL || plans->len == 0)
    {
      GtkWidget *row = adw_action_row_new ();

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _("No care plans yet"));
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), _("Make the first one below."));
      add_plan_row (self, row);
      wz_test_report ("careplan-plans patient=%s plans=0 active=0", self->patient_ref);
      return;
    }

  for (guint p = 0; p < plans->len; p++)
    {
      JsonObject *plan = g_ptr_array_index (plans, p);
      g_autofree char *ref = wz_resource_reference (plan);
      g_autoptr(GPtrArray) mine = g_ptr_array_new ();
      GtkWidget *expander = adw_expander_row_new ();
      const char *status = wz_json_string (plan, "status");
      guint n_due = 0, n_overdue = 0, n_done = 0;
      g_autofree char *subtitle = NULL;
      g_autofree char *started = wz_followup_format_date (wz_json_string (wz_json_object (plan, "period"), "start"));
      const char *title = wz_followup_text (plan, "title");

      for (guint t = 0; tasks != NULL && t < tasks->len; t++)
        {
          JsonObject *task = g_ptr_array_index (tasks, t);

          if (g_strcmp0 (wz_json_string (wz_json_array_object (wz_json_array (task, "basedOn"), 0),
                                         "reference"), ref) == 0)
            g_ptr_array_add (mine, task);
        }
      g_ptr_array_sort (mine, compare_due);

      for (guint t = 0; t < mine->len; t++)
        {
          JsonObject *task = g_ptr_array_index (mine, t);
          const char *kind = task_kind (task);
          const char *css;
          const char *state = task_state (self, task, &css);
          GtkWidget *row = adw_action_row_new ();
          GtkWidget *label = gtk_label_new (state);
          g_autofree char *when = wz_followup_format_date (task_due (task));
          g_autofree char *sub = g_strdup_printf ("%s · %s", wz_followup_kind_label (task_kind (task)), when);

          /* Measurements run for the whole plan: they are neither due nor done. */
          if (g_strcmp0 (kind, "measurement") != 0)
            {
              if (g_strcmp0 (css, "error") == 0)
                n_overdue++;
              else if (g_strcmp0 (css, "warning") == 0)
                n_due++;
              else if (g_strcmp0 (css, "success") == 0)
                n_done++;
            }
          /* Measurements run for the whole plan; the rest are listed one by one. */
          adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
          adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row),
                                         g_strcmp0 (kind, "measurement") == 0
                                         ? wz_followup_text (wz_json_object (task, "code"), "text")
                                         : wz_followup_text (task, "description"));
          adw_action_row_set_subtitle (ADW_ACTION_ROW (row), sub);
          gtk_widget_add_css_class (label, css);
          gtk_widget_add_css_class (label, "caption-heading");
          adw_action_row_add_suffix (ADW_ACTION_ROW (row), label);
          adw_expander_row_add_row (ADW_EXPANDER_ROW (expander), row);
        }

      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (expander), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (expander), title ? title : _("Care plan"));
      if (g_strcmp0 (status, "active") == 0)
        {
          GtkWidget *stop = gtk_button_new_with_mnemonic (_("S_top…"));

          n_active++;
          /* Translators: a care plan's summary: start date and its tasks' states */
          subtitle = g_strdup_printf (_("Since %s · %u overdue · %u due · %u done"), started,
                                      n_overdue, n_due, n_done);
          gtk_widget_set_valign (stop, GTK_ALIGN_CENTER);
          gtk_widget_set_tooltip_text (stop, _("Stop This Plan"));
          g_object_set_data_full (G_OBJECT (stop), "wz-plan", json_object_ref (plan),
                                  (GDestroyNotify) json_object_unref);
          g_signal_connect (stop, "clicked", G_CALLBACK (on_stop_clicked), self);
          adw_expander_row_add_action (ADW_EXPANDER_ROW (expander), stop);
        }
      else
        /* Translators: a care plan no longer in force; %s is its start date */
        subtitle = g_strdup_printf (_("Stopped · started %s"), started);
      adw_expander_row_set_subtitle (ADW_EXPANDER_ROW (expander), subtitle);
      add_plan_row (self, expander);
    }
  wz_test_report_when_settled (GTK_WIDGET (self), NULL, "careplan-plans patient=%s plans=%u active=%u",
                               self->patient_ref, plans->len, n_active);
}

typedef struct
{
  WzCareplanEditor *self;
  JsonNode         *plans;
} PlansRead;

static void
on_tasks_read (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  PlansRead *read = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = wz_api_client_get_json_finish (WZ_API_CLIENT (object), result, &error);

  if (node == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_error (read->self, error->message);
    }
  else
    show_plans (read->self, read->plans, node);
  g_clear_pointer (&read->plans, json_node_unref);
  g_object_unref (read->self);
  g_free (read);
}

/* The plans first, then their Tasks, so both are of the same moment for the summary. */
static void
on_plans_read (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  PlansRead *read = user_data;
  g_autoptr(GError) error = NULL;
  JsonNode *node = wz_api_client_get_json_finish (WZ_API_CLIENT (object), result, &error);
  g_autofree char *escaped = NULL;
  g_autofree char *path = NULL;

  if (node == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_error (read->self, error->message);
      g_object_unref (read->self);
      g_free (read);
      return;
    }
  read->plans = node;
  escaped = g_uri_escape_string (read->self->patient_ref, NULL, FALSE);
  path = g_strdup_printf ("/fhir/Task?patient=%s&_count=200", escaped);
  wz_api_client_get_json_async (read->self->client, path, read->self->cancellable,
                                on_tasks_read, read);
}

void
wz_careplan_editor_reload (WzCareplanEditor *self)
{
  g_autofree char *escaped = NULL;
  g_autofree char *path = NULL;
  PlansRead *read;

  g_return_if_fail (WZ_IS_CAREPLAN_EDITOR (self));
  if (self->patient_ref == NULL || self->client == NULL)
    return;
  read = g_new0 (PlansRead, 1);
  read->self = g_object_ref (self);
  escaped = g_uri_escape_string (self->patient_ref, NULL, FALSE);
  path = g_strdup_printf ("/fhir/CarePlan?patient=%s&_count=50", escaped);
  wz_api_client_get_json_async (self->client, path, self->cancellable, on_plans_read, read);
}

static void
on_conditions_read (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(WzCareplanEditor) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = wz_api_client_get_json_finish (WZ_API_CLIENT (object), result, &error);
  g_autoptr(GPtrArray) conditions = NULL;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  conditions = node ? wz_bundle_resources (node, "Condition") : NULL;
  g_ptr_array_set_size (self->conditions, 0);
  for (guint i = 0; conditions != NULL && i < conditions->len; i++)
    {
      const char *code = wz_concept_code (wz_json_object (g_ptr_array_index (conditions, i), "code"),
                                          "http://hl7.org/fhir/sid/icd-10");

      if (code != NULL)
        g_ptr_array_add (self->conditions, g_strdup (code));
    }
  self->conditions_known = TRUE;
  self->ignore_template = TRUE;
  adw_combo_row_set_selected (self->template_row, proposed_template (self));
  self->ignore_template = FALSE;
  g_clear_pointer (&self->identifier, g_free);
  self->anchor = WZ_DAY_NONE;
  rebuild_preview (self);
  /* What the doctor typed into this patient's new plan before the app stopped. */
  read_draft (self);
}

void
wz_careplan_editor_show (WzCareplanEditor *self,
                         JsonObject       *patient)
{
  g_autofree char *escaped = NULL;
  g_autofree char *path = NULL;
  JsonObject *tz_extension;

  g_return_if_fail (WZ_IS_CAREPLAN_EDITOR (self));

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  g_clear_pointer (&self->patient, json_object_unref);
  g_clear_pointer (&self->patient_ref, g_free);
  g_clear_pointer (&self->identifier, g_free);
  g_clear_pointer (&self->items, g_ptr_array_unref);
  g_ptr_array_set_size (self->conditions, 0);
  gtk_widget_set_visible (GTK_WIDGET (self->draft_label), FALSE);
  self->conditions_known = FALSE;
  self->anchor = WZ_DAY_NONE;
  self->saving = FALSE;
  gtk_spinner_set_spinning (self->save_spinner, FALSE);
  clear_plans (self);
  rebuild_items (self);
  show_error (self, NULL);
  if (patient == NULL)
    {
      set_saving (self, FALSE);
      return;
    }

  self->patient = json_object_ref (patient);
  self->patient_ref = wz_resource_reference (patient);
  tz_extension = extension_with_url (patient, WZ_FOLLOWUP_TZ_EXTENSION);
  g_clear_pointer (&self->zone, g_time_zone_unref);
  if (tz_extension != NULL)
    self->zone = wz_followup_time_zone (wz_json_string (tz_extension, "valueCode"));
  if (self->zone == NULL)
    self->zone = wz_followup_time_zone (DEFAULT_ZONE);
  self->today = wz_day_today (self->zone, wz_time_now_us ());

  wz_careplan_editor_reload (self);
  escaped = g_uri_escape_string (self->patient_ref, NULL, FALSE);
  path = g_strdup_printf ("/fhir/Condition?patient=%s&clinical-status=active&_count=100", escaped);
  wz_api_client_get_json_async (self->client, path, self->cancellable, on_conditions_read,
                                g_object_ref (self));
}

/* ---- Stopping a plan ---------------------------------------------------------------------- */

typedef struct
{
  WzCareplanEditor *self;
  JsonObject       *plan;
  GtkWidget        *entry;
  char             *reason;
  GPtrArray        *tasks;    /* JsonNode: open Tasks of the plan still to cancel */
} StopData;

static void
stop_data_free (StopData *data)
{
  g_object_unref (data->self);
  json_object_unref (data->plan);
  g_free (data->reason);
  g_clear_pointer (&data->tasks, g_ptr_array_unref);
  g_free (data);
}

static void stop_next_task (StopData *data);

static void
on_stop_task_saved (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  StopData *data = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = wz_api_client_send_json_finish (WZ_API_CLIENT (object), result, &error);

  if (node == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_error (data->self, error->message);
      stop_data_free (data);
      return;
    }
  stop_next_task (data);
}

static void
stop_next_task (StopData *data)
{
  JsonObject *task;
  JsonObject *reason;
  g_autofree char *path = NULL;
  JsonNode *node;

  if (data->tasks->len == 0)
    {
      g_autofree char *ref = wz_resource_reference (data->plan);

      wz_test_report ("careplan-stopped plan=%s", ref);
      wz_careplan_editor_reload (data->self);
      stop_data_free (data);
      return;
    }
  node = g_ptr_array_steal_index (data->tasks, 0);
  task = json_node_get_object (node);
  json_object_set_string_member (task, "status", "cancelled");
  reason = json_object_new ();
  json_object_set_string_member (reason, "text", data->reason);
  json_object_set_object_member (task, "statusReason", reason);
  path = g_strdup_printf ("/fhir/Task/%s", wz_json_string (task, "id"));
  wz_api_client_send_json_async (data->self->client, "PUT", path, node, wz_resource_version (task),
                                 data->self->cancellable, on_stop_task_saved, data);
  json_node_unref (node);
}

static void
on_stop_tasks_read (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  StopData *data = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = wz_api_client_get_json_finish (WZ_API_CLIENT (object), result, &error);
  g_autoptr(GPtrArray) tasks = node ? wz_bundle_resources (node, "Task") : NULL;
  g_autofree char *ref = wz_resource_reference (data->plan);

  if (node == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_error (data->self, error->message);
      stop_data_free (data);
      return;
    }
  data->tasks = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  for (guint i = 0; tasks != NULL && i < tasks->len; i++)
    {
      JsonObject *task = g_ptr_array_index (tasks, i);
      const char *status = wz_json_string (task, "status");

      if (g_strcmp0 (wz_json_string (wz_json_array_object (wz_json_array (task, "basedOn"), 0),
                                     "reference"), ref) != 0 ||
          g_strcmp0 (status, "completed") == 0 || g_strcmp0 (status, "cancelled") == 0 ||
          g_strcmp0 (status, "failed") == 0 || g_strcmp0 (status, "entered-in-error") == 0)
        continue;
      {
        JsonNode *copy = json_node_new (JSON_NODE_OBJECT);

        json_node_set_object (copy, task);
        g_ptr_array_add (data->tasks, copy);
      }
    }
  stop_next_task (data);
}

static void
on_plan_stopped (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  StopData *data = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = wz_api_client_send_json_finish (WZ_API_CLIENT (object), result, &error);
  g_autofree char *escaped = NULL;
  g_autofree char *path = NULL;

  if (node == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_error (data->self, error->message);
      stop_data_free (data);
      return;
    }
  escaped = g_uri_escape_string (data->self->patient_ref, NULL, FALSE);
  path = g_strdup_printf ("/fhir/Task?patient=%s&_count=200", escaped);
  wz_api_client_get_json_async (data->self->client, path, data->self->cancellable,
                                on_stop_tasks_read, data);
}

static void
on_stop_response (AdwMessageDialog *dialog,
                  const char       *response,
                  StopData         *data)
{
  g_autoptr(JsonNode) node = NULL;
  JsonObject *plan, *note;
  JsonArray *notes;
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  g_autofree char *now = NULL;

  if (g_strcmp0 (response, "stop") != 0)
    {
      stop_data_free (data);
      return;
    }
  data->reason = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (data->entry))));
  node = json_node_new (JSON_NODE_OBJECT);
  plan = wz_json_object_copy (data->plan);
  json_node_take_object (node, plan);
  /* R4's CarePlan has no status reason: the reason is kept as a note, with who and when. */
  json_object_set_string_member (plan, "status", "revoked");
  now = wz_time_format_instant (wz_time_now_us ());
  notes = wz_json_array (plan, "note");
  if (notes == NULL)
    {
      notes = json_array_new ();
      json_object_set_array_member (plan, "note", notes);
    }
  note = json_object_new ();
  /* Translators: kept on the stopped care plan; %s is the doctor's reason */
  text = g_strdup_printf (_("Plan stopped: %s"), data->reason);
  json_object_set_string_member (note, "text", text);
  json_object_set_string_member (note, "time", now);
  {
    g_autofree char *author = practitioner_ref (data->self);
    JsonObject *who = json_object_new ();

    json_object_set_string_member (who, "reference", author);
    json_object_set_object_member (note, "authorReference", who);
  }
  json_array_add_object_element (notes, note);
  path = g_strdup_printf ("/fhir/CarePlan/%s", wz_json_string (plan, "id"));
  wz_api_client_send_json_async (data->self->client, "PUT", path, node,
                                 wz_resource_version (data->plan), data->self->cancellable,
                                 on_plan_stopped, data);
}

static void
on_reason_changed (GtkEditable      *entry,
                   AdwMessageDialog *dialog)
{
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (entry)));

  adw_message_dialog_set_response_enabled (dialog, "stop", *text != '\0');
}

static void
on_reason_activate (GtkEntry         *entry,
                    AdwMessageDialog *dialog)
{
  if (adw_message_dialog_get_response_enabled (dialog, "stop"))
    adw_message_dialog_response (dialog, "stop");
}

static void
stop_plan (WzCareplanEditor *self,
           JsonObject       *plan)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *dialog, *entry;
  StopData *data;

  if (plan == NULL)
    return;
  dialog = adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                   _("Stop This Care Plan?"),
                                   _("Its open tasks are cancelled and the patient no longer gets its reminders. The plan and what was done stay in the record."));
  entry = gtk_entry_new ();
  gtk_entry_set_placeholder_text (GTK_ENTRY (entry), _("Reason, e.g. target reached, treatment changed"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (entry), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Why the plan is stopped"), -1);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), entry);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Keep Plan"),
                                    "stop", _("_Stop Plan"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "stop",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (dialog), "stop", FALSE);
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect (entry, "changed", G_CALLBACK (on_reason_changed), dialog);
  g_signal_connect (entry, "activate", G_CALLBACK (on_reason_activate), dialog);

  data = g_new0 (StopData, 1);
  data->self = g_object_ref (self);
  data->plan = json_object_ref (plan);
  data->entry = entry;
  g_signal_connect (dialog, "response", G_CALLBACK (on_stop_response), data);
  gtk_window_present (GTK_WINDOW (dialog));
  gtk_widget_grab_focus (entry);
  wz_test_report ("careplan-stop-dialog");
}

/* ---- The plan as the doctor edited it ----------------------------------------------------- */

/* ITEM's key in the plan: its Task identifier after "<plan identifier>/". */
static const char *
item_key (WzCareplanEditor *self,
          Item             *item)
{
  gsize n = self->identifier ? strlen (self->identifier) : 0;

  if (n > 0 && strncmp (item->identifier, self->identifier, n) == 0 && item->identifier[n] == '/')
    return item->identifier + n + 1;
  return item->identifier;
}

static const char *
task_measurement (JsonObject *task)
{
  return wz_concept_code (wz_json_object (task, "code"), WZ_FOLLOWUP_MEASUREMENT_SYSTEM);
}

static void
add_value (JsonBuilder *builder,
           const char  *name,
           const char  *kind,
           const char  *value)
{
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, name);
  json_builder_set_member_name (builder, kind);
  json_builder_add_string_value (builder, value);
  json_builder_end_object (builder);
}

static void
add_number_part (JsonBuilder *builder,
                 const char  *name,
                 double       value)
{
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, name);
  json_builder_set_member_name (builder, "valueDecimal");
  json_builder_add_double_value (builder, value);
  json_builder_end_object (builder);
}

static void
begin_parts (JsonBuilder *builder,
             const char  *name)
{
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, name);
  json_builder_set_member_name (builder, "part");
  json_builder_begin_array (builder);
}

static void
end_parts (JsonBuilder *builder)
{
  json_builder_end_array (builder);
  json_builder_end_object (builder);
}

/* The $apply-template body for the plan on screen: the template and the doctor's edits (items
 * moved or removed, items added, targets changed), so the server makes exactly this plan in one
 * request. Counts what it carries in *OUT_EDITED, *OUT_REMOVED and *OUT_ADDED. */
static JsonNode *
plan_parameters (WzCareplanEditor *self,
                 guint            *out_edited,
                 guint            *out_removed,
                 guint            *out_added)
{
  WzCareplanTemplate *template = current_template (self);
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  char day[16];

  *out_edited = *out_removed = *out_added = 0;
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "resourceType");
  json_builder_add_string_value (builder, "Parameters");
  json_builder_set_member_name (builder, "parameter");
  json_builder_begin_array (builder);
  add_value (builder, "template", "valueString", wz_careplan_template_get_id (template));
  add_value (builder, "patient", "valueString", self->patient_ref);
  add_value (builder, "identifier", "valueString", self->identifier);
  add_value (builder, "start", "valueDate", wz_day_format_buf (self->anchor, day));
  add_value (builder, "language", "valueCode", wz_followup_lang ());
  /* The same conditions as the preview, so the server picks the same target variants. */
  for (guint i = 0; i < self->conditions->len; i++)
    add_value (builder, "condition", "valueString", g_ptr_array_index (self->conditions, i));

  for (guint i = 0; self->items != NULL && i < self->items->len; i++)
    {
      Item *item = g_ptr_array_index (self->items, i);
      JsonObject *task = json_node_get_object (item->task);

      if (item->added && !item->removed)
        {
          begin_parts (builder, "add");
          add_value (builder, "key", "valueString", item_key (self, item));
          add_value (builder, "kind", "valueCode", task_kind (task));
          add_value (builder, "due", "valueDate", task_due (task));
          add_value (builder, "text", "valueString", wz_json_string (task, "description") ?: "");
          end_parts (builder);
          (*out_added)++;
        }
      else if (item->added)
        continue;
      else if (item->removed)
        {
          begin_parts (builder, "item");
          add_value (builder, "key", "valueString", item_key (self, item));
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "name");
          json_builder_add_string_value (builder, "remove");
          json_builder_set_member_name (builder, "valueBoolean");
          json_builder_add_boolean_value (builder, TRUE);
          json_builder_end_object (builder);
          end_parts (builder);
          (*out_removed)++;
        }
      else if (item->edited && item->group == GROUP_MEASUREMENTS)
        {
          double value;

          begin_parts (builder, "target");
          add_value (builder, "measurement", "valueCode", task_measurement (task));
          if (target_number (task, "low", &value))
            add_number_part (builder, "low", value);
          if (target_number (task, "high", &value))
            add_number_part (builder, "high", value);
          end_parts (builder);
          (*out_edited)++;
        }
      else if (item->edited)
        {
          begin_parts (builder, "item");
          add_value (builder, "key", "valueString", item_key (self, item));
          add_value (builder, "due", "valueDate", task_due (task));
          end_parts (builder);
          (*out_edited)++;
        }
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

/* ---- The local draft ---------------------------------------------------------------------- */

/* What the doctor changed in the new plan is kept on this computer after every change, so a
 * crash or a killed app loses nothing: the draft is the request Save would send. It comes back
 * when the patient's Follow-up tab opens again and is dropped once the plan is saved. */

static char *
draft_path (const char *patient_ref)
{
  g_autofree char *name = g_strconcat ("careplan-", patient_ref + strlen ("Patient/"), NULL);

  return wz_draft_store_path (name);
}

typedef struct
{
  char   *path;
  char   *patient;
  GBytes *data;     /* NULL: remove the draft */
} DraftJob;

static void
draft_job_free (DraftJob *job)
{
  g_free (job->path);
  g_free (job->patient);
  g_clear_pointer (&job->data, g_bytes_unref);
  g_free (job);
}

static void
run_draft_job (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  DraftJob *job = task_data;
  g_autoptr(GError) error = NULL;
  gboolean done;

  if (job->data != NULL)
    done = wz_draft_store_write (job->path, g_bytes_get_data (job->data, NULL),
                                 g_bytes_get_size (job->data), &error);
  else
    done = wz_draft_store_remove (job->path, &error);
  if (!done)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

static void start_draft_job (WzCareplanEditor *self, const char *patient_ref, gboolean remove);

static void
on_draft_job_done (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(WzCareplanEditor) self = user_data;
  g_autoptr(GError) error = NULL;
  DraftJob *job = g_task_get_task_data (G_TASK (result));

  self->draft_busy = FALSE;
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    g_warning ("Care-plan draft %s not %s: %s", job->path, job->data ? "written" : "removed",
               error->message);
  else
    wz_test_report ("careplan-draft-%s patient=%s", job->data ? "local" : "discarded",
                    job->patient);

  /* A plan saved while its draft was being written: the draft goes now. */
  if (self->draft_discard != NULL)
    {
      g_autofree char *patient = g_steal_pointer (&self->draft_discard);

      self->draft_dirty = FALSE;
      start_draft_job (self, patient, TRUE);
    }
  else if (self->draft_dirty && g_strcmp0 (job->patient, self->patient_ref) == 0)
    start_draft_job (self, self->patient_ref, FALSE);
}

/* Writes the draft of PATIENT_REF's new plan (the one on screen), or REMOVEs it; one job at a
 * time, the last change written last. */
static void
start_draft_job (WzCareplanEditor *self,
                 const char       *patient_ref,
                 gboolean          remove)
{
  g_autoptr(GTask) task = NULL;
  DraftJob *job;

  if (self->draft_busy)
    {
      if (remove)
        {
          g_free (self->draft_discard);
          self->draft_discard = g_strdup (patient_ref);
        }
      else
        self->draft_dirty = TRUE;
      return;
    }
  job = g_new0 (DraftJob, 1);
  job->path = draft_path (patient_ref);
  job->patient = g_strdup (patient_ref);
  if (!remove)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;
      guint edited, removed, added;
      char *text;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "patient");
      json_builder_add_string_value (builder, patient_ref);
      json_builder_set_member_name (builder, "edited_us");
      json_builder_add_int_value (builder, wz_time_now_us ());
      json_builder_set_member_name (builder, "parameters");
      json_builder_add_value (builder, plan_parameters (self, &edited, &removed, &added));
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      text = json_to_string (root, FALSE);
      job->data = g_bytes_new_take (text, strlen (text));
    }
  self->draft_busy = TRUE;
  self->draft_dirty = FALSE;
  /* Not cancellable: a draft once started is finished even if the doctor moves on. */
  task = g_task_new (NULL, NULL, on_draft_job_done, g_object_ref (self));
  g_task_set_source_tag (task, start_draft_job);
  g_task_set_task_data (task, job, (GDestroyNotify) draft_job_free);
  g_task_run_in_thread (task, run_draft_job);
}

/* The doctor changed the new plan. */
static void
draft_changed (WzCareplanEditor *self)
{
  if (self->restoring || self->patient_ref == NULL || self->items == NULL ||
      self->identifier == NULL || current_template (self) == NULL)
    return;
  start_draft_job (self, self->patient_ref, FALSE);
}

static Item *
item_with_key (WzCareplanEditor *self,
               const char       *key)
{
  for (guint i = 0; self->items != NULL && i < self->items->len; i++)
    {
      Item *item = g_ptr_array_index (self->items, i);

      if (g_strcmp0 (item_key (self, item), key) == 0)
        return item;
    }
  return NULL;
}

static const char *
part_value (JsonObject *parameter,
            const char *name)
{
  JsonArray *parts = wz_json_array (parameter, "part");

  for (guint i = 0; parts != NULL && i < json_array_get_length (parts); i++)
    {
      JsonObject *part = wz_json_array_object (parts, i);

      if (g_strcmp0 (wz_json_string (part, "name"), name) == 0)
        return wz_json_string (part, "valueString") ?: wz_json_string (part, "valueCode")
               ?: wz_json_string (part, "valueDate");
    }
  return NULL;
}

static JsonObject *
part_object (JsonObject *parameter,
             const char *name)
{
  JsonArray *parts = wz_json_array (parameter, "part");

  for (guint i = 0; parts != NULL && i < json_array_get_length (parts); i++)
    if (g_strcmp0 (wz_json_string (wz_json_array_object (parts, i), "name"), name) == 0)
      return wz_json_array_object (parts, i);
  return NULL;
}

/* Puts the doctor's unsaved plan of DRAFT back on screen. */
static void
restore_draft (WzCareplanEditor *self,
               JsonObject       *draft)
{
  JsonArray *list = wz_json_array (wz_json_object (draft, "parameters"), "parameter");
  const char *template_id = NULL, *identifier = NULL, *start = NULL;
  guint template_index = G_MAXUINT, n_removed = 0, n_edited = 0, n_added = 0;

  if (list == NULL || g_strcmp0 (wz_json_string (draft, "patient"), self->patient_ref) != 0)
    return;
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *parameter = wz_json_array_object (list, i);
      const char *name = wz_json_string (parameter, "name");

      if (g_strcmp0 (name, "template") == 0)
        template_id = wz_json_string (parameter, "valueString");
      else if (g_strcmp0 (name, "identifier") == 0)
        identifier = wz_json_string (parameter, "valueString");
      else if (g_strcmp0 (name, "start") == 0)
        start = wz_json_string (parameter, "valueDate");
    }
  for (guint i = 0; self->templates != NULL && i < self->templates->len; i++)
    if (g_strcmp0 (wz_careplan_template_get_id (g_ptr_array_index (self->templates, i)),
                   template_id) == 0)
      template_index = i;
  if (template_index == G_MAXUINT || identifier == NULL)
    return;

  self->restoring = TRUE;
  self->ignore_template = TRUE;
  adw_combo_row_set_selected (self->template_row, template_index);
  self->ignore_template = FALSE;
  g_free (self->identifier);
  self->identifier = g_strdup (identifier);
  if (start == NULL || !wz_day_parse (start, &self->anchor))
    self->anchor = WZ_DAY_NONE;
  rebuild_preview (self);

  for (guint i = 0; self->items != NULL && i < json_array_get_length (list); i++)
    {
      JsonObject *parameter = wz_json_array_object (list, i);
      const char *name = wz_json_string (parameter, "name");
      const char *due = part_value (parameter, "due");
      WzDay day = WZ_DAY_NONE;

      if (due != NULL)
        wz_day_parse (due, &day);
      if (g_strcmp0 (name, "item") == 0)
        {
          Item *item = item_with_key (self, part_value (parameter, "key"));

          if (item == NULL)
            continue;
          if (part_object (parameter, "remove") != NULL)
            {
              item->removed = TRUE;
              n_removed++;
            }
          else if (day != WZ_DAY_NONE)
            {
              task_set_due (json_node_get_object (item->task), day);
              item->edited = TRUE;
              n_edited++;
            }
        }
      else if (g_strcmp0 (name, "target") == 0)
        {
          const char *measurement = part_value (parameter, "measurement");

          for (guint k = 0; k < self->items->len; k++)
            {
              Item *item = g_ptr_array_index (self->items, k);
              JsonObject *task = json_node_get_object (item->task);
              JsonObject *low = part_object (parameter, "low");
              JsonObject *high = part_object (parameter, "high");

              if (g_strcmp0 (task_measurement (task), measurement) != 0)
                continue;
              if (low != NULL)
                target_set_number (task, "low", json_object_get_double_member (low, "valueDecimal"));
              if (high != NULL)
                target_set_number (task, "high", json_object_get_double_member (high, "valueDecimal"));
              item->edited = TRUE;
              n_edited++;
            }
        }
      else if (g_strcmp0 (name, "add") == 0)
        {
          const char *key = part_value (parameter, "key");
          const char *text = part_value (parameter, "text");
          ItemGroup group = group_of_kind (part_value (parameter, "kind"));
          g_autofree char *identifier_value = g_strconcat (self->identifier, "/", key, NULL);
          Item *item;
          JsonObject *task;
          guint number;

          if (key == NULL || day == WZ_DAY_NONE || group == GROUP_MEASUREMENTS)
            continue;
          add_item (self, group);
          item = g_ptr_array_index (self->items, self->items->len - 1);
          task = json_node_get_object (item->task);
          g_free (item->identifier);
          item->identifier = g_steal_pointer (&identifier_value);
          json_object_set_string_member (wz_json_array_object (wz_json_array (task, "identifier"), 0),
                                         "value", item->identifier);
          json_object_set_string_member (task, "description", text ? text : "");
          json_object_set_string_member (wz_json_object (task, "code"), "text", text ? text : "");
          task_set_due (task, day);
          if (g_str_has_prefix (key, "added-") && (number = atoi (key + 6)) > self->n_added)
            self->n_added = number;
          n_added++;
        }
    }
  /* The rows again, now showing the restored dates, targets and texts. */
  rebuild_items (self);
  self->restoring = FALSE;
  gtk_widget_set_visible (GTK_WIDGET (self->draft_label), TRUE);
  wz_test_report ("careplan-draft-restored patient=%s template=%s removed=%u edited=%u added=%u",
                  self->patient_ref, template_id, n_removed, n_edited, n_added);
  set_saving (self, self->saving);
  report_preview (self);
}

static void
read_draft_in_thread (GTask        *task,
                      gpointer      source_object,
                      gpointer      task_data,
                      GCancellable *cancellable)
{
  g_task_return_pointer (task, wz_draft_store_read (task_data), (GDestroyNotify) json_node_unref);
}

static void
on_draft_read (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(WzCareplanEditor) self = user_data;
  g_autoptr(JsonNode) node = g_task_propagate_pointer (G_TASK (result), NULL);

  if (node != NULL && !g_cancellable_is_cancelled (g_task_get_cancellable (G_TASK (result))))
    restore_draft (self, json_node_get_object (node));
}

static void
read_draft (WzCareplanEditor *self)
{
  g_autoptr(GTask) task = g_task_new (NULL, self->cancellable, on_draft_read, g_object_ref (self));

  g_task_set_source_tag (task, read_draft);
  g_task_set_task_data (task, draft_path (self->patient_ref), g_free);
  g_task_run_in_thread (task, read_draft_in_thread);
}

/* ---- Saving ------------------------------------------------------------------------------- */

static void
save_done (WzCareplanEditor *self)
{
  wz_test_report ("careplan-saved plan=%s tasks=%u edited=%u removed=%u added=%u",
                  self->saved_plan ? self->saved_plan : "-", self->n_tasks, self->n_edited,
                  self->n_removed, self->n_added_saved);
  /* The plan is on the server: its draft is done with. */
  start_draft_job (self, self->patient_ref, TRUE);
  gtk_widget_set_visible (GTK_WIDGET (self->draft_label), FALSE);
  g_clear_pointer (&self->identifier, g_free);
  set_saving (self, FALSE);
  {
    GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
    GtkWidget *overlay = root ? gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_TOAST_OVERLAY) : NULL;

    if (overlay != NULL)
      adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay),
                                   adw_toast_new (_("Care plan saved. The patient’s page shows its reminders.")));
  }
  wz_careplan_editor_reload (self);
  rebuild_preview (self);
}

static void
save_failed (WzCareplanEditor *self,
             const GError     *error)
{
  g_autofree char *message = NULL;

  set_saving (self, FALSE);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  /* Translators: %s is the server's explanation */
  message = g_strdup_printf (_("The plan was not saved: %s Nothing of it was stored, and your changes are kept on this computer."),
                             error->message);
  show_error (self, message);
}

static void
on_applied (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(WzCareplanEditor) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = wz_api_client_send_json_finish (WZ_API_CLIENT (object), result, &error);
  JsonArray *entries;
  JsonObject *plan = NULL;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      save_failed (self, error);
      return;
    }
  entries = wz_json_array (json_node_get_object (node), "entry");
  self->n_tasks = 0;
  for (guint i = 0; entries != NULL && i < json_array_get_length (entries); i++)
    {
      JsonObject *resource = wz_json_object (wz_json_array_object (entries, i), "resource");

      if (g_strcmp0 (wz_json_string (resource, "resourceType"), "CarePlan") == 0)
        plan = resource;
      else if (g_strcmp0 (wz_json_string (resource, "resourceType"), "Task") == 0)
        self->n_tasks++;
    }
  if (plan == NULL)
    {
      g_set_error_literal (&error, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_NOT_WENZHEN,
                           _("The server did not say which plan it made."));
      save_failed (self, error);
      return;
    }
  g_free (self->saved_plan);
  self->saved_plan = wz_resource_reference (plan);
  save_done (self);
}

static void
action_save (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  WzCareplanEditor *self = WZ_CAREPLAN_EDITOR (widget);
  WzCareplanTemplate *template = current_template (self);
  g_autoptr(JsonNode) body = NULL;

  if (template == NULL || self->items == NULL || self->saving || self->patient_ref == NULL)
    return;
  for (guint i = 0; i < self->items->len; i++)
    {
      Item *item = g_ptr_array_index (self->items, i);
      const char *text = wz_json_string (json_node_get_object (item->task), "description");

      g_autofree char *stripped = text ? g_strstrip (g_strdup (text)) : NULL;

      if (item->added && !item->removed && (stripped == NULL || *stripped == '\0'))
        {
          show_error (self, _("An item you added has no text. Say what the patient should do, or remove it."));
          return;
        }
    }

  /* One request: the server makes the whole plan as edited, or nothing of it. */
  body = plan_parameters (self, &self->n_edited, &self->n_removed, &self->n_added_saved);
  show_error (self, NULL);
  set_saving (self, TRUE);
  wz_api_client_send_json_async (self->client, "POST", "/fhir/CarePlan/$apply-template", body,
                                 NULL, self->cancellable, on_applied, g_object_ref (self));
}

/* ---- GObject ------------------------------------------------------------------------------ */

void
wz_careplan_editor_set_client (WzCareplanEditor *self,
                               WzApiClient      *client)
{
  g_return_if_fail (WZ_IS_CAREPLAN_EDITOR (self));
  g_set_object (&self->client, client);
}

static void
wz_careplan_editor_dispose (GObject *object)
{
  WzCareplanEditor *self = WZ_CAREPLAN_EDITOR (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), WZ_TYPE_CAREPLAN_EDITOR);
  g_clear_object (&self->client);
  g_clear_pointer (&self->patient, json_object_unref);
  g_clear_pointer (&self->items, g_ptr_array_unref);
  g_clear_pointer (&self->templates, g_ptr_array_unref);
  g_clear_pointer (&self->template_codes, g_ptr_array_unref);
  g_clear_pointer (&self->conditions, g_ptr_array_unref);
  g_clear_pointer (&self->rows, g_ptr_array_unref);
  g_clear_pointer (&self->zone, g_time_zone_unref);

  G_OBJECT_CLASS (wz_careplan_editor_parent_class)->dispose (object);
}

static void
wz_careplan_editor_finalize (GObject *object)
{
  WzCareplanEditor *self = WZ_CAREPLAN_EDITOR (object);

  g_free (self->patient_ref);
  g_free (self->identifier);
  g_free (self->saved_plan);
  g_free (self->draft_discard);

  G_OBJECT_CLASS (wz_careplan_editor_parent_class)->finalize (object);
}

static void
wz_careplan_editor_class_init (WzCareplanEditorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = wz_careplan_editor_dispose;
  object_class->finalize = wz_careplan_editor_finalize;

  gtk_widget_class_install_action (widget_class, "careplan.save", NULL, action_save);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/wenzhen/Wenzhen/wz-careplan-editor.ui");
  gtk_widget_class_bind_template_child (widget_class, WzCareplanEditor, plans_group);
  gtk_widget_class_bind_template_child (widget_class, WzCareplanEditor, new_group);
  gtk_widget_class_bind_template_child (widget_class, WzCareplanEditor, template_row);
  gtk_widget_class_bind_template_child (widget_class, WzCareplanEditor, anchor_row);
  gtk_widget_class_bind_template_child (widget_class, WzCareplanEditor, anchor_button);
  gtk_widget_class_bind_template_child (widget_class, WzCareplanEditor, anchor_calendar);
  gtk_widget_class_bind_template_child (widget_class, WzCareplanEditor, items_box);
  gtk_widget_class_bind_template_child (widget_class, WzCareplanEditor, error_label);
  gtk_widget_class_bind_template_child (widget_class, WzCareplanEditor, save_spinner);
  gtk_widget_class_bind_template_child (widget_class, WzCareplanEditor, save_button);
  gtk_widget_class_bind_template_child (widget_class, WzCareplanEditor, draft_label);
  gtk_widget_class_bind_template_callback (widget_class, on_anchor_selected);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "careplaneditor");
}

static void
wz_careplan_editor_init (WzCareplanEditor *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->conditions = g_ptr_array_new_with_free_func (g_free);
  self->rows = g_ptr_array_new ();
  load_templates (self);
  g_signal_connect_swapped (self->template_row, "notify::selected",
                            G_CALLBACK (on_template_selected), self);
  set_saving (self, FALSE);
}

GtkWidget *
wz_careplan_editor_new (void)
{
  return g_object_new (WZ_TYPE_CAREPLAN_EDITOR, NULL);
}
