/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-workspace"

#include "config.h"

#include "wz-workspace.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "wz-patient-item.h"
#include "wz-patient-row.h"
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
  GtkSearchEntry       *search_entry;
  GtkStack             *queue_stack;
  AdwStatusPage        *queue_error_page;
  GtkListView          *patient_list;
  AdwViewSwitcherTitle *switcher_title;
  GtkRevealer          *patient_banner;
  AdwAvatar            *patient_avatar;
  GtkLabel             *patient_name_label;
  GtkLabel             *patient_details_label;
  AdwViewStack         *view_stack;
  AdwStatusPage        *chat_page;
  AdwStatusPage        *call_page;
  AdwStatusPage        *prescription_page;
  AdwStatusPage        *followup_page;

  WzApiClient          *client;
  GSettings            *settings;
  GListStore           *patients;
  GtkFilterListModel   *filtered;
  GtkStringFilter      *name_filter;
  GtkSingleSelection   *selection;
  GCancellable         *queue_cancellable;
  char                 *status;
  guint                 refresh_id;
  gboolean              queue_loaded_once;
};

G_DEFINE_FINAL_TYPE (WzWorkspace, wz_workspace, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_CLIENT,
  PROP_STATUS,
  N_PROPS
};

enum {
  SESSION_ENDED,
  TOAST,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* Until the realtime connection arrives, the queue is polled; new patients still show up. */
#define QUEUE_REFRESH_SECONDS 30

static gboolean
is_settled (GtkWidget *widget)
{
  WzWorkspace *self = WZ_WORKSPACE (widget);

  return !gtk_stack_get_transition_running (self->queue_stack)
    && !adw_leaflet_get_child_transition_running (self->leaflet)
    && gtk_revealer_get_child_revealed (self->patient_banner)
       == gtk_revealer_get_reveal_child (self->patient_banner);
}

/* ---------------------------------------------------------------------------------------- */
/* Consultation pages */

static void
update_consultation_pages (WzWorkspace   *self,
                           WzPatientItem *patient)
{
  g_autofree char *chat = NULL;
  g_autofree char *call = NULL;
  g_autofree char *rx = NULL;
  g_autofree char *followup = NULL;
  const char *name;

  if (patient == NULL)
    {
      adw_view_switcher_title_set_title (self->switcher_title, _("No Patient Selected"));
      adw_view_switcher_title_set_subtitle (self->switcher_title, "");
      gtk_revealer_set_reveal_child (self->patient_banner, FALSE);
      adw_status_page_set_description (self->chat_page,
                                       _("Select a patient in the queue to start the consultation."));
      adw_status_page_set_description (self->call_page,
                                       _("Select a patient to call them. Video calls run directly between you and the patient, encrypted end to end."));
      adw_status_page_set_description (self->prescription_page,
                                       _("Select a patient to write a prescription. It is checked for allergies and interactions, signed by you and reviewed by a pharmacist before it is issued."));
      adw_status_page_set_description (self->followup_page,
                                       _("Select a patient to plan revisits, medication checks and vaccination follow-ups."));
      return;
    }

  /* Who the consultation is about stays in view on every page: the banner when the window is
   * wide, the header title when it is narrow and the view switcher moves to the bottom. */
  name = wz_patient_item_get_name (patient);
  adw_view_switcher_title_set_title (self->switcher_title, name);
  adw_view_switcher_title_set_subtitle (self->switcher_title,
                                        wz_patient_item_get_details (patient));
  adw_avatar_set_text (self->patient_avatar, name);
  gtk_label_set_text (self->patient_name_label, name);
  gtk_label_set_text (self->patient_details_label, wz_patient_item_get_details (patient));
  gtk_revealer_set_reveal_child (self->patient_banner, TRUE);

  chat = g_strdup_printf (_("Messages, photos and files exchanged with %s will appear here and be kept in the patient’s record. Chat is not available in this version of Wenzhen yet."),
                          name);
  call = g_strdup_printf (_("A video call with %s will appear here. Calls are not available in this version of Wenzhen yet."),
                          name);
  rx = g_strdup_printf (_("Prescriptions for %s will be written, checked and signed here. Prescribing is not available in this version of Wenzhen yet."),
                        name);
  followup = g_strdup_printf (_("Revisits and follow-up tasks for %s will be planned here. Follow-up is not available in this version of Wenzhen yet."),
                              name);

  adw_status_page_set_description (self->chat_page, chat);
  adw_status_page_set_description (self->call_page, call);
  adw_status_page_set_description (self->prescription_page, rx);
  adw_status_page_set_description (self->followup_page, followup);
}

static void
on_selected_patient_changed (WzWorkspace *self)
{
  WzPatientItem *patient = gtk_single_selection_get_selected_item (self->selection);

  update_consultation_pages (self, patient);

  if (patient == NULL)
    return;

  wz_test_report_when_settled (GTK_WIDGET (self), is_settled, "state=patient-shown id=%s name=%s",
                               wz_patient_item_get_id (patient),
                               wz_patient_item_get_name (patient));
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

static void
update_queue_page (WzWorkspace *self)
{
  guint total = g_list_model_get_n_items (G_LIST_MODEL (self->patients));
  guint shown = g_list_model_get_n_items (G_LIST_MODEL (self->filtered));
  const char *page;

  if (total == 0)
    page = "empty";
  else if (shown == 0)
    page = "no-results";
  else
    page = "list";

  gtk_stack_set_visible_child_name (self->queue_stack, page);
  wz_test_report ("queue=%s shown=%u", page, shown);
}

static void
on_search_changed (WzWorkspace *self)
{
  gtk_string_filter_set_search (self->name_filter,
                                gtk_editable_get_text (GTK_EDITABLE (self->search_entry)));
  if (self->queue_loaded_once)
    update_queue_page (self);
}

static void
on_stop_search (WzWorkspace *self)
{
  gtk_editable_set_text (GTK_EDITABLE (self->search_entry), "");
}

/* Applies a fresh list to the store with exact items-changed positions: patients still there
 * are updated in place (keeping the selection), the gone are removed, the new appended.
 * Returns how many are new. */
static guint
merge_patients (WzWorkspace *self,
                GPtrArray   *fresh)
{
  g_autoptr(GHashTable) by_id = g_hash_table_new (g_str_hash, g_str_equal);
  guint n_items = g_list_model_get_n_items (G_LIST_MODEL (self->patients));
  guint added = 0;

  if (n_items == 0)
    {
      g_list_store_splice (self->patients, 0, 0, fresh->pdata, fresh->len);
      return fresh->len;
    }

  for (guint i = 0; i < fresh->len; i++)
    g_hash_table_insert (by_id, (gpointer) wz_patient_item_get_id (fresh->pdata[i]), fresh->pdata[i]);

  for (guint i = n_items; i > 0; i--)
    {
      g_autoptr(WzPatientItem) item = g_list_model_get_item (G_LIST_MODEL (self->patients), i - 1);
      WzPatientItem *update = g_hash_table_lookup (by_id, wz_patient_item_get_id (item));

      if (update == NULL)
        g_list_store_remove (self->patients, i - 1);
      else
        {
          wz_patient_item_update (item, update);
          g_hash_table_remove (by_id, wz_patient_item_get_id (item));
        }
    }

  for (guint i = 0; i < fresh->len; i++)
    if (g_hash_table_contains (by_id, wz_patient_item_get_id (fresh->pdata[i])))
      {
        g_list_store_append (self->patients, fresh->pdata[i]);
        added++;
      }

  return added;
}

static GPtrArray *
patients_from_bundle (JsonNode *node)
{
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autoptr(GDate) today = g_date_new_dmy ((GDateDay) g_date_time_get_day_of_month (now),
                                           (GDateMonth) g_date_time_get_month (now),
                                           (GDateYear) g_date_time_get_year (now));
  JsonObject *bundle;
  JsonArray *entries;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;

  bundle = json_node_get_object (node);
  if (g_strcmp0 (json_object_get_string_member_with_default (bundle, "resourceType", NULL),
                 "Bundle") != 0)
    return NULL;

  if (!json_object_has_member (bundle, "entry"))
    return g_steal_pointer (&items);
  if (!JSON_NODE_HOLDS_ARRAY (json_object_get_member (bundle, "entry")))
    return NULL;

  entries = json_object_get_array_member (bundle, "entry");
  for (guint i = 0; i < json_array_get_length (entries); i++)
    {
      JsonNode *entry = json_array_get_element (entries, i);
      JsonNode *resource;
      WzPatientItem *item;

      if (!JSON_NODE_HOLDS_OBJECT (entry))
        continue;
      resource = json_object_get_member (json_node_get_object (entry), "resource");
      if (resource == NULL || !JSON_NODE_HOLDS_OBJECT (resource))
        continue;

      item = wz_patient_item_new_from_resource (json_node_get_object (resource), today);
      if (item != NULL)
        g_ptr_array_add (items, item);
    }

  return g_steal_pointer (&items);
}

static void
notify_new_patients (WzWorkspace *self,
                     guint        added)
{
  g_autoptr(GNotification) notification = NULL;
  g_autofree char *body = NULL;
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GApplication *app;

  if (added == 0 || !GTK_IS_WINDOW (root) || gtk_window_is_active (GTK_WINDOW (root))
      || !g_settings_get_boolean (self->settings, "notify-new-patient"))
    return;

  app = G_APPLICATION (gtk_window_get_application (GTK_WINDOW (root)));
  if (app == NULL)
    return;

  body = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                       "%u new patient joined your queue.",
                                       "%u new patients joined your queue.",
                                       added),
                          added);
  notification = g_notification_new (_("New Patient Waiting"));
  g_notification_set_body (notification, body);
  g_application_send_notification (app, "new-patient", notification);
}

static void
on_queue_loaded (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(WzWorkspace) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GPtrArray) fresh = NULL;
  gboolean first_load;
  guint added;

  node = wz_api_client_get_json_finish (WZ_API_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (node == NULL)
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

  fresh = patients_from_bundle (node);
  if (fresh == NULL)
    {
      wz_test_report ("queue-error=not-bundle");
      adw_status_page_set_description (self->queue_error_page,
                                       _("The server’s answer was not a list of patients. Check that the server is up to date."));
      gtk_stack_set_visible_child_name (self->queue_stack, "error");
      return;
    }

  first_load = !self->queue_loaded_once;
  added = merge_patients (self, fresh);
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
  else
    notify_new_patients (self, added);
}

void
wz_workspace_refresh (WzWorkspace *self)
{
  g_return_if_fail (WZ_IS_WORKSPACE (self));

  if (wz_api_client_get_session (self->client) == NULL)
    return;

  g_cancellable_cancel (self->queue_cancellable);
  g_clear_object (&self->queue_cancellable);
  self->queue_cancellable = g_cancellable_new ();

  if (!self->queue_loaded_once)
    gtk_stack_set_visible_child_name (self->queue_stack, "loading");

  wz_api_client_get_json_async (self->client, "/fhir/Patient?_count=100",
                                self->queue_cancellable, on_queue_loaded, g_object_ref (self));
}

static gboolean
on_refresh_timeout (gpointer user_data)
{
  wz_workspace_refresh (WZ_WORKSPACE (user_data));

  return G_SOURCE_CONTINUE;
}

static void
setup_patient_row (GtkSignalListItemFactory *factory,
                   GtkListItem              *list_item,
                   gpointer                  user_data)
{
  gtk_list_item_set_child (list_item, wz_patient_row_new ());
}

static void
bind_patient_row (GtkSignalListItemFactory *factory,
                  GtkListItem              *list_item,
                  gpointer                  user_data)
{
  wz_patient_row_set_patient (WZ_PATIENT_ROW (gtk_list_item_get_child (list_item)),
                              gtk_list_item_get_item (list_item));
}

static void
unbind_patient_row (GtkSignalListItemFactory *factory,
                    GtkListItem              *list_item,
                    gpointer                  user_data)
{
  wz_patient_row_set_patient (WZ_PATIENT_ROW (gtk_list_item_get_child (list_item)), NULL);
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
  g_list_store_remove_all (self->patients);
  wz_workspace_refresh (self);

  g_clear_handle_id (&self->refresh_id, g_source_remove);
  self->refresh_id = g_timeout_add_seconds (QUEUE_REFRESH_SECONDS, on_refresh_timeout, self);
}

/* Nothing of the last patient list stays on screen for the next person at this desk. */
void
wz_workspace_stop (WzWorkspace *self)
{
  g_return_if_fail (WZ_IS_WORKSPACE (self));

  g_clear_handle_id (&self->refresh_id, g_source_remove);
  g_cancellable_cancel (self->queue_cancellable);
  gtk_single_selection_set_selected (self->selection, GTK_INVALID_LIST_POSITION);
  g_list_store_remove_all (self->patients);
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

  g_clear_handle_id (&self->refresh_id, g_source_remove);
  g_cancellable_cancel (self->queue_cancellable);
  g_clear_object (&self->queue_cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), WZ_TYPE_WORKSPACE);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);
  g_clear_object (&self->selection);
  g_clear_object (&self->filtered);
  g_clear_object (&self->patients);
  g_clear_object (&self->name_filter);
  g_clear_object (&self->client);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (wz_workspace_parent_class)->dispose (object);
}

static void
wz_workspace_finalize (GObject *object)
{
  WzWorkspace *self = WZ_WORKSPACE (object);

  g_clear_pointer (&self->status, g_free);

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
      break;
    case PROP_STATUS:
      wz_workspace_set_status (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
wz_workspace_class_init (WzWorkspaceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

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
  gtk_widget_class_install_action (widget_class, "workspace.refresh", NULL, action_refresh);
  gtk_widget_class_install_action (widget_class, "workspace.back", NULL, action_back);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/wenzhen/Wenzhen/wz-workspace.ui");
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, leaflet);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, doctor_title);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, status_button);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, search_entry);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, queue_stack);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, queue_error_page);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, patient_list);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, switcher_title);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, patient_banner);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, patient_avatar);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, patient_name_label);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, patient_details_label);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, view_stack);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, chat_page);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, call_page);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, prescription_page);
  gtk_widget_class_bind_template_child (widget_class, WzWorkspace, followup_page);
  gtk_widget_class_bind_template_callback (widget_class, on_search_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_stop_search);
  gtk_widget_class_bind_template_callback (widget_class, on_patient_activated);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "workspace");
}

static void
wz_workspace_init (WzWorkspace *self)
{
  g_autoptr(GtkListItemFactory) factory = NULL;
  GtkGesture *click;

  /* The workspace.status property action reads this while the template is being built. */
  self->status = g_strdup ("available");

  gtk_widget_init_template (GTK_WIDGET (self));

  self->settings = g_settings_new (APP_ID);

  /* Queue: store → name filter → single selection → list view. */
  self->patients = g_list_store_new (WZ_TYPE_PATIENT_ITEM);
  self->name_filter = gtk_string_filter_new (gtk_property_expression_new (WZ_TYPE_PATIENT_ITEM,
                                                                          NULL, "name"));
  gtk_string_filter_set_match_mode (self->name_filter, GTK_STRING_FILTER_MATCH_MODE_SUBSTRING);
  gtk_string_filter_set_ignore_case (self->name_filter, TRUE);
  self->filtered = gtk_filter_list_model_new (g_object_ref (G_LIST_MODEL (self->patients)),
                                              g_object_ref (GTK_FILTER (self->name_filter)));
  self->selection = gtk_single_selection_new (g_object_ref (G_LIST_MODEL (self->filtered)));
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  gtk_single_selection_set_can_unselect (self->selection, TRUE);
  gtk_single_selection_set_selected (self->selection, GTK_INVALID_LIST_POSITION);
  g_signal_connect_object (self->selection, "notify::selected-item",
                           G_CALLBACK (on_selected_patient_changed), self, G_CONNECT_SWAPPED);

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (setup_patient_row), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_patient_row), NULL);
  g_signal_connect (factory, "unbind", G_CALLBACK (unbind_patient_row), NULL);
  gtk_list_view_set_factory (self->patient_list, factory);
  gtk_list_view_set_model (self->patient_list, GTK_SELECTION_MODEL (self->selection));

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
