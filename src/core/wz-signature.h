/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Base of the extension URLs this project defines. */
#define WZ_FHIR_EXTENSION_BASE "https://wenzhen.github.io/fhir/StructureDefinition/"
/* Provenance.signature extension: the Ed25519 public key (base64) the signature was made with. */
#define WZ_SIGNATURE_KEY_EXTENSION WZ_FHIR_EXTENSION_BASE "signing-key"
/* What Provenance.signature.sigFormat says: a raw Ed25519 signature (64 bytes) over the RFC 8785
 * canonical JSON described at wz_signature_prescription_payload(). */
#define WZ_SIGNATURE_FORMAT "application/x-wenzhen-ed25519-jcs"

/* A doctor's unlocked signing key, kept in libsodium's guarded memory and wiped when freed. */
typedef struct _WzSigningKey WzSigningKey;

/* Makes a new Ed25519 key pair. *OUT_PUBLIC_KEY is the public key in base64 (register it with
 * the server); *OUT_PROTECTED_KEY is text to keep on the doctor's machine:
 * "wenzhen-signing-key-1:" + base64 of salt ‖ opslimit ‖ memlimit ‖ nonce ‖ secretbox(seed),
 * the box key derived from PASSPHRASE with argon2id (crypto_pwhash, libsodium's "moderate"
 * limits; with env WZ_PWHASH_FAST=1, for tests, its minimum limits). The passphrase must have at
 * least 8 characters. */
gboolean      wz_signing_key_generate   (const char    *passphrase,
                                         char         **out_public_key,
                                         char         **out_protected_key,
                                         GError       **error);
/* Opens PROTECTED_KEY with PASSPHRASE. A wrong passphrase is WZ_ERROR_UNAUTHORIZED; damaged text
 * WZ_ERROR_INVALID. */
WzSigningKey *wz_signing_key_unlock     (const char    *protected_key,
                                         const char    *passphrase,
                                         GError       **error);
void          wz_signing_key_free       (WzSigningKey  *key);
/* Base64 public key. */
const char   *wz_signing_key_get_public (WzSigningKey  *key);
/* Base64 of the detached Ed25519 signature of DATA. */
char         *wz_signing_key_sign       (WzSigningKey  *key,
                                         const void    *data,
                                         gsize          length);

/* FALSE with WZ_ERROR_INVALID when the key or signature is not well-formed base64 of the right
 * size, WZ_ERROR_UNPROCESSABLE when the signature does not match DATA. */
gboolean      wz_signature_verify       (const char    *public_key,
                                         const void    *data,
                                         gsize          length,
                                         const char    *signature,
                                         GError       **error);

/* The bytes a prescription signature covers: the canonical JSON (wz-canonical-json.h) of
 *   {"resourceType":"Bundle","type":"collection","entry":[{"resource":R1},{"resource":R2},…]}
 * where R1, R2 … are MEDICATION_REQUESTS (JsonObject*) ordered by id, each without its "meta"
 * (the server owns versionId, lastUpdated and tags). Every request needs an id, so a signature
 * names exactly which records it covers. */
char         *wz_signature_prescription_payload (GPtrArray  *medication_requests,
                                                 gsize      *out_length,
                                                 GError    **error);
/* A Provenance for a signature: target the versioned references in TARGETS ("MedicationRequest/
 * ID/_history/N"), agent and signature.who PRACTITIONER ("Practitioner/ID"), recorded and
 * signature.when WHEN_US, signature.data SIGNATURE, sigFormat WZ_SIGNATURE_FORMAT, and the public
 * key in the WZ_SIGNATURE_KEY_EXTENSION extension. */
JsonObject   *wz_signature_provenance_new       (GPtrArray  *targets,
                                                 const char *practitioner,
                                                 const char *signature,
                                                 const char *public_key,
                                                 gint64      when_us);
/* The "MedicationRequest/ID/_history/N" targets of PROVENANCE, NULL-terminated (or NULL). */
char        **wz_signature_provenance_targets   (JsonObject *provenance);
/* Checks PROVENANCE's signature against MEDICATION_REQUESTS (the versions it targets, as
 * stored) and PUBLIC_KEY (the key registered for the signer; NULL takes the one in the
 * Provenance). Any changed field of any request, a missing or extra request, or a key other
 * than PUBLIC_KEY makes it fail with WZ_ERROR_UNPROCESSABLE and a reason. */
gboolean      wz_signature_verify_provenance    (JsonObject *provenance,
                                                 GPtrArray  *medication_requests,
                                                 const char *public_key,
                                                 GError    **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WzSigningKey, wz_signing_key_free)

G_END_DECLS
