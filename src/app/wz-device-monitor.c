/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-device-monitor"

#include "config.h"

#include "wz-device-monitor.h"

#include "wz-call.h"
#include "wz-test-report.h"

/* Cameras and microphones as GStreamer's providers (v4l2, PulseAudio, PipeWire…) see them, one
 * GListStore per kind so preferences and the call page follow hot-plugging with exact
 * items-changed. One GstDeviceMonitor for the whole app: probing devices is slow, and two
 * monitors would each open every provider. */
struct _WzDeviceMonitor
{
  GObject           parent_instance;

  GstDeviceMonitor *monitor;
  GListStore       *cameras;
  GListStore       *microphones;
  guint             bus_watch;
};

G_DEFINE_FINAL_TYPE (WzDeviceMonitor, wz_device_monitor, G_TYPE_OBJECT)

static gboolean
is_output_monitor (GstDevice *device)
{
  g_autoptr(GstStructure) props = gst_device_get_properties (device);
  const char *klass;

  /* PulseAudio lists what every output plays as a source too; nobody talks into those. */
  if (props == NULL)
    return FALSE;
  klass = gst_structure_get_string (props, "device.class");
  return g_strcmp0 (klass, "monitor") == 0;
}

static GListStore *
store_for (WzDeviceMonitor *self,
           GstDevice       *device)
{
  if (gst_device_has_classes (device, "Video/Source"))
    return self->cameras;
  if (gst_device_has_classes (device, "Audio/Source") && !is_output_monitor (device))
    return self->microphones;
  return NULL;
}

static void
report_devices (WzDeviceMonitor *self)
{
  g_autoptr(GString) names = NULL;

  if (!wz_test_report_enabled ())
    return;

  names = g_string_new (NULL);
  for (guint kind = 0; kind < 2; kind++)
    {
      GListModel *model = G_LIST_MODEL (kind == 0 ? self->cameras : self->microphones);

      g_string_append (names, kind == 0 ? " cameras=" : " microphones=");
      for (guint i = 0; i < g_list_model_get_n_items (model); i++)
        {
          g_autoptr(GstDevice) device = g_list_model_get_item (model, i);
          g_autofree char *id = gst_device_get_display_name (device);

          /* Spaces would end the field in the report line. */
          g_strdelimit (id, " ", '_');
          g_string_append_printf (names, "%s%s", i > 0 ? "," : "", id);
        }
    }
  wz_test_report ("devices n-cameras=%u n-microphones=%u%s",
                  g_list_model_get_n_items (G_LIST_MODEL (self->cameras)),
                  g_list_model_get_n_items (G_LIST_MODEL (self->microphones)),
                  names->str);
}

static void
add_device (WzDeviceMonitor *self,
            GstDevice       *device)
{
  GListStore *store = store_for (self, device);
  g_autofree char *name = NULL;

  /* A device found while starting is also announced by a message; list it once. */
  if (store == NULL || g_list_store_find (store, device, NULL))
    return;

  name = gst_device_get_display_name (device);
  g_debug ("Device added: %s", name);
  g_list_store_append (store, device);
}

static void
remove_device (WzDeviceMonitor *self,
               GstDevice       *device)
{
  GListStore *stores[] = { self->cameras, self->microphones };

  for (guint i = 0; i < G_N_ELEMENTS (stores); i++)
    {
      guint position;

      if (g_list_store_find (stores[i], device, &position))
        g_list_store_remove (stores[i], position);
    }
}

static gboolean
on_bus_message (GstBus     *bus,
                GstMessage *message,
                gpointer    user_data)
{
  WzDeviceMonitor *self = user_data;
  g_autoptr(GstDevice) device = NULL;
  g_autoptr(GstDevice) old = NULL;

  switch (GST_MESSAGE_TYPE (message))
    {
    case GST_MESSAGE_DEVICE_ADDED:
      gst_message_parse_device_added (message, &device);
      add_device (self, device);
      report_devices (self);
      break;
    case GST_MESSAGE_DEVICE_REMOVED:
      gst_message_parse_device_removed (message, &device);
      remove_device (self, device);
      report_devices (self);
      break;
    case GST_MESSAGE_DEVICE_CHANGED:
      gst_message_parse_device_changed (message, &device, &old);
      remove_device (self, old);
      add_device (self, device);
      report_devices (self);
      break;
    default:
      break;
    }

  return G_SOURCE_CONTINUE;
}

static void
wz_device_monitor_start (WzDeviceMonitor *self)
{
  g_autoptr(GstBus) bus = NULL;
  GList *devices;

  gst_device_monitor_add_filter (self->monitor, "Video/Source", NULL);
  gst_device_monitor_add_filter (self->monitor, "Audio/Source", NULL);

  bus = gst_device_monitor_get_bus (self->monitor);
  self->bus_watch = gst_bus_add_watch (bus, on_bus_message, self);

  if (!gst_device_monitor_start (self->monitor))
    {
      /* No provider at all (a minimal install): the lists stay empty and calls use a test
       * picture; the call page says so. */
      g_debug ("No device provider could be started");
      report_devices (self);
      return;
    }

  devices = gst_device_monitor_get_devices (self->monitor);
  for (GList *l = devices; l != NULL; l = l->next)
    add_device (self, l->data);
  g_list_free_full (devices, gst_object_unref);
  report_devices (self);
}

GListModel *
wz_device_monitor_get_devices (WzDeviceMonitor *self,
                               WzDeviceKind     kind)
{
  g_return_val_if_fail (WZ_IS_DEVICE_MONITOR (self), NULL);

  return G_LIST_MODEL (kind == WZ_DEVICE_KIND_CAMERA ? self->cameras : self->microphones);
}

GstDevice *
wz_device_monitor_find (WzDeviceMonitor *self,
                        WzDeviceKind     kind,
                        const char      *id)
{
  GListModel *model;

  g_return_val_if_fail (WZ_IS_DEVICE_MONITOR (self), NULL);

  if (id == NULL || *id == '\0')
    return NULL;

  model = wz_device_monitor_get_devices (self, kind);
  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(GstDevice) device = g_list_model_get_item (model, i);
      g_autofree char *device_id = wz_call_device_get_id (device);

      if (g_strcmp0 (device_id, id) == 0)
        return device;
    }

  return NULL;
}

static void
wz_device_monitor_dispose (GObject *object)
{
  WzDeviceMonitor *self = WZ_DEVICE_MONITOR (object);

  if (self->monitor != NULL)
    gst_device_monitor_stop (self->monitor);
  g_clear_handle_id (&self->bus_watch, g_source_remove);
  g_clear_object (&self->monitor);
  g_clear_object (&self->cameras);
  g_clear_object (&self->microphones);

  G_OBJECT_CLASS (wz_device_monitor_parent_class)->dispose (object);
}

static void
wz_device_monitor_class_init (WzDeviceMonitorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = wz_device_monitor_dispose;
}

static void
wz_device_monitor_init (WzDeviceMonitor *self)
{
  self->monitor = gst_device_monitor_new ();
  self->cameras = g_list_store_new (GST_TYPE_DEVICE);
  self->microphones = g_list_store_new (GST_TYPE_DEVICE);
}

WzDeviceMonitor *
wz_device_monitor_get_default (void)
{
  static WzDeviceMonitor *monitor;

  if (monitor == NULL)
    {
      g_autoptr(GError) error = NULL;

      if (!gst_is_initialized () && !gst_init_check (NULL, NULL, &error))
        g_warning ("GStreamer is not available: %s", error->message);

      monitor = g_object_new (WZ_TYPE_DEVICE_MONITOR, NULL);
      if (gst_is_initialized ())
        wz_device_monitor_start (monitor);
    }

  return monitor;
}
