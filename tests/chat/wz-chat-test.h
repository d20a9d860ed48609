/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "wz-test-util.h"

G_BEGIN_DECLS

/* Shared by the chat tests: websockets on loopback, visit sessions and messages. */

#define WZ_CHAT_TEST_TIMEOUT_MS 10000

typedef struct
{
  SoupWebsocketConnection *conn;
  GQueue                   frames;   /* JsonNode */
  gboolean                 closed;
  gushort                  close_code;
} WzTestWs;

/* Turns the main context until CONDITION holds or TIMEOUT_MS pass. */
#define WZ_SPIN_UNTIL(condition, timeout_ms) G_STMT_START {                           \
    gint64 deadline_ = g_get_monotonic_time () + (timeout_ms) * G_TIME_SPAN_MILLISECOND; \
    while (!(condition) && g_get_monotonic_time () < deadline_)                      \
      if (!g_main_context_iteration (NULL, FALSE))                                   \
        g_usleep (500);                                                              \
  } G_STMT_END

/* Opens BASE_URL/ws with TOKEN and waits for the hello frame (dropped). */
WzTestWs   *wz_test_ws_open        (const char  *base_url,
                                    const char  *token);
void        wz_test_ws_free        (WzTestWs    *ws);
void        wz_test_ws_send        (WzTestWs    *ws,
                                    const char  *text);
/* The next frame (owned by the caller); fails the test after WZ_CHAT_TEST_TIMEOUT_MS. */
JsonNode   *wz_test_ws_next        (WzTestWs    *ws);
/* The next frame of TYPE, dropping others before it. */
JsonNode   *wz_test_ws_next_type   (WzTestWs    *ws,
                                    const char  *type);
/* Asserts nothing is queued for WS: a ping sent now comes back as the very next frame. */
void        wz_test_ws_assert_quiet (WzTestWs   *ws);
const char *wz_test_frame_member   (JsonNode    *frame,
                                    const char  *name);

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

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WzTestWs, wz_test_ws_free)

G_END_DECLS
