/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "wz-followup.h"

G_BEGIN_DECLS

/* Immunization.vaccineCode for programme vaccines: the vaccines[].id of nip-schedule.json
 * ("HepB", "MMR", "JE-L", …). */
#define WZ_NIP_VACCINE_SYSTEM          WZ_FOLLOWUP_BASE "CodeSystem/nip-vaccine"
/* ImmunizationRecommendation.recommendation.forecastStatus: the statuses of the data file. */
#define WZ_NIP_STATUS_SYSTEM           WZ_FOLLOWUP_BASE "CodeSystem/nip-forecast-status"
#define WZ_NIP_REASON_SYSTEM           WZ_FOLLOWUP_BASE "CodeSystem/nip-forecast-reason"
/* Immunization.extension valueBoolean true: the doctor counts a dose given before its minimum
 * age or interval (the data file leaves that decision to the doctor). */
#define WZ_NIP_COUNTED_EXTENSION       WZ_FOLLOWUP_BASE "StructureDefinition/nip-dose-counted"

typedef enum
{
  WZ_NIP_NOT_YET_DUE,
  WZ_NIP_DUE,
  WZ_NIP_OVERDUE,
  WZ_NIP_COMPLETED,
  WZ_NIP_NOT_RECOMMENDED,
} WzNipStatus;

typedef enum
{
  WZ_NIP_CONTRAINDICATION,  /* do not give */
  WZ_NIP_PRECAUTION,        /* doctor weighs benefit and risk */
  WZ_NIP_DEFER,             /* postpone */
} WzNipContraKind;

/* Read-only views of the data file, owned by the WzNipSchedule. */
typedef struct
{
  char            *id;
  WzNipContraKind  kind;
  WzText           text;
  GStrv            questions;   /* screening question ids */
} WzNipContraindication;

typedef struct
{
  guint  day;          /* days after the dose when the check is due */
  guint  window_from;  /* on-time window, days after the dose */
  guint  window_to;
  WzText check;
  WzText seek_care_if;
} WzNipReactionCheck;

typedef struct
{
  char      *id;
  char      *abbr;
  WzText     name;
  gboolean   live;
  gboolean   injectable_live;   /* listed in rules.simultaneous_and_spacing */
  GPtrArray *contraindications; /* WzNipContraindication */
  GPtrArray *reaction_checks;   /* WzNipReactionCheck */
} WzNipVaccine;

typedef struct
{
  char     *id;
  WzText    text;
  char     *sex;           /* applies only to this administrative gender, or NULL */
  gboolean  has_min_age;
  WzPeriod  min_age;       /* inclusive */
  gboolean  has_max_age;
  WzPeriod  max_age;       /* exclusive */
} WzNipQuestion;

#define WZ_TYPE_NIP_SCHEDULE (wz_nip_schedule_get_type ())
G_DECLARE_FINAL_TYPE (WzNipSchedule, wz_nip_schedule, WZ, NIP_SCHEDULE, GObject)

/* Loads and checks the schedule: every member the computation reads must be present and of the
 * right kind, every id referenced must exist, every catch-up rule must be one this code knows.
 * Errors are WZ_ERROR_INVALID naming the place in the file. */
WzNipSchedule       *wz_nip_schedule_new_from_data  (const char     *data,
                                                     gssize          length,
                                                     GError        **error);
WzNipSchedule       *wz_nip_schedule_new_from_file  (const char     *path,
                                                     GError        **error);
/* The clinic's zone when the patient names none (rules.timezone_default). */
const char          *wz_nip_schedule_get_default_time_zone (WzNipSchedule *self);
const WzNipVaccine  *wz_nip_schedule_get_vaccine    (WzNipSchedule  *self,
                                                     const char     *id);
/* WzNipVaccine, in file order. */
GPtrArray           *wz_nip_schedule_get_vaccines   (WzNipSchedule  *self);
/* WzNipQuestion, in file order. */
GPtrArray           *wz_nip_schedule_get_questions  (WzNipSchedule  *self);
const WzNipQuestion *wz_nip_schedule_get_question   (WzNipSchedule  *self,
                                                     const char     *id);
const WzText        *wz_nip_schedule_get_title      (WzNipSchedule  *self);

/* One recorded dose. */
typedef struct
{
  const char *vaccine;       /* vaccines[].id */
  WzDay       date;          /* civil date given, in the clinic's zone */
  const char *immunization;  /* "Immunization/ID", or NULL */
  gboolean    counted;       /* the doctor counts it although it was given too early */
} WzNipDose;

/* Doses read from Immunization resources. */
typedef struct
{
  GArray       *doses;     /* WzNipDose, strings owned here or by the schedule */
  GPtrArray    *skipped;   /* char *: why a completed programme dose could not be read */
  GStringChunk *strings;
} WzNipHistory;

/* Doses from Immunization resources (an array of resources, a Bundle, or one resource): only
 * status completed with a programme vaccine code (WZ_NIP_VACCINE_SYSTEM, or any coding whose code
 * is a programme id or abbreviation); occurrenceDateTime is read as a civil date in TZ. Doses
 * whose date cannot be read are left out and named in skipped. */
WzNipHistory        *wz_nip_history_from_json       (WzNipSchedule  *self,
                                                     JsonNode       *root,
                                                     GTimeZone      *tz);
void                 wz_nip_history_free            (WzNipHistory   *history);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WzNipHistory, wz_nip_history_free)

/* Why a dose has the status it has, or what the doctor must know. */
typedef enum
{
  WZ_NIP_REASON_CATCH_UP        = 1 << 0,  /* later than the routine age */
  WZ_NIP_REASON_INVALID_DOSE    = 1 << 1,  /* a recorded dose was too early and is not counted */
  WZ_NIP_REASON_WINDOW_CLOSED   = 1 << 2,  /* past the age limit for this dose */
  WZ_NIP_REASON_REPLACED        = 1 << 3,  /* the series rules give another product instead */
  WZ_NIP_REASON_TUBERCULIN_TEST = 1 << 4,  /* BCG from 3 months: negative skin test first */
  WZ_NIP_REASON_LIVE_SPACING    = 1 << 5,  /* 28 days after another injectable live vaccine */
  WZ_NIP_REASON_COUNTED         = 1 << 6,  /* early dose counted by the doctor's decision */
  WZ_NIP_REASON_ONLY_BOPV       = 1 << 7,  /* polio history without IPV: check IPV catch-up */
} WzNipReason;

typedef struct
{
  const char         *series;        /* series id */
  const WzText       *series_name;
  guint               dose;          /* 1-based dose number in the series */
  guint               series_doses;  /* doses the child needs in this series */
  const WzNipVaccine *product;
  WzNipStatus         status;
  WzDay               earliest;      /* minimum age and intervals met */
  WzDay               due;           /* the later of earliest and today's projection */
  WzDay               overdue;       /* complete_before, or due + the overdue policy */
  WzDay               latest;        /* last day of the catch-up window (0: none) */
  WzDay               given;         /* completed doses: the day given */
  const char         *immunization;  /* completed: the Immunization that fills it */
  guint               reasons;       /* WzNipReason */
  /* Invalid recorded doses that tried to fill this one (WzNipDose, copied). */
  GArray             *invalid;
  GPtrArray          *invalid_why;   /* char *, English, one per invalid dose */
  GPtrArray          *invalid_why_zh;
} WzNipForecastDose;

typedef struct
{
  WzDay      birth;
  WzDay      today;
  GArray    *doses;    /* WzNipForecastDose, by series (file order), then dose */
  GArray    *extra;    /* WzNipDose recorded beyond what a series needs */
} WzNipForecast;

void                 wz_nip_forecast_free           (WzNipForecast  *forecast);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WzNipForecast, wz_nip_forecast_free)

/* Computes every programme dose for a child born on BIRTH, as of TODAY (the civil date in the
 * clinic's zone), given HISTORY. PREFER: series ids to choose where the file offers
 * alternatives (JE-L/JE-I, HepA-L/HepA-I) and the history does not decide; NULL for the first
 * listed. */
WzNipForecast       *wz_nip_schedule_compute        (WzNipSchedule  *self,
                                                     WzDay           birth,
                                                     WzDay           today,
                                                     const WzNipDose *history,
                                                     guint           n_history,
                                                     const char *const *prefer,
                                                     GError        **error);
const char          *wz_nip_status_to_string        (WzNipStatus     status);
/* The forecast as a FHIR ImmunizationRecommendation (JSON text) for PATIENT_REF, texts in LANG.
 * DATE_TIME is its date (when it was computed). */
GBytes              *wz_nip_forecast_to_fhir        (WzNipSchedule  *self,
                                                     const WzNipForecast *forecast,
                                                     const char     *patient_ref,
                                                     const char     *date_time,
                                                     const char     *lang);

/* The adverse-event follow-up Tasks for a dose of VACCINE given on GIVEN: one per check of the
 * data file, due GIVEN + day, on time within its window, owned by OWNER_REF (who calls the
 * family), with a business identifier derived from IMMUNIZATION_REF so creating them again finds
 * the same Tasks. JsonNode, in file order; empty for an unknown vaccine. */
GPtrArray           *wz_nip_reaction_tasks          (WzNipSchedule  *self,
                                                     const char     *vaccine,
                                                     WzDay           given,
                                                     const char     *immunization_ref,
                                                     const char     *patient_ref,
                                                     const char     *owner_ref,
                                                     const char     *authored_on,
                                                     const char     *lang);

typedef struct
{
  const char *immunization_ref;  /* the dose suspected */
  const char *patient_ref;
  const char *recorder_ref;      /* Practitioner, or the Patient who reported it */
  const char *onset;             /* FHIR date or dateTime the reaction began */
  const char *recorded;          /* FHIR dateTime it was reported */
  const char *description;       /* what happened, in the reporter's words */
  const char *severity;          /* mild | moderate | severe */
  gboolean    serious;           /* hospitalisation, life-threatening, … */
} WzNipReaction;

/* A reported reaction as a FHIR AdverseEvent (actuality actual, the Immunization as suspect
 * entity); NULL with WZ_ERROR_INVALID when a required field is missing or malformed. */
JsonNode            *wz_nip_adverse_event           (WzNipSchedule  *self,
                                                     const WzNipReaction *reaction,
                                                     GError        **error);

G_END_DECLS
