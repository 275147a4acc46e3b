/* The work of one job: input -> core -> one results row, committed with the job's and sample's
 * states and the monitoring hook in one transaction (see pipeline.h).
 *
 * DESIGN. A job reads what it needs (sample, input, active panel) outside any transaction, runs
 * the core with no lock held (counting a BAM takes seconds to minutes), then opens one
 * BEGIN IMMEDIATE transaction that writes the result, marks the job done, moves the sample's
 * status and calls srv_monitor_recompute(): the alerts a page shows can never disagree with the
 * stored results. Every job counts reads with the default filters of core/count.h in the active
 * panel's fragment mode (all, its window, or its length weights: srv_panel_count_opts), so a
 * sample and its panel agree; a bins file that states its filters is refused when they differ
 * from the panel's. */
#include "server/pipeline.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/analyse.h"
#include "server/audit.h"
#include "server/counts.h"
#include "server/datadir.h"
#include "server/db.h"
#include "server/jobs.h"
#include "server/log.h"
#include "server/monitor.h"
#include "server/options.h"
#include "server/panel.h"
#include "server/result_row.h"

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* What the job knows about its sample. */
typedef struct job_ctx {
    sqlite3 *conn;
    const char *data_dir;
    int64_t job_id, sample_id, patient_id;
    int recall;
    char assay[8];
    char kind[8];      /* input kind: reads, bins, ddpcr ("" = no input) */
    char path[512];    /* input path (relative) */
    char *ddpcr_text;  /* ddPCR wells JSON (owned) */
    double primary_cn; /* patient's primary 1q21.3 CN, NaN when unknown */
    json_t *old_qc;    /* qc of the previous result (recall keeps its counting QC), owned */
    srv_pipeline_progress_fn progress;
    void *progress_ctx;
    int last_percent;
} job_ctx;

static void job_progress(void *ctx, double fraction)
{
    job_ctx *j = ctx;
    /* Counting is ~90% of a job; the analysis and the store take the rest. */
    int p = (int)(fraction * 90.0);
    if (p > j->last_percent && j->progress) {
        j->last_percent = p;
        j->progress(j->progress_ctx, p);
    }
}

/* What the job needs of its sample, read outside any transaction. */
static srv_status load_job(job_ctx *j, char *err, size_t errlen)
{
    sqlite3_stmt *st = srv_db_prepare(
        j->conn, "SELECT s.patient_id, s.assay, p.primary_1q213_cn, i.kind, i.path, i.ddpcr, "
                 "r.qc FROM samples s JOIN patients p ON p.id = s.patient_id "
                 "LEFT JOIN sample_inputs i ON i.sample_id = s.id "
                 "LEFT JOIN results r ON r.sample_id = s.id WHERE s.id = ?");
    if (!st) {
        set_err(err, errlen, "database error reading the sample");
        return SRV_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, j->sample_id);
    srv_status rc = SRV_INTERNAL;
    int s = sqlite3_step(st);
    if (s == SQLITE_BUSY || s == SQLITE_LOCKED) {
        set_err(err, errlen, "database busy: cannot read the sample");
        rc = SRV_RETRY;
        goto out;
    }
    if (s != SQLITE_ROW) {
        if (s == SQLITE_DONE) {
            set_err(err, errlen, "sample %" PRId64 " no longer exists", j->sample_id);
            rc = SRV_NOT_FOUND;
        } else
            set_err(err, errlen, "database error reading the sample");
        goto out;
    }
    j->patient_id = sqlite3_column_int64(st, 0);
    snprintf(j->assay, sizeof j->assay, "%s", (const char *)sqlite3_column_text(st, 1));
    j->primary_cn = sqlite3_column_type(st, 2) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 2);
    if (sqlite3_column_type(st, 3) != SQLITE_NULL)
        snprintf(j->kind, sizeof j->kind, "%s", (const char *)sqlite3_column_text(st, 3));
    if (sqlite3_column_type(st, 4) != SQLITE_NULL)
        snprintf(j->path, sizeof j->path, "%s", (const char *)sqlite3_column_text(st, 4));
    if (sqlite3_column_type(st, 5) != SQLITE_NULL &&
        !(j->ddpcr_text = strdup((const char *)sqlite3_column_text(st, 5)))) {
        set_err(err, errlen, "out of memory");
        goto out;
    }
    if (sqlite3_column_type(st, 6) != SQLITE_NULL)
        j->old_qc = json_loads((const char *)sqlite3_column_text(st, 6), 0, NULL);
    if (!j->kind[0]) {
        set_err(err, errlen, "the sample has no uploaded input");
        rc = SRV_CLIENT;
        goto out;
    }
    rc = SRV_OK;
out:
    sqlite3_finalize(st);
    return rc;
}

/* The values of one results row, built before the transaction opens. */

/* ---------------------------------------------------------------- storing */

/* The job's end inside the result's transaction: the job done (it must still be ours: a job
 * reset meanwhile, which cannot happen today, is not stored), the sample settled, the audit
 * row. SRV_OK, SRV_NOT_FOUND when the job was no longer running, SRV_RETRY on a database
 * error. */
static srv_status finish_job(job_ctx *j, const srv_result_row *row, char *err, size_t errlen)
{
    sqlite3 *c = j->conn;
    if (srv_db_exec_id(c,
                       "UPDATE jobs SET state = 'done', progress = 100, error = NULL, "
                       "finished_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') "
                       "WHERE id = ? AND state = 'running'",
                       j->job_id))
        return SRV_RETRY;
    if (sqlite3_changes(c) != 1) {
        set_err(err, errlen, "the job was no longer running when its result was ready");
        return SRV_NOT_FOUND;
    }
    /* Another job queued for the sample meanwhile (a recall after a PoN change) keeps it queued. */
    if (srv_jobs_settle_sample(c, j->job_id, j->sample_id, NULL))
        return SRV_RETRY;
    json_t *details = json_pack("{s:I, s:s, s:s, s:o}", "job_id", (json_int_t)j->job_id, "kind",
                                j->recall ? "recall" : "analyse", "call", row->call, "pon_id",
                                row->pon_id ? json_integer(row->pon_id) : json_null());
    int bad = srv_audit_write(c, "system", 0, "result", "sample", j->sample_id, details);
    json_decref(details);
    return bad ? SRV_RETRY : SRV_OK;
}

/* Writes the row, the job's and the sample's states, the audit row and the monitoring state in
 * one transaction. */
static srv_status store(job_ctx *j, const srv_result_row *row, char *err, size_t errlen)
{
    sqlite3 *c = j->conn;
    srv_status rc;
    if (srv_db_begin(c)) {
        set_err(err, errlen, "database busy: cannot store the result");
        return SRV_RETRY;
    }
    if (srv_result_row_insert(c, j->sample_id, j->job_id, j->assay, row)) {
        rc = SRV_RETRY;
        set_err(err, errlen, "database error storing the result");
    } else if ((rc = finish_job(j, row, err, errlen)) != SRV_OK) {
        if (rc == SRV_RETRY)
            set_err(err, errlen, "database error storing the result");
    } else if (srv_monitor_recompute(c, j->patient_id)) {
        rc = SRV_RETRY;
        set_err(err, errlen, "the monitoring state could not be recomputed (see the log)");
    } else if (srv_db_commit(c)) {
        rc = SRV_RETRY;
        set_err(err, errlen, "database busy: cannot commit the result");
    }
    if (rc != SRV_OK)
        srv_db_rollback(c);
    return rc;
}

/* ---------------------------------------------------------------- running */

/* Writes the counted bins next to the input, so a later PoN build or re-run needs no reads. */
static void cache_counts(job_ctx *j, const rw_bins *b)
{
    char rel[600], full[4096];
    rw_error e = {0};
    snprintf(rel, sizeof rel, "samples/%" PRId64 "/counts.tsv", j->sample_id);
    if (srv_datadir_path(j->data_dir, rel, full, sizeof full) || rw_bins_write(b, full, &e)) {
        srv_log(SRV_LOG_WARN, "job %" PRId64 ": cannot cache the counts: %s", j->job_id, e.msg);
        return;
    }
    sqlite3_stmt *st =
        srv_db_prepare(j->conn, "UPDATE sample_inputs SET counts_path = ? WHERE sample_id = ?");
    if (st) {
        sqlite3_bind_text(st, 1, rel, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, j->sample_id);
        sqlite3_step(st);
    }
    sqlite3_finalize(st);
}

/* A failure the sample's data explains (bad input, wrong build, mismatch) is final; anything
 * else (I/O, memory, a bug the next run may not meet) is worth another run. */
static srv_status core_failure(const rw_error *e, char *err, size_t errlen)
{
    set_err(err, errlen, "%s: %s", rw_strerror(e->status), e->msg);
    return srv_status_of_core(e->status) == SRV_CLIENT ? SRV_CLIENT : SRV_RETRY;
}

/* The sample's bin counts: the stored ones for a recall that has them, else counted from its
 * input with the panel's layout (*cqc filled, *counted set). */
static srv_status load_counts(job_ctx *j, const struct srv_config *cfg, rw_count_opts co,
                              rw_bins **bins, rw_count_qc *cqc, int *counted, char *err,
                              size_t errlen)
{
    char full[4096];
    rw_error e = {0};
    srv_status st = j->recall ? srv_counts_stored(j->conn, j->sample_id, bins) : SRV_NOT_FOUND;
    if (st == SRV_OK) {
        char want[sizeof(*bins)->filters];
        rw_count_filters(&co, want, sizeof want);
        if (!(*bins)->filters[0] || !strcmp((*bins)->filters, want))
            return SRV_OK;
        /* Counted otherwise (under a panel of another fragment mode): count the input again. */
        rw_bins_free(*bins);
        *bins = NULL;
        st = SRV_NOT_FOUND;
    }
    if (st != SRV_NOT_FOUND) {
        set_err(err, errlen, "the stored counts of the sample are unreadable");
        return SRV_CLIENT;
    }
    if (cfg->reference && *cfg->reference)
        co.reference = cfg->reference;
    if (srv_datadir_path(j->data_dir, j->path, full, sizeof full)) {
        set_err(err, errlen, "input path too long");
        return SRV_CLIENT;
    }
    if (rw_count_load(full, &co, bins, cqc, job_progress, j, &e))
        return core_failure(&e, err, errlen);
    *counted = 1;
    if (!strcmp(j->kind, "reads"))
        cache_counts(j, *bins);
    return SRV_OK;
}

/* sWGS reads or bins against the active panel: count (or load), analyse, store. */
static srv_status run_swgs(job_ctx *j, const struct srv_config *cfg, char *err, size_t errlen)
{
    srv_result_row row = {0};
    rw_pon *pon = NULL;
    rw_bins *bins = NULL;
    rw_result *res = NULL;
    rw_count_qc cqc;
    rw_count_opts co;
    double weights[RW_FRAG_HIST_MAX + 1]; /* of a weighted panel's fragment lengths */
    rw_error e = {0};
    int64_t pon_id = 0;
    int counted = 0;
    char filters[256];
    srv_status rc = SRV_RETRY; /* the database or the panel's file: not the sample's fault */

    if (srv_panel_active(j->conn, j->data_dir, &pon_id, &pon, err, errlen))
        goto out;
    rc = SRV_CLIENT;
    if (!pon) {
        set_err(err, errlen,
                "no active panel of normals: upload or build one and activate it "
                "(POST /api/v1/pons); activation re-runs this sample");
        goto out;
    }
    if ((rc = srv_panel_count_opts(&co, pon, weights, err, errlen)) != SRV_OK ||
        (rc = load_counts(j, cfg, co, &bins, &cqc, &counted, err, errlen)) != SRV_OK)
        goto out;
    if (j->progress)
        j->progress(j->progress_ctx, 90);
    rw_analyse_opts ao = srv_settings()->analyse; /* the daemon's analysis settings */
    ao.filters = rw_pon_filters(&co, filters, sizeof filters);
    /* The tumour-informed fraction needs an amplified primary (C > 2). */
    if (isfinite(j->primary_cn) && j->primary_cn > 2.0)
        ao.primary_cn = j->primary_cn;
    if (rw_analyse(bins, pon, &ao, &res, &e)) {
        rc = core_failure(&e, err, errlen);
        goto out;
    }
    if (j->progress)
        j->progress(j->progress_ctx, 95);
    srv_swgs_source src = {.counted = counted ? &cqc : NULL,
                           .old_qc = j->old_qc,
                           .input = counted ? (strcmp(j->kind, "bins") ? "reads" : "bins")
                                            : "stored_counts",
                           .recall = j->recall,
                           .pon_id = pon_id,
                           .pon = pon};
    if ((rc = srv_result_row_swgs(&row, res, &src, err, errlen)) == SRV_OK)
        rc = store(j, &row, err, errlen);
out:
    srv_result_row_free(&row);
    rw_result_free(res);
    rw_bins_free(bins);
    rw_pon_free(pon);
    return rc;
}

srv_status srv_pipeline_run(sqlite3 *conn, const srv_config *cfg, int64_t job_id, int64_t sample_id,
                            int recall, srv_pipeline_progress_fn progress, void *progress_ctx,
                            char *err, size_t errlen)
{
    job_ctx j = {.conn = conn,
                 .data_dir = cfg->data_dir,
                 .job_id = job_id,
                 .sample_id = sample_id,
                 .recall = recall,
                 .progress = progress,
                 .progress_ctx = progress_ctx};
    srv_status rc = load_job(&j, err, errlen);
    if (rc == SRV_OK && !strcmp(j.kind, "ddpcr")) {
        srv_result_row row = {0};
        if ((rc = srv_result_row_ddpcr(&row, j.ddpcr_text, err, errlen)) == SRV_OK)
            rc = store(&j, &row, err, errlen);
        srv_result_row_free(&row);
    } else if (rc == SRV_OK)
        rc = run_swgs(&j, cfg, err, errlen);
    free(j.ddpcr_text);
    json_decref(j.old_qc);
    return rc;
}
