/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-followup"

#include "config.h"

#include "wz-followup.h"

#include <math.h>
#include <string.h>

#include "wz-careplan-template.h"
#include "wz-error.h"

/* ---- Civil dates ------------------------------------------------------------------------- */

WzDay
wz_day_from_ymd (guint year,
                 guint month,
                 guint day)
{
  GDate date;

  if (!g_date_valid_dmy (day, month, year))
    return WZ_DAY_NONE;

  g_date_clear (&date, 1);
  g_date_set_dmy (&date, day, month, year);
  return g_date_get_julian (&date);
}

void
wz_day_get_ymd (WzDay  day,
                guint *out_year,
                guint *out_month,
                guint *out_day)
{
  GDate date;

  g_date_clear (&date, 1);
  g_date_set_julian (&date, day);
  *out_year = g_date_get_year (&date);
  *out_month = g_date_get_month (&date);
  *out_day = g_date_get_day (&date);
}

static gboolean
parse_digits (const char *text,
              guint       n,
              guint      *out_value)
{
  guint value = 0;

  for (guint i = 0; i < n; i++)
    {
      if (!g_ascii_isdigit (text[i]))
        return FALSE;
      value = value * 10 + (text[i] - '0');
    }

  *out_value = value;
  return TRUE;
}

gboolean
wz_day_parse (const char *text,
              WzDay      *out_day)
{
  guint year, month, day;
  WzDay result;

  if (text == NULL || strlen (text) != 10 || text[4] != '-' || text[7] != '-' ||
      !parse_digits (text, 4, &year) || !parse_digits (text + 5, 2, &month) ||
      !parse_digits (text + 8, 2, &day) || year < 1)
    return FALSE;

  result = wz_day_from_ymd (year, month, day);
  if (result == WZ_DAY_NONE)
    return FALSE;

  *out_day = result;
  return TRUE;
}

gboolean
wz_day_parse_in_zone (const char *text,
                      GTimeZone  *tz,
                      WzDay      *out_day)
{
  g_autoptr(GDateTime) instant = NULL;
  g_autoptr(GDateTime) local = NULL;

  if (text == NULL)
    return FALSE;
  if (strlen (text) == 10)
    return wz_day_parse (text, out_day);
  if (strlen (text) < 11 || text[10] != 'T')
    return FALSE;

  /* FHIR requires a zone on a dateTime with a time; without one the day would be a guess. */
  if (!(g_str_has_suffix (text, "Z") || strchr (text + 11, '+') != NULL ||
        strchr (text + 11, '-') != NULL))
    return FALSE;

  instant = g_date_time_new_from_iso8601 (text, NULL);
  if (instant == NULL)
    return FALSE;
  local = g_date_time_to_timezone (instant, tz);
  if (local == NULL)
    return FALSE;

  *out_day = wz_day_from_ymd (g_date_time_get_year (local), g_date_time_get_month (local),
                              g_date_time_get_day_of_month (local));
  return *out_day != WZ_DAY_NONE;
}

char *
wz_day_format_buf (WzDay  day,
                   char  *buf)
{
  guint year, month, d;

  wz_day_get_ymd (day, &year, &month, &d);
  g_snprintf (buf, 11, "%04u-%02u-%02u", year, month, d);
  return buf;
}

char *
wz_day_format (WzDay day)
{
  char buf[16];

  return g_strdup (wz_day_format_buf (day, buf));
}

WzDay
wz_day_add_days (WzDay day,
                 gint  days)
{
  return (WzDay) ((gint64) day + days);
}

WzDay
wz_day_add (WzDay           day,
            const WzPeriod *period)
{
  guint year, month, d;
  gint64 months;

  switch (period->unit)
    {
    case WZ_PERIOD_DAY:
      return wz_day_add_days (day, period->value);
    case WZ_PERIOD_WEEK:
      return wz_day_add_days (day, period->value * 7);
    case WZ_PERIOD_MONTH:
      months = period->value;
      break;
    case WZ_PERIOD_YEAR:
    default:
      months = (gint64) period->value * 12;
      break;
    }

  wz_day_get_ymd (day, &year, &month, &d);
  months += (gint64) year * 12 + (month - 1);
  year = months / 12;
  month = months % 12 + 1;

  /* Every age in the schedule is a minimum age: rolling forward never makes a dose look valid
   * a day early (rules.date_arithmetic). */
  if (d > g_date_get_days_in_month (month, year))
    {
      d = 1;
      if (++month > 12)
        {
          month = 1;
          year++;
        }
    }

  return wz_day_from_ymd (year, month, d);
}

WzDay
wz_day_today (GTimeZone *tz,
              gint64     now_us)
{
  g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (now_us / G_USEC_PER_SEC);
  g_autoptr(GDateTime) local = g_date_time_to_timezone (utc, tz);

  return wz_day_from_ymd (g_date_time_get_year (local), g_date_time_get_month (local),
                          g_date_time_get_day_of_month (local));
}

GTimeZone *
wz_followup_time_zone (const char *name)
{
  GTimeZone *tz;

  if (name == NULL || *name == '\0' || strlen (name) > 64)
    return NULL;

  /* g_time_zone_new_identifier() accepts offsets too; the data and the API speak IANA names. */
  for (const char *p = name; *p; p++)
    if (!(g_ascii_isalnum (*p) || *p == '/' || *p == '_' || *p == '-' || *p == '+'))
      return NULL;

  tz = g_time_zone_new_identifier (name);
  return tz;
}

/* ---- Bilingual texts ---------------------------------------------------------------------- */

void
wz_text_clear (WzText *text)
{
  g_clear_pointer (&text->en, g_free);
  g_clear_pointer (&text->zh, g_free);
}

const char *
wz_lang_normalize (const char *lang)
{
  if (lang != NULL && g_ascii_strncasecmp (lang, "zh", 2) == 0)
    return "zh";
  return "en";
}

const char *
wz_text_get (const WzText *text,
             const char   *lang)
{
  gboolean zh = strcmp (wz_lang_normalize (lang), "zh") == 0;
  const char *first = zh ? text->zh : text->en;
  const char *second = zh ? text->en : text->zh;

  return first != NULL ? first : second;
}

void
wz_json_add_text (JsonBuilder  *builder,
                  const char   *member,
                  const WzText *text,
                  const char   *lang)
{
  const char *main_lang = wz_lang_normalize (lang);
  const char *other_lang = strcmp (main_lang, "zh") == 0 ? "en" : "zh";
  const char *main_text = wz_text_get (text, main_lang);
  const char *other_text = strcmp (other_lang, "zh") == 0 ? text->zh : text->en;
  g_autofree char *underscore = NULL;

  if (main_text == NULL)
    return;

  json_builder_set_member_name (builder, member);
  json_builder_add_string_value (builder, main_text);

  if (other_text == NULL || other_text == main_text)
    return;

  underscore = g_strconcat ("_", member, NULL);
  json_builder_set_member_name (builder, underscore);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "extension");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "url");
  json_builder_add_string_value (builder, WZ_FOLLOWUP_TRANSLATION_EXTENSION);
  json_builder_set_member_name (builder, "extension");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "url");
  json_builder_add_string_value (builder, "lang");
  json_builder_set_member_name (builder, "valueCode");
  json_builder_add_string_value (builder, other_lang);
  json_builder_end_object (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "url");
  json_builder_add_string_value (builder, "content");
  json_builder_set_member_name (builder, "valueString");
  json_builder_add_string_value (builder, other_text);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
}

static const char *
object_string (JsonObject *object,
               const char *member)
{
  JsonNode *node = object ? json_object_get_member (object, member) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

/* The language of a text written without a tag: Chinese when it has CJK characters. */
static gboolean
looks_chinese (const char *text)
{
  for (const char *p = text; *p; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c >= 0x4E00 && c <= 0x9FFF)
        return TRUE;
    }
  return FALSE;
}

void
wz_json_get_text (JsonObject *object,
                  const char *member,
                  WzText     *out_text)
{
  const char *main_text = object_string (object, member);
  g_autofree char *underscore = g_strconcat ("_", member, NULL);
  JsonNode *extra = json_object_get_member (object, underscore);
  JsonArray *extensions;

  out_text->en = NULL;
  out_text->zh = NULL;
  if (main_text == NULL)
    return;

  if (looks_chinese (main_text))
    out_text->zh = g_strdup (main_text);
  else
    out_text->en = g_strdup (main_text);

  if (extra == NULL || !JSON_NODE_HOLDS_OBJECT (extra))
    return;
  {
    JsonNode *ext_node = json_object_get_member (json_node_get_object (extra), "extension");

    if (ext_node == NULL || !JSON_NODE_HOLDS_ARRAY (ext_node))
      return;
    extensions = json_node_get_array (ext_node);
  }

  for (guint i = 0; i < json_array_get_length (extensions); i++)
    {
      JsonNode *element = json_array_get_element (extensions, i);
      JsonObject *extension;
      JsonNode *parts_node;
      const char *lang = NULL, *content = NULL;

      if (!JSON_NODE_HOLDS_OBJECT (element))
        continue;
      extension = json_node_get_object (element);
      if (g_strcmp0 (object_string (extension, "url"), WZ_FOLLOWUP_TRANSLATION_EXTENSION) != 0)
        continue;
      parts_node = json_object_get_member (extension, "extension");
      if (parts_node == NULL || !JSON_NODE_HOLDS_ARRAY (parts_node))
        continue;
      for (guint j = 0; j < json_array_get_length (json_node_get_array (parts_node)); j++)
        {
          JsonNode *part = json_array_get_element (json_node_get_array (parts_node), j);
          JsonObject *part_object;

          if (!JSON_NODE_HOLDS_OBJECT (part))
            continue;
          part_object = json_node_get_object (part);
          if (g_strcmp0 (object_string (part_object, "url"), "lang") == 0)
            lang = object_string (part_object, "valueCode");
          else if (g_strcmp0 (object_string (part_object, "url"), "content") == 0)
            content = object_string (part_object, "valueString");
        }
      if (lang == NULL || content == NULL)
        continue;
      if (strcmp (wz_lang_normalize (lang), "zh") == 0 && out_text->zh == NULL)
        out_text->zh = g_strdup (content);
      else if (strcmp (wz_lang_normalize (lang), "en") == 0 && out_text->en == NULL)
        out_text->en = g_strdup (content);
    }
}

/* ---- Strict reading of the data files ----------------------------------------------------- */

static const char *
kind_name (JsonNode *node)
{
  if (node == NULL)
    return "missing";
  switch (JSON_NODE_TYPE (node))
    {
    case JSON_NODE_OBJECT:
      return "an object";
    case JSON_NODE_ARRAY:
      return "an array";
    case JSON_NODE_NULL:
      return "null";
    case JSON_NODE_VALUE:
    default:
      break;
    }
  switch (json_node_get_value_type (node))
    {
    case G_TYPE_STRING:
      return "a string";
    case G_TYPE_BOOLEAN:
      return "a boolean";
    default:
      return "a number";
    }
}

static void
set_kind_error (GError     **error,
                const char  *where,
                const char  *member,
                const char  *expected,
                JsonNode    *node)
{
  if (node == NULL)
    g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "%s.%s is missing; expected %s", where,
                 member, expected);
  else
    g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "%s.%s is %s; expected %s", where, member,
                 kind_name (node), expected);
}

JsonObject *
wz_json_req_object (JsonObject  *object,
                    const char  *member,
                    const char  *where,
                    GError     **error)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      set_kind_error (error, where, member, "an object", node);
      return NULL;
    }
  return json_node_get_object (node);
}

JsonArray *
wz_json_req_array (JsonObject  *object,
                   const char  *member,
                   const char  *where,
                   GError     **error)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    {
      set_kind_error (error, where, member, "an array", node);
      return NULL;
    }
  return json_node_get_array (node);
}

const char *
wz_json_req_string (JsonObject  *object,
                    const char  *member,
                    const char  *where,
                    GError     **error)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING || *json_node_get_string (node) == '\0')
    {
      set_kind_error (error, where, member, "a non-empty string", node);
      return NULL;
    }
  return json_node_get_string (node);
}

gboolean
wz_json_opt_string (JsonObject  *object,
                    const char  *member,
                    const char  *where,
                    const char **out_value,
                    GError     **error)
{
  if (!json_object_has_member (object, member))
    return TRUE;
  *out_value = wz_json_req_string (object, member, where, error);
  return *out_value != NULL;
}

gboolean
wz_json_opt_boolean (JsonObject  *object,
                     const char  *member,
                     const char  *where,
                     gboolean    *out_value,
                     GError     **error)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    {
      set_kind_error (error, where, member, "true or false", node);
      return FALSE;
    }
  *out_value = json_node_get_boolean (node);
  return TRUE;
}

gboolean
wz_json_number (JsonNode *node,
                double   *out_value)
{
  GType type;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  type = json_node_get_value_type (node);
  if (type == G_TYPE_INT64)
    *out_value = (double) json_node_get_int (node);
  else if (type == G_TYPE_DOUBLE)
    *out_value = json_node_get_double (node);
  else
    return FALSE;
  return isfinite (*out_value);
}

gboolean
wz_json_opt_number (JsonObject  *object,
                    const char  *member,
                    const char  *where,
                    gboolean    *out_present,
                    double      *out_value,
                    GError     **error)
{
  JsonNode *node = json_object_get_member (object, member);

  *out_present = FALSE;
  if (node == NULL)
    return TRUE;
  if (!wz_json_number (node, out_value))
    {
      set_kind_error (error, where, member, "a number", node);
      return FALSE;
    }
  *out_present = TRUE;
  return TRUE;
}

gboolean
wz_json_req_int (JsonObject  *object,
                 const char  *member,
                 const char  *where,
                 gint         min,
                 gint         max,
                 gint        *out_value,
                 GError     **error)
{
  JsonNode *node = json_object_get_member (object, member);
  gint64 value;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_INT64)
    {
      set_kind_error (error, where, member, "a whole number", node);
      return FALSE;
    }
  value = json_node_get_int (node);
  if (value < min || value > max)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "%s.%s is %" G_GINT64_FORMAT
                   "; expected %d to %d", where, member, value, min, max);
      return FALSE;
    }
  *out_value = value;
  return TRUE;
}

gboolean
wz_json_req_text (JsonObject  *object,
                  const char  *member,
                  const char  *where,
                  WzText      *out_text,
                  GError     **error)
{
  g_autofree char *inner = g_strconcat (where, ".", member, NULL);
  JsonObject *text = wz_json_req_object (object, member, where, error);
  const char *en, *zh;

  if (text == NULL ||
      (en = wz_json_req_string (text, "en", inner, error)) == NULL ||
      (zh = wz_json_req_string (text, "zh", inner, error)) == NULL)
    return FALSE;

  wz_text_clear (out_text);
  out_text->en = g_strdup (en);
  out_text->zh = g_strdup (zh);
  return TRUE;
}

gboolean
wz_json_opt_text (JsonObject  *object,
                  const char  *member,
                  const char  *where,
                  WzText      *out_text,
                  GError     **error)
{
  if (!json_object_has_member (object, member))
    return TRUE;
  return wz_json_req_text (object, member, where, out_text, error);
}

gboolean
wz_json_period_from_node (JsonNode    *node,
                          const char  *where,
                          gboolean     allow_week,
                          WzPeriod    *out_period,
                          GError     **error)
{
  JsonObject *object;
  const char *unit;
  gint value;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "%s is %s; expected {value, unit}", where,
                   kind_name (node));
      return FALSE;
    }
  object = json_node_get_object (node);
  if (!wz_json_req_int (object, "value", where, 0, 1200, &value, error) ||
      (unit = wz_json_req_string (object, "unit", where, error)) == NULL)
    return FALSE;

  if (strcmp (unit, "day") == 0)
    out_period->unit = WZ_PERIOD_DAY;
  else if (strcmp (unit, "week") == 0 && allow_week)
    out_period->unit = WZ_PERIOD_WEEK;
  else if (strcmp (unit, "month") == 0)
    out_period->unit = WZ_PERIOD_MONTH;
  else if (strcmp (unit, "year") == 0)
    out_period->unit = WZ_PERIOD_YEAR;
  else
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "%s.unit is “%s”; expected day, %smonth "
                   "or year", where, unit, allow_week ? "week, " : "");
      return FALSE;
    }
  out_period->value = value;
  return TRUE;
}

gboolean
wz_json_req_period (JsonObject  *object,
                    const char  *member,
                    const char  *where,
                    gboolean     allow_week,
                    WzPeriod    *out_period,
                    GError     **error)
{
  g_autofree char *inner = g_strconcat (where, ".", member, NULL);

  return wz_json_period_from_node (json_object_get_member (object, member), inner, allow_week,
                                   out_period, error);
}

gboolean
wz_json_req_day_pair (JsonObject  *object,
                      const char  *member,
                      const char  *where,
                      gint        *out_first,
                      gint        *out_second,
                      GError     **error)
{
  JsonArray *pair = wz_json_req_array (object, member, where, error);
  double values[2];

  if (pair == NULL)
    return FALSE;
  if (json_array_get_length (pair) != 2)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "%s.%s has %u elements; expected two "
                   "whole numbers of days", where, member, json_array_get_length (pair));
      return FALSE;
    }
  for (guint i = 0; i < 2; i++)
    {
      JsonNode *element = json_array_get_element (pair, i);

      if (!JSON_NODE_HOLDS_VALUE (element) || json_node_get_value_type (element) != G_TYPE_INT64 ||
          !wz_json_number (element, &values[i]) || values[i] < 0 || values[i] > 3650)
        {
          g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "%s.%s[%u] is not a whole number of "
                       "days from 0 to 3650", where, member, i);
          return FALSE;
        }
    }
  *out_first = values[0];
  *out_second = values[1];
  return TRUE;
}

JsonNode *
wz_json_load_data (const char  *data,
                   gssize       length,
                   GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GError) local_error = NULL;
  JsonNode *root;

  if (length < 0)
    length = strlen (data);
  if (!g_utf8_validate (data, length, NULL))
    {
      g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INVALID, "the file is not valid UTF-8");
      return NULL;
    }
  if (!json_parser_load_from_data (parser, data, length, &local_error))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "the file is not valid JSON: %s",
                   local_error->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INVALID, "the file's root is not a JSON object");
      return NULL;
    }
  return json_node_ref (root);
}

/* ---- Task timing --------------------------------------------------------------------------- */

WzFollowupTiming
wz_followup_timing (WzDay due,
                    WzDay window_end,
                    WzDay today)
{
  if (window_end == WZ_DAY_NONE || window_end < due)
    window_end = due;

  if (today < due)
    return WZ_FOLLOWUP_UPCOMING;
  if (today > window_end)
    return WZ_FOLLOWUP_OVERDUE;
  return WZ_FOLLOWUP_DUE;
}

const char *
wz_followup_timing_to_string (WzFollowupTiming timing)
{
  switch (timing)
    {
    case WZ_FOLLOWUP_UPCOMING:
      return "upcoming";
    case WZ_FOLLOWUP_DUE:
      return "due";
    case WZ_FOLLOWUP_OVERDUE:
    default:
      return "overdue";
    }
}
