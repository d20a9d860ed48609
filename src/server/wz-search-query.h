/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define WZ_SEARCH_DEFAULT_COUNT 20
#define WZ_SEARCH_MAX_COUNT     200

typedef enum
{
  WZ_SEARCH_EQ,
  WZ_SEARCH_GT,
  WZ_SEARCH_LT,
  WZ_SEARCH_GE,
  WZ_SEARCH_LE,
} WzSearchPrefix;

/* How a parameter is matched; each storage backend turns this into its own query. */
typedef enum
{
  WZ_SEARCH_PARAM_ID,            /* resource id */
  WZ_SEARCH_PARAM_LAST_UPDATED,  /* meta.lastUpdated, range start/end */
  WZ_SEARCH_PARAM_STATUS,        /* status column, exact */
  WZ_SEARCH_PARAM_PATIENT,       /* patient column, "Patient/ID" */
  WZ_SEARCH_PARAM_ENCOUNTER,     /* encounter column, "Encounter/ID" */
  WZ_SEARCH_PARAM_DATE,          /* date column, prefix compares on normalised text */
  WZ_SEARCH_PARAM_TOKEN,         /* index token, exact */
  WZ_SEARCH_PARAM_STRING,        /* index token, case-folded; match says how */
  WZ_SEARCH_PARAM_TEXT,          /* q: the worklist box, over names, pinyin, identifiers, phones */
} WzSearchParamKind;

typedef enum
{
  WZ_SEARCH_MATCH_PREFIX,        /* the default for strings: a name part starts with the value */
  WZ_SEARCH_MATCH_CONTAINS,      /* :contains, anywhere in any name */
  WZ_SEARCH_MATCH_EXACT,         /* :exact, a whole name part (compared case-folded) */
} WzSearchMatch;

/* _include: what to add to the page besides the matches (search.mode include). */
typedef enum
{
  WZ_SEARCH_INCLUDE_PATIENT   = 1 << 0,  /* X:patient, X:subject */
  WZ_SEARCH_INCLUDE_ENCOUNTER = 1 << 1,  /* X:encounter, X:context */
} WzSearchInclude;

typedef enum
{
  WZ_SEARCH_SORT_ID,
  WZ_SEARCH_SORT_LAST_UPDATED,
  WZ_SEARCH_SORT_DATE,
  WZ_SEARCH_SORT_FAMILY,
  WZ_SEARCH_SORT_STATUS,
  WZ_SEARCH_SORT_PRIORITY,       /* Encounter: emergency first; no priority sorts last */
} WzSearchSortKey;

typedef struct
{
  WzSearchParamKind  kind;
  char              *token_param;  /* TOKEN/STRING: the index parameter ("identifier:value", …) */
  WzSearchMatch      match;        /* STRING */
  WzSearchPrefix     prefix;
  GPtrArray         *values;       /* normalised values, any of which may match */
  gint64             start_us;     /* LAST_UPDATED: [start, end) of the value */
  gint64             end_us;
} WzSearchParam;

/* _total: how exact Bundle.total must be. Counting every match of a broad search (one letter of
 * a name over 100,000 patients) costs many times the page itself, and a search box needs only
 * the page and whether there is more. */
typedef enum
{
  WZ_SEARCH_TOTAL_ACCURATE,      /* the default: always counted */
  WZ_SEARCH_TOTAL_ESTIMATE,      /* given when the page itself shows it, else left out */
  WZ_SEARCH_TOTAL_NONE,          /* the same: never counted beyond the page */
} WzSearchTotal;

typedef struct
{
  WzSearchSortKey key;
  gboolean        descending;
} WzSearchSort;

typedef struct
{
  char      *type;
  GPtrArray *params;     /* WzSearchParam, all of which must match */
  GArray    *sort;       /* WzSearchSort, in order */
  guint      include;    /* WzSearchInclude flags */
  WzSearchTotal total;
  guint      count;
  guint      offset;
  /* _cursor (from a next link): the page starts after this position of the default order, a
   * key only the store that gave it interprets (WzStoreResult.next_after), instead of skipping
   * OFFSET matches one by one; OFFSET still says where the page is, for the total and the
   * previous link. 0: no cursor. */
  gint64     after;
  char      *canonical;  /* the query without _count/_offset, for paging links */

  /* Access filters set by the server for the signed-in user, never parsed from the URL (so not
   * in canonical). Patient data (every type not marked reference_data) is returned only when it
   * belongs to a patient on the care team of this "Practitioner/ID" (wz_store_is_on_care_team),
   * or only when it belongs to this "Patient/ID"; data naming no patient is then left out. Both
   * may be set; each must hold. */
  char      *visible_to_practitioner;
  char      *visible_to_patient;
} WzSearchQuery;

/* Parses QUERY (the URL query string, may be NULL) of a search on TYPE. Unknown parameters,
 * modifiers or sort keys are a WZ_ERROR_INVALID naming what is supported: a search the server
 * cannot do exactly must not silently return more than was asked for. */
WzSearchQuery *wz_search_query_parse         (const char           *type,
                                              const char           *query,
                                              GError              **error);
void           wz_search_query_free          (WzSearchQuery        *self);
/* The query string of the page starting at OFFSET. */
char          *wz_search_query_page_string   (const WzSearchQuery  *self,
                                              guint                 offset);
/* The same, continuing after the store's position AFTER (0: by offset alone). */
char          *wz_search_query_page_string_after (const WzSearchQuery *self,
                                                  guint                offset,
                                                  gint64               after);
/* The search parameters TYPE supports, NULL-terminated; free with g_strfreev. Each entry is
 * "name:fhir-type", e.g. "patient:reference". */
char         **wz_search_query_supported     (const char           *type);
/* The modifiers (without the colon) parameter NAME of TYPE takes, e.g. "contains"; free with
 * g_strfreev. */
char         **wz_search_query_modifiers     (const char           *type,
                                              const char           *name);
/* The _include values TYPE supports ("Encounter:subject", …); free with g_strfreev. */
char         **wz_search_query_includes      (const char           *type);
/* Sort keys TYPE supports, NULL-terminated; free with g_strfreev. */
char         **wz_search_query_sort_keys     (const char           *type);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WzSearchQuery, wz_search_query_free)

G_END_DECLS
