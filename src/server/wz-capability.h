/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The CapabilityStatement for GET /fhir/metadata: every supported type with exactly the
 * interactions and search parameters the server implements. ORGANIZATION_NAME (the hospital
 * that runs this server, or NULL) is its publisher and names the installation: clients print it
 * on prescriptions. */
GBytes *wz_capability_statement_new (const char *software_version,
                                     const char *organization_name);

G_END_DECLS
