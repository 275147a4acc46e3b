/* SHA-256 (FIPS 180-4), incremental: token hashes now, upload checksums later. No allocation. */
#ifndef SRV_SHA256_H
#define SRV_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct srv_sha256 {
    uint32_t h[8];
    uint64_t len; /* bytes hashed so far */
    uint8_t buf[64];
    size_t nbuf;
} srv_sha256;

void srv_sha256_init(srv_sha256 *s);
void srv_sha256_update(srv_sha256 *s, const void *data, size_t len);
/* Writes the 32-byte digest; s must be initialised again before reuse. */
void srv_sha256_final(srv_sha256 *s, uint8_t out[32]);
/* One-shot digest of data as 64 lowercase hex characters plus NUL in hex (size >= 65). */
void srv_sha256_hex(const void *data, size_t len, char hex[65]);
/* Lowercase hex of a 32-byte digest into hex (size >= 65). */
void srv_sha256_to_hex(const uint8_t digest[32], char hex[65]);

#endif
