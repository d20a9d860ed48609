/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-quick-replies-editor"

#include "config.h"

#include "wz-quick-replies-editor.h"

#include <glib/gi18n.h>

#include "wz-test-report.h"

struct _WzQuickRepliesEditor
{
  AdwWindow       parent_instance;

  GtkListBox     *list;
  AdwEntryRow    *new_row;

  WzQuickReplies *replies;
};

G_DEFINE_FINAL_TYPE (WzQuickRepliesEditor, wz_quick_replies_editor, ADW_TYPE_WINDOW)

static void
on_row_button (GtkButton            *button,
               WzQuickRepliesEditor *self)
{
  GtkWidget *row = gtk_widget_get_ancestor (GTK_WIDGET (button), GTK_TYPE_LIST_BOX_ROW);
  const char *what = g_object_get_data (G_OBJECT (button), "what");
  int position;

  if (row == NULL)
    return;

  position = gtk_list_box_row_get_index (GTK_LIST_BOX_ROW (row));
  if (position < 0)
    return;

  if (g_str_equal (what, "remove"))
    wz_quick_replies_remove (self->replies, (guint) position);
  else
    wz_quick_replies_move (self->replies, (guint) position, g_str_equal (what, "up") ? -1 : 1);
  wz_test_report ("quick-replies-edited %s position=%d n=%u", what, position,
                  g_list_model_get_n_items (G_LIST_MODEL (self->replies)));
}

static GtkWidget *
row_button (WzQuickRepliesEditor *self,
            const char           *icon,
            const char           *label,
            const char           *what,
            gboolean              sensitive)
{
  GtkWidget *button = gtk_button_new_from_icon_name (icon);

  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (button, label);
  gtk_widget_set_sensitive (button, sensitive);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  gtk_widget_add_css_class (button, "flat");
  g_object_set_data (G_OBJECT (button), "what", (gpointer) what);
  g_signal_connect (button, "clicked", G_CALLBACK (on_row_button), self);

  return button;
}

static GtkWidget *
create_row (gpointer item,
            gpointer user_data)
{
  WzQuickRepliesEditor *self = user_data;
  const char *phrase = gtk_string_object_get_string (GTK_STRING_OBJECT (item));
  GtkWidget *row = adw_action_row_new ();
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->replies));
  guint position = G_MAXUINT;
  g_autofree char *escaped = g_markup_escape_text (phrase, -1);

  for (guint i = 0; i < n && position == G_MAXUINT; i++)
    {
      g_autoptr(GtkStringObject) other = g_list_model_get_item (G_LIST_MODEL (self->replies), i);

      if (g_strcmp0 (gtk_string_object_get_string (other), phrase) == 0)
        position = i;
    }

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), escaped);
  adw_action_row_set_title_lines (ADW_ACTION_ROW (row), 0);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row),
                             row_button (self, "go-up-symbolic", _("Move Up"), "up", position > 0));
  adw_action_row_add_suffix (ADW_ACTION_ROW (row),
                             row_button (self, "go-down-symbolic", _("Move Down"), "down",
                                         position + 1 < n));
  adw_action_row_add_suffix (ADW_ACTION_ROW (row),
                             row_button (self, "user-trash-symbolic", _("Remove"), "remove", TRUE));

  return row;
}

static void
on_new_phrase_apply (WzQuickRepliesEditor *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->new_row));

  if (*text == '\0')
    return;

  wz_quick_replies_add (self->replies, text);
  wz_test_report ("quick-replies-edited add n=%u",
                  g_list_model_get_n_items (G_LIST_MODEL (self->replies)));
  gtk_editable_set_text (GTK_EDITABLE (self->new_row), "");
}

static void
action_reset (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  WzQuickRepliesEditor *self = WZ_QUICK_REPLIES_EDITOR (widget);

  wz_quick_replies_reset (self->replies);
}

static void
wz_quick_replies_editor_dispose (GObject *object)
{
  WzQuickRepliesEditor *self = WZ_QUICK_REPLIES_EDITOR (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), WZ_TYPE_QUICK_REPLIES_EDITOR);
  g_clear_object (&self->replies);

  G_OBJECT_CLASS (wz_quick_replies_editor_parent_class)->dispose (object);
}

static void
wz_quick_replies_editor_class_init (WzQuickRepliesEditorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = wz_quick_replies_editor_dispose;

  gtk_widget_class_install_action (widget_class, "quick-replies.reset", NULL, action_reset);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/wenzhen/Wenzhen/wz-quick-replies-editor.ui");
  gtk_widget_class_bind_template_child (widget_class, WzQuickRepliesEditor, list);
  gtk_widget_class_bind_template_child (widget_class, WzQuickRepliesEditor, new_row);
  gtk_widget_class_bind_template_callback (widget_class, on_new_phrase_apply);
}

static void
wz_quick_replies_editor_init (WzQuickRepliesEditor *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
wz_quick_replies_editor_new (GtkWindow      *parent,
                             WzQuickReplies *replies)
{
  WzQuickRepliesEditor *self;

  g_return_val_if_fail (WZ_IS_QUICK_REPLIES (replies), NULL);

  self = g_object_new (WZ_TYPE_QUICK_REPLIES_EDITOR, "transient-for", parent, NULL);
  self->replies = g_object_ref (replies);
  gtk_list_box_bind_model (self->list, G_LIST_MODEL (replies), create_row, self, NULL);

  return GTK_WIDGET (self);
}
