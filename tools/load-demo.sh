#!/usr/bin/env bash
# Loads the demo cohort into a running relapsewatchd THROUGH THE REAL PIPELINE: simulated normals
# -> a panel of normals (relapsewatch pon build) uploaded and activated over the admin API; then a
# dozen patients with their treatments, clinical events and 4-10 draws each, registered and
# uploaded over HTTP as a LIMS would (bins files for most draws, low-depth simulated BAMs for a
# few, ddPCR droplet counts for one patient), the jobs awaited, and each patient's monitoring
# state checked against the story it was built to tell (one line per patient).
#
# usage: tools/load-demo.sh URL ADMIN_TOKEN
#   URL          the daemon, e.g. http://127.0.0.1:8080
#   ADMIN_TOKEN  an admin token (printed once by the daemon at its first start)
# Environment: RW_CLI (the relapsewatch CLI; default: next to this script's build, then PATH),
#              RW_DEMO_DIR (work folder for simulated files; default a temporary folder).
# Exit status: 0 when every patient ends in its intended state, 1 otherwise, 2 on usage.
#
# Stories (draw dates are days before today, every ~3 months over the last ~3 years, so nothing
# is ever in the future). 1q21.3 is simulated at copy number 6 in a tumour fraction f of the
# cfDNA: R = 1 + 2f. At 0.1x a 500 kb-bin sWGS reads the band to ~2-3%: f = 2% stays below the
# z >= 3 call, 5-6% is positive, >= 10% is a strong positive (z >= 5).
#   relapse (DEMO-01/02/03/09/11): negative after surgery, then f rising; the early_relapse alert
#     comes months before the clinical relapse (clinical_relapse events give the lead time);
#   chemoresistance (DEMO-04/05): neoadjuvant chemotherapy, positive before the first dose,
#     cleared on treatment, positive again on treatment;
#   responder (DEMO-06): neoadjuvant chemotherapy, strongly positive before, falling on treatment;
#   stable negatives (DEMO-07/08/10, one with simulated BAMs, one with a draw not yet uploaded).
set -euo pipefail

if [ $# -ne 2 ]; then
    sed -n '8,13p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
fi
URL=${1%/}
ADMIN=$2
here=$(cd "$(dirname "$0")/.." && pwd)
CLI=${RW_CLI:-}
if [ -z "$CLI" ]; then
    for c in "$here/build/serve/relapsewatch" "$(command -v relapsewatch || true)"; do
        [ -n "$c" ] && [ -x "$c" ] && { CLI=$c; break; }
    done
fi
[ -n "$CLI" ] || { echo "load-demo: relapsewatch CLI not found (set RW_CLI)" >&2; exit 2; }
for t in curl jq; do
    command -v $t >/dev/null || { echo "load-demo: $t is required" >&2; exit 2; }
done
if [ -n "${RW_DEMO_DIR:-}" ]; then
    W=$RW_DEMO_DIR
    mkdir -p "$W"
else
    W=$(mktemp -d "${TMPDIR:-/tmp}/rwdemo.XXXXXX")
    trap 'rm -rf "$W"' EXIT
fi
OUT=$W/answer.json
t0=$(date +%s)

say() { printf 'load-demo: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# api TOKEN METHOD PATH [JSON]: prints the HTTP status; the body is in $OUT.
api() {
    local tok=$1 m=$2 p=$3
    if [ $# -ge 4 ]; then
        curl -sS -o "$OUT" -w '%{http_code}' -X "$m" -H "Authorization: Bearer $tok" \
            -H 'Content-Type: application/json' --data-binary "$4" "$URL$p"
    else
        curl -sS -o "$OUT" -w '%{http_code}' -X "$m" -H "Authorization: Bearer $tok" "$URL$p"
    fi
}
# upload TOKEN METHOD PATH FILE CONTENT_TYPE: streams a file; prints the status.
upload() {
    curl -sS -o "$OUT" -w '%{http_code}' -X "$2" -H "Authorization: Bearer $1" \
        -H "Content-Type: $5" --data-binary "@$4" "$URL$3"
}
# want CODES... -- STATUS WHAT: dies unless STATUS is one of CODES.
want() {
    local codes=() c
    while [ "$1" != -- ]; do codes+=("$1"); shift; done
    shift
    for c in "${codes[@]}"; do [ "$1" = "$c" ] && return 0; done
    die "$2: HTTP $1 $(head -c 300 "$OUT")"
}
ago() { date -u -d "today - $1 days" +%F; }

# ---------------------------------------------------------------- tokens and panel of normals
curl -sf -o /dev/null "$URL/api/v1/health" || die "no daemon answers at $URL"
code=$(api "$ADMIN" POST /api/v1/tokens '{"role":"lims","label":"demo-lims"}')
want 201 -- "$code" "creating the lims token"
LIMS=$(jq -r .token "$OUT")
# Treatments and clinical events are a clinician's to record (the role matrix, docs/api-infra.md).
code=$(api "$ADMIN" POST /api/v1/tokens '{"role":"clinician","label":"demo-clinician"}')
want 201 -- "$code" "creating the clinician token"
CLIN=$(jq -r .token "$OUT")

want 200 -- "$(api "$ADMIN" GET /api/v1/pons)" "listing the panels of normals"
if [ "$(jq '[.pons[] | select(.active)] | length' "$OUT")" != 0 ]; then
    say "an active panel of normals exists: kept"
else
    say "simulating 12 normal cfDNA samples and building the panel of normals"
    "$CLI" simulate --ideal --normals 12 --bins "$W/normals" --depth 0.1 --seed 9100 >/dev/null
    "$CLI" pon build -o "$W/pon.tsv" "$W"/normals/*.tsv >/dev/null 2>"$W/pon.log" ||
        die "pon build failed: $(cat "$W/pon.log")"
    code=$(upload "$ADMIN" POST '/api/v1/pons?name=demo-12-normals' "$W/pon.tsv" \
        text/tab-separated-values)
    want 200 201 -- "$code" "uploading the panel of normals"
    pon=$(jq -r .id "$OUT")
    code=$(api "$ADMIN" POST "/api/v1/pons/$pon/activate")
    want 202 -- "$code" "activating the panel of normals"
fi

# ---------------------------------------------------------------- patients, draws, uploads
PID=""     # id of the patient being loaded
FRESH=0    # 1 when it was created now (its treatments and events are added only then)
NAMES=()   # external ids, in load order
declare -A INTENT NOTE

# patient EXTERNAL_ID STATUS CN|null DIAGNOSIS_DAYS_AGO INTENDED_STATE NOTE
patient() {
    local body
    body=$(jq -cn --arg e "$1" --arg s "$2" --argjson cn "$3" --arg d "$(ago "$4")" \
        '{external_id: $e, diagnosis_date: $d, primary_1q213_status: $s, primary_1q213_cn: $cn,
          er_status: "positive", pr_status: "positive", her2_status: "negative"}')
    code=$(api "$LIMS" POST /api/v1/patients "$body")
    want 200 201 -- "$code" "registering $1"
    PID=$(jq -r .id "$OUT")
    FRESH=$([ "$code" = 201 ] && echo 1 || echo 0)
    NAMES+=("$1")
    INTENT[$1]=$5
    NOTE[$1]=$6
}
# treat KIND REGIMEN|- START_DAYS_AGO END_DAYS_AGO|-
treat() {
    [ "$FRESH" = 1 ] || return 0
    local body
    body=$(jq -cn --arg k "$1" --arg r "$2" --arg s "$(ago "$3")" \
        --arg e "$([ "$4" = - ] || ago "$4")" \
        '{kind: $k, start_date: $s} + (if $r == "-" then {} else {regimen: $r} end)
         + (if $e == "" then {} else {end_date: $e} end)')
    want 201 -- "$(api "$CLIN" POST "/api/v1/patients/$PID/treatments" "$body")" "treatment"
}
# event KIND DAYS_AGO NOTE
event() {
    [ "$FRESH" = 1 ] || return 0
    local body
    body=$(jq -cn --arg k "$1" --arg d "$(ago "$2")" --arg n "$3" '{kind: $k, date: $d, note: $n}')
    want 201 -- "$(api "$CLIN" POST "/api/v1/patients/$PID/events" "$body")" "event"
}
# draw ACCESSION DAYS_AGO ASSAY: registers a sample.
draw() {
    local body
    body=$(jq -cn --arg a "$1" --arg d "$(ago "$2")" --arg s "$3" \
        '{accession: $a, collected_at: $d, assay: $s}')
    want 200 201 -- "$(api "$LIMS" POST "/api/v1/patients/$PID/samples" "$body")" "sample $1"
}
seed=1000
# series EXTERNAL_ID "DAYS_AGO:F ..." [bam:INDEX,...]: sWGS draws with 1q21.3 at CN 6 in a
# fraction F, uploaded as bins files, or as 0.03x simulated BAMs for the listed draw numbers.
series() {
    local id=$1 items=$2 bams=",${3:+${3#bam:}}," i=0 item days f acc file code
    for item in $items; do
        i=$((i + 1))
        days=${item%%:*}
        f=${item#*:}
        acc="$id-S$i"
        seed=$((seed + 1))
        if [[ $bams == *",$i,"* ]]; then
            draw "$acc" "$days" swgs
            file="$W/$acc.bam"
            [ -s "$file" ] || "$CLI" simulate --ideal --depth 0.03 --seed "$seed" --tumour-fraction "$f" \
                --events 1q21.3:6 -o "$file" >/dev/null
            code=$(upload "$LIMS" PUT "/api/v1/samples/$acc/reads" "$file" application/octet-stream)
        else
            draw "$acc" "$days" bins
            file="$W/$acc.tsv"
            [ -s "$file" ] || "$CLI" simulate --ideal --depth 0.1 --seed "$seed" --tumour-fraction "$f" \
                --events 1q21.3:6 --bins "$file" >/dev/null
            code=$(upload "$LIMS" PUT "/api/v1/samples/$acc/bins" "$file" text/tab-separated-values)
        fi
        want 200 202 -- "$code" "uploading $acc"
    done
}
# ddpcr_series EXTERNAL_ID "DAYS_AGO:F ...": ddPCR draws (two wells of 15,000 droplets, RPP30
# reference at 0.1 copies per droplet); the target's droplets follow CN = 2 + 4F exactly.
ddpcr_series() {
    local id=$1 i=0 item days f acc body code
    for item in $2; do
        i=$((i + 1))
        days=${item%%:*}
        f=${item#*:}
        acc="$id-D$i"
        draw "$acc" "$days" ddpcr
        body=$(awk -v f="$f" 'BEGIN {
            n = 15000; lr = 0.1; lt = lr * (2 + 4 * f) / 2;
            tp = int(n * (1 - exp(-lt)) + 0.5); rp = int(n * (1 - exp(-lr)) + 0.5);
            printf "{\"droplet_volume_nl\": 0.85, \"wells\": [";
            printf "{\"target_positive\": %d, \"reference_positive\": %d, \"droplets\": %d}, ", tp, rp, n;
            printf "{\"target_positive\": %d, \"reference_positive\": %d, \"droplets\": %d}]}", tp, rp, n }')
        code=$(api "$LIMS" PUT "/api/v1/samples/$acc/ddpcr" "$body")
        want 200 202 -- "$code" "uploading $acc"
    done
}

say "registering 11 patients and uploading their draws"
patient DEMO-01 amplified 6 1150 early_relapse "relapse caught months before the clinic"
treat surgery - 1110 1110
treat endocrine letrozole 1080 -
series DEMO-01 "1060:0 970:0 880:0 790:0.005 700:0.02 610:0.06 520:0.12 430:0.2"
event clinical_relapse 250 "bone metastases on CT"

patient DEMO-02 not_amplified null 1100 early_relapse "1q21.3 gain acquired at recurrence"
treat surgery - 1060 1060
treat radiotherapy - 1020 990
series DEMO-02 "1000:0 910:0 820:0 730:0 640:0.01 550:0.05 460:0.08 370:0.15 280:0.25" bam:9
event clinical_relapse 120 "liver metastases"

patient DEMO-03 amplified 5 1000 early_relapse "one strong positive"
treat surgery - 960 960
series DEMO-03 "930:0 840:0 750:0 660:0 570:0.15 480:0.25"
event clinical_relapse 300 "lung nodules"

patient DEMO-04 amplified 6 760 emerging_chemoresistance "neoadjuvant: cleared, then rising on chemo"
treat chemotherapy EC-T 720 420
treat surgery - 400 400
series DEMO-04 "720:0.12 650:0.02 580:0 510:0.01 440:0.08"

patient DEMO-05 amplified 6 560 emerging_chemoresistance "neoadjuvant: nadir, then two rises"
treat chemotherapy FEC-D 520 200
treat surgery - 190 190
series DEMO-05 "520:0.15 460:0.03 400:0 340:0.05 280:0.12 220:0.2"

patient DEMO-06 amplified 6 330 responding "neoadjuvant: falling on treatment"
treat chemotherapy EC-T 300 45
treat surgery - 30 30
series DEMO-06 "300:0.25 240:0.06 180:0.02 120:0 60:0"

patient DEMO-07 not_amplified null 1150 not_detected "stable negative, last draw awaiting upload"
treat surgery - 1110 1110
treat endocrine tamoxifen 1090 -
series DEMO-07 "1080:0 990:0 900:0 810:0 720:0 630:0 540:0 450:0 360:0"
draw DEMO-07-S10 270 bins

patient DEMO-08 unknown null 900 not_detected "stable negative, sequenced reads (BAM)"
treat surgery - 860 860
series DEMO-08 "840:0 750:0 660:0 570:0 480:0 390:0" bam:2,5

patient DEMO-09 amplified 6 1050 early_relapse "ddPCR only"
treat surgery - 1010 1010
ddpcr_series DEMO-09 "980:0 890:0 800:0 710:0.02 620:0.12 530:0.25 440:0.35"
event clinical_relapse 330 "rising CA 15-3, PET-CT"

patient DEMO-10 unknown null 800 not_detected "stable negative after adjuvant chemotherapy"
treat surgery - 770 770
treat chemotherapy TC 740 620
series DEMO-10 "760:0 660:0 570:0 480:0 390:0 300:0 210:0"

patient DEMO-11 amplified 6 720 early_relapse "recent relapse signal, clinic not yet"
treat surgery - 690 690
treat endocrine anastrozole 660 -
series DEMO-11 "670:0 580:0 490:0 400:0 310:0.03 220:0.07 130:0.12 40:0.2" bam:8

# ---------------------------------------------------------------- wait for the jobs
say "waiting for the analysis jobs"
n=0
while :; do
    api "$ADMIN" GET '/api/v1/jobs?state=queued&limit=1000' >/dev/null
    q=$(jq '.jobs | length' "$OUT")
    api "$ADMIN" GET '/api/v1/jobs?state=running&limit=1000' >/dev/null
    r=$(jq '.jobs | length' "$OUT")
    [ "$q" = 0 ] && [ "$r" = 0 ] && break
    n=$((n + 1))
    [ $n -lt 1200 ] || die "jobs still pending after 10 minutes"
    sleep 0.5
done
api "$ADMIN" GET '/api/v1/jobs?state=failed&limit=1000' >/dev/null
failed=$(jq '.jobs | length' "$OUT")
[ "$failed" = 0 ] || say "$failed job(s) failed: $(jq -c '[.jobs[] | {accession, error}]' "$OUT")"

# ---------------------------------------------------------------- check every story
bad=0
for id in "${NAMES[@]}"; do
    api "$ADMIN" GET "/api/v1/patients?external_id=$id" >/dev/null
    pid=$(jq -r '.patients[0].id' "$OUT")
    want 200 -- "$(api "$ADMIN" GET "/api/v1/patients/$pid/trend")" "trend of $id"
    got=$(jq -r .state "$OUT")
    line=$(jq -r '"\(.series | length) draws (\([.series[] | select(.status == "done")] | length) done), "
        + "\(.alerts | length) alert(s)"
        + (if (.alerts | length) > 0 then " [" + ([.alerts[] | "\(.kind) \(.fired_on)"] | join(", ")) + "]" else "" end)
        + (if .lead_time_days then ", lead time \(.lead_time_days) days" else "" end)' "$OUT")
    if [ "$got" = "${INTENT[$id]}" ]; then ok=ok; else ok="MISMATCH (intended ${INTENT[$id]})"; bad=1; fi
    printf '%-8s %-25s %s; %s: %s\n' "$id" "$got" "$line" "${NOTE[$id]}" "$ok"
done
say "done in $(($(date +%s) - t0)) s"
exit $bad
