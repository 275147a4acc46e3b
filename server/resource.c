/* Generic handlers of a patient's records (see resource.h). */
#include "server/resource.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "server/query.h"
#include "server/rows.h"

/* The description of the matched route's records. */
static const srv_clin_child *child_of(srv_request *req)
{
    return req->route->ctx;
}

/* Runs c's after_write hook for the patient of record (a child row holding patient_id). */
static int after_write(srv_request *req, const srv_clin_child *c, json_t *record)
{
    json_int_t pid = json_integer_value(json_object_get(record, "patient_id"));
    return c->after_write ? c->after_write(req->db, (int64_t)pid) : 0;
}

/* Applies c's date rule to record (of patient): 0, or -1 after answering 422 (rolled back). */
static int check_record(srv_request *req, const srv_clin_child *c, json_t *patient, json_t *record)
{
    const char *field, *message = NULL;
    if (!c->check || !(field = c->check(patient, record, &message)))
        return 0;
    srv_clin_reject(req, 422, "invalid_date", field, message);
    return -1;
}

/* The checked body of a write (create != 0: POST) with its transaction open; NULL after
 * answering. */
static json_t *write_body_new(srv_request *req, const srv_clin_child *c, int create)
{
    json_t *body = srv_clin_body_new(req, c->fields, create);
    if (body && srv_clin_begin(req)) {
        json_decref(body);
        return NULL;
    }
    return body;
}

/* The end of a write once its row is in place (row NULL: the write failed): c's hook, then the
 * commit and the answer with the row; else the rollback and 500. verb names the write in the
 * log line ("created"). */
static void finish(srv_request *req, const srv_clin_child *c, json_t *row, unsigned status,
                   const char *verb, int64_t id)
{
    if (!row || after_write(req, c, row)) {
        srv_clin_abort(req, "cannot write a record");
        return;
    }
    srv_clin_commit_reply(req, status, json_incref(row),
                          "%s %s %" PRId64 " of patient %" JSON_INTEGER_FORMAT, verb, c->entity, id,
                          json_integer_value(json_object_get(row, "patient_id")));
}

/* A create whose client key (c->key) is already stored for the patient: answered (200 with the
 * stored record, or 409 when it differs; 500) and 1, else 0 (the create goes on). */
static int answered_by_key(srv_request *req, const srv_clin_child *c, json_t *patient,
                           json_t *values)
{
    json_t *k = c->key ? json_object_get(values, c->key) : NULL;
    char sql[160], what[96];
    if (!json_is_string(k))
        return 0;
    snprintf(sql, sizeof sql, "SELECT * FROM %s WHERE patient_id = ? AND %s = ?", c->table, c->key);
    json_t *args = json_pack("[O, O]", json_object_get(patient, "id"), k);
    json_t *rows = args ? srv_rows_query_new(req->db, sql, args) : NULL;
    json_t *have = json_array_get(rows, 0);
    json_decref(args);
    if (!rows)
        srv_clin_abort(req, "cannot look up a record by its key");
    else if (have) {
        snprintf(what, sizeof what, "a %s with this %s", c->entity, c->key);
        srv_clin_answer_existing(req, c->fields, values, have, what);
    }
    json_decref(rows);
    return !rows || have;
}

enum MHD_Result srv_clin_child_create(srv_request *req)
{
    const srv_clin_child *c = child_of(req);
    json_t *values, *patient = NULL, *row = NULL;
    int64_t id = 0;

    if ((values = write_body_new(req, c, 1)) && (patient = srv_clin_patient_new(req, 1)) &&
        !check_record(req, c, patient, values) && !answered_by_key(req, c, patient, values)) {
        json_object_set(values, "patient_id", json_object_get(patient, "id"));
        row = srv_clin_create_new(req, c->table, c->entity, values, &id);
        finish(req, c, row, 201, "created", id);
    }
    json_decref(values);
    json_decref(patient);
    json_decref(row);
    return srv_clin_done(req);
}

enum MHD_Result srv_clin_child_list(srv_request *req)
{
    const srv_clin_child *c = child_of(req);
    char sql[320], key[32];
    long limit;
    srv_cursor after;
    json_t *patient, *args, *rows;

    if (srv_query_int(req, "limit", 1, 1000, 500, &limit) || srv_query_cursor(req, &after) ||
        !(patient = srv_clin_patient_new(req, 0)))
        return srv_clin_done(req);
    /* Pages by keyset on (the first column of the order, id): "start_date, id" -> start_date. */
    snprintf(key, sizeof key, "%.*s", (int)strcspn(c->order, ","), c->order);
    snprintf(sql, sizeof sql,
             "SELECT * FROM %s WHERE patient_id = ?1 AND (?2 = 0 OR (%s, id) > (?3, ?2)) "
             "ORDER BY %s LIMIT ?4",
             c->table, key, c->order);
    args = json_pack("[O, I, s, I]", json_object_get(patient, "id"), (json_int_t)after.id,
                     after.key, (json_int_t)limit + 1);
    rows = args ? srv_rows_query_new(req->db, sql, args) : NULL;
    json_decref(args);
    int64_t pid = json_integer_value(json_object_get(patient, "id"));
    json_decref(patient);
    if (rows && srv_audit_read(req, "patient", pid)) { /* answered 500 */
        json_decref(rows);
        return MHD_YES;
    }
    return srv_reply_page(req, c->list_key, rows, limit, "id", key);
}

/* Loads the record named by path parameter 0 inside the open transaction; NULL after answering
 * 404 or 500 (rolled back). */
static json_t *child_load_new(srv_request *req, const srv_clin_child *c, int64_t *id)
{
    json_t *have;
    srv_status st;

    if (srv_param_id(req, 0, id)) {
        srv_db_rollback(req->db);
        return NULL;
    }
    if ((st = srv_row_by_id(req->db, c->table, *id, &have)) == SRV_OK)
        return have;
    if (st != SRV_NOT_FOUND)
        srv_clin_abort(req, "cannot read a record");
    else {
        srv_db_rollback(req->db);
        srv_reply_error(req, 404, "not_found", NULL, "no %s %" PRId64, c->entity, *id);
    }
    return NULL;
}

/* The record as it would be stored after changes passes c's date rule: 0, or -1 answered. */
static int check_changed(srv_request *req, const srv_clin_child *c, json_t *have, json_t *changes)
{
    json_t *patient = NULL, *merged = NULL;
    int rc = -1;
    if (!c->check)
        return 0;
    json_int_t pid = json_integer_value(json_object_get(have, "patient_id"));
    if (srv_row_by_id(req->db, "patients", (int64_t)pid, &patient) != SRV_OK ||
        !(merged = json_copy(have)) || json_object_update(merged, changes))
        srv_clin_abort(req, "cannot read a record's patient");
    else
        rc = check_record(req, c, patient, merged);
    json_decref(patient);
    json_decref(merged);
    return rc;
}

enum MHD_Result srv_clin_child_update(srv_request *req)
{
    const srv_clin_child *c = child_of(req);
    json_t *changes, *have = NULL, *row = NULL;
    int64_t id = 0;

    if ((changes = write_body_new(req, c, 0)) && (have = child_load_new(req, c, &id)) &&
        !check_changed(req, c, have, changes)) {
        row = srv_clin_update_new(req, c->table, c->entity, id, have, changes);
        finish(req, c, row, 200, "updated", id);
    }
    json_decref(changes);
    json_decref(have);
    json_decref(row);
    return srv_clin_done(req);
}

enum MHD_Result srv_clin_child_delete(srv_request *req)
{
    const srv_clin_child *c = child_of(req);
    json_t *have;
    int64_t id;

    if (srv_clin_begin(req) || !(have = child_load_new(req, c, &id)))
        return srv_clin_done(req);
    if (srv_row_delete(req->db, c->table, id) || srv_audit(req, "delete", c->entity, id, have))
        srv_clin_abort(req, "cannot delete a record");
    else
        finish(req, c, have, 200, "deleted", id);
    json_decref(have);
    return srv_clin_done(req);
}
