/* Audit trail: one audit_log row per write, in the same transaction as the write, so the log and
 * the data can never disagree; one row per read of a patient's data; every row chained to the
 * previous one (schema/007_audit_chain.sql describes the hash).
 *
 * DESIGN. Appending needs the previous row's hash, so it must happen under the write lock:
 * every writer here already runs inside BEGIN IMMEDIATE (srv_db_begin), which serialises
 * writers in SQLite, and an append outside a transaction opens its own. The unique index on
 * prev_hash is the safety net: two appends that read the same head cannot both commit. The new
 * row's id is chosen here (max + 1) because the id is part of what is hashed. */
#include "server/audit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/db.h"
#include "server/log.h"
#include "server/reply.h"
#include "server/router.h"
#include "server/sha256.h"

#define GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

/* One row as it is hashed; NULL pointers (and has_* = 0) are SQL NULLs. */
typedef struct audit_row {
    int64_t id;
    const char *actor;
    int has_token;
    int64_t token_id;
    const char *action, *entity_type;
    int has_entity;
    int64_t entity_id;
    const char *at, *details, *client;
} audit_row;

static json_t *text_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* hash = SHA-256(prev || [id, actor, token_id, action, entity_type, entity_id, at, details,
 * client]) as compact JSON. 0, or -1 when out of memory. */
static int row_hash(const char *prev, const audit_row *r, char out[65])
{
    json_t *a = json_pack("[I, o, o, o, o, o, o, o, o]", (json_int_t)r->id, text_or_null(r->actor),
                          r->has_token ? json_integer(r->token_id) : json_null(),
                          text_or_null(r->action), text_or_null(r->entity_type),
                          r->has_entity ? json_integer(r->entity_id) : json_null(),
                          text_or_null(r->at), text_or_null(r->details), text_or_null(r->client));
    char *text = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    if (!text)
        return -1;
    srv_sha256 s;
    uint8_t d[32];
    srv_sha256_init(&s);
    srv_sha256_update(&s, prev, strlen(prev));
    srv_sha256_update(&s, text, strlen(text));
    srv_sha256_final(&s, d);
    srv_sha256_to_hex(d, out);
    free(text);
    return 0;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

/* The head of the chain: the next id and the hash to chain to. 0, or -1. */
static int read_head(sqlite3 *c, int64_t *next_id, char prev[65])
{
    sqlite3_stmt *st =
        srv_db_prepare(c, "SELECT (SELECT coalesce(max(id), 0) + 1 FROM audit_log), "
                          "coalesce((SELECT hash FROM audit_head WHERE one = 1), '" GENESIS "')");
    if (!st)
        return -1;
    int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : -1;
    if (!rc) {
        *next_id = sqlite3_column_int64(st, 0);
        snprintf(prev, 65, "%s", (const char *)sqlite3_column_text(st, 1));
    }
    sqlite3_finalize(st);
    return rc;
}

/* Appends r (its id chosen here) after the head, and moves the head. Inside a transaction. */
static int append_in_tx(sqlite3 *c, audit_row *r)
{
    char prev[65], hash[65];
    if (read_head(c, &r->id, prev) || row_hash(prev, r, hash))
        return -1;
    sqlite3_stmt *st = srv_db_prepare(c, "INSERT INTO audit_log (id, actor, token_id, action, "
                                         "entity_type, entity_id, at, details, client, prev_hash, "
                                         "hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, r->id);
    bind_text_or_null(st, 2, r->actor);
    if (r->has_token)
        sqlite3_bind_int64(st, 3, r->token_id);
    bind_text_or_null(st, 4, r->action);
    bind_text_or_null(st, 5, r->entity_type);
    if (r->has_entity)
        sqlite3_bind_int64(st, 6, r->entity_id);
    bind_text_or_null(st, 7, r->at);
    bind_text_or_null(st, 8, r->details);
    bind_text_or_null(st, 9, r->client);
    sqlite3_bind_text(st, 10, prev, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 11, hash, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    if (rc) {
        srv_log(SRV_LOG_ERROR, "audit insert failed: %s", sqlite3_errmsg(c));
        return -1;
    }
    st =
        srv_db_prepare(c, "INSERT INTO audit_head (one, last_id, hash, rows) VALUES (1, ?1, ?2, 1) "
                          "ON CONFLICT (one) DO UPDATE SET last_id = ?1, hash = ?2, "
                          "rows = rows + 1");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, r->id);
    sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return rc;
}

/* Appends r in the open transaction, or in one of its own. */
static int append(sqlite3 *c, audit_row *r)
{
    int own = sqlite3_get_autocommit(c);
    if (own && srv_db_begin(c))
        return -1;
    int rc = append_in_tx(c, r);
    if (own) {
        if (!rc)
            rc = srv_db_commit(c);
        if (rc)
            srv_db_rollback(c);
    }
    return rc;
}

static void now_iso(char at[32])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(at, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The client's address ("127.0.0.1", "::1") into buf, or NULL when unknown (no connection:
 * unit tests). */
static const char *client_address(srv_request *req, char *buf, size_t n)
{
    if (!req->conn)
        return NULL;
    srv_connection_address(req->conn, buf, n); /* http.c: the one reading of the peer */
    return strcmp(buf, "unknown") ? buf : NULL;
}

static int write_row(sqlite3 *conn, const char *actor, int64_t token_id, const char *client,
                     const char *action, const char *entity_type, int64_t entity_id,
                     json_t *details)
{
    char at[32], *text = NULL;
    now_iso(at);
    if (details && !(text = json_dumps(details, JSON_COMPACT | JSON_SORT_KEYS)))
        return -1;
    audit_row r = {.actor = actor,
                   .has_token = token_id > 0,
                   .token_id = token_id,
                   .action = action,
                   .entity_type = entity_type,
                   .has_entity = 1,
                   .entity_id = entity_id,
                   .at = at,
                   .details = text,
                   .client = client};
    int rc = append(conn, &r);
    free(text);
    return rc;
}

int srv_audit_write(sqlite3 *conn, const char *actor, int64_t token_id, const char *action,
                    const char *entity_type, int64_t entity_id, json_t *details)
{
    return write_row(conn, actor, token_id, NULL, action, entity_type, entity_id, details);
}

int srv_audit(srv_request *req, const char *action, const char *entity_type, int64_t entity_id,
              json_t *details)
{
    char addr[64];
    const char *actor = req->caller.name[0] ? req->caller.name : "anonymous";
    return write_row(req->db, actor, req->caller.token_id, client_address(req, addr, sizeof addr),
                     action, entity_type, entity_id, details);
}

/* PRAGMA synchronous of conn (2 FULL, 1 NORMAL), or -1. */
static int sync_level(sqlite3 *conn)
{
    sqlite3_stmt *st = srv_db_prepare(conn, "PRAGMA synchronous");
    int level = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    return level;
}

/* A read's row in its own transaction, committed without waiting for the disk (synchronous =
 * NORMAL for that one commit): a read costs no fsync, the row survives a crash of the daemon,
 * and the next write's commit (FULL) makes it durable with everything before it in the WAL. A
 * power cut may lose the newest read rows, never a write, and never breaks the chain (the WAL
 * is replayed only up to its last whole commit). */
static int write_read_row(srv_request *req, const char *entity_type, int64_t entity_id,
                          json_t *details)
{
    int level = sqlite3_get_autocommit(req->db) ? sync_level(req->db) : -1;
    if (level > 1)
        sqlite3_exec(req->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
    int rc = srv_audit(req, "read", entity_type, entity_id, details);
    if (level > 1) {
        char sql[48];
        snprintf(sql, sizeof sql, "PRAGMA synchronous = %d", level);
        sqlite3_exec(req->db, sql, NULL, NULL, NULL);
    }
    return rc;
}

/* A read's row; patient_id (0: none) lets the trail be filtered by patient. 0, or -1 after
 * answering 500. */
static int record_read(srv_request *req, const char *entity_type, int64_t entity_id,
                       int64_t patient_id)
{
    json_t *details = json_pack("{s:s, s:s}", "method", req->method ? req->method : "GET", "route",
                                req->route ? req->route->path : "");
    if (details && patient_id > 0)
        json_object_set_new(details, "patient_id", json_integer(patient_id));
    int rc = !details || write_read_row(req, entity_type, entity_id, details);
    json_decref(details);
    if (rc) {
        srv_reply_internal(req, "cannot record a read in the audit trail");
        return -1;
    }
    return 0;
}

int srv_audit_read(srv_request *req, const char *entity_type, int64_t entity_id)
{
    return record_read(req, entity_type, entity_id, 0);
}

enum MHD_Result srv_audit_read_reply(srv_request *req, const char *entity_type, int64_t entity_id,
                                     json_t *body)
{
    json_t *pid = json_object_get(body, "patient_id");
    if (record_read(req, entity_type, entity_id,
                    json_is_integer(pid) ? json_integer_value(pid) : 0)) {
        json_decref(body);
        return MHD_YES;
    }
    return srv_reply_json(req, 200, body);
}

enum MHD_Result srv_audit_read_list(srv_request *req, const char *entity_type, int64_t entity_id,
                                    const char *key, json_t *rows)
{
    if (rows && srv_audit_read(req, entity_type, entity_id)) {
        json_decref(rows);
        return MHD_YES;
    }
    return srv_reply_list(req, key, rows);
}

/* ---------------------------------------------------------------- verification */

/* The row at the cursor of st (columns as in VERIFY_COLUMNS). */
#define VERIFY_COLUMNS                                                                             \
    "id, actor, token_id, action, entity_type, entity_id, at, details, client, prev_hash, hash"

static void row_of(sqlite3_stmt *st, audit_row *r)
{
    r->id = sqlite3_column_int64(st, 0);
    r->actor = (const char *)sqlite3_column_text(st, 1);
    r->has_token = sqlite3_column_type(st, 2) != SQLITE_NULL;
    r->token_id = sqlite3_column_int64(st, 2);
    r->action = (const char *)sqlite3_column_text(st, 3);
    r->entity_type = (const char *)sqlite3_column_text(st, 4);
    r->has_entity = sqlite3_column_type(st, 5) != SQLITE_NULL;
    r->entity_id = sqlite3_column_int64(st, 5);
    r->at = (const char *)sqlite3_column_text(st, 6);
    r->details = (const char *)sqlite3_column_text(st, 7);
    r->client = (const char *)sqlite3_column_text(st, 8);
}

static void broken(srv_audit_check *out, int64_t id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void broken(srv_audit_check *out, int64_t id, const char *fmt, ...)
{
    va_list ap;
    out->ok = 0;
    out->broken_id = id;
    va_start(ap, fmt);
    vsnprintf(out->reason, sizeof out->reason, fmt, ap);
    va_end(ap);
}

/* Walks the rows in id order; stops at the first one that is wrong. 0, or -1 on SQL error. */
static int walk_chain(sqlite3 *c, srv_audit_check *out, int64_t *last_id, char last[65])
{
    sqlite3_stmt *st = srv_db_prepare(c, "SELECT " VERIFY_COLUMNS " FROM audit_log ORDER BY id");
    int rc;
    if (!st)
        return -1;
    snprintf(last, 65, "%s", GENESIS);
    *last_id = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        audit_row r;
        char want[65];
        row_of(st, &r);
        const char *prev = (const char *)sqlite3_column_text(st, 9);
        const char *hash = (const char *)sqlite3_column_text(st, 10);
        if ((!prev || strcmp(prev, last)) && r.id != *last_id + 1) {
            broken(out, *last_id + 1,
                   "row %lld is missing (deleted): row %lld does not chain to "
                   "row %lld",
                   (long long)(*last_id + 1), (long long)r.id, (long long)*last_id);
            break;
        }
        if (!prev || strcmp(prev, last)) {
            broken(out, r.id, "row %lld does not chain to row %lld (prev_hash changed)",
                   (long long)r.id, (long long)*last_id);
            break;
        }
        if (row_hash(prev, &r, want)) {
            sqlite3_finalize(st);
            return -1;
        }
        if (!hash || strcmp(hash, want)) {
            broken(out, r.id, "row %lld was changed (its content does not match its hash)",
                   (long long)r.id);
            break;
        }
        out->rows++;
        *last_id = r.id;
        snprintf(last, 65, "%s", hash);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* The walk ended at the newest row: does the head name it? */
static int check_head(sqlite3 *c, srv_audit_check *out, int64_t last_id, const char *last)
{
    sqlite3_stmt *st =
        srv_db_prepare(c, "SELECT last_id, hash, rows FROM audit_head WHERE one = 1");
    if (!st)
        return -1;
    int rc = sqlite3_step(st);
    int64_t head_id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    const char *head = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 1) : GENESIS;
    int64_t rows = rc == SQLITE_ROW ? sqlite3_column_int64(st, 2) : 0;
    if (head_id != last_id || strcmp(head, last) || rows != out->rows)
        broken(out, last_id + 1,
               "the chain's head names row %lld (%lld rows) but the log ends at row %lld (%lld "
               "rows): the newest rows were deleted or the head was changed",
               (long long)head_id, (long long)rows, (long long)last_id, (long long)out->rows);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

int srv_audit_verify(sqlite3 *conn, srv_audit_check *out)
{
    memset(out, 0, sizeof out[0]);
    out->ok = 1;
    int64_t last_id = 0;
    char last[65] = GENESIS;
    /* One read snapshot: appends that commit meanwhile are not half seen. */
    if (sqlite3_exec(conn, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    int rc = walk_chain(conn, out, &last_id, last);
    if (!rc && out->ok)
        rc = check_head(conn, out, last_id, last);
    sqlite3_exec(conn, "COMMIT", NULL, NULL, NULL);
    out->head_id = last_id;
    snprintf(out->head_hash, sizeof out->head_hash, "%s", last);
    return rc;
}

int srv_audit_chain_existing(sqlite3 *conn)
{
    sqlite3_stmt *st = srv_db_prepare(conn, "SELECT " VERIFY_COLUMNS
                                            " FROM audit_log WHERE hash IS NULL ORDER BY id");
    sqlite3_stmt *up = srv_db_prepare(conn, "UPDATE audit_log SET prev_hash = ?, hash = ? "
                                            "WHERE id = ?");
    char prev[65] = GENESIS, hash[65];
    int64_t last_id = 0, rows = 0;
    int rc = st && up ? SQLITE_ROW : SQLITE_ERROR;
    /* Ids are renumbered nowhere: a gap left by an old deletion is chained over, as found. */
    while (rc == SQLITE_ROW && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        audit_row r;
        row_of(st, &r);
        if (row_hash(prev, &r, hash)) {
            rc = SQLITE_NOMEM;
            break;
        }
        sqlite3_bind_text(up, 1, prev, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(up, 2, hash, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(up, 3, r.id);
        if (sqlite3_step(up) != SQLITE_DONE) {
            rc = SQLITE_ERROR;
            break;
        }
        sqlite3_reset(up);
        snprintf(prev, sizeof prev, "%s", hash);
        last_id = r.id;
        rows++;
    }
    sqlite3_finalize(st);
    sqlite3_finalize(up);
    if (rc != SQLITE_DONE)
        return -1;
    st = srv_db_prepare(conn, "INSERT OR REPLACE INTO audit_head (one, last_id, hash, rows) "
                              "VALUES (1, ?, ?, ?)");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, last_id);
    sqlite3_bind_text(st, 2, prev, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, rows);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return rc;
}
