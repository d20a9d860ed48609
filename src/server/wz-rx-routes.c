/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-rx-routes"

#include "config.h"

#include "wz-rx-routes.h"

#include <math.h>
#include <string.h>

#include "wz-audited-response.h"
#include "wz-error.h"
#include "wz-fhir.h"
#include "wz-formulary-store.h"
#include "wz-http.h"
#include "wz-outcome.h"
#include "wz-rx-checks.h"
#include "wz-rx-rules.h"
#include "wz-signature.h"
#include "wz-time.h"

/* Request bodies and answers.
 *
 * $check and $sign take a FHIR Parameters resource:
 *   {"resourceType":"Parameters","parameter":[
 *     {"name":"medicationRequest","resource":{MedicationRequest}},       one per line
 *     {"name":"override","part":[{"name":"key","valueString":"interaction:WZ0061:WZ0130"},
 *                                {"name":"reason","valueString":"…"}]},  0..* (finding or rule key)
 *     {"name":"signature","valueBase64Binary":"…"}                        $sign only
 *   ]}
 * Every line names the same patient (subject) and encounter, its product in
 * medicationCodeableConcept (coding system WZ_FORMULARY_SYSTEM), its diagnosis in reasonReference
 * (Condition), dosageInstruction[0] (doseAndRate[0].doseQuantity, timing.code, route) and
 * dispenseRequest.expectedSupplyDuration (days). For $sign each line is a saved draft (id and
 * meta.versionId of the current version), status draft, requester the signing doctor, and the
 * signature is Ed25519 over wz_signature_prescription_payload() of exactly these resources.
 *
 * $check answers 200 with Parameters: "issue" (DetectedIssue, status preliminary) per finding,
 * "violation" per rule still broken (parts code, key, line (1-based, 0 = whole prescription),
 * overridable, message-en, message-zh), and "can-sign" (valueBoolean: no violation left).
 *
 * $sign answers 422 with an OperationOutcome listing every violation (issue.details.coding code
 * is the rule, details.text the Chinese text, diagnostics the English, expression the key), 412
 * when a draft changed since it was loaded, or 200 with a Bundle (collection): the Task, the
 * Provenance, the signed MedicationRequests and the DetectedIssues (final, with the override
 * reasons as mitigation).
 *
 * $cancel and $reject take Parameters with {"name":"reason","valueString":"…"} (required);
 * $approve optionally {"name":"note","valueString":"…"}. $register-key takes
 * {"name":"publicKey","valueBase64Binary":"…"} (32-byte Ed25519). */

#define ICD10 "http://hl7.org/fhir/sid/icd-10"
#define SNOMED "http://snomed.info/sct"
#define LOINC "http://loinc.org"
#define MAX_RELATED 2000
#define DAY_US (G_GINT64_CONSTANT (86400) * G_USEC_PER_SEC)

struct _WzRxRoutes
{
  GObject           parent_instance;

  WzStore          *store;
  WzAuth           *auth;
  WzAudit          *audit;
  WzCareTeam       *care_team;
  WzWsHub          *hub;
  WzFormularyStore *formulary;
};

G_DEFINE_FINAL_TYPE (WzRxRoutes, wz_rx_routes, G_TYPE_OBJECT)

/* One request being answered. */
typedef struct
{
  WzRxRoutes        *self;
  SoupServerMessage *msg;
  const WzSession   *session;
  char              *agent;     /* "Practitioner/ID" or the user name */
  const char        *action;    /* audit action code */
  char              *entity;
  char              *patient;
} Request;

/* Takes ENTITY as what the audit row names. */
static void
set_entity (Request *req,
            char    *entity)
{
  g_free (req->entity);
  req->entity = entity;
}

static void
request_clear (Request *req)
{
  g_free (req->agent);
  g_free (req->entity);
  g_free (req->patient);
}

/* --- small JSON helpers --------------------------------------------------------------------- */

static JsonObject *
object_member (JsonObject *object,
               const char *name)
{
  JsonNode *node = object ? json_object_get_member (object, name) : NULL;

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static JsonArray *
array_member (JsonObject *object,
              const char *name)
{
  JsonNode *node = object ? json_object_get_member (object, name) : NULL;

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

static const char *
string_member (JsonObject *object,
               const char *name)
{
  JsonNode *node = object ? json_object_get_member (object, name) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static double
number_member (JsonObject *object,
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
element_object (JsonArray *array,
                guint      index)
{
  JsonNode *node = json_array_get_element (array, index);

  return JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static const char *
reference_of (JsonObject *object,
              const char *name)
{
  return string_member (object_member (object, name), "reference");
}

/* Whether a CodeableConcept has SYSTEM|CODE (SYSTEM NULL: any system). */
static gboolean
concept_has (JsonObject *concept,
             const char *system,
             const char *code)
{
  JsonArray *codings = array_member (concept, "coding");

  for (guint i = 0; codings != NULL && i < json_array_get_length (codings); i++)
    {
      JsonObject *coding = element_object (codings, i);

      if (coding != NULL && g_strcmp0 (string_member (coding, "code"), code) == 0 &&
          (system == NULL || g_strcmp0 (string_member (coding, "system"), system) == 0))
        return TRUE;
    }
  return FALSE;
}

static gboolean
is_signed (JsonObject *request)
{
  JsonArray *tags = array_member (object_member (request, "meta"), "tag");

  for (guint i = 0; tags != NULL && i < json_array_get_length (tags); i++)
    {
      JsonObject *tag = element_object (tags, i);

      if (tag != NULL && g_strcmp0 (string_member (tag, "system"), WZ_RX_STATE_SYSTEM) == 0 &&
          g_strcmp0 (string_member (tag, "code"), "signed") == 0)
        return TRUE;
    }
  return FALSE;
}

static gboolean
is_approval_task (JsonObject *task)
{
  return concept_has (object_member (task, "code"), WZ_TASK_CODE_SYSTEM, "approve");
}

static JsonObject *
reference_object (const char *reference)
{
  JsonObject *object = json_object_new ();

  json_object_set_string_member (object, "reference", reference);
  return object;
}

static JsonObject *
text_concept (const char *text)
{
  JsonObject *concept = json_object_new ();

  json_object_set_string_member (concept, "text", text);
  return concept;
}

static JsonObject *
parse_stored (const WzStoredResource *stored,
              JsonNode              **out_root)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  gsize length;
  const char *data = g_bytes_get_data (stored->json, &length);

  if (!json_parser_load_from_data (parser, data, length, NULL))
    return NULL;
  *out_root = json_node_ref (json_parser_get_root (parser));
  return json_node_get_object (*out_root);
}

/* --- answering ------------------------------------------------------------------------------ */

/* Holds the response (already set) until its audit row is on disk. */
static void
send_audited (Request *req)
{
  wz_audited_response_send (req->self->audit, req->msg, req->action, req->agent, req->entity,
                            req->patient);
}

static void
fail (Request      *req,
      const GError *error)
{
  wz_http_respond_error (req->msg, error);
  send_audited (req);
}

static void
fail_with (Request    *req,
           int         code,
           const char *format,
           ...) G_GNUC_PRINTF (3, 4);

static void
fail_with (Request    *req,
           int         code,
           const char *format,
           ...)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  error = g_error_new_literal (WZ_ERROR, code, message);
  fail (req, error);
}

static void
respond_json (Request    *req,
              guint       status,
              JsonNode   *root)
{
  g_autofree char *text = json_to_string (root, FALSE);
  gsize length = strlen (text);

  wz_http_respond_json (req->msg, status, g_bytes_new_take (g_steal_pointer (&text), length));
  send_audited (req);
}

static void
respond_object (Request    *req,
                guint       status,
                JsonObject *object)
{
  g_autoptr(JsonNode) root = json_node_new (JSON_NODE_OBJECT);

  json_node_set_object (root, object);
  respond_json (req, status, root);
}

/* A Bundle (TYPE) of stored resources, sent as they are stored. */
static void
respond_bundle (Request    *req,
                const char *type,
                GPtrArray  *resources)
{
  GString *text = g_string_new ("{\"resourceType\":\"Bundle\",\"type\":\"");
  gsize length;

  g_string_append (text, type);
  g_string_append_printf (text, "\",\"total\":%u,\"entry\":[", resources->len);
  for (guint i = 0; i < resources->len; i++)
    {
      WzStoredResource *stored = g_ptr_array_index (resources, i);
      const char *data = g_bytes_get_data (stored->json, &length);

      if (i > 0)
        g_string_append_c (text, ',');
      g_string_append_printf (text, "{\"fullUrl\":\"%s/%s\",\"resource\":", stored->type,
                              stored->id);
      g_string_append_len (text, data, length);
      g_string_append_c (text, '}');
    }
  g_string_append (text, "]}");
  length = text->len;
  wz_http_respond_json (req->msg, SOUP_STATUS_OK,
                        g_bytes_new_take (g_string_free (text, FALSE), length));
  send_audited (req);
}

/* 422 with every violation as an issue. */
static void
respond_violations (Request   *req,
                    GPtrArray *violations)
{
  g_autoptr(JsonObject) outcome = json_object_new ();
  JsonArray *issues = json_array_new ();

  for (guint i = 0; i < violations->len; i++)
    {
      WzRxViolation *violation = g_ptr_array_index (violations, i);
      JsonObject *issue = json_object_new ();
      JsonObject *details = json_object_new ();
      JsonArray *codings = json_array_new ();
      JsonObject *coding = json_object_new ();
      JsonArray *expression = json_array_new ();

      json_object_set_string_member (coding, "system", WZ_RX_CHECK_SYSTEM);
      json_object_set_string_member (coding, "code", violation->code);
      json_array_add_object_element (codings, coding);
      json_object_set_array_member (details, "coding", codings);
      json_object_set_string_member (details, "text", violation->message_zh);
      json_array_add_string_element (expression, violation->key);

      json_object_set_string_member (issue, "severity", "error");
      json_object_set_string_member (issue, "code", "business-rule");
      json_object_set_object_member (issue, "details", details);
      json_object_set_string_member (issue, "diagnostics", violation->message_en);
      json_object_set_array_member (issue, "expression", expression);
      json_array_add_object_element (issues, issue);
    }

  json_object_set_string_member (outcome, "resourceType", "OperationOutcome");
  json_object_set_array_member (outcome, "issue", issues);
  respond_object (req, SOUP_STATUS_UNPROCESSABLE_ENTITY, outcome);
}

/* --- request bodies ------------------------------------------------------------------------- */

/* json-glib recurses per nesting level: count it first, as the FHIR parser does. */
static gboolean
depth_ok (const char *data,
          gsize       length)
{
  gboolean in_string = FALSE;
  guint depth = 0;

  for (gsize i = 0; i < length; i++)
    {
      if (in_string)
        {
          if (data[i] == '\\')
            i++;
          else if (data[i] == '"')
            in_string = FALSE;
        }
      else if (data[i] == '"')
        in_string = TRUE;
      else if (data[i] == '{' || data[i] == '[')
        {
          if (++depth > WZ_FHIR_MAX_DEPTH)
            return FALSE;
        }
      else if ((data[i] == '}' || data[i] == ']') && depth > 0)
        depth--;
    }
  return TRUE;
}

/* The Parameters resource of the request body, or NULL with an answer sent. */
static JsonNode *
read_parameters (Request *req)
{
  SoupMessageBody *body = soup_server_message_get_request_body (req->msg);
  g_autoptr(GBytes) bytes = soup_message_body_flatten (body);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  gsize length;
  const char *data = g_bytes_get_data (bytes, &length);
  JsonNode *root;

  if (length == 0)
    {
      fail_with (req, WZ_ERROR_INVALID, "The body must be a FHIR Parameters resource");
      return NULL;
    }
  if (!g_utf8_validate_len (data, length, NULL) || !depth_ok (data, length) ||
      !json_parser_load_from_data (parser, data, length, &error))
    {
      fail_with (req, WZ_ERROR_INVALID, "The body is not valid JSON in UTF-8%s%s",
                 error ? ": " : "", error ? error->message : "");
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root) ||
      g_strcmp0 (string_member (json_node_get_object (root), "resourceType"), "Parameters") != 0)
    {
      fail_with (req, WZ_ERROR_INVALID, "The body must be a FHIR Parameters resource");
      return NULL;
    }
  return json_node_ref (root);
}

/* Parameters with NAME, in order (JsonObject of each parameter). */
static GPtrArray *
parameters_named (JsonNode   *parameters,
                  const char *name)
{
  GPtrArray *found = g_ptr_array_new ();
  JsonArray *list = array_member (json_node_get_object (parameters), "parameter");

  for (guint i = 0; list != NULL && i < json_array_get_length (list); i++)
    {
      JsonObject *parameter = element_object (list, i);

      if (parameter != NULL && g_strcmp0 (string_member (parameter, "name"), name) == 0)
        g_ptr_array_add (found, parameter);
    }
  return found;
}

/* The string value (valueString, valueBase64Binary, valueCode) of the first parameter NAME. */
static const char *
parameter_string (JsonNode   *parameters,
                  const char *name)
{
  g_autoptr(GPtrArray) found = parameters_named (parameters, name);
  const char *value = NULL;

  if (found->len > 0)
    {
      JsonObject *parameter = g_ptr_array_index (found, 0);

      value = string_member (parameter, "valueString");
      if (value == NULL)
        value = string_member (parameter, "valueBase64Binary");
      if (value == NULL)
        value = string_member (parameter, "valueCode");
    }
  return value;
}

static const char *
part_string (JsonObject *parameter,
             const char *name)
{
  JsonArray *parts = array_member (parameter, "part");

  for (guint i = 0; parts != NULL && i < json_array_get_length (parts); i++)
    {
      JsonObject *part = element_object (parts, i);

      if (part != NULL && g_strcmp0 (string_member (part, "name"), name) == 0)
        return string_member (part, "valueString");
    }
  return NULL;
}

static gboolean
is_blank (const char *text)
{
  if (text == NULL)
    return TRUE;
  for (const char *p = text; *p; p = g_utf8_next_char (p))
    if (!g_unichar_isspace (g_utf8_get_char (p)))
      return FALSE;
  return TRUE;
}

/* --- what the checks need to know about the patient ----------------------------------------- */

typedef struct
{
  char        *patient_ref;
  char        *encounter_ref;
  JsonNode    *patient_root;
  JsonNode    *encounter_root;
  WzRxPatient *patient;
  GPtrArray   *diagnoses;       /* WzRxDiagnosis */
  GHashTable  *conditions;      /* "Condition/ID" → JsonNode */
  GPtrArray   *lines;           /* WzRxLine */
  GPtrArray   *allergy_roots;   /* JsonNode, keeps nothing alive but counted for review */
  char        *today;
  gint64       age_days;
  gboolean     has_guardian;
  gboolean     followup_type;
  char        *encounter_start;
} Context;

static void
context_clear (Context *context)
{
  g_free (context->patient_ref);
  g_free (context->encounter_ref);
  g_clear_pointer (&context->patient_root, json_node_unref);
  g_clear_pointer (&context->encounter_root, json_node_unref);
  g_clear_pointer (&context->patient, wz_rx_patient_free);
  g_clear_pointer (&context->diagnoses, g_ptr_array_unref);
  g_clear_pointer (&context->conditions, g_hash_table_unref);
  g_clear_pointer (&context->lines, g_ptr_array_unref);
  g_clear_pointer (&context->allergy_roots, g_ptr_array_unref);
  g_free (context->today);
  g_free (context->encounter_start);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Context, context_clear)

/* Every resource of TYPE belonging to PATIENT_REF (up to MAX_RELATED), parsed. */
static GPtrArray *
related (WzRxRoutes  *self,
         const char  *type,
         const char  *patient_ref,
         const char  *extra,
         GError     **error)
{
  g_autoptr(GPtrArray) roots = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  guint offset = 0;

  for (;;)
    {
      g_autofree char *query_text = g_strdup_printf ("patient=%s&_count=%d&_offset=%u%s%s",
                                                     patient_ref, WZ_SEARCH_MAX_COUNT, offset,
                                                     extra ? "&" : "", extra ? extra : "");
      g_autoptr(WzSearchQuery) query = wz_search_query_parse (type, query_text, error);
      g_autoptr(WzStoreResult) result = NULL;

      if (query == NULL || (result = wz_store_search (self->store, query, error)) == NULL)
        return NULL;
      for (guint i = 0; i < result->resources->len; i++)
        {
          JsonNode *root = NULL;

          if (parse_stored (g_ptr_array_index (result->resources, i), &root) != NULL)
            g_ptr_array_add (roots, root);
        }
      offset += result->resources->len;
      if (result->resources->len == 0 || offset >= result->total || offset >= MAX_RELATED)
        break;
    }

  return g_steal_pointer (&roots);
}

static gboolean
verification_withdrawn (JsonObject *resource)
{
  JsonObject *verification = object_member (resource, "verificationStatus");

  return concept_has (verification, NULL, "entered-in-error") ||
         concept_has (verification, NULL, "refuted");
}

static void
add_allergies (Context   *context,
               GPtrArray *allergies)
{
  for (guint i = 0; i < allergies->len; i++)
    {
      JsonObject *allergy = json_node_get_object (g_ptr_array_index (allergies, i));
      JsonObject *code = object_member (allergy, "code");
      JsonArray *codings = array_member (code, "coding");
      g_autofree char *reference = g_strconcat ("AllergyIntolerance/",
                                                string_member (allergy, "id"), NULL);
      const char *text = string_member (code, "text");
      JsonObject *clinical = object_member (allergy, "clinicalStatus");

      if (verification_withdrawn (allergy) || concept_has (clinical, NULL, "inactive") ||
          concept_has (clinical, NULL, "resolved"))
        continue;

      if (codings == NULL || json_array_get_length (codings) == 0)
        wz_rx_patient_add_allergy (context->patient, NULL, NULL, text, reference);
      for (guint c = 0; codings != NULL && c < json_array_get_length (codings); c++)
        {
          JsonObject *coding = element_object (codings, c);

          if (coding == NULL)
            continue;
          wz_rx_patient_add_allergy (context->patient, string_member (coding, "code"),
                                     string_member (coding, "system"),
                                     text ? text : string_member (coding, "display"), reference);
        }
    }
}

static void
add_medications (Context    *context,
                 GPtrArray  *roots,
                 const char *type,
                 const char *status)
{
  for (guint i = 0; i < roots->len; i++)
    {
      JsonObject *resource = json_node_get_object (g_ptr_array_index (roots, i));
      JsonObject *medication = object_member (resource, "medicationCodeableConcept");
      JsonArray *codings = array_member (medication, "coding");
      g_autofree char *reference = g_strconcat (type, "/", string_member (resource, "id"), NULL);
      const char *drug = NULL;
      const char *atc = NULL;

      if (g_strcmp0 (string_member (resource, "status"), status) != 0)
        continue;
      for (guint c = 0; codings != NULL && c < json_array_get_length (codings); c++)
        {
          JsonObject *coding = element_object (codings, c);
          const char *system = string_member (coding, "system");

          if (g_strcmp0 (system, WZ_FORMULARY_SYSTEM) == 0)
            drug = string_member (coding, "code");
          else if (g_strcmp0 (system, WZ_ATC_SYSTEM) == 0)
            atc = string_member (coding, "code");
        }
      if (drug != NULL || atc != NULL)
        wz_rx_patient_add_medication (context->patient, drug, atc,
                                      string_member (medication, "text"), reference);
    }
}

static const char *const weight_codes[] = { "29463-7", "3141-9", NULL };
static const char *const egfr_codes[] = {
  "33914-3", "48642-3", "48643-1", "62238-1", "69405-9", "77147-7", "98979-8", NULL
};

static const char *
observation_date (JsonObject *observation)
{
  const char *date = string_member (observation, "effectiveDateTime");

  return date ? date : string_member (observation, "issued");
}

static void
add_observations (Context   *context,
                  GPtrArray *observations)
{
  const char *weight_date = NULL;
  const char *egfr_date = NULL;

  for (guint i = 0; i < observations->len; i++)
    {
      JsonObject *observation = json_node_get_object (g_ptr_array_index (observations, i));
      JsonObject *code = object_member (observation, "code");
      JsonObject *quantity = object_member (observation, "valueQuantity");
      const char *status = string_member (observation, "status");
      const char *date = observation_date (observation);
      double value = number_member (quantity, "value");

      if (g_strcmp0 (status, "entered-in-error") == 0 || g_strcmp0 (status, "cancelled") == 0)
        continue;

      for (guint c = 0; weight_codes[c] != NULL; c++)
        if (concept_has (code, LOINC, weight_codes[c]) && !isnan (value) &&
            (weight_date == NULL || g_strcmp0 (date, weight_date) > 0))
          {
            const char *unit = string_member (quantity, "code");

            context->patient->weight_kg = g_strcmp0 (unit, "g") == 0 ? value / 1000 : value;
            weight_date = date ? date : "";
          }
      for (guint c = 0; egfr_codes[c] != NULL; c++)
        if (concept_has (code, LOINC, egfr_codes[c]) && !isnan (value) &&
            (egfr_date == NULL || g_strcmp0 (date, egfr_date) > 0))
          {
            context->patient->egfr = value;
            egfr_date = date ? date : "";
          }
      /* Pregnancy status (LOINC 82810-3) answered "pregnant" (SNOMED 77386006). */
      if (concept_has (code, LOINC, "82810-3") &&
          concept_has (object_member (observation, "valueCodeableConcept"), SNOMED, "77386006"))
        context->patient->pregnant = TRUE;
    }
}

static void
add_conditions (Context   *context,
                GPtrArray *conditions)
{
  for (guint i = 0; i < conditions->len; i++)
    {
      JsonNode *root = g_ptr_array_index (conditions, i);
      JsonObject *condition = json_node_get_object (root);
      JsonObject *code = object_member (condition, "code");
      JsonArray *codings = array_member (code, "coding");
      g_autofree char *reference = g_strconcat ("Condition/", string_member (condition, "id"),
                                                NULL);
      JsonObject *clinical = object_member (condition, "clinicalStatus");
      gboolean current = !verification_withdrawn (condition) &&
                         !concept_has (clinical, NULL, "resolved") &&
                         !concept_has (clinical, NULL, "inactive") &&
                         !concept_has (clinical, NULL, "remission");

      g_hash_table_insert (context->conditions, g_strdup (reference), json_node_ref (root));
      if (!current)
        continue;

      for (guint c = 0; codings != NULL && c < json_array_get_length (codings); c++)
        {
          JsonObject *coding = element_object (codings, c);
          const char *value = string_member (coding, "code");
          const char *system = string_member (coding, "system");

          if (value == NULL)
            continue;
          wz_rx_patient_add_condition (context->patient, value, system,
                                       string_member (code, "text"), reference);
          if ((g_strcmp0 (system, ICD10) == 0 &&
               (value[0] == 'O' || g_str_has_prefix (value, "Z33") ||
                g_str_has_prefix (value, "Z34") || g_str_has_prefix (value, "Z35"))) ||
              (g_strcmp0 (system, SNOMED) == 0 && strcmp (value, "77386006") == 0))
            context->patient->pregnant = TRUE;
          if ((g_strcmp0 (system, ICD10) == 0 && g_str_has_prefix (value, "Z39.1")) ||
              (g_strcmp0 (system, SNOMED) == 0 && strcmp (value, "169750002") == 0))
            context->patient->lactating = TRUE;
        }
    }
}

static gint64
age_in_days (const char *birth_date,
             const char *today)
{
  g_autoptr(GDateTime) birth = NULL;
  g_autoptr(GDateTime) now = NULL;
  g_autofree char *birth_text = NULL;
  g_autofree char *today_text = NULL;

  if (birth_date == NULL || strlen (birth_date) != 10)
    return -1;
  birth_text = g_strconcat (birth_date, "T00:00:00Z", NULL);
  today_text = g_strconcat (today, "T00:00:00Z", NULL);
  birth = g_date_time_new_from_iso8601 (birth_text, NULL);
  now = g_date_time_new_from_iso8601 (today_text, NULL);
  if (birth == NULL || now == NULL || g_date_time_compare (birth, now) > 0)
    return -1;
  return g_date_time_difference (now, birth) / DAY_US;
}

static void
add_diagnosis (Context    *context,
               const char *reference)
{
  JsonNode *root = reference ? g_hash_table_lookup (context->conditions, reference) : NULL;

  if (root == NULL)
    return;
  for (guint i = 0; i < context->diagnoses->len; i++)
    if (g_strcmp0 (((WzRxDiagnosis *) g_ptr_array_index (context->diagnoses, i))->reference,
                   reference) == 0)
      return;
  g_ptr_array_add (context->diagnoses,
                   wz_rx_diagnosis_from_condition (json_node_get_object (root), reference));
}

/* Reads everything the checks and rules need for REQUESTS (JsonObject). FALSE with an error
 * (422 for references that do not hold together). */
static gboolean
load_context (WzRxRoutes  *self,
              GPtrArray   *requests,
              Context     *context,
              GError     **error)
{
  g_autoptr(WzStoredResource) patient = NULL;
  g_autoptr(GPtrArray) conditions = NULL;
  g_autoptr(GPtrArray) allergies = NULL;
  g_autoptr(GPtrArray) statements = NULL;
  g_autoptr(GPtrArray) active = NULL;
  g_autoptr(GPtrArray) observations = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  JsonObject *encounter = NULL;

  context->today = g_date_time_format (now, "%Y-%m-%d");
  context->lines = g_ptr_array_new_with_free_func ((GDestroyNotify) wz_rx_line_free);
  context->diagnoses = g_ptr_array_new_with_free_func ((GDestroyNotify) wz_rx_diagnosis_free);
  context->conditions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                               (GDestroyNotify) json_node_unref);
  context->patient = wz_rx_patient_new ();

  for (guint i = 0; i < requests->len; i++)
    {
      JsonObject *request = g_ptr_array_index (requests, i);
      const char *subject = reference_of (request, "subject");
      const char *visit = reference_of (request, "encounter");

      if (subject == NULL || !g_str_has_prefix (subject, "Patient/"))
        {
          g_set_error (error, WZ_ERROR, WZ_ERROR_UNPROCESSABLE,
                       "Line %u: subject must reference the Patient", i + 1);
          return FALSE;
        }
      if (context->patient_ref != NULL && strcmp (context->patient_ref, subject) != 0)
        {
          g_set_error (error, WZ_ERROR, WZ_ERROR_UNPROCESSABLE,
                       "Line %u is for %s, the others for %s: one prescription is for one "
                       "patient", i + 1, subject, context->patient_ref);
          return FALSE;
        }
      if (i > 0 && g_strcmp0 (context->encounter_ref, visit) != 0)
        {
          g_set_error (error, WZ_ERROR, WZ_ERROR_UNPROCESSABLE,
                       "Line %u names another encounter than line 1: one prescription belongs "
                       "to one visit", i + 1);
          return FALSE;
        }
      g_free (context->patient_ref);
      context->patient_ref = g_strdup (subject);
      g_free (context->encounter_ref);
      context->encounter_ref = g_strdup (visit);
      g_ptr_array_add (context->lines, wz_rx_line_from_medication_request (request));
    }
  if (context->patient_ref == NULL)
    {
      g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INVALID,
                           "Give at least one medicationRequest parameter");
      return FALSE;
    }

  if ((patient = wz_store_read (self->store, "Patient", context->patient_ref + 8, error)) == NULL ||
      parse_stored (patient, &context->patient_root) == NULL)
    {
      g_prefix_error (error, "%s: ", context->patient_ref);
      return FALSE;
    }
  context->age_days = age_in_days (string_member (json_node_get_object (context->patient_root),
                                                  "birthDate"), context->today);
  context->patient->age_days = context->age_days;
  context->patient->sex = string_member (json_node_get_object (context->patient_root), "gender");
  context->has_guardian = wz_rx_patient_has_guardian (json_node_get_object (context->patient_root));

  if (context->encounter_ref != NULL)
    {
      g_autoptr(WzStoredResource) stored = NULL;

      if (!g_str_has_prefix (context->encounter_ref, "Encounter/") ||
          (stored = wz_store_read (self->store, "Encounter", context->encounter_ref + 10,
                                   error)) == NULL ||
          parse_stored (stored, &context->encounter_root) == NULL)
        {
          g_clear_error (error);
          g_set_error (error, WZ_ERROR, WZ_ERROR_UNPROCESSABLE, "%s is not an Encounter here",
                       context->encounter_ref);
          return FALSE;
        }
      encounter = json_node_get_object (context->encounter_root);
      if (g_strcmp0 (reference_of (encounter, "subject"), context->patient_ref) != 0)
        {
          g_set_error (error, WZ_ERROR, WZ_ERROR_UNPROCESSABLE, "%s is not a visit of %s",
                       context->encounter_ref, context->patient_ref);
          return FALSE;
        }
      context->encounter_start = g_strdup (string_member (object_member (encounter, "period"),
                                                          "start"));
      {
        JsonArray *types = array_member (encounter, "type");

        for (guint i = 0; types != NULL && i < json_array_get_length (types); i++)
          if (concept_has (element_object (types, i),
                           "http://terminology.hl7.org/CodeSystem/v2-0276", "FOLLOWUP") ||
              concept_has (element_object (types, i), SNOMED, "390906007"))
            context->followup_type = TRUE;
      }
    }

  if ((conditions = related (self, "Condition", context->patient_ref, NULL, error)) == NULL ||
      (allergies = related (self, "AllergyIntolerance", context->patient_ref, NULL,
                            error)) == NULL ||
      (statements = related (self, "MedicationStatement", context->patient_ref, "status=active",
                             error)) == NULL ||
      (active = related (self, "MedicationRequest", context->patient_ref, "status=active",
                         error)) == NULL ||
      (observations = related (self, "Observation", context->patient_ref, NULL, error)) == NULL)
    return FALSE;

  add_conditions (context, conditions);
  add_allergies (context, allergies);
  add_medications (context, statements, "MedicationStatement", "active");
  add_medications (context, active, "MedicationRequest", "active");
  add_observations (context, observations);

  /* The diagnoses: what the lines give as their reason, and the encounter's diagnoses. */
  for (guint i = 0; i < requests->len; i++)
    {
      JsonArray *reasons = array_member (g_ptr_array_index (requests, i), "reasonReference");

      for (guint r = 0; reasons != NULL && r < json_array_get_length (reasons); r++)
        {
          const char *reference = string_member (element_object (reasons, r), "reference");

          if (reference != NULL && g_hash_table_lookup (context->conditions, reference) == NULL)
            {
              g_set_error (error, WZ_ERROR, WZ_ERROR_UNPROCESSABLE,
                           "Line %u: reasonReference %s is not a Condition of %s", i + 1,
                           reference, context->patient_ref);
              return FALSE;
            }
          add_diagnosis (context, reference);
        }
    }
  {
    JsonArray *diagnoses = array_member (encounter, "diagnosis");

    for (guint i = 0; diagnoses != NULL && i < json_array_get_length (diagnoses); i++)
      add_diagnosis (context, reference_of (element_object (diagnoses, i), "condition"));
  }

  return TRUE;
}

static WzRxRulesContext
rules_context (Context *context)
{
  WzRxRulesContext rules = {
    .age_days = context->age_days,
    .has_guardian = context->has_guardian,
    .encounter = context->encounter_ref,
    .encounter_start = context->encounter_start,
    .encounter_is_followup = context->followup_type,
    .today = context->today,
    .diagnoses = context->diagnoses,
  };

  return rules;
}

static GHashTable *
read_overrides (JsonNode *parameters)
{
  GHashTable *overrides = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GPtrArray) list = parameters_named (parameters, "override");

  for (guint i = 0; i < list->len; i++)
    {
      const char *key = part_string (g_ptr_array_index (list, i), "key");
      const char *reason = part_string (g_ptr_array_index (list, i), "reason");

      if (key != NULL && !is_blank (reason))
        g_hash_table_insert (overrides, g_strdup (key), g_strdup (reason));
    }
  return overrides;
}

/* The MedicationRequest resources of PARAMETERS, or NULL with an answer sent. */
static GPtrArray *
read_requests (Request  *req,
               JsonNode *parameters)
{
  g_autoptr(GPtrArray) list = parameters_named (parameters, "medicationRequest");
  g_autoptr(GPtrArray) roots = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);

  if (list->len == 0)
    {
      fail_with (req, WZ_ERROR_INVALID,
                 "Give the prescription lines as parameters named medicationRequest");
      return NULL;
    }

  for (guint i = 0; i < list->len; i++)
    {
      JsonNode *resource = json_object_get_member (g_ptr_array_index (list, i), "resource");
      g_autofree char *text = resource ? json_to_string (resource, FALSE) : NULL;
      g_autoptr(GError) error = NULL;
      JsonNode *root;

      if (text == NULL ||
          (root = wz_fhir_parse_resource (text, -1, "MedicationRequest", NULL, &error)) == NULL)
        {
          fail_with (req, WZ_ERROR_INVALID, "medicationRequest %u: %s", i + 1,
                     error ? error->message : "a MedicationRequest resource is required");
          return NULL;
        }
      g_ptr_array_add (roots, root);
    }

  return g_steal_pointer (&roots);
}

static GPtrArray *
objects_of (GPtrArray *roots)
{
  GPtrArray *objects = g_ptr_array_new ();

  for (guint i = 0; i < roots->len; i++)
    g_ptr_array_add (objects, json_node_get_object (g_ptr_array_index (roots, i)));
  return objects;
}

static WzFormulary *
formulary_or_fail (Request *req)
{
  g_autoptr(GError) error = NULL;
  WzFormulary *formulary = wz_formulary_store_get (req->self->formulary, &error);

  if (formulary == NULL)
    fail (req, error);
  return formulary;
}

/* Doctors may prescribe for patients on their care team only. */
static gboolean
check_care_team (Request    *req,
                 const char *patient_ref)
{
  g_autofree char *practitioner = NULL;
  g_autoptr(GError) error = NULL;

  if (req->session->practitioner_id == NULL)
    {
      fail_with (req, WZ_ERROR_FORBIDDEN, "This account has no Practitioner record");
      return FALSE;
    }
  practitioner = g_strconcat ("Practitioner/", req->session->practitioner_id, NULL);
  if (wz_care_team_includes (req->self->care_team, patient_ref, practitioner, &error))
    return TRUE;
  if (error != NULL)
    fail (req, error);
  else
    fail_with (req, WZ_ERROR_NOT_FOUND, "%s is not a patient of yours", patient_ref);
  return FALSE;
}

/* --- $check ----------------------------------------------------------------------------------- */

static JsonObject *
violation_parameter (const WzRxViolation *violation)
{
  JsonObject *parameter = json_object_new ();
  JsonArray *parts = json_array_new ();
  struct { const char *name; const char *member; const char *value; } strings[] = {
    { "code", "valueCode", violation->code },
    { "key", "valueString", violation->key },
    { "message-en", "valueString", violation->message_en },
    { "message-zh", "valueString", violation->message_zh },
  };
  JsonObject *part;

  for (guint i = 0; i < G_N_ELEMENTS (strings); i++)
    {
      part = json_object_new ();
      json_object_set_string_member (part, "name", strings[i].name);
      json_object_set_string_member (part, strings[i].member, strings[i].value);
      json_array_add_object_element (parts, part);
    }
  part = json_object_new ();
  json_object_set_string_member (part, "name", "line");
  json_object_set_int_member (part, "valueInteger", violation->line + 1);
  json_array_add_object_element (parts, part);
  part = json_object_new ();
  json_object_set_string_member (part, "name", "overridable");
  json_object_set_boolean_member (part, "valueBoolean", violation->overridable);
  json_array_add_object_element (parts, part);

  json_object_set_string_member (parameter, "name", "violation");
  json_object_set_array_member (parameter, "part", parts);
  return parameter;
}

static void
op_check (Request *req)
{
  g_autoptr(JsonNode) parameters = NULL;
  g_autoptr(GPtrArray) roots = NULL;
  g_autoptr(GPtrArray) requests = NULL;
  g_autoptr(GPtrArray) findings = NULL;
  g_autoptr(GPtrArray) violations = NULL;
  g_autoptr(GHashTable) overrides = NULL;
  g_autoptr(JsonObject) answer = json_object_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *now = wz_time_format_instant (wz_time_now_us ());
  g_auto(Context) context = { 0 };
  WzRxRulesContext rules;
  WzFormulary *formulary;
  JsonArray *list;
  JsonObject *can_sign;

  if (g_strcmp0 (req->session->role, "doctor") != 0 &&
      g_strcmp0 (req->session->role, "pharmacist") != 0)
    {
      fail_with (req, WZ_ERROR_FORBIDDEN, "Only doctors and pharmacists check prescriptions");
      return;
    }
  if ((parameters = read_parameters (req)) == NULL ||
      (roots = read_requests (req, parameters)) == NULL ||
      (formulary = formulary_or_fail (req)) == NULL)
    return;

  requests = objects_of (roots);
  if (!load_context (req->self, requests, &context, &error))
    {
      fail (req, error);
      return;
    }
  req->patient = g_strdup (context.patient_ref);
  if (g_strcmp0 (req->session->role, "doctor") == 0 && !check_care_team (req, context.patient_ref))
    return;

  overrides = read_overrides (parameters);
  findings = wz_rx_check (formulary, context.patient, context.lines);
  rules = rules_context (&context);
  violations = wz_rx_rules_evaluate (formulary, &rules, context.lines, findings, overrides);

  list = json_array_new ();
  for (guint i = 0; i < findings->len; i++)
    {
      WzRxFinding *finding = g_ptr_array_index (findings, i);
      JsonObject *parameter = json_object_new ();

      json_object_set_string_member (parameter, "name", "issue");
      json_object_set_object_member (parameter, "resource",
                                     wz_rx_finding_to_detected_issue (finding, context.lines,
                                                                      "preliminary",
                                                                      context.patient_ref, NULL,
                                                                      now,
                                                                      g_hash_table_lookup (overrides,
                                                                                           finding->key)));
      json_array_add_object_element (list, parameter);
    }
  for (guint i = 0; i < violations->len; i++)
    json_array_add_object_element (list, violation_parameter (g_ptr_array_index (violations, i)));
  can_sign = json_object_new ();
  json_object_set_string_member (can_sign, "name", "can-sign");
  json_object_set_boolean_member (can_sign, "valueBoolean", violations->len == 0);
  json_array_add_object_element (list, can_sign);

  json_object_set_string_member (answer, "resourceType", "Parameters");
  json_object_set_array_member (answer, "parameter", list);
  respond_object (req, SOUP_STATUS_OK, answer);
}

/* --- $sign ------------------------------------------------------------------------------------ */

/* Events for what an operation stored, told to /ws only once its transaction has committed: a
 * client must never hear of a write that was then rolled back. */
typedef struct
{
  WzStoredResource *stored;     /* borrowed from the operation's answer */
  char             *encounter;
} Announcement;

static void
announcement_clear (gpointer data)
{
  g_free (((Announcement *) data)->encounter);
}

static GArray *
announcements_new (void)
{
  GArray *list = g_array_new (FALSE, FALSE, sizeof (Announcement));

  g_array_set_clear_func (list, announcement_clear);
  return list;
}

static void
announce (WzRxRoutes *self,
          GArray     *list)
{
  for (guint i = 0; i < list->len; i++)
    {
      Announcement *a = &g_array_index (list, Announcement, i);

      wz_ws_hub_publish (self->hub, a->stored, a->encounter);
    }
}

/* Validates RESOURCE as the FHIR routes would and stores it (create when ID is NULL), inside the
 * caller's store transaction; its event goes on LIST for announce() after the commit. */
static WzStoredResource *
store_resource (WzRxRoutes  *self,
                JsonObject  *resource,
                const char  *id,
                gint64       expected_version,
                GArray      *list,
                GError     **error)
{
  g_autoptr(JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  g_autoptr(JsonNode) checked = NULL;
  g_autofree char *text = NULL;
  WzStoredResource *stored;
  gboolean created;

  json_node_set_object (root, resource);
  text = json_to_string (root, FALSE);
  if ((checked = wz_fhir_parse_resource (text, -1, NULL, id, error)) == NULL)
    return NULL;

  if (id == NULL)
    stored = wz_store_create (self->store, json_node_get_object (checked), NULL, &created, error);
  else
    stored = wz_store_update (self->store, json_node_get_object (checked), id, expected_version,
                              error);
  if (stored != NULL)
    {
      Announcement a = { stored, g_strdup (reference_of (resource, "encounter")) };

      g_array_append_val (list, a);
    }
  return stored;
}

/* Ends the operation's transaction after a failed step: nothing of it stays, and the client
 * gets ERROR. */
static void
fail_rolled_back (Request *req,
                  GError  *error)
{
  wz_store_rollback (req->self->store);
  fail (req, error);
}

static void
set_signed_tag (JsonObject *request)
{
  JsonObject *meta = json_object_new ();
  JsonArray *tags = json_array_new ();
  JsonObject *tag = json_object_new ();
  JsonArray *old_tags = array_member (object_member (request, "meta"), "tag");

  for (guint i = 0; old_tags != NULL && i < json_array_get_length (old_tags); i++)
    json_array_add_element (tags, json_node_copy (json_array_get_element (old_tags, i)));
  json_object_set_string_member (tag, "system", WZ_RX_STATE_SYSTEM);
  json_object_set_string_member (tag, "code", "signed");
  json_object_set_string_member (tag, "display", "signed by the prescriber");
  json_array_add_object_element (tags, tag);
  json_object_set_array_member (meta, "tag", tags);
  json_object_set_object_member (request, "meta", meta);
}

static JsonObject *
approval_task (const char *patient_ref,
               const char *encounter_ref,
               const char *practitioner,
               GPtrArray  *stored_requests,
               const char *provenance_ref,
               const char *now)
{
  JsonObject *task = json_object_new ();
  JsonObject *code = json_object_new ();
  JsonArray *codings = json_array_new ();
  JsonObject *coding = json_object_new ();
  JsonArray *inputs = json_array_new ();
  WzStoredResource *first = g_ptr_array_index (stored_requests, 0);
  g_autofree char *focus = g_strconcat ("MedicationRequest/", first->id, NULL);

  json_object_set_string_member (task, "resourceType", "Task");
  json_object_set_string_member (task, "status", "requested");
  json_object_set_string_member (task, "intent", "order");
  json_object_set_string_member (coding, "system", WZ_TASK_CODE_SYSTEM);
  json_object_set_string_member (coding, "code", "approve");
  json_object_set_string_member (coding, "display", "Activate/approve the focal resource");
  json_array_add_object_element (codings, coding);
  json_object_set_array_member (code, "coding", codings);
  json_object_set_string_member (code, "text", "处方审核 Prescription review");
  json_object_set_object_member (task, "code", code);
  json_object_set_string_member (task, "description", "药师审核处方 Pharmacist review of a signed prescription");
  json_object_set_object_member (task, "focus", reference_object (focus));
  json_object_set_object_member (task, "for", reference_object (patient_ref));
  if (encounter_ref != NULL)
    json_object_set_object_member (task, "encounter", reference_object (encounter_ref));
  json_object_set_string_member (task, "authoredOn", now);
  json_object_set_string_member (task, "lastModified", now);
  json_object_set_object_member (task, "requester", reference_object (practitioner));

  for (guint i = 0; i < stored_requests->len; i++)
    {
      WzStoredResource *stored = g_ptr_array_index (stored_requests, i);
      g_autofree char *reference = g_strconcat ("MedicationRequest/", stored->id, NULL);
      JsonObject *input = json_object_new ();

      json_object_set_object_member (input, "type", text_concept ("MedicationRequest"));
      json_object_set_object_member (input, "valueReference", reference_object (reference));
      json_array_add_object_element (inputs, input);
    }
  {
    JsonObject *input = json_object_new ();

    json_object_set_object_member (input, "type", text_concept ("Provenance"));
    json_object_set_object_member (input, "valueReference", reference_object (provenance_ref));
    json_array_add_object_element (inputs, input);
  }
  json_object_set_array_member (task, "input", inputs);
  return task;
}

/* Checks each submitted draft against its stored version. FALSE with an answer sent. */
static gboolean
check_drafts (Request   *req,
              GPtrArray *requests,
              GArray    *versions)
{
  g_autofree char *me = g_strconcat ("Practitioner/", req->session->practitioner_id, NULL);

  for (guint i = 0; i < requests->len; i++)
    {
      JsonObject *request = g_ptr_array_index (requests, i);
      const char *id = string_member (request, "id");
      const char *version = string_member (object_member (request, "meta"), "versionId");
      g_autoptr(WzStoredResource) stored = NULL;
      g_autoptr(JsonNode) stored_root = NULL;
      g_autoptr(GError) error = NULL;
      JsonObject *current;
      gint64 expected;

      if (id == NULL || version == NULL)
        {
          fail_with (req, WZ_ERROR_UNPROCESSABLE,
                     "Line %u: save the draft first; a signature covers saved drafts (id and "
                     "meta.versionId)", i + 1);
          return FALSE;
        }
      if ((stored = wz_store_read (req->self->store, "MedicationRequest", id, &error)) == NULL)
        {
          fail (req, error);
          return FALSE;
        }
      current = parse_stored (stored, &stored_root);
      expected = g_ascii_strtoll (version, NULL, 10);
      if (expected != stored->version_id)
        {
          fail_with (req, WZ_ERROR_PRECONDITION_FAILED,
                     "MedicationRequest/%s changed since you opened it (version %" G_GINT64_FORMAT
                     " is current, you signed version %s); reload it and sign again", id,
                     stored->version_id, version);
          return FALSE;
        }
      if (current == NULL || is_signed (current) ||
          g_strcmp0 (string_member (current, "status"), "draft") != 0)
        {
          fail_with (req, WZ_ERROR_CONFLICT,
                     "MedicationRequest/%s is not an unsigned draft any more (status %s)", id,
                     current ? string_member (current, "status") : "?");
          return FALSE;
        }
      if (g_strcmp0 (string_member (request, "status"), "draft") != 0 ||
          g_strcmp0 (string_member (request, "intent"), "order") != 0)
        {
          fail_with (req, WZ_ERROR_UNPROCESSABLE,
                     "Line %u: a prescription line to sign has status draft and intent order",
                     i + 1);
          return FALSE;
        }
      if (g_strcmp0 (reference_of (request, "requester"), me) != 0)
        {
          fail_with (req, WZ_ERROR_UNPROCESSABLE,
                     "Line %u: requester must be you (%s), the doctor who signs", i + 1, me);
          return FALSE;
        }
      g_array_append_val (versions, expected);
    }
  return TRUE;
}

static void
op_sign (Request *req)
{
  WzRxRoutes *self = req->self;
  g_autoptr(JsonNode) parameters = NULL;
  g_autoptr(GPtrArray) roots = NULL;
  g_autoptr(GPtrArray) requests = NULL;
  g_autoptr(GPtrArray) findings = NULL;
  g_autoptr(GPtrArray) violations = NULL;
  g_autoptr(GHashTable) overrides = NULL;
  g_autoptr(GArray) versions = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GPtrArray) written = g_ptr_array_new_with_free_func ((GDestroyNotify) wz_stored_resource_free);
  g_autoptr(GPtrArray) signed_requests = g_ptr_array_new_with_free_func ((GDestroyNotify) wz_stored_resource_free);
  g_autoptr(GPtrArray) targets = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(JsonObject) provenance = NULL;
  g_autoptr(JsonObject) task = NULL;
  g_autoptr(WzStoredResource) stored_provenance = NULL;
  g_autoptr(WzStoredResource) stored_task = NULL;
  g_autoptr(GArray) announcements = announcements_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *me = NULL;
  g_autofree char *key = NULL;
  g_autofree char *payload = NULL;
  g_autofree char *provenance_ref = NULL;
  g_autofree char *now = NULL;
  g_auto(Context) context = { 0 };
  gint64 now_us = wz_time_now_us ();
  WzRxRulesContext rules;
  WzFormulary *formulary;
  const char *signature;
  gsize length;

  if (g_strcmp0 (req->session->role, "doctor") != 0)
    {
      fail_with (req, WZ_ERROR_FORBIDDEN, "Only doctors sign prescriptions; a %s cannot",
                 req->session->role);
      return;
    }
  if (req->session->practitioner_id == NULL)
    {
      fail_with (req, WZ_ERROR_FORBIDDEN, "This account has no Practitioner record");
      return;
    }
  me = g_strconcat ("Practitioner/", req->session->practitioner_id, NULL);

  if ((parameters = read_parameters (req)) == NULL ||
      (roots = read_requests (req, parameters)) == NULL ||
      (formulary = formulary_or_fail (req)) == NULL)
    return;
  requests = objects_of (roots);

  if (!load_context (self, requests, &context, &error))
    {
      fail (req, error);
      return;
    }
  req->patient = g_strdup (context.patient_ref);
  if (!check_care_team (req, context.patient_ref) || !check_drafts (req, requests, versions))
    return;
  if (context.encounter_ref == NULL)
    {
      fail_with (req, WZ_ERROR_UNPROCESSABLE,
                 "A prescription belongs to a visit: give the lines their encounter");
      return;
    }

  /* The server decides again, whatever the app showed. */
  overrides = read_overrides (parameters);
  findings = wz_rx_check (formulary, context.patient, context.lines);
  rules = rules_context (&context);
  violations = wz_rx_rules_evaluate (formulary, &rules, context.lines, findings, overrides);
  if (violations->len > 0)
    {
      respond_violations (req, violations);
      return;
    }

  if ((key = wz_formulary_store_current_key (self->formulary, me, &error)) == NULL)
    {
      if (error != NULL)
        fail (req, error);
      else
        fail_with (req, WZ_ERROR_UNPROCESSABLE,
                   "Register your signing key first: POST /fhir/%s/$register-key", me);
      return;
    }
  signature = parameter_string (parameters, "signature");
  if (signature == NULL)
    {
      fail_with (req, WZ_ERROR_UNPROCESSABLE, "The signature parameter is missing");
      return;
    }
  if ((payload = wz_signature_prescription_payload (requests, &length, &error)) == NULL ||
      !wz_signature_verify (key, payload, length, signature, &error))
    {
      g_prefix_error (&error, "The signature was refused: ");
      error->code = WZ_ERROR_UNPROCESSABLE;
      fail (req, error);
      return;
    }

  /* Store the drafts exactly as signed (marked signed), then the record of it: all of it or, if
   * any write fails or the server dies half way, none of it. */
  now = wz_time_format_instant (now_us);
  if (!wz_store_begin (self->store, &error))
    {
      fail (req, error);
      return;
    }
  for (guint i = 0; i < requests->len; i++)
    {
      JsonObject *request = g_ptr_array_index (requests, i);
      WzStoredResource *stored;

      set_signed_tag (request);
      stored = store_resource (self, request, string_member (request, "id"),
                               g_array_index (versions, gint64, i), announcements, &error);
      if (stored == NULL)
        {
          g_warning ("Signing stopped after %u of %u lines, nothing stored: %s", i,
                     requests->len, error->message);
          fail_rolled_back (req, error);
          return;
        }
      g_ptr_array_add (targets, g_strdup_printf ("MedicationRequest/%s/_history/%" G_GINT64_FORMAT,
                                                 stored->id, stored->version_id));
      g_ptr_array_add (signed_requests, stored);
    }

  provenance = wz_signature_provenance_new (targets, me, signature, key, now_us);
  if ((stored_provenance = store_resource (self, provenance, NULL, 0, announcements,
                                           &error)) == NULL)
    {
      fail_rolled_back (req, error);
      return;
    }
  provenance_ref = g_strconcat ("Provenance/", stored_provenance->id, NULL);

  for (guint i = 0; i < findings->len; i++)
    {
      WzRxFinding *finding = g_ptr_array_index (findings, i);
      g_autoptr(JsonObject) issue = NULL;
      WzStoredResource *stored;

      issue = wz_rx_finding_to_detected_issue (finding, context.lines, "final",
                                               context.patient_ref, me, now,
                                               g_hash_table_lookup (overrides, finding->key));
      if ((stored = store_resource (self, issue, NULL, 0, announcements, &error)) == NULL)
        {
          fail_rolled_back (req, error);
          return;
        }
      g_ptr_array_add (written, stored);
    }

  task = approval_task (context.patient_ref, context.encounter_ref, me, signed_requests,
                        provenance_ref, now);
  if ((stored_task = store_resource (self, task, NULL, 0, announcements, &error)) == NULL ||
      !wz_store_commit (self->store, &error))
    {
      g_warning ("Signing failed, nothing stored: %s", error->message);
      fail_rolled_back (req, error);
      return;
    }
  announce (self, announcements);

  set_entity (req, g_strconcat ("Task/", stored_task->id, NULL));
  g_ptr_array_insert (written, 0, g_steal_pointer (&stored_task));
  g_ptr_array_insert (written, 1, g_steal_pointer (&stored_provenance));
  for (guint i = 0; i < signed_requests->len; i++)
    g_ptr_array_insert (written, 2 + i, g_steal_pointer (&g_ptr_array_index (signed_requests, i)));
  respond_bundle (req, "collection", written);
}

/* --- the prescription behind a Task ---------------------------------------------------------- */

typedef struct
{
  WzStoredResource *task;
  JsonNode         *task_root;
  WzStoredResource *provenance;
  JsonNode         *provenance_root;
  GPtrArray        *requests;       /* WzStoredResource, current versions */
  GPtrArray        *request_roots;  /* JsonNode */
} Prescription;

static void
prescription_clear (Prescription *p)
{
  g_clear_pointer (&p->task, wz_stored_resource_free);
  g_clear_pointer (&p->task_root, json_node_unref);
  g_clear_pointer (&p->provenance, wz_stored_resource_free);
  g_clear_pointer (&p->provenance_root, json_node_unref);
  g_clear_pointer (&p->requests, g_ptr_array_unref);
  g_clear_pointer (&p->request_roots, g_ptr_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Prescription, prescription_clear)

static gboolean
load_prescription (WzRxRoutes   *self,
                   const char   *task_id,
                   Prescription *p,
                   GError      **error)
{
  JsonObject *task;
  JsonArray *inputs;

  p->requests = g_ptr_array_new_with_free_func ((GDestroyNotify) wz_stored_resource_free);
  p->request_roots = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);

  if ((p->task = wz_store_read (self->store, "Task", task_id, error)) == NULL)
    return FALSE;
  task = parse_stored (p->task, &p->task_root);
  if (task == NULL || !is_approval_task (task))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_NOT_FOUND,
                   "Task/%s is not a prescription approval task", task_id);
      return FALSE;
    }

  inputs = array_member (task, "input");
  for (guint i = 0; inputs != NULL && i < json_array_get_length (inputs); i++)
    {
      const char *reference = reference_of (element_object (inputs, i), "valueReference");
      WzStoredResource *stored = NULL;
      JsonNode *root = NULL;

      if (g_str_has_prefix (reference ? reference : "", "MedicationRequest/"))
        {
          if ((stored = wz_store_read (self->store, "MedicationRequest", reference + 18,
                                       error)) == NULL)
            return FALSE;
          g_ptr_array_add (p->requests, stored);
          parse_stored (stored, &root);
          g_ptr_array_add (p->request_roots, root);
        }
      else if (g_str_has_prefix (reference ? reference : "", "Provenance/"))
        {
          if ((p->provenance = wz_store_read (self->store, "Provenance", reference + 11,
                                              error)) == NULL)
            return FALSE;
          parse_stored (p->provenance, &p->provenance_root);
        }
    }

  if (p->provenance_root == NULL || p->requests->len == 0)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_CONFLICT,
                   "Task/%s names no signed prescription", task_id);
      return FALSE;
    }
  return TRUE;
}

/* Re-checks the signature against the versions it covers, read back from the history. With
 * UNCHANGED the current versions must be those very versions (nothing edited since signing). */
static gboolean
verify_prescription (WzRxRoutes   *self,
                     Prescription *p,
                     gboolean      unchanged,
                     GError      **error)
{
  JsonObject *provenance = json_node_get_object (p->provenance_root);
  JsonObject *sig = element_object (array_member (provenance, "signature"), 0);
  g_auto(GStrv) targets = wz_signature_provenance_targets (provenance);
  g_autoptr(GPtrArray) roots = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  g_autoptr(GPtrArray) objects = NULL;
  const char *signer = reference_of (sig, "who");
  const char *key = NULL;
  JsonArray *extensions = array_member (sig, "extension");

  for (guint i = 0; extensions != NULL && i < json_array_get_length (extensions); i++)
    if (g_strcmp0 (string_member (element_object (extensions, i), "url"),
                   WZ_SIGNATURE_KEY_EXTENSION) == 0)
      key = string_member (element_object (extensions, i), "valueBase64Binary");

  if (signer == NULL || key == NULL || targets == NULL ||
      !wz_formulary_store_key_was_registered (self->formulary, signer, key, error))
    {
      if (error != NULL && *error == NULL)
        g_set_error_literal (error, WZ_ERROR, WZ_ERROR_UNPROCESSABLE,
                             "The signature was not made with a key registered for its signer");
      return FALSE;
    }

  for (guint i = 0; targets[i] != NULL; i++)
    {
      g_auto(GStrv) parts = g_strsplit (targets[i], "/", 4);
      g_autoptr(WzStoredResource) version = NULL;
      guint64 number = 0;
      JsonNode *root = NULL;

      if (g_strv_length (parts) != 4 || strcmp (parts[0], "MedicationRequest") != 0 ||
          !g_ascii_string_to_unsigned (parts[3], 10, 1, G_MAXINT64, &number, NULL) ||
          (version = wz_store_vread (self->store, "MedicationRequest", parts[1], number,
                                     NULL)) == NULL ||
          parse_stored (version, &root) == NULL)
        {
          g_set_error (error, WZ_ERROR, WZ_ERROR_UNPROCESSABLE,
                       "The signed version %s cannot be read", targets[i]);
          return FALSE;
        }
      g_ptr_array_add (roots, root);

      if (unchanged)
        {
          gboolean current = FALSE;

          for (guint r = 0; r < p->requests->len; r++)
            {
              WzStoredResource *now = g_ptr_array_index (p->requests, r);

              current |= strcmp (now->id, parts[1]) == 0 && now->version_id == (gint64) number;
            }
          if (!current)
            {
              g_set_error (error, WZ_ERROR, WZ_ERROR_UNPROCESSABLE,
                           "MedicationRequest/%s changed after it was signed", parts[1]);
              return FALSE;
            }
        }
    }

  objects = objects_of (roots);
  return wz_signature_verify_provenance (provenance, objects, key, error);
}

static void
op_review (Request    *req,
           const char *task_id)
{
  g_auto(Prescription) p = { 0 };
  g_autoptr(GPtrArray) answer = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) verify_error = NULL;
  g_autoptr(WzStoredResource) patient = NULL;
  g_autoptr(WzStoredResource) verdict = NULL;
  g_autoptr(WzSearchQuery) query = NULL;
  g_autoptr(WzStoreResult) result = NULL;
  g_autofree char *query_text = NULL;
  const char *patient_ref;

  if (!load_prescription (req->self, task_id, &p, &error))
    {
      fail (req, error);
      return;
    }
  patient_ref = reference_of (json_node_get_object (p.task_root), "for");
  req->patient = g_strdup (patient_ref);
  if (g_strcmp0 (req->session->role, "pharmacist") != 0 &&
      (g_strcmp0 (req->session->role, "doctor") != 0 || !check_care_team (req, patient_ref)))
    {
      if (soup_server_message_get_status (req->msg) == 0)
        fail_with (req, WZ_ERROR_NOT_FOUND, "Task/%s is not a prescription of yours", task_id);
      return;
    }

  if (patient_ref == NULL ||
      (patient = wz_store_read (req->self->store, "Patient", patient_ref + 8, &error)) == NULL)
    {
      fail (req, error);
      return;
    }

  /* The verdict on the signature travels as an OperationOutcome entry. */
  verdict = g_new0 (WzStoredResource, 1);
  verdict->type = g_strdup ("OperationOutcome");
  verdict->id = g_strdup ("signature");
  verdict->json = verify_prescription (req->self, &p, FALSE, &verify_error)
                  ? wz_outcome_new ("information", "informational",
                                    "The signature verifies: the prescription is as the doctor "
                                    "signed it")
                  : wz_outcome_new ("error", "security", verify_error->message);

  g_ptr_array_add (answer, p.task);
  g_ptr_array_add (answer, patient);
  g_ptr_array_add (answer, p.provenance);
  for (guint i = 0; i < p.requests->len; i++)
    g_ptr_array_add (answer, g_ptr_array_index (p.requests, i));
  g_ptr_array_add (answer, verdict);

  /* The findings recorded when it was signed. */
  query_text = g_strdup_printf ("patient=%s&_count=%d", patient_ref, WZ_SEARCH_MAX_COUNT);
  query = wz_search_query_parse ("DetectedIssue", query_text, &error);
  if (query == NULL || (result = wz_store_search (req->self->store, query, &error)) == NULL)
    {
      fail (req, error);
      return;
    }
  for (guint i = 0; i < result->resources->len; i++)
    {
      WzStoredResource *stored = g_ptr_array_index (result->resources, i);
      gsize length;
      const char *data = g_bytes_get_data (stored->json, &length);

      for (guint r = 0; r < p.requests->len; r++)
        {
          WzStoredResource *line = g_ptr_array_index (p.requests, r);
          g_autofree char *needle = g_strdup_printf ("\"MedicationRequest/%s\"", line->id);

          if (g_strstr_len (data, length, needle) != NULL)
            {
              g_ptr_array_add (answer, stored);
              break;
            }
        }
    }

  set_entity (req, g_strconcat ("Task/", task_id, NULL));
  respond_bundle (req, "collection", answer);
}

static void
op_review_queue (Request *req)
{
  g_autoptr(WzSearchQuery) query = NULL;
  g_autoptr(WzStoreResult) result = NULL;
  g_autoptr(GPtrArray) tasks = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;

  if (g_strcmp0 (req->session->role, "pharmacist") != 0)
    {
      fail_with (req, WZ_ERROR_FORBIDDEN, "The review queue is the pharmacists'");
      return;
    }

  /* Oldest first: the store's default order is the order Tasks were created (signed) in. */
  query = wz_search_query_parse ("Task", "status=requested&_count=200", &error);
  if (query == NULL || (result = wz_store_search (req->self->store, query, &error)) == NULL)
    {
      fail (req, error);
      return;
    }
  for (guint i = 0; i < result->resources->len; i++)
    {
      WzStoredResource *stored = g_ptr_array_index (result->resources, i);
      g_autoptr(JsonNode) root = NULL;
      JsonObject *task = parse_stored (stored, &root);

      if (task != NULL && is_approval_task (task))
        g_ptr_array_add (tasks, stored);
    }

  set_entity (req, g_strdup ("Task?code=approve&status=requested"));
  respond_bundle (req, "searchset", tasks);
}

/* --- $approve, $reject, $cancel ------------------------------------------------------------- */

static gboolean
update_status (WzRxRoutes       *self,
               WzStoredResource *stored,
               JsonObject       *resource,
               const char       *status,
               const char       *reason,
               GPtrArray        *written,
               GArray           *announcements,
               GError          **error)
{
  WzStoredResource *updated;

  json_object_set_string_member (resource, "status", status);
  if (reason != NULL)
    json_object_set_object_member (resource, "statusReason", text_concept (reason));
  updated = store_resource (self, resource, stored->id, stored->version_id, announcements, error);
  if (updated == NULL)
    return FALSE;
  g_ptr_array_add (written, updated);
  return TRUE;
}

static void
op_review_decision (Request    *req,
                    const char *task_id,
                    gboolean    approve)
{
  WzRxRoutes *self = req->self;
  g_auto(Prescription) p = { 0 };
  g_autoptr(JsonNode) parameters = NULL;
  g_autoptr(GPtrArray) written = g_ptr_array_new_with_free_func ((GDestroyNotify) wz_stored_resource_free);
  g_autoptr(GArray) announcements = announcements_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *me = NULL;
  g_autofree char *now = wz_time_format_instant (wz_time_now_us ());
  g_autofree char *reason_text = NULL;
  const char *reason = NULL;
  const char *note = NULL;
  JsonObject *task;

  set_entity (req, g_strconcat ("Task/", task_id, NULL));
  if (g_strcmp0 (req->session->role, "pharmacist") != 0)
    {
      fail_with (req, WZ_ERROR_FORBIDDEN,
                 "Only a pharmacist reviews prescriptions; a %s cannot %s one",
                 req->session->role, approve ? "approve" : "reject");
      return;
    }
  if (req->session->practitioner_id == NULL)
    {
      fail_with (req, WZ_ERROR_FORBIDDEN, "This account has no Practitioner record");
      return;
    }
  me = g_strconcat ("Practitioner/", req->session->practitioner_id, NULL);

  if ((parameters = read_parameters (req)) == NULL)
    return;
  reason = parameter_string (parameters, "reason");
  note = parameter_string (parameters, "note");
  if (!approve && is_blank (reason))
    {
      fail_with (req, WZ_ERROR_INVALID,
                 "A rejection needs a reason for the doctor (parameter reason)");
      return;
    }

  if (!load_prescription (self, task_id, &p, &error))
    {
      fail (req, error);
      return;
    }
  task = json_node_get_object (p.task_root);
  req->patient = g_strdup (reference_of (task, "for"));
  if (g_strcmp0 (string_member (task, "status"), "requested") != 0)
    {
      fail_with (req, WZ_ERROR_CONFLICT, "Task/%s was already dealt with (status %s)", task_id,
                 string_member (task, "status"));
      return;
    }
  if (g_strcmp0 (reference_of (task, "requester"), me) == 0)
    {
      fail_with (req, WZ_ERROR_FORBIDDEN,
                 "You signed this prescription; another pharmacist must review it");
      return;
    }
  if (approve && !verify_prescription (self, &p, TRUE, &error))
    {
      fail_with (req, WZ_ERROR_CONFLICT,
                 "The prescription cannot be approved: its signature does not verify (%s)",
                 error->message);
      return;
    }

  if (!approve)
    reason_text = g_strconcat ("药师退回 Rejected by the pharmacist: ", reason, NULL);
  /* The lines and the Task change together or not at all. */
  if (!wz_store_begin (self->store, &error))
    {
      fail (req, error);
      return;
    }
  for (guint i = 0; i < p.requests->len; i++)
    {
      JsonObject *request = json_node_get_object (g_ptr_array_index (p.request_roots, i));

      /* A line the doctor cancelled meanwhile stays cancelled. */
      if (g_strcmp0 (string_member (request, "status"), "draft") != 0)
        continue;
      if (!update_status (self, g_ptr_array_index (p.requests, i), request,
                          approve ? "active" : "cancelled", reason_text, written,
                          announcements, &error))
        {
          fail_rolled_back (req, error);
          return;
        }
    }

  json_object_set_object_member (task, "owner", reference_object (me));
  json_object_set_string_member (task, "lastModified", now);
  if (note != NULL && !is_blank (note))
    {
      JsonArray *notes = json_array_new ();
      JsonObject *annotation = json_object_new ();

      json_object_set_string_member (annotation, "text", note);
      json_object_set_object_member (annotation, "authorReference", reference_object (me));
      json_object_set_string_member (annotation, "time", now);
      json_array_add_object_element (notes, annotation);
      json_object_set_array_member (task, "note", notes);
    }
  if (!update_status (self, p.task, task, approve ? "completed" : "rejected",
                      approve ? NULL : reason, written, announcements, &error) ||
      !wz_store_commit (self->store, &error))
    {
      fail_rolled_back (req, error);
      return;
    }
  announce (self, announcements);

  /* The Task first, as in $sign. */
  g_ptr_array_insert (written, 0, g_ptr_array_steal_index (written, written->len - 1));
  respond_bundle (req, "collection", written);
}

static void
op_cancel (Request    *req,
           const char *id)
{
  WzRxRoutes *self = req->self;
  g_autoptr(JsonNode) parameters = NULL;
  g_autoptr(WzStoredResource) stored = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GPtrArray) written = g_ptr_array_new_with_free_func ((GDestroyNotify) wz_stored_resource_free);
  g_autoptr(GArray) announcements = announcements_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *reference = g_strconcat ("MedicationRequest/", id, NULL);
  const char *reason;
  const char *status;
  JsonObject *request;

  set_entity (req, g_strdup (reference));
  if (g_strcmp0 (req->session->role, "doctor") != 0)
    {
      fail_with (req, WZ_ERROR_FORBIDDEN, "Only doctors cancel prescriptions");
      return;
    }
  if ((parameters = read_parameters (req)) == NULL)
    return;
  reason = parameter_string (parameters, "reason");
  if (is_blank (reason))
    {
      fail_with (req, WZ_ERROR_INVALID, "Cancelling needs a reason (parameter reason)");
      return;
    }
  if ((stored = wz_store_read (self->store, "MedicationRequest", id, &error)) == NULL)
    {
      fail (req, error);
      return;
    }
  request = parse_stored (stored, &root);
  req->patient = g_strdup (stored->patient);
  if (!check_care_team (req, reference_of (request, "subject")))
    return;
  status = string_member (request, "status");
  if (g_strcmp0 (status, "draft") != 0 && g_strcmp0 (status, "active") != 0 &&
      g_strcmp0 (status, "on-hold") != 0)
    {
      fail_with (req, WZ_ERROR_CONFLICT, "%s cannot be cancelled: its status is %s", reference,
                 status);
      return;
    }
  /* The line and an approval Task it leaves empty are closed together. */
  if (!wz_store_begin (self->store, &error))
    {
      fail (req, error);
      return;
    }
  if (!update_status (self, stored, request, "cancelled", reason, written, announcements, &error))
    {
      fail_rolled_back (req, error);
      return;
    }

  /* An approval Task left with nothing to approve is closed too. */
  {
    g_autofree char *query_text = g_strdup_printf ("patient=%s&status=requested&_count=%d",
                                                   stored->patient ? stored->patient : "",
                                                   WZ_SEARCH_MAX_COUNT);
    g_autoptr(WzSearchQuery) query = wz_search_query_parse ("Task", query_text, &error);
    g_autoptr(WzStoreResult) result = NULL;

    if (query == NULL || (result = wz_store_search (self->store, query, &error)) == NULL)
      {
        fail_rolled_back (req, error);
        return;
      }
    for (guint i = 0; i < result->resources->len; i++)
      {
        WzStoredResource *task_stored = g_ptr_array_index (result->resources, i);
        g_auto(Prescription) p = { 0 };
        gboolean named = FALSE;
        gboolean open = FALSE;

        if (!load_prescription (self, task_stored->id, &p, NULL))
          continue;
        for (guint r = 0; r < p.requests->len; r++)
          {
            JsonObject *line = json_node_get_object (g_ptr_array_index (p.request_roots, r));

            named |= g_strcmp0 (((WzStoredResource *) g_ptr_array_index (p.requests, r))->id, id) == 0;
            open |= g_strcmp0 (string_member (line, "status"), "draft") == 0;
          }
        if (named && !open &&
            !update_status (self, p.task, json_node_get_object (p.task_root), "cancelled",
                            reason, written, announcements, &error))
          {
            fail_rolled_back (req, error);
            return;
          }
      }
  }
  if (!wz_store_commit (self->store, &error))
    {
      fail_rolled_back (req, error);
      return;
    }
  announce (self, announcements);

  respond_bundle (req, "collection", written);
}

/* --- keys ------------------------------------------------------------------------------------- */

static void
op_register_key (Request    *req,
                 const char *practitioner_id)
{
  g_autoptr(JsonNode) parameters = NULL;
  g_autoptr(JsonObject) answer = json_object_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *practitioner = g_strconcat ("Practitioner/", practitioner_id, NULL);
  g_autofree guchar *decoded = NULL;
  JsonArray *list = json_array_new ();
  JsonObject *parameter = json_object_new ();
  const char *key;
  gsize length = 0;

  set_entity (req, g_strdup (practitioner));
  if (g_strcmp0 (req->session->role, "doctor") != 0 ||
      g_strcmp0 (req->session->practitioner_id, practitioner_id) != 0)
    {
      json_array_unref (list);
      json_object_unref (parameter);
      fail_with (req, WZ_ERROR_FORBIDDEN, "Doctors register their own signing key only");
      return;
    }
  if ((parameters = read_parameters (req)) == NULL)
    {
      json_array_unref (list);
      json_object_unref (parameter);
      return;
    }
  key = parameter_string (parameters, "publicKey");
  if (key != NULL)
    decoded = g_base64_decode (key, &length);
  if (key == NULL || length != 32)
    {
      json_array_unref (list);
      json_object_unref (parameter);
      fail_with (req, WZ_ERROR_INVALID,
                 "publicKey must be the base64 of a 32-byte Ed25519 public key");
      return;
    }
  if (!wz_formulary_store_register_key (req->self->formulary, practitioner, key, &error))
    {
      json_array_unref (list);
      json_object_unref (parameter);
      fail (req, error);
      return;
    }

  json_object_set_string_member (parameter, "name", "publicKey");
  json_object_set_string_member (parameter, "valueBase64Binary", key);
  json_array_add_object_element (list, parameter);
  json_object_set_string_member (answer, "resourceType", "Parameters");
  json_object_set_array_member (answer, "parameter", list);
  respond_object (req, SOUP_STATUS_OK, answer);
}

/* --- guards on the generic routes ------------------------------------------------------------- */

/* The request body as JSON, or NULL when it is not (the FHIR route then explains). */
static JsonNode *
body_json (SoupServerMessage *msg)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr(GBytes) bytes = soup_message_body_flatten (body);
  gsize length;
  const char *data = g_bytes_get_data (bytes, &length);

  if (length == 0 || !g_utf8_validate_len (data, length, NULL) || !depth_ok (data, length))
    return NULL;
  return json_from_string (data, NULL);
}

static gboolean
provenance_is_signature (JsonObject *provenance)
{
  JsonArray *signatures = array_member (provenance, "signature");
  JsonArray *targets = array_member (provenance, "target");

  for (guint i = 0; signatures != NULL && i < json_array_get_length (signatures); i++)
    if (g_strcmp0 (string_member (element_object (signatures, i), "sigFormat"),
                   WZ_SIGNATURE_FORMAT) == 0)
      return TRUE;
  for (guint i = 0; targets != NULL && i < json_array_get_length (targets); i++)
    {
      const char *reference = string_member (element_object (targets, i), "reference");

      if (reference != NULL && g_str_has_prefix (reference, "MedicationRequest/"))
        return TRUE;
    }
  return FALSE;
}

/* TRUE when the request was refused here (answer sent). */
static gboolean
guard (Request    *req,
       const char *method,
       const char *type,
       const char *id)
{
  g_autoptr(JsonNode) body = NULL;
  JsonObject *resource = NULL;

  if (method == SOUP_METHOD_POST || method == SOUP_METHOD_PUT)
    {
      body = body_json (req->msg);
      resource = body && JSON_NODE_HOLDS_OBJECT (body) ? json_node_get_object (body) : NULL;
    }
  req->action = method == SOUP_METHOD_POST ? "C" : method == SOUP_METHOD_PUT ? "U" : "D";
  req->entity = id ? g_strconcat (type, "/", id, NULL) : g_strdup (type);

  if (id != NULL && (method == SOUP_METHOD_PUT || method == SOUP_METHOD_DELETE) &&
      (strcmp (type, "MedicationRequest") == 0 || strcmp (type, "Task") == 0))
    {
      g_autoptr(WzStoredResource) stored = wz_store_read (req->self->store, type, id, NULL);
      g_autoptr(JsonNode) root = NULL;
      JsonObject *current = stored ? parse_stored (stored, &root) : NULL;

      /* What the user may not see is the generic route's to answer (404). */
      if (current != NULL &&
          !wz_care_team_may_see_stored (req->self->care_team, req->session, stored, NULL))
        return FALSE;
      if (current != NULL && strcmp (type, "MedicationRequest") == 0 && is_signed (current))
        {
          req->patient = g_strdup (stored->patient);
          fail_with (req, WZ_ERROR_CONFLICT,
                     "MedicationRequest/%s was signed and cannot be changed. Cancel it with "
                     "POST /fhir/MedicationRequest/%s/$cancel and a reason, then issue a new "
                     "prescription", id, id);
          return TRUE;
        }
      if (current != NULL && strcmp (type, "Task") == 0 && is_approval_task (current))
        {
          req->patient = g_strdup (stored->patient);
          fail_with (req, WZ_ERROR_CONFLICT,
                     "Task/%s is a prescription review; it is closed by $approve or $reject", id);
          return TRUE;
        }
    }

  if (resource == NULL)
    return FALSE;

  if (strcmp (type, "MedicationRequest") == 0 &&
      (g_strcmp0 (string_member (resource, "status"), "draft") != 0 || is_signed (resource)))
    {
      fail_with (req, WZ_ERROR_UNPROCESSABLE,
                 "A MedicationRequest is written as an unsigned draft (status draft); it becomes "
                 "active only through $sign and a pharmacist's $approve, and ends with $cancel");
      return TRUE;
    }
  if (strcmp (type, "Task") == 0 && is_approval_task (resource))
    {
      fail_with (req, WZ_ERROR_UNPROCESSABLE,
                 "Prescription review Tasks are made by MedicationRequest/$sign only");
      return TRUE;
    }
  if (strcmp (type, "Provenance") == 0 && provenance_is_signature (resource))
    {
      fail_with (req, WZ_ERROR_UNPROCESSABLE,
                 "Prescription signatures are recorded by MedicationRequest/$sign only");
      return TRUE;
    }
  return FALSE;
}

/* --- dispatch --------------------------------------------------------------------------------- */

static const WzSession *
lookup_session (WzRxRoutes        *self,
                SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *authorization = soup_message_headers_get_one (headers, "Authorization");

  if (authorization != NULL && g_ascii_strncasecmp (authorization, "Bearer ", 7) == 0)
    return wz_auth_lookup (self->auth, authorization + 7);
  return NULL;
}

/* The generic FHIR handler owns /fhir, and libsoup picks handlers by path prefix, so operations
 * on instances (Task/ID/$approve) cannot get a handler of their own. "request-read" runs before
 * any handler: an operation answered here never reaches the generic one. */
static void
on_request_read (SoupServer        *server,
                 SoupServerMessage *msg,
                 WzRxRoutes        *self)
{
  const char *path = g_uri_get_path (soup_server_message_get_uri (msg));
  const char *method = soup_server_message_get_method (msg);
  g_auto(GStrv) parts = NULL;
  guint n;
  Request req = { self, msg, NULL, NULL, "E", NULL, NULL };
  const char *operation;

  if (!g_str_has_prefix (path, "/fhir/"))
    return;
  parts = g_strsplit (path + 6, "/", 4);
  n = g_strv_length (parts);
  if (n == 0)
    return;

  operation = parts[n - 1][0] == '$' ? parts[n - 1] : NULL;
  if (operation == NULL)
    {
      /* Writes the prescription workflow owns. */
      if ((method != SOUP_METHOD_POST && method != SOUP_METHOD_PUT &&
           method != SOUP_METHOD_DELETE) || n > 2 ||
          (strcmp (parts[0], "MedicationRequest") != 0 && strcmp (parts[0], "Task") != 0 &&
           strcmp (parts[0], "Provenance") != 0))
        return;
      if ((req.session = lookup_session (self, msg)) == NULL)
        return;
      req.agent = req.session->practitioner_id
                  ? g_strconcat ("Practitioner/", req.session->practitioner_id, NULL)
                  : g_strdup (req.session->username);
      guard (&req, method, parts[0], n == 2 ? parts[1] : NULL);
      request_clear (&req);
      return;
    }

  if (!((n == 2 && strcmp (parts[0], "MedicationRequest") == 0 &&
         (strcmp (operation, "$check") == 0 || strcmp (operation, "$sign") == 0)) ||
        (n == 3 && strcmp (parts[0], "MedicationRequest") == 0 &&
         strcmp (operation, "$cancel") == 0) ||
        (n == 3 && strcmp (parts[0], "Practitioner") == 0 &&
         strcmp (operation, "$register-key") == 0) ||
        (n == 2 && strcmp (parts[0], "Task") == 0 && strcmp (operation, "$review-queue") == 0) ||
        (n == 3 && strcmp (parts[0], "Task") == 0 &&
         (strcmp (operation, "$review") == 0 || strcmp (operation, "$approve") == 0 ||
          strcmp (operation, "$reject") == 0))))
    return;

  if ((req.session = lookup_session (self, msg)) == NULL)
    {
      /* The generic route answers 401 the same way for everything under /fhir. */
      return;
    }
  req.agent = req.session->practitioner_id
              ? g_strconcat ("Practitioner/", req.session->practitioner_id, NULL)
              : g_strdup (req.session->username);
  req.entity = g_strconcat (parts[0], "/", n == 3 ? parts[1] : "", n == 3 ? "/" : "", operation,
                            NULL);

  if (n == 3 && !wz_fhir_id_is_valid (parts[1]))
    fail_with (&req, WZ_ERROR_INVALID, "“%s” is not a valid id", parts[1]);
  else if ((strcmp (operation, "$review") == 0 || strcmp (operation, "$review-queue") == 0)
           ? method != SOUP_METHOD_GET : method != SOUP_METHOD_POST)
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow",
                                    method == SOUP_METHOD_GET ? "POST" : "GET");
      fail_with (&req, WZ_ERROR_METHOD_NOT_ALLOWED, "%s %s is not supported", method, operation);
    }
  else if (strcmp (operation, "$check") == 0)
    op_check (&req);
  else if (strcmp (operation, "$sign") == 0)
    op_sign (&req);
  else if (strcmp (operation, "$cancel") == 0)
    op_cancel (&req, parts[1]);
  else if (strcmp (operation, "$register-key") == 0)
    op_register_key (&req, parts[1]);
  else if (strcmp (operation, "$review-queue") == 0)
    op_review_queue (&req);
  else if (strcmp (operation, "$review") == 0)
    op_review (&req, parts[1]);
  else
    op_review_decision (&req, parts[1], strcmp (operation, "$approve") == 0);

  request_clear (&req);
}

/* --- /formulary ------------------------------------------------------------------------------- */

static void
add_number (JsonObject *object,
            const char *name,
            double      value)
{
  if (!isnan (value))
    json_object_set_double_member (object, name, value);
}

static JsonObject *
drug_to_json (const WzDrug *drug)
{
  JsonObject *object = json_object_new ();
  JsonArray *classes = json_array_new ();

  json_object_set_string_member (object, "code", drug->code);
  json_object_set_string_member (object, "system", WZ_FORMULARY_SYSTEM);
  json_object_set_string_member (object, "generic_name_zh", drug->generic_name_zh);
  json_object_set_string_member (object, "generic_name_en", drug->generic_name_en);
  json_object_set_string_member (object, "brand_name_zh", drug->brand_name_zh);
  json_object_set_string_member (object, "pinyin_initials", drug->pinyin_initials);
  json_object_set_string_member (object, "atc_code", drug->atc_code);
  json_object_set_string_member (object, "form", drug->form);
  json_object_set_double_member (object, "strength", drug->strength);
  json_object_set_string_member (object, "strength_unit", drug->strength_unit);
  json_object_set_string_member (object, "route", drug->route);
  json_object_set_string_member (object, "dose_unit", drug->dose_unit);
  add_number (object, "adult_usual_daily_dose", drug->adult_usual_daily_dose);
  add_number (object, "adult_max_daily_dose", drug->adult_max_daily_dose);
  add_number (object, "child_usual_mg_per_kg_day", drug->child_usual_mg_per_kg_day);
  add_number (object, "child_max_mg_per_kg_day", drug->child_max_mg_per_kg_day);
  add_number (object, "min_age_years", drug->min_age_years);
  json_object_set_string_member (object, "controlled_class",
                                 wz_controlled_class_to_string (drug->controlled_class));
  json_object_set_string_member (object, "pregnancy", wz_use_flag_to_string (drug->pregnancy));
  json_object_set_string_member (object, "lactation", wz_use_flag_to_string (drug->lactation));
  json_object_set_string_member (object, "renal_adjust",
                                 drug->renal_adjust == WZ_RENAL_YES ? "yes"
                                 : drug->renal_adjust == WZ_RENAL_NO ? "no" : "unknown");
  for (guint i = 0; drug->allergy_classes && drug->allergy_classes[i] != NULL; i++)
    json_array_add_string_element (classes, drug->allergy_classes[i]);
  json_object_set_array_member (object, "allergy_classes", classes);
  json_object_set_boolean_member (object, "chronic", drug->chronic);
  return object;
}

static void
formulary_handler (SoupServer        *server,
                   SoupServerMessage *msg,
                   const char        *path,
                   GHashTable        *query,
                   gpointer           user_data)
{
  WzRxRoutes *self = user_data;
  const WzSession *session = lookup_session (self, msg);
  g_autoptr(JsonObject) answer = json_object_new ();
  g_autoptr(JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  WzFormulary *formulary;
  gsize length;

  if (session == NULL)
    {
      wz_http_respond_problem (msg, WZ_ERROR_UNAUTHORIZED,
                               "Sign in first: send Authorization: Bearer TOKEN");
      return;
    }
  if (g_strcmp0 (session->role, "doctor") != 0 && g_strcmp0 (session->role, "pharmacist") != 0)
    {
      wz_http_respond_problem (msg, WZ_ERROR_FORBIDDEN,
                               "The formulary is for doctors and pharmacists");
      return;
    }
  if (soup_server_message_get_method (msg) != SOUP_METHOD_GET)
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow",
                                    "GET");
      wz_http_respond_problem (msg, WZ_ERROR_METHOD_NOT_ALLOWED, "Only GET on /formulary");
      return;
    }
  if ((formulary = wz_formulary_store_get (self->formulary, &error)) == NULL)
    {
      wz_http_respond_error (msg, error);
      return;
    }

  if (g_str_has_prefix (path, "/formulary/"))
    {
      const WzDrug *drug = wz_formulary_lookup (formulary, path + 11);

      if (drug == NULL)
        {
          wz_http_respond_problem (msg, WZ_ERROR_NOT_FOUND, "No product %s in the formulary",
                                   path + 11);
          return;
        }
      g_clear_pointer (&answer, json_object_unref);
      answer = drug_to_json (drug);
    }
  else
    {
      const char *q = query ? g_hash_table_lookup (query, "q") : NULL;
      const char *count_text = query ? g_hash_table_lookup (query, "_count") : NULL;
      guint64 count = 20;
      g_autoptr(GArray) hits = NULL;
      JsonArray *drugs = json_array_new ();
      guint total = 0;

      if (count_text != NULL &&
          !g_ascii_string_to_unsigned (count_text, 10, 1, 200, &count, NULL))
        {
          json_array_unref (drugs);
          wz_http_respond_problem (msg, WZ_ERROR_INVALID, "_count must be 1 to 200, not “%s”",
                                   count_text);
          return;
        }
      hits = wz_formulary_search (formulary, q, count, &total);
      for (guint i = 0; i < hits->len; i++)
        json_array_add_object_element (drugs, drug_to_json (g_array_index (hits, WzFormularyHit,
                                                                           i).drug));
      json_object_set_int_member (answer, "total", total);
      json_object_set_boolean_member (answer, "sample",
                                      wz_formulary_store_is_sample (self->formulary));
      json_object_set_array_member (answer, "drugs", drugs);
    }

  json_node_set_object (root, answer);
  text = json_to_string (root, FALSE);
  length = strlen (text);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE,
                                    g_steal_pointer (&text), length);
}

/* --- object ---------------------------------------------------------------------------------- */

static void
wz_rx_routes_dispose (GObject *object)
{
  WzRxRoutes *self = WZ_RX_ROUTES (object);

  g_clear_object (&self->store);
  g_clear_object (&self->auth);
  g_clear_object (&self->audit);
  g_clear_object (&self->care_team);
  g_clear_object (&self->hub);
  g_clear_object (&self->formulary);

  G_OBJECT_CLASS (wz_rx_routes_parent_class)->dispose (object);
}

static void
wz_rx_routes_class_init (WzRxRoutesClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = wz_rx_routes_dispose;
}

static void
wz_rx_routes_init (WzRxRoutes *self)
{
}

gboolean
wz_rx_routes_setup (SoupServer  *server,
                    WzStore     *store,
                    WzAuth      *auth,
                    WzAudit     *audit,
                    WzCareTeam  *care_team,
                    WzWsHub     *hub,
                    const char  *data_dir,
                    GError     **error)
{
  g_autoptr(WzRxRoutes) self = g_object_new (WZ_TYPE_RX_ROUTES, NULL);

  if ((self->formulary = wz_formulary_store_open (data_dir, NULL, error)) == NULL)
    return FALSE;
  self->store = g_object_ref (store);
  self->auth = g_object_ref (auth);
  self->audit = g_object_ref (audit);
  self->care_team = g_object_ref (care_team);
  self->hub = g_object_ref (hub);

  soup_server_add_handler (server, "/formulary", formulary_handler, g_object_ref (self),
                           g_object_unref);
  g_signal_connect_object (server, "request-read", G_CALLBACK (on_request_read), self, 0);
  g_object_set_data_full (G_OBJECT (server), "wz-rx-routes", g_steal_pointer (&self),
                          g_object_unref);
  return TRUE;
}
