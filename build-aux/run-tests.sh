#!/usr/bin/env bash
# Builds Wenzhen in build/ (warnings are errors) and runs the whole test suite. UI tests start
# their own Xvfb. Usage: build-aux/run-tests.sh [meson test arguments…]
set -euo pipefail
cd "$(dirname "$0")/.."

builddir=${WZ_BUILD:-build}
if [ -d "$builddir" ] && [ -f "$builddir/build.ninja" ]; then
  meson configure "$builddir" -Dwerror=true >/dev/null
else
  meson setup "$builddir" -Dwerror=true
fi
meson compile -C "$builddir"
meson test -C "$builddir" --print-errorlogs --num-processes 2 "$@"
