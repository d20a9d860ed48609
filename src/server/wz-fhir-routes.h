/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <libsoup/soup.h>

#include "wz-audit.h"
#include "wz-auth.h"
#include "wz-care-team.h"
#include "wz-chat-routes.h"
#include "wz-preconsult.h"
#include "wz-store.h"
#include "wz-visit-link.h"

G_BEGIN_DECLS

#define WZ_TYPE_FHIR_ROUTES (wz_fhir_routes_get_type ())
G_DECLARE_FINAL_TYPE (WzFhirRoutes, wz_fhir_routes, WZ, FHIR_ROUTES, GObject)

/* The FHIR REST API under /fhir: metadata, read, vread, create, update, delete (as a new
 * version), search and history, decided by CARE_TEAM (role and care team: what a user may not
 * see answers 404, searches are narrowed); AuditEvent search and read for admins (from the audit
 * log, paged with _cursor); POST Encounter/{id}/$visit-link through VISIT_LINK. Every request
 * but metadata needs a bearer token; every access is written to the audit log before its
 * response leaves. Each durable write emits "resource-written"; an update or retirement emits
 * "resource-superseded" with the version it replaced just before. */
WzFhirRoutes *wz_fhir_routes_new      (WzStore      *store,
                                       WzAuth       *auth,
                                       WzAudit      *audit,
                                       WzCareTeam   *care_team,
                                       WzVisitLink  *visit_link);
void          wz_fhir_routes_register (WzFhirRoutes *self,
                                       SoupServer   *server);
/* The hospital's name in the CapabilityStatement (NULL: none). */
void          wz_fhir_routes_set_organization_name (WzFhirRoutes *self,
                                                    const char   *name);
/* Pre-consultation answers are checked by PRECONSULT before they are stored, and triaged once
 * they are. */
void          wz_fhir_routes_set_preconsult (WzFhirRoutes *self,
                                             WzPreconsult *preconsult);
/* Communication creates and updates are checked by CHAT's rules before they are stored. */
void          wz_fhir_routes_set_chat       (WzFhirRoutes *self,
                                             WzChatRoutes *chat);

G_END_DECLS
