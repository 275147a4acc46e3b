/* Prints every compiled route (srv_all_routes) as "METHOD PATH ROLE,ROLE" lines, for
 * tests/integration/test_openapi.sh to compare with the OpenAPI document both ways. Not a test
 * itself (built by make check, not run as one). */
#include <stdio.h>

#include "server/router.h"

int main(void)
{
    static const struct {
        unsigned bit;
        const char *name;
    } roles[] = {{SRV_ROLE_LIMS, "lims"},
                 {SRV_ROLE_CLINICIAN, "clinician"},
                 {SRV_ROLE_ADMIN, "admin"},
                 {SRV_ROLE_PUBLIC, "public"}};
    for (const srv_route *const *t = srv_all_routes; *t; t++) {
        for (const srv_route *r = *t; r->method; r++) {
            const char *sep = " ";
            printf("%s %s", r->method, r->path);
            for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
                if (r->roles & roles[i].bit) {
                    printf("%s%s", sep, roles[i].name);
                    sep = ",";
                }
            }
            putchar('\n');
        }
    }
    return 0;
}
