#!/bin/sh
# Every fuzzing harness (fuzz/fuzz.h) replays its seed corpus and every past finding
# (fuzz/regressions/<harness>/: each crash or hang a campaign found, kept once fixed), built
# here with the check's sanitizers: a parser that crashes or leaks on one of them fails the check.
. "$RW_SRCDIR/tests/lib.sh"
for h in bins wig pon count ddpcr route http; do
    set --
    for f in "$RW_SRCDIR/fuzz/corpus/$h"/* "$RW_SRCDIR/fuzz/regressions/$h"/*; do
        [ -f "$f" ] && set -- "$@" "$f"
    done
    if [ $# -eq 0 ]; then
        fail "fuzz_$h: no seed input"
        continue
    fi
    # Parsers may complain on stderr; what counts is that each input returns.
    if out=$(RW_SRCDIR="$RW_SRCDIR" timeout 120 "$RW_BUILDDIR/fuzz/fuzz_$h" "$@" 2>"$t_tmp/err") &&
        [ "$out" = "$# inputs" ]; then
        ok
    else
        fail "fuzz_$h on its corpus (${out:-no output}): $(tail -5 "$t_tmp/err")"
    fi
done
done_tests
