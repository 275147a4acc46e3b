#!/usr/bin/env bash
# bench/peer.sh: relapsewatch side by side with CNVkit on one simulated dilution series.
#
# What it does, in one run:
#   1. simulates BAMs with `relapsewatch simulate` (known truth), cached in WORKDIR/bam:
#      N_NORMALS normals (f = 0, no events) for both tools' references, and N_REP samples at
#      each tumour fraction of FRACTIONS carrying PROFILE (1q21.3 last: later events win); SIM
#      chooses the simulator's profile: realistic (default: per-sample GC strength, genomic
#      waves, overdispersion) or ideal;
#   2. relapsewatch, timed end to end: `count` every BAM -> `pon build` from the normals (with
#      the simulator's GC, `--gc-simulated`, as `--gc-fasta` gives it on real data) ->
#      `call` every sample (defaults: 1q21.3 z-score and call, CBS segments, genome-wide
#      tumour fraction, per-bin arrays in the JSON);
#   3. CNVkit (Debian package, /usr/bin/python3), timed end to end on the same BAMs, along its
#      documented WGS path (`batch --method wgs` done step by step so that the bins are the
#      same): `samtools index` -> `coverage` on a BED of the same 500 kb bins (and on an empty
#      antitarget BED, as batch does for WGS) -> `reference` from the normals (no FASTA: the
#      simulated genome has none, so CNVkit cannot correct GC or RepeatMasker here, while
#      relapsewatch has the simulator's GC: on realistic samples this favours relapsewatch, as
#      the table says) -> `fix` per sample; the 1q21.3 value is the weight-averaged log2 of the
#      .cnr bins at least half inside the band (relapsewatch's rule for its region score);
#   4. prints each tool's wall time for the series, its 1q21.3 log2 ratio against the truth
#      log2(1 + f (C - 2) / 2) (mean absolute error) and its detection rate per fraction
#      (at f = 0: the false-positive rate).
#      Detection: relapsewatch's own call (z >= 3 against its PoN's leave-one-out spread,
#      docs/method.md §4). CNVkit has no caller for a single band, so the same rule is applied to
#      its values: z = (x - mean) / SD of the normals' own 1q21.3 values, each normal fixed
#      against a reference of the other normals (leave-one-out, as relapsewatch's PoN does;
#      not timed: it is calibration that relapsewatch's `pon build` does inside its time).
#
# Usage: bench/peer.sh [WORKDIR]   WORKDIR keeps the simulated BAMs (reused by later runs with
#                                  the same parameters) and every output; default: a new
#                                  mktemp -d folder, kept for inspection.
# Environment (defaults): RW (./relapsewatch, else relapsewatch on PATH), N_NORMALS (10),
#   N_REP (10), FRACTIONS ("0 0.02 0.05 0.10"), DEPTH (0.1), PROFILE ("8q:4,17p:1,1q21.3:6"),
#   C_1Q213 (6: the tumour copy number of 1q21.3 in PROFILE), BUILD (hg38), N_NULL (200: bin-level
#   normals of the null calibration below; 0 skips it), SIM (realistic or ideal).
# Cost on a busy 2-core machine with the defaults (50 BAMs, ~20 MB each): ~1 min to simulate
#   (first run only), ~15 s for relapsewatch, ~11 min for CNVkit (~12 s a BAM, mostly
#   `coverage`), ~1 min of untimed calibration: ~13 min in all. N_REP=6 takes ~9 min.
# Needs: relapsewatch with simulate/count/pon/call, samtools, jq, awk, bc; installs cnvkit with
#   apt-get if it is missing (large: ~400 MB).
set -euo pipefail

WORK=${1:-$(mktemp -d /tmp/rw-peer.XXXXXX)}
if [ -z "${RW:-}" ]; then
    if [ -x ./relapsewatch ]; then RW=$PWD/relapsewatch; else RW=$(command -v relapsewatch || true); fi
fi
N_NORMALS=${N_NORMALS:-10}
N_REP=${N_REP:-10}
FRACTIONS=${FRACTIONS:-"0 0.02 0.05 0.10"}
DEPTH=${DEPTH:-0.1}
PROFILE=${PROFILE:-"8q:4,17p:1,1q21.3:6"}
C_1Q213=${C_1Q213:-6}
BUILD=${BUILD:-hg38}
SIM=${SIM:-realistic}
case $SIM in
realistic) SIM_ARGS=() ;;
ideal) SIM_ARGS=(--ideal) ;;
*) echo "peer.sh: SIM is realistic or ideal" >&2 && exit 1 ;;
esac
BIN=500000
CNVKIT=/usr/bin/cnvkit # Debian's (cnvkit.py upstream), under /usr/bin/python3, not pyenv's

die() {
    echo "peer.sh: $*" >&2
    exit 1
}
now() { date +%s.%N; }
quiet() { # run a command, show its output only when it fails
    local log
    log=$(mktemp)
    if ! "$@" >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        die "failed: $*"
    fi
    rm -f "$log"
}

# ------------------------------------------------------------------ prerequisites
{ [ -n "${RW:-}" ] && [ -x "$RW" ]; } || die "relapsewatch not found (set RW=/path/to/relapsewatch)"
case $RW in /*) ;; *) RW=$PWD/$RW ;; esac
for t in samtools jq awk bc; do command -v "$t" >/dev/null || die "$t is required"; done
if [ ! -x "$CNVKIT" ]; then
    echo "peer.sh: installing cnvkit (Debian package)..." >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends cnvkit >/dev/null ||
        die "cannot install cnvkit"
fi
mkdir -p "$WORK"/{bam,rw,cnvkit}
cd "$WORK"
echo "peer.sh: working in $WORK (relapsewatch: $RW)" >&2

# ------------------------------------------------------------------ 1. simulated series
# Cached BAMs are reused only if they were made with the same parameters.
PARAMS="version=$("$RW" --version 2>/dev/null | head -1) depth=$DEPTH build=$BUILD profile=$PROFILE sim=$SIM"
if [ "$(cat bam/params 2>/dev/null)" != "$PARAMS" ]; then
    rm -f bam/*.bam bam/*.bai bam/params
    rm -rf rw/null
fi
simulate() { # out.bam seed fraction [profile]
    local args=(-o "$1" --seed "$2" --tumour-fraction "$3" --depth "$DEPTH" --build "$BUILD" "${SIM_ARGS[@]}")
    [ -n "${4:-}" ] && args+=(--events "$4")
    [ -s "$1" ] || quiet "$RW" simulate "${args[@]}"
}
echo "peer.sh: simulating (or reusing) $N_NORMALS normals and $N_REP samples per fraction..." >&2
NORMALS=()
for i in $(seq 1 "$N_NORMALS"); do
    NORMALS+=("normal$i")
    simulate "bam/normal$i.bam" $((1000 + i)) 0
done
SAMPLES=()
for f in $FRACTIONS; do
    for r in $(seq 1 "$N_REP"); do
        s=f${f}_r$r
        SAMPLES+=("$s")
        # the seed depends on (f, r) only, so that cached BAMs stay valid when N_REP changes
        seed=$(awk -v f="$f" -v r="$r" 'BEGIN { printf "%d", 100000 + int(f * 10000 + 0.5) * 100 + r }')
        simulate "bam/$s.bam" "$seed" "$f" "$PROFILE"
    done
done
echo "$PARAMS" >bam/params
rm -f bam/*.bai # CNVkit's index step is part of its timed run

# ------------------------------------------------------------------ 2. relapsewatch
echo "peer.sh: relapsewatch..." >&2
t0=$(now)
for n in "${NORMALS[@]}"; do quiet "$RW" count -o "rw/$n.tsv" "bam/$n.bam"; done
NORMAL_TSVS=()
for n in "${NORMALS[@]}"; do NORMAL_TSVS+=("rw/$n.tsv"); done
quiet "$RW" pon build --gc-simulated -o rw/pon.tsv "${NORMAL_TSVS[@]}"
for s in "${SAMPLES[@]}"; do
    quiet "$RW" count -o "rw/$s.tsv" "bam/$s.bam"
    quiet "$RW" call --pon rw/pon.tsv -o "rw/$s.json" "rw/$s.tsv"
done
RW_TIME=$(echo "$(now) - $t0" | bc)
RW_TIME=${RW_TIME/#./0.}

rw_region() { # call JSON -> "mean_log2 z called(0/1) z_normals_sd_only" of 1q21.3
    # (schema: cli/call.c); the last is CNVkit's rule applied to relapsewatch's value
    jq -r '[.regions[] | select(.name == "1q21.3")][0] as $r
           | [$r.mean_log2, $r.z, (if $r.call == "amplified" then 1 else 0 end),
              (($r.mean_log2 - $r.pon_mean) / $r.pon_sd)] | @tsv' "${1:--}"
}

# Null calibration of the two detection rules (not timed, relapsewatch only: CNVkit needs BAMs
# at ~13 s each): N_NULL more normals drawn as bins files by `simulate --bins` (the counts that
# counting the BAM would give, in milliseconds), called against the same PoN. Gives the true
# spread of the 1q21.3 score at f = 0 and the false-positive rate of each rule.
N_NULL=${N_NULL:-200}
if [ "$N_NULL" -gt 0 ]; then
    echo "peer.sh: null calibration on $N_NULL bin-level normals (not timed)..." >&2
    mkdir -p rw/null
    for i in $(seq 1 "$N_NULL"); do
        [ -s "rw/null/n$i.tsv" ] ||
            quiet "$RW" simulate --bins "rw/null/n$i.tsv" --seed $((50000 + i)) --depth "$DEPTH" \
                --build "$BUILD" "${SIM_ARGS[@]}"
        "$RW" call --no-segment --no-bins --pon rw/pon.tsv "rw/null/n$i.tsv" 2>/dev/null | rw_region
    done >rw/null.tsv
fi

# ------------------------------------------------------------------ 3. CNVkit
# Same bins as relapsewatch: chr1..22, chrX at 500 kb (the last one of a chromosome shorter),
# from the BAM header.
samtools view -H bam/normal1.bam | awk -v B=$BIN '
    $1 == "@SQ" { n = ""; l = 0
        for (i = 2; i <= NF; i++) { if ($i ~ /^SN:/) n = substr($i, 4); if ($i ~ /^LN:/) l = substr($i, 4) + 0 }
        if (n ~ /^(chr)?([0-9]+|X)$/) for (s = 0; s < l; s += B) printf "%s\t%d\t%d\tbin\n", n, s, (s + B < l ? s + B : l) }' \
    >cnvkit/bins.bed
: >cnvkit/empty.antitarget.bed
export PYTHONWARNINGS=ignore # pandas FutureWarnings on every command
cnvkit_cov() { # name
    samtools index "bam/$1.bam"
    # -q 20: the same MAPQ filter as relapsewatch's default. NB: CNVkit 0.9.9 passes it to
    # samtools bedcov as bytes(20) (twenty NUL bytes), so it filters nothing; the simulator's
    # low-MAPQ reads are spread uniformly, so this only adds 3% reads to CNVkit's depth.
    quiet "$CNVKIT" coverage -q 20 "bam/$1.bam" cnvkit/bins.bed -o "cnvkit/$1.targetcoverage.cnn"
    quiet "$CNVKIT" coverage -q 20 "bam/$1.bam" cnvkit/empty.antitarget.bed \
        -o "cnvkit/$1.antitargetcoverage.cnn"
}
cnvkit_ref() { # out.cnn normal...
    local out=$1 n args=()
    shift
    for n in "$@"; do args+=("cnvkit/$n.targetcoverage.cnn" "cnvkit/$n.antitargetcoverage.cnn"); done
    quiet "$CNVKIT" reference --no-gc --no-edge --no-rmask -x female "${args[@]}" -o "$out"
}
cnvkit_fix() { # name reference.cnn out.cnr
    quiet "$CNVKIT" fix --no-gc --no-edge --no-rmask "cnvkit/$1.targetcoverage.cnn" \
        "cnvkit/$1.antitargetcoverage.cnn" "$2" -o "$3"
}
echo "peer.sh: CNVkit..." >&2
t0=$(now)
for n in "${NORMALS[@]}"; do cnvkit_cov "$n"; done
cnvkit_ref cnvkit/ref.cnn "${NORMALS[@]}"
for s in "${SAMPLES[@]}"; do
    cnvkit_cov "$s"
    cnvkit_fix "$s" cnvkit/ref.cnn "cnvkit/$s.cnr"
done
CNVKIT_TIME=$(echo "$(now) - $t0" | bc)
echo "peer.sh: CNVkit calibration (leave-one-out normals, not timed)..." >&2
for n in "${NORMALS[@]}"; do
    others=()
    for o in "${NORMALS[@]}"; do [ "$o" = "$n" ] || others+=("$o"); done
    cnvkit_ref "cnvkit/loo_$n.cnn" "${others[@]}"
    cnvkit_fix "$n" "cnvkit/loo_$n.cnn" "cnvkit/$n.loo.cnr"
done

# 1q21.3 in hg38/hg19 (docs/method.md §2, 0-based half-open)
if [ "$BUILD" = hg19 ]; then R0=150300000 R1=155000000; else R0=150600000 R1=155100000; fi
cnvkit_region() { # .cnr (chromosome start end gene log2 depth weight) -> 1q21.3 log2
    awk -v a=$R0 -v b=$R1 -F'\t' '
        NR > 1 && ($1 == "chr1" || $1 == "1") {
            lo = ($2 > a ? $2 : a); hi = ($3 < b ? $3 : b)
            if (2 * (hi - lo) >= $3 - $2) { w = ($7 == "" ? 1 : $7); s += w * $5; n += w } }
        END { if (n > 0) printf "%.5f\n", s / n; else print "nan" }' "$1"
}
NORM_STATS=$(for n in "${NORMALS[@]}"; do cnvkit_region "cnvkit/$n.loo.cnr"; done |
    awk '{ s += $1; q += $1 * $1; n++ } END { m = s / n; printf "%.6f %.6f\n", m, sqrt((q - n * m * m) / (n - 1)) }')
read -r CK_MEAN CK_SD <<<"$NORM_STATS"

# ------------------------------------------------------------------ 4. the table
{
    printf "sample\tf\ttruth_log2\trw_log2\trw_z\trw_called\tcnvkit_log2\tcnvkit_z\tcnvkit_called\trw_z_normals_sd\trw_called_normals_sd\n"
    for s in "${SAMPLES[@]}"; do
        f=${s#f}
        f=${f%_r*}
        truth=$(awk -v f="$f" -v c="$C_1Q213" 'BEGIN { printf "%.5f", log(1 + f * (c - 2) / 2) / log(2) }')
        read -r rl rz rc rz2 < <(rw_region "rw/$s.json")
        rc2=$(awk -v z="$rz2" 'BEGIN { print (z >= 3) ? 1 : 0 }')
        cl=$(cnvkit_region "cnvkit/$s.cnr")
        cz=$(awk -v x="$cl" -v m="$CK_MEAN" -v s="$CK_SD" 'BEGIN { printf "%.3f", (x - m) / s }')
        cc=$(awk -v z="$cz" 'BEGIN { print (z >= 3) ? 1 : 0 }')
        printf "%s\t%s\t%s\t%.5f\t%.3f\t%s\t%s\t%s\t%s\t%.3f\t%s\n" "$s" "$f" "$truth" "$rl" "$rz" "$rc" \
            "$cl" "$cz" "$cc" "$rz2" "$rc2"
    done
} >table.tsv

echo
echo "relapsewatch $("$RW" --version 2>/dev/null | head -1 | awk '{ print $2 }') vs CNVkit" \
    "$("$CNVKIT" version 2>/dev/null | tail -1): ${#SAMPLES[@]} samples + $N_NORMALS normals," \
    "${DEPTH}x, 500 kb bins, profile $PROFILE (1q21.3 at CN $C_1Q213), $SIM simulation"
printf "wall time for the series (count/coverage + PoN/reference + call/fix): relapsewatch %.1f s, CNVkit %.1f s (%.1fx)\n" \
    "$RW_TIME" "$CNVKIT_TIME" "$(echo "$CNVKIT_TIME / $RW_TIME" | bc -l)"
printf "CNVkit detection: z = (x - %.4f) / %.4f >= 3 (mean and SD of the normals' leave-one-out 1q21.3 log2)\n" \
    "$CK_MEAN" "$CK_SD"
awk -F'\t' 'NR > 1 {
        f = $2; n[f]++; t[f] = $3; mr[f] += $4; mc[f] += $7
        a = ($4 > $3 ? $4 - $3 : $3 - $4); b = ($7 > $3 ? $7 - $3 : $3 - $7)
        er[f] += a; ec[f] += b; dr[f] += $6; dc[f] += $9; d2[f] += $11
        if (!(f in seen)) { seen[f] = 1; order[++k] = f }
        if ($2 > 0) { N++; ER += a; EC += b; D += a - b; DQ += (a - b) ^ 2 } }
    END {
        printf "%-5s %3s %7s %8s %8s %7s %7s %7s %7s %7s\n", "f", "n", "truth", "mean rw", "mean ck",
            "MAE rw", "MAE ck", "det rw", "det ck", "det rw*"
        for (i = 1; i <= k; i++) { f = order[i]
            printf "%-5s %3d %7.4f %8.4f %8.4f %7.4f %7.4f %4d/%-2d %4d/%-2d %4d/%-2d\n", f, n[f], t[f],
                mr[f] / n[f], mc[f] / n[f], er[f] / n[f], ec[f] / n[f], dr[f], n[f], dc[f], n[f], d2[f], n[f] }
        if (N > 1) printf "MAE over the %d f > 0 samples: relapsewatch %.4f, CNVkit %.4f (paired difference %+.4f, SE %.4f)\n",
            N, ER / N, EC / N, D / N, sqrt((DQ / N - (D / N) ^ 2) / (N - 1))
        print "ck = CNVkit; det = detected (z >= 3) with each tool'"'"'s rule; det rw* = relapsewatch'"'"'s value with CNVkit'"'"'s"
        print "rule (z against the normals'"'"' SD only, without the sample'"'"'s own SE); at f = 0 detections are false positives" }' table.tsv
if [ "$N_NULL" -gt 0 ]; then
    awk '{ n++; s += $1; q += $1 * $1; fp += ($2 >= 3); fp2 += ($4 >= 3) }
        END { m = s / n
            printf "null calibration, %d bin-level normals (relapsewatch values): 1q21.3 score mean %.4f, SD %.4f;\n", n, m, sqrt((q - n * m * m) / (n - 1))
            printf "  false positives: relapsewatch rule %d/%d, normals-SD-only rule %d/%d (nominal 0.13%%)\n", fp, n, fp2, n }' rw/null.tsv
    jq -r '[.regions[] | select(.name == "1q21.3")][0] | "  PoN leave-one-out SD \(.pon_sd * 10000 | round / 10000), a sample'"'"'s own SE \(.se * 10000 | round / 10000)"' \
        "rw/${SAMPLES[0]}.json"
fi
echo "per-sample table: $WORK/table.tsv"
