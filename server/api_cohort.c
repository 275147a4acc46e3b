/* REST resource /api/v1/cohort/summary: the cohort page's tiles: patients, samples, open alerts
 * by kind, patients by monitoring state, and the lead time of the alerts over the clinic
 * (median over patients with both an early_relapse alert and a clinical_relapse event). */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "server/api_clinical.h"

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* The cohort's totals (schema 011: cohort_counts, kept by triggers in every write's
 * transaction) into body: "state:x" keys into states, "open:x" into open, the others as they
 * are. 0 or -1. Reading them costs the same for 10 patients as for 100,000. */
static int counts_into(sqlite3 *db, json_t *body, json_t *states, json_t *open)
{
    sqlite3_stmt *st = srv_db_prepare(db, "SELECT key, n FROM cohort_counts");
    int rc;
    if (!st)
        return -1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        json_t *into = !strncmp(k, "state:", 6) ? states : !strncmp(k, "open:", 5) ? open : body;
        if (into != body)
            k = strchr(k, ':') + 1;
        if (json_object_set_new(into, k, json_integer(sqlite3_column_int64(st, 1)))) {
            rc = SQLITE_ERROR;
            break;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* The patients with a lead time (a relapse seen by both the engine and the clinic) appended to
 * leads, and the median of their days in *median (null when there are none). 0 or -1. */
static int lead_times_into(sqlite3 *db, json_t *leads, json_t **median)
{
    /* CROSS JOIN keeps patient_state first, read through its partial index of the few rows
     * with a lead time; a plain JOIN let SQLite walk every patient in external_id order instead
     * (the summary then grew with the cohort: 9 M instructions at 10,000 patients). */
    sqlite3_stmt *st = srv_db_prepare(db, "SELECT p.id, p.external_id, s.lead_time_days, "
                                          "s.relapse_date FROM patient_state s CROSS JOIN "
                                          "patients p ON p.id = s.patient_id WHERE "
                                          "s.lead_time_days IS NOT NULL ORDER BY p.external_id");
    int *days = NULL, rc = SQLITE_ERROR;
    size_t n = 0, cap = 0;
    if (!st)
        return -1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            int *d = realloc(days, (cap = cap ? 2 * cap : 16) * sizeof *days);
            if (!d) {
                rc = SQLITE_NOMEM;
                break;
            }
            days = d;
        }
        days[n++] = sqlite3_column_int(st, 2);
        json_t *o =
            json_pack("{s:I, s:s, s:i, s:s?}", "patient_id",
                      (json_int_t)sqlite3_column_int64(st, 0), "external_id",
                      (const char *)sqlite3_column_text(st, 1), "days", sqlite3_column_int(st, 2),
                      "clinical_relapse_date", (const char *)sqlite3_column_text(st, 3));
        if (!o || json_array_append_new(leads, o)) {
            rc = SQLITE_NOMEM;
            break;
        }
    }
    sqlite3_finalize(st);
    *median = NULL;
    if (rc == SQLITE_DONE && !n)
        *median = json_null();
    else if (rc == SQLITE_DONE) {
        qsort(days, n, sizeof *days, cmp_int);
        double md = n % 2 ? days[n / 2] : (days[n / 2 - 1] + days[n / 2]) / 2.0;
        *median = md == floor(md) ? json_integer((json_int_t)md) : json_real(md);
    }
    free(days);
    return *median ? 0 : -1;
}

static enum MHD_Result cohort_summary(srv_request *req)
{
    static const char *const allowed[] = {NULL};
    json_t *totals = json_object(), *open = json_object(), *by_state = json_object(),
           *leads = json_array(), *median = NULL, *body = NULL;

    if (srv_query_check(req, allowed))
        goto answered;
    if (!totals || !open || !by_state || !leads ||
        sqlite3_exec(req->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    if (counts_into(req->db, totals, by_state, open) || lead_times_into(req->db, leads, &median))
        goto fail;
    srv_db_rollback(req->db); /* read only: ends the snapshot */
    /* Patients are "monitored" from registration; the key names are the API's. */
    body = json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O}", "patients_monitored",
                     json_object_get(totals, "patients"), "samples",
                     json_object_get(totals, "samples"), "patients_with_results",
                     json_object_get(totals, "patients_with_results"), "results",
                     json_object_get(totals, "results"), "open_alerts", open, "states", by_state,
                     "median_lead_time_days", median, "lead_times", leads);
    if (!body)
        goto fail;
    srv_reply_json(req, 200, body);
    goto answered;
fail:
    srv_db_rollback(req->db);
    srv_reply_internal(req, "cannot summarise the cohort");
answered:
    json_decref(totals);
    json_decref(open);
    json_decref(by_state);
    json_decref(leads);
    json_decref(median);
    return srv_clin_done(req);
}

const srv_route srv_cohort_routes[] = {
    {.method = "GET",
     .path = "/api/v1/cohort/summary",
     .handler = cohort_summary,
     .roles = SRV_ROLE_CLINICIAN | SRV_ROLE_VIEWER | SRV_ROLE_ADMIN},
    {0},
};
