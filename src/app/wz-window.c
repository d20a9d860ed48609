/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-window"

#include "config.h"

#include "wz-window.h"

#include <glib/gi18n.h>

#include "wz-api-client.h"
#include "wz-login-page.h"
#include "wz-patient-item.h"
#include "wz-patient-row.h"
#include "wz-test-report.h"

/* The main window: sign-in, then the workspace with the patient queue on the left and the
 * consultation (chat, call, prescription, follow-up) on the right. */
struct _WzWindow
{
  AdwApplicationWindow  parent_instance;

  AdwToastOverlay      *toast_overlay;
  GtkStack             *main_stack;
  WzLoginPage          *login_page;
  AdwStatusPage        *demo_error_page;
  GtkLabel             *demo_error_log;
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

  GSettings            *settings;
  WzApiClient          *client;
  GListStore           *patients;
  GtkFilterListModel   *filtered;
  GtkStringFilter      *name_filter;
  GtkSingleSelection   *selection;
  GCancellable         *cancellable;
  GCancellable         *queue_cancellable;
  char                 *status;
  guint                 refresh_id;
  guint                 idle_check_id;
  gint64                last_input;
  gboolean              queue_loaded_once;
  gboolean              first_frame_done;
};

G_DEFINE_FINAL_TYPE (WzWindow, wz_window, ADW_TYPE_APPLICATION_WINDOW)

enum {
  PROP_0,
  PROP_STATUS,
  N_PROPS
};

enum {
  FIRST_FRAME,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* Until the realtime connection arrives, the queue is polled; new patients still show up. */
#define QUEUE_REFRESH_SECONDS 30
#define IDLE_CHECK_SECONDS 15

static void load_queue (WzWindow *self);

/* ---------------------------------------------------------------------------------------- */
/* Running something once the next frame is on screen (for the first-frame signal and the test
 * report, which must describe what is visible, not what is merely queued). */

typedef struct
{
  GtkWidget *widget;
  gulong     handler_id;
  GFunc      func;
  gpointer   data;
  GDestroyNotify destroy;
} AfterPaint;

static void
on_after_paint (GdkFrameClock *clock,
                AfterPaint    *after)
{
  g_signal_handler_disconnect (clock, after->handler_id);
  after->func (after->widget, after->data);
  if (after->destroy != NULL)
    after->destroy (after->data);
  g_object_unref (after->widget);
  g_free (after);
}

static void
run_after_next_paint (GtkWidget      *widget,
                      GFunc           func,
                      gpointer        data,
                      GDestroyNotify  destroy)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (widget);
  AfterPaint *after;

  if (clock == NULL)
    {
      func (widget, data);
      if (destroy != NULL)
        destroy (data);
      return;
    }

  after = g_new0 (AfterPaint, 1);
  after->widget = g_object_ref (widget);
  after->func = func;
  after->data = data;
  after->destroy = destroy;
  after->handler_id = g_signal_connect (clock, "after-paint", G_CALLBACK (on_after_paint), after);
  gtk_widget_queue_draw (widget);
}

static gboolean
is_settled (WzWindow *self)
{
  return !gtk_stack_get_transition_running (self->main_stack)
    && !gtk_stack_get_transition_running (self->queue_stack)
    && !adw_leaflet_get_child_transition_running (self->leaflet)
    && gtk_revealer_get_child_revealed (self->patient_banner)
       == gtk_revealer_get_reveal_child (self->patient_banner);
}

/* A report line describes the screen once animations have finished, so the screenshot a test
 * takes on seeing it shows that state and not a cross-fade. */
static void
report_line (gpointer widget,
             gpointer line)
{
  WzWindow *self = WZ_WINDOW (widget);

  if (!is_settled (self))
    {
      run_after_next_paint (widget, report_line, g_strdup (line), g_free);
      return;
    }

  wz_test_report ("%s", (const char *) line);
}

static void
report_when_painted (WzWindow   *self,
                     const char *format,
                     ...) G_GNUC_PRINTF (2, 3);

static void
report_when_painted (WzWindow   *self,
                     const char *format,
                     ...)
{
  va_list args;
  char *line;

  if (!wz_test_report_enabled ())
    return;

  va_start (args, format);
  line = g_strdup_vprintf (format, args);
  va_end (args);

  run_after_next_paint (GTK_WIDGET (self), report_line, line, g_free);
}

/* ---------------------------------------------------------------------------------------- */
/* Toasts */

static void
show_toast (WzWindow   *self,
            const char *title)
{
  AdwToast *toast = adw_toast_new (title);

  adw_toast_set_timeout (toast, 5);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

/* ---------------------------------------------------------------------------------------- */
/* Consultation pages */

static void
update_consultation_pages (WzWindow      *self,
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
on_selected_patient_changed (WzWindow *self)
{
  WzPatientItem *patient = gtk_single_selection_get_selected_item (self->selection);

  update_consultation_pages (self, patient);

  /* On a narrow window the queue and the consultation share the screen: choosing a patient
   * moves on to the consultation. */
  if (patient != NULL && adw_leaflet_get_folded (self->leaflet))
    adw_leaflet_set_visible_child_name (self->leaflet, "content");

  if (patient != NULL)
    report_when_painted (self, "state=patient-shown id=%s name=%s",
                         wz_patient_item_get_id (patient), wz_patient_item_get_name (patient));
}

static void
on_patient_activated (WzWindow *self,
                      guint     position)
{
  gtk_single_selection_set_selected (self->selection, position);
  adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_FORWARD);
}

/* ---------------------------------------------------------------------------------------- */
/* Patient queue */

static void
update_queue_page (WzWindow *self)
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
on_search_changed (WzWindow *self)
{
  gtk_string_filter_set_search (self->name_filter,
                                gtk_editable_get_text (GTK_EDITABLE (self->search_entry)));
  if (self->queue_loaded_once)
    update_queue_page (self);
}

static void
on_stop_search (WzWindow *self)
{
  gtk_editable_set_text (GTK_EDITABLE (self->search_entry), "");
}

/* Applies a fresh list to the store with exact items-changed positions: patients still there
 * are updated in place (keeping the selection), the gone are removed, the new appended.
 * Returns how many are new. */
static guint
merge_patients (WzWindow  *self,
                GPtrArray *fresh)
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
notify_new_patients (WzWindow *self,
                     guint     added)
{
  g_autoptr(GNotification) notification = NULL;
  g_autofree char *body = NULL;
  GApplication *app;

  if (added == 0 || gtk_window_is_active (GTK_WINDOW (self))
      || !g_settings_get_boolean (self->settings, "notify-new-patient"))
    return;

  app = G_APPLICATION (gtk_window_get_application (GTK_WINDOW (self)));
  if (app == NULL)
    return;

  body = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                       "%u new patient joined your queue.",
                                       "%u new patients joined your queue.",
                                       added),
                          added);
  notification = g_notification_new (_("New Patient Waiting"));
  g_notification_set_body (notification, body);
  g_notification_set_default_action (notification, "app.activate");
  g_application_send_notification (app, "new-patient", notification);
}

static void
on_queue_loaded (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(WzWindow) self = user_data;
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
          wz_window_sign_out (self);
          wz_login_page_show_error (self->login_page, error);
          return;
        }

      wz_test_report ("queue-error=%s message=%s", wz_client_error_nick (error), error->message);
      if (self->queue_loaded_once)
        show_toast (self, error->message);
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
    report_when_painted (self, "state=workspace-shown patients=%u title=%s",
                         g_list_model_get_n_items (G_LIST_MODEL (self->filtered)),
                         gtk_window_get_title (GTK_WINDOW (self)));
  else
    notify_new_patients (self, added);
}

static void
load_queue (WzWindow *self)
{
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
  load_queue (WZ_WINDOW (user_data));

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
/* Signing in and out */

static const char *status_label (const char *id);

static void
update_doctor_subtitle (WzWindow *self)
{
  WzSession *session = wz_api_client_get_session (self->client);
  g_autofree char *subtitle = NULL;

  if (session == NULL)
    return;

  /* Translators: under the doctor's name: role and availability, e.g. “Doctor · Available” */
  subtitle = g_strdup_printf (_("%s · %s"), wz_session_get_role_label (session),
                              status_label (self->status));
  adw_window_title_set_subtitle (self->doctor_title, subtitle);
}

static void
stop_session_timers (WzWindow *self)
{
  g_clear_handle_id (&self->refresh_id, g_source_remove);
  g_clear_handle_id (&self->idle_check_id, g_source_remove);
}

static gboolean
on_idle_check (gpointer user_data)
{
  WzWindow *self = user_data;
  guint minutes = g_settings_get_uint (self->settings, "idle-lock-minutes");
  g_autoptr(GError) error = NULL;

  if (g_get_monotonic_time () - self->last_input < (gint64) minutes * 60 * G_USEC_PER_SEC)
    return G_SOURCE_CONTINUE;

  self->idle_check_id = 0;
  g_debug ("No input for %u minutes; locking", minutes);
  wz_window_sign_out (self);

  error = g_error_new (WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_SESSION_ENDED,
                       g_dngettext (GETTEXT_PACKAGE,
                                    "Wenzhen was locked after %u minute without activity. Enter your password to continue.",
                                    "Wenzhen was locked after %u minutes without activity. Enter your password to continue.",
                                    minutes),
                       minutes);
  wz_login_page_show_error (self->login_page, error);

  return G_SOURCE_REMOVE;
}

static gboolean
on_any_input (GtkEventControllerLegacy *controller,
              GdkEvent                 *event,
              WzWindow                 *self)
{
  self->last_input = g_get_monotonic_time ();

  return GDK_EVENT_PROPAGATE;
}

static void
on_signed_in (WzWindow  *self,
              WzSession *session)
{
  adw_window_title_set_title (self->doctor_title, wz_session_get_display_name (session));
  update_doctor_subtitle (self);

  gtk_single_selection_set_selected (self->selection, GTK_INVALID_LIST_POSITION);
  update_consultation_pages (self, NULL);
  gtk_editable_set_text (GTK_EDITABLE (self->search_entry), "");
  adw_leaflet_set_visible_child_name (self->leaflet, "sidebar");
  gtk_stack_set_visible_child_name (self->main_stack, "workspace");

  self->queue_loaded_once = FALSE;
  g_list_store_remove_all (self->patients);
  load_queue (self);

  stop_session_timers (self);
  self->refresh_id = g_timeout_add_seconds (QUEUE_REFRESH_SECONDS, on_refresh_timeout, self);
  self->last_input = g_get_monotonic_time ();
  self->idle_check_id = g_timeout_add_seconds (IDLE_CHECK_SECONDS, on_idle_check, self);

  wz_test_report ("signed-in user=%s role=%s", wz_session_get_username (session),
                  wz_session_get_role (session));
}

static void
on_logout_done (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  /* Locally the session is already gone; a failure only means the token expires on its own. */
  if (!wz_api_client_logout_finish (WZ_API_CLIENT (object), result, &error))
    g_debug ("Sign-out request failed: %s", error->message);
}

void
wz_window_sign_out (WzWindow *self)
{
  g_return_if_fail (WZ_IS_WINDOW (self));

  stop_session_timers (self);
  g_cancellable_cancel (self->queue_cancellable);

  if (wz_api_client_get_session (self->client) != NULL)
    wz_api_client_logout_async (self->client, NULL, on_logout_done, NULL);

  /* Nothing of the last patient list stays on screen for the next person at this desk. */
  gtk_single_selection_set_selected (self->selection, GTK_INVALID_LIST_POSITION);
  g_list_store_remove_all (self->patients);
  self->queue_loaded_once = FALSE;

  gtk_stack_set_visible_child_name (self->main_stack, "login");
  wz_login_page_focus_first (self->login_page);
}

gboolean
wz_window_is_signed_in (WzWindow *self)
{
  g_return_val_if_fail (WZ_IS_WINDOW (self), FALSE);

  return wz_api_client_get_session (self->client) != NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* Page changes, demo */

static void
on_main_page_changed (WzWindow *self)
{
  const char *page = gtk_stack_get_visible_child_name (self->main_stack);

  if (!self->first_frame_done)
    return;

  if (g_strcmp0 (page, "login") == 0)
    report_when_painted (self, "state=login-shown");
  else if (g_strcmp0 (page, "starting") == 0)
    report_when_painted (self, "state=demo-starting");
}

void
wz_window_set_server_url (WzWindow   *self,
                          const char *url,
                          gboolean    check_now)
{
  g_return_if_fail (WZ_IS_WINDOW (self));

  wz_login_page_set_server_url (self->login_page, url, check_now);
}

void
wz_window_show_demo_starting (WzWindow *self)
{
  g_return_if_fail (WZ_IS_WINDOW (self));

  gtk_stack_set_visible_child_name (self->main_stack, "starting");
}

void
wz_window_show_demo_error (WzWindow     *self,
                           const GError *error,
                           const char   *server_log)
{
  g_autofree char *log = NULL;

  g_return_if_fail (WZ_IS_WINDOW (self));

  log = g_strstrip (g_strdup (server_log != NULL ? server_log : ""));
  adw_status_page_set_description (self->demo_error_page, error->message);
  gtk_label_set_text (self->demo_error_log,
                      *log != '\0' ? log : _("The server printed no messages."));
  gtk_stack_set_visible_child_name (self->main_stack, "demo-error");

  if (wz_test_report_enabled ())
    {
      g_auto(GStrv) lines = g_strsplit (log, "\n", -1);
      g_autofree char *joined = g_strjoinv (" | ", lines);

      wz_test_report ("demo-log=%s", joined);
    }
  report_when_painted (self, "state=demo-error message=%s", error->message);
}

void
wz_window_sign_in_demo (WzWindow   *self,
                        const char *url,
                        const char *username,
                        const char *password)
{
  g_return_if_fail (WZ_IS_WINDOW (self));

  wz_login_page_set_server_url (self->login_page, url, FALSE);
  gtk_stack_set_visible_child_name (self->main_stack, "login");
  wz_login_page_sign_in_as (self->login_page, username, password);
}

/* ---------------------------------------------------------------------------------------- */
/* Actions */

static void
action_show_login (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  WzWindow *self = WZ_WINDOW (widget);

  gtk_stack_set_visible_child_name (self->main_stack, "login");
  wz_login_page_focus_first (self->login_page);
}

static void
action_refresh (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  load_queue (WZ_WINDOW (widget));
}

static void
action_search (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  WzWindow *self = WZ_WINDOW (widget);

  if (g_strcmp0 (gtk_stack_get_visible_child_name (self->main_stack), "workspace") != 0)
    return;

  adw_leaflet_set_visible_child_name (self->leaflet, "sidebar");
  gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
}

static void
action_back (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  adw_leaflet_navigate (WZ_WINDOW (widget)->leaflet, ADW_NAVIGATION_DIRECTION_BACK);
}

static void
action_view (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  WzWindow *self = WZ_WINDOW (widget);

  if (g_strcmp0 (gtk_stack_get_visible_child_name (self->main_stack), "workspace") != 0)
    return;

  adw_view_stack_set_visible_child_name (self->view_stack, g_variant_get_string (parameter, NULL));
  adw_leaflet_set_visible_child_name (self->leaflet, "content");
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
wz_window_set_status (WzWindow   *self,
                      const char *status)
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

/* ---------------------------------------------------------------------------------------- */
/* GObject */

static void
save_window_state (WzWindow *self)
{
  int width, height;

  gtk_window_get_default_size (GTK_WINDOW (self), &width, &height);
  g_settings_delay (self->settings);
  g_settings_set_boolean (self->settings, "window-maximized",
                          gtk_window_is_maximized (GTK_WINDOW (self)));
  if (!gtk_window_is_maximized (GTK_WINDOW (self)) && width > 0 && height > 0)
    {
      g_settings_set_int (self->settings, "window-width", width);
      g_settings_set_int (self->settings, "window-height", height);
    }
  g_settings_apply (self->settings);
}

static gboolean
wz_window_close_request (GtkWindow *window)
{
  save_window_state (WZ_WINDOW (window));

  return GTK_WINDOW_CLASS (wz_window_parent_class)->close_request (window);
}

static void
emit_first_frame (gpointer widget,
                  gpointer data)
{
  WzWindow *self = WZ_WINDOW (widget);

  if (self->first_frame_done)
    return;

  self->first_frame_done = TRUE;
  if (g_strcmp0 (gtk_stack_get_visible_child_name (self->main_stack), "login") == 0)
    wz_test_report ("state=login-shown");
  g_signal_emit (self, signals[FIRST_FRAME], 0);
}

static void
wz_window_map (GtkWidget *widget)
{
  WzWindow *self = WZ_WINDOW (widget);

  GTK_WIDGET_CLASS (wz_window_parent_class)->map (widget);

  if (!self->first_frame_done)
    run_after_next_paint (widget, emit_first_frame, NULL, NULL);
}

static void
wz_window_dispose (GObject *object)
{
  WzWindow *self = WZ_WINDOW (object);

  stop_session_timers (self);
  g_cancellable_cancel (self->cancellable);
  g_cancellable_cancel (self->queue_cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->queue_cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), WZ_TYPE_WINDOW);
  g_clear_object (&self->selection);
  g_clear_object (&self->filtered);
  g_clear_object (&self->patients);
  g_clear_object (&self->name_filter);
  g_clear_object (&self->client);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (wz_window_parent_class)->dispose (object);
}

static void
wz_window_finalize (GObject *object)
{
  WzWindow *self = WZ_WINDOW (object);

  g_clear_pointer (&self->status, g_free);

  G_OBJECT_CLASS (wz_window_parent_class)->finalize (object);
}

static void
wz_window_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  WzWindow *self = WZ_WINDOW (object);

  switch (prop_id)
    {
    case PROP_STATUS:
      g_value_set_string (value, self->status);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
wz_window_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  WzWindow *self = WZ_WINDOW (object);

  switch (prop_id)
    {
    case PROP_STATUS:
      wz_window_set_status (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
wz_window_class_init (WzWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = wz_window_dispose;
  object_class->finalize = wz_window_finalize;
  object_class->get_property = wz_window_get_property;
  object_class->set_property = wz_window_set_property;

  widget_class->map = wz_window_map;
  window_class->close_request = wz_window_close_request;

  properties[PROP_STATUS] =
    g_param_spec_string ("status", NULL, NULL, "available",
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * WzWindow::first-frame:
   *
   * Emitted once, after the window's first frame has been painted. Slow work waits for it.
   */
  signals[FIRST_FRAME] =
    g_signal_new ("first-frame", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_install_property_action (widget_class, "win.status", "status");
  gtk_widget_class_install_action (widget_class, "win.show-login", NULL, action_show_login);
  gtk_widget_class_install_action (widget_class, "win.refresh", NULL, action_refresh);
  gtk_widget_class_install_action (widget_class, "win.search", NULL, action_search);
  gtk_widget_class_install_action (widget_class, "win.back", NULL, action_back);
  gtk_widget_class_install_action (widget_class, "win.view", "s", action_view);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_f, GDK_CONTROL_MASK, "win.search", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F5, 0, "win.refresh", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_r, GDK_CONTROL_MASK, "win.refresh", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_1, GDK_ALT_MASK, "win.view", "s", "chat");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_2, GDK_ALT_MASK, "win.view", "s", "call");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_3, GDK_ALT_MASK, "win.view", "s", "prescription");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_4, GDK_ALT_MASK, "win.view", "s", "follow-up");

  g_type_ensure (WZ_TYPE_LOGIN_PAGE);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/wenzhen/Wenzhen/wz-window.ui");
  gtk_widget_class_bind_template_child (widget_class, WzWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, WzWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, WzWindow, login_page);
  gtk_widget_class_bind_template_child (widget_class, WzWindow, demo_error_page);
  gtk_widget_class_bind_template_child (widget_class, WzWindow, demo_error_log);
  gtk_widget_class_bind_template_child (widget_class, WzWindow, leaflet);
  gtk_widget_class_bind_template_child (widget_class, WzWindow, doctor_title);
  gtk_widget_class_bind_template_child (widget_class, WzWindow, status_button);
  gtk_widget_class_bind_template_child (widget_class, WzWindow, search_entry);
  gtk_widget_class_bind_template_child (widget_class, WzWindow, queue_stack);
  gtk_widget_class_bind_template_child (widget_class, WzWindow, queue_error_page);
  gtk_widget_class_bind_template_child (widget_class, WzWindow, patient_list);
  gtk_widget_class_bind_template_child (widget_class, WzWindow, switcher_title);
  gtk_widget_class_bind_template_child (widget_class, WzWindow, patient_banner);
  gtk_widget_class_bind_template_child (widget_class, WzWindow, patient_avatar);
  gtk_widget_class_bind_template_child (widget_class, WzWindow, patient_name_label);
  gtk_widget_class_bind_template_child (widget_class, WzWindow, patient_details_label);
  gtk_widget_class_bind_template_child (widget_class, WzWindow, view_stack);
  gtk_widget_class_bind_template_child (widget_class, WzWindow, chat_page);
  gtk_widget_class_bind_template_child (widget_class, WzWindow, call_page);
  gtk_widget_class_bind_template_child (widget_class, WzWindow, prescription_page);
  gtk_widget_class_bind_template_child (widget_class, WzWindow, followup_page);
  gtk_widget_class_bind_template_callback (widget_class, on_signed_in);
  gtk_widget_class_bind_template_callback (widget_class, on_main_page_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_search_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_stop_search);
  gtk_widget_class_bind_template_callback (widget_class, on_patient_activated);
}

static void
on_large_text_changed (WzWindow *self)
{
  if (g_settings_get_boolean (self->settings, "large-text"))
    gtk_widget_add_css_class (GTK_WIDGET (self), "large-text");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self), "large-text");
}

static void
wz_window_init (WzWindow *self)
{
  g_autoptr(GtkListItemFactory) factory = NULL;
  GtkEventController *input;

  /* The win.status property action reads this while the template is being built. */
  self->status = g_strdup ("available");

  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();
  self->settings = g_settings_new (APP_ID);
  self->client = wz_api_client_new ();
  wz_login_page_set_client (self->login_page, self->client);

  gtk_window_set_default_size (GTK_WINDOW (self),
                               g_settings_get_int (self->settings, "window-width"),
                               g_settings_get_int (self->settings, "window-height"));
  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));

  g_signal_connect_object (self->settings, "changed::large-text",
                           G_CALLBACK (on_large_text_changed), self, G_CONNECT_SWAPPED);
  on_large_text_changed (self);

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

  update_consultation_pages (self, NULL);
  wz_window_set_status (self, "available");

  /* Any key or pointer input counts as activity for the idle lock. */
  input = gtk_event_controller_legacy_new ();
  gtk_event_controller_set_propagation_phase (input, GTK_PHASE_CAPTURE);
  g_signal_connect (input, "event", G_CALLBACK (on_any_input), self);
  gtk_widget_add_controller (GTK_WIDGET (self), input);
}

WzWindow *
wz_window_new (WzApplication *application)
{
  return g_object_new (WZ_TYPE_WINDOW, "application", application, NULL);
}
