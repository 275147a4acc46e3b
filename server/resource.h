/* The records of a patient (treatments, clinical events, samples): dated rows holding
 * patient_id, created under /api/v1/patients/{id}/<children> and changed at
 * /api/v1/<children>/{id}. One description (srv_clin_child) per kind drives the four generic
 * handlers below: each route row names it in .ctx, so a resource file holds its field table,
 * its date rule and its routes, and no handler code. */
#ifndef SRV_RESOURCE_H
#define SRV_RESOURCE_H

#include "server/api_clinical.h"

/* Cross-field rule on a record as it would be stored (stored values merged with the request's):
 * returns the offending field with *message set, or NULL when the record is possible. */
typedef const char *(*srv_clin_check_fn)(json_t *patient, json_t *record, const char **message);

/* A dated record that belongs to one patient (treatment, clinical event, sample). */
typedef struct srv_clin_child {
    const char *table;            /* "treatments" */
    const char *entity;           /* audit entity_type: "treatment" */
    const char *list_key;         /* key of the list in GET answers: "treatments" */
    const char *order;            /* ORDER BY of the per-patient list: "start_date, id" */
    const srv_clin_field *fields; /* the body fields (patient_id comes from the path) */
    srv_clin_check_fn check;      /* 422 "invalid_date" rule, or NULL */
    /* Called inside the write's transaction, before the commit, with the record's patient (e.g.
     * to recompute her monitoring state); non-zero rolls the write back (500). NULL: none. */
    int (*after_write)(sqlite3 *db, int64_t patient_id);
    /* The client's key column ("external_id", unique per patient), or NULL: a create resent with
     * the same key answers the stored record (200) when it agrees, else 409 (schema/008). */
    const char *key;
} srv_clin_child;

/* Handlers of routes whose .ctx is their srv_clin_child. */
/* POST /patients/{id}/<children>: 201 with the new record. */
enum MHD_Result srv_clin_child_create(srv_request *req);
/* GET /patients/{id}/<children>?limit=&cursor=: 200 {list_key: [...], "next_cursor"} in the
 * child's order, paged (limit 1..1000, default 500). Its routes declare SRV_CLIN_LIST_QUERY. */
enum MHD_Result srv_clin_child_list(srv_request *req);
#define SRV_CLIN_LIST_QUERY ((const char *const[]){"limit", "cursor", NULL})
/* PATCH /<children>/{id}: 200 with the updated record. */
enum MHD_Result srv_clin_child_update(srv_request *req);
/* DELETE /<children>/{id}: 200 with the deleted record. */
enum MHD_Result srv_clin_child_delete(srv_request *req);

#endif
