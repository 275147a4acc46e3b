/* Shared machinery of the clinical resources (api_patients.c, api_treatments.c, api_events.c,
 * api_samples.c, and the generic records of server/resource.h): field tables that drive strict
 * body validation, and write transactions that end with their audit row. Rows as JSON live in
 * server/rows.h, query-string parameters in server/query.h.
 * JSON rule: functions whose name ends in _new return a new reference (json_decref it); every
 * json_t argument is borrowed. Table and column names are always constants of the caller, never
 * request data, so building SQL from them is safe. */
#ifndef SRV_API_CLINICAL_H
#define SRV_API_CLINICAL_H

#include <stddef.h>
#include <stdint.h>

#include "server/api.h"
#include "server/query.h"
#include "server/rows.h"

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

/* Opens the request's write transaction; -1 after answering 500. */
int srv_clin_begin(srv_request *req);
/* Rolls back and answers 500 (detail goes to the log only). */
enum MHD_Result srv_clin_abort(srv_request *req, const char *log_detail);
/* Rolls back, then answers an error (a rejected request changes nothing). */
enum MHD_Result srv_clin_reject(srv_request *req, unsigned status, const char *code,
                                const char *field, const char *message);
/* Commits and answers `body` (stolen) with status, then logs the printf-style line at INFO
 * (database ids only, never an identifier); 500 and rollback when the commit fails. */
#define srv_clin_commit_reply(req, status, body, ...)                                              \
    srv_clin_commit_reply_at(__func__, (req), (status), (body), __VA_ARGS__)
enum MHD_Result srv_clin_commit_reply_at(const char *func, srv_request *req, unsigned status,
                                         json_t *body, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Inside the open transaction: INSERTs values into table, reads the row back and writes its
 * "create" audit row (entity: audit entity_type). The new row with *id set, or NULL (logged). */
json_t *srv_clin_create_new(srv_request *req, const char *table, const char *entity, json_t *values,
                            int64_t *id);
/* Inside the open transaction: UPDATEs row id of table (stored as `have`) with changes, reads it
 * back and writes its "update" audit row ({"before", "after"}). The new row, or NULL (logged). */
json_t *srv_clin_update_new(srv_request *req, const char *table, const char *entity, int64_t id,
                            json_t *have, json_t *changes);
/* The idempotent create met its key already stored as `have`: rolls back, then answers 200 with
 * have when want agrees with it, else 409 "conflict" naming the first differing field ("<what>
 * exists with a different <field>", what e.g. "a patient with this external_id"). */
void srv_clin_answer_existing(srv_request *req, const srv_clin_field *fields, json_t *want,
                              json_t *have, const char *what);

/* Loads the patient named by path parameter 0 into a new object. NULL after answering 404 (no
 * such patient) or 500; a transaction opened by the caller is rolled back first. */
json_t *srv_clin_patient_new(srv_request *req, int in_transaction);

/* "YYYY-MM-DD" one calendar year before date (into out, size >= 11). ISO dates compare as text,
 * and "2023-02-29" (from a leap day) still sorts between the 28th of February and the 1st of
 * March, so the result only needs to compare right. */
void srv_clin_year_before(const char *date, char *out);

#endif
