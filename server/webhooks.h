/* Webhook secrets and signatures. A subscription's secret ("whsec_" + 64 hex digits) is made by
 * the daemon, shown once at creation, and kept sealed (libsodium crypto_secretbox: XSalsa20-
 * Poly1305) under a 32-byte key read from --webhook-key-file (default <data-dir>/webhook.key,
 * created with mode 0600). The secret itself must stay usable, since it signs every delivery:
 * whoever holds both the database and the key file can recover it; the database alone cannot.
 * Each delivery carries  X-Relapsewatch-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>
 * computed with the secret (its ASCII bytes) over "<t>.<body>". */
#ifndef SRV_WEBHOOKS_H
#define SRV_WEBHOOKS_H

#include <stddef.h>
#include <stdint.h>

#define SRV_WEBHOOK_SECRET_LEN 70 /* "whsec_" + 64 hex */
#define SRV_WEBHOOK_SIG_LEN    64 /* hex HMAC-SHA256 */

/* Loads the key from path, or creates it (random, 0600, written atomically) when missing. Call
 * once at start-up before any other function here. 0, or -1 with a message in err. */
int srv_webhooks_key_init(const char *path, char *err, size_t errlen);
/* 1 once a key is loaded. */
int srv_webhooks_ready(void);

/* A new random secret into out (size > SRV_WEBHOOK_SECRET_LEN). */
void srv_webhooks_new_secret(char *out);
/* Seals secret: a new buffer (free()) of *len bytes (nonce, then ciphertext). NULL when no key
 * is loaded or out of memory. */
unsigned char *srv_webhooks_seal(const char *secret, size_t *len);
/* Opens a sealed secret into out (size > SRV_WEBHOOK_SECRET_LEN). 0, or -1 when the box does not
 * open under the loaded key (another key file, a damaged row). */
int srv_webhooks_open(const unsigned char *box, size_t len, char *out);

/* hex HMAC-SHA256 of "<t>.<body>" under secret into sig (size > SRV_WEBHOOK_SIG_LEN). */
void srv_webhooks_sign(const char *secret, int64_t t, const char *body, size_t len, char *sig);

#endif
