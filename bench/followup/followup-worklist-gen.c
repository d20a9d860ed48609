/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Helper for bench/followup-worklist: a data directory with one doctor ("doctor", password from
 * WZ_BENCH_PASSWORD) and N patients on care plans made from the shipped templates, started over
 * the last year, with past Tasks done (a few missed; those done over a month ago left out),
 * upcoming ones open, and home readings of which some are out of range. Written straight to the
 * store, as the server would store them, with the Flags the server raises for readings out of
 * range. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "wz-audit.h"
#include "wz-auth.h"
#include "wz-careplan-template.h"
#include "wz-followup-alerts.h"
#include "wz-sqlite-store.h"
#include "wz-time.h"
#include "wz-user-admin.h"

static const char *families[] = { "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周",
                                  "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗" };
static const char *givens[] = { "伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军",
                                "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀兰", "霞" };

static gboolean
store (WzStore     *st,
       JsonNode    *node,
       char       **out_id,
       GError     **error)
{
  g_autoptr(WzStoredResource) stored = wz_store_create (st, json_node_get_object (node), NULL,
                                                        NULL, error);

  if (stored == NULL)
    return FALSE;
  if (out_id != NULL)
    *out_id = g_strdup (stored->id);
  return TRUE;
}

static JsonNode *
parse (const char *text)
{
  JsonNode *node = json_from_string (text, NULL);

  g_assert (node != NULL);
  return node;
}

static char *
task_window_end (JsonObject *task)
{
  return g_strdup (json_object_get_string_member (json_object_get_object_member (
                     json_object_get_object_member (task, "restriction"), "period"), "end"));
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WzSqliteStore) sqlite = NULL;
  g_autoptr(WzAuth) auth = NULL;
  g_autoptr(WzAudit) audit = NULL;
  g_autoptr(GPtrArray) templates = NULL;
  g_autoptr(GTimeZone) tz = g_time_zone_new_identifier ("Asia/Shanghai");
  g_autofree char *templates_path = NULL;
  g_autofree char *practitioner = NULL;
  g_autofree char *doctor_ref = NULL;
  const char *data_dir_env = g_getenv ("WZ_DATA_DIR");
  const char *password = g_getenv ("WZ_BENCH_PASSWORD");
  WzStore *st;
  WzDay today;
  guint n_patients, n_tasks = 0, n_open = 0, n_missed = 0, n_observations = 0, n_history = 0;
  guint n_flags = 0;
  gint64 started = g_get_monotonic_time ();
  GRand *rand;

  if (argc != 3 || (n_patients = atoi (argv[2])) == 0)
    {
      g_printerr ("usage: %s DATA_DIR N_PATIENTS\n", argv[0]);
      return 2;
    }

  templates_path = g_build_filename (data_dir_env ? data_dir_env : SOURCE_DATADIR, "clinical",
                                     "followup-templates.json", NULL);
  if ((templates = wz_careplan_template_load_file (templates_path, &error)) == NULL ||
      (sqlite = wz_sqlite_store_open (argv[1], &error)) == NULL ||
      (auth = wz_auth_open (argv[1], &error)) == NULL ||
      (audit = wz_audit_open (argv[1], &error)) == NULL ||
      (practitioner = wz_user_admin_add (WZ_STORE (sqlite), auth, audit, "followup-worklist-gen",
                                         "doctor", password ? password : "bench-password",
                                         "doctor", "李伟 Li Wei", WZ_AUTH_ADD_USER_NONE,
                                         &error)) == NULL)
    {
      g_printerr ("followup-worklist-gen: %s\n", error->message);
      return 1;
    }
  st = WZ_STORE (sqlite);
  doctor_ref = g_strconcat ("Practitioner/", practitioner, NULL);
  today = wz_day_today (tz, wz_time_now_us ());
  rand = g_rand_new_with_seed (8);

  for (guint i = 0; i < n_patients; i++)
    {
      gboolean diabetes = g_rand_int_range (rand, 0, 10) < 4;
      WzCareplanTemplate *template = wz_careplan_template_find (templates, diabetes
                                                                           ? "type2_diabetes"
                                                                           : "hypertension");
      WzDay start = wz_day_add_days (today, -g_rand_int_range (rand, 0, 365));
      g_autofree char *birth = wz_day_format (wz_day_add_days (today,
                                                               -365 * g_rand_int_range (rand, 40, 86)));
      g_autofree char *patient_text = g_strdup_printf (
        "{\"resourceType\":\"Patient\",\"active\":true,\"name\":[{\"family\":\"%s\",\"given\":"
        "[\"%s\"]}],\"gender\":\"%s\",\"birthDate\":\"%s\",\"generalPractitioner\":[{"
        "\"reference\":\"%s\"}]}", families[g_rand_int_range (rand, 0, G_N_ELEMENTS (families))],
        givens[g_rand_int_range (rand, 0, G_N_ELEMENTS (givens))],
        g_rand_boolean (rand) ? "male" : "female", birth, doctor_ref);
      g_autoptr(JsonNode) patient = parse (patient_text);
      g_autofree char *patient_id = NULL;
      g_autofree char *patient_ref = NULL;
      g_autofree char *identifier = g_strdup_printf ("urn:uuid:bench-plan-%06u", i);
      g_autofree char *authored = NULL;
      g_autofree char *plan_id = NULL;
      g_autofree char *plan_ref = NULL;
      g_autoptr(WzCareplanInstance) instance = NULL;
      char today_text[16], start_text[16], month_ago_text[16];
      WzCareplanRequest request = { NULL, };

      if (!store (st, patient, &patient_id, &error))
        goto fail;
      patient_ref = g_strconcat ("Patient/", patient_id, NULL);
      authored = g_strdup_printf ("%sT09:00:00+08:00", wz_day_format_buf (start, start_text));

      request.patient_ref = patient_ref;
      request.author_ref = doctor_ref;
      request.identifier = identifier;
      request.anchor = start;
      request.created = start;
      request.age_years = -1;
      request.authored_on = authored;
      request.lang = "zh";
      if ((instance = wz_careplan_template_instantiate (template, &request, &error)) == NULL ||
          !store (st, instance->careplan, &plan_id, &error))
        goto fail;
      plan_ref = g_strconcat ("CarePlan/", plan_id, NULL);
      wz_careplan_instance_set_plan (instance, plan_ref);

      wz_day_format_buf (today, today_text);
      wz_day_format_buf (wz_day_add_days (today, -30), month_ago_text);
      for (guint t = 0; t < instance->tasks->len; t++)
        {
          JsonObject *task = json_node_get_object (g_ptr_array_index (instance->tasks, t));
          g_autofree char *end = task_window_end (task);
          const char *code = json_object_get_string_member (
            json_array_get_object_element (json_object_get_array_member (
              json_object_get_object_member (task, "code"), "coding"), 0), "code");

          /* What was due before today is done, except now and then. Tasks done more than
           * 30 days ago are left out: history the worklist never reads (its view loads open
           * Tasks and then follows changes), and each costs a commit to write. */
          if (strcmp (code, "measurement") != 0 && strcmp (end, today_text) < 0)
            {
              if (g_rand_int_range (rand, 0, 100) < 3)
                n_missed++;
              else if (strcmp (end, month_ago_text) < 0)
                {
                  n_history++;
                  continue;
                }
              else
                json_object_set_string_member (task, "status", "completed");
            }
          if (strcmp (json_object_get_string_member (task, "status"), "completed") != 0)
            n_open++;
          if (!store (st, g_ptr_array_index (instance->tasks, t), NULL, &error))
            goto fail;
          n_tasks++;
        }

      /* Two home blood-pressure readings in the last fortnight; one in eight high, one in
       * thirty urgent. */
      for (guint r = 0; r < 2; r++)
        {
          gint roll = g_rand_int_range (rand, 0, 240);
          gint systolic = roll < 8 ? 182 : roll < 38 ? g_rand_int_range (rand, 140, 170)
                                                     : g_rand_int_range (rand, 112, 129);
          g_autofree char *when = wz_day_format (wz_day_add_days (today,
                                                                  -g_rand_int_range (rand, 0, 14)));
          g_autofree char *text = g_strdup_printf (
            "{\"resourceType\":\"Observation\",\"status\":\"final\",\"subject\":{\"reference\":"
            "\"%s\"},\"effectiveDateTime\":\"%sT07:%02d:00+08:00\",\"code\":{\"coding\":[{"
            "\"system\":\"http://loinc.org\",\"code\":\"85354-9\"}]},\"component\":[{\"code\":"
            "{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"8480-6\"}]},"
            "\"valueQuantity\":{\"value\":%d,\"unit\":\"mmHg\",\"system\":"
            "\"http://unitsofmeasure.org\",\"code\":\"mm[Hg]\"}},{\"code\":{\"coding\":[{"
            "\"system\":\"http://loinc.org\",\"code\":\"8462-4\"}]},\"valueQuantity\":{\"value\":"
            "%d,\"unit\":\"mmHg\",\"system\":\"http://unitsofmeasure.org\",\"code\":\"mm[Hg]\"}}]}",
            patient_ref, when, (gint) r * 10, systolic, systolic * 6 / 10);
          g_autoptr(JsonNode) observation = parse (text);
          g_autoptr(WzStoredResource) stored = NULL;
          g_autoptr(GPtrArray) flags = NULL;

          /* As the server does for every new reading: out of the plan's target, a Flag. */
          if ((stored = wz_store_create (st, json_node_get_object (observation), NULL, NULL,
                                         &error)) == NULL ||
              (flags = wz_followup_alerts_judge (st, stored, &error)) == NULL)
            goto fail;
          n_flags += flags->len;
          n_observations++;
        }
    }

  wz_audit_flush (audit);
  g_rand_free (rand);
  g_print ("generated %u patients, %u care plans, %u Tasks (%u open, %u missed; %u done over a "
           "month ago left out), %u Observations (%u Flags) in %.1f s\n", n_patients, n_patients,
           n_tasks, n_open, n_missed, n_history, n_observations, n_flags,
           (g_get_monotonic_time () - started) / 1e6);
  return 0;

fail:
  g_printerr ("followup-worklist-gen: %s\n", error->message);
  g_rand_free (rand);
  return 1;
}
