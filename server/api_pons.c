/* REST resource pons (panels of normals): GET /api/v1/pons and /api/v1/pons/{id} (any role);
 * POST /api/v1/pons (admin) with a PoN file (core/pon.h format, checksum verified) or JSON
 * {"name", "build_from": [accessions]} to build one from stored samples' bin counts;
 * POST /api/v1/pons/{id}/activate (admin): the panel becomes the active one and every sWGS/bins
 * sample is re-run against it as a background job ('recall' from its stored counts, 'analyse'
 * from its input when it has none yet), each result recomputing the patient's alerts.
 * The files live in <data>/pons/<sha256>.tsv; the same file uploaded twice is a no-op (200). */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/pon.h"
#include "server/api.h"
#include "server/auth.h"
#include "server/counts.h"
#include "server/datadir.h"
#include "server/jobs.h"
#include "server/options.h"
#include "server/query.h"
#include "server/rows.h"
#include "server/sha256.h"
#include "server/uploads.h"

/* The panel row of pon_get()'s query as the API shows it. */
static json_t *pon_pack(sqlite3_stmt *st)
{
    return json_pack("{s:I, s:o, s:o, s:o, s:i, s:o, s:i, s:o, s:o, s:b, s:I}", "id",
                     (json_int_t)sqlite3_column_int64(st, 0), "name", srv_col_text_new(st, 1),
                     "pon_key", srv_col_text_new(st, 2), "build", srv_col_text_new(st, 3),
                     "bin_size", sqlite3_column_int(st, 4), "filters", srv_col_text_new(st, 5),
                     "n_normals", sqlite3_column_int(st, 6), "checksum", srv_col_text_new(st, 7),
                     "created_at", srv_col_text_new(st, 8), "active", sqlite3_column_int(st, 9),
                     "n_results", (json_int_t)sqlite3_column_int64(st, 10));
}

/* The panel as the API shows it, in *pon: SRV_OK, SRV_NOT_FOUND or SRV_INTERNAL. */
static srv_status pon_get(sqlite3 *c, int64_t id, json_t **pon)
{
    return srv_row_packed(
        c,
        "SELECT id, name, pon_key, build, bin_size, filters, n_normals, checksum, created_at, "
        "active, (SELECT count(*) FROM results r WHERE r.pon_id = pons.id) FROM pons WHERE id = ?",
        id, pon_pack, pon);
}

/* GET /api/v1/pons?limit=&cursor=: newest first, paged. */
static enum MHD_Result pon_list(srv_request *req)
{
    long limit;
    srv_cursor after;
    if (srv_query_int(req, "limit", 1, 1000, 100, &limit) || srv_query_cursor(req, &after))
        return srv_validate_done(req);
    sqlite3_stmt *st = srv_db_prepare(
        req->db, "SELECT id FROM pons WHERE ?1 = 0 OR id < ?1 ORDER BY id DESC LIMIT ?2");
    if (st) {
        sqlite3_bind_int64(st, 1, after.id);
        sqlite3_bind_int64(st, 2, limit + 1);
    }
    json_t *pons = st ? srv_rows_of_ids_new(req->db, st, pon_get) : NULL;
    sqlite3_finalize(st);
    return srv_reply_page(req, "pons", pons, limit, "id", NULL);
}

static enum MHD_Result pon_show(srv_request *req)
{
    int64_t id;
    json_t *p;
    if (srv_param_id(req, 0, &id))
        return srv_validate_done(req);
    srv_status st = pon_get(req->db, id, &p);
    return srv_reply_lookup(req, st, p, "panel of normals");
}

/* ---------------------------------------------------------------- create */

static int file_sha256(const char *path, char hex[65])
{
    srv_sha256 s;
    char buf[65536];
    uint8_t d[32];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    srv_sha256_init(&s);
    ssize_t r;
    while ((r = read(fd, buf, sizeof buf)) > 0)
        srv_sha256_update(&s, buf, (size_t)r);
    close(fd);
    if (r < 0)
        return -1;
    srv_sha256_final(&s, d);
    srv_sha256_to_hex(d, hex);
    return 0;
}

/* Builds a panel from the stored counts of the samples named in `from` into the file path.
 * 0, or -1 after answering. */
static int build_from_samples(srv_request *req, json_t *from, const char *path)
{
    size_t n = json_array_size(from), got = 0;
    rw_bins **normals = calloc(n ? n : 1, sizeof *normals);
    rw_pon *pon = NULL;
    rw_error e = {0};
    char err[512];
    int rc = -1;
    if (!normals) {
        srv_reply_internal(req, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const char *acc = json_string_value(json_array_get(from, i));
        sqlite3_stmt *st = srv_db_prepare(req->db, "SELECT id FROM samples WHERE accession = ?");
        if (!st) {
            srv_reply_internal(req, "cannot look up a sample");
            goto out;
        }
        sqlite3_bind_text(st, 1, acc, -1, SQLITE_STATIC);
        int64_t sid = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        sqlite3_finalize(st);
        if (!sid) {
            srv_reply_error(req, 422, "unknown_sample", "build_from",
                            "build_from[%zu]: no such sample", i);
            goto out;
        }
        srv_status s =
            srv_counts_of_sample(req->db, req->cfg->data_dir, sid, &normals[got], err, sizeof err);
        if (s == SRV_NOT_FOUND) {
            srv_reply_error(req, 422, "no_counts", "build_from",
                            "build_from[%zu]: the sample has no bin counts yet (upload its "
                            "reads or bins and let its job run first)",
                            i);
            goto out;
        }
        if (s == SRV_CLIENT) {
            srv_reply_error(req, 422, "unreadable_counts", "build_from", "build_from[%zu]: %s", i,
                            err);
            goto out;
        }
        if (s != SRV_OK) {
            srv_reply_internal(req, err);
            goto out;
        }
        got++;
    }
    rw_pon_opts o = srv_settings()->pon; /* panel size and masking: analysis settings */
    if (rw_pon_build(normals, got, &o, &pon, &e)) {
        srv_reply_core_error(req, e.status, "invalid_pon", "build_from",
                             "cannot build the panel: %s", e.msg);
        goto out;
    }
    if (rw_pon_write(pon, path, &e)) {
        srv_log(SRV_LOG_ERROR, "cannot write a panel: %s", e.msg);
        srv_reply_internal(req, "cannot write a panel");
        goto out;
    }
    rc = 0;
out:
    for (size_t i = 0; i < got; i++)
        rw_bins_free(normals[i]);
    free(normals);
    rw_pon_free(pon);
    return rc;
}

static int is_json(const char *ct)
{
    return ct && !strncasecmp(ct, "application/json", 16);
}

/* Reads a small file whole (NUL-terminated) into *out; its size must be at most max. */
static int slurp(const char *path, int64_t max, char **out)
{
    FILE *f = fopen(path, "rb");
    *out = NULL;
    if (!f)
        return -1;
    char *b = malloc((size_t)max + 1);
    size_t n = b ? fread(b, 1, (size_t)max + 1, f) : 0;
    fclose(f);
    if (!b || (int64_t)n > max) {
        free(b);
        return -1;
    }
    b[n] = '\0';
    *out = b;
    return 0;
}

static enum MHD_Result pon_create(srv_request *req)
{
    const char *tmp, *up_sha, *name = srv_query(req, "name");
    int64_t size;
    char hex[65], rel[160], full[4096], built[4096] = "", *text = NULL;
    json_t *body = NULL, *row = NULL;
    rw_pon *pon = NULL;
    rw_error e = {0};
    const char *src;
    int placed = 0;

    if (srv_upload_file(req, &tmp, &up_sha, &size))
        return srv_reply_error(req, 400, "empty_body", NULL,
                               "send a PoN file (text/tab-separated-values) or JSON "
                               "{\"name\", \"build_from\": [...]}");
    if (is_json(srv_header(req, MHD_HTTP_HEADER_CONTENT_TYPE))) {
        static const char *const allowed[] = {"name", "build_from", NULL};
        json_error_t jerr;
        json_t *from;
        if (size > req->cfg->max_body) {
            srv_reply_error(req, 413, "body_too_large", NULL,
                            "the body is larger than the limit of %lld bytes",
                            (long long)req->cfg->max_body);
            goto out;
        }
        if (slurp(tmp, req->cfg->max_body, &text)) {
            srv_reply_internal(req, "cannot read the body");
            goto out;
        }
        if (!(body = json_loads(text, JSON_REJECT_DUPLICATES, &jerr)) || !json_is_object(body)) {
            srv_reply_error(req, 400, "invalid_json", NULL, "the body must be a JSON object");
            goto out;
        }
        req->json = json_incref(body); /* the validators answer about it */
        if (srv_check_fields(req, body, allowed) || srv_get_string(req, body, "name", 0, 80, &name))
            goto out;
        from = json_object_get(body, "build_from");
        if (!json_is_array(from) || json_array_size(from) < 1 || json_array_size(from) > 500) {
            srv_reply_error(req, 422, "invalid_value", "build_from",
                            "build_from must be an array of 1 to 500 sample accessions");
            goto out;
        }
        for (size_t i = 0; i < json_array_size(from); i++)
            if (!json_is_string(json_array_get(from, i))) {
                srv_reply_error(req, 422, "invalid_type", "build_from",
                                "build_from[%zu] must be a string (an accession)", i);
                goto out;
            }
        snprintf(rel, sizeof rel, "tmp/pon-build-%llu.tsv", (unsigned long long)req->id);
        if (srv_datadir_path(req->cfg->data_dir, rel, built, sizeof built)) {
            srv_reply_internal(req, "path too long");
            goto out;
        }
        if (build_from_samples(req, from, built)) {
            built[0] = '\0';
            goto out;
        }
        src = built;
        if (file_sha256(built, hex)) {
            srv_reply_internal(req, "cannot hash a panel");
            goto out;
        }
    } else {
        src = tmp;
        snprintf(hex, sizeof hex, "%s", up_sha);
    }
    if (name && (!*name || strlen(name) > 80)) {
        srv_reply_error(req, 422, "invalid_value", "name", "name must be 1 to 80 characters");
        goto out;
    }
    if (rw_pon_read(src, &pon, &e)) {
        srv_reply_core_error(req, e.status, "invalid_pon", NULL, "not a valid panel of normals: %s",
                             e.msg);
        goto out;
    }
    if (srv_db_begin(req->db)) {
        srv_reply_internal(req, "cannot begin a transaction");
        goto out;
    }
    sqlite3_stmt *st = srv_db_prepare(req->db, "SELECT id FROM pons WHERE checksum = ?");
    if (!st)
        goto fail;
    sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
    int64_t have = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    if (have) {
        srv_db_rollback(req->db);
        srv_status found = pon_get(req->db, have, &row);
        srv_reply_lookup(req, found, json_incref(row), "panel of normals");
        goto out;
    }
    snprintf(rel, sizeof rel, "pons/%s.tsv", hex);
    if (srv_datadir_path(req->cfg->data_dir, rel, full, sizeof full) || srv_publish_file(src, full))
        goto fail;
    placed = 1;
    if (src == tmp)
        srv_upload_keep(req);
    else
        built[0] = '\0';
    st = srv_db_prepare(req->db,
                        "INSERT INTO pons (name, pon_key, build, bin_size, filters, n_normals, "
                        "checksum, path) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    if (!st)
        goto fail;
    sqlite3_bind_text(st, 1, name ? name : pon->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, pon->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, rw_build_name(pon->median->build), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, pon->median->bin_size);
    sqlite3_bind_text(st, 5, pon->filters, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, pon->n_normals);
    sqlite3_bind_text(st, 7, hex, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, rel, -1, SQLITE_STATIC);
    int ok = sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    if (!ok)
        goto fail;
    int64_t id = sqlite3_last_insert_rowid(req->db);
    if (pon_get(req->db, id, &row) != SRV_OK || srv_audit(req, "create", "pon", id, row) ||
        srv_auth_recheck(req) || srv_db_commit(req->db))
        goto fail;
    srv_log(SRV_LOG_INFO, "panel of normals %" PRId64 " stored (%d normals)", id, pon->n_normals);
    srv_reply_json(req, 201, json_incref(row));
    goto out;
fail:
    srv_db_rollback(req->db);
    if (placed)
        unlink(full);
    if (!req->response) /* srv_auth_recheck answers 401 itself */
        srv_reply_internal(req, "cannot store a panel");
out:
    if (built[0])
        unlink(built);
    free(text);
    json_decref(body);
    json_decref(row);
    rw_pon_free(pon);
    return srv_validate_done(req);
}

/* ---------------------------------------------------------------- activate */

static enum MHD_Result pon_activate(srv_request *req)
{
    int64_t id;
    int queued = 0;
    json_t *row = NULL;
    sqlite3_stmt *st = NULL;
    if (srv_param_id(req, 0, &id))
        return srv_validate_done(req);
    if (srv_db_begin(req->db))
        return srv_reply_internal(req, "cannot begin a transaction");
    srv_status found = pon_get(req->db, id, &row);
    if (found != SRV_OK) {
        srv_db_rollback(req->db);
        return srv_reply_lookup(req, found, row, "panel of normals");
    }
    json_decref(row);
    row = NULL;
    /* The old one first: the partial unique index checks each row as it is written, so a
     * single swapping UPDATE could trip over it. */
    if (srv_db_exec_id(req->db, "UPDATE pons SET active = 0 WHERE active = 1 AND id <> ?", id) ||
        srv_db_exec_id(req->db, "UPDATE pons SET active = 1 WHERE id = ?", id))
        goto fail;
    /* Every sWGS/bins sample with an input re-runs, except those whose queued job will pick the
     * new panel anyway: from stored counts when a result holds them, else from the input. A
     * sample whose job is running (against the old panel) gets one: the queue runs it after
     * that job (server/jobs.c runs one job per sample at a time). */
    st = srv_db_prepare(req->db,
                        "SELECT i.sample_id, EXISTS (SELECT 1 FROM results r WHERE r.sample_id = "
                        "i.sample_id AND r.counts IS NOT NULL) FROM sample_inputs i "
                        "WHERE i.kind IN ('reads', 'bins') AND NOT EXISTS (SELECT 1 FROM jobs j "
                        "WHERE j.sample_id = i.sample_id AND j.state = 'queued') "
                        "ORDER BY i.sample_id");
    if (!st)
        goto fail;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (srv_jobs_enqueue(req->db, sqlite3_column_int64(st, 0),
                             sqlite3_column_int(st, 1) ? "recall" : "analyse") < 0)
            goto fail;
        queued++;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc != SQLITE_DONE)
        goto fail;
    json_t *details = json_pack("{s:i}", "jobs_queued", queued);
    int bad = srv_audit(req, "activate", "pon", id, details);
    json_decref(details);
    if (bad || pon_get(req->db, id, &row) != SRV_OK || srv_auth_recheck(req) ||
        srv_db_commit(req->db))
        goto fail;
    srv_jobs_notify();
    srv_log(SRV_LOG_INFO, "panel of normals %" PRId64 " activated: %d samples re-run", id, queued);
    return srv_reply_json(req, 202, json_pack("{s:o, s:i}", "pon", row, "jobs_queued", queued));
fail:
    sqlite3_finalize(st);
    json_decref(row);
    srv_db_rollback(req->db);
    return req->response ? MHD_YES : srv_reply_internal(req, "cannot activate a panel");
}

const srv_route srv_pons_routes[] = {
    {.method = "GET",
     .path = "/api/v1/pons",
     .handler = pon_list,
     .query = (const char *const[]){"limit", "cursor", NULL},
     .roles = SRV_ROLE_CLINICIAN | SRV_ROLE_ADMIN},
    {.method = "POST",
     .path = "/api/v1/pons",
     .handler = pon_create,
     .query = (const char *const[]){"name", NULL},
     .roles = SRV_ROLE_ADMIN,
     .body = SRV_BODY_STREAM,
     .on_chunk = srv_upload_chunk,
     .on_headers = srv_upload_headers},
    {.method = "GET",
     .path = "/api/v1/pons/{id}",
     .handler = pon_show,
     .roles = SRV_ROLE_CLINICIAN | SRV_ROLE_ADMIN},
    {.method = "POST",
     .path = "/api/v1/pons/{id}/activate",
     .handler = pon_activate,
     .roles = SRV_ROLE_ADMIN},
    {0},
};
