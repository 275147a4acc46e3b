/* GET /api/v1/settings: the analysis settings in force (core/settings.h, from the daemon's config
 * file and flags), by name as results store them in their provenance. A read of configuration,
 * not of patient data: no secret and no patient identifier is in it. The admin pages show it
 * ("settings in force"); clinicians and viewers may read what their results are called with. */
#include "server/api.h"
#include "server/options.h"
#include "server/query.h"
#include "json/settings.h"

static enum MHD_Result settings_show(srv_request *req)
{
    static const char *const allowed[] = {NULL};
    if (srv_query_check(req, allowed))
        return MHD_YES;
    json_t *s = rw_settings_json_new(srv_settings());
    if (!s)
        return srv_reply_internal(req, "out of memory");
    return srv_reply_json(req, MHD_HTTP_OK, json_pack("{s:o}", "settings", s));
}

const srv_route srv_settings_routes[] = {
    {.method = "GET",
     .path = "/api/v1/settings",
     .handler = settings_show,
     .roles = SRV_ROLE_CLINICIAN | SRV_ROLE_VIEWER | SRV_ROLE_ADMIN},
    {0},
};
