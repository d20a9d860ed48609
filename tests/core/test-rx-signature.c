/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <math.h>
#include <string.h>

#include "wz-canonical-json.h"
#include "wz-error.h"
#include "wz-signature.h"

#define PASSPHRASE "correct horse battery"

static char *
canonical (const char *text)
{
  g_autoptr(GError) error = NULL;
  char *result = wz_canonical_json_from_string (text, -1, NULL, &error);

  g_assert_no_error (error);
  return result;
}

static void
test_canonical_rfc8785_example (void)
{
  /* The example of RFC 8785 section 3.2.2. */
  g_autofree char *result = canonical (
    "{\n  \"numbers\": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],\n"
    "  \"string\": \"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\",\n"
    "  \"literals\": [null, true, false]\n}");

  g_assert_cmpstr (result, ==,
                   "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,"
                   "0.002,1e-27],\"string\":\"€$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
}

static void
test_canonical_numbers (void)
{
  struct { double value; const char *text; } cases[] = {
    { 0, "0" }, { -0.0, "0" }, { 1, "1" }, { -7, "-7" }, { 0.1, "0.1" }, { 2.75, "2.75" },
    { 1e21, "1e+21" }, { 1e20, "100000000000000000000" }, { 1e-6, "0.000001" },
    { 1e-7, "1e-7" }, { 123.456, "123.456" }, { 5e-324, "5e-324" },
    { 1.7976931348623157e308, "1.7976931348623157e+308" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = wz_canonical_json_number (cases[i].value);

      g_assert_cmpstr (text, ==, cases[i].text);
    }
  g_assert_null (wz_canonical_json_number (NAN));
  g_assert_null (wz_canonical_json_number (INFINITY));
}

static void
test_canonical_ordering (void)
{
  g_autofree char *a = canonical ("{\"b\": 1, \"a\": {\"d\": [1.0, 2.50], \"c\": \"中文\"}}");
  g_autofree char *b = canonical ("{\"a\":{\"c\":\"中文\",\"d\":[1,2.5]},\"b\":1.0}");
  /* UTF-16 order: U+FB01 (one unit, FB01) sorts after the surrogate pair of U+1F600 (D83D DE00),
   * although its code point is smaller; U+20AC before both, "\u0080" after "z". */
  g_autofree char *c = canonical ("{\"ﬁ\":1,\"😀\":2,\"z\":3,\"\\u0080\":4,\"Z\":5,\"€\":6}");
  g_autoptr(GError) error = NULL;
  g_autofree char *big = wz_canonical_json_from_string ("{\"n\": 12345678901234567890}", -1,
                                                        NULL, &error);

  g_assert_cmpstr (a, ==, "{\"a\":{\"c\":\"中文\",\"d\":[1,2.5]},\"b\":1}");
  g_assert_cmpstr (a, ==, b);
  g_assert_cmpstr (c, ==, "{\"Z\":5,\"z\":3,\"\xc2\x80\":4,\"€\":6,\"😀\":2,\"ﬁ\":1}");

  /* Beyond 2^53 the value is not exact as a double: refused rather than signed wrongly. */
  g_assert_null (big);
  g_assert_error (error, WZ_ERROR, WZ_ERROR_INVALID);
}

static void
test_key_protection (void)
{
  g_autofree char *public_key = NULL;
  g_autofree char *protected_key = NULL;
  g_autoptr(WzSigningKey) key = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *damaged = NULL;
  g_autofree char *signature = NULL;
  const char data[] = "prescription";

  g_assert_false (wz_signing_key_generate ("short", &public_key, &protected_key, &error));
  g_assert_error (error, WZ_ERROR, WZ_ERROR_INVALID);
  g_clear_error (&error);

  g_assert_true (wz_signing_key_generate (PASSPHRASE, &public_key, &protected_key, &error));
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (protected_key, "wenzhen-signing-key-1:"));
  /* The secret does not appear in the clear: the file differs from every run's public key. */
  g_assert_null (strstr (protected_key, public_key));

  g_assert_null (wz_signing_key_unlock (protected_key, "wrong passphrase", &error));
  g_assert_error (error, WZ_ERROR, WZ_ERROR_UNAUTHORIZED);
  g_clear_error (&error);

  damaged = g_strdup (protected_key);
  damaged[strlen (damaged) - 6] = damaged[strlen (damaged) - 6] == 'A' ? 'B' : 'A';
  g_assert_null (wz_signing_key_unlock (damaged, PASSPHRASE, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_null (wz_signing_key_unlock ("not a key", PASSPHRASE, &error));
  g_assert_error (error, WZ_ERROR, WZ_ERROR_INVALID);
  g_clear_error (&error);

  key = wz_signing_key_unlock (protected_key, PASSPHRASE, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (wz_signing_key_get_public (key), ==, public_key);

  signature = wz_signing_key_sign (key, data, strlen (data));
  g_assert_true (wz_signature_verify (public_key, data, strlen (data), signature, &error));
  g_assert_no_error (error);
  g_assert_false (wz_signature_verify (public_key, "Prescription", strlen (data), signature,
                                       &error));
  g_assert_error (error, WZ_ERROR, WZ_ERROR_UNPROCESSABLE);
  g_clear_error (&error);
  g_assert_false (wz_signature_verify (public_key, data, strlen (data), "AAAA", &error));
  g_assert_error (error, WZ_ERROR, WZ_ERROR_INVALID);
}

static const char *const requests[] = {
  "{\"resourceType\":\"MedicationRequest\",\"id\":\"r2\",\"meta\":{\"versionId\":\"3\","
  "\"lastUpdated\":\"2024-05-01T08:00:00.000Z\"},\"status\":\"draft\",\"intent\":\"order\","
  "\"subject\":{\"reference\":\"Patient/p1\"},\"medicationCodeableConcept\":{\"coding\":[{"
  "\"code\":\"WZ0001\"}],\"text\":\"氨氯地平 5 mg\"},\"dosageInstruction\":[{\"text\":\"每日一次\","
  "\"doseAndRate\":[{\"doseQuantity\":{\"value\":5,\"unit\":\"mg\"}}]}]}",
  "{\"resourceType\":\"MedicationRequest\",\"id\":\"r1\",\"meta\":{\"versionId\":\"1\"},"
  "\"status\":\"draft\",\"intent\":\"order\",\"subject\":{\"reference\":\"Patient/p1\"},"
  "\"medicationCodeableConcept\":{\"coding\":[{\"code\":\"WZ0067\"}]},\"dosageInstruction\":[{"
  "\"doseAndRate\":[{\"doseQuantity\":{\"value\":0.5,\"unit\":\"g\"}}]}]}",
};

typedef struct
{
  GPtrArray *nodes;     /* JsonNode */
  GPtrArray *objects;   /* JsonObject, borrowed from nodes */
} Requests;

static void
requests_load (Requests *r)
{
  r->nodes = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  r->objects = g_ptr_array_new ();
  for (guint i = 0; i < G_N_ELEMENTS (requests); i++)
    {
      JsonNode *node = json_from_string (requests[i], NULL);

      g_ptr_array_add (r->nodes, node);
      g_ptr_array_add (r->objects, json_node_get_object (node));
    }
}

static void
requests_clear (Requests *r)
{
  g_ptr_array_unref (r->objects);
  g_ptr_array_unref (r->nodes);
}

static void
test_payload (void)
{
  Requests r;
  g_autoptr(GPtrArray) reversed = g_ptr_array_new ();
  g_autofree char *payload = NULL;
  g_autofree char *again = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *copy;

  requests_load (&r);
  payload = wz_signature_prescription_payload (r.objects, NULL, &error);
  g_assert_no_error (error);
  /* Sorted by id, sorted members, no meta. */
  g_assert_true (g_str_has_prefix (payload, "{\"entry\":[{\"resource\":{\"dosageInstruction\""));
  g_assert_cmpint (strstr (payload, "\"id\":\"r1\"") - payload, <,
                   strstr (payload, "\"id\":\"r2\"") - payload);
  g_assert_null (strstr (payload, "meta"));
  g_assert_null (strstr (payload, "versionId"));

  g_ptr_array_add (reversed, g_ptr_array_index (r.objects, 1));
  g_ptr_array_add (reversed, g_ptr_array_index (r.objects, 0));
  json_object_set_string_member (g_ptr_array_index (r.objects, 0), "meta", "ignored");
  again = wz_signature_prescription_payload (reversed, NULL, &error);
  g_assert_cmpstr (again, ==, payload);

  /* No id, or the same id twice, cannot be signed. */
  g_ptr_array_add (reversed, g_ptr_array_index (r.objects, 0));
  g_assert_null (wz_signature_prescription_payload (reversed, NULL, &error));
  g_assert_error (error, WZ_ERROR, WZ_ERROR_INVALID);
  g_clear_error (&error);
  copy = g_ptr_array_index (r.objects, 1);
  json_object_remove_member (copy, "id");
  g_assert_null (wz_signature_prescription_payload (r.objects, NULL, &error));
  g_assert_error (error, WZ_ERROR, WZ_ERROR_INVALID);

  requests_clear (&r);
}

/* Signs the two requests as they are and returns the Provenance (targets from their meta). */
static JsonObject *
sign_requests (Requests   *r,
               const char *protected_key)
{
  g_autoptr(WzSigningKey) key = wz_signing_key_unlock (protected_key, PASSPHRASE, NULL);
  g_autoptr(GPtrArray) targets = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *payload = NULL;
  g_autofree char *signature = NULL;
  gsize length;

  g_assert_nonnull (key);
  payload = wz_signature_prescription_payload (r->objects, &length, NULL);
  signature = wz_signing_key_sign (key, payload, length);
  for (guint i = 0; i < r->objects->len; i++)
    {
      JsonObject *request = g_ptr_array_index (r->objects, i);

      g_ptr_array_add (targets, g_strdup_printf ("MedicationRequest/%s/_history/%s",
                                                 json_object_get_string_member (request, "id"),
                                                 json_object_get_string_member (
                                                   json_object_get_object_member (request, "meta"),
                                                   "versionId")));
    }

  return wz_signature_provenance_new (targets, "Practitioner/d1", signature,
                                      wz_signing_key_get_public (key), 1714550400000000);
}

static void
assert_tampered (JsonObject *provenance,
                 Requests   *r,
                 const char *public_key)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (wz_signature_verify_provenance (provenance, r->objects, public_key, &error));
  g_assert_error (error, WZ_ERROR, WZ_ERROR_UNPROCESSABLE);
}

static void
test_provenance_tamper (void)
{
  g_autofree char *public_key = NULL;
  g_autofree char *protected_key = NULL;
  g_autofree char *other_public = NULL;
  g_autofree char *other_protected = NULL;
  g_autoptr(JsonObject) provenance = NULL;
  g_autoptr(GError) error = NULL;
  Requests r;
  JsonObject *dose;
  JsonObject *signature;
  JsonObject *meta;

  g_assert_true (wz_signing_key_generate (PASSPHRASE, &public_key, &protected_key, NULL));
  g_assert_true (wz_signing_key_generate (PASSPHRASE, &other_public, &other_protected, NULL));
  requests_load (&r);
  provenance = sign_requests (&r, protected_key);

  signature = json_array_get_object_element (json_object_get_array_member (provenance, "signature"), 0);
  g_assert_cmpstr (json_object_get_string_member (signature, "sigFormat"), ==, WZ_SIGNATURE_FORMAT);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (signature, "who"),
                                                  "reference"), ==, "Practitioner/d1");
  g_assert_cmpstr (json_object_get_string_member (provenance, "recorded"), ==,
                   "2024-05-01T08:00:00.000Z");

  g_assert_true (wz_signature_verify_provenance (provenance, r.objects, public_key, &error));
  g_assert_no_error (error);
  /* The server's meta may change (versionId kept): still valid. */
  meta = json_object_get_object_member (g_ptr_array_index (r.objects, 0), "meta");
  json_object_set_string_member (meta, "lastUpdated", "2030-01-01T00:00:00.000Z");
  g_assert_true (wz_signature_verify_provenance (provenance, r.objects, public_key, NULL));

  /* Registered key is another one. */
  assert_tampered (provenance, &r, other_public);

  /* Any field: the dose value, one character of a text, an added member. */
  dose = json_object_get_object_member (
           json_array_get_object_element (
             json_object_get_array_member (
               json_array_get_object_element (
                 json_object_get_array_member (g_ptr_array_index (r.objects, 0), "dosageInstruction"),
                 0), "doseAndRate"), 0), "doseQuantity");
  json_object_set_int_member (dose, "value", 50);
  assert_tampered (provenance, &r, public_key);
  json_object_set_int_member (dose, "value", 5);
  g_assert_true (wz_signature_verify_provenance (provenance, r.objects, public_key, NULL));

  json_object_set_string_member (json_object_get_object_member (g_ptr_array_index (r.objects, 0),
                                                                "medicationCodeableConcept"),
                                 "text", "氨氯地平 6 mg");
  assert_tampered (provenance, &r, public_key);
  json_object_set_string_member (json_object_get_object_member (g_ptr_array_index (r.objects, 0),
                                                                "medicationCodeableConcept"),
                                 "text", "氨氯地平 5 mg");
  json_object_set_string_member (g_ptr_array_index (r.objects, 1), "note", "extra");
  assert_tampered (provenance, &r, public_key);
  json_object_remove_member (g_ptr_array_index (r.objects, 1), "note");
  g_assert_true (wz_signature_verify_provenance (provenance, r.objects, public_key, NULL));

  /* A line removed, or another version than the one signed. */
  g_ptr_array_remove_index (r.objects, 1);
  assert_tampered (provenance, &r, public_key);
  g_ptr_array_add (r.objects, json_node_get_object (g_ptr_array_index (r.nodes, 1)));
  json_object_set_string_member (json_object_get_object_member (g_ptr_array_index (r.objects, 1),
                                                                "meta"), "versionId", "2");
  assert_tampered (provenance, &r, public_key);

  requests_clear (&r);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_setenv ("WZ_PWHASH_FAST", "1", TRUE);

  g_test_add_func ("/rx/signature/canonical-rfc8785-example", test_canonical_rfc8785_example);
  g_test_add_func ("/rx/signature/canonical-numbers", test_canonical_numbers);
  g_test_add_func ("/rx/signature/canonical-ordering", test_canonical_ordering);
  g_test_add_func ("/rx/signature/key-protection", test_key_protection);
  g_test_add_func ("/rx/signature/payload", test_payload);
  g_test_add_func ("/rx/signature/provenance-tamper", test_provenance_tamper);

  return g_test_run ();
}
