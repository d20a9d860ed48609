/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-json"

#include "config.h"

#include "wz-json.h"

const char *
wz_json_get_string (JsonObject *object,
                    const char *member)
{
  JsonNode *node = object ? json_object_get_member (object, member) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

JsonObject *
wz_json_get_object (JsonObject *object,
                    const char *member)
{
  JsonNode *node = object ? json_object_get_member (object, member) : NULL;

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

JsonArray *
wz_json_get_array (JsonObject *object,
                   const char *member)
{
  JsonNode *node = object ? json_object_get_member (object, member) : NULL;

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

const char *
wz_json_get_reference (JsonObject *object,
                       const char *member)
{
  return wz_json_get_string (wz_json_get_object (object, member), "reference");
}

void
wz_json_add_reference (JsonBuilder *builder,
                       const char  *member,
                       const char  *reference)
{
  json_builder_set_member_name (builder, member);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "reference");
  json_builder_add_string_value (builder, reference);
  json_builder_end_object (builder);
}

void
wz_json_add_coding (JsonBuilder *builder,
                    const char  *system,
                    const char  *code,
                    const char  *display)
{
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "system");
  json_builder_add_string_value (builder, system);
  json_builder_set_member_name (builder, "code");
  json_builder_add_string_value (builder, code);
  if (display != NULL)
    {
      json_builder_set_member_name (builder, "display");
      json_builder_add_string_value (builder, display);
    }
  json_builder_end_object (builder);
}

void
wz_json_add_identifier (JsonBuilder *builder,
                        const char  *system,
                        const char  *value)
{
  json_builder_set_member_name (builder, "identifier");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "system");
  json_builder_add_string_value (builder, system);
  json_builder_set_member_name (builder, "value");
  json_builder_add_string_value (builder, value);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
}
