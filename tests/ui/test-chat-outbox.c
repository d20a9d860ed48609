/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-test-chat-outbox"

#include "config.h"

#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include "wz-api-client.h"
#include "wz-chat-message-row.h"
#include "wz-chat-model.h"
#include "wz-chat-outbox.h"
#include "wz-fhir-json.h"
#include "wz-quick-replies.h"

/* The chat outbox against a small in-process server that stores Communications the way the
 * contract says (conditional create on the urn:uuid, Binary first) and fails on request: order,
 * one request at a time, retries that never duplicate, refusals with the server's words, and a
 * file that outlives the app. */

typedef struct
{
  SoupServer  *server;
  char        *base_url;
  WzApiClient *client;
  char        *dir;
  char        *path;
  WzChatOutbox *outbox;

  GQueue       script;          /* statuses to answer the next Communication POSTs with */
  gboolean     store_then_fail; /* store, but answer 500 (a lost reply) */
  gboolean     down;            /* answer 503 to everything */
  GPtrArray   *stored;          /* JSON of stored Communications, in order */
  GHashTable  *by_uuid;         /* uuid → index in STORED */
  GPtrArray   *requests;        /* "POST /fhir/…" lines, in order */
  GPtrArray   *binaries;        /* "type context size" of each Binary upload */
  guint        in_flight;
  guint        max_in_flight;
  GPtrArray   *sent;            /* uuids in the order "sent" was emitted */
} Fixture;

static void
respond_json (SoupServerMessage *msg,
              guint              status,
              const char        *json)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/fhir+json", SOUP_MEMORY_COPY,
                                    json, strlen (json));
}

typedef struct
{
  Fixture           *fixture;
  SoupServerMessage *msg;
  guint              status;
  char              *json;
} Delayed;

/* Answers after a moment, so a second request sent meanwhile would be seen in flight. */
static gboolean
answer_later (gpointer data)
{
  Delayed *delayed = data;

  respond_json (delayed->msg, delayed->status, delayed->json);
  soup_server_message_unpause (delayed->msg);
  delayed->fixture->in_flight--;
  g_object_unref (delayed->msg);
  g_free (delayed->json);
  g_free (delayed);

  return G_SOURCE_REMOVE;
}

static void
answer (Fixture           *fixture,
        SoupServerMessage *msg,
        guint              status,
        const char        *json)
{
  Delayed *delayed = g_new0 (Delayed, 1);

  delayed->fixture = fixture;
  delayed->msg = g_object_ref (msg);
  delayed->status = status;
  delayed->json = g_strdup (json);
  soup_server_message_pause (msg);
  g_timeout_add (30, answer_later, delayed);
}

static const char *
uuid_of (JsonObject *resource)
{
  return wz_json_string (wz_json_array_object (wz_json_array (resource, "identifier"), 0), "value");
}

static void
handle_communication (Fixture           *fixture,
                      SoupServerMessage *msg,
                      const char        *body)
{
  const char *condition = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                        "If-None-Exist");
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *resource;
  const char *uuid;
  gpointer index;
  guint status = 201;
  g_autofree char *expected = NULL;
  g_autofree char *id = NULL;
  g_autofree char *stamp = NULL;
  g_autofree char *json = NULL;

  g_assert_true (json_parser_load_from_data (parser, body, -1, NULL));
  resource = json_node_get_object (json_parser_get_root (parser));
  uuid = uuid_of (resource);
  g_assert_nonnull (uuid);
  g_assert_true (g_str_has_prefix (uuid, "urn:uuid:"));
  expected = g_strconcat ("identifier=urn:ietf:rfc:3986|", uuid, NULL);
  g_assert_cmpstr (condition, ==, expected);
  g_assert_cmpstr (wz_json_reference (resource, "sender"), ==, "Practitioner/p1");
  g_assert_cmpstr (wz_json_string (resource, "status"), ==, "completed");

  if (!g_queue_is_empty (&fixture->script))
    {
      status = GPOINTER_TO_UINT (g_queue_pop_head (&fixture->script));
      if (status == 422)
        {
          answer (fixture, msg, 422,
                  "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\","
                  "\"code\":\"invalid\",\"diagnostics\":\"A message can hold at most 4000 characters\"}]}");
          return;
        }
      if (status != 201)
        {
          answer (fixture, msg, status, "{\"resourceType\":\"OperationOutcome\",\"issue\":[]}");
          return;
        }
    }

  if (g_hash_table_lookup_extended (fixture->by_uuid, uuid, NULL, &index))
    {
      answer (fixture, msg, 200, g_ptr_array_index (fixture->stored, GPOINTER_TO_UINT (index)));
      return;
    }

  id = g_strdup_printf ("c%u", fixture->stored->len + 1);
  stamp = g_strdup_printf ("2026-11-25T10:00:%02u.000Z", fixture->stored->len + 1);
  json_object_set_string_member (resource, "id", id);
  json_object_set_object_member (resource, "meta", json_object_new ());
  json_object_set_string_member (json_object_get_object_member (resource, "meta"), "lastUpdated", stamp);
  json = json_to_string (json_parser_get_root (parser), FALSE);
  g_hash_table_insert (fixture->by_uuid, g_strdup (uuid), GUINT_TO_POINTER (fixture->stored->len));
  g_ptr_array_add (fixture->stored, g_strdup (json));

  if (fixture->store_then_fail)
    {
      fixture->store_then_fail = FALSE;
      answer (fixture, msg, 500, "{\"resourceType\":\"OperationOutcome\",\"issue\":[]}");
      return;
    }
  answer (fixture, msg, status, json);
}

static void
handle_request (SoupServer        *server,
                SoupServerMessage *msg,
                const char        *path,
                GHashTable        *query,
                gpointer           user_data)
{
  Fixture *fixture = user_data;
  SoupMessageBody *request_body = soup_server_message_get_request_body (msg);
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  g_autofree char *body = g_strndup (request_body->data, request_body->length);

  if (g_str_equal (path, "/auth/login"))
    {
      respond_json (msg, 200,
                    "{\"access_token\":\"tok-123\",\"expires_in\":3600,"
                    "\"practitioner\":\"Practitioner/p1\",\"role\":\"doctor\","
                    "\"display_name\":\"李伟 Li Wei\"}");
      return;
    }

  g_ptr_array_add (fixture->requests, g_strdup_printf ("%s %s", soup_server_message_get_method (msg), path));
  fixture->in_flight++;
  fixture->max_in_flight = MAX (fixture->max_in_flight, fixture->in_flight);
  g_assert_cmpstr (soup_message_headers_get_one (headers, "Authorization"), ==, "Bearer tok-123");

  if (fixture->down)
    {
      answer (fixture, msg, 503, "{\"resourceType\":\"OperationOutcome\",\"issue\":[]}");
      return;
    }

  if (g_str_equal (path, "/fhir/Binary"))
    {
      g_ptr_array_add (fixture->binaries,
                       g_strdup_printf ("%s %s %" G_GSIZE_FORMAT,
                                        soup_message_headers_get_content_type (headers, NULL),
                                        soup_message_headers_get_one (headers, "X-Security-Context"),
                                        (gsize) request_body->length));
      answer (fixture, msg, 201, "{\"resourceType\":\"Binary\",\"id\":\"b1\",\"contentType\":\"image/png\"}");
    }
  else if (g_str_equal (path, "/fhir/Communication"))
    handle_communication (fixture, msg, body);
  else
    answer (fixture, msg, 404, "{\"resourceType\":\"OperationOutcome\",\"issue\":[]}");
}

static void
on_sent (WzChatOutbox  *outbox,
         const char    *encounter,
         JsonNode      *resource,
         WzChatMessage *message,
         Fixture       *fixture)
{
  g_assert_cmpstr (encounter, ==, "Encounter/e1");
  g_assert_cmpstr (uuid_of (json_node_get_object (resource)), ==, wz_chat_message_get_uuid (message));
  g_ptr_array_add (fixture->sent, g_strdup (wz_chat_message_get_uuid (message)));
}

static GAsyncResult *done_result;

static void
on_done (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  done_result = g_object_ref (result);
}

static GAsyncResult *
wait_done (void)
{
  while (done_result == NULL)
    g_main_context_iteration (NULL, TRUE);

  return done_result;
}

static void
clear_done (void)
{
  g_clear_object (&done_result);
}

static void
open_outbox (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;

  fixture->outbox = wz_chat_outbox_new (fixture->client);
  g_signal_connect (fixture->outbox, "sent", G_CALLBACK (on_sent), fixture);
  wz_chat_outbox_open_async (fixture->outbox, fixture->path, NULL, on_done, NULL);
  g_assert_true (wz_chat_outbox_open_finish (fixture->outbox, wait_done (), &error));
  g_assert_no_error (error);
  clear_done ();
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WzSession) session = NULL;
  GSList *uris;

  fixture->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (fixture->server, NULL, handle_request, fixture, NULL);
  soup_server_listen_local (fixture->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (fixture->server);
  fixture->base_url = g_strdup_printf ("http://127.0.0.1:%d", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  g_queue_init (&fixture->script);
  fixture->stored = g_ptr_array_new_with_free_func (g_free);
  fixture->by_uuid = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  fixture->requests = g_ptr_array_new_with_free_func (g_free);
  fixture->binaries = g_ptr_array_new_with_free_func (g_free);
  fixture->sent = g_ptr_array_new_with_free_func (g_free);

  fixture->client = wz_api_client_new ();
  g_assert_true (wz_api_client_set_base_url (fixture->client, fixture->base_url, &error));
  wz_api_client_login_async (fixture->client, "doctor", "demo", NULL, on_done, NULL);
  session = wz_api_client_login_finish (fixture->client, wait_done (), &error);
  g_assert_no_error (error);
  g_assert_nonnull (session);
  clear_done ();

  fixture->dir = g_dir_make_tmp ("wz-outbox-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->path = g_build_filename (fixture->dir, "outbox", "test.db", NULL);
  open_outbox (fixture);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autofree char *command = NULL;

  g_clear_object (&fixture->outbox);
  g_clear_object (&fixture->client);
  soup_server_disconnect (fixture->server);
  g_clear_object (&fixture->server);
  g_queue_clear (&fixture->script);
  g_ptr_array_unref (fixture->stored);
  g_hash_table_unref (fixture->by_uuid);
  g_ptr_array_unref (fixture->requests);
  g_ptr_array_unref (fixture->binaries);
  g_ptr_array_unref (fixture->sent);
  /* The test's own temporary folder and nothing else. */
  g_unlink (fixture->path);
  {
    g_autofree char *wal = g_strconcat (fixture->path, "-wal", NULL);
    g_autofree char *shm = g_strconcat (fixture->path, "-shm", NULL);
    g_autofree char *outbox_dir = g_path_get_dirname (fixture->path);

    g_unlink (wal);
    g_unlink (shm);
    g_rmdir (outbox_dir);
  }
  g_rmdir (fixture->dir);
  g_free (fixture->path);
  g_free (fixture->dir);
  g_free (fixture->base_url);
}

static WzChatMessage *
write_message (Fixture    *fixture,
               const char *text)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *random = g_uuid_string_random ();
  g_autofree char *uuid = g_strconcat ("urn:uuid:", random, NULL);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  WzChatMessage *message = wz_chat_message_new_pending (uuid, "Practitioner/p1", text, now);

  wz_chat_outbox_add_async (fixture->outbox, message, "Encounter/e1", "Patient/x1", NULL, on_done, NULL);
  g_assert_true (wz_chat_outbox_add_finish (fixture->outbox, wait_done (), &error));
  g_assert_no_error (error);
  clear_done ();

  return message;
}

static void
wait_until_sent (Fixture *fixture,
                 guint    count)
{
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  while (fixture->sent->len < count && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (fixture->sent->len, ==, count);
}

static void
spin (guint milliseconds)
{
  gint64 until = g_get_monotonic_time () + milliseconds * 1000;

  while (g_get_monotonic_time () < until)
    g_main_context_iteration (NULL, FALSE), g_usleep (1000);
}

static const char *
stored_text (Fixture *fixture,
             guint    index)
{
  static char *text;
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *payload;

  g_assert_true (json_parser_load_from_data (parser, g_ptr_array_index (fixture->stored, index), -1, NULL));
  payload = wz_json_array_object (wz_json_array (json_node_get_object (json_parser_get_root (parser)),
                                                 "payload"), 0);
  g_free (text);
  text = g_strdup (wz_json_string (payload, "contentString"));
  return text;
}

/* Three messages, the first answered 503 then 429: all go, in order, one request at a time. */
static void
test_order_and_retry (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(WzChatMessage) first = NULL;
  g_autoptr(WzChatMessage) second = NULL;
  g_autoptr(WzChatMessage) third = NULL;

  g_queue_push_tail (&fixture->script, GUINT_TO_POINTER (503));
  g_queue_push_tail (&fixture->script, GUINT_TO_POINTER (429));
  first = write_message (fixture, "one");
  second = write_message (fixture, "two");
  third = write_message (fixture, "three");

  /* The 503 leaves every queued message waiting. */
  while (wz_chat_message_get_state (third) != WZ_CHAT_MESSAGE_WAITING && fixture->sent->len == 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (wz_chat_message_get_state (first), ==, WZ_CHAT_MESSAGE_WAITING);
  wz_chat_outbox_kick (fixture->outbox);

  wait_until_sent (fixture, 3);
  g_assert_cmpuint (fixture->stored->len, ==, 3);
  g_assert_cmpstr (stored_text (fixture, 0), ==, "one");
  g_assert_cmpstr (stored_text (fixture, 1), ==, "two");
  g_assert_cmpstr (stored_text (fixture, 2), ==, "three");
  g_assert_cmpstr (g_ptr_array_index (fixture->sent, 0), ==, wz_chat_message_get_uuid (first));
  g_assert_cmpstr (g_ptr_array_index (fixture->sent, 2), ==, wz_chat_message_get_uuid (third));
  g_assert_cmpuint (fixture->max_in_flight, ==, 1);
  g_assert_cmpuint (wz_chat_outbox_get_n_pending (fixture->outbox), ==, 0);
}

/* The server stored the message but the answer was lost: the retry finds it (200), once. */
static void
test_lost_reply (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(WzChatMessage) message = NULL;

  fixture->store_then_fail = TRUE;
  message = write_message (fixture, "only once");
  while (wz_chat_message_get_state (message) != WZ_CHAT_MESSAGE_WAITING)
    g_main_context_iteration (NULL, TRUE);
  wz_chat_outbox_kick (fixture->outbox);
  wait_until_sent (fixture, 1);

  g_assert_cmpuint (fixture->stored->len, ==, 1);
  g_assert_cmpuint (fixture->requests->len, ==, 2);
}

/* A 422 marks that message failed with the server's words; the next one still goes, and the
 * failed one can be sent again. */
static void
test_refused (Fixture       *fixture,
              gconstpointer  data)
{
  g_autoptr(WzChatMessage) refused = NULL;
  g_autoptr(WzChatMessage) next = NULL;

  g_queue_push_tail (&fixture->script, GUINT_TO_POINTER (422));
  refused = write_message (fixture, "too long");
  next = write_message (fixture, "fine");
  wait_until_sent (fixture, 1);

  g_assert_cmpint (wz_chat_message_get_state (refused), ==, WZ_CHAT_MESSAGE_FAILED);
  g_assert_nonnull (strstr (wz_chat_message_get_error (refused), "at most 4000 characters"));
  g_assert_cmpstr (g_ptr_array_index (fixture->sent, 0), ==, wz_chat_message_get_uuid (next));
  g_assert_cmpuint (wz_chat_outbox_get_n_pending (fixture->outbox), ==, 1);
  /* No retry loop: it stays failed. */
  spin (1500);
  g_assert_cmpuint (fixture->requests->len, ==, 2);

  wz_chat_outbox_retry (fixture->outbox, wz_chat_message_get_uuid (refused));
  wait_until_sent (fixture, 2);
  g_assert_cmpuint (wz_chat_outbox_get_n_pending (fixture->outbox), ==, 0);
}

/* Written while the server is down, the outbox closed (the app gone): the next opening of the
 * file finds them and sends them in order; afterwards the file is empty. */
static void
test_survives_restart (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(WzChatMessage) first = NULL;
  g_autoptr(WzChatMessage) second = NULL;
  g_autoptr(GPtrArray) pending = NULL;
  g_autofree char *first_uuid = NULL;
  g_autofree char *second_uuid = NULL;
  GStatBuf info;

  fixture->down = TRUE;
  first = write_message (fixture, "before the crash");
  second = write_message (fixture, "也在崩溃之前");
  first_uuid = g_strdup (wz_chat_message_get_uuid (first));
  second_uuid = g_strdup (wz_chat_message_get_uuid (second));
  while (wz_chat_message_get_state (first) != WZ_CHAT_MESSAGE_WAITING)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (g_stat (fixture->path, &info), ==, 0);
  g_assert_cmpint (info.st_mode & 0777, ==, 0600);

  g_clear_object (&fixture->outbox);
  fixture->down = FALSE;
  open_outbox (fixture);

  pending = wz_chat_outbox_get_pending (fixture->outbox, "Encounter/e1");
  g_assert_cmpuint (pending->len, ==, 2);
  g_assert_cmpstr (wz_chat_message_get_uuid (g_ptr_array_index (pending, 0)), ==, first_uuid);
  g_assert_cmpstr (wz_chat_message_get_text (g_ptr_array_index (pending, 1)), ==, "也在崩溃之前");
  g_clear_pointer (&pending, g_ptr_array_unref);

  wait_until_sent (fixture, 2);
  g_assert_cmpstr (g_ptr_array_index (fixture->sent, 0), ==, first_uuid);
  g_assert_cmpstr (g_ptr_array_index (fixture->sent, 1), ==, second_uuid);
  g_assert_cmpuint (fixture->stored->len, ==, 2);

  /* Removed from the file once stored. */
  spin (200);
  g_clear_object (&fixture->outbox);
  open_outbox (fixture);
  g_assert_cmpuint (wz_chat_outbox_get_n_pending (fixture->outbox), ==, 0);
}

/* A picture goes first as a Binary of the visit; the message names it. */
static void
test_attachment_first (Fixture       *fixture,
                       gconstpointer  data)
{
  static const guint8 png[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 0 };
  g_autoptr(GBytes) bytes = g_bytes_new_static (png, sizeof png);
  g_autoptr(GError) error = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autoptr(WzChatMessage) message =
    wz_chat_message_new_pending ("urn:uuid:5b0b7c0e-4d0c-4b4e-9a3e-2f7d9b8c1a01", "Practitioner/p1",
                                 "see the picture", now);
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonArray *payload;

  wz_chat_message_add_attachment (message, "image/png", "rash.png", bytes);
  wz_chat_outbox_add_async (fixture->outbox, message, "Encounter/e1", "Patient/x1", NULL, on_done, NULL);
  g_assert_true (wz_chat_outbox_add_finish (fixture->outbox, wait_done (), &error));
  clear_done ();
  wait_until_sent (fixture, 1);

  g_assert_cmpuint (fixture->requests->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (fixture->requests, 0), ==, "POST /fhir/Binary");
  g_assert_cmpstr (g_ptr_array_index (fixture->requests, 1), ==, "POST /fhir/Communication");
  g_assert_cmpstr (g_ptr_array_index (fixture->binaries, 0), ==, "image/png Encounter/e1 12");

  g_assert_true (json_parser_load_from_data (parser, g_ptr_array_index (fixture->stored, 0), -1, NULL));
  payload = wz_json_array (json_node_get_object (json_parser_get_root (parser)), "payload");
  g_assert_cmpuint (json_array_get_length (payload), ==, 2);
  g_assert_cmpstr (wz_json_string (wz_json_object (wz_json_array_object (payload, 1), "contentAttachment"), "url"),
                   ==, "Binary/b1");
  g_assert_cmpstr (wz_json_string (wz_json_object (wz_json_array_object (payload, 1), "contentAttachment"), "title"),
                   ==, "rash.png");
}

/* The model keeps one entry per message: a pending one becomes the stored one by its uuid and
 * moves among the stored ones by the server's order; receipts move ticks forward only. */
static void
test_model_merge (void)
{
  g_autoptr(WzChatModel) model = wz_chat_model_new ();
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autoptr(WzChatMessage) pending =
    wz_chat_message_new_pending ("urn:uuid:mine", "Practitioner/p1", "hello", now);
  g_autoptr(JsonParser) parser = json_parser_new ();
  WzChatMessage *patient;
  WzChatMessage *mine;
  gboolean added = FALSE;

  wz_chat_model_add_pending (model, pending);
  g_assert_true (json_parser_load_from_data (parser,
    "{\"resourceType\":\"Communication\",\"id\":\"c2\",\"meta\":{\"lastUpdated\":\"2026-11-25T10:00:02.000Z\"},"
    "\"sender\":{\"reference\":\"Patient/x1\"},\"payload\":[{\"contentString\":\"<b>hi</b>\"}]}", -1, NULL));
  patient = wz_chat_model_add_resource (model, json_node_get_object (json_parser_get_root (parser)),
                                        "Practitioner/p1", &added);
  g_assert_true (added);
  g_assert_false (wz_chat_message_get_outgoing (patient));
  g_assert_cmpuint (wz_chat_model_get_position (model, patient), ==, 0);
  g_assert_cmpuint (wz_chat_model_get_position (model, pending), ==, 1);

  g_assert_true (json_parser_load_from_data (parser,
    "{\"resourceType\":\"Communication\",\"id\":\"c3\",\"meta\":{\"lastUpdated\":\"2026-11-25T10:00:03.000Z\"},"
    "\"identifier\":[{\"system\":\"urn:ietf:rfc:3986\",\"value\":\"urn:uuid:mine\"}],"
    "\"sender\":{\"reference\":\"Practitioner/p1\"},\"payload\":[{\"contentString\":\"hello\"}]}", -1, NULL));
  mine = wz_chat_model_add_resource (model, json_node_get_object (json_parser_get_root (parser)),
                                     "Practitioner/p1", &added);
  g_assert_false (added);
  g_assert_true (mine == pending);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, 2);
  g_assert_cmpint (wz_chat_message_get_state (mine), ==, WZ_CHAT_MESSAGE_SENT);
  g_assert_cmpstr (wz_chat_model_get_last_updated (model), ==, "2026-11-25T10:00:03.000Z");
  g_assert_cmpstr (wz_chat_model_get_last_incoming (model), ==, "2026-11-25T10:00:02.000Z");
  g_assert_true (wz_chat_message_get_first_of_day (patient));
  g_assert_false (wz_chat_message_get_first_of_day (mine));

  /* The same resource again (a catch-up overlapping an event) adds nothing. */
  wz_chat_model_add_resource (model, json_node_get_object (json_parser_get_root (parser)),
                              "Practitioner/p1", &added);
  g_assert_false (added);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, 2);

  g_assert_cmpuint (wz_chat_model_apply_receipt (model, WZ_CHAT_MESSAGE_READ, "2026-11-25T10:00:02.500Z"), ==, 0);
  g_assert_cmpuint (wz_chat_model_apply_receipt (model, WZ_CHAT_MESSAGE_READ, "2026-11-25T10:00:03.000Z"), ==, 1);
  g_assert_cmpint (wz_chat_message_get_state (mine), ==, WZ_CHAT_MESSAGE_READ);
  g_assert_cmpuint (wz_chat_model_apply_receipt (model, WZ_CHAT_MESSAGE_DELIVERED, "2026-11-25T10:00:03.000Z"), ==, 0);
  g_assert_cmpint (wz_chat_message_get_state (mine), ==, WZ_CHAT_MESSAGE_READ);
}

static guint
count_items (WzQuickReplies *replies)
{
  return g_list_model_get_n_items (G_LIST_MODEL (replies));
}

static char *
item_text (WzQuickReplies *replies,
           guint           position)
{
  g_autoptr(GObject) item = g_list_model_get_item (G_LIST_MODEL (replies), position);
  g_autofree char *text = NULL;

  g_object_get (item, "string", &text, NULL);
  return g_steal_pointer (&text);
}

/* Defaults while the key is empty; edits write the whole list; removing the last one brings
 * the defaults back. */
static void
test_quick_replies (void)
{
  g_autoptr(GSettings) settings = g_settings_new (APP_ID);
  g_autoptr(WzQuickReplies) replies = NULL;
  g_auto(GStrv) defaults = wz_quick_replies_defaults ();
  g_auto(GStrv) stored = NULL;
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  guint n;

  g_settings_reset (settings, "quick-replies");
  replies = wz_quick_replies_new (settings);
  n = count_items (replies);
  g_assert_cmpuint (n, ==, g_strv_length (defaults));
  g_assert_cmpuint (n, >=, 5);

  wz_quick_replies_add (replies, "  Please rest and drink plenty of water.  ");
  g_assert_cmpuint (count_items (replies), ==, n + 1);
  stored = g_settings_get_strv (settings, "quick-replies");
  g_assert_cmpstr (stored[n], ==, "Please rest and drink plenty of water.");
  /* The same phrase twice, or an empty one, adds nothing. */
  wz_quick_replies_add (replies, "Please rest and drink plenty of water.");
  wz_quick_replies_add (replies, "   ");
  g_assert_cmpuint (count_items (replies), ==, n + 1);

  wz_quick_replies_move (replies, n, -1);
  first = item_text (replies, n - 1);
  g_assert_cmpstr (first, ==, "Please rest and drink plenty of water.");
  wz_quick_replies_move (replies, 0, -1);
  second = item_text (replies, 0);
  g_assert_cmpstr (second, ==, defaults[0]);

  wz_quick_replies_remove (replies, 0);
  g_assert_cmpuint (count_items (replies), ==, n);

  wz_quick_replies_reset (replies);
  g_assert_cmpuint (count_items (replies), ==, n);
  g_clear_pointer (&second, g_free);
  second = item_text (replies, 0);
  g_assert_cmpstr (second, ==, defaults[0]);
}

/* What a message shows: exactly its text (markup in it is text), addresses as links, search
 * matches marked, and valid Pango markup whatever the input. */
/* Pango markup without the <a> elements, which GtkLabel reads itself. */
static char *
without_links (const char *markup)
{
  g_autoptr(GRegex) regex = g_regex_new ("</?a( href=\"[^\"]*\")?>", 0, 0, NULL);

  return g_regex_replace_literal (regex, markup, -1, 0, "", 0, NULL);
}

static void
test_message_markup (void)
{
  const char *text = "<b>x</b> & see https://example.org/a?b=1&c=2. 或 www.wenzhen.cn，谢谢";
  g_autofree char *markup = wz_chat_message_row_build_markup (text, NULL, FALSE);
  g_autofree char *marked = wz_chat_message_row_build_markup (text, "EXAMPLE", TRUE);
  g_autofree char *plain = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (strstr (markup, "&lt;b&gt;x&lt;/b&gt; &amp; see "));
  g_assert_nonnull (strstr (markup, "<a href=\"https://example.org/a?b=1&amp;c=2\">https://example.org/a?b=1&amp;c=2</a>. "));
  g_assert_nonnull (strstr (markup, "<a href=\"https://www.wenzhen.cn\">www.wenzhen.cn</a>，谢谢"));
  {
    g_autofree char *pango = without_links (markup);

    g_assert_true (pango_parse_markup (pango, -1, 0, NULL, &plain, NULL, &error));
    g_assert_no_error (error);
    g_assert_cmpstr (plain, ==, text);
  }

  /* The match sits inside the link, case ignored. */
  g_assert_nonnull (strstr (marked, "https://<span background=\"#ff7800\" foreground=\"#000000\" weight=\"bold\">example</span>.org"));
  g_clear_pointer (&plain, g_free);
  {
    g_autofree char *pango = without_links (marked);

    g_assert_true (pango_parse_markup (pango, -1, 0, NULL, &plain, NULL, &error));
    g_assert_cmpstr (plain, ==, text);
  }
}

static void
test_day_headings (void)
{
  g_autoptr(GTimeZone) zone = g_time_zone_new_local ();
  g_autoptr(GDateTime) now = g_date_time_new (zone, 2026, 11, 25, 9, 30, 0);
  g_autoptr(GDateTime) earlier = g_date_time_new (zone, 2026, 11, 25, 0, 5, 0);
  g_autoptr(GDateTime) last_night = g_date_time_new (zone, 2026, 11, 24, 23, 55, 0);
  g_autoptr(GDateTime) last_week = g_date_time_new (zone, 2026, 11, 18, 12, 0, 0);
  g_autoptr(GDateTime) last_year = g_date_time_new (zone, 2025, 3, 2, 12, 0, 0);
  g_autofree char *today = wz_chat_message_row_format_day (earlier, now);
  g_autofree char *yesterday = wz_chat_message_row_format_day (last_night, now);
  g_autofree char *week = wz_chat_message_row_format_day (last_week, now);
  g_autofree char *year = wz_chat_message_row_format_day (last_year, now);
  g_autofree char *time = wz_chat_message_row_format_time (last_night);

  g_assert_cmpstr (today, ==, "Today");
  g_assert_cmpstr (yesterday, ==, "Yesterday");
  g_assert_cmpstr (week, ==, "Wednesday, 18 November");
  g_assert_cmpstr (year, ==, "Sunday, 2 March 2025");
  g_assert_cmpstr (time, ==, "23:55");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/chat-outbox/order-and-retry", Fixture, NULL, fixture_set_up, test_order_and_retry,
              fixture_tear_down);
  g_test_add ("/chat-outbox/lost-reply", Fixture, NULL, fixture_set_up, test_lost_reply,
              fixture_tear_down);
  g_test_add ("/chat-outbox/refused", Fixture, NULL, fixture_set_up, test_refused, fixture_tear_down);
  g_test_add ("/chat-outbox/survives-restart", Fixture, NULL, fixture_set_up, test_survives_restart,
              fixture_tear_down);
  g_test_add ("/chat-outbox/attachment-first", Fixture, NULL, fixture_set_up, test_attachment_first,
              fixture_tear_down);
  g_test_add_func ("/chat-model/merge", test_model_merge);
  g_test_add_func ("/quick-replies/edit", test_quick_replies);
  g_test_add_func ("/chat-row/markup", test_message_markup);
  g_test_add_func ("/chat-row/day-headings", test_day_headings);

  return g_test_run ();
}
