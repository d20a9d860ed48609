/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-care-team"

#include "config.h"

#include "wz-care-team.h"

#include <string.h>

#include "wz-error.h"
#include "wz-fhir.h"
#include "wz-fhir-index.h"

struct _WzCareTeam
{
  GObject  parent_instance;

  WzStore *store;
};

G_DEFINE_FINAL_TYPE (WzCareTeam, wz_care_team, G_TYPE_OBJECT)

/* What a visit produces and the patient may read; the Encounter and Patient themselves are
 * checked by id. */
static const char *const patient_readable[] = {
  "Communication", "QuestionnaireResponse", "Consent", "Observation", "Flag", NULL,
};
/* What the patient page writes: chat, pre-consultation answers, consent, readings they report. */
static const char *const patient_writable[] = {
  "Communication", "QuestionnaireResponse", "Consent", "Observation", NULL,
};

static gboolean
in_list (const char        *type,
         const char *const *list)
{
  return g_strv_contains ((const char * const *) list, type);
}

static gboolean
has_role (const WzSession *session,
          const char      *role)
{
  return g_strcmp0 (session->role, role) == 0;
}

static gboolean
is_staff (const WzSession *session)
{
  return has_role (session, "doctor") || has_role (session, "pharmacist");
}

/* Patient, and every type whose index names a patient. AuditEvent is the admin's, apart. */
static gboolean
holds_patient_data (const char *type)
{
  const WzFhirTypeInfo *info = wz_fhir_type_info (type);

  if (strcmp (type, "AuditEvent") == 0)
    return FALSE;
  return strcmp (type, "Patient") == 0 || (info != NULL && info->patient_paths != NULL);
}

static gboolean
has_encounter_field (const char *type)
{
  const WzFhirTypeInfo *info = wz_fhir_type_info (type);

  return info != NULL && info->encounter_paths != NULL;
}

static char *
reference (const char *type,
           const char *id)
{
  return id != NULL ? g_strconcat (type, "/", id, NULL) : NULL;
}

/* "ID" of "TYPE/ID", or NULL when REF is not of that type. */
static const char *
reference_id (const char *ref,
              const char *type)
{
  gsize len = strlen (type);

  if (ref == NULL || strncmp (ref, type, len) != 0 || ref[len] != '/' || ref[len + 1] == '\0')
    return NULL;
  return ref + len + 1;
}

gboolean
wz_care_team_check_type (const WzSession   *session,
                         const char        *type,
                         WzCareTeamAccess   access,
                         GError           **error)
{
  gboolean read = access == WZ_CARE_TEAM_READ;
  gboolean allowed;

  g_return_val_if_fail (session != NULL, FALSE);
  g_return_val_if_fail (type != NULL, FALSE);

  if (strcmp (type, "AuditEvent") == 0)
    {
      if (read && has_role (session, "admin"))
        return TRUE;
      g_set_error (error, WZ_ERROR, WZ_ERROR_FORBIDDEN,
                   read ? "Only an admin reads the audit log"
                        : "Audit events are written by the server itself, never by a client");
      return FALSE;
    }

  if (has_role (session, "admin"))
    {
      if (strcmp (type, "Practitioner") == 0)
        return TRUE;
      g_set_error (error, WZ_ERROR, WZ_ERROR_FORBIDDEN,
                   "An admin manages Practitioner records and reads the audit log; %s resources "
                   "are clinical data for the care team", type);
      return FALSE;
    }

  if (has_role (session, "patient"))
    allowed = read ? (strcmp (type, "Patient") == 0 || strcmp (type, "Encounter") == 0 ||
                      strcmp (type, "Questionnaire") == 0 || in_list (type, patient_readable))
                   : in_list (type, patient_writable);
  else if (has_role (session, "doctor"))
    allowed = TRUE;
  else if (has_role (session, "pharmacist"))
    allowed = read;
  else
    allowed = FALSE;

  if (!allowed)
    g_set_error (error, WZ_ERROR, WZ_ERROR_FORBIDDEN, "A %s may not %s %s resources",
                 session->role ? session->role : "user without a role",
                 read ? "read" : "write", type);
  return allowed;
}

gboolean
wz_care_team_includes (WzCareTeam  *self,
                       const char  *patient,
                       const char  *practitioner,
                       GError     **error)
{
  g_return_val_if_fail (WZ_IS_CARE_TEAM (self), FALSE);

  if (reference_id (patient, "Patient") == NULL || reference_id (practitioner, "Practitioner") == NULL)
    return FALSE;
  return wz_store_is_on_care_team (self->store, patient, practitioner, error);
}

/* The patient of Encounter ENCOUNTER ("Encounter/ID"), or NULL. */
static gboolean
patient_of_encounter (WzCareTeam  *self,
                      const char  *encounter,
                      char       **out_patient,
                      GError     **error)
{
  g_autoptr(WzStoredResource) stored = NULL;
  g_autoptr(GError) local_error = NULL;
  const char *id = reference_id (encounter, "Encounter");

  *out_patient = NULL;
  if (id == NULL)
    return TRUE;

  stored = wz_store_read (self->store, "Encounter", id, &local_error);
  if (stored == NULL)
    {
      if (g_error_matches (local_error, WZ_ERROR, WZ_ERROR_NOT_FOUND))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  *out_patient = g_strdup (stored->patient);
  return TRUE;
}

static gboolean
patient_may_see (const WzSession *session,
                 const char      *type,
                 const char      *id,
                 const char      *patient,
                 const char      *encounter)
{
  g_autofree char *own_patient = reference ("Patient", session->patient_id);
  g_autofree char *own_encounter = reference ("Encounter", session->encounter_id);

  if (own_patient == NULL || own_encounter == NULL)
    return FALSE;

  if (strcmp (type, "Patient") == 0)
    return g_strcmp0 (id, session->patient_id) == 0;
  if (strcmp (type, "Encounter") == 0)
    return g_strcmp0 (id, session->encounter_id) == 0;
  if (strcmp (type, "Questionnaire") == 0)
    return TRUE;
  if (!in_list (type, patient_readable))
    return FALSE;

  /* Data of the visit is the patient's own, and tied to that visit where the type can be. */
  if (patient != NULL && strcmp (patient, own_patient) != 0)
    return FALSE;
  if (has_encounter_field (type))
    return g_strcmp0 (encounter, own_encounter) == 0;
  return patient != NULL;
}

gboolean
wz_care_team_may_see (WzCareTeam       *self,
                      const WzSession  *session,
                      const char       *type,
                      const char       *id,
                      const char       *patient,
                      const char       *encounter,
                      GError          **error)
{
  g_autofree char *resolved = NULL;
  g_autofree char *practitioner = NULL;

  g_return_val_if_fail (WZ_IS_CARE_TEAM (self), FALSE);
  g_return_val_if_fail (session != NULL, FALSE);

  if (!wz_care_team_check_type (session, type, WZ_CARE_TEAM_READ, NULL))
    return FALSE;

  if (has_role (session, "patient"))
    return patient_may_see (session, type, id, patient, encounter);
  if (!is_staff (session))
    return TRUE;   /* admin: the type rule above is all there is */
  if (!holds_patient_data (type))
    return TRUE;

  /* Data filed under an encounter only belongs to that encounter's patient. */
  if (patient == NULL && encounter != NULL && strcmp (type, "Encounter") != 0)
    {
      if (!patient_of_encounter (self, encounter, &resolved, error))
        return FALSE;
      patient = resolved;
    }
  /* Patient data that names no patient is nobody's to see, as in searches. */
  if (patient == NULL)
    return FALSE;

  practitioner = reference ("Practitioner", session->practitioner_id);
  return practitioner != NULL && wz_care_team_includes (self, patient, practitioner, error);
}

static void
first_encounter (JsonNode *node,
                 gpointer  user_data)
{
  char **out = user_data;

  if (*out == NULL && JSON_NODE_HOLDS_VALUE (node) &&
      json_node_get_value_type (node) == G_TYPE_STRING &&
      strstr (json_node_get_string (node), "Encounter/") != NULL)
    *out = wz_fhir_index_reference ("Encounter", json_node_get_string (node));
}

char *
wz_care_team_encounter_of (JsonObject *resource,
                           const char *type,
                           const char *id)
{
  g_autoptr(WzFhirIndex) index = NULL;

  if (strcmp (type, "Encounter") == 0)
    return reference ("Encounter", id);
  if (strcmp (type, "Provenance") == 0)
    {
      char *encounter = NULL;

      /* A Provenance explains a change to an Encounter (an urgency override), through target. */
      wz_fhir_walk_path (resource, "target.reference", first_encounter, &encounter);
      return encounter;
    }
  if (!has_encounter_field (type))
    return NULL;

  index = wz_fhir_index_new (resource, id);
  return g_steal_pointer (&index->encounter);
}

char *
wz_care_team_encounter_of_stored (const WzStoredResource *resource)
{
  g_autoptr(JsonParser) parser = NULL;
  gsize length;
  const char *data;

  g_return_val_if_fail (resource != NULL, NULL);

  if (strcmp (resource->type, "Encounter") == 0)
    return reference ("Encounter", resource->id);
  if (!has_encounter_field (resource->type) && strcmp (resource->type, "Provenance") != 0)
    return NULL;

  parser = json_parser_new_immutable ();
  data = g_bytes_get_data (resource->json, &length);
  if (!json_parser_load_from_data (parser, data, length, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return NULL;

  return wz_care_team_encounter_of (json_node_get_object (json_parser_get_root (parser)),
                                    resource->type, resource->id);
}

gboolean
wz_care_team_may_see_stored (WzCareTeam              *self,
                             const WzSession         *session,
                             const WzStoredResource  *resource,
                             GError                 **error)
{
  g_autofree char *encounter = NULL;

  g_return_val_if_fail (resource != NULL, FALSE);

  /* The stored row names the patient; the encounter is only in the JSON, so it is parsed only
   * when the answer depends on it. */
  if ((has_role (session, "patient") && in_list (resource->type, patient_readable)) ||
      (is_staff (session) && resource->patient == NULL))
    encounter = wz_care_team_encounter_of_stored (resource);

  return wz_care_team_may_see (self, session, resource->type, resource->id, resource->patient,
                               encounter, error);
}

gboolean
wz_care_team_may_write (WzCareTeam       *self,
                        const WzSession  *session,
                        JsonObject       *resource,
                        const char       *id,
                        GError          **error)
{
  const char *type = json_object_get_string_member_with_default (resource, "resourceType", "");
  g_autoptr(WzFhirIndex) index = NULL;
  g_autofree char *practitioner = NULL;
  g_autofree char *resolved = NULL;
  const char *patient;

  g_return_val_if_fail (WZ_IS_CARE_TEAM (self), FALSE);
  g_return_val_if_fail (session != NULL, FALSE);

  if (!wz_care_team_check_type (session, type, WZ_CARE_TEAM_WRITE, error))
    return FALSE;

  /* A new Patient has no id yet; its own reference does not matter for the rules below. */
  index = wz_fhir_index_new (resource, id ? id : "new");

  if (has_role (session, "patient"))
    {
      g_autofree char *own_patient = reference ("Patient", session->patient_id);
      g_autofree char *own_encounter = reference ("Encounter", session->encounter_id);

      if (own_patient == NULL || g_strcmp0 (index->patient, own_patient) != 0)
        {
          g_set_error (error, WZ_ERROR, WZ_ERROR_FORBIDDEN,
                       "A patient records only their own data: the %s must name %s as its "
                       "subject or patient", type, own_patient ? own_patient : "the patient");
          return FALSE;
        }
      if (has_encounter_field (type) && g_strcmp0 (index->encounter, own_encounter) != 0)
        {
          g_set_error (error, WZ_ERROR, WZ_ERROR_FORBIDDEN,
                       "The %s must belong to this visit, %s", type, own_encounter);
          return FALSE;
        }
      return TRUE;
    }

  if (!is_staff (session))
    return TRUE;   /* admin: Practitioner records, by the type rule */

  if (strcmp (type, "Practitioner") == 0)
    {
      /* Staff keep their own record up to date; adding people is the admin's job. */
      if (id != NULL && g_strcmp0 (id, session->practitioner_id) == 0)
        return TRUE;
      g_set_error (error, WZ_ERROR, WZ_ERROR_FORBIDDEN,
                   "A %s may change only their own Practitioner record; an admin adds and "
                   "changes the others", session->role);
      return FALSE;
    }

  /* Registering a new patient needs no care team; changing one needs what a read needs, which
   * the caller checked on the current version. */
  if (strcmp (type, "Patient") == 0 || !holds_patient_data (type))
    return TRUE;

  patient = index->patient;
  if (patient == NULL)
    {
      g_autofree char *encounter = wz_care_team_encounter_of (resource, type, id ? id : "new");

      if (!patient_of_encounter (self, encounter, &resolved, error))
        return FALSE;
      patient = resolved;
    }
  if (patient == NULL)
    {
      /* Nobody could ever see it again: every search and read needs the patient. */
      g_set_error (error, WZ_ERROR, WZ_ERROR_UNPROCESSABLE,
                   "The %s names no patient: give its subject (or patient) as Patient/ID, or the "
                   "encounter it belongs to", type);
      return FALSE;
    }

  practitioner = reference ("Practitioner", session->practitioner_id);
  if (practitioner != NULL)
    {
      g_autoptr(GError) local_error = NULL;

      if (wz_care_team_includes (self, patient, practitioner, &local_error))
        return TRUE;
      if (local_error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
    }

  g_set_error (error, WZ_ERROR, WZ_ERROR_FORBIDDEN,
               "You are not on the care team of %s, so you cannot record %s data for them; the "
               "patient's doctor can add you as a participant of a visit", patient, type);
  return FALSE;
}

static void
add_filter (WzSearchQuery     *query,
            WzSearchParamKind  kind,
            const char        *value)
{
  WzSearchParam *param = g_new0 (WzSearchParam, 1);

  /* Added after parsing, so the canonical query (and the paging links made from it) stays what
   * the client asked; every page is narrowed again the same way. */
  param->kind = kind;
  param->prefix = WZ_SEARCH_EQ;
  param->values = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (param->values, g_strdup (value));
  g_ptr_array_add (query->params, param);
}

gboolean
wz_care_team_restrict_search (WzCareTeam       *self,
                              const WzSession  *session,
                              WzSearchQuery    *query,
                              GError          **error)
{
  g_return_val_if_fail (WZ_IS_CARE_TEAM (self), FALSE);
  g_return_val_if_fail (session != NULL, FALSE);

  if (has_role (session, "patient"))
    {
      g_autofree char *own_encounter = reference ("Encounter", session->encounter_id);

      g_clear_pointer (&query->visible_to_patient, g_free);
      query->visible_to_patient = reference ("Patient", session->patient_id);
      if (strcmp (query->type, "Patient") == 0)
        add_filter (query, WZ_SEARCH_PARAM_ID, session->patient_id);
      else if (strcmp (query->type, "Encounter") == 0)
        add_filter (query, WZ_SEARCH_PARAM_ID, session->encounter_id);
      else if (has_encounter_field (query->type))
        add_filter (query, WZ_SEARCH_PARAM_ENCOUNTER, own_encounter);
      return TRUE;
    }

  if (!is_staff (session))
    return TRUE;   /* admin: only reference data, by the type rule */

  /* Staff without a Practitioner record have no care team: "Practitioner/" names nobody. */
  g_clear_pointer (&query->visible_to_practitioner, g_free);
  query->visible_to_practitioner = session->practitioner_id
                                   ? reference ("Practitioner", session->practitioner_id)
                                   : g_strdup ("Practitioner/");
  return TRUE;
}

static void
collect_practitioner (JsonNode *node,
                      gpointer  user_data)
{
  GPtrArray *practitioners = user_data;
  const char *ref;

  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return;

  /* Only explicit Practitioner/ID references: a bare id could be anyone's. */
  ref = json_node_get_string (node);
  if (strstr (ref, "Practitioner/") != NULL)
    {
      char *normalized = wz_fhir_index_reference ("Practitioner", ref);

      if (normalized != NULL)
        g_ptr_array_add (practitioners, normalized);
    }
}

gboolean
wz_care_team_encounter_parties (WzCareTeam  *self,
                                const char  *encounter_id,
                                char       **out_patient,
                                GPtrArray  **out_practitioners,
                                GError     **error)
{
  g_autoptr(WzStoredResource) stored = NULL;
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GPtrArray) practitioners = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) parse_error = NULL;
  JsonObject *root;
  gsize length;
  const char *data;

  g_return_val_if_fail (WZ_IS_CARE_TEAM (self), FALSE);

  if (encounter_id == NULL || !wz_fhir_id_is_valid (encounter_id))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_NOT_FOUND, "No such encounter");
      return FALSE;
    }
  if ((stored = wz_store_read (self->store, "Encounter", encounter_id, error)) == NULL)
    return FALSE;

  data = g_bytes_get_data (stored->json, &length);
  if (!json_parser_load_from_data (parser, data, length, &parse_error) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INTERNAL, "Encounter/%s is not readable JSON",
                   encounter_id);
      return FALSE;
    }
  root = json_node_get_object (json_parser_get_root (parser));

  wz_fhir_walk_path (root, "participant.individual.reference", collect_practitioner,
                     practitioners);

  *out_patient = g_strdup (stored->patient);
  *out_practitioners = g_steal_pointer (&practitioners);
  return TRUE;
}

static void
wz_care_team_dispose (GObject *object)
{
  WzCareTeam *self = WZ_CARE_TEAM (object);

  g_clear_object (&self->store);

  G_OBJECT_CLASS (wz_care_team_parent_class)->dispose (object);
}

static void
wz_care_team_class_init (WzCareTeamClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = wz_care_team_dispose;
}

static void
wz_care_team_init (WzCareTeam *self)
{
}

WzCareTeam *
wz_care_team_new (WzStore *store)
{
  WzCareTeam *self;

  g_return_val_if_fail (WZ_IS_STORE (store), NULL);

  self = g_object_new (WZ_TYPE_CARE_TEAM, NULL);
  self->store = g_object_ref (store);

  return self;
}
