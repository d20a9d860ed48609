/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-careplan-params"

#include "config.h"

#include "wz-careplan-params.h"

#include <string.h>

#include "wz-error.h"
#include "wz-json.h"

/* Reading the Parameters bodies of the care-plan operations: FHIR's name/value[x]/part shape,
 * every value checked for its type, nothing else looked at. Strings are borrowed from the body. */


static const char *
param_string (JsonObject *parameter,
              const char *const *kinds)
{
  for (guint i = 0; kinds[i] != NULL; i++)
    {
      JsonNode *node = json_object_get_member (parameter, kinds[i]);

      if (node == NULL)
        continue;
      if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
        return json_node_get_string (node);
      if (JSON_NODE_HOLDS_OBJECT (node))
        {
          JsonObject *object = json_node_get_object (node);
          const char *inner = json_object_get_string_member_with_default (object, "reference",
                                                                          NULL);

          return inner ? inner : json_object_get_string_member_with_default (object, "value",
                                                                             NULL);
        }
    }
  return NULL;
}

static const char *const string_kinds[] = { "valueString", "valueCode", "valueDate", "valueUri",
                                            "valueReference", "valueIdentifier", NULL };

/* The named parameters of a Parameters body (or the parts of one): the array, checked to hold
 * objects with a name. */
static JsonArray *
parameter_list (JsonObject  *holder,
                const char  *member,
                const char  *what,
                GError     **error)
{
  JsonArray *list = wz_json_get_array (holder, member);

  for (guint i = 0; list != NULL && i < json_array_get_length (list); i++)
    {
      JsonNode *node = json_array_get_element (list, i);

      if (!JSON_NODE_HOLDS_OBJECT (node) ||
          wz_json_get_string (json_node_get_object (node), "name") == NULL)
        {
          g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "%s[%u] has no name", what, i);
          return NULL;
        }
    }
  if (list == NULL)
    g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "%s needs a %s array", what, member);
  return list;
}

/* The value[x] member KIND of PARAMETER when it holds a JSON value of TYPE; else NULL and an
 * error naming the parameter NAME. */
static JsonNode *
param_value (JsonObject  *parameter,
             const char  *name,
             const char  *kind,
             GType        type,
             const char  *format,
             GError     **error)
{
  JsonNode *value = json_object_get_member (parameter, kind);

  if (value != NULL && JSON_NODE_HOLDS_VALUE (value) &&
      (json_node_get_value_type (value) == type ||
       (type == G_TYPE_DOUBLE && json_node_get_value_type (value) == G_TYPE_INT64)))
    return value;
  g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "%s takes %s%s", name, kind, format);
  return NULL;
}

static gboolean
param_boolean (JsonObject  *parameter,
               const char  *name,
               gboolean    *out,
               GError     **error)
{
  JsonNode *value = param_value (parameter, name, "valueBoolean", G_TYPE_BOOLEAN, "", error);

  if (value != NULL)
    *out = json_node_get_boolean (value);
  return value != NULL;
}

static gboolean
param_day (JsonObject  *parameter,
           const char  *name,
           WzDay       *out,
           GError     **error)
{
  JsonNode *value = param_value (parameter, name, "valueDate", G_TYPE_STRING, " YYYY-MM-DD", error);

  if (value != NULL && !wz_day_parse (json_node_get_string (value), out))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "%s takes valueDate YYYY-MM-DD", name);
      return FALSE;
    }
  return value != NULL;
}

static gboolean
param_decimal (JsonObject  *parameter,
               const char  *name,
               double      *out,
               GError     **error)
{
  JsonNode *value = param_value (parameter, name, "valueDecimal", G_TYPE_DOUBLE, "", error);

  if (value != NULL)
    *out = json_node_get_double (value);
  return value != NULL;
}

/* One "target" parameter: its parts measurement, low and high. */
static gboolean
read_target_part (JsonObject            *parameter,
                  WzCareplanTargetEdit  *edit,
                  GError               **error)
{
  JsonArray *parts = parameter_list (parameter, "part", "target", error);

  for (guint p = 0; parts != NULL && p < json_array_get_length (parts); p++)
    {
      JsonObject *part = json_array_get_object_element (parts, p);
      const char *name = wz_json_get_string (part, "name");

      if (strcmp (name, "measurement") == 0)
        edit->measurement = param_string (part, string_kinds);
      else if (strcmp (name, "low") == 0)
        {
          if (!param_decimal (part, "target.low", &edit->low, error))
            return FALSE;
          edit->has_low = TRUE;
        }
      else if (strcmp (name, "high") == 0)
        {
          if (!param_decimal (part, "target.high", &edit->high, error))
            return FALSE;
          edit->has_high = TRUE;
        }
      else
        {
          g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "target has no part “%s” (measurement, "
                       "low, high)", name);
          return FALSE;
        }
    }
  if (parts != NULL && edit->measurement == NULL)
    g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INVALID, "target needs its measurement");
  return parts != NULL && edit->measurement != NULL;
}

/* One "item" (ADDED FALSE) or "add" (ADDED TRUE) parameter. */
static gboolean
read_item_part (JsonObject        *parameter,
                gboolean           added,
                WzCareplanParams  *params,
                GError           **error)
{
  const char *what = added ? "add" : "item";
  JsonArray *parts = parameter_list (parameter, "part", what, error);
  WzCareplanItemEdit edit = { NULL, WZ_DAY_NONE, FALSE };
  WzCareplanAddedItem item = { NULL, NULL, WZ_DAY_NONE, NULL };

  if (parts == NULL)
    return FALSE;
  for (guint p = 0; p < json_array_get_length (parts); p++)
    {
      JsonObject *part = json_array_get_object_element (parts, p);
      const char *name = wz_json_get_string (part, "name");
      gboolean ok = TRUE;

      if (strcmp (name, "key") == 0)
        edit.key = item.key = param_string (part, string_kinds);
      else if (strcmp (name, "due") == 0)
        ok = param_day (part, "due", added ? &item.due : &edit.due, error);
      else if (!added && strcmp (name, "remove") == 0)
        ok = param_boolean (part, "remove", &edit.remove, error);
      else if (added && strcmp (name, "kind") == 0)
        item.kind = param_string (part, string_kinds);
      else if (added && strcmp (name, "text") == 0)
        item.text = param_string (part, string_kinds);
      else
        {
          g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "%s has no part “%s” (%s)", what, name,
                       added ? "key, kind, due, text" : "key, due, remove");
          return FALSE;
        }
      if (!ok)
        return FALSE;
    }
  if (edit.key == NULL || (added && (item.kind == NULL || item.text == NULL ||
                                     item.due == WZ_DAY_NONE)))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "%s needs %s", what,
                   added ? "key, kind, due and text" : "its key");
      return FALSE;
    }
  if (added)
    g_array_append_val (params->added_items, item);
  else
    g_array_append_val (params->item_edits, edit);
  return TRUE;
}

gboolean
wz_careplan_params_read (JsonObject        *body,
                         WzCareplanParams  *params,
                         GError           **error)
{
  JsonArray *list;

  if (g_strcmp0 (json_object_get_string_member_with_default (body, "resourceType", ""),
                 "Parameters") != 0 ||
      (list = parameter_list (body, "parameter", "Parameters", NULL)) == NULL)
    {
      g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INVALID,
                           "The body must be a Parameters resource with a parameter array of "
                           "named parameters");
      return FALSE;
    }
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *parameter = json_array_get_object_element (list, i);
      const char *name = wz_json_get_string (parameter, "name");
      const char *text = param_string (parameter, string_kinds);

      if (strcmp (name, "template") == 0)
        params->template_id = text;
      else if (strcmp (name, "patient") == 0)
        params->patient = text;
      else if (strcmp (name, "start") == 0)
        params->start = text;
      else if (strcmp (name, "identifier") == 0)
        params->identifier = text;
      else if (strcmp (name, "end") == 0)
        params->end = text;
      else if (strcmp (name, "language") == 0)
        params->language = text;
      else if (strcmp (name, "condition") == 0 && text != NULL)
        g_ptr_array_add (params->conditions, (gpointer) text);
      else if (strcmp (name, "includeOptional") == 0)
        {
          if (!param_boolean (parameter, name, &params->include_optional, error))
            return FALSE;
          continue;
        }
      else if (strcmp (name, "item") == 0 || strcmp (name, "add") == 0)
        {
          if (!read_item_part (parameter, name[0] == 'a', params, error))
            return FALSE;
          continue;
        }
      else if (strcmp (name, "target") == 0)
        {
          WzCareplanTargetEdit edit = { NULL, };

          if (!read_target_part (parameter, &edit, error))
            return FALSE;
          g_array_append_val (params->target_edits, edit);
          continue;
        }
      else
        {
          g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "parameter “%s” is not one of template, "
                       "patient, start, identifier, end, condition, includeOptional, language, "
                       "item, add, target", name);
          return FALSE;
        }
      if (text == NULL)
        {
          g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "parameter “%s” has no value", name);
          return FALSE;
        }
    }

  if (params->template_id == NULL || params->patient == NULL || params->identifier == NULL)
    {
      g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INVALID,
                           "template, patient and identifier are required");
      return FALSE;
    }
  return TRUE;
}

void
wz_careplan_params_init (WzCareplanParams *params)
{
  memset (params, 0, sizeof *params);
  params->conditions = g_ptr_array_new ();
  params->item_edits = g_array_new (FALSE, TRUE, sizeof (WzCareplanItemEdit));
  params->added_items = g_array_new (FALSE, TRUE, sizeof (WzCareplanAddedItem));
  params->target_edits = g_array_new (FALSE, TRUE, sizeof (WzCareplanTargetEdit));
}

void
wz_careplan_params_clear (WzCareplanParams *params)
{
  g_clear_pointer (&params->conditions, g_ptr_array_unref);
  g_clear_pointer (&params->item_edits, g_array_unref);
  g_clear_pointer (&params->added_items, g_array_unref);
  g_clear_pointer (&params->target_edits, g_array_unref);
}

gboolean
wz_careplan_params_read_targets (JsonObject   *body,
                                 GArray       *edits,
                                 const char  **out_language,
                                 GError      **error)
{
  JsonArray *list;

  *out_language = NULL;
  if (g_strcmp0 (wz_json_get_string (body, "resourceType"), "Parameters") != 0 ||
      (list = parameter_list (body, "parameter", "Parameters", NULL)) == NULL)
    {
      g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INVALID,
                           "The body must be a Parameters resource with target parameters");
      return FALSE;
    }
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *parameter = json_array_get_object_element (list, i);
      const char *name = wz_json_get_string (parameter, "name");
      WzCareplanTargetEdit edit = { NULL, };

      if (strcmp (name, "language") == 0 &&
          (*out_language = param_string (parameter, string_kinds)) != NULL)
        continue;
      if (strcmp (name, "target") != 0)
        {
          g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "parameter “%s” is not one of target, "
                       "language", name);
          return FALSE;
        }
      if (!read_target_part (parameter, &edit, error))
        return FALSE;
      g_array_append_val (edits, edit);
    }
  if (edits->len == 0)
    {
      g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INVALID, "Name at least one target to change");
      return FALSE;
    }
  return TRUE;
}
