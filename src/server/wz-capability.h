/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The CapabilityStatement for GET /fhir/metadata: every supported type with exactly the
 * interactions and search parameters the server implements. */
GBytes *wz_capability_statement_new (const char *software_version);

G_END_DECLS
