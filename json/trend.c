/* JSON form of the longitudinal engine's structs, shared by the CLI and the daemon. */
#include "json/trend.h"

#include <math.h>

#include "core/date.h"
#include "json/num.h"

json_t *rw_trend_config_json_new(const rw_trend_config *c)
{
    int bad = 0;
    json_t *o = json_object(), *off = json_array(), *kinds = json_array();
    rw_json_put(o, "rcv_z", rw_json_num(c->rcv_z), &bad);
    rw_json_put(o, "cv_within_person", rw_json_num(c->cv_i), &bad);
    rw_json_put(o, "cv_analytical_default", rw_json_num(c->cv_a_default), &bad);
    rw_json_put(o, "baseline_draws", json_integer(c->baseline_draws), &bad);
    rw_json_put(o, "rearm_clear_draws", json_integer(c->rearm_clear_draws), &bad);
    rw_json_put(o, "z_amplified", rw_json_num(c->z_positive), &bad);
    rw_json_put(o, "z_strong", rw_json_num(c->z_strong), &bad);
    rw_json_put(o, "ddpcr_cn_amplified", rw_json_num(c->ddpcr_cn_positive), &bad);
    rw_json_put(o, "ddpcr_cn_strong", rw_json_num(c->ddpcr_cn_strong), &bad);
    rw_json_put(o, "cusum_k", rw_json_num(c->cusum_k), &bad);
    rw_json_put(o, "cusum_h", rw_json_num(c->cusum_h), &bad);
    rw_json_put(o, "responding_requires_positive", json_boolean(c->responding_requires_positive),
                &bad);
    rw_json_put(o, "personal_between_sd", rw_json_num(c->personal_between_sd), &bad);
    rw_json_put(o, "personal_z", rw_json_num(c->personal_z), &bad);
    rw_json_put(o, "personal_z_single", rw_json_num(c->personal_z_single), &bad);
    size_t nrules;
    const rw_trend_rule_def *rules = rw_trend_rules(&nrules);
    for (size_t k = 0; k < nrules; k++)
        if (!rw_trend_rule_on(c, rules[k].id))
            rw_json_push(off, json_string(rules[k].name), &bad);
    rw_json_put(o, "rules_off", off, &bad);
    for (int k = 0; k < RW_TREAT_NKINDS; k++)
        if (c->responding_kinds & RW_TREAT_BIT(k))
            rw_json_push(kinds, json_string(rw_trend_treatment_name(k)), &bad);
    rw_json_put(o, "responding_kinds", kinds, &bad);
    return rw_json_done(o, bad);
}

json_t *rw_trend_point_json_new(const rw_trend_point *p)
{
    int bad = 0;
    json_t *o = json_object();
    rw_json_put(o, "sample_id", json_integer(p->s.sample_id), &bad);
    rw_json_put(o, "date", rw_json_date(p->s.day), &bad);
    rw_json_put(o, "day", json_integer(p->s.day), &bad);
    rw_json_put(o, "assay", json_string(rw_trend_assay_name(p->s.assay)), &bad);
    rw_json_put(o, "ratio", rw_json_num(p->s.ratio), &bad);
    rw_json_put(o, "cv", rw_json_num(p->s.cv), &bad);
    rw_json_put(o, "cv_defaulted", json_boolean(p->cv_defaulted), &bad);
    rw_json_put(o, "z", rw_json_num(p->s.z), &bad);
    rw_json_put(o, "positive", json_boolean(p->s.positive), &bad);
    rw_json_put(o, "strong", json_boolean(p->s.strong), &bad);
    rw_json_put(o, "calls_derived", json_boolean(p->calls_derived), &bad);
    rw_json_put(o, "on_chemotherapy", json_boolean(p->on_chemo), &bad);
    rw_json_put(o, "panel_id", p->s.panel_id ? json_integer(p->s.panel_id) : json_null(), &bad);
    rw_json_put(o, "se_log2", rw_json_num(p->s.se_log2 > 0 ? p->s.se_log2 : NAN), &bad);
    rw_json_put(o, "skipped", json_boolean(p->skipped), &bad);
    rw_json_put(o, "retracted", json_boolean(p->s.retracted), &bad);
    if (p->s.no_call) { /* a no-call: why (a reason cut inside a UTF-8 character reads no_call) */
        json_t *why = json_string(p->s.no_call_reason);
        rw_json_put(o, "no_call_reason",
                    why && p->s.no_call_reason[0] ? why : json_string("no_call"), &bad);
        if (why && !p->s.no_call_reason[0])
            json_decref(why);
    }
    rw_json_put(o, "z_personal", rw_json_num(p->z_personal), &bad);
    rw_json_put(o, "personal_reference", rw_json_num(p->personal_ref), &bad);
    rw_json_put(o, "personal_sd", rw_json_num(p->personal_sd), &bad);
    rw_json_put(o, "personal_draws", json_integer(p->personal_n), &bad);
    return rw_json_done(o, bad);
}

json_t *rw_trend_evidence_json_new(const rw_trend_evidence *ev)
{
    int bad = 0;
    json_t *o = json_object(), *th = json_object(), *draws = json_array();
    rw_json_put(o, "rule", json_string(rw_trend_rule_name(ev->rule)), &bad);
    rw_json_put(o, "reference", rw_json_num(ev->reference), &bad);
    rw_json_put(th, "rcv_z", rw_json_num(ev->rcv_z), &bad);
    rw_json_put(th, "cv_within_person", rw_json_num(ev->cv_i), &bad);
    rw_json_put(th, "cv_analytical_default", rw_json_num(ev->cv_a_default), &bad);
    rw_json_put(th, "z_amplified", rw_json_num(ev->z_positive), &bad);
    rw_json_put(th, "z_strong", rw_json_num(ev->z_strong), &bad);
    if (ev->rule == RW_RULE_CUSUM) {
        rw_json_put(th, "cusum_k", rw_json_num(ev->cusum_k), &bad);
        rw_json_put(th, "cusum_h", rw_json_num(ev->cusum_h), &bad);
    }
    if (ev->rule == RW_RULE_PERSONAL_BASELINE) {
        rw_json_put(th, "personal_z", rw_json_num(ev->personal_z), &bad);
        rw_json_put(th, "personal_z_single", rw_json_num(ev->personal_z_single), &bad);
        rw_json_put(th, "personal_between_sd", rw_json_num(ev->personal_between_sd), &bad);
    }
    rw_json_put(o, "thresholds", th, &bad);
    for (size_t i = 0; i < ev->ndraws; i++) {
        const rw_trend_draw *d = &ev->draws[i];
        json_t *x = rw_trend_point_json_new(&d->p);
        rw_json_put(x, "role", json_string(rw_trend_role_name(d->role)), &bad);
        rw_json_put(x, "rcv", rw_json_num(d->rcv), &bad);
        rw_json_put(x, "limit", rw_json_num(d->limit), &bad);
        if (d->p.s.sample_id >= 0 && isfinite(d->cusum))
            rw_json_put(x, "cusum", rw_json_num(d->cusum), &bad);
        rw_json_push(draws, x, &bad);
    }
    rw_json_put(o, "draws", draws, &bad);
    return rw_json_done(o, bad);
}
