#!/bin/sh
# valgrind over the core through the CLI, on a build without sanitizers (ASan and valgrind do not
# mix): every command must run with no leak and no invalid access.
# Usage: RW_SRCDIR=... RW_BUILDDIR=<plain build> sh tests/valgrind.sh
. "$RW_SRCDIR/tests/lib.sh"
command -v valgrind >/dev/null || { echo "SKIP: valgrind not installed"; exit 77; }
vg() {
    valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible \
        --error-exitcode=99 "$RW_CLI" "$@" >"$t_tmp/vg.out" 2>"$t_tmp/vg.err"
}
# vg_ok NAME ARGS...: runs under valgrind; passes when the command succeeds with a clean report.
vg_ok() {
    name=$1; shift
    if vg "$@"; then ok; else fail "$name (exit $?)"; cat "$t_tmp/vg.err" >&2; fi
}
# vg_bad NAME ARGS...: a command that must fail with exit 1 (bad input), still clean under valgrind.
vg_bad() {
    name=$1; shift
    vg "$@"; rc=$?
    if [ $rc -eq 1 ]; then ok; else fail "$name (exit $rc, want 1)"; cat "$t_tmp/vg.err" >&2; fi
}
d=$t_tmp
vg_ok "simulate normals" simulate --normals 5 --bins "$d/normals" --depth 0.02 --seed 11
vg_ok "simulate BAM" simulate -o "$d/s.bam" --depth 0.005 --paired --seed 3 --tumour-fraction 0.3 --events "1q:3,1q21.3:6"
vg_ok "count BAM, 2 threads" count -o "$d/s.tsv" --qc "$d/qc.json" --threads 2 "$d/s.bam"
vg_ok "count CRAM" count --contig CHROMOSOME_I --bin-size 1000 --reference "$RW_TEST_DATA/cram/ce.fa" -o "$d/c.tsv" "$RW_TEST_DATA/cram/range.cram"
vg_bad "count truncated BAM" count -o "$d/t.tsv" "$RW_TEST_DATA/na12878/na12878-chrM-Y-trunc.bam.bai"
vg_ok "pon build" pon build -o "$d/pon.tsv" "$d"/normals/*.tsv
vg_ok "call bins" call --pon "$d/pon.tsv" -o "$d/call.json" --primary-cn 6 "$d/s.tsv"
vg_ok "call BAM" call --pon "$d/pon.tsv" -o "$d/call2.json" "$d/s.bam"
vg_ok "plot" plot -o "$d/p.svg" "$d/call.json"
vg_ok "ddpcr" ddpcr --well 812,420,15000 --well 790,401,14800
vg_bad "ddpcr impossible" ddpcr --well 20000,420,15000
vg_ok "segment coriell" segment --columns Chromosome,Position,Coriell.05296 -o "$d/seg.tsv" "$RW_TEST_DATA/coriell/coriell.tsv"
cat >"$d/trend.json" <<'JSON'
{"samples": [{"sample_id": 1, "date": "2024-01-10", "assay": "swgs", "ratio": 1.0, "cv": 0.02, "z": 0.1},
               {"sample_id": 2, "date": "2024-04-10", "assay": "swgs", "ratio": 1.09, "cv": 0.02, "z": 3.6},
               {"sample_id": 3, "date": "2024-07-10", "assay": "swgs", "ratio": 1.12, "cv": 0.02, "z": 4.4}],
 "treatments": [{"kind": "surgery", "start": "2023-12-01"}],
 "events": [{"kind": "clinical_relapse", "date": "2025-01-01"}]}
JSON
vg_ok "trend" trend -o "$d/trend.out.json" "$d/trend.json"
done_tests
