/* FHIR R4 resources built from the stored results, alerts and patients (see fhir.h). Every
 * builder reads through server/export.h, so FHIR and HL7 v2 carry the same facts and codes. */
#include "server/fhir.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/db.h"
#include "server/export.h"
#include "server/log.h"

#define IG_PROFILE        "http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition/"
#define CS_V2_0074        "http://terminology.hl7.org/CodeSystem/v2-0074"
#define CS_OBS_CATEGORY   "http://terminology.hl7.org/CodeSystem/observation-category"
#define CS_INTERPRETATION "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
#define CS_ABSENT         "http://terminology.hl7.org/CodeSystem/data-absent-reason"

/* ---------------------------------------------------------------- small builders
 * Each returns a new reference, or NULL on allocation failure; a NULL argument makes a NULL
 * result, so one check at the end of a resource catches every failure (json_object_set_new
 * of NULL fails and is counted). */

static int put(json_t *o, const char *key, json_t *v, int *bad)
{
    if (!v || json_object_set_new(o, key, v))
        *bad = 1;
    return *bad;
}

static void push(json_t *a, json_t *v, int *bad)
{
    if (!v || json_array_append_new(a, v))
        *bad = 1;
}

static json_t *done(json_t *o, int bad)
{
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *coding(const srv_code *c)
{
    return json_pack("{s:s, s:s, s:s}", "system", c->system, "code", c->code, "display",
                     c->display);
}

static json_t *concept(const srv_code *c)
{
    return json_pack("{s:[o]}", "coding", coding(c));
}

/* A local value code (a call, an alert kind, a quality verdict). */
static json_t *local_concept(const char *code, const char *text)
{
    srv_code c = {SRV_CS_LOCAL, code, srv_export_value_display(code)};
    json_t *o = concept(&c);
    if (o && text && *text && json_object_set_new(o, "text", json_string(text))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *reference(const char *type, const char *id)
{
    char ref[96];
    snprintf(ref, sizeof ref, "%s/%s", type, id);
    return json_pack("{s:s}", "reference", ref);
}

static json_t *reference_id(const char *type, int64_t id)
{
    char s[32];
    snprintf(s, sizeof s, "%" PRId64, id);
    return reference(type, s);
}

/* Quantity with a UCUM unit ("1" for a ratio or a score, "%" for a percentage). */
static json_t *quantity(double v, const char *unit, const char *ucum)
{
    return json_pack("{s:f, s:s, s:s, s:s}", "value", v, "unit", unit, "system", SRV_CS_UCUM,
                     "code", ucum);
}

/* Appends a component {code, valueQuantity} when v is a number (a NULL column is left out). */
static void component_quantity(json_t *comps, const srv_code *c, double v, const char *unit,
                               const char *ucum, int *bad)
{
    if (isfinite(v))
        push(comps,
             json_pack("{s:o, s:o}", "code", concept(c), "valueQuantity", quantity(v, unit, ucum)),
             bad);
}

static void component_concept(json_t *comps, const srv_code *c, json_t *value, int *bad)
{
    push(comps, json_pack("{s:o, s:o}", "code", concept(c), "valueCodeableConcept", value), bad);
}

static json_t *lab_category(void)
{
    return json_pack("{s:[{s:s, s:s, s:s}]}", "coding", "system", CS_OBS_CATEGORY, "code",
                     "laboratory", "display", "Laboratory");
}

static json_t *genetics_category(void)
{
    return json_pack("{s:[{s:s, s:s, s:s}]}", "coding", "system", CS_V2_0074, "code", "GE",
                     "display", "Genetics");
}

/* A result's status: a retracted draw's findings were entered in error. */
static const char *result_status(const srv_export_result *r)
{
    return *r->retracted_at ? "entered-in-error" : "final";
}

/* Fields every Observation of a result shares: id, status, category, subject, effective,
 * issued. A new object, or NULL. */
static json_t *observation_base(const srv_export_result *r, const char *suffix, int genetics)
{
    char id[48];
    snprintf(id, sizeof id, "%" PRId64 "-%s", r->sample_id, suffix);
    json_t *cat = json_pack("[o]", lab_category());
    if (cat && genetics && json_array_append_new(cat, genetics_category())) {
        json_decref(cat);
        cat = NULL;
    }
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:s}", "resourceType", "Observation", "id", id,
                     "status", result_status(r), "category", cat, "subject",
                     reference_id("Patient", r->patient_id), "effectiveDateTime", r->collected_at,
                     "issued", r->computed_at);
}

/* ---------------------------------------------------------------- the observations */

static int is_call(const char *call)
{
    return !strcmp(call, "amplified") || !strcmp(call, "not_detected");
}

/* The 1q21.3 finding: a variant Observation (Present/Absent) for a call; for a no-call the same
 * Observation without the profile, its value absent ("error": the quality gate refused it). */
static json_t *observation_cn(const srv_export_result *r)
{
    int bad = 0, amplified = !strcmp(r->call, "amplified");
    json_t *o = observation_base(r, "cn", 1), *comps = json_array();
    if (!o || !comps)
        bad = 1;
    else if (is_call(r->call)) {
        put(o, "meta", json_pack("{s:[s]}", "profile", IG_PROFILE "variant"), &bad);
        put(o, "valueCodeableConcept", concept(amplified ? &srv_code_present : &srv_code_absent),
            &bad);
        put(o, "interpretation",
            json_pack("[{s:[{s:s, s:s}]}]", "coding", "system", CS_INTERPRETATION, "code",
                      amplified ? "POS" : "NEG"),
            &bad);
    } else {
        const char *why = json_string_value(json_object_get(r->quality, "reason"));
        put(o, "dataAbsentReason",
            json_pack("{s:[{s:s, s:s}], s:s}", "coding", "system", CS_ABSENT, "code", "error",
                      "text", why ? why : srv_export_value_display(r->call)),
            &bad);
    }
    if (!bad) {
        put(o, "code", concept(&srv_code_variant), &bad);
        if (!strcmp(r->assay, "ddpcr"))
            put(o, "method", json_pack("{s:s}", "text", "Droplet digital PCR (1q21.3 / reference)"),
                &bad);
        else
            put(o, "method", concept(&srv_code_sequencing), &bad);
        component_concept(comps, &srv_code_dna_change_type, concept(&srv_code_copy_number_gain),
                          &bad);
        component_concept(comps, &srv_code_source_class, concept(&srv_code_somatic), &bad);
        component_concept(comps, &srv_code_cytogenetic, json_pack("{s:s}", "text", "1q21.3"), &bad);
        const char *refseq = srv_export_chr1_refseq(r->build);
        if (refseq) {
            srv_code seq = {SRV_CS_REFSEQ, refseq, refseq};
            component_concept(comps, &srv_code_ref_seq, concept(&seq), &bad);
        }
        component_quantity(comps, &srv_code_copy_ratio, r->ratio, "ratio", "1", &bad);
        component_quantity(comps, &srv_code_interval_low, r->ratio_low, "ratio", "1", &bad);
        component_quantity(comps, &srv_code_interval_high, r->ratio_high, "ratio", "1", &bad);
        component_quantity(comps, &srv_code_log2, r->log2_ratio, "log2 ratio", "1", &bad);
        component_quantity(comps, &srv_code_z, r->z, "z", "1", &bad);
        component_concept(comps, &srv_code_call, local_concept(r->call, NULL), &bad);
        put(o, "component", json_incref(comps), &bad);
    }
    json_decref(comps);
    return done(o, bad);
}

/* The tumour fraction in percent. below_detection reads as "< high" (an upper bound, never an
 * invented tumour); the method is the one the analysis named. NULL tf: none (ddPCR, no fit). */
static json_t *observation_tf(const srv_export_result *r)
{
    double est = json_number_value(json_object_get(r->tf, "estimate"));
    double lo = json_number_value(json_object_get(r->tf, "low"));
    double hi = json_number_value(json_object_get(r->tf, "high"));
    const char *flag = json_string_value(json_object_get(r->tf, "flag"));
    const char *method = json_string_value(json_object_get(r->tf, "method"));
    int bad = 0, below = flag && !strcmp(flag, "below_detection");
    json_t *o = observation_base(r, "tf", 0), *comps = json_array(), *q;
    if (!o || !comps)
        bad = 1;
    put(o, "code", concept(&srv_code_tumour_fraction), &bad);
    q = quantity(100 * (below && isfinite(hi) ? hi : est), "%", "%");
    if (q && below)
        json_object_set_new(q, "comparator", json_string("<"));
    put(o, "valueQuantity", q, &bad);
    put(o, "method", json_pack("{s:s}", "text", method && *method ? method : "not named"), &bad);
    if (flag)
        put(o, "note", json_pack("[{s:s}]", "text", flag), &bad);
    component_quantity(comps, &srv_code_interval_low, 100 * lo, "%", "%", &bad);
    component_quantity(comps, &srv_code_interval_high, 100 * hi, "%", "%", &bad);
    if (json_array_size(comps))
        put(o, "component", json_incref(comps), &bad);
    json_decref(comps);
    return done(o, bad);
}

/* The quality gate: "pass" for a call, else its code (low_depth, genomic_waves) and reason. */
static json_t *observation_qc(const srv_export_result *r)
{
    int bad = 0;
    const char *code = json_string_value(json_object_get(r->quality, "code"));
    const char *why = json_string_value(json_object_get(r->quality, "reason"));
    if (!code)
        code = r->quality || !is_call(r->call) ? r->call : "pass";
    json_t *o = observation_base(r, "qc", 0);
    if (!o)
        return NULL;
    put(o, "code", concept(&srv_code_quality), &bad);
    put(o, "valueCodeableConcept", local_concept(code, why), &bad);
    return done(o, bad);
}

static int has_tf(const srv_export_result *r)
{
    return r->tf && isfinite(json_number_value(json_object_get(r->tf, "estimate")));
}

/* ---------------------------------------------------------------- report, patient, alert */

static json_t *identifier(const srv_fhir_ctx *ctx, const char *kind, const char *value)
{
    char system[512];
    snprintf(system, sizeof system, "%s/%s", ctx->identifier_base, kind);
    return json_pack("{s:s, s:s}", "system", system, "value", value);
}

static json_t *report_of(const srv_fhir_ctx *ctx, const srv_export_result *r)
{
    char id[32], conclusion[512];
    int bad = 0;
    snprintf(id, sizeof id, "%" PRId64, r->sample_id);
    json_t *o =
        json_pack("{s:s, s:s, s:{s:[s]}, s:s}", "resourceType", "DiagnosticReport", "id", id,
                  "meta", "profile", IG_PROFILE "genomic-report", "status", result_status(r));
    json_t *results = json_array();
    if (!o || !results)
        bad = 1;
    put(o, "identifier", json_pack("[o]", identifier(ctx, "accession", r->accession)), &bad);
    put(o, "category", json_pack("[o]", genetics_category()), &bad);
    json_t *code = concept(&srv_code_report);
    if (code)
        json_object_set_new(code, "text", json_string("cfDNA 1q21.3 copy-number monitoring"));
    put(o, "code", code, &bad);
    put(o, "subject", reference_id("Patient", r->patient_id), &bad);
    put(o, "effectiveDateTime", json_string(r->collected_at), &bad);
    put(o, "issued", json_string(r->computed_at), &bad);
    snprintf(id, sizeof id, "%" PRId64 "-cn", r->sample_id);
    push(results, reference("Observation", id), &bad);
    if (has_tf(r)) {
        snprintf(id, sizeof id, "%" PRId64 "-tf", r->sample_id);
        push(results, reference("Observation", id), &bad);
    }
    snprintf(id, sizeof id, "%" PRId64 "-qc", r->sample_id);
    push(results, reference("Observation", id), &bad);
    put(o, "result", json_incref(results), &bad);
    if (isfinite(r->ratio) && isfinite(r->ratio_low) && isfinite(r->ratio_high))
        snprintf(conclusion, sizeof conclusion, "%s (copy ratio %.3f, 95%% %.3f-%.3f%s)",
                 srv_export_value_display(r->call), r->ratio, r->ratio_low, r->ratio_high,
                 r->strong ? ", strong" : "");
    else
        snprintf(conclusion, sizeof conclusion, "%s", srv_export_value_display(r->call));
    put(o, "conclusion", json_string(conclusion), &bad);
    put(o, "conclusionCode", json_pack("[o]", local_concept(r->call, NULL)), &bad);
    json_decref(results);
    return done(o, bad);
}

srv_status srv_fhir_report(sqlite3 *db, const srv_fhir_ctx *ctx, int64_t sample_id, json_t **out)
{
    srv_export_result r;
    srv_status st = srv_export_result_load(db, sample_id, &r);
    if (st != SRV_OK)
        return st;
    *out = report_of(ctx, &r);
    srv_export_result_free(&r);
    return *out ? SRV_OK : SRV_INTERNAL;
}

srv_status srv_fhir_observation(sqlite3 *db, const srv_fhir_ctx *ctx, const char *id, json_t **out)
{
    (void)ctx;
    char *end;
    long long sid = strtoll(id, &end, 10);
    if (end == id || sid <= 0 || *end != '-')
        return SRV_NOT_FOUND;
    srv_export_result r;
    srv_status st = srv_export_result_load(db, sid, &r);
    if (st != SRV_OK)
        return st;
    *out = NULL;
    st = SRV_OK;
    if (!strcmp(end, "-cn"))
        *out = observation_cn(&r);
    else if (!strcmp(end, "-qc"))
        *out = observation_qc(&r);
    else if (!strcmp(end, "-tf") && has_tf(&r))
        *out = observation_tf(&r);
    else
        st = SRV_NOT_FOUND;
    srv_export_result_free(&r);
    if (st == SRV_OK && !*out)
        st = SRV_INTERNAL;
    return st;
}

srv_status srv_fhir_patient(sqlite3 *db, const srv_fhir_ctx *ctx, int64_t patient_id, json_t **out)
{
    sqlite3_stmt *st = srv_db_prepare(db, "SELECT external_id FROM patients WHERE id = ?");
    if (!st)
        return SRV_INTERNAL;
    sqlite3_bind_int64(st, 1, patient_id);
    int rc = sqlite3_step(st);
    srv_status res = rc == SQLITE_ROW ? SRV_OK : rc == SQLITE_DONE ? SRV_NOT_FOUND : SRV_INTERNAL;
    if (res == SRV_OK) {
        char id[32];
        snprintf(id, sizeof id, "%" PRId64, patient_id);
        json_t *ident = identifier(ctx, "patient", (const char *)sqlite3_column_text(st, 0));
        if (ident)
            json_object_set_new(ident, "use", json_string("usual"));
        *out = json_pack("{s:s, s:s, s:[o], s:b}", "resourceType", "Patient", "id", id,
                         "identifier", ident, "active", 1);
        if (!*out)
            res = SRV_INTERNAL;
    }
    sqlite3_finalize(st);
    return res;
}

/* 1 when the sample has a stored result (its Observations exist), 0 when not, -1 on error. */
static int has_result(sqlite3 *db, int64_t sample_id)
{
    sqlite3_stmt *st = srv_db_prepare(db, "SELECT 1 FROM results WHERE sample_id = ?");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, sample_id);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* DetectedIssue.evidence: per rule met, its name and the finding Observations of its draws
 * (those with a stored result). */
static json_t *issue_evidence(sqlite3 *db, json_t *alert, int *bad)
{
    json_t *out = json_array(), *rule, *draw;
    size_t i, j;
    if (!out)
        *bad = 1;
    json_array_foreach(json_object_get(json_object_get(alert, "evidence"), "rules"), i, rule)
    {
        json_t *details = json_array();
        const char *name = json_string_value(json_object_get(rule, "rule"));
        json_array_foreach(json_object_get(rule, "draws"), j, draw)
        {
            json_int_t sid = json_integer_value(json_object_get(draw, "sample_id"));
            int have = sid > 0 ? has_result(db, sid) : 0;
            char id[48];
            if (have < 0)
                *bad = 1;
            if (have <= 0)
                continue;
            snprintf(id, sizeof id, "%" JSON_INTEGER_FORMAT "-cn", sid);
            push(details, reference("Observation", id), bad);
        }
        json_t *ev = json_pack("{s:[o]}", "code", local_concept(name ? name : "rule", NULL));
        if (ev && json_array_size(details))
            put(ev, "detail", json_incref(details), bad);
        push(out, ev, bad);
        json_decref(details);
    }
    return out;
}

static json_t *issue_of(sqlite3 *db, json_t *a)
{
    int bad = 0;
    char id[32], detail[512];
    const char *kind = json_string_value(json_object_get(a, "kind"));
    const char *closed_by = json_string_value(json_object_get(a, "closed_by"));
    int retracted = !json_is_null(json_object_get(a, "retracted_at"));
    int64_t sample_id = json_integer_value(json_object_get(a, "sample_id"));
    snprintf(id, sizeof id, "%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(a, "id")));
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:o, s:s, s:o, s:s}", "resourceType", "DetectedIssue", "id", id,
                  "status", retracted ? "cancelled" : "final", "code", local_concept(kind, NULL),
                  "severity", kind && !strcmp(kind, "responding") ? "low" : "high", "patient",
                  reference_id("Patient", json_integer_value(json_object_get(a, "patient_id"))),
                  "identifiedDateTime", json_string_value(json_object_get(a, "fired_on")));
    if (!o)
        return NULL;
    int have = has_result(db, sample_id);
    if (have < 0)
        bad = 1;
    if (have > 0)
        put(o, "implicated", json_pack("[o]", reference_id("DiagnosticReport", sample_id)), &bad);
    put(o, "evidence", issue_evidence(db, a, &bad), &bad);
    snprintf(detail, sizeof detail, "%s; first rule %s%s%s%s", srv_export_value_display(kind),
             json_string_value(json_object_get(a, "rule")), closed_by ? "; closed by " : "",
             closed_by ? closed_by : "", retracted ? "; retracted by a recompute" : "");
    put(o, "detail", json_string(detail), &bad);
    if (!json_is_null(json_object_get(a, "acknowledged_at"))) {
        const char *comment = json_string_value(json_object_get(a, "comment"));
        put(o, "mitigation",
            json_pack("[{s:{s:s}, s:O, s:{s:O}}]", "action", "text",
                      comment ? comment : "acknowledged", "date",
                      json_object_get(a, "acknowledged_at"), "author", "display",
                      json_object_get(a, "acknowledged_by")),
            &bad);
    }
    return done(o, bad);
}

srv_status srv_fhir_detected_issue(sqlite3 *db, const srv_fhir_ctx *ctx, int64_t alert_id,
                                   json_t **out)
{
    (void)ctx;
    json_t *a;
    srv_status st = srv_export_alert_load(db, alert_id, &a);
    if (st != SRV_OK)
        return st;
    *out = issue_of(db, a);
    json_decref(a);
    return *out ? SRV_OK : SRV_INTERNAL;
}

/* ---------------------------------------------------------------- bundles */

static void entry(const srv_fhir_ctx *ctx, json_t *entries, json_t *res, const char *mode, int *bad)
{
    char url[640];
    if (!res) {
        *bad = 1;
        return;
    }
    snprintf(url, sizeof url, "%s/%s/%s", ctx->full_url_base,
             json_string_value(json_object_get(res, "resourceType")),
             json_string_value(json_object_get(res, "id")));
    json_t *e = json_pack("{s:s, s:o}", "fullUrl", url, "resource", res);
    if (e && mode)
        put(e, "search", json_pack("{s:s}", "mode", mode), bad);
    push(entries, e, bad);
}

/* The report and its Observations of one result as entries. */
static void result_entries(const srv_fhir_ctx *ctx, json_t *entries, const srv_export_result *r,
                           const char *mode, int *bad)
{
    entry(ctx, entries, report_of(ctx, r), mode, bad);
    entry(ctx, entries, observation_cn(r), mode, bad);
    if (has_tf(r))
        entry(ctx, entries, observation_tf(r), mode, bad);
    entry(ctx, entries, observation_qc(r), mode, bad);
}

static json_t *bundle(const char *type, json_t *entries)
{
    json_t *b =
        json_pack("{s:s, s:s, s:O}", "resourceType", "Bundle", "type", type, "entry", entries);
    if (b && !strcmp(type, "searchset") &&
        json_object_set_new(b, "total", json_integer((json_int_t)json_array_size(entries)))) {
        json_decref(b);
        return NULL;
    }
    return b;
}

/* Appends the entries of every row of ids (one integer column) built by add(). */
static srv_status each_id(sqlite3 *db, const char *sql, int64_t key,
                          srv_status (*add)(sqlite3 *db, const srv_fhir_ctx *ctx, int64_t id,
                                            json_t *entries),
                          const srv_fhir_ctx *ctx, json_t *entries)
{
    sqlite3_stmt *st = srv_db_prepare(db, sql);
    srv_status res = st ? SRV_OK : SRV_INTERNAL;
    int rc = SQLITE_DONE;
    if (st)
        sqlite3_bind_int64(st, 1, key);
    while (res == SRV_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
        res = add(db, ctx, sqlite3_column_int64(st, 0), entries);
    if (res == SRV_OK && rc != SQLITE_DONE)
        res = SRV_INTERNAL;
    sqlite3_finalize(st);
    return res;
}

static srv_status add_result(sqlite3 *db, const srv_fhir_ctx *ctx, int64_t sample_id,
                             json_t *entries)
{
    srv_export_result r;
    int bad = 0;
    srv_status st = srv_export_result_load(db, sample_id, &r);
    if (st != SRV_OK)
        return st == SRV_NOT_FOUND ? SRV_OK : st;
    result_entries(ctx, entries, &r, "include", &bad);
    srv_export_result_free(&r);
    return bad ? SRV_INTERNAL : SRV_OK;
}

static srv_status add_issue(sqlite3 *db, const srv_fhir_ctx *ctx, int64_t alert_id, json_t *entries)
{
    json_t *issue;
    int bad = 0;
    srv_status st = srv_fhir_detected_issue(db, ctx, alert_id, &issue);
    if (st == SRV_OK)
        entry(ctx, entries, issue, "include", &bad);
    return st == SRV_OK && bad ? SRV_INTERNAL : st;
}

srv_status srv_fhir_everything(sqlite3 *db, const srv_fhir_ctx *ctx, int64_t patient_id,
                               json_t **out)
{
    json_t *patient, *entries = json_array();
    int bad = !entries;
    srv_status st = srv_fhir_patient(db, ctx, patient_id, &patient);
    if (st != SRV_OK) {
        json_decref(entries);
        return st;
    }
    entry(ctx, entries, patient, "match", &bad);
    if (!bad)
        st = each_id(db,
                     "SELECT s.id FROM samples s JOIN results r ON r.sample_id = s.id "
                     "WHERE s.patient_id = ? ORDER BY s.collected_at, s.id",
                     patient_id, add_result, ctx, entries);
    if (!bad && st == SRV_OK)
        st = each_id(db, "SELECT id FROM alerts WHERE patient_id = ? ORDER BY fired_on, id",
                     patient_id, add_issue, ctx, entries);
    if (bad && st == SRV_OK)
        st = SRV_INTERNAL;
    *out = st == SRV_OK ? bundle("searchset", entries) : NULL;
    json_decref(entries);
    return st == SRV_OK && !*out ? SRV_INTERNAL : st;
}

srv_status srv_fhir_sample_bundle(sqlite3 *db, const srv_fhir_ctx *ctx, int64_t sample_id,
                                  json_t **out)
{
    srv_export_result r;
    json_t *patient = NULL, *entries = json_array();
    int bad = !entries;
    srv_status st = srv_export_result_load(db, sample_id, &r);
    if (st != SRV_OK) {
        json_decref(entries);
        return st;
    }
    result_entries(ctx, entries, &r, NULL, &bad);
    st = srv_fhir_patient(db, ctx, r.patient_id, &patient);
    if (st == SRV_OK)
        entry(ctx, entries, patient, NULL, &bad);
    srv_export_result_free(&r);
    if (bad && st == SRV_OK)
        st = SRV_INTERNAL;
    *out = st == SRV_OK ? bundle("collection", entries) : NULL;
    json_decref(entries);
    return st == SRV_OK && !*out ? SRV_INTERNAL : st;
}

/* ---------------------------------------------------------------- capabilities */

json_t *srv_fhir_capabilities_new(const srv_fhir_ctx *ctx, const char *version)
{
    static const char *const types[] = {"Patient", "DiagnosticReport", "Observation",
                                        "DetectedIssue"};
    char today[16];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(today, sizeof today, "%Y-%m-%d", &tm);
    int bad = 0;
    json_t *resources = json_array();
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        json_t *r = json_pack("{s:s, s:[{s:s}]}", "type", types[i], "interaction", "code", "read");
        if (r && i == 2)
            put(r, "supportedProfile", json_pack("[s]", IG_PROFILE "variant"), &bad);
        if (r && i == 1)
            put(r, "supportedProfile", json_pack("[s]", IG_PROFILE "genomic-report"), &bad);
        if (r && i == 0)
            put(r, "operation",
                json_pack("[{s:s, s:s}]", "name", "everything", "definition",
                          "http://hl7.org/fhir/OperationDefinition/Patient-everything"),
                &bad);
        push(resources, r, &bad);
    }
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s}, s:s, s:[s], s:[{s:s, s:{s:s}, "
        "s:o}]}",
        "resourceType", "CapabilityStatement", "status", "active", "date", today, "kind",
        "instance", "publisher", "relapsewatch", "software", "name", "relapsewatchd", "version",
        version, "implementation", "description", "relapsewatch cfDNA 1q21.3 monitoring", "url",
        ctx->full_url_base, "fhirVersion", "4.0.1", "format", "json", "rest", "mode", "server",
        "security", "description",
        "Bearer token (Authorization: Bearer rw_...) or a session; roles clinician, viewer, admin",
        "resource", resources);
    return done(o, bad);
}
