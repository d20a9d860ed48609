/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "wz-api-client.h"

G_BEGIN_DECLS

/* Where the live connection stands; the one place that changes it is wz-realtime.c. */
typedef enum
{
  WZ_REALTIME_STOPPED,      /* not signed in */
  WZ_REALTIME_CONNECTING,   /* first connection of the session */
  WZ_REALTIME_CONNECTED,    /* the server said hello */
  WZ_REALTIME_RECONNECTING, /* dropped; trying again with back-off */
} WzRealtimeState;

GType wz_realtime_state_get_type (void) G_GNUC_CONST;
#define WZ_TYPE_REALTIME_STATE (wz_realtime_state_get_type ())

#define WZ_TYPE_REALTIME (wz_realtime_get_type ())

G_DECLARE_FINAL_TYPE (WzRealtime, wz_realtime, WZ, REALTIME, GObject)

WzRealtime      *wz_realtime_new            (WzApiClient *client);
void             wz_realtime_start          (WzRealtime  *self,
                                             WzSession   *session);
void             wz_realtime_stop           (WzRealtime  *self);
WzRealtimeState  wz_realtime_get_state      (WzRealtime  *self);
gboolean         wz_realtime_get_offline    (WzRealtime  *self);
gboolean         wz_realtime_send           (WzRealtime  *self,
                                             JsonNode    *message);

/* The delay before reconnect attempt ATTEMPT (0 = the first after a drop), in milliseconds:
 * doubling from 1 s up to 30 s, each spread by ±20 % so a restarted server is not hit by every
 * client at the same instant. RANDOM is in [0, 1). */
guint            wz_realtime_backoff_ms     (guint        attempt,
                                             double       random);

G_END_DECLS
