/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "wz-chat-test.h"

#include <string.h>

char *
wz_test_patient_session (WzTestServer *server,
                         const char   *doctor_token,
                         const char   *encounter_id)
{
  g_autofree char *path = g_strdup_printf ("/fhir/Encounter/%s/$visit-link", encounter_id);
  g_autoptr(WzTestResponse) link = wz_test_request_text (server, "POST", path, doctor_token, NULL);
  g_autoptr(WzTestResponse) session = NULL;
  g_autofree char *body = NULL;
  const char *url;

  g_assert_cmpuint (link->status, ==, 200);
  url = wz_test_member (link, "url");
  body = g_strdup_printf ("{\"link_token\":\"%s\"}", strchr (url, '#') + 1);
  session = wz_test_request_text (server, "POST", "/auth/visit", NULL, body);
  g_assert_cmpuint (session->status, ==, 200);
  return g_strdup (wz_test_member (session, "access_token"));
}

char *
wz_test_message_json (const char *encounter_id,
                      const char *patient_ref,
                      const char *sender_ref,
                      const char *text,
                      const char *uuid)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *encounter = g_strconcat ("Encounter/", encounter_id, NULL);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *sent = g_date_time_format_iso8601 (now);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "resourceType");
  json_builder_add_string_value (builder, "Communication");
  json_builder_set_member_name (builder, "status");
  json_builder_add_string_value (builder, "completed");
  json_builder_set_member_name (builder, "identifier");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "system");
  json_builder_add_string_value (builder, "urn:ietf:rfc:3986");
  json_builder_set_member_name (builder, "value");
  json_builder_add_string_value (builder, uuid);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "encounter");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "reference");
  json_builder_add_string_value (builder, encounter);
  json_builder_end_object (builder);
  if (patient_ref != NULL)
    {
      json_builder_set_member_name (builder, "subject");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "reference");
      json_builder_add_string_value (builder, patient_ref);
      json_builder_end_object (builder);
    }
  if (sender_ref != NULL)
    {
      json_builder_set_member_name (builder, "sender");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "reference");
      json_builder_add_string_value (builder, sender_ref);
      json_builder_end_object (builder);
    }
  json_builder_set_member_name (builder, "sent");
  json_builder_add_string_value (builder, sent);
  json_builder_set_member_name (builder, "payload");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "contentString");
  json_builder_add_string_value (builder, text);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  return json_to_string (root, FALSE);
}

WzTestResponse *
wz_test_post_message (WzTestServer *server,
                      const char   *token,
                      const char   *json,
                      const char   *uuid)
{
  g_autoptr(GBytes) body = g_bytes_new (json, strlen (json));
  g_autofree char *condition = g_strdup_printf ("identifier=urn:ietf:rfc:3986|%s", uuid);

  return wz_test_request (server, "POST", "/fhir/Communication", token, body,
                          "If-None-Exist", condition, NULL);
}

const char *
wz_test_message_text (JsonObject *communication)
{
  JsonArray *payload = json_object_get_array_member (communication, "payload");

  return json_object_get_string_member (json_array_get_object_element (payload, 0),
                                        "contentString");
}
