/* server/answer_cache: versions decide (a stale entry is never served), the gzip form inflates to
 * the plain one, the cache stays bounded, and concurrent use is safe (run under the check's
 * sanitizers). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <zlib.h>

#include "server/answer_cache.h"
#include "tests/unit/harness.h"

/* Whether a's gzip bytes inflate to exactly its plain bytes. */
static int gzip_matches(const srv_answer *a)
{
    static char buf[1 << 20];
    z_stream z = {0};
    if (inflateInit2(&z, 15 + 16) != Z_OK)
        return 0;
    z.next_in = a->gzip;
    z.avail_in = (uInt)a->gzip_len;
    z.next_out = (Bytef *)buf;
    z.avail_out = sizeof buf;
    int rc = inflate(&z, Z_FINISH);
    size_t n = z.total_out;
    inflateEnd(&z);
    return rc == Z_STREAM_END && n == a->plain_len && !memcmp(buf, a->plain, n);
}

static void *hammer(void *arg)
{
    char text[64];
    srv_answer a;
    for (int i = 0; i < 2000; i++) {
        int id = (int)(size_t)arg * 1000 + i % 100;
        snprintf(text, sizeof text, "{\"id\":%d}", id);
        if (srv_answer_cache_get(2, id, 7, &a) == 1) {
            if (strncmp(a.plain, text, a.plain_len))
                return (void *)1;
            srv_answer_free(&a);
        } else if (srv_answer_cache_put(2, id, 7, text, strlen(text), NULL)) {
            return (void *)1;
        }
    }
    return NULL;
}

int main(void)
{
    srv_answer a;
    static char big[300000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = "0123456789,.-[]"[(i * 7 + i / 13) % 15];

    CHECK(srv_answer_cache_get(1, 5, 100, &a) == 0);
    CHECK(srv_answer_cache_put(1, 5, 100, big, sizeof big, &a) == 0);
    CHECK(a.plain_len == sizeof big && gzip_matches(&a) && a.gzip_len < sizeof big / 4);
    srv_answer_free(&a);
    CHECK(srv_answer_cache_get(1, 5, 100, &a) == 1);
    CHECK(a.plain_len == sizeof big && !memcmp(a.plain, big, sizeof big) && gzip_matches(&a));
    srv_answer_free(&a);
    /* Another version, kind or id is a miss; a new version replaces the old one. */
    CHECK(srv_answer_cache_get(1, 5, 101, &a) == 0);
    CHECK(srv_answer_cache_get(2, 5, 100, &a) == 0);
    CHECK(srv_answer_cache_get(1, 6, 100, &a) == 0);
    CHECK(srv_answer_cache_put(1, 5, 101, "{}", 2, NULL) == 0);
    CHECK(srv_answer_cache_get(1, 5, 100, &a) == 0);
    CHECK(srv_answer_cache_get(1, 5, 101, &a) == 1 && a.plain_len == 2 && gzip_matches(&a));
    srv_answer_free(&a);
    /* Bounded: after more entries than slots, the oldest is gone, the newest stays. */
    for (int i = 0; i < SRV_ANSWER_CACHE_SLOTS; i++)
        CHECK(srv_answer_cache_put(3, i, 1, "[1]", 3, NULL) == 0);
    CHECK(srv_answer_cache_get(1, 5, 101, &a) == 0);
    CHECK(srv_answer_cache_get(3, SRV_ANSWER_CACHE_SLOTS - 1, 1, &a) == 1);
    srv_answer_free(&a);
    /* Empty answers work too. */
    CHECK(srv_answer_cache_put(4, 1, 1, "", 0, &a) == 0 && a.plain_len == 0 && gzip_matches(&a));
    srv_answer_free(&a);
    /* Four threads reading and writing: every hit is the text stored for its id. */
    pthread_t t[4];
    void *bad = NULL;
    for (size_t i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, hammer, (void *)i);
    for (size_t i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        bad = bad ? bad : r;
    }
    CHECK(bad == NULL);
    /* Accept-Encoding: gzip unless its q-value is 0, with or without spaces. */
    CHECK(srv_gzip_acceptable("gzip, deflate, br") && srv_gzip_acceptable("br;q=1, gzip;q=0.5"));
    CHECK(srv_gzip_acceptable("gzip ; q=1"));
    CHECK(!srv_gzip_acceptable(NULL) && !srv_gzip_acceptable("br") && !srv_gzip_acceptable(""));
    CHECK(!srv_gzip_acceptable("gzip;q=0") && !srv_gzip_acceptable("gzip; q=0.000"));
    /* The version hash sees every byte. */
    CHECK(srv_fnv1a(SRV_FNV_SEED, "ab", 2) != srv_fnv1a(SRV_FNV_SEED, "ba", 2));
    CHECK(srv_fnv1a(srv_fnv1a(SRV_FNV_SEED, "a", 1), "b", 1) == srv_fnv1a(SRV_FNV_SEED, "ab", 2));
    DONE();
}
