#!/usr/bin/env bash
# Builds Wenzhen in build/ (warnings are errors) and runs the whole test suite. UI tests start
# their own Xvfb. Usage: build-aux/run-tests.sh [--sanitize] [meson test arguments…]
# --sanitize builds in build-asan/ with AddressSanitizer and UndefinedBehaviorSanitizer (any
# undefined behaviour or leak of ours fails the test; tests/lsan.supp lists system libraries'
# leaks) and gives the slower tests four times their timeout.
set -euo pipefail
cd "$(dirname "$0")/.."

builddir=${WZ_BUILD:-build}
options=(-Dwerror=true)
test_options=()
if [ "${1:-}" = --sanitize ]; then
  shift
  builddir=${WZ_BUILD:-build-asan}
  options+=(-Db_sanitize=address,undefined -Db_lundef=false)
  test_options+=(--timeout-multiplier 4)
fi
if [ -d "$builddir" ] && [ -f "$builddir/build.ninja" ]; then
  meson configure "$builddir" "${options[@]}" >/dev/null
else
  meson setup "$builddir" "${options[@]}"
fi
meson compile -C "$builddir"
meson test -C "$builddir" --print-errorlogs --num-processes 2 "${test_options[@]}" "$@"
