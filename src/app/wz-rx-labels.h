/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Plain-language, translated words for the codes the formulary and a prescription line carry
 * ("oral" → "by mouth", "tablet_sr" → "sustained-release tablet"), for the editor, the review
 * queue and the printed sheet. A code this list does not know is shown as it is. */
const char        *wz_rx_route_label       (const char *code);
const char        *wz_rx_form_label        (const char *code);
/* The route codes a doctor can choose from, NULL-terminated. */
const char *const *wz_rx_route_codes       (void);

/* One line of a MedicationRequest as the review queue and the sheet show it, from its coded
 * parts in the reader's language: "5 mg · by mouth · qd (once a day) · 30 days · 30 tablets".
 * Falls back to dosageInstruction.text for parts that are not coded. */
char              *wz_rx_dosage_describe   (JsonObject *request);

G_END_DECLS
