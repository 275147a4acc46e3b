/* Unit tests of the clinical-resource machinery on a temporary database, through requests that
 * are never sent (their answers are parked in the request): strict bodies from field tables
 * (server/api_clinical.h), rows as JSON (server/rows.h) and the generic records of a patient
 * (server/resource.h): create, list, update and delete with their date rule, audit rows, the
 * after_write hook and the rollback of a rejected write. */
#include "server/api_clinical.h"
#include "server/log.h"
#include "server/resource.h"
#include "server/router.h"
#include "tests/unit/harness.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static sqlite3 *conn;
static const srv_route *route; /* POST /api/v1/patients/{id}/treatments: its .ctx describes them */

/* A request on conn for `route` with path parameter id and body (a JSON text, or NULL). */
static void request(srv_request *req, int64_t id, const char *body)
{
    char text[32];
    srv_request_release(req);
    req->db = conn;
    req->route = route;
    snprintf(req->caller.name, sizeof req->caller.name, "unit test");
    snprintf(text, sizeof text, "%" PRId64, id);
    req->params[0] = strdup(text);
    req->nparams = 1;
    req->json = body ? json_loads(body, 0, NULL) : NULL;
}

static long count(const char *sql)
{
    json_t *rows = srv_rows_query_new(conn, sql, NULL);
    long n = rows ? (long)json_integer_value(json_object_get(json_array_get(rows, 0), "n")) : -1;
    json_decref(rows);
    return n;
}

static void test_body(void)
{
    const srv_clin_field *fields = ((const srv_clin_child *)route->ctx)->fields;
    char long_regimen[320];
    srv_request req = {0};
    json_t *v;

    request(&req, 1, "{\"kind\": \"surgery\", \"start_date\": \"2024-01-02\"}");
    v = srv_clin_body_new(&req, fields, 1);
    CHECK(v && !req.answered && json_object_size(v) == 2);
    json_decref(v);
    /* required field missing, unknown key, too long, bad date, wrong enum */
    snprintf(long_regimen, sizeof long_regimen,
             "{\"kind\": \"surgery\", \"start_date\": \"2024-01-02\", \"regimen\": \"%0201d\"}", 0);
    const char *const bad[] = {
        "{\"kind\": \"surgery\"}",
        "{\"kind\": \"surgery\", \"start_date\": \"2024-01-02\", \"colour\": 1}",
        long_regimen,
        "{\"kind\": \"surgery\", \"start_date\": \"2023-02-29\"}",
        "{\"kind\": \"yoga\", \"start_date\": \"2024-01-02\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        request(&req, 1, bad[i]);
        CHECK(srv_clin_body_new(&req, fields, 1) == NULL && req.status == 422);
    }
    /* PATCH: at least one field; null only where nullable */
    request(&req, 1, "{}");
    CHECK(srv_clin_body_new(&req, fields, 0) == NULL && req.status == 422);
    request(&req, 1, "{\"kind\": null}");
    CHECK(srv_clin_body_new(&req, fields, 0) == NULL && req.status == 422);
    request(&req, 1, "{\"regimen\": null}");
    v = srv_clin_body_new(&req, fields, 0);
    CHECK(v && json_is_null(json_object_get(v, "regimen")));
    json_decref(v);
    srv_request_release(&req);
}

static void test_rows(int64_t pid)
{
    json_t *row = NULL, *key = json_string("P-1");
    CHECK(srv_row_find(conn, "patients", "external_id", key, &row) == SRV_OK);
    CHECK(row && json_integer_value(json_object_get(row, "id")) == pid);
    json_decref(row);
    json_decref(key);
    key = json_string("nobody");
    CHECK(srv_row_find(conn, "patients", "external_id", key, &row) == SRV_NOT_FOUND && !row);
    CHECK(srv_row_find(conn, "no_such_table", "id", key, &row) == SRV_INTERNAL && !row);
    json_decref(key);
    CHECK(srv_row_by_id(conn, "patients", pid + 100, &row) == SRV_NOT_FOUND);
    /* bound values of every JSON type come back as stored */
    json_t *args = json_pack("[s, I, f, n]", "a", (json_int_t)7, 2.5, NULL);
    json_t *rows = srv_rows_query_new(conn, "SELECT ?1 AS s, ?2 AS i, ?3 AS x, ?4 AS z", args);
    json_t *r = json_array_get(rows, 0);
    CHECK(r && !strcmp(json_string_value(json_object_get(r, "s")), "a"));
    CHECK(json_integer_value(json_object_get(r, "i")) == 7);
    CHECK(json_real_value(json_object_get(r, "x")) == 2.5);
    CHECK(json_is_null(json_object_get(r, "z")));
    json_decref(rows);
    json_decref(args);
    /* the audit details of an update name only the changed keys, before and after */
    json_t *before = json_pack("{s:s, s:s}", "kind", "surgery", "regimen", "x");
    json_t *after = json_pack("{s:s}", "kind", "other");
    json_t *ch = srv_row_changes_new(before, after);
    CHECK(ch && json_object_size(json_object_get(ch, "before")) == 1);
    CHECK(!strcmp(json_string_value(json_object_get(json_object_get(ch, "before"), "kind")),
                  "surgery"));
    json_decref(ch);
    json_decref(before);
    json_decref(after);
}

static void test_children(int64_t pid)
{
    srv_request req = {0};
    long audits = count("SELECT count(*) AS n FROM audit_log WHERE action <> 'read'");

    request(&req, pid,
            "{\"kind\": \"chemotherapy\", \"start_date\": \"2024-01-02\", \"end_date\": "
            "\"2024-03-01\"}");
    srv_clin_child_create(&req);
    CHECK(req.status == 201);
    /* the hook (the monitoring recompute) ran in the same transaction */
    CHECK(count("SELECT count(*) AS n FROM patient_state") == 1);
    CHECK(count("SELECT count(*) AS n FROM treatments") == 1);
    CHECK(count("SELECT count(*) AS n FROM audit_log WHERE action = 'create' AND "
                "entity_type = 'treatment'") == 1);
    int64_t tid = count("SELECT max(id) AS n FROM treatments");

    /* the date rule, an unknown patient: nothing written, the transaction rolled back */
    request(&req, pid,
            "{\"kind\": \"surgery\", \"start_date\": \"2024-02-02\", "
            "\"end_date\": \"2024-01-01\"}");
    srv_clin_child_create(&req);
    CHECK(req.status == 422);
    request(&req, pid + 100, "{\"kind\": \"surgery\", \"start_date\": \"2024-02-02\"}");
    srv_clin_child_create(&req);
    CHECK(req.status == 404);
    CHECK(count("SELECT count(*) AS n FROM treatments") == 1);
    CHECK(sqlite3_get_autocommit(conn)); /* no transaction left open */

    request(&req, pid, NULL);
    srv_clin_child_list(&req);
    CHECK(req.status == 200);
    CHECK(count("SELECT count(*) AS n FROM audit_log WHERE action = 'read' AND "
                "entity_type = 'patient'") == 1); /* a read of the patient's data is traced */

    /* PATCH: the rule sees the stored record merged with the change */
    request(&req, tid, "{\"start_date\": \"2024-04-01\"}");
    srv_clin_child_update(&req);
    CHECK(req.status == 422);
    request(&req, tid, "{\"regimen\": \"EC-T\"}");
    srv_clin_child_update(&req);
    CHECK(req.status == 200);
    CHECK(count("SELECT count(*) AS n FROM treatments WHERE regimen = 'EC-T'") == 1);
    CHECK(count("SELECT count(*) AS n FROM audit_log WHERE action = 'update' AND "
                "json_extract(details, '$.before.regimen') IS NULL AND "
                "json_extract(details, '$.after.regimen') = 'EC-T'") == 1);
    request(&req, tid + 100, "{\"regimen\": \"x\"}");
    srv_clin_child_update(&req);
    CHECK(req.status == 404);

    request(&req, tid, NULL);
    srv_clin_child_delete(&req);
    CHECK(req.status == 200);
    CHECK(count("SELECT count(*) AS n FROM treatments") == 0);
    request(&req, tid, NULL);
    srv_clin_child_delete(&req);
    CHECK(req.status == 404);
    CHECK(count("SELECT count(*) AS n FROM audit_log WHERE action <> 'read'") == audits + 3);
    CHECK(sqlite3_get_autocommit(conn));
    srv_request_release(&req);
}

/* The idempotent create: the same values again answer 200, other values 409. */
static void test_existing(int64_t pid)
{
    srv_request req = {0};
    json_t *have = NULL;
    CHECK(srv_row_by_id(conn, "patients", pid, &have) == SRV_OK);
    static const srv_clin_field pf[] = {
        {.name = "diagnosis_date", .kind = SRV_CLIN_DATE, .flags = SRV_CLIN_REQUIRED}, {0}};
    json_t *same = json_pack("{s:s}", "diagnosis_date", "2023-05-01");
    json_t *other = json_pack("{s:s}", "diagnosis_date", "2023-05-02");
    request(&req, pid, NULL);
    srv_db_begin(conn);
    srv_clin_answer_existing(&req, pf, same, have, "a patient with this external_id");
    CHECK(req.status == 200 && sqlite3_get_autocommit(conn));
    request(&req, pid, NULL);
    srv_db_begin(conn);
    srv_clin_answer_existing(&req, pf, other, have, "a patient with this external_id");
    CHECK(req.status == 409 && sqlite3_get_autocommit(conn));
    srv_request_release(&req);
    json_decref(same);
    json_decref(other);
    json_decref(have);
}

int main(void)
{
    char err[512];
    srv_request req = {0};
    int known;
    const char *path = rw_test_path(RW_BUILD_DIR, "test_resource.db");
    srv_log_threshold = SRV_LOG_ERROR;
    route = srv_route_find(&req, "POST", "/api/v1/patients/1/treatments", &known);
    srv_request_release(&req);
    CHECK(route && route->ctx && route->handler == srv_clin_child_create);
    unlink(path); /* left by an interrupted run */
    srv_db *db = srv_db_open(path, 1, err, sizeof err);
    CHECK(db != NULL);
    if (!db || !route)
        DONE();
    conn = srv_db_acquire(db);
    json_t *p = json_pack("{s:s, s:s}", "external_id", "P-1", "diagnosis_date", "2023-05-01");
    int64_t pid = srv_row_insert(conn, "patients", p);
    json_decref(p);
    CHECK(pid > 0);
    test_body();
    test_rows(pid);
    test_children(pid);
    test_existing(pid);
    srv_db_release(db, conn);
    srv_db_close(db);
    unlink(path);
    DONE();
}
