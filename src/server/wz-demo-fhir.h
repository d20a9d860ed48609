/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "wz-audit.h"
#include "wz-store.h"

G_BEGIN_DECLS

/* The pieces the demo's resources (wz-demo-data.c, wz-demo-record.c) are built from, and where
 * they go: one set of builders for the demo clinic and its patients' histories. */

#define WZ_DEMO_AGENT  "wenzhen-server demo-data"
#define WZ_DEMO_SNOMED "http://snomed.info/sct"
#define WZ_DEMO_ICD10  "http://hl7.org/fhir/sid/icd-10"

/* Where the demo's resources go. */
typedef struct
{
  WzStore *store;
  WzAudit *audit;
} WzDemoSink;

/* Stores what B built, after the same validation a client's resource gets, and audits it as
 * created by the demo; returns "Type/id". */
char     *wz_demo_fhir_store        (WzDemoSink   *sink,
                                     JsonBuilder  *b,
                                     GError      **error);
/* The same, for a resource nothing else refers to. */
gboolean  wz_demo_fhir_store_ok     (WzDemoSink   *sink,
                                     JsonBuilder  *b,
                                     GError      **error);

/* A local date-time DAYS_AGO days back (0: today) at HOUR:MINUTE, as FHIR dateTime. */
char *wz_demo_fhir_days_ago_at      (int           days_ago,
                                     int           hour,
                                     int           minute);

/* Starts B's resource object: resourceType TYPE and a urn:uuid identifier. */
void  wz_demo_fhir_begin_resource   (JsonBuilder  *b,
                                     const char   *type);
void  wz_demo_fhir_add_string       (JsonBuilder  *b,
                                     const char   *name,
                                     const char   *value);
/* NAME: {"reference"[, "display"]}; DISPLAY may be NULL. */
void  wz_demo_fhir_add_reference    (JsonBuilder  *b,
                                     const char   *name,
                                     const char   *reference,
                                     const char   *display);
/* NAME: [{MEMBER: VALUE}], as a reasonCode, dosage or author of one is written. */
void  wz_demo_fhir_add_list_of_one  (JsonBuilder  *b,
                                     const char   *name,
                                     const char   *member,
                                     const char   *value);
/* NAME: a CodeableConcept of one Coding; DISPLAY and TEXT may be NULL. */
void  wz_demo_fhir_add_concept      (JsonBuilder  *b,
                                     const char   *name,
                                     const char   *system,
                                     const char   *code,
                                     const char   *display,
                                     const char   *text);
/* "category": [one CodeableConcept of one Coding, no display]. */
void  wz_demo_fhir_add_category     (JsonBuilder  *b,
                                     const char   *system,
                                     const char   *code);

/* Starts a Condition: active, confirmed, in CATEGORY (problem-list-item, encounter-diagnosis). */
void  wz_demo_fhir_begin_condition  (JsonBuilder  *b,
                                     const char   *category);

/* A whole virtual Encounter with the doctor: STATUS, PATIENT (and its display, or NULL), DOCTOR
 * (likewise), the Appointment it fulfils (or NULL), its period (END may be NULL) and REASON. */
void  wz_demo_fhir_build_encounter  (JsonBuilder  *b,
                                     const char   *status,
                                     const char   *patient,
                                     const char   *patient_display,
                                     const char   *doctor,
                                     const char   *doctor_display,
                                     const char   *appointment,
                                     const char   *start,
                                     const char   *end,
                                     const char   *reason);

/* A Patient's "contact" with their guardian, who is also their RELATION (a v3-RoleCode such as
 * FTH, with RELATION_DISPLAY and RELATION_TEXT; or NULL for a guardian only); NAME_TEXT and
 * FAMILY name them, GIVEN (or NULL) is the given name; PHONE may be NULL. */
void  wz_demo_fhir_add_guardian     (JsonBuilder  *b,
                                     const char   *relation,
                                     const char   *relation_display,
                                     const char   *relation_text,
                                     const char   *name_text,
                                     const char   *family,
                                     const char   *given,
                                     const char   *phone);

G_END_DECLS
