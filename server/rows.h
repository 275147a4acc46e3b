/* SQL rows as JSON objects (column name -> value): the storage side of the JSON resources.
 * JSON rule: functions whose name ends in _new return a new reference; every json_t argument is
 * borrowed. Table and column names are always constants of the caller, never request data, so
 * building SQL from them is safe. */
#ifndef SRV_ROWS_H
#define SRV_ROWS_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "server/status.h"

/* Runs sql with the values of the array args bound in order (strings, integers, reals, null);
 * returns a new array holding one object per row, or NULL on an SQL error (logged). */
json_t *srv_rows_query_new(sqlite3 *db, const char *sql, json_t *args);
/* The row of table whose column equals key, as a new object in *row: SRV_OK, SRV_NOT_FOUND or
 * SRV_INTERNAL (SQL error, logged); *row is NULL unless SRV_OK. */
srv_status srv_row_find(sqlite3 *db, const char *table, const char *column, json_t *key,
                        json_t **row);
/* Same, by integer id. */
srv_status srv_row_by_id(sqlite3 *db, const char *table, int64_t id, json_t **row);

/* INSERTs one row with the columns and values of `values`; returns its id or -1 (logged). */
int64_t srv_row_insert(sqlite3 *db, const char *table, json_t *values);
/* UPDATEs the row `id` with `values` and sets updated_at to now. 0 on success, -1 (logged). */
int srv_row_update(sqlite3 *db, const char *table, int64_t id, json_t *values);
/* DELETEs the row `id`. 0 on success, -1 (logged). */
int srv_row_delete(sqlite3 *db, const char *table, int64_t id);
/* Audit details of an update: a new {"before": {changed keys as stored}, "after": values}. */
json_t *srv_row_changes_new(json_t *before, json_t *values);

/* Runs sql (one `?` for id) and turns its row into a new object with pack(st): SRV_OK with *out
 * set, SRV_NOT_FOUND when there is no row, SRV_INTERNAL on an SQL error or when pack fails
 * (returns NULL). For answers shaped by hand rather than SELECT *. */
srv_status srv_row_packed(sqlite3 *db, const char *sql, int64_t id,
                          json_t *(*pack)(sqlite3_stmt *st), json_t **out);
/* The objects get() gives for each id in the first column of the rows of the prepared ids
 * (stepped to its end, not finalized), as a new array; NULL when a look-up or the query fails. */
json_t *srv_rows_of_ids_new(sqlite3 *db, sqlite3_stmt *ids,
                            srv_status (*get)(sqlite3 *db, int64_t id, json_t **out));

/* Column i of the current row of st as a JSON string, or null when NULL (new). */
json_t *srv_col_text_new(sqlite3_stmt *st, int i);
/* The 0/1 values SQLite stores for the NULL-terminated keys, as JSON booleans, in every object of
 * rows (an array, or NULL: nothing to do). */
void srv_rows_booleans(json_t *rows, const char *const *keys);

/* ---------------------------------------------------------------- JSON text from rows */

/* A growing text, written straight from SQL rows for the list pages: building a jansson object
 * per value and dumping them cost ten times the SQL (4.3 M instructions for a page of 50
 * patients). Every writer below gives, byte for byte, what json_dumps(JSON_COMPACT) gives for
 * the values srv_rows_query_new() builds. A failed allocation sets `failed`, after which every
 * write does nothing: write straight through, check once at the end. */
typedef struct srv_text {
    char *s;    /* NUL-terminated; the caller's to free() (or to hand to srv_reply_json_text) */
    size_t len; /* bytes written */
    size_t cap;
    int failed;
} srv_text;

/* Makes room for n more bytes and the NUL: 0, or -1 with failed set (and cap 0, so that every
 * later write comes here and does nothing). */
int srv_text_reserve(srv_text *t, size_t n);
/* Appends n bytes as they are (inline: the writers below call it for every piece). */
static inline void srv_text_raw(srv_text *t, const char *s, size_t n)
{
    if (t->len + n >= t->cap && srv_text_reserve(t, n))
        return;
    memcpy(t->s + t->len, s, n);
    t->len += n;
    t->s[t->len] = '\0';
}
/* Appends a string literal as it is. */
#define srv_text_lit(t, lit) srv_text_raw((t), "" lit, sizeof(lit) - 1)
/* Appends s (n bytes of UTF-8) as a JSON string, escaped as jansson escapes. */
void srv_text_string(srv_text *t, const char *s, size_t n);
/* Appends an integer, or a real as jansson writes it (17 significant digits, always a `.` or an
 * exponent; null when not finite). */
void srv_text_int(srv_text *t, int64_t v);
void srv_text_real(srv_text *t, double v);
/* Appends column i of the current row of st as srv_rows_query_new() types it: integer, real,
 * string, or null (a BLOB too). */
void srv_text_column(srv_text *t, sqlite3_stmt *st, int i);
/* Appends the first ncols columns of the current row of st as an object keyed by column name,
 * in column order (what srv_rows_query_new() makes of the row). */
void srv_text_row(srv_text *t, sqlite3_stmt *st, int ncols);

#endif
