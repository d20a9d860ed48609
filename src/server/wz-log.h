/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Installs a log writer that prints one logfmt line per message on stderr:
 *   ts=2024-05-01T08:30:00.123Z level=info domain=wz-server msg="…" key=value …
 * Debug and info messages show only for domains in G_MESSAGES_DEBUG (or "all"), as with GLib's
 * default writer. */
void     wz_log_init                (void);
/* TRUE when debug messages of DOMAIN would be written; lets hot paths skip building them. */
gboolean wz_log_debug_enabled       (const char *domain);
/* Writes TEXT as a logfmt value (quoted and escaped when it needs to be) to OUT. */
void     wz_log_append_value        (GString    *out,
                                     const char *text);

G_END_DECLS
