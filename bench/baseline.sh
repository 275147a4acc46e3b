#!/bin/sh
# bench/baseline.sh [BUILDDIR]: the patient's own baseline (issue 10.5) on the full cohort.
# Builds tests/unit/test_baseline with -O2 in BUILDDIR (default /tmp/b-baseline) and runs it on
# STABLE stable patients and RELAPSE relapses of 8 draws each (every draw simulated as realistic
# bin counts and analysed by the real core), once per depth in DEPTHS. Prints the table of each
# depth (panel rules alone vs with the personal baseline) and keeps it as
# BUILDDIR/baseline-<depth>x.tsv. The model is described at the top of tests/unit/test_baseline.c.
# Besides the table, a sweep of the two personal thresholds (personal_z, personal_z_single).
# Options (environment): STABLE (default 300), RELAPSE (100), CALIBRATION (40: stable patients
# apart on which the between-draw SD is measured), NORMALS (20), DEPTHS ("0.1 0.3"), CONST_SD
# (0.03: constitutional offset at 1q21.3, SD in log2), STABLE_SHARE (0.5: share of the
# genomic-wave variance that is a stable bias of the person), Z (the call's z_amplified; default
# the setting's). About 50 ms of CPU per simulated
# sample (9 per patient); the default run took ~25 min per depth on this busy machine.
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-/tmp/b-baseline}
mkdir -p "$B"
if [ ! -f "$B/Makefile" ]; then
    (cd "$B" && "$SRC/configure" CFLAGS='-O2' >/dev/null)
fi
make -C "$B" -j2 tests/unit/test_baseline >/dev/null
for depth in ${DEPTHS:-0.1 0.3}; do
    echo "== depth ${depth}x"
    RW_BUILDDIR="$B" RW_BASELINE_FULL=1 RW_BASELINE_DEPTH="$depth" \
        RW_BASELINE_STABLE="${STABLE:-300}" RW_BASELINE_RELAPSE="${RELAPSE:-100}" \
        RW_BASELINE_CALIBRATION="${CALIBRATION:-40}" RW_BASELINE_NORMALS="${NORMALS:-20}" \
        RW_BASELINE_CONST_SD="${CONST_SD:-0.03}" \
        RW_BASELINE_STABLE_SHARE="${STABLE_SHARE:-0.5}" RW_BASELINE_Z="${Z:-}" \
        "$B/tests/unit/test_baseline" |
        grep -v '^[0-9]* passed'
    cp "$B/baseline.tsv" "$B/baseline-${depth}x.tsv"
done
