/* Webhook secrets: creation, sealing under the daemon's key, and signatures (see webhooks.h). */
#include "server/webhooks.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

static unsigned char key[crypto_secretbox_KEYBYTES];
static int key_loaded;

static int read_key(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 1
                               : (snprintf(err, errlen, "cannot open the webhook key %s: %s", path,
                                           strerror(errno)),
                                  -1);
    struct stat sb;
    ssize_t n = fstat(fd, &sb) ? -1 : read(fd, key, sizeof key);
    char extra;
    int more = n == (ssize_t)sizeof key && read(fd, &extra, 1) > 0;
    close(fd);
    if (n != (ssize_t)sizeof key || more) {
        snprintf(err, errlen, "the webhook key %s must hold exactly %zu bytes", path, sizeof key);
        return -1;
    }
    if (sb.st_mode & 077) {
        snprintf(err, errlen, "the webhook key %s is readable by others: chmod 600 it", path);
        return -1;
    }
    return 0;
}

int srv_webhooks_key_init(const char *path, char *err, size_t errlen)
{
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium cannot start");
        return -1;
    }
    int rc = read_key(path, err, errlen);
    if (rc == 1) { /* missing: a new one, written atomically with mode 0600 */
        char tmp[4200];
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        crypto_secretbox_keygen(key);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        rc = fd < 0 || write(fd, key, sizeof key) != (ssize_t)sizeof key;
        rc |= fd >= 0 && (fsync(fd) | close(fd));
        if (rc || rename(tmp, path)) {
            snprintf(err, errlen, "cannot create the webhook key %s: %s", path, strerror(errno));
            unlink(tmp);
            return -1;
        }
    }
    key_loaded = rc == 0;
    return rc;
}

int srv_webhooks_ready(void)
{
    return key_loaded;
}

void srv_webhooks_new_secret(char *out)
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    memcpy(out, "whsec_", 6);
    sodium_bin2hex(out + 6, 65, raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
}

unsigned char *srv_webhooks_seal(const char *secret, size_t *len)
{
    size_t n = strlen(secret);
    if (!key_loaded || n > SRV_WEBHOOK_SECRET_LEN)
        return NULL;
    unsigned char *box = malloc(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + n);
    if (!box)
        return NULL;
    randombytes_buf(box, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(box + crypto_secretbox_NONCEBYTES, (const unsigned char *)secret, n, box,
                          key);
    *len = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + n;
    return box;
}

int srv_webhooks_open(const unsigned char *box, size_t len, char *out)
{
    size_t head = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES;
    if (!key_loaded || len < head || len - head > SRV_WEBHOOK_SECRET_LEN)
        return -1;
    if (crypto_secretbox_open_easy((unsigned char *)out, box + crypto_secretbox_NONCEBYTES,
                                   len - crypto_secretbox_NONCEBYTES, box, key))
        return -1;
    out[len - head] = 0;
    return 0;
}

void srv_webhooks_sign(const char *secret, int64_t t, const char *body, size_t len, char *sig)
{
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    char ts[32];
    int n = snprintf(ts, sizeof ts, "%" PRId64 ".", t);
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, (unsigned long long)n);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(sig, SRV_WEBHOOK_SIG_LEN + 1, mac, sizeof mac);
}
