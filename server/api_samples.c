/* REST resource samples: blood draws registered by the LIMS (POST /api/v1/patients/{id}/samples,
 * idempotent by accession; GET /api/v1/samples/{accession}; GET /api/v1/patients/{id}/samples).
 * Results arrive later by upload; the accession is never logged. */

#include <inttypes.h>
#include <string.h>

#include "server/resource.h"

static const char *const assays[] = {"swgs", "bins", "ddpcr", NULL};

static const srv_clin_field sample_fields[] = {
    {.name = "accession",
     .kind = SRV_CLIN_KEY,
     .flags = SRV_CLIN_REQUIRED | SRV_CLIN_FIXED,
     .max_len = 64},
    {.name = "collected_at", .kind = SRV_CLIN_DATE, .flags = SRV_CLIN_REQUIRED},
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
    else if (json_object_set_new(want, "patient_id", json_integer(pid)) ||
             !(row = srv_clin_create_new(req, "samples", "sample", want, &id)))
        srv_clin_abort(req, "cannot create a sample");
    else
        srv_clin_commit_reply(req, 201, json_incref(row),
                              "created sample %" PRId64 " of patient %" JSON_INTEGER_FORMAT, id,
                              pid);
    json_decref(have);
    json_decref(row);
}

static enum MHD_Result sample_create(srv_request *req)
{
    json_t *want, *patient = NULL;
    const char *field, *message = NULL;

    if ((want = srv_clin_body_new(req, sample_fields, 1)) && srv_clin_begin(req) == 0 &&
        (patient = srv_clin_patient_new(req, 1))) {
        if ((field = sample_check(patient, want, &message)))
            srv_clin_reject(req, 422, "invalid_date", field, message);
        else
            register_sample(req, want, json_integer_value(json_object_get(patient, "id")));
    }
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
        return srv_reply_json(req, 200, row);
    if (st != SRV_NOT_FOUND)
        return srv_reply_internal(req, "cannot read a sample");
    return srv_reply_error(req, 404, "not_found", NULL, "no such sample");
}

const srv_route srv_samples_routes[] = {
    {.method = "POST",
     .path = "/api/v1/patients/{id}/samples",
     .handler = sample_create,
     .roles = SRV_CLIN_WRITERS,
     .body = SRV_BODY_JSON},
    {.method = "GET",
     .path = "/api/v1/patients/{id}/samples",
     .handler = srv_clin_child_list,
     .ctx = &samples,
     .roles = SRV_ROLE_ANY},
    {.method = "GET",
     .path = "/api/v1/samples/{accession}",
     .handler = sample_get,
     .roles = SRV_ROLE_ANY},
    {0},
};
