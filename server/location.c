/* Location of created resources and queued work (see location.h). */
#include "server/location.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/router.h"

/* Created resources that do not live under the path that created them. `where` is a template
 * whose one {field} is taken from the answer body (`of`: a nested object, or NULL for the body
 * itself). */
static const struct {
    const char *route; /* the route template that answers 201/202 */
    const char *where; /* "/api/v1/samples/{accession}" */
    const char *of;
} homes[] = {
    {"/api/v1/patients/{id}/samples", "/api/v1/samples/{accession}", NULL},
    {"/api/v1/samples", "/api/v1/samples/{accession}", NULL},
    {"/api/v1/patients/{id}/treatments", "/api/v1/treatments/{id}", NULL},
    {"/api/v1/patients/{id}/events", "/api/v1/events/{id}", NULL},
    {"/api/v1/pons/{id}/activate", "/api/v1/pons/{id}", "pon"},
};

/* Percent-encodes s for one path segment into out (cap bytes); -1 when it does not fit. */
static int encode_segment(const char *s, char *out, size_t cap)
{
    size_t o = 0;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        int plain = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                    (*c >= '0' && *c <= '9') || strchr("-._~:", *c);
        if (o + 4 > cap)
            return -1;
        o += (size_t)(plain ? snprintf(out + o, cap - o, "%c", *c)
                            : snprintf(out + o, cap - o, "%%%02X", *c));
    }
    return 0;
}

/* The value of field in obj as a path segment (string or integer) into out; -1 when absent. */
static int segment_of(json_t *obj, const char *field, char *out, size_t cap)
{
    json_t *v = json_object_get(obj, field);
    if (json_is_integer(v))
        return snprintf(out, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v)) < (int)cap ? 0
                                                                                             : -1;
    return json_is_string(v) ? encode_segment(json_string_value(v), out, cap) : -1;
}

/* Fills template `where` ("/a/{field}/b") from obj; a new string or NULL. */
static char *fill(const char *where, json_t *obj)
{
    const char *open = strchr(where, '{'), *close = open ? strchr(open, '}') : NULL;
    char field[32], seg[200], *out;
    if (!close || (size_t)(close - open - 1) >= sizeof field)
        return NULL;
    memcpy(field, open + 1, (size_t)(close - open - 1));
    field[close - open - 1] = '\0';
    if (segment_of(obj, field, seg, sizeof seg))
        return NULL;
    size_t n = (size_t)(open - where) + strlen(seg) + strlen(close + 1) + 1;
    if ((out = malloc(n)))
        snprintf(out, n, "%.*s%s%s", (int)(open - where), where, seg, close + 1);
    return out;
}

char *srv_location_new(const srv_request *req, json_t *body)
{
    const char *job_url = json_string_value(json_object_get(body, "job_url"));
    char seg[32];
    if (job_url)
        return strdup(job_url);
    if (!req->route)
        return NULL;
    for (size_t i = 0; i < sizeof homes / sizeof homes[0]; i++)
        if (strcmp(homes[i].route, req->route->path) == 0)
            return fill(homes[i].where, homes[i].of ? json_object_get(body, homes[i].of) : body);
    if (!req->raw_path || !json_is_integer(json_object_get(body, "id")) ||
        segment_of(body, "id", seg, sizeof seg))
        return NULL;
    size_t n = strlen(req->raw_path) + strlen(seg) + 2;
    char *out = malloc(n);
    if (out)
        snprintf(out, n, "%s/%s", req->raw_path, seg);
    return out;
}
