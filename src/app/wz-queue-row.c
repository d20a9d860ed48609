/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-queue-row"

#include "config.h"

#include "wz-queue-row.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "wz-time.h"

/* A visit in the queue: avatar with the urgency badge, name with the allergy mark, gender · age ·
 * reason, and on the right how long the patient has waited and where the visit stands. Rows are
 * recycled by the list view, so a row only holds labels and reads its item when bound; the
 * waiting times of all bound rows (the ones on screen) tick from one shared timer. */
struct _WzQueueRow
{
  GtkWidget    parent_instance;

  AdwAvatar   *avatar;
  GtkLabel    *urgency_badge;
  GtkLabel    *name_label;
  GtkWidget   *allergy_mark;
  GtkLabel    *details_label;
  GtkLabel    *time_label;
  GtkLabel    *status_label;

  WzQueueItem *item;
  gulong       notify_id;
};

G_DEFINE_FINAL_TYPE (WzQueueRow, wz_queue_row, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_ITEM,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Minutes are what is shown; a tick every 30 s keeps the label at most half a minute late. */
#define TICK_SECONDS 30

static GPtrArray *ticking_rows;
static guint tick_id;

static const char *const status_classes[] = {
  [WZ_QUEUE_STATUS_WAITING] = "queue-waiting",
  [WZ_QUEUE_STATUS_IN_CONSULTATION] = "queue-in-consultation",
  [WZ_QUEUE_STATUS_AWAITING_PHARMACIST] = "queue-awaiting-pharmacist",
  [WZ_QUEUE_STATUS_FINISHED] = "queue-finished",
};

static const char *const urgency_classes[] = {
  NULL, "urgency-1", "urgency-2", "urgency-3", "urgency-4",
};

static void
update_time (WzQueueRow *self,
             gint64      now_us)
{
  g_autofree char *text = NULL;
  WzQueueStatus status = wz_queue_item_get_status (self->item);
  gint64 arrived = wz_queue_item_get_arrived (self->item);

  if (status == WZ_QUEUE_STATUS_WAITING)
    text = wz_queue_item_format_waiting (self->item, now_us);
  else if (arrived != 0)
    {
      g_autoptr(GDateTime) at = g_date_time_new_from_unix_local (arrived / G_USEC_PER_SEC);

      /* Translators: the time a patient joined the queue, strftime format, e.g. “09:30” */
      text = g_date_time_format (at, _("%H:%M"));
    }

  gtk_label_set_text (self->time_label, text != NULL ? text : "");
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

/* Setting a tooltip also asks the display whether one is showing; most rebinds keep it. */
static void
set_tooltip (GtkWidget  *widget,
             const char *text)
{
  if (g_strcmp0 (gtk_widget_get_tooltip_text (widget), text) != 0)
    gtk_widget_set_tooltip_text (widget, text);
}

static void
update_row (WzQueueRow *self)
{
  g_autofree char *urgency_tooltip = NULL;
  g_autofree char *details = NULL;
  g_autofree char *allergy_tooltip = NULL;
  g_autofree char *accessible = NULL;
  WzQueueStatus status;
  const char *name;
  const char *reason;
  guint urgency;
  int allergies;

  if (self->item == NULL)
    return;

  name = wz_queue_item_get_name (self->item);
  reason = wz_queue_item_get_reason (self->item);
  status = wz_queue_item_get_status (self->item);
  urgency = wz_queue_item_get_urgency (self->item);
  allergies = wz_queue_item_get_allergy_count (self->item);

  adw_avatar_set_text (self->avatar, name);
  gtk_label_set_text (self->name_label, name);

  if (reason != NULL && *reason != '\0' && *wz_queue_item_get_details (self->item) != '\0')
    /* Translators: gender and age, then the reason for the visit, e.g. “Female · 34 years · Cough” */
    details = g_strdup_printf (_("%s · %s"), wz_queue_item_get_details (self->item), reason);
  else if (reason != NULL && *reason != '\0')
    details = g_strdup (reason);
  else
    details = g_strdup (wz_queue_item_get_details (self->item));
  gtk_label_set_text (self->details_label, details);

  /* A class removed and added back restyles the badge twice; rows are rebound on every frame
   * while scrolling, so only a class that changes is touched. */
  for (guint i = 1; i < G_N_ELEMENTS (urgency_classes); i++)
    if (i == urgency)
      gtk_widget_add_css_class (GTK_WIDGET (self->urgency_badge), urgency_classes[i]);
    else
      gtk_widget_remove_css_class (GTK_WIDGET (self->urgency_badge), urgency_classes[i]);
  gtk_widget_set_visible (GTK_WIDGET (self->urgency_badge), urgency >= 1 && urgency <= 4);
  if (urgency >= 1 && urgency <= 4)
    {
      g_autofree char *number = g_strdup_printf ("%u", urgency);

      gtk_label_set_text (self->urgency_badge, number);
      /* Translators: tooltip of the urgency badge, e.g. “Urgency 2: Urgent” */
      urgency_tooltip = g_strdup_printf (_("Urgency %u: %s"), urgency, wz_queue_urgency_label (urgency));
      set_tooltip (GTK_WIDGET (self->urgency_badge), urgency_tooltip);
    }
  if (urgency == 1)
    gtk_widget_add_css_class (GTK_WIDGET (self->name_label), "urgent");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->name_label), "urgent");

  gtk_widget_set_visible (self->allergy_mark, allergies > 0);
  if (allergies > 0)
    {
      /* Translators: tooltip of the red allergy mark; %s lists them, e.g. “Penicillin, Eggs” */
      allergy_tooltip = g_strdup_printf (_("Allergies: %s"),
                                         wz_queue_item_get_allergies (self->item) != NULL
                                         ? wz_queue_item_get_allergies (self->item) : "");
      set_tooltip (self->allergy_mark, allergy_tooltip);
    }

  gtk_label_set_text (self->status_label, wz_queue_status_label (status));
  for (guint i = 0; i < G_N_ELEMENTS (status_classes); i++)
    if (i == status)
      gtk_widget_add_css_class (GTK_WIDGET (self), status_classes[i]);
    else
      gtk_widget_remove_css_class (GTK_WIDGET (self), status_classes[i]);

  update_time (self, wz_time_now_us ());

  /* Screen readers announce the row as one sentence rather than scattered fragments. */
  accessible = g_strdup_printf ("%s, %s, %s%s%s%s%s",
                                name, details, wz_queue_status_label (status),
                                urgency_tooltip != NULL ? ", " : "",
                                urgency_tooltip != NULL ? urgency_tooltip : "",
                                allergy_tooltip != NULL ? ", " : "",
                                allergy_tooltip != NULL ? allergy_tooltip : "");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, accessible,
                                  -1);
}

static void
wz_queue_row_dispose (GObject *object)
{
  WzQueueRow *self = WZ_QUEUE_ROW (object);
  GtkWidget *child;

  wz_queue_row_set_item (self, NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), WZ_TYPE_QUEUE_ROW);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (wz_queue_row_parent_class)->dispose (object);
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
  object_class->get_property = wz_queue_row_get_property;
  object_class->set_property = wz_queue_row_set_property;

  properties[PROP_ITEM] =
    g_param_spec_object ("item", NULL, NULL, WZ_TYPE_QUEUE_ITEM,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (ADW_TYPE_AVATAR);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/wenzhen/Wenzhen/wz-queue-row.ui");
  gtk_widget_class_bind_template_child (widget_class, WzQueueRow, avatar);
  gtk_widget_class_bind_template_child (widget_class, WzQueueRow, urgency_badge);
  gtk_widget_class_bind_template_child (widget_class, WzQueueRow, name_label);
  gtk_widget_class_bind_template_child (widget_class, WzQueueRow, allergy_mark);
  gtk_widget_class_bind_template_child (widget_class, WzQueueRow, details_label);
  gtk_widget_class_bind_template_child (widget_class, WzQueueRow, time_label);
  gtk_widget_class_bind_template_child (widget_class, WzQueueRow, status_label);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "queuerow");
}

static void
wz_queue_row_init (WzQueueRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
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

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ITEM]);
}
