/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-vaccination-view"

#include "config.h"

#include "wz-vaccination-view.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <string.h>

#include "wz-fhir-json.h"
#include "wz-followup-format.h"
#include "wz-id.h"
#include "wz-nip-schedule.h"
#include "wz-patient-item.h"
#include "wz-prescreen.h"
#include "wz-test-report.h"
#include "wz-time.h"

#define FORECAST_SYSTEM WZ_FOLLOWUP_BASE "CodeSystem/nip-forecast-status"
#define LOINC_DATE_GIVEN "30952-6"
#define LOINC_DATE_DUE   "30980-7"

/* A child's vaccinations in the Follow-up tab: the National Immunization Programme schedule as
 * the server computes it (ImmunizationRecommendation: completed, due, overdue by vaccine and
 * dose), recording a dose given (Immunization, then its reaction follow-up Tasks), the family's
 * pre-vaccination screening answers judged against contraindications, and reported reactions
 * (AdverseEvent). The record prints or exports as a PDF. */
struct _WzVaccinationView
{
  GtkWidget            parent_instance;

  GtkLabel            *error_label;
  AdwPreferencesGroup *screening_group;
  AdwPreferencesGroup *schedule_group;
  AdwPreferencesGroup *record_group;
  AdwComboRow         *vaccine_row;
  AdwEntryRow         *lot_row;
  AdwComboRow         *site_row;
  GtkMenuButton       *date_button;
  GtkCalendar         *date_calendar;
  AdwPreferencesGroup *reactions_group;

  WzApiClient         *client;
  GCancellable        *cancellable;
  JsonObject          *patient;
  char                *patient_ref;
  JsonNode            *schedule;
  JsonNode            *immunizations;
  GPtrArray           *vaccine_codes;   /* char *: codes behind vaccine_row's titles */
  GPtrArray           *rows[3];         /* rows added to screening, schedule, reactions */
  char                 given[16];
  gboolean             recording;
};

G_DEFINE_FINAL_TYPE (WzVaccinationView, wz_vaccination_view, GTK_TYPE_WIDGET)

enum { ROWS_SCREENING, ROWS_SCHEDULE, ROWS_REACTIONS };

static AdwPreferencesGroup *
rows_group (WzVaccinationView *self,
            guint              which)
{
  return which == ROWS_SCREENING ? self->screening_group
         : which == ROWS_SCHEDULE ? self->schedule_group : self->reactions_group;
}

static void
clear_rows (WzVaccinationView *self,
            guint              which)
{
  for (guint i = 0; i < self->rows[which]->len; i++)
    adw_preferences_group_remove (rows_group (self, which), g_ptr_array_index (self->rows[which], i));
  g_ptr_array_set_size (self->rows[which], 0);
}

static GtkWidget *
add_row (WzVaccinationView *self,
         guint              which,
         const char        *title,
         const char        *subtitle,
         const char        *state,
         const char        *css)
{
  GtkWidget *row = adw_action_row_new ();

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title ? title : "");
  if (subtitle != NULL)
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 3);
  if (state != NULL)
    {
      GtkWidget *label = gtk_label_new (state);

      gtk_widget_add_css_class (label, "caption-heading");
      if (css != NULL)
        gtk_widget_add_css_class (label, css);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), label);
    }
  adw_preferences_group_add (rows_group (self, which), row);
  g_ptr_array_add (self->rows[which], row);
  return row;
}

static void
show_error (WzVaccinationView *self,
            const char        *message)
{
  gtk_label_set_text (self->error_label, message ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), message != NULL);
  if (message != NULL)
    wz_test_report ("vaccination-error message=%s", message);
}

/* ---- The schedule ------------------------------------------------------------------------- */

static const char *
forecast_code (JsonObject *recommendation)
{
  return wz_concept_code (wz_json_object (recommendation, "forecastStatus"), FORECAST_SYSTEM);
}

static const char *
criterion (JsonObject *recommendation,
           const char *loinc)
{
  JsonArray *criteria = wz_json_array (recommendation, "dateCriterion");

  for (guint i = 0; criteria != NULL && i < json_array_get_length (criteria); i++)
    {
      JsonObject *entry = wz_json_array_object (criteria, i);

      if (g_strcmp0 (wz_concept_code (wz_json_object (entry, "code"), "http://loinc.org"), loinc) == 0)
        return wz_json_string (entry, "value");
    }
  return NULL;
}

static JsonObject *
vaccine_concept (JsonObject *recommendation)
{
  return wz_json_array_object (wz_json_array (recommendation, "vaccineCode"), 0);
}

static JsonObject *
find_immunization (WzVaccinationView *self,
                   JsonObject        *recommendation)
{
  JsonObject *support = wz_json_array_object (wz_json_array (recommendation, "supportingImmunization"), 0);
  const char *ref = wz_json_string (support, "reference");
  g_autoptr(GPtrArray) list = self->immunizations ? wz_bundle_resources (self->immunizations, "Immunization") : NULL;

  for (guint i = 0; ref != NULL && list != NULL && i < list->len; i++)
    {
      g_autofree char *mine = wz_resource_reference (g_ptr_array_index (list, i));

      if (g_strcmp0 (mine, ref) == 0)
        return g_ptr_array_index (list, i);
    }
  return NULL;
}

static const char *
status_css (const char *code)
{
  if (g_strcmp0 (code, "completed") == 0)
    return "success";
  if (g_strcmp0 (code, "overdue") == 0)
    return "error";
  if (g_strcmp0 (code, "due") == 0)
    return "warning";
  return "dim-label";
}

static void
show_schedule (WzVaccinationView *self)
{
  JsonObject *root = self->schedule ? json_node_get_object (self->schedule) : NULL;
  JsonArray *recommendations = wz_json_array (root, "recommendation");
  g_autoptr(GtkStringList) vaccines = gtk_string_list_new (NULL);
  g_autoptr(GHashTable) offered = g_hash_table_new (g_str_hash, g_str_equal);
  guint n_due = 0, n_overdue = 0, n_completed = 0;
  g_autoptr(GString) overdue_codes = g_string_new (NULL);
  g_autofree char *description = NULL;

  clear_rows (self, ROWS_SCHEDULE);
  g_ptr_array_set_size (self->vaccine_codes, 0);
  for (guint pass = 0; pass < 2; pass++)
    for (guint i = 0; recommendations != NULL && i < json_array_get_length (recommendations); i++)
      {
        JsonObject *recommendation = wz_json_array_object (recommendations, i);
        JsonObject *vaccine = vaccine_concept (recommendation);
        const char *code = wz_concept_code (vaccine, WZ_NIP_VACCINE_SYSTEM);
        const char *status = forecast_code (recommendation);
        gboolean open = g_strcmp0 (status, "due") == 0 || g_strcmp0 (status, "overdue") == 0;

        /* Doses due now are offered first for recording, then the rest. */
        if (code == NULL || g_hash_table_contains (offered, code) || (pass == 0) != open ||
            g_strcmp0 (status, "completed") == 0 || g_strcmp0 (status, "not_recommended") == 0)
          continue;
        g_hash_table_add (offered, (gpointer) code);
        g_ptr_array_add (self->vaccine_codes, g_strdup (code));
        gtk_string_list_append (vaccines, wz_followup_text (vaccine, "text"));
      }
  adw_combo_row_set_model (self->vaccine_row, G_LIST_MODEL (vaccines));

  /* Overdue doses first, then those due, then the rest in the schedule's order. */
  for (guint pass = 0; pass < 3; pass++)
  for (guint i = 0; recommendations != NULL && i < json_array_get_length (recommendations); i++)
    {
      JsonObject *recommendation = wz_json_array_object (recommendations, i);
      const char *status = forecast_code (recommendation);
      guint rank = g_strcmp0 (status, "overdue") == 0 ? 0 : g_strcmp0 (status, "due") == 0 ? 1 : 2;
      g_autofree char *title = NULL;
      const char *given = criterion (recommendation, LOINC_DATE_GIVEN);
      const char *due = criterion (recommendation, LOINC_DATE_DUE);
      g_autofree char *date = wz_followup_format_date (given ? given : due);
      g_autofree char *subtitle = NULL;
      JsonObject *immunization = find_immunization (self, recommendation);
      const char *reason = wz_followup_text (wz_json_array_object (wz_json_array (recommendation, "forecastReason"), 0), "text");
      GtkWidget *row;

      if (rank != pass)
        continue;
      /* Translators: a programme dose, e.g. “Hepatitis B vaccine, dose 2 of 3” */
      title = g_strdup_printf (_("%s, dose %u of %u"),
                               wz_followup_text (vaccine_concept (recommendation), "text"),
                               (guint) json_object_get_int_member_with_default (recommendation, "doseNumberPositiveInt", 0),
                               (guint) json_object_get_int_member_with_default (recommendation, "seriesDosesPositiveInt", 0));

      if (g_strcmp0 (status, "completed") == 0)
        {
          n_completed++;
          /* Translators: a dose given; %s is the date */
          subtitle = g_strdup_printf (_("Given %s"), date);
          if (reason != NULL)
            {
              char *with_reason = g_strdup_printf ("%s · %s", subtitle, reason);

              g_free (subtitle);
              subtitle = with_reason;
            }
          if (immunization != NULL && wz_json_string (immunization, "lotNumber") != NULL)
            {
              char *with_lot = g_strdup_printf (_("%s · lot %s"), subtitle,
                                                wz_json_string (immunization, "lotNumber"));

              g_free (subtitle);
              subtitle = with_lot;
            }
        }
      else
        {
          if (g_strcmp0 (status, "overdue") == 0)
            {
              n_overdue++;
              g_string_append_printf (overdue_codes, "%s%s:%" G_GINT64_FORMAT,
                                      overdue_codes->len ? "," : "",
                                      wz_concept_code (vaccine_concept (recommendation), WZ_NIP_VACCINE_SYSTEM),
                                      json_object_get_int_member_with_default (recommendation, "doseNumberPositiveInt", 0));
            }
          else if (g_strcmp0 (status, "due") == 0)
            n_due++;
          /* Translators: when a dose is due; %s is the date */
          subtitle = g_strdup_printf (_("Due from %s"), date);
          if (reason != NULL)
            {
              char *with_reason = g_strdup_printf ("%s · %s", subtitle, reason);

              g_free (subtitle);
              subtitle = with_reason;
            }
        }
      row = add_row (self, ROWS_SCHEDULE, title, subtitle,
                     wz_followup_text (wz_json_object (recommendation, "forecastStatus"), "text"),
                     status_css (status));
      /* The schedule's own words, e.g. why an early dose was not counted. */
      gtk_widget_set_tooltip_text (row, wz_followup_text (recommendation, "description"));
    }

  /* Translators: summary of a child's schedule; each part is a count of doses */
  description = g_strdup_printf (_("%u given · %u due · %u overdue"), n_completed, n_due, n_overdue);
  adw_preferences_group_set_description (self->schedule_group, description);
  wz_test_report_when_settled (GTK_WIDGET (self), NULL,
                               "vaccination-schedule patient=%s doses=%u completed=%u due=%u "
                               "overdue=%u overdue-doses=%s",
                               self->patient_ref, recommendations ? json_array_get_length (recommendations) : 0,
                               n_completed, n_due, n_overdue,
                               overdue_codes->len ? overdue_codes->str : "-");
}

/* ---- Screening ---------------------------------------------------------------------------- */

static const char *
decision_label (const char *decision,
                const char **css)
{
  *css = "dim-label";
  if (g_strcmp0 (decision, "contraindicated") == 0)
    {
      *css = "error";
      /* Translators: screening decision for a vaccine */
      return _("Do not give");
    }
  if (g_strcmp0 (decision, "defer") == 0)
    {
      *css = "warning";
      return _("Postpone");
    }
  if (g_strcmp0 (decision, "precaution") == 0)
    {
      *css = "warning";
      return _("Weigh risk");
    }
  if (g_strcmp0 (decision, "incomplete") == 0)
    return _("Answers missing");
  *css = "success";
  return _("No contraindication");
}

static void
on_evaluated (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(WzVaccinationView) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = wz_api_client_send_json_finish (WZ_API_CLIENT (object), result, &error);
  JsonArray *vaccines;
  guint n_flagged = 0, n_contraindicated = 0;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  clear_rows (self, ROWS_SCREENING);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      add_row (self, ROWS_SCREENING, _("The answers could not be judged"),
               error ? error->message : NULL, NULL, NULL);
      return;
    }
  vaccines = wz_json_array (json_node_get_object (node), "vaccines");
  for (guint i = 0; vaccines != NULL && i < json_array_get_length (vaccines); i++)
    {
      JsonObject *vaccine = wz_json_array_object (vaccines, i);
      const char *decision = wz_json_string (vaccine, "decision");
      JsonArray *findings = wz_json_array (vaccine, "findings");
      g_autoptr(GString) text = g_string_new (NULL);
      const char *css;
      const char *label = decision_label (decision, &css);
      GtkWidget *row;

      if (g_strcmp0 (decision, "ok") == 0)
        continue;
      for (guint f = 0; findings != NULL && f < json_array_get_length (findings); f++)
        {
          if (text->len > 0)
            g_string_append (text, "\n");
          g_string_append (text, wz_json_string (wz_json_array_object (findings, f), "text") ?: "");
        }
      row = add_row (self, ROWS_SCREENING, wz_json_string (vaccine, "name") ?: wz_json_string (vaccine, "vaccine"),
                     text->len ? text->str : NULL, label, css);
      if (g_strcmp0 (css, "error") == 0)
        {
          gtk_widget_add_css_class (row, "contraindicated");
          n_contraindicated++;
        }
      n_flagged++;
    }
  if (n_flagged == 0)
    add_row (self, ROWS_SCREENING, _("No contraindications in the answers"), NULL, NULL, NULL);
  wz_test_report ("vaccination-screening patient=%s flagged=%u contraindicated=%u",
                  self->patient_ref, n_flagged, n_contraindicated);
}

static void
on_responses_read (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(WzVaccinationView) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = wz_api_client_get_json_finish (WZ_API_CLIENT (object), result, &error);
  g_autoptr(GPtrArray) responses = node ? wz_bundle_resources (node, "QuestionnaireResponse") : NULL;
  JsonObject *latest = NULL;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  clear_rows (self, ROWS_SCREENING);
  for (guint i = 0; responses != NULL && i < responses->len; i++)
    {
      JsonObject *response = g_ptr_array_index (responses, i);

      if (!g_str_has_prefix (wz_json_string (response, "questionnaire") ?: "", WZ_PRESCREEN_QUESTIONNAIRE_URL))
        continue;
      if (latest == NULL || g_strcmp0 (wz_json_string (response, "authored"),
                                       wz_json_string (latest, "authored")) > 0)
        latest = response;
    }
  if (latest == NULL)
    {
      add_row (self, ROWS_SCREENING, _("No screening answers yet"),
               _("The family answers the questions on their visit page before the vaccination."),
               NULL, NULL);
      wz_test_report ("vaccination-screening patient=%s flagged=0 contraindicated=0 answers=none",
                      self->patient_ref);
      return;
    }
  {
    g_autoptr(JsonNode) body = json_node_new (JSON_NODE_OBJECT);
    g_autofree char *path = g_strdup_printf ("/followup/screening-evaluation?patient=%s&lang=%s",
                                             self->patient_ref + strlen ("Patient/"),
                                             wz_followup_lang ());

    json_node_set_object (body, latest);
    wz_api_client_send_json_async (self->client, "POST", path, body, NULL, self->cancellable,
                                   on_evaluated, g_object_ref (self));
  }
}

/* ---- Reactions ---------------------------------------------------------------------------- */

static void
on_reactions_read (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(WzVaccinationView) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = wz_api_client_get_json_finish (WZ_API_CLIENT (object), result, &error);
  g_autoptr(GPtrArray) events = node ? wz_bundle_resources (node, "AdverseEvent") : NULL;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  clear_rows (self, ROWS_REACTIONS);
  for (guint i = 0; events != NULL && i < events->len; i++)
    {
      JsonObject *event = g_ptr_array_index (events, i);
      g_autofree char *date = wz_followup_format_date (wz_json_string (event, "date"));
      const char *severity = wz_concept_text (wz_json_object (event, "severity"));
      const char *what = wz_json_string (event, "description") ?:
                         wz_concept_text (wz_json_object (event, "event"));

      add_row (self, ROWS_REACTIONS, what ? what : _("Reaction"), date, severity,
               g_strcmp0 (wz_concept_code (wz_json_object (event, "seriousness"), NULL), "serious") == 0
               ? "error" : "warning");
    }
  if (events == NULL || events->len == 0)
    add_row (self, ROWS_REACTIONS, _("No reactions reported"), NULL, NULL, NULL);
  wz_test_report ("vaccination-reactions patient=%s n=%u", self->patient_ref,
                  events ? events->len : 0);
}

/* ---- Loading ------------------------------------------------------------------------------ */

static void
on_schedule_read (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(WzVaccinationView) self = user_data;
  g_autoptr(GError) error = NULL;
  JsonNode *node = wz_api_client_get_json_finish (WZ_API_CLIENT (object), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (node == NULL)
    {
      show_error (self, error->message);
      return;
    }
  g_clear_pointer (&self->schedule, json_node_unref);
  self->schedule = node;
  show_schedule (self);
}

static void
on_immunizations_read (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(WzVaccinationView) self = user_data;
  g_autoptr(GError) error = NULL;
  JsonNode *node = wz_api_client_get_json_finish (WZ_API_CLIENT (object), result, &error);
  g_autofree char *path = NULL;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  g_clear_pointer (&self->immunizations, json_node_unref);
  self->immunizations = node;
  /* The schedule after the doses, so each given dose finds its lot and site. */
  path = g_strdup_printf ("/fhir/%s/$vaccination-schedule?lang=%s", self->patient_ref,
                          wz_followup_lang ());
  wz_api_client_get_json_async (self->client, path, self->cancellable, on_schedule_read,
                                g_object_ref (self));
}

void
wz_vaccination_view_reload (WzVaccinationView *self)
{
  g_autofree char *escaped = NULL;
  g_autofree char *path = NULL;

  g_return_if_fail (WZ_IS_VACCINATION_VIEW (self));
  if (self->patient_ref == NULL || self->client == NULL)
    return;
  show_error (self, NULL);
  escaped = g_uri_escape_string (self->patient_ref, NULL, FALSE);
  path = g_strdup_printf ("/fhir/Immunization?patient=%s&_count=200", escaped);
  wz_api_client_get_json_async (self->client, path, self->cancellable, on_immunizations_read,
                                g_object_ref (self));
  g_free (path);
  path = g_strdup_printf ("/fhir/QuestionnaireResponse?patient=%s&_count=50", escaped);
  wz_api_client_get_json_async (self->client, path, self->cancellable, on_responses_read,
                                g_object_ref (self));
  g_free (path);
  path = g_strdup_printf ("/fhir/AdverseEvent?patient=%s&_count=50", escaped);
  wz_api_client_get_json_async (self->client, path, self->cancellable, on_reactions_read,
                                g_object_ref (self));
}

static void
set_given_day (WzVaccinationView *self,
               GDateTime         *day)
{
  g_autofree char *label = NULL;
  g_autofree char *text = g_date_time_format (day, "%Y-%m-%d");

  g_strlcpy (self->given, text, sizeof self->given);
  label = wz_followup_format_date (self->given);
  gtk_menu_button_set_label (self->date_button, label);
}

void
wz_vaccination_view_show (WzVaccinationView *self,
                          JsonObject        *patient)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();

  g_return_if_fail (WZ_IS_VACCINATION_VIEW (self));

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  g_clear_pointer (&self->patient, json_object_unref);
  g_clear_pointer (&self->patient_ref, g_free);
  g_clear_pointer (&self->schedule, json_node_unref);
  g_clear_pointer (&self->immunizations, json_node_unref);
  for (guint i = 0; i < G_N_ELEMENTS (self->rows); i++)
    clear_rows (self, i);
  show_error (self, NULL);
  gtk_editable_set_text (GTK_EDITABLE (self->lot_row), "");
  gtk_calendar_select_day (self->date_calendar, now);
  set_given_day (self, now);
  if (patient == NULL)
    return;
  self->patient = json_object_ref (patient);
  self->patient_ref = wz_resource_reference (patient);
  wz_vaccination_view_reload (self);
}

void
wz_vaccination_view_set_client (WzVaccinationView *self,
                                WzApiClient       *client)
{
  g_return_if_fail (WZ_IS_VACCINATION_VIEW (self));
  g_set_object (&self->client, client);
}

static void
on_date_selected (WzVaccinationView *self)
{
  g_autoptr(GDateTime) day = gtk_calendar_get_date (self->date_calendar);

  set_given_day (self, day);
  gtk_menu_button_popdown (self->date_button);
}

/* ---- Recording a dose --------------------------------------------------------------------- */

static void
on_reaction_followup (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(WzVaccinationView) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = wz_api_client_send_json_finish (WZ_API_CLIENT (object), result, &error);

  /* A vaccine without reaction checks in the schedule answers 422: nothing to plan. */
  if (node == NULL && !g_error_matches (error, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_REJECTED) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    show_error (self, error->message);
  self->recording = FALSE;
  wz_vaccination_view_reload (self);
}

static void
on_dose_recorded (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(WzVaccinationView) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = wz_api_client_send_json_finish (WZ_API_CLIENT (object), result, &error);
  g_autofree char *path = NULL;
  g_autoptr(JsonNode) body = NULL;
  const char *id;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      self->recording = FALSE;
      if (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_error (self, error->message);
      return;
    }
  id = wz_json_string (json_node_get_object (node), "id");
  wz_test_report ("vaccination-recorded immunization=%s", id);
  gtk_editable_set_text (GTK_EDITABLE (self->lot_row), "");
  body = json_from_string ("{\"resourceType\":\"Parameters\"}", NULL);
  path = g_strdup_printf ("/fhir/Immunization/%s/$reaction-followup", id);
  wz_api_client_send_json_async (self->client, "POST", path, body, NULL, self->cancellable,
                                 on_reaction_followup, g_object_ref (self));
}

static void
action_record (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  WzVaccinationView *self = WZ_VACCINATION_VIEW (widget);
  guint selected = adw_combo_row_get_selected (self->vaccine_row);
  GtkStringObject *site = adw_combo_row_get_selected_item (self->site_row);
  GtkStringObject *vaccine = adw_combo_row_get_selected_item (self->vaccine_row);
  WzSession *session = self->client ? wz_api_client_get_session (self->client) : NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) body = NULL;
  g_autofree char *identifier = wz_id_new_urn_uuid ();
  g_autofree char *lot = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->lot_row))));
  g_autofree char *practitioner = NULL;

  if (self->patient_ref == NULL || session == NULL || self->recording)
    return;
  if (selected >= self->vaccine_codes->len || vaccine == NULL)
    {
      show_error (self, _("Choose the vaccine that was given."));
      return;
    }
  if (*lot == '\0')
    {
      show_error (self, _("Enter the lot number printed on the vial, so the dose can be traced."));
      gtk_widget_grab_focus (GTK_WIDGET (self->lot_row));
      return;
    }
  show_error (self, NULL);
  practitioner = g_str_has_prefix (wz_session_get_practitioner (session), "Practitioner/")
                 ? g_strdup (wz_session_get_practitioner (session))
                 : g_strconcat ("Practitioner/", wz_session_get_practitioner (session), NULL);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "resourceType");
  json_builder_add_string_value (builder, "Immunization");
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
  json_builder_add_string_value (builder, "completed");
  json_builder_set_member_name (builder, "vaccineCode");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "coding");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "system");
  json_builder_add_string_value (builder, WZ_NIP_VACCINE_SYSTEM);
  json_builder_set_member_name (builder, "code");
  json_builder_add_string_value (builder, g_ptr_array_index (self->vaccine_codes, selected));
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "text");
  json_builder_add_string_value (builder, gtk_string_object_get_string (vaccine));
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "patient");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "reference");
  json_builder_add_string_value (builder, self->patient_ref);
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "occurrenceDateTime");
  json_builder_add_string_value (builder, self->given);
  json_builder_set_member_name (builder, "primarySource");
  json_builder_add_boolean_value (builder, TRUE);
  json_builder_set_member_name (builder, "lotNumber");
  json_builder_add_string_value (builder, lot);
  if (site != NULL)
    {
      json_builder_set_member_name (builder, "site");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "text");
      json_builder_add_string_value (builder, gtk_string_object_get_string (site));
      json_builder_end_object (builder);
    }
  json_builder_set_member_name (builder, "performer");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "actor");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "reference");
  json_builder_add_string_value (builder, practitioner);
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  body = json_builder_get_root (builder);

  self->recording = TRUE;
  wz_api_client_send_json_async (self->client, "POST", "/fhir/Immunization", body, NULL,
                                 self->cancellable, on_dose_recorded, g_object_ref (self));
}

/* ---- Printing ----------------------------------------------------------------------------- */

WzVaccinationPrintData *
wz_vaccination_view_print_data (WzVaccinationView *self)
{
  JsonObject *root;
  JsonArray *recommendations;
  WzVaccinationPrintData *data;
  g_autoptr(WzPatientItem) child = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autoptr(GDate) today = g_date_new ();
  JsonArray *contacts;

  g_return_val_if_fail (WZ_IS_VACCINATION_VIEW (self), NULL);
  if (self->schedule == NULL || self->patient == NULL)
    return NULL;
  root = json_node_get_object (self->schedule);
  recommendations = wz_json_array (root, "recommendation");
  g_date_set_time_t (today, time (NULL));
  child = wz_patient_item_new_from_resource (self->patient, today);

  data = wz_vaccination_print_data_new ();
  /* Translators: the issuer named on printed documents */
  data->clinic = g_strdup (wz_api_client_get_organization_name (self->client) ?: _("Wenzhen Internet Hospital"));
  data->child = g_strdup (wz_patient_item_get_name (child));
  data->child_details = g_strdup_printf ("%s · %s", wz_patient_item_get_details (child),
                                         wz_json_string (self->patient, "birthDate") ?: "");
  contacts = wz_json_array (self->patient, "contact");
  if (contacts != NULL && json_array_get_length (contacts) > 0)
    data->guardian = g_strdup (wz_json_string (wz_json_object (wz_json_array_object (contacts, 0), "name"), "text"));
  data->schedule = g_strdup (wz_json_string (wz_json_object (root, "authority"), "display"));
  data->printed = g_date_time_format (now, "%Y-%m-%d");

  for (guint i = 0; recommendations != NULL && i < json_array_get_length (recommendations); i++)
    {
      JsonObject *recommendation = wz_json_array_object (recommendations, i);
      const char *status = forecast_code (recommendation);
      const char *given = criterion (recommendation, LOINC_DATE_GIVEN);
      JsonObject *immunization = find_immunization (self, recommendation);
      g_autofree char *dose = g_strdup_printf ("%" G_GINT64_FORMAT " / %" G_GINT64_FORMAT,
                                               json_object_get_int_member_with_default (recommendation, "doseNumberPositiveInt", 0),
                                               json_object_get_int_member_with_default (recommendation, "seriesDosesPositiveInt", 0));

      if (g_strcmp0 (status, "not_recommended") == 0)
        continue;
      wz_vaccination_print_data_add_row (data,
                                         wz_followup_text (vaccine_concept (recommendation), "text"),
                                         dose,
                                         wz_followup_text (wz_json_object (recommendation, "forecastStatus"), "text"),
                                         given ? given : criterion (recommendation, LOINC_DATE_DUE),
                                         immunization ? wz_json_string (immunization, "lotNumber") : NULL,
                                         immunization ? wz_concept_text (wz_json_object (immunization, "site")) : NULL,
                                         g_strcmp0 (status, "completed") == 0);
    }
  return data;
}

static void
action_print (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  g_autoptr(WzVaccinationPrintData) data = wz_vaccination_view_print_data (WZ_VACCINATION_VIEW (widget));
  GtkRoot *root = gtk_widget_get_root (widget);

  if (data != NULL)
    wz_vaccination_print_run (data, GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL);
}

static void
action_export (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  g_autoptr(WzVaccinationPrintData) data = wz_vaccination_view_print_data (WZ_VACCINATION_VIEW (widget));
  GtkRoot *root = gtk_widget_get_root (widget);
  const char *path = g_getenv ("WZ_TEST_VACCINATION_PDF");
  g_autoptr(GError) error = NULL;

  if (data == NULL)
    return;
  /* Tests name the file instead of going through the file chooser. */
  if (path != NULL && wz_test_report_enabled ())
    {
      if (wz_vaccination_print_to_pdf (data, path, &error))
        wz_test_report ("vaccination-pdf path=%s rows=%u", path, data->rows->len);
      else
        show_error (WZ_VACCINATION_VIEW (widget), error->message);
      return;
    }
  wz_vaccination_print_export (data, GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL);
}

/* ---- GObject ------------------------------------------------------------------------------ */

static void
wz_vaccination_view_dispose (GObject *object)
{
  WzVaccinationView *self = WZ_VACCINATION_VIEW (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), WZ_TYPE_VACCINATION_VIEW);
  g_clear_object (&self->client);
  g_clear_pointer (&self->patient, json_object_unref);
  g_clear_pointer (&self->schedule, json_node_unref);
  g_clear_pointer (&self->immunizations, json_node_unref);
  g_clear_pointer (&self->vaccine_codes, g_ptr_array_unref);
  for (guint i = 0; i < G_N_ELEMENTS (self->rows); i++)
    g_clear_pointer (&self->rows[i], g_ptr_array_unref);

  G_OBJECT_CLASS (wz_vaccination_view_parent_class)->dispose (object);
}

static void
wz_vaccination_view_finalize (GObject *object)
{
  g_free (WZ_VACCINATION_VIEW (object)->patient_ref);

  G_OBJECT_CLASS (wz_vaccination_view_parent_class)->finalize (object);
}

static void
wz_vaccination_view_class_init (WzVaccinationViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = wz_vaccination_view_dispose;
  object_class->finalize = wz_vaccination_view_finalize;

  gtk_widget_class_install_action (widget_class, "vaccination.record", NULL, action_record);
  gtk_widget_class_install_action (widget_class, "vaccination.print", NULL, action_print);
  gtk_widget_class_install_action (widget_class, "vaccination.export", NULL, action_export);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_p, GDK_CONTROL_MASK,
                                       "vaccination.print", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_s, GDK_CONTROL_MASK | GDK_SHIFT_MASK,
                                       "vaccination.export", NULL);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/wenzhen/Wenzhen/wz-vaccination-view.ui");
  gtk_widget_class_bind_template_child (widget_class, WzVaccinationView, error_label);
  gtk_widget_class_bind_template_child (widget_class, WzVaccinationView, screening_group);
  gtk_widget_class_bind_template_child (widget_class, WzVaccinationView, schedule_group);
  gtk_widget_class_bind_template_child (widget_class, WzVaccinationView, record_group);
  gtk_widget_class_bind_template_child (widget_class, WzVaccinationView, vaccine_row);
  gtk_widget_class_bind_template_child (widget_class, WzVaccinationView, lot_row);
  gtk_widget_class_bind_template_child (widget_class, WzVaccinationView, site_row);
  gtk_widget_class_bind_template_child (widget_class, WzVaccinationView, date_button);
  gtk_widget_class_bind_template_child (widget_class, WzVaccinationView, date_calendar);
  gtk_widget_class_bind_template_child (widget_class, WzVaccinationView, reactions_group);
  gtk_widget_class_bind_template_callback (widget_class, on_date_selected);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "vaccinationview");
}

static void
wz_vaccination_view_init (WzVaccinationView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->vaccine_codes = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < G_N_ELEMENTS (self->rows); i++)
    self->rows[i] = g_ptr_array_new ();
}

GtkWidget *
wz_vaccination_view_new (void)
{
  return g_object_new (WZ_TYPE_VACCINATION_VIEW, NULL);
}
