/* Unit tests of server/sha256: NIST vectors, and streaming in uneven pieces agrees with one
 * shot. */
#include "server/sha256.h"
#include "tests/unit/harness.h"

#include <string.h>

static int sha_is(const char *msg, const char *want)
{
    char hex[65];
    srv_sha256_hex(msg, strlen(msg), hex);
    return strcmp(hex, want) == 0;
}

static void test_sha256(void)
{
    /* FIPS 180-2 appendix B and the empty message. */
    CHECK(sha_is("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    CHECK(sha_is("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    CHECK(sha_is("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
    /* One million 'a', fed in uneven pieces to exercise the buffering across blocks. */
    srv_sha256 s;
    uint8_t d[32];
    char hex[65], chunk[997];
    memset(chunk, 'a', sizeof chunk);
    srv_sha256_init(&s);
    size_t left = 1000000;
    for (size_t k = 1; left; k = k % 900 + 7) {
        size_t n = k < left ? k : left;
        srv_sha256_update(&s, chunk, n);
        left -= n;
    }
    srv_sha256_final(&s, d);
    srv_sha256_to_hex(d, hex);
    CHECK(!strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
    /* Lengths around the padding boundary (55, 56, 64 bytes) agree between one-shot and split. */
    for (size_t n = 54; n <= 65; n++) {
        char one[65], two[65];
        srv_sha256_hex(chunk, n, one);
        srv_sha256_init(&s);
        srv_sha256_update(&s, chunk, n / 3);
        srv_sha256_update(&s, chunk, n - n / 3);
        srv_sha256_final(&s, d);
        srv_sha256_to_hex(d, two);
        CHECK(!strcmp(one, two));
    }
}

int main(void)
{
    test_sha256();
    DONE();
}
