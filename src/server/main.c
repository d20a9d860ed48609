/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wenzhen-server"

#include "config.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "wz-audit.h"
#include "wz-auth.h"
#include "wz-backup.h"
#include "wz-demo-data.h"
#include "wz-error.h"
#include "wz-formulary-store.h"
#include "wz-log.h"
#include "wz-server.h"
#include "wz-sqlite-store.h"
#include "wz-user-admin.h"
#include "wz-visit-link.h"

#define EXIT_USAGE 2

static const char usage_text[] =
  "Usage:\n"
  "  wenzhen-server serve --data-dir DIR [--listen 127.0.0.1:8080] [--tls-cert FILE --tls-key FILE]\n"
  "  wenzhen-server user add --data-dir DIR --username NAME --role doctor|pharmacist|admin\n"
  "                 [--display-name TEXT]        (password read from stdin, one line)\n"
  "  wenzhen-server demo-data --data-dir DIR [--patients N]\n"
  "  wenzhen-server formulary import --data-dir DIR FILE.csv\n"
  "  wenzhen-server visit-link --data-dir DIR --encounter ID [--base-url URL]\n"
  "                 (prints a single-use link for the encounter's patient, valid 7 days)\n"
  "  wenzhen-server audit verify --data-dir DIR\n"
  "  wenzhen-server backup --data-dir DIR FILE\n"
  "  wenzhen-server restore --data-dir DIR FILE\n"
  "\n"
  "Run “wenzhen-server COMMAND --help” for the options of one command.\n";

static char *opt_data_dir;

static const GOptionEntry data_dir_entries[] = {
  { "data-dir", 'd', 0, G_OPTION_ARG_FILENAME, &opt_data_dir,
    "Folder holding fhir.db, auth.db and audit.db", "DIR" },
  { NULL }
};

static int
fail (const GError *error)
{
  g_printerr ("wenzhen-server: %s\n", error->message);
  return EXIT_FAILURE;
}

/* Parses ARGV with ENTRIES plus --data-dir; FALSE (after printing why) on bad usage. */
static gboolean
parse_options (const char          *command,
               const char          *parameters,
               const char          *summary,
               const GOptionEntry  *entries,
               int                 *argc,
               char              ***argv,
               int                  n_positional)
{
  g_autoptr(GOptionContext) context = g_option_context_new (parameters);
  g_autoptr(GError) error = NULL;
  g_autofree char *prgname = g_strconcat ("wenzhen-server ", command, NULL);

  g_set_prgname (prgname);
  g_option_context_set_summary (context, summary);
  g_option_context_add_main_entries (context, data_dir_entries, NULL);
  if (entries != NULL)
    g_option_context_add_main_entries (context, entries, NULL);

  if (!g_option_context_parse (context, argc, argv, &error))
    {
      g_printerr ("wenzhen-server %s: %s\n", command, error->message);
      return FALSE;
    }
  if (opt_data_dir == NULL)
    {
      g_printerr ("wenzhen-server %s: --data-dir is required\n", command);
      return FALSE;
    }
  if (*argc - 1 != n_positional)
    {
      g_printerr ("wenzhen-server %s: expected %s\n", command,
                  n_positional ? parameters : "no further arguments");
      return FALSE;
    }

  return TRUE;
}

static gboolean
on_quit_signal (gpointer user_data)
{
  GMainLoop *loop = user_data;

  g_info ("Signal received, shutting down");
  g_main_loop_quit (loop);
  return G_SOURCE_CONTINUE;
}

static int
cmd_serve (int    argc,
           char **argv)
{
  g_autofree char *listen = NULL;
  g_autofree char *tls_cert = NULL;
  g_autofree char *tls_key = NULL;
  g_autofree char *database = NULL;
  g_autofree char *stun_server = NULL;
  g_autofree char *turn_server = NULL;
  g_autofree char *organization_name = NULL;
  const GOptionEntry entries[] = {
    { "listen", 'l', 0, G_OPTION_ARG_STRING, &listen,
      "Address and port (default 127.0.0.1:8080; port 0 picks a free one)", "HOST:PORT" },
    { "tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &tls_cert, "PEM certificate for HTTPS", "FILE" },
    { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &tls_key, "PEM private key for HTTPS", "FILE" },
    { "database", 0, 0, G_OPTION_ARG_STRING, &database,
      "PostgreSQL connection URL (not available in this build)", "URL" },
    { "stun-server", 0, 0, G_OPTION_ARG_STRING, &stun_server,
      "STUN server handed to video-call clients", "stun:HOST:PORT" },
    { "turn-server", 0, 0, G_OPTION_ARG_STRING, &turn_server,
      "TURN relay handed to video-call clients", "turn:HOST:PORT,USER,CREDENTIAL" },
    { "organization-name", 0, 0, G_OPTION_ARG_STRING, &organization_name,
      "The hospital's name, printed on prescriptions (CapabilityStatement publisher)", "NAME" },
    { NULL }
  };
  g_autoptr(WzServer) server = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  guint term_id, int_id;

  if (!parse_options ("serve", NULL,
                      "Runs the FHIR server. Prints “listening on URL” once it accepts requests;\n"
                      "SIGTERM or SIGINT stop it cleanly. A non-loopback address needs TLS.",
                      entries, &argc, &argv, 0))
    return EXIT_USAGE;

  if (database != NULL)
    {
      g_printerr ("wenzhen-server serve: this build stores data in SQLite only; "
                  "--database is not available\n");
      return EXIT_USAGE;
    }

  if ((server = wz_server_new (opt_data_dir, &error)) == NULL ||
      !wz_server_set_ice_servers (server, stun_server, turn_server, &error) ||
      !wz_server_set_organization_name (server, organization_name, &error) ||
      (url = wz_server_listen (server, listen ? listen : "127.0.0.1:8080", tls_cert, tls_key,
                               &error)) == NULL)
    return fail (error);

  loop = g_main_loop_new (NULL, FALSE);
  term_id = g_unix_signal_add (SIGTERM, on_quit_signal, loop);
  int_id = g_unix_signal_add (SIGINT, on_quit_signal, loop);

  /* Scripts and the app wait for exactly this line. */
  printf ("listening on %s\n", url);
  fflush (stdout);

  g_main_loop_run (loop);

  g_source_remove (term_id);
  g_source_remove (int_id);
  wz_server_shutdown (server);
  g_clear_object (&server);
  g_info ("Stopped");

  return EXIT_SUCCESS;
}

static char *
read_password (GError **error)
{
  char buffer[1024];
  gboolean tty = isatty (STDIN_FILENO);
  struct termios saved, quiet;
  char *line;

  if (tty)
    {
      g_printerr ("Password: ");
      tcgetattr (STDIN_FILENO, &saved);
      quiet = saved;
      quiet.c_lflag &= ~ECHO;
      tcsetattr (STDIN_FILENO, TCSAFLUSH, &quiet);
    }
  line = fgets (buffer, sizeof buffer, stdin);
  if (tty)
    {
      tcsetattr (STDIN_FILENO, TCSAFLUSH, &saved);
      g_printerr ("\n");
    }

  if (line == NULL)
    {
      g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INVALID,
                           "No password on standard input (give it as one line)");
      return NULL;
    }
  buffer[strcspn (buffer, "\r\n")] = '\0';

  return g_strdup (buffer);
}

static int
cmd_user_add (int    argc,
              char **argv)
{
  g_autofree char *username = NULL;
  g_autofree char *role = NULL;
  g_autofree char *display_name = NULL;
  const GOptionEntry entries[] = {
    { "username", 'u', 0, G_OPTION_ARG_STRING, &username, "Login name", "NAME" },
    { "role", 'r', 0, G_OPTION_ARG_STRING, &role, "doctor, pharmacist or admin", "ROLE" },
    { "display-name", 'n', 0, G_OPTION_ARG_STRING, &display_name,
      "Name shown to others, e.g. “李伟 Li Wei”", "TEXT" },
    { NULL }
  };
  g_autoptr(WzSqliteStore) store = NULL;
  g_autoptr(WzAuth) auth = NULL;
  g_autoptr(WzAudit) audit = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *password = NULL;
  g_autofree char *practitioner_id = NULL;

  if (!parse_options ("user add", NULL,
                      "Adds a login and its Practitioner record. The password is read from\n"
                      "standard input (one line, at least 8 characters).",
                      entries, &argc, &argv, 0))
    return EXIT_USAGE;
  if (username == NULL || role == NULL)
    {
      g_printerr ("wenzhen-server user add: --username and --role are required\n");
      return EXIT_USAGE;
    }
  if (g_strcmp0 (role, "doctor") != 0 && g_strcmp0 (role, "pharmacist") != 0 &&
      g_strcmp0 (role, "admin") != 0)
    {
      g_printerr ("wenzhen-server user add: --role must be doctor, pharmacist or admin\n");
      return EXIT_USAGE;
    }

  if ((password = read_password (&error)) == NULL)
    return fail (error);

  if ((store = wz_sqlite_store_open (opt_data_dir, &error)) == NULL ||
      (auth = wz_auth_open (opt_data_dir, &error)) == NULL ||
      (audit = wz_audit_open (opt_data_dir, &error)) == NULL)
    return fail (error);

  practitioner_id = wz_user_admin_add (WZ_STORE (store), auth, audit, "wenzhen-server user add",
                                       username, password, role, display_name,
                                       WZ_AUTH_ADD_USER_NONE, &error);
  memset (password, 0, strlen (password));
  wz_audit_flush (audit);
  if (practitioner_id == NULL)
    return fail (error);

  printf ("Added %s (%s) as Practitioner/%s\n", username, role, practitioner_id);
  return EXIT_SUCCESS;
}

static int
cmd_demo_data (int    argc,
               char **argv)
{
  int n_patients = 8;
  const GOptionEntry entries[] = {
    { "patients", 'p', 0, G_OPTION_ARG_INT, &n_patients, "Number of patients (default 8)", "N" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  const char *password = g_getenv ("WZ_DEMO_PASSWORD");

  if (!parse_options ("demo-data", NULL,
                      "Fills a new, empty data directory with a demo clinic: users doctor,\n"
                      "doctor2, pharmacist and admin (password from env WZ_DEMO_PASSWORD, default\n"
                      "“demo”), patients with allergies and conditions, and today’s virtual visits.\n"
                      "Each doctor sees only their own patients; doctor2 has two.",
                      entries, &argc, &argv, 0))
    return EXIT_USAGE;
  if (n_patients < 0 || n_patients > 200000)
    {
      g_printerr ("wenzhen-server demo-data: --patients must be between 0 and 200000\n");
      return EXIT_USAGE;
    }

  if (!wz_demo_data_create (opt_data_dir, n_patients, password ? password : "demo", &error))
    return fail (error);

  printf ("Demo data created in %s: users doctor, doctor2, pharmacist, admin; %d patients of "
          "doctor and %d of doctor2\n", opt_data_dir, n_patients, n_patients > 0 ? 2 : 0);
  return EXIT_SUCCESS;
}

static int
cmd_visit_link (int    argc,
                char **argv)
{
  g_autofree char *encounter = NULL;
  g_autofree char *base_url = NULL;
  const GOptionEntry entries[] = {
    { "encounter", 'e', 0, G_OPTION_ARG_STRING, &encounter, "Id of the Encounter", "ID" },
    { "base-url", 'b', 0, G_OPTION_ARG_STRING, &base_url,
      "Address patients reach the server at (default http://127.0.0.1:8080)", "URL" },
    { NULL }
  };
  g_autoptr(WzSqliteStore) store = NULL;
  g_autoptr(WzAuth) auth = NULL;
  g_autoptr(WzAudit) audit = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *token = NULL;
  g_autofree char *patient = NULL;
  g_autofree char *entity = NULL;
  g_autofree char *url = NULL;
  g_autofree char *trimmed = NULL;
  const char *base;
  gint64 expires_at = 0;

  if (!parse_options ("visit-link", NULL,
                      "Prints a link the patient of the encounter opens to join the visit: it\n"
                      "works once, within 7 days, and is recorded in the audit log. Give it to\n"
                      "the patient only (it is as good as a password for that one visit).",
                      entries, &argc, &argv, 0))
    return EXIT_USAGE;
  if (encounter == NULL)
    {
      g_printerr ("wenzhen-server visit-link: --encounter is required\n");
      return EXIT_USAGE;
    }
  base = base_url ? base_url : "http://127.0.0.1:8080";
  if (!g_str_has_prefix (base, "http://") && !g_str_has_prefix (base, "https://"))
    {
      g_printerr ("wenzhen-server visit-link: --base-url must start with http:// or https://\n");
      return EXIT_USAGE;
    }

  if ((store = wz_sqlite_store_open (opt_data_dir, &error)) == NULL ||
      (auth = wz_auth_open (opt_data_dir, &error)) == NULL ||
      (audit = wz_audit_open (opt_data_dir, &error)) == NULL ||
      (token = wz_visit_link_make (WZ_STORE (store), auth, encounter,
                                   "wenzhen-server visit-link", &patient, &expires_at,
                                   &error)) == NULL)
    return fail (error);

  entity = g_strconcat ("Encounter/", encounter, NULL);
  wz_audit_record (audit, "E", "0", "wenzhen-server visit-link", entity, patient, "local",
                   NULL, NULL);
  wz_audit_flush (audit);

  trimmed = g_strdup (base);
  if (g_str_has_suffix (trimmed, "/"))
    trimmed[strlen (trimmed) - 1] = '\0';
  url = wz_visit_link_url (trimmed, token);
  printf ("%s\n", url);
  return EXIT_SUCCESS;
}

static int
cmd_audit_verify (int    argc,
                  char **argv)
{
  g_autoptr(GError) error = NULL;
  guint64 n_rows = 0;

  if (!parse_options ("audit verify", NULL,
                      "Re-checks the hash chain of the audit log. Exit status 1 when any row\n"
                      "was changed, removed or inserted.",
                      NULL, &argc, &argv, 0))
    return EXIT_USAGE;

  if (!wz_audit_verify (opt_data_dir, &n_rows, &error))
    {
      printf ("audit log TAMPERED: %s\n", error->message);
      return EXIT_FAILURE;
    }

  printf ("audit log intact: %" G_GUINT64_FORMAT " rows verified\n", n_rows);
  return EXIT_SUCCESS;
}

static int
cmd_backup (int    argc,
            char **argv)
{
  g_autoptr(GError) error = NULL;

  if (!parse_options ("backup", "FILE",
                      "Writes a consistent snapshot of fhir.db, auth.db and audit.db (SQLite\n"
                      "online backup, safe while the server runs) into FILE, itself an SQLite\n"
                      "file with a table backup_files(name, sha256, data).",
                      NULL, &argc, &argv, 1))
    return EXIT_USAGE;

  if (!wz_backup_create (opt_data_dir, argv[1], &error))
    return fail (error);

  printf ("Backup written to %s\n", argv[1]);
  return EXIT_SUCCESS;
}

static int
cmd_restore (int    argc,
             char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *aside = NULL;

  if (!parse_options ("restore", "FILE",
                      "Restores the databases from a backup FILE into the data directory. Stop\n"
                      "the server first. The databases it replaces are moved into\n"
                      "DIR/pre-restore-TIMESTAMP/, never deleted.",
                      NULL, &argc, &argv, 1))
    return EXIT_USAGE;

  if (!wz_backup_restore (opt_data_dir, argv[1], &aside, &error))
    return fail (error);

  printf ("Restored %s into %s", argv[1], opt_data_dir);
  if (aside != NULL)
    printf (" (previous databases kept in %s)", aside);
  printf ("\n");
  return EXIT_SUCCESS;
}

int
main (int    argc,
      char **argv)
{
  const char *command = argc > 1 ? argv[1] : NULL;
  int status;

  setlocale (LC_ALL, "");
  wz_log_init ();

  if (command == NULL || strcmp (command, "--help") == 0 || strcmp (command, "-h") == 0 ||
      strcmp (command, "help") == 0)
    {
      fputs (usage_text, command ? stdout : stderr);
      return command ? EXIT_SUCCESS : EXIT_USAGE;
    }
  if (strcmp (command, "--version") == 0)
    {
      printf ("wenzhen-server %s\n", PACKAGE_VERSION);
      return EXIT_SUCCESS;
    }

  /* Two-word commands shift by two, so each sees its options from argv[1]. */
  if (strcmp (command, "serve") == 0)
    status = cmd_serve (argc - 1, argv + 1);
  else if (strcmp (command, "user") == 0 && argc > 2 && strcmp (argv[2], "add") == 0)
    status = cmd_user_add (argc - 2, argv + 2);
  else if (strcmp (command, "formulary") == 0)
    status = wz_formulary_store_command (argc - 2, argv + 2);
  else if (strcmp (command, "demo-data") == 0)
    status = cmd_demo_data (argc - 1, argv + 1);
  else if (strcmp (command, "visit-link") == 0)
    status = cmd_visit_link (argc - 1, argv + 1);
  else if (strcmp (command, "audit") == 0 && argc > 2 && strcmp (argv[2], "verify") == 0)
    status = cmd_audit_verify (argc - 2, argv + 2);
  else if (strcmp (command, "backup") == 0)
    status = cmd_backup (argc - 1, argv + 1);
  else if (strcmp (command, "restore") == 0)
    status = cmd_restore (argc - 1, argv + 1);
  else
    {
      g_printerr ("wenzhen-server: unknown command “%s”\n\n%s", command, usage_text);
      status = EXIT_USAGE;
    }

  g_free (opt_data_dir);
  return status;
}
