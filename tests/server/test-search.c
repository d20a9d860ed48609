/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <sqlite3.h>
#include <string.h>

#include "wz-error.h"
#include "wz-fhir.h"
#include "wz-sqlite-store.h"
#include "wz-test-util.h"

/* Search parameters, the care team and index migrations, against the store itself. */

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

  f->dir = g_dir_make_tmp ("wz-search-XXXXXX", &error);
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

static WzStoredResource *
create (Fixture    *f,
        const char *json)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = wz_fhir_parse_resource (json, -1, NULL, NULL, &error);
  WzStoredResource *stored;

  g_assert_no_error (error);
  stored = wz_store_create (f->store, json_node_get_object (root), NULL, NULL, &error);
  g_assert_no_error (error);
  return stored;
}

static WzStoredResource *
update (Fixture          *f,
        WzStoredResource *current,
        const char       *json_without_id)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *json = g_strdup_printf ("{\"id\":\"%s\",%s", current->id, json_without_id + 1);
  g_autoptr(JsonNode) root = wz_fhir_parse_resource (json, -1, NULL, current->id, &error);
  WzStoredResource *stored;

  g_assert_no_error (error);
  stored = wz_store_update (f->store, json_node_get_object (root), current->id,
                            current->version_id, &error);
  g_assert_no_error (error);
  return stored;
}

static char *
ref (WzStoredResource *resource)
{
  return g_strconcat (resource->type, "/", resource->id, NULL);
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Searches TYPE with QUERY_STRING, seen by PRACTITIONER / PATIENT when not NULL, and returns
 * the ids found, sorted, joined with spaces: easy to compare. */
static char *
search_ids (Fixture    *f,
            const char *type,
            const char *query_string,
            const char *practitioner,
            const char *patient)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WzSearchQuery) query = wz_search_query_parse (type, query_string, &error);
  g_autoptr(WzStoreResult) result = NULL;
  g_autoptr(GPtrArray) ids = g_ptr_array_new ();

  g_assert_no_error (error);
  query->count = WZ_SEARCH_MAX_COUNT;
  query->visible_to_practitioner = g_strdup (practitioner);
  query->visible_to_patient = g_strdup (patient);
  result = wz_store_search (f->store, query, &error);
  g_assert_no_error (error);
  g_assert_cmpint (result->total, ==, result->resources->len);

  for (guint i = 0; i < result->resources->len; i++)
    g_ptr_array_add (ids, ((WzStoredResource *) g_ptr_array_index (result->resources, i))->id);
  g_ptr_array_sort (ids, compare_strings);
  g_ptr_array_add (ids, NULL);

  return g_strjoinv (" ", (char **) ids->pdata);
}

static char *
sorted_ids (WzStoredResource *first,
            ...)
{
  g_autoptr(GPtrArray) ids = g_ptr_array_new ();
  va_list args;

  va_start (args, first);
  for (WzStoredResource *r = first; r != NULL; r = va_arg (args, WzStoredResource *))
    g_ptr_array_add (ids, r->id);
  va_end (args);
  g_ptr_array_sort (ids, compare_strings);
  g_ptr_array_add (ids, NULL);

  return g_strjoinv (" ", (char **) ids->pdata);
}

static gboolean
on_team (Fixture          *f,
         WzStoredResource *patient,
         const char       *practitioner)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *patient_ref = ref (patient);
  gboolean result = wz_store_is_on_care_team (f->store, patient_ref, practitioner, &error);

  g_assert_no_error (error);
  return result;
}

static WzStoredResource *
create_named (Fixture    *f,
              const char *family,
              const char *given,
              const char *extra)
{
  g_autofree char *json = g_strdup_printf ("{\"resourceType\":\"Patient\",\"active\":true,"
                                           "\"name\":[{\"family\":\"%s\",\"given\":[\"%s\"]}]%s%s}",
                                           family, given, extra ? "," : "", extra ? extra : "");

  return create (f, json);
}

static void
test_care_team (Fixture       *f,
                gconstpointer  data)
{
  const char *doctor_a = "Practitioner/a";
  const char *doctor_b = "Practitioner/b";
  g_autoptr(WzStoredResource) p1 = create_named (f, "张", "伟",
                                                 "\"generalPractitioner\":[{\"reference\":"
                                                 "\"Practitioner/a\"}]");
  g_autoptr(WzStoredResource) p2 = create_named (f, "李", "娜", NULL);
  g_autoptr(WzStoredResource) p3 = create_named (f, "王", "芳", NULL);
  g_autoptr(WzStoredResource) encounter = NULL;
  g_autoptr(WzStoredResource) encounter2 = NULL;
  g_autoptr(WzStoredResource) appointment = NULL;
  g_autoptr(WzStoredResource) retired = NULL;
  g_autoptr(WzStoredResource) c1 = NULL;
  g_autoptr(WzStoredResource) c2 = NULL;
  g_autoptr(WzStoredResource) c3 = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *p1_ref = ref (p1);
  g_autofree char *p2_ref = ref (p2);
  g_autofree char *p3_ref = ref (p3);
  g_autofree char *json = NULL;
  g_autofree char *ids = NULL;
  g_autofree char *expected = NULL;

  json = g_strdup_printf ("{\"resourceType\":\"Encounter\",\"status\":\"arrived\","
                          "\"subject\":{\"reference\":\"%s\"},\"participant\":[{\"individual\":"
                          "{\"reference\":\"Practitioner/b\"}}]}", p2_ref);
  encounter = create (f, json);
  g_clear_pointer (&json, g_free);
  json = g_strdup_printf ("{\"resourceType\":\"Appointment\",\"status\":\"booked\","
                          "\"participant\":[{\"actor\":{\"reference\":\"%s\"},\"status\":"
                          "\"accepted\"},{\"actor\":{\"reference\":\"Practitioner/b\"},"
                          "\"status\":\"accepted\"}]}", p3_ref);
  appointment = create (f, json);
  g_clear_pointer (&json, g_free);
  for (guint i = 0; i < 3; i++)
    {
      const char *subject = i == 0 ? p1_ref : i == 1 ? p2_ref : p3_ref;
      WzStoredResource **slot = i == 0 ? &c1 : i == 1 ? &c2 : &c3;

      json = g_strdup_printf ("{\"resourceType\":\"Condition\",\"subject\":{\"reference\":"
                              "\"%s\"}}", subject);
      *slot = create (f, json);
      g_clear_pointer (&json, g_free);
    }

  g_assert_true (on_team (f, p1, doctor_a));
  g_assert_false (on_team (f, p1, doctor_b));
  g_assert_false (on_team (f, p2, doctor_a));
  g_assert_true (on_team (f, p2, doctor_b));
  g_assert_true (on_team (f, p3, doctor_b));
  g_assert_false (on_team (f, p3, "Practitioner/nobody"));
  g_assert_false (wz_store_is_on_care_team (f->store, "Patient/none", doctor_b, &error));
  g_assert_no_error (error);

  /* Searches are filtered, not refused: each doctor sees their own patients' data. */
  ids = search_ids (f, "Patient", NULL, doctor_b, NULL);
  expected = sorted_ids (p2, p3, NULL);
  g_assert_cmpstr (ids, ==, expected);
  g_clear_pointer (&ids, g_free);
  ids = search_ids (f, "Patient", NULL, doctor_a, NULL);
  g_assert_cmpstr (ids, ==, p1->id);
  g_clear_pointer (&ids, g_free);
  ids = search_ids (f, "Patient", NULL, "Practitioner/nobody", NULL);
  g_assert_cmpstr (ids, ==, "");
  g_clear_pointer (&ids, g_free);
  ids = search_ids (f, "Condition", NULL, doctor_b, NULL);
  g_clear_pointer (&expected, g_free);
  expected = sorted_ids (c2, c3, NULL);
  g_assert_cmpstr (ids, ==, expected);
  g_clear_pointer (&ids, g_free);
  /* Other parameters still apply on top. */
  json = g_strdup_printf ("patient=%s", p1_ref);
  ids = search_ids (f, "Condition", json, doctor_b, NULL);
  g_assert_cmpstr (ids, ==, "");
  g_clear_pointer (&ids, g_free);
  g_clear_pointer (&json, g_free);
  /* Reference data is not filtered. */
  create (f, "{\"resourceType\":\"Practitioner\",\"name\":[{\"family\":\"赵\"}]}");
  ids = search_ids (f, "Practitioner", NULL, doctor_b, NULL);
  g_assert_cmpuint (strlen (ids), >, 0);
  g_clear_pointer (&ids, g_free);

  /* A patient session sees only its own data. */
  ids = search_ids (f, "Condition", NULL, NULL, p3_ref);
  g_assert_cmpstr (ids, ==, c3->id);
  g_clear_pointer (&ids, g_free);
  ids = search_ids (f, "Patient", NULL, NULL, p3_ref);
  g_assert_cmpstr (ids, ==, p3->id);
  g_clear_pointer (&ids, g_free);
  ids = search_ids (f, "Encounter", NULL, NULL, p3_ref);
  g_assert_cmpstr (ids, ==, "");
  g_clear_pointer (&ids, g_free);
  /* Both filters together must both hold. */
  ids = search_ids (f, "Patient", NULL, doctor_a, p3_ref);
  g_assert_cmpstr (ids, ==, "");
  g_clear_pointer (&ids, g_free);

  /* The team follows each write: the doctor taken off the encounter leaves p2's team … */
  json = g_strdup_printf ("{\"resourceType\":\"Encounter\",\"status\":\"arrived\","
                          "\"subject\":{\"reference\":\"%s\"},\"participant\":[{\"individual\":"
                          "{\"reference\":\"Practitioner/a\"}}]}", p2_ref);
  encounter2 = update (f, encounter, json);
  g_clear_pointer (&json, g_free);
  g_assert_false (on_team (f, p2, doctor_b));
  g_assert_true (on_team (f, p2, doctor_a));

  /* … an appointment entered in error no longer counts … */
  retired = wz_store_retire (f->store, "Appointment", appointment->id, 0, &error);
  g_assert_no_error (error);
  g_assert_false (on_team (f, p3, doctor_b));

  /* … and a general practitioner is added by updating the Patient. */
  {
    g_autoptr(WzStoredResource) p3_v2 = update (f, p3,
                                                "{\"resourceType\":\"Patient\",\"name\":[{\"family\":"
                                                "\"王\",\"given\":[\"芳\"]}],\"generalPractitioner\":"
                                                "[{\"reference\":\"Practitioner/b\"}]}");

    g_assert_true (on_team (f, p3, doctor_b));
  }

  ids = search_ids (f, "Patient", NULL, doctor_b, NULL);
  g_assert_cmpstr (ids, ==, p3->id);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("/search/care-team", test_care_team);

#undef ADD

  return g_test_run ();
}
