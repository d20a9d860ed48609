/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "wz-error.h"
#include "wz-fhir.h"
#include "wz-sqlite-store.h"
#include "wz-test-util.h"

/* The storage on its own, without a socket: what a handler relies on. */

typedef struct
{
  char          *dir;
  WzSqliteStore *sqlite;
  WzStore       *store;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("wz-store-XXXXXX", &error);
  g_assert_no_error (error);
  f->sqlite = wz_sqlite_store_open (f->dir, &error);
  g_assert_no_error (error);
  f->store = WZ_STORE (f->sqlite);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_clear_object (&f->sqlite);
  wz_test_rm_rf (f->dir);
  g_free (f->dir);
}

static JsonNode *
parse (const char *json)
{
  g_autoptr(GError) error = NULL;
  JsonNode *root = wz_fhir_parse_resource (json, -1, NULL, NULL, &error);

  g_assert_no_error (error);
  return root;
}

static WzStoredResource *
create (Fixture    *f,
        const char *json)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = parse (json);
  WzStoredResource *stored;

  stored = wz_store_create (f->store, json_node_get_object (root), NULL, NULL, &error);
  g_assert_no_error (error);
  return stored;
}

static WzStoredResource *
create_patient (Fixture    *f,
                const char *family,
                const char *given,
                const char *birth_date)
{
  g_autofree char *json = g_strdup_printf ("{\"resourceType\":\"Patient\",\"name\":[{\"family\":"
                                           "\"%s\",\"given\":[\"%s\"]}],\"birthDate\":\"%s\","
                                           "\"active\":true}", family, given, birth_date);

  return create (f, json);
}

static WzStoreResult *
search (Fixture    *f,
        const char *type,
        const char *query_string)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WzSearchQuery) query = wz_search_query_parse (type, query_string, &error);
  WzStoreResult *result;

  g_assert_no_error (error);
  result = wz_store_search (f->store, query, &error);
  g_assert_no_error (error);
  return result;
}

static const char *
result_id (WzStoreResult *result,
           guint          i)
{
  return ((WzStoredResource *) g_ptr_array_index (result->resources, i))->id;
}

static void
test_create_read (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(WzStoredResource) created = create_patient (f, "张", "秀英", "1951-03-14");
  g_autoptr(WzStoredResource) read = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *object, *meta;

  g_assert_cmpint (created->version_id, ==, 1);
  g_assert_true (wz_fhir_id_is_valid (created->id));
  {
    g_autofree char *self_reference = g_strconcat ("Patient/", created->id, NULL);

    g_assert_cmpstr (created->patient, ==, self_reference);
  }

  read = wz_store_read (f->store, "Patient", created->id, &error);
  g_assert_no_error (error);
  /* The stored bytes come back unchanged. */
  g_assert_true (g_bytes_equal (read->json, created->json));

  object = wz_test_parse_bytes (read->json, &root);
  g_assert_cmpstr (json_object_get_string_member (object, "id"), ==, created->id);
  meta = json_object_get_object_member (object, "meta");
  g_assert_cmpstr (json_object_get_string_member (meta, "versionId"), ==, "1");
  g_assert_true (g_str_has_suffix (json_object_get_string_member (meta, "lastUpdated"), "Z"));

  g_assert_null (wz_store_read (f->store, "Patient", "nobody", &error));
  g_assert_error (error, WZ_ERROR, WZ_ERROR_NOT_FOUND);
}

static void
test_update_versions (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(WzStoredResource) created = create_patient (f, "刘", "洋", "1988-07-02");
  g_autoptr(WzStoredResource) updated = NULL;
  g_autoptr(WzStoredResource) stale = NULL;
  g_autoptr(WzStoredResource) old = NULL;
  g_autoptr(WzStoredResource) current = NULL;
  g_autoptr(JsonNode) change = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *json = g_strdup_printf ("{\"resourceType\":\"Patient\",\"id\":\"%s\","
                                           "\"gender\":\"male\",\"birthDate\":\"1988-07-02\"}",
                                           created->id);

  change = parse (json);
  updated = wz_store_update (f->store, json_node_get_object (change), created->id, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (updated->version_id, ==, 2);

  /* A second writer still holding version 1 must not overwrite version 2. */
  stale = wz_store_update (f->store, json_node_get_object (change), created->id, 1, &error);
  g_assert_null (stale);
  g_assert_error (error, WZ_ERROR, WZ_ERROR_PRECONDITION_FAILED);
  g_assert_nonnull (strstr (error->message, "version 2"));
  g_clear_error (&error);

  current = wz_store_read (f->store, "Patient", created->id, &error);
  g_assert_cmpint (current->version_id, ==, 2);
  old = wz_store_vread (f->store, "Patient", created->id, 1, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (old->json, created->json));
  g_assert_null (wz_store_vread (f->store, "Patient", created->id, 3, &error));
  g_assert_error (error, WZ_ERROR, WZ_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* No update-as-create. */
  g_assert_null (wz_store_update (f->store, json_node_get_object (change), "unknown", 1, &error));
  g_assert_error (error, WZ_ERROR, WZ_ERROR_NOT_FOUND);
}

static void
test_history (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(WzStoredResource) created = create (f, "{\"resourceType\":\"Encounter\","
                                                   "\"status\":\"planned\"}");
  const char *statuses[] = { "arrived", "in-progress", "finished" };
  g_autoptr(WzStoreResult) page = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (statuses); i++)
    {
      g_autofree char *json = g_strdup_printf ("{\"resourceType\":\"Encounter\",\"id\":\"%s\","
                                               "\"status\":\"%s\"}", created->id, statuses[i]);
      g_autoptr(JsonNode) root = parse (json);
      g_autoptr(WzStoredResource) stored = wz_store_update (f->store, json_node_get_object (root),
                                                            created->id, i + 1, &error);

      g_assert_no_error (error);
      g_assert_cmpint (stored->version_id, ==, i + 2);
    }

  page = wz_store_history (f->store, "Encounter", created->id, 2, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (page->total, ==, 4);
  g_assert_cmpuint (page->resources->len, ==, 2);
  /* Newest first: offset 1 is version 3, then 2. */
  g_assert_cmpint (((WzStoredResource *) page->resources->pdata[0])->version_id, ==, 3);
  g_assert_cmpstr (((WzStoredResource *) page->resources->pdata[0])->status, ==, "in-progress");
  g_assert_cmpint (((WzStoredResource *) page->resources->pdata[1])->version_id, ==, 2);
}

static void
test_retire_keeps_versions (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(WzStoredResource) created = create (f, "{\"resourceType\":\"Observation\","
                                                   "\"status\":\"final\","
                                                   "\"subject\":{\"reference\":\"Patient/p1\"}}");
  g_autoptr(WzStoredResource) retired = NULL;
  g_autoptr(WzStoredResource) first = NULL;
  g_autoptr(GError) error = NULL;

  retired = wz_store_retire (f->store, "Observation", created->id, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (retired->version_id, ==, 2);
  g_assert_cmpstr (retired->status, ==, "entered-in-error");
  g_assert_cmpstr (retired->patient, ==, "Patient/p1");

  first = wz_store_vread (f->store, "Observation", created->id, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (first->status, ==, "final");

  g_assert_null (wz_store_retire (f->store, "Observation", created->id, 1, &error));
  g_assert_error (error, WZ_ERROR, WZ_ERROR_PRECONDITION_FAILED);
}

static void
test_search_paging_sort (Fixture       *f,
                         gconstpointer  data)
{
  const char *families[] = { "Zhou", "Chen", "Wang", "Li", "Zhao" };
  g_autoptr(WzStoreResult) first = NULL;
  g_autoptr(WzStoreResult) last = NULL;
  g_autoptr(WzStoreResult) descending = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (families); i++)
    {
      g_autoptr(WzStoredResource) stored = create_patient (f, families[i], "Test", "1980-01-01");
    }

  first = search (f, "Patient", "_sort=family&_count=2");
  g_assert_cmpint (first->total, ==, 5);
  g_assert_cmpuint (first->resources->len, ==, 2);
  last = search (f, "Patient", "_sort=family&_count=2&_offset=4");
  g_assert_cmpuint (last->resources->len, ==, 1);
  descending = search (f, "Patient", "_sort=-family&_count=5");

  {
    g_autoptr(JsonNode) a = NULL, b = NULL, c = NULL;
    JsonObject *chen = wz_test_parse_bytes (((WzStoredResource *) first->resources->pdata[0])->json, &a);
    JsonObject *zhou = wz_test_parse_bytes (((WzStoredResource *) last->resources->pdata[0])->json, &b);
    JsonObject *top = wz_test_parse_bytes (((WzStoredResource *) descending->resources->pdata[0])->json, &c);

    g_assert_cmpstr (wz_test_family (chen), ==, "Chen");
    g_assert_cmpstr (wz_test_family (zhou), ==, "Zhou");
    g_assert_cmpstr (wz_test_family (top), ==, "Zhou");
  }
}

static void
test_search_params (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(WzStoredResource) zhang = create_patient (f, "张", "秀英", "1951-03-14");
  g_autoptr(WzStoredResource) zhao = create_patient (f, "赵", "丽", "1979-02-17");
  g_autoptr(WzStoredResource) child = create_patient (f, "Wang", "Haoran", "2021-05-01");
  g_autofree char *appointment = g_strdup_printf (
    "{\"resourceType\":\"Appointment\",\"status\":\"booked\",\"start\":\"2024-05-01T09:00:00+08:00\","
    "\"identifier\":[{\"system\":\"urn:ietf:rfc:3986\",\"value\":\"urn:uuid:a1\"}],"
    "\"participant\":[{\"actor\":{\"reference\":\"Patient/%s\"}},"
    "{\"actor\":{\"reference\":\"Practitioner/doc1\"}}]}", zhang->id);
  g_autoptr(WzStoredResource) booked = create (f, appointment);
  g_autofree char *q = NULL;
  g_autoptr(WzStoreResult) r = NULL;

  r = search (f, "Patient", "name=秀");
  g_assert_cmpint (r->total, ==, 1);
  g_assert_cmpstr (result_id (r, 0), ==, zhang->id);
  g_clear_pointer (&r, wz_store_result_free);

  r = search (f, "Patient", "name=%E5%BC%A0%E7%A7%80");  /* 张秀, written together */
  g_assert_cmpint (r->total, ==, 1);
  g_clear_pointer (&r, wz_store_result_free);

  r = search (f, "Patient", "family=wang");  /* case-insensitive */
  g_assert_cmpint (r->total, ==, 1);
  g_assert_cmpstr (result_id (r, 0), ==, child->id);
  g_clear_pointer (&r, wz_store_result_free);

  r = search (f, "Patient", "birthdate=ge1970&birthdate=lt2000");
  g_assert_cmpint (r->total, ==, 1);
  g_assert_cmpstr (result_id (r, 0), ==, zhao->id);
  g_clear_pointer (&r, wz_store_result_free);

  r = search (f, "Patient", "birthdate=1951-03");
  g_assert_cmpint (r->total, ==, 1);
  g_clear_pointer (&r, wz_store_result_free);

  q = g_strdup_printf ("patient=%s&status=booked,arrived", zhang->id);
  r = search (f, "Appointment", q);
  g_assert_cmpint (r->total, ==, 1);
  g_clear_pointer (&r, wz_store_result_free);

  r = search (f, "Appointment", "practitioner=Practitioner/doc1&date=2024-05-01");
  g_assert_cmpint (r->total, ==, 1);
  g_clear_pointer (&r, wz_store_result_free);

  r = search (f, "Appointment", "date=gt2024-05-01");
  g_assert_cmpint (r->total, ==, 0);
  g_clear_pointer (&r, wz_store_result_free);

  r = search (f, "Appointment", "identifier=urn:ietf:rfc:3986|urn:uuid:a1");
  g_assert_cmpint (r->total, ==, 1);
  g_clear_pointer (&r, wz_store_result_free);

  r = search (f, "Appointment", "identifier=urn:uuid:a1");
  g_assert_cmpint (r->total, ==, 1);
  g_clear_pointer (&r, wz_store_result_free);

  r = search (f, "Appointment", "identifier=urn:uuid:other");
  g_assert_cmpint (r->total, ==, 0);
  g_clear_pointer (&r, wz_store_result_free);

  g_free (q);
  q = g_strdup_printf ("_id=%s,%s", zhang->id, zhao->id);
  r = search (f, "Patient", q);
  g_assert_cmpint (r->total, ==, 2);
  g_clear_pointer (&r, wz_store_result_free);

  (void) booked;
}

static void
test_search_last_updated (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(WzStoredResource) before = create (f, "{\"resourceType\":\"Task\",\"status\":\"requested\"}");
  g_autoptr(WzStoredResource) after = NULL;
  g_autofree char *mark = NULL;
  g_autofree char *query = NULL;
  g_autoptr(WzStoreResult) r = NULL;
  gint64 middle;

  g_usleep (5000);
  middle = g_get_real_time ();
  g_usleep (5000);
  after = create (f, "{\"resourceType\":\"Task\",\"status\":\"requested\"}");

  {
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (middle / G_USEC_PER_SEC);

    mark = g_date_time_format_iso8601 (dt);
  }
  /* Catch-up after a dropped websocket: everything changed since a point in time. */
  query = g_strdup_printf ("_lastUpdated=ge%s&_sort=_lastUpdated", mark);
  r = search (f, "Task", query);
  g_assert_cmpint (r->total, >=, 1);
  g_assert_cmpstr (result_id (r, r->resources->len - 1), ==, after->id);
  (void) before;
}

static void
test_search_rejects_unknown (Fixture       *f,
                             gconstpointer  data)
{
  const char *bad[] = {
    "colour=red", "name:below=x", "_sort=colour", "_count=ten", "birthdate=yesterday",
    "patient=a/b/c", "_summary=true",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(WzSearchQuery) query = wz_search_query_parse ("Patient", bad[i], &error);

      g_assert_null (query);
      g_assert_error (error, WZ_ERROR, WZ_ERROR_INVALID);
    }
}

static void
test_conditional_create (Fixture       *f,
                         gconstpointer  data)
{
  const char *json = "{\"resourceType\":\"Communication\",\"status\":\"completed\","
                     "\"identifier\":[{\"system\":\"urn:ietf:rfc:3986\",\"value\":\"urn:uuid:m1\"}]}";
  g_autoptr(WzSearchQuery) condition = wz_search_query_parse ("Communication",
                                                              "identifier=urn:uuid:m1", NULL);
  g_autoptr(JsonNode) root = parse (json);
  g_autoptr(WzStoredResource) first = NULL;
  g_autoptr(WzStoredResource) second = NULL;
  g_autoptr(WzStoreResult) all = NULL;
  g_autoptr(GError) error = NULL;
  gboolean created = FALSE;

  first = wz_store_create (f->store, json_node_get_object (root), condition, &created, &error);
  g_assert_no_error (error);
  g_assert_true (created);
  second = wz_store_create (f->store, json_node_get_object (root), condition, &created, &error);
  g_assert_no_error (error);
  g_assert_false (created);
  g_assert_cmpstr (second->id, ==, first->id);

  all = search (f, "Communication", NULL);
  g_assert_cmpint (all->total, ==, 1);
}

/* A transaction stores all of its writes or none: a failed write in the middle (a stale
 * version) makes the commit fail, and neither the earlier create nor the update is kept, even
 * after reopening the file. */
static void
test_transaction (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(WzStoredResource) patient = create_patient (f, "李", "娜", "1990-01-02");
  g_autoptr(WzStoredResource) kept = NULL;
  g_autoptr(WzStoredResource) inside = NULL;
  g_autoptr(WzStoredResource) updated = NULL;
  g_autoptr(WzStoredResource) stale = NULL;
  g_autoptr(WzStoredResource) after = NULL;
  g_autoptr(WzStoreResult) all = NULL;
  g_autoptr(JsonNode) root = parse (g_bytes_get_data (patient->json, NULL));
  g_autoptr(GError) error = NULL;

  /* Committed: both writes are there. */
  g_assert_true (wz_store_begin (f->store, &error));
  g_assert_no_error (error);
  kept = create_patient (f, "王", "强", "1980-03-04");
  updated = wz_store_update (f->store, json_node_get_object (root), patient->id, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (updated->version_id, ==, 2);
  /* Transactions do not nest. */
  g_assert_false (wz_store_begin (f->store, &error));
  g_assert_error (error, WZ_ERROR, WZ_ERROR_INTERNAL);
  g_clear_error (&error);
  g_assert_true (wz_store_commit (f->store, &error));
  g_assert_no_error (error);

  /* A write fails half way: nothing of the transaction is stored. */
  g_assert_true (wz_store_begin (f->store, &error));
  inside = create_patient (f, "赵", "敏", "1975-05-06");
  after = wz_store_read (f->store, "Patient", inside->id, &error);
  g_assert_no_error (error);
  g_clear_pointer (&after, wz_stored_resource_free);
  stale = wz_store_update (f->store, json_node_get_object (root), patient->id, 1, &error);
  g_assert_null (stale);
  g_assert_error (error, WZ_ERROR, WZ_ERROR_PRECONDITION_FAILED);
  g_clear_error (&error);
  g_assert_false (wz_store_commit (f->store, &error));
  g_assert_error (error, WZ_ERROR, WZ_ERROR_UNAVAILABLE);
  g_clear_error (&error);

  /* Rolled back on purpose: not stored either. */
  g_assert_true (wz_store_begin (f->store, &error));
  g_clear_pointer (&stale, wz_stored_resource_free);
  stale = wz_store_update (f->store, json_node_get_object (root), patient->id, 2, &error);
  g_assert_no_error (error);
  wz_store_rollback (f->store);
  wz_store_rollback (f->store);
  g_assert_false (wz_store_commit (f->store, &error));
  g_assert_error (error, WZ_ERROR, WZ_ERROR_INTERNAL);
  g_clear_error (&error);

  g_clear_object (&f->sqlite);
  f->sqlite = wz_sqlite_store_open (f->dir, &error);
  g_assert_no_error (error);
  f->store = WZ_STORE (f->sqlite);
  after = wz_store_read (f->store, "Patient", inside->id, &error);
  g_assert_null (after);
  g_assert_error (error, WZ_ERROR, WZ_ERROR_NOT_FOUND);
  g_clear_error (&error);
  after = wz_store_read (f->store, "Patient", patient->id, &error);
  g_assert_no_error (error);
  g_assert_cmpint (after->version_id, ==, 2);
  all = search (f, "Patient", NULL);
  g_assert_cmpint (all->total, ==, 2);
}

static void
test_reopen (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(WzStoredResource) created = create_patient (f, "周", "桂兰", "1938-12-05");
  g_autoptr(WzStoredResource) read = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (wz_sqlite_store_schema_version (f->sqlite), ==,
                   wz_sqlite_store_latest_schema_version ());
  g_clear_object (&f->sqlite);

  /* Opening again applies no migration twice and finds the data. */
  f->sqlite = wz_sqlite_store_open (f->dir, &error);
  g_assert_no_error (error);
  f->store = WZ_STORE (f->sqlite);
  g_assert_cmpint (wz_sqlite_store_schema_version (f->sqlite), ==,
                   wz_sqlite_store_latest_schema_version ());
  read = wz_store_read (f->store, "Patient", created->id, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (read->json, created->json));
  g_assert_cmpint (wz_sqlite_store_count (f->sqlite, NULL), ==, 1);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("/store/create-read", test_create_read);
  ADD ("/store/update-versions", test_update_versions);
  ADD ("/store/history", test_history);
  ADD ("/store/retire-keeps-versions", test_retire_keeps_versions);
  ADD ("/store/search/paging-sort", test_search_paging_sort);
  ADD ("/store/search/params", test_search_params);
  ADD ("/store/search/last-updated", test_search_last_updated);
  ADD ("/store/search/rejects-unknown", test_search_rejects_unknown);
  ADD ("/store/conditional-create", test_conditional_create);
  ADD ("/store/reopen", test_reopen);
  ADD ("/store/transaction", test_transaction);

#undef ADD

  return g_test_run ();
}
