#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# UI tests of the patient record pane, the visit actions and the visit note, on the real
# `wenzhen` binary on its own Xvfb display (same pattern as run-ui-test.sh). The app reports what
# it shows through WZ_TEST_REPORT_FILE; each test drives it with the keyboard, saves screenshots
# for a person to look at, and checks what a doctor would see.
#
#   run-record-test.sh record LANG  the demo patient's allergies, conditions, vitals and chart;
#                                   call next brings the urgent triaged patient with their answers;
#                                   ICD-10 search in the note editor (screenshots in LANG)
#   run-record-test.sh draft        a note typed, the app killed -9 right after the draft reached
#                                   the disk, restarted: the text is back and reaches the server
#   run-record-test.sh conflict     another doctor takes the patient behind the app's back; the
#                                   app's start is refused (412) and says so, nothing overwritten
#   run-record-test.sh unit BINARY  a GTest binary that needs a display
set -euo pipefail

mode=${1:?mode}
source "$(dirname "$0")/ui-test-lib.sh"
ui_test_init record
fail_report_lines=60
# GTK 4.8 warns “GtkText - did not receive a focus-out event” when the sign-in page, with the
# focus in its password field, gives way to the workspace (only the typed sign-in of these tests
# gets there; the demo signs in by itself); check_log lets that one pass.
check_log_ignore="GtkText - did not receive a focus-out event"
use_private_xdg_dirs

require_app
require_xdotool
start_xvfb 140

case "$mode" in
  record)
    lang=${2:-en}
    use_language "$lang"
    start_app --demo
    wait_for '^state=workspace-shown' 90 >/dev/null
    wait_for '^queue=list' 20 >/dev/null
    xdotool mousemove 640 400
    sleep 0.3

    # 张秀英: allergic to penicillin, hypertension and diabetes, ten months of measurements.
    open_patient zxy 张秀英
    line=$(wait_for '^record=loaded .* name=张秀英$' 30)
    echo "$line"
    [ "$(field errors "$line")" = 0 ] || fail "parts of the record failed to load"
    grep -q 'allergies=青霉素 Penicillin' <<<"$line" || fail "the penicillin allergy is not shown"
    conditions=$(field conditions "$line")
    grep -qw I10 <<<"$conditions" || fail "hypertension (I10) is not among the conditions: $conditions"
    grep -qw E11.9 <<<"$conditions" || fail "diabetes (E11.9) is not among the conditions: $conditions"
    vitals=$(field vitals "$line")
    # Ten clinic readings plus the home reading of yesterday morning that the follow-up demo adds;
    # which of the two is newest depends on the hour the demo was made.
    grep -Eq 'bp:(138/84|162/98)\(11\)' <<<"$vitals" || fail "latest blood pressure of 11 not shown: $vitals"
    grep -q 'glucose:7.2(10)' <<<"$vitals" || fail "latest glucose 7.2 of 10 not shown: $vitals"
    [ "$(field chart-points "$line")" = 11 ] || fail "the chart does not plot the 11 pressures"
    sleep 0.5
    screenshot "record-$lang.png"

    # Further down: the chart, earlier visits and documents.
    xdotool mousemove 590 500
    for _ in $(seq 14); do xdotool click 5; sleep 0.02; done
    sleep 0.6
    screenshot "record-history-$lang.png"

    # Call next: the urgent, triaged patient (陈静) comes in, with her pre-consultation answers.
    mark_report
    xdotool key ctrl+shift+n
    called=$(wait_for '^call-next ' 20)
    line=$(wait_for '^triage-shown ' 20)
    echo "$line"
    [ "$(field urgency "$line")" = 2 ] || fail "the called patient is not the urgent one"
    grep -q 'pregnant_any' <<<"$line" || fail "the triage rules are not shown"
    wait_for '^record=loaded .* status=in-progress ' 20 >/dev/null
    wait_for '^note-loaded ' 20 >/dev/null

    # The note: chief complaint, history, then an ICD-10 code by its code.
    sleep 0.5
    xdotool type --delay 20 "Migraine for two days"
    xdotool key Tab
    xdotool type --delay 10 "Left-sided throbbing headache, nausea, no fever, no neck stiffness."
    xdotool key Tab
    xdotool type --delay 60 "G43.9"
    line=$(wait_for '^icd10-results query=G43.9 ' 10)
    echo "$line"
    [ "$(field first "$line")" = G43.9 ] || fail "G43.9 does not find migraine first: $line"
    sleep 0.6
    screenshot "note-$lang.png"
    xdotool key Return
    wait_for '^diagnosis-added code=G43.9 n=1' 10
    wait_for '^note-saved-server ' 15 >/dev/null
    sleep 0.5
    screenshot "note-diagnosis-$lang.png"

    # Finish: the diagnosis becomes a Condition of the visit, the note is signed, the visit closed.
    xdotool key ctrl+shift+f
    wait_for '^encounter-status=finished ' 20 >/dev/null
    line=$(wait_for '^record=loaded .* status=finished ' 20)
    grep -q 'conditions=.*G43.9' <<<"$line" || fail "the visit's diagnosis is not among the conditions: $line"
    wait_for '^note-final .* draft-removed=yes' 20 >/dev/null
    quit_app
    check_log
    echo "ok: record of 张秀英 shown ($conditions; $vitals); $called; migraine coded"
    ;;

  draft)
    start_server
    sign_in doctor
    wait_for '^queue=list' 20 >/dev/null
    open_patient cj 陈静
    wait_for '^note-loaded .* source=empty' 20 >/dev/null
    # Start the consultation, then write.
    xdotool key ctrl+shift+s
    wait_for '^encounter-status=in-progress ' 20 >/dev/null
    sleep 0.5
    text="Headache since Tuesday"
    xdotool type --delay 40 "$text"
    draft=""
    for _ in $(seq 50); do
      draft=$(ls "$XDG_DATA_HOME"/wenzhen/drafts/*.json 2>/dev/null | head -n1 || true)
      if [ -n "$draft" ] && grep -q "\"chief_complaint\":\"$text\"" "$draft"; then
        break
      fi
      sleep 0.05
    done
    grep -q "\"chief_complaint\":\"$text\"" "$draft" || fail "the draft file never held the typed text"
    # The disk had the whole text before anything reached the server.
    first_local=$(grep -n '^note-draft-local' "$report" | head -n1 | cut -d: -f1)
    first_server=$(grep -n '^note-saved-server' "$report" | head -n1 | cut -d: -f1 || true)
    [ -n "$first_local" ] || fail "no local draft was written"
    if [ -n "$first_server" ] && [ "$first_server" -lt "$first_local" ]; then
      fail "the note reached the server before the local draft"
    fi
    perms=$(stat -c %a "$draft")
    [ "$perms" = 600 ] || fail "the draft is readable by others ($perms)"
    kill -KILL "$(real_app_pid)"
    kill_app

    # Restart: the visit's note comes back from the draft and goes on to the server.
    sign_in doctor
    wait_for '^queue=list' 20 >/dev/null
    open_patient cj 陈静
    line=$(wait_for '^note-loaded ' 20)
    echo "$line"
    grep -q "chief=$text\$" <<<"$line" || fail "the typed text is not back after the restart: $line"
    wait_for '^note-saved-server ' 20 >/dev/null
    token=$(token_for doctor)
    encounter=$(field encounter "$line")
    stored=$(api GET "/fhir/DocumentReference?encounter=Encounter/$encounter" \
             | jq -r '.entry[0].resource.content[0].attachment.data' | base64 -d)
    grep -q "$text" <<<"$stored" || fail "the server's note does not hold the restored text"
    screenshot "note-restored.png"
    quit_app
    check_log
    echo "ok: draft $draft survived kill -9 and reached the server"
    ;;

  conflict)
    start_server
    sign_in doctor
    wait_for '^queue=list' 20 >/dev/null
    open_patient yzq 杨志强
    line=$(wait_for '^record=loaded .* status=(arrived|triaged) ' 20)
    encounter=$(field encounter "$line")

    # Another doctor takes the patient: a newer version of the visit, made over HTTP.
    token=$(token_for doctor)
    current=$(api GET "/fhir/Encounter/$encounter")
    version=$(jq -r .meta.versionId <<<"$current")
    changed=$(jq -c '.status = "in-progress" | del(.meta)' <<<"$current")
    api PUT "/fhir/Encounter/$encounter" -H 'Content-Type: application/fhir+json' \
      -H "If-Match: W/\"$version\"" -d "$changed" >/dev/null \
      || fail "the test could not change the visit behind the app's back"

    # The app still shows the old version; starting the consultation must be refused.
    mark_report
    xdotool key ctrl+shift+s
    line=$(wait_for '^conflict-shown ' 20)
    echo "$line"
    expected=$(translated "Someone else changed this visit (for example another doctor took the patient). The latest version is shown.")
    grep -qF "message=$expected" <<<"$line" || fail "the conflict message is not the expected one"
    wait_for '^record=loaded .* status=in-progress ' 20 >/dev/null
    sleep 0.5
    screenshot "record-conflict.png"
    after=$(api GET "/fhir/Encounter/$encounter")
    [ "$(jq -r .meta.versionId <<<"$after")" = $((version + 1)) ] \
      || fail "the visit was written again after the conflict"
    quit_app
    check_log
    echo "ok: stale start refused with “$expected”; version stays $((version + 1))"
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
