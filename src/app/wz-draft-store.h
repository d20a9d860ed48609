/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Drafts kept on this computer so that nothing typed is lost when the app or the network fails:
 * one JSON file per draft under $XDG_DATA_HOME/wenzhen/drafts, readable by this user only.
 * The calls block on the disk; editors run them in a worker thread. */

/* Path of the draft NAME (e.g. an encounter id, or "rx-" + encounter id). */
char     *wz_draft_store_path   (const char  *name);

/* Writes DATA to PATH: a temporary file, flushed and renamed over the old draft, so the file on
 * disk is always either the previous draft or this one, complete. Mode 0600. */
gboolean  wz_draft_store_write  (const char  *path,
                                 const char  *data,
                                 gsize        length,
                                 GError     **error);

/* The JSON object saved at PATH, or NULL when there is none or it cannot be read. */
JsonNode *wz_draft_store_read   (const char  *path);

/* Removes the draft at PATH; a missing file is not an error. */
gboolean  wz_draft_store_remove (const char  *path,
                                 GError     **error);

G_END_DECLS
