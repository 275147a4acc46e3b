/* Unit tests of the tumour-fraction fit: the model's arithmetic, recovery of known truth from
 * synthetic segments, and accuracy on simulated 0.1x samples (a table goes to RW_BUILD_DIR). */
#include "core/analyse.h"
#include "core/bins.h"
#include "core/pon.h"
#include "core/purity.h"
#include "core/segment.h"
#include "core/simulate.h"
#include "tests/unit/harness.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- a tiny seeded RNG */
static uint64_t rng_state;
static double unif(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return ((z >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}
static double gauss(void)
{
    return sqrt(-2.0 * log(unif())) * cos(2.0 * M_PI * unif());
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ---------------------------------------------------------------- synthetic segments */
/* Segments drawn straight from the model: recovers f, P and the states. */
static void test_synthetic(void)
{
    rw_purity_opts o;
    rw_purity_opts_init(&o);
    rw_error err = {0};
    /* 40 segments: sizes 20..400 bins, states mostly 2 */
    enum { NS = 40 };
    const double sd = 0.09;
    const double truths[] = {0.0, 0.08, 0.25, 0.6};
    for (size_t t = 0; t < sizeof truths / sizeof truths[0]; t++) {
        double f = truths[t];
        double mean[NS];
        size_t bins[NS];
        int truth_state[NS], state[NS];
        rng_state = 1000 + t;
        for (int i = 0; i < NS; i++) {
            bins[i] = 20 + (size_t)(unif() * 380);
            int c = 2;
            if (i % 5 == 1)
                c = 3;
            else if (i % 5 == 3)
                c = i % 2 ? 1 : 4;
            truth_state[i] = c;
            mean[i] = rw_purity_expected_log2(f, 2.0, c) + gauss() * sd / sqrt((double)bins[i]);
        }
        rw_purity_result r;
        CHECK(rw_purity_fit(&o, NS, mean, bins, sd, &r, state, &err) == RW_OK);
        CHECK(!strcmp(r.method, RW_PURITY_METHOD));
        CHECK(r.n_fitted == NS);
        CHECK_NEAR(r.fraction, f, 0.015);
        CHECK(r.fraction_lo <= r.fraction && r.fraction <= r.fraction_hi);
        CHECK(r.fraction_lo <= f + 0.005 && f - 0.005 <= r.fraction_hi);
        if (f > 0) {
            CHECK_NEAR(r.ploidy, 2.0, 0.1);
            int right = 0;
            for (int i = 0; i < NS; i++)
                right += state[i] == truth_state[i];
            CHECK(right >= NS - 1);
            CHECK(!strcmp(r.flag, RW_PURITY_FLAG_OK));
        } else {
            CHECK(!strcmp(r.flag, RW_PURITY_FLAG_BELOW_DETECTION));
            for (int i = 0; i < NS; i++)
                CHECK(state[i] == 2);
        }
    }
}

/* Model arithmetic, noise estimate, edge cases and rejections. */
static void test_basics(void)
{
    /* f = 0.5, c = 4, P = 2: (1 + 2) / 2 */
    CHECK_NEAR(rw_purity_expected_log2(0.5, 2.0, 4), log2(1.5), 1e-12);
    CHECK_NEAR(rw_purity_expected_log2(0.0, 3.0, 0), 0.0, 1e-12);
    CHECK_NEAR(rw_purity_expected_log2(0.2, 3.0, 3), 0.0, 1e-12);
    /* docs/method.md §3: f = 5%, C = 6 gives R = 1.10 */
    CHECK_NEAR(pow(2.0, rw_purity_expected_log2(0.05, 2.0, 6)), 1.10, 1e-12);

    /* The noise estimate ignores steps and masked bins. */
    enum { N = 4000 };
    static double v[N];
    static unsigned char m[N];
    rng_state = 7;
    for (int i = 0; i < N; i++) {
        v[i] = 0.1 * gauss() + (i > N / 2 ? 0.5 : 0.0);
        m[i] = i % 100 == 0;
        if (m[i])
            v[i] = 50.0;
    }
    CHECK_NEAR(rw_purity_noise(v, m, N), 0.1, 0.006);
    CHECK(isnan(rw_purity_noise(v, NULL, 1)));

    rw_purity_opts o;
    rw_purity_opts_init(&o);
    rw_purity_result r;
    rw_error err = {0};
    double mean[2] = {0.3, NAN};
    size_t bins[2] = {2, 100};
    int state[2] = {7, 7};
    CHECK(rw_purity_fit(&o, 2, mean, bins, 0.1, &r, state, &err) == RW_OK);
    CHECK(!strcmp(r.flag, RW_PURITY_FLAG_NO_DATA) && r.n_fitted == 0 && r.fraction == 0);
    CHECK(state[0] == -1 && state[1] == -1);
    CHECK(rw_purity_fit(&o, 2, mean, bins, 0.0, &r, state, &err) == RW_ERR_USAGE);
    CHECK(strstr(err.msg, "SD") != NULL);
    o.f_max = 1.5;
    CHECK(rw_purity_fit(&o, 2, mean, bins, 0.1, &r, state, &err) == RW_ERR_USAGE);

    /* A small segment that no integer state explains at the fraction the large ones agree on
     * (subclonal, artefact) is an outlier (-1), and does not move the fraction. */
    rw_purity_opts_init(&o);
    double f2 = 0.2;
    double m2[6] = {0.0, rw_purity_expected_log2(f2, 2, 3), rw_purity_expected_log2(f2, 2, 1),
                    0.9, rw_purity_expected_log2(f2, 2, 4), 0.0};
    size_t b2[6] = {300, 250, 200, 6, 280, 150};
    int s2[6];
    CHECK(rw_purity_fit(&o, 6, m2, b2, 0.09, &r, s2, &err) == RW_OK);
    CHECK_NEAR(r.fraction, f2, 0.005);
    CHECK(s2[0] == 2 && s2[1] == 3 && s2[2] == 1 && s2[3] == -1 && s2[4] == 4 && s2[5] == 2);
}

/* ---------------------------------------------------------------- simulated 0.1x samples */
#define PROFILE   "1q:3,8q:4,17p:1,13q:1,20q:3"
#define N_NORMALS 10
#define N_REPS    3

typedef struct norm_ref {
    rw_bins *mean;       /* per-bin mean of the normals, scaled to median 1 */
    unsigned char *mask; /* 1 = unreliable bin */
} norm_ref;

/* Simulated bin counts of one sample, from the project's simulator. */
/* Bin counts of the sample of options so with this fraction, seed and events (NULL after a
 * message). */
static rw_bins *sim_draw(rw_sim_opts *so, double f, uint64_t seed, const rw_sim_event *ev,
                         size_t nev)
{
    so->seed = seed;
    so->tumour_fraction = f;
    so->events = ev;
    so->n_events = nev;
    rw_bins *b = NULL;
    rw_error err = {0};
    if (rw_sim_bins(so, RW_BIN_SIZE_DEFAULT, &b, &err) != RW_OK)
        fprintf(stderr, "rw_sim_bins: %s\n", err.msg);
    return b;
}

static rw_bins *sim_sample_depth(double f, uint64_t seed, const rw_sim_event *ev, size_t nev,
                                 int paired, double depth)
{
    rw_sim_opts so;
    rw_sim_opts_init(&so);
    rw_sim_opts_ideal(&so); /* the figures of the ideal model (README) */
    so.paired = paired;
    so.depth = depth;
    return sim_draw(&so, f, seed, ev, nev);
}

/* Simulated bin counts at the simulator's default depth and read layout. */
static rw_bins *sim_sample(double f, uint64_t seed, const rw_sim_event *ev, size_t nev)
{
    rw_sim_opts so;
    rw_sim_opts_init(&so);
    return sim_sample_depth(f, seed, ev, nev, so.paired, so.depth);
}

static double median_of(double *v, size_t n)
{
    if (!n)
        return NAN;
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Median of the finite values of b->count over unmasked autosomal bins. */
static double bins_median(const rw_bins *b, const unsigned char *mask, const double *v)
{
    double *tmp = malloc(b->n * sizeof *tmp);
    size_t m = 0;
    for (size_t i = 0; i < b->first[RW_CHROM_X]; i++)
        if ((!mask || !mask[i]) && isfinite(v[i]))
            tmp[m++] = v[i];
    double med = median_of(tmp, m);
    free(tmp);
    return med;
}

/* A simple normalisation for the test: per-bin mean of simulated normals (each scaled to median
 * 1); bins whose reference is below 30% of typical are masked. */
static int build_ref(norm_ref *ref)
{
    ref->mean = NULL;
    ref->mask = NULL;
    for (int k = 0; k < N_NORMALS; k++) {
        rw_bins *b = sim_sample(0.0, 9000 + k, NULL, 0);
        if (!b)
            return -1;
        double med = bins_median(b, NULL, b->count);
        if (!ref->mean) {
            ref->mean = rw_bins_copy(b);
            for (size_t i = 0; i < b->n; i++)
                ref->mean->count[i] = 0.0;
        }
        for (size_t i = 0; i < b->n; i++)
            ref->mean->count[i] += b->count[i] / med / N_NORMALS;
        rw_bins_free(b);
    }
    ref->mask = calloc(ref->mean->n, 1);
    for (size_t i = 0; i < ref->mean->n; i++)
        ref->mask[i] = !(ref->mean->count[i] > 0.3);
    return 0;
}

/* log2(sample / reference), median-normalised; masked bins NaN. */
static void log2_ratios(const rw_bins *s, const norm_ref *ref, double *out)
{
    for (size_t i = 0; i < s->n; i++)
        out[i] = ref->mask[i] || !(s->count[i] > 0) ? NAN : s->count[i] / ref->mean->count[i];
    double med = bins_median(s, ref->mask, out);
    for (size_t i = 0; i < s->n; i++)
        out[i] = isfinite(out[i]) ? log2(out[i] / med) : NAN;
}

/* Segments from the known event boundaries: each chromosome cut at every event edge. */
static size_t known_segments(const rw_bins *b, const double *l2, const rw_sim_event *ev, size_t nev,
                             double *seg_mean, size_t *seg_bins, size_t max_seg)
{
    size_t ns = 0;
    for (int c = 0; c < b->nchrom && c <= RW_CHROM_X; c++) {
        double sum = 0;
        size_t cnt = 0;
        for (size_t i = b->first[c]; i < b->first[c + 1]; i++) {
            int64_t st = rw_bins_start(b, i);
            int cut = 0;
            for (size_t e = 0; e < nev; e++)
                if (ev[e].chrom == c && i > b->first[c] &&
                    (rw_bins_index(b, c, ev[e].start) == i || rw_bins_index(b, c, ev[e].end) == i))
                    cut = 1;
            (void)st;
            if (cut && cnt && ns < max_seg) {
                seg_mean[ns] = sum / cnt;
                seg_bins[ns++] = cnt;
                sum = 0;
                cnt = 0;
            }
            if (isfinite(l2[i])) {
                sum += l2[i];
                cnt++;
            }
        }
        if (cnt && ns < max_seg) {
            seg_mean[ns] = sum / cnt;
            seg_bins[ns++] = cnt;
        }
    }
    return ns;
}

static void test_simulated(void)
{
    rw_error err = {0};
    rw_sim_event *ev = NULL;
    size_t nev = 0;
    norm_ref ref = {0};
    double *l2 = NULL;
    FILE *tsv = NULL;
    CHECK(rw_sim_parse_events(PROFILE, RW_BUILD_HG38, &ev, &nev, &err) == RW_OK);
    CHECK(nev == 5);
    if (!ev || build_ref(&ref) != 0) {
        CHECK(!"simulator failed");
        goto out;
    }
    l2 = malloc(ref.mean->n * sizeof *l2);
    tsv = fopen(rw_test_path(RW_BUILD_DIR, "purity_accuracy.tsv"), "w");
    CHECK(tsv != NULL);
    if (tsv)
        fprintf(tsv,
                "segments_from\ttruth\treplicate\testimate\tlo\thi\tploidy\tflag\tn_segments\n");

    const double fs[] = {0.0, 0.05, 0.10, 0.20, 0.30, 0.40};
    double worst = 0.0, worst_zero = 0.0;
    for (size_t t = 0; t < sizeof fs / sizeof fs[0]; t++)
        for (int rep = 0; rep < N_REPS; rep++) {
            rw_bins *s = sim_sample(fs[t], 100 + 10 * t + rep, ev, nev);
            if (!s) {
                CHECK(!"simulator failed");
                continue;
            }
            log2_ratios(s, &ref, l2);
            double seg_mean[512];
            size_t seg_bins[512];
            /* pass 0: segments from the known event boundaries; pass 1: CBS (segment.h) */
            for (int pass = 0; pass < 2; pass++) {
                size_t ns = 0;
                if (pass == 0) {
                    ns = known_segments(s, l2, ev, nev, seg_mean, seg_bins, 512);
                } else {
                    rw_segment_opts so;
                    rw_segment_opts_init(&so);
                    so.build = s->build;
                    rw_segments segs = {0};
                    CHECK(rw_segment_bins(s, l2, &so, &segs, &err) == RW_OK);
                    for (size_t k = 0; k < segs.n && ns < 512; k++)
                        if (segs.a[k].chrom <= RW_CHROM_X) {
                            seg_mean[ns] = segs.a[k].mean;
                            seg_bins[ns++] = segs.a[k].n;
                        }
                    rw_segments_free(&segs);
                }
                double sd = rw_purity_noise(l2, NULL, s->n);
                rw_purity_opts o;
                rw_purity_opts_init(&o);
                rw_purity_result r;
                int state[512];
                CHECK(rw_purity_fit(&o, ns, seg_mean, seg_bins, sd, &r, state, &err) == RW_OK);
                /* No tumour: below_detection, and the estimate under the caution limit. When
                 * the estimate's model reads two CBS pieces of a normal as copy changes (CBS
                 * keeps the pieces that stand out) it says up to ~4%, with the flag that says
                 * it is not a measurement. */
                CHECK_NEAR(r.fraction, fs[t], fs[t] == 0.0 ? 0.05 : 0.03);
                if (fs[t] == 0.0) {
                    CHECK(r.fraction < 0.05);
                    CHECK(!strcmp(r.flag, RW_PURITY_FLAG_BELOW_DETECTION));
                    if (r.fraction > worst_zero)
                        worst_zero = r.fraction;
                } else {
                    /* The interval covers the truth with the true boundaries; with CBS at 5%
                     * the fit can land in the "f/2 with doubled states" mode (within 3 points,
                     * but with an interval that misses the truth): not asserted there. */
                    if (pass == 0 || fs[t] >= 0.1)
                        CHECK(r.fraction_lo <= fs[t] + 0.01 && fs[t] - 0.01 <= r.fraction_hi);
                    if (fabs(r.fraction - fs[t]) > worst)
                        worst = fabs(r.fraction - fs[t]);
                }
                if (tsv)
                    fprintf(tsv, "%s\t%.3f\t%d\t%.4f\t%.4f\t%.4f\t%.2f\t%s\t%zu\n",
                            pass ? "cbs" : "known", fs[t], rep, r.fraction, r.fraction_lo,
                            r.fraction_hi, r.ploidy, r.flag, ns);
            }
            rw_bins_free(s);
        }
    printf("simulated: worst |error| at f > 0: %.4f; worst estimate at f = 0: %.4f\n", worst,
           worst_zero);
out:
    if (tsv)
        fclose(tsv);
    free(l2);
    free(ev);
    rw_bins_free(ref.mean);
    free(ref.mask);
}

/* ---------------------------------------------------------------- paired 0.1x, few events */
/* The case of issue 4: paired-end 0.1x (~259 fragments per 500 kb bin), a profile with only two
 * arm-level events and the focal 1q21.3 amplification, and one with the focal event alone. */
#define PROFILE_ARMS  "1q:3,8q:4,1q21.3:6"
#define PROFILE_FOCAL "1q21.3:6"

/* Fits the sample s: segments from the known event boundaries (pass 0) or CBS (pass 1). */
static int fit_sample(const rw_bins *s, const norm_ref *ref, const rw_sim_event *ev, size_t nev,
                      int pass, double *l2, rw_purity_result *r)
{
    rw_error err = {0};
    double seg_mean[512];
    size_t seg_bins[512], ns = 0;
    log2_ratios(s, ref, l2);
    if (pass == 0) {
        ns = known_segments(s, l2, ev, nev, seg_mean, seg_bins, 512);
    } else {
        rw_segment_opts so;
        rw_segment_opts_init(&so);
        so.build = s->build;
        rw_segments segs = {0};
        if (rw_segment_bins(s, l2, &so, &segs, &err) != RW_OK)
            return -1;
        for (size_t k = 0; k < segs.n && ns < 512; k++)
            if (segs.a[k].chrom <= RW_CHROM_X) {
                seg_mean[ns] = segs.a[k].mean;
                seg_bins[ns++] = segs.a[k].n;
            }
        rw_segments_free(&segs);
    }
    rw_purity_opts o;
    rw_purity_opts_init(&o);
    return rw_purity_fit(&o, ns, seg_mean, seg_bins, rw_purity_noise(l2, NULL, s->n), r, NULL,
                         &err) == RW_OK
               ? 0
               : -1;
}

static void test_paired_few_events(void)
{
    norm_ref ref = {0};
    double *l2 = NULL;
    FILE *tsv = NULL;
    rw_sim_event *ev[2] = {NULL, NULL};
    size_t nev[2] = {0, 0};
    const char *prof[2] = {PROFILE_ARMS, PROFILE_FOCAL};
    rw_error err = {0};
    for (int p = 0; p < 2; p++)
        CHECK(rw_sim_parse_events(prof[p], RW_BUILD_HG38, &ev[p], &nev[p], &err) == RW_OK);
    if (!ev[0] || !ev[1] || build_ref(&ref) != 0) {
        CHECK(!"simulator failed");
        goto out;
    }
    l2 = malloc(ref.mean->n * sizeof *l2);
    tsv = fopen(rw_test_path(RW_BUILD_DIR, "purity_paired.tsv"), "w");
    CHECK(tsv != NULL);
    if (tsv)
        fprintf(tsv, "profile\tsegments_from\ttruth\treplicate\testimate\tlo\thi\tploidy\tflag\n");
    const double fs[] = {0.0, 0.05, 0.10, 0.20, 0.30};
    double worst = 0.0, worst_zero = 0.0;
    for (int p = 0; p < 2; p++)
        for (size_t t = 0; t < sizeof fs / sizeof fs[0]; t++)
            for (int rep = 0; rep < N_REPS; rep++) {
                if (p == 1 && fs[t] == 0.0)
                    continue; /* no tumour: the same sample as the arm profile at f = 0 */
                rw_bins *s =
                    sim_sample_depth(fs[t], 500 + 100 * p + 10 * t + rep, ev[p], nev[p], 1, 0.1);
                if (!s) {
                    CHECK(!"simulator failed");
                    continue;
                }
                for (int pass = 0; pass < 2; pass++) {
                    rw_purity_result r;
                    if (fit_sample(s, &ref, ev[p], nev[p], pass, l2, &r) != 0) {
                        CHECK(!"fit failed");
                        continue;
                    }
                    int below = !strcmp(r.flag, RW_PURITY_FLAG_BELOW_DETECTION);
                    int covers = r.fraction_lo <= fs[t] + 0.01 && fs[t] - 0.01 <= r.fraction_hi;
                    if (fs[t] == 0.0) {
                        CHECK(r.fraction < 0.05 && below); /* as in test_simulated */
                        if (r.fraction > worst_zero)
                            worst_zero = r.fraction;
                    } else if (p == 0) {
                        CHECK_NEAR(r.fraction, fs[t], 0.03);
                        /* As above: with CBS at 5% (the focal event merged into 1q) the fit
                         * lands in the "f/2 with doubled states" mode, ~0.023, whose interval
                         * misses the truth: not asserted there. */
                        if (pass == 0 || fs[t] >= 0.1)
                            CHECK(covers);
                        if (fabs(r.fraction - fs[t]) > worst)
                            worst = fabs(r.fraction - fs[t]);
                    } else {
                        /* One 4 Mb event: no claim beyond what it shows. */
                        CHECK(below || covers);
                    }
                    if (tsv)
                        fprintf(tsv, "%s\t%s\t%.3f\t%d\t%.4f\t%.4f\t%.4f\t%.2f\t%s\n", prof[p],
                                pass ? "cbs" : "known", fs[t], rep, r.fraction, r.fraction_lo,
                                r.fraction_hi, r.ploidy, r.flag);
                }
                rw_bins_free(s);
            }
    printf("paired 0.1x, two arm events + focal: worst |error| at f > 0: %.4f; worst estimate at "
           "f = 0: %.4f\n",
           worst, worst_zero);
out:
    if (tsv)
        fclose(tsv);
    free(l2);
    free(ev[0]);
    free(ev[1]);
    rw_bins_free(ref.mean);
    free(ref.mask);
}

/* ---------------------------------------------------------------- realistic samples, pipeline */
/* Issue 10.3: realistic samples (core/simulate.h defaults: per-sample GC strength, waves,
 * overdispersion) through the whole pipeline (rw_analyse: GC correction, panel, CBS by arm,
 * rw_purity_fit_sample) against a panel of 12 normals of the same profile built with GC. The
 * check runs a few; RW_PURITY_BENCH=1 (bench/purity.sh) runs the full table: 500 normals and 10
 * samples per fraction and profile, realistic and ideal. */
#define BENCH_NORMALS 500
#define CHECK_NORMALS 24
static const char *const real_profiles[2] = {"1q:3,8q:4", PROFILE};

static rw_bins *sim_profiled(int ideal, double f, uint64_t seed, const rw_sim_event *ev, size_t nev)
{
    rw_sim_opts so;
    rw_sim_opts_init(&so);
    if (ideal)
        rw_sim_opts_ideal(&so);
    return sim_draw(&so, f, seed, ev, nev);
}

/* A panel of 12 normals of the profile, with the simulator's GC (as pon build --gc-fasta). */
static rw_pon *profile_pon(int ideal, const rw_bins *gc)
{
    enum { NP = 12 };
    rw_bins *n[NP] = {0};
    rw_pon *pon = NULL;
    rw_error err = {0};
    int ok = 1;
    for (int k = 0; k < NP; k++)
        ok &= (n[k] = sim_profiled(ideal, 0.0, 77000 + (uint64_t)k, NULL, 0)) != NULL;
    rw_pon_opts po;
    rw_pon_opts_init(&po);
    po.gc = gc->count;
    if (ok && rw_pon_build(n, NP, &po, &pon, &err) != RW_OK)
        fprintf(stderr, "rw_pon_build: %s\n", err.msg);
    for (int k = 0; k < NP; k++)
        rw_bins_free(n[k]);
    return pon;
}

/* The genome-wide fit of one simulated sample through rw_analyse; 0 on success. */
static int pipeline_fit(const rw_pon *pon, int ideal, double f, uint64_t seed,
                        const rw_sim_event *ev, size_t nev, rw_purity_result *out)
{
    rw_bins *b = sim_profiled(ideal, f, seed, ev, nev);
    rw_result *r = NULL;
    rw_error err = {0};
    int rc = !b || rw_analyse(b, pon, NULL, &r, &err) != RW_OK || !r->has_purity;
    if (!rc)
        *out = r->purity;
    rw_result_free(r);
    rw_bins_free(b);
    return rc;
}

static double evidence_min(void)
{
    rw_purity_opts o;
    rw_purity_opts_init(&o);
    return o.evidence_min;
}

/* Normals of the profile: how many read f >= 3% with flag ok; evidence quantiles to stdout. */
static int false_tumours(const rw_pon *pon, int ideal, int n, FILE *tsv)
{
    int bad = 0;
    double *ev = malloc((size_t)n * sizeof *ev);
    for (int i = 0; ev && i < n; i++) {
        rw_purity_result r;
        if (pipeline_fit(pon, ideal, 0.0, 3000000 + (uint64_t)i, NULL, 0, &r)) {
            CHECK(!"pipeline failed");
            ev[i] = NAN;
            continue;
        }
        ev[i] = r.evidence;
        bad += r.fraction >= 0.03 && !strcmp(r.flag, RW_PURITY_FLAG_OK);
        if (tsv)
            fprintf(tsv, "%s\tnone\t0.000\t%d\t%.4f\t%.4f\t%.4f\t%.2f\t%s\n",
                    ideal ? "ideal" : "realistic", i, r.fraction, r.fraction_hi, r.evidence,
                    r.ploidy, r.flag);
    }
    if (ev) {
        qsort(ev, (size_t)n, sizeof *ev, cmp_double);
        printf("%s normals: %d of %d read f >= 3%% with flag ok; evidence median %.2f, 95th %.2f, "
               "99th %.2f, max %.2f nats (threshold %.2f)\n",
               ideal ? "ideal" : "realistic", bad, n, ev[n / 2], ev[(int)(0.95 * n)],
               ev[(int)(0.99 * n)], ev[n - 1], evidence_min());
    }
    free(ev);
    return bad;
}

/* Tumour samples of each profile at each fraction: |error| and flags, asserted at 10-40% one by
 * one, and at 5% as a count: at least 80% of the samples within 3 points (issue 10.3). The check
 * runs 5 samples at 5% and 1 at 10% and 40% per profile; the bench 10 at every fraction. */
static void tumour_accuracy(const rw_pon *pon, int ideal, int bench, FILE *tsv)
{
    const double bench_fs[] = {0.03, 0.05, 0.10, 0.20, 0.30, 0.40}, check_fs[] = {0.05, 0.10, 0.40};
    const double *fs = bench ? bench_fs : check_fs;
    size_t nf = bench ? sizeof bench_fs / sizeof *bench_fs : sizeof check_fs / sizeof *check_fs;
    for (int p = 0; p < 2; p++) {
        rw_sim_event *ev = NULL;
        size_t nev = 0;
        rw_error err = {0};
        CHECK(rw_sim_parse_events(real_profiles[p], RW_BUILD_HG38, &ev, &nev, &err) == RW_OK);
        for (size_t t = 0; t < nf; t++) {
            double sum = 0, worst = 0;
            int ok = 0, below = 0, covered = 0, within = 0;
            int reps = bench ? 10 : fs[t] == 0.05 ? 5 : 1;
            for (int rep = 0; rep < reps; rep++) {
                rw_purity_result r;
                uint64_t seed = 4000000 + 100000 * (uint64_t)p + 1000 * t + (uint64_t)rep;
                if (pipeline_fit(pon, ideal, fs[t], seed, ev, nev, &r)) {
                    CHECK(!"pipeline failed");
                    continue;
                }
                double e = fabs(r.fraction - fs[t]);
                sum += r.fraction;
                worst = e > worst ? e : worst;
                ok += !strcmp(r.flag, RW_PURITY_FLAG_OK);
                below += !strcmp(r.flag, RW_PURITY_FLAG_BELOW_DETECTION);
                covered += r.fraction_hi >= fs[t] - 0.005;
                within += e <= 0.03;
                if (fs[t] >= 0.10)
                    CHECK_NEAR(r.fraction, fs[t], 0.03);
                if (!strcmp(r.flag, RW_PURITY_FLAG_OK) && fs[t] >= 0.05)
                    CHECK(e <= 0.03); /* an answer that says ok is within 3 points */
                if (tsv)
                    fprintf(tsv, "%s\t%s\t%.3f\t%d\t%.4f\t%.4f\t%.4f\t%.2f\t%s\n",
                            ideal ? "ideal" : "realistic", real_profiles[p], fs[t], rep, r.fraction,
                            r.fraction_hi, r.evidence, r.ploidy, r.flag);
            }
            if (fs[t] == 0.05)
                CHECK(within * 10 >= reps * 8);
            printf("%s\t%s\tf=%.2f\tmean %.4f\tworst |error| %.4f\twithin 3 points %d/%d\tok "
                   "%d/%d\tbelow_detection %d/%d\tupper bound >= truth %d/%d\n",
                   ideal ? "ideal" : "realistic", real_profiles[p], fs[t], sum / reps, worst,
                   within, reps, ok, reps, below, reps, covered, reps);
        }
        free(ev);
    }
}

static void test_realistic(void)
{
    int bench = getenv("RW_PURITY_BENCH") && atoi(getenv("RW_PURITY_BENCH")) > 0;
    rw_bins *gc = NULL;
    rw_error err = {0};
    CHECK(rw_sim_gc(RW_BUILD_HG38, RW_BIN_SIZE_DEFAULT, &gc, &err) == RW_OK);
    FILE *tsv = fopen(rw_test_path(RW_BUILD_DIR, "purity_realistic.tsv"), "w");
    CHECK(tsv != NULL);
    if (tsv)
        fprintf(tsv, "profile\tevents\ttruth\treplicate\testimate\tupper\tevidence\tploidy\t"
                     "flag\n");
    for (int ideal = 0; gc && ideal <= bench; ideal++) {
        rw_pon *pon = profile_pon(ideal, gc);
        CHECK(pon != NULL);
        if (!pon)
            break;
        int n = bench ? BENCH_NORMALS : CHECK_NORMALS;
        int bad = false_tumours(pon, ideal, n, tsv);
        CHECK(bad <= n / 50); /* <= 2% (issue 10.3) */
        tumour_accuracy(pon, ideal, bench, tsv);
        rw_pon_free(pon);
    }
    if (tsv)
        fclose(tsv);
    rw_bins_free(gc);
}

int main(void)
{
    if (!getenv("RW_PURITY_BENCH")) {
        test_basics();
        test_synthetic();
        test_simulated();
        test_paired_few_events();
    }
    test_realistic();
    DONE();
}
