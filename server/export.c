/* The facts and codes the standards exports share (see export.h). */
#include "server/export.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "server/db.h"
#include "server/log.h"
#include "server/monitor.h"
#include "server/rows.h"

#define L SRV_CS_LOINC
#define R SRV_CS_LOCAL
const srv_code srv_code_report = {L, "51969-4", "Genetic analysis report"},
               srv_code_variant = {L, "69548-6", "Genetic variant assessment"},
               srv_code_present = {L, "LA9633-4", "Present"},
               srv_code_absent = {L, "LA9634-2", "Absent"},
               srv_code_copy_ratio = {R, "copy-ratio-1q21.3",
                                      "1q21.3 copy ratio of cfDNA to the panel of normals"},
               srv_code_interval_low = {R, "interval-low", "95% interval, low end"},
               srv_code_interval_high = {R, "interval-high", "95% interval, high end"},
               srv_code_z = {R, "z-score", "z-score of 1q21.3 against the panel of normals"},
               srv_code_log2 = {R, "log2-ratio", "log2 copy ratio of 1q21.3"},
               srv_code_call = {R, "call-1q21.3", "1q21.3 amplification call"},
               srv_code_tumour_fraction = {R, "tumour-fraction",
                                           "Genome-wide circulating tumour DNA fraction"},
               srv_code_quality = {R, "sample-quality", "Sample quality gate"},
               srv_code_alert = {R, "monitoring-alert", "1q21.3 monitoring alert"},
               srv_code_dna_change_type = {L, "48019-4", "DNA change type"},
               srv_code_copy_number_gain = {SRV_CS_SO, "SO:0001742", "copy_number_gain"},
               srv_code_source_class = {L, "48002-0", "Genomic source class [Type]"},
               srv_code_somatic = {L, "LA6684-0", "Somatic"},
               srv_code_cytogenetic = {L, "48001-2", "Cytogenetic (chromosome) location"},
               srv_code_ref_seq = {L, "48013-7", "Genomic reference sequence [ID]"},
               srv_code_sequencing = {L, "LA26398-0", "Sequencing"};
#undef L
#undef R

const char *srv_export_value_display(const char *code)
{
    static const char *const table[][2] = {
        {"amplified", "1q21.3 amplified"},
        {"not_detected", "1q21.3 amplification not detected"},
        {"insufficient_quality", "No call: insufficient quality"},
        {"no_data", "No call: no data"},
        {"early_relapse", "Early relapse: rising 1q21.3 signal"},
        {"emerging_chemoresistance", "Emerging chemoresistance: 1q21.3 signal during chemotherapy"},
        {"responding", "Responding: falling 1q21.3 signal"},
        {"pass", "Passed the quality gate"},
        {"low_depth", "Too few reads for the target tumour fraction"},
        {"genomic_waves", "Genome-wide waves too strong for the target tumour fraction"},
    };
    for (size_t i = 0; code && i < sizeof table / sizeof table[0]; i++)
        if (!strcmp(code, table[i][0]))
            return table[i][1];
    return code ? code : "";
}

const char *srv_export_chr1_refseq(const char *build)
{
    if (build && !strcmp(build, "hg38"))
        return "NC_000001.11";
    if (build && !strcmp(build, "hg19"))
        return "NC_000001.10";
    return NULL;
}

static void copy_col(sqlite3_stmt *st, int i, char *out, size_t size)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    snprintf(out, size, "%s", t ? t : "");
}

static double col_num(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

static json_t *col_json(sqlite3_stmt *st, int i)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    json_t *j = t ? json_loads(t, 0, NULL) : NULL;
    if (j && !json_is_object(j)) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

srv_status srv_export_result_load(sqlite3 *db, int64_t sample_id, srv_export_result *r)
{
    memset(r, 0, sizeof *r);
    sqlite3_stmt *st = srv_db_prepare(
        db, "SELECT s.id, s.patient_id, r.job_id, s.accession, p.external_id, s.collected_at, "
            "s.received_at, r.computed_at, r.assay, r.build, r.call, r.core_version, r.ratio, "
            "r.ratio_low, r.ratio_high, r.log2_ratio, r.z, r.strong, r.tumour_fraction, r.quality, "
            "s.retracted_at, s.retraction_reason "
            "FROM results r JOIN samples s ON s.id = r.sample_id "
            "JOIN patients p ON p.id = s.patient_id WHERE r.sample_id = ?");
    if (!st)
        return SRV_INTERNAL;
    sqlite3_bind_int64(st, 1, sample_id);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        if (rc == SQLITE_DONE)
            return SRV_NOT_FOUND;
        srv_log(SRV_LOG_ERROR, "cannot read result %lld: %s", (long long)sample_id,
                sqlite3_errmsg(db));
        return SRV_INTERNAL;
    }
    r->sample_id = sqlite3_column_int64(st, 0);
    r->patient_id = sqlite3_column_int64(st, 1);
    r->job_id = sqlite3_column_int64(st, 2);
    copy_col(st, 3, r->accession, sizeof r->accession);
    copy_col(st, 4, r->external_id, sizeof r->external_id);
    copy_col(st, 5, r->collected_at, sizeof r->collected_at);
    copy_col(st, 6, r->received_at, sizeof r->received_at);
    copy_col(st, 7, r->computed_at, sizeof r->computed_at);
    copy_col(st, 8, r->assay, sizeof r->assay);
    copy_col(st, 9, r->build, sizeof r->build);
    copy_col(st, 10, r->call, sizeof r->call);
    copy_col(st, 11, r->core_version, sizeof r->core_version);
    r->ratio = col_num(st, 12);
    r->ratio_low = col_num(st, 13);
    r->ratio_high = col_num(st, 14);
    r->log2_ratio = col_num(st, 15);
    r->z = col_num(st, 16);
    r->strong = sqlite3_column_int(st, 17);
    r->tf = col_json(st, 18);
    r->quality = col_json(st, 19);
    copy_col(st, 20, r->retracted_at, sizeof r->retracted_at);
    copy_col(st, 21, r->retraction_reason, sizeof r->retraction_reason);
    sqlite3_finalize(st);
    return SRV_OK;
}

void srv_export_result_free(srv_export_result *r)
{
    if (!r)
        return;
    json_decref(r->tf);
    json_decref(r->quality);
    r->tf = r->quality = NULL;
}

srv_status srv_export_sample_id(sqlite3 *db, const char *accession, int64_t *sample_id)
{
    sqlite3_stmt *st = srv_db_prepare(db, "SELECT id FROM samples WHERE accession = ?");
    if (!st)
        return SRV_INTERNAL;
    sqlite3_bind_text(st, 1, accession, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *sample_id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? SRV_OK : rc == SQLITE_DONE ? SRV_NOT_FOUND : SRV_INTERNAL;
}

static json_t *alert_pack(sqlite3_stmt *st)
{
    return srv_monitor_alert_json_new(st, 1);
}

srv_status srv_export_alert_load(sqlite3 *db, int64_t id, json_t **alert)
{
    *alert = NULL;
    return srv_row_packed(db,
                          "SELECT " SRV_MONITOR_ALERT_COLUMNS
                          " FROM alerts a JOIN patients p ON p.id = a.patient_id WHERE a.id = ?",
                          id, alert_pack, alert);
}

json_t *srv_export_alert_draws_new(json_t *alert)
{
    json_t *out = json_array(), *rule, *draw;
    size_t i, j, k;
    if (!out)
        return NULL;
    json_array_foreach(json_object_get(json_object_get(alert, "evidence"), "rules"), i, rule)
    {
        json_array_foreach(json_object_get(rule, "draws"), j, draw)
        {
            json_t *sid = json_object_get(draw, "sample_id"), *have;
            int seen = !json_is_integer(sid) || json_integer_value(sid) < 0;
            json_array_foreach(out, k, have) if (json_equal(have, sid)) seen = 1;
            if (!seen && json_array_append(out, sid)) {
                json_decref(out);
                return NULL;
            }
        }
    }
    return out;
}
