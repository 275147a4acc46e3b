/* Unit tests of the monitoring hook (server/monitor.c) on a temporary SQLite file with
 * hand-inserted results: state and lead time stored, alerts kept (same id, acknowledgement
 * preserved), inserted, retracted and revived as the inputs change, chemotherapy windows
 * switching the alert kind, a recompute that changes nothing writing nothing new, and the
 * corrections of schema/008 (retracted draws skipped, a moved draw's alerts). */
#include "server/db.h"
#include "server/log.h"
#include "server/monitor.h"
#include "tests/unit/harness.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static sqlite3 *conn;

static void exec(const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(conn, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "SQL failed: %s\n  %s\n", msg, sql);
        rw_test_failed++;
    }
    sqlite3_free(msg);
}

/* One integer from a query (-999 when no row, -998 on NULL). */
static int64_t q_int(const char *sql)
{
    sqlite3_stmt *st = NULL;
    int64_t v = -999;
    if (sqlite3_prepare_v2(conn, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_type(st, 0) == SQLITE_NULL ? -998 : sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* One text value into buf ("" when no row or NULL). */
static const char *q_text(const char *sql, char *buf, size_t n)
{
    sqlite3_stmt *st = NULL;
    buf[0] = '\0';
    if (sqlite3_prepare_v2(conn, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(buf, n, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return buf;
}

static int recompute(int64_t pid)
{
    if (srv_db_begin(conn))
        return -1;
    if (srv_monitor_recompute(conn, pid)) {
        srv_db_rollback(conn);
        return -1;
    }
    return srv_db_commit(conn);
}

/* A sWGS result for sample id: ratio, z, call from z >= 3, strong from z >= 5, CV 2%. */
static void result(int id, double ratio, double z)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO results (sample_id, job_id, assay, core_version, settings, ratio, "
             "ratio_low, ratio_high, log2_ratio, se, cv, z, call, strong) VALUES (%d, 1, 'bins', "
             "'test', '{}', %.4f, %.4f, %.4f, log2(%.4f), 0.01, 0.02, %.3f, '%s', %d) "
             "ON CONFLICT (sample_id) DO UPDATE SET ratio = excluded.ratio, z = excluded.z, call "
             "= excluded.call, strong = excluded.strong",
             id, ratio, ratio * 0.96, ratio * 1.04, ratio, z, z >= 3 ? "amplified" : "not_detected",
             z >= 5);
    exec(sql);
}

static void test_recompute(void)
{
    char buf[256];
    int64_t a1, a2;

    exec("INSERT INTO patients (id, external_id, diagnosis_date) VALUES (1, 'P1', '2022-12-01')");
    exec("INSERT INTO patients (id, external_id, diagnosis_date) VALUES (2, 'P2', '2022-12-01')");
    exec("INSERT INTO treatments (patient_id, kind, start_date, end_date) "
         "VALUES (1, 'surgery', '2023-01-10', '2023-01-10')");
    exec("INSERT INTO samples (id, accession, patient_id, collected_at, received_at, assay) VALUES "
         "(1, 'S1', 1, '2023-02-01', '2023-02-01', 'bins'), "
         "(2, 'S2', 1, '2023-05-01', '2023-05-01', 'bins'), "
         "(3, 'S3', 1, '2023-08-01', '2023-08-01', 'bins'), "
         "(4, 'S4', 1, '2023-11-01', '2023-11-01', 'bins'), "
         "(5, 'S5', 1, '2024-02-01', '2024-02-01', 'bins')");
    exec("INSERT INTO jobs (id, sample_id, kind, state) VALUES (1, 1, 'analyse', 'done')");

    /* No result at all: not_detected, no alert. */
    CHECK(recompute(1) == 0);
    CHECK(strcmp(q_text("SELECT state FROM patient_state WHERE patient_id = 1", buf, sizeof buf),
                 "not_detected") == 0);
    CHECK(q_int("SELECT n_results FROM patient_state WHERE patient_id = 1") == 0);
    CHECK(q_int("SELECT count(*) FROM alerts") == 0);
    CHECK(q_int("SELECT json_extract(trend_config, '$.z_amplified') FROM patient_state") == 3);

    /* Two negatives, then two positives: early_relapse at the second positive (S4), not before.
     * S5 has no result yet and is not part of the series. */
    result(1, 1.00, 0.2);
    result(2, 1.01, 0.5);
    result(3, 1.08, 4.0);
    CHECK(recompute(1) == 0);
    CHECK(strcmp(q_text("SELECT state FROM patient_state", buf, sizeof buf), "stable") == 0);
    CHECK(q_int("SELECT count(*) FROM alerts") == 0);
    result(4, 1.09, 4.4);
    CHECK(recompute(1) == 0);
    CHECK(strcmp(q_text("SELECT state FROM patient_state", buf, sizeof buf), "early_relapse") == 0);
    CHECK(q_int("SELECT n_results FROM patient_state") == 4);
    CHECK(q_int("SELECT count(*) FROM alerts") == 1);
    a1 = q_int("SELECT id FROM alerts");
    CHECK(q_int("SELECT sample_id FROM alerts") == 4);
    CHECK(strcmp(q_text("SELECT rule FROM alerts", buf, sizeof buf), "two_consecutive_positive") ==
          0);
    CHECK(strcmp(q_text("SELECT fired_on FROM alerts", buf, sizeof buf), "2023-11-01") == 0);
    CHECK(q_int("SELECT json_array_length(evidence, '$.rules[0].draws') FROM alerts") >= 2);
    CHECK(q_int("SELECT count(*) FROM audit_log WHERE action = 'fire' AND entity_type = 'alert' "
                "AND actor = 'system'") == 1);
    CHECK(q_int("SELECT lead_time_days FROM patient_state") == -998);
    CHECK(q_int("SELECT count(*) FROM patient_state WHERE patient_id = 2") == 0);

    /* A clinician acknowledges; a relapse event arrives: same alert, acknowledgement kept,
     * lead time = 2024-06-01 - 2023-11-01 = 213 days. */
    exec("UPDATE alerts SET acknowledged_at = '2023-11-05T10:00:00Z', acknowledged_by = 'dr', "
         "ack_comment = 'CT ordered'");
    exec("INSERT INTO clinical_events (patient_id, date, kind) "
         "VALUES (1, '2024-06-01', 'clinical_relapse')");
    CHECK(recompute(1) == 0);
    CHECK(q_int("SELECT count(*) FROM alerts") == 1);
    CHECK(q_int("SELECT id FROM alerts") == a1);
    CHECK(
        strcmp(q_text("SELECT acknowledged_by || '|' || ack_comment FROM alerts", buf, sizeof buf),
               "dr|CT ordered") == 0);
    CHECK(q_int("SELECT lead_time_days FROM patient_state") == 213);
    CHECK(strcmp(q_text("SELECT relapse_date FROM patient_state", buf, sizeof buf), "2024-06-01") ==
          0);
    CHECK(q_int("SELECT count(*) FROM audit_log WHERE action = 'fire'") == 1);

    /* S3 becomes a strong positive (a PoN change, say): the alert now fires at S3 by
     * strong_positive, a new row; the S4 one is retracted, its acknowledgement kept. */
    result(3, 1.15, 6.0);
    CHECK(recompute(1) == 0);
    CHECK(q_int("SELECT count(*) FROM alerts") == 2);
    a2 = q_int("SELECT id FROM alerts WHERE sample_id = 3");
    CHECK(a2 > a1);
    CHECK(strcmp(q_text("SELECT rule FROM alerts WHERE sample_id = 3", buf, sizeof buf),
                 "strong_positive") == 0);
    CHECK(q_int("SELECT acknowledged_at IS NULL AND retracted_at IS NULL FROM alerts "
                "WHERE sample_id = 3") == 1);
    CHECK(q_int("SELECT retracted_at IS NOT NULL FROM alerts WHERE id = (SELECT min(id) FROM "
                "alerts)") == 1);
    CHECK(q_int("SELECT count(*) FROM alerts WHERE retracted_at IS NULL") == 1);
    CHECK(strcmp(q_text("SELECT ack_comment FROM alerts WHERE sample_id = 4", buf, sizeof buf),
                 "CT ordered") == 0);
    CHECK(q_int("SELECT lead_time_days FROM patient_state") == 305); /* 2024-06-01 - 2023-08-01 */
    CHECK(q_int("SELECT count(*) FROM audit_log WHERE action = 'retract'") == 1);

    /* Back to the first reading: the S4 alert comes back with its id and acknowledgement. */
    result(3, 1.08, 4.0);
    CHECK(recompute(1) == 0);
    CHECK(q_int("SELECT retracted_at IS NULL FROM alerts WHERE sample_id = 4") == 1);
    CHECK(q_int("SELECT id FROM alerts WHERE sample_id = 4") == a1);
    CHECK(strcmp(q_text("SELECT acknowledged_by FROM alerts WHERE sample_id = 4", buf, sizeof buf),
                 "dr") == 0);
    CHECK(q_int("SELECT retracted_at IS NOT NULL FROM alerts WHERE sample_id = 3") == 1);
    CHECK(q_int("SELECT count(*) FROM alerts") == 2);

    /* A recompute with nothing changed writes no new audit row and keeps every id. */
    int64_t audits = q_int("SELECT count(*) FROM audit_log");
    CHECK(recompute(1) == 0);
    CHECK(q_int("SELECT count(*) FROM audit_log") == audits);
    CHECK(q_int("SELECT count(*) FROM alerts") == 2);

    /* A chemotherapy course from 2023-04-15: S2 (negative) and S3 (positive) are on treatment,
     * so S3 is a positive after a negative on chemo -> emerging_chemoresistance at S3, and the
     * early_relapse alert (off-chemo rule) is retracted. */
    exec("INSERT INTO treatments (id, patient_id, kind, start_date) "
         "VALUES (50, 1, 'chemotherapy', '2023-04-15')");
    CHECK(recompute(1) == 0);
    CHECK(strcmp(q_text("SELECT state FROM patient_state", buf, sizeof buf),
                 "emerging_chemoresistance") == 0);
    CHECK(q_int("SELECT count(*) FROM alerts WHERE retracted_at IS NULL") == 1);
    CHECK(strcmp(q_text("SELECT kind || '@' || sample_id || ':' || rule FROM alerts "
                        "WHERE retracted_at IS NULL",
                        buf, sizeof buf),
                 "emerging_chemoresistance@3:positive_after_negative") == 0);
    CHECK(q_int("SELECT retracted_at IS NOT NULL FROM alerts WHERE id = "
                "(SELECT min(id) FROM "
                "alerts)") == 1);
    CHECK(q_int("SELECT lead_time_days FROM patient_state") == -998); /* no early_relapse */

    /* The course removed again: back to early_relapse at S4, id and acknowledgement intact. */
    exec("DELETE FROM treatments WHERE id = 50");
    CHECK(recompute(1) == 0);
    CHECK(q_int("SELECT id FROM alerts WHERE retracted_at IS NULL") == a1);
    CHECK(q_int("SELECT acknowledged_at IS NOT NULL FROM alerts WHERE id = (SELECT min(id) FROM "
                "alerts)") == 1);

    /* An unknown patient is an error for the caller to roll back. */
    CHECK(recompute(99) != 0);
    CHECK(recompute(2) == 0);
    CHECK(strcmp(q_text("SELECT state FROM patient_state WHERE patient_id = 2", buf, sizeof buf),
                 "not_detected") == 0);
}

/* ddPCR: calls from the stored call, a zero ratio (no target droplet) read as its upper bound
 * instead of breaking the engine. */
static void test_ddpcr(void)
{
    char buf[64];
    exec("INSERT INTO patients (id, external_id, diagnosis_date) VALUES (3, 'P3', '2022-12-01')");
    exec("INSERT INTO samples (id, accession, patient_id, collected_at, received_at, assay) VALUES "
         "(31, 'D1', 3, '2023-02-01', '2023-02-01', 'ddpcr'), "
         "(32, 'D2', 3, '2023-05-01', '2023-05-01', 'ddpcr'), "
         "(33, 'D3', 3, '2023-08-01', '2023-08-01', 'ddpcr')");
    exec("INSERT INTO results (sample_id, job_id, assay, core_version, settings, ratio, ratio_low, "
         "ratio_high, cv, call) VALUES (31, 1, 'ddpcr', 't', '{}', 0, 0, 1.1, 0.05, "
         "'not_detected'), (32, 1, 'ddpcr', 't', '{}', 1.3, 1.2, 1.4, 0.04, 'amplified'), "
         "(33, 1, 'ddpcr', 't', '{}', 1.35, 1.25, 1.45, 0.04, 'amplified')");
    CHECK(recompute(3) == 0);
    CHECK(q_int("SELECT n_results FROM patient_state WHERE patient_id = 3") == 3);
    CHECK(strcmp(q_text("SELECT state FROM patient_state WHERE patient_id = 3", buf, sizeof buf),
                 "early_relapse") == 0);
    CHECK(q_int("SELECT sample_id FROM alerts WHERE patient_id = 3") == 33);
}

/* Corrections (schema/008): a retracted draw is skipped like a no-call (its alert retracted, the
 * points marked with the reason, a draw without a result included), and a draw moved to another
 * patient raises a new alert there while the first patient's stays hers, retracted. */
static void test_corrections(void)
{
    char buf[64];
    exec("INSERT INTO patients (id, external_id, diagnosis_date) VALUES (4, 'P4', '2022-12-01'), "
         "(5, 'P5', '2022-12-01')");
    exec("INSERT INTO samples (id, accession, patient_id, collected_at, received_at, assay) VALUES "
         "(41, 'R1', 4, '2023-02-01', '2023-02-01', 'ddpcr'), "
         "(42, 'R2', 4, '2023-05-01', '2023-05-01', 'ddpcr'), "
         "(43, 'R3', 4, '2023-08-01', '2023-08-01', 'ddpcr'), "
         "(44, 'R4', 4, '2023-09-01', '2023-09-01', 'ddpcr')");
    exec("INSERT INTO results (sample_id, job_id, assay, core_version, settings, ratio, ratio_low, "
         "ratio_high, cv, call) VALUES (41, 1, 'ddpcr', 't', '{}', 1.0, 0.95, 1.05, 0.04, "
         "'not_detected'), (42, 1, 'ddpcr', 't', '{}', 1.3, 1.2, 1.4, 0.04, 'amplified'), "
         "(43, 1, 'ddpcr', 't', '{}', 1.35, 1.25, 1.45, 0.04, 'amplified')");
    CHECK(recompute(4) == 0);
    CHECK(q_int("SELECT count(*) FROM alerts WHERE patient_id = 4 AND retracted_at IS NULL") == 1);
    int64_t first = q_int("SELECT id FROM alerts WHERE patient_id = 4");

    /* R3 retracted: the two positives are no longer consecutive, the alert goes. */
    exec("UPDATE samples SET retracted_at = '2023-09-02T00:00:00Z', retraction_reason = 'swap', "
         "retracted_by = 'dr' WHERE id IN (43, 44)");
    CHECK(recompute(4) == 0);
    CHECK(q_int("SELECT count(*) FROM alerts WHERE patient_id = 4 AND retracted_at IS NULL") == 0);
    CHECK(strcmp(q_text("SELECT state FROM patient_state WHERE patient_id = 4", buf, sizeof buf),
                 "early_relapse") != 0);
    json_t *pts = srv_monitor_points_new(conn, 4);
    CHECK(pts != NULL);
    json_t *p43 = json_object_get(pts, "43"), *p44 = json_object_get(pts, "44");
    CHECK(json_is_true(json_object_get(p43, "retracted")));
    CHECK(json_is_true(json_object_get(p43, "skipped")));
    CHECK(strcmp(json_string_value(json_object_get(p43, "retraction_reason")), "swap") == 0);
    CHECK(json_object_get(p43, "no_call_reason") == NULL);  /* not a no-call */
    CHECK(json_is_true(json_object_get(p44, "retracted"))); /* no result, still marked */
    CHECK(json_is_false(json_object_get(json_object_get(pts, "42"), "retracted")));
    json_decref(pts);

    /* Un-retracted: the same alert comes back. */
    exec("UPDATE samples SET retracted_at = NULL, retraction_reason = NULL, retracted_by = NULL");
    CHECK(recompute(4) == 0);
    CHECK(q_int("SELECT id FROM alerts WHERE patient_id = 4 AND retracted_at IS NULL") == first);

    /* R2 and R3 moved to P5: P4's alert is retracted and stays hers; P5 gets a new one. */
    exec("UPDATE samples SET patient_id = 5 WHERE id IN (42, 43)");
    CHECK(recompute(4) == 0 && recompute(5) == 0);
    CHECK(q_int("SELECT count(*) FROM alerts WHERE patient_id = 4 AND retracted_at IS NULL") == 0);
    CHECK(q_int("SELECT patient_id FROM alerts WHERE id = (SELECT min(id) FROM alerts WHERE "
                "sample_id = 43)") == 4);
    CHECK(q_int("SELECT count(*) FROM alerts WHERE patient_id = 5 AND sample_id = 43 AND "
                "retracted_at IS NULL") == 1);
    CHECK(q_int("SELECT id FROM alerts WHERE patient_id = 5 AND sample_id = 43") != first);
}

int main(void)
{
    char dir[256], path[300], err[256];
    snprintf(dir, sizeof dir, "%s/rwmon.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof path, "%s/m.db", dir);
    srv_log_threshold = SRV_LOG_ERROR + 1; /* the unknown-patient case logs on purpose */
    srv_db *db = srv_db_open(path, 1, err, sizeof err);
    CHECK(db != NULL);
    if (db) {
        conn = srv_db_acquire(db);
        test_recompute();
        test_ddpcr();
        test_corrections();
        srv_db_release(db, conn);
        srv_db_close(db);
    } else
        fprintf(stderr, "cannot open %s: %s\n", path, err);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    DONE();
}
