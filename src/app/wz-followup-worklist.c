/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-followup-worklist"

#include "config.h"

#include "wz-followup-worklist.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <stdio.h>

#include "wz-allergy-badge.h"
#include "wz-fhir-json.h"
#include "wz-followup-entry.h"
#include "wz-followup-format.h"
#include "wz-followup-row.h"
#include "wz-id.h"
#include "wz-patient-item.h"
#include "wz-test-report.h"
#include "wz-time.h"

/* Changes arriving together (a check-in answered with several values) are read once. */
#define EVENT_DELAY_MS 600
/* How far ahead the Upcoming group looks. */
#define UPCOMING_DAYS 7

/* The doctor's follow-up worklist in the sidebar: overdue, today's and the coming week's
 * follow-up Tasks across their patients, with the patients' latest readings against their
 * targets. Read from GET /followup/worklist (today, and a week ahead for Upcoming). */
struct _WzFollowupWorklist
{
  GtkWidget     parent_instance;

  GtkLabel     *summary_label;
  GtkStack     *stack;
  AdwStatusPage *error_page;
  GtkListView  *list_view;

  WzApiClient  *client;
  GCancellable *cancellable;
  GListStore   *entries;
  JsonNode     *today_list;
  GHashTable   *patients;       /* "Patient/ID" → PatientInfo */
  GHashTable   *urgent;         /* "Patient/ID" known to have an urgent reading */
  guint         event_source;
  gboolean      loaded_once;
  gboolean      from_event;
};

G_DEFINE_FINAL_TYPE (WzFollowupWorklist, wz_followup_worklist, GTK_TYPE_WIDGET)

enum {
  OPEN_PATIENT,
  TOAST,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

typedef struct
{
  char  *details;
  GStrv  allergies;
  gboolean asked;
} PatientInfo;

static void
patient_info_free (PatientInfo *info)
{
  g_free (info->details);
  g_strfreev (info->allergies);
  g_free (info);
}

/* ---- Patients' details and allergies ------------------------------------------------------ */

static void
apply_patient_info (WzFollowupWorklist *self,
                    const char         *patient,
                    PatientInfo        *info)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->entries));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(WzFollowupEntry) entry = g_list_model_get_item (G_LIST_MODEL (self->entries), i);

      if (g_strcmp0 (wz_followup_entry_get_patient (entry), patient) != 0)
        continue;
      if (info->details != NULL)
        wz_followup_entry_set_details (entry, info->details);
      if (info->allergies != NULL)
        wz_followup_entry_set_allergies (entry, (const char * const *) info->allergies);
    }
}

typedef struct
{
  WzFollowupWorklist *self;
  char               *patient;
} PatientFetch;

static void
patient_fetch_free (PatientFetch *fetch)
{
  g_object_unref (fetch->self);
  g_free (fetch->patient);
  g_free (fetch);
}

static void
on_patient_read (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  PatientFetch *fetch = user_data;
  g_autoptr(JsonNode) node = wz_api_client_get_json_finish (WZ_API_CLIENT (object), result, NULL);
  PatientInfo *info = g_hash_table_lookup (fetch->self->patients, fetch->patient);

  if (node != NULL && info != NULL && JSON_NODE_HOLDS_OBJECT (node))
    {
      g_autoptr(GDate) today = g_date_new ();
      g_autoptr(WzPatientItem) item = NULL;

      g_date_set_time_t (today, time (NULL));
      item = wz_patient_item_new_from_resource (json_node_get_object (node), today);

      g_free (info->details);
      info->details = g_strdup (wz_patient_item_get_details (item));
      apply_patient_info (fetch->self, fetch->patient, info);
    }
  patient_fetch_free (fetch);
}

static void
on_allergies_read (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  PatientFetch *fetch = user_data;
  g_autoptr(JsonNode) node = wz_api_client_get_json_finish (WZ_API_CLIENT (object), result, NULL);
  PatientInfo *info = g_hash_table_lookup (fetch->self->patients, fetch->patient);

  if (node != NULL && info != NULL)
    {
      g_strfreev (info->allergies);
      info->allergies = wz_allergy_names_from_bundle (node);
      apply_patient_info (fetch->self, fetch->patient, info);
      wz_test_report_when_settled (GTK_WIDGET (fetch->self), NULL,
                                   "followup-worklist-allergies patient=%s n=%u", fetch->patient,
                                   g_strv_length (info->allergies));
    }
  patient_fetch_free (fetch);
}

static void
want_patient (WzFollowupWorklist *self,
              const char         *patient)
{
  PatientInfo *info = g_hash_table_lookup (self->patients, patient);
  PatientFetch *fetch;
  g_autofree char *path = NULL;
  g_autofree char *escaped = NULL;

  if (info != NULL)
    {
      apply_patient_info (self, patient, info);
      return;
    }
  info = g_new0 (PatientInfo, 1);
  g_hash_table_insert (self->patients, g_strdup (patient), info);

  fetch = g_new0 (PatientFetch, 1);
  fetch->self = g_object_ref (self);
  fetch->patient = g_strdup (patient);
  path = g_strconcat ("/fhir/", patient, NULL);
  wz_api_client_get_json_async (self->client, path, self->cancellable, on_patient_read, fetch);

  fetch = g_new0 (PatientFetch, 1);
  fetch->self = g_object_ref (self);
  fetch->patient = g_strdup (patient);
  escaped = g_uri_escape_string (patient, NULL, FALSE);
  g_free (path);
  path = g_strdup_printf ("/fhir/AllergyIntolerance?patient=%s&clinical-status=active&_count=50",
                          escaped);
  wz_api_client_get_json_async (self->client, path, self->cancellable, on_allergies_read, fetch);
}

/* ---- Building the list -------------------------------------------------------------------- */

static JsonArray *
tasks_where (JsonArray  *tasks,
             const char *timing,
             const char *owner,
             const char *after)
{
  JsonArray *chosen = json_array_new ();

  for (guint i = 0; tasks != NULL && i < json_array_get_length (tasks); i++)
    {
      JsonObject *task = wz_json_array_object (tasks, i);

      if (task == NULL)
        continue;
      if (timing != NULL && g_strcmp0 (wz_json_string (task, "timing"), timing) != 0)
        continue;
      if (owner != NULL && g_strcmp0 (wz_json_string (task, "owner"), owner) != 0)
        continue;
      if (after != NULL && wz_followup_days_between (after, wz_json_string (task, "due")) <= 0)
        continue;
      json_array_add_object_element (chosen, json_object_ref (task));
    }
  return chosen;
}

static void
notify_red_flag (WzFollowupWorklist *self,
                 WzFollowupEntry    *entry)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  g_autoptr(GNotification) notification = NULL;
  g_autofree char *body = NULL;
  g_autofree char *id = NULL;
  JsonArray *measurements = wz_followup_entry_get_measurements (entry);
  const char *message = NULL;
  GApplication *app;

  for (guint i = 0; measurements != NULL && i < json_array_get_length (measurements); i++)
    {
      JsonObject *measurement = wz_json_array_object (measurements, i);

      if (g_str_has_prefix (wz_json_string (measurement, "flag") ?: "", "urgent"))
        {
          message = wz_json_string (measurement, "message");
          break;
        }
    }

  if (!GTK_IS_WINDOW (root) || gtk_window_is_active (GTK_WINDOW (root)))
    {
      wz_test_report ("followup-red-flag patient=%s notified=no", wz_followup_entry_get_patient (entry));
      return;
    }
  app = G_APPLICATION (gtk_window_get_application (GTK_WINDOW (root)));
  if (app == NULL)
    return;

  /* Translators: notification body for a patient's urgent reading; %s is the patient's name */
  body = g_strdup_printf (_("%s reported a reading that needs attention now."),
                          wz_followup_entry_get_name (entry));
  notification = g_notification_new (_("Red Flag in Follow-up"));
  if (message != NULL)
    {
      g_autofree char *full = g_strdup_printf ("%s\n%s", body, message);

      g_notification_set_body (notification, full);
    }
  else
    g_notification_set_body (notification, body);
  g_notification_set_priority (notification, G_NOTIFICATION_PRIORITY_URGENT);
  g_notification_set_default_action_and_target (notification, "app.followup-patient", "s",
                                                wz_followup_entry_get_patient_id (entry));
  id = g_strconcat ("followup-red-flag-", wz_followup_entry_get_patient_id (entry), NULL);
  g_application_send_notification (app, id, notification);
  wz_test_report ("followup-red-flag patient=%s notified=yes", wz_followup_entry_get_patient (entry));
}

static void
report_loaded (WzFollowupWorklist *self,
               guint               counts[3],
               guint               n_flagged_values,
               GString            *flagged,
               const char         *first_overdue)
{
  if (!wz_test_report_enabled ())
    return;
  wz_test_report ("followup-worklist overdue=%u today=%u upcoming=%u flagged-values=%u "
                  "flagged=%s first-overdue=%s",
                  counts[WZ_FOLLOWUP_GROUP_OVERDUE], counts[WZ_FOLLOWUP_GROUP_TODAY],
                  counts[WZ_FOLLOWUP_GROUP_UPCOMING], n_flagged_values,
                  flagged->len > 0 ? flagged->str : "-", first_overdue ? first_overdue : "-");
}

static void
build (WzFollowupWorklist *self,
       JsonNode           *week_list)
{
  JsonObject *today_root = json_node_get_object (self->today_list);
  JsonArray *patients = wz_json_array (today_root, "patients");
  JsonArray *week_patients = week_list && JSON_NODE_HOLDS_OBJECT (week_list)
                             ? wz_json_array (json_node_get_object (week_list), "patients") : NULL;
  const char *today = wz_json_string (today_root, "date");
  WzSession *session = wz_api_client_get_session (self->client);
  g_autofree char *me = session && wz_session_get_practitioner (session)
                        ? g_strdup (wz_session_get_practitioner (session)) : NULL;
  GPtrArray *groups[3] = { NULL, };
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GHashTable) measured = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) urgent = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GString) flagged = g_string_new (NULL);
  g_autoptr(GString) summary = g_string_new (NULL);
  guint counts[3] = { 0, 0, 0 };
  guint n_flagged_values = 0, n_old;
  const char *first_overdue = NULL;

  if (me != NULL && !g_str_has_prefix (me, "Practitioner/"))
    {
      char *full = g_strconcat ("Practitioner/", me, NULL);

      g_free (me);
      me = full;
    }
  for (guint g = 0; g < 3; g++)
    groups[g] = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; patients != NULL && i < json_array_get_length (patients); i++)
    {
      JsonObject *patient = wz_json_array_object (patients, i);
      const char *ref = wz_json_string (patient, "patient");
      const char *alert = wz_json_string (patient, "alert");
      JsonArray *tasks = wz_json_array (patient, "tasks");
      JsonArray *measurements = wz_json_array (patient, "measurements");
      g_autoptr(JsonArray) overdue = tasks_where (tasks, "overdue", NULL, NULL);
      g_autoptr(JsonArray) due = tasks_where (tasks, "due", NULL, NULL);
      gboolean alerting = g_strcmp0 (alert, "none") != 0 && alert != NULL;

      if (ref == NULL)
        continue;
      if (g_strcmp0 (alert, "urgent") == 0)
        g_hash_table_add (urgent, g_strdup (ref));
      for (guint m = 0; measurements != NULL && m < json_array_get_length (measurements); m++)
        {
          JsonObject *measurement = wz_json_array_object (measurements, m);
          const char *flag = wz_json_string (measurement, "flag");

          if (flag != NULL && g_strcmp0 (flag, "none") != 0)
            {
              n_flagged_values++;
              g_string_append_printf (flagged, "%s%s:%s", flagged->len ? "," : "",
                                      wz_json_string (measurement, "id"), flag);
            }
        }
      /* The readings go with the patient's first line, the most pressing one. */
      if (json_array_get_length (overdue) > 0)
        {
          g_ptr_array_add (groups[WZ_FOLLOWUP_GROUP_OVERDUE],
                           wz_followup_entry_new_patient (WZ_FOLLOWUP_GROUP_OVERDUE, ref,
                                                          wz_json_string (patient, "name"), alert,
                                                          overdue, measurements, today));
          g_hash_table_add (measured, (gpointer) ref);
          if (first_overdue == NULL)
            first_overdue = wz_json_string (patient, "name");
        }
      if (json_array_get_length (due) > 0 ||
          (alerting && !g_hash_table_contains (measured, ref)))
        {
          g_ptr_array_add (groups[WZ_FOLLOWUP_GROUP_TODAY],
                           wz_followup_entry_new_patient (WZ_FOLLOWUP_GROUP_TODAY, ref,
                                                          wz_json_string (patient, "name"), alert,
                                                          due,
                                                          g_hash_table_contains (measured, ref)
                                                          ? NULL : measurements, today));
          g_hash_table_add (measured, (gpointer) ref);
        }
    }

  /* Upcoming: the doctor's own Tasks due within the week, from the list for a week ahead. */
  for (guint i = 0; week_patients != NULL && i < json_array_get_length (week_patients); i++)
    {
      JsonObject *patient = wz_json_array_object (week_patients, i);
      const char *ref = wz_json_string (patient, "patient");
      g_autoptr(JsonArray) coming = tasks_where (wz_json_array (patient, "tasks"), NULL, me, today);

      if (ref == NULL || json_array_get_length (coming) == 0)
        continue;
      g_ptr_array_add (groups[WZ_FOLLOWUP_GROUP_UPCOMING],
                       wz_followup_entry_new_patient (WZ_FOLLOWUP_GROUP_UPCOMING, ref,
                                                      wz_json_string (patient, "name"), "none",
                                                      coming, NULL, today));
    }

  for (guint g = 0; g < 3; g++)
    {
      counts[g] = groups[g]->len;
      if (groups[g]->len == 0)
        continue;
      g_ptr_array_add (items, wz_followup_entry_new_heading (g, groups[g]->len));
      for (guint i = 0; i < groups[g]->len; i++)
        g_ptr_array_add (items, g_object_ref (g_ptr_array_index (groups[g], i)));
    }

  n_old = g_list_model_get_n_items (G_LIST_MODEL (self->entries));
  g_list_store_splice (self->entries, 0, n_old, items->pdata, items->len);
  for (guint i = 0; i < items->len; i++)
    {
      WzFollowupEntry *entry = g_ptr_array_index (items, i);

      if (!wz_followup_entry_is_heading (entry))
        want_patient (self, wz_followup_entry_get_patient (entry));
    }

  /* Translators: the follow-up worklist's summary line; each part is a count */
  g_string_printf (summary, _("%u overdue · %u today · %u upcoming"),
                   counts[WZ_FOLLOWUP_GROUP_OVERDUE], counts[WZ_FOLLOWUP_GROUP_TODAY],
                   counts[WZ_FOLLOWUP_GROUP_UPCOMING]);
  if (n_flagged_values > 0)
    {
      g_string_append (summary, " · ");
      g_string_append_printf (summary, g_dngettext (GETTEXT_PACKAGE, "%u reading out of range",
                                                    "%u readings out of range", n_flagged_values),
                              n_flagged_values);
    }
  gtk_label_set_text (self->summary_label, summary->str);
  gtk_stack_set_visible_child_name (self->stack, items->len > 0 ? "list" : "empty");

  /* A patient newly urgent since the last read is a red flag the doctor must hear of. */
  if (self->loaded_once)
    for (guint i = 0; i < items->len; i++)
      {
        WzFollowupEntry *entry = g_ptr_array_index (items, i);
        const char *ref = wz_followup_entry_get_patient (entry);

        if (ref != NULL && g_hash_table_contains (urgent, ref) &&
            !g_hash_table_contains (self->urgent, ref))
          {
            notify_red_flag (self, entry);
            g_hash_table_add (self->urgent, g_strdup (ref));
          }
      }
  g_hash_table_remove_all (self->urgent);
  {
    GHashTableIter iter;
    gpointer key;

    g_hash_table_iter_init (&iter, urgent);
    while (g_hash_table_iter_next (&iter, &key, NULL))
      g_hash_table_add (self->urgent, g_strdup (key));
  }
  self->loaded_once = TRUE;
  report_loaded (self, counts, n_flagged_values, flagged, first_overdue);
  for (guint g = 0; g < 3; g++)
    g_ptr_array_unref (groups[g]);
}

static void
show_error (WzFollowupWorklist *self,
            const GError       *error)
{
  wz_test_report ("followup-worklist-error=%s message=%s", wz_client_error_nick (error),
                  error->message);
  if (self->loaded_once)
    g_signal_emit (self, signals[TOAST], 0, error->message);
  else
    {
      adw_status_page_set_description (self->error_page, error->message);
      gtk_stack_set_visible_child_name (self->stack, "error");
    }
}

static void
on_week_read (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(WzFollowupWorklist) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = wz_api_client_get_json_finish (WZ_API_CLIENT (object), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || self->today_list == NULL)
    return;
  /* Without the week ahead the list still shows what is due now. */
  if (error != NULL)
    g_warning ("The week's follow-ups could not be read: %s", error->message);
  build (self, node);
}

static void
on_today_read (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(WzFollowupWorklist) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = wz_api_client_get_json_finish (WZ_API_CLIENT (object), result, &error);
  g_autofree char *path = NULL;
  const char *date;
  GDate ahead;
  char buf[16];
  guint year, month, day;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      if (error == NULL)
        g_set_error_literal (&error, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_NOT_WENZHEN,
                             _("The server answered with something other than a worklist."));
      show_error (self, error);
      return;
    }
  g_clear_pointer (&self->today_list, json_node_unref);
  self->today_list = g_steal_pointer (&node);

  date = wz_json_string (json_node_get_object (self->today_list), "date");
  if (date == NULL || sscanf (date, "%4u-%2u-%2u", &year, &month, &day) != 3 ||
      !g_date_valid_dmy (day, month, year))
    {
      build (self, NULL);
      return;
    }
  g_date_clear (&ahead, 1);
  g_date_set_dmy (&ahead, day, month, year);
  g_date_add_days (&ahead, UPCOMING_DAYS);
  g_date_strftime (buf, sizeof buf, "%Y-%m-%d", &ahead);
  path = g_strdup_printf ("/followup/worklist?lang=%s&date=%s", wz_followup_lang (), buf);
  wz_api_client_get_json_async (self->client, path, self->cancellable, on_week_read,
                                g_object_ref (self));
}

void
wz_followup_worklist_refresh (WzFollowupWorklist *self)
{
  g_autofree char *path = NULL;
  WzSession *session;

  g_return_if_fail (WZ_IS_FOLLOWUP_WORKLIST (self));

  session = self->client ? wz_api_client_get_session (self->client) : NULL;
  if (session == NULL || g_strcmp0 (wz_session_get_role (session), "doctor") != 0)
    return;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  if (!self->loaded_once)
    gtk_stack_set_visible_child_name (self->stack, "loading");
  path = g_strdup_printf ("/followup/worklist?lang=%s", wz_followup_lang ());
  wz_api_client_get_json_async (self->client, path, self->cancellable, on_today_read,
                                g_object_ref (self));
}

static gboolean
on_event_timeout (gpointer user_data)
{
  WzFollowupWorklist *self = user_data;

  self->event_source = 0;
  wz_followup_worklist_refresh (self);
  return G_SOURCE_REMOVE;
}

void
wz_followup_worklist_handle_event (WzFollowupWorklist *self,
                                   const char         *resource_type)
{
  static const char *types[] = { "Task", "Observation", "Flag", "CarePlan", "Patient" };
  gboolean relevant = FALSE;

  g_return_if_fail (WZ_IS_FOLLOWUP_WORKLIST (self));

  for (guint i = 0; i < G_N_ELEMENTS (types) && !relevant; i++)
    relevant = g_strcmp0 (resource_type, types[i]) == 0;
  if (!relevant || !self->loaded_once)
    return;
  if (self->event_source == 0)
    self->event_source = g_timeout_add (EVENT_DELAY_MS, on_event_timeout, self);
}

void
wz_followup_worklist_stop (WzFollowupWorklist *self)
{
  g_return_if_fail (WZ_IS_FOLLOWUP_WORKLIST (self));

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_handle_id (&self->event_source, g_source_remove);
  g_list_store_remove_all (self->entries);
  g_hash_table_remove_all (self->patients);
  g_hash_table_remove_all (self->urgent);
  g_clear_pointer (&self->today_list, json_node_unref);
  self->loaded_once = FALSE;
  gtk_label_set_text (self->summary_label, "");
}

void
wz_followup_worklist_set_client (WzFollowupWorklist *self,
                                 WzApiClient        *client)
{
  g_return_if_fail (WZ_IS_FOLLOWUP_WORKLIST (self));
  g_set_object (&self->client, client);
}

/* ---- Actions on a patient ------------------------------------------------------------------ */

static void
on_row_open (WzFollowupRow      *row,
             WzFollowupWorklist *self)
{
  WzFollowupEntry *entry = wz_followup_row_get_entry (row);

  if (entry != NULL)
    g_signal_emit (self, signals[OPEN_PATIENT], 0, wz_followup_entry_get_patient_id (entry),
                   wz_followup_entry_get_name (entry));
}

typedef struct
{
  WzFollowupWorklist *self;
  char               *name;
  char               *what;
} ActionData;

static void
action_data_free (ActionData *data)
{
  g_object_unref (data->self);
  g_free (data->name);
  g_free (data->what);
  g_free (data);
}

static void
on_called_in (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  ActionData *data = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = wz_api_client_send_json_finish (WZ_API_CLIENT (object), result, &error);

  if (node == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_signal_emit (data->self, signals[TOAST], 0, error->message);
    }
  else
    {
      g_autofree char *message = NULL;

      /* Translators: toast; %s is the patient's name */
      message = g_strdup_printf (_("%s was added to today’s queue for a revisit."), data->name);
      g_signal_emit (data->self, signals[TOAST], 0, message);
      wz_test_report ("followup-called-in patient=%s encounter=%s", data->what,
                      wz_json_string (json_node_get_object (node), "id"));
    }
  action_data_free (data);
}

/* A revisit the doctor calls in becomes a booked visit in today's queue. */
static void
on_row_call_in (WzFollowupRow      *row,
                WzFollowupWorklist *self)
{
  WzFollowupEntry *entry = wz_followup_row_get_entry (row);
  WzSession *session = wz_api_client_get_session (self->client);
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) body = NULL;
  g_autofree char *identifier = wz_id_new_urn_uuid ();
  g_autofree char *now = wz_time_format_instant (wz_time_now_us ());
  g_autofree char *practitioner = NULL;
  ActionData *data;

  if (entry == NULL || session == NULL)
    return;
  practitioner = g_str_has_prefix (wz_session_get_practitioner (session), "Practitioner/")
                 ? g_strdup (wz_session_get_practitioner (session))
                 : g_strconcat ("Practitioner/", wz_session_get_practitioner (session), NULL);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "resourceType");
  json_builder_add_string_value (builder, "Encounter");
  json_builder_set_member_name (builder, "identifier");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "system");
  json_builder_add_string_value (builder, "urn:ietf:rfc:3986");
  json_builder_set_member_name (builder, "value");
  json_builder_add_string_value (builder, identifier);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "status");
  json_builder_add_string_value (builder, "planned");
  json_builder_set_member_name (builder, "class");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "system");
  json_builder_add_string_value (builder, "http://terminology.hl7.org/CodeSystem/v3-ActCode");
  json_builder_set_member_name (builder, "code");
  json_builder_add_string_value (builder, "VR");
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "subject");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "reference");
  json_builder_add_string_value (builder, wz_followup_entry_get_patient (entry));
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "participant");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "individual");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "reference");
  json_builder_add_string_value (builder, practitioner);
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "period");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "start");
  json_builder_add_string_value (builder, now);
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "reasonCode");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "text");
  /* Translators: the reason of a visit the doctor called in from the follow-up worklist */
  json_builder_add_string_value (builder, _("Follow-up revisit"));
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  body = json_builder_get_root (builder);

  data = g_new0 (ActionData, 1);
  data->self = g_object_ref (self);
  data->name = g_strdup (wz_followup_entry_get_name (entry));
  data->what = g_strdup (wz_followup_entry_get_patient (entry));
  wz_api_client_send_json_async (self->client, "POST", "/fhir/Encounter", body, NULL,
                                 self->cancellable, on_called_in, data);
}

static void
on_task_saved (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  ActionData *data = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = wz_api_client_send_json_finish (WZ_API_CLIENT (object), result, &error);

  if (node == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_signal_emit (data->self, signals[TOAST], 0, error->message);
    }
  else
    {
      wz_test_report ("followup-task-done task=%s", data->what);
      wz_followup_worklist_refresh (data->self);
    }
  action_data_free (data);
}

static void
on_task_read (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  ActionData *data = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = wz_api_client_get_json_finish (WZ_API_CLIENT (object), result, &error);
  g_autofree char *path = NULL;
  g_autofree char *now = NULL;
  JsonObject *task, *period;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      if (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_signal_emit (data->self, signals[TOAST], 0, error->message);
      action_data_free (data);
      return;
    }
  task = json_node_get_object (node);
  json_object_set_string_member (task, "status", "completed");
  now = wz_time_format_instant (wz_time_now_us ());
  period = json_object_new ();
  json_object_set_string_member (period, "end", now);
  json_object_set_object_member (task, "executionPeriod", period);
  json_object_set_string_member (task, "lastModified", now);
  path = g_strconcat ("/fhir/", data->what, NULL);
  wz_api_client_send_json_async (data->self->client, "PUT", path, node,
                                 wz_resource_version (task), data->self->cancellable,
                                 on_task_saved, data);
}

static void
on_row_mark_done (WzFollowupRow      *row,
                  const char         *task,
                  const char         *version,
                  WzFollowupWorklist *self)
{
  ActionData *data;
  g_autofree char *path = NULL;

  if (task == NULL)
    return;
  data = g_new0 (ActionData, 1);
  data->self = g_object_ref (self);
  data->what = g_strdup (task);
  path = g_strconcat ("/fhir/", task, NULL);
  wz_api_client_get_json_async (self->client, path, self->cancellable, on_task_read, data);
}

/* ---- List rows ----------------------------------------------------------------------------- */

static void
setup_row (GtkSignalListItemFactory *factory,
           GtkListItem              *list_item,
           WzFollowupWorklist       *self)
{
  GtkWidget *row = wz_followup_row_new ();

  gtk_list_item_set_child (list_item, row);
  gtk_list_item_set_activatable (list_item, FALSE);
  g_signal_connect_object (row, "open-patient", G_CALLBACK (on_row_open), self, 0);
  g_signal_connect_object (row, "call-in", G_CALLBACK (on_row_call_in), self, 0);
  g_signal_connect_object (row, "mark-done", G_CALLBACK (on_row_mark_done), self, 0);
}

static void
bind_row (GtkSignalListItemFactory *factory,
          GtkListItem              *list_item,
          WzFollowupWorklist       *self)
{
  wz_followup_row_set_entry (WZ_FOLLOWUP_ROW (gtk_list_item_get_child (list_item)),
                             gtk_list_item_get_item (list_item));
}

static void
unbind_row (GtkSignalListItemFactory *factory,
            GtkListItem              *list_item,
            WzFollowupWorklist       *self)
{
  wz_followup_row_set_entry (WZ_FOLLOWUP_ROW (gtk_list_item_get_child (list_item)), NULL);
}

static void
action_refresh (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  wz_followup_worklist_refresh (WZ_FOLLOWUP_WORKLIST (widget));
}

/* ---- GObject ------------------------------------------------------------------------------- */

static void
wz_followup_worklist_dispose (GObject *object)
{
  WzFollowupWorklist *self = WZ_FOLLOWUP_WORKLIST (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_handle_id (&self->event_source, g_source_remove);
  gtk_widget_dispose_template (GTK_WIDGET (self), WZ_TYPE_FOLLOWUP_WORKLIST);
  g_clear_object (&self->entries);
  g_clear_object (&self->client);
  g_clear_pointer (&self->today_list, json_node_unref);
  g_clear_pointer (&self->patients, g_hash_table_unref);
  g_clear_pointer (&self->urgent, g_hash_table_unref);

  G_OBJECT_CLASS (wz_followup_worklist_parent_class)->dispose (object);
}

static void
wz_followup_worklist_class_init (WzFollowupWorklistClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = wz_followup_worklist_dispose;

  /**
   * WzFollowupWorklist::open-patient:
   * @patient_id: the Patient's id
   * @name: the patient's name
   */
  signals[OPEN_PATIENT] =
    g_signal_new ("open-patient", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  signals[TOAST] =
    g_signal_new ("toast", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  gtk_widget_class_install_action (widget_class, "worklist.refresh", NULL, action_refresh);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/wenzhen/Wenzhen/wz-followup-worklist.ui");
  gtk_widget_class_bind_template_child (widget_class, WzFollowupWorklist, summary_label);
  gtk_widget_class_bind_template_child (widget_class, WzFollowupWorklist, stack);
  gtk_widget_class_bind_template_child (widget_class, WzFollowupWorklist, error_page);
  gtk_widget_class_bind_template_child (widget_class, WzFollowupWorklist, list_view);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "followupworklist");
}

static void
wz_followup_worklist_init (WzFollowupWorklist *self)
{
  g_autoptr(GtkListItemFactory) factory = gtk_signal_list_item_factory_new ();
  GtkNoSelection *selection;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->entries = g_list_store_new (WZ_TYPE_FOLLOWUP_ENTRY);
  self->patients = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify) patient_info_free);
  self->urgent = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  g_signal_connect (factory, "setup", G_CALLBACK (setup_row), self);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_row), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (unbind_row), self);
  gtk_list_view_set_factory (self->list_view, factory);
  selection = gtk_no_selection_new (g_object_ref (G_LIST_MODEL (self->entries)));
  gtk_list_view_set_model (self->list_view, GTK_SELECTION_MODEL (selection));
  g_object_unref (selection);
}

GtkWidget *
wz_followup_worklist_new (void)
{
  return g_object_new (WZ_TYPE_FOLLOWUP_WORKLIST, NULL);
}
