/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "wz-api-client.h"
#include "wz-call.h"

G_BEGIN_DECLS

/* The FHIR extension (on the Encounter) that records one video call: metadata only. */
#define WZ_CALL_RECORD_URL "https://wenzhen.github.io/fhir/StructureDefinition/video-call"

/* The extension for CALL once it is over: callId, start, end, duration (s), endedBy (a
 * reference: SELF_REFERENCE when this side hung up, the peer when the other did; left out when
 * nobody chose to end it) and endReason. NULL when the call never connected and was not
 * declined. */
JsonObject *wz_call_record_extension   (WzCall              *call,
                                        const char          *self_reference);

/* Adds CALL's record to its Encounter (read, add or replace the extension with the same callId,
 * PUT with If-Match; a newer version read again and retried), as the signed-in user of CLIENT.
 * Call it once the call is ENDED or FAILED. */
void        wz_call_record_save_async  (WzApiClient         *client,
                                        WzCall              *call,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data);
gboolean    wz_call_record_save_finish (GAsyncResult        *result,
                                        GError             **error);

G_END_DECLS
