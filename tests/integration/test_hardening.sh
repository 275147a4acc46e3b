#!/bin/sh
# Hardening against the real daemon: the database, its WAL and SHM are 0600 and the data folders
# 0700 (also when an older start left them open); a truncated BAM's failure shows no server
# path in the API (job and sample); every answer, page or API, carries the security headers;
# each rename that publishes an upload is followed by an fsync of its folder (strace, when there).
. "$RW_SRCDIR/tests/lib.sh"
D=$t_tmp/h
SIM=$t_tmp/sim
mkdir -p "$D" "$SIM"

# ---------------------------------------------------------------- modes, tightened at start
# As an older version left them: database 0644, data folder 0755.
sqlite3 "$D/rw.db" 'PRAGMA user_version' >/dev/null
chmod 0644 "$D/rw.db"
mkdir -p "$D/data"
chmod 0755 "$D/data"
rw_start_daemon "$D" --max-upload 40M || { fail "daemon did not start"; done_tests; exit 1; }
for f in rw.db rw.db-wal rw.db-shm; do
    check_eq "$f is 0600" "$(stat -c %a "$D/$f")" 600
done
for f in data data/tmp data/samples data/pons; do
    check_eq "$f/ is 0700" "$(stat -c %a "$D/$f")" 700
done

# ---------------------------------------------------------------- security headers
H=$t_tmp/headers
csp="default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
for path in / /index.html /api/v1/health /api/v1/patients /api/v1/no-such; do
    curl -s -D "$H" -o /dev/null "$RW_URL$path"
    tr -d '\r' <"$H" >"$H.txt"
    check "$path: CSP" grep -qxF "Content-Security-Policy: $csp" "$H.txt"
    check "$path: Referrer-Policy" grep -qx 'Referrer-Policy: no-referrer' "$H.txt"
    check "$path: nosniff once" [ "$(grep -c '^X-Content-Type-Options: nosniff$' "$H.txt")" = 1 ]
    check "$path: no framing" grep -qx 'X-Frame-Options: DENY' "$H.txt"
    check "$path: no HSTS over clear HTTP" sh -c "! grep -qi '^Strict-Transport-Security' '$H.txt'"
done

# ---------------------------------------------------------------- no server paths in errors
RW_TOKEN=$RW_ADMIN_TOKEN
rw_req POST /api/v1/tokens '{"role":"lims","label":"lims"}' >/dev/null
LIMS=$(jq -r .token "$RW_BODY")
RW_TOKEN=$LIMS rw_req POST /api/v1/patients '{"external_id":"HARD-N","diagnosis_date":"2024-01-01"}' >/dev/null
NPAT=$(jq -r .id "$RW_BODY")
RW_TOKEN=$LIMS rw_req POST /api/v1/patients '{"external_id":"HARD-1","diagnosis_date":"2024-01-01"}' >/dev/null
PAT=$(jq -r .id "$RW_BODY")
put_file() { # PATH URLPATH: the status
    curl -s -o "$RW_BODY" -w '%{http_code}' -X PUT -H "Authorization: Bearer $LIMS" \
        -H 'Content-Type: application/octet-stream' --data-binary "@$1" "$RW_URL$2"
}
new_sample() { # ACCESSION ASSAY PATIENT
    RW_TOKEN=$LIMS rw_req POST "/api/v1/patients/$3/samples" \
        "{\"accession\":\"$1\",\"collected_at\":\"2024-03-01\",\"assay\":\"$2\"}" >/dev/null
}
"$RW_CLI" simulate --ideal --normals 10 --bins "$SIM/normals" --depth 0.05 --seed 100 >/dev/null 2>&1
"$RW_CLI" simulate --ideal --depth 0.02 --seed 7 -o "$SIM/t.bam" >/dev/null 2>&1
names=""
for i in 1 2 3 4 5 6 7 8 9 10; do
    new_sample "HN-$i" bins "$NPAT"
    put_file "$SIM/normals/normal_$((99 + i)).tsv" "/api/v1/samples/HN-$i/bins" >/dev/null
    names="$names${names:+,}\"HN-$i\""
done
rw_wait_job "$(jq -r .job.id "$RW_BODY")" 60 "$LIMS" >/dev/null
check_eq "PoN built" "$(rw_req POST /api/v1/pons "{\"name\":\"h\",\"build_from\":[$names]}")" 201
check_eq "PoN active" "$(rw_req POST "/api/v1/pons/$(jq -r .id "$RW_BODY")/activate")" 202

head -c 300000 "$SIM/t.bam" >"$SIM/trunc.bam"
new_sample HARD-TRUNC swgs "$PAT"
check_eq "truncated BAM accepted (its header is whole)" \
    "$(put_file "$SIM/trunc.bam" /api/v1/samples/HARD-TRUNC/reads)" 202
job=$(jq -r .job.id "$RW_BODY")
check_eq "its job fails" "$(rw_wait_job "$job" 60 "$LIMS")" failed
err=$(jq -r .error "$t_tmp/job.json")
echo "job error shown: $err"
check "the job's error says what went wrong" [ -n "$err" ]
check "the job's error names no server path" sh -c "! echo '$err' | grep -q -e '$D' -e '/samples/' -e '\.bam'"
check "the job's error names the uploaded file" sh -c "echo '$err' | grep -q 'the uploaded file'"
check "the log keeps the full path for the operator" grep -q "samples/.*\.bam" "$D/log"
RW_TOKEN=$LIMS rw_req GET /api/v1/samples/HARD-TRUNC >/dev/null
check "the sample's answer names no server path" sh -c "! grep -q -e '$D' -e 'samples/[0-9]' '$RW_BODY'"

head -c 200 "$SIM/t.bam" >"$SIM/head.bam" # cut inside the header: refused at upload
new_sample HARD-HEAD swgs "$PAT"
code=$(put_file "$SIM/head.bam" /api/v1/samples/HARD-HEAD/reads)
echo "cut header: $code $(cat "$RW_BODY")"
check "a cut header is refused (4xx)" [ "${code%??}" = 4 ]
check "... naming no server path" sh -c "! grep -q -e '$D' -e '/tmp/' -e 'upload-' '$RW_BODY'"

# ---------------------------------------------------------------- fsync after publishing
if command -v strace >/dev/null && strace -f -qq -e trace=none true 2>/dev/null; then
    new_sample HARD-SYNC swgs "$PAT"
    strace -f -qq -e trace=rename,renameat,renameat2,fsync -o "$t_tmp/strace" -p "$RW_PID" &
    st=$!
    sleep 0.5
    check_eq "upload under strace" "$(put_file "$SIM/t.bam" /api/v1/samples/HARD-SYNC/reads)" 202
    sleep 0.3
    kill "$st"
    wait "$st" 2>/dev/null
    # the rename into samples/<id>/, then an fsync: of the folder (the file's own came before)
    check "rename then fsync of the folder" awk '
        /rename.*samples\/[0-9]+\/[0-9a-f]+\.bam/ { r = 1; next }
        r && /fsync\(/ { ok = 1 }
        END { exit !ok }' "$t_tmp/strace"
else
    echo "strace cannot attach here: the fsync check is skipped"
fi
check "daemon stops cleanly" rw_stop_daemon
done_tests
