#!/bin/sh
# Integration test of the ingestion pipeline on the real daemon, over real HTTP, with a real
# SQLite file: a panel of normals built from simulated normals and activated, uploads of a
# simulated BAM, bins files and ddPCR wells, jobs polled to their end, stored results and profiles
# checked against the simulated truth; upload limits, bad inputs, conflicts, roles; a daemon
# killed with SIGKILL during a job finishes it after a restart; a PoN change re-runs every result.
. "$RW_SRCDIR/tests/lib.sh"

D=$t_tmp/d
SIM=$t_tmp/sim
mkdir -p "$SIM"
DB=$D/rw.db
sql() { sqlite3 -cmd '.timeout 5000' "$DB" "$@"; }

# put_file PATH URLPATH [TOKEN]: streams a file as the raw body; prints the status code.
put_file() {
    curl -s -o "$RW_BODY" -w '%{http_code}' -X PUT -H "Authorization: Bearer ${3:-$RW_TOKEN}" \
        -H 'Content-Type: application/octet-stream' --data-binary "@$1" "$RW_URL$2"
}
wait_job() { rw_wait_job "$@"; } # ID [SECONDS]: the job's final state ($t_tmp/job.json)
job_id() { jq -r .job.id "$RW_BODY"; }
new_sample() { # ACCESSION ASSAY [PATIENT]
    rw_req POST "/api/v1/patients/${3:-$PAT}/samples" \
        "{\"accession\":\"$1\",\"collected_at\":\"2024-03-01\",\"assay\":\"$2\"}" >/dev/null
}

# ---------------------------------------------------------------- simulated data (truth known)
"$RW_CLI" simulate --ideal --normals 10 --bins "$SIM/normals" --depth 0.1 --seed 100 >/dev/null 2>&1
check "simulated 10 normals" test -s "$SIM/normals/normal_109.tsv"
"$RW_CLI" simulate --ideal --depth 0.02 --seed 7 --tumour-fraction 0.2 --events 1q21.3:6 \
    -o "$SIM/tumour.bam" >/dev/null 2>&1
"$RW_CLI" simulate --ideal --depth 0.1 --seed 8 --bins "$SIM/clear.tsv" >/dev/null 2>&1
"$RW_CLI" simulate --ideal --depth 0.1 --seed 9 --tumour-fraction 0.2 --events 1q21.3:6 \
    --bins "$SIM/amp.tsv" >/dev/null 2>&1
"$RW_CLI" simulate --depth 0.005 --seed 10 --build hg19 -o "$SIM/hg19.bam" >/dev/null 2>&1
for i in 1 2 3; do
    "$RW_CLI" simulate --depth 0.1 --seed $((20 + i)) -o "$SIM/slow$i.bam" >/dev/null 2>&1
done
check "simulated BAMs" test -s "$SIM/slow3.bam"
NBINS=$(($(wc -l <"$SIM/clear.tsv") - 2)) # the layout: bins lines of a simulated file

# ---------------------------------------------------------------- daemon, tokens, patient
rw_start_daemon "$D" --workers 1 --max-upload 40M || { done_tests; exit 1; }
RW_TOKEN=$RW_ADMIN_TOKEN
ADMIN=$RW_ADMIN_TOKEN
rw_req POST /api/v1/tokens '{"role":"lims","label":"lims"}' >/dev/null
LIMS=$(jq -r .token "$RW_BODY")
rw_req POST /api/v1/tokens '{"role":"clinician","label":"doc"}' >/dev/null
CLIN=$(jq -r .token "$RW_BODY")
RW_TOKEN=$LIMS rw_req POST /api/v1/patients '{"external_id":"NORMALS","diagnosis_date":"2024-01-01"}' >/dev/null
NPAT=$(jq -r .id "$RW_BODY")
RW_TOKEN=$LIMS rw_req POST /api/v1/patients '{"external_id":"P-1","diagnosis_date":"2024-01-01"}' >/dev/null
PAT=$(jq -r .id "$RW_BODY")

# ---------------------------------------------------------------- panel of normals
RW_TOKEN=$LIMS
for i in 1 2 3 4 5 6 7 8 9 10; do
    new_sample "NORM-$i" bins "$NPAT"
    code=$(put_file "$SIM/normals/normal_$((99 + i)).tsv" "/api/v1/samples/NORM-$i/bins")
    check_eq "normal $i upload" "$code" 202
done
last=$(job_id)
check_eq "without a panel the job fails" "$(wait_job "$last")" failed
check "clear message without a panel" grep -q "no active panel of normals" "$t_tmp/job.json"
RW_TOKEN=$ADMIN
rw_req GET '/api/v1/jobs?state=failed&limit=3' >/dev/null
check_eq "failed jobs listed, newest first" "$(jq -r '[.jobs[].id] | join(",")' "$RW_BODY")" \
    "$last,$((last - 1)),$((last - 2))"
RW_TOKEN=$LIMS
check_eq "lims may not build a PoN" \
    "$(rw_req POST /api/v1/pons '{"name":"x","build_from":["NORM-1"]}')" 403
RW_TOKEN=$ADMIN
check_eq "build_from an unknown sample" \
    "$(rw_req POST /api/v1/pons '{"build_from":["NORM-1","NOPE"]}')" 422
check_eq "unknown sample named by index" "$(jq -r .error.code "$RW_BODY")" unknown_sample
code=$(rw_req POST /api/v1/pons \
    '{"name":"ten","build_from":["NORM-1","NORM-2","NORM-3","NORM-4","NORM-5","NORM-6","NORM-7","NORM-8","NORM-9","NORM-10"]}')
check_eq "PoN built from 10 normals" "$code" 201
PON1=$(jq -r .id "$RW_BODY")
check_eq "PoN has 10 normals" "$(jq -r .n_normals "$RW_BODY")" 10
check_eq "new PoN not active" "$(jq -r .active "$RW_BODY")" false
PONFILE=$D/data/$(sql "SELECT path FROM pons WHERE id = $PON1")
check "PoN file stored" test -s "$PONFILE"
code=$(curl -s -o "$RW_BODY" -w '%{http_code}' -X POST -H "Authorization: Bearer $ADMIN" \
    -H 'Content-Type: text/tab-separated-values' --data-binary "@$PONFILE" "$RW_URL/api/v1/pons")
check_eq "same PoN file again: no-op" "$code" 200
check_eq "same PoN id" "$(jq -r .id "$RW_BODY")" "$PON1"
sed '5s/$/x/' "$PONFILE" >"$t_tmp/bad_pon.tsv"
code=$(curl -s -o "$RW_BODY" -w '%{http_code}' -X POST -H "Authorization: Bearer $ADMIN" \
    -H 'Content-Type: text/tab-separated-values' --data-binary "@$t_tmp/bad_pon.tsv" \
    "$RW_URL/api/v1/pons")
check_eq "altered PoN file refused" "$code" 422
check_eq "altered PoN code" "$(jq -r .error.code "$RW_BODY")" invalid_pon
if "$RW_CLI" pon build --help >/dev/null 2>&1; then
    ls "$SIM"/normals/*.tsv | head -8 >"$t_tmp/list"
    if "$RW_CLI" pon build -o "$t_tmp/cli_pon.tsv" $(cat "$t_tmp/list") >/dev/null 2>&1; then
        code=$(curl -s -o "$RW_BODY" -w '%{http_code}' -X POST -H "Authorization: Bearer $ADMIN" \
            -H 'Content-Type: text/tab-separated-values' --data-binary "@$t_tmp/cli_pon.tsv" \
            "$RW_URL/api/v1/pons?name=cli")
        check_eq "PoN file from the CLI uploaded" "$code" 201
    fi
fi
check_eq "activation answers 202" "$(rw_req POST "/api/v1/pons/$PON1/activate")" 202
check_eq "PoN active" "$(jq -r .pon.active "$RW_BODY")" true
check_eq "one active PoN" "$(sql 'SELECT count(*) FROM pons WHERE active = 1')" 1

# ---------------------------------------------------------------- uploads and results
RW_TOKEN=$LIMS
new_sample T-AMP swgs
check_eq "BAM upload 202" "$(put_file "$SIM/tumour.bam" /api/v1/samples/T-AMP/reads)" 202
check_eq "job_url" "$(jq -r .job_url "$RW_BODY")" "/api/v1/jobs/$(job_id)"
check_eq "sample queued" "$(jq -r .job.state "$RW_BODY")" queued
JAMP=$(job_id)
check_eq "BAM job done" "$(wait_job "$JAMP" 120)" done
check_eq "progress 100" "$(jq -r .progress "$t_tmp/job.json")" 100
SAMP=$(sql "SELECT id FROM samples WHERE accession = 'T-AMP'")
check_eq "sample status done" "$(sql "SELECT status FROM samples WHERE id = $SAMP")" done
check_eq "stored call (f 20%, CN 6)" "$(sql "SELECT call FROM results WHERE sample_id = $SAMP")" \
    amplified
# truth: R = 1 + f (C - 2) / 2 = 1.4
check "stored ratio near 1.4" test "$(sql "SELECT ratio BETWEEN 1.3 AND 1.5 AND ratio_low < ratio \
    AND ratio < ratio_high AND z >= 3 AND se > 0 AND cv > 0 FROM results WHERE sample_id = $SAMP")" = 1
check_eq "counts and log2 blobs: 4 bytes per bin" \
    "$(sql "SELECT length(counts) / 4, length(log2) / 4 FROM results WHERE sample_id = $SAMP")" \
    "$NBINS|$NBINS"
check_eq "result's PoN and versions" \
    "$(sql "SELECT pon_id, core_version IS NOT NULL, json_valid(settings) FROM results WHERE sample_id = $SAMP")" \
    "$PON1|1|1"
check_eq "reads counted" "$(sql "SELECT json_extract(qc, '\$.reads_kept') > 100000 FROM results WHERE sample_id = $SAMP")" 1
check_eq "input checksum recorded" "$(sql "SELECT sha256 FROM sample_inputs WHERE sample_id = $SAMP")" \
    "$(sha256sum "$SIM/tumour.bam" | cut -d' ' -f1)"

RW_TOKEN=$CLIN
check_eq "profile for any role" "$(rw_req GET /api/v1/samples/T-AMP/profile)" 200
check_eq "profile bins = layout" "$(jq '.bins.chrom | length' "$RW_BODY")" "$NBINS"
check_eq "profile columns equal" \
    "$(jq '[.bins.start, .bins.end, .bins.log2, .bins.masked] | map(length) | unique | length' "$RW_BODY")" 1
check_eq "masked bins have null log2" \
    "$(jq '[range(0; .bins.masked | length) as $i | select(.bins.masked[$i] and .bins.log2[$i] != null)] | length' "$RW_BODY")" 0
check_eq "profile 1q21.3 call" "$(jq -r '.regions[] | select(.name == "1q21.3") | .call' "$RW_BODY")" \
    amplified
check_eq "profile build/bin size" "$(jq -r '"\(.build) \(.bin_size) \(.patient_id)"' "$RW_BODY")" \
    "hg38 500000 $PAT"
check_eq "profile versions.pon" "$(jq -r .versions.pon "$RW_BODY")" \
    "$(sql "SELECT pon_key FROM pons WHERE id = $PON1")"
check "profile has segments" test "$(jq '.segments | length' "$RW_BODY")" -gt 20
check_eq "profile qc" "$(jq -r '.qc.format' "$RW_BODY")" BAM
check_eq "profile of unknown sample" "$(rw_req GET /api/v1/samples/NOPE/profile)" 404

RW_TOKEN=$LIMS
new_sample T-CLEAR bins
new_sample T-AMPBINS bins
check_eq "bins upload 202" "$(put_file "$SIM/clear.tsv" /api/v1/samples/T-CLEAR/bins)" 202
JCLEAR=$(job_id)
check_eq "bins upload 202 (amp)" "$(put_file "$SIM/amp.tsv" /api/v1/samples/T-AMPBINS/bins)" 202
JAMPB=$(job_id)
check_eq "bins job done" "$(wait_job "$JCLEAR")" done
check_eq "bins job done (amp)" "$(wait_job "$JAMPB")" done
check_eq "f = 0: not detected" \
    "$(sql "SELECT r.call FROM results r JOIN samples s ON s.id = r.sample_id WHERE s.accession = 'T-CLEAR'")" \
    not_detected
check_eq "f = 20%: amplified" \
    "$(sql "SELECT r.call FROM results r JOIN samples s ON s.id = r.sample_id WHERE s.accession = 'T-AMPBINS'")" \
    amplified

# One JSON form (json/result.h): `relapsewatch call` on the same bins against the same panel
# answers with the keys and values the daemon stores and the profile shows.
"$RW_CLI" call --no-bins --pon "$PONFILE" -o "$t_tmp/cli_call.json" "$SIM/amp.tsv" 2>/dev/null
check_eq "profile of the bins sample" "$(RW_TOKEN=$CLIN rw_req GET /api/v1/samples/T-AMPBINS/profile)" 200
cp "$RW_BODY" "$t_tmp/api_profile.json"
same() { # JQ_FILTER: the same JSON from the CLI's output ($c) and the profile ($p); near(a; b):
    # equal to the profile's 6 significant digits
    jq -n --slurpfile c "$t_tmp/cli_call.json" --slurpfile p "$t_tmp/api_profile.json" \
        "def near(a; b): ((a - b) | fabs) <= 1e-5 * (b | fabs) + 1e-9;
         \$c[0] as \$c | \$p[0] as \$p | $1"
}
for part in 'regions[0]' 'segments[0]' tumour_fraction qc; do
    check_eq "CLI and API: the same keys of $part" "$(same "(\$c.$part | keys) == (\$p.$part | keys)")" true
done
check_eq "the genome-wide fit shows its evidence" \
    "$(same '($c.tumour_fraction.evidence | type) == "number" and near($c.tumour_fraction.evidence; $p.tumour_fraction.evidence)')" true
check_eq "CLI and API: the same 1q21.3 answer" \
    "$(same '[$p.call | keys[]] - [$c | keys[]] == [] and $c.call == $p.call.call and
        near($c.ratio; $p.call.ratio) and near($c.z; $p.call.z)')" true
check_eq "CLI and API: the same region scores" \
    "$(same '[range(0; $c.regions | length) as $i | near($c.regions[$i].ratio_high; $p.regions[$i].ratio_high)] | all')" true
check_eq "CLI and API: the same settings, recorded in both" \
    "$(same '([$c.settings | keys[]] - [$p.settings | keys[]]) == [] and $c.settings.z_amplified == $p.settings.z_amplified')" true
check_eq "provenance: schema and core version" "$(jq -r '"\(.settings.schema_version) \(.settings.source)"' "$t_tmp/api_profile.json")" "2 bins"
"$RW_DAEMON" --z-amplified 0 --db "$t_tmp/never.db" >/dev/null 2>"$t_tmp/bad_setting.err"
check_eq "a bad analysis setting stops the daemon (exit 2)" "$?" 2
check "... naming the setting and its range" grep -q "z_amplified: '0' is not a number in \[0.1, 100\]" "$t_tmp/bad_setting.err"

# ddPCR: CN = 2 * lambda_T / lambda_R
new_sample T-DD ddpcr
check_eq "ddpcr upload" "$(rw_req PUT /api/v1/samples/T-DD/ddpcr \
    '{"droplet_volume_nl":0.85,"wells":[{"target_positive":2400,"reference_positive":1300,"droplets":15000}]}')" 202
check_eq "ddpcr job done" "$(wait_job "$(job_id)")" done
want=$(awk 'BEGIN { printf "%.4f", log(1 - 2400 / 15000) / log(1 - 1300 / 15000) }')
check_eq "ddpcr ratio = CN/2" \
    "$(sql "SELECT printf('%.4f', r.ratio) FROM results r JOIN samples s ON s.id = r.sample_id WHERE s.accession = 'T-DD'")" \
    "$want"
check_eq "ddpcr se/z null" \
    "$(sql "SELECT r.se IS NULL AND r.z IS NULL AND r.pon_id IS NULL FROM results r JOIN samples s ON s.id = r.sample_id WHERE s.accession = 'T-DD'")" 1
check_eq "ddpcr profile" "$(RW_TOKEN=$CLIN rw_req GET /api/v1/samples/T-DD/profile)" 200
check_eq "ddpcr profile: no bins, cn" "$(jq -r '"\(.bins.chrom | length) \(.ddpcr.cn > 2)"' "$RW_BODY")" \
    "0 true"
check_eq "bad wells" "$(rw_req PUT /api/v1/samples/T-DD/ddpcr '{"wells":[{"target_positive":5,"reference_positive":0,"droplets":100}]}')" 422
check_eq "bad wells code" "$(jq -r .error.code "$RW_BODY")" invalid_ddpcr
check_eq "reads to a ddpcr sample" "$(put_file "$SIM/clear.tsv" /api/v1/samples/T-DD/bins)" 422

# ---------------------------------------------------------------- idempotence, conflicts, errors
check_eq "same BAM again: 200" "$(put_file "$SIM/tumour.bam" /api/v1/samples/T-AMP/reads)" 200
check_eq "same BAM again: same job" "$(job_id)" "$JAMP"
check_eq "no new job" "$(sql "SELECT count(*) FROM jobs WHERE sample_id = $SAMP")" 1
check_eq "another file: 409" "$(put_file "$SIM/slow1.bam" /api/v1/samples/T-AMP/reads)" 409
check_eq "bins to an swgs sample: 422" "$(put_file "$SIM/clear.tsv" /api/v1/samples/T-AMP/bins)" 422
check_eq "unknown sample: 404" "$(put_file "$SIM/clear.tsv" /api/v1/samples/NOPE/bins)" 404
check_eq "clinician may not upload" \
    "$(put_file "$SIM/clear.tsv" /api/v1/samples/T-AMP/bins "$CLIN")" 403

new_sample T-BAD swgs
printf 'this is not a BAM\n' >"$t_tmp/text.txt"
check_eq "text file: 422" "$(put_file "$t_tmp/text.txt" /api/v1/samples/T-BAD/reads)" 422
check_eq "text file code" "$(jq -r .error.code "$RW_BODY")" not_bam
new_sample T-BADBINS bins
check_eq "text as bins: 422" "$(put_file "$t_tmp/text.txt" /api/v1/samples/T-BADBINS/bins)" 422
check_eq "bins code" "$(jq -r .error.code "$RW_BODY")" invalid_bins
check_eq "hg19 BAM vs hg38 panel: 422" "$(put_file "$SIM/hg19.bam" /api/v1/samples/T-BAD/reads)" 422
check_eq "wrong build code" "$(jq -r .error.code "$RW_BODY")" wrong_build
check_eq "rejected uploads left nothing" "$(ls "$D/data/tmp" | wc -l)" 0
head -c 300000 "$SIM/tumour.bam" >"$t_tmp/trunc.bam"
check_eq "truncated BAM accepted" "$(put_file "$t_tmp/trunc.bam" /api/v1/samples/T-BAD/reads)" 202
JBAD=$(job_id)
check_eq "truncated BAM: job fails" "$(wait_job "$JBAD")" failed
check "truncated BAM: message" test -n "$(jq -r '.error // empty' "$t_tmp/job.json")"
check_eq "failed sample" "$(sql "SELECT status FROM samples WHERE accession = 'T-BAD'")" failed
RW_TOKEN=$LIMS
check_eq "lims may not retry" "$(rw_req POST "/api/v1/jobs/$JBAD/retry")" 403
RW_TOKEN=$ADMIN
check_eq "retry a failed job" "$(rw_req POST "/api/v1/jobs/$JBAD/retry")" 202
check_eq "retried job queued" "$(jq -r .job.state "$RW_BODY")" queued
check_eq "retried job fails again" "$(wait_job "$JBAD")" failed
check_eq "attempts counted" "$(jq -r .attempts "$t_tmp/job.json")" 2
check_eq "retry of a done job: 409" "$(rw_req POST "/api/v1/jobs/$JAMP/retry")" 409
RW_TOKEN=$LIMS
check_eq "failed sample: another file replaces it" \
    "$(put_file "$SIM/slow1.bam" /api/v1/samples/T-BAD/reads)" 202
check_eq "replacement done" "$(wait_job "$(job_id)" 120)" done
check_eq "old file removed" "$(ls "$D/data/samples/$(sql "SELECT id FROM samples WHERE accession = 'T-BAD'")" | grep -c '\.bam$')" 1

# Over the limit (40M): announced by Content-Length, then streamed in chunks.
new_sample T-BIG swgs
head -c 42000000 /dev/urandom >"$t_tmp/big.bin"
check_eq "over max-upload: 413" "$(put_file "$t_tmp/big.bin" /api/v1/samples/T-BIG/reads)" 413
code=$(curl -s -o "$RW_BODY" -w '%{http_code}' -X PUT -H "Authorization: Bearer $LIMS" \
    -H 'Transfer-Encoding: chunked' --data-binary "@$t_tmp/big.bin" \
    "$RW_URL/api/v1/samples/T-BIG/reads")
check_eq "over max-upload, chunked: 413" "$code" 413
check_eq "413 leaves nothing in tmp" "$(ls "$D/data/tmp" | wc -l)" 0
check_eq "413 leaves no input" \
    "$(sql "SELECT count(*) FROM sample_inputs i JOIN samples s ON s.id = i.sample_id WHERE s.accession = 'T-BIG'")" 0

# ---------------------------------------------------------------- SIGKILL during a job
for i in 1 2 3; do
    new_sample "T-SLOW-$i" swgs
    put_file "$SIM/slow$i.bam" "/api/v1/samples/T-SLOW-$i/reads" >/dev/null
done
n=0
while [ "$(sql "SELECT count(*) FROM jobs WHERE state = 'running'")" != 1 ] && [ $n -lt 600 ]; do
    sleep 0.02
    n=$((n + 1))
done
RUNNING=$(sql "SELECT id FROM jobs WHERE state = 'running'")
rw_stop_daemon KILL
check "a job was running at the kill" test -n "$RUNNING"
check_eq "left running in the database" "$(sql "SELECT state FROM jobs WHERE id = ${RUNNING:-0}")" running
rw_start_daemon "$D" --workers 1 --max-upload 40M || { done_tests; exit 1; }
RW_TOKEN=$ADMIN
for i in 1 2 3; do
    check_eq "slow job $i done after restart" \
        "$(wait_job "$(sql "SELECT max(j.id) FROM jobs j JOIN samples s ON s.id = j.sample_id WHERE s.accession = 'T-SLOW-$i'")" 120)" done
done
check_eq "killed job ran again" "$(sql "SELECT state, attempts FROM jobs WHERE id = ${RUNNING:-0}")" "done|2"
check "restart logged" grep -q "queued again" "$D/log"

# ---------------------------------------------------------------- PoN change re-runs everything
rw_req POST /api/v1/pons \
    '{"name":"eight","build_from":["NORM-1","NORM-2","NORM-3","NORM-4","NORM-5","NORM-6","NORM-7","NORM-8"]}' >/dev/null
PON2=$(jq -r .id "$RW_BODY")
NRES=$(sql "SELECT count(*) FROM results WHERE pon_id IS NOT NULL")
check_eq "activate the second PoN" "$(rw_req POST "/api/v1/pons/$PON2/activate")" 202
check_eq "one job per sWGS/bins result" "$(jq -r .jobs_queued "$RW_BODY")" "$NRES"
last=$(sql "SELECT max(id) FROM jobs")
check_eq "re-runs finish" "$(wait_job "$last" 120)" done
check_eq "re-runs are recalls" "$(sql "SELECT count(*) FROM jobs WHERE kind = 'recall' AND state = 'done'")" "$NRES"
check_eq "every result moved to the new PoN" \
    "$(sql "SELECT count(*) FROM results WHERE pon_id = $PON2")" "$NRES"
check_eq "old PoN inactive" "$(sql "SELECT active FROM pons WHERE id = $PON1")" 0
check_eq "calls kept after re-run" "$(sql "SELECT call FROM results WHERE sample_id = $SAMP")" amplified
check_eq "counting QC kept by the recall" \
    "$(sql "SELECT json_extract(qc, '\$.format') FROM results WHERE sample_id = $SAMP")" BAM
check_eq "pons listed" "$(rw_req GET /api/v1/pons)" 200
check_eq "pons newest first" "$(jq -r '[.pons[].id] | first' "$RW_BODY")" "$PON2"

# ---------------------------------------------------------------- log hygiene, clean stop
check "no accession in the log" sh -c "! grep -Eq 'T-AMP|T-SLOW|NORM-|T-BAD' '$D/log'"
rw_stop_daemon
check_eq "clean shutdown" "$?" 0

# ---------------------------------------------------------------- one job per sample at a time
# A PoN activated while a sample's job runs queues the sample again; with two workers the two jobs
# must still run one after the other (else the older panel's result could be stored last). A
# fresh daemon, so that job is the only one queued.
PONFILE2=$D/data/$(sql "SELECT path FROM pons WHERE id = $PON2")
rw_start_daemon "$t_tmp/d2" --workers 2 --max-upload 40M || { done_tests; exit 1; }
RW_TOKEN=$RW_ADMIN_TOKEN
post_pon() { # FILE: prints the status code; the panel in $RW_BODY
    curl -s -o "$RW_BODY" -w '%{http_code}' -X POST -H "Authorization: Bearer $RW_TOKEN" \
        -H 'Content-Type: text/tab-separated-values' --data-binary "@$1" "$RW_URL/api/v1/pons"
}
check_eq "first panel uploaded" "$(post_pon "$PONFILE")" 201
QA=$(jq -r .id "$RW_BODY")
check_eq "second panel uploaded" "$(post_pon "$PONFILE2")" 201
QB=$(jq -r .id "$RW_BODY")
check_eq "first panel active" "$(rw_req POST "/api/v1/pons/$QA/activate")" 202
rw_req POST /api/v1/tokens '{"role":"lims","label":"lims"}' >/dev/null
RW_TOKEN=$(jq -r .token "$RW_BODY") # the LIMS registers and uploads (docs/api-infra.md)
rw_req POST /api/v1/patients '{"external_id":"P-2","diagnosis_date":"2024-01-01"}' >/dev/null
PAT=$(jq -r .id "$RW_BODY")
new_sample T-RACE swgs
check_eq "upload before the panel change" "$(put_file "$SIM/slow2.bam" /api/v1/samples/T-RACE/reads)" 202
RW_TOKEN=$RW_ADMIN_TOKEN
JR1=$(job_id)
n=0
while [ "$(rw_req GET "/api/v1/jobs/$JR1" >/dev/null; jq -r .state "$RW_BODY")" = queued ] &&
    [ $n -lt 600 ]; do
    sleep 0.02
    n=$((n + 1))
done
check_eq "activation while the sample's job runs" "$(rw_req POST "/api/v1/pons/$QB/activate")" 202
check_eq "the running sample is queued again" "$(jq -r .jobs_queued "$RW_BODY")" 1
most=0
n=0
while [ $n -lt 1200 ]; do # up to 120 s: the most jobs of the sample seen running at once
    rw_req GET '/api/v1/jobs?state=running' >/dev/null
    r=$(jq '[.jobs[] | select(.accession == "T-RACE")] | length' "$RW_BODY")
    [ "$r" -gt "$most" ] && most=$r
    rw_req GET '/api/v1/jobs?state=queued' >/dev/null
    q=$(jq '.jobs | length' "$RW_BODY")
    [ "$r" = 0 ] && [ "$q" = 0 ] && break
    sleep 0.05
    n=$((n + 1))
done
check_eq "never two jobs of one sample running" "$most" 1
check_eq "both jobs done" \
    "$(rw_req GET '/api/v1/jobs?state=done' >/dev/null; jq '[.jobs[] | select(.accession == "T-RACE")] | length' "$RW_BODY")" 2
check_eq "result against the panel activated last" \
    "$(rw_req GET /api/v1/samples/T-RACE/profile >/dev/null; jq -r .versions.pon_id "$RW_BODY")" "$QB"
rw_stop_daemon
check_eq "second daemon: clean shutdown" "$?" 0

# ---------------------------------------------------------------- upgrade of a schema-4 database
# schema/005 rebuilds results (its CHECK on call gains the no-calls): a database written before it
# keeps every row, column value and index, and then takes a no-call only with its reason.
U=$t_tmp/upgrade
mkdir -p "$U"
{
    echo "PRAGMA foreign_keys = ON;"
    echo "CREATE TABLE schema_migrations (number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL);"
    for n in 1 2 3 4; do
        f=$(ls "$RW_SRCDIR"/schema/00${n}_*.sql)
        cat "$f"
        echo "INSERT INTO schema_migrations VALUES ($n, '$(basename "$f" .sql)', '2025-01-01T00:00:00Z');"
    done
    echo "PRAGMA user_version = 4;"
    echo "INSERT INTO patients (external_id, diagnosis_date) VALUES ('UP-1', '2022-01-01');"
    echo "INSERT INTO samples (accession, patient_id, collected_at, received_at, assay, status) VALUES
        ('UP-S1', 1, '2023-01-01', '2023-01-02', 'bins', 'done'),
        ('UP-S2', 1, '2023-02-01', '2023-02-02', 'ddpcr', 'done');"
    echo "INSERT INTO jobs (sample_id, kind, state) VALUES (1, 'analyse', 'done'), (2, 'analyse', 'done');"
    echo "INSERT INTO results (sample_id, job_id, assay, core_version, settings, build, bin_size,
        log2, regions, ratio, ratio_low, ratio_high, log2_ratio, se, cv, z, call, strong, computed_at)
        VALUES (1, 1, 'bins', '0.0.9', '{\"a\":1}', 'hg38', 500000, x'0000803f', '[]', 1.01, 0.98,
                1.04, 0.0144, 0.02, 0.014, 0.3, 'not_detected', 0, '2025-01-01T00:00:00Z'),
               (2, 2, 'ddpcr', '0.0.9', '{}', NULL, NULL, NULL, NULL, 1.6, 1.5, 1.7, 0.678, NULL,
                0.05, NULL, 'amplified', 1, '2025-01-02T00:00:00Z');"
} | sqlite3 "$U/rw.db"
cols="sample_id, job_id, assay, core_version, pon_id, settings, build, bin_size, hex(counts), hex(log2), hex(mask), segments, regions, qc, tumour_fraction, ddpcr, ratio, ratio_low, ratio_high, log2_ratio, se, cv, z, call, strong, computed_at"
rows_before=$(sqlite3 "$U/rw.db" "SELECT $cols FROM results ORDER BY sample_id")
indexes_before=$(sqlite3 "$U/rw.db" "SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name")
check_eq "schema-4 database written" "$(echo "$rows_before" | wc -l)" 2
rw_start_daemon "$U" || { done_tests; exit 1; }
check_eq "upgraded to the newest schema" "$(sqlite3 "$U/rw.db" 'PRAGMA user_version')" \
    "$(ls "$RW_SRCDIR"/schema/[0-9][0-9][0-9]_*.sql | wc -l)"
check_eq "upgrade keeps every result row and value" \
    "$(sqlite3 "$U/rw.db" "SELECT $cols FROM results ORDER BY sample_id")" "$rows_before"
# Later migrations add indexes of their own (010: updated_at): none of the old ones may go.
sqlite3 "$U/rw.db" "SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name" >"$U/indexes"
check_eq "upgrade keeps every index" "$(echo "$indexes_before" | grep -vxF -f "$U/indexes")" ""
check_eq "upgraded database consistent" \
    "$(sqlite3 "$U/rw.db" 'PRAGMA foreign_keys = ON; PRAGMA foreign_key_check; PRAGMA integrity_check')" ok
check_eq "old results read as calls" \
    "$(RW_TOKEN=$RW_ADMIN_TOKEN rw_req GET /api/v1/patients/1/trend >/dev/null
       jq -r '[.series[] | "\(.call) \(.skipped) \(.quality)"] | join(",")' "$RW_BODY")" \
    "not_detected false null,amplified false null"
check "a no-call without its reason is refused" sh -c "! sqlite3 '$U/rw.db' \"UPDATE results SET call = 'insufficient_quality' WHERE sample_id = 1\" 2>/dev/null"
check "a no-call with its reason is stored" sqlite3 "$U/rw.db" \
    "UPDATE results SET call = 'insufficient_quality', quality = '{\"code\":\"genomic_waves\",\"reason\":\"x\"}' WHERE sample_id = 1"
check "an unknown call is refused" sh -c "! sqlite3 '$U/rw.db' \"UPDATE results SET call = 'maybe' WHERE sample_id = 2\" 2>/dev/null"
rw_stop_daemon
check_eq "upgraded daemon: clean shutdown" "$?" 0
done_tests
