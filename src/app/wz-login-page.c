/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-login-page"

#include "config.h"

#include "wz-login-page.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "wz-test-report.h"

/* Server address, user name, password, and one clear sentence when something goes wrong. The
 * address is checked before anything is sent, and again against the server when it is given on
 * the command line, so a typo shows up before the doctor types a password. */
struct _WzLoginPage
{
  GtkWidget     parent_instance;

  GtkRevealer  *error_revealer;
  GtkLabel     *error_label;
  GtkListBox   *form;
  AdwEntryRow  *server_row;
  AdwEntryRow  *username_row;
  AdwEntryRow  *password_row;
  GtkButton    *sign_in_button;
  GtkSpinner   *spinner;

  WzApiClient  *client;
  GSettings    *settings;
  GCancellable *cancellable;
  gboolean      busy;
  /* Whether a successful sign-in updates the remembered address and user name. */
  gboolean      remember;
};

G_DEFINE_FINAL_TYPE (WzLoginPage, wz_login_page, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_BUSY,
  N_PROPS
};

enum {
  SIGNED_IN,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
set_busy (WzLoginPage *self,
          gboolean     busy)
{
  if (self->busy == busy)
    return;

  self->busy = busy;
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->form), !busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "login.sign-in", !busy);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

static void
hide_error (WzLoginPage *self)
{
  gtk_revealer_set_reveal_child (self->error_revealer, FALSE);
  gtk_widget_remove_css_class (GTK_WIDGET (self->server_row), "error");
  gtk_widget_remove_css_class (GTK_WIDGET (self->password_row), "error");
}

void
wz_login_page_show_error (WzLoginPage  *self,
                          const GError *error)
{
  g_return_if_fail (WZ_IS_LOGIN_PAGE (self));
  g_return_if_fail (error != NULL);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  gtk_label_set_text (self->error_label, error->message);
  gtk_revealer_set_reveal_child (self->error_revealer, TRUE);

  /* Point at the field the doctor has to fix. */
  if (g_error_matches (error, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_BAD_URL)
      || g_error_matches (error, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_UNREACHABLE)
      || g_error_matches (error, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_NOT_WENZHEN)
      || g_error_matches (error, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_TLS))
    gtk_widget_add_css_class (GTK_WIDGET (self->server_row), "error");
  else if (g_error_matches (error, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_WRONG_PASSWORD))
    {
      gtk_widget_add_css_class (GTK_WIDGET (self->password_row), "error");
      wz_login_page_clear_password (self);
      gtk_widget_grab_focus (GTK_WIDGET (self->password_row));
    }

  wz_test_report ("login-error=%s message=%s", wz_client_error_nick (error), error->message);
}

static void
on_login_done (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(WzLoginPage) self = user_data;
  g_autoptr(GError) error = NULL;
  WzSession *session;
  gboolean remember;

  session = wz_api_client_login_finish (WZ_API_CLIENT (object), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  set_busy (self, FALSE);
  remember = self->remember;
  self->remember = TRUE;

  if (session == NULL)
    {
      wz_login_page_show_error (self, error);
      return;
    }

  hide_error (self);
  if (remember)
    {
      g_settings_set_string (self->settings, "server-url",
                             wz_api_client_get_base_url (self->client));
      g_settings_set_string (self->settings, "last-username", wz_session_get_username (session));
    }
  wz_login_page_clear_password (self);

  g_signal_emit (self, signals[SIGNED_IN], 0, session);
}

static void
sign_in (GtkWidget  *widget,
         const char *action_name,
         GVariant   *parameter)
{
  WzLoginPage *self = WZ_LOGIN_PAGE (widget);
  g_autoptr(GError) error = NULL;
  const char *username;
  const char *password;

  if (self->busy || self->client == NULL)
    return;

  hide_error (self);

  if (!wz_api_client_set_base_url (self->client,
                                   gtk_editable_get_text (GTK_EDITABLE (self->server_row)),
                                   &error))
    {
      wz_login_page_show_error (self, error);
      gtk_widget_grab_focus (GTK_WIDGET (self->server_row));
      return;
    }

  username = gtk_editable_get_text (GTK_EDITABLE (self->username_row));
  password = gtk_editable_get_text (GTK_EDITABLE (self->password_row));

  if (*username == '\0')
    {
      gtk_widget_grab_focus (GTK_WIDGET (self->username_row));
      return;
    }
  if (*password == '\0')
    {
      gtk_widget_grab_focus (GTK_WIDGET (self->password_row));
      return;
    }

  /* The address is now in its normalized form; show the doctor what will be used. */
  gtk_editable_set_text (GTK_EDITABLE (self->server_row),
                         wz_api_client_get_base_url (self->client));

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();

  set_busy (self, TRUE);
  wz_api_client_login_async (self->client, username, password, self->cancellable,
                             on_login_done, g_object_ref (self));
}

static void
on_entry_activated (WzLoginPage *self,
                    AdwEntryRow *row)
{
  /* Enter in the user name moves on to the password first, as in any sign-in form. */
  if (row == self->username_row
      && *gtk_editable_get_text (GTK_EDITABLE (self->password_row)) == '\0')
    {
      gtk_widget_grab_focus (GTK_WIDGET (self->password_row));
      return;
    }

  gtk_widget_activate_action (GTK_WIDGET (self), "login.sign-in", NULL);
}

static void
on_server_changed (WzLoginPage *self)
{
  gtk_widget_remove_css_class (GTK_WIDGET (self->server_row), "error");
}

static void
on_check_done (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(WzLoginPage) self = user_data;
  g_autoptr(GError) error = NULL;

  if (wz_api_client_check_server_finish (WZ_API_CLIENT (object), result, &error))
    {
      wz_test_report ("server-check=ok");
      return;
    }

  if (!self->busy)
    wz_login_page_show_error (self, error);
}

void
wz_login_page_set_server_url (WzLoginPage *self,
                              const char  *url,
                              gboolean     check_now)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (WZ_IS_LOGIN_PAGE (self));

  gtk_editable_set_text (GTK_EDITABLE (self->server_row), url != NULL ? url : "");

  if (!check_now || self->client == NULL)
    return;

  hide_error (self);
  if (!wz_api_client_set_base_url (self->client, url, &error))
    {
      wz_login_page_show_error (self, error);
      return;
    }

  gtk_editable_set_text (GTK_EDITABLE (self->server_row),
                         wz_api_client_get_base_url (self->client));
  wz_api_client_check_server_async (self->client, self->cancellable, on_check_done,
                                    g_object_ref (self));
}

/**
 * wz_login_page_sign_in_as:
 *
 * Fills the form and signs in, exactly as if the doctor had typed it; used by the demo so the
 * same path, spinner and error handling apply. The demo's throw-away address and user are not
 * remembered for the next start.
 */
void
wz_login_page_sign_in_as (WzLoginPage *self,
                          const char  *username,
                          const char  *password)
{
  g_return_if_fail (WZ_IS_LOGIN_PAGE (self));

  self->remember = FALSE;
  gtk_editable_set_text (GTK_EDITABLE (self->username_row), username);
  gtk_editable_set_text (GTK_EDITABLE (self->password_row), password);
  gtk_widget_activate_action (GTK_WIDGET (self), "login.sign-in", NULL);
}

void
wz_login_page_clear_password (WzLoginPage *self)
{
  g_return_if_fail (WZ_IS_LOGIN_PAGE (self));

  gtk_editable_set_text (GTK_EDITABLE (self->password_row), "");
}

void
wz_login_page_focus_first (WzLoginPage *self)
{
  g_return_if_fail (WZ_IS_LOGIN_PAGE (self));

  if (*gtk_editable_get_text (GTK_EDITABLE (self->server_row)) == '\0')
    gtk_widget_grab_focus (GTK_WIDGET (self->server_row));
  else if (*gtk_editable_get_text (GTK_EDITABLE (self->username_row)) == '\0')
    gtk_widget_grab_focus (GTK_WIDGET (self->username_row));
  else
    gtk_widget_grab_focus (GTK_WIDGET (self->password_row));
}

gboolean
wz_login_page_get_busy (WzLoginPage *self)
{
  g_return_val_if_fail (WZ_IS_LOGIN_PAGE (self), FALSE);

  return self->busy;
}

void
wz_login_page_set_client (WzLoginPage *self,
                          WzApiClient *client)
{
  g_return_if_fail (WZ_IS_LOGIN_PAGE (self));

  g_set_object (&self->client, client);
}

static void
wz_login_page_dispose (GObject *object)
{
  WzLoginPage *self = WZ_LOGIN_PAGE (object);
  GtkWidget *child;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->client);
  g_clear_object (&self->settings);
  gtk_widget_dispose_template (GTK_WIDGET (self), WZ_TYPE_LOGIN_PAGE);
  /* The template's top-level box is not a bound child; a bin widget unparents it itself. */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (wz_login_page_parent_class)->dispose (object);
}

static void
wz_login_page_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  WzLoginPage *self = WZ_LOGIN_PAGE (object);

  switch (prop_id)
    {
    case PROP_BUSY:
      g_value_set_boolean (value, self->busy);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static gboolean
wz_login_page_grab_focus (GtkWidget *widget)
{
  wz_login_page_focus_first (WZ_LOGIN_PAGE (widget));

  return TRUE;
}

static void
wz_login_page_map (GtkWidget *widget)
{
  WzLoginPage *self = WZ_LOGIN_PAGE (widget);
  GtkRoot *root;

  GTK_WIDGET_CLASS (wz_login_page_parent_class)->map (widget);

  /* Enter anywhere in the form signs in. */
  root = gtk_widget_get_root (widget);
  if (GTK_IS_WINDOW (root))
    gtk_window_set_default_widget (GTK_WINDOW (root), GTK_WIDGET (self->sign_in_button));
}

static void
wz_login_page_class_init (WzLoginPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = wz_login_page_dispose;
  object_class->get_property = wz_login_page_get_property;

  widget_class->grab_focus = wz_login_page_grab_focus;
  widget_class->map = wz_login_page_map;

  properties[PROP_BUSY] =
    g_param_spec_boolean ("busy", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * WzLoginPage::signed-in:
   * @session: the new session
   */
  signals[SIGNED_IN] =
    g_signal_new ("signed-in", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, WZ_TYPE_SESSION);

  gtk_widget_class_install_action (widget_class, "login.sign-in", NULL, sign_in);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/wenzhen/Wenzhen/wz-login-page.ui");
  gtk_widget_class_bind_template_child (widget_class, WzLoginPage, error_revealer);
  gtk_widget_class_bind_template_child (widget_class, WzLoginPage, error_label);
  gtk_widget_class_bind_template_child (widget_class, WzLoginPage, form);
  gtk_widget_class_bind_template_child (widget_class, WzLoginPage, server_row);
  gtk_widget_class_bind_template_child (widget_class, WzLoginPage, username_row);
  gtk_widget_class_bind_template_child (widget_class, WzLoginPage, password_row);
  gtk_widget_class_bind_template_child (widget_class, WzLoginPage, sign_in_button);
  gtk_widget_class_bind_template_child (widget_class, WzLoginPage, spinner);
  gtk_widget_class_bind_template_callback (widget_class, on_entry_activated);
  gtk_widget_class_bind_template_callback (widget_class, on_server_changed);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "loginpage");
}

static void
wz_login_page_init (WzLoginPage *self)
{
  g_autofree char *server_url = NULL;
  g_autofree char *username = NULL;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();
  self->settings = g_settings_new (APP_ID);
  self->remember = TRUE;

  server_url = g_settings_get_string (self->settings, "server-url");
  username = g_settings_get_string (self->settings, "last-username");
  gtk_editable_set_text (GTK_EDITABLE (self->server_row), server_url);
  gtk_editable_set_text (GTK_EDITABLE (self->username_row), username);
}
