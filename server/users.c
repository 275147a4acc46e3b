/* People's accounts: Argon2id password hashes, the password policy, account rows, sign-in
 * failure counters and the first admin account. The database never holds a password, only
 * libsodium's self-describing hash strings (algorithm, cost and salt inside). */
#include "server/users.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "server/audit.h"
#include "server/db.h"
#include "server/log.h"

/* Argon2id's cost: libsodium's interactive limits (64 MiB, ~0.1 s). A fuzzing build (the
 * macro libFuzzer campaigns conventionally define) uses the minimum, so the fuzzer spends its
 * time in the code around the hash, not in the hash. */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define PWHASH_OPS crypto_pwhash_OPSLIMIT_MIN
#define PWHASH_MEM crypto_pwhash_MEMLIMIT_MIN
#else
#define PWHASH_OPS crypto_pwhash_OPSLIMIT_INTERACTIVE
#define PWHASH_MEM crypto_pwhash_MEMLIMIT_INTERACTIVE
#endif

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_status = -1;
/* A real hash of a random password: verifying against it costs what a real check costs. */
static char dummy_hash[crypto_pwhash_STRBYTES];

static void init_sodium(void)
{
    char pw[SRV_PASSWORD_CHARS + 1];
    if (sodium_init() < 0)
        return;
    srv_password_generate(pw);
    if (crypto_pwhash_str(dummy_hash, pw, strlen(pw), PWHASH_OPS, PWHASH_MEM) == 0)
        sodium_status = 0;
    sodium_memzero(pw, sizeof pw);
}

int srv_users_init(void)
{
    pthread_once(&sodium_once, init_sodium);
    if (sodium_status)
        srv_log(SRV_LOG_ERROR, "libsodium could not be initialised");
    return sodium_status;
}

int srv_user_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n < 1 || n > 63 ||
        !((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9')))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* The most used passwords of 12 characters or more in public breach lists, and the ones this
 * application invites; compared without regard to case. */
static const char *const common_passwords[] = {
    "123456789012",     "1234567890123", "12345678901234", "123456123456",  "qwertyuiopas",
    "qwertyuiop123",    "qwerty123456",  "password1234",   "password12345", "password123456",
    "passwordpassword", "Password1234!", "iloveyou1234",   "111111111111",  "000000000000",
    "abcdefghijkl",     "abc123abc123",  "1q2w3e4r5t6y",   "letmein12345",  "welcome12345",
    "changeme1234",     "administrator", "relapsewatch",   "relapsewatch1", "relapsewatch123",
    "trustno1trustno1", "monkey123456",  "dragon123456",   "football1234",  "sunshine1234",
};

const char *srv_password_policy(const char *name, const char *password)
{
    size_t bytes = strlen(password), chars = 0;
    for (size_t i = 0; i < bytes; i++)
        chars += ((unsigned char)password[i] & 0xC0) != 0x80; /* count UTF-8 lead bytes */
    if (chars < SRV_PASSWORD_MIN)
        return "the password must have at least 12 characters";
    if (bytes > SRV_PASSWORD_MAX)
        return "the password must have at most 1024 bytes";
    if (name && strlen(name) >= 3 && strcasestr(password, name))
        return "the password must not contain the user name";
    for (size_t i = 0; i < sizeof common_passwords / sizeof common_passwords[0]; i++)
        if (strcasecmp(common_passwords[i], password) == 0)
            return "this password is one of the most common ones: choose another";
    size_t same = 1;
    while (same < bytes && password[same] == password[0])
        same++;
    if (same == bytes)
        return "the password must not repeat one character";
    return NULL;
}

void srv_password_generate(char *out)
{
    /* No 0/O, 1/l/I: read aloud or copied from paper without doubt. */
    static const char alphabet[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    for (int i = 0; i < SRV_PASSWORD_CHARS; i++)
        out[i] = alphabet[randombytes_uniform(sizeof alphabet - 1)];
    out[SRV_PASSWORD_CHARS] = '\0';
}

int srv_password_hash(const char *password, char *out, size_t outlen)
{
    if (srv_users_init() || outlen < crypto_pwhash_STRBYTES)
        return -1;
    return crypto_pwhash_str(out, password, strlen(password), PWHASH_OPS, PWHASH_MEM) == 0 ? 0 : -1;
}

int srv_password_verify(const char *hash, const char *password)
{
    if (srv_users_init())
        return -1;
    int rc = crypto_pwhash_str_verify(hash ? hash : dummy_hash, password, strlen(password));
    return hash && rc == 0 ? 0 : -1;
}

int srv_user_create(sqlite3 *conn, const char *name, const char *role, const char *password,
                    int64_t *id)
{
    char hash[crypto_pwhash_STRBYTES];
    int rc = -1;
    if (srv_password_hash(password, hash, sizeof hash))
        return -1;
    sqlite3_stmt *st = srv_db_prepare(
        conn, "INSERT INTO users (name, role, password_hash, must_change) VALUES (?, ?, ?, 1)");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, role, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, hash, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_DONE) {
        *id = sqlite3_last_insert_rowid(conn);
        rc = 0;
    } else if (sqlite3_extended_errcode(conn) == SQLITE_CONSTRAINT_UNIQUE) {
        rc = 1;
    } else {
        srv_log(SRV_LOG_ERROR, "user insert failed: %s", sqlite3_errmsg(conn));
    }
    sqlite3_finalize(st);
    return rc;
}

int srv_user_set_password(sqlite3 *conn, int64_t id, const char *password, int must_change)
{
    char hash[crypto_pwhash_STRBYTES];
    int rc = -1;
    if (srv_password_hash(password, hash, sizeof hash))
        return -1;
    sqlite3_stmt *st =
        srv_db_prepare(conn, "UPDATE users SET password_hash = ?, must_change = ?, "
                             "updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?");
    if (st) {
        sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, must_change ? 1 : 0);
        sqlite3_bind_int64(st, 3, id);
        rc = sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(conn) == 1 ? 0 : -1;
    }
    sqlite3_finalize(st);
    return rc;
}

int srv_users_bootstrap(sqlite3 *conn, char *password)
{
    int64_t id = 0;
    int count = -1;
    if (srv_users_init() || srv_db_begin(conn))
        return -1;
    sqlite3_stmt *st = srv_db_prepare(conn, "SELECT count(*) FROM users");
    if (st && sqlite3_step(st) == SQLITE_ROW)
        count = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (count != 0) {
        srv_db_rollback(conn);
        return count > 0 ? 0 : -1;
    }
    srv_password_generate(password);
    json_t *details = json_pack("{s:s, s:s}", "name", "admin", "role", "admin");
    int bad = srv_user_create(conn, "admin", "admin", password, &id) != 0 ||
              srv_audit_write(conn, "system", 0, "create", "user", id, details) ||
              srv_db_commit(conn);
    json_decref(details);
    if (bad) {
        srv_db_rollback(conn);
        sodium_memzero(password, SRV_PASSWORD_CHARS + 1);
        return -1;
    }
    srv_log(SRV_LOG_INFO,
            "created the initial admin account 'admin' (id %lld), its password "
            "printed on stdout",
            (long long)id);
    return 1;
}

/* ---------------------------------------------------------------- sign-in throttling */

/* Failures and the last failure's time of (kind, key); 0 failures when there is no row. */
static int failures_of(sqlite3 *conn, const char *kind, const char *key, int *n, double *last)
{
    sqlite3_stmt *st = srv_db_prepare(
        conn, "SELECT failures, last_failed_unix FROM signin_failures WHERE kind = ? AND key = ?");
    int rc = -1, step;
    *n = 0;
    *last = 0;
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    if ((step = sqlite3_step(st)) == SQLITE_ROW) {
        *n = sqlite3_column_int(st, 0);
        *last = sqlite3_column_double(st, 1);
    }
    if (step == SQLITE_ROW || step == SQLITE_DONE)
        rc = 0;
    sqlite3_finalize(st);
    return rc;
}

/* Seconds still to wait after `failures` failures of which `free_ones` cost nothing, the last at
 * `last`; the wait doubles from 1 s up to cap. */
static int wait_left(int failures, int free_ones, double last, double now, int cap)
{
    if (failures < free_ones)
        return 0;
    int shift = failures - free_ones;
    double wait = shift >= 20 ? cap : (double)(1 << shift);
    if (wait > cap)
        wait = cap;
    double left = last + wait - now;
    return left > 0 ? (int)ceil(left) : 0;
}

/* The wall clock in seconds, with its fraction. */
static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

srv_signin_gate srv_signin_gate_check(sqlite3 *conn, const char *name, const char *address,
                                      int max_failures, int *retry_after)
{
    int n_name, n_addr;
    double last_name, last_addr, now = now_seconds();
    *retry_after = 0;
    if (failures_of(conn, "name", name, &n_name, &last_name) ||
        failures_of(conn, "address", address, &n_addr, &last_addr))
        return SRV_SIGNIN_ERROR;
    if (n_name >= max_failures)
        return SRV_SIGNIN_LOCKED;
    if (now - last_addr > 3600)
        n_addr = 0;
    int a = wait_left(n_name, SRV_SIGNIN_FREE, last_name, now, 300);
    int b = wait_left(n_addr, SRV_SIGNIN_FREE_ADDRESS, last_addr, now, 900);
    *retry_after = a > b ? a : b;
    return *retry_after > 0 ? SRV_SIGNIN_WAIT : SRV_SIGNIN_GO;
}

int srv_signin_failed(sqlite3 *conn, const char *name, const char *address)
{
    double now = now_seconds(), last;
    int n = -1;
    /* An address silent for an hour starts again from one. */
    sqlite3_stmt *st = srv_db_prepare(
        conn, "INSERT INTO signin_failures (kind, key, failures, last_failed_unix) "
              "VALUES (?1, ?2, 1, ?3) ON CONFLICT (kind, key) DO UPDATE SET "
              "failures = CASE WHEN kind = 'address' AND ?3 - last_failed_unix > 3600 THEN 1 "
              "ELSE failures + 1 END, last_failed_unix = ?3");
    if (!st)
        return -1;
    for (int i = 0; i < 2; i++) {
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, i ? "address" : "name", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, i ? address : name, -1, SQLITE_STATIC);
        sqlite3_bind_double(st, 3, now);
        if (sqlite3_step(st) != SQLITE_DONE) {
            sqlite3_finalize(st);
            return -1;
        }
    }
    sqlite3_finalize(st);
    if (failures_of(conn, "name", name, &n, &last))
        return -1;
    return n;
}

int srv_signin_clear(sqlite3 *conn, const char *name)
{
    sqlite3_stmt *st =
        srv_db_prepare(conn, "DELETE FROM signin_failures WHERE kind = 'name' AND key = ?");
    int rc = -1;
    if (st) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    }
    sqlite3_finalize(st);
    return rc;
}
