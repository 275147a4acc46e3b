/* Replies: builds every response. The response is not queued here but parked in req->response;
 * http.c queues it when MHD allows (MHD refuses a response while a body is still arriving), so
 * a handler or chunk callback may answer at any point. */
#include "server/reply.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/idempotency.h"
#include "server/location.h"
#include "server/log.h"

/* Parks resp as req's answer (takes ownership). The first answer wins: a second one is a bug,
 * logged and dropped, so a handler can never send two. */
static enum MHD_Result park(srv_request *req, unsigned status, struct MHD_Response *resp)
{
    if (!resp) {
        srv_log(SRV_LOG_ERROR, "cannot create a response (out of memory)");
        return MHD_NO;
    }
    if (req->response) {
        srv_log(SRV_LOG_ERROR, "req=%s: second answer (%u) dropped", req->request_id, status);
        MHD_destroy_response(resp);
        return MHD_YES;
    }
    req->response = resp; /* http.c adds the security headers and X-Request-Id when queuing */
    req->status = status;
    req->answered = 1;
    return MHD_YES;
}

enum MHD_Result srv_reply_bytes(srv_request *req, unsigned status, const char *content_type,
                                const void *data, size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
    if (resp && content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    return park(req, status, resp);
}

/* Sends text (malloc'd JSON, len bytes, stolen) with status and, when not NULL, a Location
 * (stolen too). */
static enum MHD_Result send_json_text(srv_request *req, unsigned status, char *text, size_t len,
                                      char *location)
{
    srv_idempotency_capture(req, status, text, len); /* kept when the request has a key */
    /* MHD frees the text with free() once sent: no copy. */
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        free(location);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (location)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, location);
    free(location);
    return park(req, status, resp);
}

enum MHD_Result srv_reply_json(srv_request *req, unsigned status, json_t *body)
{
    if (!body)
        return srv_reply_internal(req, "NULL JSON body (out of memory?)");
    char *text = json_dumps(body, JSON_COMPACT);
    /* 201/202: where the new resource lives or the job to poll (location.h); NULL when none. */
    char *location = status == 201 || status == 202 ? srv_location_new(req, body) : NULL;
    json_decref(body);
    if (!text) {
        free(location);
        return srv_reply_internal(req, "json_dumps failed");
    }
    return send_json_text(req, status, text, strlen(text), location);
}

enum MHD_Result srv_reply_json_text(srv_request *req, unsigned status, char *text, size_t len)
{
    if (!text)
        return srv_reply_internal(req, "NULL JSON text (out of memory?)");
    return send_json_text(req, status, text, len, NULL);
}

/* ---------------------------------------------------------------- paths out of messages */

static int is_path_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("/._-~+@%", c) != NULL;
}

/* Where a word may start: the message's start or after a space, quote or opening bracket. */
static int starts_word(const char *msg, size_t i)
{
    return i == 0 || strchr(" \t'\"(<[=,", msg[i - 1]) != NULL;
}

/* Length of the file path starting at msg + i, or 0: an absolute path ("/x/y", not an API path
 * "/api/...") or a relative one with at least two folders ("data/samples/6/x.bam"). */
static size_t path_at(const char *msg, size_t i)
{
    size_t n = 0, slashes = 0;
    if (!starts_word(msg, i))
        return 0;
    while (msg[i + n] && is_path_char(msg[i + n]))
        slashes += msg[i + n++] == '/';
    while (n > 1 && msg[i + n - 1] == '.') /* a sentence's full stop is not part of it */
        n--;
    if (msg[i] == '/')
        return n > 1 && strncmp(msg + i, "/api/", 5) != 0 ? n : 0;
    return slashes >= 2 ? n : 0;
}

void srv_scrub_paths(char *msg, size_t size)
{
    static const char neutral[] = "the uploaded file";
    char out[1024];
    size_t o = 0;
    if (!msg || !size)
        return;
    for (size_t i = 0; msg[i] && o + 1 < sizeof out;) {
        size_t n = path_at(msg, i);
        if (n) {
            size_t k = sizeof neutral - 1;
            if (o + k >= sizeof out)
                break;
            memcpy(out + o, neutral, k);
            o += k;
            i += n;
        } else {
            out[o++] = msg[i++];
        }
    }
    out[o] = '\0';
    snprintf(msg, size, "%s", out);
}

/* ---------------------------------------------------------------- errors */

enum MHD_Result srv_reply_error(srv_request *req, unsigned status, const char *code,
                                const char *field, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    srv_scrub_paths(msg, sizeof msg); /* a core or I/O message may name a server file */
    json_t *err = json_pack("{s:s, s:s}", "code", code, "message", msg);
    if (err && field)
        json_object_set_new(err, "field", json_string(field));
    return srv_reply_json(req, status, err ? json_pack("{s:o}", "error", err) : NULL);
}

enum MHD_Result srv_reply_internal(srv_request *req, const char *log_detail)
{
    srv_log(SRV_LOG_ERROR, "req=%s: %s", req->request_id,
            log_detail ? log_detail : "internal error");
    /* Built by hand: the failure may have been an allocation, and this must still answer. */
    static const char body[] =
        "{\"error\":{\"code\":\"internal\",\"message\":\"internal server error\"}}";
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(sizeof body - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
    if (resp)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    return park(req, MHD_HTTP_INTERNAL_SERVER_ERROR, resp);
}

enum MHD_Result srv_reply_core_error(srv_request *req, rw_status st, const char *code,
                                     const char *field, const char *fmt, ...)
{
    char msg[512], detail[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (st != RW_OK && srv_status_of_core(st) == SRV_CLIENT)
        return srv_reply_error(req, 422, code, field, "%s", msg);
    snprintf(detail, sizeof detail, "core: %s: %s", rw_strerror(st), msg);
    return srv_reply_internal(req, detail);
}

enum MHD_Result srv_reply_lookup(srv_request *req, srv_status st, json_t *row, const char *what)
{
    char detail[128];
    if (st == SRV_OK)
        return srv_reply_json(req, 200, row);
    json_decref(row);
    if (st == SRV_NOT_FOUND)
        return srv_reply_error(req, 404, "not_found", NULL, "no such %s", what);
    snprintf(detail, sizeof detail, "cannot read %s", what);
    return srv_reply_internal(req, detail);
}

enum MHD_Result srv_reply_list(srv_request *req, const char *key, json_t *rows)
{
    char detail[96];
    if (rows)
        return srv_reply_json(req, 200, json_pack("{s:o}", key, rows));
    snprintf(detail, sizeof detail, "cannot list %s", key);
    return srv_reply_internal(req, detail);
}
