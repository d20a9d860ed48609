/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-fhir-index"

#include "config.h"

#include "wz-fhir-index.h"

#include <string.h>

#include "wz-fhir.h"
#include "wz-pinyin.h"
#include "wz-time.h"
#include "wz-json.h"

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

char *
wz_fhir_index_any_reference (const char *value)
{
  const char *slash;
  g_autofree char *type = NULL;
  const char *start;

  if (value == NULL || (slash = strchr (value, '/')) == NULL)
    return NULL;
  /* The type is the path segment before the id: "Practitioner/1", or the end of a URL
   * "https://host/fhir/Practitioner/1" (a versioned reference names the same resource). */
  for (const char *p = value; (p = strchr (p, '/')) != NULL; p++)
    {
      start = p;
      while (start > value && start[-1] != '/')
        start--;
      g_free (type);
      type = g_strndup (start, p - start);
      if (wz_fhir_type_is_supported (type))
        return wz_fhir_index_reference (type, start);
    }
  return NULL;
}

static void
collect_any_reference (JsonNode *node,
                       gpointer  user_data)
{
  Collect *collect = user_data;
  char *reference;

  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return;
  reference = wz_fhir_index_any_reference (json_node_get_string (node));
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

/* Adds one line to a full-text column unless it is there already. */
static void
add_text_line (GString    *text,
               const char *line)
{
  gsize n = strlen (line);

  if (n == 0)
    return;

  for (const char *p = text->str; (p = strstr (p, line)) != NULL; p++)
    if ((p == text->str || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
      return;

  if (text->len > 0)
    g_string_append_c (text, '\n');
  g_string_append (text, line);
}

/* Every one and two Han characters in a row. */
static void
add_grams (WzFhirIndex *index,
           const char  *folded)
{
  const char *previous = NULL;

  for (const char *p = folded; *p; p = g_utf8_next_char (p))
    {
      const char *next = g_utf8_next_char (p);

      if (g_unichar_get_script (g_utf8_get_char (p)) != G_UNICODE_SCRIPT_HAN)
        {
          previous = NULL;
          continue;
        }

      add_token (index, "name:gram", g_strndup (p, next - p));
      if (previous != NULL)
        add_token (index, "name:gram", g_strndup (previous, next - previous));
      previous = p;
    }
}

static void
add_name_token (WzFhirIndex *index,
                GString     *names,
                const char  *param,
                const char  *text)
{
  char *folded;

  if (text == NULL || *text == '\0')
    return;

  folded = wz_fhir_index_fold (text);
  if (folded == NULL)
    return;

  add_text_line (names, folded);
  add_grams (index, folded);
  add_token (index, param, folded);
}

/* Adds VALUE as a pinyin token, and, when it has a ü (v), also the spelling with u, which is how
 * it is printed (吕 Lu) and often typed. */
static void
add_pinyin_token (WzFhirIndex *index,
                  GString     *keys,
                  const char  *value,
                  gboolean     to_text)
{
  g_autofree char *with_u = NULL;

  if (*value == '\0')
    return;

  add_token (index, "pinyin", g_strdup (value));
  if (to_text)
    add_text_line (keys, value);

  if (strchr (value, 'v') != NULL)
    {
      with_u = g_strdelimit (g_strdup (value), "v", 'u');
      add_token (index, "pinyin", g_strdup (with_u));
      if (to_text)
        add_text_line (keys, with_u);
    }
}

/* Pinyin of a Chinese name: initials (zxy), whole (zhangxiuying) and given name (xiuying), so
 * the worklist finds 张秀英 from any of them. */
static void
index_pinyin (WzFhirIndex *index,
              GString     *keys,
              const char  *family,
              const char  *given,
              const char  *text)
{
  g_auto(GStrv) family_syllables = NULL;
  g_auto(GStrv) given_syllables = NULL;
  g_autoptr(GString) initials = g_string_new (NULL);
  g_autoptr(GString) whole = g_string_new (NULL);
  g_autoptr(GString) given_whole = g_string_new (NULL);

  if (wz_pinyin_has_han (family) || wz_pinyin_has_han (given))
    {
      family_syllables = wz_pinyin_syllables (family);
      given_syllables = wz_pinyin_syllables (given);
    }
  else if (wz_pinyin_has_han (text))
    {
      family_syllables = g_new0 (char *, 1);
      given_syllables = wz_pinyin_syllables (text);
    }
  else
    return;

  for (guint i = 0; family_syllables[i] != NULL; i++)
    {
      g_string_append_c (initials, family_syllables[i][0]);
      g_string_append (whole, family_syllables[i]);
    }
  for (guint i = 0; given_syllables[i] != NULL; i++)
    {
      g_string_append_c (initials, given_syllables[i][0]);
      g_string_append (whole, given_syllables[i]);
      g_string_append (given_whole, given_syllables[i]);
    }

  add_pinyin_token (index, keys, initials->str, FALSE);
  add_pinyin_token (index, keys, whole->str, TRUE);
  if (family_syllables[0] != NULL)
    add_pinyin_token (index, keys, given_whole->str, FALSE);
}

static void
index_names (WzFhirIndex *index,
             JsonObject  *resource,
             GString     *names_text,
             GString     *keys_text)
{
  JsonArray *names;

  if (!json_object_has_member (resource, "name"))
    return;

  names = json_object_get_array_member (resource, "name");
  for (guint i = 0; i < json_array_get_length (names); i++)
    {
      JsonObject *name = json_array_get_object_element (names, i);
      const char *family = json_object_get_string_member_with_default (name, "family", NULL);
      const char *text = json_object_get_string_member_with_default (name, "text", NULL);
      g_autoptr(GString) joined = g_string_new (family);
      g_autoptr(GString) given_joined = g_string_new (NULL);

      add_name_token (index, names_text, "family", family);
      add_name_token (index, names_text, "name", family);
      add_name_token (index, names_text, "name", text);

      if (json_object_has_member (name, "given"))
        {
          JsonArray *given = json_object_get_array_member (name, "given");

          for (guint g = 0; g < json_array_get_length (given); g++)
            {
              const char *part = json_array_get_string_element (given, g);

              add_name_token (index, names_text, "name", part);
              g_string_append (joined, part);
              g_string_append (given_joined, part);
            }
        }

      /* Chinese names are written family-then-given without a space (李伟), and people search
       * for them that way. */
      add_name_token (index, names_text, "name", joined->str);
      index_pinyin (index, keys_text, family, given_joined->str, text);

      if (index->family == NULL && family != NULL)
        index->family = wz_fhir_index_fold (family);
    }
}

char *
wz_fhir_index_phone_digits (const char *text)
{
  GString *digits = g_string_new (NULL);

  for (const char *p = text; p != NULL && *p; p++)
    if (g_ascii_isdigit (*p))
      g_string_append_c (digits, *p);

  if (digits->len == 0)
    {
      g_string_free (digits, TRUE);
      return NULL;
    }

  return g_string_free (digits, FALSE);
}

static void
index_telecom (WzFhirIndex *index,
               JsonObject  *resource,
               GString     *keys_text)
{
  JsonNode *node = json_object_get_member (resource, "telecom");
  JsonArray *telecom;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return;

  telecom = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (telecom); i++)
    {
      JsonNode *element = json_array_get_element (telecom, i);
      JsonObject *point;
      const char *system;
      const char *value;
      char *digits;

      if (!JSON_NODE_HOLDS_OBJECT (element))
        continue;
      point = json_node_get_object (element);
      system = wz_json_get_string (point, "system");
      value = wz_json_get_string (point, "value");
      if (system == NULL)
        system = "phone";
      if ((strcmp (system, "phone") != 0 && strcmp (system, "sms") != 0) || value == NULL ||
          (digits = wz_fhir_index_phone_digits (value)) == NULL)
        continue;

      add_text_line (keys_text, digits);
      /* A mainland mobile number is written with and without +86; either finds it. */
      if (g_str_has_prefix (digits, "86") && strlen (digits) == 13)
        add_token (index, "phone", g_strdup (digits + 2));
      else if (strlen (digits) == 11 && digits[0] == '1')
        add_token (index, "phone", g_strconcat ("86", digits, NULL));
      add_token (index, "phone", digits);
    }
}

typedef struct
{
  WzFhirIndex *index;
  const char  *param;
} CodeCollect;

static void
collect_code (JsonNode *node,
              gpointer  user_data)
{
  CodeCollect *collect = user_data;
  g_autofree char *value_param = g_strconcat (collect->param, ":value", NULL);
  const char *system = "";
  const char *code = NULL;

  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *coding = json_node_get_object (node);

      if (wz_json_get_string (coding, "system") != NULL)
        system = wz_json_get_string (coding, "system");
      code = wz_json_get_string (coding, "code");
    }
  else if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    code = json_node_get_string (node);

  if (code == NULL || *code == '\0')
    return;

  add_token (collect->index, collect->param, g_strconcat (system, "|", code, NULL));
  add_token (collect->index, value_param, g_strdup (code));
}

/* v3-ActPriority codes in the order a queue takes them. */
static gint
priority_rank (const char *code)
{
  static const char *const order[] = { "EM", "UR", "R", "EL" };

  for (guint i = 0; code != NULL && i < G_N_ELEMENTS (order); i++)
    if (strcmp (code, order[i]) == 0)
      return i + 1;

  return 0;
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

  if (info->reference_params != NULL)
    {
      g_auto(GStrv) params = g_strsplit (info->reference_params, ";", -1);

      for (guint i = 0; params[i] != NULL; i++)
        {
          g_autofree char *name = g_strndup (params[i], strcspn (params[i], "="));
          const char *path = params[i] + strlen (name);

          if (*path == '=')
            wz_fhir_walk_path (resource, path + 1, collect_any_reference,
                               &(Collect) { NULL, NULL, index, name });
        }
    }

  index_identifiers (index, resource);

  if (info->code_paths != NULL)
    {
      CodeCollect collect = { index, "code" };

      each_path (resource, info->code_paths, collect_code, &collect);
    }
  if (info->category_paths != NULL)
    {
      CodeCollect collect = { index, "category" };

      each_path (resource, info->category_paths, collect_code, &collect);
    }
  if (info->priority_path != NULL)
    {
      g_autofree char *code = NULL;

      each_path (resource, info->priority_path, collect_first_string, &code);
      index->priority = priority_rank (code);
    }

  if (info->has_names)
    {
      g_autoptr(GString) names_text = g_string_new (NULL);
      g_autoptr(GString) keys_text = g_string_new (NULL);

      index_names (index, resource, names_text, keys_text);
      index_telecom (index, resource, keys_text);
      for (guint i = 0; i < index->tokens->len; i++)
        {
          WzFhirToken *token = g_ptr_array_index (index->tokens, i);

          if (strcmp (token->param, "identifier:value") == 0)
            {
              g_autofree char *folded = wz_fhir_index_fold (token->value);

              if (folded != NULL)
                add_text_line (keys_text, folded);
            }
        }
      index->names_text = g_string_free (g_steal_pointer (&names_text), FALSE);
      index->keys_text = g_string_free (g_steal_pointer (&keys_text), FALSE);
    }

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
  g_free (index->names_text);
  g_free (index->keys_text);
  g_ptr_array_unref (index->tokens);
  g_free (index);
}
