/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Reading FHIR JSON the way the record views need it: every accessor tolerates a missing member
 * or a member of the wrong JSON type and answers NULL, so a surprising resource degrades to an
 * empty field instead of a crash. */

JsonObject *wz_json_object          (JsonObject  *object,
                                     const char  *member);
JsonArray  *wz_json_array           (JsonObject  *object,
                                     const char  *member);
const char *wz_json_string          (JsonObject  *object,
                                     const char  *member);
JsonObject *wz_json_array_object    (JsonArray   *array,
                                     guint        index);

/* CodeableConcept: its text, else the first coding's display. */
const char *wz_concept_text         (JsonObject  *concept);
/* The code of the first coding in SYSTEM (any system when NULL). */
const char *wz_concept_code         (JsonObject  *concept,
                                     const char  *system);
/* The display of the first coding in SYSTEM. */
const char *wz_concept_display      (JsonObject  *concept,
                                     const char  *system);

/* The resources of TYPE (all when NULL) in a searchset Bundle, borrowed from it; NULL when NODE
 * is not a Bundle. */
GPtrArray  *wz_bundle_resources     (JsonNode    *node,
                                     const char  *type);
const char *wz_resource_version     (JsonObject  *resource);
const char *wz_resource_last_updated (JsonObject *resource);
/* "Type/id" of a resource. */
char       *wz_resource_reference   (JsonObject  *resource);
/* The reference string of member NAME ({"reference": …}). */
const char *wz_json_reference       (JsonObject  *object,
                                     const char  *member);

JsonObject *wz_json_object_copy     (JsonObject  *object);

G_END_DECLS
