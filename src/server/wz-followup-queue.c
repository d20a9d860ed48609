/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-followup-queue"

#include "config.h"

#include "wz-followup-queue.h"

#include <string.h>

#include "wz-error.h"
#include "wz-followup-worklist.h"
#include "wz-json.h"
#include "wz-search-query.h"
#include "wz-time.h"

static JsonNode *
parse_stored (WzStoredResource *stored)
{
  gsize length;
  const char *data = g_bytes_get_data (stored->json, &length);
  g_autoptr(JsonParser) parser = json_parser_new ();

  /* Not immutable: the Task gets its encounter. */
  if (!json_parser_load_from_data (parser, data, length, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return NULL;
  return json_node_ref (json_parser_get_root (parser));
}

static WzStoredResource *
copy_stored (const WzStoredResource *stored)
{
  WzStoredResource *copy = g_new0 (WzStoredResource, 1);

  copy->type = g_strdup (stored->type);
  copy->id = g_strdup (stored->id);
  copy->version_id = stored->version_id;
  copy->last_updated = stored->last_updated;
  copy->patient = g_strdup (stored->patient);
  copy->status = g_strdup (stored->status);
  copy->json = g_bytes_ref (stored->json);
  return copy;
}

static JsonNode *
build_encounter (JsonObject *task,
                 const char *task_ref,
                 const char *status,
                 const char *reason_prefix)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *now = wz_time_format_instant (wz_time_now_us ());
  const char *description = wz_json_get_string (task, "description");
  g_autofree char *reason = NULL;

  if (description == NULL)
    description = wz_json_get_string (wz_json_get_object (task, "code"), "text");
  reason = g_strconcat (reason_prefix, description ? description : "", NULL);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "resourceType");
  json_builder_add_string_value (builder, "Encounter");
  json_builder_set_member_name (builder, "extension");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "url");
  json_builder_add_string_value (builder, WZ_FOLLOWUP_VISIT_TASK_EXTENSION);
  wz_json_add_reference (builder, "valueReference", task_ref);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  wz_json_add_identifier (builder, WZ_FOLLOWUP_VISIT_ID_SYSTEM, task_ref);
  json_builder_set_member_name (builder, "status");
  json_builder_add_string_value (builder, status);
  json_builder_set_member_name (builder, "class");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "system");
  json_builder_add_string_value (builder, "http://terminology.hl7.org/CodeSystem/v3-ActCode");
  json_builder_set_member_name (builder, "code");
  json_builder_add_string_value (builder, "VR");
  json_builder_set_member_name (builder, "display");
  json_builder_add_string_value (builder, "virtual");
  json_builder_end_object (builder);
  wz_json_add_reference (builder, "subject", wz_json_get_reference (task, "for"));
  json_builder_set_member_name (builder, "participant");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  wz_json_add_reference (builder, "individual", wz_json_get_reference (task, "owner"));
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "period");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "start");
  json_builder_add_string_value (builder, now);
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "reasonCode");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "text");
  json_builder_add_string_value (builder, reason);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

gboolean
wz_followup_queue_task (WzStore           *store,
                        WzStoredResource  *stored,
                        const char        *status,
                        const char        *reason_prefix,
                        GPtrArray         *written,
                        WzStoredResource **out_encounter,
                        GError           **error)
{
  g_autoptr(JsonNode) root = parse_stored (stored);
  g_autofree char *task_ref = g_strconcat ("Task/", stored->id, NULL);
  g_autofree char *escaped = NULL;
  g_autofree char *condition_text = NULL;
  g_autofree char *encounter_ref = NULL;
  g_autoptr(WzSearchQuery) condition = NULL;
  g_autoptr(JsonNode) encounter = NULL;
  WzStoredResource *made;
  JsonObject *task;
  gboolean created = FALSE;
  const char *owner, *patient;

  if (root == NULL)
    return wz_error_set_invalid (error, "%s is not readable", task_ref);
  task = json_node_get_object (root);
  owner = wz_json_get_reference (task, "owner");
  patient = wz_json_get_reference (task, "for");
  if (owner == NULL || !g_str_has_prefix (owner, "Practitioner/") || patient == NULL ||
      !g_str_has_prefix (patient, "Patient/"))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_UNPROCESSABLE,
                   "%s names no doctor (owner) and patient (for) to make a visit of", task_ref);
      return FALSE;
    }

  escaped = g_uri_escape_string (WZ_FOLLOWUP_VISIT_ID_SYSTEM "|", NULL, FALSE);
  condition_text = g_strconcat ("identifier=", escaped, task_ref, NULL);
  if ((condition = wz_search_query_parse ("Encounter", condition_text, error)) == NULL)
    return FALSE;
  encounter = build_encounter (task, task_ref, status, reason_prefix);
  if ((made = wz_store_create (store, json_node_get_object (encounter), condition, &created,
                               error)) == NULL)
    return FALSE;
  encounter_ref = g_strconcat ("Encounter/", made->id, NULL);

  if (g_strcmp0 (wz_json_get_reference (task, "encounter"), encounter_ref) != 0)
    {
      WzStoredResource *updated;
      JsonObject *link = json_object_new ();

      json_object_set_string_member (link, "reference", encounter_ref);
      json_object_set_object_member (task, "encounter", link);
      json_object_remove_member (task, "meta");
      if ((updated = wz_store_update (store, task, stored->id, stored->version_id, error)) == NULL)
        {
          wz_stored_resource_free (made);
          return FALSE;
        }
      g_ptr_array_add (written, updated);
    }
  if (out_encounter != NULL)
    *out_encounter = made;
  if (created)
    g_ptr_array_insert (written, 0, out_encounter != NULL ? copy_stored (made) : made);
  else if (out_encounter == NULL)
    wz_stored_resource_free (made);
  return TRUE;
}

GPtrArray *
wz_followup_queue_sweep (WzStore  *store,
                         WzDay     today,
                         GError  **error)
{
  g_autoptr(GPtrArray) written = g_ptr_array_new_with_free_func ((GDestroyNotify) wz_stored_resource_free);
  g_autoptr(GPtrArray) tasks = NULL;
  g_autofree char *text = NULL;
  char day[16];

  text = g_strdup_printf ("code=%s%%7Crevisit&status=" WZ_FOLLOWUP_ACTIONABLE "&due-date=le%s"
                          "&_sort=status,due-date",
                          WZ_FOLLOWUP_TASK_SYSTEM, wz_day_format_buf (today, day));
  if ((tasks = wz_followup_search_stored (store, "Task", text, error)) == NULL)
    return NULL;
  for (guint i = 0; i < tasks->len; i++)
    {
      WzStoredResource *stored = g_ptr_array_index (tasks, i);
      gsize length;
      const char *data = g_bytes_get_data (stored->json, &length);
      g_autoptr(JsonNode) root = NULL;
      g_autoptr(GTimeZone) utc = NULL;
      JsonObject *period;
      WzDay end = WZ_DAY_NONE;
      g_autoptr(GError) local_error = NULL;

      /* Already in a queue. */
      if (g_strstr_len (data, length, "\"encounter\":{") != NULL)
        continue;
      if ((root = parse_stored (stored)) == NULL)
        continue;
      period = wz_json_get_object (wz_json_get_object (json_node_get_object (root), "restriction"),
                                   "period");
      utc = g_time_zone_new_utc ();
      if (period != NULL)
        wz_day_parse_in_zone (wz_json_get_string (period, "end"), utc, &end);
      /* A revisit whose window has passed stays on the worklist, overdue, for the doctor to
       * decide; it does not land in today's queue. */
      if (end != WZ_DAY_NONE && end < today)
        continue;
      if (!wz_followup_queue_task (store, stored, "planned", "复诊 Follow-up revisit: ", written,
                                   NULL, &local_error))
        g_warning ("Task/%s could not be queued: %s", stored->id, local_error->message);
    }
  return g_steal_pointer (&written);
}
