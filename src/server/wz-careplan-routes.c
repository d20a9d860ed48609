/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-careplan-routes"

#include "config.h"

#include "wz-followup-routes-private.h"

/* The care-plan operations: POST /fhir/CarePlan/$apply-template and
 * POST /fhir/CarePlan/ID/$set-targets (routed by wz-followup-routes.c). */

/* ---- POST /fhir/CarePlan/$apply-template --------------------------------------------------- */

static gboolean
stored_mentions (WzStoredResource *stored,
                 const char       *template_id)
{
  g_autofree char *uri = g_strdup_printf ("\"%s%s\"", WZ_CAREPLAN_TEMPLATE_URI, template_id);
  gsize length;
  const char *data = g_bytes_get_data (stored->json, &length);

  return g_strstr_len (data, length, uri) != NULL;
}

/* ICD-10 codes of the patient's active Conditions, for the target variants. */
static gboolean
patient_conditions (WzFollowupRoutes  *self,
                    const char        *patient_ref,
                    GPtrArray         *codes,
                    GPtrArray         *owned,
                    GError           **error)
{
  g_autofree char *escaped = g_uri_escape_string (patient_ref, NULL, FALSE);
  g_autofree char *text = g_strdup_printf ("patient=%s&clinical-status=active", escaped);
  g_autoptr(JsonNode) conditions = search_all (self, "Condition", text, error);
  JsonArray *array;

  if (conditions == NULL)
    return FALSE;
  array = json_node_get_array (conditions);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *condition = json_array_get_object_element (array, i);
      JsonNode *code = json_object_get_member (condition, "code");
      JsonNode *codings = code && JSON_NODE_HOLDS_OBJECT (code)
                          ? json_object_get_member (json_node_get_object (code), "coding") : NULL;

      for (guint c = 0; codings && JSON_NODE_HOLDS_ARRAY (codings) &&
                        c < json_array_get_length (json_node_get_array (codings)); c++)
        {
          JsonNode *coding = json_array_get_element (json_node_get_array (codings), c);
          const char *value = JSON_NODE_HOLDS_OBJECT (coding)
                              ? json_object_get_string_member_with_default (json_node_get_object (coding),
                                                                            "code", NULL) : NULL;

          if (value != NULL)
            {
              char *copy = g_strdup (value);

              g_ptr_array_add (owned, copy);
              g_ptr_array_add (codes, copy);
            }
        }
    }
  return TRUE;
}

/* A retry of a plan already made (its identifier is known) gets that plan and its Tasks as they
 * are, 200, whatever the retry's dates would give today. The identifier is the client's: a plan
 * it names for someone else, or from another template, is a client bug, not a retry (409).
 * FALSE when there is no such plan (and nothing was answered). */
static gboolean
answer_made_before (Request    *req,
                    const char *identifier,
                    const char *template_id,
                    const char *patient_ref)
{
  g_autofree char *system = g_uri_escape_string (WZ_CAREPLAN_ID_SYSTEM, NULL, FALSE);
  g_autofree char *value = g_uri_escape_string (identifier, NULL, FALSE);
  g_autofree char *text = g_strdup_printf ("identifier=%s%%7C%s", system, value);
  g_autoptr(GPtrArray) plans = NULL;
  g_autoptr(GPtrArray) tasks = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *plan_ref = NULL;
  g_autofree char *escaped = NULL;
  g_autofree char *based_on = NULL;
  WzStoredResource *plan;
  Made made = { NULL, NULL };
  gboolean no = FALSE;
  gsize n;
  gpointer *found;

  plans = wz_followup_search_stored (req->self->store, "CarePlan", text, &error);
  if (plans != NULL && plans->len == 0)
    return FALSE;
  if (plans != NULL)
    {
      plan = g_ptr_array_index (plans, 0);
      plan_ref = g_strconcat ("CarePlan/", plan->id, NULL);
      if (g_strcmp0 (plan->patient, patient_ref) != 0 || !stored_mentions (plan, template_id))
        g_set_error (&error, WZ_ERROR, WZ_ERROR_CONFLICT, "The identifier %s already names %s, "
                     "made for another patient or template", identifier, plan_ref);
      else
        {
          escaped = g_uri_escape_string (plan_ref, NULL, FALSE);
          based_on = g_strconcat ("based-on=", escaped, NULL);
          tasks = wz_followup_search_stored (req->self->store, "Task", based_on, &error);
        }
    }
  if (error != NULL)
    {
      fail (req, error, "C", "CarePlan", patient_ref);
      return TRUE;
    }

  /* The plan first, then its Tasks, none of them made now. */
  g_ptr_array_insert (tasks, 0, g_ptr_array_steal_index (plans, 0));
  found = g_ptr_array_steal (tasks, &n);
  made.stored = g_ptr_array_new_with_free_func ((GDestroyNotify) wz_stored_resource_free);
  made.created = g_array_new (FALSE, FALSE, sizeof (gboolean));
  for (gsize i = 0; i < n; i++)
    {
      g_ptr_array_add (made.stored, found[i]);
      g_array_append_val (made.created, no);
    }
  g_free (found);
  respond_made (req, &made, patient_ref, "C");
  made_clear (&made);
  return TRUE;
}

void
handle_apply_template (Request *req)
{
  WzFollowupRoutes *self = req->self;
  g_autoptr(JsonNode) body = NULL;
  g_autoptr(JsonNode) patient = NULL;
  GPtrArray *conditions;
  g_autoptr(GPtrArray) owned = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GTimeZone) tz = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(WzCareplanInstance) instance = NULL;
  g_autofree char *patient_ref = NULL;
  g_autofree char *authored = wz_time_format_instant (wz_time_now_us ());
  g_autofree char *created_text = NULL;
  g_auto(WzCareplanParams) params = { NULL, };
  WzCareplanRequest request = { NULL, };
  WzCareplanTemplate *template;
  Made made = { g_ptr_array_new_with_free_func ((GDestroyNotify) wz_stored_resource_free),
                g_array_new (FALSE, FALSE, sizeof (gboolean)) };
  const char *zone, *birth_text, *patient_id;
  g_autofree char *plan_ref = NULL;
  WzStoredResource *plan;
  WzDay created;

  wz_careplan_params_init (&params);
  conditions = params.conditions;
  if (!is_doctor (req->session))
    {
      fail_with (req, WZ_ERROR_FORBIDDEN, "C", "CarePlan", "Only a doctor makes a care plan");
      goto out;
    }
  if (self->templates == NULL)
    {
      fail_with (req, WZ_ERROR_UNAVAILABLE, "C", "CarePlan", self->templates_problem);
      goto out;
    }
  if ((body = parse_body (req, &error)) == NULL ||
      !wz_careplan_params_read (json_node_get_object (body), &params, &error))
    {
      fail (req, error, "C", "CarePlan", NULL);
      goto out;
    }

  patient_id = g_str_has_prefix (params.patient, "Patient/") ? params.patient + 8 : params.patient;
  patient_ref = g_strconcat ("Patient/", patient_id, NULL);
  if ((template = wz_careplan_template_find (self->templates, params.template_id)) == NULL)
    {
      g_set_error (&error, WZ_ERROR, WZ_ERROR_INVALID, "There is no care-plan template “%s”",
                   params.template_id);
      fail (req, error, "C", "CarePlan", NULL);
      goto out;
    }
  if ((patient = read_patient_for (req, patient_id, &error)) == NULL ||
      (tz = request_zone (req, json_node_get_object (patient), &zone, &error)) == NULL)
    {
      fail (req, error, "C", "CarePlan", patient_ref);
      goto out;
    }
  if (answer_made_before (req, params.identifier, params.template_id, patient_ref))
    goto out;

  created = wz_day_today (tz, wz_time_now_us ());
  created_text = wz_day_format (created);
  birth_text = json_object_get_string_member_with_default (json_node_get_object (patient),
                                                           "birthDate", NULL);
  request.patient_ref = patient_ref;
  request.author_ref = req->agent;
  request.identifier = params.identifier;
  request.created = created;
  request.include_optional = params.include_optional;
  request.authored_on = authored;
  request.lang = wz_lang_normalize (params.language ? params.language : request_lang (req));
  request.age_years = birth_text ? wz_age_years (birth_text, created_text, NULL) : -1;
  request.item_edits = (const WzCareplanItemEdit *) params.item_edits->data;
  request.n_item_edits = params.item_edits->len;
  request.added_items = (const WzCareplanAddedItem *) params.added_items->data;
  request.n_added_items = params.added_items->len;
  request.target_edits = (const WzCareplanTargetEdit *) params.target_edits->data;
  request.n_target_edits = params.target_edits->len;

  if (params.start != NULL)
    {
      if (!wz_day_parse (params.start, &request.anchor))
        g_set_error (&error, WZ_ERROR, WZ_ERROR_INVALID, "start “%s” is not YYYY-MM-DD",
                     params.start);
    }
  else if (strcmp (wz_careplan_template_get_anchor (template), "birth_date") == 0 &&
           birth_text != NULL)
    wz_day_parse (birth_text, &request.anchor);
  else if (strcmp (wz_careplan_template_get_anchor (template), "plan_start") == 0)
    request.anchor = created;
  else
    g_set_error (&error, WZ_ERROR, WZ_ERROR_INVALID, "start is required for “%s” (the %s)",
                 params.template_id, wz_careplan_template_get_anchor (template));
  if (error == NULL && params.end != NULL && !wz_day_parse (params.end, &request.end))
    g_set_error (&error, WZ_ERROR, WZ_ERROR_INVALID, "end “%s” is not YYYY-MM-DD", params.end);
  if (error == NULL && conditions->len == 0 &&
      !patient_conditions (self, patient_ref, conditions, owned, &error))
    g_prefix_error (&error, "Reading the patient's conditions: ");
  if (error != NULL)
    {
      fail (req, error, "C", "CarePlan", patient_ref);
      goto out;
    }
  g_ptr_array_add (conditions, NULL);
  request.conditions = (const char * const *) conditions->pdata;

  if ((instance = wz_careplan_template_instantiate (template, &request, &error)) == NULL ||
      !wz_care_team_may_write (self->care_team, req->session,
                               json_node_get_object (instance->careplan), NULL, &error))
    {
      fail (req, error, "C", "CarePlan", patient_ref);
      goto out;
    }

  /* All of the plan or none of it: a failure half way (or the server dying) leaves nothing for
   * a retry to trip over. */
  if (!wz_store_begin (self->store, &error))
    {
      fail (req, error, "C", "CarePlan", patient_ref);
      goto out;
    }
  if (!create_into (self, instance->careplan, &made, &error))
    {
      wz_store_rollback (self->store);
      fail (req, error, "C", "CarePlan", patient_ref);
      goto out;
    }
  plan = g_ptr_array_index (made.stored, 0);
  plan_ref = g_strconcat ("CarePlan/", plan->id, NULL);
  if (!g_array_index (made.created, gboolean, 0))
    {
      /* Made since answer_made_before() looked: answered as the retry it is. */
      wz_store_rollback (self->store);
      if (!answer_made_before (req, params.identifier, params.template_id, patient_ref))
        fail_with (req, WZ_ERROR_CONFLICT, "C", "CarePlan", "The plan's identifier is in use");
      goto out;
    }

  wz_careplan_instance_set_plan (instance, plan_ref);
  for (guint i = 0; i < instance->tasks->len; i++)
    if (!create_into (self, g_ptr_array_index (instance->tasks, i), &made, &error))
      break;
  if (error != NULL || !wz_store_commit (self->store, &error))
    {
      wz_store_rollback (self->store);
      g_warning ("A care plan was not made, nothing stored: %s", error->message);
      g_prefix_error (&error, "The plan was not made: ");
      fail (req, error, "C", "CarePlan", patient_ref);
      goto out;
    }

  respond_made (req, &made, patient_ref, "C");

out:
  made_clear (&made);
}

/* ---- POST /fhir/CarePlan/ID/$set-targets --------------------------------------------------- */

/* The doctor changes the targets of a plan already made. Body: a Parameters resource with one
 * or more "target" parameters (parts measurement, low, high: as for $apply-template) and an
 * optional "language" (valueCode zh | en, for the new target texts). Header If-Match: W/"n",
 * the CarePlan version the doctor edited: 428 without it, 412 when the plan has changed since.
 * The CarePlan (the target extensions of its activities and its contained Goals'
 * Goal.target.detailRange) and its open measurement Tasks (whose targets the worklist reads)
 * are updated in one store transaction. Answer: 200, a Bundle (collection) of the updated
 * CarePlan, then the updated Tasks; ETag of the CarePlan. */

/* RESOURCE's stored JSON as a tree that may be changed. */
static JsonNode *
parse_stored_mutable (WzStoredResource  *stored,
                      GError           **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  gsize length;
  const char *data = g_bytes_get_data (stored->json, &length);

  if (!json_parser_load_from_data (parser, data, length, error))
    return NULL;
  return json_node_ref (json_parser_get_root (parser));
}

/* Validates RESOURCE as the /fhir API would and stores it as the next version of STORED, inside
 * the caller's transaction. */
static WzStoredResource *
update_checked (WzFollowupRoutes  *self,
                JsonNode          *resource,
                WzStoredResource  *stored,
                GError           **error)
{
  g_autofree char *text = json_to_string (resource, FALSE);
  g_autoptr(JsonNode) checked = wz_fhir_parse_resource (text, -1, stored->type, stored->id, error);

  if (checked == NULL)
    return NULL;
  return wz_store_update (self->store, json_node_get_object (checked), stored->id,
                          stored->version_id, error);
}

static gboolean
is_open_status (const char *status)
{
  static const char *const open[] = { "requested", "received", "accepted", "ready",
                                       "in-progress", "on-hold", NULL };

  return status != NULL && g_strv_contains (open, status);
}

void
handle_set_targets (Request    *req,
                    const char *plan_id)
{
  WzFollowupRoutes *self = req->self;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (req->msg);
  const char *if_match = soup_message_headers_get_one (headers, "If-Match");
  g_autofree char *plan_ref = g_strconcat ("CarePlan/", plan_id, NULL);
  g_autoptr(GArray) edits = g_array_new (FALSE, TRUE, sizeof (WzCareplanTargetEdit));
  g_autoptr(WzStoredResource) stored = NULL;
  g_autoptr(JsonNode) body = NULL;
  g_autoptr(JsonNode) plan = NULL;
  g_autoptr(GPtrArray) tasks = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *escaped = g_uri_escape_string (plan_ref, NULL, FALSE);
  g_autofree char *tasks_text = NULL;
  Made made = { g_ptr_array_new_with_free_func ((GDestroyNotify) wz_stored_resource_free),
                g_array_new (FALSE, FALSE, sizeof (gboolean)) };
  const char *lang = NULL;
  gboolean changed, yes = TRUE;
  gint64 expected = 0;

  if (!is_doctor (req->session))
    {
      fail_with (req, WZ_ERROR_FORBIDDEN, "U", plan_ref, "Only a doctor changes a care plan");
      goto out;
    }
  if (if_match == NULL || !wz_http_parse_etag (if_match, &expected))
    {
      fail_with (req, if_match == NULL ? WZ_ERROR_PRECONDITION_REQUIRED : WZ_ERROR_INVALID, "U",
                 plan_ref, "Send If-Match: W/\"n\" naming the version of the plan that was edited");
      goto out;
    }
  if ((body = parse_body (req, &error)) == NULL)
    {
      fail (req, error, "U", plan_ref, NULL);
      goto out;
    }
  if (!wz_careplan_params_read_targets (json_node_get_object (body), edits, &lang, &error))
    {
      fail (req, error, "U", plan_ref, NULL);
      goto out;
    }

  if ((stored = wz_store_read (self->store, "CarePlan", plan_id, &error)) == NULL ||
      !wz_care_team_may_see_stored (self->care_team, req->session, stored, &error))
    {
      /* Another doctor's plan answers as if it did not exist. */
      if (error == NULL)
        g_set_error (&error, WZ_ERROR, WZ_ERROR_NOT_FOUND, "%s is not known", plan_ref);
      fail (req, error, "U", plan_ref, NULL);
      goto out;
    }
  if (stored->version_id != expected)
    {
      g_set_error (&error, WZ_ERROR, WZ_ERROR_PRECONDITION_FAILED, "%s is at version %"
                   G_GINT64_FORMAT ", not %" G_GINT64_FORMAT ": it changed since it was read",
                   plan_ref, stored->version_id, expected);
      fail (req, error, "U", plan_ref, stored->patient);
      goto out;
    }
  if ((plan = parse_stored_mutable (stored, &error)) == NULL ||
      !wz_care_team_may_write (self->care_team, req->session, json_node_get_object (plan),
                               plan_id, &error))
    {
      fail (req, error, "U", plan_ref, stored->patient);
      goto out;
    }
  if (g_strcmp0 (wz_json_get_string (json_node_get_object (plan), "status"), "active") != 0)
    {
      fail_with (req, WZ_ERROR_UNPROCESSABLE, "U", plan_ref,
                 "Only an active plan's targets can be changed");
      goto out;
    }
  lang = wz_lang_normalize (lang ? lang : request_lang (req));
  if (!wz_careplan_edit_targets (json_node_get_object (plan), (WzCareplanTargetEdit *) edits->data,
                                 edits->len, lang, &changed, &error))
    {
      fail (req, error, "U", plan_ref, stored->patient);
      goto out;
    }
  tasks_text = g_strdup_printf ("based-on=%s&code=%s%%7Cmeasurement", escaped,
                                WZ_FOLLOWUP_TASK_SYSTEM);
  if ((tasks = wz_followup_search_stored (self->store, "Task", tasks_text, &error)) == NULL)
    {
      fail (req, error, "U", plan_ref, stored->patient);
      goto out;
    }

  /* The plan and its Tasks change together or not at all. */
  if (!wz_store_begin (self->store, &error))
    {
      fail (req, error, "U", plan_ref, stored->patient);
      goto out;
    }
  {
    WzStoredResource *written = update_checked (self, plan, stored, &error);

    if (written != NULL)
      {
        g_ptr_array_add (made.stored, written);
        g_array_append_val (made.created, yes);
      }
  }
  for (guint i = 0; error == NULL && i < tasks->len; i++)
    {
      WzStoredResource *task_stored = g_ptr_array_index (tasks, i);
      g_autoptr(JsonNode) task = NULL;
      WzStoredResource *written;

      if (!is_open_status (task_stored->status))
        continue;
      if ((task = parse_stored_mutable (task_stored, &error)) == NULL ||
          !wz_careplan_edit_targets (json_node_get_object (task),
                                     (WzCareplanTargetEdit *) edits->data, edits->len, lang,
                                     &changed, &error))
        break;
      if (!changed)
        continue;
      if ((written = update_checked (self, task, task_stored, &error)) == NULL)
        break;
      g_ptr_array_add (made.stored, written);
      g_array_append_val (made.created, yes);
    }
  if (error != NULL || !wz_store_commit (self->store, &error))
    {
      wz_store_rollback (self->store);
      g_prefix_error (&error, "The targets were not changed: ");
      fail (req, error, "U", plan_ref, stored->patient);
      goto out;
    }
  respond_made (req, &made, stored->patient, "U");

out:
  made_clear (&made);
}
