/* Cache of costly answers (see answer_cache.h). */
#include "server/answer_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "server/audit.h"
#include "server/reply.h"

/* An answer's bytes, shared by the cache's slot and the answers being sent (refs). */
struct srv_answer_bytes {
    char *plain;
    size_t plain_len;
    unsigned char *gzip;
    size_t gzip_len;
    int refs; /* under lock */
};

typedef struct slot {
    int kind;
    int64_t id;
    uint64_t version;
    uint64_t stored; /* when it was stored (a count of stores): the oldest goes first */
    struct srv_answer_bytes *bytes;
} slot;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static slot slots[SRV_ANSWER_CACHE_SLOTS];
static uint64_t stores;

static void bytes_unref(struct srv_answer_bytes *b)
{
    if (!b)
        return;
    pthread_mutex_lock(&lock);
    int last = --b->refs == 0;
    pthread_mutex_unlock(&lock);
    if (last) {
        free(b->plain);
        free(b->gzip);
        free(b);
    }
}

/* MHD's free callback of an answer sent from shared bytes. */
static void bytes_release(void *cls)
{
    bytes_unref(cls);
}

void srv_answer_free(srv_answer *a)
{
    bytes_unref(a->shared);
    memset(a, 0, sizeof *a);
}

/* Fills *out with a reference to b. Under lock. */
static void share(struct srv_answer_bytes *b, srv_answer *out)
{
    b->refs++;
    *out = (srv_answer){b->plain, b->plain_len, b->gzip, b->gzip_len, b};
}

int srv_answer_cache_get(int kind, int64_t id, uint64_t version, srv_answer *out)
{
    int found = 0;
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < SRV_ANSWER_CACHE_SLOTS && !found; i++)
        if (slots[i].bytes && slots[i].kind == kind && slots[i].id == id &&
            slots[i].version == version) {
            share(slots[i].bytes, out);
            found = 1;
        }
    pthread_mutex_unlock(&lock);
    return found;
}

int srv_answer_cache_put(int kind, int64_t id, uint64_t version, const char *plain, size_t len,
                         srv_answer *out)
{
    struct srv_answer_bytes *b = calloc(1, sizeof *b);
    if (!b || !(b->gzip = srv_gzip_new(plain, len, &b->gzip_len)) ||
        !(b->plain = malloc(len ? len : 1))) {
        if (b)
            free(b->gzip);
        free(b);
        return -1;
    }
    memcpy(b->plain, plain, len);
    b->plain_len = len;
    b->refs = 1; /* the slot's */
    pthread_mutex_lock(&lock);
    slot *victim = &slots[0];
    for (size_t i = 0; i < SRV_ANSWER_CACHE_SLOTS; i++) {
        slot *s = &slots[i];
        if (s->bytes && s->kind == kind && s->id == id) {
            victim = s; /* the older version of the same answer */
            break;
        }
        if (!s->bytes || (victim->bytes && s->stored < victim->stored))
            victim = s;
    }
    struct srv_answer_bytes *old = victim->bytes;
    *victim = (slot){kind, id, version, ++stores, b};
    if (out)
        share(b, out);
    pthread_mutex_unlock(&lock);
    bytes_unref(old);
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
    struct MHD_Response *resp = NULL;
    if (a->shared && !req->response) {
        /* MHD sends the cache's bytes and drops the reference when done. */
        resp = MHD_create_response_from_buffer_with_free_callback_cls(
            gz ? a->gzip_len : a->plain_len, gz ? (void *)a->gzip : (void *)a->plain, bytes_release,
            a->shared);
        if (resp)
            a->shared = NULL;
    }
    srv_answer_free(a);
    if (!resp)
        return srv_reply_internal(req, "cannot create an answer");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
    if (gz)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    req->response = resp; /* http.c adds the security headers when queuing */
    req->status = 200;
    req->answered = 1;
    return MHD_YES;
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
