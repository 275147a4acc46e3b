#!/bin/sh
# The daemon counts a BAM upload as its active panel's normals were counted: a panel built by
# `relapsewatch pon build` from paired-end normals weighs fragments by length (the default), and a
# paired-end BAM uploaded against it is counted with the same weights (rebuilt from the panel's
# length histogram), analysed, and stored with the panel's filters as its provenance; a panel of
# another mode activated later makes its re-run count the reads again.
. "$RW_SRCDIR/tests/lib.sh"

D=$t_tmp/d
SIM=$t_tmp/sim
mkdir -p "$SIM"
"$RW_CLI" simulate --ideal --paired --normals 6 --depth 0.02 --seed 50 -o "$SIM/n" >/dev/null 2>&1
"$RW_CLI" pon build -o "$SIM/pon.tsv" "$SIM"/n/*.bam >/dev/null 2>&1
check "a weighted panel from paired-end normals" grep -q 'frag=weighted:' "$SIM/pon.tsv"
"$RW_CLI" simulate --ideal --paired --depth 0.02 --seed 60 --tumour-fraction 0.3 \
    --events 1q21.3:6 -o "$SIM/tumour.bam" >/dev/null 2>&1

rw_start_daemon "$D" || { done_tests; exit 1; }
RW_TOKEN=$RW_ADMIN_TOKEN
code=$(curl -s -o "$RW_BODY" -w '%{http_code}' -X POST -H "Authorization: Bearer $RW_TOKEN" \
    -H 'Content-Type: text/tab-separated-values' --data-binary "@$SIM/pon.tsv" "$RW_URL/api/v1/pons")
check_eq "weighted panel uploaded" "$code" 201
check_eq "activated" "$(rw_req POST "/api/v1/pons/$(jq -r .id "$RW_BODY")/activate")" 202
rw_req POST /api/v1/tokens '{"role":"lims","label":"lims"}' >/dev/null
LIMS=$(jq -r .token "$RW_BODY") # the LIMS registers and uploads (docs/api-infra.md)
RW_TOKEN=$LIMS rw_req POST /api/v1/patients '{"external_id":"FRAG-1","diagnosis_date":"2024-01-01"}' >/dev/null
pat=$(jq -r .id "$RW_BODY")
RW_TOKEN=$LIMS rw_req POST "/api/v1/patients/$pat/samples" \
    '{"accession":"FRAG-T","collected_at":"2024-03-01","assay":"swgs"}' >/dev/null
code=$(curl -s -o "$RW_BODY" -w '%{http_code}' -X PUT -H "Authorization: Bearer $LIMS" \
    -H 'Content-Type: application/octet-stream' --data-binary "@$SIM/tumour.bam" \
    "$RW_URL/api/v1/samples/FRAG-T/reads")
check_eq "paired-end BAM upload" "$code" 202
state=$(rw_wait_job "$(jq -r .job.id "$RW_BODY")")
check_eq "job done (counted with the panel's weights)" "$state" done
[ "$state" = done ] || jq -r .error "$t_tmp/job.json" >&2
rw_req GET /api/v1/samples/FRAG-T/profile >/dev/null
check "provenance: the panel's weighted filters" \
    sh -c "jq -r .settings.filters '$RW_BODY' | grep -q 'frag=weighted:'"
# 0.02x is too shallow for a call (the quality gate says so); the gain still shows: f = 30% of
# copy number 6 is a ratio of 1.6, log2 0.68.
check "1q21.3 log2 ratio of the gain" \
    sh -c "jq -e '.call.log2_ratio > 0.45' '$RW_BODY' >/dev/null"

# Another panel of the same normals, counted as all fragments: its activation re-runs the sample,
# whose stored counts are weighted, so the job counts the reads again instead of reusing them.
"$RW_CLI" pon build --frag-mode all -o "$SIM/pon_all.tsv" "$SIM"/n/*.bam >/dev/null 2>&1
code=$(curl -s -o "$RW_BODY" -w '%{http_code}' -X POST -H "Authorization: Bearer $RW_TOKEN" \
    -H 'Content-Type: text/tab-separated-values' --data-binary "@$SIM/pon_all.tsv" \
    "$RW_URL/api/v1/pons?name=all")
check_eq "all-fragments panel uploaded" "$code" 201
check_eq "activated: a re-run" "$(rw_req POST "/api/v1/pons/$(jq -r .id "$RW_BODY")/activate")" 202
rw_req GET '/api/v1/jobs?limit=1' >/dev/null
check_eq "re-run done" "$(rw_wait_job "$(jq -r '.jobs[0].id' "$RW_BODY")")" done
rw_req GET /api/v1/samples/FRAG-T/profile >/dev/null
check_eq "re-run counted the reads again, as all fragments" \
    "$(jq -r '"\(.settings.source) \(.settings.filters | test("frag=weighted"))"' "$RW_BODY")" \
    "reads false"
rw_stop_daemon
done_tests
