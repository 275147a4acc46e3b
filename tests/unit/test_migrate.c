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

/* Schema 014 rebuilds outbox_events (a new event type) and 015 keys the HL7 deliveries: on a
 * store that holds events and deliveries made before them, ids and rows are kept, the links hold
 * and the keys are filled in. The store is brought to 013 by marking 014 and 015 applied (every
 * migration not recorded is applied, whatever its number), filled, then unmarked. */
static void test_outbox_upgrade(const char *path)
{
    char err[512] = "";
    sqlite3 *c = NULL;
    unlink(path);
    CHECK(sqlite3_open(path, &c) == SQLITE_OK);
    CHECK(sqlite3_exec(c,
                       "CREATE TABLE schema_migrations (number INTEGER PRIMARY KEY, name TEXT NOT "
                       "NULL, applied_at TEXT NOT NULL); INSERT INTO schema_migrations VALUES "
                       "(14, 'x', 'x'), (15, 'x', 'x')",
                       NULL, NULL, NULL) == SQLITE_OK);
    CHECK(srv_migrate(c, err, sizeof err) == 0);
    CHECK(count_rows(c, "SELECT count(*) FROM sqlite_master WHERE name = 'outbox_events'") == 1);
    CHECK(sqlite3_exec(
              c,
              "INSERT INTO patients (id, external_id, diagnosis_date) VALUES (7, 'P7', "
              "'2024-01-01');"
              "INSERT INTO samples (id, accession, patient_id, collected_at, received_at, assay) "
              "VALUES (9, 'S9', 7, '2024-02-01', '2024-02-01', 'bins');"
              "INSERT INTO outbox_events (id, type, patient_id, sample_id, alert_id, fanned_out) "
              "VALUES (40, 'result.ready', 7, 9, NULL, 1), (41, 'alert.raised', 7, 9, 3, 1), "
              "(42, 'job.failed', 7, 9, NULL, 0);"
              "INSERT INTO deliveries (id, event_id, channel, destination, body) VALUES "
              "(5, 40, 'hl7', 'h:1', 'MSH|a'), (6, 41, 'hl7', 'h:1', 'MSH|b');"
              "DELETE FROM schema_migrations WHERE number > 13; PRAGMA user_version = 13",
              NULL, NULL, NULL) == SQLITE_OK);
    CHECK(srv_migrate(c, err, sizeof err) == 0);
    CHECK(count_rows(c, "SELECT count(*) FROM outbox_events WHERE id IN (40, 41, 42)") == 3);
    CHECK(count_rows(c, "SELECT fanned_out FROM outbox_events WHERE id = 42") == 0);
    CHECK(count_rows(c, "SELECT count(*) FROM deliveries WHERE id = 5 AND record = 'result 9 7'") ==
          1);
    CHECK(count_rows(c, "SELECT count(*) FROM deliveries WHERE id = 6 AND record = 'alert 3'") ==
          1);
    CHECK(count_rows(c, "SELECT count(*) FROM pragma_foreign_key_check") == 0);
    CHECK(sqlite3_exec(c, "INSERT INTO outbox_events (type) VALUES ('result.corrected')", NULL,
                       NULL, NULL) == SQLITE_OK);
    CHECK(sqlite3_exec(c, "INSERT INTO outbox_events (type) VALUES ('result.eaten')", NULL, NULL,
                       NULL) == SQLITE_CONSTRAINT);
    sqlite3_close(c);
    unlink(path);
}

int main(void)
{
    srv_log_threshold = SRV_LOG_ERROR;
    test_migrations(rw_test_path(RW_BUILD_DIR, "test_migrate.db"));
    test_outbox_upgrade(rw_test_path(RW_BUILD_DIR, "test_migrate_outbox.db"));
    DONE();
}
