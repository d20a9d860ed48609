#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# UI tests of the real `wenzhen` binary on its own Xvfb display and its own D-Bus session.
# The app reports what is on screen through WZ_TEST_REPORT_FILE (see src/app/wz-test-report.h);
# each test waits for those lines, saves a screenshot for a person to look at, and checks what a
# user would see.
#
#   run-ui-test.sh demo LANG            --demo signs in and shows the queue; quit stops the server
#   run-ui-test.sh demo-killed          kill -9 of the app still takes the demo server down
#   run-ui-test.sh demo-fails           a server that cannot start gives an error page with its log
#   run-ui-test.sh login-error KIND URL `--server URL` shows the KIND error on the login page
#   run-ui-test.sh keyboard             search, open a patient and set availability by keyboard only
set -euo pipefail

mode=${1:?mode}
build=${WZ_BUILD:?WZ_BUILD must point at the build tree}
app="$build/src/app/wenzhen"
shots="$build/tests/ui"
mkdir -p "$shots"

work=$(mktemp -d "${TMPDIR:-/tmp}/wz-ui-test-XXXXXX")
report="$work/report.txt"
xvfb_pid=""
app_pid=""

cleanup() {
  if [ -n "$app_pid" ] && kill -0 "$app_pid" 2>/dev/null; then
    for child in $(pgrep -P "$app_pid" || true); do
      kill -KILL "$child" 2>/dev/null || true
    done
    kill -KILL "$app_pid" 2>/dev/null || true
  fi
  # A demo directory left behind by an app this script had to kill.
  local dir
  dir=$(sed -nE 's/^demo-server .* data-dir=([^ ]+) .*/\1/p' "$report" 2>/dev/null | head -n1)
  case "$dir" in
    */wenzhen-demo-*) rm -rf "$dir" ;;
  esac
  if [ -n "$xvfb_pid" ]; then
    kill "$xvfb_pid" 2>/dev/null || true
    wait "$xvfb_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  if [ -s "$report" ]; then
    echo "--- app report" >&2
    cat "$report" >&2
  fi
  if [ -s "$work/app.log" ]; then
    echo "--- app output (last 40 lines)" >&2
    tail -n 40 "$work/app.log" >&2
  fi
  exit 1
}

start_xvfb() {
  local n=$((90 + $$ % 50)) tries=0
  while [ $tries -lt 50 ]; do
    if [ ! -e "/tmp/.X$n-lock" ] && [ ! -e "/tmp/.X11-unix/X$n" ]; then
      Xvfb ":$n" -screen 0 1280x800x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
      xvfb_pid=$!
      for _ in $(seq 50); do
        if [ -e "/tmp/.X11-unix/X$n" ]; then
          export DISPLAY=":$n"
          return 0
        fi
        kill -0 "$xvfb_pid" 2>/dev/null || break
        sleep 0.1
      done
      kill "$xvfb_pid" 2>/dev/null || true
      wait "$xvfb_pid" 2>/dev/null || true
      xvfb_pid=""
    fi
    n=$((n + 1))
    tries=$((tries + 1))
  done
  fail "no free X display for Xvfb"
}

# Starts the app in the background with a private session bus, so it registers its application
# id without meeting any other instance, and nothing of the host's session leaks in.
start_app() {
  : >"$report"
  env WZ_TEST_REPORT_FILE="$report" GDK_BACKEND=x11 GTK_A11Y=none G_DEBUG=gc-friendly,fatal-criticals \
    dbus-run-session -- "$app" "$@" >"$work/app.log" 2>&1 &
  app_pid=$!
}

# The wenzhen process itself (start_app's pid is its dbus-run-session).
real_app_pid() {
  local pid=""
  for _ in $(seq 50); do
    pid=$(pgrep -P "$app_pid" -x wenzhen || true)
    [ -n "$pid" ] && { echo "$pid"; return 0; }
    sleep 0.1
  done
  fail "cannot find the wenzhen process"
}

# wait_for REGEX SECONDS: waits until the report has a matching line; prints it.
wait_for() {
  local pattern=$1 seconds=$2 line
  for _ in $(seq $((seconds * 10))); do
    line=$(grep -E -m1 -- "$pattern" "$report" 2>/dev/null || true)
    if [ -n "$line" ]; then
      printf '%s\n' "$line"
      return 0
    fi
    if ! kill -0 "$app_pid" 2>/dev/null; then
      fail "the app exited while waiting for “$pattern”"
    fi
    sleep 0.1
  done
  fail "timed out after ${seconds}s waiting for “$pattern”"
}

screenshot() {
  import -window root "$shots/$1"
  [ -s "$shots/$1" ] || fail "screenshot $1 is empty"
  echo "screenshot: $shots/$1"
}

# The sentence the app must show, as the compiled catalogue translates it for this run.
translated() {
  TEXTDOMAINDIR="${WZ_LOCALEDIR:-$build/po}" gettext -d wenzhen "$1"
}

wait_exit() {
  local seconds=$1
  for _ in $(seq $((seconds * 10))); do
    kill -0 "$app_pid" 2>/dev/null || { wait "$app_pid"; return $?; }
    sleep 0.1
  done
  fail "the app did not exit within ${seconds}s"
}

process_gone() {
  local pid=$1 seconds=$2
  for _ in $(seq $((seconds * 10))); do
    if ! kill -0 "$pid" 2>/dev/null; then
      return 0
    fi
    # A zombie has exited; only its parent has not collected it yet.
    if [ "$(ps -o stat= -p "$pid" 2>/dev/null | cut -c1)" = "Z" ]; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

# GTK and GLib warnings in the app's output are bugs, even when the screen looks right.
check_log() {
  if grep -E "(Gtk|GLib|GLib-GObject|GLib-GIO|Adwaita|wz-[a-z-]+)-(WARNING|CRITICAL)|runtime error:" "$work/app.log" >&2; then
    fail "the app logged warnings"
  fi
}

[ -x "$app" ] || fail "$app is not built"
start_xvfb

case "$mode" in
  demo)
    lang=${2:-en}
    if [ "$lang" != en ]; then
      export LANGUAGE="$lang" LANG="$lang.UTF-8"
      # Pick the Chinese forms of Han characters even though the C locale is active.
      export PANGO_LANGUAGE="${lang//_/-}"
    fi
    [ -x "${WZ_SERVER_BINARY:-}" ] || fail "wenzhen-server is not built at ${WZ_SERVER_BINARY:-?}"
    start_app --demo
    wait_for '^state=login-shown|^state=demo-starting' 10 >/dev/null
    server=$(wait_for '^demo-server ' 60)
    server_pid=$(sed -E 's/.* pid=([0-9]+).*/\1/' <<<"$server")
    data_dir=$(sed -E 's/.* data-dir=([^ ]+).*/\1/' <<<"$server")
    [ -d "$data_dir" ] || fail "demo data directory $data_dir does not exist"
    kill -0 "$server_pid" 2>/dev/null || fail "demo server $server_pid is not running"

    shown=$(wait_for '^state=workspace-shown' 60)
    echo "$shown"
    patients=$(sed -E 's/.* patients=([0-9]+).*/\1/' <<<"$shown")
    [ "$patients" -gt 0 ] || fail "the queue shows no demo patients"
    grep -q '^signed-in user=doctor role=doctor' "$report" || fail "not signed in as the demo doctor"
    title=$(sed -E 's/.* title=//' <<<"$shown")
    expected=$(translated "Wenzhen")
    [ "$title" = "$expected" ] || fail "window title is “$title”, expected “$expected” for $lang"
    if grep -q '^login-error=' "$report"; then
      fail "the demo sign-in showed an error"
    fi
    screenshot "screenshot-$lang.png"

    # Quitting stops the server and removes its data.
    kill -TERM "$(real_app_pid)"
    status=0
    wait_exit 20 || status=$?
    [ "$status" -eq 0 ] || fail "the app exited with status $status"
    grep -q '^demo-server stopped' "$report" || fail "the app did not report stopping the demo server"
    process_gone "$server_pid" 5 || fail "demo server $server_pid still runs after the app quit"
    if pgrep -f -- "$data_dir" >/dev/null; then
      fail "a process still uses $data_dir"
    fi
    [ ! -e "$data_dir" ] || fail "demo data directory $data_dir was not removed"
    check_log
    echo "ok: $patients patients shown; server $server_pid stopped; $data_dir removed"
    ;;

  demo-killed)
    [ -x "${WZ_SERVER_BINARY:-}" ] || fail "wenzhen-server is not built at ${WZ_SERVER_BINARY:-?}"
    start_app --demo
    server=$(wait_for '^demo-server ' 60)
    server_pid=$(sed -E 's/.* pid=([0-9]+).*/\1/' <<<"$server")
    data_dir=$(sed -E 's/.* data-dir=([^ ]+).*/\1/' <<<"$server")
    wait_for '^state=workspace-shown' 60
    kill -KILL "$(real_app_pid)"
    process_gone "$server_pid" 5 || fail "demo server $server_pid outlived a killed app"
    rm -rf "$data_dir"
    echo "ok: server $server_pid stopped with the killed app"
    ;;

  demo-fails)
    # A server binary that fails the way a broken install would: a message on stderr, exit 3.
    fake="$work/wenzhen-server"
    printf '#!/bin/sh\necho "wenzhen-server: cannot open database: disk I/O error" >&2\nexit 3\n' >"$fake"
    chmod +x "$fake"
    export WZ_SERVER_BINARY="$fake"
    start_app --demo
    line=$(wait_for '^state=demo-error' 30)
    echo "$line"
    grep -q 'exit status 3' <<<"$line" || fail "the error page does not give the exit status"
    screenshot "screenshot-demo-error.png"
    grep -q '^demo-log=.*disk I/O error' "$report" || fail "the error page does not show the server's message"
    kill -TERM "$(real_app_pid)"
    wait_exit 20 || fail "the app exited with an error after a failed demo"
    check_log
    echo "ok: demo failure shown with the server's message"
    ;;

  login-error)
    kind=${2:?kind} url=${3:?url}
    start_app --server "$url"
    wait_for '^state=login-shown' 10 >/dev/null
    line=$(wait_for "^login-error=" 30)
    echo "$line"
    grep -q "^login-error=$kind " <<<"$line" || fail "expected a $kind error"
    screenshot "screenshot-login-$kind.png"
    kill -TERM "$(real_app_pid)"
    wait_exit 20 || fail "the app exited with an error"
    check_log
    echo "ok: $kind error shown"
    ;;

  keyboard)
    [ -x "${WZ_SERVER_BINARY:-}" ] || fail "wenzhen-server is not built at ${WZ_SERVER_BINARY:-?}"
    command -v xdotool >/dev/null || fail "xdotool is not installed (build-aux/install-deps.sh)"
    start_app --demo
    wait_for '^state=workspace-shown' 60 >/dev/null
    # Without a window manager, keyboard focus follows the pointer.
    xdotool mousemove 700 400
    sleep 0.2

    # Ctrl+F searches; a name nobody has empties the list and says so.
    xdotool key ctrl+f
    xdotool type --delay 40 "zzzz"
    wait_for '^queue=no-results shown=0' 10
    xdotool key Escape
    wait_for '^queue=list shown=[1-9]' 10 >/dev/null

    # Down from the search moves into the matches, Enter opens the chosen patient.
    xdotool key ctrl+f Down Return
    line=$(wait_for '^state=patient-shown' 10)
    echo "$line"
    name=$(sed -E 's/.* name=//' <<<"$line")
    [ -n "$name" ] || fail "no patient name shown"
    screenshot "screenshot-patient.png"

    # Availability from the keyboard: from the search, Shift+Tab passes the main menu and reaches
    # the availability button; the menu opens on its first entry, the next one is “Busy”.
    xdotool key ctrl+f shift+Tab shift+Tab Return
    sleep 0.3
    xdotool key Down Return
    wait_for '^status=busy' 10
    kill -TERM "$(real_app_pid)"
    wait_exit 20 || fail "the app exited with an error"
    check_log
    echo "ok: searched, opened $name and went busy with the keyboard"
    ;;

  *)
    fail "unknown mode $mode"
    ;;
esac
