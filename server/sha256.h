/* SHA-256 (FIPS 180-4), incremental: audit rows, token hashes, upload checksums, backup
 * manifests. libsodium's implementation (crypto_hash_sha256) behind a small API of our own,
 * plus the hex forms the database and the manifests store. No allocation. */
#ifndef SRV_SHA256_H
#define SRV_SHA256_H

#include <sodium.h>
#include <stddef.h>
#include <stdint.h>

typedef struct srv_sha256 {
    crypto_hash_sha256_state state;
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
