/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-search-query"

#include "config.h"

#include "wz-search-query.h"

#include <string.h>

#include "wz-error.h"
#include "wz-fhir.h"
#include "wz-fhir-index.h"
#include "wz-time.h"

typedef struct
{
  const char        *name;
  const char        *fhir_type;
  WzSearchParamKind  kind;
  const char        *token_param;  /* TOKEN/STRING: index parameter; NULL: the same as name */
  const char        *modifiers;    /* STRING: the modifiers it takes besides none, comma-separated */
} ParamDef;

/* The parameters of TYPE, derived from the same table that fills the index, so the
 * CapabilityStatement, the parser and the storage can never disagree. */
static GArray *
param_defs (const WzFhirTypeInfo *info)
{
  GArray *defs = g_array_new (FALSE, FALSE, sizeof (ParamDef));
  ParamDef def;

#define ADD_FULL(n, t, k, tp, m) G_STMT_START { \
    def.name = (n); def.fhir_type = (t); def.kind = (k); def.token_param = (tp); \
    def.modifiers = (m); g_array_append_val (defs, def); } G_STMT_END
#define ADD(n, t, k) ADD_FULL (n, t, k, NULL, NULL)

  ADD ("_id", "token", WZ_SEARCH_PARAM_ID);
  ADD ("_lastUpdated", "date", WZ_SEARCH_PARAM_LAST_UPDATED);
  ADD ("identifier", "token", WZ_SEARCH_PARAM_TOKEN);
  if (info->status_param != NULL)
    ADD (info->status_param, "token", WZ_SEARCH_PARAM_STATUS);
  if (info->patient_paths != NULL)
    {
      ADD ("patient", "reference", WZ_SEARCH_PARAM_PATIENT);
      if (g_str_has_prefix (info->patient_paths, "subject."))
        ADD ("subject", "reference", WZ_SEARCH_PARAM_PATIENT);
    }
  if (info->encounter_paths != NULL)
    ADD ("encounter", "reference", WZ_SEARCH_PARAM_ENCOUNTER);
  if (info->practitioner_paths != NULL)
    {
      ADD ("practitioner", "reference", WZ_SEARCH_PARAM_TOKEN);
      if (g_str_has_prefix (info->practitioner_paths, "generalPractitioner."))
        ADD_FULL ("general-practitioner", "reference", WZ_SEARCH_PARAM_TOKEN, "practitioner", NULL);
    }
  if (info->date_param != NULL)
    ADD (info->date_param, "date", WZ_SEARCH_PARAM_DATE);
  if (info->code_param != NULL)
    {
      ADD_FULL (info->code_param, "token", WZ_SEARCH_PARAM_TOKEN, "code", NULL);
      /* The shared worklist contract says "code" for every clinical type. */
      if (strcmp (info->code_param, "code") != 0)
        ADD_FULL ("code", "token", WZ_SEARCH_PARAM_TOKEN, "code", NULL);
    }
  if (info->category_paths != NULL)
    ADD ("category", "token", WZ_SEARCH_PARAM_TOKEN);
  if (info->reference_params != NULL)
    {
      g_auto(GStrv) params = g_strsplit (info->reference_params, ";", -1);

      for (guint i = 0; params[i] != NULL; i++)
        {
          g_autofree char *name = g_strndup (params[i], strcspn (params[i], "="));
          /* Interned: the definitions outlive this list. */
          const char *interned = g_intern_string (name);

          ADD (interned, "reference", WZ_SEARCH_PARAM_TOKEN);
        }
    }
  if (info->has_names)
    {
      ADD_FULL ("name", "string", WZ_SEARCH_PARAM_STRING, NULL, "contains,exact");
      ADD_FULL ("family", "string", WZ_SEARCH_PARAM_STRING, NULL, "exact");
      ADD ("pinyin", "string", WZ_SEARCH_PARAM_STRING);
      ADD ("phone", "token", WZ_SEARCH_PARAM_TOKEN);
      ADD ("q", "string", WZ_SEARCH_PARAM_TEXT);
    }

#undef ADD
#undef ADD_FULL

  return defs;
}

static gboolean
find_param_def (const WzFhirTypeInfo *info,
                const char           *name,
                ParamDef             *out_def)
{
  g_autoptr(GArray) defs = param_defs (info);

  for (guint i = 0; i < defs->len; i++)
    if (strcmp (g_array_index (defs, ParamDef, i).name, name) == 0)
      {
        *out_def = g_array_index (defs, ParamDef, i);
        return TRUE;
      }

  return FALSE;
}

char **
wz_search_query_supported (const char *type)
{
  const WzFhirTypeInfo *info = wz_fhir_type_info (type);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr(GArray) defs = NULL;

  g_return_val_if_fail (info != NULL, NULL);

  defs = param_defs (info);
  for (guint i = 0; i < defs->len; i++)
    {
      ParamDef *def = &g_array_index (defs, ParamDef, i);
      g_autofree char *entry = g_strconcat (def->name, ":", def->fhir_type, NULL);

      g_strv_builder_add (builder, entry);
    }

  return g_strv_builder_end (builder);
}

char **
wz_search_query_modifiers (const char *type,
                           const char *name)
{
  const WzFhirTypeInfo *info = wz_fhir_type_info (type);
  ParamDef def;

  if (info == NULL || !find_param_def (info, name, &def) || def.modifiers == NULL)
    return g_new0 (char *, 1);

  return g_strsplit (def.modifiers, ",", -1);
}

char **
wz_search_query_includes (const char *type)
{
  const WzFhirTypeInfo *info = wz_fhir_type_info (type);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  g_return_val_if_fail (info != NULL, NULL);

  if (info->patient_paths != NULL)
    {
      g_autofree char *patient = g_strconcat (type, ":patient", NULL);
      g_autofree char *subject = g_strconcat (type, ":subject", NULL);

      g_strv_builder_add (builder, patient);
      if (g_str_has_prefix (info->patient_paths, "subject."))
        g_strv_builder_add (builder, subject);
    }
  if (info->encounter_paths != NULL)
    {
      g_autofree char *encounter = g_strconcat (type, ":encounter", NULL);

      g_strv_builder_add (builder, encounter);
    }

  return g_strv_builder_end (builder);
}

static gboolean
sort_key_for (const WzFhirTypeInfo *info,
              const char           *name,
              WzSearchSortKey      *out_key)
{
  if (strcmp (name, "_id") == 0)
    *out_key = WZ_SEARCH_SORT_ID;
  else if (strcmp (name, "_lastUpdated") == 0)
    *out_key = WZ_SEARCH_SORT_LAST_UPDATED;
  else if (info->date_param != NULL && strcmp (name, info->date_param) == 0)
    *out_key = WZ_SEARCH_SORT_DATE;
  else if (info->has_names && strcmp (name, "family") == 0)
    *out_key = WZ_SEARCH_SORT_FAMILY;
  else if (info->status_param != NULL && strcmp (name, info->status_param) == 0)
    *out_key = WZ_SEARCH_SORT_STATUS;
  else if (info->priority_path != NULL && strcmp (name, "priority") == 0)
    *out_key = WZ_SEARCH_SORT_PRIORITY;
  else
    return FALSE;

  return TRUE;
}

char **
wz_search_query_sort_keys (const char *type)
{
  const WzFhirTypeInfo *info = wz_fhir_type_info (type);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  g_return_val_if_fail (info != NULL, NULL);

  g_strv_builder_add (builder, "_id");
  g_strv_builder_add (builder, "_lastUpdated");
  if (info->date_param != NULL)
    g_strv_builder_add (builder, info->date_param);
  if (info->has_names)
    g_strv_builder_add (builder, "family");
  if (info->status_param != NULL)
    g_strv_builder_add (builder, info->status_param);
  if (info->priority_path != NULL)
    g_strv_builder_add (builder, "priority");

  return g_strv_builder_end (builder);
}

static void
param_free (gpointer data)
{
  WzSearchParam *param = data;

  g_free (param->token_param);
  g_ptr_array_unref (param->values);
  g_free (param);
}

void
wz_search_query_free (WzSearchQuery *self)
{
  if (self == NULL)
    return;

  g_free (self->type);
  g_ptr_array_unref (self->params);
  g_array_unref (self->sort);
  g_free (self->canonical);
  g_free (self->visible_to_practitioner);
  g_free (self->visible_to_patient);
  g_free (self);
}

static const char *
strip_prefix (const char     *value,
              WzSearchPrefix *out_prefix)
{
  static const struct { const char *text; WzSearchPrefix prefix; } prefixes[] = {
    { "eq", WZ_SEARCH_EQ }, { "gt", WZ_SEARCH_GT }, { "lt", WZ_SEARCH_LT },
    { "ge", WZ_SEARCH_GE }, { "le", WZ_SEARCH_LE },
  };

  *out_prefix = WZ_SEARCH_EQ;
  for (guint i = 0; i < G_N_ELEMENTS (prefixes); i++)
    if (g_str_has_prefix (value, prefixes[i].text) && g_ascii_isdigit (value[2]))
      {
        *out_prefix = prefixes[i].prefix;
        return value + 2;
      }

  return value;
}

/* "Zhang Wei", "zhang'wei" → "zhangwei"; NULL unless only letters remain. */
static char *
normalize_pinyin (const char *value)
{
  GString *letters = g_string_new (NULL);

  for (const char *p = value; *p; p++)
    {
      if (g_ascii_isalpha (*p))
        g_string_append_c (letters, g_ascii_tolower (*p));
      else if (*p != ' ' && *p != '\'' && *p != '-')
        {
          g_string_free (letters, TRUE);
          return NULL;
        }
    }

  if (letters->len == 0)
    {
      g_string_free (letters, TRUE);
      return NULL;
    }

  return g_string_free (letters, FALSE);
}

/* The worklist box: case-folded, without surrounding spaces; a number typed with spaces or
 * dashes (138 1234 5678) is searched as its digits. */
static char *
normalize_text (const char *value)
{
  g_autofree char *folded = wz_fhir_index_fold (value);
  gboolean number_like = TRUE;
  gboolean has_digit = FALSE;

  if (folded == NULL)
    return NULL;
  g_strstrip (folded);
  if (*folded == '\0')
    return NULL;

  for (const char *p = folded; *p; p++)
    {
      if (g_ascii_isdigit (*p))
        has_digit = TRUE;
      else if (!strchr (" -+()", *p) && !(*p == 'x' && p[1] == '\0'))
        number_like = FALSE;
    }

  if (number_like && has_digit)
    {
      GString *digits = g_string_new (NULL);

      for (const char *p = folded; *p; p++)
        if (g_ascii_isdigit (*p) || *p == 'x')
          g_string_append_c (digits, *p);
      return g_string_free (digits, FALSE);
    }

  return g_steal_pointer (&folded);
}

static char *
normalize_value (const ParamDef  *def,
                 const char      *value,
                 GError         **error)
{
  char *normalized = NULL;

  switch (def->kind)
    {
    case WZ_SEARCH_PARAM_ID:
      if (wz_fhir_id_is_valid (value))
        normalized = g_strdup (value);
      break;

    case WZ_SEARCH_PARAM_PATIENT:
      normalized = wz_fhir_index_reference ("Patient", value);
      break;

    case WZ_SEARCH_PARAM_ENCOUNTER:
      normalized = wz_fhir_index_reference ("Encounter", value);
      break;

    case WZ_SEARCH_PARAM_TOKEN:
      if (g_strcmp0 (def->token_param, "practitioner") == 0 ||
          strcmp (def->name, "practitioner") == 0)
        normalized = wz_fhir_index_reference ("Practitioner", value);
      else if (strcmp (def->name, "phone") == 0)
        normalized = wz_fhir_index_phone_digits (value);
      else if (strcmp (def->fhir_type, "reference") == 0)
        normalized = wz_fhir_index_any_reference (value);
      else if (*value != '\0')
        normalized = g_strdup (value);
      break;

    case WZ_SEARCH_PARAM_STATUS:
      if (*value != '\0')
        normalized = g_strdup (value);
      break;

    case WZ_SEARCH_PARAM_STRING:
      if (strcmp (def->name, "pinyin") == 0)
        normalized = normalize_pinyin (value);
      else if (*value != '\0')
        normalized = wz_fhir_index_fold (value);
      break;

    case WZ_SEARCH_PARAM_TEXT:
      normalized = normalize_text (value);
      break;

    case WZ_SEARCH_PARAM_DATE:
    case WZ_SEARCH_PARAM_LAST_UPDATED:
    default:
      g_assert_not_reached ();
    }

  if (normalized == NULL)
    g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                 "“%s” is not a valid value for the %s parameter", value, def->name);

  return normalized;
}

static WzSearchParam *
parse_param (const ParamDef  *def,
             WzSearchMatch    match,
             const char      *raw_value,
             GError         **error)
{
  g_autoptr(GPtrArray) values = g_ptr_array_new_with_free_func (g_free);
  WzSearchParam *param;
  WzSearchPrefix prefix = WZ_SEARCH_EQ;
  gint64 start = 0, end = 0;

  if (def->kind == WZ_SEARCH_PARAM_DATE || def->kind == WZ_SEARCH_PARAM_LAST_UPDATED)
    {
      const char *value = strip_prefix (raw_value, &prefix);
      g_autoptr(GError) local_error = NULL;

      if (!wz_time_parse_range (value, &start, &end, &local_error))
        {
          g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "Parameter %s: %s", def->name,
                       local_error->message);
          return NULL;
        }
      g_ptr_array_add (values, wz_time_normalize_date (value));
    }
  else if (def->kind == WZ_SEARCH_PARAM_TEXT)
    {
      /* Free text is one value: a comma in it is part of what was typed. */
      char *normalized = normalize_value (def, raw_value, error);

      if (normalized == NULL)
        return NULL;
      g_ptr_array_add (values, normalized);
    }
  else
    {
      g_auto(GStrv) parts = g_strsplit (raw_value, ",", -1);

      for (guint i = 0; parts[i] != NULL; i++)
        {
          char *normalized = normalize_value (def, parts[i], error);

          if (normalized == NULL)
            return NULL;
          g_ptr_array_add (values, normalized);
        }
      if (values->len == 0)
        {
          g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "Parameter %s has no value", def->name);
          return NULL;
        }
    }

  param = g_new0 (WzSearchParam, 1);
  param->kind = def->kind;
  param->match = match;
  param->prefix = prefix;
  param->start_us = start;
  param->end_us = end;
  param->values = g_steal_pointer (&values);

  if (def->kind == WZ_SEARCH_PARAM_TOKEN &&
      (strcmp (def->name, "identifier") == 0 || g_strcmp0 (def->token_param, "code") == 0 ||
       strcmp (def->name, "category") == 0))
    {
      const char *base = def->token_param ? def->token_param : def->name;

      /* system|value matches exactly; a bare value matches it under any system. All values of
       * one parameter share a form so they can be looked up together. */
      gboolean with_system = strchr (g_ptr_array_index (param->values, 0), '|') != NULL;

      for (guint i = 1; i < param->values->len; i++)
        if ((strchr (g_ptr_array_index (param->values, i), '|') != NULL) != with_system)
          {
            g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                         "%s values must all have a system|, or none", def->name);
            param_free (param);
            return NULL;
          }
      param->token_param = with_system ? g_strdup (base) : g_strconcat (base, ":value", NULL);
    }
  else if (def->kind == WZ_SEARCH_PARAM_TOKEN || def->kind == WZ_SEARCH_PARAM_STRING)
    param->token_param = g_strdup (def->token_param ? def->token_param : def->name);

  return param;
}

static gboolean
parse_uint (const char  *name,
            const char  *value,
            guint        max,
            guint       *out_value,
            GError     **error)
{
  guint64 parsed;

  if (!g_ascii_string_to_unsigned (value, 10, 0, G_MAXUINT32, &parsed, NULL))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                   "%s must be a whole number, not “%s”", name, value);
      return FALSE;
    }

  *out_value = MIN (parsed, max);
  return TRUE;
}

static gboolean
parse_sort (WzSearchQuery         *self,
            const WzFhirTypeInfo  *info,
            const char            *value,
            GError               **error)
{
  g_auto(GStrv) keys = g_strsplit (value, ",", -1);

  for (guint i = 0; keys[i] != NULL; i++)
    {
      WzSearchSort sort = { 0, FALSE };
      const char *name = keys[i];

      if (*name == '-')
        {
          sort.descending = TRUE;
          name++;
        }

      if (!sort_key_for (info, name, &sort.key))
        {
          g_auto(GStrv) supported = wz_search_query_sort_keys (info->name);
          g_autofree char *list = g_strjoinv (", ", supported);

          g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                       "%s cannot be sorted by “%s”; supported: %s", info->name, name, list);
          return FALSE;
        }

      g_array_append_val (self->sort, sort);
    }

  return TRUE;
}

static gboolean
parse_modifier (const char      *type,
                const ParamDef  *def,
                const char      *modifier,
                WzSearchMatch   *out_match,
                GError         **error)
{
  g_auto(GStrv) allowed = def->modifiers ? g_strsplit (def->modifiers, ",", -1) : NULL;

  if (allowed != NULL && g_strv_contains ((const char * const *) allowed, modifier))
    {
      *out_match = strcmp (modifier, "contains") == 0 ? WZ_SEARCH_MATCH_CONTAINS
                                                      : WZ_SEARCH_MATCH_EXACT;
      return TRUE;
    }

  if (allowed == NULL)
    g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                 "%s search parameter %s takes no modifier, not “:%s”", type, def->name, modifier);
  else
    {
      g_autofree char *list = g_strjoinv (", :", allowed);

      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                   "%s search parameter %s does not support “:%s”; supported: :%s", type,
                   def->name, modifier, list);
    }

  return FALSE;
}

/* _include=Encounter:subject (also with the target type, Encounter:subject:Patient). */
static gboolean
parse_include (WzSearchQuery         *self,
               const WzFhirTypeInfo  *info,
               const char            *value,
               GError               **error)
{
  g_auto(GStrv) supported = wz_search_query_includes (info->name);
  g_auto(GStrv) parts = g_strsplit (value, ":", 4);
  g_autofree char *bare = NULL;
  guint n = g_strv_length (parts);

  if (n == 2 || (n == 3 && (strcmp (parts[2], "Patient") == 0 ||
                            strcmp (parts[2], "Encounter") == 0)))
    {
      bare = g_strconcat (parts[0], ":", parts[1], NULL);
      if (g_strv_contains ((const char * const *) supported, bare))
        {
          gboolean patient = strcmp (parts[1], "encounter") != 0;

          if (n == 3 && strcmp (parts[2], patient ? "Patient" : "Encounter") != 0)
            ;
          else
            {
              self->include |= patient ? WZ_SEARCH_INCLUDE_PATIENT : WZ_SEARCH_INCLUDE_ENCOUNTER;
              return TRUE;
            }
        }
    }

  {
    g_autofree char *list = g_strjoinv (", ", supported);

    g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                 "_include “%s” is not supported on %s%s%s", value, info->name,
                 *list ? "; supported: " : "", list);
  }
  return FALSE;
}

static void
append_canonical (GString    *canonical,
                  const char *name,
                  const char *value)
{
  g_autofree char *escaped = g_uri_escape_string (value, ":|/,", FALSE);

  if (canonical->len > 0)
    g_string_append_c (canonical, '&');
  g_string_append_printf (canonical, "%s=%s", name, escaped);
}

WzSearchQuery *
wz_search_query_parse (const char  *type,
                       const char  *query,
                       GError     **error)
{
  const WzFhirTypeInfo *info = wz_fhir_type_info (type);
  g_autoptr(WzSearchQuery) self = NULL;
  g_autoptr(GString) canonical = g_string_new (NULL);
  g_autoptr(GError) local_error = NULL;
  GUriParamsIter iter;
  char *name;
  char *value;

  if (info == NULL)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_NOT_FOUND,
                   "“%s” is not a resource type this server supports", type);
      return NULL;
    }

  self = g_new0 (WzSearchQuery, 1);
  self->type = g_strdup (type);
  self->params = g_ptr_array_new_with_free_func (param_free);
  self->sort = g_array_new (FALSE, FALSE, sizeof (WzSearchSort));
  self->count = WZ_SEARCH_DEFAULT_COUNT;

  if (query == NULL)
    query = "";

  g_uri_params_iter_init (&iter, query, -1, "&", G_URI_PARAMS_NONE);
  while (g_uri_params_iter_next (&iter, &name, &value, &local_error))
    {
      g_autofree char *owned_name = name;
      g_autofree char *owned_value = value;
      ParamDef def;

      if (strcmp (name, "_count") == 0)
        {
          if (!parse_uint (name, value, WZ_SEARCH_MAX_COUNT, &self->count, error))
            return NULL;
          continue;
        }
      if (strcmp (name, "_offset") == 0)
        {
          if (!parse_uint (name, value, G_MAXINT32, &self->offset, error))
            return NULL;
          continue;
        }
      if (strcmp (name, "_cursor") == 0)
        {
          guint64 after;

          if (!g_ascii_string_to_unsigned (value, 10, 1, G_MAXINT64, &after, NULL))
            {
              g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                           "_cursor “%s” is not one this server gave in a next link", value);
              return NULL;
            }
          self->after = (gint64) after;
          continue;
        }
      /* Only JSON is served; the format and pretty-printing hints change nothing. */
      if (strcmp (name, "_format") == 0 || strcmp (name, "_pretty") == 0)
        continue;

      append_canonical (canonical, name, value);

      if (strcmp (name, "_sort") == 0)
        {
          if (!parse_sort (self, info, value, error))
            return NULL;
          continue;
        }

      if (strcmp (name, "_total") == 0)
        {
          if (strcmp (value, "accurate") == 0)
            self->total = WZ_SEARCH_TOTAL_ACCURATE;
          else if (strcmp (value, "estimate") == 0)
            self->total = WZ_SEARCH_TOTAL_ESTIMATE;
          else if (strcmp (value, "none") == 0)
            self->total = WZ_SEARCH_TOTAL_NONE;
          else
            {
              g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                           "_total must be none, estimate or accurate, not “%s”", value);
              return NULL;
            }
          continue;
        }

      if (strcmp (name, "_include") == 0)
        {
          if (!parse_include (self, info, value, error))
            return NULL;
          continue;
        }

      {
        g_autofree char *base = g_strndup (name, strcspn (name, ":"));
        const char *modifier = name[strlen (base)] == ':' ? name + strlen (base) + 1 : NULL;
        WzSearchMatch match = WZ_SEARCH_MATCH_PREFIX;
        WzSearchParam *param;

        if (!find_param_def (info, base, &def))
          {
            g_auto(GStrv) supported = wz_search_query_supported (type);
            g_autoptr(GString) list = g_string_new (NULL);

            for (guint i = 0; supported[i] != NULL; i++)
              {
                if (i > 0)
                  g_string_append (list, ", ");
                g_string_append_len (list, supported[i], strcspn (supported[i], ":"));
              }
            g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                         "%s has no search parameter “%s”; supported: %s, _count, _offset, _sort, "
                         "_include, _total", type, base, list->str);
            return NULL;
          }

        if (modifier != NULL && !parse_modifier (type, &def, modifier, &match, error))
          return NULL;

        if ((param = parse_param (&def, match, value, error)) == NULL)
          return NULL;
        g_ptr_array_add (self->params, param);
      }
    }

  if (local_error != NULL)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "Malformed query string: %s",
                   local_error->message);
      return NULL;
    }

  self->canonical = g_string_free (g_steal_pointer (&canonical), FALSE);
  return g_steal_pointer (&self);
}

char *
wz_search_query_page_string (const WzSearchQuery *self,
                             guint                offset)
{
  return wz_search_query_page_string_after (self, offset, 0);
}

char *
wz_search_query_page_string_after (const WzSearchQuery *self,
                                   guint                offset,
                                   gint64               after)
{
  GString *page = g_string_new (self->canonical);

  g_string_append_printf (page, "%s_count=%u&_offset=%u", *self->canonical ? "&" : "",
                          self->count, offset);
  if (after > 0)
    g_string_append_printf (page, "&_cursor=%" G_GINT64_FORMAT, after);

  return g_string_free (page, FALSE);
}
