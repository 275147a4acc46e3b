#!/bin/sh
# Crashes: (1) a job that is running whenever the daemon is killed (SIGKILL) counts an attempt
# each time and, after --job-max-attempts runs, fails as "interrupted N times" instead of running
# again at every start; (2) the short version of bench/crash.sh: 3 SIGKILLs while a client writes,
# then every write answered 2xx is there exactly once, every job ended, integrity_check and the
# audit chain hold, no orphan file. Uses the TEST hook RELAPSEWATCHD_TEST_JOB_DELAY_MS.
. "$RW_SRCDIR/tests/lib.sh"

D=$t_tmp/d
DB=$D/rw.db
sql() { sqlite3 -cmd '.timeout 5000' "$DB" "$@"; }
"$RW_CLI" simulate --ideal --depth 0.1 --seed 8 --bins "$t_tmp/a.tsv" >/dev/null 2>&1
check "simulated bins" test -s "$t_tmp/a.tsv"

# ---------------------------------------------------------------- a job cut by every crash
RELAPSEWATCHD_TEST_JOB_DELAY_MS=60000 # each run outlives the test: only a kill ends it
export RELAPSEWATCHD_TEST_JOB_DELAY_MS
rw_start_daemon "$D" || { done_tests; exit 1; }
check "the daemon warns about the test hook" grep -q "TEST HOOK" "$D/log"
RW_TOKEN=$RW_ADMIN_TOKEN
rw_req POST /api/v1/tokens '{"role":"lims","label":"lims"}' >/dev/null
RW_TOKEN=$(jq -r .token "$RW_BODY")
rw_req POST /api/v1/patients '{"external_id":"P-CRASH","diagnosis_date":"2024-01-01"}' >/dev/null
PAT=$(jq -r .id "$RW_BODY")
rw_req POST "/api/v1/patients/$PAT/samples" \
    '{"accession":"S-POISON","collected_at":"2024-03-01","assay":"bins"}' >/dev/null
code=$(curl -s -o "$RW_BODY" -w '%{http_code}' -X PUT -H "Authorization: Bearer $RW_TOKEN" \
    --data-binary "@$t_tmp/a.tsv" "$RW_URL/api/v1/samples/S-POISON/bins")
check_eq "upload accepted" "$code" 202
JOB=$(jq -r .job.id "$RW_BODY")
# wait_running N: the job is running its Nth attempt (5 s at most).
wait_running() {
    local i=0
    while [ "$(sql "SELECT state || ' ' || attempts FROM jobs WHERE id = $JOB")" != "running $1" ] &&
        [ $i -lt 50 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    sql "SELECT state || ' ' || attempts FROM jobs WHERE id = $JOB"
}
for n in 1 2 3; do
    check_eq "attempt $n running" "$(wait_running $n)" "running $n"
    rw_stop_daemon KILL
    rw_start_daemon "$D" || { done_tests; exit 1; }
done
check_eq "after 3 cut runs the job failed" "$(sql "SELECT state || ' ' || attempts FROM jobs WHERE id = $JOB")" \
    "failed 3"
check_eq "its error says why" "$(sql "SELECT substr(error, 1, 21) FROM jobs WHERE id = $JOB")" \
    "interrupted 3 times ("
check_eq "its sample failed too" "$(sql "SELECT status FROM samples WHERE accession = 'S-POISON'")" failed
check "the log says so" grep -q "jobs were cut 3 times and failed for good" "$D/log"
sleep 1
check_eq "it is not run again" "$(sql "SELECT state || ' ' || attempts FROM jobs WHERE id = $JOB")" \
    "failed 3"
rw_stop_daemon
check_eq "clean stop" "$?" 0
unset RELAPSEWATCHD_TEST_JOB_DELAY_MS

# What a crash between a rename into place and its commit leaves: files no row names. They go at
# the next start; the files rows name stay.
KEPT=$(sql "SELECT path FROM sample_inputs LIMIT 1")
mkdir -p "$D/data/samples/999"
echo orphan >"$D/data/samples/999/cut.tsv"
echo orphan >"$D/data/samples/1/cut-counts.tsv"
echo orphan >"$D/data/tmp/upload-1-cut"
rw_start_daemon "$D" || { done_tests; exit 1; }
check "orphans removed at start-up" test ! -e "$D/data/samples/999/cut.tsv" -a ! -e "$D/data/samples/1/cut-counts.tsv"
check "a cut upload's temporary file removed" test ! -e "$D/data/tmp/upload-1-cut"
check "the stored input kept" test -s "$D/data/$KEPT"
check "the log counts them" grep -q "removed 2 files of uploads or jobs cut by a crash" "$D/log"
rw_stop_daemon

# ---------------------------------------------------------------- short crash campaign
KILLS=3 GAP_MS=700-1500 sh "$RW_SRCDIR/bench/crash.sh" "$RW_BUILDDIR" >"$t_tmp/campaign" 2>"$t_tmp/campaign.err"
check_eq "crash campaign (3 kills) holds" "$?" 0
cat "$t_tmp/campaign"
grep PROBLEM "$t_tmp/campaign.err" >&2
check "the client's writes were checked" grep -q "found exactly once with their audit row: [1-9]" \
    "$t_tmp/campaign"

done_tests
