/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "wz-api-client.h"

G_BEGIN_DECLS

#define WZ_CONSULT_NOTE_LOINC "11488-4"

#define WZ_TYPE_VISIT_NOTE_EDITOR (wz_visit_note_editor_get_type ())

G_DECLARE_FINAL_TYPE (WzVisitNoteEditor, wz_visit_note_editor, WZ, VISIT_NOTE_EDITOR, GtkWidget)

GtkWidget *wz_visit_note_editor_new              (void);
void       wz_visit_note_editor_set_client       (WzVisitNoteEditor   *self,
                                                  WzApiClient         *client);
/* Opens the note of ENCOUNTER (NULL: none). Editable while the visit is open (arrived, triaged,
 * in progress); a finished visit's note is shown read-only. The newer of the local draft and
 * the server's copy wins. */
void       wz_visit_note_editor_load             (WzVisitNoteEditor   *self,
                                                  JsonObject          *encounter);
void       wz_visit_note_editor_set_editable     (WzVisitNoteEditor   *self,
                                                  gboolean             editable);
void       wz_visit_note_editor_focus            (WzVisitNoteEditor   *self);

guint      wz_visit_note_editor_get_n_diagnoses  (WzVisitNoteEditor   *self);
char      *wz_visit_note_editor_dup_chief_complaint (WzVisitNoteEditor *self);
/* Whether the server has everything typed so far. */
gboolean   wz_visit_note_editor_is_saved         (WzVisitNoteEditor   *self);

/* Before the visit is finished: saves the note to the server now and records each diagnosis as
 * a Condition (idempotent: a retry finds the ones already made). Returns the Condition
 * references, in the order of the note. */
void       wz_visit_note_editor_prepare_finish_async  (WzVisitNoteEditor   *self,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
char     **wz_visit_note_editor_prepare_finish_finish (WzVisitNoteEditor   *self,
                                                       GAsyncResult        *result,
                                                       GError             **error);
/* After the visit is finished: the note becomes final and the local draft is removed. */
void       wz_visit_note_editor_mark_final_async      (WzVisitNoteEditor   *self,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
gboolean   wz_visit_note_editor_mark_final_finish     (WzVisitNoteEditor   *self,
                                                       GAsyncResult        *result,
                                                       GError             **error);

/* Where the draft of ENCOUNTER_ID is kept on this computer. */
char      *wz_visit_note_draft_path              (const char          *encounter_id);
/* The note as the server stores it (Markdown with the four sections), and back. */
char      *wz_visit_note_to_markdown             (const char          *chief,
                                                  const char          *history,
                                                  const char * const  *diagnoses,
                                                  const char          *advice);
gboolean   wz_visit_note_from_markdown           (const char          *markdown,
                                                  char               **chief,
                                                  char               **history,
                                                  GStrv               *diagnoses,
                                                  char               **advice);

G_END_DECLS
