/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Builds a Bundle as JSON text around resources that are already serialised (the stored bytes),
 * so a search result never parses what it sends. */
typedef struct _WzBundleBuilder WzBundleBuilder;

/* TYPE: "searchset" or "history"; TOTAL < 0 leaves total out. */
WzBundleBuilder *wz_bundle_builder_new       (const char      *type,
                                              gint64           total);
void             wz_bundle_builder_add_link  (WzBundleBuilder *self,
                                              const char      *relation,
                                              const char      *url);
/* RESOURCE must be one complete JSON object. SEARCH_MODE ("match") and REQUEST_METHOD/URL (for
 * history entries) are optional. */
void             wz_bundle_builder_add_entry (WzBundleBuilder *self,
                                              const char      *full_url,
                                              GBytes          *resource,
                                              const char      *search_mode,
                                              const char      *request_method,
                                              const char      *request_url);
/* Finishes and frees SELF. */
GBytes          *wz_bundle_builder_end       (WzBundleBuilder *self);
void             wz_bundle_builder_free      (WzBundleBuilder *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WzBundleBuilder, wz_bundle_builder_free)

G_END_DECLS
