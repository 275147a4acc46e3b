/* The persistent job queue: worker threads that claim queued jobs from SQLite and run them.
 *
 * DESIGN. The `jobs` table is the queue, so it survives a crash: at start-up every job left
 * 'running' goes back to 'queued' (and its sample from 'processing' to 'queued') and runs again,
 * unless it has used up its attempts.
 * Each worker holds one pooled connection for its whole life and loops: claim the oldest queued
 * job of a sample that has none running, in one BEGIN IMMEDIATE transaction (the UPDATE ...
 * WHERE state = 'queued' makes the claim atomic: two workers can never take the same job, nor
 * two jobs of one sample), run it with no lock held
 * (srv_pipeline_run stores the result in its own transaction), or record the failure with its
 * message. With nothing to do a worker sleeps on a condition variable that srv_jobs_notify()
 * signals after a commit that queued jobs; it also wakes every few seconds to look anyway (a job
 * queued by another process, or a notify lost to a race). Stopping sets a flag and wakes
 * everyone; a worker finishes the job in hand (the core cannot be interrupted mid-count), then
 * exits. A job cut by SIGKILL is simply found 'running' at the next start; each run started
 * counts an attempt, so a job cut --job-max-attempts times (an input that crashes the worker)
 * fails there instead of crashing the daemon at every start. */
#include "server/jobs.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "server/datadir.h"
#include "server/db.h"
#include "server/deadline.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/options.h"
#include "server/pipeline.h"
#include "server/reply.h"
#include "server/rows.h"
#include "server/uploads.h"

#define IDLE_POLL_SECONDS 5

struct srv_jobs {
    const srv_config *cfg;
    srv_db *db;
    pthread_t *threads;
    int nthreads;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stop;             /* under lock */
    unsigned long wakeup; /* notify counter, under lock: a notify between a worker's empty claim
                             and its wait is not lost */
};

/* The running queue, for srv_jobs_notify(); NULL when none. */
static srv_jobs *volatile running_queue;
static pthread_mutex_t running_lock = PTHREAD_MUTEX_INITIALIZER;

void srv_jobs_notify(void)
{
    pthread_mutex_lock(&running_lock);
    srv_jobs *q = running_queue;
    if (q) {
        pthread_mutex_lock(&q->lock);
        q->wakeup++;
        pthread_cond_broadcast(&q->wake);
        pthread_mutex_unlock(&q->lock);
    }
    pthread_mutex_unlock(&running_lock);
}

/* ---------------------------------------------------------------- SQL helpers */

/* The sample waits for a job again: status 'queued', its old error cleared. */
static int sample_queued(sqlite3 *conn, int64_t sample_id)
{
    return srv_db_exec_id(conn,
                          "UPDATE samples SET status = 'queued', error = NULL, updated_at = "
                          "strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?",
                          sample_id);
}

int64_t srv_jobs_enqueue(sqlite3 *conn, int64_t sample_id, const char *kind)
{
    sqlite3_stmt *st = srv_db_prepare(conn, "INSERT INTO jobs (sample_id, kind) VALUES (?, ?)");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, sample_id);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    int64_t id = -1;
    if (sqlite3_step(st) == SQLITE_DONE)
        id = sqlite3_last_insert_rowid(conn);
    else
        srv_log(SRV_LOG_ERROR, "cannot queue a job: %s", sqlite3_errmsg(conn));
    sqlite3_finalize(st);
    if (id > 0 && sample_queued(conn, sample_id))
        return -1;
    return id;
}

srv_status srv_jobs_requeue(sqlite3 *conn, int64_t job_id)
{
    sqlite3_stmt *st = srv_db_prepare(
        conn, "UPDATE jobs SET state = 'queued', progress = 0, error = NULL, started_at = NULL, "
              "finished_at = NULL WHERE id = ? AND state = 'failed' RETURNING sample_id");
    if (!st)
        return SRV_INTERNAL;
    sqlite3_bind_int64(st, 1, job_id);
    int rc = sqlite3_step(st);
    int64_t sample = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    if (rc == SQLITE_ROW)
        rc = sqlite3_step(st); /* finish the statement */
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return SRV_INTERNAL;
    if (!sample)
        return SRV_CLIENT;
    return sample_queued(conn, sample) ? SRV_INTERNAL : SRV_OK;
}

/* The job row of srv_jobs_get()'s query as the API shows it. */
static json_t *job_pack(sqlite3_stmt *st)
{
    return json_pack("{s:I, s:I, s:o, s:I, s:o, s:o, s:i, s:o, s:o, s:o, s:o, s:i}", "id",
                     (json_int_t)sqlite3_column_int64(st, 0), "sample_id",
                     (json_int_t)sqlite3_column_int64(st, 1), "accession", srv_col_text_new(st, 2),
                     "patient_id", (json_int_t)sqlite3_column_int64(st, 3), "kind",
                     srv_col_text_new(st, 4), "state", srv_col_text_new(st, 5), "progress",
                     sqlite3_column_int(st, 6), "error", srv_col_text_new(st, 7), "created_at",
                     srv_col_text_new(st, 8), "started_at", srv_col_text_new(st, 9), "finished_at",
                     srv_col_text_new(st, 10), "attempts", sqlite3_column_int(st, 11));
}

srv_status srv_jobs_get(sqlite3 *conn, int64_t job_id, json_t **job)
{
    return srv_row_packed(
        conn,
        "SELECT j.id, j.sample_id, s.accession, s.patient_id, j.kind, j.state, j.progress, "
        "j.error, j.created_at, j.started_at, j.finished_at, j.attempts FROM jobs j JOIN "
        "samples s ON s.id = j.sample_id WHERE j.id = ?",
        job_id, job_pack, job);
}

json_t *srv_jobs_answer_new(sqlite3 *conn, int64_t job_id)
{
    char url[64];
    json_t *job;
    if (srv_jobs_get(conn, job_id, &job) != SRV_OK)
        return NULL;
    snprintf(url, sizeof url, "/api/v1/jobs/%" PRId64, job_id);
    return json_pack("{s:o, s:s}", "job", job, "job_url", url);
}

srv_status srv_jobs_latest(sqlite3 *conn, int64_t sample_id, int64_t *job_id)
{
    sqlite3_stmt *st = srv_db_prepare(conn, "SELECT max(id) FROM jobs WHERE sample_id = ?");
    srv_status rc = SRV_INTERNAL;
    *job_id = 0;
    if (!st)
        return rc;
    sqlite3_bind_int64(st, 1, sample_id);
    if (sqlite3_step(st) == SQLITE_ROW) {
        *job_id = sqlite3_column_int64(st, 0);
        rc = *job_id > 0 ? SRV_OK : SRV_NOT_FOUND;
    }
    sqlite3_finalize(st);
    return rc;
}

/* ---------------------------------------------------------------- workers */

typedef struct claimed {
    int64_t id, sample_id;
    int recall;
    int attempts; /* runs started, this one included */
} claimed;

/* A job that failed through no fault of its sample (SRV_RETRY) runs again, up to this
 * many runs in all. */
#define MAX_TRANSIENT_ATTEMPTS 5

/* Claims the oldest queued job whose sample has no job running: SRV_OK claimed, SRV_NOT_FOUND
 * none, SRV_RETRY when the database failed or stayed busy. One job per sample at a time: a PoN
 * activation queues a recall for a sample whose job is running (that job counts against the old
 * panel), and two workers storing results of one sample at once could leave the older panel's
 * result last. The worker that ends a sample's job claims again at once, so the waiting job does
 * not wait for a poll. */
static srv_status claim(sqlite3 *c, claimed *job)
{
    if (srv_db_begin(c))
        return SRV_RETRY;
    sqlite3_stmt *st = srv_db_prepare(
        c, "UPDATE jobs SET state = 'running', attempts = attempts + 1, progress = 0, "
           "error = NULL, started_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), finished_at = NULL "
           "WHERE id = (SELECT q.id FROM jobs q WHERE q.state = 'queued' AND NOT EXISTS "
           "(SELECT 1 FROM jobs r WHERE r.sample_id = q.sample_id AND r.state = 'running') "
           "ORDER BY q.id LIMIT 1) AND state = 'queued' RETURNING id, sample_id, kind, attempts");
    if (!st)
        goto fail;
    int rc = sqlite3_step(st);
    int got = rc == SQLITE_ROW;
    if (got) {
        job->id = sqlite3_column_int64(st, 0);
        job->sample_id = sqlite3_column_int64(st, 1);
        job->recall = !strcmp((const char *)sqlite3_column_text(st, 2), "recall");
        job->attempts = sqlite3_column_int(st, 3);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        goto fail;
    if (got && srv_db_exec_id(c,
                              "UPDATE samples SET status = 'processing', updated_at = "
                              "strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?",
                              job->sample_id))
        goto fail;
    if (srv_db_commit(c))
        goto fail;
    return got ? SRV_OK : SRV_NOT_FOUND;
fail:
    srv_db_rollback(c);
    return SRV_RETRY;
}

/* Puts a claimed job back in the queue (its sample waits again). */
static void requeue(sqlite3 *c, const claimed *job)
{
    if (srv_db_begin(c) ||
        srv_db_exec_id(c, "UPDATE jobs SET state = 'queued', progress = 0 WHERE id = ?", job->id) ||
        srv_db_exec_id(c, "UPDATE samples SET status = 'queued' WHERE id = ?", job->sample_id) ||
        srv_db_commit(c)) {
        srv_db_rollback(c);
        srv_log(SRV_LOG_ERROR, "job %" PRId64 ": cannot queue it again (runs at the next start)",
                job->id);
    }
}

int srv_jobs_settle_sample(sqlite3 *conn, int64_t job_id, int64_t sample_id, const char *error)
{
    sqlite3_stmt *st = srv_db_prepare(
        conn, "UPDATE samples SET status = CASE WHEN EXISTS (SELECT 1 FROM jobs WHERE sample_id = "
              "?1 AND id <> ?2 AND state IN ('queued', 'running')) THEN 'queued' ELSE ?3 END, "
              "error = ?4, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?1");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, sample_id);
    sqlite3_bind_int64(st, 2, job_id);
    sqlite3_bind_text(st, 3, error ? "failed" : "done", -1, SQLITE_STATIC);
    if (error)
        sqlite3_bind_text(st, 4, error, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    if (rc)
        srv_log(SRV_LOG_ERROR, "job %" PRId64 ": %s", job_id, sqlite3_errmsg(conn));
    sqlite3_finalize(st);
    return rc;
}

/* Records a failure: the job 'failed' with its message, and the sample 'failed' too unless
 * another job of it is waiting. */
static void record_failure(sqlite3 *c, const claimed *job, const char *error)
{
    sqlite3_stmt *st = NULL;
    char msg[1024]; /* the API shows it: no server paths (the log keeps the full message) */
    snprintf(msg, sizeof msg, "%s", error);
    srv_scrub_paths(msg, sizeof msg);
    if (srv_db_begin(c))
        goto fail;
    st = srv_db_prepare(c, "UPDATE jobs SET state = 'failed', error = ?, finished_at = "
                           "strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?");
    if (!st)
        goto fail;
    sqlite3_bind_text(st, 1, msg, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, job->id);
    if (sqlite3_step(st) != SQLITE_DONE)
        goto fail;
    sqlite3_finalize(st);
    st = NULL;
    if (srv_jobs_settle_sample(c, job->id, job->sample_id, msg) || srv_db_commit(c))
        goto fail;
    return;
fail:
    sqlite3_finalize(st);
    srv_db_rollback(c);
    srv_log(SRV_LOG_ERROR, "job %" PRId64 ": cannot record its failure", job->id);
}

typedef struct progress_ctx {
    sqlite3 *conn;
    int64_t job_id;
} progress_ctx;

/* Progress goes straight to the row (autocommit): readers see it while the job runs. */
static void on_progress(void *ctx, int percent)
{
    progress_ctx *p = ctx;
    sqlite3_stmt *st = srv_db_prepare(p->conn, "UPDATE jobs SET progress = ? WHERE id = ? AND "
                                               "state = 'running' AND progress < ?1");
    if (!st)
        return;
    sqlite3_bind_int(st, 1, percent > 100 ? 100 : percent);
    sqlite3_bind_int64(st, 2, p->job_id);
    sqlite3_step(st);
    sqlite3_finalize(st);
}

static int should_stop(srv_jobs *q)
{
    pthread_mutex_lock(&q->lock);
    int s = q->stop;
    pthread_mutex_unlock(&q->lock);
    return s;
}

/* TEST ONLY: RELAPSEWATCHD_TEST_JOB_DELAY_MS=N makes every job wait N ms (at most 60 s) after its
 * claim, so the crash tests can kill the daemon while a job runs. Unset in production; the
 * daemon warns at start when it is set. Read once, before the workers start. */
static int test_job_delay_ms;

static void read_test_hooks(void)
{
    const char *v = getenv("RELAPSEWATCHD_TEST_JOB_DELAY_MS");
    test_job_delay_ms = v ? atoi(v) : 0;
    if (test_job_delay_ms > 60000)
        test_job_delay_ms = 60000;
    if (test_job_delay_ms > 0)
        srv_log(SRV_LOG_WARN,
                "TEST HOOK: RELAPSEWATCHD_TEST_JOB_DELAY_MS=%d delays every job "
                "(never set it in production)",
                test_job_delay_ms);
}

static void test_delay(srv_jobs *q)
{
    for (int waited = 0; waited < test_job_delay_ms && !should_stop(q); waited += 20) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static void *worker(void *arg)
{
    srv_jobs *q = arg;
    sqlite3 *c = srv_db_acquire(q->db);
    char err[1024];
    srv_metrics_worker_started(); /* health: workers alive */
    while (!should_stop(q)) {
        pthread_mutex_lock(&q->lock);
        unsigned long seen = q->wakeup;
        pthread_mutex_unlock(&q->lock);

        claimed job;
        srv_status got = claim(c, &job);
        if (got == SRV_OK) {
            struct timespec t0, t1;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            srv_log(SRV_LOG_INFO, "job %" PRId64 " (%s) of sample %" PRId64 " started", job.id,
                    job.recall ? "recall" : "analyse", job.sample_id);
            test_delay(q);
            progress_ctx pc = {c, job.id};
            err[0] = '\0';
            srv_status rc = srv_pipeline_run(c, q->cfg, job.id, job.sample_id, job.recall,
                                             on_progress, &pc, err, sizeof err);
            if (rc == SRV_RETRY && job.attempts < MAX_TRANSIENT_ATTEMPTS) {
                srv_log(SRV_LOG_WARN, "job %" PRId64 ": %s; queued again", job.id, err);
                sleep(1); /* let the other writer finish */
                requeue(c, &job);
            } else if (rc) {
                srv_log(SRV_LOG_WARN, "job %" PRId64 " failed: %s", job.id, err);
                record_failure(c, &job, err[0] ? err : "failed (no message)");
            } else {
                clock_gettime(CLOCK_MONOTONIC, &t1);
                srv_log(SRV_LOG_INFO, "job %" PRId64 " done in %.2f s", job.id,
                        (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9);
            }
            continue;
        }
        /* Nothing to do (or the database was busy): sleep until notified, or poll again later. */
        struct timespec until;
        srv_deadline_in(&until, 1000L * (got == SRV_RETRY ? 1 : IDLE_POLL_SECONDS));
        pthread_mutex_lock(&q->lock);
        while (!q->stop && q->wakeup == seen) {
            if (pthread_cond_timedwait(&q->wake, &q->lock, &until) == ETIMEDOUT)
                break;
        }
        pthread_mutex_unlock(&q->lock);
    }
    srv_metrics_worker_stopped();
    srv_db_release(q->db, c);
    return NULL;
}

/* ---------------------------------------------------------------- start / stop */

/* Jobs cut by a stop or a crash that used up their attempts (each run started counts, so a
 * run cut by a crash does too) fail instead of running again: an input that crashes the worker
 * would otherwise crash the daemon at every start. Their samples fail with them unless another
 * job of theirs waits. Inside the caller's transaction; the number failed, or -1. */
static int fail_exhausted(sqlite3 *c, int max_attempts)
{
    sqlite3_stmt *st = srv_db_prepare(
        c, "UPDATE jobs SET state = 'failed', error = 'interrupted ' || attempts || ' times (the "
           "daemon stopped or crashed during each run): not run again automatically; an admin "
           "may retry it', finished_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') "
           "WHERE state = 'running' AND attempts >= ? RETURNING id, sample_id, error");
    if (!st)
        return -1;
    sqlite3_bind_int(st, 1, max_attempts);
    int n = 0, rc;
    typedef struct {
        int64_t id, sample;
        char error[160];
    } failed_job;
    failed_job f[64];
    /* RETURNING rows must be read to the end before other statements run on the connection. */
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n < (int)(sizeof f / sizeof f[0])) {
            f[n].id = sqlite3_column_int64(st, 0);
            f[n].sample = sqlite3_column_int64(st, 1);
            snprintf(f[n].error, sizeof f[n].error, "%s", (const char *)sqlite3_column_text(st, 2));
        }
        n++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE || n > (int)(sizeof f / sizeof f[0]))
        return -1; /* more than 64 at once: the next start takes the rest */
    for (int i = 0; i < n; i++) {
        srv_log(SRV_LOG_ERROR, "job %" PRId64 " of sample %" PRId64 " failed: %s", f[i].id,
                f[i].sample, f[i].error);
        if (srv_jobs_settle_sample(c, f[i].id, f[i].sample, f[i].error))
            return -1;
    }
    return n;
}

/* Jobs cut by a stop or a crash go back to the queue, unless they used up their attempts. */
static int recover(srv_db *db, int max_attempts)
{
    sqlite3 *c = srv_db_acquire(db);
    int rc = -1, n = 0, failed = 0;
    if (srv_db_begin(c))
        goto out;
    if ((failed = fail_exhausted(c, max_attempts)) < 0 ||
        srv_db_exec_id(c,
                       "UPDATE samples SET status = 'queued' WHERE id IN (SELECT sample_id FROM "
                       "jobs WHERE state = 'running')",
                       0) ||
        srv_db_exec_id(c, "UPDATE jobs SET state = 'queued', progress = 0 WHERE state = 'running'",
                       0))
        goto out;
    n = sqlite3_changes(c);
    if (srv_db_commit(c))
        goto out;
    if (n)
        srv_log(SRV_LOG_WARN, "%d jobs were running when the daemon last stopped: queued again", n);
    if (failed)
        srv_log(SRV_LOG_WARN, "%d jobs were cut %d times and failed for good", failed,
                max_attempts);
    rc = 0;
out:
    srv_db_rollback(c);
    srv_db_release(db, c);
    return rc;
}

/* What a crash left in the data folder: files renamed into place whose commit never came. */
static void sweep(srv_db *db, const char *data_dir)
{
    sqlite3 *c = srv_db_acquire(db);
    if (srv_uploads_sweep_orphans(c, data_dir) < 0)
        srv_log(SRV_LOG_WARN, "cannot look for orphan files in %s (database error)", data_dir);
    srv_db_release(db, c);
}

srv_jobs *srv_jobs_start(const srv_config *cfg, srv_db *db, char *err, size_t errlen)
{
    srv_jobs *q = calloc(1, sizeof *q);
    if (!q) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    q->cfg = cfg;
    q->db = db;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->wake, NULL);
    if (srv_datadir_prepare(cfg->data_dir, err, errlen))
        goto fail;
    read_test_hooks();
    if (recover(db, cfg->job_max_attempts > 0 ? cfg->job_max_attempts : 3)) {
        snprintf(err, errlen, "cannot re-queue the jobs of the previous run (database error)");
        goto fail;
    }
    sweep(db, cfg->data_dir);
    if (cfg->workers > 0 && !(q->threads = calloc((size_t)cfg->workers, sizeof *q->threads))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (int i = 0; i < cfg->workers; i++) {
        if (pthread_create(&q->threads[i], NULL, worker, q)) {
            snprintf(err, errlen, "cannot start job worker %d", i + 1);
            srv_jobs_stop(q);
            return NULL;
        }
        q->nthreads++;
    }
    pthread_mutex_lock(&running_lock);
    running_queue = q;
    pthread_mutex_unlock(&running_lock);
    srv_log(SRV_LOG_INFO, "%d job workers, data in %s", q->nthreads, cfg->data_dir);
    return q;
fail:
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->wake);
    free(q);
    return NULL;
}

void srv_jobs_stop(srv_jobs *q)
{
    if (!q)
        return;
    pthread_mutex_lock(&running_lock);
    if (running_queue == q)
        running_queue = NULL;
    pthread_mutex_unlock(&running_lock);
    pthread_mutex_lock(&q->lock);
    q->stop = 1;
    pthread_cond_broadcast(&q->wake);
    pthread_mutex_unlock(&q->lock);
    for (int i = 0; i < q->nthreads; i++)
        pthread_join(q->threads[i], NULL);
    free(q->threads);
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->wake);
    free(q);
}
