/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-rx-sign-dialog"

#include "config.h"

#include "wz-rx-sign-dialog.h"

#include <glib/gi18n.h>

#include "wz-error.h"
#include "wz-test-report.h"

struct _WzRxSignDialog
{
  AdwWindow             parent_instance;

  char                 *practitioner_id;
  char                 *key_path;
  gboolean              new_key;
  gboolean              busy;

  GtkButton            *sign_button;
  GtkSpinner           *spinner;
  GtkLabel             *summary_label;
  AdwPreferencesGroup  *override_group;
  AdwPasswordEntryRow  *passphrase_row;
  AdwPasswordEntryRow  *repeat_row;
  GtkLabel             *error_label;
  GPtrArray            *override_keys;    /* char* */
  GPtrArray            *override_entries; /* GtkEntry* */
};

G_DEFINE_FINAL_TYPE (WzRxSignDialog, wz_rx_sign_dialog, ADW_TYPE_WINDOW)

enum { SIGNAL_UNLOCKED, N_SIGNALS };
static guint signals[N_SIGNALS];

char *
wz_rx_signing_key_path (const char *practitioner_id)
{
  g_autofree char *name = g_strconcat (practitioner_id, ".key", NULL);

  return g_build_filename (g_get_user_data_dir (), "wenzhen", "keys", name, NULL);
}

static gboolean
is_blank (const char *text)
{
  for (; text != NULL && *text != '\0'; text = g_utf8_next_char (text))
    if (!g_unichar_isspace (g_utf8_get_char (text)))
      return FALSE;
  return TRUE;
}

static void
update_sensitive (WzRxSignDialog *self)
{
  gboolean ok = !self->busy;
  const char *passphrase = gtk_editable_get_text (GTK_EDITABLE (self->passphrase_row));

  for (guint i = 0; i < self->override_entries->len; i++)
    ok &= !is_blank (gtk_editable_get_text (g_ptr_array_index (self->override_entries, i)));
  ok &= passphrase[0] != '\0';
  if (self->new_key)
    ok &= g_utf8_strlen (passphrase, -1) >= 8 &&
          g_strcmp0 (passphrase, gtk_editable_get_text (GTK_EDITABLE (self->repeat_row))) == 0;
  gtk_widget_set_sensitive (GTK_WIDGET (self->sign_button), ok);
}

typedef struct
{
  char         *passphrase;
  char         *protected_key;   /* read from disk, or made */
  char         *path;
  gboolean      create;
} KeyJob;

static void
key_job_free (KeyJob *job)
{
  g_free (job->passphrase);
  g_free (job->protected_key);
  g_free (job->path);
  g_free (job);
}

static void
open_key_in_thread (GTask        *task,
                    gpointer      source_object,
                    gpointer      task_data,
                    GCancellable *cancellable)
{
  KeyJob *job = task_data;
  g_autoptr(GError) error = NULL;
  WzSigningKey *key;

  if (job->create)
    {
      g_autofree char *public_key = NULL;
      g_autofree char *dir = g_path_get_dirname (job->path);

      if (!wz_signing_key_generate (job->passphrase, &public_key, &job->protected_key, &error))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
      /* Only this user may read the key, even though the passphrase protects it. */
      if (g_mkdir_with_parents (dir, 0700) != 0 ||
          !g_file_set_contents_full (job->path, job->protected_key, -1,
                                     G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                     0600, &error))
        {
          g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED,
                                   _("Your signing key could not be saved: %s"),
                                   error ? error->message : dir);
          return;
        }
    }
  else if (!g_file_get_contents (job->path, &job->protected_key, NULL, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  g_strstrip (job->protected_key);
  if ((key = wz_signing_key_unlock (job->protected_key, job->passphrase, &error)) == NULL)
    {
      if (g_error_matches (error, WZ_ERROR, WZ_ERROR_UNAUTHORIZED))
        g_task_return_new_error (task, WZ_ERROR, WZ_ERROR_UNAUTHORIZED, "%s",
                                 _("The passphrase is not right. Type it again."));
      else
        g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_pointer (task, key, (GDestroyNotify) wz_signing_key_free);
}

static void
set_busy (WzRxSignDialog *self,
          gboolean        busy)
{
  self->busy = busy;
  gtk_spinner_set_spinning (self->spinner, busy);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), busy);
  update_sensitive (self);
}

static void
on_key_opened (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(WzRxSignDialog) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) overrides = NULL;
  WzSigningKey *key = g_task_propagate_pointer (G_TASK (result), &error);

  if (key == NULL)
    {
      set_busy (self, FALSE);
      wz_rx_sign_dialog_finish (self, error);
      return;
    }

  overrides = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (guint i = 0; i < self->override_keys->len; i++)
    g_hash_table_insert (overrides, g_strdup (g_ptr_array_index (self->override_keys, i)),
                         g_strstrip (g_strdup (gtk_editable_get_text (
                           g_ptr_array_index (self->override_entries, i)))));
  wz_test_report ("sign-key-open new=%d overrides=%u", self->new_key,
                  g_hash_table_size (overrides));
  /* The handler owns KEY from here. */
  g_signal_emit (self, signals[SIGNAL_UNLOCKED], 0, key, overrides, self->new_key);
}

static void
on_sign_clicked (WzRxSignDialog *self)
{
  g_autoptr(GTask) task = NULL;
  KeyJob *job = g_new0 (KeyJob, 1);

  if (self->busy)
    {
      key_job_free (job);
      return;
    }
  job->passphrase = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->passphrase_row)));
  job->path = g_strdup (self->key_path);
  job->create = self->new_key;
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), FALSE);
  set_busy (self, TRUE);

  /* argon2id takes a noticeable moment by design: off the main thread. */
  task = g_task_new (NULL, NULL, on_key_opened, g_object_ref (self));
  g_task_set_task_data (task, job, (GDestroyNotify) key_job_free);
  g_task_run_in_thread (task, open_key_in_thread);
}

/* Enter moves on to the next field, and signs from the last one when everything is filled. */
static void
on_last_activated (WzRxSignDialog *self)
{
  if (gtk_widget_get_sensitive (GTK_WIDGET (self->sign_button)))
    on_sign_clicked (self);
}

static void
on_passphrase_activated (WzRxSignDialog *self)
{
  if (self->new_key)
    gtk_widget_grab_focus (GTK_WIDGET (self->repeat_row));
  else
    on_last_activated (self);
}

static void
on_reason_activated (WzRxSignDialog *self,
                     GtkEntry       *entry)
{
  guint index = 0;

  g_ptr_array_find (self->override_entries, entry, &index);
  if (index + 1 < self->override_entries->len)
    gtk_widget_grab_focus (g_ptr_array_index (self->override_entries, index + 1));
  else
    gtk_widget_grab_focus (GTK_WIDGET (self->passphrase_row));
}

void
wz_rx_sign_dialog_finish (WzRxSignDialog *self,
                          const GError   *error)
{
  set_busy (self, FALSE);
  if (error == NULL)
    {
      gtk_window_destroy (GTK_WINDOW (self));
      return;
    }
  gtk_label_set_text (self->error_label, error->message);
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), TRUE);
  wz_test_report ("sign-error message=%s", error->message);
}

static void
wz_rx_sign_dialog_finalize (GObject *object)
{
  WzRxSignDialog *self = WZ_RX_SIGN_DIALOG (object);

  g_free (self->practitioner_id);
  g_free (self->key_path);
  g_ptr_array_unref (self->override_keys);
  g_ptr_array_unref (self->override_entries);

  G_OBJECT_CLASS (wz_rx_sign_dialog_parent_class)->finalize (object);
}

static void
wz_rx_sign_dialog_class_init (WzRxSignDialogClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = wz_rx_sign_dialog_finalize;

  signals[SIGNAL_UNLOCKED] = g_signal_new ("unlocked", G_TYPE_FROM_CLASS (klass),
                                           G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE,
                                           3, G_TYPE_POINTER, G_TYPE_HASH_TABLE, G_TYPE_BOOLEAN);
}

static void
wz_rx_sign_dialog_init (WzRxSignDialog *self)
{
  self->override_keys = g_ptr_array_new_with_free_func (g_free);
  self->override_entries = g_ptr_array_new ();
}

WzRxSignDialog *
wz_rx_sign_dialog_new (GtkWindow  *parent,
                       const char *practitioner_id,
                       const char *summary)
{
  WzRxSignDialog *self = g_object_new (WZ_TYPE_RX_SIGN_DIALOG, "modal", TRUE,
                                       "transient-for", parent, "default-width", 560,
                                       "default-height", 560,
                                       "title", _("Sign Prescription"), NULL);
  GtkWidget *toolbar = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *header = adw_header_bar_new ();
  GtkWidget *cancel = gtk_button_new_with_mnemonic (_("_Cancel"));
  GtkWidget *page = adw_preferences_page_new ();
  AdwPreferencesGroup *intro = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  AdwPreferencesGroup *key_group = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  GtkWidget *end = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);

  self->practitioner_id = g_strdup (practitioner_id);
  self->key_path = wz_rx_signing_key_path (practitioner_id);
  self->new_key = !g_file_test (self->key_path, G_FILE_TEST_EXISTS);

  adw_header_bar_set_show_end_title_buttons (ADW_HEADER_BAR (header), FALSE);
  adw_header_bar_set_show_start_title_buttons (ADW_HEADER_BAR (header), FALSE);
  g_signal_connect_swapped (cancel, "clicked", G_CALLBACK (gtk_window_destroy), self);
  adw_header_bar_pack_start (ADW_HEADER_BAR (header), cancel);
  self->sign_button = GTK_BUTTON (gtk_button_new_with_mnemonic (_("_Sign")));
  gtk_widget_add_css_class (GTK_WIDGET (self->sign_button), "suggested-action");
  g_signal_connect_swapped (self->sign_button, "clicked", G_CALLBACK (on_sign_clicked), self);
  self->spinner = GTK_SPINNER (gtk_spinner_new ());
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), FALSE);
  gtk_box_append (GTK_BOX (end), GTK_WIDGET (self->spinner));
  gtk_box_append (GTK_BOX (end), GTK_WIDGET (self->sign_button));
  adw_header_bar_pack_end (ADW_HEADER_BAR (header), end);
  gtk_box_append (GTK_BOX (toolbar), header);

  self->summary_label = GTK_LABEL (gtk_label_new (summary));
  gtk_label_set_wrap (self->summary_label, TRUE);
  gtk_label_set_xalign (self->summary_label, 0);
  adw_preferences_group_add (intro, GTK_WIDGET (self->summary_label));
  self->error_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_wrap (self->error_label, TRUE);
  gtk_label_set_xalign (self->error_label, 0);
  gtk_widget_add_css_class (GTK_WIDGET (self->error_label), "error");
  gtk_widget_set_margin_top (GTK_WIDGET (self->error_label), 12);
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), FALSE);
  adw_preferences_group_add (intro, GTK_WIDGET (self->error_label));
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), intro);

  self->override_group = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  adw_preferences_group_set_title (self->override_group, _("Reasons to Override"));
  adw_preferences_group_set_description (self->override_group,
                                         _("Say why this is right for the patient despite each finding. The reasons are recorded with the prescription and shown to the pharmacist."));
  gtk_widget_set_visible (GTK_WIDGET (self->override_group), FALSE);
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), self->override_group);

  adw_preferences_group_set_title (key_group, _("Your Signing Key"));
  adw_preferences_group_set_description (key_group, self->new_key
    ? _("This is your first signature on this computer. Choose a passphrase of at least 8 characters: it protects your personal signing key, which is kept on this computer and registered with the server.")
    : _("The passphrase unlocks your personal signing key on this computer."));
  self->passphrase_row = ADW_PASSWORD_ENTRY_ROW (adw_password_entry_row_new ());
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->passphrase_row),
                                 self->new_key ? _("New Passphrase") : _("Passphrase"));
  adw_preferences_group_add (key_group, GTK_WIDGET (self->passphrase_row));
  self->repeat_row = ADW_PASSWORD_ENTRY_ROW (adw_password_entry_row_new ());
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->repeat_row), _("Repeat Passphrase"));
  gtk_widget_set_visible (GTK_WIDGET (self->repeat_row), self->new_key);
  adw_preferences_group_add (key_group, GTK_WIDGET (self->repeat_row));
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), key_group);
  g_signal_connect_swapped (self->passphrase_row, "changed", G_CALLBACK (update_sensitive), self);
  g_signal_connect_swapped (self->repeat_row, "changed", G_CALLBACK (update_sensitive), self);
  g_signal_connect_swapped (self->passphrase_row, "entry-activated", G_CALLBACK (on_passphrase_activated), self);
  g_signal_connect_swapped (self->repeat_row, "entry-activated", G_CALLBACK (on_last_activated), self);
  adw_entry_row_set_activates_default (ADW_ENTRY_ROW (self->passphrase_row), FALSE);

  gtk_widget_set_vexpand (page, TRUE);
  gtk_box_append (GTK_BOX (toolbar), page);
  adw_window_set_content (ADW_WINDOW (self), toolbar);
  update_sensitive (self);
  gtk_window_set_focus (GTK_WINDOW (self), GTK_WIDGET (self->passphrase_row));
  wz_test_report ("sign-dialog new-key=%d", self->new_key);
  return self;
}

void
wz_rx_sign_dialog_add_override (WzRxSignDialog *self,
                                const char     *key,
                                const char     *severity,
                                const char     *text)
{
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 8);
  GtkWidget *label = gtk_label_new (text);
  GtkWidget *entry = gtk_entry_new ();

  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, g_strcmp0 (severity, "high") == 0 ? "error" : "warning");
  gtk_entry_set_placeholder_text (GTK_ENTRY (entry), _("Reason"));
  gtk_widget_set_margin_top (box, 12);
  gtk_widget_set_margin_bottom (box, 12);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_box_append (GTK_BOX (box), label);
  gtk_box_append (GTK_BOX (box), entry);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  adw_preferences_group_add (self->override_group, row);
  gtk_widget_set_visible (GTK_WIDGET (self->override_group), TRUE);
  g_ptr_array_add (self->override_keys, g_strdup (key));
  g_ptr_array_add (self->override_entries, entry);
  g_signal_connect_swapped (entry, "changed", G_CALLBACK (update_sensitive), self);
  g_signal_connect_swapped (entry, "activate", G_CALLBACK (on_reason_activated), self);
  update_sensitive (self);
  if (self->override_entries->len == 1)
    gtk_window_set_focus (GTK_WINDOW (self), entry);
}
