/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Canonical JSON after RFC 8785 (JSON Canonicalization Scheme), so that a signature made by the
 * app verifies on the server whatever either side's JSON library does with whitespace or member
 * order:
 *  - no whitespace between tokens;
 *  - object members sorted by their names compared as UTF-16 code units (as RFC 8785 says; for
 *    names within the Basic Multilingual Plane this is code point order);
 *  - strings in UTF-8, escaping only '"', '\\' and control characters below U+0020 (as \b \t \n
 *    \f \r, others as \u00xx with lower-case hex); everything else, Chinese included, written as is;
 *  - numbers as ECMAScript writes a double: integers without a fraction or exponent (1, -7, 100),
 *    others in the shortest form that reads back to the same double (0.5, 2.75, 1e-7, 1e+21).
 *    Integers beyond ±2^53 cannot be represented exactly and are refused; so are NaN and infinity.
 *  - true, false, null as literals.
 * Duplicate member names cannot occur (a JsonObject holds each name once). */
char   *wz_canonical_json_from_node   (JsonNode    *node,
                                       gsize       *out_length,
                                       GError     **error);
/* Parses TEXT (UTF-8 JSON) and returns its canonical form. */
char   *wz_canonical_json_from_string (const char  *text,
                                       gssize       length,
                                       gsize       *out_length,
                                       GError     **error);
/* The ECMAScript form of VALUE used for numbers above ("1", "0.1", "1e+21"); NULL for NaN and
 * infinity. Exposed for tests. */
char   *wz_canonical_json_number      (double       value);

G_END_DECLS
