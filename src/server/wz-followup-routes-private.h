/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* Shared by the follow-up route files (wz-followup-routes.c, wz-followup-request.c,
 * wz-careplan-routes.c, wz-vaccination-routes.c) and nothing else: the routes' state, one
 * request being answered, and the steps every handler takes (authenticate, read the body, read
 * the patient and their day, answer and audit, create resources all or nothing). */

#include "wz-followup-routes.h"

#include <math.h>
#include <string.h>

#include "wz-adverse-event.h"
#include "wz-audited-response.h"
#include "wz-bundle.h"
#include "wz-careplan-params.h"
#include "wz-careplan-template.h"
#include "wz-error.h"
#include "wz-fhir.h"
#include "wz-followup.h"
#include "wz-followup-alerts.h"
#include "wz-followup-queue.h"
#include "wz-followup-worklist.h"
#include "wz-formulary-store.h"
#include "wz-http.h"
#include "wz-nip-schedule.h"
#include "wz-json.h"
#include "wz-prescreen.h"
#include "wz-refill-plan.h"
#include "wz-rx-checks.h"
#include "wz-rx-rules.h"
#include "wz-search-query.h"
#include "wz-static-routes.h"
#include "wz-time.h"

#define MAX_BODY (256 * 1024)
#define SYNC_PAGE 1000

#define WORKLIST_PAGE 25
#define WORKLIST_MAX_PAGE 500

struct _WzFollowupRoutes
{
  GObject        parent_instance;

  WzStore       *store;
  WzAuth        *auth;
  WzAudit       *audit;
  WzCareTeam    *care_team;
  WzWsHub       *hub;

  WzNipSchedule *schedule;        /* NULL when the file could not be loaded */
  char          *schedule_problem;
  GPtrArray     *templates;
  char          *templates_problem;

  char             *data_dir;      /* where formulary.db is, for refill dates; NULL: not used */
  WzFormularyStore *formulary;     /* opened when a refill date first needs a strength */
  guint             sweep_source;  /* revisits due today into the queue, every few minutes */
};

typedef struct
{
  WzFollowupRoutes  *self;
  SoupServerMessage *msg;
  const WzSession   *session;
  char              *agent;
  GHashTable        *query;
} Request;

typedef struct
{
  GPtrArray *stored;   /* WzStoredResource, in creation order */
  GArray    *created;  /* gboolean: made by this request (else found by identifier) */
} Made;

void publish_written (WzFollowupRoutes *self,
                      GPtrArray        *written,
                      const char       *peer);

void after_write (WzFollowupRoutes *self,
                  WzStoredResource *stored,
                  const char       *peer);

void audit_and_send (Request    *req,
                     const char *action,
                     const char *entity,
                     const char *patient);

void fail (Request      *req,
           const GError *error,
           const char   *action,
           const char   *entity,
           const char   *patient);

void fail_with (Request    *req,
                int         code,
                const char *action,
                const char *entity,
                const char *message);

void respond_plain_json (SoupServerMessage *msg,
                         GBytes            *body);

GBytes *node_bytes (JsonNode *node);

void respond_built (SoupServerMessage *msg,
                    JsonBuilder       *builder);

gboolean authenticate (Request *req);

gboolean is_doctor (const WzSession *session);

const char *query_param (Request    *req,
                         const char *name);

const char *request_lang (Request *req);

const char *default_zone (WzFollowupRoutes *self);

GTimeZone *request_zone (Request     *req,
                         JsonObject  *patient,
                         const char **out_name,
                         GError     **error);

gboolean request_today (Request    *req,
                        GTimeZone  *tz,
                        WzDay      *out_today,
                        GError    **error);

void add_string_member (JsonBuilder *builder,
                        const char  *member,
                        const char  *value);

JsonNode *parse_stored (WzStoredResource  *stored,
                        GError           **error);

JsonNode *read_resource (WzFollowupRoutes  *self,
                         const char        *type,
                         const char        *id,
                         WzStoredResource **out_stored,
                         GError           **error);

JsonNode *search_all (WzFollowupRoutes  *self,
                      const char        *type,
                      const char        *query_text,
                      GError           **error);

JsonNode *read_patient_for (Request     *req,
                            const char  *id,
                            GError     **error);

GTimeZone *read_patient_day (Request     *req,
                             const char  *patient_id,
                             JsonNode   **out_patient,
                             const char **out_zone,
                             WzDay       *out_today,
                             GError     **error);

JsonNode *parse_body (Request  *req,
                      GError  **error);

void made_clear (Made *made);

WzStoredResource *create_once (WzFollowupRoutes  *self,
                               JsonNode          *resource,
                               gboolean          *out_created,
                               GError           **error);

gboolean create_into (WzFollowupRoutes  *self,
                      JsonNode          *resource,
                      Made              *made,
                      GError           **error);

gboolean create_all (WzFollowupRoutes  *self,
                     GPtrArray         *resources,
                     Made              *made,
                     GError           **error);

void respond_made (Request    *req,
                   Made       *made,
                   const char *patient,
                   const char *action);

char *own_patient (Request *req);

char *own_request (Request    *req,
                   const char *action,
                   const char *entity);

GTimeZone *own_read (Request     *req,
                     const char  *entity,
                     char       **out_patient_ref,
                     JsonNode   **out_patient,
                     const char **out_zone,
                     WzDay       *out_today);

void own_read_done (Request     *req,
                    JsonBuilder *builder,
                    const char  *entity,
                    const char  *patient_ref);

const char *member_string (JsonObject *object,
                           const char *member);

gboolean member_number (JsonObject *object,
                        const char *member,
                        double      min,
                        double      max,
                        double     *out_value,
                        GError    **error);

gboolean check_members (JsonObject         *body,
                        const char * const *allowed,
                        GError            **error);

JsonNode *own_post (Request             *req,
                    const char * const  *allowed,
                    const char          *entity,
                    char               **out_patient_ref,
                    JsonObject         **out_object,
                    const char         **out_identifier);

void respond_written (Request     *req,
                      JsonBuilder *answer,
                      gboolean     created,
                      const char  *entity,
                      const char  *patient);

WzStoredResource *create_with_identifier (WzFollowupRoutes  *self,
                                          JsonNode          *resource,
                                          gboolean          *out_created,
                                          GError           **error);

void handle_apply_template (Request *req);

void handle_set_targets (Request    *req,
                         const char *plan_id);

void handle_screening_questionnaire (Request *req);

void handle_screening_evaluation (Request *req);

void handle_vaccination_schedule (Request    *req,
                                  const char *patient_id);

void handle_reaction_followup (Request    *req,
                               const char *immunization_id);

JsonNode *vaccination_forecast (Request     *req,
                                JsonObject  *patient,
                                GTimeZone   *tz,
                                WzDay        today,
                                JsonNode   **out_immunizations,
                                GError     **error);

void handle_vaccinations (Request *req);

void handle_reaction (Request *req);

void handle_me_screening (Request *req);
