/* Unit tests of the daemon's infrastructure: SHA-256 (NIST vectors), date parsing, config
 * precedence, migrations on a temporary SQLite file, route matching, tokens and validation. */
#include "core/date.h"
#include "server/auth.h"
#include "server/db.h"
#include "server/log.h"
#include "server/migrate.h"
#include "server/options.h"
#include "server/router.h"
#include "server/sha256.h"
#include "server/validate.h"
#include "tests/unit/harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char tmpdir[256];

static int sha_is(const char *msg, const char *want)
{
    char hex[65];
    srv_sha256_hex(msg, strlen(msg), hex);
    return strcmp(hex, want) == 0;
}

static void test_sha256(void)
{
    /* FIPS 180-2 appendix B and the empty message. */
    CHECK(sha_is("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    CHECK(sha_is("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    CHECK(sha_is("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
    /* One million 'a', fed in uneven pieces to exercise the buffering across blocks. */
    srv_sha256 s;
    uint8_t d[32];
    char hex[65], chunk[997];
    memset(chunk, 'a', sizeof chunk);
    srv_sha256_init(&s);
    size_t left = 1000000;
    for (size_t k = 1; left; k = k % 900 + 7) {
        size_t n = k < left ? k : left;
        srv_sha256_update(&s, chunk, n);
        left -= n;
    }
    srv_sha256_final(&s, d);
    srv_sha256_to_hex(d, hex);
    CHECK(!strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
    /* Lengths around the padding boundary (55, 56, 64 bytes) agree between one-shot and split. */
    for (size_t n = 54; n <= 65; n++) {
        char one[65], two[65];
        srv_sha256_hex(chunk, n, one);
        srv_sha256_init(&s);
        srv_sha256_update(&s, chunk, n / 3);
        srv_sha256_update(&s, chunk, n - n / 3);
        srv_sha256_final(&s, d);
        srv_sha256_to_hex(d, two);
        CHECK(!strcmp(one, two));
    }
}

/* A request that is never sent: the validators park their answers in it. */
static void reset_req(srv_request *req)
{
    if (req->response)
        MHD_destroy_response(req->response);
    for (int i = 0; i < req->nparams; i++)
        free(req->params[i]);
    memset(req, 0, sizeof *req);
}

static void test_dates(void)
{
    int32_t d = -1;
    CHECK(rw_date_parse("1970-01-01", &d) == 0 && d == 0);
    CHECK(rw_date_parse("2000-03-01", &d) == 0 && d == 10957 + 31 + 29);
    CHECK(rw_date_parse("2024-02-29", &d) == 0);  /* leap year */
    CHECK(rw_date_parse("2000-02-29", &d) == 0);  /* divisible by 400 */
    CHECK(rw_date_parse("1900-02-29", &d) == -1); /* by 100, not 400 */
    CHECK(rw_date_parse("2023-02-29", &d) == -1);
    CHECK(rw_date_parse("2021-04-31", &d) == -1);
    CHECK(rw_date_parse("2021-12-31", &d) == 0);
    CHECK(rw_date_parse("2021-13-01", &d) == -1);
    CHECK(rw_date_parse("2021-00-10", &d) == -1);
    CHECK(rw_date_parse("2021-01-00", &d) == -1);
    CHECK(rw_date_parse("2021-1-01", &d) == -1);
    CHECK(rw_date_parse("2021-01-01T00:00", &d) == -1);
    CHECK(rw_date_parse("21-01-2021", &d) == -1);
    CHECK(rw_date_parse("", &d) == -1);
    CHECK(rw_date_parse(NULL, &d) == -1);

    /* Against the C library's calendar: today parses to srv_today(), tomorrow is refused. */
    char today[16], tomorrow[16];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(today, sizeof today, "%Y-%m-%d", &tm);
    t += 86400;
    gmtime_r(&t, &tm);
    strftime(tomorrow, sizeof tomorrow, "%Y-%m-%d", &tm);
    CHECK(rw_date_parse(today, &d) == 0 && d == srv_today());

    srv_request req = {0};
    json_t *obj =
        json_pack("{s:s, s:s, s:s, s:i}", "a", today, "b", tomorrow, "c", "2023-02-29", "n", 3);
    const char *s = NULL;
    int present = 0;
    CHECK(srv_get_date(&req, obj, "a", 1, &s, &d, &present) == 0 && present && !req.answered);
    CHECK(srv_get_date(&req, obj, "b", 1, &s, &d, &present) == -1 && req.status == 422);
    reset_req(&req);
    CHECK(srv_get_date(&req, obj, "c", 1, &s, &d, &present) == -1 && req.status == 422);
    reset_req(&req);
    CHECK(srv_get_date(&req, obj, "n", 1, &s, &d, &present) == -1 && req.status == 422);
    reset_req(&req);
    CHECK(srv_get_date(&req, obj, "absent", 0, &s, &d, &present) == 0 && !present && !s);
    CHECK(srv_get_date(&req, obj, "absent", 1, &s, &d, &present) == -1 && req.status == 422);
    reset_req(&req);

    /* The other validators: unknown fields, types, enums, ranges. */
    static const char *const allowed[] = {"a", "b", "c", "n", NULL};
    static const char *const few[] = {"a", NULL};
    static const char *const colours[] = {"red", "green", NULL};
    CHECK(srv_check_fields(&req, obj, allowed) == 0 && !req.answered);
    CHECK(srv_check_fields(&req, obj, few) == -1 && req.status == 422);
    reset_req(&req);
    json_t *o2 = json_pack("{s:s, s:f, s:b, s:n}", "colour", "blue", "x", 2.5, "flag", 1, "nul");
    const char *e;
    int64_t i64;
    double x;
    int b;
    CHECK(srv_get_enum(&req, o2, "colour", 1, colours, &e) == -1 && req.status == 422);
    reset_req(&req);
    CHECK(srv_get_int(&req, o2, "x", 1, 0, 10, &i64, NULL) == -1 && req.status == 422);
    reset_req(&req);
    CHECK(srv_get_number(&req, o2, "x", 1, 0, 10, &x, NULL) == 0 && x == 2.5);
    CHECK(srv_get_number(&req, o2, "x", 1, 3, 10, &x, NULL) == -1 && req.status == 422);
    reset_req(&req);
    CHECK(srv_get_bool(&req, o2, "flag", 1, &b, NULL) == 0 && b == 1);
    CHECK(srv_get_string(&req, o2, "nul", 0, 0, &s) == 0 && s == NULL); /* null = absent */
    CHECK(srv_get_string(&req, o2, "x", 1, 0, &s) == -1 && req.status == 422);
    reset_req(&req);
    json_decref(o2);
    json_decref(obj);
}

static void test_config(void)
{
    char path[300];
    srv_config cfg;
    snprintf(path, sizeof path, "%s/rw.conf", tmpdir);
    FILE *f = fopen(path, "w");
    fprintf(f, "# a comment\n\nthreads = 3\nlisten = 10.0.0.1:9000\nmax-body = 2M\n"
               "log-level = debug\ndb = \"/tmp/quoted path.db\"\n");
    fclose(f);

    char *a0[] = {"relapsewatchd", NULL};
    CHECK(srv_config_load(&cfg, 1, a0) == 0);
    CHECK(cfg.threads == 4 && cfg.workers == 2 && !strcmp(cfg.listen, "127.0.0.1:8080"));
    CHECK(cfg.max_body == 1048576 && cfg.max_upload == (int64_t)4 << 30 && cfg.log_level == 1);
    srv_config_free(&cfg);

    /* File over defaults, flags over file, in either order of --config among the flags. */
    char *a1[] = {"relapsewatchd", "--threads", "5", "--config", path, "--workers=7", NULL};
    CHECK(srv_config_load(&cfg, 6, a1) == 0);
    CHECK(cfg.threads == 5);                            /* flag beats file */
    CHECK(!strcmp(cfg.listen, "10.0.0.1:9000"));        /* file beats default */
    CHECK(cfg.workers == 7);                            /* flag beats default */
    CHECK(cfg.max_body == 2 * 1048576);                 /* size suffix */
    CHECK(cfg.log_level == 0);                          /* from the file */
    CHECK(!strcmp(cfg.db_path, "/tmp/quoted path.db")); /* quotes stripped */
    srv_config_free(&cfg);

    char *a2[] = {"relapsewatchd", "--threads", "0", NULL}; /* below the minimum */
    CHECK(srv_config_load(&cfg, 3, a2) == -1);
    char *a3[] = {"relapsewatchd", "--no-such-flag", NULL};
    CHECK(srv_config_load(&cfg, 2, a3) == -1);
    char *a4[] = {"relapsewatchd", "--max-body", "12Q", NULL};
    CHECK(srv_config_load(&cfg, 3, a4) == -1);
    f = fopen(path, "w");
    fprintf(f, "thread = 3\n"); /* misspelt key: refused, not ignored */
    fclose(f);
    char *a5[] = {"relapsewatchd", "--config", path, NULL};
    CHECK(srv_config_load(&cfg, 3, a5) == -1);
    char *a6[] = {"relapsewatchd", "--log-level", "warn", NULL};
    CHECK(srv_config_load(&cfg, 3, a6) == 0 && cfg.log_level == 2);
    srv_config_free(&cfg);
    unlink(path);
}

static int count_rows(sqlite3 *c, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int n = -1;
    if (sqlite3_prepare_v2(c, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

static void test_migrations(void)
{
    char path[300], err[512] = "", sql[128];
    sqlite3 *c = NULL;
    snprintf(path, sizeof path, "%s/m.db", tmpdir);
    CHECK(srv_migrations_count >= 2);
    int last = srv_migrations[srv_migrations_count - 1].number;
    CHECK(sqlite3_open(path, &c) == SQLITE_OK);
    CHECK(srv_migrate(c, err, sizeof err) == 0);
    CHECK(count_rows(c, "SELECT count(*) FROM schema_migrations") == srv_migrations_count);
    CHECK(count_rows(c, "PRAGMA user_version") == last);
    CHECK(count_rows(c, "SELECT count(*) FROM sqlite_master WHERE name = 'tokens'") == 1);
    CHECK(count_rows(c, "SELECT count(*) FROM sqlite_master WHERE name = 'audit_log'") == 1);
    /* Idempotent: a second run applies nothing. */
    CHECK(srv_migrate(c, err, sizeof err) == 0);
    CHECK(count_rows(c, "SELECT count(*) FROM schema_migrations") == srv_migrations_count);
    /* A database written by a newer binary is refused, by user_version or by its rows. */
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", last + 1);
    sqlite3_exec(c, sql, NULL, NULL, NULL);
    err[0] = '\0';
    CHECK(srv_migrate(c, err, sizeof err) == -1 && strstr(err, "newer"));
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", last);
    sqlite3_exec(c, sql, NULL, NULL, NULL);
    CHECK(srv_migrate(c, err, sizeof err) == 0);
    snprintf(sql, sizeof sql,
             "INSERT INTO schema_migrations VALUES (%d, 'future', '2099-01-01T00:00:00Z')",
             last + 1);
    sqlite3_exec(c, sql, NULL, NULL, NULL);
    CHECK(srv_migrate(c, err, sizeof err) == -1);
    sqlite3_close(c);
    /* srv_db_open refuses it too, and frees everything on the way out. */
    CHECK(srv_db_open(path, 2, err, sizeof err) == NULL && strstr(err, "newer"));
    unlink(path);
}

static void test_routes(void)
{
    srv_request req = {0};
    int known = -1;
    const srv_route *r = srv_route_find(&req, "GET", "/api/v1/health", &known);
    CHECK(r && !strcmp(r->path, "/api/v1/health") && (r->roles & SRV_ROLE_PUBLIC));
    CHECK(srv_route_find(&req, "HEAD", "/api/v1/health", &known) == r);
    /* Template capture, URL-decoded: "%2F" stays inside its segment. */
    r = srv_route_find(&req, "DELETE", "/api/v1/tokens/42", &known);
    CHECK(r && !strcmp(r->path, "/api/v1/tokens/{id}") && req.nparams == 1 &&
          !strcmp(req.params[0], "42"));
    r = srv_route_find(&req, "DELETE", "/api/v1/tokens/a%2Fb%20c", &known);
    CHECK(r && req.nparams == 1 && !strcmp(req.params[0], "a/b c"));
    int64_t id;
    CHECK(srv_param_id(&req, 0, &id) == -1 && req.status == 404);
    reset_req(&req);
    /* 405: known path, wrong method; the Allow list names the right ones. */
    CHECK(srv_route_find(&req, "PATCH", "/api/v1/tokens/42", &known) == NULL && known == 1);
    char allow[128];
    CHECK(
        !strcmp(srv_route_allow("/api/v1/tokens/42", allow, sizeof allow), "/api/v1/tokens/{id}"));
    CHECK(!strcmp(allow, "DELETE"));
    CHECK(srv_route_allow("/api/v1/tokens", allow, sizeof allow) && strstr(allow, "GET") &&
          strstr(allow, "POST") && strstr(allow, "HEAD"));
    /* 404: unknown, one segment too many or too few, empty capture, bad escape. */
    CHECK(srv_route_find(&req, "GET", "/api/v1/nothing", &known) == NULL && known == 0);
    CHECK(srv_route_find(&req, "GET", "/api/v1/health/x", &known) == NULL && known == 0);
    CHECK(srv_route_find(&req, "DELETE", "/api/v1/tokens/", &known) == NULL && known == 0);
    CHECK(srv_route_find(&req, "DELETE", "/api/v1/tokens/a%2", &known) == NULL);
    CHECK(srv_route_find(&req, "DELETE", "/api/v1/tokens/%00", &known) == NULL);
    CHECK(srv_route_find(&req, "GET", "/api/v1/health/", &known) == NULL);
    reset_req(&req);
    /* Every table: a sentinel at the end, a handler on every row, roles given. */
    int rows = 0, bad = 0;
    for (const srv_route *const *t = srv_all_routes; *t; t++)
        for (const srv_route *x = *t; x->method; x++, rows++)
            bad += !x->handler || !x->roles || x->path[0] != '/';
    CHECK(rows >= 5 && bad == 0);

    char *s = srv_url_decode("a+b%41", 6, 1);
    CHECK(s && !strcmp(s, "a bA"));
    free(s);
    s = srv_url_decode("a+b", 3, 0);
    CHECK(s && !strcmp(s, "a+b"));
    free(s);
}

static void test_tokens(void)
{
    char path[300], err[512], secret[65], hash[65];
    int64_t id = 0;
    srv_caller who;
    snprintf(path, sizeof path, "%s/t.db", tmpdir);
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
    char q[200];
    snprintf(q, sizeof q, "SELECT count(*) FROM tokens WHERE hash = '%s'", hash);
    CHECK(count_rows(c, q) == 1);
    CHECK(count_rows(c, "SELECT count(*) FROM audit_log WHERE entity_type = 'token'") == 1);
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
    srv_db_release(db, c);
    srv_db_close(db);
    unlink(path);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "%s/rwsrv.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir))
        SKIP("cannot create a temporary folder");
    srv_log_threshold = SRV_LOG_ERROR;
    test_sha256();
    test_dates();
    test_config();
    test_migrations();
    test_routes();
    test_tokens();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd))
        fprintf(stderr, "could not remove %s\n", tmpdir);
    DONE();
}
