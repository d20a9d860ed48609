/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* How the follow-up pages word dates, units, targets and kinds of Task for the doctor. */

/* Days from FROM to TO (both YYYY-MM-DD); 0 when either cannot be read. */
gint        wz_followup_days_between   (const char *from,
                                        const char *to);
/* YYYY-MM-DD in the reader's date style (“25 Nov 2026”, “2026年11月25日”). */
char       *wz_followup_format_date    (const char *date);
/* “Due today”, “Due in 3 days”, “5 days overdue”… for a Task due on DUE whose window ends on
 * WINDOW_END (NULL: DUE), seen on TODAY. */
char       *wz_followup_format_due     (const char *due,
                                        const char *window_end,
                                        const char *today);
/* A UCUM unit as people write it: mm[Hg] → mmHg, Cel → °C. */
const char *wz_followup_format_unit    (const char *ucum);
/* {"low","high","highInclusive"} in UNIT as “target 4.4–7.0 mmol/L”, “target below 130 mmHg”. */
char       *wz_followup_format_target  (JsonObject *target,
                                        const char *unit);
/* A number without needless decimals. */
char       *wz_followup_format_number  (double      value);
/* Task.code of the follow-up code system: revisit → “Revisit”… */
const char *wz_followup_kind_label     (const char *kind);
/* The text of MEMBER in the reader's language, where the other language is kept in the FHIR
 * translation extension on _MEMBER (as the server writes it). */
const char *wz_followup_text           (JsonObject *object,
                                        const char *member);
/* Whether the reader's language is Chinese. */
gboolean    wz_followup_lang_is_zh     (void);
/* "zh" or "en", for ?lang= and the language parameter of the server's operations. */
const char *wz_followup_lang           (void);

G_END_DECLS
