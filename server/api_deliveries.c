/* Outgoing deliveries of every channel (admin; docs/api-interop.md): GET /api/v1/deliveries
 * lists webhook and HL7 deliveries newest first, by channel, state or subscription, without
 * their messages (which name patients); POST /api/v1/deliveries/{id}/retry queues a failed one
 * again, and POST /api/v1/deliveries/retry every failed one of a channel or subscription, for a
 * receiver whose outage outlasted --outbox-max-attempts. An HL7 message goes to the receiver
 * configured now (--hl7-mllp may have been corrected since). A delivery whose message is gone
 * (pruned, erased), that a later HL7 message about the same record superseded, or whose
 * subscription was deleted cannot be retried. Each retry is audited. */
#include <inttypes.h>
#include <string.h>

#include "server/api_clinical.h"
#include "server/audit.h"
#include "server/db.h"
#include "server/options.h"
#include "server/query.h"
#include "server/rows.h"

#define LIST_DEFAULT 50
#define LIST_MAX     500

static const char *const channels[] = {"webhook", "hl7", NULL};
static const char *const states[] = {"pending", "delivered", "failed", NULL};

/* A delivery's message is gone: pruned (--outbox-keep-days) or erased with its patient. */
#define GONE "d.body IN ('{\"pruned\":true}', '{\"erased\":true}')"
/* A later HL7 message about the same record (schema 015) replaced it at the receiver: sending
 * it again would put older data over newer. */
#define SUPERSEDED "EXISTS (SELECT 1 FROM deliveries l WHERE l.record = d.record AND l.id > d.id)"

/* What a listed delivery shows: everything but its message. */
#define DELIVERY_COLUMNS                                                                           \
    "d.id, d.channel, d.webhook_id, d.event_id, e.type AS event_type, d.destination, d.state, "    \
    "d.attempts, d.last_status, d.last_error, d.created_at, d.delivered_at, CASE WHEN d.state = "  \
    "'pending' THEN strftime('%Y-%m-%dT%H:%M:%SZ', d.next_attempt_at, 'unixepoch') END AS "        \
    "next_attempt_at, " GONE " AS message_gone, " SUPERSEDED " AS superseded"

/* Why a failed delivery cannot be sent again (a condition on d and w, the subscription). */
#define RETRY_BLOCKED "(" GONE " OR " SUPERSEDED " OR w.deleted_at IS NOT NULL)"

/* The 0/1 columns of DELIVERY_COLUMNS, answered as JSON booleans. */
static const char *const delivery_booleans[] = {"message_gone", "superseded", NULL};

static enum MHD_Result delivery_list(srv_request *req)
{
    int channel, state;
    long limit, webhook;
    srv_cursor after;
    if (srv_query_enum(req, "channel", channels, &channel) ||
        srv_query_enum(req, "state", states, &state) ||
        srv_query_int(req, "webhook_id", 1, INT32_MAX, 0, &webhook) ||
        srv_query_int(req, "limit", 1, LIST_MAX, LIST_DEFAULT, &limit) ||
        srv_query_cursor(req, &after))
        return srv_validate_done(req);
    json_t *args =
        json_pack("[s?, s?, I, I, I]", channel >= 0 ? channels[channel] : NULL,
                  state >= 0 ? states[state] : NULL, (json_int_t)webhook,
                  (json_int_t)(after.present ? after.id : INT64_MAX), (json_int_t)limit + 1);
    json_t *rows = srv_rows_query_new(
        req->db,
        "SELECT " DELIVERY_COLUMNS " FROM deliveries d JOIN outbox_events e ON e.id = d.event_id "
        "WHERE (?1 IS NULL OR d.channel = ?1) AND (?2 IS NULL OR d.state = ?2) AND "
        "(?3 = 0 OR d.webhook_id = ?3) AND d.id < ?4 ORDER BY d.id DESC LIMIT ?5",
        args);
    json_decref(args);
    srv_rows_booleans(rows, delivery_booleans);
    return srv_reply_page(req, "deliveries", rows, limit, "id", NULL);
}

/* Inside the open transaction: delivery id as listed, or NULL after answering 404 or 500. */
static json_t *delivery_load_new(srv_request *req, int64_t id)
{
    json_t *args = json_pack("[I]", (json_int_t)id);
    json_t *rows = srv_rows_query_new(
        req->db,
        "SELECT " DELIVERY_COLUMNS ", w.deleted_at AS webhook_deleted_at FROM deliveries d JOIN "
        "outbox_events e ON e.id = d.event_id LEFT JOIN webhooks w ON w.id = d.webhook_id "
        "WHERE d.id = ?",
        args);
    json_decref(args);
    srv_rows_booleans(rows, delivery_booleans);
    json_t *row = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    if (!rows)
        srv_clin_abort(req, "cannot read a delivery");
    else if (!row)
        srv_clin_reject(req, 404, "not_found", NULL, "no such delivery");
    return rows ? row : NULL;
}

/* Queues again from now, with a fresh series of attempts (their log stays), the failed
 * deliveries that can be sent again among: delivery id (0: any), of channel (NULL: any), of
 * subscription webhook (0: any); HL7 ones to the receiver configured now. The number, or -1. */
static int requeue(srv_request *req, int64_t id, const char *channel, int64_t webhook)
{
    sqlite3_stmt *st = srv_db_prepare(
        req->db,
        "UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = unixepoch(), "
        "destination = CASE channel WHEN 'hl7' THEN ?4 ELSE destination END WHERE id IN "
        "(SELECT d.id FROM deliveries d LEFT JOIN webhooks w ON w.id = d.webhook_id WHERE "
        "d.state = 'failed' AND NOT " RETRY_BLOCKED " AND (?1 = 0 OR d.id = ?1) AND (?2 IS NULL "
        "OR d.channel = ?2) AND (?3 = 0 OR d.webhook_id = ?3))");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    if (channel)
        sqlite3_bind_text(st, 2, channel, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, webhook);
    sqlite3_bind_text(st, 4, req->cfg->hl7_mllp, -1, SQLITE_STATIC);
    int n = sqlite3_step(st) == SQLITE_DONE ? sqlite3_changes(req->db) : -1;
    sqlite3_finalize(st);
    return n;
}

static enum MHD_Result delivery_retry(srv_request *req)
{
    int64_t id;
    json_t *d = NULL;
    if (srv_param_id(req, 0, &id) || srv_clin_begin(req) || !(d = delivery_load_new(req, id)))
        return srv_clin_done(req);
    const char *state = json_string_value(json_object_get(d, "state"));
    int hl7 = !strcmp(json_string_value(json_object_get(d, "channel")), "hl7");
    if (strcmp(state, "failed"))
        srv_clin_reject(req, 409, "conflict", "state",
                        "only a failed delivery can be retried (this one is pending or delivered)");
    else if (json_is_true(json_object_get(d, "message_gone")))
        srv_clin_reject(req, 409, "message_gone", NULL,
                        "its message is no longer kept (--outbox-keep-days, or an erasure)");
    else if (json_is_true(json_object_get(d, "superseded")))
        srv_clin_reject(req, 409, "superseded", NULL,
                        "a later message about the same result or alert replaced it at the "
                        "receiver: retry that one if it failed");
    else if (!json_is_null(json_object_get(d, "webhook_deleted_at")))
        srv_clin_reject(req, 409, "conflict", "webhook_id", "its subscription was deleted");
    else if (hl7 && !*req->cfg->hl7_mllp)
        srv_clin_reject(req, 409, "conflict", "channel",
                        "no HL7 receiver is configured (--hl7-mllp)");
    else {
        json_t *details =
            json_pack("{s:s, s:O}", "channel", json_string_value(json_object_get(d, "channel")),
                      "last_error", json_object_get(d, "last_error"));
        json_t *now = NULL;
        if (!details || requeue(req, id, NULL, 0) != 1 ||
            srv_audit(req, "retry", "delivery", id, details) ||
            !(now = delivery_load_new(req, id))) {
            if (!req->answered)
                srv_clin_abort(req, "cannot retry a delivery");
        } else {
            json_object_del(now, "webhook_deleted_at");
            srv_clin_commit_reply(req, 200, now, "delivery %" PRId64 " queued again", id);
        }
        json_decref(details);
    }
    json_decref(d);
    return srv_clin_done(req);
}

/* POST /api/v1/deliveries/retry {"channel": "hl7"} or {"webhook_id": N}: every failed delivery
 * of it that can be sent again. */
static enum MHD_Result delivery_retry_failed(srv_request *req)
{
    static const char *const allowed[] = {"channel", "webhook_id", NULL};
    const char *channel = NULL;
    int64_t webhook = 0;
    int has_webhook = 0;
    if (srv_check_fields(req, req->json, allowed) ||
        srv_get_enum(req, req->json, "channel", 0, channels, &channel) ||
        srv_get_int(req, req->json, "webhook_id", 0, 1, INT32_MAX, &webhook, &has_webhook))
        return srv_clin_done(req);
    if (!channel == !has_webhook) {
        srv_reply_error(req, 422, "invalid_value", channel ? "webhook_id" : "channel",
                        "give exactly one of channel and webhook_id");
        return srv_clin_done(req);
    }
    if (channel && !strcmp(channel, "hl7") && !*req->cfg->hl7_mllp) {
        srv_reply_error(req, 409, "conflict", "channel",
                        "no HL7 receiver is configured (--hl7-mllp)");
        return srv_clin_done(req);
    }
    if (srv_clin_begin(req))
        return srv_clin_done(req);
    int n = requeue(req, 0, channel, webhook);
    json_t *details =
        channel ? json_pack("{s:s, s:i}", "channel", channel, "requeued", n)
                : json_pack("{s:I, s:i}", "webhook_id", (json_int_t)webhook, "requeued", n);
    if (n < 0 || !details || srv_audit(req, "retry", "deliveries", 0, details))
        srv_clin_abort(req, "cannot retry deliveries");
    else
        srv_clin_commit_reply(req, 200, json_pack("{s:i}", "requeued", n),
                              "%d failed deliveries queued again", n);
    json_decref(details);
    return srv_clin_done(req);
}

const srv_route srv_deliveries_routes[] = {
    {.method = "GET",
     .path = "/api/v1/deliveries",
     .handler = delivery_list,
     .roles = SRV_ROLE_ADMIN,
     .query = (const char *const[]){"channel", "state", "webhook_id", "limit", "cursor", NULL}},
    {.method = "POST",
     .path = "/api/v1/deliveries/retry",
     .handler = delivery_retry_failed,
     .roles = SRV_ROLE_ADMIN,
     .body = SRV_BODY_JSON},
    {.method = "POST",
     .path = "/api/v1/deliveries/{id}/retry",
     .handler = delivery_retry,
     .roles = SRV_ROLE_ADMIN},
    {0},
};
