/* Shared machinery of the clinical resources: strict bodies from field tables, rows as JSON,
 * write transactions with their audit row (see api_clinical.h). */

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/api_clinical.h"
#include "server/auth.h"

#include "server/rows.h"

/* ---------------------------------------------------------------- bodies */

/* Keys of identifiers (external_id, accession) travel in URLs and filenames: a small alphabet
 * keeps them unambiguous there. */
static int key_is_valid(const char *s, size_t max_len)
{
    size_t n = strlen(s);
    if (n == 0 || n > max_len)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '.' && c != '_' && c != ':' && c != '-')))
            return 0;
    }
    return 1;
}

/* Validates one present, non-null field and stores its normalised value in out. 0 or -1
 * (answered). */
static int read_field(srv_request *req, json_t *obj, const srv_clin_field *f, json_t *out)
{
    const char *s = NULL;
    switch (f->kind) {
    case SRV_CLIN_TEXT:
        if (srv_get_string(req, obj, f->name, 1, f->max_len, &s))
            return -1;
        break;
    case SRV_CLIN_KEY:
        if (srv_get_string(req, obj, f->name, 1, 0, &s))
            return -1;
        if (!key_is_valid(s, f->max_len)) {
            srv_reply_error(req, 422, "invalid_value", f->name,
                            "%s must be 1 to %zu characters of A-Z a-z 0-9 . _ : - starting with "
                            "a letter or digit",
                            f->name, f->max_len);
            return -1;
        }
        break;
    case SRV_CLIN_ENUM:
        if (srv_get_enum(req, obj, f->name, 1, f->choices, &s))
            return -1;
        break;
    case SRV_CLIN_DATE: {
        int32_t days;
        if (srv_get_date(req, obj, f->name, 1, &s, &days, NULL))
            return -1;
        break;
    }
    case SRV_CLIN_NUMBER: {
        double x;
        if (srv_get_number(req, obj, f->name, 1, f->min, f->max, &x, NULL))
            return -1;
        /* always a real, so an idempotent resend of 4 matches a stored 4.0 */
        json_object_set_new(out, f->name, json_real(x));
        return 0;
    }
    }
    json_object_set_new(out, f->name, json_string(s));
    return 0;
}

json_t *srv_clin_body_new(srv_request *req, const srv_clin_field *fields, int create)
{
    json_t *obj = req->json;
    json_t *out = NULL;
    const char *allowed[32];
    size_t n = 0;

    for (const srv_clin_field *f = fields; f->name && n + 1 < sizeof allowed / sizeof *allowed; f++)
        allowed[n++] = f->name;
    allowed[n] = NULL;
    if (srv_check_fields(req, obj, allowed))
        return NULL;
    if (!create && json_object_size(obj) == 0) {
        srv_reply_error(req, 422, "missing_field", NULL, "give at least one field to change");
        return NULL;
    }
    out = json_object();
    if (!out) {
        srv_reply_internal(req, "out of memory");
        return NULL;
    }
    for (const srv_clin_field *f = fields; f->name; f++) {
        json_t *v = json_object_get(obj, f->name);
        if (!v) {
            if (create && (f->flags & SRV_CLIN_REQUIRED)) {
                srv_reply_error(req, 422, "missing_field", f->name, "%s is required", f->name);
                goto fail;
            }
            if (create && f->def)
                json_object_set_new(out, f->name, json_string(f->def));
            continue;
        }
        if (!create && (f->flags & SRV_CLIN_FIXED)) {
            srv_reply_error(req, 422, "read_only", f->name, "%s cannot be changed", f->name);
            goto fail;
        }
        if (json_is_null(v)) {
            if (!(f->flags & SRV_CLIN_NULLABLE)) {
                srv_reply_error(req, 422, "invalid_type", f->name, "%s must not be null", f->name);
                goto fail;
            }
            json_object_set_new(out, f->name, json_null());
            continue;
        }
        if (read_field(req, obj, f, out))
            goto fail;
    }
    return out;
fail:
    json_decref(out);
    return NULL;
}

/* Name of the first field whose wanted value (in `want`, or null when absent and nullable)
 * differs from `have` (a stored row), or NULL when they agree: the idempotency test. Fields
 * absent from want that are neither nullable nor defaulted are not compared. */
static const char *first_difference(const srv_clin_field *fields, json_t *want, json_t *have)
{
    for (const srv_clin_field *f = fields; f->name; f++) {
        json_t *w = json_object_get(want, f->name);
        json_t *h = json_object_get(have, f->name);
        if (!w && !(f->flags & SRV_CLIN_NULLABLE))
            continue;
        if (!w)
            w = json_null();
        if (!h || !json_equal(w, h))
            return f->name;
    }
    return NULL;
}

/* ---------------------------------------------------------------- transactions and replies */

int srv_clin_begin(srv_request *req)
{
    if (srv_db_begin(req->db) == 0)
        return 0;
    srv_reply_internal(req, "cannot begin a transaction");
    return -1;
}

enum MHD_Result srv_clin_abort(srv_request *req, const char *log_detail)
{
    srv_db_rollback(req->db);
    return srv_reply_internal(req, log_detail);
}

enum MHD_Result srv_clin_reject(srv_request *req, unsigned status, const char *code,
                                const char *field, const char *message)
{
    srv_db_rollback(req->db);
    return srv_reply_error(req, status, code, field, "%s", message);
}

enum MHD_Result srv_clin_commit_reply_at(const char *func, srv_request *req, unsigned status,
                                         json_t *body, const char *fmt, ...)
{
    if (!body)
        return srv_clin_abort(req, "out of memory");
    if (srv_auth_recheck(req)) { /* revoked or disabled meanwhile: answered 401 */
        json_decref(body);
        srv_db_rollback(req->db);
        return MHD_YES;
    }
    if (srv_db_commit(req->db)) {
        json_decref(body);
        return srv_clin_abort(req, "commit failed");
    }
    if (SRV_LOG_INFO >= srv_log_threshold) {
        va_list ap;
        va_start(ap, fmt);
        srv_log_vwrite(SRV_LOG_INFO, func, fmt, ap);
        va_end(ap);
    }
    return srv_reply_json(req, status, body);
}

json_t *srv_clin_create_new(srv_request *req, const char *table, const char *entity, json_t *values,
                            int64_t *id)
{
    json_t *row = NULL;
    if ((*id = srv_row_insert(req->db, table, values)) < 0 ||
        srv_row_by_id(req->db, table, *id, &row) != SRV_OK ||
        srv_audit(req, "create", entity, *id, row)) {
        json_decref(row);
        return NULL;
    }
    return row;
}

json_t *srv_clin_update_new(srv_request *req, const char *table, const char *entity, int64_t id,
                            json_t *have, json_t *changes)
{
    json_t *row = NULL, *details = NULL;
    int bad = srv_row_update(req->db, table, id, changes) ||
              srv_row_by_id(req->db, table, id, &row) != SRV_OK ||
              !(details = srv_row_changes_new(have, changes)) ||
              srv_audit(req, "update", entity, id, details);
    json_decref(details);
    if (bad) {
        json_decref(row);
        return NULL;
    }
    return row;
}

void srv_clin_answer_existing(srv_request *req, const srv_clin_field *fields, json_t *want,
                              json_t *have, const char *what)
{
    const char *diff = first_difference(fields, want, have);
    srv_db_rollback(req->db); /* nothing written */
    if (diff)
        srv_reply_error(req, 409, "conflict", diff, "%s exists with a different %s", what, diff);
    else
        srv_reply_json(req, 200, json_incref(have));
}

json_t *srv_clin_patient_new(srv_request *req, int in_transaction)
{
    int64_t id;
    json_t *p;

    if (srv_param_id(req, 0, &id)) {
        if (in_transaction)
            srv_db_rollback(req->db);
        return NULL;
    }
    srv_status st = srv_row_by_id(req->db, "patients", id, &p);
    if (st == SRV_OK)
        return p;
    if (in_transaction)
        srv_db_rollback(req->db);
    if (st == SRV_NOT_FOUND)
        srv_reply_error(req, 404, "not_found", NULL, "no patient %lld", (long long)id);
    else
        srv_reply_internal(req, "cannot read a patient");
    return NULL;
}

void srv_clin_year_before(const char *date, char *out)
{
    int year = 0;
    if (sscanf(date, "%4d", &year) != 1 || strlen(date) != 10 || year < 1) {
        memcpy(out, "0000-00-00", 11);
        return;
    }
    year -= 1; /* "%4d" read at most four digits: 0..9998 */
    for (int i = 3; i >= 0; i--, year /= 10)
        out[i] = (char)('0' + year % 10);
    memcpy(out + 4, date + 4, 7); /* "-MM-DD" and the terminator */
}
