/* REST resource jobs: GET /api/v1/jobs/{id}, GET /api/v1/jobs?state=&limit= (newest first), and
 * POST /api/v1/jobs/{id}/retry (admin: a failed job queued again). */

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "server/api.h"
#include "server/jobs.h"
#include "server/rows.h"

static enum MHD_Result job_get(srv_request *req)
{
    int64_t id;
    json_t *job;
    if (srv_param_id(req, 0, &id))
        return srv_validate_done(req);
    srv_status st = srv_jobs_get(req->db, id, &job);
    return srv_reply_lookup(req, st, job, "job");
}

static enum MHD_Result job_list(srv_request *req)
{
    static const char *const states[] = {"queued", "running", "done", "failed", NULL};
    const char *state = srv_query(req, "state");
    const char *limit_text = srv_query(req, "limit");
    long limit = 50;
    if (state) {
        int ok = 0;
        for (int i = 0; states[i]; i++)
            ok |= !strcmp(state, states[i]);
        if (!ok)
            return srv_reply_error(req, 422, "invalid_value", "state",
                                   "state must be one of queued, running, done, failed");
    }
    if (limit_text) {
        char *end;
        limit = strtol(limit_text, &end, 10);
        if (!*limit_text || *end || limit < 1 || limit > 1000)
            return srv_reply_error(req, 422, "invalid_value", "limit",
                                   "limit must be an integer in 1..1000");
    }
    sqlite3_stmt *st = srv_db_prepare(
        req->db, "SELECT id FROM jobs WHERE ?1 IS NULL OR state = ?1 ORDER BY id DESC LIMIT ?2");
    if (!st)
        return srv_reply_internal(req, "cannot list jobs");
    if (state)
        sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, limit);
    json_t *jobs = srv_rows_of_ids_new(req->db, st, srv_jobs_get);
    sqlite3_finalize(st);
    return srv_reply_list(req, "jobs", jobs);
}

static enum MHD_Result job_retry(srv_request *req)
{
    int64_t id;
    json_t *job = NULL, *answer = NULL;
    srv_status st;
    if (srv_param_id(req, 0, &id))
        return srv_validate_done(req);
    if (srv_db_begin(req->db))
        return srv_reply_internal(req, "cannot begin a transaction");
    if ((st = srv_jobs_get(req->db, id, &job)) != SRV_OK) {
        srv_db_rollback(req->db);
        return srv_reply_lookup(req, st, job, "job");
    }
    st = srv_jobs_requeue(req->db, id);
    if (st == SRV_CLIENT) {
        srv_db_rollback(req->db);
        srv_reply_error(req, 409, "conflict", "state",
                        "only a failed job can be retried (this one is %s)",
                        json_string_value(json_object_get(job, "state")));
        json_decref(job);
        return MHD_YES;
    }
    json_t *details = json_pack("{s:O}", "previous_error", json_object_get(job, "error"));
    json_decref(job);
    if (st != SRV_OK || srv_audit(req, "retry", "job", id, details) ||
        !(answer = srv_jobs_answer_new(req->db, id)) || srv_db_commit(req->db)) {
        json_decref(details);
        json_decref(answer);
        srv_db_rollback(req->db);
        return srv_reply_internal(req, "cannot retry a job");
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
