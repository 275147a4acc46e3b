/* API tokens: "rw_" + 48 hex digits of getrandom() output (192 bits). Only the SHA-256 of the
 * secret is stored; a request's token is hashed and looked up, so the database never holds
 * anything that authenticates. */
#include "server/auth.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "server/audit.h"
#include "server/db.h"
#include "server/log.h"
#include "server/sha256.h"

#define SECRET_BYTES  24
#define SECRET_PREFIX "rw_"

static const struct {
    const char *name;
    unsigned bit;
} roles[] = {{"lims", SRV_ROLE_LIMS}, {"clinician", SRV_ROLE_CLINICIAN}, {"admin", SRV_ROLE_ADMIN}};

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
    sqlite3_stmt *st = srv_db_prepare(
        conn, "SELECT id, role, label FROM tokens WHERE hash = ? AND revoked_at IS NULL");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, hash, 64, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        caller->token_id = sqlite3_column_int64(st, 0);
        caller->role = srv_role_parse((const char *)sqlite3_column_text(st, 1));
        snprintf(caller->name, sizeof caller->name, "%s", (const char *)sqlite3_column_text(st, 2));
        rc = caller->role ? 0 : -1;
    }
    sqlite3_finalize(st);
    return rc;
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
        conn, "INSERT INTO tokens (role, label, hash, created_at) VALUES (?, ?, ?, ?)");
    if (!st)
        goto fail;
    sqlite3_bind_text(st, 1, role, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, label, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, hash, 64, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, now, -1, SQLITE_STATIC);
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
