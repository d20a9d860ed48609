/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "wz-followup.h"

G_BEGIN_DECLS

/* CarePlan.instantiatesUri prefix; the template id follows. */
#define WZ_CAREPLAN_TEMPLATE_URI     WZ_FOLLOWUP_BASE "followup-template/"
/* CarePlan.identifier system for the plan's business identifier (a urn:uuid from the client). */
#define WZ_CAREPLAN_ID_SYSTEM        WZ_FOLLOWUP_BASE "sid/careplan"
/* CarePlan.activity.detail.extension with the measurement's target and alert levels, exactly as
 * the template gives them (FHIR's Range cannot say "high exclusive"). */
#define WZ_CAREPLAN_TARGET_EXTENSION WZ_FOLLOWUP_BASE "StructureDefinition/followup-target"
/* CarePlan.activity.detail.extension of the check-in activity: one "question" sub-extension per
 * question the patient answers at each check-in Task (sub-extensions id, kind yes_no | number |
 * choice, and text with its translation). */
#define WZ_CAREPLAN_QUESTIONS_EXTENSION WZ_FOLLOWUP_BASE "StructureDefinition/followup-questions"

typedef enum
{
  WZ_FOLLOWUP_FLAG_NONE,         /* in range, or nothing to compare with */
  WZ_FOLLOWUP_FLAG_LOW,
  WZ_FOLLOWUP_FLAG_HIGH,
  WZ_FOLLOWUP_FLAG_ABNORMAL,     /* "yes" to a question that is flagged */
  WZ_FOLLOWUP_FLAG_URGENT_LOW,
  WZ_FOLLOWUP_FLAG_URGENT_HIGH,
  WZ_FOLLOWUP_FLAG_URGENT,       /* "yes" to a question that is urgent */
} WzFollowupFlag;

const char *wz_followup_flag_to_string (WzFollowupFlag flag);
gboolean    wz_followup_flag_is_urgent (WzFollowupFlag flag);

/* One measurement of a plan with its target, after the patient's variant was chosen. */
typedef struct
{
  char     *id;              /* template measurement id */
  WzText    name;
  char     *loinc;           /* NULL when the template has none */
  char     *unit;            /* UCUM */
  gboolean  has_low;
  double    low;             /* inclusive */
  gboolean  has_high;
  double    high;            /* exclusive unless high_inclusive */
  gboolean  high_inclusive;
  gboolean  has_flag_low;
  double    flag_low;        /* replaces low for flagging */
  gboolean  has_flag_high;
  double    flag_high;
  gboolean  has_urgent_low;
  double    urgent_low;      /* urgent below */
  gboolean  has_urgent_high;
  double    urgent_high;     /* urgent at or above */
  gboolean  flag_if_any_yes;
  gboolean  urgent_if_any_yes;
  GStrv     questions;       /* yes/no question ids */
  WzText    target_text;
  WzText    urgent_message;
  WzText    flag_message;
  guint     times;           /* frequency: TIMES per PER */
  char     *per;             /* day | week | month | year | visit */
} WzCareplanTarget;

WzCareplanTarget *wz_careplan_target_copy  (const WzCareplanTarget *target);
void              wz_careplan_target_free  (WzCareplanTarget       *target);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WzCareplanTarget, wz_careplan_target_free)

/* VALUE (in the target's unit) against the target and alert levels. */
WzFollowupFlag    wz_careplan_target_flag  (const WzCareplanTarget *target,
                                            double                  value);
/* A yes/no answer to one of the target's questions. */
WzFollowupFlag    wz_careplan_target_flag_answer (const WzCareplanTarget *target,
                                                  gboolean                yes);
/* Days one may go without a reading before it counts as missing (0: readings at visits). */
guint             wz_careplan_target_interval_days (const WzCareplanTarget *target);
/* Whether an Observation code (SYSTEM, CODE) is this measurement. */
gboolean          wz_careplan_target_matches (const WzCareplanTarget *target,
                                              const char             *system,
                                              const char             *code);

#define WZ_TYPE_CAREPLAN_TEMPLATE (wz_careplan_template_get_type ())
G_DECLARE_FINAL_TYPE (WzCareplanTemplate, wz_careplan_template, WZ, CAREPLAN_TEMPLATE, GObject)

/* Loads and checks data/clinical/followup-templates.json: every text in both languages, every
 * offset, frequency, target and alert well formed. Returns the templates (WzCareplanTemplate) in
 * file order; WZ_ERROR_INVALID naming the place in the file otherwise. */
GPtrArray          *wz_careplan_template_load_data (const char   *data,
                                                    gssize        length,
                                                    GError      **error);
GPtrArray          *wz_careplan_template_load_file (const char   *path,
                                                    GError      **error);
WzCareplanTemplate *wz_careplan_template_find      (GPtrArray    *templates,
                                                    const char   *id);
const char         *wz_careplan_template_get_id    (WzCareplanTemplate *self);
const WzText       *wz_careplan_template_get_title (WzCareplanTemplate *self);
/* plan_start, procedure_date, last_menstrual_period or birth_date. */
const char         *wz_careplan_template_get_anchor (WzCareplanTemplate *self);

/* The doctor's changes to a generated plan, made while it is generated (so the CarePlan, its
 * Goals and its Tasks agree). An item's KEY is the part of its Task identifier after
 * "<plan identifier>/": "revisit-2", "checkin-5", "education-salt", "measurement-weight"… */
typedef struct
{
  const char *key;
  WzDay       due;      /* WZ_DAY_NONE: kept; the on-time window moves with the due date */
  gboolean    remove;
} WzCareplanItemEdit;

/* An item the doctor adds: due on DUE, on time for a week after it. */
typedef struct
{
  const char *key;      /* unique in the plan, [a-z0-9-], e.g. "added-1" */
  const char *kind;     /* revisit, adherence-checkin or education */
  WzDay       due;
  const char *text;     /* what is to be done, in the doctor's words */
} WzCareplanAddedItem;

/* New limits for one measurement's target; only limits the target has can be changed. */
typedef struct
{
  const char *measurement;  /* the template's measurement id, e.g. home_bp_systolic */
  gboolean    has_low;
  double      low;
  gboolean    has_high;
  double      high;
} WzCareplanTargetEdit;

typedef struct
{
  const char        *patient_ref;     /* "Patient/ID" */
  const char        *author_ref;      /* "Practitioner/ID": owns the revisits, requests the rest */
  const char        *identifier;      /* the plan's business identifier (urn:uuid:…) */
  WzDay              anchor;          /* the template's anchor date */
  WzDay              created;         /* today: items whose window ended before it are left out */
  WzDay              end;             /* WZ_DAY_NONE: the template's last item, or the default
                                       * plan length for repeating templates */
  const char *const *conditions;      /* the patient's ICD-10 codes, for target variants */
  gint               age_years;       /* for target variants; -1 when unknown */
  gboolean           include_optional;
  const char        *authored_on;     /* FHIR dateTime for CarePlan.created and Task.authoredOn */
  const char        *lang;
  const WzCareplanItemEdit   *item_edits;
  guint                       n_item_edits;
  const WzCareplanAddedItem  *added_items;
  guint                       n_added_items;
  const WzCareplanTargetEdit *target_edits;
  guint                       n_target_edits;
} WzCareplanRequest;

typedef struct
{
  JsonNode  *careplan;
  GPtrArray *tasks;     /* JsonNode: Task, in due order */
} WzCareplanInstance;

void                wz_careplan_instance_free      (WzCareplanInstance *instance);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WzCareplanInstance, wz_careplan_instance_free)

/* The CarePlan (with its Goals) and its Tasks for one patient, with the doctor's edits of
 * REQUEST applied (a key, measurement or date that does not fit the plan is
 * WZ_ERROR_UNPROCESSABLE): revisits (owned by the author), measurements with
 * their frequency and target, adherence check-ins and education items (owned by the patient, so
 * they reach the patient page), each with a due date (WZ_FOLLOWUP_DUE_EXTENSION) and an on-time
 * window (restriction.period). Each Task's identifier is the plan identifier plus the item, so
 * creating them again finds the same Tasks. Tasks carry basedOn once the plan has an id: see
 * wz_careplan_instance_set_plan(). */
WzCareplanInstance *wz_careplan_template_instantiate (WzCareplanTemplate      *self,
                                                      const WzCareplanRequest *request,
                                                      GError                 **error);
/* Whether KEY may name an added item: 1-40 of [a-z0-9-]. */
gboolean            wz_careplan_item_key_is_valid  (const char         *key);

/* Changes the targets of a CarePlan made here (the target extensions of its activities and the
 * Goals it contains) or of one of its measurement Tasks (its target extension and target
 * input), in place, to EDITS; the target texts say the doctor set them. EDITS about
 * measurements RESOURCE does not have are left out for a Task, an error for a CarePlan
 * (WZ_ERROR_UNPROCESSABLE, as for a limit the target does not have or a low not below the
 * high). *OUT_CHANGED: whether anything changed. */
gboolean            wz_careplan_edit_targets       (JsonObject                 *resource,
                                                    const WzCareplanTargetEdit *edits,
                                                    guint                       n_edits,
                                                    const char                 *lang,
                                                    gboolean                   *out_changed,
                                                    GError                    **error);

/* Points every Task's basedOn at CAREPLAN_REF ("CarePlan/ID"). */
void                wz_careplan_instance_set_plan  (WzCareplanInstance *instance,
                                                    const char         *careplan_ref);

/* The measurement targets a CarePlan made here carries, or the one of a measurement Task
 * (WzCareplanTarget). */
GPtrArray          *wz_careplan_targets_from_json  (JsonObject         *careplan);

/* One value of an Observation, judged against the plan's targets. */
typedef struct
{
  const WzCareplanTarget *target;   /* borrowed from the targets given */
  char                   *question; /* for answers: the question id */
  gboolean                is_answer;
  gboolean                answer;
  double                  value;
  char                   *unit;
  WzFollowupFlag          flag;
} WzCareplanReading;

/* The values of OBSERVATION (valueQuantity, valueBoolean and the same in component[]) that
 * belong to one of TARGETS, each flagged. Units must be the target's (UCUM, compared as text);
 * other values are left out. WzCareplanReading, free with g_array_unref. */
GArray             *wz_careplan_evaluate_observation (GPtrArray        *targets,
                                                      JsonObject       *observation);

G_END_DECLS
