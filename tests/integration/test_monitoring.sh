#!/bin/sh
# Integration test of the monitoring half of the daemon over real HTTP: simulated serial bins
# files uploaded through the real pipeline (PoN -> jobs -> results -> srv_monitor_recompute), then
# the trend, alerts, acknowledgement, cohort summary and patient list. A relapse series raises
# early_relapse at the right draw and not before; a chemotherapy series raises
# emerging_chemoresistance; a stable series raises nothing; acknowledging is role-checked,
# audited and survives a restart; a treatment change and a PoN change recompute the alerts; a
# no-call (the quality gate's insufficient_quality) is stored as itself and skipped by the engine.
. "$RW_SRCDIR/tests/lib.sh"

D=$t_tmp/d
SIM=$t_tmp/sim
mkdir -p "$SIM"
DB=$D/rw.db
sql() { sqlite3 -cmd '.timeout 5000' "$DB" "$@"; }
jqb() { jq -r "$@" "$RW_BODY"; }

# put_bins FILE ACCESSION: uploads a bins file as the lims token; prints the job id.
put_bins() {
    curl -s -o "$RW_BODY" -w '%{http_code}' -X PUT -H "Authorization: Bearer $LIMS" \
        -H 'Content-Type: text/tab-separated-values' --data-binary "@$1" \
        "$RW_URL/api/v1/samples/$2/bins" >"$t_tmp/code"
    [ "$(cat "$t_tmp/code")" = 202 ] || { echo "upload of $2: $(cat "$t_tmp/code") $(rw_body)" >&2; }
    jq -r .job.id "$RW_BODY"
}
wait_job() { rw_wait_job "$1" 60 "$ADMIN"; } # ID: the job's final state (60 s at most)
# wait_idle: waits until no job is queued or running (90 s at most).
wait_idle() {
    local n=900
    while [ $n -gt 0 ]; do
        [ "$(sql "SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')")" = 0 ] && return 0
        sleep 0.1
        n=$((n - 1))
    done
    return 1
}
# trend PATIENT_ID: GETs the trend into $RW_BODY (as the admin).
trend() { RW_TOKEN=$ADMIN rw_req GET "/api/v1/patients/$1/trend" >/dev/null; }
# sim NAME SEED F: a 0.1x bins file with 1q21.3 at CN 6 in a fraction F of the DNA.
sim() {
    "$RW_CLI" simulate --ideal --depth 0.1 --seed "$2" --tumour-fraction "$3" --events 1q21.3:6 \
        --bins "$SIM/$1.tsv" >/dev/null 2>&1 || echo "simulate $1 failed" >&2
}
# patient EXTERNAL_ID: creates a patient (diagnosed 2022-12-01); prints its id.
patient() {
    RW_TOKEN=$LIMS rw_req POST /api/v1/patients \
        "{\"external_id\":\"$1\",\"diagnosis_date\":\"2022-12-01\"}" >/dev/null
    jqb .id
}
# draw PATIENT ACCESSION DATE: registers a bins sample.
draw() {
    RW_TOKEN=$LIMS rw_req POST "/api/v1/patients/$1/samples" \
        "{\"accession\":\"$2\",\"collected_at\":\"$3\",\"assay\":\"bins\"}" >/dev/null
}
sample_id() { sql "SELECT id FROM samples WHERE accession = '$1'"; }

# ---------------------------------------------------------------- data (simulated truth)
"$RW_CLI" simulate --ideal --normals 12 --bins "$SIM/normals" --depth 0.1 --seed 100 >/dev/null 2>&1
"$RW_CLI" pon build -o "$SIM/pon1.tsv" "$SIM"/normals/*.tsv >/dev/null 2>&1
check "panel of 12 simulated normals" test -s "$SIM/pon1.tsv"
"$RW_CLI" simulate --ideal --normals 10 --bins "$SIM/normals2" --depth 0.1 --seed 300 >/dev/null 2>&1
"$RW_CLI" pon build -o "$SIM/pon2.tsv" "$SIM"/normals2/*.tsv >/dev/null 2>&1
check "a second panel" test -s "$SIM/pon2.tsv"
# Relapse: surgery, then 1q21.3 emerging at 0 -> 0.5% -> 2% -> 6% -> 12% tumour DNA. At 0.1x the
# band's noise is ~2-3% of the ratio: 2% (R 1.04) stays below z 3, 6% (R 1.12) is positive but not
# strong, 12% (R 1.24) is strong. The first alert is due at R5 (two consecutive positives or the
# strong positive), never before.
RF="0 0 0.005 0.02 0.06 0.12"
# Neoadjuvant chemotherapy (the primary in place, surgery after the draws): positive before the
# first dose, cleared on treatment (responding), positive again on treatment (chemoresistance).
# 6% rather than 4% on the 4th: with the calibrated z (a 12-normal panel's spread inflated by its
# Student-t factor, 1.34) 4% reads z ~2.9, just under the threshold.
CF="0.10 0.01 0 0.06 0.10"
i=0
for f in $RF; do i=$((i + 1)); sim "R$i" $((500 + i)) "$f"; done
i=0
for f in $CF; do i=$((i + 1)); sim "C$i" $((600 + i)) "$f"; done
for i in 1 2 3 4 5; do sim "S$i" $((700 + i)) 0; done
check "simulated series" test -s "$SIM/S5.tsv"
# No-calls among negatives: Q2 and Q5 are libraries with strong genomic waves (the quality gate
# refuses them: insufficient_quality), Q2 with 30% tumour DNA it must not read; Q4 is a strong
# positive (20%).
QF="0 0.3 0 0.2 0 0"
i=0
for f in $QF; do
    i=$((i + 1))
    case $i in 2 | 5) w="--wave-amp 0.2" ;; *) w="" ;; esac
    "$RW_CLI" simulate --ideal $w --depth 0.1 --seed $((800 + i)) --tumour-fraction "$f" \
        --events 1q21.3:6 --bins "$SIM/Q$i.tsv" >/dev/null 2>&1 || echo "simulate Q$i failed" >&2
done

# ---------------------------------------------------------------- daemon, tokens, panel
rw_start_daemon "$D" --workers 1 || { done_tests; exit 1; }
ADMIN=$RW_ADMIN_TOKEN
RW_TOKEN=$ADMIN
rw_req POST /api/v1/tokens '{"role":"lims","label":"lims"}' >/dev/null
LIMS=$(jqb .token)
rw_req POST /api/v1/tokens '{"role":"clinician","label":"dr-okafor"}' >/dev/null
CLIN=$(jqb .token)
code=$(curl -s -o "$RW_BODY" -w '%{http_code}' -X POST -H "Authorization: Bearer $ADMIN" \
    -H 'Content-Type: text/tab-separated-values' --data-binary "@$SIM/pon1.tsv" \
    "$RW_URL/api/v1/pons?name=first")
check_eq "PoN uploaded" "$code" 201
PON1=$(jqb .id)
check_eq "PoN activated" "$(rw_req POST "/api/v1/pons/$PON1/activate")" 202

# ---------------------------------------------------------------- relapse series
PR=$(patient MON-R)
RW_TOKEN=$CLIN rw_req POST "/api/v1/patients/$PR/treatments" \
    '{"kind":"surgery","start_date":"2023-01-10","end_date":"2023-01-10"}' >/dev/null
trend "$PR"
check_eq "new patient: not_detected" "$(jqb .state)" not_detected
check_eq "new patient: empty series" "$(jqb '.series | length')" 0
check_eq "thresholds: z" "$(jqb .thresholds.z_amplified)" 3
check_eq "thresholds: ddPCR" "$(jqb .thresholds.ddpcr_cn_lower)" 2.2
check_eq "thresholds: CV_I" "$(jqb .thresholds.cv_within_person)" 0.05
dates="2023-02-01 2023-05-02 2023-08-01 2023-11-01 2024-02-01 2024-05-02"
i=0
for d in $dates; do i=$((i + 1)); draw "$PR" "MR-$i" "$d"; done
trend "$PR"
check_eq "registered draws are in the series" "$(jqb '.series | length')" 6
check_eq "draws without a result: null ratio" "$(jqb '[.series[].ratio] | map(select(. != null)) | length')" 0
check_eq "draws without a result: status" "$(jqb '.series[0].status')" received
first_alert=""
i=0
for d in $dates; do
    i=$((i + 1))
    check_eq "relapse draw $i analysed" "$(wait_job "$(put_bins "$SIM/R$i.tsv" "MR-$i")")" done
    trend "$PR"
    n=$(jqb '.alerts | length')
    if [ "$i" -lt 5 ]; then
        check_eq "no alert before the 5th draw (draw $i)" "$n" 0
    else
        check_eq "one alert from the 5th draw (draw $i)" "$n" 1
        [ -z "$first_alert" ] && first_alert=$(jqb '.alerts[0].id')
        check_eq "the alert stays the same one (draw $i)" "$(jqb '.alerts[0].id')" "$first_alert"
    fi
done
check_eq "relapse: state" "$(jqb .state)" early_relapse
check_eq "relapse: kind" "$(jqb '.alerts[0].kind')" early_relapse
check_eq "relapse: raised by the 5th draw" "$(jqb '.alerts[0].sample_id')" "$(sample_id MR-5)"
check_eq "relapse: fired on its date" "$(jqb '.alerts[0].fired_on')" 2024-02-01
check "relapse: rule named" sh -c "jq -e '.alerts[0].rule | test(\"positive\")' $RW_BODY >/dev/null"
check "relapse: evidence lists the draws" \
    sh -c "jq -e '.alerts[0].evidence.rules[0].draws | length >= 1' $RW_BODY >/dev/null"
check_eq "relapse: the truth agrees (5th draw positive, 4th not)" \
    "$(jqb '[.series[3].call, .series[4].call] | join(",")')" "not_detected,amplified"
check_eq "relapse: each draw shows the thresholds its result was made with" \
    "$(jqb '[.series[] | .thresholds | "\(.z_amplified)/\(.z_strong)/\(.recorded)"] | unique | join(",")')" \
    "3/5/true"
check_eq "relapse: the stored result records every analysis setting" \
    "$(sql "SELECT json_extract(r.settings, '$.z_amplified') || ',' || json_extract(r.settings, '$.rcv_z') || ',' || json_extract(r.settings, '$.schema_version') FROM results r JOIN samples s ON s.id = r.sample_id WHERE s.accession = 'MR-5'")" \
    "3.0,1.65,2"
check "relapse: ratios rise with f" \
    sh -c "jq -e '.series[5].ratio > .series[4].ratio and .series[4].ratio > .series[1].ratio' $RW_BODY >/dev/null"
check "relapse: intervals around the ratio" \
    sh -c "jq -e 'all(.series[]; .ratio_low < .ratio and .ratio < .ratio_high)' $RW_BODY >/dev/null"
check "relapse: tumour fraction given" \
    sh -c "jq -e '.series[5].tumour_fraction | type == \"number\"' $RW_BODY >/dev/null"
th=$(jqb .thresholds.swgs_ratio_amplified)
check "sWGS ratio threshold between diploid and the 6% draw" \
    sh -c "jq -e '.thresholds.swgs_ratio_amplified > 1 and .thresholds.swgs_ratio_amplified < .series[4].ratio' $RW_BODY >/dev/null"
check_eq "no lead time without a clinical relapse" "$(jqb .lead_time_days)" null

# Clinical relapse 2024-09-02: lead time 214 days from the 2024-02-01 alert.
RW_TOKEN=$CLIN rw_req POST "/api/v1/patients/$PR/events" \
    '{"kind":"clinical_relapse","date":"2024-09-02","note":"bone pain, CT"}' >/dev/null
trend "$PR"
check_eq "lead time after the relapse event" "$(jqb .lead_time_days)" 214
check_eq "the event is listed" "$(jqb '.events[0].kind')" clinical_relapse
check_eq "same alert after the event" "$(jqb '.alerts[0].id')" "$first_alert"

# ---------------------------------------------------------------- chemotherapy series
PC=$(patient MON-C)
RW_TOKEN=$CLIN rw_req POST "/api/v1/patients/$PC/treatments" \
    '{"kind":"chemotherapy","regimen":"EC-T","start_date":"2023-03-01","end_date":"2023-12-01"}' >/dev/null
RW_TOKEN=$CLIN rw_req POST "/api/v1/patients/$PC/treatments" \
    '{"kind":"surgery","start_date":"2024-01-15","end_date":"2024-01-15"}' >/dev/null
cdates="2023-03-01 2023-05-01 2023-07-03 2023-09-01 2023-11-01"
i=0
for d in $cdates; do
    i=$((i + 1))
    draw "$PC" "MC-$i" "$d"
    check_eq "chemo draw $i analysed" "$(wait_job "$(put_bins "$SIM/C$i.tsv" "MC-$i")")" done
done
trend "$PC"
check_eq "chemo: state" "$(jqb .state)" emerging_chemoresistance
check_eq "chemo: one chemoresistance alert" \
    "$(jqb '[.alerts[] | select(.kind == "emerging_chemoresistance")] | length')" 1
check_eq "chemo: responding, then chemoresistance" "$(jqb '[.alerts[].kind] | join(",")')" \
    responding,emerging_chemoresistance
# 4% tumour DNA (R 1.08) reads positive at 0.1x: the first positive after a negative on treatment.
check_eq "chemo: chemoresistance raised by the 4th draw" \
    "$(jqb '.alerts[] | select(.kind == "emerging_chemoresistance") | .sample_id')" "$(sample_id MC-4)"
check_eq "chemo: the truth agrees (3rd draw negative, 4th positive)" \
    "$(jqb '[.series[2].call, .series[3].call] | join(",")')" "not_detected,amplified"
check_eq "chemo: rule" "$(jqb '.alerts[] | select(.kind == "emerging_chemoresistance") | .rule')" \
    positive_after_negative
check_eq "chemo: the treatment is listed" "$(jqb '.treatments[0].regimen')" EC-T

# ---------------------------------------------------------------- stable series
PS=$(patient MON-S)
i=0
for d in $cdates; do
    i=$((i + 1))
    draw "$PS" "MS-$i" "$d"
    put_bins "$SIM/S$i.tsv" "MS-$i" >/dev/null
done
wait_idle
trend "$PS"
check_eq "stable: no alert" "$(jqb '.alerts | length')" 0
check_eq "stable: not detected" "$(jqb .state)" not_detected
check_eq "stable: every draw done" "$(jqb '[.series[] | select(.status == "done")] | length')" 5

# ---------------------------------------------------------------- acknowledgement
A=$first_alert
RW_TOKEN=$LIMS
check_eq "lims may not acknowledge" \
    "$(rw_req POST "/api/v1/alerts/$A/acknowledge" '{"comment":"x"}')" 403
RW_TOKEN=$CLIN
check_eq "comment required" "$(rw_req POST "/api/v1/alerts/$A/acknowledge" '{}')" 422
check_eq "comment required: code" "$(jqb .error.code)" missing_field
check_eq "blank comment refused" "$(rw_req POST "/api/v1/alerts/$A/acknowledge" '{"comment":"  "}')" 422
check_eq "unknown alert" "$(rw_req POST /api/v1/alerts/99999/acknowledge '{"comment":"x"}')" 404
check_eq "unknown field" "$(rw_req POST "/api/v1/alerts/$A/acknowledge" '{"comment":"x","y":1}')" 422
rw_req GET '/api/v1/alerts?open=1' >/dev/null
check_eq "open worklist: 3 alerts" "$(jqb '.alerts | length')" 3
check "open worklist names the patient" \
    sh -c "jq -e '[.alerts[].external_id] | index(\"MON-R\") != null' $RW_BODY >/dev/null"
check_eq "acknowledged" \
    "$(rw_req POST "/api/v1/alerts/$A/acknowledge" '{"comment":"PET-CT ordered"}')" 200
check_eq "acknowledged by the token's label" "$(jqb .acknowledged_by)" dr-okafor
check_eq "comment kept" "$(jqb .comment)" "PET-CT ordered"
check "acknowledged_at set" sh -c "jq -e '.acknowledged_at | test(\"^20..-..-..T\")' $RW_BODY >/dev/null"
check_eq "twice: conflict" \
    "$(rw_req POST "/api/v1/alerts/$A/acknowledge" '{"comment":"again"}')" 409
check_eq "audit row" "$(sql "SELECT actor || '|' || json_extract(details, '\$.comment') FROM audit_log WHERE action = 'acknowledge' AND entity_type = 'alert' AND entity_id = $A")" \
    "dr-okafor|PET-CT ordered"
rw_req GET '/api/v1/alerts?open=1' >/dev/null
check_eq "open worklist: 2 alerts left" "$(jqb '.alerts | length')" 2
rw_req GET '/api/v1/alerts?open=0' >/dev/null
check_eq "acknowledged list" "$(jqb '.alerts[0].id')" "$A"
check_eq "bad open value" "$(rw_req GET '/api/v1/alerts?open=2')" 422

# ---------------------------------------------------------------- cohort and patient list
RW_TOKEN=$CLIN
rw_req GET /api/v1/cohort/summary >/dev/null
check_eq "cohort: patients" "$(jqb .patients_monitored)" 3
check_eq "cohort: samples" "$(jqb .samples)" 16
check_eq "cohort: open early_relapse (acknowledged one closed)" "$(jqb .open_alerts.early_relapse)" 0
check_eq "cohort: open chemoresistance" "$(jqb .open_alerts.emerging_chemoresistance)" 1
check_eq "cohort: open responding" "$(jqb .open_alerts.responding)" 1
check_eq "cohort: median lead time" "$(jqb .median_lead_time_days)" 214
check_eq "cohort: lead times" "$(jqb '.lead_times[0].patient_id')" "$PR"
check_eq "cohort: states" "$(jqb '[.states.early_relapse, .states.emerging_chemoresistance, .states.not_detected] | join(",")')" "1,1,1"
rw_req GET '/api/v1/patients?sort=alerts' >/dev/null
check_eq "list: open alerts first" "$(jqb '.patients[0].external_id')" MON-C
check_eq "list: open alert count" "$(jqb '.patients[0].open_alerts')" 2
check_eq "list: state" "$(jqb '.patients[0].state')" emerging_chemoresistance
check_eq "list: n_samples" "$(jqb '.patients[0].n_samples')" 5
check_eq "list: last sample date" "$(jqb '.patients[0].last_sample_date')" 2023-11-01
rw_req GET '/api/v1/patients?state=early_relapse' >/dev/null
check_eq "list: state filter" "$(jqb '[.patients[].external_id] | join(",")')" MON-R
rw_req GET '/api/v1/patients?sort=external_id' >/dev/null
check_eq "list: sort by external id" "$(jqb '[.patients[].external_id] | join(",")')" MON-C,MON-R,MON-S
rw_req GET '/api/v1/patients?sort=last_sample' >/dev/null
check_eq "list: latest sample first" "$(jqb '.patients[0].external_id')" MON-R
rw_req GET /api/v1/patients >/dev/null
check_eq "list: default order is by id" "$(jqb '[.patients[].id] | join(",")')" "$PR,$PC,$PS"
rw_req GET '/api/v1/patients?q=MON-S' >/dev/null
check_eq "list: prefix search" "$(jqb '[.patients[].external_id] | join(",")')" MON-S
rw_req GET '/api/v1/patients?sort=external_id&limit=2' >/dev/null
cur=$(jqb .next_cursor)
rw_req GET "/api/v1/patients?sort=external_id&limit=2&cursor=$cur" >/dev/null
check_eq "list: second page by external id" "$(jqb '[.patients[].external_id] | join(",")')" MON-S
check_eq "list: bad state" "$(rw_req GET '/api/v1/patients?state=nope')" 422
check_eq "list: bad sort" "$(rw_req GET '/api/v1/patients?sort=nope')" 422

# ---------------------------------------------------------------- treatment change recomputes
# A chemotherapy course from 2023-10-01 covers the relapse series' last three draws: the rise is
# now on treatment (emerging_chemoresistance); removing it brings the acknowledged alert back.
RW_TOKEN=$CLIN
rw_req POST "/api/v1/patients/$PR/treatments" \
    '{"kind":"chemotherapy","start_date":"2023-10-01"}' >/dev/null
T=$(jqb .id)
trend "$PR"
check_eq "chemo added: state" "$(jqb .state)" emerging_chemoresistance
check_eq "chemo added: early_relapse retracted" \
    "$(jqb '[.alerts[] | select(.kind == "early_relapse")] | length')" 0
check_eq "retracted alert kept in the table" "$(sql "SELECT retracted_at IS NOT NULL FROM alerts WHERE id = $A")" 1
RW_TOKEN=$CLIN
check_eq "treatment deleted" "$(rw_req DELETE "/api/v1/treatments/$T")" 200
trend "$PR"
check_eq "chemo removed: state" "$(jqb .state)" early_relapse
check_eq "chemo removed: same alert back" "$(jqb '.alerts[0].id')" "$A"
check_eq "chemo removed: acknowledgement kept" "$(jqb '.alerts[0].acknowledged_by')" dr-okafor

# ---------------------------------------------------------------- restart
rw_stop_daemon
check_eq "clean shutdown" "$?" 0
# Restarted with other call thresholds (a site's choice): the trend shows them as the ones in
# force, while each stored result keeps the thresholds it was made with until it is re-run.
printf 'z_amplified = 3.2\n# a comment\nz_strong = "5.5"\n' >"$D/analysis.conf"
rw_start_daemon "$D" --workers 1 --config "$D/analysis.conf" || { done_tests; exit 1; }
trend "$PR"
check_eq "after restart: acknowledgement kept" "$(jqb '.alerts[0].comment')" "PET-CT ordered"
check_eq "after restart: state" "$(jqb .state)" early_relapse
check_eq "after restart: the thresholds in force" "$(jqb '.thresholds.z_amplified')" 3.2
check_eq "after restart: each draw keeps its own" "$(jqb '.series[4].thresholds.z_amplified')" 3

# ---------------------------------------------------------------- PoN change
code=$(curl -s -o "$RW_BODY" -w '%{http_code}' -X POST -H "Authorization: Bearer $ADMIN" \
    -H 'Content-Type: text/tab-separated-values' --data-binary "@$SIM/pon2.tsv" \
    "$RW_URL/api/v1/pons?name=second")
check_eq "second PoN uploaded" "$code" 201
PON2=$(jqb .id)
before=$(sql "SELECT max(computed_at) FROM patient_state")
sleep 1 # computed_at has a one-second resolution
RW_TOKEN=$ADMIN
check_eq "second PoN activated" "$(rw_req POST "/api/v1/pons/$PON2/activate")" 202
check "recall jobs finish" wait_idle
check_eq "every result re-run with the new panel" \
    "$(sql "SELECT count(*) FROM results WHERE pon_id = $PON2")" 16
check_eq "every patient recomputed" \
    "$(sql "SELECT count(*) FROM patient_state WHERE computed_at > '$before'")" 3
trend "$PR"
check_eq "new panel: relapse still raised" "$(jqb .state)" early_relapse
check_eq "new panel: the re-run results record the thresholds in force" \
    "$(jqb '[.series[] | .thresholds | "\(.z_amplified)/\(.z_strong)"] | unique | join(",")')" "3.2/5.5"
check_eq "new panel: no alert before the 5th draw" \
    "$(jqb "[.alerts[] | select(.fired_on < \"2024-02-01\")] | length")" 0
trend "$PS"
check_eq "new panel: stable still quiet" "$(jqb '.alerts | length')" 0

# ---------------------------------------------------------------- no-calls (quality gate)
# A no-call is stored as itself with its reason, skipped by the engine: it neither fires an
# alert (Q2 carries tumour DNA the gate refuses to read) nor counts as a clear draw (Q5 between
# the alert at Q4 and one negative, Q6: with rearm_clear_draws 2 it would otherwise re-arm it).
RW_TOKEN=$LIMS
PQ=$(patient MON-Q)
qdates="2023-01-10 2023-03-10 2023-05-10 2023-07-10 2023-09-11 2023-11-10"
i=0
for d in $qdates; do
    i=$((i + 1))
    draw "$PQ" "MQ-$i" "$d"
    check_eq "no-call series: draw $i analysed" "$(wait_job "$(put_bins "$SIM/Q$i.tsv" "MQ-$i")")" done
    [ $i = 3 ] && { trend "$PQ"; q3_alerts=$(jqb '.alerts | length'); q3_state=$(jqb .state); }
done
check_eq "no-call stored as insufficient_quality with its reason" \
    "$(sql "SELECT r.call || '|' || json_extract(r.quality, '\$.code') || '|' || (length(json_extract(r.quality, '\$.reason')) > 40) FROM results r JOIN samples s ON s.id = r.sample_id WHERE s.accession IN ('MQ-2', 'MQ-5') ORDER BY s.accession")" \
    "insufficient_quality|genomic_waves|1
insufficient_quality|genomic_waves|1"
check_eq "calls keep no quality" \
    "$(sql "SELECT count(*) FROM results r JOIN samples s ON s.id = r.sample_id WHERE s.accession LIKE 'MQ-%' AND r.quality IS NULL AND r.call IN ('amplified', 'not_detected')")" 4
check_eq "no alert and nothing detected by the no-call between negatives" "$q3_alerts $q3_state" \
    "0 not_detected"
trend "$PQ"
check_eq "trend: the no-calls skipped with their reason" \
    "$(jqb '[.series[] | select(.skipped) | "\(.accession) \(.call) \(.no_call_reason) \(.quality.reason | length > 40)"] | join(",")')" \
    "MQ-2 insufficient_quality genomic_waves true,MQ-5 insufficient_quality genomic_waves true"
RW_TOKEN=$CLIN rw_req GET /api/v1/samples/MQ-2/profile >/dev/null
check_eq "profile: the no-call's call says why" \
    "$(jqb '"\(.call.call) \(.call.quality.code) \(.call.quality.reason | length > 40)"')" \
    "insufficient_quality genomic_waves true"
RW_TOKEN=$CLIN rw_req GET /api/v1/samples/MQ-4/profile >/dev/null
check_eq "profile: a call has no quality" "$(jqb '.call.quality')" null
trend "$PQ"
check_eq "trend: the calls are not skipped" "$(jqb '[.series[] | select(.skipped | not) | .call] | join(",")')" \
    "not_detected,not_detected,amplified,not_detected"
check_eq "one alert, fired by the strong positive, not by a no-call" \
    "$(jqb '[.alerts[] | "\(.kind) \(.sample_id)"] | join(",")')" "early_relapse $(sample_id MQ-4)"
check_eq "the no-call is no clear draw: the alert stays open" \
    "$(jqb '"\(.alerts[0].closed_by) \(.state)"')" "null early_relapse"
check_eq "personal baseline: z_personal of the later calls" \
    "$(jqb '[.series[] | select(.skipped | not) | .z_personal != null] | join(",")')" \
    "false,true,true,true"

rw_stop_daemon
done_tests
