/* SHA-256 through libsodium (server/sha256.h). */
#include "server/sha256.h"

void srv_sha256_init(srv_sha256 *s)
{
    crypto_hash_sha256_init(&s->state);
}

void srv_sha256_update(srv_sha256 *s, const void *data, size_t len)
{
    crypto_hash_sha256_update(&s->state, data, len);
}

void srv_sha256_final(srv_sha256 *s, uint8_t out[32])
{
    crypto_hash_sha256_final(&s->state, out);
}

void srv_sha256_to_hex(const uint8_t digest[32], char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 15];
    }
    hex[64] = '\0';
}

void srv_sha256_hex(const void *data, size_t len, char hex[65])
{
    uint8_t d[32];
    crypto_hash_sha256(d, data, len);
    srv_sha256_to_hex(d, hex);
}
