/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <gst/gst.h>

G_BEGIN_DECLS

/* Which devices a monitor lists. */
typedef enum
{
  WZ_DEVICE_KIND_CAMERA,     /* GStreamer class Video/Source */
  WZ_DEVICE_KIND_MICROPHONE, /* GStreamer class Audio/Source, without monitors of outputs */
} WzDeviceKind;

#define WZ_TYPE_DEVICE_MONITOR (wz_device_monitor_get_type ())

G_DECLARE_FINAL_TYPE (WzDeviceMonitor, wz_device_monitor, WZ, DEVICE_MONITOR, GObject)

/* The app's one monitor of cameras and microphones, started on first use. */
WzDeviceMonitor *wz_device_monitor_get_default (void);

/* A GListModel of GstDevice of one kind, in the order they were found, kept up to date as
 * devices are plugged in and out. Owned by the monitor. */
GListModel      *wz_device_monitor_get_devices (WzDeviceMonitor *self,
                                                WzDeviceKind     kind);

/* The device whose id (wz_call_device_get_id(), what the settings camera-device and
 * microphone-device hold) is @id, or NULL when it is not connected. */
GstDevice       *wz_device_monitor_find        (WzDeviceMonitor *self,
                                                WzDeviceKind     kind,
                                                const char      *id);

G_END_DECLS
