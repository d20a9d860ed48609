/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-audit"

#include "config.h"

#include "wz-audited-response.h"

#include "wz-error.h"
#include "wz-http.h"

static void
on_audit_done (const GError *error,
               gpointer      user_data)
{
  SoupServerMessage *msg = user_data;

  if (error != NULL)
    {
      g_warning ("Audit row could not be written, withholding the response: %s", error->message);
      wz_http_respond_problem (msg, WZ_ERROR_UNAVAILABLE,
                               "The access could not be written to the audit log, so it was not "
                               "answered; try again");
    }

  /* The client may have gone away while the row was written; libsoup drops the socket of a
   * closed connection, and unpausing it then would be an error. */
  if (soup_server_message_get_socket (msg) != NULL)
    soup_server_message_unpause (msg);
  g_object_unref (msg);
}

void
wz_audited_response_send (WzAudit           *audit,
                          SoupServerMessage *msg,
                          const char        *action,
                          const char        *agent,
                          const char        *entity,
                          const char        *patient)
{
  guint status = soup_server_message_get_status (msg);
  const char *outcome = status < 400 ? "0" : status < 500 ? "4" : "8";

  g_return_if_fail (WZ_IS_AUDIT (audit));
  g_return_if_fail (SOUP_IS_SERVER_MESSAGE (msg));

  soup_server_message_pause (msg);
  wz_audit_record (audit, action, outcome, agent != NULL ? agent : "anonymous", entity, patient,
                   wz_http_peer (msg), on_audit_done, g_object_ref (msg));
}
