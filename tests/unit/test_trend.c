/* Unit tests of the longitudinal engine: each rule on hand-made series with known answers, the
 * edge cases (empty, one draw, equal dates, missing CV, overlapping and open treatments, draws on
 * the first and last day of chemotherapy), lead time, and a seeded simulation measuring the
 * false-alert rate on stable negatives and the lead on relapsing patients.
 *
 * Simulation (seed 20240601; 2000 patients per arm; a draw every 90 days after surgery; sWGS
 * noise CV_A 3%, within-person CV_I 5%, a between-patient offset of 3% the PoN does not know;
 * calls derived by the engine at z >= 3 / 5; relapsing arm: tumour fraction 0.5% at onset
 * (draw 1..4), doubling every draw, C = 6, clinical relapse at f >= 32%). Measured and printed
 * by this test:
 *   default rules:   false-alert rate 2.80% of stable patients over 8 draws (all 56 from
 *                    rise_over_baseline); relapses caught 100%, median lead 1 draw (~3 months)
 *   + CUSUM k=0.5 h=4: false-alert rate 8.05%, no gain in lead (still 1 draw): why the CUSUM
 *                    rule is off by default. */
#include "core/date.h"
#include "core/trend.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/harness.h"

/* ---------------------------------------------------------------- helpers */

#define MAXS 64

typedef struct series {
    rw_trend_sample s[MAXS];
    size_t ns;
    rw_trend_treatment t[8];
    size_t nt;
    rw_trend_event e[4];
    size_t ne;
} series;

/* An sWGS draw with CV 2% and explicit calls. */
static void add(series *x, int64_t id, int32_t day, double ratio, int pos, int strong)
{
    rw_trend_sample *s = &x->s[x->ns++];
    s->sample_id = id;
    s->day = day;
    s->assay = RW_TREND_SWGS;
    s->ratio = ratio;
    s->cv = 0.02;
    s->z = pos ? (strong ? 6.0 : 3.5) : 0.5;
    s->positive = pos;
    s->strong = strong;
}

static void treat(series *x, rw_trend_treatment_kind k, int32_t start, int32_t end)
{
    x->t[x->nt++] = (rw_trend_treatment){k, start, end};
}

static rw_trend_result *run(const series *x, const rw_trend_config *cfg)
{
    rw_trend_input in = {x->s, x->ns, x->t, x->nt, x->e, x->ne, RW_PRIMARY_UNKNOWN};
    rw_trend_result *r = NULL;
    rw_error err = {0};
    rw_status st = rw_trend_run(&in, cfg, &r, &err);
    if (st != RW_OK)
        fprintf(stderr, "rw_trend_run: %s\n", err.msg);
    return r;
}

static size_t count_kind(const rw_trend_result *r, rw_trend_alert_kind k)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nalerts; i++)
        n += r->alerts[i].kind == k;
    return n;
}

static const rw_trend_alert *first_kind(const rw_trend_result *r, rw_trend_alert_kind k)
{
    for (size_t i = 0; i < r->nalerts; i++)
        if (r->alerts[i].kind == k)
            return &r->alerts[i];
    return NULL;
}

static const rw_trend_evidence *find_rule(const rw_trend_alert *a, rw_trend_rule rule)
{
    for (size_t i = 0; a && i < a->nevidence; i++)
        if (a->evidence[i].rule == rule)
            return &a->evidence[i];
    return NULL;
}

/* ---------------------------------------------------------------- rules */

static void test_rcv_and_dates(void)
{
    /* Equal CVs reduce to Fraser's log-normal form exp(Z sqrt2 sqrt(sA^2 + sI^2)) - 1. */
    double sa = sqrt(log(1 + 0.03 * 0.03)), si = sqrt(log(1 + 0.05 * 0.05));
    CHECK_NEAR(rw_trend_rcv_up(0.03, 0.03, 0.05, 1.65),
               exp(1.65 * sqrt(2.0) * sqrt(sa * sa + si * si)) - 1, 1e-12);
    CHECK_NEAR(rw_trend_rcv_down(0.03, 0.03, 0.05, 1.65),
               exp(-1.65 * sqrt(2.0) * sqrt(sa * sa + si * si)) - 1, 1e-12);
    /* CV from SE of log2: small SE -> CV ~ se ln2. */
    CHECK_NEAR(rw_trend_cv_from_se_log2(0.01), 0.01 * log(2.0), 1e-6);
    int32_t d = -1;
    CHECK(rw_date_parse("1970-01-01", &d) == 0 && d == 0);
    CHECK(rw_date_parse("2000-03-01", &d) == 0 && d == 11017);
    CHECK(rw_date_parse("2000-02-29", &d) == 0 && d == 11016);
    CHECK(rw_date_parse("2001-02-29", &d) == -1);
    CHECK(rw_date_parse("2021-13-01", &d) == -1);
    CHECK(rw_date_parse("2021-1-01", &d) == -1);
    char buf[11];
    rw_date_format(11016, buf);
    CHECK(strcmp(buf, "2000-02-29") == 0);
    rw_date_format(-1, buf);
    CHECK(strcmp(buf, "1969-12-31") == 0);
    rw_trend_assay a;
    CHECK(rw_trend_assay_parse("ddpcr", &a) == 0 && a == RW_TREND_DDPCR);
    CHECK(rw_trend_assay_parse("DDPCR", &a) == -1);
}

/* The rule table: in id order, the documented names, each row's switch is its config field,
 * and each rule raises the alert kind of its section in core/trend.h. */
static void test_rule_table(void)
{
    static const char *const names[RW_RULE_NRULES] = {
        "strong_positive",         "two_consecutive_positive",
        "rise_over_baseline",      "cusum",
        "rise_from_nadir",         "positive_after_negative",
        "fall_below_pretreatment", "personal_baseline"};
    static const rw_trend_alert_kind kinds[RW_RULE_NRULES] = {RW_ALERT_EARLY_RELAPSE,
                                                              RW_ALERT_EARLY_RELAPSE,
                                                              RW_ALERT_EARLY_RELAPSE,
                                                              RW_ALERT_EARLY_RELAPSE,
                                                              RW_ALERT_EMERGING_CHEMORESISTANCE,
                                                              RW_ALERT_EMERGING_CHEMORESISTANCE,
                                                              RW_ALERT_RESPONDING,
                                                              RW_ALERT_EARLY_RELAPSE};
    rw_trend_config c;
    rw_trend_config_init(&c);
    int *fields[RW_RULE_NRULES] = {
        &c.rule_strong_positive,         &c.rule_two_consecutive_positive,
        &c.rule_rise_over_baseline,      &c.rule_cusum,
        &c.rule_rise_from_nadir,         &c.rule_positive_after_negative,
        &c.rule_fall_below_pretreatment, &c.rule_personal_baseline};
    size_t n = 0;
    const rw_trend_rule_def *t = rw_trend_rules(&n);
    CHECK(t && n == RW_RULE_NRULES);
    for (size_t k = 0; t && k < n && k < RW_RULE_NRULES; k++) {
        CHECK(t[k].id == (rw_trend_rule)k);
        CHECK(t[k].kind == kinds[k]);
        CHECK(strcmp(t[k].name, names[k]) == 0);
        CHECK(strcmp(rw_trend_rule_name(t[k].id), names[k]) == 0);
        CHECK(t[k].test != NULL);
        CHECK(rw_trend_rule_switch(&c, t[k].id) == fields[k]);
        CHECK(rw_trend_rule_on(&c, t[k].id) ==
              (k != RW_RULE_CUSUM && k != RW_RULE_PERSONAL_BASELINE));
        rw_trend_rule r = RW_RULE_NRULES;
        CHECK(rw_trend_rule_parse(names[k], &r) == 0 && r == t[k].id);
    }
    c.rule_rise_from_nadir = 0;
    CHECK(!rw_trend_rule_on(&c, RW_RULE_RISE_FROM_NADIR));
    rw_trend_rule r = RW_RULE_CUSUM;
    CHECK(rw_trend_rule_parse("Cusum", &r) == -1 && r == RW_RULE_CUSUM);
    CHECK(rw_trend_rule_parse(NULL, &r) == -1);
    CHECK(strcmp(rw_trend_rule_name((rw_trend_rule)RW_RULE_NRULES), "invalid") == 0);
    CHECK(rw_trend_rule_switch(&c, (rw_trend_rule)RW_RULE_NRULES) == NULL);
    CHECK(!rw_trend_rule_on(&c, (rw_trend_rule)-1));
}

static void test_empty_and_one(void)
{
    series x = {.ns = 0};
    rw_trend_result *r = run(&x, NULL);
    CHECK(r && r->npoints == 0 && r->nalerts == 0 && r->state == RW_STATE_NOT_DETECTED);
    CHECK(r && !r->has_lead_time);
    rw_trend_result_free(r);

    add(&x, 1, 100, 1.0, 0, 0);
    r = run(&x, NULL);
    CHECK(r && r->nalerts == 0 && r->state == RW_STATE_NOT_DETECTED);
    rw_trend_result_free(r);

    /* One positive: unconfirmed, so stable (detectable, no rule met). */
    x.s[0].positive = 1;
    r = run(&x, NULL);
    CHECK(r && r->nalerts == 0 && r->state == RW_STATE_STABLE);
    rw_trend_result_free(r);

    /* One strong positive is enough on its own. */
    x.s[0].strong = 1;
    r = run(&x, NULL);
    CHECK(r && r->nalerts == 1 && r->state == RW_STATE_EARLY_RELAPSE);
    CHECK(r && find_rule(first_kind(r, RW_ALERT_EARLY_RELAPSE), RW_RULE_STRONG_POSITIVE));
    rw_trend_result_free(r);
}

static void test_two_consecutive_positive(void)
{
    series x = {.ns = 0};
    treat(&x, RW_TREAT_SURGERY, 0, 0);
    add(&x, 1, 30, 1.00, 0, 0);
    add(&x, 2, 120, 1.01, 0, 0);
    add(&x, 3, 210, 0.99, 0, 0);
    add(&x, 4, 300, 1.20, 1, 0);
    add(&x, 5, 390, 1.25, 1, 0);
    add(&x, 6, 480, 1.30, 1, 0);
    x.e[x.ne++] = (rw_trend_event){RW_EVENT_CLINICAL_RELAPSE, 630};
    rw_trend_result *r = run(&x, NULL);
    CHECK(r && r->state == RW_STATE_EARLY_RELAPSE);
    /* fires at the second positive (id 5), never at id 4, and not again at id 6 */
    CHECK(r && count_kind(r, RW_ALERT_EARLY_RELAPSE) == 1);
    const rw_trend_alert *a = r ? first_kind(r, RW_ALERT_EARLY_RELAPSE) : NULL;
    CHECK(a && a->sample_id == 5 && a->day == 390 && a->closed_by == RW_CLOSE_NONE);
    const rw_trend_evidence *ev = find_rule(a, RW_RULE_TWO_CONSECUTIVE_POSITIVE);
    CHECK(ev && ev->ndraws == 2 && ev->draws[0].p.s.sample_id == 4 &&
          ev->draws[1].p.s.sample_id == 5);
    CHECK(ev && ev->z_positive == 3.0 && ev->rcv_z == 1.65);
    /* lead time: relapse day 630 - alert day 390 */
    CHECK(r && r->has_lead_time && r->lead_time_days == 240 && r->lead_sample_id == 5);
    rw_trend_result_free(r);

    /* Without a clinical relapse there is no lead time. */
    x.ne = 0;
    r = run(&x, NULL);
    CHECK(r && !r->has_lead_time && r->lead_sample_id == 5);
    rw_trend_result_free(r);
}

static void test_isolated_positive(void)
{
    series x = {.ns = 0};
    treat(&x, RW_TREAT_SURGERY, 0, 0);
    add(&x, 1, 30, 1.00, 0, 0);
    add(&x, 2, 120, 1.01, 0, 0);
    add(&x, 3, 210, 1.10, 1, 0);
    add(&x, 4, 300, 1.00, 0, 0);
    add(&x, 5, 390, 0.99, 0, 0);
    rw_trend_result *r = run(&x, NULL);
    CHECK(r && r->nalerts == 0 && r->state == RW_STATE_NOT_DETECTED);
    rw_trend_result_free(r);
}

static void test_strong_positive(void)
{
    series x = {.ns = 0};
    treat(&x, RW_TREAT_SURGERY, 0, 0);
    add(&x, 1, 30, 1.00, 0, 0);
    add(&x, 2, 120, 1.01, 0, 0);
    add(&x, 3, 210, 1.60, 1, 1);
    rw_trend_result *r = run(&x, NULL);
    const rw_trend_alert *a = r ? first_kind(r, RW_ALERT_EARLY_RELAPSE) : NULL;
    CHECK(a && a->sample_id == 3);
    const rw_trend_evidence *ev = find_rule(a, RW_RULE_STRONG_POSITIVE);
    CHECK(ev && ev->ndraws == 1 && ev->draws[0].p.s.sample_id == 3 && ev->z_strong == 5.0);
    rw_trend_result_free(r);
}

static void test_rise_over_baseline(void)
{
    rw_trend_config cfg;
    rw_trend_config_init(&cfg);
    double rcv = rw_trend_rcv_up(0.02, 0.02, 0.05, 1.65); /* ~14.2% */
    double base = sqrt(0.98 * 1.02);
    series x = {.ns = 0};
    treat(&x, RW_TREAT_SURGERY, 0, 0);
    add(&x, 1, 30, 0.98, 0, 0);
    add(&x, 2, 120, 1.02, 0, 0);
    add(&x, 3, 210, 1.03, 0, 0);
    add(&x, 4, 300, base * (1 + rcv) * 1.02, 0, 0); /* a rise, negative call */
    add(&x, 5, 390, 1.01, 0, 0);                    /* not: the chain breaks */
    add(&x, 6, 480, base * (1 + rcv) * 1.02, 0, 0); /* first rise of a pair */
    add(&x, 7, 570, base * (1 + rcv) * 1.05, 0, 0); /* second: fires here */
    add(&x, 8, 600, base * (1 + rcv) * 0.99, 0, 0); /* just below the limit */
    rw_trend_result *r = run(&x, &cfg);
    CHECK(r && count_kind(r, RW_ALERT_EARLY_RELAPSE) == 1);
    const rw_trend_alert *a = r ? first_kind(r, RW_ALERT_EARLY_RELAPSE) : NULL;
    CHECK(a && a->sample_id == 7);
    const rw_trend_evidence *ev = find_rule(a, RW_RULE_RISE_OVER_BASELINE);
    CHECK(ev && ev->ndraws == 4);
    if (ev && ev->ndraws == 4) {
        CHECK_NEAR(ev->reference, base, 1e-12);
        CHECK(ev->draws[0].role == RW_ROLE_BASELINE && ev->draws[0].p.s.sample_id == 1);
        CHECK(ev->draws[1].role == RW_ROLE_BASELINE && ev->draws[1].p.s.sample_id == 2);
        CHECK(ev->draws[2].p.s.sample_id == 6 && ev->draws[3].p.s.sample_id == 7);
        CHECK_NEAR(ev->draws[3].rcv, rcv, 1e-12);
        CHECK_NEAR(ev->draws[3].limit, base * (1 + rcv), 1e-12);
        CHECK(ev->cv_i == 0.05);
    }
    /* the draw just under the limit is not a rise but still not clear enough to close */
    CHECK(r && r->npoints == 8 && !(r->points[7].s.ratio > r->points[7].baseline_limit));
    CHECK(r && r->state == RW_STATE_EARLY_RELAPSE);
    rw_trend_result_free(r);

    /* With the rule off, nothing fires. */
    cfg.rule_rise_over_baseline = 0;
    r = run(&x, &cfg);
    CHECK(r && r->nalerts == 0);
    rw_trend_result_free(r);
}

static void test_missing_cv(void)
{
    rw_trend_config cfg;
    rw_trend_config_init(&cfg);
    double rcv = rw_trend_rcv_up(cfg.cv_a_default, cfg.cv_a_default, cfg.cv_i, cfg.rcv_z);
    double rcv2 = rw_trend_rcv_up(0.02, 0.02, cfg.cv_i, cfg.rcv_z);
    series x = {.ns = 0};
    add(&x, 1, 30, 1.0, 0, 0);
    add(&x, 2, 120, 1.0, 0, 0);
    add(&x, 3, 210, 1.0 + 0.5 * (rcv + rcv2), 0, 0); /* a rise only with CV 2% */
    add(&x, 4, 300, 1.0 + 0.5 * (rcv + rcv2), 0, 0);
    add(&x, 5, 390, 1.0 + rcv * 1.05, 0, 0);
    add(&x, 6, 480, 1.0 + rcv * 1.05, 0, 0);
    for (size_t i = 0; i < x.ns; i++)
        x.s[i].cv = NAN;
    rw_trend_result *r = run(&x, &cfg);
    CHECK(r && r->npoints == 6 && r->points[0].cv_defaulted && r->points[0].s.cv == 0.10);
    const rw_trend_alert *a = r ? first_kind(r, RW_ALERT_EARLY_RELAPSE) : NULL;
    CHECK(a && a->sample_id == 6); /* the default 10% widens the RCV: 3 and 4 are no rise */
    const rw_trend_evidence *ev = find_rule(a, RW_RULE_RISE_OVER_BASELINE);
    CHECK(ev && ev->ndraws == 4 && ev->cv_a_default == 0.10);
    if (ev && ev->ndraws == 4) {
        CHECK(ev->draws[3].p.cv_defaulted && ev->draws[0].p.cv_defaulted);
        CHECK_NEAR(ev->draws[3].rcv, rcv, 1e-12);
    }
    rw_trend_result_free(r);
}

static void test_chemo_nadir(void)
{
    rw_trend_config cfg;
    rw_trend_config_init(&cfg);
    cfg.cv_i = 0.02;
    double rcv = rw_trend_rcv_up(0.02, 0.02, 0.02, 1.65);
    series x = {.ns = 0};
    treat(&x, RW_TREAT_SURGERY, 0, 0);
    treat(&x, RW_TREAT_CHEMOTHERAPY, 100, 400);
    add(&x, 1, 100, 1.30, 1, 0); /* pre-dose: the pre-treatment value */
    add(&x, 2, 130, 1.10, 0, 0); /* a fall beyond the RCV: responding */
    add(&x, 3, 160, 1.00, 0, 0); /* nadir */
    add(&x, 4, 190, 1.00 * (1 + rcv) * 1.01, 0, 0);
    add(&x, 5, 220, 1.00 * (1 + rcv) * 1.03, 0, 0); /* second rise: chemoresistance */
    add(&x, 6, 250, 1.00 * (1 + rcv) * 1.04, 0, 0);
    rw_trend_result *r = run(&x, &cfg);
    CHECK(r && r->points[0].on_chemo == 0 && r->points[1].on_chemo == 1);
    const rw_trend_alert *resp = r ? first_kind(r, RW_ALERT_RESPONDING) : NULL;
    CHECK(resp && resp->sample_id == 2);
    const rw_trend_evidence *rev = find_rule(resp, RW_RULE_FALL_BELOW_PRETREATMENT);
    CHECK(rev && rev->ndraws == 2 && rev->draws[0].role == RW_ROLE_PRETREATMENT &&
          rev->draws[0].p.s.sample_id == 1);
    const rw_trend_alert *a = r ? first_kind(r, RW_ALERT_EMERGING_CHEMORESISTANCE) : NULL;
    CHECK(a && a->sample_id == 5 && count_kind(r, RW_ALERT_EMERGING_CHEMORESISTANCE) == 1);
    const rw_trend_evidence *ev = find_rule(a, RW_RULE_RISE_FROM_NADIR);
    CHECK(ev && ev->ndraws == 3 && ev->draws[0].role == RW_ROLE_NADIR &&
          ev->draws[0].p.s.sample_id == 3 && ev->draws[2].p.s.sample_id == 5);
    if (ev)
        CHECK_NEAR(ev->reference, 1.00, 1e-12);
    /* no early_relapse on chemotherapy; the latest open alert gives the state */
    CHECK(r && count_kind(r, RW_ALERT_EARLY_RELAPSE) == 0);
    CHECK(r && r->state == RW_STATE_EMERGING_CHEMORESISTANCE);
    rw_trend_result_free(r);
}

static void test_positive_after_negative(void)
{
    series x = {.ns = 0};
    treat(&x, RW_TREAT_CHEMOTHERAPY, 0, RW_TREND_OPEN_END); /* still running */
    add(&x, 1, 10, 1.00, 0, 0);
    add(&x, 2, 40, 1.02, 0, 0);
    add(&x, 3, 70, 1.25, 1, 0);
    add(&x, 4, 100, 1.30, 1, 0);
    add(&x, 5, 5000, 1.35, 1, 0); /* open end: still on treatment years later */
    rw_trend_result *r = run(&x, NULL);
    const rw_trend_alert *a = r ? first_kind(r, RW_ALERT_EMERGING_CHEMORESISTANCE) : NULL;
    CHECK(a && a->sample_id == 3 && r->nalerts == 1);
    const rw_trend_evidence *ev = find_rule(a, RW_RULE_POSITIVE_AFTER_NEGATIVE);
    CHECK(ev && ev->ndraws == 2 && ev->draws[0].role == RW_ROLE_PREVIOUS &&
          ev->draws[0].p.s.sample_id == 2);
    CHECK(r && r->points[4].on_chemo && r->state == RW_STATE_EMERGING_CHEMORESISTANCE);
    rw_trend_result_free(r);
}

static void test_responding_and_window_edges(void)
{
    series x = {.ns = 0};
    treat(&x, RW_TREAT_CHEMOTHERAPY, 100, 200);
    add(&x, 1, 60, 1.40, 1, 0);
    add(&x, 2, 100, 1.40, 1, 0); /* start day: pre-dose, off chemo */
    add(&x, 3, 200, 1.05, 0, 0); /* end day: on chemo (inclusive) */
    rw_trend_result *r = run(&x, NULL);
    CHECK(r && !r->points[1].on_chemo && r->points[2].on_chemo);
    /* draws 1 and 2 are two positives off chemo with no surgery recorded: early_relapse */
    const rw_trend_alert *er = r ? first_kind(r, RW_ALERT_EARLY_RELAPSE) : NULL;
    CHECK(er && er->sample_id == 2);
    const rw_trend_alert *a = r ? first_kind(r, RW_ALERT_RESPONDING) : NULL;
    CHECK(a && a->sample_id == 3);
    const rw_trend_evidence *ev = find_rule(a, RW_RULE_FALL_BELOW_PRETREATMENT);
    CHECK(ev && ev->draws[0].p.s.sample_id == 2); /* the start-day draw is the reference */
    CHECK(r && r->state == RW_STATE_RESPONDING);
    rw_trend_result_free(r);

    /* The day after the end is off treatment: responding closes at the course end, and
     * early_relapse re-arms there too (draw 3, negative on chemo, and draw 4 are its two clear
     * draws). */
    add(&x, 4, 201, 1.00, 0, 0);
    r = run(&x, NULL);
    CHECK(r && !r->points[3].on_chemo);
    a = r ? first_kind(r, RW_ALERT_RESPONDING) : NULL;
    CHECK(a && a->closed_by == RW_CLOSE_COURSE_END && a->closed_sample_id == 4);
    er = r ? first_kind(r, RW_ALERT_EARLY_RELAPSE) : NULL;
    CHECK(er && er->closed_by == RW_CLOSE_CLEAR_DRAWS && er->closed_sample_id == 4);
    CHECK(r && r->state == RW_STATE_NOT_DETECTED);
    rw_trend_result_free(r);

    /* With three clear draws needed, early_relapse is still open after draw 4. */
    rw_trend_config cfg;
    rw_trend_config_init(&cfg);
    cfg.rearm_clear_draws = 3;
    r = run(&x, &cfg);
    er = r ? first_kind(r, RW_ALERT_EARLY_RELAPSE) : NULL;
    CHECK(er && er->closed_by == RW_CLOSE_NONE && r->state == RW_STATE_EARLY_RELAPSE);
    rw_trend_result_free(r);

    /* A fall from a negative pre-treatment value is noise, not a response. */
    series y = {.ns = 0};
    treat(&y, RW_TREAT_ENDOCRINE, 100, RW_TREND_OPEN_END);
    add(&y, 1, 90, 1.05, 0, 0);
    add(&y, 2, 190, 0.80, 0, 0);
    r = run(&y, NULL);
    CHECK(r && r->nalerts == 0);
    rw_trend_result_free(r);
}

static void test_stable_negatives(void)
{
    series x = {.ns = 0};
    treat(&x, RW_TREAT_SURGERY, 0, 0);
    treat(&x, RW_TREAT_ENDOCRINE, 20, RW_TREND_OPEN_END);
    static const double v[] = {1.00, 1.01, 0.99, 1.02, 0.98, 1.00, 1.03, 0.99};
    for (int i = 0; i < 8; i++)
        add(&x, i + 1, 30 + 90 * i, v[i], 0, 0);
    rw_trend_result *r = run(&x, NULL);
    CHECK(r && r->nalerts == 0 && r->state == RW_STATE_NOT_DETECTED);
    CHECK(r && r->points[7].on_treatment && !r->points[7].on_chemo);
    rw_trend_result_free(r);
}

static void test_equal_dates_and_order(void)
{
    series x = {.ns = 0};
    /* given out of order; sorted by (day, id) */
    add(&x, 11, 200, 1.30, 1, 0);
    add(&x, 3, 100, 1.00, 0, 0);
    add(&x, 10, 200, 1.30, 1, 0);
    add(&x, 20, 300, 1.30, 1, 0);
    rw_trend_result *r = run(&x, NULL);
    CHECK(r && r->npoints == 4 && r->points[0].s.sample_id == 3 && r->points[1].s.sample_id == 10 &&
          r->points[2].s.sample_id == 11 && r->points[3].s.sample_id == 20);
    /* two same-day positives are one blood draw: the confirmation comes on day 300 */
    const rw_trend_alert *a = r ? first_kind(r, RW_ALERT_EARLY_RELAPSE) : NULL;
    CHECK(a && a->sample_id == 20 && r->nalerts == 1);
    const rw_trend_evidence *ev = find_rule(a, RW_RULE_TWO_CONSECUTIVE_POSITIVE);
    CHECK(ev && ev->draws[0].p.s.sample_id == 11); /* the later of the same-day pair */
    rw_trend_result_free(r);
}

static void test_overlapping_treatments(void)
{
    rw_trend_config cfg;
    rw_trend_config_init(&cfg);
    cfg.cv_i = 0.02;
    double rcv = rw_trend_rcv_up(0.02, 0.02, 0.02, 1.65);
    series x = {.ns = 0};
    treat(&x, RW_TREAT_CHEMOTHERAPY, 100, 200);
    treat(&x, RW_TREAT_CHEMOTHERAPY, 150, 300); /* overlaps: one course, one nadir */
    treat(&x, RW_TREAT_TARGETED, 120, 500);
    add(&x, 1, 120, 1.00, 0, 0);
    add(&x, 2, 180, 1.00, 0, 0);
    add(&x, 3, 250, (1 + rcv) * 1.02, 0, 0);
    add(&x, 4, 280, (1 + rcv) * 1.02, 0, 0);
    rw_trend_result *r = run(&x, &cfg);
    const rw_trend_alert *a = r ? first_kind(r, RW_ALERT_EMERGING_CHEMORESISTANCE) : NULL;
    CHECK(a && a->sample_id == 4);
    rw_trend_result_free(r);
}

static void test_preoperative_and_rearm(void)
{
    series x = {.ns = 0};
    treat(&x, RW_TREAT_SURGERY, 50, 50);
    add(&x, 1, 10, 1.30, 1, 0);
    add(&x, 2, 50, 1.30, 1, 0); /* day of surgery: pre-operative */
    add(&x, 3, 100, 1.00, 0, 0);
    add(&x, 4, 150, 1.30, 1, 0);
    add(&x, 5, 200, 1.30, 1, 0); /* first post-operative pair: alert */
    add(&x, 6, 250, 1.00, 0, 0);
    add(&x, 7, 300, 1.00, 0, 0); /* second clear draw: re-armed */
    add(&x, 8, 350, 1.30, 1, 0);
    add(&x, 9, 400, 1.30, 1, 0); /* new episode: a second alert */
    rw_trend_result *r = run(&x, NULL);
    CHECK(r && r->points[1].preoperative && !r->points[2].preoperative);
    CHECK(r && count_kind(r, RW_ALERT_EARLY_RELAPSE) == 2);
    if (r && r->nalerts == 2) {
        CHECK(r->alerts[0].sample_id == 5 && r->alerts[0].closed_by == RW_CLOSE_CLEAR_DRAWS &&
              r->alerts[0].closed_sample_id == 7);
        CHECK(r->alerts[1].sample_id == 9 && r->alerts[1].closed_by == RW_CLOSE_NONE);
    }
    rw_trend_result_free(r);
}

/* A no-call is listed, marked skipped with its reason, and is invisible to the rules: it is
 * never a negative or clear draw, never the "previous draw", and never the last draw of the
 * state. */
static void test_no_calls(void)
{
    series x = {.ns = 0};
    treat(&x, RW_TREAT_SURGERY, 0, 0);
    add(&x, 1, 30, 1.00, 0, 0);
    add(&x, 2, 120, 1.20, 1, 0);
    add(&x, 3, 210, NAN, 0, 0); /* its value is not read */
    x.s[2].no_call = 1;
    x.s[2].cv = -1;
    x.s[2].positive = -1;
    snprintf(x.s[2].no_call_reason, sizeof x.s[2].no_call_reason, "insufficient_quality");
    add(&x, 4, 300, 1.25, 1, 0);
    rw_trend_result *r = run(&x, NULL);
    CHECK(r && r->npoints == 4);
    const rw_trend_point *p = r ? &r->points[2] : NULL;
    CHECK(p && p->skipped && p->s.sample_id == 3 && !p->s.positive &&
          strcmp(p->s.no_call_reason, "insufficient_quality") == 0);
    CHECK(r && !r->points[1].skipped && !r->points[3].skipped);
    /* positive, no-call, positive: still two consecutive positives (2 and 4) */
    const rw_trend_alert *a = r ? first_kind(r, RW_ALERT_EARLY_RELAPSE) : NULL;
    const rw_trend_evidence *ev = find_rule(a, RW_RULE_TWO_CONSECUTIVE_POSITIVE);
    CHECK(a && a->sample_id == 4 && ev && ev->draws[0].p.s.sample_id == 2);
    rw_trend_result_free(r);

    /* Two no-calls after an alert do not close it (they are not clear draws), and a no-call as
     * the last draw leaves the state to the last real draw. */
    x.ns = 4;
    for (int k = 0; k < 2; k++) {
        add(&x, 5 + k, 390 + 90 * k, 1.0, 0, 0);
        x.s[x.ns - 1].no_call = 1;
    }
    r = run(&x, NULL);
    a = r ? first_kind(r, RW_ALERT_EARLY_RELAPSE) : NULL;
    CHECK(a && a->closed_by == RW_CLOSE_NONE && r->state == RW_STATE_EARLY_RELAPSE);
    rw_trend_result_free(r);
    series y = {.ns = 0};
    add(&y, 1, 30, 1.3, 1, 0);
    add(&y, 2, 120, 1.0, 0, 0);
    y.s[1].no_call = 1;
    r = run(&y, NULL);
    CHECK(r && r->nalerts == 0 && r->state == RW_STATE_STABLE);
    rw_trend_result_free(r);
    /* A no-call alone: not detected; a no_call flag other than 0/1 is refused. */
    y.ns = 1;
    y.s[0] = y.s[1];
    r = run(&y, NULL);
    CHECK(r && r->state == RW_STATE_NOT_DETECTED && r->points[0].skipped);
    rw_trend_result_free(r);
    y.s[0].no_call = 2;
    CHECK(run(&y, NULL) == NULL);
}

/* The patient's own baseline: z_personal against her first negative draws of one assay and
 * panel, with the variance of both sides; one draw at personal_z_single or two at personal_z;
 * the evidence names the baseline draws; another panel or assay is never compared. */
static void test_personal_baseline(void)
{
    rw_trend_config cfg;
    rw_trend_config_init(&cfg);
    CHECK(cfg.rule_personal_baseline == 0 && cfg.personal_z == 2.0 &&
          cfg.personal_z_single == 3.0 && cfg.personal_between_sd == 0.01);
    cfg.rule_personal_baseline = 1;
    cfg.rule_rise_over_baseline = 0; /* the personal rule alone */
    cfg.personal_z = 2.5;            /* the hand-worked numbers below */
    cfg.personal_z_single = 3.5;
    series x = {.ns = 0};
    treat(&x, RW_TREAT_SURGERY, 0, 0);
    /* Her offset: R ~ 1.10 while negative on the panel (z 0.5); CV 2%. */
    add(&x, 1, 30, 1.10, 0, 0);
    add(&x, 2, 120, 1.12, 0, 0);
    add(&x, 3, 210, 1.11, 0, 0);
    add(&x, 4, 300, 1.19, 0, 0);
    add(&x, 5, 390, 1.20, 0, 0);
    for (size_t i = 0; i < x.ns; i++)
        x.s[i].panel_id = 7;
    rw_trend_result *r = run(&x, &cfg);
    CHECK(r && r->npoints == 5);
    const double s = sqrt(log1p(0.02 * 0.02));
    if (r) {
        CHECK(isnan(r->points[0].z_personal) && r->points[0].personal_n == 0);
        /* draw 2 against draw 1 alone: sd = s sqrt(1 + 1) */
        CHECK(r->points[1].personal_n == 1);
        CHECK_NEAR(r->points[1].z_personal, log(1.12 / 1.10) / (s * sqrt(2.0)), 1e-9);
        /* baseline_draws = 2: draws 1 and 2 (geometric mean), sd = s sqrt(1 + 1/2) */
        double ref = sqrt(1.10 * 1.12);
        CHECK(r->points[3].personal_n == 2);
        CHECK_NEAR(r->points[3].personal_ref, ref, 1e-12);
        CHECK_NEAR(r->points[3].personal_sd, s * sqrt(1.5), 1e-12);
        CHECK_NEAR(r->points[3].z_personal, log(1.19 / ref) / (s * sqrt(1.5)), 1e-9);
    }
    /* z at draws 4 and 5 is ~2.8 and ~3.2: two draws >= 2.5, below 3.5 */
    const rw_trend_alert *a = r ? first_kind(r, RW_ALERT_EARLY_RELAPSE) : NULL;
    const rw_trend_evidence *ev = find_rule(a, RW_RULE_PERSONAL_BASELINE);
    CHECK(a && a->sample_id == 5 && a->nevidence == 1);
    CHECK(ev && ev->ndraws == 4 && ev->personal_z == 2.5 && ev->personal_z_single == 3.5 &&
          ev->personal_between_sd == 0.01);
    if (ev && ev->ndraws == 4) {
        CHECK(ev->draws[0].role == RW_ROLE_BASELINE && ev->draws[0].p.s.sample_id == 1);
        CHECK(ev->draws[1].role == RW_ROLE_BASELINE && ev->draws[1].p.s.sample_id == 2);
        CHECK(ev->draws[2].role == RW_ROLE_TRIGGER && ev->draws[2].p.s.sample_id == 4);
        CHECK(ev->draws[3].role == RW_ROLE_TRIGGER && ev->draws[3].p.s.sample_id == 5);
        CHECK_NEAR(ev->reference, sqrt(1.10 * 1.12), 1e-12);
        /* the limit is the R at which the trigger reaches the threshold */
        CHECK_NEAR(ev->draws[3].limit, ev->reference * exp(2.5 * s * sqrt(1.5)), 1e-12);
    }
    rw_trend_result_free(r);

    /* Switched off (the default), the same series raises nothing: the panel calls it negative. */
    r = run(&x, NULL);
    CHECK(r && r->nalerts == 0 && isfinite(r->points[4].z_personal));
    rw_trend_result_free(r);

    /* One draw far above her baseline: the single-draw form, citing only that trigger. */
    x.s[3].ratio = 1.30;
    r = run(&x, &cfg);
    a = r ? first_kind(r, RW_ALERT_EARLY_RELAPSE) : NULL;
    ev = find_rule(a, RW_RULE_PERSONAL_BASELINE);
    CHECK(a && a->sample_id == 4 && ev && ev->ndraws == 3 && ev->draws[2].p.s.sample_id == 4 &&
          r->points[3].z_personal >= 3.5);
    rw_trend_result_free(r);

    /* Another panel from draw 3 on: its draws have their own (new) baseline, so nothing fires. */
    x.s[3].ratio = 1.19;
    for (size_t i = 2; i < x.ns; i++)
        x.s[i].panel_id = 8;
    r = run(&x, &cfg);
    CHECK(r && r->nalerts == 0);
    CHECK(r && r->points[2].personal_n == 0 && r->points[3].personal_n == 1);
    rw_trend_result_free(r);
    /* ... and so does another assay on the same panel. */
    for (size_t i = 2; i < x.ns; i++) {
        x.s[i].panel_id = 7;
        x.s[i].assay = RW_TREND_BINS;
    }
    r = run(&x, &cfg);
    CHECK(r && r->nalerts == 0 && r->points[2].personal_n == 0);
    rw_trend_result_free(r);

    /* A positive draw does not join the baseline; a missing CV takes cv_a_default (wide). */
    for (size_t i = 2; i < x.ns; i++)
        x.s[i].assay = RW_TREND_SWGS;
    x.s[0].positive = 1;
    x.s[0].z = 3.5;
    x.s[1].cv = NAN;
    r = run(&x, &cfg);
    CHECK(r && r->points[2].personal_n == 1 && r->points[3].personal_n == 2);
    if (r) {
        double sb = sqrt(log1p(0.10 * 0.10)); /* draw 2's defaulted CV, in the baseline */
        CHECK_NEAR(r->points[3].personal_sd, sqrt(s * s + (sb * sb + s * s) / 4), 1e-12);
    }
    rw_trend_result_free(r);

    /* With the draws' own SEs and a between-draw SD, each draw's variance is (se^2 + tau^2)
     * (ln 2)^2, whatever its CV; a draw without an SE keeps its CV. */
    x.s[0].positive = 0;
    x.s[1].cv = 0.02;
    for (size_t i = 0; i < x.ns; i++)
        x.s[i].se_log2 = 0.02;
    x.s[3].se_log2 = NAN;
    cfg.personal_between_sd = 0.03;
    r = run(&x, &cfg);
    if (r) {
        double v = (0.02 * 0.02 + 0.03 * 0.03) * M_LN2 * M_LN2;
        CHECK_NEAR(r->points[4].personal_sd, sqrt(v * 1.5), 1e-12);
        CHECK_NEAR(r->points[3].personal_sd, sqrt(s * s + v / 2), 1e-12);
    }
    rw_trend_result_free(r);
    cfg.personal_between_sd = 0; /* the SEs alone */
    r = run(&x, &cfg);
    CHECK(r && fabs(r->points[4].personal_sd - 0.02 * M_LN2 * sqrt(1.5)) < 1e-12);
    rw_trend_result_free(r);
    x.s[2].se_log2 = -0.1;
    CHECK(run(&x, &cfg) == NULL);
    x.s[2].se_log2 = 0.02;
    cfg.personal_z = -1;
    CHECK(run(&x, &cfg) == NULL);
}

static void test_ddpcr_and_errors(void)
{
    series x = {.ns = 0};
    add(&x, 1, 10, 1.5, 0, 0);
    x.s[0].assay = RW_TREND_DDPCR;
    x.s[0].z = NAN;
    x.s[0].cv = 0.05;
    x.s[0].positive = x.s[0].strong = -1;
    rw_trend_result *r = run(&x, NULL);
    /* lower 95% bound of CN: 3 exp(-1.96 sigma(5%)) = 2.72: positive (> 2.2), not strong (3.0) */
    CHECK(r && r->points[0].s.positive == 1 && r->points[0].s.strong == 0 &&
          r->points[0].calls_derived);
    rw_trend_result_free(r);

    rw_trend_input in = {x.s, 1, NULL, 0, NULL, 0, RW_PRIMARY_AMPLIFIED};
    rw_error err = {0};
    r = (rw_trend_result *)1;
    x.s[0].ratio = 0;
    CHECK(rw_trend_run(&in, NULL, &r, &err) == RW_ERR_INPUT && r == NULL);
    CHECK(strstr(err.msg, "sample 1") != NULL);
    x.s[0].ratio = 1.0;
    rw_trend_sample two[2] = {x.s[0], x.s[0]};
    in.samples = two;
    in.nsamples = 2;
    CHECK(rw_trend_run(&in, NULL, &r, &err) == RW_ERR_INPUT && strstr(err.msg, "twice"));
    in.samples = x.s;
    in.nsamples = 1;
    rw_trend_treatment bad = {RW_TREAT_CHEMOTHERAPY, 100, 50};
    in.treatments = &bad;
    in.ntreatments = 1;
    CHECK(rw_trend_run(&in, NULL, &r, &err) == RW_ERR_INPUT);
    in.ntreatments = 0;
    rw_trend_config cfg;
    rw_trend_config_init(&cfg);
    cfg.baseline_draws = 0;
    CHECK(rw_trend_run(&in, &cfg, &r, &err) == RW_ERR_USAGE);
    x.s[0].assay = RW_TREND_SWGS;
    x.s[0].z = NAN; /* no call, no z */
    CHECK(rw_trend_run(&in, NULL, &r, &err) == RW_ERR_INPUT);
    x.s[0].z = 1.0;
    CHECK(rw_trend_run(&in, NULL, &r, &err) == RW_OK && r->primary == RW_PRIMARY_AMPLIFIED);
    rw_trend_result_free(r);
}

/* ---------------------------------------------------------------- simulation */

static uint64_t rng_state;

static double unif(void)
{
    /* splitmix64 */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}

static double gauss(void)
{
    return sqrt(-2.0 * log(unif())) * cos(2.0 * M_PI * unif());
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

#define SIM_N      2000
#define SIM_DRAWS  8
#define SIM_CV_A   0.03
#define SIM_CV_I   0.05
#define SIM_CV_B   0.03 /* between-patient offset the PoN does not know */
#define SIM_F0     0.005
#define SIM_F_CLIN 0.32 /* tumour fraction at which the clinic sees the relapse */

/* One simulated patient: surgery at day 0, a draw every 90 days from day 30. Stable when
 * onset < 0; else the tumour fraction is SIM_F0 at draw `onset` and doubles every draw,
 * with C = 6 copies of 1q21.3 (R = 1 + 2f); the series stops at the clinical relapse draw
 * (f >= SIM_F_CLIN), returned in *clin. */
static void sim_patient(series *x, int onset, int *clin)
{
    double sa = sqrt(log1p(SIM_CV_A * SIM_CV_A)), si = sqrt(log1p(SIM_CV_I * SIM_CV_I));
    double sb = sqrt(log1p(SIM_CV_B * SIM_CV_B));
    double pon_sd = sqrt(sa * sa + si * si + sb * sb);
    double offset = sb * gauss();
    memset(x, 0, sizeof *x);
    treat(x, RW_TREAT_SURGERY, 0, 0);
    *clin = -1;
    int ndraws = onset < 0 ? SIM_DRAWS : MAXS;
    for (int t = 0; t < ndraws; t++) {
        double f = onset >= 0 && t >= onset ? SIM_F0 * pow(2.0, t - onset) : 0.0;
        double lr = log(1.0 + 2.0 * f) + offset + si * gauss() + sa * gauss();
        rw_trend_sample *s = &x->s[x->ns++];
        s->sample_id = t + 1;
        s->day = 30 + 90 * t;
        s->assay = RW_TREND_SWGS;
        s->ratio = exp(lr);
        s->cv = SIM_CV_A;
        s->z = lr / pon_sd;
        s->positive = s->strong = -1; /* the engine calls z >= 3 / z >= 5 */
        if (f >= SIM_F_CLIN) {
            *clin = t;
            break;
        }
    }
}

static void simulate(int cusum, double *false_rate, double *caught, double *median_lead)
{
    rw_trend_config cfg;
    rw_trend_config_init(&cfg);
    cfg.rule_cusum = cusum;
    series *x = malloc(sizeof *x);
    int *leads = malloc(SIM_N * sizeof *leads);
    int nfalse = 0, ncaught = 0, clin, by_rule[RW_RULE_NRULES] = {0};
    rng_state = 20240601;
    for (int p = 0; p < SIM_N; p++) {
        sim_patient(x, -1, &clin);
        rw_trend_result *r = run(x, &cfg);
        const rw_trend_alert *a = r ? first_kind(r, RW_ALERT_EARLY_RELAPSE) : NULL;
        nfalse += a != NULL;
        for (size_t e = 0; a && e < a->nevidence; e++)
            by_rule[a->evidence[e].rule]++;
        rw_trend_result_free(r);
    }
    printf("  false alerts by rule (cusum %s):", cusum ? "on" : "off");
    for (int k = 0; k < RW_RULE_NRULES; k++)
        if (by_rule[k])
            printf(" %s %d", rw_trend_rule_name((rw_trend_rule)k), by_rule[k]);
    printf("\n");
    for (int p = 0; p < SIM_N; p++) {
        int onset = 1 + (int)(unif() * 4); /* ctDNA appears at draw 1..4 */
        sim_patient(x, onset, &clin);
        rw_trend_result *r = run(x, &cfg);
        const rw_trend_alert *a = r ? first_kind(r, RW_ALERT_EARLY_RELAPSE) : NULL;
        if (a)
            leads[ncaught++] = clin - (int)(a->sample_id - 1); /* in draws */
        rw_trend_result_free(r);
    }
    qsort(leads, (size_t)ncaught, sizeof *leads, cmp_int);
    *false_rate = (double)nfalse / SIM_N;
    *caught = (double)ncaught / SIM_N;
    *median_lead = ncaught ? leads[ncaught / 2] : NAN;
    free(leads);
    free(x);
}

static void test_simulation(void)
{
    double fr, caught, lead, fr_c, caught_c, lead_c;
    simulate(0, &fr, &caught, &lead);
    simulate(1, &fr_c, &caught_c, &lead_c);
    printf("simulation (default rules): false-alert rate %.2f%% of %d stable patients "
           "(%d draws each); relapses caught %.1f%%, median lead %.0f draws\n",
           100 * fr, SIM_N, SIM_DRAWS, 100 * caught, lead);
    printf("simulation (with CUSUM k=0.5 h=4): false-alert rate %.2f%%; caught %.1f%%, "
           "median lead %.0f draws\n",
           100 * fr_c, 100 * caught_c, lead_c);
    CHECK(fr < 0.05);
    CHECK(caught > 0.95);
    CHECK(lead >= 1);
    CHECK(fr_c >= fr); /* CUSUM only adds alerts */
}

int main(void)
{
    test_rcv_and_dates();
    test_rule_table();
    test_empty_and_one();
    test_two_consecutive_positive();
    test_isolated_positive();
    test_strong_positive();
    test_rise_over_baseline();
    test_missing_cv();
    test_chemo_nadir();
    test_positive_after_negative();
    test_responding_and_window_edges();
    test_stable_negatives();
    test_equal_dates_and_order();
    test_overlapping_treatments();
    test_preoperative_and_rearm();
    test_ddpcr_and_errors();
    test_no_calls();
    test_personal_baseline();
    test_simulation();
    DONE();
}
