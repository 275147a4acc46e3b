/* FHIR R4 read endpoints (application/fhir+json) over the stored results, alerts and patients
 * (server/fhir.h builds the resources; docs/api-interop.md shows them):
 *   GET /api/v1/fhir/Patient/{id}, /Patient/{id}/$everything, /DiagnosticReport/{id},
 *   /Observation/{id}, /DetectedIssue/{id}, and /api/v1/samples/{accession}/fhir (a Bundle).
 * Clinical reads: clinician, viewer and admin; /api/v1/fhir/metadata (CapabilityStatement) is
 * public. Errors keep the API's own JSON shape. */
#include <stdio.h>
#include <string.h>

#include <config.h> /* autoconf's PACKAGE_VERSION */

#include "server/api.h"
#include "server/export.h"
#include "server/fhir.h"
#include "server/options.h"
#include "server/query.h"

#define FHIR_READERS (SRV_ROLE_CLINICIAN | SRV_ROLE_VIEWER | SRV_ROLE_ADMIN)
#define FHIR_JSON    "application/fhir+json"

/* The context of req: identifier systems from the configuration, fullUrl base from Host (and
 * X-Forwarded-Proto behind a TLS proxy). base must hold 512 bytes. */
static void fhir_ctx(srv_request *req, srv_fhir_ctx *ctx, char *base)
{
    const char *host = srv_header(req, "Host"), *proto = srv_header(req, "X-Forwarded-Proto");
    if (!host || strpbrk(host, "/\\ \"<>"))
        host = "localhost";
    if (!proto || (strcmp(proto, "https") && strcmp(proto, "http")))
        proto = req->cfg && req->cfg->tls_cert && *req->cfg->tls_cert ? "https" : "http";
    snprintf(base, 512, "%s://%s/api/v1/fhir", proto, host);
    ctx->identifier_base = req->cfg ? req->cfg->fhir_identifier_base : "";
    ctx->full_url_base = base;
}

/* Answers a builder's outcome: 200 with the resource as application/fhir+json, 404, or 500. */
static enum MHD_Result fhir_answer(srv_request *req, srv_status st, json_t *res, const char *what)
{
    if (st == SRV_NOT_FOUND)
        return srv_reply_error(req, 404, "not_found", NULL, "no such %s", what);
    if (st != SRV_OK)
        return srv_reply_internal(req, "cannot build a FHIR resource");
    char *text = json_dumps(res, JSON_COMPACT | JSON_REAL_PRECISION(8));
    json_decref(res);
    if (!text)
        return srv_reply_internal(req, "cannot serialise a FHIR resource");
    enum MHD_Result r = srv_reply_bytes(req, 200, FHIR_JSON, text, strlen(text));
    free(text);
    return r;
}

typedef srv_status (*fhir_by_id)(sqlite3 *db, const srv_fhir_ctx *ctx, int64_t id, json_t **out);

/* Answers a built resource of patient data: a read is traced in the audit log, or not served
 * (srv_audit_read has then answered). */
static enum MHD_Result fhir_answer_audited(srv_request *req, srv_status st, json_t *res,
                                           const char *entity, int64_t id, const char *what)
{
    if (st == SRV_OK && srv_audit_read(req, entity, id)) {
        json_decref(res);
        return MHD_YES;
    }
    return fhir_answer(req, st, res, what);
}

/* The resource of one numeric path id; entity is what the audit log names it. */
static enum MHD_Result fhir_read(srv_request *req, fhir_by_id build, const char *entity,
                                 const char *what)
{
    srv_fhir_ctx ctx;
    char base[512];
    json_t *res = NULL;
    int64_t id;
    if (srv_query_check(req, (const char *const[]){NULL}) || srv_param_id(req, 0, &id))
        return srv_validate_done(req);
    fhir_ctx(req, &ctx, base);
    srv_status st = build(req->db, &ctx, id, &res);
    return fhir_answer_audited(req, st, res, entity, id, what);
}

static enum MHD_Result fhir_patient(srv_request *req)
{
    return fhir_read(req, srv_fhir_patient, "patient", "patient");
}

static enum MHD_Result fhir_everything(srv_request *req)
{
    return fhir_read(req, srv_fhir_everything, "patient", "patient");
}

static enum MHD_Result fhir_report(srv_request *req)
{
    return fhir_read(req, srv_fhir_report, "sample", "report (a sample with a result)");
}

static enum MHD_Result fhir_issue(srv_request *req)
{
    return fhir_read(req, srv_fhir_detected_issue, "alert", "alert");
}

static enum MHD_Result fhir_observation(srv_request *req)
{
    srv_fhir_ctx ctx;
    char base[512];
    json_t *res = NULL;
    if (srv_query_check(req, (const char *const[]){NULL}))
        return srv_validate_done(req);
    fhir_ctx(req, &ctx, base);
    srv_status st = srv_fhir_observation(req->db, &ctx, req->params[0], &res);
    long long sid = 0; /* "<sample id>-cn", -qc or -tf: found, so it parsed */
    if (st == SRV_OK)
        (void)sscanf(req->params[0], "%lld", &sid);
    return fhir_answer_audited(req, st, res, "sample", sid, "observation");
}

/* GET /api/v1/samples/{accession}/fhir: the sample's report, observations and patient. */
static enum MHD_Result fhir_sample(srv_request *req)
{
    srv_fhir_ctx ctx;
    char base[512];
    json_t *res = NULL;
    int64_t sid;
    if (srv_query_check(req, (const char *const[]){NULL}))
        return srv_validate_done(req);
    srv_status st = srv_export_sample_id(req->db, req->params[0], &sid);
    if (st != SRV_OK)
        return fhir_answer(req, st, NULL, "sample");
    fhir_ctx(req, &ctx, base);
    st = srv_fhir_sample_bundle(req->db, &ctx, sid, &res);
    return fhir_answer_audited(req, st, res, "sample", sid, "result for this sample");
}

/* GET /api/v1/fhir/metadata (public, like the OpenAPI document: it holds no data). */
static enum MHD_Result fhir_metadata(srv_request *req)
{
    srv_fhir_ctx ctx;
    char base[512];
    fhir_ctx(req, &ctx, base);
    json_t *cs = srv_fhir_capabilities_new(&ctx, PACKAGE_VERSION);
    return fhir_answer(req, cs ? SRV_OK : SRV_INTERNAL, cs, "capability statement");
}

#define FHIR_GET(p, h)                                                                             \
    {                                                                                              \
        .method = "GET", .path = (p), .handler = (h), .roles = FHIR_READERS                        \
    }
const srv_route srv_fhir_routes[] = {
    {.method = "GET",
     .path = "/api/v1/fhir/metadata",
     .handler = fhir_metadata,
     .roles = SRV_ROLE_PUBLIC},
    FHIR_GET("/api/v1/fhir/Patient/{id}", fhir_patient),
    FHIR_GET("/api/v1/fhir/Patient/{id}/$everything", fhir_everything),
    FHIR_GET("/api/v1/fhir/DiagnosticReport/{id}", fhir_report),
    FHIR_GET("/api/v1/fhir/Observation/{id}", fhir_observation),
    FHIR_GET("/api/v1/fhir/DetectedIssue/{id}", fhir_issue),
    FHIR_GET("/api/v1/samples/{accession}/fhir", fhir_sample),
    {0},
};
