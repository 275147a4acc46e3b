/* Replies: every JSON answer and every error leaves through here, so the error shape is one:
 *   {"error": {"code": "...", "message": "...", "field": "..."}}   (field omitted when NULL) */
#ifndef SRV_REPLY_H
#define SRV_REPLY_H

#include "core/status.h"
#include "server/http.h"
#include "server/status.h"

/* Sends body (stolen: the reference is consumed, even on failure) with the given status. */
enum MHD_Result srv_reply_json(srv_request *req, unsigned status, json_t *body);
/* Sends JSON already written as text (len bytes of malloc'd memory, stolen: freed once sent
 * or on failure) with the given status, as srv_reply_json does a body; NULL answers 500. For
 * the list pages written straight from SQL rows (rows.h: srv_text). */
enum MHD_Result srv_reply_json_text(srv_request *req, unsigned status, char *text, size_t len);
/* Sends an error. code: a stable machine word ("not_found", "invalid_field", "conflict", ...);
 * field: the offending JSON field or parameter, or NULL. File paths in the message are replaced
 * (srv_scrub_paths): a client never learns the server's layout. */
enum MHD_Result srv_reply_error(srv_request *req, unsigned status, const char *code,
                                const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Answers a failure of the core (core/status.h): the one place core errors become HTTP. A
 * failure the data explains (srv_status_of_core() gives SRV_CLIENT: bad input, unknown build,
 * mismatch) is 422 with code, field (or NULL) and the message; any other (I/O, memory, a bug)
 * is 500 "internal", the message going to the log only. */
enum MHD_Result srv_reply_core_error(srv_request *req, rw_status st, const char *code,
                                     const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Answers a look-up by its status: SRV_OK sends row (stolen) with 200, SRV_NOT_FOUND is 404
 * "not_found" ("no such <what>"), anything else 500 (logged as "cannot read <what>"). */
enum MHD_Result srv_reply_lookup(srv_request *req, srv_status st, json_t *row, const char *what);
/* Answers 200 {key: rows} (rows stolen), or 500 when rows is NULL (the query failed). */
enum MHD_Result srv_reply_list(srv_request *req, const char *key, json_t *rows);
/* Replaces every file path in msg (a NUL-terminated string in a buffer of size bytes) by "the
 * uploaded file": absolute paths ("/srv/data/samples/6/ab.bam", but not API paths "/api/...")
 * and relative ones with two folders or more ("var/data/samples/6/ab.bam"). Every error answer
 * passes through it (srv_reply_error); use it on any other text a client sees (jobs.error). */
void srv_scrub_paths(char *msg, size_t size);
/* Sends raw bytes with a content type (copied). */
enum MHD_Result srv_reply_bytes(srv_request *req, unsigned status, const char *content_type,
                                const void *data, size_t len);
/* 500 with code "internal"; the detail goes to the log, not to the client. */
enum MHD_Result srv_reply_internal(srv_request *req, const char *log_detail);

#endif
