/* Real plasma: ichorCNA's metastatic breast cancer patient MBC_315 at two time points
 * (tests/data/ichorcna: HMMcopy WIGs, 1 Mb, GRCh37; the data's README: 1p loss, 1q gain, 8q gain,
 * 20q gain, all smaller at T2). There is no panel of normals at 1 Mb GRCh37 in our format, so the
 * samples are normalised as ichorCNA can without one, by GC correction alone: rw_analyse against
 * a panel without normals (rw_pon_flat: the GC WIG, bins of mappability < 0.9 masked), exactly
 * what `relapsewatch call --gc-wig GC.wig --map-wig MAP.wig SAMPLE.wig` runs; then CBS by arm and
 * the genome-wide fit (rw_purity_fit_sample).
 * Asserted: the two time points have the same shape (Pearson r >= 0.8 between T1's segment means
 * and T2's mean over the same bins, segments of >= 5 bins), the fit says ok at T1 and the fraction
 * is lower at T2 than at T1. Per-bin and segment TSVs for `relapsewatch plot` and a summary go to
 * RW_BUILDDIR (mbc315_t1.bins.tsv, mbc315_t1.segments.tsv, ..., mbc315.tsv). */
#include "core/analyse.h"
#include "core/pon.h"
#include "core/wig.h"
#include "tests/unit/harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAP_MIN 0.9

typedef struct sample {
    rw_bins *b;
    rw_result *r;     /* rw_analyse against the flat panel */
    const double *l2; /* r->log2 */
    rw_segments segs; /* r->segments (borrowed) */
    rw_purity_result fit;
} sample;

/* What `relapsewatch call --gc-wig --map-wig` runs: rw_analyse against a panel without normals
 * (rw_pon_flat: GC correction alone, mappability < MAP_MIN masked). */
static int analyse(sample *s, const rw_pon *flat)
{
    rw_error err = {0};
    if (rw_analyse(s->b, flat, NULL, &s->r, &err) != RW_OK || !s->r->has_purity) {
        fprintf(stderr, "analyse: %s\n", err.msg);
        return -1;
    }
    s->l2 = s->r->log2;
    s->segs = s->r->segments;
    s->fit = s->r->purity;
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
    rw_pon *flat = NULL;
    ok = ok && rw_pon_flat(t[0].b, gc, map, MAP_MIN, "", &flat, &err) == RW_OK;
    for (int k = 0; k < 2 && ok; k++)
        ok = analyse(&t[k], flat) == 0;
    CHECK(ok);
    rw_pon_free(flat);
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
        rw_result_free(t[k].r);
    }
    free(gc), free(map);
    DONE();
}
