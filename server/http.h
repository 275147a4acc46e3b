/* HTTP glue over libmicrohttpd: the per-request state every handler receives, and the daemon's
 * start/stop. A srv_request is allocated on the first access-handler call and freed in the
 * request-completed callback, so early returns never leak. */
#ifndef SRV_HTTP_H
#define SRV_HTTP_H

#include <arpa/inet.h>
#include <netinet/in.h> /* microhttpd.h needs these first */
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <jansson.h>
#include <microhttpd.h>
#include <sqlite3.h>

#define SRV_MAX_PARAMS 4

struct srv_config;
struct srv_route;
struct srv_db;
struct srv_owned;

/* Roles as bits, so a route names every role it admits and a caller holds exactly one. */
enum srv_role_bits {
    SRV_ROLE_LIMS = 1u << 0,
    SRV_ROLE_CLINICIAN = 1u << 1,
    SRV_ROLE_ADMIN = 1u << 2,
    SRV_ROLE_VIEWER = 1u << 3, /* read-only auditors: clinical reads, nothing else */
    SRV_ROLE_ANY = SRV_ROLE_LIMS | SRV_ROLE_CLINICIAN | SRV_ROLE_ADMIN | SRV_ROLE_VIEWER,
    SRV_ROLE_PUBLIC = 1u << 7 /* no token needed (health, version, static files) */
};

/* The authenticated caller (from the Bearer token). */
typedef struct srv_caller {
    int64_t token_id;   /* tokens.id; 0 when the route is public */
    unsigned role;      /* one SRV_ROLE_* bit; 0 on public routes */
    char name[64];      /* the token's label, used as the actor in the audit log */
    int64_t user_id;    /* users.id of a session, or of a token's owner; 0 for none */
    int64_t session_id; /* sessions.id when signed in with the cookie; 0 for a Bearer token */
    int must_change;    /* session of a user who must change the password first */
} srv_caller;

typedef struct srv_request {
    struct MHD_Connection *conn;
    uint64_t id;                   /* request id for log lines */
    const char *method;            /* borrowed from MHD */
    const struct srv_route *route; /* matched route (NULL until routed) */
    char *params[SRV_MAX_PARAMS];  /* captured {x} segments, URL-decoded; owned */
    int nparams;
    srv_caller caller;
    char *body; /* buffered body (SRV_BODY_JSON), owned */
    size_t body_len;
    json_t *json; /* parsed body (SRV_BODY_JSON), owned */
    sqlite3 *db;  /* connection lent to this request by the pool */
    const struct srv_config *cfg;
    unsigned status;                   /* set by srv_reply_* for the log line */
    int answered;                      /* a response was queued */
    double started;                    /* monotonic seconds, for the duration in the log */
    void *upload;                      /* state of a streaming upload, owned by its handler */
    void (*upload_free)(void *upload); /* frees `upload` at completion (NULL-safe) */
    void *idempotency;   /* idempotency.c: the answer kept for an Idempotency-Key, or NULL */
    char request_id[24]; /* X-Request-Id of the answer, req= in the log: "<boot>-<n>" */
    char client[48];     /* the client's address as text ("unknown" when MHD has none) */

    /* http.c internals (handlers do not touch them). */
    struct srv_db *pool;           /* where req->db comes from (borrowed) */
    struct MHD_Response *response; /* answer waiting to be queued (srv_reply_* set it) */
    const char *log_path;          /* route template or a fixed label; never the raw path */
    const char *raw_path;          /* undecoded path from MHD (borrowed) */
    int stage;                     /* 0 first call, 1 receiving body, 2 done */
    int body_rejected;             /* body beyond the limit: the rest is discarded */
    int is_head;                   /* HEAD request: same as GET, MHD drops the body */
    struct srv_owned *owned;       /* strings decoded for srv_query(), freed at completion */
} srv_request;

/* Query-string argument, URL-decoded ('+' is a space), or NULL. Owned by req, valid until the
 * request completes. */
const char *srv_query(srv_request *req, const char *key);
/* The client's address of conn as text ("127.0.0.1", "::1"), or "unknown", into buf (size len).
 * req->client holds it already for a request. */
void srv_connection_address(struct MHD_Connection *conn, char *buf, size_t len);
/* Request header (borrowed), or NULL. */
const char *srv_header(srv_request *req, const char *name);
/* Frees what req owns (captured parameters, body, parsed JSON, upload, the answer not yet sent,
 * decoded query strings) and zeroes it, so it can serve again (the unit tests answer many
 * requests with one). The connection req->db is not given back: its lender does that. */
void srv_request_release(srv_request *req);

typedef struct srv_http srv_http;
/* Starts MHD in internal thread-pool mode (cfg->threads threads, epoll) on cfg->listen; requests
 * borrow connections from db (borrowed: must outlive the daemon). Writes the bound port into
 * *port (useful with port 0). Serves HTTPS (TLS 1.2/1.3) when cfg->tls_cert/tls_key are set;
 * refuses clear HTTP on a non-loopback address unless cfg->insecure_http. Applies the connection
 * caps and the head/body deadlines (server/guard.h). Returns NULL with a message in err (size
 * errlen) on failure. Stop with srv_http_stop(). */
srv_http *srv_http_start(const struct srv_config *cfg, struct srv_db *db, int *port, char *err,
                         size_t errlen);
/* Stops accepting, lets in-flight requests finish (up to 10 s), frees. NULL-safe. */
void srv_http_stop(srv_http *h);

#endif
