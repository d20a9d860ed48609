/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-application"

#include "config.h"

#include "wz-application.h"

#include <glib/gi18n.h>
#include <glib-unix.h>

#include "wz-demo-server.h"
#include "wz-preferences-window.h"
#include "wz-test-report.h"
#include "wz-window.h"

struct _WzApplication
{
  AdwApplication  parent_instance;

  WzDemoServer   *demo;
  GCancellable   *cancellable;
  guint           sigterm_id;
  guint           sigint_id;
  gboolean        exit_after_first_frame;
};

G_DEFINE_FINAL_TYPE (WzApplication, wz_application, ADW_TYPE_APPLICATION)

static const GOptionEntry option_entries[] = {
  { "demo", 'd', G_OPTION_FLAG_NONE, G_OPTION_ARG_NONE, NULL,
    N_("Start a private demo server with sample patients and sign in to it"), NULL },
  { "server", 's', G_OPTION_FLAG_NONE, G_OPTION_ARG_STRING, NULL,
    N_("Sign in to the Wenzhen server at URL"), N_("URL") },
  { "version", 0, G_OPTION_FLAG_NONE, G_OPTION_ARG_NONE, NULL,
    N_("Show the version and exit"), NULL },
  { NULL }
};

static WzWindow *
get_window (WzApplication *self)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (WZ_IS_WINDOW (window))
    return WZ_WINDOW (window);

  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l != NULL; l = l->next)
    if (WZ_IS_WINDOW (l->data))
      return WZ_WINDOW (l->data);

  return NULL;
}

static void
on_exit_after_first_frame (WzWindow      *window,
                           WzApplication *self)
{
  /* For bench/ui-start, which compares this with the time it launched us. */
  g_print ("first-frame-realtime-us %" G_GINT64_FORMAT "\n", g_get_real_time ());
  g_application_quit (G_APPLICATION (self));
}

static WzWindow *
ensure_window (WzApplication *self)
{
  WzWindow *window = get_window (self);

  if (window != NULL)
    return window;

  window = wz_window_new (self);
  if (self->exit_after_first_frame)
    g_signal_connect_object (window, "first-frame",
                             G_CALLBACK (on_exit_after_first_frame), self, G_CONNECT_DEFAULT);

  return window;
}

/* ---------------------------------------------------------------------------------------- */
/* Demo */

static void
on_demo_started (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(WzApplication) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  g_autofree char *log = NULL;
  WzWindow *window;

  url = wz_demo_server_start_finish (WZ_DEMO_SERVER (object), result, &error);
  window = get_window (self);

  if (url == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;

      g_message ("Demo server failed: %s", error->message);
      log = wz_demo_server_dup_log_tail (WZ_DEMO_SERVER (object));
      if (window != NULL)
        wz_window_show_demo_error (window, error, log);
      return;
    }

  wz_test_report ("demo-server pid=%s data-dir=%s url=%s",
                  wz_demo_server_get_pid (WZ_DEMO_SERVER (object)),
                  wz_demo_server_get_data_dir (WZ_DEMO_SERVER (object)),
                  url);

  if (window != NULL)
    wz_window_sign_in_demo (window, url, WZ_DEMO_USERNAME, wz_demo_server_get_password ());
}

static void
start_demo (WzWindow      *window,
            WzApplication *self)
{
  g_signal_handlers_disconnect_by_func (window, start_demo, self);

  if (self->demo != NULL)
    return;

  self->demo = wz_demo_server_new ();
  wz_demo_server_start_async (self->demo, self->cancellable, on_demo_started, g_object_ref (self));
}

/* ---------------------------------------------------------------------------------------- */
/* Actions */

static void
action_quit (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  WzApplication *self = user_data;
  WzWindow *window = get_window (self);

  /* Closing the window saves its size; quitting directly would skip that. */
  if (window != NULL)
    gtk_window_close (GTK_WINDOW (window));

  g_application_quit (G_APPLICATION (self));
}

static void
action_preferences (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
  WzApplication *self = user_data;
  GtkWidget *preferences;

  preferences = wz_preferences_window_new (gtk_application_get_active_window (GTK_APPLICATION (self)));
  gtk_window_present (GTK_WINDOW (preferences));
}

static void
action_about (GSimpleAction *action,
              GVariant      *parameter,
              gpointer       user_data)
{
  WzApplication *self = user_data;
  const char *developers[] = { _("The Wenzhen developers"), NULL };
  GtkWidget *about;

  about = g_object_new (ADW_TYPE_ABOUT_WINDOW,
                        "transient-for", gtk_application_get_active_window (GTK_APPLICATION (self)),
                        "modal", TRUE,
                        "application-icon", APP_ID,
                        "application-name", "问诊 Wenzhen",
                        "developer-name", _("The Wenzhen developers"),
                        "version", PACKAGE_VERSION,
                        "comments", _("Remote consultations for doctors: the patient queue, chat, video calls, prescriptions with pharmacist review, and follow-up, in one window."),
                        "license-type", GTK_LICENSE_GPL_3_0,
                        "copyright", _("© 2026 The Wenzhen developers"),
                        "developers", developers,
                        /* Translators: put your names here, one per line */
                        "translator-credits", _("translator-credits"),
                        NULL);
  gtk_window_present (GTK_WINDOW (about));
}

static void
action_shortcuts (GSimpleAction *action,
                  GVariant      *parameter,
                  gpointer       user_data)
{
  WzWindow *window = get_window (user_data);

  if (window != NULL)
    gtk_widget_activate_action (GTK_WIDGET (window), "win.show-help-overlay", NULL);
}

static void
action_logout (GSimpleAction *action,
               GVariant      *parameter,
               gpointer       user_data)
{
  WzWindow *window = get_window (user_data);

  if (window != NULL)
    wz_window_sign_out (window);
}

static const GActionEntry app_actions[] = {
  { .name = "quit", .activate = action_quit },
  { .name = "preferences", .activate = action_preferences },
  { .name = "about", .activate = action_about },
  { .name = "shortcuts", .activate = action_shortcuts },
  { .name = "logout", .activate = action_logout },
};

/* ---------------------------------------------------------------------------------------- */
/* GApplication */

static gboolean
on_quit_signal (gpointer user_data)
{
  g_debug ("Quit requested by signal");
  g_application_quit (G_APPLICATION (user_data));

  return G_SOURCE_CONTINUE;
}

static void
wz_application_startup (GApplication *application)
{
  WzApplication *self = WZ_APPLICATION (application);
  static const char *quit_accels[] = { "<Control>q", NULL };
  static const char *preferences_accels[] = { "<Control>comma", NULL };

  G_APPLICATION_CLASS (wz_application_parent_class)->startup (application);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions, G_N_ELEMENTS (app_actions), self);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.preferences", preferences_accels);

  /* A terminal's Ctrl+C or a session's SIGTERM must still stop the demo server and delete its data. */
  self->sigterm_id = g_unix_signal_add (SIGTERM, on_quit_signal, self);
  self->sigint_id = g_unix_signal_add (SIGINT, on_quit_signal, self);

  gtk_window_set_default_icon_name (APP_ID);
}

static void
on_demo_stopped (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  gboolean *done = user_data;
  g_autoptr(GError) error = NULL;

  if (!wz_demo_server_stop_finish (WZ_DEMO_SERVER (object), result, &error))
    g_warning ("Stopping the demo server failed: %s", error->message);

  *done = TRUE;
}

static void
wz_application_shutdown (GApplication *application)
{
  WzApplication *self = WZ_APPLICATION (application);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->sigterm_id, g_source_remove);
  g_clear_handle_id (&self->sigint_id, g_source_remove);

  if (self->demo != NULL)
    {
      gboolean done = FALSE;

      /* The main loop has stopped; keep the context turning until the server has exited (its
       * stop is bounded by a timeout and SIGKILL) and the data directory is gone. */
      wz_demo_server_stop_async (self->demo, on_demo_stopped, &done);
      while (!done)
        g_main_context_iteration (NULL, TRUE);

      wz_test_report ("demo-server stopped");
      g_clear_object (&self->demo);
    }

  G_APPLICATION_CLASS (wz_application_parent_class)->shutdown (application);
}

static void
wz_application_activate (GApplication *application)
{
  WzWindow *window = ensure_window (WZ_APPLICATION (application));

  gtk_window_present (GTK_WINDOW (window));
}

static int
wz_application_handle_local_options (GApplication *application,
                                     GVariantDict *options)
{
  WzApplication *self = WZ_APPLICATION (application);

  if (g_variant_dict_contains (options, "version"))
    {
      g_print ("%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
      return EXIT_SUCCESS;
    }

  self->exit_after_first_frame = g_strcmp0 (g_getenv ("WZ_EXIT_AFTER_FIRST_FRAME"), "1") == 0;

  return -1;
}

static int
wz_application_command_line (GApplication            *application,
                             GApplicationCommandLine *command_line)
{
  WzApplication *self = WZ_APPLICATION (application);
  GVariantDict *options = g_application_command_line_get_options_dict (command_line);
  const char *server = NULL;
  gboolean demo = FALSE;
  WzWindow *window;

  g_variant_dict_lookup (options, "demo", "b", &demo);
  g_variant_dict_lookup (options, "server", "&s", &server);

  window = ensure_window (self);

  if (demo && server != NULL)
    {
      g_application_command_line_printerr (command_line, "%s\n",
                                           _("--demo and --server cannot be used together."));
      return EXIT_FAILURE;
    }

  if (server != NULL && !wz_window_is_signed_in (window))
    wz_window_set_server_url (window, server, TRUE);

  if (demo && self->demo == NULL)
    {
      wz_window_show_demo_starting (window);
      /* The server starts after the first frame, so the window appears at once. */
      g_signal_connect_object (window, "first-frame", G_CALLBACK (start_demo), self, G_CONNECT_DEFAULT);
    }

  gtk_window_present (GTK_WINDOW (window));

  return EXIT_SUCCESS;
}

static void
wz_application_dispose (GObject *object)
{
  WzApplication *self = WZ_APPLICATION (object);

  g_clear_object (&self->demo);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (wz_application_parent_class)->dispose (object);
}

static void
wz_application_class_init (WzApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = wz_application_dispose;

  app_class->startup = wz_application_startup;
  app_class->shutdown = wz_application_shutdown;
  app_class->activate = wz_application_activate;
  app_class->handle_local_options = wz_application_handle_local_options;
  app_class->command_line = wz_application_command_line;
}

static void
wz_application_init (WzApplication *self)
{
  self->cancellable = g_cancellable_new ();

  g_application_add_main_option_entries (G_APPLICATION (self), option_entries);
  g_application_set_option_context_summary (G_APPLICATION (self),
                                            _("Remote consultations for doctors."));
}

WzApplication *
wz_application_new (void)
{
  return g_object_new (WZ_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", G_APPLICATION_HANDLES_COMMAND_LINE,
                       "resource-base-path", "/io/github/wenzhen/Wenzhen",
                       NULL);
}
