/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-pinyin"

#include "config.h"

#include "wz-pinyin.h"

#include <unicode/utrans.h>
#include <unicode/ustring.h>

/* Opening a transliterator parses ICU's rule tables (milliseconds); using one is not
 * thread-safe. So each thread that indexes keeps its own. */
static void
close_transliterator (gpointer data)
{
  utrans_close (data);
}

static GPrivate transliterator_key = G_PRIVATE_INIT (close_transliterator);

/* Names repeat a lot (a few hundred surnames, a few thousand given names), and transliterating
 * one costs tens of microseconds: each thread remembers the ones it has done. */
#define MAX_CACHED 20000

static void
free_cache (gpointer data)
{
  g_hash_table_unref (data);
}

static GPrivate cache_key = G_PRIVATE_INIT (free_cache);

static UTransliterator *
get_transliterator (void)
{
  UTransliterator *trans = g_private_get (&transliterator_key);
  UErrorCode status = U_ZERO_ERROR;
  UChar id[32];

  if (trans != NULL)
    return trans;

  /* "/Names" reads surnames as surnames: 单 shan, not dan. */
  u_uastrcpy (id, "Han-Latin/Names");
  trans = utrans_openU (id, -1, UTRANS_FORWARD, NULL, 0, NULL, &status);
  if (U_FAILURE (status))
    {
      g_warning ("ICU has no Han-Latin transliterator (%s); pinyin search is unavailable",
                 u_errorName (status));
      return NULL;
    }
  g_private_set (&transliterator_key, trans);

  return trans;
}

gboolean
wz_pinyin_has_han (const char *text)
{
  if (text == NULL)
    return FALSE;

  for (const char *p = text; *p; p = g_utf8_next_char (p))
    if (g_unichar_get_script (g_utf8_get_char (p)) == G_UNICODE_SCRIPT_HAN)
      return TRUE;

  return FALSE;
}

/* "lǚ" → "lv", "zhāng" → "zhang"; NULL for anything that is not a pinyin syllable. */
static char *
plain_syllable (const char *syllable)
{
  g_autofree char *decomposed = g_utf8_normalize (syllable, -1, G_NORMALIZE_NFD);
  g_autoptr(GString) plain = g_string_new (NULL);

  if (decomposed == NULL)
    return NULL;

  for (const char *p = decomposed; *p; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c == 0x0308 && plain->len > 0 && plain->str[plain->len - 1] == 'u')
        plain->str[plain->len - 1] = 'v';
      else if (c >= 0x0300 && c <= 0x036f)
        continue;
      else if (c < 0x80 && g_ascii_isalpha (c))
        g_string_append_c (plain, g_ascii_tolower (c));
      else
        return NULL;
    }

  return plain->len > 0 ? g_string_free (g_steal_pointer (&plain), FALSE) : NULL;
}

static char **transliterate (const char *text);

char **
wz_pinyin_syllables (const char *text)
{
  GHashTable *cache = g_private_get (&cache_key);
  char **syllables;

  if (text == NULL)
    return g_new0 (char *, 1);

  if (cache == NULL)
    {
      cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_strfreev);
      g_private_set (&cache_key, cache);
    }

  syllables = g_hash_table_lookup (cache, text);
  if (syllables == NULL)
    {
      if (g_hash_table_size (cache) >= MAX_CACHED)
        g_hash_table_remove_all (cache);
      syllables = transliterate (text);
      g_hash_table_insert (cache, g_strdup (text), syllables);
    }

  return g_strdupv (syllables);
}

static char **
transliterate (const char *text)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr(GString) han = g_string_new (NULL);
  UTransliterator *trans;

  if (text != NULL)
    for (const char *p = text; *p; p = g_utf8_next_char (p))
      {
        gunichar c = g_utf8_get_char (p);

        /* Only the Han characters, separated, so each gives exactly one syllable. */
        if (g_unichar_get_script (c) == G_UNICODE_SCRIPT_HAN)
          {
            g_string_append_unichar (han, c);
            g_string_append_c (han, ' ');
          }
      }

  if (han->len == 0 || (trans = get_transliterator ()) == NULL)
    return g_strv_builder_end (builder);

  {
    UErrorCode status = U_ZERO_ERROR;
    int32_t length = 0;
    int32_t capacity;
    int32_t limit;
    g_autofree UChar *buffer = NULL;
    g_autofree char *latin = NULL;
    g_auto(GStrv) words = NULL;

    u_strFromUTF8 (NULL, 0, &length, han->str, han->len, &status);
    status = U_ZERO_ERROR;
    /* Every Han character becomes at most six letters and a space. */
    capacity = length * 8 + 16;
    buffer = g_new (UChar, capacity);
    u_strFromUTF8 (buffer, capacity, &length, han->str, han->len, &status);
    limit = length;
    if (U_SUCCESS (status))
      utrans_transUChars (trans, buffer, &length, capacity, 0, &limit, &status);
    if (U_FAILURE (status))
      {
        g_debug ("Transliterating “%s” failed: %s", text, u_errorName (status));
        return g_strv_builder_end (builder);
      }

    latin = g_new (char, length * 4 + 1);
    u_strToUTF8 (latin, length * 4 + 1, NULL, buffer, length, &status);
    if (U_FAILURE (status))
      return g_strv_builder_end (builder);

    words = g_strsplit (latin, " ", -1);
    for (guint i = 0; words[i] != NULL; i++)
      {
        g_autofree char *plain = plain_syllable (words[i]);

        if (plain != NULL)
          g_strv_builder_add (builder, plain);
      }
  }

  return g_strv_builder_end (builder);
}
