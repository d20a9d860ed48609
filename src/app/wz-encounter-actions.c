/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-encounter-actions"

#include "config.h"

#include "wz-encounter-actions.h"

#include <glib/gi18n.h>

#include "wz-fhir-json.h"
#include "wz-time.h"

/* The status changes of a visit. Each one is a PUT of the whole Encounter with If-Match naming
 * the version the doctor was looking at, so a visit another doctor changed in the meantime is
 * refused (412) instead of overwritten; the caller then shows the latest version. */
struct _WzEncounterActions
{
  GObject      parent_instance;

  WzApiClient *client;
};

G_DEFINE_FINAL_TYPE (WzEncounterActions, wz_encounter_actions, G_TYPE_OBJECT)

static const char * const priority_codes[] = { NULL, "EM", "UR", "R", "EL" };

guint
wz_encounter_urgency (JsonObject *encounter)
{
  const char *code = wz_concept_code (wz_json_object (encounter, "priority"), WZ_ACT_PRIORITY_SYSTEM);

  /* Also the other codes of the same system, by their closest level. */
  if (g_strcmp0 (code, "EM") == 0 || g_strcmp0 (code, "S") == 0 || g_strcmp0 (code, "A") == 0)
    return 1;
  if (g_strcmp0 (code, "UR") == 0 || g_strcmp0 (code, "ASAP") == 0 || g_strcmp0 (code, "CR") == 0)
    return 2;
  if (g_strcmp0 (code, "EL") == 0 || g_strcmp0 (code, "RR") == 0)
    return 4;

  return 3;
}

const char *
wz_encounter_priority_code (guint urgency)
{
  g_return_val_if_fail (urgency >= 1 && urgency <= 4, "R");

  return priority_codes[urgency];
}

const char *
wz_encounter_urgency_label (guint urgency)
{
  switch (urgency)
    {
    case 1:
      /* Translators: urgency level 1 of a waiting patient */
      return C_("urgency", "Emergency");
    case 2:
      return C_("urgency", "Urgent");
    case 3:
      /* Translators: urgency level 3: seen in today's queue, in order */
      return C_("urgency", "Soon");
    default:
      /* Translators: urgency level 4: routine (follow-up, renewal) */
      return C_("urgency", "Routine");
    }
}

static gboolean
status_is (JsonObject *encounter,
           const char *first,
           ...) G_GNUC_NULL_TERMINATED;

static gboolean
status_is (JsonObject *encounter,
           const char *first,
           ...)
{
  const char *status = wz_json_string (encounter, "status");
  va_list args;
  gboolean found = FALSE;

  va_start (args, first);
  for (const char *s = first; s != NULL && !found; s = va_arg (args, const char *))
    found = g_strcmp0 (status, s) == 0;
  va_end (args);

  return found;
}

gboolean
wz_encounter_can (JsonObject        *encounter,
                  WzEncounterChange  change)
{
  if (encounter == NULL)
    return FALSE;

  switch (change)
    {
    case WZ_ENCOUNTER_START:
      return status_is (encounter, "arrived", "triaged", NULL);
    case WZ_ENCOUNTER_FINISH:
      return status_is (encounter, "in-progress", NULL);
    case WZ_ENCOUNTER_NO_SHOW:
      return status_is (encounter, "planned", "arrived", "triaged", NULL);
    case WZ_ENCOUNTER_URGENCY:
      return status_is (encounter, "planned", "arrived", "triaged", "in-progress", NULL);
    default:
      return FALSE;
    }
}

static gint64
arrival_us (JsonObject *encounter)
{
  const char *start = wz_json_string (wz_json_object (encounter, "period"), "start");
  gint64 us = G_MAXINT64;

  if (start == NULL || !wz_time_parse_instant (start, &us, NULL))
    return G_MAXINT64;

  return us;
}

JsonObject *
wz_encounter_pick_next (GPtrArray *encounters)
{
  JsonObject *best = NULL;
  guint best_urgency = G_MAXUINT;
  gint64 best_arrival = G_MAXINT64;

  g_return_val_if_fail (encounters != NULL, NULL);

  for (guint i = 0; i < encounters->len; i++)
    {
      JsonObject *encounter = encounters->pdata[i];
      guint urgency;
      gint64 arrival;

      if (!status_is (encounter, "arrived", "triaged", NULL))
        continue;

      urgency = wz_encounter_urgency (encounter);
      arrival = arrival_us (encounter);
      if (best == NULL || urgency < best_urgency
          || (urgency == best_urgency && arrival < best_arrival))
        {
          best = encounter;
          best_urgency = urgency;
          best_arrival = arrival;
        }
    }

  return best;
}

/* ---------------------------------------------------------------------------------------- */

typedef struct
{
  WzEncounterChange  change;
  char              *practitioner;
  guint              urgency;
  char              *reason;
  char             **conditions;
  JsonObject        *updated;
} ChangeData;

static void
change_data_free (ChangeData *data)
{
  g_free (data->practitioner);
  g_free (data->reason);
  g_strfreev (data->conditions);
  g_clear_pointer (&data->updated, json_object_unref);
  g_free (data);
}

static JsonNode *
node_for (JsonObject *object)
{
  return json_node_init_object (json_node_alloc (), object);
}

static void
set_coding (JsonObject *object,
            const char *member,
            const char *system,
            const char *code,
            const char *display)
{
  JsonObject *concept = json_object_new ();
  JsonArray *codings = json_array_new ();
  JsonObject *coding = json_object_new ();

  json_object_set_string_member (coding, "system", system);
  json_object_set_string_member (coding, "code", code);
  if (display != NULL)
    json_object_set_string_member (coding, "display", display);
  json_array_add_object_element (codings, coding);
  json_object_set_array_member (concept, "coding", codings);
  json_object_set_object_member (object, member, concept);
}

static void
ensure_participant (JsonObject *encounter,
                    const char *practitioner)
{
  JsonArray *participants = wz_json_array (encounter, "participant");
  JsonObject *participant;
  JsonObject *individual;

  if (practitioner == NULL)
    return;

  for (guint i = 0; participants != NULL && i < json_array_get_length (participants); i++)
    if (g_strcmp0 (wz_json_reference (wz_json_array_object (participants, i), "individual"),
                   practitioner) == 0)
      return;

  if (participants == NULL)
    {
      participants = json_array_new ();
      json_object_set_array_member (encounter, "participant", participants);
    }

  participant = json_object_new ();
  individual = json_object_new ();
  json_object_set_string_member (individual, "reference", practitioner);
  json_object_set_object_member (participant, "individual", individual);
  json_array_add_object_element (participants, participant);
}

static void
set_period_end_now (JsonObject *encounter)
{
  JsonObject *period = wz_json_object (encounter, "period");
  g_autofree char *now = wz_time_format_instant (wz_time_now_us ());

  if (period == NULL)
    {
      period = json_object_new ();
      json_object_set_object_member (encounter, "period", period);
    }
  json_object_set_string_member (period, "end", now);
}

/* The changed copy of ENCOUNTER for DATA; the original stays as the screen shows it. */
static JsonObject *
apply_change (JsonObject *encounter,
              ChangeData *data)
{
  JsonObject *copy = wz_json_object_copy (encounter);

  switch (data->change)
    {
    case WZ_ENCOUNTER_START:
      json_object_set_string_member (copy, "status", "in-progress");
      ensure_participant (copy, data->practitioner);
      break;

    case WZ_ENCOUNTER_FINISH:
      {
        JsonArray *diagnoses = json_array_new ();

        json_object_set_string_member (copy, "status", "finished");
        set_period_end_now (copy);
        for (guint i = 0; data->conditions != NULL && data->conditions[i] != NULL; i++)
          {
            JsonObject *diagnosis = json_object_new ();
            JsonObject *condition = json_object_new ();

            json_object_set_string_member (condition, "reference", data->conditions[i]);
            json_object_set_object_member (diagnosis, "condition", condition);
            json_object_set_int_member (diagnosis, "rank", i + 1);
            json_array_add_object_element (diagnoses, diagnosis);
          }
        json_object_set_array_member (copy, "diagnosis", diagnoses);
        if (data->reason != NULL && *data->reason != '\0')
          {
            JsonArray *reasons = json_array_new ();
            JsonObject *reason = json_object_new ();

            json_object_set_string_member (reason, "text", data->reason);
            json_array_add_object_element (reasons, reason);
            json_object_set_array_member (copy, "reasonCode", reasons);
          }
      }
      break;

    case WZ_ENCOUNTER_NO_SHOW:
      json_object_set_string_member (copy, "status", "cancelled");
      break;

    case WZ_ENCOUNTER_URGENCY:
      /* The doctor's level replaces triage's; triage's rule ids go with it, and the history of
       * the Encounter keeps what triage had said. */
      set_coding (copy, "priority", WZ_ACT_PRIORITY_SYSTEM,
                  wz_encounter_priority_code (data->urgency), NULL);
      if (json_object_has_member (copy, "extension"))
        {
          JsonArray *extensions = wz_json_array (copy, "extension");
          JsonArray *kept = json_array_new ();

          for (guint i = 0; extensions != NULL && i < json_array_get_length (extensions); i++)
            {
              JsonObject *extension = wz_json_array_object (extensions, i);

              if (extension != NULL
                  && g_strcmp0 (wz_json_string (extension, "url"), WZ_TRIAGE_SOURCE_URL) != 0)
                json_array_add_object_element (kept, json_object_ref (extension));
            }
          if (json_array_get_length (kept) > 0)
            json_object_set_array_member (copy, "extension", kept);
          else
            {
              json_array_unref (kept);
              json_object_remove_member (copy, "extension");
            }
        }
      break;

    default:
      g_assert_not_reached ();
    }

  /* The server stamps meta; sending the old one back only invites confusion. */
  json_object_remove_member (copy, "meta");

  return copy;
}

static char *
resource_path (JsonObject *resource)
{
  g_autofree char *reference = wz_resource_reference (resource);

  return reference != NULL ? g_strconcat ("/fhir/", reference, NULL) : NULL;
}

static void
put_resource (WzEncounterActions  *self,
              JsonObject          *original,
              JsonObject          *changed,
              GCancellable        *cancellable,
              GAsyncReadyCallback  callback,
              gpointer             user_data)
{
  g_autofree char *path = resource_path (original);
  g_autoptr(JsonNode) body = node_for (changed);

  wz_api_client_send_json_async (self->client, "PUT", path, body, wz_resource_version (original),
                                 cancellable, callback, user_data);
}

static JsonObject *
object_from_result (WzApiClient   *client,
                    GAsyncResult  *result,
                    const char    *type,
                    GError       **error)
{
  g_autoptr(JsonNode) node = wz_api_client_send_json_finish (client, result, error);

  if (node == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (node)
      || g_strcmp0 (wz_json_string (json_node_get_object (node), "resourceType"), type) != 0)
    {
      g_set_error (error, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_NOT_WENZHEN,
                   _("The server’s answer was not the updated record. Check that the server is up to date."));
      return NULL;
    }

  return json_object_ref (json_node_get_object (node));
}

static void
on_provenance_created (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ChangeData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = wz_api_client_send_json_finish (WZ_API_CLIENT (object), result, &error);

  if (node == NULL)
    {
      g_prefix_error (&error, _("The urgency was changed, but the reason was not recorded: "));
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  g_task_return_pointer (task, json_object_ref (data->updated), (GDestroyNotify) json_object_unref);
}

static void
record_urgency_reason (GTask *task)
{
  WzEncounterActions *self = g_task_get_source_object (task);
  ChangeData *data = g_task_get_task_data (task);
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) body = NULL;
  g_autofree char *target = g_strdup_printf ("Encounter/%s/_history/%s",
                                             wz_json_string (data->updated, "id"),
                                             wz_resource_version (data->updated));
  g_autofree char *now = wz_time_format_instant (wz_time_now_us ());

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "resourceType");
  json_builder_add_string_value (b, "Provenance");
  json_builder_set_member_name (b, "target");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "reference");
  json_builder_add_string_value (b, target);
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "recorded");
  json_builder_add_string_value (b, now);
  json_builder_set_member_name (b, "activity");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "coding");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "system");
  json_builder_add_string_value (b, "http://terminology.hl7.org/CodeSystem/v3-DataOperation");
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, "UPDATE");
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "text");
  json_builder_add_string_value (b, "urgency override");
  json_builder_end_object (b);
  json_builder_set_member_name (b, "reason");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "text");
  json_builder_add_string_value (b, data->reason);
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "agent");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "who");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "reference");
  json_builder_add_string_value (b, data->practitioner);
  json_builder_end_object (b);
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_end_object (b);

  body = json_builder_get_root (b);
  wz_api_client_send_json_async (self->client, "POST", "/fhir/Provenance", body, NULL,
                                 g_task_get_cancellable (task), on_provenance_created, task);
}

static void
on_appointment_put (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ChangeData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) appointment = object_from_result (WZ_API_CLIENT (object), result,
                                                          "Appointment", &error);

  if (appointment == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  g_task_return_pointer (task, json_object_ref (data->updated), (GDestroyNotify) json_object_unref);
}

static void
on_appointment_read (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  WzEncounterActions *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = wz_api_client_get_json_finish (WZ_API_CLIENT (object), result, &error);
  g_autoptr(JsonObject) changed = NULL;
  JsonObject *appointment;

  if (node == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_task_return_new_error (task, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_NOT_WENZHEN,
                               _("The server’s answer was not the appointment. Check that the server is up to date."));
      return;
    }

  appointment = json_node_get_object (node);
  changed = wz_json_object_copy (appointment);
  json_object_set_string_member (changed, "status", "noshow");
  json_object_remove_member (changed, "meta");
  put_resource (self, appointment, changed, g_task_get_cancellable (task), on_appointment_put,
                g_steal_pointer (&task));
}

static void
on_encounter_put (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ChangeData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  const char *appointment;

  data->updated = object_from_result (WZ_API_CLIENT (object), result, "Encounter", &error);
  if (data->updated == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (data->change == WZ_ENCOUNTER_URGENCY)
    {
      record_urgency_reason (g_steal_pointer (&task));
      return;
    }

  appointment = wz_json_string (wz_json_array_object (wz_json_array (data->updated, "appointment"), 0),
                                "reference");
  if (data->change == WZ_ENCOUNTER_NO_SHOW && appointment != NULL)
    {
      WzEncounterActions *self = g_task_get_source_object (task);
      g_autofree char *path = g_strconcat ("/fhir/", appointment, NULL);

      wz_api_client_get_json_async (self->client, path, g_task_get_cancellable (task),
                                    on_appointment_read, g_steal_pointer (&task));
      return;
    }

  g_task_return_pointer (task, json_object_ref (data->updated), (GDestroyNotify) json_object_unref);
}

void
wz_encounter_actions_change_async (WzEncounterActions  *self,
                                   JsonObject          *encounter,
                                   WzEncounterChange    change,
                                   const char          *practitioner,
                                   guint                urgency,
                                   const char          *reason,
                                   const char * const  *conditions,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(JsonObject) changed = NULL;
  ChangeData *data;

  g_return_if_fail (WZ_IS_ENCOUNTER_ACTIONS (self));
  g_return_if_fail (encounter != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, wz_encounter_actions_change_async);

  data = g_new0 (ChangeData, 1);
  data->change = change;
  data->practitioner = g_strdup (practitioner);
  data->urgency = urgency;
  data->reason = g_strdup (reason);
  data->conditions = g_strdupv ((char **) conditions);
  g_task_set_task_data (task, data, (GDestroyNotify) change_data_free);

  if (!wz_encounter_can (encounter, change))
    {
      g_task_return_new_error (task, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_CONFLICT,
                               _("This visit is no longer in a state that allows this."));
      return;
    }
  if (change == WZ_ENCOUNTER_URGENCY
      && (urgency < 1 || urgency > 4 || reason == NULL || *g_strstrip (data->reason) == '\0'
          || practitioner == NULL))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               _("Give a reason for changing the urgency."));
      return;
    }
  if (wz_resource_version (encounter) == NULL)
    {
      g_task_return_new_error (task, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_NOT_WENZHEN,
                               _("The visit has no version on the server, so it cannot be changed safely. Check that the server is up to date."));
      return;
    }

  changed = apply_change (encounter, data);
  put_resource (self, encounter, changed, cancellable, on_encounter_put, g_steal_pointer (&task));
}

JsonObject *
wz_encounter_actions_finish (WzEncounterActions  *self,
                             GAsyncResult        *result,
                             GError             **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
on_next_taken (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  JsonObject *taken = wz_encounter_actions_finish (WZ_ENCOUNTER_ACTIONS (object), result, &error);

  if (taken == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, taken, (GDestroyNotify) json_object_unref);
}

static void
on_waiting_loaded (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  WzEncounterActions *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = wz_api_client_get_json_finish (WZ_API_CLIENT (object), result, &error);
  g_autoptr(GPtrArray) encounters = NULL;
  JsonObject *next;

  if (node == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  encounters = wz_bundle_resources (node, "Encounter");
  if (encounters == NULL)
    {
      g_task_return_new_error (task, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_NOT_WENZHEN,
                               _("The server’s answer was not a list of visits. Check that the server is up to date."));
      return;
    }

  next = wz_encounter_pick_next (encounters);
  if (next == NULL)
    {
      g_task_return_new_error (task, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_NOT_FOUND,
                               _("Nobody is waiting for you right now."));
      return;
    }

  wz_encounter_actions_change_async (self, next, WZ_ENCOUNTER_START, g_task_get_task_data (task),
                                     0, NULL, NULL, g_task_get_cancellable (task), on_next_taken,
                                     g_object_ref (task));
}

void
wz_encounter_actions_call_next_async (WzEncounterActions  *self,
                                      const char          *practitioner,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *today = g_date_time_format (now, "%Y-%m-%d");
  g_autofree char *escaped = NULL;
  g_autofree char *path = NULL;

  g_return_if_fail (WZ_IS_ENCOUNTER_ACTIONS (self));
  g_return_if_fail (practitioner != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, wz_encounter_actions_call_next_async);
  g_task_set_task_data (task, g_strdup (practitioner), g_free);

  escaped = g_uri_escape_string (practitioner, NULL, FALSE);
  path = g_strdup_printf ("/fhir/Encounter?practitioner=%s&status=arrived,triaged&date=ge%s"
                          "&_count=200", escaped, today);
  wz_api_client_get_json_async (self->client, path, cancellable, on_waiting_loaded,
                                g_steal_pointer (&task));
}

WzEncounterActions *
wz_encounter_actions_new (WzApiClient *client)
{
  WzEncounterActions *self;

  g_return_val_if_fail (WZ_IS_API_CLIENT (client), NULL);

  self = g_object_new (WZ_TYPE_ENCOUNTER_ACTIONS, NULL);
  self->client = g_object_ref (client);

  return self;
}

static void
wz_encounter_actions_dispose (GObject *object)
{
  WzEncounterActions *self = WZ_ENCOUNTER_ACTIONS (object);

  g_clear_object (&self->client);

  G_OBJECT_CLASS (wz_encounter_actions_parent_class)->dispose (object);
}

static void
wz_encounter_actions_class_init (WzEncounterActionsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = wz_encounter_actions_dispose;
}

static void
wz_encounter_actions_init (WzEncounterActions *self)
{
}
