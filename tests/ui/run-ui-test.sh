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
source "$(dirname "$0")/ui-test-lib.sh"
ui_test_init ui

# wait_for REGEX SECONDS: waits until the report has a matching line; prints the first one.
wait_for() {
  wait_for_line first "$@"
}

require_app
start_xvfb 90

case "$mode" in
  demo)
    lang=${2:-en}
    use_language "$lang"
    require_server_binary
    start_app --demo
    wait_for '^state=login-shown|^state=demo-starting' 30 >/dev/null
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
    require_server_binary
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
    wait_for '^state=login-shown' 30 >/dev/null
    line=$(wait_for "^login-error=" 30)
    echo "$line"
    grep -q "^login-error=$kind " <<<"$line" || fail "expected a $kind error"
    screenshot "screenshot-login-$kind.png"
    quit_app
    check_log
    echo "ok: $kind error shown"
    ;;

  keyboard)
    require_server_binary
    require_xdotool
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

    # Availability from the keyboard: from the search, Shift+Tab passes the Queue / Follow-ups
    # switcher and the main menu and reaches the availability button; the menu opens on its first
    # entry, the next one is “Busy”.
    xdotool key ctrl+f shift+Tab shift+Tab shift+Tab shift+Tab Return
    sleep 0.3
    xdotool key Down Return
    wait_for '^status=busy' 10
    quit_app
    check_log
    echo "ok: searched, opened $name and went busy with the keyboard"
    ;;

  *)
    fail "unknown mode $mode"
    ;;
esac
