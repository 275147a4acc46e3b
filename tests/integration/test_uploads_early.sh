#!/bin/sh
# Uploads are judged on their headers, before a byte of the body is stored: an unknown accession,
# a wrong assay, an empty or oversized declared body, a certain conflict, a full disk
# (--disk-reserve) and the quotas (--quota-sample 413, --quota-total 507) are answered at once
# with a JSON error, and the data folder does not grow. Real daemon, real HTTP, real SQLite.
. "$RW_SRCDIR/tests/lib.sh"

D=$t_tmp/d
mkdir -p "$t_tmp/sim"
BIG=$t_tmp/big.bin
head -c 104857600 /dev/zero >"$BIG" # 100 MiB
"$RW_CLI" simulate --ideal --depth 0.1 --seed 8 --bins "$t_tmp/sim/a.tsv" >/dev/null 2>&1
"$RW_CLI" simulate --ideal --depth 0.1 --seed 9 --bins "$t_tmp/sim/b.tsv" >/dev/null 2>&1
check "simulated bins" test -s "$t_tmp/sim/b.tsv"
BINS_SIZE=$(wc -c <"$t_tmp/sim/a.tsv")

# put FILE URLPATH [CURL ARGS...]: prints "status seconds"; the body is in $RW_BODY.
put() {
    local f=$1 p=$2
    shift 2
    curl -s -o "$RW_BODY" -w '%{http_code} %{time_total}' -X PUT \
        -H "Authorization: Bearer $RW_TOKEN" -H 'Content-Type: application/octet-stream' \
        "$@" --data-binary "@$f" "$RW_URL$p"
}
data_size() { du -sb "$D/data" | cut -f1; }
code_of() { jq -r .error.code "$RW_BODY"; }
new_sample() { # ACCESSION ASSAY
    rw_req POST "/api/v1/patients/$PAT/samples" \
        "{\"accession\":\"$1\",\"collected_at\":\"2024-03-01\",\"assay\":\"$2\"}" >/dev/null
}

# TEST hook: every job waits 60 s before it runs, so a stored input's sample is not failed
# (the 409 case) while the test runs; a stop cuts the wait.
RELAPSEWATCHD_TEST_JOB_DELAY_MS=60000
export RELAPSEWATCHD_TEST_JOB_DELAY_MS
rw_start_daemon "$D" || { done_tests; exit 1; }
RW_TOKEN=$RW_ADMIN_TOKEN
rw_req POST /api/v1/tokens '{"role":"lims","label":"lims"}' >/dev/null
LIMS=$(jq -r .token "$RW_BODY")
RW_TOKEN=$LIMS
rw_req POST /api/v1/patients '{"external_id":"P-EARLY","diagnosis_date":"2024-01-01"}' >/dev/null
PAT=$(jq -r .id "$RW_BODY")
new_sample S-BINS bins
new_sample S-DDPCR ddpcr

# ---------------------------------------------------------------- checks at the headers
before=$(data_size)
set -- $(put "$BIG" /api/v1/samples/NO-SUCH/reads)
check_eq "100 MiB to an unknown accession: 404" "$1" 404
check_eq "404 is JSON not_found" "$(code_of)" not_found
check "answered within 2 s (the body is not read): $2 s" awk "BEGIN{exit !($2 < 2)}"
check_eq "data folder unchanged after the 404" "$(data_size)" "$before"
check_eq "no temporary file" "$(ls "$D/data/tmp" | wc -l)" 0

set -- $(put "$BIG" /api/v1/samples/S-DDPCR/reads)
check_eq "reads to a ddPCR sample: 422 at the headers" "$1 $(code_of)" "422 assay_mismatch"
check_eq "data folder unchanged after the 422" "$(data_size)" "$before"

: >"$t_tmp/empty"
set -- $(put "$t_tmp/empty" /api/v1/samples/S-BINS/bins)
check_eq "empty declared body: 422" "$1 $(code_of)" "422 empty_body"

set -- $(put "$t_tmp/sim/a.tsv" /api/v1/samples/S-BINS/bins)
check_eq "a real upload still works: 202" "$1" 202
after_first=$(data_size)
set -- $(put "$BIG" /api/v1/samples/S-BINS/bins)
check_eq "another size for a sample with an input: 409 at the headers" "$1 $(code_of)" \
    "409 conflict"
check "409 within 2 s: $2 s" awk "BEGIN{exit !($2 < 2)}"
check_eq "data folder unchanged after the 409" "$(data_size)" "$after_first"
set -- $(put "$t_tmp/sim/a.tsv" /api/v1/samples/S-BINS/bins)
check_eq "the same bytes again: 200 (idempotent, read and compared)" "$1" 200
rw_stop_daemon

# ---------------------------------------------------------------- disk reserve
# Health is 503 below the reserve: wait for /api/v1/version instead.
RW_READY_PATH=/api/v1/version rw_start_daemon "$D" --disk-reserve 1000T || { done_tests; exit 1; }
RW_TOKEN=$LIMS
new_sample S-DISK bins
before=$(data_size)
set -- $(put "$t_tmp/sim/b.tsv" /api/v1/samples/S-DISK/bins)
check_eq "below the disk reserve: 507" "$1 $(code_of)" "507 insufficient_storage"
check "the message names --disk-reserve" grep -q -- "--disk-reserve" "$RW_BODY"
check_eq "data folder unchanged after the 507" "$(data_size)" "$before"
set -- $(put "$t_tmp/sim/b.tsv" /api/v1/samples/S-DISK/bins -H 'Transfer-Encoding: chunked')
check_eq "chunked body (no declared size) below the reserve: 507" "$1" 507
check_eq "no temporary file after a refused chunked body" "$(ls "$D/data/tmp" | wc -l)" 0
rw_stop_daemon

# ---------------------------------------------------------------- quotas
rw_start_daemon "$D" --quota-sample 1K --quota-total $((BINS_SIZE + 1000)) ||
    { done_tests; exit 1; }
RW_TOKEN=$LIMS
new_sample S-Q1 bins
set -- $(put "$t_tmp/sim/b.tsv" /api/v1/samples/S-Q1/bins)
check_eq "declared beyond --quota-sample: 413" "$1 $(code_of)" "413 quota_exceeded"
set -- $(put "$t_tmp/sim/b.tsv" /api/v1/samples/S-Q1/bins -H 'Transfer-Encoding: chunked')
check_eq "chunked beyond --quota-sample: 413 while streaming" "$1 $(code_of)" "413 quota_exceeded"
check_eq "no temporary file after the streamed 413" "$(ls "$D/data/tmp" | wc -l)" 0
rw_stop_daemon
rw_start_daemon "$D" --quota-total $((BINS_SIZE + 1000)) || { done_tests; exit 1; }
RW_TOKEN=$LIMS
set -- $(put "$t_tmp/sim/b.tsv" /api/v1/samples/S-Q1/bins)
check_eq "beyond --quota-total (one input stored): 507" "$1 $(code_of)" "507 quota_exceeded"
RW_TOKEN=$RW_ADMIN_TOKEN
rw_req GET /api/v1/jobs >/dev/null
check_eq "only the one accepted upload made a job" "$(jq '.jobs | length' "$RW_BODY")" 1
rw_stop_daemon
check_eq "clean stop" "$?" 0

done_tests
