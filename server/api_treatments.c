/* REST resource treatments: a patient's treatment lines (POST/GET /api/v1/patients/{id}/treatments,
 * PATCH/DELETE /api/v1/treatments/{id}); chemotherapy windows steer the alert rules. */

#include <string.h>

#include "server/monitor.h"
#include "server/resource.h"

static const char *const treatment_kinds[] = {
    "surgery", "chemotherapy", "endocrine", "radiotherapy", "targeted", "other", NULL};

static const srv_clin_field treatment_fields[] = {
    {.name = "kind", .kind = SRV_CLIN_ENUM, .flags = SRV_CLIN_REQUIRED, .choices = treatment_kinds},
    {.name = "regimen", .kind = SRV_CLIN_TEXT, .flags = SRV_CLIN_NULLABLE, .max_len = 200},
    {.name = "start_date", .kind = SRV_CLIN_DATE, .flags = SRV_CLIN_REQUIRED},
    {.name = "end_date", .kind = SRV_CLIN_DATE, .flags = SRV_CLIN_NULLABLE}, /* null: ongoing */
    /* the client's own id: a resend with it is answered the stored record (schema/008) */
    {.name = "external_id",
     .kind = SRV_CLIN_KEY,
     .flags = SRV_CLIN_NULLABLE | SRV_CLIN_FIXED,
     .max_len = 64},
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
    .after_write = srv_monitor_recompute,
    .key = "external_id",
};

const srv_route srv_treatments_routes[] = {
    {.method = "POST",
     .path = "/api/v1/patients/{id}/treatments",
     .handler = srv_clin_child_create,
     .ctx = &treatments,
     .roles = SRV_ROLE_CLINICIAN,
     .body = SRV_BODY_JSON},
    {.method = "GET",
     .path = "/api/v1/patients/{id}/treatments",
     .handler = srv_clin_child_list,
     .query = SRV_CLIN_LIST_QUERY,
     .ctx = &treatments,
     .roles = SRV_ROLE_CLINICIAN | SRV_ROLE_VIEWER | SRV_ROLE_ADMIN},
    {.method = "PATCH",
     .path = "/api/v1/treatments/{id}",
     .handler = srv_clin_child_update,
     .ctx = &treatments,
     .roles = SRV_ROLE_CLINICIAN,
     .body = SRV_BODY_JSON},
    {.method = "DELETE",
     .path = "/api/v1/treatments/{id}",
     .handler = srv_clin_child_delete,
     .ctx = &treatments,
     .roles = SRV_ROLE_CLINICIAN},
    {0},
};
