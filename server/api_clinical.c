/* Shared machinery of the clinical resources: strict bodies from field tables, rows as JSON,
 * write transactions with their audit row (see api_clinical.h). */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/api_clinical.h"

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

const char *srv_clin_first_difference(const srv_clin_field *fields, json_t *want, json_t *have)
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

/* ---------------------------------------------------------------- rows */

static int bind_value(sqlite3_stmt *st, int i, json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        return sqlite3_bind_text(st, i, json_string_value(v), (int)json_string_length(v),
                                 SQLITE_TRANSIENT);
    case JSON_INTEGER:
        return sqlite3_bind_int64(st, i, (sqlite3_int64)json_integer_value(v));
    case JSON_REAL:
        return sqlite3_bind_double(st, i, json_real_value(v));
    case JSON_NULL:
        return sqlite3_bind_null(st, i);
    default:
        return SQLITE_MISMATCH; /* objects and booleans are never stored */
    }
}

static json_t *column_value_new(sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER:
        return json_integer((json_int_t)sqlite3_column_int64(st, i));
    case SQLITE_FLOAT:
        return json_real(sqlite3_column_double(st, i));
    case SQLITE_TEXT:
        return json_stringn((const char *)sqlite3_column_text(st, i),
                            (size_t)sqlite3_column_bytes(st, i));
    default:
        return json_null();
    }
}

json_t *srv_clin_query_new(sqlite3 *db, const char *sql, json_t *args)
{
    sqlite3_stmt *st = srv_db_prepare(db, sql);
    json_t *rows = NULL;
    size_t i;
    json_t *v;
    int rc;

    if (!st)
        return NULL;
    json_array_foreach(args, i, v)
    {
        if (bind_value(st, (int)i + 1, v) != SQLITE_OK) {
            srv_log(SRV_LOG_ERROR, "cannot bind parameter %zu: %s", i + 1, sqlite3_errmsg(db));
            goto fail;
        }
    }
    rows = json_array();
    if (!rows)
        goto fail;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *row = json_object();
        if (!row || json_array_append_new(rows, row))
            goto fail;
        for (int c = 0; c < sqlite3_column_count(st); c++)
            if (json_object_set_new(row, sqlite3_column_name(st, c), column_value_new(st, c)))
                goto fail;
    }
    if (rc != SQLITE_DONE) {
        srv_log(SRV_LOG_ERROR, "query failed: %s", sqlite3_errmsg(db));
        goto fail;
    }
    sqlite3_finalize(st);
    return rows;
fail:
    sqlite3_finalize(st);
    json_decref(rows);
    return NULL;
}

json_t *srv_clin_row_new(sqlite3 *db, const char *table, const char *column, json_t *key, int *err)
{
    char sql[160];
    json_t *args = json_pack("[O]", key);
    json_t *rows, *row;

    snprintf(sql, sizeof sql, "SELECT * FROM %s WHERE %s = ?", table, column);
    rows = args ? srv_clin_query_new(db, sql, args) : NULL;
    json_decref(args);
    *err = rows == NULL;
    if (!rows)
        return NULL;
    row = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    return row;
}

json_t *srv_clin_row_by_id_new(sqlite3 *db, const char *table, int64_t id, int *err)
{
    json_t *key = json_integer((json_int_t)id);
    json_t *row = srv_clin_row_new(db, table, "id", key, err);
    json_decref(key);
    return row;
}

/* Runs a write statement; 0 on SQLITE_DONE. */
static int run_write(sqlite3 *db, const char *sql, json_t *values, int64_t id)
{
    sqlite3_stmt *st = srv_db_prepare(db, sql);
    const char *key;
    json_t *v;
    int i = 0, rc = SQLITE_ERROR;

    if (!st)
        return -1;
    json_object_foreach(values, key, v)
    {
        (void)key;
        if ((rc = bind_value(st, ++i, v)) != SQLITE_OK)
            goto done;
    }
    if (id > 0 && (rc = sqlite3_bind_int64(st, ++i, id)) != SQLITE_OK)
        goto done;
    rc = sqlite3_step(st);
done:
    if (rc != SQLITE_DONE)
        srv_log(SRV_LOG_ERROR, "write failed: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Appends s to buf (size cap); -1 when it does not fit. */
static int append(char *buf, size_t cap, size_t *len, const char *s)
{
    size_t n = strlen(s);
    if (*len + n >= cap)
        return -1;
    memcpy(buf + *len, s, n + 1);
    *len += n;
    return 0;
}

int64_t srv_clin_insert(sqlite3 *db, const char *table, json_t *values)
{
    char cols[512] = "", marks[128] = "", sql[768];
    size_t nc = 0, nm = 0;
    const char *key;
    json_t *v;

    json_object_foreach(values, key, v)
    {
        (void)v;
        if ((nc && append(cols, sizeof cols, &nc, ", ")) || append(cols, sizeof cols, &nc, key) ||
            append(marks, sizeof marks, &nm, nm ? ", ?" : "?"))
            return -1;
    }
    snprintf(sql, sizeof sql, "INSERT INTO %s (%s) VALUES (%s)", table, cols, marks);
    if (run_write(db, sql, values, 0))
        return -1;
    return (int64_t)sqlite3_last_insert_rowid(db);
}

int srv_clin_update(sqlite3 *db, const char *table, int64_t id, json_t *values)
{
    char sets[512] = "", sql[640];
    size_t n = 0;
    const char *key;
    json_t *v;

    json_object_foreach(values, key, v)
    {
        (void)v;
        if (append(sets, sizeof sets, &n, key) || append(sets, sizeof sets, &n, " = ?, "))
            return -1;
    }
    snprintf(sql, sizeof sql,
             "UPDATE %s SET %supdated_at = strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ', 'now') "
             "WHERE id = ?",
             table, sets);
    return run_write(db, sql, values, id);
}

int srv_clin_delete(sqlite3 *db, const char *table, int64_t id)
{
    char sql[96];
    snprintf(sql, sizeof sql, "DELETE FROM %s WHERE id = ?", table);
    return run_write(db, sql, NULL, id);
}

json_t *srv_clin_changes_new(json_t *before, json_t *values)
{
    json_t *old = json_object();
    const char *key;
    json_t *v;

    if (!old)
        return NULL;
    json_object_foreach(values, key, v)
    {
        (void)v;
        json_t *b = json_object_get(before, key);
        json_object_set_new(old, key, b ? json_incref(b) : json_null());
    }
    return json_pack("{s:o, s:O}", "before", old, "after", values);
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

enum MHD_Result srv_clin_commit_reply(srv_request *req, unsigned status, json_t *body)
{
    if (!body)
        return srv_clin_abort(req, "out of memory");
    if (srv_db_commit(req->db)) {
        json_decref(body);
        return srv_clin_abort(req, "commit failed");
    }
    return srv_reply_json(req, status, body);
}

struct query_check {
    const char *const *allowed;
    const char *unknown; /* first key not allowed */
};

static enum MHD_Result query_key(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    struct query_check *qc = cls;
    (void)kind;
    (void)value;
    for (const char *const *a = qc->allowed; *a; a++)
        if (strcmp(*a, key) == 0)
            return MHD_YES;
    qc->unknown = key;
    return MHD_NO;
}

int srv_clin_check_query(srv_request *req, const char *const *allowed)
{
    struct query_check qc = {allowed, NULL};
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, query_key, &qc);
    if (!qc.unknown)
        return 0;
    srv_reply_error(req, 422, "unknown_field", qc.unknown, "unknown query parameter %s",
                    qc.unknown);
    return -1;
}

int srv_clin_query_int(srv_request *req, const char *key, long lo, long hi, long def, long *out)
{
    const char *s = srv_query(req, key);
    char *end;
    *out = def;
    if (!s)
        return 0;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (s[0] < '0' || s[0] > '9' || *end || errno || v < lo || v > hi) {
        srv_reply_error(req, 422, "invalid_value", key, "%s must be an integer from %ld to %ld",
                        key, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

int srv_clin_query_enum(srv_request *req, const char *key, const char *const *choices, int *index)
{
    const char *s = srv_query(req, key);
    char list[256] = "";
    size_t n = 0;
    *index = -1;
    if (!s)
        return 0;
    for (int i = 0; choices[i]; i++) {
        if (strcmp(choices[i], s) == 0) {
            *index = i;
            return 0;
        }
    }
    for (int i = 0; choices[i] && n < sizeof list - 1; i++)
        n += (size_t)snprintf(list + n, sizeof list - n, "%s%s",
                              i == 0           ? ""
                              : choices[i + 1] ? ", "
                                               : " or ",
                              choices[i]);
    srv_reply_error(req, 422, "invalid_value", key, "%s must be %s", key, list);
    return -1;
}

json_t *srv_clin_patient_new(srv_request *req, int in_transaction)
{
    int64_t id;
    int err;
    json_t *p;

    if (srv_param_id(req, 0, &id)) {
        if (in_transaction)
            srv_db_rollback(req->db);
        return NULL;
    }
    p = srv_clin_row_by_id_new(req->db, "patients", id, &err);
    if (p)
        return p;
    if (in_transaction)
        srv_db_rollback(req->db);
    if (err)
        srv_reply_internal(req, "cannot read a patient");
    else
        srv_reply_error(req, 404, "not_found", NULL, "no patient %lld", (long long)id);
    return NULL;
}

enum MHD_Result srv_clin_reply_list(srv_request *req, const char *key, json_t *rows)
{
    if (!rows)
        return srv_reply_internal(req, "cannot list rows");
    return srv_reply_json(req, 200, json_pack("{s:o}", key, rows));
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

/* ---------------------------------------------------------------- records of a patient */

/* Runs c's after_write hook for the patient of record (a child row holding patient_id). */
static int after_write(srv_request *req, const srv_clin_child *c, json_t *record)
{
    json_int_t pid = json_integer_value(json_object_get(record, "patient_id"));
    return c->after_write ? c->after_write(req->db, (int64_t)pid) : 0;
}

enum MHD_Result srv_clin_child_create(srv_request *req, const srv_clin_child *c)
{
    json_t *values = NULL, *patient = NULL, *row = NULL;
    const char *field, *message = NULL;
    int64_t id;
    int err;

    if (!(values = srv_clin_body_new(req, c->fields, 1)) || srv_clin_begin(req))
        goto out;
    if (!(patient = srv_clin_patient_new(req, 1)))
        goto out;
    if (c->check && (field = c->check(patient, values, &message))) {
        srv_clin_reject(req, 422, "invalid_date", field, message);
        goto out;
    }
    json_object_set(values, "patient_id", json_object_get(patient, "id"));
    if ((id = srv_clin_insert(req->db, c->table, values)) < 0 ||
        !(row = srv_clin_row_by_id_new(req->db, c->table, id, &err)) ||
        srv_audit(req, "create", c->entity, id, row) || after_write(req, c, row)) {
        srv_clin_abort(req, "cannot create a record");
        goto out;
    }
    srv_clin_commit_reply(req, 201, json_incref(row));
    if (req->status == 201)
        srv_log(SRV_LOG_INFO, "created %s %" PRId64 " of patient %" JSON_INTEGER_FORMAT, c->entity,
                id, json_integer_value(json_object_get(patient, "id")));
out:
    json_decref(values);
    json_decref(patient);
    json_decref(row);
    return srv_clin_done(req);
}

enum MHD_Result srv_clin_child_list(srv_request *req, const srv_clin_child *c)
{
    static const char *const allowed[] = {NULL};
    char sql[160];
    json_t *patient, *args, *rows;

    if (srv_clin_check_query(req, allowed) || !(patient = srv_clin_patient_new(req, 0)))
        return srv_clin_done(req);
    snprintf(sql, sizeof sql, "SELECT * FROM %s WHERE patient_id = ? ORDER BY %s", c->table,
             c->order);
    args = json_pack("[O]", json_object_get(patient, "id"));
    rows = args ? srv_clin_query_new(req->db, sql, args) : NULL;
    json_decref(args);
    json_decref(patient);
    return srv_clin_reply_list(req, c->list_key, rows);
}

/* Loads the record named by path parameter 0 inside the open transaction; NULL after answering
 * 404 or 500 (rolled back). */
static json_t *child_load_new(srv_request *req, const srv_clin_child *c, int64_t *id)
{
    json_t *have;
    int err;

    if (srv_param_id(req, 0, id)) {
        srv_db_rollback(req->db);
        return NULL;
    }
    if ((have = srv_clin_row_by_id_new(req->db, c->table, *id, &err)))
        return have;
    if (err)
        srv_clin_abort(req, "cannot read a record");
    else {
        srv_db_rollback(req->db);
        srv_reply_error(req, 404, "not_found", NULL, "no %s %" PRId64, c->entity, *id);
    }
    return NULL;
}

enum MHD_Result srv_clin_child_update(srv_request *req, const srv_clin_child *c)
{
    json_t *changes = NULL, *have = NULL, *patient = NULL, *merged = NULL, *row = NULL;
    json_t *details = NULL;
    const char *field, *message = NULL;
    int64_t id;
    int err;

    if (!(changes = srv_clin_body_new(req, c->fields, 0)) || srv_clin_begin(req))
        goto out;
    if (!(have = child_load_new(req, c, &id)))
        goto out;
    if (c->check) {
        json_int_t pid = json_integer_value(json_object_get(have, "patient_id"));
        patient = srv_clin_row_by_id_new(req->db, "patients", (int64_t)pid, &err);
        merged = json_copy(have);
        if (!patient || !merged || json_object_update(merged, changes)) {
            srv_clin_abort(req, "cannot read a record's patient");
            goto out;
        }
        if ((field = c->check(patient, merged, &message))) {
            srv_clin_reject(req, 422, "invalid_date", field, message);
            goto out;
        }
    }
    if (srv_clin_update(req->db, c->table, id, changes) ||
        !(row = srv_clin_row_by_id_new(req->db, c->table, id, &err)) ||
        !(details = srv_clin_changes_new(have, changes)) ||
        srv_audit(req, "update", c->entity, id, details) || after_write(req, c, row)) {
        srv_clin_abort(req, "cannot update a record");
        goto out;
    }
    srv_clin_commit_reply(req, 200, json_incref(row));
    if (req->status == 200)
        srv_log(SRV_LOG_INFO, "updated %s %" PRId64, c->entity, id);
out:
    json_decref(changes);
    json_decref(have);
    json_decref(patient);
    json_decref(merged);
    json_decref(row);
    json_decref(details);
    return srv_clin_done(req);
}

enum MHD_Result srv_clin_child_delete(srv_request *req, const srv_clin_child *c)
{
    json_t *have;
    int64_t id;

    if (srv_clin_begin(req))
        return srv_clin_done(req);
    if (!(have = child_load_new(req, c, &id)))
        return srv_clin_done(req);
    if (srv_clin_delete(req->db, c->table, id) || srv_audit(req, "delete", c->entity, id, have) ||
        after_write(req, c, have)) {
        json_decref(have);
        return srv_clin_abort(req, "cannot delete a record");
    }
    srv_clin_commit_reply(req, 200, have);
    if (req->status == 200)
        srv_log(SRV_LOG_INFO, "deleted %s %" PRId64, c->entity, id);
    return srv_clin_done(req);
}
