/* Corrections of wrong data, the storage side (see corrections.h): erasure of a patient, reset
 * of a sample's input, and the removal of files whose rows are gone.
 *
 * DESIGN. A database row and a file cannot be removed atomically together. The rows go first,
 * inside the request's transaction, which also queues the files' paths in file_removals; the
 * files go after the COMMIT. If the daemon stops in between, the queue survives and the start-up
 * sweep finishes the job. The removal itself runs under the write lock and skips a path that a
 * row names again (an upload of the same bytes stores the same <sha256>.<ext> name), so it can
 * never remove a file a committed row needs. Ids are never reused (schema/008), so a folder
 * samples/<id> of an erased sample belongs to nobody else. */
#include "server/corrections.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/datadir.h"
#include "server/db.h"
#include "server/log.h"
#include "server/rows.h"

/* One integer from sql (?1 = id); -1 on error (logged). */
static int64_t count_of(sqlite3 *conn, const char *sql, int64_t id)
{
    sqlite3_stmt *st = srv_db_prepare(conn, sql);
    int64_t n = -1;
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    else
        srv_log(SRV_LOG_ERROR, "count failed: %s", sqlite3_errmsg(conn));
    sqlite3_finalize(st);
    return n;
}

/* Runs the write sql (?1 = id); the rows it changed, or -1 (logged). */
static int64_t exec_count(sqlite3 *conn, const char *sql, int64_t id)
{
    if (srv_db_exec_id(conn, sql, id))
        return -1;
    return sqlite3_changes64(conn);
}

/* ---------------------------------------------------------------- erasure */

/* What an erasure deletes, children first, each with ?1 = the patient's id. The key names the
 * count in the answer and the audit row. */
static const struct {
    const char *key, *sql;
} erase_steps[] = {
    {"file_removals_queued",
     "INSERT OR IGNORE INTO file_removals (path) "
     "SELECT i.path FROM sample_inputs i JOIN samples s ON s.id = i.sample_id "
     "WHERE s.patient_id = ?1 AND i.path IS NOT NULL "
     "UNION SELECT i.counts_path FROM sample_inputs i JOIN samples s ON s.id = i.sample_id "
     "WHERE s.patient_id = ?1 AND i.counts_path IS NOT NULL "
     "UNION SELECT 'samples/' || id FROM samples WHERE patient_id = ?1"},
    /* stored answers of POSTs that name her: they hold her external id or an accession */
    {"idempotency_answers",
     "DELETE FROM idempotency_keys WHERE body IS NOT NULL AND (instr(body, '\"' || "
     "(SELECT external_id FROM patients WHERE id = ?1) || '\"') > 0 OR EXISTS (SELECT 1 FROM "
     "samples s WHERE s.patient_id = ?1 AND instr(idempotency_keys.body, '\"' || s.accession "
     "|| '\"') > 0))"},
    /* Webhook and HL7 messages about her (schema/009): their bodies name her, and so do the HL7
     * messages of a draw moved away from her (014: posted as wrong under her). They are blanked
     * rather than deleted, so their ids (a subscription's after_event_id cursor, the delivery
     * log) are never given again; a pending one is given up, an unsent event never sent. A
     * move's event is the other patient's: of its messages only hers (her id in PID-3, where an
     * external id, of A-Z a-z 0-9 . _ : -, needs no escape) are blanked, and the event forgets
     * her id. */
    {"outbox_deliveries",
     "UPDATE deliveries SET body = '{\"erased\":true}', last_error = CASE state WHEN 'pending' "
     "THEN 'patient erased' ELSE last_error END, state = CASE state WHEN 'pending' THEN 'failed' "
     "ELSE state END WHERE event_id IN (SELECT id FROM outbox_events WHERE patient_id = ?1 OR "
     "sample_id IN (SELECT id FROM samples WHERE patient_id = ?1)) OR (channel = 'hl7' AND "
     "event_id IN (SELECT id FROM outbox_events WHERE json_extract(data, '$.from_patient_id') "
     "= ?1) AND instr(body, 'PID|1||' || (SELECT external_id FROM patients WHERE id = ?1) || "
     "'^^^') > 0)"},
    {"outbox_events",
     "UPDATE outbox_events SET patient_id = NULL, sample_id = NULL, alert_id = NULL, job_id = "
     "NULL, data = '{\"erased\":true}', fanned_out = 1 WHERE patient_id = ?1 OR sample_id IN "
     "(SELECT id FROM samples WHERE patient_id = ?1)"},
    {"outbox_moves", "UPDATE outbox_events SET data = json_remove(data, '$.from_patient_id') "
                     "WHERE json_extract(data, '$.from_patient_id') = ?1"},
    {"alerts", "DELETE FROM alerts WHERE patient_id = ?1 OR sample_id IN "
               "(SELECT id FROM samples WHERE patient_id = ?1)"},
    {"monitoring_state", "DELETE FROM patient_state WHERE patient_id = ?1"},
    {"results", "DELETE FROM results WHERE sample_id IN "
                "(SELECT id FROM samples WHERE patient_id = ?1)"},
    {"inputs", "DELETE FROM sample_inputs WHERE sample_id IN "
               "(SELECT id FROM samples WHERE patient_id = ?1)"},
    {"jobs", "DELETE FROM jobs WHERE sample_id IN (SELECT id FROM samples WHERE patient_id = ?1)"},
    {"samples", "DELETE FROM samples WHERE patient_id = ?1"},
    {"treatments", "DELETE FROM treatments WHERE patient_id = ?1"},
    {"events", "DELETE FROM clinical_events WHERE patient_id = ?1"},
    {"patients", "DELETE FROM patients WHERE id = ?1"},
};

json_t *srv_corr_erase_patient_new(sqlite3 *conn, int64_t patient_id, srv_status *st)
{
    json_t *counts = json_object();
    *st = SRV_INTERNAL;
    if (!counts)
        return NULL;
    /* A worker writing a result for one of her draws would meet a sample that is gone. */
    int64_t running = count_of(conn,
                               "SELECT count(*) FROM jobs j JOIN samples s ON s.id = j.sample_id "
                               "WHERE s.patient_id = ?1 AND j.state = 'running'",
                               patient_id);
    if (running != 0) {
        if (running > 0)
            *st = SRV_CLIENT;
        goto fail;
    }
    for (size_t i = 0; i < sizeof erase_steps / sizeof *erase_steps; i++) {
        int64_t n = exec_count(conn, erase_steps[i].sql, patient_id);
        if (n < 0 || json_object_set_new(counts, erase_steps[i].key, json_integer(n)))
            goto fail;
    }
    *st = SRV_OK;
    return counts;
fail:
    json_decref(counts);
    return NULL;
}

/* ---------------------------------------------------------------- input reset */

/* The first row of sql (?1 = id) as a new object in *out (NULL when there is none): 0, or -1. */
static int first_row(sqlite3 *conn, const char *sql, int64_t id, json_t **out)
{
    json_t *args = json_pack("[I]", (json_int_t)id);
    json_t *rows = args ? srv_rows_query_new(conn, sql, args) : NULL;
    json_decref(args);
    *out = NULL;
    if (!rows)
        return -1;
    json_t *r = json_array_get(rows, 0);
    *out = r ? json_incref(r) : NULL;
    json_decref(rows);
    return 0;
}

json_t *srv_corr_reset_input_new(sqlite3 *conn, int64_t sample_id, srv_status *st)
{
    json_t *input = NULL, *result = NULL, *sample = NULL, *out = NULL;
    *st = SRV_INTERNAL;
    int64_t active = count_of(conn,
                              "SELECT count(*) FROM jobs WHERE sample_id = ?1 "
                              "AND state IN ('queued', 'running')",
                              sample_id);
    if (active != 0) {
        if (active > 0)
            *st = SRV_CLIENT;
        return NULL;
    }
    if (first_row(conn,
                  "SELECT kind, sha256, size, build, uploaded_at FROM sample_inputs "
                  "WHERE sample_id = ?1",
                  sample_id, &input) ||
        first_row(conn, "SELECT call, ratio, computed_at, job_id FROM results WHERE sample_id = ?1",
                  sample_id, &result) ||
        first_row(conn, "SELECT status FROM samples WHERE id = ?1", sample_id, &sample))
        goto out;
    if (!input || !sample) {
        *st = SRV_NOT_FOUND;
        goto out;
    }
    if (exec_count(conn,
                   "INSERT OR IGNORE INTO file_removals (path) SELECT path FROM sample_inputs "
                   "WHERE sample_id = ?1 AND path IS NOT NULL UNION SELECT counts_path FROM "
                   "sample_inputs WHERE sample_id = ?1 AND counts_path IS NOT NULL",
                   sample_id) < 0 ||
        srv_db_exec_id(conn, "DELETE FROM results WHERE sample_id = ?", sample_id) ||
        srv_db_exec_id(conn, "DELETE FROM sample_inputs WHERE sample_id = ?", sample_id) ||
        srv_db_exec_id(conn,
                       "UPDATE samples SET status = 'received', error = NULL, updated_at = "
                       "strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?",
                       sample_id))
        goto out;
    out = json_pack("{s:O, s:O, s:O}", "status", json_object_get(sample, "status"), "input", input,
                    "result", result ? result : json_null());
    *st = out ? SRV_OK : SRV_INTERNAL;
out:
    json_decref(input);
    json_decref(result);
    json_decref(sample);
    return out;
}

/* ---------------------------------------------------------------- file removal */

/* Removes full: a file, or a folder's files and then the folder. 1 when something was removed,
 * 0 when nothing was there, -1 on an error (logged). */
static int remove_path(const char *full)
{
    struct stat sb;
    if (lstat(full, &sb))
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(sb.st_mode))
        return unlink(full) == 0 ? 1 : -1;
    DIR *d = opendir(full);
    struct dirent *e;
    char f[4096];
    if (!d)
        return -1;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (snprintf(f, sizeof f, "%s/%s", full, e->d_name) >= (int)sizeof f || unlink(f))
            srv_log(SRV_LOG_WARN, "cannot remove a file of an erased sample: %s", strerror(errno));
    }
    closedir(d);
    return rmdir(full) == 0 ? 1 : -1;
}

int srv_corr_remove_files(sqlite3 *conn, const char *data_dir)
{
    /* Under the write lock: no upload can be between its rename and its COMMIT meanwhile. */
    sqlite3_stmt *sel = NULL, *del = NULL;
    int removed = 0, rc;
    if (srv_db_begin(conn))
        return -1;
    sel = srv_db_prepare(conn, "SELECT path, EXISTS (SELECT 1 FROM sample_inputs i WHERE i.path = "
                               "f.path OR i.counts_path = f.path) FROM file_removals f");
    del = srv_db_prepare(conn, "DELETE FROM file_removals WHERE path = ?");
    if (!sel || !del)
        goto fail;
    while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
        const char *rel = (const char *)sqlite3_column_text(sel, 0);
        char full[4096];
        int r = 0;
        /* A path a row names again, or not one of ours, is only forgotten. */
        if (rel && !sqlite3_column_int(sel, 1) && !strstr(rel, "..") && rel[0] != '/' &&
            !srv_datadir_path(data_dir, rel, full, sizeof full))
            r = remove_path(full);
        if (r < 0) { /* kept in the queue for the next sweep */
            srv_log(SRV_LOG_WARN, "cannot remove a file of a corrected sample: %s",
                    strerror(errno));
            continue;
        }
        removed += r;
        sqlite3_reset(del);
        sqlite3_bind_text(del, 1, rel ? rel : "", -1, SQLITE_TRANSIENT);
        if (sqlite3_step(del) != SQLITE_DONE)
            goto fail;
    }
    if (rc != SQLITE_DONE)
        goto fail;
    sqlite3_finalize(sel);
    sqlite3_finalize(del);
    if (srv_db_commit(conn)) {
        srv_db_rollback(conn);
        return -1;
    }
    if (removed)
        srv_log(SRV_LOG_INFO, "removed %d files or folders of erased or replaced inputs", removed);
    return removed;
fail:
    srv_log(SRV_LOG_ERROR, "file removals: %s", sqlite3_errmsg(conn));
    sqlite3_finalize(sel);
    sqlite3_finalize(del);
    srv_db_rollback(conn);
    return -1;
}
