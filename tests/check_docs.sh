#!/bin/sh
# The documentation shows the programs' real --help: docs/cli.md is regenerated and compared, and
# docs/configuration.md must contain relapsewatchd --help and the analysis settings table
# (relapsewatch settings --markdown) verbatim.
. "$RW_SRCDIR/tests/lib.sh"
# shows TEXT_FILE DOC: DOC contains the whole of TEXT_FILE, verbatim.
shows() {
    awk -v f="$1" 'BEGIN { while ((getline l < f) > 0) want = want l "\n" }
        { doc = doc $0 "\n" } END { exit index(doc, want) ? 0 : 1 }' "$2"
}
sh "$RW_SRCDIR/tools/gen-cli-doc.sh" "$RW_CLI" >"$t_tmp/cli.md"
if cmp -s "$t_tmp/cli.md" "$RW_SRCDIR/docs/cli.md"; then ok; else
    fail "docs/cli.md is stale: run tools/gen-cli-doc.sh build/check/relapsewatch > docs/cli.md"
    diff "$RW_SRCDIR/docs/cli.md" "$t_tmp/cli.md" | head -20 >&2
fi
prefix=$(sed -n 's/^prefix = //p' "$RW_BUILDDIR/Makefile")
"$RW_DAEMON" --help >"$t_tmp/d.txt"
if shows "$t_tmp/d.txt" "$RW_SRCDIR/docs/configuration.md"; then ok; else
    fail "docs/configuration.md does not show relapsewatchd --help (prefix $prefix) verbatim:" \
        "run tools/gen-config-doc.sh build/check"
fi
"$RW_CLI" settings --markdown >"$t_tmp/settings.md"
if shows "$t_tmp/settings.md" "$RW_SRCDIR/docs/configuration.md"; then ok; else
    fail "docs/configuration.md does not show relapsewatch settings --markdown verbatim:" \
        "run tools/gen-config-doc.sh build/check"
fi
done_tests
