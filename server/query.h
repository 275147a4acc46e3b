/* Query-string parameters of GET routes, strictly: an unknown key is an error (422
 * "unknown_field") rather than silently ignored, and a bad value names its key (422
 * "invalid_value"). Every function returns 0, or -1 after answering the request. */
#ifndef SRV_QUERY_H
#define SRV_QUERY_H

#include <stdint.h>

#include "server/http.h"

/* Answers 422 "unknown_field" (naming it) if the query string has a key not in the
 * NULL-terminated `allowed`. The router runs it for every route with the route's .query
 * (router.h), so a handler only reads its parameters. */
int srv_query_check(srv_request *req, const char *const *allowed);
/* The empty list: a route that reads no query parameter. */
extern const char *const srv_query_none[];
/* Integer parameter: absent -> *out = def; otherwise plain decimal digits within [lo, hi], else
 * 422 "invalid_value" ("key must be an integer from lo to hi"). */
int srv_query_int(srv_request *req, const char *key, long lo, long hi, long def, long *out);
/* Parameter that must be one of the NULL-terminated choices: *index is its position, or -1 when
 * absent; else 422 "invalid_value" ("key must be a, b or c"). */
int srv_query_enum(srv_request *req, const char *key, const char *const *choices, int *index);

/* updated_since=YYYY-MM-DDTHH:MM:SSZ (ISO 8601 UTC, as every updated_at; a bare date means its
 * midnight UTC): absent -> *out = NULL; else *out is the instant in that exact form (a
 * copy in buf) for comparing with the stored text, or 422 "invalid_value". */
int srv_query_updated_since(srv_request *req, char buf[32], const char **out);

/* Cursor paging. A cursor is opaque to clients: base64url of "<key>|<id>", where key is the
 * sort value of the page's last row ("" for lists in id order) and id its id, so the next page
 * starts strictly after that row (keyset: stable under inserts). */
typedef struct srv_cursor {
    int present;  /* 0: first page */
    int64_t id;   /* the last row's id */
    char key[64]; /* the last row's sort value ("" in id order) */
} srv_cursor;
/* Reads `cursor`: 0 (c->present 0 when absent), or 422 "invalid_value" for a cursor this server
 * did not give. */
int srv_query_cursor(srv_request *req, srv_cursor *c);
/* The cursor of a row whose sort value is key (NULL or "" in id order; 63 bytes at most are
 * kept) and whose id is id, as next_cursor gives it, into text. */
#define SRV_CURSOR_TEXT 132
void srv_cursor_text(const char *key, int64_t id, char text[SRV_CURSOR_TEXT]);
/* A page from rows (stolen) fetched with LIMIT limit + 1: keeps limit rows and answers 200
 * {list_key: rows, "next_cursor": cursor of the last kept row or null}; the cursor takes the row's
 * id_key and (when not NULL) sort_key; a list keyed by a unique sort value alone (backups by name)
 * passes id_key NULL, and its cursors carry id 1. 500 when rows is NULL. */
enum MHD_Result srv_reply_page(srv_request *req, const char *list_key, json_t *rows, long limit,
                               const char *id_key, const char *sort_key);

#endif
