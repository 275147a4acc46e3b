/* Unit tests of the bins layout and of the bins TSV file (round trip and every rejection). */
#include "core/bins.h"
#include "tests/unit/harness.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/rw_test_bins.XXXXXX";

static const char *write_file(const char *name, const char *text)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

static rw_status read_text(const char *text, rw_bins **out, rw_error *err)
{
    return rw_bins_read(write_file("case.tsv", text), out, err);
}

/* Reads one small bins file many times; counts the failures (the daemon reads bins files on
 * several threads at once, so the reader must keep no hidden state). */
static void *read_many(void *path)
{
    long failures = 0;
    for (int i = 0; i < 3000; i++) {
        rw_bins *b = NULL;
        rw_error e;
        if (rw_bins_read(path, &b, &e) != RW_OK || b->build != RW_BUILD_HG19)
            failures++;
        rw_bins_free(b);
    }
    return (void *)failures;
}

int main(void)
{
    if (!mkdtemp(dir))
        SKIP("no temporary folder");
    rw_error err = {0};

    /* Layout: hg38 at 500 kb has ceil(len/500k) bins per chromosome; chrY only when asked. */
    rw_bins *b = rw_bins_new(RW_BUILD_HG38, 500000, 0, &err);
    CHECK(b != NULL);
    size_t want = 0;
    for (int c = 0; c < RW_NCHROM - 1; c++)
        want += (size_t)((rw_chrom_length(RW_BUILD_HG38, c) + 499999) / 500000);
    CHECK(b->n == want);
    CHECK(b->nchrom == 23);
    CHECK(rw_bins_chrom(b, 0) == 0);
    CHECK(rw_bins_chrom(b, b->first[1]) == 1);
    CHECK(rw_bins_chrom(b, b->first[1] - 1) == 0);
    CHECK(rw_bins_chrom(b, b->n - 1) == RW_CHROM_X);
    CHECK(rw_bins_end(b, b->first[1] - 1) == 248956422); /* last chr1 bin is cut short */
    CHECK(rw_bins_start(b, b->first[1] - 1) == 248500000);
    CHECK(rw_bins_index(b, 0, 153400000) == 306);
    CHECK(rw_bins_index(b, 0, 248956422) == (size_t)-1);
    CHECK(rw_bins_index(b, RW_CHROM_Y, 10) == (size_t)-1);
    rw_bins *y = rw_bins_new(RW_BUILD_HG38, 500000, 1, &err);
    CHECK(y && y->nchrom == 24 && y->n > b->n && !rw_bins_same_layout(b, y));
    rw_bins_free(y);
    CHECK(rw_bins_new(RW_BUILD_HG38, 1000, 0, &err) == NULL && err.status == RW_ERR_USAGE);
    CHECK(rw_bins_new(RW_BUILD_UNKNOWN, 500000, 0, &err) == NULL && err.status == RW_ERR_BUILD);

    /* Round trip through the file: every value back, bit for bit. */
    for (size_t i = 0; i < b->n; i++)
        b->count[i] = (double)((i * 7919) % 1000) + (i % 3 ? 0.0 : 0.25);
    char path[256];
    snprintf(path, sizeof path, "%s/round.tsv", dir);
    CHECK(rw_bins_write(b, path, &err) == RW_OK);
    rw_bins *r = NULL;
    CHECK(rw_bins_read(path, &r, &err) == RW_OK);
    CHECK(r && rw_bins_same_layout(b, r));
    if (r)
        CHECK(memcmp(r->count, b->count, b->n * sizeof *b->count) == 0);
    rw_bins_free(r);
    rw_bins *c = rw_bins_copy(b);
    CHECK(c && c->count != b->count && c->count[5] == b->count[5]);
    rw_bins_free(c);
    rw_bins_free(b);

    /* The counting filters travel with the bins. */
    b = rw_bins_new(RW_BUILD_HG38, 5000000, 0, &err);
    snprintf(b->filters, sizeof b->filters, "mapq=20;flags=0xF04;mode=fragments;frag=90-150");
    CHECK(rw_bins_write(b, path, &err) == RW_OK);
    CHECK(rw_bins_read(path, &r, &err) == RW_OK);
    CHECK(r && !strcmp(r->filters, b->filters));
    rw_bins_free(r);
    rw_bins_free(b);

    /* "1" naming accepted; absent bins read as NaN. */
    r = NULL;
    CHECK(read_text("#relapsewatch-bins\tversion=1\tbuild=hg19\tbin_size=1000000\n"
                    "chrom\tstart\tend\tcount\n1\t0\t1000000\t12\n",
                    &r, &err) == RW_OK);
    CHECK(r && r->build == RW_BUILD_HG19 && r->count[0] == 12 && isnan(r->count[1]));
    CHECK(r && r->filters[0] == 0); /* not stated: unknown */
    rw_bins_free(r);

    /* Rejections: each a clear error naming the line. */
    static const struct {
        const char *text, *needle;
        rw_status st;
    } bad[] = {
        {"", "not a bins file", RW_ERR_INPUT},
        {"chrom\tstart\tend\tcount\n", "not a bins file", RW_ERR_INPUT},
        {"#relapsewatch-bins\tversion=1\tbuild=hg18\tbin_size=500000\n", "build", RW_ERR_BUILD},
        {"#relapsewatch-bins\tversion=2\tbuild=hg38\tbin_size=500000\n", "version", RW_ERR_INPUT},
        {"#relapsewatch-bins\tversion=1\tbuild=hg38\tbin_size=500000\nchr1\t0\t500000\n",
         ":2:", RW_ERR_INPUT},
        {"#relapsewatch-bins\tversion=1\tbuild=hg38\tbin_size=500000\nchr1\t1\t500001\t3\n",
         "not a 500000 bp bin", RW_ERR_INPUT},
        {"#relapsewatch-bins\tversion=1\tbuild=hg38\tbin_size=500000\nchrM\t0\t500000\t3\n",
         "unknown chromosome", RW_ERR_INPUT},
        {"#relapsewatch-bins\tversion=1\tbuild=hg38\tbin_size=500000\nchr1\t0\t500000\t-3\n",
         ">= 0", RW_ERR_INPUT},
        {"#relapsewatch-bins\tversion=1\tbuild=hg38\tbin_size=500000\nchr1\t0\t500000\t3\n"
         "chr1\t0\t500000\t4\n",
         "duplicate", RW_ERR_INPUT},
        {"#relapsewatch-bins\tversion=1\tbuild=hg38\tbin_size=500000\n", "no bins", RW_ERR_INPUT},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = NULL;
        err.msg[0] = 0;
        rw_status st = read_text(bad[i].text, &r, &err);
        CHECK(st == bad[i].st);
        CHECK(r == NULL);
        if (!strstr(err.msg, bad[i].needle))
            fprintf(stderr, "case %zu: message '%s' lacks '%s'\n", i, err.msg, bad[i].needle);
        CHECK(strstr(err.msg, bad[i].needle) != NULL);
    }
    CHECK(rw_bins_read("/nonexistent/x.tsv", &r, &err) == RW_ERR_IO);

    /* Thread safety: four readers at once all succeed. */
    char tiny[256];
    snprintf(tiny, sizeof tiny, "%s",
             write_file("tiny.tsv", "#relapsewatch-bins\tversion=1\tbuild=hg19\t"
                                    "bin_size=5000000\tfilters=mapq=20\n"
                                    "1\t0\t5000000\t7\n"));
    pthread_t th[4];
    long failed = 0;
    for (int i = 0; i < 4; i++)
        CHECK(pthread_create(&th[i], NULL, read_many, tiny) == 0);
    for (int i = 0; i < 4; i++) {
        void *n;
        pthread_join(th[i], &n);
        failed += (long)n;
    }
    if (failed)
        fprintf(stderr, "%ld of 12000 concurrent reads failed\n", failed);
    CHECK(failed == 0);

    /* A failed write leaves nothing behind. */
    b = rw_bins_new(RW_BUILD_HG38, 5000000, 0, &err);
    CHECK(rw_bins_write(b, "/nonexistent/dir/out.tsv", &err) == RW_ERR_IO);
    rw_bins_free(b);

    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
    DONE();
}
