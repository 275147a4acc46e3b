/* Tumour fraction and ploidy from segments: grid fit of integer copy states mixed with normal DNA
 * (the model is described in purity.h). */
#include "core/purity.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/settings.h"
#include "core/stats.h"

/* Width of the log2 range over which the outlier component is uniform. */
#define OUTLIER_RANGE 4.0
/* Chi-square(1) 95% quantile: the profile-likelihood interval. */
#define CHI2_95 3.841458820694124
/* Log2 floor for states whose copy number reaches 0 at f = 1 (never reached: f_max < 1). */
#define MIN_RATIO 1e-6

void rw_purity_opts_init(rw_purity_opts *o)
{
    memset(o, 0, sizeof *o);
    o->max_cn = 6;
    o->f_max = 0.95;
    o->f_step = 0.005;
    o->ploidy_min = 1.5;
    o->ploidy_max = 4.5;
    o->ploidy_step = 0.05;
    o->ploidy_prior_sd = 1.0;
    o->neutral_prior = 0.5;
    o->two_copy_weight = 0.5;
    o->state_decay = 0.35;
    o->homdel_factor = 0.1;
    o->assign_neutral_weight = 0.5;
    o->tail_df = 4;
    o->estimate_gain_min = 3.0;
    o->outlier_weight = 0.01;
    o->outlier_bins = 20.0;
    o->merge_z = 3.0;
    o->state_strength = 10.0;
    o->floor_sd = 0.005;
    o->fraction_prior = 2.0;
    o->min_bins = 5;
    o->wave_min_bins = 20;
    o->recentre = 1;
    rw_settings_defaults(RW_SET_PURITY, o); /* the quality gates: analysis settings */
}

double rw_purity_expected_log2(double f, double ploidy, int c)
{
    double num = 2.0 * (1.0 - f) + c * f;
    double den = 2.0 * (1.0 - f) + ploidy * f;
    if (num < MIN_RATIO)
        num = MIN_RATIO;
    if (den < MIN_RATIO)
        den = MIN_RATIO;
    return log2(num / den);
}

double rw_purity_noise(const double *log2v, const unsigned char *mask, size_t n)
{
    double *d = malloc((n ? n : 1) * sizeof *d);
    if (!d)
        return NAN;
    size_t m = 0;
    double prev = NAN;
    for (size_t i = 0; i < n; i++) {
        if ((mask && mask[i]) || !isfinite(log2v[i]))
            continue;
        if (isfinite(prev))
            d[m++] = fabs(log2v[i] - prev);
        prev = log2v[i];
    }
    double sd = NAN;
    if (m >= 2) {
        /* |x - y| of two N(0, s^2) draws has median 0.6745 * sqrt(2) s. */
        sd = rw_stats_median(d, m) / (0.6744897501960817 * sqrt(2.0));
    }
    free(d);
    return sd;
}

/* Bin-weighted median of the n values v with weights w (sorts a copy). */
typedef struct wpair {
    double v, w;
} wpair;

static int cmp_wpair(const void *a, const void *b)
{
    return rw_stats_cmp_double(&((const wpair *)a)->v, &((const wpair *)b)->v);
}

static double weighted_median(size_t n, const double *v, const size_t *w, const size_t *idx)
{
    wpair *p = malloc(n * sizeof *p);
    if (!p)
        return NAN;
    double tot = 0.0;
    for (size_t i = 0; i < n; i++) {
        p[i].v = v[i];
        p[i].w = (double)w[idx[i]];
        tot += p[i].w;
    }
    qsort(p, n, sizeof *p, cmp_wpair);
    double acc = 0.0, med = p[n - 1].v;
    for (size_t i = 0; i < n; i++) {
        acc += p[i].w;
        if (acc >= 0.5 * tot) {
            med = p[i].v;
            break;
        }
    }
    free(p);
    return med;
}

/* The data of one fit, prepared once: fitted segments only. */
typedef struct fit_ctx {
    const rw_purity_opts *o;
    size_t n;
    const double *mean; /* n segment means */
    const double *var;  /* n segment variances (sd^2 / bins + floor^2) */
    const double *eps;  /* n outlier weights: outlier_weight^max(1, bins / outlier_bins) */
    double log_outlier; /* log density of the outlier component: log(1 / OUTLIER_RANGE) */
    double *work;       /* n * (max_cn + 2) scratch values for loglik_mixture() */
    int mixture;        /* 1: the detection model (loglik_mixture), 0: the estimate's */
} fit_ctx;

/* Unnormalised prior weight of a non-neutral state c: the mixture (detection) model decays from
 * one copy away, the assigned (estimation) model from two copies away (two_copy_weight). */
static double state_weight(const rw_purity_opts *o, int mixture, int c, int neutral)
{
    int d = abs(c - neutral);
    double w = mixture  ? pow(o->state_decay, d - 1)
               : d <= 1 ? 1.0
                        : o->two_copy_weight * pow(o->state_decay, d - 2);
    return c == 0 ? w * o->homdel_factor : w;
}

/* Prior (mean) weights of states 0..max_cn at ploidy P (they sum to 1): the state nearest P gets
 * neutral_prior (mixture) or assign_neutral_weight (assigned), the others share the rest by
 * state_weight(). */
static void state_priors(const rw_purity_opts *o, double ploidy, int mixture, double *pi)
{
    int neutral = (int)lround(ploidy);
    double z = 0.0, wn = mixture ? o->neutral_prior : o->assign_neutral_weight;
    for (int c = 0; c <= o->max_cn; c++)
        if (c != neutral)
            z += state_weight(o, mixture, c, neutral);
    for (int c = 0; c <= o->max_cn; c++) {
        pi[c] = c == neutral ? wn : (1.0 - wn) * state_weight(o, mixture, c, neutral) / z;
        if (z == 0.0 && c == neutral)
            pi[c] = 1.0; /* a single state: it takes all the weight */
    }
}

/* The detection model: log likelihood of all segments at (f, P) under the mixture, plus the
 * priors. The weight of the neutral state is
 * not fixed: it is fitted by EM (MAP under a Beta prior of mean neutral_prior and strength
 * state_strength), as ichorCNA fits its state distribution; the other states keep the fixed
 * proportions of pi, so the parsimony between "f with one-copy changes" and "f/2 with two-copy
 * changes" stays a prior. Why (issue 4): with fixed weights every neutral segment paid
 * log(1 / neutral_prior) = log 2 at any f > 0 (at f = 0 all states coincide and share the whole
 * mass), so the penalty on a tumour fraction grew with the number of segments, not with the
 * evidence. A paired 0.1x sample with only 1q gain, 8q gain and the focal 1q21.3 amplification
 * at f = 0.10 (CBS gives ~45 segments) lost ~30 nats at every f > 0: the profile likelihood
 * peaked at f = 0 even at f = 0.30, or at f ~ 0.02 where one-copy states at +-0.014 "explain"
 * the tails of the neutral segments and the two arm events pass as outliers. (The outlier
 * component, whose cost does not grow with the segment's length, was the other suspect; with
 * the neutral weight fitted, making it scale per bin changed no estimate on those samples.) A
 * fitted w_n charges each segment for the states the genome actually uses (nearly all-neutral:
 * w_n ~ 0.9), and the Beta term keeps an Occam penalty: at f = 0 w_n stays at its prior mean and
 * costs nothing, while a small f that calls noise "gains" pays for the weight it moves.
 * state: if non-NULL, receives the most probable component of each segment (-1 = outlier). */
static double loglik_mixture(const fit_ctx *x, double f, double ploidy, int *state)
{
    const rw_purity_opts *o = x->o;
    int ns = o->max_cn + 1, stride = ns + 1;
    double mu[64], pi[64], w[64];
    for (int c = 0; c < ns; c++)
        mu[c] = rw_purity_expected_log2(f, ploidy, c);
    state_priors(o, ploidy, 1, pi);
    double base = 0.0;
    /* Densities scaled by each segment's largest term: work[i * stride + c], c = ns: outlier. */
    for (size_t i = 0; i < x->n; i++) {
        double *e = x->work + i * stride, top = x->log_outlier;
        for (int c = 0; c < ns; c++) {
            double d = x->mean[i] - mu[c];
            e[c] = -0.5 * d * d / x->var[i] - 0.5 * log(2.0 * M_PI * x->var[i]);
            if (e[c] > top)
                top = e[c];
        }
        e[ns] = x->log_outlier;
        for (int c = 0; c <= ns; c++)
            e[c] = exp(e[c] - top);
        base += top;
    }
    /* EM over the neutral weight wn; the other states share 1 - wn in the fixed proportions of
     * pi (parsimony: their order is a prior, not something to fit). */
    int neutral = (int)lround(ploidy);
    if (neutral > o->max_cn)
        neutral = -1; /* no neutral state: the weights stay at pi */
    double pn = neutral >= 0 ? pi[neutral] : 0.0, wn = pn, k = o->state_strength;
    for (int it = 0; neutral >= 0 && pn < 1.0 && it < 200; it++) {
        for (int c = 0; c < ns; c++)
            w[c] = c == neutral ? wn : (1.0 - wn) * pi[c] / (1.0 - pn);
        double rn = 0.0, rsum = 0.0;
        for (size_t i = 0; i < x->n; i++) {
            const double *e = x->work + i * stride;
            double s = 0.0;
            for (int c = 0; c < ns; c++)
                s += w[c] * e[c];
            double eps = x->eps[i], tot = (1.0 - eps) * s + eps * e[ns];
            rn += (1.0 - eps) * w[neutral] * e[neutral] / tot;
            rsum += (1.0 - eps) * s / tot;
        }
        double nw = (rn + k * pn) / (rsum + k);
        double change = fabs(nw - wn);
        wn = nw;
        if (change < 1e-6)
            break;
    }
    for (int c = 0; c < ns; c++)
        w[c] = neutral < 0 || pn >= 1.0 ? pi[c]
               : c == neutral           ? wn
                                        : (1.0 - wn) * pi[c] / (1.0 - pn);
    /* The log likelihood at the final weights, with the Beta term relative to its mode. */
    double total = base;
    for (size_t i = 0; i < x->n; i++) {
        const double *e = x->work + i * stride;
        double s = 0.0, eps = x->eps[i], best = eps * e[ns];
        int arg = -1;
        for (int c = 0; c < ns; c++) {
            double t = (1.0 - eps) * w[c] * e[c];
            s += t;
            if (t > best) {
                best = t;
                arg = c;
            }
        }
        total += log(s + eps * e[ns]);
        if (state)
            state[i] = arg;
    }
    if (neutral >= 0 && pn < 1.0) /* the Beta prior of wn, relative to its mode pn */
        total += k * (pn * log(wn / pn) + (1.0 - pn) * log((1.0 - wn) / (1.0 - pn)));
    if (o->ploidy_prior_sd > 0) {
        double z = (ploidy - 2.0) / o->ploidy_prior_sd;
        total -= 0.5 * z * z;
    }
    return total;
}

/* The estimation model: log likelihood of all segments at (f, P), each assigned to its single
 * most probable component (a classification likelihood): segment i contributes
 * max_c log(w_c N(m_i; mu_c, v_i)), the outlier component included, with the fixed prior weights
 * of state_priors() (neutral: assign_neutral_weight). Why not the mixture sum_c w_c N for the
 * estimate (issue 10.3): at a small f the states lie closer than a segment's noise, and their
 * sum is a wider density that fits every neutral arm displaced by a genomic wave better than
 * the neutral state alone, while at the true f the mass of the other states is wasted on them:
 * each of ~40 neutral arms gained ~0.3 nats at f/2 over f on realistic 5% samples, so the
 * profile peaked at ~2% (mean 0.020 at 5%) whatever the events said. Assigned to one state, a
 * neutral arm scores the same at every f; only the arms a state explains move the estimate. At
 * f = 0 every state coincides and the best is the neutral one: no jump from f = 0 to f > 0.
 * state: if non-NULL, receives the assigned component of each segment (-1 = outlier). */
static double loglik_assigned(const fit_ctx *x, double f, double ploidy, int *state)
{
    const rw_purity_opts *o = x->o;
    int ns = o->max_cn + 1;
    double mu[64], lw[64];
    for (int c = 0; c < ns; c++)
        mu[c] = rw_purity_expected_log2(f, ploidy, c);
    state_priors(o, ploidy, 0, lw);
    for (int c = 0; c < ns; c++)
        lw[c] = log(lw[c]);
    double total = 0.0, nu = o->tail_df;
    for (size_t i = 0; i < x->n; i++) {
        double v = x->var[i], norm = log1p(-x->eps[i]);
        if (nu > 0) /* Student t with nu d.f., scale sqrt(v) */
            norm += lgamma(0.5 * (nu + 1)) - lgamma(0.5 * nu) - 0.5 * log(nu * M_PI * v);
        else
            norm -= 0.5 * log(2.0 * M_PI * v);
        double best = x->log_outlier + log(x->eps[i]);
        int arg = -1;
        for (int c = 0; c < ns; c++) {
            double d = x->mean[i] - mu[c];
            double l = lw[c] + norm -
                       (nu > 0 ? 0.5 * (nu + 1) * log1p(d * d / (nu * v)) : 0.5 * d * d / v);
            if (l > best) {
                best = l;
                arg = c;
            }
        }
        total += best;
        if (state)
            state[i] = arg;
    }
    if (o->ploidy_prior_sd > 0) {
        double z = (ploidy - 2.0) / o->ploidy_prior_sd;
        total -= 0.5 * z * z;
    }
    return total - o->fraction_prior * f;
}

static double loglik(const fit_ctx *x, double f, double ploidy, int *state)
{
    return x->mixture ? loglik_mixture(x, f, ploidy, state) : loglik_assigned(x, f, ploidy, state);
}

/* Best log likelihood over P at fixed f: coarse grid, then a 10x finer scan around the best. */
static double best_over_ploidy(const fit_ctx *x, double f, double *ploidy_out)
{
    const rw_purity_opts *o = x->o;
    double best = -INFINITY, bp = 2.0;
    int np = (int)floor((o->ploidy_max - o->ploidy_min) / o->ploidy_step + 1e-9);
    for (int k = 0; k <= np; k++) {
        double p = o->ploidy_min + k * o->ploidy_step;
        double ll = loglik(x, f, p, NULL);
        if (ll > best) {
            best = ll;
            bp = p;
        }
    }
    double centre = bp, fine = o->ploidy_step / 10.0;
    for (int k = -10; k <= 10; k++) {
        double p = centre + k * fine;
        if (k == 0 || p < o->ploidy_min - 1e-12 || p > o->ploidy_max + 1e-12)
            continue;
        double ll = loglik(x, f, p, NULL);
        if (ll > best) {
            best = ll;
            bp = p;
        }
    }
    *ploidy_out = bp;
    return best;
}

/* Where the profile crosses `level` between grid points a (above) and b (below): linear. */
static double crossing(double fa, double la, double fb, double lb, double level)
{
    if (la == lb)
        return fa;
    double t = (la - level) / (la - lb);
    return fa + t * (fb - fa);
}

static int purity_opts_valid(const rw_purity_opts *o)
{
    return o->max_cn >= 1 && o->max_cn <= 63 && o->f_max > 0 && o->f_max < 1 && o->f_step > 0 &&
           o->f_step <= o->f_max && o->ploidy_min > 0 && o->ploidy_max >= o->ploidy_min &&
           o->ploidy_step > 0 && o->neutral_prior > 0 && o->neutral_prior < 1 &&
           o->state_decay > 0 && o->state_decay <= 1 && o->two_copy_weight > 0 &&
           o->two_copy_weight <= 1 && o->homdel_factor > 0 && o->homdel_factor <= 1 &&
           o->outlier_weight > 0 && o->outlier_weight < 1 && o->outlier_bins > 0 &&
           o->floor_sd >= 0 && o->state_strength > 0 && o->fraction_prior >= 0 && o->tail_df >= 0 &&
           o->estimate_gain_min >= 0;
}

/* The segments large enough to fit: their means, variances (the noise model's variance of a mean
 * of that many bins, plus the floor) and indices into the input. Returns how many. */
static size_t fit_segments(const rw_purity_opts *o, size_t n_seg, const double *seg_mean,
                           const size_t *seg_bins, const rw_purity_noise_model *m, double *mean,
                           double *var, double *eps, size_t *idx)
{
    size_t n = 0;
    for (size_t i = 0; i < n_seg; i++) {
        if (seg_bins[i] < o->min_bins || seg_bins[i] == 0 || !isfinite(seg_mean[i]))
            continue;
        mean[n] = seg_mean[i];
        var[n] = rw_purity_noise_var(m, seg_bins[i]) + o->floor_sd * o->floor_sd;
        double scale = (double)seg_bins[i] / o->outlier_bins;
        eps[n] = pow(o->outlier_weight, scale > 1.0 ? scale : 1.0);
        idx[n] = i;
        n++;
    }
    return n;
}

/* Interval of the fraction: walk the coarse profile prof[0, nf) outwards from its optimum kbest
 * until it drops CHI2_95 / 2 below the best log likelihood. */
static void fraction_interval(const rw_purity_opts *o, const double *prof, size_t nf, size_t kbest,
                              rw_purity_result *res)
{
    double level = res->loglik - 0.5 * CHI2_95;
    res->fraction_lo = 0.0;
    for (size_t k = kbest; k-- > 0;)
        if (prof[k] < level) {
            res->fraction_lo =
                crossing((k + 1) * o->f_step, prof[k + 1], k * o->f_step, prof[k], level);
            break;
        }
    res->fraction_hi = o->f_max;
    for (size_t k = kbest + 1; k < nf; k++)
        if (prof[k] < level) {
            res->fraction_hi =
                crossing((k - 1) * o->f_step, prof[k - 1], k * o->f_step, prof[k], level);
            break;
        }
    if (res->fraction_lo > res->fraction)
        res->fraction_lo = res->fraction;
    if (res->fraction_hi < res->fraction)
        res->fraction_hi = res->fraction;
}

/* The fraction and ploidy of best likelihood: the profile likelihood over the coarse f grid
 * (each f at its best ploidy), refined 10x around its optimum; then the interval. */
static rw_status fit_fraction(const fit_ctx *x, rw_purity_result *res, rw_error *err)
{
    const rw_purity_opts *o = x->o;
    size_t nf = (size_t)floor(o->f_max / o->f_step + 1e-9) + 1;
    double *prof = malloc(nf * sizeof *prof);
    if (!prof)
        return rw_error_set(err, RW_ERR_NOMEM, "purity: out of memory");
    size_t kbest = 0;
    double bp = 2.0;
    for (size_t k = 0; k < nf; k++) {
        double p;
        prof[k] = best_over_ploidy(x, k * o->f_step, &p);
        if (k == 0)
            res->loglik_null = prof[0];
        if (prof[k] > prof[kbest])
            kbest = k;
    }
    double fbest = kbest * o->f_step, llbest = best_over_ploidy(x, fbest, &bp);
    for (int k = -10; k <= 10; k++) {
        double f = kbest * o->f_step + k * o->f_step / 10.0, p;
        if (k == 0 || f < 0 || f > o->f_max + 1e-12)
            continue;
        double ll = best_over_ploidy(x, f, &p);
        if (ll > llbest) {
            llbest = ll;
            fbest = f;
            bp = p;
        }
    }
    res->fraction = fbest;
    res->ploidy = bp;
    res->loglik = llbest;
    fraction_interval(o, prof, nf, kbest, res);
    free(prof);
    return RW_OK;
}

/* States at the optimum (to state[] of the input segments when not NULL) and the bin-weighted
 * mean copy number of the fitted segments. fit_state: scratch of x->n. */
static void fitted_states(const fit_ctx *x, const size_t *seg_bins, const size_t *idx,
                          int *fit_state, rw_purity_result *res, int *state)
{
    double fbest = res->fraction, bp = res->ploidy;
    (void)loglik(x, fbest, bp, fit_state);
    double wsum = 0.0, cnsum = 0.0;
    for (size_t j = 0; j < x->n; j++) {
        int c = fit_state[j];
        if (fbest <= 0.0)
            c = (int)lround(bp); /* at f = 0 the states coincide: call them all neutral */
        if (state)
            state[idx[j]] = c;
        if (c >= 0) {
            wsum += (double)seg_bins[idx[j]];
            cnsum += (double)seg_bins[idx[j]] * c;
        }
    }
    res->mean_cn = wsum > 0 ? cnsum / wsum : bp;
}

/* How many fitted segments the estimate's model assigns to a state other than neutral at the
 * optimum of res. One alone does not fix f (CN 3 at 2f reads as CN 4 at f), and in a normal it
 * is the sample's largest wave or a CBS piece chosen for standing out. fit_state: scratch. */
static size_t copy_changes(const fit_ctx *x, const rw_purity_result *res, int *fit_state)
{
    (void)loglik(x, res->fraction, res->ploidy, fit_state);
    size_t n = 0;
    for (size_t j = 0; j < x->n; j++)
        n += fit_state[j] >= 0 && fit_state[j] != (int)lround(res->ploidy);
    return n;
}

static const char *flag_of(const rw_purity_opts *o, double fraction, double evidence)
{
    if (fraction < o->detection_limit || !(evidence >= o->evidence_min))
        return RW_PURITY_FLAG_BELOW_DETECTION;
    if (fraction < o->caution_limit)
        return RW_PURITY_FLAG_LOW;
    return RW_PURITY_FLAG_OK;
}

rw_status rw_purity_fit(const rw_purity_opts *o, size_t n_seg, const double *seg_mean,
                        const size_t *seg_bins, double bin_sd, rw_purity_result *res, int *state,
                        rw_error *err)
{
    rw_purity_noise_model m = {.k = 0, .sd = bin_sd}; /* white noise: Gaussian, no wave tails */
    if (!o)
        return rw_error_set(err, RW_ERR_USAGE, "purity: missing argument");
    rw_purity_opts go = *o;
    go.tail_df = 0;
    return rw_purity_fit_model(&go, n_seg, seg_mean, seg_bins, &m, res, state, err);
}

/* Below the evidence the fit owes: the fraction is kept as the estimate, but the answer is an
 * upper bound (the interval from 0). */
static void decide(const rw_purity_opts *o, rw_purity_result *res)
{
    res->evidence = res->loglik - res->loglik_null;
    res->flag = flag_of(o, res->fraction, res->evidence);
    if (!(res->evidence >= o->evidence_min))
        res->fraction_lo = 0.0;
}

rw_status rw_purity_fit_model(const rw_purity_opts *o, size_t n_seg, const double *seg_mean,
                              const size_t *seg_bins, const rw_purity_noise_model *m,
                              rw_purity_result *res, int *state, rw_error *err)
{
    if (!o || !res || !m || (n_seg && (!seg_mean || !seg_bins)))
        return rw_error_set(err, RW_ERR_USAGE, "purity: missing argument");
    if (!purity_opts_valid(o))
        return rw_error_set(err, RW_ERR_USAGE, "purity: impossible options");
    double bin_sd = m->sd;
    if (!(bin_sd > 0) || !isfinite(bin_sd))
        return rw_error_set(err, RW_ERR_USAGE, "purity: bin-level SD must be positive, got %g",
                            bin_sd);

    memset(res, 0, sizeof *res);
    res->method = RW_PURITY_METHOD;
    res->bin_sd = bin_sd;
    res->seg_sd_50 = sqrt(rw_purity_noise_var(m, 50));
    res->ploidy = 2.0;
    res->mean_cn = 2.0;
    for (size_t i = 0; state && i < n_seg; i++)
        state[i] = -1;

    rw_status st = RW_OK;
    size_t nn = n_seg ? n_seg : 1;
    double *mean = malloc(nn * sizeof *mean);
    double *var = malloc(nn * sizeof *var);
    double *eps = malloc(nn * sizeof *eps);
    size_t *idx = malloc(nn * sizeof *idx);
    int *fit_state = malloc(nn * sizeof *fit_state);
    double *work = malloc(nn * (size_t)(o->max_cn + 2) * sizeof *work);
    if (!mean || !var || !eps || !idx || !fit_state || !work) {
        st = rw_error_set(err, RW_ERR_NOMEM, "purity: out of memory");
        goto done;
    }
    size_t n = fit_segments(o, n_seg, seg_mean, seg_bins, m, mean, var, eps, idx);
    res->n_fitted = n;
    if (n == 0) {
        res->flag = RW_PURITY_FLAG_NO_DATA;
        goto done; /* RW_OK: nothing to fit is an answer, not an error */
    }
    if (o->recentre) {
        double off = weighted_median(n, mean, seg_bins, idx);
        if (!isfinite(off)) {
            st = rw_error_set(err, RW_ERR_NOMEM, "purity: out of memory");
            goto done;
        }
        for (size_t j = 0; j < n; j++)
            mean[j] -= off;
        res->offset = off;
    }
    fit_ctx x = {.o = o,
                 .n = n,
                 .mean = mean,
                 .var = var,
                 .eps = eps,
                 .log_outlier = -log(OUTLIER_RANGE),
                 .work = work};
    /* The detection model first: its likelihood ratio is the evidence for a tumour, and its
     * reading stands when the estimate's model finds no state worth its cost. */
    rw_purity_result detect = *res;
    x.mixture = 1;
    if ((st = fit_fraction(&x, &detect, err)) != RW_OK)
        goto done;
    x.mixture = 0;
    if ((st = fit_fraction(&x, res, err)) != RW_OK)
        goto done;
    if (!(res->loglik - res->loglik_null >= o->estimate_gain_min) ||
        copy_changes(&x, res, fit_state) < 2) {
        *res = detect;
        x.mixture = 1;
    }
    fitted_states(&x, seg_bins, idx, fit_state, res, state);
    res->loglik = detect.loglik;
    res->loglik_null = detect.loglik_null;
    decide(o, res);
done:
    free(mean);
    free(var);
    free(eps);
    free(idx);
    free(fit_state);
    free(work);
    return st;
}

/* Block means of L finite ratios within each arm, about centre: their squares to dev[]. */
static size_t block_devs(const double *log2v, const rw_segments *segs, size_t len, double centre,
                         double *dev)
{
    size_t nd = 0;
    for (size_t a = 0; a < segs->n;) {
        size_t b = a; /* segments a .. b-1: one arm */
        while (b < segs->n && segs->a[b].chrom == segs->a[a].chrom &&
               segs->a[b].arm == segs->a[a].arm)
            b++;
        double sum = 0.0;
        size_t cnt = 0;
        for (size_t i = segs->a[a].first; i <= segs->a[b - 1].last; i++) {
            if (!isfinite(log2v[i]))
                continue;
            sum += log2v[i];
            if (++cnt == len) {
                double d = sum / (double)len - centre;
                dev[nd++] = d * d;
                sum = 0.0;
                cnt = 0;
            }
        }
        a = b;
    }
    return nd;
}

void rw_purity_noise_measure(const double *log2v, const rw_segments *segs, double bin_sd,
                             rw_purity_noise_model *m)
{
    memset(m, 0, sizeof *m);
    m->sd = bin_sd;
    size_t nb = segs && segs->n ? segs->a[segs->n - 1].last + 1 : 0;
    double *v = malloc((nb ? nb : 1) * sizeof *v);
    if (!v)
        return; /* white noise: the model says nothing more */
    size_t nv = 0;
    for (size_t s = 0; s < segs->n; s++)
        for (size_t i = segs->a[s].first; i <= segs->a[s].last; i++)
            if (isfinite(log2v[i]))
                v[nv++] = log2v[i];
    double centre = rw_stats_median(v, nv);
    /* median of squares of N(0, s^2) draws: 0.4549 s^2 (chi-square, 1 d.f.) */
    for (size_t len = 1; m->k < RW_PURITY_NOISE_LEVELS && isfinite(centre); len *= 2) {
        size_t nd = block_devs(log2v, segs, len, centre, v);
        if (nd < 12)
            break;
        m->len[m->k] = (double)len;
        m->var[m->k++] = rw_stats_median(v, nd) / 0.45493642311957283;
    }
    free(v);
}

double rw_purity_noise_var(const rw_purity_noise_model *m, size_t n)
{
    double white = m->sd * m->sd / (double)n, x = (double)n, v;
    if (m->k == 0)
        return white;
    if (x <= m->len[0]) {
        v = m->var[0] * m->len[0] / x;
    } else if (x >= m->len[m->k - 1]) {
        v = m->var[m->k - 1] * m->len[m->k - 1] / x;
    } else {
        size_t j = 1;
        while (m->len[j] < x)
            j++;
        double t = log(x / m->len[j - 1]) / log(m->len[j] / m->len[j - 1]);
        v = exp((1 - t) * log(m->var[j - 1]) + t * log(m->var[j]));
    }
    return v > white ? v : white;
}

/* A merged segment: bins and bin-weighted mean, and its arm (index of the first input segment's
 * chromosome and arm). */
typedef struct piece {
    int chrom, arm;
    size_t n;
    double mean;
} piece;

/* Merges, closest pair first, adjacent pieces of one arm whose difference is below merge_z SEs
 * of the noise model. Returns the number of pieces left (in place). */
static size_t merge_pieces(const rw_purity_opts *o, const rw_purity_noise_model *m, piece *p,
                           size_t n)
{
    for (;;) {
        size_t best = n;
        double bz = o->merge_z;
        for (size_t i = 0; i + 1 < n; i++) {
            if (p[i].chrom != p[i + 1].chrom || p[i].arm != p[i + 1].arm || !p[i].n || !p[i + 1].n)
                continue;
            double se = sqrt(rw_purity_noise_var(m, p[i].n) + rw_purity_noise_var(m, p[i + 1].n));
            double z = fabs(p[i].mean - p[i + 1].mean) / se;
            if (z < bz) {
                bz = z;
                best = i;
            }
        }
        if (best == n)
            return n;
        piece *a = &p[best], *b = &p[best + 1];
        a->mean = (a->mean * (double)a->n + b->mean * (double)b->n) / (double)(a->n + b->n);
        a->n += b->n;
        memmove(b, b + 1, (n - best - 2) * sizeof *b);
        n--;
    }
}

rw_status rw_purity_fit_sample(const rw_purity_opts *o, const rw_segments *segs,
                               const double *log2v, double bin_sd, rw_purity_result *res,
                               rw_error *err)
{
    if (!o || !segs || !res || (segs->n && !log2v))
        return rw_error_set(err, RW_ERR_USAGE, "purity: missing argument");
    rw_purity_noise_model m;
    rw_purity_noise_measure(log2v, segs, bin_sd, &m);
    size_t n = segs->n ? segs->n : 1;
    piece *p = malloc(n * sizeof *p);
    double *mean = malloc(n * sizeof *mean);
    size_t *bins = malloc(n * sizeof *bins);
    rw_status st = RW_OK;
    if (!p || !mean || !bins) {
        st = rw_error_set(err, RW_ERR_NOMEM, "purity: out of memory");
        goto done;
    }
    size_t k = 0;
    for (size_t i = 0; i < segs->n; i++)
        if (segs->a[i].n && isfinite(segs->a[i].mean))
            p[k++] = (piece){segs->a[i].chrom, segs->a[i].arm, segs->a[i].n, segs->a[i].mean};
    if (o->merge_z > 0)
        k = merge_pieces(o, &m, p, k);
    for (size_t i = 0; i < k; i++) {
        mean[i] = p[i].mean;
        bins[i] = p[i].n;
    }
    rw_purity_opts wo = *o;
    if (wo.min_bins < o->wave_min_bins)
        wo.min_bins = o->wave_min_bins;
    st = rw_purity_fit_model(&wo, k, mean, bins, &m, res, NULL, err);
done:
    free(p);
    free(mean);
    free(bins);
    return st;
}
