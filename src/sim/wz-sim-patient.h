/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

#define WZ_TYPE_SIM_PATIENT (wz_sim_patient_get_type ())
G_DECLARE_FINAL_TYPE (WzSimPatient, wz_sim_patient, WZ, SIM_PATIENT, GObject)

/* The demo's simulated patient: what a person on the patient page would do, driven by a visit
 * link. It trades the link for a patient session (POST /auth/visit), completes the
 * pre-consultation when the visit has none yet (the Consent and QuestionnaireResponse the page
 * sends), opens /ws and answers each doctor's message after a human-like pause (typing first),
 * in Chinese or English following the doctor's words, with canned replies picked by keywords
 * (pain, fever, medicine, allergy, thanks, anything else). It acknowledges messages with
 * delivered and read receipts, sends through an outbox (one at a time, conditional create,
 * retried while the server is away) and catches up with _lastUpdated after a reconnect.
 *
 * Calls: every signaling frame of its visit (offer, answer, ice, hangup) is emitted as
 * ::message with the frame type as detail, so a call answerer connects to "message::offer"
 * and replies with wz_sim_patient_send_frame(). */

/* Language used when the doctor's text gives no hint (no letters, no Chinese). */
typedef enum
{
  WZ_SIM_LANG_ZH,
  WZ_SIM_LANG_EN,
} WzSimLang;

WzSimPatient *wz_sim_patient_new            (const char    *server_url,
                                             const char    *link_token,
                                             WzSimLang      lang);
/* Signs in and goes online; ::ready once the websocket is open, ::failed when it cannot go on
 * (the link was used or expired, the session ended). */
void          wz_sim_patient_start          (WzSimPatient  *self);
void          wz_sim_patient_stop           (WzSimPatient  *self);

/* Sends a signaling frame of TYPE ("answer", "ice", "hangup", …) to the other side of the
 * visit; FIELDS (nullable, not taken) are copied into it, and "encounter" is filled in. FALSE
 * when the websocket is not open. */
gboolean      wz_sim_patient_send_frame     (WzSimPatient  *self,
                                             const char    *type,
                                             JsonObject    *fields);

/* Known once signed in (NULL before): the patient session's token, "Patient/ID",
 * "Encounter/ID"; and the HTTP session used, for further requests. */
const char   *wz_sim_patient_get_token      (WzSimPatient  *self);
const char   *wz_sim_patient_get_patient    (WzSimPatient  *self);
const char   *wz_sim_patient_get_encounter  (WzSimPatient  *self);
const char   *wz_sim_patient_get_server_url (WzSimPatient  *self);
SoupSession  *wz_sim_patient_get_session    (WzSimPatient  *self);

/* The reply the simulated patient gives to the doctor's TEXT: its language follows TEXT
 * (FALLBACK when TEXT has neither Chinese nor Latin letters); N picks among the variants. */
const char   *wz_sim_patient_reply_for      (const char    *text,
                                             WzSimLang      fallback,
                                             guint          n);

G_END_DECLS
