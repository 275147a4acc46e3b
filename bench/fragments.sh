#!/bin/sh
# bench/fragments.sh [BUILDDIR]: fragment-length modes (issue 10 part 4) on realistic simulated
# paired-end samples: all fragments, the 90-150 bp window and per-fragment weights
# (docs/method.md section 4.10). Builds tests/unit/test_fragments with -O2 in BUILDDIR (default
# /tmp/b-fragments) and runs its full version: per mode a panel of PANEL normals (with the
# simulator's GC), the threshold at <= 1% false calls from NULL held-apart realistic normals, and
# the detection of CN 6 at 1q21.3 at f = 1, 2, 3, 5, 10% (TUMOUR samples each), every sample
# counted in the three modes from the same fragments. Prints the table (detection at the
# threshold, and in brackets the product's own call: z >= 3 and the quality gate).
# Options (environment): PANEL (default 30), NULL (500), TUMOUR (100), DEPTH (0.1). About 8 min
# here with the defaults (2 busy cores).
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-/tmp/b-fragments}
mkdir -p "$B"
if [ ! -f "$B/Makefile" ]; then
    (cd "$B" && "$SRC/configure" CFLAGS='-O2' >/dev/null)
fi
make -C "$B" -j2 tests/unit/test_fragments >/dev/null
RW_BUILDDIR="$B" RW_FRAGMENTS_FULL=1 RW_FRAGMENTS_PANEL="${PANEL:-30}" \
    RW_FRAGMENTS_NULL="${NULL:-500}" RW_FRAGMENTS_TUMOUR="${TUMOUR:-100}" \
    RW_FRAGMENTS_DEPTH="${DEPTH:-0.1}" "$B/tests/unit/test_fragments" | grep -v '^[0-9]* passed'
