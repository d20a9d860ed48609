/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-chat-outbox"

#include "config.h"

#include "wz-chat-outbox.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "wz-fhir-json.h"
#include "wz-realtime.h"
#include "wz-test-report.h"

typedef struct
{
  guint   index;         /* which contentAttachment of the payload */
  char   *content_type;
  char   *title;
  GBytes *data;
  char   *binary;        /* "Binary/ID" once uploaded */
} OutboxFile;

typedef struct
{
  gint64         seq;
  char          *uuid;
  char          *encounter;
  char          *resource;   /* the Communication as written, attachments without url */
  gboolean       failed;
  char          *error;
  GPtrArray     *files;      /* OutboxFile */
  WzChatMessage *message;
} OutboxEntry;

struct _WzChatOutbox
{
  GObject       parent_instance;

  WzApiClient  *client;
  GThreadPool  *pool;          /* one thread: the only one that touches DB */
  GMainContext *context;
  sqlite3      *db;            /* worker thread only */
  GCancellable *cancellable;   /* the requests of this opening */

  GQueue        entries;       /* OutboxEntry, by seq */
  gint64        next_seq;
  gboolean      open;
  gboolean      busy;          /* a message is on its way */
  gboolean      waiting;       /* the last attempt could not reach the server */
  guint         attempt;
  guint         retry_id;
};

G_DEFINE_FINAL_TYPE (WzChatOutbox, wz_chat_outbox, G_TYPE_OBJECT)

enum {
  SENT,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void send_next (WzChatOutbox *self);

static void
outbox_file_free (OutboxFile *file)
{
  g_free (file->content_type);
  g_free (file->title);
  g_clear_pointer (&file->data, g_bytes_unref);
  g_free (file->binary);
  g_free (file);
}

static void
outbox_entry_free (OutboxEntry *entry)
{
  g_free (entry->uuid);
  g_free (entry->encounter);
  g_free (entry->resource);
  g_free (entry->error);
  g_clear_pointer (&entry->files, g_ptr_array_unref);
  g_clear_object (&entry->message);
  g_free (entry);
}

/* ---------------------------------------------------------------------------------------- */
/* The worker thread */

typedef void (*DbFunc) (WzChatOutbox *self,
                        GTask        *task);

typedef struct
{
  GTask  *task;
  DbFunc  func;
} Job;

static gboolean
unref_task (gpointer data)
{
  g_object_unref (data);
  return G_SOURCE_REMOVE;
}

static void
run_job (gpointer data,
         gpointer user_data)
{
  Job *job = data;
  GSource *source;

  job->func (g_task_get_source_object (job->task), job->task);
  /* The last reference of the outbox must not go on this thread, whose pool it waits for: the
   * task is dropped by an idle of the main context (never run here, unlike
   * g_main_context_invoke when the context happens to be free). */
  source = g_idle_source_new ();
  g_source_set_callback (source, unref_task, job->task, NULL);
  g_source_attach (source, ((WzChatOutbox *) user_data)->context);
  g_source_unref (source);
  g_free (job);
}

static void
queue_job (WzChatOutbox *self,
           GTask        *task,
           DbFunc        func)
{
  Job *job = g_new0 (Job, 1);

  job->task = g_object_ref (task);
  job->func = func;
  g_thread_pool_push (self->pool, job, NULL);
}

static gboolean
db_error (WzChatOutbox  *self,
          int            rc,
          const char    *what,
          GError       **error)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s (%d)", what,
               self->db != NULL ? sqlite3_errmsg (self->db) : sqlite3_errstr (rc), rc);
  return FALSE;
}

static gboolean
db_exec (WzChatOutbox  *self,
         const char    *sql,
         GError       **error)
{
  int rc = sqlite3_exec (self->db, sql, NULL, NULL, NULL);

  return rc == SQLITE_OK || db_error (self, rc, sql, error);
}

static const char schema[] =
  "CREATE TABLE IF NOT EXISTS outbox ("
  "  seq INTEGER PRIMARY KEY,"
  "  uuid TEXT NOT NULL UNIQUE,"
  "  encounter TEXT NOT NULL,"
  "  resource TEXT NOT NULL,"
  "  failed INTEGER NOT NULL DEFAULT 0,"
  "  error TEXT);"
  "CREATE TABLE IF NOT EXISTS outbox_file ("
  "  uuid TEXT NOT NULL,"
  "  idx INTEGER NOT NULL,"
  "  content_type TEXT NOT NULL,"
  "  title TEXT,"
  "  data BLOB NOT NULL,"
  "  binary TEXT,"
  "  PRIMARY KEY (uuid, idx));";

static WzChatMessage *
message_for_entry (OutboxEntry *entry)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(GDateTime) sent = NULL;
  JsonObject *resource;
  JsonArray *payload;
  WzChatMessage *message;
  guint n;

  if (!json_parser_load_from_data (parser, entry->resource, -1, NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return NULL;

  resource = json_node_get_object (json_parser_get_root (parser));
  payload = wz_json_array (resource, "payload");
  n = payload != NULL ? json_array_get_length (payload) : 0;
  for (guint i = 0; i < n; i++)
    {
      const char *string = wz_json_string (wz_json_array_object (payload, i), "contentString");

      if (string != NULL)
        {
          if (text->len > 0)
            g_string_append_c (text, '\n');
          g_string_append (text, string);
        }
    }

  if (wz_json_string (resource, "sent") != NULL)
    sent = g_date_time_new_from_iso8601 (wz_json_string (resource, "sent"), NULL);
  if (sent == NULL)
    sent = g_date_time_new_now_local ();

  message = wz_chat_message_new_pending (entry->uuid, wz_json_reference (resource, "sender"),
                                         text->str, sent);
  for (guint i = 0; i < entry->files->len; i++)
    {
      OutboxFile *file = g_ptr_array_index (entry->files, i);

      wz_chat_message_add_attachment (message, file->content_type, file->title, file->data);
    }
  if (entry->failed)
    {
      wz_chat_message_set_state (message, WZ_CHAT_MESSAGE_FAILED);
      wz_chat_message_set_error (message, entry->error);
    }

  return message;
}

static GPtrArray *
read_files (WzChatOutbox  *self,
            const char    *uuid,
            GError       **error)
{
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func ((GDestroyNotify) outbox_file_free);
  sqlite3_stmt *stmt = NULL;
  int rc;

  rc = sqlite3_prepare_v2 (self->db,
                           "SELECT idx, content_type, title, data, binary FROM outbox_file "
                           "WHERE uuid = ?1 ORDER BY idx", -1, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      db_error (self, rc, "reading the outbox files", error);
      return NULL;
    }
  sqlite3_bind_text (stmt, 1, uuid, -1, SQLITE_TRANSIENT);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      OutboxFile *file = g_new0 (OutboxFile, 1);

      file->index = (guint) sqlite3_column_int (stmt, 0);
      file->content_type = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      file->title = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
      file->data = g_bytes_new (sqlite3_column_blob (stmt, 3), (gsize) sqlite3_column_bytes (stmt, 3));
      file->binary = g_strdup ((const char *) sqlite3_column_text (stmt, 4));
      g_ptr_array_add (files, file);
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      db_error (self, rc, "reading the outbox files", error);
      return NULL;
    }

  return g_steal_pointer (&files);
}

static void
db_open (WzChatOutbox *self,
         GTask        *task)
{
  const char *path = g_task_get_task_data (task);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func ((GDestroyNotify) outbox_entry_free);
  g_autoptr(GError) error = NULL;
  sqlite3_stmt *stmt = NULL;
  int fd;
  int rc;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (saved_errno), "%s: %s",
                               dir, g_strerror (saved_errno));
      return;
    }

  /* Messages are health data: the file (and SQLite's journal files, which take its mode) is
   * readable by this user only. */
  fd = g_open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      int saved_errno = errno;

      g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (saved_errno), "%s: %s",
                               path, g_strerror (saved_errno));
      return;
    }
  close (fd);

  rc = sqlite3_open_v2 (path, &self->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK)
    {
      db_error (self, rc, path, &error);
      g_clear_pointer (&self->db, sqlite3_close);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  sqlite3_busy_timeout (self->db, 5000);

  /* FULL: a message the doctor saw appear is on the disk, even after a power cut. */
  if (!db_exec (self, "PRAGMA journal_mode=WAL", &error)
      || !db_exec (self, "PRAGMA synchronous=FULL", &error)
      || !db_exec (self, schema, &error))
    {
      g_clear_pointer (&self->db, sqlite3_close);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  rc = sqlite3_prepare_v2 (self->db,
                           "SELECT seq, uuid, encounter, resource, failed, error FROM outbox "
                           "ORDER BY seq", -1, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      db_error (self, rc, "reading the outbox", &error);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      OutboxEntry *entry = g_new0 (OutboxEntry, 1);

      entry->seq = sqlite3_column_int64 (stmt, 0);
      entry->uuid = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      entry->encounter = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
      entry->resource = g_strdup ((const char *) sqlite3_column_text (stmt, 3));
      entry->failed = sqlite3_column_int (stmt, 4) != 0;
      entry->error = g_strdup ((const char *) sqlite3_column_text (stmt, 5));
      g_ptr_array_add (entries, entry);
    }
  sqlite3_finalize (stmt);

  for (guint i = 0; i < entries->len && error == NULL; i++)
    {
      OutboxEntry *entry = g_ptr_array_index (entries, i);

      entry->files = read_files (self, entry->uuid, &error);
      if (entry->files != NULL)
        entry->message = message_for_entry (entry);
      if (entry->files != NULL && entry->message == NULL)
        g_set_error (&error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                     "Outbox message %s cannot be read", entry->uuid);
    }
  if (error != NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  g_task_return_pointer (task, g_steal_pointer (&entries), (GDestroyNotify) g_ptr_array_unref);
}

/* Opens the write transaction of TASK; FALSE (TASK answered with the error) when it cannot. */
static gboolean
db_begin (WzChatOutbox *self,
          GTask        *task)
{
  g_autoptr(GError) error = NULL;

  if (self->db == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CLOSED, "The outbox is closed");
      return FALSE;
    }

  if (!db_exec (self, "BEGIN IMMEDIATE", &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return FALSE;
    }

  return TRUE;
}

/* Commits the transaction db_begin() opened if RC, the last statement's result, is SQLITE_OK;
 * otherwise, or when the commit fails, rolls it back and answers TASK with the error (WHAT the
 * statements were doing). TRUE once the writes are on disk. */
static gboolean
db_end (WzChatOutbox *self,
        GTask        *task,
        int           rc,
        const char   *what)
{
  g_autoptr(GError) error = NULL;

  if (rc != SQLITE_OK)
    db_error (self, rc, what, &error);
  if (error != NULL || !db_exec (self, "COMMIT", &error))
    {
      sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
      g_task_return_error (task, g_steal_pointer (&error));
      return FALSE;
    }

  return TRUE;
}

static void
db_insert (WzChatOutbox *self,
           GTask        *task)
{
  OutboxEntry *entry = g_task_get_task_data (task);
  sqlite3_stmt *stmt = NULL;
  gint64 started = g_get_monotonic_time ();
  int rc;

  if (!db_begin (self, task))
    return;

  rc = sqlite3_prepare_v2 (self->db,
                           "INSERT INTO outbox (seq, uuid, encounter, resource) VALUES (?1, ?2, ?3, ?4)",
                           -1, &stmt, NULL);
  if (rc == SQLITE_OK)
    {
      sqlite3_bind_int64 (stmt, 1, entry->seq);
      sqlite3_bind_text (stmt, 2, entry->uuid, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 3, entry->encounter, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 4, entry->resource, -1, SQLITE_STATIC);
      rc = sqlite3_step (stmt);
      sqlite3_finalize (stmt);
      stmt = NULL;
      if (rc == SQLITE_DONE)
        rc = SQLITE_OK;
    }

  for (guint i = 0; rc == SQLITE_OK && i < entry->files->len; i++)
    {
      OutboxFile *file = g_ptr_array_index (entry->files, i);
      gsize size;
      gconstpointer data = g_bytes_get_data (file->data, &size);

      rc = sqlite3_prepare_v2 (self->db,
                               "INSERT INTO outbox_file (uuid, idx, content_type, title, data) "
                               "VALUES (?1, ?2, ?3, ?4, ?5)", -1, &stmt, NULL);
      if (rc != SQLITE_OK)
        break;
      sqlite3_bind_text (stmt, 1, entry->uuid, -1, SQLITE_STATIC);
      sqlite3_bind_int (stmt, 2, (int) file->index);
      sqlite3_bind_text (stmt, 3, file->content_type, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 4, file->title, -1, SQLITE_STATIC);
      sqlite3_bind_blob64 (stmt, 5, data != NULL ? data : "", size, SQLITE_STATIC);
      rc = sqlite3_step (stmt);
      sqlite3_finalize (stmt);
      if (rc == SQLITE_DONE)
        rc = SQLITE_OK;
    }

  if (!db_end (self, task, rc, "writing to the outbox"))
    return;

  g_debug ("Outbox message %s written in %.2f ms", entry->uuid,
           (g_get_monotonic_time () - started) / 1000.0);
  g_task_return_int (task, g_get_monotonic_time () - started);
}

/* An update of one row: task data is a NULL-terminated array: SQL, then text parameters. */
static void
db_update (WzChatOutbox *self,
           GTask        *task)
{
  char **params = g_task_get_task_data (task);
  sqlite3_stmt *stmt = NULL;
  int rc;

  /* Statements separated by “;” run in one transaction, each with the same parameters. */
  if (!db_begin (self, task))
    return;

  rc = SQLITE_OK;
  for (const char *sql = params[0]; sql != NULL && *sql != '\0';)
    {
      const char *tail = NULL;

      rc = sqlite3_prepare_v2 (self->db, sql, -1, &stmt, &tail);
      if (rc != SQLITE_OK || stmt == NULL)
        break;
      for (int i = 1; params[i] != NULL; i++)
        if (i <= sqlite3_bind_parameter_count (stmt))
          sqlite3_bind_text (stmt, i, params[i], -1, SQLITE_STATIC);
      rc = sqlite3_step (stmt);
      sqlite3_finalize (stmt);
      stmt = NULL;
      if (rc != SQLITE_DONE)
        break;
      rc = SQLITE_OK;
      sql = tail;
      while (sql != NULL && g_ascii_isspace (*sql))
        sql++;
    }

  if (!db_end (self, task, rc, "updating the outbox"))
    return;

  g_task_return_boolean (task, TRUE);
}

static void
db_close (WzChatOutbox *self,
          GTask        *task)
{
  g_clear_pointer (&self->db, sqlite3_close);
  g_task_return_boolean (task, TRUE);
}

/* Runs SQL (statements separated by “;”) with text parameters on the worker, then CALLBACK. */
static void
update_async (WzChatOutbox        *self,
              GAsyncReadyCallback  callback,
              gpointer             user_data,
              const char          *sql,
              ...)
{
  g_autoptr(GTask) task = g_task_new (self, NULL, callback, user_data);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  const char *param;
  va_list args;

  g_strv_builder_add (builder, sql);
  va_start (args, sql);
  while ((param = va_arg (args, const char *)) != NULL)
    g_strv_builder_add (builder, param);
  va_end (args);

  g_task_set_source_tag (task, update_async);
  g_task_set_task_data (task, g_strv_builder_end (builder), (GDestroyNotify) g_strfreev);
  queue_job (self, task, db_update);
}

/* ---------------------------------------------------------------------------------------- */
/* Sending */

static OutboxEntry *
next_entry (WzChatOutbox *self)
{
  for (GList *l = self->entries.head; l != NULL; l = l->next)
    {
      OutboxEntry *entry = l->data;

      if (!entry->failed)
        return entry;
    }

  return NULL;
}

static OutboxEntry *
find_entry (WzChatOutbox *self,
            const char   *uuid)
{
  for (GList *l = self->entries.head; l != NULL; l = l->next)
    {
      OutboxEntry *entry = l->data;

      if (g_strcmp0 (entry->uuid, uuid) == 0)
        return entry;
    }

  return NULL;
}

static void
set_waiting (WzChatOutbox *self,
             gboolean      waiting)
{
  self->waiting = waiting;
  for (GList *l = self->entries.head; l != NULL; l = l->next)
    {
      OutboxEntry *entry = l->data;

      if (!entry->failed)
        wz_chat_message_set_state (entry->message, waiting ? WZ_CHAT_MESSAGE_WAITING
                                                           : WZ_CHAT_MESSAGE_SENDING);
    }
}

static gboolean
on_retry_timeout (gpointer user_data)
{
  WzChatOutbox *self = user_data;

  self->retry_id = 0;
  send_next (self);

  return G_SOURCE_REMOVE;
}

/* Whether a failed request may succeed when tried again: no answer at all, a server in trouble,
 * a timeout, too many requests, or a session that a new sign-in will renew. */
static gboolean
is_transient (guint         status,
              const GError *error)
{
  /* A 2xx here is an answer that could not be read: asking again gets the stored message. */
  return status == 0 || (status >= 200 && status < 300) || status >= 500
    || status == 408 || status == 429 || status == 401;
}

static void
retry_later (WzChatOutbox *self,
             OutboxEntry  *entry,
             guint         status,
             const GError *error)
{
  guint delay = wz_realtime_backoff_ms (self->attempt, g_random_double ());

  self->attempt++;
  self->busy = FALSE;
  g_debug ("Message %s not sent (HTTP %u: %s); trying again in %u ms", entry->uuid, status,
           error != NULL ? error->message : "", delay);
  wz_test_report ("outbox-state uuid=%s state=waiting status=%u delay-ms=%u", entry->uuid,
                  status, delay);
  set_waiting (self, TRUE);
  g_clear_handle_id (&self->retry_id, g_source_remove);
  self->retry_id = g_timeout_add (delay, on_retry_timeout, self);
}

/* A step of sending is over: the next step, or the next message, may go. */
static void
step_done (WzChatOutbox *self)
{
  self->busy = FALSE;
  send_next (self);
}

/* The worker has written what a step changed in the file (USER_DATA says what, for the log).
 * A failed write is logged, not fatal: at worst the step is taken again after a restart, and the
 * server answers a repeat with what it already has. */
static void
on_step_written (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  WzChatOutbox *self = WZ_CHAT_OUTBOX (object);
  const char *what = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    g_warning ("Cannot %s: %s", what, error->message);

  step_done (self);
}

/* The answer to the request of the entry being sent (finishing it), or NULL when no one waits for
 * it any more (the outbox was closed, or the entry was withdrawn): then nothing is on its way. */
static OutboxEntry *
answered_entry (WzChatOutbox  *self,
                GObject       *client,
                GAsyncResult  *result,
                JsonNode     **out_node,
                guint         *out_status,
                GError       **error)
{
  OutboxEntry *entry = next_entry (self);

  *out_node = wz_api_client_send_bytes_finish (WZ_API_CLIENT (client), result, out_status, error);
  if (entry == NULL || !self->open)
    {
      self->busy = FALSE;
      return NULL;
    }

  return entry;
}

static void
fail_entry (WzChatOutbox *self,
            OutboxEntry  *entry,
            guint         status,
            const GError *error)
{
  g_autofree char *status_text = g_strdup_printf ("%u", status);

  entry->failed = TRUE;
  g_free (entry->error);
  entry->error = g_strdup (error != NULL ? error->message : _("The server refused this message."));
  wz_chat_message_set_error (entry->message, entry->error);
  wz_chat_message_set_state (entry->message, WZ_CHAT_MESSAGE_FAILED);
  wz_test_report ("outbox-state uuid=%s state=failed status=%u error=%s", entry->uuid, status,
                  entry->error);

  update_async (self, on_step_written, (gpointer) "mark an outbox message failed",
                "UPDATE outbox SET failed = 1, error = ?2 WHERE uuid = ?1",
                entry->uuid, entry->error, NULL);
}

static void
handle_failure (WzChatOutbox *self,
                OutboxEntry  *entry,
                guint         status,
                const GError *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      self->busy = FALSE;
      return;
    }

  if (is_transient (status, error))
    retry_later (self, entry, status, error);
  else
    fail_entry (self, entry, status, error);
}

static void
on_posted (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(WzChatOutbox) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  OutboxEntry *entry;
  guint status = 0;

  entry = answered_entry (self, object, result, &node, &status, &error);
  if (entry == NULL)
    return;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node)
      || wz_json_string (json_node_get_object (node), "id") == NULL)
    {
      if (node != NULL && error == NULL)
        g_set_error_literal (&error, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_NOT_WENZHEN,
                             "The server's answer has no message");
      handle_failure (self, entry, node != NULL ? 0 : status, error);
      return;
    }

  g_debug ("Message %s stored as %s (HTTP %u)", entry->uuid,
           wz_json_string (json_node_get_object (node), "id"), status);
  wz_test_report ("outbox-state uuid=%s state=sent status=%u id=%s", entry->uuid, status,
                  wz_json_string (json_node_get_object (node), "id"));

  self->attempt = 0;
  if (self->waiting)
    set_waiting (self, FALSE);

  g_queue_remove (&self->entries, entry);
  /* Left in the file, it would only be sent again and answered 200 with the same message. */
  update_async (self, on_step_written, (gpointer) "remove a sent message from the outbox",
                "DELETE FROM outbox_file WHERE uuid = ?1; DELETE FROM outbox WHERE uuid = ?1",
                entry->uuid, NULL);
  g_signal_emit (self, signals[SENT], 0, entry->encounter, node, entry->message);
  outbox_entry_free (entry);
}

static void
post_message (WzChatOutbox *self,
              OutboxEntry  *entry)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(GBytes) body = NULL;
  g_autofree char *condition = NULL;
  JsonObject *resource;
  JsonArray *payload;
  guint attachment = 0;
  char *text;
  gsize length;

  if (!json_parser_load_from_data (parser, entry->resource, -1, NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_autoptr(GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                                     _("This message could not be read back from this computer’s outbox."));

      fail_entry (self, entry, 0, error);
      return;
    }

  /* The uploaded files, in the order the payload lists them. */
  resource = json_node_get_object (json_parser_get_root (parser));
  payload = wz_json_array (resource, "payload");
  for (guint i = 0; payload != NULL && i < json_array_get_length (payload); i++)
    {
      JsonObject *content = wz_json_object (wz_json_array_object (payload, i), "contentAttachment");

      if (content == NULL)
        continue;
      for (guint f = 0; f < entry->files->len; f++)
        {
          OutboxFile *file = g_ptr_array_index (entry->files, f);

          if (file->index == attachment && file->binary != NULL)
            json_object_set_string_member (content, "url", file->binary);
        }
      attachment++;
    }

  json_generator_set_root (generator, json_parser_get_root (parser));
  text = json_generator_to_data (generator, &length);
  body = g_bytes_new_take (text, length);
  condition = g_strconcat ("identifier=urn:ietf:rfc:3986|", entry->uuid, NULL);

  {
    const char *headers[] = { "If-None-Exist", condition, NULL };

    wz_api_client_send_bytes_async (self->client, "POST", "/fhir/Communication", body, NULL,
                                    headers, self->cancellable, on_posted, g_object_ref (self));
  }
}

static void
on_uploaded (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(WzChatOutbox) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  OutboxEntry *entry;
  const char *id;
  guint status = 0;

  entry = answered_entry (self, object, result, &node, &status, &error);
  if (entry == NULL)
    return;

  id = node != NULL && JSON_NODE_HOLDS_OBJECT (node)
       ? wz_json_string (json_node_get_object (node), "id") : NULL;
  if (id == NULL)
    {
      handle_failure (self, entry, node != NULL ? 0 : status, error);
      return;
    }

  for (guint i = 0; i < entry->files->len; i++)
    {
      OutboxFile *file = g_ptr_array_index (entry->files, i);
      g_autofree char *index = NULL;

      if (file->binary != NULL)
        continue;

      file->binary = g_strconcat ("Binary/", id, NULL);
      index = g_strdup_printf ("%u", file->index);
      wz_test_report ("outbox-upload uuid=%s binary=%s status=%u", entry->uuid, file->binary, status);
      /* Without the record the file is uploaded again, and the server answers with the same
       * Binary. */
      update_async (self, on_step_written, (gpointer) "record an uploaded attachment",
                    "UPDATE outbox_file SET binary = ?3 WHERE uuid = ?1 AND idx = ?2",
                    entry->uuid, index, file->binary, NULL);
      return;
    }

  step_done (self);
}

static void
send_next (WzChatOutbox *self)
{
  OutboxEntry *entry;

  if (!self->open || self->busy || self->retry_id != 0)
    return;

  entry = next_entry (self);
  if (entry == NULL)
    return;

  self->busy = TRUE;
  for (guint i = 0; i < entry->files->len; i++)
    {
      OutboxFile *file = g_ptr_array_index (entry->files, i);

      if (file->binary == NULL)
        {
          const char *headers[] = { "X-Security-Context", entry->encounter, NULL };

          wz_api_client_send_bytes_async (self->client, "POST", "/fhir/Binary", file->data,
                                          file->content_type, headers, self->cancellable,
                                          on_uploaded, g_object_ref (self));
          return;
        }
    }

  post_message (self, entry);
}

/* ---------------------------------------------------------------------------------------- */
/* Public */

char *
wz_chat_outbox_path_for (const char *server_url,
                         const char *username)
{
  g_autofree char *key = g_strconcat (server_url != NULL ? server_url : "", "\n",
                                      username != NULL ? username : "", NULL);
  g_autofree char *hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256, key, -1);
  g_autofree char *file = g_strdup_printf ("%.32s.db", hash);

  return g_build_filename (g_get_user_data_dir (), "wenzhen", "outbox", file, NULL);
}

static void
on_opened (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  WzChatOutbox *self = WZ_CHAT_OUTBOX (object);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) entries = g_task_propagate_pointer (G_TASK (result), &error);

  if (entries == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  for (guint i = 0; i < entries->len; i++)
    {
      OutboxEntry *entry = g_ptr_array_index (entries, i);

      self->next_seq = MAX (self->next_seq, entry->seq + 1);
      g_queue_push_tail (&self->entries, entry);
    }
  g_ptr_array_set_free_func (entries, NULL);

  self->open = TRUE;
  wz_test_report ("outbox-opened pending=%u", g_queue_get_length (&self->entries));
  g_task_return_boolean (task, TRUE);
  send_next (self);
}

void
wz_chat_outbox_open_async (WzChatOutbox        *self,
                           const char          *path,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) outer = NULL;
  g_autoptr(GTask) inner = NULL;

  g_return_if_fail (WZ_IS_CHAT_OUTBOX (self));
  g_return_if_fail (path != NULL);

  wz_chat_outbox_close (self);
  self->cancellable = g_cancellable_new ();

  outer = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (outer, wz_chat_outbox_open_async);
  inner = g_task_new (self, NULL, on_opened, g_steal_pointer (&outer));
  g_task_set_task_data (inner, g_strdup (path), g_free);
  queue_job (self, inner, db_open);
}

gboolean
wz_chat_outbox_open_finish (WzChatOutbox  *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
on_closed (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
}

void
wz_chat_outbox_close (WzChatOutbox *self)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (WZ_IS_CHAT_OUTBOX (self));

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_handle_id (&self->retry_id, g_source_remove);
  g_queue_clear_full (&self->entries, (GDestroyNotify) outbox_entry_free);
  self->open = FALSE;
  self->busy = FALSE;
  self->waiting = FALSE;
  self->attempt = 0;
  self->next_seq = 1;

  task = g_task_new (self, NULL, on_closed, NULL);
  queue_job (self, task, db_close);
}

static void
on_inserted (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  WzChatOutbox *self = WZ_CHAT_OUTBOX (object);
  OutboxEntry *entry = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  gssize micros = g_task_propagate_int (G_TASK (result), &error);

  /* The entry is this callback's to keep (queued) or to free. */
  if (error != NULL)
    {
      outbox_entry_free (entry);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  wz_test_report ("outbox-added uuid=%s seq=%" G_GINT64_FORMAT " write-ms=%.2f", entry->uuid,
                  entry->seq, micros / 1000.0);

  /* Closed meanwhile (signed out): the file has it, the next opening sends it. */
  if (!self->open)
    {
      outbox_entry_free (entry);
      g_task_return_boolean (task, TRUE);
      return;
    }

  if (self->waiting)
    wz_chat_message_set_state (entry->message, WZ_CHAT_MESSAGE_WAITING);
  g_queue_push_tail (&self->entries, entry);
  g_task_return_boolean (task, TRUE);
  send_next (self);
}

void
wz_chat_outbox_add_async (WzChatOutbox        *self,
                          WzChatMessage       *message,
                          const char          *encounter,
                          const char          *patient,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) outer = NULL;
  g_autoptr(GTask) inner = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *sent = NULL;
  OutboxEntry *entry;
  const char *text;

  g_return_if_fail (WZ_IS_CHAT_OUTBOX (self));
  g_return_if_fail (WZ_IS_CHAT_MESSAGE (message));
  g_return_if_fail (encounter != NULL);

  outer = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (outer, wz_chat_outbox_add_async);

  if (!self->open)
    {
      g_task_return_new_error (outer, G_IO_ERROR, G_IO_ERROR_CLOSED,
                               _("Messages cannot be kept on this computer right now, so this one was not sent."));
      return;
    }

  sent = g_date_time_format_iso8601 (wz_chat_message_get_sent (message));
  text = wz_chat_message_get_text (message);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "resourceType");
  json_builder_add_string_value (builder, "Communication");
  json_builder_set_member_name (builder, "status");
  json_builder_add_string_value (builder, "completed");
  json_builder_set_member_name (builder, "identifier");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "system");
  json_builder_add_string_value (builder, "urn:ietf:rfc:3986");
  json_builder_set_member_name (builder, "value");
  json_builder_add_string_value (builder, wz_chat_message_get_uuid (message));
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "encounter");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "reference");
  json_builder_add_string_value (builder, encounter);
  json_builder_end_object (builder);
  if (patient != NULL)
    {
      json_builder_set_member_name (builder, "subject");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "reference");
      json_builder_add_string_value (builder, patient);
      json_builder_end_object (builder);
    }
  if (wz_chat_message_get_sender (message) != NULL)
    {
      json_builder_set_member_name (builder, "sender");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "reference");
      json_builder_add_string_value (builder, wz_chat_message_get_sender (message));
      json_builder_end_object (builder);
    }
  json_builder_set_member_name (builder, "sent");
  json_builder_add_string_value (builder, sent);
  json_builder_set_member_name (builder, "payload");
  json_builder_begin_array (builder);
  if (text != NULL && *text != '\0')
    {
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "contentString");
      json_builder_add_string_value (builder, text);
      json_builder_end_object (builder);
    }
  for (guint i = 0; i < wz_chat_message_get_n_attachments (message); i++)
    {
      JsonObject *attachment = wz_chat_message_get_attachment (message, i);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "contentAttachment");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "contentType");
      json_builder_add_string_value (builder, wz_json_string (attachment, "contentType"));
      if (wz_json_string (attachment, "title") != NULL)
        {
          json_builder_set_member_name (builder, "title");
          json_builder_add_string_value (builder, wz_json_string (attachment, "title"));
        }
      if (json_object_has_member (attachment, "size"))
        {
          json_builder_set_member_name (builder, "size");
          json_builder_add_int_value (builder, json_object_get_int_member (attachment, "size"));
        }
      json_builder_end_object (builder);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);

  entry = g_new0 (OutboxEntry, 1);
  entry->seq = self->next_seq++;
  entry->uuid = g_strdup (wz_chat_message_get_uuid (message));
  entry->encounter = g_strdup (encounter);
  entry->resource = json_to_string (root, FALSE);
  entry->message = g_object_ref (message);
  entry->files = g_ptr_array_new_with_free_func ((GDestroyNotify) outbox_file_free);
  for (guint i = 0; i < wz_chat_message_get_n_attachments (message); i++)
    {
      JsonObject *attachment = wz_chat_message_get_attachment (message, i);
      GBytes *bytes = wz_chat_message_get_attachment_bytes (message, i);
      OutboxFile *file;

      if (bytes == NULL)
        continue;
      file = g_new0 (OutboxFile, 1);
      file->index = i;
      file->content_type = g_strdup (wz_json_string (attachment, "contentType"));
      file->title = g_strdup (wz_json_string (attachment, "title"));
      file->data = g_bytes_ref (bytes);
      g_ptr_array_add (entry->files, file);
    }

  inner = g_task_new (self, NULL, on_inserted, g_steal_pointer (&outer));
  g_task_set_task_data (inner, entry, NULL);
  queue_job (self, inner, db_insert);
}

gboolean
wz_chat_outbox_add_finish (WzChatOutbox  *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

GPtrArray *
wz_chat_outbox_get_pending (WzChatOutbox *self,
                            const char   *encounter)
{
  GPtrArray *messages = g_ptr_array_new ();

  g_return_val_if_fail (WZ_IS_CHAT_OUTBOX (self), messages);

  for (GList *l = self->entries.head; l != NULL; l = l->next)
    {
      OutboxEntry *entry = l->data;

      if (g_strcmp0 (entry->encounter, encounter) == 0)
        g_ptr_array_add (messages, entry->message);
    }

  return messages;
}

guint
wz_chat_outbox_get_n_pending (WzChatOutbox *self)
{
  g_return_val_if_fail (WZ_IS_CHAT_OUTBOX (self), 0);

  return g_queue_get_length (&self->entries);
}

static void
on_retry_written (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  WzChatOutbox *self = WZ_CHAT_OUTBOX (object);
  g_autoptr(GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    g_warning ("Cannot mark an outbox message for sending again: %s", error->message);

  send_next (self);
}

void
wz_chat_outbox_retry (WzChatOutbox *self,
                      const char   *uuid)
{
  OutboxEntry *entry;

  g_return_if_fail (WZ_IS_CHAT_OUTBOX (self));

  entry = find_entry (self, uuid);
  if (entry == NULL || !entry->failed)
    return;

  /* It goes behind the ones still waiting: the order is the order of sending. */
  entry->failed = FALSE;
  g_clear_pointer (&entry->error, g_free);
  entry->seq = self->next_seq++;
  g_queue_remove (&self->entries, entry);
  g_queue_push_tail (&self->entries, entry);
  wz_chat_message_set_error (entry->message, NULL);
  wz_chat_message_set_state (entry->message, self->waiting ? WZ_CHAT_MESSAGE_WAITING
                                                           : WZ_CHAT_MESSAGE_SENDING);
  {
    g_autofree char *seq = g_strdup_printf ("%" G_GINT64_FORMAT, entry->seq);

    update_async (self, on_retry_written, NULL,
                  "UPDATE outbox SET failed = 0, error = NULL, seq = ?2 WHERE uuid = ?1",
                  entry->uuid, seq, NULL);
  }
}

void
wz_chat_outbox_kick (WzChatOutbox *self)
{
  g_return_if_fail (WZ_IS_CHAT_OUTBOX (self));

  self->attempt = 0;
  g_clear_handle_id (&self->retry_id, g_source_remove);
  send_next (self);
}

/* ---------------------------------------------------------------------------------------- */
/* GObject */

static void
wz_chat_outbox_dispose (GObject *object)
{
  WzChatOutbox *self = WZ_CHAT_OUTBOX (object);

  if (self->pool != NULL)
    {
      g_cancellable_cancel (self->cancellable);
      g_clear_object (&self->cancellable);
      g_clear_handle_id (&self->retry_id, g_source_remove);
      g_queue_clear_full (&self->entries, (GDestroyNotify) outbox_entry_free);
      self->open = FALSE;
      /* Lets the worker finish what it was given, then closes the file on this thread. */
      g_thread_pool_free (g_steal_pointer (&self->pool), FALSE, TRUE);
      g_clear_pointer (&self->db, sqlite3_close);
    }
  g_clear_object (&self->client);
  g_clear_pointer (&self->context, g_main_context_unref);

  G_OBJECT_CLASS (wz_chat_outbox_parent_class)->dispose (object);
}

static void
wz_chat_outbox_class_init (WzChatOutboxClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = wz_chat_outbox_dispose;

  /**
   * WzChatOutbox::sent:
   * @encounter: "Encounter/ID" of the message
   * @resource: the Communication as the server stored it
   * @message: the WzChatMessage that was pending
   *
   * The server stored a message (201) or already had it (200); it has left the outbox.
   */
  signals[SENT] =
    g_signal_new ("sent", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 3,
                  G_TYPE_STRING, JSON_TYPE_NODE, WZ_TYPE_CHAT_MESSAGE);
}

static void
wz_chat_outbox_init (WzChatOutbox *self)
{
  g_queue_init (&self->entries);
  self->next_seq = 1;
  self->context = g_main_context_ref_thread_default ();
  self->pool = g_thread_pool_new (run_job, self, 1, TRUE, NULL);
}

WzChatOutbox *
wz_chat_outbox_new (WzApiClient *client)
{
  WzChatOutbox *self;

  g_return_val_if_fail (WZ_IS_API_CLIENT (client), NULL);

  self = g_object_new (WZ_TYPE_CHAT_OUTBOX, NULL);
  self->client = g_object_ref (client);

  return self;
}
