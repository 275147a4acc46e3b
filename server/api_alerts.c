/* REST resource /api/v1/alerts: the alerts the longitudinal engine raised (a worklist across
 * patients) and their acknowledgement by a clinician, which is the only part of an alert that
 * is not derived data (schema/004_monitoring.sql). */

#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/api_clinical.h"
#include "server/monitor.h"

#define LIST_DEFAULT 200
#define LIST_MAX     1000
#define COMMENT_MAX  2000

static json_t *alert_pack(sqlite3_stmt *st)
{
    return srv_monitor_alert_json_new(st, 1);
}

/* The alert `id` as the API shows it (new) in *alert: SRV_OK, SRV_NOT_FOUND or SRV_INTERNAL. */
static srv_status alert_find(sqlite3 *db, int64_t id, json_t **alert)
{
    return srv_row_packed(db,
                          "SELECT " SRV_MONITOR_ALERT_COLUMNS
                          " FROM alerts a JOIN patients p ON p.id = a.patient_id WHERE a.id = ?",
                          id, alert_pack, alert);
}

/* The page's answer written as text into t: {"alerts": [...], "next_cursor": ...} from st
 * (selecting SRV_MONITOR_ALERT_COLUMNS, newest first, limit + 1 rows). 0, or -1 when a step
 * fails. */
static int alert_page_text(sqlite3_stmt *st, long limit, srv_text *t)
{
    char fired_on[64] = "";
    int64_t last = 0;
    long n = 0;
    int rc;
    srv_text_lit(t, "{\"alerts\":[");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < limit) {
        if (n++)
            srv_text_lit(t, ",");
        srv_monitor_alert_text(t, st, 1);
        last = sqlite3_column_int64(st, 0);
        snprintf(fired_on, sizeof fired_on, "%s", (const char *)sqlite3_column_text(st, 5));
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return -1;
    srv_text_lit(t, "],\"next_cursor\":");
    if (rc == SQLITE_ROW) { /* one row more than the page: another page follows */
        char cursor[SRV_CURSOR_TEXT];
        srv_cursor_text(fired_on, last, cursor);
        srv_text_string(t, cursor, strlen(cursor));
    } else {
        srv_text_lit(t, "null");
    }
    srv_text_lit(t, "}");
    return 0;
}

/* GET /api/v1/alerts?open=1&kind=&patient_id=&limit=: live (not retracted) alerts, newest
 * first; open=1 keeps the unacknowledged ones, open=0 the acknowledged ones. The SQL names only
 * the filters given, so that SQLite walks the index that serves them (open=1: the partial index
 * of open alerts; patient_id: the patient's alerts by date; else every alert by date) and stops
 * after the page: a page's cost does not grow with the store. */
static enum MHD_Result alert_list(srv_request *req)
{
    static const char *const allowed[] = {"open",   "kind",          "patient_id", "limit",
                                          "cursor", "updated_since", NULL};
    static const char *const kinds[] = {"early_relapse", "emerging_chemoresistance", "responding",
                                        NULL};
    long open, pid, limit;
    int kind;
    sqlite3_stmt *st;
    srv_cursor after; /* keyset on (fired_on, id), newest first */
    char since_buf[32], sql[1024];
    const char *since;
    srv_text page = {0};

    if (srv_query_check(req, allowed) || srv_query_int(req, "open", 0, 1, -1, &open) ||
        srv_query_int(req, "patient_id", 1, LONG_MAX, 0, &pid) ||
        srv_query_int(req, "limit", 1, LIST_MAX, LIST_DEFAULT, &limit) ||
        srv_query_enum(req, "kind", kinds, &kind) || srv_query_cursor(req, &after) ||
        srv_query_updated_since(req, since_buf, &since))
        return srv_clin_done(req);
    snprintf(sql, sizeof sql,
             "SELECT " SRV_MONITOR_ALERT_COLUMNS " FROM alerts a JOIN patients p ON p.id = "
             "a.patient_id WHERE a.retracted_at IS NULL%s%s%s%s%s "
             "ORDER BY a.fired_on DESC, a.id DESC LIMIT ?4",
             open < 0   ? ""
             : open > 0 ? " AND a.acknowledged_at IS NULL"
                        : " AND a.acknowledged_at IS NOT NULL",
             pid ? " AND a.patient_id = ?2" : "", kind >= 0 ? " AND a.kind = ?3" : "",
             after.present ? " AND (a.fired_on, a.id) < (?6, ?5)" : "",
             since ? " AND a.updated_at >= ?7" : "");
    if (!(st = srv_db_prepare(req->db, sql)))
        return srv_reply_internal(req, "cannot list alerts");
    sqlite3_bind_int64(st, 2, pid);
    if (kind >= 0)
        sqlite3_bind_text(st, 3, kinds[kind], -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, limit + 1);
    sqlite3_bind_int64(st, 5, after.id);
    sqlite3_bind_text(st, 6, after.key, -1, SQLITE_STATIC);
    if (since)
        sqlite3_bind_text(st, 7, since, -1, SQLITE_STATIC);
    int bad = alert_page_text(st, limit, &page) || page.failed;
    sqlite3_finalize(st);
    if (bad) {
        free(page.s);
        return srv_reply_internal(req, "cannot list alerts");
    }
    if (srv_audit_read(req, pid ? "patient" : "alerts", pid)) {
        free(page.s);
        return MHD_YES;
    }
    return srv_reply_json_text(req, 200, page.s, page.len);
}

/* GET /api/v1/alerts/{id} */
static enum MHD_Result alert_get(srv_request *req)
{
    int64_t id;
    json_t *o;
    if (srv_param_id(req, 0, &id))
        return srv_clin_done(req);
    srv_status st = alert_find(req->db, id, &o);
    if (st == SRV_OK)
        return srv_audit_read_reply(req, "alert", id, o);
    if (st != SRV_NOT_FOUND)
        return srv_reply_internal(req, "cannot read an alert");
    return srv_reply_error(req, 404, "not_found", NULL, "no alert %" PRId64, id);
}

/* POST /api/v1/alerts/{id}/acknowledge {"comment": "..."}: who read it, when, what was decided;
 * one transaction with its audit row. A retracted alert may still be acknowledged (the page
 * that showed it may be older than the retraction). */
static enum MHD_Result alert_acknowledge(srv_request *req)
{
    static const char *const fields[] = {"comment", NULL};
    const char *comment = NULL;
    json_t *have = NULL, *row = NULL, *details = NULL;
    sqlite3_stmt *st = NULL;
    int64_t id;

    if (srv_param_id(req, 0, &id) || srv_check_fields(req, req->json, fields))
        return srv_clin_done(req);
    json_t *c = json_object_get(req->json, "comment");
    if (c && !json_is_null(c) && !json_is_string(c))
        return srv_reply_error(req, 422, "invalid_type", "comment", "comment: must be a string");
    comment = json_string_value(c);
    const char *p = comment;
    while (p && *p && isspace((unsigned char)*p))
        p++;
    if (!p || !*p)
        return srv_reply_error(req, 422, "missing_field", "comment",
                               "comment: is required (what was decided)");
    if (srv_get_string(req, req->json, "comment", 1, COMMENT_MAX, &comment))
        return srv_clin_done(req);

    if (srv_clin_begin(req))
        return srv_clin_done(req);
    srv_status found = alert_find(req->db, id, &have);
    if (found != SRV_OK) {
        if (found == SRV_NOT_FOUND)
            srv_clin_reject(req, 404, "not_found", NULL, "no such alert");
        else
            srv_clin_abort(req, "cannot read an alert");
        goto out;
    }
    if (!json_is_null(json_object_get(have, "acknowledged_at"))) {
        srv_clin_reject(req, 409, "conflict", NULL, "this alert is already acknowledged");
        goto out;
    }
    st = srv_db_prepare(req->db, "UPDATE alerts SET acknowledged_at = "
                                 "strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), acknowledged_by = ?, "
                                 "ack_comment = ? WHERE id = ? AND acknowledged_at IS NULL");
    if (!st) {
        srv_clin_abort(req, "cannot acknowledge an alert");
        goto out;
    }
    sqlite3_bind_text(st, 1, req->caller.name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, comment, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, id);
    if (sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(req->db) != 1 ||
        alert_find(req->db, id, &row) != SRV_OK) {
        srv_clin_abort(req, "cannot acknowledge an alert");
        goto out;
    }
    details = json_pack("{s:O, s:O, s:s}", "kind", json_object_get(row, "kind"), "patient_id",
                        json_object_get(row, "patient_id"), "comment", comment);
    if (!details || srv_audit(req, "acknowledge", "alert", id, details)) {
        srv_clin_abort(req, "cannot audit an acknowledgement");
        goto out;
    }
    srv_clin_commit_reply(req, 200, json_incref(row), "acknowledged alert %" PRId64, id);
out:
    sqlite3_finalize(st);
    json_decref(have);
    json_decref(row);
    json_decref(details);
    return srv_clin_done(req);
}

const srv_route srv_alerts_routes[] = {
    {.method = "GET",
     .path = "/api/v1/alerts",
     .handler = alert_list,
     .query = (const char *const[]){"open", "kind", "patient_id", "limit", "cursor",
                                    "updated_since", NULL},
     .roles = SRV_ROLE_CLINICIAN | SRV_ROLE_VIEWER | SRV_ROLE_ADMIN},
    {.method = "GET",
     .path = "/api/v1/alerts/{id}",
     .handler = alert_get,
     .roles = SRV_ROLE_CLINICIAN | SRV_ROLE_VIEWER | SRV_ROLE_ADMIN},
    {.method = "POST",
     .path = "/api/v1/alerts/{id}/acknowledge",
     .handler = alert_acknowledge,
     .roles = SRV_ROLE_CLINICIAN,
     .body = SRV_BODY_JSON},
    {0},
};
