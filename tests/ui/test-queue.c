/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <gtk/gtk.h>
#include <string.h>

#include "wz-queue-filter.h"
#include "wz-queue-item.h"
#include "wz-queue-model.h"
#include "wz-queue-view.h"

/* The worklist without a display: search keys and the pinyin matcher, the filter inside a
 * GtkFilterListModel (including the narrowing hints while typing), the sort orders, the model
 * applying Bundles and live updates with exact items-changed positions, and the WzQueueView the
 * app lists (sorted and filtered, while typing, while visits change, with a copy kept current
 * from its items-changed alone). */

/* ---------------------------------------------------------------------------------------- */
/* Matcher */

static gboolean
matches (const WzQueueKey *key,
         const char       *text)
{
  g_autoptr(WzQueueQuery) query = wz_queue_query_new (text);

  return wz_queue_query_matches (query, key);
}

static void
test_match_chinese_name (void)
{
  const char *ids[] = { "110105199001011234", NULL };
  const char *phones[] = { "+86 139 1234 5678", NULL };
  g_autoptr(WzQueueItem) item = wz_queue_item_new_for_values ("e1", "张伟", ids[0], phones[0],
                                                              WZ_QUEUE_STATUS_WAITING, 0, 0);
  const WzQueueKey *key = wz_queue_item_get_key (item);

  g_assert_nonnull (key);
  /* Pinyin initials and full pinyin, from the start, any case, spaces ignored. */
  g_assert_true (matches (key, "zw"));
  g_assert_true (matches (key, "ZW"));
  g_assert_true (matches (key, "z"));
  g_assert_true (matches (key, "zhang"));
  g_assert_true (matches (key, "zhangw"));
  g_assert_true (matches (key, "zhang wei"));
  g_assert_true (matches (key, "zhangwei"));
  g_assert_false (matches (key, "wz"));
  g_assert_false (matches (key, "zwx"));
  g_assert_false (matches (key, "zhangweii"));
  /* Full-width letters, as a Chinese input method may type them. */
  g_assert_true (matches (key, "ｚｗ"));
  /* Characters anywhere in the name. */
  g_assert_true (matches (key, "伟"));
  g_assert_true (matches (key, "张伟"));
  g_assert_false (matches (key, "李"));
  /* ID number: anywhere, from three characters on. */
  g_assert_true (matches (key, "19900101"));
  g_assert_true (matches (key, "110105"));
  g_assert_false (matches (key, "11"));
  g_assert_false (matches (key, "19900102"));
  /* Phone: digits anywhere, whatever the punctuation typed. */
  g_assert_true (matches (key, "5678"));
  g_assert_true (matches (key, "139 1234"));
  g_assert_true (matches (key, "+86 139"));
  g_assert_false (matches (key, "139 4321"));
  /* Nothing typed matches everyone. */
  g_assert_true (matches (key, ""));
  g_assert_true (matches (key, "   "));
}

static void
test_match_latin_name (void)
{
  g_autoptr(WzQueueItem) item = wz_queue_item_new_for_values ("e2", "Anna Müller", NULL, NULL,
                                                              WZ_QUEUE_STATUS_WAITING, 0, 0);
  const WzQueueKey *key = wz_queue_item_get_key (item);

  g_assert_true (matches (key, "müller"));
  g_assert_true (matches (key, "MÜLLER"));
  g_assert_true (matches (key, "nna"));
  g_assert_true (matches (key, "am"));
  g_assert_false (matches (key, "ma"));
  g_assert_false (matches (key, "zw"));
}

static void
test_match_surname_reading (void)
{
  /* 单 as a surname reads shan, not dan: initials follow the name reading. */
  g_autoptr(WzQueueItem) item = wz_queue_item_new_for_values ("e3", "单田芳", NULL, NULL,
                                                              WZ_QUEUE_STATUS_WAITING, 0, 0);

  g_assert_true (matches (wz_queue_item_get_key (item), "stf"));
  g_assert_true (matches (wz_queue_item_get_key (item), "shantian"));
  g_assert_false (matches (wz_queue_item_get_key (item), "dtf"));
}

/* ---------------------------------------------------------------------------------------- */
/* Filter in a GtkFilterListModel */

static const char *const families[] = { "张", "王", "李", "赵", "刘", "陈", "杨", "黄" };
static const char *const givens[] = { "伟", "芳", "秀英", "浩然", "洋", "静", "志强", "丽" };

static GListStore *
make_store (guint n)
{
  GListStore *store = g_list_store_new (WZ_TYPE_QUEUE_ITEM);
  g_autoptr(GRand) rand = g_rand_new_with_seed (42);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *id = g_strdup_printf ("e%u", i);
      g_autofree char *name = g_strconcat (families[g_rand_int_range (rand, 0, 8)],
                                           givens[g_rand_int_range (rand, 0, 8)], NULL);
      g_autofree char *id_number = g_strdup_printf ("1101051980%08u", g_rand_int_range (rand, 0, 99999999));
      g_autofree char *phone = g_strdup_printf ("+86 13%d %04d %04d", g_rand_int_range (rand, 0, 10),
                                                g_rand_int_range (rand, 0, 10000),
                                                g_rand_int_range (rand, 0, 10000));
      g_autoptr(WzQueueItem) item =
        wz_queue_item_new_for_values (id, name, id_number, phone,
                                      (WzQueueStatus) g_rand_int_range (rand, 0, WZ_QUEUE_N_STATUSES),
                                      (guint) g_rand_int_range (rand, 0, 5), (gint64) i * G_USEC_PER_SEC);

      g_list_store_append (store, item);
    }

  return store;
}

static int
compare_items_indirect (gconstpointer a,
                        gconstpointer b,
                        gpointer      user_data)
{
  GCompareDataFunc compare = user_data;

  return compare (*(WzQueueItem *const *) a, *(WzQueueItem *const *) b, NULL);
}

/* What the filter must show, counted the slow way. */
static guint
expected_count (GListModel    *store,
                const char    *text,
                WzQueueStatus  status)
{
  g_autoptr(WzQueueQuery) query = wz_queue_query_new (text);
  guint count = 0;

  for (guint i = 0; i < g_list_model_get_n_items (store); i++)
    {
      g_autoptr(WzQueueItem) item = g_list_model_get_item (store, i);

      if ((status == WZ_QUEUE_STATUS_ALL || wz_queue_item_get_status (item) == status)
          && wz_queue_query_matches (query, wz_queue_item_get_key (item)))
        count++;
    }

  return count;
}

static void
test_filter_typing (void)
{
  g_autoptr(GListStore) store = make_store (3000);
  g_autoptr(WzQueueFilter) filter = wz_queue_filter_new ();
  g_autoptr(GtkFilterListModel) filtered = NULL;
  /* Typing, deleting and retyping, across the pinyin, ID and phone kinds of comparison, so
   * every narrowing and widening hint the filter gives the list model is exercised. */
  const char *typed[] = { "z", "zh", "zha", "zhan", "zhang", "zhang", "zhan", "zh", "z", "",
                          "1", "11", "110", "1101", "110", "11", "", "13", "139", "1391",
                          "", "伟", "张伟", "张", "", "zw", "zwx", "zw", "", "lxy", "" };

  filtered = gtk_filter_list_model_new (g_object_ref (G_LIST_MODEL (store)),
                                        g_object_ref (GTK_FILTER (filter)));
  gtk_filter_list_model_set_incremental (filtered, FALSE);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (filtered)), ==, 3000);

  for (guint i = 0; i < G_N_ELEMENTS (typed); i++)
    {
      wz_queue_filter_set_search (filter, typed[i]);
      g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (filtered)), ==,
                        expected_count (G_LIST_MODEL (store), typed[i], WZ_QUEUE_STATUS_ALL));
    }

  /* Status and search together. */
  wz_queue_filter_set_search (filter, "zh");
  for (WzQueueStatus status = 0; status <= WZ_QUEUE_STATUS_ALL; status++)
    {
      wz_queue_filter_set_status (filter, status);
      g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (filtered)), ==,
                        expected_count (G_LIST_MODEL (store), "zh", status));
    }
  wz_queue_filter_set_search (filter, NULL);
  wz_queue_filter_set_status (filter, WZ_QUEUE_STATUS_WAITING);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (filtered)), ==,
                    expected_count (G_LIST_MODEL (store), "", WZ_QUEUE_STATUS_WAITING));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (filtered)), <, 3000);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (filtered)), >, 0);
}

static void
test_sort_orders (void)
{
  g_autoptr(GListStore) store = g_list_store_new (WZ_TYPE_QUEUE_ITEM);
  g_autoptr(GtkCustomSorter) sorter = gtk_custom_sorter_new (wz_queue_item_compare_urgency, NULL, NULL);
  g_autoptr(GtkSortListModel) sorted = NULL;
  /* encounter, urgency (0 = not triaged), arrival minute */
  const struct { const char *id; guint urgency; int minute; } visits[] = {
    { "a", 3, 1 }, { "b", 0, 2 }, { "c", 1, 9 }, { "d", 4, 0 }, { "e", 2, 5 }, { "f", 3, 0 },
  };
  const char *by_urgency = "cefabd";
  const char *by_arrival = "dfabec";

  for (guint i = 0; i < G_N_ELEMENTS (visits); i++)
    {
      g_autoptr(WzQueueItem) item =
        wz_queue_item_new_for_values (visits[i].id, "张伟", NULL, NULL, WZ_QUEUE_STATUS_WAITING,
                                      visits[i].urgency, (gint64) visits[i].minute * 60 * G_USEC_PER_SEC);
      g_list_store_append (store, item);
    }

  sorted = gtk_sort_list_model_new (g_object_ref (G_LIST_MODEL (store)),
                                    g_object_ref (GTK_SORTER (sorter)));
  for (guint i = 0; i < G_N_ELEMENTS (visits); i++)
    {
      g_autoptr(WzQueueItem) item = g_list_model_get_item (G_LIST_MODEL (sorted), i);

      g_assert_cmpint (wz_queue_item_get_encounter_id (item)[0], ==, by_urgency[i]);
    }

  gtk_custom_sorter_set_sort_func (sorter, wz_queue_item_compare_arrival, NULL, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (visits); i++)
    {
      g_autoptr(WzQueueItem) item = g_list_model_get_item (G_LIST_MODEL (sorted), i);

      g_assert_cmpint (wz_queue_item_get_encounter_id (item)[0], ==, by_arrival[i]);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Model */

#define DOCTOR "Practitioner/doc"

static char *
encounter_json (const char *id,
                guint       version,
                const char *status,
                const char *patient,
                const char *doctor,
                const char *start,
                const char *priority)
{
  g_autofree char *priority_json = NULL;

  if (priority != NULL)
    priority_json = g_strdup_printf (",\"priority\":{\"coding\":[{\"system\":"
                                     "\"http://terminology.hl7.org/CodeSystem/v3-ActPriority\","
                                     "\"code\":\"%s\"}]}", priority);

  return g_strdup_printf ("{\"resource\":{\"resourceType\":\"Encounter\",\"id\":\"%s\","
                          "\"meta\":{\"versionId\":\"%u\",\"lastUpdated\":\"2030-01-01T08:00:00.000Z\"},"
                          "\"status\":\"%s\",\"class\":{\"code\":\"VR\"},"
                          "\"subject\":{\"reference\":\"Patient/%s\"},"
                          "\"participant\":[{\"individual\":{\"reference\":\"%s\"}}],"
                          "\"period\":{\"start\":\"%s\"},\"reasonCode\":[{\"text\":\"咳嗽\"}]%s}}",
                          id, version, status, patient, doctor, start,
                          priority_json != NULL ? priority_json : "");
}

static char *
patient_json (const char *id,
              const char *family,
              const char *given)
{
  return g_strdup_printf ("{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"%s\","
                          "\"name\":[{\"family\":\"%s\",\"given\":[\"%s\"]}],"
                          "\"gender\":\"female\",\"birthDate\":\"1980-05-01\","
                          "\"telecom\":[{\"system\":\"phone\",\"value\":\"13900001111\"}]}}",
                          id, family, given);
}

static JsonNode *
bundle (const char *first,
        ...)
{
  g_autoptr(GString) text = g_string_new ("{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":[");
  va_list args;

  va_start (args, first);
  for (const char *entry = first; entry != NULL; entry = va_arg (args, const char *))
    {
      if (text->str[text->len - 1] != '[')
        g_string_append_c (text, ',');
      g_string_append (text, entry);
    }
  va_end (args);
  g_string_append (text, "]}");

  return json_from_string (text->str, NULL);
}

typedef struct
{
  guint position, removed, added, calls;
} Change;

static void
on_items_changed (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  Change     *change)
{
  change->position = position;
  change->removed = removed;
  change->added = added;
  change->calls++;
}

static void
test_model_bundle_and_updates (void)
{
  g_autoptr(WzQueueModel) model = wz_queue_model_new (NULL);
  g_autoptr(GDateTime) day = g_date_time_new_utc (2030, 1, 1, 10, 0, 0);
  g_autoptr(JsonNode) load = NULL;
  g_autoptr(JsonNode) update = NULL;
  g_autoptr(JsonNode) stale = NULL;
  g_autoptr(JsonNode) leave = NULL;
  g_autoptr(WzQueueItem) second = NULL;
  g_autofree char *e1 = encounter_json ("e1", 1, "arrived", "p1", DOCTOR, "2030-01-01T08:00:00Z", "UR");
  g_autofree char *e2 = encounter_json ("e2", 1, "in-progress", "p2", DOCTOR, "2030-01-01T08:30:00Z", NULL);
  g_autofree char *e3 = encounter_json ("e3", 1, "finished", "p1", DOCTOR, "2030-01-01T07:00:00Z", "EM");
  g_autofree char *planned = encounter_json ("e4", 1, "planned", "p2", DOCTOR, "2030-01-01T11:00:00Z", NULL);
  g_autofree char *yesterday = encounter_json ("e5", 1, "arrived", "p2", DOCTOR, "2029-12-31T09:00:00Z", NULL);
  g_autofree char *other = encounter_json ("e6", 1, "arrived", "p2", "Practitioner/x", "2030-01-01T09:00:00Z", NULL);
  g_autofree char *no_patient = encounter_json ("e7", 1, "arrived", "p9", DOCTOR, "2030-01-01T09:10:00Z", NULL);
  g_autofree char *p1 = patient_json ("p1", "张", "伟");
  g_autofree char *p2 = patient_json ("p2", "王", "芳");
  g_autofree char *e2_v2 = encounter_json ("e2", 2, "finished", "p2", DOCTOR, "2030-01-01T08:30:00Z", NULL);
  g_autofree char *e2_v1 = encounter_json ("e2", 1, "in-progress", "p2", DOCTOR, "2030-01-01T08:30:00Z", NULL);
  g_autofree char *e1_v2 = encounter_json ("e1", 2, "cancelled", "p1", DOCTOR, "2030-01-01T08:00:00Z", NULL);
  Change change = { 0 };
  guint position;

  wz_queue_model_set_context (model, DOCTOR, day);
  g_signal_connect (model, "items-changed", G_CALLBACK (on_items_changed), &change);

  /* Only today's visits of this doctor that are waiting, in consultation or finished, and
   * only with their patient known. */
  load = bundle (e1, e2, e3, planned, yesterday, other, no_patient, p1, p2, NULL);
  wz_queue_model_apply_bundle (model, load, FALSE);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, 3);
  g_assert_cmpuint (change.calls, ==, 1);
  g_assert_cmpuint (wz_queue_model_get_count (model, WZ_QUEUE_STATUS_WAITING), ==, 1);
  g_assert_cmpuint (wz_queue_model_get_count (model, WZ_QUEUE_STATUS_IN_CONSULTATION), ==, 1);
  g_assert_cmpuint (wz_queue_model_get_count (model, WZ_QUEUE_STATUS_FINISHED), ==, 1);
  g_assert_cmpuint (wz_queue_model_get_count (model, WZ_QUEUE_STATUS_ALL), ==, 3);
  g_assert_null (wz_queue_model_find (model, "e4", NULL));
  g_assert_null (wz_queue_model_find (model, "e7", NULL));

  g_assert_cmpstr (wz_queue_item_get_name (wz_queue_model_find (model, "e1", NULL)), ==, "张伟");
  g_assert_cmpuint (wz_queue_item_get_urgency (wz_queue_model_find (model, "e1", NULL)), ==, 2);
  g_assert_cmpuint (wz_queue_item_get_urgency (wz_queue_model_find (model, "e3", NULL)), ==, 1);
  g_assert_cmpstr (wz_queue_item_get_reason (wz_queue_model_find (model, "e1", NULL)), ==, "咳嗽");
  g_assert_true (g_str_has_prefix (wz_queue_item_get_details (wz_queue_model_find (model, "e1", NULL)),
                                   "Female · "));

  /* A status change replaces exactly that row, and the counts follow. */
  second = g_object_ref (wz_queue_model_find (model, "e2", &position));
  change = (Change) { 0 };
  update = bundle (e2_v2, NULL);
  wz_queue_model_apply_bundle (model, update, TRUE);
  g_assert_cmpuint (change.calls, ==, 1);
  g_assert_cmpuint (change.position, ==, position);
  g_assert_cmpuint (change.removed, ==, 1);
  g_assert_cmpuint (change.added, ==, 1);
  g_assert_true (wz_queue_model_find (model, "e2", NULL) == second);
  g_assert_cmpint (wz_queue_item_get_status (second), ==, WZ_QUEUE_STATUS_FINISHED);
  g_assert_cmpuint (wz_queue_model_get_count (model, WZ_QUEUE_STATUS_IN_CONSULTATION), ==, 0);
  g_assert_cmpuint (wz_queue_model_get_count (model, WZ_QUEUE_STATUS_FINISHED), ==, 2);

  /* An older version arriving late changes nothing. */
  change = (Change) { 0 };
  stale = bundle (e2_v1, NULL);
  wz_queue_model_apply_bundle (model, stale, TRUE);
  g_assert_cmpuint (change.calls, ==, 0);
  g_assert_cmpint (wz_queue_item_get_status (second), ==, WZ_QUEUE_STATUS_FINISHED);

  /* A cancelled visit leaves the queue: one row removed at its position. */
  wz_queue_model_find (model, "e1", &position);
  change = (Change) { 0 };
  leave = bundle (e1_v2, NULL);
  wz_queue_model_apply_bundle (model, leave, TRUE);
  g_assert_cmpuint (change.calls, ==, 1);
  g_assert_cmpuint (change.position, ==, position);
  g_assert_cmpuint (change.removed, ==, 1);
  g_assert_cmpuint (change.added, ==, 0);
  g_assert_null (wz_queue_model_find (model, "e1", NULL));
  g_assert_cmpuint (wz_queue_model_get_count (model, WZ_QUEUE_STATUS_WAITING), ==, 0);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, 2);
}

/* Many visits, several per patient, most of them leaving again: every visit that stays is found
 * by its id, none that left is, and a patient's new name reaches each of their visits. */
static void
test_model_indexes (void)
{
  g_autoptr(WzQueueModel) model = wz_queue_model_new (NULL);
  g_autoptr(GDateTime) day = g_date_time_new_utc (2030, 1, 1, 10, 0, 0);
  g_autoptr(GString) text = g_string_new ("{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":[");
  g_autoptr(GString) leave = g_string_new ("{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":[");
  g_autoptr(JsonNode) load = NULL;
  g_autoptr(JsonNode) leaving = NULL;
  g_autoptr(JsonNode) renamed = NULL;
  g_autofree char *p7 = NULL;
  const guint n = 1200, per_patient = 4;

  wz_queue_model_set_context (model, DOCTOR, day);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *id = g_strdup_printf ("v%u", i);
      g_autofree char *patient = g_strdup_printf ("p%u", i / per_patient);
      g_autofree char *start = g_strdup_printf ("2030-01-01T%02u:%02u:00Z", 6 + i % 12, i % 60);
      g_autofree char *encounter = encounter_json (id, 1, "arrived", patient, DOCTOR, start, NULL);

      g_string_append_printf (text, "%s%s", i > 0 ? "," : "", encounter);
      if (i % per_patient == 0)
        {
          g_autofree char *resource = patient_json (patient, "张", "伟");

          g_string_append_printf (text, ",%s", resource);
        }
      if (i % 3 != 0)
        {
          g_autofree char *cancelled = encounter_json (id, 2, "cancelled", patient, DOCTOR, start, NULL);

          g_string_append_printf (leave, "%s%s", leave->str[leave->len - 1] != '[' ? "," : "", cancelled);
        }
    }
  g_string_append (text, "]}");
  g_string_append (leave, "]}");
  load = json_from_string (text->str, NULL);
  leaving = json_from_string (leave->str, NULL);

  wz_queue_model_apply_bundle (model, load, FALSE);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, n);
  wz_queue_model_apply_bundle (model, leaving, TRUE);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, n / 3);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *id = g_strdup_printf ("v%u", i);
      guint position = G_MAXUINT;
      WzQueueItem *item = wz_queue_model_find (model, id, &position);

      if (i % 3 != 0)
        {
          g_assert_null (item);
          continue;
        }
      g_assert_nonnull (item);
      g_assert_cmpstr (wz_queue_item_get_encounter_id (item), ==, id);
      {
        g_autoptr(WzQueueItem) at_position = g_list_model_get_item (G_LIST_MODEL (model), position);

        g_assert_true (at_position == item);
      }
    }

  /* Patient p7 has visits v28 to v31, of which v30 stayed. */
  p7 = patient_json ("p7", "王", "芳");
  renamed = bundle (p7, NULL);
  wz_queue_model_apply_bundle (model, renamed, TRUE);
  g_assert_cmpstr (wz_queue_item_get_name (wz_queue_model_find (model, "v30", NULL)), ==, "王芳");
  g_assert_cmpstr (wz_queue_item_get_name (wz_queue_model_find (model, "v27", NULL)), ==, "张伟");
  g_assert_cmpstr (wz_queue_item_get_name (wz_queue_model_find (model, "v33", NULL)), ==, "张伟");
  g_assert_nonnull (wz_queue_model_find (model, "v30", NULL));
}

static void
on_item_added (WzQueueModel *model,
               WzQueueItem  *item,
               GPtrArray    *added)
{
  g_ptr_array_add (added, g_strdup (wz_queue_item_get_encounter_id (item)));
}

static void
test_model_live_addition (void)
{
  g_autoptr(WzQueueModel) model = wz_queue_model_new (NULL);
  g_autoptr(GDateTime) day = g_date_time_new_utc (2030, 1, 1, 10, 0, 0);
  g_autoptr(GPtrArray) added = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *e1 = encounter_json ("e1", 1, "arrived", "p1", DOCTOR, "2030-01-01T08:00:00Z", NULL);
  g_autofree char *e2 = encounter_json ("e2", 1, "triaged", "p2", DOCTOR, "2030-01-01T09:00:00Z", "EM");
  g_autofree char *p1 = patient_json ("p1", "张", "伟");
  g_autofree char *p2 = patient_json ("p2", "王", "芳");
  g_autoptr(JsonNode) load = bundle (e1, p1, NULL);
  g_autoptr(JsonNode) push = bundle (e2, p2, NULL);
  Change change = { 0 };

  wz_queue_model_set_context (model, DOCTOR, day);
  g_signal_connect (model, "item-added", G_CALLBACK (on_item_added), added);

  /* A load is not news; a pushed visit is, and is appended in one change. */
  wz_queue_model_apply_bundle (model, load, FALSE);
  g_assert_cmpuint (added->len, ==, 0);
  g_signal_connect (model, "items-changed", G_CALLBACK (on_items_changed), &change);
  wz_queue_model_apply_bundle (model, push, TRUE);
  g_assert_cmpuint (added->len, ==, 1);
  g_assert_cmpstr (added->pdata[0], ==, "e2");
  g_assert_cmpuint (change.position, ==, 1);
  g_assert_cmpuint (change.removed, ==, 0);
  g_assert_cmpuint (change.added, ==, 1);
  g_assert_cmpint (wz_queue_item_get_status (wz_queue_model_find (model, "e2", NULL)), ==,
                   WZ_QUEUE_STATUS_WAITING);
  g_assert_cmpuint (wz_queue_model_get_count (model, WZ_QUEUE_STATUS_WAITING), ==, 2);
}

/* ---------------------------------------------------------------------------------------- */
/* View */

/* A list kept current only from the view's items-changed, as a list view keeps its rows: it
 * must always equal the view, or the announced positions were wrong. */
typedef struct
{
  GPtrArray *items;
  guint      calls;
} Mirror;

static void
on_view_items_changed (GListModel *model,
                       guint       position,
                       guint       removed,
                       guint       added,
                       Mirror     *mirror)
{
  g_assert_cmpuint (position + removed, <=, mirror->items->len);
  g_ptr_array_remove_range (mirror->items, position, removed);
  for (guint i = 0; i < added; i++)
    g_ptr_array_insert (mirror->items, (int) (position + i), g_list_model_get_item (model, position + i));
  g_assert_cmpuint (mirror->items->len, ==, g_list_model_get_n_items (model));
  mirror->calls++;
}

static void
mirror_init (Mirror     *mirror,
             GListModel *view)
{
  mirror->items = g_ptr_array_new_with_free_func (g_object_unref);
  mirror->calls = 0;
  for (guint i = 0; i < g_list_model_get_n_items (view); i++)
    g_ptr_array_add (mirror->items, g_list_model_get_item (view, i));
  g_signal_connect (view, "items-changed", G_CALLBACK (on_view_items_changed), mirror);
}

static void
mirror_clear (Mirror     *mirror,
              GListModel *view)
{
  g_signal_handlers_disconnect_by_data (view, mirror);
  g_clear_pointer (&mirror->items, g_ptr_array_unref);
}

/* What the view must show, worked out the slow way: every visit of the model that the search
 * and the status let through, in the sort order. */
static void
assert_view_shows (WzQueueView   *view,
                   Mirror        *mirror,
                   const char    *text,
                   WzQueueStatus  status,
                   GCompareDataFunc compare)
{
  GListModel *model = G_LIST_MODEL (wz_queue_view_get_model (view));
  g_autoptr(WzQueueQuery) query = wz_queue_query_new (text);
  g_autoptr(GPtrArray) expected = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(WzQueueItem) item = g_list_model_get_item (model, i);

      if ((status == WZ_QUEUE_STATUS_ALL || wz_queue_item_get_status (item) == status)
          && wz_queue_query_matches (query, wz_queue_item_get_key (item)))
        g_ptr_array_add (expected, g_object_ref (item));
    }
  g_ptr_array_sort_with_data (expected, compare_items_indirect, compare);

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (view)), ==, expected->len);
  g_assert_cmpuint (mirror->items->len, ==, expected->len);
  for (guint i = 0; i < expected->len; i++)
    {
      g_autoptr(WzQueueItem) shown = g_list_model_get_item (G_LIST_MODEL (view), i);

      g_assert_true (shown == expected->pdata[i]);
      g_assert_true (mirror->items->pdata[i] == expected->pdata[i]);
      g_assert_cmpuint (wz_queue_view_find (view, shown), ==, i);
    }
}

static void
test_view_typing (void)
{
  g_autoptr(WzQueueModel) model = wz_queue_model_new (NULL);
  g_autoptr(GListStore) store = make_store (3000);
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GtkCustomSorter) sorter = gtk_custom_sorter_new (wz_queue_item_compare_urgency, NULL, NULL);
  g_autoptr(WzQueueFilter) filter = wz_queue_filter_new ();
  g_autoptr(WzQueueView) view = NULL;
  Mirror mirror;
  /* Narrowing, widening back to searches typed before, searches of another kind, the empty
   * box, and searches that find nobody. */
  const char *typed[] = { "z", "zh", "zha", "zhan", "zhang", "zhangw", "zhang", "zhan", "zh", "z",
                          "", "zw", "zwx", "zw", "z", "", "1", "11", "110", "1101", "110", "11",
                          "", "13", "139", "1391", "139", "", "伟", "张伟", "张", "", "lxy", "lx",
                          "qqq", "", "zh", "" };

  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (store)); i++)
    g_ptr_array_add (items, g_list_model_get_item (G_LIST_MODEL (store), i));
  wz_queue_model_add_items (model, items);

  view = wz_queue_view_new (model, filter, GTK_SORTER (sorter));
  mirror_init (&mirror, G_LIST_MODEL (view));
  assert_view_shows (view, &mirror, "", WZ_QUEUE_STATUS_ALL, wz_queue_item_compare_urgency);

  for (guint i = 0; i < G_N_ELEMENTS (typed); i++)
    {
      wz_queue_filter_set_search (filter, typed[i]);
      assert_view_shows (view, &mirror, typed[i], WZ_QUEUE_STATUS_ALL, wz_queue_item_compare_urgency);
    }

  /* Status and search together, each status with its own count. */
  wz_queue_filter_set_search (filter, "zh");
  for (WzQueueStatus status = 0; status <= WZ_QUEUE_STATUS_ALL; status++)
    {
      wz_queue_filter_set_status (filter, status);
      assert_view_shows (view, &mirror, "zh", status, wz_queue_item_compare_urgency);
    }
  wz_queue_filter_set_search (filter, NULL);
  for (WzQueueStatus status = 0; status < WZ_QUEUE_N_STATUSES; status++)
    {
      wz_queue_filter_set_status (filter, status);
      assert_view_shows (view, &mirror, "", status, wz_queue_item_compare_urgency);
      g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (view)), ==,
                        wz_queue_model_get_count (model, status));
      g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (view)), >, 0);
    }

  /* The other order, with a search and a status in place. */
  wz_queue_filter_set_status (filter, WZ_QUEUE_STATUS_WAITING);
  wz_queue_filter_set_search (filter, "w");
  gtk_custom_sorter_set_sort_func (sorter, wz_queue_item_compare_arrival, NULL, NULL);
  assert_view_shows (view, &mirror, "w", WZ_QUEUE_STATUS_WAITING, wz_queue_item_compare_arrival);
  wz_queue_filter_set_status (filter, WZ_QUEUE_STATUS_ALL);
  wz_queue_filter_set_search (filter, "");
  assert_view_shows (view, &mirror, "", WZ_QUEUE_STATUS_ALL, wz_queue_item_compare_arrival);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (view)), ==, 3000);

  mirror_clear (&mirror, G_LIST_MODEL (view));
}

static void
test_view_live (void)
{
  g_autoptr(WzQueueModel) model = wz_queue_model_new (NULL);
  g_autoptr(GDateTime) day = g_date_time_new_utc (2030, 1, 1, 10, 0, 0);
  g_autoptr(GtkCustomSorter) sorter = gtk_custom_sorter_new (wz_queue_item_compare_urgency, NULL, NULL);
  g_autoptr(WzQueueFilter) filter = wz_queue_filter_new ();
  g_autoptr(WzQueueView) view = NULL;
  g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(JsonNode) load = NULL;
  g_autoptr(GString) text = g_string_new ("{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":[");
  static const char *const family[] = { "张", "王", "赵", "周" };
  static const char *const given[] = { "伟", "芳", "华", "平", "磊" };
  static const char *const status[] = { "arrived", "in-progress", "finished", "triaged" };
  static const char *const priority[] = { NULL, "EM", "UR", "R", "EL" };
  Mirror mirror;
  guint shown_before;

  wz_queue_model_set_context (model, DOCTOR, day);

  /* Forty visits of today: several 张 (zhang) and 周 (zhou) waiting and not. */
  for (guint i = 0; i < 40; i++)
    {
      g_autofree char *id = g_strdup_printf ("e%02u", i);
      g_autofree char *patient = g_strdup_printf ("p%02u", i);
      g_autofree char *start = g_strdup_printf ("2030-01-01T%02u:%02u:00Z", 6 + i / 12, (i * 5) % 60);

      g_ptr_array_add (entries, encounter_json (id, 1, status[i % 4], patient, DOCTOR, start,
                                                priority[i % 5]));
      g_ptr_array_add (entries, patient_json (patient, family[i % 4], given[i % 5]));
    }
  for (guint i = 0; i < entries->len; i++)
    g_string_append_printf (text, "%s%s", i > 0 ? "," : "", (char *) entries->pdata[i]);
  g_string_append (text, "]}");
  load = json_from_string (text->str, NULL);

  view = wz_queue_view_new (model, filter, GTK_SORTER (sorter));
  mirror_init (&mirror, G_LIST_MODEL (view));
  wz_queue_model_apply_bundle (model, load, FALSE);
  assert_view_shows (view, &mirror, "", WZ_QUEUE_STATUS_ALL, wz_queue_item_compare_urgency);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (view)), ==, 40);

  /* Searching for the waiting zh… patients, typed letter by letter. */
  wz_queue_filter_set_status (filter, WZ_QUEUE_STATUS_WAITING);
  wz_queue_filter_set_search (filter, "z");
  assert_view_shows (view, &mirror, "z", WZ_QUEUE_STATUS_WAITING, wz_queue_item_compare_urgency);
  wz_queue_filter_set_search (filter, "zh");
  assert_view_shows (view, &mirror, "zh", WZ_QUEUE_STATUS_WAITING, wz_queue_item_compare_urgency);
  shown_before = g_list_model_get_n_items (G_LIST_MODEL (view));
  g_assert_cmpuint (shown_before, >, 2);

  /* A new waiting 张 arrives (the first of the day, urgent): shown, in its place among the urgent. */
  {
    g_autofree char *e = encounter_json ("n1", 1, "arrived", "q1", DOCTOR, "2030-01-01T05:00:00Z", "UR");
    g_autofree char *p = patient_json ("q1", "张", "新");
    g_autoptr(JsonNode) push = bundle (e, p, NULL);
    g_autoptr(WzQueueItem) item = NULL;

    mirror.calls = 0;
    wz_queue_model_apply_bundle (model, push, TRUE);
    assert_view_shows (view, &mirror, "zh", WZ_QUEUE_STATUS_WAITING, wz_queue_item_compare_urgency);
    g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (view)), ==, shown_before + 1);
    g_assert_cmpuint (mirror.calls, ==, 1);
    item = g_object_ref (wz_queue_model_find (model, "n1", NULL));
    g_assert_cmpuint (wz_queue_view_find (view, item), !=, GTK_INVALID_LIST_POSITION);
  }

  /* A new 王 (wang) arrives: not found by “zh”, so nothing shown changes. */
  {
    g_autofree char *e = encounter_json ("n2", 1, "arrived", "q2", DOCTOR, "2030-01-01T09:58:00Z", "EM");
    g_autofree char *p = patient_json ("q2", "王", "新");
    g_autoptr(JsonNode) push = bundle (e, p, NULL);

    mirror.calls = 0;
    wz_queue_model_apply_bundle (model, push, TRUE);
    assert_view_shows (view, &mirror, "zh", WZ_QUEUE_STATUS_WAITING, wz_queue_item_compare_urgency);
    g_assert_cmpuint (mirror.calls, ==, 0);
    g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, 42);
  }

  /* The new 张’s urgency goes up to emergency: the first to come of them, the row moves to the top. */
  {
    g_autofree char *e = encounter_json ("n1", 2, "arrived", "q1", DOCTOR, "2030-01-01T05:00:00Z", "EM");
    g_autoptr(JsonNode) push = bundle (e, NULL);
    g_autoptr(WzQueueItem) first = NULL;

    wz_queue_model_apply_bundle (model, push, TRUE);
    assert_view_shows (view, &mirror, "zh", WZ_QUEUE_STATUS_WAITING, wz_queue_item_compare_urgency);
    first = g_list_model_get_item (G_LIST_MODEL (view), 0);
    g_assert_cmpstr (wz_queue_item_get_encounter_id (first), ==, "n1");
  }

  /* A waiting 张 starts the consultation: no longer waiting, gone from the rows shown, and the
   * counts per status follow. */
  {
    g_autoptr(WzQueueItem) first = g_list_model_get_item (G_LIST_MODEL (view), 0);
    g_autofree char *e = encounter_json ("n1", 3, "in-progress", "q1", DOCTOR, "2030-01-01T05:00:00Z", "EM");
    g_autoptr(JsonNode) push = bundle (e, NULL);
    guint waiting = wz_queue_model_get_count (model, WZ_QUEUE_STATUS_WAITING);

    wz_queue_model_apply_bundle (model, push, TRUE);
    assert_view_shows (view, &mirror, "zh", WZ_QUEUE_STATUS_WAITING, wz_queue_item_compare_urgency);
    g_assert_cmpuint (wz_queue_view_find (view, first), ==, GTK_INVALID_LIST_POSITION);
    g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (view)), ==, shown_before);
    g_assert_cmpuint (wz_queue_model_get_count (model, WZ_QUEUE_STATUS_WAITING), ==, waiting - 1);
  }

  /* A waiting 周 (zhou) is renamed 王: the search no longer finds them. */
  {
    g_autoptr(WzQueueItem) zhou = NULL;
    g_autofree char *p = NULL;
    g_autoptr(JsonNode) push = NULL;

    for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (view)) && zhou == NULL; i++)
      {
        g_autoptr(WzQueueItem) item = g_list_model_get_item (G_LIST_MODEL (view), i);

        if (g_str_has_prefix (wz_queue_item_get_name (item), "周"))
          zhou = g_steal_pointer (&item);
      }
    g_assert_nonnull (zhou);
    p = patient_json (wz_queue_item_get_patient_id (zhou), "王", "改");
    push = bundle (p, NULL);
    wz_queue_model_apply_bundle (model, push, TRUE);
    g_assert_cmpstr (wz_queue_item_get_name (zhou), ==, "王改");
    assert_view_shows (view, &mirror, "zh", WZ_QUEUE_STATUS_WAITING, wz_queue_item_compare_urgency);
    g_assert_cmpuint (wz_queue_view_find (view, zhou), ==, GTK_INVALID_LIST_POSITION);
    g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (view)), ==, shown_before - 1);
  }

  /* A waiting 张 is cancelled: the row leaves. */
  {
    g_autoptr(WzQueueItem) last = g_list_model_get_item (G_LIST_MODEL (view),
                                                         g_list_model_get_n_items (G_LIST_MODEL (view)) - 1);
    g_autofree char *e = encounter_json (wz_queue_item_get_encounter_id (last), 5, "cancelled",
                                         wz_queue_item_get_patient_id (last), DOCTOR,
                                         "2030-01-01T06:00:00Z", NULL);
    g_autoptr(JsonNode) push = bundle (e, NULL);

    wz_queue_model_apply_bundle (model, push, TRUE);
    g_assert_null (wz_queue_model_find (model, wz_queue_item_get_encounter_id (last), NULL));
    assert_view_shows (view, &mirror, "zh", WZ_QUEUE_STATUS_WAITING, wz_queue_item_compare_urgency);
    g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (view)), ==, shown_before - 2);
    /* It keeps its own search key once out of the worklist. */
    g_assert_true (matches (wz_queue_item_get_key (last), "zh"));
  }

  /* Deleting back to an earlier search after all this shows today's rows, not remembered ones. */
  wz_queue_filter_set_search (filter, "z");
  assert_view_shows (view, &mirror, "z", WZ_QUEUE_STATUS_WAITING, wz_queue_item_compare_urgency);
  wz_queue_filter_set_status (filter, WZ_QUEUE_STATUS_ALL);
  wz_queue_filter_set_search (filter, "");
  assert_view_shows (view, &mirror, "", WZ_QUEUE_STATUS_ALL, wz_queue_item_compare_urgency);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (view)), ==, 40 + 2 - 1);

  mirror_clear (&mirror, G_LIST_MODEL (view));
}

static void
test_waiting_label (void)
{
  g_autoptr(WzQueueItem) item = wz_queue_item_new_for_values ("e", "张伟", NULL, NULL,
                                                              WZ_QUEUE_STATUS_WAITING, 0,
                                                              (gint64) 1000 * G_USEC_PER_SEC);
  g_autofree char *now = wz_queue_item_format_waiting (item, (gint64) 1030 * G_USEC_PER_SEC);
  g_autofree char *minutes = wz_queue_item_format_waiting (item, (gint64) (1000 + 12 * 60 + 59) * G_USEC_PER_SEC);
  g_autofree char *hours = wz_queue_item_format_waiting (item, (gint64) (1000 + 65 * 60) * G_USEC_PER_SEC);

  g_assert_cmpstr (now, ==, "Just now");
  g_assert_cmpstr (minutes, ==, "12 min");
  g_assert_cmpstr (hours, ==, "1 h 5 min");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/queue/match/chinese-name", test_match_chinese_name);
  g_test_add_func ("/queue/match/latin-name", test_match_latin_name);
  g_test_add_func ("/queue/match/surname-reading", test_match_surname_reading);
  g_test_add_func ("/queue/filter/typing", test_filter_typing);
  g_test_add_func ("/queue/sort/orders", test_sort_orders);
  g_test_add_func ("/queue/model/bundle-and-updates", test_model_bundle_and_updates);
  g_test_add_func ("/queue/model/live-addition", test_model_live_addition);
  g_test_add_func ("/queue/model/indexes", test_model_indexes);
  g_test_add_func ("/queue/view/typing", test_view_typing);
  g_test_add_func ("/queue/view/live", test_view_live);
  g_test_add_func ("/queue/item/waiting-label", test_waiting_label);

  return g_test_run ();
}
