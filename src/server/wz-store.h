/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "wz-search-query.h"

G_BEGIN_DECLS

/* One version of a resource as stored: JSON holds the final bytes (meta filled in) that are sent
 * to clients unchanged. */
typedef struct
{
  char   *type;
  char   *id;
  gint64  version_id;
  gint64  last_updated;  /* µs since the epoch */
  char   *patient;       /* "Patient/ID" the data belongs to, or NULL */
  char   *status;        /* indexed status, or NULL */
  GBytes *json;
} WzStoredResource;

typedef struct
{
  gint64     total;      /* matches in all pages; -1 when not counted (_total=none|estimate) */
  gboolean   more;       /* there are matches after this page */
  gint64     next_after; /* with more: the next page as WzSearchQuery.after; 0 = by offset */
  GPtrArray *resources;  /* WzStoredResource of this page */
  /* WzStoredResource the page's matches refer to, asked for with _include (each once, none of
   * them a match of the page, all passing the query's access filters); NULL without _include. */
  GPtrArray *included;
} WzStoreResult;

void              wz_stored_resource_free (WzStoredResource *resource);
void              wz_store_result_free    (WzStoreResult    *result);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WzStoredResource, wz_stored_resource_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WzStoreResult, wz_store_result_free)

#define WZ_TYPE_STORE (wz_store_get_type ())
G_DECLARE_INTERFACE (WzStore, wz_store, WZ, STORE, GObject)

/* Resource storage. Calls are synchronous and belong to the thread that opened the store; a
 * successful write is durable when it returns. Errors are WZ_ERROR codes: NOT_FOUND,
 * PRECONDITION_FAILED (stale version, or several matches for If-None-Exist), UNAVAILABLE. */
struct _WzStoreInterface
{
  GTypeInterface parent_iface;

  WzStoredResource *(*read)    (WzStore              *self,
                                const char           *type,
                                const char           *id,
                                GError              **error);
  WzStoredResource *(*vread)   (WzStore              *self,
                                const char           *type,
                                const char           *id,
                                gint64                version_id,
                                GError              **error);
  WzStoredResource *(*create)  (WzStore              *self,
                                JsonObject           *resource,
                                const WzSearchQuery  *if_none_exist,
                                gboolean             *out_created,
                                GError              **error);
  WzStoredResource *(*update)  (WzStore              *self,
                                JsonObject           *resource,
                                const char           *id,
                                gint64                expected_version,
                                GError              **error);
  WzStoreResult    *(*search)  (WzStore              *self,
                                const WzSearchQuery  *query,
                                GError              **error);
  WzStoreResult    *(*history) (WzStore              *self,
                                const char           *type,
                                const char           *id,
                                guint                 count,
                                guint                 offset,
                                GError              **error);
  gboolean          (*is_on_care_team) (WzStore      *self,
                                        const char   *patient_ref,
                                        const char   *practitioner_ref,
                                        GError      **error);
  gboolean          (*begin)    (WzStore             *self,
                                 GError             **error);
  gboolean          (*commit)   (WzStore             *self,
                                 GError             **error);
  void              (*rollback) (WzStore             *self);
};

WzStoredResource *wz_store_read    (WzStore              *self,
                                    const char           *type,
                                    const char           *id,
                                    GError              **error);
WzStoredResource *wz_store_vread   (WzStore              *self,
                                    const char           *type,
                                    const char           *id,
                                    gint64                version_id,
                                    GError              **error);
/* Stores RESOURCE (already validated) as version 1 under a new id. With IF_NONE_EXIST, returns the
 * one existing match instead (*out_created = FALSE). */
WzStoredResource *wz_store_create  (WzStore              *self,
                                    JsonObject           *resource,
                                    const WzSearchQuery  *if_none_exist,
                                    gboolean             *out_created,
                                    GError              **error);
/* Stores RESOURCE as the next version of ID if the current version is EXPECTED_VERSION. There is
 * no update-as-create: an unknown ID is WZ_ERROR_NOT_FOUND. */
WzStoredResource *wz_store_update  (WzStore              *self,
                                    JsonObject           *resource,
                                    const char           *id,
                                    gint64                expected_version,
                                    GError              **error);
/* Withdraws a resource without losing it: a new version marked entered-in-error / inactive. */
WzStoredResource *wz_store_retire  (WzStore              *self,
                                    const char           *type,
                                    const char           *id,
                                    gint64                expected_version,
                                    GError              **error);
WzStoreResult    *wz_store_search  (WzStore              *self,
                                    const WzSearchQuery  *query,
                                    GError              **error);
/* Whether PRACTITIONER_REF ("Practitioner/ID") is on the care team of PATIENT_REF
 * ("Patient/ID"): named as the Patient's generalPractitioner, or as a participant of one of the
 * patient's Encounters or Appointments that is not entered-in-error. FALSE with ERROR unset when
 * they are not; FALSE with ERROR set when the store failed. */
gboolean          wz_store_is_on_care_team (WzStore      *self,
                                            const char   *patient_ref,
                                            const char   *practitioner_ref,
                                            GError      **error);
/* Transactions: the writes between wz_store_begin() and wz_store_commit() are stored together
 * or not at all, so a crash or a failed write in the middle leaves none of them. Inside, each
 * write returns what it stored (reads see it), but nothing is durable, nor should be announced
 * to anyone, before wz_store_commit() returns TRUE. A write that fails inside makes the whole
 * transaction fail: commit then stores nothing and says so. Transactions do not nest. */
gboolean          wz_store_begin    (WzStore             *self,
                                     GError             **error);
/* Stores the transaction's writes durably; FALSE (and nothing stored) if any of them failed. */
gboolean          wz_store_commit   (WzStore             *self,
                                     GError             **error);
/* Drops the transaction's writes. Safe to call when no transaction is open. */
void              wz_store_rollback (WzStore             *self);
/* Versions of one resource, newest first. */
WzStoreResult    *wz_store_history (WzStore              *self,
                                    const char           *type,
                                    const char           *id,
                                    guint                 count,
                                    guint                 offset,
                                    GError              **error);

G_END_DECLS
