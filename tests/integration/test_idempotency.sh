#!/bin/sh
# Integration test of resends on the real daemon (issue 12, docs/api-corrections.md): the
# Idempotency-Key header of every POST (the first answer replayed for the same request, 422 for
# another request under the same key, keys scoped to the caller, kept across a
# restart) and the client external_id of treatments and clinical events (same content: 200 with
# the stored record; other content: 409; one row either way).
. "$RW_SRCDIR/tests/lib.sh"

D=$t_tmp/d
DB=$D/rw.db
sql() { sqlite3 -cmd '.timeout 5000' "$DB" "$@"; }
jqb() { jq -r "$@" "$RW_BODY"; }
HDR=$t_tmp/headers
# post TOKEN KEY PATH JSON: a POST with an Idempotency-Key (none when KEY is -); prints the status,
# the body in $RW_BODY and the headers in $HDR.
post() {
    local key="Idempotency-Key: $2"
    [ "$2" = - ] && key="X-No-Key: 1"
    curl -s -D "$HDR" -o "$RW_BODY" -w '%{http_code}' -X POST -H "Authorization: Bearer $1" \
        -H "$key" -H 'Content-Type: application/json' --data-binary "$4" "$RW_URL$3"
}
replayed() { grep -qi '^Idempotent-Replayed: true' "$HDR"; }
as() {
    local t=$1
    shift
    RW_TOKEN=$t rw_req "$@"
}

rw_start_daemon "$D" || { done_tests; exit 1; }
ADMIN=$RW_ADMIN_TOKEN
RW_TOKEN=$ADMIN
rw_req POST /api/v1/tokens '{"role":"lims","label":"lims-1"}' >/dev/null
LIMS=$(jqb .token)
rw_req POST /api/v1/tokens '{"role":"lims","label":"lims-2"}' >/dev/null
LIMS2=$(jqb .token)
rw_req POST /api/v1/tokens '{"role":"clinician","label":"dr-idem"}' >/dev/null
CLIN=$(jqb .token)

# ---------------------------------------------------------------- Idempotency-Key
P1='{"external_id":"IDEM-1","diagnosis_date":"2022-12-01"}'
check_eq "key: the first POST creates (201)" "$(post "$LIMS" k-1 /api/v1/patients "$P1")" 201
first=$(cat "$RW_BODY")
PID=$(jqb .id)
check "key: a first answer is not marked replayed" sh -c "! grep -qi '^Idempotent-Replayed' $HDR"
check_eq "key: the resend gets the first answer (201 again)" "$(post "$LIMS" k-1 /api/v1/patients "$P1")" 201
check_eq "key: ... byte for byte" "$(cat "$RW_BODY")" "$first"
check "key: ... marked Idempotent-Replayed" replayed
check_eq "key: one patient" "$(sql "SELECT count(*) FROM patients WHERE external_id = 'IDEM-1'")" 1
n=$(sql "SELECT count(*) FROM audit_log")
check_eq "key: another body under the same key (422)" \
    "$(post "$LIMS" k-1 /api/v1/patients '{"external_id":"IDEM-2","diagnosis_date":"2022-12-01"}')" 422
check_eq "key: ... code" "$(jqb .error.code)" idempotency_key_reused
check_eq "key: ... nothing written" \
    "$(sql "SELECT count(*) FROM patients WHERE external_id = 'IDEM-2'") $(sql "SELECT count(*) FROM audit_log")" "0 $n"
check_eq "key: another path under the same key (422)" \
    "$(post "$LIMS" k-1 "/api/v1/patients/$PID/samples" '{"accession":"IDEM-S1","collected_at":"2023-01-02","assay":"ddpcr"}')" 422
check_eq "key: another caller's key of the same text is another key (200: the patient exists)" \
    "$(post "$LIMS2" k-1 /api/v1/patients "$P1")" 200
check "key: ... not a replay" sh -c "! grep -qi '^Idempotent-Replayed' $HDR"
check_eq "key: an error answer is kept too (422 twice)" \
    "$(post "$LIMS" k-bad /api/v1/patients '{"external_id":"IDEM-3"}')/$(post "$LIMS" k-bad /api/v1/patients '{"external_id":"IDEM-3"}')" \
    422/422
check "key: ... replayed" replayed
long=$(head -c 300 /dev/zero | tr '\0' k)
check_eq "key: longer than 255 characters (400)" "$(post "$LIMS" "$long" /api/v1/patients "$P1")" 400
check_eq "key: ... code and field" "$(jqb .error.code)/$(jqb .error.field)" invalid_header/Idempotency-Key
check_eq "key: a control character (400)" \
    "$(curl -s -o "$RW_BODY" -w '%{http_code}' -X POST -H "Authorization: Bearer $LIMS" \
        -H "$(printf 'Idempotency-Key: a\tb')" -H 'Content-Type: application/json' \
        --data-binary "$P1" "$RW_URL/api/v1/patients")" 400
check_eq "key: the answers are stored with the route, never the raw path" \
    "$(sql "SELECT group_concat(DISTINCT route) FROM idempotency_keys WHERE key = 'k-1'")" /api/v1/patients
check_eq "key: an in-flight claim answers 409" \
    "$(sql "INSERT INTO idempotency_keys (caller, key, request_hash, route) SELECT caller, 'k-run', request_hash, route FROM idempotency_keys WHERE key = 'k-1' AND status = 201"; post "$LIMS" k-run /api/v1/patients "$P1")" 409
check_eq "key: ... code" "$(jqb .error.code)" idempotency_in_progress
check_eq "key: answers older than 24 h are forgotten" \
    "$(sql "UPDATE idempotency_keys SET created_at = '2000-01-01T00:00:00Z' WHERE key = 'k-bad'"; post "$LIMS" k-other /api/v1/patients "$P1" >/dev/null; sql "SELECT count(*) FROM idempotency_keys WHERE key = 'k-bad'")" 0
# Eight clients racing with one key: one write; each answer is the first one or "in progress".
for i in 1 2 3 4 5 6 7 8; do
    curl -s -o /dev/null -w '%{http_code}\n' -X POST -H "Authorization: Bearer $LIMS" \
        -H 'Idempotency-Key: k-race' -H 'Content-Type: application/json' \
        --data-binary '{"external_id":"IDEM-RACE","diagnosis_date":"2022-12-01"}' \
        "$RW_URL/api/v1/patients" >"$t_tmp/race.$i" &
done
wait
check_eq "key: racing resends write once" "$(sql "SELECT count(*) FROM patients WHERE external_id = 'IDEM-RACE'")" 1
check_eq "key: ... each answered 201 or 409" "$(cat "$t_tmp"/race.* | sort -u | grep -cv -e '^201$' -e '^409$')" 0
check_eq "key: a sample resent under its key after a restart" \
    "$(post "$LIMS" k-s1 "/api/v1/patients/$PID/samples" '{"accession":"IDEM-S1","collected_at":"2023-01-02","assay":"ddpcr"}')" 201
check "the daemon stops cleanly before the restart" rw_stop_daemon
rw_start_daemon "$D" || { done_tests; exit 1; }
check_eq "key: ... still replayed (201)" \
    "$(post "$LIMS" k-s1 "/api/v1/patients/$PID/samples" '{"accession":"IDEM-S1","collected_at":"2023-01-02","assay":"ddpcr"}')" 201
check "key: ... marked" replayed
check_eq "key: a GET ignores the header" \
    "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $LIMS" -H 'Idempotency-Key: k-1' "$RW_URL/api/v1/patients/$PID")" 200

check_eq "key: ignored where the answer shows a secret once (a token: two tokens)" \
    "$(post "$ADMIN" k-tok /api/v1/tokens '{"role":"lims","label":"twice"}')/$(post "$ADMIN" k-tok /api/v1/tokens '{"role":"lims","label":"twice"}')" \
    201/201
check_eq "key: ... no secret stored" \
    "$(sql "SELECT count(*) FROM idempotency_keys WHERE key = 'k-tok' OR body LIKE '%rw_%'") $(sql "SELECT count(*) FROM tokens WHERE label = 'twice'")" \
    "0 2"

# ---------------------------------------------------------------- external_id of treatments/events
T='{"kind":"chemotherapy","regimen":"EC-T","start_date":"2023-02-01","external_id":"EHR-T-1"}'
check_eq "treatment: created with its external_id (201)" \
    "$(as "$CLIN" POST "/api/v1/patients/$PID/treatments" "$T")" 201
TID=$(jqb .id)
check_eq "treatment: the external_id is stored" "$(jqb .external_id)" EHR-T-1
check_eq "treatment: the same resent (200, the stored record)" \
    "$(as "$CLIN" POST "/api/v1/patients/$PID/treatments" "$T")/$(jqb .id)" "200/$TID"
check_eq "treatment: other content under the same external_id (409)" \
    "$(as "$CLIN" POST "/api/v1/patients/$PID/treatments" '{"kind":"chemotherapy","regimen":"FEC","start_date":"2023-02-01","external_id":"EHR-T-1"}')" 409
check_eq "treatment: ... names the field" "$(jqb .error.code)/$(jqb .error.field)" conflict/regimen
check_eq "treatment: one row" "$(sql "SELECT count(*) FROM treatments WHERE external_id = 'EHR-T-1'")" 1
check_eq "treatment: without external_id, a resend is a new record (no key to match)" \
    "$(as "$CLIN" POST "/api/v1/patients/$PID/treatments" '{"kind":"surgery","start_date":"2023-01-10"}')" 201
check_eq "treatment: a bad external_id (422)" \
    "$(as "$CLIN" POST "/api/v1/patients/$PID/treatments" '{"kind":"surgery","start_date":"2023-01-10","external_id":"a b"}')" 422
check_eq "treatment: the external_id cannot change (422)" \
    "$(as "$CLIN" PATCH "/api/v1/treatments/$TID" '{"external_id":"EHR-T-2"}')" 422
E='{"kind":"clinical_relapse","date":"2024-02-01","note":"CT","external_id":"EHR-E-1"}'
check_eq "event: created (201)" "$(as "$CLIN" POST "/api/v1/patients/$PID/events" "$E")" 201
EID=$(jqb .id)
check_eq "event: resent (200, same id)" "$(as "$CLIN" POST "/api/v1/patients/$PID/events" "$E")/$(jqb .id)" "200/$EID"
check_eq "event: other date (409)" \
    "$(as "$CLIN" POST "/api/v1/patients/$PID/events" '{"kind":"clinical_relapse","date":"2024-02-02","note":"CT","external_id":"EHR-E-1"}')" 409
check_eq "event: the same external_id for another patient is another event (201)" \
    "$(post "$LIMS" - /api/v1/patients '{"external_id":"IDEM-9","diagnosis_date":"2022-12-01"}' >/dev/null
       as "$CLIN" POST "/api/v1/patients/$(jqb .id)/events" "$E")" 201
check_eq "event: one per patient" "$(sql "SELECT count(*) FROM clinical_events WHERE external_id = 'EHR-E-1'")" 2

check "the daemon stops cleanly (exit 0: no leak under ASan)" rw_stop_daemon
done_tests
