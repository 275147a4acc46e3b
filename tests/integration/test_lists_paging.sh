#!/bin/sh
# The alert list and the cohort list (issue 14: written as text straight from SQL, their SQL
# naming only the filters given, the cohort list reading a selective filter through its index)
# against the real daemon and its SQLite file: for every shape of filters (open, kind,
# patient_id, updated_since; state, q, external_id, updated_since under each sort order), paging
# with the cursor gives exactly the rows a plain query of the tables gives, in order, once each,
# whether a filter selects few rows or many; a listed alert is the object GET /alerts/{id} gives,
# its evidence the stored JSON; a listed patient carries her summary's state and open alerts.
. "$RW_SRCDIR/tests/lib.sh"
rw_start_daemon "$t_tmp/d" || { fail "daemon start"; done_tests; exit 1; }
DB="$t_tmp/d/rw.db"
sql() { sqlite3 -cmd '.timeout 5000' "$DB" "$@"; }
RW_TOKEN=$RW_ADMIN_TOKEN rw_req POST /api/v1/tokens '{"role": "clinician", "label": "lists"}' >/dev/null
RW_TOKEN=$(jq -r .token "$RW_BODY")

# ---------------------------------------------------------------- a cohort with alerts
# 30 patients (external ids of mixed case, one with '%' and '_'), a draw each, monitoring states,
# and 75 alerts of every kind on shared dates (ties broken by id), some acknowledged, some
# retracted, with updated_at spread over two days.
sql "
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30)
INSERT INTO patients (external_id, diagnosis_date)
SELECT CASE i % 4 WHEN 0 THEN 'AB-' WHEN 1 THEN 'ab-' WHEN 2 THEN 'Cd-' ELSE 'x%_' END
       || printf('%02d', i), '2022-12-01' FROM n;
INSERT INTO samples (accession, patient_id, collected_at, assay)
SELECT 'ACC-' || id, id, date('2024-01-01', '+' || (id * 7 % 40) || ' days'), 'ddpcr' FROM patients;
INSERT INTO patient_state (patient_id, state, n_results, computed_at, trend_config)
SELECT id, CASE id % 5 WHEN 0 THEN 'stable' WHEN 1 THEN 'early_relapse'
       WHEN 2 THEN 'responding' ELSE 'not_detected' END, 1, '2024-06-01T00:00:00Z', '{}'
FROM patients WHERE id % 5 < 3 OR id % 7 = 0;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 75)
INSERT INTO alerts (patient_id, kind, rule, fired_on, sample_id, evidence)
SELECT 1 + i % 30, CASE i % 3 WHEN 0 THEN 'early_relapse' WHEN 1 THEN 'responding'
       ELSE 'emerging_chemoresistance' END, 'rule' || (i / 30), date('2024-03-01', '+' || (i % 9) || ' days'),
       (SELECT id FROM samples WHERE patient_id = 1 + i % 30),
       json_object('rules', json_array(json_object('rule', 'r', 'z', i * 0.25, 'note', 'a\"b')),
                   'closed_by', NULL)
FROM n;
UPDATE alerts SET acknowledged_at = '2024-04-01T00:00:00Z', acknowledged_by = 'dr',
       ack_comment = 'seen' || char(10) || 'ok' WHERE id % 4 = 0;
UPDATE alerts SET retracted_at = '2024-04-02T00:00:00Z' WHERE id % 11 = 0;
UPDATE alerts SET updated_at = CASE WHEN id % 3 = 0 THEN '2024-05-01T00:00:00Z'
                                    ELSE '2024-05-03T00:00:00Z' END;
UPDATE patients SET updated_at = CASE WHEN id % 2 = 0 THEN '2024-05-01T00:00:00Z'
                                      ELSE '2024-05-03T00:00:00Z' END;
"
check_eq "seeded alerts" "$(sql "SELECT count(*) FROM alerts")" 75

# ---------------------------------------------------------------- the alert list
# alerts_want WHERE: the ids a plain query gives, newest first.
alerts_want() {
    echo $(sql "SELECT a.id FROM alerts a WHERE a.retracted_at IS NULL $1
                ORDER BY a.fired_on DESC, a.id DESC")
}
# check_shape KEY PATH WANT: paging PATH by 4 gives the ids WANT; counts the shapes (n) and
# those that match some rows (nonempty).
check_shape() {
    check_eq "$1: $2 by 4" "$(rw_page_ids "$1" "$2" id 4)" "$3"
    n=$((n + 1))
    [ -z "$3" ] || nonempty=$((nonempty + 1))
}
n=0 nonempty=0
for open in "" 0 1; do
    for kind in "" responding early_relapse; do
        for pid in "" 7; do
            for since in "" 2024-05-02; do
                q="" w=""
                [ -n "$open" ] && q="$q&open=$open" && w="$w AND (a.acknowledged_at IS NULL) = $open"
                [ -n "$kind" ] && q="$q&kind=$kind" && w="$w AND a.kind = '$kind'"
                [ -n "$pid" ] && q="$q&patient_id=$pid" && w="$w AND a.patient_id = $pid"
                [ -n "$since" ] && q="$q&updated_since=$since" && w="$w AND a.updated_at >= '$since'"
                q=${q#&}
                check_shape alerts "/api/v1/alerts${q:+?$q}" "$(alerts_want "$w")"
            done
        done
    done
done
check_eq "alert filter shapes" $n 36
check "most alert filter shapes match some ($nonempty)" [ $nonempty -ge 20 ]
check_eq "an unknown parameter is refused" "$(rw_req GET "/api/v1/alerts?x=1")" 422
for q in "open=1&kind=responding" "patient_id=7" "open=0&updated_since=2024-05-02"; do
    w=$(echo "$q" | sed -e 's/open=1/AND a.acknowledged_at IS NULL/; s/open=0/AND a.acknowledged_at IS NOT NULL/' \
        -e "s/kind=responding/AND a.kind = 'responding'/; s/patient_id=7/AND a.patient_id = 7/" \
        -e "s/updated_since=2024-05-02/AND a.updated_at >= '2024-05-02'/; s/&/ /g")
    check_eq "alerts ?$q by 1" "$(rw_page_ids alerts "/api/v1/alerts?$q" id 1)" "$(alerts_want "$w")"
done
check_eq "alerts in one page" "$(rw_page_ids alerts /api/v1/alerts id 1000)" "$(alerts_want "")"

# A listed alert is GET /alerts/{id}'s object, its evidence the stored JSON.
rw_req GET "/api/v1/alerts?limit=1000" >/dev/null
cp "$RW_BODY" "$t_tmp/all.json"
check_eq "one page of every live alert" "$(jq '.alerts | length' "$t_tmp/all.json")" \
    "$(sql "SELECT count(*) FROM alerts WHERE retracted_at IS NULL")"
check_eq "the last page has no next cursor" "$(jq -r .next_cursor "$t_tmp/all.json")" null
same=0
for id in 1 4 8 13 30 75; do
    rw_req GET "/api/v1/alerts/$id" >/dev/null
    [ "$(jq -cS . "$RW_BODY")" = "$(jq -cS ".alerts[] | select(.id == $id)" "$t_tmp/all.json")" ] &&
        [ "$(jq -cS .evidence "$RW_BODY")" = "$(sql "SELECT evidence FROM alerts WHERE id = $id" | jq -cS .)" ] &&
        same=$((same + 1))
done
check_eq "listed alerts equal their GET and the stored evidence" $same 6
check_eq "comment with a newline" "$(jq -r '.alerts[] | select(.id == 8) | .comment' "$t_tmp/all.json")" \
    "$(printf 'seen\nok')"
check_eq "the list is valid JSON with every key" \
    "$(jq -c '.alerts[0] | keys_unsorted' "$t_tmp/all.json")" \
    '["id","patient_id","external_id","kind","rule","fired_on","sample_id","evidence","closed_by","closed_on","created_at","retracted_at","acknowledged_at","acknowledged_by","comment"]'

# ---------------------------------------------------------------- the cohort list
# patients_want SORT WHERE: the ids a plain query of the summary gives in that order.
patients_want() {
    case $1 in
    id) keys="ps.patient_id" ;;
    alerts) keys="ps.alerts_key1, ps.alerts_key2, ps.external_id, ps.patient_id" ;;
    external_id) keys="ps.external_id, ps.patient_id" ;;
    last_sample) keys="ps.last_sample_key, ps.external_id, ps.patient_id" ;;
    esac
    echo $(sql "SELECT ps.patient_id FROM patient_summary ps JOIN patients p ON p.id = ps.patient_id
                WHERE 1 $2 ORDER BY $keys")
}
n=0 nonempty=0
for sort in id alerts external_id last_sample; do
    for state in "" early_relapse stable; do
        for q in "" ab x%25_; do
            for since in "" 2024-05-02; do
                qs="sort=$sort" w=""
                [ -n "$state" ] && qs="$qs&state=$state" && w="$w AND ps.state = '$state'"
                case $q in
                "") ;;
                x%25_) qs="$qs&q=$q" && w="$w AND ps.external_id LIKE 'x\%\_%' ESCAPE '\\'" ;;
                *) qs="$qs&q=$q" && w="$w AND ps.external_id LIKE '$q%'" ;;
                esac
                [ -n "$since" ] && qs="$qs&updated_since=$since" && w="$w AND p.updated_at >= '$since'"
                check_shape patients "/api/v1/patients?$qs" "$(patients_want $sort "$w")"
            done
        done
    done
done
check_eq "patient filter shapes" $n 72
check "most patient filter shapes match some" [ $nonempty -ge 48 ]
check_eq "q is a prefix, case aside" "$(rw_page_ids patients "/api/v1/patients?q=cd-1&sort=external_id" id 2)" \
    "$(patients_want external_id "AND ps.external_id LIKE 'cd-1%'")"
check_eq "patients sort=alerts by 1" "$(rw_page_ids patients "/api/v1/patients?sort=alerts&state=early_relapse" id 1)" \
    "$(patients_want alerts "AND ps.state = 'early_relapse'")"
for sort in id alerts external_id last_sample; do
    check_eq "patients sort=$sort in one page" \
        "$(rw_page_ids patients "/api/v1/patients?sort=$sort" id 500)" "$(patients_want $sort "")"
done
check_eq "patients by external id" "$(rw_page_ids patients "/api/v1/patients?external_id=x%25_03" id 50)" 3
check_eq "patients by external id, none" "$(rw_page_ids patients "/api/v1/patients?external_id=X%25_03" id 50)" ""

# A listed patient: her row, state and open alerts as the summary keeps them, nothing of the
# sort keys.
rw_req GET "/api/v1/patients?external_id=ab-01" >/dev/null
check_eq "listed patient's members" "$(jq -c '.patients[0] | keys_unsorted' "$RW_BODY")" \
    '["id","external_id","er_status","pr_status","her2_status","diagnosis_date","primary_1q213_status","primary_1q213_cn","created_at","updated_at","state","open_alerts","last_sample_date","n_samples"]'
check_eq "listed patient's summary" "$(jq -r '.patients[0] | "\(.state) \(.open_alerts) \(.n_samples)"' "$RW_BODY")" \
    "$(sql "SELECT state || ' ' || open_alerts || ' ' || n_samples FROM patient_summary WHERE patient_id = 1")"
check_eq "a bad cursor is refused" "$(rw_req GET "/api/v1/patients?sort=alerts&cursor=cDE6Mw")" 422

# ---------------------------------------------------------------- filters that select many
# 1,200 more patients, not_detected and updated long ago: a state or updated_since filter that
# selects 1,000 rows or more is read along the sort order's index (fewer, through its own index):
# the first three pages are the same rows either way.
sql "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1200)
     INSERT INTO patients (external_id, diagnosis_date)
     SELECT 'bulk-' || printf('%04d', 1200 - i), '2022-12-01' FROM n;
     UPDATE patients SET updated_at = '2024-01-01T00:00:00Z' WHERE external_id LIKE 'bulk-%';"
# first_pages PATH: the ids of the first three pages of 40 (one line).
first_pages() {
    local cursor="" ids="" i
    for i in 1 2 3; do
        rw_req GET "$1&limit=40${cursor:+&cursor=$cursor}" >/dev/null
        ids="$ids $(jq -r '.patients[].id' "$RW_BODY")"
        cursor=$(jq -r '.next_cursor // empty' "$RW_BODY")
        [ -n "$cursor" ] || break
    done
    echo $ids
}
for sort in id alerts external_id last_sample; do
    for f in "state=not_detected|AND ps.state = 'not_detected'" \
        "updated_since=2023-06-01|AND p.updated_at >= '2023-06-01'" \
        "updated_since=2024-05-02|AND p.updated_at >= '2024-05-02'" \
        "state=not_detected&updated_since=2023-06-01|AND ps.state = 'not_detected' AND p.updated_at >= '2023-06-01'"; do
        want=$(echo $(patients_want $sort "${f#*|}") | cut -d' ' -f1-120)
        check_eq "many: sort=$sort&${f%%|*}" "$(first_pages "/api/v1/patients?sort=$sort&${f%%|*}")" "$want"
    done
done
done_tests
