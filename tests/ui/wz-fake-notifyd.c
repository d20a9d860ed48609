/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-fake-notifyd"

#include "config.h"

#include <gio/gio.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>

/* A desktop notification server for UI tests, on the test's private session bus: it records
 * every notification the app sends (one line each in the file given as the first argument) and,
 * on SIGUSR1, clicks the last one as a person would (ActionInvoked "default"), so a test sees
 * what the desktop would show and what a click on it does. */

static const char introspection_xml[] =
  "<node>"
  "  <interface name='org.freedesktop.Notifications'>"
  "    <method name='Notify'>"
  "      <arg type='s' direction='in'/><arg type='u' direction='in'/>"
  "      <arg type='s' direction='in'/><arg type='s' direction='in'/>"
  "      <arg type='s' direction='in'/><arg type='as' direction='in'/>"
  "      <arg type='a{sv}' direction='in'/><arg type='i' direction='in'/>"
  "      <arg type='u' direction='out'/>"
  "    </method>"
  "    <method name='CloseNotification'><arg type='u' direction='in'/></method>"
  "    <method name='GetCapabilities'><arg type='as' direction='out'/></method>"
  "    <method name='GetServerInformation'>"
  "      <arg type='s' direction='out'/><arg type='s' direction='out'/>"
  "      <arg type='s' direction='out'/><arg type='s' direction='out'/>"
  "    </method>"
  "    <signal name='NotificationClosed'><arg type='u'/><arg type='u'/></signal>"
  "    <signal name='ActionInvoked'><arg type='u'/><arg type='s'/></signal>"
  "  </interface>"
  "</node>";

static const char *record_path;
static GDBusConnection *bus;
static guint last_id;

static char *
one_line (const char *text)
{
  char *copy = g_strdup (text);

  for (char *p = copy; *p != '\0'; p++)
    if (*p == '\n' || *p == '\r')
      *p = ' ';

  return copy;
}

static void
handle_method (GDBusConnection       *connection,
               const char            *sender,
               const char            *object_path,
               const char            *interface_name,
               const char            *method_name,
               GVariant              *parameters,
               GDBusMethodInvocation *invocation,
               gpointer               user_data)
{
  if (g_str_equal (method_name, "Notify"))
    {
      const char *app_name, *icon, *summary, *body;
      g_autofree const char **actions = NULL;
      g_autoptr(GVariant) hints = NULL;
      g_autofree char *line = NULL;
      g_autofree char *joined = NULL;
      g_autofree char *summary_line = NULL;
      g_autofree char *body_line = NULL;
      FILE *record;
      guint replaces;
      int timeout;

      g_variant_get (parameters, "(&su&s&s&s^a&s@a{sv}i)", &app_name, &replaces, &icon,
                     &summary, &body, &actions, &hints, &timeout);
      last_id = replaces != 0 ? replaces : last_id + 1;
      joined = g_strjoinv (",", (char **) actions);
      summary_line = one_line (summary);
      body_line = one_line (body);
      line = g_strdup_printf ("notify id=%u actions=%s summary=%s\tbody=%s\n", last_id, joined,
                              summary_line, body_line);
      if ((record = fopen (record_path, "a")) != NULL)
        {
          fputs (line, record);
          fclose (record);
        }
      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(u)", last_id));
    }
  else if (g_str_equal (method_name, "CloseNotification"))
    g_dbus_method_invocation_return_value (invocation, NULL);
  else if (g_str_equal (method_name, "GetCapabilities"))
    {
      const char *caps[] = { "actions", "body", NULL };

      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(^as)", caps));
    }
  else if (g_str_equal (method_name, "GetServerInformation"))
    g_dbus_method_invocation_return_value (invocation,
                                           g_variant_new ("(ssss)", "wz-fake-notifyd", "Wenzhen tests",
                                                          "1", "1.2"));
  else
    g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD,
                                           "No method %s", method_name);
}

static gboolean
on_click (gpointer user_data)
{
  if (bus != NULL && last_id != 0)
    g_dbus_connection_emit_signal (bus, NULL, "/org/freedesktop/Notifications",
                                   "org.freedesktop.Notifications", "ActionInvoked",
                                   g_variant_new ("(us)", last_id, "default"), NULL);

  return G_SOURCE_CONTINUE;
}

static gboolean
on_term (gpointer user_data)
{
  g_main_loop_quit (user_data);

  return G_SOURCE_REMOVE;
}

static const GDBusInterfaceVTable vtable = { handle_method, NULL, NULL, { 0 } };

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(GDBusNodeInfo) info = NULL;
  g_autoptr(GError) error = NULL;

  if (argc != 2)
    {
      g_printerr ("usage: wz-fake-notifyd RECORD-FILE\n");
      return 2;
    }
  record_path = argv[1];

  info = g_dbus_node_info_new_for_xml (introspection_xml, &error);
  bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  if (info == NULL || bus == NULL)
    {
      g_printerr ("wz-fake-notifyd: %s\n", error->message);
      return 1;
    }

  if (g_dbus_connection_register_object (bus, "/org/freedesktop/Notifications",
                                         info->interfaces[0], &vtable, NULL, NULL, &error) == 0)
    {
      g_printerr ("wz-fake-notifyd: %s\n", error->message);
      return 1;
    }

  g_bus_own_name_on_connection (bus, "org.freedesktop.Notifications", G_BUS_NAME_OWNER_FLAGS_NONE,
                                NULL, NULL, NULL, NULL);
  g_unix_signal_add (SIGUSR1, on_click, NULL);
  g_unix_signal_add (SIGTERM, on_term, loop);
  g_main_loop_run (loop);

  return 0;
}
