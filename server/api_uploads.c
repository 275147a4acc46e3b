/* Uploads of a sample's input (role lims or admin): PUT /api/v1/samples/{accession}/reads (BAM or
 * CRAM), .../bins (bins TSV) and .../ddpcr (JSON wells). Each stores the input in the data folder,
 * queues an analysis job and answers 202 with the job.
 *
 * DESIGN. Raw bodies are streamed (SRV_BODY_STREAM): each chunk is appended to a temporary file
 * in <data>/tmp while its SHA-256 is computed, so a body is never held in memory. Past
 * --max-upload the file is deleted at once and the rest of the body discarded (413). Once the
 * body is complete the file is fsynced and checked (a BAM/CRAM header and its build, or a whole
 * bins file), and only then renamed into <data>/samples/<id>/<sha256>.<ext> inside the request's
 * transaction; the file name carries the checksum, so a replacement never overwrites the file a
 * committed row still names. Whatever ends the request (error, client abort, shutdown) the
 * completion callback removes a temporary file that was not kept: a partial upload leaves
 * nothing. Accessions are never logged; sample ids are. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <htslib/hts.h>
#include <htslib/sam.h>

#include "core/bins.h"
#include "core/genome.h"
#include "server/api.h"
#include "server/auth.h"
#include "server/datadir.h"
#include "server/ddpcr_input.h"
#include "server/jobs.h"
#include "server/monitor.h"
#include "server/options.h"
#include "server/panel.h"
#include "server/sha256.h"
#include "server/uploads.h"

/* Who may upload. */
#define UPLOADERS (SRV_ROLE_LIMS | SRV_ROLE_ADMIN)

/* ---------------------------------------------------------------- checks */

typedef struct sample_row {
    int64_t id, patient_id;
    char assay[8];
} sample_row;

/* Loads the sample named by path parameter 0; 0, or -1 after answering 404/500. */
static int find_sample(srv_request *req, sample_row *s)
{
    sqlite3_stmt *st =
        srv_db_prepare(req->db, "SELECT id, patient_id, assay FROM samples WHERE accession = ?");
    if (!st) {
        srv_reply_internal(req, "cannot look up a sample");
        return -1;
    }
    sqlite3_bind_text(st, 1, req->nparams > 0 && req->params[0] ? req->params[0] : "", -1,
                      SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        s->id = sqlite3_column_int64(st, 0);
        s->patient_id = sqlite3_column_int64(st, 1);
        snprintf(s->assay, sizeof s->assay, "%s", (const char *)sqlite3_column_text(st, 2));
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc == SQLITE_DONE)
        srv_reply_error(req, 404, "not_found", NULL,
                        "no such sample: register it first (POST /api/v1/patients/{id}/samples)");
    else
        srv_reply_internal(req, "cannot look up a sample");
    return -1;
}

/* The one input an assay takes: swgs reads, bins a bins file, ddpcr wells. */
static const char *assay_input(const char *assay)
{
    return !strcmp(assay, "swgs") ? "reads" : assay; /* "bins", "ddpcr" */
}

static int assay_accepts(const char *assay, const char *kind)
{
    return !strcmp(kind, assay_input(assay)); /* each assay takes exactly one kind of input */
}

/* Reads the header of a BAM/CRAM: the build, and ".bam"/".cram" in ext. 0, or -1 answered 422. */
static int check_reads(srv_request *req, const char *path, rw_build *build, const char **ext)
{
    htsFile *fp = hts_open(path, "r");
    sam_hdr_t *h = NULL;
    const char **names = NULL;
    int64_t *lens = NULL;
    int rc = -1;
    if (!fp) {
        srv_reply_error(req, 422, "not_bam", NULL,
                        "the upload is not a BAM or CRAM file (unrecognised content)");
        goto out;
    }
    const htsFormat *f = hts_get_format(fp);
    if (f->format != bam && f->format != cram) {
        char *desc = hts_format_description(f);
        srv_reply_error(req, 422, "not_bam", NULL,
                        "the upload is not a BAM or CRAM file (it looks like: %s)",
                        desc ? desc : "unknown");
        free(desc);
        goto out;
    }
    *ext = f->format == bam ? "bam" : "cram";
    if (!(h = sam_hdr_read(fp))) {
        srv_reply_error(req, 422, "invalid_bam", NULL,
                        "the %s header cannot be read (truncated or corrupt file)",
                        f->format == bam ? "BAM" : "CRAM");
        goto out;
    }
    int n = sam_hdr_nref(h);
    names = calloc(n > 0 ? (size_t)n : 1, sizeof *names);
    lens = calloc(n > 0 ? (size_t)n : 1, sizeof *lens);
    if (!names || !lens) {
        srv_reply_internal(req, "out of memory");
        goto out;
    }
    for (int i = 0; i < n; i++) {
        names[i] = sam_hdr_tid2name(h, i);
        lens[i] = (int64_t)sam_hdr_tid2len(h, i);
    }
    *build = rw_build_detect((size_t)n, names, lens);
    if (*build == RW_BUILD_UNKNOWN) {
        srv_reply_error(req, 422, "unknown_build", NULL,
                        "the genome build cannot be recognised from the header (%d sequences; "
                        "chr1 must be 248956422 bp for hg38 or 249250621 bp for hg19)",
                        n);
        goto out;
    }
    rc = 0;
out:
    free(names);
    free(lens);
    sam_hdr_destroy(h);
    if (fp)
        hts_close(fp);
    return rc;
}

/* The input's build (and bin size, 0 for reads) against the active panel: 0, or -1 answered. */
static int check_layout(srv_request *req, rw_build build, int32_t bin_size)
{
    char pon_build[8];
    int32_t pon_bin = 0;
    srv_status rc = srv_panel_active_layout(req->db, pon_build, &pon_bin);
    if (rc == SRV_NOT_FOUND)
        return 0; /* no panel yet: the job will say so */
    if (rc != SRV_OK) {
        srv_reply_internal(req, "cannot read the active panel");
        return -1;
    }
    if (rw_build_parse(pon_build) != build) {
        srv_reply_error(req, 422, "wrong_build", NULL,
                        "the upload is %s but the active panel of normals is %s",
                        rw_build_name(build), pon_build);
        return -1;
    }
    if (bin_size && bin_size != pon_bin) {
        srv_reply_error(req, 422, "bin_size_mismatch", NULL,
                        "the bins are %d bp wide but the active panel of normals uses %d bp",
                        (int)bin_size, (int)pon_bin);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- storing */

/* An input that passed its checks, about to be stored. */
typedef struct input {
    const char *kind; /* reads, bins, ddpcr */
    const char *sha;  /* lowercase hex SHA-256 of the bytes (ddPCR: of the canonical JSON) */
    int64_t size;
    rw_build build;         /* RW_BUILD_UNKNOWN for ddPCR */
    const char *tmp, *ext;  /* the uploaded file and its extension; NULL for ddPCR */
    const char *ddpcr_text; /* the wells (ddPCR only) */
} input;

/* What the sample already has, read inside the upload's transaction: its status decides
 * whether the input may be replaced, and only a status read under the write lock cannot change
 * (an admin's retry) before the commit. */
typedef struct prior {
    int exists;
    char sha[65], kind[8], status[16];
    char *path, *counts_path; /* owned */
} prior;

static int load_prior(sqlite3 *c, int64_t sample_id, prior *p)
{
    sqlite3_stmt *st =
        srv_db_prepare(c, "SELECT s.status, i.sha256, i.kind, i.path, i.counts_path FROM samples s "
                          "LEFT JOIN sample_inputs i ON i.sample_id = s.id WHERE s.id = ?");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, sample_id);
    int rc = sqlite3_step(st), ok = rc == SQLITE_ROW;
    if (ok) {
        snprintf(p->status, sizeof p->status, "%s", (const char *)sqlite3_column_text(st, 0));
        p->exists = sqlite3_column_type(st, 1) != SQLITE_NULL;
    }
    if (ok && p->exists) {
        snprintf(p->sha, sizeof p->sha, "%s", (const char *)sqlite3_column_text(st, 1));
        snprintf(p->kind, sizeof p->kind, "%s", (const char *)sqlite3_column_text(st, 2));
        if (sqlite3_column_type(st, 3) != SQLITE_NULL &&
            !(p->path = strdup((const char *)sqlite3_column_text(st, 3))))
            ok = 0;
        if (sqlite3_column_type(st, 4) != SQLITE_NULL &&
            !(p->counts_path = strdup((const char *)sqlite3_column_text(st, 4))))
            ok = 0;
    }
    sqlite3_finalize(st);
    return ok ? 0 : -1;
}

static void unlink_rel(const char *data_dir, const char *rel)
{
    char full[4096];
    if (rel && srv_datadir_path(data_dir, rel, full, sizeof full) == 0)
        unlink(full);
}

/* Before anything is written: the same bytes again answer 200 with the sample's latest job;
 * another input of a sample that has not failed answers 409. 1 when answered (rolled back), 0
 * when the upload goes on. */
static int answer_prior(srv_request *req, int64_t sample_id, const input *in, const prior *p)
{
    if (!p->exists)
        return 0;
    if (!strcmp(p->sha, in->sha) && !strcmp(p->kind, in->kind)) {
        srv_db_rollback(req->db);
        int64_t job;
        json_t *answer = srv_jobs_latest(req->db, sample_id, &job) == SRV_OK
                             ? srv_jobs_answer_new(req->db, job)
                             : NULL;
        if (!answer)
            srv_reply_internal(req, "cannot read the sample's job");
        else
            srv_reply_json(req, 200, answer);
        return 1;
    }
    if (strcmp(p->status, "failed")) {
        srv_db_rollback(req->db);
        srv_reply_error(req, 409, "conflict", NULL,
                        "another input (%s, sha256 %.12s...) was already uploaded for this sample; "
                        "only a failed sample's input can be replaced",
                        p->kind, p->sha);
        return 1;
    }
    return 0;
}

/* Renames the uploaded file to <data>/samples/<id>/<sha256>.<ext>: its relative path in rel,
 * the full one in full. 0, or -1 after answering 500. */
static int place_file(srv_request *req, int64_t sample_id, const input *in, char *rel,
                      size_t rel_size, char *full, size_t full_size)
{
    if (srv_datadir_sample(req->cfg->data_dir, sample_id, rel, rel_size)) {
        srv_reply_internal(req, "cannot create the sample's folder");
        return -1;
    }
    size_t l = strlen(rel);
    snprintf(rel + l, rel_size - l, "/%s.%s", in->sha, in->ext);
    if (srv_datadir_path(req->cfg->data_dir, rel, full, full_size) ||
        srv_publish_file(in->tmp, full)) { /* rename + fsync of the folders */
        srv_reply_internal(req, "cannot move the upload into place");
        return -1;
    }
    srv_upload_keep(req);
    return 0;
}

/* The sample_inputs row (rel: the placed file, NULL for ddPCR). 0, or -1. */
static int insert_input(sqlite3 *c, int64_t sample_id, const input *in, const char *rel)
{
    sqlite3_stmt *st = srv_db_prepare(c, "INSERT OR REPLACE INTO sample_inputs (sample_id, kind, "
                                         "path, sha256, size, build, ddpcr) "
                                         "VALUES (?, ?, ?, ?, ?, ?, ?)");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, sample_id);
    sqlite3_bind_text(st, 2, in->kind, -1, SQLITE_STATIC);
    if (rel)
        sqlite3_bind_text(st, 3, rel, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, in->sha, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, in->size);
    if (in->build != RW_BUILD_UNKNOWN)
        sqlite3_bind_text(st, 6, rw_build_name(in->build), -1, SQLITE_STATIC);
    if (in->ddpcr_text)
        sqlite3_bind_text(st, 7, in->ddpcr_text, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return rc;
}

/* The rows of a stored input, inside the open transaction: the input, the old result dropped
 * when it replaces one (it described other data), the job and the audit row. The job's answer
 * (new), or NULL on a database error. */
static json_t *write_input(srv_request *req, const sample_row *s, const input *in, const char *rel,
                           int replaced, int64_t *job_id)
{
    int64_t job;
    if (insert_input(req->db, s->id, in, rel))
        return NULL;
    if (replaced && (srv_db_exec_id(req->db, "DELETE FROM results WHERE sample_id = ?", s->id) ||
                     srv_monitor_recompute(req->db, s->patient_id)))
        return NULL;
    if ((job = srv_jobs_enqueue(req->db, s->id, "analyse")) < 0)
        return NULL;
    json_t *details =
        json_pack("{s:s, s:s, s:I, s:s?, s:I, s:b}", "kind", in->kind, "sha256", in->sha, "size",
                  (json_int_t)in->size, "build", in->build ? rw_build_name(in->build) : NULL,
                  "job_id", (json_int_t)job, "replaced", replaced);
    int bad = srv_audit(req, "upload", "sample", s->id, details);
    json_decref(details);
    *job_id = job;
    return bad ? NULL : srv_jobs_answer_new(req->db, job);
}

/* The common end of every upload, once the input is checked: inside one transaction, the
 * same-checksum no-op (200), the conflict (409), or the replacement of a failed sample's input;
 * the file renamed into place, the input row, the job (202). */
static enum MHD_Result store_input(srv_request *req, const sample_row *s, const input *in)
{
    prior p = {0};
    char rel[256], full[4096];
    int placed = 0;
    int64_t job;
    json_t *answer = NULL;

    if (srv_db_begin(req->db))
        return srv_reply_internal(req, "cannot begin a transaction");
    if (load_prior(req->db, s->id, &p)) {
        srv_reply_internal(req, "cannot read the sample's input");
        goto fail;
    }
    if (answer_prior(req, s->id, in, &p))
        goto out;
    if (in->tmp) {
        if (place_file(req, s->id, in, rel, sizeof rel, full, sizeof full))
            goto fail;
        placed = 1;
    }
    if (!(answer = write_input(req, s, in, placed ? rel : NULL, p.exists, &job)) ||
        srv_auth_recheck(req) || srv_db_commit(req->db)) {
        if (!req->response) /* srv_auth_recheck answered 401 itself */
            srv_reply_internal(req, "cannot store an upload");
        goto fail;
    }
    srv_jobs_notify();
    srv_log(SRV_LOG_INFO, "sample %" PRId64 ": %s input stored (%" PRId64 " bytes), job %" PRId64,
            s->id, in->kind, in->size, job);
    if (p.exists) {
        if (!placed || !p.path || strcmp(p.path, rel))
            unlink_rel(req->cfg->data_dir, p.path);
        unlink_rel(req->cfg->data_dir, p.counts_path);
    }
    srv_reply_json(req, 202, answer);
    answer = NULL;
    goto out;
fail:
    srv_db_rollback(req->db);
    if (placed)
        unlink(full);
out:
    json_decref(answer);
    free(p.path);
    free(p.counts_path);
    return MHD_YES;
}

/* ---------------------------------------------------------------- checks at the headers */

/* A sample that already holds another input and has not failed cannot take this upload: when
 * the declared size or the kind differs from the stored input's, the body cannot be the same
 * bytes (which would be an idempotent 200), so 409 is certain before a byte is read. 0, or 1
 * once answered. */
static int conflict_early(srv_request *req, const sample_row *s, const char *kind, int64_t declared)
{
    sqlite3_stmt *st = srv_db_prepare(req->db, "SELECT s.status, i.kind, i.size FROM samples s "
                                               "JOIN sample_inputs i ON i.sample_id = s.id "
                                               "WHERE s.id = ?");
    if (!st) {
        srv_reply_internal(req, "cannot read the sample's input");
        return 1;
    }
    sqlite3_bind_int64(st, 1, s->id);
    int conflict = 0;
    if (sqlite3_step(st) == SQLITE_ROW)
        conflict = strcmp((const char *)sqlite3_column_text(st, 0), "failed") &&
                   (strcmp((const char *)sqlite3_column_text(st, 1), kind) ||
                    (declared >= 0 && declared != sqlite3_column_int64(st, 2)));
    sqlite3_finalize(st);
    if (conflict)
        srv_reply_error(req, 409, "conflict", NULL,
                        "another input was already uploaded for this sample; only a failed "
                        "sample's input can be replaced");
    return conflict;
}

/* Everything the headers decide for a sample's file upload, before a byte of the body is
 * stored: the sample exists, its assay takes files, its state admits this input, the declared
 * size is within the limits and the disk has room (uploads.h). 0 to read the body, 1 once
 * answered (MHD then closes without reading it). */
static int sample_headers(srv_request *req, const char *kind, int64_t declared)
{
    sample_row s;
    if (find_sample(req, &s))
        return 1;
    if (!assay_accepts(s.assay, kind)) {
        srv_reply_error(req, 422, "assay_mismatch", NULL,
                        "this sample is registered with assay %s: upload its input to .../%s",
                        s.assay, assay_input(s.assay));
        return 1;
    }
    if (declared == 0) {
        srv_reply_error(req, 422, "empty_body", NULL, "the upload is empty");
        return 1;
    }
    return conflict_early(req, &s, kind, declared) ||
           srv_upload_headers_capped(req, declared, req->cfg->quota_sample);
}

static int reads_headers(srv_request *req, int64_t declared)
{
    return sample_headers(req, "reads", declared);
}

static int bins_headers(srv_request *req, int64_t declared)
{
    return sample_headers(req, "bins", declared);
}

/* ---------------------------------------------------------------- handlers */

/* The checks every streamed file upload (reads, bins) starts with: the body complete, the sample
 * known and of an sWGS assay, the body not empty. 0 with in->tmp, sha and size set, or -1 once
 * answered. */
static int file_upload_ready(srv_request *req, sample_row *s, input *in)
{
    if (srv_upload_file(req, &in->tmp, &in->sha, &in->size))
        srv_reply_internal(req, "upload state missing");
    else if (find_sample(req, s))
        ;
    else if (!assay_accepts(s->assay, in->kind))
        srv_reply_error(req, 422, "assay_mismatch", NULL,
                        "this sample is registered with assay %s: upload its input to .../%s",
                        s->assay, assay_input(s->assay));
    else if (in->size == 0)
        srv_reply_error(req, 422, "empty_body", NULL, "the upload is empty");
    else
        return 0;
    return -1;
}

static enum MHD_Result put_reads(srv_request *req)
{
    sample_row s;
    input in = {.kind = "reads", .build = RW_BUILD_UNKNOWN};
    if (file_upload_ready(req, &s, &in) || check_reads(req, in.tmp, &in.build, &in.ext) ||
        check_layout(req, in.build, 0))
        return MHD_YES;
    return store_input(req, &s, &in);
}

static enum MHD_Result put_bins(srv_request *req)
{
    sample_row s;
    input in = {.kind = "bins", .ext = "tsv"};
    rw_bins *b = NULL;
    rw_error e = {0};
    if (file_upload_ready(req, &s, &in))
        return MHD_YES;
    if (rw_bins_read(in.tmp, &b, &e)) {
        /* The core names the file: the temporary path means nothing to the client. */
        size_t tl = strlen(in.tmp);
        const char *m = strncmp(e.msg, in.tmp, tl) ? e.msg : e.msg + tl;
        m += strspn(m, ": ");
        return srv_reply_core_error(req, e.status, "invalid_bins", NULL,
                                    "not a valid bins file: %s", m);
    }
    in.build = b->build;
    int32_t bin_size = b->bin_size;
    rw_bins_free(b);
    if (check_layout(req, in.build, bin_size))
        return MHD_YES;
    return store_input(req, &s, &in);
}

static enum MHD_Result put_ddpcr(srv_request *req)
{
    sample_row s;
    rw_error e = {0};
    const char *field;
    char hex[65];
    rw_status st;
    if (find_sample(req, &s))
        return MHD_YES;
    if (!assay_accepts(s.assay, "ddpcr"))
        return srv_reply_error(req, 422, "assay_mismatch", NULL,
                               "this sample is registered with assay %s: upload its input to "
                               ".../%s",
                               s.assay, assay_input(s.assay));
    char unknown[80];
    if (srv_ddpcr_unknown_key(req->json, unknown, sizeof unknown, &e))
        return srv_reply_error(req, 422, "unknown_field", unknown, "%s", e.msg);
    if ((st = srv_ddpcr_check(req->json, &field, &e)))
        return srv_reply_core_error(req, st, "invalid_ddpcr", field, "%s", e.msg);
    /* The checksum of the canonical JSON: the same wells resent with other spacing match. */
    char *text = json_dumps(req->json, JSON_COMPACT | JSON_SORT_KEYS);
    if (!text)
        return srv_reply_internal(req, "out of memory");
    srv_sha256_hex(text, strlen(text), hex);
    input in = {.kind = "ddpcr",
                .sha = hex,
                .size = (int64_t)strlen(text),
                .build = RW_BUILD_UNKNOWN,
                .ddpcr_text = text};
    enum MHD_Result ret = store_input(req, &s, &in);
    free(text);
    return ret;
}

const srv_route srv_uploads_routes[] = {
    {.method = "PUT",
     .path = "/api/v1/samples/{accession}/reads",
     .handler = put_reads,
     .roles = SRV_ROLE_LIMS,
     .body = SRV_BODY_STREAM,
     .on_chunk = srv_upload_chunk,
     .on_headers = reads_headers},
    {.method = "PUT",
     .path = "/api/v1/samples/{accession}/bins",
     .handler = put_bins,
     .roles = SRV_ROLE_LIMS,
     .body = SRV_BODY_STREAM,
     .on_chunk = srv_upload_chunk,
     .on_headers = bins_headers},
    {.method = "PUT",
     .path = "/api/v1/samples/{accession}/ddpcr",
     .handler = put_ddpcr,
     .roles = SRV_ROLE_LIMS,
     .body = SRV_BODY_JSON},
    {0},
};
