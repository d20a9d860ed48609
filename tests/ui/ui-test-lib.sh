# SPDX-License-Identifier: GPL-3.0-or-later
#
# Shared parts of the UI test scripts (run-ui-test.sh, run-queue-test.sh, run-record-test.sh,
# run-rx-test.sh), sourced by each of them: the test's work folder and cleanup, a private Xvfb
# display, the app on its own D-Bus session, the WZ_TEST_REPORT_FILE the app writes what it shows
# to (src/app/wz-test-report.h), screenshots, and a demo server of the test's own.
#
# Usage, after `set -euo pipefail`:
#   source "$(dirname "$0")/ui-test-lib.sh"
#   ui_test_init NAME          sets build, app, server_bin, shots, work, report; traps cleanup
# Settings a script may change after ui_test_init:
#   fail_report_lines=N        fail shows only the last N lines of the report (default: all)
#   check_log_ignore=TEXT      check_log passes over warning lines containing TEXT
#   app_session_prefix=(…)     a command start_app runs the app through, inside its D-Bus session

# --- the test's folders and cleanup -----------------------------------------------------------

# ui_test_init NAME: the build tree, the app, a fresh work folder wz-NAME-test-XXXXXX with the
# report file, and the cleanup on exit.
ui_test_init() {
  build=${WZ_BUILD:?WZ_BUILD must point at the build tree}
  app="$build/src/app/wenzhen"
  server_bin=${WZ_SERVER_BINARY:-$build/src/server/wenzhen-server}
  shots="$build/tests/ui"
  mkdir -p "$shots"

  work=$(mktemp -d "${TMPDIR:-/tmp}/wz-$1-test-XXXXXX")
  report="$work/report.txt"
  xvfb_pid=""
  app_pid=""
  own_server_pid=""
  fail_report_lines=""
  check_log_ignore=""
  app_session_prefix=()
  trap cleanup EXIT
}

# Drafts and other user data of this run stay in the test's own folder, across restarts.
use_private_xdg_dirs() {
  export XDG_DATA_HOME="$work/data" XDG_RUNTIME_DIR="$work/run"
  mkdir -p "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR"
  chmod 700 "$XDG_RUNTIME_DIR"
}

# use_language LANG: the app's messages in LANG (en is the untranslated default).
use_language() {
  local lang=$1
  if [ "$lang" != en ]; then
    export LANGUAGE="$lang" LANG="$lang.UTF-8"
    # Pick the Chinese forms of Han characters even though the C locale is active.
    export PANGO_LANGUAGE="${lang//_/-}"
  fi
}

# Kills the app's session (dbus-run-session), everything it started and their children.
kill_app() {
  if [ -n "$app_pid" ] && kill -0 "$app_pid" 2>/dev/null; then
    for child in $(pgrep -P "$app_pid" || true); do
      for grandchild in $(pgrep -P "$child" || true); do
        kill -KILL "$grandchild" 2>/dev/null || true
      done
      kill -KILL "$child" 2>/dev/null || true
    done
    kill -KILL "$app_pid" 2>/dev/null || true
    wait "$app_pid" 2>/dev/null || true
  fi
  app_pid=""
}

cleanup() {
  kill_app
  # A demo directory left behind by an app this script had to kill.
  local dir
  dir=$(sed -nE 's/^demo-server .* data-dir=([^ ]+) .*/\1/p' "$report" 2>/dev/null | head -n1 || true)
  case "$dir" in
    */wenzhen-demo-*) rm -rf "$dir" ;;
  esac
  if [ -n "$own_server_pid" ]; then
    kill "$own_server_pid" 2>/dev/null || true
    wait "$own_server_pid" 2>/dev/null || true
  fi
  if [ -n "$xvfb_pid" ]; then
    kill "$xvfb_pid" 2>/dev/null || true
    wait "$xvfb_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}

fail() {
  echo "FAIL: $*" >&2
  # What the window showed when it went wrong, for the person reading the log.
  if [ -n "${DISPLAY:-}" ] && command -v import >/dev/null; then
    import -window root "${shots:-.}/failed-${mode:-test}-${lang:-}.png" 2>/dev/null || true
  fi
  if [ -s "$report" ]; then
    if [ -n "$fail_report_lines" ]; then
      echo "--- app report (last $fail_report_lines lines)" >&2
      tail -n "$fail_report_lines" "$report" >&2
    else
      echo "--- app report" >&2
      cat "$report" >&2
    fi
  fi
  if [ -s "$work/app.log" ]; then
    echo "--- app output (last 40 lines)" >&2
    tail -n 40 "$work/app.log" >&2
  fi
  exit 1
}

# --- what the test needs ----------------------------------------------------------------------

require_app() {
  [ -x "$app" ] || fail "$app is not built"
}

require_server_binary() {
  [ -x "${WZ_SERVER_BINARY:-}" ] || fail "wenzhen-server is not built at ${WZ_SERVER_BINARY:-?}"
}

require_xdotool() {
  command -v xdotool >/dev/null || fail "xdotool is not installed (build-aux/install-deps.sh)"
}

# --- the display ------------------------------------------------------------------------------

# start_xvfb FIRST: Xvfb on the first free display from FIRST + pid % 50 on; exports DISPLAY.
start_xvfb() {
  local n=$(($1 + $$ % 50)) tries=0
  while [ $tries -lt 50 ]; do
    if [ ! -e "/tmp/.X$n-lock" ] && [ ! -e "/tmp/.X11-unix/X$n" ]; then
      Xvfb ":$n" -screen 0 1280x800x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
      xvfb_pid=$!
      for _ in $(seq 50); do
        # Ours only if the lock names our Xvfb: when two tests race for one display number, the
        # loser's socket check would otherwise find the winner's socket.
        if [ -e "/tmp/.X11-unix/X$n" ] && kill -0 "$xvfb_pid" 2>/dev/null &&
           [ "$(tr -d ' \n' <"/tmp/.X$n-lock" 2>/dev/null)" = "$xvfb_pid" ]; then
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

screenshot() {
  import -window root "$shots/$1"
  [ -s "$shots/$1" ] || fail "screenshot $1 is empty"
  echo "screenshot: $shots/$1"
}

# --- the app ----------------------------------------------------------------------------------

# Starts the app in the background with a private session bus, so it registers its application
# id without meeting any other instance, and nothing of the host's session leaks in. Its output
# is appended to $work/app.log across restarts.
start_app() {
  : >"$report"
  env WZ_TEST_REPORT_FILE="$report" GDK_BACKEND=x11 GTK_A11Y=none G_DEBUG=gc-friendly,fatal-criticals \
    dbus-run-session -- ${app_session_prefix[@]+"${app_session_prefix[@]}"} \
    "$app" "$@" >>"$work/app.log" 2>&1 &
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

# wait_for_line first|last REGEX SECONDS: waits until the report has a matching line; prints the
# first or the last such line.
wait_for_line() {
  local which=$1 pattern=$2 seconds=$3 line
  for _ in $(seq $((seconds * 10))); do
    if [ "$which" = first ]; then
      line=$(grep -E -m1 -- "$pattern" "$report" 2>/dev/null || true)
    else
      line=$(grep -E -- "$pattern" "$report" 2>/dev/null | tail -n1 || true)
    fi
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

# wait_for REGEX SECONDS: waits until the report has a matching line; prints the last one.
wait_for() {
  wait_for_line last "$@"
}

# Lines appear again after a reset of the report (e.g. a second visit to the same patient).
mark_report() {
  : >"$report"
}

# field NAME LINE: the value of NAME=… in a report line (empty if the line has none).
field() {
  sed -nE "s/.* $1=([^ ]*).*/\1/p" <<<"$2"
}

# The sentence the app must show, as the compiled catalogue translates it for this run.
translated() {
  TEXTDOMAINDIR="${WZ_LOCALEDIR:-$build/po}" gettext -d wenzhen "$1"
}

# GTK and GLib warnings in the app's output are bugs, even when the screen looks right (lines
# containing $check_log_ignore, when set, excepted).
check_log() {
  local warnings
  warnings=$(grep -E "(Gtk|GLib|GLib-GObject|GLib-GIO|Adwaita|wz-[a-z0-9-]+)-(WARNING|CRITICAL)|runtime error:" "$work/app.log" || true)
  if [ -n "$check_log_ignore" ] && [ -n "$warnings" ]; then
    warnings=$(grep -v -- "$check_log_ignore" <<<"$warnings" || true)
  fi
  if [ -n "$warnings" ]; then
    printf '%s\n' "$warnings" >&2
    fail "the app logged warnings"
  fi
}

# wait_exit SECONDS: waits for the app's session to end; returns its exit status.
wait_exit() {
  local seconds=$1
  for _ in $(seq $((seconds * 10))); do
    kill -0 "$app_pid" 2>/dev/null || { wait "$app_pid"; return $?; }
    sleep 0.1
  done
  fail "the app did not exit within ${seconds}s"
}

# Quits the app as the desktop would (SIGTERM) and requires a clean exit within 20 seconds.
quit_app() {
  kill -TERM "$(real_app_pid)"
  wait_exit 20 || fail "the app exited with an error"
  app_pid=""
}

# process_gone PID SECONDS: whether PID ends (or is a zombie) within SECONDS.
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

# --- a server of the test's own ---------------------------------------------------------------

# A server of our own, so its data outlives the app (the demo's server dies with the app); sets
# url.
start_server() {
  local data="$work/server"
  WZ_DEMO_PASSWORD=demo "$server_bin" demo-data --data-dir "$data" >"$work/demo-data.log" 2>&1 \
    || fail "demo-data failed: $(cat "$work/demo-data.log")"
  # organization_name (optional, set by the test) is the hospital printed on documents.
  "$server_bin" serve --data-dir "$data" --listen 127.0.0.1:0 \
    ${organization_name:+--organization-name "$organization_name"} >"$work/server.out" 2>"$work/server.log" &
  own_server_pid=$!
  for _ in $(seq 100); do
    url=$(sed -nE 's/^listening on (http:[^ ]+).*/\1/p' "$work/server.out")
    [ -n "$url" ] && return 0
    kill -0 "$own_server_pid" 2>/dev/null || fail "the server did not start: $(cat "$work/server.log")"
    sleep 0.1
  done
  fail "the server did not say where it listens"
}

# token_for USER: a bearer token of the demo user USER.
token_for() {
  curl -sf -X POST "$url/auth/login" -H 'Content-Type: application/json' \
    -d "{\"username\":\"$1\",\"password\":\"demo\"}" | jq -r .access_token
}

# api METHOD PATH [CURL ARGS…]: a request to the server with $token.
api() {
  local method=$1 path=$2
  shift 2
  curl -sf -X "$method" "$url$path" -H "Authorization: Bearer $token" "$@"
}

# sign_in [USER]: starts the app on $url and signs in as USER (doctor) by typing.
sign_in() {
  local user=${1:-doctor}
  start_app --server "$url"
  wait_for '^state=login-shown' 20 >/dev/null
  wait_for '^server-check=ok' 20 >/dev/null
  # The user name and password rows of the sign-in form (the window sits at the top left).
  xdotool mousemove 560 487 click 1
  sleep 0.3
  xdotool type --delay 30 "$user"
  xdotool mousemove 560 542 click 1
  sleep 0.3
  xdotool type --delay 30 "demo"
  xdotool key Return
  wait_for '^state=workspace-shown' 60 >/dev/null
}

# open_patient PINYIN NAME: search the queue by pinyin initials and open the first match.
open_patient() {
  local initials=$1 name=$2
  xdotool key ctrl+f
  xdotool key ctrl+a BackSpace
  xdotool type --delay 40 "$initials"
  wait_for "^queue=list .* search=$initials first=$name\$" 15 >/dev/null
  xdotool key Down
  wait_for "^state=patient-shown .* name=$name\$" 15 >/dev/null
}
