/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-record-view"

#include "config.h"

#include "wz-record-view.h"

#include <adwaita.h>
#include <math.h>
#include <string.h>
#include <glib/gi18n.h>

#include "wz-allergy-badge.h"
#include "wz-document-viewer.h"
#include "wz-encounter-actions.h"
#include "wz-fhir-json.h"
#include "wz-icd10-entry.h"
#include "wz-patient-item.h"
#include "wz-test-report.h"
#include "wz-time.h"
#include "wz-visit-note-editor.h"
#include "wz-vitals-chart.h"

/* The record of the selected patient beside the consultation: who they are, what they are
 * allergic to, what they have, take and measured, what happened at earlier visits, what they
 * uploaded, and what they answered before this visit. Above it, the actions on today's visit;
 * beside it, the visit note.
 *
 * Every part loads on its own with the selection's cancellable: a slow or failed part shows a
 * spinner or an error row with “Try Again” while the rest is already readable, and moving to
 * another patient drops whatever is still on its way for the previous one. */

typedef enum
{
  SEC_PATIENT,
  SEC_ALLERGIES,
  SEC_CONDITIONS,
  SEC_MEDICATIONS,
  SEC_OBSERVATIONS,
  SEC_ENCOUNTERS,
  SEC_DOCUMENTS,
  N_SECTIONS
} Section;

typedef enum
{
  VITAL_BP,
  VITAL_HR,
  VITAL_TEMP,
  VITAL_WEIGHT,
  VITAL_GLUCOSE,
  N_VITALS
} VitalKind;

struct _WzRecordView
{
  GtkWidget           parent_instance;

  AdwToastOverlay    *toast_overlay;
  GtkWidget          *action_bar;
  GtkLabel           *visit_title;
  GtkLabel           *visit_subtitle;
  GtkWidget          *call_next_button;
  GtkWidget          *start_button;
  GtkWidget          *finish_button;
  GtkWidget          *more_button;
  GtkToggleButton    *note_toggle;
  GtkRevealer        *conflict_revealer;
  GtkLabel           *conflict_label;
  GtkStack           *stack;
  AdwFlap            *flap;
  GtkScrolledWindow  *record_scroller;
  WzAllergyBadge     *allergy_badge;
  GtkWidget          *triage_group;
  GtkLabel           *red_flag_label;
  GtkListBox         *triage_list;
  GtkListBox         *demographics_list;
  GtkListBox         *conditions_list;
  GtkListBox         *medications_list;
  GtkListBox         *vitals_list;
  GtkListBox         *encounters_list;
  GtkListBox         *documents_list;
  GtkWidget          *chart_card;
  GtkToggleButton    *chart_bp;
  GtkToggleButton    *chart_hr;
  GtkToggleButton    *chart_temp;
  GtkToggleButton    *chart_weight;
  GtkToggleButton    *chart_glucose;
  WzVitalsChart      *chart;
  GtkLabel           *chart_legend;
  WzVisitNoteEditor  *note_editor;

  WzApiClient        *client;
  WzEncounterActions *actions;
  GCancellable       *cancellable;      /* the selection's loads */
  GCancellable       *action_cancellable;

  char               *patient_id;       /* bare id */
  char               *encounter_id;     /* as asked for; NULL: pick today's */
  JsonNode           *results[N_SECTIONS];
  gboolean            done[N_SECTIONS];
  guint               pending;
  JsonObject         *encounter;        /* the visit the actions apply to */
  char              **allergies;
  gboolean            busy;
  gboolean            reported;
};

G_DEFINE_FINAL_TYPE (WzRecordView, wz_record_view, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_PATIENT_ID,
  PROP_ENCOUNTER_ID,
  PROP_ALLERGIES,
  N_PROPS
};

enum {
  OPEN_PATIENT,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

#define LOINC "http://loinc.org"

static const char *conflict_message (void);
static void load_record (WzRecordView *self);
static void update_actions (WzRecordView *self);

static gboolean
is_settled (GtkWidget *widget)
{
  WzRecordView *self = WZ_RECORD_VIEW (widget);

  return !gtk_stack_get_transition_running (self->stack)
    && gtk_revealer_get_child_revealed (self->conflict_revealer)
       == gtk_revealer_get_reveal_child (self->conflict_revealer);
}

static const char *
ui_language (void)
{
  const char * const *languages = g_get_language_names ();

  return languages[0] != NULL && g_str_has_prefix (languages[0], "zh") ? "zh" : "en";
}

/* ---------------------------------------------------------------------------------------- */
/* Rows */

static void
clear_list (GtkListBox *list)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (list))) != NULL)
    gtk_list_box_remove (list, child);
}

static GtkWidget *
info_row (GtkListBox *list,
          const char *title,
          const char *value)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *label;

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  if (value != NULL)
    {
      label = gtk_label_new (value);
      gtk_label_set_selectable (GTK_LABEL (label), TRUE);
      /* Short values stay on one line (the row gives a wrapping label only its narrowest
       * width); long ones (a guardian with a phone number) wrap at a readable width. */
      if (g_utf8_strlen (value, -1) > 28)
        {
          gtk_label_set_wrap (GTK_LABEL (label), TRUE);
          gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
          gtk_label_set_width_chars (GTK_LABEL (label), 18);
          gtk_label_set_max_width_chars (GTK_LABEL (label), 36);
        }
      gtk_label_set_xalign (GTK_LABEL (label), 1);
      gtk_label_set_justify (GTK_LABEL (label), GTK_JUSTIFY_RIGHT);
      gtk_widget_set_halign (label, GTK_ALIGN_END);
      gtk_widget_add_css_class (label, "row-value");
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), label);
    }
  gtk_list_box_append (list, row);

  return row;
}

static GtkWidget *
text_row (GtkListBox *list,
          const char *title,
          const char *subtitle)
{
  GtkWidget *row = adw_action_row_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  if (subtitle != NULL && *subtitle != '\0')
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  gtk_list_box_append (list, row);

  return row;
}

static void
empty_row (GtkListBox *list,
           const char *text)
{
  GtkWidget *row = text_row (list, text, NULL);

  gtk_widget_add_css_class (row, "dim-label");
}

static void
loading_row (GtkListBox *list)
{
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *spinner = gtk_spinner_new ();
  GtkWidget *label = gtk_label_new (_("Loading…"));

  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
  gtk_widget_set_margin_top (box, 14);
  gtk_widget_set_margin_bottom (box, 14);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_halign (box, GTK_ALIGN_START);
  gtk_spinner_start (GTK_SPINNER (spinner));
  gtk_widget_add_css_class (label, "dim-label");
  gtk_box_append (GTK_BOX (box), spinner);
  gtk_box_append (GTK_BOX (box), label);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  gtk_list_box_append (list, row);
}

static void
error_row (GtkListBox   *list,
           const char   *what,
           const GError *error)
{
  GtkWidget *row = text_row (list, what, error->message);
  GtkWidget *icon = gtk_image_new_from_icon_name ("dialog-error-symbolic");
  GtkWidget *button = gtk_button_new_with_mnemonic (_("_Try Again"));

  gtk_widget_add_css_class (icon, "error");
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "record.reload");
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
  gtk_widget_add_css_class (row, "load-error");
}

/* ---------------------------------------------------------------------------------------- */
/* Formatting */

static gint64
instant_us (const char *text)
{
  gint64 us = 0;
  g_autoptr(GDateTime) dt = NULL;

  if (text == NULL)
    return 0;
  if (wz_time_parse_instant (text, &us, NULL))
    return us;

  /* A plain date (YYYY-MM-DD) counts as its local midnight. */
  if (strlen (text) == 10)
    {
      g_autofree char *with_time = g_strconcat (text, "T00:00:00", NULL);
      g_autoptr(GTimeZone) local = g_time_zone_new_local ();

      dt = g_date_time_new_from_iso8601 (with_time, local);
      if (dt != NULL)
        return g_date_time_to_unix (dt) * G_USEC_PER_SEC;
    }

  return 0;
}

static char *
format_date (gint64 us)
{
  g_autoptr(GDateTime) dt = NULL;

  if (us == 0)
    return g_strdup ("");

  dt = g_date_time_new_from_unix_local (us / G_USEC_PER_SEC);
  /* Translators: a date in the patient record, strftime format */
  return g_date_time_format (dt, C_("record date", "%Y-%m-%d"));
}

static char *
format_time (gint64 us)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_local (us / G_USEC_PER_SEC);

  return g_date_time_format (dt, "%H:%M");
}

static gboolean
is_today (gint64 us)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autoptr(GDateTime) then = g_date_time_new_from_unix_local (us / G_USEC_PER_SEC);

  return us != 0 && g_date_time_get_year (now) == g_date_time_get_year (then)
    && g_date_time_get_day_of_year (now) == g_date_time_get_day_of_year (then);
}

static GDate *
today (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();

  return g_date_new_dmy ((GDateDay) g_date_time_get_day_of_month (now),
                         (GDateMonth) g_date_time_get_month (now),
                         (GDateYear) g_date_time_get_year (now));
}

/* Everything but the last four characters hidden: enough to check it is the right person. */
static char *
mask_identifier (const char *value)
{
  glong length = g_utf8_strlen (value, -1);
  GString *masked = g_string_new (NULL);

  if (length <= 4)
    return g_strdup (value);

  for (glong i = 0; i < length - 4; i++)
    g_string_append (masked, "•");
  g_string_append (masked, g_utf8_offset_to_pointer (value, length - 4));

  return g_string_free (masked, FALSE);
}

static const char *
national_id (JsonObject *patient)
{
  JsonArray *identifiers = wz_json_array (patient, "identifier");
  const char *fallback = NULL;

  for (guint i = 0; identifiers != NULL && i < json_array_get_length (identifiers); i++)
    {
      JsonObject *identifier = wz_json_array_object (identifiers, i);
      const char *system = wz_json_string (identifier, "system");
      const char *type = wz_concept_code (wz_json_object (identifier, "type"), NULL);

      if (g_strcmp0 (system, "urn:ietf:rfc:3986") == 0)
        continue;
      if (g_strcmp0 (type, "NNCHN") == 0 || g_strcmp0 (type, "NI") == 0
          || (system != NULL && strstr (system, "id-card") != NULL))
        return wz_json_string (identifier, "value");
      if (fallback == NULL)
        fallback = wz_json_string (identifier, "value");
    }

  return fallback;
}

static const char *
first_phone (JsonArray *telecoms)
{
  for (guint i = 0; telecoms != NULL && i < json_array_get_length (telecoms); i++)
    {
      JsonObject *telecom = wz_json_array_object (telecoms, i);

      if (g_strcmp0 (wz_json_string (telecom, "system"), "phone") == 0)
        return wz_json_string (telecom, "value");
    }

  return NULL;
}

static char *
human_name (JsonObject *name)
{
  const char *text = wz_json_string (name, "text");
  JsonArray *given = wz_json_array (name, "given");
  GString *joined;

  if (text != NULL)
    return g_strdup (text);

  joined = g_string_new (wz_json_string (name, "family"));
  for (guint i = 0; given != NULL && i < json_array_get_length (given); i++)
    {
      JsonNode *part = json_array_get_element (given, i);

      if (JSON_NODE_HOLDS_VALUE (part) && json_node_get_value_type (part) == G_TYPE_STRING)
        g_string_append (joined, json_node_get_string (part));
    }

  return g_string_free (joined, FALSE);
}

/* The guardian of a child: a contact whose relationship is a guardian or parent. */
static char *
guardian_text (JsonObject *patient)
{
  static const char * const guardian_codes[] = {
    "GUARD", "PRN", "FTH", "MTH", "PRNFOST", "STPPRN", "C", "N", NULL
  };
  JsonArray *contacts = wz_json_array (patient, "contact");

  for (guint i = 0; contacts != NULL && i < json_array_get_length (contacts); i++)
    {
      JsonObject *contact = wz_json_array_object (contacts, i);
      JsonArray *relationships = wz_json_array (contact, "relationship");
      const char *relation_text = NULL;
      gboolean guardian = FALSE;
      g_autofree char *name = NULL;
      const char *phone;
      GString *text;

      for (guint r = 0; relationships != NULL && r < json_array_get_length (relationships); r++)
        {
          JsonObject *relationship = wz_json_array_object (relationships, r);
          JsonArray *codings = wz_json_array (relationship, "coding");

          if (relation_text == NULL)
            relation_text = wz_json_string (relationship, "text");
          for (guint c = 0; codings != NULL && c < json_array_get_length (codings); c++)
            {
              JsonObject *coding = wz_json_array_object (codings, c);

              if (g_strv_contains (guardian_codes, wz_json_string (coding, "code") ?: ""))
                guardian = TRUE;
              if (relation_text == NULL
                  && g_strcmp0 (wz_json_string (coding, "code"), "GUARD") != 0)
                relation_text = wz_json_string (coding, "display");
            }
        }

      if (!guardian)
        continue;

      name = human_name (wz_json_object (contact, "name"));
      phone = first_phone (wz_json_array (contact, "telecom"));
      text = g_string_new (*name != '\0' ? name : _("Name not recorded"));
      if (relation_text != NULL)
        g_string_append_printf (text, " (%s)", relation_text);
      if (phone != NULL)
        g_string_append_printf (text, " · %s", phone);

      return g_string_free (text, FALSE);
    }

  return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* Sections */

static void
render_demographics (WzRecordView *self)
{
  JsonNode *node = self->results[SEC_PATIENT];
  JsonObject *patient;
  g_autoptr(GDate) now = today ();
  g_autofree char *name = NULL;
  g_autofree char *age = NULL;
  g_autofree char *sex_age = NULL;
  g_autofree char *guardian = NULL;
  const char *birth_date;
  const char *gender;
  const char *id_number;
  const char *phone;
  guint years = 0, months = 0, days = 0;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return;

  clear_list (self->demographics_list);
  patient = json_node_get_object (node);
  name = wz_patient_name_from_resource (patient);
  birth_date = wz_json_string (patient, "birthDate");
  gender = wz_json_string (patient, "gender");
  age = birth_date != NULL ? wz_patient_format_age (birth_date, now) : NULL;

  if (gender != NULL && age != NULL)
    /* Translators: sex and age in the record, e.g. “Female · 73 years” */
    sex_age = g_strdup_printf (_("%s · %s"), wz_patient_gender_label (gender), age);
  else
    sex_age = g_strdup (gender != NULL ? wz_patient_gender_label (gender)
                                       : (age != NULL ? age : _("Not recorded")));

  info_row (self->demographics_list, _("Name"), name != NULL ? name : _("Unnamed patient"));
  info_row (self->demographics_list, _("Sex and age"), sex_age);
  if (birth_date != NULL)
    info_row (self->demographics_list, _("Date of birth"), birth_date);

  id_number = national_id (patient);
  if (id_number != NULL)
    {
      g_autofree char *masked = mask_identifier (id_number);

      info_row (self->demographics_list, _("ID number"), masked);
    }

  phone = first_phone (wz_json_array (patient, "telecom"));
  info_row (self->demographics_list, _("Phone"), phone != NULL ? phone : _("Not recorded"));

  /* Under 6, a guardian must be with the child; say so loudly when nobody is recorded. */
  if (birth_date != NULL && wz_patient_compute_age (birth_date, now, &years, &months, &days)
      && years < 6)
    {
      guardian = guardian_text (patient);
      if (guardian != NULL)
        info_row (self->demographics_list, _("Guardian"), guardian);
      else
        {
          GtkWidget *row = text_row (self->demographics_list, _("No guardian recorded"),
                                     _("Children under 6 must be seen with a guardian. Ask who is with the child and record them before the consultation."));
          GtkWidget *icon = gtk_image_new_from_icon_name ("dialog-warning-symbolic");

          adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
          gtk_widget_add_css_class (row, "guardian-missing");
        }
    }

  if (self->done[SEC_ALLERGIES] && self->results[SEC_ALLERGIES] != NULL
      && (self->allergies == NULL || self->allergies[0] == NULL))
    info_row (self->demographics_list, _("Allergies"), _("None known"));
}

static void
render_allergies (WzRecordView *self)
{
  g_auto(GStrv) names = wz_allergy_names_from_bundle (self->results[SEC_ALLERGIES]);

  if (names == NULL)
    names = g_new0 (char *, 1);

  g_strfreev (self->allergies);
  self->allergies = g_steal_pointer (&names);
  wz_allergy_badge_set_allergies (self->allergy_badge, (const char * const *) self->allergies);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ALLERGIES]);
}

static gboolean
condition_is_active (JsonObject *condition)
{
  const char *clinical = wz_concept_code (wz_json_object (condition, "clinicalStatus"), NULL);
  const char *verification = wz_concept_code (wz_json_object (condition, "verificationStatus"), NULL);

  if (g_strcmp0 (verification, "refuted") == 0 || g_strcmp0 (verification, "entered-in-error") == 0)
    return FALSE;

  return clinical == NULL || g_strcmp0 (clinical, "active") == 0
    || g_strcmp0 (clinical, "recurrence") == 0 || g_strcmp0 (clinical, "relapse") == 0;
}

static const char *
condition_code (JsonObject *condition)
{
  JsonObject *code = wz_json_object (condition, "code");
  const char *icd = wz_concept_code (code, WZ_ICD10_SYSTEM);

  return icd != NULL ? icd : wz_concept_code (code, NULL);
}

static void
render_conditions (WzRecordView *self)
{
  g_autoptr(GPtrArray) conditions = wz_bundle_resources (self->results[SEC_CONDITIONS], "Condition");
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  guint shown = 0;

  clear_list (self->conditions_list);
  for (guint i = 0; conditions != NULL && i < conditions->len; i++)
    {
      JsonObject *condition = conditions->pdata[i];
      const char *code = condition_code (condition);
      const char *name = wz_concept_text (wz_json_object (condition, "code"));
      const char *since = wz_json_string (condition, "onsetDateTime");
      g_autofree char *subtitle = NULL;
      GtkWidget *row;
      GtkWidget *code_label;

      if (!condition_is_active (condition))
        continue;
      if (code != NULL && !g_hash_table_add (seen, (gpointer) code))
        continue;

      if (since == NULL)
        since = wz_json_string (condition, "recordedDate");
      if (since != NULL)
        {
          g_autofree char *date = format_date (instant_us (since));

          /* Translators: when a condition was first recorded; %s is a date */
          subtitle = g_strdup_printf (_("Since %s"), date);
        }

      row = text_row (self->conditions_list, name != NULL ? name : _("Unnamed condition"), subtitle);
      code_label = gtk_label_new (code != NULL ? code : "—");
      gtk_label_set_width_chars (GTK_LABEL (code_label), 8);
      gtk_label_set_xalign (GTK_LABEL (code_label), 0);
      gtk_widget_add_css_class (code_label, "monospace");
      gtk_widget_add_css_class (code_label, "heading");
      adw_action_row_add_prefix (ADW_ACTION_ROW (row), code_label);
      shown++;
    }

  if (shown == 0)
    empty_row (self->conditions_list, _("No active conditions recorded"));
}

static void
render_medications (WzRecordView *self)
{
  g_autoptr(GPtrArray) statements = wz_bundle_resources (self->results[SEC_MEDICATIONS],
                                                         "MedicationStatement");
  guint shown = 0;

  clear_list (self->medications_list);
  for (guint i = 0; statements != NULL && i < statements->len; i++)
    {
      JsonObject *statement = statements->pdata[i];
      const char *status = wz_json_string (statement, "status");
      const char *name = wz_concept_text (wz_json_object (statement, "medicationCodeableConcept"));
      const char *dosage = wz_json_string (wz_json_array_object (wz_json_array (statement, "dosage"), 0),
                                           "text");

      if (g_strcmp0 (status, "active") != 0 && g_strcmp0 (status, "intended") != 0)
        continue;

      text_row (self->medications_list, name != NULL ? name : _("Unnamed medicine"), dosage);
      shown++;
    }

  if (shown == 0)
    empty_row (self->medications_list, _("No current medications recorded"));
}

/* ---------------------------------------------------------------------------------------- */
/* Vital signs */

static const struct
{
  const char *codes[3];   /* LOINC codes that carry it */
  const char *unit;
  double      low, high, low2, high2;
} vitals[N_VITALS] = {
  /* Blood pressure panel; target systolic 90–140, diastolic 60–90 mmHg (Chinese hypertension
   * guideline 2018: below 140/90 for most adults). */
  [VITAL_BP] = { { "85354-9", "55284-4", NULL }, "mmHg", 90, 140, 60, 90 },
  [VITAL_HR] = { { "8867-4", NULL, NULL }, "/min", 60, 100, NAN, NAN },
  [VITAL_TEMP] = { { "8310-5", "8331-1", NULL }, "°C", 36.0, 37.3, NAN, NAN },
  [VITAL_WEIGHT] = { { "29463-7", "3141-9", NULL }, "kg", NAN, NAN, NAN, NAN },
  /* Fasting glucose target 4.4–7.0 mmol/L (Chinese type 2 diabetes guideline 2020). */
  [VITAL_GLUCOSE] = { { "15074-8", "2339-0", "1558-6" }, "mmol/L", 4.4, 7.0, NAN, NAN },
};

static const char *
vital_name (VitalKind kind)
{
  switch (kind)
    {
    case VITAL_BP:
      return _("Blood pressure");
    case VITAL_HR:
      return _("Heart rate");
    case VITAL_TEMP:
      return _("Temperature");
    case VITAL_WEIGHT:
      return _("Weight");
    case VITAL_GLUCOSE:
    default:
      return _("Blood glucose");
    }
}

static int
vital_for (JsonObject *observation)
{
  JsonArray *codings = wz_json_array (wz_json_object (observation, "code"), "coding");

  for (guint i = 0; codings != NULL && i < json_array_get_length (codings); i++)
    {
      const char *code = wz_json_string (wz_json_array_object (codings, i), "code");

      for (int k = 0; k < N_VITALS; k++)
        for (guint c = 0; c < G_N_ELEMENTS (vitals[k].codes) && vitals[k].codes[c] != NULL; c++)
          if (g_strcmp0 (code, vitals[k].codes[c]) == 0)
            return k;
    }

  return -1;
}

static double
quantity_value (JsonObject *holder)
{
  JsonObject *quantity = wz_json_object (holder, "valueQuantity");
  JsonNode *value;

  if (quantity == NULL || (value = json_object_get_member (quantity, "value")) == NULL
      || !JSON_NODE_HOLDS_VALUE (value))
    return NAN;

  if (json_node_get_value_type (value) == G_TYPE_DOUBLE)
    return json_node_get_double (value);
  if (json_node_get_value_type (value) == G_TYPE_INT64)
    return (double) json_node_get_int (value);

  return NAN;
}

static double
component_value (JsonObject *observation,
                 const char *code)
{
  JsonArray *components = wz_json_array (observation, "component");

  for (guint i = 0; components != NULL && i < json_array_get_length (components); i++)
    {
      JsonObject *component = wz_json_array_object (components, i);

      if (g_strcmp0 (wz_concept_code (wz_json_object (component, "code"), NULL), code) == 0)
        return quantity_value (component);
    }

  return NAN;
}

static gint64
observation_time (JsonObject *observation)
{
  const char *when = wz_json_string (observation, "effectiveDateTime");

  if (when == NULL)
    when = wz_json_string (wz_json_object (observation, "effectivePeriod"), "start");
  if (when == NULL)
    when = wz_json_string (observation, "issued");

  return instant_us (when);
}

static GArray *
vital_points (WzRecordView *self,
              VitalKind     kind)
{
  g_autoptr(GPtrArray) observations = wz_bundle_resources (self->results[SEC_OBSERVATIONS],
                                                           "Observation");
  GArray *points = g_array_new (FALSE, FALSE, sizeof (WzVitalsPoint));

  for (guint i = 0; observations != NULL && i < observations->len; i++)
    {
      JsonObject *observation = observations->pdata[i];
      const char *status = wz_json_string (observation, "status");
      WzVitalsPoint point;

      if (vital_for (observation) != (int) kind)
        continue;
      if (g_strcmp0 (status, "entered-in-error") == 0 || g_strcmp0 (status, "cancelled") == 0)
        continue;

      point.time_us = observation_time (observation);
      if (kind == VITAL_BP)
        {
          point.value = component_value (observation, "8480-6");
          point.value2 = component_value (observation, "8462-4");
        }
      else
        {
          point.value = quantity_value (observation);
          point.value2 = NAN;
        }
      if (point.time_us != 0 && !isnan (point.value))
        g_array_append_val (points, point);
    }

  return points;
}

static const WzVitalsPoint *
latest_point (GArray *points)
{
  const WzVitalsPoint *latest = NULL;

  for (guint i = 0; i < points->len; i++)
    {
      const WzVitalsPoint *p = &g_array_index (points, WzVitalsPoint, i);

      if (latest == NULL || p->time_us > latest->time_us)
        latest = p;
    }

  return latest;
}

static char *
format_vital (VitalKind             kind,
              const WzVitalsPoint  *p)
{
  switch (kind)
    {
    case VITAL_BP:
      return g_strdup_printf ("%.0f/%.0f %s", p->value, p->value2, vitals[kind].unit);
    case VITAL_HR:
      return g_strdup_printf ("%.0f %s", p->value, vitals[kind].unit);
    case VITAL_TEMP:
    case VITAL_WEIGHT:
    case VITAL_GLUCOSE:
    default:
      return g_strdup_printf ("%.1f %s", p->value, vitals[kind].unit);
    }
}

static gboolean
vital_out_of_range (VitalKind            kind,
                    const WzVitalsPoint *p)
{
  if (!isnan (vitals[kind].low) && (p->value < vitals[kind].low || p->value > vitals[kind].high))
    return TRUE;
  if (!isnan (vitals[kind].low2) && !isnan (p->value2)
      && (p->value2 < vitals[kind].low2 || p->value2 > vitals[kind].high2))
    return TRUE;

  return FALSE;
}

static VitalKind
selected_vital (WzRecordView *self)
{
  if (gtk_toggle_button_get_active (self->chart_hr))
    return VITAL_HR;
  if (gtk_toggle_button_get_active (self->chart_temp))
    return VITAL_TEMP;
  if (gtk_toggle_button_get_active (self->chart_weight))
    return VITAL_WEIGHT;
  if (gtk_toggle_button_get_active (self->chart_glucose))
    return VITAL_GLUCOSE;

  return VITAL_BP;
}

static void
update_chart (WzRecordView *self)
{
  VitalKind kind = selected_vital (self);
  g_autoptr(GArray) points = vital_points (self, kind);
  g_autofree char *legend = NULL;
  g_autofree char *description = NULL;
  const WzVitalsPoint *latest = latest_point (points);

  wz_vitals_chart_set_points (self->chart, points);
  wz_vitals_chart_set_unit (self->chart, vitals[kind].unit);
  wz_vitals_chart_set_target (self->chart, vitals[kind].low, vitals[kind].high);
  wz_vitals_chart_set_target2 (self->chart, vitals[kind].low2, vitals[kind].high2);

  if (kind == VITAL_BP)
    legend = g_strdup (_("Blue: systolic, purple: diastolic. Green bands: target 90–140 / 60–90 mmHg."));
  else if (!isnan (vitals[kind].low))
    /* Translators: legend under the chart; %s is a range such as “60–100 /min” */
    legend = g_strdup_printf (_("Green band: target %s."),
                              kind == VITAL_HR ? "60–100 /min"
                              : kind == VITAL_TEMP ? "36.0–37.3 °C" : "4.4–7.0 mmol/L");
  gtk_label_set_text (self->chart_legend, legend != NULL ? legend : "");
  gtk_widget_set_visible (GTK_WIDGET (self->chart_legend), legend != NULL && points->len > 0);

  if (latest != NULL)
    {
      g_autofree char *value = format_vital (kind, latest);

      /* Translators: accessible description of the chart: what, how many, the latest value */
      description = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s: %u measurement, latest %s",
                                                  "%s: %u measurements, latest %s", points->len),
                                     vital_name (kind), points->len, value);
    }
  else
    description = g_strdup_printf (_("%s: no measurements"), vital_name (kind));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->chart),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, description, -1);
}

static void
on_chart_kind_toggled (WzRecordView    *self,
                       GtkToggleButton *button)
{
  if (!gtk_toggle_button_get_active (button))
    return;

  update_chart (self);
  wz_test_report ("chart kind=%s points=%u", gtk_button_get_label (GTK_BUTTON (button)),
                  wz_vitals_chart_get_n_points (self->chart));
}

static void
render_vitals (WzRecordView *self)
{
  guint shown = 0;

  clear_list (self->vitals_list);
  for (int kind = 0; kind < N_VITALS; kind++)
    {
      g_autoptr(GArray) points = vital_points (self, kind);
      const WzVitalsPoint *latest = latest_point (points);
      g_autofree char *value = NULL;
      g_autofree char *date = NULL;
      g_autofree char *subtitle = NULL;
      GtkWidget *row;

      if (latest == NULL)
        continue;

      value = format_vital (kind, latest);
      date = format_date (latest->time_us);
      /* Translators: under a vital sign: when it was measured; %s is a date */
      subtitle = g_strdup_printf (_("Measured %s"), date);
      row = info_row (self->vitals_list, vital_name (kind), value);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
      if (vital_out_of_range (kind, latest))
        {
          GtkWidget *icon = gtk_image_new_from_icon_name ("dialog-warning-symbolic");

          gtk_widget_set_tooltip_text (icon, _("Outside the target range"));
          gtk_widget_add_css_class (icon, "warning");
          adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
          gtk_widget_add_css_class (row, "vital-out-of-range");
        }
      shown++;
    }

  if (shown == 0)
    empty_row (self->vitals_list, _("No vital signs recorded"));
  gtk_widget_set_visible (self->chart_card, shown > 0);
  update_chart (self);
}

/* ---------------------------------------------------------------------------------------- */
/* Visits and documents */

static gboolean
is_consult_note (JsonObject *document)
{
  return g_strcmp0 (wz_concept_code (wz_json_object (document, "type"), LOINC), WZ_CONSULT_NOTE_LOINC) == 0;
}

static const char *
document_encounter (JsonObject *document)
{
  JsonObject *context = wz_json_object (document, "context");

  return wz_json_string (wz_json_array_object (wz_json_array (context, "encounter"), 0), "reference");
}

static char *
attachment_text (JsonObject *document)
{
  JsonObject *attachment = wz_json_object (wz_json_array_object (wz_json_array (document, "content"), 0),
                                           "attachment");
  const char *data = wz_json_string (attachment, "data");
  g_autofree guchar *raw = NULL;
  gsize length = 0;

  if (data == NULL)
    return NULL;

  raw = g_base64_decode (data, &length);
  if (!g_utf8_validate_len ((const char *) raw, length, NULL))
    return NULL;

  return g_strndup ((const char *) raw, length);
}

/* A note as the doctor reads it: the stored Markdown with its headings turned into lines of
 * their own. */
static char *
readable_note (const char *markdown)
{
  g_autofree char *chief = NULL;
  g_autofree char *history = NULL;
  g_autofree char *advice = NULL;
  g_auto(GStrv) diagnoses = NULL;
  GString *text;

  if (!wz_visit_note_from_markdown (markdown, &chief, &history, &diagnoses, &advice))
    return g_strdup (markdown);

  text = g_string_new (NULL);
  if (*chief != '\0')
    g_string_append_printf (text, "%s\n%s\n\n", _("Chief complaint"), chief);
  if (*history != '\0')
    g_string_append_printf (text, "%s\n%s\n\n", _("History"), history);
  if (diagnoses[0] != NULL)
    {
      g_autofree char *joined = g_strjoinv ("\n", diagnoses);

      g_string_append_printf (text, "%s\n%s\n\n", _("Diagnosis"), joined);
    }
  if (*advice != '\0')
    g_string_append_printf (text, "%s\n%s\n", _("Advice"), advice);

  return g_strstrip (g_string_free (text, FALSE));
}

static int
compare_by_start_desc (gconstpointer a,
                       gconstpointer b)
{
  JsonObject *ea = *(JsonObject **) a;
  JsonObject *eb = *(JsonObject **) b;
  gint64 sa = instant_us (wz_json_string (wz_json_object (ea, "period"), "start"));
  gint64 sb = instant_us (wz_json_string (wz_json_object (eb, "period"), "start"));

  return sa > sb ? -1 : sa < sb;
}

static int
status_rank (JsonObject *encounter)
{
  static const char * const order[] = { "in-progress", "triaged", "arrived", "planned", "finished",
                                        "cancelled", NULL };
  const char *status = wz_json_string (encounter, "status");

  for (int i = 0; order[i] != NULL; i++)
    if (g_strcmp0 (status, order[i]) == 0)
      return i;

  return G_N_ELEMENTS (order);
}

/* The visit the actions are about: the one asked for, else today's most active one. */
static JsonObject *
pick_current_encounter (WzRecordView *self,
                        GPtrArray    *encounters)
{
  JsonObject *best = NULL;

  for (guint i = 0; i < encounters->len; i++)
    {
      JsonObject *encounter = encounters->pdata[i];
      gint64 start = instant_us (wz_json_string (wz_json_object (encounter, "period"), "start"));

      if (self->encounter_id != NULL)
        {
          if (g_strcmp0 (wz_json_string (encounter, "id"), self->encounter_id) == 0)
            return encounter;
          continue;
        }

      if (!is_today (start) || g_strcmp0 (wz_json_string (encounter, "status"), "entered-in-error") == 0)
        continue;
      if (best == NULL || status_rank (encounter) < status_rank (best))
        best = encounter;
    }

  return best;
}

static void
add_visit_row (WzRecordView *self,
               JsonObject   *encounter,
               GPtrArray    *conditions,
               GPtrArray    *documents)
{
  g_autofree char *reference = wz_resource_reference (encounter);
  gint64 start = instant_us (wz_json_string (wz_json_object (encounter, "period"), "start"));
  g_autofree char *date = format_date (start);
  const char *reason = wz_concept_text (wz_json_array_object (wz_json_array (encounter, "reasonCode"), 0));
  g_autoptr(GString) diagnoses = g_string_new (NULL);
  g_autofree char *title = NULL;
  GtkWidget *row = adw_expander_row_new ();
  gboolean has_note = FALSE;

  for (guint i = 0; conditions != NULL && i < conditions->len; i++)
    {
      JsonObject *condition = conditions->pdata[i];
      const char *code = condition_code (condition);
      const char *name = wz_concept_text (wz_json_object (condition, "code"));

      if (g_strcmp0 (wz_json_reference (condition, "encounter"), reference) != 0)
        continue;
      if (diagnoses->len > 0)
        g_string_append (diagnoses, _(", "));
      if (code != NULL)
        g_string_append_printf (diagnoses, "%s %s", code, name != NULL ? name : "");
      else if (name != NULL)
        g_string_append (diagnoses, name);
    }

  /* Translators: a previous visit: date — reason, e.g. “2024-03-02 — Blood pressure review” */
  title = reason != NULL ? g_strdup_printf (_("%s — %s"), date, reason) : g_strdup (date);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_expander_row_set_subtitle (ADW_EXPANDER_ROW (row),
                                 diagnoses->len > 0 ? diagnoses->str : _("No diagnosis recorded"));

  for (guint i = 0; documents != NULL && i < documents->len; i++)
    {
      JsonObject *document = documents->pdata[i];
      g_autofree char *markdown = NULL;
      g_autofree char *text = NULL;
      GtkWidget *note_row;
      GtkWidget *label;

      if (!is_consult_note (document) || g_strcmp0 (document_encounter (document), reference) != 0
          || g_strcmp0 (wz_json_string (document, "status"), "entered-in-error") == 0)
        continue;

      markdown = attachment_text (document);
      if (markdown == NULL)
        continue;
      text = readable_note (markdown);

      note_row = gtk_list_box_row_new ();
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (note_row), FALSE);
      label = gtk_label_new (text);
      gtk_label_set_wrap (GTK_LABEL (label), TRUE);
      gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
      gtk_label_set_selectable (GTK_LABEL (label), TRUE);
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_widget_set_margin_top (label, 12);
      gtk_widget_set_margin_bottom (label, 12);
      gtk_widget_set_margin_start (label, 12);
      gtk_widget_set_margin_end (label, 12);
      gtk_widget_add_css_class (label, "visit-note-text");
      gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (note_row), label);
      adw_expander_row_add_row (ADW_EXPANDER_ROW (row), note_row);
      has_note = TRUE;
    }

  if (!has_note)
    {
      GtkWidget *none = adw_action_row_new ();

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (none), _("No visit note"));
      gtk_widget_add_css_class (none, "dim-label");
      adw_expander_row_add_row (ADW_EXPANDER_ROW (row), none);
    }

  gtk_list_box_append (self->encounters_list, row);
}

static void
render_encounters (WzRecordView *self)
{
  g_autoptr(GPtrArray) encounters = wz_bundle_resources (self->results[SEC_ENCOUNTERS], "Encounter");
  g_autoptr(GPtrArray) conditions = wz_bundle_resources (self->results[SEC_CONDITIONS], "Condition");
  g_autoptr(GPtrArray) documents = wz_bundle_resources (self->results[SEC_DOCUMENTS],
                                                        "DocumentReference");
  g_autoptr(GPtrArray) sorted = g_ptr_array_new ();
  guint shown = 0;

  clear_list (self->encounters_list);
  if (encounters == NULL)
    return;

  for (guint i = 0; i < encounters->len; i++)
    g_ptr_array_add (sorted, encounters->pdata[i]);
  g_ptr_array_sort (sorted, compare_by_start_desc);

  for (guint i = 0; i < sorted->len; i++)
    {
      JsonObject *encounter = sorted->pdata[i];

      if (g_strcmp0 (wz_json_string (encounter, "status"), "finished") != 0)
        continue;
      if (self->encounter != NULL
          && g_strcmp0 (wz_json_string (encounter, "id"), wz_json_string (self->encounter, "id")) == 0)
        continue;

      add_visit_row (self, encounter, conditions, documents);
      shown++;
    }

  if (shown == 0)
    empty_row (self->encounters_list, _("No earlier visits"));
}

static void
on_document_activated (AdwActionRow *row,
                       WzRecordView *self)
{
  JsonObject *document = g_object_get_data (G_OBJECT (row), "document");

  wz_document_viewer_open (GTK_WIDGET (self), self->client, document);
}

static void
render_documents (WzRecordView *self)
{
  g_autoptr(GPtrArray) documents = wz_bundle_resources (self->results[SEC_DOCUMENTS],
                                                        "DocumentReference");
  guint shown = 0;

  clear_list (self->documents_list);
  for (guint i = 0; documents != NULL && i < documents->len; i++)
    {
      JsonObject *document = documents->pdata[i];
      JsonObject *attachment = wz_json_object (wz_json_array_object (wz_json_array (document, "content"), 0),
                                               "attachment");
      const char *title = wz_json_string (attachment, "title");
      const char *type = wz_concept_text (wz_json_object (document, "type"));
      const char *content_type = wz_json_string (attachment, "contentType");
      g_autofree char *date = format_date (instant_us (wz_json_string (document, "date")));
      g_autofree char *subtitle = NULL;
      GtkWidget *row;
      GtkWidget *icon;

      if (is_consult_note (document) || attachment == NULL
          || g_strcmp0 (wz_json_string (document, "status"), "entered-in-error") == 0)
        continue;

      if (title == NULL)
        title = wz_json_string (document, "description");
      subtitle = type != NULL && *date != '\0' ? g_strdup_printf (_("%s · %s"), type, date)
                                               : g_strdup (type != NULL ? type : date);
      row = text_row (self->documents_list, title != NULL ? title : _("Untitled document"), subtitle);
      icon = gtk_image_new_from_icon_name (g_str_has_prefix (content_type ?: "", "image/")
                                           ? "image-x-generic-symbolic" : "x-office-document-symbolic");
      adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), gtk_image_new_from_icon_name ("go-next-symbolic"));
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
      g_object_set_data_full (G_OBJECT (row), "document", json_object_ref (document),
                              (GDestroyNotify) json_object_unref);
      g_signal_connect (row, "activated", G_CALLBACK (on_document_activated), self);
      shown++;
    }

  if (shown == 0)
    empty_row (self->documents_list, _("No uploaded documents"));
}

/* ---------------------------------------------------------------------------------------- */
/* Pre-consultation */

static JsonNode *triage_rules;

static void
read_rules_in_thread (GTask        *task,
                      gpointer      source_object,
                      gpointer      task_data,
                      GCancellable *cancellable)
{
  g_autofree char *path = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  const char *env = g_getenv ("WZ_DATA_DIR");
  const char *dir = env != NULL && *env != '\0' ? env
                    : g_file_test (PKGDATADIR, G_FILE_TEST_IS_DIR) ? PKGDATADIR : SOURCE_DATADIR;

  path = g_build_filename (dir, "clinical", "triage-rules.json", NULL);
  if (!json_parser_load_from_file (parser, path, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  g_task_return_pointer (task, json_parser_steal_root (parser), (GDestroyNotify) json_node_unref);
}

static const char *
localized (JsonObject *object,
           const char *member)
{
  JsonObject *texts = wz_json_object (object, member);
  const char *text = wz_json_string (texts, ui_language ());

  return text != NULL ? text : wz_json_string (texts, "en");
}

/* An entry of the rules file by id: a rule, a red flag, a symptom, a duration or a measurement. */
static JsonObject *
rules_entry (const char *list,
             const char *id)
{
  JsonArray *entries;

  if (triage_rules == NULL || !JSON_NODE_HOLDS_OBJECT (triage_rules))
    return NULL;

  entries = wz_json_array (json_node_get_object (triage_rules), list);
  for (guint i = 0; entries != NULL && i < json_array_get_length (entries); i++)
    {
      JsonObject *entry = wz_json_array_object (entries, i);

      if (g_strcmp0 (wz_json_string (entry, "id"), id) == 0)
        return entry;
    }

  return NULL;
}

static char *
answer_text (JsonObject *item,
             gboolean   *out_yes)
{
  JsonArray *answers = wz_json_array (item, "answer");
  g_autoptr(GString) text = g_string_new (NULL);

  *out_yes = FALSE;
  for (guint i = 0; answers != NULL && i < json_array_get_length (answers); i++)
    {
      JsonObject *answer = wz_json_array_object (answers, i);
      g_autofree char *value = NULL;
      JsonNode *node;

      if (answer == NULL)
        continue;

      if ((node = json_object_get_member (answer, "valueBoolean")) != NULL && JSON_NODE_HOLDS_VALUE (node))
        {
          gboolean yes = json_node_get_boolean (node);

          *out_yes |= yes;
          value = g_strdup (yes ? _("Yes") : _("No"));
        }
      else if (wz_json_string (answer, "valueString") != NULL)
        value = g_strdup (wz_json_string (answer, "valueString"));
      else if (wz_json_object (answer, "valueCoding") != NULL)
        {
          JsonObject *coding = wz_json_object (answer, "valueCoding");
          const char *code = wz_json_string (coding, "code");
          JsonObject *known = rules_entry ("symptom_checklist", code);
          const char *label;

          if (known == NULL)
            known = rules_entry ("duration_options", code);
          label = known != NULL ? localized (known, "label") : NULL;
          value = g_strdup (label != NULL ? label
                            : wz_json_string (coding, "display") ?: code ?: "");
        }
      else if ((node = json_object_get_member (answer, "valueDecimal")) != NULL
               || (node = json_object_get_member (answer, "valueInteger")) != NULL)
        {
          if (JSON_NODE_HOLDS_VALUE (node))
            value = g_strdup_printf ("%g", json_node_get_value_type (node) == G_TYPE_INT64
                                             ? (double) json_node_get_int (node)
                                             : json_node_get_double (node));
        }
      else if (wz_json_object (answer, "valueQuantity") != NULL)
        {
          JsonObject *quantity = wz_json_object (answer, "valueQuantity");

          value = g_strdup_printf ("%g %s", quantity_value (answer), wz_json_string (quantity, "unit") ?: "");
        }

      if (value == NULL || *value == '\0')
        continue;
      if (text->len > 0)
        g_string_append (text, _(", "));
      g_string_append (text, value);
    }

  return text->len > 0 ? g_string_free (g_steal_pointer (&text), FALSE) : NULL;
}

static void
add_answer_rows (WzRecordView *self,
                 JsonArray    *items,
                 GString      *red_flags)
{
  for (guint i = 0; items != NULL && i < json_array_get_length (items); i++)
    {
      JsonObject *item = wz_json_array_object (items, i);
      const char *link = wz_json_string (item, "linkId");
      const char *question = wz_json_string (item, "text");
      g_autofree char *answer = NULL;
      gboolean yes = FALSE;

      if (item == NULL)
        continue;

      if (json_object_has_member (item, "item"))
        {
          add_answer_rows (self, wz_json_array (item, "item"), red_flags);
          continue;
        }

      answer = answer_text (item, &yes);
      if (link != NULL && g_str_has_prefix (link, "red-flag."))
        {
          JsonObject *flag = rules_entry ("red_flags", link + strlen ("red-flag."));
          const char *alert = flag != NULL ? localized (flag, "doctor_alert") : question;

          /* Only a “yes” is worth the doctor's attention among the red-flag questions. */
          if (yes)
            {
              if (red_flags->len > 0)
                g_string_append_c (red_flags, '\n');
              g_string_append (red_flags, alert != NULL ? alert : link);
            }
          continue;
        }

      if (answer == NULL)
        continue;

      if (link != NULL && g_str_has_prefix (link, "measurement."))
        {
          JsonObject *measurement = rules_entry ("measurements", link + strlen ("measurement."));

          if (measurement != NULL)
            question = localized (measurement, "label");
        }
      else if (g_strcmp0 (link, "chief-complaint") == 0)
        question = _("Chief complaint");
      else if (g_strcmp0 (link, "duration") == 0)
        question = _("For how long");
      else if (g_strcmp0 (link, "symptoms") == 0)
        question = _("Symptoms");
      else if (g_strcmp0 (link, "medications") == 0)
        question = _("Current medicines");
      else if (g_strcmp0 (link, "allergies") == 0)
        question = _("Allergies reported");
      else if (g_strcmp0 (link, "pregnant") == 0)
        question = _("Pregnant");

      {
        GtkWidget *row = text_row (self->triage_list, question != NULL ? question : link, answer);

        /* The answer is what the doctor reads; the question is the small print. */
        gtk_widget_add_css_class (row, "answer");
      }
    }
}

static void
render_triage (WzRecordView *self,
               JsonNode     *responses,
               JsonNode     *flags)
{
  g_autoptr(GPtrArray) items = wz_bundle_resources (responses, "QuestionnaireResponse");
  g_autoptr(GPtrArray) flag_list = wz_bundle_resources (flags, "Flag");
  g_autoptr(GString) red_flags = g_string_new (NULL);
  JsonObject *response = NULL;
  JsonArray *extensions;
  guint urgency;
  GtkWidget *row;
  JsonObject *level;
  g_autofree char *urgency_text = NULL;
  g_autoptr(GString) rule_ids = g_string_new (NULL);

  clear_list (self->triage_list);
  for (guint i = 0; items != NULL && i < items->len; i++)
    if (g_strcmp0 (wz_json_string (items->pdata[i], "status"), "entered-in-error") != 0)
      response = items->pdata[i];

  if (response == NULL || self->encounter == NULL)
    {
      gtk_widget_set_visible (self->triage_group, FALSE);
      return;
    }

  /* Urgency, with the rules that set it and where they come from. */
  urgency = wz_encounter_urgency (self->encounter);
  level = NULL;
  if (triage_rules != NULL && JSON_NODE_HOLDS_OBJECT (triage_rules))
    {
      JsonArray *levels = wz_json_array (json_node_get_object (triage_rules), "urgency_levels");

      for (guint i = 0; levels != NULL && i < json_array_get_length (levels); i++)
        {
          JsonObject *candidate = wz_json_array_object (levels, i);

          if (json_object_has_member (candidate, "level")
              && (guint) json_object_get_int_member (candidate, "level") == urgency)
            level = candidate;
        }
    }
  urgency_text = g_strdup (level != NULL && localized (level, "label") != NULL
                           ? localized (level, "label") : wz_encounter_urgency_label (urgency));
  row = info_row (self->triage_list, _("Urgency"), urgency_text);
  gtk_widget_add_css_class (row, urgency <= 1 ? "urgency-1" : urgency == 2 ? "urgency-2" : "urgency-other");

  /* Triage names its rules on the priority element; older data put them on the Encounter. */
  extensions = wz_json_array (wz_json_object (self->encounter, "priority"), "extension");
  if (extensions == NULL)
    extensions = wz_json_array (self->encounter, "extension");
  for (guint i = 0; extensions != NULL && i < json_array_get_length (extensions); i++)
    {
      JsonObject *extension = wz_json_array_object (extensions, i);
      g_auto(GStrv) ids = NULL;

      if (g_strcmp0 (wz_json_string (extension, "url"), WZ_TRIAGE_SOURCE_URL) != 0)
        continue;

      ids = g_strsplit_set (wz_json_string (extension, "valueString") ?: "", ", ", -1);
      for (guint k = 0; ids[k] != NULL; k++)
        {
          JsonObject *rule = rules_entry ("rules", ids[k]);
          JsonObject *flag = rule == NULL ? rules_entry ("red_flags", ids[k]) : NULL;
          JsonArray *sources;
          const char *reason;
          const char *source;

          if (*ids[k] == '\0' || g_strcmp0 (ids[k], "default") == 0)
            continue;
          if (rule == NULL && flag == NULL)
            {
              text_row (self->triage_list, ids[k], NULL);
              continue;
            }

          reason = rule != NULL ? localized (rule, "reason") : localized (flag, "doctor_alert");
          sources = wz_json_array (rule != NULL ? rule : flag, "source");
          source = sources != NULL && json_array_get_length (sources) > 0
                   ? json_array_get_string_element (sources, 0) : NULL;
          {
            g_autofree char *subtitle = source != NULL
              /* Translators: where a triage rule comes from; %s names a guideline */
              ? g_strdup_printf (_("Rule %s · %s"), ids[k], source)
              : g_strdup_printf (_("Rule %s"), ids[k]);

            row = text_row (self->triage_list, reason != NULL ? reason : ids[k], subtitle);
            adw_action_row_add_prefix (ADW_ACTION_ROW (row),
                                       gtk_image_new_from_icon_name ("emblem-important-symbolic"));
          }
          if (rule_ids->len > 0)
            g_string_append_c (rule_ids, ',');
          g_string_append (rule_ids, ids[k]);
        }
    }

  add_answer_rows (self, wz_json_array (response, "item"), red_flags);

  for (guint i = 0; flag_list != NULL && i < flag_list->len; i++)
    {
      JsonObject *flag = flag_list->pdata[i];
      const char *text = wz_concept_text (wz_json_object (flag, "code"));

      if (g_strcmp0 (wz_json_string (flag, "status"), "active") != 0 || text == NULL)
        continue;
      if (strstr (red_flags->str, text) != NULL)
        continue;
      if (red_flags->len > 0)
        g_string_append_c (red_flags, '\n');
      g_string_append (red_flags, text);
    }

  if (red_flags->len > 0)
    {
      /* Translators: heading of the red flags the patient reported before the visit */
      g_autofree char *text = g_strdup_printf ("%s\n%s", _("Red flag"), red_flags->str);

      gtk_label_set_text (self->red_flag_label, text);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->red_flag_label), red_flags->len > 0);
  gtk_widget_set_visible (self->triage_group, TRUE);

  wz_test_report ("triage-shown encounter=%s urgency=%u rules=%s red-flags=%s",
                  wz_json_string (self->encounter, "id"), urgency, rule_ids->str,
                  red_flags->len > 0 ? "yes" : "no");
}

typedef struct
{
  WzRecordView *self;
  JsonNode     *responses;
  JsonNode     *flags;
  guint         pending;
  char         *encounter_id;
} TriageLoad;

static void
triage_load_unref (TriageLoad *load)
{
  if (--load->pending > 0)
    return;

  if (!g_cancellable_is_cancelled (load->self->cancellable)
      && load->self->encounter != NULL
      && g_strcmp0 (wz_json_string (load->self->encounter, "id"), load->encounter_id) == 0)
    render_triage (load->self, load->responses, load->flags);

  g_clear_pointer (&load->responses, json_node_unref);
  g_clear_pointer (&load->flags, json_node_unref);
  g_free (load->encounter_id);
  g_object_unref (load->self);
  g_free (load);
}

static void
on_triage_rules (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  JsonNode *rules = g_task_propagate_pointer (G_TASK (result), &error);

  if (rules == NULL)
    g_warning ("Triage rules not loaded: %s", error->message);
  else if (triage_rules == NULL)
    triage_rules = rules;
  else
    json_node_unref (rules);

  triage_load_unref (user_data);
}

static void
on_triage_responses (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  TriageLoad *load = user_data;

  load->responses = wz_api_client_get_json_finish (WZ_API_CLIENT (object), result, NULL);
  triage_load_unref (load);
}

static void
on_triage_flags (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  TriageLoad *load = user_data;

  /* A server without Flag support answers 400; the questionnaire is shown all the same. */
  load->flags = wz_api_client_get_json_finish (WZ_API_CLIENT (object), result, NULL);
  triage_load_unref (load);
}

static void
load_triage (WzRecordView *self)
{
  TriageLoad *load;
  g_autofree char *reference = NULL;
  g_autofree char *escaped = NULL;
  g_autofree char *responses = NULL;
  g_autofree char *flags = NULL;

  gtk_widget_set_visible (self->triage_group, FALSE);
  if (self->encounter == NULL)
    return;

  reference = wz_resource_reference (self->encounter);
  escaped = g_uri_escape_string (reference, NULL, FALSE);
  responses = g_strdup_printf ("/fhir/QuestionnaireResponse?encounter=%s&_count=10", escaped);
  flags = g_strdup_printf ("/fhir/Flag?encounter=%s&_count=20", escaped);

  load = g_new0 (TriageLoad, 1);
  load->self = g_object_ref (self);
  load->encounter_id = g_strdup (wz_json_string (self->encounter, "id"));
  load->pending = 2;

  if (triage_rules == NULL)
    {
      g_autoptr(GTask) task = g_task_new (NULL, NULL, on_triage_rules, load);

      load->pending++;
      g_task_run_in_thread (task, read_rules_in_thread);
    }

  wz_api_client_get_json_async (self->client, responses, self->cancellable, on_triage_responses, load);
  wz_api_client_get_json_async (self->client, flags, self->cancellable, on_triage_flags, load);
}

/* ---------------------------------------------------------------------------------------- */
/* The visit header */

static const char *
status_label (const char *status)
{
  if (g_strcmp0 (status, "planned") == 0)
    return _("Booked");
  if (g_strcmp0 (status, "arrived") == 0)
    return _("Waiting");
  if (g_strcmp0 (status, "triaged") == 0)
    return _("Waiting, pre-consultation done");
  if (g_strcmp0 (status, "in-progress") == 0)
    return _("In consultation");
  if (g_strcmp0 (status, "finished") == 0)
    return _("Finished");
  if (g_strcmp0 (status, "cancelled") == 0)
    return _("Cancelled or no-show");

  return _("Unknown state");
}

static void
update_header (WzRecordView *self)
{
  g_autofree char *title = NULL;
  g_autofree char *subtitle = NULL;
  const char *status;
  const char *reason;
  gint64 start;

  if (self->encounter == NULL)
    {
      gtk_label_set_text (self->visit_title, self->patient_id != NULL ? _("No visit today") : "");
      gtk_label_set_text (self->visit_subtitle,
                          self->patient_id != NULL ? _("This patient has no open visit with you today.") : "");
      return;
    }

  status = wz_json_string (self->encounter, "status");
  start = instant_us (wz_json_string (wz_json_object (self->encounter, "period"), "start"));
  reason = wz_concept_text (wz_json_array_object (wz_json_array (self->encounter, "reasonCode"), 0));

  if (start != 0)
    {
      g_autofree char *time = format_time (start);

      /* Translators: visit state and the time the patient arrived or is booked, e.g. “Waiting · 09:30” */
      title = g_strdup_printf (_("%s · %s"), status_label (status), time);
    }
  else
    title = g_strdup (status_label (status));

  /* An urgency only where triage or a doctor set one: a visit without one is not “routine”. */
  if (wz_json_object (self->encounter, "priority") == NULL)
    subtitle = g_strdup (reason != NULL ? reason : "");
  else if (reason != NULL)
    /* Translators: urgency and reason of the visit, e.g. “Urgent · Chest tightness” */
    subtitle = g_strdup_printf (_("%s · %s"),
                                wz_encounter_urgency_label (wz_encounter_urgency (self->encounter)),
                                reason);
  else
    subtitle = g_strdup (wz_encounter_urgency_label (wz_encounter_urgency (self->encounter)));

  gtk_label_set_text (self->visit_title, title);
  gtk_label_set_text (self->visit_subtitle, subtitle);
}

static void
update_actions (WzRecordView *self)
{
  WzSession *session = self->client != NULL ? wz_api_client_get_session (self->client) : NULL;
  gboolean can_start = !self->busy && wz_encounter_can (self->encounter, WZ_ENCOUNTER_START);
  gboolean can_finish = !self->busy && wz_encounter_can (self->encounter, WZ_ENCOUNTER_FINISH);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "record.call-next",
                                 !self->busy && session != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "record.start", can_start);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "record.finish", can_finish);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "record.no-show",
                                 !self->busy && wz_encounter_can (self->encounter, WZ_ENCOUNTER_NO_SHOW));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "record.change-urgency",
                                 !self->busy && wz_encounter_can (self->encounter, WZ_ENCOUNTER_URGENCY));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "record.reload", self->patient_id != NULL);

  gtk_widget_set_visible (self->start_button, wz_encounter_can (self->encounter, WZ_ENCOUNTER_START));
  gtk_widget_set_visible (self->finish_button, wz_encounter_can (self->encounter, WZ_ENCOUNTER_FINISH));
  gtk_widget_set_visible (self->more_button, self->encounter != NULL);
  gtk_widget_set_visible (self->action_bar, self->patient_id != NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->note_toggle), self->encounter != NULL);
}

static void
set_encounter (WzRecordView *self,
               JsonObject   *encounter)
{
  g_clear_pointer (&self->encounter, json_object_unref);
  if (encounter != NULL)
    self->encounter = json_object_ref (encounter);

  update_header (self);
  update_actions (self);
  wz_visit_note_editor_load (self->note_editor, self->encounter);
  /* The note opens beside the record while the visit is open; a closed visit's note is one
   * click away. */
  adw_flap_set_reveal_flap (self->flap,
                            !adw_flap_get_folded (self->flap)
                            && (wz_encounter_can (self->encounter, WZ_ENCOUNTER_START)
                                || wz_encounter_can (self->encounter, WZ_ENCOUNTER_FINISH)));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ENCOUNTER_ID]);
}

/* ---------------------------------------------------------------------------------------- */
/* Loading */

static const char *
section_name (Section section)
{
  static const char * const names[] = {
    "patient", "allergies", "conditions", "medications", "observations", "encounters", "documents"
  };

  return names[section];
}

static GtkListBox *
section_list (WzRecordView *self,
              Section       section)
{
  switch (section)
    {
    case SEC_PATIENT:
    case SEC_ALLERGIES:
      return self->demographics_list;
    case SEC_CONDITIONS:
      return self->conditions_list;
    case SEC_MEDICATIONS:
      return self->medications_list;
    case SEC_OBSERVATIONS:
      return self->vitals_list;
    case SEC_ENCOUNTERS:
      return self->encounters_list;
    case SEC_DOCUMENTS:
      return self->documents_list;
    case N_SECTIONS:
    default:
      g_assert_not_reached ();
    }
}

static const char *
section_error_title (Section section)
{
  switch (section)
    {
    case SEC_PATIENT:
      return _("The patient’s details could not be loaded");
    case SEC_ALLERGIES:
      return _("Allergies could not be loaded — ask the patient before prescribing");
    case SEC_CONDITIONS:
      return _("Conditions could not be loaded");
    case SEC_MEDICATIONS:
      return _("Medications could not be loaded");
    case SEC_OBSERVATIONS:
      return _("Vital signs could not be loaded");
    case SEC_ENCOUNTERS:
      return _("Earlier visits could not be loaded");
    case SEC_DOCUMENTS:
    case N_SECTIONS:
    default:
      return _("Documents could not be loaded");
    }
}

static void
report_loaded (WzRecordView *self)
{
  g_autoptr(GString) conditions = g_string_new (NULL);
  g_autoptr(GString) vital_text = g_string_new (NULL);
  g_autoptr(GPtrArray) condition_list = wz_bundle_resources (self->results[SEC_CONDITIONS], "Condition");
  g_autofree char *allergies = self->allergies != NULL ? g_strjoinv (";", self->allergies) : g_strdup ("");
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  guint errors = 0;
  g_autofree char *name = NULL;

  for (int s = 0; s < N_SECTIONS; s++)
    errors += self->results[s] == NULL;

  for (guint i = 0; condition_list != NULL && i < condition_list->len; i++)
    if (condition_is_active (condition_list->pdata[i]))
      {
        const char *code = condition_code (condition_list->pdata[i]);

        if (code != NULL && !g_hash_table_add (seen, (gpointer) code))
          continue;
        if (conditions->len > 0)
          g_string_append_c (conditions, ';');
        g_string_append (conditions, code != NULL ? code : "?");
      }

  for (int kind = 0; kind < N_VITALS; kind++)
    {
      g_autoptr(GArray) points = vital_points (self, kind);
      const WzVitalsPoint *latest = latest_point (points);
      static const char * const keys[] = { "bp", "hr", "temp", "weight", "glucose" };

      if (latest == NULL)
        continue;
      if (vital_text->len > 0)
        g_string_append_c (vital_text, ',');
      if (kind == VITAL_BP)
        g_string_append_printf (vital_text, "bp:%.0f/%.0f", latest->value, latest->value2);
      else
        g_string_append_printf (vital_text, "%s:%g", keys[kind], latest->value);
      g_string_append_printf (vital_text, "(%u)", points->len);
    }

  if (self->results[SEC_PATIENT] != NULL && JSON_NODE_HOLDS_OBJECT (self->results[SEC_PATIENT]))
    name = wz_patient_name_from_resource (json_node_get_object (self->results[SEC_PATIENT]));

  wz_test_report_when_settled (GTK_WIDGET (self), is_settled,
                               "record=loaded patient=%s encounter=%s status=%s errors=%u allergies=%s conditions=%s vitals=%s chart-points=%u name=%s",
                               self->patient_id,
                               self->encounter != NULL ? wz_json_string (self->encounter, "id") : "none",
                               self->encounter != NULL ? wz_json_string (self->encounter, "status") : "none",
                               errors, allergies, conditions->str, vital_text->str,
                               wz_vitals_chart_get_n_points (self->chart), name != NULL ? name : "");
}

static void
section_done (WzRecordView *self,
              Section       section)
{
  self->done[section] = TRUE;

  switch (section)
    {
    case SEC_PATIENT:
      render_demographics (self);
      break;
    case SEC_ALLERGIES:
      render_allergies (self);
      render_demographics (self);
      break;
    case SEC_CONDITIONS:
      render_conditions (self);
      break;
    case SEC_MEDICATIONS:
      render_medications (self);
      break;
    case SEC_OBSERVATIONS:
      render_vitals (self);
      break;
    case SEC_ENCOUNTERS:
      {
        g_autoptr(GPtrArray) encounters = wz_bundle_resources (self->results[SEC_ENCOUNTERS], "Encounter");

        set_encounter (self, encounters != NULL ? pick_current_encounter (self, encounters) : NULL);
        load_triage (self);
      }
      break;
    case SEC_DOCUMENTS:
      render_documents (self);
      break;
    case N_SECTIONS:
    default:
      g_assert_not_reached ();
    }

  /* Earlier visits combine visits, their diagnoses and their notes. */
  if ((section == SEC_ENCOUNTERS || section == SEC_CONDITIONS || section == SEC_DOCUMENTS)
      && self->done[SEC_ENCOUNTERS] && self->done[SEC_CONDITIONS] && self->done[SEC_DOCUMENTS]
      && self->results[SEC_ENCOUNTERS] != NULL)
    render_encounters (self);

  if (--self->pending == 0)
    report_loaded (self);
}

typedef struct
{
  WzRecordView *self;
  Section       section;
} SectionLoad;

static void
on_section_loaded (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  SectionLoad *load = user_data;
  g_autoptr(WzRecordView) self = load->self;
  Section section = load->section;
  g_autoptr(GError) error = NULL;
  JsonNode *node;

  g_free (load);
  node = wz_api_client_get_json_finish (WZ_API_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (node != NULL && section != SEC_PATIENT && wz_bundle_resources (node, NULL) == NULL)
    {
      g_clear_pointer (&node, json_node_unref);
      g_set_error_literal (&error, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_NOT_WENZHEN,
                           _("The server’s answer was not a list of records. Check that the server is up to date."));
    }

  g_clear_pointer (&self->results[section], json_node_unref);
  self->results[section] = node;

  if (node == NULL)
    {
      GtkListBox *list = section_list (self, section);

      wz_test_report ("record-error section=%s error=%s", section_name (section),
                      wz_client_error_nick (error));
      if (section != SEC_PATIENT && section != SEC_ALLERGIES)
        clear_list (list);
      else if (section == SEC_PATIENT)
        clear_list (list);
      error_row (list, section_error_title (section), error);
      if (section == SEC_ENCOUNTERS)
        set_encounter (self, NULL);
      self->done[section] = TRUE;
      if (--self->pending == 0)
        report_loaded (self);
      return;
    }

  section_done (self, section);
}

static void
start_section (WzRecordView *self,
               Section       section,
               const char   *prefix,
               const char   *suffix)
{
  g_autofree char *reference = g_strconcat ("Patient/", self->patient_id, NULL);
  g_autofree char *escaped = g_uri_escape_string (reference, NULL, FALSE);
  g_autofree char *path = NULL;
  SectionLoad *load = g_new0 (SectionLoad, 1);

  path = g_strconcat (prefix, section == SEC_PATIENT ? self->patient_id : escaped, suffix, NULL);
  load->self = g_object_ref (self);
  load->section = section;
  self->pending++;
  wz_api_client_get_json_async (self->client, path, self->cancellable, on_section_loaded, load);
}

static void
load_record (WzRecordView *self)
{
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  for (int s = 0; s < N_SECTIONS; s++)
    {
      g_clear_pointer (&self->results[s], json_node_unref);
      self->done[s] = FALSE;
    }
  self->pending = 0;
  g_clear_pointer (&self->allergies, g_strfreev);
  wz_allergy_badge_set_allergies (self->allergy_badge, NULL);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ALLERGIES]);

  if (self->patient_id == NULL || self->client == NULL
      || wz_api_client_get_session (self->client) == NULL)
    {
      set_encounter (self, NULL);
      gtk_stack_set_visible_child_name (self->stack, "empty");
      return;
    }

  self->cancellable = g_cancellable_new ();
  gtk_stack_set_visible_child_name (self->stack, "record");
  gtk_widget_set_visible (self->triage_group, FALSE);
  gtk_widget_set_visible (self->chart_card, FALSE);
  gtk_adjustment_set_value (gtk_scrolled_window_get_vadjustment (self->record_scroller), 0);

  clear_list (self->demographics_list);
  clear_list (self->conditions_list);
  clear_list (self->medications_list);
  clear_list (self->vitals_list);
  clear_list (self->encounters_list);
  clear_list (self->documents_list);
  loading_row (self->demographics_list);
  loading_row (self->conditions_list);
  loading_row (self->medications_list);
  loading_row (self->vitals_list);
  loading_row (self->encounters_list);
  loading_row (self->documents_list);
  gtk_label_set_text (self->visit_title, _("Loading…"));
  gtk_label_set_text (self->visit_subtitle, "");

  start_section (self, SEC_PATIENT, "/fhir/Patient/", "");
  start_section (self, SEC_ALLERGIES, "/fhir/AllergyIntolerance?patient=", "&_count=100");
  start_section (self, SEC_CONDITIONS, "/fhir/Condition?patient=", "&_count=200");
  start_section (self, SEC_MEDICATIONS, "/fhir/MedicationStatement?patient=", "&_count=100");
  start_section (self, SEC_OBSERVATIONS, "/fhir/Observation?patient=", "&_sort=-date&_count=200");
  start_section (self, SEC_ENCOUNTERS, "/fhir/Encounter?patient=", "&_sort=-date&_count=50");
  start_section (self, SEC_DOCUMENTS, "/fhir/DocumentReference?patient=", "&_sort=-date&_count=100");
}

/* ---------------------------------------------------------------------------------------- */
/* Messages */

static const char *
conflict_message (void)
{
  return _("Someone else changed this visit (for example another doctor took the patient). The latest version is shown.");
}

static void
toast (WzRecordView *self,
       const char   *text)
{
  AdwToast *t = adw_toast_new (text);

  adw_toast_set_timeout (t, 5);
  adw_toast_overlay_add_toast (self->toast_overlay, t);
  wz_test_report ("record-toast %s", text);
}

static void
show_banner (WzRecordView *self,
             const char   *text)
{
  gtk_label_set_text (self->conflict_label, text);
  gtk_revealer_set_reveal_child (self->conflict_revealer, TRUE);
}

static void
show_conflict (WzRecordView *self)
{
  show_banner (self, conflict_message ());
  wz_test_report_when_settled (GTK_WIDGET (self), is_settled, "conflict-shown encounter=%s message=%s",
                               self->encounter != NULL ? wz_json_string (self->encounter, "id") : "none",
                               conflict_message ());
  load_record (self);
}

static void
on_note_conflict (WzRecordView *self,
                  const char   *message)
{
  show_banner (self, message);
}

static void
handle_action_error (WzRecordView *self,
                     GError       *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  wz_test_report ("action-error error=%s message=%s", wz_client_error_nick (error), error->message);
  if (g_error_matches (error, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_CONFLICT))
    show_conflict (self);
  else
    {
      show_banner (self, error->message);
      toast (self, error->message);
    }
}

static void
set_busy (WzRecordView *self,
          gboolean      busy)
{
  self->busy = busy;
  update_actions (self);
}

/* ---------------------------------------------------------------------------------------- */
/* Actions */

static const char *
practitioner (WzRecordView *self)
{
  WzSession *session = wz_api_client_get_session (self->client);

  return session != NULL ? wz_session_get_practitioner (session) : NULL;
}

static void
after_change (WzRecordView *self,
              JsonObject   *encounter,
              const char   *message)
{
  set_encounter (self, encounter);
  gtk_revealer_set_reveal_child (self->conflict_revealer, FALSE);
  toast (self, message);
  wz_test_report ("encounter-status=%s id=%s version=%s", wz_json_string (encounter, "status"),
                  wz_json_string (encounter, "id"), wz_resource_version (encounter));
}

/* Ends an encounter change: the changed encounter, or NULL when it failed (already shown). */
static JsonObject *
finish_change (WzRecordView *self,
               GObject      *object,
               GAsyncResult *result)
{
  g_autoptr(GError) error = NULL;
  JsonObject *encounter = wz_encounter_actions_finish (WZ_ENCOUNTER_ACTIONS (object), result, &error);

  set_busy (self, FALSE);
  if (encounter == NULL)
    handle_action_error (self, error);
  return encounter;
}

static void
on_started (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(WzRecordView) self = user_data;
  g_autoptr(JsonObject) encounter = finish_change (self, object, result);

  if (encounter == NULL)
    return;

  after_change (self, encounter, _("Consultation started"));
  adw_flap_set_reveal_flap (self->flap, TRUE);
  wz_visit_note_editor_focus (self->note_editor);
}

static void
action_start (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  WzRecordView *self = WZ_RECORD_VIEW (widget);

  if (self->busy || !wz_encounter_can (self->encounter, WZ_ENCOUNTER_START))
    return;

  set_busy (self, TRUE);
  wz_encounter_actions_change_async (self->actions, self->encounter, WZ_ENCOUNTER_START,
                                     practitioner (self), 0, NULL, NULL, self->action_cancellable,
                                     on_started, g_object_ref (self));
}

static void
on_called_next (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(WzRecordView) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) encounter = wz_encounter_actions_finish (WZ_ENCOUNTER_ACTIONS (object), result,
                                                                 &error);
  const char *patient;
  g_autofree char *patient_id = NULL;

  set_busy (self, FALSE);
  if (encounter == NULL)
    {
      if (g_error_matches (error, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_NOT_FOUND))
        {
          toast (self, error->message);
          return;
        }
      handle_action_error (self, error);
      return;
    }

  patient = wz_json_reference (encounter, "subject");
  patient_id = g_strdup (patient != NULL && g_str_has_prefix (patient, "Patient/")
                         ? patient + strlen ("Patient/") : patient);
  wz_test_report ("call-next patient=%s encounter=%s", patient_id, wz_json_string (encounter, "id"));
  toast (self, _("Patient called in; the consultation has started"));
  gtk_revealer_set_reveal_child (self->conflict_revealer, FALSE);

  /* The queue selects the patient; the record follows (or shows it itself if the queue does not
   * list them). */
  g_signal_emit (self, signals[OPEN_PATIENT], 0, patient_id, wz_json_string (encounter, "id"));
  wz_record_view_show (self, patient_id, wz_json_string (encounter, "id"));
  adw_flap_set_reveal_flap (self->flap, TRUE);
  wz_visit_note_editor_focus (self->note_editor);
}

static void
action_call_next (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  WzRecordView *self = WZ_RECORD_VIEW (widget);

  if (self->busy || practitioner (self) == NULL)
    return;

  set_busy (self, TRUE);
  wz_encounter_actions_call_next_async (self->actions, practitioner (self), self->action_cancellable,
                                        on_called_next, g_object_ref (self));
}

static void
on_note_final (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(WzRecordView) self = user_data;
  g_autoptr(GError) error = NULL;

  set_busy (self, FALSE);
  if (!wz_visit_note_editor_mark_final_finish (WZ_VISIT_NOTE_EDITOR (object), result, &error))
    {
      handle_action_error (self, error);
      return;
    }

  load_record (self);
}

static void
on_finished (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(WzRecordView) self = user_data;
  g_autoptr(JsonObject) encounter = finish_change (self, object, result);

  if (encounter == NULL)
    return;

  after_change (self, encounter, _("Visit finished"));
  set_busy (self, TRUE);
  wz_visit_note_editor_mark_final_async (self->note_editor, self->action_cancellable, on_note_final,
                                         g_object_ref (self));
}

static void
on_prepared_finish (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(WzRecordView) self = user_data;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) conditions = wz_visit_note_editor_prepare_finish_finish (WZ_VISIT_NOTE_EDITOR (object),
                                                                         result, &error);
  g_autofree char *chief = NULL;

  if (conditions == NULL)
    {
      set_busy (self, FALSE);
      handle_action_error (self, error);
      return;
    }

  if (self->encounter == NULL)
    {
      set_busy (self, FALSE);
      return;
    }

  chief = wz_visit_note_editor_dup_chief_complaint (self->note_editor);
  wz_encounter_actions_change_async (self->actions, self->encounter, WZ_ENCOUNTER_FINISH,
                                     practitioner (self), 0, *chief != '\0' ? chief : NULL,
                                     (const char * const *) conditions, self->action_cancellable,
                                     on_finished, g_object_ref (self));
}

static void
action_finish (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  WzRecordView *self = WZ_RECORD_VIEW (widget);

  if (self->busy || !wz_encounter_can (self->encounter, WZ_ENCOUNTER_FINISH))
    return;

  /* A visit closes with a diagnosis and a note; say what is missing where it is missing. */
  if (wz_visit_note_editor_get_n_diagnoses (self->note_editor) == 0)
    {
      adw_flap_set_reveal_flap (self->flap, TRUE);
      toast (self, _("Add at least one diagnosis to the visit note before finishing the visit."));
      return;
    }

  set_busy (self, TRUE);
  wz_visit_note_editor_prepare_finish_async (self->note_editor, self->action_cancellable,
                                             on_prepared_finish, g_object_ref (self));
}

static void
on_no_show_done (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(WzRecordView) self = user_data;
  g_autoptr(JsonObject) encounter = finish_change (self, object, result);

  if (encounter == NULL)
    return;

  after_change (self, encounter, _("Marked as a no-show"));
}

static void
on_no_show_response (AdwMessageDialog *dialog,
                     const char       *response,
                     WzRecordView     *self)
{
  if (g_strcmp0 (response, "no-show") != 0 || self->encounter == NULL)
    return;

  set_busy (self, TRUE);
  wz_encounter_actions_change_async (self->actions, self->encounter, WZ_ENCOUNTER_NO_SHOW,
                                     practitioner (self), 0, NULL, NULL, self->action_cancellable,
                                     on_no_show_done, g_object_ref (self));
}

static char *
patient_name (WzRecordView *self)
{
  char *name = NULL;

  if (self->results[SEC_PATIENT] != NULL && JSON_NODE_HOLDS_OBJECT (self->results[SEC_PATIENT]))
    name = wz_patient_name_from_resource (json_node_get_object (self->results[SEC_PATIENT]));

  return name != NULL ? name : g_strdup (_("The patient"));
}

static void
action_no_show (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  WzRecordView *self = WZ_RECORD_VIEW (widget);
  g_autofree char *name = NULL;
  g_autofree char *body = NULL;
  GtkWidget *dialog;

  if (self->busy || !wz_encounter_can (self->encounter, WZ_ENCOUNTER_NO_SHOW))
    return;

  name = patient_name (self);
  /* Translators: %s is the patient's name */
  body = g_strdup_printf (_("%s did not come to the visit. The visit is closed as a no-show and the appointment is marked as missed. This cannot be undone here."),
                          name);
  dialog = adw_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (widget)),
                                   _("Mark as No-Show?"), body);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "no-show", _("_Mark as No-Show"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "no-show",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_no_show_response), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
  wz_test_report ("dialog=no-show");
}

static void
on_urgency_changed (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(WzRecordView) self = user_data;
  g_autoptr(JsonObject) encounter = finish_change (self, object, result);

  if (encounter == NULL)
    return;

  after_change (self, encounter, _("Urgency changed; the reason is recorded with the visit"));
  load_triage (self);
}

static void
on_reason_changed (GtkEditable      *reason,
                   AdwMessageDialog *dialog)
{
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (reason)));

  adw_message_dialog_set_response_enabled (dialog, "change", *text != '\0');
}

static void
on_urgency_response (AdwMessageDialog *dialog,
                     const char       *response,
                     WzRecordView     *self)
{
  GtkDropDown *levels = g_object_get_data (G_OBJECT (dialog), "levels");
  GtkEditable *reason = g_object_get_data (G_OBJECT (dialog), "reason");
  g_autofree char *text = NULL;

  if (g_strcmp0 (response, "change") != 0 || self->encounter == NULL)
    return;

  text = g_strstrip (g_strdup (gtk_editable_get_text (reason)));
  set_busy (self, TRUE);
  wz_encounter_actions_change_async (self->actions, self->encounter, WZ_ENCOUNTER_URGENCY,
                                     practitioner (self), gtk_drop_down_get_selected (levels) + 1,
                                     text, NULL, self->action_cancellable, on_urgency_changed,
                                     g_object_ref (self));
}

static void
action_change_urgency (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  WzRecordView *self = WZ_RECORD_VIEW (widget);
  const char *labels[5];
  GtkWidget *dialog;
  GtkWidget *box;
  GtkWidget *levels;
  GtkWidget *reason;

  if (self->busy || !wz_encounter_can (self->encounter, WZ_ENCOUNTER_URGENCY))
    return;

  for (guint i = 0; i < 4; i++)
    labels[i] = wz_encounter_urgency_label (i + 1);
  labels[4] = NULL;

  dialog = adw_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (widget)), _("Change Urgency"),
                                   _("Your choice replaces the urgency from the pre-consultation rules. The reason is recorded with your name; the earlier urgency stays in the visit’s history."));
  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  levels = gtk_drop_down_new_from_strings (labels);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (levels), wz_encounter_urgency (self->encounter) - 1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (levels), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Urgency"), -1);
  reason = gtk_entry_new ();
  gtk_entry_set_placeholder_text (GTK_ENTRY (reason), _("Reason (required)"));
  gtk_entry_set_activates_default (GTK_ENTRY (reason), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (reason), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Reason for changing the urgency"), -1);
  gtk_box_append (GTK_BOX (box), levels);
  gtk_box_append (GTK_BOX (box), reason);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), box);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "change", _("C_hange Urgency"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "change",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (dialog), "change", FALSE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "change");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data (G_OBJECT (dialog), "levels", levels);
  g_object_set_data (G_OBJECT (dialog), "reason", reason);
  g_signal_connect (reason, "changed", G_CALLBACK (on_reason_changed), dialog);
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_urgency_response), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
  gtk_widget_grab_focus (reason);
  wz_test_report ("dialog=change-urgency");
}

static void
action_reload (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  load_record (WZ_RECORD_VIEW (widget));
}

static void
action_dismiss_banner (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  gtk_revealer_set_reveal_child (WZ_RECORD_VIEW (widget)->conflict_revealer, FALSE);
}

/* ---------------------------------------------------------------------------------------- */
/* Public */

void
wz_record_view_show (WzRecordView *self,
                     const char   *patient_id,
                     const char   *encounter_id)
{
  g_return_if_fail (WZ_IS_RECORD_VIEW (self));

  if (patient_id != NULL && g_str_has_prefix (patient_id, "Patient/"))
    patient_id += strlen ("Patient/");

  if (g_strcmp0 (patient_id, self->patient_id) == 0
      && (encounter_id == NULL || g_strcmp0 (encounter_id, self->encounter_id) == 0))
    return;

  g_free (self->patient_id);
  self->patient_id = g_strdup (patient_id);
  g_free (self->encounter_id);
  self->encounter_id = g_strdup (encounter_id);
  gtk_revealer_set_reveal_child (self->conflict_revealer, FALSE);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PATIENT_ID]);

  load_record (self);
}

const char *
wz_record_view_get_patient_id (WzRecordView *self)
{
  g_return_val_if_fail (WZ_IS_RECORD_VIEW (self), NULL);

  return self->patient_id;
}

const char *
wz_record_view_get_encounter_id (WzRecordView *self)
{
  g_return_val_if_fail (WZ_IS_RECORD_VIEW (self), NULL);

  return self->encounter != NULL ? wz_json_string (self->encounter, "id") : NULL;
}

const char * const *
wz_record_view_get_allergies (WzRecordView *self)
{
  g_return_val_if_fail (WZ_IS_RECORD_VIEW (self), NULL);

  return (const char * const *) self->allergies;
}

void
wz_record_view_set_client (WzRecordView *self,
                           WzApiClient  *client)
{
  g_return_if_fail (WZ_IS_RECORD_VIEW (self));

  if (!g_set_object (&self->client, client))
    return;

  g_clear_object (&self->actions);
  if (client != NULL)
    {
      self->actions = wz_encounter_actions_new (client);
      g_signal_connect_object (client, "notify::session", G_CALLBACK (update_actions), self,
                               G_CONNECT_SWAPPED);
    }
  wz_visit_note_editor_set_client (self->note_editor, client);
  update_actions (self);
}

GtkWidget *
wz_record_view_new (void)
{
  return g_object_new (WZ_TYPE_RECORD_VIEW, NULL);
}

/* ---------------------------------------------------------------------------------------- */
/* GObject */

static void
wz_record_view_dispose (GObject *object)
{
  WzRecordView *self = WZ_RECORD_VIEW (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_cancellable_cancel (self->action_cancellable);
  g_clear_object (&self->action_cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), WZ_TYPE_RECORD_VIEW);
  g_clear_object (&self->actions);
  g_clear_object (&self->client);
  for (int s = 0; s < N_SECTIONS; s++)
    g_clear_pointer (&self->results[s], json_node_unref);
  g_clear_pointer (&self->encounter, json_object_unref);

  G_OBJECT_CLASS (wz_record_view_parent_class)->dispose (object);
}

static void
wz_record_view_finalize (GObject *object)
{
  WzRecordView *self = WZ_RECORD_VIEW (object);

  g_free (self->patient_id);
  g_free (self->encounter_id);
  g_strfreev (self->allergies);

  G_OBJECT_CLASS (wz_record_view_parent_class)->finalize (object);
}

static void
wz_record_view_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  WzRecordView *self = WZ_RECORD_VIEW (object);

  switch (prop_id)
    {
    case PROP_PATIENT_ID:
      g_value_set_string (value, self->patient_id);
      break;
    case PROP_ENCOUNTER_ID:
      g_value_set_string (value, wz_record_view_get_encounter_id (self));
      break;
    case PROP_ALLERGIES:
      g_value_set_boxed (value, self->allergies);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
wz_record_view_class_init (WzRecordViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = wz_record_view_dispose;
  object_class->finalize = wz_record_view_finalize;
  object_class->get_property = wz_record_view_get_property;

  properties[PROP_PATIENT_ID] =
    g_param_spec_string ("patient-id", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ENCOUNTER_ID] =
    g_param_spec_string ("encounter-id", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /**
   * WzRecordView:allergies:
   *
   * The patient's known allergies once loaded, for the red strip wherever the patient appears.
   */
  properties[PROP_ALLERGIES] =
    g_param_spec_boxed ("allergies", NULL, NULL, G_TYPE_STRV,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * WzRecordView::open-patient:
   * @patient_id: the patient's id
   * @encounter_id: the visit now in consultation
   *
   * “Call next” took a patient into consultation; the queue should select them.
   */
  signals[OPEN_PATIENT] =
    g_signal_new ("open-patient", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);

  g_type_ensure (WZ_TYPE_ALLERGY_BADGE);
  g_type_ensure (WZ_TYPE_VITALS_CHART);
  g_type_ensure (WZ_TYPE_VISIT_NOTE_EDITOR);

  gtk_widget_class_install_action (widget_class, "record.call-next", NULL, action_call_next);
  gtk_widget_class_install_action (widget_class, "record.start", NULL, action_start);
  gtk_widget_class_install_action (widget_class, "record.finish", NULL, action_finish);
  gtk_widget_class_install_action (widget_class, "record.no-show", NULL, action_no_show);
  gtk_widget_class_install_action (widget_class, "record.change-urgency", NULL, action_change_urgency);
  gtk_widget_class_install_action (widget_class, "record.reload", NULL, action_reload);
  gtk_widget_class_install_action (widget_class, "record.dismiss-banner", NULL, action_dismiss_banner);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/wenzhen/Wenzhen/wz-record-view.ui");
  gtk_widget_class_bind_template_child (widget_class, WzRecordView, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, WzRecordView, action_bar);
  gtk_widget_class_bind_template_child (widget_class, WzRecordView, visit_title);
  gtk_widget_class_bind_template_child (widget_class, WzRecordView, visit_subtitle);
  gtk_widget_class_bind_template_child (widget_class, WzRecordView, call_next_button);
  gtk_widget_class_bind_template_child (widget_class, WzRecordView, start_button);
  gtk_widget_class_bind_template_child (widget_class, WzRecordView, finish_button);
  gtk_widget_class_bind_template_child (widget_class, WzRecordView, more_button);
  gtk_widget_class_bind_template_child (widget_class, WzRecordView, note_toggle);
  gtk_widget_class_bind_template_child (widget_class, WzRecordView, conflict_revealer);
  gtk_widget_class_bind_template_child (widget_class, WzRecordView, conflict_label);
  gtk_widget_class_bind_template_child (widget_class, WzRecordView, stack);
  gtk_widget_class_bind_template_child (widget_class, WzRecordView, flap);
  gtk_widget_class_bind_template_child (widget_class, WzRecordView, record_scroller);
  gtk_widget_class_bind_template_child (widget_class, WzRecordView, allergy_badge);
  gtk_widget_class_bind_template_child (widget_class, WzRecordView, triage_group);
  gtk_widget_class_bind_template_child (widget_class, WzRecordView, red_flag_label);
  gtk_widget_class_bind_template_child (widget_class, WzRecordView, triage_list);
  gtk_widget_class_bind_template_child (widget_class, WzRecordView, demographics_list);
  gtk_widget_class_bind_template_child (widget_class, WzRecordView, conditions_list);
  gtk_widget_class_bind_template_child (widget_class, WzRecordView, medications_list);
  gtk_widget_class_bind_template_child (widget_class, WzRecordView, vitals_list);
  gtk_widget_class_bind_template_child (widget_class, WzRecordView, encounters_list);
  gtk_widget_class_bind_template_child (widget_class, WzRecordView, documents_list);
  gtk_widget_class_bind_template_child (widget_class, WzRecordView, chart_card);
  gtk_widget_class_bind_template_child (widget_class, WzRecordView, chart_bp);
  gtk_widget_class_bind_template_child (widget_class, WzRecordView, chart_hr);
  gtk_widget_class_bind_template_child (widget_class, WzRecordView, chart_temp);
  gtk_widget_class_bind_template_child (widget_class, WzRecordView, chart_weight);
  gtk_widget_class_bind_template_child (widget_class, WzRecordView, chart_glucose);
  gtk_widget_class_bind_template_child (widget_class, WzRecordView, chart);
  gtk_widget_class_bind_template_child (widget_class, WzRecordView, chart_legend);
  gtk_widget_class_bind_template_child (widget_class, WzRecordView, note_editor);
  gtk_widget_class_bind_template_callback (widget_class, on_chart_kind_toggled);
  gtk_widget_class_bind_template_callback (widget_class, on_note_conflict);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "recordview");
}

static void
wz_record_view_init (WzRecordView *self)
{
  static const struct
  {
    guint       key;
    const char *action;
  } shortcuts[] = {
    { GDK_KEY_n, "record.call-next" },
    { GDK_KEY_s, "record.start" },
    { GDK_KEY_f, "record.finish" },
  };
  GtkEventController *controller;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->action_cancellable = g_cancellable_new ();

  /* The visit shortcuts work anywhere in the window while the record is shown, not only when
   * the focus is inside it: the doctor calls the next patient from the queue as well. */
  controller = gtk_shortcut_controller_new ();
  gtk_shortcut_controller_set_scope (GTK_SHORTCUT_CONTROLLER (controller), GTK_SHORTCUT_SCOPE_MANAGED);
  for (guint i = 0; i < G_N_ELEMENTS (shortcuts); i++)
    gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (controller),
                                          gtk_shortcut_new (gtk_keyval_trigger_new (shortcuts[i].key,
                                                                                    GDK_CONTROL_MASK | GDK_SHIFT_MASK),
                                                            gtk_named_action_new (shortcuts[i].action)));
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  set_encounter (self, NULL);
  gtk_stack_set_visible_child_name (self->stack, "empty");
}
