/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-preferences-window"

#include "config.h"

#include "wz-preferences-window.h"

#include <glib/gi18n.h>
#include <string.h>

#include "wz-call.h"
#include "wz-device-monitor.h"
#include "wz-test-report.h"

/* A camera or microphone row: “System Default”, then the connected devices in the monitor's
 * order, then the chosen device if it is not connected right now, so unplugging it does not
 * lose the choice. The labels follow the monitor's items-changed exactly. */
typedef struct
{
  WzPreferencesWindow *self;
  AdwComboRow         *row;
  WzDeviceKind         kind;
  const char          *key;
  GListModel          *devices;
  GtkStringList       *labels;
  char                *missing_id;
  gboolean             syncing;
} DeviceChoice;

/* Every row is bound to its GSettings key, so a change takes effect at once and there is no
 * Apply button to forget. */
struct _WzPreferencesWindow
{
  AdwPreferencesWindow  parent_instance;

  AdwEntryRow          *server_row;
  GtkSwitch            *notify_switch;
  GtkSwitch            *large_text_switch;
  GtkSpinButton        *lock_spin;
  AdwEntryRow          *stun_row;
  AdwEntryRow          *turn_row;
  GtkLabel             *stun_error;
  GtkLabel             *turn_error;
  AdwComboRow          *camera_row;
  AdwComboRow          *microphone_row;

  GSettings            *settings;
  DeviceChoice         *camera;
  DeviceChoice         *microphone;
};

G_DEFINE_FINAL_TYPE (WzPreferencesWindow, wz_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

/* ---------------------------------------------------------------------------------------- */
/* Camera and microphone */

static void device_choice_sync (DeviceChoice *choice);

static char *
device_label (GstDevice *device)
{
  return gst_device_get_display_name (device);
}

static void
on_devices_changed (GListModel   *devices,
                    guint         position,
                    guint         removed,
                    guint         added,
                    DeviceChoice *choice)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < added; i++)
    {
      g_autoptr(GstDevice) device = g_list_model_get_item (devices, position + i);

      g_ptr_array_add (names, device_label (device));
    }
  g_ptr_array_add (names, NULL);

  choice->syncing = TRUE;
  gtk_string_list_splice (choice->labels, position + 1, removed,
                          (const char * const *) names->pdata);
  choice->syncing = FALSE;
  device_choice_sync (choice);
}

static void
update_device_subtitle (DeviceChoice *choice)
{
  guint n = g_list_model_get_n_items (choice->devices);
  const char *subtitle = NULL;

  if (choice->missing_id != NULL)
    subtitle = choice->kind == WZ_DEVICE_KIND_CAMERA
               ? _("The chosen camera is not connected. Calls use the system default until it is.")
               : _("The chosen microphone is not connected. Calls use the system default until it is.");
  else if (n == 0)
    subtitle = choice->kind == WZ_DEVICE_KIND_CAMERA
               ? _("No camera found. Patients see a test picture instead of you.")
               : _("No microphone found. Patients will not hear you.");

  adw_action_row_set_subtitle (ADW_ACTION_ROW (choice->row), subtitle != NULL ? subtitle : "");
}

/* Shows the setting's device as the selected row, adding or dropping the “not connected” entry
 * at the end as needed. */
static void
device_choice_sync (DeviceChoice *choice)
{
  g_autofree char *id = g_settings_get_string (choice->self->settings, choice->key);
  guint n = g_list_model_get_n_items (choice->devices);
  guint selected = 0;
  gboolean missing;

  if (choice->syncing)
    return;

  for (guint i = 0; *id != '\0' && i < n; i++)
    {
      g_autoptr(GstDevice) device = g_list_model_get_item (choice->devices, i);
      g_autofree char *device_id = wz_call_device_get_id (device);

      if (g_strcmp0 (device_id, id) == 0)
        selected = i + 1;
    }
  missing = *id != '\0' && selected == 0;

  choice->syncing = TRUE;
  if (choice->missing_id != NULL && (!missing || g_strcmp0 (choice->missing_id, id) != 0))
    {
      gtk_string_list_remove (choice->labels, n + 1);
      g_clear_pointer (&choice->missing_id, g_free);
    }
  if (missing && choice->missing_id == NULL)
    {
      g_autofree char *label = NULL;

      /* Translators: a camera or microphone chosen earlier that is unplugged now */
      label = g_strdup_printf (_("%s (not connected)"), id);
      gtk_string_list_append (choice->labels, label);
      choice->missing_id = g_strdup (id);
    }
  if (missing)
    selected = n + 1;
  adw_combo_row_set_selected (choice->row, selected);
  choice->syncing = FALSE;

  update_device_subtitle (choice);
  wz_test_report ("preferences-%s selected=%u n-devices=%u missing=%s",
                  choice->kind == WZ_DEVICE_KIND_CAMERA ? "camera" : "microphone",
                  selected, n, missing ? "yes" : "no");
}

static void
on_device_selected (AdwComboRow  *row,
                    GParamSpec   *pspec,
                    DeviceChoice *choice)
{
  guint selected = adw_combo_row_get_selected (row);
  guint n = g_list_model_get_n_items (choice->devices);
  g_autofree char *id = NULL;

  if (choice->syncing || selected == GTK_INVALID_LIST_POSITION || selected > n)
    return;

  if (selected > 0)
    {
      g_autoptr(GstDevice) device = g_list_model_get_item (choice->devices, selected - 1);

      id = wz_call_device_get_id (device);
    }
  g_settings_set_string (choice->self->settings, choice->key, id != NULL ? id : "");
}

static void
on_device_setting_changed (GSettings    *settings,
                           const char   *key,
                           DeviceChoice *choice)
{
  device_choice_sync (choice);
}

static DeviceChoice *
device_choice_new (WzPreferencesWindow *self,
                   AdwComboRow         *row,
                   WzDeviceKind         kind,
                   const char          *key)
{
  DeviceChoice *choice = g_new0 (DeviceChoice, 1);
  g_autofree char *signal = g_strconcat ("changed::", key, NULL);
  guint n;

  choice->self = self;
  choice->row = row;
  choice->kind = kind;
  choice->key = key;
  choice->devices = g_object_ref (wz_device_monitor_get_devices (wz_device_monitor_get_default (),
                                                                 kind));
  /* Translators: the first entry of the camera and microphone lists */
  choice->labels = gtk_string_list_new ((const char *[]) { _("System Default"), NULL });
  n = g_list_model_get_n_items (choice->devices);

  choice->syncing = TRUE;
  adw_combo_row_set_model (row, G_LIST_MODEL (choice->labels));
  choice->syncing = FALSE;
  on_devices_changed (choice->devices, 0, 0, n, choice);

  g_signal_connect (choice->devices, "items-changed", G_CALLBACK (on_devices_changed), choice);
  g_signal_connect (row, "notify::selected", G_CALLBACK (on_device_selected), choice);
  g_signal_connect (self->settings, signal, G_CALLBACK (on_device_setting_changed), choice);

  return choice;
}

static void
device_choice_free (DeviceChoice *choice)
{
  g_signal_handlers_disconnect_by_data (choice->devices, choice);
  g_signal_handlers_disconnect_by_data (choice->row, choice);
  g_signal_handlers_disconnect_by_data (choice->self->settings, choice);
  g_clear_object (&choice->devices);
  g_clear_object (&choice->labels);
  g_free (choice->missing_id);
  g_free (choice);
}

/* ---------------------------------------------------------------------------------------- */
/* STUN and TURN */

static gboolean
is_host (const char *host)
{
  gboolean label_start = TRUE;
  gsize length = strlen (host);

  if (length == 0 || length > 253)
    return FALSE;
  if (g_hostname_is_ip_address (host))
    return TRUE;

  for (const char *p = host; *p != '\0'; p++)
    {
      if (*p == '.')
        {
          if (label_start || p[-1] == '-')
            return FALSE;
          label_start = TRUE;
          continue;
        }
      if (!g_ascii_isalnum (*p) && (*p != '-' || label_start))
        return FALSE;
      label_start = FALSE;
    }

  return !label_start && host[length - 1] != '-';
}

/* Parses "host", "host:port", "[v6]" or "[v6]:port". */
static gboolean
parse_host_port (const char  *text,
                 guint        default_port,
                 char       **out_host,
                 guint       *out_port,
                 char       **message)
{
  g_autofree char *host = NULL;
  const char *port_text = NULL;
  guint64 port = default_port;

  if (text[0] == '[')
    {
      const char *end = strchr (text, ']');

      if (end == NULL)
        {
          *message = g_strdup (_("An IPv6 address needs its closing bracket, as in [2001:db8::1]:3478."));
          return FALSE;
        }
      host = g_strndup (text + 1, end - text - 1);
      if (end[1] == ':')
        port_text = end + 2;
      else if (end[1] != '\0')
        {
          *message = g_strdup (_("Only a port may follow the address, as in [2001:db8::1]:3478."));
          return FALSE;
        }
      if (!g_hostname_is_ip_address (host) || strchr (host, ':') == NULL)
        {
          /* Translators: %s is what the user typed as the server's address */
          *message = g_strdup_printf (_("“%s” is not an IPv6 address."), host);
          return FALSE;
        }
    }
  else
    {
      const char *colon = strchr (text, ':');

      host = colon != NULL ? g_strndup (text, colon - text) : g_strdup (text);
      port_text = colon != NULL ? colon + 1 : NULL;
      if (!is_host (host))
        {
          /* Translators: %s is what the user typed as the server's host */
          *message = *host == '\0'
                     ? g_strdup (_("The server's host name or IP address is missing."))
                     : g_strdup_printf (_("“%s” is not a host name or IP address."), host);
          return FALSE;
        }
    }

  if (port_text != NULL
      && (!g_ascii_string_to_unsigned (port_text, 10, 1, 65535, &port, NULL)))
    {
      *message = g_strdup (_("The port must be a number from 1 to 65535, as in :3478."));
      return FALSE;
    }

  *out_host = g_steal_pointer (&host);
  *out_port = (guint) port;
  return TRUE;
}

/* Checks a STUN or TURN address as people copy them from a provider (stun:host:port,
 * turn:user:password@host:port?transport=tcp, turn:host:port,user,password, or with “//”) and
 * gives the form the call engine takes (stun://host:port, turn(s)://user:password@host:port);
 * empty means none. On a mistake, @message says what is wrong and how it should look. */
static gboolean
check_ice_uri (const char  *text,
               gboolean     turn,
               char       **normalized,
               char       **message)
{
  g_autofree char *uri = g_strstrip (g_strdup (text));
  g_autofree char *scheme = NULL;
  g_autofree char *userinfo = NULL;
  g_autofree char *host = NULL;
  g_autofree char *transport = NULL;
  g_auto(GStrv) parts = NULL;
  const char *rest;
  const char *at;
  const char *query;
  g_autofree char *hostport = NULL;
  guint port;

  *normalized = NULL;
  *message = NULL;

  if (*uri == '\0')
    {
      *normalized = g_strdup ("");
      return TRUE;
    }

  rest = strchr (uri, ':');
  scheme = rest != NULL ? g_ascii_strdown (uri, rest - uri) : NULL;
  if (!turn && g_strcmp0 (scheme, "stun") != 0)
    {
      *message = g_strdup (_("A STUN server is written stun:host:port, for example stun:stun.example.org:3478."));
      return FALSE;
    }
  if (turn && g_strcmp0 (scheme, "turn") != 0 && g_strcmp0 (scheme, "turns") != 0)
    {
      *message = g_strdup (_("A TURN relay is written turn:user:password@host:port, for example turn:doctor:secret@turn.example.org:3478?transport=udp."));
      return FALSE;
    }
  rest++;
  if (g_str_has_prefix (rest, "//"))
    rest += 2;

  /* The form some servers hand out: turn:host:port,user,password */
  parts = g_strsplit (rest, ",", -1);
  if (turn && g_strv_length (parts) == 3 && *parts[1] != '\0' && *parts[2] != '\0')
    {
      g_autofree char *user = g_uri_escape_string (parts[1], "!$&'()*+;=", FALSE);
      g_autofree char *password = g_uri_escape_string (parts[2], "!$&'()*+;=", FALSE);

      userinfo = g_strconcat (user, ":", password, NULL);
      rest = parts[0];
    }
  else if (g_strv_length (parts) > 1)
    {
      *message = g_strdup (_("Write one server only, without commas."));
      return FALSE;
    }

  at = strrchr (rest, '@');
  if (at != NULL)
    {
      g_autofree char *given = g_strndup (rest, at - rest);
      const char *colon = strchr (given, ':');

      if (!turn)
        {
          *message = g_strdup (_("A STUN server takes no user name or password; write stun:host:port."));
          return FALSE;
        }
      if (colon == NULL || colon == given || colon[1] == '\0')
        {
          *message = g_strdup (_("Write the relay's user name and password as user:password@ before the host."));
          return FALSE;
        }
      g_clear_pointer (&userinfo, g_free);
      userinfo = g_steal_pointer (&given);
      rest = at + 1;
    }
  if (turn && userinfo == NULL)
    {
      *message = g_strdup (_("A TURN relay needs the user name and password it was set up with: turn:user:password@host:port."));
      return FALSE;
    }

  query = strchr (rest, '?');
  hostport = query != NULL ? g_strndup (rest, query - rest) : g_strdup (rest);
  if (query != NULL)
    {
      if (!turn || (g_ascii_strcasecmp (query, "?transport=udp") != 0
                    && g_ascii_strcasecmp (query, "?transport=tcp") != 0))
        {
          *message = g_strdup (turn ? _("The only option after “?” is transport=udp or transport=tcp.")
                                    : _("A STUN server takes no options after “?”; write stun:host:port."));
          return FALSE;
        }
      transport = g_ascii_strdown (query, -1);
    }

  if (!parse_host_port (hostport, g_strcmp0 (scheme, "turns") == 0 ? 5349 : 3478,
                        &host, &port, message))
    return FALSE;

  if (strchr (host, ':') != NULL)
    {
      g_autofree char *bracketed = g_strconcat ("[", host, "]", NULL);

      g_free (host);
      host = g_steal_pointer (&bracketed);
    }

  if (!turn)
    *normalized = g_strdup_printf ("stun://%s:%u", host, port);
  else
    *normalized = g_strdup_printf ("%s://%s@%s:%u%s", scheme, userinfo, host, port,
                                   transport != NULL ? transport : "");
  return TRUE;
}

static void
show_ice_error (WzPreferencesWindow *self,
                AdwEntryRow         *row,
                const char          *message)
{
  GtkLabel *label = row == self->stun_row ? self->stun_error : self->turn_error;

  gtk_label_set_text (label, message != NULL ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (label), message != NULL);
  if (message != NULL)
    gtk_widget_add_css_class (GTK_WIDGET (row), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (row), "error");
}

static void
on_ice_row_apply (WzPreferencesWindow *self,
                  AdwEntryRow         *row)
{
  gboolean turn = row == self->turn_row;
  const char *key = turn ? "turn-server" : "stun-server";
  g_autofree char *normalized = NULL;
  g_autofree char *message = NULL;

  if (!check_ice_uri (gtk_editable_get_text (GTK_EDITABLE (row)), turn, &normalized, &message))
    {
      show_ice_error (self, row, message);
      wz_test_report ("preferences-%s invalid message=%s", turn ? "turn" : "stun", message);
      return;
    }

  show_ice_error (self, row, NULL);
  g_settings_set_string (self->settings, key, normalized);
  /* The binding shows the stored form; the apply button stays hidden for it. */
  wz_test_report ("preferences-%s saved=%s", turn ? "turn" : "stun", normalized);
}

static void
on_ice_row_changed (WzPreferencesWindow *self,
                    AdwEntryRow         *row)
{
  /* The message is about what was applied; typing starts over. */
  if (gtk_widget_has_css_class (GTK_WIDGET (row), "error"))
    show_ice_error (self, row, NULL);
}

static void
wz_preferences_window_dispose (GObject *object)
{
  WzPreferencesWindow *self = WZ_PREFERENCES_WINDOW (object);

  g_clear_pointer (&self->camera, device_choice_free);
  g_clear_pointer (&self->microphone, device_choice_free);
  gtk_widget_dispose_template (GTK_WIDGET (self), WZ_TYPE_PREFERENCES_WINDOW);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (wz_preferences_window_parent_class)->dispose (object);
}

static void
wz_preferences_window_class_init (WzPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = wz_preferences_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/wenzhen/Wenzhen/wz-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, WzPreferencesWindow, server_row);
  gtk_widget_class_bind_template_child (widget_class, WzPreferencesWindow, notify_switch);
  gtk_widget_class_bind_template_child (widget_class, WzPreferencesWindow, large_text_switch);
  gtk_widget_class_bind_template_child (widget_class, WzPreferencesWindow, lock_spin);
  gtk_widget_class_bind_template_child (widget_class, WzPreferencesWindow, stun_row);
  gtk_widget_class_bind_template_child (widget_class, WzPreferencesWindow, turn_row);
  gtk_widget_class_bind_template_child (widget_class, WzPreferencesWindow, stun_error);
  gtk_widget_class_bind_template_child (widget_class, WzPreferencesWindow, turn_error);
  gtk_widget_class_bind_template_child (widget_class, WzPreferencesWindow, camera_row);
  gtk_widget_class_bind_template_child (widget_class, WzPreferencesWindow, microphone_row);
  gtk_widget_class_bind_template_callback (widget_class, on_ice_row_apply);
  gtk_widget_class_bind_template_callback (widget_class, on_ice_row_changed);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_w, GDK_CONTROL_MASK, "window.close", NULL);
}

static void
wz_preferences_window_init (WzPreferencesWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->settings = g_settings_new (APP_ID);

  g_settings_bind (self->settings, "server-url", self->server_row, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "notify-new-patient", self->notify_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "large-text", self->large_text_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "idle-lock-minutes",
                   gtk_spin_button_get_adjustment (self->lock_spin), "value",
                   G_SETTINGS_BIND_DEFAULT);
  /* Written only once checked (Enter or the apply button), so a half-typed address never
   * reaches a call. */
  g_settings_bind (self->settings, "stun-server", self->stun_row, "text", G_SETTINGS_BIND_GET);
  g_settings_bind (self->settings, "turn-server", self->turn_row, "text", G_SETTINGS_BIND_GET);

  self->camera = device_choice_new (self, self->camera_row, WZ_DEVICE_KIND_CAMERA, "camera-device");
  self->microphone = device_choice_new (self, self->microphone_row, WZ_DEVICE_KIND_MICROPHONE,
                                        "microphone-device");
}

GtkWidget *
wz_preferences_window_new (GtkWindow *parent)
{
  return g_object_new (WZ_TYPE_PREFERENCES_WINDOW,
                       "transient-for", parent,
                       "modal", parent != NULL,
                       NULL);
}
