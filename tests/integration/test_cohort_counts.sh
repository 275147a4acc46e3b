#!/bin/sh
# The cohort list's and summary's kept counters (schema 011: patient_summary and cohort_counts,
# maintained by triggers in each write's transaction) always equal a recount from the base
# tables: after registrations, results, alerts, an acknowledgement, a retraction, a draw moved to
# another patient and an erasure, against the real daemon and its SQLite file.
. "$RW_SRCDIR/tests/lib.sh"
rw_start_daemon "$t_tmp/d" --workers 2 || { fail "daemon start"; done_tests; exit 1; }
DB="$t_tmp/d/rw.db"
token() {
    RW_TOKEN=$RW_ADMIN_TOKEN rw_req POST /api/v1/tokens "{\"role\": \"$1\", \"label\": \"cc-$1\"}" >/dev/null
    jq -r .token "$RW_BODY"
}
LIMS=$(token lims) DOC=$(token clinician) ADMIN=$RW_ADMIN_TOKEN

# consistent WHAT: the counters equal a recount, row by row and in the summary the API answers.
consistent() {
    bad=$(sqlite3 "$DB" "
        WITH r AS (SELECT p.id, p.external_id, coalesce(ps.state, 'not_detected') AS state,
            (SELECT count(*) FROM alerts a WHERE a.patient_id = p.id AND a.retracted_at IS NULL
             AND a.acknowledged_at IS NULL) AS open_alerts,
            (SELECT max(a.fired_on) FROM alerts a WHERE a.patient_id = p.id
             AND a.retracted_at IS NULL AND a.acknowledged_at IS NULL) AS last_alert,
            (SELECT max(s.collected_at) FROM samples s WHERE s.patient_id = p.id) AS last_sample,
            (SELECT count(*) FROM samples s WHERE s.patient_id = p.id) AS n_samples,
            (SELECT count(*) FROM samples s JOIN results x ON x.sample_id = s.id
             WHERE s.patient_id = p.id) AS n_results
            FROM patients p LEFT JOIN patient_state ps ON ps.patient_id = p.id)
        SELECT (SELECT count(*) FROM r LEFT JOIN patient_summary s ON s.patient_id = r.id
                WHERE s.patient_id IS NULL OR s.external_id IS NOT r.external_id
                OR s.state IS NOT r.state OR s.open_alerts IS NOT r.open_alerts
                OR s.last_alert IS NOT r.last_alert OR s.last_sample_date IS NOT r.last_sample
                OR s.n_samples IS NOT r.n_samples OR s.n_results IS NOT r.n_results)
             + (SELECT count(*) FROM patient_summary WHERE patient_id NOT IN (SELECT id FROM patients))")
    check_eq "$1: patient_summary rows differing from a recount" "$bad" 0
    want=$(sqlite3 -json "$DB" "SELECT
        (SELECT count(*) FROM patients) AS patients_monitored,
        (SELECT count(*) FROM samples) AS samples,
        (SELECT count(DISTINCT s.patient_id) FROM samples s JOIN results r ON r.sample_id = s.id)
            AS patients_with_results,
        (SELECT count(*) FROM results) AS results,
        (SELECT json_group_object(k, n) FROM (SELECT k, sum(n) AS n FROM (
            SELECT value AS k, 0 AS n FROM json_each('[\"not_detected\",\"stable\",\"early_relapse\",\"emerging_chemoresistance\",\"responding\"]')
            UNION ALL SELECT coalesce(ps.state, 'not_detected'), 1 FROM patients p
                LEFT JOIN patient_state ps ON ps.patient_id = p.id) GROUP BY k)) AS states,
        (SELECT json_group_object(k, n) FROM (SELECT k, sum(n) AS n FROM (
            SELECT value AS k, 0 AS n FROM json_each('[\"early_relapse\",\"emerging_chemoresistance\",\"responding\"]')
            UNION ALL SELECT kind, 1 FROM alerts WHERE retracted_at IS NULL
                AND acknowledged_at IS NULL) GROUP BY k)) AS open_alerts" |
        jq -cS '.[0] | .states |= fromjson | .open_alerts |= fromjson')
    RW_TOKEN=$DOC rw_req GET /api/v1/cohort/summary >/dev/null
    got=$(jq -cS '{patients_monitored, samples, patients_with_results, results, states, open_alerts}' "$RW_BODY")
    check_eq "$1: cohort summary against a recount" "$got" "$want"
}

consistent "empty store"
# Six patients with ddPCR draws: three stable, three rising (an early_relapse alert each).
i=0
while [ $i -lt 6 ]; do
    RW_TOKEN=$LIMS rw_req POST /api/v1/patients \
        "{\"external_id\": \"CC-$i\", \"diagnosis_date\": \"2023-01-10\"}" >/dev/null
    pid=$(jq -r .id "$RW_BODY")
    RW_TOKEN=$DOC rw_req POST "/api/v1/patients/$pid/treatments" \
        '{"kind": "surgery", "start_date": "2023-02-01", "end_date": "2023-02-01"}' >/dev/null
    d=0
    for tp in 100 100 101 99 150 220; do
        [ $((i % 2)) -eq 0 ] && tp=$((100 + d % 2))
        RW_TOKEN=$LIMS rw_req POST "/api/v1/patients/$pid/samples" \
            "{\"accession\": \"CC-$i-$d\", \"collected_at\": \"2023-0$((d + 3))-01\", \"assay\": \"ddpcr\"}" >/dev/null
        RW_TOKEN=$LIMS rw_req PUT "/api/v1/samples/CC-$i-$d/ddpcr" \
            "{\"wells\": [{\"target_positive\": $((tp * 10)), \"reference_positive\": 1000, \"droplets\": 15000}]}" >/dev/null
        job=$(jq -r '.job_url // empty' "$RW_BODY" | sed 's|.*/||')
        d=$((d + 1))
    done
    [ -n "$job" ] && RW_TOKEN=$LIMS rw_wait_job "$job" 60 >/dev/null
    i=$((i + 1))
done
# A patient with a draw registered but no result.
RW_TOKEN=$LIMS rw_req POST /api/v1/patients '{"external_id": "CC-empty", "diagnosis_date": "2023-01-10"}' >/dev/null
empty=$(jq -r .id "$RW_BODY")
RW_TOKEN=$LIMS rw_req POST "/api/v1/patients/$empty/samples" \
    '{"accession": "CC-empty-0", "collected_at": "2023-03-01", "assay": "ddpcr"}' >/dev/null
n=0
until [ "$(sqlite3 "$DB" "SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')")" = 0 ] || [ $n -gt 300 ]; do
    sleep 0.1
    n=$((n + 1))
done
alerts=$(sqlite3 "$DB" "SELECT count(*) FROM alerts")
check "the rising series raised alerts ($alerts)" [ "$alerts" -ge 1 ]
consistent "after 43 draws"

aid=$(sqlite3 "$DB" "SELECT min(id) FROM alerts")
apid=$(sqlite3 "$DB" "SELECT patient_id FROM alerts WHERE id = $aid")
# trend_of PID JQ: the patient's trend read through jq (cached from the first read on).
trend_of() { RW_TOKEN=$DOC rw_req GET "/api/v1/patients/$1/trend" >/dev/null; jq -c "$2" "$RW_BODY"; }
check_eq "trend before the acknowledgement" "$(trend_of "$apid" "[.alerts[] | select(.id == $aid) | .acknowledged_at == null]")" "[true]"
RW_TOKEN=$DOC rw_req POST "/api/v1/alerts/$aid/acknowledge" '{"comment": "seen"}' >/dev/null
consistent "after an acknowledgement"
check_eq "trend after it: never the cached old answer" "$(trend_of "$apid" "[.alerts[] | select(.id == $aid) | .acknowledged_at == null]")" "[false]"
rpid=$(sqlite3 "$DB" "SELECT patient_id FROM samples WHERE accession = 'CC-1-5'")
check_eq "trend before the retraction" "$(trend_of "$rpid" '[.series[] | select(.accession == "CC-1-5") | .retracted]')" "[false]"
code=$(RW_TOKEN=$DOC rw_req POST /api/v1/samples/CC-1-5/retract '{"reason": "haemolysed"}')
check_eq "retraction answered" "$code" 200
consistent "after a retraction"
check_eq "trend after it shows the retraction" "$(trend_of "$rpid" '[.series[] | select(.accession == "CC-1-5") | .retracted]')" "[true]"
RW_TOKEN=$DOC rw_req POST "/api/v1/patients/$rpid/events" '{"kind": "other", "date": "2024-01-02", "note": "x"}' >/dev/null
check_eq "trend after a new event" "$(trend_of "$rpid" '[.events[] | .date]')" '["2024-01-02"]' 
to=$(sqlite3 "$DB" "SELECT id FROM patients WHERE external_id = 'CC-0'")
# The draw's profile, cached from here on (server/answer_cache.h): plain and gzip say the same.
RW_TOKEN=$DOC rw_req GET /api/v1/samples/CC-3-4/profile >/dev/null
before=$(jq -c . "$RW_BODY")
gz=$(curl -s -H "Authorization: Bearer $DOC" -H 'Accept-Encoding: gzip' \
    "$RW_URL/api/v1/samples/CC-3-4/profile" | gunzip -c | jq -c .)
check_eq "profile: gzip answer inflates to the plain one" "$gz" "$before"
code=$(RW_TOKEN=$ADMIN rw_req POST /api/v1/samples/CC-3-4/move "{\"patient_id\": $to, \"reason\": \"swapped tubes\"}")
check_eq "move answered" "$code" 200
consistent "after a draw moved to another patient"
RW_TOKEN=$DOC rw_req GET /api/v1/samples/CC-3-4/profile >/dev/null
check_eq "profile after the move: never the cached old answer" "$(jq .patient_id "$RW_BODY")" "$to"
gone=$(sqlite3 "$DB" "SELECT id FROM patients WHERE external_id = 'CC-5'")
code=$(RW_TOKEN=$ADMIN rw_req DELETE "/api/v1/patients/$gone")
check "erasure answered ($code)" [ "$code" = 200 -o "$code" = 204 ]
consistent "after an erasure"
# Every sort order pages (limit 2, cursor after cursor) through exactly the single page's order.
for sort in id alerts external_id last_sample; do
    RW_TOKEN=$DOC rw_req GET "/api/v1/patients?sort=$sort&limit=100" >/dev/null
    whole=$(jq -r '[.patients[].id] | join(" ")' "$RW_BODY")
    check_eq "sort=$sort: pages of 2 give the whole list" \
        "$(RW_TOKEN=$DOC rw_page_ids patients "/api/v1/patients?sort=$sort")" "$whole"
done
check_eq "sort=alerts: first patient has an open alert" \
    "$(RW_TOKEN=$DOC rw_req GET '/api/v1/patients?sort=alerts&limit=1' >/dev/null; jq '.patients[0].open_alerts > 0' "$RW_BODY")" true
# The pages are read through the sort keys' index, never by sorting the cohort.
plan=$(sqlite3 "$DB" "EXPLAIN QUERY PLAN SELECT p.id FROM patient_summary ps JOIN patients p
    ON p.id = ps.patient_id WHERE (ps.alerts_key1, ps.alerts_key2, ps.external_id, ps.patient_id)
    > (0, 0, '', 0) ORDER BY ps.alerts_key1, ps.alerts_key2, ps.external_id, ps.patient_id LIMIT 3")
case $plan in
*"TEMP B-TREE"* | *"SCAN ps"*) fail "the alerts order sorts or scans: $plan" ;;
*patient_summary_alerts*) ok ;;
*) fail "the alerts order does not use its index: $plan" ;;
esac
[ "$t_failed" -eq 0 ] || tail -n 30 "$t_tmp/d/log" >&2
done_tests
