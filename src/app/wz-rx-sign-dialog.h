/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "wz-signature.h"

G_BEGIN_DECLS

#define WZ_TYPE_RX_SIGN_DIALOG (wz_rx_sign_dialog_get_type ())
G_DECLARE_FINAL_TYPE (WzRxSignDialog, wz_rx_sign_dialog, WZ, RX_SIGN_DIALOG, AdwWindow)

/* Asks what signing needs: a reason for each high-severity finding (and each rule the doctor
 * may override, such as a longer course), and the passphrase of the doctor's signing key. On
 * the first signature on this computer the key is made here, protected by the passphrase and
 * kept in $XDG_DATA_HOME/wenzhen/keys/PRACTITIONER.key (mode 0600).
 *
 * ::unlocked (WzSigningKey *key, GHashTable *overrides key → reason, gboolean new_key) is
 * emitted once the key is open; the receiver owns KEY (wz_signing_key_free), signs, and calls
 * wz_rx_sign_dialog_finish(). */
WzRxSignDialog *wz_rx_sign_dialog_new          (GtkWindow      *parent,
                                                const char     *practitioner_id,
                                                const char     *summary);
void            wz_rx_sign_dialog_add_override (WzRxSignDialog *self,
                                                const char     *key,
                                                const char     *severity,
                                                const char     *text);
/* ERROR NULL closes the dialog; otherwise its message is shown and the doctor may try again. */
void            wz_rx_sign_dialog_finish       (WzRxSignDialog *self,
                                                const GError   *error);
/* Where the protected key of PRACTITIONER_ID lives. */
char           *wz_rx_signing_key_path         (const char     *practitioner_id);

G_END_DECLS
