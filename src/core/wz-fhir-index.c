/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-fhir-index"

#include "config.h"

#include "wz-fhir-index.h"

#include <string.h>

#include "wz-fhir.h"
#include "wz-time.h"

static void
token_free (gpointer data)
{
  WzFhirToken *token = data;

  g_free (token->param);
  g_free (token->value);
  g_free (token);
}

static void
add_token (WzFhirIndex *index,
           const char  *param,
           char        *value)
{
  WzFhirToken *token;

  for (guint i = 0; i < index->tokens->len; i++)
    {
      WzFhirToken *old = g_ptr_array_index (index->tokens, i);

      if (strcmp (old->param, param) == 0 && strcmp (old->value, value) == 0)
        {
          g_free (value);
          return;
        }
    }

  token = g_new0 (WzFhirToken, 1);
  token->param = g_strdup (param);
  token->value = value;
  g_ptr_array_add (index->tokens, token);
}

char *
wz_fhir_index_fold (const char *text)
{
  g_autofree char *normalized = g_utf8_normalize (text, -1, G_NORMALIZE_NFKC);

  return normalized ? g_utf8_casefold (normalized, -1) : NULL;
}

char *
wz_fhir_index_reference (const char *type,
                         const char *value)
{
  g_autofree char *prefix = g_strconcat (type, "/", NULL);
  const char *found;
  const char *id;

  if (value == NULL)
    return NULL;

  if (g_str_has_prefix (value, prefix))
    found = value;
  else if ((found = strstr (value, prefix)) != NULL && found > value && found[-1] == '/')
    ;
  else if (wz_fhir_id_is_valid (value))
    return g_strconcat (prefix, value, NULL);
  else
    return NULL;

  id = found + strlen (prefix);
  /* A versioned reference (Patient/1/_history/2) still names the same patient. */
  {
    g_autofree char *bare = g_strndup (id, strcspn (id, "/"));

    if (!wz_fhir_id_is_valid (bare))
      return NULL;
    return g_strconcat (prefix, bare, NULL);
  }
}

typedef struct
{
  const char  *type;
  char       **first;
  WzFhirIndex *index;
  const char  *token_param;
} Collect;

static void
collect_first_reference (JsonNode *node,
                         gpointer  user_data)
{
  Collect *collect = user_data;

  if (*collect->first == NULL && JSON_NODE_HOLDS_VALUE (node) &&
      json_node_get_value_type (node) == G_TYPE_STRING &&
      strchr (json_node_get_string (node), '/') != NULL)
    *collect->first = wz_fhir_index_reference (collect->type, json_node_get_string (node));
}

static void
collect_reference_tokens (JsonNode *node,
                          gpointer  user_data)
{
  Collect *collect = user_data;
  char *reference;

  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return;

  /* Only references written as Type/ID count, so Practitioner/x never matches Patient/x. */
  if (strchr (json_node_get_string (node), '/') == NULL)
    return;

  reference = wz_fhir_index_reference (collect->type, json_node_get_string (node));
  if (reference != NULL)
    add_token (collect->index, collect->token_param, reference);
}

static void
collect_first_string (JsonNode *node,
                      gpointer  user_data)
{
  char **first = user_data;

  if (*first != NULL || !JSON_NODE_HOLDS_VALUE (node))
    return;

  if (json_node_get_value_type (node) == G_TYPE_STRING)
    *first = g_strdup (json_node_get_string (node));
  else if (json_node_get_value_type (node) == G_TYPE_BOOLEAN)
    *first = g_strdup (json_node_get_boolean (node) ? "true" : "false");
}

static void
each_path (JsonObject  *resource,
           const char  *paths,
           void       (*func) (JsonNode *, gpointer),
           gpointer     user_data)
{
  g_auto(GStrv) list = NULL;

  if (paths == NULL)
    return;

  list = g_strsplit (paths, ",", -1);
  for (guint i = 0; list[i] != NULL; i++)
    wz_fhir_walk_path (resource, list[i], func, user_data);
}

static char *
first_reference (JsonObject *resource,
                 const char *paths,
                 const char *type)
{
  char *first = NULL;
  g_auto(GStrv) list = NULL;
  Collect collect = { type, &first, NULL, NULL };

  if (paths == NULL)
    return NULL;

  /* Only explicit Type/ID references count: in Appointment.participant the same path leads to
   * the patient and to the practitioners. */
  list = g_strsplit (paths, ",", -1);
  for (guint i = 0; list[i] != NULL && first == NULL; i++)
    wz_fhir_walk_path (resource, list[i], collect_first_reference, &collect);

  return first;
}

static void
index_identifiers (WzFhirIndex *index,
                   JsonObject  *resource)
{
  g_autoptr(JsonArray) single = NULL;
  JsonNode *node = json_object_get_member (resource, "identifier");
  JsonArray *identifiers;

  if (node == NULL)
    return;

  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      single = json_array_new ();
      json_array_add_element (single, json_node_copy (node));
      identifiers = single;
    }
  else
    identifiers = json_node_get_array (node);

  for (guint i = 0; i < json_array_get_length (identifiers); i++)
    {
      JsonObject *identifier = json_array_get_object_element (identifiers, i);
      const char *system = json_object_get_string_member_with_default (identifier, "system", "");
      const char *value = json_object_get_string_member_with_default (identifier, "value", NULL);

      if (value == NULL)
        continue;

      add_token (index, "identifier", g_strconcat (system, "|", value, NULL));
      add_token (index, "identifier:value", g_strdup (value));
    }
}

static void
add_name_token (WzFhirIndex *index,
                const char  *param,
                const char  *text)
{
  char *folded;

  if (text == NULL || *text == '\0')
    return;

  folded = wz_fhir_index_fold (text);
  if (folded != NULL)
    add_token (index, param, folded);
}

static void
index_names (WzFhirIndex *index,
             JsonObject  *resource)
{
  JsonArray *names;

  if (!json_object_has_member (resource, "name"))
    return;

  names = json_object_get_array_member (resource, "name");
  for (guint i = 0; i < json_array_get_length (names); i++)
    {
      JsonObject *name = json_array_get_object_element (names, i);
      const char *family = json_object_get_string_member_with_default (name, "family", NULL);
      g_autoptr(GString) joined = g_string_new (family);

      add_name_token (index, "family", family);
      add_name_token (index, "name", family);
      add_name_token (index, "name", json_object_get_string_member_with_default (name, "text", NULL));

      if (json_object_has_member (name, "given"))
        {
          JsonArray *given = json_object_get_array_member (name, "given");

          for (guint g = 0; g < json_array_get_length (given); g++)
            {
              const char *part = json_array_get_string_element (given, g);

              add_name_token (index, "name", part);
              g_string_append (joined, part);
            }
        }

      /* Chinese names are written family-then-given without a space (李伟), and people search
       * for them that way. */
      add_name_token (index, "name", joined->str);

      if (index->family == NULL && family != NULL)
        index->family = wz_fhir_index_fold (family);
    }
}

WzFhirIndex *
wz_fhir_index_new (JsonObject *resource,
                   const char *id)
{
  const char *type = json_object_get_string_member_with_default (resource, "resourceType", "");
  const WzFhirTypeInfo *info = wz_fhir_type_info (type);
  WzFhirIndex *index = g_new0 (WzFhirIndex, 1);

  index->tokens = g_ptr_array_new_with_free_func (token_free);

  if (info == NULL)
    return index;

  if (strcmp (type, "Patient") == 0)
    index->patient = g_strconcat ("Patient/", id, NULL);
  else
    index->patient = first_reference (resource, info->patient_paths, "Patient");

  index->encounter = first_reference (resource, info->encounter_paths, "Encounter");

  if (info->status_path != NULL)
    each_path (resource, info->status_path, collect_first_string, &index->status);

  if (info->date_paths != NULL)
    {
      g_autofree char *date = NULL;

      each_path (resource, info->date_paths, collect_first_string, &date);
      index->date = wz_time_normalize_date (date);
    }

  if (info->practitioner_paths != NULL)
    {
      Collect collect = { "Practitioner", NULL, index, "practitioner" };

      each_path (resource, info->practitioner_paths, collect_reference_tokens, &collect);
    }

  index_identifiers (index, resource);

  if (info->has_names)
    index_names (index, resource);

  return index;
}

void
wz_fhir_index_free (WzFhirIndex *index)
{
  if (index == NULL)
    return;

  g_free (index->patient);
  g_free (index->encounter);
  g_free (index->status);
  g_free (index->date);
  g_free (index->family);
  g_ptr_array_unref (index->tokens);
  g_free (index);
}
