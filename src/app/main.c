/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-main"

#include "config.h"

#include <locale.h>
#include <glib/gi18n.h>

#include "wz-application.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(WzApplication) app = NULL;
  const char *localedir;

  /* Tests and `meson devenv` point at the catalogues compiled in the build tree. */
  localedir = g_getenv ("WZ_LOCALEDIR");
  if (localedir == NULL || *localedir == '\0')
    localedir = LOCALEDIR;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  app = wz_application_new ();

  return g_application_run (G_APPLICATION (app), argc, argv);
}
