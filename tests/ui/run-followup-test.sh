#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# UI tests of follow-up and vaccination on the real `wenzhen` binary on its own Xvfb display,
# against a demo server of the test's own (same pattern as run-rx-test.sh). The app reports what
# it shows through WZ_TEST_REPORT_FILE. Before the app starts, the doctor's data gets what a few
# weeks of follow-up leave behind, over HTTP (besides whatever follow-up the demo data has):
# 杨志强 on a hypertension plan started four weeks ago (a revisit due today, a missed check-in,
# a revisit in the coming week) who reported a home systolic pressure of 168 mmHg, and a
# hepatitis B dose recorded for the child 王浩然.
#
#   run-followup-test.sh flow LANG   the worklist (Ctrl+2) shows the overdue and today's tasks
#                                    with the out-of-range reading flagged; the editor builds a
#                                    hypertension plan for 张秀英 from the template, the first
#                                    revisit is removed and the systolic target raised to 135 (en;
#                                    zh_CN starts from a draft on disk with those edits), the app
#                                    is killed (kill -9) mid-edit and restarted, the draft comes
#                                    back ("Draft restored"), and Save makes the CarePlan and its
#                                    Tasks in one request (checked over HTTP: the removed revisit
#                                    not stored, the target changed; the draft gone); a plan is stopped
#                                    with a reason (en); a worklist task is marked done and a
#                                    patient called in (en; the clicks use the English layout); the
#                                    vaccination view shows 王浩然's doses due and given, and the
#                                    record exports to a PDF whose text names the vaccines and
#                                    whose rasterized page is neither blank nor black
#                                    (screenshots of worklist, editor, saved plans and
#                                    vaccination view in LANG)
#   run-followup-test.sh red-flag    with the window in the background, an urgent reading
#                                    (systolic 190) pushed over /ws raises a desktop notification
#                                    (recorded by a stand-in notification server)
#   run-followup-test.sh unit BINARY a GTest binary that needs a display
set -euo pipefail

mode=${1:?mode}
source "$(dirname "$0")/ui-test-lib.sh"
ui_test_init followup
fail_report_lines=60
check_log_ignore="GtkText - did not receive a focus-out event"
use_private_xdg_dirs

if [ "$mode" = unit ]; then
  start_xvfb 190
  "$2"
  exit $?
fi

require_app
require_xdotool
start_xvfb 190

# The clinic's civil date, as the server's worklist counts it.
clinic_day() {
  TZ=Asia/Shanghai date -d "${1:-0} days" +%F
}

patient_id() {
  api GET "/fhir/Patient?name=$1" | jq -r '.entry[0].resource.id'
}

# post_reading PATIENT VALUE: a home systolic pressure the patient reported just now.
post_reading() {
  local now
  now=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
  api POST /fhir/Observation -H 'Content-Type: application/fhir+json' -d @- >/dev/null <<JSON
{"resourceType":"Observation","status":"final",
 "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],
 "code":{"coding":[{"system":"http://loinc.org","code":"8480-6"},
                   {"system":"https://wenzhen.example/fhir/CodeSystem/followup-measurement","code":"home_bp_systolic"}],
         "text":"Home systolic blood pressure"},
 "subject":{"reference":"Patient/$1"},"effectiveDateTime":"$now",
 "valueQuantity":{"value":$2,"unit":"mm[Hg]","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}
JSON
}

# move_task TASK_JSON DUE_DAYS END_DAYS: the Task due DUE_DAYS from today, on time until END_DAYS.
move_task() {
  local task=$1 due end id version
  due=$(clinic_day "$2")
  end=$(clinic_day "$3")
  id=$(jq -r .id <<<"$task")
  version=$(jq -r .meta.versionId <<<"$task")
  jq --arg due "$due" --arg until "$end" \
     '(.extension[] | select(.url | endswith("task-due-date")) | .valueDate) = $due
      | .restriction.period = {"start": $due, "end": $until} | del(.meta)' <<<"$task" \
    | api PUT "/fhir/Task/$id" -H 'Content-Type: application/fhir+json' -H "If-Match: W/\"$version\"" \
        -d @- >/dev/null || fail "Task/$id could not be moved"
}

seed() {
  token=$(token_for doctor)
  yzq=$(patient_id 杨志强)
  child=$(patient_id 王浩然)
  zxy=$(patient_id 张秀英)
  [ -n "$yzq" ] && [ "$yzq" != null ] || fail "no demo patient 杨志强"
  api POST '/fhir/CarePlan/$apply-template' -H 'Content-Type: application/fhir+json' -d @- \
    >"$work/seed-plan.json" <<JSON || fail "the seed plan was not made"
{"resourceType":"Parameters","parameter":[
 {"name":"template","valueString":"hypertension"},
 {"name":"patient","valueString":"Patient/$yzq"},
 {"name":"identifier","valueString":"urn:uuid:$(cat /proc/sys/kernel/random/uuid)"},
 {"name":"start","valueDate":"$(clinic_day -28)"}]}
JSON
  # A plan made today has nothing overdue yet: the first check-in is moved back as if it had
  # been missed, and the second revisit forward into the coming week.
  move_task "$(jq -c '[.entry[].resource | select(.code.coding[0].code == "adherence-checkin")][0]' \
               "$work/seed-plan.json")" -10 -7
  move_task "$(jq -c '[.entry[].resource | select(.code.coding[0].code == "revisit")][1]' \
               "$work/seed-plan.json")" 3 10
  post_reading "$yzq" 168 || fail "the reading was not stored"
  api POST /fhir/Immunization -H 'Content-Type: application/fhir+json' -d @- >/dev/null <<JSON \
    || fail "the seed dose was not stored"
{"resourceType":"Immunization","status":"completed",
 "vaccineCode":{"coding":[{"system":"https://wenzhen.example/fhir/CodeSystem/nip-vaccine","code":"HepB"}]},
 "patient":{"reference":"Patient/$child"},
 "occurrenceDateTime":"$(api GET "/fhir/Patient/$child" | jq -r .birthDate)",
 "lotNumber":"HB2022081501","primarySource":true}
JSON
}

case "$mode" in
  flow)
    lang=${2:-en}
    use_language "$lang"
    export WZ_TEST_VACCINATION_PDF="$shots/vaccination-record-$lang.pdf"
    rm -f "$WZ_TEST_VACCINATION_PDF"
    start_server
    seed
    sign_in doctor
    wait_for '^queue=list' 20 >/dev/null

    # The worklist, read at sign-in: the missed check-in overdue, today's revisit, the reading.
    line=$(wait_for '^followup-worklist ' 30)
    echo "$line"
    [ "$(field overdue "$line")" -ge 1 ] || fail "no overdue follow-up: $line"
    [ "$(field today "$line")" -ge 1 ] || fail "no follow-up due today: $line"
    grep -q 'home_bp_systolic:high' <<<"$line" || fail "the high systolic reading is not flagged: $line"
    # The first patient's allergy mark, read after the list, settles the rows' places.
    first=$(patient_id "$(field first-overdue "$line")")
    wait_for "^followup-worklist-allergies patient=Patient/$first " 20 >/dev/null
    xdotool key ctrl+2
    wait_for '^sidebar=followups' 10 >/dev/null
    sleep 0.6
    screenshot "followup-worklist-$lang.png"
    if [ "$lang" = en ]; then
      # The first patient's first task done (its tick), then the patient called in for a revisit
      # (the phone at the right of the name): both reach the server.
      mark_report
      xdotool mousemove 324 282 click 1
      line=$(wait_for '^followup-task-done task=Task/' 15)
      task=${line#*task=}
      [ "$(api GET "/fhir/$task" | jq -r .status)" = completed ] || fail "$task is not completed on the server"
      wait_for '^followup-worklist ' 15 >/dev/null
      sleep 0.6
      xdotool mousemove 324 208 click 1
      line=$(wait_for '^followup-called-in ' 15)
      echo "$line"
      encounter=$(field encounter "$line")
      [ "$(api GET "/fhir/Encounter/$encounter" | jq -r .status)" = planned ] \
        || fail "the revisit called in is not a booked visit on the server"
    fi
    xdotool key ctrl+1
    wait_for '^sidebar=queue' 10 >/dev/null

    # The editor: 张秀英's hypertension plan from the template.
    draft="$XDG_DATA_HOME/wenzhen/drafts/careplan-$zxy.json"
    if [ "$lang" != en ]; then
      # The pointer steps below need the English layout: here the draft an earlier session left
      # (the first revisit removed, the systolic target 135) is what comes back.
      mkdir -p "$(dirname "$draft")"
      cat >"$draft" <<JSON
{"patient":"Patient/$zxy","edited_us":0,"parameters":{"resourceType":"Parameters","parameter":[
 {"name":"template","valueString":"hypertension"},{"name":"patient","valueString":"Patient/$zxy"},
 {"name":"identifier","valueString":"urn:uuid:$(cat /proc/sys/kernel/random/uuid)"},
 {"name":"start","valueDate":"$(clinic_day 0)"},
 {"name":"item","part":[{"name":"key","valueString":"revisit-1"},{"name":"remove","valueBoolean":true}]},
 {"name":"target","part":[{"name":"measurement","valueCode":"home_bp_systolic"},{"name":"high","valueDecimal":135}]}]}}
JSON
    fi
    open_patient zxy 张秀英
    xdotool key alt+4
    line=$(wait_for '^careplan-preview patient=Patient/[a-z0-9]+ template=hypertension ' 20)
    echo "$line"
    [ "$(field revisits "$line")" -ge 3 ] || fail "the plan has too few revisits: $line"
    [ "$(field measurements "$line")" -ge 2 ] || fail "the plan measures nothing: $line"
    line=$(wait_for '^careplan-plans ' 20)
    plans_before=$(field plans "$line")
    sleep 0.6
    screenshot "followup-editor-$lang.png"
    # Clicks land where the English layout puts them (the sidebar's width follows the language).
    if [ "$lang" = en ]; then
      # The doctor takes the first revisit out of the plan (its bin, at the right of the row).
      xdotool mousemove 1134 513 click 1
      line=$(wait_for '^careplan-item-removed id=' 10)
      removed=${line#*id=}
      # Further down: the measurements with their target ranges.
      xdotool mousemove 800 600 click 5 click 5 click 5 click 5 click 5 click 5
      sleep 0.8
      screenshot "followup-editor-items-$lang.png"
      # The systolic target raised from 130 to 135 for this patient.
      xdotool mousemove 975 366 click 1
      sleep 0.3
      xdotool key ctrl+a
      xdotool type --delay 40 "135"
      xdotool key Tab
      # Every change is on this computer before anything is sent: the app is killed (kill -9)
      # in the middle of the edit and started again, and the edited plan comes back.
      for _ in $(seq 50); do
        jq -e '.parameters.parameter[] | select(.name == "target") | .part[]
               | select(.name == "high") | select(.valueDecimal == 135)' "$draft" >/dev/null 2>&1 && break
        sleep 0.1
      done
      jq -e '.parameters.parameter[] | select(.name == "item") | .part[] | select(.name == "remove")' \
        "$draft" >/dev/null || fail "the draft on disk does not have the removed revisit: $(cat "$draft" 2>&1)"
      kill -KILL "$(real_app_pid)"
      kill_app
      sign_in doctor
      wait_for '^queue=list' 20 >/dev/null
      open_patient zxy 张秀英
      xdotool key alt+4
    fi
    line=$(wait_for "^careplan-draft-restored patient=Patient/$zxy " 20)
    echo "$line"
    [ "$(field removed "$line")" = 1 ] && [ "$(field edited "$line")" = 1 ] \
      || fail "the draft came back without the removed revisit and the changed target: $line"
    # The patient's plans are read beside it; the screenshot waits for both.
    wait_for '^careplan-plans ' 20 >/dev/null
    sleep 1.2
    screenshot "followup-editor-draft-restored-$lang.png"
    xdotool key alt+s
    line=$(wait_for '^careplan-saved plan=CarePlan/' 30)
    echo "$line"
    plan=$(field plan "$line")
    tasks=$(field tasks "$line")
    if true; then
      [ "$(field removed "$line")" = 1 ] || fail "the removed revisit was not sent: $line"
      [ "$(field edited "$line")" = 1 ] || fail "the edited target was not sent: $line"
      high=$(api GET "/fhir/Task?patient=Patient/$zxy&code=measurement&_count=200" \
             | jq --arg plan "$plan" -r '[.entry[].resource | select(.basedOn[0].reference == $plan)
                 | select(any(.code.coding[]; .code == "home_bp_systolic"))][0]
                 | .extension[] | select(.url | endswith("followup-target")) | .extension[]
                 | select(.url == "high") | .valueDecimal')
      [ "$high" = 135 ] || fail "the systolic target on the server is $high, not 135"
      # The plan was made without the removed revisit (one request, as edited).
      revisit_one=$(api GET "/fhir/Task?patient=Patient/$zxy&code=revisit&_count=200" \
                    | jq --arg plan "$plan" '[.entry[].resource | select(.basedOn[0].reference == $plan)
                        | select(.identifier[0].value | endswith("/revisit-1"))] | length')
      [ "$revisit_one" = 0 ] || fail "the removed revisit was stored with $plan"
      wait_for "^careplan-draft-discarded patient=Patient/$zxy" 10 >/dev/null
      [ ! -e "$draft" ] || fail "the draft is still on disk after the plan was saved"
    fi
    plan_status=$(api GET "/fhir/$plan" | jq -r .status)
    [ "$plan_status" = active ] || fail "$plan is not active on the server ($plan_status)"
    stored=$(api GET "/fhir/Task?patient=Patient/$zxy&_count=200" \
             | jq --arg plan "$plan" '[.entry[].resource | select(.basedOn[0].reference == $plan)] | length')
    [ "$stored" -ge "$tasks" ] && [ "$tasks" -ge 5 ] \
      || fail "the server has $stored Tasks of $plan, the app saved $tasks"
    revisits=$(api GET "/fhir/Task?patient=Patient/$zxy&code=revisit&_count=200" | jq '.total')
    [ "$revisits" -ge 3 ] || fail "no revisit Tasks on the server ($revisits)"
    wait_for "^careplan-plans .* plans=$((plans_before + 1)) " 20 >/dev/null
    sleep 0.8
    screenshot "followup-editor-saved-$lang.png"

    # Vaccination: the child's schedule with the given dose and the overdue ones.
    open_patient whr 王浩然
    line=$(wait_for '^vaccination-schedule ' 20)
    echo "$line"
    [ "$(field completed "$line")" -ge 1 ] || fail "the recorded hepatitis B dose is not shown as given: $line"
    [ $(($(field overdue "$line") + $(field due "$line"))) -ge 1 ] || fail "no dose due for the child: $line"
    sleep 0.8
    screenshot "followup-vaccination-$lang.png"
    if [ "$lang" = en ]; then
      # Save as PDF (the second button of the schedule's header; the test seam names the file).
      xdotool mousemove 1148 366 click 1
      wait_for '^vaccination-pdf path=' 10 >/dev/null
      text=$(pdftotext "$WZ_TEST_VACCINATION_PDF" -)
      if [ "$lang" = en ]; then
        for name in "Hepatitis B" "Measles"; do
          grep -q "$name" <<<"$text" || fail "the vaccination record does not name “$name”"
        done
      else
        for name in 乙型肝炎疫苗 麻疹腮腺炎风疹; do
          grep -q "$name" <<<"$text" || fail "the vaccination record does not name “$name”"
        done
      fi
      pdftoppm -png -r 60 -singlefile "$WZ_TEST_VACCINATION_PDF" "$shots/vaccination-record-$lang"
      ink=$(convert "$shots/vaccination-record-$lang.png" -colorspace Gray -threshold 50% -format '%[fx:1-mean]' info:)
      awk -v ink="$ink" 'BEGIN { exit !(ink > 0.01 && ink < 0.5) }' \
        || fail "the vaccination record looks blank or black (dark share $ink)"
      echo "vaccination record PDF: dark share $ink"
    fi
    if [ "$lang" = en ]; then
      # The first plan stopped with a reason: revoked, its open tasks cancelled (last, as the
      # dialog leaves the window without focus under Xvfb).
      mark_report
      open_patient zxy 张秀英
      wait_for "^careplan-plans .* plans=$((plans_before + 1)) " 20 >/dev/null
      xdotool mousemove 800 600 click 4 click 4 click 4 click 4 click 4 click 4 click 4 click 4
      sleep 0.6
      xdotool mousemove 1082 249 click 1
      wait_for '^careplan-stop-dialog' 10 >/dev/null
      sleep 0.5
      xdotool type --delay 20 "Blood pressure at target for a year"
      sleep 0.3
      screenshot "followup-stop-dialog-$lang.png"
      xdotool key Return
      line=$(wait_for '^careplan-stopped plan=CarePlan/' 30)
      stopped=$(field plan "$line")
      [ "$(api GET "/fhir/$stopped" | jq -r .status)" = revoked ] || fail "$stopped is not revoked"
      api GET "/fhir/$stopped" | jq -r '.note[-1].text' | grep -q "Blood pressure at target for a year" \
        || fail "the reason is not kept on $stopped"
      open=$(api GET "/fhir/Task?patient=Patient/$zxy&status=requested,received,accepted,ready,in-progress&_count=200" \
             | jq --arg plan "$stopped" '[.entry[]?.resource | select(.basedOn[0].reference == $plan)] | length')
      [ "$open" = 0 ] || fail "$open tasks of $stopped are still open"
      wait_for "^careplan-plans .* plans=$((plans_before + 1)) active=$plans_before" 20 >/dev/null
    fi
    quit_app
    check_log
    echo "ok: worklist, care-plan editor and vaccination record in $lang"
    ;;

  red-flag)
    notifications="$work/notifications.txt"
    notifyd="$build/tests/ui/wz-fake-notifyd"
    # The app's session has a notification server that records what the desktop would show.
    app_session_prefix=(sh -c '"$0" "$1" & shift; exec "$@"' "$notifyd" "$notifications")
    start_server
    seed
    sign_in doctor
    wait_for '^followup-worklist ' 30 >/dev/null
    # Another window takes the focus: the doctor is busy elsewhere.
    xmessage -geometry +1205+700 -timeout 120 "…" >/dev/null 2>&1 &
    other_pid=$!
    other=$(timeout 10 xdotool search --sync --class Xmessage | head -n1)
    [ -n "$other" ] || fail "no second window to take the focus"
    xdotool mousemove 1240 720
    xdotool windowfocus --sync "$other"
    wait_for '^window-active=no' 10 >/dev/null
    post_reading "$yzq" 190 || fail "the urgent reading was not stored"
    line=$(wait_for '^followup-red-flag ' 20)
    echo "$line"
    grep -q "notified=yes" <<<"$line" || fail "no desktop notification for the red flag: $line"
    for _ in $(seq 50); do grep -q '^notify ' "$notifications" && break; sleep 0.1; done
    shown=$(grep '^notify ' "$notifications" | tail -n1)
    echo "$shown"
    grep -qF "summary=$(translated "Red Flag in Follow-up")"$'\t' <<<"$shown" || fail "notification title: $shown"
    grep -qF "杨志强" <<<"$shown" || fail "the notification does not name the patient: $shown"
    # Clicking it brings the window forward with the patient's follow-up open.
    kill -USR1 "$(pgrep -P "$(real_app_pid)" -x wz-fake-notifyd)"
    wait_for "^followup-page patient=$yzq " 10 >/dev/null
    kill "$other_pid" 2>/dev/null || true
    quit_app
    check_log
    echo "ok: an urgent reading raised a desktop notification that opens the patient"
    ;;

  *)
    fail "unknown mode $mode"
    ;;
esac
