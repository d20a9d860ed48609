/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-chat-store"

#include "config.h"

#include "wz-chat-store.h"

#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

#include "wz-error.h"
#include "wz-id.h"
#include "wz-sqlite-file.h"
#include "wz-time.h"

/* Applied in order; the number applied is kept in user_version. Never edit a released one. */
static const char *const migrations[] = {
  "CREATE TABLE binaries ("
  "  id TEXT PRIMARY KEY,"
  "  encounter TEXT NOT NULL,"
  "  content_type TEXT NOT NULL,"
  "  sha256 TEXT NOT NULL,"
  "  size INTEGER NOT NULL,"
  "  created INTEGER NOT NULL,"
  "  data BLOB NOT NULL,"
  "  UNIQUE (encounter, sha256));"
  "CREATE TABLE receipts ("
  "  encounter TEXT NOT NULL,"
  "  reader TEXT NOT NULL,"
  "  delivered INTEGER NOT NULL DEFAULT 0,"
  "  read INTEGER NOT NULL DEFAULT 0,"
  "  PRIMARY KEY (encounter, reader)) WITHOUT ROWID;"
  /* Chat records are kept for the retention period: attachments are never removed. */
  "CREATE TRIGGER binaries_no_delete BEFORE DELETE ON binaries"
  "  BEGIN SELECT RAISE (ABORT, 'attachments are kept'); END;"
  "CREATE TRIGGER binaries_no_update BEFORE UPDATE ON binaries"
  "  BEGIN SELECT RAISE (ABORT, 'attachments are kept'); END;",
};

typedef enum
{
  STMT_FIND_BINARY,
  STMT_GET_BINARY,
  STMT_GET_BINARY_DATA,
  STMT_INSERT_BINARY,
  STMT_RECEIPT,
  STMT_RECEIPTS,
  N_STMTS
} Stmt;

static const char *const stmt_sql[N_STMTS] = {
  [STMT_FIND_BINARY] = "SELECT id, encounter, content_type, sha256, size, created, NULL"
                       " FROM binaries WHERE encounter = ?1 AND sha256 = ?2",
  [STMT_GET_BINARY] = "SELECT id, encounter, content_type, sha256, size, created, NULL"
                      " FROM binaries WHERE id = ?1",
  [STMT_GET_BINARY_DATA] = "SELECT id, encounter, content_type, sha256, size, created, data"
                           " FROM binaries WHERE id = ?1",
  [STMT_INSERT_BINARY] = "INSERT INTO binaries (id, encounter, content_type, sha256, size, created,"
                         " data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
  /* "read" also raises "delivered": what was shown was received. Unchanged rows are not
   * counted as changes, so the caller learns whether anything advanced. */
  [STMT_RECEIPT] = "INSERT INTO receipts (encounter, reader, delivered, read)"
                   " VALUES (?1, ?2, ?3, ?4)"
                   " ON CONFLICT (encounter, reader) DO UPDATE SET"
                   "  delivered = max (delivered, excluded.delivered),"
                   "  read = max (read, excluded.read)"
                   " WHERE excluded.delivered > delivered OR excluded.read > read",
  [STMT_RECEIPTS] = "SELECT reader, delivered, read FROM receipts WHERE encounter = ?1"
                    " ORDER BY reader",
};

struct _WzChatStore
{
  GObject       parent_instance;

  sqlite3      *db;
  sqlite3_stmt *stmts[N_STMTS];
};

G_DEFINE_FINAL_TYPE (WzChatStore, wz_chat_store, G_TYPE_OBJECT)

void
wz_chat_binary_free (WzChatBinary *binary)
{
  if (binary == NULL)
    return;

  g_free (binary->id);
  g_free (binary->encounter);
  g_free (binary->content_type);
  g_free (binary->sha256);
  g_clear_pointer (&binary->data, g_bytes_unref);
  g_free (binary);
}

void
wz_chat_receipt_free (WzChatReceipt *receipt)
{
  if (receipt == NULL)
    return;

  g_free (receipt->reader);
  g_free (receipt);
}

static gboolean
fail (WzChatStore  *self,
      GError      **error,
      const char   *what)
{
  g_set_error (error, WZ_ERROR, WZ_ERROR_UNAVAILABLE, "chat.db: %s failed: %s", what,
               self->db ? sqlite3_errmsg (self->db) : "the store is closed");
  return FALSE;
}

static sqlite3_stmt *
get_stmt (WzChatStore  *self,
          Stmt          which,
          GError      **error)
{
  if (self->db == NULL)
    {
      fail (self, error, "opening a statement");
      return NULL;
    }
  if (self->stmts[which] == NULL &&
      sqlite3_prepare_v3 (self->db, stmt_sql[which], -1, SQLITE_PREPARE_PERSISTENT,
                          &self->stmts[which], NULL) != SQLITE_OK)
    {
      fail (self, error, "preparing a statement");
      return NULL;
    }

  return self->stmts[which];
}

static void
done_stmt (sqlite3_stmt *stmt)
{
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
}

static gboolean
exec (WzChatStore  *self,
      const char   *sql,
      GError      **error)
{
  char *message = NULL;

  if (sqlite3_exec (self->db, sql, NULL, NULL, &message) != SQLITE_OK)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_UNAVAILABLE, "chat.db: %s", message);
      sqlite3_free (message);
      return FALSE;
    }

  return TRUE;
}

static gboolean
migrate (WzChatStore  *self,
         GError      **error)
{
  sqlite3_stmt *stmt = NULL;
  gint version = 0;

  if (sqlite3_prepare_v2 (self->db, "PRAGMA user_version", -1, &stmt, NULL) != SQLITE_OK ||
      sqlite3_step (stmt) != SQLITE_ROW)
    {
      sqlite3_finalize (stmt);
      return fail (self, error, "reading the schema version");
    }
  version = sqlite3_column_int (stmt, 0);
  sqlite3_finalize (stmt);

  for (guint i = version; i < G_N_ELEMENTS (migrations); i++)
    {
      g_autofree char *set_version = g_strdup_printf ("PRAGMA user_version = %u", i + 1);

      if (!exec (self, "BEGIN IMMEDIATE", error))
        return FALSE;
      if (!exec (self, migrations[i], error) || !exec (self, set_version, error) ||
          !exec (self, "COMMIT", error))
        {
          exec (self, "ROLLBACK", NULL);
          return FALSE;
        }
    }

  return TRUE;
}

WzChatStore *
wz_chat_store_open (const char  *data_dir,
                    GError     **error)
{
  g_autoptr(WzChatStore) self = g_object_new (WZ_TYPE_CHAT_STORE, NULL);
  g_autofree char *path = g_build_filename (data_dir, "chat.db", NULL);
  if ((self->db = wz_sqlite_file_open_private (data_dir, path, error)) == NULL)
    return NULL;

  /* A 201 for an attachment or a receipt means it is on disk, as for every clinical write. */
  if (!exec (self, "PRAGMA journal_mode = WAL", error) ||
      !exec (self, "PRAGMA synchronous = FULL", error) ||
      !migrate (self, error))
    {
      g_prefix_error (error, "%s: ", path);
      return NULL;
    }

  return g_steal_pointer (&self);
}

static WzChatBinary *
row_to_binary (sqlite3_stmt *stmt)
{
  WzChatBinary *binary = g_new0 (WzChatBinary, 1);

  binary->id = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  binary->encounter = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
  binary->content_type = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
  binary->sha256 = g_strdup ((const char *) sqlite3_column_text (stmt, 3));
  binary->size = sqlite3_column_int64 (stmt, 4);
  binary->created = sqlite3_column_int64 (stmt, 5);
  if (sqlite3_column_type (stmt, 6) == SQLITE_BLOB)
    binary->data = g_bytes_new (sqlite3_column_blob (stmt, 6), sqlite3_column_bytes (stmt, 6));

  return binary;
}

static WzChatBinary *
find_binary (WzChatStore  *self,
             Stmt          which,
             const char   *first,
             const char   *second,
             GError      **error)
{
  sqlite3_stmt *stmt = get_stmt (self, which, error);
  WzChatBinary *binary = NULL;
  int rc;

  if (stmt == NULL)
    return NULL;

  sqlite3_bind_text (stmt, 1, first, -1, SQLITE_TRANSIENT);
  if (second != NULL)
    sqlite3_bind_text (stmt, 2, second, -1, SQLITE_TRANSIENT);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    binary = row_to_binary (stmt);
  done_stmt (stmt);

  if (rc == SQLITE_ROW)
    return binary;
  if (rc == SQLITE_DONE)
    g_set_error (error, WZ_ERROR, WZ_ERROR_NOT_FOUND, "Binary/%s does not exist",
                 which == STMT_FIND_BINARY ? "?" : first);
  else
    fail (self, error, "reading an attachment");
  return NULL;
}

WzChatBinary *
wz_chat_store_add_binary (WzChatStore  *self,
                          const char   *encounter,
                          const char   *content_type,
                          GBytes       *data,
                          gboolean     *out_created,
                          GError      **error)
{
  g_autofree char *sha256 = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(WzChatBinary) existing = NULL;
  WzChatBinary *binary;
  sqlite3_stmt *stmt;
  gsize size;
  const void *bytes;

  g_return_val_if_fail (WZ_IS_CHAT_STORE (self), NULL);
  g_return_val_if_fail (encounter != NULL && content_type != NULL && data != NULL, NULL);

  bytes = g_bytes_get_data (data, &size);
  sha256 = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, data);

  /* One writer (this thread), so looking first and inserting after cannot race. */
  existing = find_binary (self, STMT_FIND_BINARY, encounter, sha256, &local_error);
  if (existing != NULL)
    {
      *out_created = FALSE;
      return g_steal_pointer (&existing);
    }
  if (!g_error_matches (local_error, WZ_ERROR, WZ_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  if ((stmt = get_stmt (self, STMT_INSERT_BINARY, error)) == NULL)
    return NULL;

  binary = g_new0 (WzChatBinary, 1);
  binary->id = wz_id_new ();
  binary->encounter = g_strdup (encounter);
  binary->content_type = g_strdup (content_type);
  binary->sha256 = g_steal_pointer (&sha256);
  binary->size = size;
  binary->created = wz_time_now_us ();

  sqlite3_bind_text (stmt, 1, binary->id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, binary->encounter, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, binary->content_type, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, binary->sha256, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 5, binary->size);
  sqlite3_bind_int64 (stmt, 6, binary->created);
  sqlite3_bind_blob64 (stmt, 7, size > 0 ? bytes : "", size, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      done_stmt (stmt);
      fail (self, error, "storing an attachment");
      wz_chat_binary_free (binary);
      return NULL;
    }
  done_stmt (stmt);

  *out_created = TRUE;
  return binary;
}

WzChatBinary *
wz_chat_store_get_binary (WzChatStore  *self,
                          const char   *id,
                          gboolean      with_data,
                          GError      **error)
{
  g_return_val_if_fail (WZ_IS_CHAT_STORE (self), NULL);
  g_return_val_if_fail (id != NULL, NULL);

  return find_binary (self, with_data ? STMT_GET_BINARY_DATA : STMT_GET_BINARY, id, NULL, error);
}

gboolean
wz_chat_store_record_receipt (WzChatStore  *self,
                              const char   *encounter,
                              const char   *reader,
                              const char   *state,
                              gint64        up_to,
                              gboolean     *out_advanced,
                              GError      **error)
{
  gboolean read;
  sqlite3_stmt *stmt;

  g_return_val_if_fail (WZ_IS_CHAT_STORE (self), FALSE);
  g_return_val_if_fail (encounter != NULL && reader != NULL && state != NULL, FALSE);

  if (strcmp (state, "read") == 0)
    read = TRUE;
  else if (strcmp (state, "delivered") == 0)
    read = FALSE;
  else
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                   "A receipt's state is \"delivered\" or \"read\", not “%s”", state);
      return FALSE;
    }

  if ((stmt = get_stmt (self, STMT_RECEIPT, error)) == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, encounter, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, reader, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 3, up_to);
  sqlite3_bind_int64 (stmt, 4, read ? up_to : 0);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      done_stmt (stmt);
      return fail (self, error, "storing a receipt");
    }
  done_stmt (stmt);

  if (out_advanced != NULL)
    *out_advanced = sqlite3_changes (self->db) > 0;
  return TRUE;
}

GPtrArray *
wz_chat_store_receipts (WzChatStore  *self,
                        const char   *encounter,
                        GError      **error)
{
  g_autoptr(GPtrArray) receipts = NULL;
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (WZ_IS_CHAT_STORE (self), NULL);

  if ((stmt = get_stmt (self, STMT_RECEIPTS, error)) == NULL)
    return NULL;

  receipts = g_ptr_array_new_with_free_func ((GDestroyNotify) wz_chat_receipt_free);
  sqlite3_bind_text (stmt, 1, encounter, -1, SQLITE_TRANSIENT);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      WzChatReceipt *receipt = g_new0 (WzChatReceipt, 1);

      receipt->reader = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      receipt->delivered = sqlite3_column_int64 (stmt, 1);
      receipt->read = sqlite3_column_int64 (stmt, 2);
      g_ptr_array_add (receipts, receipt);
    }
  done_stmt (stmt);

  if (rc != SQLITE_DONE)
    {
      fail (self, error, "reading receipts");
      return NULL;
    }

  return g_steal_pointer (&receipts);
}

void
wz_chat_store_close (WzChatStore *self)
{
  g_return_if_fail (WZ_IS_CHAT_STORE (self));

  for (guint i = 0; i < N_STMTS; i++)
    g_clear_pointer (&self->stmts[i], sqlite3_finalize);
  g_clear_pointer (&self->db, sqlite3_close);
}

static void
wz_chat_store_finalize (GObject *object)
{
  wz_chat_store_close (WZ_CHAT_STORE (object));

  G_OBJECT_CLASS (wz_chat_store_parent_class)->finalize (object);
}

static void
wz_chat_store_class_init (WzChatStoreClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = wz_chat_store_finalize;
}

static void
wz_chat_store_init (WzChatStore *self)
{
}
