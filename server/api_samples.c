/* REST resource samples: blood draws registered by the LIMS (POST /api/v1/patients/{id}/samples,
 * or POST /api/v1/samples naming the patient by external id; idempotent by accession;
 * GET /api/v1/samples/{accession}; GET /api/v1/patients/{id}/samples), and what a LIMS syncs:
 * GET /api/v1/samples and GET /api/v1/results (paged by id, `updated_since`), and
 * GET /api/v1/patients/by-external-id/{external_id}. Results arrive later by upload; the
 * accession and the external id are never logged. */

#include <inttypes.h>
#include <limits.h>
#include <string.h>

#include "core/date.h"
#include "server/resource.h"

#define LIST_DEFAULT 100
#define LIST_MAX     1000

static const char *const assays[] = {"swgs", "bins", "ddpcr", NULL};

static const srv_clin_field sample_fields[] = {
    {.name = "accession",
     .kind = SRV_CLIN_KEY,
     .flags = SRV_CLIN_REQUIRED | SRV_CLIN_FIXED,
     .max_len = 64},
    {.name = "collected_at", .kind = SRV_CLIN_DATE, .flags = SRV_CLIN_REQUIRED},
    /* HH:MM of the draw at the site (--time-zone); its format is checked by srv_get_time() */
    {.name = "collected_time", .kind = SRV_CLIN_TEXT, .flags = SRV_CLIN_NULLABLE, .max_len = 5},
    /* absent: the registration day (schema default), and not compared on a resend */
    {.name = "received_at", .kind = SRV_CLIN_DATE},
    {.name = "assay", .kind = SRV_CLIN_ENUM, .flags = SRV_CLIN_REQUIRED, .choices = assays},
    {0},
};

/* A draw cannot reach the lab before it is taken, and monitoring starts at diagnosis: a draw
 * more than a year earlier is a typo or the wrong patient. */
static const char *sample_check(json_t *patient, json_t *s, const char **message)
{
    const char *collected = json_string_value(json_object_get(s, "collected_at"));
    const char *received = json_string_value(json_object_get(s, "received_at"));
    const char *diagnosis = json_string_value(json_object_get(patient, "diagnosis_date"));
    char year_before[11];

    if (!collected || !diagnosis)
        return NULL;
    srv_clin_year_before(diagnosis, year_before);
    if (strcmp(collected, year_before) < 0) {
        *message = "collected_at is more than one year before the patient's diagnosis_date";
        return "collected_at";
    }
    if (received && strcmp(received, collected) < 0) {
        *message = "received_at is before collected_at";
        return "received_at";
    }
    return NULL;
}

static const srv_clin_child samples = {
    .table = "samples",
    .entity = "sample",
    .list_key = "samples",
    .order = "collected_at, id",
    .fields = sample_fields,
    .check = sample_check,
};

/* An absent received_at is the registration day at the site (the schema's default, date('now'),
 * is the UTC day, which in Sydney's morning is before a draw taken the same day). */
static int received_default(json_t *want)
{
    char today[11];
    if (json_is_string(json_object_get(want, "received_at")))
        return 0;
    rw_date_format(srv_today(), today);
    return json_object_set_new(want, "received_at", json_string(today));
}

/* Inside the open transaction: the sample `want` of patient pid, created (201), or the one its
 * accession already names (200 when it agrees, 409 when it differs or is another patient's). */
static void register_sample(srv_request *req, json_t *want, json_int_t pid)
{
    json_t *have = NULL, *row = NULL;
    int64_t id;
    /* BEGIN IMMEDIATE serialises writers, so look-up then insert cannot race a twin request. */
    srv_status st =
        srv_row_find(req->db, "samples", "accession", json_object_get(want, "accession"), &have);
    if (st == SRV_OK && json_integer_value(json_object_get(have, "patient_id")) != pid)
        srv_clin_reject(req, 409, "conflict", "accession",
                        "this accession is registered for another patient");
    else if (st == SRV_OK)
        srv_clin_answer_existing(req, sample_fields, want, have, "a sample with this accession");
    else if (st != SRV_NOT_FOUND)
        srv_clin_abort(req, "cannot look up a sample");
    else if (json_object_set_new(want, "patient_id", json_integer(pid)) || received_default(want) ||
             !(row = srv_clin_create_new(req, "samples", "sample", want, &id)))
        srv_clin_abort(req, "cannot create a sample");
    else
        srv_clin_commit_reply(req, 201, json_incref(row),
                              "created sample %" PRId64 " of patient %" JSON_INTEGER_FORMAT, id,
                              pid);
    json_decref(have);
    json_decref(row);
}

/* Registers the checked sample `want` for patient (both borrowed) inside the open transaction. */
static void register_checked(srv_request *req, json_t *want, json_t *patient)
{
    const char *field, *message = NULL;
    if ((field = sample_check(patient, want, &message)))
        srv_clin_reject(req, 422, "invalid_date", field, message);
    else
        register_sample(req, want, json_integer_value(json_object_get(patient, "id")));
}

/* The sample fields of req->json, checked (collected_time's format first); new, or NULL once
 * answered. */
static json_t *sample_body_new(srv_request *req)
{
    const char *time;
    if (srv_get_time(req, req->json, "collected_time", &time))
        return NULL;
    return srv_clin_body_new(req, sample_fields, 1);
}

static enum MHD_Result sample_create(srv_request *req)
{
    json_t *want, *patient = NULL;

    if ((want = sample_body_new(req)) && srv_clin_begin(req) == 0 &&
        (patient = srv_clin_patient_new(req, 1)))
        register_checked(req, want, patient);
    json_decref(want);
    json_decref(patient);
    return srv_clin_done(req);
}

/* The patient a POST /samples body names, by exactly one of patient_external_id and patient_id
 * (both taken out of req->json so the rest is the sample), in the open transaction: new, or NULL
 * once answered (422, 404: rolled back). */
static json_t *named_patient_new(srv_request *req)
{
    const char *ext;
    int64_t id = 0;
    int has_id = 0;
    json_t *key, *patient = NULL;
    srv_status st;
    if (srv_get_string(req, req->json, "patient_external_id", 0, 64, &ext) ||
        srv_get_int(req, req->json, "patient_id", 0, 1, INT64_MAX, &id, &has_id))
        return NULL;
    if (!ext == !has_id) {
        srv_reply_error(req, 422, ext ? "invalid_value" : "missing_field",
                        ext ? "patient_id" : "patient_external_id",
                        "name the patient by exactly one of patient_external_id and patient_id");
        return NULL;
    }
    key = ext ? json_string(ext) : json_integer((json_int_t)id);
    st = key ? srv_row_find(req->db, "patients", ext ? "external_id" : "id", key, &patient)
             : SRV_INTERNAL;
    json_decref(key);
    if (st == SRV_NOT_FOUND)
        srv_reply_error(req, 404, "not_found", ext ? "patient_external_id" : "patient_id",
                        "no such patient: register it first (POST /api/v1/patients)");
    else if (st != SRV_OK)
        srv_reply_internal(req, "cannot read a patient");
    return patient;
}

/* POST /api/v1/samples: as POST /patients/{id}/samples, the patient named in the body. */
static enum MHD_Result sample_register(srv_request *req)
{
    json_t *want = NULL, *patient = NULL;
    if (srv_clin_begin(req))
        return srv_clin_done(req);
    if ((patient = named_patient_new(req))) {
        json_object_del(req->json, "patient_external_id");
        json_object_del(req->json, "patient_id");
        if ((want = sample_body_new(req)))
            register_checked(req, want, patient);
    }
    if (!want) /* answered (422, 404) before anything was written */
        srv_db_rollback(req->db);
    json_decref(want);
    json_decref(patient);
    return srv_clin_done(req);
}

static enum MHD_Result sample_get(srv_request *req)
{
    json_t *key, *row = NULL;
    srv_status st = SRV_NOT_FOUND;

    if (req->nparams < 1 || !req->params[0])
        return srv_reply_error(req, 404, "not_found", NULL, "no such sample");
    key = json_string(req->params[0]); /* NULL when not UTF-8: then no such sample either */
    if (key)
        st = srv_row_find(req->db, "samples", "accession", key, &row);
    json_decref(key);
    if (st == SRV_OK)
        return srv_audit_read_reply(req, "sample", json_integer_value(json_object_get(row, "id")),
                                    row);
    if (st != SRV_NOT_FOUND)
        return srv_reply_internal(req, "cannot read a sample");
    return srv_reply_error(req, 404, "not_found", NULL, "no such sample");
}

/* ---------------------------------------------------------------- what a LIMS syncs */

/* The paging parameters every sync list shares: limit, cursor (id order), updated_since and
 * patient_id. 0, or -1 once answered 422. */
typedef struct sync_params {
    long limit, patient_id;
    srv_cursor after;
    char since_buf[32];
    const char *since; /* NULL: any */
} sync_params;

static int sync_params_read(srv_request *req, sync_params *p)
{
    return srv_query_int(req, "limit", 1, LIST_MAX, LIST_DEFAULT, &p->limit) ||
                   srv_query_int(req, "patient_id", 1, LONG_MAX, 0, &p->patient_id) ||
                   srv_query_cursor(req, &p->after) ||
                   srv_query_updated_since(req, p->since_buf, &p->since)
               ? -1
               : 0;
}

/* The rows of one page of sql (whose ?1..?4 are: last id, updated_since, patient_id, limit + 1;
 * ?5 is extra, or NULL), new; NULL on an SQL error. */
static json_t *sync_rows_new(srv_request *req, const sync_params *p, const char *sql,
                             const char *extra)
{
    json_t *args = json_pack("[I, s?, I, I, s?]", (json_int_t)(p->after.present ? p->after.id : 0),
                             p->since, (json_int_t)p->patient_id, (json_int_t)p->limit + 1, extra);
    json_t *rows = args ? srv_rows_query_new(req->db, sql, args) : NULL;
    json_decref(args);
    return rows;
}

/* GET /api/v1/samples?updated_since=&patient_id=&status=&limit=&cursor=: every draw in id order. */
static enum MHD_Result sample_list(srv_request *req)
{
    static const char *const statuses[] = {"received", "queued", "processing",
                                           "done",     "failed", NULL};
    sync_params p;
    int status;
    if (sync_params_read(req, &p) || srv_query_enum(req, "status", statuses, &status))
        return srv_validate_done(req);
    json_t *rows =
        sync_rows_new(req, &p,
                      "SELECT * FROM samples WHERE id > ?1 AND (?2 IS NULL OR updated_at >= ?2) "
                      "AND (?3 = 0 OR patient_id = ?3) AND (?5 IS NULL OR status = ?5) "
                      "ORDER BY id LIMIT ?4",
                      status >= 0 ? statuses[status] : NULL);
    if (rows && srv_audit_read(req, "samples", 0)) { /* a bulk read: traced, or not served */
        json_decref(rows);
        return MHD_YES;
    }
    return srv_reply_page(req, "samples", rows, p.limit, "id", NULL);
}

/* GET /api/v1/results?updated_since=&patient_id=&limit=&cursor=: the 1q21.3 call of every draw
 * with a result, in sample id order; the full result is at profile_url. */
static enum MHD_Result result_list(srv_request *req)
{
    sync_params p;
    if (sync_params_read(req, &p))
        return srv_validate_done(req);
    json_t *rows =
        sync_rows_new(req, &p,
                      "SELECT r.sample_id, s.accession, s.patient_id, r.assay, r.job_id, r.call, "
                      "r.strong, r.ratio, r.ratio_low, r.ratio_high, r.z, r.computed_at, "
                      "r.updated_at, '/api/v1/samples/' || s.accession || '/profile' AS "
                      "profile_url FROM results r JOIN samples s ON s.id = r.sample_id "
                      "WHERE r.sample_id > ?1 AND (?2 IS NULL OR r.updated_at >= ?2) "
                      "AND (?3 = 0 OR s.patient_id = ?3) AND ?5 IS NULL "
                      "ORDER BY r.sample_id LIMIT ?4",
                      NULL);
    /* stored 0/1: a JSON boolean, as in the profile */
    srv_rows_booleans(rows, (const char *const[]){"strong", NULL});
    if (rows && srv_audit_read(req, "results", 0)) { /* a bulk read: traced, or not served */
        json_decref(rows);
        return MHD_YES;
    }
    return srv_reply_page(req, "results", rows, p.limit, "sample_id", NULL);
}

/* GET /api/v1/patients/by-external-id/{external_id}: the patient the hospital's id names. */
static enum MHD_Result patient_by_external_id(srv_request *req)
{
    json_t *key = req->nparams > 0 ? json_string(req->params[0]) : NULL, *row = NULL;
    srv_status st = key ? srv_row_find(req->db, "patients", "external_id", key, &row)
                        : SRV_NOT_FOUND; /* not UTF-8: no such patient either */
    json_decref(key);
    if (st == SRV_OK)
        return srv_audit_read_reply(req, "patient", json_integer_value(json_object_get(row, "id")),
                                    row);
    if (st != SRV_NOT_FOUND)
        return srv_reply_internal(req, "cannot read a patient");
    return srv_reply_error(req, 404, "not_found", NULL, "no patient with this external_id");
}

#define SAMPLE_READERS (SRV_ROLE_LIMS | SRV_ROLE_CLINICIAN | SRV_ROLE_VIEWER | SRV_ROLE_ADMIN)

const srv_route srv_samples_routes[] = {
    {.method = "POST",
     .path = "/api/v1/patients/{id}/samples",
     .handler = sample_create,
     .roles = SRV_ROLE_LIMS,
     .body = SRV_BODY_JSON},
    {.method = "GET",
     .path = "/api/v1/patients/{id}/samples",
     .handler = srv_clin_child_list,
     .query = SRV_CLIN_LIST_QUERY,
     .ctx = &samples,
     .roles = SRV_ROLE_LIMS | SRV_ROLE_CLINICIAN | SRV_ROLE_VIEWER | SRV_ROLE_ADMIN},
    {.method = "GET",
     .path = "/api/v1/samples/{accession}",
     .handler = sample_get,
     .roles = SAMPLE_READERS},
    {.method = "POST",
     .path = "/api/v1/samples",
     .handler = sample_register,
     .roles = SRV_ROLE_LIMS,
     .body = SRV_BODY_JSON},
    {.method = "GET",
     .path = "/api/v1/samples",
     .handler = sample_list,
     .roles = SAMPLE_READERS,
     .query =
         (const char *const[]){"limit", "cursor", "updated_since", "patient_id", "status", NULL}},
    {.method = "GET",
     .path = "/api/v1/results",
     .handler = result_list,
     .roles = SAMPLE_READERS,
     .query = (const char *const[]){"limit", "cursor", "updated_since", "patient_id", NULL}},
    {.method = "GET",
     .path = "/api/v1/patients/by-external-id/{external_id}",
     .handler = patient_by_external_id,
     .roles = SAMPLE_READERS},
    {0},
};
