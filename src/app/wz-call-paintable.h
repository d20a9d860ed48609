/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gdk/gdk.h>
#include <gst/gst.h>

G_BEGIN_DECLS

#define WZ_TYPE_CALL_PAINTABLE (wz_call_paintable_get_type ())

G_DECLARE_FINAL_TYPE (WzCallPaintable, wz_call_paintable, WZ, CALL_PAINTABLE, GObject)

/* Frames from an appsink (video/x-raw, RGBA) shown as a GdkPaintable. Frames are pushed from
 * any streaming thread; the paintable changes on CONTEXT, at most once per frame shown, and
 * keeps only the newest frame when the main loop falls behind. */
WzCallPaintable *wz_call_paintable_new          (GMainContext    *context);
/* Connects to APPSINK's new-sample (emit-signals is turned on). */
void             wz_call_paintable_attach       (WzCallPaintable *self,
                                                 GstElement      *appsink);
void             wz_call_paintable_push_sample  (WzCallPaintable *self,
                                                 GstSample       *sample);
/* Drops the picture (camera off, call ended): the paintable becomes empty. */
void             wz_call_paintable_clear        (WzCallPaintable *self);
/* (nullable): the frame shown now. */
GdkTexture      *wz_call_paintable_get_texture  (WzCallPaintable *self);
guint64          wz_call_paintable_get_n_frames (WzCallPaintable *self);

G_END_DECLS

/* Signal "frame" (GdkTexture *texture) on the main context each time the picture changes. */
