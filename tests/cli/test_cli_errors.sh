#!/bin/sh
# Bad input and usage errors of `relapsewatch pon`, `call` and `ddpcr`: each gives a clear message,
# exit 1 (bad input) or 2 (usage), and leaves no output file behind; plus the good paths they guard.
. "$RW_SRCDIR/tests/lib.sh"
[ -x "$RW_CLI" ] || { echo "SKIP: $RW_CLI not built"; exit 77; }
command -v jq >/dev/null 2>&1 || { echo "SKIP: jq not installed"; exit 77; }
d=$t_tmp

# expect_fail DESCRIPTION CODE PATTERN COMMAND...: exit code CODE and PATTERN in stderr.
expect_fail() {
    desc=$1 code=$2 pattern=$3
    shift 3
    "$@" >"$d/out" 2>"$d/err"
    rc=$?
    check_eq "$desc: exit code" "$rc" "$code"
    if grep -qi -- "$pattern" "$d/err"; then ok; else fail "$desc: stderr lacks '$pattern': $(cat "$d/err")"; fi
}
# no_file DESCRIPTION PATH...: none of the paths exists, nor any temp file in $d.
no_file() {
    desc=$1
    shift
    for f in "$@"; do
        if [ -e "$f" ]; then fail "$desc: $f left behind"; else ok; fi
    done
    if ls "$d" | grep -q '\.tmp\.'; then fail "$desc: temp file left: $(ls "$d")"; else ok; fi
}

# ---------------------------------------------------------------- fixtures (simulated bins)
"$RW_CLI" simulate --ideal --normals 5 --seed 10 --bins "$d/n38" >/dev/null 2>&1
"$RW_CLI" simulate --normals 5 --seed 20 --build hg19 --bins "$d/n19" >/dev/null 2>&1
"$RW_CLI" simulate --ideal --seed 99 --tumour-fraction 0.3 --events 1q21.3:6 --bins "$d/s38.tsv" \
    >/dev/null 2>&1
check "fixtures simulated" test -s "$d/s38.tsv" -a -s "$d/n38/normal_10.tsv" -a -s "$d/n19/normal_20.tsv"

"$RW_CLI" pon build -o "$d/pon38.tsv" "$d"/n38/*.tsv 2>"$d/err"
check_eq "pon build hg38 exit" "$?" 0
check "pon build warns below 10 normals" grep -q "fewer than the 10 recommended" "$d/err"
"$RW_CLI" pon build -o "$d/pon19.tsv" "$d"/n19/*.tsv 2>/dev/null
check_eq "pon build hg19 exit" "$?" 0
check_eq "pon info verifies" "$("$RW_CLI" pon info "$d/pon38.tsv" | jq -r '.build,.n_normals' | tr '\n' ' ')" "hg38 5 "

# the good path: JSON with versions, call and per-bin TSV
"$RW_CLI" call --pon "$d/pon38.tsv" --primary-cn 6 -o "$d/ok.json" --bins-out "$d/ok.bins.tsv" \
    "$d/s38.tsv" 2>"$d/err"
check_eq "call exit" "$?" 0
check_eq "call JSON" "$(jq -r '[.schema_version, .core_version, .call, .region, (.regions|length)] | @tsv' "$d/ok.json")" \
    "$(printf '2\t0.1.0\tamplified\t1q21.3\t3')"
check_eq "tumour-informed fraction near 0.3" \
    "$(jq '.tumour_fraction.tumour_informed.estimate > 0.2 and .tumour_fraction.tumour_informed.estimate < 0.4' "$d/ok.json")" true
check "bins TSV written" grep -q "^chrom	start	end	log2	mask" "$d/ok.bins.tsv"
rm -f "$d/ok.json" "$d/ok.bins.tsv"

# GC: a panel with the simulator's GC table corrects the sample too
"$RW_CLI" pon build --gc-simulated -o "$d/pongc.tsv" "$d"/n38/*.tsv 2>/dev/null
check_eq "pon build --gc-simulated exit" "$?" 0
check_eq "call with a GC panel is GC-corrected" \
    "$("$RW_CLI" call --no-bins --no-segment --pon "$d/pongc.tsv" "$d/s38.tsv" | jq -r '.qc.gc_corrected')" true
expect_fail "pon build --gc-fasta without human chromosomes" 1 "gc-fasta" \
    "$RW_CLI" pon build --gc-fasta "$RW_TEST_DATA/cram/ce.fa" -o "$d/p.tsv" "$d"/n38/*.tsv
no_file "pon build with a bad GC reference" "$d/p.tsv"

# ---------------------------------------------------------------- call: bad input (exit 1)
printf 'this is not a BAM file\n' >"$d/text.bam"
expect_fail "call text named .bam" 1 "text.bam" \
    "$RW_CLI" call --pon "$d/pon38.tsv" -o "$d/r.json" --bins-out "$d/r.tsv" "$d/text.bam"
no_file "call text named .bam" "$d/r.json" "$d/r.tsv"

: >"$d/empty.bam"
expect_fail "call empty file" 1 "empty" \
    "$RW_CLI" call --pon "$d/pon38.tsv" -o "$d/r.json" "$d/empty.bam"
no_file "call empty file" "$d/r.json"

"$RW_CLI" simulate --seed 3 --depth 0.002 -o "$d/small.bam" >/dev/null 2>&1
head -c 20000 "$d/small.bam" >"$d/trunc.bam"
expect_fail "call truncated BAM" 1 "trunc" \
    "$RW_CLI" call --pon "$d/pon38.tsv" -o "$d/r.json" "$d/trunc.bam"
no_file "call truncated BAM" "$d/r.json"

expect_fail "call hg38 sample vs hg19 PoN" 1 "hg38.*hg19\|hg19.*hg38" \
    "$RW_CLI" call --pon "$d/pon19.tsv" -o "$d/r.json" --bins-out "$d/r.tsv" "$d/s38.tsv"
no_file "PoN mismatch" "$d/r.json" "$d/r.tsv"

expect_fail "call wrong build" 1 "hg19" \
    "$RW_CLI" call --pon "$d/pon38.tsv" --build hg19 -o "$d/r.json" "$d/s38.tsv"
no_file "wrong build" "$d/r.json"

expect_fail "call other filters than the PoN" 1 "filters" \
    "$RW_CLI" call --pon "$d/pon38.tsv" --min-mapq 30 -o "$d/r.json" "$d/s38.tsv"
no_file "filters mismatch" "$d/r.json"

sed 's/^\(chr2	0	500000	\)[0-9]/\19/' "$d/pon38.tsv" >"$d/corrupt.tsv"
check "corrupted copy differs" sh -c "! cmp -s '$d/pon38.tsv' '$d/corrupt.tsv'"
expect_fail "call corrupted PoN" 1 "checksum" \
    "$RW_CLI" call --pon "$d/corrupt.tsv" -o "$d/r.json" "$d/s38.tsv"
no_file "corrupted PoN" "$d/r.json"
expect_fail "pon info corrupted PoN" 1 "corrupted" "$RW_CLI" pon info "$d/corrupt.tsv"

expect_fail "call missing PoN" 1 "nope.tsv" \
    "$RW_CLI" call --pon "$d/nope.tsv" -o "$d/r.json" "$d/s38.tsv"
expect_fail "call PoN not a PoN" 1 "not a relapsewatch panel" \
    "$RW_CLI" call --pon "$d/s38.tsv" -o "$d/r.json" "$d/s38.tsv"
no_file "bad PoN files" "$d/r.json"

# ---------------------------------------------------------------- pon build: bad input (exit 1)
expect_fail "pon build with 3 normals" 1 "at least 5" \
    "$RW_CLI" pon build -o "$d/p.tsv" "$d/n38/normal_10.tsv" "$d/n38/normal_11.tsv" \
    "$d/n38/normal_12.tsv"
no_file "pon build with 3 normals" "$d/p.tsv"
expect_fail "pon build with a text .bam" 1 "text.bam" \
    "$RW_CLI" pon build -o "$d/p.tsv" --summary "$d/p.json" "$d"/n38/*.tsv "$d/text.bam"
no_file "pon build with a text .bam" "$d/p.tsv" "$d/p.json"
expect_fail "pon build mixing builds" 1 "hg19\|build" \
    "$RW_CLI" pon build -o "$d/p.tsv" "$d"/n38/*.tsv "$d/n19/normal_20.tsv"
no_file "pon build mixing builds" "$d/p.tsv"
expect_fail "pon build with an empty file" 1 "empty" \
    "$RW_CLI" pon build -o "$d/p.tsv" "$d"/n38/*.tsv "$d/empty.bam"
no_file "pon build with an empty file" "$d/p.tsv"

# ---------------------------------------------------------------- ddpcr: bad input (exit 1)
expect_fail "ddpcr positives > droplets" 1 "more positive droplets" \
    "$RW_CLI" ddpcr -o "$d/dd.json" --well 2000,1000,1500
expect_fail "ddpcr saturated" 1 "saturated" "$RW_CLI" ddpcr -o "$d/dd.json" --well 10,500,500
expect_fail "ddpcr no reference" 1 "reference" "$RW_CLI" ddpcr -o "$d/dd.json" --well 10,0,500
expect_fail "ddpcr zero droplets" 1 "zero accepted" "$RW_CLI" ddpcr -o "$d/dd.json" --well 0,0,0
printf '10\t20\n' >"$d/wells.tsv"
expect_fail "ddpcr bad TSV" 1 "wells.tsv:1" "$RW_CLI" ddpcr -o "$d/dd.json" "$d/wells.tsv"
printf '{"wells": [{"target_positive": -1}]}' >"$d/wells.json"
expect_fail "ddpcr bad JSON" 1 "well 1" "$RW_CLI" ddpcr -o "$d/dd.json" "$d/wells.json"
expect_fail "ddpcr missing file" 1 "nope" "$RW_CLI" ddpcr -o "$d/dd.json" "$d/nope.tsv"
no_file "ddpcr errors" "$d/dd.json"
"$RW_CLI" ddpcr --well 2000,1000,10000 -o "$d/dd.json"
check_eq "ddpcr good well" "$(jq -r '.call' "$d/dd.json")" amplified

# ---------------------------------------------------------------- usage errors (exit 2)
expect_fail "call without --pon" 2 "pon" "$RW_CLI" call "$d/s38.tsv"
expect_fail "call without input" 2 "INPUT" "$RW_CLI" call --pon "$d/pon38.tsv"
expect_fail "call unknown option" 2 "unknown option" "$RW_CLI" call --bogus --pon "$d/pon38.tsv" "$d/s38.tsv"
expect_fail "call --primary-cn 2" 2 "primary-cn" "$RW_CLI" call --pon "$d/pon38.tsv" --primary-cn 2 "$d/s38.tsv"
expect_fail "pon without subcommand" 2 "usage" "$RW_CLI" pon
expect_fail "pon unknown subcommand" 2 "unknown subcommand" "$RW_CLI" pon make
expect_fail "pon build without -o" 2 "-o" "$RW_CLI" pon build "$d"/n38/*.tsv
expect_fail "pon build without normals" 2 "no normal" "$RW_CLI" pon build -o "$d/p.tsv"
expect_fail "ddpcr without wells" 2 "no well" "$RW_CLI" ddpcr
expect_fail "ddpcr malformed --well" 2 "T,R,N" "$RW_CLI" ddpcr --well 1,2
expect_fail "ddpcr bad volume" 2 "droplet-volume" "$RW_CLI" ddpcr --droplet-volume 0 --well 1,2,3
expect_fail "call bad --z-strong" 2 "z-strong" "$RW_CLI" call --pon "$d/pon38.tsv" --z-strong -1 "$d/s38.tsv"
no_file "usage errors" "$d/p.tsv"

# ---------------------------------------------------------------- --help: exit 0, every default
"$RW_CLI" call --help >"$d/h" 2>&1
check_eq "call --help exit" "$?" 0
check "call --help defaults" grep -q "(default 3; also --z-threshold)" "$d/h"
"$RW_CLI" pon build --help >"$d/h" 2>&1
check_eq "pon --help exit" "$?" 0
check "pon --help defaults" grep -q "(default 5 normals" "$d/h"
"$RW_CLI" ddpcr --help >"$d/h" 2>&1
check_eq "ddpcr --help exit" "$?" 0
check "ddpcr --help defaults" grep -q "default 0.85" "$d/h"

done_tests
