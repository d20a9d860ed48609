/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-followup"

#include "config.h"

#include "wz-followup.h"
#include "wz-json.h"

#include <math.h>
#include <stdlib.h>
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

/* RFC 3339 date-time with a zone to Unix seconds. Done by hand because schedules read many of
 * these and GDateTime builds a time zone object for every offset it parses. */
static gboolean
parse_date_time (const char *text,
                 gint64     *out_seconds)
{
  guint year, month, day, hour, minute, second, zone_hours, zone_minutes;
  const char *p = text + 19;
  gint64 offset = 0;
  WzDay date;

  if (strlen (text) < 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' ||
      text[13] != ':' || text[16] != ':' ||
      !parse_digits (text, 4, &year) || !parse_digits (text + 5, 2, &month) ||
      !parse_digits (text + 8, 2, &day) || !parse_digits (text + 11, 2, &hour) ||
      !parse_digits (text + 14, 2, &minute) || !parse_digits (text + 17, 2, &second) ||
      hour > 23 || minute > 59 || second > 59 || year < 1 ||
      (date = wz_day_from_ymd (year, month, day)) == WZ_DAY_NONE)
    return FALSE;

  if (*p == '.')
    {
      if (!g_ascii_isdigit (*++p))
        return FALSE;
      while (g_ascii_isdigit (*p))
        p++;
    }
  if (p[0] == 'Z' && p[1] == '\0')
    offset = 0;
  else if ((p[0] == '+' || p[0] == '-') && strlen (p) == 6 && p[3] == ':' &&
           parse_digits (p + 1, 2, &zone_hours) && parse_digits (p + 4, 2, &zone_minutes) &&
           zone_hours < 24 && zone_minutes < 60)
    offset = (p[0] == '-' ? -1 : 1) * (gint64) (zone_hours * 3600 + zone_minutes * 60);
  else
    return FALSE;

  *out_seconds = ((gint64) date - (gint64) wz_day_from_ymd (1970, 1, 1)) * 86400 +
                 hour * 3600 + minute * 60 + second - offset;
  return TRUE;
}

gboolean
wz_day_parse_in_zone (const char *text,
                      GTimeZone  *tz,
                      WzDay      *out_day)
{
  gint64 seconds, local;
  gint interval;

  if (text == NULL)
    return FALSE;
  if (strlen (text) == 10)
    return wz_day_parse (text, out_day);
  /* FHIR requires a zone on a dateTime with a time; without one the day would be a guess. */
  if (!parse_date_time (text, &seconds))
    return FALSE;

  interval = g_time_zone_find_interval (tz, G_TIME_TYPE_UNIVERSAL, seconds);
  local = seconds + (interval >= 0 ? g_time_zone_get_offset (tz, interval) : 0);
  *out_day = (WzDay) ((gint64) wz_day_from_ymd (1970, 1, 1) +
                      (local >= 0 ? local / 86400 : -((-local + 86399) / 86400)));
  return TRUE;
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
  const char *main_text = wz_json_get_string (object, member);
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
      if (g_strcmp0 (wz_json_get_string (extension, "url"), WZ_FOLLOWUP_TRANSLATION_EXTENSION) != 0)
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
          if (g_strcmp0 (wz_json_get_string (part_object, "url"), "lang") == 0)
            lang = wz_json_get_string (part_object, "valueCode");
          else if (g_strcmp0 (wz_json_get_string (part_object, "url"), "content") == 0)
            content = wz_json_get_string (part_object, "valueString");
        }
      if (lang == NULL || content == NULL)
        continue;
      if (strcmp (wz_lang_normalize (lang), "zh") == 0 && out_text->zh == NULL)
        out_text->zh = g_strdup (content);
      else if (strcmp (wz_lang_normalize (lang), "en") == 0 && out_text->en == NULL)
        out_text->en = g_strdup (content);
    }
}

/* ---- Writing JSON fast ---------------------------------------------------------------------- */

void
wz_json_writer_init (WzJsonWriter *writer)
{
  memset (writer, 0, sizeof *writer);
  writer->out = g_string_sized_new (4096);
}

static void
before_value (WzJsonWriter *writer)
{
  if (writer->after_member)
    {
      writer->after_member = FALSE;
      return;
    }
  if (writer->has_items[writer->depth])
    g_string_append_c (writer->out, ',');
  writer->has_items[writer->depth] = TRUE;
}

static void
open_container (WzJsonWriter *writer,
                char          c)
{
  before_value (writer);
  g_string_append_c (writer->out, c);
  g_return_if_fail (writer->depth + 1 < G_N_ELEMENTS (writer->has_items));
  writer->has_items[++writer->depth] = FALSE;
}

void
wz_json_writer_begin_object (WzJsonWriter *writer)
{
  open_container (writer, '{');
}

void
wz_json_writer_begin_array (WzJsonWriter *writer)
{
  open_container (writer, '[');
}

void
wz_json_writer_end_object (WzJsonWriter *writer)
{
  writer->depth--;
  g_string_append_c (writer->out, '}');
}

void
wz_json_writer_end_array (WzJsonWriter *writer)
{
  writer->depth--;
  g_string_append_c (writer->out, ']');
}

static void
append_escaped (GString    *out,
                const char *value)
{
  const char *run = value;

  g_string_append_c (out, '"');
  for (const char *p = value; *p; p++)
    {
      guchar c = *p;

      if (G_LIKELY (c >= 0x20 && c != '"' && c != '\\'))
        continue;
      g_string_append_len (out, run, p - run);
      switch (c)
        {
        case '"':
          g_string_append (out, "\\\"");
          break;
        case '\\':
          g_string_append (out, "\\\\");
          break;
        case '\n':
          g_string_append (out, "\\n");
          break;
        case '\r':
          g_string_append (out, "\\r");
          break;
        case '\t':
          g_string_append (out, "\\t");
          break;
        default:
          g_string_append_printf (out, "\\u%04x", c);
          break;
        }
      run = p + 1;
    }
  g_string_append (out, run);
  g_string_append_c (out, '"');
}

void
wz_json_writer_member (WzJsonWriter *writer,
                       const char   *name)
{
  before_value (writer);
  append_escaped (writer->out, name);
  g_string_append_c (writer->out, ':');
  writer->after_member = TRUE;
}

void
wz_json_writer_string (WzJsonWriter *writer,
                       const char   *value)
{
  before_value (writer);
  if (value == NULL)
    g_string_append (writer->out, "null");
  else
    append_escaped (writer->out, value);
}

void
wz_json_writer_int (WzJsonWriter *writer,
                    gint64        value)
{
  before_value (writer);
  g_string_append_printf (writer->out, "%" G_GINT64_FORMAT, value);
}

void
wz_json_writer_double (WzJsonWriter *writer,
                       double        value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (value == (double) (gint64) value && ABS (value) < 1e15)
    {
      wz_json_writer_int (writer, (gint64) value);
      return;
    }
  before_value (writer);
  g_string_append (writer->out, g_ascii_formatd (buf, sizeof buf, "%.15g", value));
}

void
wz_json_writer_boolean (WzJsonWriter *writer,
                        gboolean      value)
{
  before_value (writer);
  g_string_append (writer->out, value ? "true" : "false");
}

void
wz_json_writer_null (WzJsonWriter *writer)
{
  before_value (writer);
  g_string_append (writer->out, "null");
}

void
wz_json_writer_set_string (WzJsonWriter *writer,
                           const char   *member,
                           const char   *value)
{
  wz_json_writer_member (writer, member);
  wz_json_writer_string (writer, value);
}

void
wz_json_writer_text (WzJsonWriter *writer,
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
  wz_json_writer_set_string (writer, member, main_text);
  if (other_text == NULL || other_text == main_text)
    return;

  underscore = g_strconcat ("_", member, NULL);
  wz_json_writer_member (writer, underscore);
  wz_json_writer_begin_object (writer);
  wz_json_writer_member (writer, "extension");
  wz_json_writer_begin_array (writer);
  wz_json_writer_begin_object (writer);
  wz_json_writer_set_string (writer, "url", WZ_FOLLOWUP_TRANSLATION_EXTENSION);
  wz_json_writer_member (writer, "extension");
  wz_json_writer_begin_array (writer);
  wz_json_writer_begin_object (writer);
  wz_json_writer_set_string (writer, "url", "lang");
  wz_json_writer_set_string (writer, "valueCode", other_lang);
  wz_json_writer_end_object (writer);
  wz_json_writer_begin_object (writer);
  wz_json_writer_set_string (writer, "url", "content");
  wz_json_writer_set_string (writer, "valueString", other_text);
  wz_json_writer_end_object (writer);
  wz_json_writer_end_array (writer);
  wz_json_writer_end_object (writer);
  wz_json_writer_end_array (writer);
  wz_json_writer_end_object (writer);
}

GBytes *
wz_json_writer_finish (WzJsonWriter *writer)
{
  return g_string_free_to_bytes (g_steal_pointer (&writer->out));
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

JsonNode *
wz_json_load_format_1 (const char  *data,
                       gssize       length,
                       JsonObject **out_meta,
                       GError     **error)
{
  g_autoptr(JsonNode) root = wz_json_load_data (data, length, error);
  gint format_version;

  if (root == NULL ||
      (*out_meta = wz_json_req_object (json_node_get_object (root), "_meta", "(root)",
                                       error)) == NULL ||
      !wz_json_req_int (*out_meta, "format_version", "_meta", 1, 1000, &format_version, error))
    return NULL;
  if (format_version != 1)
    {
      wz_error_set_invalid (error, "_meta.format_version is %d; this version reads format 1",
                            format_version);
      return NULL;
    }
  return g_steal_pointer (&root);
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

/* ---- The doctor's follow-up worklist ------------------------------------------------------ */

typedef struct
{
  char       *id;
  gint64      version;
  const char *patient;     /* interned in strings */
  const char *owner;
  const char *requester;
  const char *kind;
  const char *careplan;
  const char *status;
  const char *title_en;
  const char *title_zh;
  WzDay       due;
  WzDay       window_end;
  WzCareplanTarget *target;  /* measurement Tasks: what the readings are judged against */
  GSequenceIter *iters[2];   /* in the owner's and the requester's Person.by_due */
} TaskEntry;

/* What one practitioner's worklist starts from. */
typedef struct
{
  GSequence  *by_due;     /* their open TaskEntry, by due date */
  GHashTable *patients;   /* patient ref → number of their open Tasks */
  GHashTable *measured;   /* patient ref → number of their open measurement Tasks */
} Person;

typedef struct
{
  gint64      effective_us;
  WzDay       day;
  const char *observation;  /* "Observation/ID", interned */
  gint64      version;
  gboolean    is_answer;
  gboolean    answer;
  double      value;
  const char *unit;
} Latest;

typedef struct
{
  const char *ref;
  char       *name;
  GHashTable *latest;      /* "m:ID", "m:ID.QUESTION" or "l:LOINC" → Latest */
  GHashTable *measurements; /* open measurement TaskEntry set */
} PatientEntry;

struct _WzFollowup
{
  GObject       parent_instance;

  GStringChunk *strings;
  GHashTable   *tasks;              /* id → TaskEntry (open follow-up Tasks only) */
  GHashTable   *closed;             /* id → version of follow-up Tasks seen closed */
  GHashTable   *tasks_by_person;    /* owner/requester ref → Person */
  const char   *kind_measurement;   /* interned, compared by address */
  const char   *kind_education;
  GHashTable   *observations;       /* id → version taken in */
  GHashTable   *patients;           /* ref → PatientEntry */
};

G_DEFINE_FINAL_TYPE (WzFollowup, wz_followup, G_TYPE_OBJECT)

static void
task_entry_free (gpointer data)
{
  TaskEntry *entry = data;

  g_free (entry->id);
  g_clear_pointer (&entry->target, wz_careplan_target_free);
  g_free (entry);
}

static void
patient_entry_free (gpointer data)
{
  PatientEntry *entry = data;

  g_free (entry->name);
  g_clear_pointer (&entry->latest, g_hash_table_unref);
  g_clear_pointer (&entry->measurements, g_hash_table_unref);
  g_free (entry);
}

static void
person_free (gpointer data)
{
  Person *person = data;

  g_sequence_free (person->by_due);
  g_hash_table_unref (person->patients);
  g_hash_table_unref (person->measured);
  g_free (person);
}

static void
wz_followup_finalize (GObject *object)
{
  WzFollowup *self = WZ_FOLLOWUP (object);

  g_clear_pointer (&self->tasks_by_person, g_hash_table_unref);
  g_clear_pointer (&self->patients, g_hash_table_unref);
  g_clear_pointer (&self->tasks, g_hash_table_unref);
  g_clear_pointer (&self->closed, g_hash_table_unref);
  g_clear_pointer (&self->observations, g_hash_table_unref);
  g_clear_pointer (&self->strings, g_string_chunk_free);

  G_OBJECT_CLASS (wz_followup_parent_class)->finalize (object);
}

static void
wz_followup_class_init (WzFollowupClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = wz_followup_finalize;
}

static void
wz_followup_init (WzFollowup *self)
{
  self->strings = g_string_chunk_new (64 * 1024);
  self->tasks = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, task_entry_free);
  self->closed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->tasks_by_person = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, person_free);
  self->kind_measurement = g_string_chunk_insert_const (self->strings, "measurement");
  self->kind_education = g_string_chunk_insert_const (self->strings, "education");
  self->observations = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->patients = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, patient_entry_free);
}

WzFollowup *
wz_followup_new (void)
{
  return g_object_new (WZ_TYPE_FOLLOWUP, NULL);
}

/* Strings repeat across thousands of Tasks (patients, titles, kinds): kept once. */
static const char *
intern (WzFollowup *self,
        const char *text)
{
  return text != NULL ? g_string_chunk_insert_const (self->strings, text) : NULL;
}

static JsonObject *
get_object (JsonObject *object,
            const char *member)
{
  JsonNode *node = object ? json_object_get_member (object, member) : NULL;

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static JsonArray *
get_array (JsonObject *object,
           const char *member)
{
  JsonNode *node = object ? json_object_get_member (object, member) : NULL;

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

static JsonObject *
element_object (JsonArray *array,
                guint      i)
{
  JsonNode *node = json_array_get_element (array, i);

  return JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static const char *
reference_of (JsonObject *object,
              const char *member)
{
  return wz_json_get_string (get_object (object, member), "reference");
}

static PatientEntry *
patient_entry (WzFollowup *self,
               const char *ref)
{
  PatientEntry *entry = g_hash_table_lookup (self->patients, ref);

  if (entry == NULL)
    {
      entry = g_new0 (PatientEntry, 1);
      entry->ref = intern (self, ref);
      entry->latest = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
      entry->measurements = g_hash_table_new (NULL, NULL);
      g_hash_table_insert (self->patients, (gpointer) entry->ref, entry);
    }
  return entry;
}

static gint
compare_due (gconstpointer a,
             gconstpointer b,
             gpointer      user_data)
{
  const TaskEntry *x = a, *y = b;

  if (x->due != y->due)
    return x->due < y->due ? -1 : 1;
  return x < y ? -1 : x > y;
}

static void
count (GHashTable *counts,
       const char *key,
       gint        delta)
{
  gint n = GPOINTER_TO_INT (g_hash_table_lookup (counts, key)) + delta;

  if (n > 0)
    g_hash_table_insert (counts, (gpointer) key, GINT_TO_POINTER (n));
  else
    g_hash_table_remove (counts, key);
}

static void
index_add (WzFollowup *self,
           const char *ref,
           TaskEntry  *entry,
           guint       slot)
{
  Person *person;

  if (ref == NULL)
    return;
  person = g_hash_table_lookup (self->tasks_by_person, ref);
  if (person == NULL)
    {
      person = g_new0 (Person, 1);
      person->by_due = g_sequence_new (NULL);
      person->patients = g_hash_table_new (g_str_hash, g_str_equal);
      person->measured = g_hash_table_new (g_str_hash, g_str_equal);
      g_hash_table_insert (self->tasks_by_person, (gpointer) ref, person);
    }
  entry->iters[slot] = g_sequence_insert_sorted (person->by_due, entry, compare_due, NULL);
  count (person->patients, entry->patient, 1);
  if (entry->target != NULL)
    count (person->measured, entry->patient, 1);
}

static void
index_remove (WzFollowup *self,
              const char *ref,
              TaskEntry  *entry,
              guint       slot)
{
  Person *person = ref ? g_hash_table_lookup (self->tasks_by_person, ref) : NULL;

  if (person == NULL || entry->iters[slot] == NULL)
    return;
  g_sequence_remove (entry->iters[slot]);
  entry->iters[slot] = NULL;
  count (person->patients, entry->patient, -1);
  if (entry->target != NULL)
    count (person->measured, entry->patient, -1);
}

static void
remove_task (WzFollowup *self,
             const char *id)
{
  TaskEntry *entry = g_hash_table_lookup (self->tasks, id);

  if (entry == NULL)
    return;
  index_remove (self, entry->owner, entry, 0);
  index_remove (self, entry->requester, entry, 1);
  if (entry->target != NULL)
    {
      PatientEntry *patient = g_hash_table_lookup (self->patients, entry->patient);

      if (patient != NULL)
        g_hash_table_remove (patient->measurements, entry);
    }
  g_hash_table_remove (self->tasks, id);
}

static gboolean
task_is_open (const char *status)
{
  return status != NULL &&
         g_strv_contains ((const char *[]) { "requested", "received", "accepted", "ready",
                                             "in-progress", NULL }, status);
}

static const char *
followup_kind (JsonObject *task)
{
  JsonArray *codings = get_array (get_object (task, "code"), "coding");

  for (guint i = 0; codings != NULL && i < json_array_get_length (codings); i++)
    {
      JsonObject *coding = element_object (codings, i);

      if (g_strcmp0 (wz_json_get_string (coding, "system"), WZ_FOLLOWUP_TASK_SYSTEM) == 0)
        return wz_json_get_string (coding, "code");
    }
  return NULL;
}

static WzDay
task_due (JsonObject *task,
          WzDay      *out_window_end)
{
  JsonArray *extensions = get_array (task, "extension");
  JsonObject *period = get_object (get_object (task, "restriction"), "period");
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc ();
  WzDay due = WZ_DAY_NONE, end = WZ_DAY_NONE;

  for (guint i = 0; extensions != NULL && i < json_array_get_length (extensions); i++)
    {
      JsonObject *extension = element_object (extensions, i);

      if (g_strcmp0 (wz_json_get_string (extension, "url"), WZ_FOLLOWUP_DUE_EXTENSION) == 0)
        wz_day_parse (wz_json_get_string (extension, "valueDate"), &due);
    }
  /* Window edges are dates here; a dateTime is read on its UTC date. */
  if (period != NULL)
    {
      wz_day_parse_in_zone (wz_json_get_string (period, "end"), utc, &end);
      if (due == WZ_DAY_NONE)
        wz_day_parse_in_zone (wz_json_get_string (period, "start"), utc, &due);
    }
  if (due == WZ_DAY_NONE)
    due = end;
  *out_window_end = end;
  return due;
}

static void
ingest_task (WzFollowup *self,
             const char *id,
             gint64      version,
             JsonObject *task)
{
  TaskEntry *old = g_hash_table_lookup (self->tasks, id);
  const char *kind = followup_kind (task);
  const char *status = wz_json_get_string (task, "status");
  const char *patient = reference_of (task, "for");
  TaskEntry *entry;
  WzText title;
  WzDay due, end;

  /* A copy older than what the view holds (open or closed) changes nothing. */
  if ((old != NULL && old->version > version) ||
      GPOINTER_TO_SIZE (g_hash_table_lookup (self->closed, id)) > (gsize) version)
    return;
  remove_task (self, id);
  if (kind == NULL || !task_is_open (status) || patient == NULL ||
      (due = task_due (task, &end)) == WZ_DAY_NONE)
    {
      if (kind != NULL)
        g_hash_table_insert (self->closed, g_strdup (id), GSIZE_TO_POINTER ((gsize) version));
      return;
    }
  g_hash_table_remove (self->closed, id);

  entry = g_new0 (TaskEntry, 1);
  entry->id = g_strdup (id);
  entry->version = version;
  entry->patient = intern (self, patient);
  entry->owner = intern (self, reference_of (task, "owner"));
  entry->requester = intern (self, reference_of (task, "requester"));
  entry->kind = intern (self, kind);
  entry->status = intern (self, status);
  {
    JsonArray *based_on = get_array (task, "basedOn");

    if (based_on != NULL && json_array_get_length (based_on) > 0)
      entry->careplan = intern (self, wz_json_get_string (element_object (based_on, 0), "reference"));
  }
  wz_json_get_text (task, "description", &title);
  if (title.en == NULL && title.zh == NULL)
    wz_json_get_text (get_object (task, "code"), "text", &title);
  entry->title_en = intern (self, title.en);
  entry->title_zh = intern (self, title.zh);
  wz_text_clear (&title);
  entry->due = due;
  entry->window_end = end;

  if (strcmp (kind, "measurement") == 0)
    {
      g_autoptr(GPtrArray) targets = wz_careplan_targets_from_json (task);

      if (targets->len > 0)
        {
          entry->target = g_ptr_array_steal_index (targets, 0);
          g_hash_table_add (patient_entry (self, patient)->measurements, entry);
        }
    }

  g_hash_table_insert (self->tasks, entry->id, entry);
  index_add (self, entry->owner, entry, 0);
  if (entry->requester != entry->owner)
    index_add (self, entry->requester, entry, 1);
}

static gint64
effective_us (JsonObject *observation,
              WzDay      *out_day)
{
  const char *texts[] = { wz_json_get_string (observation, "effectiveDateTime"),
                          wz_json_get_string (get_object (observation, "effectivePeriod"), "start"),
                          wz_json_get_string (observation, "issued") };

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autoptr(GDateTime) instant = NULL;
      g_autoptr(GTimeZone) utc = NULL;

      if (texts[i] == NULL)
        continue;
      if (strlen (texts[i]) == 10 && wz_day_parse (texts[i], out_day))
        {
          guint y, m, d;

          wz_day_get_ymd (*out_day, &y, &m, &d);
          utc = g_time_zone_new_utc ();
          instant = g_date_time_new (utc, y, m, d, 0, 0, 0);
        }
      else if ((instant = g_date_time_new_from_iso8601 (texts[i], NULL)) != NULL)
        {
          utc = g_time_zone_new_utc ();
          wz_day_parse_in_zone (texts[i], utc, out_day);
        }
      if (instant != NULL)
        return g_date_time_to_unix (instant) * G_USEC_PER_SEC +
               g_date_time_get_microsecond (instant);
    }
  return -1;
}

static void
keep_latest (WzFollowup   *self,
             PatientEntry *patient,
             const char   *key,
             const Latest *reading)
{
  Latest *old = g_hash_table_lookup (patient->latest, key);

  if (old != NULL && (old->effective_us > reading->effective_us ||
                      (old->observation == reading->observation &&
                       old->version > reading->version)))
    return;
  if (old == NULL)
    {
      old = g_new (Latest, 1);
      g_hash_table_insert (patient->latest, (gpointer) intern (self, key), old);
    }
  *old = *reading;
}

static void
take_values (WzFollowup   *self,
             PatientEntry *patient,
             JsonObject   *holder,
             Latest       *base)
{
  JsonArray *codings = get_array (get_object (holder, "code"), "coding");
  JsonObject *quantity = get_object (holder, "valueQuantity");
  JsonNode *boolean = json_object_get_member (holder, "valueBoolean");
  Latest reading = *base;

  if (quantity != NULL)
    {
      const char *unit = wz_json_get_string (quantity, "code");

      if (!wz_json_number (json_object_get_member (quantity, "value"), &reading.value))
        return;
      reading.unit = intern (self, unit ? unit : wz_json_get_string (quantity, "unit"));
    }
  else if (boolean != NULL && JSON_NODE_HOLDS_VALUE (boolean) &&
           json_node_get_value_type (boolean) == G_TYPE_BOOLEAN)
    {
      reading.is_answer = TRUE;
      reading.answer = json_node_get_boolean (boolean);
    }
  else
    return;

  for (guint i = 0; codings != NULL && i < json_array_get_length (codings); i++)
    {
      JsonObject *coding = element_object (codings, i);
      const char *system = wz_json_get_string (coding, "system");
      const char *code = wz_json_get_string (coding, "code");
      g_autofree char *key = NULL;

      if (code == NULL)
        continue;
      if (g_strcmp0 (system, WZ_FOLLOWUP_MEASUREMENT_SYSTEM) == 0)
        key = g_strconcat ("m:", code, NULL);
      else if (g_strcmp0 (system, WZ_FOLLOWUP_LOINC_SYSTEM) == 0 && !reading.is_answer)
        key = g_strconcat ("l:", code, NULL);
      if (key != NULL)
        keep_latest (self, patient, key, &reading);
    }
}

static void
ingest_observation (WzFollowup *self,
                    const char *id,
                    gint64      version,
                    JsonObject *observation)
{
  const char *patient_ref = reference_of (observation, "subject");
  const char *status = wz_json_get_string (observation, "status");
  g_autofree char *ref = g_strconcat ("Observation/", id, NULL);
  JsonArray *components = get_array (observation, "component");
  PatientEntry *patient;
  Latest base = { 0, };

  if (patient_ref == NULL || !g_str_has_prefix (patient_ref, "Patient/") ||
      !g_strv_contains ((const char *[]) { "final", "amended", "corrected", "preliminary", NULL },
                        status ? status : ""))
    return;
  if ((base.effective_us = effective_us (observation, &base.day)) < 0)
    return;
  base.observation = intern (self, ref);
  base.version = version;

  patient = patient_entry (self, patient_ref);
  take_values (self, patient, observation, &base);
  for (guint i = 0; components != NULL && i < json_array_get_length (components); i++)
    {
      JsonObject *component = element_object (components, i);

      if (component != NULL)
        take_values (self, patient, component, &base);
    }
}

static char *
display_name (JsonObject *patient)
{
  JsonArray *names = get_array (patient, "name");
  JsonObject *name;
  JsonArray *given;
  const char *family, *first = NULL;

  if (names == NULL || json_array_get_length (names) == 0 ||
      (name = element_object (names, 0)) == NULL)
    return NULL;
  if (wz_json_get_string (name, "text") != NULL)
    return g_strdup (wz_json_get_string (name, "text"));
  family = wz_json_get_string (name, "family");
  given = get_array (name, "given");
  if (given != NULL && json_array_get_length (given) > 0)
    first = json_array_get_string_element (given, 0);
  if (family == NULL || first == NULL)
    return g_strdup (family ? family : first);
  /* 张秀英, but Wei Li. */
  return looks_chinese (family) ? g_strconcat (family, first, NULL)
                                : g_strconcat (first, " ", family, NULL);
}

void
wz_followup_ingest (WzFollowup *self,
                    const char *type,
                    const char *id,
                    gint64      version_id,
                    const char *status,
                    const char *json,
                    gsize       length)
{
  g_autoptr(JsonParser) parser = NULL;
  JsonNode *root;
  JsonObject *object;
  gboolean is_task, is_observation;

  g_return_if_fail (WZ_IS_FOLLOWUP (self));

  is_task = strcmp (type, "Task") == 0;
  is_observation = strcmp (type, "Observation") == 0;
  if (!is_task && !is_observation && strcmp (type, "Patient") != 0)
    return;

  /* Parsing is what costs here, so whatever can be decided without it is. */
  if (is_task)
    {
      TaskEntry *open = g_hash_table_lookup (self->tasks, id);
      gsize closed = GPOINTER_TO_SIZE (g_hash_table_lookup (self->closed, id));

      if ((open != NULL && open->version >= version_id) || closed >= (gsize) version_id)
        return;
      /* Most Tasks are not follow-up Tasks (pharmacist approvals, …). */
      if (g_strstr_len (json, length, WZ_FOLLOWUP_TASK_SYSTEM) == NULL)
        {
          remove_task (self, id);
          return;
        }
      if (status != NULL && !task_is_open (status))
        {
          remove_task (self, id);
          g_hash_table_insert (self->closed, g_strdup (id), GSIZE_TO_POINTER ((gsize) version_id));
          return;
        }
    }
  else if (is_observation)
    {
      gsize seen = GPOINTER_TO_SIZE (g_hash_table_lookup (self->observations, id));

      if (seen >= (gsize) version_id)
        return;
      g_hash_table_insert (self->observations, g_strdup (id), GSIZE_TO_POINTER ((gsize) version_id));
    }
  else
    {
      g_autofree char *ref = g_strconcat ("Patient/", id, NULL);

      /* Names are only kept for patients the worklist already knows. */
      if (!g_hash_table_contains (self->patients, ref))
        return;
    }

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, json, length, NULL) ||
      (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return;
  object = json_node_get_object (root);

  if (is_task)
    ingest_task (self, id, version_id, object);
  else if (is_observation)
    ingest_observation (self, id, version_id, object);
  else
    {
      g_autofree char *ref = g_strconcat ("Patient/", id, NULL);
      PatientEntry *patient = patient_entry (self, ref);

      g_free (patient->name);
      patient->name = display_name (object);
      if (patient->name == NULL)
        patient->name = g_strdup ("");
    }
}

gboolean
wz_followup_has_patient (WzFollowup *self,
                         const char *patient_ref)
{
  PatientEntry *patient;

  g_return_val_if_fail (WZ_IS_FOLLOWUP (self), FALSE);
  patient = g_hash_table_lookup (self->patients, patient_ref);
  return patient != NULL && patient->name != NULL;
}

guint
wz_followup_n_open_tasks (WzFollowup *self)
{
  g_return_val_if_fail (WZ_IS_FOLLOWUP (self), 0);
  return g_hash_table_size (self->tasks);
}

GPtrArray *
wz_followup_missing_patients (WzFollowup *self,
                              const char *practitioner_ref)
{
  GPtrArray *missing = g_ptr_array_new_with_free_func (g_free);
  Person *person = g_hash_table_lookup (self->tasks_by_person, practitioner_ref);
  GHashTableIter iter;
  gpointer key;

  if (person == NULL)
    return missing;
  g_hash_table_iter_init (&iter, person->patients);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      /* Known to the view now, so that its Patient updates are taken in from here on. */
      PatientEntry *patient = patient_entry (self, key);

      if (patient->name == NULL)
        g_ptr_array_add (missing, g_strdup (key));
    }
  return missing;
}

/* ---- Building the worklist ---- */

typedef struct
{
  PatientEntry *patient;
  GPtrArray    *tasks;       /* TaskEntry */
  GArray       *timings;     /* WzFollowupTiming, one per task */
  gint          worst;       /* 2 urgent, 1 flagged, 0 none */
  gint          overdue_days;
} Row;

static void
row_free (gpointer data)
{
  Row *row = data;

  g_ptr_array_unref (row->tasks);
  g_array_unref (row->timings);
  g_free (row);
}

static Row *
row_for (GHashTable   *rows,
         PatientEntry *patient)
{
  Row *row = g_hash_table_lookup (rows, patient);

  if (row == NULL)
    {
      row = g_new0 (Row, 1);
      row->patient = patient;
      row->tasks = g_ptr_array_new ();
      row->timings = g_array_new (FALSE, FALSE, sizeof (WzFollowupTiming));
      g_hash_table_insert (rows, patient, row);
    }
  return row;
}

/* The latest reading for TARGET among the patient's values: our measurement code first, then a
 * LOINC code that no other target of the patient's plans shares. */
static const Latest *
latest_for (PatientEntry           *patient,
            const WzCareplanTarget *target,
            gboolean                loinc_unique,
            const char             *question)
{
  char key[256];
  const Latest *mine, *by_loinc = NULL;

  if (question != NULL)
    g_snprintf (key, sizeof key, "m:%s.%s", target->id, question);
  else
    g_snprintf (key, sizeof key, "m:%s", target->id);
  mine = g_hash_table_lookup (patient->latest, key);

  if (question == NULL && target->loinc != NULL && loinc_unique)
    {
      g_snprintf (key, sizeof key, "l:%s", target->loinc);
      by_loinc = g_hash_table_lookup (patient->latest, key);
    }
  if (mine == NULL || (by_loinc != NULL && by_loinc->effective_us > mine->effective_us))
    return by_loinc;
  return mine;
}

typedef struct
{
  const WzCareplanTarget *target;
  const Latest           *latest;
  WzFollowupFlag          flag;
  const char             *question;   /* answers: which question */
  gboolean                stale;
} Judged;

static gint
compare_tasks (gconstpointer a,
               gconstpointer b)
{
  const TaskEntry *x = *(const TaskEntry * const *) a;
  const TaskEntry *y = *(const TaskEntry * const *) b;

  if (x->due != y->due)
    return x->due < y->due ? -1 : 1;
  return strcmp (x->id, y->id);
}

/* The patient's open measurements requested by PRACTITIONER, each with its latest reading. A
 * patient has a handful, so plain arrays beat hash tables here. */
static GArray *
judge_patient (PatientEntry *patient,
               const char   *practitioner,
               WzDay         today,
               gint         *out_worst)
{
  GArray *judged = g_array_new (FALSE, TRUE, sizeof (Judged));
  TaskEntry *mine[64];
  guint n = 0;
  GHashTableIter iter;
  gpointer key;

  *out_worst = 0;
  g_hash_table_iter_init (&iter, patient->measurements);
  while (g_hash_table_iter_next (&iter, &key, NULL) && n < G_N_ELEMENTS (mine))
    {
      TaskEntry *task = key;

      /* PRACTITIONER is the index's interned copy: addresses compare. */
      if (task->requester == practitioner || task->owner == practitioner)
        mine[n++] = task;
    }
  qsort (mine, n, sizeof mine[0], compare_tasks);

  for (guint i = 0; i < n; i++)
    {
      const WzCareplanTarget *target = mine[i]->target;
      Judged entry = { target, NULL, WZ_FOLLOWUP_FLAG_NONE, NULL, FALSE };
      guint interval = wz_careplan_target_interval_days (target);
      gboolean shown = FALSE;
      guint same_loinc = 0;

      /* Two plans measuring the same thing show it once. */
      for (guint j = 0; j < judged->len && !shown; j++)
        shown = strcmp (g_array_index (judged, Judged, j).target->id, target->id) == 0;
      if (shown)
        continue;
      for (guint j = 0; j < n && target->loinc != NULL; j++)
        if (g_strcmp0 (mine[j]->target->loinc, target->loinc) == 0 &&
            strcmp (mine[j]->target->id, target->id) != 0)
          same_loinc++;

      entry.latest = latest_for (patient, target, same_loinc == 0, NULL);
      if (entry.latest != NULL && !entry.latest->is_answer &&
          g_strcmp0 (entry.latest->unit, target->unit) == 0)
        entry.flag = wz_careplan_target_flag (target, entry.latest->value);
      else if (entry.latest != NULL)
        entry.latest = NULL;

      for (guint q = 0; target->questions != NULL && target->questions[q] != NULL; q++)
        {
          const Latest *answer = latest_for (patient, target, FALSE, target->questions[q]);
          WzFollowupFlag flag;

          if (answer == NULL || !answer->is_answer)
            continue;
          flag = wz_careplan_target_flag_answer (target, answer->answer);
          if (entry.latest == NULL || answer->effective_us > entry.latest->effective_us)
            entry.latest = answer;
          if (flag > entry.flag || (flag != WZ_FOLLOWUP_FLAG_NONE &&
                                    wz_followup_flag_is_urgent (flag)))
            {
              entry.flag = flag;
              entry.question = target->questions[q];
            }
        }

      if (interval > 0)
        {
          WzDay since = entry.latest ? entry.latest->day : mine[i]->due;

          entry.stale = since != WZ_DAY_NONE && today > since + interval;
        }
      if (wz_followup_flag_is_urgent (entry.flag))
        *out_worst = 2;
      else if (entry.flag != WZ_FOLLOWUP_FLAG_NONE && *out_worst < 1)
        *out_worst = 1;
      g_array_append_val (judged, entry);
    }
  return judged;
}

static gint
compare_rows (gconstpointer a,
              gconstpointer b)
{
  const Row *x = *(const Row * const *) a;
  const Row *y = *(const Row * const *) b;

  if (x->worst != y->worst)
    return y->worst - x->worst;
  if (x->overdue_days != y->overdue_days)
    return y->overdue_days - x->overdue_days;
  return strcmp (x->patient->ref, y->patient->ref);
}

static void
add_string (WzJsonWriter *builder,
            const char   *member,
            const char   *value)
{
  wz_json_writer_member (builder, member);
  if (value != NULL)
    wz_json_writer_string (builder, value);
  else
    wz_json_writer_null (builder);
}

static void
add_day (WzJsonWriter *builder,
         const char   *member,
         WzDay         day)
{
  char buf[16];

  add_string (builder, member, day != WZ_DAY_NONE ? wz_day_format_buf (day, buf) : NULL);
}

static void
add_double (WzJsonWriter *builder,
            const char   *member,
            double        value)
{
  wz_json_writer_member (builder, member);
  wz_json_writer_double (builder, value);
}

static void
build_measurement (WzJsonWriter *builder,
                   const Judged *entry,
                   const char   *lang)
{
  const WzCareplanTarget *t = entry->target;

  wz_json_writer_begin_object (builder);
  add_string (builder, "id", t->id);
  add_string (builder, "name", wz_text_get (&t->name, lang));
  add_string (builder, "unit", t->unit);
  wz_json_writer_member (builder, "target");
  wz_json_writer_begin_object (builder);
  if (t->has_low)
    add_double (builder, "low", t->low);
  if (t->has_high)
    add_double (builder, "high", t->high);
  if (t->high_inclusive)
    {
      wz_json_writer_member (builder, "highInclusive");
      wz_json_writer_boolean (builder, TRUE);
    }
  wz_json_writer_end_object (builder);

  wz_json_writer_member (builder, "latest");
  if (entry->latest == NULL)
    wz_json_writer_null (builder);
  else
    {
      wz_json_writer_begin_object (builder);
      if (entry->latest->is_answer)
        {
          wz_json_writer_member (builder, "answer");
          wz_json_writer_boolean (builder, entry->latest->answer);
        }
      else
        {
          add_double (builder, "value", entry->latest->value);
          add_string (builder, "unit", entry->latest->unit);
        }
      add_day (builder, "date", entry->latest->day);
      add_string (builder, "observation", entry->latest->observation);
      wz_json_writer_end_object (builder);
    }
  add_string (builder, "flag", wz_followup_flag_to_string (entry->flag));
  if (entry->question != NULL)
    add_string (builder, "question", entry->question);
  wz_json_writer_member (builder, "stale");
  wz_json_writer_boolean (builder, entry->stale);
  if (wz_followup_flag_is_urgent (entry->flag) && wz_text_get (&t->urgent_message, lang))
    add_string (builder, "message", wz_text_get (&t->urgent_message, lang));
  /* The flag message is written for the alert's own edges (systolic below 90), not for every
   * value outside the target. */
  else if (((entry->flag == WZ_FOLLOWUP_FLAG_LOW && t->has_flag_low) ||
            (entry->flag == WZ_FOLLOWUP_FLAG_HIGH && t->has_flag_high) ||
            entry->flag == WZ_FOLLOWUP_FLAG_ABNORMAL) && wz_text_get (&t->flag_message, lang))
    add_string (builder, "message", wz_text_get (&t->flag_message, lang));
  wz_json_writer_end_object (builder);
}

/* One patient's row of the worklist. ALERT: "urgent", "flagged" or "none". */
static void
write_row (WzJsonWriter *builder,
           Row          *row,
           GArray       *values,
           const char   *alert,
           WzDay         today,
           gboolean      zh,
           const char   *lang)
{
  g_ptr_array_sort (row->tasks, compare_tasks);
  wz_json_writer_begin_object (builder);
  add_string (builder, "patient", row->patient->ref);
  add_string (builder, "name", row->patient->name);
  add_string (builder, "alert", alert);
  wz_json_writer_member (builder, "daysOverdue");
  wz_json_writer_int (builder, row->overdue_days);

  wz_json_writer_member (builder, "tasks");
  wz_json_writer_begin_array (builder);
  for (guint t = 0; t < row->tasks->len; t++)
    {
      TaskEntry *task = g_ptr_array_index (row->tasks, t);
      g_autofree char *ref = g_strconcat ("Task/", task->id, NULL);
      WzFollowupTiming timing = wz_followup_timing (task->due, task->window_end, today);

      wz_json_writer_begin_object (builder);
      add_string (builder, "task", ref);
      wz_json_writer_member (builder, "versionId");
      wz_json_writer_int (builder, task->version);
      add_string (builder, "kind", task->kind);
      add_string (builder, "status", task->status);
      add_string (builder, "description",
                  zh ? (task->title_zh ? task->title_zh : task->title_en)
                     : (task->title_en ? task->title_en : task->title_zh));
      add_day (builder, "due", task->due);
      add_day (builder, "windowEnd", task->window_end != WZ_DAY_NONE ? task->window_end
                                                                     : task->due);
      add_string (builder, "timing", wz_followup_timing_to_string (timing));
      add_string (builder, "owner", task->owner);
      if (task->careplan != NULL)
        add_string (builder, "carePlan", task->careplan);
      wz_json_writer_end_object (builder);
    }
  wz_json_writer_end_array (builder);

  wz_json_writer_member (builder, "measurements");
  wz_json_writer_begin_array (builder);
  for (guint m = 0; values != NULL && m < values->len; m++)
    build_measurement (builder, &g_array_index (values, Judged, m), lang);
  wz_json_writer_end_array (builder);
  wz_json_writer_end_object (builder);
}

/* The worklist, for the app's follow-up view:
 *
 *   { "date": "2024-05-29", "timeZone": "Asia/Shanghai", "practitioner": "Practitioner/ID",
 *     "counts": { "patients", "due", "overdue", "flagged", "urgent" },
 *     "patients": [                        urgent first, then most days overdue
 *       { "patient": "Patient/ID", "name": "张秀英", "alert": "urgent" | "flagged" | "none",
 *         "daysOverdue": 11,
 *         "tasks": [ { "task": "Task/ID", "versionId": 1, "kind": "revisit" | "annual-review" |
 *                      "adherence-checkin" | "vaccine-reaction-check" | …, "status",
 *                      "description", "due", "windowEnd", "timing": "due" | "overdue",
 *                      "owner", "carePlan" } ],
 *         "measurements": [ { "id", "name", "unit",
 *                             "target": { "low", "high", "highInclusive" },
 *                             "latest": { "value" | "answer", "unit", "date", "observation" }
 *                                       or null,
 *                             "flag": "none" | "low" | "high" | "abnormal" | "urgent-low" |
 *                                     "urgent-high" | "urgent",
 *                             "question", "stale": true when no reading for a period,
 *                             "message": the template's advice for the flag } ] } ] }
 *
 * Tasks owned by the doctor are listed from their due date; check-ins the patient owns only
 * once missed; measurement and education Tasks never (their readings are shown instead). */
/* The rows (Row by PatientEntry) of PRACTITIONER_REF's worklist on TODAY, and each measured
 * patient's judged values (GArray of Judged by PatientEntry). */
static void
collect_rows (WzFollowup *self,
              const char *practitioner_ref,
              WzDay       today,
              GHashTable *rows,
              GHashTable *judged,
              guint      *out_due,
              guint      *out_overdue)
{
  Person *person;
  GHashTableIter iter;
  gpointer key;
  guint n_due = 0, n_overdue = 0;

  /* The index's own copy of the reference, so Tasks' owners compare by address below. */
  if (g_hash_table_lookup_extended (self->tasks_by_person, practitioner_ref, &key,
                                    (gpointer *) &person))
    practitioner_ref = key;
  else
    person = NULL;
  if (person != NULL)
    {
      /* Only what is due by today, from the front of the due-date order. */
      for (GSequenceIter *it = g_sequence_get_begin_iter (person->by_due);
           !g_sequence_iter_is_end (it); it = g_sequence_iter_next (it))
        {
          TaskEntry *task = g_sequence_get (it);
          WzFollowupTiming timing;
          Row *row;

          if (task->due > today)
            break;
          /* Measurements run for the whole plan (their readings are shown instead) and
           * education is for the patient to read; a check-in the patient owns matters to the
           * doctor once it was missed. */
          if (task->kind == self->kind_measurement || task->kind == self->kind_education)
            continue;
          timing = wz_followup_timing (task->due, task->window_end, today);
          if (timing == WZ_FOLLOWUP_UPCOMING ||
              (timing == WZ_FOLLOWUP_DUE && task->owner != practitioner_ref))
            continue;
          row = row_for (rows, patient_entry (self, task->patient));
          g_ptr_array_add (row->tasks, task);
          if (timing == WZ_FOLLOWUP_OVERDUE)
            {
              gint late = (gint) today - (gint) MAX (task->window_end, task->due);

              row->overdue_days = MAX (row->overdue_days, late);
              n_overdue++;
            }
          else
            n_due++;
        }

      /* Every patient with one of the doctor's measurements is judged; a flagged value brings
       * the patient onto the list even with nothing due. */
      g_hash_table_iter_init (&iter, person->measured);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        {
          PatientEntry *patient = patient_entry (self, key);
          GArray *values;
          gint worst;

          values = judge_patient (patient, practitioner_ref, today, &worst);
          g_hash_table_insert (judged, patient, values);
          if (worst > 0)
            row_for (rows, patient)->worst = worst;
        }
    }

  *out_due = n_due;
  *out_overdue = n_overdue;
}

GBytes *
wz_followup_worklist (WzFollowup *self,
                      const char *practitioner_ref,
                      WzDay       today,
                      const char *time_zone_name,
                      const char *lang)
{
  g_autoptr(GHashTable) rows = g_hash_table_new_full (NULL, NULL, NULL, row_free);
  g_autoptr(GHashTable) judged = g_hash_table_new_full (NULL, NULL, NULL,
                                                        (GDestroyNotify) g_array_unref);
  g_autoptr(GPtrArray) sorted = g_ptr_array_new ();
  WzJsonWriter writer;
  WzJsonWriter *builder = &writer;
  GHashTableIter iter;
  gpointer key;
  guint n_due = 0, n_overdue = 0, n_flagged = 0, n_urgent = 0;
  gboolean zh = strcmp (wz_lang_normalize (lang), "zh") == 0;

  g_return_val_if_fail (WZ_IS_FOLLOWUP (self), NULL);

  collect_rows (self, practitioner_ref, today, rows, judged, &n_due, &n_overdue);

  g_hash_table_iter_init (&iter, rows);
  while (g_hash_table_iter_next (&iter, NULL, &key))
    {
      Row *row = key;

      if (row->worst == 2)
        n_urgent++;
      else if (row->worst == 1)
        n_flagged++;
      g_ptr_array_add (sorted, row);
    }
  g_ptr_array_sort (sorted, compare_rows);

  wz_json_writer_init (&writer);
  wz_json_writer_begin_object (builder);
  add_day (builder, "date", today);
  add_string (builder, "timeZone", time_zone_name);
  add_string (builder, "practitioner", practitioner_ref);
  wz_json_writer_member (builder, "counts");
  wz_json_writer_begin_object (builder);
  wz_json_writer_member (builder, "patients");
  wz_json_writer_int (builder, sorted->len);
  wz_json_writer_member (builder, "due");
  wz_json_writer_int (builder, n_due);
  wz_json_writer_member (builder, "overdue");
  wz_json_writer_int (builder, n_overdue);
  wz_json_writer_member (builder, "flagged");
  wz_json_writer_int (builder, n_flagged);
  wz_json_writer_member (builder, "urgent");
  wz_json_writer_int (builder, n_urgent);
  wz_json_writer_end_object (builder);

  wz_json_writer_member (builder, "patients");
  wz_json_writer_begin_array (builder);
  for (guint i = 0; i < sorted->len; i++)
    {
      Row *row = g_ptr_array_index (sorted, i);

      write_row (builder, row, g_hash_table_lookup (judged, row->patient),
                 row->worst == 2 ? "urgent" : row->worst == 1 ? "flagged" : "none", today, zh, lang);
    }
  wz_json_writer_end_array (builder);
  wz_json_writer_end_object (builder);

  return wz_json_writer_finish (&writer);
}

GBytes *
wz_followup_worklist_rows (WzFollowup         *self,
                           const char         *practitioner_ref,
                           WzDay               today,
                           const char         *lang,
                           const char * const *patients,
                           const char * const *alerts,
                           const gint         *overdue_days)
{
  g_autoptr(GHashTable) rows = g_hash_table_new_full (NULL, NULL, NULL, row_free);
  g_autoptr(GHashTable) judged = g_hash_table_new_full (NULL, NULL, NULL,
                                                        (GDestroyNotify) g_array_unref);
  WzJsonWriter writer;
  guint n_due = 0, n_overdue = 0;
  gboolean zh = strcmp (wz_lang_normalize (lang), "zh") == 0;

  g_return_val_if_fail (WZ_IS_FOLLOWUP (self), NULL);

  collect_rows (self, practitioner_ref, today, rows, judged, &n_due, &n_overdue);
  wz_json_writer_init (&writer);
  wz_json_writer_begin_array (&writer);
  for (guint i = 0; patients[i] != NULL; i++)
    {
      PatientEntry *patient = patient_entry (self, patients[i]);
      Row *row = g_hash_table_lookup (rows, patient);

      if (row == NULL)
        row = row_for (rows, patient);
      row->overdue_days = MAX (row->overdue_days, overdue_days[i]);
      write_row (&writer, row, g_hash_table_lookup (judged, patient), alerts[i], today, zh, lang);
    }
  wz_json_writer_end_array (&writer);
  return wz_json_writer_finish (&writer);
}
