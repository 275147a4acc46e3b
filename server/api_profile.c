/* GET /api/v1/samples/{accession}/profile (any role): a sample's stored result shaped for a
 * genome plot: columnar bins (chrom, start, end, log2, masked), segments, region scores, tumour
 * fraction, QC and versions; a ddPCR sample answers with empty bins and its ddpcr object. */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/bins.h"
#include "server/answer_cache.h"
#include "server/api.h"
#include "server/blob.h"

/* Parsed JSON of a TEXT column, or `fallback` (new) when NULL or unparsable. */
static json_t *col_json(sqlite3_stmt *st, int i, json_t *fallback)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return fallback;
    json_t *j = json_loads((const char *)sqlite3_column_text(st, i), JSON_DECODE_ANY, NULL);
    if (!j)
        return fallback;
    json_decref(fallback);
    return j;
}

static json_t *col_num(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? json_null()
                                                     : json_real(sqlite3_column_double(st, i));
}

/* The columnar bins of a result: {"chrom": [...], "start", "end", "log2", "masked"}. */
static json_t *bins_json_new(const char *build, int32_t bin_size, const void *log2, size_t nlog2,
                             const unsigned char *mask, size_t nmask)
{
    rw_bins *b = srv_blob_layout_new(build, bin_size, nlog2);
    double *lr = NULL;
    json_t *chrom = json_array(), *start = json_array(), *end = json_array(), *l2 = json_array(),
           *masked = json_array();
    if (!b || !(lr = malloc((b->n ? b->n : 1) * sizeof *lr)) || !chrom || !start || !end || !l2 ||
        !masked)
        goto fail;
    srv_blob_f32_decode(log2, b->n, lr);
    for (size_t i = 0; i < b->n; i++) {
        int m = (mask && i < nmask && mask[i]) || !isfinite(lr[i]);
        json_array_append_new(chrom, json_string(rw_chrom_name(rw_bins_chrom(b, i))));
        json_array_append_new(start, json_integer((json_int_t)rw_bins_start(b, i)));
        json_array_append_new(end, json_integer((json_int_t)rw_bins_end(b, i)));
        json_array_append_new(l2, m ? json_null() : json_real(lr[i]));
        json_array_append_new(masked, json_boolean(m));
    }
    free(lr);
    rw_bins_free(b);
    return json_pack("{s:o, s:o, s:o, s:o, s:o}", "chrom", chrom, "start", start, "end", end,
                     "log2", l2, "masked", masked);
fail:
    free(lr);
    rw_bins_free(b);
    json_decref(chrom);
    json_decref(start);
    json_decref(end);
    json_decref(l2);
    json_decref(masked);
    return NULL;
}

static json_t *empty_bins_new(void)
{
    return json_pack("{s:[], s:[], s:[], s:[], s:[]}", "chrom", "start", "end", "log2", "masked");
}

enum { PROFILE_ANSWER = 1 }; /* this file's kind in the answer cache */

/* The profile's bytes into *a: body (everything but the bins, from the row at st) plus the bins
 * of the row's log2 and mask columns (7, 8). Building the bins is the cost, so the whole answer
 * is cached under a version that hashes the body's text and both blobs: any change of the row
 * makes a new version. 0 or 1 (found in the cache), -1 when out of memory. */
static int profile_answer(sqlite3_stmt *st, json_t *body, int ddpcr, srv_answer *a)
{
    json_object_del(body, "bins");
    /* Six significant digits are plenty for float32 data and keep ~6000 bins small. */
    char *head = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(6));
    if (!head)
        return -1;
    size_t hl = strlen(head);
    uint64_t version = srv_fnv1a(SRV_FNV_SEED, head, hl);
    for (int col = 7; col <= 8; col++)
        version =
            srv_fnv1a(version, sqlite3_column_blob(st, col), (size_t)sqlite3_column_bytes(st, col));
    int64_t id = json_integer_value(json_object_get(body, "sample_id"));
    int found = srv_answer_cache_get(PROFILE_ANSWER, id, version, a);
    if (found) {
        free(head);
        return found;
    }
    json_t *bins =
        ddpcr ? empty_bins_new()
              : bins_json_new((const char *)sqlite3_column_text(st, 5), sqlite3_column_int(st, 6),
                              sqlite3_column_blob(st, 7), (size_t)sqlite3_column_bytes(st, 7),
                              sqlite3_column_blob(st, 8), (size_t)sqlite3_column_bytes(st, 8));
    char *tail = bins ? json_dumps(bins, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;
    json_decref(bins);
    /* head is an object's text: "{...}" becomes "{...,"bins":<tail>}". */
    size_t tl = tail ? strlen(tail) : 0, n = hl - 1 + 8 + tl + 1;
    char *text = tail ? malloc(n + 1) : NULL;
    int rc = -1;
    if (text) {
        snprintf(text, n + 1, "%.*s,\"bins\":%s}", (int)(hl - 1), head, tail);
        rc = srv_answer_cache_put(PROFILE_ANSWER, id, version, text, n, a);
    }
    free(text);
    free(tail);
    free(head);
    return rc;
}

static enum MHD_Result profile_get(srv_request *req)
{
    const char *acc = req->nparams > 0 && req->params[0] ? req->params[0] : "";
    sqlite3_stmt *st = srv_db_prepare(
        req->db,
        "SELECT s.id, s.patient_id, s.assay, s.status, r.sample_id, r.build, r.bin_size, r.log2, "
        "r.mask, r.segments, r.regions, r.qc, r.tumour_fraction, r.ddpcr, r.core_version, "
        "p.pon_key, p.id, r.ratio, r.ratio_low, r.ratio_high, r.log2_ratio, r.se, r.cv, r.z, "
        "r.call, r.strong, r.computed_at, r.job_id, r.settings, r.quality FROM samples s "
        "LEFT JOIN results r ON r.sample_id = s.id LEFT JOIN pons p ON p.id = r.pon_id "
        "WHERE s.accession = ?");
    if (!st)
        return srv_reply_internal(req, "cannot read a profile");
    sqlite3_bind_text(st, 1, acc, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return rc == SQLITE_DONE ? srv_reply_error(req, 404, "not_found", NULL, "no such sample")
                                 : srv_reply_internal(req, "cannot read a profile");
    }
    if (sqlite3_column_type(st, 4) == SQLITE_NULL) {
        srv_reply_error(req, 404, "no_result", NULL, "the sample has no result yet (status: %s)",
                        (const char *)sqlite3_column_text(st, 3));
        sqlite3_finalize(st);
        return MHD_YES;
    }
    const char *assay = (const char *)sqlite3_column_text(st, 2);
    int ddpcr = !strcmp(assay, "ddpcr") || sqlite3_column_type(st, 7) == SQLITE_NULL;
    json_t *versions = json_pack(
        "{s:s, s:o, s:o}", "core", (const char *)sqlite3_column_text(st, 14), "pon",
        sqlite3_column_type(st, 15) == SQLITE_NULL
            ? json_null()
            : json_string((const char *)sqlite3_column_text(st, 15)),
        "pon_id",
        sqlite3_column_type(st, 16) == SQLITE_NULL ? json_null()
                                                   : json_integer(sqlite3_column_int64(st, 16)));
    /* quality: why a no-call is one (code, reason), null for a call */
    json_t *call =
        json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:b, s:o}", "ratio", col_num(st, 17),
                  "ratio_low", col_num(st, 18), "ratio_high", col_num(st, 19), "log2_ratio",
                  col_num(st, 20), "se", col_num(st, 21), "cv", col_num(st, 22), "z",
                  col_num(st, 23), "call", (const char *)sqlite3_column_text(st, 24), "strong",
                  sqlite3_column_int(st, 25), "quality", col_json(st, 29, json_null()));
    json_t *body = json_pack(
        "{s:s, s:I, s:I, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:I}",
        "accession", acc, "sample_id", (json_int_t)sqlite3_column_int64(st, 0), "patient_id",
        (json_int_t)sqlite3_column_int64(st, 1), "assay", assay, "status",
        (const char *)sqlite3_column_text(st, 3), "build",
        sqlite3_column_type(st, 5) == SQLITE_NULL
            ? json_null()
            : json_string((const char *)sqlite3_column_text(st, 5)),
        "bin_size",
        sqlite3_column_type(st, 6) == SQLITE_NULL ? json_null()
                                                  : json_integer(sqlite3_column_int(st, 6)),
        "bins", json_null(), "segments", col_json(st, 9, json_array()), "regions",
        col_json(st, 10, json_array()), "tumour_fraction", col_json(st, 12, json_null()), "qc",
        col_json(st, 11, json_object()), "versions", versions ? versions : json_null(), "call",
        call ? call : json_null(), "computed_at", (const char *)sqlite3_column_text(st, 26),
        "job_id", (json_int_t)sqlite3_column_int64(st, 27));
    if (body && ddpcr)
        json_object_set_new(body, "ddpcr", col_json(st, 13, json_null()));
    if (body) /* the provenance: every analysis setting the result was made with */
        json_object_set_new(body, "settings", col_json(st, 28, json_null()));
    srv_answer a = {0};
    int found = body ? profile_answer(st, body, ddpcr, &a) : -1;
    sqlite3_finalize(st);
    int64_t sample_id = json_integer_value(json_object_get(body, "sample_id"));
    json_decref(body);
    if (found < 0)
        return srv_reply_internal(req, "cannot build a profile");
    return srv_answer_reply(req, &a, "sample", sample_id);
}

const srv_route srv_profile_routes[] = {
    {.method = "GET",
     .path = "/api/v1/samples/{accession}/profile",
     .handler = profile_get,
     .roles = SRV_ROLE_CLINICIAN | SRV_ROLE_VIEWER | SRV_ROLE_ADMIN},
    {0},
};
