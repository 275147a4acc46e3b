/* The work of one job: input -> core -> one results row, committed with the job's and sample's
 * states and the monitoring hook in one transaction (see pipeline.h).
 *
 * DESIGN. A job reads what it needs (sample, input, active panel) outside any transaction, runs
 * the core with no lock held (counting a BAM takes seconds to minutes), then opens one
 * BEGIN IMMEDIATE transaction that writes the result, marks the job done, moves the sample's
 * status and calls srv_monitor_recompute(): the alerts a page shows can never disagree with the
 * stored results. Every job counts with the default filters of core/count.h, so the filters of a
 * sample and of a panel built here always agree. Bins files carry no filters: they are taken to
 * have been counted with the defaults. */
#include "server/pipeline.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/analyse.h"
#include "core/version.h"
#include "server/audit.h"
#include "server/db.h"
#include "server/jobs.h"
#include "server/log.h"
#include "server/monitor.h"

/* ---------------------------------------------------------------- small helpers */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* A JSON number, or null when not finite (JSON has no NaN). */
static json_t *jnum(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static void bind_double(sqlite3_stmt *st, int i, double v)
{
    if (isfinite(v))
        sqlite3_bind_double(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

/* Binds the compact text of j (NULL j binds NULL). The text is handed to SQLite to free. */
static int bind_json(sqlite3_stmt *st, int i, json_t *j)
{
    if (!j)
        return sqlite3_bind_null(st, i);
    char *t = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(8) | JSON_ENCODE_ANY);
    if (!t)
        return SQLITE_NOMEM;
    return sqlite3_bind_text(st, i, t, -1, free);
}

int srv_pipeline_path(const char *data_dir, const char *rel, char *out, size_t n)
{
    int w = snprintf(out, n, "%s/%s", data_dir, rel);
    return w < 0 || (size_t)w >= n ? -1 : 0;
}

static int mkdir_one(const char *path)
{
    return mkdir(path, 0750) && errno != EEXIST ? -1 : 0;
}

int srv_pipeline_prepare_dir(const char *data_dir, char *err, size_t errlen)
{
    static const char *const subs[] = {"tmp", "samples", "pons"};
    char p[4096];
    /* Parents one level at a time, so "var/data" works on a fresh checkout. */
    snprintf(p, sizeof p, "%s", data_dir);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        mkdir_one(p);
        *s = '/';
    }
    if (mkdir_one(p)) {
        set_err(err, errlen, "cannot create the data folder %s: %s", data_dir, strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        if (srv_pipeline_path(data_dir, subs[i], p, sizeof p) || mkdir_one(p)) {
            set_err(err, errlen, "cannot create %s/%s: %s", data_dir, subs[i], strerror(errno));
            return -1;
        }
    }
    /* An upload cut by a crash leaves its temporary file: nothing refers to it. */
    srv_pipeline_path(data_dir, "tmp", p, sizeof p);
    DIR *d = opendir(p);
    struct dirent *e;
    int removed = 0;
    while (d && (e = readdir(d))) {
        char f[4096 + 300];
        if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
            continue;
        snprintf(f, sizeof f, "%s/%s", p, e->d_name);
        removed += unlink(f) == 0;
    }
    if (d)
        closedir(d);
    if (removed)
        srv_log(SRV_LOG_INFO, "removed %d temporary upload files left by a previous run", removed);
    return 0;
}

int srv_pipeline_sample_dir(const char *data_dir, int64_t sample_id, char *rel, size_t n)
{
    char full[4096];
    int w = snprintf(rel, n, "samples/%" PRId64, sample_id);
    if (w < 0 || (size_t)w >= n || srv_pipeline_path(data_dir, rel, full, sizeof full))
        return -1;
    return mkdir_one(full);
}

void srv_pipeline_count_opts(rw_count_opts *co, int32_t bin_size, int include_y)
{
    rw_count_opts_init(co);
    co->bin_size = bin_size;
    co->include_y = include_y;
}

unsigned char *srv_pipeline_f32_encode(const double *v, size_t n)
{
    unsigned char *b = malloc(n ? n * 4 : 1);
    if (!b)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        float f = (float)v[i];
        uint32_t u;
        memcpy(&u, &f, 4);
        b[4 * i] = (unsigned char)(u & 0xff);
        b[4 * i + 1] = (unsigned char)((u >> 8) & 0xff);
        b[4 * i + 2] = (unsigned char)((u >> 16) & 0xff);
        b[4 * i + 3] = (unsigned char)(u >> 24);
    }
    return b;
}

void srv_pipeline_f32_decode(const void *blob, size_t n, double *out)
{
    const unsigned char *b = blob;
    for (size_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 |
                     (uint32_t)b[4 * i + 2] << 16 | (uint32_t)b[4 * i + 3] << 24;
        float f;
        memcpy(&f, &u, 4);
        out[i] = f;
    }
}

/* ---------------------------------------------------------------- panels and counts */

int srv_pipeline_active_layout(sqlite3 *conn, char *build, int32_t *bin_size)
{
    sqlite3_stmt *st = srv_db_prepare(conn, "SELECT build, bin_size FROM pons WHERE active = 1");
    if (!st)
        return -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        snprintf(build, 8, "%s", (const char *)sqlite3_column_text(st, 0));
        *bin_size = sqlite3_column_int(st, 1);
        rc = 0;
    } else
        rc = rc == SQLITE_DONE ? 1 : -1;
    sqlite3_finalize(st);
    return rc;
}

int srv_pipeline_active_pon(sqlite3 *conn, const char *data_dir, int64_t *pon_id, rw_pon **pon,
                            char *err, size_t errlen)
{
    char full[4096];
    int rc = -1;
    *pon_id = 0;
    if (pon)
        *pon = NULL;
    sqlite3_stmt *st = srv_db_prepare(conn, "SELECT id, path FROM pons WHERE active = 1");
    if (!st) {
        set_err(err, errlen, "database error reading the active panel of normals");
        return -1;
    }
    int s = sqlite3_step(st);
    if (s == SQLITE_DONE) {
        rc = 0;
        goto out;
    }
    if (s != SQLITE_ROW) {
        set_err(err, errlen, "database error reading the active panel of normals");
        goto out;
    }
    *pon_id = sqlite3_column_int64(st, 0);
    if (pon) {
        rw_error e = {0};
        if (srv_pipeline_path(data_dir, (const char *)sqlite3_column_text(st, 1), full,
                              sizeof full) ||
            rw_pon_read(full, pon, &e)) {
            set_err(err, errlen, "cannot read the active panel of normals (id %" PRId64 "): %s",
                    *pon_id, e.msg);
            goto out;
        }
    }
    rc = 0;
out:
    sqlite3_finalize(st);
    return rc;
}

/* Bins of a layout with the counts of a float32 BLOB; NULL when the BLOB does not fit it. */
static rw_bins *bins_from_blob(const char *build, int32_t bin_size, const void *blob, size_t nbytes)
{
    rw_build b = rw_build_parse(build);
    for (int y = 0; y <= 1; y++) {
        rw_bins *bins = rw_bins_new(b, bin_size, y, NULL);
        if (bins && bins->n * 4 == nbytes) {
            srv_pipeline_f32_decode(blob, bins->n, bins->count);
            return bins;
        }
        rw_bins_free(bins);
    }
    return NULL;
}

/* The counts stored with the sample's result: 0 (new *out), 1 none, -1 error. */
static int result_counts(sqlite3 *conn, int64_t sample_id, rw_bins **out)
{
    *out = NULL;
    sqlite3_stmt *st = srv_db_prepare(conn, "SELECT build, bin_size, counts FROM results "
                                            "WHERE sample_id = ? AND counts IS NOT NULL");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, sample_id);
    int rc = 1;
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        *out = bins_from_blob((const char *)sqlite3_column_text(st, 0), sqlite3_column_int(st, 1),
                              sqlite3_column_blob(st, 2), (size_t)sqlite3_column_bytes(st, 2));
        rc = *out ? 0 : -1;
    } else if (s != SQLITE_DONE)
        rc = -1;
    sqlite3_finalize(st);
    return rc;
}

int srv_pipeline_sample_counts(sqlite3 *conn, const char *data_dir, int64_t sample_id,
                               rw_bins **out, char *err, size_t errlen)
{
    char full[4096];
    rw_error e = {0};
    int rc = result_counts(conn, sample_id, out);
    if (rc <= 0) {
        if (rc < 0)
            set_err(err, errlen, "cannot read the stored counts of sample %" PRId64, sample_id);
        return rc;
    }
    sqlite3_stmt *st = srv_db_prepare(
        conn, "SELECT CASE WHEN kind = 'bins' THEN path ELSE counts_path END FROM sample_inputs "
              "WHERE sample_id = ? AND kind IN ('bins', 'reads')");
    if (!st) {
        set_err(err, errlen, "database error");
        return -1;
    }
    sqlite3_bind_int64(st, 1, sample_id);
    rc = 1;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        rc = -1;
        if (srv_pipeline_path(data_dir, (const char *)sqlite3_column_text(st, 0), full,
                              sizeof full) == 0 &&
            rw_bins_read(full, out, &e) == RW_OK)
            rc = 0;
        else
            set_err(err, errlen, "cannot read the bins of sample %" PRId64 ": %s", sample_id,
                    e.msg);
    }
    sqlite3_finalize(st);
    return rc;
}

/* ---------------------------------------------------------------- ddPCR */

int srv_pipeline_ddpcr_parse(json_t *body, rw_ddpcr_well **wells, size_t *n, rw_ddpcr_opts *o,
                             rw_ddpcr_result *res, const char **field, char *msg, size_t msglen)
{
    static const char *const keys[] = {"target_positive", "reference_positive", "accepted"};
    const char *k;
    json_t *v, *arr;
    rw_error e = {0};
    *wells = NULL;
    *n = 0;
    rw_ddpcr_opts_init(o);
    *field = NULL;
    if (!json_is_object(body)) {
        set_err(msg, msglen, "the body must be a JSON object");
        return -1;
    }
    json_object_foreach(body, k, v)
    {
        if (strcmp(k, "droplet_volume_nl") && strcmp(k, "wells")) {
            *field = "wells";
            set_err(msg, msglen, "unknown field '%s' (expected droplet_volume_nl, wells)", k);
            return -1;
        }
    }
    v = json_object_get(body, "droplet_volume_nl");
    if (v && !json_is_null(v)) {
        *field = "droplet_volume_nl";
        if (!json_is_number(v) || json_number_value(v) <= 0 || json_number_value(v) > 100) {
            set_err(msg, msglen, "droplet_volume_nl must be a number in (0, 100] nL");
            return -1;
        }
        o->droplet_volume_nl = json_number_value(v);
    }
    *field = "wells";
    arr = json_object_get(body, "wells");
    if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > 96) {
        set_err(msg, msglen, "wells must be an array of 1 to 96 wells");
        return -1;
    }
    *n = json_array_size(arr);
    if (!(*wells = calloc(*n, sizeof **wells))) {
        set_err(msg, msglen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < *n; i++) {
        json_t *w = json_array_get(arr, i);
        uint64_t val[3];
        if (!json_is_object(w) || json_object_size(w) != 3) {
            set_err(msg, msglen,
                    "well %zu must be an object with exactly target_positive, "
                    "reference_positive and accepted",
                    i + 1);
            goto fail;
        }
        for (int j = 0; j < 3; j++) {
            json_t *x = json_object_get(w, keys[j]);
            if (!json_is_integer(x) || json_integer_value(x) < 0 ||
                json_integer_value(x) > 10000000) {
                set_err(msg, msglen, "well %zu: %s must be an integer in 0..10000000", i + 1,
                        keys[j]);
                goto fail;
            }
            val[j] = (uint64_t)json_integer_value(x);
        }
        (*wells)[i].target_pos = val[0];
        (*wells)[i].ref_pos = val[1];
        (*wells)[i].droplets = val[2];
    }
    if (rw_ddpcr_compute(*wells, *n, o, res, &e)) {
        set_err(msg, msglen, "%s", e.msg);
        goto fail;
    }
    *field = NULL;
    return 0;
fail:
    free(*wells);
    *wells = NULL;
    *n = 0;
    return -1;
}

/* ---------------------------------------------------------------- one job */

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

static int load_job(job_ctx *j, char *err, size_t errlen)
{
    sqlite3_stmt *st = srv_db_prepare(
        j->conn, "SELECT s.patient_id, s.assay, p.primary_1q213_cn, i.kind, i.path, i.ddpcr, "
                 "r.qc FROM samples s JOIN patients p ON p.id = s.patient_id "
                 "LEFT JOIN sample_inputs i ON i.sample_id = s.id "
                 "LEFT JOIN results r ON r.sample_id = s.id WHERE s.id = ?");
    if (!st) {
        set_err(err, errlen, "database error reading the sample");
        return -1;
    }
    sqlite3_bind_int64(st, 1, j->sample_id);
    int rc = -1, s = sqlite3_step(st);
    if (s == SQLITE_BUSY || s == SQLITE_LOCKED) {
        set_err(err, errlen, "database busy: cannot read the sample");
        rc = SRV_PIPELINE_RETRY;
        goto out;
    }
    if (s != SQLITE_ROW) {
        if (s == SQLITE_DONE)
            set_err(err, errlen, "sample %" PRId64 " no longer exists", j->sample_id);
        else
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
        goto out;
    }
    rc = 0;
out:
    sqlite3_finalize(st);
    return rc;
}

/* The values of one results row, built before the transaction opens. */
typedef struct result_row {
    int64_t pon_id;
    json_t *settings, *segments, *regions, *qc, *tf, *ddpcr;
    const char *build;
    int32_t bin_size;
    unsigned char *counts, *log2, *mask;
    size_t n; /* bins */
    double ratio, ratio_lo, ratio_hi, log2_ratio, se, cv, z;
    const char *call;
    int strong;
} result_row;

static void result_row_free(result_row *r)
{
    json_decref(r->settings);
    json_decref(r->segments);
    json_decref(r->regions);
    json_decref(r->qc);
    json_decref(r->tf);
    json_decref(r->ddpcr);
    free(r->counts);
    free(r->log2);
    free(r->mask);
}

/* The analytical CV of a copy ratio 2^m whose log2 has SD sigma (log-normal). */
static double ratio_cv(double sigma)
{
    double s = M_LN2 * sigma;
    return isfinite(s) ? sqrt(expm1(s * s)) : NAN;
}

static json_t *region_json_new(const rw_region_score *g)
{
    json_t *tf = json_null();
    if (isfinite(g->tf))
        tf = json_pack("{s:o, s:o, s:o, s:o}", "estimate", jnum(g->tf), "low", jnum(g->tf_lo),
                       "high", jnum(g->tf_hi), "primary_cn", jnum(g->primary_cn));
    return json_pack("{s:s, s:s, s:I, s:I, s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
                     "s:s, s:b, s:o, s:o}",
                     "name", g->name, "chrom", rw_chrom_name(g->chrom), "start",
                     (json_int_t)g->start, "end", (json_int_t)g->end, "n_bins", g->n_bins,
                     "mean_log2", jnum(g->mean_log2), "se", jnum(g->se), "sigma", jnum(g->sigma),
                     "pon_mean", jnum(g->pon_mean), "pon_sd", jnum(g->pon_sd), "z", jnum(g->z),
                     "ratio", jnum(g->copy_ratio), "ratio_low", jnum(g->copy_ratio_lo),
                     "ratio_high", jnum(g->copy_ratio_hi), "call", rw_call_name(g->call), "strong",
                     g->strong, "threshold", jnum(g->threshold), "tumour_fraction", tf);
}

static int swgs_row(job_ctx *j, const rw_result *res, const rw_count_qc *cqc, int counted,
                    int64_t pon_id, const rw_pon *pon, result_row *row, char *err, size_t errlen)
{
    const rw_region_score *p = &res->regions[res->primary];
    const rw_bins *b = res->bins;
    if (p->call == RW_CALL_NO_DATA || !isfinite(p->mean_log2)) {
        set_err(err, errlen,
                "1q21.3 has no usable bin against the panel of normals (no reads there, or every "
                "bin masked): no call possible");
        return -1;
    }
    row->pon_id = pon_id;
    row->build = rw_build_name(b->build);
    row->bin_size = b->bin_size;
    row->n = b->n;
    row->counts = srv_pipeline_f32_encode(b->count, b->n);
    row->log2 = srv_pipeline_f32_encode(res->log2, b->n);
    row->mask = malloc(b->n ? b->n : 1);
    row->segments = json_array();
    row->regions = json_array();
    if (!row->counts || !row->log2 || !row->mask || !row->segments || !row->regions)
        goto nomem;
    memcpy(row->mask, res->mask, b->n);
    for (size_t i = 0; i < res->segments.n; i++) {
        const rw_segment *s = &res->segments.a[i];
        json_array_append_new(row->segments,
                              json_pack("{s:s, s:s, s:I, s:I, s:I, s:o, s:s}", "chrom",
                                        rw_chrom_name(s->chrom), "arm", s->arm ? "q" : "p", "start",
                                        (json_int_t)s->start, "end", (json_int_t)s->end, "n_bins",
                                        (json_int_t)s->n, "mean", jnum(s->mean), "call",
                                        rw_seg_call_name(s->call)));
    }
    for (size_t i = 0; i < res->n_regions; i++)
        json_array_append_new(row->regions, region_json_new(&res->regions[i]));

    /* QC: the counting QC of this run, or (recall from stored counts) the previous result's. */
    row->qc = json_object();
    if (!row->qc)
        goto nomem;
    if (counted) {
        json_t *dropped = json_object();
        for (int d = 0; d < RW_DROP_N; d++)
            json_object_set_new(dropped, rw_drop_name((rw_drop)d),
                                json_integer((json_int_t)cqc->dropped[d]));
        json_object_set_new(row->qc, "format", json_string(cqc->format));
        json_object_set_new(row->qc, "reads_seen", json_integer((json_int_t)cqc->seen));
        json_object_set_new(row->qc, "reads_kept", json_integer((json_int_t)cqc->kept));
        json_object_set_new(row->qc, "dropped", dropped);
        json_object_set_new(row->qc, "duplicate_rate", jnum(cqc->duplicate_rate));
        json_object_set_new(row->qc, "frag_median", jnum(cqc->frag_median));
    } else if (j->old_qc) {
        static const char *const keep[] = {"format",  "reads_seen",     "reads_kept",
                                           "dropped", "duplicate_rate", "frag_median"};
        for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
            json_t *v = json_object_get(j->old_qc, keep[i]);
            if (v)
                json_object_set(row->qc, keep[i], v);
        }
    }
    const rw_result_qc *q = &res->qc;
    json_object_set_new(row->qc, "median_reads_per_bin", jnum(q->median_reads_per_bin));
    json_object_set_new(row->qc, "mad_log2", jnum(q->mad_log2));
    json_object_set_new(row->qc, "noise_sd", jnum(q->noise_sd));
    json_object_set_new(row->qc, "n_bins", json_integer((json_int_t)q->n_bins));
    json_object_set_new(row->qc, "n_masked", json_integer((json_int_t)q->n_masked));
    json_object_set_new(row->qc, "n_used", json_integer((json_int_t)q->n_used));
    json_object_set_new(row->qc, "gc_corrected", json_boolean(q->gc_corrected));
    json_object_set_new(row->qc, "pon_n_normals", json_integer(q->pon_n_normals));
    json_object_set_new(row->qc, "pon_low_normals", json_boolean(q->pon_low_normals));

    /* Tumour fraction: the genome-wide fit when it ran, the tumour-informed estimate beside. */
    json_t *informed = json_null();
    if (isfinite(res->tf))
        informed =
            json_pack("{s:o, s:o, s:o, s:o}", "estimate", jnum(res->tf), "low", jnum(res->tf_lo),
                      "high", jnum(res->tf_hi), "primary_cn", jnum(res->primary_cn));
    if (res->has_purity) {
        const rw_purity_result *f = &res->purity;
        const char *flag = f->flag && strcmp(f->flag, RW_PURITY_FLAG_OK) ? f->flag : NULL;
        row->tf =
            json_pack("{s:o, s:o, s:o, s:s, s:s?, s:o, s:I, s:o}", "estimate", jnum(f->fraction),
                      "low", jnum(f->fraction_lo), "high", jnum(f->fraction_hi), "method",
                      f->method ? f->method : "", "flag", flag, "ploidy", jnum(f->ploidy),
                      "n_segments", (json_int_t)f->n_fitted, "tumour_informed", informed);
    } else if (isfinite(res->tf)) {
        row->tf = json_pack("{s:o, s:o, s:o, s:s, s:n, s:o}", "estimate", jnum(res->tf), "low",
                            jnum(res->tf_lo), "high", jnum(res->tf_hi), "method",
                            "tumour-informed: 2(R-1)/(C-2) from the 1q21.3 ratio", "flag",
                            "tumour_informed", informed);
    } else
        json_decref(informed);

    char filters[256];
    rw_count_opts co;
    srv_pipeline_count_opts(&co, b->bin_size, b->nchrom == RW_NCHROM);
    rw_analyse_opts ao;
    rw_analyse_opts_init(&ao);
    row->settings =
        json_pack("{s:s, s:i, s:i, s:b, s:o, s:o, s:o, s:s, s:s, s:s}", "filters",
                  rw_pon_filters(&co, filters, sizeof filters), "min_mapq", co.min_mapq, "bin_size",
                  (int)b->bin_size, "include_y", b->nchrom == RW_NCHROM, "z_amplified",
                  jnum(ao.score.z_amplified), "z_strong", jnum(ao.score.z_strong), "primary_cn",
                  jnum(res->primary_cn), "pon_key", pon->id, "source",
                  counted ? (strcmp(j->kind, "bins") ? "reads" : "bins") : "stored_counts",
                  "job_kind", j->recall ? "recall" : "analyse");
    if (!row->settings || !row->segments || !row->regions)
        goto nomem;
    row->ratio = p->copy_ratio;
    row->ratio_lo = p->copy_ratio_lo;
    row->ratio_hi = p->copy_ratio_hi;
    row->log2_ratio = p->mean_log2;
    row->se = p->se;
    row->cv = ratio_cv(p->sigma);
    row->z = p->z;
    row->call = p->call == RW_CALL_AMPLIFIED ? "amplified" : "not_detected";
    row->strong = p->strong;
    return 0;
nomem:
    set_err(err, errlen, "out of memory building the result");
    return -1;
}

static int ddpcr_row(job_ctx *j, result_row *row, char *err, size_t errlen)
{
    rw_ddpcr_well *wells = NULL;
    rw_ddpcr_opts o;
    rw_ddpcr_result r;
    size_t n;
    const char *field;
    char msg[512];
    json_t *body = j->ddpcr_text ? json_loads(j->ddpcr_text, 0, NULL) : NULL;
    int rc = -1;
    if (!body) {
        set_err(err, errlen, "the ddPCR wells of the sample are missing");
        goto out;
    }
    if (srv_pipeline_ddpcr_parse(body, &wells, &n, &o, &r, &field, msg, sizeof msg)) {
        set_err(err, errlen, "invalid ddPCR wells: %s", msg);
        goto out;
    }
    int none = (r.flags & RW_DDPCR_NO_TARGET) != 0;
    json_t *flags = json_array();
    static const struct {
        unsigned bit;
        const char *name;
    } fl[] = {{RW_DDPCR_LOW_TARGET_POS, "low_target_positive"},
              {RW_DDPCR_LOW_TARGET_NEG, "low_target_negative"},
              {RW_DDPCR_LOW_REF_POS, "low_reference_positive"},
              {RW_DDPCR_LOW_REF_NEG, "low_reference_negative"},
              {RW_DDPCR_NO_TARGET, "no_target"}};
    for (size_t i = 0; flags && i < sizeof fl / sizeof fl[0]; i++)
        if (r.flags & fl[i].bit)
            json_array_append_new(flags, json_string(fl[i].name));
    row->ddpcr = json_pack(
        "{s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:b, s:o, s:O}", "cn",
        jnum(r.cn), "cn_low", jnum(r.cn_lo), "cn_high", jnum(r.cn_hi), "cv", jnum(r.cv), "n_wells",
        (json_int_t)r.n_wells, "droplets", (json_int_t)r.droplets, "target_positive",
        (json_int_t)r.target_pos, "reference_positive", (json_int_t)r.ref_pos, "lambda_target",
        jnum(r.lambda_target), "lambda_reference", jnum(r.lambda_ref), "conc_target",
        jnum(r.conc_target), "conc_reference", jnum(r.conc_ref), "threshold", jnum(r.threshold),
        "amplified", r.amplified, "flags", flags ? flags : json_array(), "wells",
        json_object_get(body, "wells"));
    row->settings =
        json_pack("{s:o, s:o, s:o, s:I}", "droplet_volume_nl", jnum(o.droplet_volume_nl),
                  "ref_copies", jnum(o.ref_copies), "amplified_lower", jnum(o.amplified_lower),
                  "min_droplets", (json_int_t)o.min_droplets);
    row->qc = json_pack("{s:I, s:O}", "droplets", (json_int_t)r.droplets, "flags",
                        json_object_get(row->ddpcr, "flags"));
    if (!row->ddpcr || !row->settings || !row->qc) {
        set_err(err, errlen, "out of memory building the result");
        goto out;
    }
    /* No positive droplet: the estimate is 0 copies with a one-sided upper bound. */
    row->ratio = none ? 0.0 : r.cn / 2.0;
    row->ratio_lo = none ? 0.0 : r.cn_lo / 2.0;
    row->ratio_hi = r.cn_hi / 2.0;
    row->log2_ratio = none ? NAN : log2(r.cn / 2.0);
    row->se = NAN;
    row->cv = r.cv;
    row->z = NAN;
    row->call = r.amplified ? "amplified" : "not_detected";
    row->strong = 0;
    rc = 0;
out:
    json_decref(body);
    free(wells);
    return rc;
}

/* Writes the row, the job's and the sample's states, the audit row and the monitoring state in
 * one transaction. */
static int store(job_ctx *j, result_row *row, char *err, size_t errlen)
{
    sqlite3 *c = j->conn;
    sqlite3_stmt *st = NULL;
    if (srv_db_begin(c)) {
        set_err(err, errlen, "database busy: cannot store the result");
        return SRV_PIPELINE_RETRY;
    }
    st = srv_db_prepare(
        c, "INSERT INTO results (sample_id, job_id, assay, core_version, pon_id, settings, build, "
           "bin_size, counts, log2, mask, segments, regions, qc, tumour_fraction, ddpcr, ratio, "
           "ratio_low, ratio_high, log2_ratio, se, cv, z, call, strong, computed_at) VALUES "
           "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
           "?19, ?20, ?21, ?22, ?23, ?24, ?25, strftime('%Y-%m-%dT%H:%M:%SZ', 'now')) "
           "ON CONFLICT (sample_id) DO UPDATE SET job_id = excluded.job_id, assay = "
           "excluded.assay, core_version = excluded.core_version, pon_id = excluded.pon_id, "
           "settings = excluded.settings, build = excluded.build, bin_size = excluded.bin_size, "
           "counts = excluded.counts, log2 = excluded.log2, mask = excluded.mask, segments = "
           "excluded.segments, regions = excluded.regions, qc = excluded.qc, tumour_fraction = "
           "excluded.tumour_fraction, ddpcr = excluded.ddpcr, ratio = excluded.ratio, ratio_low "
           "= excluded.ratio_low, ratio_high = excluded.ratio_high, log2_ratio = "
           "excluded.log2_ratio, se = excluded.se, cv = excluded.cv, z = excluded.z, call = "
           "excluded.call, strong = excluded.strong, computed_at = excluded.computed_at");
    if (!st)
        goto fail;
    sqlite3_bind_int64(st, 1, j->sample_id);
    sqlite3_bind_int64(st, 2, j->job_id);
    sqlite3_bind_text(st, 3, j->assay, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, RW_CORE_VERSION, -1, SQLITE_STATIC);
    if (row->pon_id)
        sqlite3_bind_int64(st, 5, row->pon_id);
    /* A JSON text that cannot be built (out of memory) must not be stored as NULL. */
    int bad = bind_json(st, 6, row->settings);
    if (row->build) {
        sqlite3_bind_text(st, 7, row->build, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 8, row->bin_size);
        sqlite3_bind_blob(st, 9, row->counts, (int)(row->n * 4), SQLITE_STATIC);
        sqlite3_bind_blob(st, 10, row->log2, (int)(row->n * 4), SQLITE_STATIC);
        sqlite3_bind_blob(st, 11, row->mask, (int)row->n, SQLITE_STATIC);
    }
    bad |= bind_json(st, 12, row->segments);
    bad |= bind_json(st, 13, row->regions);
    bad |= bind_json(st, 14, row->qc);
    bad |= bind_json(st, 15, row->tf);
    bad |= bind_json(st, 16, row->ddpcr);
    if (bad)
        goto fail;
    bind_double(st, 17, row->ratio);
    bind_double(st, 18, row->ratio_lo);
    bind_double(st, 19, row->ratio_hi);
    bind_double(st, 20, row->log2_ratio);
    bind_double(st, 21, row->se);
    bind_double(st, 22, row->cv);
    bind_double(st, 23, row->z);
    sqlite3_bind_text(st, 24, row->call, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 25, row->strong);
    if (sqlite3_step(st) != SQLITE_DONE)
        goto fail_sql;
    sqlite3_finalize(st);

    /* The job must still be ours: a job reset meanwhile (it cannot be today) is not stored. */
    st = srv_db_prepare(c, "UPDATE jobs SET state = 'done', progress = 100, error = NULL, "
                           "finished_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') "
                           "WHERE id = ? AND state = 'running'");
    if (!st)
        goto fail;
    sqlite3_bind_int64(st, 1, j->job_id);
    if (sqlite3_step(st) != SQLITE_DONE)
        goto fail_sql;
    if (sqlite3_changes(c) != 1) {
        set_err(err, errlen, "the job was no longer running when its result was ready");
        goto fail_keep;
    }
    sqlite3_finalize(st);
    st = NULL;
    /* Another job queued for the sample meanwhile (a recall after a PoN change) keeps it queued. */
    if (srv_jobs_settle_sample(c, j->job_id, j->sample_id, NULL))
        goto fail;
    json_t *details = json_pack("{s:I, s:s, s:s, s:o}", "job_id", (json_int_t)j->job_id, "kind",
                                j->recall ? "recall" : "analyse", "call", row->call, "pon_id",
                                row->pon_id ? json_integer(row->pon_id) : json_null());
    bad = srv_audit_write(c, "system", 0, "result", "sample", j->sample_id, details);
    json_decref(details);
    if (bad)
        goto fail;
    if (srv_monitor_recompute(c, j->patient_id)) {
        set_err(err, errlen, "the monitoring state could not be recomputed (see the log)");
        sqlite3_finalize(st);
        srv_db_rollback(c);
        return SRV_PIPELINE_RETRY;
    }
    if (srv_db_commit(c)) {
        sqlite3_finalize(st);
        srv_db_rollback(c);
        set_err(err, errlen, "database busy: cannot commit the result");
        return SRV_PIPELINE_RETRY;
    }
    return 0;
fail_sql:
    srv_log(SRV_LOG_ERROR, "job %" PRId64 ": %s", j->job_id, sqlite3_errmsg(c));
fail:
    set_err(err, errlen, "database error storing the result");
    sqlite3_finalize(st);
    srv_db_rollback(c);
    return SRV_PIPELINE_RETRY;
fail_keep:
    sqlite3_finalize(st);
    srv_db_rollback(c);
    return -1;
}

/* Writes the counted bins next to the input, so a later PoN build or re-run needs no reads. */
static void cache_counts(job_ctx *j, const rw_bins *b)
{
    char rel[600], full[4096];
    rw_error e = {0};
    snprintf(rel, sizeof rel, "samples/%" PRId64 "/counts.tsv", j->sample_id);
    if (srv_pipeline_path(j->data_dir, rel, full, sizeof full) || rw_bins_write(b, full, &e)) {
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
static int core_failure(rw_status st)
{
    return st == RW_ERR_INPUT || st == RW_ERR_BUILD || st == RW_ERR_MISMATCH || st == RW_ERR_USAGE
               ? -1
               : SRV_PIPELINE_RETRY;
}

int srv_pipeline_run(sqlite3 *conn, const srv_config *cfg, int64_t job_id, int64_t sample_id,
                     int recall, srv_pipeline_progress_fn progress, void *progress_ctx, char *err,
                     size_t errlen)
{
    const char *data_dir = cfg->data_dir;
    job_ctx j = {.conn = conn,
                 .data_dir = data_dir,
                 .job_id = job_id,
                 .sample_id = sample_id,
                 .recall = recall,
                 .progress = progress,
                 .progress_ctx = progress_ctx};
    result_row row = {0};
    rw_pon *pon = NULL;
    rw_bins *bins = NULL;
    rw_result *res = NULL;
    rw_count_qc cqc;
    rw_error e = {0};
    int64_t pon_id = 0;
    int rc = -1, counted = 0;
    char full[4096];

    if ((rc = load_job(&j, err, errlen)))
        goto out;
    rc = -1;
    if (!strcmp(j.kind, "ddpcr")) {
        if (ddpcr_row(&j, &row, err, errlen))
            goto out;
        rc = store(&j, &row, err, errlen);
        goto out;
    }
    if (srv_pipeline_active_pon(conn, data_dir, &pon_id, &pon, err, errlen)) {
        rc = SRV_PIPELINE_RETRY; /* the database or the panel's file: not the sample's fault */
        goto out;
    }
    if (!pon) {
        set_err(err, errlen,
                "no active panel of normals: upload or build one and activate it "
                "(POST /api/v1/pons); activation re-runs this sample");
        goto out;
    }
    if (recall && result_counts(conn, sample_id, &bins) < 0) {
        set_err(err, errlen, "the stored counts of the sample are unreadable");
        goto out;
    }
    if (!bins) {
        rw_count_opts co;
        srv_pipeline_count_opts(&co, pon->median->bin_size, pon->median->nchrom == RW_NCHROM);
        if (cfg->reference && *cfg->reference)
            co.reference = cfg->reference;
        if (srv_pipeline_path(data_dir, j.path, full, sizeof full)) {
            set_err(err, errlen, "input path too long");
            goto out;
        }
        if (rw_count_load(full, &co, &bins, &cqc, job_progress, &j, &e)) {
            set_err(err, errlen, "%s: %s", rw_strerror(e.status), e.msg);
            rc = core_failure(e.status);
            goto out;
        }
        counted = 1;
        if (!strcmp(j.kind, "reads"))
            cache_counts(&j, bins);
    }
    if (progress)
        progress(progress_ctx, 90);
    rw_analyse_opts ao;
    rw_analyse_opts_init(&ao);
    char filters[256];
    rw_count_opts co;
    srv_pipeline_count_opts(&co, bins->bin_size, bins->nchrom == RW_NCHROM);
    ao.filters = rw_pon_filters(&co, filters, sizeof filters);
    /* The tumour-informed fraction needs an amplified primary (C > 2). */
    if (isfinite(j.primary_cn) && j.primary_cn > 2.0)
        ao.primary_cn = j.primary_cn;
    if (rw_analyse(bins, pon, &ao, &res, &e)) {
        set_err(err, errlen, "%s: %s", rw_strerror(e.status), e.msg);
        rc = core_failure(e.status);
        goto out;
    }
    if (progress)
        progress(progress_ctx, 95);
    if (swgs_row(&j, res, &cqc, counted, pon_id, pon, &row, err, errlen))
        goto out;
    rc = store(&j, &row, err, errlen);
out:
    result_row_free(&row);
    rw_result_free(res);
    rw_bins_free(bins);
    rw_pon_free(pon);
    free(j.ddpcr_text);
    json_decref(j.old_qc);
    return rc;
}
