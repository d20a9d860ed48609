/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-bundle"

#include "config.h"

#include "wz-bundle.h"

#include <json-glib/json-glib.h>

#include "wz-id.h"
#include "wz-time.h"

struct _WzBundleBuilder
{
  GString *head;
  GString *links;
  GString *entries;
  guint    n_links;
  guint    n_entries;
};

static void
append_json_string (GString    *out,
                    const char *text)
{
  g_autoptr(JsonNode) node = json_node_init_string (json_node_alloc (), text);
  g_autofree char *quoted = json_to_string (node, FALSE);

  g_string_append (out, quoted);
}

WzBundleBuilder *
wz_bundle_builder_new (const char *type,
                       gint64      total)
{
  WzBundleBuilder *self = g_new0 (WzBundleBuilder, 1);
  g_autofree char *id = wz_id_new ();
  g_autofree char *now = wz_time_format_instant (wz_time_now_us ());

  self->head = g_string_new ("{\"resourceType\":\"Bundle\",\"id\":");
  append_json_string (self->head, id);
  g_string_append (self->head, ",\"meta\":{\"lastUpdated\":");
  append_json_string (self->head, now);
  g_string_append (self->head, "},\"type\":");
  append_json_string (self->head, type);
  if (total >= 0)
    g_string_append_printf (self->head, ",\"total\":%" G_GINT64_FORMAT, total);

  self->links = g_string_new (NULL);
  self->entries = g_string_new (NULL);

  return self;
}

void
wz_bundle_builder_add_link (WzBundleBuilder *self,
                            const char      *relation,
                            const char      *url)
{
  g_string_append (self->links, self->n_links++ ? ",{\"relation\":" : "{\"relation\":");
  append_json_string (self->links, relation);
  g_string_append (self->links, ",\"url\":");
  append_json_string (self->links, url);
  g_string_append_c (self->links, '}');
}

void
wz_bundle_builder_add_entry (WzBundleBuilder *self,
                             const char      *full_url,
                             GBytes          *resource,
                             const char      *search_mode,
                             const char      *request_method,
                             const char      *request_url)
{
  gsize length;
  const char *data = g_bytes_get_data (resource, &length);

  g_string_append (self->entries, self->n_entries++ ? ",{" : "{");
  if (full_url != NULL)
    {
      g_string_append (self->entries, "\"fullUrl\":");
      append_json_string (self->entries, full_url);
      g_string_append_c (self->entries, ',');
    }
  g_string_append (self->entries, "\"resource\":");
  g_string_append_len (self->entries, data, length);
  if (search_mode != NULL)
    {
      g_string_append (self->entries, ",\"search\":{\"mode\":");
      append_json_string (self->entries, search_mode);
      g_string_append_c (self->entries, '}');
    }
  if (request_method != NULL && request_url != NULL)
    {
      g_string_append (self->entries, ",\"request\":{\"method\":");
      append_json_string (self->entries, request_method);
      g_string_append (self->entries, ",\"url\":");
      append_json_string (self->entries, request_url);
      g_string_append_c (self->entries, '}');
    }
  g_string_append_c (self->entries, '}');
}

GBytes *
wz_bundle_builder_end (WzBundleBuilder *self)
{
  GString *out = g_steal_pointer (&self->head);

  if (self->n_links > 0)
    g_string_append_printf (out, ",\"link\":[%s]", self->links->str);
  if (self->n_entries > 0)
    {
      g_string_append (out, ",\"entry\":[");
      g_string_append_len (out, self->entries->str, self->entries->len);
      g_string_append_c (out, ']');
    }
  g_string_append_c (out, '}');

  wz_bundle_builder_free (self);

  return g_string_free_to_bytes (out);
}

void
wz_bundle_builder_free (WzBundleBuilder *self)
{
  if (self == NULL)
    return;

  if (self->head != NULL)
    g_string_free (self->head, TRUE);
  g_string_free (self->links, TRUE);
  g_string_free (self->entries, TRUE);
  g_free (self);
}
