/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-capability"

#include "config.h"

#include "wz-capability.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "wz-fhir.h"
#include "wz-search-query.h"
#include "wz-time.h"

static void
add_string (JsonBuilder *builder,
            const char  *name,
            const char  *value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_string_value (builder, value);
}

static void
add_code_list (JsonBuilder        *builder,
               const char         *name,
               const char         *member,
               const char * const *codes)
{
  json_builder_set_member_name (builder, name);
  json_builder_begin_array (builder);
  for (guint i = 0; codes[i] != NULL; i++)
    {
      json_builder_begin_object (builder);
      add_string (builder, member, codes[i]);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
}

/* What a client cannot guess from the FHIR specification. */
static const char *
param_documentation (const char         *name,
                     const char * const *modifiers)
{
  if (strcmp (name, "name") == 0)
    return "Starts with, in any name part or the whole name (Chinese names also family and "
           "given together, 张伟), case-folded; :contains anywhere (one or two Chinese "
           "characters too); :exact a whole name part";
  if (strcmp (name, "pinyin") == 0)
    return "Starts with, in the pinyin of a Chinese name: initials (张秀英 → zxy), the whole "
           "name (zhangxiuying) or the given name (xiuying); ü as v or u";
  if (strcmp (name, "phone") == 0)
    return "Digits only are compared; with or without the +86 country code";
  if (strcmp (name, "q") == 0)
    return "The worklist search box: the start of a name, pinyin, identifier or phone number; "
           "from three characters on also any part of them; one or two Chinese characters "
           "anywhere in a name";
  if (strcmp (name, "family") == 0)
    return "Starts with, case-folded; :exact the whole family name";
  if (modifiers[0] != NULL)
    return "Takes the modifiers of the FHIR specification for its type";

  return NULL;
}

/* Chat attachments are not stored like other resources (wz-binary-routes). */
static void
add_binary (JsonBuilder *builder)
{
  const char *interactions[] = { "read", "create", NULL };

  json_builder_begin_object (builder);
  add_string (builder, "type", "Binary");
  add_code_list (builder, "interaction", "code", interactions);
  add_string (builder, "versioning", "no-version");
  json_builder_set_member_name (builder, "conditionalCreate");
  json_builder_add_boolean_value (builder, FALSE);
  /* Read by id only. */
  json_builder_set_member_name (builder, "searchParam");
  json_builder_begin_array (builder);
  json_builder_end_array (builder);
  add_string (builder, "documentation",
              "Chat attachments. create: POST the file's bytes as the body with its Content-Type "
              "and X-Security-Context: Encounter/ID → 201 Binary without data, or 200 with the "
              "Binary already holding the same bytes in that encounter. Accepted: image/jpeg, "
              "image/png, application/pdf, audio/webm, audio/ogg, at most 10 MiB (413 above); "
              "the type is sniffed from the bytes and must agree with the declared one (415). "
              "read: Accept: application/fhir+json gives the Binary with base64 data, any other "
              "Accept the bytes themselves (X-Content-Type-Options: nosniff; Content-Disposition "
              "attachment except images and audio). Readable by whoever takes part in the "
              "security-context Encounter.");
  json_builder_end_object (builder);
}

static void
add_resource (JsonBuilder          *builder,
              const WzFhirTypeInfo *info)
{
  const char *with_delete[] = { "read", "vread", "update", "delete", "history-instance",
                                "create", "search-type", NULL };
  const char *without_delete[] = { "read", "vread", "update", "history-instance", "create",
                                   "search-type", NULL };
  g_auto(GStrv) params = wz_search_query_supported (info->name);
  g_auto(GStrv) sort_keys = wz_search_query_sort_keys (info->name);
  g_auto(GStrv) includes = wz_search_query_includes (info->name);
  g_autofree char *sort_doc = NULL;

  json_builder_begin_object (builder);
  add_string (builder, "type", info->name);
  add_code_list (builder, "interaction", "code",
                 info->retire != WZ_FHIR_RETIRE_NONE ? with_delete : without_delete);
  add_string (builder, "versioning", "versioned-update");
  json_builder_set_member_name (builder, "readHistory");
  json_builder_add_boolean_value (builder, TRUE);
  json_builder_set_member_name (builder, "updateCreate");
  json_builder_add_boolean_value (builder, FALSE);
  json_builder_set_member_name (builder, "conditionalCreate");
  json_builder_add_boolean_value (builder, TRUE);
  json_builder_set_member_name (builder, "conditionalUpdate");
  json_builder_add_boolean_value (builder, FALSE);
  add_string (builder, "conditionalDelete", "not-supported");
  if (strcmp (info->name, "Communication") == 0)
    {
      json_builder_set_member_name (builder, "documentation");
      json_builder_add_string_value (builder,
                                     "Consultation chat messages. create with If-None-Exist: "
                                     "identifier=urn:ietf:rfc:3986|urn:uuid:… (201, or 200 with "
                                     "the stored message on a retry). encounter is required and "
                                     "must be a visit the sender takes part in; sender is the "
                                     "signed-in user (filled in when left out); subject is the "
                                     "encounter's patient; payload holds contentString (at most "
                                     "4000 characters) and contentAttachment with url Binary/ID "
                                     "of the same encounter. meta.lastUpdated is unique and "
                                     "increasing in the order the server received messages: "
                                     "read a conversation with encounter=Encounter/ID&_sort="
                                     "_lastUpdated and catch up with _lastUpdated=gt<the last "
                                     "one seen>. delete keeps the message: it stores a new "
                                     "version marked entered-in-error.");
    }
  else if (info->retire != WZ_FHIR_RETIRE_NONE)
    {
      /* FHIR documents delete as removal; say plainly that here it is a new version. */
      json_builder_set_member_name (builder, "documentation");
      json_builder_add_string_value (builder,
                                     info->retire == WZ_FHIR_RETIRE_INACTIVE
                                     ? "delete keeps the resource: it stores a new version with active=false"
                                     : "delete keeps the resource: it stores a new version marked entered-in-error or retired");
    }

  json_builder_set_member_name (builder, "searchParam");
  json_builder_begin_array (builder);
  for (guint i = 0; params[i] != NULL; i++)
    {
      const char *colon = strchr (params[i], ':');
      g_autofree char *name = g_strndup (params[i], colon - params[i]);

      g_auto(GStrv) modifiers = wz_search_query_modifiers (info->name, name);
      const char *documentation = param_documentation (name, (const char * const *) modifiers);

      json_builder_begin_object (builder);
      add_string (builder, "name", name);
      add_string (builder, "type", colon + 1);
      if (documentation != NULL)
        add_string (builder, "documentation", documentation);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  if (includes[0] != NULL)
    {
      json_builder_set_member_name (builder, "searchInclude");
      json_builder_begin_array (builder);
      for (guint i = 0; includes[i] != NULL; i++)
        json_builder_add_string_value (builder, includes[i]);
      json_builder_end_array (builder);
    }

  sort_doc = g_strjoinv (", ", sort_keys);
  json_builder_set_member_name (builder, "extension");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  add_string (builder, "url", "https://wenzhen.github.io/fhir/StructureDefinition/sort-keys");
  add_string (builder, "valueString", sort_doc);
  json_builder_end_object (builder);
  json_builder_end_array (builder);

  json_builder_end_object (builder);
}

GBytes *
wz_capability_statement_new (const char *software_version,
                             const char *organization_name)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *now = wz_time_format_instant (wz_time_now_us ());
  const char *formats[] = { WZ_FHIR_CONTENT_TYPE, "json", NULL };
  const WzFhirTypeInfo *infos;
  guint n_types;
  gsize length;
  char *data;

  json_builder_begin_object (builder);
  add_string (builder, "resourceType", "CapabilityStatement");
  add_string (builder, "status", "active");
  add_string (builder, "date", now);
  add_string (builder, "kind", "instance");
  if (organization_name != NULL)
    add_string (builder, "publisher", organization_name);
  add_string (builder, "fhirVersion", "4.0.1");
  json_builder_set_member_name (builder, "format");
  json_builder_begin_array (builder);
  for (guint i = 0; formats[i] != NULL; i++)
    json_builder_add_string_value (builder, formats[i]);
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "software");
  json_builder_begin_object (builder);
  add_string (builder, "name", "wenzhen-server");
  add_string (builder, "version", software_version);
  json_builder_end_object (builder);

  if (organization_name != NULL)
    {
      json_builder_set_member_name (builder, "implementation");
      json_builder_begin_object (builder);
      add_string (builder, "description", organization_name);
      json_builder_end_object (builder);
    }

  json_builder_set_member_name (builder, "rest");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  add_string (builder, "mode", "server");
  add_string (builder, "documentation",
              "Search results page with _count (at most 200) and _offset; _sort takes the keys "
              "listed per type, prefixed with - for descending order; _include as listed per "
              "type. Searches return only what the signed-in user may see (a doctor: patients "
              "on their care team). Updates need If-Match.");
  json_builder_set_member_name (builder, "security");
  json_builder_begin_object (builder);
  add_string (builder, "description",
              "Bearer token from POST /auth/login in the Authorization header.");
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "resource");
  json_builder_begin_array (builder);
  infos = wz_fhir_type_infos (&n_types);
  for (guint i = 0; i < n_types; i++)
    {
      if (strcmp (infos[i].name, "Binary") == 0)
        add_binary (builder);
      else
        add_resource (builder, &infos[i]);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  data = json_generator_to_data (generator, &length);

  return g_bytes_new_take (data, length);
}
