#!/bin/sh
# CLI test of the fragment-length modes (docs/method.md section 4.10) across count, pon build and
# call: a panel of paired-end normals is weighted by default and records its mode and its
# normals' lengths; call and count --pon follow it; a sample counted in another mode is refused;
# single-end normals give an all-fragments panel; usage errors of --frag-mode.
. "$RW_SRCDIR/tests/lib.sh"

D="$t_tmp"

run() {
    want=$1 desc=$2
    shift 2
    "$RW_CLI" "$@" >"$D/out" 2>"$D/err"
    check_eq "$desc: exit code" "$?" "$want"
}

# Small simulated samples (0.02x: ~300,000 fragments each): 5 paired-end normals, a tumour.
run 0 "paired normals" simulate --normals 5 --paired --depth 0.02 -o "$D/n"
run 0 "paired tumour" simulate --paired --depth 0.02 --seed 77 --tumour-fraction 0.5 \
    --events 1q21.3:6 -o "$D/t.bam"

# --- pon build: weighted by default for paired-end normals, mode and lengths in the panel
run 0 "pon build (paired)" pon build --gc-simulated --min-normals 5 -o "$D/pw.tsv" \
    --summary "$D/pw.json" "$D"/n/*.bam
check "panel filters say weighted" grep -q "^#filters	.*;frag=weighted:[0-9a-f]\{8\}$" "$D/pw.tsv"
check "panel keeps the normals' lengths" grep -q "^#frag_hist	0,0," "$D/pw.tsv"
check "summary states the mode" grep -q "frag=weighted:" "$D/pw.json"
check "pon build says it weighs" grep -q "counting the normals weighted" "$D/err"
run 0 "pon build --pon-frag-weighted false" pon build --gc-simulated --min-normals 5 \
    --pon-frag-weighted false -o "$D/pa.tsv" "$D"/n/*.bam
check "setting off: all fragments" grep -q "^#filters	.*;frag=0-0$" "$D/pa.tsv"
check "setting off: lengths still kept" grep -q "^#frag_hist	" "$D/pa.tsv"

# --- call follows the panel; another mode is refused
run 0 "call (panel's mode)" call --pon "$D/pw.tsv" --no-segment --no-bins "$D/t.bam"
check "call counted weighted" grep -q '"filters": *"[^"]*frag=weighted:' "$D/out"
run 1 "call --frag-mode all vs weighted panel" call --pon "$D/pw.tsv" --frag-mode all \
    --no-segment "$D/t.bam"
check "refusal names both filters" grep -q "frag=0-0.*frag=weighted" "$D/err"
run 1 "call --frag-mode weighted vs all panel" call --pon "$D/pa.tsv" --frag-mode weighted \
    --no-segment "$D/t.bam"

# --- count: weighted needs a panel; --pon counts as the panel's samples
run 2 "count weighted without a panel" count --frag-mode weighted -o "$D/x.tsv" "$D/t.bam"
run 2 "window without bounds" count --frag-mode window -o "$D/x.tsv" "$D/t.bam"
run 2 "bounds without window" count --frag-mode all --frag-min 90 -o "$D/x.tsv" "$D/t.bam"
run 2 "unknown mode" count --frag-mode short -o "$D/x.tsv" "$D/t.bam"
check "no output after usage errors" test ! -e "$D/x.tsv"
run 0 "count --pon" count --pon "$D/pw.tsv" -o "$D/tw.tsv" "$D/t.bam"
check "bins state the panel's weights" sh -c \
    "head -1 '$D/tw.tsv' | grep -q \"\$(grep '^#filters' '$D/pw.tsv' | cut -f2)\""
run 0 "call on the weighted bins" call --pon "$D/pw.tsv" --no-segment --no-bins "$D/tw.tsv"
cp "$D/out" "$D/from_bins.json"
"$RW_CLI" call --pon "$D/pw.tsv" --no-segment --no-bins "$D/t.bam" >"$D/from_bam.json" 2>/dev/null
# (the bins file holds the weighted counts in decimal: equal to its precision)
check_near "bins and BAM give the same z" \
    "$(grep -o '"z": *[-0-9.e]*' "$D/from_bins.json" | head -1 | sed 's/.*: *//')" \
    "$(grep -o '"z": *[-0-9.e]*' "$D/from_bam.json" | head -1 | sed 's/.*: *//')"
run 0 "count window" count --frag-min 90 --frag-max 150 -o "$D/win.tsv" "$D/t.bam"
check "window in the filters" sh -c "head -1 '$D/win.tsv' | grep -q 'frag=90-150'"

# --- single-end normals: no lengths, an all-fragments panel; weighted is refused
run 0 "single-end normals" simulate --normals 5 --depth 0.01 -o "$D/s"
run 0 "pon build (single-end)" pon build --min-normals 5 -o "$D/ps.tsv" "$D"/s/*.bam
check "single-end panel: all fragments" grep -q "^#filters	.*;frag=0-0$" "$D/ps.tsv"
check "single-end panel: no lengths" sh -c "! grep -q '^#frag_hist' '$D/ps.tsv'"
run 1 "pon build weighted (single-end)" pon build --frag-mode weighted --min-normals 5 \
    -o "$D/ps2.tsv" "$D"/s/*.bam
check "says paired-end reads are needed" grep -q "paired-end" "$D/err"
check "no panel after the error" test ! -e "$D/ps2.tsv"

done_tests
