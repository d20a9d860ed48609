/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "wz-error.h"
#include "wz-fhir.h"
#include "wz-fhir-index.h"
#include "wz-search-query.h"

/* Thousands of mutated and random bodies through the resource parser, with a fixed seed so a
 * failure can be replayed. Every input must either be accepted as a well-formed resource (and
 * then survive indexing and stamping) or be refused with a WZ_ERROR and a message. */

#define N_MUTATIONS 6000
#define N_RANDOM    2000

static const char *const seeds[] = {
  "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"active\":true,\"name\":[{\"family\":\"张\","
  "\"given\":[\"秀英\"],\"text\":\"张秀英\"}],\"birthDate\":\"1951-03-14\","
  "\"identifier\":[{\"system\":\"urn:ietf:rfc:3986\",\"value\":\"urn:uuid:1\"}]}",
  "{\"resourceType\":\"Appointment\",\"status\":\"booked\",\"start\":\"2024-05-01T09:00:00+08:00\","
  "\"participant\":[{\"actor\":{\"reference\":\"Patient/p1\"}},{\"actor\":{\"reference\":"
  "\"Practitioner/d1\"}}]}",
  "{\"resourceType\":\"Condition\",\"clinicalStatus\":{\"coding\":[{\"code\":\"active\"}]},"
  "\"subject\":{\"reference\":\"Patient/p1\"},\"recordedDate\":\"2023-06-01\",\"meta\":"
  "{\"versionId\":\"2\",\"tag\":[{\"code\":\"x\"}]}}",
  "{\"resourceType\":\"Communication\",\"status\":\"completed\",\"payload\":[{\"contentString\":"
  "\"您好\\n\\u4f60\\\"\"}],\"sent\":\"2024-05-01T08:00:00Z\"}",
};

static const char *const fragments[] = {
  "{", "}", "[", "]", ",", ":", "\"", "\\", "null", "true", "1e999", "-0", "\"resourceType\"",
  "\"Patient\"", "\"id\"", "\"meta\"", "{}", "[]", "\xff", "\xc3\x28", "\xe4\xbd", "\x00",
  "\"\\ud800\"", "\"\\u0000\"", "    ", "\n",
};

static void
check_one (const char *data,
           gsize       length,
           guint      *n_accepted,
           guint      *n_refused)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = wz_fhir_parse_resource (data, length, NULL, NULL, &error);

  if (root == NULL)
    {
      g_assert_nonnull (error);
      g_assert_true (error->domain == WZ_ERROR);
      g_assert_true (error->code == WZ_ERROR_INVALID || error->code == WZ_ERROR_TOO_LARGE);
      g_assert_true (error->message != NULL && error->message[0] != '\0');
      (*n_refused)++;
      return;
    }

  g_assert_no_error (error);
  (*n_accepted)++;

  /* What is accepted must also be storable. */
  {
    JsonObject *object = json_node_get_object (root);
    g_autoptr(WzFhirIndex) index = wz_fhir_index_new (object, "fuzz");
    g_autofree char *stamped = wz_fhir_stamp (object, "fuzz", 1, 0, NULL);
    g_autoptr(GError) again_error = NULL;
    g_autoptr(JsonNode) again = wz_fhir_parse_resource (stamped, -1, NULL, NULL, &again_error);

    g_assert_nonnull (index);
    g_assert_no_error (again_error);
    g_assert_nonnull (again);
  }
}

static GString *
mutate (GRand      *rand,
        const char *seed)
{
  GString *bytes = g_string_new (seed);
  guint n_edits = g_rand_int_range (rand, 1, 6);

  for (guint e = 0; e < n_edits && bytes->len > 0; e++)
    {
      guint at = g_rand_int_range (rand, 0, bytes->len);

      switch (g_rand_int_range (rand, 0, 5))
        {
        case 0:  /* flip a bit */
          bytes->str[at] ^= 1 << g_rand_int_range (rand, 0, 8);
          break;
        case 1:  /* delete a run */
          {
            gsize n = g_rand_int_range (rand, 1, 16);

            g_string_erase (bytes, at, MIN (bytes->len - at, n));
          }
          break;
        case 2:  /* insert a fragment */
          {
            const char *fragment = fragments[g_rand_int_range (rand, 0, G_N_ELEMENTS (fragments))];
            gsize n = fragment[0] == '\0' ? 1 : strlen (fragment);

            g_string_insert_len (bytes, at, fragment, n);
          }
          break;
        case 3:  /* duplicate a run */
          {
            gsize wanted = g_rand_int_range (rand, 1, 32);
            gsize n = MIN (bytes->len - at, wanted);
            g_autofree char *copy = g_memdup2 (bytes->str + at, n);

            g_string_insert_len (bytes, at, copy, n);
          }
          break;
        default:  /* truncate */
          g_string_truncate (bytes, at);
          break;
        }
    }

  return bytes;
}

static void
test_mutations (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (20240501);
  guint accepted = 0, refused = 0;

  for (guint i = 0; i < N_MUTATIONS; i++)
    {
      g_autoptr(GString) bytes = mutate (rand, seeds[i % G_N_ELEMENTS (seeds)]);

      check_one (bytes->str, bytes->len, &accepted, &refused);
    }

  g_test_message ("mutations: %u accepted, %u refused", accepted, refused);
  /* Both outcomes must occur, or the mutator is not exercising the parser. */
  g_assert_cmpuint (accepted, >, 50);
  g_assert_cmpuint (refused, >, N_MUTATIONS / 2);
}

static void
test_random_bytes (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (4242);
  guint accepted = 0, refused = 0;

  for (guint i = 0; i < N_RANDOM; i++)
    {
      guint length = g_rand_int_range (rand, 0, 512);
      g_autofree guint8 *data = g_malloc (length + 1);

      for (guint j = 0; j < length; j++)
        data[j] = i % 2 ? g_rand_int_range (rand, 0, 256)
                        : (guint8) "{}[]\":,0aZ \\"[g_rand_int_range (rand, 0, 13)];
      data[length] = 0;
      check_one ((const char *) data, length, &accepted, &refused);
    }

  g_assert_cmpuint (refused, ==, N_RANDOM - accepted);
  g_assert_cmpuint (refused, >, N_RANDOM * 9 / 10);
}

static void
test_search_queries (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (77);
  const char *pieces[] = {
    "name=", "family=", "_count=", "_offset=", "_sort=", "-family", "birthdate=", "ge", "lt",
    "2024", "-05", "-01", "T08:00:00Z", "&", "=", "%", "%E5%BC%A0", "%zz", ",", "|", "patient=",
    "Patient/", "x", "_lastUpdated=", "identifier=", "urn:uuid:1", "status=", "active", "+",
  };
  guint parsed = 0;

  for (guint i = 0; i < 3000; i++)
    {
      g_autoptr(GString) query = g_string_new (NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(WzSearchQuery) result = NULL;
      guint n = g_rand_int_range (rand, 0, 8);

      for (guint j = 0; j < n; j++)
        g_string_append (query, pieces[g_rand_int_range (rand, 0, G_N_ELEMENTS (pieces))]);

      result = wz_search_query_parse ("Patient", query->str, &error);
      if (result == NULL)
        {
          g_assert_error (error, WZ_ERROR, WZ_ERROR_INVALID);
          continue;
        }
      parsed++;
      g_assert_cmpuint (result->count, <=, WZ_SEARCH_MAX_COUNT);
      g_free (wz_search_query_page_string (result, 10));
    }

  g_assert_cmpuint (parsed, >, 10);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/fuzz/fhir-parse/mutations", test_mutations);
  g_test_add_func ("/fuzz/fhir-parse/random-bytes", test_random_bytes);
  g_test_add_func ("/fuzz/search-query", test_search_queries);

  return g_test_run ();
}
