/* HL7 v2.5.1 ORU^R01 rendering (see hl7.h). Field separators and components are written by the
 * helpers below; every value inside them goes through srv_hl7_escape(). */
#include "server/hl7.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/export.h"

int srv_hl7_escape(kstring_t *s, const char *value)
{
    int bad = 0;
    for (const char *p = value ? value : ""; *p && !bad; p++) {
        const char *esc = NULL;
        switch (*p) {
        case '|':
            esc = "\\F\\";
            break;
        case '^':
            esc = "\\S\\";
            break;
        case '~':
            esc = "\\R\\";
            break;
        case '\\':
            esc = "\\E\\";
            break;
        case '&':
            esc = "\\T\\";
            break;
        case '\r':
            esc = "\\X0D\\";
            break;
        case '\n':
            esc = "\\X0A\\";
            break;
        default:
            break;
        }
        bad = esc ? kputs(esc, s) < 0 : kputc(*p, s) < 0;
    }
    return bad ? -1 : 0;
}

/* ---------------------------------------------------------------- segment helpers
 * Each appends to m->s and records a failure in m->bad, so a message is checked once. */

typedef struct msg {
    kstring_t s;
    int bad;
    int obx;               /* OBX set ids */
    srv_hl7_status status; /* of every OBX */
} msg;

/* OBR-25 and OBX-11 of a message of status st. */
static const char *obr_status(srv_hl7_status st)
{
    return st == SRV_HL7_FINAL ? "F" : "C";
}

static const char *obx_status(srv_hl7_status st)
{
    return st == SRV_HL7_FINAL ? "F" : st == SRV_HL7_CORRECTED ? "C" : "W";
}

/* The status a message is sent with, kept in ctx: the sender's, or wrong for a retracted
 * record. */
static srv_hl7_status status_of(srv_hl7_ctx *ctx, int retracted)
{
    if (retracted)
        ctx->status = SRV_HL7_WRONG;
    return ctx->status;
}

/* "|value" (escaped). */
static void field(msg *m, const char *value)
{
    m->bad |= kputc('|', &m->s) < 0 || srv_hl7_escape(&m->s, value);
}

/* n empty fields. */
static void skip(msg *m, int n)
{
    while (n-- > 0)
        m->bad |= kputc('|', &m->s) < 0;
}

/* "|code^text^system" (a CWE/CE), each component escaped. */
static void coded(msg *m, const char *code, const char *text, const char *system)
{
    field(m, code);
    m->bad |= kputc('^', &m->s) < 0 || srv_hl7_escape(&m->s, text) || kputc('^', &m->s) < 0 ||
              srv_hl7_escape(&m->s, system);
}

static const char *v2_system(const srv_code *c)
{
    if (!strcmp(c->system, SRV_CS_LOINC))
        return "LN";
    if (!strcmp(c->system, SRV_CS_LOCAL))
        return SRV_V2_LOCAL;
    return "99RLWX"; /* another external system: named in the display */
}

static void code_of(msg *m, const srv_code *c)
{
    coded(m, c->code, c->display, v2_system(c));
}

static void local_value(msg *m, const char *code)
{
    coded(m, code, srv_export_value_display(code), SRV_V2_LOCAL);
}

/* "YYYY-MM-DD[THH:MM:SSZ]" -> "YYYYMMDD[HHMMSS]" (HL7 DTM), escaped. */
static void dtm(msg *m, const char *iso)
{
    char out[16];
    size_t n = 0;
    for (const char *p = iso ? iso : ""; *p && *p != 'Z' && n < sizeof out - 1; p++)
        if (*p >= '0' && *p <= '9')
            out[n++] = *p;
    out[n] = 0;
    field(m, out);
}

static void segment_end(msg *m)
{
    m->bad |= kputc('\r', &m->s) < 0;
}

static void msh(msg *m, const srv_hl7_ctx *ctx)
{
    char now[16];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(now, sizeof now, "%Y%m%d%H%M%S", &tm);
    m->bad |= kputs("MSH|^~\\&", &m->s) < 0;
    field(m, "RELAPSEWATCH"); /* MSH-3 sending application */
    field(m, "RELAPSEWATCH"); /* MSH-4 sending facility */
    skip(m, 2);               /* MSH-5, -6 receiving application, facility */
    field(m, now);            /* MSH-7 */
    skip(m, 1);
    m->bad |= kputs("|ORU^R01^ORU_R01", &m->s) < 0; /* MSH-9 */
    field(m, ctx->control_id);                      /* MSH-10 */
    field(m, "P");                                  /* MSH-11 production */
    field(m, "2.5.1");                              /* MSH-12 */
    segment_end(m);
}

/* PID-3: external_id^^^RELAPSEWATCH&<base>/patient&URI^PI */
static void pid(msg *m, const srv_hl7_ctx *ctx, const char *external_id)
{
    char system[512];
    snprintf(system, sizeof system, "%s/patient", ctx->identifier_base);
    m->bad |= kputs("PID|1|", &m->s) < 0;
    field(m, external_id);
    m->bad |= kputs("^^^RELAPSEWATCH&", &m->s) < 0 || srv_hl7_escape(&m->s, system) ||
              kputs("&URI^PI", &m->s) < 0;
    segment_end(m);
}

/* OBR|1||filler^RELAPSEWATCH|service|||observed|...|22 reported||24 GE|25 F */
static void obr(msg *m, const char *filler, const srv_code *service, const char *observed,
                const char *reported, const char *status)
{
    m->bad |= kputs("OBR|1|", &m->s) < 0;
    field(m, filler);
    m->bad |= kputs("^RELAPSEWATCH", &m->s) < 0;
    code_of(m, service); /* OBR-4 */
    skip(m, 2);
    dtm(m, observed); /* OBR-7 */
    skip(m, 14);
    dtm(m, reported); /* OBR-22 */
    skip(m, 1);
    field(m, "GE");   /* OBR-24 */
    field(m, status); /* OBR-25 */
    segment_end(m);
}

/* OBX|n|type|code|1| then the caller writes OBX-5 (value) and calls obx_end(). */
static void obx_begin(msg *m, const char *type, const srv_code *c)
{
    char n[16];
    snprintf(n, sizeof n, "OBX|%d", ++m->obx);
    m->bad |= kputs(n, &m->s) < 0;
    field(m, type);
    code_of(m, c);
    field(m, "1");
}

/* OBX-6 units, -7 range, -8 flags, -11 status, -14 time, -17 method. */
static void obx_end(msg *m, const char *units, const char *flag, const char *status,
                    const char *observed, const srv_code *method)
{
    if (units)
        coded(m, units, units, "UCUM");
    else
        skip(m, 1);
    skip(m, 1);
    field(m, flag);
    skip(m, 2);
    field(m, status);
    skip(m, 2);
    dtm(m, observed);
    skip(m, 2);
    if (method)
        code_of(m, method);
    segment_end(m);
}

static void obx_number(msg *m, const srv_code *c, double v, const char *units, const char *when)
{
    char num[32];
    if (!isfinite(v))
        return;
    snprintf(num, sizeof num, "%.6g", v);
    obx_begin(m, "NM", c);
    field(m, num);
    obx_end(m, units, NULL, obx_status(m->status), when, NULL);
}

static char *finish(msg *m, srv_status *st)
{
    if (m->bad) {
        free(m->s.s);
        *st = SRV_INTERNAL;
        return NULL;
    }
    *st = SRV_OK;
    return ks_release(&m->s);
}

/* ---------------------------------------------------------------- messages */

/* The tumour fraction as SN ("^12.5", or "<^3" when below detection), in percent. */
static void obx_tumour_fraction(msg *m, const srv_export_result *r)
{
    double est = json_number_value(json_object_get(r->tf, "estimate"));
    double hi = json_number_value(json_object_get(r->tf, "high"));
    const char *flag = json_string_value(json_object_get(r->tf, "flag"));
    const char *method = json_string_value(json_object_get(r->tf, "method"));
    int below = flag && !strcmp(flag, "below_detection");
    char sn[48];
    if (!r->tf || !isfinite(est))
        return;
    snprintf(sn, sizeof sn, "%s^%.3g", below ? "<" : "", 100 * (below && isfinite(hi) ? hi : est));
    obx_begin(m, "SN", &srv_code_tumour_fraction);
    m->bad |= kputc('|', &m->s) < 0 || kputs(sn, &m->s) < 0; /* composed, nothing to escape */
    obx_end(m, "%", flag, obx_status(m->status), r->collected_at, NULL);
    if (method && *method) { /* the method, as the analysis named it */
        m->bad |= kputs("NTE|1||", &m->s) < 0 || srv_hl7_escape(&m->s, method) < 0;
        segment_end(m);
    }
}

srv_status srv_hl7_result(sqlite3 *db, srv_hl7_ctx *ctx, int64_t sample_id, char **out)
{
    srv_export_result r;
    msg m = {0};
    srv_status st = srv_export_result_load(db, sample_id, &r);
    if (st != SRV_OK)
        return st;
    int call = !strcmp(r.call, "amplified") || !strcmp(r.call, "not_detected");
    int amplified = !strcmp(r.call, "amplified");
    const srv_code *method = strcmp(r.assay, "ddpcr") ? &srv_code_sequencing : NULL;
    m.status = status_of(ctx, *r.retracted_at != '\0');
    msh(&m, ctx);
    pid(&m, ctx, ctx->external_id ? ctx->external_id : r.external_id);
    obr(&m, r.accession, &srv_code_report, r.collected_at, r.computed_at, obr_status(m.status));
    if (m.status == SRV_HL7_WRONG) { /* why, as a note on the report */
        m.bad |= kputs("NTE|1||", &m.s) < 0;
        if (*r.retracted_at)
            m.bad |= kputs("Result retracted: ", &m.s) < 0 ||
                     srv_hl7_escape(&m.s, r.retraction_reason) < 0;
        else
            m.bad |= kputs("Result posted for the wrong patient: the draw is another patient's",
                           &m.s) < 0;
        segment_end(&m);
    }
    obx_begin(&m, "CWE", &srv_code_variant);
    if (call)
        code_of(&m, amplified ? &srv_code_present : &srv_code_absent);
    else
        skip(&m, 1);
    /* OBX-11 X: "results cannot be obtained for this observation" (a no-call) */
    obx_end(&m, NULL, call ? (amplified ? "A" : "N") : NULL,
            call || m.status == SRV_HL7_WRONG ? obx_status(m.status) : "X", r.collected_at, method);
    obx_number(&m, &srv_code_copy_ratio, r.ratio, "1", r.collected_at);
    obx_number(&m, &srv_code_interval_low, r.ratio_low, "1", r.collected_at);
    obx_number(&m, &srv_code_interval_high, r.ratio_high, "1", r.collected_at);
    obx_number(&m, &srv_code_z, r.z, "1", r.collected_at);
    obx_begin(&m, "CWE", &srv_code_call);
    local_value(&m, r.call);
    obx_end(&m, NULL, NULL, obx_status(m.status), r.collected_at, NULL);
    obx_tumour_fraction(&m, &r);
    const char *qcode = json_string_value(json_object_get(r.quality, "code"));
    const char *why = json_string_value(json_object_get(r.quality, "reason"));
    obx_begin(&m, "CWE", &srv_code_quality);
    local_value(&m, qcode ? qcode : call ? "pass" : r.call);
    if (why) /* CWE-9 original text */
        m.bad |= kputs("^^^^^^", &m.s) < 0 || srv_hl7_escape(&m.s, why) < 0;
    obx_end(&m, NULL, NULL, obx_status(m.status), r.collected_at, NULL);
    srv_export_result_free(&r);
    *out = finish(&m, &st);
    return st;
}

/* One OBX (ST) per rule met: "rule: date ratio z (role); ...". */
static void obx_rules(msg *m, json_t *alert, const char *when)
{
    static const srv_code rule_code = {SRV_CS_LOCAL, "alert-rule", "Alert rule met, its draws"};
    json_t *rule, *d;
    size_t i, j;
    json_array_foreach(json_object_get(json_object_get(alert, "evidence"), "rules"), i, rule)
    {
        kstring_t text = {0};
        ksprintf(&text, "%s:", json_string_value(json_object_get(rule, "rule")));
        json_array_foreach(json_object_get(rule, "draws"), j, d)
        {
            ksprintf(&text, "%s %s ratio %.4g z %.3g (%s)", j ? ";" : "",
                     json_string_value(json_object_get(d, "date")),
                     json_number_value(json_object_get(d, "ratio")),
                     json_number_value(json_object_get(d, "z")),
                     json_string_value(json_object_get(d, "role")));
        }
        obx_begin(m, "ST", &rule_code);
        field(m, text.s ? text.s : "");
        obx_end(m, NULL, NULL, obx_status(m->status), when, NULL);
        free(text.s);
    }
}

srv_status srv_hl7_alert(sqlite3 *db, srv_hl7_ctx *ctx, int64_t alert_id, char **out)
{
    json_t *a;
    msg m = {0};
    char filler[48];
    srv_status st = srv_export_alert_load(db, alert_id, &a);
    if (st != SRV_OK)
        return st;
    const char *fired = json_string_value(json_object_get(a, "fired_on"));
    const char *kind = json_string_value(json_object_get(a, "kind"));
    snprintf(filler, sizeof filler, "ALERT-%" JSON_INTEGER_FORMAT,
             json_integer_value(json_object_get(a, "id")));
    m.status = status_of(ctx, !json_is_null(json_object_get(a, "retracted_at")));
    msh(&m, ctx);
    pid(&m, ctx, json_string_value(json_object_get(a, "external_id")));
    obr(&m, filler, &srv_code_alert, fired, json_string_value(json_object_get(a, "created_at")),
        obr_status(m.status));
    obx_begin(&m, "CWE", &srv_code_alert);
    local_value(&m, kind);
    obx_end(&m, NULL, kind && strcmp(kind, "responding") ? "A" : "N", obx_status(m.status), fired,
            NULL);
    obx_rules(&m, a, fired);
    json_decref(a);
    *out = finish(&m, &st);
    return st;
}
