/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-icd10-index"

#include "config.h"

#include "wz-icd10-index.h"

#include <string.h>
#include <glib/gi18n.h>

#include "wz-pinyin.h"

/* The ICD-10 codes a doctor picks a diagnosis from, searched as they type. The file is small
 * (a few hundred common outpatient codes) but is still read off the main thread, once. */
struct _WzIcd10Index
{
  GObject    parent_instance;

  char      *path;
  GPtrArray *entries;   /* Row, in file order */
  GPtrArray *pending;   /* GTask waiting for the first load */
  GError    *error;
  gboolean   loading;
};

G_DEFINE_FINAL_TYPE (WzIcd10Index, wz_icd10_index, G_TYPE_OBJECT)

typedef struct
{
  WzIcd10Entry *entry;
  char         *code_key;   /* upper case, no dot: "J449" */
  char         *en_key;     /* case-folded English title */
  char         *zh_key;     /* Chinese title as is */
  char         *initials;   /* pinyin initials of the Chinese title: 偏头痛 → "ptt" */
} Row;

static void
row_free (Row *row)
{
  g_object_unref (row->entry);
  g_free (row->code_key);
  g_free (row->en_key);
  g_free (row->zh_key);
  g_free (row->initials);
  g_free (row);
}

static char *
code_key (const char *text)
{
  GString *key = g_string_new (NULL);

  for (const char *p = text; *p != '\0'; p++)
    if (g_ascii_isalnum (*p))
      g_string_append_c (key, g_ascii_toupper (*p));

  return g_string_free (key, FALSE);
}

/* Doctors type the initials of a Chinese name on a Latin keyboard (高血压 → gxy). */
static char *
pinyin_initials (const char *title)
{
  g_auto(GStrv) syllables = wz_pinyin_syllables (title);
  GString *initials = g_string_new (NULL);

  for (guint i = 0; syllables != NULL && syllables[i] != NULL; i++)
    if (syllables[i][0] != '\0')
      g_string_append_c (initials, syllables[i][0]);

  return g_string_free (initials, FALSE);
}

static gboolean
is_latin_letters (const char *text)
{
  if (*text == '\0')
    return FALSE;
  for (const char *p = text; *p != '\0'; p++)
    if (!g_ascii_isalpha (*p))
      return FALSE;

  return TRUE;
}

static GPtrArray *
parse (const char  *data,
       gsize        length,
       GError     **error)
{
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) row_free);
  g_auto(GStrv) lines = NULL;
  g_autofree char *text = NULL;

  if (!g_utf8_validate_len (data, length, NULL))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _("The ICD-10 code list is not valid UTF-8 text."));
      return NULL;
    }

  text = g_strndup (data, length);
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) fields = NULL;
      Row *row;

      g_strchomp (lines[i]);
      if (lines[i][0] == '\0' || lines[i][0] == '#')
        continue;

      fields = g_strsplit (lines[i], "\t", -1);
      if (i == 0 && g_strcmp0 (fields[0], "code") == 0)
        continue;
      if (g_strv_length (fields) < 3 || fields[0][0] == '\0')
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       _("Line %u of the ICD-10 code list does not have a code, an English and a Chinese title."),
                       i + 1);
          return NULL;
        }

      row = g_new0 (Row, 1);
      row->entry = wz_icd10_entry_new (fields[0], fields[1], fields[2]);
      row->code_key = code_key (fields[0]);
      row->en_key = g_utf8_casefold (fields[1], -1);
      row->zh_key = g_strdup (fields[2]);
      row->initials = pinyin_initials (fields[2]);
      g_ptr_array_add (rows, row);
    }

  if (rows->len == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _("The ICD-10 code list is empty."));
      return NULL;
    }

  return g_steal_pointer (&rows);
}

static void
load_in_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  const char *path = task_data;
  g_autofree char *data = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *rows;
  gsize length;

  if (!g_file_get_contents (path, &data, &length, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  rows = parse (data, length, &error);
  if (rows == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, rows, (GDestroyNotify) g_ptr_array_unref);
}

static void
on_loaded (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  WzIcd10Index *self = WZ_ICD10_INDEX (object);
  g_autoptr(GPtrArray) pending = g_steal_pointer (&self->pending);
  g_autoptr(GError) error = NULL;
  GPtrArray *rows;

  self->loading = FALSE;
  rows = g_task_propagate_pointer (G_TASK (result), &error);
  if (rows == NULL)
    {
      /* The search entry says so where the doctor looks; this is for whoever reads the log. */
      g_debug ("ICD-10 list %s not loaded: %s", self->path, error->message);
      self->error = g_error_copy (error);
    }
  else
    self->entries = rows;

  for (guint i = 0; pending != NULL && i < pending->len; i++)
    {
      GTask *task = pending->pdata[i];

      if (self->error != NULL)
        g_task_return_error (task, g_error_copy (self->error));
      else
        g_task_return_boolean (task, TRUE);
    }
}

void
wz_icd10_index_load_async (WzIcd10Index        *self,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (WZ_IS_ICD10_INDEX (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, wz_icd10_index_load_async);

  if (self->entries != NULL)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  if (self->error != NULL)
    {
      g_task_return_error (task, g_error_copy (self->error));
      return;
    }

  if (self->pending == NULL)
    self->pending = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (self->pending, g_steal_pointer (&task));

  if (!self->loading)
    {
      /* Not cancellable: other editors may be waiting for the same list. */
      g_autoptr(GTask) load = g_task_new (self, NULL, on_loaded, NULL);

      self->loading = TRUE;
      g_task_set_source_tag (load, wz_icd10_index_load_async);
      g_task_set_task_data (load, g_strdup (self->path), g_free);
      g_task_run_in_thread (load, load_in_thread);
    }
}

gboolean
wz_icd10_index_load_finish (WzIcd10Index  *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
wz_icd10_index_is_loaded (WzIcd10Index *self)
{
  g_return_val_if_fail (WZ_IS_ICD10_INDEX (self), FALSE);

  return self->entries != NULL;
}

guint
wz_icd10_index_get_n_codes (WzIcd10Index *self)
{
  g_return_val_if_fail (WZ_IS_ICD10_INDEX (self), 0);

  return self->entries != NULL ? self->entries->len : 0;
}

/* Whether a word of the case-folded English title starts with Q. */
static gboolean
word_prefix (const char *title,
             const char *q)
{
  gsize n = strlen (q);

  for (const char *p = title; *p != '\0'; p++)
    if ((p == title || !g_ascii_isalnum (p[-1])) && strncmp (p, q, n) == 0)
      return TRUE;

  return FALSE;
}

typedef struct
{
  Row  *row;
  guint score;
  guint order;
} Hit;

static int
compare_hits (gconstpointer a,
              gconstpointer b)
{
  const Hit *ha = a;
  const Hit *hb = b;

  if (ha->score != hb->score)
    return ha->score < hb->score ? -1 : 1;

  return ha->order < hb->order ? -1 : ha->order > hb->order;
}

GListModel *
wz_icd10_index_search (WzIcd10Index *self,
                       const char   *query,
                       guint         max_results)
{
  GListStore *results = g_list_store_new (WZ_TYPE_ICD10_ENTRY);
  g_autoptr(GArray) hits = g_array_new (FALSE, FALSE, sizeof (Hit));
  g_autofree char *trimmed = NULL;
  g_autofree char *folded = NULL;
  g_autofree char *ckey = NULL;
  gboolean pinyin;

  g_return_val_if_fail (WZ_IS_ICD10_INDEX (self), G_LIST_MODEL (results));

  trimmed = g_strstrip (g_strdup (query != NULL ? query : ""));
  if (self->entries == NULL || *trimmed == '\0')
    return G_LIST_MODEL (results);

  folded = g_utf8_casefold (trimmed, -1);
  ckey = code_key (trimmed);
  pinyin = strlen (trimmed) >= 2 && is_latin_letters (trimmed);

  for (guint i = 0; i < self->entries->len; i++)
    {
      Row *row = self->entries->pdata[i];
      Hit hit = { row, G_MAXUINT, i };

      if (*ckey != '\0' && strcmp (row->code_key, ckey) == 0)
        hit.score = 0;
      else if (*ckey != '\0' && g_ascii_isalpha (*ckey) && g_str_has_prefix (row->code_key, ckey)
               && strlen (ckey) >= 2 && g_ascii_isdigit (ckey[1]))
        hit.score = 1;
      else if (g_str_has_prefix (row->zh_key, trimmed) || g_str_has_prefix (row->en_key, folded))
        hit.score = 2;
      else if (pinyin && g_str_has_prefix (row->initials, folded))
        hit.score = 3;
      else if (word_prefix (row->en_key, folded))
        hit.score = 4;
      else if (strstr (row->zh_key, trimmed) != NULL || strstr (row->en_key, folded) != NULL)
        hit.score = 5;

      if (hit.score != G_MAXUINT)
        g_array_append_val (hits, hit);
    }

  g_array_sort (hits, compare_hits);
  for (guint i = 0; i < hits->len && i < max_results; i++)
    g_list_store_append (results, g_array_index (hits, Hit, i).row->entry);

  return G_LIST_MODEL (results);
}

WzIcd10Entry *
wz_icd10_index_lookup (WzIcd10Index *self,
                       const char   *code)
{
  g_autofree char *key = NULL;

  g_return_val_if_fail (WZ_IS_ICD10_INDEX (self), NULL);

  if (self->entries == NULL || code == NULL)
    return NULL;

  key = code_key (code);
  for (guint i = 0; i < self->entries->len; i++)
    {
      Row *row = self->entries->pdata[i];

      if (strcmp (row->code_key, key) == 0)
        return row->entry;
    }

  return NULL;
}

char *
wz_icd10_index_default_path (void)
{
  const char *env = g_getenv ("WZ_DATA_DIR");
  const char *dir;

  if (env != NULL && *env != '\0')
    dir = env;
  else if (g_file_test (PKGDATADIR, G_FILE_TEST_IS_DIR))
    dir = PKGDATADIR;
  else
    dir = SOURCE_DATADIR;

  return g_build_filename (dir, "clinical", "icd10-common.tsv", NULL);
}

WzIcd10Index *
wz_icd10_index_new (const char *path)
{
  WzIcd10Index *self;

  g_return_val_if_fail (path != NULL, NULL);

  self = g_object_new (WZ_TYPE_ICD10_INDEX, NULL);
  self->path = g_strdup (path);

  return self;
}

WzIcd10Index *
wz_icd10_index_get_default (void)
{
  static WzIcd10Index *instance;

  if (instance == NULL)
    {
      g_autofree char *path = wz_icd10_index_default_path ();

      instance = wz_icd10_index_new (path);
      g_object_add_weak_pointer (G_OBJECT (instance), (gpointer *) &instance);
    }

  return instance;
}

static void
wz_icd10_index_finalize (GObject *object)
{
  WzIcd10Index *self = WZ_ICD10_INDEX (object);

  g_clear_pointer (&self->path, g_free);
  g_clear_pointer (&self->entries, g_ptr_array_unref);
  g_clear_pointer (&self->pending, g_ptr_array_unref);
  g_clear_error (&self->error);

  G_OBJECT_CLASS (wz_icd10_index_parent_class)->finalize (object);
}

static void
wz_icd10_index_class_init (WzIcd10IndexClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = wz_icd10_index_finalize;
}

static void
wz_icd10_index_init (WzIcd10Index *self)
{
}
