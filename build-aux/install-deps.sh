#!/usr/bin/env bash
# Installs everything Wenzhen needs to build, run its demo, run its tests and benchmarks
# on Debian 12 (bookworm). Run as root. Safe to run again: apt-get and npm skip what is there.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
export DEBIAN_FRONTEND=noninteractive

packages=(
  # toolchain and build
  build-essential meson ninja-build pkg-config gettext itstool git locales
  # libraries
  libglib2.0-dev libglib2.0-bin libgtk-4-dev libadwaita-1-dev libsoup-3.0-dev
  libjson-glib-dev libsqlite3-dev libsodium-dev libpq-dev liboath-dev libqrencode-dev
  libsecret-1-dev libportal-gtk4-dev libicu-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-nice gstreamer1.0-tools gstreamer1.0-libav
  # the call engine adds loopback to the ICE agent; timeoverlay for the simulated patient's picture
  libnice-dev gstreamer1.0-x
  # GtkMediaFile playback (the call page's ring tone)
  libgtk-4-media-gstreamer
  glib-networking gsettings-desktop-schemas dconf-gsettings-backend
  # runtime look and fonts
  adwaita-icon-theme fonts-cantarell fonts-noto-cjk fonts-noto-color-emoji
  # validation, tests and screenshots
  desktop-file-utils appstream xvfb xauth dbus dbus-x11 at-spi2-core imagemagick
  poppler-utils sqlite3 chromium librsvg2-bin xdotool
  # ip: the call-netdrop test takes loopback down and up in its own network namespace
  iproute2
  # benchmarks
  wrk valgrind hyperfine
  # sanitizer runtime for clang builds
  libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js drives the browser tests; take Debian's only when no node is installed already
# (a machine with a newer Node.js from elsewhere keeps it).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update
  apt-get install -y --no-install-recommends "${missing[@]}"
fi

# The Chinese and English locales, so `LANG=zh_CN.UTF-8 wenzhen --demo` shows the zh_CN catalogue
# (gettext falls back to English when the locale itself does not exist).
for loc in zh_CN.UTF-8 en_US.UTF-8; do
  if ! locale -a 2>/dev/null | grep -qix "${loc/UTF-8/utf8}"; then
    sed -i "s/^# *\(${loc} UTF-8\)/\1/" /etc/locale.gen
    grep -q "^${loc} UTF-8" /etc/locale.gen || echo "${loc} UTF-8" >> /etc/locale.gen
    need_locale_gen=1
  fi
done
if [ -n "${need_locale_gen:-}" ]; then
  locale-gen
fi

# Browser-test driver: playwright-core only, which drives Debian's chromium (no browser download).
if [ ! -d "$here/tests/browser/node_modules/playwright-core" ]; then
  (cd "$here/tests/browser" && npm install --no-audit --no-fund --ignore-scripts)
fi
