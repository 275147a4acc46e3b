/* API tokens: "rw_" + 48 hex digits of getrandom() output (192 bits). Only the SHA-256 of the
 * secret is stored; a request's token is hashed and looked up, so the database never holds
 * anything that authenticates.
 *
 * A token found live is remembered (by its hash, never the secret) for at most
 * TOKEN_CACHE_SECONDS, so a client's next requests skip the lookup (a fifth of a cached read's
 * work, issue 14). The entry holds only while the credentials' version it was read under is
 * current (srv_db_credentials_version(): moved by every change to tokens or users through the
 * pool, before and after its commit) and the token's expiry is ahead: a token revoked, expired,
 * re-roled or whose user is disabled stops working at the next request. A change made to the file
 * by another program (sqlite3) is seen within TOKEN_CACHE_SECONDS. */
#include "server/auth.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "server/audit.h"
#include "server/db.h"
#include "server/log.h"
#include "server/reply.h"
#include "server/session.h"
#include "server/sha256.h"

#define SECRET_BYTES  24
#define SECRET_PREFIX "rw_"

static const struct {
    const char *name;
    unsigned bit;
} roles[] = {{"lims", SRV_ROLE_LIMS},
             {"clinician", SRV_ROLE_CLINICIAN},
             {"viewer", SRV_ROLE_VIEWER},
             {"admin", SRV_ROLE_ADMIN}};

unsigned srv_role_parse(const char *name)
{
    for (size_t i = 0; name && i < sizeof roles / sizeof roles[0]; i++)
        if (strcmp(roles[i].name, name) == 0)
            return roles[i].bit;
    return 0;
}

const char *srv_role_name(unsigned role)
{
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
        if (roles[i].bit == role)
            return roles[i].name;
    return "none";
}

/* A token row t that authenticates: not revoked, not expired, its owner (if any) enabled. */
#define TOKEN_LIVE                                                                                 \
    "t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > "                            \
    "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')) AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = "   \
    "t.owner_user_id AND u.disabled = 1)"

/* ---------------------------------------------------------------- the cache of live tokens */

#define TOKEN_CACHE_SLOTS   256 /* by the hash's first digits; a collision replaces */
#define TOKEN_CACHE_SECONDS 1   /* an entry's life at most (changes made by other programs) */

typedef struct cached_token {
    char hash[65]; /* "" for an empty slot */
    srv_caller caller;
    const srv_db *pool;
    uint64_t version; /* srv_db_credentials_version() before the lookup that filled it */
    time_t until;     /* the entry is used while time(NULL) < until */
} cached_token;

static pthread_mutex_t token_lock = PTHREAD_MUTEX_INITIALIZER;
static cached_token token_cache[TOKEN_CACHE_SLOTS];

static cached_token *token_slot(const char *hash)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++)
        v = v * 16 + (unsigned)(hash[i] <= '9' ? hash[i] - '0' : hash[i] - 'a' + 10);
    return &token_cache[v % TOKEN_CACHE_SLOTS];
}

/* The caller of the token whose hash is given, when remembered and still current. 1, or 0. */
static int token_cached(const char *hash, const srv_db *pool, uint64_t version, srv_caller *out)
{
    int found = 0;
    pthread_mutex_lock(&token_lock);
    cached_token *e = token_slot(hash);
    if (e->pool == pool && e->version == version && time(NULL) < e->until &&
        strcmp(e->hash, hash) == 0) {
        *out = e->caller;
        found = 1;
    }
    pthread_mutex_unlock(&token_lock);
    return found;
}

/* Remembers caller for hash, read under version, until the token's expiry (0: none) or
 * TOKEN_CACHE_SECONDS from now, whichever is first. */
static void token_remember(const char *hash, const srv_db *pool, uint64_t version,
                           const srv_caller *caller, time_t expires)
{
    time_t until = time(NULL) + TOKEN_CACHE_SECONDS;
    if (expires > 0 && expires < until)
        until = expires;
    pthread_mutex_lock(&token_lock);
    cached_token *e = token_slot(hash);
    memcpy(e->hash, hash, sizeof e->hash);
    e->caller = *caller;
    e->pool = pool;
    e->version = version;
    e->until = until;
    pthread_mutex_unlock(&token_lock);
}

/* Records the token's use, at most once a minute (a write per request would queue on the
 * database's one writer). */
static void touch_token(sqlite3 *conn, int64_t id)
{
    sqlite3_stmt *st = srv_db_prepare(
        conn, "UPDATE tokens SET last_used_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ? "
              "AND (last_used_at IS NULL OR last_used_at < strftime('%Y-%m-%dT%H:%M:%SZ', 'now', "
              "'-60 seconds'))");
    if (!st)
        return;
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_DONE)
        srv_log(SRV_LOG_WARN, "cannot record a token's use: %s", sqlite3_errmsg(conn));
    sqlite3_finalize(st);
}

int srv_auth_check(sqlite3 *conn, const char *authorization_header, srv_caller *caller)
{
    const char *h = authorization_header;
    char hash[65];
    int rc = -1;
    memset(caller, 0, sizeof *caller);
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return -1;
    h += 7;
    while (*h == ' ')
        h++;
    size_t len = strlen(h);
    while (len > 0 && h[len - 1] == ' ')
        len--;
    if (len == 0 || len > 128)
        return -1;
    srv_sha256_hex(h, len, hash);
    const srv_db *pool;
    uint64_t version = srv_db_credentials_version(conn, &pool); /* before the lookup */
    if (version && token_cached(hash, pool, version, caller))
        return 0;
    /* The fifth column says whether the use is worth recording (touch_token): without it every
     * request would take the write lock for an UPDATE that changes nothing. The last one is the
     * expiry in Unix seconds (0: none; -1: not in the canonical form, then nothing is cached). */
    sqlite3_stmt *st = srv_db_prepare(
        conn, "SELECT t.id, t.role, t.label, t.owner_user_id, t.last_used_at IS NULL OR "
              "t.last_used_at < strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-60 seconds'), CASE WHEN "
              "t.expires_at IS NULL THEN 0 WHEN strftime('%Y-%m-%dT%H:%M:%SZ', t.expires_at) = "
              "t.expires_at THEN CAST(strftime('%s', t.expires_at) AS INTEGER) ELSE -1 END FROM "
              "tokens t WHERE t.hash = ? AND " TOKEN_LIVE);
    int stale = 0;
    int64_t expires = -1;
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, hash, 64, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        caller->token_id = sqlite3_column_int64(st, 0);
        caller->role = srv_role_parse((const char *)sqlite3_column_text(st, 1));
        snprintf(caller->name, sizeof caller->name, "%s", (const char *)sqlite3_column_text(st, 2));
        caller->user_id = sqlite3_column_int64(st, 3);
        stale = sqlite3_column_int(st, 4);
        expires = sqlite3_column_int64(st, 5);
        rc = caller->role ? 0 : -1;
    }
    sqlite3_finalize(st);
    if (rc != 0) {
        memset(caller, 0, sizeof *caller);
        return rc;
    }
    if (stale)
        touch_token(conn, caller->token_id);
    else if (version && expires >= 0) /* a touch moves the version: remember at the next one */
        token_remember(hash, pool, version, caller, (time_t)expires);
    return 0;
}

int srv_auth_recheck(srv_request *req)
{
    const srv_caller *c = &req->caller;
    int alive = 1;
    if (c->session_id) {
        alive = srv_session_alive(req->db, c->session_id, c->role);
    } else if (c->token_id) {
        alive = -1;
        sqlite3_stmt *st =
            srv_db_prepare(req->db, "SELECT t.role FROM tokens t WHERE t.id = ? AND " TOKEN_LIVE);
        if (st) {
            sqlite3_bind_int64(st, 1, c->token_id);
            int step = sqlite3_step(st);
            if (step == SQLITE_ROW)
                alive = srv_role_parse((const char *)sqlite3_column_text(st, 0)) == c->role;
            else if (step == SQLITE_DONE)
                alive = 0;
        }
        sqlite3_finalize(st);
    }
    if (alive == 1)
        return 0;
    if (alive < 0)
        srv_reply_internal(req, "cannot re-check the caller");
    else
        srv_reply_error(req, MHD_HTTP_UNAUTHORIZED, "unauthorized", NULL,
                        "the credential was revoked, expired or disabled during the request: "
                        "nothing was written");
    return -1;
}

int srv_auth_count(sqlite3 *conn, const char *sql, int64_t id)
{
    int n = -1;
    sqlite3_stmt *st = srv_db_prepare(conn, sql);
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        if (sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int(st, 0);
    }
    sqlite3_finalize(st);
    return n;
}

int srv_auth_uploaded_by(sqlite3 *conn, int64_t sample_id, int64_t token_id)
{
    sqlite3_stmt *st = srv_db_prepare(
        conn, "SELECT count(*) FROM audit_log WHERE action = 'upload' AND entity_type = 'sample' "
              "AND entity_id = ?1 AND token_id IN (SELECT id FROM tokens WHERE label = "
              "(SELECT label FROM tokens WHERE id = ?2))");
    int n = -1;
    if (st) {
        sqlite3_bind_int64(st, 1, sample_id);
        sqlite3_bind_int64(st, 2, token_id);
        if (sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int(st, 0) > 0;
    }
    sqlite3_finalize(st);
    return n;
}

int srv_auth_commit(srv_request *req)
{
    if (srv_auth_recheck(req)) {
        srv_db_rollback(req->db);
        return -1;
    }
    if (srv_db_commit(req->db)) {
        srv_db_rollback(req->db);
        srv_reply_internal(req, "commit failed");
        return -1;
    }
    return 0;
}

/* Fills secret with "rw_" + 48 hex digits from the kernel's CSPRNG. */
static int new_secret(char *secret)
{
    unsigned char raw[SECRET_BYTES];
    size_t got = 0;
    while (got < sizeof raw) {
        ssize_t n = getrandom(raw + got, sizeof raw - got, 0);
        if (n < 0)
            return -1;
        got += (size_t)n;
    }
    static const char digits[] = "0123456789abcdef";
    char *p = secret + strlen(SECRET_PREFIX);
    memcpy(secret, SECRET_PREFIX, strlen(SECRET_PREFIX));
    for (size_t i = 0; i < sizeof raw; i++) {
        *p++ = digits[raw[i] >> 4];
        *p++ = digits[raw[i] & 15];
    }
    *p = '\0';
    return 0;
}

int srv_auth_create(sqlite3 *conn, const char *role, const char *label, char *secret, int64_t *id)
{
    return srv_auth_create_owned(conn, role, label, 0, NULL, secret, id);
}

int srv_auth_create_owned(sqlite3 *conn, const char *role, const char *label, int64_t owner,
                          const char *expires_at, char *secret, int64_t *id)
{
    char hash[65], now[32];
    int rc = -1;
    if (!srv_role_parse(role) || !label || !*label || strlen(label) > 63)
        return -1;
    if (new_secret(secret)) {
        srv_log(SRV_LOG_ERROR, "getrandom failed");
        return -1;
    }
    srv_sha256_hex(secret, strlen(secret), hash);
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
    sqlite3_stmt *st = srv_db_prepare(
        conn, "INSERT INTO tokens (role, label, hash, created_at, owner_user_id, expires_at) "
              "VALUES (?, ?, ?, ?, ?, ?)");
    if (!st)
        goto fail;
    sqlite3_bind_text(st, 1, role, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, label, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, hash, 64, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, now, -1, SQLITE_STATIC);
    if (owner > 0)
        sqlite3_bind_int64(st, 5, owner);
    if (expires_at)
        sqlite3_bind_text(st, 6, expires_at, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        srv_log(SRV_LOG_ERROR, "token insert failed: %s", sqlite3_errmsg(conn));
        goto fail;
    }
    *id = sqlite3_last_insert_rowid(conn);
    rc = 0;
fail:
    sqlite3_finalize(st);
    if (rc)
        memset(secret, 0, 65);
    return rc;
}

int srv_auth_bootstrap(sqlite3 *conn, char *secret)
{
    int64_t id = 0;
    int count = -1;
    if (srv_db_begin(conn))
        return -1;
    sqlite3_stmt *st = srv_db_prepare(conn, "SELECT count(*) FROM tokens");
    if (st && sqlite3_step(st) == SQLITE_ROW)
        count = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (count < 0)
        goto fail;
    if (count > 0) {
        srv_db_rollback(conn);
        return 0;
    }
    json_t *details = json_pack("{s:s, s:s}", "role", "admin", "label", "initial admin");
    if (srv_auth_create(conn, "admin", "initial admin", secret, &id) ||
        srv_audit_write(conn, "system", 0, "create", "token", id, details)) {
        json_decref(details);
        goto fail;
    }
    json_decref(details);
    if (srv_db_commit(conn))
        goto fail;
    srv_log(SRV_LOG_INFO, "created the initial admin token (id %lld), printed on stdout",
            (long long)id);
    return 1;
fail:
    srv_db_rollback(conn);
    memset(secret, 0, 65);
    return -1;
}
