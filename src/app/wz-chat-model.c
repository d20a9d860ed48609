/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-chat-model"

#include "config.h"

#include "wz-chat-model.h"

#include "wz-fhir-json.h"

struct _WzChatModel
{
  GObject     parent_instance;

  GPtrArray  *items;        /* WzChatMessage: stored ones by order, then pending ones */
  guint       n_stored;     /* the first N_STORED items are on the server */
  GHashTable *by_id;        /* server id → message (borrowed) */
  GHashTable *by_uuid;      /* urn:uuid → message (borrowed) */
};

static void wz_chat_model_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (WzChatModel, wz_chat_model, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      wz_chat_model_list_model_init))

static GType
wz_chat_model_get_item_type (GListModel *model)
{
  return WZ_TYPE_CHAT_MESSAGE;
}

static guint
wz_chat_model_get_n_items (GListModel *model)
{
  return WZ_CHAT_MODEL (model)->items->len;
}

static gpointer
wz_chat_model_get_item (GListModel *model,
                        guint       position)
{
  WzChatModel *self = WZ_CHAT_MODEL (model);

  if (position >= self->items->len)
    return NULL;

  return g_object_ref (g_ptr_array_index (self->items, position));
}

static void
wz_chat_model_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = wz_chat_model_get_item_type;
  iface->get_n_items = wz_chat_model_get_n_items;
  iface->get_item = wz_chat_model_get_item;
}

static void
wz_chat_model_finalize (GObject *object)
{
  WzChatModel *self = WZ_CHAT_MODEL (object);

  g_clear_pointer (&self->by_id, g_hash_table_unref);
  g_clear_pointer (&self->by_uuid, g_hash_table_unref);
  g_clear_pointer (&self->items, g_ptr_array_unref);

  G_OBJECT_CLASS (wz_chat_model_parent_class)->finalize (object);
}

static void
wz_chat_model_class_init (WzChatModelClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = wz_chat_model_finalize;
}

static void
wz_chat_model_init (WzChatModel *self)
{
  self->items = g_ptr_array_new_with_free_func (g_object_unref);
  self->by_id = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->by_uuid = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

WzChatModel *
wz_chat_model_new (void)
{
  return g_object_new (WZ_TYPE_CHAT_MODEL, NULL);
}

void
wz_chat_model_clear (WzChatModel *self)
{
  guint removed;

  g_return_if_fail (WZ_IS_CHAT_MODEL (self));

  removed = self->items->len;
  g_hash_table_remove_all (self->by_id);
  g_hash_table_remove_all (self->by_uuid);
  g_ptr_array_set_size (self->items, 0);
  self->n_stored = 0;
  if (removed > 0)
    g_list_model_items_changed (G_LIST_MODEL (self), 0, removed, 0);
}

static WzChatMessage *
item_at (WzChatModel *self,
         guint        position)
{
  return position < self->items->len ? g_ptr_array_index (self->items, position) : NULL;
}

static gboolean
same_day (GDateTime *a,
          GDateTime *b)
{
  g_autoptr(GDateTime) la = g_date_time_to_local (a);
  g_autoptr(GDateTime) lb = g_date_time_to_local (b);

  return g_date_time_get_year (la) == g_date_time_get_year (lb)
    && g_date_time_get_day_of_year (la) == g_date_time_get_day_of_year (lb);
}

/* A day heading goes above the first message of each day (in the shown order). */
static void
update_day (WzChatModel *self,
            guint        position)
{
  WzChatMessage *message = item_at (self, position);
  WzChatMessage *before = position > 0 ? item_at (self, position - 1) : NULL;

  if (message == NULL)
    return;

  wz_chat_message_set_first_of_day (message,
                                    before == NULL
                                    || !same_day (wz_chat_message_get_sent (before),
                                                  wz_chat_message_get_sent (message)));
}

static void
insert_at (WzChatModel   *self,
           guint          position,
           WzChatMessage *message)
{
  g_ptr_array_insert (self->items, (int) position, g_object_ref (message));
  update_day (self, position);
  update_day (self, position + 1);
  g_list_model_items_changed (G_LIST_MODEL (self), position, 0, 1);
}

static void
remove_at (WzChatModel *self,
           guint        position)
{
  g_ptr_array_remove_index (self->items, position);
  update_day (self, position);
  g_list_model_items_changed (G_LIST_MODEL (self), position, 1, 0);
}

/* Where a stored message of ORDER goes among the stored ones: after every one not later. */
static guint
stored_position_for (WzChatModel *self,
                     gint64       order)
{
  guint low = 0;
  guint high = self->n_stored;

  while (low < high)
    {
      guint mid = (low + high) / 2;

      if (wz_chat_message_get_order (item_at (self, mid)) <= order)
        low = mid + 1;
      else
        high = mid;
    }

  return low;
}

guint
wz_chat_model_get_position (WzChatModel   *self,
                            WzChatMessage *message)
{
  guint position;

  g_return_val_if_fail (WZ_IS_CHAT_MODEL (self), G_MAXUINT);

  if (g_ptr_array_find (self->items, message, &position))
    return position;

  return G_MAXUINT;
}

WzChatMessage *
wz_chat_model_add_resource (WzChatModel *self,
                            JsonObject  *communication,
                            const char  *me,
                            gboolean    *out_added)
{
  const char *id;
  WzChatMessage *message;
  g_autoptr(WzChatMessage) created = NULL;
  guint position;

  g_return_val_if_fail (WZ_IS_CHAT_MODEL (self), NULL);
  g_return_val_if_fail (communication != NULL, NULL);

  if (out_added != NULL)
    *out_added = FALSE;

  id = wz_json_string (communication, "id");
  if (id == NULL)
    return NULL;

  message = g_hash_table_lookup (self->by_id, id);
  if (message == NULL)
    {
      g_autoptr(WzChatMessage) probe = wz_chat_message_new_from_resource (communication, me);
      const char *uuid = wz_chat_message_get_uuid (probe);

      /* One of ours the outbox still holds (or holds no longer): the same message, now stored. */
      if (uuid != NULL)
        message = g_hash_table_lookup (self->by_uuid, uuid);
      if (message == NULL)
        created = g_steal_pointer (&probe);
    }

  if (created != NULL)
    {
      position = stored_position_for (self, wz_chat_message_get_order (created));
      self->n_stored++;
      g_hash_table_insert (self->by_id, g_strdup (id), created);
      if (wz_chat_message_get_uuid (created) != NULL)
        g_hash_table_insert (self->by_uuid, g_strdup (wz_chat_message_get_uuid (created)), created);
      insert_at (self, position, created);
      if (out_added != NULL)
        *out_added = TRUE;
      return created;
    }

  position = wz_chat_model_get_position (self, message);
  g_return_val_if_fail (position != G_MAXUINT, message);

  if (wz_chat_message_get_id (message) == NULL)
    {
      /* Leaves the pending part for its place among the stored ones. */
      g_object_ref (message);
      remove_at (self, position);
      wz_chat_message_update_from_resource (message, communication);
      g_hash_table_insert (self->by_id, g_strdup (id), message);
      position = stored_position_for (self, wz_chat_message_get_order (message));
      self->n_stored++;
      insert_at (self, position, message);
      g_object_unref (message);
    }
  else if (wz_chat_message_update_from_resource (message, communication))
    {
      /* A newer version with another order (an edit on the server): move it. */
      g_object_ref (message);
      remove_at (self, position);
      self->n_stored--;
      position = stored_position_for (self, wz_chat_message_get_order (message));
      self->n_stored++;
      insert_at (self, position, message);
      g_object_unref (message);
    }

  return message;
}

void
wz_chat_model_add_pending (WzChatModel   *self,
                           WzChatMessage *message)
{
  g_return_if_fail (WZ_IS_CHAT_MODEL (self));
  g_return_if_fail (WZ_IS_CHAT_MESSAGE (message));

  if (g_hash_table_contains (self->by_uuid, wz_chat_message_get_uuid (message)))
    return;

  g_hash_table_insert (self->by_uuid, g_strdup (wz_chat_message_get_uuid (message)), message);
  insert_at (self, self->items->len, message);
}

WzChatMessage *
wz_chat_model_find_uuid (WzChatModel *self,
                         const char  *uuid)
{
  g_return_val_if_fail (WZ_IS_CHAT_MODEL (self), NULL);

  return uuid != NULL ? g_hash_table_lookup (self->by_uuid, uuid) : NULL;
}

const char *
wz_chat_model_get_last_updated (WzChatModel *self)
{
  g_return_val_if_fail (WZ_IS_CHAT_MODEL (self), NULL);

  if (self->n_stored == 0)
    return NULL;

  return wz_chat_message_get_last_updated (item_at (self, self->n_stored - 1));
}

const char *
wz_chat_model_get_last_incoming (WzChatModel *self)
{
  g_return_val_if_fail (WZ_IS_CHAT_MODEL (self), NULL);

  for (guint i = self->n_stored; i > 0; i--)
    {
      WzChatMessage *message = item_at (self, i - 1);

      if (!wz_chat_message_get_outgoing (message))
        return wz_chat_message_get_last_updated (message);
    }

  return NULL;
}

guint
wz_chat_model_apply_receipt (WzChatModel        *self,
                             WzChatMessageState  state,
                             const char         *up_to)
{
  g_autoptr(GDateTime) limit = NULL;
  gint64 until;
  guint changed = 0;

  g_return_val_if_fail (WZ_IS_CHAT_MODEL (self), 0);

  if (up_to == NULL || (limit = g_date_time_new_from_iso8601 (up_to, NULL)) == NULL)
    return 0;

  until = g_date_time_to_unix (limit) * G_USEC_PER_SEC + g_date_time_get_microsecond (limit);
  for (guint i = 0; i < self->n_stored; i++)
    {
      WzChatMessage *message = item_at (self, i);

      if (wz_chat_message_get_order (message) > until)
        break;
      if (wz_chat_message_advance (message, state))
        changed++;
    }

  return changed;
}
