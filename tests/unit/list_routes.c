/* Prints every compiled route (srv_all_routes) with the query parameters it reads (its .query,
 * "-" for none) as "METHOD PATH q1,q2" lines, for tests/integration/test_openapi.sh to compare
 * with the parameters the OpenAPI document lists. (The roles come from relapsewatchd
 * --list-routes.) Not a test itself: built by make check, not run as one. */
#include <stdio.h>

#include "server/router.h"

int main(void)
{
    for (const srv_route *const *t = srv_all_routes; *t; t++) {
        for (const srv_route *r = *t; r->method; r++) {
            printf("%s %s ", r->method, r->path);
            if (!r->query || !r->query[0])
                putchar('-');
            for (const char *const *q = r->query; q && *q; q++)
                printf("%s%s", q == r->query ? "" : ",", *q);
            putchar('\n');
        }
    }
    return 0;
}
