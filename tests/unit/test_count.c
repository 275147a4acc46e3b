/* Unit tests of read counting against known truth: samtools on every bin (BAM, SAM, CRAM), the
 * NA12878 chrM oracle, a hand-built BAM with every drop reason, and each kind of bad input. */
#include "core/count.h"

#include <htslib/hts.h>
#include <htslib/sam.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/harness.h"

static char tmpdir[1024];

static void path_in_tmp(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", tmpdir, name);
}

static int run_cmd(const char *cmd)
{
    int r = system(cmd);
    return r == 0 ? 0 : -1;
}

/* ------------------------------------------------------------------ samtools oracle */

/* Per-bin counts of read starts on one contig by samtools + awk, with the same filters.
 * fragments: add the documented one-mate-per-fragment rule as a samtools expression. */
static int samtools_bins(const char *file, const char *ref, const char *contig, int bin_size,
                         int fragments, uint64_t *out, size_t n)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "samtools view %s%s -q 20 -F 0xF04 %s '%s' | "
             "awk -v c='%s' -v bs=%d '$3 == c { n[int(($4 - 1) / bs)]++ } "
             "END { for (k in n) print k, n[k] }'",
             ref ? "-T " : "", ref ? ref : "",
             fragments ? "-e '!flag.paired || flag.munmap || (rnext == rname && (pos < mpos || "
                         "(pos == mpos && !flag.read2))) || (rnext != rname && flag.read1)'"
                       : "",
             file, contig, bin_size);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    memset(out, 0, n * sizeof *out);
    unsigned long long k, v;
    while (fscanf(p, "%llu %llu", &k, &v) == 2)
        if (k < n)
            out[k] = v;
    return pclose(p) == 0 ? 0 : -1;
}

/* Counts one contig with relapsewatch and compares every bin with samtools. */
static void check_vs_samtools(const char *file, const char *ref, const char *contig, int bin_size,
                              rw_count_mode mode)
{
    rw_count_opts o;
    rw_count_opts_init(&o);
    o.bin_size = bin_size;
    o.mode = mode;
    o.reference = ref;
    rw_contig_counts *cc = NULL;
    rw_error err = {0};
    rw_status st = rw_count_contig(file, &o, contig, &cc, NULL, NULL, NULL, &err);
    CHECK(st == RW_OK);
    if (st) {
        fprintf(stderr, "  %s: %s\n", file, err.msg);
        return;
    }
    uint64_t *want = calloc(cc->n, sizeof *want);
    CHECK(samtools_bins(file, ref, contig, bin_size, mode == RW_COUNT_FRAGMENTS, want, cc->n) == 0);
    size_t bad = 0;
    uint64_t total = 0;
    for (size_t i = 0; i < cc->n; i++) {
        total += cc->count[i];
        if (cc->count[i] != want[i] && bad++ < 3)
            fprintf(stderr, "  %s %s bin %zu: got %llu, samtools %llu\n", file, contig, i,
                    (unsigned long long)cc->count[i], (unsigned long long)want[i]);
    }
    CHECK(bad == 0);
    CHECK(total > 0); /* a comparison of zeros would prove nothing */
    free(want);
    rw_contig_counts_free(cc);
}

static void test_samtools(void)
{
    if (run_cmd("samtools --version >/dev/null 2>&1")) {
        printf("note: samtools not found, samtools comparisons not run\n");
        return;
    }
    char sam[1200], cmd[4096];
    const char *ex1 = rw_test_path(RW_TEST_DATA, "ex1/ex1.bam");
    path_in_tmp(sam, sizeof sam, "ex1.sam");
    snprintf(cmd, sizeof cmd, "samtools view -h -o '%s' '%s'", sam, ex1);
    CHECK(run_cmd(cmd) == 0);

    for (int m = 0; m < 2; m++) {
        rw_count_mode mode = m ? RW_COUNT_READS : RW_COUNT_FRAGMENTS;
        for (int bs = 100; bs <= 1000; bs *= 10) {
            check_vs_samtools(ex1, NULL, "seq1", bs, mode);
            check_vs_samtools(ex1, NULL, "seq2", bs, mode);
            check_vs_samtools(sam, NULL, "seq1", bs, mode);
            check_vs_samtools(sam, NULL, "seq2", bs, mode);
        }
        const char *ref = rw_test_path(RW_TEST_DATA, "cram/ce.fa");
        check_vs_samtools(rw_test_path(RW_TEST_DATA, "cram/range.bam"), NULL, "CHROMOSOME_I", 1000,
                          mode);
        check_vs_samtools(rw_test_path(RW_TEST_DATA, "cram/range.cram"), ref, "CHROMOSOME_I", 1000,
                          mode);
        check_vs_samtools(rw_test_path(RW_TEST_DATA, "cram/range.cram"), ref, "CHROMOSOME_I",
                          1000000, mode);
    }
}

/* ------------------------------------------------------------------ NA12878 oracle */

static void test_na12878(void)
{
    const char *bam = rw_test_path(RW_TEST_DATA, "na12878/na12878-chrM-Y-trunc.bam");
    FILE *f =
        fopen(rw_test_path(RW_TEST_DATA, "na12878/na12878_chrM_1kb_readstarts_F0xD04.tsv"), "r");
    CHECK(f != NULL);
    if (!f)
        return;
    rw_count_opts o;
    rw_count_opts_init(&o);
    o.min_mapq = 0;
    o.mode = RW_COUNT_READS;
    o.drop_flags = 0xD04; /* the oracle's filter: QC-fail reads are not excluded */
    o.bin_size = 1000;
    rw_contig_counts *cc = NULL;
    rw_count_qc qc;
    rw_error err = {0};
    CHECK(rw_count_contig(bam, &o, "chrM", &cc, &qc, NULL, NULL, &err) == RW_OK);
    if (!cc) {
        fclose(f);
        return;
    }
    CHECK(cc->n == 17 && cc->length == 16571);
    char chrom[64];
    long long s, e, v;
    size_t lines = 0, same = 0;
    uint64_t total = 0;
    while (fscanf(f, "%63s %lld %lld %lld", chrom, &s, &e, &v) == 4) {
        size_t i = (size_t)(s / 1000);
        if (i < cc->n && cc->count[i] == (uint64_t)v)
            same++;
        lines++;
    }
    fclose(f);
    for (size_t i = 0; i < cc->n; i++)
        total += cc->count[i];
    CHECK(lines == 17 && same == 17);
    CHECK(total == 54729);
    CHECK(qc.kept == 54729);
    CHECK(qc.build == RW_BUILD_HG19);
    CHECK(strcmp(qc.format, "BAM") == 0);
    rw_contig_counts_free(cc);

    /* Same counts with a decompression thread pool (deterministic whatever the threads). */
    o.threads = 2;
    CHECK(rw_count_contig(bam, &o, "chrM", &cc, NULL, NULL, NULL, &err) == RW_OK);
    total = 0;
    for (size_t i = 0; cc && i < cc->n; i++)
        total += cc->count[i];
    CHECK(total == 54729);
    rw_contig_counts_free(cc);

    /* Build detection: hg19 accepted; hg38 requested -> wrong build, with a message. */
    rw_bins *bins = NULL;
    rw_count_opts_init(&o);
    CHECK(rw_count_bam(bam, &o, &bins, &qc, NULL, NULL, &err) == RW_OK);
    CHECK(bins && bins->build == RW_BUILD_HG19 && bins->bin_size == RW_BIN_SIZE_DEFAULT);
    CHECK(qc.dropped[RW_DROP_CONTIG] > 0); /* chrM is not a genome bin */
    rw_bins_free(bins);
    o.build = RW_BUILD_HG38;
    err.msg[0] = 0;
    CHECK(rw_count_bam(bam, &o, &bins, NULL, NULL, NULL, &err) == RW_ERR_BUILD);
    CHECK(bins == NULL);
    CHECK(strstr(err.msg, "hg19") && strstr(err.msg, "hg38"));
    o.build = RW_BUILD_HG38;
    CHECK(rw_count_contig(bam, &o, "chrM", &cc, NULL, NULL, NULL, &err) == RW_ERR_BUILD);
    /* A contig that is not in the header. */
    o.build = RW_BUILD_UNKNOWN;
    CHECK(rw_count_contig(bam, &o, "chrQ", &cc, NULL, NULL, NULL, &err) == RW_ERR_INPUT);
    CHECK(strstr(err.msg, "chrQ") != NULL);
}

/* ------------------------------------------------------------------ hand-built BAM */

typedef struct rec {
    const char *name;
    unsigned flag;
    int tid; /* index into the header below; -1 unmapped */
    int64_t pos;
    int mapq;
    int mtid;
    int64_t mpos;
    int64_t tlen;
} rec;

/* Header contigs: chr1..chr22, chrX, chrY (hg38), then chrM. */
#define TID_X 22
#define TID_Y 23
#define TID_M 24

static const rec recs[] = {
    /* pair A: chr1 bin 0, length 250 */
    {"A", 99, 0, 100, 60, 0, 300, 250},
    {"A", 147, 0, 300, 60, 0, 100, -250},
    /* pair B: chr1 bin 1, length 180 */
    {"B", 99, 0, 600000, 60, 0, 600100, 180},
    {"B", 147, 0, 600100, 60, 0, 600000, -180},
    /* pair C: both mates at one position: read 1 counts; length 150 */
    {"C", 97, 1, 1000, 60, 1, 1000, 150},
    {"C", 145, 1, 1000, 60, 1, 1000, -150},
    /* duplicate pair */
    {"D", 99 | 0x400, 0, 100, 60, 0, 300, 250},
    {"D", 147 | 0x400, 0, 300, 60, 0, 100, -250},
    /* single-end reads dropped for one reason each */
    {"lowq", 0, 2, 5, 10, -1, -1, 0},
    {"sec", 0x100, 0, 700, 60, -1, -1, 0},
    {"supp", 0x800, 0, 800, 60, -1, -1, 0},
    {"qcfail", 0x200, 0, 900, 60, -1, -1, 0},
    {"unmapped", 0x4, -1, -1, 0, -1, -1, 0},
    {"chrM", 0, TID_M, 50, 60, -1, -1, 0},
    {"chrY", 0, TID_Y, 3000000, 60, -1, -1, 0},
    /* counted single-end reads, two on the bin boundary */
    {"X", 16, TID_X, 155000000, 60, -1, -1, 0},
    {"left", 0, 0, 499999, 60, -1, -1, 0},
    {"right", 0, 0, 500000, 60, -1, -1, 0},
    /* mate unmapped: counted as a single read */
    {"mu", 1 | 8 | 0x80, 4, 1234, 60, 4, 1234, 0},
    /* mates on two contigs: read 1 counts */
    {"tr", 1 | 0x40, 5, 10, 60, 6, 20, 0},
    {"tr", 1 | 0x80, 6, 20, 60, 5, 10, 0},
};
#define NRECS (sizeof recs / sizeof recs[0])

static int write_test_bam(const char *path, const char *mode)
{
    kstring_t txt = {0};
    ksprintf(&txt, "@HD\tVN:1.6\tSO:unsorted\n");
    for (int c = 0; c < RW_NCHROM; c++)
        ksprintf(&txt, "@SQ\tSN:%s\tLN:%lld\n", rw_chrom_name(c),
                 (long long)rw_chrom_length(RW_BUILD_HG38, c));
    ksprintf(&txt, "@SQ\tSN:chrM\tLN:16569\n");
    sam_hdr_t *h = sam_hdr_parse(txt.l, txt.s);
    samFile *out = sam_open(path, mode);
    bam1_t *b = bam_init1();
    int rc = (h && out && b && sam_hdr_write(out, h) == 0) ? 0 : -1;
    char seq[51];
    memset(seq, 'A', 50);
    seq[50] = 0;
    uint32_t cigar = bam_cigar_gen(50, BAM_CMATCH);
    for (size_t i = 0; rc == 0 && i < NRECS; i++) {
        const rec *r = &recs[i];
        int mapped = r->tid >= 0 && !(r->flag & 4);
        if (bam_set1(b, strlen(r->name), r->name, (uint16_t)r->flag, r->tid, r->pos,
                     (uint8_t)r->mapq, mapped ? 1 : 0, &cigar, r->mtid, r->mpos, r->tlen, 50, seq,
                     NULL, 0) < 0 ||
            sam_write1(out, h, b) < 0)
            rc = -1;
    }
    bam_destroy1(b);
    if (out && sam_close(out) < 0)
        rc = -1;
    sam_hdr_destroy(h);
    free(txt.s);
    return rc;
}

static void progress_cb(void *ctx, double f)
{
    double *st = ctx; /* [0] calls, [1] last value, [2] 1 if ever decreasing */
    if (f < st[1])
        st[2] = 1;
    st[0]++;
    st[1] = f;
}

static double bin_at(const rw_bins *b, int chrom, int64_t pos)
{
    return b->count[rw_bins_index(b, chrom, pos)];
}

static double sum_bins(const rw_bins *b)
{
    double s = 0;
    for (size_t i = 0; i < b->n; i++)
        s += b->count[i];
    return s;
}

static void test_simulated(void)
{
    char bam[1200], sam[1200];
    path_in_tmp(bam, sizeof bam, "sim.bam");
    path_in_tmp(sam, sizeof sam, "sim.sam");
    CHECK(write_test_bam(bam, "wb") == 0);
    CHECK(write_test_bam(sam, "w") == 0);
    for (int f = 0; f < 2; f++) {
        const char *path = f ? sam : bam;
        rw_count_opts o;
        rw_count_opts_init(&o);
        rw_count_qc qc;
        rw_bins *b = NULL;
        rw_error err = {0};
        double prog[3] = {0, 0, 0};
        CHECK(rw_count_bam(path, &o, &b, &qc, progress_cb, prog, &err) == RW_OK);
        if (!b) {
            fprintf(stderr, "  %s: %s\n", path, err.msg);
            continue;
        }
        CHECK(prog[0] >= 1 && prog[1] == 1.0 && prog[2] == 0);
        CHECK(b->build == RW_BUILD_HG38 && b->nchrom == 23);
        CHECK(bin_at(b, 0, 0) == 2);      /* pair A + "left" at 499,999 */
        CHECK(bin_at(b, 0, 500000) == 2); /* pair B + "right" at 500,000 */
        CHECK(bin_at(b, 1, 0) == 1);      /* pair C once */
        CHECK(bin_at(b, RW_CHROM_X, 155000000) == 1);
        CHECK(bin_at(b, 4, 0) == 1); /* mate unmapped */
        CHECK(bin_at(b, 5, 0) == 1 && bin_at(b, 6, 0) == 0);
        CHECK(sum_bins(b) == 8);
        CHECK(qc.seen == NRECS && qc.kept == 8);
        CHECK(qc.dropped[RW_DROP_DUPLICATE] == 2 && qc.dropped[RW_DROP_MAPQ] == 1);
        CHECK(qc.dropped[RW_DROP_SECONDARY] == 1 && qc.dropped[RW_DROP_SUPPLEMENTARY] == 1);
        CHECK(qc.dropped[RW_DROP_QCFAIL] == 1 && qc.dropped[RW_DROP_UNMAPPED] == 1);
        CHECK(qc.dropped[RW_DROP_CONTIG] == 2 && qc.dropped[RW_DROP_MATE] == 4);
        CHECK(qc.frag_n == 3 && qc.frag_median == 180);
        CHECK(qc.frag_hist[250] == 1 && qc.frag_hist[180] == 1 && qc.frag_hist[150] == 1);
        CHECK_NEAR(qc.duplicate_rate, 2.0 / 17.0, 1e-12);
        CHECK(qc.median_per_bin == 0);
        rw_bins_free(b);

        /* reads mode: both mates count, nothing dropped as "mate" */
        o.mode = RW_COUNT_READS;
        CHECK(rw_count_bam(path, &o, &b, &qc, NULL, NULL, &err) == RW_OK);
        if (b) {
            CHECK(sum_bins(b) == 12 && qc.kept == 12 && qc.dropped[RW_DROP_MATE] == 0);
            CHECK(bin_at(b, 0, 0) == 3 && bin_at(b, 1, 0) == 2 && bin_at(b, 6, 0) == 1);
        }
        rw_bins_free(b);

        /* fragment-length window 160..300: A and B stay; C is too short; reads without a
         * length (3 single-end, mate unmapped, mates on two contigs) are dropped. */
        o.mode = RW_COUNT_FRAGMENTS;
        o.frag_min = 160;
        o.frag_max = 300;
        CHECK(rw_count_bam(path, &o, &b, &qc, NULL, NULL, &err) == RW_OK);
        if (b)
            CHECK(sum_bins(b) == 2 && bin_at(b, 0, 0) == 1 && bin_at(b, 0, 500000) == 1);
        CHECK(qc.dropped[RW_DROP_LENGTH] == 1 && qc.dropped[RW_DROP_NO_LENGTH] == 5);
        rw_bins_free(b);

        /* weighted mode: each fragment counts its length's weight; those without a length or
         * of weight 0 are dropped like the window's; exclusive with a window */
        static double w[RW_FRAG_HIST_MAX + 1];
        w[250] = 0.5, w[180] = 2.25, w[150] = 0;
        o.frag_min = o.frag_max = 0;
        o.frag_weights = w;
        CHECK(rw_count_bam(path, &o, &b, &qc, NULL, NULL, &err) == RW_OK);
        if (b)
            CHECK(sum_bins(b) == 2.75 && bin_at(b, 0, 0) == 0.5 && bin_at(b, 0, 500000) == 2.25 &&
                  bin_at(b, 1, 0) == 0);
        CHECK(qc.kept == 2 && qc.dropped[RW_DROP_LENGTH] == 1 &&
              qc.dropped[RW_DROP_NO_LENGTH] == 5 && qc.frag_n == 3);
        if (b)
            CHECK(!strncmp(b->filters, "mapq=20;flags=0xF04;mode=fragments;frag=weighted:", 49) &&
                  strlen(b->filters) == 57);
        rw_bins_free(b);
        o.frag_max = 300;
        CHECK(rw_count_bam(path, &o, &b, &qc, NULL, NULL, &err) == RW_ERR_USAGE && !b);
        o.frag_max = 0;
        w[100] = -1;
        CHECK(rw_count_bam(path, &o, &b, &qc, NULL, NULL, &err) == RW_ERR_USAGE && !b);
        w[100] = 0;

        /* chrY counted on request; MAPQ 0 keeps the low-MAPQ read */
        rw_count_opts_init(&o);
        o.include_y = 1;
        o.min_mapq = 0;
        CHECK(rw_count_bam(path, &o, &b, &qc, NULL, NULL, &err) == RW_OK);
        if (b)
            CHECK(b->nchrom == 24 && bin_at(b, RW_CHROM_Y, 3000000) == 1 && bin_at(b, 2, 0) == 1 &&
                  sum_bins(b) == 10);
        rw_bins_free(b);

        /* duplicates kept when their flag is not dropped */
        rw_count_opts_init(&o);
        o.drop_flags = RW_COUNT_DROP_FLAGS & ~0x400u;
        CHECK(rw_count_bam(path, &o, &b, &qc, NULL, NULL, &err) == RW_OK);
        if (b)
            CHECK(bin_at(b, 0, 0) == 3 && qc.dropped[RW_DROP_DUPLICATE] == 0);
        rw_bins_free(b);
    }

    /* bins file in, bins out: rw_count_load accepts it where a BAM goes */
    rw_count_opts o;
    rw_count_opts_init(&o);
    rw_bins *b = NULL, *back = NULL;
    rw_count_qc qc;
    rw_error err = {0};
    char tsv[1200];
    path_in_tmp(tsv, sizeof tsv, "sim.tsv");
    CHECK(rw_count_load(bam, &o, &b, &qc, NULL, NULL, &err) == RW_OK);
    CHECK(b && strcmp(qc.format, "BAM") == 0);
    if (b) {
        CHECK(rw_bins_write(b, tsv, &err) == RW_OK);
        CHECK(rw_count_load(tsv, &o, &back, &qc, NULL, NULL, &err) == RW_OK);
        CHECK(back && strcmp(qc.format, "bins") == 0 && qc.seen == 0);
        CHECK(back && rw_bins_same_layout(b, back) &&
              memcmp(b->count, back->count, b->n * sizeof *b->count) == 0);
        rw_bins_free(back);
        o.include_y = 1; /* the file has no chrY: its bins read as missing */
        CHECK(rw_count_load(tsv, &o, &back, &qc, NULL, NULL, &err) == RW_OK);
        CHECK(back && back->nchrom == 24 && back->count[back->n - 1] != back->count[back->n - 1]);
        rw_bins_free(back);
        o.include_y = 0;
        o.bin_size = 1000000;
        CHECK(rw_count_load(tsv, &o, &back, &qc, NULL, NULL, &err) == RW_ERR_MISMATCH);
        o.bin_size = RW_BIN_SIZE_DEFAULT;
        o.build = RW_BUILD_HG19;
        CHECK(rw_count_load(tsv, &o, &back, &qc, NULL, NULL, &err) == RW_ERR_BUILD);
        CHECK(back == NULL);
        o.build = RW_BUILD_UNKNOWN;
        /* The file states the filters it was counted with; other filters are a mismatch. */
        CHECK(strcmp(b->filters, "mapq=20;flags=0xF04;mode=fragments;frag=0-0") == 0);
        o.min_mapq = 30;
        CHECK(rw_count_load(tsv, &o, &back, &qc, NULL, NULL, &err) == RW_ERR_MISMATCH);
        CHECK(back == NULL && strstr(err.msg, "mapq=20") && strstr(err.msg, "mapq=30"));
        o.min_mapq = 20;
    }
    rw_bins_free(b);
}

/* ------------------------------------------------------------------ fragment-length weights */

/* rw_frag_weights from a normal histogram (the simulator's shape, 1,000,000 fragments): a normal
 * fragment weighs 1 on average; short lengths typical of tumour weigh more, long ones less;
 * the ratio is capped; rare lengths get 0; the identifier follows the table. Modes by name. */
static void test_weights(void)
{
    enum { H = RW_FRAG_HIST_MAX + 1 };
    static double hist[H], w[H], w2[H];
    double total = 0;
    for (int l = 40; l <= 700; l++) { /* split-normal peak at 167 and a di-nucleosome bump */
        double z = (l - 167.0) / (l < 167 ? 20 : 12), z2 = (l - 349.0) / 30;
        hist[l] = floor(1e6 * (0.9 * exp(-0.5 * z * z) / 16 + 0.1 * exp(-0.5 * z2 * z2) / 30) /
                        sqrt(2 * M_PI));
        total += hist[l];
    }
    rw_error err = {0};
    CHECK(rw_frag_weights(hist, RW_FRAG_TUMOUR_SHIFT, w, &err) == RW_OK);
    double mean = 0, var = 0, top = 0;
    for (int l = 0; l < H; l++) {
        mean += hist[l] * w[l] / total, var += hist[l] * w[l] * w[l] / total;
        top = w[l] > top ? w[l] : top;
    }
    CHECK_NEAR(mean, 1, 1e-9);
    CHECK(var - 1 > 0.2 && var - 1 < 1.5);
    CHECK(w[130] > 1.5 && w[150] > 1 && w[167] < 1 && w[200] < 0.2);
    CHECK(w[10] == 0 && w[900] == 0); /* no normal fragment there: unknown ratio */
    CHECK(top <= RW_FRAG_WEIGHT_CAP * 1.5);
    CHECK(rw_frag_weights(hist, 10, w2, &err) == RW_OK);
    CHECK(rw_frag_weights_id(w) != rw_frag_weights_id(w2));
    CHECK(rw_frag_weights(hist, RW_FRAG_TUMOUR_SHIFT, w2, &err) == RW_OK);
    CHECK(rw_frag_weights_id(w) == rw_frag_weights_id(w2));
    CHECK(rw_frag_weights(hist, -1, w2, &err) == RW_ERR_USAGE);
    static double few[H];
    few[167] = 5000;
    CHECK(rw_frag_weights(few, RW_FRAG_TUMOUR_SHIFT, w2, &err) == RW_ERR_INPUT);
    CHECK(strstr(err.msg, "paired-end") != NULL);

    /* Counting like a panel: its weights (recomputed from its histogram), its window, or all. */
    rw_count_opts f;
    rw_count_opts_init(&f);
    char fs[256];
    f.frag_weights = w;
    rw_count_filters(&f, fs, sizeof fs);
    rw_count_opts_init(&f);
    f.frag_min = 90;
    CHECK(rw_count_frag_follow(&f, fs, hist, w2, &err) == RW_OK && f.frag_weights == w2 &&
          !f.frag_min && !memcmp(w, w2, sizeof w));
    CHECK(rw_count_frag_follow(&f, fs, NULL, w2, &err) == RW_ERR_INPUT && !f.frag_weights);
    CHECK(rw_count_frag_follow(&f, fs, few, w2, &err) == RW_ERR_INPUT);
    hist[300] += 5000; /* another histogram: other weights than the filters say */
    CHECK(rw_count_frag_follow(&f, fs, hist, w2, &err) == RW_ERR_INPUT);
    CHECK(strstr(err.msg, "another version") != NULL);
    CHECK(rw_count_frag_follow(&f, "mapq=20;flags=0xF04;mode=fragments;frag=90-150", NULL, w2,
                               &err) == RW_OK &&
          f.frag_min == 90 && f.frag_max == 150 && !f.frag_weights);
    CHECK(rw_count_frag_follow(&f, "mapq=20;flags=0xF04;mode=fragments;frag=0-0", NULL, w2, &err) ==
              RW_OK &&
          !f.frag_min && !f.frag_max && !f.frag_weights);
    CHECK(rw_count_frag_follow(&f, "mapq=20", NULL, w2, &err) == RW_ERR_INPUT);

    rw_frag_mode m = RW_FRAG_ALL;
    CHECK(rw_frag_mode_parse("weighted", &m, &err) == RW_OK && m == RW_FRAG_WEIGHTED);
    CHECK(rw_frag_mode_parse("window", &m, &err) == RW_OK && m == RW_FRAG_WINDOW);
    CHECK(rw_frag_mode_parse("all", &m, &err) == RW_OK && m == RW_FRAG_ALL);
    CHECK(rw_frag_mode_parse("short", &m, &err) == RW_ERR_USAGE && m == RW_FRAG_ALL);
    CHECK(!strcmp(rw_frag_mode_name(RW_FRAG_WEIGHTED), "weighted"));
    rw_count_opts o;
    rw_count_opts_init(&o);
    CHECK(rw_count_frag_mode(&o) == RW_FRAG_ALL);
    o.frag_max = 150;
    CHECK(rw_count_frag_mode(&o) == RW_FRAG_WINDOW);
    o.frag_max = 0, o.frag_weights = w;
    CHECK(rw_count_frag_mode(&o) == RW_FRAG_WEIGHTED);
}

/* ------------------------------------------------------------------ bad input */

static void copy_part(const char *from, const char *to, long keep_head, long keep_tail)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    if (!in || !out) {
        CHECK(0);
        goto done;
    }
    fseek(in, 0, SEEK_END);
    long size = ftell(in);
    char *buf = malloc((size_t)size);
    rewind(in);
    if (buf && fread(buf, 1, (size_t)size, in) == (size_t)size) {
        fwrite(buf, 1, (size_t)keep_head, out);
        fwrite(buf + size - keep_tail, 1, (size_t)keep_tail, out);
    }
    free(buf);
done:
    if (in)
        fclose(in);
    if (out)
        fclose(out);
}

/* A copy of from with n bytes at offset replaced. */
static void copy_patched(const char *from, const char *to, long offset, const void *bytes, size_t n)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    int c;
    for (long at = 0; in && out && (c = getc(in)) != EOF; at++)
        putc(at >= offset && at < offset + (long)n ? ((const unsigned char *)bytes)[at - offset]
                                                   : c,
             out);
    CHECK(in && out);
    if (in)
        fclose(in);
    if (out)
        fclose(out);
}

static void expect_input_error(const char *path, const rw_count_opts *o, const char *words)
{
    rw_bins *b = NULL;
    rw_error err = {0};
    rw_status st = rw_count_load(path, o, &b, NULL, NULL, NULL, &err);
    CHECK(st == RW_ERR_INPUT);
    CHECK(b == NULL);
    CHECK(strstr(err.msg, path) != NULL); /* says where */
    if (!strstr(err.msg, words)) {
        fprintf(stderr, "  message '%s' lacks '%s'\n", err.msg, words);
        CHECK(0);
    }
}

static void test_bad_input(void)
{
    const char *bam = rw_test_path(RW_TEST_DATA, "na12878/na12878-chrM-Y-trunc.bam");
    rw_count_opts o;
    rw_count_opts_init(&o);
    char p[1200];
    FILE *f;

    path_in_tmp(p, sizeof p, "half.bam"); /* cut in half: no EOF marker */
    copy_part(bam, p, 4397336 / 2, 0);
    expect_input_error(p, &o, "truncated");
    path_in_tmp(p, sizeof p, "hole.bam"); /* EOF marker kept, middle cut out */
    copy_part(bam, p, 4397336 / 2, 28);
    expect_input_error(p, &o, "corrupt");

    path_in_tmp(p, sizeof p, "text.bam");
    f = fopen(p, "w");
    if (f) {
        fputs("this is a text file\nwith two lines\n", f);
        fclose(f);
    }
    expect_input_error(p, &o, "not");

    path_in_tmp(p, sizeof p, "empty.bam");
    f = fopen(p, "w");
    if (f)
        fclose(f);
    expect_input_error(p, &o, "empty");
    /* BGZF blocks, then one htslib reads as plain gzip, corrupt: an error at once (the block
     * walker looped on it; a finding of fuzz/run.sh). */
    char found[1200];
    snprintf(found, sizeof found, "%s/fuzz/regressions/count/gzip-not-bgzf-loop",
             getenv("RW_SRCDIR") ? getenv("RW_SRCDIR") : ".");
    expect_input_error(found, &o, "BAM");
    /* A CRAM whose header container claims ~4 GB: refused before htslib allocates it. */
    snprintf(found, sizeof found, "%s/fuzz/regressions/count/cram-container-claims-4g",
             getenv("RW_SRCDIR") ? getenv("RW_SRCDIR") : ".");
    expect_input_error(found, &o, "claims more bytes than the file holds");
    /* ... and one whose header container claims 1.7 billion landmarks (6.9 GB) in 705 bytes. */
    snprintf(found, sizeof found, "%s/fuzz/regressions/count/cram-landmarks-claim-7g",
             getenv("RW_SRCDIR") ? getenv("RW_SRCDIR") : ".");
    expect_input_error(found, &o, "claims more bytes than the file holds");
    /* The same claims in a later container (range.cram's second one starts at byte 729: its
     * length, then at 745 its landmark count, here made a 4-byte ITF8 of ~250 million). */
    const char *cram = rw_test_path(RW_TEST_DATA, "cram/range.cram");
    path_in_tmp(p, sizeof p, "later-length.cram");
    copy_patched(cram, p, 729, "\xff\xff\xff\x7f", 4);
    expect_input_error(p, &o, "claims more bytes than the file holds");
    path_in_tmp(p, sizeof p, "later-landmarks.cram");
    copy_patched(cram, p, 745, "\xef", 1);
    expect_input_error(p, &o, "claims more bytes than the file holds");

    /* CRAM without its reference is an error, never zero counts. */
    rw_contig_counts *cc = NULL;
    rw_error err = {0};
    o.bin_size = 1000;
    CHECK(rw_count_contig(rw_test_path(RW_TEST_DATA, "cram/range.cram"), &o, "CHROMOSOME_I", &cc,
                          NULL, NULL, NULL, &err) == RW_ERR_INPUT);
    CHECK(cc == NULL && strstr(err.msg, "--reference") != NULL);
    /* A human-looking but foreign header: unknown build. */
    rw_bins *b = NULL;
    o.bin_size = RW_BIN_SIZE_DEFAULT;
    CHECK(rw_count_bam(rw_test_path(RW_TEST_DATA, "ex1/ex1.bam"), &o, &b, NULL, NULL, NULL, &err) ==
          RW_ERR_BUILD);
    CHECK(strstr(err.msg, "unknown genome build") != NULL);
    /* Missing file; bad options. */
    CHECK(rw_count_bam("/nonexistent/x.bam", &o, &b, NULL, NULL, NULL, &err) == RW_ERR_IO);
    o.bin_size = 1000;
    CHECK(rw_count_bam(bam, &o, &b, NULL, NULL, NULL, &err) == RW_ERR_USAGE);
    rw_count_opts_init(&o);
    o.frag_min = 200;
    o.frag_max = 100;
    CHECK(rw_count_bam(bam, &o, &b, NULL, NULL, NULL, &err) == RW_ERR_USAGE);
    CHECK(b == NULL);
}

int main(void)
{
    hts_set_log_level(HTS_LOG_OFF); /* the bad-input cases would make htslib chatty */
    snprintf(tmpdir, sizeof tmpdir, "%s/test_count.XXXXXX", RW_BUILD_DIR);
    if (!mkdtemp(tmpdir))
        SKIP("cannot make a temporary directory in the build folder");
    test_na12878();
    test_simulated();
    test_weights();
    test_bad_input();
    test_samtools();
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (run_cmd(cmd))
        fprintf(stderr, "note: could not remove %s\n", tmpdir);
    DONE();
}
