/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-prescreen"

#include "config.h"

#include "wz-prescreen.h"
#include "wz-json.h"

#include <string.h>

#include "wz-error.h"

const char *
wz_prescreen_decision_to_string (WzPrescreenDecision decision)
{
  switch (decision)
    {
    case WZ_PRESCREEN_OK:
      return "ok";
    case WZ_PRESCREEN_INCOMPLETE:
      return "incomplete";
    case WZ_PRESCREEN_PRECAUTION:
      return "precaution";
    case WZ_PRESCREEN_DEFER:
      return "defer";
    case WZ_PRESCREEN_CONTRAINDICATED:
    default:
      return "contraindicated";
    }
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
period_string (const WzPeriod *period,
               char           *buf,
               gsize           size)
{
  static const char *units[] = { "day", "week", "month", "year" };

  g_snprintf (buf, size, "%d %s", period->value, units[period->unit]);
}

static void
add_applies (JsonBuilder         *builder,
             const WzNipQuestion *question)
{
  char buf[32];

  if (question->sex == NULL && !question->has_min_age && !question->has_max_age)
    return;

  json_builder_set_member_name (builder, "extension");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  set_string (builder, "url", WZ_PRESCREEN_APPLIES_EXTENSION);
  json_builder_set_member_name (builder, "extension");
  json_builder_begin_array (builder);
  if (question->sex != NULL)
    {
      json_builder_begin_object (builder);
      set_string (builder, "url", "sex");
      set_string (builder, "valueCode", question->sex);
      json_builder_end_object (builder);
    }
  if (question->has_min_age)
    {
      period_string (&question->min_age, buf, sizeof buf);
      json_builder_begin_object (builder);
      set_string (builder, "url", "minAge");
      set_string (builder, "valueString", buf);
      json_builder_end_object (builder);
    }
  if (question->has_max_age)
    {
      period_string (&question->max_age, buf, sizeof buf);
      json_builder_begin_object (builder);
      set_string (builder, "url", "maxAge");
      set_string (builder, "valueString", buf);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
}

JsonNode *
wz_prescreen_questionnaire (WzNipSchedule *schedule,
                            const char    *lang)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  GPtrArray *questions = wz_nip_schedule_get_questions (schedule);
  GPtrArray *vaccines = wz_nip_schedule_get_vaccines (schedule);
  WzText title = { "Screening before vaccination", "接种前健康筛查" };
  WzText planned = { "Vaccines planned for this visit", "本次计划接种的疫苗" };
  WzText detail = { "What is the child allergic to, and what happened?",
                    "对什么过敏？出现过什么反应？" };

  json_builder_begin_object (builder);
  set_string (builder, "resourceType", "Questionnaire");
  set_string (builder, "url", WZ_PRESCREEN_QUESTIONNAIRE_URL);
  set_string (builder, "version", WZ_PRESCREEN_VERSION);
  set_string (builder, "name", "PreVaccinationScreening");
  wz_json_add_text (builder, "title", &title, lang);
  set_string (builder, "status", "active");
  json_builder_set_member_name (builder, "subjectType");
  json_builder_begin_array (builder);
  json_builder_add_string_value (builder, "Patient");
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "item");
  json_builder_begin_array (builder);

  json_builder_begin_object (builder);
  set_string (builder, "linkId", WZ_PRESCREEN_LINK_VACCINES);
  wz_json_add_text (builder, "text", &planned, lang);
  set_string (builder, "type", "choice");
  json_builder_set_member_name (builder, "repeats");
  json_builder_add_boolean_value (builder, TRUE);
  json_builder_set_member_name (builder, "answerOption");
  json_builder_begin_array (builder);
  for (guint i = 0; i < vaccines->len; i++)
    {
      const WzNipVaccine *vaccine = g_ptr_array_index (vaccines, i);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "valueCoding");
      json_builder_begin_object (builder);
      set_string (builder, "system", WZ_NIP_VACCINE_SYSTEM);
      set_string (builder, "code", vaccine->id);
      set_string (builder, "display", wz_text_get (&vaccine->name, lang));
      json_builder_end_object (builder);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  for (guint i = 0; i < questions->len; i++)
    {
      const WzNipQuestion *question = g_ptr_array_index (questions, i);

      json_builder_begin_object (builder);
      add_applies (builder, question);
      set_string (builder, "linkId", question->id);
      wz_json_add_text (builder, "text", &question->text, lang);
      set_string (builder, "type", "boolean");
      json_builder_set_member_name (builder, "required");
      json_builder_add_boolean_value (builder, question->sex == NULL && !question->has_min_age &&
                                               !question->has_max_age);
      json_builder_end_object (builder);

      if (strcmp (question->id, "q_component_allergy") == 0)
        {
          json_builder_begin_object (builder);
          set_string (builder, "linkId", WZ_PRESCREEN_LINK_ALLERGY_DETAIL);
          wz_json_add_text (builder, "text", &detail, lang);
          set_string (builder, "type", "string");
          json_builder_set_member_name (builder, "enableWhen");
          json_builder_begin_array (builder);
          json_builder_begin_object (builder);
          set_string (builder, "question", question->id);
          set_string (builder, "operator", "=");
          json_builder_set_member_name (builder, "answerBoolean");
          json_builder_add_boolean_value (builder, TRUE);
          json_builder_end_object (builder);
          json_builder_end_array (builder);
          json_builder_end_object (builder);
        }
    }

  json_builder_end_array (builder);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

gboolean
wz_prescreen_question_applies (const WzNipQuestion *question,
                               WzDay                birth,
                               const char          *gender,
                               WzDay                on)
{
  if (question->sex != NULL && g_strcmp0 (question->sex, gender) != 0)
    return FALSE;
  if (birth == WZ_DAY_NONE)
    return TRUE;
  if (question->has_min_age && on < wz_day_add (birth, &question->min_age))
    return FALSE;
  if (question->has_max_age && on >= wz_day_add (birth, &question->max_age))
    return FALSE;
  return TRUE;
}

static void
vaccine_clear (gpointer data)
{
  WzPrescreenVaccine *vaccine = data;

  g_clear_pointer (&vaccine->findings, g_ptr_array_unref);
  g_clear_pointer (&vaccine->unanswered, g_ptr_array_unref);
}

void
wz_prescreen_result_free (WzPrescreenResult *result)
{
  if (result == NULL)
    return;
  g_clear_pointer (&result->vaccines, g_array_unref);
  g_clear_pointer (&result->yes, g_ptr_array_unref);
  g_free (result->allergy_detail);
  g_free (result);
}

typedef struct
{
  WzNipSchedule *schedule;
  GHashTable    *answers;    /* question id → GINT_TO_POINTER (1 no, 2 yes) */
  GPtrArray     *planned;    /* vaccine ids, borrowed from the schedule */
  char          *detail;
} Answers;

static gboolean
read_items (Answers     *answers,
            JsonArray   *items,
            const char  *where,
            GError     **error)
{
  for (guint i = 0; i < json_array_get_length (items); i++)
    {
      g_autofree char *inner = g_strdup_printf ("%s[%u]", where, i);
      JsonNode *node = json_array_get_element (items, i);
      JsonObject *item;
      JsonNode *answer_node, *children;
      JsonArray *answer_array = NULL;
      const char *link_id;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        return g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "%s is not an object", inner), FALSE;
      item = json_node_get_object (node);
      if ((link_id = wz_json_get_string (item, "linkId")) == NULL)
        return g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "%s.linkId is missing", inner),
               FALSE;
      answer_node = json_object_get_member (item, "answer");
      if (answer_node != NULL)
        {
          if (!JSON_NODE_HOLDS_ARRAY (answer_node))
            return g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "%s.answer must be an array",
                                inner), FALSE;
          answer_array = json_node_get_array (answer_node);
        }

      if (strcmp (link_id, WZ_PRESCREEN_LINK_VACCINES) == 0)
        {
          for (guint a = 0; answer_array != NULL && a < json_array_get_length (answer_array); a++)
            {
              JsonNode *answer = json_array_get_element (answer_array, a);
              JsonNode *coding_node = JSON_NODE_HOLDS_OBJECT (answer)
                                      ? json_object_get_member (json_node_get_object (answer),
                                                                "valueCoding") : NULL;
              const char *code = coding_node && JSON_NODE_HOLDS_OBJECT (coding_node)
                                 ? wz_json_get_string (json_node_get_object (coding_node), "code")
                                 : NULL;
              const WzNipVaccine *vaccine = wz_nip_schedule_get_vaccine (answers->schedule, code);

              if (vaccine == NULL)
                return g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "%s.answer[%u] is not a "
                                    "programme vaccine code", inner, a), FALSE;
              if (!g_ptr_array_find (answers->planned, vaccine->id, NULL))
                g_ptr_array_add (answers->planned, vaccine->id);
            }
        }
      else if (strcmp (link_id, WZ_PRESCREEN_LINK_ALLERGY_DETAIL) == 0)
        {
          JsonNode *answer = answer_array && json_array_get_length (answer_array) > 0
                             ? json_array_get_element (answer_array, 0) : NULL;
          const char *text = answer && JSON_NODE_HOLDS_OBJECT (answer)
                             ? wz_json_get_string (json_node_get_object (answer), "valueString") : NULL;

          if (text != NULL)
            {
              g_free (answers->detail);
              answers->detail = g_utf8_make_valid (text, -1);
            }
        }
      else if (wz_nip_schedule_get_question (answers->schedule, link_id) != NULL)
        {
          JsonNode *answer, *value;

          if (answer_array == NULL || json_array_get_length (answer_array) == 0)
            continue;
          if (json_array_get_length (answer_array) > 1)
            return g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "%s (%s) has more than one "
                                "answer", inner, link_id), FALSE;
          answer = json_array_get_element (answer_array, 0);
          value = JSON_NODE_HOLDS_OBJECT (answer)
                  ? json_object_get_member (json_node_get_object (answer), "valueBoolean") : NULL;
          if (value == NULL || !JSON_NODE_HOLDS_VALUE (value) ||
              json_node_get_value_type (value) != G_TYPE_BOOLEAN)
            return g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "%s (%s) must be answered "
                                "with valueBoolean", inner, link_id), FALSE;
          if (g_hash_table_contains (answers->answers, link_id))
            return g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "%s (%s) is answered twice",
                                inner, link_id), FALSE;
          g_hash_table_insert (answers->answers, (gpointer) link_id,
                               GINT_TO_POINTER (json_node_get_boolean (value) ? 2 : 1));
        }
      else
        return g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "%s.linkId “%s” is not an item of "
                            "the screening questionnaire", inner, link_id), FALSE;

      if ((children = json_object_get_member (item, "item")) != NULL)
        {
          g_autofree char *child_where = g_strconcat (inner, ".item", NULL);

          if (!JSON_NODE_HOLDS_ARRAY (children) ||
              !read_items (answers, json_node_get_array (children), child_where, error))
            return FALSE;
        }
    }
  return TRUE;
}

WzPrescreenResult *
wz_prescreen_evaluate (WzNipSchedule      *schedule,
                       JsonObject         *response,
                       const char *const  *vaccines,
                       WzDay               birth,
                       const char         *gender,
                       WzDay               on,
                       GError            **error)
{
  g_autoptr(GHashTable) table = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) planned = g_ptr_array_new ();
  g_autoptr(WzPrescreenResult) result = g_new0 (WzPrescreenResult, 1);
  Answers answers = { schedule, table, planned, NULL };
  GPtrArray *all = wz_nip_schedule_get_vaccines (schedule);
  const char *questionnaire = wz_json_get_string (response, "questionnaire");
  JsonNode *items = json_object_get_member (response, "item");
  const char *status = wz_json_get_string (response, "status");

  g_return_val_if_fail (WZ_IS_NIP_SCHEDULE (schedule), NULL);

  if (g_strcmp0 (wz_json_get_string (response, "resourceType"), "QuestionnaireResponse") != 0 ||
      questionnaire == NULL ||
      !(strcmp (questionnaire, WZ_PRESCREEN_QUESTIONNAIRE_URL) == 0 ||
        g_str_has_prefix (questionnaire, WZ_PRESCREEN_QUESTIONNAIRE_URL "|")))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "Not a response to %s",
                   WZ_PRESCREEN_QUESTIONNAIRE_URL);
      return NULL;
    }
  if (g_strcmp0 (status, "completed") != 0 && g_strcmp0 (status, "amended") != 0)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "The screening answers are %s, not "
                   "completed", status ? status : "without a status");
      return NULL;
    }
  if (items != NULL && (!JSON_NODE_HOLDS_ARRAY (items) ||
                        !read_items (&answers, json_node_get_array (items),
                                     "QuestionnaireResponse.item", error)))
    {
      if (error != NULL && *error == NULL)
        g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INVALID,
                             "QuestionnaireResponse.item must be an array");
      g_free (answers.detail);
      return NULL;
    }

  result->allergy_detail = answers.detail;
  result->yes = g_ptr_array_new ();
  result->vaccines = g_array_new (FALSE, TRUE, sizeof (WzPrescreenVaccine));
  g_array_set_clear_func (result->vaccines, vaccine_clear);

  {
    GPtrArray *questions = wz_nip_schedule_get_questions (schedule);

    for (guint i = 0; i < questions->len; i++)
      {
        const WzNipQuestion *question = g_ptr_array_index (questions, i);

        if (GPOINTER_TO_INT (g_hash_table_lookup (table, question->id)) == 2)
          g_ptr_array_add (result->yes, (gpointer) question);
      }
  }

  for (guint i = 0; i < all->len; i++)
    {
      const WzNipVaccine *vaccine = g_ptr_array_index (all, i);
      WzPrescreenVaccine entry = { vaccine, WZ_PRESCREEN_OK, g_ptr_array_new (), g_ptr_array_new () };

      if (vaccines != NULL ? !g_strv_contains (vaccines, vaccine->id)
                           : planned->len > 0 && !g_ptr_array_find (planned, vaccine->id, NULL))
        {
          vaccine_clear (&entry);
          continue;
        }

      for (guint c = 0; c < vaccine->contraindications->len; c++)
        {
          const WzNipContraindication *contra = g_ptr_array_index (vaccine->contraindications, c);
          gboolean yes = FALSE;

          for (guint q = 0; contra->questions[q] != NULL; q++)
            {
              const WzNipQuestion *question = wz_nip_schedule_get_question (schedule,
                                                                            contra->questions[q]);
              gint answer = GPOINTER_TO_INT (g_hash_table_lookup (table, question->id));

              if (answer == 2)
                yes = TRUE;
              else if (answer == 0 && wz_prescreen_question_applies (question, birth, gender, on) &&
                       !g_ptr_array_find (entry.unanswered, question, NULL))
                g_ptr_array_add (entry.unanswered, (gpointer) question);
            }
          if (!yes)
            continue;

          g_ptr_array_add (entry.findings, (gpointer) contra);
          switch (contra->kind)
            {
            case WZ_NIP_CONTRAINDICATION:
              entry.decision = WZ_PRESCREEN_CONTRAINDICATED;
              break;
            case WZ_NIP_DEFER:
              entry.decision = MAX (entry.decision, WZ_PRESCREEN_DEFER);
              break;
            case WZ_NIP_PRECAUTION:
            default:
              entry.decision = MAX (entry.decision, WZ_PRESCREEN_PRECAUTION);
              break;
            }
        }
      if (entry.decision == WZ_PRESCREEN_OK && entry.unanswered->len > 0)
        entry.decision = WZ_PRESCREEN_INCOMPLETE;

      g_array_append_val (result->vaccines, entry);
    }

  return g_steal_pointer (&result);
}

JsonNode *
wz_prescreen_result_to_json (const WzPrescreenResult *result,
                             const char              *lang)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  static const char *kinds[] = { "contraindication", "precaution", "defer" };

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "vaccines");
  json_builder_begin_array (builder);
  for (guint i = 0; i < result->vaccines->len; i++)
    {
      const WzPrescreenVaccine *entry = &g_array_index (result->vaccines, WzPrescreenVaccine, i);

      json_builder_begin_object (builder);
      set_string (builder, "vaccine", entry->vaccine->id);
      wz_json_add_text (builder, "name", &entry->vaccine->name, lang);
      set_string (builder, "decision", wz_prescreen_decision_to_string (entry->decision));
      json_builder_set_member_name (builder, "findings");
      json_builder_begin_array (builder);
      for (guint f = 0; f < entry->findings->len; f++)
        {
          const WzNipContraindication *contra = g_ptr_array_index (entry->findings, f);

          json_builder_begin_object (builder);
          set_string (builder, "id", contra->id);
          set_string (builder, "kind", kinds[contra->kind]);
          wz_json_add_text (builder, "text", &contra->text, lang);
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
      json_builder_set_member_name (builder, "unanswered");
      json_builder_begin_array (builder);
      for (guint u = 0; u < entry->unanswered->len; u++)
        json_builder_add_string_value (builder,
                                       ((const WzNipQuestion *) g_ptr_array_index (entry->unanswered, u))->id);
      json_builder_end_array (builder);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "yes");
  json_builder_begin_array (builder);
  for (guint i = 0; i < result->yes->len; i++)
    json_builder_add_string_value (builder,
                                   ((const WzNipQuestion *) g_ptr_array_index (result->yes, i))->id);
  json_builder_end_array (builder);
  if (result->allergy_detail != NULL)
    set_string (builder, "allergyDetail", result->allergy_detail);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}
