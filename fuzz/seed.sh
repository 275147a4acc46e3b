#!/usr/bin/env bash
# fuzz/seed.sh BUILD: (re)makes the seed corpus fuzz/corpus/<harness>/ from the test data and
# from files the real programs of BUILD write (small: 5 Mb bins, a 0.0002x BAM). The corpus is
# committed; run this only to refresh it.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${1:?usage: fuzz/seed.sh BUILD}" && pwd)
RW="$BUILD/relapsewatch"
DATA="$HERE/../tests/data"
C="$HERE/corpus"
rm -rf "$C" && mkdir -p "$C"/{bins,wig,pon,count,ddpcr,route,http}
tmp=$(mktemp -d) && trap 'rm -rf "$tmp"' EXIT

# bins: simulated normals and a sample, and a WIG (bins files accept it).
for s in 1 2 3 4 5; do
    "$RW" simulate --seed $s --bin-size 5000000 --bins "$tmp/n$s.tsv" >/dev/null
done
"$RW" simulate --seed 9 --bin-size 5000000 --tumour-fraction 0.2 --events 1q21.3:6 \
    --bins "$C/bins/sample.tsv" >/dev/null
cp "$tmp/n1.tsv" "$C/bins/normal.tsv"
head -c 2000 "$tmp/n2.tsv" >"$C/bins/truncated.tsv"
cp "$DATA/ichorcna/MBC_315.ctDNA.reads.wig" "$C/bins/hmmcopy.wig"

# WIG: read counts and GC/mappability tracks.
cp "$DATA/ichorcna/MBC_315.ctDNA.reads.wig" "$C/wig/reads.wig"
cp "$DATA/ichorcna/gc_hg19_1000kb.wig" "$C/wig/gc.wig"
head -c 3000 "$DATA/ichorcna/map_hg19_1000kb.wig" >"$C/wig/map_head.wig"

# PoN: a small panel of 5 Mb bins.
"$RW" pon build --bin-size 5000000 -o "$C/pon/pon5mb.tsv" "$tmp"/n?.tsv >/dev/null

# Reads: BAM, CRAM and SAM (htslib test data), a tiny simulated BAM, a bins file.
cp "$DATA/cram/range.bam" "$DATA/cram/range.cram" "$C/count/"
"$RW" simulate --seed 3 --depth 0.0002 -o "$C/count/sim.bam" >/dev/null
samtools view -h "$DATA/cram/range.bam" | head -200 >"$C/count/range.sam"
cp "$tmp/n3.tsv" "$C/count/bins.tsv"

# ddPCR bodies.
printf '%s' '{"droplet_volume_nl":0.85,"wells":[{"target_positive":120,"reference_positive":60,"droplets":15000}]}' >"$C/ddpcr/one.json"
# two.json keeps the name "accepted" of inputs stored before schema 010 (the job still reads them)
printf '%s' '{"wells":[{"target_positive":1,"reference_positive":2,"accepted":3},{"target_positive":0,"reference_positive":0,"accepted":1}]}' >"$C/ddpcr/two.json"
printf '%s' '{"wells":[]}' >"$C/ddpcr/empty.json"

# Request lines for the router.
for l in "GET /api/v1/patients/12/trend" "POST /api/v1/patients" "GET /api/v1/samples/S%2D1/profile" \
    "PUT /api/v1/samples/ACC-1/bins" "GET /api/v1/jobs?limit=5&state=done" "DELETE /api/v1/tokens/3" \
    "HEAD /api/v1/health" "GET /api/v1/patients/1/alerts?open=1+2"; do
    printf '%s' "$l" >"$C/route/$(printf '%s' "$l" | md5sum | cut -c1-12)"
done

# Raw HTTP requests ("@T@" is replaced by an admin token), each complete (a head ends with an
# empty line): the harness half-closes after an incomplete one, which then gets no answer.
req() { printf '%s' "$2" | sed 's/$/\r/' >"$C/http/$1"; }
req health $'GET /api/v1/health HTTP/1.1\nHost: x\n\n'
req patients $'GET /api/v1/patients?limit=2 HTTP/1.1\nHost: x\nAuthorization: Bearer @T@\n\n'
body='{"external_id":"P-1","birth_year":1970}'
req create $'POST /api/v1/patients HTTP/1.1\nHost: x\nAuthorization: Bearer @T@\nContent-Type: application/json\nContent-Length: '"${#body}"$'\n\n'"$body"
body='{"patient_id":1,"accession":"A-1","collected_at":"2026-01-02","assay":"ddpcr"}'
req sample $'POST /api/v1/samples HTTP/1.1\nHost: x\nAuthorization: Bearer @T@\nContent-Type: application/json\nContent-Length: '"${#body}"$'\n\n'"$body"
body=$(cat "$C/ddpcr/one.json")
req ddpcr $'PUT /api/v1/samples/A-1/ddpcr HTTP/1.1\nHost: x\nAuthorization: Bearer @T@\nContent-Type: application/json\nContent-Length: '"${#body}"$'\n\n'"$body"
req trend $'GET /api/v1/patients/1/trend HTTP/1.1\nHost: x\nAuthorization: Bearer @T@\n\n'
req chunked $'POST /api/v1/patients HTTP/1.1\nHost: x\nAuthorization: Bearer @T@\nContent-Type: application/json\nTransfer-Encoding: chunked\n\n5\n{"a":\n1\n1\n1\n}\n0\n\n'
req static $'GET /index.html HTTP/1.1\nHost: x\n\n'
req audit $'GET /api/v1/admin/audit?limit=2&entity_type=patient HTTP/1.1\nHost: x\nAuthorization: Bearer @T@\n\n'
req backups $'GET /api/v1/admin/backups?limit=1 HTTP/1.1\nHost: x\nAuthorization: Bearer @T@\n\n'
# ... and one for every operation of the API description, with the harness's dictionary.
python3 "$HERE/seed_http.py" "$HERE/.."
ls "$C"/* | wc -l
