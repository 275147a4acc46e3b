#!/bin/sh
# The audit trail: reads of a patient's data are recorded (who, when, from where, what), every
# row is chained by a SHA-256 to the one before, the daemon refuses to change or delete a row,
# and an edit or deletion made behind its back (sqlite3 with the triggers dropped) is found by
# `relapsewatchd --verify-audit` (exit 1, naming the row) and GET /api/v1/admin/audit/verify.
# The admin listing filters, pages with a cursor and exports CSV. Real daemon, HTTP and SQLite.
. "$RW_SRCDIR/tests/lib.sh"

D=$t_tmp/d
DB=$D/rw.db
sql() { sqlite3 -cmd '.timeout 5000' "$1" "$2"; }
verify() { "$RW_DAEMON" --db "$1" --verify-audit >"$t_tmp/verify.out" 2>&1; }

rw_start_daemon "$D" || { done_tests; exit 1; }
RW_TOKEN=$RW_ADMIN_TOKEN
rw_req POST /api/v1/tokens '{"role":"lims","label":"lims-robot"}' >/dev/null
LIMS=$(jq -r .token "$RW_BODY")
rw_req POST /api/v1/tokens '{"role":"clinician","label":"dr-audit"}' >/dev/null
CLIN=$(jq -r .token "$RW_BODY")
RW_TOKEN=$LIMS
rw_req POST /api/v1/patients '{"external_id":"P-AUD","diagnosis_date":"2024-01-01"}' >/dev/null
PAT=$(jq -r .id "$RW_BODY")
rw_req POST "/api/v1/patients/$PAT/samples" \
    '{"accession":"S-AUD","collected_at":"2024-03-01","assay":"bins"}' >/dev/null
SID=$(jq -r .id "$RW_BODY")

# ---------------------------------------------------------------- reads are recorded
RW_TOKEN=$CLIN
check_eq "patient read" "$(rw_req GET "/api/v1/patients/$PAT")" 200
check_eq "trend read" "$(rw_req GET "/api/v1/patients/$PAT/trend")" 200
check_eq "samples of the patient read" "$(rw_req GET "/api/v1/patients/$PAT/samples")" 200
check_eq "sample read" "$(rw_req GET /api/v1/samples/S-AUD)" 200
check_eq "a 404 read" "$(rw_req GET /api/v1/patients/999999)" 404
RW_TOKEN=$RW_ADMIN_TOKEN
check_eq "reads by dr-audit listed" \
    "$(rw_req GET '/api/v1/admin/audit?actor=dr-audit&action=read')" 200
check_eq "four reads (the 404 is not one)" "$(jq '.entries | length' "$RW_BODY")" 4
check_eq "who, what and from where" \
    "$(jq -r '.entries[0] | [.actor, .entity_type, .entity_id, .client, .details.route] | @tsv' "$RW_BODY")" \
    "$(printf 'dr-audit\tpatient\t%s\t127.0.0.1\t/api/v1/patients/{id}' "$PAT")"
check_eq "the sample read names its patient" \
    "$(jq -r ".entries[3] | [.entity_type, .entity_id, .details.patient_id] | @tsv" "$RW_BODY")" \
    "$(printf 'sample\t%s\t%s' "$SID" "$PAT")"
rw_req GET "/api/v1/admin/audit?patient_id=$PAT" >/dev/null
check_eq "patient filter: its creation, its sample's, and 4 reads" \
    "$(jq '[.entries[].action] | sort | join(",")' "$RW_BODY")" '"create,create,read,read,read,read"'
rw_req GET '/api/v1/admin/audit?limit=1000' >/dev/null
check_eq "the full trail chains row by row" \
    "$(jq '.entries | (.[1:] | map(.prev_hash)) == (.[:-1] | map(.hash))' "$RW_BODY")" true
TOTAL=$(jq '.entries | length' "$RW_BODY")

# cursor paging: pages of 3 cover the whole trail once
n=0
cursor=""
pages=0
while :; do
    rw_req GET "/api/v1/admin/audit?limit=3${cursor:+&cursor=$cursor}" >/dev/null
    n=$((n + $(jq '.entries | length' "$RW_BODY")))
    pages=$((pages + 1))
    cursor=$(jq -r '.next_cursor // empty' "$RW_BODY")
    [ -n "$cursor" ] && [ $pages -lt 50 ] || break
done
check_eq "pages of 3 cover every row once" "$n" "$TOTAL"
check_eq "an unknown filter is refused" "$(rw_req GET '/api/v1/admin/audit?who=x')" 422
rw_req GET "/api/v1/admin/audit?from=2000-01-01&to=2100-01-01T00:00:00Z&limit=1000" >/dev/null
check_eq "a time range around now holds every row" "$(jq '.entries | length' "$RW_BODY")" "$TOTAL"
rw_req GET "/api/v1/admin/audit?to=2000-01-01" >/dev/null
check_eq "nothing before 2000" "$(jq '.entries | length' "$RW_BODY")" 0
check_eq "a malformed time is refused" "$(rw_req GET '/api/v1/admin/audit?from=yesterday')" 422
check_eq "... naming the parameter" "$(jq -r .error.field "$RW_BODY")" from
check_eq "a bad entity_id is refused" "$(rw_req GET '/api/v1/admin/audit?entity_id=abc')" 422

# CSV export, by format= and by Accept
code=$(curl -s -o "$t_tmp/audit.csv" -w '%{http_code} %{content_type}' \
    -H "Authorization: Bearer $RW_ADMIN_TOKEN" "$RW_URL/api/v1/admin/audit?format=csv")
check_eq "CSV export" "$code" "200 text/csv; charset=utf-8"
check_eq "CSV header" "$(head -1 "$t_tmp/audit.csv" | tr -d '\r')" \
    "id,at,actor,token_id,action,entity_type,entity_id,client,details,prev_hash,hash"
check_eq "CSV rows = JSON rows" "$(($(wc -l <"$t_tmp/audit.csv") - 1))" "$TOTAL"
code=$(curl -s -o "$t_tmp/audit2.csv" -w '%{http_code}' -H 'Accept: text/csv' \
    -H "Authorization: Bearer $RW_ADMIN_TOKEN" "$RW_URL/api/v1/admin/audit?actor=dr-audit")
check_eq "CSV by Accept" "$code $(($(wc -l <"$t_tmp/audit2.csv") - 1))" "200 4"
RW_TOKEN=$CLIN
check_eq "a clinician cannot read the trail" "$(rw_req GET /api/v1/admin/audit)" 403
check_eq "FHIR Patient read" "$(rw_req GET "/api/v1/fhir/Patient/$PAT")" 200
RW_TOKEN=$RW_ADMIN_TOKEN
rw_req GET "/api/v1/admin/audit?actor=dr-audit&action=read&entity_type=patient&entity_id=$PAT" >/dev/null
check_eq "the FHIR read is recorded too" "$(jq -r '.entries[-1].details.route' "$RW_BODY")" \
    "/api/v1/fhir/Patient/{id}"

# ---------------------------------------------------------------- reads written behind
# A read's row is queued and written by one thread every few milliseconds (server/audit.h): it
# shows in the database file itself (read with sqlite3, not through an admin request, which
# would flush first) soon after the answer, and a clean stop writes every row still queued.
reads() { sql "$DB" "SELECT count(*) FROM audit_log WHERE action = 'read' AND actor = 'dr-audit'"; }
# Identical reads of the same second (same caller, token, client, route, entity) are one row with
# their "count" in details (server/audit.h): served() counts the reads the rows stand for.
served() { sql "$DB" "SELECT coalesce(sum(coalesce(json_extract(details, '\$.count'), 1)), 0) FROM audit_log WHERE action = 'read' AND actor = 'dr-audit'"; }
before=$(reads)
before_served=$(served)
RW_TOKEN=$CLIN
check_eq "one more read" "$(rw_req GET "/api/v1/patients/$PAT/trend")" 200
n=0
while [ "$(reads)" = "$before" ] && [ $n -lt 100 ]; do sleep 0.01; n=$((n + 1)); done
check_eq "its row is in the file within 1 s (after $n polls of 10 ms)" "$(reads)" $((before + 1))
i=0
while [ $i -lt 200 ]; do printf 'url = "%s/api/v1/patients/%s/trend"\noutput = /dev/null\n' "$RW_URL" "$PAT"; i=$((i + 1)); done >"$t_tmp/burst.cfg"
curl -s -H "Authorization: Bearer $CLIN" -K "$t_tmp/burst.cfg"
# The same reads by another token at the same time: rows of their own, never merged with these.
RW_TOKEN=$RW_ADMIN_TOKEN
rw_req POST /api/v1/tokens '{"role":"clinician","label":"dr-other"}' >/dev/null
OTHER=$(jq -r .token "$RW_BODY")
curl -s -H "Authorization: Bearer $OTHER" -K "$t_tmp/burst.cfg" &
curl -s -H "Authorization: Bearer $CLIN" -K "$t_tmp/burst.cfg"
wait
rw_stop_daemon
check_eq "400 reads then a clean stop: every read counted" "$(served)" $((before_served + 401))
rows=$(reads)
check "... in fewer rows: identical reads of a second are one row ($((rows - before)) rows)" \
    [ "$rows" -lt $((before + 401)) ]
check_eq "the other token's 200 reads: counted apart" \
    "$(sql "$DB" "SELECT sum(coalesce(json_extract(details, '\$.count'), 1)) FROM audit_log WHERE action = 'read' AND actor = 'dr-other'")" 200
check_eq "a row never mixes two tokens" \
    "$(sql "$DB" "SELECT count(DISTINCT actor || '/' || token_id) FROM audit_log WHERE action = 'read' AND actor IN ('dr-audit', 'dr-other')")" 2
check_eq "a summarised row says who, when, what and how many" \
    "$(sql "$DB" "SELECT json_extract(details, '\$.count') > 1 AND json_extract(details, '\$.route') = '/api/v1/patients/{id}/trend' AND entity_id = $PAT AND client = '127.0.0.1' AND at LIKE '20__-__-__T__:__:__Z' FROM audit_log WHERE action = 'read' AND actor = 'dr-other' ORDER BY json_extract(details, '\$.count') DESC LIMIT 1")" 1
rw_start_daemon "$D" || { done_tests; exit 1; }

# ---------------------------------------------------------------- verification
RW_TOKEN=$RW_ADMIN_TOKEN
rw_req GET /api/v1/admin/audit/verify >/dev/null
check_eq "verify endpoint: ok" "$(jq -r '.ok' "$RW_BODY")" true
check_eq "verify endpoint: the head names the last row" "$(jq -r '.head.id' "$RW_BODY")" \
    "$(sql "$DB" 'SELECT max(id) FROM audit_log')"
check "--verify-audit exits 0 on the live database" verify "$DB"
check "--verify-audit prints ok" grep -q "audit trail ok" "$t_tmp/verify.out"

# The daemon's own rules: no change, no deletion.
check "UPDATE refused by the trigger" sh -c "! sqlite3 '$DB' \"UPDATE audit_log SET actor = 'x' WHERE id = 3\" 2>/dev/null"
check "DELETE refused by the trigger" sh -c "! sqlite3 '$DB' 'DELETE FROM audit_log WHERE id = 3' 2>/dev/null"
check "--verify-audit still ok after the refused edits" verify "$DB"

# Behind its back: copies of the database, triggers dropped, one row edited / deleted.
rw_stop_daemon
for k in edit delete tail; do cp "$DB" "$t_tmp/$k.db"; done
sql "$t_tmp/edit.db" "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET actor = 'mallory' WHERE id = 5" >/dev/null
sql "$t_tmp/delete.db" "DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE id = 6" >/dev/null
sql "$t_tmp/tail.db" "DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)" >/dev/null
verify "$t_tmp/edit.db"
check_eq "edited row: exit 1" "$?" 1
check "edited row: names row 5" grep -q "BROKEN at row 5: row 5 was changed" "$t_tmp/verify.out"
verify "$t_tmp/delete.db"
check_eq "deleted row: exit 1" "$?" 1
check "deleted row: names row 6" grep -q "BROKEN at row 6: row 6 is missing" "$t_tmp/verify.out"
verify "$t_tmp/tail.db"
check_eq "deleted last row: exit 1" "$?" 1
check "deleted last row: the head says so" grep -q "newest rows were deleted" "$t_tmp/verify.out"
# The endpoint says the same on the edited copy.
cp "$t_tmp/edit.db" "$DB"
rm -f "$DB-wal" "$DB-shm"
rw_start_daemon "$D" || { done_tests; exit 1; }
RW_TOKEN=$RW_ADMIN_TOKEN
rw_req GET /api/v1/admin/audit/verify >/dev/null
check_eq "verify endpoint on the edited trail" "$(jq -c '[.ok, .broken_id]' "$RW_BODY")" "[false,5]"
rw_stop_daemon
check_eq "clean stop" "$?" 0

done_tests
