/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-user-admin"

#include "config.h"

#include "wz-user-admin.h"

#include <string.h>

#include "wz-error.h"
#include "wz-fhir.h"
#include "wz-id.h"

#define USERNAME_SYSTEM "urn:wenzhen:username"

static gboolean
is_cjk (gunichar c)
{
  return (c >= 0x4e00 && c <= 0x9fff) || (c >= 0x3400 && c <= 0x4dbf) ||
         (c >= 0xf900 && c <= 0xfaff) || (c >= 0x20000 && c <= 0x2fa1f);
}

static void
add_name (JsonBuilder *builder,
          const char  *use,
          const char  *text,
          const char  *family,
          const char  *given)
{
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "use");
  json_builder_add_string_value (builder, use);
  json_builder_set_member_name (builder, "text");
  json_builder_add_string_value (builder, text);
  if (family != NULL && *family != '\0')
    {
      json_builder_set_member_name (builder, "family");
      json_builder_add_string_value (builder, family);
    }
  if (given != NULL && *given != '\0')
    {
      json_builder_set_member_name (builder, "given");
      json_builder_begin_array (builder);
      json_builder_add_string_value (builder, given);
      json_builder_end_array (builder);
    }
  json_builder_end_object (builder);
}

/* "李伟 Li Wei" → official 李伟 (family 李, given 伟) and usual "Li Wei" (family Li, given Wei). */
static void
add_names (JsonBuilder *builder,
           const char  *display_name)
{
  g_autoptr(GString) cjk = g_string_new (NULL);
  g_autoptr(GString) latin = g_string_new (NULL);
  g_auto(GStrv) words = NULL;

  for (const char *p = display_name; *p; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (is_cjk (c))
        g_string_append_unichar (cjk, c);
      else
        g_string_append_unichar (latin, c);
    }
  g_strstrip (latin->str);

  if (cjk->len > 0)
    {
      /* Chinese family names are almost always one character. */
      const char *second = g_utf8_next_char (cjk->str);
      g_autofree char *family = g_strndup (cjk->str, second - cjk->str);

      add_name (builder, "official", cjk->str, family, second);
    }

  if (latin->str[0] != '\0')
    {
      words = g_strsplit (latin->str, " ", 2);
      if (words[1] != NULL)
        add_name (builder, cjk->len > 0 ? "usual" : "official", latin->str, words[0], words[1]);
      else
        add_name (builder, cjk->len > 0 ? "usual" : "official", latin->str, NULL, NULL);
    }
}

JsonNode *
wz_user_admin_practitioner (const char *username,
                            const char *role,
                            const char *display_name)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "resourceType");
  json_builder_add_string_value (builder, "Practitioner");
  json_builder_set_member_name (builder, "identifier");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "system");
  json_builder_add_string_value (builder, USERNAME_SYSTEM);
  json_builder_set_member_name (builder, "value");
  json_builder_add_string_value (builder, username);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "active");
  json_builder_add_boolean_value (builder, TRUE);
  json_builder_set_member_name (builder, "name");
  json_builder_begin_array (builder);
  add_names (builder, display_name ? display_name : username);
  json_builder_end_array (builder);
  if (g_strcmp0 (role, "pharmacist") == 0 || g_strcmp0 (role, "doctor") == 0)
    {
      /* Licensed profession, so a reader of the record knows who signed or reviewed. */
      json_builder_set_member_name (builder, "qualification");
      json_builder_begin_array (builder);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "code");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "text");
      json_builder_add_string_value (builder, g_strcmp0 (role, "doctor") == 0
                                              ? "执业医师 Licensed physician"
                                              : "执业药师 Licensed pharmacist");
      json_builder_end_object (builder);
      json_builder_end_object (builder);
      json_builder_end_array (builder);
    }
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

char *
wz_user_admin_add (WzStore             *store,
                   WzAuth              *auth,
                   WzAudit             *audit,
                   const char          *agent,
                   const char          *username,
                   const char          *password,
                   const char          *role,
                   const char          *display_name,
                   WzAuthAddUserFlags   flags,
                   GError             **error)
{
  g_autoptr(JsonNode) practitioner = NULL;
  g_autoptr(WzSearchQuery) condition = NULL;
  g_autoptr(WzStoredResource) stored = NULL;
  g_autofree char *condition_text = NULL;
  g_autofree char *entity = NULL;
  g_autofree char *escaped = NULL;
  gboolean created = FALSE;

  if (username == NULL || *username == '\0')
    {
      g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INVALID, "A user name is needed");
      return NULL;
    }

  practitioner = wz_user_admin_practitioner (username, role, display_name);
  escaped = g_uri_escape_string (username, NULL, FALSE);
  condition_text = g_strdup_printf ("identifier=" USERNAME_SYSTEM "|%s", escaped);
  condition = wz_search_query_parse ("Practitioner", condition_text, error);
  if (condition == NULL)
    return NULL;

  /* Conditional, so running `user add` again after a failed login step reuses the record. */
  stored = wz_store_create (store, json_node_get_object (practitioner), condition, &created, error);
  if (stored == NULL)
    return NULL;

  entity = g_strconcat ("Practitioner/", stored->id, NULL);
  if (created)
    wz_audit_record (audit, "C", "0", agent, entity, NULL, "local", NULL, NULL);

  if (!wz_auth_add_user_full (auth, username, password, role, display_name, stored->id, flags,
                              error))
    return NULL;

  return g_strdup (stored->id);
}
