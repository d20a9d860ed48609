/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-demo-data"

#include "config.h"

#include "wz-demo-data.h"

#include <json-glib/json-glib.h>

#include "wz-audit.h"
#include "wz-demo-fhir.h"
#include "wz-demo-people.h"
#include "wz-demo-record.h"
#include "wz-auth.h"
#include "wz-error.h"
#include "wz-followup-demo.h"
#include "wz-preconsult.h"
#include "wz-sqlite-store.h"
#include "wz-user-admin.h"

typedef struct
{
  const char *family;       /* 张 */
  const char *given;        /* 秀英 */
  const char *pinyin;       /* Zhang Xiuying */
  const char *gender;
  const char *birth_date;   /* NULL: a child, computed from today */
  const char *condition;    /* SNOMED code|中文 English */
  const char *condition2;
  const char *allergy;      /* SNOMED code|中文 English|criticality|reaction */
} DemoPatient;

static const DemoPatient patients[] = {
  { "张", "秀英", "Zhang Xiuying", "female", "1951-03-14",
    "38341003|高血压 Hypertension", "44054006|2型糖尿病 Type 2 diabetes mellitus",
    "764146007|青霉素 Penicillin|high|荨麻疹 Hives" },
  { "王", "浩然", "Wang Haoran", "male", NULL,
    "10509002|急性支气管炎 Acute bronchitis", NULL,
    "102263004|鸡蛋 Eggs|low|皮疹 Rash" },
  { "刘", "洋", "Liu Yang", "male", "1988-07-02",
    "195967001|哮喘 Asthma", NULL,
    "387458008|阿司匹林 Aspirin|high|支气管痉挛 Bronchospasm" },
  { "陈", "静", "Chen Jing", "female", "1992-11-23",
    "37796009|偏头痛 Migraine", NULL, NULL },
  { "杨", "志强", "Yang Zhiqiang", "male", "1965-05-09",
    "53741008|冠心病 Coronary arteriosclerosis", "55822004|高脂血症 Hyperlipidaemia", NULL },
  { "赵", "丽", "Zhao Li", "female", "1979-02-17",
    "40930008|甲状腺功能减退 Hypothyroidism", NULL, NULL },
  { "黄", "小明", "Huang Xiaoming", "male", "2001-09-30",
    "43116000|湿疹 Eczema", NULL,
    "256349002|花生 Peanuts|high|过敏性休克 Anaphylaxis" },
  { "周", "桂兰", "Zhou Guilan", "female", "1938-12-05",
    "13645005|慢性阻塞性肺疾病 Chronic obstructive lung disease",
    "64859006|骨质疏松 Osteoporosis", NULL },
};

/* The second doctor's own patients: on nobody else's care team, so the demo shows that each
 * doctor sees only their own. */
static const DemoPatient other_patients[] = {
  { "孙", "丽华", "Sun Lihua", "female", "1975-06-18",
    "38341003|高血压 Hypertension", NULL, NULL },
  { "林", "志明", "Lin Zhiming", "male", "1969-10-02",
    "44054006|2型糖尿病 Type 2 diabetes mellitus", NULL,
    "764146007|青霉素 Penicillin|high|荨麻疹 Hives" },
};

#define OTHER_DOCTOR_NAME "张敏 Zhang Min"

/* Today's visits: minutes from the moment the demo is made, Appointment status, Encounter
 * status. Relative, so whoever opens the demo sees a clinic that is running now (patients waiting
 * minutes, not since the morning), whatever the hour. */
static const struct
{
  int         minutes_from_now;
  const char *appointment_status;
  const char *encounter_status;
} visits[] = {
  { -100, "fulfilled", "finished" },
  { -45, "arrived", "in-progress" },
  { -25, "arrived", "arrived" },
  { -12, "booked", "planned" },
  { -5, "booked", "planned" },
  { 40, "cancelled", "cancelled" },
};

/* SLOT's time today, on a 5-minute boundary; kept inside today and in slot order just after
 * midnight or just before it, so every visit still belongs to today's queue. */
static char *
visit_time (guint slot,
            int   extra_minutes)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autoptr(GDateTime) midnight = g_date_time_new_local (g_date_time_get_year (now),
                                                         g_date_time_get_month (now),
                                                         g_date_time_get_day_of_month (now),
                                                         0, 0, 0);
  gint64 minute = g_date_time_difference (now, midnight) / G_TIME_SPAN_MINUTE;
  g_autoptr(GDateTime) at = NULL;

  minute = (minute + visits[slot].minutes_from_now) / 5 * 5;
  minute = CLAMP (minute, (gint64) slot * 5, 23 * 60 + 20 + (gint64) slot * 5);
  at = g_date_time_add_minutes (midnight, (int) minute + extra_minutes);

  return g_date_time_format (at, "%Y-%m-%dT%H:%M:%S%:z");
}

/* NAME: [{"reference", "display"}], as a Patient names their own doctor. */
static void
add_reference_array (JsonBuilder *b,
                     const char  *name,
                     const char  *reference,
                     const char  *display)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  wz_demo_fhir_add_string (b, "reference", reference);
  wz_demo_fhir_add_string (b, "display", display);
  json_builder_end_object (b);
  json_builder_end_array (b);
}

static char *
child_birth_date (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autoptr(GDateTime) birth = g_date_time_add_full (now, -4, -3, -10, 0, 0, 0);

  return g_date_time_format (birth, "%Y-%m-%d");
}

static char *
create_patient (WzDemoSink        *demo,
                const DemoPatient *p,
                const char        *doctor,
                const char        *doctor_name,
                GError           **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autofree char *child_birth = p->birth_date ? NULL : child_birth_date ();
  g_autofree char *text = g_strconcat (p->family, p->given, NULL);
  g_auto(GStrv) pinyin = g_strsplit (p->pinyin, " ", 2);
  g_autofree char *phone = g_strdup_printf ("+86 138 %04d %04d", g_random_int_range (0, 10000),
                                            g_random_int_range (0, 10000));

  wz_demo_fhir_begin_resource (b, "Patient");
  json_builder_set_member_name (b, "active");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_set_member_name (b, "name");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  wz_demo_fhir_add_string (b, "use", "official");
  wz_demo_fhir_add_string (b, "text", text);
  wz_demo_fhir_add_string (b, "family", p->family);
  json_builder_set_member_name (b, "given");
  json_builder_begin_array (b);
  json_builder_add_string_value (b, p->given);
  json_builder_end_array (b);
  json_builder_end_object (b);
  json_builder_begin_object (b);
  wz_demo_fhir_add_string (b, "use", "usual");
  wz_demo_fhir_add_string (b, "text", p->pinyin);
  wz_demo_fhir_add_string (b, "family", pinyin[0]);
  json_builder_set_member_name (b, "given");
  json_builder_begin_array (b);
  json_builder_add_string_value (b, pinyin[1]);
  json_builder_end_array (b);
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "telecom");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  wz_demo_fhir_add_string (b, "system", "phone");
  wz_demo_fhir_add_string (b, "value", phone);
  wz_demo_fhir_add_string (b, "use", "mobile");
  json_builder_end_object (b);
  json_builder_end_array (b);
  wz_demo_fhir_add_string (b, "gender", p->gender);
  wz_demo_fhir_add_string (b, "birthDate", p->birth_date ? p->birth_date : child_birth);
  /* The patient's own doctor, which puts them on that doctor's care team. */
  add_reference_array (b, "generalPractitioner", doctor, doctor_name);

  /* A child under 6 is seen with a guardian, who is named on the record. */
  if (p->birth_date == NULL)
    wz_demo_fhir_add_guardian (b, "FTH", "father", "父亲 Father", "王建国", "王", "建国",
                               "+86 139 0000 1234");
  json_builder_end_object (b);

  return wz_demo_fhir_store (demo, b, error);
}

/* A patient beyond the hand-written ones (demo-data --patients N): a made-up person of any age,
 * under DOCTOR's care. */
static char *
create_generated_patient (WzDemoSink         *demo,
                          const WzDemoPerson *person,
                          const char         *doctor,
                          const char         *doctor_name,
                          GError            **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new_immutable ();

  json_builder_begin_object (b);
  wz_demo_fhir_add_string (b, "resourceType", "Patient");
  json_builder_set_member_name (b, "active");
  json_builder_add_boolean_value (b, TRUE);
  wz_demo_person_add_to_patient (person, TRUE, b);
  add_reference_array (b, "generalPractitioner", doctor, doctor_name);
  if (person->age < 6)
    {
      /* A young child is seen with a guardian, who is named on the record. */
      g_autofree char *guardian = g_strconcat (person->family, person->foreign ? " " : "",
                                               "建国", NULL);

      wz_demo_fhir_add_guardian (b, NULL, NULL, NULL, guardian, person->family, NULL, NULL);
    }
  json_builder_end_object (b);

  return wz_demo_fhir_store (demo, b, error);
}

static gboolean
create_condition (WzDemoSink  *demo,
                  const char  *patient,
                  const char  *doctor,
                  const char  *spec,
                  GError     **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_auto(GStrv) parts = g_strsplit (spec, "|", 2);

  wz_demo_fhir_begin_condition (b, "problem-list-item");
  wz_demo_record_add_condition_code (b, parts[0], parts[1]);
  wz_demo_fhir_add_reference (b, "subject", patient, NULL);
  wz_demo_fhir_add_string (b, "recordedDate", "2023-06-01");
  wz_demo_fhir_add_reference (b, "recorder", doctor, NULL);
  json_builder_end_object (b);

  return wz_demo_fhir_store_ok (demo, b, error);
}

static gboolean
create_allergy (WzDemoSink  *demo,
                const char  *patient,
                const char  *spec,
                GError     **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_auto(GStrv) parts = g_strsplit (spec, "|", 4);

  wz_demo_fhir_begin_resource (b, "AllergyIntolerance");
  wz_demo_fhir_add_concept (b, "clinicalStatus",
                            "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                            "active", NULL, NULL);
  wz_demo_fhir_add_concept (b, "verificationStatus",
                            "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
                            "confirmed", NULL, NULL);
  wz_demo_fhir_add_string (b, "type", "allergy");
  json_builder_set_member_name (b, "category");
  json_builder_begin_array (b);
  json_builder_add_string_value (b, g_str_has_prefix (parts[0], "7") ||
                                    g_str_has_prefix (parts[0], "3") ? "medication" : "food");
  json_builder_end_array (b);
  wz_demo_fhir_add_string (b, "criticality", parts[2]);
  wz_demo_fhir_add_concept (b, "code", WZ_DEMO_SNOMED, parts[0], parts[1], parts[1]);
  wz_demo_fhir_add_reference (b, "patient", patient, NULL);
  wz_demo_fhir_add_string (b, "recordedDate", "2022-11-15");
  json_builder_set_member_name (b, "reaction");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  wz_demo_fhir_add_list_of_one (b, "manifestation", "text", parts[3]);
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_end_object (b);

  return wz_demo_fhir_store_ok (demo, b, error);
}

static gboolean
create_visit (WzDemoSink  *demo,
              const char  *patient,
              const char  *patient_name,
              const char  *doctor,
              const char  *doctor_name,
              guint        slot,
              GError     **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonBuilder) e = json_builder_new ();
  g_autofree char *start = visit_time (slot, 0);
  g_autofree char *end = visit_time (slot, 20);
  g_autofree char *appointment = NULL;
  const char *reasons[] = { "复诊 Follow-up visit", "咳嗽三天 Cough for three days",
                            "复诊开药 Repeat prescription", "头痛 Headache",
                            "血压复查 Blood pressure review", "皮疹 Rash" };

  wz_demo_fhir_begin_resource (b, "Appointment");
  wz_demo_fhir_add_string (b, "status", visits[slot].appointment_status);
  wz_demo_fhir_add_concept (b, "appointmentType", "http://terminology.hl7.org/CodeSystem/v2-0276",
                            slot % 2 ? "FOLLOWUP" : "ROUTINE", NULL, NULL);
  wz_demo_fhir_add_string (b, "description", reasons[slot % G_N_ELEMENTS (reasons)]);
  wz_demo_fhir_add_string (b, "start", start);
  wz_demo_fhir_add_string (b, "end", end);
  json_builder_set_member_name (b, "participant");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  wz_demo_fhir_add_reference (b, "actor", patient, patient_name);
  wz_demo_fhir_add_string (b, "status", "accepted");
  json_builder_end_object (b);
  json_builder_begin_object (b);
  wz_demo_fhir_add_reference (b, "actor", doctor, doctor_name);
  wz_demo_fhir_add_string (b, "status", "accepted");
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_end_object (b);

  if ((appointment = wz_demo_fhir_store (demo, b, error)) == NULL)
    return FALSE;

  wz_demo_fhir_build_encounter (e, visits[slot].encounter_status, patient, patient_name, doctor,
                                doctor_name, appointment, start,
                                g_strcmp0 (visits[slot].encounter_status, "finished") == 0 ? end
                                                                                            : NULL,
                                reasons[slot % G_N_ELEMENTS (reasons)]);

  return wz_demo_fhir_store_ok (demo, e, error);
}

static gboolean
data_dir_is_empty (const char  *data_dir,
                   GError     **error)
{
  const char *files[] = { "fhir.db", "auth.db", "audit.db" };

  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_build_filename (data_dir, files[i], NULL);

      if (g_file_test (path, G_FILE_TEST_EXISTS))
        {
          g_set_error (error, WZ_ERROR, WZ_ERROR_CONFLICT,
                       "%s already holds data (%s); demo-data only fills a new, empty data "
                       "directory, so nothing was changed", data_dir, files[i]);
          return FALSE;
        }
    }

  return TRUE;
}

gboolean
wz_demo_data_create (const char  *data_dir,
                     guint        n_patients,
                     const char  *password,
                     GError     **error)
{
  g_autoptr(WzSqliteStore) store_ = NULL;
  g_autoptr(WzAuth) auth = NULL;
  g_autoptr(WzAudit) audit = NULL;
  g_autofree char *doctor_id = NULL;
  g_autofree char *pharmacist_id = NULL;
  g_autofree char *admin_id = NULL;
  g_autofree char *other_doctor_id = NULL;
  g_autofree char *doctor = NULL;
  g_autofree char *other_doctor = NULL;
  g_autoptr(WzPreconsult) preconsult = NULL;
  g_autofree char *followup_adult = NULL;
  g_autofree char *followup_child = NULL;
  g_autofree char *pharmacist = NULL;
  /* Seeded: the same --patients N gives the same people every time. */
  g_autoptr(GRand) rand = g_rand_new_with_seed (20240501);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  WzDemoSink demo;

  if (!data_dir_is_empty (data_dir, error))
    return FALSE;

  if ((store_ = wz_sqlite_store_open (data_dir, error)) == NULL ||
      (auth = wz_auth_open (data_dir, error)) == NULL ||
      (audit = wz_audit_open (data_dir, error)) == NULL)
    return FALSE;

  demo.store = WZ_STORE (store_);
  demo.audit = audit;

  if ((doctor_id = wz_user_admin_add (demo.store, auth, audit, WZ_DEMO_AGENT, "doctor", password,
                                      "doctor", "李伟 Li Wei", WZ_AUTH_ADD_USER_DEMO_PASSWORD,
                                      error)) == NULL ||
      (pharmacist_id = wz_user_admin_add (demo.store, auth, audit, WZ_DEMO_AGENT, "pharmacist",
                                          password, "pharmacist", "王芳 Wang Fang",
                                          WZ_AUTH_ADD_USER_DEMO_PASSWORD, error)) == NULL ||
      (admin_id = wz_user_admin_add (demo.store, auth, audit, WZ_DEMO_AGENT, "admin", password,
                                     "admin", "系统管理员 Administrator",
                                     WZ_AUTH_ADD_USER_DEMO_PASSWORD, error)) == NULL ||
      (other_doctor_id = wz_user_admin_add (demo.store, auth, audit, WZ_DEMO_AGENT, "doctor2",
                                            password, "doctor", OTHER_DOCTOR_NAME,
                                            WZ_AUTH_ADD_USER_DEMO_PASSWORD, error)) == NULL)
    return FALSE;

  doctor = g_strconcat ("Practitioner/", doctor_id, NULL);
  if ((preconsult = wz_preconsult_new (demo.store, audit, error)) == NULL ||
      !wz_preconsult_seed_questionnaire (preconsult, error))
    return FALSE;
  other_doctor = g_strconcat ("Practitioner/", other_doctor_id, NULL);
  pharmacist = g_strconcat ("Practitioner/", pharmacist_id, NULL);

  /* Everything from here on is one transaction: written at once (tens of thousands of patients
   * in seconds, not one fsync each), or not at all. */
  if (!wz_sqlite_store_begin_batch (store_, error))
    return FALSE;

  for (guint i = 0; i < n_patients; i++)
    {
      const DemoPatient *p = i < G_N_ELEMENTS (patients) ? &patients[i] : NULL;
      g_autofree char *patient = NULL;
      g_autofree char *name = NULL;

      if (p == NULL)
        {
          /* Further patients, so a doctor's list can be as long as a real one. */
          g_autoptr(WzDemoPerson) person = wz_demo_person_new_random (rand, now);

          if ((patient = create_generated_patient (&demo, person, doctor, "李伟 Li Wei",
                                                   error)) == NULL ||
              (i % 3 == 0 && !create_condition (&demo, patient, doctor,
                                                "38341003|高血压 Hypertension", error)))
            goto failed;
          continue;
        }

      if ((patient = create_patient (&demo, p, doctor, "李伟 Li Wei", error)) == NULL)
        goto failed;
      name = g_strconcat (p->family, p->given, " ", p->pinyin, NULL);
      if (i == 0)
        followup_adult = g_strdup (patient);
      else if (i == 1)
        followup_child = g_strdup (patient);

      if ((p->condition != NULL && !create_condition (&demo, patient, doctor, p->condition, error)) ||
          (p->condition2 != NULL && !create_condition (&demo, patient, doctor, p->condition2, error)) ||
          (p->allergy != NULL && !create_allergy (&demo, patient, p->allergy, error)))
        goto failed;

      if (i < G_N_ELEMENTS (visits) &&
          !create_visit (&demo, patient, name, doctor, "李伟 Li Wei", i, error))
        goto failed;

      /* Months of history behind each hand-written patient, for the record pane. */
      if (i < G_N_ELEMENTS (patients) &&
          !wz_demo_record_add (demo.store, audit, patient, doctor, i, error))
        goto failed;

      /* Two of the day's visits come with the patient's pre-consultation answers, triaged. */
      if ((i == 3 || i == 4) &&
          !wz_preconsult_add_demo_answers (preconsult, patient,
                                           i == 4 ? WZ_PRECONSULT_DEMO_ROUTINE
                                                  : WZ_PRECONSULT_DEMO_URGENT, error))
        goto failed;
    }

  /* Follow-up: the first patient (hypertensive) on a care plan, the second (a child) with a
   * vaccination history. */
  if (!wz_followup_demo_add (demo.store, followup_adult, followup_child, doctor, pharmacist,
                             error))
    goto failed;

  for (guint i = 0; n_patients > 0 && i < G_N_ELEMENTS (other_patients); i++)
    {
      const DemoPatient *p = &other_patients[i];
      g_autofree char *patient = NULL;
      g_autofree char *name = NULL;

      if ((patient = create_patient (&demo, p, other_doctor, OTHER_DOCTOR_NAME, error)) == NULL)
        goto failed;
      name = g_strconcat (p->family, p->given, " ", p->pinyin, NULL);
      /* One waiting, one booked for later: slots 2 and 3 of the day. */
      if (!create_condition (&demo, patient, other_doctor, p->condition, error) ||
          (p->allergy != NULL && !create_allergy (&demo, patient, p->allergy, error)) ||
          !create_visit (&demo, patient, name, other_doctor, OTHER_DOCTOR_NAME, 2 + i, error))
        goto failed;
    }

  if (!wz_sqlite_store_end_batch (store_, TRUE, error))
    return FALSE;

  wz_audit_flush (audit);
  wz_sqlite_store_close (store_);

  return TRUE;

failed:
  wz_sqlite_store_end_batch (store_, FALSE, NULL);
  return FALSE;
}
