/* Monitoring: persists the longitudinal engine's reading of one patient (state, lead time,
 * alert history) from her stored results, treatments, clinical events and primary status.
 *
 * DESIGN. The engine (core/trend.h) is a pure function of the whole series, so the server never
 * patches its conclusions incrementally: every change to an input (a stored result, a treatment,
 * a clinical event, the patient's primary status, a PoN re-run) replays the patient's complete
 * series inside the transaction of that change. What is stored is therefore always what the
 * engine says about the inputs committed with it. Alerts need an identity across replays so a
 * clinician's acknowledgement sticks to "the same" alert: (patient, draw, kind, first rule); the
 * patient is part of it since a draw can be moved to another patient (schema/008), whose alerts
 * are then new ones while the first patient's stay with her, retracted. A retracted draw
 * (samples.retracted_at) is read as skipped, like a no-call. A replay
 * upserts every alert it raises on that key (refreshing the evidence, reviving a retracted one),
 * then retracts the stored alerts it did not raise. Nothing is deleted. */

#include "server/monitor.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/date.h"
#include "server/audit.h"
#include "server/db.h"
#include "server/log.h"
#include "server/options.h"
#include "server/rows.h"
#include "json/num.h"
#include "json/trend.h"

void srv_monitor_config(rw_trend_config *cfg)
{
    /* The daemon's analysis settings (core/settings.h defaults, its config file and flags): the
     * state, the alerts and the trend page's thresholds follow them. */
    *cfg = srv_settings()->trend;
}

/* The evidence column of an engine alert: every rule met at its draw, and how it ended. */
static char *alert_evidence_text(const rw_trend_alert *al)
{
    int bad = 0;
    json_t *o = json_object(), *rules = json_array();
    for (size_t e = 0; rules && e < al->nevidence; e++)
        if (json_array_append_new(rules, rw_trend_evidence_json_new(&al->evidence[e])))
            bad = 1;
    rw_json_put(o, "rules", rules, &bad);
    rw_json_put(o, "closed_by",
                al->closed_by ? json_string(rw_trend_close_name(al->closed_by)) : json_null(),
                &bad);
    rw_json_put(o, "closed_sample_id",
                al->closed_by ? json_integer(al->closed_sample_id) : json_null(), &bad);
    char *text = bad ? NULL : json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    return text;
}

/* The members of the API's alert object in their order, each with its column of
 * SRV_MONITOR_ALERT_COLUMNS: the one description both forms below (object and text) follow. */
typedef enum alert_value {
    ALERT_INT,      /* an integer column */
    ALERT_TEXT,     /* a text column, null when NULL */
    ALERT_PATIENT,  /* the same, shown only with_patient */
    ALERT_EVIDENCE, /* the stored evidence: JSON text the daemon wrote (schema: json_valid) */
} alert_value;

static const struct alert_member {
    const char *key;
    int col;
    alert_value value;
} alert_members[] = {
    {"id", 0, ALERT_INT},
    {"patient_id", 1, ALERT_INT},
    {"external_id", 2, ALERT_PATIENT},
    {"kind", 3, ALERT_TEXT},
    {"rule", 4, ALERT_TEXT},
    {"fired_on", 5, ALERT_TEXT},
    {"sample_id", 6, ALERT_INT},
    {"evidence", 7, ALERT_EVIDENCE},
    {"closed_by", 8, ALERT_TEXT},
    {"closed_on", 9, ALERT_TEXT},
    {"created_at", 10, ALERT_TEXT},
    {"retracted_at", 11, ALERT_TEXT},
    {"acknowledged_at", 12, ALERT_TEXT},
    {"acknowledged_by", 13, ALERT_TEXT},
    {"comment", 14, ALERT_TEXT},
};

/* The stored evidence of the current row when it is a JSON object (n bytes), else NULL: the
 * answer then shows {}, as it does for a row written before evidence was kept. */
static const char *evidence_text(sqlite3_stmt *st, int col, size_t *n)
{
    const char *text = (const char *)sqlite3_column_text(st, col);
    *n = (size_t)sqlite3_column_bytes(st, col);
    size_t i = 0;
    while (text && i < *n &&
           (text[i] == ' ' || text[i] == '\n' || text[i] == '\r' || text[i] == '\t'))
        i++;
    return text && i < *n && text[i] == '{' ? text : NULL;
}

json_t *srv_monitor_alert_json_new(sqlite3_stmt *st, int with_patient)
{
    int bad = 0;
    json_t *o = json_object();
    size_t n;
    for (size_t i = 0; i < sizeof alert_members / sizeof *alert_members; i++) {
        const struct alert_member *m = &alert_members[i];
        const char *ev;
        json_t *v = NULL;
        switch (m->value) {
        case ALERT_INT:
            v = json_integer(sqlite3_column_int64(st, m->col));
            break;
        case ALERT_PATIENT:
            if (!with_patient)
                continue;
            /* fall through */
        case ALERT_TEXT:
            v = srv_col_text_new(st, m->col);
            break;
        case ALERT_EVIDENCE:
            ev = evidence_text(st, m->col, &n);
            v = ev ? json_loadb(ev, n, 0, NULL) : NULL;
            v = v ? v : json_object();
            break;
        }
        rw_json_put(o, m->key, v, &bad);
    }
    return rw_json_done(o, bad);
}

void srv_monitor_alert_text(srv_text *t, sqlite3_stmt *st, int with_patient)
{
    size_t n;
    srv_text_lit(t, "{");
    for (size_t i = 0; i < sizeof alert_members / sizeof *alert_members; i++) {
        const struct alert_member *m = &alert_members[i];
        const char *ev;
        if (m->value == ALERT_PATIENT && !with_patient)
            continue;
        if (i)
            srv_text_lit(t, ",");
        srv_text_string(t, m->key, strlen(m->key));
        srv_text_lit(t, ":");
        switch (m->value) {
        case ALERT_INT:
            srv_text_int(t, sqlite3_column_int64(st, m->col));
            break;
        case ALERT_PATIENT:
        case ALERT_TEXT:
            if (sqlite3_column_type(st, m->col) == SQLITE_NULL)
                srv_text_lit(t, "null");
            else
                srv_text_string(t, (const char *)sqlite3_column_text(st, m->col),
                                (size_t)sqlite3_column_bytes(st, m->col));
            break;
        case ALERT_EVIDENCE:
            /* Spliced as stored: the daemon wrote it with json_dumps (compact, keys sorted),
             * which is what parsing and dumping it again gives, at a tenth of the cost. */
            if ((ev = evidence_text(st, m->col, &n)))
                srv_text_raw(t, ev, n);
            else
                srv_text_lit(t, "{}");
            break;
        }
    }
    srv_text_lit(t, "}");
}

json_t *srv_monitor_alerts_new(sqlite3_stmt *st, int with_patient)
{
    json_t *a = json_array();
    int rc;
    if (!a)
        return NULL;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *o = srv_monitor_alert_json_new(st, with_patient);
        if (!o || json_array_append_new(a, o))
            goto fail;
    }
    if (rc == SQLITE_DONE)
        return a;
fail:
    json_decref(a);
    return NULL;
}

/* ---------------------------------------------------------------- reading the inputs */

/* Growable arrays of the engine's input. */
typedef struct inputs {
    rw_trend_sample *s;
    size_t ns, ms;
    rw_trend_treatment *t;
    size_t nt, mt;
    rw_trend_event *e;
    size_t ne, me;
} inputs;

static void inputs_free(inputs *in)
{
    free(in->s);
    free(in->t);
    free(in->e);
}

/* Makes room for one more element of size sz in *a (n used, *m allocated). 0 or -1. */
static int grow(void **a, size_t n, size_t *m, size_t sz)
{
    if (n < *m)
        return 0;
    size_t nm = *m ? 2 * *m : 16;
    void *p = realloc(*a, nm * sz);
    if (!p)
        return -1;
    *a = p;
    *m = nm;
    return 0;
}

static double col_double(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

/* The draws that have a result, as the engine reads them. */
static int read_samples(sqlite3 *conn, int64_t patient_id, inputs *in)
{
    sqlite3_stmt *st = srv_db_prepare(
        conn, "SELECT s.id, s.collected_at, r.assay, r.ratio, r.ratio_high, r.cv, r.z, r.call, "
              "r.strong, r.se, r.pon_id, coalesce(json_extract(r.quality, '$.code'), r.call), "
              "s.retracted_at IS NOT NULL "
              "FROM samples s JOIN results r ON r.sample_id = s.id "
              "WHERE s.patient_id = ? ORDER BY s.collected_at, s.id");
    int rc;
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, patient_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        rw_trend_sample x = {.sample_id = sqlite3_column_int64(st, 0)};
        const char *date = (const char *)sqlite3_column_text(st, 1);
        const char *assay = (const char *)sqlite3_column_text(st, 2);
        const char *call = (const char *)sqlite3_column_text(st, 7);
        if (!date || rw_date_parse(date, &x.day) || !assay ||
            rw_trend_assay_parse(assay, &x.assay)) {
            srv_log(SRV_LOG_ERROR, "sample %" PRId64 ": unreadable date or assay", x.sample_id);
            goto fail;
        }
        x.se_log2 = col_double(st, 9);
        x.panel_id = sqlite3_column_int64(st, 10);
        /* A no-call (schema/005: insufficient_quality, no_data) is kept in the series with its
         * reason code, and the engine skips it: never a negative draw. */
        x.no_call = call && strcmp(call, "amplified") && strcmp(call, "not_detected");
        /* A retracted draw (schema/008) is skipped the same way, whatever its call. */
        x.retracted = sqlite3_column_int(st, 12) != 0;
        if (x.no_call) {
            const char *why = (const char *)sqlite3_column_text(st, 11);
            snprintf(x.no_call_reason, sizeof x.no_call_reason, "%s", why ? why : "");
        }
        x.ratio = col_double(st, 3);
        /* A ddPCR run without any positive target droplet stores ratio 0 and an upper bound:
         * the engine needs R > 0, and the bound is the conservative reading (it makes a later
         * rise harder, not easier, to call). */
        if (!(x.ratio > 0) || !isfinite(x.ratio))
            x.ratio = col_double(st, 4);
        if (!x.no_call && !x.retracted && (!(x.ratio > 0) || !isfinite(x.ratio))) {
            srv_log(SRV_LOG_WARN, "sample %" PRId64 ": result without a usable ratio, skipped",
                    x.sample_id);
            continue;
        }
        x.cv = col_double(st, 5);
        if (!(x.cv >= 0))
            x.cv = NAN;
        x.z = col_double(st, 6);
        x.positive = call && strcmp(call, "amplified") == 0;
        /* The pipeline computes sWGS strong calls (z >= z_strong); ddPCR has no strong call of
         * its own, so the engine derives it from the CN lower bound (ddpcr_cn_strong). */
        x.strong = x.assay == RW_TREND_DDPCR ? -1 : sqlite3_column_int(st, 8) != 0;
        if (x.strong == 1)
            x.positive = 1;
        if (grow((void **)&in->s, in->ns, &in->ms, sizeof *in->s))
            goto fail;
        in->s[in->ns++] = x;
    }
    if (rc != SQLITE_DONE)
        srv_log(SRV_LOG_ERROR, "reading the series: %s", sqlite3_errmsg(conn));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
fail:
    sqlite3_finalize(st);
    return -1;
}

static int read_treatments(sqlite3 *conn, int64_t patient_id, inputs *in)
{
    sqlite3_stmt *st = srv_db_prepare(conn, "SELECT kind, start_date, end_date FROM treatments "
                                            "WHERE patient_id = ? ORDER BY start_date, id");
    int rc;
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, patient_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        rw_trend_treatment t = {.end = RW_TREND_OPEN_END};
        const char *kind = (const char *)sqlite3_column_text(st, 0);
        const char *start = (const char *)sqlite3_column_text(st, 1);
        const char *end = (const char *)sqlite3_column_text(st, 2);
        if (!kind || rw_trend_treatment_parse(kind, &t.kind) || !start ||
            rw_date_parse(start, &t.start) || (end && rw_date_parse(end, &t.end)) ||
            grow((void **)&in->t, in->nt, &in->mt, sizeof *in->t)) {
            srv_log(SRV_LOG_ERROR, "unreadable treatment of patient %" PRId64, patient_id);
            sqlite3_finalize(st);
            return -1;
        }
        in->t[in->nt++] = t;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int read_events(sqlite3 *conn, int64_t patient_id, inputs *in)
{
    sqlite3_stmt *st = srv_db_prepare(
        conn, "SELECT kind, date FROM clinical_events WHERE patient_id = ? ORDER BY date, id");
    int rc;
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, patient_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        rw_trend_event e;
        const char *kind = (const char *)sqlite3_column_text(st, 0);
        const char *date = (const char *)sqlite3_column_text(st, 1);
        if (!kind || rw_trend_event_parse(kind, &e.kind) || !date || rw_date_parse(date, &e.day) ||
            grow((void **)&in->e, in->ne, &in->me, sizeof *in->e)) {
            srv_log(SRV_LOG_ERROR, "unreadable clinical event of patient %" PRId64, patient_id);
            sqlite3_finalize(st);
            return -1;
        }
        in->e[in->ne++] = e;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* 1 and *primary set when the patient exists, 0 when not, -1 on error. */
static int read_primary(sqlite3 *conn, int64_t patient_id, rw_trend_primary *primary)
{
    sqlite3_stmt *st =
        srv_db_prepare(conn, "SELECT primary_1q213_status FROM patients WHERE id = ?");
    int rc;
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, patient_id);
    rc = sqlite3_step(st);
    *primary = RW_PRIMARY_UNKNOWN;
    if (rc == SQLITE_ROW) {
        const char *s = (const char *)sqlite3_column_text(st, 0);
        if (s && rw_trend_primary_parse(s, primary))
            *primary = RW_PRIMARY_UNKNOWN;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* ---------------------------------------------------------------- writing the conclusions */

static int store_state(sqlite3 *conn, int64_t patient_id, const rw_trend_result *r,
                       const rw_trend_config *cfg, size_t nresults)
{
    json_t *cj = rw_trend_config_json_new(cfg);
    char *ctext = cj ? json_dumps(cj, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    char relapse[11];
    sqlite3_stmt *st = NULL;
    int rc = -1;

    json_decref(cj);
    if (!ctext)
        goto out;
    st = srv_db_prepare(
        conn, "INSERT INTO patient_state (patient_id, state, lead_time_days, relapse_date, "
              "n_results, computed_at, trend_config) VALUES (?1, ?2, ?3, ?4, ?5, "
              "strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), ?6) ON CONFLICT (patient_id) DO UPDATE SET "
              "state = excluded.state, lead_time_days = excluded.lead_time_days, relapse_date = "
              "excluded.relapse_date, n_results = excluded.n_results, computed_at = "
              "excluded.computed_at, trend_config = excluded.trend_config");
    if (!st)
        goto out;
    sqlite3_bind_int64(st, 1, patient_id);
    sqlite3_bind_text(st, 2, rw_trend_state_name(r->state), -1, SQLITE_STATIC);
    if (r->has_lead_time)
        sqlite3_bind_int(st, 3, r->lead_time_days);
    if (r->has_relapse) {
        rw_date_format(r->relapse_day, relapse);
        sqlite3_bind_text(st, 4, relapse, -1, SQLITE_STATIC);
    }
    sqlite3_bind_int64(st, 5, (sqlite3_int64)nresults);
    sqlite3_bind_text(st, 6, ctext, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        srv_log(SRV_LOG_ERROR, "storing the state of patient %" PRId64 ": %s", patient_id,
                sqlite3_errmsg(conn));
        goto out;
    }
    rc = 0;
out:
    sqlite3_finalize(st);
    free(ctext);
    return rc;
}

/* Upserts one engine alert on its identity; *id receives its row id, *fresh whether it is new
 * or came back from retraction (for the audit trail). */
static int upsert_alert(sqlite3 *conn, int64_t patient_id, const rw_trend_alert *al, int64_t *id,
                        int *fresh)
{
    const char *kind = rw_trend_alert_name(al->kind);
    const char *rule = al->nevidence ? rw_trend_rule_name(al->evidence[0].rule) : "unknown";
    char fired[11], closed[11];
    char *evidence = alert_evidence_text(al);
    sqlite3_stmt *st = NULL;
    int rc = -1;

    if (!evidence)
        goto out;
    rw_date_format(al->day, fired);
    /* Was it known and live? (decides whether the change is worth an audit row) */
    st = srv_db_prepare(conn, "SELECT retracted_at IS NULL FROM alerts "
                              "WHERE sample_id = ? AND kind = ? AND rule = ? AND patient_id = ?");
    if (!st)
        goto out;
    sqlite3_bind_int64(st, 1, al->sample_id);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, rule, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, patient_id);
    int step = sqlite3_step(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        goto fail_sql;
    *fresh = step == SQLITE_DONE || sqlite3_column_int(st, 0) == 0;
    sqlite3_finalize(st);

    st = srv_db_prepare(
        conn, "INSERT INTO alerts (patient_id, kind, rule, fired_on, sample_id, evidence, "
              "closed_by, closed_on) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
              "ON CONFLICT (patient_id, sample_id, kind, rule) DO UPDATE SET fired_on = "
              "excluded.fired_on, "
              "evidence = excluded.evidence, closed_by = excluded.closed_by, closed_on = "
              "excluded.closed_on, retracted_at = NULL RETURNING id");
    if (!st)
        goto out;
    sqlite3_bind_int64(st, 1, patient_id);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, rule, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, fired, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, al->sample_id);
    sqlite3_bind_text(st, 6, evidence, -1, SQLITE_STATIC);
    if (al->closed_by != RW_CLOSE_NONE) {
        rw_date_format(al->closed_day, closed);
        sqlite3_bind_text(st, 7, rw_trend_close_name(al->closed_by), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 8, closed, -1, SQLITE_STATIC);
    }
    if (sqlite3_step(st) != SQLITE_ROW)
        goto fail_sql;
    *id = sqlite3_column_int64(st, 0);
    if (sqlite3_step(st) != SQLITE_DONE)
        goto fail_sql;
    rc = 0;
    goto out;
fail_sql:
    srv_log(SRV_LOG_ERROR, "storing an alert of patient %" PRId64 ": %s", patient_id,
            sqlite3_errmsg(conn));
out:
    sqlite3_finalize(st);
    free(evidence);
    return rc;
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Retracts the patient's live alerts whose id is not in kept (sorted, n). */
static int retract_others(sqlite3 *conn, int64_t patient_id, const int64_t *kept, size_t n)
{
    sqlite3_stmt *sel = NULL, *upd = NULL;
    int rc = -1, step;
    int64_t *gone = NULL;
    size_t ng = 0, mg = 0;

    sel = srv_db_prepare(conn, "SELECT id, kind, rule, sample_id FROM alerts "
                               "WHERE patient_id = ? AND retracted_at IS NULL");
    if (!sel)
        goto out;
    sqlite3_bind_int64(sel, 1, patient_id);
    while ((step = sqlite3_step(sel)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(sel, 0);
        if (n && bsearch(&id, kept, n, sizeof *kept, cmp_id))
            continue;
        if (grow((void **)&gone, ng, &mg, sizeof *gone))
            goto out;
        gone[ng++] = id;
    }
    if (step != SQLITE_DONE)
        goto out;
    upd = srv_db_prepare(conn, "UPDATE alerts SET retracted_at = "
                               "strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?");
    if (!upd)
        goto out;
    for (size_t i = 0; i < ng; i++) {
        sqlite3_reset(upd);
        sqlite3_bind_int64(upd, 1, gone[i]);
        if (sqlite3_step(upd) != SQLITE_DONE ||
            srv_audit_write(conn, "system", 0, "retract", "alert", gone[i], NULL))
            goto out;
    }
    rc = 0;
out:
    if (rc)
        srv_log(SRV_LOG_ERROR, "retracting alerts of patient %" PRId64 ": %s", patient_id,
                sqlite3_errmsg(conn));
    sqlite3_finalize(sel);
    sqlite3_finalize(upd);
    free(gone);
    return rc;
}

static int store_alerts(sqlite3 *conn, int64_t patient_id, const rw_trend_result *r)
{
    int64_t *kept = r->nalerts ? malloc(r->nalerts * sizeof *kept) : NULL;
    int rc = -1;

    if (r->nalerts && !kept)
        return -1;
    for (size_t i = 0; i < r->nalerts; i++) {
        int fresh = 0;
        if (upsert_alert(conn, patient_id, &r->alerts[i], &kept[i], &fresh))
            goto out;
        if (fresh) {
            json_t *d = json_pack("{s:s, s:I}", "kind", rw_trend_alert_name(r->alerts[i].kind),
                                  "sample_id", (json_int_t)r->alerts[i].sample_id);
            int bad = !d || srv_audit_write(conn, "system", 0, "fire", "alert", kept[i], d);
            json_decref(d);
            if (bad)
                goto out;
        }
    }
    if (r->nalerts) /* qsort and bsearch want a non-NULL array even when empty */
        qsort(kept, r->nalerts, sizeof *kept, cmp_id);
    rc = retract_others(conn, patient_id, kept, r->nalerts);
out:
    free(kept);
    return rc;
}

/* ---------------------------------------------------------------- the hook */

/* Reads patient_id's inputs into *in and runs the engine with cfg: 0 with *res set, or -1
 * (logged). */
static int run_engine(sqlite3 *conn, int64_t patient_id, const rw_trend_config *cfg, inputs *in,
                      rw_trend_result **res)
{
    rw_trend_input ti = {0};
    rw_error err = {0};
    int found = read_primary(conn, patient_id, &ti.primary);
    if (found <= 0) {
        if (found == 0)
            srv_log(SRV_LOG_ERROR, "recompute: no patient %" PRId64, patient_id);
        return -1;
    }
    if (read_samples(conn, patient_id, in) || read_treatments(conn, patient_id, in) ||
        read_events(conn, patient_id, in))
        return -1;
    ti.samples = in->s;
    ti.nsamples = in->ns;
    ti.treatments = in->t;
    ti.ntreatments = in->nt;
    ti.events = in->e;
    ti.nevents = in->ne;
    if (rw_trend_run(&ti, cfg, res, &err) != RW_OK) {
        /* The API validated every input, so this is a bug or a hand-edited database: fail the
         * caller's transaction rather than store a state that ignores part of the series. */
        srv_log(SRV_LOG_ERROR, "trend of patient %" PRId64 ": %s", patient_id, err.msg);
        return -1;
    }
    return 0;
}

/* Marks the retracted draws of the patient in points (keyed by sample id; a draw without a
 * result gets an entry of its own): retracted, skipped, retraction_reason, retracted_at,
 * retracted_by. 0, or -1 on an SQL or allocation error. */
static int mark_retracted(sqlite3 *conn, int64_t patient_id, json_t *points)
{
    sqlite3_stmt *st = srv_db_prepare(conn, "SELECT id, retraction_reason, retracted_at, "
                                            "retracted_by FROM samples WHERE patient_id = ? AND "
                                            "retracted_at IS NOT NULL");
    int rc, bad = 0;
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, patient_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && !bad) {
        char key[24];
        snprintf(key, sizeof key, "%" PRId64, (int64_t)sqlite3_column_int64(st, 0));
        json_t *p = json_object_get(points, key);
        if (!p && (json_object_set_new(points, key, json_object()) ||
                   !(p = json_object_get(points, key))))
            break;
        bad = json_object_set_new(p, "retracted", json_true()) ||
              json_object_set_new(p, "skipped", json_true()) ||
              json_object_set_new(p, "retraction_reason", srv_col_text_new(st, 1)) ||
              json_object_set_new(p, "retracted_at", srv_col_text_new(st, 2)) ||
              json_object_set_new(p, "retracted_by", srv_col_text_new(st, 3));
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE && !bad ? 0 : -1;
}

json_t *srv_monitor_points_new(sqlite3 *conn, int64_t patient_id)
{
    inputs in = {0};
    rw_trend_config cfg;
    rw_trend_result *res = NULL;
    json_t *o = NULL;
    srv_monitor_config(&cfg);
    if (!run_engine(conn, patient_id, &cfg, &in, &res) && (o = json_object())) {
        for (size_t i = 0; i < res->npoints; i++) {
            char key[24];
            snprintf(key, sizeof key, "%" PRId64, res->points[i].s.sample_id);
            json_t *p = rw_trend_point_json_new(&res->points[i]);
            if (!p || json_object_set_new(o, key, p)) {
                json_decref(o);
                o = NULL;
                break;
            }
        }
        if (o && mark_retracted(conn, patient_id, o)) {
            json_decref(o);
            o = NULL;
        }
    }
    rw_trend_result_free(res);
    inputs_free(&in);
    return o;
}

int srv_monitor_recompute(sqlite3 *conn, int64_t patient_id)
{
    inputs in = {0};
    rw_trend_config cfg;
    rw_trend_result *res = NULL;
    int rc = -1;

    srv_monitor_config(&cfg);
    if (run_engine(conn, patient_id, &cfg, &in, &res))
        goto out;
    if (store_state(conn, patient_id, res, &cfg, in.ns) || store_alerts(conn, patient_id, res))
        goto out;
    srv_log(SRV_LOG_DEBUG, "patient %" PRId64 ": %s, %zu alerts", patient_id,
            rw_trend_state_name(res->state), res->nalerts);
    rc = 0;
out:
    rw_trend_result_free(res);
    inputs_free(&in);
    return rc;
}
