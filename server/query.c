/* Strict query-string parameters (see query.h). */
#include "server/query.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/reply.h"

struct query_check {
    const char *const *allowed;
    const char *unknown; /* first key not allowed */
};

static enum MHD_Result query_key(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    struct query_check *qc = cls;
    (void)kind;
    (void)value;
    for (const char *const *a = qc->allowed; *a; a++)
        if (strcmp(*a, key) == 0)
            return MHD_YES;
    qc->unknown = key;
    return MHD_NO;
}

int srv_query_check(srv_request *req, const char *const *allowed)
{
    struct query_check qc = {allowed, NULL};
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, query_key, &qc);
    if (!qc.unknown)
        return 0;
    srv_reply_error(req, 422, "unknown_field", qc.unknown, "unknown query parameter %s",
                    qc.unknown);
    return -1;
}

int srv_query_int(srv_request *req, const char *key, long lo, long hi, long def, long *out)
{
    const char *s = srv_query(req, key);
    char *end;
    *out = def;
    if (!s)
        return 0;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (s[0] < '0' || s[0] > '9' || *end || errno || v < lo || v > hi) {
        srv_reply_error(req, 422, "invalid_value", key, "%s must be an integer from %ld to %ld",
                        key, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

int srv_query_enum(srv_request *req, const char *key, const char *const *choices, int *index)
{
    const char *s = srv_query(req, key);
    char list[256] = "";
    size_t n = 0;
    *index = -1;
    if (!s)
        return 0;
    for (int i = 0; choices[i]; i++) {
        if (strcmp(choices[i], s) == 0) {
            *index = i;
            return 0;
        }
    }
    for (int i = 0; choices[i] && n < sizeof list - 1; i++)
        n += (size_t)snprintf(list + n, sizeof list - n, "%s%s",
                              i == 0           ? ""
                              : choices[i + 1] ? ", "
                                               : " or ",
                              choices[i]);
    srv_reply_error(req, 422, "invalid_value", key, "%s must be %s", key, list);
    return -1;
}
