/* Unit tests of server/auth: the bootstrap admin token, only its hash stored, Bearer parsing,
 * roles, unknown and revoked tokens. */
#include "server/auth.h"
#include "server/db.h"
#include "server/log.h"
#include "server/sha256.h"
#include "tests/unit/harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[256];

static int count_rows(sqlite3 *c, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int n = -1;
    if (sqlite3_prepare_v2(c, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
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
    test_tokens();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd))
        fprintf(stderr, "could not remove %s\n", tmpdir);
    DONE();
}
