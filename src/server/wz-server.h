/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define WZ_TYPE_SERVER (wz_server_get_type ())
G_DECLARE_FINAL_TYPE (WzServer, wz_server, WZ, SERVER, GObject)

/* Opens the data directory (fhir.db, auth.db, audit.db) and sets up the routes: /fhir, /auth and
 * the patient page at /. */
WzServer *wz_server_new      (const char  *data_dir,
                              GError     **error);
/* Starts listening on LISTEN ("host:port", "[v6]:port"; port 0 picks a free one) and returns the
 * URL clients use. A non-loopback address needs TLS_CERT and TLS_KEY. */
char     *wz_server_listen   (WzServer    *self,
                              const char  *listen,
                              const char  *tls_cert,
                              const char  *tls_key,
                              GError     **error);
/* STUN/TURN servers handed to video-call clients at GET /visit/ice-servers (see wz-ice-config.h
 * for the forms); FALSE when one is malformed. */
gboolean  wz_server_set_ice_servers (WzServer    *self,
                                     const char  *stun,
                                     const char  *turn,
                                     GError     **error);
/* The hospital's name, served as the publisher of GET /fhir/metadata (for printed
 * prescriptions); NULL leaves it out. FALSE when empty or longer than 200 characters. */
gboolean  wz_server_set_organization_name (WzServer    *self,
                                           const char  *name,
                                           GError     **error);
/* Stops accepting, waits for pending audit rows, closes the databases. */
void      wz_server_shutdown (WzServer    *self);

/* Parses LISTEN into an address; exposed for tests. */
GInetSocketAddress *wz_server_parse_listen (const char  *listen,
                                            GError     **error);

G_END_DECLS
