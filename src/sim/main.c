/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wenzhen-sim-patient"

#include "config.h"

#include <glib-unix.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "wz-sim-patient.h"
#ifdef WZ_SIM_CALLS
#include "wz-sim-call.h"
#endif

#define EXIT_USAGE 2

typedef struct
{
  GMainLoop *loop;
  int        status;
} Run;

static gboolean
on_signal (gpointer user_data)
{
  Run *run = user_data;

  g_main_loop_quit (run->loop);
  return G_SOURCE_CONTINUE;
}

static void
on_ready (WzSimPatient *sim,
          Run          *run)
{
  /* One line for whoever started us (tests, the demo) to wait for. */
  printf ("sim patient ready %s %s\n", wz_sim_patient_get_patient (sim),
          wz_sim_patient_get_encounter (sim));
  fflush (stdout);
}

static void
on_failed (WzSimPatient *sim,
           const char   *message,
           Run          *run)
{
  g_printerr ("wenzhen-sim-patient: %s\n", message);
  run->status = EXIT_FAILURE;
  g_main_loop_quit (run->loop);
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *server = NULL;
  g_autofree char *link_token = NULL;
  g_autofree char *lang = NULL;
  const GOptionEntry entries[] = {
    { "server", 's', 0, G_OPTION_ARG_STRING, &server,
      "Address of wenzhen-server, e.g. http://127.0.0.1:8080", "URL" },
    { "link-token", 't', 0, G_OPTION_ARG_STRING, &link_token,
      "Token of the visit link (or the whole link)", "TOKEN" },
    { "lang", 'l', 0, G_OPTION_ARG_STRING, &lang,
      "Language when the doctor's words give no hint: zh (default) or en", "zh|en" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(WzSimPatient) sim = NULL;
  g_autoptr(GMainLoop) loop = NULL;
#ifdef WZ_SIM_CALLS
  g_autoptr(WzSimCall) caller = NULL;
#endif
  Run run = { NULL, EXIT_SUCCESS };

  setlocale (LC_ALL, "");
  g_set_prgname ("wenzhen-sim-patient");
  g_option_context_set_summary (context,
                                "A simulated patient for the demo: opens a visit link, completes\n"
                                "the pre-consultation and answers the doctor's chat messages.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("wenzhen-sim-patient: %s\n", error->message);
      return EXIT_USAGE;
    }
  if (server == NULL || link_token == NULL ||
      (!g_str_has_prefix (server, "http://") && !g_str_has_prefix (server, "https://")))
    {
      g_printerr ("wenzhen-sim-patient: give --server http(s)://HOST:PORT and --link-token T\n");
      return EXIT_USAGE;
    }
  if (lang != NULL && strcmp (lang, "zh") != 0 && strcmp (lang, "en") != 0)
    {
      g_printerr ("wenzhen-sim-patient: --lang is zh or en\n");
      return EXIT_USAGE;
    }

  loop = g_main_loop_new (NULL, FALSE);
  run.loop = loop;
  sim = wz_sim_patient_new (server, link_token,
                            g_strcmp0 (lang, "en") == 0 ? WZ_SIM_LANG_EN : WZ_SIM_LANG_ZH);
  g_signal_connect (sim, "ready", G_CALLBACK (on_ready), &run);
  g_signal_connect (sim, "failed", G_CALLBACK (on_failed), &run);
#ifdef WZ_SIM_CALLS
  /* Answers the doctor's calls with a moving test picture and a tone. */
  caller = wz_sim_call_new (sim);
#endif

  g_unix_signal_add (SIGTERM, on_signal, &run);
  g_unix_signal_add (SIGINT, on_signal, &run);

  wz_sim_patient_start (sim);
  g_main_loop_run (loop);
#ifdef WZ_SIM_CALLS
  g_clear_object (&caller);
#endif
  wz_sim_patient_stop (sim);

  return run.status;
}
