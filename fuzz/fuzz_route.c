/* Request lines: the router's path matching and percent-decoding (server/router.h). The input
 * is "METHOD PATH[?QUERY]". */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "server/router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = malloc(size + 1);
    if (!line)
        return 0;
    memcpy(line, data, size);
    line[size] = '\0';
    char *path = strchr(line, ' ');
    if (path) {
        *path++ = '\0';
        char *query = strchr(path, '?');
        if (query) {
            *query++ = '\0';
            free(srv_url_decode(query, strlen(query), 1));
        }
        srv_request req;
        memset(&req, 0, sizeof req);
        int known = 0;
        srv_route_find(&req, line, path, &known);
        for (int i = 0; i < req.nparams; i++)
            free(req.params[i]);
        char allow[128];
        srv_route_allow(path, allow, sizeof allow);
    }
    free(line);
    return 0;
}
