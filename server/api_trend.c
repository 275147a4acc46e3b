/* REST resource /api/v1/patients/{id}/trend: a patient's whole monitoring picture ready to plot:
 * every draw (with or without a result), thresholds, treatments, events, live alerts, the state
 * and the lead time (docs/api-monitoring.md). Read in one snapshot so the parts agree. */

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "server/answer_cache.h"
#include "server/api_clinical.h"
#include "server/monitor.h"
#include "server/options.h"
#include "json/num.h"
#include "json/settings.h"

static json_t *col_num(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? json_null()
                                                     : rw_json_num(sqlite3_column_double(st, i));
}

static json_t *col_text(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL
               ? json_null()
               : json_string((const char *)sqlite3_column_text(st, i));
}

/* The tumour fraction shown for a draw: the tumour-informed estimate (from the primary's copy
 * number; the sharper one at low fractions) when the pipeline made one, else the genome-wide
 * fit's estimate, else (ddPCR with a known primary copy number C > 2) 2(R - 1)/(C - 2) clipped
 * to [0, 1], else null. */
static json_t *tumour_fraction(const char *tf_text, double ratio, double primary_cn)
{
    double f = NAN;
    if (tf_text) {
        json_t *tf = json_loads(tf_text, 0, NULL);
        json_t *inf = json_object_get(tf, "tumour_informed");
        json_t *est = json_object_get(json_is_object(inf) ? inf : tf, "estimate");
        if (json_is_number(est))
            f = json_number_value(est);
        json_decref(tf);
    } else if (isfinite(ratio) && isfinite(primary_cn) && primary_cn > 2) {
        f = 2 * (ratio - 1) / (primary_cn - 2);
        f = f < 0 ? 0 : f > 1 ? 1 : f;
    }
    return rw_json_num(f);
}

/* The call thresholds a draw's result was made with, from the settings stored with it (the
 * daemon's present ones for a result stored before they were recorded: "recorded" false). */
static json_t *draw_thresholds(const char *settings_text, const char *assay)
{
    json_t *stored = settings_text ? json_loads(settings_text, 0, NULL) : NULL;
    json_t *th =
        rw_settings_thresholds_json_new(stored, assay && !strcmp(assay, "ddpcr"), srv_settings());
    json_decref(stored);
    return th ? th : json_null();
}

/* What the engine read of a draw (points: srv_monitor_points_new()): skipped (a no-call), its
 * no_call_reason code, and the personal baseline's z_personal, personal_reference, personal_sd,
 * personal_draws; false / null / 0 for a draw the engine did not read. */
static int engine_fields(json_t *o, json_t *points, int64_t sample_id)
{
    static const char *const keys[] = {"no_call_reason", "z_personal",     "personal_reference",
                                       "personal_sd",    "personal_draws", "retraction_reason",
                                       "retracted_at",   "retracted_by"};
    char key[24];
    snprintf(key, sizeof key, "%" PRId64, sample_id);
    json_t *p = json_object_get(points, key), *v;
    int bad = json_object_set_new(o, "skipped",
                                  json_boolean(json_is_true(json_object_get(p, "skipped"))));
    /* a retracted draw (schema/008, POST /samples/{accession}/retract) */
    bad |= json_object_set_new(o, "retracted",
                               json_boolean(json_is_true(json_object_get(p, "retracted"))));
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        v = json_object_get(p, keys[i]);
        bad |= v ? json_object_set(o, keys[i], v)
                 : json_object_set_new(o, keys[i], i == 4 ? json_integer(0) : json_null());
    }
    return bad;
}

/* Every draw of the patient by date, null values for those without a result. */
static json_t *series_new(sqlite3 *db, int64_t pid, double primary_cn, json_t *points)
{
    json_t *a = json_array();
    sqlite3_stmt *st = srv_db_prepare(
        db, "SELECT s.id, s.accession, s.collected_at, s.assay, s.status, r.ratio, r.ratio_low, "
            "r.ratio_high, r.log2_ratio, r.z, r.call, r.tumour_fraction, r.strong, r.cv, r.se, "
            "r.sample_id IS NOT NULL, r.settings, r.quality FROM samples s LEFT JOIN results r ON "
            "r.sample_id = s.id "
            "WHERE s.patient_id = ? ORDER BY s.collected_at, s.id");
    int rc = SQLITE_ERROR;
    if (!st || !a)
        goto fail;
    sqlite3_bind_int64(st, 1, pid);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int has = sqlite3_column_int(st, 15);
        double ratio =
            sqlite3_column_type(st, 5) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 5);
        json_t *o = json_pack(
            "{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
            "sample_id", (json_int_t)sqlite3_column_int64(st, 0), "accession", col_text(st, 1),
            "date", col_text(st, 2), "assay", col_text(st, 3), "status", col_text(st, 4), "ratio",
            col_num(st, 5), "ratio_low", col_num(st, 6), "ratio_high", col_num(st, 7), "log2",
            col_num(st, 8), "z", col_num(st, 9), "call", col_text(st, 10), "tumour_fraction",
            has ? tumour_fraction((const char *)sqlite3_column_text(st, 11), ratio, primary_cn)
                : json_null(),
            "strong", has ? json_boolean(sqlite3_column_int(st, 12)) : json_null(), "cv",
            col_num(st, 13), "se", col_num(st, 14));
        if (o && has)
            json_object_set_new(o, "thresholds",
                                draw_thresholds((const char *)sqlite3_column_text(st, 16),
                                                (const char *)sqlite3_column_text(st, 3)));
        else if (o)
            json_object_set_new(o, "thresholds", json_null());
        if (o) { /* a no-call's why (schema/005): {code, reason, ...}, null for a call */
            const char *q = (const char *)sqlite3_column_text(st, 17);
            json_t *qj = q ? json_loads(q, 0, NULL) : NULL;
            json_object_set_new(o, "quality", qj ? qj : json_null());
        }
        if (!o || engine_fields(o, points, sqlite3_column_int64(st, 0)) ||
            json_array_append_new(a, o))
            goto fail;
    }
    if (rc != SQLITE_DONE)
        goto fail;
    sqlite3_finalize(st);
    return a;
fail:
    sqlite3_finalize(st);
    json_decref(a);
    return NULL;
}

/* The copy ratio at which the patient's latest sWGS draw would have been called amplified:
 * 2^(pon_mean + z_threshold * sigma) from that result's 1q21.3 score (the z-score is
 * (mean - pon_mean) / sigma), or 2^(log2_ratio * z_threshold / z) when the stored score lacks
 * the PoN statistics. Each draw has its own sigma (its depth), so this line is a guide drawn
 * for the latest draw, not the threshold of every point. NaN without an sWGS result. */
static int swgs_ratio_threshold(sqlite3 *db, int64_t pid, double z_default, double *out)
{
    sqlite3_stmt *st = srv_db_prepare(
        db, "SELECT r.regions, r.log2_ratio, r.z FROM results r JOIN samples s ON s.id = "
            "r.sample_id WHERE s.patient_id = ? AND r.assay IN ('swgs', 'bins') "
            "ORDER BY s.collected_at DESC, s.id DESC LIMIT 1");
    int rc;
    *out = NAN;
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, pid);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(st, 0);
        json_t *regions = text ? json_loads(text, 0, NULL) : NULL, *g;
        size_t i;
        json_array_foreach(regions, i, g)
        {
            const char *name = json_string_value(json_object_get(g, "name"));
            double m = json_number_value(json_object_get(g, "pon_mean"));
            double s = json_number_value(json_object_get(g, "sigma"));
            json_t *th = json_object_get(g, "threshold");
            double z = json_is_number(th) ? json_number_value(th) : z_default;
            if (name && strcmp(name, "1q21.3") == 0 && json_is_number(json_object_get(g, "sigma")))
                *out = exp2(m + z * s);
        }
        json_decref(regions);
        double l = sqlite3_column_double(st, 1), z = sqlite3_column_double(st, 2);
        if (!isfinite(*out) && sqlite3_column_type(st, 2) != SQLITE_NULL && z != 0)
            *out = exp2(l * z_default / z);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

static json_t *alerts_new(sqlite3 *db, int64_t pid)
{
    json_t *a = NULL;
    sqlite3_stmt *st = srv_db_prepare(
        db, "SELECT " SRV_MONITOR_ALERT_COLUMNS " FROM alerts a JOIN patients p ON p.id = "
            "a.patient_id WHERE a.patient_id = ? AND a.retracted_at IS NULL "
            "ORDER BY a.fired_on, a.id");
    if (st) {
        sqlite3_bind_int64(st, 1, pid);
        a = srv_monitor_alerts_new(st, 0);
    }
    sqlite3_finalize(st);
    return a;
}

enum { TREND_ANSWER = 3 }; /* this file's kind in the answer cache */

/* The patient's version (patient_summary.version), 0 when unknown (no such patient: an erased
 * one has no row; ids are never reused, AUTOINCREMENT since schema 008): then nothing is
 * reused. */
static uint64_t trend_version(sqlite3 *db, int64_t pid)
{
    sqlite3_stmt *st = srv_db_prepare(db, "SELECT s.version FROM patients p JOIN patient_summary "
                                          "s ON s.patient_id = p.id WHERE p.id = ?");
    uint64_t v = 0;
    if (st) {
        sqlite3_bind_int64(st, 1, pid);
        if (sqlite3_step(st) == SQLITE_ROW)
            v = (uint64_t)sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    return v;
}

/* The answer cached under patient pid's present version into *a: 1 when there is one. One
 * statement (its own read snapshot), no patient row built: the usual read of a trend, whose
 * answer changes only with a write (issue 14). */
static int cached_answer(sqlite3 *db, int64_t pid, srv_answer *a)
{
    uint64_t v = trend_version(db, pid);
    return v && srv_answer_cache_get(TREND_ANSWER, pid, v, a) == 1;
}

static enum MHD_Result trend_get(srv_request *req)
{
    static const char *const allowed[] = {NULL};
    json_t *patient = NULL, *body = NULL, *args = NULL, *rows = NULL, *th;
    sqlite3_stmt *st = NULL;
    rw_trend_config cfg;
    double ratio_th = NAN;
    int64_t pid;

    srv_answer a = {0};
    if (srv_query_check(req, allowed) || srv_param_id(req, 0, &pid))
        return srv_clin_done(req);
    if (cached_answer(req->db, pid, &a))
        return srv_answer_reply(req, &a, "patient", pid);
    /* One read snapshot (WAL): a result stored meanwhile shows in all parts or in none. */
    if (sqlite3_exec(req->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        return srv_reply_internal(req, "cannot open a read transaction");
    if (!(patient = srv_clin_patient_new(req, 1)))
        return srv_clin_done(req);
    pid = (int64_t)json_integer_value(json_object_get(patient, "id"));
    json_t *cn = json_object_get(patient, "primary_1q213_cn");
    double primary_cn = json_is_number(cn) ? json_number_value(cn) : NAN;

    /* The answer is cached under the patient's version (schema 011: raised in the transaction of
     * every change to what a trend shows); the settings are the daemon's, fixed at start-up. */
    uint64_t version = trend_version(req->db, pid);
    if (version && srv_answer_cache_get(TREND_ANSWER, pid, version, &a) == 1) {
        srv_db_rollback(req->db);
        json_decref(patient);
        return srv_answer_reply(req, &a, "patient", pid);
    }
    srv_monitor_config(&cfg);
    body = json_object();
    if (!body || json_object_set(body, "patient", patient))
        goto fail;
    st = srv_db_prepare(req->db,
                        "SELECT state, lead_time_days FROM patient_state WHERE patient_id = ?");
    if (!st)
        goto fail;
    sqlite3_bind_int64(st, 1, pid);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        goto fail;
    /* A patient never recomputed has no result yet: nothing detected. */
    json_object_set_new(body, "state",
                        rc == SQLITE_ROW ? col_text(st, 0) : json_string("not_detected"));
    json_object_set_new(body, "lead_time_days",
                        rc == SQLITE_ROW && sqlite3_column_type(st, 1) != SQLITE_NULL
                            ? json_integer(sqlite3_column_int(st, 1))
                            : json_null());
    sqlite3_finalize(st);
    st = NULL;

    if (swgs_ratio_threshold(req->db, pid, cfg.z_positive, &ratio_th))
        goto fail;
    th = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "z_amplified",
                   rw_json_num(cfg.z_positive), "z_strong", rw_json_num(cfg.z_strong),
                   "ddpcr_cn_lower", rw_json_num(cfg.ddpcr_cn_positive), "ddpcr_cn_strong",
                   rw_json_num(cfg.ddpcr_cn_strong), "swgs_ratio_amplified", rw_json_num(ratio_th),
                   "cv_within_person", rw_json_num(cfg.cv_i), "rcv_z", rw_json_num(cfg.rcv_z));
    if (!th || json_object_set_new(body, "thresholds", th))
        goto fail;
    json_t *points = srv_monitor_points_new(req->db, pid);
    rows = points ? series_new(req->db, pid, primary_cn, points) : NULL;
    json_decref(points);
    if (!rows || json_object_set_new(body, "series", rows))
        goto fail;
    args = json_pack("[I]", (json_int_t)pid);
    if (!args ||
        !(rows = srv_rows_query_new(req->db,
                                    "SELECT id, kind, regimen, start_date, end_date FROM "
                                    "treatments WHERE patient_id = ? ORDER BY start_date, id",
                                    args)) ||
        json_object_set_new(body, "treatments", rows))
        goto fail;
    if (!(rows = srv_rows_query_new(req->db,
                                    "SELECT id, kind, date, note FROM clinical_events "
                                    "WHERE patient_id = ? ORDER BY date, id",
                                    args)) ||
        json_object_set_new(body, "events", rows))
        goto fail;
    if (!(rows = alerts_new(req->db, pid)) || json_object_set_new(body, "alerts", rows))
        goto fail;
    srv_db_rollback(req->db); /* read only: ends the snapshot */
    json_decref(patient);
    json_decref(args);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!text || srv_answer_cache_put(TREND_ANSWER, pid, version, text, strlen(text), &a)) {
        free(text);
        return srv_reply_internal(req, "out of memory");
    }
    free(text);
    return srv_answer_reply(req, &a, "patient", pid);
fail:
    sqlite3_finalize(st);
    srv_db_rollback(req->db);
    json_decref(patient);
    json_decref(args);
    json_decref(body);
    return srv_reply_internal(req, "cannot read a patient's trend");
}

const srv_route srv_trend_routes[] = {
    {.method = "GET",
     .path = "/api/v1/patients/{id}/trend",
     .handler = trend_get,
     .roles = SRV_ROLE_CLINICIAN | SRV_ROLE_VIEWER | SRV_ROLE_ADMIN},
    {0},
};
