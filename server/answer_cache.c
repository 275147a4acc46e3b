/* Cache of costly answers (see answer_cache.h). */
#include "server/answer_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "server/audit.h"
#include "server/reply.h"

typedef struct slot {
    int kind;
    int64_t id;
    uint64_t version;
    uint64_t stored; /* when it was stored (a count of stores): the oldest goes first */
    srv_answer a;
} slot;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static slot slots[SRV_ANSWER_CACHE_SLOTS];
static uint64_t stores;

void srv_answer_free(srv_answer *a)
{
    free(a->plain);
    free(a->gzip);
    memset(a, 0, sizeof *a);
}

static int copy(const srv_answer *from, srv_answer *to)
{
    memset(to, 0, sizeof *to);
    if (!(to->plain = malloc(from->plain_len ? from->plain_len : 1)) ||
        !(to->gzip = malloc(from->gzip_len ? from->gzip_len : 1))) {
        srv_answer_free(to);
        return -1;
    }
    memcpy(to->plain, from->plain, from->plain_len);
    memcpy(to->gzip, from->gzip, from->gzip_len);
    to->plain_len = from->plain_len;
    to->gzip_len = from->gzip_len;
    return 0;
}

int srv_answer_cache_get(int kind, int64_t id, uint64_t version, srv_answer *out)
{
    int found = 0;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < SRV_ANSWER_CACHE_SLOTS && !found; i++)
        if (slots[i].a.plain && slots[i].kind == kind && slots[i].id == id &&
            slots[i].version == version)
            found = copy(&slots[i].a, out) ? -1 : 1;
    pthread_mutex_unlock(&lock);
    return found;
}

int srv_answer_cache_put(int kind, int64_t id, uint64_t version, const char *plain, size_t len,
                         srv_answer *out)
{
    srv_answer a = {0};
    if (!(a.gzip = srv_gzip_new(plain, len, &a.gzip_len)) || !(a.plain = malloc(len ? len : 1))) {
        srv_answer_free(&a);
        return -1;
    }
    memcpy(a.plain, plain, len);
    a.plain_len = len;
    if (out && copy(&a, out)) {
        srv_answer_free(&a);
        return -1;
    }
    pthread_mutex_lock(&lock);
    slot *victim = &slots[0];
    for (size_t i = 0; i < SRV_ANSWER_CACHE_SLOTS; i++) {
        slot *s = &slots[i];
        if (s->a.plain && s->kind == kind && s->id == id) {
            victim = s; /* the older version of the same answer */
            break;
        }
        if (!s->a.plain || (victim->a.plain && s->stored < victim->stored))
            victim = s;
    }
    srv_answer_free(&victim->a);
    *victim = (slot){kind, id, version, ++stores, a};
    pthread_mutex_unlock(&lock);
    return 0;
}

int srv_gzip_acceptable(const char *ae)
{
    const char *p = ae ? strstr(ae, "gzip") : NULL;
    if (!p)
        return 0;
    p += 4;
    p += strspn(p, " \t");
    if (*p != ';')
        return 1;
    p += 1 + strspn(p + 1, " \t");
    if (strncmp(p, "q=", 2) != 0)
        return 1;
    return strtod(p + 2, NULL) > 0; /* a q-value of 0 (RFC 9110 12.4.2) refuses it */
}

int srv_accepts_gzip(srv_request *req)
{
    return srv_gzip_acceptable(
        MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING));
}

enum MHD_Result srv_answer_reply(srv_request *req, srv_answer *a, const char *entity_type,
                                 int64_t entity_id)
{
    if (srv_audit_read(req, entity_type, entity_id)) { /* answered 500: not served */
        srv_answer_free(a);
        return MHD_YES;
    }
    int gz = srv_accepts_gzip(req);
    enum MHD_Result ret =
        srv_reply_bytes(req, 200, "application/json", gz ? (void *)a->gzip : a->plain,
                        gz ? a->gzip_len : a->plain_len);
    srv_answer_free(a);
    if (req->response) {
        MHD_add_response_header(req->response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        MHD_add_response_header(req->response, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
        if (gz)
            MHD_add_response_header(req->response, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    }
    return ret;
}

unsigned char *srv_gzip_new(const void *data, size_t len, size_t *out_len)
{
    z_stream z = {0};
    /* 15 + 16: a gzip wrapper; level 6 (zlib's default) is built once per version. */
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    uLong cap = deflateBound(&z, (uLong)len);
    unsigned char *out = malloc(cap);
    if (!out) {
        deflateEnd(&z);
        return NULL;
    }
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    *out_len = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    return out;
}

uint64_t srv_fnv1a(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}
