#!/bin/sh
# Backups and restores on the real daemon: `relapsewatchd --backup DIR` while the daemon serves
# the same database under load, and POST /api/v1/admin/backups; restores into a fresh folder
# that a new daemon then serves, with every table and every file compared to the original; a
# restore refuses a non-empty store (unless --force) and a backup whose checksums do not match;
# an older database is copied before the daemon migrates it, and its audit rows get chained.
. "$RW_SRCDIR/tests/lib.sh"

D=$t_tmp/d
DB=$D/rw.db
sql() { sqlite3 -cmd '.timeout 5000' "$1" "$2"; }
mkdir -p "$t_tmp/sim"
for i in 1 2 3 4 5 6; do
    "$RW_CLI" simulate --ideal --depth 0.05 --seed $((40 + i)) --bins "$t_tmp/sim/$i.tsv" \
        >/dev/null 2>&1
done
check "simulated bins" test -s "$t_tmp/sim/6.tsv"

# table_sums DB: one line per table, "name count sha256-of-its-rows" (rows sorted as text).
table_sums() {
    for t in $(sql "$1" "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"); do
        printf '%s %s %s\n' "$t" "$(sql "$1" "SELECT count(*) FROM \"$t\"")" \
            "$(sql "$1" "SELECT * FROM \"$t\"" | sort | sha256sum | cut -c1-16)"
    done
}
# file_sums DIR: "sha256  path" of every file of a data folder (tmp/ aside), sorted.
file_sums() { (cd "$1" && find . -type f ! -path './tmp/*' -exec sha256sum {} + | sort -k2); }
backup_cli() { "$RW_DAEMON" --db "$1" --data-dir "$2" --backup "$3" >"$t_tmp/cli.out" 2>&1; }
restore_cli() { "$RW_DAEMON" --db "$1" --data-dir "$2" --restore "$3" $4 >"$t_tmp/cli.out" 2>&1; }

rw_start_daemon "$D" || { done_tests; exit 1; }
RW_TOKEN=$RW_ADMIN_TOKEN
rw_req POST /api/v1/tokens '{"role":"lims","label":"lims"}' >/dev/null
LIMS=$(jq -r .token "$RW_BODY")
RW_TOKEN=$LIMS
rw_req POST /api/v1/patients '{"external_id":"P-BK","diagnosis_date":"2024-01-01"}' >/dev/null
PAT=$(jq -r .id "$RW_BODY")

# load N: registers samples and uploads their bins (each a job) as fast as it can.
load() {
    for i in $(seq 1 "$1"); do
        curl -s -o /dev/null -H "Authorization: Bearer $LIMS" -H 'Content-Type: application/json' \
            -d "{\"accession\":\"LOAD-$i\",\"collected_at\":\"2024-03-01\",\"assay\":\"bins\"}" \
            "$RW_URL/api/v1/patients/$PAT/samples"
        curl -s -o /dev/null -X PUT -H "Authorization: Bearer $LIMS" \
            --data-binary "@$t_tmp/sim/$((i % 6 + 1)).tsv" "$RW_URL/api/v1/samples/LOAD-$i/bins"
    done
}

# ---------------------------------------------------------------- backups under load
load 40 &
LOADPID=$!
sleep 0.3
check "CLI backup while the daemon serves under load" backup_cli "$DB" "$D/data" "$t_tmp/b-load"
RW_TOKEN=$RW_ADMIN_TOKEN
check_eq "endpoint backup under load: 201" "$(rw_req POST /api/v1/admin/backups)" 201
EP=$(jq -r .backup.path "$RW_BODY")
wait $LOADPID
check "the endpoint's backup is under --backup-dir's default (beside data/)" \
    test -f "$D/backups/$(basename "$EP")/SHA256SUMS"
check "its manifest checks with sha256sum -c" sh -c "cd '$D/backups/$(basename "$EP")' && sha256sum -c --quiet SHA256SUMS"
rw_req GET /api/v1/admin/backups >/dev/null
check_eq "the backup is listed" "$(jq -r '.backups[0].name' "$RW_BODY")" "$(basename "$EP")"
RW_TOKEN=$LIMS
check_eq "a lims token may not back up" "$(rw_req POST /api/v1/admin/backups)" 403

# The load's jobs end (no panel: they fail), then a quiet backup.
i=0
while [ "$(sql "$DB" "SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')")" != 0 ] &&
    [ $i -lt 300 ]; do
    sleep 0.1
    i=$((i + 1))
done
check_eq "every job ended" "$(sql "$DB" "SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')")" 0
rw_stop_daemon
check_eq "clean stop" "$?" 0
# Stopped, so that nothing (the outbox's deliveries) moves between the copy and the comparison.
check "quiet CLI backup" backup_cli "$DB" "$D/data" "$t_tmp/b-quiet"
check "the CLI reports its files" grep -q "^backup of [0-9]* files" "$t_tmp/cli.out"

# ---------------------------------------------------------------- restore the quiet backup
R=$t_tmp/r
check "restore into a fresh folder" restore_cli "$R/rw.db" "$R/data" "$t_tmp/b-quiet"
check_eq "every table equal to the original" "$(table_sums "$R/rw.db")" "$(table_sums "$DB")"
check_eq "every file equal to the original" "$(file_sums "$R/data")" "$(file_sums "$D/data")"
check "the data folder holds the uploads" test "$(file_sums "$R/data" | grep -c samples/)" -ge 40
check_eq "integrity_check" "$(sql "$R/rw.db" 'PRAGMA integrity_check')" ok
rw_start_daemon "$R" || { done_tests; exit 1; }
RW_TOKEN=$LIMS
check_eq "the restored daemon serves the old tokens and data" \
    "$(rw_req GET /api/v1/samples/LOAD-40)" 200
check_eq "audit chain of the restored store" "$("$RW_DAEMON" --db "$R/rw.db" --verify-audit | cut -c1-14)" \
    "audit trail ok"
rw_stop_daemon

# ---------------------------------------------------------------- the backup taken under load
R2=$t_tmp/r2
check "restore of the backup taken under load" restore_cli "$R2/rw.db" "$R2/data" "$t_tmp/b-load"
check_eq "its integrity_check" "$(sql "$R2/rw.db" 'PRAGMA integrity_check')" ok
check "its audit chain holds" sh -c "\"$RW_DAEMON\" --db '$R2/rw.db' --verify-audit >/dev/null"
bad=0
for row in $(sql "$R2/rw.db" "SELECT path || '=' || sha256 FROM sample_inputs WHERE path IS NOT NULL"); do
    f=${row%%=*}
    [ "$(sha256sum <"$R2/data/$f" | cut -c1-64)" = "${row#*=}" ] || bad=$((bad + 1))
done
check_eq "every input it names is there with its checksum" "$bad" 0
check "a snapshot: no more samples than the end state" \
    test "$(sql "$R2/rw.db" 'SELECT count(*) FROM samples')" -le "$(sql "$DB" 'SELECT count(*) FROM samples')"

# ---------------------------------------------------------------- refusals
restore_cli "$R/rw.db" "$R/data" "$t_tmp/b-quiet"
check_eq "restore over a non-empty store: refused" "$?" 1
check "the refusal says --force" grep -q -- "--force" "$t_tmp/cli.out"
check "restore --force moves the old store aside" restore_cli "$R/rw.db" "$R/data" "$t_tmp/b-quiet" --force
check "the old database is kept aside" sh -c "ls '$R'/rw.db.before-restore-* >/dev/null"
cp -r "$t_tmp/b-quiet" "$t_tmp/b-bad"
f=$(find "$t_tmp/b-bad/data" -type f | head -1)
printf 'x' >>"$f"
restore_cli "$t_tmp/r3/rw.db" "$t_tmp/r3/data" "$t_tmp/b-bad"
check_eq "a backup with a changed file: refused" "$?" 1
check "the refusal names the file" grep -q "checksum mismatch" "$t_tmp/cli.out"
check "nothing was written" test ! -e "$t_tmp/r3/rw.db"
backup_cli "$DB" "$D/data" "$t_tmp/b-quiet"
check_eq "a backup into a non-empty folder: refused" "$?" 1

# ---------------------------------------------------------------- before a migration
# A database of schema 6 (the migrations of the source tree applied by hand), with audit rows.
O=$t_tmp/old
mkdir -p "$O"
{
    echo "CREATE TABLE schema_migrations (number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL);"
    for f in "$RW_SRCDIR"/schema/00[1-6]_*.sql; do
        cat "$f"
        n=$(basename "$f" .sql)
        echo "INSERT INTO schema_migrations VALUES (${n%%_*} + 0, '$n', '2025-01-01T00:00:00Z');"
    done
    echo "PRAGMA user_version = 6;"
    echo "INSERT INTO audit_log (actor, action, entity_type, entity_id, at) VALUES ('old', 'create', 'patient', 1, '2025-01-01T00:00:00Z'), ('old', 'update', 'patient', 1, '2025-01-02T00:00:00Z');"
} | sqlite3 "$O/rw.db"
check_eq "an old database at schema 6" "$(sql "$O/rw.db" 'PRAGMA user_version')" 6
rw_start_daemon "$O" || { done_tests; exit 1; }
rw_stop_daemon
PRE=$(ls -d "$O"/backups/pre-migration-006-* 2>/dev/null | head -1)
check "a copy was taken before migrating" test -f "$PRE/relapsewatch.db"
check_eq "the copy is the old schema" "$(sql "$PRE/relapsewatch.db" 'PRAGMA user_version')" 6
check "the copy's manifest checks" sh -c "cd '$PRE' && sha256sum -c --quiet SHA256SUMS"
check "the migrated database's chain covers the old rows" sh -c "\"$RW_DAEMON\" --db '$O/rw.db' --verify-audit >/dev/null"
check_eq "the old rows were chained first" \
    "$(sql "$O/rw.db" "SELECT actor FROM audit_log WHERE prev_hash = '$(printf '0%.0s' $(seq 64))'")" old
# Restoring that copy (database only) brings the old schema back and leaves the data folder.
mkdir -p "$O/data/samples/1"
echo keep >"$O/data/samples/1/keep.txt"
check "restore --force of the database-only copy" restore_cli "$O/rw.db" "$O/data" "$PRE" --force
check_eq "the old schema is back" "$(sql "$O/rw.db" 'PRAGMA user_version')" 6
check_eq "the data folder was left alone" "$(cat "$O/data/samples/1/keep.txt")" keep

done_tests
