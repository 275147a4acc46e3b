/* REST resource clinical events: relapse, progression, death and other dated facts of a patient
 * (POST/GET /api/v1/patients/{id}/events, PATCH/DELETE /api/v1/events/{id}); the lead time of
 * an alert is measured to the clinical_relapse date. */

#include <string.h>

#include "server/monitor.h"
#include "server/resource.h"

static const char *const event_kinds[] = {"clinical_relapse", "imaging_progression", "death",
                                          "other", NULL};

static const srv_clin_field event_fields[] = {
    {.name = "date", .kind = SRV_CLIN_DATE, .flags = SRV_CLIN_REQUIRED},
    {.name = "kind", .kind = SRV_CLIN_ENUM, .flags = SRV_CLIN_REQUIRED, .choices = event_kinds},
    {.name = "note", .kind = SRV_CLIN_TEXT, .flags = SRV_CLIN_NULLABLE, .max_len = 2000},
    /* the client's own id: a resend with it is answered the stored record (schema/008) */
    {.name = "external_id",
     .kind = SRV_CLIN_KEY,
     .flags = SRV_CLIN_NULLABLE | SRV_CLIN_FIXED,
     .max_len = 64},
    {0},
};

/* Relapse, progression and death of a breast cancer cannot precede its diagnosis; an "other"
 * event (e.g. a screening) may. */
static const char *event_check(json_t *patient, json_t *e, const char **message)
{
    const char *kind = json_string_value(json_object_get(e, "kind"));
    const char *date = json_string_value(json_object_get(e, "date"));
    const char *diagnosis = json_string_value(json_object_get(patient, "diagnosis_date"));
    if (kind && date && diagnosis && strcmp(kind, "other") != 0 && strcmp(date, diagnosis) < 0) {
        *message = "a relapse, progression or death cannot be dated before the diagnosis";
        return "date";
    }
    return NULL;
}

static const srv_clin_child events = {
    .table = "clinical_events",
    .entity = "clinical_event",
    .list_key = "events",
    .order = "date, id",
    .fields = event_fields,
    .check = event_check,
    .after_write = srv_monitor_recompute,
    .key = "external_id",
};

const srv_route srv_events_routes[] = {
    {.method = "POST",
     .path = "/api/v1/patients/{id}/events",
     .handler = srv_clin_child_create,
     .ctx = &events,
     .roles = SRV_ROLE_CLINICIAN,
     .body = SRV_BODY_JSON},
    {.method = "GET",
     .path = "/api/v1/patients/{id}/events",
     .handler = srv_clin_child_list,
     .query = SRV_CLIN_LIST_QUERY,
     .ctx = &events,
     .roles = SRV_ROLE_CLINICIAN | SRV_ROLE_VIEWER | SRV_ROLE_ADMIN},
    {.method = "PATCH",
     .path = "/api/v1/events/{id}",
     .handler = srv_clin_child_update,
     .ctx = &events,
     .roles = SRV_ROLE_CLINICIAN,
     .body = SRV_BODY_JSON},
    {.method = "DELETE",
     .path = "/api/v1/events/{id}",
     .handler = srv_clin_child_delete,
     .ctx = &events,
     .roles = SRV_ROLE_CLINICIAN},
    {0},
};
