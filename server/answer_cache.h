/* A small cache of answers that are costly to build but rarely change (a sample's profile: a
 * quarter megabyte of JSON from its stored bins), each kept plain and gzip-compressed. An entry
 * is found by (kind, id) and used only while its version matches: the caller derives the version
 * from everything the answer depends on, so a stale entry is never served, only replaced.
 * Bounded (SRV_ANSWER_CACHE_SLOTS entries) and thread-safe. */
#ifndef SRV_ANSWER_CACHE_H
#define SRV_ANSWER_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "server/http.h"

#define SRV_ANSWER_CACHE_SLOTS 64

typedef struct srv_answer {
    char *plain; /* the answer's bytes (shared with the cache: read only) */
    size_t plain_len;
    unsigned char *gzip; /* the same, gzip-compressed (RFC 1952) */
    size_t gzip_len;
    struct srv_answer_bytes *shared; /* the cache's bytes this answer holds a reference to */
} srv_answer;

/* The entry (kind, id) at version into *out, sharing the cache's bytes (no copy; release with
 * srv_answer_free(), valid until then even if the entry is replaced): 1 when found, 0 when
 * absent or of another version. */
int srv_answer_cache_get(int kind, int64_t id, uint64_t version, srv_answer *out);
/* Stores a copy of plain[0..len) for (kind, id, version), compressing it, replacing any older
 * entry of (kind, id) or else the least recently stored one. Fills *out with a reference to
 * the stored bytes (release with srv_answer_free()) when out is not NULL. 0, or -1 when out of
 * memory. */
int srv_answer_cache_put(int kind, int64_t id, uint64_t version, const char *plain, size_t len,
                         srv_answer *out);
void srv_answer_free(srv_answer *a);

/* Whether req's client takes gzip (Accept-Encoding names it, not with q=0). */
int srv_accepts_gzip(srv_request *req);
/* The same for an Accept-Encoding value (NULL: no header): "gzip", "gzip;q=0.5" and
 * "gzip ; q=1" take it, "gzip;q=0" and "gzip; q=0.000" refuse it. */
int srv_gzip_acceptable(const char *accept_encoding);
/* Answers a read of patient data with a (JSON, released here): records the read in the audit
 * trail (entity_type, entity_id: server/audit.h; 500 and nothing served when it cannot), then
 * 200 with a's gzip form when the client takes it, else the plain one, sent from the shared
 * bytes without a copy; Vary: Accept-Encoding and Cache-Control: no-store. */
enum MHD_Result srv_answer_reply(srv_request *req, srv_answer *a, const char *entity_type,
                                 int64_t entity_id);

/* gzip-compresses data[0..len) into a new buffer (free()), *out_len its size. NULL on failure. */
unsigned char *srv_gzip_new(const void *data, size_t len, size_t *out_len);
/* FNV-1a 64-bit hash of data[0..len), seeded with h (start with SRV_FNV_SEED): versions. */
#define SRV_FNV_SEED 14695981039346656037ULL
uint64_t srv_fnv1a(uint64_t h, const void *data, size_t len);

#endif
