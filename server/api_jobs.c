/* REST resource jobs: GET /api/v1/jobs/{id}, GET /api/v1/jobs?state=&sample=&limit=&cursor=
 * (newest first), and POST /api/v1/jobs/{id}/retry (admin: a failed job queued again).
 * The job chain (schema/010): a finished job that a newer job of its sample replaced (a panel
 * activated after it failed, a replaced input, a re-run) is shown with state "superseded",
 * "superseded_by" and a "next" link, so a LIMS polling the job_url it was given is led on to
 * the job whose outcome counts instead of stopping at a stale "failed". */

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/api.h"
#include "server/auth.h"
#include "server/jobs.h"
#include "server/query.h"
#include "server/rows.h"

#define LIST_DEFAULT 50
#define LIST_MAX     1000

/* Adds the chain to a job as srv_jobs_get() gives it (job borrowed): "superseded_by" and "next"
 * (null while it is its sample's latest word), and state "superseded" when replaced. 0, or -1
 * on a database error. */
static int job_chain_add(sqlite3 *db, json_t *job)
{
    sqlite3_stmt *st = srv_db_prepare(db, "SELECT superseded_by FROM jobs WHERE id = ?");
    int rc = -1;
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)json_integer_value(json_object_get(job, "id")));
    if (sqlite3_step(st) == SQLITE_ROW) {
        rc = 0;
        if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
            json_object_set_new(job, "superseded_by", json_null());
            json_object_set_new(job, "next", json_null());
        } else {
            char url[64];
            int64_t next = sqlite3_column_int64(st, 0);
            snprintf(url, sizeof url, "/api/v1/jobs/%" PRId64, next);
            json_object_set_new(job, "state", json_string("superseded"));
            json_object_set_new(job, "superseded_by", json_integer((json_int_t)next));
            json_object_set_new(job, "next", json_string(url));
        }
    }
    sqlite3_finalize(st);
    return rc;
}

/* srv_jobs_get() with the chain: the job as the API shows it. */
static srv_status job_find(sqlite3 *db, int64_t id, json_t **job)
{
    srv_status st = srv_jobs_get(db, id, job);
    if (st == SRV_OK && job_chain_add(db, *job)) {
        json_decref(*job);
        *job = NULL;
        st = SRV_INTERNAL;
    }
    return st;
}

static enum MHD_Result job_get(srv_request *req)
{
    static const char *const allowed[] = {NULL};
    int64_t id;
    json_t *job;
    if (srv_query_check(req, allowed) || srv_param_id(req, 0, &id))
        return srv_validate_done(req);
    srv_status st = job_find(req->db, id, &job);
    if (st == SRV_OK && req->caller.role == SRV_ROLE_LIMS) { /* the LIMS reads its own jobs only */
        json_int_t sample = json_integer_value(json_object_get(job, "sample_id"));
        int own = srv_auth_uploaded_by(req->db, (int64_t)sample, req->caller.token_id);
        if (own != 1) {
            json_decref(job);
            job = NULL;
            st = own < 0 ? SRV_INTERNAL : SRV_NOT_FOUND;
        }
    }
    return srv_reply_lookup(req, st, job, "job");
}

static enum MHD_Result job_list(srv_request *req)
{
    static const char *const allowed[] = {"state", "sample", "limit", "cursor", NULL};
    static const char *const states[] = {"queued", "running", "done", "failed", "superseded", NULL};
    int state;
    long limit;
    srv_cursor after;
    const char *sample = srv_query(req, "sample");
    if (srv_query_check(req, allowed) || srv_query_enum(req, "state", states, &state) ||
        srv_query_int(req, "limit", 1, LIST_MAX, LIST_DEFAULT, &limit) ||
        srv_query_cursor(req, &after))
        return srv_validate_done(req);
    /* ?1 state as shown: a superseded job is one whatever state it ended in. */
    sqlite3_stmt *st = srv_db_prepare(
        req->db, "SELECT j.id FROM jobs j JOIN samples s ON s.id = j.sample_id "
                 "WHERE (?1 IS NULL OR (?1 = 'superseded' AND j.superseded_by IS NOT NULL) "
                 "OR (j.state = ?1 AND j.superseded_by IS NULL)) "
                 "AND (?2 IS NULL OR s.accession = ?2) AND (?3 = 0 OR j.id < ?3) "
                 "ORDER BY j.id DESC LIMIT ?4");
    if (!st)
        return srv_reply_internal(req, "cannot list jobs");
    if (state >= 0)
        sqlite3_bind_text(st, 1, states[state], -1, SQLITE_STATIC);
    if (sample)
        sqlite3_bind_text(st, 2, sample, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, after.present ? after.id : 0);
    sqlite3_bind_int64(st, 4, limit + 1);
    json_t *jobs = srv_rows_of_ids_new(req->db, st, job_find);
    sqlite3_finalize(st);
    return srv_reply_page(req, "jobs", jobs, limit, "id", NULL);
}

/* Answers 409 when job (borrowed) cannot be retried: it did not fail, or a newer job of its
 * sample replaced it (retrying would run an outdated job next to the live one). 0 when it can. */
static int retry_refused(srv_request *req, json_t *job)
{
    const char *state = json_string_value(json_object_get(job, "state"));
    if (!strcmp(state, "superseded")) {
        srv_reply_error(req, 409, "conflict", "state",
                        "job %" JSON_INTEGER_FORMAT " was superseded (see %s): retry that one",
                        json_integer_value(json_object_get(job, "id")),
                        json_string_value(json_object_get(job, "next")));
        return 1;
    }
    if (strcmp(state, "failed")) {
        srv_reply_error(req, 409, "conflict", "state",
                        "only a failed job can be retried (this one is %s)", state);
        return 1;
    }
    return 0;
}

static enum MHD_Result job_retry(srv_request *req)
{
    static const char *const allowed[] = {NULL};
    int64_t id;
    json_t *job = NULL, *answer = NULL;
    srv_status st;
    if (srv_query_check(req, allowed) || srv_param_id(req, 0, &id))
        return srv_validate_done(req);
    if (srv_db_begin(req->db))
        return srv_reply_internal(req, "cannot begin a transaction");
    if ((st = job_find(req->db, id, &job)) != SRV_OK) {
        srv_db_rollback(req->db);
        return srv_reply_lookup(req, st, job, "job");
    }
    if (retry_refused(req, job)) {
        srv_db_rollback(req->db);
        json_decref(job);
        return MHD_YES;
    }
    json_t *details = json_pack("{s:O}", "previous_error", json_object_get(job, "error"));
    json_decref(job);
    if (srv_jobs_requeue(req->db, id) != SRV_OK || srv_audit(req, "retry", "job", id, details) ||
        !(answer = srv_jobs_answer_new(req->db, id)) ||
        job_chain_add(req->db, json_object_get(answer, "job")) || srv_auth_recheck(req) ||
        srv_db_commit(req->db)) {
        json_decref(details);
        json_decref(answer);
        srv_db_rollback(req->db);
        return req->response ? MHD_YES : srv_reply_internal(req, "cannot retry a job");
    }
    json_decref(details);
    srv_jobs_notify();
    srv_log(SRV_LOG_INFO, "job %" PRId64 " queued again by an admin", id);
    return srv_reply_json(req, 202, answer);
}

const srv_route srv_jobs_routes[] = {
    {.method = "GET",
     .path = "/api/v1/jobs",
     .handler = job_list,
     .roles = SRV_ROLE_CLINICIAN | SRV_ROLE_ADMIN,
     .query = (const char *const[]){"state", "sample", "limit", "cursor", NULL}},
    {.method = "GET",
     .path = "/api/v1/jobs/{id}",
     .handler = job_get,
     .roles = SRV_ROLE_LIMS | SRV_ROLE_CLINICIAN | SRV_ROLE_ADMIN},
    {.method = "POST",
     .path = "/api/v1/jobs/{id}/retry",
     .handler = job_retry,
     .roles = SRV_ROLE_ADMIN},
    {0},
};
