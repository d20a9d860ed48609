/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-chat-media"

#include "config.h"

#include "wz-chat-media.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "wz-document-viewer.h"
#include "wz-fhir-json.h"

struct _WzChatMedia
{
  GObject       parent_instance;

  WzApiClient  *client;
  GCancellable *cancellable;
  GHashTable   *bytes;      /* url → GBytes */
  GHashTable   *textures;   /* key → GdkTexture */
  GHashTable   *loading;    /* url → GPtrArray of GTask waiting for it */
};

G_DEFINE_FINAL_TYPE (WzChatMedia, wz_chat_media, G_TYPE_OBJECT)

static void
wz_chat_media_dispose (GObject *object)
{
  WzChatMedia *self = WZ_CHAT_MEDIA (object);

  wz_chat_media_clear (self);
  g_clear_object (&self->client);

  G_OBJECT_CLASS (wz_chat_media_parent_class)->dispose (object);
}

static void
wz_chat_media_finalize (GObject *object)
{
  WzChatMedia *self = WZ_CHAT_MEDIA (object);

  g_clear_pointer (&self->bytes, g_hash_table_unref);
  g_clear_pointer (&self->textures, g_hash_table_unref);
  g_clear_pointer (&self->loading, g_hash_table_unref);

  G_OBJECT_CLASS (wz_chat_media_parent_class)->finalize (object);
}

static void
wz_chat_media_class_init (WzChatMediaClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = wz_chat_media_dispose;
  object_class->finalize = wz_chat_media_finalize;
}

static void
wz_chat_media_init (WzChatMedia *self)
{
  self->bytes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_bytes_unref);
  self->textures = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->loading = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify) g_ptr_array_unref);
  self->cancellable = g_cancellable_new ();
}

WzChatMedia *
wz_chat_media_new (WzApiClient *client)
{
  WzChatMedia *self = g_object_new (WZ_TYPE_CHAT_MEDIA, NULL);

  self->client = g_object_ref (client);
  return self;
}

WzApiClient *
wz_chat_media_get_client (WzChatMedia *self)
{
  g_return_val_if_fail (WZ_IS_CHAT_MEDIA (self), NULL);
  return self->client;
}

void
wz_chat_media_clear (WzChatMedia *self)
{
  g_return_if_fail (WZ_IS_CHAT_MEDIA (self));

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->bytes != NULL)
    {
      GHashTableIter iter;
      gpointer value;

      g_hash_table_iter_init (&iter, self->loading);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        {
          GPtrArray *waiting = value;

          for (guint i = 0; i < waiting->len; i++)
            g_task_return_new_error (g_ptr_array_index (waiting, i), G_IO_ERROR,
                                     G_IO_ERROR_CANCELLED, "The conversation was closed");
        }
      g_hash_table_remove_all (self->bytes);
      g_hash_table_remove_all (self->textures);
      g_hash_table_remove_all (self->loading);
    }
  self->cancellable = g_cancellable_new ();
}

GBytes *
wz_chat_media_lookup (WzChatMedia *self,
                      const char  *url)
{
  g_return_val_if_fail (WZ_IS_CHAT_MEDIA (self), NULL);

  return url != NULL ? g_hash_table_lookup (self->bytes, url) : NULL;
}

typedef struct
{
  WzChatMedia *self;
  char        *url;
} Fetch;

static void
on_binary_loaded (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Fetch *fetch = user_data;
  WzChatMedia *self = fetch->self;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = wz_api_client_get_json_finish (WZ_API_CLIENT (object), result, &error);
  g_autoptr(GPtrArray) waiting = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *url = fetch->url;
  const char *data;

  g_free (fetch);
  if (!g_hash_table_steal_extended (self->loading, url, NULL, (gpointer *) &waiting))
    {
      g_object_unref (self);
      return;
    }

  data = node != NULL && JSON_NODE_HOLDS_OBJECT (node)
         ? wz_json_string (json_node_get_object (node), "data") : NULL;
  if (data != NULL)
    {
      gsize length = 0;
      guchar *raw = g_base64_decode (data, &length);

      bytes = g_bytes_new_take (raw, length);
      g_hash_table_replace (self->bytes, g_strdup (url), g_bytes_ref (bytes));
    }
  else if (error == NULL)
    g_set_error_literal (&error, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_NOT_FOUND, "No content");

  for (guint i = 0; i < waiting->len; i++)
    {
      GTask *task = g_ptr_array_index (waiting, i);

      if (bytes != NULL)
        g_task_return_pointer (task, g_bytes_ref (bytes), (GDestroyNotify) g_bytes_unref);
      else
        g_task_return_error (task, g_error_copy (error));
    }
  g_object_unref (self);
}

void
wz_chat_media_load_async (WzChatMedia         *self,
                          const char          *url,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GPtrArray *waiting;
  GBytes *bytes;

  g_return_if_fail (WZ_IS_CHAT_MEDIA (self));
  g_return_if_fail (url != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, wz_chat_media_load_async);

  bytes = g_hash_table_lookup (self->bytes, url);
  if (bytes != NULL)
    {
      g_task_return_pointer (task, g_bytes_ref (bytes), (GDestroyNotify) g_bytes_unref);
      return;
    }

  waiting = g_hash_table_lookup (self->loading, url);
  if (waiting == NULL)
    {
      g_autofree char *path = NULL;
      Fetch *fetch;

      if (!g_str_has_prefix (url, "Binary/") || strchr (url + 7, '/') != NULL)
        {
          g_task_return_new_error (task, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_NOT_FOUND,
                                   "Not an attachment of this server: %s", url);
          return;
        }
      waiting = g_ptr_array_new_with_free_func (g_object_unref);
      g_hash_table_insert (self->loading, g_strdup (url), waiting);
      fetch = g_new0 (Fetch, 1);
      fetch->self = g_object_ref (self);
      fetch->url = g_strdup (url);
      path = g_strconcat ("/fhir/", url, NULL);
      wz_api_client_get_json_async (self->client, path, self->cancellable, on_binary_loaded, fetch);
    }
  g_ptr_array_add (waiting, g_steal_pointer (&task));
}

GBytes *
wz_chat_media_load_finish (WzChatMedia   *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

GdkTexture *
wz_chat_media_texture (WzChatMedia  *self,
                       const char   *key,
                       GBytes       *bytes,
                       GError      **error)
{
  GdkTexture *texture;

  g_return_val_if_fail (WZ_IS_CHAT_MEDIA (self), NULL);

  texture = g_hash_table_lookup (self->textures, key);
  if (texture != NULL)
    return g_object_ref (texture);

  texture = gdk_texture_new_from_bytes (bytes, error);
  if (texture != NULL)
    g_hash_table_insert (self->textures, g_strdup (key), g_object_ref (texture));

  return texture;
}

void
wz_chat_media_open (WzChatMedia *self,
                    GtkWidget   *parent,
                    JsonObject  *attachment,
                    GBytes      *bytes)
{
  g_autoptr(JsonObject) document = json_object_new ();
  JsonArray *content = json_array_new ();
  JsonObject *entry = json_object_new ();
  JsonObject *copy = wz_json_object_copy (attachment);

  g_return_if_fail (WZ_IS_CHAT_MEDIA (self));

  if (bytes == NULL)
    bytes = wz_chat_media_lookup (self, wz_json_string (attachment, "url"));
  if (bytes != NULL)
    {
      g_autofree char *data = g_base64_encode (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));

      json_object_set_string_member (copy, "data", data);
    }

  /* The viewer opens DocumentReferences; a chat attachment is the same Attachment inside one. */
  json_object_set_object_member (entry, "attachment", copy);
  json_array_add_object_element (content, entry);
  json_object_set_array_member (document, "content", content);
  wz_document_viewer_open (parent, self->client, document);
}

char *
wz_chat_media_save_temporary (GBytes      *bytes,
                              const char  *suffix,
                              GError     **error)
{
  g_autofree char *dir = g_build_filename (g_get_user_runtime_dir (), "wenzhen", "chat", NULL);
  g_autofree char *template = g_strconcat ("media-XXXXXX", suffix != NULL ? suffix : "", NULL);
  g_autofree char *path = g_build_filename (dir, template, NULL);
  int fd;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno), "%s: %s", dir,
                   g_strerror (saved_errno));
      return NULL;
    }

  fd = g_mkstemp_full (path, O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno), "%s: %s", path,
                   g_strerror (saved_errno));
      return NULL;
    }
  close (fd);

  if (!g_file_set_contents_full (path, g_bytes_get_data (bytes, NULL),
                                 (gssize) g_bytes_get_size (bytes), G_FILE_SET_CONTENTS_NONE,
                                 0600, error))
    return NULL;

  return g_steal_pointer (&path);
}
