/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-followup-format"

#include "config.h"

#include "wz-followup-format.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "wz-fhir-json.h"

static gboolean
parse_date (const char *text,
            GDate      *date)
{
  guint year, month, day;

  g_date_clear (date, 1);
  if (text == NULL || sscanf (text, "%4u-%2u-%2u", &year, &month, &day) != 3 ||
      !g_date_valid_dmy (day, month, year))
    return FALSE;
  g_date_set_dmy (date, day, month, year);
  return TRUE;
}

gint
wz_followup_days_between (const char *from,
                          const char *to)
{
  GDate a, b;

  if (!parse_date (from, &a) || !parse_date (to, &b))
    return 0;
  return g_date_days_between (&a, &b);
}

char *
wz_followup_format_date (const char *date)
{
  GDate parsed;
  char buf[64];

  if (!parse_date (date, &parsed))
    return g_strdup (date ? date : "");
  /* Translators: strftime format of a date on the follow-up pages, e.g. “25 Nov 2026”; in
   * Chinese “%Y年%-m月%-d日” */
  if (g_date_strftime (buf, sizeof buf, C_("followup date", "%-d %b %Y"), &parsed) == 0)
    return g_strdup (date);
  return g_strdup (buf);
}

char *
wz_followup_format_due (const char *due,
                        const char *window_end,
                        const char *today)
{
  gint until = wz_followup_days_between (today, due);
  gint late = wz_followup_days_between (window_end ? window_end : due, today);

  if (due == NULL || today == NULL)
    return g_strdup ("");
  if (late > 0)
    /* Translators: a follow-up task past its window */
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d day overdue", "%d days overdue",
                                         late), late);
  if (until == 0)
    return g_strdup (_("Due today"));
  if (until < 0)
    return g_strdup (_("Due now"));
  if (until == 1)
    return g_strdup (_("Due tomorrow"));
  if (until <= 14)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Due in %d day", "Due in %d days",
                                         until), until);
  {
    g_autofree char *date = wz_followup_format_date (due);

    /* Translators: %s is a date */
    return g_strdup_printf (_("Due %s"), date);
  }
}

const char *
wz_followup_format_unit (const char *ucum)
{
  if (ucum == NULL)
    return "";
  if (strcmp (ucum, "mm[Hg]") == 0)
    return "mmHg";
  if (strcmp (ucum, "Cel") == 0)
    return "°C";
  if (strcmp (ucum, "{score}") == 0 || strcmp (ucum, "1") == 0)
    return "";
  if (strcmp (ucum, "/min") == 0)
    /* Translators: unit of a heart rate */
    return _("/min");
  return ucum;
}

char *
wz_followup_format_number (double value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (value == (double) (gint64) value)
    return g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) value);
  return g_strdup (g_ascii_formatd (buf, sizeof buf, "%.1f", value));
}

static gboolean
number_member (JsonObject *object,
               const char *member,
               double     *out)
{
  JsonNode *node = object ? json_object_get_member (object, member) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  if (json_node_get_value_type (node) != G_TYPE_DOUBLE && json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  *out = json_node_get_double (node);
  return TRUE;
}

char *
wz_followup_format_target (JsonObject *target,
                           const char *unit)
{
  double low = 0, high = 0;
  gboolean has_low = number_member (target, "low", &low);
  gboolean has_high = number_member (target, "high", &high);
  gboolean inclusive = target && json_object_get_boolean_member_with_default (target,
                                                                              "highInclusive",
                                                                              FALSE);
  g_autofree char *lo = wz_followup_format_number (low);
  g_autofree char *hi = wz_followup_format_number (high);
  const char *shown_unit = wz_followup_format_unit (unit);

  if (has_low && has_high)
    /* Translators: a measurement's target range, e.g. “target 4.4–7.0 mmol/L” */
    return g_strdup_printf (_("target %s–%s %s"), lo, hi, shown_unit);
  if (has_high && inclusive)
    /* Translators: e.g. “target at most 130 mmHg” */
    return g_strdup_printf (_("target at most %s %s"), hi, shown_unit);
  if (has_high)
    /* Translators: e.g. “target below 130 mmHg” */
    return g_strdup_printf (_("target below %s %s"), hi, shown_unit);
  if (has_low)
    /* Translators: e.g. “target at least 55 /min” */
    return g_strdup_printf (_("target at least %s %s"), lo, shown_unit);
  return g_strdup ("");
}

const char *
wz_followup_kind_label (const char *kind)
{
  if (g_strcmp0 (kind, "revisit") == 0)
    /* Translators: a kind of follow-up task: a visit to the doctor */
    return _("Revisit");
  if (g_strcmp0 (kind, "annual-review") == 0)
    return _("Annual review");
  if (g_strcmp0 (kind, "measurement") == 0)
    /* Translators: a kind of follow-up task: something the patient measures at home */
    return _("Measurement");
  if (g_strcmp0 (kind, "adherence-checkin") == 0)
    /* Translators: a kind of follow-up task: questions about taking medicines */
    return _("Adherence check-in");
  if (g_strcmp0 (kind, "education") == 0)
    /* Translators: a kind of follow-up task: reading for the patient */
    return _("Education");
  if (g_strcmp0 (kind, "vaccine-reaction-check") == 0)
    return _("Vaccine reaction check");
  return _("Follow-up");
}

gboolean
wz_followup_lang_is_zh (void)
{
  const char * const *languages = g_get_language_names ();

  for (guint i = 0; languages[i] != NULL; i++)
    {
      if (g_str_has_prefix (languages[i], "zh"))
        return TRUE;
      if (g_str_has_prefix (languages[i], "en") || strcmp (languages[i], "C") == 0)
        return FALSE;
    }
  return FALSE;
}

const char *
wz_followup_lang (void)
{
  return wz_followup_lang_is_zh () ? "zh" : "en";
}

const char *
wz_followup_text (JsonObject *object,
                  const char *member)
{
  g_autofree char *underscored = g_strconcat ("_", member, NULL);
  JsonObject *element = wz_json_object (object, underscored);
  JsonArray *extensions = wz_json_array (element, "extension");
  const char *lang = wz_followup_lang ();

  for (guint i = 0; extensions != NULL && i < json_array_get_length (extensions); i++)
    {
      JsonObject *translation = wz_json_array_object (extensions, i);
      JsonArray *parts = wz_json_array (translation, "extension");
      const char *code = NULL, *content = NULL;

      for (guint p = 0; parts != NULL && p < json_array_get_length (parts); p++)
        {
          JsonObject *part = wz_json_array_object (parts, p);

          if (g_strcmp0 (wz_json_string (part, "url"), "lang") == 0)
            code = wz_json_string (part, "valueCode");
          else if (g_strcmp0 (wz_json_string (part, "url"), "content") == 0)
            content = wz_json_string (part, "valueString");
        }
      if (code != NULL && content != NULL && g_str_has_prefix (code, lang))
        return content;
    }
  return wz_json_string (object, member);
}
