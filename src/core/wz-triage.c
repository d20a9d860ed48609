/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-triage"

#include "config.h"

#include "wz-triage.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "wz-error.h"
#include "wz-json.h"

/* Bit sets of symptoms and red flags live on the stack during an evaluation. */
#define MAX_WORDS 8
#define MAX_ITEMS (MAX_WORDS * 64)

typedef enum
{
  UNIT_DAY,
  UNIT_MONTH,
  UNIT_YEAR,
} AgeUnit;

typedef struct
{
  gboolean set;
  guint    value;
  AgeUnit  unit;
} AgeBound;

/* The measurements conditions can compare; the rules file names them by these ids. */
enum
{
  M_TEMPERATURE,
  M_SBP,
  M_DBP,
  M_GLUCOSE,
  N_MEASUREMENTS
};

static const char *const measurement_ids[N_MEASUREMENTS] = {
  "temperature_c", "sbp", "dbp", "glucose_mmol_l",
};

/* Condition keys on measurements: key, measurement, TRUE for a lower bound ("at least"). */
static const struct
{
  const char *key;
  guint       measurement;
  gboolean    is_min;
} value_keys[] = {
  { "temperature_min_c", M_TEMPERATURE, TRUE },
  { "temperature_max_c", M_TEMPERATURE, FALSE },
  { "sbp_min", M_SBP, TRUE },
  { "dbp_min", M_DBP, TRUE },
  { "glucose_min_mmol_l", M_GLUCOSE, TRUE },
  { "glucose_max_mmol_l", M_GLUCOSE, FALSE },
};

typedef struct
{
  const char *en;
  const char *zh;
} LangText;

typedef struct
{
  guint64  *symptoms_any;   /* NULL when the condition does not look at symptoms */
  guint64  *symptoms_all;
  AgeBound  age_min;        /* inclusive */
  AgeBound  age_max;        /* exclusive */
  double    duration_min;   /* hours; NAN when not set */
  double    duration_max;
  double    value_min[N_MEASUREMENTS];
  double    value_max[N_MEASUREMENTS];
  int       pregnant;       /* -1 not set, 0 or 1 */
  int       sex;            /* 0 not set, 1 male, 2 female */
} Condition;

typedef struct
{
  const char *id;
  guint       urgency;
  gboolean    red_flag;
  LangText    reason;       /* rules: reason; red flags: doctor_alert */
  LangText    message;      /* red flags only */
  LangText    question;     /* red flags only */
  Condition   when;         /* rules only */
  Condition   applies_to;   /* red flags only: who is asked */
  GArray     *also;         /* red flags: Condition, any of which fires it without a "yes" */
  const char *source;
} Rule;

struct _WzTriage
{
  GObject     parent_instance;

  JsonNode   *root;             /* the rules file; every borrowed string points into it */
  GHashTable *symptom_index;    /* id → index + 1 */
  GPtrArray  *symptoms;         /* JsonObject of each checklist entry, in file order */
  guint       n_words;
  GHashTable *durations;        /* id → JsonObject of the option */
  GHashTable *sources;          /* the set of _meta.sources */
  gboolean    measurement_known[N_MEASUREMENTS];
  double      measurement_min[N_MEASUREMENTS];
  double      measurement_max[N_MEASUREMENTS];
  JsonObject *measurements[N_MEASUREMENTS];
  GArray     *red_flags;        /* Rule */
  GHashTable *red_flag_index;   /* id → index + 1 */
  GArray     *rules;            /* Rule */
  guint       default_urgency;
  LangText    urgency_labels[5];
};

G_DEFINE_FINAL_TYPE (WzTriage, wz_triage, G_TYPE_OBJECT)

static void
condition_clear (Condition *c)
{
  g_clear_pointer (&c->symptoms_any, g_free);
  g_clear_pointer (&c->symptoms_all, g_free);
}

static void
rule_clear (gpointer data)
{
  Rule *rule = data;

  condition_clear (&rule->when);
  condition_clear (&rule->applies_to);
  g_clear_pointer (&rule->also, g_array_unref);
}

static void
wz_triage_finalize (GObject *object)
{
  WzTriage *self = WZ_TRIAGE (object);

  g_clear_pointer (&self->red_flags, g_array_unref);
  g_clear_pointer (&self->rules, g_array_unref);
  g_clear_pointer (&self->symptom_index, g_hash_table_unref);
  g_clear_pointer (&self->symptoms, g_ptr_array_unref);
  g_clear_pointer (&self->durations, g_hash_table_unref);
  g_clear_pointer (&self->sources, g_hash_table_unref);
  g_clear_pointer (&self->red_flag_index, g_hash_table_unref);
  g_clear_pointer (&self->root, json_node_unref);

  G_OBJECT_CLASS (wz_triage_parent_class)->finalize (object);
}

static void
wz_triage_class_init (WzTriageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = wz_triage_finalize;
}

static void
wz_triage_init (WzTriage *self)
{
  self->symptom_index = g_hash_table_new (g_str_hash, g_str_equal);
  self->symptoms = g_ptr_array_new ();
  self->durations = g_hash_table_new (g_str_hash, g_str_equal);
  self->sources = g_hash_table_new (g_str_hash, g_str_equal);
  self->red_flag_index = g_hash_table_new (g_str_hash, g_str_equal);
  self->red_flags = g_array_new (FALSE, TRUE, sizeof (Rule));
  g_array_set_clear_func (self->red_flags, rule_clear);
  self->rules = g_array_new (FALSE, TRUE, sizeof (Rule));
  g_array_set_clear_func (self->rules, rule_clear);
}

/* ---- Loading and checking the rules file ---------------------------------------------------- */

static gboolean G_GNUC_PRINTF (3, 4)
fail (GError     **error,
      const char  *where,
      const char  *format,
      ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);

  g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "%s: %s", where, text);
  return FALSE;
}

static gboolean
check_keys (JsonObject         *object,
            const char         *where,
            const char * const *known,
            GError            **error)
{
  g_autoptr(GList) members = json_object_get_members (object);

  for (GList *l = members; l != NULL; l = l->next)
    {
      if (!g_strv_contains (known, l->data))
        {
          g_autofree char *list = g_strjoinv (", ", (char **) known);

          return fail (error, where, "unknown field “%s” (known fields: %s)",
                       (const char *) l->data, list);
        }
    }

  return TRUE;
}

static gboolean
node_is_string (JsonNode *node)
{
  return node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
         json_node_get_value_type (node) == G_TYPE_STRING;
}

static gboolean
node_is_boolean (JsonNode *node)
{
  return node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
         json_node_get_value_type (node) == G_TYPE_BOOLEAN;
}

static gboolean
node_number (JsonNode *node,
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

static gboolean
node_integer (JsonNode *node,
              gint64   *out_value)
{
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;

  *out_value = json_node_get_int (node);
  return TRUE;
}

static JsonObject *
require_object (JsonObject  *parent,
                const char  *name,
                const char  *where,
                GError     **error)
{
  JsonNode *node = json_object_get_member (parent, name);

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      fail (error, where, "“%s” must be an object", name);
      return NULL;
    }

  return json_node_get_object (node);
}

static JsonArray *
require_array (JsonObject  *parent,
               const char  *name,
               const char  *where,
               gboolean     non_empty,
               GError     **error)
{
  JsonNode *node = json_object_get_member (parent, name);

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    {
      fail (error, where, "“%s” must be an array", name);
      return NULL;
    }
  if (non_empty && json_array_get_length (json_node_get_array (node)) == 0)
    {
      fail (error, where, "“%s” must not be empty", name);
      return NULL;
    }

  return json_node_get_array (node);
}

static const char *
require_string (JsonObject  *parent,
                const char  *name,
                const char  *where,
                GError     **error)
{
  JsonNode *node = json_object_get_member (parent, name);

  if (!node_is_string (node) || *json_node_get_string (node) == '\0')
    {
      fail (error, where, "“%s” must be a non-empty string", name);
      return NULL;
    }

  return json_node_get_string (node);
}

/* {"en": "…", "zh": "…"}, both present. */
static gboolean
load_lang (JsonObject  *parent,
           const char  *name,
           const char  *where,
           gboolean     required,
           LangText    *out,
           GError     **error)
{
  static const char * const keys[] = { "en", "zh", NULL };
  g_autofree char *inner = g_strdup_printf ("%s.%s", where, name);
  JsonObject *object;

  if (!json_object_has_member (parent, name) && !required)
    {
      *out = (LangText) { NULL, NULL };
      return TRUE;
    }

  if ((object = require_object (parent, name, where, error)) == NULL ||
      !check_keys (object, inner, keys, error) ||
      (out->en = require_string (object, "en", inner, error)) == NULL ||
      (out->zh = require_string (object, "zh", inner, error)) == NULL)
    return FALSE;

  return TRUE;
}

static gboolean
load_urgency (JsonObject  *parent,
              const char  *name,
              const char  *where,
              guint       *out_urgency,
              GError     **error)
{
  JsonNode *node = json_object_get_member (parent, name);
  gint64 value;

  if (node == NULL)
    return fail (error, where, "“%s” is missing", name);
  if (!node_integer (node, &value) || value < 1 || value > 4)
    {
      g_autofree char *text = json_to_string (node, FALSE);

      return fail (error, where, "%s %s is not an urgency level (a whole number from 1, emergency, "
                   "to 4, routine)", name, text);
    }

  *out_urgency = (guint) value;
  return TRUE;
}

static gboolean
load_age_bound (JsonObject  *age,
                const char  *name,
                const char  *where,
                AgeBound    *out,
                GError     **error)
{
  static const char * const keys[] = { "value", "unit", NULL };
  g_autofree char *inner = g_strdup_printf ("%s.age.%s", where, name);
  JsonObject *bound;
  const char *unit;
  gint64 value;

  if (!json_object_has_member (age, name))
    return TRUE;

  if ((bound = require_object (age, name, where, error)) == NULL ||
      !check_keys (bound, inner, keys, error) ||
      (unit = require_string (bound, "unit", inner, error)) == NULL)
    return FALSE;

  if (!node_integer (json_object_get_member (bound, "value"), &value) || value < 0 || value > 150 * 366)
    return fail (error, inner, "“value” must be a whole number of days, months or years");

  if (strcmp (unit, "day") == 0)
    out->unit = UNIT_DAY;
  else if (strcmp (unit, "month") == 0)
    out->unit = UNIT_MONTH;
  else if (strcmp (unit, "year") == 0)
    out->unit = UNIT_YEAR;
  else
    return fail (error, inner, "unit “%s” is not day, month or year", unit);

  out->set = TRUE;
  out->value = (guint) value;
  return TRUE;
}

static guint64 *
load_symptom_set (WzTriage    *self,
                  JsonArray   *array,
                  const char  *where,
                  GError     **error)
{
  g_autofree guint64 *bits = g_new0 (guint64, self->n_words);

  if (json_array_get_length (array) == 0)
    {
      fail (error, where, "the symptom list is empty");
      return NULL;
    }

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *node = json_array_get_element (array, i);
      guint index;

      if (!node_is_string (node))
        {
          fail (error, where, "symptoms are named by their checklist id (strings)");
          return NULL;
        }
      index = GPOINTER_TO_UINT (g_hash_table_lookup (self->symptom_index,
                                                     json_node_get_string (node)));
      if (index == 0)
        {
          fail (error, where, "“%s” is not in symptom_checklist", json_node_get_string (node));
          return NULL;
        }
      index--;
      bits[index / 64] |= G_GUINT64_CONSTANT (1) << (index % 64);
    }

  return g_steal_pointer (&bits);
}

static gboolean
load_condition (WzTriage    *self,
                JsonObject  *object,
                const char  *where,
                gboolean     allow_empty,
                Condition   *out,
                GError     **error)
{
  static const char * const keys[] = {
    "symptoms_any", "symptoms_all", "age", "duration_min_hours", "duration_max_hours",
    "temperature_min_c", "temperature_max_c", "pregnant", "sex", "sbp_min", "dbp_min",
    "glucose_min_mmol_l", "glucose_max_mmol_l", NULL
  };
  static const char * const age_keys[] = { "min", "max", NULL };
  g_autofree char *age_where = g_strdup_printf ("%s.age", where);
  JsonNode *node;

  out->duration_min = out->duration_max = NAN;
  for (guint m = 0; m < N_MEASUREMENTS; m++)
    out->value_min[m] = out->value_max[m] = NAN;
  out->pregnant = -1;

  if (!check_keys (object, where, keys, error))
    return FALSE;
  if (json_object_get_size (object) == 0 && !allow_empty)
    return fail (error, where, "a condition must name at least one thing to check");

  for (guint k = 0; k < 2; k++)
    {
      const char *key = k == 0 ? "symptoms_any" : "symptoms_all";
      guint64 **slot = k == 0 ? &out->symptoms_any : &out->symptoms_all;
      g_autofree char *inner = g_strdup_printf ("%s.%s", where, key);
      JsonArray *array;

      if (!json_object_has_member (object, key))
        continue;
      if ((array = require_array (object, key, where, TRUE, error)) == NULL ||
          (*slot = load_symptom_set (self, array, inner, error)) == NULL)
        return FALSE;
    }

  if (json_object_has_member (object, "age"))
    {
      JsonObject *age = require_object (object, "age", where, error);

      if (age == NULL ||
          !check_keys (age, age_where, age_keys, error) ||
          !load_age_bound (age, "min", where, &out->age_min, error) ||
          !load_age_bound (age, "max", where, &out->age_max, error))
        return FALSE;
      if (!out->age_min.set && !out->age_max.set)
        return fail (error, age_where, "give min, max or both");
    }

  for (guint k = 0; k < 2; k++)
    {
      const char *key = k == 0 ? "duration_min_hours" : "duration_max_hours";
      double *slot = k == 0 ? &out->duration_min : &out->duration_max;

      node = json_object_get_member (object, key);
      if (node != NULL && (!node_number (node, slot) || *slot < 0))
        return fail (error, where, "“%s” must be a number of hours", key);
    }

  for (guint k = 0; k < G_N_ELEMENTS (value_keys); k++)
    {
      guint m = value_keys[k].measurement;
      double *slot = value_keys[k].is_min ? &out->value_min[m] : &out->value_max[m];

      node = json_object_get_member (object, value_keys[k].key);
      if (node == NULL)
        continue;
      if (!node_number (node, slot))
        return fail (error, where, "“%s” must be a number", value_keys[k].key);
      if (!self->measurement_known[m])
        return fail (error, where, "“%s” needs the measurement “%s”, which measurements does not "
                     "list", value_keys[k].key, measurement_ids[m]);
    }

  node = json_object_get_member (object, "pregnant");
  if (node != NULL)
    {
      if (!node_is_boolean (node))
        return fail (error, where, "“pregnant” must be true or false");
      out->pregnant = json_node_get_boolean (node) ? 1 : 0;
    }

  node = json_object_get_member (object, "sex");
  if (node != NULL)
    {
      const char *sex = node_is_string (node) ? json_node_get_string (node) : "";

      if (strcmp (sex, "male") == 0)
        out->sex = 1;
      else if (strcmp (sex, "female") == 0)
        out->sex = 2;
      else
        return fail (error, where, "“sex” must be male or female");
    }

  return TRUE;
}

static gboolean
load_sources (WzTriage    *self,
              JsonObject  *object,
              const char  *where,
              Rule        *rule,
              GError     **error)
{
  JsonNode *node = json_object_get_member (object, "source");
  JsonArray *array;

  if (node == NULL)
    return fail (error, where, "has no source; every rule must say what it is based on");
  if (!JSON_NODE_HOLDS_ARRAY (node) || json_array_get_length (json_node_get_array (node)) == 0)
    return fail (error, where, "“source” must be a non-empty list of the sources in _meta.sources");

  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);

      if (!node_is_string (element))
        return fail (error, where, "“source” must list strings");
      if (!g_hash_table_contains (self->sources, json_node_get_string (element)))
        return fail (error, where, "source “%s” is not listed in _meta.sources",
                     json_node_get_string (element));
    }

  rule->source = json_array_get_string_element (array, 0);
  return TRUE;
}

static gboolean
check_rule_id (WzTriage    *self,
               const char  *id,
               const char  *where,
               GHashTable  *seen,
               GError     **error)
{
  for (const char *p = id; *p; p++)
    if (!(g_ascii_islower (*p) || g_ascii_isdigit (*p) || *p == '_'))
      return fail (error, where, "id “%s” may only use a-z, 0-9 and _", id);

  if (!g_hash_table_add (seen, (gpointer) id))
    return fail (error, where, "id “%s” is used twice", id);

  return TRUE;
}

static gboolean
load_meta (WzTriage    *self,
           JsonObject  *root,
           GError     **error)
{
  static const char * const keys[] = {
    "title", "format_version", "purpose", "sources", "written_from", "maintainer_checks",
    "disclaimer", NULL
  };
  JsonObject *meta;
  JsonArray *sources;
  gint64 version;

  if ((meta = require_object (root, "_meta", "rules file", error)) == NULL ||
      !check_keys (meta, "_meta", keys, error))
    return FALSE;

  if (!node_integer (json_object_get_member (meta, "format_version"), &version) || version != 1)
    return fail (error, "_meta", "format_version must be 1; this server reads version 1 only");

  if ((sources = require_array (meta, "sources", "_meta", TRUE, error)) == NULL)
    return FALSE;
  for (guint i = 0; i < json_array_get_length (sources); i++)
    {
      JsonNode *node = json_array_get_element (sources, i);

      if (!node_is_string (node) || *json_node_get_string (node) == '\0')
        return fail (error, "_meta.sources", "every source is a non-empty string");
      g_hash_table_add (self->sources, (gpointer) json_node_get_string (node));
    }

  return TRUE;
}

static gboolean
load_urgency_levels (WzTriage    *self,
                     JsonObject  *root,
                     GError     **error)
{
  static const char * const keys[] = {
    "level", "key", "label", "patient_message", "doctor_action", "maps_to", NULL
  };
  JsonArray *levels;
  guint seen = 0;

  if ((levels = require_array (root, "urgency_levels", "rules file", TRUE, error)) == NULL)
    return FALSE;

  for (guint i = 0; i < json_array_get_length (levels); i++)
    {
      g_autofree char *where = g_strdup_printf ("urgency_levels[%u]", i);
      JsonNode *node = json_array_get_element (levels, i);
      JsonObject *level;
      LangText unused;
      guint urgency;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        return fail (error, where, "must be an object");
      level = json_node_get_object (node);
      if (!check_keys (level, where, keys, error) ||
          !load_urgency (level, "level", where, &urgency, error) ||
          !load_lang (level, "label", where, TRUE, &self->urgency_labels[urgency], error) ||
          !load_lang (level, "patient_message", where, TRUE, &unused, error) ||
          !load_lang (level, "doctor_action", where, FALSE, &unused, error))
        return FALSE;
      if (seen & (1u << urgency))
        return fail (error, where, "level %u is described twice", urgency);
      seen |= 1u << urgency;
    }

  if (seen != 0x1e)
    return fail (error, "urgency_levels", "must describe each of the levels 1, 2, 3 and 4");

  return TRUE;
}

static gboolean
load_checklist (WzTriage    *self,
                JsonObject  *root,
                GError     **error)
{
  static const char * const keys[] = { "id", "group", "label", NULL };
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  JsonArray *list;

  if ((list = require_array (root, "symptom_checklist", "rules file", TRUE, error)) == NULL)
    return FALSE;
  if (json_array_get_length (list) > MAX_ITEMS)
    return fail (error, "symptom_checklist", "at most %d symptoms", MAX_ITEMS);

  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      g_autofree char *where = g_strdup_printf ("symptom_checklist[%u]", i);
      JsonNode *node = json_array_get_element (list, i);
      JsonObject *item;
      const char *id;
      LangText label;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        return fail (error, where, "must be an object");
      item = json_node_get_object (node);
      if (!check_keys (item, where, keys, error) ||
          (id = require_string (item, "id", where, error)) == NULL ||
          require_string (item, "group", where, error) == NULL ||
          !load_lang (item, "label", where, TRUE, &label, error) ||
          !check_rule_id (self, id, where, seen, error))
        return FALSE;

      g_ptr_array_add (self->symptoms, item);
      g_hash_table_insert (self->symptom_index, (gpointer) id, GUINT_TO_POINTER (i + 1));
    }

  self->n_words = (self->symptoms->len + 63) / 64;
  return TRUE;
}

static gboolean
load_durations (WzTriage    *self,
                JsonObject  *root,
                GError     **error)
{
  static const char * const keys[] = { "id", "label", "from_hours", NULL };
  JsonArray *list;

  if ((list = require_array (root, "duration_options", "rules file", TRUE, error)) == NULL)
    return FALSE;

  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      g_autofree char *where = g_strdup_printf ("duration_options[%u]", i);
      JsonNode *node = json_array_get_element (list, i);
      JsonObject *option;
      const char *id;
      LangText label;
      double hours;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        return fail (error, where, "must be an object");
      option = json_node_get_object (node);
      if (!check_keys (option, where, keys, error) ||
          (id = require_string (option, "id", where, error)) == NULL ||
          !load_lang (option, "label", where, TRUE, &label, error))
        return FALSE;
      if (!node_number (json_object_get_member (option, "from_hours"), &hours) || hours < 0)
        return fail (error, where, "“from_hours” must be a number of hours");
      if (!g_hash_table_insert (self->durations, (gpointer) id, option))
        return fail (error, where, "id “%s” is used twice", id);
    }

  return TRUE;
}

static gboolean
load_measurements (WzTriage    *self,
                   JsonObject  *root,
                   GError     **error)
{
  static const char * const keys[] = { "id", "label", "min", "max", NULL };
  JsonArray *list;

  if ((list = require_array (root, "measurements", "rules file", FALSE, error)) == NULL)
    return FALSE;

  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      g_autofree char *where = g_strdup_printf ("measurements[%u]", i);
      JsonNode *node = json_array_get_element (list, i);
      JsonObject *item;
      const char *id;
      LangText label;
      guint m;
      double min, max;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        return fail (error, where, "must be an object");
      item = json_node_get_object (node);
      if (!check_keys (item, where, keys, error) ||
          (id = require_string (item, "id", where, error)) == NULL ||
          !load_lang (item, "label", where, TRUE, &label, error))
        return FALSE;

      for (m = 0; m < N_MEASUREMENTS; m++)
        if (strcmp (id, measurement_ids[m]) == 0)
          break;
      if (m == N_MEASUREMENTS)
        return fail (error, where, "“%s” is not a measurement the rules can use (temperature_c, "
                     "sbp, dbp, glucose_mmol_l)", id);
      if (self->measurement_known[m])
        return fail (error, where, "id “%s” is used twice", id);
      if (!node_number (json_object_get_member (item, "min"), &min) ||
          !node_number (json_object_get_member (item, "max"), &max) || min >= max)
        return fail (error, where, "“min” and “max” must be numbers with min below max");

      self->measurement_known[m] = TRUE;
      self->measurement_min[m] = min;
      self->measurement_max[m] = max;
      self->measurements[m] = item;
    }

  return TRUE;
}

static gboolean
load_red_flags (WzTriage    *self,
                JsonObject  *root,
                GHashTable  *seen,
                GError     **error)
{
  static const char * const keys[] = {
    "id", "question", "help", "applies_to", "urgency", "message", "doctor_alert",
    "also_triggered_by", "source", "verify", NULL
  };
  JsonArray *list;

  if ((list = require_array (root, "red_flags", "rules file", TRUE, error)) == NULL)
    return FALSE;
  if (json_array_get_length (list) > MAX_ITEMS)
    return fail (error, "red_flags", "at most %d red flags", MAX_ITEMS);

  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      g_autofree char *where = g_strdup_printf ("red_flags[%u]", i);
      JsonNode *node = json_array_get_element (list, i);
      JsonObject *object;
      JsonObject *applies;
      JsonNode *verify;
      LangText help;
      Rule *rule;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        return fail (error, where, "must be an object");
      object = json_node_get_object (node);

      g_array_set_size (self->red_flags, i + 1);
      rule = &g_array_index (self->red_flags, Rule, i);
      rule->red_flag = TRUE;

      if (!check_keys (object, where, keys, error) ||
          (rule->id = require_string (object, "id", where, error)) == NULL)
        return FALSE;

      g_free (where);
      where = g_strdup_printf ("red_flags[%u] (%s)", i, rule->id);
      if (!check_rule_id (self, rule->id, where, seen, error) ||
          !load_urgency (object, "urgency", where, &rule->urgency, error) ||
          !load_lang (object, "question", where, TRUE, &rule->question, error) ||
          !load_lang (object, "help", where, FALSE, &help, error) ||
          !load_lang (object, "message", where, TRUE, &rule->message, error) ||
          !load_lang (object, "doctor_alert", where, TRUE, &rule->reason, error) ||
          !load_sources (self, object, where, rule, error))
        return FALSE;

      /* A red flag sends the patient to the emergency department; anything less is a rule. */
      if (rule->urgency != 1)
        return fail (error, where, "a red flag has urgency 1, not %u; write a rule instead",
                     rule->urgency);

      verify = json_object_get_member (object, "verify");
      if (verify != NULL && !node_is_boolean (verify))
        return fail (error, where, "“verify” must be true or false");

      if ((applies = require_object (object, "applies_to", where, error)) == NULL)
        return FALSE;
      {
        g_autofree char *inner = g_strdup_printf ("%s.applies_to", where);

        if (!load_condition (self, applies, inner, TRUE, &rule->applies_to, error))
          return FALSE;
      }

      rule->also = g_array_new (FALSE, TRUE, sizeof (Condition));
      g_array_set_clear_func (rule->also, (GDestroyNotify) condition_clear);
      if (json_object_has_member (object, "also_triggered_by"))
        {
          JsonArray *also = require_array (object, "also_triggered_by", where, TRUE, error);

          if (also == NULL)
            return FALSE;
          for (guint a = 0; a < json_array_get_length (also); a++)
            {
              g_autofree char *inner = g_strdup_printf ("%s.also_triggered_by[%u]", where, a);
              JsonNode *element = json_array_get_element (also, a);

              if (!JSON_NODE_HOLDS_OBJECT (element))
                return fail (error, inner, "must be an object");
              g_array_set_size (rule->also, a + 1);
              if (!load_condition (self, json_node_get_object (element), inner, FALSE,
                                   &g_array_index (rule->also, Condition, a), error))
                return FALSE;
            }
        }

      g_hash_table_insert (self->red_flag_index, (gpointer) rule->id, GUINT_TO_POINTER (i + 1));
    }

  return TRUE;
}

static gboolean
load_rules (WzTriage    *self,
            JsonObject  *root,
            GHashTable  *seen,
            GError     **error)
{
  static const char * const keys[] = { "id", "when", "urgency", "reason", "source", NULL };
  JsonArray *list;

  if ((list = require_array (root, "rules", "rules file", FALSE, error)) == NULL)
    return FALSE;

  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      g_autofree char *where = g_strdup_printf ("rules[%u]", i);
      g_autofree char *when_where = NULL;
      JsonNode *node = json_array_get_element (list, i);
      JsonObject *object;
      JsonObject *when;
      Rule *rule;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        return fail (error, where, "must be an object");
      object = json_node_get_object (node);

      g_array_set_size (self->rules, i + 1);
      rule = &g_array_index (self->rules, Rule, i);

      if (!check_keys (object, where, keys, error) ||
          (rule->id = require_string (object, "id", where, error)) == NULL)
        return FALSE;

      g_free (where);
      where = g_strdup_printf ("rules[%u] (%s)", i, rule->id);
      when_where = g_strdup_printf ("%s.when", where);
      if (!check_rule_id (self, rule->id, where, seen, error) ||
          !load_urgency (object, "urgency", where, &rule->urgency, error) ||
          !load_lang (object, "reason", where, TRUE, &rule->reason, error) ||
          !load_sources (self, object, where, rule, error) ||
          (when = require_object (object, "when", where, error)) == NULL ||
          !load_condition (self, when, when_where, FALSE, &rule->when, error))
        return FALSE;
    }

  return TRUE;
}

static gboolean
load_document (WzTriage    *self,
               GError     **error)
{
  static const char * const keys[] = {
    "_meta", "evaluation", "urgency_levels", "default_urgency", "red_flags",
    "symptom_checklist", "duration_options", "measurements", "rules", NULL
  };
  static const char * const evaluation_keys[] = {
    "text", "condition_keys", "also_triggered_by", NULL
  };
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  JsonObject *root;
  JsonObject *evaluation;

  if (!JSON_NODE_HOLDS_OBJECT (self->root))
    return fail (error, "rules file", "must be a JSON object");
  root = json_node_get_object (self->root);

  if (!check_keys (root, "rules file", keys, error) ||
      !load_meta (self, root, error))
    return FALSE;

  if (json_object_has_member (root, "evaluation") &&
      ((evaluation = require_object (root, "evaluation", "rules file", error)) == NULL ||
       !check_keys (evaluation, "evaluation", evaluation_keys, error)))
    return FALSE;

  return load_urgency_levels (self, root, error) &&
         load_urgency (root, "default_urgency", "rules file", &self->default_urgency, error) &&
         load_checklist (self, root, error) &&
         load_durations (self, root, error) &&
         load_measurements (self, root, error) &&
         load_red_flags (self, root, seen, error) &&
         load_rules (self, root, seen, error);
}

WzTriage *
wz_triage_new_from_data (const char  *data,
                         gssize       length,
                         GError     **error)
{
  g_autoptr(WzTriage) self = g_object_new (WZ_TYPE_TRIAGE, NULL);
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GError) local_error = NULL;

  if (!json_parser_load_from_data (parser, data, length, &local_error))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "rules file is not valid JSON: %s",
                   local_error->message);
      return NULL;
    }

  self->root = json_parser_steal_root (parser);
  if (self->root == NULL)
    {
      g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INVALID, "rules file is empty");
      return NULL;
    }

  if (!load_document (self, error))
    return NULL;

  return g_steal_pointer (&self);
}

WzTriage *
wz_triage_new_from_file (const char  *path,
                         GError     **error)
{
  g_autofree char *contents = NULL;
  gsize length;
  WzTriage *self;

  if (!g_file_get_contents (path, &contents, &length, error))
    return NULL;

  self = wz_triage_new_from_data (contents, length, error);
  if (self == NULL)
    g_prefix_error (error, "%s: ", path);

  return self;
}

/* ---- Evaluating answers --------------------------------------------------------------------- */

/* Questions that are not red flags, numbered for the "answered twice" check; red flag I is
 * N_FIXED_SLOTS + I. */
enum
{
  SLOT_COMPLAINT,
  SLOT_DURATION,
  SLOT_SYMPTOMS,
  SLOT_PREGNANT,
  SLOT_MEDICATIONS,
  SLOT_MEDICATIONS_NONE,
  SLOT_ALLERGIES,
  SLOT_ALLERGIES_NONE,
  SLOT_MEASUREMENT,                            /* + measurement */
  N_FIXED_SLOTS = SLOT_MEASUREMENT + N_MEASUREMENTS
};

typedef struct
{
  guint64  answered[MAX_WORDS + 1];
  guint64  symptoms[MAX_WORDS];
  guint64  red_flags[MAX_WORDS];
  gboolean has_duration;
  double   duration_hours;
  gboolean has_value[N_MEASUREMENTS];
  double   value[N_MEASUREMENTS];
  gboolean pregnant;
  gboolean has_age;
  GDate    birth;
  GDate    on;
  gint     age_days;
  gint     age_months;
  gint     age_years;
  int      sex;
} Answers;

static gboolean
parse_date (const char *text,
            GDate      *out)
{
  guint year, month, day;
  char end;

  if (text == NULL || strlen (text) != 10 ||
      sscanf (text, "%4u-%2u-%2u%c", &year, &month, &day, &end) != 3 ||
      !g_date_valid_dmy (day, month, year))
    return FALSE;

  g_date_clear (out, 1);
  g_date_set_dmy (out, day, month, year);
  return TRUE;
}

/* Whole days, months and years from birth to the day of the answers, once per evaluation.
 * Calendar arithmetic: a month after 31 January is the last day of February, a year after
 * 29 February is 28 February, as g_date_add_months() and g_date_add_years() count. */
static void
compute_age (Answers *answers)
{
  guint by = g_date_get_year (&answers->birth);
  guint bm = g_date_get_month (&answers->birth);
  guint bd = g_date_get_day (&answers->birth);
  guint oy = g_date_get_year (&answers->on);
  guint om = g_date_get_month (&answers->on);
  guint od = g_date_get_day (&answers->on);
  gint months = ((gint) oy - (gint) by) * 12 + ((gint) om - (gint) bm);
  gint years = (gint) oy - (gint) by;

  if (od < MIN (bd, g_date_get_days_in_month (om, oy)))
    months--;
  if (om < bm || (om == bm && od < MIN (bd, g_date_get_days_in_month (bm, oy))))
    years--;

  answers->age_days = (gint) (g_date_get_julian (&answers->on) -
                              g_date_get_julian (&answers->birth));
  answers->age_months = months;
  answers->age_years = years;
}

static gboolean
age_at_least (const Answers  *answers,
              const AgeBound *bound)
{
  switch (bound->unit)
    {
    case UNIT_DAY:
      return answers->age_days >= (gint) bound->value;
    case UNIT_MONTH:
      return answers->age_months >= (gint) bound->value;
    case UNIT_YEAR:
    default:
      return answers->age_years >= (gint) bound->value;
    }
}

static gboolean
bits_intersect (const guint64 *a,
                const guint64 *b,
                guint          n_words)
{
  for (guint i = 0; i < n_words; i++)
    if (a[i] & b[i])
      return TRUE;
  return FALSE;
}

static gboolean
bits_contain (const guint64 *have,
              const guint64 *need,
              guint          n_words)
{
  for (guint i = 0; i < n_words; i++)
    if ((have[i] & need[i]) != need[i])
      return FALSE;
  return TRUE;
}

/* Missing facts never satisfy a condition: an unknown age matches no age range, an unanswered
 * measurement no threshold. */
static gboolean
condition_matches (WzTriage        *self,
                   const Condition *c,
                   const Answers   *answers)
{
  if (c->symptoms_any != NULL && !bits_intersect (answers->symptoms, c->symptoms_any, self->n_words))
    return FALSE;
  if (c->symptoms_all != NULL && !bits_contain (answers->symptoms, c->symptoms_all, self->n_words))
    return FALSE;

  if (c->age_min.set || c->age_max.set)
    {
      if (!answers->has_age)
        return FALSE;
      if (c->age_min.set && !age_at_least (answers, &c->age_min))
        return FALSE;
      if (c->age_max.set && age_at_least (answers, &c->age_max))
        return FALSE;
    }

  if (!isnan (c->duration_min) &&
      (!answers->has_duration || answers->duration_hours < c->duration_min))
    return FALSE;
  if (!isnan (c->duration_max) &&
      (!answers->has_duration || answers->duration_hours >= c->duration_max))
    return FALSE;

  for (guint m = 0; m < N_MEASUREMENTS; m++)
    {
      if (!isnan (c->value_min[m]) &&
          (!answers->has_value[m] || answers->value[m] < c->value_min[m]))
        return FALSE;
      if (!isnan (c->value_max[m]) &&
          (!answers->has_value[m] || answers->value[m] >= c->value_max[m]))
        return FALSE;
    }

  if (c->pregnant == 1 && !answers->pregnant)
    return FALSE;
  if (c->pregnant == 0 && answers->pregnant)
    return FALSE;
  if (c->sex != 0 && c->sex != answers->sex)
    return FALSE;

  return TRUE;
}

/* The single value of ANSWER, which must be named NAME. */
static JsonNode *
answer_value (JsonObject  *item,
              const char  *link_id,
              const char  *name,
              gboolean     repeats,
              guint        index,
              GError     **error)
{
  JsonArray *answers = json_object_get_array_member (item, "answer");
  JsonNode *node = json_array_get_element (answers, index);
  JsonObject *answer;
  JsonNode *value;

  if (!repeats && json_array_get_length (answers) != 1)
    {
      fail (error, link_id, "takes exactly one answer");
      return NULL;
    }

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      fail (error, link_id, "each answer must be an object");
      return NULL;
    }
  answer = json_node_get_object (node);
  value = json_object_get_member (answer, name);
  if (json_object_get_size (answer) != 1 || value == NULL)
    {
      fail (error, link_id, "the answer must be one %s", name);
      return NULL;
    }

  return value;
}

static const char *
answer_string (JsonObject  *item,
               const char  *link_id,
               GError     **error)
{
  JsonNode *value = answer_value (item, link_id, "valueString", FALSE, 0, error);
  const char *text;

  if (value == NULL)
    return NULL;
  if (!node_is_string (value))
    {
      fail (error, link_id, "valueString must be a string");
      return NULL;
    }

  text = json_node_get_string (value);
  if (g_utf8_strlen (text, -1) > WZ_TRIAGE_MAX_TEXT)
    {
      fail (error, link_id, "the answer is longer than %d characters", WZ_TRIAGE_MAX_TEXT);
      return NULL;
    }

  return text;
}

static gboolean
answer_boolean (JsonObject  *item,
                const char  *link_id,
                gboolean    *out_value,
                GError     **error)
{
  JsonNode *value = answer_value (item, link_id, "valueBoolean", FALSE, 0, error);

  if (value == NULL)
    return FALSE;
  if (!node_is_boolean (value))
    return fail (error, link_id, "valueBoolean must be true or false");

  *out_value = json_node_get_boolean (value);
  return TRUE;
}

/* A Coding of SYSTEM; returns its code. */
static const char *
answer_code (JsonObject  *item,
             const char  *link_id,
             guint        index,
             const char  *system,
             GError     **error)
{
  static const char * const keys[] = { "system", "code", "display", NULL };
  JsonNode *value = answer_value (item, link_id, "valueCoding", TRUE, index, error);
  JsonObject *coding;
  JsonNode *display;
  const char *code;

  if (value == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (value))
    {
      fail (error, link_id, "valueCoding must be an object");
      return NULL;
    }

  coding = json_node_get_object (value);
  if (!check_keys (coding, link_id, keys, error))
    return NULL;
  if (g_strcmp0 (wz_json_get_string (coding, "system"), system) != 0)
    {
      fail (error, link_id, "valueCoding.system must be %s", system);
      return NULL;
    }
  display = json_object_get_member (coding, "display");
  if (display != NULL && !node_is_string (display))
    {
      fail (error, link_id, "valueCoding.display must be a string");
      return NULL;
    }
  if ((code = require_string (coding, "code", link_id, error)) == NULL)
    return NULL;

  return code;
}

/* The slot of LINK_ID, or -1 when it is not a question of the questionnaire. */
static gint
slot_of (WzTriage   *self,
         const char *link_id)
{
  static const char * const fixed[] = {
    [SLOT_COMPLAINT] = WZ_TRIAGE_LINK_COMPLAINT,
    [SLOT_DURATION] = WZ_TRIAGE_LINK_DURATION,
    [SLOT_SYMPTOMS] = WZ_TRIAGE_LINK_SYMPTOMS,
    [SLOT_PREGNANT] = WZ_TRIAGE_LINK_PREGNANT,
    [SLOT_MEDICATIONS] = WZ_TRIAGE_LINK_MEDICATIONS,
    [SLOT_MEDICATIONS_NONE] = WZ_TRIAGE_LINK_MEDICATIONS_NONE,
    [SLOT_ALLERGIES] = WZ_TRIAGE_LINK_ALLERGIES,
    [SLOT_ALLERGIES_NONE] = WZ_TRIAGE_LINK_ALLERGIES_NONE,
  };

  for (guint i = 0; i < G_N_ELEMENTS (fixed); i++)
    if (strcmp (link_id, fixed[i]) == 0)
      return (gint) i;

  if (g_str_has_prefix (link_id, WZ_TRIAGE_LINK_MEASUREMENT))
    {
      const char *id = link_id + strlen (WZ_TRIAGE_LINK_MEASUREMENT);

      for (guint m = 0; m < N_MEASUREMENTS; m++)
        if (self->measurement_known[m] && strcmp (id, measurement_ids[m]) == 0)
          return SLOT_MEASUREMENT + (gint) m;
    }
  else if (g_str_has_prefix (link_id, WZ_TRIAGE_LINK_RED_FLAG))
    {
      guint index = GPOINTER_TO_UINT (g_hash_table_lookup (self->red_flag_index,
                                                           link_id + strlen (WZ_TRIAGE_LINK_RED_FLAG)));

      if (index > 0)
        return N_FIXED_SLOTS + (gint) index - 1;
    }

  return -1;
}

static gboolean
read_item (WzTriage    *self,
           JsonObject  *item,
           Answers     *answers,
           GError     **error)
{
  static const char * const keys[] = { "linkId", "text", "answer", NULL };
  JsonNode *link_node = json_object_get_member (item, "linkId");
  JsonNode *text_node = json_object_get_member (item, "text");
  JsonNode *answer_node = json_object_get_member (item, "answer");
  const char *link_id;
  gint slot;

  if (!node_is_string (link_node))
    return fail (error, "QuestionnaireResponse.item", "every item needs a linkId string");
  link_id = json_node_get_string (link_node);
  if ((slot = slot_of (self, link_id)) < 0)
    return fail (error, link_id, "is not a question of the pre-consultation questionnaire");

  if (!check_keys (item, link_id, keys, error))
    return FALSE;
  if (text_node != NULL && !node_is_string (text_node))
    return fail (error, link_id, "text must be a string");
  if (answer_node == NULL || !JSON_NODE_HOLDS_ARRAY (answer_node) ||
      json_array_get_length (json_node_get_array (answer_node)) == 0)
    return fail (error, link_id, "needs a non-empty answer array (leave out questions that were "
                 "not answered)");
  if ((answers->answered[slot / 64] >> (slot % 64)) & 1)
    return fail (error, link_id, "is answered twice");
  answers->answered[slot / 64] |= G_GUINT64_CONSTANT (1) << (slot % 64);

  if (strcmp (link_id, WZ_TRIAGE_LINK_COMPLAINT) == 0)
    {
      const char *text = answer_string (item, link_id, error);
      g_autofree char *stripped = NULL;

      if (text == NULL)
        return FALSE;
      stripped = g_strstrip (g_strdup (text));
      if (*stripped == '\0')
        return fail (error, link_id, "the chief complaint must not be empty");
    }
  else if (strcmp (link_id, WZ_TRIAGE_LINK_MEDICATIONS) == 0 ||
           strcmp (link_id, WZ_TRIAGE_LINK_ALLERGIES) == 0)
    {
      if (answer_string (item, link_id, error) == NULL)
        return FALSE;
    }
  else if (strcmp (link_id, WZ_TRIAGE_LINK_MEDICATIONS_NONE) == 0 ||
           strcmp (link_id, WZ_TRIAGE_LINK_ALLERGIES_NONE) == 0)
    {
      gboolean unused;

      if (!answer_boolean (item, link_id, &unused, error))
        return FALSE;
    }
  else if (strcmp (link_id, WZ_TRIAGE_LINK_PREGNANT) == 0)
    {
      if (!answer_boolean (item, link_id, &answers->pregnant, error))
        return FALSE;
    }
  else if (strcmp (link_id, WZ_TRIAGE_LINK_DURATION) == 0)
    {
      const char *code;
      JsonObject *option;

      if (json_array_get_length (json_node_get_array (answer_node)) != 1)
        return fail (error, link_id, "takes exactly one answer");
      if ((code = answer_code (item, link_id, 0, WZ_TRIAGE_DURATION_SYSTEM, error)) == NULL)
        return FALSE;
      if ((option = g_hash_table_lookup (self->durations, code)) == NULL)
        return fail (error, link_id, "“%s” is not one of the duration options", code);
      node_number (json_object_get_member (option, "from_hours"), &answers->duration_hours);
      answers->has_duration = TRUE;
    }
  else if (strcmp (link_id, WZ_TRIAGE_LINK_SYMPTOMS) == 0)
    {
      JsonArray *list = json_node_get_array (answer_node);

      for (guint i = 0; i < json_array_get_length (list); i++)
        {
          const char *code = answer_code (item, link_id, i, WZ_TRIAGE_SYMPTOM_SYSTEM, error);
          guint index;

          if (code == NULL)
            return FALSE;
          index = GPOINTER_TO_UINT (g_hash_table_lookup (self->symptom_index, code));
          if (index == 0)
            return fail (error, link_id, "“%s” is not on the symptom checklist", code);
          index--;
          answers->symptoms[index / 64] |= G_GUINT64_CONSTANT (1) << (index % 64);
        }
    }
  else if (g_str_has_prefix (link_id, WZ_TRIAGE_LINK_MEASUREMENT))
    {
      const char *id = link_id + strlen (WZ_TRIAGE_LINK_MEASUREMENT);
      JsonNode *value;
      double number;
      guint m;

      for (m = 0; m < N_MEASUREMENTS; m++)
        if (self->measurement_known[m] && strcmp (id, measurement_ids[m]) == 0)
          break;
      g_assert (m < N_MEASUREMENTS);  /* slot_of() found it */

      value = answer_value (item, link_id, m == M_SBP || m == M_DBP ? "valueInteger" : "valueDecimal",
                            FALSE, 0, error);
      if (value == NULL)
        return FALSE;
      if (!node_number (value, &number))
        return fail (error, link_id, "the answer must be a number");
      if ((m == M_SBP || m == M_DBP) && json_node_get_value_type (value) != G_TYPE_INT64)
        return fail (error, link_id, "valueInteger must be a whole number");
      if (number < self->measurement_min[m] || number > self->measurement_max[m])
        return fail (error, link_id, "%g is outside the plausible range %g–%g", number,
                     self->measurement_min[m], self->measurement_max[m]);
      answers->value[m] = number;
      answers->has_value[m] = TRUE;
    }
  else if (g_str_has_prefix (link_id, WZ_TRIAGE_LINK_RED_FLAG))
    {
      const char *id = link_id + strlen (WZ_TRIAGE_LINK_RED_FLAG);
      guint index = GPOINTER_TO_UINT (g_hash_table_lookup (self->red_flag_index, id));
      gboolean yes;

      if (index == 0)
        return fail (error, link_id, "is not a question of the pre-consultation questionnaire");
      if (!answer_boolean (item, link_id, &yes, error))
        return FALSE;
      index--;
      if (yes)
        answers->red_flags[index / 64] |= G_GUINT64_CONSTANT (1) << (index % 64);
    }
  else
    return fail (error, link_id, "is not a question of the pre-consultation questionnaire");

  return TRUE;
}

gboolean
wz_triage_is_preconsult (JsonObject *response)
{
  const char *questionnaire;

  if (response == NULL)
    return FALSE;

  questionnaire = wz_json_get_string (response, "questionnaire");
  return g_strcmp0 (questionnaire, WZ_TRIAGE_QUESTIONNAIRE_URL) == 0 ||
         g_strcmp0 (questionnaire,
                    WZ_TRIAGE_QUESTIONNAIRE_URL "|" WZ_TRIAGE_QUESTIONNAIRE_VERSION) == 0;
}

static gboolean
read_response (WzTriage    *self,
               JsonObject  *response,
               Answers     *answers,
               GError     **error)
{
  const char *where = "QuestionnaireResponse";
  JsonNode *status = json_object_get_member (response, "status");
  JsonNode *items = json_object_get_member (response, "item");
  JsonArray *list;

  if (!wz_triage_is_preconsult (response))
    return fail (error, where, "questionnaire must be %s", WZ_TRIAGE_QUESTIONNAIRE_URL);
  if (!node_is_string (status) ||
      (strcmp (json_node_get_string (status), "completed") != 0 &&
       strcmp (json_node_get_string (status), "amended") != 0))
    return fail (error, where, "status must be completed (or amended)");
  if (items == NULL || !JSON_NODE_HOLDS_ARRAY (items))
    return fail (error, where, "item must be an array of answers");

  list = json_node_get_array (items);
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonNode *node = json_array_get_element (list, i);

      if (!JSON_NODE_HOLDS_OBJECT (node))
        return fail (error, "QuestionnaireResponse.item", "every item must be an object");
      if (!read_item (self, json_node_get_object (node), answers, error))
        return FALSE;
    }

  if (!(answers->answered[0] & (G_GUINT64_CONSTANT (1) << SLOT_COMPLAINT)))
    return fail (error, where, "the chief complaint (%s) is missing", WZ_TRIAGE_LINK_COMPLAINT);
  if (!(answers->answered[0] & (G_GUINT64_CONSTANT (1) << SLOT_DURATION)))
    return fail (error, where, "the duration (%s) is missing", WZ_TRIAGE_LINK_DURATION);

  return TRUE;
}

static void
add_match (GArray     *matches,
           const Rule *rule)
{
  WzTriageMatch match = {
    rule->id, rule->urgency, rule->red_flag, rule->reason.en, rule->reason.zh,
    rule->message.en, rule->message.zh, rule->source,
  };
  guint at = matches->len;

  /* Kept ordered by urgency, and by the order of the file within one level: a handful of
   * matches, so an insertion from the end is all it takes. */
  while (at > 0 && g_array_index (matches, WzTriageMatch, at - 1).urgency > match.urgency)
    at--;
  g_array_insert_val (matches, at, match);
}

WzTriageResult *
wz_triage_evaluate (WzTriage              *self,
                    JsonObject            *response,
                    const WzTriagePatient *patient,
                    GError               **error)
{
  g_autoptr(WzTriageResult) result = NULL;
  Answers answers = { { 0, }, };

  g_return_val_if_fail (WZ_IS_TRIAGE (self), NULL);
  g_return_val_if_fail (response != NULL, NULL);

  if (!read_response (self, response, &answers, error))
    return NULL;

  if (patient != NULL)
    {
      if (patient->on_date != NULL)
        answers.has_age = parse_date (patient->on_date, &answers.on);
      else
        {
          g_autoptr(GDateTime) now = g_date_time_new_now_local ();

          g_date_clear (&answers.on, 1);
          g_date_set_dmy (&answers.on, g_date_time_get_day_of_month (now),
                          g_date_time_get_month (now), g_date_time_get_year (now));
          answers.has_age = TRUE;
        }
      /* A partial or impossible birth date leaves the age unknown rather than guessed. */
      answers.has_age = answers.has_age && parse_date (patient->birth_date, &answers.birth) &&
                        g_date_compare (&answers.birth, &answers.on) <= 0;
      if (answers.has_age)
        compute_age (&answers);
      if (g_strcmp0 (patient->gender, "male") == 0)
        answers.sex = 1;
      else if (g_strcmp0 (patient->gender, "female") == 0)
        answers.sex = 2;
    }

  result = g_new0 (WzTriageResult, 1);
  result->rules = G_OBJECT (g_object_ref (self));
  result->matches = g_array_sized_new (FALSE, FALSE, sizeof (WzTriageMatch), 8);

  /* A "yes" counts even when applies_to would not have asked it: telling an adult who reports an
   * emergency to go to hospital is the safe mistake. */
  for (guint i = 0; i < self->red_flags->len; i++)
    {
      const Rule *rule = &g_array_index (self->red_flags, Rule, i);
      gboolean fired = (answers.red_flags[i / 64] >> (i % 64)) & 1;

      for (guint a = 0; !fired && a < rule->also->len; a++)
        fired = condition_matches (self, &g_array_index (rule->also, Condition, a), &answers);
      if (fired)
        add_match (result->matches, rule);
    }

  for (guint i = 0; i < self->rules->len; i++)
    {
      const Rule *rule = &g_array_index (self->rules, Rule, i);

      if (condition_matches (self, &rule->when, &answers))
        add_match (result->matches, rule);
    }

  result->urgency = result->matches->len > 0
                    ? MIN (self->default_urgency,
                           g_array_index (result->matches, WzTriageMatch, 0).urgency)
                    : self->default_urgency;
  /* Urgency 1 sends the patient to the emergency department, whichever rule set it. */
  result->red_flag = result->urgency == 1;

  return g_steal_pointer (&result);
}

void
wz_triage_result_free (WzTriageResult *result)
{
  if (result == NULL)
    return;

  g_clear_pointer (&result->matches, g_array_unref);
  g_clear_object (&result->rules);
  g_free (result);
}

char *
wz_triage_result_rule_ids (const WzTriageResult *result)
{
  GString *ids = g_string_new (NULL);

  for (guint i = 0; i < result->matches->len; i++)
    {
      if (i > 0)
        g_string_append_c (ids, ',');
      g_string_append (ids, g_array_index (result->matches, WzTriageMatch, i).id);
    }
  if (ids->len == 0)
    g_string_append (ids, "default");

  return g_string_free (ids, FALSE);
}

/* ---- Priorities and the Questionnaire resource ---------------------------------------------- */

static const char *const priority_codes[] = { NULL, "EM", "UR", "R", "EL" };

const char *
wz_triage_priority_code (guint urgency)
{
  return urgency >= 1 && urgency <= 4 ? priority_codes[urgency] : NULL;
}

guint
wz_triage_urgency_for_priority (const char *code)
{
  for (guint u = 1; u <= 4; u++)
    if (g_strcmp0 (code, priority_codes[u]) == 0)
      return u;
  return 0;
}

const char *
wz_triage_urgency_label (WzTriage   *self,
                         guint       urgency,
                         const char *lang)
{
  g_return_val_if_fail (WZ_IS_TRIAGE (self), NULL);

  if (urgency < 1 || urgency > 4)
    return NULL;
  return g_strcmp0 (lang, "zh") == 0 ? self->urgency_labels[urgency].zh
                                     : self->urgency_labels[urgency].en;
}

static void
add_member (JsonBuilder *b,
            const char  *name,
            const char  *value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, value);
}

/* "text" in Chinese, with the FHIR translation extension carrying the English. */
static void
add_text (JsonBuilder *b,
          const char  *name,
          const char  *zh,
          const char  *en)
{
  g_autofree char *shadow = g_strconcat ("_", name, NULL);

  add_member (b, name, zh);
  json_builder_set_member_name (b, shadow);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "extension");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  add_member (b, "url", "http://hl7.org/fhir/StructureDefinition/translation");
  json_builder_set_member_name (b, "extension");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  add_member (b, "url", "lang");
  add_member (b, "valueCode", "en");
  json_builder_end_object (b);
  json_builder_begin_object (b);
  add_member (b, "url", "content");
  add_member (b, "valueString", en);
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_end_object (b);
}

static void
begin_item (JsonBuilder *b,
            const char  *link_id,
            const char  *type,
            const char  *zh,
            const char  *en,
            gboolean     required)
{
  json_builder_begin_object (b);
  add_member (b, "linkId", link_id);
  add_text (b, "text", zh, en);
  add_member (b, "type", type);
  if (required)
    {
      json_builder_set_member_name (b, "required");
      json_builder_add_boolean_value (b, TRUE);
    }
}

static void
add_coding_option (JsonBuilder *b,
                   const char  *system,
                   JsonObject  *entry)
{
  JsonObject *label = json_object_get_object_member (entry, "label");

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "valueCoding");
  json_builder_begin_object (b);
  add_member (b, "system", system);
  add_member (b, "code", json_object_get_string_member (entry, "id"));
  add_text (b, "display", json_object_get_string_member (label, "zh"),
            json_object_get_string_member (label, "en"));
  json_builder_end_object (b);
  json_builder_end_object (b);
}

JsonNode *
wz_triage_build_questionnaire (WzTriage *self)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  JsonObject *root;
  JsonArray *durations;

  g_return_val_if_fail (WZ_IS_TRIAGE (self), NULL);

  root = json_node_get_object (self->root);
  durations = json_object_get_array_member (root, "duration_options");

  json_builder_begin_object (b);
  add_member (b, "resourceType", "Questionnaire");
  add_member (b, "url", WZ_TRIAGE_QUESTIONNAIRE_URL);
  json_builder_set_member_name (b, "identifier");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  add_member (b, "system", "https://wenzhen.example/fhir/Questionnaire");
  add_member (b, "value", "pre-consultation-" WZ_TRIAGE_QUESTIONNAIRE_VERSION);
  json_builder_end_object (b);
  json_builder_end_array (b);
  add_member (b, "version", WZ_TRIAGE_QUESTIONNAIRE_VERSION);
  add_member (b, "name", "PreConsultation");
  add_text (b, "title", "预问诊", "Pre-consultation");
  add_member (b, "status", "active");
  add_member (b, "language", "zh-CN");
  json_builder_set_member_name (b, "subjectType");
  json_builder_begin_array (b);
  json_builder_add_string_value (b, "Patient");
  json_builder_end_array (b);
  add_text (b, "description",
            "就诊前由患者填写。分诊规则公开透明（data/clinical/triage-rules.json），每条规则注明依据；"
            "结果仅辅助医生判断，医生可调整紧急程度。",
            "Filled in by the patient before the visit. The triage rules are public "
            "(data/clinical/triage-rules.json) and each names its source; the result supports the "
            "doctor, who may change the urgency.");

  json_builder_set_member_name (b, "item");
  json_builder_begin_array (b);

  begin_item (b, WZ_TRIAGE_LINK_COMPLAINT, "text", "您这次主要哪里不舒服？",
              "What is the main problem you would like to see the doctor about?", TRUE);
  json_builder_set_member_name (b, "maxLength");
  json_builder_add_int_value (b, WZ_TRIAGE_MAX_TEXT);
  json_builder_end_object (b);

  begin_item (b, WZ_TRIAGE_LINK_DURATION, "choice", "这个问题持续多久了？",
              "How long have you had this problem?", TRUE);
  json_builder_set_member_name (b, "answerOption");
  json_builder_begin_array (b);
  for (guint i = 0; i < json_array_get_length (durations); i++)
    add_coding_option (b, WZ_TRIAGE_DURATION_SYSTEM, json_array_get_object_element (durations, i));
  json_builder_end_array (b);
  json_builder_end_object (b);

  begin_item (b, WZ_TRIAGE_LINK_SYMPTOMS, "choice", "您有以下哪些症状？",
              "Which of these symptoms do you have?", FALSE);
  json_builder_set_member_name (b, "repeats");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_set_member_name (b, "answerOption");
  json_builder_begin_array (b);
  for (guint i = 0; i < self->symptoms->len; i++)
    add_coding_option (b, WZ_TRIAGE_SYMPTOM_SYSTEM, g_ptr_array_index (self->symptoms, i));
  json_builder_end_array (b);
  json_builder_end_object (b);

  begin_item (b, WZ_TRIAGE_LINK_PREGNANT, "boolean", "您目前是否怀孕？", "Are you pregnant?",
              FALSE);
  json_builder_end_object (b);

  for (guint m = 0; m < N_MEASUREMENTS; m++)
    {
      g_autofree char *link_id = NULL;
      JsonObject *label;

      if (!self->measurement_known[m])
        continue;
      link_id = g_strconcat (WZ_TRIAGE_LINK_MEASUREMENT, measurement_ids[m], NULL);
      label = json_object_get_object_member (self->measurements[m], "label");
      begin_item (b, link_id, m == M_SBP || m == M_DBP ? "integer" : "decimal",
                  json_object_get_string_member (label, "zh"),
                  json_object_get_string_member (label, "en"), FALSE);
      json_builder_end_object (b);
    }

  begin_item (b, WZ_TRIAGE_LINK_MEDICATIONS, "text", "您目前在用哪些药物（包括中药和保健品）？",
              "Which medicines are you taking now (including traditional Chinese medicine and "
              "supplements)?", FALSE);
  json_builder_end_object (b);
  begin_item (b, WZ_TRIAGE_LINK_MEDICATIONS_NONE, "boolean", "目前没有用药",
              "I am not taking any medicines", FALSE);
  json_builder_end_object (b);
  begin_item (b, WZ_TRIAGE_LINK_ALLERGIES, "text", "您对哪些药物或食物过敏？",
              "Which medicines or foods are you allergic to?", FALSE);
  json_builder_end_object (b);
  begin_item (b, WZ_TRIAGE_LINK_ALLERGIES_NONE, "boolean", "没有已知过敏",
              "I have no known allergies", FALSE);
  json_builder_end_object (b);

  for (guint i = 0; i < self->red_flags->len; i++)
    {
      const Rule *rule = &g_array_index (self->red_flags, Rule, i);
      g_autofree char *link_id = g_strconcat (WZ_TRIAGE_LINK_RED_FLAG, rule->id, NULL);

      begin_item (b, link_id, "boolean", rule->question.zh, rule->question.en, FALSE);
      json_builder_end_object (b);
    }

  json_builder_end_array (b);
  json_builder_end_object (b);

  return json_builder_get_root (b);
}
