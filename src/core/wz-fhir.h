/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define WZ_FHIR_CONTENT_TYPE      "application/fhir+json"
#define WZ_FHIR_MAX_RESOURCE_SIZE (1024 * 1024)
#define WZ_FHIR_MAX_DEPTH         64

typedef enum
{
  WZ_FHIR_RETIRE_NONE,          /* cannot be withdrawn (Binary, AuditEvent, Provenance, …) */
  WZ_FHIR_RETIRE_STATUS,        /* status = retire_value */
  WZ_FHIR_RETIRE_INACTIVE,      /* active = false */
  WZ_FHIR_RETIRE_VERIFICATION,  /* verificationStatus = entered-in-error in retire_value's system */
} WzFhirRetire;

/* What the server knows about one supported resource type: which fields feed the search index
 * and how the type is withdrawn, since nothing is ever hard-deleted. Paths are dot-separated
 * member names, comma-separated when there are several; arrays on the way are walked through. */
typedef struct
{
  const char   *name;
  const char   *patient_paths;      /* references of the patient the data belongs to */
  const char   *encounter_paths;
  const char   *practitioner_paths; /* practitioners taking part (participant, author, …) */
  const char   *status_param;       /* search parameter name: status, active, clinical-status */
  const char   *status_path;
  const char   *date_param;         /* date, or birthdate for Patient */
  const char   *date_paths;
  gboolean      has_names;          /* HumanName name[]: name and family parameters */
  WzFhirRetire  retire;
  const char   *retire_value;
  /* The practitioners a resource of this type names (practitioner_paths) treat its patient:
   * they join the patient's care team while the resource is not entered-in-error. */
  gboolean      care_team;
  /* Not about any one patient (Practitioner, Questionnaire): care-team and own-data filters do
   * not apply. Every other type is patient data, hidden when it names no visible patient. */
  gboolean      reference_data;
  /* Token search parameter over codings (Coding objects or plain code strings): its name (code,
   * or type for DocumentReference) and paths. */
  const char   *code_param;
  const char   *code_paths;
  const char   *category_paths;      /* the category parameter */
  /* Encounter.priority coding (v3-ActPriority): EM, UR, R, EL sort as 1 to 4. */
  const char   *priority_path;
  /* Reference search parameters of their own, "name=path;name=path" (Task: owner, focus,
   * based-on): token "name" holds each "Type/ID" the path leads to, whatever the type. */
  const char   *reference_params;
} WzFhirTypeInfo;

const WzFhirTypeInfo  *wz_fhir_type_info       (const char      *type);
/* NULL-terminated, in the order the CapabilityStatement lists them. */
const WzFhirTypeInfo  *wz_fhir_type_infos      (guint           *out_n_types);
gboolean               wz_fhir_type_is_supported (const char    *type);
/* TRUE when TYPE's identifier is one Identifier object (R4 0..1), not an array. */
gboolean               wz_fhir_identifier_is_single (const char *type);
/* FHIR id: [A-Za-z0-9-.]{1,64} */
gboolean               wz_fhir_id_is_valid     (const char      *id);

/* Checks that DATA is a resource the server can store: at most WZ_FHIR_MAX_RESOURCE_SIZE bytes,
 * valid UTF-8, a JSON object nested at most WZ_FHIR_MAX_DEPTH deep, no null values,
 * resourceType a supported type equal to EXPECTED_TYPE (when not NULL), id well formed (and equal
 * to EXPECTED_ID when that is given), meta an object with string members, and the fields the
 * search index reads of the right JSON type. Returns the root node, or NULL with a WZ_ERROR whose
 * message is a diagnostics text for an OperationOutcome. */
JsonNode              *wz_fhir_parse_resource  (const char      *data,
                                                gssize           length,
                                                const char      *expected_type,
                                                const char      *expected_id,
                                                GError         **error);
/* Sets id, meta.versionId and meta.lastUpdated (resourceType, id and meta first) and returns the
 * resource as compact JSON text, which is what gets stored and served. */
char                  *wz_fhir_stamp           (JsonObject      *resource,
                                                const char      *id,
                                                gint64           version_id,
                                                gint64           last_updated_us,
                                                gsize           *out_length);
/* Marks RESOURCE withdrawn the way its type allows (see WzFhirRetire). */
gboolean               wz_fhir_retire          (JsonObject      *resource,
                                                GError         **error);
/* Calls FUNC on every node PATH leads to in OBJECT ("a.b.c", arrays walked through). */
void                   wz_fhir_walk_path       (JsonObject      *object,
                                                const char      *path,
                                                void           (*func) (JsonNode *node,
                                                                        gpointer  user_data),
                                                gpointer         user_data);

G_END_DECLS
