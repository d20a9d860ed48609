/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* A signed-in user, as the server knows them for the life of a token. A patient who opened a
 * visit link has a session too: role "patient", username "Patient/ID", no practitioner, and the
 * patient and encounter the link was made for. */
typedef struct
{
  char   *username;
  char   *role;             /* "doctor", "pharmacist", "admin", "patient" */
  char   *practitioner_id;  /* id of the Practitioner resource, without "Practitioner/" */
  char   *display_name;
  gint64  expires_at;       /* monotonic-independent wall clock, µs since the epoch */
  char   *patient_id;       /* patient sessions: id of their Patient, without "Patient/" */
  char   *encounter_id;     /* patient sessions: the Encounter the visit link was made for */
} WzSession;

/* Deep copies, for holders that outlive a request (the websocket hub). */
WzSession *wz_session_copy (const WzSession *session);
void       wz_session_free (WzSession       *session);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WzSession, wz_session_free)

/* Policy, in seconds. A token dies 8 h after login, or after 30 min without a request. Five wrong
 * passwords in a row lock the user name for 15 min: the fifth attempt still answers "wrong password",
 * every attempt while locked (even with the right password) gets WZ_ERROR_LOCKED. */
#define WZ_AUTH_TOKEN_LIFETIME_S  (8 * 60 * 60)
#define WZ_AUTH_IDLE_TIMEOUT_S    (30 * 60)
#define WZ_AUTH_MAX_FAILURES      5
#define WZ_AUTH_LOCKOUT_S         (15 * 60)
#define WZ_AUTH_MIN_PASSWORD_LEN  8

/* A visit link can be opened once within 7 days; the patient session it gives lasts 24 h. A
 * patient session has no idle timeout: the patient waits in the queue with the page open, often
 * for longer than 30 min without a request, and the session only reaches that one visit. */
#define WZ_AUTH_VISIT_LINK_LIFETIME_S     (7 * 24 * 60 * 60)
#define WZ_AUTH_PATIENT_TOKEN_LIFETIME_S  (24 * 60 * 60)

typedef enum
{
  WZ_AUTH_ADD_USER_NONE          = 0,
  /* Accept a password shorter than WZ_AUTH_MIN_PASSWORD_LEN (never an empty one): only for the
   * demo data set, whose users share WZ_DEMO_PASSWORD (default "demo"). */
  WZ_AUTH_ADD_USER_DEMO_PASSWORD = 1 << 0,
} WzAuthAddUserFlags;

/* Returns the current wall-clock time in µs since the epoch; see wz_auth_set_clock(). */
typedef gint64 (*WzAuthClock) (gpointer user_data);

#define WZ_TYPE_AUTH (wz_auth_get_type ())
G_DECLARE_FINAL_TYPE (WzAuth, wz_auth, WZ, AUTH, GObject)

/* Users and tokens live in DATA_DIR/auth.db. Passwords are hashed with argon2id at libsodium's
 * "interactive" limits; with env WZ_PWHASH_FAST=1 (tests only) at its minimum limits instead, so a
 * test suite doing hundreds of logins stays fast. The setting is read here, once.
 * Threads: wz_auth_login() and wz_auth_add_user() may run on any thread (they hash, slowly);
 * wz_auth_lookup() and wz_auth_logout() belong to one thread, the server's main loop. */
WzAuth          *wz_auth_open        (const char  *data_dir,
                                      GError     **error);
/* username: letters, digits, '.', '_', '-', '@', starting with a letter or digit, at most 64 bytes,
 * unique regardless of case; role: doctor|pharmacist|admin; display_name: NULL means username;
 * practitioner_id: FHIR id or NULL; password: at least WZ_AUTH_MIN_PASSWORD_LEN characters.
 * Errors: WZ_ERROR_INVALID (with the reason), WZ_ERROR_CONFLICT (user exists). */
gboolean         wz_auth_add_user    (WzAuth      *self,
                                      const char  *username,
                                      const char  *password,
                                      const char  *role,
                                      const char  *display_name,
                                      const char  *practitioner_id,
                                      GError     **error);
/* Same with flags; WZ_AUTH_ADD_USER_DEMO_PASSWORD for `demo-data`. */
gboolean         wz_auth_add_user_full (WzAuth              *self,
                                        const char          *username,
                                        const char          *password,
                                        const char          *role,
                                        const char          *display_name,
                                        const char          *practitioner_id,
                                        WzAuthAddUserFlags   flags,
                                        GError             **error);
/* Checks the password (argon2id), applies lockout, and on success returns a new bearer token
 * (owned by the caller) and fills *out_session (borrowed, valid until logout or expiry).
 * Errors: WZ_ERROR_UNAUTHORIZED, WZ_ERROR_LOCKED (*out_retry_after_s set), WZ_ERROR_INVALID. */
char            *wz_auth_login       (WzAuth           *self,
                                      const char       *username,
                                      const char       *password,
                                      const char       *totp,
                                      const char       *peer,
                                      const WzSession **out_session,
                                      guint            *out_retry_after_s,
                                      GError          **error);
/* Hot path for every request: NULL when the token is unknown, revoked, expired or idle too long. */
const WzSession *wz_auth_lookup      (WzAuth      *self,
                                      const char  *token);
/* Revokes the token, in memory at once and on disk before returning; emits "token-revoked". */
void             wz_auth_logout      (WzAuth      *self,
                                      const char  *token);
/* Same as wz_auth_lookup() without counting as use, so the idle clock keeps running: for
 * checking that a long-lived connection's session is still alive. */
gboolean         wz_auth_check       (WzAuth      *self,
                                      const char  *token);
/* Makes a single-use visit link token for PATIENT_ID / ENCOUNTER_ID (FHIR ids), stored hashed,
 * valid for WZ_AUTH_VISIT_LINK_LIFETIME_S; CREATED_BY ("Practitioner/ID" or a tool name) is kept
 * with it. Returns the token (43 URL-safe characters) and sets *out_expires_at (µs since the
 * epoch). Any thread. */
char            *wz_auth_create_visit_link (WzAuth      *self,
                                            const char  *patient_id,
                                            const char  *encounter_id,
                                            const char  *created_by,
                                            gint64      *out_expires_at,
                                            GError     **error);
/* Spends LINK_TOKEN and returns a new patient session token (owned by the caller), filling
 * *out_session (borrowed, like wz_auth_login()). A link works once: a second use, an expired or
 * an unknown link is WZ_ERROR_UNAUTHORIZED with a message for the patient. Any thread. */
char            *wz_auth_redeem_visit_link (WzAuth           *self,
                                            const char       *link_token,
                                            const WzSession **out_session,
                                            GError          **error);
/* Replaces the wall clock (NULL restores it). For tests of expiry, idle timeout and lockout. */
void             wz_auth_set_clock   (WzAuth      *self,
                                      WzAuthClock  clock,
                                      gpointer     user_data);

G_END_DECLS
