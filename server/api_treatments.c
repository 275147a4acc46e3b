/* REST resource treatments: a patient's treatment lines (POST/GET /api/v1/patients/{id}/treatments,
 * PATCH/DELETE /api/v1/treatments/{id}); chemotherapy windows steer the alert rules. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "server/api_clinical.h"
#include "server/monitor.h"

static const char *const treatment_kinds[] = {
    "surgery", "chemotherapy", "endocrine", "radiotherapy", "targeted", "other", NULL};

static const srv_clin_field treatment_fields[] = {
    {.name = "kind", .kind = SRV_CLIN_ENUM, .flags = SRV_CLIN_REQUIRED, .choices = treatment_kinds},
    {.name = "regimen", .kind = SRV_CLIN_TEXT, .flags = SRV_CLIN_NULLABLE, .max_len = 200},
    {.name = "start_date", .kind = SRV_CLIN_DATE, .flags = SRV_CLIN_REQUIRED},
    {.name = "end_date", .kind = SRV_CLIN_DATE, .flags = SRV_CLIN_NULLABLE}, /* null: ongoing */
    {0},
};

/* A treatment cannot end before it starts (ISO dates compare as text). */
static const char *treatment_check(json_t *patient, json_t *t, const char **message)
{
    const char *start = json_string_value(json_object_get(t, "start_date"));
    const char *end = json_string_value(json_object_get(t, "end_date"));
    (void)patient;
    if (start && end && strcmp(end, start) < 0) {
        *message = "end_date is before start_date";
        return "end_date";
    }
    return NULL;
}

static const srv_clin_child treatments = {
    .table = "treatments",
    .entity = "treatment",
    .list_key = "treatments",
    .order = "start_date, id",
    .fields = treatment_fields,
    .check = treatment_check,
};

/* The patient of the treatment named by path parameter 0, or 0 when there is none. */
static int64_t owner_of(srv_request *req)
{
    int64_t id = 0, pid = 0;
    const char *s = req->nparams > 0 ? req->params[0] : NULL;
    sqlite3_stmt *st;
    if (!s || sscanf(s, "%" SCNd64, &id) != 1 ||
        !(st = srv_db_prepare(req->db, "SELECT patient_id FROM treatments WHERE id = ?")))
        return 0;
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) == SQLITE_ROW)
        pid = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return pid;
}

/* The change is committed and answered: the patient's monitoring state follows in a
 * transaction of its own (srv_clin_child_* own theirs), logged if it fails. */
static void recompute(srv_request *req, int64_t patient_id, unsigned ok_status)
{
    if (req->status == ok_status && patient_id > 0)
        srv_monitor_recompute_tx(req->db, patient_id);
}

static enum MHD_Result treatment_create(srv_request *req)
{
    enum MHD_Result r = srv_clin_child_create(req, &treatments);
    int64_t pid = 0;
    if (req->nparams > 0)
        sscanf(req->params[0], "%" SCNd64, &pid);
    recompute(req, pid, 201);
    return r;
}

static enum MHD_Result treatment_list(srv_request *req)
{
    return srv_clin_child_list(req, &treatments);
}

static enum MHD_Result treatment_update(srv_request *req)
{
    int64_t pid = owner_of(req);
    enum MHD_Result r = srv_clin_child_update(req, &treatments);
    recompute(req, pid, 200);
    return r;
}

static enum MHD_Result treatment_delete(srv_request *req)
{
    int64_t pid = owner_of(req);
    enum MHD_Result r = srv_clin_child_delete(req, &treatments);
    recompute(req, pid, 200);
    return r;
}

const srv_route srv_treatments_routes[] = {
    {.method = "POST",
     .path = "/api/v1/patients/{id}/treatments",
     .handler = treatment_create,
     .roles = SRV_CLIN_WRITERS,
     .body = SRV_BODY_JSON},
    {.method = "GET",
     .path = "/api/v1/patients/{id}/treatments",
     .handler = treatment_list,
     .roles = SRV_ROLE_ANY},
    {.method = "PATCH",
     .path = "/api/v1/treatments/{id}",
     .handler = treatment_update,
     .roles = SRV_CLIN_WRITERS,
     .body = SRV_BODY_JSON},
    {.method = "DELETE",
     .path = "/api/v1/treatments/{id}",
     .handler = treatment_delete,
     .roles = SRV_CLIN_WRITERS},
    {0},
};
