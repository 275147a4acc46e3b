/* SQL rows as JSON objects (see rows.h). */
#include "server/rows.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/db.h"
#include "server/log.h"

static int bind_value(sqlite3_stmt *st, int i, json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        return sqlite3_bind_text(st, i, json_string_value(v), (int)json_string_length(v),
                                 SQLITE_TRANSIENT);
    case JSON_INTEGER:
        return sqlite3_bind_int64(st, i, (sqlite3_int64)json_integer_value(v));
    case JSON_REAL:
        return sqlite3_bind_double(st, i, json_real_value(v));
    case JSON_NULL:
        return sqlite3_bind_null(st, i);
    default:
        return SQLITE_MISMATCH; /* objects and booleans are never stored */
    }
}

static json_t *column_value_new(sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER:
        return json_integer((json_int_t)sqlite3_column_int64(st, i));
    case SQLITE_FLOAT:
        return json_real(sqlite3_column_double(st, i));
    case SQLITE_TEXT:
        return json_stringn((const char *)sqlite3_column_text(st, i),
                            (size_t)sqlite3_column_bytes(st, i));
    default:
        return json_null();
    }
}

json_t *srv_rows_query_new(sqlite3 *db, const char *sql, json_t *args)
{
    sqlite3_stmt *st = srv_db_prepare(db, sql);
    json_t *rows = NULL;
    size_t i;
    json_t *v;
    int rc;

    if (!st)
        return NULL;
    json_array_foreach(args, i, v)
    {
        if (bind_value(st, (int)i + 1, v) != SQLITE_OK) {
            srv_log(SRV_LOG_ERROR, "cannot bind parameter %zu: %s", i + 1, sqlite3_errmsg(db));
            goto fail;
        }
    }
    rows = json_array();
    if (!rows)
        goto fail;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *row = json_object();
        if (!row || json_array_append_new(rows, row))
            goto fail;
        for (int c = 0; c < sqlite3_column_count(st); c++)
            if (json_object_set_new(row, sqlite3_column_name(st, c), column_value_new(st, c)))
                goto fail;
    }
    if (rc != SQLITE_DONE) {
        srv_log(SRV_LOG_ERROR, "query failed: %s", sqlite3_errmsg(db));
        goto fail;
    }
    sqlite3_finalize(st);
    return rows;
fail:
    sqlite3_finalize(st);
    json_decref(rows);
    return NULL;
}

srv_status srv_row_find(sqlite3 *db, const char *table, const char *column, json_t *key,
                        json_t **row)
{
    char sql[160];
    json_t *args = json_pack("[O]", key);
    json_t *rows;

    snprintf(sql, sizeof sql, "SELECT * FROM %s WHERE %s = ?", table, column);
    rows = args ? srv_rows_query_new(db, sql, args) : NULL;
    json_decref(args);
    *row = NULL;
    if (!rows)
        return SRV_INTERNAL;
    *row = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    return *row ? SRV_OK : SRV_NOT_FOUND;
}

srv_status srv_row_by_id(sqlite3 *db, const char *table, int64_t id, json_t **row)
{
    json_t *key = json_integer((json_int_t)id);
    srv_status st = key ? srv_row_find(db, table, "id", key, row) : SRV_INTERNAL;
    json_decref(key);
    return st;
}

/* Runs a write statement; 0 on SQLITE_DONE. */
static int run_write(sqlite3 *db, const char *sql, json_t *values, int64_t id)
{
    sqlite3_stmt *st = srv_db_prepare(db, sql);
    const char *key;
    json_t *v;
    int i = 0, rc = SQLITE_ERROR;

    if (!st)
        return -1;
    json_object_foreach(values, key, v)
    {
        (void)key;
        if ((rc = bind_value(st, ++i, v)) != SQLITE_OK)
            goto done;
    }
    if (id > 0 && (rc = sqlite3_bind_int64(st, ++i, id)) != SQLITE_OK)
        goto done;
    rc = sqlite3_step(st);
done:
    if (rc != SQLITE_DONE)
        srv_log(SRV_LOG_ERROR, "write failed: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Appends s to buf (size cap); -1 when it does not fit. */
static int append(char *buf, size_t cap, size_t *len, const char *s)
{
    size_t n = strlen(s);
    if (*len + n >= cap)
        return -1;
    memcpy(buf + *len, s, n + 1);
    *len += n;
    return 0;
}

int64_t srv_row_insert(sqlite3 *db, const char *table, json_t *values)
{
    char cols[512] = "", marks[128] = "", sql[768];
    size_t nc = 0, nm = 0;
    const char *key;
    json_t *v;

    json_object_foreach(values, key, v)
    {
        (void)v;
        if ((nc && append(cols, sizeof cols, &nc, ", ")) || append(cols, sizeof cols, &nc, key) ||
            append(marks, sizeof marks, &nm, nm ? ", ?" : "?"))
            return -1;
    }
    snprintf(sql, sizeof sql, "INSERT INTO %s (%s) VALUES (%s)", table, cols, marks);
    if (run_write(db, sql, values, 0))
        return -1;
    return (int64_t)sqlite3_last_insert_rowid(db);
}

int srv_row_update(sqlite3 *db, const char *table, int64_t id, json_t *values)
{
    char sets[512] = "", sql[640];
    size_t n = 0;
    const char *key;
    json_t *v;

    json_object_foreach(values, key, v)
    {
        (void)v;
        if (append(sets, sizeof sets, &n, key) || append(sets, sizeof sets, &n, " = ?, "))
            return -1;
    }
    snprintf(sql, sizeof sql,
             "UPDATE %s SET %supdated_at = strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ', 'now') "
             "WHERE id = ?",
             table, sets);
    return run_write(db, sql, values, id);
}

int srv_row_delete(sqlite3 *db, const char *table, int64_t id)
{
    char sql[96];
    snprintf(sql, sizeof sql, "DELETE FROM %s WHERE id = ?", table);
    return run_write(db, sql, NULL, id);
}

json_t *srv_row_changes_new(json_t *before, json_t *values)
{
    json_t *old = json_object();
    const char *key;
    json_t *v;

    if (!old)
        return NULL;
    json_object_foreach(values, key, v)
    {
        (void)v;
        json_t *b = json_object_get(before, key);
        json_object_set_new(old, key, b ? json_incref(b) : json_null());
    }
    return json_pack("{s:o, s:O}", "before", old, "after", values);
}

json_t *srv_col_text_new(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL
               ? json_null()
               : json_string((const char *)sqlite3_column_text(st, i));
}

void srv_rows_booleans(json_t *rows, const char *const *keys)
{
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        for (const char *const *k = keys; *k; k++)
            json_object_set_new(row, *k,
                                json_boolean(json_integer_value(json_object_get(row, *k)) != 0));
    }
}

srv_status srv_row_packed(sqlite3 *db, const char *sql, int64_t id,
                          json_t *(*pack)(sqlite3_stmt *st), json_t **out)
{
    sqlite3_stmt *st = srv_db_prepare(db, sql);
    srv_status rc = SRV_INTERNAL;
    *out = NULL;
    if (!st)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW)
        rc = (*out = pack(st)) ? SRV_OK : SRV_INTERNAL;
    else if (s == SQLITE_DONE)
        rc = SRV_NOT_FOUND;
    sqlite3_finalize(st);
    return rc;
}

json_t *srv_rows_of_ids_new(sqlite3 *db, sqlite3_stmt *ids,
                            srv_status (*get)(sqlite3 *db, int64_t id, json_t **out))
{
    json_t *all = json_array(), *one;
    int rc = SQLITE_ERROR;
    while (all && (rc = sqlite3_step(ids)) == SQLITE_ROW) {
        if (get(db, sqlite3_column_int64(ids, 0), &one) != SRV_OK)
            break;
        json_array_append_new(all, one);
    }
    if (rc != SQLITE_DONE) {
        json_decref(all);
        return NULL;
    }
    return all;
}

/* ---------------------------------------------------------------- JSON text from rows */

int srv_text_reserve(srv_text *t, size_t n)
{
    if (t->failed)
        return -1;
    if (t->len + n < t->cap)
        return 0;
    size_t cap = t->cap ? t->cap : 16384;
    while (t->len + n >= cap)
        cap *= 2;
    char *s = realloc(t->s, cap);
    if (!s) {
        t->failed = 1;
        t->cap = 0;
        return -1;
    }
    t->s = s;
    t->cap = cap;
    return 0;
}

/* The escape of byte c (below 0x20, '"' or '\\') into esc, as jansson writes it; its length. */
static size_t escape_of(unsigned char c, char esc[6])
{
    static const char hex[] = "0123456789ABCDEF";
    esc[0] = '\\';
    switch (c) {
    case '"':
    case '\\':
        esc[1] = (char)c;
        return 2;
    case '\b':
        esc[1] = 'b';
        return 2;
    case '\f':
        esc[1] = 'f';
        return 2;
    case '\n':
        esc[1] = 'n';
        return 2;
    case '\r':
        esc[1] = 'r';
        return 2;
    case '\t':
        esc[1] = 't';
        return 2;
    default:
        memcpy(esc + 1, "u00", 3);
        esc[4] = hex[c >> 4];
        esc[5] = hex[c & 15];
        return 6;
    }
}

/* The bytes a JSON string escapes: below 0x20, '"' and '\\'. */
static int needs_escape(unsigned char c)
{
    return c < 0x20 || c == '"' || c == '\\';
}

void srv_text_string(srv_text *t, const char *s, size_t n)
{
    size_t i = 0, run = 0; /* run: start of the bytes not yet copied */
    while (i < n && !needs_escape((unsigned char)s[i]))
        i++;
    if (i == n && t->len + n + 2 < t->cap) { /* the usual case: nothing to escape, room */
        char *o = t->s + t->len;
        o[0] = '"';
        memcpy(o + 1, s, n);
        o[n + 1] = '"';
        o[n + 2] = '\0';
        t->len += n + 2;
        return;
    }
    srv_text_lit(t, "\"");
    for (; i < n; i++) {
        if (!needs_escape((unsigned char)s[i]))
            continue;
        char esc[6];
        size_t k = escape_of((unsigned char)s[i], esc);
        srv_text_raw(t, s + run, i - run);
        srv_text_raw(t, esc, k);
        run = i + 1;
    }
    srv_text_raw(t, s + run, n - run);
    srv_text_lit(t, "\"");
}

void srv_text_int(srv_text *t, int64_t v)
{
    char buf[24], *p = buf + sizeof buf;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do
        *--p = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        *--p = '-';
    srv_text_raw(t, p, (size_t)(buf + sizeof buf - p));
}

void srv_text_real(srv_text *t, double v)
{
    char buf[40];
    if (!isfinite(v)) {
        srv_text_lit(t, "null");
        return;
    }
    /* jansson's form: %.17g, then ".0" when it reads as an integer, and the exponent without
     * its '+' and leading zeros ("1e+20" -> "1e20", "1e-05" -> "1e-5"). */
    int n = snprintf(buf, sizeof buf - 2, "%.17g", v);
    char *e = strchr(buf, 'e');
    if (!e && !strchr(buf, '.')) {
        memcpy(buf + n, ".0", 3);
        n += 2;
    }
    if (e) {
        char *from = e + 1, *to = e + 1;
        if (*from == '+')
            from++;
        else if (*from == '-')
            from = ++to;
        while (*from == '0' && from[1])
            from++;
        memmove(to, from, strlen(from) + 1);
        n = (int)strlen(buf);
    }
    srv_text_raw(t, buf, (size_t)n);
}

void srv_text_column(srv_text *t, sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER:
        srv_text_int(t, sqlite3_column_int64(st, i));
        break;
    case SQLITE_FLOAT:
        srv_text_real(t, sqlite3_column_double(st, i));
        break;
    case SQLITE_TEXT: {
        const char *s = (const char *)sqlite3_column_text(st, i);
        srv_text_string(t, s, (size_t)sqlite3_column_bytes(st, i));
        break;
    }
    default:
        srv_text_lit(t, "null");
    }
}

void srv_text_row(srv_text *t, sqlite3_stmt *st, int ncols)
{
    srv_text_lit(t, "{");
    for (int c = 0; c < ncols; c++) {
        const char *name = sqlite3_column_name(st, c);
        if (c)
            srv_text_lit(t, ",");
        srv_text_string(t, name, strlen(name));
        srv_text_lit(t, ":");
        srv_text_column(t, st, c);
    }
    srv_text_lit(t, "}");
}
