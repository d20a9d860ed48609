/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define WZ_TYPE_QUICK_REPLIES (wz_quick_replies_get_type ())

G_DECLARE_FINAL_TYPE (WzQuickReplies, wz_quick_replies, WZ, QUICK_REPLIES, GObject)

/* The doctor's quick-reply phrases: a GListModel of GtkStringObject over the GSettings key
 * `quick-replies`. While the key is empty the model holds the default phrases in the language
 * of the user interface; the first change writes the whole list to the key. */
WzQuickReplies *wz_quick_replies_new      (GSettings      *settings);
/* The default phrases, translated. */
GStrv           wz_quick_replies_defaults (void);
void            wz_quick_replies_add      (WzQuickReplies *self,
                                           const char     *phrase);
void            wz_quick_replies_remove   (WzQuickReplies *self,
                                           guint           position);
/* Moves the phrase at POSITION by DELTA places (−1 up, +1 down). */
void            wz_quick_replies_move     (WzQuickReplies *self,
                                           guint           position,
                                           int             delta);
/* Back to the default phrases (empties the key). */
void            wz_quick_replies_reset    (WzQuickReplies *self);

G_END_DECLS
