/* Unit tests of core/gc: GC content from a FASTA (index built when missing), the local regression,
 * the correction on real WGS counts against TitanCNA's correctReadDepth, and on the simulator's
 * GC bias. */

#include "core/gc.h"
#include "core/simulate.h"
#include "harness.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <htslib/bgzf.h>
#include <htslib/kstring.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median absolute deviation (unscaled) of the finite values of v[0, n). */
static double mad(const double *v, size_t n)
{
    double *t = malloc((n ? n : 1) * sizeof *t);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i]))
            t[m++] = v[i];
    if (!m) {
        free(t);
        return NAN;
    }
    qsort(t, m, sizeof *t, cmp_double);
    double med = m % 2 ? t[m / 2] : 0.5 * (t[m / 2 - 1] + t[m / 2]);
    for (size_t i = 0; i < m; i++)
        t[i] = fabs(t[i] - med);
    qsort(t, m, sizeof *t, cmp_double);
    double r = m % 2 ? t[m / 2] : 0.5 * (t[m / 2 - 1] + t[m / 2]);
    free(t);
    return r;
}

/* ------------------------------------------------------------------ FASTA */

static int copy_file(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    char buf[8192];
    size_t k;
    int ok = a && b;
    while (ok && (k = fread(buf, 1, sizeof buf, a)) > 0)
        ok = fwrite(buf, 1, k, b) == k;
    if (a)
        fclose(a);
    if (b && fclose(b) != 0)
        ok = 0;
    return ok ? 0 : -1;
}

/* GC of seq1[start, end) of ex1.fa counted from the FASTA text, independently of htslib. */
static void ex1_truth(const char *path, int start, int end, double *gc, double *nf)
{
    FILE *f = fopen(path, "r");
    char line[256];
    int in = 0, pos = 0, g = 0, at = 0, other = 0;
    while (f && fgets(line, sizeof line, f)) {
        if (line[0] == '>') {
            in = strncmp(line, ">seq1", 5) == 0;
            continue;
        }
        if (!in)
            continue;
        for (char *c = line; *c && *c != '\n'; c++, pos++) {
            if (pos < start || pos >= end)
                continue;
            if (strchr("GCgc", *c))
                g++;
            else if (strchr("ATat", *c))
                at++;
            else
                other++;
        }
    }
    if (f)
        fclose(f);
    *gc = (double)g / (g + at);
    *nf = (double)other / (end - start);
}

static void test_fasta(void)
{
    char src[1024], dir[] = "/tmp/rw-test-gc-XXXXXX", fa[1200], fai[1400], idx[1200];
    snprintf(src, sizeof src, "%s/ex1/ex1.fa", RW_TEST_DATA);
    CHECK(mkdtemp(dir) != NULL);
    snprintf(fa, sizeof fa, "%s/ex1.fa", dir);
    snprintf(fai, sizeof fai, "%s/ex1.fa.fai", dir);
    CHECK(copy_file(src, fa) == 0);
    unlink(fai);

    rw_gc_ref *ref = NULL;
    rw_error err;
    /* the .fai is built next to a FASTA without one */
    CHECK(rw_gc_ref_open(fa, NULL, &ref, &err) == RW_OK);
    CHECK(access(fai, R_OK) == 0);
    double gc = 0, nf = 0, tgc, tnf;
    CHECK(rw_gc_interval(ref, "seq1", 100, 1100, &gc, &nf, &err) == RW_OK);
    ex1_truth(fa, 100, 1100, &tgc, &tnf);
    CHECK_NEAR(gc, tgc, 1e-12);
    CHECK_NEAR(nf, tnf, 1e-12);
    CHECK(gc > 0.2 && gc < 0.8);
    CHECK(rw_gc_interval(ref, "seq9", 0, 10, &gc, &nf, &err) == RW_ERR_INPUT);
    CHECK(rw_gc_interval(ref, "seq1", 1500, 1700, &gc, &nf, &err) == RW_ERR_INPUT);
    /* bins of a human build find none of ex1's contigs */
    rw_bins *b = rw_bins_new(RW_BUILD_HG38, 500000, 0, NULL);
    double *g = malloc(b->n * sizeof *g), *n = malloc(b->n * sizeof *n);
    CHECK(rw_gc_fill_bins(ref, b, g, n, &err) == RW_ERR_MISMATCH);
    free(g);
    free(n);
    rw_bins_free(b);
    rw_gc_ref_close(ref);
    unlink(fai);

    /* or in a separate index folder */
    snprintf(idx, sizeof idx, "%s/idx", dir);
    CHECK(mkdir(idx, 0700) == 0);
    CHECK(rw_gc_ref_open(fa, idx, &ref, &err) == RW_OK);
    snprintf(fai, sizeof fai, "%s/ex1.fa.fai", idx);
    CHECK(access(fai, R_OK) == 0);
    CHECK(rw_gc_interval(ref, "seq1", 100, 1100, &gc, &nf, &err) == RW_OK);
    CHECK_NEAR(gc, tgc, 1e-12);
    rw_gc_ref_close(ref);
    unlink(fai);
    rmdir(idx);
    /* a missing folder is a clear error, a missing FASTA too */
    snprintf(idx, sizeof idx, "%s/nope/deeper", dir);
    CHECK(rw_gc_ref_open(fa, idx, &ref, &err) == RW_ERR_IO);
    CHECK(strstr(err.msg, "nope") != NULL);
    snprintf(fai, sizeof fai, "%s/missing.fa", dir);
    CHECK(rw_gc_ref_open(fai, NULL, &ref, &err) == RW_ERR_INPUT);
    unlink(fa);
    rmdir(dir);
}

/* ------------------------------------------------------------------ local regression */

static void test_loess(void)
{
    enum { N = 2000, G = 51 };
    double x[N], y[N], grid[G], fit[G];
    for (int i = 0; i < N; i++) {
        x[i] = (double)i / (N - 1);
        /* deterministic "noise" and 2% gross outliers */
        double e = 0.05 * sin(i * 12.9898) * 1.7;
        y[i] = sin(3 * x[i]) + e + (i % 50 == 7 ? 3.0 : 0);
    }
    for (int g = 0; g < G; g++)
        grid[g] = 0.1 + 0.8 * g / (G - 1);
    CHECK(rw_gc_loess_grid(N, x, y, NULL, 0.1, 2, G, grid, fit, NULL) == RW_OK);
    double maxerr = 0;
    for (int g = 0; g < G; g++)
        maxerr = fmax(maxerr, fabs(fit[g] - sin(3 * grid[g])));
    /* plain loess is pulled up by the outliers' mean (3.0 * 2% = 0.06) */
    CHECK(maxerr > 0.03 && maxerr < 0.12);
    /* zero weight on the outliers (as robustness iterations would give) removes the pull */
    double w[N];
    for (int i = 0; i < N; i++)
        w[i] = i % 50 == 7 ? 0 : 1;
    CHECK(rw_gc_loess_grid(N, x, y, w, 0.1, 2, G, grid, fit, NULL) == RW_OK);
    maxerr = 0;
    for (int g = 0; g < G; g++)
        maxerr = fmax(maxerr, fabs(fit[g] - sin(3 * grid[g])));
    CHECK(maxerr < 0.02);
    CHECK(rw_gc_loess_grid(N, x, y, NULL, 0, 2, G, grid, fit, NULL) == RW_ERR_USAGE);
}

/* ------------------------------------------------------------------ TitanCNA real data */

/* Reads an HMMcopy fixedStep wig with one value per line; returns the count (<= max). */
static size_t read_wig(const char *name, double *v, size_t max)
{
    char path[1024], line[128];
    snprintf(path, sizeof path, "%s/titancna/%s", RW_TEST_DATA, name);
    FILE *f = fopen(path, "r");
    size_t n = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "fixedStep", 9) == 0)
            continue;
        if (n < max)
            v[n++] = atof(line);
    }
    fclose(f);
    return n;
}

/* TitanCNA's output: header, then chr start end logR (NA allowed), bins in order. */
static size_t read_titan(double *v, size_t max)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/titancna/titan_chr2_correctReadDepth_logR.seed1.tsv.gz",
             RW_TEST_DATA);
    BGZF *f = bgzf_open(path, "r");
    if (!f)
        return 0;
    kstring_t ks = KS_INITIALIZE;
    size_t n = 0;
    int first = 1;
    while (bgzf_getline(f, '\n', &ks) >= 0) {
        if (first) {
            first = 0;
            continue;
        }
        char *t = strrchr(ks.s, '\t');
        long start = atol(strchr(ks.s, '\t') + 1);
        if (!t || n >= max || start != (long)n * 1000 + 1)
            break; /* the bins must be the wig's, in order */
        v[n++] = strcmp(t + 1, "NA") ? atof(t + 1) : NAN;
    }
    ks_free(&ks);
    bgzf_close(f);
    return n;
}

static void test_titancna(void)
{
    enum { MAX = 250000 };
    double *tum = malloc(MAX * sizeof *tum), *nor = malloc(MAX * sizeof *nor);
    double *gc = malloc(MAX * sizeof *gc), *map = malloc(MAX * sizeof *map);
    double *ref = malloc(MAX * sizeof *ref), *ct = malloc(MAX * sizeof *ct);
    double *cn = malloc(MAX * sizeof *cn), *mine = malloc(MAX * sizeof *mine);
    double *d1 = malloc(MAX * sizeof *d1), *d2 = malloc(MAX * sizeof *d2);
    uint8_t *mt = malloc(MAX), *mn = malloc(MAX);
    size_t n = read_wig("test_tum_chr2.wig", tum, MAX);
    CHECK(n == 242952);
    CHECK(read_wig("test_norm_chr2.wig", nor, MAX) == n);
    CHECK(read_wig("gc_chr2.wig", gc, MAX) == n);
    CHECK(read_wig("map_chr2.wig", map, MAX) == n);
    CHECK(read_titan(ref, MAX) == n);
    if (n != 242952)
        goto done;
    /* TitanCNA's recipe: valid bins have reads > 0 and gc >= 0 (no GC bounds, no N data) */
    rw_gc_opts o;
    rw_gc_opts_init(&o);
    o.gc_min = 0;
    o.gc_max = 1;
    rw_gc_info it, in;
    double t0 = now();
    CHECK(rw_gc_correct(n, tum, gc, NULL, map, &o, ct, mt, &it, NULL) == RW_OK);
    double t1 = now();
    CHECK(rw_gc_correct(n, nor, gc, NULL, map, &o, cn, mn, &in, NULL) == RW_OK);
    printf("titancna chr2, %zu bins: tumour corrected in %.0f ms (%zu fit bins, %zu masked)\n", n,
           (t1 - t0) * 1e3, it.n_fit, it.n_masked);
    /* Pearson r over bins valid in both, and the spread of consecutive differences */
    double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
    size_t m = 0, nd = 0;
    double prev_a = NAN, prev_b = NAN;
    for (size_t i = 0; i < n; i++) {
        mine[i] = log2(ct[i] / cn[i]);
        if (!isfinite(mine[i]) || !isfinite(ref[i]))
            continue;
        double a = mine[i], b = ref[i];
        sx += a;
        sy += b;
        sxx += a * a;
        syy += b * b;
        sxy += a * b;
        m++;
        if (isfinite(prev_a)) {
            d1[nd] = a - prev_a;
            d2[nd] = b - prev_b;
            nd++;
        }
        prev_a = a;
        prev_b = b;
    }
    double r = (sxy - sx * sy / m) / sqrt((sxx - sx * sx / m) * (syy - sy * sy / m));
    double mad_ours = mad(d1, nd), mad_ref = mad(d2, nd);
    printf("titancna: Pearson r = %.4f over %zu bins; MAD of consecutive differences: ours %.4f, "
           "TitanCNA %.4f (ratio %.3f)\n",
           r, m, mad_ours, mad_ref, mad_ours / mad_ref);
    CHECK(m > 230000);
    CHECK(r >= 0.98);
    CHECK(mad_ours <= 1.05 * mad_ref);
    CHECK(t1 - t0 < 5.0); /* ~0.2 s without sanitisers */
    /* without GC information at all, the correction refuses clearly */
    for (size_t i = 0; i < n; i++)
        gc[i] = NAN;
    rw_error err;
    CHECK(rw_gc_correct(n, tum, gc, NULL, map, &o, ct, mt, NULL, &err) == RW_ERR_INPUT);
    CHECK(strstr(err.msg, "no GC correction") != NULL);
done:
    free(tum);
    free(nor);
    free(gc);
    free(map);
    free(ref);
    free(ct);
    free(cn);
    free(mine);
    free(d1);
    free(d2);
    free(mt);
    free(mn);
}

/* ------------------------------------------------------------------ simulator */

static rw_bins *sim(uint64_t seed, double depth, double gc_bias)
{
    rw_sim_opts o;
    rw_sim_opts_init(&o);
    rw_sim_opts_ideal(&o); /* the ideal model, with only the GC bias asked for (README) */
    o.seed = seed;
    o.depth = depth;
    o.gc_bias = gc_bias;
    rw_bins *b = NULL;
    if (rw_sim_bins(&o, 500000, &b, NULL) != RW_OK)
        return NULL;
    return b;
}

static void test_simulated(void)
{
    rw_bins *gcb = NULL;
    CHECK(rw_sim_gc(RW_BUILD_HG38, 500000, &gcb, NULL) == RW_OK);
    rw_bins *biased = sim(101, 0.1, 1.0), *plain = sim(101, 0.1, 0.0);
    rw_bins *normals[4] = {sim(201, 0.5, 0), sim(202, 0.5, 0), sim(203, 0.5, 0), sim(204, 0.5, 0)};
    CHECK(gcb && biased && plain && normals[0] && normals[1] && normals[2] && normals[3]);
    if (!gcb || !biased || !plain || !normals[0] || !normals[1] || !normals[2] || !normals[3])
        goto done;
    size_t n = biased->n;
    double *expect = calloc(n, sizeof *expect), *cb = malloc(n * sizeof *cb);
    double *gc = malloc(n * sizeof *gc);
    /* the GC table may tile chrY too: map bins chromosome by chromosome */
    for (int c = 0; c < biased->nchrom; c++)
        for (size_t i = biased->first[c]; i < biased->first[c + 1]; i++)
            gc[i] = gcb->count[gcb->first[c] + (i - biased->first[c])];
    double *lb = malloc(n * sizeof *lb), *lp = malloc(n * sizeof *lp), *lu = malloc(n * sizeof *lu);
    uint8_t *mask = malloc(n);
    /* expected profile: the mean of four unbiased normals, each scaled to its mean */
    for (int k = 0; k < 4; k++) {
        double s = 0;
        for (size_t i = 0; i < n; i++)
            s += normals[k]->count[i];
        for (size_t i = 0; i < n; i++)
            expect[i] += normals[k]->count[i] / (s / n) / 4;
    }
    rw_gc_opts o;
    rw_gc_opts_init(&o);
    CHECK(rw_gc_correct(n, biased->count, gc, NULL, NULL, &o, cb, mask, NULL, NULL) == RW_OK);
    double sb = 0, sp = 0;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!mask[i] && expect[i] > 0.5 && plain->count[i] > 0) {
            sb += biased->count[i];
            sp += plain->count[i];
            m++;
        }
    for (size_t i = 0; i < n; i++) {
        lb[i] = lp[i] = lu[i] = NAN;
        if (mask[i] || !(expect[i] > 0.5) || !(plain->count[i] > 0))
            continue;
        lb[i] = log2(cb[i] / expect[i]);
        lp[i] = log2(plain->count[i] / (sp / m) / expect[i]);
        lu[i] = log2(biased->count[i] / (sb / m) / expect[i]);
    }
    double mb = mad(lb, n), mp = mad(lp, n), mu = mad(lu, n);
    printf("simulator (hg38, 500 kb, 0.1x, %zu bins): MAD of log2 ratio: unbiased %.4f, biased "
           "%.4f, biased after correction %.4f (%.1f%% of unbiased)\n",
           m, mp, mu, mb, 100 * mb / mp);
    CHECK(mu > 1.2 * mp); /* the bias is there to remove */
    CHECK(mb <= 1.10 * mp);
    CHECK(mb >= 0.90 * mp);
    free(expect);
    free(gc);
    free(cb);
    free(lb);
    free(lp);
    free(lu);
    free(mask);
done:
    rw_bins_free(gcb);
    rw_bins_free(biased);
    rw_bins_free(plain);
    for (int k = 0; k < 4; k++)
        rw_bins_free(normals[k]);
}

int main(void)
{
    test_fasta();
    test_loess();
    test_titancna();
    test_simulated();
    DONE();
}
