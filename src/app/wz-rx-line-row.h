/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define WZ_TYPE_RX_LINE_ROW (wz_rx_line_row_get_type ())
G_DECLARE_FINAL_TYPE (WzRxLineRow, wz_rx_line_row, WZ, RX_LINE_ROW, GtkListBoxRow)

/* One line of a prescription: a formulary product (DRUG, as GET /formulary answers it) with
 * dose, route, frequency, days, the quantity worked out from them, and instructions. */
WzRxLineRow *wz_rx_line_row_new              (JsonObject  *drug);
/* A line read back from a saved MedicationRequest (DRUG may be NULL when the product is no
 * longer in the formulary; the request's own texts are shown then). */
WzRxLineRow *wz_rx_line_row_new_from_request (JsonObject  *request,
                                              JsonObject  *drug);
/* The line as JSON for the local draft (what the doctor typed, plus the server id/version). */
JsonObject  *wz_rx_line_row_to_draft         (WzRxLineRow *self);
WzRxLineRow *wz_rx_line_row_new_from_draft   (JsonObject  *draft);
/* The MedicationRequest for this line (status draft). */
JsonObject  *wz_rx_line_row_to_request       (WzRxLineRow *self,
                                              const char  *patient_ref,
                                              const char  *encounter_ref,
                                              const char  *requester_ref,
                                              const char  *reason_ref);
const char  *wz_rx_line_row_get_id           (WzRxLineRow *self);
const char  *wz_rx_line_row_get_version      (WzRxLineRow *self);
const char  *wz_rx_line_row_get_drug_code    (WzRxLineRow *self);
const char  *wz_rx_line_row_get_title        (WzRxLineRow *self);
/* One-line summary for print and review: "500 mg · oral · tid (three times a day) · 7 d · 21 capsule". */
char        *wz_rx_line_row_get_summary      (WzRxLineRow *self);
/* After a save: the server's copy becomes the base of the next change. */
void         wz_rx_line_row_set_saved        (WzRxLineRow *self,
                                              JsonObject  *stored);
JsonObject  *wz_rx_line_row_get_saved        (WzRxLineRow *self);
/* Whether the line differs from the last copy the server acknowledged. */
gboolean     wz_rx_line_row_get_dirty        (WzRxLineRow *self);
void         wz_rx_line_row_set_dirty        (WzRxLineRow *self,
                                              gboolean     dirty);
void         wz_rx_line_row_set_editable     (WzRxLineRow *self,
                                              gboolean     editable);
/* Findings of the checks about this line: (severity, text) pairs; NULL clears. */
void         wz_rx_line_row_clear_findings   (WzRxLineRow *self);
void         wz_rx_line_row_add_finding      (WzRxLineRow *self,
                                              const char  *severity,
                                              const char  *text);
void         wz_rx_line_row_focus_dose       (WzRxLineRow *self);

/* Plain-language text of a frequency code in the user's language. */
const char  *wz_rx_frequency_text            (const char  *code);
/* A FHIR administrative gender as the user reads it. */
const char  *wz_rx_gender_label              (const char  *gender);
/* Whether the user reads Chinese (the zh texts of the tables are shown then). */
gboolean     wz_rx_prefers_chinese           (void);

G_END_DECLS
