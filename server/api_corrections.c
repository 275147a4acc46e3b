/* Corrections of wrong data (issue 12, docs/api-corrections.md): a sample's dates and assay
 * (PATCH /api/v1/samples/{accession}), a draw registered to the wrong patient (POST .../move),
 * a result that must not count (POST/DELETE .../retract), a finished sample's input replaced
 * (POST .../replace-input), and a patient erased with everything of hers (DELETE
 * /api/v1/patients/{id}, consent withdrawal).
 *
 * Every correction is one transaction holding the change, its audit row ({"before", "after"}
 * and the reason given) and the monitoring recompute of every patient whose series it touched
 * (server/monitor.h), so the trend and the alerts never show the uncorrected data once the answer
 * is sent. Files of dropped inputs are removed after the COMMIT (server/corrections.h).
 * Accessions, external ids and reasons are never logged; database ids are. */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "server/api_clinical.h"
#include "server/corrections.h"
#include "server/monitor.h"
#include "server/options.h"

/* Who may do what (docs/api-corrections.md explains the choice). */
#define DATE_FIXERS (SRV_ROLE_LIMS | SRV_ROLE_ADMIN)      /* LIMS only before a result */
#define RETRACTORS  (SRV_ROLE_CLINICIAN | SRV_ROLE_ADMIN) /* a clinical judgement */
#define REASON_MAX  500

static const char *const assays[] = {"swgs", "bins", "ddpcr", NULL};

/* The fields PATCH /samples/{accession} may change. */
static const srv_clin_field patch_fields[] = {
    {.name = "collected_at", .kind = SRV_CLIN_DATE},
    /* HH:MM of the draw (schema/010), null to clear; its format is checked by srv_get_time */
    {.name = "collected_time", .kind = SRV_CLIN_TEXT, .flags = SRV_CLIN_NULLABLE, .max_len = 5},
    {.name = "received_at", .kind = SRV_CLIN_DATE},
    {.name = "assay", .kind = SRV_CLIN_ENUM, .choices = assays},
    {0},
};

/* ---------------------------------------------------------------- shared steps */

/* Inside the open transaction: the sample named by path parameter 0 (its accession) as a new
 * object; NULL after answering 404 or 500 (rolled back). */
static json_t *sample_load_new(srv_request *req)
{
    json_t *key = req->nparams > 0 && req->params[0] ? json_string(req->params[0]) : NULL;
    json_t *row = NULL;
    srv_status st = key ? srv_row_find(req->db, "samples", "accession", key, &row) : SRV_NOT_FOUND;
    json_decref(key);
    if (st == SRV_OK)
        return row;
    if (st == SRV_NOT_FOUND)
        srv_clin_reject(req, 404, "not_found", NULL, "no such sample");
    else
        srv_clin_abort(req, "cannot read a sample");
    return NULL;
}

static int64_t id_of(json_t *row, const char *key)
{
    return (int64_t)json_integer_value(json_object_get(row, key));
}

/* One integer of sql (?1 = id), or -1 on an SQL error. */
static int64_t fact(srv_request *req, const char *sql, int64_t id)
{
    json_t *args = json_pack("[I]", (json_int_t)id);
    json_t *rows = args ? srv_rows_query_new(req->db, sql, args) : NULL;
    json_t *first = json_array_get(rows, 0);
    const char *key;
    json_t *v;
    int64_t n = -1;
    json_object_foreach(first, key, v)
    {
        n = (int64_t)json_integer_value(v);
        break;
    }
    json_decref(args);
    json_decref(rows);
    return n;
}

/* The "reason" a correction must give, with no other field than those of `allowed`: 0, or -1
 * after answering 422 (nothing begun). */
static int read_reason(srv_request *req, const char *const *allowed, const char **reason)
{
    if (srv_check_fields(req, req->json, allowed) ||
        srv_get_string(req, req->json, "reason", 1, REASON_MAX, reason))
        return -1;
    return 0;
}

/* A draw's dates as they would be stored (record), against its patient: no draw more than a
 * year before the diagnosis, none received before it was drawn (the rule of POST
 * /patients/{id}/samples). 0, or -1 after answering 422 (rolled back). */
static int check_dates(srv_request *req, json_t *record, int64_t patient_id)
{
    json_t *patient = NULL;
    char year_before[11];
    const char *collected = json_string_value(json_object_get(record, "collected_at"));
    const char *received = json_string_value(json_object_get(record, "received_at"));
    if (srv_row_by_id(req->db, "patients", patient_id, &patient) != SRV_OK) {
        srv_clin_abort(req, "cannot read a sample's patient");
        return -1;
    }
    srv_clin_year_before(json_string_value(json_object_get(patient, "diagnosis_date")),
                         year_before);
    json_decref(patient);
    if (collected && strcmp(collected, year_before) < 0) {
        srv_clin_reject(req, 422, "invalid_date", "collected_at",
                        "collected_at is more than one year before the patient's diagnosis_date");
        return -1;
    }
    if (collected && received && strcmp(received, collected) < 0) {
        srv_clin_reject(req, 422, "invalid_date", "received_at",
                        "received_at is before collected_at");
        return -1;
    }
    return 0;
}

/* Inside the open transaction: applies values to sample id (stored as have), writes the audit
 * row `action` with {"before", "after"} (and "reason" when given) and recomputes the monitoring
 * of each patient id in pids (0 ends the list). The sample as stored now, or NULL (logged). */
static json_t *apply_new(srv_request *req, json_t *have, json_t *values, const char *action,
                         const char *reason, const int64_t *pids)
{
    int64_t id = id_of(have, "id");
    json_t *row = NULL, *details = NULL;
    int bad = srv_row_update(req->db, "samples", id, values) ||
              !(details = srv_row_changes_new(have, values)) ||
              (reason && json_object_set_new(details, "reason", json_string(reason))) ||
              srv_audit(req, action, "sample", id, details);
    for (size_t i = 0; !bad && pids[i]; i++)
        bad = srv_monitor_recompute(req->db, pids[i]) != 0;
    if (!bad && srv_row_by_id(req->db, "samples", id, &row) != SRV_OK)
        bad = 1;
    json_decref(details);
    if (bad) {
        json_decref(row);
        return NULL;
    }
    return row;
}

/* Ends a correction once applied (row NULL: it failed): commit and answer 200 with the row. */
static void finish(srv_request *req, json_t *row, const char *what)
{
    if (!row) {
        srv_clin_abort(req, "cannot correct a sample");
        return;
    }
    srv_clin_commit_reply(req, 200, json_incref(row), "%s sample %" PRId64 " of patient %" PRId64,
                          what, id_of(row, "id"), id_of(row, "patient_id"));
}

/* ---------------------------------------------------------------- PATCH a sample */

/* The LIMS corrects a draw until its result is in; an admin at any time. The assay follows the
 * input: it may change only while there is none (after replace-input, for instance). */
static int patch_allowed(srv_request *req, json_t *have, json_t *changes)
{
    int64_t id = id_of(have, "id");
    int64_t has_result = fact(req, "SELECT count(*) FROM results WHERE sample_id = ?1", id);
    int64_t has_input = fact(req, "SELECT count(*) FROM sample_inputs WHERE sample_id = ?1", id);
    json_t *assay = json_object_get(changes, "assay");
    if (has_result < 0 || has_input < 0) {
        srv_clin_abort(req, "cannot read a sample's state");
        return -1;
    }
    if (has_result && req->caller.role == SRV_ROLE_LIMS) {
        srv_clin_reject(req, 403, "forbidden", NULL,
                        "this sample has a result: an admin corrects it");
        return -1;
    }
    if (assay && !json_equal(assay, json_object_get(have, "assay")) && has_input) {
        srv_clin_reject(req, 409, "input_exists", "assay",
                        "the assay cannot change once an input is uploaded: replace the input "
                        "first (POST /api/v1/samples/{accession}/replace-input)");
        return -1;
    }
    return 0;
}

static enum MHD_Result sample_patch(srv_request *req)
{
    const char *time;
    json_t *changes = NULL, *have = NULL, *merged = NULL;
    if (srv_get_time(req, req->json, "collected_time", &time) ||
        !(changes = srv_clin_body_new(req, patch_fields, 0)) || srv_clin_begin(req) ||
        !(have = sample_load_new(req)))
        goto out;
    int64_t pids[] = {id_of(have, "patient_id"), 0};
    if (patch_allowed(req, have, changes) || !(merged = json_copy(have)) ||
        json_object_update(merged, changes) || check_dates(req, merged, pids[0]))
        goto out;
    json_t *row = apply_new(req, have, changes, "update", NULL, pids);
    finish(req, row, "corrected");
    json_decref(row);
out:
    if (!req->answered)
        srv_clin_abort(req, "out of memory");
    json_decref(changes);
    json_decref(have);
    json_decref(merged);
    return srv_clin_done(req);
}

/* ---------------------------------------------------------------- move to another patient */

static enum MHD_Result sample_move(srv_request *req)
{
    static const char *const allowed[] = {"patient_id", "reason", NULL};
    const char *reason;
    int64_t to = 0;
    json_t *have = NULL, *target = NULL, *values = NULL;

    if (read_reason(req, allowed, &reason) ||
        srv_get_int(req, req->json, "patient_id", 1, 1, INT64_MAX, &to, NULL))
        return srv_clin_done(req);
    if (srv_clin_begin(req) || !(have = sample_load_new(req)))
        goto out;
    int64_t pids[] = {id_of(have, "patient_id"), to, 0};
    srv_status st = srv_row_by_id(req->db, "patients", to, &target);
    if (pids[0] == to)
        srv_clin_reject(req, 422, "invalid_value", "patient_id",
                        "the sample already belongs to this patient");
    else if (st == SRV_NOT_FOUND)
        srv_clin_reject(req, 422, "invalid_value", "patient_id", "no such patient");
    else if (st != SRV_OK)
        srv_clin_abort(req, "cannot read the target patient");
    else if (!check_dates(req, have, to)) {
        values = json_pack("{s:I}", "patient_id", (json_int_t)to);
        json_t *row = values ? apply_new(req, have, values, "move", reason, pids) : NULL;
        finish(req, row, "moved");
        json_decref(row);
    }
out:
    json_decref(have);
    json_decref(target);
    json_decref(values);
    return srv_clin_done(req);
}

/* ---------------------------------------------------------------- retraction */

static void now_iso(char out[21])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static enum MHD_Result sample_retract(srv_request *req)
{
    static const char *const allowed[] = {"reason", NULL};
    const char *reason;
    char now[21];
    json_t *have = NULL, *values = NULL;

    if (read_reason(req, allowed, &reason))
        return srv_clin_done(req);
    if (srv_clin_begin(req) || !(have = sample_load_new(req)))
        goto out;
    int64_t pids[] = {id_of(have, "patient_id"), 0};
    const char *was = json_string_value(json_object_get(have, "retraction_reason"));
    if (was && !strcmp(was, reason)) { /* a resend: nothing to do */
        srv_db_rollback(req->db);
        srv_reply_json(req, 200, json_incref(have));
    } else if (was)
        srv_clin_reject(req, 409, "already_retracted", "reason",
                        "this result is already retracted with another reason: un-retract it "
                        "first (DELETE .../retract)");
    else {
        now_iso(now);
        values = json_pack("{s:s, s:s, s:s}", "retracted_at", now, "retraction_reason", reason,
                           "retracted_by", req->caller.name);
        json_t *row = values ? apply_new(req, have, values, "retract", NULL, pids) : NULL;
        finish(req, row, "retracted");
        json_decref(row);
    }
out:
    json_decref(have);
    json_decref(values);
    return srv_clin_done(req);
}

static enum MHD_Result sample_unretract(srv_request *req)
{
    json_t *have = NULL, *values = NULL;
    if (srv_clin_begin(req) || !(have = sample_load_new(req)))
        goto out;
    int64_t pids[] = {id_of(have, "patient_id"), 0};
    if (json_is_null(json_object_get(have, "retracted_at")))
        srv_clin_reject(req, 409, "not_retracted", NULL, "this result is not retracted");
    else if (!(values = json_pack("{s:n, s:n, s:n}", "retracted_at", "retraction_reason",
                                  "retracted_by")))
        srv_clin_abort(req, "out of memory");
    else {
        json_t *row = apply_new(req, have, values, "unretract", NULL, pids);
        finish(req, row, "un-retracted");
        json_decref(row);
    }
out:
    json_decref(have);
    json_decref(values);
    return srv_clin_done(req);
}

/* ---------------------------------------------------------------- input replacement */

/* Removes the files queued by a committed correction (a failure leaves them queued for the
 * start-up sweep: never an error of the request, which is already answered). */
static void remove_files(srv_request *req)
{
    if (req->status < 300 && srv_corr_remove_files(req->db, req->cfg->data_dir) < 0)
        srv_log(SRV_LOG_WARN, "files of a correction left for the start-up sweep");
}

static enum MHD_Result sample_replace_input(srv_request *req)
{
    static const char *const allowed[] = {"reason", NULL};
    const char *reason;
    srv_status st;
    json_t *have = NULL, *dropped = NULL, *details = NULL, *row = NULL;

    if (read_reason(req, allowed, &reason))
        return srv_clin_done(req);
    if (srv_clin_begin(req) || !(have = sample_load_new(req)))
        goto out;
    int64_t id = id_of(have, "id"), pid = id_of(have, "patient_id");
    dropped = srv_corr_reset_input_new(req->db, id, &st);
    if (st == SRV_NOT_FOUND)
        srv_clin_reject(req, 409, "no_input", NULL,
                        "this sample has no input to replace: upload one (PUT "
                        "/api/v1/samples/{accession}/reads, .../bins or .../ddpcr)");
    else if (st == SRV_CLIENT)
        srv_clin_reject(req, 409, "job_active", NULL,
                        "a job of this sample is queued or running: wait for it to end");
    else if (st != SRV_OK ||
             !(details = json_pack("{s:O, s:{s:s, s:n, s:n}, s:s}", "before", dropped, "after",
                                   "status", "received", "input", "result", "reason", reason)) ||
             srv_audit(req, "replace_input", "sample", id, details) ||
             srv_monitor_recompute(req->db, pid) ||
             srv_row_by_id(req->db, "samples", id, &row) != SRV_OK)
        srv_clin_abort(req, "cannot reset a sample's input");
    else {
        finish(req, row, "reset the input of");
        remove_files(req);
    }
out:
    json_decref(have);
    json_decref(dropped);
    json_decref(details);
    json_decref(row);
    return srv_clin_done(req);
}

/* ---------------------------------------------------------------- erasure */

static enum MHD_Result patient_erase(srv_request *req)
{
    json_t *patient = NULL, *counts = NULL, *details = NULL;
    srv_status st;
    if (srv_clin_begin(req) || !(patient = srv_clin_patient_new(req, 1)))
        goto out;
    int64_t id = id_of(patient, "id");
    counts = srv_corr_erase_patient_new(req->db, id, &st);
    if (st == SRV_CLIENT)
        srv_clin_reject(req, 409, "job_running", NULL,
                        "a job of this patient's samples is running: try again when it ends");
    /* The audit row names her by internal id only: no external id, no accession. */
    else if (st != SRV_OK || !(details = json_pack("{s:b, s:O}", "erased", 1, "deleted", counts)) ||
             srv_audit(req, "erase", "patient", id, details))
        srv_clin_abort(req, "cannot erase a patient");
    else {
        srv_clin_commit_reply(
            req, 200,
            json_pack("{s:b, s:I, s:O}", "erased", 1, "id", (json_int_t)id, "deleted", counts),
            "erased patient %" PRId64, id);
        remove_files(req);
    }
out:
    json_decref(patient);
    json_decref(counts);
    json_decref(details);
    return srv_clin_done(req);
}

const srv_route srv_corrections_routes[] = {
    {.method = "PATCH",
     .path = "/api/v1/samples/{accession}",
     .handler = sample_patch,
     .roles = DATE_FIXERS,
     .body = SRV_BODY_JSON},
    {.method = "POST",
     .path = "/api/v1/samples/{accession}/move",
     .handler = sample_move,
     .roles = SRV_ROLE_ADMIN,
     .body = SRV_BODY_JSON},
    {.method = "POST",
     .path = "/api/v1/samples/{accession}/retract",
     .handler = sample_retract,
     .roles = RETRACTORS,
     .body = SRV_BODY_JSON},
    {.method = "DELETE",
     .path = "/api/v1/samples/{accession}/retract",
     .handler = sample_unretract,
     .roles = RETRACTORS},
    {.method = "POST",
     .path = "/api/v1/samples/{accession}/replace-input",
     .handler = sample_replace_input,
     .roles = SRV_ROLE_ADMIN,
     .body = SRV_BODY_JSON},
    {.method = "DELETE",
     .path = "/api/v1/patients/{id}",
     .handler = patient_erase,
     .roles = SRV_ROLE_ADMIN},
    {0},
};
