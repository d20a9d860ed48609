/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-call-fake-devices"

#include "config.h"

#include <gst/gst.h>

/* GST_PLUGIN_DEFINE names the package the plugin belongs to. */
#ifndef PACKAGE
#define PACKAGE PACKAGE_NAME
#endif

/* A GStreamer plugin for the call UI tests, loaded through GST_PLUGIN_PATH: a device provider
 * that lists one camera ("Wenzhen Test Camera", a moving test picture) and one microphone
 * ("Wenzhen Test Microphone", a tone), so the preferences and the call page can be tested on a
 * machine without devices. The app itself is unchanged: it finds them with its ordinary
 * GstDeviceMonitor. */

#define WZ_TYPE_FAKE_DEVICE (wz_fake_device_get_type ())
G_DECLARE_FINAL_TYPE (WzFakeDevice, wz_fake_device, WZ, FAKE_DEVICE, GstDevice)

struct _WzFakeDevice
{
  GstDevice  parent_instance;
  gboolean   video;
};

G_DEFINE_FINAL_TYPE (WzFakeDevice, wz_fake_device, GST_TYPE_DEVICE)

static GstElement *
wz_fake_device_create_element (GstDevice  *device,
                               const char *name)
{
  WzFakeDevice *self = WZ_FAKE_DEVICE (device);
  GstElement *element = gst_element_factory_make (self->video ? "videotestsrc" : "audiotestsrc",
                                                  name);

  if (element == NULL)
    return NULL;
  g_object_set (element, "is-live", TRUE, NULL);
  if (self->video)
    gst_util_set_object_arg (G_OBJECT (element), "pattern", "ball");

  return element;
}

static void
wz_fake_device_class_init (WzFakeDeviceClass *klass)
{
  GST_DEVICE_CLASS (klass)->create_element = wz_fake_device_create_element;
}

static void
wz_fake_device_init (WzFakeDevice *self)
{
}

static GstDevice *
make_device (gboolean video)
{
  g_autoptr(GstCaps) caps = gst_caps_new_empty_simple (video ? "video/x-raw" : "audio/x-raw");
  g_autoptr(GstStructure) props = gst_structure_new ("properties",
                                                     "device.api", G_TYPE_STRING, "wz-test",
                                                     NULL);
  WzFakeDevice *device;

  device = g_object_new (WZ_TYPE_FAKE_DEVICE,
                         "display-name", video ? "Wenzhen Test Camera" : "Wenzhen Test Microphone",
                         "device-class", video ? "Video/Source" : "Audio/Source",
                         "caps", caps,
                         "properties", props,
                         NULL);
  device->video = video;

  return GST_DEVICE (device);
}

#define WZ_TYPE_FAKE_DEVICE_PROVIDER (wz_fake_device_provider_get_type ())
G_DECLARE_FINAL_TYPE (WzFakeDeviceProvider, wz_fake_device_provider, WZ, FAKE_DEVICE_PROVIDER,
                      GstDeviceProvider)

struct _WzFakeDeviceProvider
{
  GstDeviceProvider parent_instance;
};

G_DEFINE_FINAL_TYPE (WzFakeDeviceProvider, wz_fake_device_provider, GST_TYPE_DEVICE_PROVIDER)

static GList *
wz_fake_device_provider_probe (GstDeviceProvider *provider)
{
  GList *devices = NULL;

  devices = g_list_append (devices, gst_object_ref_sink (make_device (TRUE)));
  devices = g_list_append (devices, gst_object_ref_sink (make_device (FALSE)));

  return devices;
}

static void
wz_fake_device_provider_class_init (WzFakeDeviceProviderClass *klass)
{
  GstDeviceProviderClass *provider_class = GST_DEVICE_PROVIDER_CLASS (klass);

  provider_class->probe = wz_fake_device_provider_probe;
  gst_device_provider_class_set_static_metadata (provider_class, "Wenzhen test devices",
                                                 "Source/Audio/Video",
                                                 "A test camera and microphone for UI tests",
                                                 "Wenzhen");
}

static void
wz_fake_device_provider_init (WzFakeDeviceProvider *self)
{
}

static gboolean
plugin_init (GstPlugin *plugin)
{
  return gst_device_provider_register (plugin, "wzfakedeviceprovider", GST_RANK_PRIMARY,
                                       WZ_TYPE_FAKE_DEVICE_PROVIDER);
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, wzfakedevices,
                   "Test camera and microphone for Wenzhen's UI tests", plugin_init,
                   PACKAGE_VERSION, "GPL", PACKAGE_NAME, "https://github.com/wenzhen")
