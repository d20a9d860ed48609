/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-signature"

#include "config.h"

#include "wz-signature.h"

#include <sodium.h>
#include <string.h>

#include "wz-canonical-json.h"
#include "wz-error.h"
#include "wz-time.h"

#define PROTECTED_PREFIX "wenzhen-signing-key-1:"
#define SALT_BYTES       crypto_pwhash_SALTBYTES
#define NONCE_BYTES      crypto_secretbox_NONCEBYTES
#define SEED_BYTES       crypto_sign_SEEDBYTES
#define BOX_BYTES        (crypto_secretbox_MACBYTES + SEED_BYTES)
#define PROTECTED_BYTES  (SALT_BYTES + 8 + 8 + NONCE_BYTES + BOX_BYTES)
#define MIN_PASSPHRASE   8

struct _WzSigningKey
{
  unsigned char *secret;   /* crypto_sign_SECRETKEYBYTES in sodium_malloc'd memory */
  char          *public_b64;
};

static void
ensure_sodium (void)
{
  if (sodium_init () < 0)
    g_error ("libsodium could not be initialised");
}

static char *
to_base64 (const unsigned char *data,
           gsize                length)
{
  return g_base64_encode (data, length);
}

/* Decodes base64 TEXT that must give exactly EXPECTED bytes. */
static gboolean
from_base64 (const char     *text,
             unsigned char  *out,
             gsize           expected,
             const char     *what,
             GError        **error)
{
  gsize length = 0;

  if (text != NULL && sodium_base642bin (out, expected, text, strlen (text), NULL, &length, NULL,
                                         sodium_base64_VARIANT_ORIGINAL) == 0 &&
      length == expected)
    return TRUE;

  g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "%s is not base64 of %" G_GSIZE_FORMAT " bytes",
               what, expected);
  return FALSE;
}

static void
store_u64 (unsigned char *out,
           guint64        value)
{
  for (guint i = 0; i < 8; i++)
    out[i] = (value >> (8 * i)) & 0xff;
}

static guint64
load_u64 (const unsigned char *in)
{
  guint64 value = 0;

  for (guint i = 0; i < 8; i++)
    value |= (guint64) in[i] << (8 * i);
  return value;
}

static gboolean
derive_box_key (const char           *passphrase,
                const unsigned char  *salt,
                guint64               opslimit,
                guint64               memlimit,
                unsigned char        *out_key,
                GError              **error)
{
  if (opslimit < crypto_pwhash_OPSLIMIT_MIN || opslimit > crypto_pwhash_OPSLIMIT_SENSITIVE ||
      memlimit < crypto_pwhash_MEMLIMIT_MIN || memlimit > crypto_pwhash_MEMLIMIT_SENSITIVE)
    {
      g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INVALID,
                           "The protected key names password-hashing limits out of range");
      return FALSE;
    }

  if (crypto_pwhash (out_key, crypto_secretbox_KEYBYTES, passphrase, strlen (passphrase), salt,
                     opslimit, memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0)
    {
      g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INTERNAL,
                           "Not enough memory to derive the key from the passphrase");
      return FALSE;
    }

  return TRUE;
}

static WzSigningKey *
key_from_seed (const unsigned char *seed)
{
  WzSigningKey *key = g_new0 (WzSigningKey, 1);
  unsigned char public_key[crypto_sign_PUBLICKEYBYTES];

  key->secret = sodium_malloc (crypto_sign_SECRETKEYBYTES);
  g_assert (key->secret != NULL);
  crypto_sign_seed_keypair (public_key, key->secret, seed);
  key->public_b64 = to_base64 (public_key, sizeof public_key);

  return key;
}

gboolean
wz_signing_key_generate (const char  *passphrase,
                         char       **out_public_key,
                         char       **out_protected_key,
                         GError     **error)
{
  unsigned char blob[PROTECTED_BYTES];
  unsigned char *salt = blob;
  unsigned char *nonce = blob + SALT_BYTES + 16;
  unsigned char *box = nonce + NONCE_BYTES;
  unsigned char *seed = NULL;
  unsigned char *box_key = NULL;
  gboolean fast = g_strcmp0 (g_getenv ("WZ_PWHASH_FAST"), "1") == 0;
  guint64 opslimit = fast ? crypto_pwhash_OPSLIMIT_MIN : crypto_pwhash_OPSLIMIT_MODERATE;
  guint64 memlimit = fast ? crypto_pwhash_MEMLIMIT_MIN : crypto_pwhash_MEMLIMIT_MODERATE;
  g_autoptr(WzSigningKey) key = NULL;
  g_autofree char *encoded = NULL;
  gboolean ok;

  g_return_val_if_fail (passphrase != NULL, FALSE);
  ensure_sodium ();

  if (g_utf8_strlen (passphrase, -1) < MIN_PASSPHRASE)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                   "The passphrase must have at least %d characters", MIN_PASSPHRASE);
      return FALSE;
    }

  seed = sodium_malloc (SEED_BYTES);
  box_key = sodium_malloc (crypto_secretbox_KEYBYTES);
  g_assert (seed != NULL && box_key != NULL);

  randombytes_buf (seed, SEED_BYTES);
  randombytes_buf (salt, SALT_BYTES);
  randombytes_buf (nonce, NONCE_BYTES);
  store_u64 (blob + SALT_BYTES, opslimit);
  store_u64 (blob + SALT_BYTES + 8, memlimit);

  ok = derive_box_key (passphrase, salt, opslimit, memlimit, box_key, error);
  if (ok)
    {
      crypto_secretbox_easy (box, seed, SEED_BYTES, nonce, box_key);
      key = key_from_seed (seed);
    }
  sodium_free (seed);
  sodium_free (box_key);
  if (!ok)
    return FALSE;

  encoded = to_base64 (blob, sizeof blob);
  *out_protected_key = g_strconcat (PROTECTED_PREFIX, encoded, NULL);
  *out_public_key = g_strdup (key->public_b64);
  return TRUE;
}

WzSigningKey *
wz_signing_key_unlock (const char  *protected_key,
                       const char  *passphrase,
                       GError     **error)
{
  unsigned char blob[PROTECTED_BYTES];
  unsigned char *seed = NULL;
  unsigned char *box_key = NULL;
  WzSigningKey *key = NULL;
  g_autofree char *trimmed = NULL;

  g_return_val_if_fail (protected_key != NULL && passphrase != NULL, NULL);
  ensure_sodium ();

  trimmed = g_strstrip (g_strdup (protected_key));
  if (!g_str_has_prefix (trimmed, PROTECTED_PREFIX) ||
      !from_base64 (trimmed + strlen (PROTECTED_PREFIX), blob, sizeof blob, "The protected key",
                    NULL))
    {
      g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INVALID,
                           "This is not a Wenzhen signing key file, or it is damaged");
      return NULL;
    }

  seed = sodium_malloc (SEED_BYTES);
  box_key = sodium_malloc (crypto_secretbox_KEYBYTES);
  g_assert (seed != NULL && box_key != NULL);

  if (derive_box_key (passphrase, blob, load_u64 (blob + SALT_BYTES),
                      load_u64 (blob + SALT_BYTES + 8), box_key, error))
    {
      const unsigned char *nonce = blob + SALT_BYTES + 16;

      if (crypto_secretbox_open_easy (seed, nonce + NONCE_BYTES, BOX_BYTES, nonce, box_key) == 0)
        key = key_from_seed (seed);
      else
        g_set_error_literal (error, WZ_ERROR, WZ_ERROR_UNAUTHORIZED,
                             "The passphrase is wrong, or the key file was changed");
    }

  sodium_free (seed);
  sodium_free (box_key);
  return key;
}

void
wz_signing_key_free (WzSigningKey *key)
{
  if (key == NULL)
    return;

  sodium_free (key->secret);
  g_free (key->public_b64);
  g_free (key);
}

const char *
wz_signing_key_get_public (WzSigningKey *key)
{
  g_return_val_if_fail (key != NULL, NULL);
  return key->public_b64;
}

char *
wz_signing_key_sign (WzSigningKey *key,
                     const void   *data,
                     gsize         length)
{
  unsigned char signature[crypto_sign_BYTES];

  g_return_val_if_fail (key != NULL, NULL);

  crypto_sign_detached (signature, NULL, data, length, key->secret);
  return to_base64 (signature, sizeof signature);
}

gboolean
wz_signature_verify (const char  *public_key,
                     const void  *data,
                     gsize        length,
                     const char  *signature,
                     GError     **error)
{
  unsigned char key[crypto_sign_PUBLICKEYBYTES];
  unsigned char sig[crypto_sign_BYTES];

  ensure_sodium ();

  if (!from_base64 (public_key, key, sizeof key, "The public key", error) ||
      !from_base64 (signature, sig, sizeof sig, "The signature", error))
    return FALSE;

  if (crypto_sign_verify_detached (sig, data, length, key) != 0)
    {
      g_set_error_literal (error, WZ_ERROR, WZ_ERROR_UNPROCESSABLE,
                           "The signature does not match the signed data: the prescription was "
                           "changed after signing, or signed with another key");
      return FALSE;
    }

  return TRUE;
}

static int
compare_by_id (gconstpointer a,
               gconstpointer b)
{
  JsonObject *x = *(JsonObject * const *) a;
  JsonObject *y = *(JsonObject * const *) b;

  return strcmp (json_object_get_string_member (x, "id"), json_object_get_string_member (y, "id"));
}

char *
wz_signature_prescription_payload (GPtrArray  *medication_requests,
                                   gsize      *out_length,
                                   GError    **error)
{
  g_autoptr(GPtrArray) sorted = g_ptr_array_new ();
  g_autoptr(JsonObject) bundle = json_object_new ();
  g_autoptr(JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  JsonArray *entries = json_array_new ();

  g_return_val_if_fail (medication_requests != NULL, NULL);

  if (medication_requests->len == 0)
    {
      json_array_unref (entries);
      g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INVALID, "There is nothing to sign");
      return NULL;
    }

  for (guint i = 0; i < medication_requests->len; i++)
    {
      JsonObject *request = g_ptr_array_index (medication_requests, i);
      JsonNode *id = json_object_get_member (request, "id");

      if (id == NULL || !JSON_NODE_HOLDS_VALUE (id) ||
          json_node_get_value_type (id) != G_TYPE_STRING)
        {
          json_array_unref (entries);
          g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INVALID,
                               "Every MedicationRequest to sign needs its id; save the draft first");
          return NULL;
        }
      g_ptr_array_add (sorted, request);
    }
  g_ptr_array_sort (sorted, compare_by_id);

  for (guint i = 0; i < sorted->len; i++)
    {
      JsonObject *request = g_ptr_array_index (sorted, i);
      JsonObject *copy = json_object_new ();
      JsonObject *entry = json_object_new ();
      JsonObjectIter iter;
      const char *name;
      JsonNode *member;

      if (i > 0 && compare_by_id (&g_ptr_array_index (sorted, i - 1), &request) == 0)
        {
          json_object_unref (copy);
          json_object_unref (entry);
          json_array_unref (entries);
          g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                       "MedicationRequest/%s appears twice in what is signed",
                       json_object_get_string_member (request, "id"));
          return NULL;
        }

      json_object_iter_init (&iter, request);
      while (json_object_iter_next (&iter, &name, &member))
        if (strcmp (name, "meta") != 0)
          json_object_set_member (copy, name, json_node_copy (member));
      json_object_set_object_member (entry, "resource", copy);
      json_array_add_object_element (entries, entry);
    }

  json_object_set_string_member (bundle, "resourceType", "Bundle");
  json_object_set_string_member (bundle, "type", "collection");
  json_object_set_array_member (bundle, "entry", entries);
  json_node_set_object (root, bundle);

  return wz_canonical_json_from_node (root, out_length, error);
}

static JsonObject *
reference_to (const char *reference)
{
  JsonObject *object = json_object_new ();

  json_object_set_string_member (object, "reference", reference);
  return object;
}

static JsonObject *
coding (const char *system,
        const char *code,
        const char *display)
{
  JsonObject *object = json_object_new ();

  json_object_set_string_member (object, "system", system);
  json_object_set_string_member (object, "code", code);
  if (display != NULL)
    json_object_set_string_member (object, "display", display);
  return object;
}

JsonObject *
wz_signature_provenance_new (GPtrArray  *targets,
                             const char *practitioner,
                             const char *signature,
                             const char *public_key,
                             gint64      when_us)
{
  JsonObject *provenance = json_object_new ();
  JsonArray *target_array = json_array_new ();
  JsonArray *agents = json_array_new ();
  JsonArray *signatures = json_array_new ();
  JsonArray *types = json_array_new ();
  JsonArray *extensions = json_array_new ();
  JsonArray *agent_codings = json_array_new ();
  JsonArray *activity_codings = json_array_new ();
  JsonObject *agent = json_object_new ();
  JsonObject *agent_type = json_object_new ();
  JsonObject *activity = json_object_new ();
  JsonObject *sig = json_object_new ();
  JsonObject *key_extension = json_object_new ();
  g_autofree char *when = wz_time_format_instant (when_us);

  for (guint i = 0; i < targets->len; i++)
    json_array_add_object_element (target_array, reference_to (g_ptr_array_index (targets, i)));

  json_array_add_object_element (activity_codings,
                                 coding ("http://terminology.hl7.org/CodeSystem/v3-DocumentCompletion",
                                         "LA", "legally authenticated"));
  json_object_set_array_member (activity, "coding", activity_codings);

  json_array_add_object_element (agent_codings,
                                 coding ("http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                                         "author", "Author"));
  json_object_set_array_member (agent_type, "coding", agent_codings);
  json_object_set_object_member (agent, "type", agent_type);
  json_object_set_object_member (agent, "who", reference_to (practitioner));
  json_array_add_object_element (agents, agent);

  json_array_add_object_element (types, coding ("urn:iso-astm:E1762-95:2013",
                                                "1.2.840.10065.1.12.1.1", "Author's Signature"));
  json_object_set_string_member (key_extension, "url", WZ_SIGNATURE_KEY_EXTENSION);
  json_object_set_string_member (key_extension, "valueBase64Binary", public_key);
  json_array_add_object_element (extensions, key_extension);
  json_object_set_array_member (sig, "extension", extensions);
  json_object_set_array_member (sig, "type", types);
  json_object_set_string_member (sig, "when", when);
  json_object_set_object_member (sig, "who", reference_to (practitioner));
  json_object_set_string_member (sig, "targetFormat", "application/fhir+json");
  json_object_set_string_member (sig, "sigFormat", WZ_SIGNATURE_FORMAT);
  json_object_set_string_member (sig, "data", signature);
  json_array_add_object_element (signatures, sig);

  json_object_set_string_member (provenance, "resourceType", "Provenance");
  json_object_set_array_member (provenance, "target", target_array);
  json_object_set_string_member (provenance, "recorded", when);
  json_object_set_object_member (provenance, "activity", activity);
  json_object_set_array_member (provenance, "agent", agents);
  json_object_set_array_member (provenance, "signature", signatures);

  return provenance;
}

char **
wz_signature_provenance_targets (JsonObject *provenance)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  JsonNode *node = json_object_get_member (provenance, "target");
  JsonArray *array;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return NULL;

  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      const char *reference;

      if (!JSON_NODE_HOLDS_OBJECT (element))
        return NULL;
      reference = json_object_get_string_member_with_default (json_node_get_object (element),
                                                              "reference", NULL);
      if (reference == NULL)
        return NULL;
      g_strv_builder_add (builder, reference);
    }

  return g_strv_builder_end (builder);
}

static const char *
object_string (JsonObject *object,
               const char *name)
{
  JsonNode *node = object ? json_object_get_member (object, name) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

/* The key named in the signature's extension, or NULL. */
static const char *
signature_key (JsonObject *sig)
{
  JsonNode *node = json_object_get_member (sig, "extension");
  JsonArray *array;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return NULL;

  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);

      if (JSON_NODE_HOLDS_OBJECT (element) &&
          g_strcmp0 (object_string (json_node_get_object (element), "url"),
                     WZ_SIGNATURE_KEY_EXTENSION) == 0)
        return object_string (json_node_get_object (element), "valueBase64Binary");
    }

  return NULL;
}

gboolean
wz_signature_verify_provenance (JsonObject *provenance,
                                GPtrArray  *medication_requests,
                                const char *public_key,
                                GError    **error)
{
  g_auto(GStrv) targets = wz_signature_provenance_targets (provenance);
  JsonNode *node = json_object_get_member (provenance, "signature");
  JsonObject *sig = NULL;
  const char *named_key;
  g_autofree char *payload = NULL;
  gsize length;

  if (node != NULL && JSON_NODE_HOLDS_ARRAY (node) &&
      json_array_get_length (json_node_get_array (node)) == 1 &&
      JSON_NODE_HOLDS_OBJECT (json_array_get_element (json_node_get_array (node), 0)))
    sig = json_array_get_object_element (json_node_get_array (node), 0);

  if (sig == NULL || g_strcmp0 (object_string (sig, "sigFormat"), WZ_SIGNATURE_FORMAT) != 0 ||
      object_string (sig, "data") == NULL || targets == NULL)
    {
      g_set_error_literal (error, WZ_ERROR, WZ_ERROR_UNPROCESSABLE,
                           "The Provenance carries no prescription signature in the format "
                           WZ_SIGNATURE_FORMAT);
      return FALSE;
    }

  named_key = signature_key (sig);
  if (public_key == NULL)
    public_key = named_key;
  if (public_key == NULL || g_strcmp0 (named_key, public_key) != 0)
    {
      g_set_error_literal (error, WZ_ERROR, WZ_ERROR_UNPROCESSABLE,
                           "The signature was not made with the signer's registered key");
      return FALSE;
    }

  /* Each target must be one of the given versions, and all of them are covered. */
  if (g_strv_length (targets) != medication_requests->len)
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_UNPROCESSABLE,
                   "The signature covers %u prescription lines, but %u were given",
                   g_strv_length (targets), medication_requests->len);
      return FALSE;
    }
  for (guint i = 0; i < medication_requests->len; i++)
    {
      JsonObject *request = g_ptr_array_index (medication_requests, i);
      const char *id = object_string (request, "id");
      JsonObject *meta = json_object_get_object_member (request, "meta");
      const char *version = object_string (meta, "versionId");
      g_autofree char *expected = g_strdup_printf ("MedicationRequest/%s/_history/%s",
                                                   id ? id : "", version ? version : "");

      if (!g_strv_contains ((const char * const *) targets, expected))
        {
          g_set_error (error, WZ_ERROR, WZ_ERROR_UNPROCESSABLE,
                       "%s is not among the versions the signature covers", expected);
          return FALSE;
        }
    }

  if ((payload = wz_signature_prescription_payload (medication_requests, &length, error)) == NULL)
    return FALSE;

  return wz_signature_verify (public_key, payload, length, object_string (sig, "data"), error);
}
