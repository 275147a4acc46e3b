/* Unit tests of server/audit: the hash chain on a migrated database. Rows appended inside and
 * outside a transaction chain one to the next; a verification finds the first changed row, a
 * deleted row and a deleted tail; rows written before schema 007 get chained by the migration;
 * the daemon's triggers refuse to change or delete a chained row. */
#include "server/audit.h"
#include "server/db.h"
#include "server/migrate.h"
#include "tests/unit/harness.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int exec(sqlite3 *c, const char *sql)
{
    return sqlite3_exec(c, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int64_t verify_broken(sqlite3 *c)
{
    srv_audit_check k;
    if (srv_audit_verify(c, &k))
        return -1;
    return k.ok ? 0 : k.broken_id;
}

/* Writes n rows: the even ones inside a transaction of the caller, the odd ones on their own. */
static void append_rows(sqlite3 *c, int n)
{
    for (int i = 0; i < n; i++) {
        json_t *d = json_pack("{s:i}", "i", i);
        int in_tx = i % 2 == 0;
        if (in_tx)
            CHECK(srv_db_begin(c) == 0);
        CHECK(srv_audit_write(c, "unit", 0, "create", "patient", i + 1, d) == 0);
        if (in_tx)
            CHECK(srv_db_commit(c) == 0);
        json_decref(d);
    }
}

/* A new database at path with every migration applied. */
static sqlite3 *open_migrated(const char *path)
{
    char err[512] = "";
    sqlite3 *c = NULL;
    unlink(path);
    CHECK(sqlite3_open(path, &c) == SQLITE_OK);
    CHECK(srv_migrate(c, err, sizeof err) == 0);
    return c;
}

static void test_chain(const char *path)
{
    sqlite3 *c = open_migrated(path);
    srv_audit_check k;
    CHECK(srv_audit_verify(c, &k) == 0 && k.ok && k.rows == 0);
    append_rows(c, 6);
    CHECK(srv_audit_verify(c, &k) == 0);
    CHECK(k.ok && k.rows == 6 && k.head_id == 6 && strlen(k.head_hash) == 64);

    /* the daemon's own rules */
    CHECK(exec(c, "UPDATE audit_log SET actor = 'x' WHERE id = 2") != 0);
    CHECK(exec(c, "DELETE FROM audit_log WHERE id = 2") != 0);
    CHECK(verify_broken(c) == 0);

    /* behind its back */
    CHECK(exec(c, "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete") == 0);
    CHECK(exec(c, "UPDATE audit_log SET details = '{\"i\":9}' WHERE id = 3") == 0);
    CHECK(verify_broken(c) == 3);
    CHECK(exec(c, "UPDATE audit_log SET details = '{\"i\":2}' WHERE id = 3") == 0);
    CHECK(verify_broken(c) == 0); /* the same content: the same hash */
    CHECK(exec(c, "UPDATE audit_log SET at = '2000-01-01T00:00:00Z' WHERE id = 4") == 0);
    CHECK(verify_broken(c) == 4);
    sqlite3_close(c);
}

static void test_deletions(const char *path)
{
    sqlite3 *c = open_migrated(path);
    srv_audit_check k;
    append_rows(c, 5);
    CHECK(exec(c, "DROP TRIGGER audit_log_no_delete") == 0);
    CHECK(exec(c, "DELETE FROM audit_log WHERE id = 5") == 0);
    CHECK(srv_audit_verify(c, &k) == 0 && !k.ok && k.broken_id == 5);
    CHECK(strstr(k.reason, "newest rows were deleted") != NULL);
    CHECK(exec(c, "DELETE FROM audit_log WHERE id = 2") == 0);
    CHECK(srv_audit_verify(c, &k) == 0 && !k.ok && k.broken_id == 2);
    CHECK(strstr(k.reason, "row 2 is missing") != NULL);
    sqlite3_close(c);
}

/* A log written before 007 (rows without hashes) is chained by the migration's code step. */
static void test_existing_rows(const char *path)
{
    sqlite3 *c = open_migrated(path);
    srv_audit_check k;
    CHECK(exec(c, "DROP TRIGGER audit_log_no_update; DELETE FROM audit_head; "
                  "INSERT INTO audit_log (actor, action, entity_type, entity_id, at) VALUES "
                  "('old', 'create', 'patient', 1, '2025-01-01T00:00:00Z'), "
                  "('old', 'update', 'patient', 1, '2025-01-02T00:00:00Z')") == 0);
    CHECK(srv_db_begin(c) == 0);
    CHECK(srv_audit_chain_existing(c) == 0);
    CHECK(srv_db_commit(c) == 0);
    CHECK(srv_audit_verify(c, &k) == 0 && k.ok && k.rows == 2);
    append_rows(c, 1);
    CHECK(srv_audit_verify(c, &k) == 0 && k.ok && k.rows == 3 && k.head_id == 3);
    sqlite3_close(c);
}

int main(void)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/rw_test_audit_%d.db", (int)getpid());
    test_chain(path);
    test_deletions(path);
    test_existing_rows(path);
    unlink(path);
    char wal[80];
    snprintf(wal, sizeof wal, "%s-wal", path);
    unlink(wal);
    snprintf(wal, sizeof wal, "%s-shm", path);
    unlink(wal);
    DONE();
}
