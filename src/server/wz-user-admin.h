/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "wz-audit.h"
#include "wz-auth.h"
#include "wz-store.h"

G_BEGIN_DECLS

/* Creates (or finds, by its urn:wenzhen:username identifier) the user's Practitioner resource and
 * then the login. DISPLAY_NAME may be "李伟 Li Wei": the CJK part becomes the Chinese name, the
 * rest the Latin one. Returns the Practitioner id. Each write is audited with AGENT (a log text
 * such as "wenzhen-server user add"). */
char     *wz_user_admin_add            (WzStore             *store,
                                        WzAuth              *auth,
                                        WzAudit             *audit,
                                        const char          *agent,
                                        const char          *username,
                                        const char          *password,
                                        const char          *role,
                                        const char          *display_name,
                                        WzAuthAddUserFlags   flags,
                                        GError             **error);
/* Builds the Practitioner JSON for a user (exposed for tests). */
JsonNode *wz_user_admin_practitioner   (const char          *username,
                                        const char          *role,
                                        const char          *display_name);

G_END_DECLS
