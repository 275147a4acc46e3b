/* JSON form of the longitudinal engine's structs, shared by the CLI and the daemon. */
#include "json/trend.h"

#include <math.h>

#include "core/date.h"

static json_t *jnum(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

static json_t *jdate(int32_t day)
{
    char buf[11];
    rw_date_format(day, buf);
    return json_string(buf);
}

/* json_object_set_new that remembers a failure in *bad; v is consumed even without an object. */
static void put(json_t *o, const char *key, json_t *v, int *bad)
{
    if (!o)
        json_decref(v);
    if (!o || json_object_set_new(o, key, v))
        *bad = 1;
}

static json_t *done(json_t *o, int bad)
{
    if (!bad)
        return o;
    json_decref(o);
    return NULL;
}

json_t *rw_trend_config_json_new(const rw_trend_config *c)
{
    int bad = 0;
    json_t *o = json_object(), *off = json_array(), *kinds = json_array();
    put(o, "rcv_z", jnum(c->rcv_z), &bad);
    put(o, "cv_within_person", jnum(c->cv_i), &bad);
    put(o, "cv_analytical_default", jnum(c->cv_a_default), &bad);
    put(o, "baseline_draws", json_integer(c->baseline_draws), &bad);
    put(o, "rearm_clear_draws", json_integer(c->rearm_clear_draws), &bad);
    put(o, "z_positive", jnum(c->z_positive), &bad);
    put(o, "z_strong", jnum(c->z_strong), &bad);
    put(o, "ddpcr_cn_positive", jnum(c->ddpcr_cn_positive), &bad);
    put(o, "ddpcr_cn_strong", jnum(c->ddpcr_cn_strong), &bad);
    put(o, "cusum_k", jnum(c->cusum_k), &bad);
    put(o, "cusum_h", jnum(c->cusum_h), &bad);
    put(o, "responding_requires_positive", json_boolean(c->responding_requires_positive), &bad);
    size_t nrules;
    const rw_trend_rule_def *rules = rw_trend_rules(&nrules);
    for (size_t k = 0; off && k < nrules; k++)
        if (!rw_trend_rule_on(c, rules[k].id) &&
            json_array_append_new(off, json_string(rules[k].name)))
            bad = 1;
    put(o, "rules_off", off, &bad);
    for (int k = 0; kinds && k < RW_TREAT_NKINDS; k++)
        if ((c->responding_kinds & RW_TREAT_BIT(k)) &&
            json_array_append_new(kinds, json_string(rw_trend_treatment_name(k))))
            bad = 1;
    put(o, "responding_kinds", kinds, &bad);
    return done(o, bad);
}

json_t *rw_trend_point_json_new(const rw_trend_point *p)
{
    int bad = 0;
    json_t *o = json_object();
    put(o, "sample_id", json_integer(p->s.sample_id), &bad);
    put(o, "date", jdate(p->s.day), &bad);
    put(o, "day", json_integer(p->s.day), &bad);
    put(o, "assay", json_string(rw_trend_assay_name(p->s.assay)), &bad);
    put(o, "ratio", jnum(p->s.ratio), &bad);
    put(o, "cv", jnum(p->s.cv), &bad);
    put(o, "cv_defaulted", json_boolean(p->cv_defaulted), &bad);
    put(o, "z", jnum(p->s.z), &bad);
    put(o, "positive", json_boolean(p->s.positive), &bad);
    put(o, "strong", json_boolean(p->s.strong), &bad);
    put(o, "calls_derived", json_boolean(p->calls_derived), &bad);
    put(o, "on_chemotherapy", json_boolean(p->on_chemo), &bad);
    return done(o, bad);
}

json_t *rw_trend_evidence_json_new(const rw_trend_evidence *ev)
{
    int bad = 0;
    json_t *o = json_object(), *th = json_object(), *draws = json_array();
    put(o, "rule", json_string(rw_trend_rule_name(ev->rule)), &bad);
    put(o, "reference", jnum(ev->reference), &bad);
    put(th, "rcv_z", jnum(ev->rcv_z), &bad);
    put(th, "cv_within_person", jnum(ev->cv_i), &bad);
    put(th, "cv_analytical_default", jnum(ev->cv_a_default), &bad);
    put(th, "z_positive", jnum(ev->z_positive), &bad);
    put(th, "z_strong", jnum(ev->z_strong), &bad);
    if (ev->rule == RW_RULE_CUSUM) {
        put(th, "cusum_k", jnum(ev->cusum_k), &bad);
        put(th, "cusum_h", jnum(ev->cusum_h), &bad);
    }
    put(o, "thresholds", th, &bad);
    for (size_t i = 0; draws && i < ev->ndraws; i++) {
        const rw_trend_draw *d = &ev->draws[i];
        json_t *x = rw_trend_point_json_new(&d->p);
        put(x, "role", json_string(rw_trend_role_name(d->role)), &bad);
        put(x, "rcv", jnum(d->rcv), &bad);
        put(x, "limit", jnum(d->limit), &bad);
        if (d->p.s.sample_id >= 0 && isfinite(d->cusum))
            put(x, "cusum", jnum(d->cusum), &bad);
        if (!x || json_array_append_new(draws, x))
            bad = 1;
    }
    put(o, "draws", draws, &bad);
    return done(o, bad);
}
