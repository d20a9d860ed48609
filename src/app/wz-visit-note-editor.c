/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-visit-note-editor"

#include "config.h"

#include "wz-visit-note-editor.h"

#include <adwaita.h>
#include <errno.h>
#include <string.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "wz-draft-store.h"
#include "wz-fhir-json.h"
#include "wz-icd10-index.h"
#include "wz-icd10-search.h"
#include "wz-id.h"
#include "wz-test-report.h"
#include "wz-time.h"

/* The doctor's note of one visit: chief complaint, history, ICD-10 diagnoses and advice.
 *
 * Nothing typed may be lost. Every change is first written to a draft file on this computer
 * (written to a temporary file, flushed to disk and renamed over the old draft), and only after
 * that, a second after typing stops, sent to the server as the visit's DocumentReference
 * (docStatus preliminary). A crash or kill loses at most the keystroke being written; on reopening
 * the visit, the draft wins when it is newer than the server's copy. */
struct _WzVisitNoteEditor
{
  GtkWidget          parent_instance;

  GtkScrolledWindow *scroller;
  GtkLabel          *save_label;
  GtkLabel          *readonly_label;
  AdwEntryRow       *chief_row;
  GtkTextView       *history_view;
  GtkTextView       *advice_view;
  GtkListBox        *diagnoses_list;
  WzIcd10Search     *icd_search;

  WzApiClient       *client;
  GListStore        *diagnoses;
  GCancellable      *cancellable;

  char              *encounter_id;
  char              *encounter_ref;
  char              *patient_ref;
  char              *identifier;
  JsonObject        *document;       /* the server's latest version of the note */
  JsonNode          *local_draft;    /* while loading */
  JsonNode          *server_bundle;  /* while loading */
  guint              load_pending;

  gboolean           editable;
  gboolean           applying;       /* filling in fields: not an edit */
  gint64             edited_us;
  guint              generation;     /* bumped on every edit */

  gboolean           local_writing;
  gboolean           local_dirty;
  gboolean           net_saving;
  gboolean           net_waits_for_local;
  guint              net_saved_generation;
  guint              net_timeout_id;
  GPtrArray         *flush_waiters;
};

G_DEFINE_FINAL_TYPE (WzVisitNoteEditor, wz_visit_note_editor, GTK_TYPE_WIDGET)

enum {
  CONFLICT,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

#define NETWORK_DELAY_MS   1000
#define NETWORK_RETRY_S    10
#define LOINC              "http://loinc.org"

static void start_local_save (WzVisitNoteEditor *self);
static void start_network_save (WzVisitNoteEditor *self);

/* ---------------------------------------------------------------------------------------- */
/* The note as text */

static char *
buffer_text (GtkTextView *view)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (view);
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);

  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}

char *
wz_visit_note_to_markdown (const char         *chief,
                           const char         *history,
                           const char * const *diagnoses,
                           const char         *advice)
{
  GString *text = g_string_new (NULL);

  /* Section names stay English: they are the stored format other programs read, not UI. */
  g_string_append_printf (text, "## Chief complaint\n\n%s\n\n", chief != NULL ? chief : "");
  g_string_append_printf (text, "## History\n\n%s\n\n", history != NULL ? history : "");
  g_string_append (text, "## Diagnosis\n\n");
  for (guint i = 0; diagnoses != NULL && diagnoses[i] != NULL; i++)
    g_string_append_printf (text, "- %s\n", diagnoses[i]);
  g_string_append_printf (text, "\n## Advice\n\n%s\n", advice != NULL ? advice : "");

  return g_string_free (text, FALSE);
}

gboolean
wz_visit_note_from_markdown (const char  *markdown,
                             char       **chief,
                             char       **history,
                             GStrv       *diagnoses,
                             char       **advice)
{
  g_auto(GStrv) lines = NULL;
  GString *sections[4] = { NULL, };
  g_autoptr(GStrvBuilder) diag = g_strv_builder_new ();
  int current = -1;
  gboolean found = FALSE;

  if (markdown == NULL)
    return FALSE;

  for (guint i = 0; i < 4; i++)
    sections[i] = g_string_new (NULL);

  lines = g_strsplit (markdown, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *line = lines[i];

      if (g_str_has_prefix (line, "## "))
        {
          const char *name = line + 3;

          current = g_ascii_strncasecmp (name, "Chief", 5) == 0 ? 0
                  : g_ascii_strncasecmp (name, "History", 7) == 0 ? 1
                  : g_ascii_strncasecmp (name, "Diagnos", 7) == 0 ? 2
                  : g_ascii_strncasecmp (name, "Advice", 6) == 0 ? 3 : -1;
          found |= current >= 0;
          continue;
        }
      if (current == 2)
        {
          if (g_str_has_prefix (line, "- ") && line[2] != '\0')
            g_strv_builder_add (diag, line + 2);
          continue;
        }
      if (current >= 0)
        {
          g_string_append (sections[current], line);
          g_string_append_c (sections[current], '\n');
        }
    }

  for (guint i = 0; i < 4; i++)
    g_strstrip (sections[i]->str), g_string_set_size (sections[i], strlen (sections[i]->str));

  *chief = g_string_free (sections[0], FALSE);
  *history = g_string_free (sections[1], FALSE);
  g_string_free (sections[2], TRUE);
  *advice = g_string_free (sections[3], FALSE);
  *diagnoses = g_strv_builder_end (diag);

  return found;
}

/* "J44.9 Chronic obstructive … / 慢性阻塞性肺病" for the stored note. */
static char *
diagnosis_line (WzIcd10Entry *entry)
{
  const char *en = wz_icd10_entry_get_title_en (entry);
  const char *zh = wz_icd10_entry_get_title_zh (entry);

  if (*zh == '\0')
    return g_strdup_printf ("%s %s", wz_icd10_entry_get_code (entry), en);

  return g_strdup_printf ("%s %s / %s", wz_icd10_entry_get_code (entry), en, zh);
}

static WzIcd10Entry *
entry_from_line (const char *line)
{
  g_auto(GStrv) parts = g_strsplit (line, " ", 2);
  g_auto(GStrv) titles = NULL;
  WzIcd10Index *index = wz_icd10_index_get_default ();
  WzIcd10Entry *known;

  if (parts[0] == NULL || *parts[0] == '\0')
    return NULL;

  known = wz_icd10_index_lookup (index, parts[0]);
  if (known != NULL)
    return g_object_ref (known);

  titles = g_strsplit (parts[1] != NULL ? parts[1] : "", " / ", 2);

  return wz_icd10_entry_new (parts[0], titles[0], titles[0] != NULL ? titles[1] : NULL);
}

static GStrv
diagnosis_lines (WzVisitNoteEditor *self)
{
  g_autoptr(GStrvBuilder) lines = g_strv_builder_new ();

  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (self->diagnoses)); i++)
    {
      g_autoptr(WzIcd10Entry) entry = g_list_model_get_item (G_LIST_MODEL (self->diagnoses), i);
      g_autofree char *line = diagnosis_line (entry);

      g_strv_builder_add (lines, line);
    }

  return g_strv_builder_end (lines);
}

static char *
current_markdown (WzVisitNoteEditor *self)
{
  g_autofree char *history = buffer_text (self->history_view);
  g_autofree char *advice = buffer_text (self->advice_view);
  g_auto(GStrv) lines = diagnosis_lines (self);

  return wz_visit_note_to_markdown (gtk_editable_get_text (GTK_EDITABLE (self->chief_row)),
                                    history, (const char * const *) lines, advice);
}

static void
apply_note (WzVisitNoteEditor  *self,
            const char         *chief,
            const char         *history,
            const char * const *diagnoses,
            const char         *advice)
{
  self->applying = TRUE;
  gtk_editable_set_text (GTK_EDITABLE (self->chief_row), chief != NULL ? chief : "");
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->history_view),
                            history != NULL ? history : "", -1);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->advice_view),
                            advice != NULL ? advice : "", -1);
  g_list_store_remove_all (self->diagnoses);
  for (guint i = 0; diagnoses != NULL && diagnoses[i] != NULL; i++)
    {
      g_autoptr(WzIcd10Entry) entry = entry_from_line (diagnoses[i]);

      if (entry != NULL)
        g_list_store_append (self->diagnoses, entry);
    }
  self->applying = FALSE;
}

/* ---------------------------------------------------------------------------------------- */
/* The save state line */

static void
set_save_label (WzVisitNoteEditor *self,
                const char        *text)
{
  gtk_label_set_text (self->save_label, text);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->save_label), text);
}

static void
show_saved_at (WzVisitNoteEditor *self)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *time = g_date_time_format (now, "%H:%M");
  /* Translators: %s is a time such as 10:21 */
  g_autofree char *text = g_strdup_printf (_("Draft saved at %s"), time);

  set_save_label (self, text);
}

/* ---------------------------------------------------------------------------------------- */
/* The local draft */

char *
wz_visit_note_draft_path (const char *encounter_id)
{
  return wz_draft_store_path (encounter_id);
}

static JsonNode *
draft_json (WzVisitNoteEditor *self)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autofree char *history = buffer_text (self->history_view);
  g_autofree char *advice = buffer_text (self->advice_view);
  g_auto(GStrv) lines = diagnosis_lines (self);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "encounter");
  json_builder_add_string_value (b, self->encounter_ref);
  json_builder_set_member_name (b, "identifier");
  json_builder_add_string_value (b, self->identifier);
  json_builder_set_member_name (b, "edited_us");
  json_builder_add_int_value (b, self->edited_us);
  json_builder_set_member_name (b, "chief_complaint");
  json_builder_add_string_value (b, gtk_editable_get_text (GTK_EDITABLE (self->chief_row)));
  json_builder_set_member_name (b, "history");
  json_builder_add_string_value (b, history);
  json_builder_set_member_name (b, "diagnoses");
  json_builder_begin_array (b);
  for (guint i = 0; lines[i] != NULL; i++)
    json_builder_add_string_value (b, lines[i]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "advice");
  json_builder_add_string_value (b, advice);
  json_builder_end_object (b);

  return json_builder_get_root (b);
}

typedef struct
{
  char   *path;
  char   *encounter_id;
  GBytes *data;
} DraftWrite;

static void
draft_write_free (DraftWrite *write)
{
  g_free (write->path);
  g_free (write->encounter_id);
  g_bytes_unref (write->data);
  g_free (write);
}

static void
write_draft_in_thread (GTask        *task,
                       gpointer      source_object,
                       gpointer      task_data,
                       GCancellable *cancellable)
{
  DraftWrite *write = task_data;
  g_autoptr(GError) error = NULL;
  gsize size;
  const char *data = g_bytes_get_data (write->data, &size);

  if (!wz_draft_store_write (write->path, data, size, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  g_task_return_boolean (task, TRUE);
}

static void
on_draft_written (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(WzVisitNoteEditor) self = user_data;
  g_autoptr(GError) error = NULL;
  DraftWrite *write = g_task_get_task_data (G_TASK (result));

  self->local_writing = FALSE;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_autofree char *text = g_strdup_printf (_("The draft could not be saved on this computer: %s"),
                                               error->message);

      g_warning ("Draft %s not written: %s", write->path, error->message);
      set_save_label (self, text);
    }
  else
    wz_test_report ("note-draft-local encounter=%s", write->encounter_id);

  /* A draft for a visit that is no longer open in the editor is done with here. */
  if (g_strcmp0 (write->encounter_id, self->encounter_id) != 0)
    return;

  if (self->local_dirty)
    start_local_save (self);
  else if (self->net_waits_for_local)
    {
      self->net_waits_for_local = FALSE;
      start_network_save (self);
    }
}

static void
start_local_save (WzVisitNoteEditor *self)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(JsonNode) json = NULL;
  DraftWrite *write;
  char *text;

  if (self->local_writing || self->encounter_id == NULL)
    return;

  self->local_writing = TRUE;
  self->local_dirty = FALSE;

  json = draft_json (self);
  text = json_to_string (json, FALSE);
  write = g_new0 (DraftWrite, 1);
  write->path = wz_visit_note_draft_path (self->encounter_id);
  write->encounter_id = g_strdup (self->encounter_id);
  write->data = g_bytes_new_take (text, strlen (text));

  /* Not cancellable: a draft once started is finished even if the doctor moves on. */
  task = g_task_new (NULL, NULL, on_draft_written, g_object_ref (self));
  g_task_set_source_tag (task, start_local_save);
  g_task_set_task_data (task, write, (GDestroyNotify) draft_write_free);
  g_task_run_in_thread (task, write_draft_in_thread);
}

static void
read_draft_in_thread (GTask        *task,
                      gpointer      source_object,
                      gpointer      task_data,
                      GCancellable *cancellable)
{
  g_task_return_pointer (task, wz_draft_store_read (task_data), (GDestroyNotify) json_node_unref);
}

/* ---------------------------------------------------------------------------------------- */
/* The server copy */

static GBytes *
base64_bytes (const char *text)
{
  gsize length = 0;
  guchar *data = g_base64_decode (text, &length);

  return g_bytes_new_take (data, length);
}

static char *
document_markdown (JsonObject *document)
{
  JsonObject *attachment = wz_json_object (wz_json_array_object (wz_json_array (document, "content"), 0),
                                           "attachment");
  const char *data = wz_json_string (attachment, "data");
  g_autoptr(GBytes) bytes = NULL;
  gsize size;
  const char *raw;

  if (data == NULL)
    return NULL;

  bytes = base64_bytes (data);
  raw = g_bytes_get_data (bytes, &size);
  if (!g_utf8_validate_len (raw, size, NULL))
    return NULL;

  return g_strndup (raw, size);
}

static gboolean
is_consult_note (JsonObject *document)
{
  return g_strcmp0 (wz_concept_code (wz_json_object (document, "type"), LOINC), WZ_CONSULT_NOTE_LOINC) == 0
    && g_strcmp0 (wz_json_string (document, "status"), "entered-in-error") != 0;
}

static JsonObject *
document_body (WzVisitNoteEditor *self,
               const char        *doc_status)
{
  g_autofree char *markdown = current_markdown (self);
  g_autofree char *encoded = g_base64_encode ((const guchar *) markdown, strlen (markdown));
  g_autofree char *now = wz_time_format_instant (wz_time_now_us ());
  WzSession *session = wz_api_client_get_session (self->client);
  JsonObject *doc = self->document != NULL ? wz_json_object_copy (self->document) : json_object_new ();
  JsonObject *type, *coding, *attachment, *content, *context, *reference, *subject;
  JsonArray *codings, *contents, *encounters, *identifiers, *authors;

  json_object_remove_member (doc, "meta");
  json_object_set_string_member (doc, "resourceType", "DocumentReference");
  if (!json_object_has_member (doc, "identifier"))
    {
      JsonObject *identifier = json_object_new ();

      identifiers = json_array_new ();
      json_object_set_string_member (identifier, "system", "urn:ietf:rfc:3986");
      json_object_set_string_member (identifier, "value", self->identifier);
      json_array_add_object_element (identifiers, identifier);
      json_object_set_array_member (doc, "identifier", identifiers);
    }
  json_object_set_string_member (doc, "status", "current");
  json_object_set_string_member (doc, "docStatus", doc_status);

  type = json_object_new ();
  codings = json_array_new ();
  coding = json_object_new ();
  json_object_set_string_member (coding, "system", LOINC);
  json_object_set_string_member (coding, "code", WZ_CONSULT_NOTE_LOINC);
  json_object_set_string_member (coding, "display", "Consult note");
  json_array_add_object_element (codings, coding);
  json_object_set_array_member (type, "coding", codings);
  json_object_set_object_member (doc, "type", type);

  subject = json_object_new ();
  json_object_set_string_member (subject, "reference", self->patient_ref);
  json_object_set_object_member (doc, "subject", subject);
  json_object_set_string_member (doc, "date", now);

  if (session != NULL && wz_session_get_practitioner (session) != NULL)
    {
      JsonObject *author = json_object_new ();

      authors = json_array_new ();
      json_object_set_string_member (author, "reference", wz_session_get_practitioner (session));
      json_array_add_object_element (authors, author);
      json_object_set_array_member (doc, "author", authors);
    }

  attachment = json_object_new ();
  json_object_set_string_member (attachment, "contentType", "text/markdown");
  json_object_set_string_member (attachment, "language", "zh-CN");
  json_object_set_string_member (attachment, "data", encoded);
  json_object_set_string_member (attachment, "title", "Visit note");
  content = json_object_new ();
  json_object_set_object_member (content, "attachment", attachment);
  contents = json_array_new ();
  json_array_add_object_element (contents, content);
  json_object_set_array_member (doc, "content", contents);

  context = json_object_new ();
  encounters = json_array_new ();
  reference = json_object_new ();
  json_object_set_string_member (reference, "reference", self->encounter_ref);
  json_array_add_object_element (encounters, reference);
  json_object_set_array_member (context, "encounter", encounters);
  json_object_set_object_member (doc, "context", context);

  return doc;
}

static void
finish_flush_waiters (WzVisitNoteEditor *self,
                      const GError      *error)
{
  g_autoptr(GPtrArray) waiters = g_steal_pointer (&self->flush_waiters);

  self->flush_waiters = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; waiters != NULL && i < waiters->len; i++)
    {
      if (error != NULL)
        g_task_return_error (waiters->pdata[i], g_error_copy (error));
      else
        g_task_return_boolean (waiters->pdata[i], TRUE);
    }
}

static gboolean
on_network_timeout (gpointer user_data)
{
  WzVisitNoteEditor *self = user_data;

  self->net_timeout_id = 0;
  start_network_save (self);

  return G_SOURCE_REMOVE;
}

static void
schedule_network_save (WzVisitNoteEditor *self,
                       guint              delay_ms)
{
  g_clear_handle_id (&self->net_timeout_id, g_source_remove);
  self->net_timeout_id = g_timeout_add (delay_ms, on_network_timeout, self);
}

typedef struct
{
  WzVisitNoteEditor *self;
  guint              generation;
  char              *encounter_id;
} NetSave;

static void
net_save_free (NetSave *save)
{
  g_object_unref (save->self);
  g_free (save->encounter_id);
  g_free (save);
}

static void
on_latest_document (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(WzVisitNoteEditor) self = user_data;
  g_autoptr(JsonNode) node = wz_api_client_get_json_finish (WZ_API_CLIENT (object), result, NULL);

  if (node != NULL && JSON_NODE_HOLDS_OBJECT (node) && self->encounter_id != NULL)
    {
      g_clear_pointer (&self->document, json_object_unref);
      self->document = json_object_ref (json_node_get_object (node));
      schedule_network_save (self, NETWORK_DELAY_MS);
    }
}

static void
on_network_saved (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  NetSave *save = user_data;
  WzVisitNoteEditor *self = save->self;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = wz_api_client_send_json_finish (WZ_API_CLIENT (object), result, &error);

  self->net_saving = FALSE;

  /* The doctor has moved on to another visit; its own load took over. */
  if (g_strcmp0 (save->encounter_id, self->encounter_id) != 0)
    {
      net_save_free (save);
      return;
    }

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      if (error == NULL)
        g_set_error_literal (&error, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_NOT_WENZHEN,
                             _("The server’s answer was not the saved note."));

      if (g_error_matches (error, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_CONFLICT) && self->document != NULL)
        {
          g_autofree char *path = g_strconcat ("/fhir/DocumentReference/",
                                               wz_json_string (self->document, "id"), NULL);
          const char *message = _("Someone else changed this visit note. Your text is kept and saved as the newest version; the other version stays in the note’s history.");

          set_save_label (self, message);
          g_signal_emit (self, signals[CONFLICT], 0, message);
          wz_test_report ("note-conflict encounter=%s", self->encounter_id);
          wz_api_client_get_json_async (self->client, path, NULL, on_latest_document,
                                        g_object_ref (self));
        }
      else
        {
          g_autofree char *text =
            g_strdup_printf (_("Kept on this computer; not yet on the server: %s"), error->message);

          set_save_label (self, text);
          wz_test_report ("note-save-error encounter=%s error=%s", self->encounter_id,
                          wz_client_error_nick (error));
          schedule_network_save (self, NETWORK_RETRY_S * 1000);
        }

      finish_flush_waiters (self, error);
      net_save_free (save);
      return;
    }

  g_clear_pointer (&self->document, json_object_unref);
  self->document = json_object_ref (json_node_get_object (node));
  self->net_saved_generation = save->generation;
  show_saved_at (self);
  wz_test_report ("note-saved-server encounter=%s version=%s", self->encounter_id,
                  wz_resource_version (self->document));

  if (self->net_saved_generation != self->generation)
    {
      if (self->flush_waiters->len > 0)
        start_network_save (self);
      else
        schedule_network_save (self, NETWORK_DELAY_MS);
    }
  else
    finish_flush_waiters (self, NULL);

  net_save_free (save);
}

static void
start_network_save (WzVisitNoteEditor *self)
{
  g_autoptr(JsonObject) body = NULL;
  g_autoptr(JsonNode) node = NULL;
  NetSave *save;

  g_clear_handle_id (&self->net_timeout_id, g_source_remove);

  if (self->encounter_id == NULL || self->client == NULL || self->net_saving)
    return;

  /* The draft on disk first: the server may be slow or away, the disk is not. */
  if (self->local_writing || self->local_dirty)
    {
      self->net_waits_for_local = TRUE;
      if (!self->local_writing)
        start_local_save (self);
      return;
    }

  if (self->net_saved_generation == self->generation)
    {
      finish_flush_waiters (self, NULL);
      return;
    }

  self->net_saving = TRUE;
  set_save_label (self, _("Saving…"));

  save = g_new0 (NetSave, 1);
  save->self = g_object_ref (self);
  save->generation = self->generation;
  save->encounter_id = g_strdup (self->encounter_id);

  body = document_body (self, "preliminary");
  node = json_node_init_object (json_node_alloc (), body);
  if (self->document != NULL)
    {
      g_autofree char *path = g_strconcat ("/fhir/DocumentReference/",
                                           wz_json_string (self->document, "id"), NULL);

      wz_api_client_send_json_async (self->client, "PUT", path, node,
                                     wz_resource_version (self->document), NULL,
                                     on_network_saved, save);
    }
  else
    wz_api_client_send_json_async (self->client, "POST", "/fhir/DocumentReference", node, NULL,
                                   NULL, on_network_saved, save);
}

/* ---------------------------------------------------------------------------------------- */
/* Editing */

static void
on_edited (WzVisitNoteEditor *self)
{
  if (self->applying || self->encounter_id == NULL || !self->editable)
    return;

  self->edited_us = wz_time_now_us ();
  self->generation++;
  self->local_dirty = TRUE;
  start_local_save (self);
  set_save_label (self, _("Editing…"));
  schedule_network_save (self, NETWORK_DELAY_MS);
}

static void
on_diagnosis_picked (WzVisitNoteEditor *self,
                     WzIcd10Entry      *entry)
{
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (self->diagnoses)); i++)
    {
      g_autoptr(WzIcd10Entry) existing = g_list_model_get_item (G_LIST_MODEL (self->diagnoses), i);

      if (g_strcmp0 (wz_icd10_entry_get_code (existing), wz_icd10_entry_get_code (entry)) == 0)
        return;
    }

  g_list_store_append (self->diagnoses, entry);
  wz_test_report ("diagnosis-added code=%s n=%u", wz_icd10_entry_get_code (entry),
                  g_list_model_get_n_items (G_LIST_MODEL (self->diagnoses)));
}

static void
on_remove_diagnosis (GtkButton         *button,
                     WzVisitNoteEditor *self)
{
  WzIcd10Entry *entry = g_object_get_data (G_OBJECT (button), "entry");
  guint position;

  if (g_list_store_find (self->diagnoses, entry, &position))
    g_list_store_remove (self->diagnoses, position);
}

static GtkWidget *
create_diagnosis_row (gpointer item,
                      gpointer user_data)
{
  WzVisitNoteEditor *self = user_data;
  WzIcd10Entry *entry = item;
  g_autofree char *title = wz_icd10_entry_dup_title (entry);
  g_autofree char *label = NULL;
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *button;
  GtkWidget *code;

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);

  code = gtk_label_new (wz_icd10_entry_get_code (entry));
  gtk_label_set_width_chars (GTK_LABEL (code), 6);
  gtk_label_set_xalign (GTK_LABEL (code), 0);
  gtk_widget_add_css_class (code, "monospace");
  gtk_widget_add_css_class (code, "heading");
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), code);

  button = gtk_button_new_from_icon_name ("list-remove-symbolic");
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (button, "flat");
  gtk_widget_set_tooltip_text (button, _("Remove Diagnosis"));
  /* Translators: accessible name of the button; %s is an ICD-10 code */
  label = g_strdup_printf (_("Remove diagnosis %s"), wz_icd10_entry_get_code (entry));
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  gtk_widget_set_sensitive (button, self->editable);
  g_object_set_data_full (G_OBJECT (button), "entry", g_object_ref (entry), g_object_unref);
  g_signal_connect (button, "clicked", G_CALLBACK (on_remove_diagnosis), self);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);

  return row;
}

static void
on_diagnoses_changed (WzVisitNoteEditor *self,
                      guint              position,
                      guint              removed,
                      guint              added)
{
  gtk_widget_set_visible (GTK_WIDGET (self->diagnoses_list),
                          g_list_model_get_n_items (G_LIST_MODEL (self->diagnoses)) > 0);
  on_edited (self);
}

void
wz_visit_note_editor_set_editable (WzVisitNoteEditor *self,
                                   gboolean           editable)
{
  g_return_if_fail (WZ_IS_VISIT_NOTE_EDITOR (self));

  self->editable = editable;
  gtk_editable_set_editable (GTK_EDITABLE (self->chief_row), editable);
  /* Only the editable flag: GTK 4.8 asserts in its cursor blink when cursor-visible is turned
   * off under a focused, blinking text view. A text view that is not editable shows no cursor. */
  gtk_text_view_set_editable (self->history_view, editable);
  gtk_text_view_set_editable (self->advice_view, editable);
  gtk_widget_set_visible (GTK_WIDGET (self->icd_search), editable);
  gtk_widget_set_visible (GTK_WIDGET (self->readonly_label), !editable && self->encounter_id != NULL);

  /* Rows are made again so their remove buttons follow. */
  gtk_list_box_bind_model (self->diagnoses_list, G_LIST_MODEL (self->diagnoses),
                           create_diagnosis_row, self, NULL);
}

/* ---------------------------------------------------------------------------------------- */
/* Loading */

static gint64
instant_us (const char *text)
{
  gint64 us = 0;

  if (text == NULL || !wz_time_parse_instant (text, &us, NULL))
    return 0;

  return us;
}

static JsonObject *
pick_server_note (WzVisitNoteEditor *self)
{
  g_autoptr(GPtrArray) documents = wz_bundle_resources (self->server_bundle, "DocumentReference");
  JsonObject *best = NULL;

  for (guint i = 0; documents != NULL && i < documents->len; i++)
    {
      JsonObject *document = documents->pdata[i];

      if (!is_consult_note (document))
        continue;
      if (best == NULL || instant_us (wz_resource_last_updated (document))
                          > instant_us (wz_resource_last_updated (best)))
        best = document;
    }

  return best;
}

static GStrv
draft_diagnoses (JsonObject *draft)
{
  g_autoptr(GStrvBuilder) lines = g_strv_builder_new ();
  JsonArray *array = wz_json_array (draft, "diagnoses");

  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    {
      JsonNode *node = json_array_get_element (array, i);

      if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
        g_strv_builder_add (lines, json_node_get_string (node));
    }

  return g_strv_builder_end (lines);
}

static void
finish_loading (WzVisitNoteEditor *self)
{
  JsonObject *server = pick_server_note (self);
  JsonObject *draft = self->local_draft != NULL ? json_node_get_object (self->local_draft) : NULL;
  gint64 server_us = server != NULL ? instant_us (wz_resource_last_updated (server)) : 0;
  gint64 draft_us = 0;
  const char *source = "empty";

  if (draft != NULL && g_strcmp0 (wz_json_string (draft, "encounter"), self->encounter_ref) != 0)
    draft = NULL;
  if (draft != NULL && json_object_has_member (draft, "edited_us"))
    draft_us = json_object_get_int_member (draft, "edited_us");

  g_clear_pointer (&self->document, json_object_unref);
  if (server != NULL)
    {
      const char *value = wz_json_string (wz_json_array_object (wz_json_array (server, "identifier"), 0),
                                          "value");

      self->document = json_object_ref (server);
      if (value != NULL)
        {
          g_free (self->identifier);
          self->identifier = g_strdup (value);
        }
    }

  if (draft != NULL && self->editable && draft_us > server_us)
    {
      g_auto(GStrv) lines = draft_diagnoses (draft);
      const char *identifier = wz_json_string (draft, "identifier");

      if (server == NULL && identifier != NULL)
        {
          g_free (self->identifier);
          self->identifier = g_strdup (identifier);
        }
      apply_note (self, wz_json_string (draft, "chief_complaint"), wz_json_string (draft, "history"),
                  (const char * const *) lines, wz_json_string (draft, "advice"));
      self->edited_us = draft_us;
      /* What is only on this computer goes to the server as soon as possible. */
      self->generation++;
      schedule_network_save (self, 0);
      set_save_label (self, _("Restored the draft saved on this computer"));
      source = "local";
    }
  else if (server != NULL)
    {
      g_autofree char *markdown = document_markdown (server);
      g_autofree char *chief = NULL;
      g_autofree char *history = NULL;
      g_autofree char *advice = NULL;
      g_auto(GStrv) lines = NULL;

      if (markdown != NULL && wz_visit_note_from_markdown (markdown, &chief, &history, &lines, &advice))
        apply_note (self, chief, history, (const char * const *) lines, advice);
      else
        apply_note (self, NULL, markdown, NULL, NULL);
      if (g_strcmp0 (wz_json_string (server, "docStatus"), "final") == 0)
        set_save_label (self, _("Signed"));
      else
        set_save_label (self, _("Draft saved on the server"));
      source = "server";
    }
  else
    set_save_label (self, self->editable ? _("Not started") : "");

  g_clear_pointer (&self->local_draft, json_node_unref);
  g_clear_pointer (&self->server_bundle, json_node_unref);

  wz_test_report ("note-loaded encounter=%s source=%s diagnoses=%u chief=%s", self->encounter_id,
                  source, g_list_model_get_n_items (G_LIST_MODEL (self->diagnoses)),
                  gtk_editable_get_text (GTK_EDITABLE (self->chief_row)));
}

static void
on_local_draft_read (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(WzVisitNoteEditor) self = user_data;
  JsonNode *node;

  if (g_cancellable_is_cancelled (g_task_get_cancellable (G_TASK (result))))
    return;

  node = g_task_propagate_pointer (G_TASK (result), NULL);
  g_clear_pointer (&self->local_draft, json_node_unref);
  self->local_draft = node;

  if (--self->load_pending == 0)
    finish_loading (self);
}

static void
on_server_notes (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(WzVisitNoteEditor) self = user_data;
  g_autoptr(GError) error = NULL;
  JsonNode *node = wz_api_client_get_json_finish (WZ_API_CLIENT (object), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (node == NULL)
    {
      g_autofree char *text = g_strdup_printf (_("The note on the server could not be read: %s"),
                                               error->message);

      wz_test_report ("note-load-error encounter=%s error=%s", self->encounter_id,
                      wz_client_error_nick (error));
      set_save_label (self, text);
    }
  g_clear_pointer (&self->server_bundle, json_node_unref);
  self->server_bundle = node;

  if (--self->load_pending == 0)
    finish_loading (self);
}

void
wz_visit_note_editor_load (WzVisitNoteEditor *self,
                           JsonObject        *encounter)
{
  const char *id = wz_json_string (encounter, "id");
  const char *status = wz_json_string (encounter, "status");
  g_autoptr(GTask) read = NULL;
  g_autofree char *path = NULL;
  g_autofree char *escaped = NULL;
  gboolean open;

  g_return_if_fail (WZ_IS_VISIT_NOTE_EDITOR (self));

  open = g_strcmp0 (status, "arrived") == 0 || g_strcmp0 (status, "triaged") == 0
         || g_strcmp0 (status, "in-progress") == 0;

  /* The same visit again (a refresh after a status change): keep what is on screen. */
  if (id != NULL && g_strcmp0 (id, self->encounter_id) == 0 && self->load_pending == 0)
    {
      wz_visit_note_editor_set_editable (self, open);
      return;
    }

  /* Whatever is still unsaved of the previous visit goes to disk now. */
  if (self->local_dirty && !self->local_writing)
    start_local_save (self);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_handle_id (&self->net_timeout_id, g_source_remove);
  g_clear_pointer (&self->document, json_object_unref);
  g_clear_pointer (&self->local_draft, json_node_unref);
  g_clear_pointer (&self->server_bundle, json_node_unref);
  g_clear_pointer (&self->encounter_id, g_free);
  g_clear_pointer (&self->encounter_ref, g_free);
  g_clear_pointer (&self->patient_ref, g_free);
  g_clear_pointer (&self->identifier, g_free);
  self->net_waits_for_local = FALSE;
  self->local_dirty = FALSE;
  self->generation = 0;
  self->net_saved_generation = 0;
  self->load_pending = 0;
  {
    g_autoptr(GError) moved_on = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                      _("Another visit was opened."));

    finish_flush_waiters (self, moved_on);
  }

  apply_note (self, NULL, NULL, NULL, NULL);
  set_save_label (self, "");

  if (id == NULL)
    {
      wz_visit_note_editor_set_editable (self, FALSE);
      return;
    }

  self->encounter_id = g_strdup (id);
  self->encounter_ref = g_strconcat ("Encounter/", id, NULL);
  self->patient_ref = g_strdup (wz_json_reference (encounter, "subject"));
  self->identifier = wz_id_new_urn_uuid ();
  self->cancellable = g_cancellable_new ();
  wz_visit_note_editor_set_editable (self, open);
  set_save_label (self, _("Loading…"));

  self->load_pending = 2;

  read = g_task_new (NULL, self->cancellable, on_local_draft_read, g_object_ref (self));
  g_task_set_source_tag (read, wz_visit_note_editor_load);
  g_task_set_task_data (read, wz_visit_note_draft_path (id), g_free);
  g_task_run_in_thread (read, read_draft_in_thread);

  escaped = g_uri_escape_string (self->encounter_ref, NULL, FALSE);
  path = g_strdup_printf ("/fhir/DocumentReference?encounter=%s&_count=50", escaped);
  wz_api_client_get_json_async (self->client, path, self->cancellable, on_server_notes,
                                g_object_ref (self));
}

void
wz_visit_note_editor_focus (WzVisitNoteEditor *self)
{
  g_return_if_fail (WZ_IS_VISIT_NOTE_EDITOR (self));

  gtk_widget_grab_focus (GTK_WIDGET (self->chief_row));
}

guint
wz_visit_note_editor_get_n_diagnoses (WzVisitNoteEditor *self)
{
  g_return_val_if_fail (WZ_IS_VISIT_NOTE_EDITOR (self), 0);

  return g_list_model_get_n_items (G_LIST_MODEL (self->diagnoses));
}

char *
wz_visit_note_editor_dup_chief_complaint (WzVisitNoteEditor *self)
{
  g_return_val_if_fail (WZ_IS_VISIT_NOTE_EDITOR (self), NULL);

  return g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->chief_row))));
}

gboolean
wz_visit_note_editor_is_saved (WzVisitNoteEditor *self)
{
  g_return_val_if_fail (WZ_IS_VISIT_NOTE_EDITOR (self), FALSE);

  return self->document != NULL && self->net_saved_generation == self->generation
    && !self->net_saving;
}

/* ---------------------------------------------------------------------------------------- */
/* Finishing */

typedef struct
{
  GPtrArray *conditions;   /* "Condition/…" in note order */
  GHashTable *existing;    /* identifier → reference */
  guint      next;
} Prepare;

static void
prepare_free (Prepare *prepare)
{
  g_ptr_array_unref (prepare->conditions);
  g_clear_pointer (&prepare->existing, g_hash_table_unref);
  g_free (prepare);
}

/* The same diagnosis of the same visit always gets the same identifier, so finishing twice
 * (after a conflict, or a crash) finds the Condition instead of recording it again. */
static char *
condition_identifier (const char *encounter_ref,
                      const char *code)
{
  g_autofree char *seed = g_strconcat (encounter_ref, "|", code, NULL);
  g_autofree char *hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256, seed, -1);

  return g_strdup_printf ("urn:uuid:%.8s-%.4s-5%.3s-8%.3s-%.12s", hash, hash + 8, hash + 12,
                          hash + 15, hash + 18);
}

static void create_next_condition (GTask *task);

static void
on_condition_created (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Prepare *prepare = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = wz_api_client_send_json_finish (WZ_API_CLIENT (object), result, &error);
  g_autofree char *reference = NULL;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node)
      || (reference = wz_resource_reference (json_node_get_object (node))) == NULL)
    {
      if (error == NULL)
        g_set_error_literal (&error, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_NOT_WENZHEN,
                             _("The server’s answer was not the recorded diagnosis."));
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  g_ptr_array_add (prepare->conditions, g_steal_pointer (&reference));
  prepare->next++;
  create_next_condition (g_steal_pointer (&task));
}

static void
create_next_condition (GTask *task)
{
  WzVisitNoteEditor *self = g_task_get_source_object (task);
  Prepare *prepare = g_task_get_task_data (task);
  g_autoptr(WzIcd10Entry) entry = NULL;
  g_autoptr(JsonBuilder) b = NULL;
  g_autoptr(JsonNode) body = NULL;
  g_autofree char *identifier = NULL;
  g_autofree char *title = NULL;
  g_autofree char *now = NULL;
  const char *existing;
  WzSession *session;

  if (prepare->next >= g_list_model_get_n_items (G_LIST_MODEL (self->diagnoses)))
    {
      g_ptr_array_add (prepare->conditions, NULL);
      g_task_return_pointer (task, g_strdupv ((char **) prepare->conditions->pdata),
                             (GDestroyNotify) g_strfreev);
      g_object_unref (task);
      return;
    }

  entry = g_list_model_get_item (G_LIST_MODEL (self->diagnoses), prepare->next);
  identifier = condition_identifier (self->encounter_ref, wz_icd10_entry_get_code (entry));
  existing = g_hash_table_lookup (prepare->existing, identifier);
  if (existing != NULL)
    {
      g_ptr_array_add (prepare->conditions, g_strdup (existing));
      prepare->next++;
      create_next_condition (task);
      return;
    }

  title = wz_icd10_entry_dup_title (entry);
  now = wz_time_format_instant (wz_time_now_us ());
  session = wz_api_client_get_session (self->client);

  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "resourceType");
  json_builder_add_string_value (b, "Condition");
  json_builder_set_member_name (b, "identifier");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "system");
  json_builder_add_string_value (b, "urn:ietf:rfc:3986");
  json_builder_set_member_name (b, "value");
  json_builder_add_string_value (b, identifier);
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "clinicalStatus");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "coding");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "system");
  json_builder_add_string_value (b, "http://terminology.hl7.org/CodeSystem/condition-clinical");
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, "active");
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "verificationStatus");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "coding");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "system");
  json_builder_add_string_value (b, "http://terminology.hl7.org/CodeSystem/condition-ver-status");
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, "confirmed");
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "category");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "coding");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "system");
  json_builder_add_string_value (b, "http://terminology.hl7.org/CodeSystem/condition-category");
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, "encounter-diagnosis");
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "code");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "coding");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "system");
  json_builder_add_string_value (b, WZ_ICD10_SYSTEM);
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, wz_icd10_entry_get_code (entry));
  json_builder_set_member_name (b, "display");
  json_builder_add_string_value (b, wz_icd10_entry_get_title_en (entry));
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "text");
  json_builder_add_string_value (b, title);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "subject");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "reference");
  json_builder_add_string_value (b, self->patient_ref);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "encounter");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "reference");
  json_builder_add_string_value (b, self->encounter_ref);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "recordedDate");
  json_builder_add_string_value (b, now);
  if (session != NULL && wz_session_get_practitioner (session) != NULL)
    {
      json_builder_set_member_name (b, "recorder");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "reference");
      json_builder_add_string_value (b, wz_session_get_practitioner (session));
      json_builder_end_object (b);
    }
  json_builder_end_object (b);

  body = json_builder_get_root (b);
  wz_api_client_send_json_async (self->client, "POST", "/fhir/Condition", body, NULL,
                                 g_task_get_cancellable (task), on_condition_created, task);
}

static void
on_existing_conditions (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  GTask *task = user_data;
  Prepare *prepare = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = wz_api_client_get_json_finish (WZ_API_CLIENT (object), result, &error);
  g_autoptr(GPtrArray) conditions = NULL;

  if (node == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      g_object_unref (task);
      return;
    }

  conditions = wz_bundle_resources (node, "Condition");
  for (guint i = 0; conditions != NULL && i < conditions->len; i++)
    {
      JsonObject *condition = conditions->pdata[i];
      const char *value = wz_json_string (wz_json_array_object (wz_json_array (condition, "identifier"), 0),
                                          "value");

      if (value != NULL)
        g_hash_table_insert (prepare->existing, g_strdup (value), wz_resource_reference (condition));
    }

  create_next_condition (task);
}

static void
on_flushed_for_finish (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  GTask *task = user_data;
  WzVisitNoteEditor *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;
  g_autofree char *escaped = NULL;
  g_autofree char *path = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      g_object_unref (task);
      return;
    }

  escaped = g_uri_escape_string (self->encounter_ref, NULL, FALSE);
  path = g_strdup_printf ("/fhir/Condition?encounter=%s&_count=100", escaped);
  wz_api_client_get_json_async (self->client, path, g_task_get_cancellable (task),
                                on_existing_conditions, task);
}

void
wz_visit_note_editor_prepare_finish_async (WzVisitNoteEditor   *self,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data)
{
  GTask *task;
  g_autoptr(GTask) flush = NULL;
  Prepare *prepare;

  g_return_if_fail (WZ_IS_VISIT_NOTE_EDITOR (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, wz_visit_note_editor_prepare_finish_async);
  prepare = g_new0 (Prepare, 1);
  prepare->conditions = g_ptr_array_new_with_free_func (g_free);
  prepare->existing = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_task_set_task_data (task, prepare, (GDestroyNotify) prepare_free);

  if (self->encounter_id == NULL || !self->editable)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               _("This visit has no note that can be finished."));
      g_object_unref (task);
      return;
    }

  /* Make sure the server has the note as it is now, then record the diagnoses. */
  flush = g_task_new (self, cancellable, on_flushed_for_finish, task);
  g_task_set_source_tag (flush, wz_visit_note_editor_prepare_finish_async);
  if (self->document == NULL && self->net_saved_generation == self->generation)
    self->generation++;
  g_ptr_array_add (self->flush_waiters, g_steal_pointer (&flush));
  if (!self->net_saving)
    start_network_save (self);
}

char **
wz_visit_note_editor_prepare_finish_finish (WzVisitNoteEditor  *self,
                                            GAsyncResult       *result,
                                            GError            **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
on_marked_final (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  WzVisitNoteEditor *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = wz_api_client_send_json_finish (WZ_API_CLIENT (object), result, &error);
  const char *encounter_id = g_task_get_task_data (task);
  g_autofree char *path = NULL;

  if (node == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* The draft has served its purpose once the server holds the signed note. */
  path = wz_visit_note_draft_path (encounter_id);
  if (g_unlink (path) != 0 && errno != ENOENT)
    g_warning ("Draft %s not removed: %s", path, g_strerror (errno));

  if (g_strcmp0 (encounter_id, self->encounter_id) == 0 && JSON_NODE_HOLDS_OBJECT (node))
    {
      g_clear_pointer (&self->document, json_object_unref);
      self->document = json_object_ref (json_node_get_object (node));
      set_save_label (self, _("Signed"));
    }
  wz_test_report ("note-final encounter=%s draft-removed=%s", encounter_id,
                  g_file_test (path, G_FILE_TEST_EXISTS) ? "no" : "yes");

  g_task_return_boolean (task, TRUE);
}

void
wz_visit_note_editor_mark_final_async (WzVisitNoteEditor   *self,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(JsonObject) body = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *path = NULL;

  g_return_if_fail (WZ_IS_VISIT_NOTE_EDITOR (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, wz_visit_note_editor_mark_final_async);

  if (self->document == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               _("The note is not on the server yet."));
      return;
    }

  g_task_set_task_data (task, g_strdup (self->encounter_id), g_free);
  g_clear_handle_id (&self->net_timeout_id, g_source_remove);
  body = document_body (self, "final");
  node = json_node_init_object (json_node_alloc (), body);
  path = g_strconcat ("/fhir/DocumentReference/", wz_json_string (self->document, "id"), NULL);
  wz_api_client_send_json_async (self->client, "PUT", path, node,
                                 wz_resource_version (self->document), cancellable,
                                 on_marked_final, g_steal_pointer (&task));
}

gboolean
wz_visit_note_editor_mark_final_finish (WzVisitNoteEditor  *self,
                                        GAsyncResult       *result,
                                        GError            **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---------------------------------------------------------------------------------------- */
/* GObject */

void
wz_visit_note_editor_set_client (WzVisitNoteEditor *self,
                                 WzApiClient       *client)
{
  g_return_if_fail (WZ_IS_VISIT_NOTE_EDITOR (self));

  g_set_object (&self->client, client);
}

GtkWidget *
wz_visit_note_editor_new (void)
{
  return g_object_new (WZ_TYPE_VISIT_NOTE_EDITOR, NULL);
}

static void
wz_visit_note_editor_dispose (GObject *object)
{
  WzVisitNoteEditor *self = WZ_VISIT_NOTE_EDITOR (object);

  g_clear_handle_id (&self->net_timeout_id, g_source_remove);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), WZ_TYPE_VISIT_NOTE_EDITOR);
  g_clear_object (&self->diagnoses);
  g_clear_object (&self->client);
  g_clear_pointer (&self->flush_waiters, g_ptr_array_unref);

  G_OBJECT_CLASS (wz_visit_note_editor_parent_class)->dispose (object);
}

static void
wz_visit_note_editor_finalize (GObject *object)
{
  WzVisitNoteEditor *self = WZ_VISIT_NOTE_EDITOR (object);

  g_clear_pointer (&self->document, json_object_unref);
  g_clear_pointer (&self->local_draft, json_node_unref);
  g_clear_pointer (&self->server_bundle, json_node_unref);
  g_free (self->encounter_id);
  g_free (self->encounter_ref);
  g_free (self->patient_ref);
  g_free (self->identifier);

  G_OBJECT_CLASS (wz_visit_note_editor_parent_class)->finalize (object);
}

static void
wz_visit_note_editor_class_init (WzVisitNoteEditorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = wz_visit_note_editor_dispose;
  object_class->finalize = wz_visit_note_editor_finalize;

  /**
   * WzVisitNoteEditor::conflict:
   * @message: what happened, ready to show
   *
   * The note was changed elsewhere while the doctor was writing it.
   */
  signals[CONFLICT] =
    g_signal_new ("conflict", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING);

  g_type_ensure (WZ_TYPE_ICD10_SEARCH);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/wenzhen/Wenzhen/wz-visit-note-editor.ui");
  gtk_widget_class_bind_template_child (widget_class, WzVisitNoteEditor, scroller);
  gtk_widget_class_bind_template_child (widget_class, WzVisitNoteEditor, save_label);
  gtk_widget_class_bind_template_child (widget_class, WzVisitNoteEditor, readonly_label);
  gtk_widget_class_bind_template_child (widget_class, WzVisitNoteEditor, chief_row);
  gtk_widget_class_bind_template_child (widget_class, WzVisitNoteEditor, history_view);
  gtk_widget_class_bind_template_child (widget_class, WzVisitNoteEditor, advice_view);
  gtk_widget_class_bind_template_child (widget_class, WzVisitNoteEditor, diagnoses_list);
  gtk_widget_class_bind_template_child (widget_class, WzVisitNoteEditor, icd_search);
  gtk_widget_class_bind_template_callback (widget_class, on_diagnosis_picked);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "visitnoteeditor");
}

static void
wz_visit_note_editor_init (WzVisitNoteEditor *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->diagnoses = g_list_store_new (WZ_TYPE_ICD10_ENTRY);
  self->flush_waiters = g_ptr_array_new_with_free_func (g_object_unref);
  g_signal_connect_object (self->diagnoses, "items-changed", G_CALLBACK (on_diagnoses_changed),
                           self, G_CONNECT_SWAPPED);
  gtk_list_box_bind_model (self->diagnoses_list, G_LIST_MODEL (self->diagnoses),
                           create_diagnosis_row, self, NULL);

  g_signal_connect_object (self->chief_row, "changed", G_CALLBACK (on_edited), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (gtk_text_view_get_buffer (self->history_view), "changed",
                           G_CALLBACK (on_edited), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (gtk_text_view_get_buffer (self->advice_view), "changed",
                           G_CALLBACK (on_edited), self, G_CONNECT_SWAPPED);

  wz_icd10_search_set_index (self->icd_search, wz_icd10_index_get_default ());
  wz_visit_note_editor_set_editable (self, FALSE);
}
