#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# UI tests of the consultation chat on the real `wenzhen` binary under Xvfb, against a server of
# the test's own (ui-test-lib.sh). A second client, acting as the patient over HTTP, writes into
# the same visit. The app reports what it shows through WZ_TEST_REPORT_FILE.
#
#   run-chat-test.sh flow LANG   history shown; a typed message goes pending → sent and is on the
#                                server once; a patient's message appears, markup in it shown as
#                                typed; a quick reply is inserted and sent; search finds a
#                                message; the export's PDF text holds the messages (screenshots
#                                in LANG)
#   run-chat-test.sh offline     the server stops: a message shows “waiting to send”; the server
#                                comes back and the message arrives exactly once
#   run-chat-test.sh killed      the server is down, three messages are written and the app is
#                                killed -9; server and app restart and the outbox sends them,
#                                each exactly once, in the order written
#   run-chat-test.sh attach      a picture goes up as a Binary first, shows as a thumbnail and in
#                                the export; a renamed program is refused with the server's words
#   run-chat-test.sh scroll      day headings over two days; a new message while reading older
#                                ones waits behind a button, at the bottom the list follows
#   run-chat-test.sh unit BINARY a GTest binary
set -euo pipefail

mode=${1:?mode}
source "$(dirname "$0")/ui-test-lib.sh"
ui_test_init chat
fail_report_lines=80
check_log_ignore="GtkText - did not receive a focus-out event"
use_private_xdg_dirs

# restart_server: the server again on the same port and data (the app keeps its address).
restart_server() {
  local port=${url##*:}
  "$server_bin" serve --data-dir "$work/server" --listen "127.0.0.1:$port" \
    >"$work/server.out" 2>>"$work/server.log" &
  own_server_pid=$!
  for _ in $(seq 100); do
    grep -q '^listening on' "$work/server.out" 2>/dev/null && return 0
    kill -0 "$own_server_pid" 2>/dev/null || fail "the server did not restart: $(tail -5 "$work/server.log")"
    sleep 0.1
  done
  fail "the restarted server did not say where it listens"
}

stop_server() {
  kill -TERM "$own_server_pid"
  wait "$own_server_pid" 2>/dev/null || true
  own_server_pid=""
}

# patient_session ENCOUNTER: a bearer token of the visit's patient (visit link, redeemed).
patient_session() {
  local link
  link=$(api POST "/fhir/Encounter/$1/\$visit-link" | jq -r .url)
  curl -sf -X POST "$url/auth/visit" -H 'Content-Type: application/json' \
    -d "{\"link_token\":\"${link#*#}\"}" | jq -r .access_token
}

# say TOKEN SENDER ENCOUNTER TEXT [SENT]: a message from SENDER, as a client of the contract
# sends it (the visit's patient is $patient_ref; SENT defaults to now).
say() {
  local body
  body=$(jq -nc --arg sender "$2" --arg enc "Encounter/$3" --arg text "$4" \
    --arg subject "$patient_ref" \
    --arg uuid "urn:uuid:$(cat /proc/sys/kernel/random/uuid)" --arg sent "${5:-$(date -Iseconds)}" \
    '{resourceType:"Communication",status:"completed",
      identifier:[{system:"urn:ietf:rfc:3986",value:$uuid}],
      encounter:{reference:$enc},subject:{reference:$subject},sender:{reference:$sender},
      sent:$sent,payload:[{contentString:$text}]}')
  curl -sf -X POST "$url/fhir/Communication" -H "Authorization: Bearer $1" \
    -H 'Content-Type: application/fhir+json' -d "$body" >/dev/null \
    || fail "the server did not take the message “$4” from $2"
}

# messages ENCOUNTER: the visit's messages on the server as “sender<TAB>text” lines, in order.
messages() {
  api GET "/fhir/Communication?encounter=Encounter/$1&_sort=_lastUpdated&_count=200" \
    | jq -r '.entry[]?.resource | [.sender.reference, ([.payload[]?.contentString // empty] | join(" "))] | @tsv'
}

# wait_for_text PREFIX TEXT SECONDS: waits for a report line starting with PREFIX and ending with
# text=TEXT (TEXT taken literally); prints it.
wait_for_text() {
  local line
  for _ in $(seq $(($3 * 10))); do
    line=$(grep -F -- "text=$2" "$report" 2>/dev/null | grep -E -- "^$1" | tail -n1 || true)
    if [ -n "$line" ] && [ "${line##* text=}" = "$2" ]; then
      printf '%s\n' "$line"
      return 0
    fi
    kill -0 "$app_pid" 2>/dev/null || fail "the app exited while waiting for “$1 … $2”"
    sleep 0.1
  done
  fail "timed out after ${3}s waiting for “$1 … text=$2”"
}

# open_chat PINYIN NAME: the patient's visit on the Chat page, its messages loaded; sets
# encounter and prints the loaded line.
open_chat() {
  local line
  mark_report
  line=$(open_patient_line "$1" "$2")
  encounter=$(field encounter "$line")
  xdotool key alt+1
  wait_for '^chat=loaded ' 30
  sleep 0.5
}

open_patient_line() {
  xdotool key ctrl+f
  xdotool key ctrl+a BackSpace
  xdotool type --delay 40 "$1"
  wait_for "^queue=list .* search=$1 first=$2\$" 15 >/dev/null
  xdotool key Down
  wait_for "^state=patient-shown .* name=$2\$" 15
}

require_app
require_xdotool
start_xvfb 180

case "$mode" in
  flow)
    lang=${2:-en}
    use_language "$lang"
    # The export's test seam: the file the PDF goes to instead of the desktop's file chooser.
    export WZ_TEST_CHAT_PDF="$shots/chat-export-$lang.pdf"
    rm -f "$WZ_TEST_CHAT_PDF"
    start_server
    token=$(token_for doctor)
    doctor=$(curl -sf -X POST "$url/auth/login" -H 'Content-Type: application/json' \
             -d '{"username":"doctor","password":"demo"}' | jq -r .practitioner)
    sign_in doctor
    wait_for '^queue=list' 20 >/dev/null
    xdotool mousemove 640 400

    # History written before the visit is opened: one message each way.
    patient_id=$(api GET "/fhir/Patient?name=$(jq -rn --arg n 杨志强 '$n|@uri')" | jq -r '.entry[0].resource.id')
    encounter=$(api GET "/fhir/Encounter?patient=Patient/$patient_id" \
                | jq -r '[.entry[].resource | select(.status != "finished")][0].id')
    patient_ref="Patient/$patient_id"
    ptoken=$(patient_session "$encounter")
    [ -n "$ptoken" ] && [ "$ptoken" != null ] || fail "no patient session for the visit"
    say "$ptoken" "$patient_ref" "$encounter" "医生您好，我头痛两天了，早上有点发烧。"
    say "$token" "$doctor" "$encounter" "您好，请问现在体温多少？"
    mark_report
    line=$(open_patient_line yzq 杨志强)
    [ "$(field encounter "$line")" = "$encounter" ] || fail "the queue opened another visit: $line"
    line=$(wait_for '^chat=loaded ' 30)
    echo "$line"
    [ "$(field messages "$line")" = 2 ] || fail "the history does not show both messages"
    xdotool key alt+1
    sleep 0.8
    screenshot "chat-history-$lang.png"
    # Seen on screen: the patient's message is read.
    wait_for '^chat-receipt-sent state=read ' 10 >/dev/null

    # Typed and sent with Enter: shown as sending (after the outbox write), then sent.
    text="Please measure your temperature again and tell me the number."
    xdotool type --delay 15 "$text"
    xdotool key Return
    shown=$(wait_for_text "chat-message-shown " "$text" 10)
    echo "$shown"
    uuid=$(field uuid "$shown")
    case "$(field state "$shown")" in
      sending|sent) ;;
      *) fail "the new message is not shown as pending: $shown" ;;
    esac
    added_at=$(grep -n "^outbox-added uuid=$uuid " "$report" | head -n1 | cut -d: -f1)
    shown_at=$(grep -n "^chat-message-shown uuid=$uuid " "$report" | head -n1 | cut -d: -f1)
    [ -n "$added_at" ] && [ "$added_at" -lt "$shown_at" ] || fail "the message was shown before the outbox had it"
    wait_for "^chat-message-state uuid=$uuid .* state=sent " 15 >/dev/null
    count=$(api GET "/fhir/Communication?encounter=Encounter/$encounter&_count=200" \
            | jq --arg uuid "$uuid" '[.entry[]?.resource | select(.identifier[0].value == $uuid)] | length')
    [ "$count" = 1 ] || fail "the server holds the message $count times"
    messages "$encounter" | tail -n1 | grep -qF "$text" || fail "the server's newest message is not the typed one"

    # The patient types, and reads what the doctor wrote: the app shows both.
    newest=$(api GET "/fhir/Communication?encounter=Encounter/$encounter&_sort=_lastUpdated&_count=200" \
             | jq -r '[.entry[].resource | select(.sender.reference != "'"$patient_ref"'")][-1].meta.lastUpdated')
    node --experimental-websocket "$(dirname "$0")/chat-patient-frames.mjs" "$url" "$ptoken" \
      "Encounter/$encounter" "$newest" >"$work/frames.log" 2>&1 &
    frames_pid=$!
    wait_for '^chat-typing shown=yes from=Patient/' 15 >/dev/null
    sleep 0.3
    screenshot "chat-typing-$lang.png"
    receipt=$(wait_for '^chat-receipt state=read ' 15)
    echo "$receipt"
    [ "$(field changed "$receipt")" = 2 ] || fail "the read receipt did not reach both of the doctor's messages"
    wait "$frames_pid" || fail "the patient's frames were not sent: $(cat "$work/frames.log")"
    # And the doctor's own read receipt is on the server for the patient to catch up with.
    doctor_read=$(curl -sf "$url/chat/receipts?encounter=Encounter/$encounter" -H "Authorization: Bearer $ptoken" \
                  | jq -r '.receipts[] | select(.reader | startswith("Practitioner/")) | .read')
    [ -n "$doctor_read" ] && [ "$doctor_read" != null ] || fail "the server has no read receipt from the doctor"

    # The patient writes: the message appears without reloading.
    say "$ptoken" "$patient_ref" "$encounter" "Now it is 37.8, and I took nothing yet."
    wait_for '^chat-message-added .* outgoing=no .* text=Now it is 37.8, and I took nothing yet.$' 15 >/dev/null

    # Markup and script from the patient are shown as typed, never interpreted.
    html='<b>bold</b> <script>alert(1)</script> <a href="file:///etc/passwd">link</a> &amp; 5<6'
    say "$ptoken" "$patient_ref" "$encounter" "$html"
    added=$(wait_for '^chat-message-added .* outgoing=no .* text=<b>bold' 15)
    hid=$(field uuid "$added")
    wait_for "^chat-row-text uuid=$hid shown=" 10 >/dev/null
    grep -qxF "chat-row-text uuid=$hid shown=$html" "$report" \
      || fail "the patient's markup is not shown literally: $(grep "^chat-row-text uuid=$hid " "$report" | tail -n1)"
    sleep 0.6
    screenshot "chat-conversation-$lang.png"

    # A quick reply: the menu, the first phrase, sent with Enter.
    xdotool key ctrl+shift+r
    wait_for '^quick-replies-shown n=' 10 >/dev/null
    sleep 0.5
    screenshot "chat-quick-replies-$lang.png"
    # The popover puts the focus on its first phrase.
    xdotool key Return
    inserted=$(wait_for '^quick-reply-inserted text=' 10)
    phrase=${inserted#quick-reply-inserted text=}
    expected=$(translated "Hello, I am the doctor for your consultation today. How can I help you?")
    [ "$phrase" = "$expected" ] || fail "the first quick reply is “$phrase”, not “$expected”"
    xdotool key Return
    wait_for_text "chat-message-stored .* state=sent " "$phrase" 15 >/dev/null
    messages "$encounter" | tail -n1 | grep -qF "$phrase" || fail "the quick reply did not reach the server"

    # Search: the patient's temperature is found and highlighted.
    xdotool key ctrl+f
    wait_for '^chat-search-shown' 10 >/dev/null
    xdotool type --delay 60 "37.8"
    found=$(wait_for '^chat-search query=37.8 matches=' 10)
    echo "$found"
    [ "$(field matches "$found")" = 1 ] || fail "search for 37.8 does not find exactly one message"
    grep -q 'text=Now it is 37.8' <<<"$found" || fail "search found the wrong message"
    sleep 0.6
    screenshot "chat-search-$lang.png"
    xdotool key Escape

    # Export: the PDF's text holds every message.
    xdotool key ctrl+shift+e
    exported=$(wait_for '^chat-export path=' 30)
    echo "$exported"
    [ -s "$WZ_TEST_CHAT_PDF" ] || fail "no PDF was written"
    pdftotext -layout "$WZ_TEST_CHAT_PDF" "$work/export.txt"
    # Lines of the PDF are wrapped; compare without white space.
    tr -d ' \n' <"$work/export.txt" >"$work/export.flat"
    for expect in "医生您好，我头痛两天了" "您好，请问现在体温多少" "$text" "Now it is 37.8" "杨志强" "$phrase"; do
      flat=$(tr -d ' \n' <<<"$expect")
      grep -qF -- "$flat" "$work/export.flat" || fail "the exported PDF lacks “$expect”"
    done
    pdftoppm -png -r 50 -f 1 -singlefile "$WZ_TEST_CHAT_PDF" "$shots/chat-export-$lang"

    quit_app
    check_log
    echo "ok: chat of 杨志强: history, sent once, patient message live, markup literal, quick reply, search, PDF"
    ;;

  offline)
    start_server
    token=$(token_for doctor)
    sign_in doctor
    wait_for '^queue=list' 20 >/dev/null
    open_chat yzq 杨志强 >/dev/null

    stop_server
    text="Are you allergic to any medicine?"
    sleep 0.5
    xdotool type --delay 15 "$text"
    xdotool key Return
    shown=$(wait_for_text "chat-message-shown " "$text" 10)
    uuid=$(field uuid "$shown")
    wait_for "^chat-message-state uuid=$uuid .* state=waiting " 20 >/dev/null
    sleep 0.6
    screenshot "chat-waiting.png"

    restart_server
    wait_for "^chat-message-state uuid=$uuid .* state=sent " 60 >/dev/null
    count=$(messages "$encounter" | grep -cF "$text" || true)
    [ "$count" = 1 ] || fail "the message reached the server $count times"
    quit_app
    check_log
    echo "ok: waiting while the server was down, then sent exactly once"
    ;;

  killed)
    start_server
    token=$(token_for doctor)
    sign_in doctor
    wait_for '^queue=list' 20 >/dev/null
    open_chat yzq 杨志强 >/dev/null

    stop_server
    sleep 0.5
    texts=("First: how long have you had the cough?" "Second: any fever at night?" "Third: please send a photo of your throat.")
    for t in "${texts[@]}"; do
      xdotool type --delay 10 "$t"
      xdotool key Return
      wait_for_text "chat-message-shown " "$t" 10 >/dev/null
    done
    # Killed as soon as the last one is on the disk.
    kill -KILL "$(real_app_pid)"
    kill_app
    [ -n "$(ls "$XDG_DATA_HOME"/wenzhen/outbox/*.db 2>/dev/null)" ] || fail "no outbox file"
    perms=$(stat -c %a "$XDG_DATA_HOME"/wenzhen/outbox/*.db | head -n1)
    [ "$perms" = 600 ] || fail "the outbox is readable by others ($perms)"

    restart_server
    sign_in doctor
    opened=$(wait_for '^outbox-opened ' 20)
    [ "$(field pending "$opened")" = 3 ] || fail "the outbox did not hold the three messages: $opened"
    for _ in $(seq 100); do
      [ "$(grep -c '^outbox-state .* state=sent ' "$report" || true)" -ge 3 ] && break
      sleep 0.2
    done
    sent=$(grep -c '^outbox-state .* state=sent ' "$report" || true)
    [ "$sent" = 3 ] || fail "the outbox sent $sent of 3 after the restart"
    on_server=$(messages "$encounter" | cut -f2)
    for t in "${texts[@]}"; do
      count=$(grep -cxF "$t" <<<"$on_server" || true)
      [ "$count" = 1 ] || fail "“$t” is on the server $count times"
    done
    order=$(grep -xF -e "${texts[0]}" -e "${texts[1]}" -e "${texts[2]}" <<<"$on_server")
    [ "$order" = "$(printf '%s\n' "${texts[@]}")" ] || fail "the messages arrived out of order: $order"
    wait_for '^queue=list' 20 >/dev/null
    line=$(open_chat yzq 杨志强)
    [ "$(field pending "$line")" = 0 ] || fail "messages still pending after the resend: $line"
    sleep 0.6
    screenshot "chat-resent.png"
    quit_app
    check_log
    echo "ok: three messages written while the server was down survived kill -9 and arrived once each, in order"
    ;;

  attach)
    # A picture attached (the test seam names the file instead of the file chooser; it is a
    # symbolic link the test points at each file in turn): uploaded as a Binary of the visit
    # first, shown as a thumbnail, in the export as a picture. Then a program renamed to .png:
    # the server's refusal is shown at the message and nothing is retried.
    convert -size 320x200 gradient:red-yellow "$work/rash.png"
    printf 'MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff' >"$work/setup.exe"
    ln -sf "$work/rash.png" "$work/photo.png"
    export WZ_TEST_CHAT_ATTACH="$work/photo.png"
    export WZ_TEST_CHAT_PDF="$shots/chat-export-pictures.pdf"
    rm -f "$WZ_TEST_CHAT_PDF"
    start_server
    token=$(token_for doctor)
    sign_in doctor
    wait_for '^queue=list' 20 >/dev/null
    open_chat yzq 杨志强 >/dev/null

    xdotool key ctrl+o
    wait_for '^chat-staged n=1 type=image/png title=photo.png ' 10 >/dev/null
    xdotool type --delay 15 "The rash this morning"
    xdotool key Return
    stored=$(wait_for_text "chat-message-stored .* attachments=1 " "The rash this morning" 20)
    echo "$stored"
    grep -q '^outbox-upload .* binary=Binary/' "$report" || fail "the picture was not uploaded first"
    binary=$(sed -nE 's/^outbox-upload .* binary=(Binary\/[^ ]+) .*/\1/p' "$report" | head -n1)
    wait_for "^chat-thumbnail key=$binary width=320 height=200" 15 >/dev/null
    api GET "/fhir/$binary" -H 'Accept: image/png' -o "$work/back.png"
    cmp -s "$work/rash.png" "$work/back.png" || fail "the server's picture is not the one attached"
    url_in_message=$(api GET "/fhir/Communication?encounter=Encounter/$encounter" \
                     | jq -r '[.entry[].resource.payload[]?.contentAttachment.url // empty][0]')
    [ "$url_in_message" = "$binary" ] || fail "the message names $url_in_message, not $binary"
    sleep 0.6
    screenshot "chat-picture.png"

    xdotool key ctrl+shift+e
    wait_for '^chat-export path=' 30 >/dev/null
    pictures=$(pdfimages -list "$WZ_TEST_CHAT_PDF" | tail -n +3 | wc -l)
    [ "$pictures" -ge 1 ] || fail "the exported PDF has no picture"

    # A program dressed up as a picture.
    ln -sf "$work/setup.exe" "$work/photo.png"
    xdotool key ctrl+o
    wait_for '^chat-staged n=1 type=image/png title=photo.png size=14' 10 >/dev/null
    xdotool key Return
    failed=$(wait_for '^outbox-state .* state=failed status=415 ' 20)
    echo "$failed"
    grep -qF "This file is not a JPEG, PNG, PDF or voice note and cannot be sent." <<<"$failed" \
      || fail "the refusal does not carry the server's explanation"
    wait_for '^chat-message-state .* state=failed ' 10 >/dev/null
    sleep 2
    [ "$(grep -c '^outbox-state .* status=415 ' "$report")" = 1 ] || fail "the refused message was tried again"
    sleep 0.4
    screenshot "chat-refused.png"
    quit_app
    check_log
    echo "ok: picture uploaded first, thumbnail and PDF picture; renamed program refused with the server's words"
    ;;

  scroll)
    # A long conversation over two days: day headings; reading older messages is not
    # interrupted by a new one (a button offers it), at the newest the list follows.
    start_server
    token=$(token_for doctor)
    doctor=$(curl -sf -X POST "$url/auth/login" -H 'Content-Type: application/json' \
             -d '{"username":"doctor","password":"demo"}' | jq -r .practitioner)
    patient_id=$(api GET "/fhir/Patient?name=$(jq -rn --arg n 杨志强 '$n|@uri')" | jq -r '.entry[0].resource.id')
    encounter=$(api GET "/fhir/Encounter?patient=Patient/$patient_id" \
                | jq -r '[.entry[].resource | select(.status != "finished")][0].id')
    patient_ref="Patient/$patient_id"
    ptoken=$(patient_session "$encounter")
    yesterday=$(date -d 'yesterday 20:00' -Iseconds)
    for i in $(seq 1 30); do
      if [ "$i" -le 12 ]; then sent=$yesterday; else sent=$(date -Iseconds); fi
      if [ $((i % 2)) = 1 ]; then
        say "$ptoken" "$patient_ref" "$encounter" "Patient line $i: still coughing at night." "$sent"
      else
        say "$token" "$doctor" "$encounter" "Doctor line $i: noted, any fever?" "$sent"
      fi
    done
    sign_in doctor
    wait_for '^queue=list' 20 >/dev/null
    line=$(open_chat yzq 杨志强)
    [ "$(field messages "$line")" = 30 ] || fail "not all 30 messages are shown: $line"
    grep -q "^chat-day .* label=$(translated Today)\$" "$report" || fail "no Today heading"
    # The conversation opens at the newest message, so the oldest heading is not on screen yet.
    xdotool mousemove 800 400
    for _ in $(seq 40); do xdotool click 4; sleep 0.02; done
    wait_for "^chat-day .* label=$(translated Yesterday)\$" 10 >/dev/null
    sleep 0.5
    screenshot "chat-scrolled-up.png"

    mark_report
    say "$ptoken" "$patient_ref" "$encounter" "New while you read: the cough is worse."
    line=$(wait_for '^chat-new-messages-button shown=yes ' 15)
    [ "$(field unseen "$line")" = 1 ] || fail "the button does not count one new message: $line"
    grep -q '^chat-followed-newest' "$report" && fail "the list jumped while the doctor read older messages"
    sleep 0.5
    screenshot "chat-new-messages.png"
    xdotool key alt+End
    wait_for '^chat-jumped-to-newest' 10 >/dev/null
    sleep 0.8

    mark_report
    say "$ptoken" "$patient_ref" "$encounter" "And now some phlegm too."
    wait_for '^chat-followed-newest incoming=1' 15 >/dev/null
    grep -q '^chat-new-messages-button' "$report" && fail "the button appeared although the newest was on screen"
    quit_app
    check_log
    echo "ok: headings for two days; new message held behind a button while reading, followed at the bottom"
    ;;

  unit)
    binary=${2:?binary}
    shift 2
    "$binary" "$@"
    ;;

  *)
    fail "unknown mode $mode"
    ;;
esac
