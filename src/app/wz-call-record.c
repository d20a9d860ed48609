/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-call"

#include "config.h"

#include "wz-call-record.h"

#include "wz-fhir-json.h"
#include "wz-session.h"
#include "wz-time.h"

/* A 412 means someone changed the visit meanwhile: read it again, a few times at most. */
#define MAX_ATTEMPTS 4

static void
add_member (JsonArray  *array,
            const char *url,
            const char *value_key,
            JsonNode   *value)
{
  JsonObject *member = json_object_new ();

  json_object_set_string_member (member, "url", url);
  json_object_set_member (member, value_key, value);
  json_array_add_object_element (array, member);
}

static JsonNode *
string_node (const char *text)
{
  JsonNode *node = json_node_new (JSON_NODE_VALUE);

  json_node_set_string (node, text);
  return node;
}

JsonObject *
wz_call_record_extension (WzCall     *call,
                          const char *self_reference)
{
  JsonObject *extension;
  JsonArray *members;
  const char *ended_by;
  const char *reason;
  gint64 started, ended;

  g_return_val_if_fail (WZ_IS_CALL (call), NULL);

  started = wz_call_get_started_at (call);
  ended = wz_call_get_ended_at (call);
  reason = wz_call_get_end_reason (call);
  if (ended == 0 || (started == 0 && g_strcmp0 (reason, "declined") != 0 &&
                     g_strcmp0 (reason, "camera-refused") != 0))
    return NULL;

  members = json_array_new ();
  add_member (members, "callId", "valueString", string_node (wz_call_get_id (call)));
  if (started != 0)
    {
      g_autofree char *start = wz_time_format_instant (started);
      JsonObject *duration = json_object_new ();
      JsonNode *node = json_node_new (JSON_NODE_OBJECT);

      add_member (members, "start", "valueDateTime", string_node (start));
      json_object_set_int_member (duration, "value", wz_call_get_duration (call));
      json_object_set_string_member (duration, "unit", "s");
      json_object_set_string_member (duration, "system", "http://unitsofmeasure.org");
      json_object_set_string_member (duration, "code", "s");
      json_node_take_object (node, duration);
      add_member (members, "duration", "valueDuration", node);
    }
  {
    g_autofree char *end = wz_time_format_instant (ended);

    add_member (members, "end", "valueDateTime", string_node (end));
  }
  ended_by = wz_call_get_ended_by (call);
  if (g_strcmp0 (ended_by, "local") == 0)
    ended_by = self_reference;
  else if (g_strcmp0 (ended_by, "remote") == 0)
    ended_by = wz_call_get_peer (call);
  else
    ended_by = NULL;
  if (ended_by != NULL)
    {
      JsonObject *reference = json_object_new ();
      JsonNode *node = json_node_new (JSON_NODE_OBJECT);

      json_object_set_string_member (reference, "reference", ended_by);
      json_node_take_object (node, reference);
      add_member (members, "endedBy", "valueReference", node);
    }
  if (reason != NULL)
    add_member (members, "endReason", "valueCode", string_node (reason));

  extension = json_object_new ();
  json_object_set_string_member (extension, "url", WZ_CALL_RECORD_URL);
  json_object_set_array_member (extension, "extension", members);
  return extension;
}

typedef struct
{
  WzApiClient *client;
  JsonObject  *record;
  char        *path;
  const char  *call_id;
  guint        attempts;
} Save;

static void
save_free (gpointer data)
{
  Save *save = data;

  g_clear_object (&save->client);
  g_clear_pointer (&save->record, json_object_unref);
  g_free (save->path);
  g_free (save);
}

static void read_encounter (GTask *task);

static void
on_put (GObject      *source,
        GAsyncResult *result,
        gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Save *save = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = wz_api_client_send_json_finish (save->client, result, &error);

  if (node != NULL)
    g_task_return_boolean (task, TRUE);
  else if (g_error_matches (error, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_CONFLICT) &&
           save->attempts < MAX_ATTEMPTS)
    read_encounter (g_steal_pointer (&task));
  else
    g_task_return_error (task, g_steal_pointer (&error));
}

/* Another record of the same call (a second save) is replaced, not repeated. */
static gboolean
same_call (JsonNode   *element,
           const char *call_id)
{
  JsonObject *extension;
  JsonArray *members;

  if (!JSON_NODE_HOLDS_OBJECT (element))
    return FALSE;
  extension = json_node_get_object (element);
  if (g_strcmp0 (json_object_get_string_member_with_default (extension, "url", ""),
                 WZ_CALL_RECORD_URL) != 0 ||
      (members = json_object_get_array_member (extension, "extension")) == NULL)
    return FALSE;
  for (guint i = 0; i < json_array_get_length (members); i++)
    {
      JsonObject *member = json_array_get_object_element (members, i);

      if (member != NULL &&
          g_strcmp0 (json_object_get_string_member_with_default (member, "url", ""), "callId") == 0 &&
          g_strcmp0 (json_object_get_string_member_with_default (member, "valueString", ""),
                     call_id) == 0)
        return TRUE;
    }
  return FALSE;
}

static void
on_encounter (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Save *save = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = wz_api_client_get_json_finish (save->client, result, &error);
  g_autoptr(JsonNode) body = NULL;
  JsonObject *encounter;
  JsonArray *extensions;
  JsonArray *kept;

  if (node == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_task_return_new_error (task, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_NOT_WENZHEN,
                               "The visit came back in an unexpected form");
      return;
    }

  body = json_node_copy (node);
  encounter = json_node_get_object (body);
  kept = json_array_new ();
  extensions = json_object_has_member (encounter, "extension")
               ? json_object_get_array_member (encounter, "extension") : NULL;
  for (guint i = 0; extensions != NULL && i < json_array_get_length (extensions); i++)
    {
      JsonNode *element = json_array_get_element (extensions, i);

      if (!same_call (element, save->call_id))
        json_array_add_element (kept, json_node_copy (element));
    }
  json_array_add_object_element (kept, json_object_ref (save->record));
  json_object_set_array_member (encounter, "extension", kept);

  save->attempts++;
  wz_api_client_send_json_async (save->client, "PUT", save->path, body,
                                 wz_resource_version (json_node_get_object (node)),
                                 g_task_get_cancellable (task), on_put, task);
  g_steal_pointer (&task);
}

static void
read_encounter (GTask *task)
{
  Save *save = g_task_get_task_data (task);

  wz_api_client_get_json_async (save->client, save->path, g_task_get_cancellable (task),
                                on_encounter, task);
}

void
wz_call_record_save_async (WzApiClient         *client,
                           WzCall              *call,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  WzSession *session;
  Save *save;
  const char *self_reference = NULL;

  g_return_if_fail (WZ_IS_API_CLIENT (client));
  g_return_if_fail (WZ_IS_CALL (call));

  task = g_task_new (client, cancellable, callback, user_data);
  g_task_set_source_tag (task, wz_call_record_save_async);

  session = wz_api_client_get_session (client);
  if (session != NULL)
    self_reference = wz_session_get_practitioner (session);

  save = g_new0 (Save, 1);
  save->client = g_object_ref (client);
  save->record = wz_call_record_extension (call, self_reference);
  save->path = g_strconcat ("/fhir/", wz_call_get_encounter (call), NULL);
  g_task_set_task_data (task, save, save_free);
  if (save->record == NULL)
    {
      /* Nothing happened worth a record (a call that never rang through). */
      g_task_return_boolean (task, TRUE);
      return;
    }
  /* Borrowed from the record, which lives as long as the task. */
  save->call_id = json_object_get_string_member (
    json_array_get_object_element (json_object_get_array_member (save->record, "extension"), 0),
    "valueString");
  read_encounter (g_steal_pointer (&task));
}

gboolean
wz_call_record_save_finish (GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (G_IS_TASK (result), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
