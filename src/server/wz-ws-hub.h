/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <libsoup/soup.h>

#include "wz-auth.h"
#include "wz-care-team.h"
#include "wz-chat-store.h"
#include "wz-store.h"

G_BEGIN_DECLS

/* Largest frame a client may send; a bigger one is answered with an error frame and close 1009. */
#define WZ_WS_MAX_MESSAGE    (64 * 1024)
/* Seconds between the server's websocket pings, which keep NAT and proxies from dropping a quiet
 * connection. */
#define WZ_WS_KEEPALIVE_S    30
/* Seconds between checks that each connection's session is still alive (expiry, idle); signing
 * out closes its sockets at once (policy violation, 1008). */
#define WZ_WS_SESSION_CHECK_S 60

#define WZ_TYPE_WS_HUB (wz_ws_hub_get_type ())
G_DECLARE_FINAL_TYPE (WzWsHub, wz_ws_hub, WZ, WS_HUB, GObject)

/* The realtime endpoint GET /ws: a websocket per signed-in client (token in the Authorization
 * header, or ?access_token= for browsers; 401 before the upgrade otherwise).
 *
 * Server → client text frames:
 *   {"type":"hello","role":…,"practitioner":"Practitioner/ID"}   (patients: "patient", "encounter")
 *   {"type":"resource","resourceType":…,"id":…,"versionId":"3","patient":…,"encounter":…}
 *     after every create/update the user may see (no body: the client reads it, audited)
 *   {"type":"pong"}, {"type":"error","message":…}
 * Client → server: {"type":"ping"}; and typing, offer, answer, ice, hangup, each with
 * "encounter":"Encounter/ID", relayed with "from" set by the server to the other parties of that
 * encounter (its patient and participating practitioners), refused when the sender is not one.
 * A receipt {"type":"receipt","encounter":…,"state":"delivered"|"read","upTo":"<instant>"} is
 * kept first (wz_ws_hub_set_chat_store) and relayed only when it raises the reader's mark. */
WzWsHub *wz_ws_hub_new               (WzAuth                 *auth,
                                      WzCareTeam             *care_team);
void     wz_ws_hub_register          (WzWsHub                *self,
                                      SoupServer             *server);
/* Where receipts are kept. */
void     wz_ws_hub_set_chat_store    (WzWsHub                *self,
                                      WzChatStore            *chat);
/* Tells every connection whose user may see it that RESOURCE was written. ENCOUNTER is the
 * "Encounter/ID" it belongs to (itself for an Encounter), or NULL. Call once the write is
 * durable. */
void     wz_ws_hub_publish           (WzWsHub                *self,
                                      const WzStoredResource *resource,
                                      const char             *encounter);
/* For an update or retirement of a care-team record (Patient, Encounter, Appointment): tells the
 * practitioners PREVIOUS named who may no longer see RESOURCE (a visit handed to another doctor)
 * that it changed, so their queue lets it go; their GET then answers 404. Everyone who may see
 * RESOURCE hears of it through wz_ws_hub_publish(), called after this. */
void     wz_ws_hub_publish_superseded (WzWsHub                *self,
                                       const WzStoredResource *previous,
                                       const WzStoredResource *resource,
                                       const char             *encounter);
/* Closes every connection with 1001 "going away" and waits (at most a second) for the close
 * frames to leave; for server shutdown. */
void     wz_ws_hub_close_all         (WzWsHub                *self);
guint    wz_ws_hub_get_n_connections (WzWsHub                *self);

G_END_DECLS
