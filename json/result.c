/* The JSON form of the core's per-sample results (json/result.h), one writer for the CLI, the
 * stored results and the API. */
#include "json/result.h"

#include <math.h>
#include <string.h>

#include "json/num.h"

static json_t *informed_json_new(double tf, double lo, double hi, double primary_cn)
{
    if (!isfinite(tf))
        return json_null();
    int bad = 0;
    json_t *o = json_object();
    rw_json_put(o, "estimate", rw_json_num(tf), &bad);
    rw_json_put(o, "low", rw_json_num(lo), &bad);
    rw_json_put(o, "high", rw_json_num(hi), &bad);
    rw_json_put(o, "primary_cn", rw_json_num(primary_cn), &bad);
    return rw_json_done(o, bad);
}

json_t *rw_region_json_new(const rw_region_score *g)
{
    int bad = 0;
    json_t *o = json_object();
    rw_json_put(o, "name", json_string(g->name), &bad);
    rw_json_put(o, "chrom", json_string(rw_chrom_name(g->chrom)), &bad);
    rw_json_put(o, "start", json_integer((json_int_t)g->start), &bad);
    rw_json_put(o, "end", json_integer((json_int_t)g->end), &bad);
    rw_json_put(o, "n_region_bins", json_integer((json_int_t)g->n_region_bins), &bad);
    rw_json_put(o, "n_bins", json_integer(g->n_bins), &bad);
    rw_json_put(o, "mean_log2", rw_json_num(g->mean_log2), &bad);
    rw_json_put(o, "se", rw_json_num(g->se), &bad);
    rw_json_put(o, "sigma", rw_json_num(g->sigma), &bad);
    rw_json_put(o, "inflation", rw_json_num(g->inflation), &bad);
    rw_json_put(o, "pon_mean", rw_json_num(g->pon_mean), &bad);
    rw_json_put(o, "pon_sd", rw_json_num(g->pon_sd), &bad);
    rw_json_put(o, "z", rw_json_num(g->z), &bad);
    rw_json_put(o, "ratio", rw_json_num(g->copy_ratio), &bad);
    rw_json_put(o, "ratio_low", rw_json_num(g->copy_ratio_lo), &bad);
    rw_json_put(o, "ratio_high", rw_json_num(g->copy_ratio_hi), &bad);
    rw_json_put(o, "call", json_string(rw_call_name(g->call)), &bad);
    rw_json_put(o, "strong", json_boolean(g->strong), &bad);
    rw_json_put(o, "threshold", rw_json_num(g->threshold), &bad);
    rw_json_put(o, "tumour_fraction", informed_json_new(g->tf, g->tf_lo, g->tf_hi, g->primary_cn),
                &bad);
    return rw_json_done(o, bad);
}

json_t *rw_regions_json_new(const rw_result *r)
{
    int bad = 0;
    json_t *a = json_array();
    for (size_t i = 0; i < r->n_regions; i++)
        rw_json_push(a, rw_region_json_new(&r->regions[i]), &bad);
    return rw_json_done(a, bad);
}

json_t *rw_segments_json_new(const rw_segments *s)
{
    int bad = 0;
    json_t *a = json_array();
    for (size_t i = 0; i < s->n; i++) {
        const rw_segment *g = &s->a[i];
        json_t *o = json_object();
        rw_json_put(o, "chrom", json_string(rw_chrom_name(g->chrom)), &bad);
        rw_json_put(o, "arm", json_string(g->arm ? "q" : "p"), &bad);
        rw_json_put(o, "start", json_integer((json_int_t)g->start), &bad);
        rw_json_put(o, "end", json_integer((json_int_t)g->end), &bad);
        rw_json_put(o, "n_bins", json_integer((json_int_t)g->n), &bad);
        rw_json_put(o, "mean", rw_json_num(g->mean), &bad);
        rw_json_put(o, "call", json_string(rw_seg_call_name(g->call)), &bad);
        rw_json_push(a, o, &bad);
    }
    return rw_json_done(a, bad);
}

json_t *rw_count_qc_json_new(const rw_count_qc *c)
{
    int bad = 0;
    json_t *o = json_object(), *dropped = json_object();
    for (int d = 0; d < RW_DROP_N; d++)
        rw_json_put(dropped, rw_drop_name((rw_drop)d), json_integer((json_int_t)c->dropped[d]),
                    &bad);
    rw_json_put(o, "format", json_string(c->format), &bad);
    rw_json_put(o, "reads_seen", json_integer((json_int_t)c->seen), &bad);
    rw_json_put(o, "reads_kept", json_integer((json_int_t)c->kept), &bad);
    rw_json_put(o, "dropped", dropped, &bad);
    rw_json_put(o, "duplicate_rate", rw_json_num(c->duplicate_rate), &bad);
    rw_json_put(o, "frag_median", rw_json_num(c->frag_median), &bad);
    return rw_json_done(o, bad);
}

json_t *rw_result_qc_json_new(const rw_result_qc *q)
{
    int bad = 0;
    json_t *o = json_object();
    rw_json_put(o, "median_reads_per_bin", rw_json_num(q->median_reads_per_bin), &bad);
    rw_json_put(o, "mad_log2", rw_json_num(q->mad_log2), &bad);
    rw_json_put(o, "noise_sd", rw_json_num(q->noise_sd), &bad);
    rw_json_put(o, "n_bins", json_integer((json_int_t)q->n_bins), &bad);
    rw_json_put(o, "n_masked", json_integer((json_int_t)q->n_masked), &bad);
    rw_json_put(o, "n_used", json_integer((json_int_t)q->n_used), &bad);
    rw_json_put(o, "gc_corrected", json_boolean(q->gc_corrected), &bad);
    rw_json_put(o, "n_components", json_integer(q->n_components), &bad);
    rw_json_put(o, "pon_n_normals", json_integer(q->pon_n_normals), &bad);
    rw_json_put(o, "pon_low_normals", json_boolean(q->pon_low_normals), &bad);
    return rw_json_done(o, bad);
}

json_t *rw_qc_json_new(const rw_count_qc *counted, const rw_result_qc *q)
{
    json_t *o = counted ? rw_count_qc_json_new(counted) : json_object();
    json_t *a = rw_result_qc_json_new(q);
    int bad = !o || !a || json_object_update(o, a);
    json_decref(a);
    return rw_json_done(o, bad);
}

json_t *rw_tumour_fraction_json_new(const rw_result *r)
{
    json_t *informed = informed_json_new(r->tf, r->tf_lo, r->tf_hi, r->primary_cn);
    if (!r->has_purity && !isfinite(r->tf))
        return informed; /* null */
    int bad = 0;
    json_t *o = json_object();
    if (r->has_purity) {
        const rw_purity_result *f = &r->purity;
        int ok = !f->flag || !strcmp(f->flag, RW_PURITY_FLAG_OK);
        rw_json_put(o, "estimate", rw_json_num(f->fraction), &bad);
        rw_json_put(o, "low", rw_json_num(f->fraction_lo), &bad);
        rw_json_put(o, "high", rw_json_num(f->fraction_hi), &bad);
        rw_json_put(o, "method", json_string(f->method ? f->method : ""), &bad);
        rw_json_put(o, "flag", ok ? json_null() : json_string(f->flag), &bad);
        rw_json_put(o, "ploidy", rw_json_num(f->ploidy), &bad);
        rw_json_put(o, "n_segments", json_integer((json_int_t)f->n_fitted), &bad);
        /* why the answer is (or is not) below_detection: the fit's evidence over no tumour */
        rw_json_put(o, "evidence", rw_json_num(f->evidence), &bad);
        rw_json_put(o, "segment_sd_50", rw_json_num(f->seg_sd_50), &bad);
    } else {
        rw_json_put(o, "estimate", rw_json_num(r->tf), &bad);
        rw_json_put(o, "low", rw_json_num(r->tf_lo), &bad);
        rw_json_put(o, "high", rw_json_num(r->tf_hi), &bad);
        rw_json_put(o, "method", json_string("tumour-informed: 2(R-1)/(C-2) from the 1q21.3 ratio"),
                    &bad);
        rw_json_put(o, "flag", json_null(), &bad);
    }
    rw_json_put(o, "tumour_informed", informed, &bad);
    return rw_json_done(o, bad);
}

json_t *rw_result_bins_json_new(const rw_result *r)
{
    const rw_bins *b = r->bins;
    static const char *const keys[] = {"chrom",     "start", "end",  "count",
                                       "corrected", "depth", "log2", "mask"};
    json_t *col[8], *o = json_object();
    int bad = 0;
    for (int k = 0; k < 8; k++)
        col[k] = json_array();
    for (size_t i = 0; i < b->n; i++) {
        rw_json_push(col[0], json_string(rw_chrom_name(rw_bins_chrom(b, i))), &bad);
        rw_json_push(col[1], json_integer(rw_bins_start(b, i)), &bad);
        rw_json_push(col[2], json_integer(rw_bins_end(b, i)), &bad);
        rw_json_push(col[3], rw_json_num(b->count[i]), &bad);
        rw_json_push(col[4], rw_json_num(r->corrected[i]), &bad);
        rw_json_push(col[5], rw_json_num(r->depth[i]), &bad);
        rw_json_push(col[6], rw_json_num(r->log2[i]), &bad);
        rw_json_push(col[7], json_integer(r->mask[i]), &bad);
    }
    for (int k = 0; k < 8; k++)
        rw_json_put(o, keys[k], col[k], &bad);
    return rw_json_done(o, bad);
}

/* The analytical CV of a copy ratio 2^m whose log2 has SD sigma (log-normal). */
static double ratio_cv(double sigma)
{
    double s = M_LN2 * sigma;
    return isfinite(s) ? sqrt(expm1(s * s)) : NAN;
}

void rw_call_summary_swgs(const rw_result *r, rw_call_summary *c)
{
    const rw_region_score *p = &r->regions[r->primary];
    c->ratio = p->copy_ratio;
    c->ratio_low = p->copy_ratio_lo;
    c->ratio_high = p->copy_ratio_hi;
    c->log2_ratio = p->mean_log2;
    c->se = p->se;
    c->cv = ratio_cv(p->sigma);
    c->z = p->z;
    c->call = rw_call_name(p->call);
    c->strong = p->strong;
    c->quality = p->call == RW_CALL_INSUFFICIENT_QUALITY ? &r->quality : NULL;
}

void rw_call_summary_ddpcr(const rw_ddpcr_result *r, rw_call_summary *c)
{
    /* No positive droplet: the estimate is 0 copies with a one-sided upper bound. */
    int none = (r->flags & RW_DDPCR_NO_TARGET) != 0;
    c->ratio = none ? 0.0 : r->cn / 2.0;
    c->ratio_low = none ? 0.0 : r->cn_lo / 2.0;
    c->ratio_high = r->cn_hi / 2.0;
    c->log2_ratio = none ? NAN : log2(r->cn / 2.0);
    c->se = NAN;
    c->cv = r->cv;
    c->z = NAN;
    c->call = rw_call_name(r->amplified ? RW_CALL_AMPLIFIED : RW_CALL_NOT_DETECTED);
    c->strong = 0;
    c->quality = NULL;
}

/* Why a sample is insufficient_quality (core/score.h rw_score_quality), or null. */
static json_t *quality_json_new(const rw_score_quality *q)
{
    if (!q)
        return json_null();
    int bad = 0;
    json_t *o = json_object();
    rw_json_put(o, "code", json_string(q->code), &bad);
    rw_json_put(o, "reason", json_string(q->reason), &bad);
    rw_json_put(o, "band_sd", rw_json_num(q->band_sd), &bad);
    rw_json_put(o, "count_sd", rw_json_num(q->count_sd), &bad);
    rw_json_put(o, "limit", rw_json_num(q->limit), &bad);
    rw_json_put(o, "window", json_integer(q->window), &bad);
    return rw_json_done(o, bad);
}

json_t *rw_call_summary_json_new(const rw_call_summary *c)
{
    int bad = 0;
    json_t *o = json_object();
    rw_json_put(o, "ratio", rw_json_num(c->ratio), &bad);
    rw_json_put(o, "ratio_low", rw_json_num(c->ratio_low), &bad);
    rw_json_put(o, "ratio_high", rw_json_num(c->ratio_high), &bad);
    rw_json_put(o, "log2_ratio", rw_json_num(c->log2_ratio), &bad);
    rw_json_put(o, "se", rw_json_num(c->se), &bad);
    rw_json_put(o, "cv", rw_json_num(c->cv), &bad);
    rw_json_put(o, "z", rw_json_num(c->z), &bad);
    rw_json_put(o, "call", json_string(c->call), &bad);
    rw_json_put(o, "strong", json_boolean(c->strong), &bad);
    rw_json_put(o, "quality", quality_json_new(c->quality), &bad);
    return rw_json_done(o, bad);
}

json_t *rw_ddpcr_json_new(const rw_ddpcr_result *r)
{
    static const struct {
        unsigned bit;
        const char *name;
    } fl[] = {{RW_DDPCR_LOW_TARGET_POS, "low_target_positive"},
              {RW_DDPCR_LOW_TARGET_NEG, "low_target_negative"},
              {RW_DDPCR_LOW_REF_POS, "low_reference_positive"},
              {RW_DDPCR_LOW_REF_NEG, "low_reference_negative"},
              {RW_DDPCR_NO_TARGET, "no_target"}};
    int bad = 0;
    json_t *o = json_object(), *flags = json_array();
    for (size_t i = 0; i < sizeof fl / sizeof fl[0]; i++)
        if (r->flags & fl[i].bit)
            rw_json_push(flags, json_string(fl[i].name), &bad);
    rw_json_put(o, "cn", rw_json_num(r->cn), &bad);
    rw_json_put(o, "cn_low", rw_json_num(r->cn_lo), &bad);
    rw_json_put(o, "cn_high", rw_json_num(r->cn_hi), &bad);
    rw_json_put(o, "cv", rw_json_num(r->cv), &bad);
    rw_json_put(o, "n_wells", json_integer((json_int_t)r->n_wells), &bad);
    rw_json_put(o, "droplets", json_integer((json_int_t)r->droplets), &bad);
    rw_json_put(o, "target_positive", json_integer((json_int_t)r->target_pos), &bad);
    rw_json_put(o, "reference_positive", json_integer((json_int_t)r->ref_pos), &bad);
    rw_json_put(o, "lambda_target", rw_json_num(r->lambda_target), &bad);
    rw_json_put(o, "lambda_reference", rw_json_num(r->lambda_ref), &bad);
    rw_json_put(o, "conc_target", rw_json_num(r->conc_target), &bad);
    rw_json_put(o, "conc_reference", rw_json_num(r->conc_ref), &bad);
    rw_json_put(o, "droplet_volume_nl", rw_json_num(r->droplet_volume_nl), &bad);
    rw_json_put(o, "threshold", rw_json_num(r->threshold), &bad);
    rw_json_put(o, "amplified", json_boolean(r->amplified), &bad);
    rw_json_put(o, "flags", flags, &bad);
    return rw_json_done(o, bad);
}
