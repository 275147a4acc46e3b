/* The patient's own baseline (issue 10.5), measured on serial series made by the real core:
 * every draw's 1q21.3 value comes from bin counts drawn by the simulator's realistic profile and
 * analysed against a panel of normals with rw_analyse (segment = 0), then read into the trend
 * engine the way the daemon reads stored results (json/result.c's call summary: R, the CV of
 * the z denominator, z, call).
 *
 * PEOPLE. Every person (panel normals and patients alike: a panel is made of people too) has
 *  - a constitutional copy-number offset at 1q21.3: the band's depth times 2^delta, delta ~
 *    N(0, CONST_SD) in log2 (0.03: about a one-copy change of 150 kb of the 4.5 Mb band);
 *  - a stable library bias of her samples: a share STABLE_SHARE of the variance of the
 *    simulator's genomic waves (random and GC-tied) is drawn once per person and multiplies
 *    every draw of hers; each draw carries the rest (waves scaled by sqrt(1 - share)) and its
 *    own GC strength, overdispersion and Poisson noise, so one draw has the calibrated
 *    realistic profile's total bias (README "Realistic simulation").
 * SERIES. Surgery at day 0, 8 draws at days 90, 180, ..., 720 (every 3 months). Stable patients:
 * f = 0 throughout. Relapses: f = 0.5% at the first draw, doubling every draw (0.5, 1, 2, 4, 8,
 * 16, 32, 64%), 1q21.3 at tumour copy number 6, the 1q arm neutral; clinical relapse recorded at
 * the draw where f reaches 32% (day 630). The first draw with f >= 3% is the 4th (day 360, f =
 * 4%): the goal is an alert there, a lead time of 270 days.
 * CALIBRATION. personal_between_sd is measured as a site would: on stable patients apart from
 * the cohort (the pooled within-person variance of the value minus the draws' own squared SE).
 * READOUT, with the panel rules alone (personal baseline off), with the personal baseline from
 * the draws' CVs (between-draw SD 0) and with the calibrated between-draw SD:
 * the false-alert rate of stable patients (any early_relapse alert in 8 draws; goal <= 2%), the
 * relapses caught, and the median alert draw and lead time (an uncaught relapse counts as the
 * worst). The spread of z_personal on stable draws shows its calibration.
 *
 * Environment (bench/baseline.sh sets them for the full numbers; the defaults are the check's
 * small cohort, ~500 simulated samples): RW_BASELINE_STABLE (stable patients, default 30),
 * RW_BASELINE_RELAPSE (relapses, 16), RW_BASELINE_NORMALS (panel, 20),
 * RW_BASELINE_CALIBRATION (stable patients apart for the between-draw SD, 10),
 * RW_BASELINE_DEPTH (0.1), RW_BASELINE_CONST_SD (0.03), RW_BASELINE_STABLE_SHARE (0.5),
 * RW_BASELINE_FULL (1: report only, no assertion of the fast check's margins),
 * RW_BASELINE_Z (the call's z_amplified; default: the setting's), RW_BASELINE_DUMP (a file for
 * every draw of the cohorts: log2, SE, CV, z, call; to study other rules outside the engine). The
 * table goes to $RW_BUILDDIR/baseline.tsv. */
#include "core/analyse.h"
#include "core/genome.h"
#include "core/simulate.h"
#include "core/trend.h"
#include "json/result.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/harness.h"

#define NDRAWS     8
#define DRAW_EVERY 90
#define F0         0.005
#define CLIN_DRAW  6 /* f = 32% */
#define GOAL_DRAW  3 /* the first draw with f >= 3% (f = 4%) */
/* The chemotherapy course of the with_chemo reading: the 3rd draw is its pre-dose draw, the
 * 4th to 6th are on treatment (what positive_after_negative watches). */
#define CHEMO_START (DRAW_EVERY * 3)
#define CHEMO_END   (DRAW_EVERY * 6)
#define PRIMARY_CN  6.0
#define HD_DEPTH    20.0 /* depth of the noiseless pattern of a person's stable bias */

typedef struct params {
    int n_stable, n_relapse, n_normals, n_calibration, full;
    double depth, const_sd, stable_share, z_amplified;
} params;

static double env_num(const char *name, double def)
{
    const char *v = getenv(name);
    return v && *v ? atof(v) : def;
}

static void params_init(params *p)
{
    p->n_stable = (int)env_num("RW_BASELINE_STABLE", 30);
    p->n_relapse = (int)env_num("RW_BASELINE_RELAPSE", 16);
    p->n_normals = (int)env_num("RW_BASELINE_NORMALS", 20);
    p->n_calibration = (int)env_num("RW_BASELINE_CALIBRATION", 10);
    p->depth = env_num("RW_BASELINE_DEPTH", 0.1);
    p->const_sd = env_num("RW_BASELINE_CONST_SD", 0.03);
    p->stable_share = env_num("RW_BASELINE_STABLE_SHARE", 0.5);
    p->full = (int)env_num("RW_BASELINE_FULL", 0);
    p->z_amplified = env_num("RW_BASELINE_Z", NAN); /* NaN: the setting's default */
}

/* A standard normal from a seed (Box-Muller over splitmix64). */
static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double gauss_of(uint64_t seed)
{
    double u1 = ((double)(splitmix(&seed) >> 11) + 0.5) / 9007199254740992.0;
    double u2 = ((double)(splitmix(&seed) >> 11) + 0.5) / 9007199254740992.0;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

typedef struct world {
    params p;
    rw_pon *pon;
    double *expect; /* noiseless-ish depth without biases (shared by everyone) */
    double *bias;   /* the person being simulated: her stable multiplicative bias */
    size_t n, first, nband;
    rw_sim_event ev; /* 1q21.3 at CN 6 */
    rw_analyse_opts ao;
    rw_error err;
} world;

/* A draw's simulator options: the realistic profile with the person's share of the waves
 * taken out (she carries it in her stable bias). */
static void draw_opts(const world *w, rw_sim_opts *o, uint64_t seed, double f)
{
    rw_sim_opts_init(o);
    o->seed = seed;
    o->depth = w->p.depth;
    o->tumour_fraction = f;
    o->events = f > 0 ? &w->ev : NULL;
    o->n_events = f > 0;
    o->wave_amp *= sqrt(1.0 - w->p.stable_share);
    o->wave_gc_amp *= sqrt(1.0 - w->p.stable_share);
}

/* Sets w->bias for the person of `seed`: her share of the waves (high depth, no other bias,
 * over the common expectation) times her constitutional offset at 1q21.3. */
static int person_init(world *w, uint64_t seed)
{
    rw_sim_opts d, o;
    rw_sim_opts_init(&d);
    rw_sim_opts_init(&o);
    rw_sim_opts_ideal(&o);
    o.seed = seed;
    o.depth = HD_DEPTH;
    o.bin_noise = 0;
    o.wave_amp = d.wave_amp * sqrt(w->p.stable_share);
    o.wave_gc_amp = d.wave_gc_amp * sqrt(w->p.stable_share);
    rw_bins *b = NULL;
    if (rw_sim_bins(&o, RW_BIN_SIZE_DEFAULT, &b, &w->err) != RW_OK)
        return -1;
    for (size_t i = 0; i < w->n; i++)
        w->bias[i] = w->expect[i] > 0 && b->count[i] > 0 ? b->count[i] / w->expect[i] : 1.0;
    rw_bins_free(b);
    double delta = w->p.const_sd * gauss_of(seed ^ 0x636f6e7374ULL);
    for (size_t i = w->first; i < w->first + w->nband; i++)
        w->bias[i] *= exp2(delta);
    return 0;
}

/* The bins of one draw of the current person. */
static int draw_bins(world *w, uint64_t seed, double f, rw_bins **out)
{
    rw_sim_opts o;
    draw_opts(w, &o, seed, f);
    if (rw_sim_bins(&o, RW_BIN_SIZE_DEFAULT, out, &w->err) != RW_OK)
        return -1;
    for (size_t i = 0; i < w->n; i++)
        (*out)->count[i] *= w->bias[i];
    return 0;
}

static int world_init(world *w)
{
    memset(w, 0, sizeof *w);
    params_init(&w->p);
    const rw_region *reg = rw_region_find(RW_BUILD_HG38, RW_REGION_1Q213);
    w->ev = (rw_sim_event){reg->chrom, reg->start, reg->end, PRIMARY_CN};
    rw_sim_opts o;
    rw_sim_opts_init(&o);
    rw_sim_opts_ideal(&o);
    o.depth = HD_DEPTH;
    o.bin_noise = 0;
    o.seed = 77;
    rw_bins *e = NULL, *gc = NULL;
    if (rw_sim_bins(&o, RW_BIN_SIZE_DEFAULT, &e, &w->err) != RW_OK ||
        rw_sim_gc(RW_BUILD_HG38, RW_BIN_SIZE_DEFAULT, &gc, &w->err) != RW_OK)
        return -1;
    w->n = e->n;
    w->expect = e->count;
    e->count = NULL;
    rw_score_region_bins(e, reg, &w->first, &w->nband);
    rw_bins_free(e);
    w->bias = malloc(w->n * sizeof *w->bias);
    rw_bins **normals = calloc((size_t)w->p.n_normals, sizeof *normals);
    int rc = !w->bias || !normals ? -1 : 0;
    for (int j = 0; !rc && j < w->p.n_normals; j++)
        rc = person_init(w, 4000000 + (uint64_t)j) ||
             draw_bins(w, 4100000 + (uint64_t)j, 0, &normals[j]);
    rw_pon_opts po;
    rw_pon_opts_init(&po);
    po.gc = gc->count;
    if (!rc && rw_pon_build(normals, (size_t)w->p.n_normals, &po, &w->pon, &w->err) != RW_OK)
        rc = -1;
    for (int j = 0; normals && j < w->p.n_normals; j++)
        rw_bins_free(normals[j]);
    free(normals);
    rw_bins_free(gc);
    rw_analyse_opts_init(&w->ao);
    w->ao.segment = 0;
    if (isfinite(w->p.z_amplified))
        w->ao.score.z_amplified = w->p.z_amplified;
    return rc;
}

static void world_free(world *w)
{
    rw_pon_free(w->pon);
    free(w->expect);
    free(w->bias);
}

/* One simulated patient's series as the daemon would read it. */
typedef struct series {
    rw_trend_sample s[NDRAWS];
    rw_trend_treatment surgery, chemo;
    rw_trend_event clinic;
    int relapse;
} series;

/* cohort 0: stable, 1: relapses, 2: stable patients apart (calibration); distinct people. */
static int simulate_series(world *w, int patient, int cohort, series *x)
{
    memset(x, 0, sizeof *x);
    int relapse = cohort == 1;
    uint64_t person = 5000000 + 100000 * (uint64_t)cohort + (uint64_t)patient;
    if (person_init(w, person))
        return -1;
    x->relapse = relapse;
    x->surgery = (rw_trend_treatment){RW_TREAT_SURGERY, 0, 0};
    x->chemo = (rw_trend_treatment){RW_TREAT_CHEMOTHERAPY, CHEMO_START, CHEMO_END};
    x->clinic = (rw_trend_event){RW_EVENT_CLINICAL_RELAPSE, DRAW_EVERY * (CLIN_DRAW + 1)};
    for (int k = 0; k < NDRAWS; k++) {
        double f = relapse ? F0 * pow(2.0, k) : 0.0;
        rw_bins *b = NULL;
        rw_result *r = NULL;
        if (draw_bins(w, person * 16 + (uint64_t)k, f, &b) ||
            rw_analyse(b, w->pon, &w->ao, &r, &w->err) != RW_OK) {
            rw_bins_free(b);
            return -1;
        }
        rw_call_summary c;
        rw_call_summary_swgs(r, &c);
        rw_trend_sample *s = &x->s[k];
        s->sample_id = k + 1;
        s->day = DRAW_EVERY * (k + 1);
        s->assay = RW_TREND_BINS;
        s->panel_id = 1;
        s->ratio = c.ratio;
        s->cv = c.cv;
        s->se_log2 = c.se;
        s->z = c.z;
        s->positive = strcmp(c.call, "amplified") == 0;
        s->strong = c.strong;
        /* a no-call of the quality gate (when the pipeline has one) is what the daemon skips */
        s->no_call = strcmp(c.call, "amplified") != 0 && strcmp(c.call, "not_detected") != 0;
        if (s->no_call)
            snprintf(s->no_call_reason, sizeof s->no_call_reason, "%s%s%s", c.call,
                     r->quality.code[0] ? ": " : "", r->quality.code);
        rw_result_free(r);
        rw_bins_free(b);
    }
    return 0;
}

/* The outcome of one series under one configuration. */
typedef struct outcome {
    int alerted;
    int chemo_alerted; /* an emerging_chemoresistance alert (configurations with_chemo) */
    int alert_draw;    /* 0-based draw of the first early_relapse alert; NDRAWS when none */
    unsigned rules;    /* bits of the rules in that alert's evidence */
} outcome;

/* What one configuration scored over the cohort. */
typedef struct tally {
    const char *name;
    rw_trend_config cfg;
    int without_se;                    /* the draws' SEs withheld: z_personal from the CVs */
    int with_chemo;                    /* the stable series read with a chemotherapy course */
    int false_alerts, caught, at_goal; /* at_goal: alert by the first draw with f >= 3% */
    int false_chemo;                   /* stable patients with an emerging_chemoresistance alert */
    int rule_false[RW_RULE_NRULES];
    int *draws; /* alert draw of each relapse */
    double zsum, zsum2;
    int zn;
} tally;

static int run_engine(const series *x, tally *t, outcome *o)
{
    series y = *x;
    for (int k = 0; t->without_se && k < NDRAWS; k++)
        y.s[k].se_log2 = NAN;
    rw_trend_treatment treatments[2] = {y.surgery, y.chemo};
    rw_trend_input in = {y.s,       NDRAWS,    treatments,          t->with_chemo ? 2 : 1,
                         &y.clinic, y.relapse, RW_PRIMARY_AMPLIFIED};
    rw_trend_result *r = NULL;
    rw_error err = {0};
    if (rw_trend_run(&in, &t->cfg, &r, &err) != RW_OK) {
        fprintf(stderr, "trend: %s\n", err.msg);
        return -1;
    }
    memset(o, 0, sizeof *o);
    o->alert_draw = NDRAWS;
    for (size_t a = 0; a < r->nalerts; a++)
        o->chemo_alerted |= r->alerts[a].kind == RW_ALERT_EMERGING_CHEMORESISTANCE;
    for (size_t a = 0; a < r->nalerts; a++)
        if (r->alerts[a].kind == RW_ALERT_EARLY_RELAPSE) {
            o->alerted = 1;
            o->alert_draw = (int)r->alerts[a].sample_id - 1;
            for (size_t e = 0; e < r->alerts[a].nevidence; e++)
                o->rules |= 1u << r->alerts[a].evidence[e].rule;
            break;
        }
    for (size_t i = 0; !y.relapse && i < r->npoints; i++)
        if (isfinite(r->points[i].z_personal)) {
            t->zsum += r->points[i].z_personal;
            t->zsum2 += r->points[i].z_personal * r->points[i].z_personal;
            t->zn++;
        }
    rw_trend_result_free(r);
    return 0;
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

static double median_draw(tally *t, int n)
{
    qsort(t->draws, (size_t)n, sizeof *t->draws, cmp_int);
    return n ? (n % 2 ? t->draws[n / 2] : 0.5 * (t->draws[n / 2 - 1] + t->draws[n / 2])) : NAN;
}

/* Runs configuration t over the stable and relapse series. */
static int score_cohort(const series *stable, int ns, const series *rel, int nr, tally *t)
{
    outcome o;
    for (int i = 0; i < ns; i++) {
        if (run_engine(&stable[i], t, &o))
            return -1;
        t->false_alerts += o.alerted;
        t->false_chemo += o.chemo_alerted;
        for (int k = 0; k < RW_RULE_NRULES; k++)
            t->rule_false[k] += o.alerted && (o.rules >> k & 1u);
    }
    for (int i = 0; i < nr; i++) {
        if (run_engine(&rel[i], t, &o))
            return -1;
        t->caught += o.alerted;
        t->at_goal += o.alert_draw <= GOAL_DRAW;
        t->draws[i] = o.alert_draw;
    }
    return 0;
}

static double z_mean(const tally *t)
{
    return t->zn ? t->zsum / t->zn : NAN;
}

static double z_sd(const tally *t)
{
    double m = z_mean(t);
    return t->zn > 1 ? sqrt((t->zsum2 - t->zn * m * m) / (t->zn - 1)) : NAN;
}

static void report(FILE *out, const params *p, tally *t)
{
    double fr = (double)t->false_alerts / p->n_stable;
    double md = median_draw(t, p->n_relapse);
    double f_at = md < NDRAWS ? F0 * pow(2.0, md) : NAN;
    double lead = md < NDRAWS ? DRAW_EVERY * (CLIN_DRAW - md) : NAN;
    char rules[256] = "";
    for (int k = 0; k < RW_RULE_NRULES; k++)
        if (t->rule_false[k]) {
            size_t l = strlen(rules);
            snprintf(rules + l, sizeof rules - l, "%s%s:%d", l ? "," : "",
                     rw_trend_rule_name((rw_trend_rule)k), t->rule_false[k]);
        }
    char chemo[32] = "-";
    if (t->with_chemo)
        snprintf(chemo, sizeof chemo, "%d", t->false_chemo);
    fprintf(out, "%s\t%d\t%d\t%.2f\t%d\t%d\t%d\t%.1f\t%.3f\t%.0f\t%.2f\t%.2f\t%s\t%s\n", t->name,
            p->n_stable, t->false_alerts, 100 * fr, p->n_relapse, t->caught, t->at_goal, md + 1,
            f_at, lead, z_mean(t), z_sd(t), rules[0] ? rules : "-", chemo);
}

/* The site's calibration of personal_between_sd: on stable patients apart from the cohort, the
 * pooled within-person variance of the 1q21.3 log2 value minus the mean squared SE of the
 * draws (what a site measures on its serial negatives). Also prints the spreads it sees. */
static double calibrate_between_sd(world *w, int n)
{
    double sv = 0, sse = 0, ssig = 0;
    int m = 0, nd = 0;
    series x;
    for (int i = 0; i < n; i++) {
        if (simulate_series(w, i, 2, &x))
            continue;
        double mean = 0, ss = 0;
        for (int k = 0; k < NDRAWS; k++)
            mean += log2(x.s[k].ratio) / NDRAWS;
        for (int k = 0; k < NDRAWS; k++) {
            double d = log2(x.s[k].ratio) - mean;
            ss += d * d;
            sse += x.s[k].se_log2 * x.s[k].se_log2;
            double sig = sqrt(log1p(x.s[k].cv * x.s[k].cv)) / M_LN2;
            ssig += sig * sig;
            nd++;
        }
        sv += ss / (NDRAWS - 1);
        m++;
    }
    double within = m ? sv / m : NAN, se2 = nd ? sse / nd : NAN;
    printf("calibration on %d stable patients apart: within-person SD %.4f log2, draws' own SE "
           "%.4f, z denominator %.4f; between-draw SD beyond the SE %.4f\n",
           m, sqrt(within), sqrt(se2), nd ? sqrt(ssig / nd) : NAN, sqrt(fmax(0, within - se2)));
    return sqrt(fmax(0, within - se2));
}

/* Simulates n series of a cohort into x; returns the number of no-calls, -1 on failure. Every
 * draw also goes to `dump` when given (RW_BASELINE_DUMP: to study rules outside the engine). */
static int simulate_cohort(world *w, int cohort, int n, series *x, FILE *dump)
{
    int nocall = 0;
    for (int i = 0; i < n; i++) {
        if (simulate_series(w, i, cohort, &x[i])) {
            fprintf(stderr, "simulation: %s\n", w->err.msg);
            return -1;
        }
        for (int k = 0; k < NDRAWS; k++) {
            const rw_trend_sample *s = &x[i].s[k];
            nocall += s->no_call;
            if (dump)
                fprintf(dump, "%d\t%d\t%d\t%.6g\t%.6g\t%.6g\t%.6g\t%d\t%d\n", cohort, i, k,
                        log2(s->ratio), s->se_log2, s->cv, s->z, s->positive, s->no_call);
        }
    }
    return nocall;
}

/* bench: false alerts and alert draws over a grid of the two personal thresholds. */
static void sweep(const params *p, const series *st, const series *rel, double tau)
{
    static const double zp[] = {2.0, 2.5, 3.0}, zs[] = {3.0, 3.5, 4.0};
    printf("sweep (personal_between_sd %.4f): personal_z personal_z_single false_alert_pct "
           "alert_by_goal_draw median_alert_draw\n",
           tau);
    for (size_t a = 0; a < sizeof zp / sizeof *zp; a++)
        for (size_t b = 0; b < sizeof zs / sizeof *zs; b++) {
            tally t = {.name = "sweep"};
            rw_trend_config_init(&t.cfg);
            t.cfg.rule_personal_baseline = 1;
            t.cfg.personal_between_sd = tau;
            t.cfg.personal_z = zp[a];
            t.cfg.personal_z_single = zs[b];
            t.draws = calloc((size_t)p->n_relapse + 1, sizeof *t.draws);
            if (t.draws && !score_cohort(st, p->n_stable, rel, p->n_relapse, &t))
                printf("  %.1f %.1f %.2f %d/%d %.1f\n", zp[a], zs[b],
                       100.0 * t.false_alerts / p->n_stable, t.at_goal, p->n_relapse,
                       median_draw(&t, p->n_relapse) + 1);
            free(t.draws);
        }
}

int main(void)
{
    world w;
    int rc = world_init(&w);
    CHECK(rc == 0);
    if (rc) {
        fprintf(stderr, "setup: %s\n", w.err.msg);
        world_free(&w);
        DONE();
    }
    const params *p = &w.p;
    const rw_pon_region *pr = rw_pon_region_find(w.pon, RW_REGION_1Q213);
    printf("panel: %d realistic normals, 1q21.3 %d bins, leave-one-out SD %.4f log2\n",
           w.pon->n_normals, pr ? pr->n_bins : 0, pr ? pr->loo_sd : NAN);
    double tau = calibrate_between_sd(&w, p->n_calibration);
    CHECK(tau >= 0 && tau < 0.2);
    series *st = calloc((size_t)p->n_stable + 1, sizeof *st);
    series *rel = calloc((size_t)p->n_relapse + 1, sizeof *rel);
    const char *dump_path = getenv("RW_BASELINE_DUMP");
    FILE *dump = dump_path && *dump_path ? fopen(dump_path, "w") : NULL;
    if (dump)
        fputs("cohort\tpatient\tdraw\tlog2\tse_log2\tcv\tz\tpositive\tno_call\n", dump);
    int nc0 = st ? simulate_cohort(&w, 0, p->n_stable, st, dump) : -1;
    int nc1 = rel ? simulate_cohort(&w, 1, p->n_relapse, rel, dump) : -1;
    if (dump)
        fclose(dump);
    CHECK(nc0 >= 0 && nc1 >= 0);
    if (nc0 < 0 || nc1 < 0) {
        free(st);
        free(rel);
        world_free(&w);
        DONE();
    }
    /* The last reading: the panel rules again, every series with a chemotherapy course. */
    enum { NCONF = 4, CHEMO = NCONF - 1 };
    tally t[NCONF] = {{.name = "panel_rules"},
                      {.name = "personal_baseline_cv", .without_se = 1},
                      {.name = "personal_baseline"},
                      {.name = "panel_rules_chemotherapy", .with_chemo = 1}};
    rw_trend_config defaults;
    rw_trend_config_init(&defaults);
    for (int c = 0; c < NCONF; c++) {
        t[c].cfg = defaults;
        t[c].cfg.rule_personal_baseline = c > 0 && c != CHEMO;
        t[c].cfg.personal_between_sd = tau;
        t[c].draws = calloc((size_t)p->n_relapse + 1, sizeof *t[c].draws);
        CHECK(t[c].draws && score_cohort(st, p->n_stable, rel, p->n_relapse, &t[c]) == 0);
    }

    const char *dir = getenv("RW_BUILDDIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/baseline.tsv", dir && *dir ? dir : ".");
    FILE *out = fopen(path, "w");
    const char *hdr = "config\tstable\tfalse_alerts\tfalse_alert_pct\trelapses\tcaught\t"
                      "alert_by_goal_draw\tmedian_alert_draw\tf_at_median_alert\t"
                      "median_lead_days\tz_personal_mean\tz_personal_sd\tfalse_alerts_by_rule\t"
                      "false_chemoresistance\n";
    char head[768];
    snprintf(head, sizeof head,
             "# 8 draws every 90 days; depth %gx; call at z >= %g; constitutional SD %g log2; "
             "stable share of the "
             "waves %g; %d-normal panel; between-draw SD calibrated on %d stable patients apart: "
             "%.4f log2 (setting's default %.4f); personal_z %g, personal_z_single %g; relapses "
             "f = 0.5%% doubling per draw, CN 6; goal draw %d (f = 4%%), clinical relapse at "
             "draw %d; %d no-calls\n",
             p->depth, w.ao.score.z_amplified, p->const_sd, p->stable_share, p->n_normals,
             p->n_calibration, tau, defaults.personal_between_sd, defaults.personal_z,
             defaults.personal_z_single, GOAL_DRAW + 1, CLIN_DRAW + 1, nc0 + nc1);
    printf("%s%s", head, hdr);
    if (out)
        fprintf(out, "%s%s", head, hdr);
    for (int c = 0; c < NCONF; c++) {
        report(stdout, p, &t[c]);
        if (out)
            report(out, p, &t[c]);
    }
    CHECK(out && fclose(out) == 0);
    if (p->full)
        sweep(p, st, rel, tau);

    /* What holds whatever the score's noise: the personal rule only adds alerts (so it never
     * loses a relapse); with the draws' SEs and the calibrated between-draw SD, z_personal of
     * stable draws is centred and about as wide as a standard normal; from the CVs (the panel's
     * spread, which also holds the spread between people) it is narrower: conservative. */
    for (int c = 1; c < CHEMO; c++) {
        CHECK(t[c].caught >= t[0].caught);
        CHECK(t[c].at_goal >= t[0].at_goal);
        CHECK(t[c].false_alerts >= t[0].false_alerts);
        CHECK(t[c].zn > p->n_stable * 3);
    }
    CHECK(fabs(z_mean(&t[2])) < 0.3 && z_sd(&t[2]) > 0.7 && z_sd(&t[2]) < 1.4);
    CHECK(fabs(z_mean(&t[1])) < 0.3 && z_sd(&t[1]) < z_sd(&t[2]));
    if (!p->full) {
        /* The goals, with the margins of a small cohort (the full numbers: bench/README.md).
         * False alerts (goal <= 2%, measured 0.5% on 200 patients at 0.1x): at most 10% here,
         * which a true 2% exceeds with probability 0.3%. Every relapse is caught by the last
         * draw (f = 64%), the median one before the clinic (draw 7) and with the personal
         * baseline by draw 6 (f = 16%; measured: draw 5, f = 8%, with and without it on 60
         * relapses; the panel rules alone reach draw 6 on this small cohort). NOT asserted,
         * because not met at 0.1x: the
         * median alert at the first draw with f >= 3% (draw 4): there the expected z_personal
         * is ~2.5 (the band's own SE ~0.03 log2 at 0.1x), so only 10-15% of relapses alert
         * there (bench/README.md). */
        CHECK(t[CHEMO].false_chemo <= p->n_stable / 10);
        for (int c = 0; c < CHEMO; c++) {
            CHECK(t[c].false_alerts <= p->n_stable / 10);
            CHECK(t[c].caught == p->n_relapse);
            CHECK(median_draw(&t[c], p->n_relapse) < CLIN_DRAW);
        }
        CHECK(median_draw(&t[2], p->n_relapse) + 1 <= 6);
    }
    for (int c = 0; c < NCONF; c++)
        free(t[c].draws);
    free(st);
    free(rel);
    world_free(&w);
    DONE();
}
