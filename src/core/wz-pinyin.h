/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Whether TEXT has at least one Han (Chinese) character. */
gboolean  wz_pinyin_has_han    (const char *text);
/* The Hanyu Pinyin syllables of the Han characters in TEXT, one per character, in order:
 * lowercase ASCII without tone marks, with ü written "v" as on pinyin keyboards (吕 → "lv").
 * Surnames take their name readings (单 → "shan", 曾 → "zeng"). Characters that are not Han are
 * left out; text without any gives an empty array. Free with g_strfreev. */
char    **wz_pinyin_syllables  (const char *text);

G_END_DECLS
