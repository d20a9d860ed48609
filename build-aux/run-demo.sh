#!/usr/bin/env bash
# Builds Wenzhen, installs it under /usr/local (or $PREFIX) and starts the demo: a private server
# with demo data on a loopback port, logged in as the demo doctor.
set -euo pipefail
cd "$(dirname "$0")/.."

prefix=${PREFIX:-/usr/local}
builddir=build-release
if [ -f "$builddir/build.ninja" ]; then
  meson configure "$builddir" --prefix "$prefix" >/dev/null
else
  meson setup "$builddir" --prefix "$prefix" --buildtype release -Dtests=false
fi
meson compile -C "$builddir"
meson install -C "$builddir" --quiet

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "Wenzhen is installed as $prefix/bin/wenzhen, but this shell has no display."
  echo "Run 'wenzhen --demo' from a graphical session, or under Xvfb:"
  echo "  Xvfb :99 & GDK_BACKEND=x11 DISPLAY=:99 wenzhen --demo"
  exit 0
fi
exec "$prefix/bin/wenzhen" --demo
