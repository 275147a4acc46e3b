/* REST resource /api/v1/patients: create (idempotent by external_id), list (keyset pagination
 * with an opaque cursor, filter by external_id, state or id prefix, sorted by id, open alerts,
 * external id or last draw, each patient with her monitoring state), get, update. The
 * external_id is never logged. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/api_clinical.h"
#include "server/monitor.h"

#define LIST_DEFAULT 50
#define LIST_MAX     500

static const char *const receptor_status[] = {"positive", "negative", "unknown", NULL};
static const char *const amp_status[] = {"amplified", "not_amplified", "unknown", NULL};

static const srv_clin_field patient_fields[] = {
    {.name = "external_id",
     .kind = SRV_CLIN_KEY,
     .flags = SRV_CLIN_REQUIRED | SRV_CLIN_FIXED,
     .max_len = 64},
    {.name = "er_status", .kind = SRV_CLIN_ENUM, .choices = receptor_status, .def = "unknown"},
    {.name = "pr_status", .kind = SRV_CLIN_ENUM, .choices = receptor_status, .def = "unknown"},
    {.name = "her2_status", .kind = SRV_CLIN_ENUM, .choices = receptor_status, .def = "unknown"},
    {.name = "diagnosis_date", .kind = SRV_CLIN_DATE, .flags = SRV_CLIN_REQUIRED},
    {.name = "primary_1q213_status",
     .kind = SRV_CLIN_ENUM,
     .choices = amp_status,
     .def = "unknown"},
    {.name = "primary_1q213_cn",
     .kind = SRV_CLIN_NUMBER,
     .flags = SRV_CLIN_NULLABLE,
     .min = 0,
     .max = 100},
    {0},
};

/* ---------------------------------------------------------------- opaque cursor */

/* A cursor is base64url of a plain text: "p1:<last id>" for the id order, and
 * "p2|sort|s1|s2|id|s3" for the others (s3, an external id, which never holds '|', comes last).
 * Opaque to clients, versioned so that a sort order's keys cannot be read as another's; the
 * older "p1" cursors stay valid. */
static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* base64url (unpadded) of plain into out, cut short at cap. */
static void b64_encode(const char *plain, char *out, size_t cap)
{
    size_t n = strlen(plain), o = 0;
    for (size_t i = 0; i < n && o + 5 < cap; i += 3) {
        unsigned v = (unsigned char)plain[i] << 16;
        size_t k = n - i; /* bytes left in this group, up to 3 */
        if (k > 1)
            v |= (unsigned char)plain[i + 1] << 8;
        if (k > 2)
            v |= (unsigned char)plain[i + 2];
        out[o++] = b64url[(v >> 18) & 63];
        out[o++] = b64url[(v >> 12) & 63];
        if (k > 1)
            out[o++] = b64url[(v >> 6) & 63];
        if (k > 2)
            out[o++] = b64url[v & 63];
    }
    out[o] = '\0';
}

/* Decodes base64url into plain (cap bytes); -1 on a bad character or overflow. */
static int b64_decode(const char *s, char *plain, size_t cap)
{
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (; *s; s++) {
        const char *p = strchr(b64url, *s);
        if (!p)
            return -1;
        acc = (acc << 6) | (unsigned)(p - b64url);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o + 1 >= cap)
                return -1;
            plain[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    plain[o] = '\0';
    return 0;
}

/* 0 with *last_id set, or -1 when s is not a "p1" cursor this server made. */
static int cursor_decode(const char *s, int64_t *last_id)
{
    char plain[32], *end;
    if (strlen(s) > 40 || b64_decode(s, plain, sizeof plain) || strncmp(plain, "p1:", 3) != 0 ||
        plain[3] < '0' || plain[3] > '9')
        return -1;
    errno = 0;
    long long v = strtoll(plain + 3, &end, 10);
    if (errno || *end || v < 0)
        return -1;
    *last_id = v;
    return 0;
}

/* ---------------------------------------------------------------- handlers */

/* Inside the open transaction: inserts the patient `want` and audits her creation by internal
 * id only, without her external id, so an erasure (DELETE /patients/{id}) leaves no identifier
 * of hers in the append-only trail. The new row with *id set, or NULL (logged). */
static json_t *create_patient_new(srv_request *req, json_t *want, int64_t *id)
{
    json_t *row = NULL, *details = NULL;
    if ((*id = srv_row_insert(req->db, "patients", want)) < 0 ||
        srv_row_by_id(req->db, "patients", *id, &row) != SRV_OK || !(details = json_copy(row)) ||
        json_object_del(details, "external_id") ||
        srv_audit(req, "create", "patient", *id, details)) {
        json_decref(row);
        row = NULL;
    }
    json_decref(details);
    return row;
}

static enum MHD_Result patient_create(srv_request *req)
{
    json_t *want = srv_clin_body_new(req, patient_fields, 1);
    json_t *have = NULL, *row = NULL;
    int64_t id;
    srv_status st;

    if (!want)
        return srv_clin_done(req);
    if (srv_clin_begin(req))
        goto out;
    /* BEGIN IMMEDIATE serialises writers, so look-up then insert cannot race a twin request. */
    st = srv_row_find(req->db, "patients", "external_id", json_object_get(want, "external_id"),
                      &have);
    if (st == SRV_OK)
        srv_clin_answer_existing(req, patient_fields, want, have,
                                 "a patient with this external_id");
    else if (st != SRV_NOT_FOUND)
        srv_clin_abort(req, "cannot look up a patient");
    else if (!(row = create_patient_new(req, want, &id)))
        srv_clin_abort(req, "cannot create a patient");
    else
        srv_clin_commit_reply(req, 201, json_incref(row), "created patient %" PRId64, id);
out:
    json_decref(want);
    json_decref(have);
    json_decref(row);
    return srv_clin_done(req);
}

/* ---------------------------------------------------------------- list with monitoring state */

/* Sort orders of the list, each a keyset over indexed columns of patient_summary (schema 011,
 * kept by triggers), so a page costs the same whatever the cohort's size: `keys` orders and
 * pages ("WHERE (keys) > (after)"), `after` names the cursor's parameters (?1 id, ?4 s1, ?5 s2,
 * ?6 s3), and s1, s2, s3 are what the cursor carries. Descending keys are stored negated (dates
 * through julianday) and missing ones as 1e9, so they come last. */
typedef struct list_sort {
    const char *name;
    const char *keys, *after;
    const char *s1, *s2, *s3; /* SQL over patient_summary ps */
    const char *index;        /* the index of patient_summary in this order (NULL: the rowid) */
} list_sort;

static const list_sort sorts[] = {
    {"id", "ps.patient_id", "?1", "0", "0", "''", NULL},
    /* open alerts first; then the most serious state (an acknowledged relapse stays above the
     * negatives), the most recent open alert first; then by external id */
    {"alerts", "ps.alerts_key1, ps.alerts_key2, ps.external_id, ps.patient_id", "?4, ?5, ?6, ?1",
     "ps.alerts_key1", "ps.alerts_key2", "ps.external_id", "patient_summary_alerts"},
    {"external_id", "ps.external_id, ps.patient_id", "?6, ?1", "0", "0", "ps.external_id",
     "patient_summary_external"},
    /* the most recent draw first, patients without a draw last */
    {"last_sample", "ps.last_sample_key, ps.external_id, ps.patient_id", "?4, ?6, ?1",
     "ps.last_sample_key", "0", "ps.external_id", "patient_summary_last"},
};

static const char *const state_names[] = {
    "not_detected", "stable", "early_relapse", "emerging_chemoresistance", "responding", NULL};

typedef struct list_key {
    double s1, s2;
    int64_t id;
    char s3[80];
} list_key;

/* 0 with *k set when s is a cursor of sort `so`, -1 otherwise. */
static int cursor2_decode(const char *s, const list_sort *so, list_key *k)
{
    char plain[256], *p, *end;
    int64_t last;
    memset(k, 0, sizeof *k);
    if (strlen(s) > 340)
        return -1;
    if (strcmp(so->name, "id") == 0 && cursor_decode(s, &last) == 0) {
        k->id = last;
        return 0;
    }
    if (b64_decode(s, plain, sizeof plain) || strncmp(plain, "p2|", 3) != 0)
        return -1;
    p = plain + 3;
    size_t nl = strlen(so->name);
    if (strncmp(p, so->name, nl) != 0 || p[nl] != '|')
        return -1;
    p += nl + 1;
    errno = 0;
    k->s1 = strtod(p, &end);
    if (*end != '|')
        return -1;
    k->s2 = strtod(end + 1, &end);
    if (*end != '|')
        return -1;
    long long id = strtoll(end + 1, &end, 10);
    if (*end != '|' || errno || id < 0 || strlen(end + 1) >= sizeof k->s3)
        return -1;
    k->id = id;
    snprintf(k->s3, sizeof k->s3, "%s", end + 1);
    return 0;
}

/* The list's query parameters, checked. */
typedef struct list_params {
    long limit;
    const list_sort *so;
    const char *state;       /* NULL: any */
    const char *cursor;      /* NULL: first page */
    list_key after;          /* decoded cursor */
    const char *external_id; /* NULL: any */
    const char *q;           /* id prefix, NULL: any */
    char like[160];          /* q as a LIKE pattern */
    char since_buf[32];
    const char *since; /* updated_since (a LIMS's sync), NULL: any */
} list_params;

/* Reads and checks the query string into lp: 0, or -1 after answering 422. */
static int list_params_read(srv_request *req, list_params *lp)
{
    static const char *const allowed[] = {"limit", "cursor", "external_id",   "state",
                                          "sort",  "q",      "updated_since", NULL};
    const char *sort;
    int st;

    lp->so = &sorts[0];
    if (srv_query_check(req, allowed) ||
        srv_query_int(req, "limit", 1, LIST_MAX, LIST_DEFAULT, &lp->limit))
        return -1;
    if ((sort = srv_query(req, "sort"))) {
        lp->so = NULL;
        for (size_t i = 0; i < sizeof sorts / sizeof *sorts && !lp->so; i++)
            if (strcmp(sorts[i].name, sort) == 0)
                lp->so = &sorts[i];
        if (!lp->so) {
            srv_reply_error(req, 422, "invalid_value", "sort",
                            "sort must be id, alerts, external_id or last_sample");
            return -1;
        }
    }
    if (srv_query_enum(req, "state", state_names, &st))
        return -1;
    lp->state = st >= 0 ? state_names[st] : NULL;
    lp->cursor = srv_query(req, "cursor");
    if (lp->cursor && cursor2_decode(lp->cursor, lp->so, &lp->after)) {
        srv_reply_error(req, 422, "invalid_value", "cursor",
                        "cursor is not one this server gave for this sort order");
        return -1;
    }
    lp->external_id = srv_query(req, "external_id");
    if (srv_query_updated_since(req, lp->since_buf, &lp->since))
        return -1;
    /* Prefix search: LIKE with the prefix's own % and _ escaped. */
    if ((lp->q = srv_query(req, "q"))) {
        size_t o = 0;
        if (strlen(lp->q) > 64) {
            srv_reply_error(req, 422, "invalid_value", "q", "q: longer than 64 bytes");
            return -1;
        }
        for (const char *c = lp->q; *c && o + 3 < sizeof lp->like; c++) {
            if (*c == '%' || *c == '_' || *c == '\\')
                lp->like[o++] = '\\';
            lp->like[o++] = *c;
        }
        lp->like[o++] = '%';
        lp->like[o] = '\0';
    }
    return 0;
}

/* A filter selects few rows when its index holds fewer than this many for it. */
#define FEW_ROWS 1000

/* Whether sql (a count of the rows a filter selects, read through the filter's index and
 * stopped at FEW_ROWS, so at most FEW_ROWS index entries) finds fewer than FEW_ROWS for value. */
static int few_rows(sqlite3 *db, const char *sql, const char *value)
{
    sqlite3_stmt *st = srv_db_prepare(db, sql);
    int few = 0;
    if (!st)
        return 0;
    sqlite3_bind_text(st, 1, value, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, FEW_ROWS);
    few = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) < FEW_ROWS;
    sqlite3_finalize(st);
    return few;
}

/* How the page reads the tables (INDEXED BY clauses of ps and p), so that its cost stays
 * bounded whatever the cohort's size. A filter with an index of its own (q, state, updated_since)
 * that selects few rows is read through that index and its rows sorted (a LIMS syncing the
 * last hour's changes reads those); otherwise the page walks the sort order's index and stops
 * after limit rows that pass the filters (matches are then dense enough to come soon). Left to
 * SQLite: an external id (unique, its own index), the id order with a state (that index is in
 * id order within a state), and no filter. */
static void list_access(sqlite3 *db, const list_params *lp, char ps_by[64], char p_by[64])
{
    *ps_by = *p_by = '\0';
    if (lp->external_id)
        return;
    if (lp->q && few_rows(db,
                          "SELECT count(*) FROM (SELECT 1 FROM patient_summary "
                          "WHERE external_id LIKE ?1 ESCAPE '\\' LIMIT ?2)",
                          lp->like))
        snprintf(ps_by, 64, " INDEXED BY patient_summary_search");
    else if (!lp->state && !lp->since && !lp->q)
        return;
    else if (lp->state && few_rows(db,
                                   "SELECT count(*) FROM (SELECT 1 FROM patient_summary "
                                   "WHERE state = ?1 LIMIT ?2)",
                                   lp->state))
        snprintf(ps_by, 64, " INDEXED BY patient_summary_state");
    else if (lp->since && few_rows(db,
                                   "SELECT count(*) FROM (SELECT 1 FROM patients "
                                   "WHERE updated_at >= ?1 LIMIT ?2)",
                                   lp->since))
        snprintf(p_by, 64, " INDEXED BY patients_updated");
    else if (lp->so->index)
        snprintf(ps_by, 64, " INDEXED BY %s", lp->so->index);
    else if (!lp->state)
        snprintf(ps_by, 64, " NOT INDEXED"); /* the rowid: the id order */
}

/* The page's statement (limit + 1 rows, to tell whether another follows), bound, or NULL on an
 * SQL error. The monitoring columns come from patient_summary; the last three, s1, s2 and s3,
 * are the sort keys the cursor carries. The SQL names only the filters given, and reads the
 * tables as list_access() says. Keyset pagination (the keyset only after a cursor, so the index
 * serves both): stable under inserts; a patient whose keys change between two pages (a new
 * alert) may move. */
static sqlite3_stmt *list_statement(sqlite3 *db, const list_params *lp)
{
    char sql[2048], ps_by[64], p_by[64];
    list_access(db, lp, ps_by, p_by);
    snprintf(sql, sizeof sql,
             "SELECT p.*, ps.state, ps.open_alerts, ps.last_sample_date, ps.n_samples, "
             "%s AS s1, %s AS s2, %s AS s3 FROM patient_summary ps%s JOIN patients p%s "
             "ON p.id = ps.patient_id WHERE 1%s%s%s%s%s%s%s%s%s ORDER BY %s LIMIT ?7",
             lp->so->s1, lp->so->s2, lp->so->s3, ps_by, p_by,
             lp->external_id ? " AND ps.external_id = ?2" : "",
             lp->q ? " AND ps.external_id LIKE ?8 ESCAPE '\\'" : "",
             lp->since ? " AND p.updated_at >= ?9" : "", lp->state ? " AND ps.state = ?3" : "",
             lp->cursor ? " AND (" : "", lp->cursor ? lp->so->keys : "", lp->cursor ? ") > (" : "",
             lp->cursor ? lp->so->after : "", lp->cursor ? ")" : "", lp->so->keys);
    sqlite3_stmt *st = srv_db_prepare(db, sql);
    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, lp->after.id);
    if (lp->external_id)
        sqlite3_bind_text(st, 2, lp->external_id, -1, SQLITE_STATIC);
    if (lp->state)
        sqlite3_bind_text(st, 3, lp->state, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 4, lp->after.s1);
    sqlite3_bind_double(st, 5, lp->after.s2);
    sqlite3_bind_text(st, 6, lp->after.s3, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, lp->limit + 1);
    if (lp->q)
        sqlite3_bind_text(st, 8, lp->like, -1, SQLITE_STATIC);
    if (lp->since)
        sqlite3_bind_text(st, 9, lp->since, -1, SQLITE_STATIC);
    return st;
}

/* The keys of the current row of st (ncols columns, the sort keys last) into *k. */
static void row_key(sqlite3_stmt *st, int ncols, list_key *k)
{
    const char *s3 = (const char *)sqlite3_column_text(st, ncols - 1);
    k->id = sqlite3_column_int64(st, 0); /* p.id */
    k->s1 = sqlite3_column_double(st, ncols - 3);
    k->s2 = sqlite3_column_double(st, ncols - 2);
    size_t n = s3 ? strnlen(s3, sizeof k->s3 - 1) : 0;
    memcpy(k->s3, s3 ? s3 : "", n);
    k->s3[n] = '\0';
}

/* The cursor of the page after the row whose keys are k, into t as a JSON string. */
static void next_cursor_text(const list_key *k, const list_params *lp, srv_text *t)
{
    char plain[256], buf[360];
    if (lp->so == &sorts[0]) /* the id order keeps its original cursor format */
        snprintf(plain, sizeof plain, "p1:%" PRId64, k->id);
    else
        snprintf(plain, sizeof plain, "p2|%s|%.17g|%.17g|%" PRId64 "|%s", lp->so->name, k->s1,
                 k->s2, k->id, k->s3);
    b64_encode(plain, buf, sizeof buf);
    srv_text_string(t, buf, strlen(buf));
}

/* The page's answer written as text into t: {"patients": [...], "next_cursor": ...}, each
 * patient an object of the statement's columns but the sort keys. 0, or -1 when a step fails. */
static int patient_page_text(sqlite3_stmt *st, const list_params *lp, srv_text *t)
{
    int ncols = sqlite3_column_count(st), rc;
    long n = 0;
    list_key last = {0};
    srv_text_lit(t, "{\"patients\":[");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < lp->limit) {
        if (n++)
            srv_text_lit(t, ",");
        srv_text_row(t, st, ncols - 3);
        row_key(st, ncols, &last);
    }
    srv_text_lit(t, "],\"next_cursor\":");
    if (rc == SQLITE_ROW) /* one row more than the page: another page follows */
        next_cursor_text(&last, lp, t);
    else
        srv_text_lit(t, "null");
    srv_text_lit(t, "}");
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

static enum MHD_Result patient_list(srv_request *req)
{
    list_params lp = {0};
    srv_text page = {0};
    sqlite3_stmt *st;

    if (list_params_read(req, &lp))
        return srv_clin_done(req);
    if (!(st = list_statement(req->db, &lp)))
        return srv_reply_internal(req, "cannot list patients");
    int bad = patient_page_text(st, &lp, &page) || page.failed;
    sqlite3_finalize(st);
    if (bad) {
        free(page.s);
        return srv_reply_internal(req, "cannot list patients");
    }
    if (srv_audit_read(req, "patients", 0)) {
        free(page.s);
        return MHD_YES;
    }
    return srv_reply_json_text(req, 200, page.s, page.len);
}

static enum MHD_Result patient_get(srv_request *req)
{
    json_t *p = srv_clin_patient_new(req, 0);
    if (!p)
        return srv_clin_done(req);
    return srv_audit_read_reply(req, "patient", json_integer_value(json_object_get(p, "id")), p);
}

/* A new diagnosis date must keep the dated facts possible: no sample drawn more than a year
 * before it, no relapse, progression or death before it. 0, or -1 after answering. */
static int check_new_diagnosis(srv_request *req, int64_t id, const char *diagnosis)
{
    char year_before[11];
    json_t *args, *rows;
    json_int_t n;

    srv_clin_year_before(diagnosis, year_before);
    args = json_pack("[I, s, s]", (json_int_t)id, year_before, diagnosis);
    rows = args ? srv_rows_query_new(
                      req->db,
                      "SELECT (SELECT count(*) FROM samples WHERE patient_id = ?1 "
                      "AND collected_at < ?2) AS samples, "
                      "(SELECT count(*) FROM clinical_events WHERE patient_id = ?1 AND date < ?3 "
                      "AND kind IN ('clinical_relapse', 'imaging_progression', 'death')) AS events",
                      args)
                : NULL;
    json_decref(args);
    if (!rows) {
        srv_clin_abort(req, "cannot check a diagnosis date");
        return -1;
    }
    json_t *r = json_array_get(rows, 0);
    n = json_integer_value(json_object_get(r, "samples"));
    if (n > 0)
        srv_clin_reject(req, 422, "invalid_date", "diagnosis_date",
                        "a sample of this patient was collected more than a year before this "
                        "diagnosis date");
    else if (json_integer_value(json_object_get(r, "events")) > 0)
        srv_clin_reject(req, 422, "invalid_date", "diagnosis_date",
                        "a relapse, progression or death of this patient is dated before this "
                        "diagnosis date");
    n += json_integer_value(json_object_get(r, "events"));
    json_decref(rows);
    return n > 0 ? -1 : 0;
}

static enum MHD_Result patient_update(srv_request *req)
{
    json_t *changes = NULL, *have = NULL, *row = NULL, *diag;
    int64_t id;

    if (srv_param_id(req, 0, &id) || !(changes = srv_clin_body_new(req, patient_fields, 0)))
        return srv_clin_done(req);
    if (srv_clin_begin(req) == 0 && (have = srv_clin_patient_new(req, 1)) &&
        !((diag = json_object_get(changes, "diagnosis_date")) &&
          check_new_diagnosis(req, id, json_string_value(diag)))) {
        /* The primary tumour's status is an input of the longitudinal engine: the monitoring
         * state is recomputed in the same transaction. */
        if (!(row = srv_clin_update_new(req, "patients", "patient", id, have, changes)) ||
            srv_monitor_recompute(req->db, id))
            srv_clin_abort(req, "cannot update a patient");
        else
            srv_clin_commit_reply(req, 200, json_incref(row), "updated patient %" PRId64, id);
    }
    json_decref(changes);
    json_decref(have);
    json_decref(row);
    return srv_clin_done(req);
}

const srv_route srv_patients_routes[] = {
    {.method = "POST",
     .path = "/api/v1/patients",
     .handler = patient_create,
     .roles = SRV_ROLE_LIMS,
     .body = SRV_BODY_JSON},
    {.method = "GET",
     .path = "/api/v1/patients",
     .handler = patient_list,
     .query = (const char *const[]){"limit", "cursor", "external_id", "state", "sort", "q",
                                    "updated_since", NULL},
     .roles = SRV_ROLE_LIMS | SRV_ROLE_CLINICIAN | SRV_ROLE_VIEWER | SRV_ROLE_ADMIN},
    {.method = "GET",
     .path = "/api/v1/patients/{id}",
     .handler = patient_get,
     .roles = SRV_ROLE_LIMS | SRV_ROLE_CLINICIAN | SRV_ROLE_VIEWER | SRV_ROLE_ADMIN},
    {.method = "PATCH",
     .path = "/api/v1/patients/{id}",
     .handler = patient_update,
     .roles = SRV_ROLE_LIMS,
     .body = SRV_BODY_JSON},
    {0},
};
