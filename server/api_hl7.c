/* GET /api/v1/samples/{accession}/hl7: the HL7 v2.5.1 ORU^R01 of a sample's result, as
 * --hl7-mllp would send it (server/hl7.h), for a receiver's set-up or a manual import.
 * text/plain by default; x-application/hl7-v2+er7 when the client asks for it in Accept.
 * Clinical read: clinician, viewer, admin. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/api.h"
#include "server/export.h"
#include "server/hl7.h"
#include "server/options.h"
#include "server/query.h"

static enum MHD_Result hl7_sample(srv_request *req)
{
    int64_t sid;
    char *text = NULL, control[24];
    if (srv_query_check(req, (const char *const[]){NULL}))
        return srv_validate_done(req);
    srv_status st = srv_export_sample_id(req->db, req->params[0], &sid);
    if (st == SRV_OK) {
        snprintf(control, sizeof control, "RWS%" PRId64, sid);
        srv_hl7_ctx ctx = {control, req->cfg ? req->cfg->fhir_identifier_base : "", SRV_HL7_FINAL,
                           NULL};
        st = srv_hl7_result(req->db, &ctx, sid, &text);
    }
    if (st == SRV_NOT_FOUND)
        return srv_reply_error(req, 404, "not_found", NULL, "no result for this sample");
    if (st != SRV_OK)
        return srv_reply_internal(req, "cannot render an HL7 message");
    if (srv_audit_read(req, "sample", sid)) { /* a read of patient data is traced, or not served */
        free(text);
        return MHD_YES;
    }
    const char *accept = srv_header(req, "Accept");
    const char *type = accept && strstr(accept, "x-application/hl7-v2+er7")
                           ? "x-application/hl7-v2+er7"
                           : "text/plain; charset=utf-8";
    enum MHD_Result r = srv_reply_bytes(req, 200, type, text, strlen(text));
    free(text);
    return r;
}

const srv_route srv_hl7_routes[] = {
    {.method = "GET",
     .path = "/api/v1/samples/{accession}/hl7",
     .handler = hl7_sample,
     .roles = SRV_ROLE_CLINICIAN | SRV_ROLE_VIEWER | SRV_ROLE_ADMIN},
    {0},
};
