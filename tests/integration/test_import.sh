#!/bin/sh
# CSV import of a historical series (POST /api/v1/admin/import, server/import.h) against the real
# daemon: a dry run changes nothing and says what would be created; the import creates patients,
# treatments, events and ddPCR draws whose analyses then run; every bad file is refused with the
# line and column, and changes nothing (all or nothing).
. "$RW_SRCDIR/tests/lib.sh"
rw_start_daemon "$t_tmp/d" --workers 2 || { fail "daemon start"; done_tests; exit 1; }
DB="$t_tmp/d/rw.db"
ADMIN=$RW_ADMIN_TOKEN
RW_TOKEN=$ADMIN rw_req POST /api/v1/tokens '{"role": "clinician", "label": "imp-doc"}' >/dev/null
DOC=$(jq -r .token "$RW_BODY")
# import FILE [QUERY] [TOKEN] [TYPE]: prints the status; the answer is in $RW_BODY.
import() {
    curl -s -o "$RW_BODY" -w '%{http_code}' -X POST -H "Authorization: Bearer ${3:-$ADMIN}" \
        -H "Content-Type: ${4:-text/csv}" --data-binary "@$1" "$RW_URL/api/v1/admin/import$2"
}
rows() { sqlite3 "$DB" "SELECT (SELECT count(*) FROM patients) || '/' || (SELECT count(*) FROM
    treatments) || '/' || (SELECT count(*) FROM clinical_events) || '/' || (SELECT count(*) FROM
    samples) || '/' || (SELECT count(*) FROM jobs)"; }

cat >"$t_tmp/series.csv" <<'CSV'
record,patient,date,end_date,kind,regimen,note,er_status,primary_1q213_status,primary_1q213_cn,accession,target_positive,reference_positive,droplets
patient,HIST-1,2021-03-02,,,,,positive,amplified,6,,,,
patient,HIST-2,2021-05-10,,,,,negative,,,,,,
treatment,HIST-1,2021-04-01,2021-04-01,surgery,,,,,,,,,
treatment,HIST-1,2021-05-01,2021-09-01,chemotherapy,"EC, then paclitaxel",,,,,,,,
event,HIST-1,2023-01-20,,clinical_relapse,,"CT: ""liver"" lesions",,,,,,,
draw,HIST-1,2021-06-01,,,,,,,,H1-D1,1000,1000,15000
draw,HIST-1,2021-09-01,,,,,,,,H1-D2,1010,1000,15000
draw,HIST-1,2022-01-05,,,,,,,,H1-D3,1500,1000,15000
draw,HIST-1,2022-04-05,,,,,,,,H1-D4,2200,1000,15000
draw,HIST-2,2021-08-01,,,,,,,,H2-D1,990,1000,15000
CSV
code=$(import "$t_tmp/series.csv" "?dry_run=true")
check_eq "dry run answered" "$code" 200
check_eq "dry run: what would be created" "$(jq -c .would_create "$RW_BODY")" \
    '{"patients":2,"treatments":2,"events":1,"draws":5}'
check_eq "dry run: nothing written" "$(rows)" "0/0/0/0/0"

code=$(import "$t_tmp/series.csv")
check_eq "import answered" "$code" 200
check_eq "import: what was created" "$(jq -c .created "$RW_BODY")" \
    '{"patients":2,"treatments":2,"events":1,"draws":5}'
check_eq "import: rows" "$(rows)" "2/2/1/5/5"
check_eq "quoted fields kept" "$(sqlite3 "$DB" "SELECT regimen FROM treatments WHERE kind = 'chemotherapy'")|$(sqlite3 "$DB" "SELECT note FROM clinical_events")" \
    'EC, then paclitaxel|CT: "liver" lesions'
n=0
until [ "$(sqlite3 "$DB" "SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')")" = 0 ] || [ $n -gt 300 ]; do
    sleep 0.1
    n=$((n + 1))
done
check_eq "every imported draw analysed" "$(sqlite3 "$DB" "SELECT group_concat(status) FROM (SELECT status FROM samples ORDER BY id)")" \
    "done,done,done,done,done"
pid=$(sqlite3 "$DB" "SELECT id FROM patients WHERE external_id = 'HIST-1'")
RW_TOKEN=$DOC rw_req GET "/api/v1/patients/$pid/trend" >/dev/null
check_eq "the trend reads the imported series" "$(jq '[.series[] | .accession] | length' "$RW_BODY")" 4
check "the rising series raised an alert" [ "$(jq '.alerts | length' "$RW_BODY")" -ge 1 ]
check_eq "audited: one row per record and one for the import" \
    "$(sqlite3 "$DB" "SELECT count(*) FROM audit_log WHERE action = 'create' AND details LIKE '%\"via\":\"import\"%'")/$(sqlite3 "$DB" "SELECT count(*) FROM audit_log WHERE action = 'import'")" "10/1"

printf '\nrecord,patient,date\n\npatient,BLANK-1,2020-01-01\n' >"$t_tmp/blank.csv"
code=$(import "$t_tmp/blank.csv" "?dry_run=true")
check_eq "empty lines, before the header too, are skipped" "$code/$(jq -c .would_create.patients "$RW_BODY")" "200/1"

# Refusals: each names the line (and column), and nothing changes.
before=$(rows)
bad() { # bad NAME CSV EXPECTED_STATUS EXPECTED_MESSAGE_PART [QUERY] [TOKEN] [TYPE]
    local name=$1
    printf '%b' "$2" >"$t_tmp/bad.csv"
    shift
    code=$(import "$t_tmp/bad.csv" "${4:-}" "${5:-}" "${6:-}")
    check_eq "$name: status" "$code" "$2"
    case $(jq -r '.error.message' "$RW_BODY") in
    *"$3"*) ok ;;
    *) fail "$name: message '$(jq -r .error.message "$RW_BODY")' lacks '$3'" ;;
    esac
    check_eq "$name: nothing changed" "$(rows)" "$before"
}
bad "the same file again" "$(cat "$t_tmp/series.csv")" 422 \
    "line 2: UNIQUE constraint failed: patients.external_id"
bad "unknown column" 'record,patient,date,colour\npatient,X,2020-01-01,red\n' 422 'unknown column "colour"'
bad "a bad treatment kind after a good patient" \
    'record,patient,date,kind\npatient,NEW-1,2020-01-01,\ntreatment,NEW-1,2020-02-01,magic\n' 422 "line 3: CHECK constraint failed"
bad "unknown patient" 'record,patient,date\nevent,NOBODY,2020-01-01\n' 422 "line 2: no patient NOBODY"
bad "droplets not a number" \
    'record,patient,date,accession,target_positive,reference_positive,droplets\ndraw,HIST-2,2022-01-01,H2-D9,12,x,15000\n' 422 "line 2: reference_positive must be a whole number"
bad "an accession already taken" \
    'record,patient,date,accession,target_positive,reference_positive,droplets\ndraw,HIST-2,2022-01-01,H1-D1,1,1,15000\n' 422 "UNIQUE constraint failed: samples.accession"
bad "a quote not closed" 'record,patient,date\npatient,"Q,2020-01-01\n' 422 "line 2: a quoted field is not closed"
bad "an unknown record" 'record,patient,date\nvisit,HIST-2,2020-01-01\n' 422 "record must be patient"
bad "no record" 'record,patient,date\n' 422 "no record to import"
bad "a date in the future" 'record,patient,date\npatient,FUT-1,2999-01-01\n' 422 "line 2:"
bad "not CSV" 'record,patient,date\npatient,Z,2020-01-01\n' 415 "text/csv" "" "" application/json
bad "a clinician" 'record,patient,date\npatient,Z,2020-01-01\n' 403 "" "" "$DOC"
bad "unknown query parameter" 'record,patient,date\npatient,Z,2020-01-01\n' 422 "dry" "?dryrun=1"
done_tests
