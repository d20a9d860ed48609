/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-preconsult"

#include "config.h"

#include "wz-preconsult.h"

#include <string.h>

#include "wz-error.h"
#include "wz-fhir-index.h"
#include "wz-fhir.h"
#include "wz-http.h"
#include "wz-id.h"
#include "wz-static-routes.h"
#include "wz-time.h"
#include "wz-json.h"

#define AGENT             "wenzhen-server pre-consultation triage"
#define ACT_PRIORITY      "http://terminology.hl7.org/CodeSystem/v3-ActPriority"
#define FLAG_CATEGORY     "http://terminology.hl7.org/CodeSystem/flag-category"
#define FLAG_IDENTIFIER   "https://wenzhen.example/fhir/Flag/pre-consultation"
#define RULE_SYSTEM       "https://wenzhen.example/fhir/CodeSystem/triage-rule"
#define QUESTIONNAIRE_ID_SYSTEM "https://wenzhen.example/fhir/Questionnaire"
#define QUESTIONNAIRE_ID_VALUE  "pre-consultation-" WZ_TRIAGE_QUESTIONNAIRE_VERSION
/* A version conflict means someone else wrote the Encounter between our read and our write; a
 * few fresh attempts settle it, more would mean something is wrong. */
#define MAX_ATTEMPTS      5
#define QUEUE_MAX         WZ_SEARCH_MAX_COUNT

struct _WzPreconsult
{
  GObject   parent_instance;

  WzStore  *store;
  WzAudit  *audit;
  WzAuth   *auth;
  WzTriage *triage;
  GBytes   *rules_bytes;  /* served to the patient page as they are */
};

G_DEFINE_FINAL_TYPE (WzPreconsult, wz_preconsult, G_TYPE_OBJECT)

enum
{
  RESOURCE_WRITTEN,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
wz_preconsult_dispose (GObject *object)
{
  WzPreconsult *self = WZ_PRECONSULT (object);

  g_clear_object (&self->store);
  g_clear_object (&self->audit);
  g_clear_object (&self->auth);
  g_clear_object (&self->triage);
  g_clear_pointer (&self->rules_bytes, g_bytes_unref);

  G_OBJECT_CLASS (wz_preconsult_parent_class)->dispose (object);
}

static void
wz_preconsult_class_init (WzPreconsultClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = wz_preconsult_dispose;

  /* (WzStoredResource *resource, const char *encounter): a resource this object wrote, for the
   * realtime hub; emitted once the write is durable. */
  signals[RESOURCE_WRITTEN] =
    g_signal_new ("resource-written", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 2, G_TYPE_POINTER, G_TYPE_STRING);
}

static void
wz_preconsult_init (WzPreconsult *self)
{
}

WzPreconsult *
wz_preconsult_new_with_rules (WzStore     *store,
                              WzAudit     *audit,
                              const char  *rules_path,
                              GError     **error)
{
  g_autoptr(WzPreconsult) self = g_object_new (WZ_TYPE_PRECONSULT, NULL);
  g_autofree char *contents = NULL;
  gsize length;

  g_return_val_if_fail (WZ_IS_STORE (store), NULL);

  if (!g_file_get_contents (rules_path, &contents, &length, error))
    {
      g_prefix_error (error, "Cannot read the triage rules: ");
      return NULL;
    }

  self->triage = wz_triage_new_from_data (contents, length, error);
  if (self->triage == NULL)
    {
      g_prefix_error (error, "%s: ", rules_path);
      return NULL;
    }

  self->rules_bytes = g_bytes_new_take (g_steal_pointer (&contents), length);
  self->store = g_object_ref (store);
  self->audit = audit ? g_object_ref (audit) : NULL;

  return g_steal_pointer (&self);
}

WzPreconsult *
wz_preconsult_new (WzStore  *store,
                   WzAudit  *audit,
                   GError  **error)
{
  g_autofree char *data_dir = wz_static_data_dir ();
  g_autofree char *path = g_build_filename (data_dir, "clinical", "triage-rules.json", NULL);

  return wz_preconsult_new_with_rules (store, audit, path, error);
}

WzTriage *
wz_preconsult_get_triage (WzPreconsult *self)
{
  g_return_val_if_fail (WZ_IS_PRECONSULT (self), NULL);

  return self->triage;
}

/* ---- Small JSON helpers (the stored JSON is trusted; the patient's is checked by the triage) -- */

/* "Type/ID" of the reference in OBJECT.NAME.reference, or NULL. */
static char *
reference_member (JsonObject *object,
                  const char *name,
                  const char *type)
{
  const char *reference = wz_json_get_string (wz_json_get_object (object, name), "reference");

  return reference ? wz_fhir_index_reference (type, reference) : NULL;
}

/* The stored JSON as a tree (the bytes are not NUL-terminated); NULL if it does not parse. */
static JsonNode *
parse_stored (const WzStoredResource *stored)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  gsize length;
  const char *data = g_bytes_get_data (stored->json, &length);

  if (data == NULL || !json_parser_load_from_data (parser, data, length, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return NULL;

  return json_parser_steal_root (parser);
}

static void
audit_write (WzPreconsult           *self,
             const char             *action,
             const WzStoredResource *stored)
{
  g_autofree char *entity = g_strconcat (stored->type, "/", stored->id, NULL);

  if (self->audit != NULL)
    wz_audit_record (self->audit, action, "0", AGENT, entity, stored->patient, "local", NULL, NULL);
}

/* ---- The Questionnaire ---------------------------------------------------------------------- */

gboolean
wz_preconsult_seed_questionnaire (WzPreconsult  *self,
                                  GError       **error)
{
  g_autoptr(JsonNode) built = wz_triage_build_questionnaire (self->triage);
  g_autoptr(WzSearchQuery) query = NULL;
  g_autoptr(WzStoreResult) found = NULL;
  g_autoptr(WzStoredResource) stored = NULL;
  g_autofree char *built_items = NULL;
  JsonObject *resource = json_node_get_object (built);
  gboolean created = FALSE;

  query = wz_search_query_parse ("Questionnaire",
                                 "identifier=" QUESTIONNAIRE_ID_SYSTEM "|" QUESTIONNAIRE_ID_VALUE,
                                 error);
  if (query == NULL || (found = wz_store_search (self->store, query, error)) == NULL)
    return FALSE;

  if (found->resources->len == 0)
    {
      stored = wz_store_create (self->store, resource, query, &created, error);
      if (stored == NULL)
        return FALSE;
      if (created)
        audit_write (self, "C", stored);
      return TRUE;
    }

  /* The rules file changed since the form was stored (a new red flag, reworded questions): the
   * form follows it as a new version, and answers already given keep pointing at the old one
   * through its history. */
  built_items = json_to_string (json_object_get_member (resource, "item"), FALSE);
  {
    WzStoredResource *current = g_ptr_array_index (found->resources, 0);
    g_autoptr(JsonNode) current_root = parse_stored (current);
    g_autofree char *current_items = NULL;

    if (current_root != NULL && JSON_NODE_HOLDS_OBJECT (current_root))
      current_items = json_to_string (json_object_get_member (json_node_get_object (current_root),
                                                              "item"), FALSE);
    if (g_strcmp0 (current_items, built_items) == 0)
      return TRUE;

    stored = wz_store_update (self->store, resource, current->id, current->version_id, error);
    if (stored == NULL)
      return FALSE;
    audit_write (self, "U", stored);
  }

  return TRUE;
}

/* ---- Checking answers before they are stored ------------------------------------------------ */

gboolean
wz_preconsult_check (WzPreconsult  *self,
                     JsonObject    *resource,
                     GError       **error)
{
  g_autoptr(WzTriageResult) result = NULL;
  g_autoptr(WzStoredResource) encounter = NULL;
  g_autoptr(JsonNode) encounter_root = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *encounter_ref = NULL;
  g_autofree char *subject = NULL;
  g_autofree char *encounter_subject = NULL;
  const char *authored;
  gint64 authored_us;

  g_return_val_if_fail (WZ_IS_PRECONSULT (self), FALSE);

  if (g_strcmp0 (wz_json_get_string (resource, "resourceType"), "QuestionnaireResponse") != 0 ||
      !wz_triage_is_preconsult (resource))
    return TRUE;

  /* Shape first: answers the triage could not read are refused before anything is stored. */
  result = wz_triage_evaluate (self->triage, resource, NULL, error);
  if (result == NULL)
    return FALSE;

  authored = wz_json_get_string (resource, "authored");
  if (authored == NULL || !wz_time_parse_instant (authored, &authored_us, NULL))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                   "QuestionnaireResponse.authored must be the date and time the answers were "
                   "given, with a time zone");
      return FALSE;
    }

  encounter_ref = reference_member (resource, "encounter", "Encounter");
  subject = reference_member (resource, "subject", "Patient");
  if (encounter_ref == NULL || subject == NULL)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                   "Pre-consultation answers need subject (Patient/…) and encounter "
                   "(Encounter/…) references");
      return FALSE;
    }

  encounter = wz_store_read (self->store, "Encounter", encounter_ref + strlen ("Encounter/"),
                             &local_error);
  if (encounter == NULL)
    {
      if (g_error_matches (local_error, WZ_ERROR, WZ_ERROR_NOT_FOUND) ||
          g_error_matches (local_error, WZ_ERROR, WZ_ERROR_GONE))
        g_set_error (error, WZ_ERROR, WZ_ERROR_UNPROCESSABLE,
                     "QuestionnaireResponse.encounter: %s does not exist", encounter_ref);
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  encounter_root = parse_stored (encounter);
  if (encounter_root != NULL && JSON_NODE_HOLDS_OBJECT (encounter_root))
    encounter_subject = reference_member (json_node_get_object (encounter_root), "subject",
                                          "Patient");
  if (g_strcmp0 (encounter_subject, subject) != 0)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_UNPROCESSABLE,
                   "QuestionnaireResponse.subject %s is not the patient of %s", subject,
                   encounter_ref);
      return FALSE;
    }

  return TRUE;
}

/* ---- Applying the triage -------------------------------------------------------------------- */

static const char *
priority_display (guint urgency)
{
  static const char *const displays[] = { NULL, "emergency", "urgent", "routine", "elective" };

  return urgency >= 1 && urgency <= 4 ? displays[urgency] : NULL;
}

static gboolean
has_triage_source (JsonObject *object)
{
  JsonArray *extensions = wz_json_get_array (object, "extension");

  for (guint i = 0; extensions != NULL && i < json_array_get_length (extensions); i++)
    {
      JsonNode *node = json_array_get_element (extensions, i);

      if (JSON_NODE_HOLDS_OBJECT (node) &&
          g_strcmp0 (wz_json_get_string (json_node_get_object (node), "url"),
                     WZ_TRIAGE_SOURCE_EXTENSION) == 0)
        return TRUE;
    }

  return FALSE;
}

static JsonObject *
new_priority (WzPreconsult         *self,
              const WzTriageResult *result)
{
  JsonObject *priority = json_object_new ();
  JsonArray *codings = json_array_new ();
  JsonObject *coding = json_object_new ();
  JsonArray *extensions = json_array_new ();
  JsonObject *extension = json_object_new ();
  g_autofree char *ids = wz_triage_result_rule_ids (result);
  g_autofree char *text = g_strdup_printf ("%s %s",
                                           wz_triage_urgency_label (self->triage, result->urgency, "zh"),
                                           wz_triage_urgency_label (self->triage, result->urgency, "en"));

  json_object_set_string_member (extension, "url", WZ_TRIAGE_SOURCE_EXTENSION);
  json_object_set_string_member (extension, "valueString", ids);
  json_array_add_object_element (extensions, extension);
  json_object_set_array_member (priority, "extension", extensions);

  json_object_set_string_member (coding, "system", ACT_PRIORITY);
  json_object_set_string_member (coding, "code", wz_triage_priority_code (result->urgency));
  json_object_set_string_member (coding, "display", priority_display (result->urgency));
  json_array_add_object_element (codings, coding);
  json_object_set_array_member (priority, "coding", codings);
  json_object_set_string_member (priority, "text", text);

  return priority;
}

/* Applies the triage to ENCOUNTER in place; FALSE when there is nothing to change (the visit has
 * started or ended, or a doctor already set the urgency and the status is right). */
static gboolean
change_encounter (WzPreconsult         *self,
                  JsonObject           *encounter,
                  const WzTriageResult *result,
                  const char           *complaint)
{
  const char *status = wz_json_get_string (encounter, "status");
  JsonObject *priority = wz_json_get_object (encounter, "priority");
  gboolean changed = FALSE;

  if (g_strcmp0 (status, "planned") != 0 && g_strcmp0 (status, "arrived") != 0 &&
      g_strcmp0 (status, "triaged") != 0)
    return FALSE;

  if (g_strcmp0 (status, "triaged") != 0)
    {
      json_object_set_string_member (encounter, "status", "triaged");
      changed = TRUE;
    }

  /* A doctor's urgency stands: triage sets its own or replaces an earlier triage's, nothing
   * else. */
  if (priority == NULL || has_triage_source (priority) || has_triage_source (encounter))
    {
      json_object_set_object_member (encounter, "priority", new_priority (self, result));
      changed = TRUE;
    }

  if (!json_object_has_member (encounter, "reasonCode") && complaint != NULL)
    {
      JsonArray *reasons = json_array_new ();
      JsonObject *reason = json_object_new ();

      json_object_set_string_member (reason, "text", complaint);
      json_array_add_object_element (reasons, reason);
      json_object_set_array_member (encounter, "reasonCode", reasons);
      changed = TRUE;
    }

  /* Filling in the form is arriving: the queue orders by period.start. */
  if (wz_json_get_object (encounter, "period") == NULL ||
      wz_json_get_string (wz_json_get_object (encounter, "period"), "start") == NULL)
    {
      g_autofree char *now = wz_time_format_instant (wz_time_now_us ());
      JsonObject *period = wz_json_get_object (encounter, "period");

      if (period == NULL)
        {
          period = json_object_new ();
          json_object_set_object_member (encounter, "period", period);
        }
      json_object_set_string_member (period, "start", now);
      changed = TRUE;
    }

  return changed;
}

/* Stores OBJECT after the validation every client write gets. */
static JsonNode *
validated (JsonObject  *object,
           const char  *type,
           const char  *id,
           GError     **error)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), object);
  g_autofree char *text = json_to_string (node, FALSE);

  return wz_fhir_parse_resource (text, -1, type, id, error);
}

static gboolean
update_encounter (WzPreconsult         *self,
                  const char           *encounter_ref,
                  const WzTriageResult *result,
                  const char           *complaint,
                  GError              **error)
{
  const char *id = encounter_ref + strlen ("Encounter/");

  for (guint attempt = 1; attempt <= MAX_ATTEMPTS; attempt++)
    {
      g_autoptr(WzStoredResource) current = NULL;
      g_autoptr(WzStoredResource) updated = NULL;
      g_autoptr(JsonNode) root = NULL;
      g_autoptr(JsonNode) checked = NULL;
      g_autoptr(GError) local_error = NULL;

      if ((current = wz_store_read (self->store, "Encounter", id, error)) == NULL)
        return FALSE;
      root = parse_stored (current);
      if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
        {
          g_set_error (error, WZ_ERROR, WZ_ERROR_INTERNAL, "%s is not readable", encounter_ref);
          return FALSE;
        }
      if (!change_encounter (self, json_node_get_object (root), result, complaint))
        return TRUE;

      if ((checked = validated (json_node_get_object (root), "Encounter", id, error)) == NULL)
        return FALSE;

      /* If-Match semantics: only on top of the version just read. */
      updated = wz_store_update (self->store, json_node_get_object (checked), id,
                                 current->version_id, &local_error);
      if (updated != NULL)
        {
          audit_write (self, "U", updated);
          g_signal_emit (self, signals[RESOURCE_WRITTEN], 0, updated, encounter_ref);
          return TRUE;
        }
      if (!g_error_matches (local_error, WZ_ERROR, WZ_ERROR_PRECONDITION_FAILED))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      g_debug ("%s changed while triaging (attempt %u), reading it again", encounter_ref, attempt);
    }

  g_set_error (error, WZ_ERROR, WZ_ERROR_CONFLICT,
               "%s kept changing; the triage result was not applied after %d attempts",
               encounter_ref, MAX_ATTEMPTS);
  return FALSE;
}

static gboolean
raise_flag (WzPreconsult        *self,
            const WzTriageMatch *match,
            const char          *response_id,
            const char          *patient,
            const char          *encounter_ref,
            GError             **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) built = NULL;
  g_autoptr(JsonNode) checked = NULL;
  g_autoptr(WzSearchQuery) query = NULL;
  g_autoptr(WzStoredResource) stored = NULL;
  g_autofree char *value = g_strdup_printf ("%s.%s", response_id, match->id);
  g_autofree char *condition = g_strdup_printf ("identifier=%s|%s", FLAG_IDENTIFIER, value);
  g_autofree char *text = g_strdup_printf ("%s — %s", match->reason_zh, match->reason_en);
  g_autofree char *now = wz_time_format_instant (wz_time_now_us ());
  gboolean created = FALSE;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "resourceType");
  json_builder_add_string_value (b, "Flag");
  json_builder_set_member_name (b, "identifier");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "system");
  json_builder_add_string_value (b, FLAG_IDENTIFIER);
  json_builder_set_member_name (b, "value");
  json_builder_add_string_value (b, value);
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "status");
  json_builder_add_string_value (b, "active");
  json_builder_set_member_name (b, "category");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "coding");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "system");
  json_builder_add_string_value (b, FLAG_CATEGORY);
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, "safety");
  json_builder_set_member_name (b, "display");
  json_builder_add_string_value (b, "Safety");
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "code");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "coding");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "system");
  json_builder_add_string_value (b, RULE_SYSTEM);
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, match->id);
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "text");
  json_builder_add_string_value (b, text);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "subject");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "reference");
  json_builder_add_string_value (b, patient);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "encounter");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "reference");
  json_builder_add_string_value (b, encounter_ref);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "period");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "start");
  json_builder_add_string_value (b, now);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "author");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "display");
  json_builder_add_string_value (b, "预问诊分诊 Pre-consultation triage");
  json_builder_end_object (b);
  json_builder_end_object (b);

  built = json_builder_get_root (b);
  if ((checked = validated (json_node_get_object (built), "Flag", NULL, error)) == NULL ||
      (query = wz_search_query_parse ("Flag", condition, error)) == NULL ||
      (stored = wz_store_create (self->store, json_node_get_object (checked), query, &created,
                                 error)) == NULL)
    return FALSE;

  if (created)
    {
      audit_write (self, "C", stored);
      g_signal_emit (self, signals[RESOURCE_WRITTEN], 0, stored, encounter_ref);
    }

  return TRUE;
}

static const char *
complaint_of (JsonObject *response)
{
  JsonArray *items = wz_json_get_array (response, "item");

  for (guint i = 0; items != NULL && i < json_array_get_length (items); i++)
    {
      JsonObject *item = json_array_get_object_element (items, i);
      JsonArray *answers;

      if (g_strcmp0 (wz_json_get_string (item, "linkId"), WZ_TRIAGE_LINK_COMPLAINT) != 0)
        continue;
      answers = wz_json_get_array (item, "answer");
      if (answers != NULL && json_array_get_length (answers) > 0)
        return wz_json_get_string (json_array_get_object_element (answers, 0), "valueString");
    }

  return NULL;
}

gboolean
wz_preconsult_apply (WzPreconsult  *self,
                     JsonObject    *response,
                     const char    *id,
                     GError       **error)
{
  g_autoptr(WzStoredResource) patient = NULL;
  g_autoptr(JsonNode) patient_root = NULL;
  g_autoptr(WzTriageResult) result = NULL;
  g_autofree char *patient_ref = reference_member (response, "subject", "Patient");
  g_autofree char *encounter_ref = reference_member (response, "encounter", "Encounter");
  g_autofree char *on_date = NULL;
  g_autofree char *complaint = NULL;
  const char *authored = wz_json_get_string (response, "authored");
  WzTriagePatient facts = { NULL, NULL, NULL };

  g_return_val_if_fail (WZ_IS_PRECONSULT (self), FALSE);

  if (patient_ref == NULL || encounter_ref == NULL)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                   "QuestionnaireResponse/%s names no patient or no encounter", id);
      return FALSE;
    }

  patient = wz_store_read (self->store, "Patient", patient_ref + strlen ("Patient/"), error);
  if (patient == NULL)
    return FALSE;
  patient_root = parse_stored (patient);
  if (patient_root != NULL && JSON_NODE_HOLDS_OBJECT (patient_root))
    {
      facts.birth_date = wz_json_get_string (json_node_get_object (patient_root), "birthDate");
      facts.gender = wz_json_get_string (json_node_get_object (patient_root), "gender");
    }
  /* The age that counts is the age on the day of the answers, in the patient's own time zone. */
  if (authored != NULL && strlen (authored) >= 10)
    facts.on_date = on_date = g_strndup (authored, 10);

  result = wz_triage_evaluate (self->triage, response, &facts, error);
  if (result == NULL)
    return FALSE;

  complaint = g_strdup (complaint_of (response));
  if (complaint != NULL)
    g_strstrip (complaint);

  {
    g_autofree char *ids = wz_triage_result_rule_ids (result);

    g_info ("QuestionnaireResponse/%s for %s: urgency %u (%s)", id, encounter_ref,
            result->urgency, ids);
  }

  /* The alert goes out first: if the Encounter cannot be updated the doctor still hears of it. */
  for (guint i = 0; i < result->matches->len; i++)
    {
      const WzTriageMatch *match = &g_array_index (result->matches, WzTriageMatch, i);

      if (match->red_flag &&
          !raise_flag (self, match, id, patient_ref, encounter_ref, error))
        return FALSE;
    }

  return update_encounter (self, encounter_ref, result, complaint, error);
}

void
wz_preconsult_created (WzPreconsult           *self,
                       const WzStoredResource *stored)
{
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;

  g_return_if_fail (WZ_IS_PRECONSULT (self));

  if (g_strcmp0 (stored->type, "QuestionnaireResponse") != 0)
    return;

  root = parse_stored (stored);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root) ||
      !wz_triage_is_preconsult (json_node_get_object (root)))
    return;

  if (!wz_preconsult_apply (self, json_node_get_object (root), stored->id, &error))
    g_warning ("Pre-consultation answers QuestionnaireResponse/%s were stored but not triaged: %s",
               stored->id, error->message);
}

/* ---- Demo answers --------------------------------------------------------------------------- */

static void
demo_item (JsonBuilder *b,
           const char  *link_id,
           const char  *text,
           const char  *value_type,
           ...)
{
  va_list args;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "linkId");
  json_builder_add_string_value (b, link_id);
  json_builder_set_member_name (b, "text");
  json_builder_add_string_value (b, text);
  json_builder_set_member_name (b, "answer");
  json_builder_begin_array (b);

  va_start (args, value_type);
  if (strcmp (value_type, "valueString") == 0 || strcmp (value_type, "valueBoolean") == 0 ||
      strcmp (value_type, "valueInteger") == 0 || strcmp (value_type, "valueDecimal") == 0)
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, value_type);
      if (strcmp (value_type, "valueString") == 0)
        json_builder_add_string_value (b, va_arg (args, const char *));
      else if (strcmp (value_type, "valueBoolean") == 0)
        json_builder_add_boolean_value (b, va_arg (args, gboolean));
      else if (strcmp (value_type, "valueInteger") == 0)
        json_builder_add_int_value (b, va_arg (args, int));
      else
        json_builder_add_double_value (b, va_arg (args, double));
      json_builder_end_object (b);
    }
  else
    {
      /* valueCoding: SYSTEM, then code/display pairs up to NULL */
      const char *system = va_arg (args, const char *);
      const char *code;

      while ((code = va_arg (args, const char *)) != NULL)
        {
          const char *display = va_arg (args, const char *);

          json_builder_begin_object (b);
          json_builder_set_member_name (b, "valueCoding");
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "system");
          json_builder_add_string_value (b, system);
          json_builder_set_member_name (b, "code");
          json_builder_add_string_value (b, code);
          json_builder_set_member_name (b, "display");
          json_builder_add_string_value (b, display);
          json_builder_end_object (b);
          json_builder_end_object (b);
        }
    }
  va_end (args);

  json_builder_end_array (b);
  json_builder_end_object (b);
}

gboolean
wz_preconsult_add_demo_answers (WzPreconsult      *self,
                                const char        *patient,
                                WzPreconsultDemo   kind,
                                GError           **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) built = NULL;
  g_autoptr(JsonNode) checked = NULL;
  g_autoptr(WzSearchQuery) query = NULL;
  g_autoptr(WzStoreResult) visits = NULL;
  g_autoptr(WzStoredResource) stored = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autoptr(GDateTime) earlier = g_date_time_add_minutes (now, -25);
  g_autofree char *authored = g_date_time_format (earlier, "%Y-%m-%dT%H:%M:%S%:z");
  g_autofree char *search = g_strdup_printf ("patient=%s&status=planned,arrived", patient);
  g_autofree char *identifier = wz_id_new_urn_uuid ();
  g_autofree char *encounter = NULL;
  g_autoptr(JsonNode) rules_root = NULL;
  JsonArray *flags;
  gboolean created = FALSE;

  g_return_val_if_fail (WZ_IS_PRECONSULT (self), FALSE);

  if ((query = wz_search_query_parse ("Encounter", search, error)) == NULL ||
      (visits = wz_store_search (self->store, query, error)) == NULL)
    return FALSE;
  if (visits->resources->len == 0)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_NOT_FOUND, "%s has no planned or waiting visit",
                   patient);
      return FALSE;
    }
  encounter = g_strconcat ("Encounter/",
                           ((WzStoredResource *) g_ptr_array_index (visits->resources, 0))->id,
                           NULL);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "resourceType");
  json_builder_add_string_value (b, "QuestionnaireResponse");
  json_builder_set_member_name (b, "identifier");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "system");
  json_builder_add_string_value (b, "urn:ietf:rfc:3986");
  json_builder_set_member_name (b, "value");
  json_builder_add_string_value (b, identifier);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "questionnaire");
  json_builder_add_string_value (b, WZ_TRIAGE_QUESTIONNAIRE_URL "|" WZ_TRIAGE_QUESTIONNAIRE_VERSION);
  json_builder_set_member_name (b, "status");
  json_builder_add_string_value (b, "completed");
  json_builder_set_member_name (b, "subject");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "reference");
  json_builder_add_string_value (b, patient);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "encounter");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "reference");
  json_builder_add_string_value (b, encounter);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "authored");
  json_builder_add_string_value (b, authored);
  json_builder_set_member_name (b, "item");
  json_builder_begin_array (b);

  if (kind == WZ_PRECONSULT_DEMO_ROUTINE)
    {
      demo_item (b, WZ_TRIAGE_LINK_COMPLAINT, "您这次主要哪里不舒服？", "valueString",
                 "血压复查，降压药快吃完了，想续方。Blood pressure review; my tablets are running "
                 "out and I need a repeat prescription.");
      demo_item (b, WZ_TRIAGE_LINK_DURATION, "这个问题持续多久了？", "valueCoding",
                 WZ_TRIAGE_DURATION_SYSTEM, "gt4w", "超过4周", NULL);
      demo_item (b, WZ_TRIAGE_LINK_SYMPTOMS, "您有以下哪些症状？", "valueCoding",
                 WZ_TRIAGE_SYMPTOM_SYSTEM, "prescription_renewal", "慢病续方",
                 "chronic_followup", "已确诊疾病复诊", NULL);
      demo_item (b, WZ_TRIAGE_LINK_MEASUREMENT "sbp", "血压高压（收缩压，mmHg）", "valueInteger", 136);
      demo_item (b, WZ_TRIAGE_LINK_MEASUREMENT "dbp", "血压低压（舒张压，mmHg）", "valueInteger", 84);
      demo_item (b, WZ_TRIAGE_LINK_MEDICATIONS, "您目前在用哪些药物（包括中药和保健品）？",
                 "valueString", "氨氯地平 5 mg 每日1次，阿托伐他汀 20 mg 每晚1次，阿司匹林 100 mg "
                 "每日1次 Amlodipine 5 mg daily, atorvastatin 20 mg at night, aspirin 100 mg daily");
      demo_item (b, WZ_TRIAGE_LINK_ALLERGIES_NONE, "没有已知过敏", "valueBoolean", TRUE);
    }
  else
    {
      demo_item (b, WZ_TRIAGE_LINK_COMPLAINT, "您这次主要哪里不舒服？", "valueString",
                 "怀孕20周，偏头痛发作两天，吃对乙酰氨基酚不管用，吐了两次。20 weeks pregnant, "
                 "migraine for two days, paracetamol is not helping, vomited twice.");
      demo_item (b, WZ_TRIAGE_LINK_DURATION, "这个问题持续多久了？", "valueCoding",
                 WZ_TRIAGE_DURATION_SYSTEM, "d1_3", "1～3天", NULL);
      demo_item (b, WZ_TRIAGE_LINK_SYMPTOMS, "您有以下哪些症状？", "valueCoding",
                 WZ_TRIAGE_SYMPTOM_SYSTEM, "headache", "头痛", "nausea", "恶心",
                 "vomiting", "呕吐", NULL);
      demo_item (b, WZ_TRIAGE_LINK_PREGNANT, "您目前是否怀孕？", "valueBoolean", TRUE);
      demo_item (b, WZ_TRIAGE_LINK_MEASUREMENT "sbp", "血压高压（收缩压，mmHg）", "valueInteger", 118);
      demo_item (b, WZ_TRIAGE_LINK_MEASUREMENT "dbp", "血压低压（舒张压，mmHg）", "valueInteger", 76);
      demo_item (b, WZ_TRIAGE_LINK_MEDICATIONS, "您目前在用哪些药物（包括中药和保健品）？",
                 "valueString", "对乙酰氨基酚 500 mg 需要时，叶酸 0.4 mg 每日1次 Paracetamol "
                 "500 mg when needed, folic acid 0.4 mg daily");
      demo_item (b, WZ_TRIAGE_LINK_ALLERGIES, "您对哪些药物或食物过敏？", "valueString",
                 "没有已知药物过敏，对芒果过敏（口周皮疹）No drug allergies; mango gives a rash "
                 "around the mouth");
    }

  /* Every red-flag question asked, every one answered no. The rules bytes came from a file read,
   * which ends them with a NUL. */
  rules_root = json_from_string (g_bytes_get_data (self->rules_bytes, NULL), NULL);
  flags = json_object_get_array_member (json_node_get_object (rules_root), "red_flags");
  for (guint i = 0; flags != NULL && i < json_array_get_length (flags); i++)
    {
      JsonObject *flag = json_array_get_object_element (flags, i);
      JsonObject *applies = json_object_get_object_member (flag, "applies_to");
      g_autofree char *link_id = g_strconcat (WZ_TRIAGE_LINK_RED_FLAG,
                                              json_object_get_string_member (flag, "id"), NULL);

      /* Asked of everyone, and of pregnant patients the pregnancy danger signs. */
      if (json_object_get_size (applies) > 0 &&
          !(kind == WZ_PRECONSULT_DEMO_URGENT && json_object_get_size (applies) == 1 &&
            json_object_has_member (applies, "pregnant")))
        continue;
      demo_item (b, link_id, json_object_get_string_member (
                   json_object_get_object_member (flag, "question"), "zh"),
                 "valueBoolean", FALSE);
    }

  json_builder_end_array (b);
  json_builder_end_object (b);

  built = json_builder_get_root (b);
  if ((checked = validated (json_node_get_object (built), "QuestionnaireResponse", NULL,
                            error)) == NULL ||
      !wz_preconsult_check (self, json_node_get_object (checked), error) ||
      (stored = wz_store_create (self->store, json_node_get_object (checked), NULL, &created,
                                 error)) == NULL)
    return FALSE;

  audit_write (self, "C", stored);
  return wz_preconsult_apply (self, json_node_get_object (checked), stored->id, error);
}

/* ---- Routes for the patient page ------------------------------------------------------------ */

static void
rules_handler (SoupServer        *server,
               SoupServerMessage *msg,
               const char        *path,
               GHashTable        *query,
               gpointer           user_data)
{
  WzPreconsult *self = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  const char *method = soup_server_message_get_method (msg);
  gsize length;
  const char *data;

  if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD)
    {
      soup_message_headers_replace (headers, "Allow", "GET, HEAD");
      soup_server_message_set_status (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
      return;
    }

  data = g_bytes_get_data (self->rules_bytes, &length);
  soup_message_headers_replace (headers, "Cache-Control", "no-cache");
  soup_message_headers_replace (headers, "X-Content-Type-Options", "nosniff");
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  if (method == SOUP_METHOD_HEAD)
    {
      soup_message_headers_replace (headers, "Content-Type", "application/json");
      soup_message_headers_set_content_length (headers, length);
      return;
    }
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, data, length);
}

/* Waiting order as the doctor's queue shows it: most urgent first, then by arrival. */
static gint
compare_waiting (gconstpointer a,
                 gconstpointer b)
{
  const char *const *pa = a;
  const char *const *pb = b;

  return strcmp (pa[0], pb[0]);
}

static void
queue_handler (SoupServer        *server,
               SoupServerMessage *msg,
               const char        *path,
               GHashTable        *query_params,
               gpointer           user_data)
{
  WzPreconsult *self = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *authorization = soup_message_headers_get_one (headers, "Authorization");
  const WzSession *session = NULL;
  g_autoptr(WzStoredResource) encounter = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(WzSearchQuery) query = NULL;
  g_autoptr(WzStoreResult) waiting = NULL;
  g_autoptr(GPtrArray) keys = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) answer = NULL;
  g_autofree char *own_key = NULL;
  g_autofree char *practitioner = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *today = g_date_time_format (now, "%Y-%m-%d");
  JsonArray *participants;
  const char *status;
  guint position = 0;
  gsize length;

  if (soup_server_message_get_method (msg) != SOUP_METHOD_GET)
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", "GET");
      wz_http_respond_problem (msg, WZ_ERROR_METHOD_NOT_ALLOWED, "Only GET is supported here");
      return;
    }

  if (authorization != NULL && g_ascii_strncasecmp (authorization, "Bearer ", 7) == 0)
    session = wz_auth_lookup (self->auth, authorization + 7);
  if (session == NULL || g_strcmp0 (session->role, "patient") != 0 || session->encounter_id == NULL)
    {
      wz_http_respond_problem (msg, WZ_ERROR_UNAUTHORIZED,
                               "Open your visit link again: this needs the patient session it "
                               "gives");
      return;
    }

  if ((encounter = wz_store_read (self->store, "Encounter", session->encounter_id, &error)) == NULL)
    {
      wz_http_respond_error (msg, error);
      return;
    }
  if ((root = parse_stored (encounter)) == NULL)
    {
      wz_http_respond_problem (msg, WZ_ERROR_INTERNAL, "The visit could not be read");
      return;
    }
  status = wz_json_get_string (json_node_get_object (root), "status");

  /* The doctor of the visit: the first participant who is a practitioner. */
  participants = wz_json_get_array (json_node_get_object (root), "participant");
  for (guint i = 0; participants != NULL && i < json_array_get_length (participants) &&
                    practitioner == NULL; i++)
    practitioner = reference_member (json_array_get_object_element (participants, i),
                                     "individual", "Practitioner");

  keys = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  if (practitioner != NULL &&
      (g_strcmp0 (status, "arrived") == 0 || g_strcmp0 (status, "triaged") == 0))
    {
      g_autofree char *search = g_strdup_printf ("practitioner=%s&status=arrived,triaged&date=ge%s"
                                                 "&_count=%d", practitioner, today, QUEUE_MAX);

      if ((query = wz_search_query_parse ("Encounter", search, &error)) == NULL ||
          (waiting = wz_store_search (self->store, query, &error)) == NULL)
        {
          wz_http_respond_error (msg, error);
          return;
        }

      for (guint i = 0; i < waiting->resources->len; i++)
        {
          WzStoredResource *other = g_ptr_array_index (waiting->resources, i);
          g_autoptr(JsonNode) other_root = parse_stored (other);
          JsonObject *object = other_root ? json_node_get_object (other_root) : NULL;
          JsonArray *codings = wz_json_get_array (wz_json_get_object (object, "priority"), "coding");
          const char *code = codings && json_array_get_length (codings) > 0
                             ? wz_json_get_string (json_array_get_object_element (codings, 0), "code")
                             : NULL;
          guint urgency = wz_triage_urgency_for_priority (code);
          g_autofree char *start = wz_time_normalize_date (wz_json_get_string (wz_json_get_object (object, "period"),
                                                                          "start"));
          char **key = g_new0 (char *, 3);

          /* Not yet triaged sorts with routine visits. */
          key[0] = g_strdup_printf ("%u|%s|%s", urgency ? urgency : 3, start ? start : "~",
                                    other->id);
          key[1] = g_strdup (other->id);
          g_ptr_array_add (keys, key);
        }
      g_ptr_array_sort (keys, (GCompareFunc) compare_waiting);
      for (guint i = 0; i < keys->len; i++)
        if (strcmp (((char **) g_ptr_array_index (keys, i))[1], encounter->id) == 0)
          position = i + 1;
    }

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "status");
  json_builder_add_string_value (b, status ? status : "unknown");
  json_builder_set_member_name (b, "position");
  json_builder_add_int_value (b, position);
  json_builder_set_member_name (b, "waiting");
  json_builder_add_int_value (b, keys->len);
  json_builder_end_object (b);
  answer = json_builder_get_root (b);
  text = json_to_string (answer, FALSE);
  length = strlen (text);

  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Cache-Control",
                                "no-store");
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE,
                                    g_steal_pointer (&text), length);
}

void
wz_preconsult_register (WzPreconsult *self,
                        SoupServer   *server,
                        WzAuth       *auth)
{
  g_return_if_fail (WZ_IS_PRECONSULT (self));

  g_set_object (&self->auth, auth);
  soup_server_add_handler (server, "/visit/triage-rules.json", rules_handler, g_object_ref (self),
                           g_object_unref);
  soup_server_add_handler (server, "/visit/queue", queue_handler, g_object_ref (self),
                           g_object_unref);
}
