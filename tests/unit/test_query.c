/* Unit tests of server/query.c's cursors: the opaque text a list hands out as next_cursor is
 * base64url of "<sort key>|<id>"; what it encodes decodes back byte for byte at every length,
 * and what it never hands out (other alphabets, impossible lengths, a NUL inside) is refused. The
 * HTTP side (srv_query_cursor's 422, the pages) is in tests/integration/test_contract.sh. */
#include "server/query.c" /* the static base64url coder */
#include "tests/unit/harness.h"

static void test_round_trip(void)
{
    const char *texts[] = {"", "|1", "2025-03-01|17", "a", "ab", "abc", "abcd", "\xff\xfe|9"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        char enc[64], dec[64];
        b64_encode((const unsigned char *)texts[i], strlen(texts[i]), enc);
        CHECK(strspn(enc, b64url) == strlen(enc)); /* URL-safe: no +, / or = */
        CHECK(b64_decode(enc, dec, sizeof dec) == 0 && strcmp(dec, texts[i]) == 0);
    }
}

static void test_refused(void)
{
    char dec[64];
    CHECK(b64_decode("abc!", dec, sizeof dec) == -1);  /* outside the alphabet */
    CHECK(b64_decode("ab+/", dec, sizeof dec) == -1);  /* standard base64, not base64url */
    CHECK(b64_decode("abcde", dec, sizeof dec) == -1); /* 4n + 1 characters: no such text */
    CHECK(b64_decode("AA", dec, sizeof dec) == -1);    /* decodes to a NUL byte */
    CHECK(b64_decode("YWJjZGVm", dec, 4) == -1);       /* longer than the room given */
}

int main(void)
{
    test_round_trip();
    test_refused();
    DONE();
}
