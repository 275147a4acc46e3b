/* Shared machinery of the clinical resources (api_patients.c, api_treatments.c, api_events.c,
 * api_samples.c): field tables that drive strict body validation, rows read and written as JSON
 * objects, and write transactions that end with their audit row.
 * JSON rule: functions whose name ends in _new return a new reference (json_decref it); every
 * json_t argument is borrowed. Table and column names are always constants of the caller, never
 * request data, so building SQL from them is safe. */
#ifndef SRV_API_CLINICAL_H
#define SRV_API_CLINICAL_H

#include <stddef.h>
#include <stdint.h>

#include "server/api.h"

typedef enum srv_clin_kind {
    SRV_CLIN_TEXT,   /* string up to max_len bytes */
    SRV_CLIN_KEY,    /* identifier: 1..max_len of [A-Za-z0-9._:-], starting with a letter/digit */
    SRV_CLIN_ENUM,   /* one of choices */
    SRV_CLIN_DATE,   /* real "YYYY-MM-DD", not in the future */
    SRV_CLIN_NUMBER, /* number in [min, max], stored as REAL */
} srv_clin_kind;

/* Roles that may write clinical data; every role may read it. */
#define SRV_CLIN_WRITERS (SRV_ROLE_LIMS | SRV_ROLE_ADMIN)

#define SRV_CLIN_REQUIRED 1u /* must be given on create */
#define SRV_CLIN_NULLABLE 2u /* may be null (stored NULL); absent on create means NULL too */
#define SRV_CLIN_FIXED    4u /* given on create only: PATCH answers 422 "read_only" */

/* One JSON field of a resource, which is also the column of the same name. Tables end with a
 * row whose name is NULL. */
typedef struct srv_clin_field {
    const char *name;
    srv_clin_kind kind;
    unsigned flags;
    size_t max_len;             /* TEXT, KEY */
    const char *const *choices; /* ENUM, NULL-terminated */
    const char *def;            /* ENUM: value stored when absent on create (NULL: none) */
    double min, max;            /* NUMBER */
} srv_clin_field;

/* The MHD_Result of a request that has been answered (500 when, by a bug, it was not). */
#define srv_clin_done(req) srv_validate_done(req)

/* Validates req->json against fields: an object (else 400), no unknown key, every value of the
 * right type, range and calendar. create != 0: required fields present, enum defaults filled in.
 * create == 0 (PATCH): at least one field, no SRV_CLIN_FIXED field. Returns a new object with the
 * normalised values (strings, reals, null) keyed by field name, or NULL after answering 422. */
json_t *srv_clin_body_new(srv_request *req, const srv_clin_field *fields, int create);

/* Name of the first field whose wanted value (in `want`, or null when absent and nullable)
 * differs from `have` (a stored row), or NULL when they agree: the idempotency test. Fields
 * absent from want that are neither nullable nor defaulted are not compared. */
const char *srv_clin_first_difference(const srv_clin_field *fields, json_t *want, json_t *have);

/* Runs sql with the values of the array args bound in order (strings, integers, reals, null);
 * returns a new array holding one object per row (column name -> value), or NULL on an SQL
 * error (logged). */
json_t *srv_clin_query_new(sqlite3 *db, const char *sql, json_t *args);
/* The row of table whose column equals key, as a new object; NULL when there is none (*err = 0)
 * or on an SQL error (*err = 1). */
json_t *srv_clin_row_new(sqlite3 *db, const char *table, const char *column, json_t *key, int *err);
/* Same, by integer id. */
json_t *srv_clin_row_by_id_new(sqlite3 *db, const char *table, int64_t id, int *err);

/* INSERTs one row with the columns and values of `values`; returns its id or -1 (logged). */
int64_t srv_clin_insert(sqlite3 *db, const char *table, json_t *values);
/* UPDATEs the row `id` with `values` and sets updated_at to now. 0 on success, -1 (logged). */
int srv_clin_update(sqlite3 *db, const char *table, int64_t id, json_t *values);
/* DELETEs the row `id`. 0 on success, -1 (logged). */
int srv_clin_delete(sqlite3 *db, const char *table, int64_t id);

/* Audit details of an update: a new {"before": {changed keys as stored}, "after": values}. */
json_t *srv_clin_changes_new(json_t *before, json_t *values);

/* Opens the request's write transaction; -1 after answering 500. */
int srv_clin_begin(srv_request *req);
/* Rolls back and answers 500 (detail goes to the log only). */
enum MHD_Result srv_clin_abort(srv_request *req, const char *log_detail);
/* Rolls back, then answers an error (a rejected request changes nothing). */
enum MHD_Result srv_clin_reject(srv_request *req, unsigned status, const char *code,
                                const char *field, const char *message);
/* Commits and answers `body` (stolen) with status; 500 and rollback when the commit fails. */
enum MHD_Result srv_clin_commit_reply(srv_request *req, unsigned status, json_t *body);

/* Answers 422 "unknown_field" (naming it) if the query string has a key not in the
 * NULL-terminated `allowed`; returns -1 then, 0 otherwise. */
int srv_clin_check_query(srv_request *req, const char *const *allowed);
/* Integer query parameter: absent -> *out = def; otherwise plain decimal digits within
 * [lo, hi], else 422 "invalid_value" ("key must be an integer from lo to hi"). 0, or -1 after
 * answering. */
int srv_clin_query_int(srv_request *req, const char *key, long lo, long hi, long def, long *out);
/* Query parameter that must be one of the NULL-terminated choices: *index is its position, or
 * -1 when absent; else 422 "invalid_value" ("key must be a, b or c"). 0, or -1 after answering. */
int srv_clin_query_enum(srv_request *req, const char *key, const char *const *choices, int *index);
/* Loads the patient named by path parameter 0 into a new object. NULL after answering 404 (no
 * such patient) or 500; a transaction opened by the caller is rolled back first. */
json_t *srv_clin_patient_new(srv_request *req, int in_transaction);

/* Answers 200 {key: rows} (rows stolen), or 500 when rows is NULL. */
enum MHD_Result srv_clin_reply_list(srv_request *req, const char *key, json_t *rows);

/* ---------------------------------------------------------------- records of a patient */

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
} srv_clin_child;

/* POST /patients/{id}/<children>: 201 with the new record. */
enum MHD_Result srv_clin_child_create(srv_request *req, const srv_clin_child *c);
/* GET /patients/{id}/<children>: 200 {c->list_key: [...]} in c->order. */
enum MHD_Result srv_clin_child_list(srv_request *req, const srv_clin_child *c);
/* PATCH /<children>/{id}: 200 with the updated record. */
enum MHD_Result srv_clin_child_update(srv_request *req, const srv_clin_child *c);
/* DELETE /<children>/{id}: 200 with the deleted record. */
enum MHD_Result srv_clin_child_delete(srv_request *req, const srv_clin_child *c);

/* "YYYY-MM-DD" one calendar year before date (into out, size >= 11). ISO dates compare as text,
 * and "2023-02-29" (from a leap day) still sorts between the 28th of February and the 1st of
 * March, so the result only needs to compare right. */
void srv_clin_year_before(const char *date, char *out);

#endif
