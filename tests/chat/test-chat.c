/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "wz-chat-test.h"
#include "wz-id.h"

/* The consultation chat on a real server over loopback, against the demo clinic: messages,
 * their order and catch-up, who may write where, attachments, receipts and the websocket. */

#define REFUSED_TEXT "This file is not a JPEG, PNG, PDF or voice note and cannot be sent."

static WzTestServer *server;
static char *doctor;        /* 李伟 */
static char *doctor_ref;
static char *doctor2;       /* 张敏, with patients of her own */
static char *doctor2_ref;
static char *encounter;     /* the doctor's waiting patient's visit */
static char *patient;       /* its "Patient/ID" */
static char *encounter2;    /* doctor2's waiting patient's visit */
static char *patient2;
static char *visitor;       /* patient session of ENCOUNTER */
static char *visitor2;      /* patient session of ENCOUNTER2 */

static char *
first_id (const char *token,
          const char *path)
{
  g_autoptr(WzTestResponse) response = wz_test_request_text (server, "GET", path, token, NULL);
  JsonArray *entries;

  g_assert_cmpuint (response->status, ==, 200);
  entries = json_object_get_array_member (json_node_get_object (response->json), "entry");
  g_assert_nonnull (entries);
  return g_strdup (json_object_get_string_member (
                     json_object_get_object_member (json_array_get_object_element (entries, 0),
                                                    "resource"), "id"));
}

static char *
subject_of (const char *encounter_id)
{
  g_autofree char *path = g_strdup_printf ("/fhir/Encounter/%s", encounter_id);
  g_autoptr(WzTestResponse) visit = wz_test_request_text (server, "GET", path, doctor, NULL);

  if (visit->status != 200)
    {
      g_autoptr(WzTestResponse) other = wz_test_request_text (server, "GET", path, doctor2, NULL);

      return g_strdup (json_object_get_string_member (
                         json_object_get_object_member (json_node_get_object (other->json),
                                                        "subject"), "reference"));
    }
  return g_strdup (json_object_get_string_member (
                     json_object_get_object_member (json_node_get_object (visit->json),
                                                    "subject"), "reference"));
}

/* Sends TEXT as TOKEN (sender left to the server) and returns the stored message. */
static JsonNode *
send_text (const char *token,
           const char *encounter_id,
           const char *patient_ref,
           const char *text)
{
  g_autofree char *uuid = wz_id_new_urn_uuid ();
  g_autofree char *json = wz_test_message_json (encounter_id, patient_ref, NULL, text, uuid);
  g_autoptr(WzTestResponse) response = wz_test_post_message (server, token, json, uuid);

  if (response->status != 201)
    g_error ("sending “%s”: %u %.300s", text, response->status,
             (const char *) g_bytes_get_data (response->body, NULL));
  return json_node_ref (response->json);
}

static guint
status_of_message (const char *token,
                   const char *json)
{
  g_autoptr(WzTestResponse) response = wz_test_request_text (server, "POST", "/fhir/Communication",
                                                             token, json);

  return response->status;
}

static const char *
last_updated (JsonObject *resource)
{
  return json_object_get_string_member (json_object_get_object_member (resource, "meta"),
                                        "lastUpdated");
}

/* Every message of ENCOUNTER_ID newer than AFTER (or all), following next links, in order. */
static GPtrArray *
conversation (const char *token,
              const char *encounter_id,
              const char *after,
              guint       page_size)
{
  GPtrArray *messages = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  g_autofree char *path = NULL;

  if (after != NULL)
    {
      g_autofree char *escaped = g_uri_escape_string (after, NULL, FALSE);

      path = g_strdup_printf ("/fhir/Communication?encounter=Encounter/%s&_sort=_lastUpdated"
                              "&_count=%u&_lastUpdated=gt%s", encounter_id, page_size, escaped);
    }
  else
    path = g_strdup_printf ("/fhir/Communication?encounter=Encounter/%s&_sort=_lastUpdated"
                            "&_count=%u", encounter_id, page_size);

  while (path != NULL)
    {
      g_autoptr(WzTestResponse) page = wz_test_request_text (server, "GET", path, token, NULL);
      JsonObject *bundle;
      JsonArray *entries, *links;

      g_assert_cmpuint (page->status, ==, 200);
      bundle = json_node_get_object (page->json);
      entries = json_object_get_array_member (bundle, "entry");
      for (guint i = 0; entries != NULL && i < json_array_get_length (entries); i++)
        g_ptr_array_add (messages,
                         json_node_ref (json_object_get_member (
                                          json_array_get_object_element (entries, i),
                                          "resource")));
      g_clear_pointer (&path, g_free);
      links = json_object_get_array_member (bundle, "link");
      for (guint i = 0; i < json_array_get_length (links); i++)
        {
          JsonObject *link = json_array_get_object_element (links, i);

          if (g_strcmp0 (json_object_get_string_member (link, "relation"), "next") == 0)
            path = g_strdup (strstr (json_object_get_string_member (link, "url"), "/fhir/"));
        }
    }

  return messages;
}

static void
test_retry_never_duplicates (void)
{
  g_autofree char *uuid = wz_id_new_urn_uuid ();
  g_autofree char *json = wz_test_message_json (encounter, patient, doctor_ref, "请问哪里不舒服？",
                                                uuid);
  g_autoptr(WzTestResponse) first = wz_test_post_message (server, doctor, json, uuid);
  g_autoptr(WzTestResponse) retry = wz_test_post_message (server, doctor, json, uuid);
  g_autoptr(WzTestResponse) found = NULL;
  g_autofree char *escaped = g_uri_escape_string (uuid, NULL, FALSE);
  g_autofree char *search = g_strdup_printf ("/fhir/Communication?identifier=%s", escaped);
  JsonObject *stored;

  g_assert_cmpuint (first->status, ==, 201);
  g_assert_nonnull (soup_message_headers_get_one (first->headers, "Location"));
  /* A retry after a lost answer gets the same stored message, byte for byte. */
  g_assert_cmpuint (retry->status, ==, 200);
  g_assert_cmpstr (wz_test_member (retry, "id"), ==, wz_test_member (first, "id"));
  g_assert_true (g_bytes_equal (first->body, retry->body));

  stored = json_node_get_object (first->json);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (stored, "sender"),
                                                  "reference"), ==, doctor_ref);
  found = wz_test_request_text (server, "GET", search, doctor, NULL);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (found->json), "total"), ==, 1);

  /* The patient's retry works the same, and the server names the sender when it is left out. */
  {
    g_autofree char *uuid2 = wz_id_new_urn_uuid ();
    g_autofree char *json2 = wz_test_message_json (encounter, patient, NULL, "头痛三天了", uuid2);
    g_autoptr(WzTestResponse) sent = wz_test_post_message (server, visitor, json2, uuid2);
    g_autoptr(WzTestResponse) again = wz_test_post_message (server, visitor, json2, uuid2);

    g_assert_cmpuint (sent->status, ==, 201);
    g_assert_cmpuint (again->status, ==, 200);
    g_assert_cmpstr (wz_test_member (again, "id"), ==, wz_test_member (sent, "id"));
    g_assert_cmpstr (json_object_get_string_member (
                       json_object_get_object_member (json_node_get_object (sent->json), "sender"),
                       "reference"), ==, patient);
  }
}

static void
test_order_and_catch_up (void)
{
  g_autoptr(GPtrArray) before = conversation (doctor, encounter, NULL, 200);
  g_autoptr(GPtrArray) sent = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  g_autoptr(GPtrArray) all = NULL;
  g_autoptr(GPtrArray) paged = NULL;
  g_autoptr(GPtrArray) rest = NULL;
  g_autoptr(GPtrArray) seen_by_patient = NULL;
  g_autofree char *mark = NULL;
  guint n_before = before->len;

  /* Both sides write as fast as they can, alternating; each message is its own instant. */
  for (guint i = 0; i < 40; i++)
    {
      g_autofree char *text = g_strdup_printf ("message %02u", i);

      g_ptr_array_add (sent, send_text (i % 2 ? visitor : doctor, encounter, patient, text));
    }

  all = conversation (doctor, encounter, NULL, 200);
  paged = conversation (doctor, encounter, NULL, 7);
  seen_by_patient = conversation (visitor, encounter, NULL, 11);
  g_assert_cmpuint (all->len, ==, n_before + 40);
  g_assert_cmpuint (paged->len, ==, all->len);
  g_assert_cmpuint (seen_by_patient->len, ==, all->len);
  for (guint i = 0; i < all->len; i++)
    {
      JsonObject *message = json_node_get_object (g_ptr_array_index (all, i));

      g_assert_cmpstr (json_object_get_string_member (message, "id"), ==,
                       json_object_get_string_member (
                         json_node_get_object (g_ptr_array_index (paged, i)), "id"));
      g_assert_cmpstr (json_object_get_string_member (message, "id"), ==,
                       json_object_get_string_member (
                         json_node_get_object (g_ptr_array_index (seen_by_patient, i)), "id"));
      if (i > 0)
        g_assert_cmpstr (last_updated (json_node_get_object (g_ptr_array_index (all, i - 1))), <,
                         last_updated (message));
      if (i >= n_before)
        g_assert_cmpstr (json_object_get_string_member (message, "id"), ==,
                         json_object_get_string_member (
                           json_node_get_object (g_ptr_array_index (sent, i - n_before)), "id"));
    }

  /* A client that saw up to the 15th of the new messages catches up with exactly the rest. */
  mark = g_strdup (last_updated (json_node_get_object (g_ptr_array_index (sent, 14))));
  rest = conversation (visitor, encounter, mark, 10);
  g_assert_cmpuint (rest->len, ==, 25);
  for (guint i = 0; i < rest->len; i++)
    g_assert_cmpstr (wz_test_message_text (json_node_get_object (g_ptr_array_index (rest, i))),
                     ==, wz_test_message_text (json_node_get_object (g_ptr_array_index (sent,
                                                                                        15 + i))));
}

static void
test_refusals (void)
{
  g_autofree char *uuid = wz_id_new_urn_uuid ();
  g_autofree char *long_text = NULL;
  g_autofree char *json = NULL;
  GString *text = g_string_new (NULL);

  /* Another doctor cannot write into this visit, naming the patient or not. */
  json = wz_test_message_json (encounter, patient, doctor2_ref, "hello", uuid);
  g_assert_cmpuint (status_of_message (doctor2, json), ==, 403);
  g_clear_pointer (&json, g_free);
  json = wz_test_message_json (encounter, patient2, doctor2_ref, "hello", uuid);
  g_assert_cmpuint (status_of_message (doctor2, json), ==, 403);
  g_clear_pointer (&json, g_free);

  /* A patient writes only into their own visit. */
  json = wz_test_message_json (encounter2, patient2, NULL, "hello", uuid);
  g_assert_cmpuint (status_of_message (visitor, json), ==, 403);
  g_clear_pointer (&json, g_free);
  json = wz_test_message_json (encounter2, patient, NULL, "hello", uuid);
  g_assert_cmpuint (status_of_message (visitor, json), ==, 403);
  g_clear_pointer (&json, g_free);

  /* Nobody speaks for someone else. */
  json = wz_test_message_json (encounter, patient, patient, "I am the patient", uuid);
  g_assert_cmpuint (status_of_message (doctor, json), ==, 403);
  g_clear_pointer (&json, g_free);
  json = wz_test_message_json (encounter, patient, doctor_ref, "I am the doctor", uuid);
  g_assert_cmpuint (status_of_message (visitor, json), ==, 403);
  g_clear_pointer (&json, g_free);
  json = wz_test_message_json (encounter, patient, doctor2_ref, "I am doctor 2", uuid);
  g_assert_cmpuint (status_of_message (doctor, json), ==, 403);
  g_clear_pointer (&json, g_free);

  /* The subject is the visit's patient. */
  json = wz_test_message_json (encounter, patient2, doctor_ref, "wrong patient", uuid);
  g_assert_cmpuint (status_of_message (doctor, json), ==, 403);
  g_clear_pointer (&json, g_free);

  /* At most 4,000 characters (Chinese ones count as one each). */
  for (guint i = 0; i < 4000; i++)
    g_string_append (text, "痛");
  long_text = g_string_free (text, FALSE);
  json = wz_test_message_json (encounter, patient, doctor_ref, long_text, uuid);
  g_assert_cmpuint (status_of_message (doctor, json), ==, 201);
  g_clear_pointer (&json, g_free);
  {
    g_autofree char *longer = g_strconcat (long_text, "!", NULL);
    g_autofree char *uuid2 = wz_id_new_urn_uuid ();

    json = wz_test_message_json (encounter, patient, doctor_ref, longer, uuid2);
    g_assert_cmpuint (status_of_message (doctor, json), ==, 422);
    g_clear_pointer (&json, g_free);
  }

  /* A message without a visit, or without a payload, is refused with a reason. */
  {
    g_autoptr(WzTestResponse) no_visit = NULL;
    g_autofree char *body = g_strdup_printf (
      "{\"resourceType\":\"Communication\",\"status\":\"completed\","
      "\"subject\":{\"reference\":\"%s\"},\"payload\":[{\"contentString\":\"hi\"}]}", patient);
    g_autofree char *empty = g_strdup_printf (
      "{\"resourceType\":\"Communication\",\"status\":\"completed\","
      "\"encounter\":{\"reference\":\"Encounter/%s\"},\"payload\":[]}", encounter);

    no_visit = wz_test_request_text (server, "POST", "/fhir/Communication", doctor, body);
    g_assert_nonnull (strstr (wz_test_assert_outcome (no_visit, 422), "encounter"));
    g_assert_cmpuint (status_of_message (doctor, empty), ==, 422);
  }
}

static void
test_html_stays_text (void)
{
  const char *text = "<script>alert('x')</script><img src=x onerror=alert(1)> & <b>粗体</b> "
                     "\"quoted\" &amp;";
  g_autoptr(JsonNode) sent = send_text (visitor, encounter, patient, text);
  g_autofree char *path = g_strdup_printf ("/fhir/Communication/%s",
                                           json_object_get_string_member (
                                             json_node_get_object (sent), "id"));
  g_autoptr(WzTestResponse) read = wz_test_request_text (server, "GET", path, doctor, NULL);

  g_assert_cmpuint (read->status, ==, 200);
  g_assert_cmpstr (soup_message_headers_get_content_type (read->headers, NULL), ==,
                   "application/fhir+json");
  /* Stored and served exactly as typed: escaping is the job of whoever shows it. */
  g_assert_cmpstr (wz_test_message_text (json_node_get_object (read->json)), ==, text);
}

/* A minimal file of each kind a chat carries. */
static GBytes *
png_bytes (guint8 variant)
{
  static const guint8 png[] = {
    0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R',
    0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89,
  };
  guint8 *data = g_malloc (sizeof png + 1);

  memcpy (data, png, sizeof png);
  data[sizeof png] = variant;
  return g_bytes_new_take (data, sizeof png + 1);
}

static GBytes *
webm_bytes (void)
{
  static const guint8 webm[] = {
    0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01, 0x42, 0xf7, 0x81, 0x01, 0x42, 0xf2,
    0x81, 0x04, 0x42, 0xf3, 0x81, 0x08, 0x42, 0x82, 0x84, 'w', 'e', 'b', 'm', 0x42, 0x87, 0x81,
    0x04, 0x42, 0x85, 0x81, 0x02, 0x18, 0x53, 0x80, 0x67,
  };

  return g_bytes_new_static (webm, sizeof webm);
}

static WzTestResponse *
upload (const char *token,
        const char *encounter_id,
        const char *content_type,
        GBytes     *data)
{
  g_autofree char *url = g_strconcat (server->url, "/fhir/Binary", NULL);
  g_autofree char *authorization = g_strconcat ("Bearer ", token, NULL);
  g_autofree char *context = encounter_id ? g_strconcat ("Encounter/", encounter_id, NULL) : NULL;
  g_autoptr(SoupMessage) msg = soup_message_new ("POST", url);
  SoupMessageHeaders *headers = soup_message_get_request_headers (msg);
  WzTestResponse *response = g_new0 (WzTestResponse, 1);
  g_autoptr(GError) error = NULL;

  soup_message_headers_replace (headers, "Authorization", authorization);
  if (context != NULL)
    soup_message_headers_replace (headers, "X-Security-Context", context);
  soup_message_set_request_body_from_bytes (msg, content_type, data);
  response->body = soup_session_send_and_read (server->session, msg, NULL, &error);
  g_assert_no_error (error);
  response->status = soup_message_get_status (msg);
  response->headers = soup_message_headers_ref (soup_message_get_response_headers (msg));
  {
    g_autofree char *text = g_strndup (g_bytes_get_data (response->body, NULL),
                                       g_bytes_get_size (response->body));

    response->json = json_from_string (text, NULL);
  }
  return response;
}

static WzTestResponse *
get_binary (const char *token,
            const char *id,
            const char *accept)
{
  g_autofree char *path = g_strdup_printf ("/fhir/Binary/%s", id);

  return wz_test_request (server, "GET", path, token, NULL, "Accept", accept, NULL);
}

static void
test_binary_types (void)
{
  static const char jpeg[] = "\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00";
  static const char pdf[] = "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n";
  static const char ogg[] = "OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00OpusHead";
  static const char elf[] = "\x7f" "ELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00";
  static const char exe[] = "MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00";
  g_autoptr(GBytes) jpeg_data = g_bytes_new_static (jpeg, sizeof jpeg - 1);
  g_autoptr(GBytes) pdf_data = g_bytes_new_static (pdf, sizeof pdf - 1);
  g_autoptr(GBytes) ogg_data = g_bytes_new_static (ogg, sizeof ogg - 1);
  g_autoptr(GBytes) elf_data = g_bytes_new_static (elf, sizeof elf - 1);
  g_autoptr(GBytes) exe_data = g_bytes_new_static (exe, sizeof exe - 1);
  g_autoptr(GBytes) png = png_bytes (1);
  g_autoptr(GBytes) webm = webm_bytes ();
  struct { const char *type; GBytes *data; } accepted[] = {
    { "image/jpeg", jpeg_data }, { "image/png", png }, { "application/pdf", pdf_data },
    { "audio/webm;codecs=opus", webm }, { "audio/ogg", ogg_data },
  };
  struct { const char *type; GBytes *data; } refused[] = {
    { "image/jpeg", elf_data },       /* a program renamed photo.jpg */
    { "application/pdf", exe_data },  /* a Windows program renamed report.pdf */
    { "application/x-msdownload", exe_data },
    { "image/jpeg", png },            /* a real picture, declared as something it is not */
    { "text/html", pdf_data },
  };

  for (guint i = 0; i < G_N_ELEMENTS (accepted); i++)
    {
      g_autoptr(WzTestResponse) created = upload (visitor, encounter, accepted[i].type,
                                                  accepted[i].data);
      g_autoptr(WzTestResponse) read = NULL;

      if (created->status != 201)
        g_error ("%s: %u %.200s", accepted[i].type, created->status,
                 (const char *) g_bytes_get_data (created->body, NULL));
      g_assert_cmpstr (wz_test_member (created, "resourceType"), ==, "Binary");
      g_assert_false (json_object_has_member (json_node_get_object (created->json), "data"));
      g_assert_nonnull (soup_message_headers_get_one (created->headers, "Location"));
      read = get_binary (doctor, wz_test_member (created, "id"), "*/*");
      /* Where Location points reads the same. */
      {
        const char *location = soup_message_headers_get_one (created->headers, "Location");
        g_autoptr(WzTestResponse) located = wz_test_request (server, "GET",
                                                             strstr (location, "/fhir/"), doctor,
                                                             NULL, "Accept", "*/*", NULL);

        g_assert_cmpuint (located->status, ==, 200);
        g_assert_true (g_bytes_equal (located->body, accepted[i].data));
      }
      g_assert_cmpuint (read->status, ==, 200);
      g_assert_true (g_bytes_equal (read->body, accepted[i].data));
    }

  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr(WzTestResponse) response = upload (doctor, encounter, refused[i].type,
                                                   refused[i].data);

      g_assert_cmpstr (wz_test_assert_outcome (response, 415), ==, REFUSED_TEXT);
    }
}

static void
test_binary_limits_and_access (void)
{
  g_autoptr(GBytes) png = png_bytes (2);
  g_autoptr(WzTestResponse) first = upload (doctor, encounter, "image/png", png);
  g_autoptr(WzTestResponse) again = upload (visitor, encounter, "image/png", png);
  g_autoptr(WzTestResponse) elsewhere = upload (doctor2, encounter2, "image/png", png);
  g_autoptr(WzTestResponse) no_context = upload (doctor, NULL, "image/png", png);
  g_autoptr(WzTestResponse) not_mine = upload (visitor, encounter2, "image/png", png);
  g_autoptr(WzTestResponse) not_on_team = upload (doctor2, encounter, "image/png", png);
  const char *id;

  g_assert_cmpuint (first->status, ==, 201);
  id = wz_test_member (first, "id");
  /* The same picture sent twice in one visit is one attachment; another visit keeps its own. */
  g_assert_cmpuint (again->status, ==, 200);
  g_assert_cmpstr (wz_test_member (again, "id"), ==, id);
  g_assert_cmpuint (elsewhere->status, ==, 201);
  g_assert_cmpstr (wz_test_member (elsewhere, "id"), !=, id);
  wz_test_assert_outcome (no_context, 400);
  wz_test_assert_outcome (not_mine, 403);
  wz_test_assert_outcome (not_on_team, 403);

  /* Readable by the visit's patient and care team only; to others it does not exist. */
  {
    g_autoptr(WzTestResponse) by_patient = get_binary (visitor, id, "image/*");
    g_autoptr(WzTestResponse) by_other_doctor = get_binary (doctor2, id, "*/*");
    g_autoptr(WzTestResponse) by_other_patient = get_binary (visitor2, id, "*/*");
    g_autoptr(WzTestResponse) as_json = get_binary (doctor, id, "application/fhir+json");
    g_autoptr(WzTestResponse) unknown = get_binary (doctor, "no-such-binary", "*/*");
    g_autofree char *base64 = g_base64_encode (g_bytes_get_data (png, NULL),
                                               g_bytes_get_size (png));
    g_autofree char *context = g_strconcat ("Encounter/", encounter, NULL);

    g_assert_cmpuint (by_patient->status, ==, 200);
    g_assert_cmpstr (soup_message_headers_get_content_type (by_patient->headers, NULL), ==,
                     "image/png");
    g_assert_cmpstr (soup_message_headers_get_one (by_patient->headers,
                                                   "X-Content-Type-Options"), ==, "nosniff");
    g_assert_true (g_str_has_prefix (soup_message_headers_get_one (by_patient->headers,
                                                                   "Content-Disposition"),
                                     "inline"));
    wz_test_assert_outcome (by_other_doctor, 404);
    wz_test_assert_outcome (by_other_patient, 404);
    wz_test_assert_outcome (unknown, 404);

    g_assert_cmpuint (as_json->status, ==, 200);
    g_assert_cmpstr (wz_test_member (as_json, "contentType"), ==, "image/png");
    g_assert_cmpstr (wz_test_member (as_json, "data"), ==, base64);
    g_assert_cmpstr (json_object_get_string_member (
                       json_object_get_object_member (json_node_get_object (as_json->json),
                                                      "securityContext"), "reference"), ==,
                     context);
  }

  /* A PDF is downloaded, never shown in the browser as a page of this site. */
  {
    static const char pdf[] = "%PDF-1.7\n%%EOF\n";
    g_autoptr(GBytes) data = g_bytes_new_static (pdf, sizeof pdf - 1);
    g_autoptr(WzTestResponse) created = upload (doctor, encounter, "application/pdf", data);
    g_autoptr(WzTestResponse) raw = get_binary (visitor, wz_test_member (created, "id"), "*/*");

    g_assert_cmpuint (raw->status, ==, 200);
    g_assert_cmpstr (soup_message_headers_get_content_type (raw->headers, NULL), ==,
                     "application/pdf");
    g_assert_true (g_str_has_prefix (soup_message_headers_get_one (raw->headers,
                                                                   "Content-Disposition"),
                                     "attachment"));
    g_assert_cmpstr (soup_message_headers_get_one (raw->headers, "X-Content-Type-Options"), ==,
                     "nosniff");
  }

  /* Over 10 MiB is refused, even a valid picture. */
  {
    gsize size = 10 * 1024 * 1024 + 1;
    guint8 *big = g_malloc0 (size);
    g_autoptr(GBytes) data = NULL;
    g_autoptr(WzTestResponse) response = NULL;

    memcpy (big, g_bytes_get_data (png, NULL), g_bytes_get_size (png));
    data = g_bytes_new_take (big, size);
    response = upload (doctor, encounter, "image/png", data);
    wz_test_assert_outcome (response, 413);
  }

  /* Exactly 10 MiB is fine. */
  {
    gsize size = 10 * 1024 * 1024;
    guint8 *big = g_malloc0 (size);
    g_autoptr(GBytes) data = NULL;
    g_autoptr(WzTestResponse) response = NULL;

    memcpy (big, "%PDF-1.4\n", 9);
    data = g_bytes_new_take (big, size);
    response = upload (doctor, encounter, "application/pdf", data);
    g_assert_cmpuint (response->status, ==, 201);
  }
}

/* A text and a picture in one message. */
#define ATTACHMENT_MESSAGE \
    "{\"resourceType\":\"Communication\",\"status\":\"completed\"," \
    "\"identifier\":[{\"system\":\"urn:ietf:rfc:3986\",\"value\":\"%s\"}]," \
    "\"encounter\":{\"reference\":\"Encounter/%s\"},\"subject\":{\"reference\":\"%s\"}," \
    "\"payload\":[{\"contentString\":\"照片\"},{\"contentAttachment\":{\"contentType\":" \
    "\"image/png\",\"url\":\"Binary/%s\",\"size\":%" G_GSIZE_FORMAT ",\"title\":\"rash.png\"}}]}"

static void
test_attachment_message (void)
{
  g_autoptr(GBytes) png = png_bytes (3);
  g_autoptr(WzTestResponse) mine = upload (visitor, encounter, "image/png", png);
  g_autoptr(WzTestResponse) theirs = upload (doctor2, encounter2, "image/png", png);
  g_autofree char *uuid = wz_id_new_urn_uuid ();
  g_autofree char *good = NULL;
  g_autofree char *foreign = NULL;
  g_autoptr(WzTestResponse) sent = NULL;

  g_assert_cmpuint (mine->status, ==, 201);
  g_assert_cmpuint (theirs->status, ==, 201);
  good = g_strdup_printf (ATTACHMENT_MESSAGE, uuid, encounter, patient, wz_test_member (mine, "id"),
                          g_bytes_get_size (png));
  sent = wz_test_post_message (server, visitor, good, uuid);
  g_assert_cmpuint (sent->status, ==, 201);

  /* An attachment of another visit cannot be passed off as one of this one. */
  foreign = g_strdup_printf (ATTACHMENT_MESSAGE, uuid, encounter, patient, wz_test_member (theirs, "id"),
                             g_bytes_get_size (png));
  g_assert_cmpuint (status_of_message (visitor, foreign), ==, 422);
}

/* A visit page opening its first socket, or closing its last, is told to the visit's doctors
 * (the call's presence frame); taken here, so that what follows is the chat's own frames. */
static void
expect_presence (WzTestWs   *doc,
                 const char *visit,
                 const char *state)
{
  g_autoptr(JsonNode) frame = wz_test_ws_next (doc);

  g_assert_cmpstr (wz_test_frame_member (frame, "type"), ==, "presence");
  g_assert_cmpstr (wz_test_frame_member (frame, "encounter"), ==, visit);
  g_assert_cmpstr (wz_test_frame_member (frame, "patient"), ==, state);
}

static void
test_message_events_and_typing (void)
{
  g_autoptr(WzTestWs) doc = wz_test_ws_open (server->url, doctor);
  g_autoptr(WzTestWs) doc2 = wz_test_ws_open (server->url, doctor2);
  g_autoptr(WzTestWs) pat = wz_test_ws_open (server->url, visitor);
  g_autoptr(WzTestWs) pat2 = wz_test_ws_open (server->url, visitor2);
  g_autoptr(JsonNode) message = NULL;
  g_autoptr(JsonNode) event = NULL;
  g_autoptr(JsonNode) typing = NULL;
  g_autofree char *frame = NULL;
  g_autofree char *visit = g_strconcat ("Encounter/", encounter, NULL);
  g_autofree char *visit2 = g_strconcat ("Encounter/", encounter2, NULL);

  expect_presence (doc, visit, "online");
  expect_presence (doc2, visit2, "online");

  /* The patient types: only the doctor of that visit hears it, and learns who from the server. */
  frame = g_strdup_printf ("{\"type\":\"typing\",\"encounter\":\"%s\",\"from\":\"%s\"}", visit,
                           doctor2_ref);
  wz_test_ws_send (pat, frame);
  typing = wz_test_ws_next (doc);
  g_assert_cmpstr (wz_test_frame_member (typing, "type"), ==, "typing");
  g_assert_cmpstr (wz_test_frame_member (typing, "encounter"), ==, visit);
  g_assert_cmpstr (wz_test_frame_member (typing, "from"), ==, patient);
  wz_test_ws_assert_quiet (doc2);
  wz_test_ws_assert_quiet (pat2);
  wz_test_ws_assert_quiet (pat);

  /* A message reaches both ends of the visit, nobody else. */
  message = send_text (doctor, encounter, patient, "请把舌头的照片发给我");
  event = wz_test_ws_next (pat);
  g_assert_cmpstr (wz_test_frame_member (event, "type"), ==, "resource");
  g_assert_cmpstr (wz_test_frame_member (event, "resourceType"), ==, "Communication");
  g_assert_cmpstr (wz_test_frame_member (event, "id"), ==,
                   json_object_get_string_member (json_node_get_object (message), "id"));
  g_assert_cmpstr (wz_test_frame_member (event, "encounter"), ==, visit);
  g_clear_pointer (&event, json_node_unref);
  event = wz_test_ws_next (doc);
  g_assert_cmpstr (wz_test_frame_member (event, "resourceType"), ==, "Communication");
  wz_test_ws_assert_quiet (doc2);
  wz_test_ws_assert_quiet (pat2);

  /* Typing into someone else's visit is refused with an error frame, and relayed to nobody. */
  g_clear_pointer (&frame, g_free);
  frame = g_strdup_printf ("{\"type\":\"typing\",\"encounter\":\"Encounter/%s\"}", encounter2);
  wz_test_ws_send (pat, frame);
  g_clear_pointer (&typing, json_node_unref);
  typing = wz_test_ws_next (pat);
  g_assert_cmpstr (wz_test_frame_member (typing, "type"), ==, "error");
  wz_test_ws_send (doc, frame);
  g_clear_pointer (&typing, json_node_unref);
  typing = wz_test_ws_next (doc);
  g_assert_cmpstr (wz_test_frame_member (typing, "type"), ==, "error");
  wz_test_ws_assert_quiet (doc2);
  wz_test_ws_assert_quiet (pat2);
}

static void
test_receipts (void)
{
  g_autoptr(WzTestWs) doc = wz_test_ws_open (server->url, doctor);
  g_autoptr(WzTestWs) pat = wz_test_ws_open (server->url, visitor);
  g_autoptr(WzTestWs) doc2 = wz_test_ws_open (server->url, doctor2);
  g_autoptr(JsonNode) message = send_text (doctor, encounter, patient, "今天体温多少？");
  g_autoptr(JsonNode) relayed = NULL;
  g_autoptr(JsonNode) error_frame = NULL;
  g_autoptr(WzTestResponse) receipts = NULL;
  g_autoptr(WzTestResponse) refused = NULL;
  g_autofree char *visit = g_strconcat ("Encounter/", encounter, NULL);
  g_autofree char *delivered = NULL;
  g_autofree char *read = NULL;
  g_autofree char *older = NULL;
  g_autofree char *path = g_strdup_printf ("/chat/receipts?encounter=%s", visit);
  g_autofree char *path2 = g_strdup_printf ("/chat/receipts?encounter=Encounter/%s", encounter2);
  const char *up_to = last_updated (json_node_get_object (message));
  JsonArray *list;
  gboolean found = FALSE;

  g_clear_pointer (&relayed, json_node_unref);
  relayed = wz_test_ws_next_type (pat, "resource");
  g_clear_pointer (&relayed, json_node_unref);
  relayed = wz_test_ws_next_type (doc, "resource");

  delivered = g_strdup_printf ("{\"type\":\"receipt\",\"encounter\":\"%s\",\"state\":\"delivered\","
                               "\"upTo\":\"%s\",\"junk\":\"<b>\"}", visit, up_to);
  wz_test_ws_send (pat, delivered);
  g_clear_pointer (&relayed, json_node_unref);
  relayed = wz_test_ws_next (doc);
  g_assert_cmpstr (wz_test_frame_member (relayed, "type"), ==, "receipt");
  g_assert_cmpstr (wz_test_frame_member (relayed, "state"), ==, "delivered");
  g_assert_cmpstr (wz_test_frame_member (relayed, "upTo"), ==, up_to);
  g_assert_cmpstr (wz_test_frame_member (relayed, "from"), ==, patient);
  g_assert_cmpstr (wz_test_frame_member (relayed, "encounter"), ==, visit);
  g_assert_false (json_object_has_member (json_node_get_object (relayed), "junk"));

  read = g_strdup_printf ("{\"type\":\"receipt\",\"encounter\":\"%s\",\"state\":\"read\","
                          "\"upTo\":\"%s\"}", visit, up_to);
  wz_test_ws_send (pat, read);
  g_clear_pointer (&relayed, json_node_unref);
  relayed = wz_test_ws_next (doc);
  g_assert_cmpstr (wz_test_frame_member (relayed, "state"), ==, "read");

  /* Saying "delivered" again, or for an older message, changes nothing and tells nobody. */
  wz_test_ws_send (pat, delivered);
  older = g_strdup_printf ("{\"type\":\"receipt\",\"encounter\":\"%s\",\"state\":\"read\","
                           "\"upTo\":\"2020-01-01T00:00:00.000Z\"}", visit);
  wz_test_ws_send (pat, older);
  wz_test_ws_assert_quiet (pat);
  wz_test_ws_assert_quiet (doc);
  wz_test_ws_assert_quiet (doc2);

  /* A bad state, or a receipt for a visit one is not part of, gets an error frame. */
  {
    g_autofree char *bad = g_strdup_printf ("{\"type\":\"receipt\",\"encounter\":\"%s\","
                                            "\"state\":\"seen\",\"upTo\":\"%s\"}", visit, up_to);
    g_autofree char *foreign = g_strdup_printf ("{\"type\":\"receipt\",\"encounter\":"
                                                "\"Encounter/%s\",\"state\":\"read\","
                                                "\"upTo\":\"%s\"}", encounter2, up_to);

    g_autofree char *future = g_strdup_printf ("{\"type\":\"receipt\",\"encounter\":\"%s\","
                                               "\"state\":\"read\","
                                               "\"upTo\":\"2999-01-01T00:00:00.000Z\"}", visit);

    wz_test_ws_send (pat, bad);
    error_frame = wz_test_ws_next (pat);
    g_assert_cmpstr (wz_test_frame_member (error_frame, "type"), ==, "error");
    g_clear_pointer (&error_frame, json_node_unref);
    /* A mark in the future would swallow every later receipt. */
    wz_test_ws_send (pat, future);
    error_frame = wz_test_ws_next (pat);
    g_assert_cmpstr (wz_test_frame_member (error_frame, "type"), ==, "error");
    g_clear_pointer (&error_frame, json_node_unref);
    wz_test_ws_send (pat, foreign);
    error_frame = wz_test_ws_next (pat);
    g_assert_cmpstr (wz_test_frame_member (error_frame, "type"), ==, "error");
    wz_test_ws_assert_quiet (doc2);
  }

  /* After a reconnect the doctor catches up with what the patient has seen. */
  receipts = wz_test_request_text (server, "GET", path, doctor, NULL);
  g_assert_cmpuint (receipts->status, ==, 200);
  list = json_object_get_array_member (json_node_get_object (receipts->json), "receipts");
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *receipt = json_array_get_object_element (list, i);

      if (g_strcmp0 (json_object_get_string_member (receipt, "reader"), patient) != 0)
        continue;
      found = TRUE;
      g_assert_cmpstr (json_object_get_string_member (receipt, "delivered"), ==, up_to);
      g_assert_cmpstr (json_object_get_string_member (receipt, "read"), ==, up_to);
    }
  g_assert_true (found);

  refused = wz_test_request_text (server, "GET", path, doctor2, NULL);
  wz_test_assert_outcome (refused, 404);
  g_clear_pointer (&refused, wz_test_response_free);
  refused = wz_test_request_text (server, "GET", path2, visitor, NULL);
  wz_test_assert_outcome (refused, 404);
  g_clear_pointer (&refused, wz_test_response_free);
  refused = wz_test_request_text (server, "GET", path, NULL, NULL);
  wz_test_assert_outcome (refused, 401);
}

static void
test_bad_frames (void)
{
  g_autoptr(WzTestWs) pat = wz_test_ws_open (server->url, visitor);
  g_autoptr(WzTestWs) doc = wz_test_ws_open (server->url, doctor);
  const char *bad[] = {
    "{", "[]", "42", "null", "{\"type\":7}", "{\"type\":\"typing\"}",
    "{\"type\":\"typing\",\"encounter\":[1,2]}", "{\"type\":\"receipt\",\"encounter\":\"Encounter/x\"}",
    "{\"type\":\"receipt\"}", "{\"type\":\"launch-missiles\"}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(JsonNode) answer = NULL;

      wz_test_ws_send (pat, bad[i]);
      answer = wz_test_ws_next (pat);
      g_assert_cmpstr (wz_test_frame_member (answer, "type"), ==, "error");
    }
  /* A binary frame too. */
  {
    static const guint8 blob[] = { 0, 1, 2, 3 };
    g_autoptr(JsonNode) answer = NULL;

    soup_websocket_connection_send_binary (pat->conn, blob, sizeof blob);
    answer = wz_test_ws_next (pat);
    g_assert_cmpstr (wz_test_frame_member (answer, "type"), ==, "error");
  }
  wz_test_ws_assert_quiet (doc);

  /* An oversized frame is answered, then the socket is closed with 1009; the server lives on. */
  {
    gsize size = 200 * 1024;
    g_autofree char *huge = g_malloc (size + 1);
    g_autoptr(JsonNode) answer = NULL;
    g_autoptr(WzTestWs) again = NULL;
    g_autoptr(WzTestResponse) alive = NULL;

    memset (huge, 'a', size);
    memcpy (huge, "{\"type\":\"typing\",\"x\":\"", 22);
    huge[size - 2] = '"';
    huge[size - 1] = '}';
    huge[size] = '\0';
    wz_test_ws_send (pat, huge);
    answer = wz_test_ws_next (pat);
    g_assert_cmpstr (wz_test_frame_member (answer, "type"), ==, "error");
    WZ_SPIN_UNTIL (pat->closed, WZ_CHAT_TEST_TIMEOUT_MS);
    g_assert_true (pat->closed);
    g_assert_cmpuint (pat->close_code, ==, SOUP_WEBSOCKET_CLOSE_TOO_BIG);

    {
      g_autofree char *visit = g_strconcat ("Encounter/", encounter, NULL);

      expect_presence (doc, visit, "offline");
    }
    wz_test_ws_assert_quiet (doc);
    again = wz_test_ws_open (server->url, visitor);
    wz_test_ws_assert_quiet (again);
    alive = wz_test_request_text (server, "GET", "/fhir/metadata", NULL, NULL);
    g_assert_cmpuint (alive->status, ==, 200);
  }
}

static void
test_backup_keeps_attachments (void)
{
  g_autoptr(GBytes) png = png_bytes (4);
  g_autoptr(WzTestResponse) created = upload (doctor, encounter, "image/png", png);
  g_autoptr(WzTestServer) restored = wz_test_server_new ();
  g_autofree char *archive = g_build_filename (restored->data_dir, "backup.wzb", NULL);
  g_autofree char *target = g_build_filename (restored->data_dir, "data", NULL);
  g_autofree char *path = NULL;
  g_autofree char *token = NULL;
  g_autoptr(WzTestResponse) read = NULL;

  g_assert_cmpuint (created->status, ==, 201);
  g_assert_cmpint (wz_test_run_cli (NULL, NULL, "backup", "--data-dir", server->data_dir, archive,
                                    NULL), ==, 0);
  g_assert_cmpint (wz_test_run_cli (NULL, NULL, "restore", "--data-dir", target, archive, NULL),
                   ==, 0);
  g_free (restored->data_dir);
  restored->data_dir = g_steal_pointer (&target);
  wz_test_server_start (restored);
  token = wz_test_server_login (restored, "doctor", "demo");
  path = g_strdup_printf ("/fhir/Binary/%s", wz_test_member (created, "id"));
  read = wz_test_request (restored, "GET", path, token, NULL, "Accept", "*/*", NULL);
  g_assert_cmpuint (read->status, ==, 200);
  g_assert_true (g_bytes_equal (read->body, png));
  g_assert_cmpint (wz_test_server_stop (restored), ==, 0);
}

static void
test_capability (void)
{
  g_autoptr(WzTestResponse) response = wz_test_request_text (server, "GET", "/fhir/metadata",
                                                             NULL, NULL);
  JsonArray *resources = json_object_get_array_member (
    json_array_get_object_element (json_object_get_array_member (
                                     json_node_get_object (response->json), "rest"), 0),
    "resource");
  gboolean binary = FALSE, communication = FALSE;

  for (guint i = 0; i < json_array_get_length (resources); i++)
    {
      JsonObject *resource = json_array_get_object_element (resources, i);
      const char *type = json_object_get_string_member (resource, "type");
      const char *doc = json_object_get_string_member_with_default (resource, "documentation", "");

      if (g_strcmp0 (type, "Binary") == 0)
        binary = strstr (doc, "X-Security-Context") != NULL && strstr (doc, "10 MiB") != NULL;
      else if (g_strcmp0 (type, "Communication") == 0)
        communication = strstr (doc, "_lastUpdated=gt") != NULL &&
                        strstr (doc, "If-None-Exist") != NULL;
    }
  g_assert_true (binary);
  g_assert_true (communication);
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);

  server = wz_test_server_new ();
  g_assert_cmpint (wz_test_run_cli (NULL, NULL, "demo-data", "--data-dir", server->data_dir,
                                    "--patients", "6", NULL), ==, 0);
  wz_test_server_start (server);
  doctor = wz_test_server_login_full (server, "doctor", "demo", &doctor_ref);
  doctor2 = wz_test_server_login_full (server, "doctor2", "demo", &doctor2_ref);
  encounter = first_id (doctor, "/fhir/Encounter?status=arrived,triaged&_sort=date");
  encounter2 = first_id (doctor2, "/fhir/Encounter?status=arrived,triaged&_sort=date");
  g_assert_cmpstr (encounter, !=, encounter2);
  patient = subject_of (encounter);
  patient2 = subject_of (encounter2);
  g_assert_cmpstr (patient, !=, patient2);
  visitor = wz_test_patient_session (server, doctor, encounter);
  visitor2 = wz_test_patient_session (server, doctor2, encounter2);

  g_test_add_func ("/chat/message/retry-never-duplicates", test_retry_never_duplicates);
  g_test_add_func ("/chat/message/order-and-catch-up", test_order_and_catch_up);
  g_test_add_func ("/chat/message/refusals", test_refusals);
  g_test_add_func ("/chat/message/html-stays-text", test_html_stays_text);
  g_test_add_func ("/chat/binary/types", test_binary_types);
  g_test_add_func ("/chat/binary/limits-and-access", test_binary_limits_and_access);
  g_test_add_func ("/chat/binary/attachment-message", test_attachment_message);
  g_test_add_func ("/chat/binary/backup", test_backup_keeps_attachments);
  g_test_add_func ("/chat/ws/events-and-typing", test_message_events_and_typing);
  g_test_add_func ("/chat/ws/receipts", test_receipts);
  g_test_add_func ("/chat/ws/bad-frames", test_bad_frames);
  g_test_add_func ("/chat/capability", test_capability);

  status = g_test_run ();

  g_assert_cmpint (wz_test_server_stop (server), ==, 0);
  wz_test_server_free (server);
  g_free (doctor);
  g_free (doctor_ref);
  g_free (doctor2);
  g_free (doctor2_ref);
  g_free (encounter);
  g_free (encounter2);
  g_free (patient);
  g_free (patient2);
  g_free (visitor);
  g_free (visitor2);

  return status;
}
