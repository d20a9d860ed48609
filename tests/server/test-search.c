/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "wz-error.h"
#include "wz-fhir.h"
#include "wz-fhir-index.h"
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
  g_autoptr(WzStoredResource) practitioner = NULL;
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
  practitioner = create (f, "{\"resourceType\":\"Practitioner\",\"name\":[{\"family\":\"赵\"}]}");
  ids = search_ids (f, "Practitioner", NULL, doctor_b, NULL);
  g_assert_cmpstr (ids, ==, practitioner->id);
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

/* Creates a Patient with a Chinese or Latin name, and optionally an identifier, a phone number
 * and a birth date. */
static WzStoredResource *
create_person (Fixture    *f,
               const char *family,
               const char *given,
               const char *id_number,
               const char *phone,
               const char *birth_date)
{
  g_autoptr(GString) json = g_string_new ("{\"resourceType\":\"Patient\",\"active\":true");
  gboolean chinese = g_utf8_get_char (family) > 0x2e80;

  g_string_append_printf (json, ",\"name\":[{\"text\":\"%s%s%s\",\"family\":\"%s\","
                                "\"given\":[\"%s\"]}]", chinese ? family : given,
                          chinese ? "" : " ", chinese ? given : family, family, given);
  if (id_number != NULL)
    g_string_append_printf (json, ",\"identifier\":[{\"system\":\"https://wenzhen.example/fhir/"
                                  "NamingSystem/resident-id\",\"value\":\"%s\"}]", id_number);
  if (phone != NULL)
    g_string_append_printf (json, ",\"telecom\":[{\"system\":\"phone\",\"value\":\"%s\"}]", phone);
  if (birth_date != NULL)
    g_string_append_printf (json, ",\"birthDate\":\"%s\"", birth_date);
  g_string_append_c (json, '}');

  return create (f, json->str);
}

/* The ids QUERY_STRING finds among Patients, sorted and joined, for comparing with sorted_ids. */
#define assert_finds(f, type, query_string, ...) G_STMT_START { \
    g_autofree char *found_ = search_ids (f, type, query_string, NULL, NULL); \
    g_autofree char *wanted_ = sorted_ids (__VA_ARGS__, NULL); \
    if (g_strcmp0 (found_, wanted_) != 0) \
      g_error ("%s?%s found [%s], expected [%s]", type, query_string, found_, wanted_); \
  } G_STMT_END

#define assert_finds_none(f, type, query_string) G_STMT_START { \
    g_autofree char *found_ = search_ids (f, type, query_string, NULL, NULL); \
    if (*found_ != '\0') \
      g_error ("%s?%s found [%s], expected nothing", type, query_string, found_); \
  } G_STMT_END

static void
test_names (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(WzStoredResource) zhang_wei = create_person (f, "张", "伟", NULL, NULL, NULL);
  g_autoptr(WzStoredResource) zhang_weiming = create_person (f, "张", "伟明", NULL, NULL, NULL);
  g_autoptr(WzStoredResource) zhang_xiuying = create_person (f, "张", "秀英", NULL, NULL, NULL);
  g_autoptr(WzStoredResource) li_wei = create_person (f, "李", "伟", NULL, NULL, NULL);
  g_autoptr(WzStoredResource) wang_xiaoming = create_person (f, "王", "小明", NULL, NULL, NULL);
  g_autoptr(WzStoredResource) ouyang = create_person (f, "欧阳", "娜娜", NULL, NULL, NULL);
  g_autoptr(WzStoredResource) smith = create_person (f, "Smith", "John", NULL, NULL, NULL);
  g_autoptr(WzStoredResource) mueller = create_person (f, "Müller", "Anna", NULL, NULL, NULL);

  /* Prefix: any name part, the whole name, Chinese and Latin, case-folded. */
  assert_finds (f, "Patient", "name=张", zhang_wei, zhang_weiming, zhang_xiuying);
  assert_finds (f, "Patient", "name=张秀", zhang_xiuying);
  assert_finds (f, "Patient", "name=伟", zhang_wei, zhang_weiming, li_wei);
  assert_finds (f, "Patient", "name=欧阳娜", ouyang);
  assert_finds (f, "Patient", "name=JOHN", smith);
  assert_finds (f, "Patient", "name=smi", smith);
  assert_finds (f, "Patient", "name=MÜLLER", mueller);
  assert_finds (f, "Patient", "name=张,李", zhang_wei, zhang_weiming, zhang_xiuying, li_wei);
  assert_finds_none (f, "Patient", "name=明");
  assert_finds (f, "Patient", "family=张", zhang_wei, zhang_weiming, zhang_xiuying);

  /* Contains: one and two Chinese characters anywhere (the character index), three and more
   * (trigrams), and short Latin text. */
  assert_finds (f, "Patient", "name:contains=明", zhang_weiming, wang_xiaoming);
  assert_finds (f, "Patient", "name:contains=小明", wang_xiaoming);
  assert_finds (f, "Patient", "name:contains=阳娜", ouyang);
  assert_finds (f, "Patient", "name:contains=阳娜娜", ouyang);
  assert_finds (f, "Patient", "name:contains=伟", zhang_wei, zhang_weiming, li_wei);
  assert_finds (f, "Patient", "name:contains=MIT", smith);
  assert_finds (f, "Patient", "name:contains=ll", mueller);
  assert_finds (f, "Patient", "name:contains=n", smith, mueller);
  assert_finds_none (f, "Patient", "name:contains=秀明");
  assert_finds_none (f, "Patient", "name:contains=xyz");
  /* A quote is text, not query syntax. */
  assert_finds_none (f, "Patient", "name:contains=%22a%22b");

  /* Exact: a whole name part. */
  assert_finds (f, "Patient", "name:exact=张伟", zhang_wei);
  assert_finds (f, "Patient", "name:exact=john", smith);
  assert_finds_none (f, "Patient", "name:exact=张秀");

  /* Other parameters still apply. */
  {
    g_autofree char *query = g_strdup_printf ("name=张&_id=%s,%s", zhang_wei->id, li_wei->id);

    assert_finds (f, "Patient", query, zhang_wei);
  }
}

static void
test_pinyin (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(WzStoredResource) zhang_wei = create_person (f, "张", "伟", NULL, NULL, NULL);
  g_autoptr(WzStoredResource) zhang_xiuying = create_person (f, "张", "秀英", NULL, NULL, NULL);
  g_autoptr(WzStoredResource) shan = create_person (f, "单", "田芳", NULL, NULL, NULL);
  g_autoptr(WzStoredResource) lv = create_person (f, "吕", "布", NULL, NULL, NULL);
  g_autoptr(WzStoredResource) ouyang = create_person (f, "欧阳", "娜娜", NULL, NULL, NULL);
  g_autoptr(WzStoredResource) smith = create_person (f, "Smith", "John", NULL, NULL, NULL);

  /* Initials, whole name, given name, as a prefix. */
  assert_finds (f, "Patient", "pinyin=zw", zhang_wei);
  assert_finds (f, "Patient", "pinyin=zxy", zhang_xiuying);
  assert_finds (f, "Patient", "pinyin=z", zhang_wei, zhang_xiuying);
  assert_finds (f, "Patient", "pinyin=zhangw", zhang_wei);
  assert_finds (f, "Patient", "pinyin=zhang", zhang_wei, zhang_xiuying);
  assert_finds (f, "Patient", "pinyin=xiuying", zhang_xiuying);
  assert_finds (f, "Patient", "pinyin=Zhang%20Xiuying", zhang_xiuying);
  assert_finds (f, "Patient", "pinyin=oyn", ouyang);
  /* A surname is read as a surname. */
  assert_finds (f, "Patient", "pinyin=stf", shan);
  assert_finds (f, "Patient", "pinyin=shantianfang", shan);
  /* ü is typed v on pinyin keyboards, and printed u. */
  assert_finds (f, "Patient", "pinyin=lvbu", lv);
  assert_finds (f, "Patient", "pinyin=lubu", lv);
  /* Latin names have no pinyin. */
  assert_finds_none (f, "Patient", "pinyin=js");
  (void) smith;
}

static void
test_identifier_phone (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(WzStoredResource) a = create_person (f, "张", "伟", "11010519491231002X",
                                                 "+86 138-1234-5678", NULL);
  g_autoptr(WzStoredResource) b = create_person (f, "李", "娜", "310104198001015321",
                                                 "13912345678", NULL);
  g_autoptr(WzStoredResource) c = create_person (f, "王", "芳", NULL, "010 6512 3456", NULL);

  assert_finds (f, "Patient", "identifier=11010519491231002X", a);
  assert_finds (f, "Patient",
                "identifier=https://wenzhen.example/fhir/NamingSystem/resident-id|310104198001015321",
                b);
  assert_finds_none (f, "Patient", "identifier=urn:other|310104198001015321");
  assert_finds_none (f, "Patient", "identifier=3101041980");

  /* Digits only: however the number was written or typed, with or without +86. */
  assert_finds (f, "Patient", "phone=13812345678", a);
  assert_finds (f, "Patient", "phone=8613812345678", a);
  assert_finds (f, "Patient", "phone=%2B86%20139%201234%205678", b);
  assert_finds (f, "Patient", "phone=(010)65123456", c);
  assert_finds (f, "Patient", "phone=13812345678,13912345678", a, b);
  assert_finds_none (f, "Patient", "phone=1381234");
}

static void
test_free_text (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(WzStoredResource) zhang_wei = create_person (f, "张", "伟", "11010519491231002X",
                                                         "+86 138-1234-5678", NULL);
  g_autoptr(WzStoredResource) zhang_xiuying = create_person (f, "张", "秀英", "310104198001015321",
                                                             "13912345678", NULL);
  g_autoptr(WzStoredResource) li_xiu = create_person (f, "李", "秀", "440305200105050011",
                                                      "15800001234", NULL);
  g_autoptr(WzStoredResource) smith = create_person (f, "Smith", "John", "E12345678",
                                                     "13300005678", NULL);

  /* Names: prefix, and Chinese characters anywhere. */
  assert_finds (f, "Patient", "q=张", zhang_wei, zhang_xiuying);
  assert_finds (f, "Patient", "q=秀", zhang_xiuying, li_xiu);
  assert_finds (f, "Patient", "q=秀英", zhang_xiuying);
  assert_finds (f, "Patient", "q=张秀英", zhang_xiuying);
  assert_finds (f, "Patient", "q=smith", smith);
  assert_finds (f, "Patient", "q=ohn", smith);
  /* Pinyin initials and whole pinyin. */
  assert_finds (f, "Patient", "q=zw", zhang_wei);
  assert_finds (f, "Patient", "q=zx", zhang_xiuying);
  assert_finds (f, "Patient", "q=ZHANGX", zhang_xiuying);
  assert_finds (f, "Patient", "q=angxiu", zhang_xiuying);
  /* ID numbers: prefix and any part; the final X in either case. */
  assert_finds (f, "Patient", "q=310104", zhang_xiuying);
  assert_finds (f, "Patient", "q=19491231", zhang_wei);
  assert_finds (f, "Patient", "q=1002x", zhang_wei);
  assert_finds (f, "Patient", "q=11010519491231002X", zhang_wei);
  assert_finds (f, "Patient", "q=e1234", smith);
  /* Phone numbers: prefix, the last digits, typed with spaces or dashes. */
  assert_finds (f, "Patient", "q=1391", zhang_xiuying);
  assert_finds (f, "Patient", "q=5678", zhang_wei, zhang_xiuying, smith);
  assert_finds (f, "Patient", "q=05678", smith);
  assert_finds (f, "Patient", "q=138%201234", zhang_wei);
  assert_finds (f, "Patient", "q=158-0000-1234", li_xiu);
  /* Nothing that is only in the middle of a short Latin text. */
  assert_finds_none (f, "Patient", "q=mi");
  assert_finds_none (f, "Patient", "q=99999");
  /* A comma is part of what was typed, not a list. */
  assert_finds_none (f, "Patient", "q=%E5%BC%A0,%E6%9D%8E");
}

static void
test_birthdate (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(WzStoredResource) a = create_person (f, "张", "伟", NULL, NULL, "1951-03-14");
  g_autoptr(WzStoredResource) b = create_person (f, "李", "娜", NULL, NULL, "1988-07-02");
  g_autoptr(WzStoredResource) c = create_person (f, "王", "芳", NULL, NULL, "2021-11-30");

  assert_finds (f, "Patient", "birthdate=1988", b);
  assert_finds (f, "Patient", "birthdate=1988-07", b);
  assert_finds (f, "Patient", "birthdate=1988-07-02", b);
  assert_finds_none (f, "Patient", "birthdate=1988-07-03");
  assert_finds (f, "Patient", "birthdate=ge1988-07-02", b, c);
  assert_finds (f, "Patient", "birthdate=gt1988-07-02", c);
  assert_finds (f, "Patient", "birthdate=le1988-07-02", a, b);
  assert_finds (f, "Patient", "birthdate=lt1988", a);
  assert_finds (f, "Patient", "birthdate=ge1950&birthdate=lt2000", a, b);
  assert_finds (f, "Patient", "birthdate=ge1980&name=李,王", b, c);
}

static WzStoredResource *
create_encounter (Fixture          *f,
                  WzStoredResource *patient,
                  const char       *practitioner,
                  const char       *status,
                  const char       *start,
                  const char       *priority)
{
  g_autofree char *json = NULL;
  g_autofree char *priority_json = NULL;

  if (priority != NULL)
    priority_json = g_strdup_printf (",\"priority\":{\"coding\":[{\"system\":\"http://terminology."
                                     "hl7.org/CodeSystem/v3-ActPriority\",\"code\":\"%s\"}]}",
                                     priority);
  json = g_strdup_printf ("{\"resourceType\":\"Encounter\",\"status\":\"%s\",\"class\":{\"system\":"
                          "\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"VR\"},"
                          "\"subject\":{\"reference\":\"Patient/%s\"},\"participant\":[{"
                          "\"individual\":{\"reference\":\"%s\"}}],\"period\":{\"start\":\"%s\"}%s}",
                          status, patient->id, practitioner, start,
                          priority_json ? priority_json : "");
  return create (f, json);
}

static GPtrArray *
ordered_ids (Fixture    *f,
             const char *type,
             const char *query_string)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WzSearchQuery) query = wz_search_query_parse (type, query_string, &error);
  g_autoptr(WzStoreResult) result = NULL;
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);

  g_assert_no_error (error);
  result = wz_store_search (f->store, query, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < result->resources->len; i++)
    g_ptr_array_add (ids, g_strdup (((WzStoredResource *) g_ptr_array_index (result->resources,
                                                                              i))->id));
  return ids;
}

static void
test_encounters (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(WzStoredResource) p1 = create_person (f, "张", "伟", NULL, NULL, NULL);
  g_autoptr(WzStoredResource) p2 = create_person (f, "李", "娜", NULL, NULL, NULL);
  g_autoptr(WzStoredResource) e1 = create_encounter (f, p1, "Practitioner/a", "arrived",
                                                     "2024-05-01T08:30:00+08:00", "R");
  g_autoptr(WzStoredResource) e2 = create_encounter (f, p2, "Practitioner/a", "triaged",
                                                     "2024-05-01T09:10:00+08:00", "EM");
  g_autoptr(WzStoredResource) e3 = create_encounter (f, p1, "Practitioner/a", "in-progress",
                                                     "2024-05-01T09:40:00+08:00", NULL);
  g_autoptr(WzStoredResource) e4 = create_encounter (f, p2, "Practitioner/b", "finished",
                                                     "2024-04-30T15:00:00+08:00", "UR");
  g_autoptr(WzStoredResource) e5 = create_encounter (f, p1, "Practitioner/a", "planned",
                                                     "2024-05-02T10:00:00+08:00", "EL");
  g_autoptr(GPtrArray) order = NULL;
  g_autofree char *p1_query = g_strdup_printf ("patient=%s", p1->id);
  g_autofree char *subject_query = g_strdup_printf ("subject=Patient/%s&status=planned", p1->id);

  assert_finds (f, "Encounter", "status=arrived,triaged", e1, e2);
  assert_finds (f, "Encounter", "status=arrived,triaged,in-progress&practitioner=Practitioner/a",
                e1, e2, e3);
  assert_finds (f, "Encounter", "practitioner=b", e4);
  assert_finds (f, "Encounter", p1_query, e1, e3, e5);
  assert_finds (f, "Encounter", subject_query, e5);
  /* A day, in the time zone the client sends. */
  assert_finds (f, "Encounter", "date=ge2024-05-01T00:00:00%2B08:00&date=lt2024-05-02T00:00:00%2B08:00",
                e1, e2, e3);
  assert_finds (f, "Encounter", "date=2024-04-30", e4);
  assert_finds (f, "Encounter", "date=gt2024-05-01", e5);
  assert_finds (f, "Encounter", "date=le2024-05-01&practitioner=a", e1, e2, e3);

  /* Urgency first, no priority last; then arrival. */
  order = ordered_ids (f, "Encounter", "_sort=priority,date");
  g_assert_cmpuint (order->len, ==, 5);
  g_assert_cmpstr (g_ptr_array_index (order, 0), ==, e2->id);
  g_assert_cmpstr (g_ptr_array_index (order, 1), ==, e4->id);
  g_assert_cmpstr (g_ptr_array_index (order, 2), ==, e1->id);
  g_assert_cmpstr (g_ptr_array_index (order, 3), ==, e5->id);
  g_assert_cmpstr (g_ptr_array_index (order, 4), ==, e3->id);
  g_clear_pointer (&order, g_ptr_array_unref);
  order = ordered_ids (f, "Encounter", "_sort=-date&practitioner=a");
  g_assert_cmpuint (order->len, ==, 4);
  g_assert_cmpstr (g_ptr_array_index (order, 0), ==, e5->id);
  g_assert_cmpstr (g_ptr_array_index (order, 3), ==, e1->id);

  /* _include: each patient once, after the matches; none when no match names one. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(WzSearchQuery) query = wz_search_query_parse ("Encounter",
                                                            "practitioner=a&_include=Encounter:subject",
                                                            &error);
    g_autoptr(WzStoreResult) result = NULL;
    g_autofree char *included = NULL;
    g_autofree char *expected = sorted_ids (p1, p2, NULL);
    g_autoptr(GPtrArray) ids = g_ptr_array_new ();

    g_assert_no_error (error);
    g_assert_cmpuint (query->include, ==, WZ_SEARCH_INCLUDE_PATIENT);
    result = wz_store_search (f->store, query, &error);
    g_assert_no_error (error);
    g_assert_cmpint (result->total, ==, 4);
    g_assert_nonnull (result->included);
    for (guint i = 0; i < result->included->len; i++)
      {
        WzStoredResource *r = g_ptr_array_index (result->included, i);

        g_assert_cmpstr (r->type, ==, "Patient");
        g_ptr_array_add (ids, r->id);
      }
    g_ptr_array_sort (ids, compare_strings);
    g_ptr_array_add (ids, NULL);
    included = g_strjoinv (" ", (char **) ids->pdata);
    g_assert_cmpstr (included, ==, expected);

    /* A patient the user may not see is not included either. */
    g_clear_pointer (&query, wz_search_query_free);
    g_clear_pointer (&result, wz_store_result_free);
    query = wz_search_query_parse ("Encounter", "_include=Encounter:patient", &error);
    query->visible_to_patient = g_strdup_printf ("Patient/%s", p2->id);
    result = wz_store_search (f->store, query, &error);
    g_assert_no_error (error);
    g_assert_cmpint (result->total, ==, 2);
    g_assert_cmpuint (result->included->len, ==, 1);
    g_assert_cmpstr (((WzStoredResource *) g_ptr_array_index (result->included, 0))->id, ==,
                     p2->id);
  }
}

#define CONDITION_JSON "{\"resourceType\":\"Condition\",\"clinicalStatus\":{\"coding\":[{" \
                          "\"system\":\"http://terminology.hl7.org/CodeSystem/condition-clinical\"," \
                          "\"code\":\"%s\"}]},\"category\":[{\"coding\":[{\"system\":\"http://" \
                          "terminology.hl7.org/CodeSystem/condition-category\",\"code\":\"%s\"}]}]," \
                          "\"code\":{\"coding\":[{\"system\":\"http://hl7.org/fhir/sid/icd-10\"," \
                          "\"code\":\"%s\"}]},\"subject\":{\"reference\":\"Patient/%s\"}%s," \
                          "\"recordedDate\":\"%s\"}"

static void
test_clinical (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(WzStoredResource) p1 = create_person (f, "张", "伟", NULL, NULL, NULL);
  g_autoptr(WzStoredResource) p2 = create_person (f, "李", "娜", NULL, NULL, NULL);
  g_autoptr(WzStoredResource) e1 = create_encounter (f, p1, "Practitioner/a", "finished",
                                                     "2024-05-01T08:30:00+08:00", NULL);
  g_autofree char *json = NULL;
  g_autoptr(WzStoredResource) hypertension = NULL;
  g_autoptr(WzStoredResource) diabetes = NULL;
  g_autoptr(WzStoredResource) resolved = NULL;
  g_autoptr(WzStoredResource) penicillin = NULL;
  g_autoptr(WzStoredResource) peanut = NULL;
  g_autoptr(WzStoredResource) bp = NULL;
  g_autoptr(WzStoredResource) note = NULL;
  g_autoptr(WzStoredResource) statement = NULL;
  g_autoptr(GPtrArray) order = NULL;

  json = g_strdup_printf (CONDITION_JSON, "active", "problem-list-item", "I10", p1->id, "",
                          "2020-01-10");
  hypertension = create (f, json);
  g_clear_pointer (&json, g_free);
  {
    g_autofree char *encounter = g_strdup_printf (",\"encounter\":{\"reference\":\"Encounter/%s\"}",
                                                  e1->id);

    json = g_strdup_printf (CONDITION_JSON, "active", "encounter-diagnosis", "E11.9", p1->id,
                            encounter, "2024-05-01");
  }
  diabetes = create (f, json);
  g_clear_pointer (&json, g_free);
  json = g_strdup_printf (CONDITION_JSON, "resolved", "encounter-diagnosis", "J06.9", p2->id, "",
                          "2023-02-03");
  resolved = create (f, json);
  g_clear_pointer (&json, g_free);

  json = g_strdup_printf ("{\"resourceType\":\"AllergyIntolerance\",\"clinicalStatus\":{\"coding\":"
                          "[{\"code\":\"active\"}]},\"category\":[\"medication\"],\"code\":{"
                          "\"coding\":[{\"system\":\"http://www.whocc.no/atc\",\"code\":\"J01CA04\"}]},"
                          "\"patient\":{\"reference\":\"Patient/%s\"},\"recordedDate\":\"2022-11-15\"}",
                          p1->id);
  penicillin = create (f, json);
  g_clear_pointer (&json, g_free);
  json = g_strdup_printf ("{\"resourceType\":\"AllergyIntolerance\",\"category\":[\"food\"],\"code\":"
                          "{\"coding\":[{\"system\":\"http://snomed.info/sct\",\"code\":\"256349002\"}]},"
                          "\"patient\":{\"reference\":\"Patient/%s\"}}", p2->id);
  peanut = create (f, json);
  g_clear_pointer (&json, g_free);

  json = g_strdup_printf ("{\"resourceType\":\"Observation\",\"status\":\"final\",\"category\":[{"
                          "\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/"
                          "observation-category\",\"code\":\"vital-signs\"}]}],\"code\":{\"coding\":"
                          "[{\"system\":\"http://loinc.org\",\"code\":\"85354-9\"}]},\"subject\":{"
                          "\"reference\":\"Patient/%s\"},\"encounter\":{\"reference\":\"Encounter/%s\"},"
                          "\"effectiveDateTime\":\"2024-05-01T08:40:00+08:00\"}", p1->id, e1->id);
  bp = create (f, json);
  g_clear_pointer (&json, g_free);

  json = g_strdup_printf ("{\"resourceType\":\"DocumentReference\",\"status\":\"current\",\"type\":"
                          "{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"11488-4\"}]},"
                          "\"subject\":{\"reference\":\"Patient/%s\"},\"context\":{\"encounter\":[{"
                          "\"reference\":\"Encounter/%s\"}]},\"date\":\"2024-05-01T09:00:00+08:00\","
                          "\"content\":[{\"attachment\":{\"contentType\":\"text/markdown\"}}]}",
                          p1->id, e1->id);
  note = create (f, json);
  g_clear_pointer (&json, g_free);

  json = g_strdup_printf ("{\"resourceType\":\"MedicationStatement\",\"status\":\"active\","
                          "\"medicationCodeableConcept\":{\"coding\":[{\"system\":\"http://www.whocc.no"
                          "/atc\",\"code\":\"C08CA01\"}]},\"subject\":{\"reference\":\"Patient/%s\"},"
                          "\"effectiveDateTime\":\"2024-01-01\"}", p1->id);
  statement = create (f, json);
  g_clear_pointer (&json, g_free);

  /* Codes with or without their system, categories, clinical status. */
  assert_finds (f, "Condition", "code=I10", hypertension);
  assert_finds (f, "Condition",
                "code=http://hl7.org/fhir/sid/icd-10|E11.9,http://hl7.org/fhir/sid/icd-10|I10",
                hypertension, diabetes);
  assert_finds_none (f, "Condition", "code=http://snomed.info/sct|I10");
  assert_finds (f, "Condition", "category=encounter-diagnosis", diabetes, resolved);
  assert_finds (f, "Condition", "clinical-status=active", hypertension, diabetes);
  json = g_strdup_printf ("patient=%s&clinical-status=active&_sort=-date", p1->id);
  order = ordered_ids (f, "Condition", json);
  g_clear_pointer (&json, g_free);
  g_assert_cmpuint (order->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (order, 0), ==, diabetes->id);
  json = g_strdup_printf ("encounter=%s", e1->id);
  assert_finds (f, "Condition", json, diabetes);
  assert_finds (f, "Observation", json, bp);
  assert_finds (f, "DocumentReference", json, note);
  g_clear_pointer (&json, g_free);
  assert_finds (f, "Condition", "date=ge2023", diabetes, resolved);

  /* AllergyIntolerance.category is a plain code. */
  assert_finds (f, "AllergyIntolerance", "category=medication", penicillin);
  assert_finds (f, "AllergyIntolerance", "code=256349002", peanut);
  assert_finds (f, "AllergyIntolerance", "clinical-status=active", penicillin);

  assert_finds (f, "Observation", "category=vital-signs&code=http://loinc.org|85354-9", bp);
  assert_finds (f, "Observation", "date=2024-05-01", bp);
  /* DocumentReference: type, and code for the same field. */
  assert_finds (f, "DocumentReference", "type=11488-4", note);
  assert_finds (f, "DocumentReference", "code=http://loinc.org|11488-4", note);
  assert_finds (f, "MedicationStatement", "code=C08CA01&status=active", statement);
  json = g_strdup_printf ("subject=%s", p1->id);
  assert_finds (f, "MedicationStatement", json, statement);
}

static void
test_paging (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GPtrArray) created = g_ptr_array_new_with_free_func ((GDestroyNotify) wz_stored_resource_free);
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *page = NULL;

  for (guint i = 0; i < 25; i++)
    {
      g_autofree char *given = g_strdup_printf ("测%c", 'a' + i);

      g_ptr_array_add (created, create_person (f, "赵", given, NULL, NULL, NULL));
    }
  g_ptr_array_add (created, create_person (f, "钱", "测", NULL, NULL, NULL));

  /* Three pages of 10, 10 and 5: every match once, the total on each. */
  for (guint offset = 0; offset < 30; offset += 10)
    {
      g_autoptr(WzSearchQuery) query = NULL;
      g_autoptr(WzStoreResult) result = NULL;
      g_autofree char *query_string = g_strdup_printf ("name=赵&_count=10&_offset=%u", offset);

      query = wz_search_query_parse ("Patient", query_string, &error);
      g_assert_no_error (error);
      result = wz_store_search (f->store, query, &error);
      g_assert_no_error (error);
      g_assert_cmpint (result->total, ==, 25);
      g_assert_cmpuint (result->resources->len, ==, offset < 20 ? 10 : 5);
      for (guint i = 0; i < result->resources->len; i++)
        g_assert_true (g_hash_table_add (seen, g_strdup (((WzStoredResource *)
                                                         g_ptr_array_index (result->resources, i))->id)));

      /* The next link keeps the filter. */
      g_clear_pointer (&page, g_free);
      page = wz_search_query_page_string (query, offset + 10);
    }
  g_assert_cmpuint (g_hash_table_size (seen), ==, 25);
  g_assert_nonnull (strstr (page, "name=%E8%B5%B5") ?: strstr (page, "name=赵"));
  g_assert_nonnull (strstr (page, "_offset=30"));

  /* Past the end: nothing, but still the total. */
  {
    g_autoptr(WzSearchQuery) query = wz_search_query_parse ("Patient", "name=赵&_offset=40", &error);
    g_autoptr(WzStoreResult) result = wz_store_search (f->store, query, &error);

    g_assert_no_error (error);
    g_assert_cmpint (result->total, ==, 25);
    g_assert_cmpuint (result->resources->len, ==, 0);
  }
  /* _count=0: only the total. */
  {
    g_autoptr(WzSearchQuery) query = wz_search_query_parse ("Patient", "q=测&_count=0", &error);
    g_autoptr(WzStoreResult) result = wz_store_search (f->store, query, &error);

    g_assert_no_error (error);
    g_assert_cmpint (result->total, ==, 26);
    g_assert_cmpuint (result->resources->len, ==, 0);
  }
}

/* A search that many patients match (one character of a common family name): the page is found
 * by testing rows in order rather than from every matching rid, with the same answer; with
 * _total=none nothing is counted beyond the page, yet paging still knows when it has reached
 * the end. Seen by all, and by a doctor with a third of them. */
static void
test_dense_and_total (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GPtrArray) wang = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) mine = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GError) error = NULL;
  const char *doctor = "Practitioner/dense-doc";
  guint n_wang = 0;

  g_assert_true (wz_sqlite_store_begin_batch (f->sqlite, &error));
  /* Over four thousand index entries starting with 王 (family and full name each). */
  for (guint i = 0; i < 2800; i++)
    {
      g_autofree char *given = g_strdup_printf ("测%u", i);
      /* Every seventh is someone else, so the matches are not simply every row. */
      gboolean is_wang = i % 7 != 3;
      g_autofree char *extra = i % 3 == 0
        ? g_strdup_printf ("\"generalPractitioner\":[{\"reference\":\"%s\"}]", doctor) : NULL;
      g_autoptr(WzStoredResource) p = create_named (f, is_wang ? "王" : "李", given, extra);

      if (is_wang)
        {
          g_ptr_array_add (wang, g_strdup (p->id));
          if (i % 3 == 0)
            g_ptr_array_add (mine, g_strdup (p->id));
          n_wang++;
        }
    }
  g_assert_true (wz_sqlite_store_end_batch (f->sqlite, TRUE, &error));

  for (guint v = 0; v < 2; v++)
    {
      const char *practitioner = v == 0 ? NULL : doctor;
      GPtrArray *expected = v == 0 ? wang : mine;
      guint offset = 0;
      gint64 after = 0;
      gboolean more = TRUE;

      g_hash_table_remove_all (seen);
      /* Each page after the first continues from where the one before ended (as its next link
       * says), on odd pages of the doctor's list by offset alone: both give the same pages. */
      while (more)
        {
          g_autofree char *query_string = g_strdup_printf ("name=王&_count=50&_offset=%u"
                                                           "&_total=none", offset);
          g_autoptr(WzSearchQuery) query = wz_search_query_parse ("Patient", query_string,
                                                                  &error);
          g_autoptr(WzStoreResult) result = NULL;

          g_assert_no_error (error);
          query->visible_to_practitioner = g_strdup (practitioner);
          if (v == 0 || (offset / 50) % 2 == 0)
            query->after = after;
          result = wz_store_search (f->store, query, &error);
          g_assert_no_error (error);
          more = result->more;
          g_assert_true (more ? result->next_after > after : result->next_after == 0);
          after = result->next_after;
          /* Known only on the last page. */
          g_assert_cmpint (result->total, ==, more ? -1 : (gint64) (offset + result->resources->len));
          g_assert_cmpuint (result->resources->len, ==, more ? 50 : expected->len - offset);
          /* In the order of creation, the default order. */
          for (guint i = 0; i < result->resources->len; i++)
            {
              WzStoredResource *r = g_ptr_array_index (result->resources, i);

              g_assert_cmpstr (r->id, ==, g_ptr_array_index (expected, offset + i));
              g_assert_true (g_hash_table_add (seen, g_strdup (r->id)));
            }
          offset += 50;
        }
      g_assert_cmpuint (g_hash_table_size (seen), ==, expected->len);

      /* Counted when asked, the usual way. */
      {
        g_autoptr(WzSearchQuery) query = wz_search_query_parse ("Patient", "name=王&_count=5",
                                                                &error);
        g_autoptr(WzStoreResult) result = NULL;

        query->visible_to_practitioner = g_strdup (practitioner);
        result = wz_store_search (f->store, query, &error);
        g_assert_no_error (error);
        g_assert_cmpint (result->total, ==, expected->len);
        g_assert_true (result->more);
      }
    }
  g_assert_cmpuint (n_wang, ==, wang->len);

  /* An unknown _total is refused, not ignored. */
  {
    g_autoptr(WzSearchQuery) query = wz_search_query_parse ("Patient", "_total=some", &error);

    g_assert_null (query);
    g_assert_error (error, WZ_ERROR, WZ_ERROR_INVALID);
  }
}

/* A day with more visits than DENSE_DATE_ROWS: the worklist's pages are read in rid order with
 * the date and status tested on each row, and come out the same as the visits that match, in
 * creation order, each once. */
static void
test_dense_day (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GPtrArray) expected = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autoptr(WzStoredResource) patient = create_named (f, "周", "一", NULL);
  g_autofree char *patient_ref = ref (patient);
  const char *doctor = "Practitioner/busy-doc";
  gint64 after = 0;
  guint offset = 0, found = 0;
  gboolean more = TRUE;

  g_assert_true (wz_sqlite_store_begin_batch (f->sqlite, &error));
  for (guint i = 0; i < 4600; i++)
    {
      /* Every fifth was cancelled; every seventh was yesterday. */
      const char *status = i % 5 == 0 ? "cancelled" : "arrived";
      const char *day = i % 7 == 0 ? "2030-03-14" : "2030-03-15";
      g_autofree char *json = g_strdup_printf (
        "{\"resourceType\":\"Encounter\",\"status\":\"%s\",\"class\":{\"code\":\"VR\"},"
        "\"subject\":{\"reference\":\"%s\"},\"participant\":[{\"individual\":{"
        "\"reference\":\"%s\"}}],\"period\":{\"start\":\"%sT%02u:%02u:00Z\"}}",
        status, patient_ref, doctor, day, 8 + i % 10, i % 60);
      g_autoptr(WzStoredResource) e = create (f, json);

      if (i % 5 != 0 && i % 7 != 0)
        g_ptr_array_add (expected, g_strdup (e->id));
    }
  g_assert_true (wz_sqlite_store_end_batch (f->sqlite, TRUE, &error));

  while (more)
    {
      g_autofree char *query_string = g_strdup_printf (
        "practitioner=%s&date=ge2030-03-15&date=lt2030-03-16&status=arrived,triaged"
        "&_include=Encounter:subject&_count=200&_total=none", doctor);
      g_autoptr(WzSearchQuery) query = wz_search_query_parse ("Encounter", query_string, &error);
      g_autoptr(WzStoreResult) result = NULL;

      g_assert_no_error (error);
      query->visible_to_practitioner = g_strdup (doctor);
      query->offset = offset;
      query->after = after;
      result = wz_store_search (f->store, query, &error);
      g_assert_no_error (error);
      for (guint i = 0; i < result->resources->len; i++)
        {
          WzStoredResource *r = g_ptr_array_index (result->resources, i);

          g_assert_cmpuint (found, <, expected->len);
          g_assert_cmpstr (r->id, ==, g_ptr_array_index (expected, found));
          found++;
        }
      /* The one patient of all these visits, once per page. */
      g_assert_cmpuint (result->included->len, ==, 1);
      more = result->more;
      after = result->next_after;
      offset += 200;
    }
  g_assert_cmpuint (found, ==, expected->len);

  /* Counted, the total is the same. */
  {
    g_autofree char *query_string = g_strdup_printf (
      "practitioner=%s&date=ge2030-03-15&date=lt2030-03-16&status=arrived&_count=10", doctor);
    g_autoptr(WzSearchQuery) query = wz_search_query_parse ("Encounter", query_string, &error);
    g_autoptr(WzStoreResult) result = NULL;

    query->visible_to_practitioner = g_strdup (doctor);
    result = wz_store_search (f->store, query, &error);
    g_assert_no_error (error);
    g_assert_cmpint (result->total, ==, expected->len);
  }
}

static void
test_bad_parameters (Fixture       *f,
                     gconstpointer  data)
{
  const struct { const char *type, *query, *diagnostic; } bad[] = {
    { "Patient", "name:below=x", "name does not support" },
    { "Patient", "pinyin=zh4ng", "pinyin" },
    { "Patient", "phone=abc", "phone" },
    { "Patient", "q=", "q" },
    { "Patient", "q=%20%20", "q" },
    { "Patient", "birthdate=someday", "birthdate" },
    { "Patient", "identifier=a|1,2", "system" },
    { "Patient", "_sort=priority", "priority" },
    { "Patient", "_include=Patient:subject", "_include" },
    { "Encounter", "_include=Encounter:practitioner", "Encounter:subject" },
    { "Encounter", "status:not=finished", "takes no modifier" },
    { "Encounter", "date=tomorrow", "date" },
    { "Encounter", "general-practitioner=a", "no search parameter" },
    { "Condition", "code=", "code" },
    { "Condition", "name=x", "no search parameter" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(WzSearchQuery) query = wz_search_query_parse (bad[i].type, bad[i].query, &error);

      if (query != NULL)
        g_error ("%s?%s was accepted", bad[i].type, bad[i].query);
      g_assert_error (error, WZ_ERROR, WZ_ERROR_INVALID);
      if (strstr (error->message, bad[i].diagnostic) == NULL)
        g_error ("%s?%s: “%s” does not mention %s", bad[i].type, bad[i].query, error->message,
                 bad[i].diagnostic);
    }
}

/* The schema of the first release (migration 1), as an older server left it. */
static const char old_schema[] =
  "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL);"
  "INSERT INTO schema_migrations VALUES (1, '2024-05-01T00:00:00Z');"
  "CREATE TABLE resources (rid INTEGER PRIMARY KEY, type TEXT NOT NULL, id TEXT NOT NULL,"
  "  version_id INTEGER NOT NULL, last_updated INTEGER NOT NULL, status TEXT, patient TEXT,"
  "  encounter TEXT, date TEXT, family TEXT, json TEXT NOT NULL, UNIQUE (type, id));"
  "CREATE INDEX resources_patient ON resources (type, patient);"
  "CREATE INDEX resources_encounter ON resources (type, encounter);"
  "CREATE INDEX resources_status ON resources (type, status);"
  "CREATE INDEX resources_date ON resources (type, date);"
  "CREATE INDEX resources_family ON resources (type, family);"
  "CREATE INDEX resources_updated ON resources (type, last_updated);"
  "CREATE TABLE resource_tokens (rid INTEGER NOT NULL REFERENCES resources (rid),"
  "  param TEXT NOT NULL, value TEXT NOT NULL);"
  "CREATE INDEX resource_tokens_value ON resource_tokens (param, value);"
  "CREATE INDEX resource_tokens_rid ON resource_tokens (rid);"
  "CREATE TABLE history (type TEXT NOT NULL, id TEXT NOT NULL, version_id INTEGER NOT NULL,"
  "  last_updated INTEGER NOT NULL, patient TEXT, status TEXT, json TEXT NOT NULL,"
  "  PRIMARY KEY (type, id, version_id));"
  "CREATE TRIGGER history_no_delete BEFORE DELETE ON history"
  "  BEGIN SELECT RAISE (ABORT, 'history is append-only'); END;"
  "CREATE TRIGGER history_no_update BEFORE UPDATE ON history"
  "  BEGIN SELECT RAISE (ABORT, 'history is append-only'); END;"
  "CREATE TRIGGER resources_no_delete BEFORE DELETE ON resources"
  "  BEGIN SELECT RAISE (ABORT, 'resources are retired, not deleted'); END;"
  /* A patient and an encounter as version 1 stored them: only the tokens it knew. */
  "INSERT INTO resources VALUES (1, 'Patient', 'p1', 1, 1714521600000000, 'true', 'Patient/p1',"
  "  NULL, '1951-03-14', '张', '{\"resourceType\":\"Patient\",\"id\":\"p1\",\"meta\":{\"versionId\":"
  "\"1\",\"lastUpdated\":\"2024-05-01T00:00:00.000Z\"},\"active\":true,\"name\":[{\"text\":\"张秀英\","
  "\"family\":\"张\",\"given\":[\"秀英\"]}],\"telecom\":[{\"system\":\"phone\",\"value\":"
  "\"+86 138 0013 8000\"}],\"birthDate\":\"1951-03-14\",\"generalPractitioner\":[{\"reference\":"
  "\"Practitioner/gp\"}]}');"
  "INSERT INTO resource_tokens VALUES (1, 'name', '张'), (1, 'family', '张'),"
  "  (1, 'name', '张秀英'), (1, 'name', '秀英'), (1, 'practitioner', 'Practitioner/gp');"
  "INSERT INTO resources VALUES (2, 'Encounter', 'e1', 1, 1714521600000000, 'arrived',"
  "  'Patient/p1', NULL, '2024-05-01T08:30:00+08:00', NULL, '{\"resourceType\":\"Encounter\",\"id\":"
  "\"e1\",\"meta\":{\"versionId\":\"1\",\"lastUpdated\":\"2024-05-01T00:00:00.000Z\"},\"status\":"
  "\"arrived\",\"priority\":{\"coding\":[{\"code\":\"UR\"}]},\"subject\":{\"reference\":"
  "\"Patient/p1\"},\"participant\":[{\"individual\":{\"reference\":\"Practitioner/doc\"}}],"
  "\"period\":{\"start\":\"2024-05-01T08:30:00+08:00\"}}');"
  "INSERT INTO resource_tokens VALUES (2, 'practitioner', 'Practitioner/doc');";

static void
test_migration (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("wz-search-old-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "fhir.db", NULL);
  g_autoptr(WzSqliteStore) sqlite = NULL;
  Fixture f = { 0 };
  sqlite3 *db = NULL;
  char *message = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  if (sqlite3_exec (db, old_schema, NULL, NULL, &message) != SQLITE_OK)
    g_error ("old schema: %s", message);
  sqlite3_close (db);

  /* Opening with this server migrates and indexes what was there. */
  sqlite = wz_sqlite_store_open (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpint (wz_sqlite_store_schema_version (sqlite), ==,
                   wz_sqlite_store_latest_schema_version ());
  f.sqlite = sqlite;
  f.store = WZ_STORE (sqlite);

  {
    g_autofree char *ids = search_ids (&f, "Patient", "pinyin=zxy", NULL, NULL);

    g_assert_cmpstr (ids, ==, "p1");
  }
  {
    g_autofree char *ids = search_ids (&f, "Patient", "q=8000", NULL, NULL);

    g_assert_cmpstr (ids, ==, "p1");
  }
  {
    g_autofree char *ids = search_ids (&f, "Patient", "name:contains=秀", NULL, NULL);

    g_assert_cmpstr (ids, ==, "p1");
  }
  {
    g_autofree char *ids = search_ids (&f, "Patient", "phone=13800138000", NULL, NULL);

    g_assert_cmpstr (ids, ==, "p1");
  }
  {
    g_autofree char *ids = search_ids (&f, "Encounter", "_sort=priority", "Practitioner/doc", NULL);

    g_assert_cmpstr (ids, ==, "e1");
  }
  /* The care team comes from both the Patient and the Encounter. */
  g_assert_true (wz_store_is_on_care_team (f.store, "Patient/p1", "Practitioner/gp", &error));
  g_assert_true (wz_store_is_on_care_team (f.store, "Patient/p1", "Practitioner/doc", &error));
  g_assert_false (wz_store_is_on_care_team (f.store, "Patient/p1", "Practitioner/other", &error));
  g_assert_no_error (error);

  g_clear_object (&sqlite);
  wz_test_rm_rf (dir);
}

/* Runs bench/queue/wz-gen-patients into DATA_DIR; returns its stdout. */
static char *
generate (const char *data_dir,
          const char *patients,
          const char *small_team,
          const char *today)
{
  const char *build = g_getenv ("WZ_BUILD");
  g_autofree char *tool = NULL;
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  char *out = NULL;

  g_assert_nonnull (build);
  tool = g_build_filename (build, "bench", "queue", "wz-gen-patients", NULL);
  g_assert_true (g_file_test (tool, G_FILE_TEST_IS_EXECUTABLE));

  g_subprocess_launcher_setenv (launcher, "WZ_DEMO_PASSWORD", "search-test-password", TRUE);
  process = g_subprocess_launcher_spawn (launcher, &error, tool, "--data-dir", data_dir,
                                         "--patients", patients, "--small-team", small_team,
                                         "--today", today, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);

  return out;
}

/* "Practitioner/ID" of USERNAME in the generator's output. */
static char *
generated_doctor (const char *out,
                  const char *username,
                  guint       n_patients)
{
  g_auto(GStrv) lines = g_strsplit (out, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) fields = g_strsplit (lines[i], " ", 3);

      if (g_strv_length (fields) == 3 && strcmp (fields[0], username) == 0)
        {
          g_assert_true (g_str_has_prefix (fields[1], "Practitioner/"));
          g_assert_cmpuint (g_ascii_strtoull (fields[2], NULL, 10), ==, n_patients);
          return g_strdup (fields[1]);
        }
    }

  g_error ("The generator named no %s: %s", username, out);
  return NULL;
}

static gint64
count (Fixture    *f,
       const char *type,
       const char *query_string,
       const char *practitioner)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WzSearchQuery) query = wz_search_query_parse (type, query_string, &error);
  g_autoptr(WzStoreResult) result = NULL;

  g_assert_no_error (error);
  query->count = 0;
  query->visible_to_practitioner = g_strdup (practitioner);
  result = wz_store_search (f->store, query, &error);
  g_assert_no_error (error);

  return result->total;
}

/* ISO 7064 MOD 11-2 over the first 17 digits, as printed on the card. */
static char
check_digit (const char *id)
{
  static const int weights[] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2 };
  int sum = 0;

  for (guint i = 0; i < 17; i++)
    {
      g_assert_true (g_ascii_isdigit (id[i]));
      sum += (id[i] - '0') * weights[i];
    }

  return "10X98765432"[sum % 11];
}

static void
test_generator (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("wz-search-gen-XXXXXX", &error);
  g_autofree char *out = generate (dir, "80", "12", "10");
  g_autofree char *doctor = generated_doctor (out, "doctor", 80);
  g_autofree char *doctor2 = generated_doctor (out, "doctor2", 12);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *today = g_date_time_format (now, "ge%Y-%m-%dT00:00:00%:z");
  g_autoptr(WzStoreResult) patients = NULL;
  g_autoptr(WzSearchQuery) query = NULL;
  g_autoptr(GHashTable) families = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  Fixture f = { 0 };
  guint n_chinese = 0, n_children = 0, n_elderly = 0;

  g_assert_no_error (error);
  f.sqlite = wz_sqlite_store_open (dir, &error);
  g_assert_no_error (error);
  f.store = WZ_STORE (f.sqlite);

  /* Every patient is on doctor's care team; doctor2 has seen exactly the small team. */
  g_assert_cmpint (count (&f, "Patient", NULL, NULL), ==, 80);
  g_assert_cmpint (count (&f, "Patient", NULL, doctor), ==, 80);
  g_assert_cmpint (count (&f, "Patient", NULL, doctor2), ==, 12);
  g_assert_cmpint (count (&f, "Condition", NULL, NULL), >, 0);
  g_assert_cmpint (count (&f, "Encounter", "status=finished", NULL), >, 0);

  /* Today's queue of the doctor, in the states the worklist shows. */
  {
    g_autofree char *escaped = g_uri_escape_string (today, NULL, FALSE);
    g_autofree char *q = g_strdup_printf ("date=%s&practitioner=%s", escaped, doctor);

    g_assert_cmpint (count (&f, "Encounter", q, doctor), ==, 10);
    g_clear_pointer (&q, g_free);
    q = g_strdup_printf ("date=%s&practitioner=%s&status=arrived,triaged", escaped, doctor);
    g_assert_cmpint (count (&f, "Encounter", q, doctor), >, 0);
  }

  /* Realistic identity data, consistent within each record. */
  query = wz_search_query_parse ("Patient", "_count=200", &error);
  g_assert_no_error (error);
  patients = wz_store_search (f.store, query, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (patients->resources->len, ==, 80);
  for (guint i = 0; i < patients->resources->len; i++)
    {
      WzStoredResource *stored = g_ptr_array_index (patients->resources, i);
      g_autoptr(JsonNode) root = NULL;
      JsonObject *patient = wz_test_parse_bytes (stored->json, &root);
      JsonObject *identifier = json_array_get_object_element (json_object_get_array_member (patient, "identifier"), 0);
      JsonObject *telecom = json_array_get_object_element (json_object_get_array_member (patient, "telecom"), 0);
      const char *system = json_object_get_string_member (identifier, "system");
      const char *id = json_object_get_string_member (identifier, "value");
      const char *birth = json_object_get_string_member (patient, "birthDate");
      const char *gender = json_object_get_string_member (patient, "gender");
      g_autofree char *digits = NULL;
      const char *national;
      int year = atoi (birth);
      int age = g_date_time_get_year (now) - year;

      g_assert_true (g_strcmp0 (gender, "male") == 0 || g_strcmp0 (gender, "female") == 0);
      g_assert_cmpint (age, >=, 0);
      g_assert_cmpint (age, <=, 97);
      if (age < 6)
        {
          n_children++;
          g_assert_true (json_object_has_member (patient, "contact"));
        }
      if (age >= 65)
        n_elderly++;

      if (g_str_has_suffix (system, "resident-id"))
        {
          n_chinese++;
          g_assert_cmpuint (strlen (id), ==, 18);
          g_assert_cmpint (id[17], ==, check_digit (id));
          /* The birth date is embedded, and the 17th digit is odd for men. */
          {
            g_autofree char *embedded = g_strndup (id + 6, 8);
            g_autofree char *written = g_strdup_printf ("%.4s%.2s%.2s", birth, birth + 5, birth + 8);

            g_assert_cmpstr (embedded, ==, written);
          }
          g_assert_cmpint ((id[16] - '0') % 2, ==, strcmp (gender, "male") == 0 ? 1 : 0);
          g_hash_table_add (families, g_strdup (wz_test_family (patient)));
        }
      else
        g_assert_true (g_str_has_suffix (system, "passport"));

      digits = wz_fhir_index_phone_digits (json_object_get_string_member (telecom, "value"));
      g_assert_nonnull (digits);
      national = g_str_has_prefix (digits, "86") && strlen (digits) == 13 ? digits + 2 : digits;
      g_assert_cmpuint (strlen (national), ==, 11);
      g_assert_cmpint (national[0], ==, '1');
      g_assert_cmpint (national[1], >=, '3');
    }
  /* Mostly Chinese patients with varied surnames, of all ages. */
  g_assert_cmpuint (n_chinese, >=, 70);
  g_assert_cmpuint (g_hash_table_size (families), >=, 15);
  g_assert_cmpuint (n_elderly, >, 0);
  (void) n_children;

  g_clear_object (&f.sqlite);
  wz_test_rm_rf (dir);
}

/* Over HTTP with a generated data set: what two doctors see, and bad parameters. */
static void
test_http (void)
{
  g_autoptr(WzTestServer) server = wz_test_server_new ();
  g_autofree char *out = generate (server->data_dir, "60", "7", "6");
  g_autofree char *doctor = generated_doctor (out, "doctor", 60);
  g_autofree char *token = NULL;
  g_autofree char *token2 = NULL;
  g_autofree char *path = NULL;
  g_autoptr(WzTestResponse) response = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonObject *bundle;
  JsonArray *entries;
  guint n_match = 0, n_include = 0;
  const char *bad[] = {
    "/fhir/Patient?pinyin=zh4ng", "/fhir/Patient?name:sounds-like=x", "/fhir/Patient?q=",
    "/fhir/Encounter?_include=Encounter:nothing", "/fhir/Patient?_sort=priority",
    "/fhir/Patient?phone=none",
  };

  wz_test_server_start (server);
  token = wz_test_server_login (server, "doctor", "search-test-password");
  token2 = wz_test_server_login (server, "doctor2", "search-test-password");

  response = wz_test_request (server, "GET", "/fhir/Patient?_count=0", token, NULL, NULL);
  g_assert_cmpuint (response->status, ==, 200);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (response->json), "total"), ==, 60);
  g_clear_pointer (&response, wz_test_response_free);
  response = wz_test_request (server, "GET", "/fhir/Patient?_count=0", token2, NULL, NULL);
  g_assert_cmpuint (response->status, ==, 200);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (response->json), "total"), ==, 7);
  g_clear_pointer (&response, wz_test_response_free);

  /* Today's queue with its patients included. */
  path = g_strdup_printf ("/fhir/Encounter?practitioner=%s&status=arrived,triaged,planned,"
                          "in-progress,finished,cancelled&_include=Encounter:subject&_count=50",
                          doctor);
  response = wz_test_request (server, "GET", path, token, NULL, NULL);
  g_assert_cmpuint (response->status, ==, 200);
  bundle = wz_test_parse_bytes (response->body, &root);
  entries = json_object_get_array_member (bundle, "entry");
  for (guint i = 0; i < json_array_get_length (entries); i++)
    {
      JsonObject *entry = json_array_get_object_element (entries, i);
      const char *mode = json_object_get_string_member (json_object_get_object_member (entry, "search"),
                                                        "mode");
      const char *type = json_object_get_string_member (json_object_get_object_member (entry, "resource"),
                                                        "resourceType");

      if (strcmp (mode, "match") == 0)
        {
          g_assert_cmpstr (type, ==, "Encounter");
          n_match++;
        }
      else
        {
          g_assert_cmpstr (mode, ==, "include");
          g_assert_cmpstr (type, ==, "Patient");
          n_include++;
        }
    }
  g_assert_cmpuint (n_match, >, 6);
  g_assert_cmpuint (n_include, >, 0);
  g_assert_cmpuint (n_include, <=, n_match);
  g_clear_pointer (&response, wz_test_response_free);

  /* The free-text box finds a patient of the queue by ID number. */
  {
    JsonObject *first = json_object_get_object_member (json_array_get_object_element (entries, 0),
                                                       "resource");
    const char *subject = json_object_get_string_member (json_object_get_object_member (first, "subject"),
                                                         "reference");
    g_autoptr(WzTestResponse) patient = NULL;
    g_autoptr(JsonNode) patient_root = NULL;
    g_autofree char *escaped = NULL;
    g_autofree char *search = NULL;
    g_autofree char *read_path = g_strdup_printf ("/fhir/%s", subject);
    JsonObject *object;
    const char *id;

    patient = wz_test_request (server, "GET", read_path, token, NULL, NULL);
    g_assert_cmpuint (patient->status, ==, 200);
    object = wz_test_parse_bytes (patient->body, &patient_root);
    id = json_object_get_string_member (json_array_get_object_element (json_object_get_array_member (object, "identifier"), 0), "value");
    escaped = g_uri_escape_string (id, NULL, FALSE);
    search = g_strdup_printf ("/fhir/Patient?q=%s", escaped);
    response = wz_test_request (server, "GET", search, token, NULL, NULL);
    g_assert_cmpuint (response->status, ==, 200);
    g_assert_cmpint (json_object_get_int_member (json_node_get_object (response->json), "total"), ==, 1);
    g_clear_pointer (&response, wz_test_response_free);
  }

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      const char *diagnostics;

      response = wz_test_request (server, "GET", bad[i], token, NULL, NULL);
      diagnostics = wz_test_assert_outcome (response, 400);
      g_assert_nonnull (diagnostics);
      g_assert_cmpuint (strlen (diagnostics), >, 10);
      g_clear_pointer (&response, wz_test_response_free);
    }

  g_assert_cmpint (wz_test_server_stop (server), ==, 0);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("/search/care-team", test_care_team);
  ADD ("/search/names", test_names);
  ADD ("/search/pinyin", test_pinyin);
  ADD ("/search/identifier-phone", test_identifier_phone);
  ADD ("/search/free-text", test_free_text);
  ADD ("/search/birthdate", test_birthdate);
  ADD ("/search/encounters", test_encounters);
  ADD ("/search/clinical", test_clinical);
  ADD ("/search/paging", test_paging);
  ADD ("/search/bad-parameters", test_bad_parameters);
  ADD ("/search/dense-and-total", test_dense_and_total);
  ADD ("/search/dense-day", test_dense_day);
  g_test_add_func ("/search/migration", test_migration);
  g_test_add_func ("/search/generator", test_generator);
  g_test_add_func ("/search/http", test_http);

#undef ADD

  return g_test_run ();
}
