/* Unit tests of server/migrate and server/db: migrations on a temporary SQLite file apply once,
 * and a database written by a newer binary is refused (by user_version or by its rows), also by
 * srv_db_open. */
#include "server/db.h"
#include "server/log.h"
#include "server/migrate.h"
#include "tests/unit/harness.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int count_rows(sqlite3 *c, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int n = -1;
    if (sqlite3_prepare_v2(c, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

static void test_migrations(const char *path)
{
    char err[512] = "", sql[128];
    sqlite3 *c = NULL;
    unlink(path); /* left by an interrupted run */
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

int main(void)
{
    srv_log_threshold = SRV_LOG_ERROR;
    test_migrations(rw_test_path(RW_BUILD_DIR, "test_migrate.db"));
    DONE();
}
