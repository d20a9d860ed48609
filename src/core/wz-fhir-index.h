/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct
{
  char *param;   /* "identifier", "identifier:value", "practitioner", "name", "family" */
  char *value;
} WzFhirToken;

/* The values of one resource that searches filter and sort on, taken from the fields
 * WzFhirTypeInfo names. Text values are case-folded so that searches ignore case. */
typedef struct
{
  char      *patient;    /* "Patient/ID" */
  char      *encounter;  /* "Encounter/ID" */
  char      *status;     /* status code, or "true"/"false" for active */
  char      *date;       /* normalised with wz_time_normalize_date */
  char      *family;     /* first family name, case-folded, for sorting */
  GPtrArray *tokens;     /* WzFhirToken, for multi-valued parameters */
} WzFhirIndex;

WzFhirIndex *wz_fhir_index_new        (JsonObject  *resource,
                                       const char  *id);
void         wz_fhir_index_free       (WzFhirIndex *index);
/* Case-folded, NFKC-normalised text, as names are stored in the index. */
char        *wz_fhir_index_fold       (const char  *text);
/* "Patient/ID" from "Patient/ID", "ID" or an absolute URL ending in Patient/ID; NULL otherwise. */
char        *wz_fhir_index_reference  (const char  *type,
                                       const char  *value);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WzFhirIndex, wz_fhir_index_free)

G_END_DECLS
