/* The delivery thread (see outbox.h): fan-out of outbox events into deliveries, and their
 * attempts with exponential backoff. */
#include "server/outbox.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sqlite3.h>

#include "server/db.h"
#include "server/deadline.h"
#include "server/export.h"
#include "server/hl7.h"
#include "server/jobs.h"
#include "server/log.h"
#include "server/netclient.h"
#include "server/options.h"
#include "server/rows.h"
#include "server/webhooks.h"

#define POLL_MS      500
#define BATCH        50
#define MAX_DELAY_S  (6 * 3600)
#define BUSY_TIMEOUT 10000
#define PRUNE_EVERY  3600.0 /* seconds between two prunings of old messages */
#define PRUNE_BATCH  1000   /* messages dropped per transaction */

struct srv_outbox {
    const srv_config *cfg;
    sqlite3 *conn;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stop;
    double pruned_at; /* monotonic seconds of the last pruning; 0: never */
};

/* ---------------------------------------------------------------- fan-out */

/* The event's data: the trigger's facts plus the record as it stands now (alert, result
 * summary, job). A new object, or NULL. */
static json_t *event_data_new(sqlite3 *c, sqlite3_stmt *ev)
{
    const char *type = (const char *)sqlite3_column_text(ev, 1);
    json_t *data = json_loads((const char *)sqlite3_column_text(ev, 6), 0, NULL), *rec = NULL;
    if (!json_is_object(data)) {
        json_decref(data);
        data = json_object();
    }
    static const char *const ids[] = {"patient_id", "sample_id", "alert_id", "job_id"};
    for (int i = 0; i < 4; i++)
        if (sqlite3_column_type(ev, 2 + i) != SQLITE_NULL)
            json_object_set_new(data, ids[i], json_integer(sqlite3_column_int64(ev, 2 + i)));
    if (!strncmp(type, "alert.", 6) &&
        srv_export_alert_load(c, sqlite3_column_int64(ev, 4), &rec) == SRV_OK)
        json_object_set_new(data, "alert", rec);
    else if (!strcmp(type, "job.failed") &&
             srv_jobs_get(c, sqlite3_column_int64(ev, 5), &rec) == SRV_OK)
        json_object_set_new(data, "job", rec);
    else if (!strncmp(type, "result.", 7)) {
        srv_export_result r;
        if (srv_export_result_load(c, sqlite3_column_int64(ev, 3), &r) == SRV_OK) {
            char fhir[160];
            snprintf(fhir, sizeof fhir, "/api/v1/fhir/DiagnosticReport/%" PRId64, r.sample_id);
            json_t *o = json_pack(
                "{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:b, s:O, s:s}", "accession", r.accession,
                "external_id", r.external_id, "collected_at", r.collected_at, "call", r.call,
                "ratio", isfinite(r.ratio) ? json_real(r.ratio) : json_null(), "ratio_low",
                isfinite(r.ratio_low) ? json_real(r.ratio_low) : json_null(), "ratio_high",
                isfinite(r.ratio_high) ? json_real(r.ratio_high) : json_null(), "z",
                isfinite(r.z) ? json_real(r.z) : json_null(), "strong", r.strong, "tumour_fraction",
                r.tf ? r.tf : json_null(), "fhir", fhir);
            json_object_set_new(data, "result", o);
            srv_export_result_free(&r);
        }
    }
    return data;
}

/* INSERTs one delivery (record: what an HL7 message is about, schema 015; NULL for a webhook).
 * 0, or -1 (logged). */
static int add_delivery(sqlite3 *c, int64_t event_id, const char *channel, int64_t webhook_id,
                        const char *destination, const char *body, const char *record)
{
    sqlite3_stmt *st = srv_db_prepare(c, "INSERT INTO deliveries (event_id, channel, webhook_id, "
                                         "destination, body, record) VALUES (?, ?, ?, ?, ?, ?)");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, event_id);
    sqlite3_bind_text(st, 2, channel, -1, SQLITE_STATIC);
    if (webhook_id)
        sqlite3_bind_int64(st, 3, webhook_id);
    sqlite3_bind_text(st, 4, destination, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, body, -1, SQLITE_STATIC);
    if (record)
        sqlite3_bind_text(st, 6, record, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return rc;
}

/* One delivery per subscription to this event type created before the event. */
static int fan_out_webhooks(sqlite3 *c, int64_t event_id, const char *type, const char *body)
{
    sqlite3_stmt *st = srv_db_prepare(
        c, "SELECT id, url FROM webhooks WHERE deleted_at IS NULL AND after_event_id < ?1 AND "
           "EXISTS (SELECT 1 FROM json_each(webhooks.events) WHERE value = ?2) ORDER BY id");
    int rc, bad = !st;
    if (bad)
        return -1;
    sqlite3_bind_int64(st, 1, event_id);
    sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
    while (!bad && (rc = sqlite3_step(st)) == SQLITE_ROW)
        bad = add_delivery(c, event_id, "webhook", sqlite3_column_int64(st, 0),
                           (const char *)sqlite3_column_text(st, 1), body, NULL);
    bad |= !bad && rc != SQLITE_DONE;
    sqlite3_finalize(st);
    return bad ? -1 : 0;
}

/* ---------------------------------------------------------------- HL7 fan-out
 * A receiver keeps what it was sent: a result or alert it has is replaced (C) or posted as wrong
 * (W), never sent as new twice, and one it never had is not corrected. What it has is read from
 * the record keys of the HL7 deliveries of earlier events (schema 015): "result <sample>
 * <patient>" (a draw's result under one patient) or "alert <id>". */

/* Whether an HL7 message about record came from an event before event_id: 1, 0, or -1. */
static int hl7_sent(sqlite3 *c, int64_t event_id, const char *record)
{
    sqlite3_stmt *st = srv_db_prepare(c, "SELECT 1 FROM deliveries WHERE record = ?1 AND "
                                         "event_id < ?2 LIMIT 1");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, record, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, event_id);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* Queues one HL7 message: of sample_id's result under patient_id (alert_id 0) or of alert_id,
 * its status from what was sent before; one that posts a record as wrong only when the receiver
 * has it. ctx->external_id names a former patient. 0 (also when nothing is sent), or -1. */
static int hl7_queue(srv_outbox *o, int64_t event_id, srv_hl7_ctx *ctx, int64_t sample_id,
                     int64_t patient_id, int64_t alert_id, int wrong)
{
    char record[64];
    if (alert_id)
        snprintf(record, sizeof record, "alert %" PRId64, alert_id);
    else
        snprintf(record, sizeof record, "result %" PRId64 " %" PRId64, sample_id, patient_id);
    int sent = hl7_sent(o->conn, event_id, record);
    if (sent < 0)
        return -1;
    if (wrong && !sent) /* nothing to post as wrong */
        return 0;
    ctx->status = wrong ? SRV_HL7_WRONG : sent ? SRV_HL7_CORRECTED : SRV_HL7_FINAL;
    char *text = NULL;
    srv_status st = alert_id ? srv_hl7_alert(o->conn, ctx, alert_id, &text)
                             : srv_hl7_result(o->conn, ctx, sample_id, &text);
    if (st == SRV_NOT_FOUND) /* the record went (an erasure) before we came */
        return 0;
    if (st != SRV_OK)
        return -1;
    /* ctx->status is now what was rendered: wrong for a record retracted meanwhile */
    int rc = ctx->status == SRV_HL7_WRONG && !sent
                 ? 0
                 : add_delivery(o->conn, event_id, "hl7", 0, o->cfg->hl7_mllp, text, record);
    free(text);
    return rc;
}

/* The HL7 messages of an event, when --hl7-mllp is set: a result (new, re-run or corrected), a
 * raised alert, and an alert retracted. A draw moved to another patient is posted as wrong under
 * the former one, then sent under the right one. */
static int fan_out_hl7(srv_outbox *o, int64_t event_id, const char *type, sqlite3_stmt *ev)
{
    if (!*o->cfg->hl7_mllp)
        return 0;
    char control[24];
    snprintf(control, sizeof control, "RW%" PRId64, event_id);
    srv_hl7_ctx ctx = {control, o->cfg->fhir_identifier_base, SRV_HL7_FINAL, NULL};
    int64_t patient = sqlite3_column_int64(ev, 2), sample = sqlite3_column_int64(ev, 3);
    int64_t alert = sqlite3_column_int64(ev, 4);
    json_t *data = json_loads((const char *)sqlite3_column_text(ev, 6), 0, NULL);
    const char *change = json_string_value(json_object_get(data, "change"));
    const char *reason = json_string_value(json_object_get(data, "reason"));
    int rc = 0;
    if (!strcmp(type, "result.ready"))
        rc = hl7_queue(o, event_id, &ctx, sample, patient, 0, 0);
    else if (!strcmp(type, "alert.raised") ||
             (!strcmp(type, "alert.closed") && reason && !strcmp(reason, "retracted")))
        rc = hl7_queue(o, event_id, &ctx, 0, 0, alert, 0);
    else if (!strcmp(type, "result.corrected") && change && !strcmp(change, "moved")) {
        int64_t from = json_integer_value(json_object_get(data, "from_patient_id"));
        json_t *former = NULL;
        srv_status st = srv_row_by_id(o->conn, "patients", from, &former);
        if (st == SRV_OK) { /* (an erased former patient is told nothing) */
            ctx.external_id = json_string_value(json_object_get(former, "external_id"));
            rc = hl7_queue(o, event_id, &ctx, sample, from, 0, 1);
            ctx.external_id = NULL;
        } else if (st == SRV_INTERNAL)
            rc = -1;
        json_decref(former);
        if (!rc) { /* the right patient's message: a second control id */
            snprintf(control, sizeof control, "RW%" PRId64 "M", event_id);
            rc = hl7_queue(o, event_id, &ctx, sample, patient, 0, 0);
        }
    } else if (!strcmp(type, "result.corrected"))
        rc = hl7_queue(o, event_id, &ctx, sample, patient, 0, 0);
    json_decref(data);
    return rc;
}

/* 1 when some event waits to be fanned out (or the look-up failed: try), else 0. */
static int pending_events(sqlite3 *c)
{
    sqlite3_stmt *st =
        srv_db_prepare(c, "SELECT 1 FROM outbox_events WHERE fanned_out = 0 LIMIT 1");
    int rc = st ? sqlite3_step(st) : SQLITE_ERROR;
    sqlite3_finalize(st);
    return rc != SQLITE_DONE;
}

/* Turns the pending events into deliveries, in one transaction. 0, or -1 (rolled back). */
static int fan_out(srv_outbox *o)
{
    sqlite3 *c = o->conn;
    sqlite3_stmt *ev = NULL;
    int rc, bad = 0, n = 0;
    if (!pending_events(c)) /* a read first: no write lock twice a second for nothing */
        return 0;
    if (srv_db_begin(c))
        return -1;
    ev =
        srv_db_prepare(c, "SELECT id, type, patient_id, sample_id, alert_id, job_id, data, "
                          "created_at FROM outbox_events WHERE fanned_out = 0 ORDER BY id LIMIT ?");
    if (!ev)
        goto fail;
    sqlite3_bind_int(ev, 1, BATCH);
    while (!bad && (rc = sqlite3_step(ev)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(ev, 0);
        const char *type = (const char *)sqlite3_column_text(ev, 1);
        char evt[32];
        snprintf(evt, sizeof evt, "evt_%" PRId64, id);
        json_t *env =
            json_pack("{s:s, s:s, s:s, s:o}", "id", evt, "type", type, "created_at",
                      (const char *)sqlite3_column_text(ev, 7), "data", event_data_new(c, ev));
        char *body = env ? json_dumps(env, JSON_COMPACT | JSON_REAL_PRECISION(8)) : NULL;
        bad = !body || fan_out_webhooks(c, id, type, body) || fan_out_hl7(o, id, type, ev) ||
              srv_db_exec_id(c, "UPDATE outbox_events SET fanned_out = 1 WHERE id = ?", id);
        json_decref(env);
        free(body);
        n++;
    }
    if (bad || rc != SQLITE_DONE)
        goto fail;
    sqlite3_finalize(ev);
    if (srv_db_commit(c))
        goto fail_rollback;
    if (n)
        srv_log(SRV_LOG_DEBUG, "%d event(s) fanned out", n);
    return 0;
fail:
    sqlite3_finalize(ev);
fail_rollback:
    srv_db_rollback(c);
    srv_log(SRV_LOG_WARN, "cannot fan out the outbox events (will try again)");
    return -1;
}

/* ---------------------------------------------------------------- attempts */

typedef struct attempt {
    int64_t id;
    int64_t webhook_id; /* 0 for HL7 */
    int attempts;
    char channel[8];
    char type[24];
    char *destination, *body;
    unsigned char *box; /* the subscription's sealed secret (webhook), NULL when deleted */
    size_t boxlen;
    /* outcome */
    const char *outcome; /* delivered, retry, failed */
    char status[16];
    char error[256];
} attempt;

static void attempt_free(attempt *a)
{
    free(a->destination);
    free(a->body);
    free(a->box);
}

static void send_webhook(srv_outbox *o, attempt *a)
{
    char secret[SRV_WEBHOOK_SECRET_LEN + 1], sig[SRV_WEBHOOK_SIG_LEN + 1], header[128], id[24];
    if (!a->box) {
        a->outcome = "failed";
        snprintf(a->error, sizeof a->error, "the subscription was deleted");
        return;
    }
    if (srv_webhooks_open(a->box, a->boxlen, secret)) {
        a->outcome = "failed";
        snprintf(a->error, sizeof a->error,
                 "the secret does not open under this webhook key (another key file?)");
        return;
    }
    int64_t t = (int64_t)time(NULL);
    size_t len = strlen(a->body);
    srv_webhooks_sign(secret, t, a->body, len, sig);
    memset(secret, 0, sizeof secret);
    snprintf(header, sizeof header, "t=%" PRId64 ",v1=%s", t, sig);
    snprintf(id, sizeof id, "%" PRId64, a->id);
    srv_http_header h[] = {{"X-Relapsewatch-Signature", header},
                           {"X-Relapsewatch-Event", a->type},
                           {"X-Relapsewatch-Delivery", id}};
    int code = srv_http_post(a->destination, h, 3, a->body, len, o->cfg->delivery_timeout, a->error,
                             sizeof a->error);
    if (code > 0)
        snprintf(a->status, sizeof a->status, "%d", code);
    a->outcome = code >= 200 && code < 300 ? "delivered" : "retry";
    if (code > 0 && strcmp(a->outcome, "delivered"))
        snprintf(a->error, sizeof a->error, "the receiver answered HTTP %d", code);
}

/* AA/CA: delivered; AR/CR (rejected, e.g. the receiver is down): again later; AE/CE (the
 * receiver found an error in the message): failed, the same bytes would fail again. */
static void send_hl7(srv_outbox *o, attempt *a)
{
    char code[3] = "", text[200] = "";
    if (srv_mllp_send(a->destination, a->body, o->cfg->delivery_timeout, code, text, sizeof text,
                      a->error, sizeof a->error)) {
        a->outcome = "retry";
        return;
    }
    snprintf(a->status, sizeof a->status, "%s", code);
    if (!strcmp(code, "AA") || !strcmp(code, "CA"))
        a->outcome = "delivered";
    else {
        a->outcome = !strcmp(code, "AE") || !strcmp(code, "CE") ? "failed" : "retry";
        snprintf(a->error, sizeof a->error, "ACK %s%s%s", code[0] ? code : "without a code",
                 text[0] ? ": " : "", text);
    }
}

/* Records the attempt: the delivery's new state and next time, and its log row. */
static void record(srv_outbox *o, attempt *a, int duration_ms)
{
    sqlite3 *c = o->conn;
    int n = a->attempts + 1;
    if (!strcmp(a->outcome, "retry") && n >= o->cfg->outbox_max_attempts)
        a->outcome = "failed";
    double delay = o->cfg->outbox_retry_base * ldexp(1.0, n - 1 < 30 ? n - 1 : 30);
    int64_t next = (int64_t)time(NULL) + (int64_t)(delay < MAX_DELAY_S ? delay : MAX_DELAY_S);
    const char *state = !strcmp(a->outcome, "retry") ? "pending" : a->outcome;
    sqlite3_stmt *up = NULL, *log = NULL;
    if (srv_db_begin(c))
        goto fail;
    up = srv_db_prepare(c, "UPDATE deliveries SET attempts = ?, state = ?, next_attempt_at = ?, "
                           "last_status = ?, last_error = ?, delivered_at = CASE WHEN ?2 = "
                           "'delivered' THEN strftime('%Y-%m-%dT%H:%M:%SZ', 'now') END "
                           "WHERE id = ?");
    log = srv_db_prepare(c, "INSERT INTO delivery_attempts (delivery_id, outcome, status, error, "
                            "duration_ms) VALUES (?, ?, ?, ?, ?)");
    if (!up || !log)
        goto fail;
    sqlite3_bind_int(up, 1, n);
    sqlite3_bind_text(up, 2, state, -1, SQLITE_STATIC);
    sqlite3_bind_int64(up, 3, next);
    if (a->status[0])
        sqlite3_bind_text(up, 4, a->status, -1, SQLITE_STATIC);
    if (a->error[0])
        sqlite3_bind_text(up, 5, a->error, -1, SQLITE_STATIC);
    sqlite3_bind_int64(up, 6, a->id);
    sqlite3_bind_int64(log, 1, a->id);
    sqlite3_bind_text(log, 2, a->outcome, -1, SQLITE_STATIC);
    if (a->status[0])
        sqlite3_bind_text(log, 3, a->status, -1, SQLITE_STATIC);
    if (a->error[0])
        sqlite3_bind_text(log, 4, a->error, -1, SQLITE_STATIC);
    sqlite3_bind_int(log, 5, duration_ms);
    if (sqlite3_step(up) != SQLITE_DONE || sqlite3_step(log) != SQLITE_DONE || srv_db_commit(c))
        goto fail;
    sqlite3_finalize(up);
    sqlite3_finalize(log);
    srv_log(a->outcome[0] == 'd' ? SRV_LOG_INFO : SRV_LOG_WARN,
            "delivery %" PRId64 " (%s, attempt %d): %s%s%s", a->id, a->channel, n, a->outcome,
            a->error[0] ? ": " : "", a->error);
    return;
fail:
    sqlite3_finalize(up);
    sqlite3_finalize(log);
    srv_db_rollback(c);
    srv_log(SRV_LOG_WARN, "cannot record delivery %" PRId64 " (it will be attempted again)", a->id);
}

static char *col_dup(sqlite3_stmt *st, int i)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    return strdup(t ? t : "");
}

/* The due deliveries (HL7: only the oldest pending one, to keep the order), into a[]. */
static int load_due(sqlite3 *c, attempt *a, int max)
{
    sqlite3_stmt *st = srv_db_prepare(
        c, "SELECT d.id, d.attempts, d.channel, e.type, d.destination, d.body, "
           "CASE WHEN w.deleted_at IS NULL THEN w.secret_box END, coalesce(d.webhook_id, 0) "
           "FROM deliveries d JOIN outbox_events e ON e.id = d.event_id "
           "LEFT JOIN webhooks w ON w.id = d.webhook_id "
           "WHERE d.state = 'pending' AND d.next_attempt_at <= unixepoch() AND (d.channel = "
           "'webhook' OR d.id = (SELECT min(id) FROM deliveries WHERE channel = 'hl7' AND state "
           "= 'pending')) ORDER BY d.next_attempt_at, d.id LIMIT ?");
    int n = 0;
    if (!st)
        return 0;
    sqlite3_bind_int(st, 1, max);
    while (n < max && sqlite3_step(st) == SQLITE_ROW) {
        attempt *x = &a[n];
        memset(x, 0, sizeof *x);
        x->id = sqlite3_column_int64(st, 0);
        x->attempts = sqlite3_column_int(st, 1);
        snprintf(x->channel, sizeof x->channel, "%s", sqlite3_column_text(st, 2));
        snprintf(x->type, sizeof x->type, "%s", sqlite3_column_text(st, 3));
        x->destination = col_dup(st, 4);
        x->body = col_dup(st, 5);
        x->webhook_id = sqlite3_column_int64(st, 7);
        x->boxlen = (size_t)sqlite3_column_bytes(st, 6);
        if (sqlite3_column_type(st, 6) == SQLITE_BLOB && (x->box = malloc(x->boxlen)))
            memcpy(x->box, sqlite3_column_blob(st, 6), x->boxlen);
        if (!x->destination || !x->body) {
            attempt_free(x);
            break;
        }
        n++;
    }
    sqlite3_finalize(st);
    return n;
}

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int stopping(srv_outbox *o)
{
    pthread_mutex_lock(&o->lock);
    int s = o->stop;
    pthread_mutex_unlock(&o->lock);
    return s;
}

/* 1 when an earlier attempt of this round to the same subscription failed: the rest wait for
 * the next round, so a receiver that does not answer costs one timeout per round, not one per
 * delivery. */
static int receiver_down(const attempt *a, int i)
{
    for (int j = 0; j < i; j++)
        if (a[j].webhook_id && a[j].webhook_id == a[i].webhook_id && a[j].outcome &&
            strcmp(a[j].outcome, "delivered"))
            return 1;
    return 0;
}

static void deliver_due(srv_outbox *o)
{
    attempt a[20];
    int n = load_due(o->conn, a, 20);
    for (int i = 0; i < n; i++) {
        if (!stopping(o) && !receiver_down(a, i)) {
            double t0 = mono_ms();
            if (!strcmp(a[i].channel, "hl7"))
                send_hl7(o, &a[i]);
            else
                send_webhook(o, &a[i]);
            record(o, &a[i], (int)(mono_ms() - t0));
        }
        attempt_free(&a[i]);
    }
}

/* ---------------------------------------------------------------- retention */

/* Drops the message of every delivery settled more than --outbox-keep-days ago (schema 015),
 * PRUNE_BATCH per transaction so writers never wait long; at start-up, then hourly. */
static void prune(srv_outbox *o)
{
    double now = mono_ms() / 1e3;
    if (!o->cfg->outbox_keep_days || (o->pruned_at && now - o->pruned_at < PRUNE_EVERY))
        return;
    o->pruned_at = now;
    long total = 0;
    int n = -1;
    do {
        sqlite3_stmt *st = srv_db_prepare(
            o->conn, "UPDATE deliveries SET body = '{\"pruned\":true}' WHERE id IN (SELECT id "
                     "FROM deliveries WHERE state <> 'pending' AND body <> '{\"pruned\":true}' "
                     "AND created_at < strftime('%Y-%m-%dT%H:%M:%SZ', 'now', -?1 || ' days') "
                     "LIMIT ?2)");
        if (!st)
            break;
        sqlite3_bind_int(st, 1, o->cfg->outbox_keep_days);
        sqlite3_bind_int(st, 2, PRUNE_BATCH);
        n = sqlite3_step(st) == SQLITE_DONE ? sqlite3_changes(o->conn) : -1;
        sqlite3_finalize(st);
        total += n > 0 ? n : 0;
    } while (n == PRUNE_BATCH && !stopping(o));
    if (n < 0)
        srv_log(SRV_LOG_WARN, "cannot prune old delivery messages (will try again)");
    else if (total)
        srv_log(SRV_LOG_INFO, "%ld delivery message(s) older than %d days dropped", total,
                o->cfg->outbox_keep_days);
}

/* ---------------------------------------------------------------- the thread */

static void *run(void *arg)
{
    srv_outbox *o = arg;
    while (!stopping(o)) {
        prune(o);
        fan_out(o);
        deliver_due(o);
        struct timespec until;
        srv_deadline_in(&until, POLL_MS);
        pthread_mutex_lock(&o->lock);
        if (!o->stop)
            pthread_cond_timedwait(&o->wake, &o->lock, &until);
        pthread_mutex_unlock(&o->lock);
    }
    return NULL;
}

srv_outbox *srv_outbox_start(const srv_config *cfg, char *err, size_t errlen)
{
    char keypath[4200];
    if (*cfg->webhook_key_file)
        snprintf(keypath, sizeof keypath, "%s", cfg->webhook_key_file);
    else
        snprintf(keypath, sizeof keypath, "%s/webhook.key", cfg->data_dir);
    if (srv_webhooks_key_init(keypath, err, errlen))
        return NULL;
    if (srv_net_tls_init(cfg->webhook_ca_file, err, errlen)) {
        if (*cfg->webhook_ca_file) /* a file named and unusable: a configuration error */
            return NULL;
        srv_log(SRV_LOG_WARN, "%s: https webhooks and mllps will fail", err); /* no trust store */
    }
    srv_outbox *o = calloc(1, sizeof *o);
    if (!o) {
        snprintf(err, errlen, "out of memory");
        srv_net_tls_free();
        return NULL;
    }
    o->cfg = cfg;
    if (sqlite3_open_v2(cfg->db_path, &o->conn, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX,
                        NULL) != SQLITE_OK ||
        sqlite3_busy_timeout(o->conn, BUSY_TIMEOUT) ||
        sqlite3_exec(o->conn, "PRAGMA foreign_keys = ON", NULL, NULL, NULL)) {
        snprintf(err, errlen, "the delivery thread cannot open the database: %s",
                 o->conn ? sqlite3_errmsg(o->conn) : "out of memory");
        sqlite3_close(o->conn);
        free(o);
        srv_net_tls_free();
        return NULL;
    }
    pthread_mutex_init(&o->lock, NULL);
    pthread_cond_init(&o->wake, NULL);
    if (pthread_create(&o->thread, NULL, run, o)) {
        snprintf(err, errlen, "cannot start the delivery thread");
        pthread_mutex_destroy(&o->lock);
        pthread_cond_destroy(&o->wake);
        sqlite3_close(o->conn);
        free(o);
        srv_net_tls_free();
        return NULL;
    }
    return o;
}

void srv_outbox_stop(srv_outbox *o)
{
    if (!o)
        return;
    pthread_mutex_lock(&o->lock);
    o->stop = 1;
    pthread_cond_signal(&o->wake);
    pthread_mutex_unlock(&o->lock);
    pthread_join(o->thread, NULL);
    pthread_mutex_destroy(&o->lock);
    pthread_cond_destroy(&o->wake);
    sqlite3_close(o->conn);
    free(o);
    srv_net_tls_free();
}
