/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-rx-line-row"

#include "config.h"

#include "wz-rx-line-row.h"

#include <math.h>
#include <glib/gi18n.h>

#include "wz-formulary.h"
#include "wz-rx-checks.h"
#include "wz-rx-labels.h"

#define FREQUENCY_SYSTEM "https://wenzhen.github.io/fhir/CodeSystem/rx-frequency"
#define UCUM "http://unitsofmeasure.org"

struct _WzRxLineRow
{
  GtkListBoxRow  parent_instance;

  JsonObject    *drug;
  JsonObject    *saved;          /* the server's copy, or NULL before the first save */
  char          *title;
  gboolean       dirty;
  gboolean       loading;

  GtkLabel      *title_label;
  GtkLabel      *subtitle_label;
  GtkSpinButton *dose_spin;
  GtkLabel      *unit_label;
  GtkDropDown   *route_drop;
  GtkStringList *route_labels;   /* what route_drop shows */
  GPtrArray     *route_codes;    /* the code behind each of them */
  GtkDropDown   *frequency_drop;
  GtkSpinButton *days_spin;
  GtkLabel      *quantity_label;
  GtkEntry      *instructions_entry;
  GtkButton     *remove_button;
  GtkBox        *findings_box;
};

G_DEFINE_FINAL_TYPE (WzRxLineRow, wz_rx_line_row, GTK_TYPE_LIST_BOX_ROW)

enum { SIGNAL_CHANGED, SIGNAL_REMOVE, N_SIGNALS };
static guint signals[N_SIGNALS];

gboolean
wz_rx_prefers_chinese (void)
{
  const char * const *names = g_get_language_names ();

  for (guint i = 0; names[i] != NULL; i++)
    {
      if (g_str_has_prefix (names[i], "zh"))
        return TRUE;
      if (g_str_has_prefix (names[i], "en"))
        return FALSE;
    }
  return FALSE;
}

const char *
wz_rx_gender_label (const char *gender)
{
  if (g_strcmp0 (gender, "male") == 0)
    return _("male");
  if (g_strcmp0 (gender, "female") == 0)
    return _("female");
  if (g_strcmp0 (gender, "other") == 0)
    return _("other gender");
  return _("gender unknown");
}

const char *
wz_rx_frequency_text (const char *code)
{
  const WzRxFrequency *frequency = code ? wz_rx_frequency_lookup (code) : NULL;

  if (frequency == NULL)
    return code ? code : "";
  return wz_rx_prefers_chinese () ? frequency->text_zh : frequency->text_en;
}

static const char *
string_of (JsonObject *object,
           const char *name)
{
  JsonNode *node = object ? json_object_get_member (object, name) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static double
number_of (JsonObject *object,
           const char *name)
{
  JsonNode *node = object ? json_object_get_member (object, name) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return NAN;
  if (json_node_get_value_type (node) == G_TYPE_INT64)
    return json_node_get_int (node);
  if (json_node_get_value_type (node) == G_TYPE_DOUBLE)
    return json_node_get_double (node);
  return NAN;
}

static JsonObject *
object_of (JsonObject *object,
           const char *name)
{
  JsonNode *node = object ? json_object_get_member (object, name) : NULL;

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static JsonObject *
first_of (JsonObject *object,
          const char *name)
{
  JsonNode *node = object ? json_object_get_member (object, name) : NULL;
  JsonArray *array;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return NULL;
  array = json_node_get_array (node);
  if (json_array_get_length (array) == 0)
    return NULL;
  node = json_array_get_element (array, 0);
  return JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

/* The formulary row as the checks' struct, for the quantity. */
static double
compute_quantity (WzRxLineRow *self,
                  const char  *frequency)
{
  WzDrug drug = { 0 };
  WzRxLine line = { 0 };

  if (self->drug == NULL)
    return NAN;
  drug.strength = number_of (self->drug, "strength");
  drug.strength_unit = (char *) string_of (self->drug, "strength_unit");
  drug.dose_unit = (char *) string_of (self->drug, "dose_unit");
  drug.form = (char *) string_of (self->drug, "form");
  line.dose = gtk_spin_button_get_value (self->dose_spin);
  line.dose_unit = (char *) string_of (self->drug, "dose_unit");
  line.frequency = (char *) frequency;
  line.max_doses_per_day = NAN;
  line.duration_days = gtk_spin_button_get_value (self->days_spin);
  return wz_rx_quantity (&drug, &line, 0);
}

static const char *
selected_frequency (WzRxLineRow *self)
{
  guint position = gtk_drop_down_get_selected (self->frequency_drop);
  const WzRxFrequency *table = wz_rx_frequencies ();

  for (guint i = 0; table[i].code != NULL; i++)
    if (i == position)
      return table[i].code;
  return NULL;
}

/* The route code chosen, "" when none. */
static const char *
selected_route (WzRxLineRow *self)
{
  guint position = gtk_drop_down_get_selected (self->route_drop);

  return position < self->route_codes->len ? g_ptr_array_index (self->route_codes, position) : "";
}

/* Chooses CODE, adding it as it is when the list does not have it (a hospital's own formulary
 * may name others). */
static void
select_route (WzRxLineRow *self,
              const char  *code)
{
  guint i;

  if (code == NULL)
    code = "";
  for (i = 0; i < self->route_codes->len; i++)
    if (g_ascii_strcasecmp (g_ptr_array_index (self->route_codes, i), code) == 0)
      break;
  if (i == self->route_codes->len)
    {
      g_ptr_array_add (self->route_codes, g_strdup (code));
      gtk_string_list_append (self->route_labels, wz_rx_route_label (code));
    }
  gtk_drop_down_set_selected (self->route_drop, i);
}

static void
select_frequency (WzRxLineRow *self,
                  const char  *code)
{
  const WzRxFrequency *table = wz_rx_frequencies ();
  const WzRxFrequency *wanted = code ? wz_rx_frequency_lookup (code) : NULL;

  for (guint i = 0; wanted != NULL && table[i].code != NULL; i++)
    if (&table[i] == wanted)
      gtk_drop_down_set_selected (self->frequency_drop, i);
}

/* What a pharmacy hands out: "21 capsules" with the form's unit. */
static const char *
dispense_unit (WzRxLineRow *self)
{
  const char *form = string_of (self->drug, "form");

  if (form == NULL)
    return "";
  if (g_str_has_prefix (form, "tablet"))
    return _("tablets");
  if (g_str_has_prefix (form, "capsule"))
    return _("capsules");
  if (g_str_has_prefix (form, "granules") || g_str_has_prefix (form, "powder"))
    return _("sachets");
  if (string_of (self->drug, "strength_unit") != NULL &&
      g_str_has_suffix (string_of (self->drug, "strength_unit"), "/mL"))
    return "mL";
  return _("units");
}

static void
update_quantity (WzRxLineRow *self)
{
  double quantity = compute_quantity (self, selected_frequency (self));
  g_autofree char *text = NULL;

  if (isnan (quantity))
    text = g_strdup (_("Quantity: —"));
  else
    /* Translators: the amount to dispense, e.g. “Quantity: 21 capsules” */
    text = g_strdup_printf (_("Quantity: %g %s"), quantity, dispense_unit (self));
  gtk_label_set_text (self->quantity_label, text);
}

static void
on_changed (WzRxLineRow *self)
{
  update_quantity (self);
  if (self->loading)
    return;
  self->dirty = TRUE;
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

static void
on_remove_clicked (WzRxLineRow *self)
{
  g_signal_emit (self, signals[SIGNAL_REMOVE], 0);
}

static GtkWidget *
field (const char *label_text,
       GtkWidget  *child,
       GtkWidget  *suffix)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *label = gtk_label_new_with_mnemonic (label_text);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "caption-heading");
  gtk_widget_add_css_class (label, "dim-label");
  gtk_label_set_mnemonic_widget (GTK_LABEL (label), child);
  gtk_box_append (GTK_BOX (box), label);
  gtk_box_append (GTK_BOX (row), child);
  if (suffix != NULL)
    gtk_box_append (GTK_BOX (row), suffix);
  gtk_box_append (GTK_BOX (box), row);
  return box;
}

static void
wz_rx_line_row_dispose (GObject *object)
{
  WzRxLineRow *self = WZ_RX_LINE_ROW (object);

  g_clear_pointer (&self->drug, json_object_unref);
  g_clear_pointer (&self->saved, json_object_unref);
  g_clear_pointer (&self->title, g_free);
  g_clear_object (&self->route_labels);
  g_clear_pointer (&self->route_codes, g_ptr_array_unref);

  G_OBJECT_CLASS (wz_rx_line_row_parent_class)->dispose (object);
}

static void
wz_rx_line_row_class_init (WzRxLineRowClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = wz_rx_line_row_dispose;

  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_REMOVE] = g_signal_new ("remove", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                         0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
wz_rx_line_row_init (WzRxLineRow *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 10);
  GtkWidget *header = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *titles = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *fields = gtk_flow_box_new ();
  g_autoptr(GtkStringList) frequencies = gtk_string_list_new (NULL);
  const WzRxFrequency *table = wz_rx_frequencies ();

  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (self), FALSE);
  gtk_widget_set_margin_top (box, 12);
  gtk_widget_set_margin_bottom (box, 12);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);

  self->title_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (self->title_label, 0);
  gtk_label_set_wrap (self->title_label, TRUE);
  gtk_widget_add_css_class (GTK_WIDGET (self->title_label), "heading");
  self->subtitle_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (self->subtitle_label, 0);
  gtk_label_set_wrap (self->subtitle_label, TRUE);
  gtk_widget_add_css_class (GTK_WIDGET (self->subtitle_label), "dim-label");
  gtk_widget_add_css_class (GTK_WIDGET (self->subtitle_label), "caption");
  gtk_box_append (GTK_BOX (titles), GTK_WIDGET (self->title_label));
  gtk_box_append (GTK_BOX (titles), GTK_WIDGET (self->subtitle_label));
  gtk_widget_set_hexpand (titles, TRUE);
  gtk_box_append (GTK_BOX (header), titles);

  self->remove_button = GTK_BUTTON (gtk_button_new_from_icon_name ("user-trash-symbolic"));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->remove_button), _("Remove Line"));
  gtk_widget_set_valign (GTK_WIDGET (self->remove_button), GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (GTK_WIDGET (self->remove_button), "flat");
  g_signal_connect_swapped (self->remove_button, "clicked", G_CALLBACK (on_remove_clicked), self);
  gtk_box_append (GTK_BOX (header), GTK_WIDGET (self->remove_button));
  gtk_box_append (GTK_BOX (box), header);

  self->dose_spin = GTK_SPIN_BUTTON (gtk_spin_button_new_with_range (0, 100000, 1));
  gtk_spin_button_set_digits (self->dose_spin, 2);
  gtk_spin_button_set_numeric (self->dose_spin, TRUE);
  gtk_editable_set_width_chars (GTK_EDITABLE (self->dose_spin), 6);
  self->unit_label = GTK_LABEL (gtk_label_new (NULL));
  /* Routes in words ("by mouth"); the code is what is stored. The first choice is none. */
  self->route_codes = g_ptr_array_new_with_free_func (g_free);
  self->route_labels = gtk_string_list_new (NULL);
  g_ptr_array_add (self->route_codes, g_strdup (""));
  gtk_string_list_append (self->route_labels, "—");
  for (const char *const *code = wz_rx_route_codes (); *code != NULL; code++)
    {
      g_ptr_array_add (self->route_codes, g_strdup (*code));
      gtk_string_list_append (self->route_labels, wz_rx_route_label (*code));
    }
  self->route_drop = GTK_DROP_DOWN (gtk_drop_down_new (G_LIST_MODEL (g_object_ref (self->route_labels)),
                                                       NULL));
  for (guint i = 0; table[i].code != NULL; i++)
    {
      g_autofree char *text = g_strdup_printf ("%s · %s", table[i].code,
                                               wz_rx_prefers_chinese () ? table[i].text_zh
                                                                        : table[i].text_en);
      gtk_string_list_append (frequencies, text);
    }
  self->frequency_drop = GTK_DROP_DOWN (gtk_drop_down_new (G_LIST_MODEL (g_object_ref (frequencies)),
                                                           NULL));
  self->days_spin = GTK_SPIN_BUTTON (gtk_spin_button_new_with_range (0, 365, 1));
  gtk_editable_set_width_chars (GTK_EDITABLE (self->days_spin), 3);
  self->quantity_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_widget_set_valign (GTK_WIDGET (self->quantity_label), GTK_ALIGN_END);
  gtk_widget_set_halign (GTK_WIDGET (self->quantity_label), GTK_ALIGN_START);
  gtk_widget_set_margin_bottom (GTK_WIDGET (self->quantity_label), 8);
  gtk_widget_add_css_class (GTK_WIDGET (self->quantity_label), "numeric");

  gtk_flow_box_set_selection_mode (GTK_FLOW_BOX (fields), GTK_SELECTION_NONE);
  gtk_flow_box_set_column_spacing (GTK_FLOW_BOX (fields), 18);
  gtk_flow_box_set_row_spacing (GTK_FLOW_BOX (fields), 6);
  gtk_flow_box_set_max_children_per_line (GTK_FLOW_BOX (fields), 5);
  gtk_flow_box_set_homogeneous (GTK_FLOW_BOX (fields), FALSE);
  gtk_flow_box_append (GTK_FLOW_BOX (fields),
                       field (_("_Dose"), GTK_WIDGET (self->dose_spin),
                              GTK_WIDGET (self->unit_label)));
  gtk_flow_box_append (GTK_FLOW_BOX (fields), field (_("_Route"), GTK_WIDGET (self->route_drop), NULL));
  gtk_flow_box_append (GTK_FLOW_BOX (fields),
                       field (_("_Frequency"), GTK_WIDGET (self->frequency_drop), NULL));
  gtk_flow_box_append (GTK_FLOW_BOX (fields), field (_("D_ays"), GTK_WIDGET (self->days_spin), NULL));
  gtk_flow_box_append (GTK_FLOW_BOX (fields), GTK_WIDGET (self->quantity_label));
  for (GtkWidget *child = gtk_widget_get_first_child (fields); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    gtk_widget_set_focusable (child, FALSE);
  gtk_box_append (GTK_BOX (box), fields);

  self->instructions_entry = GTK_ENTRY (gtk_entry_new ());
  gtk_entry_set_placeholder_text (self->instructions_entry,
                                  _("Instructions for the patient, e.g. after meals"));
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->instructions_entry));

  self->findings_box = GTK_BOX (gtk_box_new (GTK_ORIENTATION_VERTICAL, 4));
  gtk_widget_set_visible (GTK_WIDGET (self->findings_box), FALSE);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->findings_box));

  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (self), box);

  g_signal_connect_swapped (self->dose_spin, "value-changed", G_CALLBACK (on_changed), self);
  g_signal_connect_swapped (self->days_spin, "value-changed", G_CALLBACK (on_changed), self);
  g_signal_connect_swapped (self->route_drop, "notify::selected", G_CALLBACK (on_changed), self);
  g_signal_connect_swapped (self->instructions_entry, "changed", G_CALLBACK (on_changed), self);
  g_signal_connect_swapped (self->frequency_drop, "notify::selected", G_CALLBACK (on_changed), self);
}

static void
set_drug (WzRxLineRow *self,
          JsonObject  *drug,
          const char  *fallback_title)
{
  const char *zh = string_of (drug, "generic_name_zh");
  const char *en = string_of (drug, "generic_name_en");
  g_autofree char *subtitle = NULL;

  g_clear_pointer (&self->drug, json_object_unref);
  self->drug = drug ? json_object_ref (drug) : NULL;
  g_free (self->title);
  if (drug != NULL)
    self->title = wz_rx_prefers_chinese () ? g_strdup_printf ("%s %s", zh, en)
                                           : g_strdup_printf ("%s %s", en, zh);
  else
    self->title = g_strdup (fallback_title ? fallback_title : _("Unknown product"));
  gtk_label_set_text (self->title_label, self->title);

  if (drug != NULL)
    /* Translators: product details under its name: strength, form, ATC code and product code */
    subtitle = g_strdup_printf (_("%g %s · %s · ATC %s · %s"), number_of (drug, "strength"),
                                string_of (drug, "strength_unit"),
                                wz_rx_form_label (string_of (drug, "form")),
                                string_of (drug, "atc_code"), string_of (drug, "code"));
  else
    subtitle = g_strdup (_("Not in the formulary"));
  gtk_label_set_text (self->subtitle_label, subtitle);
  gtk_label_set_text (self->unit_label, drug ? string_of (drug, "dose_unit") : "");
}

WzRxLineRow *
wz_rx_line_row_new (JsonObject *drug)
{
  WzRxLineRow *self = g_object_new (WZ_TYPE_RX_LINE_ROW, NULL);
  double strength = number_of (drug, "strength");
  double usual = number_of (drug, "adult_usual_daily_dose");
  const char *best = "qd";
  double best_gap = INFINITY;
  static const char *const candidates[] = { "qd", "bid", "tid", "qid" };

  self->loading = TRUE;
  set_drug (self, drug, NULL);
  select_route (self, string_of (drug, "route"));

  /* One unit per dose, as often as the usual daily dose needs: a starting point the doctor
   * adjusts, never more than the usual daily dose. */
  if (!isnan (strength) && strength > 0)
    {
      gtk_spin_button_set_increments (self->dose_spin, strength / 2, strength);
      gtk_spin_button_set_value (self->dose_spin, strength);
      for (guint i = 0; !isnan (usual) && i < G_N_ELEMENTS (candidates); i++)
        {
          double gap = fabs (usual - strength * wz_rx_frequency_lookup (candidates[i])->per_day);

          if (gap < best_gap)
            {
              best_gap = gap;
              best = candidates[i];
            }
        }
    }
  select_frequency (self, best);
  gtk_spin_button_set_value (self->days_spin, 7);
  self->loading = FALSE;
  self->dirty = TRUE;
  update_quantity (self);
  return self;
}

static void
load_request (WzRxLineRow *self,
              JsonObject  *request)
{
  JsonObject *dosage = first_of (request, "dosageInstruction");
  JsonObject *dose = object_of (first_of (dosage, "doseAndRate"), "doseQuantity");
  JsonObject *timing_code = object_of (object_of (dosage, "timing"), "code");
  JsonObject *route = first_of (object_of (dosage, "route"), "coding");
  JsonObject *supply = object_of (object_of (request, "dispenseRequest"), "expectedSupplyDuration");
  const char *frequency = string_of (first_of (timing_code, "coding"), "code");

  self->loading = TRUE;
  if (!isnan (number_of (dose, "value")))
    gtk_spin_button_set_value (self->dose_spin, number_of (dose, "value"));
  if (string_of (dose, "unit") != NULL)
    gtk_label_set_text (self->unit_label, string_of (dose, "unit"));
  select_route (self, string_of (route, "code") ?: string_of (object_of (dosage, "route"), "text"));
  select_frequency (self, frequency);
  if (!isnan (number_of (supply, "value")))
    gtk_spin_button_set_value (self->days_spin, number_of (supply, "value"));
  gtk_editable_set_text (GTK_EDITABLE (self->instructions_entry),
                         string_of (dosage, "patientInstruction") ?: "");
  self->loading = FALSE;
  update_quantity (self);
}

WzRxLineRow *
wz_rx_line_row_new_from_request (JsonObject *request,
                                 JsonObject *drug)
{
  WzRxLineRow *self = g_object_new (WZ_TYPE_RX_LINE_ROW, NULL);
  JsonObject *concept = object_of (request, "medicationCodeableConcept");

  set_drug (self, drug, string_of (concept, "text"));
  load_request (self, request);
  wz_rx_line_row_set_saved (self, request);
  return self;
}

JsonObject *
wz_rx_line_row_to_draft (WzRxLineRow *self)
{
  JsonObject *draft = json_object_new ();

  if (self->drug != NULL)
    json_object_set_object_member (draft, "drug", json_object_ref (self->drug));
  if (self->saved != NULL)
    json_object_set_object_member (draft, "saved", json_object_ref (self->saved));
  json_object_set_boolean_member (draft, "dirty", self->dirty);
  json_object_set_double_member (draft, "dose", gtk_spin_button_get_value (self->dose_spin));
  json_object_set_string_member (draft, "route", selected_route (self));
  json_object_set_string_member (draft, "frequency", selected_frequency (self));
  json_object_set_double_member (draft, "days", gtk_spin_button_get_value (self->days_spin));
  json_object_set_string_member (draft, "instructions",
                                 gtk_editable_get_text (GTK_EDITABLE (self->instructions_entry)));
  return draft;
}

WzRxLineRow *
wz_rx_line_row_new_from_draft (JsonObject *draft)
{
  WzRxLineRow *self;
  JsonObject *drug = object_of (draft, "drug");

  if (drug == NULL)
    return NULL;
  self = wz_rx_line_row_new (drug);
  self->loading = TRUE;
  if (object_of (draft, "saved") != NULL)
    self->saved = json_object_ref (object_of (draft, "saved"));
  gtk_spin_button_set_value (self->dose_spin, number_of (draft, "dose"));
  select_route (self, string_of (draft, "route"));
  select_frequency (self, string_of (draft, "frequency"));
  gtk_spin_button_set_value (self->days_spin, number_of (draft, "days"));
  gtk_editable_set_text (GTK_EDITABLE (self->instructions_entry),
                         string_of (draft, "instructions") ?: "");
  self->loading = FALSE;
  self->dirty = json_object_get_boolean_member_with_default (draft, "dirty", TRUE);
  update_quantity (self);
  return self;
}

static JsonObject *
reference (const char *target)
{
  JsonObject *object = json_object_new ();

  json_object_set_string_member (object, "reference", target);
  return object;
}

static JsonObject *
coding_concept (const char *system,
                const char *code,
                const char *display,
                const char *text)
{
  JsonObject *concept = json_object_new ();
  JsonArray *codings = json_array_new ();
  JsonObject *coding = json_object_new ();

  if (system != NULL)
    json_object_set_string_member (coding, "system", system);
  json_object_set_string_member (coding, "code", code);
  if (display != NULL)
    json_object_set_string_member (coding, "display", display);
  json_array_add_object_element (codings, coding);
  json_object_set_array_member (concept, "coding", codings);
  if (text != NULL)
    json_object_set_string_member (concept, "text", text);
  return concept;
}

static JsonObject *
quantity (double      value,
          const char *unit,
          const char *code)
{
  JsonObject *object = json_object_new ();

  json_object_set_double_member (object, "value", value);
  json_object_set_string_member (object, "unit", unit);
  if (code != NULL)
    {
      json_object_set_string_member (object, "system", UCUM);
      json_object_set_string_member (object, "code", code);
    }
  return object;
}

char *
wz_rx_line_row_get_summary (WzRxLineRow *self)
{
  const char *frequency = selected_frequency (self);
  double amount = compute_quantity (self, frequency);
  g_autofree char *dispense = isnan (amount) ? g_strdup ("")
                                             : g_strdup_printf (" · %g %s", amount,
                                                                dispense_unit (self));

  /* Translators: one prescription line: dose, unit, route, frequency code (its meaning), days,
   * then the quantity to dispense */
  return g_strdup_printf (_("%g %s · %s · %s (%s) · %g days%s"),
                          gtk_spin_button_get_value (self->dose_spin),
                          gtk_label_get_text (self->unit_label),
                          wz_rx_route_label (selected_route (self)),
                          frequency ? frequency : "", wz_rx_frequency_text (frequency),
                          gtk_spin_button_get_value (self->days_spin), dispense);
}

JsonObject *
wz_rx_line_row_to_request (WzRxLineRow *self,
                           const char  *patient_ref,
                           const char  *encounter_ref,
                           const char  *requester_ref,
                           const char  *reason_ref)
{
  JsonObject *request = json_object_new ();
  JsonObject *dosage = json_object_new ();
  JsonObject *timing = json_object_new ();
  JsonObject *dose_and_rate = json_object_new ();
  JsonArray *dosages = json_array_new ();
  JsonArray *rates = json_array_new ();
  JsonObject *dispense = json_object_new ();
  const char *frequency = selected_frequency (self);
  const char *unit = gtk_label_get_text (self->unit_label);
  const char *route = selected_route (self);
  const char *instructions = gtk_editable_get_text (GTK_EDITABLE (self->instructions_entry));
  double days = gtk_spin_button_get_value (self->days_spin);
  double amount = compute_quantity (self, frequency);
  g_autofree char *text = wz_rx_line_row_get_summary (self);

  json_object_set_string_member (request, "resourceType", "MedicationRequest");
  if (wz_rx_line_row_get_id (self) != NULL)
    json_object_set_string_member (request, "id", wz_rx_line_row_get_id (self));
  json_object_set_string_member (request, "status", "draft");
  json_object_set_string_member (request, "intent", "order");
  json_object_set_object_member (request, "medicationCodeableConcept",
                                 coding_concept (WZ_FORMULARY_SYSTEM,
                                                 wz_rx_line_row_get_drug_code (self),
                                                 string_of (self->drug, "generic_name_en"),
                                                 self->title));
  json_object_set_object_member (request, "subject", reference (patient_ref));
  json_object_set_object_member (request, "encounter", reference (encounter_ref));
  if (requester_ref != NULL)
    json_object_set_object_member (request, "requester", reference (requester_ref));
  if (reason_ref != NULL)
    {
      JsonArray *reasons = json_array_new ();

      json_array_add_object_element (reasons, reference (reason_ref));
      json_object_set_array_member (request, "reasonReference", reasons);
    }

  json_object_set_string_member (dosage, "text", text);
  if (instructions[0] != '\0')
    json_object_set_string_member (dosage, "patientInstruction", instructions);
  if (frequency != NULL)
    json_object_set_object_member (timing, "code",
                                   coding_concept (FREQUENCY_SYSTEM, frequency,
                                                   wz_rx_frequency_lookup (frequency)->text_en,
                                                   NULL));
  json_object_set_object_member (dosage, "timing", timing);
  if (route[0] != '\0')
    json_object_set_object_member (dosage, "route", coding_concept (NULL, route, NULL,
                                                                   wz_rx_route_label (route)));
  json_object_set_object_member (dose_and_rate, "doseQuantity",
                                 quantity (gtk_spin_button_get_value (self->dose_spin), unit, NULL));
  json_array_add_object_element (rates, dose_and_rate);
  json_object_set_array_member (dosage, "doseAndRate", rates);
  json_array_add_object_element (dosages, dosage);
  json_object_set_array_member (request, "dosageInstruction", dosages);

  if (days > 0)
    json_object_set_object_member (dispense, "expectedSupplyDuration", quantity (days, "d", "d"));
  if (!isnan (amount))
    json_object_set_object_member (dispense, "quantity", quantity (amount, dispense_unit (self), NULL));
  json_object_set_object_member (request, "dispenseRequest", dispense);
  return request;
}

const char *
wz_rx_line_row_get_id (WzRxLineRow *self)
{
  return string_of (self->saved, "id");
}

const char *
wz_rx_line_row_get_version (WzRxLineRow *self)
{
  return string_of (object_of (self->saved, "meta"), "versionId");
}

const char *
wz_rx_line_row_get_drug_code (WzRxLineRow *self)
{
  if (self->drug != NULL)
    return string_of (self->drug, "code");
  return string_of (first_of (object_of (self->saved, "medicationCodeableConcept"), "coding"),
                    "code");
}

const char *
wz_rx_line_row_get_title (WzRxLineRow *self)
{
  return self->title;
}

void
wz_rx_line_row_set_saved (WzRxLineRow *self,
                          JsonObject  *stored)
{
  if (stored != NULL)
    json_object_ref (stored);
  g_clear_pointer (&self->saved, json_object_unref);
  self->saved = stored;
  self->dirty = FALSE;
}

JsonObject *
wz_rx_line_row_get_saved (WzRxLineRow *self)
{
  return self->saved;
}

gboolean
wz_rx_line_row_get_dirty (WzRxLineRow *self)
{
  return self->dirty;
}

void
wz_rx_line_row_set_dirty (WzRxLineRow *self,
                          gboolean     dirty)
{
  self->dirty = dirty;
}

void
wz_rx_line_row_set_editable (WzRxLineRow *self,
                             gboolean     editable)
{
  gtk_widget_set_sensitive (GTK_WIDGET (self->dose_spin), editable);
  gtk_widget_set_sensitive (GTK_WIDGET (self->route_drop), editable);
  gtk_widget_set_sensitive (GTK_WIDGET (self->frequency_drop), editable);
  gtk_widget_set_sensitive (GTK_WIDGET (self->days_spin), editable);
  gtk_widget_set_sensitive (GTK_WIDGET (self->instructions_entry), editable);
  /* A signed line shows instructions only when there are some. */
  gtk_widget_set_visible (GTK_WIDGET (self->instructions_entry),
                          editable || gtk_entry_get_text_length (self->instructions_entry) > 0);
  gtk_widget_set_visible (GTK_WIDGET (self->remove_button), editable);
}

void
wz_rx_line_row_clear_findings (WzRxLineRow *self)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->findings_box))) != NULL)
    gtk_box_remove (self->findings_box, child);
  gtk_widget_set_visible (GTK_WIDGET (self->findings_box), FALSE);
}

void
wz_rx_line_row_add_finding (WzRxLineRow *self,
                            const char  *severity,
                            const char  *text)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  GtkWidget *icon;
  GtkWidget *label = gtk_label_new (text);
  const char *css = g_strcmp0 (severity, "high") == 0 ? "error"
                    : g_strcmp0 (severity, "moderate") == 0 ? "warning" : "accent";

  icon = gtk_image_new_from_icon_name (g_strcmp0 (severity, "low") == 0
                                       ? "dialog-information-symbolic"
                                       : "dialog-warning-symbolic");
  gtk_widget_set_valign (icon, GTK_ALIGN_START);
  gtk_widget_add_css_class (icon, css);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_widget_add_css_class (label, css);
  gtk_box_append (GTK_BOX (box), icon);
  gtk_box_append (GTK_BOX (box), label);
  gtk_box_append (self->findings_box, box);
  gtk_widget_set_visible (GTK_WIDGET (self->findings_box), TRUE);
}

void
wz_rx_line_row_focus_dose (WzRxLineRow *self)
{
  gtk_widget_grab_focus (GTK_WIDGET (self->dose_spin));
}
