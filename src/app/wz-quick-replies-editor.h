/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "wz-quick-replies.h"

G_BEGIN_DECLS

#define WZ_TYPE_QUICK_REPLIES_EDITOR (wz_quick_replies_editor_get_type ())

G_DECLARE_FINAL_TYPE (WzQuickRepliesEditor, wz_quick_replies_editor, WZ, QUICK_REPLIES_EDITOR, AdwWindow)

/* Add, remove and reorder the doctor's quick-reply phrases; every change is saved at once. */
GtkWidget *wz_quick_replies_editor_new (GtkWindow      *parent,
                                        WzQuickReplies *replies);

G_END_DECLS
