/* Panel of normals: build (median, MAD, mask, leave-one-out region spread), the checksummed text
 * file, and the compatibility check of a sample. The rules are stated in core/pon.h. */
#include "core/pon.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <htslib/kstring.h>

#include "core/atomic.h"
#include "core/denoise.h"
#include "core/gc.h"
#include "core/score.h"
#include "core/settings.h"
#include "core/stats.h"
#include "core/version.h"

#define PON_MAGIC "#relapsewatch-pon"

void rw_pon_opts_init(rw_pon_opts *o)
{
    rw_settings_defaults(RW_SET_PON, o); /* panel size and masking: analysis settings */
    o->filters = NULL;
    o->id = NULL;
    o->gc = NULL;
    o->frag_hist = NULL;
}

/* A new copy of a RW_FRAG_HIST_MAX + 1 histogram (free()); NULL when out of memory. */
static double *frag_hist_copy(const double *hist)
{
    double *h = malloc((RW_FRAG_HIST_MAX + 1) * sizeof *h);
    if (h)
        memcpy(h, hist, (RW_FRAG_HIST_MAX + 1) * sizeof *h);
    return h;
}

char *rw_pon_filters(const rw_count_opts *o, char *buf, size_t n)
{
    return rw_count_filters(o, buf, n);
}

void rw_pon_free(rw_pon *p)
{
    if (!p)
        return;
    rw_bins_free(p->median);
    free(p->mad);
    free(p->mask);
    free(p->gc);
    free(p->regions);
    free(p->frag_hist);
    free(p->pc);
    free(p);
}

/* A new panel with layout `layout` (copied, counts NaN), arrays allocated, regions unset. */
static rw_pon *pon_alloc(const rw_bins *layout)
{
    rw_pon *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->median = rw_bins_copy(layout);
    if (!p->median)
        goto fail;
    size_t n = layout->n ? layout->n : 1;
    p->mad = malloc(n * sizeof *p->mad);
    p->mask = calloc(n, sizeof *p->mask);
    p->gc = malloc(n * sizeof *p->gc);
    if (!p->mad || !p->mask || !p->gc)
        goto fail;
    for (size_t i = 0; i < layout->n; i++)
        p->median->count[i] = p->mad[i] = p->gc[i] = NAN;
    snprintf(p->core_version, sizeof p->core_version, "%s", RW_CORE_VERSION);
    return p;
fail:
    rw_pon_free(p);
    return NULL;
}

const rw_pon_region *rw_pon_region_find(const rw_pon *p, const char *name)
{
    for (size_t i = 0; i < p->n_regions; i++)
        if (!strcmp(p->regions[i].name, name))
            return &p->regions[i];
    return NULL;
}

int rw_pon_has_gc(const rw_pon *p)
{
    for (size_t i = 0; i < p->median->n; i++)
        if (isfinite(p->gc[i]))
            return 1;
    return 0;
}

size_t rw_pon_usable(const rw_pon *p)
{
    size_t k = 0;
    for (size_t i = 0; i < p->median->n; i++)
        k += p->mask[i] == 0;
    return k;
}

/* ------------------------------------------------------------------ build */

/* Median and MAD of the finite values of v[0..n) (v is reordered); *k = how many. */
static void median_mad(double *v, size_t n, double *med, double *mad, size_t *k)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i]))
            v[m++] = v[i];
    *k = m;
    *mad = rw_stats_mad(v, m, med);
}

static rw_status build_nomem(rw_error *err)
{
    return rw_error_set(err, RW_ERR_NOMEM, "out of memory building the panel");
}

/* Row j of the leave-one-out log2 ratios: normal j against the per-bin median of the others,
 * normalised as a sample is (score.h; the zero floor is the default's). v (nn doubles) and ref
 * (n doubles) are scratch. */
static rw_status loo_ratios(const rw_pon *p, double *const *norm, size_t nn, size_t j, double *v,
                            double *ref, double *lr, rw_error *err)
{
    const rw_bins *b = p->median;
    for (size_t i = 0; i < b->n; i++) {
        if (p->mask[i]) {
            ref[i] = NAN;
            continue;
        }
        size_t m = 0;
        for (size_t k = 0; k < nn; k++)
            if (k != j)
                v[m++] = norm[k][i];
        ref[i] = rw_stats_median(v, m);
    }
    rw_score_opts so;
    rw_score_opts_init(&so);
    return rw_score_log2_ref(b, norm[j], ref, p->mask, so.zero_floor, NULL, lr, err);
}

/* Mean, SD (n - 1; NaN with fewer than 3) and count of the finite scores of region x. */
static void region_stats(rw_pon_region *x, const double *scores, size_t nn)
{
    double sum = 0, ss = 0;
    int k = 0;
    for (size_t j = 0; j < nn; j++)
        if (isfinite(scores[j])) {
            sum += scores[j];
            k++;
        }
    x->n_scored = k;
    x->loo_mean = k ? sum / k : NAN;
    for (size_t j = 0; j < nn; j++)
        if (isfinite(scores[j]))
            ss += (scores[j] - x->loo_mean) * (scores[j] - x->loo_mean);
    x->loo_sd = k >= 3 ? sqrt(ss / (k - 1)) : NAN;
}

/* Scratch of pon_loo. */
typedef struct loo_work {
    double **rows; /* nn leave-one-out log2 ratio rows */
    double *ref, *lr, *v, *scores, *G, *pcs;
    uint8_t *fit;
} loo_work;

static void loo_work_free(loo_work *w, size_t nn)
{
    for (size_t j = 0; w->rows && j < nn; j++)
        free(w->rows[j]);
    free(w->rows);
    free(w->ref);
    free(w->lr);
    free(w->v);
    free(w->scores);
    free(w->G);
    free(w->pcs);
    free(w->fit);
}

static int loo_work_alloc(loo_work *w, size_t n, size_t nn, size_t nr, int max_k)
{
    memset(w, 0, sizeof *w);
    w->rows = calloc(nn, sizeof *w->rows);
    w->ref = malloc(n * sizeof *w->ref);
    w->lr = malloc(n * sizeof *w->lr);
    w->v = malloc(nn * sizeof *w->v);
    w->scores = malloc((nr ? nr : 1) * nn * sizeof *w->scores);
    w->G = malloc(nn * nn * sizeof *w->G);
    w->pcs = malloc((max_k > 0 ? (size_t)max_k : 1) * n * sizeof *w->pcs);
    w->fit = malloc(n);
    if (!w->rows || !w->ref || !w->lr || !w->v || !w->scores || !w->G || !w->pcs || !w->fit)
        return -1;
    for (size_t j = 0; j < nn; j++)
        if (!(w->rows[j] = malloc(n * sizeof **w->rows)))
            return -1;
    return 0;
}

/* 4-5. Leave-one-out region statistics through the whole chain (normal j against the median of
 * the others, cleaned of the others' components), and the panel's components. */
static rw_status pon_loo(rw_pon *p, double *const *norm, size_t nn, const rw_pon_opts *o,
                         rw_error *err)
{
    const rw_bins *b = p->median;
    size_t n = b->n, nr = 0;
    const rw_region *regions = rw_regions(b->build, &nr);
    loo_work w;
    rw_status st = RW_OK;
    int k = 0;
    p->regions = calloc(nr ? nr : 1, sizeof *p->regions);
    if (loo_work_alloc(&w, n ? n : 1, nn, nr, o->max_components) || !p->regions) {
        st = build_nomem(err);
        goto fail;
    }
    for (size_t j = 0; j < nn && st == RW_OK; j++)
        st = loo_ratios(p, norm, nn, j, w.v, w.ref, w.rows[j], err);
    if (st)
        goto fail;
    rw_denoise_fit_bins(b, p->mask, w.fit);
    rw_denoise_gram((const double *const *)w.rows, nn, n, w.fit, w.G);
    for (size_t j = 0; j < nn; j++) {
        st = rw_denoise_components((const double *const *)w.rows, nn, n, w.fit, w.G, j,
                                   o->max_components, o->component_ratio, w.pcs, &k, NULL, err);
        if (st)
            goto fail;
        memcpy(w.lr, w.rows[j], n * sizeof *w.lr);
        rw_denoise_apply(w.pcs, k, n, w.fit, w.lr);
        for (size_t r = 0; r < nr; r++) {
            size_t first, nb;
            rw_score_region_bins(b, &regions[r], &first, &nb);
            w.scores[r * nn + j] = rw_score_mean(w.lr, first, nb, NULL);
        }
    }
    for (size_t r = 0; r < nr; r++) {
        if (regions[r].mask)
            continue;
        rw_pon_region *x = &p->regions[p->n_regions++];
        snprintf(x->name, sizeof x->name, "%s", regions[r].name);
        size_t first, nb;
        rw_score_region_bins(b, &regions[r], &first, &nb);
        for (size_t i = first; i < first + nb; i++)
            x->n_bins += p->mask[i] == 0;
        region_stats(x, w.scores + r * nn, nn);
    }
    st = rw_denoise_components((const double *const *)w.rows, nn, n, w.fit, w.G, (size_t)-1,
                               o->max_components, o->component_ratio, w.pcs, &k, NULL, err);
    if (st == RW_OK && k > 0) {
        p->pc = malloc((size_t)k * n * sizeof *p->pc);
        if (!p->pc)
            st = build_nomem(err);
        else {
            memcpy(p->pc, w.pcs, (size_t)k * n * sizeof *p->pc);
            p->n_components = k;
        }
    }
fail:
    loo_work_free(&w, nn);
    return st;
}

/* The part of the content the default id is derived from: layout, filters and statistics. */
static uint64_t fnv1a(uint64_t h, const void *data, size_t n)
{
    const unsigned char *c = data;
    for (size_t i = 0; i < n; i++) {
        h ^= c[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}
#define FNV_OFFSET 0xcbf29ce484222325ULL

/* The options, the count of normals and their layouts. */
static rw_status check_build_args(rw_bins *const *normals, size_t nn, const rw_pon_opts *o,
                                  rw_error *err)
{
    if (o->min_normals < 3 || !(o->min_median >= 0) || !(o->max_cv > 0) ||
        !(o->max_cv_factor > 0) || o->max_components < 0 ||
        o->max_components > RW_PON_MAX_COMPONENTS || !(o->component_ratio >= 1))
        return rw_error_set(err, RW_ERR_USAGE,
                            "bad panel options (min_normals >= 3, min_median >= 0, max_cv > 0, "
                            "max_cv_factor > 0, max_components 0-%d, component_ratio >= 1)",
                            RW_PON_MAX_COMPONENTS);
    if (nn < (size_t)o->min_normals)
        return rw_error_set(err, RW_ERR_INPUT,
                            "%zu normal sample(s) given: a panel needs at least %d (%d or more "
                            "recommended)",
                            nn, o->min_normals, o->recommended_normals);
    for (size_t j = 1; j < nn; j++)
        if (!rw_bins_same_layout(normals[0], normals[j]))
            return rw_error_set(err, RW_ERR_MISMATCH,
                                "normal %zu (%s, %d bp bins) differs from normal 1 (%s, %d bp "
                                "bins): every normal needs the same build and bin size",
                                j + 1, rw_build_name(normals[j]->build), (int)normals[j]->bin_size,
                                rw_build_name(normals[0]->build), (int)normals[0]->bin_size);
    return RW_OK;
}

/* 0-1. Normal j (index j0 = j + 1 in messages), GC-corrected when o->gc is set, divided by its
 * median over the autosomal bins with reads: *out is new (free() it even on failure). gmask
 * (n bytes, with o->gc) and v (n doubles) are scratch. */
static rw_status normalise_normal(const rw_bins *b, size_t j0, const rw_pon_opts *o,
                                  const rw_gc_opts *go, uint8_t *gmask, double *v, double **out,
                                  rw_error *err)
{
    size_t n = b->n, n_auto = b->first[RW_CHROM_X];
    double *x = *out = malloc((n ? n : 1) * sizeof *x);
    if (!x)
        return build_nomem(err);
    const double *cnt = b->count;
    if (o->gc) {
        rw_error ge;
        if (rw_gc_correct(n, b->count, o->gc, NULL, NULL, go, x, gmask, NULL, &ge) != RW_OK)
            return rw_error_set(err, ge.status == RW_ERR_NOMEM ? RW_ERR_NOMEM : RW_ERR_INPUT,
                                "normal %zu: GC correction failed: %s", j0, ge.msg);
        cnt = x;
    }
    size_t m = 0;
    for (size_t i = 0; i < n_auto; i++)
        if (isfinite(cnt[i]) && cnt[i] > 0)
            v[m++] = cnt[i];
    double scale = rw_stats_median(v, m);
    if (!(scale > 0))
        return rw_error_set(err, RW_ERR_INPUT, "normal %zu has no reads on the autosomes", j0);
    for (size_t i = 0; i < n; i++)
        x[i] = cnt[i] / scale;
    return RW_OK;
}

/* Every normal normalised into norm[] (see normalise_normal). */
static rw_status normalise_normals(rw_bins *const *normals, size_t nn, const rw_pon_opts *o,
                                   const rw_gc_opts *go, double **norm, double *v, rw_error *err)
{
    size_t n = normals[0]->n;
    /* scratch mask: the panel's GC mask depends on the GC alone (mask_bins) */
    uint8_t *gmask = o->gc ? malloc(n ? n : 1) : NULL;
    if (o->gc && !gmask)
        return build_nomem(err);
    rw_status st = RW_OK;
    for (size_t j = 0; j < nn && st == RW_OK; j++)
        st = normalise_normal(normals[j], j + 1, o, go, gmask, v, &norm[j], err);
    free(gmask);
    return st;
}

/* The masks a bin gets whatever the normals say: outside the GC range of the correction (with
 * o->gc, whose values the panel keeps), inside a masked region of the build. */
static void mask_fixed(rw_pon *p, const rw_pon_opts *o, const rw_gc_opts *go)
{
    const rw_bins *lay = p->median;
    size_t n = lay->n;
    if (o->gc) {
        memcpy(p->gc, o->gc, n * sizeof *p->gc);
        for (size_t i = 0; i < n; i++)
            if (!(o->gc[i] >= go->gc_min && o->gc[i] <= go->gc_max))
                p->mask[i] |= RW_PON_MASK_GC;
    }
    size_t nr = 0;
    const rw_region *regions = rw_regions(lay->build, &nr);
    for (size_t r = 0; r < nr; r++) {
        if (!regions[r].mask || regions[r].chrom >= lay->nchrom)
            continue;
        for (size_t i = lay->first[regions[r].chrom]; i < lay->first[regions[r].chrom + 1]; i++)
            if (rw_bins_start(lay, i) < regions[r].end && rw_bins_end(lay, i) > regions[r].start)
                p->mask[i] |= RW_PON_MASK_REGION;
    }
}

/* 2-3. Per-bin median and MAD of the normalised normals, and the masks they give: too few
 * normals with data, low median, spread above max_cv or above max_cv_factor times the panel's
 * typical CV. v (nn doubles) and cv (n doubles) are scratch. */
static void bin_stats(rw_pon *p, double *const *norm, size_t nn, const rw_pon_opts *o, double *v,
                      double *cv)
{
    size_t n = p->median->n, ncv = 0;
    double *med = p->median->count;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < nn; j++)
            v[j] = norm[j][i];
        size_t k;
        median_mad(v, nn, &med[i], &p->mad[i], &k);
        if (p->mask[i] & RW_PON_MASK_GC)
            continue;
        if (k < (size_t)o->min_normals) {
            p->mask[i] |= RW_PON_MASK_NODATA;
            continue;
        }
        if (!(med[i] >= o->min_median) || med[i] <= 0) {
            p->mask[i] |= RW_PON_MASK_LOW;
            continue;
        }
        double c = RW_MAD_TO_SD * p->mad[i] / med[i];
        if (c > o->max_cv)
            p->mask[i] |= RW_PON_MASK_SPREAD;
        else if (!p->mask[i])
            cv[ncv++] = c;
    }
    /* the adaptive spread rule: relative to the typical CV of the panel's good bins */
    double typical = rw_stats_median(cv, ncv);
    if (!(isfinite(typical) && typical > 0))
        return;
    for (size_t i = 0; i < n; i++) {
        if (p->mask[i] & (RW_PON_MASK_NODATA | RW_PON_MASK_LOW))
            continue;
        if (RW_MAD_TO_SD * p->mad[i] / med[i] > o->max_cv_factor * typical)
            p->mask[i] |= RW_PON_MASK_SPREAD;
    }
}

/* Size, filters, options and id (o->id, else one derived from the content). */
static void set_identity(rw_pon *p, size_t nn, const rw_pon_opts *o)
{
    const rw_bins *lay = p->median;
    size_t n = lay->n;
    p->n_normals = (int)nn;
    p->low_normals = nn < (size_t)o->recommended_normals;
    char defaults_filters[128];
    if (!o->filters) {
        rw_count_opts co;
        rw_count_opts_init(&co);
        rw_count_filters(&co, defaults_filters, sizeof defaults_filters);
    }
    snprintf(p->filters, sizeof p->filters, "%s", o->filters ? o->filters : defaults_filters);
    snprintf(p->options, sizeof p->options,
             "min_median=%g;max_cv=%g;max_cv_factor=%g;max_components=%d;component_ratio=%g",
             o->min_median, o->max_cv, o->max_cv_factor, o->max_components, o->component_ratio);
    if (o->id) {
        snprintf(p->id, sizeof p->id, "%s", o->id);
    } else {
        uint64_t h = fnv1a(FNV_OFFSET, p->filters, strlen(p->filters));
        h = fnv1a(h, lay->count, n * sizeof *lay->count);
        h = fnv1a(h, p->mad, n * sizeof *p->mad);
        h = fnv1a(h, p->mask, n * sizeof *p->mask);
        if (p->n_components > 0)
            h = fnv1a(h, p->pc, (size_t)p->n_components * n * sizeof *p->pc);
        snprintf(p->id, sizeof p->id, "pon-%s-%dkb-n%zu-%08" PRIx32, rw_build_name(lay->build),
                 (int)(lay->bin_size / 1000), nn, (uint32_t)(h >> 32));
    }
}

rw_status rw_pon_build(rw_bins *const *normals, size_t nn, const rw_pon_opts *o, rw_pon **out,
                       rw_error *err)
{
    rw_pon_opts defaults;
    if (!o) {
        rw_pon_opts_init(&defaults);
        o = &defaults;
    }
    *out = NULL;
    rw_status st = check_build_args(normals, nn, o, err);
    if (st != RW_OK)
        return st;
    size_t n = normals[0]->n;
    rw_pon *p = pon_alloc(normals[0]);
    double **norm = calloc(nn, sizeof *norm);
    double *v = malloc((n > nn ? n : nn) * sizeof *v);
    double *cv = malloc((n ? n : 1) * sizeof *cv);
    rw_gc_opts go;
    rw_gc_opts_init(&go);
    if (!p || !norm || !v || !cv)
        st = build_nomem(err);
    else if ((st = normalise_normals(normals, nn, o, &go, norm, v, err)) == RW_OK) {
        mask_fixed(p, o, &go);
        bin_stats(p, norm, nn, o, v, cv);
        st = pon_loo(p, norm, nn, o, err); /* 4-5. leave-one-out statistics, components */
    }
    if (st == RW_OK && o->frag_hist && !(p->frag_hist = frag_hist_copy(o->frag_hist)))
        st = rw_error_set(err, RW_ERR_NOMEM, "out of memory building the panel");
    if (st == RW_OK)
        set_identity(p, nn, o);
    for (size_t j = 0; norm && j < nn; j++)
        free(norm[j]);
    free(norm);
    free(v);
    free(cv);
    if (st != RW_OK) {
        rw_pon_free(p);
        return st;
    }
    *out = p;
    return RW_OK;
}

/* ------------------------------------------------------------------ check */

rw_status rw_pon_check(const rw_pon *p, const rw_bins *s, const char *filters, rw_error *err)
{
    const rw_bins *b = p->median;
    if (s->build != b->build)
        return rw_error_set(err, RW_ERR_MISMATCH,
                            "the sample is %s but the panel of normals %s is %s: use a panel of "
                            "the same build",
                            rw_build_name(s->build), p->id, rw_build_name(b->build));
    if (s->bin_size != b->bin_size)
        return rw_error_set(err, RW_ERR_MISMATCH,
                            "the sample has %d bp bins but the panel of normals %s has %d bp bins",
                            (int)s->bin_size, p->id, (int)b->bin_size);
    if (s->nchrom != b->nchrom || s->n != b->n)
        return rw_error_set(err, RW_ERR_MISMATCH,
                            "the sample %s chrY but the panel of normals %s %s",
                            s->nchrom == RW_NCHROM ? "includes" : "excludes", p->id,
                            b->nchrom == RW_NCHROM ? "includes it" : "does not");
    if (filters && strcmp(filters, p->filters))
        return rw_error_set(err, RW_ERR_MISMATCH,
                            "the sample was counted with filters '%s' but the panel of normals "
                            "%s with '%s'",
                            filters, p->id, p->filters);
    return RW_OK;
}

/* ------------------------------------------------------------------ file */

static void put_double(kstring_t *ks, double x)
{
    if (isnan(x))
        kputs("nan", ks);
    else
        ksprintf(ks, "%.10g", x);
}

rw_status rw_pon_write(const rw_pon *p, const char *path, rw_error *err)
{
    const rw_bins *b = p->median;
    kstring_t ks = {0, 0, NULL};
    char tmp[RW_ATOMIC_TMP_MAX];
    rw_status st = RW_OK;
    FILE *f = NULL;

    ksprintf(&ks, "%s\tversion=%d\n", PON_MAGIC, RW_PON_FORMAT_VERSION);
    ksprintf(&ks, "#id\t%s\n#build\t%s\n#bin_size\t%d\n#include_y\t%d\n", p->id,
             rw_build_name(b->build), (int)b->bin_size, b->nchrom == RW_NCHROM);
    ksprintf(&ks, "#filters\t%s\n#n_normals\t%d\n#low_normals\t%d\n", p->filters, p->n_normals,
             p->low_normals);
    ksprintf(&ks, "#core_version\t%s\n#options\t%s\n#components\t%d\n", p->core_version, p->options,
             p->n_components);
    for (int l = 0; p->frag_hist && l <= RW_FRAG_HIST_MAX; l++) /* the normals' lengths */
        ksprintf(&ks, "%s%.17g%s", l ? "," : "#frag_hist\t", p->frag_hist[l],
                 l < RW_FRAG_HIST_MAX ? "" : "\n");
    for (size_t r = 0; r < p->n_regions; r++) {
        const rw_pon_region *x = &p->regions[r];
        ksprintf(&ks, "#region\t%s\t%d\t", x->name, x->n_bins);
        put_double(&ks, x->loo_mean);
        kputc('\t', &ks);
        put_double(&ks, x->loo_sd);
        ksprintf(&ks, "\t%d\n", x->n_scored);
    }
    kputs("chrom\tstart\tend\tmedian\tmad\tmask\tgc", &ks);
    for (int c = 0; c < p->n_components; c++)
        ksprintf(&ks, "\tpc%d", c + 1);
    kputc('\n', &ks);
    for (size_t i = 0; i < b->n; i++) {
        ksprintf(&ks, "%s\t%lld\t%lld\t", rw_chrom_name(rw_bins_chrom(b, i)),
                 (long long)rw_bins_start(b, i), (long long)rw_bins_end(b, i));
        put_double(&ks, b->count[i]);
        kputc('\t', &ks);
        put_double(&ks, p->mad[i]);
        ksprintf(&ks, "\t%u\t", (unsigned)p->mask[i]);
        put_double(&ks, p->gc[i]);
        for (int c = 0; c < p->n_components; c++) {
            kputc('\t', &ks);
            put_double(&ks, p->pc[(size_t)c * b->n + i]);
        }
        kputc('\n', &ks);
    }
    if (!ks.s) {
        st = rw_error_set(err, RW_ERR_NOMEM, "out of memory writing the panel");
        goto fail;
    }
    uint64_t h = fnv1a(FNV_OFFSET, ks.s, ks.l);
    if (ksprintf(&ks, "#checksum\tfnv1a64=%016" PRIx64 "\n", h) < 0) {
        st = rw_error_set(err, RW_ERR_NOMEM, "out of memory writing the panel");
        goto fail;
    }
    /* the whole text is built first: the checksum covers it, and nothing is written on failure */
    if ((st = rw_atomic_open(path, tmp, &f, err)) != RW_OK)
        goto fail;
    fwrite(ks.s, 1, ks.l, f); /* a short write sets the stream's error flag: commit checks it */
    st = rw_atomic_commit(f, tmp, path, err);
fail:
    free(ks.s);
    return st;
}

/* Reads the whole file (a PoN is a few MB at most) into a NUL-terminated buffer. */
static rw_status slurp(const char *path, char **out, size_t *len, rw_error *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return rw_error_set(err, RW_ERR_IO, "%s: %s", path, strerror(errno));
    kstring_t ks = {0, 0, NULL};
    char buf[65536];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, f)) > 0)
        if (kputsn(buf, k, &ks) < 0) {
            fclose(f);
            free(ks.s);
            return rw_error_set(err, RW_ERR_NOMEM, "out of memory reading %s", path);
        }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(ks.s);
        return rw_error_set(err, RW_ERR_IO, "%s: read error", path);
    }
    if (!ks.s && kputs("", &ks) < 0)
        return rw_error_set(err, RW_ERR_NOMEM, "out of memory reading %s", path);
    *out = ks.s;
    *len = ks.l;
    return RW_OK;
}

/* Parses a double written by put_double ("nan" or a number); 0 on success. */
static int parse_double(const char *s, double *x)
{
    char *end;
    errno = 0;
    *x = strtod(s, &end);
    return end == s || *end || errno == ERANGE;
}

/* The header of a panel file. */
typedef struct pon_header {
    int version, include_y, n_normals, low_normals, n_components;
    long bin_size;
    rw_build build;
    char id[80], filters[256], options[128], core_version[16];
    rw_pon_region regions[16];
    size_t n_regions;
    const char *frag_hist; /* the #frag_hist value (in the file's buffer) or NULL */
} pon_header;

/* The file's lines in order (strtok_r over the buffer) and the number of the current one. */
typedef struct lines {
    char *line, *save;
    long lineno;
} lines;

/* The next line (the first when buf is not NULL); NULL at the end. */
static char *next_line(lines *l, char *buf)
{
    l->line = strtok_r(buf, "\n", &l->save);
    if (l->line)
        l->lineno++;
    return l->line;
}

/* The magic first line and the checksum of the last line, which is then cut off. */
static rw_status check_file(const char *path, char *buf, size_t len, rw_error *err)
{
    if (len == 0)
        return rw_error_set(err, RW_ERR_INPUT, "%s: empty file, not a panel of normals", path);
    if (strncmp(buf, PON_MAGIC, strlen(PON_MAGIC)) || strlen(buf) != len)
        return rw_error_set(err, RW_ERR_INPUT,
                            "%s: not a relapsewatch panel of normals (first line must start with "
                            "'%s')",
                            path, PON_MAGIC);
    /* checksum line: the last line */
    size_t end = len;
    if (end > 0 && buf[end - 1] == '\n')
        end--;
    size_t ls = end;
    while (ls > 0 && buf[ls - 1] != '\n')
        ls--;
    uint64_t want = 0;
    char tail[64];
    size_t tl = end - ls < sizeof tail - 1 ? end - ls : sizeof tail - 1;
    memcpy(tail, buf + ls, tl);
    tail[tl] = 0;
    if (sscanf(tail, "#checksum\tfnv1a64=%16" SCNx64, &want) != 1)
        return rw_error_set(err, RW_ERR_INPUT,
                            "%s: no checksum line at the end: the file is truncated or was edited",
                            path);
    uint64_t got = fnv1a(FNV_OFFSET, buf, ls);
    if (got != want)
        return rw_error_set(err, RW_ERR_INPUT,
                            "%s: checksum mismatch (file says %016" PRIx64
                            ", content gives %016" PRIx64 "): the panel of normals is corrupted",
                            path, want, got);
    buf[ls] = 0;
    return RW_OK;
}

/* One "#region" value: name, n_bins, loo_mean, loo_sd, n_scored; -1 when bad or too many. */
static int parse_region(const char *val, pon_header *h)
{
    rw_pon_region x = {0};
    char name[32], mean_s[40], sd_s[40];
    if (h->n_regions == sizeof h->regions / sizeof h->regions[0] ||
        sscanf(val, "%31[^\t]\t%d\t%39[^\t]\t%39[^\t]\t%d", name, &x.n_bins, mean_s, sd_s,
               &x.n_scored) != 5 ||
        parse_double(mean_s, &x.loo_mean) || parse_double(sd_s, &x.loo_sd))
        return -1;
    snprintf(x.name, sizeof x.name, "%s", name);
    h->regions[h->n_regions++] = x;
    return 0;
}

/* The first line's version and the "#key<TAB>value" lines after it, up to the first line not
 * starting with '#' (left in l->line: the column line of a good file). Unknown keys are
 * skipped. */
static rw_status parse_header(const char *path, char *buf, lines *l, pon_header *h, rw_error *err)
{
    memset(h, 0, sizeof *h);
    h->include_y = h->n_normals = -1;
    h->build = RW_BUILD_UNKNOWN;
    for (char *line = next_line(l, buf); line; line = next_line(l, NULL)) {
        if (l->lineno == 1) {
            const char *v = strstr(line, "version=");
            h->version = v ? atoi(v + 8) : 0;
            continue;
        }
        if (line[0] != '#')
            break;
        char *tab = strchr(line, '\t');
        if (!tab)
            continue;
        *tab = 0;
        const char *key = line + 1, *val = tab + 1;
        if (!strcmp(key, "id"))
            snprintf(h->id, sizeof h->id, "%s", val);
        else if (!strcmp(key, "build"))
            h->build = rw_build_parse(val);
        else if (!strcmp(key, "bin_size"))
            h->bin_size = strtol(val, NULL, 10);
        else if (!strcmp(key, "include_y"))
            h->include_y = atoi(val);
        else if (!strcmp(key, "filters"))
            snprintf(h->filters, sizeof h->filters, "%s", val);
        else if (!strcmp(key, "n_normals"))
            h->n_normals = atoi(val);
        else if (!strcmp(key, "low_normals"))
            h->low_normals = atoi(val);
        else if (!strcmp(key, "core_version"))
            snprintf(h->core_version, sizeof h->core_version, "%s", val);
        else if (!strcmp(key, "options"))
            snprintf(h->options, sizeof h->options, "%s", val);
        else if (!strcmp(key, "components"))
            h->n_components = atoi(val);
        else if (!strcmp(key, "frag_hist"))
            h->frag_hist = val;
        else if (!strcmp(key, "region") && parse_region(val, h))
            return rw_error_set(err, RW_ERR_INPUT, "%s:%ld: bad #region line", path, l->lineno);
    }
    return RW_OK;
}

/* The version and the fields a panel cannot do without; column = the line after the header. */
static rw_status check_header(const char *path, const pon_header *h, const char *column,
                              rw_error *err)
{
    /* version 1 (before the components) still loads: a panel without components */
    if (h->version != RW_PON_FORMAT_VERSION && h->version != 1)
        return rw_error_set(err, RW_ERR_INPUT,
                            "%s: unsupported panel format version %d (this is %d; 1 is read too)",
                            path, h->version, RW_PON_FORMAT_VERSION);
    if (h->n_components < 0 || h->n_components > RW_PON_MAX_COMPONENTS ||
        (h->version == 1 && h->n_components))
        return rw_error_set(err, RW_ERR_INPUT, "%s: bad #components (0-%d, version 2 only)", path,
                            RW_PON_MAX_COMPONENTS);
    if (h->build == RW_BUILD_UNKNOWN)
        return rw_error_set(err, RW_ERR_BUILD, "%s: missing or unknown #build", path);
    if (!h->id[0] || h->include_y < 0 || h->n_normals < 1 || !column ||
        strncmp(column, "chrom\t", 6))
        return rw_error_set(err, RW_ERR_INPUT,
                            "%s: incomplete header (#id, #include_y, #n_normals, column line)",
                            path);
    return RW_OK;
}

/* A new panel of the header's layout and fields (bins NaN, no regions yet). */
static rw_status pon_from_header(const char *path, const pon_header *h, rw_pon **out, rw_error *err)
{
    rw_error e2;
    rw_bins *lay = rw_bins_new(h->build, (int32_t)h->bin_size, h->include_y, &e2);
    if (!lay)
        return rw_error_set(err, RW_ERR_INPUT, "%s: %s", path, e2.msg);
    rw_pon *p = *out = pon_alloc(lay);
    rw_bins_free(lay);
    if (!p)
        return rw_error_set(err, RW_ERR_NOMEM, "out of memory reading %s", path);
    snprintf(p->id, sizeof p->id, "%s", h->id);
    snprintf(p->filters, sizeof p->filters, "%s", h->filters);
    snprintf(p->options, sizeof p->options, "%s", h->options);
    snprintf(p->core_version, sizeof p->core_version, "%s", h->core_version);
    p->n_normals = h->n_normals;
    p->low_normals = h->low_normals;
    if (h->n_components > 0) {
        p->pc = malloc((size_t)h->n_components * p->median->n * sizeof *p->pc);
        if (!p->pc)
            return rw_error_set(err, RW_ERR_NOMEM, "out of memory reading %s", path);
        p->n_components = h->n_components;
    }
    return RW_OK;
}

/* The n_components loadings of bin i: "\t<number>" each, then the end of the line; 0 on success. */
static int parse_components(const char *rest, rw_pon *p, size_t i)
{
    for (int c = 0; c < p->n_components; c++) {
        char *end;
        if (*rest != '\t')
            return -1;
        errno = 0;
        double x = strtod(rest + 1, &end);
        if (end == rest + 1 || errno == ERANGE || !isfinite(x) || (*end && *end != '\t'))
            return -1;
        p->pc[(size_t)c * p->median->n + i] = x;
        rest = end;
    }
    return *rest != 0;
}

/* The bin lines after the column line: each bin of the layout exactly once. */
static rw_status parse_bins(const char *path, rw_pon *p, lines *l, rw_error *err)
{
    const rw_bins *b = p->median;
    unsigned char *seen = calloc(b->n ? b->n : 1, 1);
    if (!seen)
        return rw_error_set(err, RW_ERR_NOMEM, "out of memory reading %s", path);
    rw_status st = RW_OK;
    size_t nb = 0;
    for (char *line = next_line(l, NULL); line && st == RW_OK; line = next_line(l, NULL)) {
        char chrom[32], med_s[40], mad_s[40], gc_s[40];
        long long s, e;
        unsigned mask;
        int used = 0;
        if (sscanf(line, "%31[^\t]\t%lld\t%lld\t%39[^\t]\t%39[^\t]\t%u\t%39[^\t]%n", chrom, &s, &e,
                   med_s, mad_s, &mask, gc_s, &used) != 7 ||
            mask > 255) {
            st = rw_error_set(err, RW_ERR_INPUT,
                              "%s:%ld: expected chrom, start, end, median, mad, mask, gc", path,
                              l->lineno);
            break;
        }
        int c = rw_chrom_index(chrom);
        size_t i = c < 0 ? (size_t)-1 : rw_bins_index(b, c, s);
        if (i == (size_t)-1 || s != rw_bins_start(b, i) || e != rw_bins_end(b, i) || seen[i]) {
            st = rw_error_set(err, RW_ERR_INPUT, "%s:%ld: %s:%lld-%lld is not a new bin of %s",
                              path, l->lineno, chrom, s, e, rw_build_name(b->build));
            break;
        }
        if (parse_double(med_s, &b->count[i]) || parse_double(mad_s, &p->mad[i]) ||
            parse_double(gc_s, &p->gc[i]) || parse_components(line + used, p, i)) {
            st = rw_error_set(err, RW_ERR_INPUT, "%s:%ld: bad number (or not %d component values)",
                              path, l->lineno, p->n_components);
            break;
        }
        p->mask[i] = (uint8_t)mask;
        seen[i] = 1;
        nb++;
    }
    free(seen);
    if (st == RW_OK && nb != b->n)
        st = rw_error_set(err, RW_ERR_INPUT, "%s: %zu bins, the layout has %zu", path, nb, b->n);
    return st;
}

/* "#frag_hist": RW_FRAG_HIST_MAX + 1 comma-separated non-negative numbers. */
static rw_status parse_frag_hist(const char *path, const char *val, rw_pon *p, rw_error *err)
{
    if (!(p->frag_hist = malloc((RW_FRAG_HIST_MAX + 1) * sizeof *p->frag_hist)))
        return rw_error_set(err, RW_ERR_NOMEM, "out of memory reading %s", path);
    for (int l = 0; l <= RW_FRAG_HIST_MAX; l++) {
        char *end;
        p->frag_hist[l] = strtod(val, &end);
        if (end == val || !(p->frag_hist[l] >= 0) || *end != (l < RW_FRAG_HIST_MAX ? ',' : 0))
            return rw_error_set(err, RW_ERR_INPUT, "%s: bad #frag_hist (%d lengths wanted)", path,
                                RW_FRAG_HIST_MAX + 1);
        val = end + 1;
    }
    return RW_OK;
}

rw_status rw_pon_read(const char *path, rw_pon **out, rw_error *err)
{
    *out = NULL;
    char *buf = NULL;
    size_t len = 0;
    rw_status st = slurp(path, &buf, &len, err);
    if (st)
        return st;
    rw_pon *p = NULL;
    pon_header h;
    lines l = {NULL, NULL, 0};
    if ((st = check_file(path, buf, len, err)) || (st = parse_header(path, buf, &l, &h, err)) ||
        (st = check_header(path, &h, l.line, err)) || (st = pon_from_header(path, &h, &p, err)) ||
        (st = parse_bins(path, p, &l, err)))
        goto fail;
    p->regions = malloc((h.n_regions ? h.n_regions : 1) * sizeof *p->regions);
    if (!p->regions) {
        st = rw_error_set(err, RW_ERR_NOMEM, "out of memory reading %s", path);
        goto fail;
    }
    memcpy(p->regions, h.regions, h.n_regions * sizeof *h.regions);
    p->n_regions = h.n_regions;
    if (h.frag_hist && (st = parse_frag_hist(path, h.frag_hist, p, err)))
        goto fail;
    free(buf);
    *out = p;
    return RW_OK;
fail:
    free(buf);
    rw_pon_free(p);
    return st;
}

/* ------------------------------------------------------------------ flat panel (no normals) */

rw_status rw_pon_flat(const rw_bins *layout, const double *gc, const double *map, double map_min,
                      const char *filters, rw_pon **out, rw_error *err)
{
    *out = NULL;
    if (!layout || !gc)
        return rw_error_set(err, RW_ERR_USAGE, "a panel without normals needs the bins' GC");
    rw_pon *p = pon_alloc(layout);
    if (!p)
        return rw_error_set(err, RW_ERR_NOMEM, "out of memory making the panel");
    rw_pon_opts o;
    rw_pon_opts_init(&o);
    o.gc = gc;
    rw_gc_opts go;
    rw_gc_opts_init(&go);
    mask_fixed(p, &o, &go);
    for (size_t i = 0; i < layout->n; i++) {
        p->median->count[i] = 1.0;
        p->mad[i] = 0.0;
        if (map && !(map[i] >= map_min))
            p->mask[i] |= RW_PON_MASK_LOW;
    }
    snprintf(p->filters, sizeof p->filters, "%s", filters ? filters : "");
    snprintf(p->options, sizeof p->options, "flat;map_min=%g", map_min);
    snprintf(p->id, sizeof p->id, "flat-%s-%dkb-gc%s", rw_build_name(layout->build),
             (int)(layout->bin_size / 1000), map ? "-map" : "");
    *out = p;
    return RW_OK;
}
