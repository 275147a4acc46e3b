/* REST resource /api/v1/cohort/summary: the cohort page's tiles: patients, samples, open alerts
 * by kind, patients by monitoring state, and the lead time of the alerts over the clinic
 * (median over patients with both an early_relapse alert and a clinical_relapse event). */

#include <math.h>
#include <stdlib.h>

#include "server/api_clinical.h"

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Runs a "SELECT key, count" query into obj[key] = count (keys already present are overwritten,
 * so zero defaults can be set first). 0 or -1. */
static int counts_into(sqlite3 *db, const char *sql, json_t *obj)
{
    sqlite3_stmt *st = srv_db_prepare(db, sql);
    int rc;
    if (!st)
        return -1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        if (k && json_object_set_new(obj, k, json_integer(sqlite3_column_int64(st, 1)))) {
            rc = SQLITE_ERROR;
            break;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static enum MHD_Result cohort_summary(srv_request *req)
{
    static const char *const allowed[] = {NULL};
    static const char *const states[] = {"not_detected", "stable", "early_relapse",
                                         "emerging_chemoresistance", "responding"};
    static const char *const kinds[] = {"early_relapse", "emerging_chemoresistance", "responding"};
    json_t *body = NULL, *open = json_object(), *by_state = json_object(), *leads = json_array();
    sqlite3_stmt *st = NULL;
    int *days = NULL;
    size_t n = 0, m = 0;
    int rc;

    if (srv_query_check(req, allowed))
        goto answered;
    if (!open || !by_state || !leads ||
        sqlite3_exec(req->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    for (size_t i = 0; i < sizeof states / sizeof *states; i++)
        json_object_set_new(by_state, states[i], json_integer(0));
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        json_object_set_new(open, kinds[i], json_integer(0));
    /* A patient never recomputed (no result yet) reads as not_detected. */
    if (counts_into(req->db,
                    "SELECT coalesce(s.state, 'not_detected'), count(*) FROM patients p "
                    "LEFT JOIN patient_state s ON s.patient_id = p.id GROUP BY 1",
                    by_state) ||
        counts_into(req->db,
                    "SELECT kind, count(*) FROM alerts WHERE retracted_at IS NULL "
                    "AND acknowledged_at IS NULL GROUP BY kind",
                    open))
        goto fail;

    st = srv_db_prepare(req->db, "SELECT p.id, p.external_id, s.lead_time_days, s.relapse_date "
                                 "FROM patient_state s JOIN patients p ON p.id = s.patient_id "
                                 "WHERE s.lead_time_days IS NOT NULL ORDER BY p.external_id");
    if (!st)
        goto fail;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == m) {
            int *d = realloc(days, (m = m ? 2 * m : 16) * sizeof *days);
            if (!d)
                goto fail;
            days = d;
        }
        days[n++] = sqlite3_column_int(st, 2);
        json_t *o =
            json_pack("{s:I, s:s, s:i, s:s?}", "patient_id",
                      (json_int_t)sqlite3_column_int64(st, 0), "external_id",
                      (const char *)sqlite3_column_text(st, 1), "days", sqlite3_column_int(st, 2),
                      "clinical_relapse_date", (const char *)sqlite3_column_text(st, 3));
        if (!o || json_array_append_new(leads, o))
            goto fail;
    }
    if (rc != SQLITE_DONE)
        goto fail;
    sqlite3_finalize(st);

    json_t *median = json_null();
    if (n) {
        qsort(days, n, sizeof *days, cmp_int);
        double md = n % 2 ? days[n / 2] : (days[n / 2 - 1] + days[n / 2]) / 2.0;
        median = md == floor(md) ? json_integer((json_int_t)md) : json_real(md);
    }
    st = srv_db_prepare(req->db, "SELECT (SELECT count(*) FROM patients), "
                                 "(SELECT count(*) FROM samples), "
                                 "(SELECT count(DISTINCT s.patient_id) FROM samples s "
                                 "JOIN results r ON r.sample_id = s.id), "
                                 "(SELECT count(*) FROM results)");
    if (!st || sqlite3_step(st) != SQLITE_ROW) {
        json_decref(median);
        goto fail;
    }
    body = json_pack("{s:I, s:I, s:I, s:I, s:O, s:O, s:o, s:O}", "patients_monitored",
                     (json_int_t)sqlite3_column_int64(st, 0), "samples",
                     (json_int_t)sqlite3_column_int64(st, 1), "patients_with_results",
                     (json_int_t)sqlite3_column_int64(st, 2), "results",
                     (json_int_t)sqlite3_column_int64(st, 3), "open_alerts", open, "states",
                     by_state, "median_lead_time_days", median, "lead_times", leads);
    sqlite3_finalize(st);
    st = NULL;
    srv_db_rollback(req->db); /* read only: ends the snapshot */
    if (!body)
        goto fail;
    srv_reply_json(req, 200, body);
    goto answered;
fail:
    sqlite3_finalize(st);
    srv_db_rollback(req->db);
    srv_reply_internal(req, "cannot summarise the cohort");
answered:
    json_decref(open);
    json_decref(by_state);
    json_decref(leads);
    free(days);
    return srv_clin_done(req);
}

const srv_route srv_cohort_routes[] = {
    {.method = "GET",
     .path = "/api/v1/cohort/summary",
     .handler = cohort_summary,
     .roles = SRV_ROLE_CLINICIAN | SRV_ROLE_VIEWER | SRV_ROLE_ADMIN},
    {0},
};
