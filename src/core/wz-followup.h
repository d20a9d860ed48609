/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Follow-up and vaccination share these: civil dates with the calendar rules of
 * data/clinical/nip-schedule.json, bilingual texts carried in the data files, strict reading of
 * those files, and WzFollowup, the doctor's follow-up worklist. */

/* Base of the code systems and extensions this product defines. */
#define WZ_FOLLOWUP_BASE               "https://wenzhen.example/fhir/"
/* Task.code of every follow-up Task: revisit, annual-review, measurement, adherence-checkin,
 * education, vaccine-reaction-check. */
#define WZ_FOLLOWUP_TASK_SYSTEM        WZ_FOLLOWUP_BASE "CodeSystem/followup-task"
/* Observation.code (and component.code) for a care-plan measurement without a LOINC code, and
 * next to LOINC to tell apart measurements sharing one (fasting vs post-meal glucose): the code is
 * the template's measurement id. Yes/no questions of a measurement are "MEASUREMENT.QUESTION". */
#define WZ_FOLLOWUP_MEASUREMENT_SYSTEM WZ_FOLLOWUP_BASE "CodeSystem/followup-measurement"
/* Task.extension: the civil date (valueDate) a follow-up Task is due. Task.restriction.period
 * holds the window in which it counts as on time. */
#define WZ_FOLLOWUP_DUE_EXTENSION      WZ_FOLLOWUP_BASE "StructureDefinition/task-due-date"
/* Business identifiers of the Tasks and CarePlans made here (value: plan identifier + item). */
#define WZ_FOLLOWUP_TASK_ID_SYSTEM     WZ_FOLLOWUP_BASE "sid/followup-task"
#define WZ_FOLLOWUP_LOINC_SYSTEM       "http://loinc.org"
#define WZ_FOLLOWUP_UCUM_SYSTEM        "http://unitsofmeasure.org"
#define WZ_FOLLOWUP_TRANSLATION_EXTENSION "http://hl7.org/fhir/StructureDefinition/translation"
/* Patient.extension naming the patient's IANA time zone (valueCode). */
#define WZ_FOLLOWUP_TZ_EXTENSION       "http://hl7.org/fhir/StructureDefinition/tz-code"

/* ---- Civil dates ------------------------------------------------------------------------- */

/* A civil date as a GDate Julian day number (1 = 1 January of year 1); 0 means none. */
typedef guint32 WzDay;
#define WZ_DAY_NONE 0

typedef enum
{
  WZ_PERIOD_DAY,
  WZ_PERIOD_WEEK,
  WZ_PERIOD_MONTH,
  WZ_PERIOD_YEAR,
} WzPeriodUnit;

/* An age, offset or interval as the data files write it: {value, unit}. */
typedef struct
{
  gint         value;
  WzPeriodUnit unit;
} WzPeriod;

WzDay        wz_day_from_ymd        (guint         year,
                                     guint         month,
                                     guint         day);
/* Strict YYYY-MM-DD. */
gboolean     wz_day_parse           (const char   *text,
                                     WzDay        *out_day);
/* A FHIR date (YYYY-MM-DD) as it is, or a dateTime with a time as the civil date it falls on in
 * TZ (a dose given at 23:30 Beijing time is on that Beijing date). Partial dates are refused. */
gboolean     wz_day_parse_in_zone   (const char   *text,
                                     GTimeZone    *tz,
                                     WzDay        *out_day);
/* "YYYY-MM-DD" into BUF (at least 11 bytes); returns BUF. */
char        *wz_day_format_buf      (WzDay         day,
                                     char         *buf);
char        *wz_day_format          (WzDay         day);
void         wz_day_get_ymd         (WzDay         day,
                                     guint        *out_year,
                                     guint        *out_month,
                                     guint        *out_day);
WzDay        wz_day_add_days        (WzDay         day,
                                     gint          days);
/* DAY plus PERIOD with the schedule's calendar rule: months and years are calendar months and
 * years, and a target day the month does not have rolls forward to the first of the next month
 * (31 January + 1 month = 1 March; 29 February + 1 year = 1 March). */
WzDay        wz_day_add             (WzDay         day,
                                     const WzPeriod *period);
/* The civil date in TZ at NOW_US (µs since the epoch). */
WzDay        wz_day_today           (GTimeZone    *tz,
                                     gint64        now_us);
/* An IANA zone by name (NULL when unknown; "UTC" and "Asia/Shanghai" style names). */
GTimeZone   *wz_followup_time_zone  (const char   *name);

/* ---- Bilingual texts ---------------------------------------------------------------------- */

/* Every text a patient or doctor reads comes from the data files in both languages. */
typedef struct
{
  char *en;
  char *zh;
} WzText;

void         wz_text_clear          (WzText       *text);
/* The text in LANG ("zh…" → Chinese, anything else English), falling back to the other one. */
const char  *wz_text_get            (const WzText *text,
                                     const char   *lang);
/* "zh" for zh, zh_CN, zh-Hans…; "en" otherwise (also for NULL). */
const char  *wz_lang_normalize      (const char   *lang);
/* Writes MEMBER = TEXT in LANG and, for the other language, the FHIR translation extension on
 * _MEMBER. Nothing when TEXT is empty. */
void         wz_json_add_text       (JsonBuilder  *builder,
                                     const char   *member,
                                     const WzText *text,
                                     const char   *lang);
/* Reads back what wz_json_add_text wrote (either language may be missing). */
void         wz_json_get_text       (JsonObject   *object,
                                     const char   *member,
                                     WzText       *out_text);

/* ---- Writing JSON fast ---------------------------------------------------------------------- */

/* Streams JSON text into a GString, for answers built per request in bulk (a schedule, a
 * worklist) where a JsonBuilder tree costs more than the work itself. Used like JsonBuilder:
 * member name, then value; commas and escaping are handled here. */
typedef struct
{
  GString  *out;
  guint     depth;
  gboolean  after_member;
  guint8    has_items[64];
} WzJsonWriter;

void         wz_json_writer_init         (WzJsonWriter *writer);
void         wz_json_writer_begin_object (WzJsonWriter *writer);
void         wz_json_writer_end_object   (WzJsonWriter *writer);
void         wz_json_writer_begin_array  (WzJsonWriter *writer);
void         wz_json_writer_end_array    (WzJsonWriter *writer);
void         wz_json_writer_member       (WzJsonWriter *writer,
                                          const char   *name);
void         wz_json_writer_string       (WzJsonWriter *writer,
                                          const char   *value);
void         wz_json_writer_int          (WzJsonWriter *writer,
                                          gint64        value);
/* Whole numbers as integers, others with up to 15 significant digits. */
void         wz_json_writer_double       (WzJsonWriter *writer,
                                          double        value);
void         wz_json_writer_boolean      (WzJsonWriter *writer,
                                          gboolean      value);
void         wz_json_writer_null         (WzJsonWriter *writer);
/* MEMBER = VALUE, for the common case. */
void         wz_json_writer_set_string   (WzJsonWriter *writer,
                                          const char   *member,
                                          const char   *value);
/* As wz_json_add_text(). */
void         wz_json_writer_text         (WzJsonWriter *writer,
                                          const char   *member,
                                          const WzText *text,
                                          const char   *lang);
/* The text written; frees the writer's buffer into the bytes. */
GBytes      *wz_json_writer_finish       (WzJsonWriter *writer);

/* ---- Strict reading of the data files ----------------------------------------------------- */

/* Each sets a WZ_ERROR_INVALID naming WHERE (a path like "series[2].doses[0]") and what is wrong
 * when the member is missing or of the wrong kind. */
JsonObject  *wz_json_req_object     (JsonObject   *object,
                                     const char   *member,
                                     const char   *where,
                                     GError      **error);
JsonArray   *wz_json_req_array      (JsonObject   *object,
                                     const char   *member,
                                     const char   *where,
                                     GError      **error);
const char  *wz_json_req_string     (JsonObject   *object,
                                     const char   *member,
                                     const char   *where,
                                     GError      **error);
/* Optional members: TRUE when absent (outputs untouched) or well formed. */
gboolean     wz_json_opt_string     (JsonObject   *object,
                                     const char   *member,
                                     const char   *where,
                                     const char  **out_value,
                                     GError      **error);
gboolean     wz_json_opt_boolean    (JsonObject   *object,
                                     const char   *member,
                                     const char   *where,
                                     gboolean     *out_value,
                                     GError      **error);
gboolean     wz_json_opt_number     (JsonObject   *object,
                                     const char   *member,
                                     const char   *where,
                                     gboolean     *out_present,
                                     double       *out_value,
                                     GError      **error);
gboolean     wz_json_req_int        (JsonObject   *object,
                                     const char   *member,
                                     const char   *where,
                                     gint          min,
                                     gint          max,
                                     gint         *out_value,
                                     GError      **error);
/* {en, zh}, both non-empty strings. */
gboolean     wz_json_req_text       (JsonObject   *object,
                                     const char   *member,
                                     const char   *where,
                                     WzText       *out_text,
                                     GError      **error);
gboolean     wz_json_opt_text       (JsonObject   *object,
                                     const char   *member,
                                     const char   *where,
                                     WzText       *out_text,
                                     GError      **error);
/* {value, unit}: value a whole number ≥ 0, unit day|month|year (and week when ALLOW_WEEK). */
gboolean     wz_json_req_period     (JsonObject   *object,
                                     const char   *member,
                                     const char   *where,
                                     gboolean      allow_week,
                                     WzPeriod     *out_period,
                                     GError      **error);
gboolean     wz_json_period_from_node (JsonNode   *node,
                                     const char   *where,
                                     gboolean      allow_week,
                                     WzPeriod     *out_period,
                                     GError      **error);
/* [a, b] of two whole numbers ≥ 0. */
gboolean     wz_json_req_day_pair   (JsonObject   *object,
                                     const char   *member,
                                     const char   *where,
                                     gint         *out_first,
                                     gint         *out_second,
                                     GError      **error);
/* Parses a data file: UTF-8, a JSON object at the root. */
JsonNode    *wz_json_load_data      (const char   *data,
                                     gssize        length,
                                     GError      **error);
/* Parses a data file of ours (see wz_json_load_data()) whose _meta.format_version is 1, the one
 * this version reads; its _meta object in *OUT_META. */
JsonNode    *wz_json_load_format_1  (const char   *data,
                                     gssize        length,
                                     JsonObject  **out_meta,
                                     GError      **error);
/* A number member as double whether JSON wrote it as an integer or a decimal. */
gboolean     wz_json_number         (JsonNode     *node,
                                     double       *out_value);

/* ---- Task timing --------------------------------------------------------------------------- */

typedef enum
{
  WZ_FOLLOWUP_UPCOMING,  /* before its due date */
  WZ_FOLLOWUP_DUE,       /* due date reached, still within its window */
  WZ_FOLLOWUP_OVERDUE,   /* after the last day of its window */
} WzFollowupTiming;

/* Where TODAY stands against a task due on DUE whose on-time window ends on WINDOW_END
 * (WZ_DAY_NONE: the due date itself). */
WzFollowupTiming wz_followup_timing (WzDay         due,
                                     WzDay         window_end,
                                     WzDay         today);
const char  *wz_followup_timing_to_string (WzFollowupTiming timing);

/* ---- The doctor's follow-up worklist ------------------------------------------------------ */

#define WZ_TYPE_FOLLOWUP (wz_followup_get_type ())
G_DECLARE_FINAL_TYPE (WzFollowup, wz_followup, WZ, FOLLOWUP, GObject)

/* An in-memory view of what the worklist needs, kept current by feeding it every changed Task,
 * Observation and Patient: open follow-up Tasks by owner and requester (measurement Tasks with
 * their targets), the latest reported value of each measurement, and patient names. Feeding the
 * same or an older version again changes nothing and costs no parsing. */
WzFollowup  *wz_followup_new        (void);
/* Takes in one stored resource (other types are ignored). STATUS is its indexed status when the
 * caller has it (a closed Task is then dropped without parsing), else NULL; JSON is the resource
 * text. */
void         wz_followup_ingest     (WzFollowup   *self,
                                     const char   *type,
                                     const char   *id,
                                     gint64        version_id,
                                     const char   *status,
                                     const char   *json,
                                     gsize         length);
/* TRUE when the view has the Patient's display name (so the caller need not read it). */
gboolean     wz_followup_has_patient (WzFollowup  *self,
                                     const char   *patient_ref);
/* Patients ("Patient/ID") with open Tasks for PRACTITIONER_REF but no name yet. */
GPtrArray   *wz_followup_missing_patients (WzFollowup *self,
                                     const char   *practitioner_ref);
/* The worklist of PRACTITIONER_REF on TODAY as JSON text (see wz-followup.c for the shape):
 * open follow-up Tasks the practitioner owns or requested that are due or overdue, grouped by
 * patient, and each patient's latest reported values against the plan targets, out-of-range and
 * urgent values flagged. Patients with a flagged value appear even without a due Task. */
GBytes      *wz_followup_worklist   (WzFollowup   *self,
                                     const char   *practitioner_ref,
                                     WzDay         today,
                                     const char   *time_zone_name,
                                     const char   *lang);
/* Only the rows of PATIENTS ("Patient/ID", NULL-terminated), in that order, as a JSON array of
 * the patient objects wz_followup_worklist() writes, with ALERTS[i] ("urgent", "flagged",
 * "none") as each one's alert and at least OVERDUE_DAYS[i] days overdue: for a list ordered and
 * judged elsewhere (the server's indexed worklist) and a view fed with those patients only. A
 * patient the view has nothing due for still gets a row. */
GBytes      *wz_followup_worklist_rows (WzFollowup        *self,
                                     const char         *practitioner_ref,
                                     WzDay               today,
                                     const char         *lang,
                                     const char * const *patients,
                                     const char * const *alerts,
                                     const gint         *overdue_days);
/* Counts, for tests and logs. */
guint        wz_followup_n_open_tasks (WzFollowup *self);

G_END_DECLS
