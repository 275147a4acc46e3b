#!/bin/sh
# The documentation shows the programs' real --help: docs/cli.md is regenerated and compared, and
# docs/configuration.md must contain relapsewatchd --help and the analysis settings table
# (relapsewatch settings --markdown) verbatim; the example configuration names every option.
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
# The doc shows a development build (--prefix=/usr/local, state in ./var). Another prefix (make
# distcheck, the Debian package) or an installed state folder (configure --localstatedir) changes
# only the default paths and may wrap a long one onto its own line: map the paths back and join
# such lines in both texts before comparing.
statedir=$(sed -n 's/^#define RW_STATEDIR "\(.*\)"$/\1/p' "$RW_BUILDDIR/config.h")
unwrap() {
    awk 'NR > 1 && /^                           \[default: / { sub(/^ +/, " "); prev = prev $0; next }
        NR > 1 { print prev } { prev = $0 } END { print prev }' "$@"
}
"$RW_DAEMON" --help | sed -e "s|$prefix/share/relapsewatch|/usr/local/share/relapsewatch|g" \
    ${statedir:+-e "s|$statedir/|var/|g"} | unwrap >"$t_tmp/d.txt"
unwrap "$RW_SRCDIR/docs/configuration.md" >"$t_tmp/configuration.md"
if shows "$t_tmp/d.txt" "$t_tmp/configuration.md"; then ok; else
    fail "docs/configuration.md does not show relapsewatchd --help (prefix $prefix) verbatim:" \
        "run tools/gen-config-doc.sh build/check"
fi
# The example configuration (installed as /etc/relapsewatch/relapsewatchd.conf) names every
# daemon option, set to its default or commented out.
missing=$("$RW_DAEMON" --help | sed '/^Analysis settings/q' | sed -n 's/^  --\([a-z0-9-]*\).*/\1/p' |
    while read -r o; do grep -q "^#\{0,1\}$o = " "$RW_SRCDIR/docs/relapsewatchd.conf.example" || echo "$o"; done)
if [ -z "$missing" ]; then ok; else
    fail "docs/relapsewatchd.conf.example lacks:" $missing
fi
"$RW_CLI" settings --markdown >"$t_tmp/settings.md"
if shows "$t_tmp/settings.md" "$RW_SRCDIR/docs/configuration.md"; then ok; else
    fail "docs/configuration.md does not show relapsewatch settings --markdown verbatim:" \
        "run tools/gen-config-doc.sh build/check"
fi
done_tests
