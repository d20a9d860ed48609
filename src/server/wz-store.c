/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-store"

#include "config.h"

#include "wz-store.h"

#include "wz-error.h"
#include "wz-fhir.h"

G_DEFINE_INTERFACE (WzStore, wz_store, G_TYPE_OBJECT)

static void
wz_store_default_init (WzStoreInterface *iface)
{
}

void
wz_stored_resource_free (WzStoredResource *resource)
{
  if (resource == NULL)
    return;

  g_free (resource->type);
  g_free (resource->id);
  g_free (resource->patient);
  g_free (resource->status);
  g_clear_pointer (&resource->json, g_bytes_unref);
  g_free (resource);
}

void
wz_store_result_free (WzStoreResult *result)
{
  if (result == NULL)
    return;

  g_ptr_array_unref (result->resources);
  g_clear_pointer (&result->included, g_ptr_array_unref);
  g_free (result);
}

WzStoredResource *
wz_store_read (WzStore     *self,
               const char  *type,
               const char  *id,
               GError     **error)
{
  g_return_val_if_fail (WZ_IS_STORE (self), NULL);

  return WZ_STORE_GET_IFACE (self)->read (self, type, id, error);
}

WzStoredResource *
wz_store_vread (WzStore     *self,
                const char  *type,
                const char  *id,
                gint64       version_id,
                GError     **error)
{
  g_return_val_if_fail (WZ_IS_STORE (self), NULL);

  return WZ_STORE_GET_IFACE (self)->vread (self, type, id, version_id, error);
}

WzStoredResource *
wz_store_create (WzStore              *self,
                 JsonObject           *resource,
                 const WzSearchQuery  *if_none_exist,
                 gboolean             *out_created,
                 GError              **error)
{
  gboolean created = FALSE;
  WzStoredResource *stored;

  g_return_val_if_fail (WZ_IS_STORE (self), NULL);
  g_return_val_if_fail (resource != NULL, NULL);

  stored = WZ_STORE_GET_IFACE (self)->create (self, resource, if_none_exist, &created, error);
  if (out_created != NULL)
    *out_created = created;

  return stored;
}

WzStoredResource *
wz_store_update (WzStore     *self,
                 JsonObject  *resource,
                 const char  *id,
                 gint64       expected_version,
                 GError     **error)
{
  g_return_val_if_fail (WZ_IS_STORE (self), NULL);
  g_return_val_if_fail (resource != NULL, NULL);

  return WZ_STORE_GET_IFACE (self)->update (self, resource, id, expected_version, error);
}

WzStoredResource *
wz_store_retire (WzStore     *self,
                 const char  *type,
                 const char  *id,
                 gint64       expected_version,
                 GError     **error)
{
  g_autoptr(WzStoredResource) current = NULL;
  g_autoptr(JsonNode) root = NULL;
  gsize length;
  const char *data;

  g_return_val_if_fail (WZ_IS_STORE (self), NULL);

  current = wz_store_read (self, type, id, error);
  if (current == NULL)
    return NULL;

  if (expected_version > 0 && current->version_id != expected_version)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_PRECONDITION_FAILED,
                   "%s/%s is at version %" G_GINT64_FORMAT ", not %" G_GINT64_FORMAT,
                   type, id, current->version_id, expected_version);
      return NULL;
    }

  data = g_bytes_get_data (current->json, &length);
  root = wz_fhir_parse_resource (data, length, type, id, error);
  if (root == NULL)
    return NULL;

  if (!wz_fhir_retire (json_node_get_object (root), error))
    return NULL;

  /* The version read above is the one to replace: a write in between makes this fail cleanly. */
  return wz_store_update (self, json_node_get_object (root), id, current->version_id, error);
}

WzStoreResult *
wz_store_search (WzStore              *self,
                 const WzSearchQuery  *query,
                 GError              **error)
{
  g_return_val_if_fail (WZ_IS_STORE (self), NULL);

  return WZ_STORE_GET_IFACE (self)->search (self, query, error);
}

WzStoreResult *
wz_store_history (WzStore     *self,
                  const char  *type,
                  const char  *id,
                  guint        count,
                  guint        offset,
                  GError     **error)
{
  g_return_val_if_fail (WZ_IS_STORE (self), NULL);

  return WZ_STORE_GET_IFACE (self)->history (self, type, id, count, offset, error);
}

gboolean
wz_store_is_on_care_team (WzStore     *self,
                          const char  *patient_ref,
                          const char  *practitioner_ref,
                          GError     **error)
{
  g_return_val_if_fail (WZ_IS_STORE (self), FALSE);

  if (patient_ref == NULL || practitioner_ref == NULL)
    return FALSE;

  return WZ_STORE_GET_IFACE (self)->is_on_care_team (self, patient_ref, practitioner_ref, error);
}

gboolean
wz_store_begin (WzStore  *self,
                GError  **error)
{
  g_return_val_if_fail (WZ_IS_STORE (self), FALSE);

  return WZ_STORE_GET_IFACE (self)->begin (self, error);
}

gboolean
wz_store_commit (WzStore  *self,
                 GError  **error)
{
  g_return_val_if_fail (WZ_IS_STORE (self), FALSE);

  return WZ_STORE_GET_IFACE (self)->commit (self, error);
}

void
wz_store_rollback (WzStore *self)
{
  g_return_if_fail (WZ_IS_STORE (self));

  WZ_STORE_GET_IFACE (self)->rollback (self);
}
