/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-chat-view"

#include "config.h"

#include "wz-chat-view.h"

#include <glib/gi18n.h>

#include "wz-chat-export.h"
#include "wz-chat-media.h"
#include "wz-chat-message-row.h"
#include "wz-chat-model.h"
#include "wz-chat-outbox.h"
#include "wz-fhir-json.h"
#include "wz-quick-replies-editor.h"
#include "wz-quick-replies.h"
#include "wz-test-report.h"

struct _WzChatView
{
  GtkWidget          parent_instance;

  GtkStack          *stack;
  AdwStatusPage     *empty_page;
  GtkLabel          *typing_label;
  GtkToggleButton   *search_button;
  GtkSearchBar      *search_bar;
  GtkSearchEntry    *search_entry;
  GtkLabel          *match_label;
  GtkRevealer       *waiting_revealer;
  GtkStack          *list_stack;
  GtkSpinner        *loading_spinner;
  AdwStatusPage     *no_messages_page;
  AdwStatusPage     *error_page;
  GtkScrolledWindow *scroller;
  GtkListView       *list_view;
  GtkRevealer       *new_revealer;
  GtkLabel          *new_label;
  GtkRevealer       *staged_revealer;
  GtkLabel          *staged_label;
  GtkMenuButton     *quick_button;
  GtkPopover        *quick_popover;
  GtkListBox        *quick_list;
  GtkTextView       *text_view;
  GtkLabel          *placeholder_label;

  WzApiClient       *client;
  WzRealtime        *realtime;
  WzChatOutbox      *outbox;
  WzChatModel       *model;
  WzChatMedia       *media;
  GSettings         *settings;
  WzQuickReplies    *quick_replies;
  GCancellable      *session_cancellable;   /* this sign-in */
  GCancellable      *cancellable;           /* the visit shown */

  char              *me;                    /* "Practitioner/ID" */
  char              *doctor_name;
  char              *patient_id;
  char              *encounter;             /* "Encounter/ID" */
  char              *patient_name;

  gboolean           loaded;
  gboolean           loading;
  gboolean           load_again;
  gboolean           stick_to_bottom;
  guint              unseen;
  gint64             typing_sent_us;
  guint              typing_timeout_id;
  char              *delivered_sent;        /* receipts this view has sent */
  char              *read_sent;
  gboolean           preedit;
  gboolean           focus_search;

  GPtrArray         *staged;                /* StagedFile */

  GArray            *matches;               /* positions of messages matching the search */
  int                current_match;
};

G_DEFINE_FINAL_TYPE (WzChatView, wz_chat_view, GTK_TYPE_WIDGET)

enum {
  TOAST,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

#define PAGE_SIZE 200
/* The contract: typing frames at most every 3 s, shown for 5 s. */
#define TYPING_SEND_INTERVAL_US (3 * G_USEC_PER_SEC)
#define TYPING_SHOW_SECONDS 5
#define MAX_TEXT_CHARS 4000
#define MAX_FILE_BYTES (10 * 1024 * 1024)

typedef struct
{
  char   *content_type;
  char   *title;
  GBytes *bytes;
} StagedFile;

static void
staged_file_free (StagedFile *file)
{
  g_free (file->content_type);
  g_free (file->title);
  g_clear_pointer (&file->bytes, g_bytes_unref);
  g_free (file);
}

static void catch_up (WzChatView *self);
static void update_search (WzChatView *self,
                           gboolean    jump);
static void maybe_send_read (WzChatView *self);

static void
toast (WzChatView *self,
       const char *message)
{
  wz_test_report ("chat-toast message=%s", message);
  g_signal_emit (self, signals[TOAST], 0, message);
}

static const char *
state_nick (WzChatMessage *message)
{
  return wz_chat_message_state_nick (wz_chat_message_get_state (message));
}

/* ---------------------------------------------------------------------------------------- */
/* Scrolling */

static GtkAdjustment *
vadjustment (WzChatView *self)
{
  return gtk_scrolled_window_get_vadjustment (self->scroller);
}

static gboolean
is_at_bottom (WzChatView *self)
{
  GtkAdjustment *adj = vadjustment (self);

  return gtk_adjustment_get_value (adj) + gtk_adjustment_get_page_size (adj)
         >= gtk_adjustment_get_upper (adj) - 24;
}

static void
scroll_to_bottom (WzChatView *self)
{
  GtkAdjustment *adj = vadjustment (self);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->model));

  self->stick_to_bottom = TRUE;
  if (n > 0)
    gtk_widget_activate_action (GTK_WIDGET (self->list_view), "list.scroll-to-item", "u", n - 1);
  gtk_adjustment_set_value (adj, gtk_adjustment_get_upper (adj) - gtk_adjustment_get_page_size (adj));
}

static void
update_new_button (WzChatView *self)
{
  if (self->unseen > 0)
    {
      g_autofree char *label = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                             "%u new message",
                                                             "%u new messages", self->unseen),
                                                self->unseen);

      gtk_label_set_text (self->new_label, label);
    }
  gtk_revealer_set_reveal_child (self->new_revealer, self->unseen > 0);
}

static void
on_upper_changed (WzChatView *self)
{
  /* The list grew (a message, a picture loaded): stay with the newest when already there. */
  if (self->stick_to_bottom)
    {
      GtkAdjustment *adj = vadjustment (self);

      gtk_adjustment_set_value (adj, gtk_adjustment_get_upper (adj) - gtk_adjustment_get_page_size (adj));
    }
}

static void
on_value_changed (WzChatView *self)
{
  GtkAdjustment *adj = vadjustment (self);
  gboolean bottom = is_at_bottom (self);

  /* Only the user scrolling up lets go of the bottom; growth below is followed above. */
  if (!bottom && gtk_adjustment_get_upper (adj) > gtk_adjustment_get_page_size (adj))
    self->stick_to_bottom = FALSE;
  if (bottom)
    {
      self->stick_to_bottom = TRUE;
      if (self->unseen > 0)
        {
          self->unseen = 0;
          update_new_button (self);
        }
      maybe_send_read (self);
    }
}

static void
action_jump_to_newest (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  WzChatView *self = WZ_CHAT_VIEW (widget);

  self->unseen = 0;
  update_new_button (self);
  scroll_to_bottom (self);
  wz_test_report ("chat-jumped-to-newest");
}

/* ---------------------------------------------------------------------------------------- */
/* Receipts and typing */

static void
send_frame (WzChatView *self,
            const char *type,
            const char *state,
            const char *up_to)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) frame = NULL;

  if (self->realtime == NULL || self->encounter == NULL)
    return;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, type);
  json_builder_set_member_name (builder, "encounter");
  json_builder_add_string_value (builder, self->encounter);
  if (state != NULL)
    {
      json_builder_set_member_name (builder, "state");
      json_builder_add_string_value (builder, state);
      json_builder_set_member_name (builder, "upTo");
      json_builder_add_string_value (builder, up_to);
    }
  json_builder_end_object (builder);
  frame = json_builder_get_root (builder);

  if (wz_realtime_send (self->realtime, frame) && state != NULL)
    wz_test_report ("chat-receipt-sent state=%s upTo=%s", state, up_to);
}

static gboolean
is_later (const char *instant,
          const char *than)
{
  g_autoptr(GDateTime) a = NULL;
  g_autoptr(GDateTime) b = NULL;

  if (instant == NULL)
    return FALSE;
  if (than == NULL)
    return TRUE;

  a = g_date_time_new_from_iso8601 (instant, NULL);
  b = g_date_time_new_from_iso8601 (than, NULL);

  return a != NULL && (b == NULL || g_date_time_compare (a, b) > 0);
}

static void
maybe_send_delivered (WzChatView *self)
{
  const char *newest = wz_chat_model_get_last_incoming (self->model);

  if (!is_later (newest, self->delivered_sent))
    return;

  g_free (self->delivered_sent);
  self->delivered_sent = g_strdup (newest);
  send_frame (self, "receipt", "delivered", newest);
}

/* Whether the chat is the page shown: the consultation's pages are a view stack. */
static gboolean
is_page_shown (WzChatView *self)
{
  GtkWidget *stack = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_VIEW_STACK);
  GtkWidget *visible;

  if (!gtk_widget_get_mapped (GTK_WIDGET (self->list_view)))
    return FALSE;
  if (stack == NULL)
    return TRUE;

  visible = adw_view_stack_get_visible_child (ADW_VIEW_STACK (stack));
  return visible != NULL && (visible == GTK_WIDGET (self)
                             || gtk_widget_is_ancestor (GTK_WIDGET (self), visible));
}

/* Read means seen: the conversation is on screen, in the active window, scrolled to the newest. */
static void
maybe_send_read (WzChatView *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  const char *newest = wz_chat_model_get_last_incoming (self->model);

  if (!self->loaded || !is_page_shown (self)
      || !GTK_IS_WINDOW (root) || !gtk_window_is_active (GTK_WINDOW (root))
      || !is_at_bottom (self) || !is_later (newest, self->read_sent))
    return;

  g_free (self->read_sent);
  self->read_sent = g_strdup (newest);
  send_frame (self, "receipt", "read", newest);
}

static void
apply_receipt (WzChatView *self,
               const char *state,
               const char *up_to)
{
  WzChatMessageState target;
  guint changed;

  if (g_strcmp0 (state, "read") == 0)
    target = WZ_CHAT_MESSAGE_READ;
  else if (g_strcmp0 (state, "delivered") == 0)
    target = WZ_CHAT_MESSAGE_DELIVERED;
  else
    return;

  changed = wz_chat_model_apply_receipt (self->model, target, up_to);
  if (changed > 0)
    wz_test_report ("chat-receipt state=%s upTo=%s changed=%u", state, up_to, changed);
}

static gboolean
on_typing_timeout (gpointer user_data)
{
  WzChatView *self = user_data;

  self->typing_timeout_id = 0;
  gtk_label_set_text (self->typing_label, "");
  wz_test_report ("chat-typing shown=no");

  return G_SOURCE_REMOVE;
}

static void
hide_typing (WzChatView *self)
{
  if (self->typing_timeout_id == 0)
    return;

  g_clear_handle_id (&self->typing_timeout_id, g_source_remove);
  gtk_label_set_text (self->typing_label, "");
  wz_test_report ("chat-typing shown=no");
}

static const char *
frame_string (JsonNode   *frame,
              const char *member)
{
  return JSON_NODE_HOLDS_OBJECT (frame) ? wz_json_string (json_node_get_object (frame), member) : NULL;
}

static void
on_realtime_message (WzChatView *self,
                     const char *type,
                     JsonNode   *frame,
                     WzRealtime *realtime)
{
  const char *from = frame_string (frame, "from");

  if (self->encounter == NULL || g_strcmp0 (frame_string (frame, "encounter"), self->encounter) != 0
      || g_strcmp0 (from, self->me) == 0)
    return;

  if (g_str_equal (type, "typing"))
    {
      g_autofree char *label = NULL;

      /* Translators: shown while the patient types; %s is the patient's name */
      label = g_strdup_printf (_("%s is typing…"), self->patient_name != NULL ? self->patient_name : "");
      gtk_label_set_text (self->typing_label, label);
      if (self->typing_timeout_id == 0)
        wz_test_report ("chat-typing shown=yes from=%s", from != NULL ? from : "");
      g_clear_handle_id (&self->typing_timeout_id, g_source_remove);
      self->typing_timeout_id = g_timeout_add_seconds (TYPING_SHOW_SECONDS, on_typing_timeout, self);
    }
  else if (g_str_equal (type, "receipt"))
    apply_receipt (self, frame_string (frame, "state"), frame_string (frame, "upTo"));
}

static void
on_receipts_loaded (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(WzChatView) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = wz_api_client_get_json_finish (WZ_API_CLIENT (object), result, &error);
  JsonArray *receipts;

  if (node == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("Receipts not loaded: %s", error->message);
      return;
    }

  receipts = JSON_NODE_HOLDS_OBJECT (node) ? wz_json_array (json_node_get_object (node), "receipts") : NULL;
  for (guint i = 0; receipts != NULL && i < json_array_get_length (receipts); i++)
    {
      JsonObject *receipt = wz_json_array_object (receipts, i);

      if (g_strcmp0 (wz_json_string (receipt, "reader"), self->me) == 0)
        continue;
      apply_receipt (self, "delivered", wz_json_string (receipt, "delivered"));
      apply_receipt (self, "read", wz_json_string (receipt, "read"));
    }
}

static void
load_receipts (WzChatView *self)
{
  g_autofree char *escaped = NULL;
  g_autofree char *path = NULL;

  if (self->encounter == NULL || self->cancellable == NULL)
    return;

  escaped = g_uri_escape_string (self->encounter, NULL, FALSE);
  path = g_strconcat ("/chat/receipts?encounter=", escaped, NULL);
  wz_api_client_get_json_async (self->client, path, self->cancellable, on_receipts_loaded,
                                g_object_ref (self));
}

/* ---------------------------------------------------------------------------------------- */
/* Messages from the server */

static void
report_message (WzChatView    *self,
                const char    *what,
                WzChatMessage *message)
{
  if (!wz_test_report_enabled ())
    return;

  wz_test_report ("%s uuid=%s id=%s state=%s outgoing=%s attachments=%u position=%u text=%s",
                  what, wz_chat_message_get_uuid (message) ?: "",
                  wz_chat_message_get_id (message) ?: "", state_nick (message),
                  wz_chat_message_get_outgoing (message) ? "yes" : "no",
                  wz_chat_message_get_n_attachments (message),
                  wz_chat_model_get_position (self->model, message),
                  wz_chat_message_get_text (message));
}

static void
on_message_state (WzChatMessage *message,
                  GParamSpec    *pspec,
                  WzChatView    *self)
{
  report_message (self, "chat-message-state", message);
}

static void
watch_outgoing (WzChatView    *self,
                WzChatMessage *message)
{
  g_signal_connect_object (message, "notify::state", G_CALLBACK (on_message_state), self, 0);
}

static void
update_list_page (WzChatView *self)
{
  const char *page;

  if (!self->loaded)
    return;

  page = g_list_model_get_n_items (G_LIST_MODEL (self->model)) > 0 ? "list" : "no-messages";
  if (g_strcmp0 (gtk_stack_get_visible_child_name (self->list_stack), page) != 0)
    gtk_stack_set_visible_child_name (self->list_stack, page);
}

/* Adds what a searchset holds; returns how many messages are new, and how many of those came
 * from the other side. */
static guint
add_bundle (WzChatView *self,
            JsonNode   *node,
            guint      *incoming)
{
  g_autoptr(GPtrArray) resources = wz_bundle_resources (node, "Communication");
  guint added = 0;

  for (guint i = 0; resources != NULL && i < resources->len; i++)
    {
      JsonObject *resource = g_ptr_array_index (resources, i);
      gboolean is_new = FALSE;
      WzChatMessage *message = wz_chat_model_add_resource (self->model, resource, self->me, &is_new);

      if (message == NULL || !is_new)
        continue;

      added++;
      if (!wz_chat_message_get_outgoing (message))
        {
          (*incoming)++;
          hide_typing (self);
        }
      else
        watch_outgoing (self, message);
      if (self->loaded)
        report_message (self, "chat-message-added", message);
    }

  return added;
}

static char *
next_link (JsonNode *node)
{
  JsonArray *links = JSON_NODE_HOLDS_OBJECT (node) ? wz_json_array (json_node_get_object (node), "link") : NULL;

  for (guint i = 0; links != NULL && i < json_array_get_length (links); i++)
    {
      JsonObject *link = wz_json_array_object (links, i);
      const char *url = wz_json_string (link, "url");
      const char *fhir = url != NULL ? strstr (url, "/fhir/") : NULL;

      if (g_strcmp0 (wz_json_string (link, "relation"), "next") == 0 && fhir != NULL)
        return g_strdup (fhir);
    }

  return NULL;
}

static void on_page_loaded (GObject      *object,
                            GAsyncResult *result,
                            gpointer      user_data);

static void
finish_loading (WzChatView *self,
                guint       added,
                guint       incoming)
{
  gboolean first = !self->loaded;

  self->loading = FALSE;
  self->loaded = TRUE;
  update_list_page (self);

  if (first)
    {
      gtk_spinner_set_spinning (self->loading_spinner, FALSE);
      scroll_to_bottom (self);
      load_receipts (self);
      guint n = g_list_model_get_n_items (G_LIST_MODEL (self->model));
      guint pending = 0;

      for (guint i = 0; i < n; i++)
        {
          g_autoptr(WzChatMessage) message = g_list_model_get_item (G_LIST_MODEL (self->model), i);

          if (wz_chat_message_get_id (message) == NULL)
            pending++;
        }
      wz_test_report ("chat=loaded encounter=%s messages=%u pending=%u", self->encounter, n, pending);
    }
  else if (incoming > 0)
    {
      if (self->stick_to_bottom)
        {
          scroll_to_bottom (self);
          wz_test_report ("chat-followed-newest incoming=%u", incoming);
        }
      else
        {
          self->unseen += incoming;
          update_new_button (self);
          wz_test_report ("chat-new-messages-button shown=yes unseen=%u", self->unseen);
        }
    }

  if (added > 0 && gtk_search_bar_get_search_mode (self->search_bar))
    update_search (self, FALSE);

  maybe_send_delivered (self);
  maybe_send_read (self);

  if (self->load_again)
    {
      self->load_again = FALSE;
      catch_up (self);
    }
}

typedef struct
{
  WzChatView *self;
  guint       added;
  guint       incoming;
} PageLoad;

static void
on_page_loaded (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  PageLoad *load = user_data;
  g_autoptr(WzChatView) self = load->self;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = wz_api_client_get_json_finish (WZ_API_CLIENT (object), result, &error);
  g_autofree char *next = NULL;

  if (node == NULL)
    {
      g_free (load);
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;

      self->loading = FALSE;
      wz_test_report ("chat-load-error message=%s", error->message);
      if (!self->loaded)
        {
          gtk_spinner_set_spinning (self->loading_spinner, FALSE);
          adw_status_page_set_description (self->error_page, error->message);
          gtk_stack_set_visible_child_name (self->list_stack, "error");
        }
      /* A later catch-up (the next hello of the realtime connection) tries again. */
      return;
    }

  load->added += add_bundle (self, node, &load->incoming);
  next = next_link (node);
  if (next != NULL && self->cancellable != NULL)
    {
      load->self = g_object_ref (self);
      wz_api_client_get_json_async (self->client, next, self->cancellable, on_page_loaded, load);
      return;
    }

  finish_loading (self, load->added, load->incoming);
  g_free (load);
}

/* Everything after the newest message held (the whole conversation the first time), in the
 * server's order; one request chain at a time, another one after it if asked meanwhile. */
static void
catch_up (WzChatView *self)
{
  g_autofree char *path = NULL;
  g_autofree char *encounter = NULL;
  const char *since;
  PageLoad *load;

  if (self->encounter == NULL || self->cancellable == NULL)
    return;
  if (self->loading)
    {
      self->load_again = TRUE;
      return;
    }

  self->loading = TRUE;
  encounter = g_uri_escape_string (self->encounter, NULL, FALSE);
  since = wz_chat_model_get_last_updated (self->model);
  if (since != NULL)
    {
      g_autofree char *escaped = g_uri_escape_string (since, NULL, FALSE);

      path = g_strdup_printf ("/fhir/Communication?encounter=%s&_sort=_lastUpdated&_count=%d"
                              "&_lastUpdated=gt%s", encounter, PAGE_SIZE, escaped);
    }
  else
    path = g_strdup_printf ("/fhir/Communication?encounter=%s&_sort=_lastUpdated&_count=%d",
                            encounter, PAGE_SIZE);

  load = g_new0 (PageLoad, 1);
  load->self = g_object_ref (self);
  wz_api_client_get_json_async (self->client, path, self->cancellable, on_page_loaded, load);
}

static void
on_realtime_resource (WzChatView *self,
                      const char *resource_type,
                      const char *id,
                      const char *version_id,
                      const char *patient,
                      const char *encounter,
                      WzRealtime *realtime)
{
  if (self->encounter != NULL && g_strcmp0 (encounter, self->encounter) == 0)
    catch_up (self);
}

/* Every hello may follow a gap: what was missed comes with a catch-up, the outbox tries at once
 * instead of waiting out its back-off, and receipts are read again. */
static void
on_realtime_connected (WzChatView *self,
                       gboolean    again,
                       WzRealtime *realtime)
{
  if (self->outbox != NULL)
    wz_chat_outbox_kick (self->outbox);
  /* Also after a first load that failed: the page of the error then fills in. */
  if (self->encounter != NULL)
    {
      catch_up (self);
      load_receipts (self);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* The outbox */

static void
on_outbox_sent (WzChatView    *self,
                const char    *encounter,
                JsonNode      *resource,
                WzChatMessage *message,
                WzChatOutbox  *outbox)
{
  WzChatMessage *stored;

  if (self->encounter == NULL || g_strcmp0 (encounter, self->encounter) != 0
      || !JSON_NODE_HOLDS_OBJECT (resource))
    return;

  stored = wz_chat_model_add_resource (self->model, json_node_get_object (resource), self->me, NULL);
  if (stored != NULL)
    report_message (self, "chat-message-stored", stored);
}

static void
on_message_state_for_banner (WzChatView *self)
{
  gboolean waiting = FALSE;
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->model));

  for (guint i = n; i > 0 && !waiting; i--)
    {
      g_autoptr(WzChatMessage) message = g_list_model_get_item (G_LIST_MODEL (self->model), i - 1);

      if (wz_chat_message_get_id (message) != NULL)
        break;
      waiting = wz_chat_message_get_state (message) == WZ_CHAT_MESSAGE_WAITING;
    }
  gtk_revealer_set_reveal_child (self->waiting_revealer, waiting);
}

static void
add_pending_message (WzChatView    *self,
                     WzChatMessage *message)
{
  wz_chat_model_add_pending (self->model, message);
  /* The outbox keeps the same message across visits to the conversation: watched once. */
  if (g_object_get_data (G_OBJECT (message), "wz-chat-view-watched") == self)
    return;
  g_object_set_data (G_OBJECT (message), "wz-chat-view-watched", self);
  watch_outgoing (self, message);
  g_signal_connect_object (message, "notify::state", G_CALLBACK (on_message_state_for_banner),
                           self, G_CONNECT_SWAPPED);
}

typedef struct
{
  WzChatView    *self;
  WzChatMessage *message;
  char          *encounter;
} Adding;

static void
on_added_to_outbox (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  Adding *adding = user_data;
  g_autoptr(WzChatView) self = adding->self;
  g_autoptr(WzChatMessage) message = adding->message;
  g_autofree char *encounter = adding->encounter;
  g_autoptr(GError) error = NULL;

  g_free (adding);
  if (!wz_chat_outbox_add_finish (WZ_CHAT_OUTBOX (object), result, &error))
    {
      g_autofree char *text = NULL;
      GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->text_view);

      g_warning ("A message could not be written to the outbox: %s", error->message);
      text = g_strdup_printf (_("The message was not sent: it could not be kept on this computer (%s)."),
                              error->message);
      toast (self, text);
      /* Nothing the doctor typed is lost: it goes back into an empty composer. */
      if (gtk_text_buffer_get_char_count (buffer) == 0)
        gtk_text_buffer_set_text (buffer, wz_chat_message_get_text (message), -1);
      return;
    }

  /* Written to the disk: now it may appear. */
  if (g_strcmp0 (encounter, self->encounter) != 0)
    return;

  add_pending_message (self, message);
  update_list_page (self);
  on_message_state_for_banner (self);
  report_message (self, "chat-message-shown", message);
  scroll_to_bottom (self);
}

static char *
new_uuid (void)
{
  g_autofree char *uuid = g_uuid_string_random ();

  return g_strconcat ("urn:uuid:", uuid, NULL);
}

static void
update_staged (WzChatView *self)
{
  if (self->staged->len == 1)
    {
      StagedFile *file = g_ptr_array_index (self->staged, 0);
      g_autofree char *size = g_format_size (g_bytes_get_size (file->bytes));
      g_autofree char *label = g_strdup_printf ("%s (%s)", file->title, size);

      gtk_label_set_text (self->staged_label, label);
    }
  else if (self->staged->len > 1)
    {
      g_autofree char *label = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u file",
                                                             "%u files", self->staged->len),
                                                self->staged->len);

      gtk_label_set_text (self->staged_label, label);
    }
  gtk_revealer_set_reveal_child (self->staged_revealer, self->staged->len > 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "chat.remove-attachments", self->staged->len > 0);
}

static void
send_message (WzChatView *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->text_view);
  GtkTextIter start, end;
  g_autofree char *raw = NULL;
  g_autofree char *uuid = NULL;
  g_autoptr(GDateTime) now = NULL;
  g_autoptr(WzChatMessage) message = NULL;
  Adding *adding;
  char *text;

  if (self->encounter == NULL || self->outbox == NULL)
    return;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  raw = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
  text = g_strstrip (raw);
  if (*text == '\0' && self->staged->len == 0)
    return;

  if (g_utf8_strlen (text, -1) > MAX_TEXT_CHARS)
    {
      g_autofree char *message_text =
        g_strdup_printf (_("A message can hold at most %d characters. Shorten it or send it in parts."),
                         MAX_TEXT_CHARS);

      toast (self, message_text);
      return;
    }

  uuid = new_uuid ();
  now = g_date_time_new_now_local ();
  message = wz_chat_message_new_pending (uuid, self->me, text, now);
  for (guint i = 0; i < self->staged->len; i++)
    {
      StagedFile *file = g_ptr_array_index (self->staged, i);

      wz_chat_message_add_attachment (message, file->content_type, file->title, file->bytes);
    }

  /* The composer empties at once; the message appears once it is on the disk. */
  gtk_text_buffer_set_text (buffer, "", -1);
  g_ptr_array_set_size (self->staged, 0);
  update_staged (self);

  adding = g_new0 (Adding, 1);
  adding->self = g_object_ref (self);
  adding->message = g_object_ref (message);
  adding->encounter = g_strdup (self->encounter);
  wz_chat_outbox_add_async (self->outbox, message, self->encounter,
                            self->patient_id,
                            self->session_cancellable, on_added_to_outbox, adding);
}

static void
action_send (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  send_message (WZ_CHAT_VIEW (widget));
}

static void
on_retry (WzChatView       *self,
          WzChatMessage    *message,
          WzChatMessageRow *row)
{
  if (self->outbox != NULL)
    wz_chat_outbox_retry (self->outbox, wz_chat_message_get_uuid (message));
}

/* ---------------------------------------------------------------------------------------- */
/* Composer */

static gboolean
on_text_key_pressed (GtkEventControllerKey *controller,
                     guint                  keyval,
                     guint                  keycode,
                     GdkModifierType        state,
                     WzChatView            *self)
{
  if (keyval != GDK_KEY_Return && keyval != GDK_KEY_KP_Enter && keyval != GDK_KEY_ISO_Enter)
    return GDK_EVENT_PROPAGATE;
  /* Shift+Enter is a new line; an input method composing text gets its Enter. */
  if ((state & (GDK_SHIFT_MASK | GDK_CONTROL_MASK | GDK_ALT_MASK)) != 0 || self->preedit)
    return GDK_EVENT_PROPAGATE;

  send_message (self);
  return GDK_EVENT_STOP;
}

static void
on_preedit_changed (WzChatView  *self,
                    const char  *preedit,
                    GtkTextView *text_view)
{
  self->preedit = preedit != NULL && *preedit != '\0';
}

static void
on_buffer_changed (WzChatView    *self,
                   GtkTextBuffer *buffer)
{
  gint64 now = g_get_monotonic_time ();
  gboolean empty = gtk_text_buffer_get_char_count (buffer) == 0;

  gtk_widget_set_visible (GTK_WIDGET (self->placeholder_label), empty);
  if (empty || !gtk_widget_has_focus (GTK_WIDGET (self->text_view)))
    return;

  if (now - self->typing_sent_us >= TYPING_SEND_INTERVAL_US)
    {
      self->typing_sent_us = now;
      send_frame (self, "typing", NULL, NULL);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Files: attach, paste, drop */

static const char *
allowed_type (const char *content_type)
{
  static const char * const allowed[] = {
    "image/jpeg", "image/png", "application/pdf", "audio/webm", "audio/ogg", NULL
  };

  for (guint i = 0; allowed[i] != NULL; i++)
    if (g_strcmp0 (content_type, allowed[i]) == 0)
      return allowed[i];

  if (g_strcmp0 (content_type, "video/webm") == 0)
    return "audio/webm";
  if (g_strcmp0 (content_type, "audio/x-opus+ogg") == 0 || g_strcmp0 (content_type, "audio/x-vorbis+ogg") == 0
      || g_strcmp0 (content_type, "application/ogg") == 0)
    return "audio/ogg";

  return NULL;
}

static void
stage_bytes (WzChatView *self,
             GBytes     *bytes,
             const char *file_name)
{
  gsize size = g_bytes_get_size (bytes);
  g_autofree char *guessed = g_content_type_guess (file_name, g_bytes_get_data (bytes, NULL),
                                                   MIN (size, 4096), NULL);
  g_autofree char *mime = g_content_type_get_mime_type (guessed);
  const char *type = allowed_type (mime);
  StagedFile *file;

  if (size > MAX_FILE_BYTES)
    {
      g_autofree char *limit = g_format_size (MAX_FILE_BYTES);
      g_autofree char *text = g_strdup_printf (_("“%s” is too large to send; files can be at most %s."),
                                               file_name, limit);

      toast (self, text);
      return;
    }
  if (type == NULL)
    {
      toast (self, _("This file is not a JPEG, PNG, PDF or voice note and cannot be sent."));
      return;
    }

  file = g_new0 (StagedFile, 1);
  file->content_type = g_strdup (type);
  file->title = g_strdup (file_name);
  file->bytes = g_bytes_ref (bytes);
  g_ptr_array_add (self->staged, file);
  update_staged (self);
  wz_test_report ("chat-staged n=%u type=%s title=%s size=%zu", self->staged->len, type,
                  file_name, size);
  gtk_widget_grab_focus (GTK_WIDGET (self->text_view));
}

static void
on_file_loaded (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(WzChatView) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *name = g_file_get_basename (G_FILE (object));
  g_autoptr(GBytes) bytes = NULL;
  gsize length = 0;

  if (!g_file_load_contents_finish (G_FILE (object), result, &contents, &length, NULL, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_autofree char *text = g_strdup_printf (_("“%s” could not be read: %s"), name, error->message);

          toast (self, text);
        }
      return;
    }

  bytes = g_bytes_new_take (g_steal_pointer (&contents), length);
  stage_bytes (self, bytes, name);
}

static void
load_file (WzChatView *self,
           GFile      *file)
{
  g_autoptr(GFileInfo) info = NULL;

  /* Refused before reading: a huge file would otherwise be read only to be turned down. */
  info = g_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_SIZE, G_FILE_QUERY_INFO_NONE, NULL, NULL);
  if (info != NULL && g_file_info_get_size (info) > MAX_FILE_BYTES)
    {
      g_autofree char *name = g_file_get_basename (file);
      g_autofree char *limit = g_format_size (MAX_FILE_BYTES);
      g_autofree char *text = g_strdup_printf (_("“%s” is too large to send; files can be at most %s."),
                                               name, limit);

      toast (self, text);
      return;
    }

  g_file_load_contents_async (file, self->cancellable, on_file_loaded, g_object_ref (self));
}

/* What a file chooser's answer goes to: CHOSEN, once for each file picked. */
typedef void (*ChosenFunc) (WzChatView *self,
                            GFile      *file);

typedef struct
{
  WzChatView *self;
  ChosenFunc  chosen;
} Choosing;

static void
choosing_free (gpointer  data,
               GClosure *closure)
{
  g_free (data);
}

static void
on_chooser_response (GtkNativeDialog *dialog,
                     int              response,
                     Choosing        *choosing)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GListModel) files = gtk_file_chooser_get_files (GTK_FILE_CHOOSER (dialog));

      for (guint i = 0; i < g_list_model_get_n_items (files); i++)
        {
          g_autoptr(GFile) file = g_list_model_get_item (files, i);

          choosing->chosen (choosing->self, file);
        }
    }

  g_object_unref (dialog);
}

/* Asks the desktop's file chooser (ACTION, TITLE, ACCEPT_LABEL; one file unless MULTIPLE; SAVE_AS
 * suggested for a save) for files of TYPES (a NULL-terminated list of MIME types, shown as
 * FILTER_NAME) and hands each file picked to CHOSEN. Test seam: with TEST_ENV set (and test
 * reports on), the file it names is handed over instead. */
static void
choose_files (WzChatView            *self,
              const char            *test_env,
              GtkFileChooserAction   action,
              const char            *title,
              const char            *accept_label,
              gboolean               multiple,
              const char            *save_as,
              const char            *filter_name,
              const char * const    *types,
              ChosenFunc             chosen)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkFileChooserNative *chooser;
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();
  const char *test_path = g_getenv (test_env);
  Choosing *choosing;

  if (test_path != NULL && wz_test_report_enabled ())
    {
      g_autoptr(GFile) file = g_file_new_for_path (test_path);

      chosen (self, file);
      return;
    }

  chooser = gtk_file_chooser_native_new (title, GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                         action, accept_label, _("_Cancel"));
  if (multiple)
    gtk_file_chooser_set_select_multiple (GTK_FILE_CHOOSER (chooser), TRUE);
  if (save_as != NULL)
    gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), save_as);
  gtk_file_filter_set_name (filter, filter_name);
  for (guint i = 0; types[i] != NULL; i++)
    gtk_file_filter_add_mime_type (filter, types[i]);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);

  choosing = g_new (Choosing, 1);
  choosing->self = self;
  choosing->chosen = chosen;
  g_signal_connect_data (chooser, "response", G_CALLBACK (on_chooser_response), choosing,
                         choosing_free, 0);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
action_attach (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  static const char * const types[] = {
    "image/jpeg", "image/png", "application/pdf", "audio/webm", "audio/ogg", NULL,
  };

  choose_files (WZ_CHAT_VIEW (widget), "WZ_TEST_CHAT_ATTACH", GTK_FILE_CHOOSER_ACTION_OPEN,
                _("Attach a File"), _("_Attach"), TRUE, NULL,
                _("Pictures, PDFs and voice notes"), types, load_file);
}

static void
stage_texture (WzChatView *self,
               GdkTexture *texture,
               const char *title)
{
  g_autoptr(GBytes) png = gdk_texture_save_to_png_bytes (texture);

  stage_bytes (self, png, title);
}

static void
on_clipboard_texture (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(WzChatView) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkTexture) texture = gdk_clipboard_read_texture_finish (GDK_CLIPBOARD (object), result, &error);

  if (texture == NULL)
    {
      g_debug ("No picture from the clipboard: %s", error->message);
      return;
    }

  /* Translators: file name of a picture pasted into the chat */
  stage_texture (self, texture, _("Pasted picture.png"));
}

static void
on_paste_clipboard (WzChatView  *self,
                    GtkTextView *text_view)
{
  GdkClipboard *clipboard = gtk_widget_get_clipboard (GTK_WIDGET (text_view));
  GdkContentFormats *formats = gdk_clipboard_get_formats (clipboard);

  /* A picture (a screenshot, an image copied from a browser) becomes an attachment; text is
   * pasted as text. */
  if (gdk_content_formats_contain_gtype (formats, GDK_TYPE_TEXTURE)
      && !gdk_content_formats_contain_gtype (formats, G_TYPE_STRING))
    {
      g_signal_stop_emission_by_name (text_view, "paste-clipboard");
      gdk_clipboard_read_texture_async (clipboard, self->cancellable, on_clipboard_texture,
                                        g_object_ref (self));
    }
}

static gboolean
on_drop (GtkDropTarget *target,
         const GValue  *value,
         double         x,
         double         y,
         WzChatView    *self)
{
  if (self->encounter == NULL)
    return FALSE;

  if (G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    {
      GSList *files = g_value_get_boxed (value);

      for (GSList *l = files; l != NULL; l = l->next)
        load_file (self, l->data);
      return files != NULL;
    }
  if (G_VALUE_HOLDS (value, GDK_TYPE_TEXTURE))
    {
      stage_texture (self, g_value_get_object (value), _("Dropped picture.png"));
      return TRUE;
    }

  return FALSE;
}

static void
action_remove_attachments (GtkWidget  *widget,
                           const char *action_name,
                           GVariant   *parameter)
{
  WzChatView *self = WZ_CHAT_VIEW (widget);

  g_ptr_array_set_size (self->staged, 0);
  update_staged (self);
}

/* ---------------------------------------------------------------------------------------- */
/* Quick replies */

static GtkWidget *
create_quick_row (gpointer item,
                  gpointer user_data)
{
  const char *phrase = gtk_string_object_get_string (GTK_STRING_OBJECT (item));
  GtkWidget *label = gtk_label_new (phrase);
  GtkWidget *row = gtk_list_box_row_new ();

  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 44);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_set_margin_top (label, 8);
  gtk_widget_set_margin_bottom (label, 8);
  gtk_widget_set_margin_start (label, 6);
  gtk_widget_set_margin_end (label, 6);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), label);
  g_object_set_data_full (G_OBJECT (row), "phrase", g_strdup (phrase), g_free);

  return row;
}

static void
on_quick_reply_activated (WzChatView    *self,
                          GtkListBoxRow *row)
{
  const char *phrase = g_object_get_data (G_OBJECT (row), "phrase");
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->text_view);

  if (phrase == NULL)
    return;

  gtk_popover_popdown (self->quick_popover);
  gtk_text_buffer_begin_user_action (buffer);
  gtk_text_buffer_insert_at_cursor (buffer, phrase, -1);
  gtk_text_buffer_end_user_action (buffer);
  gtk_widget_grab_focus (GTK_WIDGET (self->text_view));
  wz_test_report ("quick-reply-inserted text=%s", phrase);
}

static void
action_quick_replies (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  WzChatView *self = WZ_CHAT_VIEW (widget);

  if (self->encounter == NULL)
    return;
  gtk_menu_button_popup (self->quick_button);
  wz_test_report ("quick-replies-shown n=%u",
                  g_list_model_get_n_items (G_LIST_MODEL (self->quick_replies)));
}

static void
action_edit_quick_replies (GtkWidget  *widget,
                           const char *action_name,
                           GVariant   *parameter)
{
  WzChatView *self = WZ_CHAT_VIEW (widget);
  GtkRoot *root = gtk_widget_get_root (widget);
  GtkWidget *editor;

  gtk_popover_popdown (self->quick_popover);
  editor = wz_quick_replies_editor_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                        self->quick_replies);
  gtk_window_present (GTK_WINDOW (editor));
  wz_test_report ("quick-replies-editor shown=yes");
}

/* ---------------------------------------------------------------------------------------- */
/* Search */

static void
set_match_label (WzChatView *self)
{
  const char *query = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));
  g_autofree char *label = NULL;

  if (*query == '\0')
    label = g_strdup ("");
  else if (self->matches->len == 0)
    label = g_strdup (_("No matches"));
  else
    /* Translators: search position, e.g. “2 of 5” */
    label = g_strdup_printf (_("%d of %u"), self->current_match + 1, self->matches->len);

  gtk_label_set_text (self->match_label, label);
}

static void
jump_to_match (WzChatView *self)
{
  g_autoptr(WzChatMessage) message = NULL;
  const char *query = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));
  guint position;

  if (self->matches->len == 0)
    {
      set_match_label (self);
      wz_test_report ("chat-search query=%s matches=0", query);
      return;
    }

  for (guint i = 0; i < self->matches->len; i++)
    {
      g_autoptr(WzChatMessage) other =
        g_list_model_get_item (G_LIST_MODEL (self->model), g_array_index (self->matches, guint, i));

      wz_chat_message_set_highlight (other, query, (int) i == self->current_match);
    }

  position = g_array_index (self->matches, guint, self->current_match);
  message = g_list_model_get_item (G_LIST_MODEL (self->model), position);
  self->stick_to_bottom = FALSE;
  gtk_widget_activate_action (GTK_WIDGET (self->list_view), "list.scroll-to-item", "u", position);
  set_match_label (self);
  wz_test_report ("chat-search query=%s matches=%u current=%d position=%u text=%s", query,
                  self->matches->len, self->current_match + 1, position,
                  wz_chat_message_get_text (message));
}

static void
update_search (WzChatView *self,
               gboolean    jump)
{
  const char *query = gtk_search_bar_get_search_mode (self->search_bar)
                      ? gtk_editable_get_text (GTK_EDITABLE (self->search_entry)) : "";
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->model));

  g_array_set_size (self->matches, 0);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(WzChatMessage) message = g_list_model_get_item (G_LIST_MODEL (self->model), i);

      if (wz_chat_message_matches (message, query))
        {
          g_array_append_val (self->matches, i);
          wz_chat_message_set_highlight (message, query, FALSE);
        }
      else
        wz_chat_message_set_highlight (message, NULL, FALSE);
    }

  /* The newest match first, as the conversation is read from the bottom. */
  if (jump || self->current_match >= (int) self->matches->len)
    self->current_match = (int) self->matches->len - 1;
  if (*query == '\0')
    {
      set_match_label (self);
      return;
    }
  if (jump)
    jump_to_match (self);
  else
    set_match_label (self);
}

static void
on_search_changed (WzChatView *self)
{
  update_search (self, TRUE);
}

static void
on_search_next (WzChatView *self)
{
  if (self->matches->len == 0)
    return;
  self->current_match = (self->current_match + 1) % (int) self->matches->len;
  jump_to_match (self);
}

static void
on_search_previous (WzChatView *self)
{
  if (self->matches->len == 0)
    return;
  self->current_match = (self->current_match + (int) self->matches->len - 1) % (int) self->matches->len;
  jump_to_match (self);
}

static void
on_stop_search (WzChatView *self)
{
  gtk_search_bar_set_search_mode (self->search_bar, FALSE);
  gtk_widget_grab_focus (GTK_WIDGET (self->text_view));
}

static void
on_search_mode_changed (WzChatView *self)
{
  if (!gtk_search_bar_get_search_mode (self->search_bar))
    update_search (self, FALSE);
}

static gboolean
on_search_entry_key (GtkEventControllerKey *controller,
                     guint                  keyval,
                     guint                  keycode,
                     GdkModifierType        state,
                     WzChatView            *self)
{
  if ((keyval == GDK_KEY_Return || keyval == GDK_KEY_KP_Enter) && (state & GDK_SHIFT_MASK))
    {
      on_search_previous (self);
      return GDK_EVENT_STOP;
    }

  return GDK_EVENT_PROPAGATE;
}

static void
action_search (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  WzChatView *self = WZ_CHAT_VIEW (widget);

  if (self->encounter == NULL)
    return;
  gtk_search_bar_set_search_mode (self->search_bar, TRUE);
  /* The entry can take the focus once the bar has put it on screen. */
  if (gtk_widget_get_mapped (GTK_WIDGET (self->search_entry)))
    gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
  else
    self->focus_search = TRUE;
}

static void
on_search_entry_mapped (WzChatView *self)
{
  if (!self->focus_search)
    return;

  self->focus_search = FALSE;
  gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
  wz_test_report ("chat-search-shown");
}

/* ---------------------------------------------------------------------------------------- */
/* Export */

typedef struct
{
  WzChatView *self;
  char       *path;
  GPtrArray  *urls;     /* pictures still to fetch */
} Exporting;

static void
exporting_free (Exporting *exporting)
{
  g_clear_object (&exporting->self);
  g_free (exporting->path);
  g_ptr_array_unref (exporting->urls);
  g_free (exporting);
}

static cairo_surface_t *
surface_from_texture (GdkTexture *texture)
{
  int width = gdk_texture_get_width (texture);
  int height = gdk_texture_get_height (texture);
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);

  cairo_surface_flush (surface);
  gdk_texture_download (texture, cairo_image_surface_get_data (surface),
                        (gsize) cairo_image_surface_get_stride (surface));
  cairo_surface_mark_dirty (surface);

  return surface;
}

static char *
sender_label (WzChatView    *self,
              WzChatMessage *message)
{
  if (wz_chat_message_get_outgoing (message))
    /* Translators: sender in the exported conversation; %s is the doctor's name */
    return g_strdup_printf (_("%s (doctor)"), self->doctor_name != NULL ? self->doctor_name : "");

  /* Translators: sender in the exported conversation; %s is the patient's name */
  return g_strdup_printf (_("%s (patient)"), self->patient_name != NULL ? self->patient_name : "");
}

static WzChatExport *
build_export (WzChatView *self)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *exported = g_date_time_format (now, C_("chat export date", "%Y-%m-%d %H:%M"));
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->model));
  WzChatExport *export;

  /* Translators: page footer of the exported conversation; %d is the page number */
  export = wz_chat_export_new (_("Consultation Chat Record"), _("Page %d"));
  g_ptr_array_add (export->header, g_strdup_printf (_("Patient: %s"), self->patient_name ?: ""));
  g_ptr_array_add (export->header, g_strdup_printf (_("Doctor: %s"), self->doctor_name ?: ""));
  g_ptr_array_add (export->header, g_strdup_printf (_("Visit: %s"), self->encounter));
  g_ptr_array_add (export->header, g_strdup_printf (_("Exported: %s"), exported));
  g_ptr_array_add (export->header,
                   g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u message", "%u messages", n), n));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(WzChatMessage) message = g_list_model_get_item (G_LIST_MODEL (self->model), i);
      g_autoptr(GDateTime) local = g_date_time_to_local (wz_chat_message_get_sent (message));
      g_autofree char *time = g_date_time_format (local, C_("chat export date", "%Y-%m-%d %H:%M"));
      g_autofree char *sender = sender_label (self, message);
      WzChatExportMessage *item = wz_chat_export_add_message (export, sender, time,
                                                              wz_chat_message_get_text (message));

      if (wz_chat_message_get_id (message) == NULL)
        g_ptr_array_add (item->files, g_strdup (_("(not yet sent)")));

      for (guint a = 0; a < wz_chat_message_get_n_attachments (message); a++)
        {
          JsonObject *attachment = wz_chat_message_get_attachment (message, a);
          const char *type = wz_json_string (attachment, "contentType");
          const char *url = wz_json_string (attachment, "url");
          GBytes *bytes = wz_chat_message_get_attachment_bytes (message, a);
          g_autoptr(GdkTexture) texture = NULL;

          if (bytes == NULL)
            bytes = wz_chat_media_lookup (self->media, url);
          if (type != NULL && g_str_has_prefix (type, "image/") && bytes != NULL)
            texture = gdk_texture_new_from_bytes (bytes, NULL);

          if (texture != NULL)
            {
              cairo_surface_t *surface = surface_from_texture (texture);

              wz_chat_export_add_picture (item, surface);
              cairo_surface_destroy (surface);
            }
          else
            /* Translators: an attachment in the exported conversation: its name and type */
            g_ptr_array_add (item->files,
                             g_strdup_printf (_("Attachment: %s (%s)"),
                                              wz_json_string (attachment, "title") ?: "",
                                              type != NULL ? type : ""));
        }
    }

  return export;
}

static void
on_export_written (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Exporting *exporting = user_data;
  WzChatView *self = exporting->self;
  g_autoptr(GError) error = NULL;

  if (!wz_chat_export_write_finish (result, &error))
    {
      g_autofree char *text = g_strdup_printf (_("The conversation could not be exported: %s"),
                                               error->message);

      toast (self, text);
    }
  else
    {
      wz_test_report ("chat-export path=%s messages=%u", exporting->path,
                      g_list_model_get_n_items (G_LIST_MODEL (self->model)));
      toast (self, _("Conversation exported as PDF"));
    }

  exporting_free (exporting);
}

static void fetch_next_picture (Exporting *exporting);

static void
on_export_picture (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Exporting *exporting = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = wz_chat_media_load_finish (WZ_CHAT_MEDIA (object), result, &error);

  /* A picture that cannot be fetched is named instead of shown. */
  if (bytes == NULL)
    g_debug ("Picture not exported: %s", error->message);
  fetch_next_picture (exporting);
}

static void
fetch_next_picture (Exporting *exporting)
{
  WzChatView *self = exporting->self;
  g_autofree char *url = NULL;

  if (exporting->urls->len > 0)
    {
      url = g_ptr_array_steal_index (exporting->urls, exporting->urls->len - 1);
      wz_chat_media_load_async (self->media, url, self->cancellable, on_export_picture, exporting);
      return;
    }

  wz_chat_export_write_async (build_export (self), exporting->path, NULL, on_export_written,
                              exporting);
}

static void
export_to (WzChatView *self,
           const char *path)
{
  Exporting *exporting = g_new0 (Exporting, 1);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->model));

  exporting->self = g_object_ref (self);
  exporting->path = g_strdup (path);
  exporting->urls = g_ptr_array_new_with_free_func (g_free);

  /* Pictures not fetched yet (never scrolled into view) are fetched first. */
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(WzChatMessage) message = g_list_model_get_item (G_LIST_MODEL (self->model), i);

      for (guint a = 0; a < wz_chat_message_get_n_attachments (message); a++)
        {
          JsonObject *attachment = wz_chat_message_get_attachment (message, a);
          const char *type = wz_json_string (attachment, "contentType");
          const char *url = wz_json_string (attachment, "url");

          if (type != NULL && g_str_has_prefix (type, "image/") && url != NULL
              && wz_chat_message_get_attachment_bytes (message, a) == NULL
              && wz_chat_media_lookup (self->media, url) == NULL)
            g_ptr_array_add (exporting->urls, g_strdup (url));
        }
    }

  fetch_next_picture (exporting);
}

static void
export_to_file (WzChatView *self,
                GFile      *file)
{
  g_autofree char *path = g_file_get_path (file);

  if (path != NULL)
    export_to (self, path);
}

static void
action_export (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  static const char * const types[] = { "application/pdf", NULL };
  WzChatView *self = WZ_CHAT_VIEW (widget);
  g_autofree char *name = NULL;

  if (self->encounter == NULL || !self->loaded)
    return;

  /* Translators: suggested file name of an exported conversation; %s is the patient's name */
  name = g_strdup_printf (_("Chat with %s.pdf"), self->patient_name != NULL ? self->patient_name : "");
  choose_files (self, "WZ_TEST_CHAT_PDF", GTK_FILE_CHOOSER_ACTION_SAVE, _("Export Conversation"),
                _("_Export"), FALSE, name, _("PDF documents"), types, export_to_file);
}

static void
action_reload (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  WzChatView *self = WZ_CHAT_VIEW (widget);

  if (self->encounter == NULL)
    return;
  gtk_stack_set_visible_child_name (self->list_stack, "loading");
  gtk_spinner_set_spinning (self->loading_spinner, TRUE);
  catch_up (self);
}

/* ---------------------------------------------------------------------------------------- */
/* Rows */

static void
setup_row (GtkSignalListItemFactory *factory,
           GtkListItem              *list_item,
           WzChatView               *self)
{
  GtkWidget *row = wz_chat_message_row_new (self->media);

  g_signal_connect_object (row, "retry", G_CALLBACK (on_retry), self, G_CONNECT_SWAPPED);
  gtk_list_item_set_child (list_item, row);
  gtk_list_item_set_activatable (list_item, FALSE);
  gtk_list_item_set_selectable (list_item, FALSE);
}

static void
bind_row (GtkSignalListItemFactory *factory,
          GtkListItem              *list_item,
          WzChatView               *self)
{
  WzChatMessageRow *row = WZ_CHAT_MESSAGE_ROW (gtk_list_item_get_child (list_item));

  wz_chat_message_row_set_message (row, gtk_list_item_get_item (list_item));
}

static void
unbind_row (GtkSignalListItemFactory *factory,
            GtkListItem              *list_item,
            WzChatView               *self)
{
  wz_chat_message_row_set_message (WZ_CHAT_MESSAGE_ROW (gtk_list_item_get_child (list_item)), NULL);
}

/* ---------------------------------------------------------------------------------------- */
/* Public */

static void
on_outbox_opened (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(WzChatView) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!wz_chat_outbox_open_finish (WZ_CHAT_OUTBOX (object), result, &error))
    {
      g_autofree char *text = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      g_warning ("The chat outbox cannot be opened: %s", error->message);
      text = g_strdup_printf (_("Chat messages cannot be kept on this computer, so none can be sent: %s"),
                              error->message);
      toast (self, text);
      return;
    }

  /* Messages a previous run left, for the visit already shown. */
  if (self->encounter != NULL)
    {
      g_autoptr(GPtrArray) pending = wz_chat_outbox_get_pending (self->outbox, self->encounter);

      for (guint i = 0; i < pending->len; i++)
        add_pending_message (self, g_ptr_array_index (pending, i));
      update_list_page (self);
    }
}

void
wz_chat_view_set_client (WzChatView  *self,
                         WzApiClient *client)
{
  g_return_if_fail (WZ_IS_CHAT_VIEW (self));
  g_return_if_fail (WZ_IS_API_CLIENT (client));

  if (self->client != NULL)
    return;

  self->client = g_object_ref (client);
  self->media = wz_chat_media_new (client);
  self->outbox = wz_chat_outbox_new (client);
  g_signal_connect_object (self->outbox, "sent", G_CALLBACK (on_outbox_sent), self, G_CONNECT_SWAPPED);

  {
    g_autoptr(GtkListItemFactory) factory = gtk_signal_list_item_factory_new ();
    g_autoptr(GtkNoSelection) selection = gtk_no_selection_new (g_object_ref (G_LIST_MODEL (self->model)));

    g_signal_connect (factory, "setup", G_CALLBACK (setup_row), self);
    g_signal_connect (factory, "bind", G_CALLBACK (bind_row), self);
    g_signal_connect (factory, "unbind", G_CALLBACK (unbind_row), self);
    gtk_list_view_set_factory (self->list_view, factory);
    gtk_list_view_set_model (self->list_view, GTK_SELECTION_MODEL (selection));
  }
}

void
wz_chat_view_start (WzChatView *self,
                    WzSession  *session,
                    WzRealtime *realtime)
{
  g_autofree char *path = NULL;

  g_return_if_fail (WZ_IS_CHAT_VIEW (self));
  g_return_if_fail (WZ_IS_SESSION (session));
  g_return_if_fail (self->client != NULL);

  wz_chat_view_stop (self);

  self->session_cancellable = g_cancellable_new ();
  self->me = g_strdup (wz_session_get_practitioner (session));
  self->doctor_name = g_strdup (wz_session_get_display_name (session));

  if (self->realtime != realtime)
    {
      if (self->realtime != NULL)
        g_signal_handlers_disconnect_by_data (self->realtime, self);
      g_set_object (&self->realtime, realtime);
      g_signal_connect_object (realtime, "resource::Communication", G_CALLBACK (on_realtime_resource),
                               self, G_CONNECT_SWAPPED);
      g_signal_connect_object (realtime, "message::typing", G_CALLBACK (on_realtime_message),
                               self, G_CONNECT_SWAPPED);
      g_signal_connect_object (realtime, "message::receipt", G_CALLBACK (on_realtime_message),
                               self, G_CONNECT_SWAPPED);
      g_signal_connect_object (realtime, "connected", G_CALLBACK (on_realtime_connected),
                               self, G_CONNECT_SWAPPED);
    }

  path = wz_chat_outbox_path_for (wz_api_client_get_base_url (self->client),
                                  wz_session_get_username (session));
  wz_chat_outbox_open_async (self->outbox, path, self->session_cancellable, on_outbox_opened,
                             g_object_ref (self));
}

void
wz_chat_view_stop (WzChatView *self)
{
  g_return_if_fail (WZ_IS_CHAT_VIEW (self));

  wz_chat_view_show (self, NULL, NULL, NULL);
  g_cancellable_cancel (self->session_cancellable);
  g_clear_object (&self->session_cancellable);
  if (self->outbox != NULL)
    wz_chat_outbox_close (self->outbox);
  g_clear_pointer (&self->me, g_free);
  g_clear_pointer (&self->doctor_name, g_free);
}

void
wz_chat_view_show (WzChatView *self,
                   const char *patient_id,
                   const char *encounter_id,
                   const char *name)
{
  g_autofree char *encounter = NULL;

  g_return_if_fail (WZ_IS_CHAT_VIEW (self));

  encounter = encounter_id != NULL ? g_strconcat ("Encounter/", encounter_id, NULL) : NULL;
  if (g_strcmp0 (encounter, self->encounter) == 0)
    return;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->encounter, g_free);
  g_clear_pointer (&self->patient_id, g_free);
  g_clear_pointer (&self->patient_name, g_free);
  g_clear_pointer (&self->delivered_sent, g_free);
  g_clear_pointer (&self->read_sent, g_free);
  hide_typing (self);
  self->loaded = FALSE;
  self->loading = FALSE;
  self->load_again = FALSE;
  self->unseen = 0;
  self->typing_sent_us = 0;
  update_new_button (self);
  g_ptr_array_set_size (self->staged, 0);
  update_staged (self);
  gtk_search_bar_set_search_mode (self->search_bar, FALSE);
  gtk_editable_set_text (GTK_EDITABLE (self->search_entry), "");
  g_array_set_size (self->matches, 0);
  gtk_revealer_set_reveal_child (self->waiting_revealer, FALSE);
  wz_chat_model_clear (self->model);
  if (self->media != NULL)
    wz_chat_media_clear (self->media);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->text_view), "", -1);

  if (encounter == NULL || self->client == NULL)
    {
      gtk_stack_set_visible_child_name (self->stack, "empty");
      return;
    }

  self->encounter = g_steal_pointer (&encounter);
  self->patient_id = patient_id != NULL ? g_strconcat ("Patient/", patient_id, NULL) : NULL;
  self->patient_name = g_strdup (name);
  self->cancellable = g_cancellable_new ();

  {
    /* Translators: under “No Messages Yet”; %s is the patient's name */
    g_autofree char *description =
      g_strdup_printf (_("Messages, photos and files you exchange with %s appear here and are kept in the patient’s record."),
                       name != NULL ? name : "");

    adw_status_page_set_description (self->no_messages_page, description);
  }

  gtk_stack_set_visible_child_name (self->stack, "chat");
  gtk_stack_set_visible_child_name (self->list_stack, "loading");
  gtk_spinner_set_spinning (self->loading_spinner, TRUE);

  if (self->outbox != NULL)
    {
      g_autoptr(GPtrArray) pending = wz_chat_outbox_get_pending (self->outbox, self->encounter);

      for (guint i = 0; i < pending->len; i++)
        add_pending_message (self, g_ptr_array_index (pending, i));
      on_message_state_for_banner (self);
    }

  catch_up (self);
}

/* ---------------------------------------------------------------------------------------- */
/* GObject */

static void
on_map (WzChatView *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *focus = GTK_IS_WINDOW (root) ? gtk_window_get_focus (GTK_WINDOW (root)) : NULL;

  /* Coming to the chat page is coming to write. */
  if (self->encounter != NULL && (focus == NULL || !gtk_widget_is_ancestor (focus, GTK_WIDGET (self))))
    gtk_widget_grab_focus (GTK_WIDGET (self->text_view));
  maybe_send_read (self);
}

static void
on_root_active (WzChatView *self)
{
  maybe_send_read (self);
}

static void
on_page_changed (WzChatView *self)
{
  if (is_page_shown (self))
    on_map (self);
}

static void
on_root_changed (WzChatView *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *stack = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_VIEW_STACK);

  if (GTK_IS_WINDOW (root))
    g_signal_connect_object (root, "notify::is-active", G_CALLBACK (on_root_active), self,
                             G_CONNECT_SWAPPED);
  if (stack != NULL)
    g_signal_connect_object (stack, "notify::visible-child", G_CALLBACK (on_page_changed), self,
                             G_CONNECT_SWAPPED);
}

static void
wz_chat_view_dispose (GObject *object)
{
  WzChatView *self = WZ_CHAT_VIEW (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_cancellable_cancel (self->session_cancellable);
  g_clear_object (&self->session_cancellable);
  g_clear_handle_id (&self->typing_timeout_id, g_source_remove);
  if (self->realtime != NULL)
    g_signal_handlers_disconnect_by_data (self->realtime, self);
  gtk_widget_dispose_template (GTK_WIDGET (self), WZ_TYPE_CHAT_VIEW);
  g_clear_object (&self->realtime);
  g_clear_object (&self->outbox);
  g_clear_object (&self->media);
  g_clear_object (&self->model);
  g_clear_object (&self->quick_replies);
  g_clear_object (&self->settings);
  g_clear_object (&self->client);

  G_OBJECT_CLASS (wz_chat_view_parent_class)->dispose (object);
}

static void
wz_chat_view_finalize (GObject *object)
{
  WzChatView *self = WZ_CHAT_VIEW (object);

  g_free (self->me);
  g_free (self->doctor_name);
  g_free (self->patient_id);
  g_free (self->encounter);
  g_free (self->patient_name);
  g_free (self->delivered_sent);
  g_free (self->read_sent);
  g_ptr_array_unref (self->staged);
  g_array_unref (self->matches);

  G_OBJECT_CLASS (wz_chat_view_parent_class)->finalize (object);
}

static void
wz_chat_view_class_init (WzChatViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = wz_chat_view_dispose;
  object_class->finalize = wz_chat_view_finalize;

  /**
   * WzChatView::toast:
   * @title: a short message for the window's toast overlay
   */
  signals[TOAST] =
    g_signal_new ("toast", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  gtk_widget_class_install_action (widget_class, "chat.send", NULL, action_send);
  gtk_widget_class_install_action (widget_class, "chat.attach", NULL, action_attach);
  gtk_widget_class_install_action (widget_class, "chat.remove-attachments", NULL, action_remove_attachments);
  gtk_widget_class_install_action (widget_class, "chat.search", NULL, action_search);
  gtk_widget_class_install_action (widget_class, "chat.export", NULL, action_export);
  gtk_widget_class_install_action (widget_class, "chat.quick-replies", NULL, action_quick_replies);
  gtk_widget_class_install_action (widget_class, "chat.edit-quick-replies", NULL, action_edit_quick_replies);
  gtk_widget_class_install_action (widget_class, "chat.jump-to-newest", NULL, action_jump_to_newest);
  gtk_widget_class_install_action (widget_class, "chat.reload", NULL, action_reload);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_f, GDK_CONTROL_MASK, "chat.search", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_o, GDK_CONTROL_MASK, "chat.attach", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_r, GDK_CONTROL_MASK | GDK_SHIFT_MASK, "chat.quick-replies", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_e, GDK_CONTROL_MASK | GDK_SHIFT_MASK, "chat.export", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_End, GDK_ALT_MASK, "chat.jump-to-newest", NULL);

  g_type_ensure (WZ_TYPE_CHAT_MESSAGE_ROW);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/wenzhen/Wenzhen/wz-chat-view.ui");
  gtk_widget_class_bind_template_child (widget_class, WzChatView, stack);
  gtk_widget_class_bind_template_child (widget_class, WzChatView, empty_page);
  gtk_widget_class_bind_template_child (widget_class, WzChatView, typing_label);
  gtk_widget_class_bind_template_child (widget_class, WzChatView, search_button);
  gtk_widget_class_bind_template_child (widget_class, WzChatView, search_bar);
  gtk_widget_class_bind_template_child (widget_class, WzChatView, search_entry);
  gtk_widget_class_bind_template_child (widget_class, WzChatView, match_label);
  gtk_widget_class_bind_template_child (widget_class, WzChatView, waiting_revealer);
  gtk_widget_class_bind_template_child (widget_class, WzChatView, list_stack);
  gtk_widget_class_bind_template_child (widget_class, WzChatView, loading_spinner);
  gtk_widget_class_bind_template_child (widget_class, WzChatView, no_messages_page);
  gtk_widget_class_bind_template_child (widget_class, WzChatView, error_page);
  gtk_widget_class_bind_template_child (widget_class, WzChatView, scroller);
  gtk_widget_class_bind_template_child (widget_class, WzChatView, list_view);
  gtk_widget_class_bind_template_child (widget_class, WzChatView, new_revealer);
  gtk_widget_class_bind_template_child (widget_class, WzChatView, new_label);
  gtk_widget_class_bind_template_child (widget_class, WzChatView, staged_revealer);
  gtk_widget_class_bind_template_child (widget_class, WzChatView, staged_label);
  gtk_widget_class_bind_template_child (widget_class, WzChatView, quick_button);
  gtk_widget_class_bind_template_child (widget_class, WzChatView, quick_popover);
  gtk_widget_class_bind_template_child (widget_class, WzChatView, quick_list);
  gtk_widget_class_bind_template_child (widget_class, WzChatView, text_view);
  gtk_widget_class_bind_template_child (widget_class, WzChatView, placeholder_label);
  gtk_widget_class_bind_template_callback (widget_class, on_search_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_search_next);
  gtk_widget_class_bind_template_callback (widget_class, on_search_previous);
  gtk_widget_class_bind_template_callback (widget_class, on_stop_search);
  gtk_widget_class_bind_template_callback (widget_class, on_quick_reply_activated);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "chatview");
}

static void
wz_chat_view_init (WzChatView *self)
{
  GtkEventController *keys;
  GtkDropTarget *drop;
  GType drop_types[] = { GDK_TYPE_FILE_LIST, GDK_TYPE_TEXTURE };
  GtkTextBuffer *buffer;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->model = wz_chat_model_new ();
  self->staged = g_ptr_array_new_with_free_func ((GDestroyNotify) staged_file_free);
  self->matches = g_array_new (FALSE, FALSE, sizeof (guint));
  self->stick_to_bottom = TRUE;

  self->settings = g_settings_new (APP_ID);
  self->quick_replies = wz_quick_replies_new (self->settings);
  gtk_list_box_bind_model (self->quick_list, G_LIST_MODEL (self->quick_replies), create_quick_row,
                           self, NULL);

  g_object_bind_property (self->search_button, "active", self->search_bar, "search-mode-enabled",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  g_signal_connect_object (self->search_bar, "notify::search-mode-enabled",
                           G_CALLBACK (on_search_mode_changed), self, G_CONNECT_SWAPPED);
  gtk_search_bar_connect_entry (self->search_bar, GTK_EDITABLE (self->search_entry));
  g_signal_connect_object (self->search_entry, "map", G_CALLBACK (on_search_entry_mapped), self,
                           G_CONNECT_SWAPPED);
  keys = gtk_event_controller_key_new ();
  g_signal_connect (keys, "key-pressed", G_CALLBACK (on_search_entry_key), self);
  gtk_widget_add_controller (GTK_WIDGET (self->search_entry), keys);

  keys = gtk_event_controller_key_new ();
  gtk_event_controller_set_propagation_phase (keys, GTK_PHASE_CAPTURE);
  g_signal_connect (keys, "key-pressed", G_CALLBACK (on_text_key_pressed), self);
  gtk_widget_add_controller (GTK_WIDGET (self->text_view), keys);
  g_signal_connect_object (self->text_view, "preedit-changed", G_CALLBACK (on_preedit_changed),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->text_view, "paste-clipboard", G_CALLBACK (on_paste_clipboard),
                           self, G_CONNECT_SWAPPED);
  buffer = gtk_text_view_get_buffer (self->text_view);
  g_signal_connect_object (buffer, "changed", G_CALLBACK (on_buffer_changed), self, G_CONNECT_SWAPPED);

  g_signal_connect_object (vadjustment (self), "notify::upper", G_CALLBACK (on_upper_changed), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (vadjustment (self), "notify::page-size", G_CALLBACK (on_upper_changed), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (vadjustment (self), "value-changed", G_CALLBACK (on_value_changed), self,
                           G_CONNECT_SWAPPED);

  drop = gtk_drop_target_new (G_TYPE_INVALID, GDK_ACTION_COPY);
  gtk_drop_target_set_gtypes (drop, drop_types, G_N_ELEMENTS (drop_types));
  g_signal_connect (drop, "drop", G_CALLBACK (on_drop), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));

  g_signal_connect (self, "map", G_CALLBACK (on_map), NULL);
  g_signal_connect (self, "notify::root", G_CALLBACK (on_root_changed), NULL);

  update_staged (self);
}
