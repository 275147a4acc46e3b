/* Operations endpoints: the audit trail (list with filters and cursor paging, CSV export, chain
 * verification) and backups (take one now, list them). See docs/operations.md.
 *
 * Backups are written only under --backup-dir (never a path from the client) and synchronously:
 * the answer comes once the copy and its manifest are on disk. */
#include <dirent.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/api.h"
#include "server/backup.h"
#include "server/options.h"
#include "server/query.h"
#include "server/rows.h"

#define AUDIT_READERS (SRV_ROLE_ADMIN | SRV_ROLE_VIEWER)
#define CSV_MAX_ROWS  100000

/* ---------------------------------------------------------------- audit trail */

#define AUDIT_COLUMNS                                                                              \
    "id, at, actor, token_id, action, entity_type, entity_id, client, details, prev_hash, hash"

/* "2025-03-01" or "2025-03-01T09:30:00Z" (any prefix of an ISO 8601 UTC instant from the day on):
 * what the `at` column can be compared with as text. */
static int iso_prefix(const char *v)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
    size_t n = strlen(v);
    if (n < 10 || n > sizeof shape - 1)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (shape[i] == 'd' ? v[i] < '0' || v[i] > '9' : v[i] != shape[i])
            return 0;
    return 1;
}

/* The WHERE clause of the filters given, with their values appended to args. 0, or -1 after
 * answering 422. */
static int audit_filters(srv_request *req, char *where, size_t n, json_t *args)
{
    /* Each clause numbers its parameter (%d: its position in args), so patient_id can use its
     * one value twice. The SQL is constant; only the values come from the request. */
    enum { TEXT, INTEGER, INSTANT };
    static const struct {
        const char *key, *sql;
        int kind;
    } filters[] = {
        {"actor", " AND actor = ?%d", TEXT},
        {"action", " AND action = ?%d", TEXT},
        {"entity_type", " AND entity_type = ?%d", TEXT},
        {"entity_id", " AND entity_id = ?%d", INTEGER},
        {"patient_id",
         " AND ((entity_type = 'patient' AND entity_id = ?%1$d) OR "
         "json_extract(details, '$.patient_id') = ?%1$d)",
         INTEGER},
        {"from", " AND at >= ?%d", INSTANT},
        {"to", " AND at < ?%d", INSTANT},
        {"cursor", " AND id > ?%d", INTEGER},
    };
    size_t used = (size_t)snprintf(where, n, "WHERE 1");
    for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++) {
        const char *v = srv_query(req, filters[i].key);
        long val = 0;
        if (!v)
            continue;
        if (filters[i].kind == INTEGER && srv_query_int(req, filters[i].key, 0, LONG_MAX, 0, &val))
            return -1;
        if (filters[i].kind == INSTANT && !iso_prefix(v)) {
            srv_reply_error(req, 422, "invalid_value", filters[i].key,
                            "%s must be a day or an instant: 2025-03-01 or 2025-03-01T09:30:00Z",
                            filters[i].key);
            return -1;
        }
        used += (size_t)snprintf(where + used, used < n ? n - used : 0, filters[i].sql,
                                 (int)json_array_size(args) + 1);
        json_array_append_new(args,
                              filters[i].kind == INTEGER ? json_integer(val) : json_string(v));
    }
    if (used >= n) {
        srv_reply_internal(req, "audit filter too long");
        return -1;
    }
    return 0;
}

/* The details column back as JSON (it is stored as JSON text). */
static void parse_details(json_t *rows)
{
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        const char *text = json_string_value(json_object_get(row, "details"));
        json_t *parsed = text ? json_loads(text, 0, NULL) : NULL;
        if (parsed)
            json_object_set_new(row, "details", parsed);
    }
}

/* One CSV field: quoted when needed (RFC 4180); a leading = + - @ gets a ' so a spreadsheet
 * does not run it as a formula. */
static void csv_field(FILE *f, json_t *v, int last)
{
    char num[32];
    const char *s =
        json_is_string(v) ? json_string_value(v)
        : json_is_integer(v)
            ? (snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v)), num)
            : "";
    int formula = s[0] && strchr("=+-@", s[0]);
    if (formula || strpbrk(s, ",\"\r\n")) {
        fputc('"', f);
        if (formula)
            fputc('\'', f);
        for (; *s; s++) {
            if (*s == '"')
                fputc('"', f);
            fputc(*s, f);
        }
        fputc('"', f);
    } else {
        fputs(s, f);
    }
    fputs(last ? "\r\n" : ",", f);
}

static enum MHD_Result audit_csv(srv_request *req, json_t *rows, int64_t next)
{
    static const char *const cols[] = {"id",      "at",          "actor",     "token_id",
                                       "action",  "entity_type", "entity_id", "client",
                                       "details", "prev_hash",   "hash"};
    const size_t ncols = sizeof cols / sizeof cols[0];
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return srv_reply_internal(req, "out of memory");
    for (size_t c = 0; c < ncols; c++)
        fprintf(f, "%s%s", cols[c], c + 1 < ncols ? "," : "\r\n");
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        for (size_t c = 0; c < ncols; c++)
            csv_field(f, json_object_get(row, cols[c]), c + 1 == ncols);
    }
    fclose(f);
    enum MHD_Result ret = srv_reply_bytes(req, 200, "text/csv; charset=utf-8", buf, len);
    free(buf);
    if (req->response) {
        char cur[32];
        MHD_add_response_header(req->response, "Content-Disposition",
                                "attachment; filename=\"audit.csv\"");
        if (next > 0) {
            snprintf(cur, sizeof cur, "%" PRId64, next);
            MHD_add_response_header(req->response, "X-Next-Cursor", cur);
        }
    }
    return ret;
}

static int wants_csv(srv_request *req, int *csv)
{
    static const char *const formats[] = {"json", "csv", NULL};
    int f;
    if (srv_query_enum(req, "format", formats, &f))
        return -1;
    const char *accept = srv_header(req, MHD_HTTP_HEADER_ACCEPT);
    *csv = f == 1 || (f < 0 && accept && strstr(accept, "text/csv"));
    return 0;
}

static enum MHD_Result audit_list(srv_request *req)
{
    static const char *const allowed[] = {"actor",      "action", "entity_type", "entity_id",
                                          "patient_id", "from",   "to",          "cursor",
                                          "limit",      "format", NULL};
    char where[1024], sql[1400];
    long limit;
    int csv;
    if (srv_query_check(req, allowed) || wants_csv(req, &csv) ||
        srv_query_int(req, "limit", 1, csv ? CSV_MAX_ROWS : 1000, csv ? CSV_MAX_ROWS : 100, &limit))
        return MHD_YES;
    json_t *args = json_array();
    if (!args)
        return srv_reply_internal(req, "out of memory");
    if (audit_filters(req, where, sizeof where, args)) {
        json_decref(args);
        return MHD_YES;
    }
    /* One row more than asked tells whether there is a next page. */
    snprintf(sql, sizeof sql, "SELECT " AUDIT_COLUMNS " FROM audit_log %s ORDER BY id LIMIT %ld",
             where, limit + 1);
    json_t *rows = srv_rows_query_new(req->db, sql, args);
    json_decref(args);
    if (!rows)
        return srv_reply_internal(req, "cannot read the audit trail");
    int64_t next = 0;
    if (json_array_size(rows) > (size_t)limit) {
        json_array_remove(rows, (size_t)limit);
        next = json_integer_value(json_object_get(json_array_get(rows, (size_t)limit - 1), "id"));
    }
    if (csv) {
        enum MHD_Result ret = audit_csv(req, rows, next);
        json_decref(rows);
        return ret;
    }
    parse_details(rows);
    char cur[32];
    snprintf(cur, sizeof cur, "%" PRId64, next);
    return srv_reply_json(
        req, 200, json_pack("{s:o, s:s?}", "entries", rows, "next_cursor", next ? cur : NULL));
}

static enum MHD_Result audit_verify(srv_request *req)
{
    srv_audit_check c;
    if (srv_audit_verify(req->db, &c))
        return srv_reply_internal(req, "cannot read the audit trail");
    return srv_reply_json(req, 200,
                          json_pack("{s:b, s:I, s:I, s:s?, s:{s:I, s:s}}", "ok", c.ok, "rows",
                                    (json_int_t)c.rows, "broken_id", (json_int_t)c.broken_id,
                                    "reason", c.ok ? NULL : c.reason, "head", "id",
                                    (json_int_t)c.head_id, "hash", c.head_hash));
}

/* ---------------------------------------------------------------- backups */

static enum MHD_Result backup_create(srv_request *req)
{
    char parent[4096], dir[4096], err[1024];
    srv_backup_info info;
    srv_backup_default_dir(req->cfg, parent, sizeof parent);
    if (srv_backup_new_dir(parent, "backup", dir, sizeof dir, err, sizeof err) ||
        srv_backup_create(req->db, req->cfg->data_dir, dir, &info, err, sizeof err)) {
        srv_log(SRV_LOG_ERROR, "backup failed: %s", err);
        return srv_reply_error(req, 507, "backup_failed", NULL,
                               "the backup could not be written (see the daemon's log)");
    }
    json_t *answer = srv_backup_info_json_new(&info);
    json_t *details =
        json_pack("{s:s, s:I, s:I}", "name", json_string_value(json_object_get(answer, "name")),
                  "files", (json_int_t)info.files, "bytes", (json_int_t)info.bytes);
    int bad = !answer || !details || srv_audit(req, "backup", "store", 0, details);
    json_decref(details);
    if (bad) {
        json_decref(answer);
        return srv_reply_internal(req, "cannot audit a backup");
    }
    srv_log(SRV_LOG_INFO, "backup of %lld files (%lld bytes) in %s", (long long)info.files,
            (long long)info.bytes, dir);
    return srv_reply_json(req, 201, json_pack("{s:o}", "backup", answer));
}

/* Names start with their kind and UTC time: sorting by name sorts each kind by time. */
static const char *backup_name(const json_t *backup)
{
    const char *name = json_string_value(json_object_get(backup, "name"));
    return name ? name : "";
}

static int by_backup_name(const void *a, const void *b)
{
    return strcmp(backup_name(*(json_t *const *)a), backup_name(*(json_t *const *)b));
}

/* The finished backups of dir (a folder with backup.json and SHA256SUMS) into *found (new
 * references, in folder order; free each and the array). 0, or -1 when memory is short. */
static int read_backups(const char *dir, json_t ***found, size_t *n)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t cap = 0;
    *found = NULL;
    *n = 0;
    while (d && (e = readdir(d))) {
        char meta[4096 + 300], sums[4096 + 300];
        if (e->d_name[0] == '.')
            continue;
        snprintf(meta, sizeof meta, "%s/%s/backup.json", dir, e->d_name);
        snprintf(sums, sizeof sums, "%s/%s/SHA256SUMS", dir, e->d_name);
        json_t *j = access(sums, R_OK) == 0 ? json_load_file(meta, 0, NULL) : NULL;
        if (!j)
            continue;
        if (*n == cap) {
            json_t **bigger = realloc(*found, (cap = cap ? 2 * cap : 16) * sizeof *bigger);
            if (!bigger) {
                json_decref(j);
                closedir(d);
                return -1;
            }
            *found = bigger;
        }
        (*found)[(*n)++] = j;
    }
    if (d)
        closedir(d);
    return 0;
}

/* The finished backups by name, a page at a time (limit, cursor): the cursor holds the last name
 * seen (its first 63 characters: the daemon's names are far shorter). */
static enum MHD_Result backup_list(srv_request *req)
{
    char parent[4096];
    srv_cursor after;
    long limit;
    json_t **found;
    size_t n;
    if (srv_query_int(req, "limit", 1, 1000, 100, &limit) || srv_query_cursor(req, &after))
        return srv_validate_done(req);
    srv_backup_default_dir(req->cfg, parent, sizeof parent);
    if (read_backups(parent, &found, &n))
        return srv_reply_internal(req, "out of memory");
    if (n)
        qsort(found, n, sizeof *found, by_backup_name);
    json_t *page = json_array();
    for (size_t i = 0; i < n; i++) {
        /* One row more than asked tells srv_reply_page whether there is a next page. */
        if (page && (long)json_array_size(page) <= limit &&
            (!after.present || strncmp(backup_name(found[i]), after.key, sizeof after.key - 1) > 0))
            json_array_append(page, found[i]);
        json_decref(found[i]);
    }
    free(found);
    return srv_reply_page(req, "backups", page, limit, NULL, "name");
}

const srv_route srv_admin_routes[] = {
    {.method = "GET",
     .path = "/api/v1/admin/audit",
     .handler = audit_list,
     .roles = AUDIT_READERS,
     .query = (const char *const[]){"actor", "action", "entity_type", "entity_id", "patient_id",
                                    "from", "to", "cursor", "limit", "format", NULL}},
    {.method = "GET",
     .path = "/api/v1/admin/audit/verify",
     .handler = audit_verify,
     .roles = AUDIT_READERS},
    {.method = "POST",
     .path = "/api/v1/admin/backups",
     .handler = backup_create,
     .roles = SRV_ROLE_ADMIN},
    {.method = "GET",
     .path = "/api/v1/admin/backups",
     .handler = backup_list,
     .roles = SRV_ROLE_ADMIN,
     .query = (const char *const[]){"limit", "cursor", NULL}},
    {0},
};
