/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-rx-editor"

#include "config.h"

#include "wz-rx-editor.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "wz-draft-store.h"
#include "wz-formulary-search.h"
#include "wz-rx-line-row.h"
#include "wz-rx-print.h"
#include "wz-rx-sign-dialog.h"
#include "wz-signature.h"
#include "wz-test-report.h"

/* Nothing the doctor enters may be lost: every change goes to a draft file on this computer at
 * once (lines, values, and which server version each line is based on), and to the server a
 * moment later. A line another window changed meanwhile (412) keeps the doctor's values and is
 * rebased on the newer version, with a message; nothing is written over it without a new edit. */

#define CHECK_DELAY_MS 400
#define SAVE_DELAY_MS  700
#define RX_STATE_SYSTEM "https://wenzhen.github.io/fhir/CodeSystem/rx-state"
#define REJECTED_PREFIX "Rejected by the pharmacist: "

struct _WzRxEditor
{
  GtkWidget            parent_instance;

  WzApiClient         *client;
  GCancellable        *cancellable;
  char                *patient_id;
  char                *encounter_id;
  JsonObject          *patient;
  GPtrArray           *conditions;      /* JsonObject, the patient's usable diagnoses */
  GPtrArray           *rows;            /* WzRxLineRow, in order */
  JsonObject          *local_draft;
  GPtrArray           *issues;          /* JsonObject DetectedIssue of the last check */
  GPtrArray           *violations;      /* JsonObject violation parameter of the last check */
  gboolean             signed_view;
  gboolean             saving;
  gboolean             sign_after_save;
  guint                check_source;
  guint                save_source;
  guint                check_serial;
  WzRxSignDialog      *sign_dialog;
  WzSigningKey        *pending_key;

  GtkStack            *stack;
  AdwStatusPage       *empty_page;
  GtkRevealer         *banner;
  GtkLabel            *banner_label;
  GtkLabel            *title_label;
  GtkLabel            *status_label;
  GtkDropDown         *diagnosis_drop;
  GtkWidget           *diagnosis_box;
  WzFormularySearch   *search;
  GtkListBox          *lines_list;
  GtkLabel            *lines_empty;
  GtkWidget           *checks_box;
  GtkListBox          *checks_list;
  GtkButton           *sign_button;
  GtkButton           *cancel_button;
  GtkButton           *print_button;
  GtkButton           *export_button;
  GtkButton           *new_button;
};

G_DEFINE_FINAL_TYPE (WzRxEditor, wz_rx_editor, GTK_TYPE_WIDGET)

static void schedule_check (WzRxEditor *self);
static void schedule_save (WzRxEditor *self);
static void save_next (WzRxEditor *self);
static void open_sign_dialog (WzRxEditor *self);
static void reload (WzRxEditor *self);

/* ---------------------------------------------------------------------------------------- */
/* JSON helpers */

static const char *
string_of (JsonObject *object,
           const char *name)
{
  JsonNode *node = object ? json_object_get_member (object, name) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static JsonObject *
object_of (JsonObject *object,
           const char *name)
{
  JsonNode *node = object ? json_object_get_member (object, name) : NULL;

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static JsonArray *
array_of (JsonObject *object,
          const char *name)
{
  JsonNode *node = object ? json_object_get_member (object, name) : NULL;

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

static JsonObject *
element (JsonArray *array,
         guint      index)
{
  JsonNode *node;

  if (array == NULL || index >= json_array_get_length (array))
    return NULL;
  node = json_array_get_element (array, index);
  return JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static GPtrArray *
bundle_resources (JsonNode   *root,
                  const char *type)
{
  GPtrArray *list = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  JsonArray *entries = root && JSON_NODE_HOLDS_OBJECT (root)
                       ? array_of (json_node_get_object (root), "entry") : NULL;

  for (guint i = 0; entries != NULL && i < json_array_get_length (entries); i++)
    {
      JsonObject *resource = object_of (element (entries, i), "resource");

      if (resource != NULL && g_strcmp0 (string_of (resource, "resourceType"), type) == 0)
        g_ptr_array_add (list, json_object_ref (resource));
    }
  return list;
}

static gboolean
request_is_signed (JsonObject *request)
{
  JsonArray *tags = array_of (object_of (request, "meta"), "tag");

  for (guint i = 0; tags != NULL && i < json_array_get_length (tags); i++)
    if (g_strcmp0 (string_of (element (tags, i), "system"), RX_STATE_SYSTEM) == 0 &&
        g_strcmp0 (string_of (element (tags, i), "code"), "signed") == 0)
      return TRUE;
  return FALSE;
}

/* The Chinese text of a translated element (FHIR translation extension), or NULL. */
static const char *
chinese_of (JsonObject *object,
            const char *name)
{
  g_autofree char *underscore = g_strconcat ("_", name, NULL);
  JsonArray *extensions = array_of (object_of (object, underscore), "extension");

  for (guint i = 0; extensions != NULL && i < json_array_get_length (extensions); i++)
    {
      JsonArray *parts = array_of (element (extensions, i), "extension");
      const char *lang = NULL;
      const char *content = NULL;

      for (guint p = 0; parts != NULL && p < json_array_get_length (parts); p++)
        {
          JsonObject *part = element (parts, p);

          if (g_strcmp0 (string_of (part, "url"), "lang") == 0)
            lang = string_of (part, "valueCode");
          else if (g_strcmp0 (string_of (part, "url"), "content") == 0)
            content = string_of (part, "valueString");
        }
      if (lang != NULL && g_str_has_prefix (lang, "zh"))
        return content;
    }
  return NULL;
}

static const char *
part_string (JsonObject *parameter,
             const char *name,
             const char *value_member)
{
  JsonArray *parts = array_of (parameter, "part");

  for (guint i = 0; parts != NULL && i < json_array_get_length (parts); i++)
    if (g_strcmp0 (string_of (element (parts, i), "name"), name) == 0)
      return string_of (element (parts, i), value_member);
  return NULL;
}

static gint64
part_integer (JsonObject *parameter,
              const char *name)
{
  JsonArray *parts = array_of (parameter, "part");

  for (guint i = 0; parts != NULL && i < json_array_get_length (parts); i++)
    if (g_strcmp0 (string_of (element (parts, i), "name"), name) == 0)
      return json_object_get_int_member_with_default (element (parts, i), "valueInteger", 0);
  return 0;
}

static gboolean
part_boolean (JsonObject *parameter,
              const char *name)
{
  JsonArray *parts = array_of (parameter, "part");

  for (guint i = 0; parts != NULL && i < json_array_get_length (parts); i++)
    if (g_strcmp0 (string_of (element (parts, i), "name"), name) == 0)
      return json_object_get_boolean_member_with_default (element (parts, i), "valueBoolean",
                                                          FALSE);
  return FALSE;
}

static const char *
issue_key (JsonObject *issue)
{
  JsonNode *node = json_object_get_member (issue, "identifier");

  if (node != NULL && JSON_NODE_HOLDS_ARRAY (node))
    return string_of (element (json_node_get_array (node), 0), "value");
  if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
    return string_of (json_node_get_object (node), "value");
  return NULL;
}

static const char *
issue_text (JsonObject *issue)
{
  const char *zh = chinese_of (issue, "detail");

  return wz_rx_prefers_chinese () && zh != NULL ? zh : string_of (issue, "detail");
}

static const char *
violation_text (JsonObject *violation)
{
  const char *zh = part_string (violation, "message-zh", "valueString");

  return wz_rx_prefers_chinese () && zh != NULL ? zh
         : part_string (violation, "message-en", "valueString");
}

static char *
patient_name (JsonObject *patient)
{
  JsonObject *name = element (array_of (patient, "name"), 0);
  JsonArray *given = array_of (name, "given");

  if (string_of (name, "text") != NULL)
    return g_strdup (string_of (name, "text"));
  return g_strconcat (string_of (name, "family") ?: "",
                      given && json_array_get_length (given) ? json_array_get_string_element (given, 0) : "",
                      NULL);
}

static const char *
concept_text (JsonObject *concept)
{
  JsonObject *coding = element (array_of (concept, "coding"), 0);

  return string_of (concept, "text") ?: string_of (coding, "display") ?: string_of (coding, "code");
}

/* ---------------------------------------------------------------------------------------- */
/* References */

static char *
patient_ref (WzRxEditor *self)
{
  return g_strconcat ("Patient/", self->patient_id, NULL);
}

static char *
encounter_ref (WzRxEditor *self)
{
  return g_strconcat ("Encounter/", self->encounter_id, NULL);
}

static const char *
requester_ref (WzRxEditor *self)
{
  WzSession *session = self->client ? wz_api_client_get_session (self->client) : NULL;

  return session ? wz_session_get_practitioner (session) : NULL;
}

static char *
reason_ref (WzRxEditor *self)
{
  guint selected = gtk_drop_down_get_selected (self->diagnosis_drop);

  if (selected >= self->conditions->len)
    return NULL;
  return g_strconcat ("Condition/", string_of (g_ptr_array_index (self->conditions, selected), "id"),
                      NULL);
}

static JsonObject *
row_request (WzRxEditor  *self,
             WzRxLineRow *row)
{
  g_autofree char *patient = patient_ref (self);
  g_autofree char *encounter = encounter_ref (self);
  g_autofree char *reason = reason_ref (self);

  return wz_rx_line_row_to_request (row, patient, encounter, requester_ref (self), reason);
}

/* ---------------------------------------------------------------------------------------- */
/* Messages */

static void
show_banner (WzRxEditor *self,
             const char *text)
{
  gtk_label_set_text (self->banner_label, text);
  gtk_revealer_set_reveal_child (self->banner, text != NULL);
}

static void
set_status (WzRxEditor *self,
            const char *text)
{
  gtk_label_set_text (self->status_label, text ? text : "");
}

/* ---------------------------------------------------------------------------------------- */
/* The local draft */

static char *
draft_path (WzRxEditor *self)
{
  g_autofree char *name = g_strconcat ("rx-", self->encounter_id, NULL);

  return wz_draft_store_path (name);
}

static void
write_draft_in_thread (GTask        *task,
                       gpointer      source_object,
                       gpointer      task_data,
                       GCancellable *cancellable)
{
  GStrv job = task_data;   /* path, text */
  g_autoptr(GError) error = NULL;

  if (!wz_draft_store_write (job[0], job[1], strlen (job[1]), &error))
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

static void
on_draft_written (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  GStrv job = g_task_get_task_data (G_TASK (result));

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    g_warning ("Prescription draft %s not written: %s", job[0], error->message);
  else
    wz_test_report ("rx-draft-local path=%s", job[0]);
}

static void
save_local (WzRxEditor *self)
{
  g_autoptr(JsonObject) draft = json_object_new ();
  g_autoptr(JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  g_autoptr(GTask) task = NULL;
  JsonArray *lines = json_array_new ();
  g_autofree char *reason = reason_ref (self);
  GStrv job;

  if (self->encounter_id == NULL || self->signed_view)
    return;
  json_object_set_string_member (draft, "encounter", self->encounter_id);
  json_object_set_int_member (draft, "edited_us", g_get_real_time ());
  if (reason != NULL)
    json_object_set_string_member (draft, "reason", reason);
  for (guint i = 0; i < self->rows->len; i++)
    json_array_add_object_element (lines, wz_rx_line_row_to_draft (g_ptr_array_index (self->rows, i)));
  json_object_set_array_member (draft, "lines", lines);
  json_node_set_object (root, draft);

  job = g_new0 (char *, 3);
  job[0] = draft_path (self);
  job[1] = json_to_string (root, FALSE);
  /* Not cancellable: a draft once started is finished even if the doctor moves on. */
  task = g_task_new (NULL, NULL, on_draft_written, NULL);
  g_task_set_task_data (task, job, (GDestroyNotify) g_strfreev);
  g_task_run_in_thread (task, write_draft_in_thread);
}

/* ---------------------------------------------------------------------------------------- */
/* Lines */

static void
update_lines_empty (WzRxEditor *self)
{
  gtk_widget_set_visible (GTK_WIDGET (self->lines_list), self->rows->len > 0);
  gtk_widget_set_visible (GTK_WIDGET (self->lines_empty), self->rows->len == 0 && !self->signed_view);
}

static void
on_row_changed (WzRxEditor  *self,
                WzRxLineRow *row)
{
  guint edits = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (row), "wz-edits"));

  g_object_set_data (G_OBJECT (row), "wz-edits", GUINT_TO_POINTER (edits + 1));
  set_status (self, _("Saving…"));
  save_local (self);
  schedule_save (self);
  schedule_check (self);
}

static void
on_row_remove (WzRxEditor  *self,
               WzRxLineRow *row)
{
  /* A saved line is marked entered-in-error on the server, so another window sees it go. */
  if (wz_rx_line_row_get_id (row) != NULL)
    {
      g_autoptr(JsonObject) request = row_request (self, row);
      g_autoptr(JsonNode) body = json_node_new (JSON_NODE_OBJECT);
      g_autofree char *path = g_strconcat ("/fhir/MedicationRequest/",
                                           wz_rx_line_row_get_id (row), NULL);

      json_object_set_string_member (request, "status", "entered-in-error");
      json_node_set_object (body, request);
      wz_api_client_send_json_async (self->client, "PUT", path, body,
                                     wz_rx_line_row_get_version (row), NULL, NULL, NULL);
    }
  g_ptr_array_remove (self->rows, row);
  gtk_list_box_remove (self->lines_list, GTK_WIDGET (row));
  update_lines_empty (self);
  save_local (self);
  schedule_check (self);
  wz_test_report ("rx-line-removed n=%u", self->rows->len);
}

static void
add_row (WzRxEditor  *self,
         WzRxLineRow *row)
{
  g_ptr_array_add (self->rows, g_object_ref (row));
  gtk_list_box_append (self->lines_list, GTK_WIDGET (row));
  wz_rx_line_row_set_editable (row, !self->signed_view);
  g_signal_connect_object (row, "changed", G_CALLBACK (on_row_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (row, "remove", G_CALLBACK (on_row_remove), self, G_CONNECT_SWAPPED);
  update_lines_empty (self);
}

static void
on_drug_chosen (WzRxEditor *self,
                JsonObject *drug)
{
  WzRxLineRow *row = wz_rx_line_row_new (drug);

  add_row (self, row);
  wz_test_report ("rx-line-added code=%s n=%u", string_of (drug, "code"), self->rows->len);
  on_row_changed (self, row);
  wz_rx_line_row_focus_dose (row);
}

static WzRxLineRow *
row_for_id (WzRxEditor *self,
            const char *id)
{
  for (guint i = 0; id != NULL && i < self->rows->len; i++)
    if (g_strcmp0 (wz_rx_line_row_get_id (g_ptr_array_index (self->rows, i)), id) == 0)
      return g_ptr_array_index (self->rows, i);
  return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* Live checks */

static GtkWidget *
check_row (const char *severity,
           const char *text)
{
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *icon = gtk_image_new_from_icon_name (g_strcmp0 (severity, "low") == 0
                                                  ? "dialog-information-symbolic"
                                                  : "dialog-warning-symbolic");
  GtkWidget *label = gtk_label_new (text);
  const char *css = g_strcmp0 (severity, "high") == 0 ? "error"
                    : g_strcmp0 (severity, "moderate") == 0 ? "warning" : "accent";

  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
  gtk_widget_add_css_class (icon, css);
  gtk_widget_set_valign (icon, GTK_ALIGN_START);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_widget_set_margin_top (box, 10);
  gtk_widget_set_margin_bottom (box, 10);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_box_append (GTK_BOX (box), icon);
  gtk_box_append (GTK_BOX (box), label);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  return row;
}

/* Which line (index) a DetectedIssue is about: its first implicated line. */
static int
issue_line (WzRxEditor *self,
            JsonObject *issue)
{
  JsonArray *implicated = array_of (issue, "implicated");

  for (guint i = 0; implicated != NULL && i < json_array_get_length (implicated); i++)
    {
      JsonObject *ref = element (implicated, i);
      const char *reference = string_of (ref, "reference");
      const char *display = string_of (ref, "display");
      guint64 number;

      if (reference != NULL && g_str_has_prefix (reference, "MedicationRequest/"))
        {
          WzRxLineRow *row = row_for_id (self, reference + 18);
          guint index;

          if (row != NULL && g_ptr_array_find (self->rows, row, &index))
            return (int) index;
        }
      if (display != NULL && g_str_has_prefix (display, "line ") &&
          g_ascii_string_to_unsigned (display + 5, 10, 1, G_MAXUINT, &number, NULL))
        return (int) number - 1;
    }
  return -1;
}

/* Whether something blocks signing that no reason can lift. */
static gboolean
has_hard_violation (WzRxEditor *self)
{
  for (guint i = 0; i < self->violations->len; i++)
    if (!part_boolean (g_ptr_array_index (self->violations, i), "overridable"))
      return TRUE;
  return FALSE;
}

static void
update_sign_button (WzRxEditor *self)
{
  gboolean can = !self->signed_view && self->rows->len > 0 && self->check_source == 0 &&
                 !has_hard_violation (self);

  gtk_widget_set_sensitive (GTK_WIDGET (self->sign_button), can);
}

static void
show_checks (WzRxEditor *self)
{
  GtkWidget *child;
  guint whole = 0;
  GString *summary = g_string_new (NULL);

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->checks_list))) != NULL)
    gtk_list_box_remove (self->checks_list, child);
  for (guint i = 0; i < self->rows->len; i++)
    wz_rx_line_row_clear_findings (g_ptr_array_index (self->rows, i));

  for (guint i = 0; i < self->issues->len; i++)
    {
      JsonObject *issue = g_ptr_array_index (self->issues, i);
      int line = issue_line (self, issue);
      const char *severity = string_of (issue, "severity");
      const char *key = issue_key (issue);

      g_string_append_printf (summary, "%s%s:%s", summary->len ? "," : "",
                              severity ? severity : "?", key ? key : "?");
      if (line >= 0 && (guint) line < self->rows->len)
        wz_rx_line_row_add_finding (g_ptr_array_index (self->rows, line), severity,
                                    issue_text (issue));
      else
        {
          gtk_list_box_append (self->checks_list, check_row (severity, issue_text (issue)));
          whole++;
        }
    }

  for (guint i = 0; i < self->violations->len; i++)
    {
      JsonObject *violation = g_ptr_array_index (self->violations, i);
      const char *code = part_string (violation, "code", "valueCode") ?: part_string (violation, "code", "valueString");
      gint64 line = part_integer (violation, "line");
      gboolean overridable = part_boolean (violation, "overridable");
      g_autofree char *text = NULL;

      /* Reasons asked for when signing are not a separate finding on screen. */
      if (g_strcmp0 (code, "override-required") == 0)
        continue;
      text = overridable
             /* Translators: a prescribing rule the doctor may override with a reason */
             ? g_strdup_printf (_("%s You can sign with a reason."), violation_text (violation))
             : g_strdup_printf (_("%s This must be corrected before signing."),
                                violation_text (violation));
      g_string_append_printf (summary, "%srule:%s", summary->len ? "," : "", code ? code : "?");
      if (line > 0 && (guint64) line <= self->rows->len)
        wz_rx_line_row_add_finding (g_ptr_array_index (self->rows, line - 1),
                                    overridable ? "moderate" : "high", text);
      else
        {
          gtk_list_box_append (self->checks_list, check_row (overridable ? "moderate" : "high", text));
          whole++;
        }
    }

  gtk_widget_set_visible (self->checks_box, whole > 0);
  update_sign_button (self);
  wz_test_report ("rx-checked lines=%u findings=%s can-sign=%d", self->rows->len, summary->str,
                  gtk_widget_get_sensitive (GTK_WIDGET (self->sign_button)));
  g_string_free (summary, TRUE);
}

typedef struct
{
  WzRxEditor *self;
  guint       serial;
} CheckJob;

static void
on_checked (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  CheckJob *job = user_data;
  g_autoptr(WzRxEditor) self = job->self;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = wz_api_client_send_json_finish (WZ_API_CLIENT (object), result, &error);
  guint serial = job->serial;
  JsonArray *parameters;

  g_free (job);
  /* Only the answer to the latest lines counts. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || serial != self->check_serial)
    return;
  if (root == NULL)
    {
      g_autofree char *text = g_strdup_printf (_("The prescription could not be checked: %s"),
                                               error->message);
      show_banner (self, text);
      return;
    }

  g_ptr_array_set_size (self->issues, 0);
  g_ptr_array_set_size (self->violations, 0);
  parameters = JSON_NODE_HOLDS_OBJECT (root) ? array_of (json_node_get_object (root), "parameter") : NULL;
  for (guint i = 0; parameters != NULL && i < json_array_get_length (parameters); i++)
    {
      JsonObject *parameter = element (parameters, i);
      const char *name = string_of (parameter, "name");

      if (g_strcmp0 (name, "issue") == 0 && object_of (parameter, "resource") != NULL)
        g_ptr_array_add (self->issues, json_object_ref (object_of (parameter, "resource")));
      else if (g_strcmp0 (name, "violation") == 0)
        g_ptr_array_add (self->violations, json_object_ref (parameter));
    }
  show_checks (self);
}

static gboolean
run_check (gpointer user_data)
{
  WzRxEditor *self = user_data;
  g_autoptr(JsonObject) parameters = json_object_new ();
  g_autoptr(JsonNode) body = json_node_new (JSON_NODE_OBJECT);
  JsonArray *list = json_array_new ();
  CheckJob *job;

  self->check_source = 0;
  self->check_serial++;
  if (self->rows->len == 0)
    {
      json_array_unref (list);
      g_ptr_array_set_size (self->issues, 0);
      g_ptr_array_set_size (self->violations, 0);
      show_checks (self);
      return G_SOURCE_REMOVE;
    }

  json_object_set_string_member (parameters, "resourceType", "Parameters");
  for (guint i = 0; i < self->rows->len; i++)
    {
      JsonObject *parameter = json_object_new ();

      json_object_set_string_member (parameter, "name", "medicationRequest");
      json_object_set_object_member (parameter, "resource",
                                     row_request (self, g_ptr_array_index (self->rows, i)));
      json_array_add_object_element (list, parameter);
    }
  json_object_set_array_member (parameters, "parameter", list);
  json_node_set_object (body, parameters);
  job = g_new0 (CheckJob, 1);
  job->self = g_object_ref (self);
  job->serial = self->check_serial;
  wz_api_client_send_json_async (self->client, "POST", "/fhir/MedicationRequest/$check", body, NULL,
                                 self->cancellable, on_checked, job);
  return G_SOURCE_REMOVE;
}

static void
schedule_check (WzRxEditor *self)
{
  if (self->signed_view)
    return;
  g_clear_handle_id (&self->check_source, g_source_remove);
  self->check_source = g_timeout_add (CHECK_DELAY_MS, run_check, self);
  update_sign_button (self);
}

/* ---------------------------------------------------------------------------------------- */
/* Saving to the server */

typedef struct
{
  WzRxEditor  *self;
  WzRxLineRow *row;
  guint        edits;
} SaveJob;

static void
on_conflict_reloaded (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(WzRxEditor) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = wz_api_client_get_json_finish (WZ_API_CLIENT (object), result, &error);
  g_autoptr(GPtrArray) requests = NULL;
  guint added = 0;

  if (root == NULL)
    return;
  requests = bundle_resources (root, "MedicationRequest");
  for (guint i = 0; i < requests->len; i++)
    {
      JsonObject *request = g_ptr_array_index (requests, i);
      WzRxLineRow *row = row_for_id (self, string_of (request, "id"));

      if (row != NULL)
        {
          /* The doctor's values stay on screen; the newer version becomes their base. */
          wz_rx_line_row_set_saved (row, request);
          wz_rx_line_row_set_dirty (row, TRUE);
        }
      else if (g_strcmp0 (string_of (request, "status"), "draft") == 0 && !request_is_signed (request))
        {
          g_autoptr(WzRxLineRow) fresh = g_object_ref_sink (wz_rx_line_row_new_from_request (request, NULL));

          add_row (self, fresh);
          added++;
        }
    }
  save_local (self);
  schedule_check (self);
  wz_test_report ("rx-conflict-reloaded lines=%u added=%u", self->rows->len, added);
}

static void
on_saved (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  SaveJob *job = user_data;
  g_autoptr(WzRxEditor) self = job->self;
  g_autoptr(WzRxLineRow) row = job->row;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = wz_api_client_send_json_finish (WZ_API_CLIENT (object), result, &error);
  guint edits = job->edits;

  g_free (job);
  self->saving = FALSE;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (g_error_matches (error, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_CONFLICT))
    {
      g_autofree char *path = NULL;
      g_autofree char *encounter = encounter_ref (self);

      show_banner (self, _("Someone else changed this prescription, perhaps in another window. Their version was loaded; your lines are kept on screen and in the draft on this computer, and are saved over it with your next change."));
      set_status (self, _("Not saved: changed elsewhere"));
      wz_test_report ("rx-conflict-shown line=%s", wz_rx_line_row_get_id (row));
      self->sign_after_save = FALSE;
      path = g_strdup_printf ("/fhir/MedicationRequest?encounter=%s&_count=100", encounter);
      wz_api_client_get_json_async (self->client, path, self->cancellable, on_conflict_reloaded,
                                    g_object_ref (self));
      return;
    }
  if (root == NULL)
    {
      g_autofree char *text = g_strdup_printf (_("Not saved on the server: %s The draft is kept on this computer."),
                                               error->message);

      set_status (self, _("Saved on this computer only"));
      show_banner (self, text);
      self->sign_after_save = FALSE;
      return;
    }

  if (g_ptr_array_find (self->rows, row, NULL))
    {
      wz_rx_line_row_set_saved (row, json_node_get_object (root));
      if (GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (row), "wz-edits")) != edits)
        wz_rx_line_row_set_dirty (row, TRUE);
      wz_test_report ("rx-saved id=%s version=%s", wz_rx_line_row_get_id (row),
                      wz_rx_line_row_get_version (row));
    }
  save_local (self);
  save_next (self);
}

static void
save_next (WzRxEditor *self)
{
  WzRxLineRow *row = NULL;
  g_autoptr(JsonObject) request = NULL;
  g_autoptr(JsonNode) body = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *path = NULL;
  SaveJob *job;

  if (self->saving || self->signed_view || self->client == NULL)
    return;
  for (guint i = 0; i < self->rows->len && row == NULL; i++)
    if (wz_rx_line_row_get_dirty (g_ptr_array_index (self->rows, i)))
      row = g_ptr_array_index (self->rows, i);

  if (row == NULL)
    {
      set_status (self, self->rows->len ? _("Draft saved") : NULL);
      if (self->sign_after_save)
        {
          self->sign_after_save = FALSE;
          open_sign_dialog (self);
        }
      return;
    }

  request = row_request (self, row);
  json_node_set_object (body, request);
  job = g_new0 (SaveJob, 1);
  job->self = g_object_ref (self);
  job->row = g_object_ref (row);
  job->edits = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (row), "wz-edits"));
  self->saving = TRUE;
  if (wz_rx_line_row_get_id (row) != NULL)
    {
      path = g_strconcat ("/fhir/MedicationRequest/", wz_rx_line_row_get_id (row), NULL);
      wz_api_client_send_json_async (self->client, "PUT", path, body,
                                     wz_rx_line_row_get_version (row), self->cancellable, on_saved,
                                     job);
    }
  else
    wz_api_client_send_json_async (self->client, "POST", "/fhir/MedicationRequest", body, NULL,
                                   self->cancellable, on_saved, job);
}

static gboolean
run_save (gpointer user_data)
{
  WzRxEditor *self = user_data;

  self->save_source = 0;
  save_next (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_save (WzRxEditor *self)
{
  g_clear_handle_id (&self->save_source, g_source_remove);
  self->save_source = g_timeout_add (SAVE_DELAY_MS, run_save, self);
}

/* ---------------------------------------------------------------------------------------- */
/* Signing */

typedef struct
{
  WzRxEditor   *self;
  GHashTable   *overrides;
} SignJob;

static void
sign_job_free (SignJob *job)
{
  g_object_unref (job->self);
  g_hash_table_unref (job->overrides);
  g_free (job);
}

static void
sign_failed (WzRxEditor   *self,
             const GError *error)
{
  g_clear_pointer (&self->pending_key, wz_signing_key_free);
  if (self->sign_dialog != NULL)
    wz_rx_sign_dialog_finish (self->sign_dialog, error);
  else
    show_banner (self, error->message);
}

static void
on_signed (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(WzRxEditor) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = wz_api_client_send_json_finish (WZ_API_CLIENT (object), result, &error);
  g_autofree char *path = NULL;

  g_clear_pointer (&self->pending_key, wz_signing_key_free);
  if (root == NULL)
    {
      wz_test_report ("rx-sign-failed message=%s", error->message);
      sign_failed (self, error);
      return;
    }

  if (self->sign_dialog != NULL)
    wz_rx_sign_dialog_finish (self->sign_dialog, NULL);
  path = draft_path (self);
  if (!wz_draft_store_remove (path, &error))
    g_warning ("Prescription draft not removed: %s", error->message);
  wz_test_report ("rx-signed encounter=%s", self->encounter_id);
  reload (self);
}

static void
send_sign (SignJob *job)
{
  WzRxEditor *self = job->self;
  g_autoptr(GPtrArray) saved = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) parameters = json_object_new ();
  g_autoptr(JsonNode) body = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *payload = NULL;
  g_autofree char *signature = NULL;
  JsonArray *list = json_array_new ();
  GHashTableIter iter;
  gpointer key, value;
  gsize length;

  for (guint i = 0; i < self->rows->len; i++)
    g_ptr_array_add (saved, wz_rx_line_row_get_saved (g_ptr_array_index (self->rows, i)));
  if ((payload = wz_signature_prescription_payload (saved, &length, &error)) == NULL)
    {
      json_array_unref (list);
      sign_failed (self, error);
      return;
    }
  signature = wz_signing_key_sign (self->pending_key, payload, length);

  json_object_set_string_member (parameters, "resourceType", "Parameters");
  for (guint i = 0; i < saved->len; i++)
    {
      JsonObject *parameter = json_object_new ();

      json_object_set_string_member (parameter, "name", "medicationRequest");
      json_object_set_object_member (parameter, "resource",
                                     json_object_ref (g_ptr_array_index (saved, i)));
      json_array_add_object_element (list, parameter);
    }
  g_hash_table_iter_init (&iter, job->overrides);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      JsonObject *parameter = json_object_new ();
      JsonArray *parts = json_array_new ();
      JsonObject *key_part = json_object_new ();
      JsonObject *reason_part = json_object_new ();

      json_object_set_string_member (key_part, "name", "key");
      json_object_set_string_member (key_part, "valueString", key);
      json_object_set_string_member (reason_part, "name", "reason");
      json_object_set_string_member (reason_part, "valueString", value);
      json_array_add_object_element (parts, key_part);
      json_array_add_object_element (parts, reason_part);
      json_object_set_string_member (parameter, "name", "override");
      json_object_set_array_member (parameter, "part", parts);
      json_array_add_object_element (list, parameter);
    }
  {
    JsonObject *parameter = json_object_new ();

    json_object_set_string_member (parameter, "name", "signature");
    json_object_set_string_member (parameter, "valueBase64Binary", signature);
    json_array_add_object_element (list, parameter);
  }
  json_object_set_array_member (parameters, "parameter", list);
  json_node_set_object (body, parameters);
  wz_api_client_send_json_async (self->client, "POST", "/fhir/MedicationRequest/$sign", body, NULL,
                                 self->cancellable, on_signed, g_object_ref (self));
}

static void
on_key_registered (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  SignJob *job = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = wz_api_client_send_json_finish (WZ_API_CLIENT (object), result, &error);

  if (root == NULL)
    sign_failed (job->self, error);
  else
    send_sign (job);
  sign_job_free (job);
}

static void
on_key_unlocked (WzRxEditor     *self,
                 gpointer        key,
                 GHashTable     *overrides,
                 gboolean        new_key,
                 WzRxSignDialog *dialog)
{
  g_autoptr(JsonObject) parameters = json_object_new ();
  g_autoptr(JsonNode) body = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *path = NULL;
  JsonArray *list = json_array_new ();
  JsonObject *parameter = json_object_new ();
  SignJob *job = g_new0 (SignJob, 1);

  job->self = g_object_ref (self);
  job->overrides = g_hash_table_ref (overrides);
  g_clear_pointer (&self->pending_key, wz_signing_key_free);
  self->pending_key = key;

  /* Registering is idempotent: the server keeps every key a doctor has used, so older
   * signatures still verify, and a key made on another computer is known before it signs. */
  json_object_set_string_member (parameters, "resourceType", "Parameters");
  json_object_set_string_member (parameter, "name", "publicKey");
  json_object_set_string_member (parameter, "valueBase64Binary", wz_signing_key_get_public (key));
  json_array_add_object_element (list, parameter);
  json_object_set_array_member (parameters, "parameter", list);
  json_node_set_object (body, parameters);
  path = g_strdup_printf ("/fhir/%s/$register-key", requester_ref (self));
  wz_api_client_send_json_async (self->client, "POST", path, body, NULL, self->cancellable,
                                 on_key_registered, job);
}

static void
on_sign_dialog_destroyed (WzRxEditor *self)
{
  self->sign_dialog = NULL;
}

static void
open_sign_dialog (WzRxEditor *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  const char *practitioner = requester_ref (self);
  g_autofree char *name = patient_name (self->patient);
  g_autofree char *summary = NULL;

  if (practitioner == NULL || self->sign_dialog != NULL)
    return;
  summary = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                          "%u line for %s. Once signed, the prescription cannot be changed, only cancelled; it goes to a pharmacist for review.",
                                          "%u lines for %s. Once signed, the prescription cannot be changed, only cancelled; it goes to a pharmacist for review.",
                                          self->rows->len),
                             self->rows->len, name);
  self->sign_dialog = wz_rx_sign_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                             practitioner + strlen ("Practitioner/"), summary);
  for (guint i = 0; i < self->issues->len; i++)
    {
      JsonObject *issue = g_ptr_array_index (self->issues, i);

      if (g_strcmp0 (string_of (issue, "severity"), "high") == 0 && issue_key (issue) != NULL)
        wz_rx_sign_dialog_add_override (self->sign_dialog, issue_key (issue), "high",
                                        issue_text (issue));
    }
  for (guint i = 0; i < self->violations->len; i++)
    {
      JsonObject *violation = g_ptr_array_index (self->violations, i);
      const char *code = part_string (violation, "code", "valueCode") ?: part_string (violation, "code", "valueString");

      if (part_boolean (violation, "overridable") && g_strcmp0 (code, "override-required") != 0)
        wz_rx_sign_dialog_add_override (self->sign_dialog,
                                        part_string (violation, "key", "valueString"),
                                        "moderate", violation_text (violation));
    }
  g_signal_connect_object (self->sign_dialog, "unlocked", G_CALLBACK (on_key_unlocked), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->sign_dialog, "destroy", G_CALLBACK (on_sign_dialog_destroyed),
                           self, G_CONNECT_SWAPPED);
  gtk_window_present (GTK_WINDOW (self->sign_dialog));
}

static void
on_sign_clicked (WzRxEditor *self)
{
  show_banner (self, NULL);
  /* Sign what the server holds: unsaved changes go first. */
  self->sign_after_save = TRUE;
  g_clear_handle_id (&self->save_source, g_source_remove);
  if (!self->saving)
    save_next (self);
}

/* ---------------------------------------------------------------------------------------- */
/* Cancel and print */

static void
on_cancel_done (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(WzRxEditor) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = wz_api_client_send_json_finish (WZ_API_CLIENT (object), result, &error);

  if (root == NULL)
    {
      g_autofree char *text = g_strdup_printf (_("The prescription could not be cancelled: %s"),
                                               error->message);
      show_banner (self, text);
      return;
    }
  wz_test_report ("rx-cancelled");
  reload (self);
}

static void
on_cancel_response (AdwMessageDialog *dialog,
                    const char       *response,
                    WzRxEditor       *self)
{
  GtkEditable *entry = g_object_get_data (G_OBJECT (dialog), "wz-entry");
  const char *reason = gtk_editable_get_text (entry);

  if (g_strcmp0 (response, "cancel-rx") != 0)
    return;

  /* One $cancel per line: each is its own MedicationRequest. */
  for (guint i = 0; i < self->rows->len; i++)
    {
      WzRxLineRow *row = g_ptr_array_index (self->rows, i);
      g_autoptr(JsonObject) parameters = json_object_new ();
      g_autoptr(JsonNode) body = json_node_new (JSON_NODE_OBJECT);
      JsonArray *list = json_array_new ();
      JsonObject *parameter = json_object_new ();
      g_autofree char *path = g_strdup_printf ("/fhir/MedicationRequest/%s/$cancel",
                                               wz_rx_line_row_get_id (row));

      if (g_strcmp0 (string_of (wz_rx_line_row_get_saved (row), "status"), "cancelled") == 0)
        {
          json_array_unref (list);
          json_object_unref (parameter);
          continue;
        }
      json_object_set_string_member (parameters, "resourceType", "Parameters");
      json_object_set_string_member (parameter, "name", "reason");
      json_object_set_string_member (parameter, "valueString", reason);
      json_array_add_object_element (list, parameter);
      json_object_set_array_member (parameters, "parameter", list);
      json_node_set_object (body, parameters);
      wz_api_client_send_json_async (self->client, "POST", path, body, NULL, self->cancellable,
                                     on_cancel_done, g_object_ref (self));
    }
}

static void
on_reason_changed (GtkEditable      *entry,
                   AdwMessageDialog *dialog)
{
  const char *text = gtk_editable_get_text (entry);
  gboolean blank = TRUE;

  for (; *text != '\0'; text++)
    blank &= g_ascii_isspace (*text);
  adw_message_dialog_set_response_enabled (dialog, "cancel-rx", !blank);
}

static void
on_cancel_clicked (WzRxEditor *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  AdwMessageDialog *dialog;
  GtkWidget *entry = gtk_entry_new ();

  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                                       _("Cancel Prescription?"),
                                                       _("The pharmacy will not dispense it. The reason is recorded and the patient is told. You can write a new prescription afterwards.")));
  gtk_entry_set_placeholder_text (GTK_ENTRY (entry), _("Reason"));
  adw_message_dialog_set_extra_child (dialog, entry);
  adw_message_dialog_add_responses (dialog, "keep", _("_Keep"), "cancel-rx",
                                    _("_Cancel Prescription"), NULL);
  adw_message_dialog_set_response_appearance (dialog, "cancel-rx", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_response_enabled (dialog, "cancel-rx", FALSE);
  adw_message_dialog_set_close_response (dialog, "keep");
  adw_message_dialog_set_default_response (dialog, "cancel-rx");
  gtk_entry_set_activates_default (GTK_ENTRY (entry), TRUE);
  g_object_set_data (G_OBJECT (dialog), "wz-entry", entry);
  g_signal_connect (entry, "changed", G_CALLBACK (on_reason_changed), dialog);
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_cancel_response), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static WzRxPrintData *
print_data (WzRxEditor *self)
{
  WzRxPrintData *data = wz_rx_print_data_new ();
  WzSession *session = wz_api_client_get_session (self->client);
  JsonObject *first = self->rows->len ? wz_rx_line_row_get_saved (g_ptr_array_index (self->rows, 0)) : NULL;
  guint selected = gtk_drop_down_get_selected (self->diagnosis_drop);

  data->hospital = g_strdup (wz_api_client_get_organization_name (self->client)
                             ?: _("Wenzhen Internet Hospital"));
  data->patient = patient_name (self->patient);
  data->patient_details = g_strdup_printf ("%s · %s", wz_rx_gender_label (string_of (self->patient, "gender")),
                                           string_of (self->patient, "birthDate") ?: "");
  if (selected < self->conditions->len)
    data->diagnosis = g_strdup (concept_text (object_of (g_ptr_array_index (self->conditions, selected),
                                                         "code")));
  for (guint i = 0; i < self->rows->len; i++)
    {
      WzRxLineRow *row = g_ptr_array_index (self->rows, i);
      g_autofree char *summary = wz_rx_line_row_get_summary (row);
      JsonObject *dosage = element (array_of (wz_rx_line_row_get_saved (row), "dosageInstruction"), 0);
      g_autofree char *details = string_of (dosage, "patientInstruction")
                                 ? g_strdup_printf ("%s\n%s", summary, string_of (dosage, "patientInstruction"))
                                 : g_strdup (summary);

      wz_rx_print_data_add_line (data, wz_rx_line_row_get_title (row), details);
    }
  data->doctor = g_strdup (session ? wz_session_get_display_name (session) : NULL);
  data->status = g_strdup (gtk_label_get_text (self->status_label));
  data->date = g_strndup (string_of (object_of (first, "meta"), "lastUpdated") ?: "", 10);
  data->prescription_id = g_strdup (string_of (first, "id"));
  return data;
}

static void
on_print_clicked (WzRxEditor *self)
{
  g_autoptr(WzRxPrintData) data = print_data (self);
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  wz_rx_print_run (data, GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL);
}

static void
on_export_clicked (WzRxEditor *self)
{
  g_autoptr(WzRxPrintData) data = print_data (self);
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  const char *target = g_getenv ("WZ_TEST_RX_PDF");

  /* Test seam: the file chooser is the desktop's; a test names the file instead. */
  if (target != NULL && wz_test_report_enabled ())
    {
      g_autoptr(GError) error = NULL;

      if (wz_rx_print_to_pdf (data, target, &error))
        wz_test_report ("rx-pdf path=%s", target);
      else
        show_banner (self, error->message);
      return;
    }
  wz_rx_print_export (data, GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL);
}

static void
on_new_clicked (WzRxEditor *self)
{
  GtkWidget *child;

  /* A new prescription after a cancelled or rejected one: an empty, editable draft. */
  g_ptr_array_set_size (self->rows, 0);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->lines_list))) != NULL)
    gtk_list_box_remove (self->lines_list, child);
  self->signed_view = FALSE;
  gtk_widget_set_visible (GTK_WIDGET (self->search), TRUE);
  gtk_widget_set_sensitive (self->diagnosis_box, TRUE);
  gtk_widget_set_visible (GTK_WIDGET (self->sign_button), TRUE);
  gtk_widget_set_visible (GTK_WIDGET (self->cancel_button), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->print_button), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->export_button), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->new_button), FALSE);
  gtk_label_set_text (self->title_label, _("New Prescription"));
  set_status (self, NULL);
  update_lines_empty (self);
  wz_formulary_search_focus (self->search);
}

/* ---------------------------------------------------------------------------------------- */
/* Loading */

static void
set_signed_view (WzRxEditor *self,
                 gboolean    is_signed,
                 const char *status,
                 gboolean    cancellable)
{
  self->signed_view = is_signed;
  gtk_widget_set_visible (GTK_WIDGET (self->search), !is_signed);
  gtk_widget_set_sensitive (self->diagnosis_box, !is_signed);
  gtk_widget_set_visible (GTK_WIDGET (self->sign_button), !is_signed);
  gtk_widget_set_visible (GTK_WIDGET (self->cancel_button), is_signed && cancellable);
  gtk_widget_set_visible (GTK_WIDGET (self->print_button), is_signed && cancellable);
  gtk_widget_set_visible (GTK_WIDGET (self->export_button), is_signed && cancellable);
  gtk_widget_set_visible (GTK_WIDGET (self->new_button), is_signed && !cancellable);
  gtk_label_set_text (self->title_label, is_signed ? _("Signed Prescription") : _("Prescription"));
  for (guint i = 0; i < self->rows->len; i++)
    wz_rx_line_row_set_editable (g_ptr_array_index (self->rows, i), !is_signed);
  set_status (self, status);
  update_lines_empty (self);
  update_sign_button (self);
}

static void
select_reason (WzRxEditor *self,
               const char *reference)
{
  for (guint i = 0; reference != NULL && i < self->conditions->len; i++)
    if (g_str_has_suffix (reference, string_of (g_ptr_array_index (self->conditions, i), "id")))
      gtk_drop_down_set_selected (self->diagnosis_drop, i);
}

/* Lines come from the server; unsaved work from the draft on this computer is laid over them. */
static void
finish_load (WzRxEditor *self,
             GPtrArray  *server_rows)
{
  gboolean any_signed = FALSE;
  gboolean all_cancelled = TRUE;
  gboolean approved = FALSE;
  const char *rejection = NULL;
  const char *cancel_reason = NULL;
  JsonArray *draft_lines = array_of (self->local_draft, "lines");
  guint restored = 0;

  for (guint i = 0; i < server_rows->len; i++)
    {
      JsonObject *saved = wz_rx_line_row_get_saved (g_ptr_array_index (server_rows, i));

      if (request_is_signed (saved) || g_strcmp0 (string_of (saved, "status"), "active") == 0)
        {
          const char *status = string_of (saved, "status");
          const char *reason = concept_text (object_of (saved, "statusReason"));

          any_signed = TRUE;
          all_cancelled &= g_strcmp0 (status, "cancelled") == 0;
          approved |= g_strcmp0 (status, "active") == 0;
          if (g_strcmp0 (status, "cancelled") == 0 && reason != NULL)
            {
              /* The server prefixes the pharmacist's words in both languages. */
              if (strstr (reason, REJECTED_PREFIX) != NULL)
                rejection = strstr (reason, REJECTED_PREFIX) + strlen (REJECTED_PREFIX);
              else
                cancel_reason = reason;
            }
        }
    }

  if (any_signed && !all_cancelled)
    {
      for (guint i = 0; i < server_rows->len; i++)
        {
          WzRxLineRow *row = g_ptr_array_index (server_rows, i);

          if (request_is_signed (wz_rx_line_row_get_saved (row)) ||
              g_strcmp0 (string_of (wz_rx_line_row_get_saved (row), "status"), "active") == 0)
            add_row (self, row);
        }
      if (self->rows->len > 0)
        select_reason (self, string_of (element (array_of (wz_rx_line_row_get_saved (g_ptr_array_index (self->rows, 0)),
                                                           "reasonReference"), 0), "reference"));
      set_signed_view (self, TRUE, approved ? _("Approved by the pharmacist: ready to dispense")
                                            : _("Signed · Awaiting pharmacist review"), TRUE);
      wz_test_report ("rx-loaded state=%s lines=%u", approved ? "approved" : "awaiting",
                      self->rows->len);
      return;
    }

  /* Unsigned drafts (the signed ones, all cancelled, are history). */
  for (guint i = 0; i < server_rows->len; i++)
    {
      WzRxLineRow *row = g_ptr_array_index (server_rows, i);
      JsonObject *saved = wz_rx_line_row_get_saved (row);

      if (!request_is_signed (saved) && g_strcmp0 (string_of (saved, "status"), "draft") == 0)
        add_row (self, row);
    }
  if (self->rows->len > 0)
    select_reason (self, string_of (element (array_of (wz_rx_line_row_get_saved (g_ptr_array_index (self->rows, 0)),
                                                       "reasonReference"), 0), "reference"));

  if (g_strcmp0 (string_of (self->local_draft, "encounter"), self->encounter_id) == 0)
    {
      select_reason (self, string_of (self->local_draft, "reason"));
      for (guint i = 0; draft_lines != NULL && i < json_array_get_length (draft_lines); i++)
        {
          JsonObject *line = element (draft_lines, i);
          const char *id = string_of (object_of (line, "saved"), "id");
          WzRxLineRow *server_row = row_for_id (self, id);
          g_autoptr(WzRxLineRow) local = NULL;

          if (server_row != NULL && !json_object_get_boolean_member_with_default (line, "dirty", FALSE))
            continue;
          local = wz_rx_line_row_new_from_draft (line);
          if (local == NULL)
            continue;
          g_object_ref_sink (local);
          if (server_row != NULL)
            {
              /* The typed values win; the server's current version is their base. */
              guint index = 0;

              wz_rx_line_row_set_saved (local, wz_rx_line_row_get_saved (server_row));
              g_ptr_array_find (self->rows, server_row, &index);
              gtk_list_box_remove (self->lines_list, GTK_WIDGET (server_row));
              g_ptr_array_remove_index (self->rows, index);
            }
          else if (id != NULL)
            wz_rx_line_row_set_saved (local, NULL);   /* gone from the server: a new line */
          wz_rx_line_row_set_dirty (local, TRUE);
          add_row (self, local);
          restored++;
        }
    }

  set_signed_view (self, FALSE, NULL, FALSE);
  if (rejection != NULL || cancel_reason != NULL)
    {
      g_autofree char *text = rejection
                              ? g_strdup_printf (_("The pharmacist rejected the previous prescription: %s"), rejection)
                              : g_strdup_printf (_("The previous prescription was cancelled: %s"), cancel_reason);
      show_banner (self, text);
      set_status (self, rejection ? _("Rejected by the pharmacist") : _("Cancelled"));
    }
  if (restored > 0)
    {
      set_status (self, _("Restored the draft saved on this computer"));
      schedule_save (self);
    }
  else if (self->rows->len > 0)
    set_status (self, _("Draft saved"));
  schedule_check (self);
  wz_test_report ("rx-loaded state=%s lines=%u restored=%u", rejection ? "rejected" : "draft",
                  self->rows->len, restored);
}

typedef struct
{
  WzRxEditor *self;
  GPtrArray  *requests;   /* JsonObject */
  GPtrArray  *rows;       /* WzRxLineRow */
  guint       next;
} LoadJob;

static void
load_job_free (LoadJob *job)
{
  g_object_unref (job->self);
  g_ptr_array_unref (job->requests);
  g_ptr_array_unref (job->rows);
  g_free (job);
}

static void load_next_drug (LoadJob *job);

static void
on_drug_loaded (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  LoadJob *job = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = wz_api_client_get_json_finish (WZ_API_CLIENT (object), result, &error);
  JsonObject *request = g_ptr_array_index (job->requests, job->next);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      load_job_free (job);
      return;
    }
  g_ptr_array_add (job->rows,
                   g_object_ref_sink (wz_rx_line_row_new_from_request (request,
                                                                       root && JSON_NODE_HOLDS_OBJECT (root)
                                                                       ? json_node_get_object (root)
                                                                       : NULL)));
  job->next++;
  load_next_drug (job);
}

static void
load_next_drug (LoadJob *job)
{
  JsonObject *request;
  JsonObject *coding;
  g_autofree char *path = NULL;

  if (job->next >= job->requests->len)
    {
      finish_load (job->self, job->rows);
      load_job_free (job);
      return;
    }
  request = g_ptr_array_index (job->requests, job->next);
  coding = element (array_of (object_of (request, "medicationCodeableConcept"), "coding"), 0);
  path = g_strconcat ("/formulary/", string_of (coding, "code") ?: "-", NULL);
  wz_api_client_get_json_async (job->self->client, path, job->self->cancellable, on_drug_loaded, job);
}

static void
on_requests_loaded (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(WzRxEditor) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = wz_api_client_get_json_finish (WZ_API_CLIENT (object), result, &error);
  LoadJob *job;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (root == NULL)
    {
      show_banner (self, error->message);
      return;
    }
  job = g_new0 (LoadJob, 1);
  job->self = g_object_ref (self);
  job->requests = bundle_resources (root, "MedicationRequest");
  job->rows = g_ptr_array_new_with_free_func (g_object_unref);
  /* Oldest first, so lines keep the order they were written in. */
  for (guint i = 0; i < job->requests->len; i++)
    if (g_strcmp0 (string_of (g_ptr_array_index (job->requests, i), "status"), "entered-in-error") == 0)
      g_ptr_array_remove_index (job->requests, i--);
  load_next_drug (job);
}

static void
on_conditions_loaded (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(WzRxEditor) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = wz_api_client_get_json_finish (WZ_API_CLIENT (object), result, &error);
  g_autoptr(GPtrArray) conditions = NULL;
  g_autoptr(GtkStringList) names = gtk_string_list_new (NULL);
  g_autofree char *path = NULL;
  g_autofree char *encounter = NULL;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  conditions = bundle_resources (root, "Condition");
  g_ptr_array_set_size (self->conditions, 0);
  for (guint i = 0; i < conditions->len; i++)
    {
      JsonObject *condition = g_ptr_array_index (conditions, i);
      const char *verification = string_of (element (array_of (object_of (condition, "verificationStatus"),
                                                              "coding"), 0), "code");
      JsonObject *coding = element (array_of (object_of (condition, "code"), "coding"), 0);
      g_autofree char *label = NULL;

      if (g_strcmp0 (verification, "refuted") == 0 || g_strcmp0 (verification, "entered-in-error") == 0)
        continue;
      label = g_strdup_printf ("%s %s", string_of (coding, "code") ?: "",
                               concept_text (object_of (condition, "code")) ?: "");
      gtk_string_list_append (names, label);
      g_ptr_array_add (self->conditions, json_object_ref (condition));
    }
  if (self->conditions->len == 0)
    gtk_string_list_append (names, _("No diagnosis recorded"));
  gtk_drop_down_set_model (self->diagnosis_drop, G_LIST_MODEL (names));

  encounter = encounter_ref (self);
  path = g_strdup_printf ("/fhir/MedicationRequest?encounter=%s&_count=100&_sort=_lastUpdated", encounter);
  wz_api_client_get_json_async (self->client, path, self->cancellable, on_requests_loaded,
                                g_object_ref (self));
}

static void
on_patient_loaded (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(WzRxEditor) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = wz_api_client_get_json_finish (WZ_API_CLIENT (object), result, &error);
  g_autofree char *path = NULL;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      show_banner (self, error ? error->message : NULL);
      return;
    }
  g_clear_pointer (&self->patient, json_object_unref);
  self->patient = json_object_ref (json_node_get_object (root));
  path = g_strdup_printf ("/fhir/Condition?patient=Patient/%s&_count=100", self->patient_id);
  wz_api_client_get_json_async (self->client, path, self->cancellable, on_conditions_loaded,
                                g_object_ref (self));
}

static void
clear_view (WzRxEditor *self)
{
  GtkWidget *child;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_handle_id (&self->check_source, g_source_remove);
  g_clear_handle_id (&self->save_source, g_source_remove);
  self->saving = FALSE;
  self->sign_after_save = FALSE;
  g_ptr_array_set_size (self->rows, 0);
  g_ptr_array_set_size (self->issues, 0);
  g_ptr_array_set_size (self->violations, 0);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->lines_list))) != NULL)
    gtk_list_box_remove (self->lines_list, child);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->checks_list))) != NULL)
    gtk_list_box_remove (self->checks_list, child);
  gtk_widget_set_visible (self->checks_box, FALSE);
  show_banner (self, NULL);
  set_status (self, NULL);
}

static void
reload (WzRxEditor *self)
{
  g_autofree char *path = NULL;
  g_autofree char *draft = NULL;

  clear_view (self);
  if (self->patient_id == NULL || self->encounter_id == NULL || self->client == NULL)
    {
      gtk_stack_set_visible_child_name (self->stack, "empty");
      return;
    }
  gtk_stack_set_visible_child_name (self->stack, "editor");
  self->cancellable = g_cancellable_new ();
  /* A few hundred bytes: read at once, so the draft is there before any line is shown. */
  draft = draft_path (self);
  g_clear_pointer (&self->local_draft, json_object_unref);
  {
    g_autoptr(JsonNode) node = wz_draft_store_read (draft);

    if (node != NULL)
      self->local_draft = json_object_ref (json_node_get_object (node));
  }
  path = g_strconcat ("/fhir/Patient/", self->patient_id, NULL);
  wz_api_client_get_json_async (self->client, path, self->cancellable, on_patient_loaded,
                                g_object_ref (self));
}

void
wz_rx_editor_show (WzRxEditor *self,
                   const char *patient_id,
                   const char *encounter_id)
{
  g_return_if_fail (WZ_IS_RX_EDITOR (self));

  if (g_strcmp0 (patient_id, self->patient_id) == 0 &&
      g_strcmp0 (encounter_id, self->encounter_id) == 0 && patient_id != NULL)
    return;
  g_free (self->patient_id);
  g_free (self->encounter_id);
  self->patient_id = g_strdup (patient_id);
  self->encounter_id = g_strdup (encounter_id);
  reload (self);
}

void
wz_rx_editor_set_client (WzRxEditor  *self,
                         WzApiClient *client)
{
  g_return_if_fail (WZ_IS_RX_EDITOR (self));

  g_set_object (&self->client, client);
  wz_formulary_search_set_client (self->search, client);
}

/* ---------------------------------------------------------------------------------------- */
/* Object */

static void
on_diagnosis_changed (WzRxEditor *self)
{
  if (self->signed_view || self->patient == NULL)
    return;
  for (guint i = 0; i < self->rows->len; i++)
    wz_rx_line_row_set_dirty (g_ptr_array_index (self->rows, i), TRUE);
  if (self->rows->len > 0)
    {
      save_local (self);
      schedule_save (self);
      schedule_check (self);
    }
}

/* Opening the page puts the cursor in the search, ready to type a drug. */
static void
on_map (WzRxEditor *self)
{
  if (!self->signed_view && g_strcmp0 (gtk_stack_get_visible_child_name (self->stack), "editor") == 0)
    wz_formulary_search_focus (self->search);
}

static void
wz_rx_editor_dispose (GObject *object)
{
  WzRxEditor *self = WZ_RX_EDITOR (object);
  GtkWidget *child;

  clear_view (self);
  if (self->sign_dialog != NULL)
    gtk_window_destroy (GTK_WINDOW (self->sign_dialog));
  g_clear_pointer (&self->pending_key, wz_signing_key_free);
  g_clear_object (&self->client);
  g_clear_pointer (&self->patient, json_object_unref);
  g_clear_pointer (&self->local_draft, json_object_unref);
  g_clear_pointer (&self->conditions, g_ptr_array_unref);
  g_clear_pointer (&self->rows, g_ptr_array_unref);
  g_clear_pointer (&self->issues, g_ptr_array_unref);
  g_clear_pointer (&self->violations, g_ptr_array_unref);
  g_clear_pointer (&self->patient_id, g_free);
  g_clear_pointer (&self->encounter_id, g_free);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (wz_rx_editor_parent_class)->dispose (object);
}

static void
wz_rx_editor_class_init (WzRxEditorClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = wz_rx_editor_dispose;
  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/wenzhen/Wenzhen/wz-rx-editor.ui");
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_bind_template_child (widget_class, WzRxEditor, stack);
  gtk_widget_class_bind_template_child (widget_class, WzRxEditor, empty_page);
  gtk_widget_class_bind_template_child (widget_class, WzRxEditor, banner);
  gtk_widget_class_bind_template_child (widget_class, WzRxEditor, banner_label);
  gtk_widget_class_bind_template_child (widget_class, WzRxEditor, title_label);
  gtk_widget_class_bind_template_child (widget_class, WzRxEditor, status_label);
  gtk_widget_class_bind_template_child (widget_class, WzRxEditor, diagnosis_drop);
  gtk_widget_class_bind_template_child (widget_class, WzRxEditor, diagnosis_box);
  gtk_widget_class_bind_template_child (widget_class, WzRxEditor, search);
  gtk_widget_class_bind_template_child (widget_class, WzRxEditor, lines_list);
  gtk_widget_class_bind_template_child (widget_class, WzRxEditor, lines_empty);
  gtk_widget_class_bind_template_child (widget_class, WzRxEditor, checks_box);
  gtk_widget_class_bind_template_child (widget_class, WzRxEditor, checks_list);
  gtk_widget_class_bind_template_child (widget_class, WzRxEditor, sign_button);
  gtk_widget_class_bind_template_child (widget_class, WzRxEditor, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, WzRxEditor, print_button);
  gtk_widget_class_bind_template_child (widget_class, WzRxEditor, export_button);
  gtk_widget_class_bind_template_child (widget_class, WzRxEditor, new_button);
  gtk_widget_class_bind_template_callback (widget_class, on_drug_chosen);
  gtk_widget_class_bind_template_callback (widget_class, on_sign_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_cancel_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_print_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_export_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_new_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_diagnosis_changed);
}

static void
wz_rx_editor_init (WzRxEditor *self)
{
  g_type_ensure (WZ_TYPE_FORMULARY_SEARCH);
  gtk_widget_init_template (GTK_WIDGET (self));

  self->conditions = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  self->rows = g_ptr_array_new_with_free_func (g_object_unref);
  self->issues = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  self->violations = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  g_signal_connect (self, "map", G_CALLBACK (on_map), NULL);
}

GtkWidget *
wz_rx_editor_new (void)
{
  return g_object_new (WZ_TYPE_RX_EDITOR, NULL);
}
