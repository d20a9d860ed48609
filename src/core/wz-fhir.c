/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-fhir"

#include "config.h"

#include "wz-fhir.h"

#include <string.h>

#include "wz-error.h"
#include "wz-time.h"

#define CONDITION_VERIFICATION "http://terminology.hl7.org/CodeSystem/condition-ver-status"
#define ALLERGY_VERIFICATION "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"

/* The types DESIGN.md lists, nothing more: the CapabilityStatement is built from this table. */
static const WzFhirTypeInfo type_infos[] = {
  { "Patient", NULL, NULL, "generalPractitioner.reference", "active", "active",
    "birthdate", "birthDate", TRUE, WZ_FHIR_RETIRE_INACTIVE, NULL, TRUE, FALSE },
  { "Practitioner", NULL, NULL, NULL, "active", "active",
    NULL, NULL, TRUE, WZ_FHIR_RETIRE_INACTIVE, NULL, FALSE, TRUE },
  { "Appointment", "participant.actor.reference", NULL, "participant.actor.reference",
    "status", "status", "date", "start", FALSE, WZ_FHIR_RETIRE_STATUS, "entered-in-error",
    TRUE, FALSE },
  { "Encounter", "subject.reference", NULL, "participant.individual.reference",
    "status", "status", "date", "period.start", FALSE, WZ_FHIR_RETIRE_STATUS, "entered-in-error",
    TRUE, FALSE, NULL, NULL, NULL, "priority.coding.code" },
  /* A Task's date is when it is due: the follow-up due-date extension (the only top-level
   * extension with a valueDate), else the start of restriction.period. */
  { "Task", "for.reference", "encounter.reference", "owner.reference,requester.reference",
    "status", "status", "due-date", "extension.valueDate,restriction.period.start", FALSE,
    WZ_FHIR_RETIRE_STATUS, "entered-in-error",
    FALSE, FALSE, "code", "code.coding", NULL, NULL,
    "owner=owner.reference;focus=focus.reference;based-on=basedOn.reference" },
  { "Condition", "subject.reference", "encounter.reference", "recorder.reference,asserter.reference",
    "clinical-status", "clinicalStatus.coding.code", "date", "recordedDate,onsetDateTime", FALSE,
    WZ_FHIR_RETIRE_VERIFICATION, CONDITION_VERIFICATION,
    FALSE, FALSE, "code", "code.coding", "category.coding", NULL },
  { "AllergyIntolerance", "patient.reference", "encounter.reference",
    "recorder.reference,asserter.reference", "clinical-status", "clinicalStatus.coding.code",
    "date", "recordedDate", FALSE, WZ_FHIR_RETIRE_VERIFICATION, ALLERGY_VERIFICATION,
    FALSE, FALSE, "code", "code.coding", "category", NULL },
  { "Observation", "subject.reference", "encounter.reference", "performer.reference",
    "status", "status", "date", "effectiveDateTime,effectivePeriod.start,issued", FALSE,
    WZ_FHIR_RETIRE_STATUS, "entered-in-error",
    FALSE, FALSE, "code", "code.coding", "category.coding", NULL },
  { "MedicationStatement", "subject.reference", "context.reference", "informationSource.reference",
    "status", "status", "date", "effectiveDateTime,dateAsserted", FALSE,
    WZ_FHIR_RETIRE_STATUS, "entered-in-error",
    FALSE, FALSE, "code", "medicationCodeableConcept.coding", "category.coding", NULL },
  { "DocumentReference", "subject.reference", "context.encounter.reference", "author.reference",
    "status", "status", "date", "date", FALSE, WZ_FHIR_RETIRE_STATUS, "entered-in-error",
    FALSE, FALSE, "type", "type.coding", "category.coding", NULL },
  { "Communication", "subject.reference", "encounter.reference",
    "sender.reference,recipient.reference", "status", "status", "date", "sent", FALSE,
    WZ_FHIR_RETIRE_STATUS, "entered-in-error" },
  { "Binary", NULL, NULL, NULL, NULL, NULL, NULL, NULL, FALSE, WZ_FHIR_RETIRE_NONE, NULL },
  { "MedicationRequest", "subject.reference", "encounter.reference",
    "requester.reference,performer.reference", "status", "status", "date", "authoredOn", FALSE,
    WZ_FHIR_RETIRE_STATUS, "entered-in-error",
    FALSE, FALSE, "code", "medicationCodeableConcept.coding", "category.coding", NULL },
  { "Provenance", "target.reference", NULL, "agent.who.reference", NULL, NULL,
    "date", "recorded", FALSE, WZ_FHIR_RETIRE_NONE, NULL },
  { "DetectedIssue", "patient.reference", NULL, "author.reference", "status", "status",
    "date", "identifiedDateTime", FALSE, WZ_FHIR_RETIRE_STATUS, "entered-in-error" },
  { "CarePlan", "subject.reference", "encounter.reference", "author.reference", "status", "status",
    "date", "period.start,created", FALSE, WZ_FHIR_RETIRE_STATUS, "entered-in-error" },
  { "ServiceRequest", "subject.reference", "encounter.reference",
    "requester.reference,performer.reference", "status", "status", "date", "authoredOn", FALSE,
    WZ_FHIR_RETIRE_STATUS, "entered-in-error" },
  { "Composition", "subject.reference", "encounter.reference", "author.reference",
    "status", "status", "date", "date", FALSE, WZ_FHIR_RETIRE_STATUS, "entered-in-error" },
  { "Immunization", "patient.reference", "encounter.reference", "performer.actor.reference",
    "status", "status", "date", "occurrenceDateTime", FALSE,
    WZ_FHIR_RETIRE_STATUS, "entered-in-error" },
  { "ImmunizationRecommendation", "patient.reference", NULL, NULL, NULL, NULL,
    "date", "date", FALSE, WZ_FHIR_RETIRE_NONE, NULL },
  { "Questionnaire", NULL, NULL, NULL, "status", "status", "date", "date", FALSE,
    WZ_FHIR_RETIRE_STATUS, "retired", FALSE, TRUE },
  { "QuestionnaireResponse", "subject.reference", "encounter.reference", "author.reference",
    "status", "status", "date", "authored", FALSE, WZ_FHIR_RETIRE_STATUS, "entered-in-error" },
  { "AdverseEvent", "subject.reference", "encounter.reference", "recorder.reference",
    NULL, NULL, "date", "date", FALSE, WZ_FHIR_RETIRE_NONE, NULL,
    FALSE, FALSE, "event", "event.coding", "category.coding", NULL,
    "substance=suspectEntity.instance.reference" },
  { "AuditEvent", "entity.what.reference", NULL, "agent.who.reference", NULL, NULL,
    "date", "recorded", FALSE, WZ_FHIR_RETIRE_NONE, NULL },
  { "Consent", "patient.reference", NULL, "performer.reference", "status", "status",
    "date", "dateTime", FALSE, WZ_FHIR_RETIRE_STATUS, "entered-in-error" },
  /* Alerts the care team to a safety concern, e.g. a red flag in the pre-consultation. */
  { "Flag", "subject.reference", "encounter.reference", "author.reference", "status", "status",
    "date", "period.start", FALSE, WZ_FHIR_RETIRE_STATUS, "entered-in-error",
    FALSE, FALSE, "code", "code.coding", "category.coding", NULL },
};

const WzFhirTypeInfo *
wz_fhir_type_infos (guint *out_n_types)
{
  *out_n_types = G_N_ELEMENTS (type_infos);
  return type_infos;
}

const WzFhirTypeInfo *
wz_fhir_type_info (const char *type)
{
  if (type == NULL)
    return NULL;

  for (guint i = 0; i < G_N_ELEMENTS (type_infos); i++)
    if (strcmp (type_infos[i].name, type) == 0)
      return &type_infos[i];

  return NULL;
}

gboolean
wz_fhir_type_is_supported (const char *type)
{
  return wz_fhir_type_info (type) != NULL;
}

gboolean
wz_fhir_id_is_valid (const char *id)
{
  gsize n = 0;

  if (id == NULL)
    return FALSE;

  for (const char *p = id; *p; p++, n++)
    if (!(g_ascii_isalnum (*p) || *p == '-' || *p == '.') || n >= 64)
      return FALSE;

  return n > 0;
}

/* json-glib's parser recurses once per nesting level, so a body of a million '[' would exhaust
 * the stack before it reports anything; count the depth first, outside of strings. */
static gboolean
check_depth (const char *data,
             gsize       length,
             GError    **error)
{
  gboolean in_string = FALSE;
  guint depth = 0;

  for (gsize i = 0; i < length; i++)
    {
      char c = data[i];

      if (in_string)
        {
          if (c == '\\')
            i++;
          else if (c == '"')
            in_string = FALSE;
          continue;
        }

      if (c == '"')
        in_string = TRUE;
      else if (c == '{' || c == '[')
        {
          if (++depth > WZ_FHIR_MAX_DEPTH)
            {
              g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                           "JSON is nested more than %d levels deep", WZ_FHIR_MAX_DEPTH);
              return FALSE;
            }
        }
      else if ((c == '}' || c == ']') && depth > 0)
        depth--;
    }

  return TRUE;
}

static const char *
node_kind_name (JsonNode *node)
{
  switch (JSON_NODE_TYPE (node))
    {
    case JSON_NODE_OBJECT:
      return "an object";
    case JSON_NODE_ARRAY:
      return "an array";
    case JSON_NODE_NULL:
      return "null";
    case JSON_NODE_VALUE:
    default:
      break;
    }

  switch (json_node_get_value_type (node))
    {
    case G_TYPE_STRING:
      return "a string";
    case G_TYPE_BOOLEAN:
      return "a boolean";
    default:
      return "a number";
    }
}

static gboolean
node_is_string (JsonNode *node)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING;
}

/* FHIR JSON never carries null; finding one means the client built the body wrongly. */
static gboolean
check_no_nulls (JsonNode    *node,
                const char  *where,
                GError     **error)
{
  if (JSON_NODE_HOLDS_NULL (node))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                   "%s is null; FHIR JSON leaves absent elements out instead", where);
      return FALSE;
    }

  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObjectIter iter;
      const char *name;
      JsonNode *member;

      json_object_iter_init (&iter, json_node_get_object (node));
      while (json_object_iter_next (&iter, &name, &member))
        {
          g_autofree char *child = g_strconcat (where, ".", name, NULL);

          if (!check_no_nulls (member, child, error))
            return FALSE;
        }
    }
  else if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);
      guint n = json_array_get_length (array);

      for (guint i = 0; i < n; i++)
        {
          g_autofree char *child = g_strdup_printf ("%s[%u]", where, i);

          if (!check_no_nulls (json_array_get_element (array, i), child, error))
            return FALSE;
        }
    }

  return TRUE;
}

typedef enum
{
  LEAF_STRING,
  LEAF_STRING_OR_BOOLEAN,
  LEAF_DATE,
} LeafKind;

/* Walks PATH like wz_fhir_walk_path but reports the first member of the wrong JSON type. */
static gboolean
check_path (JsonNode    *node,
            char       **segments,
            const char  *where,
            LeafKind     leaf,
            GError     **error)
{
  /* Status, active and dates are single values; names (given) may repeat. */
  if (JSON_NODE_HOLDS_ARRAY (node) && segments[0] == NULL && leaf != LEAF_STRING)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "%s must be %s, not an array", where,
                   leaf == LEAF_STRING_OR_BOOLEAN ? "a single value" : "a single date");
      return FALSE;
    }

  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);
      guint n = json_array_get_length (array);

      for (guint i = 0; i < n; i++)
        {
          g_autofree char *child = g_strdup_printf ("%s[%u]", where, i);

          if (!check_path (json_array_get_element (array, i), segments, child, leaf, error))
            return FALSE;
        }
      return TRUE;
    }

  if (segments[0] == NULL)
    {
      gboolean ok;

      if (leaf == LEAF_STRING_OR_BOOLEAN)
        ok = node_is_string (node) ||
             (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_BOOLEAN);
      else
        ok = node_is_string (node);

      if (!ok)
        {
          g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "%s must be %s, not %s", where,
                       leaf == LEAF_STRING_OR_BOOLEAN ? "a boolean" : "a string",
                       node_kind_name (node));
          return FALSE;
        }

      if (leaf == LEAF_DATE)
        {
          g_autofree char *normalized = wz_time_normalize_date (json_node_get_string (node));

          if (normalized == NULL)
            {
              g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                           "%s is “%s”, which is not a FHIR date or dateTime", where,
                           json_node_get_string (node));
              return FALSE;
            }
        }
      return TRUE;
    }

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "%s must be an object, not %s", where,
                   node_kind_name (node));
      return FALSE;
    }

  {
    JsonNode *member = json_object_get_member (json_node_get_object (node), segments[0]);
    g_autofree char *child = NULL;

    if (member == NULL)
      return TRUE;

    child = g_strconcat (where, ".", segments[0], NULL);
    return check_path (member, segments + 1, child, leaf, error);
  }
}

static gboolean
check_paths (JsonNode    *root,
             const char  *type,
             const char  *paths,
             LeafKind     leaf,
             GError     **error)
{
  g_auto(GStrv) list = NULL;

  if (paths == NULL)
    return TRUE;

  list = g_strsplit (paths, ",", -1);
  for (guint i = 0; list[i] != NULL; i++)
    {
      g_auto(GStrv) segments = g_strsplit (list[i], ".", -1);

      if (!check_path (root, segments, type, leaf, error))
        return FALSE;
    }

  return TRUE;
}

/* The paths of "name=path;name=path" hold strings. */
static gboolean
check_reference_params (JsonNode    *root,
                        const char  *type,
                        const char  *params,
                        GError     **error)
{
  g_auto(GStrv) list = NULL;

  if (params == NULL)
    return TRUE;

  list = g_strsplit (params, ";", -1);
  for (guint i = 0; list[i] != NULL; i++)
    {
      const char *path = strchr (list[i], '=');

      if (path != NULL && !check_paths (root, type, path + 1, LEAF_STRING, error))
        return FALSE;
    }
  return TRUE;
}

/* R4 gives these types one business identifier (0..1) instead of a list. */
gboolean
wz_fhir_identifier_is_single (const char *type)
{
  return g_strcmp0 (type, "QuestionnaireResponse") == 0 || g_strcmp0 (type, "Composition") == 0 ||
         g_strcmp0 (type, "AdverseEvent") == 0;
}

static gboolean
check_identifiers (JsonObject  *object,
                   const char  *type,
                   GError     **error)
{
  JsonNode *node = json_object_get_member (object, "identifier");
  g_autoptr(JsonArray) single = NULL;
  JsonArray *array;

  if (node == NULL)
    return TRUE;

  if (wz_fhir_identifier_is_single (type))
    {
      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                       "%s.identifier must be one Identifier object, not %s", type,
                       node_kind_name (node));
          return FALSE;
        }
      single = json_array_new ();
      json_array_add_element (single, json_node_copy (node));
      array = single;
    }
  else if (!JSON_NODE_HOLDS_ARRAY (node))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "%s.identifier must be an array, not %s",
                   type, node_kind_name (node));
      return FALSE;
    }
  else
    array = json_node_get_array (node);

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      JsonObject *identifier;
      const char *fields[] = { "system", "value" };

      if (!JSON_NODE_HOLDS_OBJECT (element))
        {
          g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                       "%s.identifier[%u] must be an object, not %s", type, i,
                       node_kind_name (element));
          return FALSE;
        }

      identifier = json_node_get_object (element);
      for (guint f = 0; f < G_N_ELEMENTS (fields); f++)
        {
          JsonNode *member = json_object_get_member (identifier, fields[f]);

          if (member != NULL && !node_is_string (member))
            {
              g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                           "%s.identifier[%u].%s must be a string, not %s", type, i, fields[f],
                           node_kind_name (member));
              return FALSE;
            }
        }
    }

  return TRUE;
}

static gboolean
check_meta (JsonObject  *object,
            const char  *type,
            GError     **error)
{
  JsonNode *node = json_object_get_member (object, "meta");
  JsonObject *meta;
  JsonNode *member;

  if (node == NULL)
    return TRUE;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "%s.meta must be an object, not %s",
                   type, node_kind_name (node));
      return FALSE;
    }

  meta = json_node_get_object (node);
  if ((member = json_object_get_member (meta, "versionId")) != NULL && !node_is_string (member))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                   "%s.meta.versionId must be a string, not %s", type, node_kind_name (member));
      return FALSE;
    }
  if ((member = json_object_get_member (meta, "lastUpdated")) != NULL && !node_is_string (member))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                   "%s.meta.lastUpdated must be a string, not %s", type, node_kind_name (member));
      return FALSE;
    }

  return TRUE;
}

static gboolean
check_names (JsonObject  *object,
             const char  *type,
             GError     **error)
{
  JsonNode *node = json_object_get_member (object, "name");

  if (node == NULL)
    return TRUE;

  if (!JSON_NODE_HOLDS_ARRAY (node))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "%s.name must be an array, not %s",
                   type, node_kind_name (node));
      return FALSE;
    }

  return check_paths (node, "name", "family,text,given", LEAF_STRING, error);
}

static gboolean
check_structure (JsonNode    *root,
                 const char  *type,
                 GError     **error)
{
  const WzFhirTypeInfo *info = wz_fhir_type_info (type);
  JsonObject *object = json_node_get_object (root);

  if (!check_no_nulls (root, type, error) ||
      !check_meta (object, type, error) ||
      !check_identifiers (object, type, error))
    return FALSE;

  if (info->has_names && !check_names (object, type, error))
    return FALSE;

  return check_paths (root, type, info->patient_paths, LEAF_STRING, error) &&
         check_paths (root, type, info->encounter_paths, LEAF_STRING, error) &&
         check_paths (root, type, info->practitioner_paths, LEAF_STRING, error) &&
         check_paths (root, type, info->status_path, LEAF_STRING_OR_BOOLEAN, error) &&
         check_paths (root, type, info->date_paths, LEAF_DATE, error) &&
         check_reference_params (root, type, info->reference_params, error);
}

JsonNode *
wz_fhir_parse_resource (const char  *data,
                        gssize       length,
                        const char  *expected_type,
                        const char  *expected_id,
                        GError     **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local_error = NULL;
  const char *bad_utf8 = NULL;
  JsonObject *object;
  JsonNode *root;
  JsonNode *member;
  const char *type;

  g_return_val_if_fail (data != NULL || length == 0, NULL);

  if (length < 0)
    length = strlen (data);

  if (length > WZ_FHIR_MAX_RESOURCE_SIZE)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_TOO_LARGE,
                   "Resource is %" G_GSSIZE_FORMAT " bytes; the limit is %d bytes",
                   length, WZ_FHIR_MAX_RESOURCE_SIZE);
      return NULL;
    }

  if (length == 0)
    {
      g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INVALID,
                           "Request body is empty; expected a FHIR resource in JSON");
      return NULL;
    }

  if (!g_utf8_validate_len (data, length, &bad_utf8))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                   "Request body is not valid UTF-8 (first bad byte at offset %" G_GSIZE_FORMAT ")",
                   (gsize) (bad_utf8 - data));
      return NULL;
    }

  if (!check_depth (data, length, error))
    return NULL;

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, data, length, &local_error))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "Malformed JSON: %s", local_error->message);
      return NULL;
    }

  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                   "A FHIR resource must be a JSON object, not %s",
                   root ? node_kind_name (root) : "empty");
      return NULL;
    }

  object = json_node_get_object (root);
  member = json_object_get_member (object, "resourceType");
  if (member == NULL)
    {
      g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INVALID, "resourceType is missing");
      return NULL;
    }
  if (!node_is_string (member))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "resourceType must be a string, not %s",
                   node_kind_name (member));
      return NULL;
    }

  type = json_node_get_string (member);
  if (!wz_fhir_type_is_supported (type))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                   "resourceType “%s” is not a type this server supports", type);
      return NULL;
    }
  if (expected_type != NULL && strcmp (type, expected_type) != 0)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                   "resourceType “%s” does not match the URL, which names %s", type, expected_type);
      return NULL;
    }

  member = json_object_get_member (object, "id");
  if (member != NULL)
    {
      if (!node_is_string (member))
        {
          g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "id must be a string, not %s",
                       node_kind_name (member));
          return NULL;
        }
      if (!wz_fhir_id_is_valid (json_node_get_string (member)))
        {
          g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INVALID,
                               "id must be 1 to 64 characters of A-Z, a-z, 0-9, “-” and “.”");
          return NULL;
        }
    }

  if (expected_id != NULL)
    {
      if (member == NULL)
        {
          g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                       "id is missing; an update must carry the id from the URL (%s)", expected_id);
          return NULL;
        }
      if (strcmp (json_node_get_string (member), expected_id) != 0)
        {
          g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                       "id “%s” does not match the URL, which names %s",
                       json_node_get_string (member), expected_id);
          return NULL;
        }
    }

  if (!check_structure (root, type, error))
    return NULL;

  return json_node_ref (root);
}

char *
wz_fhir_stamp (JsonObject *resource,
               const char *id,
               gint64      version_id,
               gint64      last_updated_us,
               gsize      *out_length)
{
  g_autoptr(JsonObject) stamped = json_object_new ();
  g_autoptr(JsonObject) meta = NULL;
  g_autoptr(JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autofree char *last_updated = wz_time_format_instant (last_updated_us);
  g_autofree char *version = g_strdup_printf ("%" G_GINT64_FORMAT, version_id);
  JsonObject *old_meta = NULL;
  JsonObjectIter iter;
  const char *name;
  JsonNode *member;
  GList *members;

  if (json_object_has_member (resource, "meta") &&
      JSON_NODE_HOLDS_OBJECT (json_object_get_member (resource, "meta")))
    old_meta = json_object_get_object_member (resource, "meta");

  /* Keep profile, tag, security … but the server alone says which version this is. */
  meta = json_object_new ();
  json_object_set_string_member (meta, "versionId", "");
  json_object_set_string_member (meta, "lastUpdated", "");
  if (old_meta != NULL)
    {
      json_object_iter_init (&iter, old_meta);
      while (json_object_iter_next (&iter, &name, &member))
        if (strcmp (name, "versionId") != 0 && strcmp (name, "lastUpdated") != 0)
          json_object_set_member (meta, name, json_node_copy (member));
    }
  json_object_set_string_member (meta, "versionId", version);
  json_object_set_string_member (meta, "lastUpdated", last_updated);

  json_object_set_string_member (stamped, "resourceType",
                                 json_object_get_string_member (resource, "resourceType"));
  json_object_set_string_member (stamped, "id", id);
  json_object_set_object_member (stamped, "meta", g_steal_pointer (&meta));

  /* In the order the client wrote them, so the stored text reads like what was sent. */
  members = json_object_get_members (resource);
  for (GList *l = members; l != NULL; l = l->next)
    {
      name = l->data;
      if (strcmp (name, "resourceType") != 0 && strcmp (name, "id") != 0 &&
          strcmp (name, "meta") != 0)
        json_object_set_member (stamped, name,
                                json_node_copy (json_object_get_member (resource, name)));
    }
  g_list_free (members);

  json_node_set_object (root, stamped);
  json_generator_set_root (generator, root);

  return json_generator_to_data (generator, out_length);
}

gboolean
wz_fhir_retire (JsonObject  *resource,
                GError     **error)
{
  const char *type = json_object_get_string_member_with_default (resource, "resourceType", "");
  const WzFhirTypeInfo *info = wz_fhir_type_info (type);

  if (info == NULL || info->retire == WZ_FHIR_RETIRE_NONE)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_METHOD_NOT_ALLOWED,
                   "%s resources are kept as written and cannot be withdrawn", type);
      return FALSE;
    }

  switch (info->retire)
    {
    case WZ_FHIR_RETIRE_STATUS:
      json_object_set_string_member (resource, "status", info->retire_value);
      break;

    case WZ_FHIR_RETIRE_INACTIVE:
      json_object_set_boolean_member (resource, "active", FALSE);
      break;

    case WZ_FHIR_RETIRE_VERIFICATION:
      {
        JsonObject *coding = json_object_new ();
        JsonArray *codings = json_array_new ();
        JsonObject *concept = json_object_new ();

        json_object_set_string_member (coding, "system", info->retire_value);
        json_object_set_string_member (coding, "code", "entered-in-error");
        json_array_add_object_element (codings, coding);
        json_object_set_array_member (concept, "coding", codings);
        json_object_set_object_member (resource, "verificationStatus", concept);
        /* FHIR forbids a clinical status on an entered-in-error record. */
        json_object_remove_member (resource, "clinicalStatus");
      }
      break;

    case WZ_FHIR_RETIRE_NONE:
    default:
      g_assert_not_reached ();
    }

  return TRUE;
}

static void
walk_node (JsonNode    *node,
           char       **segments,
           void       (*func) (JsonNode *, gpointer),
           gpointer     user_data)
{
  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);
      guint n = json_array_get_length (array);

      for (guint i = 0; i < n; i++)
        walk_node (json_array_get_element (array, i), segments, func, user_data);
      return;
    }

  if (segments[0] == NULL)
    {
      func (node, user_data);
      return;
    }

  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonNode *member = json_object_get_member (json_node_get_object (node), segments[0]);

      if (member != NULL)
        walk_node (member, segments + 1, func, user_data);
    }
}

void
wz_fhir_walk_path (JsonObject  *object,
                   const char  *path,
                   void       (*func) (JsonNode *node,
                                       gpointer  user_data),
                   gpointer     user_data)
{
  g_autoptr(JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  g_auto(GStrv) segments = g_strsplit (path, ".", -1);

  json_node_set_object (root, object);
  walk_node (root, segments, func, user_data);
}
