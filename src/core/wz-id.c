/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-id"

#include "config.h"

#include "wz-id.h"

#include <sodium.h>

static void
ensure_sodium (void)
{
  static gsize initialized = 0;

  if (g_once_init_enter (&initialized))
    {
      /* libsodium reads the kernel's random pool; without it no id can be trusted to be unique. */
      if (sodium_init () < 0)
        g_error ("libsodium could not be initialised");
      g_once_init_leave (&initialized, 1);
    }
}

char *
wz_id_new (void)
{
  static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
  guint8 bytes[16];
  char out[27];
  guint bits = 0;
  guint32 acc = 0;
  guint n = 0;

  ensure_sodium ();
  randombytes_buf (bytes, sizeof bytes);

  for (guint i = 0; i < sizeof bytes; i++)
    {
      acc = (acc << 8) | bytes[i];
      bits += 8;
      while (bits >= 5)
        {
          out[n++] = alphabet[(acc >> (bits - 5)) & 0x1f];
          bits -= 5;
        }
    }
  if (bits > 0)
    out[n++] = alphabet[(acc << (5 - bits)) & 0x1f];
  out[n] = '\0';

  return g_strdup (out);
}

char *
wz_id_new_hex (gsize n_bytes)
{
  g_autofree guint8 *bytes = NULL;
  char *out;

  g_return_val_if_fail (n_bytes > 0 && n_bytes <= 1024, NULL);

  ensure_sodium ();
  bytes = g_malloc (n_bytes);
  randombytes_buf (bytes, n_bytes);
  out = g_malloc (n_bytes * 2 + 1);
  sodium_bin2hex (out, n_bytes * 2 + 1, bytes, n_bytes);

  return out;
}

char *
wz_id_new_urn_uuid (void)
{
  g_autofree char *uuid = g_uuid_string_random ();

  return g_strconcat ("urn:uuid:", uuid, NULL);
}
