/* Signing in and out: POST /api/v1/session (name + password; sets the session cookie), GET (who
 * am I, the CSRF token), DELETE (ends the session on the server), POST /session/password (the
 * user changes their own password). Failed sign-ins are throttled per name and per client
 * address and lock the name at --signin-max-failures; every outcome is audited, never a
 * password. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "server/api.h"
#include "server/auth.h"
#include "server/options.h"
#include "server/session.h"
#include "server/users.h"

/* One user's row as the sign-in needs it. */
typedef struct account {
    int64_t id;
    char name[64], role[16];
    char *hash; /* owned */
    int must_change, disabled;
} account;

/* Loads the user by name (found: 1), 0 when none, -1 on error. */
static int account_load(sqlite3 *db, const char *name, account *a)
{
    memset(a, 0, sizeof *a);
    sqlite3_stmt *st = srv_db_prepare(db, "SELECT id, name, role, password_hash, must_change, "
                                          "disabled FROM users WHERE name = ?");
    int rc = -1, step;
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if ((step = sqlite3_step(st)) == SQLITE_ROW) {
        a->id = sqlite3_column_int64(st, 0);
        snprintf(a->name, sizeof a->name, "%s", (const char *)sqlite3_column_text(st, 1));
        snprintf(a->role, sizeof a->role, "%s", (const char *)sqlite3_column_text(st, 2));
        a->hash = strdup((const char *)sqlite3_column_text(st, 3));
        a->must_change = sqlite3_column_int(st, 4);
        a->disabled = sqlite3_column_int(st, 5);
        rc = a->hash ? 1 : -1;
    } else if (step == SQLITE_DONE) {
        rc = 0;
    }
    sqlite3_finalize(st);
    return rc;
}

static void account_free(account *a)
{
    if (a->hash)
        sodium_memzero(a->hash, strlen(a->hash));
    free(a->hash);
    a->hash = NULL;
}

/* The answer of sign-in and who-am-I (new reference). */
static json_t *whoami_new(const srv_caller *c, const char *csrf, int idle)
{
    json_t *o = json_pack("{s:s, s:s, s:b}", "name", c->name, "role", srv_role_name(c->role),
                          "must_change_password", c->must_change);
    if (!o)
        return NULL;
    json_object_set_new(o, "user_id", c->user_id ? json_integer(c->user_id) : json_null());
    json_object_set_new(o, "token_id", c->token_id ? json_integer(c->token_id) : json_null());
    json_object_set_new(o, "csrf_token", csrf ? json_string(csrf) : json_null());
    json_object_set_new(o, "auth", json_string(c->session_id ? "session" : "token"));
    if (c->session_id)
        json_object_set_new(o, "idle_seconds", json_integer(idle));
    return o;
}

/* Counts the failure, audits and logs it (the address, never the password), answers 401. */
static enum MHD_Result signin_failed(srv_request *req, const char *name, const account *a,
                                     const char *address)
{
    int failures = -1;
    if (srv_db_begin(req->db))
        return srv_reply_internal(req, "begin failed");
    json_t *details = json_pack("{s:s, s:s}", "address", address, "reason",
                                a->id ? "wrong password" : "unknown user name");
    failures = srv_signin_failed(req->db, name, address);
    if (details && failures > 0)
        json_object_set_new(details, "consecutive_failures", json_integer(failures));
    if (failures < 0 || !details ||
        srv_audit_write(req->db, a->id ? a->name : "unknown", 0, "signin_failed", "user", a->id,
                        details) ||
        srv_db_commit(req->db)) {
        json_decref(details);
        srv_db_rollback(req->db);
        return srv_reply_internal(req, "cannot record a failed sign-in");
    }
    json_decref(details);
    srv_log(SRV_LOG_WARN, "sign-in failed for %s%lld from %s (%d in a row)%s",
            a->id ? "user id " : "an unknown name", a->id ? (long long)a->id : 0LL, address,
            failures, failures >= req->cfg->signin_max_failures ? ": name locked" : "");
    return srv_reply_error(req, MHD_HTTP_UNAUTHORIZED, "invalid_credentials", NULL,
                           "wrong user name or password");
}

/* Opens the session, audits, sets the cookie, answers 201. */
static enum MHD_Result signin_ok(srv_request *req, const account *a, const char *address)
{
    char cookie[65], csrf[65];
    int64_t sid = 0;
    if (srv_db_begin(req->db))
        return srv_reply_internal(req, "begin failed");
    json_t *details = json_pack("{s:s}", "address", address);
    int bad = !details || srv_signin_clear(req->db, a->name) ||
              srv_session_create(req->db, a->id, address, cookie, csrf, &sid) ||
              srv_db_exec_id(req->db,
                             "UPDATE users SET last_signin_at = "
                             "strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?",
                             a->id) ||
              srv_audit_write(req->db, a->name, 0, "signin", "session", sid, details) ||
              srv_db_commit(req->db);
    json_decref(details);
    if (bad) {
        srv_db_rollback(req->db);
        return srv_reply_internal(req, "cannot open a session");
    }
    srv_log(SRV_LOG_INFO, "user id %lld signed in from %s (session %lld)", (long long)a->id,
            address, (long long)sid);
    srv_caller who = {.user_id = a->id, .session_id = sid, .must_change = a->must_change};
    who.role = srv_role_parse(a->role);
    snprintf(who.name, sizeof who.name, "%s", a->name);
    srv_reply_json(req, MHD_HTTP_CREATED, whoami_new(&who, csrf, req->cfg->session_idle));
    srv_session_set_cookie(req, cookie, req->cfg->session_max);
    sodium_memzero(cookie, sizeof cookie);
    return MHD_YES;
}

static enum MHD_Result signin(srv_request *req)
{
    static const char *const fields[] = {"name", "password", NULL};
    const char *name_in, *password;
    char name[64], address[64];
    account a;
    int retry = 0;
    if (srv_check_fields(req, req->json, fields) ||
        srv_get_string(req, req->json, "name", 1, 63, &name_in) ||
        srv_get_string(req, req->json, "password", 1, SRV_PASSWORD_MAX, &password))
        return srv_validate_done(req);
    size_t i;
    for (i = 0; name_in[i]; i++) /* names are lowercase: "Admin" signs in as "admin" */
        name[i] = (char)(name_in[i] >= 'A' && name_in[i] <= 'Z' ? name_in[i] + 32 : name_in[i]);
    name[i] = '\0';
    srv_client_address(req, address, sizeof address);
    switch (srv_signin_gate_check(req->db, name, address, req->cfg->signin_max_failures, &retry)) {
    case SRV_SIGNIN_GO:
        break;
    case SRV_SIGNIN_WAIT: {
        char header[16];
        srv_log(SRV_LOG_WARN, "sign-in from %s refused for %d s after repeated failures", address,
                retry);
        srv_reply_error(req, MHD_HTTP_TOO_MANY_REQUESTS, "too_many_attempts", NULL,
                        "too many failed sign-ins: wait %d s", retry);
        snprintf(header, sizeof header, "%d", retry);
        if (req->response)
            MHD_add_response_header(req->response, MHD_HTTP_HEADER_RETRY_AFTER, header);
        return MHD_YES;
    }
    case SRV_SIGNIN_LOCKED:
        srv_log(SRV_LOG_WARN, "sign-in from %s refused: the name is locked", address);
        return srv_reply_error(req, 423, "account_locked", NULL,
                               "too many failed sign-ins: an admin must reset the password");
    case SRV_SIGNIN_ERROR:
        return srv_reply_internal(req, "cannot read the sign-in failures");
    }
    int found = account_load(req->db, name, &a);
    if (found < 0)
        return srv_reply_internal(req, "cannot read a user");
    enum MHD_Result ret;
    if (srv_password_verify(found ? a.hash : NULL, password) != 0)
        ret = signin_failed(req, name, &a, address);
    else if (a.disabled)
        ret = srv_reply_error(req, MHD_HTTP_FORBIDDEN, "account_disabled", NULL,
                              "this account is disabled");
    else
        ret = signin_ok(req, &a, address);
    account_free(&a);
    return ret;
}

static enum MHD_Result whoami(srv_request *req)
{
    char csrf[65] = "";
    if (req->caller.session_id) {
        sqlite3_stmt *st = srv_db_prepare(req->db, "SELECT csrf FROM sessions WHERE id = ?");
        if (st) {
            sqlite3_bind_int64(st, 1, req->caller.session_id);
            if (sqlite3_step(st) == SQLITE_ROW)
                snprintf(csrf, sizeof csrf, "%s", (const char *)sqlite3_column_text(st, 0));
        }
        sqlite3_finalize(st);
    }
    return srv_reply_json(req, MHD_HTTP_OK,
                          whoami_new(&req->caller, *csrf ? csrf : NULL, req->cfg->session_idle));
}

static enum MHD_Result signout(srv_request *req)
{
    int64_t sid = req->caller.session_id;
    if (!sid)
        return srv_reply_error(req, MHD_HTTP_BAD_REQUEST, "no_session", NULL,
                               "signed in with a token: there is no session to end");
    if (srv_db_begin(req->db))
        return srv_reply_internal(req, "begin failed");
    if (srv_session_end(req->db, sid) || srv_audit(req, "signout", "session", sid, NULL) ||
        srv_db_commit(req->db)) {
        srv_db_rollback(req->db);
        return srv_reply_internal(req, "cannot end a session");
    }
    srv_reply_json(req, MHD_HTTP_OK, json_pack("{s:b}", "signed_out", 1));
    srv_session_set_cookie(req, NULL, 0);
    return MHD_YES;
}

static enum MHD_Result change_password(srv_request *req)
{
    static const char *const fields[] = {"current_password", "new_password", NULL};
    const char *current, *fresh, *why;
    account a;
    if (srv_check_fields(req, req->json, fields) ||
        srv_get_string(req, req->json, "current_password", 1, SRV_PASSWORD_MAX, &current) ||
        srv_get_string(req, req->json, "new_password", 1, 0, &fresh))
        return srv_validate_done(req);
    if (!req->caller.session_id)
        return srv_reply_error(req, MHD_HTTP_BAD_REQUEST, "no_session", NULL,
                               "a token has no password: sign in as the user");
    if ((why = srv_password_policy(req->caller.name, fresh)))
        return srv_reply_error(req, 422, "weak_password", "new_password", "%s", why);
    int found = account_load(req->db, req->caller.name, &a);
    if (found <= 0) {
        account_free(&a);
        return srv_reply_internal(req, "cannot read the signed-in user");
    }
    int wrong = srv_password_verify(a.hash, current) != 0;
    int same = !wrong && strcmp(current, fresh) == 0;
    account_free(&a);
    if (wrong)
        return srv_reply_error(req, 422, "wrong_password", "current_password",
                               "the current password is wrong");
    if (same)
        return srv_reply_error(req, 422, "weak_password", "new_password",
                               "the new password must differ from the current one");
    if (srv_db_begin(req->db))
        return srv_reply_internal(req, "begin failed");
    /* The other sessions end: whoever else held the old password is out. */
    if (srv_user_set_password(req->db, req->caller.user_id, fresh, 0) ||
        srv_session_end_user(req->db, req->caller.user_id, req->caller.session_id) ||
        srv_audit(req, "change_password", "user", req->caller.user_id, NULL)) {
        srv_db_rollback(req->db);
        return srv_reply_internal(req, "cannot change a password");
    }
    if (srv_auth_commit(req))
        return MHD_YES;
    return srv_reply_json(req, MHD_HTTP_OK, json_pack("{s:b}", "must_change_password", 0));
}

const srv_route srv_session_routes[] = {
    {.method = "POST",
     .path = "/api/v1/session",
     .handler = signin,
     .roles = SRV_ROLE_PUBLIC,
     .body = SRV_BODY_JSON},
    {.method = "GET", .path = "/api/v1/session", .handler = whoami, .roles = SRV_ROLE_ANY},
    {.method = "DELETE",
     .path = "/api/v1/session",
     .handler = signout,
     .roles = SRV_ROLE_CLINICIAN | SRV_ROLE_VIEWER | SRV_ROLE_ADMIN},
    {.method = "POST",
     .path = "/api/v1/session/password",
     .handler = change_password,
     .roles = SRV_ROLE_CLINICIAN | SRV_ROLE_VIEWER | SRV_ROLE_ADMIN,
     .body = SRV_BODY_JSON},
    {0},
};
