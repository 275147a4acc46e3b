#!/usr/bin/env bash
# fuzz/run.sh [SECONDS] [HARNESS...]: a libFuzzer campaign over the harnesses of fuzz/ (all by
# default), SECONDS each (default 600), one after the other (2 cores: -jobs is not worth it).
# Builds the libraries with clang and -fsanitize=fuzzer-no-link,address,undefined in
# $FUZZ_BUILD (default build/fuzz), keeps each harness's growing corpus in $FUZZ_BUILD/corpus/H
# (so campaigns add up), findings in $FUZZ_BUILD/findings/H, and prints per harness the
# executions, the edge coverage and the findings. A finding, once fixed, is copied into
# fuzz/regressions/H/ so the check replays it for ever.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_EACH=${1:-600}
shift || true
HARNESSES=${*:-bins wig pon count ddpcr route http}
B=$(mkdir -p "${FUZZ_BUILD:-$SRC/build/fuzz}" && cd "${FUZZ_BUILD:-$SRC/build/fuzz}" && pwd)
command -v clang >/dev/null || { echo "fuzz/run.sh: needs clang (apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }

SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
# (re)configured when the flags lack the fuzzing-mode macro (a folder of an older run.sh)
if ! grep -qs FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION "$B/Makefile"; then
    (cd "$B" && "$SRC/configure" -q CC=clang CFLAGS="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link $SAN -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION" \
        >/dev/null 2>&1) || { echo "fuzz/run.sh: configure failed in $B" >&2; exit 2; }
fi
make -C "$B" -s -j2 core/libcore.la json/libjson.la server/libserver.la >/dev/null
LIBS="$B/server/.libs/libserver.a $B/json/.libs/libjson.a $B/core/.libs/libcore.a"
PKGS="libmicrohttpd jansson sqlite3 htslib libsodium zlib gnutls"

printf '| harness | seconds | executions | exec/s | edges (cov) | corpus | findings |\n|---|---|---|---|---|---|---|\n'
for h in $HARNESSES; do
    clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer $SAN -I"$SRC" -I"$B" $(pkg-config --cflags $PKGS) \
        "$SRC/fuzz/fuzz_$h.c" "$SRC/fuzz/path.c" $LIBS $(pkg-config --libs $PKGS) -lm -pthread \
        -o "$B/fuzz_$h"
    mkdir -p "$B/corpus/$h" "$B/findings/$h"
    log="$B/fuzz_$h.log"
    # Reads: 64 KiB holds whole BGZF blocks and a BAM's or CRAM's header and first records; larger
    # inputs only repeat records and cut the rate (each one decompressed and counted).
    max_len=262144
    [ "$h" = count ] && max_len=65536
    # -timeout: an input that takes longer is a hang (a finding); -rss_limit_mb: a leak or bomb.
    # A harness's dictionary (fuzz/H.dict: the API's words for http) guides its mutations.
    dict=()
    [ -f "$SRC/fuzz/$h.dict" ] && dict=(-dict="$SRC/fuzz/$h.dict")
    RW_SRCDIR="$SRC" "$B/fuzz_$h" "${dict[@]}" -max_total_time="$SECONDS_EACH" -print_final_stats=1 \
        -timeout=10 -rss_limit_mb=2048 -max_len=$max_len -artifact_prefix="$B/findings/$h/" \
        "$B/corpus/$h" "$SRC/fuzz/corpus/$h" >"$log" 2>&1 || true
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    found=$(find "$B/findings/$h" -type f | wc -l)
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$h" "$SECONDS_EACH" "${execs:-?}" \
        "$(( ${execs:-0} / SECONDS_EACH ))" "${cov:-?}" "$(ls "$B/corpus/$h" | wc -l)" "$found"
done
echo
echo "findings (crash-*, timeout-*, leak-*, oom-*) are in $B/findings/; logs in $B/fuzz_*.log"
