/* Strict query-string parameters (see query.h). */
#include "server/query.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/reply.h"

const char *const srv_query_none[] = {NULL};

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

int srv_query_updated_since(srv_request *req, char buf[32], const char **out)
{
    const char *s = srv_query(req, "updated_since");
    int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
    *out = NULL;
    if (!s)
        return 0;
    size_t len = strlen(s);
    int ok =
        (len == 10 && sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) == 3 && n == 10) ||
        (len == 20 &&
         sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi, &sec, &n) == 6 && n == 20);
    for (size_t i = 0; ok && i < len; i++) /* sscanf would take "+1" or " 1" */
        ok = (s[i] >= '0' && s[i] <= '9') || strchr("-T:Z", s[i]);
    if (!ok || y < 1900 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59) {
        srv_reply_error(req, 422, "invalid_value", "updated_since",
                        "updated_since must be an ISO 8601 UTC time, 2025-03-01T09:30:00Z");
        return -1;
    }
    snprintf(buf, 32, "%04u-%02u-%02uT%02u:%02u:%02uZ", (unsigned)y % 10000u, (unsigned)mo % 100u,
             (unsigned)d % 100u, (unsigned)h % 100u, (unsigned)mi % 100u, (unsigned)sec % 100u);
    *out = buf;
    return 0;
}

/* ---------------------------------------------------------------- cursors */

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* base64url without padding of src[0..n) into dst (room for 4n/3 + 2 bytes). */
static void b64_encode(const unsigned char *src, size_t n, char *dst)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)src[i] << 16 | (i + 1 < n ? (unsigned)src[i + 1] << 8 : 0) |
                     (i + 2 < n ? src[i + 2] : 0);
        size_t k = n - i >= 3 ? 4 : n - i + 1;
        for (size_t j = 0; j < k; j++)
            dst[o++] = b64url[(v >> (18 - 6 * j)) & 63];
    }
    dst[o] = '\0';
}

/* Decodes base64url text into dst (cap bytes, NUL-terminated); -1 on a bad character or length. */
static int b64_decode(const char *text, char *dst, size_t cap)
{
    size_t n = strlen(text), o = 0;
    unsigned acc = 0;
    int bits = 0;
    if (n % 4 == 1)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const char *p = text[i] ? strchr(b64url, text[i]) : NULL;
        if (!p)
            return -1;
        acc = acc << 6 | (unsigned)(p - b64url);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o + 1 >= cap)
                return -1;
            dst[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    dst[o] = '\0';
    return memchr(dst, '\0', o) ? -1 : 0;
}

int srv_query_cursor(srv_request *req, srv_cursor *c)
{
    const char *s = srv_query(req, "cursor");
    char plain[96], *bar, *end;
    memset(c, 0, sizeof *c);
    if (!s)
        return 0;
    if (strlen(s) > 120 || b64_decode(s, plain, sizeof plain) || !(bar = strrchr(plain, '|')) ||
        (size_t)(bar - plain) >= sizeof c->key)
        goto bad;
    errno = 0;
    long long id = strtoll(bar + 1, &end, 10);
    if (bar[1] < '0' || bar[1] > '9' || *end || errno || id < 1)
        goto bad;
    memcpy(c->key, plain, (size_t)(bar - plain));
    c->id = (int64_t)id;
    c->present = 1;
    return 0;
bad:
    srv_reply_error(req, 422, "invalid_value", "cursor",
                    "cursor is not one this server gave (pass next_cursor back unchanged)");
    return -1;
}

void srv_cursor_text(const char *key, int64_t id, char text[SRV_CURSOR_TEXT])
{
    char plain[96];
    snprintf(plain, sizeof plain, "%.63s|%" PRId64, key ? key : "", id);
    b64_encode((const unsigned char *)plain, strlen(plain), text);
}

enum MHD_Result srv_reply_page(srv_request *req, const char *list_key, json_t *rows, long limit,
                               const char *id_key, const char *sort_key)
{
    json_t *next = json_null();
    if (!rows)
        return srv_reply_internal(req, "cannot read a list");
    if ((long)json_array_size(rows) > limit) {
        char text[SRV_CURSOR_TEXT];
        json_t *last = json_array_get(rows, (size_t)limit - 1);
        const char *key = sort_key ? json_string_value(json_object_get(last, sort_key)) : "";
        srv_cursor_text(key, id_key ? json_integer_value(json_object_get(last, id_key)) : 1, text);
        json_decref(next);
        next = json_string(text);
        while ((long)json_array_size(rows) > limit)
            json_array_remove(rows, json_array_size(rows) - 1);
    }
    return srv_reply_json(req, 200, json_pack("{s:o, s:o}", list_key, rows, "next_cursor", next));
}
