/* POST /api/v1/admin/import (admin): a historical series from CSV (server/import.h), all or
 * nothing, in one transaction; ?dry_run=true checks everything and reports what would be created,
 * then rolls back. The body (text/csv) is buffered up to IMPORT_MAX bytes. */
#include <stdlib.h>
#include <string.h>

#include "server/api.h"
#include "server/auth.h"
#include "server/import.h"
#include "server/jobs.h"
#include "server/query.h"

#define IMPORT_MAX (32 << 20)

typedef struct body {
    char *data;
    size_t len, cap;
} body;

static void body_free(void *p)
{
    body *b = p;
    if (b)
        free(b->data);
    free(b);
}

static int import_chunk(srv_request *req, const char *data, size_t size)
{
    body *b = req->upload;
    if (!b) {
        if (!(b = calloc(1, sizeof *b))) {
            srv_reply_internal(req, "out of memory");
            return -1;
        }
        req->upload = b;
        req->upload_free = body_free;
    }
    if (size == 0)
        return 0;
    if (b->len + size > IMPORT_MAX) {
        srv_reply_error(req, 413, "too_large", NULL, "an import is at most %d MiB",
                        IMPORT_MAX >> 20);
        return -1;
    }
    if (b->len + size > b->cap) {
        size_t cap = b->cap ? b->cap : 1 << 16;
        while (cap < b->len + size)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d) {
            srv_reply_internal(req, "out of memory");
            return -1;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, size);
    b->len += size;
    return 0;
}

static enum MHD_Result import_post(srv_request *req)
{
    static const char *const yes_no[] = {"false", "true", NULL};
    const char *ct =
        MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    body *b = req->upload;
    int dry;
    if (!ct || strncmp(ct, "text/csv", 8) != 0)
        return srv_reply_error(req, 415, "unsupported_media_type", NULL,
                               "an import is a CSV file: Content-Type text/csv");
    if (srv_query_enum(req, "dry_run", yes_no, &dry))
        return MHD_YES;
    if (!b || !b->len)
        return srv_reply_error(req, 422, "invalid_csv", NULL, "the CSV is empty");
    srv_import_counts n;
    srv_import_error e;
    if (srv_db_begin(req->db))
        return srv_reply_internal(req, "cannot begin a transaction");
    int rc = srv_import_csv(req->db, b->data, b->len, req->caller.name, &n, &e);
    json_t *counts = json_pack("{s:I, s:I, s:I, s:I}", "patients", (json_int_t)n.patients,
                               "treatments", (json_int_t)n.treatments, "events",
                               (json_int_t)n.events, "draws", (json_int_t)n.draws);
    if (rc || !counts || dry == 1) {
        srv_db_rollback(req->db);
        if (rc == 1) {
            json_decref(counts);
            return srv_reply_error(req, 422, "invalid_csv", e.column, "line %ld: %s", e.line,
                                   e.msg);
        }
        if (rc || !counts) {
            json_decref(counts);
            return srv_reply_internal(req, "cannot import");
        }
        return srv_reply_json(req, 200,
                              json_pack("{s:b, s:o}", "dry_run", 1, "would_create", counts));
    }
    if (srv_audit(req, "import", "import", 0, counts)) {
        srv_db_rollback(req->db);
        json_decref(counts);
        return srv_reply_internal(req, "cannot audit the import");
    }
    if (srv_auth_commit(req)) {
        json_decref(counts);
        return MHD_YES;
    }
    srv_jobs_notify(); /* the draws' analyses */
    return srv_reply_json(req, 200, json_pack("{s:b, s:o}", "dry_run", 0, "created", counts));
}

const srv_route srv_import_routes[] = {
    {.method = "POST",
     .path = "/api/v1/admin/import",
     .handler = import_post,
     .roles = SRV_ROLE_ADMIN,
     .body = SRV_BODY_STREAM,
     .on_chunk = import_chunk,
     .query = (const char *const[]){"dry_run", NULL}},
    {0},
};
