#!/bin/sh
# bench/crash.sh [BUILDDIR]: a crash campaign against the real daemon. A client pushes patients,
# treatments, samples and bins uploads and acknowledges the alerts they raise, without pause,
# while the daemon is killed with SIGKILL at random moments (often with a job running: the TEST
# hook RELAPSEWATCHD_TEST_JOB_DELAY_MS makes each job last a while) and started again. Then:
#   - every request answered 2xx is in the database exactly once (patients, samples and
#     acknowledgements by their keys, treatments counted per patient, one audit row each),
#     every upload answered 2xx is stored with its checksum and its file;
#   - every job ended done or failed (failed ones cut too often say "interrupted N times");
#   - PRAGMA integrity_check is ok, the audit chain verifies;
#   - the data folder holds no orphan file (every file under samples/ and pons/ is named by a
#     row; tmp/ is empty).
# Prints the figures and exits 0 when every check holds. Options (environment):
#   KILLS=20          SIGKILLs
#   GAP_MS=1000-3000  random pause between two kills, in ms
#   JOB_DELAY_MS=300  how long each job waits before it runs (test hook)
# About 1 min for 20 kills here. The short version runs in make check (test_crash.sh, 3 kills).
set -u
B=${1:-build/serve}
KILLS=${KILLS:-20}
GAP_MS=${GAP_MS:-1000-3000}
RW_SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
RW_BUILDDIR=$(cd "$B" 2>/dev/null && pwd) || { echo "no build folder $B" >&2; exit 2; }
[ -x "$RW_BUILDDIR/relapsewatchd" ] || { echo "no $B/relapsewatchd: build first" >&2; exit 2; }
export RW_SRCDIR RW_BUILDDIR
. "$RW_SRCDIR/tests/lib.sh"
RELAPSEWATCHD_TEST_JOB_DELAY_MS=${JOB_DELAY_MS:-300}
export RELAPSEWATCHD_TEST_JOB_DELAY_MS

D=$t_tmp/d
W=$t_tmp/w
DB=$D/rw.db
mkdir -p "$W/sim"
sql() { sqlite3 -cmd '.timeout 10000' "$DB" "$@"; }
started=$(date +%s)

# ---------------------------------------------------------------- data and daemon
"$RW_CLI" simulate --ideal --normals 10 --bins "$W/sim/n" --depth 0.1 --seed 100 >/dev/null 2>&1
"$RW_CLI" pon build -o "$W/sim/pon.tsv" "$W"/sim/n/*.tsv >/dev/null 2>&1
for i in 1 2 3 4; do # strong positives (20% tumour DNA with 1q21.3 at CN 6): each raises an alert
    "$RW_CLI" simulate --ideal --depth 0.1 --seed $((900 + i)) --tumour-fraction 0.2 \
        --events 1q21.3:6 --bins "$W/sim/a$i.tsv" >/dev/null 2>&1
done
[ -s "$W/sim/pon.tsv" ] && [ -s "$W/sim/a4.tsv" ] || { echo "simulation failed" >&2; exit 2; }
DAEMON_FLAGS="--workers 2"
rw_start_daemon "$D" $DAEMON_FLAGS || exit 2
ADMIN=$RW_ADMIN_TOKEN
RW_TOKEN=$ADMIN
rw_req POST /api/v1/tokens '{"role":"lims","label":"crash-lims"}' >/dev/null
LIMS=$(jq -r .token "$RW_BODY")
rw_req POST /api/v1/tokens '{"role":"clinician","label":"crash-dr"}' >/dev/null
CLIN=$(jq -r .token "$RW_BODY")
curl -s -o "$RW_BODY" -X POST -H "Authorization: Bearer $ADMIN" \
    -H 'Content-Type: text/tab-separated-values' --data-binary "@$W/sim/pon.tsv" \
    "$RW_URL/api/v1/pons?name=crash" >/dev/null
rw_req POST "/api/v1/pons/$(jq -r .id "$RW_BODY")/activate" >/dev/null
[ -n "$LIMS" ] && [ -n "$CLIN" ] || { echo "set-up failed" >&2; exit 2; }

# ---------------------------------------------------------------- the client
# call TOKEN METHOD PATH [JSON|@FILE]: one request to whichever daemon runs now (the port file);
# logs "METHOD PATH CODE" to $W/requests (when sent); prints the code ("000": no answer).
call() {
    local tok=$1 m=$2 p=$3 port code
    port=$(cat "$D/port" 2>/dev/null)
    if [ -z "$port" ]; then # restarting: nothing to send to yet
        sleep 0.1
        echo 000
        return
    fi
    case ${4:-} in
    @*) code=$(curl -s -m 20 -o "$W/body" -w '%{http_code}' -X "$m" -H "Authorization: Bearer $tok" \
        -H 'Content-Type: application/octet-stream' --data-binary "$4" "http://127.0.0.1:$port$p") ;;
    "") code=$(curl -s -m 20 -o "$W/body" -w '%{http_code}' -X "$m" -H "Authorization: Bearer $tok" \
        "http://127.0.0.1:$port$p") ;;
    *) code=$(curl -s -m 20 -o "$W/body" -w '%{http_code}' -X "$m" -H "Authorization: Bearer $tok" \
        -H 'Content-Type: application/json' --data-binary "$4" "http://127.0.0.1:$port$p") ;;
    esac
    echo "$m $p $code" >>"$W/requests"
    [ "$code" = 000 ] && sleep 0.2 # the daemon is down: wait for its restart
    echo "$code"
}
is2xx() { case $1 in 2??) return 0 ;; esac; return 1; }
client() {
    local i=0 c pid acc f sha
    while [ ! -e "$W/stop" ]; do
        i=$((i + 1))
        c=$(call "$LIMS" POST /api/v1/patients "{\"external_id\":\"CR-$i\",\"diagnosis_date\":\"2023-01-01\"}")
        is2xx "$c" || continue
        pid=$(jq -r .id "$W/body")
        echo "patient CR-$i $pid" >>"$W/ok"
        c=$(call "$CLIN" POST "/api/v1/patients/$pid/treatments" \
            '{"kind":"surgery","start_date":"2023-01-10","end_date":"2023-01-10"}')
        is2xx "$c" && echo "treatment $pid" >>"$W/ok"
        acc=CR-$i-1
        c=$(call "$LIMS" POST "/api/v1/patients/$pid/samples" \
            "{\"accession\":\"$acc\",\"collected_at\":\"2023-06-01\",\"assay\":\"bins\"}")
        is2xx "$c" || continue
        echo "sample $acc" >>"$W/ok"
        f=$W/sim/a$((i % 4 + 1)).tsv
        c=$(call "$LIMS" PUT "/api/v1/samples/$acc/bins" "@$f")
        if is2xx "$c"; then
            sha=$(sha256sum <"$f" | cut -c1-64)
            echo "upload $acc $sha" >>"$W/ok"
        fi
        c=$(call "$CLIN" GET "/api/v1/alerts?open=1&limit=5")
        if is2xx "$c"; then
            for a in $(jq -r '.alerts[].id' "$W/body" 2>/dev/null); do
                c=$(call "$CLIN" POST "/api/v1/alerts/$a/acknowledge" '{"comment":"seen in the crash campaign"}')
                is2xx "$c" && echo "ack $a" >>"$W/ok"
            done
        fi
    done
}
: >"$W/requests"
: >"$W/ok"
client &
CLIENT=$!

# ---------------------------------------------------------------- the kills
lo=${GAP_MS%-*}
hi=${GAP_MS#*-}
kills=0
with_job=0
while [ $kills -lt "$KILLS" ]; do
    ms=$(awk -v lo="$lo" -v hi="$hi" -v s="$kills$$" 'BEGIN { srand(s); print int(lo + rand() * (hi - lo)) }')
    sleep "$(awk -v ms="$ms" 'BEGIN { printf "%.3f", ms / 1000 }')"
    [ "$(sql "SELECT count(*) FROM jobs WHERE state = 'running'" 2>/dev/null)" != 0 ] &&
        with_job=$((with_job + 1))
    rw_stop_daemon KILL
    kills=$((kills + 1))
    rw_start_daemon "$D" $DAEMON_FLAGS || { echo "restart $kills failed" >&2; touch "$W/stop"; exit 1; }
done
touch "$W/stop"
wait $CLIENT

# Let every job end, then stop cleanly.
i=0
while [ "$(sql "SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')")" != 0 ] &&
    [ $i -lt 1200 ]; do
    sleep 0.1
    i=$((i + 1))
done
rw_stop_daemon
stop_status=$?

# ---------------------------------------------------------------- checks
bad=0
problem() { bad=$((bad + 1)); echo "PROBLEM: $*" >&2; }
found=0
while read -r kind a b; do
    case $kind in
    patient)
        n=$(sql "SELECT count(*) FROM patients WHERE external_id = '$a' AND id = $b")
        au=$(sql "SELECT count(*) FROM audit_log WHERE action = 'create' AND entity_type = 'patient' AND entity_id = $b")
        [ "$n $au" = "1 1" ] || { problem "patient $a: $n rows, $au audit rows"; continue; } ;;
    treatment) ;; # counted per patient below
    sample)
        n=$(sql "SELECT count(*) FROM samples WHERE accession = '$a'")
        [ "$n" = 1 ] || { problem "sample $a: $n rows"; continue; } ;;
    upload)
        row=$(sql "SELECT i.sha256 || ' ' || coalesce(i.path, '') FROM sample_inputs i JOIN samples s ON s.id = i.sample_id WHERE s.accession = '$a'")
        [ "${row%% *}" = "$b" ] || { problem "upload $a: stored '$row'"; continue; }
        [ "$(sha256sum <"$D/data/${row#* }" 2>/dev/null | cut -c1-64)" = "$b" ] ||
            { problem "upload $a: file ${row#* } missing or changed"; continue; } ;;
    ack)
        n=$(sql "SELECT count(*) FROM alerts WHERE id = $a AND acknowledged_at IS NOT NULL")
        au=$(sql "SELECT count(*) FROM audit_log WHERE action = 'acknowledge' AND entity_type = 'alert' AND entity_id = $a")
        [ "$n $au" = "1 1" ] || { problem "ack of alert $a: $n acknowledged, $au audit rows"; continue; } ;;
    esac
    found=$((found + 1))
done <"$W/ok"
for pid in $(awk '$1 == "treatment" { print $2 }' "$W/ok" | sort -u); do
    want=$(awk -v p="$pid" '$1 == "treatment" && $2 == p' "$W/ok" | wc -l)
    have=$(sql "SELECT count(*) FROM treatments WHERE patient_id = $pid")
    [ "$want" = "$have" ] || problem "patient $pid: $want treatments answered 2xx, $have stored"
done
open_jobs=$(sql "SELECT count(*) FROM jobs WHERE state NOT IN ('done', 'failed')")
[ "$open_jobs" = 0 ] || problem "$open_jobs jobs neither done nor failed"
integrity=$(sql 'PRAGMA integrity_check')
[ "$integrity" = ok ] || problem "integrity_check: $integrity"
"$RW_DAEMON" --db "$DB" --verify-audit >"$W/verify" 2>&1 || problem "audit chain: $(cat "$W/verify")"
sql "SELECT path FROM sample_inputs WHERE path IS NOT NULL UNION SELECT counts_path FROM sample_inputs WHERE counts_path IS NOT NULL UNION SELECT path FROM pons" |
    sort >"$W/named"
(cd "$D/data" && find samples pons -type f | sort) >"$W/files"
orphans=$(comm -13 "$W/named" "$W/files" | wc -l)
missing=$(comm -23 "$W/named" "$W/files" | wc -l)
tmpfiles=$(find "$D/data/tmp" -type f | wc -l)
[ "$orphans $missing $tmpfiles" = "0 0 0" ] ||
    problem "data folder: $orphans orphan files, $missing files missing, $tmpfiles in tmp/"
[ "$stop_status" = 0 ] || problem "the final stop was not clean ($stop_status)"

requests=$(wc -l <"$W/requests")
ok2xx=$(awk '$3 ~ /^2/' "$W/requests" | wc -l)
unanswered=$(awk '$3 == "000"' "$W/requests" | wc -l)
err5xx=$(awk '$3 ~ /^5/' "$W/requests" | wc -l)
records=$(wc -l <"$W/ok")
jobs=$(sql "SELECT count(*) || ' (' || CAST(total(state = 'done') AS INTEGER) || ' done, ' || CAST(total(state = 'failed') AS INTEGER) || ' failed, ' || CAST(total(error LIKE 'interrupted%') AS INTEGER) || ' of them interrupted too often)' FROM jobs")
echo "kills: $kills SIGKILL ($with_job with a job running), gap ${GAP_MS} ms, job delay ${RELAPSEWATCHD_TEST_JOB_DELAY_MS} ms"
echo "requests sent: $requests ($ok2xx answered 2xx, $unanswered unanswered: refused or cut by a kill, $err5xx 5xx)"
echo "writes answered 2xx: $records; found exactly once with their audit row: $found"
echo "  patients $(grep -c '^patient' "$W/ok"), treatments $(grep -c '^treatment' "$W/ok"), samples $(grep -c '^sample' "$W/ok"), uploads $(grep -c '^upload' "$W/ok"), acknowledgements $(grep -c '^ack' "$W/ok")"
echo "jobs: $jobs, none left open: $([ "$open_jobs" = 0 ] && echo yes || echo NO)"
echo "integrity_check: $integrity; audit chain: $(cut -c1-40 "$W/verify")"
swept=$(grep -o 'removed [0-9]* files of uploads or jobs cut' "$D/log" | awk '{ n += $2 } END { print n + 0 }')
requeued=$(grep -o '[0-9]* jobs were running when' "$D/log" | awk '{ n += $1 } END { print n + 0 }')
tmpswept=$(grep -o 'removed [0-9]* temporary upload files' "$D/log" | awk '{ n += $2 } END { print n + 0 }')
echo "repairs at start-up: $requeued cut jobs queued again, $swept orphan files and $tmpswept temporary files removed"
echo "orphan files: $orphans, missing files: $missing, tmp files: $tmpfiles"
echo "time: $(($(date +%s) - started)) s"
if [ "$bad" -eq 0 ]; then
    echo "crash campaign: OK"
    exit 0
fi
echo "crash campaign: $bad PROBLEMS" >&2
exit 1
