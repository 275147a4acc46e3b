/* ddPCR copy number: merges wells, Poisson-corrects droplet counts and computes CN with its
 * log-scale 95% interval and call (formulas in core/ddpcr.h and docs/method.md §5). */
#include "core/ddpcr.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "core/settings.h"

#define Z95 1.959963984540054
/* One-sided 95% upper bound of a Poisson mean when zero events were seen: -ln(0.05). */
#define ZERO_EVENTS_UPPER 2.995732273553991

void rw_ddpcr_opts_init(rw_ddpcr_opts *o)
{
    memset(o, 0, sizeof *o);
    rw_settings_defaults(RW_SET_DDPCR, o); /* every field is an analysis setting */
}

/* CV^2 of lambda estimated from N droplets: Var(lambda) ~= (e^lambda - 1) / N (delta method on
 * the binomial fraction of negatives). */
static double cv2_lambda(double lambda, double n)
{
    return (exp(lambda) - 1.0) / (n * lambda * lambda);
}

rw_status rw_ddpcr_compute(const rw_ddpcr_well *wells, size_t n, const rw_ddpcr_opts *o,
                           rw_ddpcr_result *res, rw_error *err)
{
    rw_ddpcr_opts defaults;
    if (!o) {
        rw_ddpcr_opts_init(&defaults);
        o = &defaults;
    }
    if (!(o->droplet_volume_nl > 0) || !(o->ref_copies > 0) || !isfinite(o->amplified_lower))
        return rw_error_set(err, RW_ERR_USAGE,
                            "droplet volume and reference copies must be > 0 (got %g nL, %g)",
                            o->droplet_volume_nl, o->ref_copies);
    if (n == 0)
        return rw_error_set(err, RW_ERR_INPUT, "no ddPCR well given");

    *res = (rw_ddpcr_result){0};
    res->n_wells = n;
    for (size_t i = 0; i < n; i++) {
        const rw_ddpcr_well *w = &wells[i];
        if (w->droplets == 0)
            return rw_error_set(err, RW_ERR_INPUT, "well %zu: zero accepted droplets", i + 1);
        if (w->target_pos > w->droplets || w->ref_pos > w->droplets)
            return rw_error_set(err, RW_ERR_INPUT,
                                "well %zu: more positive droplets (target %llu, reference %llu) "
                                "than accepted droplets (%llu)",
                                i + 1, (unsigned long long)w->target_pos,
                                (unsigned long long)w->ref_pos, (unsigned long long)w->droplets);
        /* A saturated well has no negative droplet: its concentration is unbounded, and summing
         * it into the others would hide that, so it is rejected on its own. */
        if (w->target_pos == w->droplets || w->ref_pos == w->droplets)
            return rw_error_set(err, RW_ERR_INPUT,
                                "well %zu: saturated %s channel (every droplet positive): dilute "
                                "the sample and rerun",
                                i + 1, w->target_pos == w->droplets ? "target" : "reference");
        res->droplets += w->droplets;
        res->target_pos += w->target_pos;
        res->ref_pos += w->ref_pos;
    }
    if (res->ref_pos == 0)
        return rw_error_set(err, RW_ERR_INPUT,
                            "no reference-positive droplet in %zu well(s): copy number undefined",
                            n);

    double N = (double)res->droplets;
    double t_neg = (double)(res->droplets - res->target_pos);
    double r_neg = (double)(res->droplets - res->ref_pos);
    double vol_ul = o->droplet_volume_nl / 1000.0;
    res->droplet_volume_nl = o->droplet_volume_nl;
    res->threshold = o->amplified_lower;
    res->lambda_target = -log(t_neg / N);
    res->lambda_ref = -log(r_neg / N);
    res->conc_target = res->lambda_target / vol_ul;
    res->conc_ref = res->lambda_ref / vol_ul;

    if (res->target_pos < o->min_droplets)
        res->flags |= RW_DDPCR_LOW_TARGET_POS;
    if (res->droplets - res->target_pos < o->min_droplets)
        res->flags |= RW_DDPCR_LOW_TARGET_NEG;
    if (res->ref_pos < o->min_droplets)
        res->flags |= RW_DDPCR_LOW_REF_POS;
    if (res->droplets - res->ref_pos < o->min_droplets)
        res->flags |= RW_DDPCR_LOW_REF_NEG;

    if (res->target_pos == 0) {
        /* Zero is not an estimate: state how large CN could be and still give no positive. */
        res->flags |= RW_DDPCR_NO_TARGET;
        res->cn = NAN;
        res->cv = NAN;
        res->cn_lo = 0.0;
        res->cn_hi = o->ref_copies * (ZERO_EVENTS_UPPER / N) / res->lambda_ref;
        res->amplified = 0;
        return RW_OK;
    }
    res->cn = o->ref_copies * res->lambda_target / res->lambda_ref;
    res->cv = sqrt(cv2_lambda(res->lambda_target, N) + cv2_lambda(res->lambda_ref, N));
    res->cn_lo = res->cn * exp(-Z95 * res->cv);
    res->cn_hi = res->cn * exp(Z95 * res->cv);
    res->amplified = res->cn_lo > o->amplified_lower;
    return RW_OK;
}
