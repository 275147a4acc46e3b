/* Real plasma: ichorCNA's metastatic breast cancer patient MBC_315 at two time points
 * (tests/data/ichorcna: HMMcopy WIGs, 1 Mb, GRCh37; the data's README: 1p loss, 1q gain, 8q gain,
 * 20q gain, all smaller at T2). There is no panel of normals at 1 Mb GRCh37 in our format, so the
 * samples are normalised as ichorCNA can without one: GC and mappability correction (core/gc.h
 * defaults, the WIG tracks), bins kept where GC is known and mappability >= 0.9, log2 of the
 * corrected depth minus its autosomal median. Then CBS by arm and the genome-wide fit
 * (rw_purity_fit_sample), as rw_analyse does.
 * Asserted: the two time points have the same shape (Pearson r >= 0.8 between T1's segment means
 * and T2's mean over the same bins, segments of >= 5 bins), the fit says ok at T1 and the fraction
 * is lower at T2 than at T1. Per-bin and segment TSVs for `relapsewatch plot` and a summary go to
 * RW_BUILDDIR (mbc315_t1.bins.tsv, mbc315_t1.segments.tsv, ..., mbc315.tsv). */
#include "core/gc.h"
#include "core/purity.h"
#include "core/segment.h"
#include "core/stats.h"
#include "core/wig.h"
#include "tests/unit/harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAP_MIN 0.9

typedef struct sample {
    rw_bins *b;
    double *l2;
    rw_segments segs;
    rw_purity_result fit;
} sample;

/* GC + mappability correction and log2 ratios over the usable bins (NaN elsewhere). */
static int normalise(sample *s, const double *gc, const double *map)
{
    size_t n = s->b->n;
    double *corr = malloc(n * sizeof *corr), *tmp = malloc(n * sizeof *tmp);
    uint8_t *mask = malloc(n);
    s->l2 = malloc(n * sizeof *s->l2);
    rw_gc_opts go;
    rw_gc_opts_init(&go);
    rw_error err = {0};
    int rc = !corr || !tmp || !mask || !s->l2 ||
             rw_gc_correct(n, s->b->count, gc, NULL, map, &go, corr, mask, NULL, &err) != RW_OK;
    if (rc)
        fprintf(stderr, "GC correction: %s\n", err.msg);
    size_t m = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        int ok = !mask[i] && corr[i] > 0 && map[i] >= MAP_MIN;
        s->l2[i] = ok ? log2(corr[i]) : NAN;
        if (ok && i < s->b->first[RW_CHROM_X])
            tmp[m++] = s->l2[i];
    }
    double med = rc ? 0 : rw_stats_median(tmp, m);
    for (size_t i = 0; i < n && !rc; i++)
        s->l2[i] -= med;
    free(corr), free(tmp), free(mask);
    return rc;
}

/* Segments and the genome-wide fit, as rw_analyse runs them. */
static int segment_and_fit(sample *s)
{
    rw_segment_opts so;
    rw_segment_opts_init(&so);
    so.build = s->b->build;
    rw_purity_opts po;
    rw_purity_opts_init(&po);
    rw_error err = {0};
    if (rw_segment_bins(s->b, s->l2, &so, &s->segs, &err) != RW_OK ||
        rw_purity_fit_sample(&po, &s->segs, s->l2, rw_purity_noise(s->l2, NULL, s->b->n), &s->fit,
                             &err) != RW_OK) {
        fprintf(stderr, "segment/fit: %s\n", err.msg);
        return -1;
    }
    return 0;
}

/* The per-bin TSV (chrom start end log2) and the segments TSV (chrom start end mean), for
 * `relapsewatch plot -s SEGMENTS BINS`. */
static void write_tsvs(const sample *s, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s.bins.tsv", name);
    FILE *f = fopen(rw_test_path(RW_BUILD_DIR, path), "w");
    CHECK(f != NULL);
    for (size_t i = 0; f && i < s->b->n; i++) {
        fprintf(f, "%s\t%lld\t%lld\t", rw_chrom_name(rw_bins_chrom(s->b, i)),
                (long long)rw_bins_start(s->b, i), (long long)rw_bins_end(s->b, i));
        fprintf(f, isfinite(s->l2[i]) ? "%.5f\n" : "NA\n", s->l2[i]);
    }
    if (f)
        fclose(f);
    snprintf(path, sizeof path, "%s.segments.tsv", name);
    f = fopen(rw_test_path(RW_BUILD_DIR, path), "w");
    CHECK(f != NULL);
    if (f)
        fprintf(f, "chrom\tstart\tend\tmean\n");
    for (size_t k = 0; f && k < s->segs.n; k++)
        fprintf(f, "%s\t%lld\t%lld\t%.5f\n", rw_chrom_name(s->segs.a[k].chrom),
                (long long)s->segs.a[k].start, (long long)s->segs.a[k].end, s->segs.a[k].mean);
    if (f)
        fclose(f);
}

/* Pearson r between T1's segment means and T2's means over the same bins (segments >= 5 bins). */
static double shape_r(const sample *t1, const sample *t2, size_t *n_out)
{
    double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
    size_t n = 0;
    for (size_t k = 0; k < t1->segs.n; k++) {
        const rw_segment *g = &t1->segs.a[k];
        if (g->n < 5)
            continue;
        double sum = 0;
        size_t cnt = 0;
        for (size_t i = g->first; i <= g->last; i++)
            if (isfinite(t2->l2[i]))
                sum += t2->l2[i], cnt++;
        if (!cnt)
            continue;
        double x = g->mean, y = sum / (double)cnt;
        sx += x, sy += y, sxx += x * x, syy += y * y, sxy += x * y, n++;
    }
    *n_out = n;
    double cov = sxy - sx * sy / (double)n, vx = sxx - sx * sx / (double)n,
           vy = syy - sy * sy / (double)n;
    return cov / sqrt(vx * vy);
}

int main(void)
{
    static const char *const files[2] = {"ichorcna/MBC_315.ctDNA.reads.wig",
                                         "ichorcna/MBC_315_T2.ctDNA.reads.wig"};
    sample t[2] = {{0}, {0}};
    double *gc = NULL, *map = NULL;
    rw_error err = {0};
    int ok = 1;
    for (int k = 0; k < 2 && ok; k++)
        ok = rw_wig_read_bins(rw_test_path(RW_TEST_DATA, files[k]), &t[k].b, &err) == RW_OK;
    if (ok) {
        gc = malloc(t[0].b->n * sizeof *gc), map = malloc(t[0].b->n * sizeof *map);
        ok = gc && map &&
             rw_wig_read_track(rw_test_path(RW_TEST_DATA, "ichorcna/gc_hg19_1000kb.wig"), t[0].b,
                               gc, &err) == RW_OK &&
             rw_wig_read_track(rw_test_path(RW_TEST_DATA, "ichorcna/map_hg19_1000kb.wig"), t[0].b,
                               map, &err) == RW_OK;
    }
    if (!ok)
        fprintf(stderr, "%s\n", err.msg);
    CHECK(ok);
    for (int k = 0; k < 2 && ok; k++)
        ok = normalise(&t[k], gc, map) == 0 && segment_and_fit(&t[k]) == 0;
    CHECK(ok);
    if (ok) {
        size_t n = 0;
        double r = shape_r(&t[0], &t[1], &n);
        FILE *f = fopen(rw_test_path(RW_BUILD_DIR, "mbc315.tsv"), "w");
        CHECK(f != NULL);
        for (int o = 0; o < 2; o++) {
            FILE *out = o ? stdout : f;
            if (!out)
                continue;
            fprintf(out, "time_point\tfraction\tlow\thigh\tploidy\tevidence\tflag\tsegments\t"
                         "fitted\tbin_sd\tseg_sd_50\n");
            for (int k = 0; k < 2; k++)
                fprintf(out, "T%d\t%.4f\t%.4f\t%.4f\t%.2f\t%.1f\t%s\t%zu\t%zu\t%.4f\t%.4f\n", k + 1,
                        t[k].fit.fraction, t[k].fit.fraction_lo, t[k].fit.fraction_hi,
                        t[k].fit.ploidy, t[k].fit.evidence, t[k].fit.flag, t[k].segs.n,
                        t[k].fit.n_fitted, t[k].fit.bin_sd, t[k].fit.seg_sd_50);
            fprintf(out, "shape r (T1 segments >= 5 bins vs T2 over the same bins)\t%.3f\t%zu\n", r,
                    n);
        }
        if (f)
            fclose(f);
        write_tsvs(&t[0], "mbc315_t1");
        write_tsvs(&t[1], "mbc315_t2");
        CHECK(t[0].b->build == RW_BUILD_HG19);
        CHECK(n >= 20);
        CHECK(r >= 0.8);                                  /* the same shape */
        CHECK(!strcmp(t[0].fit.flag, RW_PURITY_FLAG_OK)); /* a tumour at T1 */
        CHECK(t[1].fit.fraction < t[0].fit.fraction);     /* less of it at T2 */
        CHECK(t[1].fit.fraction_lo <= t[1].fit.fraction_hi);
    }
    for (int k = 0; k < 2; k++) {
        rw_bins_free(t[k].b);
        free(t[k].l2);
        rw_segments_free(&t[k].segs);
    }
    free(gc), free(map);
    DONE();
}
