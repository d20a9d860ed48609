/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-chat-message-row"

#include "config.h"

#include "wz-chat-message-row.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "wz-fhir-json.h"
#include "wz-test-report.h"

/* One message in the conversation: a bubble on the right for the doctor's, on the left for the
 * patient's, with its files, text, time and (for the doctor's) how far it got. */
struct _WzChatMessageRow
{
  GtkWidget      parent_instance;

  GtkBox        *box;
  GtkLabel      *day_label;
  GtkBox        *bubble;
  GtkBox        *attachments_box;
  GtkLabel      *text_label;
  GtkLabel      *time_label;
  GtkImage      *state_icon;
  GtkBox        *problem_box;
  GtkLabel      *problem_label;
  GtkButton     *retry_button;

  WzChatMedia   *media;
  WzChatMessage *message;
  GCancellable  *cancellable;
  GPtrArray     *temporary_files;
};

G_DEFINE_FINAL_TYPE (WzChatMessageRow, wz_chat_message_row, GTK_TYPE_WIDGET)

enum {
  RETRY,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* ---------------------------------------------------------------------------------------- */
/* Text */

typedef struct
{
  gsize start;
  gsize end;
} Range;

static GArray *
find_links (const char *text)
{
  static GRegex *regex;
  GArray *links = g_array_new (FALSE, FALSE, sizeof (Range));
  g_autoptr(GMatchInfo) match = NULL;

  if (g_once_init_enter (&regex))
    g_once_init_leave (&regex,
                               g_regex_new ("(?:https?://|www\\.)[^\\s<>\"'，。；！？、（）【】《》「」]+",
                                            G_REGEX_CASELESS | G_REGEX_OPTIMIZE, 0, NULL));

  g_regex_match (regex, text, 0, &match);
  while (g_match_info_matches (match))
    {
      int start, end;
      Range range;

      g_match_info_fetch_pos (match, 0, &start, &end);
      /* Punctuation that ends a sentence is not part of the address. */
      while (end > start && strchr (".,;:!?)]}", text[end - 1]) != NULL)
        end--;
      range.start = (gsize) start;
      range.end = (gsize) end;
      if (end > start)
        g_array_append_val (links, range);
      g_match_info_next (match, NULL);
    }

  return links;
}

/* Where QUERY occurs in TEXT ignoring case, as byte ranges of TEXT. */
static GArray *
find_matches (const char *text,
              const char *query)
{
  GArray *matches = g_array_new (FALSE, FALSE, sizeof (Range));
  g_autofree char *needle = NULL;
  glong needle_chars;

  if (query == NULL || *query == '\0')
    return matches;

  needle = g_utf8_casefold (query, -1);
  needle_chars = g_utf8_strlen (query, -1);
  for (const char *p = text; *p != '\0';)
    {
      const char *end = p;
      g_autofree char *folded = NULL;
      glong i;

      for (i = 0; i < needle_chars && *end != '\0'; i++)
        end = g_utf8_next_char (end);
      if (i < needle_chars)
        break;

      folded = g_utf8_casefold (p, end - p);
      if (strcmp (folded, needle) == 0)
        {
          Range range = { (gsize) (p - text), (gsize) (end - text) };

          g_array_append_val (matches, range);
          p = end;
        }
      else
        p = g_utf8_next_char (p);
    }

  return matches;
}

static gboolean
in_ranges (GArray *ranges,
           gsize   position,
           guint  *index)
{
  for (guint i = 0; i < ranges->len; i++)
    {
      Range *range = &g_array_index (ranges, Range, i);

      if (position >= range->start && position < range->end)
        {
          if (index != NULL)
            *index = i;
          return TRUE;
        }
    }

  return FALSE;
}

static void
add_boundaries (GArray *boundaries,
                GArray *ranges)
{
  for (guint i = 0; i < ranges->len; i++)
    {
      Range *range = &g_array_index (ranges, Range, i);

      g_array_append_val (boundaries, range->start);
      g_array_append_val (boundaries, range->end);
    }
}

static int
compare_sizes (gconstpointer a,
               gconstpointer b)
{
  gsize x = *(const gsize *) a;
  gsize y = *(const gsize *) b;

  return x < y ? -1 : x > y;
}

char *
wz_chat_message_row_build_markup (const char *text,
                                  const char *highlight,
                                  gboolean    current)
{
  g_autoptr(GArray) links = NULL;
  g_autoptr(GArray) matches = NULL;
  g_autoptr(GArray) boundaries = g_array_new (FALSE, FALSE, sizeof (gsize));
  g_autoptr(GString) markup = g_string_new (NULL);
  gsize length;
  gsize zero = 0;

  if (text == NULL)
    return g_strdup ("");

  length = strlen (text);
  links = find_links (text);
  matches = find_matches (text, highlight);

  /* The text is cut where a link or a match starts or ends; each piece is escaped on its own,
   * inside at most one link and one highlight, so tags always nest. */
  g_array_append_val (boundaries, zero);
  g_array_append_val (boundaries, length);
  add_boundaries (boundaries, links);
  add_boundaries (boundaries, matches);
  g_array_sort (boundaries, compare_sizes);

  for (guint i = 0; i + 1 < boundaries->len; i++)
    {
      gsize start = g_array_index (boundaries, gsize, i);
      gsize end = g_array_index (boundaries, gsize, i + 1);
      g_autofree char *piece = NULL;
      guint link;
      gboolean linked;

      if (end <= start)
        continue;

      piece = g_markup_escape_text (text + start, (gssize) (end - start));
      linked = in_ranges (links, start, &link);
      if (linked && g_array_index (links, Range, link).start == start)
        {
          Range *range = &g_array_index (links, Range, link);
          g_autofree char *address = g_strndup (text + range->start, range->end - range->start);
          g_autofree char *href = g_ascii_strncasecmp (address, "www.", 4) == 0
                                  ? g_strconcat ("https://", address, NULL)
                                  : g_strdup (address);
          g_autofree char *escaped = g_markup_escape_text (href, -1);

          g_string_append_printf (markup, "<a href=\"%s\">", escaped);
        }

      if (in_ranges (matches, start, NULL))
        g_string_append_printf (markup, "<span %s>%s</span>",
                                current ? "background=\"#ff7800\" foreground=\"#000000\" weight=\"bold\""
                                        : "background=\"#f6d32d\" foreground=\"#000000\"",
                                piece);
      else
        g_string_append (markup, piece);

      if (linked && g_array_index (links, Range, link).end == end)
        g_string_append (markup, "</a>");
    }

  return g_string_free (g_steal_pointer (&markup), FALSE);
}

char *
wz_chat_message_row_format_time (GDateTime *time)
{
  g_autoptr(GDateTime) local = g_date_time_to_local (time);

  /* Translators: time of a chat message, a g_date_time_format() pattern; use %I:%M %p for a
   * 12-hour clock */
  return g_date_time_format (local, C_("chat message time", "%H:%M"));
}

char *
wz_chat_message_row_format_day (GDateTime *day,
                                GDateTime *now)
{
  g_autoptr(GDateTime) local = g_date_time_to_local (day);
  g_autoptr(GDateTime) today = g_date_time_to_local (now);
  g_autoptr(GDateTime) midnight = g_date_time_new_local (g_date_time_get_year (today),
                                                         g_date_time_get_month (today),
                                                         g_date_time_get_day_of_month (today),
                                                         0, 0, 0);
  GTimeSpan before = g_date_time_difference (midnight, local);

  if (before <= 0 && g_date_time_get_day_of_month (local) == g_date_time_get_day_of_month (today))
    return g_strdup (_("Today"));
  if (before > 0 && before <= G_TIME_SPAN_DAY)
    return g_strdup (_("Yesterday"));
  if (g_date_time_get_year (local) == g_date_time_get_year (today))
    /* Translators: chat day heading within this year, a g_date_time_format() pattern */
    return g_date_time_format (local, C_("chat day", "%A, %-d %B"));

  /* Translators: chat day heading of an earlier year, a g_date_time_format() pattern */
  return g_date_time_format (local, C_("chat day", "%A, %-d %B %Y"));
}

/* ---------------------------------------------------------------------------------------- */
/* Showing a message */

static void
update_text (WzChatMessageRow *self)
{
  const char *text = wz_chat_message_get_text (self->message);
  g_autofree char *markup = wz_chat_message_row_build_markup (text,
                                                              wz_chat_message_get_highlight (self->message),
                                                              wz_chat_message_get_current_match (self->message));

  gtk_label_set_markup (self->text_label, markup);
  gtk_widget_set_visible (GTK_WIDGET (self->text_label), *text != '\0');
  /* What the label shows once Pango has read the markup: the test compares it with what was
   * sent, character for character. */
  wz_test_report ("chat-row-text uuid=%s shown=%s", wz_chat_message_get_uuid (self->message) ?: "",
                  gtk_label_get_text (self->text_label));
}

static void
update_day (WzChatMessageRow *self)
{
  gboolean first = wz_chat_message_get_first_of_day (self->message);

  if (first)
    {
      g_autoptr(GDateTime) now = g_date_time_new_now_local ();
      g_autofree char *day = wz_chat_message_row_format_day (wz_chat_message_get_sent (self->message), now);

      gtk_label_set_text (self->day_label, day);
      wz_test_report ("chat-day uuid=%s label=%s", wz_chat_message_get_uuid (self->message) ?: "", day);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->day_label), first);
}

static void
update_state (WzChatMessageRow *self)
{
  WzChatMessageState state = wz_chat_message_get_state (self->message);
  const char *icon = NULL;
  const char *label = NULL;
  const char *problem = NULL;

  gtk_widget_remove_css_class (GTK_WIDGET (self->state_icon), "read");
  gtk_widget_remove_css_class (GTK_WIDGET (self->problem_label), "error");
  gtk_widget_remove_css_class (GTK_WIDGET (self->problem_label), "dim-label");

  switch (state)
    {
    case WZ_CHAT_MESSAGE_SENDING:
      icon = "document-open-recent-symbolic";
      label = _("Sending");
      break;
    case WZ_CHAT_MESSAGE_WAITING:
      icon = "network-offline-symbolic";
      label = _("Waiting to send");
      /* The banner above the conversation says why and what happens next. */
      problem = label;
      gtk_widget_add_css_class (GTK_WIDGET (self->problem_label), "dim-label");
      break;
    case WZ_CHAT_MESSAGE_FAILED:
      icon = "dialog-error-symbolic";
      label = _("Not sent");
      problem = wz_chat_message_get_error (self->message);
      if (problem == NULL)
        problem = _("The server refused this message.");
      gtk_widget_add_css_class (GTK_WIDGET (self->problem_label), "error");
      break;
    case WZ_CHAT_MESSAGE_SENT:
      icon = "wz-chat-sent-symbolic";
      label = _("Sent");
      break;
    case WZ_CHAT_MESSAGE_DELIVERED:
      icon = "wz-chat-delivered-symbolic";
      label = _("Delivered");
      break;
    case WZ_CHAT_MESSAGE_READ:
      icon = "wz-chat-delivered-symbolic";
      label = _("Read");
      gtk_widget_add_css_class (GTK_WIDGET (self->state_icon), "read");
      break;
    case WZ_CHAT_MESSAGE_RECEIVED:
    default:
      break;
    }

  gtk_widget_set_visible (GTK_WIDGET (self->state_icon), icon != NULL);
  if (icon != NULL)
    {
      gtk_image_set_from_icon_name (self->state_icon, icon);
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->state_icon), label);
      gtk_accessible_update_property (GTK_ACCESSIBLE (self->state_icon),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
    }

  gtk_widget_set_visible (GTK_WIDGET (self->problem_box), problem != NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->retry_button), state == WZ_CHAT_MESSAGE_FAILED);
  if (problem != NULL)
    gtk_label_set_text (self->problem_label, problem);
}

static void
on_message_notify (WzChatMessageRow *self,
                   GParamSpec       *pspec,
                   WzChatMessage    *message)
{
  const char *name = g_param_spec_get_name (pspec);

  if (g_str_equal (name, "state") || g_str_equal (name, "error"))
    update_state (self);
  else if (g_str_equal (name, "first-of-day"))
    update_day (self);
  else if (g_str_equal (name, "text") || g_str_equal (name, "highlight"))
    update_text (self);
}

/* ---------------------------------------------------------------------------------------- */
/* Attachments */

typedef struct
{
  WzChatMessageRow *self;
  GtkWidget        *target;
  JsonObject       *attachment;
  char             *key;
} AttachmentLoad;

static void
attachment_load_free (AttachmentLoad *load)
{
  g_clear_object (&load->self);
  g_clear_object (&load->target);
  g_clear_pointer (&load->attachment, json_object_unref);
  g_free (load->key);
  g_free (load);
}

static GtkWidget *file_button (WzChatMessageRow *self,
                               JsonObject       *attachment,
                               guint             index);

static void
show_picture (WzChatMessageRow *self,
              GtkPicture       *picture,
              const char       *key,
              GBytes           *bytes)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkTexture) texture = wz_chat_media_texture (self->media, key, bytes, &error);
  int width, height;
  double scale;

  if (texture == NULL)
    {
      GtkWidget *button = gtk_widget_get_parent (GTK_WIDGET (picture));
      guint index = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (button), "attachment-index"));
      JsonObject *attachment = wz_chat_message_get_attachment (self->message, index);

      /* Not a picture after all: offered as a file, not as an empty frame. */
      g_debug ("Picture %s not shown: %s", key, error->message);
      gtk_widget_set_visible (button, FALSE);
      if (attachment != NULL)
        gtk_box_append (self->attachments_box, file_button (self, attachment, index));
      return;
    }

  /* A thumbnail: at most 240 × 200, never enlarged. */
  width = gdk_texture_get_width (texture);
  height = gdk_texture_get_height (texture);
  scale = MIN (1.0, MIN (240.0 / MAX (width, 1), 200.0 / MAX (height, 1)));
  gtk_widget_set_size_request (GTK_WIDGET (picture), MAX (1, (int) (width * scale)),
                               MAX (1, (int) (height * scale)));
  gtk_picture_set_paintable (picture, GDK_PAINTABLE (texture));
  wz_test_report ("chat-thumbnail key=%s width=%d height=%d", key, width, height);
}

static const char *
suffix_for (const char *content_type)
{
  if (g_strcmp0 (content_type, "audio/ogg") == 0)
    return ".ogg";
  if (g_strcmp0 (content_type, "audio/webm") == 0)
    return ".webm";
  return "";
}

static void
show_audio (WzChatMessageRow *self,
            GtkMediaControls *controls,
            JsonObject       *attachment,
            GBytes           *bytes)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = wz_chat_media_save_temporary (bytes,
                                                        suffix_for (wz_json_string (attachment, "contentType")),
                                                        &error);
  g_autoptr(GtkMediaStream) stream = NULL;

  if (path == NULL)
    {
      g_warning ("Cannot prepare a voice note for playing: %s", error->message);
      return;
    }

  stream = gtk_media_file_new_for_filename (path);
  gtk_media_controls_set_media_stream (controls, stream);
  g_ptr_array_add (self->temporary_files, g_steal_pointer (&path));
}

static void
on_attachment_loaded (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  AttachmentLoad *load = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = wz_chat_media_load_finish (WZ_CHAT_MEDIA (object), result, &error);

  if (bytes == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("Attachment %s not loaded: %s", load->key, error->message);
      attachment_load_free (load);
      return;
    }

  if (GTK_IS_PICTURE (load->target))
    show_picture (load->self, GTK_PICTURE (load->target), load->key, bytes);
  else if (GTK_IS_MEDIA_CONTROLS (load->target))
    show_audio (load->self, GTK_MEDIA_CONTROLS (load->target), load->attachment, bytes);
  attachment_load_free (load);
}

static void
load_attachment (WzChatMessageRow *self,
                 GtkWidget        *target,
                 JsonObject       *attachment,
                 guint             index)
{
  GBytes *local = wz_chat_message_get_attachment_bytes (self->message, index);
  const char *url = wz_json_string (attachment, "url");
  g_autofree char *key = url != NULL ? g_strdup (url)
                                     : g_strdup_printf ("%s#%u", wz_chat_message_get_uuid (self->message), index);
  AttachmentLoad *load;

  if (local != NULL || (url != NULL && wz_chat_media_lookup (self->media, url) != NULL))
    {
      GBytes *bytes = local != NULL ? local : wz_chat_media_lookup (self->media, url);

      if (GTK_IS_PICTURE (target))
        show_picture (self, GTK_PICTURE (target), key, bytes);
      else
        show_audio (self, GTK_MEDIA_CONTROLS (target), attachment, bytes);
      return;
    }
  if (url == NULL)
    return;

  load = g_new0 (AttachmentLoad, 1);
  load->self = g_object_ref (self);
  load->target = g_object_ref (target);
  load->attachment = json_object_ref (attachment);
  load->key = g_steal_pointer (&key);
  wz_chat_media_load_async (self->media, url, self->cancellable, on_attachment_loaded, load);
}

static void
on_attachment_clicked (GtkButton        *button,
                       WzChatMessageRow *self)
{
  guint index = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (button), "attachment-index"));
  JsonObject *attachment;

  if (self->message == NULL)
    return;
  attachment = wz_chat_message_get_attachment (self->message, index);
  if (attachment == NULL)
    return;

  wz_test_report ("chat-open-attachment type=%s title=%s",
                  wz_json_string (attachment, "contentType"), wz_json_string (attachment, "title"));
  wz_chat_media_open (self->media, GTK_WIDGET (self), attachment,
                      wz_chat_message_get_attachment_bytes (self->message, index));
}

static GtkWidget *
file_button (WzChatMessageRow *self,
             JsonObject       *attachment,
             guint             index)
{
  const char *type = wz_json_string (attachment, "contentType");
  const char *title = wz_json_string (attachment, "title");
  GtkWidget *button = gtk_button_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  GtkWidget *labels = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *name;
  g_autofree char *tooltip = NULL;

  if (title == NULL)
    title = g_strcmp0 (type, "application/pdf") == 0 ? _("PDF document") : _("File");

  gtk_box_append (GTK_BOX (box), gtk_image_new_from_icon_name ("x-office-document-symbolic"));
  name = gtk_label_new (title);
  gtk_label_set_ellipsize (GTK_LABEL (name), PANGO_ELLIPSIZE_MIDDLE);
  gtk_label_set_xalign (GTK_LABEL (name), 0);
  gtk_label_set_max_width_chars (GTK_LABEL (name), 32);
  gtk_box_append (GTK_BOX (labels), name);
  if (json_object_has_member (attachment, "size"))
    {
      g_autofree char *size = g_format_size ((guint64) json_object_get_int_member (attachment, "size"));
      GtkWidget *size_label = gtk_label_new (size);

      gtk_label_set_xalign (GTK_LABEL (size_label), 0);
      gtk_widget_add_css_class (size_label, "caption");
      gtk_widget_add_css_class (size_label, "dim-label");
      gtk_box_append (GTK_BOX (labels), size_label);
    }
  gtk_box_append (GTK_BOX (box), labels);
  gtk_button_set_child (GTK_BUTTON (button), box);

  /* Translators: tooltip of a file in the chat; %s is its name */
  tooltip = g_strdup_printf (_("Open %s"), title);
  gtk_widget_set_tooltip_text (button, tooltip);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, tooltip, -1);
  gtk_widget_add_css_class (button, "chat-file");
  g_object_set_data (G_OBJECT (button), "attachment-index", GUINT_TO_POINTER (index));
  g_signal_connect (button, "clicked", G_CALLBACK (on_attachment_clicked), self);

  return button;
}

static void
build_attachments (WzChatMessageRow *self)
{
  GtkWidget *child;
  guint n = wz_chat_message_get_n_attachments (self->message);

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->attachments_box))) != NULL)
    gtk_box_remove (self->attachments_box, child);

  for (guint i = 0; i < n; i++)
    {
      JsonObject *attachment = wz_chat_message_get_attachment (self->message, i);
      const char *type = wz_json_string (attachment, "contentType");
      const char *title = wz_json_string (attachment, "title");

      if (type != NULL && g_str_has_prefix (type, "image/"))
        {
          GtkWidget *button = gtk_button_new ();
          GtkWidget *picture = gtk_picture_new ();
          g_autofree char *label = NULL;

          gtk_widget_set_size_request (picture, 160, 120);
          gtk_picture_set_can_shrink (GTK_PICTURE (picture), TRUE);
          gtk_button_set_child (GTK_BUTTON (button), picture);
          gtk_widget_add_css_class (button, "chat-picture");
          gtk_widget_add_css_class (button, "flat");
          gtk_widget_set_halign (button, GTK_ALIGN_START);
          /* Translators: accessible name of a picture in the chat; %s is its file name */
          label = g_strdup_printf (_("Picture %s, open full size"), title != NULL ? title : "");
          gtk_widget_set_tooltip_text (button, _("Open full size"));
          gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
          g_object_set_data (G_OBJECT (button), "attachment-index", GUINT_TO_POINTER (i));
          g_signal_connect (button, "clicked", G_CALLBACK (on_attachment_clicked), self);
          gtk_box_append (self->attachments_box, button);
          load_attachment (self, picture, attachment, i);
        }
      else if (type != NULL && g_str_has_prefix (type, "audio/"))
        {
          GtkWidget *controls = gtk_media_controls_new (NULL);

          gtk_widget_set_size_request (controls, 260, -1);
          gtk_accessible_update_property (GTK_ACCESSIBLE (controls), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                          _("Voice note"), -1);
          gtk_widget_set_tooltip_text (controls, _("Voice note"));
          gtk_box_append (self->attachments_box, controls);
          load_attachment (self, controls, attachment, i);
        }
      else
        gtk_box_append (self->attachments_box, file_button (self, attachment, i));
    }

  gtk_widget_set_visible (GTK_WIDGET (self->attachments_box), n > 0);
}

static void
drop_temporary_files (WzChatMessageRow *self)
{
  for (guint i = 0; i < self->temporary_files->len; i++)
    g_unlink (g_ptr_array_index (self->temporary_files, i));
  g_ptr_array_set_size (self->temporary_files, 0);
}

/* ---------------------------------------------------------------------------------------- */
/* Public */

void
wz_chat_message_row_set_message (WzChatMessageRow *self,
                                 WzChatMessage    *message)
{
  gboolean outgoing;

  g_return_if_fail (WZ_IS_CHAT_MESSAGE_ROW (self));

  if (self->message == message)
    return;

  if (self->message != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->message, self);
      g_clear_object (&self->message);
    }
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  drop_temporary_files (self);

  if (message == NULL)
    return;

  self->message = g_object_ref (message);
  self->cancellable = g_cancellable_new ();
  g_signal_connect_swapped (message, "notify", G_CALLBACK (on_message_notify), self);

  outgoing = wz_chat_message_get_outgoing (message);
  gtk_widget_set_halign (GTK_WIDGET (self->bubble), outgoing ? GTK_ALIGN_END : GTK_ALIGN_START);
  if (outgoing)
    {
      gtk_widget_add_css_class (GTK_WIDGET (self->bubble), "outgoing");
      gtk_widget_remove_css_class (GTK_WIDGET (self->bubble), "incoming");
    }
  else
    {
      gtk_widget_add_css_class (GTK_WIDGET (self->bubble), "incoming");
      gtk_widget_remove_css_class (GTK_WIDGET (self->bubble), "outgoing");
    }

  {
    g_autofree char *time = wz_chat_message_row_format_time (wz_chat_message_get_sent (message));

    gtk_label_set_text (self->time_label, time);
  }

  update_day (self);
  update_text (self);
  update_state (self);
  build_attachments (self);
}

WzChatMessage *
wz_chat_message_row_get_message (WzChatMessageRow *self)
{
  g_return_val_if_fail (WZ_IS_CHAT_MESSAGE_ROW (self), NULL);

  return self->message;
}

static gboolean
on_activate_link (WzChatMessageRow *self,
                  const char       *uri,
                  GtkLabel         *label)
{
  g_autofree char *scheme = g_uri_parse_scheme (uri);

  /* Only web pages open from a message; anything else a sender could dress up as a link
   * (file:, custom handlers) does nothing. */
  wz_test_report ("chat-link uri=%s", uri);
  if (scheme == NULL || (g_ascii_strcasecmp (scheme, "https") != 0
                         && g_ascii_strcasecmp (scheme, "http") != 0))
    return TRUE;
  if (wz_test_report_enabled ())
    return TRUE;

  return FALSE;
}

static void
on_retry_clicked (WzChatMessageRow *self)
{
  if (self->message != NULL)
    g_signal_emit (self, signals[RETRY], 0, self->message);
}

/* ---------------------------------------------------------------------------------------- */
/* GObject */

static void
wz_chat_message_row_dispose (GObject *object)
{
  WzChatMessageRow *self = WZ_CHAT_MESSAGE_ROW (object);

  wz_chat_message_row_set_message (self, NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), WZ_TYPE_CHAT_MESSAGE_ROW);
  g_clear_object (&self->media);
  g_clear_pointer (&self->temporary_files, g_ptr_array_unref);

  G_OBJECT_CLASS (wz_chat_message_row_parent_class)->dispose (object);
}

static void
wz_chat_message_row_class_init (WzChatMessageRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = wz_chat_message_row_dispose;

  /**
   * WzChatMessageRow::retry:
   * @message: the failed message to send again
   */
  signals[RETRY] =
    g_signal_new ("retry", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, WZ_TYPE_CHAT_MESSAGE);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/wenzhen/Wenzhen/wz-chat-message-row.ui");
  gtk_widget_class_bind_template_child (widget_class, WzChatMessageRow, box);
  gtk_widget_class_bind_template_child (widget_class, WzChatMessageRow, day_label);
  gtk_widget_class_bind_template_child (widget_class, WzChatMessageRow, bubble);
  gtk_widget_class_bind_template_child (widget_class, WzChatMessageRow, attachments_box);
  gtk_widget_class_bind_template_child (widget_class, WzChatMessageRow, text_label);
  gtk_widget_class_bind_template_child (widget_class, WzChatMessageRow, time_label);
  gtk_widget_class_bind_template_child (widget_class, WzChatMessageRow, state_icon);
  gtk_widget_class_bind_template_child (widget_class, WzChatMessageRow, problem_box);
  gtk_widget_class_bind_template_child (widget_class, WzChatMessageRow, problem_label);
  gtk_widget_class_bind_template_child (widget_class, WzChatMessageRow, retry_button);
  gtk_widget_class_bind_template_callback (widget_class, on_activate_link);
  gtk_widget_class_bind_template_callback (widget_class, on_retry_clicked);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "chatmessagerow");
}

static void
wz_chat_message_row_init (WzChatMessageRow *self)
{
  self->temporary_files = g_ptr_array_new_with_free_func (g_free);
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
wz_chat_message_row_new (WzChatMedia *media)
{
  WzChatMessageRow *self = g_object_new (WZ_TYPE_CHAT_MESSAGE_ROW, NULL);

  self->media = g_object_ref (media);
  return GTK_WIDGET (self);
}
