/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define WZ_ADVERSE_SERIOUSNESS_SYSTEM \
  "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"

/* A vaccine reaction as this server records it, whoever reports it (the patient page or a
 * doctor): AdverseEvent with actuality actual, subject Patient/ID, date (a dateTime with a time
 * zone, not in the future), event (coding or text: what happened), at least one suspectEntity
 * whose instance is an Immunization/ID, and optionally seriousness (serious | non-serious in
 * WZ_ADVERSE_SERIOUSNESS_SYSTEM). WZ_ERROR_INVALID naming the first problem otherwise. That the
 * Immunization is the subject's own is the caller's to check (it needs the store). */
gboolean    wz_adverse_event_check       (JsonObject  *event,
                                          gint64       now_us,
                                          GError     **error);
gboolean    wz_adverse_event_is_serious  (JsonObject  *event);
/* "Immunization/ID" references of the suspect entities (NULL-terminated). */
GStrv       wz_adverse_event_suspects    (JsonObject  *event);
/* The Flag a serious reaction raises for DOCTOR ("Practitioner/ID"): urgent follow-up alert,
 * flag-detail pointing at EVENT_REF, identifier from EVENT_REF so it is raised once. */
JsonNode   *wz_adverse_event_flag        (JsonObject  *event,
                                          const char  *event_ref,
                                          const char  *doctor);

G_END_DECLS
