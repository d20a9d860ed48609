#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The live worklist of the real `wenzhen --demo` on its own Xvfb display and D-Bus session, driven
# by the keyboard like a doctor would and by a second client (curl) that changes the server's data
# while the app runs. The app reports what it shows through WZ_TEST_REPORT_FILE
# (src/app/wz-test-report.h); screenshots land in the build folder.
#
#   run-queue-test.sh live LANG   statuses and counts as the server has them, status filter,
#                                 search by pinyin initials / full pinyin / ID / phone, a pushed new
#                                 patient (with a notification whose action opens them), a status
#                                 change and a patient leaving, each without a reload
#   run-queue-test.sh reconnect   the websocket drops; a visit created meanwhile appears after the
#                                 reconnect, found by the catch-up; the offline banner comes and goes
set -euo pipefail

mode=${1:?mode}
source "$(dirname "$0")/ui-test-lib.sh"
ui_test_init queue
notifications="$work/notifications.txt"
notifyd="$build/tests/ui/wz-fake-notifyd"
# The app's session has a notification server that records what the desktop would show.
app_session_prefix=(sh -c '"$0" "$1" & shift; exec "$@"' "$notifyd" "$notifications")

# The queue as last reported: after the report file has had no new line for a moment.
settled_queue_line() {
  local size=-1 now
  for _ in $(seq 30); do
    now=$(stat -c %s "$report")
    [ "$now" = "$size" ] && break
    size=$now
    sleep 0.2
  done
  grep -E '^queue=' "$report" | tail -n1
}

# --- the second client ------------------------------------------------------------------------

client_api() {
  local method=$1 path=$2 body=${3:-} extra=${4:-}
  local args=(-sS -X "$method" -H "Authorization: Bearer $token" -H "Content-Type: application/fhir+json")
  [ -n "$extra" ] && args+=(-H "$extra")
  [ -n "$body" ] && args+=(--data-binary "$body")
  curl "${args[@]}" "$url$path"
}

login_second_client() {
  local answer
  answer=$(curl -sS -X POST -H 'Content-Type: application/json' \
    --data '{"username":"doctor","password":"'"${WZ_DEMO_PASSWORD:-demo}"'"}' "$url/auth/login")
  token=$(jq -r .access_token <<<"$answer")
  practitioner=$(jq -r .practitioner <<<"$answer")
  [ -n "$token" ] && [ "$token" != null ] || fail "the second client could not sign in: $answer"
}

# new_visit FAMILY GIVEN ID PHONE: a new patient of the demo doctor arriving now; prints the
# Encounter id.
new_visit() {
  local family=$1 given=$2 id_number=$3 phone=$4 patient encounter now
  patient=$(client_api POST /fhir/Patient "$(jq -nc --arg f "$family" --arg g "$given" --arg id "$id_number" \
    --arg p "$phone" --arg gp "$practitioner" '{
      resourceType: "Patient",
      identifier: [{system: "urn:oid:2.16.156.10011.1.1", value: $id}],
      name: [{use: "official", text: ($f + $g), family: $f, given: [$g]}],
      telecom: [{system: "phone", value: $p, use: "mobile"}],
      gender: "female", birthDate: "1990-04-12",
      generalPractitioner: [{reference: $gp}]}')" | jq -r .id)
  [ -n "$patient" ] && [ "$patient" != null ] || fail "could not create the patient"
  now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  encounter=$(client_api POST /fhir/Encounter "$(jq -nc --arg pt "Patient/$patient" --arg gp "$practitioner" \
    --arg now "$now" '{
      resourceType: "Encounter", status: "arrived",
      class: {system: "http://terminology.hl7.org/CodeSystem/v3-ActCode", code: "VR"},
      subject: {reference: $pt},
      participant: [{individual: {reference: $gp}}],
      period: {start: $now},
      reasonCode: [{text: "发热 Fever"}]}')" | jq -r .id)
  [ -n "$encounter" ] && [ "$encounter" != null ] || fail "could not create the visit"
  echo "$encounter"
}

# set_status ENCOUNTER STATUS: a status change as another client makes it, with If-Match.
set_status() {
  local current version
  current=$(client_api GET "/fhir/Encounter/$1")
  version=$(jq -r .meta.versionId <<<"$current")
  client_api PUT "/fhir/Encounter/$1" "$(jq -c --arg s "$2" '.status = $s | del(.meta)' <<<"$current")" \
    "If-Match: W/\"$version\"" | jq -e '.resourceType == "Encounter"' >/dev/null \
    || fail "could not set Encounter/$1 to $2"
}

# Counts by queue status of today's visits of the doctor, as the server has them.
server_counts() {
  local start end
  start=$(date -u -d "$(date +%Y-%m-%d) 00:00" +%Y-%m-%dT%H:%M:%SZ)
  end=$(date -u -d "$(date +%Y-%m-%d) 00:00 tomorrow" +%Y-%m-%dT%H:%M:%SZ)
  client_api GET "/fhir/Encounter?practitioner=$practitioner&date=ge$start&date=lt$end&_count=200" | jq -r '
    [.entry[]?.resource.status] as $s
    | "waiting=\([$s[] | select(. == "arrived" or . == "triaged")] | length)"
      + " in-consultation=\([$s[] | select(. == "in-progress")] | length)"
      + " finished=\([$s[] | select(. == "finished")] | length)"'
}

start_demo() {
  require_server_binary
  require_xdotool
  command -v jq >/dev/null || fail "jq is not installed"
  : >"$notifications"
  start_app --demo
  url=$(field url "$(wait_for '^demo-server ' 60)")
  [ -n "$url" ] || fail "no demo server address"
  wait_for '^state=workspace-shown' 60 >/dev/null
  wait_for '^realtime=connected again=no' 30 >/dev/null
  login_second_client
}

require_app
start_xvfb 140

case "$mode" in
  live)
    lang=${2:-en}
    use_language "$lang"
    start_demo

    # Statuses and their counts are the server's.
    line=$(settled_queue_line)
    echo "$line"
    expected=$(server_counts)
    for status in waiting in-consultation finished; do
      want=$(sed -nE "s/.*$status=([0-9]+).*/\1/p" <<<"$expected")
      got=$(field "$status" "$line")
      [ "$got" = "$want" ] || fail "$status shows $got, the server has $want ($expected)"
    done
    total=$(field all "$line")
    [ "$(field shown "$line")" = "$total" ] || fail "the “All” filter hides patients: $line"
    [ "$total" -gt 0 ] || fail "the queue is empty"
    screenshot "queue-$lang.png"

    # Keyboard focus follows the pointer without a window manager.
    xdotool mousemove 600 400
    sleep 0.3

    # The status menu: Ctrl+F, past the refresh button to the menu, second entry “Waiting”.
    xdotool key ctrl+f Tab Tab Return
    sleep 0.4
    xdotool key Down Return
    line=$(wait_for '^queue=.* filter=waiting' 10)
    echo "$line"
    [ "$(field shown "$line")" = "$(field waiting "$line")" ] || fail "the Waiting filter shows $(field shown "$line"), not $(field waiting "$line")"
    screenshot "queue-waiting-$lang.png"
    # Back to “All”, the first entry, whichever entry the menu opens on.
    xdotool key ctrl+f Tab Tab Return
    sleep 0.4
    xdotool key Up Up Up Up Up Return
    wait_for '^queue=.* filter=all' 10 >/dev/null
    sleep 0.5

    # Search as you type: pinyin initials, full pinyin, Chinese characters.
    xdotool key ctrl+f
    xdotool type --delay 60 "ly"
    line=$(wait_for '^queue=list shown=1 .* search=ly ' 10)
    [ "$(field first "$line")" = "刘洋" ] || fail "“ly” found $(field first "$line"), not 刘洋"
    xdotool key Escape
    wait_for "^queue=list shown=$total .* search= " 10 >/dev/null
    xdotool type --delay 60 "zhangx"
    line=$(wait_for '^queue=list shown=1 .* search=zhangx ' 10)
    [ "$(field first "$line")" = "张秀英" ] || fail "“zhangx” found $(field first "$line"), not 张秀英"
    xdotool key Escape
    xdotool type --delay 60 "zzzq"
    wait_for '^queue=no-results shown=0 .* search=zzzq ' 10 >/dev/null
    screenshot "queue-no-results-$lang.png"
    xdotool key Escape
    wait_for "^queue=list shown=$total .* search= " 10 >/dev/null

    # A patient arrives while the window is in the background: the row appears without a reload
    # and a notification is sent.
    xmessage -geometry +1205+700 -timeout 120 "…" >/dev/null 2>&1 &
    other_pid=$!
    other=$(timeout 10 xdotool search --sync --class Xmessage | head -n1)
    [ -n "$other" ] || fail "no second window to take the focus"
    xdotool mousemove 1240 720
    xdotool windowfocus --sync "$other"
    wait_for '^window-active=no' 10 >/dev/null
    id_number="11010519900412${RANDOM:0:2}2X"
    id_number=${id_number:0:18}
    encounter=$(new_visit "欧阳" "娜娜" "$id_number" "+86 139 1234 5678")
    line=$(wait_for "^queue-added encounter=$encounter " 15)
    echo "$line"
    [ "$(field name "$line")" = "欧阳娜娜" ] || fail "the new row shows $(field name "$line")"
    [ "$(field status "$line")" = waiting ] || fail "the new visit is not waiting: $line"
    [ "$(field position "$line")" -ge 0 ] || fail "the new patient is not in the list: $line"
    line=$(settled_queue_line)
    [ "$(field all "$line")" = $((total + 1)) ] || fail "the queue did not grow by one: $line"
    wait_for "^notification=new-patient encounter=$encounter" 10 >/dev/null
    screenshot "queue-pushed-$lang.png"

    # What the desktop shows: the translated title, the patient's name, a default action.
    for _ in $(seq 50); do grep -q '^notify ' "$notifications" && break; sleep 0.1; done
    shown=$(grep '^notify ' "$notifications" | tail -n1)
    echo "$shown"
    grep -qF "summary=$(translated "New Patient Waiting")"$'\t' <<<"$shown" || fail "notification title: $shown"
    grep -qF "欧阳娜娜" <<<"$shown" || fail "the notification does not name the patient: $shown"
    grep -qE "actions=([^ ]*,)?default(,| )" <<<"$shown" || fail "the notification has no default action: $shown"

    # Clicking it brings the window forward with the patient open.
    kill -USR1 "$(pgrep -P "$(real_app_pid)" -x wz-fake-notifyd)"
    line=$(wait_for "^state=patient-shown .* encounter=$encounter " 10)
    echo "$line"
    wait_for '^window-active=yes' 10 >/dev/null
    kill "$other_pid" 2>/dev/null || true

    # The new patient is found by ID number, by phone digits and by pinyin initials.
    xdotool mousemove 600 400
    sleep 0.3
    for query in "${id_number:6:8}" "12345678" "oynn"; do
      xdotool key ctrl+f
      xdotool type --delay 60 "$query"
      line=$(wait_for "^queue=list shown=1 .* search=$query " 10)
      [ "$(field first "$line")" = "欧阳娜娜" ] || fail "“$query” found $(field first "$line"), not 欧阳娜娜"
      xdotool key Escape
      wait_for "^queue=list shown=$((total + 1)) .* search= " 10 >/dev/null
    done

    # Another client takes the visit into consultation, then a patient withdraws: the row moves,
    # the counts follow, nothing is reloaded.
    before=$(settled_queue_line)
    set_status "$encounter" in-progress
    line=$(wait_for "^queue=.* in-consultation=$(( $(field in-consultation "$before") + 1 )) " 10)
    [ "$(field waiting "$line")" = $(( $(field waiting "$before") - 1 )) ] || fail "waiting count did not drop: $line"
    set_status "$encounter" cancelled
    line=$(wait_for "^queue=.* all=$total " 10)
    echo "$line"
    [ "$(grep -cE '^queue-load kind=full' "$report")" = 1 ] || fail "the queue was reloaded instead of updated"

    quit_app
    check_log
    echo "ok: counts match the server, filter and search work, a pushed patient appeared and left"
    ;;

  reconnect)
    start_demo
    total=$(field all "$(settled_queue_line)")

    # Drop the connection and hold it down: the doctor is told, and nothing arrives meanwhile.
    kill -USR1 "$(real_app_pid)"
    wait_for '^offline-banner=shown' 10 >/dev/null
    screenshot "queue-offline.png"
    encounter=$(new_visit "钱" "晓东" "110105198801011234" "+86 138 0000 0001")
    sleep 2
    if grep -qE "^queue-added encounter=$encounter " "$report"; then
      fail "the visit arrived although the connection was down"
    fi

    # Let it reconnect: the catch-up finds the visit created while offline.
    kill -USR2 "$(real_app_pid)"
    wait_for '^realtime=connected again=yes' 30 >/dev/null
    line=$(wait_for "^queue-added encounter=$encounter " 15)
    echo "$line"
    [ "$(field name "$line")" = "钱晓东" ] || fail "the caught-up row shows $(field name "$line")"
    wait_for '^offline-banner=hidden' 10 >/dev/null
    line=$(settled_queue_line)
    [ "$(field all "$line")" = $((total + 1)) ] || fail "the queue did not catch up: $line"

    # Events flow again after the reconnect.
    before=$(field in-consultation "$line")
    set_status "$encounter" in-progress
    wait_for "^queue=.* in-consultation=$((before + 1)) " 10 >/dev/null
    quit_app
    check_log
    echo "ok: offline banner shown, visit created offline caught up after reconnect"
    ;;

  *)
    fail "unknown mode $mode"
    ;;
esac
