/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "wz-session.h"

G_BEGIN_DECLS

#define WZ_CLIENT_ERROR (wz_client_error_quark ())

/* What went wrong, in the terms the user has to act on. The message of each GError is a complete,
 * translated sentence that says what to do next. */
typedef enum
{
  WZ_CLIENT_ERROR_BAD_URL,        /* the address is not one we may connect to */
  WZ_CLIENT_ERROR_UNREACHABLE,    /* refused, name not found, timeout, no route, dropped */
  WZ_CLIENT_ERROR_TLS,            /* certificate not trusted, or not TLS at all */
  WZ_CLIENT_ERROR_WRONG_PASSWORD, /* 401 on sign-in */
  WZ_CLIENT_ERROR_LOCKED,         /* 429: too many failed sign-ins */
  WZ_CLIENT_ERROR_SESSION_ENDED,  /* 401 on any other request */
  WZ_CLIENT_ERROR_FORBIDDEN,      /* 403 */
  WZ_CLIENT_ERROR_NOT_FOUND,      /* 404 on a data request */
  WZ_CLIENT_ERROR_NOT_WENZHEN,    /* something answers, but it is not a Wenzhen server */
  WZ_CLIENT_ERROR_REJECTED,       /* other 4xx */
  WZ_CLIENT_ERROR_SERVER,         /* 5xx */
  WZ_CLIENT_ERROR_CONFLICT,       /* 412/409: the record changed since it was read */
} WzClientError;

GQuark      wz_client_error_quark (void);
const char *wz_client_error_nick  (const GError *error);

#define WZ_TYPE_API_CLIENT (wz_api_client_get_type ())

G_DECLARE_FINAL_TYPE (WzApiClient, wz_api_client, WZ, API_CLIENT, GObject)

char        *wz_api_client_normalize_url     (const char           *text,
                                              GError              **error);

WzApiClient *wz_api_client_new               (void);
const char  *wz_api_client_get_base_url      (WzApiClient          *self);
gboolean     wz_api_client_set_base_url      (WzApiClient          *self,
                                              const char           *url,
                                              GError              **error);
WzSession   *wz_api_client_get_session       (WzApiClient          *self);
void         wz_api_client_forget_session    (WzApiClient          *self);

void         wz_api_client_check_server_async  (WzApiClient          *self,
                                                GCancellable         *cancellable,
                                                GAsyncReadyCallback   callback,
                                                gpointer              user_data);
gboolean     wz_api_client_check_server_finish (WzApiClient          *self,
                                                GAsyncResult         *result,
                                                GError              **error);
/* The hospital's name as the server gave it at the last successful check (NULL: the server
 * names none, or it was not checked yet). */
const char  *wz_api_client_get_organization_name (WzApiClient        *self);
void         wz_api_client_login_async       (WzApiClient          *self,
                                              const char           *username,
                                              const char           *password,
                                              GCancellable         *cancellable,
                                              GAsyncReadyCallback   callback,
                                              gpointer              user_data);
WzSession   *wz_api_client_login_finish      (WzApiClient          *self,
                                              GAsyncResult         *result,
                                              GError              **error);
void         wz_api_client_get_json_async    (WzApiClient          *self,
                                              const char           *path,
                                              GCancellable         *cancellable,
                                              GAsyncReadyCallback   callback,
                                              gpointer              user_data);
JsonNode    *wz_api_client_get_json_finish   (WzApiClient          *self,
                                              GAsyncResult         *result,
                                              GError              **error);
/* Creates or updates with a JSON body (POST/PUT). IF_MATCH, when set, is the versionId the change
 * is based on; a newer version on the server gives WZ_CLIENT_ERROR_CONFLICT. */
void         wz_api_client_send_json_async   (WzApiClient          *self,
                                              const char           *method,
                                              const char           *path,
                                              JsonNode             *body,
                                              const char           *if_match,
                                              GCancellable         *cancellable,
                                              GAsyncReadyCallback   callback,
                                              gpointer              user_data);
JsonNode    *wz_api_client_send_json_finish  (WzApiClient          *self,
                                              GAsyncResult         *result,
                                              GError              **error);
void         wz_api_client_send_bytes_async  (WzApiClient          *self,
                                              const char           *method,
                                              const char           *path,
                                              GBytes               *body,
                                              const char           *content_type,
                                              const char * const   *headers,
                                              GCancellable         *cancellable,
                                              GAsyncReadyCallback   callback,
                                              gpointer              user_data);
JsonNode    *wz_api_client_send_bytes_finish (WzApiClient          *self,
                                              GAsyncResult         *result,
                                              guint                *status,
                                              GError              **error);
void         wz_api_client_logout_async      (WzApiClient          *self,
                                              GCancellable         *cancellable,
                                              GAsyncReadyCallback   callback,
                                              gpointer              user_data);
gboolean     wz_api_client_logout_finish     (WzApiClient          *self,
                                              GAsyncResult         *result,
                                              GError              **error);

G_END_DECLS
