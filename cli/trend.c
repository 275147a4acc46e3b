/* relapsewatch trend: reads one patient's serial results, treatments and clinical events (JSON),
 * runs the longitudinal engine (core/trend.h) and writes the monitoring state, the alerts with
 * their evidence and the lead time (JSON).
 *
 * INPUT (one JSON object; unknown keys are ignored):
 *   "primary_1q21_3": "amplified" | "not_amplified" | "unknown"      optional, default unknown
 *   "samples": [ {                                                      required (may be [])
 *       "sample_id": integer, unique
 *       "date": "YYYY-MM-DD"  or  "day": integer days since 1970-01-01
 *       "assay": "swgs" | "bins" | "ddpcr"
 *       "ratio": copy ratio of 1q21.3 (> 0; sWGS 2^mean log2, ddPCR CN/2)
 *       "cv": analytical CV of the ratio (0.03 = 3%)  or  "se_log2": SE of log2 ratio;
 *             both absent or null = unknown (the engine's default CV is used and reported)
 *       "z": z-score against the PoN (sWGS; null/absent for ddPCR)
 *       "positive", "strong": booleans from the scoring code; absent = derived by the engine
 *       "se_log2" with "cv": the draw's own SE (personal_baseline), its CV the z denominator's
 *       "panel_id": integer, the panel the value was scored against (personal_baseline)
 *       "no_call": true, or "call": "insufficient_quality" | "no_data": a no-call, skipped by
 *             the engine (its ratio may be null); "no_call_reason": why (string)
 *   } ]
 *   "treatments": [ {"kind": "surgery" | "chemotherapy" | "endocrine" | "radiotherapy" |
 *                    "targeted" | "other", "start": date or day, "end": date, day or null
 *                    (null/absent = still running; a surgery's end defaults to its start)} ]
 *                  ("start_date"/"end_date" are accepted too)
 *   "events": [ {"kind": "clinical_relapse" | "imaging_progression" | "death" | "other",
 *                "date": date or day} ]
 * OUTPUT: see usage() below. */
#include "cli/cli.h"

#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/date.h"
#include "core/settings.h"
#include "core/trend.h"
#include "json/num.h"
#include "json/settings.h"
#include "json/trend.h"

#define CMD "trend"

static void usage(FILE *out)
{
    static const char *const groups[] = {"z_amplified",     "z_strong",   "ddpcr_cn_amplified",
                                         "ddpcr_cn_strong", "monitoring", NULL};
    fprintf(
        out,
        "usage: relapsewatch trend [options] INPUT.json [-o OUT.json]\n\n"
        "Reads a patient's serial 1q21.3 results against her treatments and reports the\n"
        "monitoring state, the alerts with their evidence, and the lead time over the clinic.\n\n"
        "INPUT.json (\"-\" = stdin):\n"
        "  {\"primary_1q21_3\": \"amplified\"|\"not_amplified\"|\"unknown\",\n"
        "   \"samples\": [{\"sample_id\": 3, \"date\": \"2025-03-01\" (or \"day\": N), \"assay\":\n"
        "                \"swgs\"|\"bins\"|\"ddpcr\", \"ratio\": 1.08, \"cv\": 0.03 (or "
        "\"se_log2\"; null =\n"
        "                unknown), \"z\": 4.2 (sWGS), \"positive\": true, \"strong\": false\n"
        "                (calls optional: derived from z, or from the ddPCR CN bound),\n"
        "                \"panel_id\": 1, \"no_call\": true or \"call\": "
        "\"insufficient_quality\" (a\n"
        "                no-call, skipped), \"no_call_reason\": \"...\"}],\n"
        "   \"treatments\": [{\"kind\": "
        "\"surgery\"|\"chemotherapy\"|\"endocrine\"|\"radiotherapy\"|\n"
        "                   \"targeted\"|\"other\", \"start\": \"YYYY-MM-DD\", \"end\": "
        "...|null}],\n"
        "   \"events\": [{\"kind\": "
        "\"clinical_relapse\"|\"imaging_progression\"|\"death\"|\"other\",\n"
        "               \"date\": \"YYYY-MM-DD\"}]}\n\n"
        "OUTPUT: {\"state\", \"primary_1q21_3\", \"config\", \"settings\", \"series\" (each draw "
        "with its\n"
        "  context and the baseline/nadir limits), \"treatments\", \"events\", \"alerts\" (kind,\n"
        "  rule, fired_on, sample_id, open, closed_by, evidence.rules[]: rule, reference,\n"
        "  thresholds, draws with role/ratio/cv/z/rcv/limit), \"lead_time_days\", "
        "\"lead_time\"}.\n\n"
        "states: not_detected (last draw negative), stable (last draw positive, no alert open),\n"
        "  early_relapse, emerging_chemoresistance, responding (the most recent open alert;\n"
        "  same draw: emerging_chemoresistance > early_relapse > responding).\n"
        "rules (see core/trend.h):\n"
        "  early_relapse (off chemotherapy, after surgery): strong_positive;\n"
        "    two_consecutive_positive; rise_over_baseline (two consecutive draws above the\n"
        "    post-surgery baseline by more than the RCV); cusum (off by default);\n"
        "    personal_baseline (off by default: one draw at personal_z_single, or two at\n"
        "    personal_z, against her own first negative draws of the same assay and panel).\n"
        "  emerging_chemoresistance (start < day <= end of chemotherapy): rise_from_nadir\n"
        "    (two consecutive draws above the on-treatment nadir by more than the RCV);\n"
        "    positive_after_negative.\n"
        "  responding (inside a non-surgical treatment): fall_below_pretreatment.\n"
        "  RCV_up = exp(Z sqrt(sa^2 + sb^2 + 2 si^2)) - 1, sigma = sqrt(ln(1 + CV^2)).\n\n"
        "options:\n"
        "  -o, --output FILE          output JSON (default: stdout; written atomically)\n"
        "      --cusum                turn the CUSUM rule on (same as --rule-cusum true)\n"
        "      --no-rule NAME         turn a rule off (repeatable)\n"
        "      --responding-any-pre   responding also from a negative pre-treatment draw\n"
        "analysis settings (core/settings.h; the output's config and settings show them):\n");
    rw_cli_settings_help(out, groups);
    fputs("  -h, --help                 this help\n\n"
          "exit codes: 0 ok, 1 bad input, 2 usage\n",
          out);
}

/* ---------------------------------------------------------------- reading */

/* A day from a "YYYY-MM-DD" string or an integer. 0 ok, -1 bad value. */
static int day_of(const json_t *v, int32_t *day)
{
    if (json_is_string(v))
        return rw_date_parse(json_string_value(v), day);
    if (json_is_integer(v)) {
        json_int_t d = json_integer_value(v);
        if (d < -100000 || d > 200000) /* 1696..2517: a day count, not milliseconds */
            return -1;
        *day = (int32_t)d;
        return 0;
    }
    return -1;
}

/* Optional number: NaN when absent or null; -1 when present but not a number. */
static int opt_number(const json_t *o, const char *key, double *out)
{
    const json_t *v = json_object_get(o, key);
    *out = NAN;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_number(v))
        return -1;
    *out = json_number_value(v);
    return isfinite(*out) ? 0 : -1;
}

/* Optional boolean flag: -1 when absent or null. */
static int opt_flag(const json_t *o, const char *key, int *out)
{
    const json_t *v = json_object_get(o, key);
    *out = -1;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_boolean(v))
        return -1;
    *out = json_is_true(v);
    return 0;
}

static const json_t *get2(const json_t *o, const char *a, const char *b)
{
    const json_t *v = json_object_get(o, a);
    return v ? v : json_object_get(o, b);
}

/* A no-call: "no_call": true, or "call": "insufficient_quality" / "no_data" as the pipeline
 * writes it; "no_call_reason" says why. 0 ok, -1 when a key has the wrong type. */
static int read_no_call(const json_t *o, rw_trend_sample *s)
{
    int flag = -1;
    const json_t *call = json_object_get(o, "call"), *why = json_object_get(o, "no_call_reason");
    if (opt_flag(o, "no_call", &flag) || (call && !json_is_null(call) && !json_is_string(call)) ||
        (why && !json_is_null(why) && !json_is_string(why)))
        return -1;
    const char *c = json_is_string(call) ? json_string_value(call) : "";
    int by_call = !strcmp(c, "insufficient_quality") || !strcmp(c, "no_data");
    s->no_call = flag == 1 || (flag < 0 && by_call);
    if (s->no_call)
        snprintf(s->no_call_reason, sizeof s->no_call_reason, "%s",
                 json_is_string(why) ? json_string_value(why) : c);
    return 0;
}

/* The panel a draw was scored against: an integer, or absent/null (0). 0 ok, -1 bad type. */
static int read_panel(const json_t *o, rw_trend_sample *s)
{
    const json_t *v = json_object_get(o, "panel_id");
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v))
        return -1;
    s->panel_id = json_integer_value(v);
    return 0;
}

typedef struct parsed {
    rw_trend_sample *s;
    rw_trend_treatment *t;
    rw_trend_event *e;
    rw_trend_input in;
} parsed;

static void parsed_free(parsed *p)
{
    free(p->s);
    free(p->t);
    free(p->e);
}

/* Fills p from the document; on error returns RW_EXIT_INPUT after printing where. */
static int parse_doc(const json_t *doc, const char *path, parsed *p)
{
    memset(p, 0, sizeof *p);
    if (!json_is_object(doc))
        return rw_cli_fail(CMD, RW_ERR_INPUT, "%s: the document must be a JSON object", path);
    const json_t *prim = json_object_get(doc, "primary_1q21_3");
    if (prim && !json_is_null(prim) &&
        (!json_is_string(prim) || rw_trend_primary_parse(json_string_value(prim), &p->in.primary)))
        return rw_cli_fail(CMD, RW_ERR_INPUT,
                           "%s: primary_1q21_3 must be amplified, not_amplified or unknown", path);

    const json_t *arr = json_object_get(doc, "samples");
    if (!json_is_array(arr))
        return rw_cli_fail(CMD, RW_ERR_INPUT, "%s: \"samples\" must be an array", path);
    size_t n = json_array_size(arr);
    p->s = calloc(n ? n : 1, sizeof *p->s);
    if (!p->s)
        return rw_cli_fail(CMD, RW_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(arr, i);
        rw_trend_sample *s = &p->s[i];
        const json_t *id = get2(o, "sample_id", "id");
        if (!json_is_object(o) || !json_is_integer(id))
            return rw_cli_fail(CMD, RW_ERR_INPUT, "%s: samples[%zu]: needs an integer sample_id",
                               path, i);
        s->sample_id = json_integer_value(id);
        const json_t *d = get2(o, "date", "day");
        if (!d || day_of(d, &s->day))
            return rw_cli_fail(CMD, RW_ERR_INPUT,
                               "%s: samples[%zu] (sample %lld): needs a date YYYY-MM-DD (or an "
                               "integer day)",
                               path, i, (long long)s->sample_id);
        const json_t *a = json_object_get(o, "assay");
        if (!json_is_string(a) || rw_trend_assay_parse(json_string_value(a), &s->assay))
            return rw_cli_fail(CMD, RW_ERR_INPUT,
                               "%s: samples[%zu] (sample %lld): assay must be swgs, bins or ddpcr",
                               path, i, (long long)s->sample_id);
        if (read_no_call(o, s) || read_panel(o, s))
            return rw_cli_fail(CMD, RW_ERR_INPUT,
                               "%s: samples[%zu] (sample %lld): no_call must be a boolean, call "
                               "and no_call_reason strings, panel_id an integer",
                               path, i, (long long)s->sample_id);
        double se;
        if (opt_number(o, "ratio", &s->ratio) || (!s->no_call && !(s->ratio > 0)) ||
            opt_number(o, "cv", &s->cv) || opt_number(o, "se_log2", &se) ||
            opt_number(o, "z", &s->z))
            return rw_cli_fail(CMD, RW_ERR_INPUT,
                               "%s: samples[%zu] (sample %lld): ratio must be a number > 0; cv, "
                               "se_log2 and z numbers or null",
                               path, i, (long long)s->sample_id);
        if (isnan(s->cv) && !isnan(se)) {
            if (se < 0)
                return rw_cli_fail(CMD, RW_ERR_INPUT, "%s: samples[%zu]: se_log2 must be >= 0",
                                   path, i);
            s->cv = rw_trend_cv_from_se_log2(se);
        }
        s->se_log2 = se;
        if (opt_flag(o, "positive", &s->positive) || opt_flag(o, "strong", &s->strong))
            return rw_cli_fail(CMD, RW_ERR_INPUT,
                               "%s: samples[%zu] (sample %lld): positive/strong must be booleans",
                               path, i, (long long)s->sample_id);
    }
    p->in.samples = p->s;
    p->in.nsamples = n;

    arr = json_object_get(doc, "treatments");
    if (arr && !json_is_array(arr))
        return rw_cli_fail(CMD, RW_ERR_INPUT, "%s: \"treatments\" must be an array", path);
    n = json_array_size(arr);
    p->t = calloc(n ? n : 1, sizeof *p->t);
    if (!p->t)
        return rw_cli_fail(CMD, RW_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(arr, i);
        rw_trend_treatment *t = &p->t[i];
        const json_t *k = json_object_get(o, "kind");
        if (!json_is_string(k) || rw_trend_treatment_parse(json_string_value(k), &t->kind))
            return rw_cli_fail(CMD, RW_ERR_INPUT,
                               "%s: treatments[%zu]: kind must be surgery, chemotherapy, "
                               "endocrine, radiotherapy, targeted or other",
                               path, i);
        const json_t *st = get2(o, "start", "start_date"), *en = get2(o, "end", "end_date");
        if (!st || day_of(st, &t->start))
            return rw_cli_fail(CMD, RW_ERR_INPUT, "%s: treatments[%zu]: needs a start date", path,
                               i);
        if (!en || json_is_null(en))
            t->end = t->kind == RW_TREAT_SURGERY ? t->start : RW_TREND_OPEN_END;
        else if (day_of(en, &t->end))
            return rw_cli_fail(CMD, RW_ERR_INPUT, "%s: treatments[%zu]: bad end date", path, i);
    }
    p->in.treatments = p->t;
    p->in.ntreatments = n;

    arr = json_object_get(doc, "events");
    if (arr && !json_is_array(arr))
        return rw_cli_fail(CMD, RW_ERR_INPUT, "%s: \"events\" must be an array", path);
    n = json_array_size(arr);
    p->e = calloc(n ? n : 1, sizeof *p->e);
    if (!p->e)
        return rw_cli_fail(CMD, RW_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(arr, i);
        const json_t *k = json_object_get(o, "kind"), *d = get2(o, "date", "day");
        if (!json_is_string(k) || rw_trend_event_parse(json_string_value(k), &p->e[i].kind))
            return rw_cli_fail(CMD, RW_ERR_INPUT,
                               "%s: events[%zu]: kind must be clinical_relapse, "
                               "imaging_progression, death or other",
                               path, i);
        if (!d || day_of(d, &p->e[i].day))
            return rw_cli_fail(CMD, RW_ERR_INPUT, "%s: events[%zu]: needs a date", path, i);
    }
    p->in.events = p->e;
    p->in.nevents = n;
    return RW_EXIT_OK;
}

/* ---------------------------------------------------------------- writing */

static json_t *series_json(const rw_trend_result *r, int *bad)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < r->npoints; i++) {
        const rw_trend_point *p = &r->points[i];
        json_t *o = rw_trend_point_json_new(p);
        if (!o) {
            *bad = 1;
            break;
        }
        rw_json_put(o, "preoperative", json_boolean(p->preoperative), bad);
        rw_json_put(o, "epoch", json_integer(p->epoch), bad);
        rw_json_put(o, "on_chemotherapy", json_boolean(p->on_chemo), bad);
        rw_json_put(o, "on_treatment", json_boolean(p->on_treatment), bad);
        rw_json_put(o, "baseline", rw_json_num(p->baseline), bad);
        rw_json_put(o, "baseline_limit", rw_json_num(p->baseline_limit), bad);
        rw_json_put(o, "nadir", rw_json_num(p->nadir), bad);
        rw_json_put(o, "nadir_limit", rw_json_num(p->nadir_limit), bad);
        rw_json_put(o, "cusum", rw_json_num(p->cusum), bad);
        if (json_array_append_new(a, o))
            *bad = 1;
    }
    if (!a)
        *bad = 1;
    return a;
}

static json_t *alerts_json(const rw_trend_result *r, int *bad)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < r->nalerts; i++) {
        const rw_trend_alert *al = &r->alerts[i];
        json_t *o = json_object(), *rules = json_array(), *ev = json_object();
        if (!o || !rules || !ev) {
            json_decref(o);
            json_decref(rules);
            json_decref(ev);
            *bad = 1;
            break;
        }
        rw_json_put(o, "kind", json_string(rw_trend_alert_name(al->kind)), bad);
        rw_json_put(o, "rule",
                    al->nevidence ? json_string(rw_trend_rule_name(al->evidence[0].rule))
                                  : json_null(),
                    bad);
        rw_json_put(o, "fired_on", rw_json_date(al->day), bad);
        rw_json_put(o, "day", json_integer(al->day), bad);
        rw_json_put(o, "sample_id", json_integer(al->sample_id), bad);
        rw_json_put(o, "open", json_boolean(al->closed_by == RW_CLOSE_NONE), bad);
        rw_json_put(o, "closed_by", json_string(rw_trend_close_name(al->closed_by)), bad);
        rw_json_put(o, "closed_on", al->closed_by ? rw_json_date(al->closed_day) : json_null(),
                    bad);
        rw_json_put(o, "closed_sample_id",
                    al->closed_by ? json_integer(al->closed_sample_id) : json_null(), bad);
        for (size_t e = 0; e < al->nevidence; e++) {
            json_t *x = rw_trend_evidence_json_new(&al->evidence[e]);
            if (!x || json_array_append_new(rules, x))
                *bad = 1;
        }
        rw_json_put(ev, "rules", rules, bad);
        rw_json_put(o, "evidence", ev, bad);
        if (json_array_append_new(a, o))
            *bad = 1;
    }
    if (!a)
        *bad = 1;
    return a;
}

static json_t *result_json(const rw_trend_result *r, const rw_trend_input *in,
                           const rw_settings *set)
{
    int bad = 0;
    json_t *doc = json_object(), *tr = json_array(), *ev = json_array();
    if (!doc || !tr || !ev) {
        json_decref(doc);
        json_decref(tr);
        json_decref(ev);
        return NULL;
    }
    rw_json_put(doc, "state", json_string(rw_trend_state_name(r->state)), &bad);
    rw_json_put(doc, "primary_1q21_3", json_string(rw_trend_primary_name(r->primary)), &bad);
    rw_json_put(doc, "config", rw_trend_config_json_new(&set->trend), &bad);
    rw_json_put(doc, "settings", rw_settings_json_new(set), &bad);
    rw_json_put(doc, "series", series_json(r, &bad), &bad);
    for (size_t i = 0; i < in->ntreatments; i++) {
        const rw_trend_treatment *t = &in->treatments[i];
        json_t *o = json_object();
        rw_json_put(o, "kind", json_string(rw_trend_treatment_name(t->kind)), &bad);
        rw_json_put(o, "start", rw_json_date(t->start), &bad);
        rw_json_put(o, "end", t->end == RW_TREND_OPEN_END ? json_null() : rw_json_date(t->end),
                    &bad);
        if (json_array_append_new(tr, o))
            bad = 1;
    }
    rw_json_put(doc, "treatments", tr, &bad);
    for (size_t i = 0; i < in->nevents; i++) {
        json_t *o = json_object();
        rw_json_put(o, "kind", json_string(rw_trend_event_name(in->events[i].kind)), &bad);
        rw_json_put(o, "date", rw_json_date(in->events[i].day), &bad);
        if (json_array_append_new(ev, o))
            bad = 1;
    }
    rw_json_put(doc, "events", ev, &bad);
    rw_json_put(doc, "alerts", alerts_json(r, &bad), &bad);
    if (r->has_lead_time) {
        json_t *lt = json_object();
        rw_json_put(lt, "days", json_integer(r->lead_time_days), &bad);
        rw_json_put(lt, "months", json_real(r->lead_time_days / (365.25 / 12)), &bad);
        rw_json_put(lt, "alert_sample_id", json_integer(r->lead_sample_id), &bad);
        rw_json_put(lt, "alert_date", rw_json_date(r->lead_alert_day), &bad);
        rw_json_put(lt, "clinical_relapse_date", rw_json_date(r->relapse_day), &bad);
        rw_json_put(doc, "lead_time", lt, &bad);
        rw_json_put(doc, "lead_time_days", json_integer(r->lead_time_days), &bad);
    } else {
        rw_json_put(doc, "lead_time", json_null(), &bad);
        rw_json_put(doc, "lead_time_days", json_null(), &bad);
    }
    if (bad) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

/* ---------------------------------------------------------------- main */

/* What the command line asked for. */
typedef struct trend_args {
    rw_settings set;
    const char *output;
} trend_args;

/* --no-rule NAME (repeatable). */
static int apply_option(void *ctx, int id, const char *name, const char *arg)
{
    trend_args *a = ctx;
    rw_trend_rule r;
    (void)id;
    (void)name;
    if (rw_trend_rule_parse(arg, &r))
        return rw_cli_fail(CMD, RW_ERR_USAGE, "--no-rule: unknown rule '%s'", arg);
    *rw_trend_rule_switch(&a->set.trend, r) = 0;
    return RW_EXIT_OK;
}

int rw_cli_trend(int argc, char **argv)
{
    trend_args a = {.output = "-"};
    rw_settings_init(&a.set);
    const rw_cli_option own[] = {
        {.name = "output", .has_arg = required_argument, .str = &a.output},
        {.name = "cusum", .has_arg = no_argument, .flag = &a.set.trend.rule_cusum, .value = 1},
        {.name = "no-rule", .has_arg = required_argument, .id = 256},
        {.name = "responding-any-pre",
         .has_arg = no_argument,
         .flag = &a.set.trend.responding_requires_positive,
         .value = 0},
        {.name = NULL},
    };
    int rc =
        rw_cli_parse(&(rw_cli_parser){CMD, own, apply_option, &a, usage, NULL, &a.set}, argc, argv);
    if (rc != RW_EXIT_OK)
        return rc < 0 ? RW_EXIT_OK : rc;
    if (optind != argc - 1)
        return rw_cli_fail(CMD, RW_ERR_USAGE, "one INPUT.json expected (see --help)");
    rw_error err = {0};
    const rw_trend_config *cfg = &a.set.trend;
    const char *path = argv[optind];
    json_error_t jerr;
    json_t *doc = !strcmp(path, "-") ? json_loadf(stdin, JSON_REJECT_DUPLICATES, &jerr)
                                     : json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        return rw_cli_fail(CMD, RW_ERR_INPUT, "%s:%d:%d: %s", path, jerr.line, jerr.column,
                           jerr.text);
    parsed p;
    rc = parse_doc(doc, path, &p);
    json_decref(doc);
    rw_trend_result *res = NULL;
    if (rc != RW_EXIT_OK)
        goto done;
    rw_status st = rw_trend_run(&p.in, cfg, &res, &err);
    if (st != RW_OK) {
        rc = rw_cli_fail(CMD, st == RW_ERR_USAGE ? RW_ERR_INPUT : st, "%s: %s", path, err.msg);
        goto done;
    }
    json_t *out = result_json(res, &p.in, &a.set);
    if (!out) {
        rc = rw_cli_fail(CMD, RW_ERR_NOMEM, "cannot build the JSON document");
        goto done;
    }
    rc = rw_cli_write_json(CMD, out, a.output);
done:
    rw_trend_result_free(res);
    parsed_free(&p);
    return rc;
}
