/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-window"

#include "config.h"

#include "wz-window.h"

#include <glib/gi18n.h>

#include "wz-api-client.h"
#include "wz-login-page.h"
#include "wz-test-report.h"
#include "wz-workspace.h"

/* The main window: sign-in (or the demo starting), then the workspace. It owns the connection to
 * the server and decides when the session ends: sign-out, an expired token, or the idle lock. */
struct _WzWindow
{
  AdwApplicationWindow  parent_instance;

  AdwToastOverlay      *toast_overlay;
  GtkStack             *main_stack;
  WzLoginPage          *login_page;
  AdwStatusPage        *demo_error_page;
  GtkLabel             *demo_error_log;
  GtkWidget            *demo_login_button;
  WzWorkspace          *workspace;

  GSettings            *settings;
  WzApiClient          *client;
  guint                 idle_check_id;
  gint64                last_input;
  gboolean              first_frame_done;
};

G_DEFINE_FINAL_TYPE (WzWindow, wz_window, ADW_TYPE_APPLICATION_WINDOW)

enum {
  FIRST_FRAME,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

#define IDLE_CHECK_SECONDS 15

static gboolean
is_settled (GtkWidget *widget)
{
  return !gtk_stack_get_transition_running (WZ_WINDOW (widget)->main_stack);
}

static void
on_toast (WzWindow   *self,
          const char *title)
{
  AdwToast *toast = adw_toast_new (title);

  adw_toast_set_timeout (toast, 5);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

/* ---------------------------------------------------------------------------------------- */
/* Signing in and out */

static void
on_session_ended (WzWindow     *self,
                  const GError *error)
{
  wz_window_sign_out (self);
  wz_login_page_show_error (self->login_page, error);
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

  error = g_error_new (WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_SESSION_ENDED,
                       g_dngettext (GETTEXT_PACKAGE,
                                    "Wenzhen was locked after %u minute without activity. Enter your password to continue.",
                                    "Wenzhen was locked after %u minutes without activity. Enter your password to continue.",
                                    minutes),
                       minutes);
  on_session_ended (self, error);

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
on_metadata_read (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  /* Only the hospital's name for printed documents comes of it; without it they keep the
   * default name. */
  if (!wz_api_client_check_server_finish (WZ_API_CLIENT (object), result, &error))
    g_debug ("Could not read the server's description: %s", error->message);
}

static void
on_signed_in (WzWindow  *self,
              WzSession *session)
{
  if (self->workspace == NULL)
    {
      self->workspace = WZ_WORKSPACE (wz_workspace_new (self->client));
      g_signal_connect_object (self->workspace, "session-ended",
                               G_CALLBACK (on_session_ended), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (self->workspace, "toast",
                               G_CALLBACK (on_toast), self, G_CONNECT_SWAPPED);
      gtk_stack_add_named (self->main_stack, GTK_WIDGET (self->workspace), "workspace");
    }

  wz_workspace_start (self->workspace, session);
  gtk_stack_set_visible_child_name (self->main_stack, "workspace");

  /* The demo signs in without checking the server first, so what the server says about itself
   * (the hospital printed on prescriptions) may not be known yet. */
  if (wz_api_client_get_organization_name (self->client) == NULL)
    wz_api_client_check_server_async (self->client, NULL, on_metadata_read, NULL);

  g_clear_handle_id (&self->idle_check_id, g_source_remove);
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

  g_clear_handle_id (&self->idle_check_id, g_source_remove);

  if (self->workspace != NULL)
    wz_workspace_stop (self->workspace);

  if (wz_api_client_get_session (self->client) != NULL)
    wz_api_client_logout_async (self->client, NULL, on_logout_done, NULL);

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
    wz_test_report_when_settled (GTK_WIDGET (self), is_settled, "state=login-shown");
  else if (g_strcmp0 (page, "starting") == 0)
    wz_test_report_when_settled (GTK_WIDGET (self), is_settled, "state=demo-starting");
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
  /* Otherwise the selectable log takes the focus and shows up fully selected. */
  gtk_widget_grab_focus (self->demo_login_button);

  if (wz_test_report_enabled ())
    {
      g_auto(GStrv) lines = g_strsplit (log, "\n", -1);
      g_autofree char *joined = g_strjoinv (" | ", lines);

      wz_test_report ("demo-log=%s", joined);
    }
  wz_test_report_when_settled (GTK_WIDGET (self), is_settled, "state=demo-error message=%s",
                               error->message);
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
/* Actions: the window's shortcuts work wherever the focus is, and reach the workspace only while
 * it is on screen. */

static WzWorkspace *
visible_workspace (WzWindow *self)
{
  if (self->workspace == NULL
      || gtk_stack_get_visible_child (self->main_stack) != GTK_WIDGET (self->workspace))
    return NULL;

  return self->workspace;
}

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
  WzWorkspace *workspace = visible_workspace (WZ_WINDOW (widget));

  if (workspace != NULL)
    wz_workspace_refresh (workspace);
}

static void
action_search (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  WzWorkspace *workspace = visible_workspace (WZ_WINDOW (widget));

  if (workspace != NULL)
    wz_workspace_focus_search (workspace);
}

static void
action_view (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  WzWorkspace *workspace = visible_workspace (WZ_WINDOW (widget));

  if (workspace != NULL)
    wz_workspace_show_view (workspace, g_variant_get_string (parameter, NULL));
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
on_first_frame (GdkFrameClock *clock,
                WzWindow      *self)
{
  g_signal_handlers_disconnect_by_func (clock, on_first_frame, self);

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
    g_signal_connect_object (gtk_widget_get_frame_clock (widget), "after-paint",
                             G_CALLBACK (on_first_frame), self, G_CONNECT_DEFAULT);
}

static void
wz_window_dispose (GObject *object)
{
  WzWindow *self = WZ_WINDOW (object);

  g_clear_handle_id (&self->idle_check_id, g_source_remove);
  gtk_widget_dispose_template (GTK_WIDGET (self), WZ_TYPE_WINDOW);
  self->workspace = NULL;
  g_clear_object (&self->client);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (wz_window_parent_class)->dispose (object);
}

static void
wz_window_class_init (WzWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = wz_window_dispose;

  widget_class->map = wz_window_map;
  window_class->close_request = wz_window_close_request;

  /**
   * WzWindow::first-frame:
   *
   * Emitted once, after the window's first frame has been painted. Slow work waits for it.
   */
  signals[FIRST_FRAME] =
    g_signal_new ("first-frame", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_install_action (widget_class, "win.show-login", NULL, action_show_login);
  gtk_widget_class_install_action (widget_class, "win.refresh", NULL, action_refresh);
  gtk_widget_class_install_action (widget_class, "win.search", NULL, action_search);
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
  gtk_widget_class_bind_template_child (widget_class, WzWindow, demo_login_button);
  gtk_widget_class_bind_template_callback (widget_class, on_signed_in);
  gtk_widget_class_bind_template_callback (widget_class, on_main_page_changed);
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
  GtkEventController *input;

  gtk_widget_init_template (GTK_WIDGET (self));

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
