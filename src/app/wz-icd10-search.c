/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-icd10-search"

#include "config.h"

#include "wz-icd10-search.h"

#include <glib/gi18n.h>

#include "wz-test-report.h"

/* An entry that searches the ICD-10 list as the doctor types: results drop down below it,
 * Up/Down move through them while the typing goes on, Enter or a click picks one, Escape closes
 * the list. The focus never leaves the entry, so the keyboard alone is enough. */
struct _WzIcd10Search
{
  GtkWidget           parent_instance;

  GtkWidget          *entry;
  GtkWidget          *popover;
  GtkWidget          *list_view;
  GtkWidget          *results_page;
  GtkWidget          *empty_label;
  GtkWidget          *stack;
  int                 popover_width;

  WzIcd10Index       *index;
  GtkSingleSelection *selection;
  GListModel         *results;
};

G_DEFINE_FINAL_TYPE (WzIcd10Search, wz_icd10_search, GTK_TYPE_WIDGET)

enum {
  PICKED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

#define MAX_RESULTS 50

static void
pick (WzIcd10Search *self,
      guint          position)
{
  g_autoptr(WzIcd10Entry) entry = NULL;

  if (self->results == NULL || position >= g_list_model_get_n_items (self->results))
    return;

  entry = g_list_model_get_item (self->results, position);
  gtk_popover_popdown (GTK_POPOVER (self->popover));
  wz_test_report ("icd10-picked code=%s", wz_icd10_entry_get_code (entry));
  g_signal_emit (self, signals[PICKED], 0, entry);
  gtk_editable_set_text (GTK_EDITABLE (self->entry), "");
}

static void
run_search (WzIcd10Search *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->entry));
  g_autoptr(GListModel) results = NULL;
  guint n;

  if (self->index == NULL)
    return;

  results = wz_icd10_index_search (self->index, text, MAX_RESULTS);
  g_set_object (&self->results, results);
  gtk_single_selection_set_model (self->selection, results);
  n = g_list_model_get_n_items (results);

  if (*text == '\0')
    {
      gtk_popover_popdown (GTK_POPOVER (self->popover));
      return;
    }

  gtk_stack_set_visible_child (GTK_STACK (self->stack),
                               n > 0 ? self->results_page : self->empty_label);
  if (n > 0)
    {
      gtk_single_selection_set_selected (self->selection, 0);
      gtk_widget_activate_action (self->list_view, "list.scroll-to-item", "u", 0);
    }
  gtk_popover_popup (GTK_POPOVER (self->popover));

  if (n > 0)
    {
      g_autoptr(WzIcd10Entry) first = g_list_model_get_item (results, 0);

      wz_test_report ("icd10-results query=%s n=%u first=%s title=%s", text, n,
                      wz_icd10_entry_get_code (first), wz_icd10_entry_get_title_zh (first));
    }
  else
    wz_test_report ("icd10-results query=%s n=0", text);
}

static void
on_index_loaded (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(WzIcd10Search) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!wz_icd10_index_load_finish (WZ_ICD10_INDEX (object), result, &error))
    {
      gtk_widget_set_sensitive (self->entry, FALSE);
      gtk_entry_set_placeholder_text (GTK_ENTRY (self->entry),
                                      _("The ICD-10 code list could not be loaded"));
      gtk_widget_set_tooltip_text (self->entry, error->message);
      return;
    }

  if (gtk_widget_get_mapped (GTK_WIDGET (self))
      && *gtk_editable_get_text (GTK_EDITABLE (self->entry)) != '\0')
    run_search (self);
}

void
wz_icd10_search_set_index (WzIcd10Search *self,
                           WzIcd10Index  *index)
{
  g_return_if_fail (WZ_IS_ICD10_SEARCH (self));

  if (!g_set_object (&self->index, index) || index == NULL)
    return;

  wz_icd10_index_load_async (index, NULL, on_index_loaded, g_object_ref (self));
}

GtkEditable *
wz_icd10_search_get_entry (WzIcd10Search *self)
{
  g_return_val_if_fail (WZ_IS_ICD10_SEARCH (self), NULL);

  return GTK_EDITABLE (self->entry);
}

GListModel *
wz_icd10_search_get_results (WzIcd10Search *self)
{
  g_return_val_if_fail (WZ_IS_ICD10_SEARCH (self), NULL);

  return self->results;
}

static void
move_selection (WzIcd10Search *self,
                int            delta)
{
  guint n = self->results != NULL ? g_list_model_get_n_items (self->results) : 0;
  guint selected = gtk_single_selection_get_selected (self->selection);
  guint target;

  if (n == 0)
    return;

  if (!gtk_widget_get_visible (self->popover))
    {
      gtk_popover_popup (GTK_POPOVER (self->popover));
      return;
    }

  if (selected == GTK_INVALID_LIST_POSITION)
    target = delta > 0 ? 0 : n - 1;
  else if (delta < 0)
    target = selected == 0 ? 0 : selected - 1;
  else
    target = MIN (selected + 1, n - 1);

  gtk_single_selection_set_selected (self->selection, target);
  gtk_widget_activate_action (self->list_view, "list.scroll-to-item", "u", target);
}

static gboolean
on_key_pressed (GtkEventControllerKey *controller,
                guint                  keyval,
                guint                  keycode,
                GdkModifierType        state,
                WzIcd10Search         *self)
{
  gboolean open = gtk_widget_get_visible (self->popover);

  switch (keyval)
    {
    case GDK_KEY_Down:
    case GDK_KEY_KP_Down:
      move_selection (self, 1);
      return TRUE;
    case GDK_KEY_Up:
    case GDK_KEY_KP_Up:
      if (!open)
        return FALSE;
      move_selection (self, -1);
      return TRUE;
    case GDK_KEY_Return:
    case GDK_KEY_KP_Enter:
    case GDK_KEY_ISO_Enter:
      if (!open)
        return FALSE;
      pick (self, gtk_single_selection_get_selected (self->selection));
      return TRUE;
    case GDK_KEY_Escape:
      if (!open)
        return FALSE;
      gtk_popover_popdown (GTK_POPOVER (self->popover));
      return TRUE;
    default:
      return FALSE;
    }
}

static void
on_activate (GtkListView   *list_view,
             guint          position,
             WzIcd10Search *self)
{
  pick (self, position);
}

static void
setup_row (GtkSignalListItemFactory *factory,
           GtkListItem              *item,
           gpointer                  user_data)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *code = gtk_label_new (NULL);
  GtkWidget *title = gtk_label_new (NULL);

  gtk_widget_set_margin_top (box, 6);
  gtk_widget_set_margin_bottom (box, 6);
  gtk_widget_set_margin_start (box, 6);
  gtk_widget_set_margin_end (box, 6);
  gtk_label_set_xalign (GTK_LABEL (code), 0);
  gtk_label_set_width_chars (GTK_LABEL (code), 6);
  gtk_widget_add_css_class (code, "monospace");
  gtk_widget_add_css_class (code, "heading");
  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_label_set_ellipsize (GTK_LABEL (title), PANGO_ELLIPSIZE_END);
  gtk_widget_set_hexpand (title, TRUE);
  gtk_box_append (GTK_BOX (box), code);
  gtk_box_append (GTK_BOX (box), title);
  gtk_list_item_set_child (item, box);
}

static void
bind_row (GtkSignalListItemFactory *factory,
          GtkListItem              *item,
          gpointer                  user_data)
{
  WzIcd10Entry *entry = gtk_list_item_get_item (item);
  GtkWidget *box = gtk_list_item_get_child (item);
  GtkWidget *code = gtk_widget_get_first_child (box);
  GtkWidget *title = gtk_widget_get_next_sibling (code);
  g_autofree char *text = wz_icd10_entry_dup_title (entry);

  gtk_label_set_text (GTK_LABEL (code), wz_icd10_entry_get_code (entry));
  gtk_label_set_text (GTK_LABEL (title), text);
  gtk_widget_set_tooltip_text (title, text);
}

GtkWidget *
wz_icd10_search_new (void)
{
  return g_object_new (WZ_TYPE_ICD10_SEARCH, NULL);
}

static void
wz_icd10_search_size_allocate (GtkWidget *widget,
                               int        width,
                               int        height,
                               int        baseline)
{
  WzIcd10Search *self = WZ_ICD10_SEARCH (widget);

  gtk_widget_allocate (self->entry, width, height, baseline, NULL);
  if (self->popover_width != MAX (width, 240))
    {
      self->popover_width = MAX (width, 240);
      gtk_widget_set_size_request (self->popover, self->popover_width, -1);
    }
  gtk_popover_present (GTK_POPOVER (self->popover));
}

static void
wz_icd10_search_measure (GtkWidget      *widget,
                         GtkOrientation  orientation,
                         int             for_size,
                         int            *minimum,
                         int            *natural,
                         int            *minimum_baseline,
                         int            *natural_baseline)
{
  gtk_widget_measure (WZ_ICD10_SEARCH (widget)->entry, orientation, for_size, minimum, natural,
                      minimum_baseline, natural_baseline);
}

static gboolean
wz_icd10_search_grab_focus (GtkWidget *widget)
{
  return gtk_widget_grab_focus (WZ_ICD10_SEARCH (widget)->entry);
}

static void
wz_icd10_search_dispose (GObject *object)
{
  WzIcd10Search *self = WZ_ICD10_SEARCH (object);

  g_clear_pointer (&self->popover, gtk_widget_unparent);
  g_clear_pointer (&self->entry, gtk_widget_unparent);
  g_clear_object (&self->selection);
  g_clear_object (&self->results);
  g_clear_object (&self->index);

  G_OBJECT_CLASS (wz_icd10_search_parent_class)->dispose (object);
}

static void
wz_icd10_search_class_init (WzIcd10SearchClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = wz_icd10_search_dispose;
  widget_class->size_allocate = wz_icd10_search_size_allocate;
  widget_class->measure = wz_icd10_search_measure;
  widget_class->grab_focus = wz_icd10_search_grab_focus;

  /**
   * WzIcd10Search::picked:
   * @entry: the code the doctor chose
   */
  signals[PICKED] =
    g_signal_new ("picked", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, WZ_TYPE_ICD10_ENTRY);

  gtk_widget_class_set_css_name (widget_class, "icd10search");
}

static void
wz_icd10_search_init (WzIcd10Search *self)
{
  g_autoptr(GtkListItemFactory) factory = gtk_signal_list_item_factory_new ();
  GtkEventController *keys;
  GtkWidget *scrolled;

  self->entry = gtk_search_entry_new ();
  g_object_set (self->entry,
                "placeholder-text", _("Add a diagnosis: ICD-10 code or name"),
                "hexpand", TRUE,
                NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->entry),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Search ICD-10 diagnoses by code or name"),
                                  -1);
  gtk_widget_set_parent (self->entry, GTK_WIDGET (self));
  g_signal_connect_swapped (self->entry, "search-changed", G_CALLBACK (run_search), self);

  keys = gtk_event_controller_key_new ();
  gtk_event_controller_set_propagation_phase (keys, GTK_PHASE_CAPTURE);
  g_signal_connect (keys, "key-pressed", G_CALLBACK (on_key_pressed), self);
  gtk_widget_add_controller (self->entry, keys);

  self->selection = gtk_single_selection_new (NULL);
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  gtk_single_selection_set_can_unselect (self->selection, TRUE);

  g_signal_connect (factory, "setup", G_CALLBACK (setup_row), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_row), NULL);
  self->list_view = gtk_list_view_new (g_object_ref (GTK_SELECTION_MODEL (self->selection)),
                                       g_object_ref (factory));
  gtk_list_view_set_single_click_activate (GTK_LIST_VIEW (self->list_view), TRUE);
  gtk_widget_set_focusable (self->list_view, FALSE);
  gtk_widget_add_css_class (self->list_view, "navigation-sidebar");
  g_signal_connect (self->list_view, "activate", G_CALLBACK (on_activate), self);

  self->empty_label = gtk_label_new (_("No ICD-10 code matches. Try the code, an English or a Chinese name."));
  gtk_label_set_wrap (GTK_LABEL (self->empty_label), TRUE);
  gtk_widget_add_css_class (self->empty_label, "dim-label");
  gtk_widget_set_margin_top (self->empty_label, 12);
  gtk_widget_set_margin_bottom (self->empty_label, 12);

  scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (scrolled), TRUE);
  gtk_scrolled_window_set_max_content_height (GTK_SCROLLED_WINDOW (scrolled), 280);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), self->list_view);

  self->results_page = scrolled;
  self->stack = gtk_stack_new ();
  gtk_stack_set_vhomogeneous (GTK_STACK (self->stack), FALSE);
  gtk_stack_add_child (GTK_STACK (self->stack), scrolled);
  gtk_stack_add_child (GTK_STACK (self->stack), self->empty_label);

  self->popover = gtk_popover_new ();
  gtk_popover_set_autohide (GTK_POPOVER (self->popover), FALSE);
  gtk_popover_set_has_arrow (GTK_POPOVER (self->popover), FALSE);
  gtk_popover_set_position (GTK_POPOVER (self->popover), GTK_POS_BOTTOM);
  gtk_widget_set_halign (self->popover, GTK_ALIGN_START);
  gtk_popover_set_child (GTK_POPOVER (self->popover), self->stack);
  gtk_widget_set_parent (self->popover, GTK_WIDGET (self));
}
