/* The per-sample pipeline: PoN check, normalisation, region scores, call and QC, into one
 * rw_result (steps in core/analyse.h). */
#include "core/analyse.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/denoise.h"
#include "core/gc.h"
#include "core/stats.h"
#include "core/version.h"

void rw_analyse_opts_init(rw_analyse_opts *o)
{
    rw_score_opts_init(&o->score);
    o->primary_cn = NAN;
    o->filters = NULL;
    o->segment = 1;
    rw_segment_opts_init(&o->seg);
    rw_purity_opts_init(&o->purity);
}

void rw_result_free(rw_result *r)
{
    if (!r)
        return;
    rw_bins_free(r->bins);
    free(r->corrected);
    free(r->depth);
    free(r->log2);
    free(r->mask);
    free(r->regions);
    rw_segments_free(&r->segments);
    free(r);
}

/* QC figures that need only the per-bin arrays. */
static rw_status fill_qc(rw_result *r, const rw_pon *pon, rw_error *err)
{
    const rw_bins *b = r->bins;
    size_t n_auto = b->first[RW_CHROM_X];
    double *v = malloc((b->n ? b->n : 1) * sizeof *v);
    if (!v)
        return rw_error_set(err, RW_ERR_NOMEM, "out of memory computing QC");
    rw_result_qc *q = &r->qc;
    q->n_bins = b->n;
    size_t m = 0;
    for (size_t i = 0; i < b->n; i++) {
        q->n_masked += r->mask[i] != 0;
        q->n_used += isfinite(r->log2[i]) != 0;
        if (i < n_auto && r->mask[i] == 0 && isfinite(b->count[i]))
            v[m++] = b->count[i];
    }
    q->median_reads_per_bin = rw_stats_median(v, m);
    m = 0;
    for (size_t i = 0; i < b->n; i++)
        if (isfinite(r->log2[i]))
            v[m++] = r->log2[i];
    q->mad_log2 = RW_MAD_TO_SD * rw_stats_mad(v, m, NULL);
    q->noise_sd = rw_score_noise(b, r->log2);
    q->pon_n_normals = pon->n_normals;
    q->pon_low_normals = pon->low_normals;
    free(v);
    return RW_OK;
}

/* Removes the panel's principal components from the log2 ratios (core/denoise.h). */
static rw_status denoise(rw_result *r, const rw_pon *pon, rw_error *err)
{
    r->qc.n_components = pon->n_components;
    if (pon->n_components <= 0)
        return RW_OK;
    uint8_t *fit = malloc(r->bins->n ? r->bins->n : 1);
    if (!fit)
        return rw_error_set(err, RW_ERR_NOMEM, "out of memory");
    rw_denoise_fit_bins(pon->median, pon->mask, fit);
    rw_denoise_apply(pon->pc, pon->n_components, r->bins->n, fit, r->log2);
    free(fit);
    return RW_OK;
}

/* Segments the log2 ratios by arm and fits the genome-wide tumour fraction to the segments. */
static rw_status segment_and_fit(rw_result *r, const rw_analyse_opts *o, rw_error *err)
{
    rw_segment_opts so = o->seg;
    so.build = r->bins->build;
    rw_status st = rw_segment_bins(r->bins, r->log2, &so, &r->segments, err);
    if (st)
        return st;
    if (r->segments.n == 0 || !(r->qc.noise_sd > 0))
        return RW_OK; /* nothing to fit: has_purity stays 0 */
    st = rw_purity_fit_sample(&o->purity, &r->segments, r->log2, r->qc.noise_sd, &r->purity, err);
    if (st)
        return st;
    r->has_purity = 1;
    return RW_OK;
}

rw_status rw_analyse(const rw_bins *sample, const rw_pon *pon, const rw_analyse_opts *o,
                     rw_result **out, rw_error *err)
{
    rw_analyse_opts defaults;
    if (!o) {
        rw_analyse_opts_init(&defaults);
        o = &defaults;
    }
    *out = NULL;
    rw_status st = rw_pon_check(pon, sample, o->filters, err);
    if (st)
        return st;
    size_t n = sample->n ? sample->n : 1;
    rw_result *r = calloc(1, sizeof *r);
    if (!r)
        return rw_error_set(err, RW_ERR_NOMEM, "out of memory");
    snprintf(r->core_version, sizeof r->core_version, "%s", RW_CORE_VERSION);
    snprintf(r->pon_id, sizeof r->pon_id, "%s", pon->id);
    snprintf(r->filters, sizeof r->filters, "%s", o->filters ? o->filters : "");
    r->bins = rw_bins_copy(sample);
    r->corrected = malloc(n * sizeof *r->corrected);
    r->depth = malloc(n * sizeof *r->depth);
    r->log2 = malloc(n * sizeof *r->log2);
    r->mask = malloc(n * sizeof *r->mask);
    r->purity.fraction = r->purity.fraction_lo = r->purity.fraction_hi = NAN;
    r->purity.ploidy = r->purity.mean_cn = r->purity.bin_sd = NAN;
    if (!r->bins || !r->corrected || !r->depth || !r->log2 || !r->mask) {
        st = rw_error_set(err, RW_ERR_NOMEM, "out of memory");
        goto fail;
    }
    memcpy(r->mask, pon->mask, sample->n * sizeof *r->mask);
    /* A panel built with GC fractions was made of GC-corrected normals: correct the sample
     * alike (same core/gc.h defaults). Without them the PoN normalisation is the only
     * correction, and qc.gc_corrected says so. */
    if (rw_pon_has_gc(pon)) {
        rw_gc_opts go;
        rw_gc_opts_init(&go);
        rw_error ge;
        uint8_t *gmask = malloc(n);
        if (!gmask) {
            st = rw_error_set(err, RW_ERR_NOMEM, "out of memory");
            goto fail;
        }
        st = rw_gc_correct(sample->n, sample->count, pon->gc, NULL, NULL, &go, r->corrected, gmask,
                           NULL, &ge);
        free(gmask);
        if (st) {
            st = rw_error_set(err, st == RW_ERR_NOMEM ? RW_ERR_NOMEM : RW_ERR_INPUT,
                              "GC correction failed: %s", ge.msg);
            goto fail;
        }
        r->qc.gc_corrected = 1;
    } else {
        memcpy(r->corrected, sample->count, sample->n * sizeof *r->corrected);
    }

    st = rw_score_log2(pon, r->corrected, &o->score, r->depth, r->log2, err);
    if (st)
        goto fail;
    if ((st = denoise(r, pon, err)))
        goto fail;
    st = rw_score_regions(pon, r->log2, o->primary_cn, &o->score, &r->regions, &r->n_regions, err);
    if (st)
        goto fail;
    r->primary = (size_t)-1;
    for (size_t i = 0; i < r->n_regions; i++)
        if (!strcmp(r->regions[i].name, RW_REGION_1Q213))
            r->primary = i;
    if (r->primary == (size_t)-1) {
        st = rw_error_set(err, RW_ERR_INTERNAL, "no 1q21.3 region for build %s",
                          rw_build_name(sample->build));
        goto fail;
    }
    rw_region_score *p = &r->regions[r->primary];
    rw_score_quality_of(r->bins, r->log2, (int)p->n_region_bins, &o->score, &r->quality);
    if (!r->quality.ok && p->call != RW_CALL_NO_DATA) {
        p->call = RW_CALL_INSUFFICIENT_QUALITY;
        p->strong = 0;
    }
    r->call = p->call;
    r->strong = p->strong;
    r->z = p->z;
    r->threshold = p->threshold;
    r->primary_cn = o->primary_cn;
    r->tf = p->tf;
    r->tf_lo = p->tf_lo;
    r->tf_hi = p->tf_hi;
    st = fill_qc(r, pon, err);
    if (st)
        goto fail;
    if (o->segment) {
        st = segment_and_fit(r, o, err);
        if (st)
            goto fail;
    }
    *out = r;
    return RW_OK;
fail:
    rw_result_free(r);
    return st;
}

rw_status rw_analyse_file(const char *path, const rw_count_opts *co, const rw_pon *pon,
                          const rw_analyse_opts *o, rw_result **out, rw_count_qc *qc,
                          rw_progress_fn progress, void *progress_ctx, rw_error *err)
{
    *out = NULL;
    rw_count_opts c = *co;
    /* The build is left as the caller set it (usually "detect"), so that a sample of another
     * build reaches rw_pon_check() and gets its mismatch message. */
    c.bin_size = pon->median->bin_size;
    c.include_y = pon->median->nchrom == RW_NCHROM;
    rw_analyse_opts a;
    if (o)
        a = *o;
    else
        rw_analyse_opts_init(&a);
    char filters[256];
    a.filters = rw_count_filters(&c, filters, sizeof filters);
    rw_bins *b = NULL;
    rw_status st = rw_count_load(path, &c, &b, qc, progress, progress_ctx, err);
    if (st)
        return st;
    st = rw_analyse(b, pon, &a, out, err);
    rw_bins_free(b);
    return st;
}
