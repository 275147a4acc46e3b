#!/bin/bash
# Benchmark of `relapsewatch count` against the decompression floor and peer tools (not a test).
#
# Makes (or reuses, in a cache folder) simulated BAMs at 0.1x (~3 million reads, the clinical
# case) and 1x with `relapsewatch simulate`, then times on the same file, with 1 and 2 threads:
#   relapsewatch count                      (--threads T)
#   bgzip -dc file.bam > /dev/null          (the floor: decompression alone; -@ T)
#   samtools view -c -q 20 -F 0xF04         (-@ T)
#   mosdepth -n --fast-mode --by 500000     (-t T)
# "T threads" gives every tool an htslib pool of T threads (T = 1: no pool).
# Prints median wall times, ratios to the floor and to each peer, and peak memory (max RSS).
#
# usage: bench/count.sh                   (from a build folder, or set RW_BIN)
# environment: RW_BIN       relapsewatch binary (default ./relapsewatch; use a build without
#                           sanitizers: ASan makes everything slower)
#              BENCH_CACHE  folder of the simulated BAMs (default ${TMPDIR:-/tmp}/relapsewatch-bench)
#              BENCH_DEPTHS depths to simulate (default "0.1 1")
#              BENCH_BAMS   bench these BAMs instead of simulating (space-separated)
#              BENCH_REPS   runs per timing (default 5); BENCH_SLOW_REPS for mosdepth (default 1)
#              BENCH_MOSDEPTH=0 skips mosdepth (17+ s and 2 GiB per run)
set -u

RW_BIN=${RW_BIN:-./relapsewatch}
CACHE=${BENCH_CACHE:-${TMPDIR:-/tmp}/relapsewatch-bench}
DEPTHS=${BENCH_DEPTHS:-0.1 1}
REPS=${BENCH_REPS:-5}
SLOW_REPS=${BENCH_SLOW_REPS:-1}

die() {
    echo "bench/count.sh: $*" >&2
    exit 1
}

[ -x "$RW_BIN" ] || die "no relapsewatch binary at $RW_BIN (set RW_BIN)"

# Peers come from Debian; install what is missing (needs root or sudo).
need_pkgs=""
command -v samtools >/dev/null || need_pkgs="$need_pkgs samtools"
command -v bgzip >/dev/null || need_pkgs="$need_pkgs tabix"
[ "${BENCH_MOSDEPTH:-1}" = 0 ] || command -v mosdepth >/dev/null || need_pkgs="$need_pkgs mosdepth"
[ -x /usr/bin/time ] || need_pkgs="$need_pkgs time"
if [ -n "$need_pkgs" ]; then
    echo "installing:$need_pkgs" >&2
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get install -y -q $need_pkgs >/dev/null 2>&1 ||
        { $SUDO apt-get update -q >/dev/null 2>&1 && $SUDO apt-get install -y -q $need_pkgs >/dev/null 2>&1; } ||
        die "could not install$need_pkgs"
fi
have_mosdepth=1
command -v mosdepth >/dev/null || have_mosdepth=0
[ "${BENCH_MOSDEPTH:-1}" = 0 ] && have_mosdepth=0

mkdir -p "$CACHE" || die "cannot create $CACHE"
work=$(mktemp -d "${TMPDIR:-/tmp}/rwbench.XXXXXX") || die "mktemp failed"
trap 'rm -rf "$work"' EXIT

# ---------------------------------------------------------------- inputs
bams=()
if [ -n "${BENCH_BAMS:-}" ]; then
    for b in $BENCH_BAMS; do bams+=("$b"); done
else
    for d in $DEPTHS; do
        f="$CACHE/sim_${d}x_seed1.bam"
        if [ ! -s "$f" ]; then
            echo "simulating $f ..." >&2
            "$RW_BIN" simulate --build hg38 --depth "$d" --seed 1 -o "$f" >&2 ||
                die "relapsewatch simulate failed; bench existing files with BENCH_BAMS='a.bam b.bam'"
        fi
        bams+=("$f")
    done
fi
for b in "${bams[@]}"; do
    [ -s "$b" ] || die "$b: missing"
    # mosdepth needs an index; keep it next to the cached file (or in the work folder).
    if [ "$have_mosdepth" = 1 ] && [ ! -e "$b.bai" ]; then
        samtools index "$b" 2>/dev/null || have_mosdepth=0
    fi
done

# ---------------------------------------------------------------- timing
# measure REPS CMD...: runs CMD REPS times; prints "median_seconds max_rss_kib".
measure() {
    local reps=$1
    shift
    local times=() rss=0 i t0 t1 m
    for ((i = 0; i < reps; i++)); do
        t0=$(date +%s%N)
        /usr/bin/time -f "%M" -o "$work/rss" "$@" >/dev/null 2>"$work/err" ||
            { echo "FAILED: $*" >&2; cat "$work/err" >&2; echo "nan 0"; return; }
        t1=$(date +%s%N)
        times+=($(((t1 - t0) / 1000)))
        m=$(tail -n 1 "$work/rss")
        [ "$m" -gt "$rss" ] && rss=$m
    done
    printf '%s\n' "${times[@]}" | sort -n |
        awk -v rss="$rss" '{ t[NR] = $1 } END {
            m = NR % 2 ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
            printf "%.3f %d\n", m / 1e6, rss }'
}

echo "relapsewatch count benchmark: $(nproc) cores, $REPS runs per timing (mosdepth: $SLOW_REPS)"
echo "binary: $RW_BIN ($("$RW_BIN" --version 2>/dev/null))"
for b in "${bams[@]}"; do
    nreads=$(samtools view -c "$b" 2>/dev/null)
    size=$(du -m "$b" | cut -f1)
    echo
    echo "== $b: $nreads records, $size MiB"
    for T in 1 2; do
        pool=""
        spool="-@ 0"
        [ "$T" -gt 1 ] && pool="$T" && spool="-@ $T"
        declare -A sec mem
        read -r sec[rw] mem[rw] < <(measure "$REPS" "$RW_BIN" count --threads "$T" \
            -o "$work/out.tsv" "$b")
        read -r sec[bgzip] mem[bgzip] < <(measure "$REPS" sh -c \
            "bgzip -@ $T -dc '$b' > /dev/null")
        read -r sec[samtools] mem[samtools] < <(measure "$REPS" samtools view $spool -c -q 20 \
            -F 0xF04 "$b")
        names="rw bgzip samtools"
        if [ "$have_mosdepth" = 1 ]; then
            read -r sec[mosdepth] mem[mosdepth] < <(measure "$SLOW_REPS" mosdepth -n \
                --fast-mode --by 500000 -t "${pool:-0}" "$work/md" "$b")
            names="$names mosdepth"
        fi
        echo "-- threads $T"
        printf '  %-34s %9s %9s %10s %10s\n' tool "median s" "x floor" "rw / tool" "peak MiB"
        for n in $names; do
            case $n in
            rw) label="relapsewatch count --threads $T" ;;
            bgzip) label="bgzip -dc (floor)" ;;
            samtools) label="samtools view -c -q20 -F0xF04" ;;
            mosdepth) label="mosdepth -n --fast-mode --by 500k" ;;
            esac
            awk -v l="$label" -v s="${sec[$n]}" -v f="${sec[bgzip]}" -v r="${sec[rw]}" \
                -v m="${mem[$n]}" 'BEGIN {
                    printf "  %-34s %9.3f %9.2f %10.2f %10.1f\n", l, s, s / f, r / s, m / 1024 }'
        done
        unset sec mem
    done
done
echo
echo "goal: relapsewatch faster than samtools (rw / tool < 1), within 1.3x of the floor, < 64 MiB"
