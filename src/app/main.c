/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-main"

#include "config.h"

#include <locale.h>
#include <glib/gi18n.h>

#include "wz-application.h"

/* Started from the build tree (./build/src/app/wenzhen): the catalogues are the ones compiled
 * next to it, not whatever an earlier `meson install` left under the prefix. */
static gboolean
running_uninstalled (void)
{
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);

  return self != NULL && g_str_has_prefix (self, BUILD_ROOT G_DIR_SEPARATOR_S);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(WzApplication) app = NULL;
  const char *localedir;

  /* Tests and `meson devenv` point at the catalogues compiled in the build tree. */
  localedir = g_getenv ("WZ_LOCALEDIR");
  if (localedir == NULL || *localedir == '\0')
    localedir = running_uninstalled () ? BUILD_LOCALEDIR : LOCALEDIR;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  app = wz_application_new ();

  return g_application_run (G_APPLICATION (app), argc, argv);
}
