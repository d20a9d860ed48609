/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-queue-row"

#include "config.h"

#include "wz-queue-row.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "wz-time.h"

/* A visit in the queue: avatar with the urgency badge, name with the allergy mark, gender · age ·
 * reason, and on the right how long the patient has waited and where the visit stands.
 *
 * The list view rebinds every row on screen while the doctor scrolls, so a row is one widget that
 * draws its own text from Pango layouts it keeps, instead of a template of boxes, labels, an
 * avatar and badges: a bind sets a few texts, measures nothing (the height only depends on the
 * fonts) and touches no style class. Fonts and colours come from the style sheet (the row's own
 * font, libadwaita's named colours, dim and high-contrast opacity), read again when the style
 * changes. The waiting times of all bound rows (the ones on screen) tick from one shared timer. */
struct _WzQueueRow
{
  GtkWidget      parent_instance;

  WzQueueItem   *item;
  gulong         notify_id;

  /* What the bound item shows. */
  WzQueueStatus  status;
  guint          urgency;
  gboolean       allergic;
  guint          avatar_color;
  char          *time_text;
  char          *urgency_tooltip;
  char          *allergy_tooltip;
  char          *accessible_label;

  PangoLayout   *name_layout;
  PangoLayout   *details_layout;
  PangoLayout   *time_layout;
  PangoLayout   *initials_layout;
  PangoLayout   *allergy_layout;
  /* Fixed texts, shaped once per row and style rather than on every bind. */
  PangoLayout   *status_layouts[WZ_QUEUE_N_STATUSES];
  PangoLayout   *badge_layouts[5];
  GdkPaintable  *allergy_icon;

  /* From the style. */
  gboolean       style_valid;
  PangoFontDescription *font;
  int            name_height;
  int            name_baseline;
  int            caption_height;
  int            caption_baseline;
  int            row_height;
  GdkRGBA        fg;
  GdkRGBA        view_bg;
  GdkRGBA        accent;
  GdkRGBA        success;
  GdkRGBA        warning;
  GdkRGBA        error;
  double         dim_alpha;

  /* Where the parts go for the current width and texts; the hit areas serve the tooltips. */
  gboolean       placed;
  int            placed_width;
  graphene_rect_t badge_rect;
  graphene_rect_t allergy_rect;
};

G_DEFINE_FINAL_TYPE (WzQueueRow, wz_queue_row, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_ITEM,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Minutes are what is shown; a tick every 30 s keeps the text at most half a minute late. */
#define TICK_SECONDS 30

/* Geometry in pixels, as the row looked when it was built from boxes and labels. */
#define MARGIN_Y        6
#define AVATAR_SIZE     38
#define COLUMN_SPACING  10
#define NAME_SPACING    6
#define LINE_SPACING    2
#define RIGHT_SPACING   3
#define BADGE_SIZE      17
#define BADGE_OVERHANG  3
#define BADGE_RING      2
#define PILL_PADDING_X  8
#define PILL_PADDING_Y  1
#define MARK_PADDING_X  6
#define MARK_ICON_SIZE  12
#define MARK_SPACING    2
/* libadwaita's .caption and .heading are 9 and 11 pt: the row's captions keep that ratio to its
 * font, so the large-text setting (a larger font for the row) scales them too. */
#define CAPTION_SCALE   (9.0 / 11.0)
#define BADGE_SCALE     0.72
#define FINISHED_ALPHA  0.6

/* The avatar colours of libadwaita (avatar.color1 … color14, top and bottom of the gradient, and
 * the initials), picked by the same hash of the name, so a patient has the same avatar here as
 * in the record pane's AdwAvatar. */
static const struct
{
  const char *top;
  const char *bottom;
  const char *text;
} avatar_colors[] = {
  { "#83b6ec", "#337fdc", "#cfe1f5" },
  { "#7ad9f1", "#0f9ac8", "#caeaf2" },
  { "#8de6b1", "#29ae74", "#cef8d8" },
  { "#b5e98a", "#6ab85b", "#e6f9d7" },
  { "#f8e359", "#d29d09", "#f9f4e1" },
  { "#ffcb62", "#d68400", "#ffead1" },
  { "#ffa95a", "#ed5b00", "#ffe5c5" },
  { "#f78773", "#e62d42", "#f8d2ce" },
  { "#e973ab", "#e33b6a", "#fac7de" },
  { "#cb78d4", "#9945b5", "#e7c2e8" },
  { "#9e91e8", "#7a59ca", "#d5d2f5" },
  { "#e3cf9c", "#b08952", "#f2eade" },
  { "#be916d", "#785336", "#e5d6ca" },
  { "#c0bfbc", "#6e6d71", "#d8d7d3" },
};

/* The four colours of Chinese emergency triage (red, orange, yellow, green): badge and number. */
static const struct
{
  const char *background;
  const char *text;
} urgency_colors[] = {
  { NULL, NULL },
  { "#e01b24", "#ffffff" },
  { "#ff7800", "#ffffff" },
  { "#f6d32d", "#3d3846" },
  { "#33d17a", "#0f3d24" },
};

static GPtrArray *ticking_rows;
static guint tick_id;

static void
rgba_parse (GdkRGBA    *rgba,
            const char *spec)
{
  if (!gdk_rgba_parse (rgba, spec))
    g_assert_not_reached ();
}

static GdkRGBA
with_alpha (const GdkRGBA *color,
            double         alpha)
{
  GdkRGBA result = *color;

  result.alpha *= alpha;

  return result;
}

/* The initials AdwAvatar shows for a name: its first character and the first after its last
 * space, upper-cased. */
static char *
avatar_initials (const char *name)
{
  g_autofree char *upper = g_utf8_strup (name, -1);
  g_autofree char *normalized = g_utf8_normalize (g_strstrip (upper), -1, G_NORMALIZE_DEFAULT_COMPOSE);
  GString *initials;
  const char *last_space;

  if (normalized == NULL || *normalized == '\0')
    return g_strdup ("");

  initials = g_string_new (NULL);
  g_string_append_unichar (initials, g_utf8_get_char (normalized));
  last_space = g_utf8_strrchr (normalized, -1, ' ');
  if (last_space != NULL && *g_utf8_next_char (last_space) != '\0')
    g_string_append_unichar (initials, g_utf8_get_char (g_utf8_next_char (last_space)));

  return g_string_free (initials, FALSE);
}

static PangoFontDescription *
scaled_font (const PangoFontDescription *base,
             double                      scale,
             PangoWeight                 weight)
{
  PangoFontDescription *font = pango_font_description_copy (base);
  int size = pango_font_description_get_size (base);

  if (size <= 0)
    size = 10 * PANGO_SCALE;
  if (pango_font_description_get_size_is_absolute (base))
    pango_font_description_set_absolute_size (font, size * scale);
  else
    pango_font_description_set_size (font, (int) (size * scale + 0.5));
  pango_font_description_set_weight (font, weight);

  return font;
}

static PangoLayout *
new_layout (WzQueueRow                 *self,
            const PangoFontDescription *font,
            gboolean                    ellipsize,
            gboolean                    tabular)
{
  PangoLayout *layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), NULL);

  pango_layout_set_font_description (layout, font);
  if (ellipsize)
    pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
  if (tabular)
    {
      PangoAttrList *attrs = pango_attr_list_new ();

      pango_attr_list_insert (attrs, pango_attr_font_features_new ("tnum=1"));
      pango_layout_set_attributes (layout, attrs);
      pango_attr_list_unref (attrs);
    }

  return layout;
}

/* Height and baseline of a line in this font, with Latin and Chinese text in it: rows are all
 * the same height whatever their names, so the list view never measures one. */
static void
line_metrics (WzQueueRow                 *self,
              const PangoFontDescription *font,
              int                        *height,
              int                        *baseline)
{
  g_autoptr(PangoLayout) layout = new_layout (self, font, FALSE, FALSE);
  PangoRectangle logical;

  pango_layout_set_text (layout, "Ag王伟·", -1);
  pango_layout_get_pixel_extents (layout, NULL, &logical);
  *height = logical.height;
  *baseline = PANGO_PIXELS (pango_layout_get_baseline (layout));
}

static void
clear_layouts (WzQueueRow *self)
{
  g_clear_object (&self->name_layout);
  g_clear_object (&self->details_layout);
  g_clear_object (&self->time_layout);
  g_clear_object (&self->initials_layout);
  g_clear_object (&self->allergy_layout);
  for (guint i = 0; i < G_N_ELEMENTS (self->status_layouts); i++)
    g_clear_object (&self->status_layouts[i]);
  for (guint i = 0; i < G_N_ELEMENTS (self->badge_layouts); i++)
    g_clear_object (&self->badge_layouts[i]);
  g_clear_object (&self->allergy_icon);
}

static void set_texts (WzQueueRow *self);

/* Colours and fonts from the style sheet: the row's own colour and font, libadwaita's named
 * colours (which follow the dark and high-contrast styles) and dim-label's opacity. */
static void
ensure_style (WzQueueRow *self)
{
  GtkWidget *widget = GTK_WIDGET (self);
  const PangoFontDescription *base;
  g_autoptr(PangoFontDescription) name_font = NULL;
  g_autoptr(PangoFontDescription) caption_font = NULL;
  g_autoptr(PangoFontDescription) caption_bold = NULL;
  g_autoptr(PangoFontDescription) badge_font = NULL;
  g_autoptr(PangoFontDescription) initials_font = NULL;
  GtkStyleContext *context;
  AdwStyleManager *style_manager = adw_style_manager_get_default ();
  int time_height, right_height, middle_height;
  gboolean font_changed;
  g_autoptr(GtkIconPaintable) icon = NULL;

  if (self->style_valid)
    return;
  self->style_valid = TRUE;

  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  context = gtk_widget_get_style_context (widget);
  gtk_style_context_get_color (context, &self->fg);
  if (!gtk_style_context_lookup_color (context, "view_bg_color", &self->view_bg))
    rgba_parse (&self->view_bg, "#ffffff");
  if (!gtk_style_context_lookup_color (context, "accent_color", &self->accent))
    rgba_parse (&self->accent, "#1c71d8");
  if (!gtk_style_context_lookup_color (context, "success_color", &self->success))
    rgba_parse (&self->success, "#1b8553");
  if (!gtk_style_context_lookup_color (context, "warning_color", &self->warning))
    rgba_parse (&self->warning, "#9c6e03");
  if (!gtk_style_context_lookup_color (context, "error_color", &self->error))
    rgba_parse (&self->error, "#c01c28");
  G_GNUC_END_IGNORE_DEPRECATIONS
  /* libadwaita's .dim-label: 55 % opaque, 90 % in high contrast. */
  self->dim_alpha = adw_style_manager_get_high_contrast (style_manager) ? 0.9 : 0.55;

  base = pango_context_get_font_description (gtk_widget_get_pango_context (widget));
  font_changed = self->font == NULL || !pango_font_description_equal (self->font, base);
  if (!font_changed && self->name_layout != NULL)
    return;

  g_clear_pointer (&self->font, pango_font_description_free);
  self->font = pango_font_description_copy (base);
  clear_layouts (self);

  name_font = scaled_font (base, 1.0, PANGO_WEIGHT_BOLD);
  caption_font = scaled_font (base, CAPTION_SCALE, PANGO_WEIGHT_NORMAL);
  caption_bold = scaled_font (base, CAPTION_SCALE, PANGO_WEIGHT_BOLD);
  badge_font = scaled_font (base, BADGE_SCALE, PANGO_WEIGHT_ULTRABOLD);
  initials_font = pango_font_description_copy (base);
  pango_font_description_set_weight (initials_font, PANGO_WEIGHT_BOLD);
  pango_font_description_set_absolute_size (initials_font, AVATAR_SIZE * 0.4 * PANGO_SCALE);

  self->name_layout = new_layout (self, name_font, TRUE, FALSE);
  self->details_layout = new_layout (self, caption_font, TRUE, FALSE);
  self->time_layout = new_layout (self, caption_bold, FALSE, TRUE);
  self->initials_layout = new_layout (self, initials_font, FALSE, FALSE);
  self->allergy_layout = new_layout (self, caption_bold, FALSE, FALSE);
  /* Translators: short mark next to a patient's name in the queue; the tooltip lists the allergies */
  pango_layout_set_text (self->allergy_layout, _("Allergy"), -1);
  for (guint i = 0; i < G_N_ELEMENTS (self->status_layouts); i++)
    {
      self->status_layouts[i] = new_layout (self, caption_bold, FALSE, FALSE);
      pango_layout_set_text (self->status_layouts[i], wz_queue_status_label (i), -1);
    }
  for (guint i = 1; i < G_N_ELEMENTS (self->badge_layouts); i++)
    {
      char number[2] = { (char) ('0' + i), '\0' };

      self->badge_layouts[i] = new_layout (self, badge_font, FALSE, FALSE);
      pango_layout_set_text (self->badge_layouts[i], number, -1);
    }

  icon = gtk_icon_theme_lookup_icon (gtk_icon_theme_get_for_display (gtk_widget_get_display (widget)),
                                     "dialog-warning-symbolic", NULL, MARK_ICON_SIZE,
                                     gtk_widget_get_scale_factor (widget),
                                     gtk_widget_get_direction (widget), 0);
  self->allergy_icon = GDK_PAINTABLE (g_steal_pointer (&icon));

  line_metrics (self, name_font, &self->name_height, &self->name_baseline);
  line_metrics (self, caption_font, &self->caption_height, &self->caption_baseline);
  line_metrics (self, caption_bold, &time_height, &(int){ 0 });
  middle_height = self->name_height + LINE_SPACING + self->caption_height;
  right_height = time_height + RIGHT_SPACING + self->caption_height + 2 * PILL_PADDING_Y;
  self->row_height = 2 * MARGIN_Y + MAX (AVATAR_SIZE, MAX (middle_height, right_height));

  set_texts (self);
}

static void
update_time (WzQueueRow *self,
             gint64      now_us)
{
  g_autofree char *text = NULL;
  gint64 arrived = wz_queue_item_get_arrived (self->item);

  if (self->status == WZ_QUEUE_STATUS_WAITING)
    text = wz_queue_item_format_waiting (self->item, now_us);
  else if (arrived != 0)
    {
      g_autoptr(GDateTime) at = g_date_time_new_from_unix_local (arrived / G_USEC_PER_SEC);

      /* Translators: the time a patient joined the queue, strftime format, e.g. “09:30” */
      text = g_date_time_format (at, _("%H:%M"));
    }
  if (text == NULL)
    text = g_strdup ("");

  if (g_strcmp0 (text, self->time_text) == 0)
    return;
  g_free (self->time_text);
  self->time_text = g_steal_pointer (&text);
  if (self->time_layout != NULL)
    pango_layout_set_text (self->time_layout, self->time_text, -1);
  /* The waiting time is said after the rest of the row. */
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, self->time_text,
                                  -1);
  self->placed = FALSE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static gboolean
on_tick (gpointer user_data)
{
  gint64 now = wz_time_now_us ();

  for (guint i = 0; i < ticking_rows->len; i++)
    update_time (ticking_rows->pdata[i], now);

  return G_SOURCE_CONTINUE;
}

static void
start_ticking (WzQueueRow *self)
{
  if (ticking_rows == NULL)
    ticking_rows = g_ptr_array_new ();
  g_ptr_array_add (ticking_rows, self);
  if (tick_id == 0)
    tick_id = g_timeout_add_seconds (TICK_SECONDS, on_tick, NULL);
}

static void
stop_ticking (WzQueueRow *self)
{
  if (ticking_rows == NULL || !g_ptr_array_remove_fast (ticking_rows, self))
    return;
  if (ticking_rows->len == 0)
    g_clear_handle_id (&tick_id, g_source_remove);
}

static char *
details_text (WzQueueItem *item)
{
  const char *reason = wz_queue_item_get_reason (item);
  const char *details = wz_queue_item_get_details (item);

  if (reason != NULL && *reason != '\0' && *details != '\0')
    /* Translators: gender and age, then the reason for the visit, e.g. “Female · 34 years · Cough” */
    return g_strdup_printf (_("%s · %s"), details, reason);
  if (reason != NULL && *reason != '\0')
    return g_strdup (reason);

  return g_strdup (details);
}

/* The item's texts into the layouts (once the style has made them). */
static void
set_texts (WzQueueRow *self)
{
  g_autofree char *initials = NULL;
  g_autofree char *details = NULL;
  const char *name;

  if (self->item == NULL || self->name_layout == NULL)
    return;

  name = wz_queue_item_get_name (self->item);
  if (name == NULL)
    name = "";
  details = details_text (self->item);
  initials = avatar_initials (name);
  pango_layout_set_text (self->name_layout, name, -1);
  pango_layout_set_text (self->details_layout, details, -1);
  pango_layout_set_text (self->initials_layout, initials, -1);
  pango_layout_set_text (self->time_layout, self->time_text != NULL ? self->time_text : "", -1);
  self->placed = FALSE;
}

static void
update_row (WzQueueRow *self)
{
  g_autofree char *details = NULL;
  const char *name, *allergies;

  if (self->item == NULL)
    return;

  name = wz_queue_item_get_name (self->item);
  if (name == NULL)
    name = "";
  self->status = wz_queue_item_get_status (self->item);
  if ((guint) self->status >= WZ_QUEUE_N_STATUSES)
    self->status = WZ_QUEUE_STATUS_WAITING;
  self->urgency = wz_queue_item_get_urgency (self->item);
  if (self->urgency > 4)
    self->urgency = 0;
  self->allergic = wz_queue_item_get_allergy_count (self->item) > 0;
  self->avatar_color = *name != '\0' ? g_str_hash (name) % G_N_ELEMENTS (avatar_colors)
                                     : G_N_ELEMENTS (avatar_colors) - 1;

  g_clear_pointer (&self->urgency_tooltip, g_free);
  if (self->urgency >= 1)
    /* Translators: tooltip of the urgency badge, e.g. “Urgency 2: Urgent” */
    self->urgency_tooltip = g_strdup_printf (_("Urgency %u: %s"), self->urgency,
                                             wz_queue_urgency_label (self->urgency));
  g_clear_pointer (&self->allergy_tooltip, g_free);
  if (self->allergic)
    {
      allergies = wz_queue_item_get_allergies (self->item);
      /* Translators: tooltip of the red allergy mark; %s lists them, e.g. “Penicillin, Eggs” */
      self->allergy_tooltip = g_strdup_printf (_("Allergies: %s"), allergies != NULL ? allergies : "");
    }

  set_texts (self);
  g_clear_pointer (&self->time_text, g_free);
  update_time (self, wz_time_now_us ());

  /* Screen readers announce the row as one sentence rather than scattered fragments. */
  details = details_text (self->item);
  g_free (self->accessible_label);
  self->accessible_label = g_strdup_printf ("%s, %s, %s%s%s%s%s",
                                            name, details, wz_queue_status_label (self->status),
                                            self->urgency_tooltip != NULL ? ", " : "",
                                            self->urgency_tooltip != NULL ? self->urgency_tooltip : "",
                                            self->allergy_tooltip != NULL ? ", " : "",
                                            self->allergy_tooltip != NULL ? self->allergy_tooltip : "");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, self->accessible_label,
                                  -1);

  self->placed = FALSE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* ---------------------------------------------------------------------------------------- */
/* Size and drawing */

static void
pixel_size (PangoLayout *layout,
            int         *width,
            int         *height)
{
  PangoRectangle logical;

  pango_layout_get_pixel_extents (layout, NULL, &logical);
  *width = logical.width;
  *height = logical.height;
}

/* The right column is as wide as this row's time or status, the middle takes the rest: widths
 * go to the layouts that ellipsize. */
static void
place (WzQueueRow *self,
       int         width)
{
  int time_w, time_h, status_w, status_h, right_w, middle_w, mark_w = 0, text_w, text_h;

  pixel_size (self->time_layout, &time_w, &time_h);
  pixel_size (self->status_layouts[self->status], &status_w, &status_h);
  right_w = MAX (time_w, status_w + 2 * PILL_PADDING_X);
  middle_w = MAX (0, width - AVATAR_SIZE - 2 * COLUMN_SPACING - right_w);

  pango_layout_set_width (self->details_layout, middle_w * PANGO_SCALE);
  if (self->allergic)
    {
      pixel_size (self->allergy_layout, &text_w, &text_h);
      mark_w = 2 * MARK_PADDING_X + MARK_ICON_SIZE + MARK_SPACING + text_w;
    }
  pango_layout_set_width (self->name_layout,
                          MAX (0, middle_w - (self->allergic ? mark_w + NAME_SPACING : 0)) * PANGO_SCALE);

  self->placed = TRUE;
  self->placed_width = width;
}

/* A rect of the row in left-to-right terms, mirrored for right-to-left. */
static graphene_rect_t
row_rect (WzQueueRow *self,
          double      x,
          double      y,
          double      width,
          double      height)
{
  if (gtk_widget_get_direction (GTK_WIDGET (self)) == GTK_TEXT_DIR_RTL)
    x = gtk_widget_get_width (GTK_WIDGET (self)) - x - width;

  return GRAPHENE_RECT_INIT (x, y, width, height);
}

static void
append_pill (GtkSnapshot           *snapshot,
             const graphene_rect_t *rect,
             const GdkRGBA         *color)
{
  GskRoundedRect outline;

  gsk_rounded_rect_init_from_rect (&outline, rect, MIN (rect->size.width, rect->size.height) / 2);
  gtk_snapshot_push_rounded_clip (snapshot, &outline);
  gtk_snapshot_append_color (snapshot, color, rect);
  gtk_snapshot_pop (snapshot);
}

static void
append_text (WzQueueRow    *self,
             GtkSnapshot   *snapshot,
             PangoLayout   *layout,
             double         x,
             double         y,
             const GdkRGBA *color)
{
  int width, height;
  graphene_rect_t rect;

  pixel_size (layout, &width, &height);
  rect = row_rect (self, x, y, width, height);
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (roundf (rect.origin.x), roundf (rect.origin.y)));
  gtk_snapshot_append_layout (snapshot, layout, color);
  gtk_snapshot_restore (snapshot);
}

static void
snapshot_avatar (WzQueueRow  *self,
                 GtkSnapshot *snapshot,
                 double       y)
{
  graphene_rect_t rect = row_rect (self, 0, y, AVATAR_SIZE, AVATAR_SIZE);
  GskColorStop stops[2];
  GdkRGBA text_color;
  int width, height;
  double font_scale = 1.0;

  rgba_parse (&stops[0].color, avatar_colors[self->avatar_color].top);
  rgba_parse (&stops[1].color, avatar_colors[self->avatar_color].bottom);
  stops[0].offset = 0;
  stops[1].offset = 1;
  {
    GskRoundedRect outline;

    gsk_rounded_rect_init_from_rect (&outline, &rect, AVATAR_SIZE / 2.0);
    gtk_snapshot_push_rounded_clip (snapshot, &outline);
    gtk_snapshot_append_linear_gradient (snapshot, &rect,
                                         &GRAPHENE_POINT_INIT (rect.origin.x + AVATAR_SIZE / 2.0, rect.origin.y),
                                         &GRAPHENE_POINT_INIT (rect.origin.x + AVATAR_SIZE / 2.0,
                                                               rect.origin.y + AVATAR_SIZE),
                                         stops, G_N_ELEMENTS (stops));
    gtk_snapshot_pop (snapshot);
  }

  /* The initials fit the largest square inside the circle, less a margin, as AdwAvatar's do. */
  pixel_size (self->initials_layout, &width, &height);
  if (width <= 0 || height <= 0)
    return;
  {
    double room = AVATAR_SIZE / G_SQRT2 - MAX (AVATAR_SIZE * 0.4 - 5, 0);

    if (width > room)
      font_scale = room / width;
  }
  rgba_parse (&text_color, avatar_colors[self->avatar_color].text);
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (rect.origin.x + AVATAR_SIZE / 2.0,
                                                          rect.origin.y + AVATAR_SIZE / 2.0));
  if (font_scale < 1.0)
    gtk_snapshot_scale (snapshot, font_scale, font_scale);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (-width / 2.0, -height / 2.0));
  gtk_snapshot_append_layout (snapshot, self->initials_layout, &text_color);
  gtk_snapshot_restore (snapshot);
}

static void
snapshot_badge (WzQueueRow  *self,
                GtkSnapshot *snapshot,
                double       avatar_y)
{
  PangoLayout *layout = self->badge_layouts[self->urgency];
  GdkRGBA background, text_color;
  graphene_rect_t ring;
  int width, height;
  double badge_w, badge_h, x, y;

  pixel_size (layout, &width, &height);
  badge_w = MAX (BADGE_SIZE, width + 4);
  badge_h = MAX (BADGE_SIZE, height);
  x = AVATAR_SIZE + BADGE_OVERHANG - badge_w;
  y = avatar_y + AVATAR_SIZE + BADGE_OVERHANG - badge_h;

  /* A ring of the list's background sets the badge off the avatar. */
  ring = row_rect (self, x - BADGE_RING, y - BADGE_RING, badge_w + 2 * BADGE_RING, badge_h + 2 * BADGE_RING);
  append_pill (snapshot, &ring, &self->view_bg);
  self->badge_rect = row_rect (self, x, y, badge_w, badge_h);
  rgba_parse (&background, urgency_colors[self->urgency].background);
  rgba_parse (&text_color, urgency_colors[self->urgency].text);
  append_pill (snapshot, &self->badge_rect, &background);
  append_text (self, snapshot, layout, x + (badge_w - width) / 2.0, y + (badge_h - height) / 2.0, &text_color);
}

static void
snapshot_allergy_mark (WzQueueRow  *self,
                       GtkSnapshot *snapshot,
                       double       x,
                       double       line_y)
{
  GdkRGBA background = with_alpha (&self->error, 0.12);
  int text_w, text_h;
  double height, y;

  pixel_size (self->allergy_layout, &text_w, &text_h);
  height = MAX (MARK_ICON_SIZE, text_h);
  y = line_y + (self->name_height - height) / 2.0;
  self->allergy_rect = row_rect (self, x, y,
                                 2 * MARK_PADDING_X + MARK_ICON_SIZE + MARK_SPACING + text_w, height);
  append_pill (snapshot, &self->allergy_rect, &background);

  if (self->allergy_icon != NULL)
    {
      graphene_rect_t icon = row_rect (self, x + MARK_PADDING_X, y + (height - MARK_ICON_SIZE) / 2.0,
                                       MARK_ICON_SIZE, MARK_ICON_SIZE);
      GdkRGBA colors[4] = { self->error, self->error, self->warning, self->success };

      gtk_snapshot_save (snapshot);
      gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (roundf (icon.origin.x), roundf (icon.origin.y)));
      gtk_symbolic_paintable_snapshot_symbolic (GTK_SYMBOLIC_PAINTABLE (self->allergy_icon), snapshot,
                                                MARK_ICON_SIZE, MARK_ICON_SIZE, colors, G_N_ELEMENTS (colors));
      gtk_snapshot_restore (snapshot);
    }
  append_text (self, snapshot, self->allergy_layout, x + MARK_PADDING_X + MARK_ICON_SIZE + MARK_SPACING,
               y + (height - text_h) / 2.0, &self->error);
}

static void
wz_queue_row_snapshot (GtkWidget   *widget,
                       GtkSnapshot *snapshot)
{
  WzQueueRow *self = WZ_QUEUE_ROW (widget);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  gboolean finished, waiting;
  int name_w, name_h, time_w, time_h, status_w, status_h, right_w;
  double avatar_y, middle_y, right_y, middle_x, right_x;
  GdkRGBA name_color, details_color, time_color, status_fg, status_bg;

  if (self->item == NULL)
    return;
  ensure_style (self);
  if (!self->placed || self->placed_width != width)
    place (self, width);

  finished = self->status == WZ_QUEUE_STATUS_FINISHED;
  waiting = self->status == WZ_QUEUE_STATUS_WAITING;

  avatar_y = (height - AVATAR_SIZE) / 2.0;
  snapshot_avatar (self, snapshot, avatar_y);
  if (self->urgency >= 1)
    snapshot_badge (self, snapshot, avatar_y);
  else
    self->badge_rect = GRAPHENE_RECT_INIT (0, 0, 0, 0);

  /* Name (red and bold for an emergency, as .urgent), allergy mark, details (dim). */
  middle_x = AVATAR_SIZE + COLUMN_SPACING;
  middle_y = (height - (self->name_height + LINE_SPACING + self->caption_height)) / 2.0;
  name_color = self->urgency == 1 ? self->error : self->fg;
  if (finished)
    name_color = with_alpha (&name_color, FINISHED_ALPHA);
  pixel_size (self->name_layout, &name_w, &name_h);
  append_text (self, snapshot, self->name_layout, middle_x,
               middle_y + self->name_baseline - PANGO_PIXELS (pango_layout_get_baseline (self->name_layout)),
               &name_color);
  if (self->allergic)
    snapshot_allergy_mark (self, snapshot, middle_x + name_w + NAME_SPACING, middle_y);
  else
    self->allergy_rect = GRAPHENE_RECT_INIT (0, 0, 0, 0);
  details_color = with_alpha (&self->fg, self->dim_alpha);
  append_text (self, snapshot, self->details_layout, middle_x,
               middle_y + self->name_height + LINE_SPACING + self->caption_baseline
               - PANGO_PIXELS (pango_layout_get_baseline (self->details_layout)),
               &details_color);

  /* Time over the status, both to the right. */
  pixel_size (self->time_layout, &time_w, &time_h);
  pixel_size (self->status_layouts[self->status], &status_w, &status_h);
  right_w = MAX (time_w, status_w + 2 * PILL_PADDING_X);
  right_x = width - right_w;
  right_y = (height - (time_h + RIGHT_SPACING + status_h + 2 * PILL_PADDING_Y)) / 2.0;
  time_color = waiting ? self->accent : self->fg;
  if (finished)
    time_color = with_alpha (&time_color, FINISHED_ALPHA);
  append_text (self, snapshot, self->time_layout, right_x + right_w - time_w, right_y, &time_color);

  switch (self->status)
    {
    case WZ_QUEUE_STATUS_WAITING:
      status_fg = self->accent;
      status_bg = with_alpha (&self->accent, 0.14);
      break;
    case WZ_QUEUE_STATUS_IN_CONSULTATION:
      status_fg = self->success;
      status_bg = with_alpha (&self->success, 0.16);
      break;
    case WZ_QUEUE_STATUS_AWAITING_PHARMACIST:
      status_fg = self->warning;
      status_bg = with_alpha (&self->warning, 0.18);
      break;
    case WZ_QUEUE_STATUS_FINISHED:
    case WZ_QUEUE_STATUS_ALL:
    case WZ_QUEUE_STATUS_NONE:
    default:
      status_fg = with_alpha (&self->fg, FINISHED_ALPHA);
      status_bg = with_alpha (&self->fg, 0.08);
      break;
    }
  {
    double pill_w = status_w + 2 * PILL_PADDING_X;
    double pill_y = right_y + time_h + RIGHT_SPACING;
    graphene_rect_t pill = row_rect (self, width - pill_w, pill_y, pill_w, status_h + 2 * PILL_PADDING_Y);

    append_pill (snapshot, &pill, &status_bg);
    append_text (self, snapshot, self->status_layouts[self->status], width - pill_w + PILL_PADDING_X,
                 pill_y + PILL_PADDING_Y, &status_fg);
  }
}

static void
wz_queue_row_measure (GtkWidget      *widget,
                      GtkOrientation  orientation,
                      int             for_size,
                      int            *minimum,
                      int            *natural,
                      int            *minimum_baseline,
                      int            *natural_baseline)
{
  WzQueueRow *self = WZ_QUEUE_ROW (widget);

  ensure_style (self);
  if (orientation == GTK_ORIENTATION_VERTICAL)
    *minimum = *natural = self->row_height;
  else
    {
      /* The texts ellipsize: what a row needs is room for the avatar, a few characters and the
       * widest status; it asks for no more, so the sidebar keeps its width. */
      int widest = 0;

      for (guint i = 0; i < G_N_ELEMENTS (self->status_layouts); i++)
        {
          int w, h;

          pixel_size (self->status_layouts[i], &w, &h);
          widest = MAX (widest, w + 2 * PILL_PADDING_X);
        }
      *minimum = *natural = AVATAR_SIZE + 2 * COLUMN_SPACING + 4 * self->name_height + widest;
    }
}

static gboolean
wz_queue_row_query_tooltip (GtkWidget  *widget,
                            int         x,
                            int         y,
                            gboolean    keyboard_tooltip,
                            GtkTooltip *tooltip)
{
  WzQueueRow *self = WZ_QUEUE_ROW (widget);
  graphene_point_t point = GRAPHENE_POINT_INIT (x, y);

  if (self->item == NULL)
    return FALSE;
  if (self->urgency_tooltip != NULL
      && (keyboard_tooltip || graphene_rect_contains_point (&self->badge_rect, &point)))
    {
      gtk_tooltip_set_text (tooltip, self->urgency_tooltip);
      gtk_tooltip_set_tip_area (tooltip, &(GdkRectangle) { self->badge_rect.origin.x, self->badge_rect.origin.y,
                                                           self->badge_rect.size.width,
                                                           self->badge_rect.size.height });
      return TRUE;
    }
  if (self->allergy_tooltip != NULL
      && (keyboard_tooltip || graphene_rect_contains_point (&self->allergy_rect, &point)))
    {
      gtk_tooltip_set_text (tooltip, self->allergy_tooltip);
      gtk_tooltip_set_tip_area (tooltip, &(GdkRectangle) { self->allergy_rect.origin.x,
                                                           self->allergy_rect.origin.y,
                                                           self->allergy_rect.size.width,
                                                           self->allergy_rect.size.height });
      return TRUE;
    }

  return FALSE;
}

static void
wz_queue_row_css_changed (GtkWidget         *widget,
                          GtkCssStyleChange *change)
{
  WzQueueRow *self = WZ_QUEUE_ROW (widget);

  GTK_WIDGET_CLASS (wz_queue_row_parent_class)->css_changed (widget, change);

  /* Colours are read again; fonts, layouts and the height only when the font changed (the
   * parent class has updated the widget's Pango context by now). Hovering a row or selecting it
   * changes its style but not its font, and costs no new layout. */
  self->style_valid = FALSE;
  if (self->font != NULL
      && !pango_font_description_equal (self->font,
                                        pango_context_get_font_description (gtk_widget_get_pango_context (widget))))
    gtk_widget_queue_resize (widget);
  else
    gtk_widget_queue_draw (widget);
}

static void
wz_queue_row_direction_changed (GtkWidget        *widget,
                                GtkTextDirection  previous)
{
  WZ_QUEUE_ROW (widget)->placed = FALSE;
  gtk_widget_queue_draw (widget);
}

static void
on_style_manager_changed (WzQueueRow *self)
{
  self->style_valid = FALSE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* The allergy icon is loaded for the display's scale. */
static void
on_scale_factor_changed (WzQueueRow *self)
{
  g_clear_pointer (&self->font, pango_font_description_free);
  self->style_valid = FALSE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* ---------------------------------------------------------------------------------------- */

static void
wz_queue_row_dispose (GObject *object)
{
  WzQueueRow *self = WZ_QUEUE_ROW (object);

  wz_queue_row_set_item (self, NULL);
  clear_layouts (self);

  G_OBJECT_CLASS (wz_queue_row_parent_class)->dispose (object);
}

static void
wz_queue_row_finalize (GObject *object)
{
  WzQueueRow *self = WZ_QUEUE_ROW (object);

  g_clear_pointer (&self->font, pango_font_description_free);
  g_free (self->time_text);
  g_free (self->urgency_tooltip);
  g_free (self->allergy_tooltip);
  g_free (self->accessible_label);

  G_OBJECT_CLASS (wz_queue_row_parent_class)->finalize (object);
}

static void
wz_queue_row_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  WzQueueRow *self = WZ_QUEUE_ROW (object);

  switch (prop_id)
    {
    case PROP_ITEM:
      g_value_set_object (value, self->item);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
wz_queue_row_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  WzQueueRow *self = WZ_QUEUE_ROW (object);

  switch (prop_id)
    {
    case PROP_ITEM:
      wz_queue_row_set_item (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
wz_queue_row_class_init (WzQueueRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = wz_queue_row_dispose;
  object_class->finalize = wz_queue_row_finalize;
  object_class->get_property = wz_queue_row_get_property;
  object_class->set_property = wz_queue_row_set_property;

  widget_class->measure = wz_queue_row_measure;
  widget_class->snapshot = wz_queue_row_snapshot;
  widget_class->query_tooltip = wz_queue_row_query_tooltip;
  widget_class->css_changed = wz_queue_row_css_changed;
  widget_class->direction_changed = wz_queue_row_direction_changed;

  properties[PROP_ITEM] =
    g_param_spec_object ("item", NULL, NULL, WZ_TYPE_QUEUE_ITEM,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_css_name (widget_class, "queuerow");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
wz_queue_row_init (WzQueueRow *self)
{
  AdwStyleManager *style_manager = adw_style_manager_get_default ();

  self->status = WZ_QUEUE_STATUS_WAITING;
  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);
  g_signal_connect_object (style_manager, "notify::dark",
                           G_CALLBACK (on_style_manager_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (style_manager, "notify::high-contrast",
                           G_CALLBACK (on_style_manager_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect (self, "notify::scale-factor", G_CALLBACK (on_scale_factor_changed), NULL);
}

GtkWidget *
wz_queue_row_new (void)
{
  return g_object_new (WZ_TYPE_QUEUE_ROW, NULL);
}

WzQueueItem *
wz_queue_row_get_item (WzQueueRow *self)
{
  g_return_val_if_fail (WZ_IS_QUEUE_ROW (self), NULL);

  return self->item;
}

void
wz_queue_row_set_item (WzQueueRow  *self,
                       WzQueueItem *item)
{
  g_return_if_fail (WZ_IS_QUEUE_ROW (self));
  g_return_if_fail (item == NULL || WZ_IS_QUEUE_ITEM (item));

  if (self->item == item)
    return;

  if (self->item != NULL)
    {
      g_clear_signal_handler (&self->notify_id, self->item);
      stop_ticking (self);
    }

  g_set_object (&self->item, item);

  if (self->item != NULL)
    {
      /* Any change of the item redraws the row; items change rarely, rows are few. */
      self->notify_id = g_signal_connect_swapped (self->item, "notify",
                                                  G_CALLBACK (update_row), self);
      start_ticking (self);
      update_row (self);
    }
  else
    gtk_widget_queue_draw (GTK_WIDGET (self));

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ITEM]);
}
