/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-queue-fake-server"

#include "config.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <stdio.h>
#include <string.h>

/* A stand-in wenzhen-server for bench/queue-memory: it answers exactly what the app asks while
 * signing in to the demo and loading its worklist, with a queue of WZ_BENCH_VISITS (100,000)
 * visits of today, each with its patient, generated on the fly page by page — so the real app
 * runs its real code (HTTP paging, parsing on a worker thread, model, sorting, filtering, list
 * view, websocket) against a worklist of that size, without a real server's search time. Called
 * like the server by the app's demo supervisor: `demo-data …` does nothing, `serve …` listens on
 * a free loopback port and prints the line the app waits for. */

static guint n_visits = 100000;

static const char *const surnames[] = {
  "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
  "何", "林", "高", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "欧阳",
};
static const char *const given_chars[] = {
  "伟", "芳", "娜", "秀", "英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟",
  "涛", "明", "超", "兰", "霞", "平", "刚", "桂", "华", "建", "国", "志", "红", "浩", "然", "梓",
};
static const char *const statuses[] = { "arrived", "triaged", "in-progress", "finished", "finished" };
static const char *const priorities[] = { NULL, "EM", "UR", "R", "EL", NULL, "R" };
static const char *const reasons[] = {
  "复诊 Follow-up visit", "咳嗽三天 Cough for three days", "头痛 Headache", "发热 Fever",
  "血压复查 Blood pressure review", "皮疹 Rash", "复诊开药 Repeat prescription",
};

static void
respond_json (SoupServerMessage *msg,
              guint              status,
              const char        *body)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/fhir+json", SOUP_MEMORY_COPY, body,
                                    strlen (body));
}

static void
add_visit (GString *out,
           guint    i,
           gint64   day_start)
{
  guint32 h = g_int_hash (&i) * 2654435761u ^ i;
  g_autoptr(GDateTime) start = g_date_time_new_from_unix_utc (day_start + 6 * 3600 + (h % 36000));
  g_autofree char *start_text = g_date_time_format_iso8601 (start);
  const char *priority = priorities[h % G_N_ELEMENTS (priorities)];
  g_autofree char *name = g_strconcat (surnames[h % G_N_ELEMENTS (surnames)],
                                       given_chars[(h >> 5) % G_N_ELEMENTS (given_chars)],
                                       (h >> 11) % 3 ? given_chars[(h >> 13) % G_N_ELEMENTS (given_chars)] : "",
                                       NULL);

  g_string_append_printf (out,
                          "{\"resource\":{\"resourceType\":\"Encounter\",\"id\":\"e%06u\","
                          "\"meta\":{\"versionId\":\"1\",\"lastUpdated\":\"%s\"},"
                          "\"status\":\"%s\",\"class\":{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"VR\"},",
                          i, start_text, statuses[h % G_N_ELEMENTS (statuses)]);
  if (priority != NULL)
    g_string_append_printf (out,
                            "\"priority\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActPriority\",\"code\":\"%s\"}]},",
                            priority);
  g_string_append_printf (out,
                          "\"subject\":{\"reference\":\"Patient/p%06u\"},"
                          "\"participant\":[{\"individual\":{\"reference\":\"Practitioner/doctor\"}}],"
                          "\"period\":{\"start\":\"%s\"},\"reasonCode\":[{\"text\":\"%s\"}]},"
                          "\"search\":{\"mode\":\"match\"}},",
                          i, start_text, reasons[(h >> 3) % G_N_ELEMENTS (reasons)]);
  g_string_append_printf (out,
                          "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p%06u\","
                          "\"meta\":{\"versionId\":\"1\",\"lastUpdated\":\"%s\"},"
                          "\"identifier\":[{\"system\":\"https://wenzhen.example/fhir/NamingSystem/resident-id\",\"value\":\"1101051%03u%08u\"}],"
                          "\"name\":[{\"use\":\"official\",\"text\":\"%s\"}],"
                          "\"telecom\":[{\"system\":\"phone\",\"value\":\"+86 13%u %04u %04u\"}],"
                          "\"gender\":\"%s\",\"birthDate\":\"%04u-%02u-%02u\"},"
                          "\"search\":{\"mode\":\"include\"}}",
                          i, start_text, 940 + h % 60, i, name, h % 10, (h >> 7) % 10000, i % 10000,
                          h % 2 ? "female" : "male", 1930 + h % 90, 1 + (h >> 4) % 12, 1 + (h >> 8) % 28);
}

static void
handle_encounters (SoupServerMessage *msg,
                   GHashTable        *query)
{
  const char *offset_text = query != NULL ? g_hash_table_lookup (query, "_offset") : NULL;
  const char *last_updated = query != NULL ? g_hash_table_lookup (query, "_lastUpdated") : NULL;
  guint offset = offset_text != NULL ? (guint) g_ascii_strtoull (offset_text, NULL, 10) : 0;
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autoptr(GDateTime) midnight = g_date_time_new_local (g_date_time_get_year (now),
                                                         g_date_time_get_month (now),
                                                         g_date_time_get_day_of_month (now), 0, 0, 0);
  g_autoptr(GString) out = g_string_new (NULL);
  guint end;

  /* A catch-up finds nothing new: the queue does not change during the measurement. */
  if (last_updated != NULL)
    offset = n_visits;

  end = MIN (offset + 200, n_visits);
  g_string_printf (out, "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":%u,\"link\":[", n_visits);
  if (end < n_visits)
    g_string_append_printf (out, "{\"relation\":\"next\",\"url\":\"http://127.0.0.1/fhir/Encounter?_count=200&_offset=%u\"}", end);
  g_string_append (out, "],\"entry\":[");
  for (guint i = offset; i < end; i++)
    {
      if (i > offset)
        g_string_append_c (out, ',');
      add_visit (out, i, g_date_time_to_unix (midnight));
    }
  g_string_append (out, "]}");

  respond_json (msg, SOUP_STATUS_OK, out->str);
}

static void
handle_request (SoupServer        *server,
                SoupServerMessage *msg,
                const char        *path,
                GHashTable        *query,
                gpointer           user_data)
{
  const char *method = soup_server_message_get_method (msg);

  if (g_str_equal (path, "/fhir/metadata"))
    respond_json (msg, SOUP_STATUS_OK,
                  "{\"resourceType\":\"CapabilityStatement\",\"status\":\"active\",\"kind\":\"instance\","
                  "\"fhirVersion\":\"4.0.1\",\"format\":[\"json\"]}");
  else if (g_str_equal (path, "/auth/login") && g_str_equal (method, "POST"))
    respond_json (msg, SOUP_STATUS_OK,
                  "{\"access_token\":\"bench-token\",\"expires_in\":86400,"
                  "\"practitioner\":\"Practitioner/doctor\",\"role\":\"doctor\","
                  "\"display_name\":\"李伟 Li Wei\"}");
  else if (g_str_equal (path, "/auth/logout"))
    respond_json (msg, SOUP_STATUS_OK, "{}");
  else if (g_str_equal (path, "/fhir/Encounter"))
    handle_encounters (msg, query);
  else if (g_str_has_prefix (path, "/fhir/"))
    /* Tasks, allergies, patients: nothing, which is a valid answer for every search the queue
     * makes. */
    respond_json (msg, SOUP_STATUS_OK,
                  "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":0,\"entry\":[]}");
  else
    respond_json (msg, SOUP_STATUS_NOT_FOUND,
                  "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\","
                  "\"code\":\"not-found\",\"diagnostics\":\"Not here\"}]}");
}

static void
on_websocket (SoupServer              *server,
              SoupServerMessage       *msg,
              const char              *path,
              SoupWebsocketConnection *connection,
              gpointer                 user_data)
{
  g_object_ref (connection);
  g_signal_connect (connection, "closed", G_CALLBACK (g_object_unref), NULL);
  soup_websocket_connection_send_text (connection,
                                       "{\"type\":\"hello\",\"role\":\"doctor\","
                                       "\"practitioner\":\"Practitioner/doctor\"}");
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(SoupServer) server = NULL;
  g_autoptr(GError) error = NULL;
  const char *visits = g_getenv ("WZ_BENCH_VISITS");
  GSList *uris;
  char *url;

  if (argc > 1 && g_str_equal (argv[1], "demo-data"))
    return 0;
  if (argc < 2 || !g_str_equal (argv[1], "serve"))
    {
      g_printerr ("usage: wz-queue-fake-server demo-data|serve [--data-dir DIR] [--listen ADDR]\n");
      return 2;
    }
  if (visits != NULL)
    n_visits = (guint) g_ascii_strtoull (visits, NULL, 10);

  server = soup_server_new (NULL, NULL);
  soup_server_add_websocket_handler (server, "/ws", NULL, NULL, on_websocket, NULL, NULL);
  soup_server_add_handler (server, NULL, handle_request, NULL, NULL);
  if (!soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error))
    {
      g_printerr ("wz-queue-fake-server: %s\n", error->message);
      return 1;
    }

  uris = soup_server_get_uris (server);
  url = g_uri_to_string (uris->data);
  if (g_str_has_suffix (url, "/"))
    url[strlen (url) - 1] = '\0';
  printf ("listening on %s\n", url);
  fflush (stdout);
  g_free (url);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  g_main_loop_run (loop);

  return 0;
}
