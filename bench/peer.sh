#!/usr/bin/env bash
# bench/peer.sh: relapsewatch side by side with CNVkit on one simulated dilution series.
#
# What it does, in one run:
#   1. simulates BAMs with `relapsewatch simulate` (known truth): N_NORMALS normals (f = 0) for
#      the panel, and N_REP samples at each tumour fraction of FRACTIONS carrying PROFILE;
#   2. relapsewatch, timed end to end: count every BAM -> pon build from the normals -> call
#      every sample (1q21.3 log2 ratio, z-score, call);
#   3. CNVkit (Debian package, /usr/bin/python3), timed end to end on the same BAMs: samtools
#      index -> `cnvkit coverage` on a BED of the same 500 kb bins -> `cnvkit reference` from the
#      normals (no FASTA: the simulated genome has none, so no GC/RepeatMasker correction, as
#      relapsewatch without --reference) -> `cnvkit fix` per sample -> 1q21.3 log2 ratio as the
#      weight-averaged .cnr bins overlapping the band;
#   4. prints each tool's wall time for the series, its 1q21.3 log2 ratio against the truth
#      log2(1 + f (C - 2) / 2) (mean absolute error) and its detection rate per fraction.
#      Detection: relapsewatch's own call (z >= 3 against its PoN, domain.md §4); CNVkit has no
#      1q21.3 caller, so the same rule is applied to its values: z against the mean and SD of
#      the normals' own 1q21.3 log2 ratios (each normal fixed against the reference).
#
# Usage: bench/peer.sh [WORKDIR]     (default: a new mktemp -d folder, kept for inspection)
# Environment (defaults): RW (relapsewatch on PATH, else ./relapsewatch), N_NORMALS (8),
#   N_REP (3), FRACTIONS ("0 0.02 0.05 0.10"), DEPTH (0.1), PROFILE ("1q21.3:6,8q:4,17p:1"),
#   C_1Q213 (6: the tumour copy number of 1q21.3 in PROFILE), BUILD (hg38), THREADS (1).
# Needs: relapsewatch with simulate/count/pon/call, samtools, jq, awk; installs cnvkit with
#   apt-get if it is missing (large: ~400 MB).
set -euo pipefail

WORK=${1:-$(mktemp -d /tmp/rw-peer.XXXXXX)}
RW=${RW:-$(command -v relapsewatch || echo ./relapsewatch)}
N_NORMALS=${N_NORMALS:-8}
N_REP=${N_REP:-3}
FRACTIONS=${FRACTIONS:-"0 0.02 0.05 0.10"}
DEPTH=${DEPTH:-0.1}
PROFILE=${PROFILE:-"1q21.3:6,8q:4,17p:1"}
C_1Q213=${C_1Q213:-6}
BUILD=${BUILD:-hg38}
BIN=500000
CNVKIT=/usr/bin/cnvkit # Debian's, under /usr/bin/python3 (not the pyenv python3 on PATH)

die() {
    echo "peer.sh: $*" >&2
    exit 1
}
now() { date +%s.%N; }

# ------------------------------------------------------------------ prerequisites
[ -x "$RW" ] || die "relapsewatch not found (set RW=/path/to/relapsewatch)"
for t in samtools jq awk; do command -v "$t" >/dev/null || die "$t is required"; done
for sub in simulate count pon call; do
    if "$RW" "$sub" --help 2>&1 | grep -q "not implemented"; then
        die "relapsewatch $sub is not implemented yet in $RW: the script is ready, rerun later"
    fi
done
if [ ! -x "$CNVKIT" ]; then
    echo "peer.sh: installing cnvkit (Debian package)..." >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends cnvkit >/dev/null ||
        die "cannot install cnvkit"
fi
mkdir -p "$WORK"/{bam,rw,cnvkit}
cd "$WORK"
echo "peer.sh: working in $WORK" >&2

# ------------------------------------------------------------------ 1. simulated series
# Option names follow `relapsewatch simulate --help`; adjust here only if they change.
simulate() { # out.bam seed fraction [profile]
    local args=(-o "$1" --seed "$2" --tumour-fraction "$3" --depth "$DEPTH" --build "$BUILD")
    [ -n "${4:-}" ] && args+=(--events "$4")
    "$RW" simulate "${args[@]}" >/dev/null
}
SAMPLES=()
for i in $(seq 1 "$N_NORMALS"); do
    [ -s bam/normal$i.bam ] || simulate bam/normal$i.bam $((1000 + i)) 0
done
for f in $FRACTIONS; do
    for r in $(seq 1 "$N_REP"); do
        s=f${f}_r$r
        SAMPLES+=("$s")
        [ -s bam/$s.bam ] || simulate bam/$s.bam $((2000 + r + ${#SAMPLES[@]} * 10)) "$f" "$PROFILE"
    done
done

# ------------------------------------------------------------------ 2. relapsewatch
t0=$(now)
for i in $(seq 1 "$N_NORMALS"); do "$RW" count -o rw/normal$i.tsv bam/normal$i.bam; done
"$RW" pon build -o rw/pon.tsv rw/normal*.tsv >/dev/null
for s in "${SAMPLES[@]}"; do
    "$RW" count -o rw/$s.tsv bam/$s.bam
    "$RW" call --pon rw/pon.tsv -o rw/$s.json rw/$s.tsv >/dev/null
done
t1=$(now)
RW_TIME=$(echo "$t1 - $t0" | bc)

# The 1q21.3 region of the call JSON: log2 ratio, z and the amplified call. The first shape
# that matches wins (the JSON schema is documented in core/cli_call.c).
rw_region() { # json -> "log2 z called(0/1)"
    jq -r '
      ( [.regions[]? | select(.name == "1q21.3")][0] // .region // .) as $r |
      [ ($r.log2 // $r.log2_ratio // $r.mean_log2),
        ($r.z // .z),
        (if (($r.call // .call) | tostring) | test("amplified|gain|positive") then 1 else 0 end) ]
      | @tsv' "$1"
}

# ------------------------------------------------------------------ 3. CNVkit
# Same bins as relapsewatch: chr1..22, chrX at 500 kb, from the BAM header.
samtools view -H bam/normal1.bam | awk -v B=$BIN '
    $1 == "@SQ" { n = ""; l = 0
        for (i = 2; i <= NF; i++) { if ($i ~ /^SN:/) n = substr($i, 4); if ($i ~ /^LN:/) l = substr($i, 4) + 0 }
        if (n ~ /^(chr)?([0-9]+|X)$/) for (s = 0; s < l; s += B) printf "%s\t%d\t%d\tbin\n", n, s, (s + B < l ? s + B : l) }' \
    >cnvkit/bins.bed
: >cnvkit/empty.antitarget.bed
export PYTHONWARNINGS=ignore
cnvkit_cov() { # name
    samtools index bam/$1.bam
    # -q 20: the same MAPQ filter as relapsewatch's default
    "$CNVKIT" coverage -q 20 bam/$1.bam cnvkit/bins.bed -o cnvkit/$1.targetcoverage.cnn \
        >/dev/null 2>&1
    "$CNVKIT" coverage -q 20 bam/$1.bam cnvkit/empty.antitarget.bed \
        -o cnvkit/$1.antitargetcoverage.cnn >/dev/null 2>&1
}
cnvkit_fix() { # name
    "$CNVKIT" fix --no-gc --no-edge --no-rmask cnvkit/$1.targetcoverage.cnn \
        cnvkit/$1.antitargetcoverage.cnn cnvkit/ref.cnn -o cnvkit/$1.cnr >/dev/null 2>&1
}
t0=$(now)
for i in $(seq 1 "$N_NORMALS"); do cnvkit_cov normal$i; done
"$CNVKIT" reference --no-gc --no-edge --no-rmask -x female cnvkit/normal*.targetcoverage.cnn \
    cnvkit/normal*.antitargetcoverage.cnn -o cnvkit/ref.cnn >/dev/null 2>&1
for s in "${SAMPLES[@]}"; do
    cnvkit_cov "$s"
    cnvkit_fix "$s"
done
t1=$(now)
CNVKIT_TIME=$(echo "$t1 - $t0" | bc)
# Calibration for CNVkit's detection rule (not timed: relapsewatch's PoN does it inside).
for i in $(seq 1 "$N_NORMALS"); do cnvkit_fix normal$i; done

# 1q21.3 in hg38/hg19 (domain.md §2)
if [ "$BUILD" = hg19 ]; then R0=150300000 R1=155000000; else R0=150600000 R1=155100000; fi
cnvkit_region() { # cnr (chromosome start end gene log2 depth weight) -> weighted mean log2 of 1q21.3
    awk -v a=$R0 -v b=$R1 -F'\t' 'NR > 1 && ($1 == "chr1" || $1 == "1") && $3 > a && $2 < b {
        w = ($7 == "" ? 1 : $7); s += w * $5; n += w } END { if (n > 0) printf "%.5f\n", s / n; else print "nan" }' "$1"
}
NORM_STATS=$(for i in $(seq 1 "$N_NORMALS"); do cnvkit_region cnvkit/normal$i.cnr; done |
    awk '{ s += $1; q += $1 * $1; n++ } END { m = s / n; printf "%.6f %.6f\n", m, sqrt((q - n * m * m) / (n - 1)) }')
read -r CK_MEAN CK_SD <<<"$NORM_STATS"

# ------------------------------------------------------------------ 4. the table
{
    printf "sample\tf\ttruth_log2\trw_log2\trw_z\trw_called\tcnvkit_log2\tcnvkit_z\tcnvkit_called\n"
    for s in "${SAMPLES[@]}"; do
        f=${s#f}
        f=${f%_r*}
        truth=$(awk -v f="$f" -v c="$C_1Q213" 'BEGIN { printf "%.5f", log(1 + f * (c - 2) / 2) / log(2) }')
        read -r rl rz rc < <(rw_region rw/$s.json)
        cl=$(cnvkit_region cnvkit/$s.cnr)
        cz=$(awk -v x="$cl" -v m="$CK_MEAN" -v s="$CK_SD" 'BEGIN { printf "%.3f", (x - m) / s }')
        cc=$(awk -v z="$cz" 'BEGIN { print (z >= 3) ? 1 : 0 }')
        printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n" "$s" "$f" "$truth" "$rl" "$rz" "$rc" "$cl" "$cz" "$cc"
    done
} >table.tsv

echo
echo "relapsewatch vs CNVkit $("$CNVKIT" version 2>/dev/null | tail -1) on ${#SAMPLES[@]} samples + $N_NORMALS normals" \
    "(depth ${DEPTH}x, 500 kb bins, profile $PROFILE)"
printf "wall time for the series: relapsewatch %.1f s, CNVkit %.1f s (%.1fx)\n" \
    "$RW_TIME" "$CNVKIT_TIME" "$(echo "$CNVKIT_TIME / $RW_TIME" | bc -l)"
awk -F'\t' 'NR > 1 {
        f = $2; n[f]++; er[f] += ($4 > $3 ? $4 - $3 : $3 - $4); ec[f] += ($7 > $3 ? $7 - $3 : $3 - $7)
        dr[f] += $6; dc[f] += $9; if (!(f in seen)) { seen[f] = 1; order[++k] = f } }
    END {
        printf "%-6s %4s %12s %12s %12s %12s\n", "f", "n", "MAE rw", "MAE cnvkit", "detect rw", "detect cnvkit"
        for (i = 1; i <= k; i++) { f = order[i]
            printf "%-6s %4d %12.4f %12.4f %11.0f%% %11.0f%%\n", f, n[f], er[f] / n[f], ec[f] / n[f],
                100 * dr[f] / n[f], 100 * dc[f] / n[f] }
        print "(f = 0 rows: the detection rate is the false-positive rate)" }' table.tsv
echo "per-sample table: $WORK/table.tsv"
