/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* A signed-in user, as the server knows them for the life of a token. */
typedef struct
{
  char   *username;
  char   *role;             /* "doctor", "pharmacist", "admin" */
  char   *practitioner_id;  /* id of the Practitioner resource, without "Practitioner/" */
  char   *display_name;
  gint64  expires_at;       /* monotonic-independent wall clock, µs since the epoch */
} WzSession;

#define WZ_TYPE_AUTH (wz_auth_get_type ())
G_DECLARE_FINAL_TYPE (WzAuth, wz_auth, WZ, AUTH, GObject)

/* Users and tokens live in DATA_DIR/auth.db. */
WzAuth          *wz_auth_open        (const char  *data_dir,
                                      GError     **error);
gboolean         wz_auth_add_user    (WzAuth      *self,
                                      const char  *username,
                                      const char  *password,
                                      const char  *role,
                                      const char  *display_name,
                                      const char  *practitioner_id,
                                      GError     **error);
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
void             wz_auth_logout      (WzAuth      *self,
                                      const char  *token);

G_END_DECLS
