/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Token parameters:
 *   identifier        "system|value"        identifier:value  "value"
 *   practitioner      "Practitioner/ID"
 *   name, family      case-folded name parts, the whole name, family+given without space
 *   name:gram         every one and two Han characters in a row of a name (contains search for
 *                     the short queries the trigram index cannot answer)
 *   pinyin            initials (张秀英 → zxy), whole name (zhangxiuying), given name (xiuying)
 *   phone             telecom phone digits only, with and without the 86 country code
 *   code, category    "system|code" (system may be empty)   code:value, category:value  "code"
 *   owner, focus, …   "Type/ID" (WzFhirTypeInfo.reference_params) */
typedef struct
{
  char *param;
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
  gint       priority;   /* Encounter priority 1 (emergency) to 4 (elective), 0 when not set */
  GPtrArray *tokens;     /* WzFhirToken, for multi-valued parameters */
  /* Full text for contains searches, NULL for types without names: the case-folded names, and
   * the other keys the worklist search box matches (pinyin, identifiers, phone digits), each
   * value on its own line. */
  char      *names_text;
  char      *keys_text;
} WzFhirIndex;

WzFhirIndex *wz_fhir_index_new        (JsonObject  *resource,
                                       const char  *id);
void         wz_fhir_index_free       (WzFhirIndex *index);
/* Case-folded, NFKC-normalised text, as names are stored in the index. */
char        *wz_fhir_index_fold       (const char  *text);
/* The digits of a phone number, NULL when it has none. */
char        *wz_fhir_index_phone_digits (const char *text);
/* "Patient/ID" from "Patient/ID", "ID" or an absolute URL ending in Patient/ID; NULL otherwise. */
char        *wz_fhir_index_reference  (const char  *type,
                                       const char  *value);

/* "Type/ID" of a reference to any supported type ("Type/ID", an absolute URL ending in it, or a
 * versioned reference); NULL otherwise. */
char        *wz_fhir_index_any_reference (const char *value);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WzFhirIndex, wz_fhir_index_free)

G_END_DECLS
