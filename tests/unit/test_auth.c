/* Unit tests of server/auth: the bootstrap admin token, only its hash stored, Bearer parsing,
 * roles, unknown and revoked tokens. */
#include "server/auth.h"
#include "server/db.h"
#include "server/log.h"
#include "server/rows.h"
#include "server/sha256.h"
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
    srv_db_release(db, c);
    srv_db_close(db);
    unlink(path);
}

int main(void)
{
    srv_log_threshold = SRV_LOG_ERROR;
    test_tokens(rw_test_path(RW_BUILD_DIR, "test_auth.db"));
    DONE();
}
