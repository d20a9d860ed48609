/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-quick-replies"

#include "config.h"

#include "wz-quick-replies.h"

#include <glib/gi18n.h>
#include <gtk/gtk.h>

struct _WzQuickReplies
{
  GObject    parent_instance;

  GSettings *settings;
  GStrv      phrases;
};

static void wz_quick_replies_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (WzQuickReplies, wz_quick_replies, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      wz_quick_replies_list_model_init))

#define KEY "quick-replies"

GStrv
wz_quick_replies_defaults (void)
{
  const char *phrases[] = {
    _("Hello, I am the doctor for your consultation today. How can I help you?"),
    _("When did it start, and has it got better or worse since?"),
    _("Could you send a clear photo of the affected area?"),
    _("Are you allergic to any medicines?"),
    _("Which medicines are you taking at the moment?"),
    _("Please send a photo of your latest test results or prescription, if you have them."),
    _("I am preparing your prescription now; a pharmacist will check it before it is issued."),
    _("If it gets worse, or you have trouble breathing or chest pain, go to the nearest emergency department at once."),
    _("Thank you. Take care, and get well soon."),
    NULL
  };

  return g_strdupv ((char **) phrases);
}

static void
read_phrases (WzQuickReplies *self)
{
  g_auto(GStrv) stored = g_settings_get_strv (self->settings, KEY);

  g_strfreev (self->phrases);
  self->phrases = g_strv_length (stored) > 0 ? g_steal_pointer (&stored)
                                             : wz_quick_replies_defaults ();
}

static void
on_settings_changed (WzQuickReplies *self)
{
  guint removed = g_strv_length (self->phrases);

  read_phrases (self);
  g_list_model_items_changed (G_LIST_MODEL (self), 0, removed, g_strv_length (self->phrases));
}

static void
write_phrases (WzQuickReplies *self,
               GStrv           phrases)
{
  g_settings_set_strv (self->settings, KEY, (const char * const *) phrases);
}

static GType
wz_quick_replies_get_item_type (GListModel *model)
{
  return GTK_TYPE_STRING_OBJECT;
}

static guint
wz_quick_replies_get_n_items (GListModel *model)
{
  return g_strv_length (WZ_QUICK_REPLIES (model)->phrases);
}

static gpointer
wz_quick_replies_get_item (GListModel *model,
                           guint       position)
{
  WzQuickReplies *self = WZ_QUICK_REPLIES (model);

  if (position >= g_strv_length (self->phrases))
    return NULL;

  return gtk_string_object_new (self->phrases[position]);
}

static void
wz_quick_replies_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = wz_quick_replies_get_item_type;
  iface->get_n_items = wz_quick_replies_get_n_items;
  iface->get_item = wz_quick_replies_get_item;
}

static void
wz_quick_replies_dispose (GObject *object)
{
  WzQuickReplies *self = WZ_QUICK_REPLIES (object);

  g_clear_object (&self->settings);

  G_OBJECT_CLASS (wz_quick_replies_parent_class)->dispose (object);
}

static void
wz_quick_replies_finalize (GObject *object)
{
  WzQuickReplies *self = WZ_QUICK_REPLIES (object);

  g_clear_pointer (&self->phrases, g_strfreev);

  G_OBJECT_CLASS (wz_quick_replies_parent_class)->finalize (object);
}

static void
wz_quick_replies_class_init (WzQuickRepliesClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = wz_quick_replies_dispose;
  object_class->finalize = wz_quick_replies_finalize;
}

static void
wz_quick_replies_init (WzQuickReplies *self)
{
}

WzQuickReplies *
wz_quick_replies_new (GSettings *settings)
{
  WzQuickReplies *self;

  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  self = g_object_new (WZ_TYPE_QUICK_REPLIES, NULL);
  self->settings = g_object_ref (settings);
  read_phrases (self);
  g_signal_connect_object (settings, "changed::" KEY, G_CALLBACK (on_settings_changed), self,
                           G_CONNECT_SWAPPED);

  return self;
}

void
wz_quick_replies_add (WzQuickReplies *self,
                      const char     *phrase)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) phrases = NULL;
  g_autofree char *trimmed = NULL;

  g_return_if_fail (WZ_IS_QUICK_REPLIES (self));

  trimmed = g_strstrip (g_strdup (phrase != NULL ? phrase : ""));
  if (*trimmed == '\0' || g_strv_contains ((const char * const *) self->phrases, trimmed))
    return;

  g_strv_builder_addv (builder, (const char **) self->phrases);
  g_strv_builder_add (builder, trimmed);
  phrases = g_strv_builder_end (builder);
  write_phrases (self, phrases);
}

void
wz_quick_replies_remove (WzQuickReplies *self,
                         guint           position)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) phrases = NULL;

  g_return_if_fail (WZ_IS_QUICK_REPLIES (self));

  if (position >= g_strv_length (self->phrases))
    return;

  for (guint i = 0; self->phrases[i] != NULL; i++)
    if (i != position)
      g_strv_builder_add (builder, self->phrases[i]);
  phrases = g_strv_builder_end (builder);

  /* Removing the last phrase empties the key, which brings the default phrases back. */
  write_phrases (self, phrases);
}

void
wz_quick_replies_move (WzQuickReplies *self,
                       guint           position,
                       int             delta)
{
  g_auto(GStrv) phrases = NULL;
  guint n;
  int target;
  char *moved;

  g_return_if_fail (WZ_IS_QUICK_REPLIES (self));

  n = g_strv_length (self->phrases);
  target = (int) position + delta;
  if (position >= n || target < 0 || target >= (int) n)
    return;

  phrases = g_strdupv (self->phrases);
  moved = phrases[position];
  phrases[position] = phrases[target];
  phrases[target] = moved;
  write_phrases (self, phrases);
}

void
wz_quick_replies_reset (WzQuickReplies *self)
{
  g_return_if_fail (WZ_IS_QUICK_REPLIES (self));

  g_settings_reset (self->settings, KEY);
}
