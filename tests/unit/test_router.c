/* Unit tests of server/router: template capture with URL decoding, HEAD as GET, 405 with the
 * Allow list, 404 for near misses and bad escapes, and every route table well formed. */
#include "server/router.h"
#include "server/validate.h"
#include "tests/unit/harness.h"

#include <stdlib.h>
#include <string.h>

static void test_routes(void)
{
    srv_request req = {0};
    int known = -1;
    const srv_route *r = srv_route_find(&req, "GET", "/api/v1/health", &known);
    CHECK(r && !strcmp(r->path, "/api/v1/health") && (r->roles & SRV_ROLE_PUBLIC));
    CHECK(srv_route_find(&req, "HEAD", "/api/v1/health", &known) == r);
    /* Template capture, URL-decoded: "%2F" stays inside its segment. */
    r = srv_route_find(&req, "DELETE", "/api/v1/tokens/42", &known);
    CHECK(r && !strcmp(r->path, "/api/v1/tokens/{id}") && req.nparams == 1 &&
          !strcmp(req.params[0], "42"));
    r = srv_route_find(&req, "DELETE", "/api/v1/tokens/a%2Fb%20c", &known);
    CHECK(r && req.nparams == 1 && !strcmp(req.params[0], "a/b c"));
    int64_t id;
    CHECK(srv_param_id(&req, 0, &id) == -1 && req.status == 404);
    srv_request_release(&req);
    /* 405: known path, wrong method; the Allow list names the right ones. */
    CHECK(srv_route_find(&req, "PATCH", "/api/v1/tokens/42", &known) == NULL && known == 1);
    char allow[128];
    CHECK(
        !strcmp(srv_route_allow("/api/v1/tokens/42", allow, sizeof allow), "/api/v1/tokens/{id}"));
    CHECK(!strcmp(allow, "DELETE"));
    CHECK(srv_route_allow("/api/v1/tokens", allow, sizeof allow) && strstr(allow, "GET") &&
          strstr(allow, "POST") && strstr(allow, "HEAD"));
    /* 404: unknown, one segment too many or too few, empty capture, bad escape. */
    CHECK(srv_route_find(&req, "GET", "/api/v1/nothing", &known) == NULL && known == 0);
    CHECK(srv_route_find(&req, "GET", "/api/v1/health/x", &known) == NULL && known == 0);
    CHECK(srv_route_find(&req, "DELETE", "/api/v1/tokens/", &known) == NULL && known == 0);
    CHECK(srv_route_find(&req, "DELETE", "/api/v1/tokens/a%2", &known) == NULL);
    CHECK(srv_route_find(&req, "DELETE", "/api/v1/tokens/%00", &known) == NULL);
    CHECK(srv_route_find(&req, "GET", "/api/v1/health/", &known) == NULL);
    srv_request_release(&req);
    /* Every table: a sentinel at the end, a handler on every row, roles given. */
    int rows = 0, bad = 0;
    for (const srv_route *const *t = srv_all_routes; *t; t++)
        for (const srv_route *x = *t; x->method; x++, rows++)
            bad += !x->handler || !x->roles || x->path[0] != '/';
    CHECK(rows >= 5 && bad == 0);

    char *s = srv_url_decode("a+b%41", 6, 1);
    CHECK(s && !strcmp(s, "a bA"));
    free(s);
    s = srv_url_decode("a+b", 3, 0);
    CHECK(s && !strcmp(s, "a+b"));
    free(s);
}

int main(void)
{
    test_routes();
    DONE();
}
