/* Routing: static tables of {method, path template, handler, roles, body kind}; each api_*.c
 * exports one table, routes.c lists them. The router answers 404 for an unknown path and 405 for
 * a known path with the wrong method, checks the token and role (401/403), and buffers and parses
 * JSON bodies (415, 413, 400) before the handler runs. */
#ifndef SRV_ROUTER_H
#define SRV_ROUTER_H

#include <stdio.h>

#include "server/http.h"

typedef enum srv_body_kind {
    SRV_BODY_NONE = 0, /* a body is rejected with 400 */
    SRV_BODY_JSON,     /* buffered up to cfg->max_body, parsed; req->json holds the object */
    SRV_BODY_STREAM    /* raw body handed to route->on_chunk as it arrives (uploads) */
} srv_body_kind;

/* Handlers answer the request (srv_reply_*) and return its MHD_Result. */
typedef enum MHD_Result (*srv_handler)(srv_request *req);
/* Streaming: called for each chunk of the body (data, size > 0), then once with size == 0 at the
 * end, after which `handler` runs. Return 0 to go on; non-zero after having answered (e.g. 413). */
typedef int (*srv_chunk_handler)(srv_request *req, const char *data, size_t size);
/* Streaming: called once the headers are in, before any body byte is read, with req->db lent
 * and the declared Content-Length (-1 when none: chunked). Return 0 to read the body;
 * non-zero after having answered (404, 507...): the body is then never read. */
typedef int (*srv_headers_handler)(srv_request *req, int64_t declared_length);

typedef struct srv_route {
    const char *method; /* "GET", "POST", "PUT", "PATCH", "DELETE" */
    const char *path;   /* template: "/api/v1/patients/{id}"; each {x} captures one segment */
    srv_handler handler;
    unsigned roles; /* srv_role_bits admitted */
    srv_body_kind body;
    srv_chunk_handler on_chunk;     /* SRV_BODY_STREAM only */
    srv_headers_handler on_headers; /* SRV_BODY_STREAM only; NULL when nothing to check early */
    const void *ctx; /* the handler's description of what it serves (req->route->ctx), or NULL:
                      * lets one generic handler serve several resources (server/resource.h) */
    /* The query parameters the route reads (NULL-terminated), or NULL for none: the router
     * answers 422 "unknown_field" naming any other before the handler runs (server/query.h). */
    const char *const *query;
} srv_route;

/* Each table ends with a row whose method is NULL. */
extern const srv_route srv_health_routes[], srv_tokens_routes[], srv_patients_routes[],
    srv_treatments_routes[], srv_events_routes[], srv_samples_routes[];
/* The ingestion pipeline (api_uploads.c, api_jobs.c, api_pons.c, api_profile.c). */
extern const srv_route srv_uploads_routes[], srv_jobs_routes[], srv_pons_routes[],
    srv_profile_routes[];
/* Monitoring (api_trend.c, api_alerts.c, api_cohort.c). */
extern const srv_route srv_trend_routes[], srv_alerts_routes[], srv_cohort_routes[];
/* People: sign-in sessions and accounts (api_session.c, api_users.c). */
extern const srv_route srv_session_routes[], srv_users_routes[];

/* Operations: GET /api/v1/metrics (api_metrics.c). */
extern const srv_route srv_metrics_routes[];

/* Audit trail and backups: /api/v1/admin/audit..., /api/v1/admin/backups (api_admin.c). */
extern const srv_route srv_admin_routes[];

/* Corrections of wrong data (api_corrections.c). */
extern const srv_route srv_corrections_routes[];

/* Standards exports and subscriptions (api_fhir.c, api_hl7.c, api_webhooks.c). */
extern const srv_route srv_fhir_routes[], srv_hl7_routes[], srv_webhooks_routes[],
    srv_deliveries_routes[];

/* The analysis settings in force: GET /api/v1/settings (api_settings.c). */
extern const srv_route srv_settings_routes[];
/* CSV import of a historical series (api_import.c). */
extern const srv_route srv_import_routes[];

/* NULL-terminated list of every table (routes.c). */
extern const srv_route *const srv_all_routes[];

/* Finds the route for method + path (raw, still percent-encoded; HEAD matches GET routes). Returns
 * it and fills params (up to SRV_MAX_PARAMS captured segments, URL-decoded into req-owned storage);
 * *path_known is set when some route matched the path but not the method (405). NULL when none
 * matched. */
const srv_route *srv_route_find(srv_request *req, const char *method, const char *path,
                                int *path_known);
/* For a path that matched no method: writes the methods it does accept ("GET, POST") into allow
 * (for the 405's Allow header) and returns the template it matched (static), or NULL. */
const char *srv_route_allow(const char *path, char *allow, size_t allowlen);
/* Authenticates req for its route (req->route) on conn: a Bearer token, else the session cookie.
 * Then the role (403), a session that must change its password first (403
 * password_change_required except on the session endpoints), and for a cookie-authenticated
 * write the CSRF defence: Origin (or Referer) must name the Host when sent, and X-CSRF-Token must
 * equal the session's token (403 csrf). 0 to go on; -1 after answering (401 or 403). */
int srv_route_authorize(srv_request *req, sqlite3 *conn);
/* Prints every compiled route as "METHOD PATH ROLES" lines (roles: lims,clinician,viewer,admin
 * or "public"), for `relapsewatchd --list-routes` and the role-matrix test. */
void srv_routes_print(FILE *out);
/* Percent-decodes src[0..len) into a new string ('+' stays '+'; plus_space turns it into a
 * space, for query strings). NULL on a malformed escape or a decoded NUL. Free with free(). */
char *srv_url_decode(const char *src, size_t len, int plus_space);

#endif
