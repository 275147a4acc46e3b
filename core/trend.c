/* Longitudinal engine: replays a patient's series draw by draw against her treatments and
 * raises early_relapse, emerging_chemoresistance and responding alerts (rules in trend.h). */
#include "core/trend.h"
#include "core/date.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- config and RCV */

void rw_trend_config_init(rw_trend_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->rcv_z = 1.65;
    cfg->cv_i = 0.05;
    cfg->cv_a_default = 0.10;
    cfg->baseline_draws = 2;
    cfg->rearm_clear_draws = 2;
    cfg->z_positive = 3.0;
    cfg->z_strong = 5.0;
    cfg->ddpcr_cn_positive = 2.2;
    cfg->ddpcr_cn_strong = 3.0;
    cfg->rule_strong_positive = 1;
    cfg->rule_two_consecutive_positive = 1;
    cfg->rule_rise_over_baseline = 1;
    /* CUSUM is off by default: PoN z-scores of one woman are not independent N(0, 1) draws
     * (her own offset from the panel and the within-person CV add to every z), so S drifts
     * upward on stable negatives; with 4-10 draws per patient it adds false alerts while the
     * positivity and RCV rules already catch a rising tumour fraction (tests/unit/test_trend.c
     * measures both with the rule on and off). */
    cfg->rule_cusum = 0;
    cfg->rule_rise_from_nadir = 1;
    cfg->rule_positive_after_negative = 1;
    cfg->rule_fall_below_pretreatment = 1;
    cfg->cusum_k = 0.5;
    cfg->cusum_h = 4.0;
    cfg->responding_requires_positive = 1;
    cfg->responding_kinds = RW_TREAT_BIT(RW_TREAT_CHEMOTHERAPY) | RW_TREAT_BIT(RW_TREAT_ENDOCRINE) |
                            RW_TREAT_BIT(RW_TREAT_RADIOTHERAPY) | RW_TREAT_BIT(RW_TREAT_TARGETED) |
                            RW_TREAT_BIT(RW_TREAT_OTHER);
}

static int finite_in(double x, double lo, double hi)
{
    return isfinite(x) && x >= lo && x <= hi;
}

rw_status rw_trend_config_check(const rw_trend_config *c, rw_error *err)
{
    if (!finite_in(c->rcv_z, 0.0, 10.0))
        return rw_error_set(err, RW_ERR_USAGE, "rcv_z %g outside 0..10", c->rcv_z);
    if (!finite_in(c->cv_i, 0.0, 10.0))
        return rw_error_set(err, RW_ERR_USAGE, "cv_i %g outside 0..10", c->cv_i);
    if (!finite_in(c->cv_a_default, 0.0, 10.0))
        return rw_error_set(err, RW_ERR_USAGE, "cv_a_default %g outside 0..10", c->cv_a_default);
    if (c->baseline_draws < 1 || c->baseline_draws > RW_TREND_BASELINE_MAX)
        return rw_error_set(err, RW_ERR_USAGE, "baseline_draws %d outside 1..%d", c->baseline_draws,
                            RW_TREND_BASELINE_MAX);
    if (c->rearm_clear_draws < 1 || c->rearm_clear_draws > 1000)
        return rw_error_set(err, RW_ERR_USAGE, "rearm_clear_draws %d outside 1..1000",
                            c->rearm_clear_draws);
    if (!isfinite(c->z_positive) || !isfinite(c->z_strong) || c->z_strong < c->z_positive)
        return rw_error_set(err, RW_ERR_USAGE,
                            "z_positive %g / z_strong %g: need finite, "
                            "z_strong >= z_positive",
                            c->z_positive, c->z_strong);
    if (!finite_in(c->ddpcr_cn_positive, 0.0, 1e6) || !isfinite(c->ddpcr_cn_strong) ||
        c->ddpcr_cn_strong < c->ddpcr_cn_positive)
        return rw_error_set(err, RW_ERR_USAGE,
                            "ddpcr_cn_positive %g / ddpcr_cn_strong %g: "
                            "need >= 0, strong >= positive",
                            c->ddpcr_cn_positive, c->ddpcr_cn_strong);
    if (!finite_in(c->cusum_k, 0.0, 100.0) || !finite_in(c->cusum_h, 0.0, 1000.0) ||
        c->cusum_h <= 0)
        return rw_error_set(err, RW_ERR_USAGE, "cusum_k %g / cusum_h %g: need k >= 0, h > 0",
                            c->cusum_k, c->cusum_h);
    if (c->responding_kinds >> RW_TREAT_NKINDS)
        return rw_error_set(err, RW_ERR_USAGE, "responding_kinds 0x%x has unknown bits",
                            c->responding_kinds);
    return RW_OK;
}

/* Log-normal sigma of a CV. */
static double sigma_of(double cv)
{
    return sqrt(log1p(cv * cv));
}

/* Spread of ln(R_b / R_a): both analytical sigmas and the within-person sigma of each draw. */
static double comparison_sd(double sa, double sb, double si)
{
    return sqrt(sa * sa + sb * sb + 2.0 * si * si);
}

double rw_trend_rcv_up(double cv_a, double cv_b, double cv_i, double z)
{
    return expm1(z * comparison_sd(sigma_of(cv_a), sigma_of(cv_b), sigma_of(cv_i)));
}

double rw_trend_rcv_down(double cv_a, double cv_b, double cv_i, double z)
{
    return expm1(-z * comparison_sd(sigma_of(cv_a), sigma_of(cv_b), sigma_of(cv_i)));
}

double rw_trend_cv_from_se_log2(double se_log2)
{
    double s = se_log2 * M_LN2;
    return sqrt(expm1(s * s));
}

/* ---------------------------------------------------------------- names and dates */

static const char *const assay_names[] = {"swgs", "bins", "ddpcr"};
static const char *const treat_names[] = {"surgery",      "chemotherapy", "endocrine",
                                          "radiotherapy", "targeted",     "other"};
static const char *const event_names[] = {"clinical_relapse", "imaging_progression", "death",
                                          "other"};
static const char *const primary_names[] = {"unknown", "amplified", "not_amplified"};
static const char *const state_names[] = {"not_detected", "stable", "early_relapse",
                                          "emerging_chemoresistance", "responding"};
static const char *const alert_names[] = {"early_relapse", "emerging_chemoresistance",
                                          "responding"};
static const char *const rule_names[] = {
    "strong_positive", "two_consecutive_positive", "rise_over_baseline",     "cusum",
    "rise_from_nadir", "positive_after_negative",  "fall_below_pretreatment"};
static const char *const role_names[] = {"trigger", "baseline", "nadir", "pretreatment",
                                         "previous"};
static const char *const close_names[] = {"open", "clear_draws", "new_surgery", "new_course",
                                          "course_end"};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *name_of(const char *const *names, size_t n, int v)
{
    return v >= 0 && (size_t)v < n ? names[v] : "invalid";
}

static int parse_name(const char *const *names, size_t n, const char *s)
{
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return (int)i;
    return -1;
}

const char *rw_trend_assay_name(rw_trend_assay a)
{
    return name_of(assay_names, NELEM(assay_names), (int)a);
}
const char *rw_trend_treatment_name(rw_trend_treatment_kind k)
{
    return name_of(treat_names, NELEM(treat_names), (int)k);
}
const char *rw_trend_event_name(rw_trend_event_kind k)
{
    return name_of(event_names, NELEM(event_names), (int)k);
}
const char *rw_trend_primary_name(rw_trend_primary p)
{
    return name_of(primary_names, NELEM(primary_names), (int)p);
}
const char *rw_trend_state_name(rw_trend_state s)
{
    return name_of(state_names, NELEM(state_names), (int)s);
}
const char *rw_trend_alert_name(rw_trend_alert_kind k)
{
    return name_of(alert_names, NELEM(alert_names), (int)k);
}
const char *rw_trend_rule_name(rw_trend_rule r)
{
    return name_of(rule_names, NELEM(rule_names), (int)r);
}
const char *rw_trend_role_name(rw_trend_role r)
{
    return name_of(role_names, NELEM(role_names), (int)r);
}
const char *rw_trend_close_name(rw_trend_close c)
{
    return name_of(close_names, NELEM(close_names), (int)c);
}

#define PARSER(fn, type, names)                                                                    \
    int fn(const char *s, type *out)                                                               \
    {                                                                                              \
        int v = parse_name(names, NELEM(names), s);                                                \
        if (v < 0)                                                                                 \
            return -1;                                                                             \
        *out = (type)v;                                                                            \
        return 0;                                                                                  \
    }
PARSER(rw_trend_assay_parse, rw_trend_assay, assay_names)
PARSER(rw_trend_treatment_parse, rw_trend_treatment_kind, treat_names)
PARSER(rw_trend_event_parse, rw_trend_event_kind, event_names)
PARSER(rw_trend_primary_parse, rw_trend_primary, primary_names)

/* ---------------------------------------------------------------- input checks and regimes */

static int cmp_point(const void *a, const void *b)
{
    const rw_trend_point *x = a, *y = b;
    if (x->s.day != y->s.day)
        return x->s.day < y->s.day ? -1 : 1;
    return (x->s.sample_id > y->s.sample_id) - (x->s.sample_id < y->s.sample_id);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static rw_status check_input(const rw_trend_input *in, rw_error *err)
{
    if ((in->nsamples && !in->samples) || (in->ntreatments && !in->treatments) ||
        (in->nevents && !in->events))
        return rw_error_set(err, RW_ERR_USAGE, "trend input: NULL array with a nonzero length");
    if ((unsigned)in->primary > RW_PRIMARY_NOT_AMPLIFIED)
        return rw_error_set(err, RW_ERR_INPUT, "unknown primary tumour status %d",
                            (int)in->primary);
    for (size_t i = 0; i < in->nsamples; i++) {
        const rw_trend_sample *s = &in->samples[i];
        if ((unsigned)s->assay > RW_TREND_DDPCR)
            return rw_error_set(err, RW_ERR_INPUT, "sample %lld: unknown assay %d",
                                (long long)s->sample_id, (int)s->assay);
        if (!isfinite(s->ratio) || s->ratio <= 0)
            return rw_error_set(err, RW_ERR_INPUT, "sample %lld: copy ratio %g must be > 0",
                                (long long)s->sample_id, s->ratio);
        if (!isnan(s->cv) && !(isfinite(s->cv) && s->cv >= 0))
            return rw_error_set(err, RW_ERR_INPUT, "sample %lld: CV %g must be >= 0 or missing",
                                (long long)s->sample_id, s->cv);
        if (s->positive < -1 || s->positive > 1 || s->strong < -1 || s->strong > 1)
            return rw_error_set(err, RW_ERR_INPUT, "sample %lld: call flags must be -1, 0 or 1",
                                (long long)s->sample_id);
        if (s->assay != RW_TREND_DDPCR && (s->positive < 0 || s->strong < 0) && !isfinite(s->z))
            return rw_error_set(err, RW_ERR_INPUT,
                                "sample %lld: no call given and no z-score to derive it from",
                                (long long)s->sample_id);
    }
    for (size_t i = 0; i < in->ntreatments; i++) {
        const rw_trend_treatment *t = &in->treatments[i];
        if ((unsigned)t->kind >= RW_TREAT_NKINDS)
            return rw_error_set(err, RW_ERR_INPUT, "treatment %zu: unknown kind %d", i + 1,
                                (int)t->kind);
        if (t->end < t->start)
            return rw_error_set(err, RW_ERR_INPUT, "treatment %zu (%s): ends before it starts",
                                i + 1, rw_trend_treatment_name(t->kind));
    }
    for (size_t i = 0; i < in->nevents; i++)
        if ((unsigned)in->events[i].kind > RW_EVENT_OTHER)
            return rw_error_set(err, RW_ERR_INPUT, "event %zu: unknown kind %d", i + 1,
                                (int)in->events[i].kind);
    return RW_OK;
}

typedef struct span {
    int32_t start, end; /* draws with start < day <= end are inside */
} span;

static int cmp_span(const void *a, const void *b)
{
    const span *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return (x->end > y->end) - (x->end < y->end);
}

/* Merges the windows of the kinds in `mask` into disjoint courses (sorted); overlapping or
 * touching windows are one course. *out is new (free()), NULL when there is none. */
static rw_status build_courses(const rw_trend_input *in, unsigned mask, span **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    size_t m = 0;
    for (size_t i = 0; i < in->ntreatments; i++)
        m += (mask & RW_TREAT_BIT(in->treatments[i].kind)) != 0;
    if (!m)
        return RW_OK;
    span *s = malloc(m * sizeof *s);
    if (!s)
        return RW_ERR_NOMEM;
    m = 0;
    for (size_t i = 0; i < in->ntreatments; i++)
        if (mask & RW_TREAT_BIT(in->treatments[i].kind))
            s[m++] = (span){in->treatments[i].start, in->treatments[i].end};
    qsort(s, m, sizeof *s, cmp_span);
    size_t k = 0;
    for (size_t i = 1; i < m; i++) {
        if (s[i].start <= s[k].end) {
            if (s[i].end > s[k].end)
                s[k].end = s[i].end;
        } else {
            s[++k] = s[i];
        }
    }
    *out = s;
    *n = k + 1;
    return RW_OK;
}

static long course_of(const span *c, size_t n, int32_t day)
{
    for (size_t i = 0; i < n; i++)
        if (c[i].start < day && day <= c[i].end)
            return (long)i;
    return -1;
}

/* ---------------------------------------------------------------- result building */

void rw_trend_result_free(rw_trend_result *r)
{
    if (!r)
        return;
    for (size_t a = 0; a < r->nalerts; a++) {
        for (size_t e = 0; e < r->alerts[a].nevidence; e++)
            free(r->alerts[a].evidence[e].draws);
        free(r->alerts[a].evidence);
    }
    free(r->alerts);
    free(r->points);
    free(r);
}

/* Everything the replay knows about one draw beyond its rw_trend_point. */
typedef struct draw_ctx {
    int family;     /* 0 sWGS (swgs, bins), 1 ddPCR */
    long chemo;     /* chemotherapy course or -1 */
    long treat;     /* responding-kind course or -1 */
    int rise;       /* above baseline by more than the RCV */
    int nbase;      /* baseline draws it was compared with */
    double rcv_b;   /* RCV against the baseline */
    int above;      /* above the nadir by more than the RCV */
    long nadir_idx; /* nadir draw it was compared with, or -1 */
    double rcv_n;
} draw_ctx;

/* The evidence under construction for one alert. */
typedef struct ev_builder {
    rw_trend_evidence ev[RW_RULE_NRULES];
    size_t n;
} ev_builder;

typedef struct replay {
    const rw_trend_config *cfg;
    rw_trend_point *pts;
    draw_ctx *ctx;
    size_t n;
    long base[2][RW_TREND_BASELINE_MAX]; /* baseline draws per family, current epoch */
    int nbase[2];
    rw_trend_result *res;
    size_t alerts_cap;
} replay;

static void ev_fill_thresholds(rw_trend_evidence *ev, const rw_trend_config *c)
{
    ev->rcv_z = c->rcv_z;
    ev->cv_i = c->cv_i;
    ev->cv_a_default = c->cv_a_default;
    ev->z_positive = c->z_positive;
    ev->z_strong = c->z_strong;
    ev->cusum_k = c->cusum_k;
    ev->cusum_h = c->cusum_h;
}

/* Starts the evidence of `rule` with room for `cap` draws; NULL when out of memory. */
static rw_trend_evidence *ev_start(ev_builder *b, const rw_trend_config *c, rw_trend_rule rule,
                                   double reference, size_t cap)
{
    rw_trend_evidence *ev = &b->ev[b->n];
    memset(ev, 0, sizeof *ev);
    ev->rule = rule;
    ev->reference = reference;
    ev_fill_thresholds(ev, c);
    ev->draws = calloc(cap ? cap : 1, sizeof *ev->draws);
    if (!ev->draws)
        return NULL;
    b->n++;
    return ev;
}

static void ev_add(rw_trend_evidence *ev, const rw_trend_point *p, rw_trend_role role, double rcv,
                   double limit, double cusum)
{
    rw_trend_draw *d = &ev->draws[ev->ndraws++];
    d->p = *p;
    d->role = role;
    d->rcv = rcv;
    d->limit = limit;
    d->cusum = cusum;
}

static void ev_builder_free(ev_builder *b)
{
    for (size_t i = 0; i < b->n; i++)
        free(b->ev[i].draws);
    b->n = 0;
}

/* Appends an alert owning the builder's evidence (the builder is emptied). Index in *idx. */
static rw_status push_alert(replay *r, rw_trend_alert_kind kind, size_t i, ev_builder *b,
                            size_t *idx)
{
    rw_trend_result *res = r->res;
    if (res->nalerts == r->alerts_cap) {
        size_t cap = r->alerts_cap ? 2 * r->alerts_cap : 8;
        rw_trend_alert *a = realloc(res->alerts, cap * sizeof *a);
        if (!a)
            return RW_ERR_NOMEM;
        res->alerts = a;
        r->alerts_cap = cap;
    }
    rw_trend_evidence *ev = malloc(b->n * sizeof *ev);
    if (!ev)
        return RW_ERR_NOMEM;
    memcpy(ev, b->ev, b->n * sizeof *ev);
    rw_trend_alert *a = &res->alerts[res->nalerts];
    memset(a, 0, sizeof *a);
    a->kind = kind;
    a->sample_id = r->pts[i].s.sample_id;
    a->day = r->pts[i].s.day;
    a->nevidence = b->n;
    a->evidence = ev;
    a->closed_by = RW_CLOSE_NONE;
    a->closed_sample_id = -1;
    a->closed_day = 0;
    b->n = 0;
    *idx = res->nalerts++;
    return RW_OK;
}

/* Most recent draw before i dated on an earlier day, in the same epoch (by_course 0) or the
 * same chemotherapy course (by_course 1), optionally of the same family; -1 if none. */
static long prev_draw(const replay *r, size_t i, int same_family, int by_course)
{
    for (size_t j = i; j-- > 0;) {
        if (r->pts[j].s.day >= r->pts[i].s.day)
            continue;
        if (by_course ? r->ctx[j].chemo != r->ctx[i].chemo : r->pts[j].epoch != r->pts[i].epoch)
            return -1; /* sorted by day: earlier draws are further out of the regime */
        if (same_family && r->ctx[j].family != r->ctx[i].family)
            continue;
        return (long)j;
    }
    return -1;
}

/* Resolves CV and calls of one sample into a point. */
static void resolve_point(const rw_trend_sample *s, const rw_trend_config *c, rw_trend_point *p)
{
    memset(p, 0, sizeof *p);
    p->s = *s;
    if (isnan(s->cv)) {
        p->s.cv = c->cv_a_default;
        p->cv_defaulted = 1;
    }
    p->calls_derived = s->positive < 0 || s->strong < 0;
    if (s->assay == RW_TREND_DDPCR) {
        double lower_cn = 2.0 * s->ratio * exp(-1.96 * sigma_of(p->s.cv));
        if (s->positive < 0)
            p->s.positive = lower_cn > c->ddpcr_cn_positive;
        if (s->strong < 0)
            p->s.strong = lower_cn > c->ddpcr_cn_strong;
    } else {
        if (s->positive < 0)
            p->s.positive = s->z >= c->z_positive;
        if (s->strong < 0)
            p->s.strong = s->z >= c->z_strong;
    }
    if (p->s.strong)
        p->s.positive = 1;
    p->baseline = p->baseline_limit = p->nadir = p->nadir_limit = p->cusum = NAN;
}

/* Geometric mean and pooled log sigma of the first k baseline draws of a family. */
static void baseline_of(const replay *r, int fam, int k, double *mean, double *sigma)
{
    double sl = 0, ss = 0;
    for (int b = 0; b < k; b++) {
        const rw_trend_point *p = &r->pts[r->base[fam][b]];
        sl += log(p->s.ratio);
        double s = sigma_of(p->s.cv);
        ss += s * s;
    }
    *mean = exp(sl / k);
    *sigma = sqrt(ss / k);
}

/* z of a draw for the CUSUM: its PoN z-score, or ln R / sigma_A when it has none (ddPCR). */
static double cusum_z(const rw_trend_point *p)
{
    if (isfinite(p->s.z))
        return p->s.z;
    double s = sigma_of(p->s.cv);
    return s > 0 ? log(p->s.ratio) / s : 0.0;
}

/* ---------------------------------------------------------------- the replay */

typedef struct latch {
    int open;
    int clear_run;
    size_t alert; /* index in alerts[] of the open alert */
    size_t draw;  /* index in points[] of the draw that raised it */
} latch;

static void latch_close(replay *r, latch *l, rw_trend_close why, size_t i)
{
    if (!l->open)
        return;
    rw_trend_alert *a = &r->res->alerts[l->alert];
    a->closed_by = why;
    a->closed_sample_id = r->pts[i].s.sample_id;
    a->closed_day = r->pts[i].s.day;
    l->open = 0;
    l->clear_run = 0;
}

/* Open latch: count clear draws and close after enough. Closed latch: fire when the builder
 * holds evidence. */
static rw_status latch_step(replay *r, latch *l, rw_trend_alert_kind kind, size_t i, int clear,
                            ev_builder *b)
{
    if (l->open) {
        ev_builder_free(b); /* a rule met while open is the same episode: no new alert */
        l->clear_run = clear ? l->clear_run + 1 : 0;
        if (l->clear_run >= r->cfg->rearm_clear_draws)
            latch_close(r, l, RW_CLOSE_CLEAR_DRAWS, i);
        return RW_OK;
    }
    if (!b->n)
        return RW_OK;
    rw_status st = push_alert(r, kind, i, b, &l->alert);
    if (st != RW_OK)
        return st;
    l->open = 1;
    l->clear_run = 0;
    l->draw = i;
    return RW_OK;
}

rw_status rw_trend_run(const rw_trend_input *in, const rw_trend_config *cfg, rw_trend_result **out,
                       rw_error *err)
{
    rw_trend_config defaults;
    rw_status st;
    span *chemo = NULL, *treat = NULL;
    size_t nchemo = 0, ntreat = 0;
    int64_t *ids = NULL;
    long *run = NULL; /* draws of the current CUSUM run */
    size_t nrun = 0;
    ev_builder eb = {.n = 0};
    replay r;
    memset(&r, 0, sizeof r);

    *out = NULL;
    if (!in)
        return rw_error_set(err, RW_ERR_USAGE, "trend: no input");
    if (!cfg) {
        rw_trend_config_init(&defaults);
        cfg = &defaults;
    }
    if ((st = rw_trend_config_check(cfg, err)) != RW_OK)
        return st;
    if ((st = check_input(in, err)) != RW_OK)
        return st;

    r.cfg = cfg;
    r.n = in->nsamples;
    r.res = calloc(1, sizeof *r.res);
    if (!r.res)
        goto nomem;
    r.res->primary = in->primary;
    r.res->lead_sample_id = -1;
    if (r.n) {
        r.pts = calloc(r.n, sizeof *r.pts);
        r.res->points = r.pts; /* owned by the result from here on */
        r.ctx = calloc(r.n, sizeof *r.ctx);
        ids = malloc(r.n * sizeof *ids);
        run = malloc(r.n * sizeof *run);
        if (!r.pts || !r.ctx || !ids || !run)
            goto nomem;
    }
    r.res->npoints = r.n;

    /* Duplicate ids would make the evidence ambiguous. */
    for (size_t i = 0; i < r.n; i++)
        ids[i] = in->samples[i].sample_id;
    if (r.n) /* qsort's pointer must not be NULL, even for zero elements */
        qsort(ids, r.n, sizeof *ids, cmp_i64);
    for (size_t i = 1; i < r.n; i++)
        if (ids[i] == ids[i - 1]) {
            st = rw_error_set(err, RW_ERR_INPUT, "sample id %lld appears twice", (long long)ids[i]);
            goto fail;
        }

    for (size_t i = 0; i < r.n; i++)
        resolve_point(&in->samples[i], cfg, &r.pts[i]);
    if (r.n)
        qsort(r.pts, r.n, sizeof *r.pts, cmp_point);

    if (build_courses(in, RW_TREAT_BIT(RW_TREAT_CHEMOTHERAPY), &chemo, &nchemo) != RW_OK ||
        build_courses(in, cfg->responding_kinds, &treat, &ntreat) != RW_OK)
        goto nomem;

    size_t nsurg = 0;
    for (size_t t = 0; t < in->ntreatments; t++)
        nsurg += in->treatments[t].kind == RW_TREAT_SURGERY;
    for (size_t i = 0; i < r.n; i++) {
        rw_trend_point *p = &r.pts[i];
        for (size_t t = 0; t < in->ntreatments; t++)
            p->epoch +=
                in->treatments[t].kind == RW_TREAT_SURGERY && in->treatments[t].start < p->s.day;
        p->preoperative = nsurg > 0 && p->epoch == 0;
        r.ctx[i].family = p->s.assay == RW_TREND_DDPCR;
        r.ctx[i].chemo = course_of(chemo, nchemo, p->s.day);
        r.ctx[i].treat = course_of(treat, ntreat, p->s.day);
        r.ctx[i].nadir_idx = -1;
        p->on_chemo = r.ctx[i].chemo >= 0;
        p->on_treatment = r.ctx[i].treat >= 0;
    }

    latch er = {0}, cr = {0}, resp = {0};
    int cur_epoch = -1;
    long cur_chemo = -1, cur_treat = -1;
    long nadir[2] = {-1, -1}, last[2] = {-1, -1}, pre[2] = {-1, -1};
    double S = 0;
    for (size_t i = 0; i < r.n; i++) {
        rw_trend_point *p = &r.pts[i];
        draw_ctx *x = &r.ctx[i];
        const int f = x->family;
        const double si = sigma_of(cfg->cv_i), sp = sigma_of(p->s.cv);

        /* Regime changes re-arm the alerts they bound. */
        if (p->epoch != cur_epoch) {
            r.nbase[0] = r.nbase[1] = 0;
            S = 0;
            nrun = 0;
            latch_close(&r, &er, RW_CLOSE_NEW_SURGERY, i);
            cur_epoch = p->epoch;
        }
        if (x->chemo >= 0 && x->chemo != cur_chemo) {
            nadir[0] = nadir[1] = -1;
            latch_close(&r, &cr, RW_CLOSE_NEW_COURSE, i);
            cur_chemo = x->chemo;
        }
        if (x->treat != cur_treat) {
            latch_close(&r, &resp, x->treat >= 0 ? RW_CLOSE_NEW_COURSE : RW_CLOSE_COURSE_END, i);
            if (x->treat >= 0) {
                pre[0] = last[0];
                pre[1] = last[1];
            }
            cur_treat = x->treat;
        }

        /* ---- early_relapse: off chemotherapy, after surgery */
        if (!p->on_chemo && !p->preoperative) {
            int nb = r.nbase[f];
            if (nb > 0) {
                double bmean, bsig;
                baseline_of(&r, f, nb, &bmean, &bsig);
                x->nbase = nb;
                x->rcv_b = expm1(cfg->rcv_z * comparison_sd(bsig, sp, si));
                p->baseline = bmean;
                p->baseline_limit = bmean * (1.0 + x->rcv_b);
                x->rise = p->s.ratio > p->baseline_limit;
            }
            if (!x->rise && !p->s.positive && nb < cfg->baseline_draws)
                r.base[f][r.nbase[f]++] = (long)i;

            if (cfg->rule_strong_positive && p->s.strong) {
                rw_trend_evidence *ev = ev_start(&eb, cfg, RW_RULE_STRONG_POSITIVE, NAN, 1);
                if (!ev)
                    goto nomem;
                ev_add(ev, p, RW_ROLE_TRIGGER, NAN, NAN, NAN);
            }
            long j = prev_draw(&r, i, 0, 0);
            if (cfg->rule_two_consecutive_positive && p->s.positive && j >= 0 &&
                r.pts[j].s.positive) {
                rw_trend_evidence *ev =
                    ev_start(&eb, cfg, RW_RULE_TWO_CONSECUTIVE_POSITIVE, NAN, 2);
                if (!ev)
                    goto nomem;
                ev_add(ev, &r.pts[j], RW_ROLE_TRIGGER, NAN, NAN, NAN);
                ev_add(ev, p, RW_ROLE_TRIGGER, NAN, NAN, NAN);
            }
            j = prev_draw(&r, i, 1, 0);
            if (cfg->rule_rise_over_baseline && x->rise && j >= 0 && r.ctx[j].rise) {
                rw_trend_evidence *ev = ev_start(&eb, cfg, RW_RULE_RISE_OVER_BASELINE, p->baseline,
                                                 (size_t)x->nbase + 2);
                if (!ev)
                    goto nomem;
                for (int b = 0; b < x->nbase; b++)
                    ev_add(ev, &r.pts[r.base[f][b]], RW_ROLE_BASELINE, NAN, NAN, NAN);
                ev_add(ev, &r.pts[j], RW_ROLE_TRIGGER, r.ctx[j].rcv_b, r.pts[j].baseline_limit,
                       NAN);
                ev_add(ev, p, RW_ROLE_TRIGGER, x->rcv_b, p->baseline_limit, NAN);
            }
            if (cfg->rule_cusum) {
                S = fmax(0.0, S + cusum_z(p) - cfg->cusum_k);
                p->cusum = S;
                if (S > 0)
                    run[nrun++] = (long)i;
                else
                    nrun = 0;
                if (S > cfg->cusum_h) {
                    rw_trend_evidence *ev = ev_start(&eb, cfg, RW_RULE_CUSUM, NAN, nrun);
                    if (!ev)
                        goto nomem;
                    for (size_t k = 0; k < nrun; k++)
                        ev_add(ev, &r.pts[run[k]], RW_ROLE_TRIGGER, NAN, NAN, r.pts[run[k]].cusum);
                    S = 0; /* the usual restart after an alarm */
                    nrun = 0;
                }
            }
        }
        if (!p->preoperative || er.open) {
            int clear = !p->s.positive && !x->rise;
            if ((st = latch_step(&r, &er, RW_ALERT_EARLY_RELAPSE, i, clear, &eb)) != RW_OK)
                goto fail;
        }

        /* ---- emerging_chemoresistance: inside a chemotherapy course */
        if (p->on_chemo) {
            long nd = nadir[f];
            if (nd >= 0) {
                x->nadir_idx = nd;
                x->rcv_n = expm1(cfg->rcv_z * comparison_sd(sigma_of(r.pts[nd].s.cv), sp, si));
                p->nadir = r.pts[nd].s.ratio;
                p->nadir_limit = p->nadir * (1.0 + x->rcv_n);
                x->above = p->s.ratio > p->nadir_limit;
            }
            if (nd < 0 || p->s.ratio < r.pts[nd].s.ratio)
                nadir[f] = (long)i;

            long j = prev_draw(&r, i, 1, 1);
            if (cfg->rule_rise_from_nadir && x->above && j >= 0 && r.ctx[j].above) {
                rw_trend_evidence *ev = ev_start(&eb, cfg, RW_RULE_RISE_FROM_NADIR, p->nadir, 4);
                if (!ev)
                    goto nomem;
                if (r.ctx[j].nadir_idx != x->nadir_idx)
                    ev_add(ev, &r.pts[r.ctx[j].nadir_idx], RW_ROLE_NADIR, NAN, NAN, NAN);
                ev_add(ev, &r.pts[x->nadir_idx], RW_ROLE_NADIR, NAN, NAN, NAN);
                ev_add(ev, &r.pts[j], RW_ROLE_TRIGGER, r.ctx[j].rcv_n, r.pts[j].nadir_limit, NAN);
                ev_add(ev, p, RW_ROLE_TRIGGER, x->rcv_n, p->nadir_limit, NAN);
            }
            j = prev_draw(&r, i, 0, 1);
            if (cfg->rule_positive_after_negative && p->s.positive && j >= 0 &&
                !r.pts[j].s.positive) {
                rw_trend_evidence *ev = ev_start(&eb, cfg, RW_RULE_POSITIVE_AFTER_NEGATIVE, NAN, 2);
                if (!ev)
                    goto nomem;
                ev_add(ev, &r.pts[j], RW_ROLE_PREVIOUS, NAN, NAN, NAN);
                ev_add(ev, p, RW_ROLE_TRIGGER, NAN, NAN, NAN);
            }
        }
        if (p->on_chemo || cr.open) {
            int clear = !p->s.positive && !x->above;
            if ((st = latch_step(&r, &cr, RW_ALERT_EMERGING_CHEMORESISTANCE, i, clear, &eb)) !=
                RW_OK)
                goto fail;
        }

        /* ---- responding: inside a treatment course */
        if (p->on_treatment && cfg->rule_fall_below_pretreatment && !resp.open) {
            long q = pre[f];
            if (q >= 0 && r.pts[q].epoch == p->epoch &&
                (!cfg->responding_requires_positive || r.pts[q].s.positive)) {
                double rcv = expm1(-cfg->rcv_z * comparison_sd(sigma_of(r.pts[q].s.cv), sp, si));
                double limit = r.pts[q].s.ratio * (1.0 + rcv);
                if (p->s.ratio < limit) {
                    rw_trend_evidence *ev =
                        ev_start(&eb, cfg, RW_RULE_FALL_BELOW_PRETREATMENT, r.pts[q].s.ratio, 2);
                    if (!ev)
                        goto nomem;
                    ev_add(ev, &r.pts[q], RW_ROLE_PRETREATMENT, NAN, NAN, NAN);
                    ev_add(ev, p, RW_ROLE_TRIGGER, rcv, limit, NAN);
                    if ((st = push_alert(&r, RW_ALERT_RESPONDING, i, &eb, &resp.alert)) != RW_OK)
                        goto fail;
                    resp.open = 1;
                    resp.draw = i;
                }
            }
        }
        last[f] = (long)i;
    }

    /* State: the most recently fired open alert; ties on one draw by kind precedence. */
    rw_trend_result *res = r.res;
    res->state = RW_STATE_NOT_DETECTED;
    if (r.n) {
        static const rw_trend_state of_kind[] = {
            RW_STATE_EARLY_RELAPSE, RW_STATE_EMERGING_CHEMORESISTANCE, RW_STATE_RESPONDING};
        static const int rank[] = {1, 2, 0}; /* chemoresistance > relapse > responding */
        const latch *ls[] = {&er, &cr, &resp};
        int best = -1;
        for (int k = 0; k < RW_ALERT_NKINDS; k++) {
            if (!ls[k]->open)
                continue;
            if (best < 0 || ls[k]->draw > ls[best]->draw ||
                (ls[k]->draw == ls[best]->draw && rank[k] > rank[best]))
                best = k;
        }
        if (best >= 0)
            res->state = of_kind[best];
        else
            res->state = r.pts[r.n - 1].s.positive ? RW_STATE_STABLE : RW_STATE_NOT_DETECTED;
    }

    /* Lead time: first clinical relapse vs first early_relapse alert. */
    for (size_t e = 0; e < in->nevents; e++)
        if (in->events[e].kind == RW_EVENT_CLINICAL_RELAPSE &&
            (!res->has_relapse || in->events[e].day < res->relapse_day)) {
            res->has_relapse = 1;
            res->relapse_day = in->events[e].day;
        }
    for (size_t a = 0; a < res->nalerts; a++)
        if (res->alerts[a].kind == RW_ALERT_EARLY_RELAPSE) {
            res->lead_sample_id = res->alerts[a].sample_id;
            res->lead_alert_day = res->alerts[a].day;
            if (res->has_relapse) {
                res->has_lead_time = 1;
                res->lead_time_days = res->relapse_day - res->alerts[a].day;
            }
            break;
        }

    free(chemo);
    free(treat);
    free(ids);
    free(run);
    free(r.ctx);
    *out = res;
    return RW_OK;

nomem:
    st = rw_error_set(err, RW_ERR_NOMEM, "out of memory in the trend engine");
fail:
    ev_builder_free(&eb);
    rw_trend_result_free(r.res);
    free(chemo);
    free(treat);
    free(ids);
    free(run);
    free(r.ctx);
    return st;
}
