/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-canonical-json"

#include "config.h"

#include "wz-canonical-json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wz-error.h"

/* 2^53: the largest range in which every integer is an exact double. */
#define MAX_SAFE_INTEGER G_GINT64_CONSTANT (9007199254740992)

char *
wz_canonical_json_number (double value)
{
  char buffer[40];
  char digits[20];
  gsize k = 0;
  int exponent;
  int n;
  GString *out;
  const char *e;

  if (isnan (value) || isinf (value))
    return NULL;
  if (value == 0)
    return g_strdup ("0");

  out = g_string_new (NULL);
  if (value < 0)
    {
      g_string_append_c (out, '-');
      value = -value;
    }

  /* The fewest significant digits that read back to the same double; printf rounds correctly,
   * so the first precision that round-trips gives the digits ECMAScript chooses. */
  for (int precision = 1; precision <= 17; precision++)
    {
      snprintf (buffer, sizeof buffer, "%.*e", precision - 1, value);
      if (strtod (buffer, NULL) == value)
        break;
    }

  e = strchr (buffer, 'e');
  for (const char *p = buffer; p < e; p++)
    if (g_ascii_isdigit (*p))
      digits[k++] = *p;
  while (k > 1 && digits[k - 1] == '0')
    k--;
  digits[k] = '\0';
  exponent = atoi (e + 1);
  /* ECMAScript's n: the value is 0.DIGITS × 10^n. */
  n = exponent + 1;

  if ((int) k <= n && n <= 21)
    {
      g_string_append_len (out, digits, k);
      for (int i = 0; i < n - (int) k; i++)
        g_string_append_c (out, '0');
    }
  else if (0 < n && n <= 21)
    {
      g_string_append_len (out, digits, n);
      g_string_append_c (out, '.');
      g_string_append (out, digits + n);
    }
  else if (-6 < n && n <= 0)
    {
      g_string_append (out, "0.");
      for (int i = 0; i < -n; i++)
        g_string_append_c (out, '0');
      g_string_append (out, digits);
    }
  else
    {
      g_string_append_c (out, digits[0]);
      if (k > 1)
        {
          g_string_append_c (out, '.');
          g_string_append (out, digits + 1);
        }
      g_string_append_printf (out, "e%c%d", n - 1 < 0 ? '-' : '+', ABS (n - 1));
    }

  return g_string_free (out, FALSE);
}

static void
append_string (GString    *out,
               const char *text)
{
  g_string_append_c (out, '"');
  for (const unsigned char *p = (const unsigned char *) text; *p; p++)
    {
      switch (*p)
        {
        case '"':
          g_string_append (out, "\\\"");
          break;
        case '\\':
          g_string_append (out, "\\\\");
          break;
        case '\b':
          g_string_append (out, "\\b");
          break;
        case '\t':
          g_string_append (out, "\\t");
          break;
        case '\n':
          g_string_append (out, "\\n");
          break;
        case '\f':
          g_string_append (out, "\\f");
          break;
        case '\r':
          g_string_append (out, "\\r");
          break;
        default:
          if (*p < 0x20)
            g_string_append_printf (out, "\\u%04x", *p);
          else
            g_string_append_c (out, (char) *p);
        }
    }
  g_string_append_c (out, '"');
}

static gboolean
has_supplementary (const char *text)
{
  for (const unsigned char *p = (const unsigned char *) text; *p; p++)
    if (*p >= 0xF0)
      return TRUE;
  return FALSE;
}

/* RFC 8785 orders names by UTF-16 code units. UTF-8 byte order is code point order, which agrees
 * with it except when a character outside the BMP (a surrogate pair in UTF-16) meets one in
 * U+E000–U+FFFF; only then convert. */
static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  const char *x = *(const char * const *) a;
  const char *y = *(const char * const *) b;
  g_autofree gunichar2 *ux = NULL;
  g_autofree gunichar2 *uy = NULL;
  glong nx, ny;

  if (!has_supplementary (x) && !has_supplementary (y))
    return strcmp (x, y);

  ux = g_utf8_to_utf16 (x, -1, NULL, &nx, NULL);
  uy = g_utf8_to_utf16 (y, -1, NULL, &ny, NULL);
  for (glong i = 0; i < MIN (nx, ny); i++)
    if (ux[i] != uy[i])
      return ux[i] < uy[i] ? -1 : 1;

  return nx < ny ? -1 : nx > ny;
}

static gboolean
append_node (GString   *out,
             JsonNode  *node,
             GError   **error)
{
  switch (JSON_NODE_TYPE (node))
    {
    case JSON_NODE_NULL:
      g_string_append (out, "null");
      return TRUE;

    case JSON_NODE_OBJECT:
      {
        JsonObject *object = json_node_get_object (node);
        GList *members = json_object_get_members (object);
        g_autoptr(GPtrArray) names = g_ptr_array_new ();

        for (GList *l = members; l != NULL; l = l->next)
          g_ptr_array_add (names, l->data);
        g_list_free (members);
        g_ptr_array_sort (names, compare_names);

        g_string_append_c (out, '{');
        for (guint i = 0; i < names->len; i++)
          {
            const char *name = g_ptr_array_index (names, i);

            if (i > 0)
              g_string_append_c (out, ',');
            append_string (out, name);
            g_string_append_c (out, ':');
            if (!append_node (out, json_object_get_member (object, name), error))
              return FALSE;
          }
        g_string_append_c (out, '}');
        return TRUE;
      }

    case JSON_NODE_ARRAY:
      {
        JsonArray *array = json_node_get_array (node);

        g_string_append_c (out, '[');
        for (guint i = 0; i < json_array_get_length (array); i++)
          {
            if (i > 0)
              g_string_append_c (out, ',');
            if (!append_node (out, json_array_get_element (array, i), error))
              return FALSE;
          }
        g_string_append_c (out, ']');
        return TRUE;
      }

    case JSON_NODE_VALUE:
    default:
      break;
    }

  switch (json_node_get_value_type (node))
    {
    case G_TYPE_STRING:
      {
        const char *text = json_node_get_string (node);

        if (!g_utf8_validate (text, -1, NULL))
          {
            g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INVALID,
                                 "A string is not valid UTF-8 and has no canonical form");
            return FALSE;
          }
        append_string (out, text);
        return TRUE;
      }

    case G_TYPE_BOOLEAN:
      g_string_append (out, json_node_get_boolean (node) ? "true" : "false");
      return TRUE;

    case G_TYPE_INT64:
      {
        gint64 value = json_node_get_int (node);

        if (value > MAX_SAFE_INTEGER || value < -MAX_SAFE_INTEGER)
          {
            g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID,
                         "The number %" G_GINT64_FORMAT " is too large to sign exactly "
                         "(canonical JSON numbers are doubles, exact up to 2^53)", value);
            return FALSE;
          }
        g_string_append_printf (out, "%" G_GINT64_FORMAT, value);
        return TRUE;
      }

    case G_TYPE_DOUBLE:
      {
        g_autofree char *text = wz_canonical_json_number (json_node_get_double (node));

        if (text == NULL)
          {
            g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INVALID,
                                 "NaN and infinity have no JSON form");
            return FALSE;
          }
        g_string_append (out, text);
        return TRUE;
      }

    default:
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "Unexpected JSON value of type %s",
                   g_type_name (json_node_get_value_type (node)));
      return FALSE;
    }
}

char *
wz_canonical_json_from_node (JsonNode  *node,
                             gsize     *out_length,
                             GError   **error)
{
  g_autoptr(GString) out = g_string_new (NULL);

  g_return_val_if_fail (node != NULL, NULL);

  if (!append_node (out, node, error))
    return NULL;

  if (out_length != NULL)
    *out_length = out->len;
  return g_string_free (g_steal_pointer (&out), FALSE);
}

char *
wz_canonical_json_from_string (const char  *text,
                               gssize       length,
                               gsize       *out_length,
                               GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GError) local_error = NULL;
  JsonNode *root;

  if (length < 0)
    length = strlen (text);
  if (!g_utf8_validate_len (text, length, NULL))
    {
      g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INVALID, "JSON text is not valid UTF-8");
      return NULL;
    }
  if (!json_parser_load_from_data (parser, text, length, &local_error))
    {
      g_set_error (error, WZ_ERROR, WZ_ERROR_INVALID, "Malformed JSON: %s", local_error->message);
      return NULL;
    }
  if ((root = json_parser_get_root (parser)) == NULL)
    {
      g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INVALID, "JSON text is empty");
      return NULL;
    }

  return wz_canonical_json_from_node (root, out_length, error);
}
