/* Unit tests of the interop building blocks: HL7 v2 escaping, http(s):// URL parsing (malformed
 * URLs refused with a reason), webhook signatures (against Python's hmac), and the
 * sealing of secrets (a box opens under its key only). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "server/hl7.h"
#include "server/netclient.h"
#include "server/webhooks.h"

static void test_escape(void)
{
    kstring_t s = {0};
    CHECK(srv_hl7_escape(&s, "a|b^c~d\\e&f\rg\nh") == 0);
    CHECK(s.s && !strcmp(s.s, "a\\F\\b\\S\\c\\R\\d\\E\\e\\T\\f\\X0D\\g\\X0A\\h"));
    s.l = 0;
    CHECK(srv_hl7_escape(&s, "plain 1.2") == 0 && !strcmp(s.s, "plain 1.2"));
    s.l = 0;
    CHECK(srv_hl7_escape(&s, NULL) == 0 && s.l == 0);
    free(s.s);
}

static void test_url(void)
{
    srv_url u;
    char why[200];
    CHECK(srv_url_parse("http://lims.example:8081/hook?x=1", &u, why, sizeof why) == 0);
    CHECK(!strcmp(u.host, "lims.example") && !strcmp(u.port, "8081") &&
          !strcmp(u.path, "/hook?x=1"));
    CHECK(srv_url_parse("http://10.0.0.2", &u, why, sizeof why) == 0);
    CHECK(!strcmp(u.port, "80") && !strcmp(u.path, "/"));
    CHECK(srv_url_parse("http://[::1]:9000/h", &u, why, sizeof why) == 0);
    CHECK(!strcmp(u.host, "::1") && !strcmp(u.port, "9000"));
    CHECK(srv_url_parse("https://lims.example/hook", &u, why, sizeof why) == 0);
    CHECK(u.tls && !strcmp(u.port, "443") && !strcmp(u.host, "lims.example"));
    CHECK(srv_url_parse("http://lims.example/hook", &u, why, sizeof why) == 0 && !u.tls);
    static const char *const bad[] = {
        "ftp://x/",     "http://",       "http://:80/",  "http://x:0/",    "http://x:65536/",
        "http://x:8a/", "http://u:p@x/", "http://x/a b", "http://x/#frag", NULL};
    for (int i = 0; bad[i]; i++)
        CHECK(srv_url_parse(bad[i], &u, why, sizeof why) == -1 && why[0]);
}

static void test_sign_and_seal(void)
{
    char sig[SRV_WEBHOOK_SIG_LEN + 1], secret[SRV_WEBHOOK_SECRET_LEN + 1], back[80];
    /* python3: hmac.new(b'whsec_test', b'1700000000.{"a":1}', hashlib.sha256).hexdigest() */
    srv_webhooks_sign("whsec_test", 1700000000, "{\"a\":1}", 7, sig);
    CHECK(!strcmp(sig, "38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789"));

    char dir[] = "/tmp/rwkeyXXXXXX", path[64], err[256];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/webhook.key", dir);
    size_t len = 0;
    CHECK(srv_webhooks_seal("x", &len) == NULL); /* no key yet */
    CHECK(srv_webhooks_key_init(path, err, sizeof err) == 0 && srv_webhooks_ready());
    srv_webhooks_new_secret(secret);
    CHECK(strlen(secret) == SRV_WEBHOOK_SECRET_LEN && !strncmp(secret, "whsec_", 6));
    unsigned char *box = srv_webhooks_seal(secret, &len);
    CHECK(box && len > strlen(secret) && !memmem(box, len, secret + 6, 16));
    CHECK(box && srv_webhooks_open(box, len, back) == 0 && !strcmp(back, secret));
    if (box) {
        box[len - 1] ^= 1; /* a damaged box does not open */
        CHECK(srv_webhooks_open(box, len, back) == -1);
    }
    free(box);
    CHECK(srv_webhooks_key_init(path, err, sizeof err) == 0); /* the same key file reads back */
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    test_escape();
    test_url();
    test_sign_and_seal();
    DONE();
}
