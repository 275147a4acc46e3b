/* Longitudinal engine: replays a patient's series draw by draw against her treatments and
 * raises early_relapse, emerging_chemoresistance and responding alerts (rules in trend.h). */
#include "core/trend.h"
#include "core/date.h"
#include "core/settings.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- config and RCV */

void rw_trend_config_init(rw_trend_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    /* Every field is an analysis setting: the defaults (and why CUSUM is off) are in the one
     * table of core/settings.c. */
    rw_settings_defaults(RW_SET_TREND, cfg);
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
    if (!finite_in(c->personal_between_sd, 0.0, 10.0))
        return rw_error_set(err, RW_ERR_USAGE, "personal_between_sd %g outside 0..10",
                            c->personal_between_sd);
    if (!finite_in(c->personal_z, 0.0, 100.0) || !finite_in(c->personal_z_single, 0.0, 100.0))
        return rw_error_set(err, RW_ERR_USAGE,
                            "personal_z %g / personal_z_single %g outside 0..100", c->personal_z,
                            c->personal_z_single);
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
        if (s->no_call < 0 || s->no_call > 1)
            return rw_error_set(err, RW_ERR_INPUT, "sample %lld: no_call must be 0 or 1",
                                (long long)s->sample_id);
        if (s->retracted < 0 || s->retracted > 1)
            return rw_error_set(err, RW_ERR_INPUT, "sample %lld: retracted must be 0 or 1",
                                (long long)s->sample_id);
        if (s->no_call || s->retracted)
            continue; /* its value is not read */
        if (!isfinite(s->ratio) || s->ratio <= 0)
            return rw_error_set(err, RW_ERR_INPUT, "sample %lld: copy ratio %g must be > 0",
                                (long long)s->sample_id, s->ratio);
        if (!isnan(s->se_log2) && !(isfinite(s->se_log2) && s->se_log2 >= 0))
            return rw_error_set(err, RW_ERR_INPUT,
                                "sample %lld: se_log2 %g must be >= 0 or missing",
                                (long long)s->sample_id, s->se_log2);
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
    int pjoin; /* joined the personal baseline of its assay and panel */
    int ppos;  /* z_personal >= personal_z */
} draw_ctx;

/* The evidence under construction for one alert. */
typedef struct ev_builder {
    rw_trend_evidence ev[RW_RULE_NRULES];
    size_t n;
} ev_builder;

/* One alert kind's latch: fired and not yet re-armed. */
typedef struct latch {
    int open;
    int clear_run;
    size_t alert; /* index in alerts[] of the open alert */
    size_t draw;  /* index in points[] of the draw that raised it */
} latch;

/* The replay: the sorted draws, their regimes, and the running state of the rules. */
struct rw_trend_replay {
    const rw_trend_config *cfg;
    rw_trend_point *pts; /* owned by res */
    draw_ctx *ctx;
    size_t n;
    rw_trend_result *res;
    size_t alerts_cap;
    span *chemo, *treat; /* chemotherapy and responding-kind courses */
    size_t nchemo, ntreat;
    ev_builder eb; /* evidence met at the draw being replayed */
    latch latch[RW_ALERT_NKINDS];
    int cur_epoch;
    long cur_chemo, cur_treat;
    long base[2][RW_TREND_BASELINE_MAX]; /* baseline draws per family, current epoch */
    int nbase[2];
    long nadir[2], last[2], pre[2]; /* per family: course nadir, last draw, pre-treatment draw */
    double cusum;                   /* CUSUM S of the epoch */
    long *run;                      /* draws of the current CUSUM run */
    size_t nrun;
};
typedef struct rw_trend_replay replay;

static void ev_fill_thresholds(rw_trend_evidence *ev, const rw_trend_config *c)
{
    ev->rcv_z = c->rcv_z;
    ev->cv_i = c->cv_i;
    ev->cv_a_default = c->cv_a_default;
    ev->z_positive = c->z_positive;
    ev->z_strong = c->z_strong;
    ev->cusum_k = c->cusum_k;
    ev->cusum_h = c->cusum_h;
    ev->personal_z = c->personal_z;
    ev->personal_z_single = c->personal_z_single;
    ev->personal_between_sd = c->personal_between_sd;
}

/* Starts the evidence of `rule` with room for `cap` draws; NULL when out of memory. */
static rw_trend_evidence *ev_start(replay *r, rw_trend_rule rule, double reference, size_t cap)
{
    ev_builder *b = &r->eb;
    rw_trend_evidence *ev = &b->ev[b->n];
    memset(ev, 0, sizeof *ev);
    ev->rule = rule;
    ev->reference = reference;
    ev_fill_thresholds(ev, r->cfg);
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
static rw_status push_alert(replay *r, rw_trend_alert_kind kind, size_t i, size_t *idx)
{
    rw_trend_result *res = r->res;
    ev_builder *b = &r->eb;
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

/* Same assay and panel: the draws a personal baseline compares. */
static int same_panel(const rw_trend_point *a, const rw_trend_point *b)
{
    return a->s.assay == b->s.assay && a->s.panel_id == b->s.panel_id;
}

/* Which earlier draws prev_draw() considers. */
enum { MATCH_ANY = 0, MATCH_FAMILY = 1, MATCH_PANEL = 2 };

/* Most recent draw before i dated on an earlier day, in the same epoch (by_course 0) or the
 * same chemotherapy course (by_course 1), of any assay, the same family or the same assay and
 * panel (match); no-calls are never a previous draw. -1 if none. */
static long prev_draw(const replay *r, size_t i, int match, int by_course)
{
    for (size_t j = i; j-- > 0;) {
        if (r->pts[j].skipped || r->pts[j].s.day >= r->pts[i].s.day)
            continue;
        if (by_course ? r->ctx[j].chemo != r->ctx[i].chemo : r->pts[j].epoch != r->pts[i].epoch)
            return -1; /* sorted by day: earlier draws are further out of the regime */
        if ((match == MATCH_FAMILY && r->ctx[j].family != r->ctx[i].family) ||
            (match == MATCH_PANEL && !same_panel(&r->pts[j], &r->pts[i])))
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
    p->s.no_call_reason[RW_TREND_REASON_MAX - 1] = '\0';
    p->baseline = p->baseline_limit = p->nadir = p->nadir_limit = p->cusum = NAN;
    p->personal_ref = p->personal_sd = p->z_personal = NAN;
    if (s->no_call || s->retracted) {
        p->skipped = 1;
        p->s.positive = p->s.strong = 0;
        return;
    }
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
}

/* Variance of ln R of one draw: from its CV (RCV rules), or for personal_baseline its own SE
 * and the between-draw SD when both are known (trend.h). */
typedef double (*variance_fn)(const rw_trend_config *cfg, const rw_trend_point *p);

static double cv_variance(const rw_trend_config *cfg, const rw_trend_point *p)
{
    (void)cfg;
    double s = sigma_of(p->s.cv);
    return s * s;
}

static double personal_variance(const rw_trend_config *cfg, const rw_trend_point *p)
{
    double se = p->s.se_log2, tau = cfg->personal_between_sd;
    if (!(se > 0 && isfinite(se)))
        return cv_variance(cfg, p);
    return (se * se + tau * tau) * M_LN2 * M_LN2;
}

/* Geometric mean of the k draws idx and the mean of their variances of ln R. */
static void reference_of(const replay *r, const long *idx, int k, variance_fn var, double *mean,
                         double *mv)
{
    double sl = 0, sv = 0;
    for (int b = 0; b < k; b++) {
        const rw_trend_point *p = &r->pts[idx[b]];
        sl += log(p->s.ratio);
        sv += var(r->cfg, p);
    }
    *mean = exp(sl / k);
    *mv = sv / k;
}

/* Geometric mean and pooled log sigma of the first k baseline draws of a family. */
static void baseline_of(const replay *r, int fam, int k, double *mean, double *sigma)
{
    double mv;
    reference_of(r, r->base[fam], k, cv_variance, mean, &mv);
    *sigma = sqrt(mv);
}

/* The personal baseline of draw i: the draws of its epoch, assay and panel that joined it
 * before i (at most baseline_draws, oldest first) in idx; returns their number. */
static int personal_base(const replay *r, size_t i, long *idx)
{
    int n = 0;
    for (size_t j = 0; j < i && n < r->cfg->baseline_draws; j++)
        if (r->ctx[j].pjoin && r->pts[j].epoch == r->pts[i].epoch &&
            same_panel(&r->pts[j], &r->pts[i]))
            idx[n++] = (long)j;
    return n;
}

/* The R at which a draw's z_personal reaches z. */
static double personal_limit(const rw_trend_point *p, double z)
{
    return p->personal_ref * exp(z * p->personal_sd);
}

/* z of a draw for the CUSUM: its PoN z-score, or ln R / sigma_A when it has none (ddPCR). */
static double cusum_z(const rw_trend_point *p)
{
    if (isfinite(p->s.z))
        return p->s.z;
    double s = sigma_of(p->s.cv);
    return s > 0 ? log(p->s.ratio) / s : 0.0;
}

/* ---------------------------------------------------------------- the rules */

/* Each test looks at draw i once its kind's context (baseline, nadir) is set, and adds its
 * evidence to the builder when met; RW_ERR_NOMEM when out of memory. */

/* The evidence of a rule met by draw i against an earlier draw j (cited as role_j). */
static rw_status ev_pair(replay *r, rw_trend_rule rule, long j, rw_trend_role role_j, size_t i)
{
    rw_trend_evidence *ev = ev_start(r, rule, NAN, 2);
    if (!ev)
        return RW_ERR_NOMEM;
    ev_add(ev, &r->pts[j], role_j, NAN, NAN, NAN);
    ev_add(ev, &r->pts[i], RW_ROLE_TRIGGER, NAN, NAN, NAN);
    return RW_OK;
}

static rw_status test_strong_positive(replay *r, size_t i)
{
    const rw_trend_point *p = &r->pts[i];
    if (!p->s.strong)
        return RW_OK;
    rw_trend_evidence *ev = ev_start(r, RW_RULE_STRONG_POSITIVE, NAN, 1);
    if (!ev)
        return RW_ERR_NOMEM;
    ev_add(ev, p, RW_ROLE_TRIGGER, NAN, NAN, NAN);
    return RW_OK;
}

static rw_status test_two_consecutive_positive(replay *r, size_t i)
{
    const rw_trend_point *p = &r->pts[i];
    long j = prev_draw(r, i, MATCH_ANY, 0);
    if (!(p->s.positive && j >= 0 && r->pts[j].s.positive))
        return RW_OK;
    return ev_pair(r, RW_RULE_TWO_CONSECUTIVE_POSITIVE, j, RW_ROLE_TRIGGER, i);
}

static rw_status test_rise_over_baseline(replay *r, size_t i)
{
    const rw_trend_point *p = &r->pts[i];
    const draw_ctx *x = &r->ctx[i];
    long j = prev_draw(r, i, MATCH_FAMILY, 0);
    if (!(x->rise && j >= 0 && r->ctx[j].rise))
        return RW_OK;
    rw_trend_evidence *ev =
        ev_start(r, RW_RULE_RISE_OVER_BASELINE, p->baseline, (size_t)x->nbase + 2);
    if (!ev)
        return RW_ERR_NOMEM;
    for (int b = 0; b < x->nbase; b++)
        ev_add(ev, &r->pts[r->base[x->family][b]], RW_ROLE_BASELINE, NAN, NAN, NAN);
    ev_add(ev, &r->pts[j], RW_ROLE_TRIGGER, r->ctx[j].rcv_b, r->pts[j].baseline_limit, NAN);
    ev_add(ev, p, RW_ROLE_TRIGGER, x->rcv_b, p->baseline_limit, NAN);
    return RW_OK;
}

/* Also keeps the epoch's CUSUM: S and the draws of its current run. */
static rw_status test_cusum(replay *r, size_t i)
{
    rw_trend_point *p = &r->pts[i];
    r->cusum = fmax(0.0, r->cusum + cusum_z(p) - r->cfg->cusum_k);
    p->cusum = r->cusum;
    if (r->cusum > 0)
        r->run[r->nrun++] = (long)i;
    else
        r->nrun = 0;
    if (!(r->cusum > r->cfg->cusum_h))
        return RW_OK;
    rw_trend_evidence *ev = ev_start(r, RW_RULE_CUSUM, NAN, r->nrun);
    if (!ev)
        return RW_ERR_NOMEM;
    for (size_t k = 0; k < r->nrun; k++)
        ev_add(ev, &r->pts[r->run[k]], RW_ROLE_TRIGGER, NAN, NAN, r->pts[r->run[k]].cusum);
    r->cusum = 0; /* the usual restart after an alarm */
    r->nrun = 0;
    return RW_OK;
}

/* Against her own baseline: one draw at personal_z_single, or two at personal_z. */
static rw_status test_personal_baseline(replay *r, size_t i)
{
    const rw_trend_config *cfg = r->cfg;
    const rw_trend_point *p = &r->pts[i];
    if (!r->ctx[i].ppos)
        return RW_OK;
    int single = p->z_personal >= cfg->personal_z_single;
    long j = single ? -1 : prev_draw(r, i, MATCH_PANEL, 0);
    if (!single && !(j >= 0 && r->ctx[j].ppos))
        return RW_OK;
    long idx[RW_TREND_BASELINE_MAX];
    int n = personal_base(r, i, idx);
    rw_trend_evidence *ev = ev_start(r, RW_RULE_PERSONAL_BASELINE, p->personal_ref, (size_t)n + 2);
    if (!ev)
        return RW_ERR_NOMEM;
    for (int b = 0; b < n; b++)
        ev_add(ev, &r->pts[idx[b]], RW_ROLE_BASELINE, NAN, NAN, NAN);
    if (j >= 0)
        ev_add(ev, &r->pts[j], RW_ROLE_TRIGGER, NAN, personal_limit(&r->pts[j], cfg->personal_z),
               NAN);
    ev_add(ev, p, RW_ROLE_TRIGGER, NAN,
           personal_limit(p, single ? cfg->personal_z_single : cfg->personal_z), NAN);
    return RW_OK;
}

static rw_status test_rise_from_nadir(replay *r, size_t i)
{
    const rw_trend_point *p = &r->pts[i];
    const draw_ctx *x = &r->ctx[i];
    long j = prev_draw(r, i, MATCH_FAMILY, 1);
    if (!(x->above && j >= 0 && r->ctx[j].above))
        return RW_OK;
    rw_trend_evidence *ev = ev_start(r, RW_RULE_RISE_FROM_NADIR, p->nadir, 4);
    if (!ev)
        return RW_ERR_NOMEM;
    if (r->ctx[j].nadir_idx != x->nadir_idx)
        ev_add(ev, &r->pts[r->ctx[j].nadir_idx], RW_ROLE_NADIR, NAN, NAN, NAN);
    ev_add(ev, &r->pts[x->nadir_idx], RW_ROLE_NADIR, NAN, NAN, NAN);
    ev_add(ev, &r->pts[j], RW_ROLE_TRIGGER, r->ctx[j].rcv_n, r->pts[j].nadir_limit, NAN);
    ev_add(ev, p, RW_ROLE_TRIGGER, x->rcv_n, p->nadir_limit, NAN);
    return RW_OK;
}

static rw_status test_positive_after_negative(replay *r, size_t i)
{
    const rw_trend_point *p = &r->pts[i];
    long j = prev_draw(r, i, MATCH_ANY, 1);
    if (!(p->s.positive && j >= 0 && !r->pts[j].s.positive))
        return RW_OK;
    return ev_pair(r, RW_RULE_POSITIVE_AFTER_NEGATIVE, j, RW_ROLE_PREVIOUS, i);
}

static rw_status test_fall_below_pretreatment(replay *r, size_t i)
{
    const rw_trend_config *cfg = r->cfg;
    const rw_trend_point *p = &r->pts[i];
    long q = r->pre[r->ctx[i].family];
    if (!(q >= 0 && r->pts[q].epoch == p->epoch &&
          (!cfg->responding_requires_positive || r->pts[q].s.positive)))
        return RW_OK;
    const double si = sigma_of(cfg->cv_i), sp = sigma_of(p->s.cv);
    double rcv = expm1(-cfg->rcv_z * comparison_sd(sigma_of(r->pts[q].s.cv), sp, si));
    double limit = r->pts[q].s.ratio * (1.0 + rcv);
    if (!(p->s.ratio < limit))
        return RW_OK;
    rw_trend_evidence *ev = ev_start(r, RW_RULE_FALL_BELOW_PRETREATMENT, r->pts[q].s.ratio, 2);
    if (!ev)
        return RW_ERR_NOMEM;
    ev_add(ev, &r->pts[q], RW_ROLE_PRETREATMENT, NAN, NAN, NAN);
    ev_add(ev, p, RW_ROLE_TRIGGER, rcv, limit, NAN);
    return RW_OK;
}

#define RULE(id, kind, name, test)                                                                 \
    {                                                                                              \
        id, kind, #name, offsetof(rw_trend_config, rule_##name), test                              \
    }
/* In rw_trend_rule order: an alert's evidence lists its rules in this order. */
static const rw_trend_rule_def rule_table[RW_RULE_NRULES] = {
    RULE(RW_RULE_STRONG_POSITIVE, RW_ALERT_EARLY_RELAPSE, strong_positive, test_strong_positive),
    RULE(RW_RULE_TWO_CONSECUTIVE_POSITIVE, RW_ALERT_EARLY_RELAPSE, two_consecutive_positive,
         test_two_consecutive_positive),
    RULE(RW_RULE_RISE_OVER_BASELINE, RW_ALERT_EARLY_RELAPSE, rise_over_baseline,
         test_rise_over_baseline),
    RULE(RW_RULE_CUSUM, RW_ALERT_EARLY_RELAPSE, cusum, test_cusum),
    RULE(RW_RULE_RISE_FROM_NADIR, RW_ALERT_EMERGING_CHEMORESISTANCE, rise_from_nadir,
         test_rise_from_nadir),
    RULE(RW_RULE_POSITIVE_AFTER_NEGATIVE, RW_ALERT_EMERGING_CHEMORESISTANCE,
         positive_after_negative, test_positive_after_negative),
    RULE(RW_RULE_FALL_BELOW_PRETREATMENT, RW_ALERT_RESPONDING, fall_below_pretreatment,
         test_fall_below_pretreatment),
    RULE(RW_RULE_PERSONAL_BASELINE, RW_ALERT_EARLY_RELAPSE, personal_baseline,
         test_personal_baseline),
};
#undef RULE

const rw_trend_rule_def *rw_trend_rules(size_t *n)
{
    if (n)
        *n = RW_RULE_NRULES;
    return rule_table;
}

static int rule_known(rw_trend_rule r)
{
    return (int)r >= 0 && (int)r < RW_RULE_NRULES;
}

const char *rw_trend_rule_name(rw_trend_rule r)
{
    return rule_known(r) ? rule_table[r].name : "invalid";
}

int rw_trend_rule_parse(const char *s, rw_trend_rule *out)
{
    for (int k = 0; s && k < RW_RULE_NRULES; k++)
        if (strcmp(s, rule_table[k].name) == 0) {
            *out = rule_table[k].id;
            return 0;
        }
    return -1;
}

int *rw_trend_rule_switch(rw_trend_config *cfg, rw_trend_rule r)
{
    return rule_known(r) ? (int *)(void *)((char *)cfg + rule_table[r].on) : NULL;
}

int rw_trend_rule_on(const rw_trend_config *cfg, rw_trend_rule r)
{
    return rule_known(r) && *(const int *)(const void *)((const char *)cfg + rule_table[r].on);
}

/* Runs the switched-on rules of one alert kind at draw i, in table order. */
static rw_status run_rules(replay *r, rw_trend_alert_kind kind, size_t i)
{
    for (int k = 0; k < RW_RULE_NRULES; k++) {
        const rw_trend_rule_def *d = &rule_table[k];
        if (d->kind != kind || !rw_trend_rule_on(r->cfg, d->id))
            continue;
        rw_status st = d->test(r, i);
        if (st != RW_OK)
            return st;
    }
    return RW_OK;
}

/* ---------------------------------------------------------------- the replay */

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
static rw_status latch_step(replay *r, rw_trend_alert_kind kind, size_t i, int clear)
{
    latch *l = &r->latch[kind];
    if (l->open) {
        ev_builder_free(&r->eb); /* a rule met while open is the same episode: no new alert */
        l->clear_run = clear ? l->clear_run + 1 : 0;
        if (l->clear_run >= r->cfg->rearm_clear_draws)
            latch_close(r, l, RW_CLOSE_CLEAR_DRAWS, i);
        return RW_OK;
    }
    if (!r->eb.n)
        return RW_OK;
    rw_status st = push_alert(r, kind, i, &l->alert);
    if (st != RW_OK)
        return st;
    l->open = 1;
    l->clear_run = 0;
    l->draw = i;
    return RW_OK;
}

/* Regime changes re-arm the alerts they bound. */
static void regime_step(replay *r, size_t i)
{
    const rw_trend_point *p = &r->pts[i];
    const draw_ctx *x = &r->ctx[i];
    if (p->epoch != r->cur_epoch) {
        r->nbase[0] = r->nbase[1] = 0;
        r->cusum = 0;
        r->nrun = 0;
        latch_close(r, &r->latch[RW_ALERT_EARLY_RELAPSE], RW_CLOSE_NEW_SURGERY, i);
        r->cur_epoch = p->epoch;
    }
    if (x->chemo >= 0 && x->chemo != r->cur_chemo) {
        r->nadir[0] = r->nadir[1] = -1;
        latch_close(r, &r->latch[RW_ALERT_EMERGING_CHEMORESISTANCE], RW_CLOSE_NEW_COURSE, i);
        r->cur_chemo = x->chemo;
    }
    if (x->treat != r->cur_treat) {
        latch_close(r, &r->latch[RW_ALERT_RESPONDING],
                    x->treat >= 0 ? RW_CLOSE_NEW_COURSE : RW_CLOSE_COURSE_END, i);
        if (x->treat >= 0) {
            r->pre[0] = r->last[0];
            r->pre[1] = r->last[1];
        }
        r->cur_treat = x->treat;
    }
}

/* early_relapse context: the draw against its family's baseline of the epoch; a negative draw
 * that does not rise joins the baseline while it has fewer than baseline_draws. */
static void baseline_step(replay *r, size_t i)
{
    const rw_trend_config *cfg = r->cfg;
    rw_trend_point *p = &r->pts[i];
    draw_ctx *x = &r->ctx[i];
    const int f = x->family;
    int nb = r->nbase[f];
    if (nb > 0) {
        double bmean, bsig;
        baseline_of(r, f, nb, &bmean, &bsig);
        x->nbase = nb;
        x->rcv_b = expm1(cfg->rcv_z * comparison_sd(bsig, sigma_of(p->s.cv), sigma_of(cfg->cv_i)));
        p->baseline = bmean;
        p->baseline_limit = bmean * (1.0 + x->rcv_b);
        x->rise = p->s.ratio > p->baseline_limit;
    }
    if (!x->rise && !p->s.positive && nb < cfg->baseline_draws)
        r->base[f][r->nbase[f]++] = (long)i;
}

/* early_relapse context of personal_baseline: z_personal of draw i against the personal
 * baseline of its assay and panel (trend.h); a negative draw below personal_z joins that
 * baseline while it has fewer than baseline_draws. */
static void personal_step(replay *r, size_t i)
{
    const rw_trend_config *cfg = r->cfg;
    rw_trend_point *p = &r->pts[i];
    draw_ctx *x = &r->ctx[i];
    long idx[RW_TREND_BASELINE_MAX];
    int n = personal_base(r, i, idx);
    if (n > 0) {
        double ref, mv;
        reference_of(r, idx, n, personal_variance, &ref, &mv);
        p->personal_n = n;
        p->personal_ref = ref;
        p->personal_sd = sqrt(personal_variance(cfg, p) + mv / n);
        double d = log(p->s.ratio / ref);
        p->z_personal = d == 0 ? 0.0 : d / p->personal_sd; /* +-inf when both CVs are 0 */
        x->ppos = p->z_personal >= cfg->personal_z;
    }
    if (!x->ppos && !p->s.positive && n < cfg->baseline_draws)
        x->pjoin = 1;
}

/* emerging_chemoresistance context: the draw against the course's nadir of its family (the
 * lowest earlier draw); a lower draw becomes the nadir. */
static void nadir_step(replay *r, size_t i)
{
    const rw_trend_config *cfg = r->cfg;
    rw_trend_point *p = &r->pts[i];
    draw_ctx *x = &r->ctx[i];
    const int f = x->family;
    long nd = r->nadir[f];
    if (nd >= 0) {
        const double si = sigma_of(cfg->cv_i), sp = sigma_of(p->s.cv);
        x->nadir_idx = nd;
        x->rcv_n = expm1(cfg->rcv_z * comparison_sd(sigma_of(r->pts[nd].s.cv), sp, si));
        p->nadir = r->pts[nd].s.ratio;
        p->nadir_limit = p->nadir * (1.0 + x->rcv_n);
        x->above = p->s.ratio > p->nadir_limit;
    }
    if (nd < 0 || p->s.ratio < r->pts[nd].s.ratio)
        r->nadir[f] = (long)i;
}

/* One step per alert kind: where its rules apply, set the context and run them; then the
 * latch fires on their evidence or counts a clear draw. */
static rw_status step_early_relapse(replay *r, size_t i)
{
    const rw_trend_point *p = &r->pts[i];
    if (!p->on_chemo && !p->preoperative) {
        baseline_step(r, i);
        personal_step(r, i);
        rw_status st = run_rules(r, RW_ALERT_EARLY_RELAPSE, i);
        if (st != RW_OK)
            return st;
    }
    if (!p->preoperative || r->latch[RW_ALERT_EARLY_RELAPSE].open)
        return latch_step(
            r, RW_ALERT_EARLY_RELAPSE, i,
            !p->s.positive && !r->ctx[i].rise &&
                !(r->ctx[i].ppos && rw_trend_rule_on(r->cfg, RW_RULE_PERSONAL_BASELINE)));
    return RW_OK;
}

static rw_status step_emerging_chemoresistance(replay *r, size_t i)
{
    const rw_trend_point *p = &r->pts[i];
    if (p->on_chemo) {
        nadir_step(r, i);
        rw_status st = run_rules(r, RW_ALERT_EMERGING_CHEMORESISTANCE, i);
        if (st != RW_OK)
            return st;
    }
    if (p->on_chemo || r->latch[RW_ALERT_EMERGING_CHEMORESISTANCE].open)
        return latch_step(r, RW_ALERT_EMERGING_CHEMORESISTANCE, i,
                          !p->s.positive && !r->ctx[i].above);
    return RW_OK;
}

/* responding stays open until its course ends (no clear-draw re-arming). */
static rw_status step_responding(replay *r, size_t i)
{
    if (!r->pts[i].on_treatment || r->latch[RW_ALERT_RESPONDING].open)
        return RW_OK;
    rw_status st = run_rules(r, RW_ALERT_RESPONDING, i);
    if (st != RW_OK)
        return st;
    return latch_step(r, RW_ALERT_RESPONDING, i, 0);
}

/* Duplicate ids would make the evidence ambiguous. */
static rw_status check_unique_ids(const rw_trend_input *in, rw_error *err)
{
    size_t n = in->nsamples;
    if (n < 2)
        return RW_OK;
    int64_t *ids = malloc(n * sizeof *ids);
    if (!ids)
        return rw_error_set(err, RW_ERR_NOMEM, "out of memory in the trend engine");
    for (size_t i = 0; i < n; i++)
        ids[i] = in->samples[i].sample_id;
    qsort(ids, n, sizeof *ids, cmp_i64);
    rw_status st = RW_OK;
    for (size_t i = 1; i < n && st == RW_OK; i++)
        if (ids[i] == ids[i - 1])
            st = rw_error_set(err, RW_ERR_INPUT, "sample id %lld appears twice", (long long)ids[i]);
    free(ids);
    return st;
}

static void replay_free(replay *r)
{
    ev_builder_free(&r->eb);
    free(r->chemo);
    free(r->treat);
    free(r->run);
    free(r->ctx);
}

/* Sorts the draws (calls and CVs resolved) and places each in its epoch and courses. The
 * result r->res is new; only RW_ERR_NOMEM can fail. */
static rw_status replay_init(replay *r, const rw_trend_input *in, const rw_trend_config *cfg)
{
    memset(r, 0, sizeof *r);
    r->cfg = cfg;
    r->n = in->nsamples;
    r->cur_epoch = -1;
    r->cur_chemo = r->cur_treat = -1;
    for (int f = 0; f < 2; f++)
        r->nadir[f] = r->last[f] = r->pre[f] = -1;
    r->res = calloc(1, sizeof *r->res);
    if (!r->res)
        return RW_ERR_NOMEM;
    r->res->primary = in->primary;
    r->res->lead_sample_id = -1;
    if (r->n) {
        r->pts = calloc(r->n, sizeof *r->pts);
        r->res->points = r->pts; /* owned by the result from here on */
        r->ctx = calloc(r->n, sizeof *r->ctx);
        r->run = malloc(r->n * sizeof *r->run);
        if (!r->pts || !r->ctx || !r->run)
            return RW_ERR_NOMEM;
    }
    r->res->npoints = r->n;
    for (size_t i = 0; i < r->n; i++)
        resolve_point(&in->samples[i], cfg, &r->pts[i]);
    if (r->n) /* qsort's pointer must not be NULL, even for zero elements */
        qsort(r->pts, r->n, sizeof *r->pts, cmp_point);
    if (build_courses(in, RW_TREAT_BIT(RW_TREAT_CHEMOTHERAPY), &r->chemo, &r->nchemo) != RW_OK ||
        build_courses(in, cfg->responding_kinds, &r->treat, &r->ntreat) != RW_OK)
        return RW_ERR_NOMEM;

    size_t nsurg = 0;
    for (size_t t = 0; t < in->ntreatments; t++)
        nsurg += in->treatments[t].kind == RW_TREAT_SURGERY;
    for (size_t i = 0; i < r->n; i++) {
        rw_trend_point *p = &r->pts[i];
        for (size_t t = 0; t < in->ntreatments; t++)
            p->epoch +=
                in->treatments[t].kind == RW_TREAT_SURGERY && in->treatments[t].start < p->s.day;
        p->preoperative = nsurg > 0 && p->epoch == 0;
        r->ctx[i].family = p->s.assay == RW_TREND_DDPCR;
        r->ctx[i].chemo = course_of(r->chemo, r->nchemo, p->s.day);
        r->ctx[i].treat = course_of(r->treat, r->ntreat, p->s.day);
        r->ctx[i].nadir_idx = -1;
        p->on_chemo = r->ctx[i].chemo >= 0;
        p->on_treatment = r->ctx[i].treat >= 0;
    }
    return RW_OK;
}

/* The replay proper: each draw in order, as if it had just arrived. */
static rw_status replay_run(replay *r)
{
    static rw_status (*const step[RW_ALERT_NKINDS])(replay *, size_t) = {
        step_early_relapse, step_emerging_chemoresistance, step_responding};
    for (size_t i = 0; i < r->n; i++) {
        if (r->pts[i].skipped)
            continue; /* a no-call: seen in the output, nowhere else */
        regime_step(r, i);
        for (int k = 0; k < RW_ALERT_NKINDS; k++) {
            rw_status st = step[k](r, i);
            if (st != RW_OK)
                return st;
        }
        r->last[r->ctx[i].family] = (long)i;
    }
    return RW_OK;
}

/* State: the most recently fired open alert; ties on one draw by kind precedence. */
static rw_trend_state final_state(const replay *r)
{
    static const rw_trend_state of_kind[] = {
        RW_STATE_EARLY_RELAPSE, RW_STATE_EMERGING_CHEMORESISTANCE, RW_STATE_RESPONDING};
    static const int rank[] = {1, 2, 0}; /* chemoresistance > relapse > responding */
    const latch *ls = r->latch;
    int best = -1;
    for (int k = 0; k < RW_ALERT_NKINDS; k++) {
        if (!ls[k].open)
            continue;
        if (best < 0 || ls[k].draw > ls[best].draw ||
            (ls[k].draw == ls[best].draw && rank[k] > rank[best]))
            best = k;
    }
    if (best >= 0)
        return of_kind[best];
    for (size_t i = r->n; i-- > 0;) /* the last draw that is not a no-call */
        if (!r->pts[i].skipped)
            return r->pts[i].s.positive ? RW_STATE_STABLE : RW_STATE_NOT_DETECTED;
    return RW_STATE_NOT_DETECTED;
}

/* Lead time: first clinical relapse vs first early_relapse alert. */
static void lead_time(rw_trend_result *res, const rw_trend_input *in)
{
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
}

rw_status rw_trend_run(const rw_trend_input *in, const rw_trend_config *cfg, rw_trend_result **out,
                       rw_error *err)
{
    rw_trend_config defaults;
    rw_status st;
    *out = NULL;
    if (!in)
        return rw_error_set(err, RW_ERR_USAGE, "trend: no input");
    if (!cfg) {
        rw_trend_config_init(&defaults);
        cfg = &defaults;
    }
    if ((st = rw_trend_config_check(cfg, err)) != RW_OK || (st = check_input(in, err)) != RW_OK ||
        (st = check_unique_ids(in, err)) != RW_OK)
        return st;
    replay r;
    if ((st = replay_init(&r, in, cfg)) != RW_OK || (st = replay_run(&r)) != RW_OK) {
        replay_free(&r);
        rw_trend_result_free(r.res);
        return rw_error_set(err, st, "out of memory in the trend engine");
    }
    r.res->state = final_state(&r);
    lead_time(r.res, in);
    replay_free(&r);
    *out = r.res;
    return RW_OK;
}
