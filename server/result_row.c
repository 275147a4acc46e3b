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
#include "server/panel.h"

/* A JSON number, or null when not finite (JSON has no NaN). */
static json_t *jnum(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

void srv_result_row_free(srv_result_row *r)
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

/* ---------------------------------------------------------------- sWGS and bins */

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
    row->segments = json_array();
    row->regions = json_array();
    if (!row->counts || !row->log2 || !row->mask || !row->segments || !row->regions)
        return -1;
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
    return 0;
}

/* QC: the counting QC of this run, or (recall from stored counts) the previous result's, and
 * the analysis' own. NULL when out of memory. */
static json_t *qc_json_new(const rw_result *res, const srv_swgs_source *src)
{
    json_t *qc = json_object();
    if (!qc)
        return NULL;
    const rw_count_qc *cqc = src->counted;
    if (cqc) {
        json_t *dropped = json_object();
        for (int d = 0; d < RW_DROP_N; d++)
            json_object_set_new(dropped, rw_drop_name((rw_drop)d),
                                json_integer((json_int_t)cqc->dropped[d]));
        json_object_set_new(qc, "format", json_string(cqc->format));
        json_object_set_new(qc, "reads_seen", json_integer((json_int_t)cqc->seen));
        json_object_set_new(qc, "reads_kept", json_integer((json_int_t)cqc->kept));
        json_object_set_new(qc, "dropped", dropped);
        json_object_set_new(qc, "duplicate_rate", jnum(cqc->duplicate_rate));
        json_object_set_new(qc, "frag_median", jnum(cqc->frag_median));
    } else if (src->old_qc) {
        static const char *const keep[] = {"format",  "reads_seen",     "reads_kept",
                                           "dropped", "duplicate_rate", "frag_median"};
        for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
            json_t *v = json_object_get(src->old_qc, keep[i]);
            if (v)
                json_object_set(qc, keep[i], v);
        }
    }
    const rw_result_qc *q = &res->qc;
    json_object_set_new(qc, "median_reads_per_bin", jnum(q->median_reads_per_bin));
    json_object_set_new(qc, "mad_log2", jnum(q->mad_log2));
    json_object_set_new(qc, "noise_sd", jnum(q->noise_sd));
    json_object_set_new(qc, "n_bins", json_integer((json_int_t)q->n_bins));
    json_object_set_new(qc, "n_masked", json_integer((json_int_t)q->n_masked));
    json_object_set_new(qc, "n_used", json_integer((json_int_t)q->n_used));
    json_object_set_new(qc, "gc_corrected", json_boolean(q->gc_corrected));
    json_object_set_new(qc, "pon_n_normals", json_integer(q->pon_n_normals));
    json_object_set_new(qc, "pon_low_normals", json_boolean(q->pon_low_normals));
    return qc;
}

/* Tumour fraction: the genome-wide fit when it ran, the tumour-informed estimate beside; NULL
 * when there is neither. */
static json_t *tf_json_new(const rw_result *res)
{
    json_t *informed = json_null();
    if (isfinite(res->tf))
        informed =
            json_pack("{s:o, s:o, s:o, s:o}", "estimate", jnum(res->tf), "low", jnum(res->tf_lo),
                      "high", jnum(res->tf_hi), "primary_cn", jnum(res->primary_cn));
    if (res->has_purity) {
        const rw_purity_result *f = &res->purity;
        const char *flag = f->flag && strcmp(f->flag, RW_PURITY_FLAG_OK) ? f->flag : NULL;
        return json_pack("{s:o, s:o, s:o, s:s, s:s?, s:o, s:I, s:o}", "estimate", jnum(f->fraction),
                         "low", jnum(f->fraction_lo), "high", jnum(f->fraction_hi), "method",
                         f->method ? f->method : "", "flag", flag, "ploidy", jnum(f->ploidy),
                         "n_segments", (json_int_t)f->n_fitted, "tumour_informed", informed);
    }
    if (isfinite(res->tf))
        return json_pack("{s:o, s:o, s:o, s:s, s:n, s:o}", "estimate", jnum(res->tf), "low",
                         jnum(res->tf_lo), "high", jnum(res->tf_hi), "method",
                         "tumour-informed: 2(R-1)/(C-2) from the 1q21.3 ratio", "flag",
                         "tumour_informed", informed);
    json_decref(informed);
    return NULL;
}

/* The settings the result was computed with: filters, thresholds, panel, source. */
static json_t *settings_json_new(const rw_result *res, const srv_swgs_source *src)
{
    const rw_bins *b = res->bins;
    char filters[256];
    rw_count_opts co;
    rw_analyse_opts ao;
    srv_panel_count_opts(&co, b->bin_size, b->nchrom == RW_NCHROM);
    rw_analyse_opts_init(&ao);
    return json_pack("{s:s, s:i, s:i, s:b, s:o, s:o, s:o, s:s, s:s, s:s}", "filters",
                     rw_pon_filters(&co, filters, sizeof filters), "min_mapq", co.min_mapq,
                     "bin_size", (int)b->bin_size, "include_y", b->nchrom == RW_NCHROM,
                     "z_amplified", jnum(ao.score.z_amplified), "z_strong", jnum(ao.score.z_strong),
                     "primary_cn", jnum(res->primary_cn), "pon_key", src->pon->id, "source",
                     src->input, "job_kind", src->recall ? "recall" : "analyse");
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
    row->tf = tf_json_new(res);
    if (!(row->settings = settings_json_new(res, src)))
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
    return SRV_OK;
nomem:
    snprintf(err, errlen, "out of memory building the result");
    return SRV_INTERNAL;
}

/* ---------------------------------------------------------------- ddPCR */

/* The flags of a ddPCR result by name; NULL when out of memory. */
static json_t *ddpcr_flags_new(unsigned bits)
{
    static const struct {
        unsigned bit;
        const char *name;
    } fl[] = {{RW_DDPCR_LOW_TARGET_POS, "low_target_positive"},
              {RW_DDPCR_LOW_TARGET_NEG, "low_target_negative"},
              {RW_DDPCR_LOW_REF_POS, "low_reference_positive"},
              {RW_DDPCR_LOW_REF_NEG, "low_reference_negative"},
              {RW_DDPCR_NO_TARGET, "no_target"}};
    json_t *flags = json_array();
    for (size_t i = 0; flags && i < sizeof fl / sizeof fl[0]; i++)
        if (bits & fl[i].bit)
            json_array_append_new(flags, json_string(fl[i].name));
    return flags;
}

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
    int none = (r.flags & RW_DDPCR_NO_TARGET) != 0;
    json_t *flags = ddpcr_flags_new(r.flags);
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
        snprintf(err, errlen, "out of memory building the result");
        rc = SRV_INTERNAL;
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

/* Binds the row's values to ?5 .. ?25 of the INSERT. 0, or non-zero when a JSON text could not
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
    return bad;
}

int srv_result_row_insert(sqlite3 *conn, int64_t sample_id, int64_t job_id, const char *assay,
                          const srv_result_row *row)
{
    sqlite3_stmt *st = srv_db_prepare(
        conn,
        "INSERT INTO results (sample_id, job_id, assay, core_version, pon_id, settings, build, "
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
