/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-call"

#include "config.h"

#include "wz-call-paintable.h"

#include <gst/app/gstappsink.h>
#include <gst/video/video.h>

struct _WzCallPaintable
{
  GObject       parent_instance;

  GMainContext *context;
  GdkTexture   *texture;
  guint64       n_frames;

  /* Shared with the streaming thread: the newest frame not shown yet, and whether a hop to
   * the main context is already on its way (then a new frame just replaces the pending one). */
  GMutex        lock;
  GdkTexture   *pending;
  gboolean      scheduled;
};

static void wz_call_paintable_iface_init (GdkPaintableInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (WzCallPaintable, wz_call_paintable, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (GDK_TYPE_PAINTABLE,
                                                      wz_call_paintable_iface_init))

enum {
  FRAME,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
paintable_snapshot (GdkPaintable *paintable,
                    GdkSnapshot  *snapshot,
                    double        width,
                    double        height)
{
  WzCallPaintable *self = WZ_CALL_PAINTABLE (paintable);

  if (self->texture != NULL)
    gdk_paintable_snapshot (GDK_PAINTABLE (self->texture), snapshot, width, height);
}

static int
paintable_get_intrinsic_width (GdkPaintable *paintable)
{
  WzCallPaintable *self = WZ_CALL_PAINTABLE (paintable);

  return self->texture != NULL ? gdk_texture_get_width (self->texture) : 0;
}

static int
paintable_get_intrinsic_height (GdkPaintable *paintable)
{
  WzCallPaintable *self = WZ_CALL_PAINTABLE (paintable);

  return self->texture != NULL ? gdk_texture_get_height (self->texture) : 0;
}

static GdkPaintable *
paintable_get_current_image (GdkPaintable *paintable)
{
  WzCallPaintable *self = WZ_CALL_PAINTABLE (paintable);

  if (self->texture != NULL)
    return g_object_ref (GDK_PAINTABLE (self->texture));
  return gdk_paintable_new_empty (0, 0);
}

static void
wz_call_paintable_iface_init (GdkPaintableInterface *iface)
{
  iface->snapshot = paintable_snapshot;
  iface->get_intrinsic_width = paintable_get_intrinsic_width;
  iface->get_intrinsic_height = paintable_get_intrinsic_height;
  iface->get_current_image = paintable_get_current_image;
}

static void
show_texture (WzCallPaintable *self,
              GdkTexture      *texture)
{
  gboolean resized;

  resized = self->texture == NULL || texture == NULL ||
            gdk_texture_get_width (self->texture) != gdk_texture_get_width (texture) ||
            gdk_texture_get_height (self->texture) != gdk_texture_get_height (texture);
  g_set_object (&self->texture, texture);

  if (resized)
    gdk_paintable_invalidate_size (GDK_PAINTABLE (self));
  gdk_paintable_invalidate_contents (GDK_PAINTABLE (self));
}

static gboolean
show_pending (gpointer user_data)
{
  WzCallPaintable *self = user_data;
  g_autoptr(GdkTexture) texture = NULL;

  g_mutex_lock (&self->lock);
  texture = g_steal_pointer (&self->pending);
  self->scheduled = FALSE;
  g_mutex_unlock (&self->lock);

  if (texture == NULL)
    return G_SOURCE_REMOVE;

  self->n_frames++;
  show_texture (self, texture);
  g_signal_emit (self, signals[FRAME], 0, texture);

  return G_SOURCE_REMOVE;
}

typedef struct
{
  GstBuffer  *buffer;
  GstMapInfo  map;
} MappedFrame;

static void
mapped_frame_free (gpointer data)
{
  MappedFrame *frame = data;

  gst_buffer_unmap (frame->buffer, &frame->map);
  gst_buffer_unref (frame->buffer);
  g_free (frame);
}

void
wz_call_paintable_push_sample (WzCallPaintable *self,
                               GstSample       *sample)
{
  GstVideoInfo info;
  GstCaps *caps;
  GstBuffer *buffer;
  MappedFrame *frame;
  g_autoptr(GBytes) bytes = NULL;
  GdkTexture *texture;
  GstVideoMeta *meta;
  gsize stride;
  gboolean schedule;

  g_return_if_fail (WZ_IS_CALL_PAINTABLE (self));

  caps = gst_sample_get_caps (sample);
  buffer = gst_sample_get_buffer (sample);
  if (caps == NULL || buffer == NULL || !gst_video_info_from_caps (&info, caps) ||
      GST_VIDEO_INFO_FORMAT (&info) != GST_VIDEO_FORMAT_RGBA)
    return;

  /* The texture borrows the decoded frame's memory instead of copying 1.2 MB per frame. */
  frame = g_new0 (MappedFrame, 1);
  frame->buffer = gst_buffer_ref (buffer);
  if (!gst_buffer_map (buffer, &frame->map, GST_MAP_READ))
    {
      gst_buffer_unref (frame->buffer);
      g_free (frame);
      return;
    }
  meta = gst_buffer_get_video_meta (buffer);
  stride = meta != NULL ? (gsize) meta->stride[0] : (gsize) GST_VIDEO_INFO_PLANE_STRIDE (&info, 0);
  if (frame->map.size < stride * (gsize) GST_VIDEO_INFO_HEIGHT (&info))
    {
      mapped_frame_free (frame);
      return;
    }
  bytes = g_bytes_new_with_free_func (frame->map.data, frame->map.size, mapped_frame_free, frame);
  texture = gdk_memory_texture_new (GST_VIDEO_INFO_WIDTH (&info), GST_VIDEO_INFO_HEIGHT (&info),
                                    GDK_MEMORY_R8G8B8A8, bytes, stride);

  g_mutex_lock (&self->lock);
  g_clear_object (&self->pending);
  self->pending = texture;
  schedule = !self->scheduled;
  self->scheduled = TRUE;
  g_mutex_unlock (&self->lock);

  if (schedule)
    {
      GSource *source = g_idle_source_new ();

      /* Above GTK's redraw priority: a frame that arrived is shown in the next paint. */
      g_source_set_priority (source, G_PRIORITY_HIGH_IDLE);
      g_source_set_callback (source, show_pending, g_object_ref (self), g_object_unref);
      g_source_set_static_name (source, "[wenzhen] call frame");
      g_source_attach (source, self->context);
      g_source_unref (source);
    }
}

static GstFlowReturn
on_new_sample (GstAppSink *appsink,
               gpointer    user_data)
{
  WzCallPaintable *self = user_data;
  g_autoptr(GstSample) sample = gst_app_sink_pull_sample (appsink);

  if (sample != NULL)
    wz_call_paintable_push_sample (self, sample);
  return GST_FLOW_OK;
}

void
wz_call_paintable_attach (WzCallPaintable *self,
                          GstElement      *appsink)
{
  GstAppSinkCallbacks callbacks = { .new_sample = on_new_sample };

  g_return_if_fail (WZ_IS_CALL_PAINTABLE (self));
  g_return_if_fail (GST_IS_APP_SINK (appsink));

  /* The paintable outlives the pipeline (the call owns both and stops the pipeline first),
   * so the sink may borrow it. */
  gst_app_sink_set_callbacks (GST_APP_SINK (appsink), &callbacks, self, NULL);
}

void
wz_call_paintable_clear (WzCallPaintable *self)
{
  g_return_if_fail (WZ_IS_CALL_PAINTABLE (self));

  g_mutex_lock (&self->lock);
  g_clear_object (&self->pending);
  g_mutex_unlock (&self->lock);

  if (self->texture != NULL)
    show_texture (self, NULL);
}

GdkTexture *
wz_call_paintable_get_texture (WzCallPaintable *self)
{
  g_return_val_if_fail (WZ_IS_CALL_PAINTABLE (self), NULL);

  return self->texture;
}

guint64
wz_call_paintable_get_n_frames (WzCallPaintable *self)
{
  g_return_val_if_fail (WZ_IS_CALL_PAINTABLE (self), 0);

  return self->n_frames;
}

static void
wz_call_paintable_finalize (GObject *object)
{
  WzCallPaintable *self = WZ_CALL_PAINTABLE (object);

  g_clear_object (&self->texture);
  g_clear_object (&self->pending);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (wz_call_paintable_parent_class)->finalize (object);
}

static void
wz_call_paintable_class_init (WzCallPaintableClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = wz_call_paintable_finalize;

  /**
   * WzCallPaintable::frame:
   * @texture: the picture now shown
   */
  signals[FRAME] =
    g_signal_new ("frame", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, GDK_TYPE_TEXTURE);
}

static void
wz_call_paintable_init (WzCallPaintable *self)
{
  g_mutex_init (&self->lock);
}

WzCallPaintable *
wz_call_paintable_new (GMainContext *context)
{
  WzCallPaintable *self = g_object_new (WZ_TYPE_CALL_PAINTABLE, NULL);

  self->context = context != NULL ? g_main_context_ref (context)
                                  : g_main_context_ref_thread_default ();
  return self;
}
