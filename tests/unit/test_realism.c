/* Calibration of the simulator's realistic profile on real plasma cfDNA (tests/data/ichorcna: a
 * metastatic breast cancer patient, MBC_315, at two time points; HMMcopy WIGs, 1 Mb, GRCh37).
 *
 * The same measurement on the real samples and on simulated normals of the same depth and layout
 * (hg19, 1 Mb):
 *  1. GC correction (core/gc.h defaults: the real samples with their GC and mappability WIGs, the
 *     simulated ones with the simulator's GC), log2 of the corrected depth minus its median, over
 *     the usable bins: autosomes with a known GC and mappability >= 0.9 (ichorCNA's filter; the
 *     same bins for every sample);
 *  2. the patient's copy-number segments left out: CBS segments (core/segment.h defaults, by arm)
 *     whose mean differs from 0 by >= SEG_MIN in either time point (one copy in ~6% tumour DNA);
 *     a simulated normal leaves out the same bins and its own such segments;
 *  3. residuals = the rest, minus their median, without outliers beyond 5 robust SDs;
 *  4. bin-to-bin noise = median |r[i+1] - r[i]| over neighbouring bins of a chromosome, divided
 *     by sqrt(2) * 0.6745 (so it estimates the SD of independent noise of a bin), and the
 *     autocorrelation of the residuals at lags 1-20 Mb (pairs within a chromosome);
 *  5. the strength of the GC curve: |log2 fitted depth at 47% GC - at 35%| (step 1's fit).
 * Each time point is compared with N_SIM simulated normals at its own depth (the median count of
 * the usable bins matched), for the noise; the autocorrelation, whose estimate from one sample is
 * noisy (about +-0.03 per lag), is compared as its mean over lags 1-20 and over both time points
 * against the mean over all simulated normals, and so is the GC curve. All must agree within TOL
 * for the realistic profile; the ideal profile's autocorrelation and GC curve must not (the test
 * can fail). The table goes to RW_BUILD_DIR/realism.tsv and stdout. */
#include "core/gc.h"
#include "core/segment.h"
#include "core/simulate.h"
#include "core/stats.h"
#include "core/wig.h"
#include "tests/unit/harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BIN     1000000
#define MAX_LAG 20
#define N_SIM   10   /* simulated normals per time point and profile */
#define SEG_MIN 0.04 /* |segment mean| of the left-out copy-number segments, log2 */
#define TOL     0.25 /* relative agreement asked */

typedef struct noise {
    double
        gc_span; /* |log2 GC-fitted depth at 45-49% GC - at 33-37% GC|: the GC curve's strength */
    double diff_sd;          /* bin-to-bin noise (SD units) */
    double acf[MAX_LAG + 1]; /* autocorrelation at lag k Mb (acf[0] unused) */
    double acf_mean;         /* mean of acf[1..MAX_LAG] */
} noise;

/* |mean log2 of the fitted depth (count / corrected) of usable bins at 45-49% GC - at 33-37%|. */
static double gc_span(const rw_bins *b, const double *gc, const double *corr, const uint8_t *mask,
                      const unsigned char *usable)
{
    double s[2] = {0, 0};
    int n[2] = {0, 0};
    for (size_t i = 0; i < b->n; i++)
        if (usable[i] && !mask[i] && corr[i] > 0 && b->count[i] > 0)
            for (int k = 0; k < 2; k++)
                if (fabs(gc[i] - (k ? 0.47 : 0.35)) <= 0.02)
                    s[k] += log2(b->count[i] / corr[i]), n[k]++;
    return fabs(s[1] / n[1] - s[0] / n[0]);
}

/* Step 1: median-centred log2 of the GC-corrected depth over the usable bins, NaN elsewhere;
 * the strength of the GC curve in *span. */
static int log2_ratios(const rw_bins *b, const double *gc, const double *map,
                       const unsigned char *usable, double *l2, double *span)
{
    size_t n = b->n;
    double *corr = malloc(n * sizeof *corr), *tmp = malloc(n * sizeof *tmp);
    uint8_t *mask = malloc(n);
    rw_gc_opts go;
    rw_gc_opts_init(&go);
    rw_error err = {0};
    int rc = !corr || !tmp || !mask ||
             rw_gc_correct(n, b->count, gc, NULL, map, &go, corr, mask, NULL, &err) != RW_OK;
    if (rc)
        fprintf(stderr, "GC correction: %s\n", err.msg);
    for (size_t i = 0; i < n && !rc; i++)
        l2[i] = tmp[i] = usable[i] && !mask[i] && corr[i] > 0 ? log2(corr[i]) : NAN;
    double med = rc ? 0 : rw_stats_median(tmp, n);
    *span = rc ? NAN : gc_span(b, gc, corr, mask, usable);
    for (size_t i = 0; i < n && !rc; i++)
        l2[i] -= med;
    free(corr), free(tmp), free(mask);
    return rc;
}

/* Step 2: marks in out[] the bins of CBS segments whose mean is at least SEG_MIN from 0. */
static int exclude_segments(const rw_bins *b, const double *l2, unsigned char *out)
{
    rw_segment_opts so;
    rw_segment_opts_init(&so);
    so.build = b->build;
    rw_segments s = {0};
    if (rw_segment_bins(b, l2, &so, &s, NULL) != RW_OK)
        return -1;
    for (size_t k = 0; k < s.n; k++)
        if (fabs(s.a[k].mean) >= SEG_MIN)
            memset(out + s.a[k].first, 1, s.a[k].last - s.a[k].first + 1);
    rw_segments_free(&s);
    return 0;
}

/* Steps 3 and 4. */
static noise measure(const rw_bins *b, const double *l2, const unsigned char *excluded)
{
    noise r = {0};
    size_t n = b->n, nd = 0;
    double *res = malloc(n * sizeof *res), *tmp = malloc(n * sizeof *tmp);
    if (!res || !tmp)
        goto done;
    for (size_t i = 0; i < n; i++)
        res[i] = tmp[i] = excluded[i] ? NAN : l2[i];
    double med, sd = rw_stats_mad(tmp, n, &med) * RW_MAD_TO_SD;
    for (size_t i = 0; i < n; i++)
        if (!isnan(res[i]) && fabs(res[i] -= med) > 5 * sd)
            res[i] = NAN;
    for (size_t i = 0; i + 1 < n; i++)
        if (!isnan(res[i]) && !isnan(res[i + 1]) && rw_bins_chrom(b, i) == rw_bins_chrom(b, i + 1))
            tmp[nd++] = fabs(res[i + 1] - res[i]);
    r.diff_sd = rw_stats_median(tmp, nd) / (M_SQRT2 * 0.6744897501960817);
    double m = 0, v = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(res[i]))
            m += res[i], k++;
    m /= (double)k;
    for (size_t i = 0; i < n; i++)
        if (!isnan(res[i]))
            v += (res[i] - m) * (res[i] - m);
    v /= (double)k;
    for (int lag = 1; lag <= MAX_LAG; lag++) {
        double sxy = 0;
        size_t np = 0;
        for (size_t i = 0; i + (size_t)lag < n; i++)
            if (!isnan(res[i]) && !isnan(res[i + lag]) &&
                rw_bins_chrom(b, i) == rw_bins_chrom(b, i + lag))
                sxy += (res[i] - m) * (res[i + lag] - m), np++;
        r.acf[lag] = sxy / (double)np / v;
        r.acf_mean += r.acf[lag] / MAX_LAG;
    }
done:
    free(res), free(tmp);
    return r;
}

/* Median count of the usable bins not excluded: the depth to match. */
static double median_count(const rw_bins *b, const unsigned char *usable,
                           const unsigned char *excluded)
{
    double *tmp = malloc(b->n * sizeof *tmp);
    size_t k = 0;
    for (size_t i = 0; tmp && i < b->n; i++)
        if (usable[i] && !excluded[i])
            tmp[k++] = b->count[i];
    double m = tmp ? rw_stats_median(tmp, k) : NAN;
    free(tmp);
    return m;
}

/* The shared inputs of every measurement. */
typedef struct ctx {
    const unsigned char *usable, *excluded; /* the patient's left-out bins */
    const double *sim_gc;                   /* the simulator's GC of hg19 1 Mb bins */
} ctx;

/* Simulated normal `seed` of profile `ideal` at `depth`, measured; 0 on success. */
static int sim_normal(const ctx *x, int ideal, uint64_t seed, double depth, rw_bins **keep,
                      noise *out)
{
    rw_sim_opts o;
    rw_sim_opts_init(&o);
    if (ideal)
        rw_sim_opts_ideal(&o);
    o.build = RW_BUILD_HG19, o.seed = seed, o.depth = depth;
    rw_bins *b = NULL;
    rw_error err = {0};
    if (rw_sim_bins(&o, BIN, &b, &err) != RW_OK) {
        fprintf(stderr, "simulate: %s\n", err.msg);
        return -1;
    }
    double *l2 = malloc(b->n * sizeof *l2);
    unsigned char *ex = malloc(b->n);
    double span = NAN;
    int rc = !l2 || !ex || log2_ratios(b, x->sim_gc, NULL, x->usable, l2, &span);
    if (!rc) {
        memcpy(ex, x->excluded, b->n);
        rc = exclude_segments(b, l2, ex);
    }
    if (!rc) {
        *out = measure(b, l2, ex);
        out->gc_span = span;
    }
    free(l2), free(ex);
    if (keep)
        *keep = b;
    else
        rw_bins_free(b);
    return rc;
}

/* Mean of N_SIM simulated normals (seeds seed0..) of a profile whose median usable count is
 * `target`: the depth is scaled from a pilot sample. */
static int sim_set(const ctx *x, int ideal, uint64_t seed0, double target, noise *mean)
{
    rw_bins *pilot = NULL;
    noise r;
    if (sim_normal(x, ideal, 999, 0.1, &pilot, &r))
        return -1;
    double depth = 0.1 * target / median_count(pilot, x->usable, x->excluded);
    rw_bins_free(pilot);
    memset(mean, 0, sizeof *mean);
    for (int s = 0; s < N_SIM; s++) {
        if (sim_normal(x, ideal, seed0 + (uint64_t)s, depth, NULL, &r))
            return -1;
        mean->diff_sd += r.diff_sd / N_SIM;
        mean->gc_span += r.gc_span / N_SIM;
        mean->acf_mean += r.acf_mean / N_SIM;
        for (int l = 1; l <= MAX_LAG; l++)
            mean->acf[l] += r.acf[l] / N_SIM;
    }
    return 0;
}

static double rel(double got, double want)
{
    return got / want - 1;
}

/* The comparison table: to f (the file) and stdout. */
static void table(FILE *f, const noise real[2], const noise sim[2][2], const double count[2])
{
    for (int k = 0; k < 2 && f; k++) {
        FILE *o = k ? stdout : f;
        fprintf(o, "statistic\treal_T1\treal_T2\treal\trealistic\tideal\trealistic_vs_real\t"
                   "ideal_vs_real\n");
        fprintf(o, "median_reads_per_bin\t%.0f\t%.0f\t\t\t\t\t\n", count[0], count[1]);
        double rs = (real[0].gc_span + real[1].gc_span) / 2;
        double ss = (sim[0][0].gc_span + sim[0][1].gc_span) / 2;
        double is = (sim[1][0].gc_span + sim[1][1].gc_span) / 2;
        fprintf(o, "gc_curve_span_log2\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%+.1f%%\t%+.1f%%\n",
                real[0].gc_span, real[1].gc_span, rs, ss, is, 100 * rel(ss, rs), 100 * rel(is, rs));
        for (int t = 0; t < 2; t++) {
            char cells[64];
            snprintf(cells, sizeof cells, t ? "\t%.4f" : "%.4f\t", real[t].diff_sd);
            fprintf(o, "bin_to_bin_sd_T%d\t%s\t%.4f\t%.4f\t%.4f\t%+.1f%%\t%+.1f%%\n", t + 1, cells,
                    real[t].diff_sd, sim[0][t].diff_sd, sim[1][t].diff_sd,
                    100 * rel(sim[0][t].diff_sd, real[t].diff_sd),
                    100 * rel(sim[1][t].diff_sd, real[t].diff_sd));
        }
        double rm = (real[0].acf_mean + real[1].acf_mean) / 2;
        double sm = (sim[0][0].acf_mean + sim[0][1].acf_mean) / 2;
        double im = (sim[1][0].acf_mean + sim[1][1].acf_mean) / 2;
        fprintf(o, "acf_mean_lag1-20\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%+.1f%%\t%+.1f%%\n",
                real[0].acf_mean, real[1].acf_mean, rm, sm, im, 100 * rel(sm, rm),
                100 * rel(im, rm));
        for (int l = 1; l <= MAX_LAG; l++)
            fprintf(o, "acf_lag_%d_Mb\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t\t\n", l, real[0].acf[l],
                    real[1].acf[l], (real[0].acf[l] + real[1].acf[l]) / 2,
                    (sim[0][0].acf[l] + sim[0][1].acf[l]) / 2,
                    (sim[1][0].acf[l] + sim[1][1].acf[l]) / 2);
    }
}

/* The real samples: log2 ratios and the patient's left-out segments (both time points). */
static int load_real(rw_bins *t[2], double **gc, double **map, unsigned char **usable,
                     double *l2[2], unsigned char **excluded, double span[2])
{
    static const char *const files[2] = {"ichorcna/MBC_315.ctDNA.reads.wig",
                                         "ichorcna/MBC_315_T2.ctDNA.reads.wig"};
    rw_error err = {0};
    for (int k = 0; k < 2; k++)
        if (rw_wig_read_bins(rw_test_path(RW_TEST_DATA, files[k]), &t[k], &err) != RW_OK) {
            fprintf(stderr, "%s\n", err.msg);
            return -1;
        }
    size_t n = t[0]->n;
    *gc = malloc(n * sizeof **gc), *map = malloc(n * sizeof **map);
    *usable = calloc(n, 1), *excluded = calloc(n, 1);
    l2[0] = malloc(n * sizeof *l2[0]), l2[1] = malloc(n * sizeof *l2[1]);
    if (!*gc || !*map || !*usable || !*excluded || !l2[0] || !l2[1] ||
        rw_wig_read_track(rw_test_path(RW_TEST_DATA, "ichorcna/gc_hg19_1000kb.wig"), t[0], *gc,
                          &err) != RW_OK ||
        rw_wig_read_track(rw_test_path(RW_TEST_DATA, "ichorcna/map_hg19_1000kb.wig"), t[0], *map,
                          &err) != RW_OK) {
        fprintf(stderr, "tracks: %s\n", err.msg);
        return -1;
    }
    for (size_t i = 0; i < t[0]->first[RW_CHROM_X]; i++)
        (*usable)[i] = !isnan((*gc)[i]) && (*map)[i] >= 0.9;
    for (int k = 0; k < 2; k++)
        if (log2_ratios(t[k], *gc, *map, *usable, l2[k], &span[k]) ||
            exclude_segments(t[k], l2[k], *excluded))
            return -1;
    return 0;
}

int main(void)
{
    rw_bins *t[2] = {NULL, NULL}, *sgc = NULL;
    double *gc = NULL, *map = NULL, *l2[2] = {NULL, NULL}, span[2] = {NAN, NAN};
    unsigned char *usable = NULL, *excluded = NULL;
    int ok = load_real(t, &gc, &map, &usable, l2, &excluded, span) == 0 &&
             rw_sim_gc(RW_BUILD_HG19, BIN, &sgc, NULL) == RW_OK;
    CHECK(ok);
    if (ok) {
        /* the real patient: GRCh37 at 1 Mb, ~3.0 and ~4.6 M reads, many bins left */
        CHECK(t[0]->build == RW_BUILD_HG19 && t[0]->bin_size == BIN);
        noise real[2], sim[2][2]; /* sim[profile: 0 realistic, 1 ideal][time point] */
        double count[2];
        ctx x = {usable, excluded, sgc->count};
        size_t left = 0;
        for (size_t i = 0; i < t[0]->n; i++)
            left += usable[i] && !excluded[i];
        CHECK(left > 1400);
        for (int k = 0; k < 2; k++) {
            real[k] = measure(t[k], l2[k], excluded);
            real[k].gc_span = span[k];
            count[k] = median_count(t[k], usable, excluded);
            for (int p = 0; p < 2 && ok; p++)
                ok = sim_set(&x, p, 1000 * (uint64_t)(k + 1), count[k], &sim[p][k]) == 0;
        }
        CHECK(ok);
        if (ok) {
            FILE *f = fopen(rw_test_path(RW_BUILD_DIR, "realism.tsv"), "w");
            CHECK(f != NULL);
            table(f, real, sim, count);
            if (f)
                fclose(f);
            /* the strength of the GC curve: realistic as the real ones, none in the ideal model */
            double rs = (real[0].gc_span + real[1].gc_span) / 2;
            CHECK(fabs(rel((sim[0][0].gc_span + sim[0][1].gc_span) / 2, rs)) <= TOL);
            CHECK(fabs(rel((sim[1][0].gc_span + sim[1][1].gc_span) / 2, rs)) > TOL);
            for (int k = 0; k < 2; k++) /* the realistic noise at each time point's depth */
                CHECK(fabs(rel(sim[0][k].diff_sd, real[k].diff_sd)) <= TOL);
            double rm = (real[0].acf_mean + real[1].acf_mean) / 2;
            CHECK(rm > 0.005); /* the real residuals are autocorrelated: there is something to
                                  match */
            CHECK(fabs(rel((sim[0][0].acf_mean + sim[0][1].acf_mean) / 2, rm)) <= TOL);
            CHECK(fabs(rel((sim[1][0].acf_mean + sim[1][1].acf_mean) / 2, rm)) > TOL);
        }
    }
    for (int k = 0; k < 2; k++) {
        rw_bins_free(t[k]);
        free(l2[k]);
    }
    rw_bins_free(sgc);
    free(gc), free(map), free(usable), free(excluded);
    DONE();
}
