/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <libsoup/soup.h>

#include "wz-audit.h"
#include "wz-auth.h"

G_BEGIN_DECLS

/* Largest request body the /auth routes accept; a bigger one gets 413 before it is read. */
#define WZ_AUTH_ROUTES_MAX_BODY (16 * 1024)

/* Adds /auth/login and /auth/logout to SERVER (plus an early handler on /auth for the body cap).
 * Login answers 200 {access_token, token_type, expires_in, practitioner, role, display_name},
 * 401/429 (+ Retry-After)/400/413 with an OperationOutcome; every attempt and every logout is
 * written to AUDIT (may be NULL in tests) before the answer leaves. */
void        wz_auth_routes_register     (SoupServer        *server,
                                         WzAuth            *auth,
                                         WzAudit           *audit);
/* The token of an "Authorization: Bearer TOKEN" request header, or NULL. Borrowed from MSG. */
const char *wz_auth_routes_bearer_token (SoupServerMessage *msg);

G_END_DECLS
