/* Unit tests of the HMMcopy WIG reader: the real ichorCNA files (read counts of a patient's plasma
 * at two time points, GC and mappability; tests/data/ichorcna) against their own text, the build
 * inferred from chromosome extents, the hook through which every bins reader takes a WIG, and
 * every rejection of a truncated, garbled or ambiguous file. */
#include "core/count.h"
#include "core/wig.h"
#include "tests/unit/harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/rw_test_wig.XXXXXX";

static const char *tmp(const char *name)
{
    return rw_test_path(dir, name); /* 64 rotating buffers */
}

static const char *data(const char *name)
{
    return rw_test_path(RW_TEST_DATA, name);
}

/* A whole-genome fixedStep WIG of build b (chromosomes `from`..`to`-1, names with `prefix`,
 * "chr" or ""), each bin's value i % 1000 + 1, preceded by `head` and followed by `tail`. */
static const char *gen(const char *name, rw_build b, long step, const char *prefix, int from,
                       int to, const char *head, const char *tail)
{
    const char *path = tmp(name);
    FILE *f = fopen(path, "w");
    if (!f)
        return path;
    fputs(head, f);
    for (int c = from; c < to; c++) {
        const char *n = rw_chrom_name(c) + 3; /* without "chr" */
        fprintf(f, "fixedStep chrom=%s%s start=1 step=%ld span=%ld\n", prefix, n, step, step);
        for (int64_t i = 0; i * step < rw_chrom_length(b, c); i++)
            fprintf(f, "%d\n", (int)(i % 1000) + 1);
    }
    fputs(tail, f);
    fclose(f);
    return path;
}

static const char *write_text(const char *name, const char *text)
{
    const char *path = tmp(name);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    return path;
}

/* The values of a WIG file's text for chromosomes 1-22 and X, in file order, and their sum. */
static size_t text_values(const char *path, double *v, size_t max, double *sum)
{
    FILE *f = fopen(path, "r");
    char line[256];
    size_t n = 0;
    int keep = 0;
    *sum = 0;
    while (f && fgets(line, sizeof line, f)) {
        if (!strncmp(line, "fixedStep", 9)) {
            keep = !strstr(line, "chrom=Y ");
            continue;
        }
        if (keep && n < max) {
            v[n] = atof(line);
            *sum += v[n++];
        }
    }
    if (f)
        fclose(f);
    return n;
}

static void test_real(void)
{
    rw_error err = {0};
    rw_bins *t1 = NULL, *t2 = NULL, *viabins = NULL;
    const char *p1 = data("ichorcna/MBC_315.ctDNA.reads.wig");
    CHECK(rw_wig_sniff(p1) == 1);
    CHECK(rw_wig_read_bins(p1, &t1, &err) == RW_OK);
    CHECK(rw_wig_read_bins(data("ichorcna/MBC_315_T2.ctDNA.reads.wig"), &t2, &err) == RW_OK);
    if (!t1 || !t2)
        goto done;
    /* GRCh37 at 1 Mb: chr1 has 250 bins (hg38 would have 249); chr1-22 and X, Y left out. */
    CHECK(t1->build == RW_BUILD_HG19 && t1->bin_size == 1000000 && t1->nchrom == 23);
    CHECK(t1->n == 3053 && t1->first[1] == 250 && t1->filters[0] == 0);
    CHECK(rw_bins_same_layout(t1, t2));
    /* Every value where the text has it, in order: the file is its bins. */
    static double v[4000];
    double sum, got = 0;
    size_t n = text_values(p1, v, 4000, &sum), same = 0;
    CHECK(n == t1->n);
    for (size_t i = 0; i < n && i < t1->n; i++) {
        same += t1->count[i] == v[i];
        got += t1->count[i];
    }
    CHECK(same == t1->n);
    CHECK(got == sum && sum > 2.9e6 && sum < 3.2e6); /* ~3 M reads (README of the data) */
    CHECK(t1->count[0] == 435 && t1->count[1] == 1122);

    /* Every bins reader takes it: rw_bins_read, and rw_count_load at the file's bin size. */
    CHECK(rw_bins_read(p1, &viabins, &err) == RW_OK);
    CHECK(viabins && rw_bins_same_layout(viabins, t1) &&
          !memcmp(viabins->count, t1->count, t1->n * sizeof *t1->count));
    rw_bins_free(viabins);
    viabins = NULL;
    rw_count_opts co;
    rw_count_opts_init(&co);
    co.bin_size = 1000000;
    CHECK(rw_count_load(p1, &co, &viabins, NULL, NULL, NULL, &err) == RW_OK);
    CHECK(viabins && viabins->build == RW_BUILD_HG19 && viabins->count[0] == 435);
    rw_bins_free(viabins);
    viabins = NULL;
    co.bin_size = 500000; /* a sample of another bin size than asked is refused, not misread */
    CHECK(rw_count_load(p1, &co, &viabins, NULL, NULL, NULL, &err) == RW_ERR_MISMATCH && !viabins);

    /* GC and mappability: HMMcopy's -1 (no sequence) reads NaN; fractions otherwise. */
    double *gc = malloc(t1->n * sizeof *gc), *map = malloc(t1->n * sizeof *map);
    if (!gc || !map)
        goto done;
    CHECK(rw_wig_read_track(data("ichorcna/gc_hg19_1000kb.wig"), t1, gc, &err) == RW_OK);
    CHECK(rw_wig_read_track(data("ichorcna/map_hg19_1000kb.wig"), t1, map, &err) == RW_OK);
    CHECK(isnan(gc[0]) && fabs(gc[1] - 0.568915) < 1e-9);
    size_t known = 0, inrange = 0, mappable = 0;
    for (size_t i = 0; i < t1->n; i++) {
        known += !isnan(gc[i]);
        inrange += !isnan(gc[i]) && gc[i] > 0.3 && gc[i] < 0.7;
        mappable += map[i] >= 0.9;
    }
    double sgc;
    size_t ngc = text_values(data("ichorcna/gc_hg19_1000kb.wig"), v, 4000, &sgc), gc_known = 0;
    for (size_t i = 0; i < ngc; i++)
        gc_known += v[i] >= 0;
    CHECK(ngc == t1->n && known == gc_known && known > 2600 && inrange == known);
    CHECK(mappable > 2400 && mappable < known);
    /* ... only for the layout they describe. */
    rw_bins *hg38 = rw_bins_new(RW_BUILD_HG38, 1000000, 0, NULL), *kb500 = NULL;
    kb500 = rw_bins_new(RW_BUILD_HG19, 500000, 0, NULL);
    if (hg38 && kb500) {
        double *w = malloc(kb500->n * sizeof *w);
        CHECK(rw_wig_read_track(data("ichorcna/gc_hg19_1000kb.wig"), hg38, w, &err) ==
              RW_ERR_MISMATCH);
        CHECK(strstr(err.msg, "hg38") != NULL);
        CHECK(rw_wig_read_track(data("ichorcna/gc_hg19_1000kb.wig"), kb500, w, &err) ==
              RW_ERR_MISMATCH);
        free(w);
    }
    rw_bins_free(hg38);
    rw_bins_free(kb500);
    /* A read-count WIG never takes a GC track for counts: -1 is not a count. */
    CHECK(rw_wig_read_bins(data("ichorcna/gc_hg19_1000kb.wig"), &viabins, &err) == RW_ERR_INPUT);
    CHECK(strstr(err.msg, ":2:") != NULL && !viabins);
    free(gc);
    free(map);
done:
    rw_bins_free(t1);
    rw_bins_free(t2);
}

/* Synthetic files: naming, the build, skipped contigs, and what is not a WIG of ours. */
static void test_synthetic(void)
{
    rw_error err = {0};
    rw_bins *a = NULL, *b = NULL;
    /* hg38 at 500 kb, "chr" names, a track line and an MT contig: read as hg38. */
    CHECK(
        rw_wig_read_bins(gen("a.wig", RW_BUILD_HG38, 500000, "chr", 0, 23, "track type=wiggle_0\n",
                             "fixedStep chrom=MT start=1 step=500000 span=500000\n7\n"),
                         &a, &err) == RW_OK);
    /* The same without "chr", with chrY and a comment: the same bins. */
    CHECK(rw_wig_read_bins(gen("b.wig", RW_BUILD_HG38, 500000, "", 0, 24, "# readCounter\n", ""),
                           &b, &err) == RW_OK);
    CHECK(a && b && a->build == RW_BUILD_HG38 && a->bin_size == 500000 && a->nchrom == 23);
    if (a && b) {
        CHECK(rw_bins_same_layout(a, b) && !memcmp(a->count, b->count, a->n * sizeof *a->count));
        CHECK(a->count[0] == 1 && a->count[a->first[1] - 1] == 498); /* chr1: 498 bins */
    }
    rw_bins_free(a);
    rw_bins_free(b);
    a = b = NULL;

    /* A genome without some chromosomes: those read NaN. */
    CHECK(rw_wig_read_bins(gen("c.wig", RW_BUILD_HG19, 1000000, "", 0, 5, "", ""), &a, &err) ==
          RW_OK);
    CHECK(a && a->build == RW_BUILD_HG19 && isnan(a->count[a->first[5]]) &&
          !isnan(a->count[a->first[5] - 1]));
    rw_bins_free(a);
    a = NULL;

    CHECK(rw_wig_sniff(write_text("bins.tsv", "#relapsewatch-bins\tversion=1\n")) == 0);
    CHECK(rw_wig_sniff(tmp("nope.wig")) == -1);
    CHECK(rw_wig_read_bins(tmp("nope.wig"), &a, &err) == RW_ERR_IO && !a);
}

/* Every rejection, with its status and a word of its message. */
static void test_errors(void)
{
    /* a real file cut in the middle of chromosome 7 */
    FILE *in = fopen(data("ichorcna/MBC_315_T2.ctDNA.reads.wig"), "r");
    const char *cut = tmp("cut.wig");
    FILE *out = fopen(cut, "w");
    char line[256];
    for (int k = 0; in && out && k < 1300 && fgets(line, sizeof line, in); k++)
        fputs(line, out);
    if (in)
        fclose(in);
    if (out)
        fclose(out);

    struct {
        const char *path, *word;
        rw_status st;
    } cases[] = {
        {cut, "chromosome chr7 has", RW_ERR_INPUT},
        {write_text("garbled.wig", "fixedStep chrom=1 start=1 step=1000000\n12\n1x3\n"),
         ":3:", RW_ERR_INPUT},
        {write_text("negative.wig", "fixedStep chrom=1 start=1 step=1000000\n-4\n"), ">= 0",
         RW_ERR_INPUT},
        {write_text("nan.wig", "fixedStep chrom=1 start=1 step=1000000\nnan\n"), "number",
         RW_ERR_INPUT},
        {write_text("nohead.wig", "12\n13\n"), "not a WIG", RW_ERR_INPUT},
        {write_text("var.wig", "variableStep chrom=1 span=1000000\n1 12\n"), "variableStep",
         RW_ERR_INPUT},
        {write_text("span.wig", "fixedStep chrom=1 start=1 step=1000000 span=500\n1\n"), "span",
         RW_ERR_INPUT},
        {write_text("start.wig", "fixedStep chrom=1 start=7 step=1000000\n1\n"), "start=7",
         RW_ERR_INPUT},
        {write_text("step.wig", "fixedStep chrom=1 start=1 step=100\n1\n"), "step=100",
         RW_ERR_INPUT},
        {write_text("field.wig", "fixedStep chrom=1 start=1 step=1000000 colour=red\n1\n"),
         "colour", RW_ERR_INPUT},
        {write_text("nochrom.wig", "fixedStep start=1 step=1000000\n1\n"), "chrom=", RW_ERR_INPUT},
        {write_text("steps.wig", "fixedStep chrom=1 start=1 step=1000000\n1\n"
                                 "fixedStep chrom=2 start=1 step=500000\n1\n"),
         "differs", RW_ERR_INPUT},
        {write_text("repeat.wig", "fixedStep chrom=1 start=1 step=1000000\n1\n2\n"
                                  "fixedStep chrom=1 start=1 step=1000000\n3\n"),
         "repeats", RW_ERR_INPUT},
        {write_text("empty.wig", ""), "no bins", RW_ERR_INPUT},
        {write_text("onlymt.wig", "fixedStep chrom=MT start=1 step=1000000\n1\n"), "no bins",
         RW_ERR_INPUT},
        {write_text("onlyy.wig", "fixedStep chrom=chrY start=1 step=1000000\n1\n"), "no bins",
         RW_ERR_INPUT},
        /* chr11 alone has 136 bins of 1 Mb in both builds */
        {gen("ambiguous.wig", RW_BUILD_HG19, 1000000, "", 10, 11, "", ""), "both", RW_ERR_BUILD},
        /* chr2 of hg38 after chr1 of hg19 */
        {tmp("mixed.wig"), "mixed", RW_ERR_BUILD},
        /* more values than chr21 has in any build */
        {tmp("long.wig"), "more bins", RW_ERR_INPUT},
    };
    gen("mixed1.wig", RW_BUILD_HG19, 1000000, "", 0, 1, "", "");
    gen("mixed2.wig", RW_BUILD_HG38, 1000000, "", 1, 2, "", "");
    FILE *m = fopen(tmp("mixed.wig"), "w"), *p;
    for (int k = 1; m && k <= 2; k++) {
        p = fopen(tmp(k == 1 ? "mixed1.wig" : "mixed2.wig"), "r");
        while (p && fgets(line, sizeof line, p))
            fputs(line, m);
        if (p)
            fclose(p);
    }
    if (m)
        fclose(m);
    m = fopen(tmp("long.wig"), "w");
    if (m) {
        fputs("fixedStep chrom=21 start=1 step=1000000\n", m);
        for (int i = 0; i < 60; i++)
            fputs("5\n", m);
        fclose(m);
    }
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        rw_error err = {0};
        rw_bins *b = NULL;
        rw_status st = rw_wig_read_bins(cases[i].path, &b, &err);
        CHECK(st == cases[i].st && !b);
        CHECK(strstr(err.msg, cases[i].word) != NULL);
        if (st != cases[i].st || !strstr(err.msg, cases[i].word))
            fprintf(stderr, "case %zu (%s): status %d, message '%s'\n", i, cases[i].path, (int)st,
                    err.msg);
        rw_bins_free(b);
    }

    /* A track value above 1 is a percentage, not a fraction. */
    rw_bins *lay = rw_bins_new(RW_BUILD_HG19, 1000000, 0, NULL);
    double *v = lay ? malloc(lay->n * sizeof *v) : NULL;
    rw_error err = {0};
    if (v) {
        CHECK(rw_wig_read_track(write_text("pct.wig", "fixedStep chrom=1 start=1 step=1000000\n"
                                                      "41.5\n"),
                                lay, v, &err) == RW_ERR_INPUT);
        CHECK(strstr(err.msg, "fraction") != NULL);
    }
    free(v);
    rw_bins_free(lay);
}

int main(void)
{
    if (!mkdtemp(dir))
        SKIP("no temporary folder");
    test_real();
    test_synthetic();
    test_errors();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    DONE();
}
