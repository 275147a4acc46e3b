/* Longitudinal engine: reads one patient's serial 1q21.3 results against her treatments and
 * returns a monitoring state and alert events, each with the evidence needed to recompute it.
 * Plain structs in, one rw_trend_result out (free with rw_trend_result_free()); the input is
 * borrowed and never modified. Days are days since 1970-01-01 (UTC calendar dates).
 *
 * DESIGN. The series is sorted by (day, sample id) and replayed draw by draw, as if each result
 * had just arrived; an alert fires at the first draw where its rule is met, then stays latched
 * ("open") and does not fire again while the signal persists. It re-arms (closes) after
 * `rearm_clear_draws` consecutive clear draws, or when its regime ends (a new surgery for
 * early_relapse, a new chemotherapy course for emerging_chemoresistance, the end of the
 * treatment course for responding). The result is a pure function of the input and the config.
 *
 * REGIMES.
 * - Epochs: a surgery (its start day) opens a new epoch; draws dated on the day of a surgery are
 *   taken as pre-operative (blood is drawn before the operation). When the input records any
 *   surgery, draws before the first one are `preoperative`: the primary tumour is still in
 *   place, so the early_relapse rules do not apply to them. Without any surgery recorded, every
 *   draw is post-operative (epoch 0).
 * - Chemotherapy window: start < day <= end (end open = still running). A draw on the start day
 *   is the pre-dose draw, i.e. the pre-treatment value; a draw on the last day is on treatment.
 *   Overlapping or touching chemotherapy windows merge into one course (one nadir).
 * - Treatment course for `responding`: the same, over the kinds in cfg.responding_kinds
 *   (default every kind but surgery).
 * - Assay families: swgs and bins are one family (both sWGS copy ratios), ddpcr another.
 *   Ratio comparisons (baseline, nadir, pre-treatment) only compare draws of one family;
 *   positive/negative calls are assay-independent.
 * - "Previous draw" for the two-draw rules is the most recent draw dated on an EARLIER day
 *   (same-day draws are one blood draw, not a confirmation), in the same epoch (or course).
 *
 * RULES (default on; cfg switches each one).
 *   early_relapse (draw off chemotherapy, not preoperative):
 *     strong_positive           the draw is a strong positive;
 *     two_consecutive_positive  the draw and the previous draw of the epoch are positive;
 *     rise_over_baseline        the draw and the previous same-family draw of the epoch both
 *                               exceed the baseline by more than the RCV (both off chemo);
 *     cusum (default OFF)       S_t = max(0, S_{t-1} + z_t - k) over the epoch's off-chemo
 *                               draws exceeds h (reset to 0 after an alarm and at a surgery);
 *                               z_t is the draw's PoN z-score, or ln R / sigma_A without one
 *                               (ddPCR, whose diploid CN is exact).
 *     personal_baseline         the draw's z_personal (below) is >= personal_z_single, or it
 *                               and the previous draw of its assay and panel in the epoch are
 *                               both >= personal_z (both off chemo).
 *   emerging_chemoresistance (draw inside a chemotherapy course):
 *     rise_from_nadir           the draw and the previous same-family draw of the course both
 *                               exceed the on-treatment nadir (lowest earlier draw of the
 *                               course) by more than the RCV;
 *     positive_after_negative   the draw is positive and the previous draw of the course was
 *                               negative.
 *   responding (draw inside a treatment course):
 *     fall_below_pretreatment   the draw is below the pre-treatment value (the last
 *                               same-family draw dated on or before the course start, in the
 *                               same epoch, and positive unless responding_requires_positive
 *                               is 0) by more than the RCV.
 * Baseline: geometric mean of the first `baseline_draws` negative, off-chemotherapy draws of
 * the epoch that are not themselves rises over the baseline so far (per family).
 * RCV (log-normal, Fraser): sigma = sqrt(ln(1 + CV^2)); comparing draws a and b,
 *   RCV_up = exp(Z * sqrt(sa^2 + sb^2 + 2 si^2)) - 1, RCV_down = exp(-Z * sqrt(...)) - 1,
 * which is exp(Z sqrt2 sqrt(sA^2 + sI^2)) - 1 when sa = sb. A baseline of several draws is
 * treated as one measurement with the root-mean-square of their sa (conservative). A draw
 * without uncertainty (cv NaN) uses cfg.cv_a_default, and its evidence says so.
 * PERSONAL BASELINE: the patient's own reference, so that her stable offset from the panel (a
 * constitutional copy-number change, a library bias of her samples) stops counting as signal.
 * For each (assay, panel_id) of an epoch: the first `baseline_draws` post-operative,
 * off-chemotherapy draws that are negative and not at or above personal_z against the
 * personal baseline so far. A later draw t of that assay and panel, with n >= 1 of them, gets
 *   z_personal = (ln R_t - mean ln R_b) / sqrt(s_t^2 + mean(s_b^2) / n),  s = sqrt(ln(1 + CV^2)),
 * the variance of a difference between one draw and the mean of n independent draws. A draw's
 * s^2 is (se_log2^2 + personal_between_sd^2) (ln 2)^2 when it gives its own SE: her stable
 * offset cancels in the difference, so only what changes from draw to draw counts, which is
 * the draw's own noise and the between-draw SD, a site's figure (measured on the serial
 * negatives of many patients, as cv_i is; test_baseline.c measures the realistic simulator's),
 * never the patient's own few draws. A draw without an SE takes s from its CV (the pipeline's
 * CV is that of its z denominator: the panel's leave-one-out spread, which also holds the
 * spread between people, so z_personal is then conservative); a CV given as NaN takes
 * cv_a_default (wide).
 * No-calls (sample.no_call) are skipped: they appear among the points with `skipped` set and
 * their reason, and are otherwise invisible to the replay.
 * Clear draw: for early_relapse a negative draw that does not rise over the baseline (nor,
 * with personal_baseline on, reach personal_z) (a
 * negative draw on chemotherapy counts: treatment that clears the signal ends the episode); for
 * emerging_chemoresistance a negative draw not above the nadir by more than the RCV. A rule met
 * while its alert is open is the same episode and adds no alert.
 *
 * STATE (after the last draw): the kind of the most recently fired alert still open (ties on
 * one draw: emerging_chemoresistance > early_relapse > responding); responding counts only
 * while the last draw is in the course where it fired. Without an open alert: `stable` when
 * the last draw is positive (1q21.3 detectable but no rule met: an unconfirmed positive, the
 * primary tumour in place, or an unchanging signal on treatment), else `not_detected` (also
 * for an empty series).
 *
 * The primary tumour's 1q21.3 status is carried to the output but changes no rule: the gain is
 * often acquired at recurrence (10-30% of primaries, >70% of recurrences, Goh 2017).
 * Lead time = first clinical_relapse event day - day of the first early_relapse alert, when
 * both exist (negative when the alert came after the clinic). */
#ifndef RW_TREND_H
#define RW_TREND_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

#define RW_TREND_OPEN_END     INT32_MAX /* end day of a treatment still running */
#define RW_TREND_BASELINE_MAX 8         /* upper limit of cfg.baseline_draws */
#define RW_TREND_REASON_MAX   64        /* size of a no-call's reason, with its NUL */

typedef enum rw_trend_assay {
    RW_TREND_SWGS = 0, /* sWGS from reads: R = 2^(mean log2 ratio of the band) */
    RW_TREND_BINS,     /* sWGS from an uploaded bins file: same scale as swgs */
    RW_TREND_DDPCR     /* ddPCR: R = CN / 2 */
} rw_trend_assay;

typedef enum rw_trend_treatment_kind {
    RW_TREAT_SURGERY = 0,
    RW_TREAT_CHEMOTHERAPY,
    RW_TREAT_ENDOCRINE,
    RW_TREAT_RADIOTHERAPY,
    RW_TREAT_TARGETED,
    RW_TREAT_OTHER
} rw_trend_treatment_kind;
#define RW_TREAT_NKINDS 6
#define RW_TREAT_BIT(k) (1u << (k))

typedef enum rw_trend_event_kind {
    RW_EVENT_CLINICAL_RELAPSE = 0,
    RW_EVENT_IMAGING_PROGRESSION,
    RW_EVENT_DEATH,
    RW_EVENT_OTHER
} rw_trend_event_kind;

typedef enum rw_trend_primary {
    RW_PRIMARY_UNKNOWN = 0,
    RW_PRIMARY_AMPLIFIED,
    RW_PRIMARY_NOT_AMPLIFIED
} rw_trend_primary;

typedef enum rw_trend_state {
    RW_STATE_NOT_DETECTED = 0,
    RW_STATE_STABLE,
    RW_STATE_EARLY_RELAPSE,
    RW_STATE_EMERGING_CHEMORESISTANCE,
    RW_STATE_RESPONDING
} rw_trend_state;

typedef enum rw_trend_alert_kind {
    RW_ALERT_EARLY_RELAPSE = 0,
    RW_ALERT_EMERGING_CHEMORESISTANCE,
    RW_ALERT_RESPONDING
} rw_trend_alert_kind;
#define RW_ALERT_NKINDS 3

typedef enum rw_trend_rule {
    RW_RULE_STRONG_POSITIVE = 0,
    RW_RULE_TWO_CONSECUTIVE_POSITIVE,
    RW_RULE_RISE_OVER_BASELINE,
    RW_RULE_CUSUM,
    RW_RULE_RISE_FROM_NADIR,
    RW_RULE_POSITIVE_AFTER_NEGATIVE,
    RW_RULE_FALL_BELOW_PRETREATMENT,
    RW_RULE_PERSONAL_BASELINE /* early_relapse: against the patient's own baseline (below) */
} rw_trend_rule;
#define RW_RULE_NRULES 8

/* Why an open alert closed (re-armed). */
typedef enum rw_trend_close {
    RW_CLOSE_NONE = 0,    /* still open after the last draw */
    RW_CLOSE_CLEAR_DRAWS, /* rearm_clear_draws consecutive clear draws */
    RW_CLOSE_NEW_SURGERY, /* a surgery opened a new epoch (early_relapse) */
    RW_CLOSE_NEW_COURSE,  /* a new chemotherapy / treatment course began */
    RW_CLOSE_COURSE_END   /* the treatment course ended (responding) */
} rw_trend_close;

/* One result of the series. Call flags: 1 / 0 as computed by the scoring code, or -1 to let
 * the engine derive them (sWGS: z >= z_positive / z_strong; ddPCR: lower 95% bound of
 * CN = 2R exp(-1.96 sigma_A) above ddpcr_cn_positive / ddpcr_cn_strong). strong implies
 * positive. */
typedef struct rw_trend_sample {
    int64_t sample_id; /* unique within the series */
    int32_t day;
    rw_trend_assay assay;
    double ratio; /* copy ratio R of 1q21.3, > 0 */
    double cv;    /* analytical CV of R (0.05 = 5%); NaN = unknown (cfg.cv_a_default used) */
    double z;     /* z-score against the PoN (sWGS); NaN for ddPCR */
    int positive; /* 1 amplified, 0 not, -1 derive */
    int strong;   /* 1 strong positive, 0 not, -1 derive */
    /* The draw's own standard error of log2 R (sWGS; core/score.h `se`: its own noise at the
     * band's scale; the daemon's results.se), for personal_baseline; 0 or NaN = not given. */
    double se_log2;
    /* The panel of normals the value was scored against (sWGS; the daemon's pons.id): a
     * personal baseline compares draws of one assay and one panel only, since another panel
     * moves the value. 0 = not given: such draws of one assay are taken as one panel. */
    int64_t panel_id;
    /* 1: a no-call (the pipeline's insufficient_quality or no_data): the draw is kept in the
     * output, marked skipped, and takes no part in the replay (no rule, no baseline, never a
     * negative or clear draw, never a "previous draw"); ratio, cv and z are not read. */
    int no_call;
    char no_call_reason[RW_TREND_REASON_MAX]; /* why ("" = none given), copied to the output */
    /* 1: the result was retracted (a swapped or mislabelled draw, the daemon's
     * samples.retracted_at): skipped exactly like a no-call, and shown with `retracted`. */
    int retracted;
} rw_trend_sample;

typedef struct rw_trend_treatment {
    rw_trend_treatment_kind kind;
    int32_t start;
    int32_t end; /* RW_TREND_OPEN_END while running; >= start */
} rw_trend_treatment;

typedef struct rw_trend_event {
    rw_trend_event_kind kind;
    int32_t day;
} rw_trend_event;

/* Borrowed arrays; any may be empty (NULL with n = 0). */
typedef struct rw_trend_input {
    const rw_trend_sample *samples;
    size_t nsamples;
    const rw_trend_treatment *treatments;
    size_t ntreatments;
    const rw_trend_event *events;
    size_t nevents;
    rw_trend_primary primary;
} rw_trend_input;

/* Every threshold of the engine. rw_trend_config_init() sets the defaults shown. */
typedef struct rw_trend_config {
    double rcv_z;             /* 1.65: one-sided 95% for the RCV */
    double cv_i;              /* 0.05: within-person CV of R (method §6.4, until measured) */
    double cv_a_default;      /* 0.10: analytical CV of a draw given without one; deliberately
                                 wider than sWGS band (~2-5%) or merged ddPCR (~5%) noise, so a
                                 missing uncertainty widens the RCV instead of narrowing it */
    int baseline_draws;       /* 2: negative draws averaged into the post-surgery baseline (1..8) */
    int rearm_clear_draws;    /* 2: consecutive clear draws that re-arm an open alert (>= 1) */
    double z_positive;        /* 3.0: derived sWGS call (flag -1) */
    double z_strong;          /* 5.0 */
    double ddpcr_cn_positive; /* 2.2: derived ddPCR call: lower 95% bound of CN above this */
    double ddpcr_cn_strong;   /* 3.0: derived ddPCR strong call (lower bound of CN) */
    /* Rule switches (1 on, 0 off). */
    int rule_strong_positive;          /* 1 */
    int rule_two_consecutive_positive; /* 1 */
    int rule_rise_over_baseline;       /* 1 */
    int rule_cusum;                    /* 0: see rw_trend_config_init() for why */
    int rule_rise_from_nadir;          /* 1 */
    int rule_positive_after_negative;  /* 1 */
    int rule_fall_below_pretreatment;  /* 1 */
    double cusum_k;                    /* 0.5 (z units) */
    double cusum_h;                    /* 4.0 (z units) */
    int responding_requires_positive;  /* 1: the pre-treatment draw must be positive */
    int rule_personal_baseline;        /* 0 (see core/settings.c) */
    double personal_between_sd;        /* 0.01 log2: draw-to-draw SD of one person's 1q21.3
                                          value beyond each draw's own SE (see core/settings.c) */
    double personal_z;                 /* 2.0: two consecutive draws at or above it */
    double personal_z_single;          /* 3.0: one draw at or above it */
    unsigned responding_kinds;         /* RW_TREAT_BIT() mask; default all kinds but surgery */
} rw_trend_config;

/* Sets the defaults above. */
void rw_trend_config_init(rw_trend_config *cfg);
/* RW_ERR_USAGE with a message naming the field when a value is out of range. */
rw_status rw_trend_config_check(const rw_trend_config *cfg, rw_error *err)
    __attribute__((warn_unused_result));

/* RCV of a rise (> 0) comparing two draws of analytical CVs cv_a, cv_b (fractions) with
 * within-person CV cv_i: exp(z sqrt(sa^2 + sb^2 + 2 si^2)) - 1, sigma = sqrt(ln(1 + CV^2)). */
double rw_trend_rcv_up(double cv_a, double cv_b, double cv_i, double z);
/* RCV of a fall (< 0): exp(-z sqrt(sa^2 + sb^2 + 2 si^2)) - 1. */
double rw_trend_rcv_down(double cv_a, double cv_b, double cv_i, double z);
/* Analytical CV of R from the standard error of log2 R: sqrt(exp((se ln 2)^2) - 1). */
double rw_trend_cv_from_se_log2(double se_log2);

/* One draw as the engine saw it (call flags and CV resolved) and its context. */
typedef struct rw_trend_point {
    rw_trend_sample s;     /* cv, positive, strong resolved (never NaN / -1) */
    int cv_defaulted;      /* s.cv came from cfg.cv_a_default */
    int calls_derived;     /* positive/strong were derived by the engine */
    int preoperative;      /* before the first recorded surgery */
    int epoch;             /* number of surgeries dated before the draw */
    int on_chemo;          /* inside a chemotherapy course */
    int on_treatment;      /* inside a responding-kind treatment course */
    double baseline;       /* baseline R the draw was compared with, NaN if none */
    double baseline_limit; /* baseline (1 + RCV_up): a rise is above it; NaN if none */
    double nadir;          /* on-treatment nadir R before the draw, NaN if none */
    double nadir_limit;    /* nadir (1 + RCV_up), NaN if none */
    double cusum;          /* CUSUM S after the draw (rule_cusum on, off-chemo), else NaN */
    int skipped;           /* a no-call (s.no_call) or retracted (s.retracted): not replayed */
    int personal_n;        /* personal baseline draws the draw was compared with (0: none) */
    double personal_ref;   /* their geometric mean R, NaN if none */
    double personal_sd;    /* SD of ln(R / personal_ref): the denominator of z_personal */
    double z_personal;     /* ln(R / personal_ref) / personal_sd, NaN if none */
} rw_trend_point;

typedef enum rw_trend_role {
    RW_ROLE_TRIGGER = 0, /* a draw whose value meets the rule */
    RW_ROLE_BASELINE,
    RW_ROLE_NADIR,
    RW_ROLE_PRETREATMENT,
    RW_ROLE_PREVIOUS /* the earlier draw a rule contrasts with (positive_after_negative) */
} rw_trend_role;

/* A draw cited in evidence. */
typedef struct rw_trend_draw {
    rw_trend_point p;
    rw_trend_role role;
    double rcv;   /* trigger of a ratio rule: RCV used against the reference; else NaN */
    double limit; /* trigger of a ratio rule: reference (1 + rcv); else NaN */
    double cusum; /* cusum rule: S after this draw; else NaN */
} rw_trend_draw;

/* One rule met at the draw that raised the alert. */
typedef struct rw_trend_evidence {
    rw_trend_rule rule;
    double reference; /* baseline (geometric mean), nadir or pre-treatment R; NaN if none */
    double rcv_z, cv_i, cv_a_default; /* RCV inputs */
    double z_positive, z_strong;      /* call thresholds (used when calls were derived) */
    double cusum_k, cusum_h;
    double personal_z, personal_z_single; /* personal_baseline thresholds */
    double personal_between_sd;           /* and its between-draw SD (log2) */
    size_t ndraws;
    rw_trend_draw *draws; /* reference draws first, then triggers oldest first */
} rw_trend_evidence;

typedef struct rw_trend_alert {
    rw_trend_alert_kind kind;
    int64_t sample_id; /* the draw that raised it */
    int32_t day;       /* its day: the day the alert fired */
    size_t nevidence;
    rw_trend_evidence *evidence; /* every rule of the kind met at that draw, in rule order */
    rw_trend_close closed_by;
    int64_t closed_sample_id; /* draw at which it closed; -1 while open */
    int32_t closed_day;
} rw_trend_alert;

typedef struct rw_trend_result {
    rw_trend_state state;
    rw_trend_primary primary;
    size_t npoints;
    rw_trend_point *points; /* the series sorted by (day, sample id) */
    size_t nalerts;
    rw_trend_alert *alerts; /* in firing order */
    int has_lead_time;
    int32_t lead_time_days; /* relapse_day - alert day */
    int32_t relapse_day;    /* first clinical_relapse event, if any */
    int64_t lead_sample_id; /* first early_relapse alert's draw */
    int32_t lead_alert_day;
    int has_relapse;
} rw_trend_result;

/* Runs the engine. cfg NULL = defaults. On success *out is a new result (free with
 * rw_trend_result_free()); on error *out is NULL and err says which sample or treatment is bad
 * (RW_ERR_INPUT: non-positive or non-finite ratio, negative CV, duplicate sample id, unknown
 * enum, end before start; RW_ERR_USAGE: bad config). */
rw_status rw_trend_run(const rw_trend_input *in, const rw_trend_config *cfg, rw_trend_result **out,
                       rw_error *err) __attribute__((warn_unused_result));
/* NULL-safe. */
void rw_trend_result_free(rw_trend_result *r);

/* The rule table: one row a rule, in rw_trend_rule order (the order an alert's evidence lists
 * its rules in). The engine replays each alert kind as one step that sets the kind's context
 * (baseline, nadir, pre-treatment draw) and runs the switched-on rules of that kind from this
 * table; the CLI and the JSON forms read the rules' names and switches from it. */
struct rw_trend_replay; /* the engine's replay state, private to core/trend.c */
typedef struct rw_trend_rule_def {
    rw_trend_rule id;
    rw_trend_alert_kind kind; /* the alert the rule raises */
    const char *name;         /* in JSON, the UI and the CLI's --no-rule */
    size_t on;                /* offsetof(rw_trend_config, rule_<name>): the rule's switch */
    /* The engine's test at draw i: adds the rule's evidence when it is met (and keeps the
     * rule's running state, e.g. the CUSUM sum); RW_ERR_NOMEM when out of memory. */
    rw_status (*test)(struct rw_trend_replay *r, size_t i);
} rw_trend_rule_def;

/* The table (static, RW_RULE_NRULES rows; *n gets the count when not NULL). */
const rw_trend_rule_def *rw_trend_rules(size_t *n);
/* The switch of rule r in cfg (1 on, 0 off); NULL for an unknown rule. */
int *rw_trend_rule_switch(rw_trend_config *cfg, rw_trend_rule r);
/* 1 when rule r is switched on in cfg; 0 when off or unknown. */
int rw_trend_rule_on(const rw_trend_config *cfg, rw_trend_rule r);

/* Names used in JSON and the UI (static strings; rule names from the table above) and their
 * parsers (0 on success, -1 for an unknown name; the parse is exact and lower-case). */
const char *rw_trend_assay_name(rw_trend_assay a);
const char *rw_trend_treatment_name(rw_trend_treatment_kind k);
const char *rw_trend_event_name(rw_trend_event_kind k);
const char *rw_trend_primary_name(rw_trend_primary p);
const char *rw_trend_state_name(rw_trend_state s);
const char *rw_trend_alert_name(rw_trend_alert_kind k);
const char *rw_trend_rule_name(rw_trend_rule r);
const char *rw_trend_role_name(rw_trend_role r);
const char *rw_trend_close_name(rw_trend_close c);
int rw_trend_assay_parse(const char *s, rw_trend_assay *out);
int rw_trend_treatment_parse(const char *s, rw_trend_treatment_kind *out);
int rw_trend_event_parse(const char *s, rw_trend_event_kind *out);
int rw_trend_primary_parse(const char *s, rw_trend_primary *out);
int rw_trend_rule_parse(const char *s, rw_trend_rule *out);

#endif
