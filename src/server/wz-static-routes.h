/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

/* Serves the files under WEB_ROOT (the patient page, data/web) at "/", GET and HEAD only, never
 * anything outside WEB_ROOT. */
void  wz_static_routes_register (SoupServer *server,
                                 const char *web_root);
/* The directory holding the server's data files: env WZ_DATA_DIR, else PKGDATADIR when it exists,
 * else the source tree's data/. */
char *wz_static_data_dir        (void);
/* Content type for a file name, by extension; "application/octet-stream" when unknown. */
const char *wz_static_content_type (const char *filename);

G_END_DECLS
