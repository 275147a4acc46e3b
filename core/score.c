/* Normalisation against a panel of normals and region scores (1q21.3, 1q, S100A7-9): the rules
 * are stated in core/score.h. */
#include "core/score.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/settings.h"
#include "core/stats.h"

void rw_score_opts_init(rw_score_opts *o)
{
    memset(o, 0, sizeof *o);
    rw_settings_defaults(RW_SET_SCORE, o); /* every field is an analysis setting */
}

const char *rw_call_name(rw_call c)
{
    switch (c) {
    case RW_CALL_AMPLIFIED:
        return "amplified";
    case RW_CALL_NOT_DETECTED:
        return "not_detected";
    default:
        return "no_data";
    }
}

void rw_score_region_bins(const rw_bins *b, const rw_region *r, size_t *first, size_t *n)
{
    *first = 0;
    *n = 0;
    if (r->chrom < 0 || r->chrom >= b->nchrom || r->end <= r->start)
        return;
    size_t lo = b->first[r->chrom], hi = b->first[r->chrom + 1];
    size_t f = 0, k = 0, f_any = 0, k_any = 0;
    for (size_t i = lo; i < hi; i++) {
        int64_t s = rw_bins_start(b, i), e = rw_bins_end(b, i);
        int64_t ov = (e < r->end ? e : r->end) - (s > r->start ? s : r->start);
        if (ov <= 0)
            continue;
        if (k_any++ == 0)
            f_any = i;
        /* at least half of the bin inside the region (2 * ov >= width avoids rounding) */
        if (2 * ov >= e - s) {
            if (k++ == 0)
                f = i;
        }
    }
    if (k > 0) {
        *first = f;
        *n = k;
    } else {
        *first = f_any;
        *n = k_any;
    }
}

/* Usable bin: unmasked, with a finite count and a positive finite reference. */
static int usable(const double *count, const double *ref, const uint8_t *mask, size_t i)
{
    return (!mask || mask[i] == 0) && isfinite(count[i]) && count[i] >= 0 && isfinite(ref[i]) &&
           ref[i] > 0;
}

rw_status rw_score_log2_ref(const rw_bins *b, const double *count, const double *ref,
                            const uint8_t *mask, double zero_floor, double *depth, double *lr,
                            rw_error *err)
{
    size_t n_auto = b->first[RW_CHROM_X];
    double *tmp = malloc((b->n ? b->n : 1) * sizeof *tmp);
    if (!tmp)
        return rw_error_set(err, RW_ERR_NOMEM, "out of memory normalising bins");
    rw_status st = RW_OK;

    /* Scale: median count of the usable autosomal bins that have reads. */
    size_t m = 0;
    for (size_t i = 0; i < n_auto; i++)
        if (usable(count, ref, mask, i) && count[i] > 0)
            tmp[m++] = count[i];
    double scale = rw_stats_median(tmp, m);
    if (!(scale > 0)) {
        st = rw_error_set(err, RW_ERR_INPUT,
                          "the sample has no reads in the usable autosomal bins of the panel");
        goto fail;
    }
    for (size_t i = 0; i < b->n; i++) {
        if (depth)
            depth[i] = isfinite(count[i]) ? count[i] / scale : NAN;
        if (!usable(count, ref, mask, i)) {
            lr[i] = NAN;
            continue;
        }
        double c = count[i] > zero_floor ? count[i] : zero_floor;
        lr[i] = log2(c / scale / ref[i]);
    }
    /* Re-centre on the median autosomal ratio: the scale above used counts alone, and the
     * reference medians need not have a median of exactly 1. */
    m = 0;
    for (size_t i = 0; i < n_auto; i++)
        if (isfinite(lr[i]))
            tmp[m++] = lr[i];
    double centre = rw_stats_median(tmp, m);
    for (size_t i = 0; i < b->n; i++)
        lr[i] -= centre;
fail:
    free(tmp);
    return st;
}

rw_status rw_score_log2(const rw_pon *p, const double *count, const rw_score_opts *o, double *depth,
                        double *lr, rw_error *err)
{
    rw_score_opts defaults;
    if (!o) {
        rw_score_opts_init(&defaults);
        o = &defaults;
    }
    return rw_score_log2_ref(p->median, count, p->median->count, p->mask, o->zero_floor, depth, lr,
                             err);
}

double rw_score_mean(const double *lr, size_t first, size_t n, int *used)
{
    double sum = 0;
    int k = 0;
    for (size_t i = first; i < first + n; i++) {
        if (isfinite(lr[i])) {
            sum += lr[i];
            k++;
        }
    }
    if (used)
        *used = k;
    return k ? sum / k : NAN;
}

double rw_score_noise(const rw_bins *b, const double *lr)
{
    double *d = malloc((b->n ? b->n : 1) * sizeof *d);
    if (!d)
        return NAN;
    size_t m = 0;
    for (int c = 0; c < b->nchrom; c++) {
        double prev = NAN;
        for (size_t i = b->first[c]; i < b->first[c + 1]; i++) {
            if (!isfinite(lr[i]))
                continue;
            if (isfinite(prev))
                d[m++] = lr[i] - prev;
            prev = lr[i];
        }
    }
    double sd = NAN;
    if (m >= 3)
        sd = RW_MAD_TO_SD * rw_stats_mad(d, m, NULL) / sqrt(2.0);
    free(d);
    return sd;
}

double rw_score_tumour_fraction(double copy_ratio, double primary_cn)
{
    if (!isfinite(copy_ratio) || !isfinite(primary_cn) || primary_cn == 2.0)
        return NAN;
    return 2.0 * (copy_ratio - 1.0) / (primary_cn - 2.0);
}

static double clip01(double x)
{
    return x < 0 ? 0 : x > 1 ? 1 : x;
}

/* Fills everything of s that follows from its bins, the PoN statistics and the options. */
static void score_one(rw_region_score *s, const rw_pon *p, const double *lr, double noise,
                      double primary_cn, const rw_score_opts *o)
{
    const rw_pon_region *pr = rw_pon_region_find(p, s->name);
    s->mean_log2 = rw_score_mean(lr, s->first_bin, s->n_region_bins, &s->n_bins);
    s->se = s->n_bins ? noise / sqrt((double)s->n_bins) *
                            sqrt(1.0 + M_PI / (2.0 * (p->n_normals > 0 ? p->n_normals : 1)))
                      : NAN;
    s->pon_mean = pr ? pr->loo_mean : NAN;
    s->pon_sd = pr ? pr->loo_sd : NAN;
    s->threshold = o->z_amplified;
    s->primary_cn = primary_cn;
    s->sigma = s->pon_sd;
    if (o->use_sample_se && isfinite(s->se) && !(s->sigma >= s->se))
        s->sigma = s->se;
    s->z = (s->mean_log2 - s->pon_mean) / s->sigma;
    s->copy_ratio = exp2(s->mean_log2);
    s->copy_ratio_lo = exp2(s->mean_log2 - o->ci_z * s->sigma);
    s->copy_ratio_hi = exp2(s->mean_log2 + o->ci_z * s->sigma);
    if (!isfinite(s->z)) {
        s->z = NAN;
        s->call = RW_CALL_NO_DATA;
        s->strong = 0;
    } else {
        s->call = s->z >= o->z_amplified ? RW_CALL_AMPLIFIED : RW_CALL_NOT_DETECTED;
        s->strong = s->z >= o->z_strong;
    }
    s->tf = s->tf_lo = s->tf_hi = NAN;
    if (isfinite(primary_cn) && isfinite(s->mean_log2)) {
        double a = rw_score_tumour_fraction(s->copy_ratio_lo, primary_cn);
        double b = rw_score_tumour_fraction(s->copy_ratio_hi, primary_cn);
        s->tf = clip01(rw_score_tumour_fraction(s->copy_ratio, primary_cn));
        /* with C < 2 (a loss) the map from R to f is decreasing: order the ends */
        if (isfinite(a) && isfinite(b)) {
            s->tf_lo = clip01(a < b ? a : b);
            s->tf_hi = clip01(a < b ? b : a);
        }
    }
}

rw_status rw_score_regions(const rw_pon *p, const double *lr, double primary_cn,
                           const rw_score_opts *o, rw_region_score **out, size_t *n, rw_error *err)
{
    rw_score_opts defaults;
    if (!o) {
        rw_score_opts_init(&defaults);
        o = &defaults;
    }
    *out = NULL;
    *n = 0;
    if (!isnan(primary_cn) && (!isfinite(primary_cn) || primary_cn < 0 || primary_cn == 2.0))
        return rw_error_set(err, RW_ERR_USAGE,
                            "primary tumour copy number must be >= 0 and != 2 (got %g): a "
                            "diploid tumour says nothing about the fraction",
                            primary_cn);
    size_t nr = 0;
    const rw_region *regions = rw_regions(p->median->build, &nr);
    rw_region_score *s = calloc(nr ? nr : 1, sizeof *s);
    if (!s)
        return rw_error_set(err, RW_ERR_NOMEM, "out of memory scoring regions");
    double noise = rw_score_noise(p->median, lr);
    size_t k = 0;
    for (size_t r = 0; r < nr; r++) {
        if (regions[r].mask)
            continue;
        rw_region_score *x = &s[k++];
        snprintf(x->name, sizeof x->name, "%s", regions[r].name);
        x->chrom = regions[r].chrom;
        x->start = regions[r].start;
        x->end = regions[r].end;
        rw_score_region_bins(p->median, &regions[r], &x->first_bin, &x->n_region_bins);
        score_one(x, p, lr, noise, primary_cn, o);
    }
    *out = s;
    *n = k;
    return RW_OK;
}
