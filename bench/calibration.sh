#!/bin/sh
# bench/calibration.sh [BUILDDIR]: the 1q21.3 call on realistic simulated samples (issue 10.2):
# false calls of normals outside the panel, the z denominator against the real spread, the
# detection curve, the effect of each step of the chain and of the panel's size.
# Builds tests/unit/test_calibration with -O2 in BUILDDIR (default /tmp/b-calibration) and runs
# its full version (RW_CALIBRATION_FULL=1): every sample is hg38 500 kb bin counts drawn by
# rw_sim_bins and analysed by the real core (rw_analyse, 1q21.3 call only); sample i is scored
# against panel i mod PANELS (different normals each), so the figures average over panels.
# Tables:
#   steps  at 0.1x realistic, panels of 30: no GC / components / GC / calibrated z / sample SE;
#   sizes  at 0.1x realistic: panels of 10, 20, 30, 50 normals;
#   curve  f = 0, 1, 2, 3, 5, 10, 20% at 0.1x, 0.3x, 1x, realistic and ideal, panels of 30, at
#          calibrated z >= 3 and at z >= 2.326 (the one-sided 1% threshold).
# Options (environment): PARTS ("steps sizes curve"), NULL (500 normals at f = 0), REP (100
# samples per f > 0), PANELS (5). Tables on stdout and in BUILDDIR/calibration-<part>.tsv. The
# defaults take about 40 min here (2 busy cores); NULL=200 REP=50 about a third of that.
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-/tmp/b-calibration}
mkdir -p "$B"
if [ ! -f "$B/Makefile" ]; then
    (cd "$B" && "$SRC/configure" CFLAGS='-O2' >/dev/null)
fi
make -C "$B" -j2 tests/unit/test_calibration >/dev/null
for part in ${PARTS:-steps sizes curve}; do
    RW_BUILDDIR="$B" RW_CALIBRATION_FULL=1 RW_CALIBRATION_PART="$part" \
        RW_CALIBRATION_NULL="${NULL:-500}" RW_CALIBRATION_REP="${REP:-100}" \
        RW_CALIBRATION_PANELS="${PANELS:-5}" "$B/tests/unit/test_calibration" |
        grep -v '^[0-9]* passed'
    cp "$B/calibration.tsv" "$B/calibration-$part.tsv"
done
