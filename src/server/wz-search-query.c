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
} ParamDef;

/* The parameters of TYPE, derived from the same table that fills the index, so the
 * CapabilityStatement, the parser and the storage can never disagree. */
static GArray *
param_defs (const WzFhirTypeInfo *info)
{
  GArray *defs = g_array_new (FALSE, FALSE, sizeof (ParamDef));
  ParamDef def;

#define ADD(n, t, k) G_STMT_START { def.name = (n); def.fhir_type = (t); def.kind = (k); \
                                    g_array_append_val (defs, def); } G_STMT_END

  ADD ("_id", "token", WZ_SEARCH_PARAM_ID);
  ADD ("_lastUpdated", "date", WZ_SEARCH_PARAM_LAST_UPDATED);
  ADD ("identifier", "token", WZ_SEARCH_PARAM_TOKEN);
  if (info->status_param != NULL)
    ADD (info->status_param, "token", WZ_SEARCH_PARAM_STATUS);
  if (info->patient_paths != NULL)
    ADD ("patient", "reference", WZ_SEARCH_PARAM_PATIENT);
  if (info->encounter_paths != NULL)
    ADD ("encounter", "reference", WZ_SEARCH_PARAM_ENCOUNTER);
  if (info->practitioner_paths != NULL)
    ADD ("practitioner", "reference", WZ_SEARCH_PARAM_TOKEN);
  if (info->date_param != NULL)
    ADD (info->date_param, "date", WZ_SEARCH_PARAM_DATE);
  if (info->has_names)
    {
      ADD ("name", "string", WZ_SEARCH_PARAM_STRING);
      ADD ("family", "string", WZ_SEARCH_PARAM_STRING);
    }

#undef ADD

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
      if (strcmp (def->name, "practitioner") == 0)
        normalized = wz_fhir_index_reference ("Practitioner", value);
      else if (*value != '\0')
        normalized = g_strdup (value);
      break;

    case WZ_SEARCH_PARAM_STATUS:
      if (*value != '\0')
        normalized = g_strdup (value);
      break;

    case WZ_SEARCH_PARAM_STRING:
      if (*value != '\0')
        normalized = wz_fhir_index_fold (value);
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
  param->prefix = prefix;
  param->start_us = start;
  param->end_us = end;
  param->values = g_steal_pointer (&values);

  if (def->kind == WZ_SEARCH_PARAM_TOKEN && strcmp (def->name, "identifier") == 0)
    {
      /* system|value matches exactly; a bare value matches it under any system. All values of
       * one parameter share a form so they can be looked up together. */
      gboolean with_system = strchr (g_ptr_array_index (param->values, 0), '|') != NULL;

      for (guint i = 1; i < param->values->len; i++)
        if ((strchr (g_ptr_array_index (param->values, i), '|') != NULL) != with_system)
          {
            g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INVALID,
                                 "identifier values must all have a system|, or none");
            param_free (param);
            return NULL;
          }
      param->token_param = g_strdup (with_system ? "identifier" : "identifier:value");
    }
  else if (def->kind == WZ_SEARCH_PARAM_TOKEN || def->kind == WZ_SEARCH_PARAM_STRING)
    param->token_param = g_strdup (def->name);

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

      if (!find_param_def (info, name, &def))
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
                       "%s has no search parameter “%s”; supported: %s, _count, _offset, _sort",
                       type, name, list->str);
          return NULL;
        }

      {
        WzSearchParam *param = parse_param (&def, value, error);

        if (param == NULL)
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
  return g_strdup_printf ("%s%s_count=%u&_offset=%u",
                          self->canonical, *self->canonical ? "&" : "", self->count, offset);
}
