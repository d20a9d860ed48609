/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "wz-allergy-badge.h"
#include "wz-encounter-actions.h"
#include "wz-fhir-json.h"
#include "wz-icd10-index.h"
#include "wz-visit-note-editor.h"

/* The record pane's logic without a display: the ICD-10 search, the stored note format, the
 * choice of the next patient and the allergy list. */

static void
on_loaded (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  gboolean *done = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_true (wz_icd10_index_load_finish (WZ_ICD10_INDEX (object), result, &error));
  g_assert_no_error (error);
  *done = TRUE;
}

static WzIcd10Index *
load_index (void)
{
  g_autofree char *path = wz_icd10_index_default_path ();
  WzIcd10Index *index = wz_icd10_index_new (path);
  gboolean done = FALSE;

  wz_icd10_index_load_async (index, NULL, on_loaded, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);

  return index;
}

static char *
first_code (WzIcd10Index *index,
            const char   *query)
{
  g_autoptr(GListModel) results = wz_icd10_index_search (index, query, 20);
  g_autoptr(WzIcd10Entry) first = NULL;

  if (g_list_model_get_n_items (results) == 0)
    return NULL;
  first = g_list_model_get_item (results, 0);

  return g_strdup (wz_icd10_entry_get_code (first));
}

static gboolean
results_contain (WzIcd10Index *index,
                 const char   *query,
                 const char   *code)
{
  g_autoptr(GListModel) results = wz_icd10_index_search (index, query, 50);

  for (guint i = 0; i < g_list_model_get_n_items (results); i++)
    {
      g_autoptr(WzIcd10Entry) entry = g_list_model_get_item (results, i);

      if (g_strcmp0 (wz_icd10_entry_get_code (entry), code) == 0)
        return TRUE;
    }

  return FALSE;
}

static void
test_icd10_search (void)
{
  g_autoptr(WzIcd10Index) index = load_index ();
  g_autoptr(GListModel) empty = NULL;
  char *code;

  g_assert_cmpuint (wz_icd10_index_get_n_codes (index), >, 300);

  /* By code: exact, any case, with or without the dot, and by prefix. */
  code = first_code (index, "I10");
  g_assert_cmpstr (code, ==, "I10");
  g_free (code);
  code = first_code (index, "e11.9");
  g_assert_cmpstr (code, ==, "E11.9");
  g_free (code);
  code = first_code (index, "J449");
  g_assert_cmpstr (code, ==, "J44.9");
  g_free (code);
  code = first_code (index, "G43");
  g_assert_true (g_str_has_prefix (code, "G43."));
  g_free (code);
  g_assert_true (results_contain (index, "G43", "G43.9"));
  g_assert_true (results_contain (index, "J44", "J44.1"));

  /* By the Chinese title, whole or in part. */
  code = first_code (index, "偏头痛");
  g_assert_cmpstr (code, ==, "G43.9");
  g_free (code);
  code = first_code (index, "原发性高血压");
  g_assert_cmpstr (code, ==, "I10");
  g_free (code);
  g_assert_true (results_contain (index, "哮喘", "J45.9"));

  /* By the pinyin initials of the Chinese title, as typed on a Latin keyboard. */
  code = first_code (index, "ptt");
  g_assert_cmpstr (code, ==, "G43.9");
  g_free (code);
  code = first_code (index, "YFXGXY");
  g_assert_cmpstr (code, ==, "I10");
  g_free (code);

  /* By English words, any case. */
  g_assert_true (results_contain (index, "hypertension", "I10"));
  g_assert_true (results_contain (index, "MIGRAINE", "G43.9"));
  g_assert_true (results_contain (index, "obstructive pulm", "J44.9"));

  /* Nothing for nothing, and nothing for nonsense. */
  empty = wz_icd10_index_search (index, "  ", 20);
  g_assert_cmpuint (g_list_model_get_n_items (empty), ==, 0);
  g_assert_null (first_code (index, "qqqzzz"));

  g_assert_nonnull (wz_icd10_index_lookup (index, "i10"));
  g_assert_null (wz_icd10_index_lookup (index, "Z99.99"));
}

static void
on_bad_loaded (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  GError **error = user_data;

  g_assert_false (wz_icd10_index_load_finish (WZ_ICD10_INDEX (object), result, error));
  g_assert_nonnull (*error);
}

static void
test_icd10_bad_file (void)
{
  g_autofree char *path = g_build_filename (g_get_tmp_dir (), "wz-test-icd10-XXXXXX", NULL);
  g_autoptr(WzIcd10Index) index = NULL;
  g_autoptr(GListModel) results = NULL;
  g_autoptr(GError) error = NULL;
  int fd = g_mkstemp (path);

  g_assert_cmpint (fd, >=, 0);
  close (fd);
  g_assert_true (g_file_set_contents (path, "code\ttitle_en\ttitle_zh\nI10 only a code\n", -1, NULL));

  index = wz_icd10_index_new (path);
  wz_icd10_index_load_async (index, NULL, on_bad_loaded, &error);
  while (error == NULL)
    g_main_context_iteration (NULL, TRUE);

  /* The message says which line is wrong; the editor shows it instead of an empty search. */
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "Line 2"));
  g_assert_false (wz_icd10_index_is_loaded (index));
  results = wz_icd10_index_search (index, "I10", 10);
  g_assert_cmpuint (g_list_model_get_n_items (results), ==, 0);
  g_unlink (path);
}

static void
test_note_markdown (void)
{
  const char *diagnoses[] = { "G43.9 Migraine, unspecified / 偏头痛", "R51 Headache / 头痛", NULL };
  g_autofree char *markdown = wz_visit_note_to_markdown ("头痛两天 Headache for two days",
                                                         "Left side.\n\nNo fever.", diagnoses,
                                                         "Rest; come back if worse.");
  g_autofree char *chief = NULL;
  g_autofree char *history = NULL;
  g_autofree char *advice = NULL;
  g_auto(GStrv) parsed = NULL;

  g_assert_nonnull (strstr (markdown, "## Chief complaint\n"));
  g_assert_nonnull (strstr (markdown, "## Diagnosis\n\n- G43.9 Migraine"));

  g_assert_true (wz_visit_note_from_markdown (markdown, &chief, &history, &parsed, &advice));
  g_assert_cmpstr (chief, ==, "头痛两天 Headache for two days");
  g_assert_cmpstr (history, ==, "Left side.\n\nNo fever.");
  g_assert_cmpstr (advice, ==, "Rest; come back if worse.");
  g_assert_cmpuint (g_strv_length (parsed), ==, 2);
  g_assert_cmpstr (parsed[1], ==, "R51 Headache / 头痛");

  g_clear_pointer (&chief, g_free);
  g_clear_pointer (&history, g_free);
  g_clear_pointer (&advice, g_free);
  g_clear_pointer (&parsed, g_strfreev);
  g_assert_false (wz_visit_note_from_markdown ("just text", &chief, &history, &parsed, &advice));
}

static JsonObject *
encounter (const char *status,
           const char *priority,
           const char *start)
{
  g_autofree char *text = NULL;
  g_autoptr(JsonNode) node = NULL;

  if (priority != NULL)
    text = g_strdup_printf ("{\"resourceType\":\"Encounter\",\"status\":\"%s\",\"period\":{\"start\":\"%s\"},"
                            "\"priority\":{\"coding\":[{\"system\":\"%s\",\"code\":\"%s\"}]}}",
                            status, start, WZ_ACT_PRIORITY_SYSTEM, priority);
  else
    text = g_strdup_printf ("{\"resourceType\":\"Encounter\",\"status\":\"%s\",\"period\":{\"start\":\"%s\"}}",
                            status, start);
  node = json_from_string (text, NULL);

  return json_object_ref (json_node_get_object (node));
}

static void
test_pick_next (void)
{
  g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  JsonObject *early_routine = encounter ("arrived", NULL, "2024-05-01T08:00:00+08:00");
  JsonObject *late_urgent = encounter ("triaged", "UR", "2024-05-01T09:30:00+08:00");
  JsonObject *earlier_urgent = encounter ("triaged", "UR", "2024-05-01T09:00:00+08:00");
  JsonObject *emergency_in_progress = encounter ("in-progress", "EM", "2024-05-01T07:00:00+08:00");
  JsonObject *booked = encounter ("planned", "EM", "2024-05-01T07:30:00+08:00");

  g_ptr_array_add (list, early_routine);
  g_ptr_array_add (list, late_urgent);
  g_ptr_array_add (list, emergency_in_progress);
  g_ptr_array_add (list, booked);

  /* Urgency first: the urgent one though the routine one waits longer; nobody already in a
   * consultation or not yet arrived. */
  g_assert_true (wz_encounter_pick_next (list) == late_urgent);

  /* Then the longest wait among the equally urgent. */
  g_ptr_array_add (list, earlier_urgent);
  g_assert_true (wz_encounter_pick_next (list) == earlier_urgent);

  g_assert_cmpuint (wz_encounter_urgency (early_routine), ==, 3);
  g_assert_cmpuint (wz_encounter_urgency (emergency_in_progress), ==, 1);
  g_assert_true (wz_encounter_can (early_routine, WZ_ENCOUNTER_START));
  g_assert_false (wz_encounter_can (early_routine, WZ_ENCOUNTER_FINISH));
  g_assert_true (wz_encounter_can (emergency_in_progress, WZ_ENCOUNTER_FINISH));
  g_assert_false (wz_encounter_can (emergency_in_progress, WZ_ENCOUNTER_NO_SHOW));
  g_assert_true (wz_encounter_can (booked, WZ_ENCOUNTER_NO_SHOW));

  g_ptr_array_set_size (list, 0);
  g_assert_null (wz_encounter_pick_next (list));
}

static void
test_allergy_names (void)
{
  const char *bundle =
    "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":["
    "{\"resource\":{\"resourceType\":\"AllergyIntolerance\",\"code\":{\"text\":\"青霉素 Penicillin\"},"
    "\"clinicalStatus\":{\"coding\":[{\"code\":\"active\"}]}}},"
    "{\"resource\":{\"resourceType\":\"AllergyIntolerance\",\"code\":{\"coding\":[{\"display\":\"Eggs\"}]}}},"
    "{\"resource\":{\"resourceType\":\"AllergyIntolerance\",\"code\":{\"text\":\"Latex\"},"
    "\"clinicalStatus\":{\"coding\":[{\"code\":\"resolved\"}]}}},"
    "{\"resource\":{\"resourceType\":\"AllergyIntolerance\",\"code\":{\"text\":\"Sulfa\"},"
    "\"verificationStatus\":{\"coding\":[{\"code\":\"entered-in-error\"}]}}}]}";
  g_autoptr(JsonNode) node = json_from_string (bundle, NULL);
  g_auto(GStrv) names = wz_allergy_names_from_bundle (node);
  g_autofree char *summary = wz_allergy_summary ((const char * const *) names);
  g_autoptr(JsonNode) not_bundle = json_from_string ("{\"resourceType\":\"Patient\"}", NULL);

  g_assert_cmpuint (g_strv_length (names), ==, 2);
  g_assert_cmpstr (names[0], ==, "青霉素 Penicillin");
  g_assert_cmpstr (names[1], ==, "Eggs");
  g_assert_cmpstr (summary, ==, "Allergies: 青霉素 Penicillin, Eggs");
  g_assert_null (wz_allergy_names_from_bundle (not_bundle));
  g_assert_null (wz_allergy_summary (NULL));
}

static void
test_draft_path (void)
{
  g_autofree char *path = wz_visit_note_draft_path ("abc123");
  g_autofree char *expected = g_build_filename (g_get_user_data_dir (), "wenzhen", "drafts",
                                                "abc123.json", NULL);

  g_assert_cmpstr (path, ==, expected);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/record/icd10-search", test_icd10_search);
  g_test_add_func ("/record/icd10-bad-file", test_icd10_bad_file);
  g_test_add_func ("/record/note-markdown", test_note_markdown);
  g_test_add_func ("/record/pick-next", test_pick_next);
  g_test_add_func ("/record/allergy-names", test_allergy_names);
  g_test_add_func ("/record/draft-path", test_draft_path);

  return g_test_run ();
}
