/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-careplan-template"

#include "config.h"

#include "wz-careplan-template.h"
#include "wz-json.h"

#include <math.h>
#include <string.h>

#include "wz-error.h"

typedef struct
{
  char   *id;
  char   *kind;     /* yes_no | number | choice */
  WzText  text;
} Question;

typedef struct
{
  WzText    when;
  GStrv     icd10_prefixes;   /* NULL: any */
  gint      min_age_years;    /* -1: any */
  gboolean  has_low;
  double    low;
  gboolean  has_high;
  double    high;
} Variant;

typedef struct
{
  WzCareplanTarget  base;
  GArray           *variants;   /* Variant */
  GPtrArray        *questions;  /* Question */
  WzText            frequency_text;
} Measurement;

typedef struct
{
  WzPeriod  offset;
  gboolean  has_window;
  gint      before;
  gint      after;
  gboolean  has_until;
  WzPeriod  until;
  gboolean  has_repeat;
  WzPeriod  repeat;
  gboolean  optional;
  WzText    label;
} Revisit;

typedef struct
{
  char     *id;
  WzText    title;
  WzText    text;
  WzPeriod  when;
} Education;

struct _WzCareplanTemplate
{
  GObject     parent_instance;

  char       *id;
  WzText      title;
  char       *anchor;
  GStrv       icd10_prefixes;

  GPtrArray  *revisits;          /* Revisit */
  gboolean    has_repeat;
  WzPeriod    repeat_every;
  gboolean    has_window;
  gint        before;
  gint        after;
  gboolean    has_not_at_target;
  WzPeriod    not_at_target_every;
  gboolean    has_annual;
  WzPeriod    annual_offset;
  WzText      annual_items;
  WzText      revisit_note;

  GPtrArray  *measurements;      /* Measurement */

  gboolean    has_checkin_every;
  WzPeriod    checkin_every;
  gboolean    has_checkin_until;
  WzPeriod    checkin_until;
  GArray     *checkin_schedule;  /* WzPeriod */
  GPtrArray  *checkin_questions; /* Question */

  GPtrArray  *education;         /* Education */

  /* From conventions. */
  gint        checkin_window[2];
  gint        education_window[2];
  gint        annual_window[2];
  WzPeriod    plan_length;
};

G_DEFINE_FINAL_TYPE (WzCareplanTemplate, wz_careplan_template, G_TYPE_OBJECT)

/* ---- Targets ---------------------------------------------------------------------------- */

const char *
wz_followup_flag_to_string (WzFollowupFlag flag)
{
  switch (flag)
    {
    case WZ_FOLLOWUP_FLAG_NONE:
      return "none";
    case WZ_FOLLOWUP_FLAG_LOW:
      return "low";
    case WZ_FOLLOWUP_FLAG_HIGH:
      return "high";
    case WZ_FOLLOWUP_FLAG_ABNORMAL:
      return "abnormal";
    case WZ_FOLLOWUP_FLAG_URGENT_LOW:
      return "urgent-low";
    case WZ_FOLLOWUP_FLAG_URGENT_HIGH:
      return "urgent-high";
    case WZ_FOLLOWUP_FLAG_URGENT:
    default:
      return "urgent";
    }
}

gboolean
wz_followup_flag_is_urgent (WzFollowupFlag flag)
{
  return flag == WZ_FOLLOWUP_FLAG_URGENT || flag == WZ_FOLLOWUP_FLAG_URGENT_LOW ||
         flag == WZ_FOLLOWUP_FLAG_URGENT_HIGH;
}

static void
text_copy (WzText       *to,
           const WzText *from)
{
  to->en = g_strdup (from->en);
  to->zh = g_strdup (from->zh);
}

static void
target_clear (WzCareplanTarget *target)
{
  g_clear_pointer (&target->id, g_free);
  wz_text_clear (&target->name);
  g_clear_pointer (&target->loinc, g_free);
  g_clear_pointer (&target->unit, g_free);
  g_clear_pointer (&target->questions, g_strfreev);
  wz_text_clear (&target->target_text);
  wz_text_clear (&target->urgent_message);
  wz_text_clear (&target->flag_message);
  g_clear_pointer (&target->per, g_free);
}

WzCareplanTarget *
wz_careplan_target_copy (const WzCareplanTarget *target)
{
  WzCareplanTarget *copy = g_new (WzCareplanTarget, 1);

  *copy = *target;
  copy->id = g_strdup (target->id);
  text_copy (&copy->name, &target->name);
  copy->loinc = g_strdup (target->loinc);
  copy->unit = g_strdup (target->unit);
  copy->questions = g_strdupv (target->questions);
  text_copy (&copy->target_text, &target->target_text);
  text_copy (&copy->urgent_message, &target->urgent_message);
  text_copy (&copy->flag_message, &target->flag_message);
  copy->per = g_strdup (target->per);
  return copy;
}

void
wz_careplan_target_free (WzCareplanTarget *target)
{
  if (target == NULL)
    return;
  target_clear (target);
  g_free (target);
}

WzFollowupFlag
wz_careplan_target_flag (const WzCareplanTarget *target,
                         double                  value)
{
  gboolean has_low = target->has_flag_low || target->has_low;
  double low = target->has_flag_low ? target->flag_low : target->low;
  gboolean has_high = target->has_flag_high || target->has_high;
  double high = target->has_flag_high ? target->flag_high : target->high;

  /* Urgent levels come first: "≥ 180" and "< 3.9" in the template's words. */
  if (target->has_urgent_high && value >= target->urgent_high)
    return WZ_FOLLOWUP_FLAG_URGENT_HIGH;
  if (target->has_urgent_low && value < target->urgent_low)
    return WZ_FOLLOWUP_FLAG_URGENT_LOW;
  if (has_high && (target->high_inclusive && !target->has_flag_high ? value > high : value >= high))
    return WZ_FOLLOWUP_FLAG_HIGH;
  if (has_low && value < low)
    return WZ_FOLLOWUP_FLAG_LOW;
  return WZ_FOLLOWUP_FLAG_NONE;
}

WzFollowupFlag
wz_careplan_target_flag_answer (const WzCareplanTarget *target,
                                gboolean                yes)
{
  if (!yes)
    return WZ_FOLLOWUP_FLAG_NONE;
  if (target->urgent_if_any_yes)
    return WZ_FOLLOWUP_FLAG_URGENT;
  if (target->flag_if_any_yes)
    return WZ_FOLLOWUP_FLAG_ABNORMAL;
  return WZ_FOLLOWUP_FLAG_NONE;
}

guint
wz_careplan_target_interval_days (const WzCareplanTarget *target)
{
  /* One missed reading is not news; a whole period without one is. */
  if (g_strcmp0 (target->per, "day") == 0)
    return 2;
  if (g_strcmp0 (target->per, "week") == 0)
    return 8;
  if (g_strcmp0 (target->per, "month") == 0)
    return 32;
  if (g_strcmp0 (target->per, "year") == 0)
    return 366;
  return 0;
}

gboolean
wz_careplan_target_matches (const WzCareplanTarget *target,
                            const char             *system,
                            const char             *code)
{
  if (system == NULL || code == NULL)
    return FALSE;
  if (strcmp (system, WZ_FOLLOWUP_MEASUREMENT_SYSTEM) == 0)
    return strcmp (code, target->id) == 0;
  if (strcmp (system, WZ_FOLLOWUP_LOINC_SYSTEM) == 0)
    return target->loinc != NULL && strcmp (code, target->loinc) == 0;
  return FALSE;
}

/* ---- Loading ------------------------------------------------------------------------------ */

static void
question_free (gpointer data)
{
  Question *question = data;

  g_free (question->id);
  g_free (question->kind);
  wz_text_clear (&question->text);
  g_free (question);
}

static void
variant_clear (gpointer data)
{
  Variant *variant = data;

  wz_text_clear (&variant->when);
  g_strfreev (variant->icd10_prefixes);
}

static void
measurement_free (gpointer data)
{
  Measurement *measurement = data;

  target_clear (&measurement->base);
  g_clear_pointer (&measurement->variants, g_array_unref);
  g_clear_pointer (&measurement->questions, g_ptr_array_unref);
  wz_text_clear (&measurement->frequency_text);
  g_free (measurement);
}

static void
revisit_free (gpointer data)
{
  Revisit *revisit = data;

  wz_text_clear (&revisit->label);
  g_free (revisit);
}

static void
education_free (gpointer data)
{
  Education *education = data;

  g_free (education->id);
  wz_text_clear (&education->title);
  wz_text_clear (&education->text);
  g_free (education);
}

static void
wz_careplan_template_finalize (GObject *object)
{
  WzCareplanTemplate *self = WZ_CAREPLAN_TEMPLATE (object);

  g_free (self->id);
  wz_text_clear (&self->title);
  g_free (self->anchor);
  g_strfreev (self->icd10_prefixes);
  g_clear_pointer (&self->revisits, g_ptr_array_unref);
  wz_text_clear (&self->annual_items);
  wz_text_clear (&self->revisit_note);
  g_clear_pointer (&self->measurements, g_ptr_array_unref);
  g_clear_pointer (&self->checkin_schedule, g_array_unref);
  g_clear_pointer (&self->checkin_questions, g_ptr_array_unref);
  g_clear_pointer (&self->education, g_ptr_array_unref);

  G_OBJECT_CLASS (wz_careplan_template_parent_class)->finalize (object);
}

static void
wz_careplan_template_class_init (WzCareplanTemplateClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = wz_careplan_template_finalize;
}

static void
wz_careplan_template_init (WzCareplanTemplate *self)
{
  self->revisits = g_ptr_array_new_with_free_func (revisit_free);
  self->measurements = g_ptr_array_new_with_free_func (measurement_free);
  self->checkin_schedule = g_array_new (FALSE, FALSE, sizeof (WzPeriod));
  self->checkin_questions = g_ptr_array_new_with_free_func (question_free);
  self->education = g_ptr_array_new_with_free_func (education_free);
}

static gboolean
is_null (JsonObject *object,
         const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  return node == NULL || JSON_NODE_HOLDS_NULL (node);
}

/* Only the members this code reads, plus words for people: a misspelt key must not silently
 * drop a target or an alert. */
static gboolean
check_keys (JsonObject         *object,
            const char         *where,
            const char *const  *allowed,
            GError            **error)
{
  JsonObjectIter iter;
  const char *name;
  JsonNode *node;

  json_object_iter_init (&iter, object);
  while (json_object_iter_next (&iter, &name, &node))
    if (!g_strv_contains (allowed, name))
      return wz_error_set_invalid (error, "%s.%s is not a member this version understands", where, name);
  return TRUE;
}

static gboolean
load_prefixes (JsonObject  *object,
               const char  *where,
               GStrv       *out_prefixes,
               GError     **error)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  JsonArray *array;

  if (!json_object_has_member (object, "icd10_prefixes"))
    return TRUE;
  if ((array = wz_json_req_array (object, "icd10_prefixes", where, error)) == NULL)
    return FALSE;
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      const char *prefix = json_array_get_string_element (array, i);

      if (prefix == NULL || !g_ascii_isupper (prefix[0]) || strlen (prefix) < 2)
        return wz_error_set_invalid (error, "%s.icd10_prefixes[%u] is not an ICD-10 code prefix", where, i);
      g_strv_builder_add (builder, prefix);
    }
  *out_prefixes = g_strv_builder_end (builder);
  return TRUE;
}

static gboolean
load_questions (JsonArray   *array,
                const char  *where,
                GPtrArray   *out,
                GError     **error)
{
  static const char *allowed[] = { "id", "kind", "text", NULL };

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      g_autofree char *inner = g_strdup_printf ("%s[%u]", where, i);
      JsonNode *node = json_array_get_element (array, i);
      JsonObject *object;
      Question *question;
      const char *id, *kind;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        return wz_error_set_invalid (error, "%s is not an object", inner);
      object = json_node_get_object (node);
      question = g_new0 (Question, 1);
      g_ptr_array_add (out, question);
      if (!check_keys (object, inner, allowed, error) ||
          (id = wz_json_req_string (object, "id", inner, error)) == NULL ||
          (kind = wz_json_req_string (object, "kind", inner, error)) == NULL ||
          !wz_json_req_text (object, "text", inner, &question->text, error))
        return FALSE;
      if (!g_strv_contains ((const char *[]) { "yes_no", "number", "choice", NULL }, kind))
        return wz_error_set_invalid (error, "%s.kind is “%s”; expected yes_no, number or choice", inner, kind);
      question->id = g_strdup (id);
      question->kind = g_strdup (kind);
    }
  return TRUE;
}

static gboolean
load_measurement (WzCareplanTemplate  *self,
                  JsonObject          *object,
                  const char          *where,
                  GError             **error)
{
  static const char *allowed[] = { "id", "name", "loinc", "unit", "frequency", "target",
                                   "target_variants", "alert", "note", NULL };
  static const char *frequency_keys[] = { "times", "per", "window", NULL };
  static const char *target_keys[] = { "low", "high", "high_inclusive", "text", NULL };
  static const char *variant_keys[] = { "when", "icd10_prefixes", "min_age_years", "low", "high",
                                        NULL };
  static const char *alert_keys[] = { "flag_low", "flag_high", "flag_message", "urgent_low",
                                      "urgent_high", "urgent_message", "flag_if_any_yes",
                                      "urgent_if_any_yes", "questions", NULL };
  Measurement *measurement = g_new0 (Measurement, 1);
  WzCareplanTarget *t = &measurement->base;
  g_autofree char *frequency_where = g_strconcat (where, ".frequency", NULL);
  g_autofree char *target_where = g_strconcat (where, ".target", NULL);
  g_autofree char *alert_where = g_strconcat (where, ".alert", NULL);
  JsonObject *frequency, *target, *alert;
  const char *id, *unit, *per;
  gint times;

  measurement->variants = g_array_new (FALSE, TRUE, sizeof (Variant));
  g_array_set_clear_func (measurement->variants, variant_clear);
  measurement->questions = g_ptr_array_new_with_free_func (question_free);
  g_ptr_array_add (self->measurements, measurement);

  if (!check_keys (object, where, allowed, error) ||
      (id = wz_json_req_string (object, "id", where, error)) == NULL ||
      !wz_json_req_text (object, "name", where, &t->name, error) ||
      (unit = wz_json_req_string (object, "unit", where, error)) == NULL ||
      (frequency = wz_json_req_object (object, "frequency", where, error)) == NULL ||
      !check_keys (frequency, frequency_where, frequency_keys, error) ||
      !wz_json_req_int (frequency, "times", frequency_where, 1, 100, &times, error) ||
      (per = wz_json_req_string (frequency, "per", frequency_where, error)) == NULL ||
      !wz_json_opt_text (frequency, "window", frequency_where, &measurement->frequency_text,
                         error) ||
      (target = wz_json_req_object (object, "target", where, error)) == NULL ||
      !check_keys (target, target_where, target_keys, error) ||
      !wz_json_opt_number (target, "low", target_where, &t->has_low, &t->low, error) ||
      !wz_json_opt_number (target, "high", target_where, &t->has_high, &t->high, error) ||
      !wz_json_opt_boolean (target, "high_inclusive", target_where, &t->high_inclusive, error) ||
      !wz_json_opt_text (target, "text", target_where, &t->target_text, error))
    return FALSE;

  for (guint i = 0; i < self->measurements->len - 1; i++)
    if (strcmp (((Measurement *) g_ptr_array_index (self->measurements, i))->base.id, id) == 0)
      return wz_error_set_invalid (error, "%s.id “%s” is used twice in the template", where, id);
  if (strchr (id, '.') != NULL)
    return wz_error_set_invalid (error, "%s.id “%s” must not contain a dot", where, id);
  t->id = g_strdup (id);
  t->unit = g_strdup (unit);
  t->times = times;
  t->per = g_strdup (per);
  if (!g_strv_contains ((const char *[]) { "day", "week", "month", "year", "visit", NULL }, per))
    return wz_error_set_invalid (error, "%s.per is “%s”; expected day, week, month, year or visit",
                    frequency_where, per);
  if (t->has_low && t->has_high && t->low >= t->high)
    return wz_error_set_invalid (error, "%s: low %g is not below high %g", target_where, t->low, t->high);

  if (!is_null (object, "loinc"))
    {
      const char *loinc = wz_json_req_string (object, "loinc", where, error);

      if (loinc == NULL)
        return FALSE;
      if (strchr (loinc, '-') == NULL)
        return wz_error_set_invalid (error, "%s.loinc “%s” is not a LOINC code (NNNN-N)", where, loinc);
      t->loinc = g_strdup (loinc);
    }

  if (json_object_has_member (object, "target_variants"))
    {
      JsonArray *variants = wz_json_req_array (object, "target_variants", where, error);

      if (variants == NULL)
        return FALSE;
      for (guint i = 0; i < json_array_get_length (variants); i++)
        {
          g_autofree char *inner = g_strdup_printf ("%s.target_variants[%u]", where, i);
          JsonNode *node = json_array_get_element (variants, i);
          Variant variant = { { NULL, NULL }, NULL, -1, };
          JsonObject *variant_object;
          gboolean ok;

          if (!JSON_NODE_HOLDS_OBJECT (node))
            return wz_error_set_invalid (error, "%s is not an object", inner);
          variant_object = json_node_get_object (node);
          ok = check_keys (variant_object, inner, variant_keys, error) &&
               wz_json_req_text (variant_object, "when", inner, &variant.when, error) &&
               load_prefixes (variant_object, inner, &variant.icd10_prefixes, error) &&
               (!json_object_has_member (variant_object, "min_age_years") ||
                wz_json_req_int (variant_object, "min_age_years", inner, 0, 150,
                                 &variant.min_age_years, error)) &&
               wz_json_opt_number (variant_object, "low", inner, &variant.has_low, &variant.low,
                                   error) &&
               wz_json_opt_number (variant_object, "high", inner, &variant.has_high,
                                   &variant.high, error);
          g_array_append_val (measurement->variants, variant);
          if (!ok)
            return FALSE;
          if (variant.icd10_prefixes == NULL && variant.min_age_years < 0)
            return wz_error_set_invalid (error, "%s says neither icd10_prefixes nor min_age_years: it would "
                            "apply to everyone", inner);
          if (!variant.has_low && !variant.has_high)
            return wz_error_set_invalid (error, "%s changes neither low nor high", inner);
        }
    }

  if (!json_object_has_member (object, "alert"))
    return TRUE;
  if ((alert = wz_json_req_object (object, "alert", where, error)) == NULL ||
      !check_keys (alert, alert_where, alert_keys, error) ||
      !wz_json_opt_number (alert, "flag_low", alert_where, &t->has_flag_low, &t->flag_low, error) ||
      !wz_json_opt_number (alert, "flag_high", alert_where, &t->has_flag_high, &t->flag_high,
                           error) ||
      !wz_json_opt_number (alert, "urgent_low", alert_where, &t->has_urgent_low, &t->urgent_low,
                           error) ||
      !wz_json_opt_number (alert, "urgent_high", alert_where, &t->has_urgent_high,
                           &t->urgent_high, error) ||
      !wz_json_opt_text (alert, "urgent_message", alert_where, &t->urgent_message, error) ||
      !wz_json_opt_text (alert, "flag_message", alert_where, &t->flag_message, error) ||
      !wz_json_opt_boolean (alert, "flag_if_any_yes", alert_where, &t->flag_if_any_yes, error) ||
      !wz_json_opt_boolean (alert, "urgent_if_any_yes", alert_where, &t->urgent_if_any_yes,
                            error))
    return FALSE;

  if (t->has_urgent_high && t->has_high && t->urgent_high < t->high)
    return wz_error_set_invalid (error, "%s.urgent_high %g is below the target's high %g", alert_where,
                    t->urgent_high, t->high);
  if (t->has_urgent_low && t->has_low && t->urgent_low > t->low)
    return wz_error_set_invalid (error, "%s.urgent_low %g is above the target's low %g", alert_where,
                    t->urgent_low, t->low);

  if (json_object_has_member (alert, "questions"))
    {
      g_autofree char *questions_where = g_strconcat (alert_where, ".questions", NULL);
      g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
      JsonArray *questions = wz_json_req_array (alert, "questions", alert_where, error);

      if (questions == NULL ||
          !load_questions (questions, questions_where, measurement->questions, error))
        return FALSE;
      for (guint i = 0; i < measurement->questions->len; i++)
        {
          Question *question = g_ptr_array_index (measurement->questions, i);

          if (strcmp (question->kind, "yes_no") != 0)
            return wz_error_set_invalid (error, "%s[%u].kind must be yes_no for an alert question",
                            questions_where, i);
          g_strv_builder_add (builder, question->id);
        }
      t->questions = g_strv_builder_end (builder);
    }
  if ((t->flag_if_any_yes || t->urgent_if_any_yes) && t->questions == NULL)
    return wz_error_set_invalid (error, "%s flags “any yes” but has no questions", alert_where);

  return TRUE;
}

static gboolean
load_window (JsonObject  *object,
             const char  *where,
             gboolean    *out_has,
             gint        *out_before,
             gint        *out_after,
             GError     **error)
{
  *out_has = json_object_has_member (object, "window_days");
  if (!*out_has)
    return TRUE;
  return wz_json_req_day_pair (object, "window_days", where, out_before, out_after, error);
}

static gboolean
load_revisits (WzCareplanTemplate  *self,
               JsonObject          *template,
               const char          *where,
               GError             **error)
{
  static const char *allowed[] = { "schedule", "repeat_every", "if_not_at_target_every",
                                   "window_days", "annual_review", "note", NULL };
  static const char *item_keys[] = { "offset", "window_days", "until", "repeat_every", "label",
                                     "optional", NULL };
  g_autofree char *inner = g_strconcat (where, ".revisits", NULL);
  JsonObject *revisits = wz_json_req_object (template, "revisits", where, error);
  JsonArray *schedule;

  if (revisits == NULL || !check_keys (revisits, inner, allowed, error) ||
      (schedule = wz_json_req_array (revisits, "schedule", inner, error)) == NULL ||
      !load_window (revisits, inner, &self->has_window, &self->before, &self->after, error) ||
      !wz_json_opt_text (revisits, "note", inner, &self->revisit_note, error))
    return FALSE;

  if ((self->has_repeat = !is_null (revisits, "repeat_every")) &&
      !wz_json_req_period (revisits, "repeat_every", inner, TRUE, &self->repeat_every, error))
    return FALSE;
  if (self->has_repeat && self->repeat_every.value == 0)
    return wz_error_set_invalid (error, "%s.repeat_every must be longer than 0", inner);
  if ((self->has_not_at_target = !is_null (revisits, "if_not_at_target_every")) &&
      !wz_json_req_period (revisits, "if_not_at_target_every", inner, TRUE,
                           &self->not_at_target_every, error))
    return FALSE;
  if (self->has_repeat && !self->has_window)
    return wz_error_set_invalid (error, "%s repeats but gives no window_days for the repeats", inner);

  if (json_object_has_member (revisits, "annual_review"))
    {
      g_autofree char *annual_where = g_strconcat (inner, ".annual_review", NULL);
      JsonObject *annual = wz_json_req_object (revisits, "annual_review", inner, error);

      if (annual == NULL ||
          !check_keys (annual, annual_where, (const char *[]) { "offset", "items", NULL }, error) ||
          !wz_json_req_period (annual, "offset", annual_where, TRUE, &self->annual_offset, error) ||
          !wz_json_req_text (annual, "items", annual_where, &self->annual_items, error))
        return FALSE;
      self->has_annual = TRUE;
    }

  for (guint i = 0; i < json_array_get_length (schedule); i++)
    {
      g_autofree char *item_where = g_strdup_printf ("%s.schedule[%u]", inner, i);
      JsonNode *node = json_array_get_element (schedule, i);
      JsonObject *item;
      Revisit *revisit;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        return wz_error_set_invalid (error, "%s is not an object", item_where);
      item = json_node_get_object (node);
      revisit = g_new0 (Revisit, 1);
      g_ptr_array_add (self->revisits, revisit);
      if (!check_keys (item, item_where, item_keys, error) ||
          !wz_json_req_period (item, "offset", item_where, TRUE, &revisit->offset, error) ||
          !load_window (item, item_where, &revisit->has_window, &revisit->before, &revisit->after,
                        error) ||
          !wz_json_req_text (item, "label", item_where, &revisit->label, error) ||
          !wz_json_opt_boolean (item, "optional", item_where, &revisit->optional, error))
        return FALSE;
      if ((revisit->has_until = json_object_has_member (item, "until")) &&
          !wz_json_req_period (item, "until", item_where, TRUE, &revisit->until, error))
        return FALSE;
      if ((revisit->has_repeat = json_object_has_member (item, "repeat_every")) &&
          !wz_json_req_period (item, "repeat_every", item_where, TRUE, &revisit->repeat, error))
        return FALSE;
      if (revisit->has_repeat && (!revisit->has_until || revisit->repeat.value == 0))
        return wz_error_set_invalid (error, "%s repeats, so it needs an until and a repeat longer than 0",
                        item_where);
      if (revisit->has_window && revisit->has_until)
        return wz_error_set_invalid (error, "%s gives both window_days and until; give one", item_where);
      if (!revisit->has_window && !revisit->has_until && !self->has_window)
        return wz_error_set_invalid (error, "%s gives no window_days or until, and the revisits give no "
                        "window_days either", item_where);
    }

  return TRUE;
}

static gboolean
load_checkins (WzCareplanTemplate  *self,
               JsonObject          *template,
               const char          *where,
               GError             **error)
{
  static const char *allowed[] = { "every", "schedule", "until", "questions", NULL };
  g_autofree char *inner = g_strconcat (where, ".adherence_checkins", NULL);
  g_autofree char *questions_where = g_strconcat (inner, ".questions", NULL);
  JsonObject *checkins = wz_json_req_object (template, "adherence_checkins", where, error);
  JsonArray *questions;

  if (checkins == NULL || !check_keys (checkins, inner, allowed, error) ||
      (questions = wz_json_req_array (checkins, "questions", inner, error)) == NULL ||
      !load_questions (questions, questions_where, self->checkin_questions, error))
    return FALSE;

  if ((self->has_checkin_every = json_object_has_member (checkins, "every")) &&
      !wz_json_req_period (checkins, "every", inner, TRUE, &self->checkin_every, error))
    return FALSE;
  if (self->has_checkin_every && self->checkin_every.value == 0)
    return wz_error_set_invalid (error, "%s.every must be longer than 0", inner);
  if ((self->has_checkin_until = json_object_has_member (checkins, "until")) &&
      !wz_json_req_period (checkins, "until", inner, TRUE, &self->checkin_until, error))
    return FALSE;
  if (json_object_has_member (checkins, "schedule"))
    {
      JsonArray *schedule = wz_json_req_array (checkins, "schedule", inner, error);

      if (schedule == NULL)
        return FALSE;
      for (guint i = 0; i < json_array_get_length (schedule); i++)
        {
          g_autofree char *item_where = g_strdup_printf ("%s.schedule[%u]", inner, i);
          WzPeriod offset;

          if (!wz_json_period_from_node (json_array_get_element (schedule, i), item_where, TRUE,
                                         &offset, error))
            return FALSE;
          g_array_append_val (self->checkin_schedule, offset);
        }
    }
  if (self->has_checkin_every == (self->checkin_schedule->len > 0))
    return wz_error_set_invalid (error, "%s needs exactly one of every and schedule", inner);
  if (self->checkin_questions->len == 0)
    return wz_error_set_invalid (error, "%s.questions is empty", inner);

  return TRUE;
}

static gboolean
load_education (WzCareplanTemplate  *self,
                JsonObject          *template,
                const char          *where,
                GError             **error)
{
  static const char *allowed[] = { "id", "title", "text", "when", NULL };
  JsonArray *items = wz_json_req_array (template, "education", where, error);

  if (items == NULL)
    return FALSE;

  for (guint i = 0; i < json_array_get_length (items); i++)
    {
      g_autofree char *inner = g_strdup_printf ("%s.education[%u]", where, i);
      JsonNode *node = json_array_get_element (items, i);
      Education *education;
      JsonObject *object;
      const char *id;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        return wz_error_set_invalid (error, "%s is not an object", inner);
      object = json_node_get_object (node);
      education = g_new0 (Education, 1);
      g_ptr_array_add (self->education, education);
      if (!check_keys (object, inner, allowed, error) ||
          (id = wz_json_req_string (object, "id", inner, error)) == NULL ||
          !wz_json_req_text (object, "title", inner, &education->title, error) ||
          !wz_json_req_text (object, "text", inner, &education->text, error) ||
          !wz_json_req_period (object, "when", inner, TRUE, &education->when, error))
        return FALSE;
      for (guint k = 0; k + 1 < self->education->len; k++)
        if (strcmp (((Education *) g_ptr_array_index (self->education, k))->id, id) == 0)
          return wz_error_set_invalid (error, "%s.id “%s” is used twice in the template", inner, id);
      education->id = g_strdup (id);
    }
  return TRUE;
}

typedef struct
{
  gint     checkin_window[2];
  gint     education_window[2];
  gint     annual_window[2];
  WzPeriod plan_length;
} Conventions;

static WzCareplanTemplate *
load_template (JsonObject         *object,
               const char         *where,
               const Conventions  *conventions,
               GError            **error)
{
  static const char *allowed[] = { "id", "title", "applies_to", "sources", "anchor", "revisits",
                                   "measurements", "adherence_checkins", "education", "links",
                                   "note", NULL };
  static const char *anchors[] = { "plan_start", "procedure_date", "last_menstrual_period",
                                   "birth_date", NULL };
  g_autoptr(WzCareplanTemplate) self = g_object_new (WZ_TYPE_CAREPLAN_TEMPLATE, NULL);
  g_autofree char *applies_where = g_strconcat (where, ".applies_to", NULL);
  JsonObject *applies;
  JsonArray *measurements, *sources;
  const char *id, *anchor;

  if (!check_keys (object, where, allowed, error) ||
      (id = wz_json_req_string (object, "id", where, error)) == NULL ||
      !wz_json_req_text (object, "title", where, &self->title, error) ||
      (anchor = wz_json_req_string (object, "anchor", where, error)) == NULL ||
      (sources = wz_json_req_array (object, "sources", where, error)) == NULL ||
      (applies = wz_json_req_object (object, "applies_to", where, error)) == NULL ||
      !check_keys (applies, applies_where,
                   (const char *[]) { "icd10_prefixes", "max_age_years", NULL }, error) ||
      !load_prefixes (applies, applies_where, &self->icd10_prefixes, error))
    return NULL;

  self->id = g_strdup (id);
  if (!g_strv_contains (anchors, anchor))
    {
      wz_error_set_invalid (error, "%s.anchor is “%s”; expected plan_start, procedure_date, "
               "last_menstrual_period or birth_date", where, anchor);
      return NULL;
    }
  self->anchor = g_strdup (anchor);
  if (json_array_get_length (sources) == 0 && strcmp (id, "custom") != 0)
    {
      wz_error_set_invalid (error, "%s.sources is empty: name the guideline the template follows", where);
      return NULL;
    }

  memcpy (self->checkin_window, conventions->checkin_window, sizeof self->checkin_window);
  memcpy (self->education_window, conventions->education_window, sizeof self->education_window);
  memcpy (self->annual_window, conventions->annual_window, sizeof self->annual_window);
  self->plan_length = conventions->plan_length;

  if (!load_revisits (self, object, where, error) ||
      (measurements = wz_json_req_array (object, "measurements", where, error)) == NULL)
    return NULL;
  for (guint i = 0; i < json_array_get_length (measurements); i++)
    {
      g_autofree char *inner = g_strdup_printf ("%s.measurements[%u]", where, i);
      JsonNode *node = json_array_get_element (measurements, i);

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          wz_error_set_invalid (error, "%s is not an object", inner);
          return NULL;
        }
      if (!load_measurement (self, json_node_get_object (node), inner, error))
        return NULL;
    }
  if (!load_checkins (self, object, where, error) || !load_education (self, object, where, error))
    return NULL;

  return g_steal_pointer (&self);
}

GPtrArray *
wz_careplan_template_load_data (const char  *data,
                                gssize       length,
                                GError     **error)
{
  g_autoptr(GPtrArray) templates = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(JsonNode) root_node = NULL;
  JsonObject *root, *meta, *conventions_object, *defaults;
  JsonArray *items;
  Conventions conventions;

  g_return_val_if_fail (data != NULL, NULL);

  if ((root_node = wz_json_load_format_1 (data, length, &meta, error)) == NULL)
    goto fail;
  root = json_node_get_object (root_node);

  if ((conventions_object = wz_json_req_object (root, "conventions", "(root)", error)) == NULL ||
      (defaults = wz_json_req_object (conventions_object, "default_window_days", "conventions",
                                      error)) == NULL ||
      !wz_json_req_day_pair (defaults, "adherence_checkin", "conventions.default_window_days",
                             &conventions.checkin_window[0], &conventions.checkin_window[1],
                             error) ||
      !wz_json_req_day_pair (defaults, "education", "conventions.default_window_days",
                             &conventions.education_window[0], &conventions.education_window[1],
                             error) ||
      !wz_json_req_day_pair (defaults, "annual_review", "conventions.default_window_days",
                             &conventions.annual_window[0], &conventions.annual_window[1],
                             error) ||
      !wz_json_req_period (conventions_object, "default_plan_length", "conventions", TRUE,
                           &conventions.plan_length, error) ||
      (items = wz_json_req_array (root, "templates", "(root)", error)) == NULL)
    goto fail;
  if (conventions.plan_length.value == 0)
    {
      wz_error_set_invalid (error, "conventions.default_plan_length must be longer than 0");
      goto fail;
    }

  for (guint i = 0; i < json_array_get_length (items); i++)
    {
      g_autofree char *where = g_strdup_printf ("templates[%u]", i);
      JsonNode *node = json_array_get_element (items, i);
      WzCareplanTemplate *template;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          wz_error_set_invalid (error, "%s is not an object", where);
          goto fail;
        }
      template = load_template (json_node_get_object (node), where, &conventions, error);
      if (template == NULL)
        goto fail;
      if (wz_careplan_template_find (templates, template->id) != NULL)
        {
          wz_error_set_invalid (error, "%s.id “%s” is used twice", where, template->id);
          g_object_unref (template);
          goto fail;
        }
      g_ptr_array_add (templates, template);
    }

  return g_steal_pointer (&templates);

fail:
  g_prefix_error (error, "followup-templates.json: ");
  return NULL;
}

GPtrArray *
wz_careplan_template_load_file (const char  *path,
                                GError     **error)
{
  g_autofree char *contents = NULL;
  gsize length;

  if (!g_file_get_contents (path, &contents, &length, error))
    return NULL;
  return wz_careplan_template_load_data (contents, length, error);
}

WzCareplanTemplate *
wz_careplan_template_find (GPtrArray  *templates,
                           const char *id)
{
  for (guint i = 0; templates != NULL && id != NULL && i < templates->len; i++)
    {
      WzCareplanTemplate *template = g_ptr_array_index (templates, i);

      if (strcmp (template->id, id) == 0)
        return template;
    }
  return NULL;
}

const char *
wz_careplan_template_get_id (WzCareplanTemplate *self)
{
  g_return_val_if_fail (WZ_IS_CAREPLAN_TEMPLATE (self), NULL);
  return self->id;
}

const WzText *
wz_careplan_template_get_title (WzCareplanTemplate *self)
{
  g_return_val_if_fail (WZ_IS_CAREPLAN_TEMPLATE (self), NULL);
  return &self->title;
}

const char *
wz_careplan_template_get_anchor (WzCareplanTemplate *self)
{
  g_return_val_if_fail (WZ_IS_CAREPLAN_TEMPLATE (self), NULL);
  return self->anchor;
}

/* ---- Instantiating a plan ------------------------------------------------------------------ */

#define QUESTION_SYSTEM WZ_FOLLOWUP_BASE "CodeSystem/followup-question"
/* Days an item the doctor adds counts as on time after its due date. */
#define ADDED_WINDOW_DAYS 7

typedef struct
{
  char             *key;          /* identifier suffix, stable for the same request */
  const char       *kind;
  WzDay             due;
  WzDay             start;        /* on-time window */
  WzDay             end;
  WzText            title;
  WzText            description;
  gboolean          for_patient;  /* the patient does it (owner), else the author */
  const Measurement *measurement;
  WzCareplanTarget  *target;      /* measurement tasks: the chosen target */
  GPtrArray        *questions;    /* Question, borrowed */
} Item;

static void
item_free (gpointer data)
{
  Item *item = data;

  g_free (item->key);
  wz_text_clear (&item->title);
  wz_text_clear (&item->description);
  g_free (item);
}

static Item *
item_new (GPtrArray  *items,
          const char *kind,
          char       *key,
          WzDay       due,
          WzDay       start,
          WzDay       end)
{
  Item *item = g_new0 (Item, 1);

  item->kind = kind;
  item->key = key;
  item->due = due;
  item->start = MIN (start, due);
  item->end = MAX (end, due);
  g_ptr_array_add (items, item);
  return item;
}

static WzPeriod
times (const WzPeriod *period,
       gint            k)
{
  WzPeriod result = { period->value * k, period->unit };

  return result;
}

static void
set_text (WzText     *text,
          const char *en,
          const char *zh)
{
  text->en = g_strdup (en);
  text->zh = g_strdup (zh);
}

static void
period_words (const WzPeriod *period,
              GString        *en,
              GString        *zh)
{
  static const char *en_units[] = { "day", "week", "month", "year" };
  static const char *zh_units[] = { "天", "周", "个月", "年" };

  if (period->value == 1)
    g_string_append_printf (en, "every %s", en_units[period->unit]);
  else
    g_string_append_printf (en, "every %d %ss", period->value, en_units[period->unit]);
  g_string_append_printf (zh, "每%d%s", period->value, zh_units[period->unit]);
}

static const char *
per_en (const char *per)
{
  return strcmp (per, "visit") == 0 ? "at each visit"
         : strcmp (per, "day") == 0 ? "a day"
         : strcmp (per, "week") == 0 ? "a week"
         : strcmp (per, "month") == 0 ? "a month" : "a year";
}

static const char *
per_zh (const char *per)
{
  return strcmp (per, "visit") == 0 ? "每次就诊"
         : strcmp (per, "day") == 0 ? "每日"
         : strcmp (per, "week") == 0 ? "每周"
         : strcmp (per, "month") == 0 ? "每月" : "每年";
}

static gboolean
variant_applies (const Variant           *variant,
                 const WzCareplanRequest *request)
{
  if (variant->icd10_prefixes != NULL)
    {
      gboolean any = FALSE;

      for (guint i = 0; request->conditions != NULL && request->conditions[i] != NULL; i++)
        for (guint p = 0; variant->icd10_prefixes[p] != NULL; p++)
          if (g_str_has_prefix (request->conditions[i], variant->icd10_prefixes[p]))
            any = TRUE;
      if (!any)
        return FALSE;
    }
  if (variant->min_age_years >= 0 &&
      (request->age_years < 0 || request->age_years < variant->min_age_years))
    return FALSE;
  return TRUE;
}

/* The template's target, changed by the first variant that applies to this patient (the file
 * lists the stricter, comorbidity variants first). */
static WzCareplanTarget *
choose_target (const Measurement       *measurement,
               const WzCareplanRequest *request)
{
  WzCareplanTarget *target = wz_careplan_target_copy (&measurement->base);

  for (guint i = 0; i < measurement->variants->len; i++)
    {
      const Variant *variant = &g_array_index (measurement->variants, Variant, i);

      if (!variant_applies (variant, request))
        continue;
      if (variant->has_low)
        {
          target->has_low = TRUE;
          target->low = variant->low;
        }
      if (variant->has_high)
        {
          target->has_high = TRUE;
          target->high = variant->high;
        }
      wz_text_clear (&target->target_text);
      text_copy (&target->target_text, &variant->when);
      break;
    }
  return target;
}

static void
add_revisits (WzCareplanTemplate      *self,
              const WzCareplanRequest *request,
              WzDay                    end,
              GPtrArray               *items)
{
  WzDay anchor = request->anchor;
  WzDay last_base = anchor;
  guint n = 0;

  for (guint i = 0; i < self->revisits->len; i++)
    {
      const Revisit *revisit = g_ptr_array_index (self->revisits, i);
      WzDay due = wz_day_add (anchor, &revisit->offset);

      if (revisit->optional && !request->include_optional)
        continue;
      last_base = due;

      if (revisit->has_until)
        {
          WzDay until = wz_day_add_days (wz_day_add (anchor, &revisit->until), -1);

          for (gint k = 0; due <= until; k++)
            {
              WzDay next = revisit->has_repeat
                           ? wz_day_add (wz_day_add (anchor, &revisit->offset),
                                         &(WzPeriod) { revisit->repeat.value * (k + 1),
                                                       revisit->repeat.unit })
                           : wz_day_add_days (until, 1);
              Item *item = item_new (items, "revisit", g_strdup_printf ("revisit-%u", ++n), due,
                                     due, MIN (wz_day_add_days (next, -1), until));

              text_copy (&item->title, &revisit->label);
              if (!revisit->has_repeat)
                break;
              due = next;
            }
          continue;
        }

      {
        gint before = revisit->has_window ? revisit->before : self->before;
        gint after = revisit->has_window ? revisit->after : self->after;
        Item *item = item_new (items, "revisit", g_strdup_printf ("revisit-%u", ++n), due,
                               wz_day_add_days (due, -before), wz_day_add_days (due, after));

        text_copy (&item->title, &revisit->label);
      }
    }

  if (self->has_repeat)
    for (gint k = 1;; k++)
      {
        WzPeriod step = times (&self->repeat_every, k);
        WzDay due = wz_day_add (last_base, &step);
        g_autoptr(GString) en = g_string_new ("Follow-up visit, ");
        g_autoptr(GString) zh = g_string_new ("定期随访复诊，");
        Item *item;

        if (due > end)
          break;
        period_words (&self->repeat_every, en, zh);
        item = item_new (items, "revisit", g_strdup_printf ("revisit-%u", ++n), due,
                         wz_day_add_days (due, -self->before), wz_day_add_days (due, self->after));
        set_text (&item->title, en->str, zh->str);
      }

  if (self->has_annual)
    {
      WzDay due = wz_day_add (anchor, &self->annual_offset);
      Item *item = item_new (items, "annual-review", g_strdup ("annual-review"), due,
                             wz_day_add_days (due, -self->annual_window[0]),
                             wz_day_add_days (due, self->annual_window[1]));

      set_text (&item->title, "Annual review", "年度评估");
      text_copy (&item->description, &self->annual_items);
    }
}

static void
add_checkins (WzCareplanTemplate      *self,
              const WzCareplanRequest *request,
              WzDay                    end,
              GPtrArray               *items)
{
  WzDay anchor = request->anchor;
  WzDay until = end;
  guint n = 0;

  if (self->has_checkin_until)
    until = MIN (until, wz_day_add (anchor, &self->checkin_until));

  for (gint k = 1;; k++)
    {
      WzDay due;
      Item *item;

      if (self->has_checkin_every)
        {
          WzPeriod step = times (&self->checkin_every, k);

          due = wz_day_add (anchor, &step);
        }
      else if ((guint) k <= self->checkin_schedule->len)
        due = wz_day_add (anchor, &g_array_index (self->checkin_schedule, WzPeriod, k - 1));
      else
        break;
      if (due > until)
        break;

      item = item_new (items, "adherence-checkin", g_strdup_printf ("checkin-%u", ++n), due,
                       wz_day_add_days (due, -self->checkin_window[0]),
                       wz_day_add_days (due, self->checkin_window[1]));
      set_text (&item->title, "Medication and self-care check-in", "用药与自我管理随访");
      item->for_patient = TRUE;
    }
}

static GPtrArray *
plan_items (WzCareplanTemplate      *self,
            const WzCareplanRequest *request,
            WzDay                    start,
            WzDay                    end)
{
  GPtrArray *items = g_ptr_array_new_with_free_func (item_free);

  add_revisits (self, request, end, items);

  for (guint i = 0; i < self->measurements->len; i++)
    {
      const Measurement *measurement = g_ptr_array_index (self->measurements, i);
      g_autofree char *en = g_strdup_printf ("%u times %s", measurement->base.times,
                                             per_en (measurement->base.per));
      g_autofree char *zh = g_strdup_printf ("%s%u次", per_zh (measurement->base.per),
                                             measurement->base.times);
      Item *item = item_new (items, "measurement",
                             g_strconcat ("measurement-", measurement->base.id, NULL), start,
                             start, end);

      text_copy (&item->title, &measurement->base.name);
      if (measurement->frequency_text.en != NULL)
        {
          item->description.en = g_strdup_printf ("%s. %s", en, measurement->frequency_text.en);
          item->description.zh = g_strdup_printf ("%s。%s", zh, measurement->frequency_text.zh);
        }
      else
        set_text (&item->description, en, zh);
      item->for_patient = TRUE;
      item->measurement = measurement;
      item->target = choose_target (measurement, request);
      if (measurement->questions->len > 0)
        item->questions = measurement->questions;
    }

  add_checkins (self, request, end, items);

  for (guint i = 0; i < self->education->len; i++)
    {
      const Education *education = g_ptr_array_index (self->education, i);
      WzDay due = wz_day_add (request->anchor, &education->when);
      Item *item = item_new (items, "education", g_strconcat ("education-", education->id, NULL),
                             due, wz_day_add_days (due, -self->education_window[0]),
                             wz_day_add_days (due, self->education_window[1]));

      text_copy (&item->title, &education->title);
      text_copy (&item->description, &education->text);
      item->for_patient = TRUE;
    }

  return items;
}

static gint
compare_items (gconstpointer a,
               gconstpointer b)
{
  const Item *x = *(const Item * const *) a;
  const Item *y = *(const Item * const *) b;

  return x->due < y->due ? -1 : x->due > y->due;
}

static void
set_string (JsonBuilder *builder,
            const char  *member,
            const char  *value)
{
  json_builder_set_member_name (builder, member);
  json_builder_add_string_value (builder, value);
}

static void
set_reference (JsonBuilder *builder,
               const char  *member,
               const char  *reference)
{
  json_builder_set_member_name (builder, member);
  json_builder_begin_object (builder);
  set_string (builder, "reference", reference);
  json_builder_end_object (builder);
}

static void
add_number (JsonBuilder *builder,
            double       value)
{
  /* json-glib writes doubles with 17 digits; whole numbers stay whole. */
  if (value == (double) (gint64) value && ABS (value) < 1e15)
    json_builder_add_int_value (builder, (gint64) value);
  else
    json_builder_add_double_value (builder, value);
}

static void
add_coding (JsonBuilder *builder,
            const char  *system,
            const char  *code,
            const char  *display)
{
  json_builder_begin_object (builder);
  set_string (builder, "system", system);
  set_string (builder, "code", code);
  if (display != NULL)
    set_string (builder, "display", display);
  json_builder_end_object (builder);
}

static void
add_period (JsonBuilder *builder,
            const char  *member,
            WzDay        start,
            WzDay        end)
{
  char buf[16];

  json_builder_set_member_name (builder, member);
  json_builder_begin_object (builder);
  set_string (builder, "start", wz_day_format_buf (start, buf));
  set_string (builder, "end", wz_day_format_buf (end, buf));
  json_builder_end_object (builder);
}

static void
add_measurement_code (JsonBuilder             *builder,
                      const WzCareplanTarget  *target,
                      const char              *lang)
{
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "coding");
  json_builder_begin_array (builder);
  if (target->loinc != NULL)
    add_coding (builder, WZ_FOLLOWUP_LOINC_SYSTEM, target->loinc, NULL);
  add_coding (builder, WZ_FOLLOWUP_MEASUREMENT_SYSTEM, target->id, NULL);
  json_builder_end_array (builder);
  wz_json_add_text (builder, "text", &target->name, lang);
  json_builder_end_object (builder);
}

static void
add_question_inputs (JsonBuilder *builder,
                     GPtrArray   *questions,
                     const char  *prefix,
                     const char  *lang)
{
  for (guint i = 0; questions != NULL && i < questions->len; i++)
    {
      const Question *question = g_ptr_array_index (questions, i);
      g_autofree char *code = prefix ? g_strconcat (prefix, ".", question->id, NULL)
                                     : g_strdup (question->id);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "type");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "coding");
      json_builder_begin_array (builder);
      add_coding (builder, QUESTION_SYSTEM, code, NULL);
      json_builder_end_array (builder);
      wz_json_add_text (builder, "text", &question->text, lang);
      json_builder_end_object (builder);
      set_string (builder, "valueString", question->kind);
      json_builder_end_object (builder);
    }
}

static void add_target_extension_object (JsonBuilder            *builder,
                                         const WzCareplanTarget *t,
                                         const char             *lang);

static JsonNode *
item_to_task (const Item              *item,
              const WzCareplanRequest *request)
{
  /* Not immutable: basedOn is added once the plan has an id. */
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *identifier = g_strconcat (request->identifier, "/", item->key, NULL);
  char due[16];

  json_builder_begin_object (builder);
  set_string (builder, "resourceType", "Task");
  json_builder_set_member_name (builder, "extension");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  set_string (builder, "url", WZ_FOLLOWUP_DUE_EXTENSION);
  set_string (builder, "valueDate", wz_day_format_buf (item->due, due));
  json_builder_end_object (builder);
  /* A measurement Task carries its target too, so the worklist needs only the Tasks. */
  if (item->target != NULL)
    add_target_extension_object (builder, item->target, request->lang);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "identifier");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  set_string (builder, "system", WZ_FOLLOWUP_TASK_ID_SYSTEM);
  set_string (builder, "value", identifier);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  /* A measurement runs for the whole plan from its start: in progress, not waiting to be done,
   * so the open Tasks due by a day (what a worklist reads) are the actionable ones. */
  set_string (builder, "status", item->target != NULL ? "in-progress" : "requested");
  set_string (builder, "intent", "plan");
  set_string (builder, "priority", "routine");

  json_builder_set_member_name (builder, "code");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "coding");
  json_builder_begin_array (builder);
  add_coding (builder, WZ_FOLLOWUP_TASK_SYSTEM, item->kind, NULL);
  if (item->target != NULL)
    {
      if (item->target->loinc != NULL)
        add_coding (builder, WZ_FOLLOWUP_LOINC_SYSTEM, item->target->loinc, NULL);
      add_coding (builder, WZ_FOLLOWUP_MEASUREMENT_SYSTEM, item->target->id, NULL);
    }
  json_builder_end_array (builder);
  wz_json_add_text (builder, "text", &item->title, request->lang);
  json_builder_end_object (builder);
  if (item->description.en != NULL)
    wz_json_add_text (builder, "description", &item->description, request->lang);
  else
    wz_json_add_text (builder, "description", &item->title, request->lang);

  set_reference (builder, "for", request->patient_ref);
  if (request->authored_on != NULL)
    set_string (builder, "authoredOn", request->authored_on);
  set_reference (builder, "requester", request->author_ref);
  set_reference (builder, "owner", item->for_patient ? request->patient_ref : request->author_ref);
  json_builder_set_member_name (builder, "restriction");
  json_builder_begin_object (builder);
  add_period (builder, "period", item->start, item->end);
  json_builder_end_object (builder);

  if (item->questions != NULL || (item->target != NULL && item->target->target_text.en != NULL))
    {
      json_builder_set_member_name (builder, "input");
      json_builder_begin_array (builder);
      if (item->target != NULL && item->target->target_text.en != NULL)
        {
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "type");
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "coding");
          json_builder_begin_array (builder);
          add_coding (builder, WZ_FOLLOWUP_TASK_SYSTEM, "target", NULL);
          json_builder_end_array (builder);
          json_builder_end_object (builder);
          wz_json_add_text (builder, "valueString", &item->target->target_text, request->lang);
          json_builder_end_object (builder);
        }
      add_question_inputs (builder, item->questions,
                           item->target != NULL ? item->target->id : NULL, request->lang);
      json_builder_end_array (builder);
    }

  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

static void
add_sub_number (JsonBuilder *builder,
                const char  *url,
                gboolean     present,
                double       value)
{
  if (!present)
    return;
  json_builder_begin_object (builder);
  set_string (builder, "url", url);
  json_builder_set_member_name (builder, "valueDecimal");
  add_number (builder, value);
  json_builder_end_object (builder);
}

static void
add_sub_boolean (JsonBuilder *builder,
                 const char  *url,
                 gboolean     value)
{
  if (!value)
    return;
  json_builder_begin_object (builder);
  set_string (builder, "url", url);
  json_builder_set_member_name (builder, "valueBoolean");
  json_builder_add_boolean_value (builder, TRUE);
  json_builder_end_object (builder);
}

static void
add_sub_text (JsonBuilder  *builder,
              const char   *url,
              const WzText *text,
              const char   *lang)
{
  if (text->en == NULL && text->zh == NULL)
    return;
  json_builder_begin_object (builder);
  set_string (builder, "url", url);
  wz_json_add_text (builder, "valueString", text, lang);
  json_builder_end_object (builder);
}

/* The target extension object (an element of an extension array). */
static void
add_target_extension_object (JsonBuilder            *builder,
                             const WzCareplanTarget *t,
                             const char             *lang)
{
  json_builder_begin_object (builder);
  set_string (builder, "url", WZ_CAREPLAN_TARGET_EXTENSION);
  json_builder_set_member_name (builder, "extension");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  set_string (builder, "url", "unit");
  set_string (builder, "valueCode", t->unit);
  json_builder_end_object (builder);
  json_builder_begin_object (builder);
  set_string (builder, "url", "frequency");
  set_string (builder, "valueString", t->per);
  json_builder_end_object (builder);
  json_builder_begin_object (builder);
  set_string (builder, "url", "times");
  json_builder_set_member_name (builder, "valueInteger");
  json_builder_add_int_value (builder, t->times);
  json_builder_end_object (builder);
  add_sub_number (builder, "low", t->has_low, t->low);
  add_sub_number (builder, "high", t->has_high, t->high);
  add_sub_boolean (builder, "highInclusive", t->high_inclusive);
  add_sub_number (builder, "flagLow", t->has_flag_low, t->flag_low);
  add_sub_number (builder, "flagHigh", t->has_flag_high, t->flag_high);
  add_sub_number (builder, "urgentLow", t->has_urgent_low, t->urgent_low);
  add_sub_number (builder, "urgentHigh", t->has_urgent_high, t->urgent_high);
  add_sub_boolean (builder, "flagIfAnyYes", t->flag_if_any_yes);
  add_sub_boolean (builder, "urgentIfAnyYes", t->urgent_if_any_yes);
  for (guint i = 0; t->questions != NULL && t->questions[i] != NULL; i++)
    {
      json_builder_begin_object (builder);
      set_string (builder, "url", "question");
      set_string (builder, "valueCode", t->questions[i]);
      json_builder_end_object (builder);
    }
  add_sub_text (builder, "targetText", &t->target_text, lang);
  add_sub_text (builder, "urgentMessage", &t->urgent_message, lang);
  add_sub_text (builder, "flagMessage", &t->flag_message, lang);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
}

static void
add_target_extension (JsonBuilder            *builder,
                      const WzCareplanTarget *t,
                      const char             *lang)
{
  json_builder_set_member_name (builder, "extension");
  json_builder_begin_array (builder);
  add_target_extension_object (builder, t, lang);
  json_builder_end_array (builder);
}

static void
add_quantity (JsonBuilder *builder,
              const char  *member,
              double       value,
              const char  *unit)
{
  json_builder_set_member_name (builder, member);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "value");
  add_number (builder, value);
  set_string (builder, "unit", unit);
  set_string (builder, "system", WZ_FOLLOWUP_UCUM_SYSTEM);
  set_string (builder, "code", unit);
  json_builder_end_object (builder);
}

static const char *
timing_unit (const char *per)
{
  return strcmp (per, "day") == 0 ? "d" : strcmp (per, "week") == 0 ? "wk"
         : strcmp (per, "month") == 0 ? "mo" : "a";
}

/* The check-ins as one activity: their schedule, and the questions each check-in Task asks
 * (WZ_CAREPLAN_QUESTIONS_EXTENSION), so the Tasks need not repeat them. */
static void
add_checkin_activity (JsonBuilder        *builder,
                      WzCareplanTemplate *self,
                      GPtrArray          *items,
                      const char         *lang)
{
  WzText title = { "Medication and self-care check-in", "用药与自我管理随访" };
  WzDay first = WZ_DAY_NONE, last = WZ_DAY_NONE;
  guint n = 0;

  for (guint i = 0; i < items->len; i++)
    {
      const Item *item = g_ptr_array_index (items, i);

      if (strcmp (item->kind, "adherence-checkin") != 0)
        continue;
      if (n++ == 0)
        first = item->due;
      last = item->end;
    }
  if (n == 0)
    return;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "detail");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "extension");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  set_string (builder, "url", WZ_CAREPLAN_QUESTIONS_EXTENSION);
  json_builder_set_member_name (builder, "extension");
  json_builder_begin_array (builder);
  for (guint q = 0; q < self->checkin_questions->len; q++)
    {
      const Question *question = g_ptr_array_index (self->checkin_questions, q);

      json_builder_begin_object (builder);
      set_string (builder, "url", "question");
      json_builder_set_member_name (builder, "extension");
      json_builder_begin_array (builder);
      json_builder_begin_object (builder);
      set_string (builder, "url", "id");
      set_string (builder, "valueCode", question->id);
      json_builder_end_object (builder);
      json_builder_begin_object (builder);
      set_string (builder, "url", "kind");
      set_string (builder, "valueCode", question->kind);
      json_builder_end_object (builder);
      json_builder_begin_object (builder);
      set_string (builder, "url", "text");
      wz_json_add_text (builder, "valueString", &question->text, lang);
      json_builder_end_object (builder);
      json_builder_end_array (builder);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  set_string (builder, "kind", "Task");
  json_builder_set_member_name (builder, "code");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "coding");
  json_builder_begin_array (builder);
  add_coding (builder, WZ_FOLLOWUP_TASK_SYSTEM, "adherence-checkin", NULL);
  json_builder_end_array (builder);
  wz_json_add_text (builder, "text", &title, lang);
  json_builder_end_object (builder);
  set_string (builder, "status", "scheduled");
  if (self->has_checkin_every)
    {
      json_builder_set_member_name (builder, "scheduledTiming");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "repeat");
      json_builder_begin_object (builder);
      add_period (builder, "boundsPeriod", first, last);
      json_builder_set_member_name (builder, "frequency");
      json_builder_add_int_value (builder, 1);
      json_builder_set_member_name (builder, "period");
      json_builder_add_int_value (builder, self->checkin_every.unit == WZ_PERIOD_WEEK
                                           ? self->checkin_every.value * 7
                                           : self->checkin_every.value);
      set_string (builder, "periodUnit", self->checkin_every.unit == WZ_PERIOD_MONTH ? "mo"
                                         : self->checkin_every.unit == WZ_PERIOD_YEAR ? "a" : "d");
      json_builder_end_object (builder);
      json_builder_end_object (builder);
    }
  else
    add_period (builder, "scheduledPeriod", first, last);
  wz_json_add_text (builder, "description", &title, lang);
  json_builder_end_object (builder);
  json_builder_end_object (builder);
}

static JsonNode *
build_careplan (WzCareplanTemplate      *self,
                const WzCareplanRequest *request,
                GPtrArray               *items,
                WzDay                    start,
                WzDay                    end)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  g_autofree char *uri = g_strconcat (WZ_CAREPLAN_TEMPLATE_URI, self->id, NULL);
  gboolean any_goal = FALSE;
  const char *lang = request->lang;

  json_builder_begin_object (builder);
  set_string (builder, "resourceType", "CarePlan");

  /* A Goal per measurement with a numeric target, for readers that know FHIR but not our
   * extension (which keeps the exact edges and alert levels). */
  for (guint i = 0; i < items->len; i++)
    {
      const Item *item = g_ptr_array_index (items, i);
      const WzCareplanTarget *t = item->target;
      g_autofree char *id = NULL;

      if (t == NULL || (!t->has_low && !t->has_high))
        continue;
      if (!any_goal)
        {
          json_builder_set_member_name (builder, "contained");
          json_builder_begin_array (builder);
          any_goal = TRUE;
        }
      id = g_strconcat ("goal-", t->id, NULL);
      json_builder_begin_object (builder);
      set_string (builder, "resourceType", "Goal");
      set_string (builder, "id", id);
      set_string (builder, "lifecycleStatus", "active");
      json_builder_set_member_name (builder, "description");
      json_builder_begin_object (builder);
      wz_json_add_text (builder, "text", t->target_text.en ? &t->target_text : &t->name, lang);
      json_builder_end_object (builder);
      set_reference (builder, "subject", request->patient_ref);
      json_builder_set_member_name (builder, "target");
      json_builder_begin_array (builder);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "measure");
      add_measurement_code (builder, t, lang);
      json_builder_set_member_name (builder, "detailRange");
      json_builder_begin_object (builder);
      if (t->has_low)
        add_quantity (builder, "low", t->low, t->unit);
      if (t->has_high)
        add_quantity (builder, "high", t->high, t->unit);
      json_builder_end_object (builder);
      json_builder_end_object (builder);
      json_builder_end_array (builder);
      json_builder_end_object (builder);
    }
  if (any_goal)
    json_builder_end_array (builder);

  json_builder_set_member_name (builder, "identifier");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  set_string (builder, "system", WZ_CAREPLAN_ID_SYSTEM);
  set_string (builder, "value", request->identifier);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "instantiatesUri");
  json_builder_begin_array (builder);
  json_builder_add_string_value (builder, uri);
  json_builder_end_array (builder);
  set_string (builder, "status", "active");
  set_string (builder, "intent", "plan");
  wz_json_add_text (builder, "title", &self->title, lang);
  if (self->revisit_note.en != NULL)
    wz_json_add_text (builder, "description", &self->revisit_note, lang);
  set_reference (builder, "subject", request->patient_ref);
  add_period (builder, "period", start, end);
  if (request->authored_on != NULL)
    set_string (builder, "created", request->authored_on);
  set_reference (builder, "author", request->author_ref);

  if (any_goal)
    {
      json_builder_set_member_name (builder, "goal");
      json_builder_begin_array (builder);
      for (guint i = 0; i < items->len; i++)
        {
          const Item *item = g_ptr_array_index (items, i);
          g_autofree char *ref = NULL;

          if (item->target == NULL || (!item->target->has_low && !item->target->has_high))
            continue;
          ref = g_strconcat ("#goal-", item->target->id, NULL);
          json_builder_begin_object (builder);
          set_string (builder, "reference", ref);
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
    }

  json_builder_set_member_name (builder, "activity");
  json_builder_begin_array (builder);
  add_checkin_activity (builder, self, items, lang);
  for (guint i = 0; i < items->len; i++)
    {
      const Item *item = g_ptr_array_index (items, i);

      /* Check-ins are one activity with their schedule and questions (above). */
      if (strcmp (item->kind, "adherence-checkin") == 0)
        continue;
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "detail");
      json_builder_begin_object (builder);
      if (item->target != NULL)
        add_target_extension (builder, item->target, lang);
      set_string (builder, "kind", "Task");
      json_builder_set_member_name (builder, "code");
      if (item->target != NULL)
        add_measurement_code (builder, item->target, lang);
      else
        {
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "coding");
          json_builder_begin_array (builder);
          add_coding (builder, WZ_FOLLOWUP_TASK_SYSTEM, item->kind, NULL);
          json_builder_end_array (builder);
          wz_json_add_text (builder, "text", &item->title, lang);
          json_builder_end_object (builder);
        }
      if (item->target != NULL && item->target->has_low + item->target->has_high > 0)
        {
          g_autofree char *ref = g_strconcat ("#goal-", item->target->id, NULL);

          json_builder_set_member_name (builder, "goal");
          json_builder_begin_array (builder);
          json_builder_begin_object (builder);
          set_string (builder, "reference", ref);
          json_builder_end_object (builder);
          json_builder_end_array (builder);
        }
      set_string (builder, "status", item->target != NULL ? "in-progress" : "scheduled");
      if (item->target != NULL && strcmp (item->target->per, "visit") != 0)
        {
          json_builder_set_member_name (builder, "scheduledTiming");
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "repeat");
          json_builder_begin_object (builder);
          add_period (builder, "boundsPeriod", item->start, item->end);
          json_builder_set_member_name (builder, "frequency");
          json_builder_add_int_value (builder, item->target->times);
          json_builder_set_member_name (builder, "period");
          json_builder_add_int_value (builder, 1);
          set_string (builder, "periodUnit", timing_unit (item->target->per));
          json_builder_end_object (builder);
          json_builder_end_object (builder);
        }
      else
        add_period (builder, "scheduledPeriod", item->start, item->end);
      wz_json_add_text (builder, "description",
                        item->description.en ? &item->description : &item->title, lang);
      json_builder_end_object (builder);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  if (self->has_not_at_target)
    {
      g_autoptr(GString) en = g_string_new ("Until the targets are reached, see the patient ");
      g_autoptr(GString) zh = g_string_new ("未达标时复诊频率：");
      WzText note;

      period_words (&self->not_at_target_every, en, zh);
      g_string_append (en, "; adjust the revisits in this plan.");
      g_string_append (zh, "；请相应调整本计划的复诊。");
      note.en = en->str;
      note.zh = zh->str;
      json_builder_set_member_name (builder, "note");
      json_builder_begin_array (builder);
      json_builder_begin_object (builder);
      wz_json_add_text (builder, "text", &note, lang);
      json_builder_end_object (builder);
      json_builder_end_array (builder);
    }

  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

void
wz_careplan_instance_free (WzCareplanInstance *instance)
{
  if (instance == NULL)
    return;
  g_clear_pointer (&instance->careplan, json_node_unref);
  g_clear_pointer (&instance->tasks, g_ptr_array_unref);
  g_free (instance);
}

static void
free_targets (GPtrArray *items)
{
  for (guint i = 0; i < items->len; i++)
    {
      Item *item = g_ptr_array_index (items, i);

      g_clear_pointer (&item->target, wz_careplan_target_free);
    }
}

/* ---- The doctor's edits ------------------------------------------------------------------- */

static const char *
unit_words (const char *unit)
{
  return g_strcmp0 (unit, "mm[Hg]") == 0 ? "mmHg" : unit != NULL ? unit : "";
}

/* The target's text once the doctor has set its limits. */
static void
doctor_target_text (const WzCareplanTarget *t,
                    WzText                 *out)
{
  const char *unit = unit_words (t->unit);

  wz_text_clear (out);
  if (t->has_low && t->has_high)
    {
      out->en = g_strdup_printf ("Target set by the doctor: %g–%g %s", t->low, t->high, unit);
      out->zh = g_strdup_printf ("医生设定的目标：%g–%g %s", t->low, t->high, unit);
    }
  else if (t->has_high)
    {
      out->en = g_strdup_printf ("Target set by the doctor: below %g %s", t->high, unit);
      out->zh = g_strdup_printf ("医生设定的目标：<%g %s", t->high, unit);
    }
  else if (t->has_low)
    {
      out->en = g_strdup_printf ("Target set by the doctor: at least %g %s", t->low, unit);
      out->zh = g_strdup_printf ("医生设定的目标：≥%g %s", t->low, unit);
    }
}

/* Applies EDIT to T, or says why it does not fit. */
static gboolean
apply_target_edit (WzCareplanTarget           *t,
                   const WzCareplanTargetEdit *edit,
                   GError                    **error)
{
  double low = edit->has_low ? edit->low : t->low;
  double high = edit->has_high ? edit->high : t->high;

  if ((edit->has_low && !t->has_low) || (edit->has_high && !t->has_high))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_UNPROCESSABLE, "The target of “%s” has no %s limit "
                   "to change", t->id, edit->has_low && !t->has_low ? "low" : "high");
      return FALSE;
    }
  if ((edit->has_low && (!isfinite (low) || low < 0 || low > 100000)) ||
      (edit->has_high && (!isfinite (high) || high <= 0 || high > 100000)))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_UNPROCESSABLE, "The target of “%s” must be a "
                   "positive number", t->id);
      return FALSE;
    }
  if (t->has_low && t->has_high && low >= high)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_UNPROCESSABLE, "The target of “%s” would have its "
                   "low limit (%g) at or above its high limit (%g)", t->id, low, high);
      return FALSE;
    }
  if (!edit->has_low && !edit->has_high)
    return TRUE;
  t->low = low;
  t->high = high;
  doctor_target_text (t, &t->target_text);
  return TRUE;
}

gboolean
wz_careplan_item_key_is_valid (const char *key)
{
  gsize n = 0;

  if (key == NULL)
    return FALSE;
  for (const char *p = key; *p; p++, n++)
    if (!(g_ascii_islower (*p) || g_ascii_isdigit (*p) || *p == '-') || n >= 40)
      return FALSE;
  return n > 0;
}

static Item *
find_item (GPtrArray  *items,
           const char *key)
{
  for (guint i = 0; i < items->len; i++)
    {
      Item *item = g_ptr_array_index (items, i);

      if (strcmp (item->key, key) == 0)
        return item;
    }
  return NULL;
}

/* The doctor's edits to the items of the plan (KEPT, of which ITEMS owns the Items and which
 * loses the removed ones). Dates must not be before the plan is made; an item moved or added
 * past the plan's *END takes the end with it. */
static gboolean
apply_edits (const WzCareplanRequest *request,
             GPtrArray               *items,
             GPtrArray               *kept,
             WzDay                   *end,
             GError                 **error)
{
  char day[16];

  for (guint i = 0; i < request->n_target_edits; i++)
    {
      const WzCareplanTargetEdit *edit = &request->target_edits[i];
      gboolean found = FALSE;

      for (guint k = 0; k < kept->len && !found; k++)
        {
          Item *item = g_ptr_array_index (kept, k);

          if (item->target != NULL && g_strcmp0 (item->target->id, edit->measurement) == 0)
            {
              if (!apply_target_edit (item->target, edit, error))
                return FALSE;
              found = TRUE;
            }
        }
      if (!found)
        {
          g_set_error (error, WZ_ERROR, WZ_ERROR_UNPROCESSABLE, "The plan measures no “%s”",
                       edit->measurement ? edit->measurement : "");
          return FALSE;
        }
    }

  for (guint i = 0; i < request->n_item_edits; i++)
    {
      const WzCareplanItemEdit *edit = &request->item_edits[i];
      Item *item = edit->key ? find_item (kept, edit->key) : NULL;

      if (item == NULL)
        {
          g_set_error (error, WZ_ERROR, WZ_ERROR_UNPROCESSABLE, "The plan has no item “%s”",
                       edit->key ? edit->key : "");
          return FALSE;
        }
      if (edit->remove)
        {
          g_ptr_array_remove (kept, item);
          continue;
        }
      if (edit->due == WZ_DAY_NONE)
        continue;
      if (item->target != NULL)
        {
          g_set_error (error, WZ_ERROR, WZ_ERROR_UNPROCESSABLE, "“%s” runs for the whole plan; "
                       "it has no due date to move", edit->key);
          return FALSE;
        }
      if (edit->due < request->created)
        {
          g_set_error (error, WZ_ERROR, WZ_ERROR_UNPROCESSABLE, "“%s” cannot be due on %s, "
                       "before the plan is made", edit->key, wz_day_format_buf (edit->due, day));
          return FALSE;
        }
      item->start = wz_day_add_days (item->start, (gint) edit->due - (gint) item->due);
      item->end = wz_day_add_days (item->end, (gint) edit->due - (gint) item->due);
      item->due = edit->due;
      *end = MAX (*end, item->end);
    }

  for (guint i = 0; i < request->n_added_items; i++)
    {
      const WzCareplanAddedItem *added = &request->added_items[i];
      const char *kind = g_strcmp0 (added->kind, "revisit") == 0 ? "revisit"
                         : g_strcmp0 (added->kind, "adherence-checkin") == 0 ? "adherence-checkin"
                         : g_strcmp0 (added->kind, "education") == 0 ? "education" : NULL;
      g_autofree char *text = added->text ? g_strstrip (g_strdup (added->text)) : NULL;
      gboolean zh = strcmp (wz_lang_normalize (request->lang), "zh") == 0;
      Item *item;

      if (!wz_careplan_item_key_is_valid (added->key) || find_item (items, added->key) != NULL ||
          find_item (kept, added->key) != NULL)
        {
          g_set_error (error, WZ_ERROR, WZ_ERROR_UNPROCESSABLE, "An added item needs a key of "
                       "its own (a-z, 0-9, -), not “%s”", added->key ? added->key : "");
          return FALSE;
        }
      if (kind == NULL)
        {
          g_set_error (error, WZ_ERROR, WZ_ERROR_UNPROCESSABLE, "Added item “%s”: the kind must "
                       "be revisit, adherence-checkin or education", added->key);
          return FALSE;
        }
      if (text == NULL || *text == '\0' || g_utf8_strlen (text, -1) > 1000)
        {
          g_set_error (error, WZ_ERROR, WZ_ERROR_UNPROCESSABLE, "Added item “%s” needs a text "
                       "of 1 to 1,000 characters", added->key);
          return FALSE;
        }
      if (added->due == WZ_DAY_NONE || added->due < request->created)
        {
          g_set_error (error, WZ_ERROR, WZ_ERROR_UNPROCESSABLE, "Added item “%s” needs a due "
                       "date from the day the plan is made", added->key);
          return FALSE;
        }
      item = item_new (items, kind, g_strdup (added->key), added->due, added->due,
                       wz_day_add_days (added->due, ADDED_WINDOW_DAYS));
      if (zh)
        item->title.zh = g_strdup (text);
      else
        item->title.en = g_strdup (text);
      item->for_patient = strcmp (kind, "revisit") != 0;
      g_ptr_array_add (kept, item);
      *end = MAX (*end, item->end);
    }
  return TRUE;
}

WzCareplanInstance *
wz_careplan_template_instantiate (WzCareplanTemplate      *self,
                                  const WzCareplanRequest *request,
                                  GError                 **error)
{
  g_autoptr(WzCareplanInstance) instance = NULL;
  g_autoptr(GPtrArray) items = NULL;
  g_autoptr(GPtrArray) kept = NULL;
  WzDay start, end;

  g_return_val_if_fail (WZ_IS_CAREPLAN_TEMPLATE (self), NULL);

  if (request->patient_ref == NULL || !g_str_has_prefix (request->patient_ref, "Patient/") ||
      request->author_ref == NULL || !g_str_has_prefix (request->author_ref, "Practitioner/"))
    {
      g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INVALID, "A plan needs the Patient it is for "
                           "and the Practitioner who makes it");
      return NULL;
    }
  if (request->identifier == NULL || *request->identifier == '\0' ||
      strlen (request->identifier) > 200)
    {
      g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INVALID, "A plan needs an identifier (a "
                           "urn:uuid made by the client), so that sending it twice makes one plan");
      return NULL;
    }
  if (request->anchor == WZ_DAY_NONE || request->created == WZ_DAY_NONE)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "A plan from “%s” needs its %s date",
                   self->id, self->anchor);
      return NULL;
    }

  start = MAX (request->anchor, request->created);
  if (request->end != WZ_DAY_NONE)
    end = request->end;
  else if (self->has_repeat)
    end = wz_day_add (start, &self->plan_length);
  else
    {
      /* A plan with a fixed list of visits ends with the last one's window. */
      g_autoptr(GPtrArray) revisits = g_ptr_array_new_with_free_func (item_free);

      end = start;
      add_revisits (self, request, G_MAXUINT32, revisits);
      for (guint i = 0; i < revisits->len; i++)
        end = MAX (end, ((Item *) g_ptr_array_index (revisits, i))->end);
    }
  if (end < start)
    {
      g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INVALID, "The plan would end before it starts");
      return NULL;
    }

  items = plan_items (self, request, start, end);
  /* What was due before the plan was made is history, not a task (a plan for a 2-year-old
   * from the child-health template starts with the 30-month check). */
  kept = g_ptr_array_new ();
  for (guint i = 0; i < items->len; i++)
    {
      Item *item = g_ptr_array_index (items, i);

      if (item->end >= request->created)
        g_ptr_array_add (kept, item);
    }
  if (!apply_edits (request, items, kept, &end, error))
    {
      free_targets (items);
      return NULL;
    }
  g_ptr_array_sort (kept, compare_items);

  instance = g_new0 (WzCareplanInstance, 1);
  instance->careplan = build_careplan (self, request, kept, start, end);
  instance->tasks = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  for (guint i = 0; i < kept->len; i++)
    g_ptr_array_add (instance->tasks, item_to_task (g_ptr_array_index (kept, i), request));

  free_targets (items);
  return g_steal_pointer (&instance);
}

void
wz_careplan_instance_set_plan (WzCareplanInstance *instance,
                               const char         *careplan_ref)
{
  for (guint i = 0; i < instance->tasks->len; i++)
    {
      JsonObject *task = json_node_get_object (g_ptr_array_index (instance->tasks, i));
      JsonArray *based_on = json_array_new ();
      JsonObject *reference = json_object_new ();

      json_object_set_string_member (reference, "reference", careplan_ref);
      json_array_add_object_element (based_on, reference);
      json_object_set_array_member (task, "basedOn", based_on);
    }
}

/* ---- Reading targets back and judging values ----------------------------------------------- */

static JsonObject *
array_object (JsonArray *array,
              guint      i)
{
  JsonNode *node = json_array_get_element (array, i);

  return JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static gboolean
read_target_extension (JsonObject       *extension,
                       WzCareplanTarget *t)
{
  JsonArray *parts = wz_json_get_array (extension, "extension");
  g_autoptr(GStrvBuilder) questions = g_strv_builder_new ();
  gboolean any_question = FALSE;

  for (guint i = 0; parts != NULL && i < json_array_get_length (parts); i++)
    {
      JsonObject *part = array_object (parts, i);
      const char *url = wz_json_get_string (part, "url");
      JsonNode *decimal = part ? json_object_get_member (part, "valueDecimal") : NULL;
      JsonNode *integer = part ? json_object_get_member (part, "valueInteger") : NULL;
      JsonNode *boolean = part ? json_object_get_member (part, "valueBoolean") : NULL;
      gboolean yes = boolean != NULL && JSON_NODE_HOLDS_VALUE (boolean) &&
                     json_node_get_value_type (boolean) == G_TYPE_BOOLEAN &&
                     json_node_get_boolean (boolean);
      double number = 0;
      gboolean has_number = wz_json_number (decimal, &number);

      if (url == NULL)
        continue;
      if (strcmp (url, "unit") == 0)
        t->unit = g_strdup (wz_json_get_string (part, "valueCode"));
      else if (strcmp (url, "frequency") == 0)
        t->per = g_strdup (wz_json_get_string (part, "valueString"));
      else if (strcmp (url, "times") == 0 && wz_json_number (integer, &number))
        t->times = number;
      else if (strcmp (url, "low") == 0)
        t->low = number, t->has_low = has_number;
      else if (strcmp (url, "high") == 0)
        t->high = number, t->has_high = has_number;
      else if (strcmp (url, "flagLow") == 0)
        t->flag_low = number, t->has_flag_low = has_number;
      else if (strcmp (url, "flagHigh") == 0)
        t->flag_high = number, t->has_flag_high = has_number;
      else if (strcmp (url, "urgentLow") == 0)
        t->urgent_low = number, t->has_urgent_low = has_number;
      else if (strcmp (url, "urgentHigh") == 0)
        t->urgent_high = number, t->has_urgent_high = has_number;
      else if (strcmp (url, "highInclusive") == 0)
        t->high_inclusive = yes;
      else if (strcmp (url, "flagIfAnyYes") == 0)
        t->flag_if_any_yes = yes;
      else if (strcmp (url, "urgentIfAnyYes") == 0)
        t->urgent_if_any_yes = yes;
      else if (strcmp (url, "question") == 0 && wz_json_get_string (part, "valueCode") != NULL)
        {
          g_strv_builder_add (questions, wz_json_get_string (part, "valueCode"));
          any_question = TRUE;
        }
      else if (strcmp (url, "targetText") == 0)
        wz_json_get_text (part, "valueString", &t->target_text);
      else if (strcmp (url, "urgentMessage") == 0)
        wz_json_get_text (part, "valueString", &t->urgent_message);
      else if (strcmp (url, "flagMessage") == 0)
        wz_json_get_text (part, "valueString", &t->flag_message);
    }
  if (any_question)
    t->questions = g_strv_builder_end (questions);
  return t->unit != NULL;
}

GPtrArray *
wz_careplan_targets_from_json (JsonObject *careplan)
{
  GPtrArray *targets = g_ptr_array_new_with_free_func ((GDestroyNotify) wz_careplan_target_free);
  JsonArray *activities = wz_json_get_array (careplan, "activity");
  gboolean is_task = g_strcmp0 (wz_json_get_string (careplan, "resourceType"), "Task") == 0;
  guint n = is_task ? 1 : activities != NULL ? json_array_get_length (activities) : 0;

  for (guint i = 0; i < n; i++)
    {
      JsonObject *detail = is_task ? careplan
                                   : wz_json_get_object (array_object (activities, i), "detail");
      JsonArray *extensions = wz_json_get_array (detail, "extension");
      JsonObject *code = wz_json_get_object (detail, "code");
      JsonArray *codings = wz_json_get_array (code, "coding");

      for (guint e = 0; extensions != NULL && e < json_array_get_length (extensions); e++)
        {
          JsonObject *extension = array_object (extensions, e);
          g_autoptr(WzCareplanTarget) t = NULL;

          if (g_strcmp0 (wz_json_get_string (extension, "url"), WZ_CAREPLAN_TARGET_EXTENSION) != 0)
            continue;
          t = g_new0 (WzCareplanTarget, 1);
          for (guint c = 0; codings != NULL && c < json_array_get_length (codings); c++)
            {
              JsonObject *coding = array_object (codings, c);
              const char *system = wz_json_get_string (coding, "system");
              const char *value = wz_json_get_string (coding, "code");

              if (g_strcmp0 (system, WZ_FOLLOWUP_MEASUREMENT_SYSTEM) == 0 && t->id == NULL)
                t->id = g_strdup (value);
              else if (g_strcmp0 (system, WZ_FOLLOWUP_LOINC_SYSTEM) == 0 && t->loinc == NULL)
                t->loinc = g_strdup (value);
            }
          if (code != NULL)
            wz_json_get_text (code, "text", &t->name);
          if (t->id != NULL && read_target_extension (extension, t))
            g_ptr_array_add (targets, g_steal_pointer (&t));
        }
    }

  return targets;
}

/* ---- Changing the targets of a stored plan -------------------------------------------------- */

/* Sets MEMBER of OBJECT (and its translation, _MEMBER) to TEXT. */
static void
set_text_member (JsonObject   *object,
                 const char   *member,
                 const WzText *text,
                 const char   *lang)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *underscore = g_strconcat ("_", member, NULL);
  JsonObject *built;

  json_builder_begin_object (builder);
  wz_json_add_text (builder, member, text, lang);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  built = json_node_get_object (root);
  json_object_remove_member (object, member);
  json_object_remove_member (object, underscore);
  if (json_object_has_member (built, member))
    json_object_set_member (object, member, json_object_dup_member (built, member));
  if (json_object_has_member (built, underscore))
    json_object_set_member (object, underscore, json_object_dup_member (built, underscore));
}

/* The target extension of DETAIL (an activity detail or a Task) about a measurement: its index
 * in the extension array and the measurement id, or -1. */
static gint
target_extension_index (JsonObject  *detail,
                        const char **out_id)
{
  JsonArray *extensions = wz_json_get_array (detail, "extension");
  JsonArray *codings = wz_json_get_array (wz_json_get_object (detail, "code"), "coding");

  *out_id = NULL;
  for (guint c = 0; codings != NULL && c < json_array_get_length (codings); c++)
    {
      JsonObject *coding = array_object (codings, c);

      if (g_strcmp0 (wz_json_get_string (coding, "system"), WZ_FOLLOWUP_MEASUREMENT_SYSTEM) == 0)
        *out_id = wz_json_get_string (coding, "code");
    }
  for (guint e = 0; *out_id != NULL && extensions != NULL && e < json_array_get_length (extensions); e++)
    if (g_strcmp0 (wz_json_get_string (array_object (extensions, e), "url"),
                   WZ_CAREPLAN_TARGET_EXTENSION) == 0)
      return e;
  return -1;
}

/* Rewrites the target extension at INDEX of DETAIL with EDIT applied; T gets the new target. */
static gboolean
edit_target_extension (JsonObject                 *detail,
                       guint                       index,
                       const char                 *id,
                       const WzCareplanTargetEdit *edit,
                       const char                 *lang,
                       WzCareplanTarget           *t,
                       GError                    **error)
{
  JsonArray *extensions = wz_json_get_array (detail, "extension");
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  t->id = g_strdup (id);
  if (!read_target_extension (array_object (extensions, index), t) ||
      !apply_target_edit (t, edit, error))
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, WZ_ERROR, WZ_ERROR_UNPROCESSABLE, "The target of “%s” is not one "
                     "this server wrote", id);
      return FALSE;
    }
  json_builder_begin_array (builder);
  add_target_extension_object (builder, t, lang);
  json_builder_end_array (builder);
  root = json_builder_get_root (builder);
  json_array_remove_element (extensions, index);
  /* The extension array keeps its order: the target goes back where it was. */
  {
    g_autoptr(JsonArray) rebuilt = json_array_new ();

    for (guint i = 0; i < json_array_get_length (extensions) + 1; i++)
      {
        if (i == index)
          json_array_add_element (rebuilt, json_array_dup_element (json_node_get_array (root), 0));
        if (i < json_array_get_length (extensions))
          json_array_add_element (rebuilt, json_array_dup_element (extensions, i));
      }
    json_object_set_array_member (detail, "extension", json_array_ref (rebuilt));
  }
  return TRUE;
}

/* The contained Goal about measurement T gets T's limits and text. */
static void
edit_goal (JsonObject             *careplan,
           const WzCareplanTarget *t,
           const char             *lang)
{
  JsonArray *contained = wz_json_get_array (careplan, "contained");
  g_autofree char *id = g_strconcat ("goal-", t->id, NULL);

  for (guint i = 0; contained != NULL && i < json_array_get_length (contained); i++)
    {
      JsonObject *goal = array_object (contained, i);
      JsonObject *description = wz_json_get_object (goal, "description");
      JsonObject *target = array_object (wz_json_get_array (goal, "target"), 0);
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) range = NULL;

      if (g_strcmp0 (wz_json_get_string (goal, "resourceType"), "Goal") != 0 ||
          g_strcmp0 (wz_json_get_string (goal, "id"), id) != 0 || target == NULL)
        continue;
      json_builder_begin_object (builder);
      if (t->has_low)
        add_quantity (builder, "low", t->low, t->unit);
      if (t->has_high)
        add_quantity (builder, "high", t->high, t->unit);
      json_builder_end_object (builder);
      range = json_builder_get_root (builder);
      json_object_set_object_member (target, "detailRange",
                                     json_object_ref (json_node_get_object (range)));
      if (description != NULL)
        set_text_member (description, "text", &t->target_text, lang);
    }
}

/* The "target" input of a measurement Task says the new target. */
static void
edit_target_input (JsonObject             *task,
                   const WzCareplanTarget *t,
                   const char             *lang)
{
  JsonArray *inputs = wz_json_get_array (task, "input");

  for (guint i = 0; inputs != NULL && i < json_array_get_length (inputs); i++)
    {
      JsonObject *input = array_object (inputs, i);
      JsonObject *coding = array_object (wz_json_get_array (wz_json_get_object (input, "type"),
                                                            "coding"), 0);

      if (g_strcmp0 (wz_json_get_string (coding, "code"), "target") == 0)
        set_text_member (input, "valueString", &t->target_text, lang);
    }
}

gboolean
wz_careplan_edit_targets (JsonObject                 *resource,
                          const WzCareplanTargetEdit *edits,
                          guint                       n_edits,
                          const char                 *lang,
                          gboolean                   *out_changed,
                          GError                    **error)
{
  gboolean is_task = g_strcmp0 (wz_json_get_string (resource, "resourceType"), "Task") == 0;
  JsonArray *activities = wz_json_get_array (resource, "activity");
  guint n = is_task ? 1 : activities != NULL ? json_array_get_length (activities) : 0;

  *out_changed = FALSE;
  for (guint e = 0; e < n_edits; e++)
    {
      gboolean found = FALSE;

      for (guint i = 0; i < n; i++)
        {
          JsonObject *detail = is_task ? resource
                                       : wz_json_get_object (array_object (activities, i), "detail");
          g_autoptr(WzCareplanTarget) t = g_new0 (WzCareplanTarget, 1);
          const char *id;
          gint index = target_extension_index (detail, &id);

          if (index < 0 || g_strcmp0 (id, edits[e].measurement) != 0)
            continue;
          if (!edit_target_extension (detail, index, id, &edits[e], lang, t, error))
            return FALSE;
          if (is_task)
            edit_target_input (resource, t, lang);
          else
            edit_goal (resource, t, lang);
          found = TRUE;
          *out_changed = TRUE;
        }
      if (!found && !is_task)
        {
          g_set_error (error, WZ_ERROR, WZ_ERROR_UNPROCESSABLE, "The plan measures no “%s”",
                       edits[e].measurement ? edits[e].measurement : "");
          return FALSE;
        }
    }
  return TRUE;
}

static void
reading_clear (gpointer data)
{
  WzCareplanReading *reading = data;

  g_free (reading->question);
  g_free (reading->unit);
}

/* The target a coded value belongs to: our measurement code first (it tells apart measurements
 * that share a LOINC code), else a LOINC code no other target of the plan uses. */
static const WzCareplanTarget *
target_for_code (GPtrArray  *targets,
                 JsonObject *code,
                 char      **out_question)
{
  JsonArray *codings = wz_json_get_array (code, "coding");
  const WzCareplanTarget *by_loinc = NULL;
  guint n_loinc = 0;

  *out_question = NULL;
  for (guint c = 0; codings != NULL && c < json_array_get_length (codings); c++)
    {
      JsonObject *coding = array_object (codings, c);
      const char *system = wz_json_get_string (coding, "system");
      const char *value = wz_json_get_string (coding, "code");

      if (g_strcmp0 (system, WZ_FOLLOWUP_MEASUREMENT_SYSTEM) == 0 && value != NULL)
        {
          const char *dot = strchr (value, '.');
          g_autofree char *id = dot ? g_strndup (value, dot - value) : g_strdup (value);

          for (guint t = 0; t < targets->len; t++)
            {
              const WzCareplanTarget *target = g_ptr_array_index (targets, t);

              if (strcmp (target->id, id) == 0 &&
                  (dot == NULL || (target->questions != NULL &&
                                   g_strv_contains ((const char * const *) target->questions,
                                                    dot + 1))))
                {
                  *out_question = dot ? g_strdup (dot + 1) : NULL;
                  return target;
                }
            }
        }
    }

  for (guint c = 0; codings != NULL && c < json_array_get_length (codings); c++)
    {
      JsonObject *coding = array_object (codings, c);

      for (guint t = 0; t < targets->len; t++)
        if (wz_careplan_target_matches (g_ptr_array_index (targets, t),
                                        wz_json_get_string (coding, "system"),
                                        wz_json_get_string (coding, "code")))
          {
            if (by_loinc != g_ptr_array_index (targets, t))
              n_loinc++;
            by_loinc = g_ptr_array_index (targets, t);
          }
    }
  return n_loinc == 1 ? by_loinc : NULL;
}

static void
judge_value (GPtrArray  *targets,
             JsonObject *holder,
             GArray     *readings)
{
  JsonObject *quantity = wz_json_get_object (holder, "valueQuantity");
  JsonNode *boolean = json_object_get_member (holder, "valueBoolean");
  g_autofree char *question = NULL;
  const WzCareplanTarget *target = target_for_code (targets, wz_json_get_object (holder, "code"),
                                                    &question);
  WzCareplanReading reading = { target, NULL, };

  if (target == NULL)
    return;

  if (quantity != NULL)
    {
      const char *unit = wz_json_get_string (quantity, "code");

      if (unit == NULL)
        unit = wz_json_get_string (quantity, "unit");
      if (!wz_json_number (json_object_get_member (quantity, "value"), &reading.value) ||
          g_strcmp0 (unit, target->unit) != 0 || question != NULL)
        return;
      reading.unit = g_strdup (unit);
      reading.flag = wz_careplan_target_flag (target, reading.value);
    }
  else if (boolean != NULL && JSON_NODE_HOLDS_VALUE (boolean) &&
           json_node_get_value_type (boolean) == G_TYPE_BOOLEAN && question != NULL)
    {
      reading.is_answer = TRUE;
      reading.answer = json_node_get_boolean (boolean);
      reading.question = g_steal_pointer (&question);
      reading.flag = wz_careplan_target_flag_answer (target, reading.answer);
    }
  else
    return;

  g_array_append_val (readings, reading);
}

GArray *
wz_careplan_evaluate_observation (GPtrArray  *targets,
                                  JsonObject *observation)
{
  GArray *readings = g_array_new (FALSE, TRUE, sizeof (WzCareplanReading));
  JsonArray *components = wz_json_get_array (observation, "component");
  const char *status = wz_json_get_string (observation, "status");

  g_array_set_clear_func (readings, reading_clear);
  if (g_strcmp0 (status, "entered-in-error") == 0 || g_strcmp0 (status, "cancelled") == 0)
    return readings;

  judge_value (targets, observation, readings);
  for (guint i = 0; components != NULL && i < json_array_get_length (components); i++)
    {
      JsonObject *component = array_object (components, i);

      if (component != NULL)
        judge_value (targets, component, readings);
    }
  return readings;
}
