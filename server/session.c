/* Sign-in sessions: the cookie is 32 random bytes in hex; the row keeps only its SHA-256, so a
 * copy of the database opens no session. Expiry is checked on every look-up (idle since the last
 * request, absolute since the sign-in), never by a sweeper, so no clock task can be late. Times
 * are whole seconds: a session ends between N and N + 1 s after its limit of N s. */
#include "server/session.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "server/auth.h"
#include "server/db.h"
#include "server/log.h"
#include "server/options.h"
#include "server/sha256.h"
#include "server/users.h"

/* 32 random bytes as 64 lowercase hex digits into out (size >= 65). */
static int random_hex(char *out)
{
    unsigned char raw[32];
    if (srv_users_init())
        return -1;
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(out, 65, raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
    return 0;
}

int srv_session_create(sqlite3 *conn, int64_t user_id, const char *address, char *cookie,
                       char *csrf, int64_t *id)
{
    char hash[65];
    int rc = -1;
    if (random_hex(cookie) || random_hex(csrf))
        return -1;
    srv_sha256_hex(cookie, 64, hash);
    int64_t now = (int64_t)time(NULL);
    sqlite3_stmt *st =
        srv_db_prepare(conn, "INSERT INTO sessions (user_id, hash, csrf, created_unix, "
                             "last_seen_unix, address) VALUES (?, ?, ?, ?, ?, ?)");
    if (st) {
        sqlite3_bind_int64(st, 1, user_id);
        sqlite3_bind_text(st, 2, hash, 64, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, csrf, 64, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, now);
        sqlite3_bind_int64(st, 5, now);
        sqlite3_bind_text(st, 6, address, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_DONE) {
            *id = sqlite3_last_insert_rowid(conn);
            rc = 0;
        }
    }
    sqlite3_finalize(st);
    if (rc)
        sodium_memzero(cookie, 65);
    return rc;
}

/* The last activity is written at most once a second per session. */
static void touch(sqlite3 *conn, int64_t id, int64_t now)
{
    sqlite3_stmt *st = srv_db_prepare(
        conn, "UPDATE sessions SET last_seen_unix = ?1 WHERE id = ?2 AND last_seen_unix < ?1");
    if (!st)
        return;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, id);
    if (sqlite3_step(st) != SQLITE_DONE)
        srv_log(SRV_LOG_WARN, "cannot record a session's activity: %s", sqlite3_errmsg(conn));
    sqlite3_finalize(st);
}

int srv_session_check(sqlite3 *conn, const srv_config *cfg, const char *cookie, srv_caller *who,
                      char *csrf)
{
    char hash[65];
    int rc = -1;
    memset(who, 0, sizeof *who);
    if (!cookie || strlen(cookie) != 64)
        return -1;
    srv_sha256_hex(cookie, 64, hash);
    int64_t now = (int64_t)time(NULL);
    sqlite3_stmt *st = srv_db_prepare(
        conn, "SELECT s.id, s.user_id, s.csrf, u.name, u.role, u.must_change FROM sessions s "
              "JOIN users u ON u.id = s.user_id WHERE s.hash = ? AND s.ended_unix IS NULL AND "
              "u.disabled = 0 AND s.created_unix >= ? AND s.last_seen_unix >= ?");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, hash, 64, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now - cfg->session_max);
    sqlite3_bind_int64(st, 3, now - cfg->session_idle);
    if (sqlite3_step(st) == SQLITE_ROW) {
        who->session_id = sqlite3_column_int64(st, 0);
        who->user_id = sqlite3_column_int64(st, 1);
        snprintf(csrf, 65, "%s", (const char *)sqlite3_column_text(st, 2));
        snprintf(who->name, sizeof who->name, "%s", (const char *)sqlite3_column_text(st, 3));
        who->role = srv_role_parse((const char *)sqlite3_column_text(st, 4));
        who->must_change = sqlite3_column_int(st, 5);
        rc = who->role ? 0 : -1;
    }
    sqlite3_finalize(st);
    if (rc == 0)
        touch(conn, who->session_id, now);
    else
        memset(who, 0, sizeof *who);
    return rc;
}

int srv_session_alive(sqlite3 *conn, int64_t id, unsigned role)
{
    int rc = -1, step;
    sqlite3_stmt *st = srv_db_prepare(conn, "SELECT u.role FROM sessions s JOIN users u ON u.id = "
                                            "s.user_id WHERE s.id = ? AND s.ended_unix IS NULL "
                                            "AND u.disabled = 0");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        rc = srv_role_parse((const char *)sqlite3_column_text(st, 0)) == role;
    else if (step == SQLITE_DONE)
        rc = 0;
    sqlite3_finalize(st);
    return rc;
}

/* Ends sessions matching `where` (one id parameter ?1, and ?2 the session to keep). */
static int end_where(sqlite3 *conn, const char *where, int64_t id, int64_t keep)
{
    char sql[256];
    snprintf(sql, sizeof sql, "UPDATE sessions SET ended_unix = ?3 WHERE ended_unix IS NULL AND %s",
             where);
    sqlite3_stmt *st = srv_db_prepare(conn, sql);
    int rc = -1;
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, keep);
        sqlite3_bind_int64(st, 3, (int64_t)time(NULL));
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    }
    sqlite3_finalize(st);
    return rc;
}

int srv_session_end(sqlite3 *conn, int64_t id)
{
    return end_where(conn, "id = ?1 AND ?2 = ?2", id, 0);
}

int srv_session_end_user(sqlite3 *conn, int64_t user_id, int64_t keep)
{
    return end_where(conn, "user_id = ?1 AND id <> ?2", user_id, keep);
}

void srv_session_set_cookie(srv_request *req, const char *value, int max_age)
{
    char header[256];
    if (!req->response)
        return;
    snprintf(header, sizeof header, "%s=%s; Max-Age=%d; Path=/; HttpOnly; SameSite=Strict%s",
             SRV_SESSION_COOKIE, value ? value : "", value ? max_age : 0,
             req->cfg && req->cfg->tls_enabled ? "; Secure" : "");
    MHD_add_response_header(req->response, MHD_HTTP_HEADER_SET_COOKIE, header);
}

void srv_client_address(srv_request *req, char *buf, size_t len)
{
    if (req->conn)
        srv_connection_address(req->conn, buf, len); /* http.c */
    else
        snprintf(buf, len, "unknown");
}
