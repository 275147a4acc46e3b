/* A results row from the core's answer, and its INSERT (see result_row.h). */
#include "server/result_row.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/version.h"
#include "server/blob.h"
#include "server/db.h"
#include "server/ddpcr_input.h"
#include "server/log.h"
#include "server/options.h"
#include "server/panel.h"
#include "json/num.h"
#include "json/result.h"
#include "json/settings.h"

void srv_result_row_free(srv_result_row *r)
{
    json_decref(r->settings);
    json_decref(r->segments);
    json_decref(r->regions);
    json_decref(r->qc);
    json_decref(r->tf);
    json_decref(r->ddpcr);
    json_decref(r->quality);
    free(r->counts);
    free(r->log2);
    free(r->mask);
}

/* ---------------------------------------------------------------- sWGS and bins */

/* The bins as BLOBs, the segments and the region scores. 0, or -1 out of memory. */
static int bins_and_calls(srv_result_row *row, const rw_result *res)
{
    const rw_bins *b = res->bins;
    row->build = rw_build_name(b->build);
    row->bin_size = b->bin_size;
    row->n = b->n;
    row->counts = srv_blob_f32_encode(b->count, b->n);
    row->log2 = srv_blob_f32_encode(res->log2, b->n);
    row->mask = malloc(b->n ? b->n : 1);
    row->segments = rw_segments_json_new(&res->segments);
    row->regions = rw_regions_json_new(res);
    if (!row->counts || !row->log2 || !row->mask || !row->segments || !row->regions)
        return -1;
    memcpy(row->mask, res->mask, b->n);
    return 0;
}

/* QC: the counting QC of this run, or (recall from stored counts) the previous result's, and
 * the analysis' own. NULL when out of memory. */
static json_t *qc_json_new(const rw_result *res, const srv_swgs_source *src)
{
    json_t *qc = rw_qc_json_new(src->counted, &res->qc);
    if (qc && !src->counted && src->old_qc) {
        static const char *const keep[] = {"format",  "reads_seen",     "reads_kept",
                                           "dropped", "duplicate_rate", "frag_median"};
        for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
            json_t *v = json_object_get(src->old_qc, keep[i]);
            if (v)
                json_object_set(qc, keep[i], v);
        }
    }
    return qc;
}

/* The provenance of a result: the schema and core versions, every analysis setting in force
 * (core/settings.h) and, for sWGS, the run's counting filters, panel and source. */
static json_t *settings_json_new(const rw_result *res, const srv_swgs_source *src)
{
    int bad = 0;
    json_t *o = rw_settings_json_new(srv_settings());
    rw_json_put(o, "schema_version", json_integer(RW_SCHEMA_VERSION), &bad);
    rw_json_put(o, "core_version", json_string(RW_CORE_VERSION), &bad);
    if (res) {
        const rw_bins *b = res->bins;
        rw_count_opts co;
        rw_count_opts_init(&co);
        rw_json_put(o, "filters", json_string(res->filters), &bad); /* checked against the panel */
        rw_json_put(o, "min_mapq", json_integer(co.min_mapq), &bad);
        rw_json_put(o, "bin_size", json_integer(b->bin_size), &bad);
        rw_json_put(o, "include_y", json_boolean(b->nchrom == RW_NCHROM), &bad);
        rw_json_put(o, "primary_cn", rw_json_num(res->primary_cn), &bad);
        rw_json_put(o, "pon_key", json_string(src->pon->id), &bad);
        rw_json_put(o, "source", json_string(src->input), &bad);
        rw_json_put(o, "job_kind", json_string(src->recall ? "recall" : "analyse"), &bad);
    }
    return rw_json_done(o, bad);
}

/* The row's 1q21.3 columns from the answer's summary. */
static void set_call(srv_result_row *row, const rw_call_summary *c)
{
    row->ratio = c->ratio;
    row->ratio_lo = c->ratio_low;
    row->ratio_hi = c->ratio_high;
    row->log2_ratio = c->log2_ratio;
    row->se = c->se;
    row->cv = c->cv;
    row->z = c->z;
    row->call = c->call;
    row->strong = c->strong;
}

srv_status srv_result_row_swgs(srv_result_row *row, const rw_result *res,
                               const srv_swgs_source *src, char *err, size_t errlen)
{
    const rw_region_score *p = &res->regions[res->primary];
    if (p->call == RW_CALL_NO_DATA || !isfinite(p->mean_log2)) {
        snprintf(err, errlen,
                 "1q21.3 has no usable bin against the panel of normals (no reads there, or every "
                 "bin masked): no call possible");
        return SRV_CLIENT;
    }
    row->pon_id = src->pon_id;
    if (bins_and_calls(row, res) || !(row->qc = qc_json_new(res, src)))
        goto nomem;
    row->tf = rw_tumour_fraction_json_new(res);
    if (json_is_null(row->tf)) { /* neither a fit nor a tumour-informed estimate: no value */
        json_decref(row->tf);
        row->tf = NULL;
    }
    if (!(row->settings = settings_json_new(res, src)))
        goto nomem;
    rw_call_summary cs;
    rw_call_summary_swgs(res, &cs);
    set_call(row, &cs);
    /* A no-call (insufficient_quality) is stored as itself with its why (schema/005), never as
     * not_detected: the same object the CLI and the API show (json/result.h). */
    row->call = rw_call_name(p->call);
    if (p->call == RW_CALL_INSUFFICIENT_QUALITY) {
        json_t *summary = rw_call_summary_json_new(&cs);
        json_t *q = json_object_get(summary, "quality");
        row->quality = json_is_object(q) ? json_incref(q) : NULL;
        json_decref(summary);
        if (!row->quality)
            goto nomem;
    }
    return SRV_OK;
nomem:
    snprintf(err, errlen, "out of memory building the result");
    return SRV_INTERNAL;
}

/* ---------------------------------------------------------------- ddPCR */

srv_status srv_result_row_ddpcr(srv_result_row *row, const char *wells_text, char *err,
                                size_t errlen)
{
    rw_ddpcr_well *wells = NULL;
    rw_ddpcr_opts o;
    rw_ddpcr_result r;
    rw_error e = {0};
    size_t n;
    const char *field;
    json_t *body = wells_text ? json_loads(wells_text, 0, NULL) : NULL;
    srv_status rc = SRV_CLIENT;
    if (!body) {
        snprintf(err, errlen, "the ddPCR wells of the sample are missing");
        goto out;
    }
    rw_status st = srv_ddpcr_parse(body, &wells, &n, &o, &r, &field, &e);
    if (st) {
        snprintf(err, errlen, "invalid ddPCR wells: %s", e.msg);
        rc = srv_status_of_core(st);
        goto out;
    }
    row->ddpcr = rw_ddpcr_json_new(&r);
    if (row->ddpcr && json_object_set(row->ddpcr, "wells", json_object_get(body, "wells"))) {
        json_decref(row->ddpcr);
        row->ddpcr = NULL;
    }
    row->settings = settings_json_new(NULL, NULL);
    row->qc = json_pack("{s:I, s:O}", "droplets", (json_int_t)r.droplets, "flags",
                        json_object_get(row->ddpcr, "flags"));
    if (!row->ddpcr || !row->settings || !row->qc) {
        snprintf(err, errlen, "out of memory building the result");
        rc = SRV_INTERNAL;
        goto out;
    }
    rw_call_summary cs;
    rw_call_summary_ddpcr(&r, &cs);
    set_call(row, &cs);
    rc = SRV_OK;
out:
    json_decref(body);
    free(wells);
    return rc;
}

/* ---------------------------------------------------------------- storing */

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

/* Binds the row's values to ?5 .. ?26 of the INSERT. 0, or non-zero when a JSON text could not
 * be built. */
static int bind_row(sqlite3_stmt *st, const srv_result_row *row)
{
    if (row->pon_id)
        sqlite3_bind_int64(st, 5, row->pon_id);
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
    bind_double(st, 17, row->ratio);
    bind_double(st, 18, row->ratio_lo);
    bind_double(st, 19, row->ratio_hi);
    bind_double(st, 20, row->log2_ratio);
    bind_double(st, 21, row->se);
    bind_double(st, 22, row->cv);
    bind_double(st, 23, row->z);
    sqlite3_bind_text(st, 24, row->call, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 25, row->strong);
    bad |= bind_json(st, 26, row->quality);
    return bad;
}

int srv_result_row_insert(sqlite3 *conn, int64_t sample_id, int64_t job_id, const char *assay,
                          const srv_result_row *row)
{
    sqlite3_stmt *st = srv_db_prepare(
        conn,
        "INSERT INTO results (sample_id, job_id, assay, core_version, pon_id, settings, build, "
        "bin_size, counts, log2, mask, segments, regions, qc, tumour_fraction, ddpcr, ratio, "
        "ratio_low, ratio_high, log2_ratio, se, cv, z, call, strong, quality, computed_at) VALUES "
        "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
        "?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, strftime('%Y-%m-%dT%H:%M:%SZ', 'now')) "
        "ON CONFLICT (sample_id) DO UPDATE SET job_id = excluded.job_id, assay = "
        "excluded.assay, core_version = excluded.core_version, pon_id = excluded.pon_id, "
        "settings = excluded.settings, build = excluded.build, bin_size = excluded.bin_size, "
        "counts = excluded.counts, log2 = excluded.log2, mask = excluded.mask, segments = "
        "excluded.segments, regions = excluded.regions, qc = excluded.qc, tumour_fraction = "
        "excluded.tumour_fraction, ddpcr = excluded.ddpcr, ratio = excluded.ratio, ratio_low "
        "= excluded.ratio_low, ratio_high = excluded.ratio_high, log2_ratio = "
        "excluded.log2_ratio, se = excluded.se, cv = excluded.cv, z = excluded.z, call = "
        "excluded.call, strong = excluded.strong, quality = excluded.quality, computed_at = "
        "excluded.computed_at");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, sample_id);
    sqlite3_bind_int64(st, 2, job_id);
    sqlite3_bind_text(st, 3, assay, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, RW_CORE_VERSION, -1, SQLITE_STATIC);
    int rc = bind_row(st, row) ? -1 : 0;
    if (!rc && sqlite3_step(st) != SQLITE_DONE) {
        srv_log(SRV_LOG_ERROR, "job %" PRId64 ": %s", job_id, sqlite3_errmsg(conn));
        rc = -1;
    }
    sqlite3_finalize(st);
    return rc;
}
