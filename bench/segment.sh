#!/usr/bin/env bash
# bench/segment.sh: relapsewatch segment side by side with DNAcopy (the reference CBS) on the
# coriell array-CGH data (2,271 BAC clones, GM05296 and GM13330).
#
# What it does:
#   1. relapsewatch segment on both samples (defaults: whole chromosomes, alpha 0.01,
#      10,000 permutations at most, outlier smoothing), timed;
#   2. DNAcopy through Rscript with its defaults (CNA -> smooth.CNA -> set.seed(25) ->
#      segment), timed twice: the segment() calls alone, and the whole Rscript run;
#   3. prints the agreement: segments identical (same chromosome, first and last clone), each
#      DNAcopy breakpoint's offset in clones to relapsewatch's nearest one on the same
#      chromosome (0, 1, 2, more), and relapsewatch's breakpoints that DNAcopy lacks.
#
# Usage: bench/segment.sh [WORKDIR]    (default: a new mktemp -d folder, kept for inspection)
# Environment: RW (relapsewatch on PATH, else ./relapsewatch), DATA (tests/data/coriell of
#   this repository), REPEAT (5: runs of each tool, the best time is kept).
# Needs: relapsewatch, awk, Rscript with DNAcopy; installs r-bioc-dnacopy with apt-get when
#   missing (large: several hundred MB with R).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${1:-$(mktemp -d /tmp/rw-segbench.XXXXXX)}
RW=${RW:-$(command -v relapsewatch || echo ./relapsewatch)}
DATA=${DATA:-$HERE/../tests/data/coriell}
REPEAT=${REPEAT:-5}

die() {
    echo "segment.sh: $*" >&2
    exit 1
}
now() { date +%s.%N; }

[ -x "$RW" ] || die "relapsewatch not found (set RW=/path/to/relapsewatch)"
[ -r "$DATA/coriell.tsv" ] || die "no $DATA/coriell.tsv (set DATA)"
if ! Rscript -e 'suppressMessages(library(DNAcopy))' >/dev/null 2>&1; then
    echo "segment.sh: installing r-bioc-dnacopy (Debian package)..." >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends r-bioc-dnacopy \
        >/dev/null || die "cannot install r-bioc-dnacopy"
fi
mkdir -p "$WORK"
cd "$WORK"

# ------------------------------------------------------------------ relapsewatch
times=()
for _ in $(seq "$REPEAT"); do
    t0=$(now)
    "$RW" segment --columns Chromosome,Position,Coriell.05296 -o rw_c05296.tsv "$DATA/coriell.tsv"
    "$RW" segment --columns Chromosome,Position,Coriell.13330 -o rw_c13330.tsv "$DATA/coriell.tsv"
    times+=("$(echo "$(now) - $t0" | bc -l)")
done
best_rw=$(printf '%s\n' "${times[@]}" | sort -g | head -1)

# ------------------------------------------------------------------ DNAcopy
cat >dnacopy.R <<EOF
suppressMessages(library(DNAcopy))
d <- read.delim("$DATA/coriell.tsv", check.names = FALSE)
cna <- CNA(cbind(d[["Coriell.05296"]], d[["Coriell.13330"]]), d[["Chromosome"]],
           d[["Position"]], data.type = "logratio", sampleid = c("c05296", "c13330"))
best <- Inf
for (r in seq_len(as.integer(commandArgs(TRUE)[1]))) {
  t0 <- proc.time()[["elapsed"]]
  sm <- smooth.CNA(cna)
  set.seed(25)
  seg <- segment(sm, verbose = 0)
  best <- min(best, proc.time()[["elapsed"]] - t0)
}
write.table(seg\$output, "dnacopy.tsv", sep = "\t", quote = FALSE, row.names = FALSE)
cat(sprintf("%.4f\n", best), file = "dnacopy_time.txt")
EOF
Rscript dnacopy.R "$REPEAT"
t_r=$(cat dnacopy_time.txt)
t0=$(now)
Rscript dnacopy.R 1
t_r_total=$(echo "$(now) - $t0" | bc -l)

# ------------------------------------------------------------------ agreement
# Per sample, segments as (chrom, first ordinal, last ordinal) over the sample's non-missing
# clones in file order: both tools number the same clones.
awk -F'\t' '
FNR == 1 { file++ }
file == 1 && FNR > 2 { add("c05296", $1, $4) }
file == 2 && FNR > 2 { add("c13330", $1, $4) }
file == 3 && FNR > 1 { addd($1, $2, $5) }
function add(s, c, n) { no++; os[no] = s; oc[no] = c; of[no] = ord[s]; ord[s] += n; ol[no] = ord[s] - 1 }
function addd(s, c, n) { nd++; ds[nd] = s; dc[nd] = c; df[nd] = dord[s]; dord[s] += n; dl[nd] = dord[s] - 1 }
function abs(x) { return x < 0 ? -x : x }
END {
    same = 0
    for (i = 1; i <= nd; i++) for (j = 1; j <= no; j++)
        if (ds[i] == os[j] && dc[i] == oc[j] && df[i] == of[j] && dl[i] == ol[j]) { same++; break }
    # breakpoints: last ordinal of a segment followed by one on the same chromosome
    for (i = 1; i < nd; i++) {
        if (ds[i] != ds[i + 1] || dc[i] != dc[i + 1]) continue
        dbp++; best = -1
        for (j = 1; j < no; j++) {
            if (os[j] != os[j + 1] || oc[j] != oc[j + 1] || os[j] != ds[i] || oc[j] != dc[i]) continue
            d = abs(ol[j] - dl[i]); if (best < 0 || d < best) best = d
        }
        if (best == 0) o0++; else if (best == 1) o1++; else if (best == 2) o2++; else omore++
    }
    for (j = 1; j < no; j++) {
        if (os[j] != os[j + 1] || oc[j] != oc[j + 1]) continue
        obp++; hit = 0
        for (i = 1; i < nd; i++)
            if (ds[i] == ds[i + 1] && dc[i] == dc[i + 1] && ds[i] == os[j] && dc[i] == oc[j] &&
                abs(ol[j] - dl[i]) <= 2) hit = 1
        if (!hit) extra++
    }
    printf "segments: relapsewatch %d, DNAcopy %d, identical (same chromosome, first and last clone): %d\n", no, nd, same
    printf "DNAcopy breakpoints: %d; offset to relapsewatch (clones): 0: %d, 1: %d, 2: %d, >2 or missing: %d\n", dbp, o0, o1, o2, omore
    printf "relapsewatch breakpoints: %d; without a DNAcopy breakpoint within 2 clones: %d\n", obp, extra + 0
}' rw_c05296.tsv rw_c13330.tsv dnacopy.tsv

printf 'time, both samples (best of %s): relapsewatch %.3f s (two CLI runs, process start '\
'included); DNAcopy smooth.CNA + segment %.3f s inside R; one whole Rscript run (R start, '\
'library, read, segment) %.3f s\n' "$REPEAT" "$best_rw" "$t_r" "$t_r_total"
echo "outputs in $WORK"
