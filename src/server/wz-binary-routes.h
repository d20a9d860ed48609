/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <libsoup/soup.h>

#include "wz-audit.h"
#include "wz-auth.h"
#include "wz-care-team.h"
#include "wz-chat-store.h"

G_BEGIN_DECLS

/* What a 415 says: the only kinds of file a chat carries. */
#define WZ_BINARY_REFUSED_TEXT \
  "This file is not a JPEG, PNG, PDF or voice note and cannot be sent."

#define WZ_TYPE_BINARY_ROUTES (wz_binary_routes_get_type ())
G_DECLARE_FINAL_TYPE (WzBinaryRoutes, wz_binary_routes, WZ, BINARY_ROUTES, GObject)

/* Chat attachments as FHIR Binary, kept in CHAT:
 *
 *   POST /fhir/Binary   body: the file's bytes, Content-Type: its type,
 *                       X-Security-Context: Encounter/E
 *   → 201 Binary JSON (no data) + Location; 200 with the existing Binary when the same bytes
 *     were already sent in E; 413 over WZ_CHAT_MAX_BINARY (refused from the headers when the
 *     length is known, before the body is read); 415 when the bytes are not a JPEG, PNG, PDF,
 *     WebM or Ogg file of the declared type.
 *   GET /fhir/Binary/ID with Accept: application/fhir+json → Binary JSON with base64 data;
 *     any other Accept → the bytes with their type, X-Content-Type-Options: nosniff, and
 *     Content-Disposition attachment unless an image or audio.
 *
 * Who may read a Binary: whoever takes part in its encounter (the patient of that visit, staff
 * on the patient's care team); others get 404. Doctors and the visit's patient upload. Every
 * access is audited before it is answered. */
WzBinaryRoutes *wz_binary_routes_new      (WzChatStore    *chat,
                                           WzAuth         *auth,
                                           WzAudit        *audit,
                                           WzCareTeam     *care_team);
void            wz_binary_routes_register (WzBinaryRoutes *self,
                                           SoupServer     *server);

/* The media type DATA really is, from its first bytes: image/jpeg, image/png, application/pdf,
 * audio/webm (an EBML file of DocType webm), audio/ogg; NULL for anything else. */
const char     *wz_binary_sniff           (const guint8   *data,
                                           gsize           length);

G_END_DECLS
