/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-review-queue"

#include "config.h"

#include "wz-review-queue.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "wz-rx-labels.h"
#include "wz-rx-line-row.h"
#include "wz-test-report.h"

struct _WzReviewQueue
{
  GtkWidget      parent_instance;

  WzApiClient   *client;
  GCancellable  *cancellable;
  GPtrArray     *tasks;       /* JsonObject Task */
  GPtrArray     *reviews;     /* JsonNode Bundle of $review, NULL until loaded, per task */
  char          *shown_task;

  GtkStack      *stack;
  GtkListBox    *list;
  GtkStack      *detail_stack;
  GtkLabel      *patient_label;
  GtkLabel      *meta_label;
  GtkWidget     *signature_row;
  GtkImage      *signature_icon;
  GtkLabel      *signature_label;
  GtkListBox    *lines_list;
  GtkWidget     *findings_box;
  GtkListBox    *findings_list;
  GtkButton     *approve_button;
  GtkButton     *reject_button;
  GtkLabel      *error_label;
};

G_DEFINE_FINAL_TYPE (WzReviewQueue, wz_review_queue, GTK_TYPE_WIDGET)

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
resources (JsonNode   *bundle,
           const char *type)
{
  GPtrArray *list = g_ptr_array_new ();
  JsonArray *entries = bundle && JSON_NODE_HOLDS_OBJECT (bundle)
                       ? array_of (json_node_get_object (bundle), "entry") : NULL;

  for (guint i = 0; entries != NULL && i < json_array_get_length (entries); i++)
    {
      JsonObject *resource = object_of (element (entries, i), "resource");

      if (g_strcmp0 (string_of (resource, "resourceType"), type) == 0)
        g_ptr_array_add (list, resource);
    }
  return list;
}

static char *
name_of (JsonObject *patient)
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
translated (JsonObject *object,
            const char *name)
{
  g_autofree char *underscore = g_strconcat ("_", name, NULL);
  JsonArray *extensions = array_of (object_of (object, underscore), "extension");

  for (guint i = 0; wz_rx_prefers_chinese () && extensions != NULL &&
                    i < json_array_get_length (extensions); i++)
    {
      JsonArray *parts = array_of (element (extensions, i), "extension");
      const char *lang = NULL, *content = NULL;

      for (guint p = 0; parts != NULL && p < json_array_get_length (parts); p++)
        {
          if (g_strcmp0 (string_of (element (parts, p), "url"), "lang") == 0)
            lang = string_of (element (parts, p), "valueCode");
          else if (g_strcmp0 (string_of (element (parts, p), "url"), "content") == 0)
            content = string_of (element (parts, p), "valueString");
        }
      if (lang != NULL && g_str_has_prefix (lang, "zh") && content != NULL)
        return content;
    }
  return string_of (object, name);
}

static GtkWidget *
two_line_row (const char *title,
              const char *subtitle,
              const char *icon_name,
              const char *css)
{
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *texts = gtk_box_new (GTK_ORIENTATION_VERTICAL, 3);
  GtkWidget *title_label = gtk_label_new (title);
  GtkWidget *subtitle_label = gtk_label_new (subtitle);

  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
  if (icon_name != NULL)
    {
      GtkWidget *icon = gtk_image_new_from_icon_name (icon_name);

      gtk_widget_set_valign (icon, GTK_ALIGN_START);
      if (css != NULL)
        gtk_widget_add_css_class (icon, css);
      gtk_box_append (GTK_BOX (box), icon);
    }
  gtk_label_set_wrap (GTK_LABEL (title_label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (title_label), 0);
  if (css != NULL)
    gtk_widget_add_css_class (title_label, css);
  gtk_label_set_wrap (GTK_LABEL (subtitle_label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (subtitle_label), 0);
  gtk_widget_add_css_class (subtitle_label, "dim-label");
  gtk_widget_set_visible (subtitle_label, subtitle != NULL && *subtitle != '\0');
  gtk_box_append (GTK_BOX (texts), title_label);
  gtk_box_append (GTK_BOX (texts), subtitle_label);
  gtk_widget_set_hexpand (texts, TRUE);
  gtk_box_append (GTK_BOX (box), texts);
  gtk_widget_set_margin_top (box, 10);
  gtk_widget_set_margin_bottom (box, 10);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  return row;
}

static void
clear_list (GtkListBox *list)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (list))) != NULL)
    gtk_list_box_remove (list, child);
}

static int
selected_index (WzReviewQueue *self)
{
  GtkListBoxRow *row = gtk_list_box_get_selected_row (self->list);

  return row ? gtk_list_box_row_get_index (row) : -1;
}

/* The selected prescription in detail. */
static void
show_review (WzReviewQueue *self)
{
  int index = selected_index (self);
  JsonNode *bundle = index >= 0 && (guint) index < self->reviews->len
                     ? g_ptr_array_index (self->reviews, index) : NULL;
  g_autoptr(GPtrArray) patients = NULL;
  g_autoptr(GPtrArray) requests = NULL;
  g_autoptr(GPtrArray) outcomes = NULL;
  g_autoptr(GPtrArray) issues = NULL;
  g_autoptr(GPtrArray) provenances = NULL;
  g_autofree char *name = NULL;
  g_autofree char *meta = NULL;
  g_autofree char *signed_at = NULL;
  JsonObject *task;
  JsonObject *verdict = NULL;
  gboolean verified;
  GString *findings = g_string_new (NULL);

  if (bundle == NULL)
    {
      gtk_stack_set_visible_child_name (self->detail_stack, index < 0 ? "none" : "loading");
      g_string_free (findings, TRUE);
      return;
    }
  task = g_ptr_array_index (self->tasks, index);
  g_free (self->shown_task);
  self->shown_task = g_strdup (string_of (task, "id"));
  patients = resources (bundle, "Patient");
  requests = resources (bundle, "MedicationRequest");
  outcomes = resources (bundle, "OperationOutcome");
  issues = resources (bundle, "DetectedIssue");
  provenances = resources (bundle, "Provenance");

  name = patients->len ? name_of (g_ptr_array_index (patients, 0)) : g_strdup ("");
  gtk_label_set_text (self->patient_label, name);
  if (provenances->len && string_of (g_ptr_array_index (provenances, 0), "recorded") != NULL)
    {
      g_autoptr(GDateTime) utc = g_date_time_new_from_iso8601 (string_of (g_ptr_array_index (provenances, 0),
                                                                        "recorded"), NULL);
      g_autoptr(GDateTime) local = utc ? g_date_time_to_local (utc) : NULL;

      signed_at = local ? g_date_time_format (local, "%Y-%m-%d %H:%M") : NULL;
    }
  meta = g_strdup_printf (_("Signed %s · %s · born %s"), signed_at ? signed_at : "",
                          wz_rx_gender_label (patients->len ? string_of (g_ptr_array_index (patients, 0), "gender") : NULL),
                          patients->len ? string_of (g_ptr_array_index (patients, 0), "birthDate") ?: "" : "");
  gtk_label_set_text (self->meta_label, meta);

  /* The verdict on the signature is the review's one OperationOutcome. */
  for (guint i = 0; i < outcomes->len; i++)
    if (verdict == NULL || g_strcmp0 (string_of (g_ptr_array_index (outcomes, i), "id"), "signature") == 0)
      verdict = g_ptr_array_index (outcomes, i);
  verified = verdict != NULL &&
             g_strcmp0 (string_of (element (array_of (verdict, "issue"), 0), "severity"), "information") == 0;
  gtk_image_set_from_icon_name (self->signature_icon, verified ? "emblem-ok-symbolic"
                                                               : "dialog-error-symbolic");
  gtk_widget_remove_css_class (GTK_WIDGET (self->signature_icon), "success");
  gtk_widget_remove_css_class (GTK_WIDGET (self->signature_icon), "error");
  gtk_widget_add_css_class (GTK_WIDGET (self->signature_icon), verified ? "success" : "error");
  if (verified)
    gtk_label_set_text (self->signature_label,
                        _("The doctor’s signature verifies: the prescription is exactly as signed."));
  else
    {
      g_autofree char *text = g_strdup_printf (_("The signature does not verify: %s. Do not dispense; reject it."),
                                               string_of (element (array_of (verdict, "issue"), 0), "diagnostics") ?: "");
      gtk_label_set_text (self->signature_label, text);
    }

  clear_list (self->lines_list);
  for (guint i = 0; i < requests->len; i++)
    {
      JsonObject *request = g_ptr_array_index (requests, i);
      JsonObject *dosage = element (array_of (request, "dosageInstruction"), 0);
      const char *instruction = string_of (dosage, "patientInstruction");
      /* In the pharmacist's own words, whatever language the doctor wrote in. */
      g_autofree char *described = wz_rx_dosage_describe (request);
      g_autofree char *details = instruction ? g_strdup_printf ("%s\n%s", described, instruction)
                                             : g_strdup (described);

      gtk_list_box_append (self->lines_list,
                           two_line_row (string_of (object_of (request, "medicationCodeableConcept"), "text"),
                                         details, NULL, NULL));
    }

  clear_list (self->findings_list);
  for (guint i = 0; i < issues->len; i++)
    {
      JsonObject *issue = g_ptr_array_index (issues, i);
      const char *severity = string_of (issue, "severity");
      const char *reason = string_of (object_of (element (array_of (issue, "mitigation"), 0), "action"), "text");
      g_autofree char *override = reason ? g_strdup_printf (_("Doctor’s reason: %s"), reason) : NULL;

      g_string_append_printf (findings, "%s%s", findings->len ? "," : "", severity);
      gtk_list_box_append (self->findings_list,
                           two_line_row (translated (issue, "detail"), override,
                                         "dialog-warning-symbolic",
                                         g_strcmp0 (severity, "high") == 0 ? "error"
                                         : g_strcmp0 (severity, "moderate") == 0 ? "warning" : NULL));
    }
  gtk_widget_set_visible (self->findings_box, issues->len > 0);
  gtk_widget_set_sensitive (GTK_WIDGET (self->approve_button), verified);
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), FALSE);
  gtk_stack_set_visible_child_name (self->detail_stack, "detail");
  wz_test_report ("review-shown task=%s patient=%s lines=%u findings=%s signature=%s%s%s",
                  self->shown_task, name, requests->len, findings->str,
                  verified ? "verified" : "failed", verified ? "" : " reason=",
                  verified ? "" : string_of (element (array_of (verdict, "issue"), 0), "diagnostics"));
  g_string_free (findings, TRUE);
}

static void
on_selected (WzReviewQueue *self)
{
  show_review (self);
}

typedef struct
{
  WzReviewQueue *self;
  guint          index;
} ReviewJob;

static void
on_review_loaded (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  ReviewJob *job = user_data;
  g_autoptr(WzReviewQueue) self = job->self;
  g_autoptr(GError) error = NULL;
  JsonNode *root = wz_api_client_get_json_finish (WZ_API_CLIENT (object), result, &error);
  guint index = job->index;
  GtkListBoxRow *row;
  g_autoptr(GPtrArray) patients = NULL;
  g_autoptr(GPtrArray) requests = NULL;
  g_autofree char *name = NULL;
  GString *drugs = g_string_new (NULL);

  g_free (job);
  if (root == NULL || index >= self->reviews->len)
    {
      if (root != NULL)
        json_node_unref (root);
      g_string_free (drugs, TRUE);
      return;
    }
  if (g_ptr_array_index (self->reviews, index) != NULL)
    json_node_unref (g_ptr_array_index (self->reviews, index));
  g_ptr_array_index (self->reviews, index) = root;

  /* The list row names the patient and the drugs once the review is in. */
  patients = resources (root, "Patient");
  requests = resources (root, "MedicationRequest");
  name = patients->len ? name_of (g_ptr_array_index (patients, 0)) : g_strdup ("");
  for (guint i = 0; i < requests->len; i++)
    g_string_append_printf (drugs, "%s%s", i ? ", " : "",
                            string_of (object_of (g_ptr_array_index (requests, i),
                                                  "medicationCodeableConcept"), "text"));
  row = gtk_list_box_get_row_at_index (self->list, (int) index);
  if (row != NULL)
    {
      GtkWidget *box = gtk_list_box_row_get_child (row);
      GtkWidget *title = gtk_widget_get_first_child (box);

      gtk_label_set_text (GTK_LABEL (title), name);
      gtk_label_set_text (GTK_LABEL (gtk_widget_get_next_sibling (title)), drugs->str);
    }
  g_string_free (drugs, TRUE);
  if (selected_index (self) == (int) index)
    show_review (self);
}

static void
on_queue_loaded (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(WzReviewQueue) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = wz_api_client_get_json_finish (WZ_API_CLIENT (object), result, &error);
  g_autoptr(GPtrArray) tasks = NULL;
  g_autofree char *keep = g_strdup (self->shown_task);
  GtkListBoxRow *select = NULL;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (root == NULL)
    {
      gtk_label_set_text (self->error_label, error->message);
      gtk_widget_set_visible (GTK_WIDGET (self->error_label), TRUE);
      return;
    }

  clear_list (self->list);
  g_ptr_array_set_size (self->tasks, 0);
  g_ptr_array_set_size (self->reviews, 0);
  tasks = resources (root, "Task");
  for (guint i = 0; i < tasks->len; i++)
    {
      JsonObject *task = g_ptr_array_index (tasks, i);
      GtkWidget *row = gtk_list_box_row_new ();
      GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
      GtkWidget *title = gtk_label_new (_("Loading…"));
      GtkWidget *subtitle = gtk_label_new (string_of (task, "authoredOn"));
      g_autofree char *path = g_strdup_printf ("/fhir/Task/%s/$review", string_of (task, "id"));
      ReviewJob *job = g_new0 (ReviewJob, 1);

      gtk_label_set_xalign (GTK_LABEL (title), 0);
      gtk_label_set_xalign (GTK_LABEL (subtitle), 0);
      gtk_label_set_ellipsize (GTK_LABEL (subtitle), PANGO_ELLIPSIZE_END);
      gtk_widget_add_css_class (title, "heading");
      gtk_widget_add_css_class (subtitle, "dim-label");
      gtk_widget_add_css_class (subtitle, "caption");
      gtk_box_append (GTK_BOX (box), title);
      gtk_box_append (GTK_BOX (box), subtitle);
      gtk_widget_set_margin_top (box, 8);
      gtk_widget_set_margin_bottom (box, 8);
      gtk_widget_set_margin_start (box, 6);
      gtk_widget_set_margin_end (box, 6);
      gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
      gtk_list_box_append (self->list, row);
      g_ptr_array_add (self->tasks, json_object_ref (task));
      g_ptr_array_add (self->reviews, NULL);
      if (g_strcmp0 (keep, string_of (task, "id")) == 0)
        select = GTK_LIST_BOX_ROW (row);

      job->self = g_object_ref (self);
      job->index = i;
      wz_api_client_get_json_async (self->client, path, self->cancellable, on_review_loaded, job);
    }
  gtk_stack_set_visible_child_name (self->stack, tasks->len ? "list" : "empty");
  if (select == NULL)
    select = gtk_list_box_get_row_at_index (self->list, 0);
  gtk_list_box_select_row (self->list, select);
  show_review (self);
  wz_test_report ("review-queue n=%u", tasks->len);
}

void
wz_review_queue_refresh (WzReviewQueue *self)
{
  if (self->client == NULL)
    return;
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  wz_api_client_get_json_async (self->client, "/fhir/Task/$review-queue", self->cancellable,
                                on_queue_loaded, g_object_ref (self));
}

static void
on_decided (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(WzReviewQueue) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = wz_api_client_send_json_finish (WZ_API_CLIENT (object), result, &error);
  g_autoptr(GPtrArray) tasks = NULL;

  if (root == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          wz_test_report ("review-error message=%s", error->message);
          gtk_label_set_text (self->error_label, error->message);
          gtk_widget_set_visible (GTK_WIDGET (self->error_label), TRUE);
        }
      return;
    }
  tasks = resources (root, "Task");
  wz_test_report ("review-decided task=%s status=%s",
                  tasks->len ? string_of (g_ptr_array_index (tasks, 0), "id") : "",
                  tasks->len ? string_of (g_ptr_array_index (tasks, 0), "status") : "");
  g_clear_pointer (&self->shown_task, g_free);
  wz_review_queue_refresh (self);
}

static void
decide (WzReviewQueue *self,
        const char    *operation,
        const char    *name,
        const char    *text)
{
  g_autoptr(JsonObject) parameters = json_object_new ();
  g_autoptr(JsonNode) body = json_node_new (JSON_NODE_OBJECT);
  JsonArray *list = json_array_new ();
  g_autofree char *path = NULL;

  if (self->shown_task == NULL)
    {
      json_array_unref (list);
      return;
    }
  json_object_set_string_member (parameters, "resourceType", "Parameters");
  if (text != NULL)
    {
      JsonObject *parameter = json_object_new ();

      json_object_set_string_member (parameter, "name", name);
      json_object_set_string_member (parameter, "valueString", text);
      json_array_add_object_element (list, parameter);
    }
  json_object_set_array_member (parameters, "parameter", list);
  json_node_set_object (body, parameters);
  path = g_strdup_printf ("/fhir/Task/%s/%s", self->shown_task, operation);
  wz_api_client_send_json_async (self->client, "POST", path, body, NULL, self->cancellable,
                                 on_decided, g_object_ref (self));
}

static void
on_approve_clicked (WzReviewQueue *self)
{
  decide (self, "$approve", "note", NULL);
}

static void
on_reject_response (AdwMessageDialog *dialog,
                    const char       *response,
                    WzReviewQueue    *self)
{
  GtkEditable *entry = g_object_get_data (G_OBJECT (dialog), "wz-entry");

  if (g_strcmp0 (response, "reject") == 0)
    decide (self, "$reject", "reason", gtk_editable_get_text (entry));
}

static void
on_reason_changed (GtkEditable      *entry,
                   AdwMessageDialog *dialog)
{
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (entry)));

  adw_message_dialog_set_response_enabled (dialog, "reject", text[0] != '\0');
}

static void
on_reject_clicked (WzReviewQueue *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *entry = gtk_entry_new ();
  AdwMessageDialog *dialog;

  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                                       _("Reject Prescription?"),
                                                       _("It goes back to the doctor with your reason, and is not dispensed.")));
  gtk_entry_set_placeholder_text (GTK_ENTRY (entry), _("Reason"));
  adw_message_dialog_set_extra_child (dialog, entry);
  adw_message_dialog_add_responses (dialog, "keep", _("_Back"), "reject", _("_Reject"), NULL);
  adw_message_dialog_set_response_appearance (dialog, "reject", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_response_enabled (dialog, "reject", FALSE);
  adw_message_dialog_set_close_response (dialog, "keep");
  adw_message_dialog_set_default_response (dialog, "reject");
  gtk_entry_set_activates_default (GTK_ENTRY (entry), TRUE);
  g_object_set_data (G_OBJECT (dialog), "wz-entry", entry);
  g_signal_connect (entry, "changed", G_CALLBACK (on_reason_changed), dialog);
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_reject_response), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
wz_review_queue_dispose (GObject *object)
{
  WzReviewQueue *self = WZ_REVIEW_QUEUE (object);
  GtkWidget *child;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->client);
  g_clear_pointer (&self->tasks, g_ptr_array_unref);
  g_clear_pointer (&self->reviews, g_ptr_array_unref);
  g_clear_pointer (&self->shown_task, g_free);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (wz_review_queue_parent_class)->dispose (object);
}

static void
wz_review_queue_class_init (WzReviewQueueClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = wz_review_queue_dispose;
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/wenzhen/Wenzhen/wz-review-queue.ui");
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_bind_template_child (widget_class, WzReviewQueue, stack);
  gtk_widget_class_bind_template_child (widget_class, WzReviewQueue, list);
  gtk_widget_class_bind_template_child (widget_class, WzReviewQueue, detail_stack);
  gtk_widget_class_bind_template_child (widget_class, WzReviewQueue, patient_label);
  gtk_widget_class_bind_template_child (widget_class, WzReviewQueue, meta_label);
  gtk_widget_class_bind_template_child (widget_class, WzReviewQueue, signature_icon);
  gtk_widget_class_bind_template_child (widget_class, WzReviewQueue, signature_label);
  gtk_widget_class_bind_template_child (widget_class, WzReviewQueue, lines_list);
  gtk_widget_class_bind_template_child (widget_class, WzReviewQueue, findings_box);
  gtk_widget_class_bind_template_child (widget_class, WzReviewQueue, findings_list);
  gtk_widget_class_bind_template_child (widget_class, WzReviewQueue, approve_button);
  gtk_widget_class_bind_template_child (widget_class, WzReviewQueue, reject_button);
  gtk_widget_class_bind_template_child (widget_class, WzReviewQueue, error_label);
  gtk_widget_class_bind_template_callback (widget_class, on_selected);
  gtk_widget_class_bind_template_callback (widget_class, on_approve_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_reject_clicked);
  gtk_widget_class_bind_template_callback (widget_class, wz_review_queue_refresh);
}

/* Reviews not loaded yet are NULL. */
static void
review_free (gpointer node)
{
  if (node != NULL)
    json_node_unref (node);
}

static void
wz_review_queue_init (WzReviewQueue *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->tasks = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  self->reviews = g_ptr_array_new_with_free_func (review_free);
}

GtkWidget *
wz_review_queue_new (void)
{
  return g_object_new (WZ_TYPE_REVIEW_QUEUE, NULL);
}

void
wz_review_queue_set_client (WzReviewQueue *self,
                            WzApiClient   *client)
{
  g_set_object (&self->client, client);
}
