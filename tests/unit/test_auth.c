/* Unit tests of server/auth, users and session: the bootstrap admin token, only its hash stored,
 * Bearer parsing, roles, unknown, revoked, expired tokens and tokens of a disabled owner; the
 * password policy and Argon2id hashes; the first admin account; sessions (only the cookie's hash
 * stored, idle and absolute expiry, ending); the sign-in throttle's gate. */
#include "server/auth.h"
#include "server/db.h"
#include "server/log.h"
#include "server/options.h"
#include "server/rows.h"
#include "server/session.h"
#include "server/sha256.h"
#include "server/users.h"
#include "tests/unit/harness.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void test_tokens(const char *path)
{
    char err[512], secret[65], hash[65];
    int64_t id = 0;
    srv_caller who;
    unlink(path); /* left by an interrupted run */
    srv_db *db = srv_db_open(path, 2, err, sizeof err);
    CHECK(db != NULL);
    if (!db)
        return;
    sqlite3 *c = srv_db_acquire(db);
    CHECK(srv_auth_bootstrap(c, secret) == 1 && !strncmp(secret, "rw_", 3));
    CHECK(strlen(secret) == 51);
    char header[100];
    snprintf(header, sizeof header, "Bearer %s", secret);
    CHECK(srv_auth_check(c, header, &who) == 0 && who.role == SRV_ROLE_ADMIN);
    CHECK(!strcmp(who.name, "initial admin"));
    /* Only the hash is stored, and it is the SHA-256 of the secret. */
    srv_sha256_hex(secret, strlen(secret), hash);
    json_t *key = json_string(hash), *row = NULL;
    CHECK(srv_row_find(c, "tokens", "hash", key, &row) == SRV_OK);
    json_decref(row);
    json_decref(key);
    json_t *audit =
        srv_rows_query_new(c, "SELECT id FROM audit_log WHERE entity_type = 'token'", NULL);
    CHECK(json_array_size(audit) == 1);
    json_decref(audit);
    CHECK(srv_auth_bootstrap(c, secret) == 0); /* tokens exist: nothing printed again */
    CHECK(srv_auth_create(c, "lims", "lab", secret, &id) == 0 && id > 1);
    snprintf(header, sizeof header, "bearer  %s ", secret);
    CHECK(srv_auth_check(c, header, &who) == 0 && who.role == SRV_ROLE_LIMS && who.token_id == id);
    CHECK(srv_auth_create(c, "root", "x", secret, &id) == -1);
    CHECK(srv_auth_check(c, NULL, &who) == -1);
    CHECK(srv_auth_check(c, "Bearer rw_0000", &who) == -1);
    CHECK(srv_auth_check(c, "Basic abc", &who) == -1);
    sqlite3_exec(c, "UPDATE tokens SET revoked_at = 'now' WHERE role = 'lims'", NULL, NULL, NULL);
    CHECK(srv_auth_check(c, header, &who) == -1); /* revoked */
    CHECK(srv_role_parse("clinician") == SRV_ROLE_CLINICIAN && srv_role_parse("x") == 0);
    CHECK(srv_role_parse("viewer") == SRV_ROLE_VIEWER &&
          !strcmp(srv_role_name(SRV_ROLE_VIEWER), "viewer"));
    /* Expiry and owner. */
    CHECK(srv_auth_create_owned(c, "viewer", "old", 0, "2000-01-01T00:00:00Z", secret, &id) == 0);
    snprintf(header, sizeof header, "Bearer %s", secret);
    CHECK(srv_auth_check(c, header, &who) == -1); /* expired */
    int64_t uid = 0;
    CHECK(srv_user_create(c, "owner", "admin", "a-long-enough-pw", &uid) == 0);
    CHECK(srv_auth_create_owned(c, "lims", "owned", uid, "2999-01-01T00:00:00Z", secret, &id) == 0);
    snprintf(header, sizeof header, "Bearer %s", secret);
    CHECK(srv_auth_check(c, header, &who) == 0 && who.user_id == uid);
    sqlite3_exec(c, "UPDATE users SET disabled = 1 WHERE name = 'owner'", NULL, NULL, NULL);
    CHECK(srv_auth_check(c, header, &who) == -1); /* its owner is disabled */
    srv_db_release(db, c);
    srv_db_close(db);
    unlink(path);
}

static void test_passwords(void)
{
    char hash[256], pw[SRV_PASSWORD_CHARS + 1], pw2[SRV_PASSWORD_CHARS + 1];
    CHECK(srv_user_name_valid("dr-ada") && srv_user_name_valid("a") &&
          srv_user_name_valid("x.y_z"));
    CHECK(!srv_user_name_valid("") && !srv_user_name_valid("Ada") && !srv_user_name_valid("-ada") &&
          !srv_user_name_valid("a b") && !srv_user_name_valid(NULL));
    CHECK(srv_password_policy("ada", "short") != NULL);
    CHECK(srv_password_policy("ada", "eleven-char") != NULL);
    CHECK(srv_password_policy("ada", "twelve-chars") == NULL);
    CHECK(srv_password_policy("ada", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9x") !=
          NULL);                                                        /* 6 chars, 11 bytes */
    CHECK(srv_password_policy("dr-ada", "my-DR-ADA-password") != NULL); /* contains the name */
    CHECK(srv_password_policy("ada", "Password1234") != NULL);          /* common */
    CHECK(srv_password_policy("ada", "aaaaaaaaaaaaaaaa") != NULL);      /* one character */
    srv_password_generate(pw);
    srv_password_generate(pw2);
    CHECK(strlen(pw) == SRV_PASSWORD_CHARS && strcmp(pw, pw2) != 0);
    CHECK(srv_password_policy("admin", pw) == NULL);
    CHECK(srv_password_hash(pw, hash, sizeof hash) == 0 && !strncmp(hash, "$argon2id$", 10));
    CHECK(!strstr(hash, pw));
    CHECK(srv_password_verify(hash, pw) == 0);
    CHECK(srv_password_verify(hash, pw2) == -1);
    CHECK(srv_password_verify(NULL, pw) == -1); /* an unknown user never matches */
}

static void test_sessions(const char *path)
{
    char err[512], pw[SRV_PASSWORD_CHARS + 1], cookie[65], csrf[65], got_csrf[65], hash[65];
    int64_t sid = 0;
    srv_caller who;
    srv_config cfg = {.session_idle = 1800, .session_max = 43200, .signin_max_failures = 3};
    unlink(path);
    srv_db *db = srv_db_open(path, 2, err, sizeof err);
    CHECK(db != NULL);
    if (!db)
        return;
    sqlite3 *c = srv_db_acquire(db);
    CHECK(srv_users_bootstrap(c, pw) == 1 && strlen(pw) == SRV_PASSWORD_CHARS);
    CHECK(srv_users_bootstrap(c, pw) == 0); /* once only */
    json_t *rows =
        srv_rows_query_new(c, "SELECT must_change, role FROM users WHERE name = 'admin'", NULL);
    CHECK(json_array_size(rows) == 1 &&
          json_integer_value(json_object_get(json_array_get(rows, 0), "must_change")) == 1);
    json_decref(rows);
    int64_t uid = 0;
    CHECK(srv_user_create(c, "admin", "viewer", "another-long-pw", &uid) == 1); /* name taken */
    CHECK(srv_user_create(c, "dr-ada", "clinician", "ada-first-pw-1", &uid) == 0);
    CHECK(srv_session_create(c, uid, "127.0.0.1", cookie, csrf, &sid) == 0 && strlen(cookie) == 64);
    srv_sha256_hex(cookie, 64, hash);
    json_t *key = json_string(hash), *row = NULL;
    CHECK(srv_row_find(c, "sessions", "hash", key, &row) == SRV_OK); /* only the hash is stored */
    json_decref(row);
    json_decref(key);
    CHECK(srv_session_check(c, &cfg, cookie, &who, got_csrf) == 0 && who.session_id == sid &&
          who.user_id == uid && who.role == SRV_ROLE_CLINICIAN && !strcmp(who.name, "dr-ada") &&
          who.must_change == 1 && !strcmp(got_csrf, csrf));
    CHECK(srv_session_alive(c, sid, SRV_ROLE_CLINICIAN) == 1);
    CHECK(srv_session_alive(c, sid, SRV_ROLE_ADMIN) == 0); /* a role change ends it */
    CHECK(srv_session_check(c, &cfg, "00", &who, got_csrf) == -1);
    /* Idle: the last request 2000 s ago; absolute: signed in 50000 s ago. */
    sqlite3_exec(c, "UPDATE sessions SET last_seen_unix = last_seen_unix - 2000", NULL, NULL, NULL);
    CHECK(srv_session_check(c, &cfg, cookie, &who, got_csrf) == -1);
    sqlite3_exec(c,
                 "UPDATE sessions SET last_seen_unix = last_seen_unix + 2000, "
                 "created_unix = created_unix - 50000",
                 NULL, NULL, NULL);
    CHECK(srv_session_check(c, &cfg, cookie, &who, got_csrf) == -1);
    sqlite3_exec(c, "UPDATE sessions SET created_unix = created_unix + 50000", NULL, NULL, NULL);
    CHECK(srv_session_check(c, &cfg, cookie, &who, got_csrf) == 0);
    CHECK(srv_session_end_user(c, uid, sid) == 0 &&
          srv_session_alive(c, sid, SRV_ROLE_CLINICIAN) == 1);
    CHECK(srv_session_end(c, sid) == 0 && srv_session_check(c, &cfg, cookie, &who, got_csrf) == -1);
    CHECK(srv_session_alive(c, sid, SRV_ROLE_CLINICIAN) == 0);

    /* The throttle: 3 free failures, then a wait, then the lock at max_failures (3 here). */
    int retry = -1;
    CHECK(srv_signin_gate_check(c, "dr-ada", "10.0.0.1", 3, &retry) == SRV_SIGNIN_GO && retry == 0);
    CHECK(srv_signin_failed(c, "dr-ada", "10.0.0.1") == 1);
    CHECK(srv_signin_failed(c, "dr-ada", "10.0.0.1") == 2);
    CHECK(srv_signin_gate_check(c, "dr-ada", "10.0.0.1", 5, &retry) == SRV_SIGNIN_GO);
    CHECK(srv_signin_failed(c, "dr-ada", "10.0.0.1") == 3);
    CHECK(srv_signin_gate_check(c, "dr-ada", "10.0.0.1", 5, &retry) == SRV_SIGNIN_WAIT &&
          retry == 1);
    CHECK(srv_signin_gate_check(c, "dr-ada", "10.0.0.1", 3, &retry) == SRV_SIGNIN_LOCKED);
    CHECK(srv_signin_gate_check(c, "nobody", "10.0.0.2", 3, &retry) == SRV_SIGNIN_GO);
    CHECK(srv_signin_clear(c, "dr-ada") == 0);
    CHECK(srv_signin_gate_check(c, "dr-ada", "10.0.0.1", 3, &retry) == SRV_SIGNIN_GO);
    srv_db_release(db, c);
    srv_db_close(db);
    unlink(path);
}

int main(void)
{
    srv_log_threshold = SRV_LOG_ERROR;
    test_tokens(rw_test_path(RW_BUILD_DIR, "test_auth.db"));
    test_passwords();
    test_sessions(rw_test_path(RW_BUILD_DIR, "test_auth_sessions.db"));
    DONE();
}
