#!/bin/sh
# CLI test of `relapsewatch count`: exit codes, --help, outputs, no partial output, determinism.
. "$RW_SRCDIR/tests/lib.sh"

NA="$RW_TEST_DATA/na12878/na12878-chrM-Y-trunc.bam"
ORACLE="$RW_TEST_DATA/na12878/na12878_chrM_1kb_readstarts_F0xD04.tsv"
D="$t_tmp"

# run EXPECTED_RC DESCRIPTION ARGS...: stdout/stderr land in $D/out and $D/err.
run() {
    want=$1 desc=$2
    shift 2
    "$RW_CLI" "$@" >"$D/out" 2>"$D/err"
    check_eq "$desc: exit code" "$?" "$want"
}

# --- help and usage
run 0 "top-level --help" --help
check "top-level help lists count" grep -q "^  count " "$D/out"
run 0 "--version" --version
check "version printed" grep -q "^relapsewatch [0-9]" "$D/out"
run 2 "no command"
run 2 "unknown command" frobnicate
run 0 "count --help" count --help
for word in "default 20" "default 500000" "fragments (default)" "0xF04" "--reference" \
    "leftmost" "half-open" "no_length" "exit codes"; do
    check "count --help states '$word'" grep -q -- "$word" "$D/out"
done
run 2 "no input" count -o "$D/x.tsv"
run 2 "no -o" count "$NA"
run 2 "unknown option" count --frobnicate -o "$D/x.tsv" "$NA"
run 2 "bad --count" count --count molecules -o "$D/x.tsv" "$NA"
run 2 "bad --min-mapq" count --min-mapq 300 -o "$D/x.tsv" "$NA"
run 2 "bad --build" count --build hg17 -o "$D/x.tsv" "$NA"
run 2 "small bin without --contig" count --bin-size 1000 -o "$D/x.tsv" "$NA"
run 2 "frag window upside down" count --frag-min 200 --frag-max 100 -o "$D/x.tsv" "$NA"
check "no output after usage errors" test ! -e "$D/x.tsv"

# --- real reads: the NA12878 chrM oracle, exactly
run 0 "chrM 1 kb" count --contig chrM --bin-size 1000 --min-mapq 0 --count reads \
    --drop-flags 0xD04 -o "$D/chrM.tsv" --qc "$D/chrM.json" "$NA"
grep -v '^#' "$D/chrM.tsv" | tail -n +2 >"$D/chrM.body"
check "chrM counts equal the oracle" cmp -s "$D/chrM.body" "$ORACLE"
check_eq "chrM total" "$(awk '{s += $4} END {print s}' "$D/chrM.body")" 54729
check_eq "QC reads_kept" "$(jq .reads_kept "$D/chrM.json")" 54729
check_eq "QC build" "$(jq -r .build "$D/chrM.json")" hg19
check_eq "QC schema_version" "$(jq .schema_version "$D/chrM.json")" 2
check_eq "QC histogram length" "$(jq '.fragment_length.histogram_0_to_1000bp | length' "$D/chrM.json")" 1001
check_eq "QC dropped sum + kept = seen" \
    "$(jq '([.dropped[]] | add) + .reads_kept == .reads_seen' "$D/chrM.json")" true

# --- genome bins, determinism, bins file in
run 0 "genome bins" count -o "$D/a.tsv" --qc "$D/a.json" "$NA"
check "bins magic line" grep -q "^#relapsewatch-bins	version=1	build=hg19	bin_size=500000" "$D/a.tsv"
run 0 "second run, 2 threads" count --threads 2 -o "$D/b.tsv" --qc "$D/b.json" "$NA"
check "bins identical across runs" cmp -s "$D/a.tsv" "$D/b.tsv"
check "QC identical across runs" cmp -s "$D/a.json" "$D/b.json"
run 0 "bins file as input" count -o "$D/c.tsv" "$D/a.tsv"
check "bins file round trip" cmp -s "$D/a.tsv" "$D/c.tsv"
run 0 "QC to stdout" count -o "$D/d.tsv" --qc - "$NA"
check_eq "QC on stdout parses" "$(jq -r .format "$D/out")" BAM
run 1 "bins file, other bin size" count --bin-size 1000000 -o "$D/e.tsv" "$D/a.tsv"
check "no output: bin-size mismatch" test ! -e "$D/e.tsv"

# --- bad input: exit 1, message names the file, no output left behind
head -c 2000000 "$NA" >"$D/trunc.bam"
printf 'not a bam\n' >"$D/text.bam"
: >"$D/empty.bam"
for f in trunc text empty; do
    run 1 "$f.bam" count -o "$D/$f.tsv" --qc "$D/$f.json" "$D/$f.bam"
    check "$f.bam: message names the file" grep -q "$D/$f.bam" "$D/err"
    check "$f.bam: no bins output" test ! -e "$D/$f.tsv"
    check "$f.bam: no QC output" test ! -e "$D/$f.json"
done
run 1 "wrong build" count --build hg38 -o "$D/w.tsv" "$NA"
check "wrong build: message" grep -q "aligned to hg19, not hg38" "$D/err"
check "wrong build: no output" test ! -e "$D/w.tsv"
run 1 "CRAM without reference" count --contig CHROMOSOME_I --bin-size 1000 -o "$D/r.tsv" \
    "$RW_TEST_DATA/cram/range.cram"
check "CRAM: message asks for --reference" grep -q -- "--reference" "$D/err"
run 0 "CRAM with reference" count --contig CHROMOSOME_I --bin-size 1000 --count reads \
    --reference "$RW_TEST_DATA/cram/ce.fa" -o "$D/r.tsv" "$RW_TEST_DATA/cram/range.cram"
run 0 "same BAM" count --contig CHROMOSOME_I --bin-size 1000 --count reads \
    -o "$D/rb.tsv" "$RW_TEST_DATA/cram/range.bam"
check "CRAM counts equal BAM counts" cmp -s "$D/r.tsv" "$D/rb.tsv"
run 1 "missing file" count -o "$D/m.tsv" "$D/nope.bam"
check "no stray temp files" sh -c "! ls '$D' | grep -q '\.tmp\.'"

done_tests
