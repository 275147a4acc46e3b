#!/bin/sh
# Rewrites, in docs/configuration.md, the two generated parts: the block after
# "$ relapsewatchd --help" (the daemon's --help) and the analysis settings table (the lines from
# "| setting | group |" on, `relapsewatch settings --markdown`), so that they show the programs'
# own text (tests/check_docs.sh fails when they are stale).
# Usage: tools/gen-config-doc.sh BUILD_DIR [DOC]   (BUILD_DIR holds relapsewatch and relapsewatchd)
set -e
build=${1:?usage: $0 BUILD_DIR [docs/configuration.md]}
doc=${2:-$(dirname "$0")/../docs/configuration.md}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$build/relapsewatchd" --help >"$tmp/help"
"$build/relapsewatch" settings --markdown >"$tmp/table"
awk -v help="$tmp/help" -v table="$tmp/table" '
    function cat(f,   l) { while ((getline l < f) > 0) print l; close(f) }
    skip == "help" { if ($0 == "```") { skip = ""; print } ; next }
    skip == "table" { if ($0 ~ /^\|/) next; skip = "" }
    $0 == "$ relapsewatchd --help" { print; cat(help); skip = "help"; next }
    /^\| setting \| group \|/ { cat(table); skip = "table"; next }
    { print }' "$doc" >"$tmp/doc"
cp "$tmp/doc" "$doc"
