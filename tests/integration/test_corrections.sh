#!/bin/sh
# Integration test of the corrections of wrong data (issue 12, docs/api-corrections.md) on the
# real daemon over HTTP: a sample's date and assay corrected (PATCH), a draw moved to the right
# patient, a result retracted and un-retracted, a finished sample's input replaced, a patient
# erased with everything of hers; each with its roles, its audit row ({"before", "after"}), the
# alerts recomputed in the same transaction, and bad input answered 4xx with nothing changed.
# Also: ids are never reused (schema/008 AUTOINCREMENT) and the start-up sweep removes the files
# an erasure queued when the daemon stopped before removing them.
. "$RW_SRCDIR/tests/lib.sh"

D=$t_tmp/d
DB=$D/rw.db
sql() { sqlite3 -cmd '.timeout 5000' "$DB" "$@"; }
jqb() { jq -r "$@" "$RW_BODY"; }
as() { # as TOKEN METHOD PATH [JSON]: a request with that token; prints the status
    local t=$1
    shift
    RW_TOKEN=$t rw_req "$@"
}
audits() { sql "SELECT count(*) FROM audit_log"; }
# wells CN: one ddPCR well whose copy number is about CN (reference 1300 of 15000 droplets).
wells() {
    awk -v cn="$1" 'BEGIN { lr = -log(1 - 1300 / 15000); t = 15000 * (1 - exp(-lr * cn / 2));
        printf "{\"wells\":[{\"target_positive\":%d,\"reference_positive\":1300,\"droplets\":15000}]}", t }'
}
# upload ACCESSION CN: uploads ddPCR wells and waits for the job; prints its final state.
upload() {
    as "$LIMS" PUT "/api/v1/samples/$1/ddpcr" "$(wells "$2")" >"$t_tmp/code"
    rw_wait_job "$(jqb .job.id)" 60 "$ADMIN"
}
draw() { # draw PATIENT ACCESSION DATE [ASSAY]
    as "$LIMS" POST "/api/v1/patients/$1/samples" \
        "{\"accession\":\"$2\",\"collected_at\":\"$3\",\"assay\":\"${4:-ddpcr}\"}" >/dev/null
}
trend() { as "$CLIN" GET "/api/v1/patients/$1/trend" >/dev/null; }
live_alerts() { sql "SELECT count(*) FROM alerts WHERE patient_id = $1 AND retracted_at IS NULL"; }
sample_id() { sql "SELECT id FROM samples WHERE accession = '$1'"; }

# ---------------------------------------------------------------- 7a. the upgrade keeps every row
# A database at schema 005 (as an older relapsewatchd left it), with a patient deleted before the
# upgrade (id 3, named by the audit trail), is upgraded by the daemon: every row and column of
# 001-005 survives the table rebuilds of 008, and id 3 is never given again.
U=$t_tmp/up
mkdir -p "$U"
{
    cat "$RW_SRCDIR"/schema/00[1-5]_*.sql
    echo "CREATE TABLE schema_migrations (number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL);"
    for n in 1 2 3 4 5; do echo "INSERT INTO schema_migrations VALUES ($n, 'old', '2024-01-01T00:00:00Z');"; done
    echo "PRAGMA user_version = 5;"
    cat <<'SQL'
INSERT INTO patients (id, external_id, er_status, diagnosis_date, primary_1q213_status, primary_1q213_cn, created_at, updated_at)
VALUES (1, 'OLD-1', 'positive', '2020-01-02', 'amplified', 5.5, '2020-01-03T00:00:00Z', '2020-01-04T00:00:00Z'),
       (2, 'OLD-2', 'negative', '2020-02-02', 'unknown', NULL, '2020-02-03T00:00:00Z', '2020-02-04T00:00:00Z');
INSERT INTO treatments (id, patient_id, kind, regimen, start_date, end_date) VALUES (5, 1, 'chemotherapy', 'EC-T', '2020-03-01', '2020-06-01');
INSERT INTO clinical_events (id, patient_id, date, kind, note) VALUES (2, 2, '2021-01-01', 'other', 'n');
INSERT INTO samples (id, accession, patient_id, collected_at, received_at, assay, status, error)
VALUES (7, 'OLD-S7', 1, '2020-04-01', '2020-04-02', 'ddpcr', 'done', NULL),
       (8, 'OLD-S8', 2, '2020-05-01', '2020-05-02', 'bins', 'failed', 'no panel');
INSERT INTO jobs (id, sample_id, kind, state, progress, attempts) VALUES (9, 7, 'analyse', 'done', 100, 1);
INSERT INTO results (sample_id, job_id, assay, core_version, settings, ratio, call, strong, quality)
VALUES (7, 9, 'ddpcr', 'old', '{}', 1.9, 'amplified', 1, NULL);
INSERT INTO alerts (id, patient_id, kind, rule, fired_on, sample_id, evidence, acknowledged_at, acknowledged_by, ack_comment)
VALUES (4, 1, 'early_relapse', 'strong_positive', '2020-04-01', 7, '{}', '2020-04-05T00:00:00Z', 'dr-x', 'seen');
INSERT INTO audit_log (actor, action, entity_type, entity_id) VALUES ('lims', 'delete', 'patient', 3);
SQL
} | sqlite3 "$U/rw.db"
snapshot() { # every 001-005 column of the rebuilt tables, in id order
    sqlite3 "$U/rw.db" "SELECT id, external_id, er_status, pr_status, her2_status, diagnosis_date, primary_1q213_status, primary_1q213_cn, created_at, updated_at FROM patients ORDER BY id;
SELECT id, patient_id, kind, regimen, start_date, end_date, created_at, updated_at FROM treatments ORDER BY id;
SELECT id, patient_id, date, kind, note, created_at, updated_at FROM clinical_events ORDER BY id;
SELECT id, accession, patient_id, collected_at, received_at, assay, status, error, created_at, updated_at FROM samples ORDER BY id;
SELECT id, sample_id, kind, state, progress, error, attempts, created_at, started_at, finished_at FROM jobs ORDER BY id;
SELECT id, patient_id, kind, rule, fired_on, sample_id, evidence, closed_by, closed_on, created_at, retracted_at, acknowledged_at, acknowledged_by, ack_comment FROM alerts ORDER BY id;
SELECT sample_id, job_id, ratio, call FROM results ORDER BY sample_id;"
}
before=$(snapshot)
rw_start_daemon "$U" || { done_tests; exit 1; }
check_eq "upgrade: schema 008 applied" "$(sqlite3 "$U/rw.db" "SELECT count(*) FROM schema_migrations WHERE number = 8")" 1
check_eq "upgrade: every row and column of 001-005 kept" "$(snapshot)" "$before"
check_eq "upgrade: foreign keys hold" "$(sqlite3 "$U/rw.db" "PRAGMA foreign_key_check" | wc -l)" 0
check_eq "upgrade: indexes recreated" \
    "$(sqlite3 "$U/rw.db" "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN ('samples_patient', 'samples_status', 'treatments_patient', 'clinical_events_patient', 'jobs_state', 'jobs_sample', 'alerts_identity', 'alerts_patient', 'alerts_open')")" 9
RW_TOKEN=$RW_ADMIN_TOKEN rw_req POST /api/v1/tokens '{"role":"lims","label":"lims"}' >/dev/null
RW_TOKEN=$(jq -r .token "$RW_BODY") rw_req POST /api/v1/patients '{"external_id":"NEW-1","diagnosis_date":"2022-12-01"}' >/dev/null
check_eq "upgrade: the id the audit trail named (3) is not given again" "$(jq -r .id "$RW_BODY")" 4
check "upgrade: the daemon stops cleanly" rw_stop_daemon

rw_start_daemon "$D" || { done_tests; exit 1; }
ADMIN=$RW_ADMIN_TOKEN
RW_TOKEN=$ADMIN
rw_req POST /api/v1/tokens '{"role":"lims","label":"lims"}' >/dev/null
LIMS=$(jqb .token)
rw_req POST /api/v1/tokens '{"role":"clinician","label":"dr-okafor"}' >/dev/null
CLIN=$(jqb .token)

# Two patients, each operated on; A has a negative draw, then a strong positive: early_relapse.
as "$LIMS" POST /api/v1/patients '{"external_id":"CORR-A","diagnosis_date":"2022-12-01"}' >/dev/null
PA=$(jqb .id)
as "$LIMS" POST /api/v1/patients '{"external_id":"CORR-B","diagnosis_date":"2022-11-01"}' >/dev/null
PB=$(jqb .id)
for p in "$PA" "$PB"; do
    as "$CLIN" POST "/api/v1/patients/$p/treatments" \
        '{"kind":"surgery","start_date":"2023-01-10","end_date":"2023-01-10"}' >/dev/null
done
draw "$PA" CA-1 2023-02-01
draw "$PA" CA-2 2023-05-02
draw "$PB" CB-1 2023-02-15
check_eq "A: negative draw analysed" "$(upload CA-1 2)" done
check_eq "A: strong positive analysed" "$(upload CA-2 5)" done
check_eq "B: negative draw analysed" "$(upload CB-1 2)" done
check_eq "A: one live alert (early_relapse) before any correction" "$(live_alerts "$PA")" 1
ALERT_A=$(sql "SELECT id FROM alerts WHERE patient_id = $PA")
check_eq "B: no alert" "$(live_alerts "$PB")" 0
S2=$(sample_id CA-2)

# ---------------------------------------------------------------- 1. PATCH a sample
n0=$(audits)
check_eq "PATCH: the LIMS may not correct a sample with a result (403)" \
    "$(as "$LIMS" PATCH /api/v1/samples/CA-2 '{"collected_at":"2023-05-03"}')" 403
check_eq "PATCH: clinician refused (403)" \
    "$(as "$CLIN" PATCH /api/v1/samples/CA-2 '{"collected_at":"2023-05-03"}')" 403
check_eq "PATCH: unknown field (422)" "$(as "$ADMIN" PATCH /api/v1/samples/CA-2 '{"status":"done"}')" 422
check_eq "PATCH: ... named" "$(jqb .error.code)/$(jqb .error.field)" unknown_field/status
check_eq "PATCH: empty body (422)" "$(as "$ADMIN" PATCH /api/v1/samples/CA-2 '{}')" 422
check_eq "PATCH: not a date (422)" \
    "$(as "$ADMIN" PATCH /api/v1/samples/CA-2 '{"collected_at":"2023-02-30"}')" 422
check_eq "PATCH: drawn > 1 year before the diagnosis (422)" \
    "$(as "$ADMIN" PATCH /api/v1/samples/CA-2 '{"collected_at":"2021-01-01"}')" 422
check_eq "PATCH: ... code and field" "$(jqb .error.code)/$(jqb .error.field)" invalid_date/collected_at
check_eq "PATCH: received before drawn (422)" \
    "$(as "$ADMIN" PATCH /api/v1/samples/CA-2 '{"collected_at":"2030-01-01"}')" 422
check_eq "PATCH: received before the new draw date (422)" \
    "$(as "$ADMIN" PATCH /api/v1/samples/CA-2 '{"received_at":"2023-05-01"}')" 422
check_eq "PATCH: ... field" "$(jqb .error.field)" received_at
check_eq "PATCH: the assay cannot change under an input (409)" \
    "$(as "$ADMIN" PATCH /api/v1/samples/CA-2 '{"assay":"bins"}')" 409
check_eq "PATCH: ... code" "$(jqb .error.code)" input_exists
check_eq "PATCH: unknown sample (404)" \
    "$(as "$ADMIN" PATCH /api/v1/samples/NOPE '{"collected_at":"2023-05-03"}')" 404
check_eq "PATCH: refusals changed nothing" \
    "$(sql "SELECT collected_at || ' ' || assay FROM samples WHERE id = $S2") $(audits)" \
    "2023-05-02 ddpcr $n0"
check_eq "PATCH: an admin corrects the draw date (200)" \
    "$(as "$ADMIN" PATCH /api/v1/samples/CA-2 '{"collected_at":"2023-05-03"}')" 200
check_eq "PATCH: the answer is the corrected sample" "$(jqb .collected_at)/$(jqb .accession)" \
    2023-05-03/CA-2
check_eq "PATCH: audited with the old and the new value" \
    "$(sql "SELECT action || ' ' || json_extract(details, '$.before.collected_at') || ' ' || json_extract(details, '$.after.collected_at') FROM audit_log WHERE entity_type = 'sample' AND entity_id = $S2 ORDER BY id DESC LIMIT 1")" \
    "update 2023-05-02 2023-05-03"
check_eq "PATCH: the alert was recomputed (same alert, new date)" \
    "$(sql "SELECT id || ' ' || fired_on FROM alerts WHERE patient_id = $PA AND retracted_at IS NULL")" \
    "$ALERT_A 2023-05-03"
draw "$PA" CA-3 2023-06-01
check_eq "PATCH: the LIMS corrects a draw without a result (200)" \
    "$(as "$LIMS" PATCH /api/v1/samples/CA-3 '{"collected_at":"2023-06-02","received_at":"2023-06-03"}')" 200
check_eq "PATCH: ... and its assay while it has no input (200)" \
    "$(as "$LIMS" PATCH /api/v1/samples/CA-3 '{"assay":"bins"}')" 200
check_eq "PATCH: the time of the draw (200)" \
    "$(as "$LIMS" PATCH /api/v1/samples/CA-3 '{"collected_time":"08:45"}')/$(jqb .collected_time)" 200/08:45
check_eq "PATCH: a bad time (422)" "$(as "$LIMS" PATCH /api/v1/samples/CA-3 '{"collected_time":"25:00"}')" 422
check_eq "PATCH: ... field" "$(jqb .error.field)" collected_time
check_eq "PATCH: stored" "$(sql "SELECT collected_at || ' ' || received_at || ' ' || assay FROM samples WHERE accession = 'CA-3'")" \
    "2023-06-02 2023-06-03 bins"

# ---------------------------------------------------------------- 2. move to another patient
n0=$(audits)
check_eq "move: LIMS refused (403)" \
    "$(as "$LIMS" POST /api/v1/samples/CA-2/move "{\"patient_id\":$PB,\"reason\":\"swap\"}")" 403
check_eq "move: clinician refused (403)" \
    "$(as "$CLIN" POST /api/v1/samples/CA-2/move "{\"patient_id\":$PB,\"reason\":\"swap\"}")" 403
check_eq "move: a reason is required (422)" \
    "$(as "$ADMIN" POST /api/v1/samples/CA-2/move "{\"patient_id\":$PB}")" 422
check_eq "move: ... named" "$(jqb .error.field)" reason
check_eq "move: no such patient (422)" \
    "$(as "$ADMIN" POST /api/v1/samples/CA-2/move '{"patient_id":999999,"reason":"swap"}')" 422
check_eq "move: already hers (422)" \
    "$(as "$ADMIN" POST /api/v1/samples/CA-2/move "{\"patient_id\":$PA,\"reason\":\"swap\"}")" 422
check_eq "move: patient_id must be an integer (422)" \
    "$(as "$ADMIN" POST /api/v1/samples/CA-2/move '{"patient_id":"2","reason":"swap"}')" 422
check_eq "move: refusals changed nothing" \
    "$(sql "SELECT patient_id FROM samples WHERE id = $S2") $(audits)" "$PA $n0"
check_eq "move: the admin moves the swapped draw to B (200)" \
    "$(as "$ADMIN" POST /api/v1/samples/CA-2/move "{\"patient_id\":$PB,\"reason\":\"tube swapped at the ward\"}")" 200
check_eq "move: the answer names B" "$(jqb .patient_id)" "$PB"
check_eq "move: audited with both patients and the reason" \
    "$(sql "SELECT action || ' ' || json_extract(details, '$.before.patient_id') || ' ' || json_extract(details, '$.after.patient_id') || ' ' || json_extract(details, '$.reason') FROM audit_log WHERE entity_type = 'sample' AND entity_id = $S2 ORDER BY id DESC LIMIT 1")" \
    "move $PA $PB tube swapped at the ward"
check_eq "move: A's alert is retracted (kept in her history)" \
    "$(sql "SELECT retracted_at IS NOT NULL FROM alerts WHERE id = $ALERT_A")/$(live_alerts "$PA")" 1/0
trend "$PA"
check_eq "move: A's trend no longer shows the draw" "$(jqb '[.series[].sample_id] | index('"$S2"')')" null
check_eq "move: A's state recomputed" "$(jqb .state)" not_detected
trend "$PB"
check_eq "move: B's trend shows it" "$(jqb '[.series[].sample_id] | index('"$S2"') != null')" true
check_eq "move: B's alert raised by it, a new alert row" \
    "$(sql "SELECT count(*) || ' ' || (id != $ALERT_A) FROM alerts WHERE patient_id = $PB AND sample_id = $S2 AND retracted_at IS NULL")" \
    "1 1"
ALERT_B=$(sql "SELECT id FROM alerts WHERE patient_id = $PB AND sample_id = $S2")

# ---------------------------------------------------------------- 3. retract a result
n0=$(audits)
check_eq "retract: LIMS refused (403)" \
    "$(as "$LIMS" POST /api/v1/samples/CA-2/retract '{"reason":"x"}')" 403
check_eq "retract: a reason is required (422)" "$(as "$CLIN" POST /api/v1/samples/CA-2/retract '{}')" 422
check_eq "retract: an empty reason (422)" \
    "$(as "$CLIN" POST /api/v1/samples/CA-2/retract '{"reason":""}')" 422
check_eq "retract: unknown sample (404)" \
    "$(as "$CLIN" POST /api/v1/samples/NOPE/retract '{"reason":"x"}')" 404
check_eq "un-retract of a counted result (409)" "$(as "$CLIN" DELETE /api/v1/samples/CA-2/retract)" 409
check_eq "retract: refusals changed nothing" \
    "$(sql "SELECT retracted_at IS NULL FROM samples WHERE id = $S2") $(audits)" "1 $n0"
check_eq "retract: a clinician retracts the result (200)" \
    "$(as "$CLIN" POST /api/v1/samples/CA-2/retract '{"reason":"haemolysed tube"}')" 200
check_eq "retract: the answer shows it" "$(jqb .retraction_reason)/$(jqb .retracted_by)" \
    "haemolysed tube/dr-okafor"
trend "$PB"
check_eq "retract: the trend keeps the draw, retracted, skipped, with the reason" \
    "$(jqb ".series[] | select(.sample_id == $S2) | \"\(.retracted) \(.skipped) \(.retraction_reason) \(.ratio != null)\"")" \
    "true true haemolysed tube true"
check_eq "retract: other draws are not retracted" \
    "$(jqb "[.series[] | select(.sample_id != $S2) | .retracted] | unique | join(\",\")")" false
check_eq "retract: B's alert retracted, state recomputed" \
    "$(live_alerts "$PB") $(jqb .state)" "0 not_detected"
check_eq "retract: audited" \
    "$(sql "SELECT action || ' ' || json_extract(details, '$.after.retraction_reason') || ' ' || json_type(details, '$.before.retracted_at') FROM audit_log WHERE entity_type = 'sample' AND entity_id = $S2 ORDER BY id DESC LIMIT 1")" \
    "retract haemolysed tube null"
n0=$(audits)
check_eq "retract: a resend is answered the same (200)" \
    "$(as "$CLIN" POST /api/v1/samples/CA-2/retract '{"reason":"haemolysed tube"}')" 200
check_eq "retract: ... without a second audit row" "$(audits)" "$n0"
check_eq "retract: another reason conflicts (409)" \
    "$(as "$CLIN" POST /api/v1/samples/CA-2/retract '{"reason":"other"}')" 409
check_eq "un-retract (200)" "$(as "$CLIN" DELETE /api/v1/samples/CA-2/retract)" 200
check_eq "un-retract: the same alert is live again" \
    "$(sql "SELECT id FROM alerts WHERE patient_id = $PB AND retracted_at IS NULL")" "$ALERT_B"
trend "$PB"
check_eq "un-retract: the draw counts again" \
    "$(jqb ".series[] | select(.sample_id == $S2) | \"\(.retracted) \(.skipped) \(.retraction_reason)\"")" \
    "false false null"

# ---------------------------------------------------------------- 4. replace a finished input
S1=$(sample_id CA-1)
check_eq "a finished sample refuses another input (409)" \
    "$(as "$LIMS" PUT /api/v1/samples/CA-1/ddpcr "$(wells 3)")" 409
n0=$(audits)
check_eq "replace-input: LIMS refused (403)" \
    "$(as "$LIMS" POST /api/v1/samples/CA-1/replace-input '{"reason":"x"}')" 403
check_eq "replace-input: a reason is required (422)" \
    "$(as "$ADMIN" POST /api/v1/samples/CA-1/replace-input '{"why":"x"}')" 422
check_eq "replace-input: a sample without input (409)" \
    "$(as "$ADMIN" POST /api/v1/samples/CA-3/replace-input '{"reason":"x"}')" 409
check_eq "replace-input: ... code" "$(jqb .error.code)" no_input
check_eq "replace-input: refusals changed nothing" \
    "$(sql "SELECT status || ' ' || (SELECT count(*) FROM results WHERE sample_id = $S1) FROM samples WHERE id = $S1") $(audits)" \
    "done 1 $n0"
check_eq "replace-input: the admin resets the input (200)" \
    "$(as "$ADMIN" POST /api/v1/samples/CA-1/replace-input '{"reason":"wrong plate exported"}')" 200
check_eq "replace-input: the sample waits for a new input" "$(jqb .status)" received
check_eq "replace-input: input and result dropped" \
    "$(sql "SELECT (SELECT count(*) FROM results WHERE sample_id = $S1) + (SELECT count(*) FROM sample_inputs WHERE sample_id = $S1)")" 0
check_eq "replace-input: audited with the old input and result" \
    "$(sql "SELECT action || ' ' || json_extract(details, '$.before.input.kind') || ' ' || json_extract(details, '$.before.result.call') || ' ' || json_extract(details, '$.reason') FROM audit_log WHERE entity_type = 'sample' AND entity_id = $S1 ORDER BY id DESC LIMIT 1")" \
    "replace_input ddpcr not_detected wrong plate exported"
trend "$PA"
check_eq "replace-input: the draw is in the trend without a value" \
    "$(jqb ".series[] | select(.sample_id == $S1) | \"\(.ratio) \(.status)\"")" "null received"
check_eq "replace-input: the next upload is accepted" "$(upload CA-1 3)" done
check_eq "replace-input: the new result is stored" \
    "$(sql "SELECT printf('%.1f', ratio * 2) FROM results WHERE sample_id = $S1")" 3.0
# A file input: a bins upload without a panel is stored, and its job fails; its file goes.
"$RW_BUILDDIR/relapsewatch" simulate --ideal --depth 0.1 --seed 7 --bins "$t_tmp/b.tsv" >/dev/null 2>&1
curl -s -o "$RW_BODY" -X PUT -H "Authorization: Bearer $LIMS" --data-binary "@$t_tmp/b.tsv" \
    -H 'Content-Type: text/tab-separated-values' "$RW_URL/api/v1/samples/CA-3/bins"
rw_wait_job "$(jqb .job.id)" 60 "$ADMIN" >/dev/null
F3=$D/data/$(sql "SELECT path FROM sample_inputs i JOIN samples s ON s.id = i.sample_id WHERE s.accession = 'CA-3'")
check "replace-input: the bins file is stored" test -f "$F3"
check_eq "replace-input: of a file input (200)" \
    "$(as "$ADMIN" POST /api/v1/samples/CA-3/replace-input '{"reason":"wrong file"}')" 200
check "replace-input: the old file is removed after the commit" test ! -e "$F3"
check_eq "replace-input: nothing left queued" "$(sql "SELECT count(*) FROM file_removals")" 0

# ---------------------------------------------------------------- 5. erase a patient
as "$CLIN" POST "/api/v1/patients/$PA/events" '{"kind":"other","date":"2023-03-01","note":"x"}' >/dev/null
as "$CLIN" POST "/api/v1/alerts/$ALERT_A/acknowledge" '{"comment":"seen"}' >/dev/null
# A file of hers: CA-3's new bins upload.
curl -s -o "$RW_BODY" -X PUT -H "Authorization: Bearer $LIMS" --data-binary "@$t_tmp/b.tsv" \
    -H 'Content-Type: text/tab-separated-values' "$RW_URL/api/v1/samples/CA-3/bins"
rw_wait_job "$(jqb .job.id)" 60 "$ADMIN" >/dev/null
S3=$(sample_id CA-3)
check "erase: her sample folder exists" test -d "$D/data/samples/$S3"
EVENTS_A=$(sql "SELECT count(*) FROM outbox_events WHERE patient_id = $PA OR sample_id IN ($S1, $S3)")
check "erase: webhook events about her exist before" test "$EVENTS_A" -gt 0
n0=$(audits)
check_eq "erase: LIMS refused (403)" "$(as "$LIMS" DELETE "/api/v1/patients/$PA")" 403
check_eq "erase: clinician refused (403)" "$(as "$CLIN" DELETE "/api/v1/patients/$PA")" 403
check_eq "erase: unknown patient (404)" "$(as "$ADMIN" DELETE /api/v1/patients/999999)" 404
check_eq "erase: a body is refused (400)" "$(as "$ADMIN" DELETE "/api/v1/patients/$PA" '{}')" 400
check_eq "erase: refusals changed nothing" "$(sql "SELECT count(*) FROM patients WHERE id = $PA") $(audits)" "1 $n0"
check_eq "erase: the admin erases patient A (200)" "$(as "$ADMIN" DELETE "/api/v1/patients/$PA")" 200
check_eq "erase: the answer counts what went" \
    "$(jqb '"\(.erased) \(.deleted.samples) \(.deleted.treatments) \(.deleted.events) \(.deleted.patients)"')" \
    "true 2 1 1 1"
check_eq "erase: she is gone" "$(as "$CLIN" GET "/api/v1/patients/$PA")" 404
check_eq "erase: no row of hers is left" \
    "$(sql "SELECT (SELECT count(*) FROM samples WHERE patient_id = $PA) + (SELECT count(*) FROM treatments WHERE patient_id = $PA) + (SELECT count(*) FROM clinical_events WHERE patient_id = $PA) + (SELECT count(*) FROM alerts WHERE patient_id = $PA) + (SELECT count(*) FROM patient_state WHERE patient_id = $PA) + (SELECT count(*) FROM jobs WHERE sample_id IN ($S1, $S3)) + (SELECT count(*) FROM results WHERE sample_id IN ($S1, $S3)) + (SELECT count(*) FROM sample_inputs WHERE sample_id IN ($S1, $S3))")" 0
check "erase: her sample folders are removed" test ! -e "$D/data/samples/$S3"
check_eq "erase: audited by internal id" \
    "$(sql "SELECT action || ' ' || entity_type || ' ' || json_extract(details, '$.erased') FROM audit_log WHERE entity_id = $PA AND action = 'erase'")" \
    "erase patient 1"
check_eq "erase: no audit row holds her external id" \
    "$(sql "SELECT count(*) FROM audit_log WHERE details LIKE '%CORR-A%'")" 0
check_eq "erase: the moved draw stays B's" "$(sql "SELECT patient_id FROM samples WHERE id = $S2")" "$PB"
check_eq "erase: B untouched" "$(live_alerts "$PB")" 1
check_eq "erase: no webhook event about her is left, their ids kept" \
    "$(sql "SELECT count(*) FROM outbox_events WHERE patient_id = $PA OR sample_id IN ($S1, $S3)") $(sql "SELECT count(*) FROM outbox_events WHERE data = '{\"erased\":true}' AND fanned_out = 1")" \
    "0 $EVENTS_A"
check_eq "erase: the log names no identifier" "$(grep -c -e CORR-A -e CA-1 -e 'haemolysed' "$D/log")" 0

# ---------------------------------------------------------------- 7. ids are never reused
as "$LIMS" POST /api/v1/patients '{"external_id":"CORR-C","diagnosis_date":"2022-12-01"}' >/dev/null
check "ids: a new patient does not take the erased one's id" test "$(jqb .id)" -gt "$PB"
PC=$(jqb .id)
as "$CLIN" POST "/api/v1/patients/$PC/treatments" '{"kind":"other","start_date":"2023-01-01"}' >/dev/null
T1=$(jqb .id)
as "$CLIN" DELETE "/api/v1/treatments/$T1" >/dev/null
as "$CLIN" POST "/api/v1/patients/$PC/treatments" '{"kind":"other","start_date":"2023-01-01"}' >/dev/null
check "ids: a treatment after a deletion gets a new id" test "$(jqb .id)" -gt "$T1"
check_eq "ids: the tables are AUTOINCREMENT" \
    "$(sql "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_sequence WHERE name IN ('patients', 'samples', 'treatments', 'clinical_events', 'jobs', 'alerts') ORDER BY name)")" \
    alerts,clinical_events,jobs,patients,samples,treatments

# ---------------------------------------------------------------- start-up sweep
# An erasure whose daemon stopped between its COMMIT and the removal left the paths queued.
draw "$PB" CB-2 2023-06-01 bins
curl -s -o "$RW_BODY" -X PUT -H "Authorization: Bearer $LIMS" --data-binary "@$t_tmp/b.tsv" \
    -H 'Content-Type: text/tab-separated-values' "$RW_URL/api/v1/samples/CB-2/bins"
rw_wait_job "$(jqb .job.id)" 60 "$ADMIN" >/dev/null
KEEP=$(sql "SELECT path FROM sample_inputs i JOIN samples s ON s.id = i.sample_id WHERE s.accession = 'CB-2'")
check "sweep: B's stored input exists" test -f "$D/data/$KEEP"
check "the daemon stops cleanly before the sweep" rw_stop_daemon
sql "INSERT INTO file_removals (path) VALUES ('$KEEP')"
mkdir -p "$D/data/samples/424242"
echo x >"$D/data/samples/424242/old.tsv"
sql "INSERT INTO file_removals (path) VALUES ('samples/424242')"
sql "INSERT INTO file_removals (path) VALUES ('../outside')"
echo keep >"$D/outside"
rw_start_daemon "$D" || { done_tests; exit 1; }
check "sweep: the queued folder is removed at start-up" test ! -e "$D/data/samples/424242"
check "sweep: a path outside the data folder is never removed" test -f "$D/outside"
check "sweep: a file a row still names is kept" test -f "$D/data/$KEEP"
check_eq "sweep: the queue is empty" "$(sql "SELECT count(*) FROM file_removals")" 0

# ---------------------------------------------------------------- a job in the way
# Every job held 5 s after its claim (the daemon's test hook): while B's job runs, her input
# cannot be replaced nor can she be erased; nothing changes.
check "the daemon stops cleanly before the slow jobs" rw_stop_daemon
RELAPSEWATCHD_TEST_JOB_DELAY_MS=5000 rw_start_daemon "$D" || { done_tests; exit 1; }
draw "$PB" CB-3 2023-07-01
as "$LIMS" PUT /api/v1/samples/CB-3/ddpcr "$(wells 2)" >/dev/null
n=0
while [ "$(sql "SELECT count(*) FROM jobs j JOIN samples s ON s.id = j.sample_id WHERE s.accession = 'CB-3' AND j.state = 'running'")" = 0 ] && [ $n -lt 50 ]; do
    sleep 0.1
    n=$((n + 1))
done
n0=$(audits)
check_eq "replace-input: refused while the sample's job runs (409)" \
    "$(as "$ADMIN" POST /api/v1/samples/CB-3/replace-input '{"reason":"x"}')/$(jqb .error.code)" 409/job_active
check_eq "erase: refused while one of her jobs runs (409)" \
    "$(as "$ADMIN" DELETE "/api/v1/patients/$PB")/$(jqb .error.code)" 409/job_running
check_eq "... nothing changed" \
    "$(sql "SELECT count(*) FROM patients WHERE id = $PB") $(sql "SELECT count(*) FROM sample_inputs i JOIN samples s ON s.id = i.sample_id WHERE s.accession = 'CB-3'") $(audits)" \
    "1 1 $n0"

check "the daemon stops cleanly (exit 0: no leak under ASan)" rw_stop_daemon
done_tests
