/* Public endpoints: GET /api/v1/health (a real database query), GET /api/v1/version and
 * GET /api/v1/openapi.json (the API's description: public, so a LIMS integrator can read the
 * contract before holding a token; it holds no data). */
#include <config.h> /* autoconf's PACKAGE_VERSION */

#include "core/version.h"
#include "server/api.h"
#include "server/migrate.h"
#include "server/openapi.h"
#include "server/readiness.h"

/* The schema version the open database is at (PRAGMA user_version); -1 if unreadable. */
static int schema_version(sqlite3 *db)
{
    int v = -1;
    sqlite3_stmt *st = srv_db_prepare(db, "PRAGMA user_version");
    if (st && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

static enum MHD_Result health(srv_request *req)
{
    /* Readiness (server/readiness.h): database, workers alive, data folder, free disk. */
    srv_readiness r;
    int ready = srv_readiness_probe(req->db, req->cfg, &r);
    return srv_reply_json(req, ready ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
                          srv_readiness_json_new(&r));
}

static enum MHD_Result version(srv_request *req)
{
    int known = srv_migrations_count ? srv_migrations[srv_migrations_count - 1].number : 0;
    return srv_reply_json(req, MHD_HTTP_OK,
                          json_pack("{s:s, s:s, s:i, s:i, s:s}", "package", PACKAGE_VERSION, "core",
                                    RW_CORE_VERSION, "schema", schema_version(req->db),
                                    "schema_supported", known, "api", "v1"));
}

static enum MHD_Result openapi(srv_request *req)
{
    return srv_reply_bytes(req, MHD_HTTP_OK, "application/json", srv_openapi_json,
                           srv_openapi_json_len);
}

const srv_route srv_health_routes[] = {
    {.method = "GET", .path = "/api/v1/health", .handler = health, .roles = SRV_ROLE_PUBLIC},
    {.method = "GET", .path = "/api/v1/version", .handler = version, .roles = SRV_ROLE_PUBLIC},
    {.method = "GET", .path = "/api/v1/openapi.json", .handler = openapi, .roles = SRV_ROLE_PUBLIC},
    {0},
};
