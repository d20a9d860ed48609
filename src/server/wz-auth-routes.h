/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <libsoup/soup.h>

#include "wz-audit.h"
#include "wz-auth.h"

G_BEGIN_DECLS

/* Adds /auth/login and /auth/logout to SERVER. */
void wz_auth_routes_register (SoupServer *server,
                              WzAuth     *auth,
                              WzAudit    *audit);

G_END_DECLS
