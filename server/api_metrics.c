/* GET /api/v1/metrics: the Prometheus text exposition (server/metrics.h), for admin tokens. Under
 * /api/ so the router's token check guards it like any endpoint: the figures name no patient,
 * but sizes, queue depth and traffic are still the site's business. */
#include <stdlib.h>
#include <string.h>

#include "server/api.h"
#include "server/metrics.h"

static enum MHD_Result metrics(srv_request *req)
{
    char *text = srv_metrics_render(req->db, req->cfg);
    if (!text)
        return srv_reply_internal(req, "cannot render the metrics (out of memory)");
    enum MHD_Result rc = srv_reply_bytes(
        req, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text, strlen(text));
    free(text);
    return rc;
}

const srv_route srv_metrics_routes[] = {
    {.method = "GET", .path = "/api/v1/metrics", .handler = metrics, .roles = SRV_ROLE_ADMIN},
    {0},
};
