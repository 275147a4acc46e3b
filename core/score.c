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
    case RW_CALL_INSUFFICIENT_QUALITY:
        return "insufficient_quality";
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

/* Continued fraction of the regularised incomplete beta function (Lentz; Numerical Recipes
 * betacf), for x < (a + 1) / (a + b + 2). */
static double beta_cf(double a, double b, double x)
{
    const double tiny = 1e-300;
    double c = 1, d = 1 - (a + b) * x / (a + 1);
    d = 1 / (fabs(d) < tiny ? tiny : d);
    double h = d;
    for (int m = 1; m <= 300; m++) {
        double m2 = 2.0 * m, aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
        for (int step = 0; step < 2; step++) {
            d = 1 + aa * d;
            d = 1 / (fabs(d) < tiny ? tiny : d);
            c = 1 + aa / c;
            c = fabs(c) < tiny ? tiny : c;
            h *= d * c;
            aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
            if (step == 1 && fabs(d * c - 1) < 1e-15)
                return h;
        }
    }
    return h;
}

/* I_x(a, b). */
static double beta_reg(double a, double b, double x)
{
    if (x <= 0)
        return 0;
    if (x >= 1)
        return 1;
    double front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x));
    if (x < (a + 1) / (a + b + 2))
        return front * beta_cf(a, b, x) / a;
    return 1 - front * beta_cf(b, a, 1 - x) / b;
}

double rw_score_t_upper(double t, double df)
{
    double tail = 0.5 * beta_reg(df / 2, 0.5, df / (df + t * t));
    return t >= 0 ? tail : 1 - tail;
}

double rw_score_inflation(int k, double z_amplified)
{
    if (k < 3 || !(z_amplified > 0))
        return NAN;
    double p = 0.5 * erfc(z_amplified / M_SQRT2), df = k - 1.0, lo = z_amplified, hi = lo;
    while (rw_score_t_upper(hi, df) > p)
        hi *= 2;
    for (int i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
        double mid = 0.5 * (lo + hi);
        if (rw_score_t_upper(mid, df) > p)
            lo = mid;
        else
            hi = mid;
    }
    return sqrt(1 + 1.0 / k) * 0.5 * (lo + hi) / z_amplified;
}

/* Robust SD of the differences between neighbouring means of `window` consecutive finite
 * autosomal ratios, / sqrt 2; NaN with fewer than 10 differences. */
static double window_sd(const rw_bins *b, const double *lr, int window)
{
    size_t n_auto = b->first[RW_CHROM_X];
    double *d = malloc((n_auto ? n_auto : 1) * sizeof *d);
    if (!d)
        return NAN;
    size_t m = 0;
    for (int c = 0; c < RW_CHROM_X; c++) {
        double sum = 0, prev = NAN;
        int k = 0;
        for (size_t i = b->first[c]; i < b->first[c + 1]; i++) {
            if (!isfinite(lr[i]))
                continue;
            sum += lr[i];
            if (++k < window)
                continue;
            if (isfinite(prev))
                d[m++] = sum / k - prev;
            prev = sum / k;
            sum = 0;
            k = 0;
        }
    }
    double sd = m >= 10 ? RW_MAD_TO_SD * rw_stats_mad(d, m, NULL) / sqrt(2.0) : NAN;
    free(d);
    return sd;
}

void rw_score_quality_of(const rw_bins *b, const double *lr, int window, const rw_score_opts *o,
                         rw_score_quality *q)
{
    rw_score_opts defaults;
    if (!o) {
        rw_score_opts_init(&defaults);
        o = &defaults;
    }
    memset(q, 0, sizeof *q);
    q->ok = 1;
    q->window = window > 0 ? window : 1;
    q->band_sd = window_sd(b, lr, q->window);
    q->count_sd = rw_score_noise(b, lr) / sqrt((double)q->window);
    double f = o->quality_fraction, signal = log2(1 + f * (o->quality_cn - 2) / 2);
    q->limit = signal / (o->z_amplified + o->quality_power_z);
    if (!(f > 0) || !(q->band_sd > q->limit))
        return; /* no gate, a quiet sample, or no estimate */
    q->ok = 0;
    int depth = q->count_sd > q->limit;
    snprintf(q->code, sizeof q->code, "%s", depth ? "low_depth" : "genomic_waves");
    snprintf(q->reason, sizeof q->reason,
             "the sample's noise over %d-bin windows (SD %.3f log2, %s) exceeds %.3f, the most "
             "that still detects a %g%% tumour fraction at copy number %g in 1q21.3",
             q->window, q->band_sd,
             depth ? "mostly counting noise: too few reads per bin"
                   : "mostly smooth depth waves of the library",
             q->limit, 100 * f, o->quality_cn);
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
    /* the sample's own spread of a mean of this many bins (waves included), else its counting
     * noise alone (a region too long for 10 window pairs) */
    double wsd = s->n_bins ? window_sd(p->median, lr, s->n_bins) : NAN;
    s->se = s->n_bins ? (isfinite(wsd) ? wsd : noise / sqrt((double)s->n_bins)) *
                            sqrt(1.0 + M_PI / (2.0 * (p->n_normals > 0 ? p->n_normals : 1)))
                      : NAN;
    s->pon_mean = pr ? pr->loo_mean : NAN;
    s->pon_sd = pr ? pr->loo_sd : NAN;
    s->threshold = o->z_amplified;
    s->primary_cn = primary_cn;
    s->inflation = o->calibrate_z ? rw_score_inflation(pr ? pr->n_scored : 0, o->z_amplified) : 1;
    s->sigma = s->inflation * s->pon_sd;
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
