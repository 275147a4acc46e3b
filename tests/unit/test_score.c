/* Tests of core/score and core/analyse: region bins (overlap rule), normalisation, the robust
 * noise, region scores, z, call, tumour-informed fraction, and the analysis result, on
 * hand-made bins with hand-computed answers. */
#include "core/analyse.h"
#include "core/score.h"
#include "core/simulate.h"
#include "core/stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/harness.h"

#define NN  5
#define BIN 5000000

static void test_region_bins(void)
{
    rw_bins *b = rw_bins_new(RW_BUILD_HG38, 500000, 0, NULL);
    size_t first, n;
    /* 1q21.3 hg38 150.6-155.1 Mb: 150.5-151.0 has 0.4 of 0.5 Mb inside (kept), 155.0-155.5 only
     * 0.1 (left out): bins 150.5 .. 154.5, i.e. indices 301..309 of chr1. */
    rw_score_region_bins(b, rw_region_find(RW_BUILD_HG38, "1q21.3"), &first, &n);
    CHECK(first == 301 && n == 9);
    /* S100A7-9 (153.36-153.46 Mb) is smaller than half a bin: the one bin holding it */
    rw_score_region_bins(b, rw_region_find(RW_BUILD_HG38, "S100A7-9"), &first, &n);
    CHECK(first == 306 && n == 1);
    /* a 300 kb region across a boundary, 0.1 + 0.2 Mb: neither half-full, both overlap */
    rw_region r = {"x", 0, 152900000, 153200000, 0, ""};
    rw_score_region_bins(b, &r, &first, &n);
    CHECK(first == 305 && n == 2);
    /* exactly half a bin counts */
    rw_region h = {"h", 1, 250000, 1000000, 0, ""};
    rw_score_region_bins(b, &h, &first, &n);
    CHECK(first == b->first[1] && n == 2);
    /* hg19 1q21.3 150.3-155.0 Mb: 150.0-150.5 has 0.2 (out), 150.5 .. 154.5 in: 9 bins from 301 */
    rw_bins *b19 = rw_bins_new(RW_BUILD_HG19, 500000, 0, NULL);
    rw_score_region_bins(b19, rw_region_find(RW_BUILD_HG19, "1q21.3"), &first, &n);
    CHECK(first == 301 && n == 9);
    rw_bins_free(b19);
    rw_bins_free(b);
}

static void test_median_noise(void)
{
    double v[] = {3, NAN, 1, 2, 10};
    CHECK(rw_stats_median(v, 5) == 2.5);
    double w[] = {NAN, NAN};
    CHECK(isnan(rw_stats_median(w, 2)));
    /* 1 2 3 10 (NaN dropped): median 2.5, deviations 1.5 0.5 0.5 7.5, MAD 1 */
    double u[] = {3, NAN, 1, 2, 10}, med = 0;
    CHECK(rw_stats_mad(u, 5, &med) == 1.0 && med == 2.5);
    double x[] = {NAN};
    CHECK(isnan(rw_stats_mad(x, 1, &med)) && isnan(med));

    rw_bins *b = rw_bins_new(RW_BUILD_HG38, BIN, 0, NULL);
    double *lr = malloc(b->n * sizeof *lr);
    /* a step of 1.0 half-way along chr2, flat elsewhere: differences are 0 but one, noise 0 */
    for (size_t i = 0; i < b->n; i++)
        lr[i] = i >= b->first[1] + 20 && i < b->first[2] ? 1.0 : 0.0;
    CHECK(rw_score_noise(b, lr) == 0.0);
    /* chr1 only: 0, .1, 0, -.1, 0, .1, 0, -.1, 0: differences +-0.1 (four each), median 0,
     * MAD 0.1, noise = 1.4826 * 0.1 / sqrt(2) = 0.1048358 */
    static const double pat[9] = {0, .1, 0, -.1, 0, .1, 0, -.1, 0};
    for (size_t i = 0; i < b->n; i++)
        lr[i] = i < 9 ? pat[i] : NAN;
    CHECK_NEAR(rw_score_noise(b, lr), 0.1048358, 1e-6);
    free(lr);
    rw_bins_free(b);

    CHECK_NEAR(rw_score_tumour_fraction(1.10, 6), 0.05, 1e-12); /* method §3 example */
    CHECK_NEAR(rw_score_tumour_fraction(0.95, 1), 0.10, 1e-12); /* a loss: R = 1 - f/2 */
    CHECK(isnan(rw_score_tumour_fraction(1.2, 2)));
}

/* Normalisation: counts 2x of a flat reference, one zero count, one masked bin, one NaN. */
static void test_log2_ref(void)
{
    rw_bins *b = rw_bins_new(RW_BUILD_HG38, BIN, 0, NULL);
    size_t n = b->n;
    double *ref = malloc(n * sizeof *ref), *cnt = malloc(n * sizeof *cnt);
    double *depth = malloc(n * sizeof *depth), *lr = malloc(n * sizeof *lr);
    uint8_t *mask = calloc(n, 1);
    for (size_t i = 0; i < n; i++) {
        ref[i] = 1.0;
        cnt[i] = 200;
    }
    cnt[40] = 0;   /* zero count: floored at 0.5 reads -> log2(0.5 / 200) = -8.643856 */
    cnt[41] = 400; /* log2 2 = 1 */
    cnt[42] = NAN;
    mask[43] = RW_PON_MASK_SPREAD;
    ref[44] = 0.5; /* reference half: log2(1 / 0.5) = 1 */
    CHECK(rw_score_log2_ref(b, cnt, ref, mask, 0.5, depth, lr, NULL) == RW_OK);
    CHECK(lr[0] == 0.0 && depth[0] == 1.0);
    CHECK_NEAR(lr[40], -8.643856, 1e-6);
    CHECK(lr[41] == 1.0 && depth[41] == 2.0);
    CHECK(isnan(lr[42]) && isnan(depth[42]));
    CHECK(isnan(lr[43]) && depth[43] == 1.0);
    CHECK(lr[44] == 1.0);
    /* no reads anywhere usable: a clear error */
    for (size_t i = 0; i < n; i++)
        cnt[i] = 0;
    rw_error e;
    CHECK(rw_score_log2_ref(b, cnt, ref, mask, 0.5, depth, lr, &e) == RW_ERR_INPUT);
    CHECK(strstr(e.msg, "no reads") != NULL);
    free(ref);
    free(cnt);
    free(depth);
    free(lr);
    free(mask);
    rw_bins_free(b);
}

/* The flat panel of test_pon (1q21.3 bin chr1:150-155 Mb reads {1, 1, 1, 1.2, 0.8} in the
 * normals): leave-one-out mean -0.01177874, SD 0.2074434 (worked in test_pon.c). */
static rw_pon *flat_pon(void)
{
    static const double scale[NN] = {100, 200, 300, 400, 500};
    static const double v30[NN] = {1, 1, 1, 1.2, 0.8};
    rw_bins *nb[NN];
    for (int j = 0; j < NN; j++) {
        nb[j] = rw_bins_new(RW_BUILD_HG38, BIN, 0, NULL);
        for (size_t i = 0; i < nb[j]->n; i++)
            nb[j]->count[i] = scale[j] * (i == 30 ? v30[j] : 1.0);
    }
    rw_pon_opts o;
    rw_pon_opts_init(&o);
    o.filters = "F";
    rw_pon *p = NULL;
    if (rw_pon_build(nb, NN, &o, &p, NULL) != RW_OK)
        p = NULL;
    for (int j = 0; j < NN; j++)
        rw_bins_free(nb[j]);
    return p;
}

/* A flat sample (1000 reads per bin) with 1q21.3 at 1.5x: mean = log2 1.5 = 0.5849625;
 * its own noise is 0 (flat), so sigma = the PoN SD 0.2074434 and
 *   z = (0.5849625 + 0.01177874) / 0.2074434 = 2.876646  -> not_detected at 3.0
 * at 1.7x: log2 1.7 = 0.7655347, z = (0.7655347 + 0.01177874) / 0.2074434 = 3.747111 -> amplified,
 * not strong; the 1q arm: 1 of 21 bins, mean 0.7655347 / 21 = 0.03645403, z against the 1q SD
 * (0.2074434 / 21): (0.03645403 + 0.01177874 / 21) / (0.2074434 / 21) = 3.747111 as well.
 * With C = 6: R = 1.7, f = 2 * 0.7 / 4 = 0.35; interval from 2^(0.7655347 -+ 1.96 * 0.2074434):
 *   R_lo = 2^0.3589531 = 1.282495 -> f_lo = 0.1412475; R_hi = 2^1.1721164 = 2.253420 -> f_hi =
 *   0.6267101.
 * These are the plain z of the formula (calibrate_z off): the calibrated z divides by c times the
 * PoN SD instead, c = 2.42 for this panel of 5 (test_calibration_factor). */
static void test_scores(void)
{
    rw_pon *p = flat_pon();
    CHECK(p != NULL);
    if (!p)
        return;
    rw_bins *s = rw_bins_new(RW_BUILD_HG38, BIN, 0, NULL);
    for (size_t i = 0; i < s->n; i++)
        s->count[i] = 1000;
    s->count[30] = 1500;
    rw_analyse_opts o;
    rw_analyse_opts_init(&o);
    CHECK(isnan(o.primary_cn) && o.score.z_amplified == 3.0 && o.score.z_strong == 5.0);
    CHECK(o.score.calibrate_z == 1);
    o.score.calibrate_z = 0;
    o.filters = "F";
    rw_result *r = NULL;
    rw_error e;
    CHECK(rw_analyse(s, p, &o, &r, &e) == RW_OK);
    if (r) {
        const rw_region_score *q = &r->regions[r->primary];
        CHECK(!strcmp(q->name, "1q21.3") && q->n_bins == 1 && q->n_region_bins == 1);
        CHECK_NEAR(q->mean_log2, 0.5849625, 1e-7);
        CHECK(q->se == 0.0);
        CHECK_NEAR(q->sigma, 0.2074434, 1e-6);
        CHECK_NEAR(q->z, 2.876646, 1e-5);
        CHECK(q->call == RW_CALL_NOT_DETECTED && r->call == RW_CALL_NOT_DETECTED);
        CHECK_NEAR(q->copy_ratio, 1.5, 1e-9);
        CHECK(isnan(r->tf) && isnan(q->tf));
        CHECK(r->threshold == 3.0);
        CHECK(!strcmp(r->pon_id, p->id) && !strcmp(r->core_version, "0.1.0"));
        CHECK(r->log2[30] == q->mean_log2 && r->log2[0] == 0.0);
        CHECK(isnan(r->log2[25])); /* centromere */
        CHECK(r->mask[25] == RW_PON_MASK_REGION);
        CHECK(r->qc.median_reads_per_bin == 1000 && r->qc.noise_sd == 0.0);
        CHECK(r->qc.n_masked == 5 && r->qc.n_used == r->bins->n - 5);
        CHECK(r->qc.gc_corrected == 0 && r->qc.pon_n_normals == 5 && r->qc.pon_low_normals);
        CHECK(r->segments.n >= 23);
        CHECK(r->has_purity == 0 && isnan(r->purity.fraction)); /* no noise: nothing to fit */
        CHECK(r->depth[30] == 1.5 && r->corrected[30] == 1500);
    }
    rw_result_free(r);

    s->count[30] = 1700;
    o.primary_cn = 6;
    CHECK(rw_analyse(s, p, &o, &r, &e) == RW_OK);
    if (r) {
        const rw_region_score *q = &r->regions[r->primary];
        CHECK_NEAR(q->z, 3.747111, 1e-5);
        CHECK(r->call == RW_CALL_AMPLIFIED && !r->strong);
        CHECK_NEAR(r->tf, 0.35, 1e-9);
        CHECK_NEAR(r->tf_lo, 0.1412475, 1e-6);
        CHECK_NEAR(r->tf_hi, 0.6267101, 1e-6);
        for (size_t i = 0; i < r->n_regions; i++) {
            const rw_region_score *x = &r->regions[i];
            if (!strcmp(x->name, "1q")) {
                CHECK(x->n_bins == 21);
                CHECK_NEAR(x->mean_log2, 0.03645403, 1e-7);
                CHECK_NEAR(x->z, 3.747111, 1e-5);
            } else if (!strcmp(x->name, "S100A7-9")) {
                CHECK_NEAR(x->z, 3.747111, 1e-5);
            }
        }
    }
    rw_result_free(r);

    /* thresholds are options: strong at z >= 3.5 */
    o.score.z_strong = 3.5;
    CHECK(rw_analyse(s, p, &o, &r, &e) == RW_OK);
    CHECK(r && r->strong == 1);
    rw_result_free(r);
    o.score.z_strong = 5.0;

    /* A noisy sample (counts 1000 * 2^u, u uniform in [-0.75, 0.75]): its own noise of a 1-bin
     * window mean (the band_sd of the quality gate: autosomal consecutive differences) is larger
     * than the PoN spread, so se = band_sd * sqrt(1 + pi / (2 * 5)) becomes sigma; with
     * use_sample_se off, sigma is the PoN SD again. */
    uint64_t x = 42;
    for (size_t i = 0; i < s->n; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        s->count[i] = 1000 * exp2(1.5 * ((double)(x >> 11) / 9007199254740992.0) - 0.75);
    }
    CHECK(rw_analyse(s, p, &o, &r, &e) == RW_OK);
    if (r) {
        const rw_region_score *q = &r->regions[r->primary];
        double noise = rw_score_noise(r->bins, r->log2);
        CHECK(noise > 0.3 && noise < 0.7);
        rw_score_quality qq;
        rw_score_quality_of(r->bins, r->log2, 1, &o.score, &qq);
        CHECK(fabs(qq.band_sd / noise - 1) < 0.1); /* 1-bin windows: the bin noise, autosomes */
        CHECK_NEAR(q->se, qq.band_sd * sqrt(1 + M_PI / 10), 1e-12);
        CHECK(q->se > q->pon_sd && q->sigma == q->se);
        CHECK_NEAR(q->z, (q->mean_log2 - q->pon_mean) / q->se, 1e-12);
        CHECK(r->qc.noise_sd == noise);
    }
    rw_result_free(r);
    o.score.use_sample_se = 0;
    CHECK(rw_analyse(s, p, &o, &r, &e) == RW_OK);
    CHECK(r && r->regions[r->primary].sigma == r->regions[r->primary].pon_sd);
    rw_result_free(r);
    r = NULL;

    /* bad primary copy number, mismatch */
    o.primary_cn = 2;
    CHECK(rw_analyse(s, p, &o, &r, &e) == RW_ERR_USAGE && r == NULL);
    o.primary_cn = NAN;
    o.filters = "G";
    CHECK(rw_analyse(s, p, &o, &r, &e) == RW_ERR_MISMATCH && r == NULL);
    rw_bins *s19 = rw_bins_new(RW_BUILD_HG19, BIN, 0, NULL);
    o.filters = NULL;
    CHECK(rw_analyse(s19, p, &o, &r, &e) == RW_ERR_MISMATCH && r == NULL);
    rw_bins_free(s19);
    rw_bins_free(s);
    rw_pon_free(p);
}

static rw_bins *sim(uint64_t seed, double gc_bias, double f)
{
    const rw_region *reg = rw_region_find(RW_BUILD_HG38, RW_REGION_1Q213);
    rw_sim_event ev = {reg->chrom, reg->start, reg->end, 6};
    rw_sim_opts o;
    rw_sim_opts_init(&o);
    rw_sim_opts_ideal(&o); /* the ideal model, with only the GC bias asked for */
    o.seed = seed;
    o.gc_bias = gc_bias;
    o.tumour_fraction = f;
    o.events = &ev;
    o.n_events = 1;
    rw_bins *b = NULL;
    if (rw_sim_bins(&o, RW_BIN_SIZE_DEFAULT, &b, NULL) != RW_OK)
        return NULL;
    return b;
}

static rw_pon *sim_pon(uint64_t seed0, double gc_bias, const double *gc)
{
    rw_bins *nb[10];
    int ok = 1;
    for (int j = 0; j < 10; j++)
        ok &= (nb[j] = sim(seed0 + (uint64_t)j, gc_bias, 0)) != NULL;
    rw_pon_opts o;
    rw_pon_opts_init(&o);
    o.gc = gc;
    rw_pon *p = NULL;
    if (ok && rw_pon_build(nb, 10, &o, &p, NULL) != RW_OK)
        p = NULL;
    for (int j = 0; j < 10; j++)
        rw_bins_free(nb[j]);
    return p;
}

/* GC correction with the panel's GC fractions (known truth from the simulator: its GC table and
 * a per-sample GC bias). A biased sample against a biased panel without GC is noisier than an
 * unbiased sample against an unbiased panel; with GC fractions in the panel the noise comes back
 * near the unbiased level, and the call still works. */
static void test_gc(void)
{
    rw_bins *gcb = NULL;
    CHECK(rw_sim_gc(RW_BUILD_HG38, RW_BIN_SIZE_DEFAULT, &gcb, NULL) == RW_OK);
    rw_bins *lay = rw_bins_new(RW_BUILD_HG38, RW_BIN_SIZE_DEFAULT, 0, NULL);
    double *gc = malloc(lay->n * sizeof *gc);
    for (int c = 0; c < lay->nchrom; c++) /* the GC table may tile chrY too */
        for (size_t i = lay->first[c]; i < lay->first[c + 1]; i++)
            gc[i] = gcb->count[gcb->first[c] + (i - lay->first[c])];
    rw_pon *plain = sim_pon(500, 0, NULL), *biased = sim_pon(600, 1.0, NULL);
    rw_pon *with_gc = sim_pon(600, 1.0, gc);
    rw_bins *s0 = sim(700, 0, 0), *s1 = sim(701, 1.0, 0), *s2 = sim(702, 1.0, 0.2);
    CHECK(plain && biased && with_gc && s0 && s1 && s2);
    if (!plain || !biased || !with_gc || !s0 || !s1 || !s2)
        goto done;
    CHECK(!rw_pon_has_gc(biased) && rw_pon_has_gc(with_gc));
    /* exactly the bins whose GC is unknown or outside the GC module's [0.25, 0.75] */
    size_t wrong = 0;
    for (size_t i = 0; i < lay->n; i++)
        wrong += ((with_gc->mask[i] & RW_PON_MASK_GC) != 0) != !(gc[i] >= 0.25 && gc[i] <= 0.75);
    CHECK(wrong == 0);
    CHECK(with_gc->gc[100] == gc[100]);
    rw_analyse_opts o;
    rw_analyse_opts_init(&o);
    o.segment = 0;
    rw_result *r0 = NULL, *r1 = NULL, *r2 = NULL, *r3 = NULL;
    CHECK(rw_analyse(s0, plain, &o, &r0, NULL) == RW_OK);
    CHECK(rw_analyse(s1, biased, &o, &r1, NULL) == RW_OK);
    CHECK(rw_analyse(s1, with_gc, &o, &r2, NULL) == RW_OK);
    CHECK(rw_analyse(s2, with_gc, &o, &r3, NULL) == RW_OK);
    if (r0 && r1 && r2 && r3) {
        printf("GC: noise of log2 ratios: unbiased %.4f, biased without GC %.4f, biased with GC "
               "%.4f; 1q21.3 z at f = 0: %.2f, at f = 20%%: %.2f\n",
               r0->qc.noise_sd, r1->qc.noise_sd, r2->qc.noise_sd, r2->z, r3->z);
        CHECK(!r1->qc.gc_corrected && r2->qc.gc_corrected);
        CHECK(r1->qc.noise_sd > 1.1 * r0->qc.noise_sd);
        CHECK(r2->qc.noise_sd < r1->qc.noise_sd && r2->qc.noise_sd < 1.15 * r0->qc.noise_sd);
        CHECK(r2->call == RW_CALL_NOT_DETECTED && r3->call == RW_CALL_AMPLIFIED);
        CHECK(isnan(r2->corrected[0]) || r2->corrected[0] != r2->bins->count[0]);
    }
    rw_result_free(r0);
    rw_result_free(r1);
    rw_result_free(r2);
    rw_result_free(r3);
done:
    rw_bins_free(s0);
    rw_bins_free(s1);
    rw_bins_free(s2);
    rw_pon_free(plain);
    rw_pon_free(biased);
    rw_pon_free(with_gc);
    free(gc);
    rw_bins_free(lay);
    rw_bins_free(gcb);
}

/* The calibrated z (core/score.h): Student's t tail against closed forms and tables, and the
 * inflation c that makes P(z >= 3) of a new normal the nominal Phi(-3) for k held-apart normals. */
static void test_calibration_factor(void)
{
    /* 1 df (Cauchy): 1/2 - atan(t)/pi; 2 df: 1/2 - t / (2 sqrt(2 + t^2)) */
    CHECK_NEAR(rw_score_t_upper(1.0, 1), 0.25, 1e-12);
    CHECK_NEAR(rw_score_t_upper(3.0, 1), 0.5 - atan(3.0) / M_PI, 1e-12);
    CHECK_NEAR(rw_score_t_upper(2.5, 2), 0.5 - 2.5 / (2 * sqrt(2 + 6.25)), 1e-12);
    CHECK_NEAR(rw_score_t_upper(-2.5, 2), 0.5 + 2.5 / (2 * sqrt(2 + 6.25)), 1e-12);
    /* tables: t(0.975; 4) = 2.776445, t(0.975; 29) = 2.045230, t(0.999; 10) = 4.143700 */
    CHECK_NEAR(rw_score_t_upper(2.776445, 4), 0.025, 1e-6);
    CHECK_NEAR(rw_score_t_upper(2.045230, 29), 0.025, 1e-6);
    CHECK_NEAR(rw_score_t_upper(4.143700, 10), 0.001, 1e-6);
    double p3 = 0.5 * erfc(3 / M_SQRT2), prev = INFINITY;
    static const int ks[] = {3, 5, 12, 30, 50, 1000000};
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
        int k = ks[i];
        double c = rw_score_inflation(k, 3.0);
        /* the defining property, and c falls towards 1 as the panel grows */
        CHECK_NEAR(rw_score_t_upper(3 * c / sqrt(1 + 1.0 / k), k - 1), p3, 1e-9);
        CHECK(c > 1 && c < prev);
        prev = c;
    }
    CHECK(rw_score_inflation(30, 3.0) > 1.09 && rw_score_inflation(30, 3.0) < 1.13);
    CHECK(rw_score_inflation(5, 3.0) > 2.2 && rw_score_inflation(5, 3.0) < 2.6);
    CHECK_NEAR(rw_score_inflation(1000000, 3.0), 1.0, 1e-3);
    CHECK(isnan(rw_score_inflation(2, 3.0)));

    /* the flat panel of 5: calibrated z = plain z / c, c = inflation(5) */
    rw_pon *p = flat_pon();
    rw_bins *s = rw_bins_new(RW_BUILD_HG38, BIN, 0, NULL);
    for (size_t i = 0; p && s && i < s->n; i++)
        s->count[i] = i == 30 ? 1700 : 1000;
    rw_analyse_opts o;
    rw_analyse_opts_init(&o);
    rw_result *r = NULL;
    CHECK(p && s && rw_analyse(s, p, &o, &r, NULL) == RW_OK);
    if (r) {
        const rw_region_score *q = &r->regions[r->primary];
        CHECK_NEAR(q->inflation, rw_score_inflation(5, 3.0), 1e-12);
        CHECK_NEAR(q->z, 3.747111 / q->inflation, 1e-5);
        CHECK(r->call == RW_CALL_NOT_DETECTED); /* 3.75 plain, 1.55 calibrated: 5 normals */
    }
    rw_result_free(r);
    rw_bins_free(s);
    rw_pon_free(p);
}

/* The quality gate (rw_score_quality_of): a quiet sample passes; white noise too large for the
 * band's 9 bins is low_depth; smooth waves over a quiet profile are genomic_waves; no gate at
 * quality_fraction 0. The limit is log2(1 + 0.1 * 4 / 2) / (3 + 1.2816) = 0.0614. */
static void test_quality(void)
{
    rw_bins *b = rw_bins_new(RW_BUILD_HG38, RW_BIN_SIZE_DEFAULT, 0, NULL);
    double *lr = malloc(b->n * sizeof *lr);
    rw_score_opts o;
    rw_score_opts_init(&o);
    uint64_t x = 7;
    double *u = malloc(b->n * sizeof *u);
    for (size_t i = 0; i < b->n; i++) { /* uniform in [-0.5, 0.5): SD 0.2887 */
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        u[i] = (double)(x >> 11) / 9007199254740992.0 - 0.5;
    }
    rw_score_quality q;
    for (size_t i = 0; i < b->n; i++)
        lr[i] = 0.1 * u[i]; /* bin SD 0.029: 9-bin windows 0.0096 */
    rw_score_quality_of(b, lr, 9, &o, &q);
    CHECK_NEAR(q.limit, log2(1.2) / (3 + 1.2815515655446004), 1e-12);
    CHECK(q.ok && !q.code[0] && !q.reason[0] && q.window == 9);
    CHECK(q.band_sd > 0.007 && q.band_sd < 0.013);
    for (size_t i = 0; i < b->n; i++)
        lr[i] = 0.9 * u[i]; /* bin SD 0.26: windows 0.087, the counting part alone too */
    rw_score_quality_of(b, lr, 9, &o, &q);
    CHECK(!q.ok && !strcmp(q.code, "low_depth") && strstr(q.reason, "10% tumour fraction"));
    CHECK(q.band_sd > q.limit && q.count_sd > q.limit);
    for (size_t i = 0; i < b->n; i++) /* quiet bins on a 0.15-amplitude wave of 12 Mb period */
        lr[i] = 0.1 * u[i] + 0.15 * sin(2 * M_PI * (double)rw_bins_start(b, i) / 12e6);
    rw_score_quality_of(b, lr, 9, &o, &q);
    CHECK(!q.ok && !strcmp(q.code, "genomic_waves") && strstr(q.reason, "waves"));
    CHECK(q.count_sd < q.limit);
    o.quality_fraction = 0;
    rw_score_quality_of(b, lr, 9, &o, &q);
    CHECK(q.ok);
    CHECK(!strcmp(rw_call_name(RW_CALL_INSUFFICIENT_QUALITY), "insufficient_quality"));
    free(u);
    free(lr);
    rw_bins_free(b);
}

int main(void)
{
    test_calibration_factor();
    test_quality();
    test_region_bins();
    test_median_noise();
    test_log2_ref();
    test_scores();
    test_gc();
    DONE();
}
