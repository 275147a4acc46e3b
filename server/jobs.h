/* The persistent job queue: jobs live in the `jobs` table (schema/003_pipeline.sql); --workers
 * threads claim them, run them (server/pipeline.h) and record the outcome. One queue per
 * process. JSON rule: functions ending in _new return a new reference. */
#ifndef SRV_JOBS_H
#define SRV_JOBS_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "server/status.h"

struct srv_config;
struct srv_db;

typedef struct srv_jobs srv_jobs;

/* Prepares the data folder, puts jobs found 'running' (the daemon stopped or crashed under
 * them) back to 'queued' -- or 'failed' ("interrupted N times") once they have started
 * cfg->job_max_attempts runs --, and starts cfg->workers worker threads, each holding one
 * connection of db (borrowed; must outlive the queue). NULL with a message in err on failure. Stop
 * with srv_jobs_stop(). */
srv_jobs *srv_jobs_start(const struct srv_config *cfg, struct srv_db *db, char *err, size_t errlen);
/* Asks the workers to stop, waits for each to finish its current job, joins them and frees.
 * NULL-safe. */
void srv_jobs_stop(srv_jobs *q);

/* Wakes the workers: call after committing a transaction that queued jobs. No-op when no queue
 * runs (tests, --workers 0). */
void srv_jobs_notify(void);

/* Queues a job of kind "analyse" or "recall" for sample_id on conn, inside the caller's
 * transaction, and moves the sample's status to 'queued'. Returns the job id, or -1 (logged). */
int64_t srv_jobs_enqueue(sqlite3 *conn, int64_t sample_id, const char *kind);

/* Puts the failed job back to 'queued' (error cleared) inside the caller's transaction; the
 * sample goes to 'queued'. SRV_OK; SRV_CLIENT when the job is not failed; SRV_INTERNAL on a
 * database error. */
srv_status srv_jobs_requeue(sqlite3 *conn, int64_t job_id);

/* The sample's status once job job_id of it ends, inside the caller's transaction: 'queued' when
 * another job of it waits or runs, else 'done' (error NULL) or 'failed' with error (borrowed).
 * 0, or -1 on a database error (logged). */
int srv_jobs_settle_sample(sqlite3 *conn, int64_t job_id, int64_t sample_id, const char *error);

/* The job as the API shows it ({"id", "sample_id", "accession", "patient_id", "kind", "state",
 * "progress", "error", "created_at", "started_at", "finished_at", "attempts"}), new, in *job:
 * SRV_OK, SRV_NOT_FOUND or SRV_INTERNAL (database error). */
srv_status srv_jobs_get(sqlite3 *conn, int64_t job_id, json_t **job);
/* {"job": ..., "job_url": "/api/v1/jobs/ID"}, new; NULL on error. */
json_t *srv_jobs_answer_new(sqlite3 *conn, int64_t job_id);
/* The newest job of a sample in *job_id: SRV_OK, SRV_NOT_FOUND when it has none, SRV_INTERNAL
 * on a database error. */
srv_status srv_jobs_latest(sqlite3 *conn, int64_t sample_id, int64_t *job_id);

#endif
