/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* FHIR issue-type code for a WZ_ERROR ("invalid", "not-found", "conflict", …). */
const char *wz_outcome_code_for_error (const GError *error);
/* An OperationOutcome with one issue, as compact JSON bytes. SEVERITY is fatal, error, warning or
 * information; CODE a FHIR issue-type code; DIAGNOSTICS English text for the API client. */
GBytes     *wz_outcome_new            (const char   *severity,
                                       const char   *code,
                                       const char   *diagnostics);
/* The OperationOutcome that reports ERROR (severity error, code from the error, its message). */
GBytes     *wz_outcome_new_for_error  (const GError *error);

G_END_DECLS
