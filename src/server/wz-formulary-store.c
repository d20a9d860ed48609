/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-formulary-store"

#include "config.h"

#include "wz-formulary-store.h"

#include <json-glib/json-glib.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "wz-error.h"
#include "wz-static-routes.h"
#include "wz-time.h"

#define EXIT_USAGE 2

struct _WzFormularyStore
{
  GObject      parent_instance;

  sqlite3     *db;
  char        *path;
  char        *clinical_dir;
  WzFormulary *formulary;
  gint64       data_version;   /* PRAGMA data_version when the formulary was loaded */
  gboolean     sample;
};

G_DEFINE_FINAL_TYPE (WzFormularyStore, wz_formulary_store, G_TYPE_OBJECT)

static const char schema[] =
  "CREATE TABLE IF NOT EXISTS drug ("
  "  code TEXT PRIMARY KEY,"
  "  line INTEGER NOT NULL,"
  "  fields TEXT NOT NULL);"
  "CREATE TABLE IF NOT EXISTS import_log ("
  "  id INTEGER PRIMARY KEY,"
  "  imported_at INTEGER NOT NULL,"
  "  file TEXT NOT NULL,"
  "  sha256 TEXT NOT NULL,"
  "  total INTEGER NOT NULL, added INTEGER NOT NULL, changed INTEGER NOT NULL,"
  "  removed INTEGER NOT NULL);"
  "CREATE TABLE IF NOT EXISTS signing_key ("
  "  id INTEGER PRIMARY KEY,"
  "  practitioner TEXT NOT NULL,"
  "  public_key TEXT NOT NULL,"
  "  registered_at INTEGER NOT NULL,"
  "  superseded_at INTEGER);"
  "CREATE INDEX IF NOT EXISTS signing_key_practitioner ON signing_key (practitioner);";

static gboolean
fail_sql (sqlite3     *db,
          const char  *what,
          GError     **error)
{
  g_set_error (error, WZ_ERROR, WZ_ERROR_UNAVAILABLE, "formulary.db: %s: %s", what,
               sqlite3_errmsg (db));
  return FALSE;
}

static gboolean
exec (sqlite3     *db,
      const char  *sql,
      GError     **error)
{
  if (sqlite3_exec (db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return fail_sql (db, sql, error);
  return TRUE;
}

static gint64
data_version (sqlite3 *db)
{
  sqlite3_stmt *stmt = NULL;
  gint64 version = -1;

  if (sqlite3_prepare_v2 (db, "PRAGMA data_version", -1, &stmt, NULL) == SQLITE_OK &&
      sqlite3_step (stmt) == SQLITE_ROW)
    version = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return version;
}

static char *
fields_to_json (GStrv fields)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_array (builder);
  for (guint i = 0; fields[i] != NULL; i++)
    json_builder_add_string_value (builder, fields[i]);
  json_builder_end_array (builder);
  root = json_builder_get_root (builder);
  return json_to_string (root, FALSE);
}

static GStrv
fields_from_json (const char *text)
{
  g_autoptr(JsonNode) root = json_from_string (text, NULL);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  JsonArray *array;

  if (root == NULL || !JSON_NODE_HOLDS_ARRAY (root))
    return NULL;
  array = json_node_get_array (root);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);

      if (!JSON_NODE_HOLDS_VALUE (element) || json_node_get_value_type (element) != G_TYPE_STRING)
        return NULL;
      g_strv_builder_add (builder, json_node_get_string (element));
    }
  return g_strv_builder_end (builder);
}

/* A formulary with the program's tables (classes before drugs, so drug rows are checked against
 * them). */
static WzFormulary *
new_with_tables (const char  *clinical_dir,
                 GError     **error)
{
  g_autoptr(WzFormulary) formulary = wz_formulary_new ();
  const char *const names[] = { "allergy-classes.csv", "interactions.csv", "icd10-common.tsv" };
  gboolean (*loaders[]) (WzFormulary *, const char *, gsize, GError **) = {
    wz_formulary_load_allergy_classes, wz_formulary_load_interactions, wz_formulary_load_icd10
  };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (clinical_dir, names[i], NULL);
      g_autofree char *contents = NULL;
      gsize length;

      if (!g_file_get_contents (path, &contents, &length, error) ||
          !loaders[i] (formulary, contents, length, error))
        {
          g_prefix_error (error, "%s: ", path);
          return NULL;
        }
    }

  return g_steal_pointer (&formulary);
}

static gboolean
reload (WzFormularyStore  *self,
        GError           **error)
{
  g_autoptr(WzFormulary) formulary = NULL;
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  g_autoptr(GArray) lines = g_array_new (FALSE, FALSE, sizeof (guint));
  sqlite3_stmt *stmt = NULL;
  gint64 version = data_version (self->db);
  int rc;

  if ((formulary = new_with_tables (self->clinical_dir, error)) == NULL)
    return FALSE;

  if (sqlite3_prepare_v2 (self->db, "SELECT line, fields FROM drug ORDER BY line", -1, &stmt,
                          NULL) != SQLITE_OK)
    return fail_sql (self->db, "reading the formulary", error);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      GStrv fields = fields_from_json ((const char *) sqlite3_column_text (stmt, 1));
      guint line = sqlite3_column_int (stmt, 0);

      if (fields == NULL)
        {
          sqlite3_finalize (stmt);
          g_set_error (error, WZ_ERROR, WZ_ERROR_INTERNAL,
                       "formulary.db: the row of line %u is damaged", line);
          return FALSE;
        }
      g_ptr_array_add (rows, fields);
      g_array_append_val (lines, line);
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    return fail_sql (self->db, "reading the formulary", error);

  if (rows->len > 0)
    {
      if (!wz_formulary_load_rows (formulary, rows, lines, error))
        return FALSE;
      self->sample = FALSE;
    }
  else
    {
      g_autofree char *path = g_build_filename (self->clinical_dir, "formulary.csv", NULL);
      g_autofree char *contents = NULL;
      gsize length;

      if (!g_file_get_contents (path, &contents, &length, error) ||
          !wz_formulary_load_drugs (formulary, contents, length, error))
        return FALSE;
      if (!self->sample)
        g_message ("No formulary has been imported into %s; using the sample formulary %s. Import "
                   "the hospital's with “wenzhen-server formulary import”.", self->path, path);
      self->sample = TRUE;
    }

  g_set_object (&self->formulary, formulary);
  self->data_version = version;
  return TRUE;
}

WzFormularyStore *
wz_formulary_store_open (const char  *data_dir,
                         const char  *clinical_dir,
                         GError     **error)
{
  g_autoptr(WzFormularyStore) self = g_object_new (WZ_TYPE_FORMULARY_STORE, NULL);
  g_autofree char *shared = NULL;

  if (clinical_dir == NULL)
    {
      shared = wz_static_data_dir ();
      self->clinical_dir = g_build_filename (shared, "clinical", NULL);
    }
  else
    self->clinical_dir = g_strdup (clinical_dir);

  self->path = g_build_filename (data_dir, "formulary.db", NULL);
  if (sqlite3_open_v2 (self->path, &self->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL)
      != SQLITE_OK)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_UNAVAILABLE, "Cannot open %s: %s", self->path,
                   self->db ? sqlite3_errmsg (self->db) : "out of memory");
      return NULL;
    }
  sqlite3_busy_timeout (self->db, 5000);

  if (!exec (self->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", error) ||
      !exec (self->db, schema, error) ||
      !reload (self, error))
    return NULL;

  return g_steal_pointer (&self);
}

WzFormulary *
wz_formulary_store_get (WzFormularyStore  *self,
                        GError           **error)
{
  g_return_val_if_fail (WZ_IS_FORMULARY_STORE (self), NULL);

  /* Another connection committed (an import while the server runs): load it. */
  if (data_version (self->db) != self->data_version && !reload (self, error))
    return NULL;
  return self->formulary;
}

gboolean
wz_formulary_store_is_sample (WzFormularyStore *self)
{
  return self->sample;
}

gboolean
wz_formulary_store_import (WzFormularyStore        *self,
                           const char              *file_name,
                           const char              *data,
                           gsize                    length,
                           WzFormularyImportCounts *out_counts,
                           GError                 **error)
{
  g_autoptr(WzFormulary) check = NULL;
  g_autoptr(GPtrArray) records = NULL;
  g_autoptr(GArray) lines = NULL;
  g_autoptr(GHashTable) old_rows = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autofree char *sha256 = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) data,
                                                          length);
  WzFormularyImportCounts counts = { 0 };
  sqlite3_stmt *stmt = NULL;
  gboolean ok = FALSE;

  g_return_val_if_fail (WZ_IS_FORMULARY_STORE (self), FALSE);

  /* Everything is checked before the database is touched. */
  if ((check = new_with_tables (self->clinical_dir, error)) == NULL ||
      !wz_formulary_load_drugs (check, data, length, error))
    return FALSE;
  records = wz_csv_parse (data, length, &lines, error);
  g_assert (records != NULL);

  if (!exec (self->db, "BEGIN IMMEDIATE", error))
    return FALSE;

  if (sqlite3_prepare_v2 (self->db, "SELECT code, fields FROM drug", -1, &stmt, NULL) != SQLITE_OK)
    goto out;
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_hash_table_insert (old_rows, g_strdup ((const char *) sqlite3_column_text (stmt, 0)),
                         g_strdup ((const char *) sqlite3_column_text (stmt, 1)));
  g_clear_pointer (&stmt, sqlite3_finalize);

  if (sqlite3_exec (self->db, "DELETE FROM drug", NULL, NULL, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2 (self->db, "INSERT INTO drug (code, line, fields) VALUES (?, ?, ?)", -1,
                          &stmt, NULL) != SQLITE_OK)
    goto out;

  for (guint i = 1; i < records->len; i++)
    {
      GStrv row = g_ptr_array_index (records, i);
      g_autofree char *fields = fields_to_json (row);
      const char *old = g_hash_table_lookup (old_rows, row[0]);

      if (old == NULL)
        counts.added++;
      else if (strcmp (old, fields) != 0)
        counts.changed++;
      else
        counts.unchanged++;
      g_hash_table_remove (old_rows, row[0]);

      sqlite3_reset (stmt);
      sqlite3_bind_text (stmt, 1, row[0], -1, SQLITE_TRANSIENT);
      sqlite3_bind_int (stmt, 2, g_array_index (lines, guint, i));
      sqlite3_bind_text (stmt, 3, fields, -1, SQLITE_TRANSIENT);
      if (sqlite3_step (stmt) != SQLITE_DONE)
        goto out;
      counts.total++;
    }
  g_clear_pointer (&stmt, sqlite3_finalize);
  counts.removed = g_hash_table_size (old_rows);

  if (sqlite3_prepare_v2 (self->db, "INSERT INTO import_log (imported_at, file, sha256, total, "
                          "added, changed, removed) VALUES (?, ?, ?, ?, ?, ?, ?)", -1, &stmt,
                          NULL) != SQLITE_OK)
    goto out;
  sqlite3_bind_int64 (stmt, 1, wz_time_now_us ());
  sqlite3_bind_text (stmt, 2, file_name ? file_name : "", -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, sha256, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 4, counts.total);
  sqlite3_bind_int (stmt, 5, counts.added);
  sqlite3_bind_int (stmt, 6, counts.changed);
  sqlite3_bind_int (stmt, 7, counts.removed);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    goto out;
  g_clear_pointer (&stmt, sqlite3_finalize);

  if (sqlite3_exec (self->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
    goto out;
  ok = TRUE;

out:
  if (!ok)
    {
      fail_sql (self->db, "importing the formulary", error);
      g_clear_pointer (&stmt, sqlite3_finalize);
      sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
      return FALSE;
    }

  if (out_counts != NULL)
    *out_counts = counts;
  return reload (self, error);
}

gboolean
wz_formulary_store_register_key (WzFormularyStore  *self,
                                 const char        *practitioner,
                                 const char        *public_key,
                                 GError           **error)
{
  sqlite3_stmt *stmt = NULL;
  gint64 now = wz_time_now_us ();
  gboolean ok;

  if (!exec (self->db, "BEGIN IMMEDIATE", error))
    return FALSE;

  ok = sqlite3_prepare_v2 (self->db, "UPDATE signing_key SET superseded_at = ? "
                           "WHERE practitioner = ? AND superseded_at IS NULL", -1, &stmt,
                           NULL) == SQLITE_OK;
  if (ok)
    {
      sqlite3_bind_int64 (stmt, 1, now);
      sqlite3_bind_text (stmt, 2, practitioner, -1, SQLITE_TRANSIENT);
      ok = sqlite3_step (stmt) == SQLITE_DONE;
    }
  g_clear_pointer (&stmt, sqlite3_finalize);
  if (ok)
    ok = sqlite3_prepare_v2 (self->db, "INSERT INTO signing_key (practitioner, public_key, "
                             "registered_at) VALUES (?, ?, ?)", -1, &stmt, NULL) == SQLITE_OK;
  if (ok)
    {
      sqlite3_bind_text (stmt, 1, practitioner, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 2, public_key, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (stmt, 3, now);
      ok = sqlite3_step (stmt) == SQLITE_DONE;
    }
  g_clear_pointer (&stmt, sqlite3_finalize);
  if (ok)
    ok = sqlite3_exec (self->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK;

  if (!ok)
    {
      fail_sql (self->db, "registering the signing key", error);
      sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
    }
  return ok;
}

char *
wz_formulary_store_current_key (WzFormularyStore  *self,
                                const char        *practitioner,
                                GError           **error)
{
  sqlite3_stmt *stmt = NULL;
  char *key = NULL;
  int rc;

  if (sqlite3_prepare_v2 (self->db, "SELECT public_key FROM signing_key WHERE practitioner = ? "
                          "AND superseded_at IS NULL ORDER BY id DESC LIMIT 1", -1, &stmt,
                          NULL) != SQLITE_OK)
    {
      fail_sql (self->db, "reading signing keys", error);
      return NULL;
    }
  sqlite3_bind_text (stmt, 1, practitioner, -1, SQLITE_TRANSIENT);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    key = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  else if (rc != SQLITE_DONE)
    fail_sql (self->db, "reading signing keys", error);
  sqlite3_finalize (stmt);
  return key;
}

gboolean
wz_formulary_store_key_was_registered (WzFormularyStore  *self,
                                       const char        *practitioner,
                                       const char        *public_key,
                                       GError           **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc;

  if (sqlite3_prepare_v2 (self->db, "SELECT 1 FROM signing_key WHERE practitioner = ? AND "
                          "public_key = ?", -1, &stmt, NULL) != SQLITE_OK)
    return fail_sql (self->db, "reading signing keys", error);
  sqlite3_bind_text (stmt, 1, practitioner, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, public_key, -1, SQLITE_TRANSIENT);
  rc = sqlite3_step (stmt);
  sqlite3_finalize (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return fail_sql (self->db, "reading signing keys", error);
  return rc == SQLITE_ROW;
}

int
wz_formulary_store_command (int    argc,
                            char **argv)
{
  g_autofree char *data_dir = NULL;
  const GOptionEntry entries[] = {
    { "data-dir", 'd', 0, G_OPTION_ARG_FILENAME, &data_dir,
      "Folder holding the server's databases (formulary.db is made there)", "DIR" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("FILE.csv");
  g_autoptr(WzFormularyStore) store = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  WzFormularyImportCounts counts;
  gsize length;

  if (argc < 1 || strcmp (argv[0], "import") != 0)
    {
      g_printerr ("wenzhen-server formulary: the command is “formulary import --data-dir DIR "
                  "FILE.csv”\n");
      return EXIT_USAGE;
    }

  g_set_prgname ("wenzhen-server formulary import");
  g_option_context_set_summary (context,
                                "Checks every row of FILE.csv (the format of data/clinical/README.md)\n"
                                "and, when all are good, replaces the formulary in one transaction.\n"
                                "A bad row is reported with its line and column; nothing is changed.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("wenzhen-server formulary import: %s\n", error->message);
      return EXIT_USAGE;
    }
  if (data_dir == NULL || argc != 2)
    {
      g_printerr ("wenzhen-server formulary import: expected --data-dir DIR and one FILE.csv\n");
      return EXIT_USAGE;
    }

  if (!g_file_get_contents (argv[1], &contents, &length, &error) ||
      (store = wz_formulary_store_open (data_dir, NULL, &error)) == NULL ||
      !wz_formulary_store_import (store, argv[1], contents, length, &counts, &error))
    {
      g_printerr ("wenzhen-server formulary import: %s\nNothing was imported.\n", error->message);
      return EXIT_FAILURE;
    }

  printf ("Imported %u products from %s: %u added, %u changed, %u removed, %u unchanged\n",
          counts.total, argv[1], counts.added, counts.changed, counts.removed, counts.unchanged);
  return EXIT_SUCCESS;
}

static void
wz_formulary_store_finalize (GObject *object)
{
  WzFormularyStore *self = WZ_FORMULARY_STORE (object);

  g_clear_object (&self->formulary);
  g_clear_pointer (&self->db, sqlite3_close);
  g_free (self->path);
  g_free (self->clinical_dir);

  G_OBJECT_CLASS (wz_formulary_store_parent_class)->finalize (object);
}

static void
wz_formulary_store_class_init (WzFormularyStoreClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = wz_formulary_store_finalize;
}

static void
wz_formulary_store_init (WzFormularyStore *self)
{
}
