/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-formulary-search"

#include "config.h"

#include "wz-formulary-search.h"

#include <glib/gi18n.h>

#include "wz-rx-line-row.h"
#include "wz-test-report.h"

#define RESULTS 8

struct _WzFormularySearch
{
  GtkWidget       parent_instance;

  WzApiClient    *client;
  GCancellable   *cancellable;
  GtkSearchEntry *entry;
  GtkPopover     *popover;
  GtkListBox     *list;
  GtkLabel       *empty_label;
  GPtrArray      *drugs;      /* JsonObject of the rows shown */
};

G_DEFINE_FINAL_TYPE (WzFormularySearch, wz_formulary_search, GTK_TYPE_WIDGET)

enum { SIGNAL_DRUG_CHOSEN, N_SIGNALS };
static guint signals[N_SIGNALS];

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

static void
choose (WzFormularySearch *self,
        guint              index)
{
  g_autoptr(JsonObject) drug = NULL;

  if (index >= self->drugs->len)
    return;
  drug = json_object_ref (g_ptr_array_index (self->drugs, index));
  gtk_popover_popdown (self->popover);
  gtk_editable_set_text (GTK_EDITABLE (self->entry), "");
  g_signal_emit (self, signals[SIGNAL_DRUG_CHOSEN], 0, drug);
}

static void
on_row_activated (WzFormularySearch *self,
                  GtkListBoxRow     *row)
{
  choose (self, (guint) gtk_list_box_row_get_index (row));
}

static GtkWidget *
result_row (JsonObject *drug)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *title;
  GtkWidget *subtitle;
  g_autofree char *title_text = NULL;
  g_autofree char *subtitle_text = NULL;
  const char *brand = string_of (drug, "brand_name_zh");
  JsonNode *strength = json_object_get_member (drug, "strength");

  title_text = wz_rx_prefers_chinese ()
               ? g_strdup_printf ("%s %s", string_of (drug, "generic_name_zh"),
                                  string_of (drug, "generic_name_en"))
               : g_strdup_printf ("%s %s", string_of (drug, "generic_name_en"),
                                  string_of (drug, "generic_name_zh"));
  subtitle_text = g_strdup_printf ("%g %s · %s%s%s · %s", strength ? json_node_get_double (strength) : 0,
                                   string_of (drug, "strength_unit"), string_of (drug, "form"),
                                   brand && *brand ? " · " : "", brand ? brand : "",
                                   string_of (drug, "atc_code"));
  title = gtk_label_new (title_text);
  subtitle = gtk_label_new (subtitle_text);
  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_label_set_xalign (GTK_LABEL (subtitle), 0);
  gtk_label_set_ellipsize (GTK_LABEL (title), PANGO_ELLIPSIZE_END);
  gtk_label_set_ellipsize (GTK_LABEL (subtitle), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (subtitle, "dim-label");
  gtk_widget_add_css_class (subtitle, "caption");
  gtk_box_append (GTK_BOX (box), title);
  gtk_box_append (GTK_BOX (box), subtitle);
  gtk_widget_set_margin_top (box, 6);
  gtk_widget_set_margin_bottom (box, 6);
  gtk_widget_set_margin_start (box, 6);
  gtk_widget_set_margin_end (box, 6);
  return box;
}

static void
on_results (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(WzFormularySearch) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = wz_api_client_get_json_finish (WZ_API_CLIENT (object), result, &error);
  JsonNode *drugs_node;
  JsonArray *drugs;
  GtkWidget *child;
  const char *query = gtk_editable_get_text (GTK_EDITABLE (self->entry));

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->list))) != NULL)
    gtk_list_box_remove (self->list, child);
  g_ptr_array_set_size (self->drugs, 0);

  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root) ||
      (drugs_node = json_object_get_member (json_node_get_object (root), "drugs")) == NULL ||
      !JSON_NODE_HOLDS_ARRAY (drugs_node))
    {
      gtk_label_set_text (self->empty_label, error ? error->message
                                                   : _("The formulary could not be searched."));
      gtk_widget_set_visible (GTK_WIDGET (self->empty_label), TRUE);
      gtk_popover_popup (self->popover);
      return;
    }

  drugs = json_node_get_array (drugs_node);
  for (guint i = 0; i < json_array_get_length (drugs); i++)
    {
      JsonObject *drug = json_array_get_object_element (drugs, i);

      g_ptr_array_add (self->drugs, json_object_ref (drug));
      gtk_list_box_append (self->list, result_row (drug));
    }
  gtk_label_set_text (self->empty_label, _("No product in the formulary matches."));
  gtk_widget_set_visible (GTK_WIDGET (self->empty_label), self->drugs->len == 0);
  gtk_popover_popup (self->popover);
  wz_test_report ("formulary-results query=%s n=%u first=%s", query, self->drugs->len,
                  self->drugs->len ? string_of (g_ptr_array_index (self->drugs, 0), "code") : "");
}

static void
on_search_changed (WzFormularySearch *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->entry));
  g_autofree char *escaped = NULL;
  g_autofree char *path = NULL;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (text[0] == '\0' || self->client == NULL)
    {
      gtk_popover_popdown (self->popover);
      return;
    }

  self->cancellable = g_cancellable_new ();
  escaped = g_uri_escape_string (text, NULL, FALSE);
  path = g_strdup_printf ("/formulary?q=%s&_count=%d", escaped, RESULTS);
  wz_api_client_get_json_async (self->client, path, self->cancellable, on_results,
                                g_object_ref (self));
}

/* The focus stays in the entry, so typing goes on refining; Up and Down move the highlight. */
static gboolean
on_entry_key (GtkEventControllerKey *controller,
              guint                  keyval,
              guint                  keycode,
              GdkModifierType        state,
              WzFormularySearch     *self)
{
  GtkListBoxRow *selected = gtk_list_box_get_selected_row (self->list);
  int index = selected ? gtk_list_box_row_get_index (selected) : -1;
  GtkListBoxRow *next = NULL;

  if (keyval == GDK_KEY_Down || keyval == GDK_KEY_KP_Down)
    next = gtk_list_box_get_row_at_index (self->list, index + 1);
  else if ((keyval == GDK_KEY_Up || keyval == GDK_KEY_KP_Up) && index > 0)
    next = gtk_list_box_get_row_at_index (self->list, index - 1);
  else
    return FALSE;

  if (next != NULL)
    {
      gtk_popover_popup (self->popover);
      gtk_list_box_select_row (self->list, next);
      wz_test_report ("formulary-highlight index=%d code=%s", gtk_list_box_row_get_index (next),
                      string_of (g_ptr_array_index (self->drugs, gtk_list_box_row_get_index (next)),
                                 "code"));
    }
  return TRUE;
}

static void
on_activate (WzFormularySearch *self)
{
  GtkListBoxRow *selected = gtk_list_box_get_selected_row (self->list);

  choose (self, selected ? (guint) gtk_list_box_row_get_index (selected) : 0);
}

static void
on_stop_search (WzFormularySearch *self)
{
  gtk_popover_popdown (self->popover);
}

static void
wz_formulary_search_dispose (GObject *object)
{
  WzFormularySearch *self = WZ_FORMULARY_SEARCH (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->client);
  g_clear_pointer (&self->drugs, g_ptr_array_unref);
  if (self->popover != NULL)
    {
      gtk_widget_unparent (GTK_WIDGET (self->popover));
      self->popover = NULL;
    }
  if (self->entry != NULL)
    {
      gtk_widget_unparent (GTK_WIDGET (self->entry));
      self->entry = NULL;
    }

  G_OBJECT_CLASS (wz_formulary_search_parent_class)->dispose (object);
}

static void
wz_formulary_search_size_allocate (GtkWidget *widget,
                                   int        width,
                                   int        height,
                                   int        baseline)
{
  WzFormularySearch *self = WZ_FORMULARY_SEARCH (widget);

  gtk_widget_size_allocate (GTK_WIDGET (self->entry), &(GtkAllocation) { 0, 0, width, height },
                            baseline);
  gtk_widget_set_size_request (GTK_WIDGET (self->popover), width, -1);
  gtk_popover_present (self->popover);
}

static void
wz_formulary_search_class_init (WzFormularySearchClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = wz_formulary_search_dispose;
  widget_class->size_allocate = wz_formulary_search_size_allocate;
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);

  signals[SIGNAL_DRUG_CHOSEN] = g_signal_new ("drug-chosen", G_TYPE_FROM_CLASS (klass),
                                              G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                              G_TYPE_NONE, 1, JSON_TYPE_OBJECT);
}

static void
wz_formulary_search_init (WzFormularySearch *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *scrolled = gtk_scrolled_window_new ();
  GtkEventController *keys = gtk_event_controller_key_new ();

  self->drugs = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  self->entry = GTK_SEARCH_ENTRY (gtk_search_entry_new ());
  gtk_search_entry_set_search_delay (self->entry, 120);
  g_object_set (self->entry, "placeholder-text",
                _("Add a drug: name, pinyin initials or ATC code"), NULL);
  gtk_widget_set_parent (GTK_WIDGET (self->entry), GTK_WIDGET (self));
  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);

  self->list = GTK_LIST_BOX (gtk_list_box_new ());
  gtk_list_box_set_selection_mode (self->list, GTK_SELECTION_SINGLE);
  gtk_widget_add_css_class (GTK_WIDGET (self->list), "navigation-sidebar");
  self->empty_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_widget_add_css_class (GTK_WIDGET (self->empty_label), "dim-label");
  gtk_widget_set_margin_top (GTK_WIDGET (self->empty_label), 12);
  gtk_widget_set_margin_bottom (GTK_WIDGET (self->empty_label), 12);
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (scrolled), TRUE);
  gtk_scrolled_window_set_max_content_height (GTK_SCROLLED_WINDOW (scrolled), 360);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), GTK_WIDGET (self->list));
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->empty_label));
  gtk_box_append (GTK_BOX (box), scrolled);

  self->popover = GTK_POPOVER (gtk_popover_new ());
  gtk_popover_set_child (self->popover, box);
  gtk_popover_set_autohide (self->popover, FALSE);
  gtk_popover_set_has_arrow (self->popover, FALSE);
  gtk_popover_set_position (self->popover, GTK_POS_BOTTOM);
  gtk_widget_set_halign (GTK_WIDGET (self->popover), GTK_ALIGN_START);
  gtk_widget_set_parent (GTK_WIDGET (self->popover), GTK_WIDGET (self));

  g_signal_connect_swapped (self->entry, "search-changed", G_CALLBACK (on_search_changed), self);
  g_signal_connect_swapped (self->entry, "activate", G_CALLBACK (on_activate), self);
  g_signal_connect_swapped (self->entry, "stop-search", G_CALLBACK (on_stop_search), self);
  g_signal_connect_swapped (self->list, "row-activated", G_CALLBACK (on_row_activated), self);
  g_signal_connect (keys, "key-pressed", G_CALLBACK (on_entry_key), self);
  gtk_widget_add_controller (GTK_WIDGET (self->entry), keys);
}

GtkWidget *
wz_formulary_search_new (void)
{
  return g_object_new (WZ_TYPE_FORMULARY_SEARCH, NULL);
}

void
wz_formulary_search_set_client (WzFormularySearch *self,
                                WzApiClient       *client)
{
  g_set_object (&self->client, client);
}

void
wz_formulary_search_focus (WzFormularySearch *self)
{
  gtk_widget_grab_focus (GTK_WIDGET (self->entry));
}
