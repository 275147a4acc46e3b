/* HTTP glue over libmicrohttpd: request life cycle, routing, auth and body handling before a
 * handler runs, static files, the request log line, and a clean stop.
 *
 * DESIGN. MHD runs a pool of cfg->threads threads, each with its own epoll loop. A request's
 * srv_request is allocated on the first access-handler call (*req_cls) and freed in the
 * completion callback, whatever happened in between. All checks that need only the headers
 * (404/405/401/403/415/413-by-Content-Length) answer on that first call, before any body is
 * read. Responses are parked in req->response by srv_reply_* and queued here, at the first call
 * or at the final one: MHD refuses a response while the body is still arriving, so an error
 * found mid-body (413 while buffering) discards the rest and is sent at the end. A database
 * connection is borrowed only for the auth check and the handler call, never across callbacks:
 * a thread serves many connections, and holding one while waiting for a slow client's body
 * could starve the pool. */
#include "server/http.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "server/audit.h"
#include "server/auth.h"
#include "server/db.h"
#include "server/guard.h"
#include "server/idempotency.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/options.h"
#include "server/query.h"
#include "server/reply.h"
#include "server/router.h"
#include "server/static_files.h"

struct srv_http {
    struct MHD_Daemon *mhd;
    const srv_config *cfg;
    srv_db *db;
    char *web_root; /* realpath of cfg->web_root, or NULL when it does not exist */
    atomic_int active;
    atomic_ullong next_id;
    char boot_id[9];  /* random per start: request ids stay unique across restarts */
    srv_guard *guard; /* head and body deadlines */
    char *tls_cert;   /* PEM texts handed to MHD (kept until the daemon stops) */
    char *tls_key;
};

/* Every answer's security headers. The pages load their scripts, styles and images from this
 * origin only (no inline code), may not be framed, and send no referrer; API answers carry the
 * same, harmless for JSON. */
/* Modern protocols only: TLS 1.3 and 1.2 with GnuTLS's NORMAL ciphers; 1.1, 1.0, SSL 3 refused. */
static const char tls_priorities[] = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2";

static const char csp[] = "default-src 'self'; script-src 'self'; style-src 'self'; "
                          "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; "
                          "form-action 'self'";

/* Strings owned by a request (decoded query values). */
struct srv_owned {
    struct srv_owned *next;
    char text[];
};

static double now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---------------------------------------------------------------- request accessors */

const char *srv_header(srv_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *srv_query(srv_request *req, const char *key)
{
    /* MHD leaves arguments undecoded (see unescape_none), so decode here. */
    const char *raw = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, key);
    if (!raw)
        return NULL;
    char *dec = srv_url_decode(raw, strlen(raw), 1);
    if (!dec)
        return NULL;
    size_t n = strlen(dec);
    struct srv_owned *o = malloc(sizeof *o + n + 1);
    if (o) {
        memcpy(o->text, dec, n + 1);
        o->next = req->owned;
        req->owned = o;
    }
    free(dec);
    return o ? o->text : NULL;
}

/* ---------------------------------------------------------------- static files */

/* The pages' files: server/static_files.h (safe paths, ETag/304, gzip). */
static void serve_static(srv_http *h, srv_request *req, const char *raw_path)
{
    req->log_path = "(static)";
    srv_static_serve(req, h->web_root, raw_path);
}

/* ---------------------------------------------------------------- API request stages */

static int is_json_type(const char *ct)
{
    /* "application/json" with optional parameters ("; charset=utf-8"), case-insensitive. */
    static const char want[] = "application/json";
    if (!ct || strncasecmp(ct, want, sizeof want - 1) != 0)
        return 0;
    char c = ct[sizeof want - 1];
    return c == '\0' || c == ';' || c == ' ' || c == '\t';
}

/* Whether the request announces a body (Content-Length above 0, or chunked). */
static int has_body(srv_request *req)
{
    const char *cl = srv_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *te = srv_header(req, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    return (cl && strtoll(cl, NULL, 10) > 0) || (te && strcasestr(te, "chunked"));
}

/* A streamed upload's own checks on its headers (route->on_headers), with a lent connection. */
static void headers_check(srv_http *h, srv_request *req, long long declared)
{
    req->db = srv_db_acquire(h->db);
    if (req->route->on_headers(req, declared) && !req->response)
        srv_reply_internal(req, "upload refused without an answer");
    srv_db_release(h->db, req->db);
    req->db = NULL;
}

/* Checks everything the headers decide. Leaves an answer in req->response when rejecting. */
static void begin_api(srv_http *h, srv_request *req, const char *raw_path)
{
    int path_known = 0;
    const srv_route *r = srv_route_find(req, req->method, raw_path, &path_known);
    if (!r) {
        char allow[128];
        const char *tpl = path_known ? srv_route_allow(raw_path, allow, sizeof allow) : NULL;
        if (tpl) {
            req->log_path = tpl;
            srv_reply_error(req, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed", NULL,
                            "%s is not allowed here (allowed: %s)", req->method, allow);
            if (req->response)
                MHD_add_response_header(req->response, MHD_HTTP_HEADER_ALLOW, allow);
        } else {
            req->log_path = "(unknown)";
            srv_reply_error(req, MHD_HTTP_NOT_FOUND, "not_found", NULL, "no such endpoint");
        }
        return;
    }
    req->route = r;
    req->log_path = r->path;

    if (!(r->roles & SRV_ROLE_PUBLIC)) {
        /* Token or session, role, CSRF: router.c (srv_route_authorize) answers a refusal. */
        sqlite3 *c = srv_db_acquire(h->db);
        int bad = srv_route_authorize(req, c);
        srv_db_release(h->db, c);
        if (bad)
            return;
    }

    if (srv_query_check(req, r->query ? r->query : srv_query_none))
        return; /* 422 unknown_field: every route refuses a query parameter it does not read */

    const char *cl_text = srv_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
    long long cl = cl_text ? strtoll(cl_text, NULL, 10) : 0;
    switch (r->body) {
    case SRV_BODY_NONE:
        if (has_body(req))
            srv_reply_error(req, MHD_HTTP_BAD_REQUEST, "unexpected_body", NULL,
                            "this endpoint takes no request body");
        break;
    case SRV_BODY_JSON:
        if (!is_json_type(srv_header(req, MHD_HTTP_HEADER_CONTENT_TYPE)))
            srv_reply_error(req, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", NULL,
                            "the body must be sent as Content-Type: application/json");
        else if (cl > h->cfg->max_body)
            srv_reply_error(req, MHD_HTTP_CONTENT_TOO_LARGE, "body_too_large", NULL,
                            "the body is larger than the limit of %lld bytes",
                            (long long)h->cfg->max_body);
        break;
    case SRV_BODY_STREAM:
        if (cl > h->cfg->max_upload)
            srv_reply_error(req, MHD_HTTP_CONTENT_TOO_LARGE, "body_too_large", NULL,
                            "the upload is larger than the limit of %lld bytes",
                            (long long)h->cfg->max_upload);
        else if (r->on_headers)
            headers_check(h, req, cl_text ? cl : -1);
        break;
    }
}

/* One chunk of the body. Errors park an answer and set body_rejected; the rest is discarded. */
static void body_chunk(srv_http *h, srv_request *req, const char *data, size_t size)
{
    if (req->body_rejected || req->response)
        return;
    if (!req->route || req->route->body == SRV_BODY_NONE) {
        req->body_rejected = 1;
        srv_reply_error(req, MHD_HTTP_BAD_REQUEST, "unexpected_body", NULL,
                        "this endpoint takes no request body");
        return;
    }
    if (req->route->body == SRV_BODY_STREAM) {
        if (!req->route->on_chunk || req->route->on_chunk(req, data, size)) {
            req->body_rejected = 1;
            if (!req->response)
                srv_reply_internal(req, "upload chunk refused without an answer");
        }
        return;
    }
    if ((int64_t)(req->body_len + size) > h->cfg->max_body) {
        /* Stop buffering at once: the body is dropped, the rest of it discarded as it comes. */
        req->body_rejected = 1;
        free(req->body);
        req->body = NULL;
        req->body_len = 0;
        srv_reply_error(req, MHD_HTTP_CONTENT_TOO_LARGE, "body_too_large", NULL,
                        "the body is larger than the limit of %lld bytes",
                        (long long)h->cfg->max_body);
        return;
    }
    char *nb = realloc(req->body, req->body_len + size + 1);
    if (!nb) {
        req->body_rejected = 1;
        srv_reply_internal(req, "out of memory buffering a body");
        return;
    }
    req->body = nb;
    memcpy(req->body + req->body_len, data, size);
    req->body_len += size;
    req->body[req->body_len] = '\0';
}

/* The whole body is in: parse it, then run the handler with a borrowed connection. */
static enum MHD_Result run_handler(srv_http *h, srv_request *req)
{
    const srv_route *r = req->route;
    if (r->body == SRV_BODY_JSON) {
        json_error_t jerr;
        if (req->body_len == 0) {
            srv_reply_error(req, MHD_HTTP_BAD_REQUEST, "invalid_json", NULL,
                            "a JSON object body is required");
            return MHD_YES;
        }
        req->json = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
        if (!req->json) {
            srv_reply_error(req, MHD_HTTP_BAD_REQUEST, "invalid_json", NULL,
                            "malformed JSON at line %d, column %d: %s", jerr.line, jerr.column,
                            jerr.text);
            return MHD_YES;
        }
        if (!json_is_object(req->json)) {
            srv_reply_error(req, MHD_HTTP_BAD_REQUEST, "invalid_json", NULL,
                            "the body must be a JSON object");
            return MHD_YES;
        }
    } else if (r->body == SRV_BODY_STREAM && r->on_chunk) {
        if (r->on_chunk(req, NULL, 0))
            return req->response ? MHD_YES : srv_reply_internal(req, "upload end refused");
    }
    /* The trail's readers (listing, verification, backups) see every read served before them:
     * read rows are written behind (server/audit.h). */
    if (strncmp(r->path, "/api/v1/admin/", 14) == 0 && srv_audit_flush())
        return srv_reply_internal(req, "the audit trail's queued reads could not be written");
    req->db = srv_db_acquire(h->db);
    enum MHD_Result ret = srv_idempotency_call(req, r->handler); /* Idempotency-Key of a POST */
    srv_db_release(h->db, req->db);
    req->db = NULL;
    if (ret == MHD_NO && !req->response)
        return MHD_NO; /* the handler asks to drop the connection */
    if (!req->response)
        srv_reply_internal(req, "handler returned without an answer");
    return MHD_YES;
}

static void add_common_headers(const srv_request *req, struct MHD_Response *resp)
{
    MHD_add_response_header(resp, "X-Request-Id", req->request_id);
    MHD_add_response_header(resp, "Content-Security-Policy", csp);
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    if (req->cfg && req->cfg->tls_enabled)
        MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
}

/* Queues the parked answer, with the headers every answer carries. */
static enum MHD_Result send_parked(srv_request *req)
{
    struct MHD_Response *resp = req->response;
    if (!resp) {
        srv_reply_internal(req, "no answer to send");
        if (!(resp = req->response))
            return MHD_NO;
    }
    req->response = NULL;
    add_common_headers(req, resp);
    enum MHD_Result ret = MHD_queue_response(req->conn, req->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* ---------------------------------------------------------------- MHD callbacks */

void srv_connection_address(struct MHD_Connection *conn, char *buf, size_t len)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = info ? info->client_addr : NULL;
    snprintf(buf, len, "unknown");
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, (socklen_t)len);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf, (socklen_t)len);
}

static enum MHD_Result add_length(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    size_t *total = cls;
    *total += strlen(key) + (value ? strlen(value) : 0) + 4; /* ": " and CRLF, or "&" and "=" */
    return MHD_YES;
}

/* The caps MHD does not keep itself (its own 414/431 come only when a head outgrows the
 * connection's memory pool): path with query beyond cfg->max_url is 414, a head beyond
 * cfg->max_head is 431. Answers and returns 1 when over. */
static int head_too_large(srv_http *h, srv_request *req, const char *url)
{
    size_t url_len = strlen(url), headers = 0;
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, add_length, &url_len);
    MHD_get_connection_values(req->conn, MHD_HEADER_KIND, add_length, &headers);
    req->log_path = "(too large)";
    if ((int64_t)url_len > h->cfg->max_url) {
        srv_reply_error(req, MHD_HTTP_URI_TOO_LONG, "uri_too_long", NULL,
                        "the path and query are longer than the limit of %lld bytes",
                        (long long)h->cfg->max_url);
        return 1;
    }
    if ((int64_t)(url_len + headers + strlen(req->method) + 12) > h->cfg->max_head) {
        srv_reply_error(req, MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE, "headers_too_large", NULL,
                        "the request head is larger than the limit of %lld bytes",
                        (long long)h->cfg->max_head);
        return 1;
    }
    req->log_path = "(unrouted)";
    return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    srv_http *h = cls;
    srv_request *req = *req_cls;
    if (!req) {
        /* First call: headers only. Returning MHD_YES without a response asks MHD for the body
         * (and sends "100 Continue" when the client waits for it). */
        if (!(req = calloc(1, sizeof *req)))
            return MHD_NO;
        *req_cls = req;
        atomic_fetch_add(&h->active, 1);
        req->conn = conn;
        req->id = atomic_fetch_add(&h->next_id, 1) + 1;
        snprintf(req->request_id, sizeof req->request_id, "%s-%llu", h->boot_id,
                 (unsigned long long)req->id);
        srv_connection_address(conn, req->client, sizeof req->client);
        srv_guard_head_received(h->guard, conn);
        req->method = method;
        req->cfg = h->cfg;
        req->pool = h->db;
        req->started = now_mono();
        req->raw_path = url;
        req->log_path = "(unrouted)";
        req->is_head = strcmp(method, "HEAD") == 0;
        if (head_too_large(h, req, url)) {
            /* answered 414 or 431 */
        } else if (strncmp(url, "/api/", 5) == 0 || strcmp(url, "/api") == 0) {
            begin_api(h, req, url);
        } else if (strcmp(method, "GET") == 0 || req->is_head) {
            serve_static(h, req, url);
        } else {
            req->log_path = "(static)";
            srv_reply_error(req, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed", NULL,
                            "%s is not allowed here (allowed: GET, HEAD)", method);
            if (req->response)
                MHD_add_response_header(req->response, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
        }
        req->stage = 1;
        /* Without a body, even an answer found now waits for the final call: MHD keeps the
         * connection alive for an answer queued then, and closes it after an early one. */
        if (!req->response || !has_body(req))
            return MHD_YES;
        /* An early answer: MHD sends it without reading the body and closes the connection. */
        srv_guard_answering(h->guard, conn);
        return send_parked(req);
    }
    if (*upload_data_size) {
        srv_guard_body_bytes(h->guard, conn, *upload_data_size);
        body_chunk(h, req, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    req->stage = 2;
    srv_guard_answering(h->guard, conn);
    if (!req->response && req->route && run_handler(h, req) == MHD_NO)
        return MHD_NO;
    return send_parked(req);
}

void srv_request_release(srv_request *req)
{
    for (int i = 0; i < req->nparams; i++)
        free(req->params[i]);
    free(req->body);
    json_decref(req->json);
    if (req->upload_free)
        req->upload_free(req->upload);
    if (req->response)
        MHD_destroy_response(req->response);
    while (req->owned) {
        struct srv_owned *next = req->owned->next;
        free(req->owned);
        req->owned = next;
    }
    memset(req, 0, sizeof *req);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    srv_http *h = cls;
    srv_request *req = *req_cls;
    static const char *const reasons[] = {
        "", " (error)", " (timeout)", " (shutdown)", " (read error)", " (client abort)"};
    if (!req)
        return;
    *req_cls = NULL;
    /* The log line: request id, method, route template (never the raw path, which holds ids
     * and accessions), status, duration. */
    srv_log_level level = req->status >= 500 ? SRV_LOG_WARN : SRV_LOG_INFO;
    if (level >= srv_log_threshold) {
        char method[64]; /* the client's own word: escaped, so it cannot forge a line */
        srv_log_escape(req->method, method, sizeof method);
        srv_log_write(level, "request", "req=%s client=%s %s %s %u %.1fms%s", req->request_id,
                      req->client, method, req->log_path, req->status,
                      (now_mono() - req->started) * 1000.0,
                      (unsigned)toe < sizeof reasons / sizeof reasons[0] ? reasons[toe] : " (?)");
    }
    srv_guard_request_done(h->guard, conn);
    srv_metrics_request_done(req); /* counts by route template, status; latency */
    if (req->db)
        srv_db_release(h->db, req->db);
    srv_request_release(req);
    free(req);
    atomic_fetch_sub(&h->active, 1);
}

/* MHD decodes the path before splitting nothing: keep everything raw, the router decodes each
 * segment (so "%2F" inside an accession stays in its segment) and srv_query decodes values. */
static size_t unescape_none(void *cls, struct MHD_Connection *c, char *s)
{
    return strlen(s);
}

/* MHD's messages, at most MHD_LOG_PER_SECOND a second: a flood of refused connections ("Server
 * reached connection limit") must not become a flood of log lines. */
#define MHD_LOG_PER_SECOND 5
static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static time_t window;
    static int used, dropped;
    time_t now = time(NULL);
    int suppressed = 0;
    pthread_mutex_lock(&lock);
    if (now != window) {
        suppressed = dropped;
        window = now;
        used = dropped = 0;
    }
    int say = used < MHD_LOG_PER_SECOND;
    used += say;
    dropped += !say;
    pthread_mutex_unlock(&lock);
    if (suppressed)
        srv_log(SRV_LOG_WARN, "%d libmicrohttpd messages suppressed (over %d a second)", suppressed,
                MHD_LOG_PER_SECOND);
    if (say)
        srv_log_vwrite(SRV_LOG_WARN, "libmicrohttpd", fmt, ap);
}

/* ---------------------------------------------------------------- start / stop */

/* "127.0.0.1:8080", "[::1]:0", "localhost:8080", ":8080" (all addresses). */
static int parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *sslen,
                        int *ipv6, char *err, size_t errlen)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    if (!colon || !colon[1]) {
        snprintf(err, errlen, "--listen must be ADDR:PORT, not '%s'", listen);
        return -1;
    }
    size_t hl = (size_t)(colon - listen);
    if (hl >= sizeof host) {
        snprintf(err, errlen, "--listen address too long");
        return -1;
    }
    memcpy(host, listen, hl);
    host[hl] = '\0';
    char *hp = host;
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        hp = host + 1;
    }
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535) {
        snprintf(err, errlen, "invalid port in --listen '%s'", listen);
        return -1;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV},
                    *res = NULL;
    int rc = getaddrinfo(*hp ? hp : NULL, colon + 1, &hints, &res);
    if (rc || !res) {
        snprintf(err, errlen, "cannot resolve --listen address '%s': %s", listen, gai_strerror(rc));
        return -1;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *sslen = res->ai_addrlen;
    *ipv6 = res->ai_family == AF_INET6;
    freeaddrinfo(res);
    return 0;
}

/* 127.0.0.0/8, ::1 and IPv4-mapped 127.x: only this machine can connect. */
static int is_loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
    if (ss->ss_family != AF_INET6)
        return 0;
    const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
    return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
}

/* The whole of a (small) PEM file as a string, new; NULL with a message in err. */
static char *read_pem(const char *flag, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *text = f ? malloc(1 << 20) : NULL;
    size_t n = text ? fread(text, 1, (1 << 20) - 1, f) : 0;
    if (!f || !text || ferror(f) || n == 0 || !feof(f)) {
        snprintf(err, errlen, "cannot read %s %s: %s", flag, path,
                 !f || ferror(f) ? strerror(errno) : "empty or larger than 1 MiB");
        free(text);
        text = NULL;
    } else {
        text[n] = '\0';
    }
    if (f)
        fclose(f);
    return text;
}

/* HTTPS or clear HTTP: reads the PEM files; clear HTTP beyond loopback needs --insecure-http. */
static int transport_check(srv_http *h, const struct sockaddr_storage *ss, char *err, size_t errlen)
{
    const srv_config *cfg = h->cfg;
    if (cfg->tls_enabled) {
        if (!(h->tls_cert = read_pem("--tls-cert", cfg->tls_cert, err, errlen)) ||
            !(h->tls_key = read_pem("--tls-key", cfg->tls_key, err, errlen)))
            return -1;
        return 0;
    }
    if (is_loopback(ss))
        return 0;
    if (!cfg->insecure_http) {
        snprintf(err, errlen,
                 "refusing clear-text HTTP on %s, which is not a loopback address: give "
                 "--tls-cert and --tls-key to serve HTTPS, or --insecure-http when a TLS reverse "
                 "proxy on a trusted network is in front",
                 cfg->listen);
        return -1;
    }
    srv_log(SRV_LOG_WARN,
            "serving clear-text HTTP on %s (--insecure-http): passwords, tokens and patient "
            "data cross the network unencrypted unless a TLS proxy is in front",
            cfg->listen);
    return 0;
}

/* Each connection's memory pool: it must hold a head a little over --max-head, so that our own
 * JSON 431 answers it (MHD answers a bare 431 when a head outgrows the pool), but no more: MHD
 * clears the whole pool between two requests of a connection. */
static size_t pool_size(const srv_config *cfg)
{
    size_t want = (size_t)cfg->max_head * 4;
    return want < 64 * 1024 ? 64 * 1024 : want;
}

srv_http *srv_http_start(const srv_config *cfg, srv_db *db, int *port, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    int ipv6 = 0;
    uint32_t boot = 0;
    srv_http *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    h->cfg = cfg;
    h->db = db;
    atomic_init(&h->active, 0);
    atomic_init(&h->next_id, 0);
    if (getrandom(&boot, sizeof boot, 0) != (ssize_t)sizeof boot)
        boot = (uint32_t)time(NULL) ^ (uint32_t)getpid();
    snprintf(h->boot_id, sizeof h->boot_id, "%08x", boot);
    if (!(h->web_root = realpath(cfg->web_root, NULL)))
        srv_log(SRV_LOG_WARN, "web root %s: %s; only the API is served", cfg->web_root,
                strerror(errno));
    if (parse_listen(cfg->listen, &ss, &sslen, &ipv6, err, errlen) ||
        transport_check(h, &ss, err, errlen))
        goto fail;
    if (!(h->guard = srv_guard_new(cfg->head_timeout, cfg->min_body_rate))) {
        snprintf(err, errlen, "cannot start the connection guard");
        goto fail;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG | (ipv6 ? MHD_USE_IPv6 : 0) |
                     (cfg->tls_enabled ? MHD_USE_TLS : 0);
    /* Options after MHD_OPTION_EXTERNAL_LOGGER (first, or MHD prints its option-parsing messages
     * itself); the TLS ones only under TLS (an empty key would fail the start). The idle timeout
     * stays MHD's; the guard adds the deadlines that count active time too. */
    struct MHD_OptionItem tls[] = {{MHD_OPTION_HTTPS_MEM_CERT, 0, h->tls_cert},
                                   {MHD_OPTION_HTTPS_MEM_KEY, 0, h->tls_key},
                                   {MHD_OPTION_HTTPS_PRIORITIES, 0, (char *)tls_priorities},
                                   {MHD_OPTION_END, 0, NULL}};
    if (!cfg->tls_enabled)
        tls[0].option = MHD_OPTION_END;
    h->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)cfg->threads, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
        MHD_OPTION_NOTIFY_CONNECTION, srv_guard_notify, h->guard, MHD_OPTION_UNESCAPE_CALLBACK,
        unescape_none, NULL, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, pool_size(cfg), MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)cfg->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)cfg->max_connections_per_ip, MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
    if (!h->mhd) {
        snprintf(err, errlen, "cannot listen on %s (%s)", cfg->listen,
                 cfg->tls_enabled ? "address in use, or a certificate and key that do not load: "
                                    "see the libmicrohttpd line above"
                                  : "address in use or not available?");
        goto fail;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT);
    *port = info ? info->port : 0;
    return h;
fail:
    srv_guard_free(h->guard);
    free(h->tls_cert);
    free(h->tls_key);
    free(h->web_root);
    free(h);
    return NULL;
}

void srv_http_stop(srv_http *h)
{
    if (!h)
        return;
    /* Stop accepting first; requests already in progress get up to 10 s to finish. Idle
     * keep-alive connections do not count as in progress. */
    MHD_socket fd = MHD_quiesce_daemon(h->mhd);
    for (int i = 0; i < 1000 && atomic_load(&h->active) > 0; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (atomic_load(&h->active) > 0)
        srv_log(SRV_LOG_WARN, "%d requests still running at shutdown: cut",
                atomic_load(&h->active));
    MHD_stop_daemon(h->mhd);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    srv_guard_free(h->guard); /* after MHD, which reports every connection's close to it */
    if (h->tls_key)
        explicit_bzero(h->tls_key, strlen(h->tls_key));
    free(h->tls_cert);
    free(h->tls_key);
    free(h->web_root);
    free(h);
}
