/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "wz-test-util.h"

G_BEGIN_DECLS

/* Shared by the chat tests: visit sessions and messages (websockets are in wz-test-util.h). */

#define WZ_CHAT_TEST_TIMEOUT_MS WZ_TEST_WS_TIMEOUT_MS

/* A patient session for ENCOUNTER_ID through a visit link DOCTOR_TOKEN asks for. */
char       *wz_test_patient_session (WzTestServer *server,
                                     const char   *doctor_token,
                                     const char   *encounter_id);
/* The Communication JSON the clients send: a fresh urn:uuid (in *out_uuid when asked) unless
 * UUID is given. SENDER may be NULL. */
char       *wz_test_message_json   (const char  *encounter_id,
                                    const char  *patient_ref,
                                    const char  *sender_ref,
                                    const char  *text,
                                    const char  *uuid);
/* POST /fhir/Communication with If-None-Exist for UUID. */
WzTestResponse *wz_test_post_message (WzTestServer *server,
                                      const char   *token,
                                      const char   *json,
                                      const char   *uuid);
/* The first payload text of a Communication object. */
const char *wz_test_message_text   (JsonObject  *communication);

G_END_DECLS
