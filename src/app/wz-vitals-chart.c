/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-vitals-chart"

#include "config.h"

#include "wz-vitals-chart.h"

#include <math.h>
#include <glib/gi18n.h>

/* A small trend chart of one vital sign: the measurements as a line (two lines for blood
 * pressure), the target range as a band behind them, value labels on the left and dates below.
 * Drawn with cairo inside a GtkSnapshot node, so it needs nothing beyond GTK. */
struct _WzVitalsChart
{
  GtkWidget  parent_instance;

  GArray    *points;
  char      *unit;
  double     target_low;
  double     target_high;
  double     target2_low;
  double     target2_high;
};

G_DEFINE_FINAL_TYPE (WzVitalsChart, wz_vitals_chart, GTK_TYPE_WIDGET)

#define MARGIN_LEFT   44.0
#define MARGIN_RIGHT  14.0
#define MARGIN_TOP    22.0
#define MARGIN_BOTTOM 24.0

/* libadwaita's palette: blue 3 for the line, purple 3 for the second, green 3 for the band. */
static const GdkRGBA line_color = { 0x35 / 255.0, 0x84 / 255.0, 0xe4 / 255.0, 1.0 };
static const GdkRGBA line2_color = { 0x91 / 255.0, 0x41 / 255.0, 0xac / 255.0, 1.0 };
static const GdkRGBA band_color = { 0x33 / 255.0, 0xd1 / 255.0, 0x7a / 255.0, 0.22 };

static int
compare_points (gconstpointer a,
                gconstpointer b)
{
  const WzVitalsPoint *pa = a;
  const WzVitalsPoint *pb = b;

  return pa->time_us < pb->time_us ? -1 : pa->time_us > pb->time_us;
}

/* A step of 1, 2 or 5 times a power of ten giving about four labelled lines. */
static double
nice_step (double span)
{
  double raw = span / 4.0;
  double magnitude = pow (10.0, floor (log10 (raw)));
  double fraction = raw / magnitude;

  if (fraction <= 1.0)
    return magnitude;
  if (fraction <= 2.0)
    return 2.0 * magnitude;
  if (fraction <= 5.0)
    return 5.0 * magnitude;

  return 10.0 * magnitude;
}

static void
value_range (WzVitalsChart *self,
             double        *out_min,
             double        *out_max)
{
  double lo = INFINITY, hi = -INFINITY;
  double pad;

  for (guint i = 0; i < self->points->len; i++)
    {
      const WzVitalsPoint *p = &g_array_index (self->points, WzVitalsPoint, i);

      lo = MIN (lo, p->value);
      hi = MAX (hi, p->value);
      if (!isnan (p->value2))
        {
          lo = MIN (lo, p->value2);
          hi = MAX (hi, p->value2);
        }
    }

  /* The band is always in view, so a value outside it is seen to be outside. */
  if (!isnan (self->target_low))
    lo = MIN (lo, self->target_low), hi = MAX (hi, self->target_high);
  if (!isnan (self->target2_low))
    lo = MIN (lo, self->target2_low), hi = MAX (hi, self->target2_high);

  if (hi - lo < 1e-6)
    {
      lo -= 1.0;
      hi += 1.0;
    }
  pad = (hi - lo) * 0.08;
  *out_min = lo - pad;
  *out_max = hi + pad;
}

static void
draw_text (cairo_t     *cr,
           PangoLayout *layout,
           const char  *text,
           double       x,
           double       y,
           double       xalign)
{
  int width, height;

  pango_layout_set_text (layout, text, -1);
  pango_layout_get_pixel_size (layout, &width, &height);
  cairo_move_to (cr, x - width * xalign, y - height / 2.0);
  pango_cairo_show_layout (cr, layout);
}

static char *
format_value (double value,
              double step)
{
  if (step < 1.0)
    return g_strdup_printf ("%.1f", value);

  return g_strdup_printf ("%.0f", value);
}

static char *
format_date (gint64 time_us)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_local (time_us / G_USEC_PER_SEC);

  /* Translators: short date under the vital-signs chart, strftime format: month/day */
  return g_date_time_format (dt, C_("chart date", "%-m/%-d"));
}

static double
x_for_time (WzVitalsChart *self,
            gint64         time_us,
            double         plot_x,
            double         plot_w)
{
  gint64 first = g_array_index (self->points, WzVitalsPoint, 0).time_us;
  gint64 last = g_array_index (self->points, WzVitalsPoint, self->points->len - 1).time_us;

  if (last == first)
    return plot_x + plot_w / 2.0;

  return plot_x + (double) (time_us - first) / (double) (last - first) * plot_w;
}

static void
draw_line (cairo_t       *cr,
           WzVitalsChart *self,
           gboolean       second,
           double         plot_x,
           double         plot_w,
           double         plot_y,
           double         plot_h,
           double         vmin,
           double         vmax)
{
  const GdkRGBA *color = second ? &line2_color : &line_color;
  gboolean started = FALSE;

  gdk_cairo_set_source_rgba (cr, color);
  cairo_set_line_width (cr, 2.0);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);

  for (guint i = 0; i < self->points->len; i++)
    {
      const WzVitalsPoint *p = &g_array_index (self->points, WzVitalsPoint, i);
      double v = second ? p->value2 : p->value;
      double x, y;

      if (isnan (v))
        continue;
      x = x_for_time (self, p->time_us, plot_x, plot_w);
      y = plot_y + plot_h - (v - vmin) / (vmax - vmin) * plot_h;
      if (!started)
        cairo_move_to (cr, x, y);
      else
        cairo_line_to (cr, x, y);
      started = TRUE;
    }
  cairo_stroke (cr);

  for (guint i = 0; i < self->points->len; i++)
    {
      const WzVitalsPoint *p = &g_array_index (self->points, WzVitalsPoint, i);
      double v = second ? p->value2 : p->value;
      double x, y;

      if (isnan (v))
        continue;
      x = x_for_time (self, p->time_us, plot_x, plot_w);
      y = plot_y + plot_h - (v - vmin) / (vmax - vmin) * plot_h;
      cairo_arc (cr, x, y, i + 1 == self->points->len ? 4.0 : 2.5, 0, 2 * G_PI);
      cairo_fill (cr);
    }
}

static void
wz_vitals_chart_snapshot (GtkWidget   *widget,
                          GtkSnapshot *snapshot)
{
  WzVitalsChart *self = WZ_VITALS_CHART (widget);
  double width = gtk_widget_get_width (widget);
  double height = gtk_widget_get_height (widget);
  g_autoptr(PangoLayout) layout = NULL;
  PangoAttrList *attrs;
  GdkRGBA fg;
  cairo_t *cr;
  double plot_x = MARGIN_LEFT, plot_y = MARGIN_TOP;
  double plot_w = width - MARGIN_LEFT - MARGIN_RIGHT;
  double plot_h = height - MARGIN_TOP - MARGIN_BOTTOM;
  double vmin, vmax, step;

  if (width <= 0 || height <= 0)
    return;

  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &fg);
  G_GNUC_END_IGNORE_DEPRECATIONS

  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  layout = gtk_widget_create_pango_layout (widget, NULL);
  attrs = pango_attr_list_new ();
  pango_attr_list_insert (attrs, pango_attr_scale_new (PANGO_SCALE_SMALL));
  pango_attr_list_insert (attrs, pango_attr_font_features_new ("tnum=1"));
  pango_layout_set_attributes (layout, attrs);
  pango_attr_list_unref (attrs);

  if (self->points->len == 0 || plot_w < 20 || plot_h < 20)
    {
      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.55);
      draw_text (cr, layout, _("No measurements"), width / 2.0, height / 2.0, 0.5);
      cairo_destroy (cr);
      return;
    }

  value_range (self, &vmin, &vmax);
  step = nice_step (vmax - vmin);

#define Y_FOR(v) (plot_y + plot_h - ((v) - vmin) / (vmax - vmin) * plot_h)

  /* Target bands. */
  gdk_cairo_set_source_rgba (cr, &band_color);
  if (!isnan (self->target_low))
    {
      cairo_rectangle (cr, plot_x, Y_FOR (self->target_high), plot_w,
                       Y_FOR (self->target_low) - Y_FOR (self->target_high));
      cairo_fill (cr);
    }
  if (!isnan (self->target2_low))
    {
      cairo_rectangle (cr, plot_x, Y_FOR (self->target2_high), plot_w,
                       Y_FOR (self->target2_low) - Y_FOR (self->target2_high));
      cairo_fill (cr);
    }

  /* Grid and value labels. */
  cairo_set_line_width (cr, 1.0);
  for (double v = ceil (vmin / step) * step; v <= vmax; v += step)
    {
      g_autofree char *label = format_value (v, step);
      double y = round (Y_FOR (v)) + 0.5;

      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.12);
      cairo_move_to (cr, plot_x, y);
      cairo_line_to (cr, plot_x + plot_w, y);
      cairo_stroke (cr);
      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.7);
      draw_text (cr, layout, label, plot_x - 6, y, 1.0);
    }

  /* Unit above the value labels. */
  if (self->unit != NULL)
    {
      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.7);
      draw_text (cr, layout, self->unit, 4, MARGIN_TOP / 2.0 - 2, 0.0);
    }

  /* Axis. */
  cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.4);
  cairo_move_to (cr, plot_x + 0.5, plot_y);
  cairo_line_to (cr, plot_x + 0.5, plot_y + plot_h + 0.5);
  cairo_line_to (cr, plot_x + plot_w, plot_y + plot_h + 0.5);
  cairo_stroke (cr);

  /* Dates: first, last and one between when there is room. */
  {
    guint n = self->points->len;
    guint picks[3] = { 0, n / 2, n - 1 };
    guint n_picks = n >= 3 && plot_w > 240 ? 3 : (n >= 2 ? 2 : 1);

    if (n_picks == 2)
      picks[1] = n - 1;

    cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.7);
    for (guint i = 0; i < n_picks; i++)
      {
        const WzVitalsPoint *p = &g_array_index (self->points, WzVitalsPoint, picks[i]);
        g_autofree char *label = format_date (p->time_us);
        double x = x_for_time (self, p->time_us, plot_x, plot_w);
        double xalign = n_picks == 1 ? 0.5 : (i == 0 ? 0.0 : (i + 1 == n_picks ? 1.0 : 0.5));

        draw_text (cr, layout, label, x, plot_y + plot_h + MARGIN_BOTTOM / 2.0 + 2, xalign);
      }
  }

#undef Y_FOR

  draw_line (cr, self, TRUE, plot_x, plot_w, plot_y, plot_h, vmin, vmax);
  draw_line (cr, self, FALSE, plot_x, plot_w, plot_y, plot_h, vmin, vmax);

  cairo_destroy (cr);
}

static void
wz_vitals_chart_measure (GtkWidget      *widget,
                         GtkOrientation  orientation,
                         int             for_size,
                         int            *minimum,
                         int            *natural,
                         int            *minimum_baseline,
                         int            *natural_baseline)
{
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = 160;
      *natural = 420;
    }
  else
    {
      *minimum = 120;
      *natural = 160;
    }
}

void
wz_vitals_chart_set_points (WzVitalsChart *self,
                            GArray        *points)
{
  g_return_if_fail (WZ_IS_VITALS_CHART (self));

  g_array_set_size (self->points, 0);
  if (points != NULL)
    g_array_append_vals (self->points, points->data, points->len);
  g_array_sort (self->points, compare_points);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

guint
wz_vitals_chart_get_n_points (WzVitalsChart *self)
{
  g_return_val_if_fail (WZ_IS_VITALS_CHART (self), 0);

  return self->points->len;
}

void
wz_vitals_chart_set_unit (WzVitalsChart *self,
                          const char    *unit)
{
  g_return_if_fail (WZ_IS_VITALS_CHART (self));

  if (g_strcmp0 (self->unit, unit) == 0)
    return;

  g_free (self->unit);
  self->unit = g_strdup (unit);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
wz_vitals_chart_set_target (WzVitalsChart *self,
                            double         low,
                            double         high)
{
  g_return_if_fail (WZ_IS_VITALS_CHART (self));

  self->target_low = low;
  self->target_high = high;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
wz_vitals_chart_set_target2 (WzVitalsChart *self,
                             double         low,
                             double         high)
{
  g_return_if_fail (WZ_IS_VITALS_CHART (self));

  self->target2_low = low;
  self->target2_high = high;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

GtkWidget *
wz_vitals_chart_new (void)
{
  return g_object_new (WZ_TYPE_VITALS_CHART, NULL);
}

static void
wz_vitals_chart_finalize (GObject *object)
{
  WzVitalsChart *self = WZ_VITALS_CHART (object);

  g_clear_pointer (&self->points, g_array_unref);
  g_clear_pointer (&self->unit, g_free);

  G_OBJECT_CLASS (wz_vitals_chart_parent_class)->finalize (object);
}

static void
wz_vitals_chart_class_init (WzVitalsChartClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = wz_vitals_chart_finalize;
  widget_class->snapshot = wz_vitals_chart_snapshot;
  widget_class->measure = wz_vitals_chart_measure;

  gtk_widget_class_set_css_name (widget_class, "vitalschart");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
wz_vitals_chart_init (WzVitalsChart *self)
{
  self->points = g_array_new (FALSE, FALSE, sizeof (WzVitalsPoint));
  self->target_low = self->target_high = NAN;
  self->target2_low = self->target2_high = NAN;
}
