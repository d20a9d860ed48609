/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-sqlite-store"

#include "config.h"

#include "wz-sqlite-store.h"

#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

#include "wz-error.h"
#include "wz-fhir.h"
#include "wz-fhir-index.h"
#include "wz-id.h"
#include "wz-sqlite-file.h"
#include "wz-time.h"

#define MAX_CACHED_SEARCHES 128
/* SQLite's default: the WAL is copied into the database once it holds this many pages. */
#define CHECKPOINT_PAGES 1000

typedef struct
{
  const char *sql;
  /* The index columns and tables changed: recompute them from every stored resource. */
  gboolean    reindex;
} Migration;

/* Applied in order, each in its own transaction; the applied ones are listed in
 * schema_migrations. Never edit a released migration: add the next one. */
static const Migration migrations[] = {
  /* 1: resources with their search columns, multi-valued index tokens, every version kept. */
  { "CREATE TABLE resources ("
    "  rid INTEGER PRIMARY KEY,"
    "  type TEXT NOT NULL,"
    "  id TEXT NOT NULL,"
    "  version_id INTEGER NOT NULL,"
    "  last_updated INTEGER NOT NULL,"
    "  status TEXT,"
    "  patient TEXT,"
    "  encounter TEXT,"
    "  date TEXT,"
    "  family TEXT,"
    "  json TEXT NOT NULL,"
    "  UNIQUE (type, id));"
    "CREATE INDEX resources_patient ON resources (type, patient);"
    "CREATE INDEX resources_encounter ON resources (type, encounter);"
    "CREATE INDEX resources_status ON resources (type, status);"
    "CREATE INDEX resources_date ON resources (type, date);"
    "CREATE INDEX resources_family ON resources (type, family);"
    "CREATE INDEX resources_updated ON resources (type, last_updated);"
    "CREATE TABLE resource_tokens ("
    "  rid INTEGER NOT NULL REFERENCES resources (rid),"
    "  param TEXT NOT NULL,"
    "  value TEXT NOT NULL);"
    "CREATE INDEX resource_tokens_value ON resource_tokens (param, value);"
    "CREATE INDEX resource_tokens_rid ON resource_tokens (rid);"
    "CREATE TABLE history ("
    "  type TEXT NOT NULL,"
    "  id TEXT NOT NULL,"
    "  version_id INTEGER NOT NULL,"
    "  last_updated INTEGER NOT NULL,"
    "  patient TEXT,"
    "  status TEXT,"
    "  json TEXT NOT NULL,"
    "  PRIMARY KEY (type, id, version_id));"
  /* Nothing is ever deleted: history rows and resources stay for the retention period. */
    "CREATE TRIGGER history_no_delete BEFORE DELETE ON history"
    "  BEGIN SELECT RAISE (ABORT, 'history is append-only'); END;"
    "CREATE TRIGGER history_no_update BEFORE UPDATE ON history"
    "  BEGIN SELECT RAISE (ABORT, 'history is append-only'); END;"
    "CREATE TRIGGER resources_no_delete BEFORE DELETE ON resources"
    "  BEGIN SELECT RAISE (ABORT, 'resources are retired, not deleted'); END;", FALSE },
  /* 2: who treats whom. One row per practitioner a resource (RID) names for its patient, so a
   * rewrite of that resource replaces exactly its own rows. */
  { "CREATE TABLE care_team ("
    "  practitioner TEXT NOT NULL,"
    "  patient TEXT NOT NULL,"
    "  rid INTEGER NOT NULL,"
    "  PRIMARY KEY (practitioner, patient, rid)) WITHOUT ROWID;"
    "CREATE INDEX care_team_rid ON care_team (rid);", TRUE },
  /* 3: the worklist search. Tokens become a covering index of their own (a prefix lookup reads
   * nothing else); names and the other keys of the search box get a trigram full-text index for
   * "contains"; Encounter priority gets a column to sort on. */
  { "DROP TABLE resource_tokens;"
    "CREATE TABLE resource_tokens ("
    "  param TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  rid INTEGER NOT NULL,"
    "  PRIMARY KEY (param, value, rid)) WITHOUT ROWID;"
    "CREATE INDEX resource_tokens_rid ON resource_tokens (rid);"
    "ALTER TABLE resources ADD COLUMN priority INTEGER;"
    "CREATE VIRTUAL TABLE resource_text USING fts5 (names, keys, tokenize = 'trigram');", TRUE },
  /* 4: a type's rows in rid order, so a page of an unsorted search (the default order) reads
   * just that page; and statistics for the planner. */
  { "CREATE INDEX resources_type ON resources (type);"
    "PRAGMA analysis_limit = 2000; ANALYZE;", FALSE },
  /* 5: Task search by due date (its date column now), owner, focus and based-on; Flag by code
   * and category; AdverseEvent by event, category and substance. Open Tasks due by a day are a
   * range of (type, status, date), so a worklist never reads the done ones. */
  { "CREATE INDEX resources_status_date ON resources (type, status, date);", TRUE },
};

typedef enum
{
  STMT_BEGIN,
  STMT_BEGIN_READ,
  STMT_COMMIT,
  STMT_ROLLBACK,
  STMT_READ,
  STMT_VREAD,
  STMT_CURRENT,
  STMT_INSERT,
  STMT_UPDATE,
  STMT_DELETE_TOKENS,
  STMT_INSERT_TOKEN,
  STMT_INSERT_HISTORY,
  STMT_HISTORY,
  STMT_COUNT_ALL,
  STMT_DELETE_CARE_TEAM,
  STMT_INSERT_CARE_TEAM,
  STMT_IS_ON_CARE_TEAM,
  STMT_REINDEX_NEXT,
  STMT_REINDEX_COLUMNS,
  STMT_CARE_TEAM_SIZE,
  STMT_DELETE_TEXT,
  STMT_INSERT_TEXT,
  STMT_DATA_VERSION,
  STMT_CARE_TEAM_OF_RID,
  STMT_CARE_TEAM_PATIENTS,
  STMT_COUNT_TOKEN_ROWS,
  STMT_COUNT_DATE_ROWS,
  N_STMTS
} Stmt;

static const char *const stmt_sql[N_STMTS] = {
  [STMT_BEGIN] = "BEGIN IMMEDIATE",
  [STMT_BEGIN_READ] = "BEGIN DEFERRED",
  [STMT_COMMIT] = "COMMIT",
  [STMT_ROLLBACK] = "ROLLBACK",
  [STMT_READ] = "SELECT version_id, last_updated, patient, status, json FROM resources"
                " WHERE type = ?1 AND id = ?2",
  [STMT_VREAD] = "SELECT version_id, last_updated, patient, status, json FROM history"
                 " WHERE type = ?1 AND id = ?2 AND version_id = ?3",
  [STMT_CURRENT] = "SELECT rid, version_id FROM resources WHERE type = ?1 AND id = ?2",
  [STMT_INSERT] = "INSERT INTO resources (type, id, version_id, last_updated, status, patient,"
                  " encounter, date, family, json, priority)"
                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
  [STMT_UPDATE] = "UPDATE resources SET version_id = ?3, last_updated = ?4, status = ?5,"
                  " patient = ?6, encounter = ?7, date = ?8, family = ?9, json = ?10,"
                  " priority = ?11 WHERE rid = ?1 AND id = ?2",
  [STMT_DELETE_TOKENS] = "DELETE FROM resource_tokens WHERE rid = ?1",
  [STMT_INSERT_TOKEN] = "INSERT OR IGNORE INTO resource_tokens (rid, param, value)"
                        " VALUES (?1, ?2, ?3)",
  [STMT_INSERT_HISTORY] = "INSERT INTO history (type, id, version_id, last_updated, patient,"
                          " status, json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
  [STMT_HISTORY] = "SELECT version_id, last_updated, patient, status, json FROM history"
                   " WHERE type = ?1 AND id = ?2 ORDER BY version_id DESC LIMIT ?3 OFFSET ?4",
  [STMT_COUNT_ALL] = "SELECT count(*) FROM resources",
  [STMT_DELETE_CARE_TEAM] = "DELETE FROM care_team WHERE rid = ?1",
  [STMT_INSERT_CARE_TEAM] = "INSERT OR IGNORE INTO care_team (practitioner, patient, rid)"
                            " VALUES (?1, ?2, ?3)",
  [STMT_IS_ON_CARE_TEAM] = "SELECT 1 FROM care_team WHERE practitioner = ?1 AND patient = ?2"
                           " LIMIT 1",
  [STMT_REINDEX_NEXT] = "SELECT rid, id, json FROM resources WHERE rid > ?1 ORDER BY rid LIMIT 1",
  [STMT_REINDEX_COLUMNS] = "UPDATE resources SET status = ?2, patient = ?3, encounter = ?4,"
                           " date = ?5, family = ?6, priority = ?7 WHERE rid = ?1",
  [STMT_CARE_TEAM_SIZE] = "SELECT count(*) FROM (SELECT 1 FROM care_team WHERE practitioner = ?1"
                          " LIMIT ?2)",
  [STMT_DELETE_TEXT] = "DELETE FROM resource_text WHERE rowid = ?1",
  [STMT_INSERT_TEXT] = "INSERT INTO resource_text (rowid, names, keys) VALUES (?1, ?2, ?3)",
  [STMT_DATA_VERSION] = "PRAGMA data_version",
  [STMT_CARE_TEAM_OF_RID] = "SELECT practitioner, patient FROM care_team WHERE rid = ?1",
  [STMT_CARE_TEAM_PATIENTS] = "SELECT patient FROM care_team WHERE practitioner = ?1",
  [STMT_COUNT_TOKEN_ROWS] = "SELECT count(*) FROM (SELECT 1 FROM resource_tokens"
                            " WHERE param = ?1 AND value >= ?2 AND value < ?3 LIMIT ?4)",
  [STMT_COUNT_DATE_ROWS] = "SELECT count(*) FROM (SELECT 1 FROM resources"
                           " WHERE type = ?1 AND date >= ?2 AND date < ?3 LIMIT ?4)",
};

struct _WzSqliteStore
{
  GObject       parent_instance;

  sqlite3      *db;
  sqlite3_stmt *stmts[N_STMTS];
  GHashTable   *search_stmts;   /* SQL text → sqlite3_stmt */
  gint          schema_version;

  /* Reads share one read transaction per main-loop iteration (see begin_read). */
  GMainContext *context;
  GSource      *end_read_source;
  gboolean      in_read;

  /* The WAL's checkpoint, waiting for the main loop's next turn (see on_wal_commit). */
  GSource      *checkpoint_source;

  /* Between begin_batch and end_batch every write joins one transaction. */
  gboolean      batch;
  gboolean      batch_failed;

  /* Care teams too big to join in SQL, held as sets for wz_on_care_team(): "Practitioner/ID" →
   * (patient → number of care_team rows naming the pair). This connection's writes keep them up
   * to date; they are dropped when a write is rolled back or another connection commits
   * (PRAGMA data_version). */
  GHashTable   *teams;
  gint64        teams_data_version;

  /* Answers of wz_store_is_on_care_team(): "Practitioner/ID\x1fPatient/ID" → member (1) or not
   * (2). Every read by a practitioner asks it, and a hash lookup costs a small fraction of the
   * query. Forgotten whenever this connection changes care_team rows or rolls back, and when
   * another connection commits (PRAGMA data_version, looked at once per read transaction). */
  GHashTable   *pairs;
  gint64        pairs_data_version;
  gboolean      pairs_checked;

  /* Type → the last meta.lastUpdated this store gave (µs), see next_stamp(). */
  GHashTable   *stamps;
};

static void wz_sqlite_store_iface_init (WzStoreInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (WzSqliteStore, wz_sqlite_store, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (WZ_TYPE_STORE, wz_sqlite_store_iface_init))

static gboolean
set_sqlite_error (WzSqliteStore  *self,
                  GError        **error,
                  const char     *what)
{
  int code = self->db ? sqlite3_extended_errcode (self->db) : SQLITE_MISUSE;

  g_set_error (error, WZ_ERROR, WZ_ERROR_UNAVAILABLE, "Storage error while %s: %s (%d)", what,
               self->db ? sqlite3_errmsg (self->db) : "database is closed", code);
  return FALSE;
}

static void
finalize_stmt (gpointer data)
{
  sqlite3_finalize (data);
}

static sqlite3_stmt *
get_stmt (WzSqliteStore  *self,
          Stmt            which,
          GError        **error)
{
  sqlite3_stmt *stmt;

  if (self->db == NULL)
    {
      set_sqlite_error (self, error, "preparing a statement");
      return NULL;
    }

  stmt = self->stmts[which];
  if (stmt == NULL)
    {
      if (sqlite3_prepare_v3 (self->db, stmt_sql[which], -1, SQLITE_PREPARE_PERSISTENT,
                              &stmt, NULL) != SQLITE_OK)
        {
          set_sqlite_error (self, error, "preparing a statement");
          return NULL;
        }
      self->stmts[which] = stmt;
    }

  return stmt;
}

static void
done_stmt (sqlite3_stmt *stmt)
{
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
}

static gboolean
run_simple (WzSqliteStore  *self,
            Stmt            which,
            GError        **error)
{
  sqlite3_stmt *stmt = get_stmt (self, which, error);
  int rc;

  if (stmt == NULL)
    return FALSE;

  rc = sqlite3_step (stmt);
  done_stmt (stmt);
  if (rc != SQLITE_DONE)
    return set_sqlite_error (self, error, stmt_sql[which]);

  return TRUE;
}

static void
end_read (WzSqliteStore *self)
{
  if (!self->in_read)
    return;

  self->in_read = FALSE;
  self->pairs_checked = FALSE;
  if (self->end_read_source != NULL)
    {
      g_source_destroy (self->end_read_source);
      g_clear_pointer (&self->end_read_source, g_source_unref);
    }
  run_simple (self, STMT_COMMIT, NULL);
}

static gboolean
on_end_read (gpointer user_data)
{
  WzSqliteStore *self = user_data;

  g_clear_pointer (&self->end_read_source, g_source_unref);
  end_read (self);
  return G_SOURCE_REMOVE;
}

/* Taking and dropping SQLite's WAL read lock costs several system calls, as much as the lookup
 * itself. Reads answered in the same main-loop iteration (one per ready connection) therefore
 * share one read transaction, ended as soon as the loop comes round again or before any write;
 * another process's commit becomes visible within that one iteration. Without a main loop
 * (command-line tools) every read has its own transaction. */
static void
begin_read (WzSqliteStore *self)
{
  if (self->in_read || self->db == NULL || !sqlite3_get_autocommit (self->db))
    return;
  if (!g_main_context_is_owner (self->context) || !g_main_depth ())
    return;

  if (!run_simple (self, STMT_BEGIN_READ, NULL))
    return;
  self->in_read = TRUE;
  self->end_read_source = g_idle_source_new ();
  g_source_set_priority (self->end_read_source, G_PRIORITY_DEFAULT);
  g_source_set_callback (self->end_read_source, on_end_read, self, NULL);
  g_source_set_static_name (self->end_read_source, "[wz-sqlite-store] end read");
  g_source_attach (self->end_read_source, self->context);
}

static gboolean
on_checkpoint (gpointer user_data)
{
  WzSqliteStore *self = user_data;
  int rc;

  g_clear_pointer (&self->checkpoint_source, g_source_unref);
  /* The shared read transaction would hold the checkpoint back; a write transaction still open
   * (a batch) leaves it to the commit that ends it, whose hook asks again. */
  end_read (self);
  if (self->db == NULL || !sqlite3_get_autocommit (self->db))
    return G_SOURCE_REMOVE;

  rc = sqlite3_wal_checkpoint_v2 (self->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
  if (rc != SQLITE_OK && rc != SQLITE_BUSY)
    g_debug ("fhir.db: checkpoint failed: %s", sqlite3_errmsg (self->db));
  return G_SOURCE_REMOVE;
}

/* SQLite's own checkpoint runs inside the COMMIT that fills the WAL, so one write in some
 * seventy would wait for a thousand pages to be copied and the database file to be synced
 * before its caller could answer or announce it (a chat message's event among them). On the
 * main loop the checkpoint runs at the loop's next turn instead, after that caller is done.
 * Durability is the commit's alone: the WAL is synced before COMMIT returns either way. */
static int
on_wal_commit (void       *user_data,
               sqlite3    *db,
               const char *name,
               int         n_pages)
{
  WzSqliteStore *self = user_data;

  if (n_pages < CHECKPOINT_PAGES || self->checkpoint_source != NULL)
    return SQLITE_OK;

  if (!g_main_context_is_owner (self->context) || !g_main_depth ())
    {
      sqlite3_wal_checkpoint_v2 (db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
      return SQLITE_OK;
    }

  self->checkpoint_source = g_idle_source_new ();
  g_source_set_priority (self->checkpoint_source, G_PRIORITY_DEFAULT);
  g_source_set_callback (self->checkpoint_source, on_checkpoint, self, NULL);
  g_source_set_static_name (self->checkpoint_source, "[wz-sqlite-store] checkpoint");
  g_source_attach (self->checkpoint_source, self->context);
  return SQLITE_OK;
}

static gboolean
begin (WzSqliteStore  *self,
       GError        **error)
{
  if (self->batch)
    return TRUE;

  end_read (self);
  return run_simple (self, STMT_BEGIN, error);
}

static gboolean
commit (WzSqliteStore  *self,
        GError        **error)
{
  if (self->batch)
    return TRUE;

  return run_simple (self, STMT_COMMIT, error);
}

static void
rollback (WzSqliteStore *self)
{
  /* The cached care teams may hold what is being rolled back. */
  g_hash_table_remove_all (self->teams);
  g_hash_table_remove_all (self->pairs);

  /* A failed write leaves a batch half done: all of it is rolled back at its end. */
  if (self->batch)
    {
      self->batch_failed = TRUE;
      return;
    }

  if (self->db != NULL && !sqlite3_get_autocommit (self->db))
    run_simple (self, STMT_ROLLBACK, NULL);
}

static void
bind_text (sqlite3_stmt *stmt,
           int           index,
           const char   *text)
{
  if (text != NULL)
    sqlite3_bind_text (stmt, index, text, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null (stmt, index);
}

static void
bind_priority (sqlite3_stmt *stmt,
               int           column,
               WzFhirIndex  *index)
{
  if (index->priority > 0)
    sqlite3_bind_int (stmt, column, index->priority);
  else
    sqlite3_bind_null (stmt, column);
}

static char *
column_strdup (sqlite3_stmt *stmt,
               int           column)
{
  const char *text = (const char *) sqlite3_column_text (stmt, column);

  return text ? g_strdup (text) : NULL;
}

/* Columns: version_id, last_updated, patient, status, json. */
static WzStoredResource *
row_to_resource (sqlite3_stmt *stmt,
                 const char   *type,
                 const char   *id)
{
  WzStoredResource *resource = g_new0 (WzStoredResource, 1);
  const void *json = sqlite3_column_blob (stmt, 4);

  resource->type = g_strdup (type);
  resource->id = g_strdup (id);
  resource->version_id = sqlite3_column_int64 (stmt, 0);
  resource->last_updated = sqlite3_column_int64 (stmt, 1);
  resource->patient = column_strdup (stmt, 2);
  resource->status = column_strdup (stmt, 3);
  resource->json = g_bytes_new (json, sqlite3_column_bytes (stmt, 4));

  return resource;
}

static WzStoredResource *
wz_sqlite_store_read (WzStore     *store,
                      const char  *type,
                      const char  *id,
                      GError     **error)
{
  WzSqliteStore *self = WZ_SQLITE_STORE (store);
  sqlite3_stmt *stmt = get_stmt (self, STMT_READ, error);
  WzStoredResource *resource = NULL;
  int rc;

  if (stmt == NULL)
    return NULL;

  begin_read (self);

  bind_text (stmt, 1, type);
  bind_text (stmt, 2, id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    resource = row_to_resource (stmt, type, id);
  else if (rc == SQLITE_DONE)
    g_set_error (error, WZ_ERROR, WZ_ERROR_NOT_FOUND, "%s/%s does not exist", type, id);
  else
    set_sqlite_error (self, error, "reading a resource");
  done_stmt (stmt);

  return resource;
}

static WzStoredResource *
wz_sqlite_store_vread (WzStore     *store,
                       const char  *type,
                       const char  *id,
                       gint64       version_id,
                       GError     **error)
{
  WzSqliteStore *self = WZ_SQLITE_STORE (store);
  sqlite3_stmt *stmt = get_stmt (self, STMT_VREAD, error);
  WzStoredResource *resource = NULL;
  int rc;

  if (stmt == NULL)
    return NULL;

  begin_read (self);

  bind_text (stmt, 1, type);
  bind_text (stmt, 2, id);
  sqlite3_bind_int64 (stmt, 3, version_id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    resource = row_to_resource (stmt, type, id);
  else if (rc == SQLITE_DONE)
    g_set_error (error, WZ_ERROR, WZ_ERROR_NOT_FOUND,
                 "%s/%s has no version %" G_GINT64_FORMAT, type, id, version_id);
  else
    set_sqlite_error (self, error, "reading a version");
  done_stmt (stmt);

  return resource;
}

static gboolean
step_done (WzSqliteStore  *self,
           sqlite3_stmt   *stmt,
           const char     *what,
           GError        **error)
{
  int rc = sqlite3_step (stmt);

  done_stmt (stmt);
  if (rc != SQLITE_DONE)
    return set_sqlite_error (self, error, what);

  return TRUE;
}

static gboolean
delete_by_rid (WzSqliteStore  *self,
               Stmt            which,
               gint64          rid,
               GError        **error)
{
  sqlite3_stmt *stmt = get_stmt (self, which, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, rid);
  return step_done (self, stmt, "updating the search index", error);
}

/* Adds DELTA to the pair's count in a cached team, if that team is cached. */
static void
team_cache_adjust (WzSqliteStore *self,
                   const char    *practitioner,
                   const char    *patient,
                   gint           delta)
{
  GHashTable *team = g_hash_table_lookup (self->teams, practitioner);
  gint count;

  if (team == NULL)
    return;

  count = GPOINTER_TO_INT (g_hash_table_lookup (team, patient)) + delta;
  if (count > 0)
    g_hash_table_replace (team, g_strdup (patient), GINT_TO_POINTER (count));
  else
    g_hash_table_remove (team, patient);
}

/* Takes RID's care_team rows out of the cached teams, before they are deleted. */
static gboolean
team_cache_forget_rid (WzSqliteStore  *self,
                       gint64          rid,
                       GError        **error)
{
  sqlite3_stmt *stmt;
  int rc;

  if (g_hash_table_size (self->teams) == 0)
    return TRUE;

  if ((stmt = get_stmt (self, STMT_CARE_TEAM_OF_RID, error)) == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, rid);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    team_cache_adjust (self, (const char *) sqlite3_column_text (stmt, 0),
                       (const char *) sqlite3_column_text (stmt, 1), -1);
  done_stmt (stmt);
  if (rc != SQLITE_DONE)
    return set_sqlite_error (self, error, "updating the care team");

  return TRUE;
}

/* The care team a resource of TYPE makes: every practitioner it names treats its patient, unless
 * the resource was entered in error. */
static gboolean
write_care_team (WzSqliteStore  *self,
                 gint64          rid,
                 const char     *type,
                 WzFhirIndex    *index,
                 GError        **error)
{
  const WzFhirTypeInfo *info = wz_fhir_type_info (type);
  sqlite3_stmt *stmt;

  if (info == NULL || !info->care_team || index->patient == NULL ||
      g_strcmp0 (index->status, "entered-in-error") == 0)
    return TRUE;

  if ((stmt = get_stmt (self, STMT_INSERT_CARE_TEAM, error)) == NULL)
    return FALSE;
  for (guint i = 0; i < index->tokens->len; i++)
    {
      WzFhirToken *token = g_ptr_array_index (index->tokens, i);

      if (strcmp (token->param, "practitioner") != 0)
        continue;
      bind_text (stmt, 1, token->value);
      bind_text (stmt, 2, index->patient);
      sqlite3_bind_int64 (stmt, 3, rid);
      if (!step_done (self, stmt, "updating the care team", error))
        return FALSE;
      if (sqlite3_changes (self->db) > 0)
        {
          team_cache_adjust (self, token->value, index->patient, +1);
          g_hash_table_remove_all (self->pairs);
        }
    }

  return TRUE;
}

/* Everything derived from a resource besides its row's columns: index tokens and care team.
 * REPLACE drops what an earlier version of RID left. Runs inside the caller's transaction. */
static gboolean
write_index (WzSqliteStore  *self,
             gint64          rid,
             const char     *type,
             WzFhirIndex    *index,
             gboolean        replace,
             GError        **error)
{
  sqlite3_stmt *stmt;

  if (replace &&
      (!delete_by_rid (self, STMT_DELETE_TOKENS, rid, error) ||
       !team_cache_forget_rid (self, rid, error) ||
       !delete_by_rid (self, STMT_DELETE_CARE_TEAM, rid, error)))
    return FALSE;
  if (replace && sqlite3_changes (self->db) > 0)
    g_hash_table_remove_all (self->pairs);

  /* Only types with names have full text, and a resource never changes type. */
  if (index->names_text != NULL)
    {
      if (replace && !delete_by_rid (self, STMT_DELETE_TEXT, rid, error))
        return FALSE;
      if ((stmt = get_stmt (self, STMT_INSERT_TEXT, error)) == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, rid);
      bind_text (stmt, 2, index->names_text);
      bind_text (stmt, 3, index->keys_text);
      if (!step_done (self, stmt, "updating the full-text index", error))
        return FALSE;
    }

  if ((stmt = get_stmt (self, STMT_INSERT_TOKEN, error)) == NULL)
    return FALSE;
  for (guint i = 0; i < index->tokens->len; i++)
    {
      WzFhirToken *token = g_ptr_array_index (index->tokens, i);

      sqlite3_bind_int64 (stmt, 1, rid);
      bind_text (stmt, 2, token->param);
      bind_text (stmt, 3, token->value);
      if (!step_done (self, stmt, "updating the search index", error))
        return FALSE;
    }

  return write_care_team (self, rid, type, index, error);
}

/* meta.lastUpdated is shown to the millisecond, and _lastUpdated=gt… compares at that precision.
 * So every write of a type gets a millisecond of its own, later than any before it (a chat's
 * messages in order of receipt): a catch-up from the last instant a client saw then neither
 * skips nor repeats a resource, even when the clock steps back or two writes share a
 * millisecond. Runs inside the write transaction; the first write of a type after opening
 * starts from what is stored. */
static gint64
next_stamp (WzSqliteStore *self,
            const char    *type)
{
  gint64 now = wz_time_now_us () / 1000 * 1000;
  gint64 *last = g_hash_table_lookup (self->stamps, type);

  if (last == NULL)
    {
      sqlite3_stmt *stmt = NULL;

      last = g_new0 (gint64, 1);
      if (sqlite3_prepare_v2 (self->db, "SELECT max (last_updated) FROM resources WHERE type = ?1",
                              -1, &stmt, NULL) == SQLITE_OK)
        {
          bind_text (stmt, 1, type);
          if (sqlite3_step (stmt) == SQLITE_ROW)
            *last = sqlite3_column_int64 (stmt, 0);
        }
      sqlite3_finalize (stmt);
      g_hash_table_insert (self->stamps, g_strdup (type), last);
    }

  *last = MAX (now, *last / 1000 * 1000 + 1000);
  return *last;
}

/* Writes version VERSION_ID of RESOURCE: the current row (inserted when RID is 0), its index
 * tokens and the history row. Runs inside the caller's transaction. */
static WzStoredResource *
write_version (WzSqliteStore  *self,
               JsonObject     *resource,
               const char     *id,
               gint64          rid,
               gint64          version_id,
               GError        **error)
{
  const char *type = json_object_get_string_member (resource, "resourceType");
  gint64 now = next_stamp (self, type);
  g_autoptr(WzFhirIndex) index = NULL;
  g_autofree char *json = NULL;
  gsize json_length;
  sqlite3_stmt *stmt;
  WzStoredResource *stored;

  json = wz_fhir_stamp (resource, id, version_id, now, &json_length);
  /* Index the stamped object, so the id it names is the one stored. */
  index = wz_fhir_index_new (resource, id);

  stmt = get_stmt (self, rid == 0 ? STMT_INSERT : STMT_UPDATE, error);
  if (stmt == NULL)
    return NULL;

  if (rid != 0)
    sqlite3_bind_int64 (stmt, 1, rid);
  else
    bind_text (stmt, 1, type);
  bind_text (stmt, 2, id);
  sqlite3_bind_int64 (stmt, 3, version_id);
  sqlite3_bind_int64 (stmt, 4, now);
  bind_text (stmt, 5, index->status);
  bind_text (stmt, 6, index->patient);
  bind_text (stmt, 7, index->encounter);
  bind_text (stmt, 8, index->date);
  bind_text (stmt, 9, index->family);
  sqlite3_bind_text (stmt, 10, json, json_length, SQLITE_STATIC);
  bind_priority (stmt, 11, index);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      done_stmt (stmt);
      set_sqlite_error (self, error, "writing a resource");
      return NULL;
    }
  done_stmt (stmt);

  if (rid == 0)
    {
      rid = sqlite3_last_insert_rowid (self->db);
      if (!write_index (self, rid, type, index, FALSE, error))
        return NULL;
    }
  else if (!write_index (self, rid, type, index, TRUE, error))
    return NULL;

  if ((stmt = get_stmt (self, STMT_INSERT_HISTORY, error)) == NULL)
    return NULL;
  bind_text (stmt, 1, type);
  bind_text (stmt, 2, id);
  sqlite3_bind_int64 (stmt, 3, version_id);
  sqlite3_bind_int64 (stmt, 4, now);
  bind_text (stmt, 5, index->patient);
  bind_text (stmt, 6, index->status);
  sqlite3_bind_text (stmt, 7, json, json_length, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      done_stmt (stmt);
      set_sqlite_error (self, error, "writing the history");
      return NULL;
    }
  done_stmt (stmt);

  stored = g_new0 (WzStoredResource, 1);
  stored->type = g_strdup (type);
  stored->id = g_strdup (id);
  stored->version_id = version_id;
  stored->last_updated = now;
  stored->patient = g_steal_pointer (&index->patient);
  stored->status = g_steal_pointer (&index->status);
  stored->json = g_bytes_new_take (g_steal_pointer (&json), json_length);

  return stored;
}

static gboolean wz_sqlite_store_is_on_care_team (WzStore     *store,
                                                 const char  *patient_ref,
                                                 const char  *practitioner_ref,
                                                 GError     **error);
static WzStoredResource *wz_sqlite_store_read (WzStore     *store,
                                               const char  *type,
                                               const char  *id,
                                               GError     **error);
static WzStoreResult *search_page (WzSqliteStore        *self,
                                   const WzSearchQuery  *query,
                                   guint                 count,
                                   guint                 offset,
                                   GError              **error);

static WzStoredResource *
wz_sqlite_store_create (WzStore              *store,
                        JsonObject           *resource,
                        const WzSearchQuery  *if_none_exist,
                        gboolean             *out_created,
                        GError              **error)
{
  WzSqliteStore *self = WZ_SQLITE_STORE (store);
  g_autofree char *id = NULL;
  WzStoredResource *stored;

  if (!begin (self, error))
    return NULL;

  if (if_none_exist != NULL)
    {
      g_autoptr(WzStoreResult) existing = search_page (self, if_none_exist, 2, 0, error);

      if (existing == NULL)
        {
          rollback (self);
          return NULL;
        }
      if (existing->total > 1)
        {
          rollback (self);
          g_set_error (error, WZ_ERROR, WZ_ERROR_PRECONDITION_FAILED,
                       "If-None-Exist matches %" G_GINT64_FORMAT " %s resources; it must match"
                       " at most one", existing->total, if_none_exist->type);
          return NULL;
        }
      if (existing->total == 1)
        {
          /* Nothing was written: inside a transaction this is no failure. */
          if (!self->batch)
            rollback (self);
          *out_created = FALSE;
          return g_ptr_array_steal_index (existing->resources, 0);
        }
    }

  id = wz_id_new ();
  stored = write_version (self, resource, id, 0, 1, error);
  if (stored == NULL || !commit (self, error))
    {
      rollback (self);
      g_clear_pointer (&stored, wz_stored_resource_free);
      return NULL;
    }

  *out_created = TRUE;
  return stored;
}

static WzStoredResource *
wz_sqlite_store_update (WzStore     *store,
                        JsonObject  *resource,
                        const char  *id,
                        gint64       expected_version,
                        GError     **error)
{
  WzSqliteStore *self = WZ_SQLITE_STORE (store);
  const char *type = json_object_get_string_member (resource, "resourceType");
  sqlite3_stmt *stmt;
  WzStoredResource *stored;
  gint64 rid, current;
  int rc;

  if (!begin (self, error))
    return NULL;

  if ((stmt = get_stmt (self, STMT_CURRENT, error)) == NULL)
    {
      rollback (self);
      return NULL;
    }
  bind_text (stmt, 1, type);
  bind_text (stmt, 2, id);
  rc = sqlite3_step (stmt);
  rid = rc == SQLITE_ROW ? sqlite3_column_int64 (stmt, 0) : 0;
  current = rc == SQLITE_ROW ? sqlite3_column_int64 (stmt, 1) : 0;
  done_stmt (stmt);

  if (rc != SQLITE_ROW)
    {
      if (rc == SQLITE_DONE)
        g_set_error (error, WZ_ERROR, WZ_ERROR_NOT_FOUND,
                     "%s/%s does not exist; create it with POST", type, id);
      else
        set_sqlite_error (self, error, "reading the current version");
      rollback (self);
      return NULL;
    }

  if (expected_version != current)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_PRECONDITION_FAILED,
                   "%s/%s is at version %" G_GINT64_FORMAT ", but the update was based on version %"
                   G_GINT64_FORMAT "; read it again and reapply the change",
                   type, id, current, expected_version);
      rollback (self);
      return NULL;
    }

  stored = write_version (self, resource, id, rid, current + 1, error);
  if (stored == NULL || !commit (self, error))
    {
      rollback (self);
      g_clear_pointer (&stored, wz_stored_resource_free);
      return NULL;
    }

  return stored;
}

typedef struct
{
  gboolean    is_int;
  gint64      number;
  const char *text;   /* borrowed from the query, or from upper_bounds */
} Bind;

typedef struct
{
  GString   *where;
  GArray    *binds;
  GPtrArray *owned;   /* strings made here that binds point to */
  /* Few rows are candidates anyway (a small care team, one patient's data): text conditions are
   * checked on each of them instead of first collecting every row that matches the text. */
  gboolean   check_rows;
  guint      n_alternatives;
  /* The page is read in rid order from the type's rows: status and date are tested on each
   * row (a unary + keeps SQLite from starting at their indexes and sorting). */
  gboolean   in_rid_order;
} Where;

static void
add_text (Where      *w,
          const char *text)
{
  Bind bind = { FALSE, 0, text };

  g_array_append_val (w->binds, bind);
}

static void
add_int (Where  *w,
         gint64  number)
{
  Bind bind = { TRUE, number, NULL };

  g_array_append_val (w->binds, bind);
}

/* Keeps TEXT until the statement has run; binds only borrow. */
static const char *
own (Where *w,
     char  *text)
{
  g_ptr_array_add (w->owned, text);
  return text;
}

/* The smallest string greater than every string starting with PREFIX (bytewise). */
static const char *
upper_bound (Where      *w,
             const char *prefix)
{
  char *upper = g_strdup (prefix);
  gsize n = strlen (upper);

  while (n > 0 && (guchar) upper[n - 1] == 0xff)
    upper[--n] = '\0';
  if (n > 0)
    upper[n - 1] = (char) ((guchar) upper[n - 1] + 1);
  g_ptr_array_add (w->owned, upper);

  return upper;
}

static void
add_in_list (Where         *w,
             const char    *column,
             WzSearchParam *param)
{
  g_string_append_printf (w->where, " AND %s IN (", column);
  for (guint i = 0; i < param->values->len; i++)
    {
      g_string_append (w->where, i ? ", ?" : "?");
      add_text (w, g_ptr_array_index (param->values, i));
    }
  g_string_append_c (w->where, ')');
}

/* A condition that is true when any of several alternatives holds. With check_rows each
 * alternative is a predicate on r; otherwise a SELECT of matching rids, the union of which is
 * looked up. */
static void
begin_any (Where *w)
{
  g_string_append (w->where, w->check_rows ? " AND (" : " AND r.rid IN (");
  w->n_alternatives = 0;
}

static void
next_any (Where *w)
{
  if (w->n_alternatives++ > 0)
    g_string_append (w->where, w->check_rows ? " OR " : " UNION ");
}

static void
end_any (Where *w)
{
  g_string_append_c (w->where, ')');
}

/* Rows with a PARAM token equal to VALUE, or starting with it when PREFIX. */
static void
any_token (Where      *w,
           const char *param,
           const char *value,
           gboolean    prefix)
{
  next_any (w);
  if (w->check_rows)
    g_string_append (w->where, "EXISTS (SELECT 1 FROM resource_tokens t WHERE t.rid = r.rid AND ");
  else
    g_string_append (w->where, "SELECT t.rid FROM resource_tokens t WHERE ");
  g_string_append (w->where, prefix ? "t.param = ? AND t.value >= ? AND t.value < ?"
                                    : "t.param = ? AND t.value = ?");
  if (w->check_rows)
    g_string_append_c (w->where, ')');
  add_text (w, param);
  add_text (w, value);
  if (prefix)
    add_text (w, upper_bound (w, value));
}

static gboolean
is_han_only (const char *text)
{
  for (const char *p = text; *p; p = g_utf8_next_char (p))
    if (g_unichar_get_script (g_utf8_get_char (p)) != G_UNICODE_SCRIPT_HAN)
      return FALSE;

  return TRUE;
}

/* Rows whose COLUMN (names, or NULL for every full-text column) contains TEXT (case-folded).
 * The trigram index answers three characters and more. Shorter Chinese text, the usual way to
 * look for a two-character name, is looked up in the table of every one and two Han characters of
 * each name; anything else that short is rare and scans the names. */
static void
any_contains (Where      *w,
              const char *text,
              const char *column)
{
  glong n_chars = g_utf8_strlen (text, -1);

  if (n_chars >= 3)
    {
      GString *match = g_string_new (column ? "{" : "");

      if (column)
        g_string_append_printf (match, "%s} : ", column);
      /* One phrase, quotes doubled: nothing typed is read as query syntax. */
      g_string_append_c (match, '"');
      for (const char *p = text; *p; p++)
        {
          if (*p == '"')
            g_string_append_c (match, '"');
          g_string_append_c (match, *p);
        }
      g_string_append_c (match, '"');

      next_any (w);
      g_string_append (w->where, w->check_rows ? "r.rid IN (SELECT rowid FROM resource_text"
                                                 " WHERE resource_text MATCH ?)"
                                               : "SELECT rowid FROM resource_text"
                                                 " WHERE resource_text MATCH ?");
      add_text (w, own (w, g_string_free (match, FALSE)));
    }
  else if (is_han_only (text))
    any_token (w, "name:gram", text, FALSE);
  else
    {
      const char *haystack = column ? column : "names || char(10) || keys";

      next_any (w);
      if (w->check_rows)
        g_string_append_printf (w->where, "EXISTS (SELECT 1 FROM resource_text x"
                                          " WHERE x.rowid = r.rid AND instr(%s, ?) > 0)", haystack);
      else
        g_string_append_printf (w->where, "SELECT rowid FROM resource_text"
                                          " WHERE instr(%s, ?) > 0", haystack);
      add_text (w, text);
    }
}

/* q, the worklist box: the start of any name part, pinyin (initials, whole or given name),
 * identifier or phone number, or, from three characters on, any part of a name or key; one or
 * two Chinese characters anywhere in a name. */
static void
add_free_text (Where      *w,
               const char *text)
{
  const char *upper = own (w, g_ascii_strup (text, -1));
  GString *letters = g_string_new (NULL);
  gboolean pinyin_like = TRUE;
  gboolean digits_only = TRUE;
  gboolean han_only = is_han_only (text);

  for (const char *p = text; *p; p++)
    {
      if (g_ascii_isalpha (*p))
        g_string_append_c (letters, *p);
      else if (*p != ' ' && *p != '\'')
        pinyin_like = FALSE;
      if (!g_ascii_isdigit (*p))
        digits_only = FALSE;
    }

  begin_any (w);
  /* One or two Han characters: the character index already holds every name starting with
   * them. */
  if (!han_only || g_utf8_strlen (text, -1) >= 3)
    any_token (w, "name", text, TRUE);
  if (!han_only)
    {
      any_token (w, "identifier:value", text, TRUE);
      /* Identifiers are stored as written, and ID numbers end in a capital X. */
      if (strcmp (upper, text) != 0)
        any_token (w, "identifier:value", upper, TRUE);
    }
  if (pinyin_like && letters->len > 0)
    any_token (w, "pinyin", own (w, g_string_free (letters, FALSE)), TRUE);
  else
    g_string_free (letters, TRUE);
  if (digits_only)
    any_token (w, "phone", text, TRUE);
  if (g_utf8_strlen (text, -1) >= 3 || han_only)
    any_contains (w, text, NULL);
  end_any (w);
}

static void
add_param (Where         *w,
           WzSearchParam *param)
{
  const char *value = g_ptr_array_index (param->values, 0);
  const char *date;

  switch (param->kind)
    {
    case WZ_SEARCH_PARAM_ID:
      add_in_list (w, "r.id", param);
      break;

    case WZ_SEARCH_PARAM_STATUS:
      add_in_list (w, w->in_rid_order ? "+r.status" : "r.status", param);
      break;

    case WZ_SEARCH_PARAM_PATIENT:
      add_in_list (w, "r.patient", param);
      break;

    case WZ_SEARCH_PARAM_ENCOUNTER:
      add_in_list (w, "r.encounter", param);
      break;

    case WZ_SEARCH_PARAM_TOKEN:
      /* An identifier or a phone number picks out a few rows: the search starts from them.
       * Codes, categories and practitioners are shared by many rows and are checked on the rows
       * the other parameters (patient, date, …) select. */
      if (g_str_has_prefix (param->token_param, "identifier") ||
          strcmp (param->token_param, "phone") == 0)
        g_string_append (w->where, " AND r.rid IN (SELECT t.rid FROM resource_tokens t"
                                   " WHERE t.param = ? AND t.value IN (");
      else
        g_string_append (w->where, " AND EXISTS (SELECT 1 FROM resource_tokens t"
                                   " WHERE t.rid = r.rid AND t.param = ? AND t.value IN (");
      add_text (w, param->token_param);
      for (guint i = 0; i < param->values->len; i++)
        {
          g_string_append (w->where, i ? ", ?" : "?");
          add_text (w, g_ptr_array_index (param->values, i));
        }
      g_string_append (w->where, "))");
      break;

    case WZ_SEARCH_PARAM_STRING:
      begin_any (w);
      for (guint i = 0; i < param->values->len; i++)
        {
          const char *text = g_ptr_array_index (param->values, i);

          if (param->match == WZ_SEARCH_MATCH_CONTAINS)
            any_contains (w, text, "names");
          else
            any_token (w, param->token_param, text, param->match == WZ_SEARCH_MATCH_PREFIX);
        }
      end_any (w);
      break;

    case WZ_SEARCH_PARAM_TEXT:
      add_free_text (w, value);
      break;

    case WZ_SEARCH_PARAM_DATE:
      /* Dates are compared as normalised text; a value stands for everything it is a prefix of,
       * so 2024-05 covers the whole month. */
      date = w->in_rid_order ? "+r.date" : "r.date";
      switch (param->prefix)
        {
        case WZ_SEARCH_EQ:
          g_string_append_printf (w->where, " AND %s >= ? AND %s < ?", date, date);
          add_text (w, value);
          add_text (w, upper_bound (w, value));
          break;
        case WZ_SEARCH_GT:
          g_string_append_printf (w->where, " AND %s >= ?", date);
          add_text (w, upper_bound (w, value));
          break;
        case WZ_SEARCH_GE:
          g_string_append_printf (w->where, " AND %s >= ?", date);
          add_text (w, value);
          break;
        case WZ_SEARCH_LT:
          g_string_append_printf (w->where, " AND %s < ?", date);
          add_text (w, value);
          break;
        case WZ_SEARCH_LE:
        default:
          g_string_append_printf (w->where, " AND %s < ?", date);
          add_text (w, upper_bound (w, value));
          break;
        }
      break;

    case WZ_SEARCH_PARAM_LAST_UPDATED:
    default:
      switch (param->prefix)
        {
        case WZ_SEARCH_EQ:
          g_string_append (w->where, " AND r.last_updated >= ? AND r.last_updated < ?");
          add_int (w, param->start_us);
          add_int (w, param->end_us);
          break;
        case WZ_SEARCH_GT:
          g_string_append (w->where, " AND r.last_updated >= ?");
          add_int (w, param->end_us);
          break;
        case WZ_SEARCH_GE:
          g_string_append (w->where, " AND r.last_updated >= ?");
          add_int (w, param->start_us);
          break;
        case WZ_SEARCH_LT:
          g_string_append (w->where, " AND r.last_updated < ?");
          add_int (w, param->start_us);
          break;
        case WZ_SEARCH_LE:
        default:
          g_string_append (w->where, " AND r.last_updated < ?");
          add_int (w, param->end_us);
          break;
        }
      break;
    }
}

/* A care team this small drives the search (its patients' rows are looked up); a bigger one is
 * checked row by row against whatever the other parameters select, in memory: a lookup in a
 * set of 100,000 patients costs a fraction of a B-tree search. */
#define SMALL_CARE_TEAM 2000
#define MAX_CACHED_TEAMS 8

/* Makes sure the cached team of PRACTITIONER is current. Called inside the search's read
 * transaction, so what it loads is what the search sees. */
static gboolean
team_cache_load (WzSqliteStore  *self,
                 const char     *practitioner,
                 GError        **error)
{
  sqlite3_stmt *stmt;
  GHashTable *team;
  gint64 version = -1;
  int rc;

  if ((stmt = get_stmt (self, STMT_DATA_VERSION, error)) == NULL)
    return FALSE;
  if (sqlite3_step (stmt) == SQLITE_ROW)
    version = sqlite3_column_int64 (stmt, 0);
  done_stmt (stmt);
  if (version != self->teams_data_version)
    {
      g_hash_table_remove_all (self->teams);
      self->teams_data_version = version;
    }

  if (g_hash_table_contains (self->teams, practitioner))
    return TRUE;
  if (g_hash_table_size (self->teams) >= MAX_CACHED_TEAMS)
    g_hash_table_remove_all (self->teams);

  if ((stmt = get_stmt (self, STMT_CARE_TEAM_PATIENTS, error)) == NULL)
    return FALSE;
  team = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  bind_text (stmt, 1, practitioner);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *patient = (const char *) sqlite3_column_text (stmt, 0);
      gint count = GPOINTER_TO_INT (g_hash_table_lookup (team, patient));

      g_hash_table_replace (team, g_strdup (patient), GINT_TO_POINTER (count + 1));
    }
  done_stmt (stmt);
  if (rc != SQLITE_DONE)
    {
      g_hash_table_unref (team);
      return set_sqlite_error (self, error, "reading the care team");
    }

  g_hash_table_insert (self->teams, g_strdup (practitioner), team);
  return TRUE;
}

/* wz_on_care_team(practitioner, patient): membership in a team team_cache_load() loaded. */
static void
on_care_team_function (sqlite3_context  *context,
                       int               argc,
                       sqlite3_value   **argv)
{
  WzSqliteStore *self = sqlite3_user_data (context);
  const char *practitioner = (const char *) sqlite3_value_text (argv[0]);
  const char *patient = (const char *) sqlite3_value_text (argv[1]);
  GHashTable *team = practitioner ? g_hash_table_lookup (self->teams, practitioner) : NULL;

  sqlite3_result_int (context, team != NULL && patient != NULL &&
                               g_hash_table_contains (team, patient));
}

static gboolean
add_visibility (WzSqliteStore        *self,
                Where                *w,
                const WzSearchQuery  *query,
                GError              **error)
{
  const WzFhirTypeInfo *info = wz_fhir_type_info (query->type);
  sqlite3_stmt *stmt;
  gint64 size;

  if (info == NULL || info->reference_data)
    return TRUE;

  if (query->visible_to_patient != NULL)
    {
      g_string_append (w->where, " AND r.patient = ?");
      add_text (w, query->visible_to_patient);
      w->check_rows = TRUE;
    }

  if (query->visible_to_practitioner == NULL)
    return TRUE;

  if ((stmt = get_stmt (self, STMT_CARE_TEAM_SIZE, error)) == NULL)
    return FALSE;
  bind_text (stmt, 1, query->visible_to_practitioner);
  sqlite3_bind_int64 (stmt, 2, SMALL_CARE_TEAM);
  size = sqlite3_step (stmt) == SQLITE_ROW ? sqlite3_column_int64 (stmt, 0) : -1;
  done_stmt (stmt);
  if (size < 0)
    return set_sqlite_error (self, error, "reading the care team");

  if (size < SMALL_CARE_TEAM)
    {
      g_string_append (w->where, " AND r.patient IN (SELECT c.patient FROM care_team c"
                                 " WHERE c.practitioner = ?)");
      w->check_rows = TRUE;
    }
  else
    {
      if (!team_cache_load (self, query->visible_to_practitioner, error))
        return FALSE;
      g_string_append (w->where, " AND wz_on_care_team(?, r.patient)");
    }
  add_text (w, query->visible_to_practitioner);

  return TRUE;
}

static const char *
sort_column (WzSearchSortKey key)
{
  switch (key)
    {
    case WZ_SEARCH_SORT_ID:
      return "r.id";
    case WZ_SEARCH_SORT_LAST_UPDATED:
      return "r.last_updated";
    case WZ_SEARCH_SORT_DATE:
      return "r.date";
    case WZ_SEARCH_SORT_FAMILY:
      return "r.family";
    case WZ_SEARCH_SORT_PRIORITY:
      return "r.priority";
    case WZ_SEARCH_SORT_STATUS:
    default:
      return "r.status";
    }
}

/* Search statements are cached by their SQL text, which depends only on the shape of the query
 * (which parameters, how many values), so repeated searches reuse a prepared statement. */
static sqlite3_stmt *
get_search_stmt (WzSqliteStore  *self,
                 const char     *sql,
                 GError        **error)
{
  sqlite3_stmt *stmt;

  if (self->db == NULL)
    {
      set_sqlite_error (self, error, "searching");
      return NULL;
    }

  stmt = g_hash_table_lookup (self->search_stmts, sql);
  if (stmt != NULL)
    return stmt;

  if (g_hash_table_size (self->search_stmts) >= MAX_CACHED_SEARCHES)
    g_hash_table_remove_all (self->search_stmts);

  if (sqlite3_prepare_v3 (self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) != SQLITE_OK)
    {
      set_sqlite_error (self, error, "preparing a search");
      return NULL;
    }
  g_hash_table_insert (self->search_stmts, g_strdup (sql), stmt);

  return stmt;
}

static void
bind_all (sqlite3_stmt *stmt,
          GArray       *binds)
{
  for (guint i = 0; i < binds->len; i++)
    {
      Bind *bind = &g_array_index (binds, Bind, i);

      if (bind->is_int)
        sqlite3_bind_int64 (stmt, i + 1, bind->number);
      else
        bind_text (stmt, i + 1, bind->text);
    }
}

/* Whether RESOURCE (an _include candidate) passes the same access filters as the matches. */
static gboolean
included_is_visible (WzSqliteStore        *self,
                     const WzSearchQuery  *query,
                     WzStoredResource     *resource,
                     GError              **error)
{
  if (query->visible_to_patient != NULL &&
      g_strcmp0 (resource->patient, query->visible_to_patient) != 0)
    return FALSE;

  if (query->visible_to_practitioner != NULL)
    return resource->patient != NULL &&
           wz_sqlite_store_is_on_care_team (WZ_STORE (self), resource->patient,
                                            query->visible_to_practitioner, error);

  return TRUE;
}

static gboolean
add_included_reference (WzSqliteStore        *self,
                        const WzSearchQuery  *query,
                        WzStoreResult        *result,
                        GHashTable           *seen,
                        const char           *reference,
                        GError              **error)
{
  g_autoptr(WzStoredResource) resource = NULL;
  g_autoptr(GError) local_error = NULL;
  const char *slash;

  if (reference == NULL || g_hash_table_contains (seen, reference))
    return TRUE;
  g_hash_table_add (seen, g_strdup (reference));

  slash = strchr (reference, '/');
  {
    g_autofree char *type = g_strndup (reference, slash - reference);

    resource = wz_sqlite_store_read (WZ_STORE (self), type, slash + 1, &local_error);
  }
  /* A reference to something not (or no longer) stored is simply not included. */
  if (resource == NULL)
    {
      if (g_error_matches (local_error, WZ_ERROR, WZ_ERROR_NOT_FOUND))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  if (!included_is_visible (self, query, resource, &local_error))
    {
      if (local_error == NULL)
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  g_ptr_array_add (result->included, g_steal_pointer (&resource));
  return TRUE;
}

/* _include: the patients (and encounters) the page's matches refer to, each once. */
static gboolean
add_included (WzSqliteStore        *self,
              const WzSearchQuery  *query,
              WzStoreResult        *result,
              GPtrArray            *encounters,
              GError              **error)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  result->included = g_ptr_array_new_with_free_func ((GDestroyNotify) wz_stored_resource_free);

  for (guint i = 0; i < result->resources->len; i++)
    {
      WzStoredResource *match = g_ptr_array_index (result->resources, i);

      g_hash_table_add (seen, g_strconcat (match->type, "/", match->id, NULL));
    }

  for (guint i = 0; i < result->resources->len; i++)
    {
      WzStoredResource *match = g_ptr_array_index (result->resources, i);

      if ((query->include & WZ_SEARCH_INCLUDE_PATIENT) &&
          !add_included_reference (self, query, result, seen, match->patient, error))
        return FALSE;
      if ((query->include & WZ_SEARCH_INCLUDE_ENCOUNTER) && i < encounters->len &&
          !add_included_reference (self, query, result, seen,
                                   g_ptr_array_index (encounters, i), error))
        return FALSE;
    }

  return TRUE;
}

/* A name or key prefix this common (one letter or character of a name: 王 is 7 % of patients)
 * is cheaper to test on each row of the type, in rid order, until a page is full, than to
 * collect every matching rid first: the rids cost about a microsecond each, a tested row a few,
 * and at 100,000 rows the two meet near 4,000 matches. Counting all matches still goes the
 * other way round. */
#define DENSE_PREFIX_ROWS 4000

/* Up to DENSE_PREFIX_ROWS index entries of PARAM starting with VALUE (equal to it when not
 * PREFIX). */
static gint64
count_token_rows (WzSqliteStore *self,
                  const char    *param,
                  const char    *value,
                  gboolean       prefix)
{
  g_autoptr(GPtrArray) owned = g_ptr_array_new_with_free_func (g_free);
  Where w = { NULL, NULL, owned, FALSE, 0, FALSE };
  g_autofree char *exact_upper = NULL;
  sqlite3_stmt *stmt = get_stmt (self, STMT_COUNT_TOKEN_ROWS, NULL);
  gint64 n = 0;

  if (stmt == NULL)
    return 0;
  if (!prefix)
    exact_upper = g_strconcat (value, "\x01", NULL);
  bind_text (stmt, 1, param);
  bind_text (stmt, 2, value);
  bind_text (stmt, 3, prefix ? upper_bound (&w, value) : exact_upper);
  sqlite3_bind_int64 (stmt, 4, DENSE_PREFIX_ROWS);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    n = sqlite3_column_int64 (stmt, 0);
  done_stmt (stmt);

  return n;
}

/* Whether a page of QUERY is found faster by testing rows in order than from the rids of its
 * text condition (see DENSE_PREFIX_ROWS): a name, pinyin or q search of one or two characters
 * that many rows start with, in the default order. */
static gboolean
is_dense_text_search (WzSqliteStore        *self,
                      const WzSearchQuery  *query)
{
  if (query->sort->len > 0)
    return FALSE;

  for (guint i = 0; i < query->params->len; i++)
    {
      WzSearchParam *param = g_ptr_array_index (query->params, i);
      const char *value = g_ptr_array_index (param->values, 0);
      glong n_chars = g_utf8_strlen (value, -1);
      gint64 rows = 0;

      if (param->values->len != 1 || n_chars > 2)
        continue;

      if (param->kind == WZ_SEARCH_PARAM_STRING && param->match == WZ_SEARCH_MATCH_PREFIX)
        rows = count_token_rows (self, param->token_param, value, TRUE);
      else if (param->kind == WZ_SEARCH_PARAM_STRING && is_han_only (value))
        rows = count_token_rows (self, "name:gram", value, FALSE);
      else if (param->kind == WZ_SEARCH_PARAM_TEXT)
        rows = is_han_only (value) ? count_token_rows (self, "name:gram", value, FALSE)
                                   : count_token_rows (self, "name", value, TRUE);

      if (rows >= DENSE_PREFIX_ROWS)
        return TRUE;
    }

  return FALSE;
}

/* A date range this wide (today's visits of a busy clinic: most of the Encounters) is cheaper to
 * test on each row of the type in rid order, stopping when the page is full, than to read all
 * of it from the date index and sort it for every page. */
#define DENSE_DATE_ROWS 4000

static gboolean
is_dense_date_search (WzSqliteStore        *self,
                      const WzSearchQuery  *query)
{
  g_autoptr(GPtrArray) owned = g_ptr_array_new_with_free_func (g_free);
  Where w = { NULL, NULL, owned, FALSE, 0, FALSE };
  /* Dates are normalised ASCII: "" is below and DEL above every one of them. */
  const char *low = "", *high = "\x7f";
  gboolean any = FALSE;
  sqlite3_stmt *stmt;
  gint64 n = 0;

  if (query->sort->len > 0)
    return FALSE;

  for (guint i = 0; i < query->params->len; i++)
    {
      WzSearchParam *param = g_ptr_array_index (query->params, i);
      const char *value = g_ptr_array_index (param->values, 0);
      const char *from = "", *to = "\x7f";

      if (param->kind != WZ_SEARCH_PARAM_DATE)
        continue;
      switch (param->prefix)
        {
        case WZ_SEARCH_EQ:
          from = value, to = upper_bound (&w, value);
          break;
        case WZ_SEARCH_GT:
          from = upper_bound (&w, value);
          break;
        case WZ_SEARCH_GE:
          from = value;
          break;
        case WZ_SEARCH_LT:
          to = value;
          break;
        case WZ_SEARCH_LE:
        default:
          to = upper_bound (&w, value);
          break;
        }
      if (strcmp (from, low) > 0)
        low = from;
      if (strcmp (to, high) < 0)
        high = to;
      any = TRUE;
    }
  if (!any || strcmp (low, high) >= 0)
    return FALSE;

  if ((stmt = get_stmt (self, STMT_COUNT_DATE_ROWS, NULL)) == NULL)
    return FALSE;
  bind_text (stmt, 1, query->type);
  bind_text (stmt, 2, low);
  bind_text (stmt, 3, high);
  sqlite3_bind_int64 (stmt, 4, DENSE_DATE_ROWS);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    n = sqlite3_column_int64 (stmt, 0);
  done_stmt (stmt);

  return n >= DENSE_DATE_ROWS;
}

/* The WHERE clause of QUERY into W; with CHECK_ROWS, conditions are tested on each row. */
static gboolean
build_where (WzSqliteStore        *self,
             const WzSearchQuery  *query,
             Where                *w,
             gboolean              check_rows,
             gboolean              in_rid_order,
             GError              **error)
{
  g_string_assign (w->where, "r.type = ?");
  g_array_set_size (w->binds, 0);
  w->check_rows = check_rows;
  w->in_rid_order = in_rid_order;
  add_text (w, query->type);
  if (!add_visibility (self, w, query, error))
    return FALSE;
  for (guint i = 0; i < query->params->len; i++)
    add_param (w, g_ptr_array_index (query->params, i));

  return TRUE;
}

static WzStoreResult *
search_page (WzSqliteStore        *self,
             const WzSearchQuery  *query,
             guint                 count,
             guint                 offset,
             GError              **error)
{
  g_autoptr(GString) where = g_string_new (NULL);
  g_autoptr(GArray) binds = g_array_new (FALSE, FALSE, sizeof (Bind));
  g_autoptr(GPtrArray) owned = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GString) sql = NULL;
  g_autoptr(WzStoreResult) result = g_new0 (WzStoreResult, 1);
  g_autoptr(GPtrArray) encounters = g_ptr_array_new_with_free_func (g_free);
  Where w = { where, binds, owned, FALSE, 0, FALSE };
  gboolean dense = count > 0 && is_dense_text_search (self, query);
  gboolean dense_dates = count > 0 && is_dense_date_search (self, query);
  sqlite3_stmt *stmt;
  int rc;

  result->resources = g_ptr_array_new_with_free_func ((GDestroyNotify) wz_stored_resource_free);

  if (!build_where (self, query, &w, dense, dense_dates, error))
    return NULL;

  sql = g_string_new (NULL);
  if (count > 0)
    {
      guint n_where_binds = binds->len;
      /* In the default order a next page starts after the last rid seen: every page costs the
       * same, however deep, where an offset would step over all the rows before it. */
      gboolean by_rid = query->sort->len == 0;
      gint64 last_rid = 0;

      g_string_printf (sql, "SELECT r.version_id, r.last_updated, r.patient, r.status, r.json,"
                            " r.id, r.encounter, r.rid FROM resources r WHERE %s%s ORDER BY ",
                       where->str, by_rid && query->after > 0 ? " AND r.rid > ?" : "");
      if (by_rid && query->after > 0)
        add_int (&w, query->after);
      for (guint i = 0; i < query->sort->len; i++)
        {
          WzSearchSort *sort = &g_array_index (query->sort, WzSearchSort, i);

          /* Encounters without a priority come after those with one, either way round. */
          if (sort->key == WZ_SEARCH_SORT_PRIORITY)
            g_string_append (sql, "r.priority IS NULL, ");
          g_string_append_printf (sql, "%s%s, ", sort_column (sort->key),
                                  sort->descending ? " DESC" : "");
        }
      g_string_append (sql, "r.rid LIMIT ? OFFSET ?");
      /* One more than the page: whether a next page exists, without counting. */
      add_int (&w, (gint64) count + 1);
      add_int (&w, by_rid && query->after > 0 ? 0 : offset);

      if ((stmt = get_search_stmt (self, sql->str, error)) == NULL)
        return NULL;
      bind_all (stmt, binds);
      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        {
          if (result->resources->len == count)
            {
              result->more = TRUE;
              rc = SQLITE_DONE;
              break;
            }
          g_ptr_array_add (result->resources,
                           row_to_resource (stmt, query->type,
                                            (const char *) sqlite3_column_text (stmt, 5)));
          if (query->include & WZ_SEARCH_INCLUDE_ENCOUNTER)
            g_ptr_array_add (encounters, column_strdup (stmt, 6));
          last_rid = sqlite3_column_int64 (stmt, 7);
        }
      done_stmt (stmt);
      if (rc != SQLITE_DONE)
        {
          set_sqlite_error (self, error, "searching");
          return NULL;
        }
      if (result->more && by_rid)
        result->next_after = last_rid;
      /* The count has the WHERE clause's parameters only. */
      g_array_set_size (binds, n_where_binds);
    }

  /* A page with nothing after it tells the total (most searches for one patient end here),
   * unless it is empty past the start; otherwise it is counted only when asked for. */
  if (count > 0 && !result->more && (offset == 0 || result->resources->len > 0))
    result->total = offset + result->resources->len;
  else if (count > 0 && query->total != WZ_SEARCH_TOTAL_ACCURATE)
    result->total = -1;
  else
    {
      if ((dense || dense_dates) && !build_where (self, query, &w, FALSE, FALSE, error))
        return NULL;
      g_string_printf (sql, "SELECT count(*) FROM resources r WHERE %s", where->str);
      if ((stmt = get_search_stmt (self, sql->str, error)) == NULL)
        return NULL;
      bind_all (stmt, binds);
      rc = sqlite3_step (stmt);
      if (rc == SQLITE_ROW)
        result->total = sqlite3_column_int64 (stmt, 0);
      done_stmt (stmt);
      if (rc != SQLITE_ROW)
        {
          set_sqlite_error (self, error, "counting search results");
          return NULL;
        }
    }

  if (query->include != 0 && !add_included (self, query, result, encounters, error))
    return NULL;

  return g_steal_pointer (&result);
}

static WzStoreResult *
wz_sqlite_store_search (WzStore              *store,
                        const WzSearchQuery  *query,
                        GError              **error)
{
  /* The count and the page must come from the same snapshot. */
  begin_read (WZ_SQLITE_STORE (store));
  return search_page (WZ_SQLITE_STORE (store), query, query->count, query->offset, error);
}

static WzStoreResult *
wz_sqlite_store_history (WzStore     *store,
                         const char  *type,
                         const char  *id,
                         guint        count,
                         guint        offset,
                         GError     **error)
{
  WzSqliteStore *self = WZ_SQLITE_STORE (store);
  g_autoptr(WzStoredResource) current = NULL;
  g_autoptr(WzStoreResult) result = NULL;
  sqlite3_stmt *stmt;
  int rc;

  current = wz_sqlite_store_read (store, type, id, error);
  if (current == NULL)
    return NULL;

  result = g_new0 (WzStoreResult, 1);
  result->resources = g_ptr_array_new_with_free_func ((GDestroyNotify) wz_stored_resource_free);
  /* Every version is kept, so the current version number is the number of versions. */
  result->total = current->version_id;

  if ((stmt = get_stmt (self, STMT_HISTORY, error)) == NULL)
    return NULL;
  bind_text (stmt, 1, type);
  bind_text (stmt, 2, id);
  sqlite3_bind_int64 (stmt, 3, count);
  sqlite3_bind_int64 (stmt, 4, offset);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (result->resources, row_to_resource (stmt, type, id));
  done_stmt (stmt);
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (self, error, "reading the history");
      return NULL;
    }

  return g_steal_pointer (&result);
}

/* Drops the remembered care-team answers if another connection committed since they were
 * given. Within one shared read transaction nobody else's commit can show, so it looks once. */
static gboolean
pairs_current (WzSqliteStore  *self,
               GError        **error)
{
  sqlite3_stmt *stmt;
  gint64 version = -1;

  if (self->pairs_checked)
    return TRUE;

  if ((stmt = get_stmt (self, STMT_DATA_VERSION, error)) == NULL)
    return FALSE;
  if (sqlite3_step (stmt) == SQLITE_ROW)
    version = sqlite3_column_int64 (stmt, 0);
  done_stmt (stmt);
  if (version != self->pairs_data_version || version == -1)
    {
      g_hash_table_remove_all (self->pairs);
      self->pairs_data_version = version;
    }
  self->pairs_checked = self->in_read;

  return TRUE;
}

#define MAX_CACHED_PAIRS 16384

static gboolean
wz_sqlite_store_is_on_care_team (WzStore     *store,
                                 const char  *patient_ref,
                                 const char  *practitioner_ref,
                                 GError     **error)
{
  WzSqliteStore *self = WZ_SQLITE_STORE (store);
  sqlite3_stmt *stmt = get_stmt (self, STMT_IS_ON_CARE_TEAM, error);
  char key[256];
  gboolean cacheable;
  gpointer answer;
  int rc;

  if (stmt == NULL)
    return FALSE;

  begin_read (self);
  if (!pairs_current (self, error))
    return FALSE;

  cacheable = practitioner_ref != NULL && patient_ref != NULL;
  if (cacheable)
    {
      gsize a = strlen (practitioner_ref);
      gsize b = strlen (patient_ref);

      /* "PRACTITIONER\x1fPATIENT"; references are short, longer ones are simply asked. */
      cacheable = a + b + 2 <= sizeof key;
      if (cacheable)
        {
          memcpy (key, practitioner_ref, a);
          key[a] = '\x1f';
          memcpy (key + a + 1, patient_ref, b + 1);
        }
    }
  if (cacheable && (answer = g_hash_table_lookup (self->pairs, key)) != NULL)
    return GPOINTER_TO_INT (answer) == 1;

  bind_text (stmt, 1, practitioner_ref);
  bind_text (stmt, 2, patient_ref);
  rc = sqlite3_step (stmt);
  done_stmt (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return set_sqlite_error (self, error, "reading the care team");

  if (cacheable)
    {
      if (g_hash_table_size (self->pairs) >= MAX_CACHED_PAIRS)
        g_hash_table_remove_all (self->pairs);
      g_hash_table_insert (self->pairs, g_strdup (key), GINT_TO_POINTER (rc == SQLITE_ROW ? 1 : 2));
    }

  return rc == SQLITE_ROW;
}

static gboolean
wz_sqlite_store_begin (WzStore  *store,
                       GError  **error)
{
  WzSqliteStore *self = WZ_SQLITE_STORE (store);

  if (self->batch)
    {
      g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INTERNAL,
                           "A store transaction is already open; they do not nest");
      return FALSE;
    }
  if (self->db == NULL)
    return set_sqlite_error (self, error, "starting a transaction");

  if (!begin (self, error))
    return FALSE;
  self->batch = TRUE;
  self->batch_failed = FALSE;
  return TRUE;
}

/* Ends the open transaction: commits it (COMMIT_WRITES, and no write in it failed) or rolls it
 * back. TRUE only when its writes are stored. */
static gboolean
finish_batch (WzSqliteStore  *self,
              gboolean        commit_writes,
              GError        **error)
{
  self->batch = FALSE;
  if (commit_writes && self->batch_failed)
    {
      g_set_error_literal (error, WZ_ERROR, WZ_ERROR_UNAVAILABLE,
                           "A write in the transaction failed, so none of it was stored");
      commit_writes = FALSE;
    }

  if (commit_writes && commit (self, error))
    return TRUE;

  rollback (self);
  return FALSE;
}

static gboolean
wz_sqlite_store_commit (WzStore  *store,
                        GError  **error)
{
  WzSqliteStore *self = WZ_SQLITE_STORE (store);

  if (!self->batch)
    {
      g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INTERNAL, "No store transaction is open");
      return FALSE;
    }

  return finish_batch (self, TRUE, error);
}

static void
wz_sqlite_store_rollback (WzStore *store)
{
  WzSqliteStore *self = WZ_SQLITE_STORE (store);

  if (self->batch)
    finish_batch (self, FALSE, NULL);
}

static void
wz_sqlite_store_iface_init (WzStoreInterface *iface)
{
  iface->read = wz_sqlite_store_read;
  iface->vread = wz_sqlite_store_vread;
  iface->create = wz_sqlite_store_create;
  iface->update = wz_sqlite_store_update;
  iface->search = wz_sqlite_store_search;
  iface->history = wz_sqlite_store_history;
  iface->is_on_care_team = wz_sqlite_store_is_on_care_team;
  iface->begin = wz_sqlite_store_begin;
  iface->commit = wz_sqlite_store_commit;
  iface->rollback = wz_sqlite_store_rollback;
}

void
wz_sqlite_store_close (WzSqliteStore *self)
{
  g_return_if_fail (WZ_IS_SQLITE_STORE (self));

  end_read (self);
  if (self->checkpoint_source != NULL)
    {
      g_source_destroy (self->checkpoint_source);
      g_clear_pointer (&self->checkpoint_source, g_source_unref);
    }
  g_hash_table_remove_all (self->search_stmts);
  g_hash_table_remove_all (self->teams);
  g_hash_table_remove_all (self->pairs);
  for (guint i = 0; i < N_STMTS; i++)
    g_clear_pointer (&self->stmts[i], sqlite3_finalize);
  if (self->db != NULL)
    {
      if (sqlite3_close (self->db) != SQLITE_OK)
        g_warning ("Closing fhir.db: %s", sqlite3_errmsg (self->db));
      self->db = NULL;
    }
}

static void
wz_sqlite_store_finalize (GObject *object)
{
  WzSqliteStore *self = WZ_SQLITE_STORE (object);

  wz_sqlite_store_close (self);
  g_hash_table_unref (self->search_stmts);
  g_hash_table_unref (self->teams);
  g_hash_table_unref (self->pairs);
  g_hash_table_unref (self->stamps);
  g_main_context_unref (self->context);

  G_OBJECT_CLASS (wz_sqlite_store_parent_class)->finalize (object);
}

static void
wz_sqlite_store_class_init (WzSqliteStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = wz_sqlite_store_finalize;
}

static void
wz_sqlite_store_init (WzSqliteStore *self)
{
  self->search_stmts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, finalize_stmt);
  self->teams = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify) g_hash_table_unref);
  self->teams_data_version = -1;
  self->pairs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->pairs_data_version = -1;
  self->stamps = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->context = g_main_context_ref_thread_default ();
}

static gboolean
exec (WzSqliteStore  *self,
      const char     *sql,
      GError        **error)
{
  char *message = NULL;

  if (sqlite3_exec (self->db, sql, NULL, NULL, &message) != SQLITE_OK)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_UNAVAILABLE, "Storage error: %s", message);
      sqlite3_free (message);
      return FALSE;
    }

  return TRUE;
}

/* Recomputes the index columns, tokens and care team of every stored resource, for a migration
 * that changed what is indexed. Runs inside the migration's transaction. */
static gboolean
reindex_all (WzSqliteStore  *self,
             GError        **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  gint64 last = 0;
  guint n = 0;

  for (;;)
    {
      sqlite3_stmt *stmt = get_stmt (self, STMT_REINDEX_NEXT, error);
      g_autoptr(WzFhirIndex) index = NULL;
      g_autofree char *id = NULL;
      g_autofree char *json = NULL;
      JsonNode *root;
      const char *type;
      int rc;

      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, last);
      rc = sqlite3_step (stmt);
      if (rc == SQLITE_ROW)
        {
          last = sqlite3_column_int64 (stmt, 0);
          id = column_strdup (stmt, 1);
          json = column_strdup (stmt, 2);
        }
      done_stmt (stmt);
      if (rc == SQLITE_DONE)
        break;
      if (rc != SQLITE_ROW)
        return set_sqlite_error (self, error, "reading resources to reindex");

      /* Stored JSON passed validation when it was written; a rule added since must not make
       * old data unreadable, so it is only parsed here. */
      if (!json_parser_load_from_data (parser, json, -1, error))
        {
          g_prefix_error (error, "Reindexing resource %" G_GINT64_FORMAT ": ", last);
          return FALSE;
        }
      root = json_parser_get_root (parser);
      if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
        continue;
      type = json_object_get_string_member_with_default (json_node_get_object (root),
                                                         "resourceType", "");
      index = wz_fhir_index_new (json_node_get_object (root), id);

      if ((stmt = get_stmt (self, STMT_REINDEX_COLUMNS, error)) == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, last);
      bind_text (stmt, 2, index->status);
      bind_text (stmt, 3, index->patient);
      bind_text (stmt, 4, index->encounter);
      bind_text (stmt, 5, index->date);
      bind_text (stmt, 6, index->family);
      bind_priority (stmt, 7, index);
      if (!step_done (self, stmt, "reindexing", error) ||
          !write_index (self, last, type, index, TRUE, error))
        return FALSE;
      n++;
    }

  if (n > 0)
    g_message ("fhir.db: reindexed %u resources", n);
  return TRUE;
}

/* Reindexing computes the index of the newest schema, so of several pending migrations that
 * change the index only the last one does it. */
static gboolean
reindex_at (guint version)
{
  if (!migrations[version - 1].reindex)
    return FALSE;

  for (guint v = version + 1; v <= G_N_ELEMENTS (migrations); v++)
    if (migrations[v - 1].reindex)
      return FALSE;

  return TRUE;
}

static gboolean
migrate (WzSqliteStore  *self,
         GError        **error)
{
  sqlite3_stmt *stmt = NULL;
  gboolean analyze = FALSE;

  if (!exec (self, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                   " version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)", error))
    return FALSE;

  if (sqlite3_prepare_v2 (self->db, "SELECT coalesce(max(version), 0) FROM schema_migrations",
                          -1, &stmt, NULL) != SQLITE_OK ||
      sqlite3_step (stmt) != SQLITE_ROW)
    {
      sqlite3_finalize (stmt);
      return set_sqlite_error (self, error, "reading the schema version");
    }
  self->schema_version = sqlite3_column_int (stmt, 0);
  sqlite3_finalize (stmt);

  if (self->schema_version > (gint) G_N_ELEMENTS (migrations))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_UNAVAILABLE,
                   "fhir.db has schema version %d, newer than this server (%u); upgrade "
                   "wenzhen-server", self->schema_version, (guint) G_N_ELEMENTS (migrations));
      return FALSE;
    }

  for (guint v = self->schema_version + 1; v <= G_N_ELEMENTS (migrations); v++)
    {
      g_autofree char *now = wz_time_format_instant (wz_time_now_us ());
      g_autofree char *record = g_strdup_printf ("INSERT INTO schema_migrations VALUES (%u, '%s')",
                                                 v, now);

      if (!exec (self, "BEGIN IMMEDIATE", error))
        return FALSE;
      if (!exec (self, migrations[v - 1].sql, error) ||
          (reindex_at (v) && !reindex_all (self, error)) ||
          !exec (self, record, error) || !exec (self, "COMMIT", error))
        {
          exec (self, "ROLLBACK", NULL);
          g_prefix_error (error, "Migrating fhir.db to schema version %u: ", v);
          return FALSE;
        }
      g_debug ("fhir.db migrated to schema version %u", v);
      self->schema_version = v;
      analyze = TRUE;
    }

  /* A new index without statistics looks perfect to the planner (it guesses ten rows per key),
   * which can turn a page read in index order into a sort of the whole type: statistics are
   * refreshed after every migration. */
  if (analyze && !exec (self, "PRAGMA analysis_limit = 2000; ANALYZE", error))
    return FALSE;

  return TRUE;
}

WzSqliteStore *
wz_sqlite_store_open (const char  *data_dir,
                      GError     **error)
{
  g_autoptr(WzSqliteStore) self = g_object_new (WZ_TYPE_SQLITE_STORE, NULL);
  g_autofree char *path = g_build_filename (data_dir, "fhir.db", NULL);
  if ((self->db = wz_sqlite_file_open_private (data_dir, path, error)) == NULL)
    return NULL;
  sqlite3_create_function_v2 (self->db, "wz_on_care_team", 2, SQLITE_UTF8 | SQLITE_DIRECTONLY,
                              self, on_care_team_function, NULL, NULL, NULL);

  /* WAL lets reads go on during a write; synchronous=FULL makes a 201 mean "on disk". Searches
   * walk the token and full-text indexes of 100,000 patients: mapping the file instead of
   * copying each page in saves a system call per page, and a larger cache keeps the hot index
   * pages. */
  if (!exec (self, "PRAGMA journal_mode = WAL", error) ||
      !exec (self, "PRAGMA mmap_size = 1073741824", error) ||
      !exec (self, "PRAGMA cache_size = -65536", error) ||
      !exec (self, "PRAGMA synchronous = FULL", error) ||
      !exec (self, "PRAGMA foreign_keys = ON", error) ||
      !migrate (self, error))
    {
      g_prefix_error (error, "%s: ", path);
      return NULL;
    }
  /* Fresh planner statistics (sampled: milliseconds for a million rows): without them SQLite
   * walks a type's rows in rid order for a search by a list of patients or by status and date,
   * instead of the index that holds just those rows. A store busy elsewhere keeps its old ones. */
  if (!exec (self, "PRAGMA analysis_limit = 1000; ANALYZE", NULL))
    g_debug ("fhir.db: planner statistics not refreshed");
  sqlite3_wal_hook (self->db, on_wal_commit, self);

  return g_steal_pointer (&self);
}

gint
wz_sqlite_store_schema_version (WzSqliteStore *self)
{
  g_return_val_if_fail (WZ_IS_SQLITE_STORE (self), -1);

  return self->schema_version;
}

gboolean
wz_sqlite_store_begin_batch (WzSqliteStore  *self,
                             GError        **error)
{
  g_return_val_if_fail (WZ_IS_SQLITE_STORE (self), FALSE);
  g_return_val_if_fail (!self->batch, FALSE);

  if (self->db == NULL)
    return set_sqlite_error (self, error, "starting a batch");

  end_read (self);
  /* A bulk load touches every page of the token and text indexes; keeping them in memory until
   * the commit is what makes it fast. */
  if (!exec (self, "PRAGMA cache_size = -262144", error) || !begin (self, error))
    return FALSE;

  self->batch = TRUE;
  self->batch_failed = FALSE;
  return TRUE;
}

gboolean
wz_sqlite_store_end_batch (WzSqliteStore  *self,
                           gboolean        commit_writes,
                           GError        **error)
{
  gboolean ok;

  g_return_val_if_fail (WZ_IS_SQLITE_STORE (self), FALSE);
  g_return_val_if_fail (self->batch, FALSE);

  ok = finish_batch (self, commit_writes, error);

  exec (self, "PRAGMA cache_size = -65536", NULL);
  /* Fresh statistics let the planner choose between the token, text and care-team indexes. */
  if (ok)
    ok = exec (self, "PRAGMA analysis_limit = 2000; ANALYZE", error);

  return ok;
}

gint
wz_sqlite_store_latest_schema_version (void)
{
  return G_N_ELEMENTS (migrations);
}

gint64
wz_sqlite_store_count (WzSqliteStore  *self,
                       GError        **error)
{
  sqlite3_stmt *stmt;
  gint64 n = -1;

  g_return_val_if_fail (WZ_IS_SQLITE_STORE (self), -1);

  if ((stmt = get_stmt (self, STMT_COUNT_ALL, error)) == NULL)
    return -1;
  if (sqlite3_step (stmt) == SQLITE_ROW)
    n = sqlite3_column_int64 (stmt, 0);
  else
    set_sqlite_error (self, error, "counting resources");
  done_stmt (stmt);

  return n;
}
