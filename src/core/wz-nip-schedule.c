/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-nip-schedule"

#include "config.h"

#include "wz-nip-schedule.h"
#include "wz-json.h"

#include <string.h>

#include "wz-error.h"

#define MAX_SLOTS 8

typedef struct
{
  guint    from_dose;
  WzPeriod min;
  gboolean has_max;
  WzPeriod max;
} Interval;

typedef struct
{
  guint         number;
  WzNipVaccine *product;
  WzPeriod      age;
  gboolean      has_complete_before;
  WzPeriod      complete_before;
  GArray       *intervals;   /* Interval */
} Dose;

/* Catch-up from 6 years with DT only (series dtp, catch_up.dt_catch_up). */
typedef struct
{
  WzNipVaccine *dt;           /* from the age in Series.limited_until */
  guint     doses_if_any_dt;
  Interval  dose_2;           /* from dose 1 */
  Interval  dose_3;           /* from dose 2 */
  WzPeriod  after_3_dtap_only;
  WzPeriod  after_4_dtap_only;
} DtRules;

typedef struct _Series Series;
struct _Series
{
  char         *id;
  WzText        name;
  GPtrArray    *products;     /* WzNipVaccine, borrowed */
  GPtrArray    *doses;        /* Dose */
  char         *alternative_id;
  Series       *alternative;

  /* Machine-readable catch-up rules (catch_up in the file). */
  gboolean      has_max_age;
  WzPeriod      max_age;                 /* exclusive */
  gboolean      has_tuberculin_from;
  WzPeriod      tuberculin_from;
  gboolean      counts_any_product;      /* any product of the series fills the next dose */
  WzNipVaccine *first_product_if_none;
  WzNipVaccine *limited_product;         /* not given from limited_until (MPSV-A) */
  WzPeriod      limited_until;
  gboolean      has_dt_rules;
  DtRules       dt_rules;
  WzNipVaccine *complete_with;           /* alternative product that may finish the series */
  guint         complete_with_after;
  WzPeriod      complete_with_min;
};

struct _WzNipSchedule
{
  GObject     parent_instance;

  WzText      title;
  char       *default_zone;
  WzPeriod    overdue_policy;
  WzPeriod    catch_up_max_age;
  WzPeriod    live_spacing;
  GPtrArray  *vaccines;    /* WzNipVaccine */
  GHashTable *by_code;     /* id and abbreviation → WzNipVaccine */
  GPtrArray  *series;      /* Series */
  GPtrArray  *questions;   /* WzNipQuestion */
};

G_DEFINE_FINAL_TYPE (WzNipSchedule, wz_nip_schedule, G_TYPE_OBJECT)

/* ---- Loading ------------------------------------------------------------------------------ */

static void
contraindication_free (gpointer data)
{
  WzNipContraindication *contra = data;

  g_free (contra->id);
  wz_text_clear (&contra->text);
  g_strfreev (contra->questions);
  g_free (contra);
}

static void
reaction_check_free (gpointer data)
{
  WzNipReactionCheck *check = data;

  wz_text_clear (&check->check);
  wz_text_clear (&check->seek_care_if);
  g_free (check);
}

static void
vaccine_free (gpointer data)
{
  WzNipVaccine *vaccine = data;

  g_free (vaccine->id);
  g_free (vaccine->abbr);
  wz_text_clear (&vaccine->name);
  g_clear_pointer (&vaccine->contraindications, g_ptr_array_unref);
  g_clear_pointer (&vaccine->reaction_checks, g_ptr_array_unref);
  g_free (vaccine);
}

static void
dose_free (gpointer data)
{
  Dose *dose = data;

  g_clear_pointer (&dose->intervals, g_array_unref);
  g_free (dose);
}

static void
series_free (gpointer data)
{
  Series *series = data;

  g_free (series->id);
  wz_text_clear (&series->name);
  g_clear_pointer (&series->products, g_ptr_array_unref);
  g_clear_pointer (&series->doses, g_ptr_array_unref);
  g_free (series->alternative_id);
  g_free (series);
}

static void
question_free (gpointer data)
{
  WzNipQuestion *question = data;

  g_free (question->id);
  wz_text_clear (&question->text);
  g_free (question->sex);
  g_free (question);
}

static void
wz_nip_schedule_finalize (GObject *object)
{
  WzNipSchedule *self = WZ_NIP_SCHEDULE (object);

  wz_text_clear (&self->title);
  g_free (self->default_zone);
  g_clear_pointer (&self->by_code, g_hash_table_unref);
  g_clear_pointer (&self->series, g_ptr_array_unref);
  g_clear_pointer (&self->vaccines, g_ptr_array_unref);
  g_clear_pointer (&self->questions, g_ptr_array_unref);

  G_OBJECT_CLASS (wz_nip_schedule_parent_class)->finalize (object);
}

static void
wz_nip_schedule_class_init (WzNipScheduleClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = wz_nip_schedule_finalize;
}

static void
wz_nip_schedule_init (WzNipSchedule *self)
{
  self->vaccines = g_ptr_array_new_with_free_func (vaccine_free);
  self->series = g_ptr_array_new_with_free_func (series_free);
  self->questions = g_ptr_array_new_with_free_func (question_free);
  self->by_code = g_hash_table_new (g_str_hash, g_str_equal);
}

/* The code must compute what the file's worked examples say, or the file and the code disagree
 * on the calendar rule and nothing computed from it can be trusted. */
static gboolean
load_date_rules (JsonObject  *rules,
                 GError     **error)
{
  JsonObject *arithmetic;
  const char *missing_day, *month_addition;
  JsonArray *examples;

  if ((arithmetic = wz_json_req_object (rules, "date_arithmetic", "rules", error)) == NULL ||
      (month_addition = wz_json_req_string (arithmetic, "month_addition",
                                            "rules.date_arithmetic", error)) == NULL ||
      (missing_day = wz_json_req_string (arithmetic, "missing_day", "rules.date_arithmetic",
                                         error)) == NULL ||
      (examples = wz_json_req_array (arithmetic, "examples", "rules.date_arithmetic",
                                     error)) == NULL)
    return FALSE;

  if (strcmp (month_addition, "calendar") != 0 ||
      strcmp (missing_day, "roll_forward_to_first_of_next_month") != 0)
    return wz_error_set_invalid (error, "rules.date_arithmetic: month_addition “%s” with missing_day “%s” is "
                    "not the rule this version computes (calendar, "
                    "roll_forward_to_first_of_next_month)", month_addition, missing_day);

  for (guint i = 0; i < json_array_get_length (examples); i++)
    {
      g_autofree char *where = g_strdup_printf ("rules.date_arithmetic.examples[%u]", i);
      JsonNode *node = json_array_get_element (examples, i);
      JsonObject *example;
      const char *birth_text, *result_text;
      WzPeriod add;
      WzDay birth, expected, computed;
      char buf[16];

      if (!JSON_NODE_HOLDS_OBJECT (node))
        return wz_error_set_invalid (error, "%s is not an object", where);
      example = json_node_get_object (node);
      if ((birth_text = wz_json_req_string (example, "birth_date", where, error)) == NULL ||
          (result_text = wz_json_req_string (example, "result", where, error)) == NULL ||
          !wz_json_req_period (example, "add", where, FALSE, &add, error))
        return FALSE;
      if (!wz_day_parse (birth_text, &birth) || !wz_day_parse (result_text, &expected))
        return wz_error_set_invalid (error, "%s: dates must be YYYY-MM-DD", where);
      computed = wz_day_add (birth, &add);
      if (computed != expected)
        return wz_error_set_invalid (error, "%s: %s plus the offset gives %s here, but the file says %s",
                        where, birth_text, wz_day_format_buf (computed, buf), result_text);
    }

  return TRUE;
}

static gboolean
load_rules (WzNipSchedule  *self,
            JsonObject     *root,
            GError        **error)
{
  JsonObject *rules, *policy, *catch_up, *spacing;
  JsonArray *live;
  const char *zone;
  g_autoptr(GTimeZone) tz = NULL;

  if ((rules = wz_json_req_object (root, "rules", "(root)", error)) == NULL ||
      !load_date_rules (rules, error) ||
      (zone = wz_json_req_string (rules, "timezone_default", "rules", error)) == NULL ||
      (policy = wz_json_req_object (rules, "overdue_policy", "rules", error)) == NULL ||
      !wz_json_req_period (policy, "overdue_after_due_if_no_deadline", "rules.overdue_policy",
                           FALSE, &self->overdue_policy, error) ||
      (catch_up = wz_json_req_object (rules, "catch_up_general", "rules", error)) == NULL ||
      !wz_json_req_period (catch_up, "max_age_exclusive", "rules.catch_up_general", FALSE,
                           &self->catch_up_max_age, error) ||
      (spacing = wz_json_req_object (rules, "simultaneous_and_spacing", "rules", error)) == NULL ||
      !wz_json_req_period (spacing, "injectable_live_min_interval_if_not_same_day",
                           "rules.simultaneous_and_spacing", FALSE, &self->live_spacing, error) ||
      (live = wz_json_req_array (spacing, "injectable_live_vaccines",
                                 "rules.simultaneous_and_spacing", error)) == NULL)
    return FALSE;

  if ((tz = wz_followup_time_zone (zone)) == NULL)
    return wz_error_set_invalid (error, "rules.timezone_default “%s” is not a time zone this system knows", zone);
  self->default_zone = g_strdup (zone);

  for (guint i = 0; i < json_array_get_length (live); i++)
    {
      const char *id = json_array_get_string_element (live, i);
      WzNipVaccine *vaccine = id ? g_hash_table_lookup (self->by_code, id) : NULL;

      if (vaccine == NULL)
        return wz_error_set_invalid (error, "rules.simultaneous_and_spacing.injectable_live_vaccines[%u] is "
                        "not a vaccine id of vaccines[]", i);
      if (!vaccine->live)
        return wz_error_set_invalid (error, "rules.simultaneous_and_spacing.injectable_live_vaccines[%u] "
                        "“%s” is not marked live in vaccines[]", i, id);
      vaccine->injectable_live = TRUE;
    }

  return TRUE;
}

static gboolean
load_questions (WzNipSchedule  *self,
                JsonObject     *root,
                GError        **error)
{
  JsonArray *questions = wz_json_req_array (root, "screening_questions", "(root)", error);

  if (questions == NULL)
    return FALSE;

  for (guint i = 0; i < json_array_get_length (questions); i++)
    {
      g_autofree char *where = g_strdup_printf ("screening_questions[%u]", i);
      JsonNode *node = json_array_get_element (questions, i);
      WzNipQuestion *question;
      JsonObject *object, *applies;
      const char *id, *sex = NULL;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        return wz_error_set_invalid (error, "%s is not an object", where);
      object = json_node_get_object (node);
      if ((id = wz_json_req_string (object, "id", where, error)) == NULL)
        return FALSE;
      if (wz_nip_schedule_get_question (self, id) != NULL)
        return wz_error_set_invalid (error, "%s: id “%s” is used twice", where, id);

      question = g_new0 (WzNipQuestion, 1);
      question->id = g_strdup (id);
      g_ptr_array_add (self->questions, question);
      if (!wz_json_req_text (object, "text", where, &question->text, error))
        return FALSE;

      if (!json_object_has_member (object, "applies_to"))
        continue;
      {
        g_autofree char *inner = g_strconcat (where, ".applies_to", NULL);

        if ((applies = wz_json_req_object (object, "applies_to", where, error)) == NULL ||
            !wz_json_opt_string (applies, "sex", inner, &sex, error))
          return FALSE;
        if (sex != NULL && strcmp (sex, "female") != 0 && strcmp (sex, "male") != 0)
          return wz_error_set_invalid (error, "%s.sex is “%s”; expected female or male", inner, sex);
        question->sex = g_strdup (sex);
        if ((question->has_min_age = json_object_has_member (applies, "min_age")) &&
            !wz_json_req_period (applies, "min_age", inner, FALSE, &question->min_age, error))
          return FALSE;
        if ((question->has_max_age = json_object_has_member (applies, "max_age")) &&
            !wz_json_req_period (applies, "max_age", inner, FALSE, &question->max_age, error))
          return FALSE;
      }
    }

  return TRUE;
}

static gboolean
load_vaccine (WzNipSchedule  *self,
              JsonObject     *object,
              const char     *where,
              GError        **error)
{
  WzNipVaccine *vaccine = g_new0 (WzNipVaccine, 1);
  JsonArray *contras, *checks;
  const char *id, *abbr;
  gboolean live = FALSE;

  vaccine->contraindications = g_ptr_array_new_with_free_func (contraindication_free);
  vaccine->reaction_checks = g_ptr_array_new_with_free_func (reaction_check_free);
  g_ptr_array_add (self->vaccines, vaccine);

  if ((id = wz_json_req_string (object, "id", where, error)) == NULL ||
      (abbr = wz_json_req_string (object, "abbr", where, error)) == NULL ||
      !wz_json_req_text (object, "name", where, &vaccine->name, error))
    return FALSE;
  if (!json_object_has_member (object, "live"))
    return wz_error_set_invalid (error, "%s.live is missing; expected true or false", where);
  if (!wz_json_opt_boolean (object, "live", where, &live, error))
    return FALSE;
  if (g_hash_table_contains (self->by_code, id) || g_hash_table_contains (self->by_code, abbr))
    return wz_error_set_invalid (error, "%s: id or abbreviation “%s” is used twice", where, id);

  vaccine->id = g_strdup (id);
  vaccine->abbr = g_strdup (abbr);
  vaccine->live = live;
  g_hash_table_insert (self->by_code, vaccine->id, vaccine);
  g_hash_table_insert (self->by_code, vaccine->abbr, vaccine);

  if ((contras = wz_json_req_array (object, "contraindications", where, error)) == NULL ||
      (checks = wz_json_req_array (object, "adverse_event_followup", where, error)) == NULL)
    return FALSE;

  for (guint i = 0; i < json_array_get_length (contras); i++)
    {
      g_autofree char *inner = g_strdup_printf ("%s.contraindications[%u]", where, i);
      JsonNode *node = json_array_get_element (contras, i);
      WzNipContraindication *contra;
      JsonObject *contra_object;
      JsonArray *questions;
      const char *contra_id, *kind;
      g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

      if (!JSON_NODE_HOLDS_OBJECT (node))
        return wz_error_set_invalid (error, "%s is not an object", inner);
      contra_object = json_node_get_object (node);
      contra = g_new0 (WzNipContraindication, 1);
      g_ptr_array_add (vaccine->contraindications, contra);
      if ((contra_id = wz_json_req_string (contra_object, "id", inner, error)) == NULL ||
          (kind = wz_json_req_string (contra_object, "kind", inner, error)) == NULL ||
          !wz_json_req_text (contra_object, "text", inner, &contra->text, error) ||
          (questions = wz_json_req_array (contra_object, "screening_questions", inner,
                                          error)) == NULL)
        return FALSE;
      contra->id = g_strdup (contra_id);
      if (strcmp (kind, "contraindication") == 0)
        contra->kind = WZ_NIP_CONTRAINDICATION;
      else if (strcmp (kind, "precaution") == 0)
        contra->kind = WZ_NIP_PRECAUTION;
      else if (strcmp (kind, "defer") == 0)
        contra->kind = WZ_NIP_DEFER;
      else
        return wz_error_set_invalid (error, "%s.kind is “%s”; expected contraindication, precaution or defer",
                        inner, kind);
      if (json_array_get_length (questions) == 0)
        return wz_error_set_invalid (error, "%s.screening_questions is empty: nothing would ever flag it",
                        inner);
      for (guint q = 0; q < json_array_get_length (questions); q++)
        {
          const char *question = json_array_get_string_element (questions, q);

          if (question == NULL || wz_nip_schedule_get_question (self, question) == NULL)
            return wz_error_set_invalid (error, "%s.screening_questions[%u] is not an id of "
                            "screening_questions[]", inner, q);
          g_strv_builder_add (builder, question);
        }
      contra->questions = g_strv_builder_end (builder);
    }

  for (guint i = 0; i < json_array_get_length (checks); i++)
    {
      g_autofree char *inner = g_strdup_printf ("%s.adverse_event_followup[%u]", where, i);
      JsonNode *node = json_array_get_element (checks, i);
      WzNipReactionCheck *check;
      JsonObject *check_object;
      gint day, from, to;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        return wz_error_set_invalid (error, "%s is not an object", inner);
      check_object = json_node_get_object (node);
      check = g_new0 (WzNipReactionCheck, 1);
      g_ptr_array_add (vaccine->reaction_checks, check);
      if (!wz_json_req_int (check_object, "day", inner, 0, 365, &day, error) ||
          !wz_json_req_day_pair (check_object, "window_days", inner, &from, &to, error) ||
          !wz_json_req_text (check_object, "check", inner, &check->check, error) ||
          !wz_json_req_text (check_object, "seek_care_if", inner, &check->seek_care_if, error))
        return FALSE;
      if (from > day || day > to)
        return wz_error_set_invalid (error, "%s: day %d is outside its window [%d, %d]", inner, day, from, to);
      check->day = day;
      check->window_from = from;
      check->window_to = to;
    }

  return TRUE;
}

static gboolean
load_interval (JsonObject  *object,
               const char  *where,
               guint        dose_number,
               Interval    *out,
               GError     **error)
{
  gint from;

  if (!wz_json_req_int (object, "from_dose", where, 1, MAX_SLOTS, &from, error) ||
      !wz_json_req_period (object, "min", where, FALSE, &out->min, error))
    return FALSE;
  if ((guint) from >= dose_number)
    return wz_error_set_invalid (error, "%s.from_dose %d is not an earlier dose", where, from);
  out->from_dose = from;
  out->has_max = json_object_has_member (object, "max");
  if (out->has_max && !wz_json_req_period (object, "max", where, FALSE, &out->max, error))
    return FALSE;
  return TRUE;
}

static WzNipVaccine *
product_of_series (WzNipSchedule  *self,
                   Series         *series,
                   const char     *id,
                   const char     *where,
                   GError        **error)
{
  WzNipVaccine *vaccine = id ? g_hash_table_lookup (self->by_code, id) : NULL;

  if (vaccine == NULL)
    {
      wz_error_set_invalid (error, "%s “%s” is not a vaccine id of vaccines[]", where, id ? id : "");
      return NULL;
    }
  if (series != NULL && !g_ptr_array_find (series->products, vaccine, NULL))
    {
      wz_error_set_invalid (error, "%s “%s” is not one of the series' products", where, id);
      return NULL;
    }
  return vaccine;
}

static gboolean
load_dt_interval (JsonObject  *dt,
                  const char  *member,
                  const char  *where,
                  guint        from_dose,
                  Interval    *out,
                  GError     **error)
{
  g_autofree char *inner = g_strconcat (where, ".", member, NULL);
  JsonObject *object = wz_json_req_object (dt, member, where, error);

  if (object == NULL ||
      !wz_json_req_period (object, "min", inner, FALSE, &out->min, error) ||
      !wz_json_req_period (object, "max", inner, FALSE, &out->max, error))
    return FALSE;
  out->from_dose = from_dose;
  out->has_max = TRUE;
  return TRUE;
}

static gboolean
load_dt_rules (WzNipSchedule  *self,
               Series         *series,
               JsonObject     *catch_up,
               const char     *member,
               const char     *where,
               GError        **error)
{
  DtRules *rules = &series->dt_rules;
  JsonObject *dt;
  gint doses;

  if ((dt = wz_json_req_object (catch_up, member, where, error)) == NULL ||
      !wz_json_req_int (dt, "doses_if_any_dt", where, 1, MAX_SLOTS, &doses, error) ||
      !load_dt_interval (dt, "interval_dose_2", where, 1, &rules->dose_2, error) ||
      !load_dt_interval (dt, "interval_dose_3", where, 2, &rules->dose_3, error) ||
      !wz_json_req_period (dt, "after_3_dtap_only", where, FALSE, &rules->after_3_dtap_only,
                           error) ||
      !wz_json_req_period (dt, "after_4_dtap_only", where, FALSE, &rules->after_4_dtap_only,
                           error) ||
      (rules->dt = product_of_series (self, series, "DT", where, error)) == NULL)
    return FALSE;

  rules->doses_if_any_dt = doses;
  series->has_dt_rules = TRUE;
  return TRUE;
}

/* Every key of catch_up must be one this code acts on (or words for people): a new rule the code
 * does not know must stop the load, not be silently ignored. */
static gboolean
load_catch_up (WzNipSchedule  *self,
               Series         *series,
               JsonObject     *catch_up,
               const char     *where,
               GError        **error)
{
  JsonObjectIter iter;
  const char *name;
  JsonNode *node;
  gint n_under_4 = -1, n_from_4 = -1;

  if (!json_object_has_member (catch_up, "text"))
    return wz_error_set_invalid (error, "%s.text is missing; every catch-up rule is written out for people", where);

  json_object_iter_init (&iter, catch_up);
  while (json_object_iter_next (&iter, &name, &node))
    {
      g_autofree char *inner = g_strconcat (where, ".", name, NULL);

      if (strcmp (name, "text") == 0)
        {
          WzText text = { NULL, NULL };
          gboolean ok = wz_json_req_text (catch_up, "text", where, &text, error);

          wz_text_clear (&text);
          if (!ok)
            return FALSE;
        }
      else if (strcmp (name, "verify") == 0 || strcmp (name, "order") == 0)
        continue;
      else if (strcmp (name, "max_age_exclusive") == 0)
        {
          series->has_max_age = TRUE;
          if (!wz_json_period_from_node (node, inner, FALSE, &series->max_age, error))
            return FALSE;
        }
      else if (strcmp (name, "tuberculin_test_required_from") == 0)
        {
          series->has_tuberculin_from = TRUE;
          if (!wz_json_period_from_node (node, inner, FALSE, &series->tuberculin_from, error))
            return FALSE;
        }
      else if (strcmp (name, "no_test_needed_before") == 0)
        {
          WzPeriod before;

          if (!wz_json_period_from_node (node, inner, FALSE, &before, error))
            return FALSE;
          if (!json_object_has_member (catch_up, "tuberculin_test_required_from"))
            return wz_error_set_invalid (error, "%s needs tuberculin_test_required_from beside it", inner);
        }
      else if (strcmp (name, "counts_any_product") == 0)
        {
          if (!wz_json_opt_boolean (catch_up, name, where, &series->counts_any_product, error))
            return FALSE;
        }
      else if (strcmp (name, "doses_required_under_4_years") == 0 ||
               strcmp (name, "doses_required_from_4_years") == 0)
        {
          gint value;

          if (!wz_json_req_int (catch_up, name, where, 1, MAX_SLOTS, &value, error))
            return FALSE;
          if (name[15] == 'u')
            n_under_4 = value;
          else
            n_from_4 = value;
        }
      else if (strcmp (name, "first_dose_product_if_none") == 0)
        {
          if ((series->first_product_if_none =
               product_of_series (self, series, json_node_get_string (node), inner, error)) == NULL)
            return FALSE;
        }
      else if (strcmp (name, "dtap_until_exclusive") == 0 ||
               strcmp (name, "mpsv_a_until_exclusive") == 0)
        {
          const char *product = name[0] == 'd' ? "DTaP" : "MPSV-A";
          WzPeriod until;

          if (!wz_json_period_from_node (node, inner, FALSE, &until, error) ||
              (series->limited_product = product_of_series (self, series, product, inner,
                                                            error)) == NULL)
            return FALSE;
          series->limited_until = until;
        }
      else if (strcmp (name, "dt_catch_up") == 0)
        {
          if (!load_dt_rules (self, series, catch_up, name, inner, error))
            return FALSE;
        }
      else if (strcmp (name, "complete_with_alternative") == 0)
        {
          JsonObject *with;
          gint after;

          if ((with = wz_json_req_object (catch_up, name, where, error)) == NULL ||
              !wz_json_req_int (with, "after_dose", inner, 1, MAX_SLOTS, &after, error) ||
              !wz_json_req_period (with, "min_interval", inner, FALSE, &series->complete_with_min,
                                   error) ||
              (series->complete_with = product_of_series (self, NULL,
                                                          json_object_get_string_member_with_default (with, "product", NULL),
                                                          inner, error)) == NULL)
            return FALSE;
          series->complete_with_after = after;
        }
      else
        return wz_error_set_invalid (error, "%s is not a catch-up rule this version understands; add the rule "
                        "to the code before using it in the file", inner);
    }

  if ((n_under_4 >= 0) != (n_from_4 >= 0))
    return wz_error_set_invalid (error, "%s: doses_required_under_4_years and doses_required_from_4_years go "
                    "together", where);
  if (n_from_4 >= 0)
    {
      /* The schedule's own ages must say the same as the counts, or the doses due would
       * contradict the rule written out for people. */
      WzPeriod four = { 4, WZ_PERIOD_YEAR };
      WzDay birth = wz_day_from_ymd (2001, 1, 1), at_four = wz_day_add (birth, &four);
      gint under = 0;

      for (guint i = 0; i < series->doses->len; i++)
        {
          Dose *dose = g_ptr_array_index (series->doses, i);

          if (wz_day_add (birth, &dose->age) < at_four)
            under++;
        }
      if ((gint) series->doses->len != n_from_4 || under != n_under_4)
        return wz_error_set_invalid (error, "%s: the dose list gives %d doses before 4 years and %u in all, "
                        "but the rule says %d and %d", where, under, series->doses->len,
                        n_under_4, n_from_4);
    }

  return TRUE;
}

static gboolean
load_series (WzNipSchedule  *self,
             JsonObject     *object,
             const char     *where,
             GError        **error)
{
  Series *series = g_new0 (Series, 1);
  JsonArray *products, *doses;
  JsonObject *catch_up;
  const char *id, *alternative = NULL;

  series->products = g_ptr_array_new ();
  series->doses = g_ptr_array_new_with_free_func (dose_free);
  g_ptr_array_add (self->series, series);

  if ((id = wz_json_req_string (object, "id", where, error)) == NULL ||
      !wz_json_req_text (object, "name", where, &series->name, error) ||
      (products = wz_json_req_array (object, "products", where, error)) == NULL ||
      (doses = wz_json_req_array (object, "doses", where, error)) == NULL ||
      (catch_up = wz_json_req_object (object, "catch_up", where, error)) == NULL ||
      !wz_json_opt_string (object, "alternative_to", where, &alternative, error))
    return FALSE;
  series->id = g_strdup (id);
  series->alternative_id = g_strdup (alternative);

  for (guint i = 0; i < json_array_get_length (products); i++)
    {
      g_autofree char *inner = g_strdup_printf ("%s.products[%u]", where, i);
      WzNipVaccine *vaccine = product_of_series (self, NULL,
                                                 json_array_get_string_element (products, i),
                                                 inner, error);

      if (vaccine == NULL)
        return FALSE;
      g_ptr_array_add (series->products, vaccine);
    }

  if (json_array_get_length (doses) == 0 || json_array_get_length (doses) > MAX_SLOTS)
    return wz_error_set_invalid (error, "%s.doses must list 1 to %d doses", where, MAX_SLOTS);

  for (guint i = 0; i < json_array_get_length (doses); i++)
    {
      g_autofree char *inner = g_strdup_printf ("%s.doses[%u]", where, i);
      JsonNode *node = json_array_get_element (doses, i);
      JsonObject *dose_object;
      JsonArray *intervals;
      Dose *dose;
      gint number;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        return wz_error_set_invalid (error, "%s is not an object", inner);
      dose_object = json_node_get_object (node);
      dose = g_new0 (Dose, 1);
      dose->intervals = g_array_new (FALSE, TRUE, sizeof (Interval));
      g_ptr_array_add (series->doses, dose);

      if (!wz_json_req_int (dose_object, "dose", inner, 1, MAX_SLOTS, &number, error) ||
          !wz_json_req_period (dose_object, "recommended_age", inner, FALSE, &dose->age, error) ||
          (intervals = wz_json_req_array (dose_object, "min_intervals", inner, error)) == NULL)
        return FALSE;
      if ((guint) number != i + 1)
        return wz_error_set_invalid (error, "%s.dose is %d; doses must be numbered 1, 2, 3… in order", inner,
                        number);
      dose->number = number;
      {
        g_autofree char *product_where = g_strconcat (inner, ".product", NULL);

        if ((dose->product = product_of_series (self, series,
                                                json_object_get_string_member_with_default (dose_object, "product", NULL),
                                                product_where, error)) == NULL)
          return FALSE;
      }
      dose->has_complete_before = json_object_has_member (dose_object, "complete_before");
      if (dose->has_complete_before &&
          !wz_json_req_period (dose_object, "complete_before", inner, FALSE,
                               &dose->complete_before, error))
        return FALSE;

      for (guint k = 0; k < json_array_get_length (intervals); k++)
        {
          g_autofree char *interval_where = g_strdup_printf ("%s.min_intervals[%u]", inner, k);
          JsonNode *interval_node = json_array_get_element (intervals, k);
          Interval interval = { 0, };

          if (!JSON_NODE_HOLDS_OBJECT (interval_node))
            return wz_error_set_invalid (error, "%s is not an object", interval_where);
          if (!load_interval (json_node_get_object (interval_node), interval_where, number,
                              &interval, error))
            return FALSE;
          g_array_append_val (dose->intervals, interval);
        }
    }

  {
    g_autofree char *inner = g_strconcat (where, ".catch_up", NULL);

    if (!load_catch_up (self, series, catch_up, inner, error))
      return FALSE;
  }
  if (series->has_dt_rules && series->limited_product == NULL)
    return wz_error_set_invalid (error, "%s.catch_up.dt_catch_up needs dtap_until_exclusive beside it", where);

  return TRUE;
}

static Series *
find_series (WzNipSchedule *self,
             const char    *id)
{
  for (guint i = 0; i < self->series->len; i++)
    {
      Series *series = g_ptr_array_index (self->series, i);

      if (strcmp (series->id, id) == 0)
        return series;
    }
  return NULL;
}

WzNipSchedule *
wz_nip_schedule_new_from_data (const char  *data,
                               gssize       length,
                               GError     **error)
{
  g_autoptr(WzNipSchedule) self = g_object_new (WZ_TYPE_NIP_SCHEDULE, NULL);
  g_autoptr(JsonNode) root_node = NULL;
  JsonObject *root, *meta;
  JsonArray *vaccines, *series;

  g_return_val_if_fail (data != NULL, NULL);

  if ((root_node = wz_json_load_format_1 (data, length, &meta, error)) == NULL ||
      !wz_json_req_text (meta, "title", "_meta", &self->title, error))
    goto fail;
  root = json_node_get_object (root_node);

  if (!load_questions (self, root, error) ||
      (vaccines = wz_json_req_array (root, "vaccines", "(root)", error)) == NULL)
    goto fail;
  for (guint i = 0; i < json_array_get_length (vaccines); i++)
    {
      g_autofree char *where = g_strdup_printf ("vaccines[%u]", i);
      JsonNode *node = json_array_get_element (vaccines, i);

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          wz_error_set_invalid (error, "%s is not an object", where);
          goto fail;
        }
      if (!load_vaccine (self, json_node_get_object (node), where, error))
        goto fail;
    }

  if (!load_rules (self, root, error) ||
      (series = wz_json_req_array (root, "series", "(root)", error)) == NULL)
    goto fail;
  for (guint i = 0; i < json_array_get_length (series); i++)
    {
      g_autofree char *where = g_strdup_printf ("series[%u]", i);
      JsonNode *node = json_array_get_element (series, i);

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          wz_error_set_invalid (error, "%s is not an object", where);
          goto fail;
        }
      if (!load_series (self, json_node_get_object (node), where, error))
        goto fail;
    }

  for (guint i = 0; i < self->series->len; i++)
    {
      Series *s = g_ptr_array_index (self->series, i);

      for (guint j = 0; j < i; j++)
        if (strcmp (s->id, ((Series *) g_ptr_array_index (self->series, j))->id) == 0)
          {
            wz_error_set_invalid (error, "series[%u]: id “%s” is used twice", i, s->id);
            goto fail;
          }
      if (s->alternative_id == NULL)
        continue;
      s->alternative = find_series (self, s->alternative_id);
      if (s->alternative == NULL || s->alternative == s ||
          g_strcmp0 (s->alternative->alternative_id, s->id) != 0)
        {
          wz_error_set_invalid (error, "series[%u].alternative_to “%s” must name a series that names this "
                   "one back", i, s->alternative_id);
          goto fail;
        }
      if (s->complete_with != NULL &&
          !g_ptr_array_find (s->alternative->products, s->complete_with, NULL))
        {
          wz_error_set_invalid (error, "series[%u].catch_up.complete_with_alternative.product is not a "
                   "product of the alternative series", i);
          goto fail;
        }
    }

  return g_steal_pointer (&self);

fail:
  g_prefix_error (error, "nip-schedule.json: ");
  return NULL;
}

WzNipSchedule *
wz_nip_schedule_new_from_file (const char  *path,
                               GError     **error)
{
  g_autofree char *contents = NULL;
  gsize length;

  if (!g_file_get_contents (path, &contents, &length, error))
    return NULL;
  return wz_nip_schedule_new_from_data (contents, length, error);
}

const char *
wz_nip_schedule_get_default_time_zone (WzNipSchedule *self)
{
  g_return_val_if_fail (WZ_IS_NIP_SCHEDULE (self), NULL);
  return self->default_zone;
}

const WzText *
wz_nip_schedule_get_title (WzNipSchedule *self)
{
  g_return_val_if_fail (WZ_IS_NIP_SCHEDULE (self), NULL);
  return &self->title;
}

const WzNipVaccine *
wz_nip_schedule_get_vaccine (WzNipSchedule *self,
                             const char    *id)
{
  g_return_val_if_fail (WZ_IS_NIP_SCHEDULE (self), NULL);
  return id ? g_hash_table_lookup (self->by_code, id) : NULL;
}

GPtrArray *
wz_nip_schedule_get_vaccines (WzNipSchedule *self)
{
  g_return_val_if_fail (WZ_IS_NIP_SCHEDULE (self), NULL);
  return self->vaccines;
}

GPtrArray *
wz_nip_schedule_get_questions (WzNipSchedule *self)
{
  g_return_val_if_fail (WZ_IS_NIP_SCHEDULE (self), NULL);
  return self->questions;
}

const WzNipQuestion *
wz_nip_schedule_get_question (WzNipSchedule *self,
                              const char    *id)
{
  g_return_val_if_fail (WZ_IS_NIP_SCHEDULE (self), NULL);

  for (guint i = 0; i < self->questions->len; i++)
    {
      WzNipQuestion *question = g_ptr_array_index (self->questions, i);

      if (g_strcmp0 (question->id, id) == 0)
        return question;
    }
  return NULL;
}

/* ---- Computing the schedule --------------------------------------------------------------- */

typedef struct
{
  WzDay               date;
  const WzNipVaccine *product;
  gboolean            skipped;   /* not recommended, nothing given */
} Slot;

typedef struct
{
  Series   *series;
  Slot      slots[MAX_SLOTS];
  guint     n;              /* doses decided: given, projected or skipped */
  guint     count;          /* given or projected */
  gboolean  has_dt;
  gboolean  dt_mode;        /* dtp from the DT-only age */
  gboolean  complete;       /* finished early (complete_with_alternative) */
  gboolean  replaced_any;   /* a dose was skipped because another product replaces it */
} State;

typedef struct
{
  const Dose         *routine;        /* NULL for DT-only catch-up doses */
  const WzNipVaccine *product;
  WzDay               earliest;
  WzDay               age_date;       /* minimum age reached */
  WzDay               interval_date;  /* the binding minimum interval met */
  guint               interval_from;
  WzPeriod            interval_min;
  WzDay               spacing_date;   /* 28 days after another injectable live vaccine */
  const WzNipDose    *spacing_dose;
  WzDay               max_date;       /* last day of a maximum interval */
  WzDay               deadline;       /* complete_before */
  WzDay               latest;         /* last eligible day */
  gboolean            not_recommended;
  guint               reasons;
} Req;

typedef struct
{
  WzNipSchedule   *self;
  WzDay            birth;
  WzDay            today;
  const WzNipDose *history;
  guint            n_history;
  GArray          *entries;   /* WzNipForecastDose of the series being computed */
  GArray          *pending;   /* Pending: invalid doses waiting for their entry */
} Ctx;

typedef struct
{
  guint      dose;
  WzNipDose  record;
  char      *why_en;
  char      *why_zh;
} Pending;

static WzDay
add (WzDay           day,
     const WzPeriod *period)
{
  return wz_day_add (day, period);
}

/* The day of the last dose given (or projected) before dose FROM_DOSE's place, skipping doses
 * that were not recommended, so "12 months after the last MPSV-A" holds when dose 2 was skipped. */
static WzDay
dose_date (const State *st,
           guint        from_dose)
{
  for (gint i = (gint) MIN (from_dose, st->n) - 1; i >= 0; i--)
    if (!st->slots[i].skipped)
      return st->slots[i].date;
  return WZ_DAY_NONE;
}

static WzDay
last_dose_date (const State *st)
{
  return dose_date (st, st->n);
}

static void
apply_interval (Req            *req,
                WzDay           reference,
                guint           from_dose,
                const WzPeriod *min,
                const WzPeriod *max)
{
  WzDay day;

  if (reference == WZ_DAY_NONE)
    return;

  day = add (reference, min);
  if (day > req->interval_date)
    {
      req->interval_date = day;
      req->interval_from = from_dose;
      req->interval_min = *min;
    }
  if (max != NULL)
    {
      WzDay last = add (reference, max);

      if (req->max_date == WZ_DAY_NONE || last < req->max_date)
        req->max_date = last;
    }
}

static gboolean
given_product (const State        *st,
               const WzNipVaccine *product)
{
  for (guint i = 0; i < st->n; i++)
    if (!st->slots[i].skipped && st->slots[i].product == product)
      return TRUE;
  return FALSE;
}

/* What the next dose of the series needs if given on WHEN (a recorded date, or the day it is
 * projected for). FALSE when the series needs no more doses. */
static gboolean
next_req (Ctx   *ctx,
          State *st,
          WzDay  when,
          Req   *req)
{
  WzNipSchedule *self = ctx->self;
  Series *series = st->series;
  WzDay routine_deadline = WZ_DAY_NONE;

  memset (req, 0, sizeof *req);
  if (st->complete || st->n >= MAX_SLOTS)
    return FALSE;

  if (series->has_dt_rules && !st->dt_mode && when >= add (ctx->birth, &series->limited_until))
    st->dt_mode = TRUE;

  if (st->dt_mode)
    {
      /* From 6 years DT only (catch_up.text (1)–(4) of the dtp series). */
      const DtRules *rules = &series->dt_rules;
      guint count = st->count;
      WzDay last = last_dose_date (st);

      if ((count >= rules->doses_if_any_dt && st->has_dt) || count >= series->doses->len)
        return FALSE;

      req->product = rules->dt;
      req->age_date = add (ctx->birth, &series->limited_until);
      if (count < rules->doses_if_any_dt)
        {
          if (count == 1)
            apply_interval (req, last, count, &rules->dose_2.min, &rules->dose_2.max);
          else if (count == 2)
            apply_interval (req, last, count, &rules->dose_3.min, &rules->dose_3.max);
          req->reasons |= WZ_NIP_REASON_CATCH_UP;
        }
      else if (count == 3)
        {
          apply_interval (req, last, count, &rules->after_3_dtap_only, NULL);
          req->reasons |= WZ_NIP_REASON_CATCH_UP;
        }
      else
        {
          /* Four DTaP and no DT: the routine booster. */
          req->routine = g_ptr_array_index (series->doses, count);
          apply_interval (req, last, count, &rules->after_4_dtap_only, NULL);
          if (req->routine->has_complete_before)
            req->deadline = add (ctx->birth, &req->routine->complete_before);
          routine_deadline = req->deadline != WZ_DAY_NONE
                             ? req->deadline
                             : add (add (ctx->birth, &req->routine->age), &self->overdue_policy);
        }
    }
  else
    {
      const Dose *dose;

      if (st->n >= series->doses->len)
        return FALSE;

      dose = g_ptr_array_index (series->doses, st->n);
      req->routine = dose;
      req->product = st->count == 0 && series->first_product_if_none != NULL
                     ? series->first_product_if_none : dose->product;
      req->age_date = add (ctx->birth, &dose->age);

      /* A child past the age of the replaced product starts the replacing one at that age
       * (MPSV-AC from 24 months; catch_up.text of men, marked verify in the file). */
      if (st->replaced_any && series->limited_product != NULL &&
          dose->product != series->limited_product && !given_product (st, dose->product))
        req->age_date = MIN (req->age_date, add (ctx->birth, &series->limited_until));

      for (guint i = 0; i < dose->intervals->len; i++)
        {
          const Interval *interval = &g_array_index (dose->intervals, Interval, i);

          apply_interval (req, dose_date (st, interval->from_dose), interval->from_dose,
                          &interval->min, interval->has_max ? &interval->max : NULL);
        }

      if (dose->has_complete_before)
        req->deadline = add (ctx->birth, &dose->complete_before);
      routine_deadline = req->deadline != WZ_DAY_NONE
                         ? req->deadline
                         : add (req->age_date, &self->overdue_policy);
    }

  req->earliest = MAX (req->age_date, req->interval_date);

  if (req->product->injectable_live)
    for (guint i = 0; i < ctx->n_history; i++)
      {
        const WzNipDose *other = &ctx->history[i];
        const WzNipVaccine *vaccine = g_hash_table_lookup (self->by_code, other->vaccine);
        WzDay free_from;

        if (vaccine == NULL || !vaccine->injectable_live || other->date >= when)
          continue;
        /* Every injectable live dose before this one starts a 28-day wait, kept even when WHEN
         * is past it so that the earliest day does not depend on the day asked about. */
        free_from = add (other->date, &self->live_spacing);
        if (free_from > req->spacing_date)
          {
            req->spacing_date = free_from;
            req->spacing_dose = other;
          }
      }
  if (req->spacing_date > req->earliest)
    {
      req->earliest = req->spacing_date;
      req->reasons |= WZ_NIP_REASON_LIVE_SPACING;
    }

  req->latest = wz_day_add_days (add (ctx->birth, &self->catch_up_max_age), -1);
  if (series->has_max_age)
    req->latest = MIN (req->latest, wz_day_add_days (add (ctx->birth, &series->max_age), -1));
  if (!series->has_dt_rules && series->limited_product != NULL &&
      req->product == series->limited_product)
    {
      WzDay last = wz_day_add_days (add (ctx->birth, &series->limited_until), -1);

      req->latest = MIN (req->latest, last);
      if (when > last)
        {
          req->not_recommended = TRUE;
          req->reasons |= WZ_NIP_REASON_REPLACED;
        }
    }
  if (when > req->latest && !(req->reasons & WZ_NIP_REASON_REPLACED))
    {
      req->not_recommended = TRUE;
      req->reasons |= WZ_NIP_REASON_WINDOW_CLOSED;
    }

  if (series->has_tuberculin_from && when >= add (ctx->birth, &series->tuberculin_from))
    req->reasons |= WZ_NIP_REASON_TUBERCULIN_TEST;
  if (routine_deadline != WZ_DAY_NONE && when >= routine_deadline)
    req->reasons |= WZ_NIP_REASON_CATCH_UP;

  return TRUE;
}

static void
period_text (const WzPeriod *period,
             GString        *en,
             GString        *zh)
{
  static const char *en_units[] = { "day", "week", "month", "year" };
  static const char *zh_units[] = { "天", "周", "个月", "年" };

  g_string_append_printf (en, "%d %s%s", period->value, en_units[period->unit],
                          period->value == 1 ? "" : "s");
  g_string_append_printf (zh, "%d%s", period->value, zh_units[period->unit]);
}

static void
add_pending (Ctx             *ctx,
             const State     *st,
             const WzNipDose *record,
             const Req       *req,
             gboolean         wrong_product)
{
  g_autoptr(GString) en = g_string_new (NULL);
  g_autoptr(GString) zh = g_string_new (NULL);
  char date[16], other[16];
  Pending pending = { st->n + 1, *record, NULL, NULL };
  const WzNipVaccine *given = g_hash_table_lookup (ctx->self->by_code, record->vaccine);

  wz_day_format_buf (record->date, date);
  g_string_append_printf (en, "%s given on %s ", given ? given->abbr : record->vaccine, date);
  g_string_append_printf (zh, "%s于%s接种，", given ? given->abbr : record->vaccine, date);

  if (wrong_product)
    {
      g_string_append_printf (en, "when dose %u needs %s; not counted", st->n + 1, req->product->abbr);
      g_string_append_printf (zh, "而第%u剂应为%s，不计入", st->n + 1, req->product->abbr);
    }
  else if (record->date < req->age_date)
    {
      g_string_append (en, "is before the minimum age for this dose (");
      g_string_append (zh, "早于该剂次最小接种年龄（");
      g_string_append_printf (en, "reached on %s); not counted", wz_day_format_buf (req->age_date, other));
      g_string_append_printf (zh, "%s满足），不计入", wz_day_format_buf (req->age_date, other));
    }
  else if (record->date < req->interval_date)
    {
      g_string_append_printf (en, "is less than ");
      g_string_append_printf (zh, "距第%u剂不足", req->interval_from);
      period_text (&req->interval_min, en, zh);
      g_string_append_printf (en, " after dose %u; not counted", req->interval_from);
      g_string_append (zh, "，不计入");
    }
  else
    {
      const WzNipDose *live = req->spacing_dose;

      g_string_append_printf (en, "is within 28 days of %s on %s (injectable live vaccines must "
                              "be given the same day or 28 days apart); not counted",
                              live ? live->vaccine : "another live vaccine",
                              live ? wz_day_format_buf (live->date, other) : "");
      g_string_append_printf (zh, "与%s日接种的%s间隔不足28天（注射类减毒活疫苗须同日接种或间隔≥28天），不计入",
                              live ? wz_day_format_buf (live->date, other) : "",
                              live ? live->vaccine : "其他减毒活疫苗");
    }

  pending.why_en = g_string_free (g_steal_pointer (&en), FALSE);
  pending.why_zh = g_string_free (g_steal_pointer (&zh), FALSE);
  g_array_append_val (ctx->pending, pending);
}

static void
forecast_dose_clear (gpointer data)
{
  WzNipForecastDose *dose = data;

  g_clear_pointer (&dose->invalid, g_array_unref);
  g_clear_pointer (&dose->invalid_why, g_ptr_array_unref);
  g_clear_pointer (&dose->invalid_why_zh, g_ptr_array_unref);
}

static void
emit (Ctx                *ctx,
      const State        *st,
      const Req          *req,
      WzNipStatus         status,
      const WzNipVaccine *product,
      WzDay               given,
      const char         *immunization)
{
  WzNipForecastDose dose = { 0, };
  WzDay base;

  dose.series = st->series->id;
  dose.series_name = &st->series->name;
  dose.dose = st->n + 1;
  dose.product = product;
  dose.status = status;
  dose.earliest = req->earliest;
  dose.due = req->earliest;
  dose.latest = req->latest;
  dose.given = given;
  dose.immunization = immunization;
  dose.reasons = req->reasons;

  /* Overdue from complete_before, or the day after a maximum interval, else the product's
   * overdue policy after the due date; never before the due date (a late starter's dose is
   * overdue as soon as it is due). */
  base = req->deadline;
  if (req->max_date != WZ_DAY_NONE)
    {
      WzDay after_max = wz_day_add_days (req->max_date, 1);

      base = base != WZ_DAY_NONE ? MIN (base, after_max) : after_max;
    }
  if (base == WZ_DAY_NONE)
    base = add (dose.due, &ctx->self->overdue_policy);
  dose.overdue = MAX (base, dose.due);

  for (guint i = 0; i < ctx->pending->len; i++)
    {
      Pending *pending = &g_array_index (ctx->pending, Pending, i);

      if (pending->dose != dose.dose || pending->why_en == NULL)
        continue;
      if (dose.invalid == NULL)
        {
          dose.invalid = g_array_new (FALSE, FALSE, sizeof (WzNipDose));
          dose.invalid_why = g_ptr_array_new_with_free_func (g_free);
          dose.invalid_why_zh = g_ptr_array_new_with_free_func (g_free);
        }
      g_array_append_val (dose.invalid, pending->record);
      g_ptr_array_add (dose.invalid_why, g_steal_pointer (&pending->why_en));
      g_ptr_array_add (dose.invalid_why_zh, g_steal_pointer (&pending->why_zh));
      dose.reasons |= WZ_NIP_REASON_INVALID_DOSE;
    }

  g_array_append_val (ctx->entries, dose);
}

static void
fill (State              *st,
      WzDay               date,
      const WzNipVaccine *product)
{
  st->slots[st->n].date = date;
  st->slots[st->n].product = product;
  st->slots[st->n].skipped = FALSE;
  st->n++;
  st->count++;
  if (st->series->has_dt_rules && product == st->series->dt_rules.dt)
    st->has_dt = TRUE;
}

static void
skip (State *st)
{
  st->slots[st->n].skipped = TRUE;
  st->slots[st->n].date = WZ_DAY_NONE;
  st->n++;
  st->replaced_any = TRUE;
}

static gboolean
series_has_product (const Series       *series,
                    const WzNipVaccine *vaccine)
{
  return g_ptr_array_find (series->products, (gpointer) vaccine, NULL);
}

static void
take_history (Ctx          *ctx,
              State        *st,
              GArray       *indexes,
              GArray       *extra)
{
  Series *series = st->series;

  for (guint k = 0; k < indexes->len; k++)
    {
      const WzNipDose *record = &ctx->history[g_array_index (indexes, guint, k)];
      const WzNipVaccine *vaccine = g_hash_table_lookup (ctx->self->by_code, record->vaccine);
      Req req;

      if (series->complete_with == vaccine && !series_has_product (series, vaccine))
        {
          /* One HepA-I then HepA-L at least 6 months later completes the series. */
          if (st->n == series->complete_with_after && st->count == st->n)
            {
              memset (&req, 0, sizeof req);
              req.product = vaccine;
              req.age_date = ctx->birth;
              apply_interval (&req, last_dose_date (st), st->n, &series->complete_with_min, NULL);
              req.earliest = MAX (req.age_date, req.interval_date);
              req.latest = wz_day_add_days (add (ctx->birth, &ctx->self->catch_up_max_age), -1);
              if (record->date >= req.earliest || record->counted)
                {
                  if (record->date < req.earliest)
                    req.reasons |= WZ_NIP_REASON_COUNTED;
                  emit (ctx, st, &req, WZ_NIP_COMPLETED, vaccine, record->date,
                        record->immunization);
                  fill (st, record->date, vaccine);
                  st->complete = TRUE;
                }
              else
                add_pending (ctx, st, record, &req, FALSE);
            }
          else
            g_array_append_val (extra, *record);
          continue;
        }

      for (;;)
        {
          gboolean valid;

          if (!next_req (ctx, st, record->date, &req))
            {
              g_array_append_val (extra, *record);
              break;
            }
          if (req.not_recommended && (req.reasons & WZ_NIP_REASON_REPLACED) &&
              vaccine != req.product)
            {
              emit (ctx, st, &req, WZ_NIP_NOT_RECOMMENDED, req.product, WZ_DAY_NONE, NULL);
              skip (st);
              continue;
            }
          if (!series->counts_any_product && vaccine != req.product)
            {
              add_pending (ctx, st, record, &req, TRUE);
              break;
            }

          valid = record->date >= req.earliest;
          if (!valid && !record->counted)
            {
              add_pending (ctx, st, record, &req, FALSE);
              break;
            }
          if (!valid)
            req.reasons |= WZ_NIP_REASON_COUNTED;
          /* A recorded dose is history, not a recommendation: no catch-up window applies. */
          req.reasons &= ~(WZ_NIP_REASON_WINDOW_CLOSED | WZ_NIP_REASON_REPLACED |
                           WZ_NIP_REASON_TUBERCULIN_TEST | WZ_NIP_REASON_LIVE_SPACING);
          emit (ctx, st, &req, WZ_NIP_COMPLETED, vaccine, record->date, record->immunization);
          fill (st, record->date, vaccine);
          break;
        }
    }
}

static void
project (Ctx   *ctx,
         State *st)
{
  for (;;)
    {
      WzDay when = ctx->today;
      gboolean have = FALSE;
      WzNipStatus status;
      Req req;

      /* The dose's rules can depend on the day it will be given (DT only from 6 years, MPSV-A
       * only under 24 months), and that day on the rules: settle it. */
      for (guint round = 0; round < 4; round++)
        {
          WzDay projected;

          if (!(have = next_req (ctx, st, when, &req)) || req.not_recommended)
            break;
          projected = MAX (req.earliest, ctx->today);
          if (projected == when)
            break;
          when = projected;
        }
      if (!have)
        break;

      if (req.not_recommended)
        {
          emit (ctx, st, &req, WZ_NIP_NOT_RECOMMENDED, req.product, WZ_DAY_NONE, NULL);
          skip (st);
          continue;
        }

      emit (ctx, st, &req, WZ_NIP_NOT_YET_DUE, req.product, WZ_DAY_NONE, NULL);
      {
        WzNipForecastDose *dose = &g_array_index (ctx->entries, WzNipForecastDose,
                                                  ctx->entries->len - 1);

        if (ctx->today < dose->due)
          status = WZ_NIP_NOT_YET_DUE;
        else if (ctx->today >= dose->overdue)
          status = WZ_NIP_OVERDUE;
        else
          status = WZ_NIP_DUE;
        dose->status = status;
      }
      fill (st, MAX (req.earliest, ctx->today), req.product);
    }
}

static guint
count_history (Ctx          *ctx,
               const Series *series)
{
  guint n = 0, own = 0;

  for (guint i = 0; i < ctx->n_history; i++)
    {
      const WzNipVaccine *vaccine = g_hash_table_lookup (ctx->self->by_code,
                                                         ctx->history[i].vaccine);

      if (vaccine == NULL)
        continue;
      if (series_has_product (series, vaccine))
        own++;
      else if (vaccine == series->complete_with)
        n++;
    }
  return own > 0 ? own + n : 0;
}

static gboolean
in_list (const char *const *list,
         const char        *id)
{
  return list != NULL && g_strv_contains (list, id);
}

/* Where two series are alternatives, the history decides, then the caller's preference, then
 * the order of the file. */
static gboolean
series_chosen (Ctx               *ctx,
               const Series      *series,
               const char *const *prefer)
{
  const Series *other = series->alternative;
  guint mine, theirs;

  if (other == NULL)
    return TRUE;
  mine = count_history (ctx, series);
  theirs = count_history (ctx, other);
  if (mine != theirs)
    return mine > theirs;
  if (in_list (prefer, series->id) != in_list (prefer, other->id))
    return in_list (prefer, series->id);

  for (guint i = 0; i < ctx->self->series->len; i++)
    {
      Series *s = g_ptr_array_index (ctx->self->series, i);

      if (s == series)
        return TRUE;
      if (s == other)
        return FALSE;
    }
  return TRUE;
}

static gint
compare_history (gconstpointer a,
                 gconstpointer b,
                 gpointer      user_data)
{
  const WzNipDose *history = user_data;
  guint ia = *(const guint *) a, ib = *(const guint *) b;

  if (history[ia].date != history[ib].date)
    return history[ia].date < history[ib].date ? -1 : 1;
  return ia < ib ? -1 : ia > ib;
}

void
wz_nip_forecast_free (WzNipForecast *forecast)
{
  if (forecast == NULL)
    return;
  g_clear_pointer (&forecast->doses, g_array_unref);
  g_clear_pointer (&forecast->extra, g_array_unref);
  g_free (forecast);
}

static void
pending_clear (gpointer data)
{
  Pending *pending = data;

  g_free (pending->why_en);
  g_free (pending->why_zh);
}

WzNipForecast *
wz_nip_schedule_compute (WzNipSchedule      *self,
                         WzDay               birth,
                         WzDay               today,
                         const WzNipDose    *history,
                         guint               n_history,
                         const char *const  *prefer,
                         GError            **error)
{
  g_autoptr(WzNipForecast) forecast = g_new0 (WzNipForecast, 1);
  g_autoptr(GArray) pending = g_array_new (FALSE, FALSE, sizeof (Pending));
  g_autoptr(GArray) indexes = g_array_new (FALSE, FALSE, sizeof (guint));
  Ctx ctx;

  g_return_val_if_fail (WZ_IS_NIP_SCHEDULE (self), NULL);

  if (birth == WZ_DAY_NONE || today == WZ_DAY_NONE)
    {
      g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INVALID, "A birth date and today's date are "
                           "needed to compute the schedule");
      return NULL;
    }
  if (today < birth)
    {
      g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INVALID, "The birth date is after today");
      return NULL;
    }

  forecast->birth = birth;
  forecast->today = today;
  forecast->doses = g_array_new (FALSE, TRUE, sizeof (WzNipForecastDose));
  g_array_set_clear_func (forecast->doses, forecast_dose_clear);
  forecast->extra = g_array_new (FALSE, FALSE, sizeof (WzNipDose));
  g_array_set_clear_func (pending, pending_clear);

  ctx.self = self;
  ctx.birth = birth;
  ctx.today = today;
  ctx.history = history;
  ctx.n_history = n_history;
  ctx.entries = forecast->doses;
  ctx.pending = pending;

  for (guint i = 0; i < self->series->len; i++)
    {
      Series *series = g_ptr_array_index (self->series, i);
      gboolean chosen = series_chosen (&ctx, series, prefer);
      gboolean has_first = FALSE;
      guint first_entry = forecast->doses->len;
      State st = { series, };

      g_array_set_size (indexes, 0);
      g_array_set_size (pending, 0);
      for (guint k = 0; k < n_history; k++)
        {
          const WzNipVaccine *vaccine = g_hash_table_lookup (self->by_code, history[k].vaccine);

          if (vaccine == NULL)
            continue;
          if (series_has_product (series, vaccine))
            {
              if (!chosen && (series->alternative == NULL ||
                              series->alternative->complete_with != vaccine))
                g_array_append_val (forecast->extra, history[k]);
              else if (!chosen)
                continue;
              else
                g_array_append_val (indexes, k);
              if (vaccine == series->first_product_if_none)
                has_first = TRUE;
            }
          else if (chosen && vaccine == series->complete_with)
            g_array_append_val (indexes, k);
        }
      if (!chosen)
        continue;

      g_array_sort_with_data (indexes, compare_history, (gpointer) history);
      take_history (&ctx, &st, indexes, forecast->extra);
      project (&ctx, &st);

      /* Recorded doses that never found their place (too early for the last dose) stay with
       * the series' last dose, so the doctor still sees them. */
      for (guint k = 0; k < pending->len; k++)
        {
          Pending *p = &g_array_index (pending, Pending, k);

          if (p->why_en != NULL && forecast->doses->len > first_entry)
            {
              WzNipForecastDose *last = &g_array_index (forecast->doses, WzNipForecastDose,
                                                        forecast->doses->len - 1);

              if (last->invalid == NULL)
                {
                  last->invalid = g_array_new (FALSE, FALSE, sizeof (WzNipDose));
                  last->invalid_why = g_ptr_array_new_with_free_func (g_free);
                  last->invalid_why_zh = g_ptr_array_new_with_free_func (g_free);
                }
              g_array_append_val (last->invalid, p->record);
              g_ptr_array_add (last->invalid_why, g_steal_pointer (&p->why_en));
              g_ptr_array_add (last->invalid_why_zh, g_steal_pointer (&p->why_zh));
              last->reasons |= WZ_NIP_REASON_INVALID_DOSE;
            }
        }

      for (guint k = first_entry; k < forecast->doses->len; k++)
        {
          WzNipForecastDose *dose = &g_array_index (forecast->doses, WzNipForecastDose, k);

          dose->series_doses = forecast->doses->len - first_entry;
          if (series->first_product_if_none != NULL && indexes->len > 0 && !has_first)
            dose->reasons |= WZ_NIP_REASON_ONLY_BOPV;
        }
    }

  return g_steal_pointer (&forecast);
}

const char *
wz_nip_status_to_string (WzNipStatus status)
{
  switch (status)
    {
    case WZ_NIP_NOT_YET_DUE:
      return "not_yet_due";
    case WZ_NIP_DUE:
      return "due";
    case WZ_NIP_OVERDUE:
      return "overdue";
    case WZ_NIP_COMPLETED:
      return "completed";
    case WZ_NIP_NOT_RECOMMENDED:
    default:
      return "not_recommended";
    }
}

/* ---- Immunization history --------------------------------------------------------------- */

static const WzNipVaccine *
programme_vaccine (WzNipSchedule *self,
                   JsonObject    *immunization)
{
  JsonArray *codings = wz_json_get_array (wz_json_get_object (immunization, "vaccineCode"), "coding");
  const WzNipVaccine *loose = NULL;

  for (guint i = 0; codings != NULL && i < json_array_get_length (codings); i++)
    {
      JsonNode *node = json_array_get_element (codings, i);
      JsonObject *coding = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      const char *code = wz_json_get_string (coding, "code");
      const WzNipVaccine *vaccine = code ? g_hash_table_lookup (self->by_code, code) : NULL;

      if (vaccine == NULL)
        continue;
      if (g_strcmp0 (wz_json_get_string (coding, "system"), WZ_NIP_VACCINE_SYSTEM) == 0)
        return vaccine;
      if (loose == NULL)
        loose = vaccine;
    }
  return loose;
}

static gboolean
counted_by_doctor (JsonObject *immunization)
{
  JsonArray *extensions = wz_json_get_array (immunization, "extension");

  for (guint i = 0; extensions != NULL && i < json_array_get_length (extensions); i++)
    {
      JsonNode *node = json_array_get_element (extensions, i);
      JsonObject *extension = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      JsonNode *value = extension ? json_object_get_member (extension, "valueBoolean") : NULL;

      if (g_strcmp0 (wz_json_get_string (extension, "url"), WZ_NIP_COUNTED_EXTENSION) == 0 &&
          value != NULL && JSON_NODE_HOLDS_VALUE (value) &&
          json_node_get_value_type (value) == G_TYPE_BOOLEAN && json_node_get_boolean (value))
        return TRUE;
    }
  return FALSE;
}

static void
take_immunization (WzNipSchedule *self,
                   WzNipHistory  *history,
                   JsonObject    *resource,
                   GTimeZone     *tz)
{
  const WzNipVaccine *vaccine;
  const char *id, *occurrence;
  WzNipDose dose = { 0, };

  if (g_strcmp0 (wz_json_get_string (resource, "resourceType"), "Immunization") != 0 ||
      g_strcmp0 (wz_json_get_string (resource, "status"), "completed") != 0 ||
      (vaccine = programme_vaccine (self, resource)) == NULL)
    return;

  id = wz_json_get_string (resource, "id");
  occurrence = wz_json_get_string (resource, "occurrenceDateTime");
  if (!wz_day_parse_in_zone (occurrence, tz, &dose.date))
    {
      g_ptr_array_add (history->skipped,
                       g_strdup_printf ("Immunization/%s (%s): occurrenceDateTime “%s” is not a "
                                        "full date or a dateTime with a time zone",
                                        id ? id : "?", vaccine->abbr,
                                        occurrence ? occurrence : "(missing)"));
      return;
    }

  dose.vaccine = vaccine->id;
  if (id != NULL)
    {
      g_autofree char *reference = g_strconcat ("Immunization/", id, NULL);

      dose.immunization = g_string_chunk_insert (history->strings, reference);
    }
  dose.counted = counted_by_doctor (resource);
  g_array_append_val (history->doses, dose);
}

WzNipHistory *
wz_nip_history_from_json (WzNipSchedule *self,
                          JsonNode      *root,
                          GTimeZone     *tz)
{
  WzNipHistory *history = g_new0 (WzNipHistory, 1);
  JsonArray *items = NULL;

  g_return_val_if_fail (WZ_IS_NIP_SCHEDULE (self), NULL);

  history->doses = g_array_new (FALSE, TRUE, sizeof (WzNipDose));
  history->skipped = g_ptr_array_new_with_free_func (g_free);
  history->strings = g_string_chunk_new (256);

  if (root == NULL)
    return history;

  if (JSON_NODE_HOLDS_ARRAY (root))
    items = json_node_get_array (root);
  else if (JSON_NODE_HOLDS_OBJECT (root))
    {
      JsonObject *object = json_node_get_object (root);

      if (g_strcmp0 (wz_json_get_string (object, "resourceType"), "Bundle") == 0)
        {
          JsonArray *entries = wz_json_get_array (object, "entry");

          for (guint i = 0; entries != NULL && i < json_array_get_length (entries); i++)
            {
              JsonNode *entry = json_array_get_element (entries, i);
              JsonObject *resource = JSON_NODE_HOLDS_OBJECT (entry)
                                     ? wz_json_get_object (json_node_get_object (entry), "resource")
                                     : NULL;

              if (resource != NULL)
                take_immunization (self, history, resource, tz);
            }
          return history;
        }
      take_immunization (self, history, object, tz);
      return history;
    }

  for (guint i = 0; items != NULL && i < json_array_get_length (items); i++)
    {
      JsonNode *node = json_array_get_element (items, i);

      if (JSON_NODE_HOLDS_OBJECT (node))
        take_immunization (self, history, json_node_get_object (node), tz);
    }
  return history;
}

void
wz_nip_history_free (WzNipHistory *history)
{
  if (history == NULL)
    return;
  g_clear_pointer (&history->doses, g_array_unref);
  g_clear_pointer (&history->skipped, g_ptr_array_unref);
  g_clear_pointer (&history->strings, g_string_chunk_free);
  g_free (history);
}

/* ---- FHIR output ------------------------------------------------------------------------- */

#define HL7_STATUS_SYSTEM "http://terminology.hl7.org/CodeSystem/immunization-recommendation-status"

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
writer_coding (WzJsonWriter *w,
               const char   *system,
               const char   *code,
               const char   *display)
{
  wz_json_writer_begin_object (w);
  wz_json_writer_set_string (w, "system", system);
  wz_json_writer_set_string (w, "code", code);
  if (display != NULL)
    wz_json_writer_set_string (w, "display", display);
  wz_json_writer_end_object (w);
}

static void
add_date_criterion (WzJsonWriter *w,
                    const char   *loinc,
                    const char   *display,
                    WzDay         day)
{
  char buf[16];

  if (day == WZ_DAY_NONE)
    return;
  wz_json_writer_begin_object (w);
  wz_json_writer_member (w, "code");
  wz_json_writer_begin_object (w);
  wz_json_writer_member (w, "coding");
  wz_json_writer_begin_array (w);
  writer_coding (w, "http://loinc.org", loinc, display);
  wz_json_writer_end_array (w);
  wz_json_writer_end_object (w);
  wz_json_writer_set_string (w, "value", wz_day_format_buf (day, buf));
  wz_json_writer_end_object (w);
}

typedef struct
{
  WzNipStatus  status;
  const char  *hl7;
  const char  *en;
  const char  *zh;
} StatusText;

static const StatusText status_texts[] = {
  { WZ_NIP_NOT_YET_DUE, NULL, "Not yet due", "未到应种时间" },
  { WZ_NIP_DUE, "due", "Due", "应种" },
  { WZ_NIP_OVERDUE, "overdue", "Overdue: give as catch-up", "逾期，应尽早补种" },
  { WZ_NIP_COMPLETED, "complete", "Completed", "已完成" },
  { WZ_NIP_NOT_RECOMMENDED, NULL, "Not recommended", "不再推荐" },
};

typedef struct
{
  WzNipReason  reason;
  const char  *code;
  const char  *en;
  const char  *zh;
} ReasonText;

static const ReasonText reason_texts[] = {
  { WZ_NIP_REASON_CATCH_UP, "catch-up", "Catch-up: later than the routine age",
    "补种：已晚于常规接种年龄" },
  { WZ_NIP_REASON_INVALID_DOSE, "invalid-dose",
    "A recorded dose was given too early and is not counted; repeat it unless the doctor decides "
    "to count it",
    "已记录的剂次接种过早，不计入有效剂次；除非医生判断计入，否则需重新接种" },
  { WZ_NIP_REASON_WINDOW_CLOSED, "window-closed", "Past the age limit for this dose",
    "已超过该剂次的接种年龄上限" },
  { WZ_NIP_REASON_REPLACED, "replaced", "Replaced by another vaccine under the series rules",
    "按系列规则改用其他疫苗" },
  { WZ_NIP_REASON_TUBERCULIN_TEST, "tuberculin-test",
    "From 3 months: give only after a negative tuberculin (TB-PPD or BCG-PPD) skin test",
    "3月龄起：结核菌素（TB-PPD或BCG-PPD）试验阴性后方可补种" },
  { WZ_NIP_REASON_LIVE_SPACING, "live-spacing",
    "Injectable live vaccines are given the same day or at least 28 days apart",
    "注射类减毒活疫苗须同日接种或间隔≥28天" },
  { WZ_NIP_REASON_COUNTED, "counted-by-doctor", "Given early; counted by the doctor's decision",
    "接种偏早，经医生判断计入" },
  { WZ_NIP_REASON_ONLY_BOPV, "ipv-catch-up-check",
    "Polio history without IPV: check the IPV catch-up for the child's birth cohort in the "
    "official text",
    "脊灰接种史中无IPV：按官方说明中出生队列规定核对IPV补种" },
};

static void
add_reasons (WzJsonWriter            *w,
             const WzNipForecastDose *dose,
             const char              *lang)
{
  gboolean any = FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (reason_texts); i++)
    {
      WzText text = { (char *) reason_texts[i].en, (char *) reason_texts[i].zh };

      if (!(dose->reasons & reason_texts[i].reason))
        continue;
      if (!any)
        {
          wz_json_writer_member (w, "forecastReason");
          wz_json_writer_begin_array (w);
          any = TRUE;
        }
      wz_json_writer_begin_object (w);
      wz_json_writer_member (w, "coding");
      wz_json_writer_begin_array (w);
      writer_coding (w, WZ_NIP_REASON_SYSTEM, reason_texts[i].code, NULL);
      wz_json_writer_end_array (w);
      wz_json_writer_text (w, "text", &text, lang);
      wz_json_writer_end_object (w);
    }
  if (any)
    wz_json_writer_end_array (w);
}

static void
add_recommendation (WzJsonWriter            *w,
                    const WzNipForecastDose *dose,
                    const char              *lang)
{
  const StatusText *status = &status_texts[dose->status];
  WzText status_text = { (char *) status->en, (char *) status->zh };
  g_autoptr(GString) en = g_string_new (NULL);
  g_autoptr(GString) zh = g_string_new (NULL);
  WzText description;
  char buf[16];

  wz_json_writer_begin_object (w);

  wz_json_writer_member (w, "vaccineCode");
  wz_json_writer_begin_array (w);
  wz_json_writer_begin_object (w);
  wz_json_writer_member (w, "coding");
  wz_json_writer_begin_array (w);
  writer_coding (w, WZ_NIP_VACCINE_SYSTEM, dose->product->id,
                 wz_text_get (&dose->product->name, lang));
  wz_json_writer_end_array (w);
  wz_json_writer_text (w, "text", &dose->product->name, lang);
  wz_json_writer_end_object (w);
  wz_json_writer_end_array (w);

  wz_json_writer_member (w, "forecastStatus");
  wz_json_writer_begin_object (w);
  wz_json_writer_member (w, "coding");
  wz_json_writer_begin_array (w);
  writer_coding (w, WZ_NIP_STATUS_SYSTEM, wz_nip_status_to_string (dose->status), NULL);
  if (status->hl7 != NULL)
    writer_coding (w, HL7_STATUS_SYSTEM, status->hl7, NULL);
  wz_json_writer_end_array (w);
  wz_json_writer_text (w, "text", &status_text, lang);
  wz_json_writer_end_object (w);

  add_reasons (w, dose, lang);

  wz_json_writer_member (w, "dateCriterion");
  wz_json_writer_begin_array (w);
  if (dose->status == WZ_NIP_COMPLETED)
    add_date_criterion (w, "30952-6", "Date and time of vaccination", dose->given);
  else
    {
      add_date_criterion (w, "30981-5", "Earliest date to give", dose->earliest);
      add_date_criterion (w, "30980-7", "Date vaccine due", dose->due);
      if (dose->status != WZ_NIP_NOT_RECOMMENDED)
        add_date_criterion (w, "59778-1", "Date when overdue for immunization", dose->overdue);
      add_date_criterion (w, "59777-3", "Latest date to give immunization", dose->latest);
    }
  wz_json_writer_end_array (w);

  g_string_append_printf (en, "%s, dose %u of %u: %s", dose->series_name->en, dose->dose,
                          dose->series_doses, dose->product->abbr);
  g_string_append_printf (zh, "%s 第%u剂（共%u剂）：%s", dose->series_name->zh, dose->dose,
                          dose->series_doses, dose->product->name.zh);
  if (dose->status == WZ_NIP_COMPLETED)
    {
      g_string_append_printf (en, ", given %s", wz_day_format_buf (dose->given, buf));
      g_string_append_printf (zh, "，已于%s接种", buf);
    }
  for (guint i = 0; dose->invalid != NULL && i < dose->invalid->len; i++)
    {
      g_string_append_printf (en, ". %s", (char *) g_ptr_array_index (dose->invalid_why, i));
      g_string_append_printf (zh, "。%s", (char *) g_ptr_array_index (dose->invalid_why_zh, i));
    }
  description.en = en->str;
  description.zh = zh->str;
  wz_json_writer_text (w, "description", &description, lang);

  wz_json_writer_set_string (w, "series", dose->series);
  wz_json_writer_member (w, "doseNumberPositiveInt");
  wz_json_writer_int (w, dose->dose);
  wz_json_writer_member (w, "seriesDosesPositiveInt");
  wz_json_writer_int (w, dose->series_doses);

  if (dose->immunization != NULL || dose->invalid != NULL)
    {
      wz_json_writer_member (w, "supportingImmunization");
      wz_json_writer_begin_array (w);
      if (dose->immunization != NULL)
        {
          wz_json_writer_begin_object (w);
          wz_json_writer_set_string (w, "reference", dose->immunization);
          wz_json_writer_end_object (w);
        }
      for (guint i = 0; dose->invalid != NULL && i < dose->invalid->len; i++)
        {
          const WzNipDose *record = &g_array_index (dose->invalid, WzNipDose, i);

          if (record->immunization == NULL)
            continue;
          wz_json_writer_begin_object (w);
          wz_json_writer_set_string (w, "reference", record->immunization);
          wz_json_writer_end_object (w);
        }
      wz_json_writer_end_array (w);
    }

  wz_json_writer_end_object (w);
}

GBytes *
wz_nip_forecast_to_fhir (WzNipSchedule       *self,
                         const WzNipForecast *forecast,
                         const char          *patient_ref,
                         const char          *date_time,
                         const char          *lang)
{
  WzJsonWriter w;

  g_return_val_if_fail (WZ_IS_NIP_SCHEDULE (self), NULL);

  wz_json_writer_init (&w);
  wz_json_writer_begin_object (&w);
  wz_json_writer_set_string (&w, "resourceType", "ImmunizationRecommendation");
  wz_json_writer_member (&w, "patient");
  wz_json_writer_begin_object (&w);
  wz_json_writer_set_string (&w, "reference", patient_ref);
  wz_json_writer_end_object (&w);
  wz_json_writer_set_string (&w, "date", date_time);
  wz_json_writer_member (&w, "authority");
  wz_json_writer_begin_object (&w);
  wz_json_writer_set_string (&w, "display", wz_text_get (&self->title, lang));
  wz_json_writer_end_object (&w);
  wz_json_writer_member (&w, "recommendation");
  wz_json_writer_begin_array (&w);
  for (guint i = 0; i < forecast->doses->len; i++)
    add_recommendation (&w, &g_array_index (forecast->doses, WzNipForecastDose, i), lang);
  wz_json_writer_end_array (&w);
  wz_json_writer_end_object (&w);

  return wz_json_writer_finish (&w);
}

/* ---- Adverse-event follow-up ------------------------------------------------------------- */

GPtrArray *
wz_nip_reaction_tasks (WzNipSchedule *self,
                       const char    *vaccine_id,
                       WzDay          given,
                       const char    *immunization_ref,
                       const char    *patient_ref,
                       const char    *owner_ref,
                       const char    *authored_on,
                       const char    *lang)
{
  GPtrArray *tasks = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  const WzNipVaccine *vaccine;

  g_return_val_if_fail (WZ_IS_NIP_SCHEDULE (self), tasks);
  g_return_val_if_fail (immunization_ref != NULL && patient_ref != NULL, tasks);

  vaccine = wz_nip_schedule_get_vaccine (self, vaccine_id);
  if (vaccine == NULL || given == WZ_DAY_NONE)
    return tasks;

  for (guint i = 0; i < vaccine->reaction_checks->len; i++)
    {
      const WzNipReactionCheck *check = g_ptr_array_index (vaccine->reaction_checks, i);
      g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
      g_autofree char *identifier = g_strdup_printf ("%s/reaction-check/day-%u",
                                                     immunization_ref, check->day);
      g_autofree char *title_en = g_strdup_printf ("Day %u after %s: reaction check",
                                                   check->day, vaccine->abbr);
      g_autofree char *title_zh = g_strdup_printf ("%s接种后第%u天：不良反应随访",
                                                   vaccine->name.zh, check->day);
      g_autofree char *seek_en = g_strdup_printf ("Seek care at once if: %s",
                                                  check->seek_care_if.en);
      g_autofree char *seek_zh = g_strdup_printf ("出现以下情况请立即就医：%s",
                                                  check->seek_care_if.zh);
      WzText title = { title_en, title_zh };
      WzText seek = { seek_en, seek_zh };
      char due[16], start[16], end[16];

      wz_day_format_buf (wz_day_add_days (given, check->day), due);
      wz_day_format_buf (wz_day_add_days (given, check->window_from), start);
      wz_day_format_buf (wz_day_add_days (given, check->window_to), end);

      json_builder_begin_object (builder);
      set_string (builder, "resourceType", "Task");
      json_builder_set_member_name (builder, "extension");
      json_builder_begin_array (builder);
      json_builder_begin_object (builder);
      set_string (builder, "url", WZ_FOLLOWUP_DUE_EXTENSION);
      set_string (builder, "valueDate", due);
      json_builder_end_object (builder);
      json_builder_end_array (builder);
      json_builder_set_member_name (builder, "identifier");
      json_builder_begin_array (builder);
      json_builder_begin_object (builder);
      set_string (builder, "system", WZ_FOLLOWUP_TASK_ID_SYSTEM);
      set_string (builder, "value", identifier);
      json_builder_end_object (builder);
      json_builder_end_array (builder);
      set_string (builder, "status", "requested");
      set_string (builder, "intent", "plan");
      set_string (builder, "priority", "routine");
      json_builder_set_member_name (builder, "code");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "coding");
      json_builder_begin_array (builder);
      add_coding (builder, WZ_FOLLOWUP_TASK_SYSTEM, "vaccine-reaction-check",
                  "Vaccine adverse-reaction check");
      add_coding (builder, WZ_NIP_VACCINE_SYSTEM, vaccine->id, vaccine->abbr);
      json_builder_end_array (builder);
      wz_json_add_text (builder, "text", &title, lang);
      json_builder_end_object (builder);
      wz_json_add_text (builder, "description", &check->check, lang);
      set_reference (builder, "focus", immunization_ref);
      set_reference (builder, "for", patient_ref);
      if (authored_on != NULL)
        set_string (builder, "authoredOn", authored_on);
      if (owner_ref != NULL)
        {
          set_reference (builder, "requester", owner_ref);
          set_reference (builder, "owner", owner_ref);
        }
      json_builder_set_member_name (builder, "restriction");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "period");
      json_builder_begin_object (builder);
      set_string (builder, "start", start);
      set_string (builder, "end", end);
      json_builder_end_object (builder);
      json_builder_end_object (builder);
      json_builder_set_member_name (builder, "input");
      json_builder_begin_array (builder);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "type");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "coding");
      json_builder_begin_array (builder);
      add_coding (builder, WZ_FOLLOWUP_TASK_SYSTEM, "seek-care-if", NULL);
      json_builder_end_array (builder);
      json_builder_end_object (builder);
      wz_json_add_text (builder, "valueString", &seek, lang);
      json_builder_end_object (builder);
      json_builder_end_array (builder);
      json_builder_end_object (builder);

      g_ptr_array_add (tasks, json_builder_get_root (builder));
    }

  return tasks;
}

static gboolean
reference_of (const char *reference,
              const char *type)
{
  g_autofree char *prefix = g_strconcat (type, "/", NULL);

  return reference != NULL && g_str_has_prefix (reference, prefix) &&
         reference[strlen (prefix)] != '\0';
}

JsonNode *
wz_nip_adverse_event (WzNipSchedule        *self,
                      const WzNipReaction  *reaction,
                      GError              **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  WzDay onset_day;
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc ();

  g_return_val_if_fail (WZ_IS_NIP_SCHEDULE (self), NULL);

  if (!reference_of (reaction->immunization_ref, "Immunization") ||
      !reference_of (reaction->patient_ref, "Patient"))
    {
      g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INVALID, "A reaction needs the Immunization "
                           "and the Patient it is about");
      return NULL;
    }
  if (reaction->description == NULL || *reaction->description == '\0' ||
      !g_utf8_validate (reaction->description, -1, NULL))
    {
      g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INVALID, "Describe the reaction");
      return NULL;
    }
  if (!wz_day_parse_in_zone (reaction->onset, utc, &onset_day))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "The onset “%s” is not a date or a "
                   "dateTime with a time zone", reaction->onset ? reaction->onset : "");
      return NULL;
    }
  if (reaction->severity != NULL && !g_strv_contains ((const char *[]) { "mild", "moderate",
                                                                          "severe", NULL },
                                                      reaction->severity))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "Severity “%s” is not mild, moderate or "
                   "severe", reaction->severity);
      return NULL;
    }

  json_builder_begin_object (builder);
  set_string (builder, "resourceType", "AdverseEvent");
  set_string (builder, "actuality", "actual");
  /* HL7's adverse-event categories are about product and use errors; none names a reaction
   * following immunization, so the category is given as text. */
  json_builder_set_member_name (builder, "category");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  set_string (builder, "text", "Adverse event following immunization (AEFI)");
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "event");
  json_builder_begin_object (builder);
  set_string (builder, "text", reaction->description);
  json_builder_end_object (builder);
  set_reference (builder, "subject", reaction->patient_ref);
  set_string (builder, "date", reaction->onset);
  if (reaction->recorded != NULL)
    set_string (builder, "recordedDate", reaction->recorded);
  if (reaction->recorder_ref != NULL)
    set_reference (builder, "recorder", reaction->recorder_ref);
  json_builder_set_member_name (builder, "seriousness");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "coding");
  json_builder_begin_array (builder);
  add_coding (builder, "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness",
              reaction->serious ? "serious" : "non-serious",
              reaction->serious ? "Serious" : "Non-serious");
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  if (reaction->severity != NULL)
    {
      json_builder_set_member_name (builder, "severity");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "coding");
      json_builder_begin_array (builder);
      add_coding (builder, "http://terminology.hl7.org/CodeSystem/adverse-event-severity",
                  reaction->severity, NULL);
      json_builder_end_array (builder);
      json_builder_end_object (builder);
    }
  json_builder_set_member_name (builder, "suspectEntity");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  set_reference (builder, "instance", reaction->immunization_ref);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}
