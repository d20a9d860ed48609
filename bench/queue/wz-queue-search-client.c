/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-queue-search-client"

#include "config.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <stdlib.h>
#include <string.h>

#include "wz-pinyin.h"

/* The client of bench/queue-search: signs in as each doctor, takes real names, ID numbers and
 * phone numbers from the doctor's own patients, and times the searches a worklist box sends
 * while someone types, one at a time over one kept-alive connection, as the app does. The
 * baseline is GET /fhir/metadata on the same connection: the floor of the HTTP stack.
 *
 * A second floor is a read of one patient by id (GET /fhir/Patient/ID): authorized and held
 * until its audit row is on disk like a search, with next to no storage work.
 *
 * Output lines: "KIND DOCTOR p50 X p95 Y ms n N mean-total T" per kind of search (T is the mean
 * page size when the server was not asked to count), then
 * read_by_id_p50/p95, metadata_p50/p95, and last "queue_search_p95 X ms" over every search. */

typedef struct
{
  char *id;
  char *family;
  char *given;
  char *identifier;
  char *phone_digits;
} Sample;

typedef struct
{
  SoupSession *session;
  const char  *base;
} Client;

static void
sample_free (gpointer data)
{
  Sample *sample = data;

  g_free (sample->id);
  g_free (sample->family);
  g_free (sample->given);
  g_free (sample->identifier);
  g_free (sample->phone_digits);
  g_free (sample);
}

/* GET or POST PATH; returns the parsed JSON, *OUT_US the time to the last byte. */
static JsonNode *
request (Client      *client,
         const char  *method,
         const char  *path,
         const char  *token,
         const char  *body,
         gint64      *out_us)
{
  g_autofree char *url = g_strconcat (client->base, path, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new (method, url);
  g_autoptr(GBytes) response = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  gint64 start;
  guint status;

  if (msg == NULL)
    g_error ("Bad URL %s", url);
  if (token != NULL)
    {
      g_autofree char *authorization = g_strconcat ("Bearer ", token, NULL);

      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                    authorization);
    }
  if (body != NULL)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (body, strlen (body));

      soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
    }

  start = g_get_monotonic_time ();
  response = soup_session_send_and_read (client->session, msg, NULL, &error);
  if (out_us != NULL)
    *out_us = g_get_monotonic_time () - start;
  status = soup_message_get_status (msg);

  if (response == NULL || status != SOUP_STATUS_OK)
    g_error ("%s %s: %s (%u) %.*s", method, path, error ? error->message : "HTTP error", status,
             response ? (int) MIN (g_bytes_get_size (response), 400) : 0,
             response ? (const char *) g_bytes_get_data (response, NULL) : "");

  if (!json_parser_load_from_data (parser, g_bytes_get_data (response, NULL),
                                   g_bytes_get_size (response), &error))
    g_error ("%s %s: not JSON: %s", method, path, error->message);

  return json_node_ref (json_parser_get_root (parser));
}

static char *
login (Client     *client,
       const char *username,
       const char *password)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) body = NULL;
  g_autoptr(JsonNode) answer = NULL;
  g_autofree char *text = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "username");
  json_builder_add_string_value (b, username);
  json_builder_set_member_name (b, "password");
  json_builder_add_string_value (b, password);
  json_builder_end_object (b);
  body = json_builder_get_root (b);
  text = json_to_string (body, FALSE);

  answer = request (client, "POST", "/auth/login", NULL, text, NULL);
  return g_strdup (json_object_get_string_member (json_node_get_object (answer), "access_token"));
}

static char *
digits_of (const char *text)
{
  GString *digits = g_string_new (NULL);

  for (const char *p = text; *p; p++)
    if (g_ascii_isdigit (*p))
      g_string_append_c (digits, *p);

  return g_string_free (digits, FALSE);
}

/* Chinese patients of the doctor, from a few pages spread over the list. */
static GPtrArray *
collect_samples (Client     *client,
                 const char *token)
{
  GPtrArray *samples = g_ptr_array_new_with_free_func (sample_free);

  for (guint page = 0; page < 5; page++)
    {
      g_autofree char *path = g_strdup_printf ("/fhir/Patient?_count=40&_offset=%u", page * 37);
      g_autoptr(JsonNode) bundle = request (client, "GET", path, token, NULL, NULL);
      JsonObject *object = json_node_get_object (bundle);
      JsonArray *entries;

      if (!json_object_has_member (object, "entry"))
        break;
      entries = json_object_get_array_member (object, "entry");
      for (guint i = 0; i < json_array_get_length (entries); i++)
        {
          JsonObject *patient = json_object_get_object_member (json_array_get_object_element (entries, i),
                                                               "resource");
          JsonObject *name, *identifier, *telecom;
          Sample *sample;

          if (!json_object_has_member (patient, "identifier") ||
              !json_object_has_member (patient, "telecom") ||
              !json_object_has_member (patient, "name"))
            continue;
          name = json_array_get_object_element (json_object_get_array_member (patient, "name"), 0);
          identifier = json_array_get_object_element (json_object_get_array_member (patient,
                                                                                    "identifier"), 0);
          telecom = json_array_get_object_element (json_object_get_array_member (patient,
                                                                                 "telecom"), 0);
          /* The resident ID numbers: 18 characters. */
          if (strlen (json_object_get_string_member (identifier, "value")) != 18)
            continue;

          sample = g_new0 (Sample, 1);
          sample->id = g_strdup (json_object_get_string_member (patient, "id"));
          sample->family = g_strdup (json_object_get_string_member (name, "family"));
          sample->given = g_strdup (json_array_get_string_element (json_object_get_array_member (name,
                                                                                                  "given"), 0));
          sample->identifier = g_strdup (json_object_get_string_member (identifier, "value"));
          sample->phone_digits = digits_of (json_object_get_string_member (telecom, "value"));
          g_ptr_array_add (samples, sample);
        }
    }

  if (samples->len == 0)
    g_error ("The doctor sees no Chinese patients with an ID number and a phone");

  return samples;
}

static char *
utf8_prefix (const char *text,
             glong       n_chars)
{
  return g_utf8_substring (text, 0, MIN (n_chars, g_utf8_strlen (text, -1)));
}

/* The query string of one search of KIND for SAMPLE. */
/* CPU time (ns) the server process has used so far, all its threads (the audit writer too),
 * from the scheduler's own accounting; 0 without a server pid. */
static guint64
server_cpu_ns (const char *pid)
{
  g_autofree char *dir_path = NULL;
  g_autoptr(GDir) dir = NULL;
  const char *task;
  guint64 sum = 0;

  if (pid == NULL)
    return 0;
  dir_path = g_strdup_printf ("/proc/%s/task", pid);
  if ((dir = g_dir_open (dir_path, 0, NULL)) == NULL)
    return 0;
  while ((task = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir_path, task, "schedstat", NULL);
      g_autofree char *text = NULL;

      if (g_file_get_contents (path, &text, NULL, NULL))
        sum += g_ascii_strtoull (text, NULL, 10);
    }

  return sum;
}

/* _total of every search: "none" as a search box asks (the page, and whether there is more),
 * or "accurate" (every match counted) from WZ_BENCH_TOTAL. */
static const char *total_mode = "none";

static char *
make_query (const char *kind,
            Sample     *sample,
            const char *pinyin_initials,
            const char *pinyin_whole)
{
  g_autofree char *full = g_strconcat (sample->family, sample->given, NULL);
  g_autofree char *value = NULL;
  const char *param = "q";

  if (strcmp (kind, "name-prefix-1") == 0)
    param = "name", value = utf8_prefix (sample->family, 1);
  else if (strcmp (kind, "name-prefix-2") == 0)
    param = "name", value = utf8_prefix (full, 2);
  else if (strcmp (kind, "name-contains-1") == 0)
    {
      glong n = g_utf8_strlen (sample->given, -1);

      param = "name:contains";
      value = g_utf8_substring (sample->given, n - 1, n);
    }
  else if (strcmp (kind, "q-name-2") == 0)
    value = utf8_prefix (full, 2);
  else if (strcmp (kind, "q-name-3") == 0)
    value = utf8_prefix (full, 3);
  else if (strcmp (kind, "pinyin-initials") == 0)
    param = "pinyin", value = g_strdup (pinyin_initials);
  else if (strcmp (kind, "q-pinyin") == 0)
    value = g_strndup (pinyin_whole, 6);
  else if (strcmp (kind, "q-id-prefix") == 0)
    value = g_strndup (sample->identifier, 10);
  else if (strcmp (kind, "q-id-contains") == 0)
    value = g_strndup (sample->identifier + 10, 6);
  else if (strcmp (kind, "identifier") == 0)
    param = "identifier", value = g_strdup (sample->identifier);
  else if (strcmp (kind, "q-phone-prefix") == 0)
    value = g_strndup (sample->phone_digits + strlen (sample->phone_digits) - 11, 7);
  else if (strcmp (kind, "q-phone-contains") == 0)
    value = g_strdup (sample->phone_digits + strlen (sample->phone_digits) - 4);
  else if (strcmp (kind, "phone") == 0)
    param = "phone", value = g_strdup (sample->phone_digits);
  else
    g_assert_not_reached ();

  {
    g_autofree char *escaped = g_uri_escape_string (value, NULL, FALSE);

    return g_strdup_printf ("/fhir/Patient?%s=%s&_count=20&_total=%s", param, escaped,
                            total_mode);
  }
}

static int
compare_int64 (gconstpointer a,
               gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

static double
percentile_ms (GArray *times,
               double  p)
{
  guint i;

  g_array_sort (times, compare_int64);
  i = MIN ((guint) (p * times->len), times->len - 1);
  return g_array_index (times, gint64, i) / 1000.0;
}

/* Initials (zxy) and whole (zhangxiuying) pinyin of a name. */
static void
pinyin_of (const char  *name,
           char       **out_initials,
           char       **out_whole)
{
  g_auto(GStrv) syllables = wz_pinyin_syllables (name);
  GString *initials = g_string_new (NULL);

  for (guint i = 0; syllables[i] != NULL; i++)
    g_string_append_c (initials, syllables[i][0]);
  *out_initials = g_string_free (initials, FALSE);
  *out_whole = g_strjoinv ("", syllables);
}

int
main (int    argc,
      char **argv)
{
  const char *kinds[] = {
    "name-prefix-1", "name-prefix-2", "name-contains-1", "q-name-2", "q-name-3",
    "pinyin-initials", "q-pinyin", "q-id-prefix", "q-id-contains", "identifier",
    "q-phone-prefix", "q-phone-contains", "phone",
  };
  const char *doctors[] = { "doctor", "doctor2" };
  g_autoptr(GArray) all = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GArray) metadata = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GArray) reads = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  g_autoptr(GArray) all_cpu = g_array_new (FALSE, FALSE, sizeof (gint64));
  const char *server_pid;
  Client client;
  guint rounds;

  if (argc != 4 && argc != 5)
    {
      g_printerr ("usage: %s BASE-URL PASSWORD ROUNDS [SERVER-PID]\n", argv[0]);
      return 2;
    }
  server_pid = argc == 5 ? argv[4] : NULL;

  if (g_getenv ("WZ_BENCH_TOTAL") != NULL)
    total_mode = g_getenv ("WZ_BENCH_TOTAL");
  g_print ("searches ask _total=%s\n", total_mode);
  client.session = soup_session_new_with_options ("max-conns-per-host", 1, "timeout", 30, NULL);
  client.base = argv[1];
  rounds = MAX (atoi (argv[3]), 1);

  {
    for (guint d = 0; d < G_N_ELEMENTS (doctors); d++)
      {
        g_autofree char *token = login (&client, doctors[d], argv[2]);
        g_autoptr(GPtrArray) samples = collect_samples (&client, token);

        for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
          {
            g_autoptr(GArray) times = g_array_new (FALSE, FALSE, sizeof (gint64));
            g_autoptr(GArray) cpu = g_array_new (FALSE, FALSE, sizeof (gint64));
            gint64 total_matches = 0;

            for (guint r = 0; r < rounds; r++)
              {
                Sample *sample = g_ptr_array_index (samples,
                                                    g_rand_int_range (rand, 0, samples->len));
                g_autofree char *full = g_strconcat (sample->family, sample->given, NULL);
                g_autofree char *initials = NULL;
                g_autofree char *whole = NULL;
                g_autofree char *path = NULL;
                g_autoptr(JsonNode) bundle = NULL;
                gint64 us, cpu_us;
                guint64 cpu_before;

                pinyin_of (full, &initials, &whole);
                path = make_query (kinds[k], sample, initials, whole);
                cpu_before = server_cpu_ns (server_pid);
                bundle = request (&client, "GET", path, token, NULL, &us);
                /* A thread that ended meanwhile takes its time with it: never below zero. */
                cpu_us = MAX ((gint64) (server_cpu_ns (server_pid) - cpu_before), 0) / 1000;
                g_array_append_val (cpu, cpu_us);
                g_array_append_val (all_cpu, cpu_us);
                {
                  JsonObject *found = json_node_get_object (bundle);
                  JsonArray *entries = json_object_get_array_member (found, "entry");

                  /* Without a total, the page's own size (a lower bound). */
                  total_matches += json_object_has_member (found, "total")
                                   ? json_object_get_int_member (found, "total")
                                   : (entries ? json_array_get_length (entries) : 0);
                  if (entries == NULL || json_array_get_length (entries) == 0)
                    g_error ("%s found nothing for a patient the doctor has", path);
                }
                g_array_append_val (times, us);
                g_array_append_val (all, us);

                /* The floors, on the same connection, interleaved so all see the same load: the
                 * HTTP stack alone, and a read of one patient by id, which like a search is
                 * authorized and held until its audit row is on disk. */
                {
                  g_autoptr(JsonNode) capability = request (&client, "GET", "/fhir/metadata",
                                                            NULL, NULL, &us);
                  g_autofree char *read_path = g_strdup_printf ("/fhir/Patient/%s", sample->id);
                  g_autoptr(JsonNode) patient = NULL;

                  g_array_append_val (metadata, us);
                  patient = request (&client, "GET", read_path, token, NULL, &us);
                  g_array_append_val (reads, us);
                }
              }

            g_print ("%s %s p50 %.2f p95 %.2f ms n %u mean-total %" G_GINT64_FORMAT,
                     kinds[k], doctors[d], percentile_ms (times, 0.5), percentile_ms (times, 0.95),
                     times->len, total_matches / (gint64) times->len);
            if (server_pid != NULL)
              g_print (" server-cpu p50 %.2f p95 %.2f ms", percentile_ms (cpu, 0.5),
                       percentile_ms (cpu, 0.95));
            g_print ("\n");
          }
      }
  }

  if (server_pid != NULL)
    {
      g_print ("search_server_cpu_p50 %.2f ms\n", percentile_ms (all_cpu, 0.5));
      g_print ("search_server_cpu_p95 %.2f ms\n", percentile_ms (all_cpu, 0.95));
    }
  g_print ("read_by_id_p50 %.2f ms\n", percentile_ms (reads, 0.5));
  g_print ("read_by_id_p95 %.2f ms\n", percentile_ms (reads, 0.95));
  g_print ("metadata_p50 %.2f ms\n", percentile_ms (metadata, 0.5));
  g_print ("metadata_p95 %.2f ms\n", percentile_ms (metadata, 0.95));
  g_print ("queue_search_p95 %.2f ms\n", percentile_ms (all, 0.95));

  g_object_unref (client.session);
  return 0;
}
