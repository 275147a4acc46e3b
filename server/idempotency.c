/* Idempotency-Key for every POST (see idempotency.h).
 *
 * DESIGN. The key is claimed before the handler runs, in a short transaction of its own: a row
 * with the request's hash and no answer yet. A twin request arriving meanwhile finds that row
 * and gets 409 instead of writing twice. When the handler has answered, srv_reply_json() has
 * handed a copy of the JSON answer to srv_idempotency_capture(), and the row receives it; a
 * later resend with the same key and the same request hash gets it replayed byte for byte, with
 * `Idempotent-Replayed: true`. An answer that was not JSON or was a 500 releases the key, so the
 * resend runs again. The handler's own write and the stored answer are two transactions: if the
 * daemon dies between them, the claimed row is taken over after CLAIM_STALE seconds and the
 * resend runs again, which the creates' own idempotency (external_id, accession) keeps safe. */
#include "server/idempotency.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/db.h"
#include "server/log.h"
#include "server/reply.h"
#include "server/sha256.h"
#include "server/uploads.h"

#define KEY_HEADER  "Idempotency-Key"
#define KEY_MAX     255
#define CLAIM_STALE "-600 seconds" /* a claim without an answer this old was cut by a crash */

/* The answer being produced for a request with a key (lives on srv_idempotency_call's stack,
 * reached through req->idempotency while the handler runs). */
typedef struct pending {
    unsigned status;
    char *body; /* owned */
} pending;

void srv_idempotency_capture(srv_request *req, unsigned status, const char *body, size_t len)
{
    pending *p = req->idempotency;
    if (!p || p->body)
        return;
    if ((p->body = malloc(len + 1))) {
        memcpy(p->body, body, len);
        p->body[len] = '\0';
        p->status = status;
    }
}

/* POSTs whose answer holds a secret shown once (a token, a password, a webhook's signing key) or
 * sets a session: their answers are never stored, so the header is ignored there (the database
 * keeps only hashes of secrets). */
static const char *const secret_routes[] = {
    "/api/v1/tokens",
    "/api/v1/users",
    "/api/v1/users/{id}/password",
    "/api/v1/session",
    "/api/v1/session/password",
    "/api/v1/webhooks",
    NULL,
};

static int answer_holds_secret(const srv_request *req)
{
    for (size_t i = 0; secret_routes[i]; i++)
        if (req->route && !strcmp(req->route->path, secret_routes[i]))
            return 1;
    return 0;
}

/* Visible ASCII only (RFC 9110 field values; a UUID is the usual key). */
static int key_is_valid(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n > KEY_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (k[i] < 0x21 || k[i] > 0x7e)
            return 0;
    return 1;
}

/* Adds one query argument to the hash (MHD's iterator: MHD_YES goes on). */
static enum MHD_Result hash_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    (void)kind;
    srv_sha256_update(cls, "\n", 1);
    srv_sha256_update(cls, key, strlen(key));
    srv_sha256_update(cls, "=", 1);
    if (value)
        srv_sha256_update(cls, value, strlen(value));
    return MHD_YES;
}

/* SHA-256 of what makes two requests the same one: method, raw path and query, body (a streamed
 * upload by its own checksum). */
static void request_hash(srv_request *req, char hex[65])
{
    srv_sha256 s;
    uint8_t d[32];
    const char *tmp, *sha = NULL;
    int64_t size;
    srv_sha256_init(&s);
    srv_sha256_update(&s, req->method, strlen(req->method));
    srv_sha256_update(&s, "\n", 1);
    if (req->raw_path)
        srv_sha256_update(&s, req->raw_path, strlen(req->raw_path));
    if (req->conn)
        MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, hash_arg, &s);
    srv_sha256_update(&s, "\n", 1);
    if (req->body)
        srv_sha256_update(&s, req->body, req->body_len);
    else if (req->upload && srv_upload_file(req, &tmp, &sha, &size) == 0)
        srv_sha256_update(&s, sha, strlen(sha));
    srv_sha256_final(&s, d);
    srv_sha256_to_hex(d, hex);
}

/* Claims (caller, key) for this request: 0 claimed (the handler runs), 1 answered (a replay or a
 * refusal), -1 on a database error. */
static int claim(srv_request *req, const char *caller, const char *key, const char *hash)
{
    sqlite3 *c = req->db;
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (srv_db_begin(c))
        return -1;
    if (srv_db_exec_id(c,
                       "DELETE FROM idempotency_keys WHERE created_at < "
                       "strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-1 day') OR (status IS NULL AND "
                       "created_at < strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '" CLAIM_STALE "'))",
                       0) ||
        !(st = srv_db_prepare(c, "SELECT request_hash, status, body FROM idempotency_keys "
                                 "WHERE caller = ? AND key = ?")))
        goto out;
    sqlite3_bind_text(st, 1, caller, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        const char *was = (const char *)sqlite3_column_text(st, 0);
        rc = 1;
        if (!was || strcmp(was, hash))
            srv_reply_error(req, 422, "idempotency_key_reused", NULL,
                            "this Idempotency-Key was used for another request: use a new key");
        else if (sqlite3_column_type(st, 1) == SQLITE_NULL)
            srv_reply_error(req, 409, "idempotency_in_progress", NULL,
                            "the first request with this Idempotency-Key is still running");
        else {
            const void *body = sqlite3_column_text(st, 2);
            srv_reply_bytes(req, (unsigned)sqlite3_column_int(st, 1), "application/json",
                            body ? body : "", (size_t)sqlite3_column_bytes(st, 2));
            if (req->response)
                MHD_add_response_header(req->response, "Idempotent-Replayed", "true");
        }
        goto out;
    }
    if (step != SQLITE_DONE)
        goto out;
    sqlite3_finalize(st);
    st = srv_db_prepare(c, "INSERT INTO idempotency_keys (caller, key, request_hash, route) "
                           "VALUES (?, ?, ?, ?)");
    if (!st)
        goto out;
    sqlite3_bind_text(st, 1, caller, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, req->route ? req->route->path : "?", -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_DONE && srv_db_commit(c) == 0)
        rc = 0;
out:
    sqlite3_finalize(st);
    srv_db_rollback(c);
    return rc;
}

/* Stores the answer p for (caller, key), or releases the key when there is none worth keeping. */
static void settle(sqlite3 *c, const char *caller, const char *key, const pending *p)
{
    int keep = p->body && p->status < 500;
    sqlite3_stmt *st = srv_db_prepare(
        c, keep
               ? "UPDATE idempotency_keys SET status = ?3, body = ?4 WHERE caller = ?1 AND key = ?2"
               : "DELETE FROM idempotency_keys WHERE caller = ?1 AND key = ?2");
    if (!st)
        return;
    sqlite3_bind_text(st, 1, caller, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    if (keep) {
        sqlite3_bind_int(st, 3, (int)p->status);
        sqlite3_bind_text(st, 4, p->body, -1, SQLITE_STATIC);
    }
    if (sqlite3_step(st) != SQLITE_DONE)
        srv_log(SRV_LOG_ERROR, "storing an idempotent answer: %s", sqlite3_errmsg(c));
    sqlite3_finalize(st);
}

enum MHD_Result srv_idempotency_call(srv_request *req, srv_handler handler)
{
    const char *key = srv_header(req, KEY_HEADER);
    char caller[96], hash[65];
    pending p = {0};

    /* Public routes have no caller to scope a key to. */
    if (!key || !req->method || strcmp(req->method, "POST") || !req->caller.role ||
        answer_holds_secret(req))
        return handler(req);
    if (!key_is_valid(key))
        return srv_reply_error(req, 400, "invalid_header", KEY_HEADER,
                               "Idempotency-Key must be 1 to %d visible ASCII characters", KEY_MAX);
    /* The key is the caller's: another token's key of the same text is another key. */
    snprintf(caller, sizeof caller, "%lld:%s", (long long)req->caller.token_id, req->caller.name);
    request_hash(req, hash);
    int claimed = claim(req, caller, key, hash);
    if (claimed < 0)
        return srv_reply_internal(req, "cannot claim an Idempotency-Key");
    if (claimed > 0)
        return MHD_YES;
    req->idempotency = &p;
    enum MHD_Result ret = handler(req);
    req->idempotency = NULL;
    /* A handler that left its transaction open has failed: it is rolled back by the pool. */
    if (sqlite3_get_autocommit(req->db))
        settle(req->db, caller, key, &p);
    free(p.body);
    return ret;
}
