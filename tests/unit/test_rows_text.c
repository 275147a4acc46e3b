/* Unit tests of the JSON text the list pages write straight from SQL rows (server/rows.h:
 * srv_text, server/monitor.h: srv_monitor_alert_text): byte for byte what jansson's
 * json_dumps(JSON_COMPACT) gives for the objects srv_rows_query_new() and
 * srv_monitor_alert_json_new() build from the same rows, over edge cases and random values. */
#include <float.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/monitor.h"
#include "server/rows.h"
#include "tests/unit/harness.h"

/* The first row of sql on db, written by srv_text_row, equals jansson's dump of the object
 * srv_rows_query_new() makes of it. */
static int row_same(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    srv_text t = {0};
    json_t *rows = srv_rows_query_new(db, sql, NULL);
    char *want = rows ? json_dumps(json_array_get(rows, 0), JSON_COMPACT) : NULL;
    int same = 0;
    if (want && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        srv_text_row(&t, st, sqlite3_column_count(st));
        same = !t.failed && strcmp(t.s, want) == 0;
        if (!same)
            fprintf(stderr, "want %s\n got %s\n", want, t.s ? t.s : "(null)");
    }
    sqlite3_finalize(st);
    json_decref(rows);
    free(want);
    free(t.s);
    return same;
}

static void test_fixed_values(sqlite3 *db)
{
    CHECK(row_same(db, "SELECT 0 AS a, -1 AS b, 9223372036854775807 AS c, "
                       "-9223372036854775808 AS d, NULL AS e, x'00ff' AS blob"));
    CHECK(row_same(db, "SELECT 1.0 AS a, -0.0 AS b, 0.1 AS c, 1e20 AS d, 1e-5 AS e, 123456789012.5 "
                       "AS f, 1e17 AS g, 1e16 AS h, 2.5e-300 AS i, 1.7976931348623157e308 AS j, "
                       "4.9406564584124654e-324 AS k, -3.25e+100 AS l, 6.0 AS m"));
    CHECK(row_same(db, "SELECT '' AS a, 'plain' AS b, 'a\"b\\c/d' AS c, 'caf\xc3\xa9 \xe2\x82\xac "
                       "\xf0\x9f\x98\x80' AS d, char(1, 8, 9, 10, 12, 13, 31, 127, 65) AS e"));
    CHECK(row_same(db, "SELECT 1 AS \"we\"\"ird\", 2 AS \"tab\tname\""));
}

/* Random reals over the whole range and random strings of every byte below 0x80. */
static void test_random_values(sqlite3 *db)
{
    srand48(14);
    for (int i = 0; i < 2000; i++) {
        char sql[256];
        double x = (drand48() - 0.5) * pow(10, (int)(drand48() * 80) - 40);
        snprintf(sql, sizeof sql, "SELECT %.17g AS x, %d AS n, char(%ld, %ld, %ld) AS s", x,
                 (int)(drand48() * 2e9) - 1000000000, 1 + lrand48() % 127, 1 + lrand48() % 127,
                 1 + lrand48() % 127);
        if (!row_same(db, sql)) {
            CHECK(!"a random row differs");
            return;
        }
    }
    CHECK(1);
}

static void test_alert(sqlite3 *db)
{
    /* as the daemon stores it (monitor.c: json_dumps, compact, keys sorted) */
    json_t *stored =
        json_pack("{s:n, s:[{s:[{s:f, s:b, s:f}], s:s}]}", "closed_by", "rules", "draws", "cv",
                  0.028844242685560311, "positive", 1, "z", 6.0, "rule", "strong_positive");
    char *written = json_dumps(stored, JSON_COMPACT | JSON_SORT_KEYS);
    const char *const evidences[] = {written, " {\"a\":1}", "[1,2]", "{}"};
    for (size_t e = 0; e < sizeof evidences / sizeof *evidences; e++) {
        for (int with_patient = 0; with_patient < 2; with_patient++) {
            sqlite3_stmt *st = NULL;
            srv_text t = {0};
            CHECK(sqlite3_prepare_v2(db,
                                     "SELECT 30, 11, 'DEMO-\"11\"', 'early_relapse', "
                                     "'strong_positive', '2026-07-25', 76, ?1, NULL, NULL, "
                                     "'2026-12-02T05:10:07Z', NULL, NULL, NULL, 'seen\nok'",
                                     -1, &st, NULL) == SQLITE_OK);
            sqlite3_bind_text(st, 1, evidences[e], -1, SQLITE_STATIC);
            CHECK(sqlite3_step(st) == SQLITE_ROW);
            json_t *o = srv_monitor_alert_json_new(st, with_patient);
            char *want = o ? json_dumps(o, JSON_COMPACT) : NULL;
            srv_monitor_alert_text(&t, st, with_patient);
            if (e == 1) /* stored with a leading space: the same object, spliced as stored */
                CHECK(t.s && strstr(t.s, "\"evidence\": {\"a\":1}"));
            else
                CHECK((want && t.s && strcmp(want, t.s) == 0) ||
                      !fprintf(stderr, "%s\n%s\n", want, t.s));
            if (e == 2) /* not an object: shown as {} either way */
                CHECK(t.s && strstr(t.s, "\"evidence\":{}"));
            CHECK(!with_patient == !(t.s && strstr(t.s, "external_id")));
            json_decref(o);
            free(want);
            free(t.s);
            sqlite3_finalize(st);
        }
    }
    json_decref(stored);
    free(written);
}

/* A text of a few MB grows through many reallocations and stays whole. */
static void test_growth(void)
{
    srv_text t = {0};
    for (int i = 0; i < 200000; i++)
        srv_text_lit(&t, "0123456789");
    CHECK(!t.failed && t.len == 2000000 && strlen(t.s) == t.len);
    free(t.s);
}

int main(void)
{
    sqlite3 *db;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK)
        return 1;
    test_fixed_values(db);
    test_random_values(db);
    test_alert(db);
    test_growth();
    sqlite3_close(db);
    DONE();
}
