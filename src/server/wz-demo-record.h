/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "wz-audit.h"
#include "wz-store.h"

G_BEGIN_DECLS

/* The medical history behind the demo's patients, so the record pane has something real to show:
 * months of vital signs, current medicines, earlier finished visits with their diagnoses and
 * signed notes, an identity card number, and (for the first patient) an ECG picture and a PDF
 * laboratory report. INDEX is the patient's place in the demo's hand-written list. */
gboolean wz_demo_record_add (WzStore     *store,
                             WzAudit     *audit,
                             const char  *patient,
                             const char  *doctor,
                             guint        index,
                             GError     **error);

/* A problem-list condition's code as ICD-10 (when the demo knows it) and SNOMED CT. */
void     wz_demo_record_add_condition_code (JsonBuilder *b,
                                            const char  *snomed,
                                            const char  *text);

G_END_DECLS
