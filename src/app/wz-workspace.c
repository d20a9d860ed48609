/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-workspace"

#include "config.h"

#include "wz-workspace.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "wz-allergy-badge.h"
#include "wz-chat-view.h"
#include "wz-followup-page.h"
#include "wz-followup-worklist.h"
#include "wz-call-page.h"
#include "wz-queue-filter.h"
#include "wz-queue-model.h"
#include "wz-queue-row.h"
#include "wz-queue-view.h"
#include "wz-realtime.h"
#include "wz-record-view.h"
#include "wz-review-queue.h"
#include "wz-rx-editor.h"
#include "wz-test-report.h"

/* What a signed-in doctor works in: the patient queue on the left, the consultation (chat, call,
 * prescription, follow-up) on the right, folding into one column on a narrow window. Built only
 * at the first sign-in, so the sign-in window appears without paying for it. */
struct _WzWorkspace
{
  GtkWidget             parent_instance;

  AdwLeaflet           *leaflet;
  AdwWindowTitle       *doctor_title;
  GtkMenuButton        *status_button;
  GtkRevealer          *offline_revealer;
  GtkSpinner           *offline_spinner;
  GtkSearchEntry       *search_entry;
  GtkMenuButton        *filter_button;
  GtkLabel             *filter_label;
  GtkLabel             *filter_count;
  GtkStack             *queue_stack;
  AdwStatusPage        *queue_error_page;
  GtkListView          *patient_list;
  AdwViewSwitcherTitle *switcher_title;
  GtkRevealer          *patient_banner;
  AdwAvatar            *patient_avatar;
  GtkLabel             *patient_name_label;
  GtkLabel             *patient_details_label;
  AdwViewStack         *view_stack;
  WzRecordView         *record_view;
  WzAllergyBadge       *banner_allergies;
  WzChatView           *chat_view;
  WzCallPage           *call_page;
  GtkRevealer          *call_banner;
  GtkLabel             *call_banner_label;
  GtkButton            *call_banner_button;
  GtkWidget            *sidebar_box;
  GtkWidget            *sidebar_separator;
  GtkWidget            *content_header;
  GtkWidget            *switcher_bar;
  WzRxEditor           *rx_editor;
  AdwViewStackPage     *review_page;
  WzReviewQueue        *review_queue;
  WzFollowupPage       *followup_page;
  GtkStack             *sidebar_stack;
  GtkWidget            *sidebar_switcher;
  WzFollowupWorklist   *followup_worklist;

  WzApiClient          *client;
  GSettings            *settings;
  WzRealtime           *realtime;
  WzQueueModel         *queue;
  GtkCustomSorter      *sorter;
  WzQueueFilter        *filter;
  WzQueueView          *filtered;
  GtkSingleSelection   *selection;
  GMenu                *filter_menu;
  char                 *status;
  char                 *queue_status;
  char                 *queue_sort;
  gboolean              queue_loaded_once;
  gboolean              watching_window;
};

G_DEFINE_FINAL_TYPE (WzWorkspace, wz_workspace, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_CLIENT,
  PROP_STATUS,
  PROP_QUEUE_STATUS,
  PROP_QUEUE_SORT,
  N_PROPS
};

enum {
  SESSION_ENDED,
  TOAST,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];


static gboolean
is_settled (GtkWidget *widget)
{
  WzWorkspace *self = WZ_WORKSPACE (widget);

  return !gtk_stack_get_transition_running (self->queue_stack)
    && gtk_revealer_get_child_revealed (self->offline_revealer)
       == gtk_revealer_get_reveal_child (self->offline_revealer)
    && !adw_leaflet_get_child_transition_running (self->leaflet)
    && gtk_revealer_get_child_revealed (self->patient_banner)
       == gtk_revealer_get_reveal_child (self->patient_banner)
    && gtk_revealer_get_child_revealed (self->call_banner)
       == gtk_revealer_get_reveal_child (self->call_banner);
}

/* ---------------------------------------------------------------------------------------- */
/* Consultation pages */

static void
update_consultation_pages (WzWorkspace *self,
                           WzQueueItem *patient)
{
  const char *name;

  if (patient == NULL)
    {
      adw_view_switcher_title_set_title (self->switcher_title, _("No Patient Selected"));
      adw_view_switcher_title_set_subtitle (self->switcher_title, "");
      gtk_revealer_set_reveal_child (self->patient_banner, FALSE);
      return;
    }

  /* Who the consultation is about stays in view on every page: the banner when the window is
   * wide, the header title when it is narrow and the view switcher moves to the bottom. */
  name = wz_queue_item_get_name (patient);
  adw_view_switcher_title_set_title (self->switcher_title, name);
  adw_view_switcher_title_set_subtitle (self->switcher_title,
                                        wz_queue_item_get_details (patient));
  adw_avatar_set_text (self->patient_avatar, name);
  gtk_label_set_text (self->patient_name_label, name);
  gtk_label_set_text (self->patient_details_label, wz_queue_item_get_details (patient));
  gtk_revealer_set_reveal_child (self->patient_banner, TRUE);
}

static void
on_chat_toast (WzWorkspace *self,
               const char  *message)
{
  g_signal_emit (self, signals[TOAST], 0, message);
}

static void
on_selected_patient_changed (WzWorkspace *self)
{
  WzQueueItem *patient = gtk_single_selection_get_selected_item (self->selection);

  update_consultation_pages (self, patient);
  wz_call_page_set_item (self->call_page, patient);
  wz_chat_view_show (self->chat_view,
                     patient != NULL ? wz_queue_item_get_patient_id (patient) : NULL,
                     patient != NULL ? wz_queue_item_get_encounter_id (patient) : NULL,
                     patient != NULL ? wz_queue_item_get_name (patient) : NULL);
  wz_record_view_show (self->record_view,
                       patient != NULL ? wz_queue_item_get_patient_id (patient) : NULL,
                       patient != NULL ? wz_queue_item_get_encounter_id (patient) : NULL);
  wz_rx_editor_show (self->rx_editor,
                     patient != NULL ? wz_queue_item_get_patient_id (patient) : NULL,
                     patient != NULL ? wz_queue_item_get_encounter_id (patient) : NULL);
  wz_followup_page_show (self->followup_page,
                         patient != NULL ? wz_queue_item_get_patient_id (patient) : NULL);

  if (patient == NULL)
    return;

  wz_test_report_when_settled (GTK_WIDGET (self), is_settled,
                               "state=patient-shown id=%s encounter=%s name=%s",
                               wz_queue_item_get_patient_id (patient),
                               wz_queue_item_get_encounter_id (patient),
                               wz_queue_item_get_name (patient));
}

/* ---------------------------------------------------------------------------------------- */
/* Video call */

/* While a call runs and the doctor is on another page, a banner leads back to it. */
static void
on_call_banner_changed (WzWorkspace *self)
{
  gboolean show;
  const char *summary;

  /* The view stack announces its first page while the template is still being built. */
  if (self->call_page == NULL || self->call_banner == NULL)
    return;

  show = wz_call_page_get_active (self->call_page)
         && g_strcmp0 (adw_view_stack_get_visible_child_name (self->view_stack), "call") != 0;
  summary = wz_call_page_get_summary (self->call_page);

  gtk_label_set_text (self->call_banner_label, summary != NULL ? summary : "");
  gtk_button_set_label (self->call_banner_button,
                        wz_call_page_get_ringing (self->call_page) ? _("_Answer…") : _("_Return to Call"));
  if (gtk_revealer_get_reveal_child (self->call_banner) != show)
    {
      gtk_revealer_set_reveal_child (self->call_banner, show);
      wz_test_report_when_settled (GTK_WIDGET (self), is_settled, "call-banner=%s summary=%s",
                                   show ? "shown" : "hidden", summary != NULL ? summary : "");
    }
}

/* A call in full screen shows only the call: no queue, header, patient banner or switcher. */
static void
on_call_fullscreen_changed (WzWorkspace *self)
{
  gboolean chrome;

  if (self->call_page == NULL || self->sidebar_box == NULL)
    return;

  chrome = !wz_call_page_get_fullscreen (self->call_page);
  gtk_widget_set_visible (self->sidebar_box, chrome);
  gtk_widget_set_visible (self->sidebar_separator, chrome);
  gtk_widget_set_visible (self->content_header, chrome);
  gtk_widget_set_visible (GTK_WIDGET (self->patient_banner), chrome);
  gtk_widget_set_visible (self->switcher_bar, chrome);
}

static void
on_call_show_encounter (WzWorkspace *self,
                        const char  *encounter_id)
{
  wz_workspace_show_encounter (self, encounter_id);
  wz_workspace_show_view (self, "call");
}

/* On a narrow window the queue and the consultation share the screen. A click or Enter on a
 * patient moves on to the consultation; arrow keys only move through the queue. */
static void
show_consultation (WzWorkspace *self)
{
  if (gtk_single_selection_get_selected_item (self->selection) != NULL)
    adw_leaflet_set_visible_child_name (self->leaflet, "content");
}

static void
on_patient_activated (WzWorkspace *self,
                      guint        position)
{
  gtk_single_selection_set_selected (self->selection, position);
  show_consultation (self);
}

static gboolean
show_consultation_after_click (gpointer user_data)
{
  show_consultation (WZ_WORKSPACE (user_data));

  return G_SOURCE_REMOVE;
}

static void
on_queue_clicked (GtkGestureClick *gesture,
                  int              n_press,
                  double           x,
                  double           y,
                  WzWorkspace     *self)
{
  /* The list selects the row after this handler; look once it has. */
  if (adw_leaflet_get_folded (self->leaflet))
    g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, show_consultation_after_click,
                     g_object_ref (self), g_object_unref);
}

/* ---------------------------------------------------------------------------------------- */
/* Patient queue */

static const struct
{
  WzQueueStatus  status;
  const char    *id;
} queue_filters[] = {
  { WZ_QUEUE_STATUS_ALL, "all" },
  { WZ_QUEUE_STATUS_WAITING, "waiting" },
  { WZ_QUEUE_STATUS_IN_CONSULTATION, "in-consultation" },
  { WZ_QUEUE_STATUS_AWAITING_PHARMACIST, "awaiting-pharmacist" },
  { WZ_QUEUE_STATUS_FINISHED, "finished" },
};

static WzQueueStatus
queue_status_from_id (const char *id)
{
  for (guint i = 0; i < G_N_ELEMENTS (queue_filters); i++)
    if (g_strcmp0 (queue_filters[i].id, id) == 0)
      return queue_filters[i].status;

  return WZ_QUEUE_STATUS_ALL;
}

static const char *
queue_status_id (WzQueueStatus status)
{
  for (guint i = 0; i < G_N_ELEMENTS (queue_filters); i++)
    if (queue_filters[i].status == status)
      return queue_filters[i].id;

  return "all";
}

static void
update_queue_page (WzWorkspace *self)
{
  guint total = g_list_model_get_n_items (G_LIST_MODEL (self->queue));
  guint shown = g_list_model_get_n_items (G_LIST_MODEL (self->filtered));
  g_autoptr(WzQueueItem) first = NULL;
  const char *page;

  if (!self->queue_loaded_once)
    return;

  if (total == 0)
    page = "empty";
  else if (shown == 0)
    page = "no-results";
  else
    page = "list";

  if (g_strcmp0 (gtk_stack_get_visible_child_name (self->queue_stack), page) != 0)
    gtk_stack_set_visible_child_name (self->queue_stack, page);

  if (!wz_test_report_enabled ())
    return;
  if (shown > 0)
    first = g_list_model_get_item (G_LIST_MODEL (self->filtered), 0);
  wz_test_report ("queue=%s shown=%u waiting=%u in-consultation=%u awaiting-pharmacist=%u "
                  "finished=%u all=%u filter=%s search=%s first=%s",
                  page, shown,
                  wz_queue_model_get_count (self->queue, WZ_QUEUE_STATUS_WAITING),
                  wz_queue_model_get_count (self->queue, WZ_QUEUE_STATUS_IN_CONSULTATION),
                  wz_queue_model_get_count (self->queue, WZ_QUEUE_STATUS_AWAITING_PHARMACIST),
                  wz_queue_model_get_count (self->queue, WZ_QUEUE_STATUS_FINISHED),
                  total, self->queue_status,
                  gtk_editable_get_text (GTK_EDITABLE (self->search_entry)),
                  first != NULL ? wz_queue_item_get_name (first) : "");
}

/* The status menu lists every status with how many of today's patients are in it; the button
 * shows the one chosen. */
static void
update_filter_menu (WzWorkspace *self)
{
  WzQueueStatus current = queue_status_from_id (self->queue_status);
  g_autofree char *count = NULL;
  g_autofree char *tooltip = NULL;

  g_menu_remove_all (self->filter_menu);
  for (guint i = 0; i < G_N_ELEMENTS (queue_filters); i++)
    {
      g_autoptr(GMenuItem) item = NULL;
      g_autofree char *label = NULL;

      /* Translators: an entry of the queue's status menu, e.g. “Waiting (3)” */
      label = g_strdup_printf (_("%s (%u)"), wz_queue_status_label (queue_filters[i].status),
                               wz_queue_model_get_count (self->queue, queue_filters[i].status));
      item = g_menu_item_new (label, NULL);
      g_menu_item_set_action_and_target (item, "workspace.queue-status", "s", queue_filters[i].id);
      g_menu_append_item (self->filter_menu, item);
    }

  count = g_strdup_printf ("%u", wz_queue_model_get_count (self->queue, current));
  gtk_label_set_text (self->filter_label, wz_queue_status_label (current));
  gtk_label_set_text (self->filter_count, count);

  /* Translators: tooltip and accessible name of the queue's status menu, e.g. “Showing: Waiting (3)” */
  tooltip = g_strdup_printf (_("Showing: %s (%s)"), wz_queue_status_label (current), count);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->filter_button), tooltip);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->filter_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, tooltip,
                                  -1);
}

static void
on_queue_counts_changed (WzWorkspace *self)
{
  update_filter_menu (self);
}

static void
on_filtered_items_changed (WzWorkspace *self)
{
  update_queue_page (self);
}

static void
wz_workspace_set_queue_status (WzWorkspace *self,
                               const char  *id)
{
  WzQueueStatus status = queue_status_from_id (id);

  if (g_strcmp0 (self->queue_status, queue_status_id (status)) == 0)
    return;

  g_free (self->queue_status);
  self->queue_status = g_strdup (queue_status_id (status));
  wz_queue_filter_set_status (self->filter, status);
  update_filter_menu (self);
  update_queue_page (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_QUEUE_STATUS]);
}

static void
wz_workspace_set_queue_sort (WzWorkspace *self,
                             const char  *sort)
{
  const char *id = g_strcmp0 (sort, "urgency") == 0 ? "urgency" : "arrival";

  if (g_strcmp0 (self->queue_sort, id) == 0)
    return;

  g_free (self->queue_sort);
  self->queue_sort = g_strdup (id);
  gtk_custom_sorter_set_sort_func (self->sorter,
                                   g_str_equal (id, "urgency") ? wz_queue_item_compare_urgency
                                                               : wz_queue_item_compare_arrival,
                                   NULL, NULL);
  wz_test_report ("queue-sort=%s", id);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_QUEUE_SORT]);
}

static void
on_search_changed (WzWorkspace *self)
{
  wz_queue_filter_set_search (self->filter,
                              gtk_editable_get_text (GTK_EDITABLE (self->search_entry)));
  update_queue_page (self);
}

static void
on_stop_search (WzWorkspace *self)
{
  gtk_editable_set_text (GTK_EDITABLE (self->search_entry), "");
}

static void
select_position (WzWorkspace *self,
                 guint        position)
{
  gtk_single_selection_set_selected (self->selection, position);
  gtk_widget_activate_action (GTK_WIDGET (self->patient_list), "list.scroll-to-item", "u", position);
}

/* Enter in the search opens the chosen patient, or the first match when none is chosen yet. */
static void
on_search_activate (WzWorkspace *self)
{
  guint selected = gtk_single_selection_get_selected (self->selection);

  if (selected == GTK_INVALID_LIST_POSITION)
    {
      if (g_list_model_get_n_items (G_LIST_MODEL (self->filtered)) == 0)
        return;
      select_position (self, 0);
    }

  adw_leaflet_set_visible_child_name (self->leaflet, "content");
}

/* Up and Down in the search move through the matches without leaving the search. */
static gboolean
on_search_key_pressed (GtkEventControllerKey *controller,
                       guint                  keyval,
                       guint                  keycode,
                       GdkModifierType        state,
                       WzWorkspace           *self)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->filtered));
  guint selected = gtk_single_selection_get_selected (self->selection);

  if ((state & (GDK_CONTROL_MASK | GDK_ALT_MASK | GDK_SHIFT_MASK)) != 0 || n == 0)
    return GDK_EVENT_PROPAGATE;

  if (keyval == GDK_KEY_Down || keyval == GDK_KEY_KP_Down)
    {
      select_position (self, selected == GTK_INVALID_LIST_POSITION ? 0 : MIN (selected + 1, n - 1));
      return GDK_EVENT_STOP;
    }
  if (keyval == GDK_KEY_Up || keyval == GDK_KEY_KP_Up)
    {
      select_position (self, selected == GTK_INVALID_LIST_POSITION || selected == 0 ? 0 : selected - 1);
      return GDK_EVENT_STOP;
    }

  return GDK_EVENT_PROPAGATE;
}

static guint
filtered_position_of (WzWorkspace *self,
                      WzQueueItem *item)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->filtered));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(WzQueueItem) shown = g_list_model_get_item (G_LIST_MODEL (self->filtered), i);

      if (shown == item)
        return i;
    }

  return GTK_INVALID_LIST_POSITION;
}

/**
 * wz_workspace_show_encounter:
 * @encounter_id: a visit in today's queue
 *
 * Brings the window forward with the visit's patient selected, widening the filter if the
 * patient was filtered out. For the notification's default action.
 */
void
wz_workspace_show_encounter (WzWorkspace *self,
                             const char  *encounter_id)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  WzQueueItem *item;
  guint position;

  g_return_if_fail (WZ_IS_WORKSPACE (self));

  if (GTK_IS_WINDOW (root))
    gtk_window_present (GTK_WINDOW (root));

  item = wz_queue_model_find (self->queue, encounter_id, NULL);
  if (item == NULL)
    return;

  position = filtered_position_of (self, item);
  if (position == GTK_INVALID_LIST_POSITION)
    {
      gtk_editable_set_text (GTK_EDITABLE (self->search_entry), "");
      wz_workspace_set_queue_status (self, "all");
      position = filtered_position_of (self, item);
    }
  if (position == GTK_INVALID_LIST_POSITION)
    return;

  select_position (self, position);
  show_consultation (self);
}

static void
on_record_open_patient (WzWorkspace *self,
                        const char  *patient_id,
                        const char  *encounter_id)
{
  wz_workspace_show_encounter (self, encounter_id);
}

static void
on_show_patient_action (GSimpleAction *action,
                        GVariant      *parameter,
                        WzWorkspace   *self)
{
  wz_workspace_show_encounter (self, g_variant_get_string (parameter, NULL));
}

/* The notification's default action lives on the application, where the desktop sends it. */
static void
ensure_show_patient_action (WzWorkspace *self,
                            GApplication *app)
{
  g_autoptr(GSimpleAction) action = NULL;

  if (g_action_map_lookup_action (G_ACTION_MAP (app), "show-patient") != NULL)
    return;

  action = g_simple_action_new ("show-patient", G_VARIANT_TYPE_STRING);
  g_signal_connect_object (action, "activate", G_CALLBACK (on_show_patient_action), self, 0);
  g_action_map_add_action (G_ACTION_MAP (app), G_ACTION (action));
}

static void
notify_new_patient (WzWorkspace *self,
                    WzQueueItem *item)
{
  g_autoptr(GNotification) notification = NULL;
  g_autofree char *body = NULL;
  g_autofree char *id = NULL;
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GApplication *app;

  if (!GTK_IS_WINDOW (root) || gtk_window_is_active (GTK_WINDOW (root)))
    return;
  if (!g_settings_get_boolean (self->settings, "notify-new-patient"))
    return;
  app = G_APPLICATION (gtk_window_get_application (GTK_WINDOW (root)));
  if (app == NULL)
    return;

  ensure_show_patient_action (self, app);

  if (wz_queue_item_get_urgency (item) == 1)
    /* Translators: notification body for a red-flag patient; %s is the patient's name */
    body = g_strdup_printf (_("%s joined your queue with a red flag. See them now."),
                            wz_queue_item_get_name (item));
  else
    /* Translators: notification body; %s is the patient's name */
    body = g_strdup_printf (_("%s joined your queue."), wz_queue_item_get_name (item));

  notification = g_notification_new (_("New Patient Waiting"));
  g_notification_set_body (notification, body);
  g_notification_set_priority (notification, wz_queue_item_get_urgency (item) == 1
                                             ? G_NOTIFICATION_PRIORITY_URGENT
                                             : G_NOTIFICATION_PRIORITY_HIGH);
  g_notification_set_default_action_and_target (notification, "app.show-patient", "s",
                                                wz_queue_item_get_encounter_id (item));
  id = g_strconcat ("new-patient-", wz_queue_item_get_encounter_id (item), NULL);
  g_application_send_notification (app, id, notification);
  wz_test_report ("notification=new-patient encounter=%s", wz_queue_item_get_encounter_id (item));
}

static void
on_queue_item_added (WzWorkspace  *self,
                     WzQueueItem  *item,
                     WzQueueModel *queue)
{
  guint position = filtered_position_of (self, item);

  wz_test_report_when_settled (GTK_WIDGET (self), is_settled,
                               "queue-added encounter=%s patient=%s name=%s status=%s "
                               "position=%d shown=%u",
                               wz_queue_item_get_encounter_id (item),
                               wz_queue_item_get_patient_id (item),
                               wz_queue_item_get_name (item),
                               queue_status_id (wz_queue_item_get_status (item)),
                               position == GTK_INVALID_LIST_POSITION ? -1 : (int) position,
                               g_list_model_get_n_items (G_LIST_MODEL (self->filtered)));
  notify_new_patient (self, item);
}

static void
on_queue_load_finished (WzWorkspace  *self,
                        GError       *error,
                        WzQueueModel *queue)
{
  gboolean first_load = !self->queue_loaded_once;

  if (error != NULL)
    {
      if (g_error_matches (error, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_SESSION_ENDED))
        {
          g_signal_emit (self, signals[SESSION_ENDED], 0, error);
          return;
        }

      wz_test_report ("queue-error=%s message=%s", wz_client_error_nick (error), error->message);
      if (self->queue_loaded_once)
        g_signal_emit (self, signals[TOAST], 0, error->message);
      else
        {
          adw_status_page_set_description (self->queue_error_page, error->message);
          gtk_stack_set_visible_child_name (self->queue_stack, "error");
        }
      return;
    }

  self->queue_loaded_once = TRUE;
  update_queue_page (self);

  if (first_load)
    {
      GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

      wz_test_report_when_settled (GTK_WIDGET (self), is_settled,
                                   "state=workspace-shown patients=%u title=%s",
                                   g_list_model_get_n_items (G_LIST_MODEL (self->filtered)),
                                   GTK_IS_WINDOW (root) ? gtk_window_get_title (GTK_WINDOW (root)) : "");
    }
}

static void
on_queue_error (WzWorkspace  *self,
                GError       *error,
                WzQueueModel *queue)
{
  if (g_error_matches (error, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_SESSION_ENDED))
    g_signal_emit (self, signals[SESSION_ENDED], 0, error);
}

void
wz_workspace_refresh (WzWorkspace *self)
{
  g_return_if_fail (WZ_IS_WORKSPACE (self));

  if (wz_api_client_get_session (self->client) == NULL)
    return;

  if (!self->queue_loaded_once)
    gtk_stack_set_visible_child_name (self->queue_stack, "loading");
  wz_queue_model_reload (self->queue);
}

/* Whether a new patient is announced on the desktop depends on this; tests follow it. */
static void
on_window_active_changed (WzWorkspace *self,
                          GParamSpec  *pspec,
                          GtkWindow   *window)
{
  wz_test_report ("window-active=%s", gtk_window_is_active (window) ? "yes" : "no");
}

/* ---------------------------------------------------------------------------------------- */
/* Follow-up worklist */

static void
on_sidebar_view_changed (WzWorkspace *self)
{
  const char *name = gtk_stack_get_visible_child_name (self->sidebar_stack);

  wz_test_report_when_settled (GTK_WIDGET (self), is_settled, "sidebar=%s", name ? name : "");
}

static void
action_sidebar_view (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  WzWorkspace *self = WZ_WORKSPACE (widget);
  const char *name = g_variant_get_string (parameter, NULL);

  if (!gtk_widget_get_visible (self->sidebar_switcher) ||
      gtk_stack_get_child_by_name (self->sidebar_stack, name) == NULL)
    return;
  gtk_stack_set_visible_child_name (self->sidebar_stack, name);
  adw_leaflet_set_visible_child_name (self->leaflet, "sidebar");
  if (g_str_equal (name, "queue"))
    gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
  else
    gtk_widget_child_focus (GTK_WIDGET (self->followup_worklist), GTK_DIR_TAB_FORWARD);
}

/* A worklist patient may have no visit today: their record and follow-up open without one. */
static void
on_worklist_open_patient (WzWorkspace *self,
                          const char  *patient_id,
                          const char  *name)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->queue));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(WzQueueItem) item = g_list_model_get_item (G_LIST_MODEL (self->queue), i);

      if (g_strcmp0 (wz_queue_item_get_patient_id (item), patient_id) == 0)
        {
          wz_workspace_show_encounter (self, wz_queue_item_get_encounter_id (item));
          adw_view_stack_set_visible_child_name (self->view_stack, "follow-up");
          return;
        }
    }

  gtk_single_selection_set_selected (self->selection, GTK_INVALID_LIST_POSITION);
  adw_view_switcher_title_set_title (self->switcher_title, name);
  adw_view_switcher_title_set_subtitle (self->switcher_title, _("No visit today"));
  adw_avatar_set_text (self->patient_avatar, name);
  gtk_label_set_text (self->patient_name_label, name);
  /* Translators: under a patient opened from the follow-up worklist */
  gtk_label_set_text (self->patient_details_label, _("No visit today"));
  gtk_revealer_set_reveal_child (self->patient_banner, TRUE);
  wz_record_view_show (self->record_view, patient_id, NULL);
  wz_followup_page_show (self->followup_page, patient_id);
  adw_view_stack_set_visible_child_name (self->view_stack, "follow-up");
  adw_leaflet_set_visible_child_name (self->leaflet, "content");
  wz_test_report ("followup-open patient=%s name=%s", patient_id, name);
}

static void
on_worklist_toast (WzWorkspace *self,
                   const char  *message)
{
  g_signal_emit (self, signals[TOAST], 0, message);
}

static void
on_followup_patient_action (GSimpleAction *action,
                            GVariant      *parameter,
                            WzWorkspace   *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (GTK_IS_WINDOW (root))
    gtk_window_present (GTK_WINDOW (root));
  on_worklist_open_patient (self, g_variant_get_string (parameter, NULL), "");
}

/* ---------------------------------------------------------------------------------------- */
/* Realtime */

static void
on_realtime_resource (WzWorkspace *self,
                      const char  *resource_type,
                      const char  *id,
                      const char  *version_id,
                      const char  *patient,
                      const char  *encounter,
                      WzRealtime  *realtime)
{
  wz_queue_model_handle_event (self->queue, resource_type, id, version_id, patient, encounter);
  wz_followup_worklist_handle_event (self->followup_worklist, resource_type);
  wz_followup_page_handle_event (self->followup_page, resource_type, patient);
}

/* Every hello may follow a gap (the first one too: the queue may have been read before the
 * connection was up), so each is followed by a catch-up. */
static void
on_realtime_connected (WzWorkspace *self,
                       gboolean     again,
                       WzRealtime  *realtime)
{
  wz_queue_model_catch_up (self->queue);
  if (again)
    wz_followup_worklist_refresh (self->followup_worklist);
}

static void
on_realtime_offline_changed (WzWorkspace *self)
{
  gboolean offline = wz_realtime_get_offline (self->realtime);

  gtk_revealer_set_reveal_child (self->offline_revealer, offline);
  gtk_spinner_set_spinning (self->offline_spinner, offline);
  wz_test_report_when_settled (GTK_WIDGET (self), is_settled, "offline-banner=%s",
                               offline ? "shown" : "hidden");
}

static void
setup_queue_row (GtkSignalListItemFactory *factory,
                 GtkListItem              *list_item,
                 WzWorkspace              *self)
{
  gtk_list_item_set_child (list_item, wz_queue_row_new ());
}

static void
bind_queue_row (GtkSignalListItemFactory *factory,
                GtkListItem              *list_item,
                WzWorkspace              *self)
{
  WzQueueItem *item = gtk_list_item_get_item (list_item);

  wz_queue_row_set_item (WZ_QUEUE_ROW (gtk_list_item_get_child (list_item)), item);
  /* Allergies are read for the rows on screen only, whatever the size of the queue. */
  wz_queue_model_want_allergies (self->queue, item);
}

static void
unbind_queue_row (GtkSignalListItemFactory *factory,
                  GtkListItem              *list_item,
                  WzWorkspace              *self)
{
  wz_queue_row_set_item (WZ_QUEUE_ROW (gtk_list_item_get_child (list_item)), NULL);
}

/* ---------------------------------------------------------------------------------------- */
/* Availability */

static const struct
{
  const char *id;
  const char *icon;
  const char *css;
} statuses[] = {
  { "available", "user-available-symbolic", "status-available" },
  { "busy", "user-busy-symbolic", "status-busy" },
  { "away", "user-away-symbolic", "status-away" },
};

static const char *
status_label (const char *id)
{
  if (g_strcmp0 (id, "busy") == 0)
    return _("Busy");
  if (g_strcmp0 (id, "away") == 0)
    return _("Away");

  return _("Available");
}

static void
update_doctor_subtitle (WzWorkspace *self)
{
  WzSession *session = self->client != NULL ? wz_api_client_get_session (self->client) : NULL;
  g_autofree char *subtitle = NULL;

  if (session == NULL)
    return;

  /* Translators: under the doctor's name: role and availability, e.g. “Doctor · Available” */
  subtitle = g_strdup_printf (_("%s · %s"), wz_session_get_role_label (session),
                              status_label (self->status));
  adw_window_title_set_subtitle (self->doctor_title, subtitle);
}

static void
wz_workspace_set_status (WzWorkspace *self,
                         const char  *status)
{
  g_autofree char *tooltip = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (statuses); i++)
    {
      gtk_widget_remove_css_class (GTK_WIDGET (self->status_button), statuses[i].css);
      if (g_strcmp0 (statuses[i].id, status) == 0)
        {
          gtk_menu_button_set_icon_name (self->status_button, statuses[i].icon);
          gtk_widget_add_css_class (GTK_WIDGET (self->status_button), statuses[i].css);
        }
    }

  /* Translators: tooltip of the availability menu button; %s is “Available”, “Busy” or “Away” */
  tooltip = g_strdup_printf (_("Availability: %s"), status_label (status));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->status_button), tooltip);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->status_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, tooltip,
                                  -1);

  if (g_strcmp0 (self->status, status) != 0)
    {
      g_free (self->status);
      self->status = g_strdup (status);
      update_doctor_subtitle (self);
      wz_test_report ("status=%s", status);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATUS]);
    }
}

const char *
wz_workspace_get_status (WzWorkspace *self)
{
  g_return_val_if_fail (WZ_IS_WORKSPACE (self), NULL);

  return self->status;
}

/* ---------------------------------------------------------------------------------------- */
/* Public */

void
wz_workspace_start (WzWorkspace *self,
                    WzSession   *session)
{
  g_return_if_fail (WZ_IS_WORKSPACE (self));
  g_return_if_fail (WZ_IS_SESSION (session));

  adw_window_title_set_title (self->doctor_title, wz_session_get_display_name (session));
  update_doctor_subtitle (self);

  gtk_single_selection_set_selected (self->selection, GTK_INVALID_LIST_POSITION);
  update_consultation_pages (self, NULL);
  gtk_editable_set_text (GTK_EDITABLE (self->search_entry), "");
  adw_leaflet_set_visible_child_name (self->leaflet, "sidebar");

  self->queue_loaded_once = FALSE;
  gtk_stack_set_visible_child_name (self->queue_stack, "loading");
  wz_queue_model_start (self->queue, session);
  wz_realtime_start (self->realtime, session);
  wz_chat_view_start (self->chat_view, session, self->realtime);

  /* Follow-up is a doctor's: the sidebar offers it next to the queue. */
  gtk_widget_set_visible (self->sidebar_switcher,
                          g_strcmp0 (wz_session_get_role (session), "doctor") == 0);
  gtk_stack_set_visible_child_name (self->sidebar_stack, "queue");
  wz_followup_worklist_refresh (self->followup_worklist);

  /* Pharmacists review signed prescriptions; the review queue is their first page. */
  adw_view_stack_page_set_visible (self->review_page,
                                   g_strcmp0 (wz_session_get_role (session), "pharmacist") == 0);
  if (adw_view_stack_page_get_visible (self->review_page))
    {
      adw_view_stack_set_visible_child_name (self->view_stack, "review");
      wz_review_queue_refresh (self->review_queue);
    }

  if (GTK_IS_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))))
    {
      GtkApplication *app = gtk_window_get_application (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))));

      /* A red-flag notification opens the patient from the desktop. */
      if (app != NULL && g_action_map_lookup_action (G_ACTION_MAP (app), "followup-patient") == NULL)
        {
          g_autoptr(GSimpleAction) action = g_simple_action_new ("followup-patient",
                                                                 G_VARIANT_TYPE_STRING);

          g_signal_connect_object (action, "activate", G_CALLBACK (on_followup_patient_action),
                                   self, 0);
          g_action_map_add_action (G_ACTION_MAP (app), G_ACTION (action));
        }
    }
  if (!self->watching_window && GTK_IS_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))))
    {
      self->watching_window = TRUE;
      g_signal_connect_object (gtk_widget_get_root (GTK_WIDGET (self)), "notify::is-active",
                               G_CALLBACK (on_window_active_changed), self, G_CONNECT_SWAPPED);
    }
}

/* Nothing of the last patient list stays on screen for the next person at this desk. */
void
wz_workspace_stop (WzWorkspace *self)
{
  g_return_if_fail (WZ_IS_WORKSPACE (self));

  /* Hung up while the connection can still carry the hangup to the patient. */
  wz_call_page_end_call (self->call_page);
  wz_realtime_stop (self->realtime);
  gtk_single_selection_set_selected (self->selection, GTK_INVALID_LIST_POSITION);
  wz_chat_view_stop (self->chat_view);
  wz_record_view_show (self->record_view, NULL, NULL);
  wz_rx_editor_show (self->rx_editor, NULL, NULL);
  wz_followup_page_show (self->followup_page, NULL);
  wz_followup_worklist_stop (self->followup_worklist);
  wz_queue_model_stop (self->queue);
  self->queue_loaded_once = FALSE;
}

void
wz_workspace_focus_search (WzWorkspace *self)
{
  g_return_if_fail (WZ_IS_WORKSPACE (self));

  adw_leaflet_set_visible_child_name (self->leaflet, "sidebar");
  gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
}

void
wz_workspace_show_view (WzWorkspace *self,
                        const char  *name)
{
  g_return_if_fail (WZ_IS_WORKSPACE (self));

  adw_view_stack_set_visible_child_name (self->view_stack, name);
  adw_leaflet_set_visible_child_name (self->leaflet, "content");
}

static void
action_refresh (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  wz_workspace_refresh (WZ_WORKSPACE (widget));
}

static void
action_back (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  adw_leaflet_navigate (WZ_WORKSPACE (widget)->leaflet, ADW_NAVIGATION_DIRECTION_BACK);
}

/* ---------------------------------------------------------------------------------------- */
/* GObject */

static void
wz_workspace_dispose (GObject *object)
{
  WzWorkspace *self = WZ_WORKSPACE (object);
  GtkWidget *child;

  if (self->call_page != NULL)
    wz_call_page_end_call (self->call_page);
  if (self->realtime != NULL)
    wz_realtime_stop (self->realtime);
  if (self->queue != NULL)
    wz_queue_model_stop (self->queue);
  gtk_widget_dispose_template (GTK_WIDGET (self), WZ_TYPE_WORKSPACE);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);
  g_clear_object (&self->selection);
  g_clear_object (&self->filtered);
  g_clear_object (&self->filter);
  g_clear_object (&self->sorter);
  g_clear_object (&self->queue);
  g_clear_object (&self->realtime);
  g_clear_object (&self->filter_menu);
  g_clear_object (&self->client);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (wz_workspace_parent_class)->dispose (object);
}

static void
wz_workspace_finalize (GObject *object)
{
  WzWorkspace *self = WZ_WORKSPACE (object);

  g_clear_pointer (&self->status, g_free);
  g_clear_pointer (&self->queue_status, g_free);
  g_clear_pointer (&self->queue_sort, g_free);

  G_OBJECT_CLASS (wz_workspace_parent_class)->finalize (object);
}

static void
wz_workspace_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  WzWorkspace *self = WZ_WORKSPACE (object);

  switch (prop_id)
    {
    case PROP_CLIENT:
      g_value_set_object (value, self->client);
      break;
    case PROP_STATUS:
      g_value_set_string (value, self->status);
      break;
    case PROP_QUEUE_STATUS:
      g_value_set_string (value, self->queue_status);
      break;
    case PROP_QUEUE_SORT:
      g_value_set_string (value, self->queue_sort);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
wz_workspace_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  WzWorkspace *self = WZ_WORKSPACE (object);

  switch (prop_id)
    {
    case PROP_CLIENT:
      self->client = g_value_dup_object (value);
      wz_record_view_set_client (self->record_view, self->client);
      wz_rx_editor_set_client (self->rx_editor, self->client);
      wz_chat_view_set_client (self->chat_view, self->client);
      wz_followup_page_set_client (self->followup_page, self->client);
      wz_followup_worklist_set_client (self->followup_worklist, self->client);
      wz_review_queue_set_client (self->review_queue, self->client);
      wz_call_page_set_client (self->call_page, self->client);
      break;
    case PROP_STATUS:
      wz_workspace_set_status (self, g_value_get_string (value));
      break;
    case PROP_QUEUE_STATUS:
      wz_workspace_set_queue_status (self, g_value_get_string (value));
      break;
    case PROP_QUEUE_SORT:
      wz_workspace_set_queue_sort (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

/* The queue needs the API client, which is a construct property. */
static void
wz_workspace_constructed (GObject *object)
{
  WzWorkspace *self = WZ_WORKSPACE (object);
  g_autoptr(GtkListItemFactory) factory = NULL;
  GtkEventController *keys;

  G_OBJECT_CLASS (wz_workspace_parent_class)->constructed (object);

  /* Queue: today's visits → sorted (arrival or urgency) and filtered (status, search) in one
   * WzQueueView, which filters 100,000 visits within a frame per keystroke → single selection
   * → list view. */
  self->queue = wz_queue_model_new (self->client);
  self->sorter = gtk_custom_sorter_new (wz_queue_item_compare_arrival, NULL, NULL);
  self->filter = wz_queue_filter_new ();
  self->filtered = wz_queue_view_new (self->queue, self->filter, GTK_SORTER (self->sorter));
  self->selection = gtk_single_selection_new (g_object_ref (G_LIST_MODEL (self->filtered)));
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  gtk_single_selection_set_can_unselect (self->selection, TRUE);
  gtk_single_selection_set_selected (self->selection, GTK_INVALID_LIST_POSITION);
  g_signal_connect_object (self->selection, "notify::selected-item",
                           G_CALLBACK (on_selected_patient_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->filtered, "items-changed",
                           G_CALLBACK (on_filtered_items_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->queue, "notify::n-all",
                           G_CALLBACK (on_queue_counts_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->queue, "load-finished",
                           G_CALLBACK (on_queue_load_finished), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->queue, "item-added",
                           G_CALLBACK (on_queue_item_added), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->queue, "error",
                           G_CALLBACK (on_queue_error), self, G_CONNECT_SWAPPED);

  self->filter_menu = g_menu_new ();
  gtk_menu_button_set_menu_model (self->filter_button, G_MENU_MODEL (self->filter_menu));
  update_filter_menu (self);

  self->realtime = wz_realtime_new (self->client);
  g_signal_connect_object (self->realtime, "resource",
                           G_CALLBACK (on_realtime_resource), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->realtime, "connected",
                           G_CALLBACK (on_realtime_connected), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->realtime, "notify::offline",
                           G_CALLBACK (on_realtime_offline_changed), self, G_CONNECT_SWAPPED);
  wz_call_page_set_realtime (self->call_page, self->realtime, self->queue);

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (setup_queue_row), self);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_queue_row), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (unbind_queue_row), self);
  gtk_list_view_set_factory (self->patient_list, factory);
  gtk_list_view_set_model (self->patient_list, GTK_SELECTION_MODEL (self->selection));

  keys = gtk_event_controller_key_new ();
  g_signal_connect (keys, "key-pressed", G_CALLBACK (on_search_key_pressed), self);
  gtk_widget_add_controller (GTK_WIDGET (self->search_entry), keys);

}

static void
wz_workspace_class_init (WzWorkspaceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = wz_workspace_constructed;
  object_class->dispose = wz_workspace_dispose;
  object_class->finalize = wz_workspace_finalize;
  object_class->get_property = wz_workspace_get_property;
  object_class->set_property = wz_workspace_set_property;

  properties[PROP_CLIENT] =
    g_param_spec_object ("client", NULL, NULL, WZ_TYPE_API_CLIENT,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STATUS] =
    g_param_spec_string ("status", NULL, NULL, "available",
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_QUEUE_STATUS] =
    g_param_spec_string ("queue-status", NULL, NULL, "all",
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_QUEUE_SORT] =
    g_param_spec_string ("queue-sort", NULL, NULL, "arrival",
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * WzWorkspace::session-ended:
   * @error: why, ready to show on the sign-in page
   *
   * The server no longer accepts the session; the window goes back to sign-in.
   */
  signals[SESSION_ENDED] =
    g_signal_new ("session-ended", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);

  /**
   * WzWorkspace::toast:
   * @title: a short message for the window's toast overlay
   */
  signals[TOAST] =
    g_signal_new ("toast", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  gtk_widget_class_install_property_action (widget_class, "workspace.status", "status");
  gtk_widget_class_install_property_action (widget_class, "workspace.queue-status", "queue-status");
  gtk_widget_class_install_property_action (widget_class, "workspace.queue-sort", "queue-sort");
  gtk_widget_class_install_action (widget_class, "workspace.refresh", NULL, action_refresh);
  gtk_widget_class_install_action (widget_class, "workspace.back", NULL, action_back);
  gtk_widget_class_install_action (widget_class, "workspace.sidebar-view", "s", action_sidebar_view);

  g_type_ensure (WZ_TYPE_RECORD_VIEW);
  g_type_ensure (WZ_TYPE_ALLERGY_BADGE);
  g_type_ensure (WZ_TYPE_RX_EDITOR);
  g_type_ensure (WZ_TYPE_CHAT_VIEW);
  g_type_ensure (WZ_TYPE_REVIEW_QUEUE);
  g_type_ensure (WZ_TYPE_FOLLOWUP_PAGE);
  g_type_ensure (WZ_TYPE_FOLLOWUP_WORKLIST);
  g_type_ensure (WZ_TYPE_CALL_PAGE);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/wenzhen/Wenzhen/wz-workspace.ui");
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, leaflet);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, doctor_title);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, status_button);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, offline_revealer);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, offline_spinner);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, search_entry);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, filter_button);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, filter_label);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, filter_count);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, queue_stack);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, queue_error_page);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, patient_list);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, switcher_title);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, patient_banner);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, patient_avatar);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, patient_name_label);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, patient_details_label);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, record_view);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, banner_allergies);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, view_stack);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, chat_view);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, call_page);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, call_banner);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, call_banner_label);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, call_banner_button);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, sidebar_box);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, sidebar_separator);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, content_header);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, switcher_bar);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, rx_editor);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, review_page);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, review_queue);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, followup_page);
  gtk_widget_class_bind_template_callback (widget_class, on_search_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_stop_search);
  gtk_widget_class_bind_template_callback (widget_class, on_search_activate);
  gtk_widget_class_bind_template_callback (widget_class, on_patient_activated);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, sidebar_stack);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, sidebar_switcher);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, followup_worklist);
  gtk_widget_class_bind_template_callback (widget_class, on_sidebar_view_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_call_banner_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_call_fullscreen_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_call_show_encounter);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "workspace");
}

static void
wz_workspace_init (WzWorkspace *self)
{
  GtkGesture *click;

  /* The workspace.status property action reads this while the template is being built. */
  self->status = g_strdup ("available");
  self->queue_status = g_strdup ("all");
  self->queue_sort = g_strdup ("arrival");

  gtk_widget_init_template (GTK_WIDGET (self));

  g_signal_connect_object (self->chat_view, "toast", G_CALLBACK (on_chat_toast), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->call_page, "toast", G_CALLBACK (on_chat_toast), self,
                           G_CONNECT_SWAPPED);

  /* The record (owned by the record view) feeds the red allergy strip of the banner, and its
   * “call next” selects the called patient in the queue. */
  g_object_bind_property (self->record_view, "allergies", self->banner_allergies, "allergies",
                          G_BINDING_SYNC_CREATE);
  g_signal_connect_object (self->record_view, "open-patient", G_CALLBACK (on_record_open_patient),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->followup_worklist, "open-patient",
                           G_CALLBACK (on_worklist_open_patient), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->followup_worklist, "toast", G_CALLBACK (on_worklist_toast),
                           self, G_CONNECT_SWAPPED);

  /* Ctrl+1 and Ctrl+2 switch the sidebar wherever the focus is in the window. */
  {
    GtkEventController *shortcuts = gtk_shortcut_controller_new ();
    const char *targets[] = { "queue", "followups" };

    gtk_shortcut_controller_set_scope (GTK_SHORTCUT_CONTROLLER (shortcuts), GTK_SHORTCUT_SCOPE_GLOBAL);
    for (guint i = 0; i < G_N_ELEMENTS (targets); i++)
      {
        GtkShortcut *shortcut =
          gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_1 + i, GDK_CONTROL_MASK),
                            gtk_named_action_new ("workspace.sidebar-view"));

        gtk_shortcut_set_arguments (shortcut, g_variant_new_string (targets[i]));
        gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (shortcuts), shortcut);
      }
    gtk_widget_add_controller (GTK_WIDGET (self), shortcuts);
  }

  self->settings = g_settings_new (APP_ID);

  click = gtk_gesture_click_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (click), GDK_BUTTON_PRIMARY);
  gtk_event_controller_set_propagation_phase (GTK_EVENT_CONTROLLER (click), GTK_PHASE_CAPTURE);
  g_signal_connect (click, "released", G_CALLBACK (on_queue_clicked), self);
  gtk_widget_add_controller (GTK_WIDGET (self->patient_list), GTK_EVENT_CONTROLLER (click));

  update_consultation_pages (self, NULL);
  wz_workspace_set_status (self, "available");
}

GtkWidget *
wz_workspace_new (WzApiClient *client)
{
  g_return_val_if_fail (WZ_IS_API_CLIENT (client), NULL);

  return g_object_new (WZ_TYPE_WORKSPACE, "client", client, NULL);
}
