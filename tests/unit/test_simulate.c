/* Unit tests of the simulator against its own known truth: BAM validity and order, depth,
 * duplicates, low MAPQ, copy ratio at a tumour fraction, shorter tumour fragments, the agreement
 * of rw_sim_bins with counting the BAM (realistic profile), GC bias, the realistic profile's
 * per-sample biases one by one (GC strength, random and GC-tied waves, overdispersion),
 * determinism and the events parser; the fragment-length model against Mouliere et al. 2018
 * (tumour 10-20 bp shorter in mode, wide overlap, ~2-fold enrichment by a 90-150 bp window) and
 * the per-fragment weights of rw_sim_bins_weighted. Its calibration on real plasma is
 * test_realism. */
#include "core/count.h"
#include "core/simulate.h"
#include "tests/unit/harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <htslib/sam.h>

static char dir[] = "/tmp/rw_test_simulate.XXXXXX";

static const char *tmp_path(const char *name)
{
    static char path[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(path[k], sizeof path[k], "%s/%s", dir, name);
    return path[k];
}

/* ------------------------------------------------------------------ helpers */

static double genome_len(rw_build b, int include_y)
{
    double g = 0;
    for (int c = 0; c < (include_y ? RW_NCHROM : RW_NCHROM - 1); c++)
        g += (double)rw_chrom_length(b, c);
    return g;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_d);
    return n ? (n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2])) : NAN;
}

static double pearson(const double *x, const double *y, size_t n)
{
    double mx = 0, my = 0, sxx = 0, syy = 0, sxy = 0;
    for (size_t i = 0; i < n; i++)
        mx += x[i], my += y[i];
    mx /= (double)n, my /= (double)n;
    for (size_t i = 0; i < n; i++) {
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
        sxy += (x[i] - mx) * (y[i] - my);
    }
    return sxy / sqrt(sxx * syy);
}

static int same_bytes(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    while (same) {
        int ca = fgetc(fa), cb = fgetc(fb);
        if (ca != cb)
            same = 0;
        if (ca == EOF || cb == EOF)
            break;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

/* What the test's own read loop saw in a BAM. */
typedef struct scan {
    int ok, sorted, hd_sorted;
    rw_build build;
    long reads, dups, lowmapq, proper_bad;
    rw_bins *kept; /* kept fragments (MAPQ >= 20, not dup) per bin, at the first read's position */
    rw_bins *win;  /* the same with 90 <= |TLEN| <= 150 */
    double *tlen;  /* TLEN of kept fragments */
    size_t ntlen, mtlen;
    double *tlen_1q213; /* the same inside 1q21.3 */
    size_t n1q, m1q;
} scan;

static int push(double **v, size_t *n, size_t *m, double x)
{
    if (*n == *m) {
        *m = *m ? 2 * *m : 4096;
        double *p = realloc(*v, *m * sizeof *p);
        if (!p)
            return -1;
        *v = p;
    }
    (*v)[(*n)++] = x;
    return 0;
}

static void scan_free(scan *s)
{
    rw_bins_free(s->kept);
    rw_bins_free(s->win);
    free(s->tlen);
    free(s->tlen_1q213);
}

static void scan_bam(const char *path, int include_y, scan *s)
{
    memset(s, 0, sizeof *s);
    samFile *fp = sam_open(path, "r");
    if (!fp)
        return;
    sam_hdr_t *h = sam_hdr_read(fp);
    bam1_t *b = bam_init1();
    if (!h || !b)
        goto done;
    const char *names[64];
    int64_t lens[64];
    int n = sam_hdr_nref(h);
    for (int i = 0; i < n && i < 64; i++) {
        names[i] = sam_hdr_tid2name(h, i);
        lens[i] = sam_hdr_tid2len(h, i);
    }
    s->build = rw_build_detect((size_t)(n < 64 ? n : 64), names, lens);
    kstring_t so = {0};
    s->hd_sorted = sam_hdr_find_tag_hd(h, "SO", &so) == 0 && so.s && !strcmp(so.s, "coordinate");
    free(so.s);
    s->kept = rw_bins_new(s->build, 500000, include_y, NULL);
    s->win = rw_bins_new(s->build, 500000, include_y, NULL);
    if (!s->kept || !s->win)
        goto done;
    const rw_region *q = rw_region_find(s->build, RW_REGION_1Q213);
    int last_tid = -1;
    int64_t last_pos = -1;
    s->sorted = 1;
    int rc;
    while ((rc = sam_read1(fp, h, b)) >= 0) {
        const bam1_core_t *c = &b->core;
        s->reads++;
        if (c->tid < last_tid || (c->tid == last_tid && c->pos < last_pos))
            s->sorted = 0;
        last_tid = c->tid, last_pos = c->pos;
        if (c->flag & BAM_FDUP)
            s->dups++;
        if (c->qual < 20)
            s->lowmapq++;
        if ((c->flag & BAM_FPAIRED) &&
            (!(c->flag & BAM_FPROPER_PAIR) || c->mtid != c->tid ||
             (c->isize > 0) != (c->pos < c->mpos || (c->pos == c->mpos && c->isize > 0))))
            s->proper_bad++;
        /* One count per fragment: single-end reads, or the first read of a pair. */
        if ((c->flag & BAM_FREAD2) || (c->flag & BAM_FDUP) || c->qual < 20)
            continue;
        int chrom = rw_chrom_index(sam_hdr_tid2name(h, c->tid));
        size_t i = rw_bins_index(s->kept, chrom, c->pos);
        if (i != (size_t)-1)
            s->kept->count[i]++;
        if (c->flag & BAM_FPAIRED) {
            double L = fabs((double)c->isize);
            if (i != (size_t)-1 && L >= 90 && L <= 150)
                s->win->count[i]++;
            if (push(&s->tlen, &s->ntlen, &s->mtlen, L))
                goto done;
            if (q && chrom == q->chrom && c->pos >= q->start && c->pos < q->end &&
                push(&s->tlen_1q213, &s->n1q, &s->m1q, L))
                goto done;
        }
    }
    s->ok = rc == -1;
done:
    bam_destroy1(b);
    sam_hdr_destroy(h);
    sam_close(fp);
}

/* Kept fragments per bp over [start, end) of chrom. */
static double density(const rw_bins *b, int chrom, int64_t start, int64_t end)
{
    double sum = 0;
    for (size_t i = rw_bins_index(b, chrom, start); i < rw_bins_index(b, chrom, end - 1) + 1; i++)
        sum += b->count[i];
    return sum / (double)(end - start);
}

typedef struct prog {
    int calls, monotone;
    double last;
} prog;

static void on_progress(void *ctx, double f)
{
    prog *p = ctx;
    if (f < p->last || f > 1)
        p->monotone = 0;
    p->last = f;
    p->calls++;
}

/* ------------------------------------------------------------------ tests */

static void test_events(void)
{
    rw_error err = {0};
    rw_sim_event *ev = NULL;
    size_t n = 0;
    const rw_region *q = rw_region_find(RW_BUILD_HG38, RW_REGION_1Q213);

    CHECK(rw_sim_parse_events("1q21.3:6,1q:3,8q:4,17p:1", RW_BUILD_HG38, &ev, &n, &err) == RW_OK);
    CHECK(n == 4);
    if (n == 4) {
        CHECK(ev[0].chrom == 0 && ev[0].start == q->start && ev[0].end == q->end && ev[0].cn == 6);
        CHECK(ev[1].chrom == 0 && ev[1].start == 123400000 &&
              ev[1].end == rw_chrom_length(RW_BUILD_HG38, 0) && ev[1].cn == 3);
        CHECK(ev[2].chrom == 7 && ev[2].start > 40000000 && ev[2].start < 50000000 &&
              ev[2].end == rw_chrom_length(RW_BUILD_HG38, 7) && ev[2].cn == 4);
        CHECK(ev[3].chrom == 16 && ev[3].start == 0 && ev[3].end > 20000000 &&
              ev[3].end < 27000000 && ev[3].cn == 1);
    }
    free(ev);

    CHECK(rw_sim_parse_events(" chr8:3 , chr1:100-200:5,X:1, chr1:1M-2.5M:0", RW_BUILD_HG38, &ev,
                              &n, &err) == RW_OK);
    CHECK(n == 4);
    if (n == 4) {
        CHECK(ev[0].chrom == 7 && ev[0].start == 0 && ev[0].end == 145138636 && ev[0].cn == 3);
        CHECK(ev[1].chrom == 0 && ev[1].start == 99 && ev[1].end == 200 && ev[1].cn == 5);
        CHECK(ev[2].chrom == RW_CHROM_X && ev[2].end == 156040895 && ev[2].cn == 1);
        CHECK(ev[3].start == 999999 && ev[3].end == 2500000 && ev[3].cn == 0);
    }
    free(ev);

    /* hg19 takes its own coordinates. */
    CHECK(rw_sim_parse_events("1q21.3:6", RW_BUILD_HG19, &ev, &n, &err) == RW_OK);
    CHECK(n == 1 && ev[0].start == 150300000 && ev[0].end == 155000000);
    free(ev);

    CHECK(rw_sim_parse_events("", RW_BUILD_HG38, &ev, &n, &err) == RW_OK && n == 0 && !ev);

    const char *bad[] = {
        "1q21.3",     "1q21.3:", "1q21.3:x",     "foo:3", "chr1:200-100:3", "chr1:1-999999999:3",
        "1q:3,,8q:2", "1q:-1",   ",1q:3",        "1q:3,", "chr99:1-10:3",   "chr1:1-:3",
        ":3",         "1q:3e9",  "chr1:0-100:3", "25q:2"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err.msg[0] = 0;
        rw_status st = rw_sim_parse_events(bad[i], RW_BUILD_HG38, &ev, &n, &err);
        CHECK(st == RW_ERR_INPUT && err.msg[0] && !ev && n == 0);
        if (st == RW_OK) {
            fprintf(stderr, "accepted bad spec '%s'\n", bad[i]);
            free(ev);
        }
    }
    CHECK(rw_sim_parse_events("1q:3", RW_BUILD_UNKNOWN, &ev, &n, &err) == RW_ERR_BUILD);
}

static void test_options(void)
{
    rw_sim_opts o;
    rw_sim_opts_init(&o);
    CHECK(o.build == RW_BUILD_HG38 && o.depth == 0.1 && o.read_len == 100 && !o.paired);
    CHECK(o.frag_mode_normal == 167 && o.frag_mode_tumour == 150 && o.tumour_fraction == 0);
    /* The realistic profile is the default; the ideal one switches its five biases off. */
    CHECK(o.gc_bias == 0.55 && o.gc_strength_sd == 0.3 && o.wave_amp == 0.01 &&
          o.wave_gc_amp == 0.01 && o.overdispersion == 0.03 && o.bin_noise == 0.02);
    rw_sim_opts_ideal(&o);
    CHECK(o.gc_bias == 0 && o.gc_strength_sd == 0 && o.wave_amp == 0 && o.wave_gc_amp == 0 &&
          o.overdispersion == 0 && o.bin_noise == 0.02 && o.depth == 0.1);
    rw_error err = {0};
    rw_bins *b = NULL;
    o.depth = 0;
    CHECK(rw_sim_bins(&o, 500000, &b, &err) == RW_ERR_USAGE && !b);
    rw_sim_opts_init(&o);
    o.tumour_fraction = 1.5;
    CHECK(rw_sim_bins(&o, 500000, &b, &err) == RW_ERR_USAGE && !b);
    rw_sim_opts_init(&o);
    o.build = RW_BUILD_UNKNOWN;
    CHECK(rw_sim_bins(&o, 500000, &b, &err) == RW_ERR_BUILD && !b);
    rw_sim_opts_init(&o);
    rw_sim_event e = {0, 100, 50, 3};
    o.events = &e, o.n_events = 1;
    CHECK(rw_sim_bins(&o, 500000, &b, &err) == RW_ERR_USAGE && !b);
    const double bad_bias[][5] = {{-0.1, 0, 0, 0, 0},
                                  {0, 2.5, 0, 0, 0},
                                  {0, 0, 0.6, 0, 0},
                                  {0, 0, 0, -1, 0},
                                  {0, 0, 0, 0, 0.4}};
    for (size_t i = 0; i < sizeof bad_bias / sizeof *bad_bias; i++) {
        rw_sim_opts_init(&o);
        o.gc_bias = bad_bias[i][0], o.gc_strength_sd = bad_bias[i][1];
        o.wave_amp = bad_bias[i][2], o.wave_gc_amp = bad_bias[i][3];
        o.overdispersion = bad_bias[i][4];
        CHECK(rw_sim_bins(&o, 500000, &b, &err) == RW_ERR_USAGE && !b);
    }
    rw_sim_opts_init(&o);
    CHECK(rw_sim_bins(&o, 1000, &b, &err) != RW_OK && !b);
    CHECK(rw_sim_bins_frag(&o, 500000, 90, 150, &b, &err) == RW_ERR_USAGE && !b); /* single-end */
    o.paired = 1;
    CHECK(rw_sim_bins_frag(&o, 500000, 150, 90, &b, &err) == RW_ERR_USAGE && !b);
    rw_sim_opts_init(&o);

    /* Truth of a region: later events win; copy ratio 1 + f (C - 2) / 2. */
    rw_sim_event ev2[2] = {{0, 123400000, 248956422, 3}, {0, 150600000, 155100000, 6}};
    double cn = 0, ratio = 0;
    o.events = ev2, o.n_events = 2, o.tumour_fraction = 0.1;
    CHECK(rw_sim_region_truth(&o, 0, 150600000, 155100000, &cn, &ratio, &err) == RW_OK);
    CHECK_NEAR(cn, 6, 1e-12);
    CHECK_NEAR(ratio, 1.2, 1e-12);
    CHECK(rw_sim_region_truth(&o, 0, 140000000, 160000000, &cn, &ratio, &err) == RW_OK);
    CHECK_NEAR(cn, (3 * 15.5 + 6 * 4.5) / 20, 1e-9);
    CHECK(rw_sim_region_truth(&o, 1, 0, 1000, &cn, &ratio, &err) == RW_OK);
    CHECK(cn == 2 && ratio == 1);
    CHECK(rw_sim_region_truth(&o, 0, 0, 300000000, &cn, &ratio, &err) == RW_ERR_USAGE);
    rw_sim_opts_init(&o);
    CHECK(rw_sim_write_bam(&o, tmp_path("no/such/dir/x.bam"), NULL, NULL, &err) == RW_ERR_IO);
}

/* Bin counts: determinism, copy ratio with overriding events, extra noise, GC bias. */
static void test_bins(void)
{
    rw_error err = {0};
    rw_sim_opts o;
    rw_sim_opts_init(&o);
    rw_bins *a = NULL, *b = NULL, *c = NULL;
    CHECK(rw_sim_bins(&o, 500000, &a, &err) == RW_OK);
    CHECK(rw_sim_bins(&o, 500000, &b, &err) == RW_OK);
    CHECK(a && b && a->nchrom == 23 && !memcmp(a->count, b->count, a->n * sizeof *a->count));
    /* Total kept fragments: depth x genome / read length, minus the low-MAPQ share. */
    double tot = 0;
    for (size_t i = 0; i < a->n; i++)
        tot += a->count[i];
    CHECK_NEAR(tot / (o.depth * genome_len(o.build, 0) / o.read_len * (1 - o.lowmapq_rate)), 1,
               0.005);
    rw_bins_free(b);
    o.seed = 2;
    CHECK(rw_sim_bins(&o, 500000, &b, &err) == RW_OK);
    CHECK(b && memcmp(a->count, b->count, a->n * sizeof *a->count) != 0);
    rw_bins_free(a);
    rw_bins_free(b);

    /* Same seed with and without tumour: same genome structure and sample noise, so the ratio of
     * the two is the copy ratio (up to Poisson and the library-size normalisation, removed by
     * dividing by chr2). "1q:3,1q21.3:6" = a 1q gain with a focal amplification over it. */
    rw_sim_event *ev = NULL;
    size_t n = 0;
    CHECK(rw_sim_parse_events("1q:3,1q21.3:6", o.build, &ev, &n, &err) == RW_OK);
    rw_sim_opts_init(&o);
    o.depth = 1, o.seed = 11;
    CHECK(rw_sim_bins(&o, 500000, &a, &err) == RW_OK);
    o.tumour_fraction = 0.3, o.events = ev, o.n_events = n;
    CHECK(rw_sim_bins(&o, 500000, &b, &err) == RW_OK);
    if (a && b) {
        const rw_region *q = rw_region_find(o.build, RW_REGION_1Q213);
        double base = density(b, 1, 5000000, 230000000) / density(a, 1, 5000000, 230000000);
        /* Bins wholly inside the band (its ends are not on 500 kb boundaries). */
        int64_t qs = (q->start + 499999) / 500000 * 500000, qe = q->end / 500000 * 500000;
        double r_q213 = density(b, 0, qs, qe) / density(a, 0, qs, qe) / base;
        double r_1q =
            density(b, 0, 160000000, 240000000) / density(a, 0, 160000000, 240000000) / base;
        double r_1p = density(b, 0, 5000000, 115000000) / density(a, 0, 5000000, 115000000) / base;
        CHECK_NEAR(r_q213, 1 + 0.3 * (6 - 2) / 2, 0.03);
        CHECK_NEAR(r_1q, 1 + 0.3 * (3 - 2) / 2, 0.015);
        CHECK_NEAR(r_1p, 1, 0.015);
    }
    rw_bins_free(a);
    rw_bins_free(b);
    a = b = NULL;

    /* bin_noise (ideal profile): two samples of different seeds at high depth; the variance of
     * their log ratio over ordinary bins is 2 (noise^2 + 1/lambda). */
    rw_sim_opts_init(&o);
    rw_sim_opts_ideal(&o);
    o.depth = 2, o.bin_noise = 0.05, o.lowmapq_rate = 0;
    CHECK(rw_sim_bins(&o, 500000, &a, &err) == RW_OK);
    o.seed = 99;
    CHECK(rw_sim_bins(&o, 500000, &b, &err) == RW_OK);
    if (a && b) {
        double lam = 500000 * o.depth / o.read_len, s = 0, s2 = 0;
        size_t k = 0;
        for (size_t i = 0; i < a->first[22]; i++)
            if (a->count[i] > 0.7 * lam && b->count[i] > 0.7 * lam && a->count[i] < 1.3 * lam &&
                b->count[i] < 1.3 * lam) {
                double d = log(a->count[i] / b->count[i]);
                s += d, s2 += d * d, k++;
            }
        double var = s2 / (double)k - (s / (double)k) * (s / (double)k);
        CHECK(k > 4000);
        CHECK_NEAR(var / (2 * (0.05 * 0.05 + 1 / lam)), 1, 0.2);
    }
    rw_bins_free(a);
    rw_bins_free(b);
    a = b = NULL;

    /* GC bias (ideal profile otherwise): depth correlates with the simulator's GC only when
     * gc_bias > 0. */
    CHECK(rw_sim_gc(RW_BUILD_HG38, 500000, &c, &err) == RW_OK);
    for (int bias = 0; bias <= 1 && c; bias++)
        for (uint64_t seed = 1; seed <= 3; seed++) {
            rw_sim_opts_init(&o);
            rw_sim_opts_ideal(&o);
            o.seed = seed, o.gc_bias = bias, o.depth = 0.5;
            CHECK(rw_sim_bins(&o, 500000, &a, &err) == RW_OK);
            if (!a)
                continue;
            double *x = malloc(a->n * sizeof *x), *y = malloc(a->n * sizeof *y);
            double *tmp = malloc(a->n * sizeof *tmp);
            memcpy(tmp, a->count, a->first[22] * sizeof *tmp);
            double med = median(tmp, a->first[22]);
            size_t k = 0;
            for (size_t i = 0; i < a->first[22]; i++)
                if (a->count[i] > 0.3 * med) /* leave out the unmappable bins */
                    x[k] = c->count[i], y[k] = log(a->count[i]), k++;
            double r = pearson(x, y, k);
            if (bias)
                CHECK(fabs(r) > 0.3);
            else
                CHECK(fabs(r) < 0.08);
            free(x), free(y), free(tmp);
            rw_bins_free(a);
            a = NULL;
        }
    if (c) {
        double mean = 0;
        int inrange = 1;
        for (size_t i = 0; i < c->n; i++) {
            mean += c->count[i];
            inrange &= c->count[i] >= 0.25 && c->count[i] <= 0.7;
        }
        CHECK(inrange);
        CHECK_NEAR(mean / (double)c->n, 0.41, 0.02);
    }
    rw_bins_free(c);
    free(ev);
}

/* ln(a / b) over the autosomal bins where both have a count near the expected lam (ordinary,
 * well-mappable bins), NaN elsewhere; returns how many are finite. */
static size_t log_ratio(const rw_bins *a, const rw_bins *b, double lam, double *out)
{
    size_t k = 0;
    for (size_t i = 0; i < a->n; i++) {
        int ok = i < a->first[22] && a->count[i] > 0.6 * lam && b->count[i] > 0.6 * lam &&
                 a->count[i] < 1.5 * lam && b->count[i] < 1.5 * lam;
        out[i] = ok ? log(a->count[i] / b->count[i]) : NAN;
        k += ok;
    }
    return k;
}

/* Variance and lag-`lag` autocorrelation (pairs within a chromosome) of the finite x[]. */
static void var_acf(const rw_bins *b, const double *x, int lag, double *var, double *acf)
{
    double m = 0, v = 0, sxy = 0;
    size_t n = 0, np = 0;
    for (size_t i = 0; i < b->n; i++)
        if (isfinite(x[i]))
            m += x[i], n++;
    m /= (double)n;
    for (size_t i = 0; i < b->n; i++)
        if (isfinite(x[i]))
            v += (x[i] - m) * (x[i] - m);
    v /= (double)n;
    for (size_t i = 0; i + (size_t)lag < b->n; i++)
        if (isfinite(x[i]) && isfinite(x[i + lag]) &&
            rw_bins_chrom(b, i) == rw_bins_chrom(b, i + lag))
            sxy += (x[i] - m) * (x[i + lag] - m), np++;
    *var = v;
    *acf = sxy / (double)np / v;
}

/* Bins of options o (500 kb), or NULL after a failed CHECK. */
static rw_bins *sim500(const rw_sim_opts *o)
{
    rw_bins *b = NULL;
    rw_error err = {0};
    CHECK(rw_sim_bins(o, 500000, &b, &err) == RW_OK);
    return b;
}

/* The realistic profile's biases one at a time on the ideal model, at depth 2 (~10,000 fragments
 * per bin, 1% Poisson), each against a sample of the same options and another seed or against
 * the same seed without it: its size and its shape are the documented ones. */
static void test_realistic(void)
{
    rw_sim_opts o;
    rw_sim_opts_init(&o);
    rw_sim_opts_ideal(&o);
    o.depth = 2, o.lowmapq_rate = 0, o.bin_noise = 0;
    double lam = 500000 * o.depth / o.read_len, var, acf;
    rw_bins *a = NULL, *b = NULL, *c = NULL, *gc = NULL;
    double *x = NULL;

    /* Overdispersion: the log ratio of two seeds has variance 2 (od^2 + 1/lambda), and none is
     * shared between neighbours (independent per tile). Without it (od = 0, the ideal model: a
     * in the end), pure Poisson around the shared genome. */
    for (int k = 0; k < 2; k++) {
        double od = k ? 0 : 0.05;
        o.overdispersion = od, o.seed = 1;
        rw_bins_free(a);
        rw_bins_free(b);
        a = sim500(&o);
        o.seed = 2;
        b = sim500(&o);
        if (!a || !b || (!x && !(x = malloc(a->n * sizeof *x))))
            goto done;
        CHECK(log_ratio(a, b, lam, x) > 4000);
        var_acf(a, x, 1, &var, &acf);
        CHECK_NEAR(var / (2 * (od * od + 1 / lam)), 1, 0.2);
        CHECK(fabs(acf) < 0.05);
    }
    rw_bins_free(b);
    b = NULL;

    /* Random waves: against the ideal twin (same seed), variance wave_amp^2 and smooth (strong
     * correlation between neighbours, still some at 10 Mb); another seed, other waves. */
    o.seed = 1, o.wave_amp = 0.05;
    b = sim500(&o);
    o.seed = 2;
    c = sim500(&o);
    if (!b || !c)
        goto done;
    log_ratio(b, a, lam, x);
    var_acf(a, x, 1, &var, &acf);
    CHECK_NEAR(var / (0.05 * 0.05 + 2 / lam), 1, 0.3);
    CHECK(acf > 0.8);
    var_acf(a, x, 20, &var, &acf);
    CHECK(acf > 0.2 && acf < 0.9);
    log_ratio(c, b, lam, x);
    var_acf(a, x, 1, &var, &acf);
    CHECK_NEAR(var / (2 * 0.05 * 0.05 + 2 / lam), 1, 0.3);
    rw_bins_free(b);
    rw_bins_free(c);
    b = c = NULL;

    /* GC-tied waves: against the ideal twin, the log ratio follows the mean GC of the 10 Mb
     * around each bin, with a coefficient of the sample's (another seed, another one). */
    CHECK(rw_sim_gc(o.build, 500000, &gc, NULL) == RW_OK);
    o.wave_amp = 0, o.wave_gc_amp = 0.05;
    double coef[3] = {0};
    for (uint64_t seed = 1; seed <= 3 && gc; seed++) {
        o.seed = seed, o.wave_gc_amp = 0;
        rw_bins_free(a);
        a = sim500(&o);
        o.wave_gc_amp = 0.05;
        b = sim500(&o);
        if (!a || !b)
            goto done;
        size_t k = log_ratio(b, a, lam, x);
        double *wx = malloc(k * sizeof *wx), *wy = malloc(k * sizeof *wy);
        size_t m = 0;
        for (size_t i = 0; i < a->n && wx && wy; i++) {
            if (!isfinite(x[i]))
                continue;
            int ch = rw_bins_chrom(a, i);
            double sum = 0, nw = 0;
            for (size_t j = i >= 10 ? i - 10 : 0; j <= i + 10 && j < a->first[ch + 1]; j++)
                if (j >= a->first[ch])
                    sum += gc->count[j], nw++;
            wx[m] = sum / nw, wy[m] = x[i], m++;
        }
        double r = wx && wy ? pearson(wx, wy, m) : 0;
        CHECK(fabs(r) > 0.5);
        coef[seed - 1] = r;
        free(wx), free(wy);
        rw_bins_free(b);
        b = NULL;
    }
    /* seeds 1-3 draw coefficients of both signs */
    CHECK(fmin(coef[0], fmin(coef[1], coef[2])) < 0 && fmax(coef[0], fmax(coef[1], coef[2])) > 0);

    /* GC strength: the slope of log depth on GC is the sample's curve times
     * exp(gc_strength_sd * z): the same seed with and without the spread differs by a factor
     * that changes from seed to seed. */
    o.wave_gc_amp = 0, o.gc_bias = 1;
    int differ = 0;
    for (uint64_t seed = 1; seed <= 4 && gc; seed++) {
        double slope[2];
        for (int k = 0; k < 2; k++) {
            o.seed = seed, o.gc_strength_sd = k ? 0.5 : 0;
            rw_bins_free(a);
            a = sim500(&o);
            if (!a)
                goto done;
            double *gx = malloc(a->n * sizeof *gx), *gy = malloc(a->n * sizeof *gy);
            size_t m = 0;
            double mx = 0, my = 0, sxy = 0, sxx = 0;
            for (size_t i = 0; i < a->first[22] && gx && gy; i++)
                if (a->count[i] > 0.3 * lam) /* leave out the unmappable bins */
                    gx[m] = gc->count[i], gy[m] = log(a->count[i]), mx += gx[m], my += gy[m], m++;
            mx /= (double)m, my /= (double)m;
            for (size_t i = 0; i < m; i++)
                sxy += (gx[i] - mx) * (gy[i] - my), sxx += (gx[i] - mx) * (gx[i] - mx);
            slope[k] = sxy / sxx;
            free(gx), free(gy);
        }
        double ratio = slope[1] / slope[0];
        CHECK(ratio > exp(-0.5 * 4) && ratio < exp(0.5 * 4));
        differ += fabs(ratio - 1) > 0.1;
    }
    CHECK(differ >= 2);
done:
    free(x);
    rw_bins_free(a);
    rw_bins_free(b);
    rw_bins_free(c);
    rw_bins_free(gc);
}

/* The BAM: valid, sorted, the asked depth, duplicates and low MAPQ, the copy ratio at 1q21.3,
 * shorter tumour fragments, and the same bin statistics as rw_sim_bins. */
static void test_bam(void)
{
    rw_error err = {0};
    rw_sim_opts o;
    rw_sim_event *ev = NULL;
    size_t n = 0;
    CHECK(rw_sim_parse_events("1q21.3:6", RW_BUILD_HG38, &ev, &n, &err) == RW_OK);
    rw_sim_opts_init(&o);
    o.seed = 7, o.paired = 1, o.tumour_fraction = 0.5, o.events = ev, o.n_events = n;
    o.dup_rate = 0.05, o.lowmapq_rate = 0.1;
    const char *path = tmp_path("tumour.bam");
    prog p = {0, 1, 0};
    CHECK(rw_sim_write_bam(&o, path, on_progress, &p, &err) == RW_OK);
    CHECK(p.calls >= 10 && p.calls <= 110 && p.monotone && p.last == 1.0);
    char leftover[300];
    snprintf(leftover, sizeof leftover, "%s.tmp.%ld", path, (long)getpid());
    CHECK(access(leftover, F_OK) != 0);

    scan s;
    scan_bam(path, 0, &s);
    CHECK(s.ok && s.sorted && s.hd_sorted && s.build == RW_BUILD_HG38);
    CHECK(s.proper_bad == 0);
    double want_reads = o.depth * genome_len(o.build, 0) / o.read_len;
    CHECK_NEAR((double)(s.reads - s.dups) / want_reads, 1, 0.01);
    CHECK_NEAR((double)s.dups / (double)s.reads, o.dup_rate, 0.003);
    CHECK_NEAR((double)s.lowmapq / (double)s.reads, o.lowmapq_rate, 0.003);

    /* The sample's normal twin: same seed, so the same per-sample biases (waves, GC curve,
     * overdispersion), no tumour, 20 times deeper so that its Poisson noise hardly counts. */
    rw_sim_opts twin = o;
    twin.tumour_fraction = 0, twin.n_events = 0, twin.events = NULL, twin.depth = 2;
    rw_bins *tb = NULL;
    CHECK(rw_sim_bins(&twin, 500000, &tb, &err) == RW_OK);
    if (s.kept && tb) {
        /* Copy ratio of 1q21.3 against the rest of chr1 (its ends and centromere left out),
         * relative to the twin, which cancels the biases: 1 + f (C - 2) / 2 = 2.0. ~2,000
         * normal-equivalent fragments: 2-3% Poisson. */
        const rw_region *q = rw_region_find(o.build, RW_REGION_1Q213);
        double ctl = (density(s.kept, 0, 5000000, 120000000) * 115e6 +
                      density(s.kept, 0, 160000000, 240000000) * 80e6) /
                     195e6;
        double tctl = (density(tb, 0, 5000000, 120000000) * 115e6 +
                       density(tb, 0, 160000000, 240000000) * 80e6) /
                      195e6;
        int64_t qs = (q->start + 499999) / 500000 * 500000, qe = q->end / 500000 * 500000;
        CHECK_NEAR(density(s.kept, 0, qs, qe) / ctl / (density(tb, 0, qs, qe) / tctl),
                   1 + 0.5 * (6 - 2) / 2.0, 0.12);
        /* Tumour fragments are shorter: 75% tumour inside 1q21.3, 50% elsewhere. */
        double all = median(s.tlen, s.ntlen), amp = median(s.tlen_1q213, s.n1q);
        CHECK(all > 140 && all < 167);
        CHECK(amp < all - 3);

        /* rw_sim_bins on the same options draws the same expectations: per bin, the two counts
         * are independent Poisson draws of the same mean, so (x - y) / sqrt(x + y) has variance 1
         * (the default filters with one count per fragment are what scan_bam counted). */
        rw_bins *sb = NULL;
        CHECK(rw_sim_bins(&o, 500000, &sb, &err) == RW_OK);
        if (sb) {
            double sx = 0, sy = 0, sd2 = 0, vx = 0, vy = 0;
            size_t k = 0;
            for (size_t i = 0; i < sb->n; i++) {
                double x = s.kept->count[i], y = sb->count[i];
                sx += x, sy += y, vx += x * x, vy += y * y;
                if (x + y > 20)
                    sd2 += (x - y) * (x - y) / (x + y), k++;
            }
            double nn = (double)sb->n;
            CHECK_NEAR(sx / sy, 1, 0.005);
            CHECK_NEAR((vx / nn - (sx / nn) * (sx / nn)) / (vy / nn - (sy / nn) * (sy / nn)), 1,
                       0.05);
            CHECK_NEAR(sd2 / (double)k, 1, 0.06);
        }
        rw_bins_free(sb);
        sb = NULL;

        /* With a 90-150 bp window: the same agreement, and a stronger tumour signal. */
        CHECK(rw_sim_bins_frag(&o, 500000, 90, 150, &sb, &err) == RW_OK);
        if (sb) {
            double sx = 0, sy = 0, sd2 = 0;
            size_t k = 0;
            for (size_t i = 0; i < sb->n; i++) {
                double x = s.win->count[i], y = sb->count[i];
                sx += x, sy += y;
                if (x + y > 20)
                    sd2 += (x - y) * (x - y) / (x + y), k++;
            }
            CHECK_NEAR(sx / sy, 1, 0.01);
            CHECK_NEAR(sd2 / (double)k, 1, 0.08);
            double wctl = (density(s.win, 0, 5000000, 120000000) * 115e6 +
                           density(s.win, 0, 160000000, 240000000) * 80e6) /
                          195e6;
            CHECK(density(s.win, 0, qs, qe) / wctl > density(s.kept, 0, qs, qe) / ctl + 0.1);
        }
        rw_bins_free(sb);
    }
    rw_bins_free(tb);
    scan_free(&s);
    unlink(path);

    /* A normal sample: fragment lengths peak near 167. */
    rw_sim_opts_init(&o);
    o.paired = 1, o.depth = 0.02, o.seed = 3;
    CHECK(rw_sim_write_bam(&o, path, NULL, NULL, &err) == RW_OK);
    scan_bam(path, 0, &s);
    CHECK(s.ok && s.sorted);
    if (s.ntlen) {
        double med = median(s.tlen, s.ntlen);
        CHECK(med > 158 && med < 170);
    }
    scan_free(&s);
    unlink(path);

    /* Determinism: same options, same bytes; another seed, other bytes. chrY only when asked. */
    rw_sim_opts_init(&o);
    o.depth = 0.005, o.include_y = 1;
    const char *p1 = tmp_path("a.bam"), *p2 = tmp_path("b.bam"), *p3 = tmp_path("c.bam");
    CHECK(rw_sim_write_bam(&o, p1, NULL, NULL, &err) == RW_OK);
    CHECK(rw_sim_write_bam(&o, p2, NULL, NULL, &err) == RW_OK);
    o.seed = 2;
    CHECK(rw_sim_write_bam(&o, p3, NULL, NULL, &err) == RW_OK);
    CHECK(same_bytes(p1, p2));
    CHECK(!same_bytes(p1, p3));
    scan_bam(p1, 1, &s);
    CHECK(s.ok && s.sorted && s.kept && s.kept->nchrom == 24);
    if (s.kept) {
        double y = 0;
        for (size_t i = s.kept->first[RW_CHROM_Y]; i < s.kept->first[RW_CHROM_Y + 1]; i++)
            y += s.kept->count[i];
        CHECK(y > 0);
    }
    scan_free(&s);
    unlink(p1), unlink(p2), unlink(p3);
    free(ev);
}

/* Share of [lo, hi] in a length histogram or distribution of RW_FRAG_HIST_MAX + 1 values. */
static double share(const double *h, int lo, int hi)
{
    double in = 0, all = 0;
    for (int l = 0; l <= RW_FRAG_HIST_MAX; l++)
        all += h[l], in += l >= lo && l <= hi ? h[l] : 0;
    return all > 0 ? in / all : NAN;
}

/* The length with the most fragments within +-3 bp (the mode, robust to sampling noise). */
static int hist_mode(const double *h)
{
    int best = 0;
    double top = -1;
    for (int l = 3; l <= RW_FRAG_HIST_MAX - 3; l++) {
        double s = 0;
        for (int j = l - 3; j <= l + 3; j++)
            s += h[j];
        if (s > top)
            top = s, best = l;
    }
    return best;
}

/* The lengths of counted fragments of a simulated paired-end BAM (count's QC histogram). */
static int bam_lengths(rw_sim_opts *o, double *h)
{
    rw_error err = {0};
    const char *path = tmp_path("lengths.bam");
    rw_count_opts co;
    rw_count_opts_init(&co);
    rw_count_qc qc;
    rw_bins *b = NULL;
    if (rw_sim_write_bam(o, path, NULL, NULL, &err) != RW_OK ||
        rw_count_bam(path, &co, &b, &qc, NULL, NULL, &err) != RW_OK)
        return -1;
    for (int l = 0; l <= RW_FRAG_HIST_MAX; l++)
        h[l] = (double)qc.frag_hist[l];
    rw_bins_free(b);
    unlink(path);
    return 0;
}

/* Fragment lengths as published (Mouliere et al. 2018, Sci Transl Med: ctDNA enriched in
 * 90-150 bp; selecting them enriched the tumour fraction ~2-fold in their data, not 10-fold; the
 * tumour mode 10-20 bp below the normal 167 bp, with wide overlap), measured on the simulated
 * fragments of BAM files: an all-normal (f = 0) and an all-tumour (f = 1) sample. The enrichment
 * of the tumour fraction of a sample by the window is the ratio of the two window shares (exactly
 * at low f, where it matters). The direct draws of rw_sim_bins_weighted give the same lengths. */
static void test_fragment_lengths(void)
{
    enum { H = RW_FRAG_HIST_MAX + 1 };
    static double hn[H], ht[H], pn[H], pt[H], hd[H];
    rw_sim_opts o;
    rw_sim_opts_init(&o);
    o.paired = 1, o.depth = 0.01, o.seed = 11; /* ~150,000 fragments each */
    CHECK(bam_lengths(&o, hn) == 0);
    o.tumour_fraction = 1, o.seed = 12;
    CHECK(bam_lengths(&o, ht) == 0);
    double enrich = share(ht, 90, 150) / share(hn, 90, 150);
    printf("fragment lengths: normal mode %d, tumour mode %d, 90-150 bp share %.3f normal, %.3f "
           "tumour: enrichment %.2f-fold\n",
           hist_mode(hn), hist_mode(ht), share(hn, 90, 150), share(ht, 90, 150), enrich);
    CHECK(enrich >= 1.5 && enrich <= 2.5);
    int shift = hist_mode(hn) - hist_mode(ht);
    CHECK(shift >= 10 && shift <= 20);
    CHECK(hist_mode(hn) >= 162 && hist_mode(hn) <= 175); /* 167, the right side steeper */
    /* Wide overlap: the two distributions share more than half of their mass. */
    double overlap = 0, tn = 0, tt = 0;
    for (int l = 0; l < H; l++)
        tn += hn[l], tt += ht[l];
    for (int l = 0; l < H; l++)
        overlap += fmin(hn[l] / tn, ht[l] / tt);
    CHECK(overlap > 0.5 && overlap < 0.8);
    /* The analytic distribution is what the BAM writer draws (window shares within sampling
     * error: SD ~0.0011 at 150,000 fragments). */
    rw_sim_frag_pmf(o.frag_mode_normal, pn);
    rw_sim_frag_pmf(o.frag_mode_tumour, pt);
    double total = 0;
    for (int l = 0; l < H; l++)
        total += pn[l];
    CHECK_NEAR(total, 1, 1e-12);
    CHECK_NEAR(share(hn, 90, 150), share(pn, 90, 150), 0.005);
    CHECK_NEAR(share(ht, 90, 150), share(pt, 90, 150), 0.005);
    CHECK_NEAR(share(hn, 300, 400), share(pn, 300, 400), 0.003);

    /* Direct draws: the same lengths (at f = 1, tumour ones), the all-fragments output with the
     * expectation of rw_sim_bins, a 0/1 table with that of rw_sim_bins_frag. */
    static double win[H];
    for (int l = 0; l < H; l++)
        win[l] = l >= 90 && l <= 150;
    const double *tables[2] = {NULL, win};
    rw_bins *out[2] = {NULL, NULL}, *ref = NULL, *refw = NULL;
    rw_error err = {0};
    o.depth = 0.1;
    CHECK(rw_sim_bins_weighted(&o, 500000, tables, 2, out, hd, &err) == RW_OK);
    CHECK_NEAR(share(hd, 90, 150), share(pt, 90, 150), 0.002);
    o.tumour_fraction = 0.3;
    rw_bins_free(out[0]), rw_bins_free(out[1]);
    CHECK(rw_sim_bins_weighted(&o, 500000, tables, 2, out, NULL, &err) == RW_OK);
    CHECK(rw_sim_bins(&o, 500000, &ref, &err) == RW_OK);
    CHECK(rw_sim_bins_frag(&o, 500000, 90, 150, &refw, &err) == RW_OK);
    if (out[0] && out[1] && ref && refw) {
        double s0 = 0, s1 = 0, r0 = 0, r1 = 0, d2 = 0;
        size_t k = 0;
        for (size_t i = 0; i < ref->n; i++) {
            double x = out[0]->count[i], y = ref->count[i];
            s0 += x, r0 += y, s1 += out[1]->count[i], r1 += refw->count[i];
            CHECK(out[1]->count[i] <= x); /* a window keeps a subset of the fragments */
            if (x + y > 20)
                d2 += (x - y) * (x - y) / (x + y), k++;
        }
        CHECK_NEAR(s0 / r0, 1, 0.005);
        CHECK_NEAR(s1 / r1, 1, 0.01);
        CHECK_NEAR(d2 / (double)k, 1, 0.06); /* independent draws of the same Poisson means */
    }
    rw_bins_free(out[0]), rw_bins_free(out[1]), rw_bins_free(ref), rw_bins_free(refw);
    /* Weights need lengths (paired-end) and 1..RW_SIM_MAX_WEIGHTS tables. */
    CHECK(rw_sim_bins_weighted(&o, 500000, tables, 0, out, NULL, &err) == RW_ERR_USAGE);
    o.paired = 0;
    CHECK(rw_sim_bins_weighted(&o, 500000, tables, 2, out, NULL, &err) == RW_ERR_USAGE);
    CHECK(!out[0] && !out[1]);
}

int main(void)
{
    if (!mkdtemp(dir))
        SKIP("no temporary folder");
    test_events();
    test_options();
    test_bins();
    test_realistic();
    test_bam();
    test_fragment_lengths();
    rmdir(dir);
    DONE();
}
