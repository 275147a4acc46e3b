/* Schema migrations: applies the embedded srv_migrations[] in order, each in its own transaction
 * together with its schema_migrations row and user_version, so a crash leaves either the old or
 * the new schema, never half of one. The migration files must not contain BEGIN/COMMIT. Before
 * changing a database that already holds data, a copy of it is taken (srv_migrate_backup_to);
 * a migration that needs code (hashing rows) runs it in its own transaction, after its SQL. */
#include "server/migrate.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "server/audit.h"
#include "server/backup.h"
#include "server/log.h"

/* Where the copy taken before a migration goes; NULL for none (unit tests). */
static const char *backup_parent;

void srv_migrate_backup_to(const char *dir)
{
    backup_parent = dir;
}

/* Steps in C that follow a migration's SQL inside its transaction. */
static const struct {
    int number;
    int (*run)(sqlite3 *conn);
} code_steps[] = {
    {7, srv_audit_chain_existing}, /* chain the audit rows written before 007 */
};

static int run_code_steps(sqlite3 *conn, int number)
{
    for (size_t i = 0; i < sizeof code_steps / sizeof code_steps[0]; i++)
        if (code_steps[i].number == number && code_steps[i].run(conn))
            return -1;
    return 0;
}

static int exec(sqlite3 *conn, const char *sql, char *err, size_t errlen, const char *what)
{
    char *msg = NULL;
    if (sqlite3_exec(conn, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", what, msg ? msg : sqlite3_errmsg(conn));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* One integer from a one-row query; -1 on error. */
static int query_int(sqlite3 *conn, const char *sql, int *out)
{
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(conn, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        *out = sqlite3_column_int(st, 0);
        rc = 0;
    }
    sqlite3_finalize(st);
    return rc;
}

static void now_iso(char *buf, size_t n)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int apply(sqlite3 *conn, const srv_migration *m, char *err, size_t errlen)
{
    char what[128], sql[128], now[32];
    snprintf(what, sizeof what, "migration %s", m->name);
    if (exec(conn, "BEGIN IMMEDIATE", err, errlen, what))
        return -1;
    /* Another process may have applied it between our check and our lock: check again. */
    sqlite3_stmt *st = NULL;
    int done = 0;
    if (sqlite3_prepare_v2(conn, "SELECT 1 FROM schema_migrations WHERE number = ?", -1, &st,
                           NULL) != SQLITE_OK)
        goto fail_sql;
    sqlite3_bind_int(st, 1, m->number);
    done = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    st = NULL;
    if (done)
        return exec(conn, "COMMIT", err, errlen, what);
    if (exec(conn, m->sql, err, errlen, what))
        goto fail;
    if (run_code_steps(conn, m->number)) {
        snprintf(err, errlen, "%s: its data step failed: %s", what, sqlite3_errmsg(conn));
        goto fail;
    }
    now_iso(now, sizeof now);
    if (sqlite3_prepare_v2(conn,
                           "INSERT INTO schema_migrations (number, name, applied_at) "
                           "VALUES (?, ?, ?)",
                           -1, &st, NULL) != SQLITE_OK)
        goto fail_sql;
    sqlite3_bind_int(st, 1, m->number);
    sqlite3_bind_text(st, 2, m->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, now, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        goto fail_sql;
    sqlite3_finalize(st);
    st = NULL;
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", m->number);
    if (exec(conn, sql, err, errlen, what) || exec(conn, "COMMIT", err, errlen, what))
        goto fail;
    srv_log(SRV_LOG_INFO, "applied migration %s", m->name);
    return 0;
fail_sql:
    snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(conn));
fail:
    sqlite3_finalize(st);
    if (!sqlite3_get_autocommit(conn))
        sqlite3_exec(conn, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

static int is_applied(sqlite3 *conn, int number)
{
    sqlite3_stmt *st = NULL;
    int done = 0;
    if (sqlite3_prepare_v2(conn, "SELECT 1 FROM schema_migrations WHERE number = ?", -1, &st,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_int(st, 1, number);
        done = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return done;
}

/* A copy of the database as it is, before the first pending migration touches it. */
static int backup_before(sqlite3 *conn, int applied, char *err, size_t errlen)
{
    char prefix[64], dir[4096], msg[512];
    srv_backup_info info;
    snprintf(prefix, sizeof prefix, "pre-migration-%03d", applied);
    if (srv_backup_new_dir(backup_parent, prefix, dir, sizeof dir, msg, sizeof msg) ||
        srv_backup_create(conn, NULL, dir, &info, msg, sizeof msg)) {
        snprintf(err, errlen, "not migrating: cannot back up the database first: %s", msg);
        return -1;
    }
    srv_log(SRV_LOG_INFO, "database backed up to %s before migrating it", dir);
    return 0;
}

int srv_migrate(sqlite3 *conn, char *err, size_t errlen)
{
    int known = 0, applied = 0, user_version = 0;
    for (int i = 0; i < srv_migrations_count; i++) {
        if (srv_migrations[i].number <= known) {
            snprintf(err, errlen, "embedded migrations out of order at %s (a build bug)",
                     srv_migrations[i].name);
            return -1;
        }
        known = srv_migrations[i].number;
    }
    if (exec(conn,
             "CREATE TABLE IF NOT EXISTS schema_migrations ("
             " number INTEGER PRIMARY KEY," /* NNN of schema/NNN_name.sql */
             " name TEXT NOT NULL,"
             " applied_at TEXT NOT NULL)", /* ISO 8601 UTC */
             err, errlen, "schema_migrations"))
        return -1;
    if (query_int(conn, "SELECT coalesce(max(number), 0) FROM schema_migrations", &applied) ||
        query_int(conn, "PRAGMA user_version", &user_version)) {
        snprintf(err, errlen, "cannot read the schema version: %s", sqlite3_errmsg(conn));
        return -1;
    }
    int newest = applied > user_version ? applied : user_version;
    if (newest > known) {
        snprintf(err, errlen,
                 "the database has schema version %d but this relapsewatchd knows only up to %d: "
                 "it was written by a newer relapsewatchd; upgrade instead of downgrading",
                 newest, known);
        return -1;
    }
    int pending = 0;
    for (int i = 0; i < srv_migrations_count; i++)
        pending += !is_applied(conn, srv_migrations[i].number);
    if (pending && applied > 0 && backup_parent && backup_before(conn, applied, err, errlen))
        return -1;
    /* Every migration not yet recorded, also one numbered below the newest applied (helpers
     * number their migrations apart: 006 may arrive after 007 was applied). */
    for (int i = 0; i < srv_migrations_count; i++)
        if (!is_applied(conn, srv_migrations[i].number) &&
            apply(conn, &srv_migrations[i], err, errlen))
            return -1;
    return 0;
}
