/* ddPCR wells as the API takes them (server/ddpcr_input.h), from arbitrary JSON text. */
#include <stdlib.h>

#include <jansson.h>

#include "fuzz/fuzz.h"
#include "server/ddpcr_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (!body)
        return 0;
    const char *field = NULL;
    rw_error err;
    srv_ddpcr_check(body, &field, &err);
    rw_ddpcr_well *wells = NULL;
    size_t n = 0;
    rw_ddpcr_opts o;
    rw_ddpcr_result res;
    if (srv_ddpcr_parse(body, &wells, &n, &o, &res, &field, &err) == RW_OK)
        free(wells);
    json_decref(body);
    return 0;
}
