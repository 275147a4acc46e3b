/* CSV import of a historical series (see import.h). */
#include "server/import.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/date.h"
#include "server/audit.h"
#include "server/db.h"
#include "server/ddpcr_input.h"
#include "server/jobs.h"
#include "server/monitor.h"
#include "server/sha256.h"
#include "server/validate.h"

/* The columns a file may have; a record reads the ones it needs. */
enum col {
    C_RECORD,
    C_PATIENT,
    C_DATE,
    C_END_DATE,
    C_KIND,
    C_REGIMEN,
    C_NOTE,
    C_ER,
    C_PR,
    C_HER2,
    C_PRIMARY,
    C_PRIMARY_CN,
    C_ACCESSION,
    C_TARGET,
    C_REFERENCE,
    C_DROPLETS,
    C_N
};
static const char *const col_names[C_N] = {"record",
                                           "patient",
                                           "date",
                                           "end_date",
                                           "kind",
                                           "regimen",
                                           "note",
                                           "er_status",
                                           "pr_status",
                                           "her2_status",
                                           "primary_1q213_status",
                                           "primary_1q213_cn",
                                           "accession",
                                           "target_positive",
                                           "reference_positive",
                                           "droplets"};

#define MAX_FIELDS 32
#define MAX_FIELD  2048

typedef struct csv {
    const char *s;
    size_t len, pos;
    long line; /* the line the next record starts on */
} csv;

/* The next record's fields (NUL-terminated, in buf), RFC 4180 quoting. Returns the number of
 * fields, 0 at the end, -1 on a malformed record (msg says why). */
static int csv_next(csv *c, char *buf, size_t cap, char **fields, char *msg, size_t msglen)
{
    size_t o = 0;
    int n = 0, quoted = 0, started = 0;
    if (c->pos >= c->len)
        return 0;
    fields[n++] = buf;
    while (c->pos < c->len) {
        char ch = c->s[c->pos++];
        if (quoted) {
            if (ch == '"' && c->pos < c->len && c->s[c->pos] == '"')
                c->pos++;
            else if (ch == '"') {
                quoted = 0;
                continue;
            } else if (ch == '\n')
                c->line++;
            else if (ch == '\0') {
                snprintf(msg, msglen, "a NUL byte");
                return -1;
            }
        } else if (ch == '"' && !started) {
            quoted = started = 1;
            continue;
        } else if (ch == ',') {
            if (o + 1 >= cap || n == MAX_FIELDS) {
                snprintf(msg, msglen, "more than %d fields", MAX_FIELDS);
                return -1;
            }
            buf[o++] = '\0';
            fields[n++] = buf + o;
            started = 0;
            continue;
        } else if (ch == '\r' && c->pos < c->len && c->s[c->pos] == '\n') {
            continue;
        } else if (ch == '\n') {
            c->line++;
            break;
        } else if (ch == '"' || ch == '\0') {
            snprintf(msg, msglen, "%s inside an unquoted field", ch ? "a quote" : "a NUL byte");
            return -1;
        }
        started = 1;
        if (o + 1 >= cap) {
            snprintf(msg, msglen, "a record longer than %zu bytes", cap);
            return -1;
        }
        buf[o++] = ch;
    }
    if (quoted) {
        snprintf(msg, msglen, "a quoted field is not closed");
        return -1;
    }
    buf[o] = '\0';
    return n;
}

typedef struct importer {
    sqlite3 *conn;
    const char *actor;
    int map[C_N];        /* column -> field index, -1 when the file has none */
    char *const *fields; /* the current record's fields */
    int nfields;
    srv_import_error *err;
    json_t *touched; /* patient ids to recompute: {"id": true} */
} importer;

static int fail(importer *im, enum col col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(importer *im, enum col col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(im->err->msg, sizeof im->err->msg, fmt, ap);
    va_end(ap);
    im->err->column = col == C_N ? NULL : col_names[col];
    return 1;
}

/* The current record's value in col, or NULL when the file has no such column or it is empty. */
static const char *val(const importer *im, enum col col)
{
    int i = im->map[col];
    return i >= 0 && i < im->nfields && im->fields[i][0] ? im->fields[i] : NULL;
}

static int need(importer *im, enum col col, const char **out)
{
    return (*out = val(im, col)) ? 0 : fail(im, col, "%s is required here", col_names[col]);
}

/* The record's date: required, a real YYYY-MM-DD, not after today (the site's time zone). */
static int need_date(importer *im, const char **out)
{
    int32_t day;
    if (need(im, C_DATE, out))
        return 1;
    if (rw_date_parse(*out, &day))
        return fail(im, C_DATE, "date must be a real YYYY-MM-DD date");
    return day > srv_today() ? fail(im, C_DATE, "date %s is in the future", *out) : 0;
}

/* Binds the record's value of col (or NULL) as parameter i. */
static void bind_col(sqlite3_stmt *st, int i, const importer *im, enum col col)
{
    const char *v = val(im, col);
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
}

/* Runs st (finalized here); a constraint failure is the CSV's fault: 1 with the message. */
static int step(importer *im, sqlite3_stmt *st, int64_t *id)
{
    if (!st)
        return -1;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        int bad_input = (rc & 0xff) == SQLITE_CONSTRAINT;
        if (bad_input)
            fail(im, C_N, "%s", sqlite3_errmsg(im->conn));
        sqlite3_finalize(st);
        return bad_input ? 1 : -1;
    }
    sqlite3_finalize(st);
    if (id)
        *id = sqlite3_last_insert_rowid(im->conn);
    return 0;
}

/* The id of the patient the record names (1 when there is none). */
static int patient_of(importer *im, int64_t *id)
{
    const char *ext;
    if (need(im, C_PATIENT, &ext))
        return 1;
    sqlite3_stmt *st = srv_db_prepare(im->conn, "SELECT id FROM patients WHERE external_id = ?");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, ext, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    *id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return -1;
    return *id ? 0 : fail(im, C_PATIENT, "no patient %s in the store or earlier in the file", ext);
}

static int audit(importer *im, const char *type, int64_t id, int64_t patient_id)
{
    json_t *d = json_pack("{s:s, s:I}", "via", "import", "patient_id", (json_int_t)patient_id);
    int rc = d ? srv_audit_write(im->conn, im->actor, 0, "create", type, id, d) : -1;
    json_decref(d);
    char key[24];
    snprintf(key, sizeof key, "%lld", (long long)patient_id);
    return rc ? -1 : json_object_set_new(im->touched, key, json_true());
}

static int add_patient(importer *im)
{
    const char *ext, *date;
    int64_t id;
    if (need(im, C_PATIENT, &ext) || need_date(im, &date))
        return 1;
    sqlite3_stmt *st = srv_db_prepare(
        im->conn, "INSERT INTO patients (external_id, diagnosis_date, er_status, pr_status, "
                  "her2_status, primary_1q213_status, primary_1q213_cn) VALUES (?1, ?2, "
                  "coalesce(?3, 'unknown'), coalesce(?4, 'unknown'), coalesce(?5, 'unknown'), "
                  "coalesce(?6, 'unknown'), CAST(?7 AS REAL))");
    if (st) {
        sqlite3_bind_text(st, 1, ext, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, date, -1, SQLITE_TRANSIENT);
        bind_col(st, 3, im, C_ER);
        bind_col(st, 4, im, C_PR);
        bind_col(st, 5, im, C_HER2);
        bind_col(st, 6, im, C_PRIMARY);
        bind_col(st, 7, im, C_PRIMARY_CN);
    }
    int rc = step(im, st, &id);
    return rc ? rc : audit(im, "patient", id, id);
}

static int add_treatment(importer *im)
{
    const char *kind, *date;
    int64_t pid, id;
    int rc = patient_of(im, &pid);
    if (rc || (rc = need(im, C_KIND, &kind)) || (rc = need_date(im, &date)))
        return rc;
    sqlite3_stmt *st = srv_db_prepare(im->conn, "INSERT INTO treatments (patient_id, kind, "
                                                "regimen, start_date, end_date) VALUES (?, ?, ?, "
                                                "?, ?)");
    if (st) {
        sqlite3_bind_int64(st, 1, pid);
        sqlite3_bind_text(st, 2, kind, -1, SQLITE_TRANSIENT);
        bind_col(st, 3, im, C_REGIMEN);
        sqlite3_bind_text(st, 4, date, -1, SQLITE_TRANSIENT);
        bind_col(st, 5, im, C_END_DATE);
    }
    return (rc = step(im, st, &id)) ? rc : audit(im, "treatment", id, pid);
}

static int add_event(importer *im)
{
    const char *kind, *date;
    int64_t pid, id;
    int rc = patient_of(im, &pid);
    if (rc || (rc = need(im, C_KIND, &kind)) || (rc = need_date(im, &date)))
        return rc;
    sqlite3_stmt *st = srv_db_prepare(
        im->conn, "INSERT INTO clinical_events (patient_id, date, kind, note) VALUES (?, ?, ?, ?)");
    if (st) {
        sqlite3_bind_int64(st, 1, pid);
        sqlite3_bind_text(st, 2, date, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, kind, -1, SQLITE_TRANSIENT);
        bind_col(st, 4, im, C_NOTE);
    }
    return (rc = step(im, st, &id)) ? rc : audit(im, "event", id, pid);
}

/* A whole number of droplets from the record's col (1 when it is not one). */
static int count_of(importer *im, enum col col, json_int_t *out)
{
    const char *v, *end;
    if (need(im, col, &v))
        return 1;
    errno = 0;
    long long n = strtoll(v, (char **)&end, 10);
    if (errno || *end || n < 0)
        return fail(im, col, "%s must be a whole number >= 0", col_names[col]);
    *out = (json_int_t)n;
    return 0;
}

/* A draw: the sample, its wells as input (as PUT .../ddpcr stores them) and its analysis. */
static int add_draw(importer *im)
{
    const char *acc, *date, *field;
    json_int_t tp, rp, dr;
    int64_t pid, sid;
    rw_error e = {0};
    char hex[65];
    int rc = patient_of(im, &pid);
    if (rc || (rc = need(im, C_ACCESSION, &acc)) || (rc = need_date(im, &date)) ||
        (rc = count_of(im, C_TARGET, &tp)) || (rc = count_of(im, C_REFERENCE, &rp)) ||
        (rc = count_of(im, C_DROPLETS, &dr)))
        return rc;
    json_t *wells = json_pack("{s:[{s:I, s:I, s:I}]}", "wells", "target_positive", tp,
                              "reference_positive", rp, "droplets", dr);
    char *text = wells ? json_dumps(wells, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    if (!text || srv_ddpcr_check(wells, &field, &e) != RW_OK) {
        json_decref(wells);
        free(text);
        return text ? fail(im, C_TARGET, "the droplet counts: %s", e.msg) : -1;
    }
    json_decref(wells);
    sqlite3_stmt *st = srv_db_prepare(im->conn, "INSERT INTO samples (accession, patient_id, "
                                                "collected_at, assay) VALUES (?, ?, ?, 'ddpcr')");
    if (st) {
        sqlite3_bind_text(st, 1, acc, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, pid);
        sqlite3_bind_text(st, 3, date, -1, SQLITE_TRANSIENT);
    }
    if ((rc = step(im, st, &sid)) == 0) {
        srv_sha256_hex(text, strlen(text), hex);
        st = srv_db_prepare(im->conn, "INSERT INTO sample_inputs (sample_id, kind, sha256, size, "
                                      "ddpcr) VALUES (?, 'ddpcr', ?, ?, ?)");
        if (st) {
            sqlite3_bind_int64(st, 1, sid);
            sqlite3_bind_text(st, 2, hex, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 3, (sqlite3_int64)strlen(text));
            sqlite3_bind_text(st, 4, text, -1, SQLITE_STATIC);
        }
        rc = step(im, st, NULL);
    }
    free(text);
    if (rc)
        return rc;
    if (srv_jobs_enqueue(im->conn, sid, "analyse") < 0)
        return -1;
    return audit(im, "sample", sid, pid);
}

/* Reads the header into im->map: 0, or 1 (an unknown or repeated column, or no record column). */
static int read_header(importer *im, char *const *fields, int n)
{
    for (int c = 0; c < C_N; c++)
        im->map[c] = -1;
    for (int i = 0; i < n; i++) {
        int c = 0;
        while (c < C_N && strcmp(fields[i], col_names[c]))
            c++;
        if (c == C_N)
            return fail(im, C_N, "unknown column \"%.60s\"", fields[i]);
        if (im->map[c] >= 0)
            return fail(im, c, "column %s given twice", col_names[c]);
        im->map[c] = i;
    }
    return im->map[C_RECORD] < 0 || im->map[C_PATIENT] < 0
               ? fail(im, C_N, "the header needs the columns record and patient")
               : 0;
}

static int recompute_touched(importer *im)
{
    const char *key;
    json_t *v;
    json_object_foreach(im->touched, key, v)
    {
        if (srv_monitor_recompute(im->conn, strtoll(key, NULL, 10)))
            return -1;
    }
    return 0;
}

int srv_import_csv(sqlite3 *conn, const char *csv_text, size_t len, const char *actor,
                   srv_import_counts *counts, srv_import_error *err)
{
    static const struct {
        const char *name;
        int (*add)(importer *);
    } records[] = {
        {"patient", add_patient},
        {"treatment", add_treatment},
        {"event", add_event},
        {"draw", add_draw},
    };
    /* What each kind of record counts into, in the order of records[]. */
    int64_t *const count_of_record[] = {&counts->patients, &counts->treatments, &counts->events,
                                        &counts->draws};
    char *buf = malloc(MAX_FIELD * 4), *fields[MAX_FIELDS];
    importer im = {
        .conn = conn, .actor = actor, .fields = fields, .err = err, .touched = json_object()};
    csv c = {csv_text, len, 0, 1};
    int rc = 0, n;
    memset(counts, 0, sizeof *counts);
    memset(err, 0, sizeof *err);
    if (!buf || !im.touched) {
        rc = -1;
        goto out;
    }
    for (int header = 1;;) {
        err->line = c.line;
        n = csv_next(&c, buf, MAX_FIELD * 4, fields, err->msg, sizeof err->msg);
        if (n < 0) {
            rc = 1;
            break;
        }
        if (n == 0)
            break;
        im.nfields = n;
        if (n == 1 && !fields[0][0])
            continue; /* an empty line */
        if (header) { /* the first line that is not empty */
            if ((rc = read_header(&im, fields, n)))
                break;
            header = 0;
            continue;
        }
        const char *kind = val(&im, C_RECORD);
        size_t r = 0;
        while (kind && r < sizeof records / sizeof *records && strcmp(kind, records[r].name))
            r++;
        if (!kind || r == sizeof records / sizeof *records) {
            rc = fail(&im, C_RECORD, "record must be patient, treatment, event or draw");
            break;
        }
        if ((rc = records[r].add(&im)))
            break;
        (*count_of_record[r])++;
    }
    if (rc == 0 && counts->patients + counts->treatments + counts->events + counts->draws == 0)
        rc = fail(&im, C_N, "no record to import");
    if (rc == 0)
        rc = recompute_touched(&im);
out:
    json_decref(im.touched);
    free(buf);
    return rc;
}
