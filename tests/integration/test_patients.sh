#!/bin/sh
# Integration test of the clinical REST resources (patients, treatments, clinical events,
# samples) against the real relapsewatchd over HTTP: every endpoint, every error class with its
# exact status/code/field, idempotency, pagination, atomicity of rejected requests, audit rows,
# a restart on the same database, and no patient identifier in the daemon's log.
. "$RW_SRCDIR/tests/lib.sh"

for tool in curl jq sqlite3; do
    command -v $tool >/dev/null 2>&1 || { echo "SKIP: $tool not installed"; exit 77; }
done

# ---------------------------------------------------------------- helpers

# api METHOD PATH [JSON [TOKEN [CONTENT_TYPE]]]: sets $code (HTTP status) and $body. TOKEN
# defaults to the role the matrix of docs/api-infra.md lets do it: the LIMS registers patients
# and samples, a clinician writes treatments and events, the admin reads and manages tokens;
# "none" sends no Authorization header.
role_token() {
    case "$1 $2" in
    GET* | *tokens*) echo "$ADMIN" ;;
    *treatments* | *events*) echo "$CLIN" ;;
    *) echo "$LIMS" ;;
    esac
}
api() {
    _tok=${4:-$(role_token "$1" "$2")}
    _auth="Authorization: Bearer $_tok"
    [ "$_tok" = none ] && _auth="X-No-Auth: 1"
    if [ $# -ge 3 ] && [ -n "$3" ]; then
        code=$(curl -s -o "$t_tmp/out" -w '%{http_code}' -X "$1" -H "$_auth" \
            -H "Content-Type: ${5:-application/json}" --data-binary "$3" "$BASE$2")
    else
        code=$(curl -s -o "$t_tmp/out" -w '%{http_code}' -X "$1" -H "$_auth" "$BASE$2")
    fi
    body=$(cat "$t_tmp/out")
}
# jqb FILTER: applies a jq filter to the last body (raw output).
jqb() { printf '%s' "$body" | jq -r "$1" 2>/dev/null; }
# expect DESC STATUS [CODE [FIELD]]: asserts the last answer's status and error code/field.
expect() {
    check_eq "$1: status" "$code" "$2"
    if [ $# -ge 3 ]; then check_eq "$1: error code" "$(jqb .error.code)" "$3"; fi
    if [ $# -ge 4 ]; then check_eq "$1: error field" "$(jqb .error.field)" "$4"; fi
}
sql() { sqlite3 "$DB" "$1"; }
# counts of every clinical table and of the audit log, to prove a rejected request wrote nothing
snapshot() {
    sql "SELECT (SELECT count(*) FROM patients) || ' ' || (SELECT count(*) FROM treatments) || ' '
        || (SELECT count(*) FROM clinical_events) || ' ' || (SELECT count(*) FROM samples) || ' '
        || (SELECT count(*) FROM audit_log) || ' ' || (SELECT max(updated_at) FROM patients)"
}
writes=0 # successful writes so far: each must have left exactly one audit row
wrote() { writes=$((writes + 1)); }

DIR="$t_tmp/d"
DB="$DIR/rw.db"
LOG="$DIR/log" # appended over restarts
rw_start_daemon "$DIR" || { echo "cannot start relapsewatchd"; exit 1; }
BASE="$RW_URL"
ADMIN="$RW_ADMIN_TOKEN"

# tokens of the other roles, made through the admin endpoint
api POST /api/v1/tokens '{"role":"lims","label":"lims-test"}'
expect "create lims token" 201
LIMS=$(jqb .token)
api POST /api/v1/tokens '{"role":"clinician","label":"clinic-test"}'
expect "create clinician token" 201
CLIN=$(jqb .token)

# Identifiers that must never reach the log: distinctive so a grep cannot miss them.
EXT1="HOSP-7QX41"
ACC1="LIMS-ZK-90311"
ACC2="LIMS-ZK-20417"

# ---------------------------------------------------------------- patients: create, get
P1="{\"external_id\":\"$EXT1\",\"er_status\":\"positive\",\"pr_status\":\"negative\",
     \"diagnosis_date\":\"2020-03-15\",\"primary_1q213_status\":\"amplified\",
     \"primary_1q213_cn\":4}"
api POST /api/v1/patients "$P1" "$LIMS"
expect "create patient" 201
wrote
PID=$(jqb .id)
check "patient id is a positive integer" [ "$PID" -gt 0 ]
check_eq "external_id echoed" "$(jqb .external_id)" "$EXT1"
check_eq "her2 defaults to unknown" "$(jqb .her2_status)" "unknown"
check_eq "copy number stored" "$(jqb .primary_1q213_cn)" "4"
check_eq "created_at set" "$(jqb '.created_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T")')" "true"
check_eq "audit actor is the token label" \
    "$(sql "SELECT actor || '/' || action FROM audit_log WHERE entity_type = 'patient' AND entity_id = $PID")" \
    "lims-test/create"

api GET "/api/v1/patients/$PID" "" "$CLIN"
expect "clinician reads a patient" 200
check_eq "get returns the record" "$(jqb .diagnosis_date)/$(jqb .er_status)" "2020-03-15/positive"

# ---------------------------------------------------------------- idempotency
api POST /api/v1/patients "$P1" "$LIMS"
expect "identical resend" 200
check_eq "identical resend returns the same patient" "$(jqb .id)" "$PID"
api POST /api/v1/patients "{\"external_id\":\"$EXT1\",\"er_status\":\"positive\",\"pr_status\":\"negative\",
     \"diagnosis_date\":\"2020-03-15\",\"primary_1q213_status\":\"amplified\",\"primary_1q213_cn\":4.0}"
expect "resend with 4.0 for 4" 200
api POST /api/v1/patients "{\"external_id\":\"$EXT1\",\"er_status\":\"negative\",\"pr_status\":\"negative\",
     \"diagnosis_date\":\"2020-03-15\",\"primary_1q213_status\":\"amplified\",\"primary_1q213_cn\":4}"
expect "resend with different content" 409 conflict er_status
api POST /api/v1/patients "{\"external_id\":\"$EXT1\",\"er_status\":\"positive\",\"pr_status\":\"negative\",
     \"diagnosis_date\":\"2020-03-15\",\"primary_1q213_status\":\"amplified\"}"
expect "resend without the copy number" 409 conflict primary_1q213_cn

# eight identical pushes at once: BEGIN IMMEDIATE serialises them, so one creates, seven find it
i=1
race_pids=""
while [ $i -le 8 ]; do
    curl -s -o /dev/null -w '%{http_code}\n' -X POST -H "Authorization: Bearer $LIMS" \
        -H 'Content-Type: application/json' \
        --data-binary '{"external_id":"HOSP-RACE-1","diagnosis_date":"2021-01-01"}' \
        "$BASE/api/v1/patients" >"$t_tmp/race.$i" &
    race_pids="$race_pids $!"
    i=$((i + 1))
done
for p in $race_pids; do wait "$p"; done # a bare wait would wait for the daemon too
check_eq "concurrent identical pushes: one 201, seven 200" \
    "$(cat "$t_tmp"/race.* | sort | uniq -c | awk '{printf "%s:%s ", $2, $1}')" "200:7 201:1 "
check_eq "concurrent pushes made one patient" \
    "$(sql "SELECT count(*) FROM patients WHERE external_id = 'HOSP-RACE-1'")" "1"
wrote

# ---------------------------------------------------------------- errors (nothing may change)
before=$(snapshot)
api POST /api/v1/patients '{"external_id":"X1","diagnosis_date":"2020-01-01"}' none
expect "no token" 401 unauthorized
api GET /api/v1/patients "" none
expect "no token, even to read" 401 unauthorized
api POST /api/v1/patients '{"external_id":"X1","diagnosis_date":"2020-01-01"}' "rw_not_a_token"
expect "invalid token" 401 unauthorized
api POST /api/v1/patients '{"external_id":"X1","diagnosis_date":"2020-01-01"}' "$CLIN"
expect "clinician may not write" 403 forbidden
api POST /api/v1/patients '{"external_id":"X1","diagnosis_date":"2020-01-01","colour":"red"}'
expect "unknown field" 422 unknown_field colour
api POST /api/v1/patients '{"external_id":"X1","diagnosis_date":"2020-01-01","er_status":1}'
expect "wrong type" 422 invalid_type er_status
api POST /api/v1/patients '{"external_id":"X1","diagnosis_date":"2020-01-01","er_status":"maybe"}'
expect "value outside the enum" 422 invalid_value er_status
api POST /api/v1/patients '{"external_id":"X1","diagnosis_date":"2020-01-01","primary_1q213_cn":"4"}'
expect "number as a string" 422 invalid_type primary_1q213_cn
api POST /api/v1/patients '{"external_id":"X1","diagnosis_date":"2020-01-01","primary_1q213_cn":-1}'
expect "negative copy number" 422 invalid_value primary_1q213_cn
api POST /api/v1/patients '{"external_id":"X1","diagnosis_date":"2021-02-29"}'
expect "impossible date" 422 invalid_date diagnosis_date
api POST /api/v1/patients '{"external_id":"X1","diagnosis_date":"2999-01-01"}'
expect "date in the future" 422 invalid_date diagnosis_date
api POST /api/v1/patients '{"external_id":"X1","diagnosis_date":"15/03/2020"}'
expect "date in another format" 422 invalid_date diagnosis_date
api POST /api/v1/patients '{"diagnosis_date":"2020-01-01"}'
expect "missing external_id" 422 missing_field external_id
api POST /api/v1/patients '{"external_id":"has space","diagnosis_date":"2020-01-01"}'
expect "external_id with a space" 422 invalid_value external_id
api POST /api/v1/patients '{"external_id":"X1","diagnosis_date":null}'
expect "null for a required field" 422 invalid_type diagnosis_date
api POST /api/v1/patients '{"external_id":"X1",'
expect "malformed JSON" 400 invalid_json
api POST /api/v1/patients '[1,2]'
expect "JSON that is not an object" 400 invalid_json
api POST /api/v1/patients '{"external_id":"X1","diagnosis_date":"2020-01-01"}' "" text/plain
expect "wrong content type" 415 unsupported_media_type
# a 2 MB body against the default 1 MB limit
head -c 2000000 /dev/zero | tr '\0' 'a' >"$t_tmp/big"
code=$(curl -s -o "$t_tmp/out" -w '%{http_code}' -X POST -H "Authorization: Bearer $LIMS" \
    -H 'Content-Type: application/json' --data-binary "@$t_tmp/big" "$BASE/api/v1/patients")
body=$(cat "$t_tmp/out")
expect "body too large" 413 body_too_large
api GET /api/v1/patients/999999
expect "unknown patient" 404 not_found
api GET /api/v1/patients/abc
expect "non-numeric patient id" 404 not_found
api GET /api/v1/nothing-here
expect "unknown endpoint" 404 not_found
api DELETE "/api/v1/patients/$PID"
expect "the LIMS may not erase a patient (an admin's correction)" 403 forbidden
api PATCH "/api/v1/patients/$PID" "{\"external_id\":\"OTHER-1\"}"
expect "external_id is read-only" 422 read_only external_id
api PATCH "/api/v1/patients/$PID" '{}'
expect "empty patch" 422 missing_field
api PATCH "/api/v1/patients/$PID" '{"er_status":"negative","pr_status":"nope"}'
expect "patch with one bad field" 422 invalid_value pr_status
api PATCH /api/v1/patients/999999 '{"er_status":"negative"}'
expect "patch of an unknown patient" 404 not_found
check_eq "rejected requests changed nothing" "$(snapshot)" "$before"
api GET "/api/v1/patients/$PID"
check_eq "the partly valid patch changed nothing" "$(jqb .er_status)" "positive"

# ---------------------------------------------------------------- patients: update
api PATCH "/api/v1/patients/$PID" '{"her2_status":"positive","primary_1q213_cn":null}' "$LIMS"
expect "patch patient" 200
wrote
check_eq "patched field" "$(jqb .her2_status)" "positive"
check_eq "nulled copy number" "$(jqb .primary_1q213_cn)" "null"
check_eq "untouched field" "$(jqb .er_status)" "positive"
check_eq "update audit holds before and after" \
    "$(sql "SELECT json_extract(details, '$.before.her2_status') || '>' || json_extract(details, '$.after.her2_status') FROM audit_log WHERE entity_type = 'patient' AND action = 'update'")" \
    "unknown>positive"

# ---------------------------------------------------------------- pagination and filter
i=2
while [ $i -le 8 ]; do
    api POST /api/v1/patients "{\"external_id\":\"HOSP-PG-$i\",\"diagnosis_date\":\"2019-0$i-01\"}"
    expect "create patient $i" 201
    wrote
    i=$((i + 1))
done
all=""
cursor=""
pages=0
while :; do
    if [ -n "$cursor" ]; then api GET "/api/v1/patients?limit=3&cursor=$cursor" "" "$CLIN"
    else api GET "/api/v1/patients?limit=3" "" "$CLIN"; fi
    [ "$code" = 200 ] || { fail "page $pages: status $code"; break; }
    pages=$((pages + 1))
    n=$(jqb '.patients | length')
    [ "$n" -le 3 ] || fail "page longer than the limit: $n"
    all="$all $(jqb '.patients[].id')"
    cursor=$(jqb '.next_cursor // empty')
    [ -n "$cursor" ] || break
    [ $pages -lt 10 ] || { fail "pagination does not end"; break; }
done
check_eq "3 pages of at most 3 for 9 patients" "$pages" "3"
check_eq "the walk saw every patient" "$(echo $all | wc -w)" "9"
check_eq "no duplicates in the walk" "$(echo $all | tr ' ' '\n' | sort -u | wc -l)" "9"
check_eq "walk ordered by id" "$(echo $all | tr ' ' '\n' | sort -n | tr '\n' ' ')" \
    "$(echo $all | tr ' ' '\n' | tr '\n' ' ')"
api GET /api/v1/patients
check_eq "default limit returns all 9" "$(jqb '.patients | length')/$(jqb .next_cursor)" "9/null"
api GET /api/v1/patients?external_id=HOSP-PG-5
check_eq "filter by external_id" "$(jqb '.patients | length')/$(jqb '.patients[0].external_id')" \
    "1/HOSP-PG-5"
api GET /api/v1/patients?external_id=NOBODY
check_eq "filter without match" "$(jqb '.patients | length')" "0"
api GET "/api/v1/patients?limit=0"
expect "limit 0" 422 invalid_value limit
api GET "/api/v1/patients?limit=501"
expect "limit over 500" 422 invalid_value limit
api GET "/api/v1/patients?limit=ten"
expect "limit not a number" 422 invalid_value limit
api GET "/api/v1/patients?cursor=garbage!"
expect "forged cursor" 422 invalid_value cursor
api GET "/api/v1/patients?sort_by=name"
expect "unknown query parameter" 422 unknown_field sort_by

# ---------------------------------------------------------------- treatments
api POST "/api/v1/patients/$PID/treatments" \
    '{"kind":"chemotherapy","regimen":"EC-T","start_date":"2020-04-01"}' "$CLIN"
expect "create treatment" 201
wrote
TID=$(jqb .id)
check_eq "ongoing treatment has no end" "$(jqb .end_date)/$(jqb .patient_id)" "null/$PID"
api POST "/api/v1/patients/$PID/treatments" '{"kind":"surgery","start_date":"2020-03-20"}'
expect "create surgery" 201
wrote
SURG=$(jqb .id)
before=$(snapshot)
api POST "/api/v1/patients/$PID/treatments" \
    '{"kind":"endocrine","start_date":"2020-05-01","end_date":"2020-04-01"}'
expect "treatment ending before it starts" 422 invalid_date end_date
api POST "/api/v1/patients/$PID/treatments" '{"kind":"homeopathy","start_date":"2020-05-01"}'
expect "unknown treatment kind" 422 invalid_value kind
api POST "/api/v1/patients/$PID/treatments" '{"kind":"other","start_date":"2020-05-01","dose":3}'
expect "unknown treatment field" 422 unknown_field dose
api POST "/api/v1/patients/999999/treatments" '{"kind":"other","start_date":"2020-05-01"}'
expect "treatment of an unknown patient" 404 not_found
api PATCH "/api/v1/treatments/$TID" '{"end_date":"2020-03-01"}'
expect "ending a treatment before its start" 422 invalid_date end_date
api PATCH "/api/v1/treatments/$TID" '{"end_date":"2020-05-01"}' "$LIMS"
expect "the LIMS may not end a treatment" 403 forbidden
api PATCH /api/v1/treatments/999999 '{"end_date":"2020-05-01"}'
expect "patch of an unknown treatment" 404 not_found
check_eq "rejected treatment requests changed nothing" "$(snapshot)" "$before"
api PATCH "/api/v1/treatments/$TID" '{"end_date":"2020-09-30"}' "$CLIN"
expect "end a treatment" 200
wrote
check_eq "treatment ended" "$(jqb .end_date)/$(jqb .regimen)" "2020-09-30/EC-T"
api GET "/api/v1/patients/$PID/treatments" "" "$CLIN"
expect "list treatments" 200
check_eq "treatments by start date" "$(jqb '[.treatments[].kind] | join(",")')" \
    "surgery,chemotherapy"
api DELETE "/api/v1/treatments/$SURG" "" "$CLIN"
expect "delete treatment" 200
wrote
check_eq "delete answers the deleted record" "$(jqb .id)/$(jqb .kind)" "$SURG/surgery"
api DELETE "/api/v1/treatments/$SURG"
expect "delete twice" 404 not_found
api GET "/api/v1/patients/$PID/treatments"
check_eq "deleted treatment gone" "$(jqb '.treatments | length')" "1"
check_eq "delete audited with the record" \
    "$(sql "SELECT json_extract(details, '$.kind') FROM audit_log WHERE entity_type = 'treatment' AND action = 'delete' AND entity_id = $SURG")" \
    "surgery"

# ---------------------------------------------------------------- clinical events
api POST "/api/v1/patients/$PID/events" '{"date":"2021-06-01","kind":"clinical_relapse","note":"bone"}' "$CLIN"
expect "create event" 201
wrote
EID=$(jqb .id)
api POST "/api/v1/patients/$PID/events" '{"date":"2019-01-10","kind":"other","note":"screening"}'
expect "other event before diagnosis is possible" 201
wrote
OTHER=$(jqb .id)
before=$(snapshot)
api POST "/api/v1/patients/$PID/events" '{"date":"2020-01-01","kind":"clinical_relapse"}'
expect "relapse before diagnosis" 422 invalid_date date
api POST "/api/v1/patients/$PID/events" '{"date":"2020-01-01","kind":"recovery"}'
expect "unknown event kind" 422 invalid_value kind
api POST "/api/v1/patients/$PID/events" '{"kind":"death"}'
expect "event without date" 422 missing_field date
api PATCH "/api/v1/events/$OTHER" '{"kind":"death"}'
expect "turning an early event into a death" 422 invalid_date date
check_eq "rejected event requests changed nothing" "$(snapshot)" "$before"
api PATCH "/api/v1/events/$EID" '{"kind":"imaging_progression","note":null}'
expect "patch event" 200
wrote
check_eq "event patched" "$(jqb .kind)/$(jqb .note)" "imaging_progression/null"
api GET "/api/v1/patients/$PID/events" "" "$CLIN"
check_eq "events by date" "$(jqb '[.events[].kind] | join(",")')" "other,imaging_progression"
api DELETE "/api/v1/events/$OTHER"
expect "delete event" 200
wrote
api GET "/api/v1/patients/$PID/events"
check_eq "deleted event gone" "$(jqb '.events | length')" "1"
api DELETE /api/v1/events/999999
expect "delete unknown event" 404 not_found

# ---------------------------------------------------------------- samples
S1="{\"accession\":\"$ACC1\",\"collected_at\":\"2021-01-05\",\"received_at\":\"2021-01-06\",\"assay\":\"swgs\"}"
api POST "/api/v1/patients/$PID/samples" "$S1" "$LIMS"
expect "register sample" 201
wrote
SID=$(jqb .id)
check_eq "new sample is received" "$(jqb .status)/$(jqb .patient_id)/$(jqb .error)" \
    "received/$PID/null"
api POST "/api/v1/patients/$PID/samples" "$S1" "$LIMS"
expect "identical sample resend" 200
check_eq "resend returns the same sample" "$(jqb .id)" "$SID"
before=$(snapshot)
api POST "/api/v1/patients/$PID/samples" \
    "{\"accession\":\"$ACC1\",\"collected_at\":\"2021-01-05\",\"assay\":\"swgs\"}"
expect "resend without received_at" 200
api POST "/api/v1/patients/$PID/samples" "{\"accession\":\"$ACC1\",\"collected_at\":\"2021-01-05\",\"assay\":\"ddpcr\"}"
expect "same accession, other assay" 409 conflict assay
OTHERP=$(sql "SELECT id FROM patients WHERE external_id = 'HOSP-PG-2'")
api POST "/api/v1/patients/$OTHERP/samples" "$S1"
expect "same accession, other patient" 409 conflict accession
api POST "/api/v1/patients/$PID/samples" '{"accession":"'"$ACC2"'","collected_at":"2019-03-01","assay":"swgs"}'
expect "drawn over a year before diagnosis" 422 invalid_date collected_at
api POST "/api/v1/patients/$PID/samples" \
    '{"accession":"'"$ACC2"'","collected_at":"2021-03-01","received_at":"2021-02-27","assay":"swgs"}'
expect "received before collected" 422 invalid_date received_at
api POST "/api/v1/patients/$PID/samples" '{"accession":"'"$ACC2"'","collected_at":"2999-03-01","assay":"swgs"}'
expect "collected in the future" 422 invalid_date collected_at
api POST "/api/v1/patients/$PID/samples" '{"accession":"'"$ACC2"'","collected_at":"2021-03-01","assay":"wgs"}'
expect "unknown assay" 422 invalid_value assay
api POST "/api/v1/patients/$PID/samples" '{"accession":"'"$ACC2"'","collected_at":"2021-03-01","assay":"swgs","status":"done"}'
expect "status is not for clients" 422 unknown_field status
api POST "/api/v1/patients/$PID/samples" '{"accession":"S/2","collected_at":"2021-03-01","assay":"swgs"}'
expect "accession with a slash" 422 invalid_value accession
api POST "/api/v1/patients/$PID/samples" '{"accession":"'"$ACC2"'","collected_at":"2021-03-01","assay":"swgs"}' "$CLIN"
expect "clinician may not register samples" 403 forbidden
api PATCH "/api/v1/patients/$PID" '{"diagnosis_date":"2022-06-01"}'
expect "diagnosis after a sample's year" 422 invalid_date diagnosis_date
check_eq "rejected sample requests changed nothing" "$(snapshot)" "$before"
api POST "/api/v1/patients/$PID/samples" '{"accession":"'"$ACC2"'","collected_at":"2019-03-20","assay":"ddpcr"}'
expect "a draw within a year before diagnosis" 201
wrote
today=$(date -u +%Y-%m-%d)
check_eq "received_at defaults to today" "$(jqb .received_at)" "$today"
api GET "/api/v1/samples/$ACC1" "" "$CLIN"
expect "get sample by accession" 200
check_eq "sample by accession" "$(jqb .id)/$(jqb .assay)/$(jqb .collected_at)" "$SID/swgs/2021-01-05"
api GET /api/v1/samples/NO-SUCH-ACC
expect "unknown accession" 404 not_found
api GET "/api/v1/patients/$PID/samples" "" "$CLIN"
expect "list samples" 200
check_eq "samples by collection date" "$(jqb '[.samples[].accession] | join(",")')" "$ACC2,$ACC1"
api GET /api/v1/patients/999999/samples
expect "samples of an unknown patient" 404 not_found

# ---------------------------------------------------------------- audit trail
check_eq "one audit row per successful write" \
    "$(sql "SELECT count(*) FROM audit_log WHERE action <> 'read' AND entity_type IN ('patient', 'treatment', 'clinical_event', 'sample')")" \
    "$writes"
check_eq "every audit row names its entity and actor" \
    "$(sql "SELECT count(*) FROM audit_log WHERE entity_id IS NULL OR actor = '' OR at NOT LIKE '____-__-__T%'")" "0"

# ---------------------------------------------------------------- restart keeps everything
before=$(snapshot)
check "clean shutdown (SIGTERM, no leak report)" rw_stop_daemon
rw_start_daemon "$DIR" || { fail "cannot restart relapsewatchd"; done_tests; exit 1; }
BASE="$RW_URL"
check_eq "restart keeps every row" "$(snapshot)" "$before"
api GET "/api/v1/patients/$PID" "" "$LIMS"
expect "token and patient survive a restart" 200
check_eq "patient after restart" "$(jqb .external_id)/$(jqb .her2_status)" "$EXT1/positive"
api GET "/api/v1/samples/$ACC1" "" "$CLIN"
check_eq "sample after restart" "$(jqb .id)" "$SID"
api GET "/api/v1/patients/$PID/treatments" "" "$CLIN"
check_eq "treatment after restart" "$(jqb '.treatments[0].end_date')" "2020-09-30"
api POST /api/v1/patients "$P1" "$LIMS"
expect "the resend of the original after the patch" 409 conflict her2_status
api POST /api/v1/patients "{\"external_id\":\"$EXT1\",\"er_status\":\"positive\",\"pr_status\":\"negative\",
     \"her2_status\":\"positive\",\"diagnosis_date\":\"2020-03-15\",\"primary_1q213_status\":\"amplified\"}"
check_eq "idempotent after restart" "$code/$(jqb .id)" "200/$PID"
check "clean shutdown after the restart" rw_stop_daemon

# ---------------------------------------------------------------- no identifiers in the log
check "the daemon log is not empty" [ -s "$LOG" ]
check "the log names numeric ids" grep -q "created sample $SID" "$LOG"
check "no external_id in the log" sh -c "! grep -q -e '$EXT1' -e 'HOSP-PG-' '$LOG'"
check "no accession in the log" sh -c "! grep -q -e '$ACC1' -e '$ACC2' '$LOG'"

done_tests
