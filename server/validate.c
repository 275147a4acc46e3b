/* Strict validation of JSON bodies and parameters: each getter either fills its value or answers
 * with a 422 naming the field, so handlers stay a flat list of checks. */
#include "server/validate.h"

#include "core/date.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "server/reply.h"

enum MHD_Result srv_validate_done(srv_request *req)
{
    return req->answered ? MHD_YES : srv_reply_internal(req, "validation failed without answer");
}

static int fail422(srv_request *req, const char *code, const char *key, const char *msg)
{
    srv_reply_error(req, 422, code, key, "%s: %s", key, msg);
    return -1;
}

/* Looks key up; JSON null counts as absent. Answers missing_field when required and absent. */
static int lookup(srv_request *req, json_t *obj, const char *key, int required, json_t **v)
{
    *v = obj ? json_object_get(obj, key) : NULL;
    if (*v && json_is_null(*v))
        *v = NULL;
    if (!*v && required)
        return fail422(req, "missing_field", key, "is required");
    return 0;
}

/* lookup() plus a type check against a mask of json_type bits: *v is NULL when absent (and
 * optional); 422 "invalid_type" ("key: must be <what>") otherwise. *present (may be NULL) is
 * cleared here; the getter sets it once the value passed all its checks. */
#define TYPE_BIT(t) (1u << (t))
static int lookup_typed(srv_request *req, json_t *obj, const char *key, int required,
                        unsigned types, const char *what, json_t **v, int *present)
{
    if (present)
        *present = 0;
    if (lookup(req, obj, key, required, v))
        return -1;
    if (*v && !(types & TYPE_BIT(json_typeof(*v))))
        return fail422(req, "invalid_type", key, what);
    return 0;
}

int srv_check_fields(srv_request *req, json_t *obj, const char *const *allowed)
{
    const char *key;
    json_t *v;
    if (!json_is_object(obj)) {
        srv_reply_error(req, 400, "invalid_json", NULL, "the body must be a JSON object");
        return -1;
    }
    json_object_foreach(obj, key, v)
    {
        int known = 0;
        for (const char *const *a = allowed; *a && !known; a++)
            known = strcmp(*a, key) == 0;
        if (!known)
            return fail422(req, "unknown_field", key, "is not a known field");
    }
    return 0;
}

int srv_get_string(srv_request *req, json_t *obj, const char *key, int required, size_t max_len,
                   const char **out)
{
    json_t *v;
    *out = NULL;
    if (lookup_typed(req, obj, key, required, TYPE_BIT(JSON_STRING), "must be a string", &v, NULL))
        return -1;
    if (!v)
        return 0;
    size_t len = json_string_length(v);
    if (required && len == 0)
        return fail422(req, "invalid_value", key, "must not be empty");
    if (max_len && len > max_len) {
        srv_reply_error(req, 422, "invalid_value", key, "%s: longer than %zu bytes", key, max_len);
        return -1;
    }
    /* Our strings go into SQLite text and JSON; an embedded NUL would truncate silently. */
    if (strlen(json_string_value(v)) != len)
        return fail422(req, "invalid_value", key, "contains a NUL character");
    *out = json_string_value(v);
    return 0;
}

int srv_get_enum(srv_request *req, json_t *obj, const char *key, int required,
                 const char *const *choices, const char **out)
{
    const char *s;
    if (srv_get_string(req, obj, key, required, 0, &s))
        return -1;
    *out = NULL;
    if (!s)
        return 0;
    for (const char *const *c = choices; *c; c++) {
        if (strcmp(*c, s) == 0) {
            *out = *c; /* the static choice: outlives the body */
            return 0;
        }
    }
    char list[256] = "";
    size_t n = 0;
    for (const char *const *c = choices; *c && n < sizeof list - 1; c++)
        n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", c == choices ? "" : ", ", *c);
    srv_reply_error(req, 422, "invalid_value", key, "%s: must be one of %s", key, list);
    return -1;
}

int srv_get_number(srv_request *req, json_t *obj, const char *key, int required, double min,
                   double max, double *out, int *present)
{
    json_t *v;
    if (lookup_typed(req, obj, key, required, TYPE_BIT(JSON_INTEGER) | TYPE_BIT(JSON_REAL),
                     "must be a number", &v, present))
        return -1;
    if (!v)
        return 0;
    double d = json_number_value(v);
    if (!isfinite(d) || d < min || d > max) {
        srv_reply_error(req, 422, "invalid_value", key, "%s: must be between %g and %g", key, min,
                        max);
        return -1;
    }
    *out = d;
    if (present)
        *present = 1;
    return 0;
}

int srv_get_int(srv_request *req, json_t *obj, const char *key, int required, int64_t min,
                int64_t max, int64_t *out, int *present)
{
    json_t *v;
    if (lookup_typed(req, obj, key, required, TYPE_BIT(JSON_INTEGER), "must be an integer", &v,
                     present))
        return -1;
    if (!v)
        return 0;
    json_int_t i = json_integer_value(v);
    if (i < min || i > max) {
        srv_reply_error(req, 422, "invalid_value", key, "%s: must be between %lld and %lld", key,
                        (long long)min, (long long)max);
        return -1;
    }
    *out = i;
    if (present)
        *present = 1;
    return 0;
}

int srv_get_bool(srv_request *req, json_t *obj, const char *key, int required, int *out,
                 int *present)
{
    json_t *v;
    if (lookup_typed(req, obj, key, required, TYPE_BIT(JSON_TRUE) | TYPE_BIT(JSON_FALSE),
                     "must be true or false", &v, present))
        return -1;
    if (!v)
        return 0;
    *out = json_is_true(v);
    if (present)
        *present = 1;
    return 0;
}

int srv_time_zone_set(const char *name, char *err, size_t errlen)
{
    const char *dir = getenv("TZDIR") ? getenv("TZDIR") : "/usr/share/zoneinfo";
    char path[512];
    int safe = name[0] && name[0] != '/' && !strstr(name, "..") && strlen(name) < 128;
    for (const char *c = name; safe && *c; c++)
        safe = (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
               strchr("/_+-", *c);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    /* tzset() falls back to UTC silently on an unknown name: check that the zone exists. */
    if (strcmp(name, "UTC") && (!safe || access(path, R_OK))) {
        snprintf(err, errlen, "unknown time zone '%s' (an IANA name such as Europe/Paris)", name);
        return -1;
    }
    if (setenv("TZ", name, 1))
        return -1;
    tzset();
    return 0;
}

int32_t srv_today(void)
{
    time_t now = time(NULL);
    struct tm local;
    if (!localtime_r(&now, &local))
        return (int32_t)(now / 86400);
    /* The site's calendar day, counted like rw_date_parse() counts days. */
    struct tm day = {.tm_year = local.tm_year, .tm_mon = local.tm_mon, .tm_mday = local.tm_mday};
    return (int32_t)(timegm(&day) / 86400);
}

int srv_get_time(srv_request *req, json_t *obj, const char *key, const char **out)
{
    const char *s;
    if (srv_get_string(req, obj, key, 0, 0, &s))
        return -1;
    *out = s;
    if (s && !(strlen(s) == 5 && s[0] >= '0' && s[0] <= '2' && s[1] >= '0' && s[1] <= '9' &&
               s[2] == ':' && s[3] >= '0' && s[3] <= '5' && s[4] >= '0' && s[4] <= '9' &&
               strncmp(s, "24", 2) < 0))
        return fail422(req, "invalid_value", key, "must be a time of day written HH:MM (24 h)");
    return 0;
}

int srv_get_date(srv_request *req, json_t *obj, const char *key, int required, const char **str,
                 int32_t *days, int *present)
{
    const char *s;
    if (present)
        *present = 0;
    if (srv_get_string(req, obj, key, required, 0, &s))
        return -1;
    if (str)
        *str = s;
    if (!s)
        return 0;
    int32_t d;
    if (rw_date_parse(s, &d))
        return fail422(req, "invalid_date", key, "must be a real date written YYYY-MM-DD");
    if (d > srv_today())
        return fail422(req, "invalid_date", key, "is in the future");
    *days = d;
    if (present)
        *present = 1;
    return 0;
}

int srv_param_id(srv_request *req, int i, int64_t *out)
{
    const char *s = i >= 0 && i < req->nparams ? req->params[i] : NULL;
    char *end;
    if (!s || *s < '1' || *s > '9')
        goto bad;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v <= 0)
        goto bad;
    *out = v;
    return 0;
bad:
    srv_reply_error(req, 404, "not_found", NULL, "no such resource");
    return -1;
}
