/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A new resource id: 128 random bits as 26 lowercase base32 characters, which is always a valid
 * FHIR id and safe in URLs and file names. */
char *wz_id_new          (void);
/* N_BYTES random bytes as lowercase hex (2 * N_BYTES characters). */
char *wz_id_new_hex      (gsize n_bytes);
/* "urn:uuid:" followed by a random (version 4) UUID, for client-made identifiers. */
char *wz_id_new_urn_uuid (void);

G_END_DECLS
