#!/bin/sh
# The LIMS contract (issue 13) against the real daemon: the version's schema, strict query
# parameters on every route, one name for the ddPCR wells (API and CLI), each assay's one input,
# the job chain a LIMS polls, Location headers, the site's time zone and draw times, patients by
# external id, and the sync lists (updated_since, cursors).
. "$RW_SRCDIR/tests/lib.sh"
SIM=$t_tmp/sim
mkdir -p "$SIM"
j() { jq -r "$1" "$RW_BODY"; }
# put_file PATH URLPATH: streams a file as the raw body; prints the status code.
put_file() {
    curl -s -o "$RW_BODY" -w '%{http_code}' -X PUT -H "Authorization: Bearer $RW_TOKEN" \
        -H 'Content-Type: application/octet-stream' --data-binary "@$1" "$RW_URL$2"
}
# header NAME METHOD PATH [JSON]: the value of a response header of one request.
header() {
    curl -s -D "$t_tmp/h" -o "$RW_BODY" -X "$2" -H "Authorization: Bearer $RW_TOKEN" \
        ${4:+-H 'Content-Type: application/json' --data-binary "$4"} "$RW_URL$3" >/dev/null
    tr -d '\r' <"$t_tmp/h" | sed -n "s/^$1: //Ip"
}
sample() { # ACCESSION ASSAY [EXTRA JSON MEMBERS]: registers a draw of $PAT; prints the status
    rw_req POST "/api/v1/patients/$PAT/samples" \
        "{\"accession\":\"$1\",\"collected_at\":\"2024-03-01\",\"assay\":\"$2\"$3}"
}
last_migration=$(ls "$RW_SRCDIR"/schema/[0-9][0-9][0-9]_*.sql | tail -n 1 | xargs basename |
    sed 's/_.*//; s/^0*//')
"$RW_CLI" simulate --ideal --normals 5 --bins "$SIM/normals" --depth 0.05 --seed 300 >/dev/null 2>&1
"$RW_CLI" simulate --ideal --depth 0.05 --seed 301 --bins "$SIM/early.tsv" >/dev/null 2>&1
check "simulated bins" test -s "$SIM/early.tsv"

rw_start_daemon "$t_tmp/d" || exit 1
RW_TOKEN=$RW_ADMIN_TOKEN
ADMIN=$RW_ADMIN_TOKEN
rw_req POST /api/v1/tokens '{"role":"lims","label":"lims"}' >/dev/null
LIMS=$(j .token)

# ---------------------------------------------------------------- version
check_eq "version" "$(rw_req GET /api/v1/version)" 200
check_eq "schema = the last migration" "$(j .schema)" "$last_migration"
check_eq "schema_supported" "$(j .schema_supported)" "$last_migration"
check "docs/api-infra.md shows the schema" \
    grep -q "\"schema\":$last_migration," "$RW_SRCDIR/docs/api-infra.md"

# ---------------------------------------------------------------- unknown query parameters: 422
for p in "/api/v1/jobs?limit=1&state=done&samplee=X" "/api/v1/pons?x=1" \
    "/api/v1/samples/NOPE/profile?verbose=1" "/api/v1/version?x=1" "/api/v1/patients/1?x=1" \
    "/api/v1/patients?limit=1&colour=red"; do
    check_eq "GET $p" "$(rw_req GET "$p")" 422
    check_eq "GET $p: code" "$(j .error.code)" unknown_field
done
check_eq "the unknown key is named" "$(rw_req GET '/api/v1/jobs?samplee=X')$(j .error.field)" \
    422samplee
RW_TOKEN=$LIMS
check_eq "a write refuses one too, before writing" \
    "$(rw_req POST '/api/v1/patients?dry_run=1' '{"external_id":"Q-1","diagnosis_date":"2024-01-01"}')" 422
check_eq "nothing written" "$(rw_req GET '/api/v1/patients?external_id=Q-1' >/dev/null; j '.patients | length')" 0

# ---------------------------------------------------------------- Location, patients by external id
loc=$(header Location POST /api/v1/patients '{"external_id":"LIMS-7","diagnosis_date":"2024-01-01"}')
PAT=$(j .id)
check_eq "201 Location of a patient" "$loc" "/api/v1/patients/$PAT"
check_eq "by external id" "$(rw_req GET /api/v1/patients/by-external-id/LIMS-7)$(j .id)" "200$PAT"
check_eq "unknown external id" "$(rw_req GET /api/v1/patients/by-external-id/NOPE-1)" 404
loc=$(header Location POST "/api/v1/patients/$PAT/samples" \
    '{"accession":"S-LOC","collected_at":"2024-03-01","assay":"ddpcr"}')
check_eq "201 Location of a sample" "$loc" /api/v1/samples/S-LOC

# ---------------------------------------------------------------- registering by external id
check_eq "POST /samples by external id" "$(rw_req POST /api/v1/samples \
    '{"patient_external_id":"LIMS-7","accession":"S-EXT","collected_at":"2024-03-02","assay":"swgs"}')" 201
check_eq "its patient" "$(j .patient_id)" "$PAT"
check_eq "resent: 200" "$(rw_req POST /api/v1/samples \
    '{"patient_external_id":"LIMS-7","accession":"S-EXT","collected_at":"2024-03-02","assay":"swgs"}')" 200
rw_req POST /api/v1/patients '{"external_id":"LIMS-8","diagnosis_date":"2024-01-01"}' >/dev/null
PAT2=$(j .id) # the job chain's patient
check_eq "by numeric id" "$(rw_req POST /api/v1/samples \
    "{\"patient_id\":$PAT2,\"accession\":\"S-NUM\",\"collected_at\":\"2024-03-02\",\"assay\":\"bins\"}")" 201
check_eq "both ids" "$(rw_req POST /api/v1/samples \
    "{\"patient_id\":$PAT,\"patient_external_id\":\"LIMS-7\",\"accession\":\"S-2\",\"collected_at\":\"2024-03-02\",\"assay\":\"bins\"}")$(j .error.code)" \
    422invalid_value
check_eq "no patient named" "$(rw_req POST /api/v1/samples \
    '{"accession":"S-3","collected_at":"2024-03-02","assay":"bins"}')$(j .error.field)" \
    422patient_external_id
check_eq "unknown external id" "$(rw_req POST /api/v1/samples \
    '{"patient_external_id":"NOPE-1","accession":"S-4","collected_at":"2024-03-02","assay":"bins"}')" 404
check_eq "unknown field still refused" "$(rw_req POST /api/v1/samples \
    '{"patient_external_id":"LIMS-7","accession":"S-5","collected_at":"2024-03-02","assay":"bins","colour":1}')$(j .error.field)" \
    422colour
check_eq "nothing registered by the refusals" \
    "$(rw_req GET "/api/v1/patients/$PAT/samples" >/dev/null; j '[.samples[].accession] | sort | join(",")')" \
    "S-EXT,S-LOC"

# ---------------------------------------------------------------- collected_time
check_eq "collected_time" "$(sample S-TIME ddpcr ',"collected_time":"08:45"')$(j .collected_time)" \
    20108:45
for bad in 25:00 8:45 08:60 '08:45:00' 0845; do
    check_eq "collected_time $bad" "$(sample S-BADTIME ddpcr ",\"collected_time\":\"$bad\"")$(j .error.field)" \
        422collected_time
done
check_eq "without it: null" "$(rw_req GET /api/v1/samples/S-LOC >/dev/null; j .collected_time)" null

# ---------------------------------------------------------------- ddPCR: one name for the wells
W='"target_positive":2400,"reference_positive":1300'
check_eq "accepted (the old name): 422" \
    "$(rw_req PUT /api/v1/samples/S-LOC/ddpcr "{\"wells\":[{$W,\"droplets\":15000},{$W,\"accepted\":15000}]}")" 422
check_eq "unknown_field names the key" "$(j .error.code) $(j .error.field)" \
    "unknown_field wells[1].accepted"
check_eq "nothing stored" "$(rw_req GET /api/v1/samples/S-LOC >/dev/null; j .status)" received
loc=$(header Location PUT /api/v1/samples/S-LOC/ddpcr "{\"wells\":[{$W,\"droplets\":15000}]}")
check_eq "droplets: 202" "$(j .job.state)" queued
check_eq "202 Location = job_url" "$loc" "$(j .job_url)"
DDJOB=$(j .job.id)
check_eq "ddPCR job done" "$(rw_wait_job "$DDJOB")" done
printf '{"wells": [{%s, "droplets": 15000}]}\n' "$W" >"$t_tmp/wells.json"
check "CLI reads droplets" "$RW_CLI" ddpcr -o "$t_tmp/cli.json" "$t_tmp/wells.json"
printf '{"wells": [{%s, "accepted": 15000}]}\n' "$W" >"$t_tmp/old.json"
if "$RW_CLI" ddpcr -o "$t_tmp/cli2.json" "$t_tmp/old.json" 2>"$t_tmp/cli.err"; then
    fail "CLI took accepted"
else
    check "CLI names the keys" grep -q "target_positive, reference_positive and droplets" "$t_tmp/cli.err"
fi
check "docs/cli.md says droplets" grep -q '"reference_positive": R, "droplets": N' "$RW_SRCDIR/docs/cli.md"

# ---------------------------------------------------------------- each assay takes its one input
check_eq "bins to an swgs draw: 422" "$(put_file "$SIM/early.tsv" /api/v1/samples/S-EXT/bins)" 422
check_eq "assay_mismatch" "$(j .error.code)" assay_mismatch
check_eq "the sample is untouched" "$(rw_req GET /api/v1/samples/S-EXT >/dev/null; j '"\(.status) \(.assay)"')" \
    "received swgs"
check_eq "wells to a bins draw: 422" \
    "$(rw_req PUT /api/v1/samples/S-NUM/ddpcr "{\"wells\":[{$W,\"droplets\":15000}]}")$(j .error.code)" \
    422assay_mismatch

# ---------------------------------------------------------------- the job chain
# An upload before any panel is active fails; activating a panel queues a new job for it: the
# first job then leads to the second, and the sample's status is the one to poll.
check_eq "early bins: 202" "$(put_file "$SIM/early.tsv" /api/v1/samples/S-NUM/bins)" 202
JOB1=$(j .job.id)
check_eq "without a panel the job fails" "$(rw_wait_job "$JOB1")" failed
check_eq "sample failed" "$(rw_req GET /api/v1/samples/S-NUM >/dev/null; j .status)" failed
rw_req POST /api/v1/patients '{"external_id":"NORMALS","diagnosis_date":"2024-01-01"}' >/dev/null
PAT=$(j .id) # the normals' own patient
for i in 1 2 3 4 5; do
    sample "N-$i" bins >/dev/null
    put_file "$SIM/normals/normal_$((299 + i)).tsv" "/api/v1/samples/N-$i/bins" >/dev/null
done
rw_wait_job "$(j .job.id)" >/dev/null
RW_TOKEN=$ADMIN
rw_req POST /api/v1/pons '{"name":"five","build_from":["N-1","N-2","N-3","N-4","N-5"]}' >/dev/null
PON=$(j .id)
loc=$(header Location POST "/api/v1/pons/$PON/activate")
check_eq "activation 202, Location = the panel" "$loc" "/api/v1/pons/$PON"
rw_req GET "/api/v1/jobs/$JOB1" >/dev/null
check_eq "job 1 superseded" "$(j .state)" superseded
JOB2=$(j .superseded_by)
check "superseded_by a newer job" test "$JOB2" -gt "$JOB1"
check_eq "next link" "$(j .next)" "/api/v1/jobs/$JOB2"
check_eq "its error is kept" "$(j '.error | test("panel")')" true
check_eq "the next job ends done" "$(rw_wait_job "$JOB2")" done
check_eq "and is not superseded" "$(jq -r '"\(.superseded_by) \(.next)"' "$t_tmp/job.json")" "null null"
check_eq "the sample's status: done" "$(rw_req GET /api/v1/samples/S-NUM >/dev/null; j .status)" done
RW_TOKEN=$ADMIN # the job list is not the lims role's (the sample's status is)
check_eq "retrying a superseded job: 409" "$(rw_req POST "/api/v1/jobs/$JOB1/retry")" 409
check "409 names the next job" grep -q "/api/v1/jobs/$JOB2" "$RW_BODY"
check_eq "jobs of one sample" \
    "$(rw_req GET '/api/v1/jobs?sample=S-NUM' >/dev/null; j '[.jobs[].id] | join(",")')" "$JOB2,$JOB1"
check_eq "superseded jobs" \
    "$(rw_req GET '/api/v1/jobs?sample=S-NUM&state=superseded' >/dev/null; j '[.jobs[].id] | join(",")')" "$JOB1"
check_eq "failed ones exclude superseded" \
    "$(rw_req GET '/api/v1/jobs?sample=S-NUM&state=failed' >/dev/null; j '.jobs | length')" 0
check_eq "an unknown sample has no jobs" "$(rw_req GET '/api/v1/jobs?sample=NOPE' >/dev/null; j '.jobs | length')" 0

# ---------------------------------------------------------------- paging and updated_since
rw_req GET '/api/v1/jobs?limit=2' >/dev/null
c=$(j .next_cursor)
first=$(j '[.jobs[].id] | join(",")')
check "a next page" test "$c" != null
rw_req GET "/api/v1/jobs?limit=2&cursor=$c" >/dev/null
check "the next page follows" test "$(j '.jobs[0].id')" -lt "$(echo "$first" | cut -d, -f2)"
check_eq "bad cursor" "$(rw_req GET '/api/v1/jobs?cursor=zzz')$(j .error.field)" 422cursor
RW_TOKEN=$LIMS
n=0
c=""
while :; do # every sample once, one per page
    rw_req GET "/api/v1/samples?limit=1${c:+&cursor=$c}" >/dev/null
    n=$((n + $(j '.samples | length')))
    c=$(j .next_cursor)
    [ "$c" = null ] && break
    [ $n -gt 50 ] && break
done
check_eq "paged through every sample" "$n" "$(rw_req GET '/api/v1/samples?limit=1000' >/dev/null; j '.samples | length')"
check_eq "updated_since in the future: none" \
    "$(rw_req GET '/api/v1/samples?updated_since=2999-01-01T00:00:00Z' >/dev/null; j '.samples | length')" 0
check_eq "bad updated_since" "$(rw_req GET '/api/v1/samples?updated_since=yesterday')$(j .error.field)" \
    422updated_since
# The job queue's status writes move updated_at too (a trigger, not only srv_row_update).
rw_req GET /api/v1/samples/S-NUM >/dev/null
check "status change moved updated_at" test "$(j .updated_at)" != "$(j .created_at)" -o \
    "$(j .status)" = received
since=$(j .updated_at)
check "S-NUM is in updated_since=its updated_at" sh -c \
    "curl -s -H 'Authorization: Bearer $LIMS' '$RW_URL/api/v1/samples?updated_since=$since' | jq -e '[.samples[].accession] | index(\"S-NUM\")' >/dev/null"
rw_req GET "/api/v1/patients/by-external-id/LIMS-7" >/dev/null
rw_req GET "/api/v1/results?patient_id=$(j .id)" >/dev/null
check_eq "results of the patient" "$(j '[.results[].accession] | sort | join(",")')" "S-LOC"
check_eq "a result's call and link" "$(j '.results[0] | "\(.call | type) \(.strong | type) \(.profile_url)"')" \
    "string boolean /api/v1/samples/S-LOC/profile"
check_eq "results updated_since" \
    "$(rw_req GET '/api/v1/results?updated_since=2999-01-01' >/dev/null; j '.results | length')" 0
RW_TOKEN=$ADMIN
check_eq "patients updated_since" \
    "$(rw_req GET '/api/v1/patients?updated_since=2999-01-01T00:00:00Z' >/dev/null; j '.patients | length')" 0
check_eq "alerts page" "$(rw_req GET '/api/v1/alerts?limit=1' >/dev/null; j 'has("next_cursor")')" true
# Every list pages the same way: tokens, panels, a patient's draws.
for list in tokens pons "patients/$PAT2/samples"; do
    key=${list##*/}
    rw_req GET "/api/v1/$list?limit=1" >/dev/null
    one=$(j ".${key}[0].id")
    c=$(j .next_cursor)
    if [ "$(rw_req GET "/api/v1/$list?limit=1000" >/dev/null; j ".$key | length")" -gt 1 ]; then
        check "$list: a cursor" test "$c" != null
        rw_req GET "/api/v1/$list?limit=1&cursor=$c" >/dev/null
        check "$list: the next page is another row" test "$(j ".${key}[0].id")" != "$one"
    else
        check_eq "$list: one row, no cursor" "$c" null
    fi
done
check "the daemon stops cleanly" rw_stop_daemon

# ---------------------------------------------------------------- the site's time zone
# Kiritimati (UTC+14) is a day ahead of most of the world: its today is never in the future there,
# its tomorrow always is, and a draw registered without received_at is received on its today.
if "$RW_DAEMON" --time-zone Mars/Olympus --db "$t_tmp/x.db" --listen 127.0.0.1:0 2>"$t_tmp/tz.err"; then
    fail "an unknown zone was taken"
else
    check "unknown zone named" grep -q "unknown time zone 'Mars/Olympus'" "$t_tmp/tz.err"
fi
rw_start_daemon "$t_tmp/tz" --time-zone Pacific/Kiritimati || exit 1
RW_TOKEN=$RW_ADMIN_TOKEN
today=$(TZ=Pacific/Kiritimati date +%F)
tomorrow=$(TZ=Pacific/Kiritimati date -d tomorrow +%F)
rw_req POST /api/v1/tokens '{"role":"lims","label":"l"}' >/dev/null
RW_TOKEN=$(j .token)
rw_req POST /api/v1/patients '{"external_id":"TZ-1","diagnosis_date":"2024-01-01"}' >/dev/null
PAT=$(j .id)
rw_req POST "/api/v1/patients/$PAT/samples" \
    "{\"accession\":\"TZ-S2\",\"collected_at\":\"$today\",\"collected_time\":\"23:59\",\"assay\":\"ddpcr\"}" >/dev/null
check_eq "collected today at the site" "$(j .collected_at) $(j .received_at)" "$today $today"
check_eq "tomorrow at the site: 422" "$(rw_req POST "/api/v1/patients/$PAT/samples" \
    "{\"accession\":\"TZ-S3\",\"collected_at\":\"$tomorrow\",\"assay\":\"ddpcr\"}")$(j .error.code)" \
    422invalid_date
check "the daemon stops cleanly" rw_stop_daemon
done_tests
