#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# UI tests of the video call page, on the real `wenzhen` binary on its own Xvfb display against a
# demo server of the test's own. The patient's end is wz-call-peer: a WzCall signed in with a
# visit link of the visit, sending a moving test picture and a tone. The app reports what it
# shows through WZ_TEST_REPORT_FILE; screenshots land in the build folder.
#
#   run-call-test.sh idle LANG        王浩然 (in consultation): Start is offered, and with no camera
#                                     the page says the patient will see a test picture; 刘洋
#                                     (waiting): Start is off and the page says why
#   run-call-test.sh connected LANG   the doctor calls, the patient answers: connected, the
#                                     patient's frames render at 640×480, Ctrl+D mutes (the
#                                     patient's end hears silence) and unmutes, the chat tab shows
#                                     the banner back to the call, Ctrl+Shift+H hangs up: both
#                                     ends ended, the page says who ended it and how long it was;
#                                     the visit on the server records the call, and the Call page
#                                     lists it when the visit is opened again
#   run-call-test.sh incoming LANG    the patient calls: the banner says so on the record page
#                                     and the ring plays; the Call page rings; Ctrl+Shift+A
#                                     accepts; the patient hangs up: “… ended the call after …”
#   run-call-test.sh declined LANG    the patient declines the doctor's call: “Call Declined”
#   run-call-test.sh background      the window in the background: the call comes as a desktop
#                                     notification naming the patient; clicking it answers
#   run-call-test.sh quit            quitting the app during a call hangs up at the patient's end
#                                     and the call is recorded in the visit first
#   run-call-test.sh preferences LANG with a test camera and microphone (GStreamer plugin): the
#                                     Calls preferences list them; a bad STUN address is refused
#                                     with a message, a good one is stored in the engine's form;
#                                     so is a TURN relay, which needs its user name and password;
#                                     the call page no longer warns about a missing camera
set -euo pipefail

mode=${1:?mode}
lang=${2:-en}
source "$(dirname "$0")/ui-test-lib.sh"
ui_test_init call
fail_report_lines=60
# GTK 4.8 warns “GtkText - did not receive a focus-out event” when the sign-in page, with the
# focus in its password field, gives way to the workspace (typed sign-in only).
check_log_ignore="GtkText - did not receive a focus-out event"
use_private_xdg_dirs
use_language "$lang"

require_app
require_xdotool
peer_bin="$build/tests/ui/wz-call-peer"
[ -x "$peer_bin" ] || fail "$peer_bin is not built"
# GStreamer's plugin cache of this run only, so the test plugin never lands in the user's.
export GST_REGISTRY="$work/gst-registry.bin"
start_xvfb 190

peer_pid=""
peer_log="$work/peer.log"
stop_peer() {
  if [ -n "$peer_pid" ]; then
    kill -TERM "$peer_pid" 2>/dev/null || true
    wait "$peer_pid" 2>/dev/null || true
    peer_pid=""
  fi
}
trap 'stop_peer; cleanup' EXIT

# encounter_of NAME: today's visit of the demo patient NAME.
encounter_of() {
  local patient
  patient=$(api GET "/fhir/Patient?name=$1" | jq -r '.entry[0].resource.id')
  api GET "/fhir/Encounter?subject=Patient/$patient&_count=50" \
    | jq -r '[.entry[].resource | select(.status != "finished" and .status != "cancelled")][0].id'
}

# start_peer ENCOUNTER ARGS…: the patient's end, signed in with a fresh visit link.
start_peer() {
  local encounter=$1 link link_token patient_token
  shift
  link=$(api POST "/fhir/Encounter/$encounter/\$visit-link" | jq -r .url)
  link_token=${link#*#}
  patient_token=$(curl -sf -X POST "$url/auth/visit" -H 'Content-Type: application/json' \
    -d "{\"link_token\":\"$link_token\"}" | jq -r .access_token)
  [ -n "$patient_token" ] && [ "$patient_token" != null ] || fail "no patient session for $encounter"
  : >"$peer_log"
  "$peer_bin" --server "$url" --token "$patient_token" --encounter "Encounter/$encounter" "$@" \
    >"$peer_log" 2>"$work/peer.err" &
  peer_pid=$!
  wait_for_peer '^peer=connected' 15 >/dev/null
}

# wait_for_peer REGEX SECONDS: the last matching line of the patient's end.
wait_for_peer() {
  local pattern=$1 seconds=$2 line
  for _ in $(seq $((seconds * 10))); do
    line=$(grep -E -- "$pattern" "$peer_log" 2>/dev/null | tail -n1 || true)
    if [ -n "$line" ]; then
      printf '%s\n' "$line"
      return 0
    fi
    kill -0 "$peer_pid" 2>/dev/null || fail "the patient's end exited: $(tail -n 5 "$work/peer.err")"
    sleep 0.1
  done
  echo "--- patient's end" >&2
  tail -n 20 "$peer_log" "$work/peer.err" >&2
  fail "timed out after ${seconds}s waiting for the patient's end: “$pattern”"
}

# open_call PINYIN NAME: the patient's visit on the Call page; prints the idle line.
open_call() {
  mark_report
  open_patient "$1" "$2"
  xdotool key alt+2
  wait_for '^call-page=idle ' 15 >/dev/null
  # The page reports when the visit changes and when it comes on screen: the last line counts.
  sleep 0.5
  wait_for '^call-page=idle ' 1
}

start_call() {
  mark_report
  # “_Start Video Call”: its mnemonic.
  xdotool key alt+s
  wait_for '^call-state=outgoing ' 10 >/dev/null
}

# wait_for_frames N: the app has drawn N of the patient's frames; prints the stats line.
wait_for_frames() {
  local want=$1 line frames
  for _ in $(seq 300); do
    line=$(grep -E '^call-stats ' "$report" | tail -n1 || true)
    frames=$(field frames "$line")
    if [ -n "$frames" ] && [ "$frames" -ge "$want" ]; then
      printf '%s\n' "$line"
      return 0
    fi
    sleep 0.1
  done
  fail "fewer than $want remote frames were drawn: ${line:-no stats}"
}

# A demo server of the test's own, the doctor signed in by typing, the queue on screen.
sign_in_doctor() {
  start_server
  token=$(token_for doctor)
  sign_in doctor
  wait_for '^queue=list' 20 >/dev/null
}

case "$mode" in
  idle)
    sign_in_doctor
    line=$(open_call whr 王浩然)
    echo "$line"
    grep -q 'can-start=yes' <<<"$line" || fail "Start is not offered for a visit in progress: $line"
    # No camera on this machine: said before the call, plainly.
    grep -q 'camera=none' <<<"$line" || fail "the missing camera is not mentioned: $line"
    # The patient's visit page is not open: said before calling, and calling is still offered.
    wait_for '^call-presence .* patient=offline' 10 >/dev/null
    sleep 0.5
    line=$(wait_for '^call-page=idle ' 1)
    expected=$(translated "The patient’s visit page is not open — send them the visit link. You can still call; it rings once they open it.")
    grep -qF "reason=$expected" <<<"$line" || fail "the closed visit page is not mentioned: $line"
    grep -q 'can-start=yes' <<<"$line" || fail "Start is not offered while the page is closed: $line"
    screenshot "call-idle-$lang.png"
    # The page opens (the patient's end signs in on /ws): the note goes.
    start_peer "$(encounter_of 王浩然)"
    wait_for '^call-presence .* patient=online' 10 >/dev/null
    sleep 0.5
    line=$(wait_for '^call-page=idle ' 1)
    grep -qE 'reason=$' <<<"$line" || fail "the note stays after the page opened: $line"
    stop_peer

    line=$(open_call ly 刘洋)
    echo "$line"
    grep -q 'can-start=no' <<<"$line" || fail "Start is offered for a waiting visit: $line"
    expected=$(translated "Start the consultation first: a call is possible while the visit is in progress.")
    grep -qF "reason=$expected" <<<"$line" || fail "the page does not say why: $line"
    sleep 0.5
    screenshot "call-idle-waiting-$lang.png"
    quit_app
    check_log
    echo "ok: the call page offers a call only for a visit in progress and says why not"
    ;;

  connected)
    # A test camera and microphone (a tone), so muting can be heard at the patient's end.
    export GST_PLUGIN_PATH="$build/tests/ui"
    sign_in_doctor
    encounter=$(encounter_of 王浩然)
    start_peer "$encounter" --answer-after 500
    open_call whr 王浩然 >/dev/null
    start_call
    sleep 0.2
    screenshot "call-outgoing-$lang.png"
    wait_for_peer '^peer-state=ringing' 10 >/dev/null
    wait_for '^call-state=connected ' 30 >/dev/null
    line=$(wait_for '^call-remote-frame first ' 20)
    echo "$line"
    [ "$(field width "$line")" = 640 ] && [ "$(field height "$line")" = 480 ] \
      || fail "the patient's picture is not 640×480: $line"
    line=$(wait_for_frames 10)
    echo "$line"
    wait_for '^call-page=call ' 10 >/dev/null
    # The doctor's own frames reach the patient's end.
    line=$(wait_for_peer '^peer-stats decoded=[1-9][0-9]' 20)
    echo "patient: $line"
    sleep 1
    screenshot "call-connected-$lang.png"

    # Mute: the patient's end hears silence, then the tone again.
    loud=$(wait_for_peer '^peer-stats .* level=-[0-4]?[0-9]$' 10)
    echo "patient before mute: $loud"
    xdotool key ctrl+d
    wait_for '^call-muted=yes' 5 >/dev/null
    : >"$peer_log.mark"
    sleep 3
    line=$(tail -n1 "$peer_log")
    echo "patient while muted: $line"
    level=$(field level "$line")
    [ "${level%.*}" -le -60 ] || fail "the patient's end still hears the doctor while muted: $line"
    sleep 0.3
    screenshot "call-muted-$lang.png"
    xdotool key ctrl+d
    wait_for '^call-muted=no' 5 >/dev/null
    sleep 3
    line=$(tail -n1 "$peer_log")
    echo "patient after unmute: $line"
    level=$(field level "$line")
    [ "${level%.*}" -gt -60 ] || fail "the patient's end does not hear the doctor after unmuting: $line"

    # The chat tab: the call goes on and a banner leads back.
    xdotool key alt+1
    wait_for '^call-banner=shown' 5 >/dev/null
    sleep 0.6
    screenshot "call-banner-$lang.png"
    xdotool key alt+2
    wait_for '^call-banner=hidden' 5 >/dev/null

    # Full screen: only the call; Escape comes back.
    xdotool key F11
    wait_for '^call-fullscreen=yes' 5 >/dev/null
    sleep 0.8
    screenshot "call-fullscreen-$lang.png"
    xdotool key Escape
    wait_for '^call-fullscreen=no' 5 >/dev/null

    mark_report
    xdotool key ctrl+shift+h
    line=$(wait_for '^call-state=ended ' 10)
    echo "$line"
    [ "$(field by "$line")" = local ] || fail "the hangup is not the doctor's: $line"
    line=$(wait_for_peer '^peer-ended ' 10)
    echo "patient: $line"
    grep -q 'by=remote' <<<"$line" || fail "the patient's end did not see the doctor hang up: $line"
    line=$(wait_for '^call-page=ended ' 10)
    echo "$line"
    expected=$(translated "Call Ended")
    grep -qF "title=$expected" <<<"$line" || fail "the ended page is not shown: $line"
    # The visit on the server records the call: when, how long, ended by the doctor.
    wait_for '^call-record=saved' 10 >/dev/null
    record=$(api GET "/fhir/Encounter/$encounter" | jq -c '[.extension[]?
      | select(.url == "https://wenzhen.github.io/fhir/StructureDefinition/video-call")]')
    echo "record: $record"
    [ "$(jq length <<<"$record")" = 1 ] || fail "the visit does not record the call once: $record"
    doctor=$(curl -sf -X POST "$url/auth/login" -H 'Content-Type: application/json' \
      -d '{"username":"doctor","password":"demo"}' | jq -r .practitioner)
    jq -e --arg doctor "$doctor" '.[0].extension as $m
      | ($m | map(select(.url == "endedBy"))[0].valueReference.reference) == $doctor
        and ($m | map(select(.url == "endReason"))[0].valueCode) == "ended"
        and ($m | map(select(.url == "duration"))[0].valueDuration.value) >= 5
        and ($m | map(select(.url == "start"))[0].valueDateTime | length) > 0
        and ($m | map(select(.url == "end"))[0].valueDateTime | length) > 0' <<<"$record" >/dev/null \
      || fail "the recorded call lacks its times or does not say the doctor ended it: $record"
    sleep 0.5
    screenshot "call-ended-$lang.png"

    # Back on the visit later, its Call page lists the call as recorded.
    open_call ly 刘洋 >/dev/null
    open_call whr 王浩然 >/dev/null
    line=$(wait_for "^call-history encounter=$encounter calls=1 " 10)
    echo "$line"
    expected=$(translated 'Video call %1$s–%2$s, %3$s, ended by you')
    grep -qF -- "${expected##*%3\$s}" <<<"$line" || fail "the Call page does not say the doctor ended the call: $line"
    sleep 0.5
    screenshot "call-history-$lang.png"
    quit_app
    check_log
    echo "ok: a call connects, shows the patient, mutes and unmutes, hangs up on both ends, and is recorded in the visit"
    ;;

  incoming)
    sign_in_doctor
    encounter=$(encounter_of 王浩然)
    open_patient whr 王浩然
    mark_report
    start_peer "$encounter" --call
    line=$(wait_for '^call-incoming ' 15)
    echo "$line"
    [ "$(field encounter "$line")" = "$encounter" ] || fail "the call is not for $encounter: $line"
    wait_for '^call-ring=playing' 5 >/dev/null
    # On the record page: the banner says who calls.
    wait_for '^call-banner=shown' 5 >/dev/null
    sleep 0.6
    screenshot "call-ringing-banner-$lang.png"
    xdotool key alt+2
    line=$(wait_for '^call-page=ringing ' 10)
    echo "$line"
    wait_for '^call-banner=hidden' 5 >/dev/null
    sleep 0.3
    screenshot "call-ringing-$lang.png"
    xdotool key ctrl+shift+a
    wait_for '^call-ring=stopped' 5 >/dev/null
    wait_for '^call-state=connected ' 30 >/dev/null
    wait_for_frames 10 >/dev/null
    # The call without a camera here: the page says the patient sees a test picture.
    sleep 2
    screenshot "call-problem-$lang.png"
    mark_report
    kill -USR1 "$peer_pid"
    line=$(wait_for '^call-state=ended ' 10)
    echo "$line"
    [ "$(field by "$line")" = remote ] || fail "the hangup is not the patient's: $line"
    wait_for '^call-page=ended ' 10 >/dev/null
    sleep 0.5
    screenshot "call-ended-remote-$lang.png"
    quit_app
    check_log
    echo "ok: an incoming call rings, is accepted, and ends when the patient hangs up"
    ;;

  declined)
    sign_in_doctor
    encounter=$(encounter_of 王浩然)
    start_peer "$encounter" --decline --answer-after 500
    open_call whr 王浩然 >/dev/null
    start_call
    line=$(wait_for '^call-state=ended ' 15)
    echo "$line"
    [ "$(field by "$line")" = remote ] && [ "$(field reason "$line")" = declined ] \
      || fail "the call did not end as declined by the patient: $line"
    line=$(wait_for '^call-page=ended ' 10)
    expected=$(translated "Call Declined")
    grep -qF "title=$expected" <<<"$line" || fail "the page does not say the call was declined: $line"
    sleep 0.5
    screenshot "call-declined-$lang.png"
    quit_app
    check_log
    echo "ok: a declined call says so"
    ;;

  preferences)
    export GST_PLUGIN_PATH="$build/tests/ui"
    sign_in_doctor
    line=$(wait_for '^devices ' 10)
    echo "$line"
    grep -q 'cameras=.*Wenzhen_Test_Camera' <<<"$line" || fail "the test camera is not listed: $line"
    grep -q 'microphones=.*Wenzhen_Test_Microphone' <<<"$line" \
      || fail "the test microphone is not listed: $line"
    line=$(open_call whr 王浩然)
    echo "$line"
    grep -q 'camera=present' <<<"$line" || fail "the page warns about a camera that is there: $line"

    mark_report
    xdotool key ctrl+comma
    line=$(wait_for '^preferences-camera ' 10)
    echo "$line"
    [ "$(field n-devices "$line")" -ge 1 ] || fail "the camera row lists no device: $line"
    wait_for '^preferences-microphone .* n-devices=[1-9]' 10 >/dev/null
    sleep 0.8
    # The Calls page of the preferences (second tab of the switcher in its header).
    xdotool mousemove 350 24 click 1
    sleep 0.8
    # The STUN row, first of the Network group.
    xdotool mousemove 310 160 click 1
    sleep 0.3
    xdotool type --delay 30 "stun.example.org:3478"
    xdotool key Return
    line=$(wait_for '^preferences-stun invalid ' 10)
    echo "$line"
    sleep 0.5
    screenshot "call-preferences-invalid-$lang.png"
    xdotool key ctrl+a
    xdotool type --delay 30 "stun:stun.example.org"
    xdotool key Return
    line=$(wait_for '^preferences-stun saved=' 10)
    echo "$line"
    [ "$(field saved "$line")" = "stun://stun.example.org:3478" ] \
      || fail "the STUN address is not stored in the engine's form: $line"
    # The TURN row under it: a relay without its credentials is refused, the server form and
    # a transport are taken.
    xdotool mousemove 310 226 click 1
    sleep 0.3
    xdotool type --delay 30 "turn:turn.example.org:3478"
    xdotool key Return
    line=$(wait_for '^preferences-turn invalid ' 10)
    echo "$line"
    expected=$(translated "A TURN relay needs the user name and password it was set up with: turn:user:password@host:port.")
    grep -qF "message=$expected" <<<"$line" || fail "the missing TURN credentials are not explained: $line"
    xdotool key ctrl+a
    xdotool type --delay 30 "turn:turn.example.org:3478?transport=tcp,doctor,secret"
    xdotool key Return
    line=$(wait_for '^preferences-turn saved=' 10)
    echo "$line"
    [ "$(field saved "$line")" = "turn://doctor:secret@turn.example.org:3478?transport=tcp" ] \
      || fail "the TURN address is not stored in the engine's form: $line"
    sleep 0.5
    screenshot "call-preferences-$lang.png"
    quit_app
    check_log
    echo "ok: preferences list the test devices and check STUN addresses"
    ;;

  quit)
    # Quitting during a call hangs up: the patient's end is told, not left to time out.
    export GST_PLUGIN_PATH="$build/tests/ui"
    sign_in_doctor
    encounter=$(encounter_of 王浩然)
    start_peer "$encounter" --answer-after 300
    open_call whr 王浩然 >/dev/null
    start_call
    wait_for '^call-state=connected ' 30 >/dev/null
    wait_for_frames 3 >/dev/null
    quit_app
    line=$(wait_for_peer '^peer-ended ' 10)
    echo "patient: $line"
    grep -q 'by=remote' <<<"$line" || fail "the patient's end was not told that the doctor left: $line"
    # The app saved the call in the visit before it went away.
    grep -q '^call-record=saved' "$report" || fail "the call was not recorded in the visit on quitting"
    api GET "/fhir/Encounter/$encounter" | jq -e '[.extension[]?
      | select(.url == "https://wenzhen.github.io/fhir/StructureDefinition/video-call")] | length == 1' \
      >/dev/null || fail "the visit does not record the call ended by quitting"
    check_log
    echo "ok: quitting during a call hangs up on the patient's end and records the call in the visit"
    ;;

  background)
    # The window in the background: a call comes with a desktop notification (recorded by a
    # stand-in notification server) whose click answers it.
    notifications="$work/notifications.txt"
    app_session_prefix=(sh -c '"$0" "$1" & shift; exec "$@"' "$build/tests/ui/wz-fake-notifyd" \
      "$notifications")
    sign_in_doctor
    encounter=$(encounter_of 王浩然)
    open_patient whr 王浩然
    xmessage -geometry +1205+700 -timeout 120 "…" >/dev/null 2>&1 &
    other_pid=$!
    other=$(timeout 10 xdotool search --sync --class Xmessage | head -n1)
    [ -n "$other" ] || fail "no second window to take the focus"
    xdotool mousemove 1240 720
    xdotool windowfocus --sync "$other"
    wait_for '^window-active=no' 10 >/dev/null
    mark_report
    start_peer "$encounter" --call
    wait_for "^notification=call encounter=$encounter" 15 >/dev/null
    for _ in $(seq 50); do grep -q '^notify ' "$notifications" && break; sleep 0.1; done
    shown=$(grep '^notify ' "$notifications" | tail -n1)
    echo "$shown"
    grep -qF "summary=$(translated "Incoming Video Call")"$'\t' <<<"$shown" \
      || fail "notification title: $shown"
    grep -qF "王浩然" <<<"$shown" || fail "the notification does not name the patient: $shown"
    grep -qE "actions=([^ ]*,)?default(,| )" <<<"$shown" || fail "the notification has no default action: $shown"
    # Clicking it answers the call with the window brought forward.
    kill -USR1 "$(pgrep -P "$(real_app_pid)" -x wz-fake-notifyd)"
    wait_for '^call-state=connected ' 30 >/dev/null
    wait_for '^call-page=call ' 10 >/dev/null
    kill "$other_pid" 2>/dev/null || true
    wait_for_frames 3 >/dev/null
    quit_app
    check_log
    echo "ok: a call to a doctor whose window is in the background is announced and answered from the notification"
    ;;

  *)
    fail "unknown mode $mode"
    ;;
esac
