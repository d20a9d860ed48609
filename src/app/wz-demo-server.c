/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-demo-server"

#include "config.h"

#include "wz-demo-server.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#ifdef __linux__
# include <sys/prctl.h>
#endif

#include "wz-error.h"

/* The private server behind `wenzhen --demo`: a fresh data directory with demo data, a
 * wenzhen-server on a free loopback port, and a clean stop when the app quits. Nothing here
 * blocks the main loop: the children are driven through GSubprocess and async pipe reads. */
struct _WzDemoServer
{
  GObject       parent_instance;

  GCancellable *cancellable;
  char         *binary;
  char         *data_dir;
  char         *url;
  char         *pid;
  GSubprocess  *process;
  GString      *log_tail;
  GTask        *start_task;
  guint         start_timeout_id;
  gboolean      exited;
  int           exit_status;

  /* The simulated patient who chats in one waiting visit (wenzhen-sim-patient). */
  SoupSession  *sim_http;
  GCancellable *sim_cancellable;
  char         *sim_token;
  gboolean      sim_any_waiting;
  GSubprocess  *sim;
};

G_DEFINE_FINAL_TYPE (WzDemoServer, wz_demo_server, G_TYPE_OBJECT)

/* Argon2id hashing of three demo users dominates; a slow machine takes a few seconds. */
#define START_TIMEOUT_SECONDS 60
/* The demo's hospital, printed on its prescriptions; a proper name in both languages. */
#define DEMO_ORGANIZATION_NAME "问诊示范互联网医院 Wenzhen Demo Internet Hospital"

/* After SIGTERM the server finishes its last commit; if it takes longer it gets SIGKILL. */
#define STOP_TIMEOUT_MS 3000
#define LOG_TAIL_BYTES 4096
#define READY_PREFIX "listening on "

static void
append_log (WzDemoServer *self,
            const char   *text,
            gsize         length)
{
  g_string_append_len (self->log_tail, text, length);
  if (self->log_tail->len > LOG_TAIL_BYTES)
    {
      gsize cut = self->log_tail->len - LOG_TAIL_BYTES;
      const char *start = self->log_tail->str + cut;
      const char *newline = memchr (start, '\n', self->log_tail->len - cut);

      /* Keep whole lines; a tail that starts mid-line reads like garbage. */
      if (newline != NULL)
        cut = (gsize) (newline + 1 - self->log_tail->str);
      g_string_erase (self->log_tail, 0, (gssize) cut);
    }
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  dir = g_dir_open (path, 0, NULL);
  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
            remove_tree (child);
          else if (g_unlink (child) != 0)
            g_warning ("Cannot remove %s: %s", child, g_strerror (errno));
        }
    }

  if (g_rmdir (path) != 0 && errno != ENOENT)
    g_warning ("Cannot remove %s: %s", path, g_strerror (errno));
}

static void
wz_demo_server_dispose (GObject *object)
{
  WzDemoServer *self = WZ_DEMO_SERVER (object);

  g_cancellable_cancel (self->cancellable);
  g_cancellable_cancel (self->sim_cancellable);
  g_clear_handle_id (&self->start_timeout_id, g_source_remove);

  /* Normally the app stops the server first; this is the last line of defence against an orphan
   * server and a stray directory with patient data in it. */
  if (self->process != NULL && !self->exited)
    g_subprocess_force_exit (self->process);
  if (self->sim != NULL)
    g_subprocess_force_exit (self->sim);
  g_clear_object (&self->sim);
  g_clear_object (&self->sim_http);
  g_clear_object (&self->sim_cancellable);
  if (self->data_dir != NULL && (self->process == NULL || self->exited))
    {
      remove_tree (self->data_dir);
      g_clear_pointer (&self->data_dir, g_free);
    }

  g_clear_object (&self->process);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (wz_demo_server_parent_class)->dispose (object);
}

static void
wz_demo_server_finalize (GObject *object)
{
  WzDemoServer *self = WZ_DEMO_SERVER (object);

  g_clear_pointer (&self->binary, g_free);
  g_clear_pointer (&self->data_dir, g_free);
  g_clear_pointer (&self->url, g_free);
  g_clear_pointer (&self->pid, g_free);
  g_clear_pointer (&self->sim_token, g_free);
  g_string_free (self->log_tail, TRUE);

  G_OBJECT_CLASS (wz_demo_server_parent_class)->finalize (object);
}

static void
wz_demo_server_class_init (WzDemoServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = wz_demo_server_dispose;
  object_class->finalize = wz_demo_server_finalize;
}

static void
wz_demo_server_init (WzDemoServer *self)
{
  self->cancellable = g_cancellable_new ();
  self->sim_cancellable = g_cancellable_new ();
  self->log_tail = g_string_new (NULL);
}

WzDemoServer *
wz_demo_server_new (void)
{
  return g_object_new (WZ_TYPE_DEMO_SERVER, NULL);
}

/**
 * wz_demo_server_find_binary:
 *
 * `$WZ_SERVER_BINARY`, else the server built next to this app in the build tree, else the
 * installed one.
 *
 * Returns: (transfer full): the path, or %NULL with @error set when none exists
 */
char *
wz_demo_server_find_binary (GError **error)
{
  const char *env = g_getenv ("WZ_SERVER_BINARY");
  g_autofree char *in_build = g_build_filename (BUILD_SERVERDIR, "wenzhen-server", NULL);
  g_autofree char *installed = g_build_filename (BINDIR, "wenzhen-server", NULL);

  if (env != NULL && *env != '\0')
    {
      if (g_file_test (env, G_FILE_TEST_IS_EXECUTABLE))
        return g_strdup (env);

      g_set_error (error, WZ_ERROR, WZ_ERROR_UNAVAILABLE,
                   _("The Wenzhen server program %s (from WZ_SERVER_BINARY) does not exist or cannot be run."),
                   env);
      return NULL;
    }

  if (g_file_test (in_build, G_FILE_TEST_IS_EXECUTABLE))
    return g_steal_pointer (&in_build);
  if (g_file_test (installed, G_FILE_TEST_IS_EXECUTABLE))
    return g_steal_pointer (&installed);

  g_set_error (error, WZ_ERROR, WZ_ERROR_UNAVAILABLE,
               _("The Wenzhen server program was not found at %s. Install wenzhen-server, or set WZ_SERVER_BINARY to its path."),
               installed);
  return NULL;
}

const char *
wz_demo_server_get_password (void)
{
  const char *password = g_getenv ("WZ_DEMO_PASSWORD");

  return (password != NULL && *password != '\0') ? password : "demo";
}

static void
kill_with_parent (gpointer user_data)
{
#ifdef __linux__
  /* If the app dies without cleaning up (a crash, kill -9), the kernel stops the server too. */
  prctl (PR_SET_PDEATHSIG, SIGTERM);
#endif
}

static GSubprocessLauncher *
new_launcher (void)
{
  GSubprocessLauncher *launcher;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                        | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, kill_with_parent, NULL, NULL);

  return launcher;
}

static void
complete_start (WzDemoServer *self,
                GError       *error)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->start_task);

  g_clear_handle_id (&self->start_timeout_id, g_source_remove);

  if (task == NULL)
    {
      g_clear_error (&error);
      return;
    }

  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, g_strdup (self->url), g_free);
}

static void
read_stderr (WzDemoServer  *self,
             GInputStream  *stream);

static void
on_stderr_read (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(WzDemoServer) self = user_data;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  gsize size;
  const char *data;

  bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (object), result, &error);
  if (bytes == NULL || g_bytes_get_size (bytes) == 0)
    return;

  data = g_bytes_get_data (bytes, &size);
  append_log (self, data, size);
  g_debug ("server: %.*s", (int) size, data);

  read_stderr (self, G_INPUT_STREAM (object));
}

/* The server logs to stderr for its whole life; the pipe must be drained or it would block. */
static void
read_stderr (WzDemoServer *self,
             GInputStream *stream)
{
  g_input_stream_read_bytes_async (stream, 4096, G_PRIORITY_LOW, self->cancellable,
                                   on_stderr_read, g_object_ref (self));
}

/* ---- the simulated patient --------------------------------------------------------------- */

/* `$WZ_SIM_PATIENT_BINARY`, else the one in the build tree, else the installed one; NULL when
 * there is none (the demo then runs without a patient who answers). */
static char *
find_sim_binary (void)
{
  const char *env = g_getenv ("WZ_SIM_PATIENT_BINARY");
  g_autofree char *in_build = g_build_filename (BUILD_SIMDIR, "wenzhen-sim-patient", NULL);
  g_autofree char *installed = g_build_filename (BINDIR, "wenzhen-sim-patient", NULL);

  if (env != NULL && *env != '\0')
    return g_file_test (env, G_FILE_TEST_IS_EXECUTABLE) ? g_strdup (env) : NULL;
  if (g_file_test (in_build, G_FILE_TEST_IS_EXECUTABLE))
    return g_steal_pointer (&in_build);
  if (g_file_test (installed, G_FILE_TEST_IS_EXECUTABLE))
    return g_steal_pointer (&installed);
  return NULL;
}

typedef void (*SimStep) (WzDemoServer *self,
                         JsonObject   *answer);

typedef struct
{
  WzDemoServer *self;
  SoupMessage  *msg;
  SimStep       next;
} SimCall;

static void
on_sim_call_done (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  SimCall *call = user_data;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) json = NULL;

  body = soup_session_send_and_read_finish (SOUP_SESSION (object), result, &error);
  if (body != NULL && soup_message_get_status (call->msg) == SOUP_STATUS_OK)
    {
      g_autofree char *text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));

      json = json_from_string (text, NULL);
    }

  if (json != NULL && JSON_NODE_HOLDS_OBJECT (json))
    call->next (call->self, json_node_get_object (json));
  else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_message ("The demo runs without a simulated patient: %s %s answered %u %s",
               soup_message_get_method (call->msg),
               g_uri_get_path (soup_message_get_uri (call->msg)),
               soup_message_get_status (call->msg), error ? error->message : "");

  g_object_unref (call->msg);
  g_object_unref (call->self);
  g_free (call);
}

static void
sim_call (WzDemoServer *self,
          const char   *method,
          const char   *path,
          const char   *body,
          SimStep       next)
{
  g_autofree char *url = g_strconcat (self->url, path, NULL);
  SimCall *call = g_new0 (SimCall, 1);

  call->self = g_object_ref (self);
  call->msg = soup_message_new (method, url);
  call->next = next;
  if (self->sim_token != NULL)
    {
      g_autofree char *authorization = g_strconcat ("Bearer ", self->sim_token, NULL);

      soup_message_headers_replace (soup_message_get_request_headers (call->msg),
                                    "Authorization", authorization);
    }
  if (body != NULL)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (body, strlen (body));

      soup_message_set_request_body_from_bytes (call->msg, "application/json", bytes);
    }
  soup_session_send_and_read_async (self->sim_http, call->msg, G_PRIORITY_LOW,
                                    self->sim_cancellable, on_sim_call_done, call);
}

static void
on_sim_link (WzDemoServer *self,
             JsonObject   *answer)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *binary = find_sim_binary ();
  const char *link = json_object_get_string_member_with_default (answer, "url", NULL);
  const char * const *languages = g_get_language_names ();
  const char *lang = "en";

  if (binary == NULL || link == NULL)
    return;
  for (guint i = 0; languages[i] != NULL; i++)
    if (g_str_has_prefix (languages[i], "zh"))
      {
        lang = "zh";
        break;
      }

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_subprocess_launcher_set_child_setup (launcher, kill_with_parent, NULL, NULL);
  self->sim = g_subprocess_launcher_spawn (launcher, &error, binary, "--server", self->url,
                                           "--link-token", link, "--lang", lang, NULL);
  if (self->sim == NULL)
    g_message ("The demo runs without a simulated patient: %s", error->message);
  else
    g_debug ("Simulated patient started as process %s",
             g_subprocess_get_identifier (self->sim));
}

static void
on_sim_visit (WzDemoServer *self,
              JsonObject   *bundle)
{
  JsonNode *entries = json_object_get_member (bundle, "entry");
  JsonNode *first;
  const char *id;
  g_autofree char *path = NULL;

  if (entries == NULL || !JSON_NODE_HOLDS_ARRAY (entries) ||
      json_array_get_length (json_node_get_array (entries)) == 0 ||
      !JSON_NODE_HOLDS_OBJECT (first = json_array_get_element (json_node_get_array (entries), 0)))
    {
      /* No triaged visit: one still waiting, whose pre-consultation the patient then answers. */
      if (!self->sim_any_waiting)
        {
          self->sim_any_waiting = TRUE;
          sim_call (self, "GET", "/fhir/Encounter?status=arrived&_sort=date&_count=1", NULL,
                    on_sim_visit);
        }
      return;
    }
  id = json_object_get_string_member_with_default (
         json_object_get_object_member (json_node_get_object (first), "resource"), "id", NULL);
  if (id == NULL)
    return;
  path = g_strdup_printf ("/fhir/Encounter/%s/$visit-link", id);
  sim_call (self, "POST", path, NULL, on_sim_link);
}

static void
on_sim_login (WzDemoServer *self,
              JsonObject   *answer)
{
  g_free (self->sim_token);
  self->sim_token = g_strdup (json_object_get_string_member_with_default (answer, "access_token",
                                                                          NULL));
  /* The first patient waiting for the demo doctor gets a patient on the other end; one who has
   * answered the pre-consultation already, so the queue does not change under the doctor. */
  sim_call (self, "GET", "/fhir/Encounter?status=triaged&_sort=date&_count=1", NULL,
            on_sim_visit);
}

static void
start_sim_patient (WzDemoServer *self)
{
  g_autoptr(JsonBuilder) builder = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *body = NULL;
  g_autofree char *binary = find_sim_binary ();

  /* Set WZ_DEMO_SIM_PATIENT=0 for a demo whose patients keep still (some UI tests). */
  if (binary == NULL || g_strcmp0 (g_getenv ("WZ_DEMO_SIM_PATIENT"), "0") == 0)
    return;

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "username");
  json_builder_add_string_value (builder, WZ_DEMO_USERNAME);
  json_builder_set_member_name (builder, "password");
  json_builder_add_string_value (builder, wz_demo_server_get_password ());
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  body = json_to_string (root, FALSE);

  self->sim_http = soup_session_new_with_options ("timeout", 30, NULL);
  sim_call (self, "POST", "/auth/login", body, on_sim_login);
}

static void
read_stdout_line (WzDemoServer     *self,
                  GDataInputStream *stream);

static void
on_stdout_line (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(WzDemoServer) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  gsize length;

  line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (object), result,
                                                    &length, &error);
  if (line == NULL)
    return;

  g_debug ("server stdout: %s", line);

  if (self->url == NULL && g_str_has_prefix (line, READY_PREFIX))
    {
      const char *url = line + strlen (READY_PREFIX);

      if (g_str_has_prefix (url, "http://") || g_str_has_prefix (url, "https://"))
        {
          self->url = g_strdup (g_strstrip ((char *) url));
          g_debug ("Demo server ready at %s", self->url);
          complete_start (self, NULL);
          start_sim_patient (self);
        }
    }

  read_stdout_line (self, G_DATA_INPUT_STREAM (object));
}

static void
read_stdout_line (WzDemoServer     *self,
                  GDataInputStream *stream)
{
  g_data_input_stream_read_line_async (stream, G_PRIORITY_DEFAULT, self->cancellable,
                                       on_stdout_line, g_object_ref (self));
}

static void
on_server_exited (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(WzDemoServer) self = user_data;
  GSubprocess *process = G_SUBPROCESS (object);

  if (!g_subprocess_wait_finish (process, result, NULL))
    return;

  self->exited = TRUE;
  self->exit_status = g_subprocess_get_if_exited (process)
    ? g_subprocess_get_exit_status (process)
    : -g_subprocess_get_term_sig (process);

  g_debug ("Demo server exited (status %d)", self->exit_status);

  if (self->start_task != NULL)
    complete_start (self,
                    g_error_new (WZ_ERROR, WZ_ERROR_UNAVAILABLE,
                                 _("The demo server stopped while starting (exit status %d)."),
                                 self->exit_status));
}

static gboolean
on_start_timeout (gpointer user_data)
{
  WzDemoServer *self = user_data;

  self->start_timeout_id = 0;
  complete_start (self,
                  g_error_new (WZ_ERROR, WZ_ERROR_UNAVAILABLE,
                               g_dngettext (GETTEXT_PACKAGE,
                                            "The demo server did not become ready within %d second.",
                                            "The demo server did not become ready within %d seconds.",
                                            START_TIMEOUT_SECONDS),
                               START_TIMEOUT_SECONDS));

  return G_SOURCE_REMOVE;
}

static void
spawn_server (WzDemoServer *self)
{
  g_autoptr(GSubprocessLauncher) launcher = new_launcher ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GDataInputStream) out = NULL;

  self->process = g_subprocess_launcher_spawn (launcher, &error,
                                               self->binary, "serve",
                                               "--data-dir", self->data_dir,
                                               "--listen", "127.0.0.1:0",
                                               "--organization-name", DEMO_ORGANIZATION_NAME,
                                               NULL);
  if (self->process == NULL)
    {
      complete_start (self,
                      g_error_new (WZ_ERROR, WZ_ERROR_UNAVAILABLE,
                                   _("The demo server could not be started: %s"), error->message));
      return;
    }

  self->pid = g_strdup (g_subprocess_get_identifier (self->process));
  g_debug ("Demo server started as process %s", self->pid);

  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (self->process));
  read_stdout_line (self, out);
  read_stderr (self, g_subprocess_get_stderr_pipe (self->process));
  g_subprocess_wait_async (self->process, self->cancellable, on_server_exited,
                           g_object_ref (self));

  self->start_timeout_id = g_timeout_add_seconds (START_TIMEOUT_SECONDS, on_start_timeout, self);
}

static void
on_demo_data_done (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(WzDemoServer) self = user_data;
  GSubprocess *process = G_SUBPROCESS (object);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;

  if (!g_subprocess_communicate_utf8_finish (process, result, &out, &err, &error))
    {
      complete_start (self, g_steal_pointer (&error));
      return;
    }

  if (err != NULL)
    append_log (self, err, strlen (err));

  if (!g_subprocess_get_successful (process))
    {
      int status = g_subprocess_get_if_exited (process)
        ? g_subprocess_get_exit_status (process)
        : -g_subprocess_get_term_sig (process);

      complete_start (self,
                      g_error_new (WZ_ERROR, WZ_ERROR_UNAVAILABLE,
                                   _("Preparing the demo patients failed (exit status %d)."),
                                   status));
      return;
    }

  if (self->start_task != NULL)
    spawn_server (self);
}

void
wz_demo_server_start_async (WzDemoServer        *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;

  g_return_if_fail (WZ_IS_DEMO_SERVER (self));
  g_return_if_fail (self->start_task == NULL && self->process == NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, wz_demo_server_start_async);

  self->binary = wz_demo_server_find_binary (&error);
  if (self->binary == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  self->data_dir = g_dir_make_tmp ("wenzhen-demo-XXXXXX", &error);
  if (self->data_dir == NULL)
    {
      g_task_return_new_error (task, WZ_ERROR, WZ_ERROR_UNAVAILABLE,
                               _("No folder for the demo data could be created: %s"),
                               error->message);
      return;
    }

  launcher = new_launcher ();
  process = g_subprocess_launcher_spawn (launcher, &error,
                                         self->binary, "demo-data",
                                         "--data-dir", self->data_dir,
                                         NULL);
  if (process == NULL)
    {
      g_task_return_new_error (task, WZ_ERROR, WZ_ERROR_UNAVAILABLE,
                               _("The demo server could not be started: %s"), error->message);
      return;
    }

  self->start_task = g_steal_pointer (&task);
  g_subprocess_communicate_utf8_async (process, NULL, self->cancellable,
                                       on_demo_data_done, g_object_ref (self));
}

char *
wz_demo_server_start_finish (WzDemoServer  *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
remove_data_dir_in_thread (GTask        *task,
                           gpointer      source_object,
                           gpointer      task_data,
                           GCancellable *cancellable)
{
  remove_tree (task_data);
  g_task_return_boolean (task, TRUE);
}

static void
finish_stop (GTask *task)
{
  WzDemoServer *self = g_task_get_source_object (task);

  g_clear_object (&self->process);

  if (self->data_dir == NULL)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  g_task_set_task_data (task, g_steal_pointer (&self->data_dir), g_free);
  g_task_run_in_thread (task, remove_data_dir_in_thread);
}

typedef struct
{
  GTask *task;
  guint  timeout_id;
} StopWait;

static void
on_stopped (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  StopWait *wait = user_data;
  g_autoptr(GTask) task = g_steal_pointer (&wait->task);
  g_autoptr(GError) error = NULL;

  g_clear_handle_id (&wait->timeout_id, g_source_remove);
  g_free (wait);

  if (!g_subprocess_wait_finish (G_SUBPROCESS (object), result, &error))
    g_debug ("Waiting for the demo server failed: %s", error->message);

  finish_stop (task);
}

static gboolean
on_stop_timeout (gpointer user_data)
{
  StopWait *wait = user_data;
  WzDemoServer *self = g_task_get_source_object (wait->task);

  wait->timeout_id = 0;
  g_warning ("Demo server did not stop within %d ms; killing it", STOP_TIMEOUT_MS);
  if (self->process != NULL)
    g_subprocess_force_exit (self->process);

  return G_SOURCE_REMOVE;
}

/**
 * wz_demo_server_stop_async:
 *
 * Sends SIGTERM, gives the server a moment to finish cleanly, then SIGKILL; finally removes the
 * demo data directory. Safe to call when the server never started.
 */
void
wz_demo_server_stop_async (WzDemoServer        *self,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  StopWait *wait;

  g_return_if_fail (WZ_IS_DEMO_SERVER (self));

  task = g_task_new (self, NULL, callback, user_data);
  g_task_set_source_tag (task, wz_demo_server_stop_async);

  complete_start (self, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                             "demo server stopped"));
  /* The patient leaves before the server goes. */
  g_cancellable_cancel (self->sim_cancellable);
  if (self->sim != NULL)
    g_subprocess_send_signal (self->sim, SIGTERM);

  if (self->process == NULL || self->exited)
    {
      finish_stop (task);
      return;
    }

  g_debug ("Stopping demo server %s", self->pid);
  g_subprocess_send_signal (self->process, SIGTERM);

  wait = g_new0 (StopWait, 1);
  wait->task = g_steal_pointer (&task);
  wait->timeout_id = g_timeout_add (STOP_TIMEOUT_MS, on_stop_timeout, wait);
  g_subprocess_wait_async (self->process, NULL, on_stopped, wait);
}

gboolean
wz_demo_server_stop_finish (WzDemoServer  *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

const char *
wz_demo_server_get_url (WzDemoServer *self)
{
  g_return_val_if_fail (WZ_IS_DEMO_SERVER (self), NULL);

  return self->url;
}

const char *
wz_demo_server_get_data_dir (WzDemoServer *self)
{
  g_return_val_if_fail (WZ_IS_DEMO_SERVER (self), NULL);

  return self->data_dir;
}

const char *
wz_demo_server_get_pid (WzDemoServer *self)
{
  g_return_val_if_fail (WZ_IS_DEMO_SERVER (self), NULL);

  return self->pid;
}

char *
wz_demo_server_dup_log_tail (WzDemoServer *self)
{
  g_return_val_if_fail (WZ_IS_DEMO_SERVER (self), NULL);

  return g_strdup (self->log_tail->str);
}
