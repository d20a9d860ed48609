/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <libsoup/soup.h>

#include "wz-audit.h"

G_BEGIN_DECLS

/* Sends the response already set on MSG only once its audit row is on disk: the message is paused
 * now and released by the audit writer. If the row cannot be written the response is replaced by
 * a 503, because an access that was not logged must not be answered. The outcome code is taken
 * from the response status. AGENT, ENTITY and PATIENT as for wz_audit_record(). */
void wz_audited_response_send (WzAudit           *audit,
                               SoupServerMessage *msg,
                               const char        *action,
                               const char        *agent,
                               const char        *entity,
                               const char        *patient);

G_END_DECLS
