/* REST resource /api/v1/webhooks (admin): subscriptions to the daemon's events, their signing
 * secret (shown once, at creation; server/webhooks.h) and their delivery log. Deliveries are
 * made by the outbox thread (server/outbox.h); docs/api-interop.md shows the envelope and how
 * to check a signature. */
#include <inttypes.h>
#include <limits.h>
#include <string.h>

#include "server/api_clinical.h"
#include "server/netclient.h"
#include "server/webhooks.h"

#define DESCRIPTION_MAX 200
#define LOG_DEFAULT     50
#define LOG_MAX         500

static const char *const event_types[] = {"alert.raised",
                                          "alert.closed",
                                          "alert.acknowledged",
                                          "result.ready",
                                          "result.corrected",
                                          "job.failed",
                                          NULL};

#define WEBHOOK_SELECT                                                                             \
    "SELECT w.id, w.url, json(w.events) AS events, w.description, w.created_by, w.created_at, "    \
    "w.deleted_at, (SELECT count(*) FROM deliveries d WHERE d.webhook_id = w.id AND d.state = "    \
    "'pending') AS pending, (SELECT count(*) FROM deliveries d WHERE d.webhook_id = w.id AND "     \
    "d.state = 'delivered') AS delivered, (SELECT count(*) FROM deliveries d WHERE d.webhook_id "  \
    "= w.id AND d.state = 'failed') AS failed FROM webhooks w"

/* The subscription as the API shows it (new; events as an array), or NULL. */
static json_t *webhook_new(sqlite3 *db, int64_t id, srv_status *st)
{
    json_t *args = json_pack("[I]", (json_int_t)id);
    json_t *rows = srv_rows_query_new(db, WEBHOOK_SELECT " WHERE w.id = ?", args), *row;
    json_decref(args);
    *st = !rows ? SRV_INTERNAL : json_array_size(rows) ? SRV_OK : SRV_NOT_FOUND;
    row = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    if (row) { /* json(events) comes back as text: make it an array again */
        json_t *ev = json_loads(json_string_value(json_object_get(row, "events")), 0, NULL);
        json_object_set_new(row, "events", ev ? ev : json_array());
    }
    return row;
}

/* The events array of a body: a non-empty array of distinct known types. -1 after answering. */
static int check_events(srv_request *req, json_t *events)
{
    size_t i, j;
    json_t *e, *f;
    if (!events || json_is_null(events))
        return srv_reply_error(req, 422, "missing_field", "events", "events: is required"), -1;
    if (!json_is_array(events) || !json_array_size(events))
        return srv_reply_error(req, 422, "invalid_type", "events",
                               "events: must be a non-empty array of event types"),
               -1;
    json_array_foreach(events, i, e)
    {
        int known = 0;
        for (const char *const *t = event_types; *t && json_is_string(e); t++)
            known |= !strcmp(*t, json_string_value(e));
        json_array_foreach(events, j, f) if (j < i && json_equal(e, f)) known = 0;
        if (!known)
            return srv_reply_error(
                       req, 422, "invalid_value", "events",
                       "events: each must be one of alert.raised, alert.closed, "
                       "alert.acknowledged, result.ready, result.corrected, job.failed, once"),
                   -1;
    }
    return 0;
}

/* POST /api/v1/webhooks {"url", "events", "description"?}: 201 with the secret, shown once. */
static enum MHD_Result webhook_create(srv_request *req)
{
    static const char *const fields[] = {"url", "events", "description", NULL};
    const char *url, *description;
    char why[160], secret[SRV_WEBHOOK_SECRET_LEN + 1];
    srv_url parsed;
    json_t *events = json_object_get(req->json, "events"), *row = NULL, *details = NULL;
    sqlite3_stmt *st = NULL;
    unsigned char *box = NULL;
    char *events_text = NULL;
    size_t boxlen = 0;
    srv_status found;

    if (srv_check_fields(req, req->json, fields) ||
        srv_get_string(req, req->json, "url", 1, 2000, &url) ||
        srv_get_string(req, req->json, "description", 0, DESCRIPTION_MAX, &description) ||
        check_events(req, events))
        return srv_clin_done(req);
    if (srv_url_parse(url, &parsed, why, sizeof why))
        return srv_reply_error(req, 422, "invalid_value", "url", "url: %s", why);
    srv_webhooks_new_secret(secret);
    if (!(box = srv_webhooks_seal(secret, &boxlen))) {
        srv_reply_internal(req, "cannot seal a webhook secret (no key loaded?)");
        goto out; /* which wipes the secret */
    }
    if (!(events_text = json_dumps(events, JSON_COMPACT)) || srv_clin_begin(req))
        goto out;
    st = srv_db_prepare(req->db, "INSERT INTO webhooks (url, events, description, secret_box, "
                                 "after_event_id, created_by) VALUES (?, ?, ?, ?, (SELECT "
                                 "coalesce(max(id), 0) FROM outbox_events), ?) RETURNING id");
    if (!st) {
        srv_clin_abort(req, "cannot create a webhook");
        goto out;
    }
    sqlite3_bind_text(st, 1, url, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, events_text, -1, SQLITE_STATIC);
    if (description)
        sqlite3_bind_text(st, 3, description, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, box, (int)boxlen, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, req->caller.name, -1, SQLITE_STATIC);
    int64_t id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st); /* a RETURNING statement left open would block the COMMIT */
    st = NULL;
    if (!id || !(row = webhook_new(req->db, id, &found))) {
        srv_clin_abort(req, "cannot create a webhook");
        goto out;
    }
    details = json_pack("{s:s, s:O}", "url", url, "events", events); /* never the secret */
    if (!details || srv_audit(req, "create", "webhook", id, details)) {
        srv_clin_abort(req, "cannot audit a webhook");
        goto out;
    }
    json_object_set_new(row, "secret", json_string(secret));
    srv_clin_commit_reply(req, 201, json_incref(row), "created webhook %" PRId64, id);
out:
    if (!req->answered)
        srv_reply_internal(req, "cannot create a webhook");
    memset(secret, 0, sizeof secret);
    sqlite3_finalize(st);
    free(events_text);
    free(box);
    json_decref(row);
    json_decref(details);
    return srv_clin_done(req);
}

/* GET /api/v1/webhooks?limit=&cursor=: every subscription (deleted ones too), without secrets,
 * in id order, a page at a time. */
static enum MHD_Result webhook_list(srv_request *req)
{
    srv_cursor after;
    long limit;
    if (srv_query_int(req, "limit", 1, LOG_MAX, LOG_DEFAULT, &limit) ||
        srv_query_cursor(req, &after))
        return srv_clin_done(req);
    sqlite3_stmt *ids = srv_db_prepare(req->db, "SELECT id FROM webhooks WHERE id > ? ORDER BY id "
                                                "LIMIT ?");
    json_t *list = json_array();
    int rc = SQLITE_ERROR;
    if (ids) {
        sqlite3_bind_int64(ids, 1, after.present ? after.id : 0);
        sqlite3_bind_int64(ids, 2, limit + 1);
    }
    while (ids && list && (rc = sqlite3_step(ids)) == SQLITE_ROW) {
        srv_status st;
        json_t *w = webhook_new(req->db, sqlite3_column_int64(ids, 0), &st);
        if (!w || json_array_append_new(list, w)) {
            json_decref(list);
            list = NULL;
        }
    }
    if (list && rc != SQLITE_DONE) {
        json_decref(list);
        list = NULL;
    }
    sqlite3_finalize(ids);
    return srv_reply_page(req, "webhooks", list, limit, "id", NULL);
}

static enum MHD_Result webhook_get(srv_request *req)
{
    int64_t id;
    srv_status st;
    if (srv_query_check(req, (const char *const[]){NULL}) || srv_param_id(req, 0, &id))
        return srv_clin_done(req);
    json_t *w = webhook_new(req->db, id, &st);
    return srv_reply_lookup(req, st, w, "webhook");
}

/* DELETE /api/v1/webhooks/{id}: no new deliveries; the pending ones fail now (same
 * transaction); the row and its log stay. */
static enum MHD_Result webhook_delete(srv_request *req)
{
    int64_t id;
    srv_status st;
    json_t *w = NULL;
    if (srv_param_id(req, 0, &id) || srv_clin_begin(req))
        return srv_clin_done(req);
    if (!(w = webhook_new(req->db, id, &st))) {
        if (st == SRV_NOT_FOUND)
            srv_clin_reject(req, 404, "not_found", NULL, "no such webhook");
        else
            srv_clin_abort(req, "cannot read a webhook");
    } else if (!json_is_null(json_object_get(w, "deleted_at")))
        srv_clin_reject(req, 409, "conflict", NULL, "this webhook is already deleted");
    else if (srv_db_exec_id(req->db,
                            "UPDATE webhooks SET deleted_at = strftime('%Y-%m-%dT%H:%M:%SZ', "
                            "'now') WHERE id = ?",
                            id) ||
             srv_db_exec_id(req->db,
                            "UPDATE deliveries SET state = 'failed', last_error = 'the "
                            "subscription was deleted' WHERE webhook_id = ? AND state = 'pending'",
                            id) ||
             srv_audit(req, "delete", "webhook", id, w))
        srv_clin_abort(req, "cannot delete a webhook");
    else {
        json_decref(w);
        w = webhook_new(req->db, id, &st);
        if (w)
            srv_clin_commit_reply(req, 200, json_incref(w), "deleted webhook %" PRId64, id);
        else
            srv_clin_abort(req, "cannot read a webhook");
    }
    json_decref(w);
    return srv_clin_done(req);
}

/* GET /api/v1/webhooks/{id}/deliveries?limit=&cursor=: newest first, each with its attempts. */
static const char *const log_query[] = {"limit", "cursor", NULL};

static enum MHD_Result webhook_deliveries(srv_request *req)
{
    srv_cursor after;
    int64_t id;
    long limit;
    srv_status st;
    if (srv_param_id(req, 0, &id) || srv_query_int(req, "limit", 1, LOG_MAX, LOG_DEFAULT, &limit) ||
        srv_query_cursor(req, &after))
        return srv_clin_done(req);
    json_t *w = webhook_new(req->db, id, &st);
    if (st != SRV_OK)
        return srv_reply_lookup(req, st, w, "webhook");
    json_decref(w);
    json_t *args =
        json_pack("[I, I, I]", (json_int_t)id, (json_int_t)(after.present ? after.id : INT64_MAX),
                  (json_int_t)limit + 1);
    json_t *rows = srv_rows_query_new(
        req->db,
        "SELECT d.id, d.event_id, e.type AS event_type, d.state, d.attempts, d.last_status, "
        "d.last_error, d.created_at, d.delivered_at, CASE WHEN d.state = 'pending' THEN "
        "strftime('%Y-%m-%dT%H:%M:%SZ', d.next_attempt_at, 'unixepoch') END AS next_attempt_at, "
        "json(d.body) AS body, (SELECT json_group_array(json_object('at', a.at, 'outcome', "
        "a.outcome, 'status', a.status, 'error', a.error, 'duration_ms', a.duration_ms)) FROM "
        "(SELECT * FROM delivery_attempts WHERE delivery_id = d.id ORDER BY id) a) AS log "
        "FROM deliveries d JOIN outbox_events e ON e.id = d.event_id "
        "WHERE d.webhook_id = ? AND d.id < ? ORDER BY d.id DESC LIMIT ?",
        args);
    json_decref(args);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    { /* JSON kept as text by SQLite: parse it back */
        static const char *const keys[] = {"body", "log"};
        for (int k = 0; k < 2; k++) {
            json_t *v = json_loads(json_string_value(json_object_get(row, keys[k])), 0, NULL);
            json_object_set_new(row, k ? "attempts_log" : "body", v ? v : json_null());
        }
        json_object_del(row, "log");
    }
    return srv_reply_page(req, "deliveries", rows, limit, "id", NULL);
}

const srv_route srv_webhooks_routes[] = {
    {.method = "POST",
     .path = "/api/v1/webhooks",
     .handler = webhook_create,
     .roles = SRV_ROLE_ADMIN,
     .body = SRV_BODY_JSON},
    {.method = "GET",
     .path = "/api/v1/webhooks",
     .handler = webhook_list,
     .roles = SRV_ROLE_ADMIN,
     .query = log_query},
    {.method = "GET",
     .path = "/api/v1/webhooks/{id}",
     .handler = webhook_get,
     .roles = SRV_ROLE_ADMIN},
    {.method = "DELETE",
     .path = "/api/v1/webhooks/{id}",
     .handler = webhook_delete,
     .roles = SRV_ROLE_ADMIN},
    {.method = "GET",
     .path = "/api/v1/webhooks/{id}/deliveries",
     .handler = webhook_deliveries,
     .roles = SRV_ROLE_ADMIN,
     .query = log_query},
    {0},
};
