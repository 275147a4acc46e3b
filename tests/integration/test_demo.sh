#!/bin/sh
# Integration test of the demo cohort (tools/load-demo.sh, what `./quickstart serve` loads into an
# empty store): the whole load runs against a real daemon through the real pipeline, every demo
# patient ends in the state its story intends, and the cohort figures follow (lead times of the
# relapses caught before the clinic, a ddPCR-only patient, a draw still awaiting its upload).
. "$RW_SRCDIR/tests/lib.sh"

D=$t_tmp/d
rw_start_daemon "$D" --workers 2 || { done_tests; exit 1; }
RW_TOKEN=$RW_ADMIN_TOKEN
RW_CLI=$RW_CLI RW_DEMO_DIR=$t_tmp/demo bash "$RW_SRCDIR/tools/load-demo.sh" "$RW_URL" \
    "$RW_ADMIN_TOKEN" >"$t_tmp/demo.out" 2>"$t_tmp/demo.err"
rc=$?
cat "$t_tmp/demo.out"
check_eq "load-demo.sh: every patient in its intended state" "$rc" 0
[ "$rc" = 0 ] || tail -5 "$t_tmp/demo.err" >&2
check_eq "one line per patient" "$(grep -c '^DEMO-' "$t_tmp/demo.out")" 11
check_eq "no mismatch reported" "$(grep -c MISMATCH "$t_tmp/demo.out")" 0

jqb() { jq -r "$@" "$RW_BODY"; }
rw_req GET /api/v1/cohort/summary >/dev/null
check_eq "11 patients, 77 draws" "$(jqb '[.patients_monitored, .samples] | join(",")')" "11,77"
check_eq "states" \
    "$(jqb '[.states.early_relapse, .states.emerging_chemoresistance, .states.responding, .states.not_detected] | join(",")')" \
    "5,2,1,3"
check_eq "four relapses with a lead time" "$(jqb '.lead_times | length')" 4
check "every relapse caught before the clinic (lead > 60 days)" \
    sh -c "jq -e 'all(.lead_times[]; .days > 60)' $RW_BODY >/dev/null"
check "median lead time between 2 and 12 months" \
    sh -c "jq -e '.median_lead_time_days > 60 and .median_lead_time_days < 366' $RW_BODY >/dev/null"
rw_req GET '/api/v1/patients?external_id=DEMO-09' >/dev/null
P9=$(jqb '.patients[0].id')
rw_req GET "/api/v1/patients/$P9/trend" >/dev/null
check_eq "DEMO-09 is ddPCR only" "$(jqb '[.series[].assay] | unique | join(",")')" ddpcr
check_eq "DEMO-09 plots against the ddPCR threshold" "$(jqb .thresholds.ddpcr_cn_lower)" 2.2
rw_req GET '/api/v1/patients?external_id=DEMO-07' >/dev/null
check_eq "DEMO-07's last draw awaits its upload" "$(jqb '.patients[0].n_samples')" 10
P7=$(jqb '.patients[0].id')
rw_req GET "/api/v1/patients/$P7/trend" >/dev/null
check_eq "the pending draw is in the series without values" "$(jqb '.series[-1] | [.status, .ratio] | join(",")')" "received,"
check_eq "no job failed" "$(rw_req GET '/api/v1/jobs?state=failed' >/dev/null; jqb '.jobs | length')" 0
jqb -c '.jobs[] | {id, kind, error}' >&2 # say why, if any failed
[ "$(jqb '.jobs | length')" = 0 ] || grep -E 'warn|error' "$RW_DIR/log" | tail -20 >&2
rw_req GET '/api/v1/alerts?open=1' >/dev/null
check "open alerts name their patients" \
    sh -c "jq -e '(.alerts | length) > 0 and all(.alerts[]; .external_id | startswith(\"DEMO-\"))' $RW_BODY >/dev/null"

# Loading again is a no-op (same patients, same uploads): nothing duplicated.
RW_CLI=$RW_CLI RW_DEMO_DIR=$t_tmp/demo bash "$RW_SRCDIR/tools/load-demo.sh" "$RW_URL" \
    "$RW_ADMIN_TOKEN" >"$t_tmp/demo2.out" 2>>"$t_tmp/demo.err"
check_eq "a second load passes too" "$?" 0
rw_req GET /api/v1/cohort/summary >/dev/null
check_eq "a second load duplicates nothing" "$(jqb '[.patients_monitored, .samples] | join(",")')" \
    "11,77"
check_eq "treatments not duplicated" "$(sqlite3 "$D/rw.db" 'SELECT count(*) FROM treatments')" 19

rw_stop_daemon
done_tests
