/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "wz-audit.h"
#include "wz-auth.h"
#include "wz-care-team.h"
#include "wz-chat-store.h"

G_BEGIN_DECLS

/* Longest text of one chat message, in characters. */
#define WZ_CHAT_MAX_TEXT 4000

#define WZ_TYPE_CHAT_ROUTES (wz_chat_routes_get_type ())
G_DECLARE_FINAL_TYPE (WzChatRoutes, wz_chat_routes, WZ, CHAT_ROUTES, GObject)

/* The consultation chat's rules and its one endpoint of its own.
 *
 * A message is a Communication stored like any resource (wz-fhir-routes asks
 * wz_chat_routes_check_communication() before it is written); its attachments are Binary
 * resources kept in CHAT (wz-binary-routes). Receipts arrive over /ws and are kept in CHAT too;
 * a client catching up after a reconnect asks
 *
 *   GET /chat/receipts?encounter=Encounter/E   (Authorization: Bearer)
 *   → 200 {"receipts":[{"reader":"Patient/P","delivered":"<instant>","read":"<instant>"}]}
 *
 * for encounters it takes part in (others answer 404), audited like any read. */
WzChatRoutes *wz_chat_routes_new       (WzChatStore      *chat,
                                        WzAuth           *auth,
                                        WzAudit          *audit,
                                        WzCareTeam       *care_team);
void          wz_chat_routes_register  (WzChatRoutes     *self,
                                        SoupServer       *server);
/* Checks a Communication SESSION is about to store (create or update), completing what the
 * server may fill in itself (sender, subject):
 * - encounter: required, an Encounter SESSION takes part in (403 otherwise);
 * - sender: SESSION's own Practitioner or Patient reference (403 otherwise);
 * - subject: the encounter's patient (422 otherwise);
 * - status completed (or entered-in-error), sent a date-time with a time zone when given;
 * - payload: one or more of contentString (at most WZ_CHAT_MAX_TEXT characters) and
 *   contentAttachment whose url is a Binary of the same encounter (422 otherwise). */
gboolean      wz_chat_routes_check_communication (WzChatRoutes    *self,
                                                  const WzSession *session,
                                                  JsonObject      *resource,
                                                  GError         **error);

/* Whether SESSION takes part in ENCOUNTER ("Encounter/ID"): a patient only in the visit of their
 * link, staff when they may see that encounter (its patient's care team). FALSE without an error
 * when not (or when there is no such encounter); with one when the store failed.
 * *out_patient (nullable) is the encounter's "Patient/ID". */
gboolean      wz_chat_may_use_encounter (WzCareTeam      *care_team,
                                         const WzSession *session,
                                         const char      *encounter,
                                         char           **out_patient,
                                         GError         **error);
/* SESSION's own reference: "Patient/ID" for a patient, "Practitioner/ID" for staff, or NULL. */
char         *wz_chat_own_reference     (const WzSession *session);

G_END_DECLS
