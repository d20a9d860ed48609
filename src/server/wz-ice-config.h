/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <libsoup/soup.h>

#include "wz-auth.h"

G_BEGIN_DECLS

#define WZ_TYPE_ICE_CONFIG (wz_ice_config_get_type ())
G_DECLARE_FINAL_TYPE (WzIceConfig, wz_ice_config, WZ, ICE_CONFIG, GObject)

/* The STUN/TURN servers video calls use, handed to signed-in clients (the patient page above
 * all) at GET /visit/ice-servers as {"iceServers":[{"urls":[…]},{"urls":[…],"username",
 * "credential"}]}, the shape RTCPeerConnection takes. */
WzIceConfig *wz_ice_config_new      (WzAuth       *auth);
/* STUN "stun:host:port" (or stun://); TURN "turn:host:port[?transport=udp],user,credential"
 * (or turn://user:credential@host:port). NULL/"" for none. FALSE with ERROR when malformed. */
gboolean     wz_ice_config_set      (WzIceConfig  *self,
                                     const char   *stun,
                                     const char   *turn,
                                     GError      **error);
void         wz_ice_config_register (WzIceConfig  *self,
                                     SoupServer   *server);

G_END_DECLS
