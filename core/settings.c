/* The one table of analysis settings (core/settings.h): defaults, ranges, help and sources. */
#include "core/settings.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Where a setting goes: the struct and the field's offset in it. */
/* clang-format off */
#define SCORE(f)   {RW_SET_SCORE, offsetof(rw_score_opts, f)}
#define SEGMENT(f) {RW_SET_SEGMENT, offsetof(rw_segment_opts, f)}
#define PURITY(f)  {RW_SET_PURITY, offsetof(rw_purity_opts, f)}
#define DDPCR(f)   {RW_SET_DDPCR, offsetof(rw_ddpcr_opts, f)}
#define TREND(f)   {RW_SET_TREND, offsetof(rw_trend_config, f)}
#define PON(f)     {RW_SET_PON, offsetof(rw_pon_opts, f)}
#define NONE       {RW_SET_NONE, 0}
/* clang-format on */

#define M4 "docs/method.md §4"
#define M5 "docs/method.md §5"
#define M6 "docs/method.md §6"

/* Treatment kinds a `responding` course is made of: every kind but surgery. */
#define RESPONDING_KINDS                                                                           \
    (RW_TREAT_BIT(RW_TREAT_CHEMOTHERAPY) | RW_TREAT_BIT(RW_TREAT_ENDOCRINE) |                      \
     RW_TREAT_BIT(RW_TREAT_RADIOTHERAPY) | RW_TREAT_BIT(RW_TREAT_TARGETED) |                       \
     RW_TREAT_BIT(RW_TREAT_OTHER))
#define ALL_KINDS ((1u << RW_TREAT_NKINDS) - 1)

/* clang-format off */
static const rw_setting table[] = {
    /* --- sWGS call of 1q21.3 and segment calls --- */
    {"z_amplified", "z-threshold", "call", RW_SETTING_REAL, {SCORE(z_amplified), TREND(z_positive)},
     3.0, 0.1, 100, "Z", "z",
     "1q21.3 is amplified when its z-score against the panel is at least this (one-sided)", M4},
    {"z_strong", NULL, "call", RW_SETTING_REAL, {SCORE(z_strong), TREND(z_strong)},
     5.0, 0.1, 100, "Z", "z", "strong positive when the z-score is at least this", M4},
    {"ci_z", NULL, "call", RW_SETTING_REAL, {SCORE(ci_z), NONE},
     1.959963984540054, 0.5, 5, "Z", "z",
     "normal quantile of the copy-ratio and tumour-fraction intervals (1.96: 95%)", M4},
    {"zero_floor", NULL, "call", RW_SETTING_REAL, {SCORE(zero_floor), NONE},
     0.5, 0.01, 10, "READS", "reads", "a usable bin with no read is read as this many reads", M4},
    {"use_sample_se", NULL, "call", RW_SETTING_BOOL, {SCORE(use_sample_se), NONE},
     1, 0, 1, "BOOL", "",
     "z denominator = max(panel SD, the sample's own SE) (false: the panel SD alone)", M4},
    {"calibrate_z", NULL, "call", RW_SETTING_BOOL, {SCORE(calibrate_z), NONE},
     1, 0, 1, "BOOL", "",
     "inflate the z denominator for the panel's size (Student t at the call threshold; false: "
     "the plain panel SD)", M4},
    {"seg_loss_below", NULL, "call", RW_SETTING_REAL, {SEGMENT(loss_below), NONE},
     -0.15, -5, 0, "LOG2", "log2", "a segment is a loss when its mean log2 ratio is below this",
     M4},
    {"seg_gain_above", NULL, "call", RW_SETTING_REAL, {SEGMENT(gain_above), NONE},
     0.10, 0, 5, "LOG2", "log2", "a segment is a gain when its mean log2 ratio is above this", M4},
    {"seg_amp_above", NULL, "call", RW_SETTING_REAL, {SEGMENT(amp_above), NONE},
     0.585, 0, 10, "LOG2", "log2",
     "a segment is an amplification when its mean log2 ratio is above this", M4},
    /* --- quality gates --- */
    {"tf_detection_limit", NULL, "quality", RW_SETTING_REAL, {PURITY(detection_limit), NONE},
     0.03, 0, 1, "FRACTION", "fraction",
     "a genome-wide tumour fraction below this is flagged below_detection", M4},
    {"tf_caution_limit", NULL, "quality", RW_SETTING_REAL, {PURITY(caution_limit), NONE},
     0.05, 0, 1, "FRACTION", "fraction",
     "a genome-wide tumour fraction below this is flagged low_fraction", M4},
    {"tf_evidence_min", NULL, "quality", RW_SETTING_REAL, {PURITY(evidence_min), NONE},
     8.2, 0, 1000, "NATS", "nats",
     "the genome-wide fit's log-likelihood gain over no tumour must reach this, else "
     "below_detection (the 99th percentile of 500 realistic simulated normals, 0.1x, 500 kb, "
     "against 12 realistic normals with GC: bench/purity.sh)", M4},
    {"pon_min_normals", "min-normals", "quality", RW_SETTING_INT, {PON(min_normals), NONE},
     5, 3, 100000, "N", "normals", "a panel of fewer normals is refused", M4},
    {"pon_recommended_normals", "recommended-normals", "quality", RW_SETTING_INT,
     {PON(recommended_normals), NONE}, 10, 3, 100000, "N", "normals",
     "a panel of fewer normals is flagged low_normals (a warning)", M4},
    {"quality_fraction", NULL, "quality", RW_SETTING_REAL, {SCORE(quality_fraction), NONE},
     0.10, 0, 1, "FRACTION", "fraction",
     "a sample too noisy to detect this tumour fraction at 1q21.3 is insufficient_quality "
     "(0: no gate)", M4},
    {"quality_cn", NULL, "quality", RW_SETTING_REAL, {SCORE(quality_cn), NONE},
     6.0, 2.5, 100, "CN", "copies", "... at this tumour copy number of 1q21.3", M4},
    {"quality_power_z", NULL, "quality", RW_SETTING_REAL, {SCORE(quality_power_z), NONE},
     1.2815515655446004, 0, 10, "Z", "z",
     "... with this normal quantile of power beyond the call threshold (1.28: 90%)", M4},
    /* --- panel masking --- */
    {"pon_min_median", "min-median", "masking", RW_SETTING_REAL, {PON(min_median), NONE},
     0.2, 0, 1, "DEPTH", "relative depth",
     "mask bins whose median normalised depth across the normals is below this", M4},
    {"pon_max_cv", "max-cv", "masking", RW_SETTING_REAL, {PON(max_cv), NONE},
     0.5, 0.001, 10, "CV", "CV", "mask bins whose robust CV across the normals is above this", M4},
    {"pon_max_cv_factor", "max-cv-factor", "masking", RW_SETTING_REAL, {PON(max_cv_factor), NONE},
     3.0, 1, 100, "X", "times",
     "... or above this many times the median robust CV of the bins", M4},
    {"pon_max_components", "max-components", "masking", RW_SETTING_INT,
     {PON(max_components), NONE}, 5, 0, RW_PON_MAX_COMPONENTS, "K", "components",
     "at most this many principal components of the panel are removed from every sample", M4},
    {"pon_component_ratio", "component-ratio", "masking", RW_SETTING_REAL,
     {PON(component_ratio), NONE}, 1.5, 1, 1000, "X", "times",
     "a component is kept when its eigenvalue exceeds this many times the median eigenvalue",
     M4},
    {"pon_frag_weighted", NULL, "masking", RW_SETTING_BOOL, {PON(frag_weighted), NONE},
     1, 0, 1, "BOOL", "",
     "a panel of paired-end normals counts each fragment by the tumour/normal likelihood ratio "
     "of its length (false: all fragments); samples follow their panel (bench/fragments.sh)",
     "docs/method.md §4.10"},
    /* --- ddPCR --- */
    {"ddpcr_cn_amplified", "ddpcr-cn-positive", "ddpcr", RW_SETTING_REAL,
     {DDPCR(amplified_lower), TREND(ddpcr_cn_positive)}, 2.2, 0, 1000, "CN", "copies",
     "ddPCR amplified when the lower 95% bound of the copy number is above this", M5},
    {"ddpcr_cn_strong", NULL, "ddpcr", RW_SETTING_REAL, {TREND(ddpcr_cn_strong), NONE},
     3.0, 0, 1000, "CN", "copies",
     "ddPCR strong positive when the lower 95% bound of the copy number is above this", M5},
    {"ddpcr_droplet_volume_nl", "droplet-volume", "ddpcr", RW_SETTING_REAL,
     {DDPCR(droplet_volume_nl), NONE}, 0.85, 0.001, 100, "NL", "nL",
     "droplet volume when the wells do not give one (Bio-Rad QX200: 0.85)", M5},
    {"ddpcr_ref_copies", "ref-copies", "ddpcr", RW_SETTING_REAL, {DDPCR(ref_copies), NONE},
     2.0, 0.5, 10, "N", "copies", "copies of the reference amplicon per genome (autosomal: 2)",
     M5},
    {"ddpcr_min_droplets", "min-droplets", "ddpcr", RW_SETTING_COUNT,
     {DDPCR(min_droplets), NONE}, 100, 0, 10000000, "N", "droplets",
     "flag a channel with fewer positive or negative droplets", M5},
    /* --- serial monitoring (RCV, rules) --- */
    {"rcv_z", NULL, "monitoring", RW_SETTING_REAL, {TREND(rcv_z), NONE},
     1.65, 0, 10, "Z", "z", "normal quantile of the reference change value (1.65: one-sided 95%)",
     M6},
    {"cv_within_person", "cv-i", "monitoring", RW_SETTING_REAL, {TREND(cv_i), NONE},
     0.05, 0, 10, "CV", "CV", "within-person CV of the copy ratio (CV_I of the RCV)", M6},
    {"cv_analytical_default", "cv-default", "monitoring", RW_SETTING_REAL,
     {TREND(cv_a_default), NONE}, 0.10, 0, 10, "CV", "CV",
     "analytical CV of a draw given without one (wider than real sWGS/ddPCR noise)", M6},
    {"baseline_draws", NULL, "monitoring", RW_SETTING_INT, {TREND(baseline_draws), NONE},
     2, 1, RW_TREND_BASELINE_MAX, "N", "draws",
     "negative draws averaged into the post-surgery baseline", M6},
    {"rearm_clear_draws", "rearm", "monitoring", RW_SETTING_INT, {TREND(rearm_clear_draws), NONE},
     2, 1, 1000, "N", "draws", "consecutive clear draws that re-arm an open alert", M6},
    {"rule_strong_positive", NULL, "monitoring", RW_SETTING_BOOL,
     {TREND(rule_strong_positive), NONE}, 1, 0, 1, "BOOL", "",
     "early_relapse rule: one strong positive draw", M6},
    {"rule_two_consecutive_positive", NULL, "monitoring", RW_SETTING_BOOL,
     {TREND(rule_two_consecutive_positive), NONE}, 1, 0, 1, "BOOL", "",
     "early_relapse rule: two consecutive positive draws", M6},
    {"rule_rise_over_baseline", NULL, "monitoring", RW_SETTING_BOOL,
     {TREND(rule_rise_over_baseline), NONE}, 1, 0, 1, "BOOL", "",
     "early_relapse rule: two draws above the baseline by more than the RCV", M6},
    /* Off: one woman's PoN z-scores are not independent N(0, 1) draws (her own offset from the
     * panel and the within-person CV add to every z), so S drifts upward on stable negatives;
     * with 4-10 draws per patient it adds false alerts while the positivity and RCV rules
     * already catch a rising tumour fraction (tests/unit/test_trend.c measures both). */
    {"rule_cusum", NULL, "monitoring", RW_SETTING_BOOL, {TREND(rule_cusum), NONE},
     0, 0, 1, "BOOL", "", "early_relapse rule: CUSUM of the z-scores above cusum_h", M6},
    {"cusum_k", NULL, "monitoring", RW_SETTING_REAL, {TREND(cusum_k), NONE},
     0.5, 0, 100, "Z", "z", "CUSUM allowance k", M6},
    {"cusum_h", NULL, "monitoring", RW_SETTING_REAL, {TREND(cusum_h), NONE},
     4.0, 0.001, 1000, "Z", "z", "CUSUM decision limit h", M6},
    {"rule_rise_from_nadir", NULL, "monitoring", RW_SETTING_BOOL,
     {TREND(rule_rise_from_nadir), NONE}, 1, 0, 1, "BOOL", "",
     "emerging_chemoresistance rule: two draws above the nadir by more than the RCV", M6},
    {"rule_positive_after_negative", NULL, "monitoring", RW_SETTING_BOOL,
     {TREND(rule_positive_after_negative), NONE}, 1, 0, 1, "BOOL", "",
     "emerging_chemoresistance rule: a positive draw after a negative one", M6},
    {"rule_fall_below_pretreatment", NULL, "monitoring", RW_SETTING_BOOL,
     {TREND(rule_fall_below_pretreatment), NONE}, 1, 0, 1, "BOOL", "",
     "responding rule: a draw below the pre-treatment value by more than the RCV", M6},
    {"responding_requires_positive", NULL, "monitoring", RW_SETTING_BOOL,
     {TREND(responding_requires_positive), NONE}, 1, 0, 1, "BOOL", "",
     "responding needs a positive pre-treatment draw", M6},
    {"responding_kinds", NULL, "monitoring", RW_SETTING_KINDS, {TREND(responding_kinds), NONE},
     RESPONDING_KINDS, 0, ALL_KINDS, "KINDS", "",
     "treatment kinds whose courses can show a response (comma-separated)", M6},
    /* The patient's own baseline (issue 10.5). Off by default until a site has measured
     * personal_between_sd on its own serial negatives (0.01 is our margin over the realistic
     * simulator's 0.000); the thresholds: the lowest of bench/baseline.sh's sweep that keep the
     * false alerts of simulated stable 8-draw series <= 2% at 0.1x and 0.3x (1.0% and 1.3%)
     * and alert the median relapse at the first draw with f >= 3% at 0.3x (bench/README.md). */
    {"rule_personal_baseline", NULL, "monitoring", RW_SETTING_BOOL,
     {TREND(rule_personal_baseline), NONE}, 0, 0, 1, "BOOL", "",
     "early_relapse rule: draws above the patient's own baseline (same assay and panel)", M6},
    {"personal_between_sd", NULL, "monitoring", RW_SETTING_REAL,
     {TREND(personal_between_sd), NONE}, 0.01, 0, 10, "LOG2", "log2",
     "personal_baseline: draw-to-draw SD of one person's 1q21.3 log2 ratio beyond each draw's "
     "own SE (measure it on serial negatives)", M6},
    {"personal_z", NULL, "monitoring", RW_SETTING_REAL, {TREND(personal_z), NONE},
     2.0, 0.1, 100, "Z", "z",
     "personal_baseline: two consecutive draws with z against her own baseline at least this", M6},
    {"personal_z_single", NULL, "monitoring", RW_SETTING_REAL, {TREND(personal_z_single), NONE},
     3.0, 0.1, 100, "Z", "z",
     "personal_baseline: one draw with z against her own baseline at least this", M6},
};
/* clang-format on */
#define NTABLE (sizeof table / sizeof table[0])

const rw_setting *rw_settings_table(size_t *n)
{
    *n = NTABLE;
    return table;
}

/* Compares name with a setting name, '-' matching '_'. */
static int same_name(const char *a, const char *name)
{
    for (; *a && *name; a++, name++)
        if (*a != *name && !(*a == '-' && *name == '_'))
            return 0;
    return *a == *name;
}

const rw_setting *rw_setting_find(const char *name)
{
    for (size_t i = 0; i < NTABLE; i++)
        if (same_name(name, table[i].name) || (table[i].alias && !strcmp(name, table[i].alias)))
            return &table[i];
    return NULL;
}

static void put(const rw_setting *d, void *field, double v)
{
    switch (d->type) {
    case RW_SETTING_REAL:
        *(double *)field = v;
        break;
    case RW_SETTING_INT:
    case RW_SETTING_BOOL:
        *(int *)field = (int)v;
        break;
    case RW_SETTING_COUNT:
        *(uint64_t *)field = (uint64_t)v;
        break;
    case RW_SETTING_KINDS:
        *(unsigned *)field = (unsigned)v;
        break;
    }
}

void rw_settings_defaults(rw_settings_struct in, void *obj)
{
    for (size_t i = 0; i < NTABLE; i++)
        for (int k = 0; k < 2; k++)
            if (table[i].to[k].in == in && in != RW_SET_NONE)
                put(&table[i], (char *)obj + table[i].to[k].offset, table[i].def);
}

void rw_settings_init(rw_settings *s)
{
    memset(s, 0, sizeof *s);
    rw_analyse_opts_init(&s->analyse);
    rw_ddpcr_opts_init(&s->ddpcr);
    rw_trend_config_init(&s->trend);
    rw_pon_opts_init(&s->pon);
}

/* The address of the struct `in` inside s. */
static char *struct_of(const rw_settings *s, rw_settings_struct in)
{
    char *b = (char *)s;
    switch (in) {
    case RW_SET_SCORE:
        return b + offsetof(rw_settings, analyse.score);
    case RW_SET_SEGMENT:
        return b + offsetof(rw_settings, analyse.seg);
    case RW_SET_PURITY:
        return b + offsetof(rw_settings, analyse.purity);
    case RW_SET_DDPCR:
        return b + offsetof(rw_settings, ddpcr);
    case RW_SET_TREND:
        return b + offsetof(rw_settings, trend);
    case RW_SET_PON:
        return b + offsetof(rw_settings, pon);
    case RW_SET_NONE:
        break;
    }
    return NULL;
}

double rw_setting_value(const rw_settings *s, const rw_setting *d)
{
    const char *f = struct_of(s, d->to[0].in) + d->to[0].offset;
    switch (d->type) {
    case RW_SETTING_REAL:
        return *(const double *)f;
    case RW_SETTING_INT:
    case RW_SETTING_BOOL:
        return *(const int *)f;
    case RW_SETTING_COUNT:
        return (double)*(const uint64_t *)f;
    case RW_SETTING_KINDS:
        return *(const unsigned *)f;
    }
    return NAN;
}

static void format_value(const rw_setting *d, double v, char *buf, size_t n)
{
    if (d->type == RW_SETTING_BOOL) {
        snprintf(buf, n, "%s", v != 0 ? "true" : "false");
    } else if (d->type == RW_SETTING_KINDS) {
        size_t len = 0;
        buf[0] = '\0';
        for (int k = 0; k < RW_TREAT_NKINDS; k++)
            if (((unsigned)v & RW_TREAT_BIT(k)) && len < n)
                len += (size_t)snprintf(buf + len, n - len, "%s%s", len ? "," : "",
                                        rw_trend_treatment_name((rw_trend_treatment_kind)k));
        if (!len)
            snprintf(buf, n, "none");
    } else {
        /* the shortest text that reads back as the same number (1.96 stays short) */
        for (int digits = 6; digits <= 17; digits++) {
            snprintf(buf, n, "%.*g", digits, v);
            if (strtod(buf, NULL) == v)
                break;
        }
    }
}

void rw_setting_format(const rw_settings *s, const rw_setting *d, char *buf, size_t n)
{
    format_value(d, rw_setting_value(s, d), buf, n);
}

void rw_setting_format_default(const rw_setting *d, char *buf, size_t n)
{
    format_value(d, d->def, buf, n);
}

/* "a,b,c" treatment kind names (or "none") -> bit mask; 0 on success. */
static int parse_kinds(const char *text, double *out)
{
    char buf[256];
    unsigned mask = 0;
    if (snprintf(buf, sizeof buf, "%s", text) >= (int)sizeof buf)
        return -1;
    if (!strcmp(buf, "none")) {
        *out = 0;
        return 0;
    }
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        rw_trend_treatment_kind k;
        while (*t == ' ')
            t++;
        if (rw_trend_treatment_parse(t, &k))
            return -1;
        mask |= RW_TREAT_BIT(k);
    }
    *out = mask;
    return mask ? 0 : -1;
}

/* The text of a value of d as a number; 0 on success (the range is checked by the caller). */
static int parse_value(const rw_setting *d, const char *text, double *out)
{
    static const char *const yes[] = {"true", "on", "yes", "1"}, *const no[] = {"false", "off",
                                                                                "no", "0"};
    char *end;
    switch (d->type) {
    case RW_SETTING_BOOL:
        for (size_t i = 0; i < 4; i++) {
            if (!strcasecmp(text, yes[i]) || !strcasecmp(text, no[i])) {
                *out = !strcasecmp(text, yes[i]);
                return 0;
            }
        }
        return -1;
    case RW_SETTING_KINDS:
        return parse_kinds(text, out);
    case RW_SETTING_INT:
    case RW_SETTING_COUNT: {
        errno = 0;
        long long v = strtoll(text, &end, 10);
        if (errno || end == text || *end)
            return -1;
        *out = (double)v;
        return 0;
    }
    case RW_SETTING_REAL:
        errno = 0;
        *out = strtod(text, &end);
        return errno || end == text || *end || !isfinite(*out) ? -1 : 0;
    }
    return -1;
}

static rw_status bad_value(const rw_setting *d, const char *value, rw_error *err)
{
    static const char *const what[] = {"a number", "an integer", "an integer", "true or false",
                                       "treatment kinds"};
    if (d->type == RW_SETTING_BOOL)
        return rw_error_set(err, RW_ERR_USAGE, "%s: '%s' is not true or false", d->name, value);
    if (d->type == RW_SETTING_KINDS)
        return rw_error_set(err, RW_ERR_USAGE,
                            "%s: '%s' is not a comma-separated list of treatment kinds "
                            "(chemotherapy, endocrine, radiotherapy, targeted, other, surgery)",
                            d->name, value);
    if (d->type == RW_SETTING_REAL)
        return rw_error_set(err, RW_ERR_USAGE, "%s: '%s' is not %s in [%g, %g]", d->name, value,
                            what[d->type], d->min, d->max);
    return rw_error_set(err, RW_ERR_USAGE, "%s: '%s' is not %s in %.0f..%.0f", d->name, value,
                        what[d->type], d->min, d->max);
}

rw_status rw_settings_set(rw_settings *s, const char *name, const char *value, rw_error *err)
{
    const rw_setting *d = rw_setting_find(name);
    if (!d)
        return rw_error_set(err, RW_ERR_USAGE, "unknown setting '%s'", name);
    double v;
    if (parse_value(d, value, &v) || v < d->min || v > d->max ||
        (d->type == RW_SETTING_KINDS && ((unsigned)v & ~(unsigned)d->max)))
        return bad_value(d, value, err);
    for (int k = 0; k < 2; k++)
        if (d->to[k].in != RW_SET_NONE)
            put(d, struct_of(s, d->to[k].in) + d->to[k].offset, v);
    return RW_OK;
}

rw_status rw_settings_set_pair(rw_settings *s, const char *pair, rw_error *err)
{
    const char *eq = strchr(pair, '=');
    char name[128];
    if (!eq || eq == pair || (size_t)(eq - pair) >= sizeof name)
        return rw_error_set(err, RW_ERR_USAGE, "'%s' is not NAME=VALUE", pair);
    memcpy(name, pair, (size_t)(eq - pair));
    name[eq - pair] = '\0';
    return rw_settings_set(s, name, eq + 1, err);
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && strchr(" \t\r\n", s[n - 1]))
        s[--n] = '\0';
    return s;
}

rw_status rw_settings_read_file(rw_settings *s, const char *path, rw_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return rw_error_set(err, RW_ERR_IO, "%s: %s", path, strerror(errno));
    char line[1024];
    int lineno = 0;
    rw_status st = RW_OK;
    while (st == RW_OK && fgets(line, sizeof line, f)) {
        lineno++;
        char *t = trim(line), *eq = strchr(t, '=');
        if (!*t || *t == '#')
            continue;
        if (!eq) {
            st = rw_error_set(err, RW_ERR_USAGE, "%s:%d: expected 'name = value'", path, lineno);
            break;
        }
        *eq = '\0';
        char *key = trim(t), *val = trim(eq + 1);
        size_t vl = strlen(val);
        if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
            val[vl - 1] = '\0';
            val++;
        }
        rw_error e;
        if ((st = rw_settings_set(s, key, val, &e)) != RW_OK)
            rw_error_set(err, st, "%s:%d: %s", path, lineno, e.msg);
    }
    if (st == RW_OK && ferror(f))
        st = rw_error_set(err, RW_ERR_IO, "%s: read error", path);
    fclose(f);
    return st;
}

rw_status rw_settings_check(const rw_settings *s, rw_error *err)
{
    const rw_score_opts *sc = &s->analyse.score;
    const rw_segment_opts *sg = &s->analyse.seg;
    if (sc->z_strong < sc->z_amplified)
        return rw_error_set(err, RW_ERR_USAGE, "z_strong %g is below z_amplified %g", sc->z_strong,
                            sc->z_amplified);
    if (s->trend.ddpcr_cn_strong < s->trend.ddpcr_cn_positive)
        return rw_error_set(err, RW_ERR_USAGE, "ddpcr_cn_strong %g is below ddpcr_cn_amplified %g",
                            s->trend.ddpcr_cn_strong, s->trend.ddpcr_cn_positive);
    if (!(sg->loss_below < sg->gain_above && sg->gain_above < sg->amp_above))
        return rw_error_set(err, RW_ERR_USAGE,
                            "need seg_loss_below < seg_gain_above < seg_amp_above (got %g, %g, %g)",
                            sg->loss_below, sg->gain_above, sg->amp_above);
    if (s->analyse.purity.detection_limit > s->analyse.purity.caution_limit)
        return rw_error_set(err, RW_ERR_USAGE, "tf_detection_limit %g is above tf_caution_limit %g",
                            s->analyse.purity.detection_limit, s->analyse.purity.caution_limit);
    if (s->pon.min_normals > s->pon.recommended_normals)
        return rw_error_set(err, RW_ERR_USAGE,
                            "pon_min_normals %d is above pon_recommended_normals %d",
                            s->pon.min_normals, s->pon.recommended_normals);
    return rw_trend_config_check(&s->trend, err);
}

int rw_settings_are_default(const rw_settings *s)
{
    for (size_t i = 0; i < NTABLE; i++)
        if (rw_setting_value(s, &table[i]) != table[i].def)
            return 0;
    return 1;
}
