#!/bin/sh
# bench/validation.sh [OUTDIR]: every table of the README's "Validation" section in one command
# (issue 10's acceptance). One -O2 build tree in OUTDIR/build serves all the scripts; each one's
# output goes to OUTDIR/<name>.txt as it runs, and the tables are where each script's header
# (and bench/README.md) says. In order, with their run times on this 2-core machine:
#   realism      tests/unit/test_realism: the simulator against real plasma (MBC_315)   seconds
#   mbc315       tests/unit/test_mbc315: tumour fraction and shape of MBC_315 T1/T2    seconds
#   dilution     tests/unit/test_dilution: the in-silico dilution series                ~1 min
#   calibration  bench/calibration.sh: 1q21.3 false calls and detection curves          ~40 min
#   fragments    bench/fragments.sh: fragment-length modes                              ~9 min
#   purity       bench/purity.sh: genome-wide tumour fraction                           ~20 min
#   baseline     bench/baseline.sh: serial monitoring with the personal baseline       ~50 min
#   harsh        bench/harsh.sh: waves 2x and 3x the calibrated ones                    ~10 min
# ONLY="purity baseline" runs a subset; each script's own options (environment) pass through.
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
OUT=$(mkdir -p "${1:-/tmp/rw-validation}" && cd "${1:-/tmp/rw-validation}" && pwd)
B="$OUT/build"
mkdir -p "$B"
[ -f "$B/Makefile" ] || (cd "$B" && "$SRC/configure" CFLAGS='-O2' >/dev/null 2>&1)
make -C "$B" -j2 relapsewatch >/dev/null
export RW_SRCDIR="$SRC" RW_BUILDDIR="$B" RW_TEST_DATA="$SRC/tests/data"

unit() { # a unit test whose output is the table
    make -C "$B" -s "tests/unit/test_$1" >/dev/null && "$B/tests/unit/test_$1"
}

for step in ${ONLY:-realism mbc315 dilution calibration fragments purity baseline harsh}; do
    t0=$(date +%s)
    echo "== $step (output: $OUT/$step.txt)"
    case $step in
    realism | mbc315 | dilution) unit "$step" ;;
    calibration | fragments | purity | baseline | harsh) "$SRC/bench/$step.sh" "$B" ;;
    *) echo "validation.sh: unknown step $step" >&2; exit 2 ;;
    esac >"$OUT/$step.txt" 2>&1 || echo "   (failed: see $OUT/$step.txt)"
    echo "   $(( $(date +%s) - t0 )) s"
done
