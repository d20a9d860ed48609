/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Typed member look-ups that answer NULL for a missing member, a NULL object or a member of
 * another JSON type, so readers of untrusted documents never trip json-glib's assertions. */
const char *wz_json_get_string (JsonObject *object,
                                const char *member);
JsonObject *wz_json_get_object (JsonObject *object,
                                const char *member);
JsonArray  *wz_json_get_array  (JsonObject *object,
                                const char *member);

/* The "reference" of the Reference in MEMBER, or NULL. */
const char *wz_json_get_reference (JsonObject *object,
                                   const char *member);

/* Writes MEMBER: {"reference": REFERENCE}. */
void        wz_json_add_reference  (JsonBuilder *builder,
                                    const char  *member,
                                    const char  *reference);
/* Writes a Coding object {"system","code"[,"display"]}; DISPLAY may be NULL. */
void        wz_json_add_coding     (JsonBuilder *builder,
                                    const char  *system,
                                    const char  *code,
                                    const char  *display);
/* Writes the member "identifier": [{"system": SYSTEM, "value": VALUE}] of a FHIR resource. */
void        wz_json_add_identifier (JsonBuilder *builder,
                                    const char  *system,
                                    const char  *value);

G_END_DECLS
