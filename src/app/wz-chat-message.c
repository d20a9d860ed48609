/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-chat-message"

#include "config.h"

#include "wz-chat-message.h"

#include "wz-fhir-json.h"

/* One message of a consultation chat: a Communication the server stored, or one still in the
 * outbox on this computer. Rows bind to its properties; the model and the outbox change them. */
struct _WzChatMessage
{
  GObject             parent_instance;

  char               *uuid;
  char               *id;
  char               *sender;
  char               *text;
  GDateTime          *sent;
  char               *last_updated;
  gint64              order;
  gboolean            outgoing;
  WzChatMessageState  state;
  char               *error;
  JsonArray          *attachments;
  GPtrArray          *attachment_bytes;   /* GBytes or NULL, parallel to ATTACHMENTS */
  gboolean            first_of_day;
  char               *highlight;
  gboolean            current_match;
};

G_DEFINE_FINAL_TYPE (WzChatMessage, wz_chat_message, G_TYPE_OBJECT)

G_DEFINE_ENUM_TYPE (WzChatMessageState, wz_chat_message_state,
  G_DEFINE_ENUM_VALUE (WZ_CHAT_MESSAGE_SENDING, "sending"),
  G_DEFINE_ENUM_VALUE (WZ_CHAT_MESSAGE_WAITING, "waiting"),
  G_DEFINE_ENUM_VALUE (WZ_CHAT_MESSAGE_FAILED, "failed"),
  G_DEFINE_ENUM_VALUE (WZ_CHAT_MESSAGE_SENT, "sent"),
  G_DEFINE_ENUM_VALUE (WZ_CHAT_MESSAGE_DELIVERED, "delivered"),
  G_DEFINE_ENUM_VALUE (WZ_CHAT_MESSAGE_READ, "read"),
  G_DEFINE_ENUM_VALUE (WZ_CHAT_MESSAGE_RECEIVED, "received"))

enum {
  PROP_0,
  PROP_ID,
  PROP_TEXT,
  PROP_STATE,
  PROP_ERROR,
  PROP_FIRST_OF_DAY,
  PROP_HIGHLIGHT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

const char *
wz_chat_message_state_nick (WzChatMessageState state)
{
  GEnumClass *klass = g_type_class_peek (WZ_TYPE_CHAT_MESSAGE_STATE);
  GEnumValue *value;

  if (klass == NULL)
    klass = g_type_class_ref (WZ_TYPE_CHAT_MESSAGE_STATE);
  value = g_enum_get_value (klass, state);

  return value != NULL ? value->value_nick : "unknown";
}

static void
wz_chat_message_finalize (GObject *object)
{
  WzChatMessage *self = WZ_CHAT_MESSAGE (object);

  g_free (self->uuid);
  g_free (self->id);
  g_free (self->sender);
  g_free (self->text);
  g_clear_pointer (&self->sent, g_date_time_unref);
  g_free (self->last_updated);
  g_free (self->error);
  g_clear_pointer (&self->attachments, json_array_unref);
  g_clear_pointer (&self->attachment_bytes, g_ptr_array_unref);
  g_free (self->highlight);

  G_OBJECT_CLASS (wz_chat_message_parent_class)->finalize (object);
}

static void
wz_chat_message_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  WzChatMessage *self = WZ_CHAT_MESSAGE (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_string (value, self->id);
      break;
    case PROP_TEXT:
      g_value_set_string (value, self->text);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_ERROR:
      g_value_set_string (value, self->error);
      break;
    case PROP_FIRST_OF_DAY:
      g_value_set_boolean (value, self->first_of_day);
      break;
    case PROP_HIGHLIGHT:
      g_value_set_string (value, self->highlight);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
wz_chat_message_class_init (WzChatMessageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = wz_chat_message_finalize;
  object_class->get_property = wz_chat_message_get_property;

  properties[PROP_ID] =
    g_param_spec_string ("id", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_TEXT] =
    g_param_spec_string ("text", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, WZ_TYPE_CHAT_MESSAGE_STATE, WZ_CHAT_MESSAGE_SENDING,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ERROR] =
    g_param_spec_string ("error", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_FIRST_OF_DAY] =
    g_param_spec_boolean ("first-of-day", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_HIGHLIGHT] =
    g_param_spec_string ("highlight", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
wz_chat_message_init (WzChatMessage *self)
{
  self->attachments = json_array_new ();
  self->attachment_bytes = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
}

/* GLib 2.74 has no µs conversions of its own. */
static gint64
to_unix_us (GDateTime *time)
{
  return g_date_time_to_unix (time) * G_USEC_PER_SEC + g_date_time_get_microsecond (time);
}

static const char *
identifier_uuid (JsonObject *resource)
{
  JsonArray *identifiers = wz_json_array (resource, "identifier");
  guint n = identifiers != NULL ? json_array_get_length (identifiers) : 0;

  for (guint i = 0; i < n; i++)
    {
      const char *value = wz_json_string (wz_json_array_object (identifiers, i), "value");

      if (value != NULL && g_str_has_prefix (value, "urn:uuid:"))
        return value;
    }

  return NULL;
}

/* Takes what the server stored: id, order, and the payload as it has it. */
static void
read_resource (WzChatMessage *self,
               JsonObject    *resource)
{
  JsonArray *payload = wz_json_array (resource, "payload");
  guint n = payload != NULL ? json_array_get_length (payload) : 0;
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(JsonArray) attachments = json_array_new ();
  const char *last_updated = wz_resource_last_updated (resource);
  g_autoptr(GDateTime) stamp = NULL;
  const char *sent;

  g_free (self->id);
  self->id = g_strdup (wz_json_string (resource, "id"));
  if (last_updated != NULL && g_strcmp0 (last_updated, self->last_updated) != 0)
    {
      g_free (self->last_updated);
      self->last_updated = g_strdup (last_updated);
      stamp = g_date_time_new_from_iso8601 (last_updated, NULL);
      self->order = stamp != NULL ? to_unix_us (stamp) : 0;
    }

  sent = wz_json_string (resource, "sent");
  if (sent != NULL)
    {
      g_autoptr(GDateTime) when = g_date_time_new_from_iso8601 (sent, NULL);

      if (when != NULL)
        {
          g_clear_pointer (&self->sent, g_date_time_unref);
          self->sent = g_steal_pointer (&when);
        }
    }
  if (self->sent == NULL && stamp != NULL)
    self->sent = g_date_time_ref (stamp);

  for (guint i = 0; i < n; i++)
    {
      JsonObject *part = wz_json_array_object (payload, i);
      const char *string = wz_json_string (part, "contentString");
      JsonObject *attachment = wz_json_object (part, "contentAttachment");

      if (string != NULL)
        {
          if (text->len > 0)
            g_string_append_c (text, '\n');
          g_string_append (text, string);
        }
      if (attachment != NULL)
        json_array_add_object_element (attachments, wz_json_object_copy (attachment));
    }

  /* A stored message names its files by Binary; bytes this computer still has stay usable. */
  if (json_array_get_length (attachments) > 0 || json_array_get_length (self->attachments) == 0)
    {
      guint count = json_array_get_length (attachments);

      g_ptr_array_set_size (self->attachment_bytes, count);
      json_array_unref (self->attachments);
      self->attachments = g_steal_pointer (&attachments);
    }

  if (g_strcmp0 (self->text, text->str) != 0)
    {
      g_free (self->text);
      self->text = g_strdup (text->str);
    }
}

WzChatMessage *
wz_chat_message_new_from_resource (JsonObject *communication,
                                   const char *me)
{
  WzChatMessage *self;

  g_return_val_if_fail (communication != NULL, NULL);

  self = g_object_new (WZ_TYPE_CHAT_MESSAGE, NULL);
  self->uuid = g_strdup (identifier_uuid (communication));
  self->sender = g_strdup (wz_json_reference (communication, "sender"));
  self->outgoing = me != NULL && g_strcmp0 (self->sender, me) == 0;
  self->state = self->outgoing ? WZ_CHAT_MESSAGE_SENT : WZ_CHAT_MESSAGE_RECEIVED;
  read_resource (self, communication);
  if (self->sent == NULL)
    self->sent = g_date_time_new_now_local ();

  return self;
}

WzChatMessage *
wz_chat_message_new_pending (const char *uuid,
                             const char *sender,
                             const char *text,
                             GDateTime  *sent)
{
  WzChatMessage *self;

  g_return_val_if_fail (uuid != NULL, NULL);
  g_return_val_if_fail (sent != NULL, NULL);

  self = g_object_new (WZ_TYPE_CHAT_MESSAGE, NULL);
  self->uuid = g_strdup (uuid);
  self->sender = g_strdup (sender);
  self->text = g_strdup (text != NULL ? text : "");
  self->sent = g_date_time_ref (sent);
  self->outgoing = TRUE;
  self->state = WZ_CHAT_MESSAGE_SENDING;

  return self;
}

/* The server's copy of an outgoing message arrived; returns whether its order changed. */
gboolean
wz_chat_message_update_from_resource (WzChatMessage *self,
                                      JsonObject    *communication)
{
  gint64 order;
  g_autofree char *old_id = NULL;

  g_return_val_if_fail (WZ_IS_CHAT_MESSAGE (self), FALSE);

  order = self->order;
  old_id = g_strdup (self->id);
  read_resource (self, communication);
  if (g_strcmp0 (old_id, self->id) != 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ID]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TEXT]);
  if (self->outgoing)
    {
      wz_chat_message_set_error (self, NULL);
      wz_chat_message_advance (self, WZ_CHAT_MESSAGE_SENT);
    }

  return order != self->order;
}

const char *
wz_chat_message_get_uuid (WzChatMessage *self)
{
  g_return_val_if_fail (WZ_IS_CHAT_MESSAGE (self), NULL);
  return self->uuid;
}

const char *
wz_chat_message_get_id (WzChatMessage *self)
{
  g_return_val_if_fail (WZ_IS_CHAT_MESSAGE (self), NULL);
  return self->id;
}

const char *
wz_chat_message_get_sender (WzChatMessage *self)
{
  g_return_val_if_fail (WZ_IS_CHAT_MESSAGE (self), NULL);
  return self->sender;
}

gboolean
wz_chat_message_get_outgoing (WzChatMessage *self)
{
  g_return_val_if_fail (WZ_IS_CHAT_MESSAGE (self), FALSE);
  return self->outgoing;
}

const char *
wz_chat_message_get_text (WzChatMessage *self)
{
  g_return_val_if_fail (WZ_IS_CHAT_MESSAGE (self), NULL);
  return self->text != NULL ? self->text : "";
}

GDateTime *
wz_chat_message_get_sent (WzChatMessage *self)
{
  g_return_val_if_fail (WZ_IS_CHAT_MESSAGE (self), NULL);
  return self->sent;
}

const char *
wz_chat_message_get_last_updated (WzChatMessage *self)
{
  g_return_val_if_fail (WZ_IS_CHAT_MESSAGE (self), NULL);
  return self->last_updated;
}

gint64
wz_chat_message_get_order (WzChatMessage *self)
{
  g_return_val_if_fail (WZ_IS_CHAT_MESSAGE (self), 0);
  return self->order;
}

WzChatMessageState
wz_chat_message_get_state (WzChatMessage *self)
{
  g_return_val_if_fail (WZ_IS_CHAT_MESSAGE (self), WZ_CHAT_MESSAGE_SENDING);
  return self->state;
}

void
wz_chat_message_set_state (WzChatMessage      *self,
                           WzChatMessageState  state)
{
  g_return_if_fail (WZ_IS_CHAT_MESSAGE (self));

  if (self->state == state)
    return;

  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

gboolean
wz_chat_message_advance (WzChatMessage      *self,
                         WzChatMessageState  state)
{
  g_return_val_if_fail (WZ_IS_CHAT_MESSAGE (self), FALSE);

  if (!self->outgoing || state <= self->state || state == WZ_CHAT_MESSAGE_RECEIVED)
    return FALSE;
  /* Receipts only count for what the server has. */
  if (state > WZ_CHAT_MESSAGE_SENT && self->state < WZ_CHAT_MESSAGE_SENT)
    return FALSE;

  wz_chat_message_set_state (self, state);
  return TRUE;
}

const char *
wz_chat_message_get_error (WzChatMessage *self)
{
  g_return_val_if_fail (WZ_IS_CHAT_MESSAGE (self), NULL);
  return self->error;
}

void
wz_chat_message_set_error (WzChatMessage *self,
                           const char    *error)
{
  g_return_if_fail (WZ_IS_CHAT_MESSAGE (self));

  if (g_strcmp0 (self->error, error) == 0)
    return;

  g_free (self->error);
  self->error = g_strdup (error);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR]);
}

guint
wz_chat_message_get_n_attachments (WzChatMessage *self)
{
  g_return_val_if_fail (WZ_IS_CHAT_MESSAGE (self), 0);
  return json_array_get_length (self->attachments);
}

JsonObject *
wz_chat_message_get_attachment (WzChatMessage *self,
                                guint          index)
{
  g_return_val_if_fail (WZ_IS_CHAT_MESSAGE (self), NULL);
  return wz_json_array_object (self->attachments, index);
}

GBytes *
wz_chat_message_get_attachment_bytes (WzChatMessage *self,
                                      guint          index)
{
  g_return_val_if_fail (WZ_IS_CHAT_MESSAGE (self), NULL);

  if (index >= self->attachment_bytes->len)
    return NULL;
  return g_ptr_array_index (self->attachment_bytes, index);
}

void
wz_chat_message_add_attachment (WzChatMessage *self,
                                const char    *content_type,
                                const char    *title,
                                GBytes        *bytes)
{
  JsonObject *attachment;

  g_return_if_fail (WZ_IS_CHAT_MESSAGE (self));

  attachment = json_object_new ();
  json_object_set_string_member (attachment, "contentType", content_type);
  if (title != NULL)
    json_object_set_string_member (attachment, "title", title);
  if (bytes != NULL)
    json_object_set_int_member (attachment, "size", (gint64) g_bytes_get_size (bytes));
  json_array_add_object_element (self->attachments, attachment);
  g_ptr_array_add (self->attachment_bytes, bytes != NULL ? g_bytes_ref (bytes) : NULL);
}

gboolean
wz_chat_message_get_first_of_day (WzChatMessage *self)
{
  g_return_val_if_fail (WZ_IS_CHAT_MESSAGE (self), FALSE);
  return self->first_of_day;
}

void
wz_chat_message_set_first_of_day (WzChatMessage *self,
                                  gboolean       first)
{
  g_return_if_fail (WZ_IS_CHAT_MESSAGE (self));

  if (self->first_of_day == !!first)
    return;

  self->first_of_day = !!first;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FIRST_OF_DAY]);
}

const char *
wz_chat_message_get_highlight (WzChatMessage *self)
{
  g_return_val_if_fail (WZ_IS_CHAT_MESSAGE (self), NULL);
  return self->highlight;
}

gboolean
wz_chat_message_get_current_match (WzChatMessage *self)
{
  g_return_val_if_fail (WZ_IS_CHAT_MESSAGE (self), FALSE);
  return self->current_match;
}

void
wz_chat_message_set_highlight (WzChatMessage *self,
                               const char    *highlight,
                               gboolean       current)
{
  g_return_if_fail (WZ_IS_CHAT_MESSAGE (self));

  if (highlight != NULL && *highlight == '\0')
    highlight = NULL;
  if (g_strcmp0 (self->highlight, highlight) == 0 && self->current_match == !!current)
    return;

  g_free (self->highlight);
  self->highlight = g_strdup (highlight);
  self->current_match = !!current;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HIGHLIGHT]);
}

gboolean
wz_chat_message_matches (WzChatMessage *self,
                         const char    *query)
{
  g_autofree char *text = NULL;
  g_autofree char *needle = NULL;

  g_return_val_if_fail (WZ_IS_CHAT_MESSAGE (self), FALSE);

  if (query == NULL || *query == '\0' || self->text == NULL)
    return FALSE;

  text = g_utf8_casefold (self->text, -1);
  needle = g_utf8_casefold (query, -1);

  return strstr (text, needle) != NULL;
}
