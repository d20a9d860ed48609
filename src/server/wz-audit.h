/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define WZ_AUDIT_ERROR (wz_audit_error_quark ())

typedef enum
{
  WZ_AUDIT_ERROR_TAMPERED,   /* a row was changed, removed or inserted outside the writer */
} WzAuditError;

GQuark    wz_audit_error_quark (void);

#define WZ_TYPE_AUDIT (wz_audit_get_type ())
G_DECLARE_FINAL_TYPE (WzAudit, wz_audit, WZ, AUDIT, GObject)

/* Called on the main context of the thread that opened the log, once the row is on disk
 * (error == NULL) or could not be written. A response must not leave before this runs. */
typedef void (*WzAuditDone) (const GError *error,
                             gpointer      user_data);

/* Append-only, hash-chained log in DATA_DIR/audit.db, written by its own thread that commits
 * many rows per fsync. */
WzAudit  *wz_audit_open    (const char   *data_dir,
                            GError      **error);
/* action: FHIR AuditEvent action code C R U D E; outcome: "0" success, "4" minor failure, "8" serious;
 * agent: "Practitioner/ID" or a user name; entity: "Patient/ID" or "Encounter/ID" etc (nullable);
 * patient: the patient the data belongs to, "Patient/ID" (nullable); peer: remote address. */
void      wz_audit_record  (WzAudit      *self,
                            const char   *action,
                            const char   *outcome,
                            const char   *agent,
                            const char   *entity,
                            const char   *patient,
                            const char   *peer,
                            WzAuditDone   done,
                            gpointer      user_data);
/* Waits until every queued row is on disk; used on shutdown. Called on the opener's thread it also
 * runs the done callbacks of those rows before returning. */
void      wz_audit_flush   (WzAudit      *self);
/* Rows the writer has finished and transactions it committed so far (for tests and benchmarks:
 * rows / commits is the group-commit factor). Any thread. */
void      wz_audit_get_stats (WzAudit    *self,
                              guint64    *out_n_rows,
                              guint64    *out_n_commits);
/* Committed rows, newest first, as a JSON array of FHIR R4 AuditEvent resources (id = seq), for
 * an admin search. patient / agent (nullable) filter on exact values; before_seq > 0 pages back
 * from that seq; count is capped at 1000. Reads through its own connection; any thread. */
JsonNode *wz_audit_search  (WzAudit      *self,
                            const char   *patient,
                            const char   *agent,
                            gint64        before_seq,
                            guint         count,
                            GError      **error);
/* Re-walks the chain; FALSE with an error naming the first bad row if anything was changed. */
gboolean  wz_audit_verify  (const char   *data_dir,
                            guint64      *out_n_rows,
                            GError      **error);
/* Same, and on failure *out_bad_seq is the first row that does not check out (a missing row is
 * named by the seq it had). The error is WZ_AUDIT_ERROR_TAMPERED for a broken chain. */
gboolean  wz_audit_verify_chain (const char  *data_dir,
                                 guint64     *out_n_rows,
                                 gint64      *out_bad_seq,
                                 GError     **error);

G_END_DECLS
