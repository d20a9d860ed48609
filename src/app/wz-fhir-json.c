/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-fhir-json"

#include "config.h"

#include "wz-fhir-json.h"

JsonObject *
wz_json_object (JsonObject *object,
                const char *member)
{
  JsonNode *node;

  if (object == NULL || (node = json_object_get_member (object, member)) == NULL)
    return NULL;

  return JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

JsonArray *
wz_json_array (JsonObject *object,
               const char *member)
{
  JsonNode *node;

  if (object == NULL || (node = json_object_get_member (object, member)) == NULL)
    return NULL;

  return JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

const char *
wz_json_string (JsonObject *object,
                const char *member)
{
  JsonNode *node;

  if (object == NULL || (node = json_object_get_member (object, member)) == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;

  return json_node_get_string (node);
}

JsonObject *
wz_json_array_object (JsonArray *array,
                      guint      index)
{
  JsonNode *node;

  if (array == NULL || index >= json_array_get_length (array))
    return NULL;

  node = json_array_get_element (array, index);

  return JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static JsonObject *
find_coding (JsonObject *concept,
             const char *system)
{
  JsonArray *codings = wz_json_array (concept, "coding");

  for (guint i = 0; codings != NULL && i < json_array_get_length (codings); i++)
    {
      JsonObject *coding = wz_json_array_object (codings, i);

      if (coding != NULL && (system == NULL || g_strcmp0 (wz_json_string (coding, "system"), system) == 0))
        return coding;
    }

  return NULL;
}

const char *
wz_concept_text (JsonObject *concept)
{
  const char *text = wz_json_string (concept, "text");
  JsonArray *codings;

  if (text != NULL && *text != '\0')
    return text;

  codings = wz_json_array (concept, "coding");
  for (guint i = 0; codings != NULL && i < json_array_get_length (codings); i++)
    {
      const char *display = wz_json_string (wz_json_array_object (codings, i), "display");

      if (display != NULL && *display != '\0')
        return display;
    }

  return NULL;
}

const char *
wz_concept_code (JsonObject *concept,
                 const char *system)
{
  return wz_json_string (find_coding (concept, system), "code");
}

const char *
wz_concept_display (JsonObject *concept,
                    const char *system)
{
  return wz_json_string (find_coding (concept, system), "display");
}

GPtrArray *
wz_bundle_resources (JsonNode   *node,
                     const char *type)
{
  g_autoptr(GPtrArray) resources = NULL;
  JsonObject *bundle;
  JsonArray *entries;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;

  bundle = json_node_get_object (node);
  if (g_strcmp0 (wz_json_string (bundle, "resourceType"), "Bundle") != 0)
    return NULL;

  resources = g_ptr_array_new ();
  entries = wz_json_array (bundle, "entry");
  for (guint i = 0; entries != NULL && i < json_array_get_length (entries); i++)
    {
      JsonObject *resource = wz_json_object (wz_json_array_object (entries, i), "resource");

      if (resource == NULL)
        continue;
      if (type != NULL && g_strcmp0 (wz_json_string (resource, "resourceType"), type) != 0)
        continue;
      g_ptr_array_add (resources, resource);
    }

  return g_steal_pointer (&resources);
}

const char *
wz_resource_version (JsonObject *resource)
{
  return wz_json_string (wz_json_object (resource, "meta"), "versionId");
}

const char *
wz_resource_last_updated (JsonObject *resource)
{
  return wz_json_string (wz_json_object (resource, "meta"), "lastUpdated");
}

char *
wz_resource_reference (JsonObject *resource)
{
  const char *type = wz_json_string (resource, "resourceType");
  const char *id = wz_json_string (resource, "id");

  if (type == NULL || id == NULL)
    return NULL;

  return g_strconcat (type, "/", id, NULL);
}

const char *
wz_json_reference (JsonObject *object,
                   const char *member)
{
  return wz_json_string (wz_json_object (object, member), "reference");
}

JsonObject *
wz_json_object_copy (JsonObject *object)
{
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(JsonNode) copy = NULL;
  g_autofree char *text = NULL;

  if (object == NULL)
    return NULL;

  /* json_node_copy shares the members; a change to a copy must never touch what is on screen. */
  node = json_node_init_object (json_node_alloc (), object);
  text = json_to_string (node, FALSE);
  copy = json_from_string (text, NULL);
  if (copy == NULL || !JSON_NODE_HOLDS_OBJECT (copy))
    return NULL;

  return json_object_ref (json_node_get_object (copy));
}
