/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-preferences-window"

#include "config.h"

#include "wz-preferences-window.h"

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
  AdwEntryRow          *camera_row;
  AdwEntryRow          *microphone_row;

  GSettings            *settings;
};

G_DEFINE_FINAL_TYPE (WzPreferencesWindow, wz_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

static void
wz_preferences_window_dispose (GObject *object)
{
  WzPreferencesWindow *self = WZ_PREFERENCES_WINDOW (object);

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
  gtk_widget_class_bind_template_child (widget_class, WzPreferencesWindow, camera_row);
  gtk_widget_class_bind_template_child (widget_class, WzPreferencesWindow, microphone_row);

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
  g_settings_bind (self->settings, "stun-server", self->stun_row, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "turn-server", self->turn_row, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "camera-device", self->camera_row, "text",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "microphone-device", self->microphone_row, "text",
                   G_SETTINGS_BIND_DEFAULT);
}

GtkWidget *
wz_preferences_window_new (GtkWindow *parent)
{
  return g_object_new (WZ_TYPE_PREFERENCES_WINDOW,
                       "transient-for", parent,
                       "modal", parent != NULL,
                       NULL);
}
