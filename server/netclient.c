/* The delivery thread's TCP client (see netclient.h). Every socket is non-blocking and each
 * step waits with poll() for what is left of one deadline, so a silent or slow receiver costs
 * at most the configured timeout; https runs GnuTLS over the same socket and deadline. */
#include "server/netclient.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <htslib/kstring.h>

#define MAX_ANSWER 65536 /* enough for a status line and headers, or an ACK */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Milliseconds left before deadline (0 when past). */
static int left_ms(double deadline)
{
    double d = (deadline - now_s()) * 1000;
    return d > 0 ? (int)d + 1 : 0;
}

static int wait_for(int fd, short events, double deadline)
{
    struct pollfd p = {.fd = fd, .events = events};
    int rc;
    do
        rc = poll(&p, 1, left_ms(deadline));
    while (rc < 0 && errno == EINTR);
    return rc > 0 ? 0 : -1;
}

/* A connected non-blocking socket to host:port, or -1 with err. */
static int connect_to(const char *host, const char *port, double deadline, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res, *ai;
    int rc = getaddrinfo(host, port, &hints, &res), fd = -1;
    if (rc) {
        snprintf(err, errlen, "cannot resolve the host: %s", gai_strerror(rc));
        return -1;
    }
    snprintf(err, errlen, "cannot connect");
    for (ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS) {
            snprintf(err, errlen, "cannot connect: %s", strerror(errno));
            close(fd);
            fd = -1;
            continue;
        }
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (wait_for(fd, POLLOUT, deadline) || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) ||
            soerr) {
            snprintf(err, errlen, "cannot connect: %s", soerr ? strerror(soerr) : "timed out");
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

/* A connection: the socket, and its TLS session for https (NULL for plain TCP). */
typedef struct net_link {
    int fd;
    gnutls_session_t tls;
} net_link;

static gnutls_certificate_credentials_t trust; /* CA certificates of https receivers */

int srv_net_tls_init(const char *ca_file, char *err, size_t errlen)
{
    int rc = gnutls_certificate_allocate_credentials(&trust);
    if (rc >= 0)
        rc = *ca_file ? gnutls_certificate_set_x509_trust_file(trust, ca_file, GNUTLS_X509_FMT_PEM)
                      : gnutls_certificate_set_x509_system_trust(trust);
    if (rc < 0 || (*ca_file && rc == 0)) {
        snprintf(err, errlen, "cannot load the CA certificates for https webhooks%s%s: %s",
                 *ca_file ? " from " : "", ca_file, rc < 0 ? gnutls_strerror(rc) : "none found");
        gnutls_certificate_free_credentials(trust);
        trust = NULL;
        return -1;
    }
    return 0;
}

void srv_net_tls_free(void)
{
    if (trust)
        gnutls_certificate_free_credentials(trust);
    trust = NULL;
}

/* Waits until a GnuTLS call that answered E_AGAIN can go on, in the direction it needs. */
static int tls_wait(net_link *l, double deadline)
{
    return wait_for(l->fd, gnutls_record_get_direction(l->tls) ? POLLOUT : POLLIN, deadline);
}

/* The TLS handshake with host (its name for SNI and for checking the certificate, which must
 * chain to the trusted CAs and name host). 0, or -1 with err. */
static int tls_start(net_link *l, const char *host, double deadline, char *err, size_t errlen)
{
    int rc;
    if (!trust) {
        snprintf(err, errlen, "TLS is not set up (no CA certificates loaded)");
        return -1;
    }
    if ((rc = gnutls_init(&l->tls, GNUTLS_CLIENT | GNUTLS_NONBLOCK)) < 0 ||
        (rc = gnutls_set_default_priority(l->tls)) < 0 ||
        (rc = gnutls_credentials_set(l->tls, GNUTLS_CRD_CERTIFICATE, trust)) < 0) {
        snprintf(err, errlen, "TLS set-up failed: %s", gnutls_strerror(rc));
        return -1;
    }
    struct in6_addr ip;
    if (!inet_pton(AF_INET, host, &ip) && !inet_pton(AF_INET6, host, &ip))
        gnutls_server_name_set(l->tls, GNUTLS_NAME_DNS, host, strlen(host));
    gnutls_session_set_verify_cert(l->tls, host, 0);
    gnutls_transport_set_int(l->tls, l->fd);
    gnutls_handshake_set_timeout(l->tls, GNUTLS_INDEFINITE_TIMEOUT);
    while ((rc = gnutls_handshake(l->tls)) < 0) {
        if (rc == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
            gnutls_datum_t why = {0};
            gnutls_certificate_verification_status_print(
                gnutls_session_get_verify_cert_status(l->tls), GNUTLS_CRT_X509, &why, 0);
            snprintf(err, errlen, "TLS: the receiver's certificate is refused: %s",
                     why.data ? (const char *)why.data : "not trusted");
            gnutls_free(why.data);
            return -1;
        }
        if (gnutls_error_is_fatal(rc) || tls_wait(l, deadline)) {
            snprintf(err, errlen, "TLS handshake failed: %s",
                     gnutls_error_is_fatal(rc) ? gnutls_strerror(rc) : "timed out");
            return -1;
        }
    }
    return 0;
}

static void link_close(net_link *l)
{
    if (l->tls) {
        gnutls_bye(l->tls, GNUTLS_SHUT_WR); /* best effort: the socket is non-blocking */
        gnutls_deinit(l->tls);
    }
    if (l->fd >= 0)
        close(l->fd);
}

/* Whether a send or receive that returned n only has to wait and try again. */
static int link_would_block(const net_link *l, ssize_t n)
{
    return l->tls ? n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED
                  : n < 0 && (errno == EAGAIN || errno == EINTR);
}

static int send_all(net_link *l, const char *data, size_t len, double deadline, char *err,
                    size_t errlen)
{
    while (len) {
        ssize_t n =
            l->tls ? gnutls_record_send(l->tls, data, len) : send(l->fd, data, len, MSG_NOSIGNAL);
        int again = link_would_block(l, n);
        if (n > 0) {
            data += n;
            len -= (size_t)n;
        } else if (!again) {
            snprintf(err, errlen, "send failed: %s",
                     l->tls ? gnutls_strerror((int)n) : strerror(errno));
            return -1;
        } else if (l->tls ? tls_wait(l, deadline) : wait_for(l->fd, POLLOUT, deadline)) {
            snprintf(err, errlen, "send timed out");
            return -1;
        }
    }
    return 0;
}

/* Reads into ans until done(ans) says the answer is whole, the peer closes, MAX_ANSWER, or the
 * deadline. 0 when done() held (or the peer closed after some bytes), else -1 with err. */
static int recv_until(net_link *l, kstring_t *ans, int (*done)(const kstring_t *), double deadline,
                      char *err, size_t errlen)
{
    char buf[4096];
    while (!done(ans)) {
        if (ans->l >= MAX_ANSWER) {
            snprintf(err, errlen, "answer too long");
            return -1;
        }
        ssize_t n =
            l->tls ? gnutls_record_recv(l->tls, buf, sizeof buf) : recv(l->fd, buf, sizeof buf, 0);
        int again = link_would_block(l, n);
        if (n > 0) {
            if (kputsn(buf, (size_t)n, ans) < 0) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
        } else if (n == 0 || (l->tls && n == GNUTLS_E_PREMATURE_TERMINATION)) {
            if (ans->l)
                return 0;
            snprintf(err, errlen, "connection closed without an answer");
            return -1;
        } else if (!again) {
            snprintf(err, errlen, "receive failed: %s",
                     l->tls ? gnutls_strerror((int)n) : strerror(errno));
            return -1;
        } else if (l->tls ? tls_wait(l, deadline) : wait_for(l->fd, POLLIN, deadline)) {
            snprintf(err, errlen, "no answer within the timeout");
            return -1;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- HTTP */

int srv_url_parse(const char *url, srv_url *u, char *why, size_t whylen)
{
    memset(u, 0, sizeof *u);
    u->tls = !strncmp(url, "https://", 8);
    if (!u->tls && strncmp(url, "http://", 7)) {
        snprintf(why, whylen, "must be an http:// or https:// URL");
        return -1;
    }
    const char *h = url + (u->tls ? 8 : 7), *end = h + strcspn(h, "/?#"), *colon;
    if (strchr(url, '#') || strpbrk(url, " \t\r\n\"<>\\") || strchr(h, '@')) {
        snprintf(why, whylen, "must not hold spaces, quotes, a fragment or user credentials");
        return -1;
    }
    if (*h == '[') { /* [IPv6]:port */
        const char *close = memchr(h, ']', (size_t)(end - h));
        if (!close || close - h - 1 >= (long)sizeof u->host)
            goto bad_host;
        memcpy(u->host, h + 1, (size_t)(close - h - 1));
        colon = close[1] == ':' ? close + 1 : NULL;
        if (!colon && close + 1 != end)
            goto bad_host;
    } else {
        colon = memchr(h, ':', (size_t)(end - h));
        size_t hl = (size_t)((colon ? colon : end) - h);
        if (!hl || hl >= sizeof u->host)
            goto bad_host;
        memcpy(u->host, h, hl);
    }
    if (colon) {
        size_t pl = (size_t)(end - colon - 1);
        long port =
            pl && pl < 6 && strspn(colon + 1, "0123456789") >= pl ? strtol(colon + 1, NULL, 10) : 0;
        if (port < 1 || port > 65535) {
            snprintf(why, whylen, "the port must be a number from 1 to 65535");
            return -1;
        }
        snprintf(u->port, sizeof u->port, "%d", (int)(port & 0xffff));
    } else
        snprintf(u->port, sizeof u->port, "%s", u->tls ? "443" : "80");
    if (!u->host[0])
        goto bad_host;
    size_t pl = strlen(end), lead = *end != '/';
    if (pl + lead >= sizeof u->path) {
        snprintf(why, whylen, "the path is too long");
        return -1;
    }
    u->path[0] = '/';
    memcpy(u->path + lead, end, pl + 1);
    return 0;
bad_host:
    snprintf(why, whylen, "the host is missing or malformed");
    return -1;
}

static int http_head_done(const kstring_t *s)
{
    return s->l >= 12 && strstr(s->s, "\r\n\r\n") != NULL;
}

/* Opens l to host:port, with TLS when tls. 0, or -1 with err (l closed). */
static int link_open(net_link *l, const char *host, const char *port, int tls, double deadline,
                     char *err, size_t errlen)
{
    l->tls = NULL;
    if ((l->fd = connect_to(host, port, deadline, err, errlen)) < 0)
        return -1;
    if (tls && tls_start(l, host, deadline, err, errlen)) {
        link_close(l);
        l->fd = -1;
        l->tls = NULL;
        return -1;
    }
    return 0;
}

int srv_http_post(const char *url, const srv_http_header *headers, size_t nheaders,
                  const char *body, size_t len, int timeout_s, char *err, size_t errlen)
{
    srv_url u;
    kstring_t req = {0}, ans = {0};
    int status = -1;
    net_link l;
    double deadline = now_s() + timeout_s;
    if (srv_url_parse(url, &u, err, errlen))
        return -1;
    int v6 = strchr(u.host, ':') != NULL;
    int default_port = !strcmp(u.port, u.tls ? "443" : "80");
    ksprintf(&req,
             "POST %s HTTP/1.1\r\nHost: %s%s%s%s%s\r\nUser-Agent: relapsewatchd\r\n"
             "Content-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n",
             u.path, v6 ? "[" : "", u.host, v6 ? "]" : "", default_port ? "" : ":",
             default_port ? "" : u.port, len);
    for (size_t i = 0; i < nheaders; i++)
        ksprintf(&req, "%s: %s\r\n", headers[i].name, headers[i].value);
    kputs("\r\n", &req);
    if (!req.s || link_open(&l, u.host, u.port, u.tls, deadline, err, errlen)) {
        free(req.s);
        return -1;
    }
    if (!send_all(&l, req.s, req.l, deadline, err, errlen) &&
        !send_all(&l, body, len, deadline, err, errlen) &&
        !recv_until(&l, &ans, http_head_done, deadline, err, errlen)) {
        int major, minor, code;
        if (ans.s && sscanf(ans.s, "HTTP/%d.%d %3d", &major, &minor, &code) == 3 && code >= 100 &&
            code <= 599)
            status = code;
        else
            snprintf(err, errlen, "the answer is not HTTP");
    }
    link_close(&l);
    free(req.s);
    free(ans.s);
    return status;
}

/* ---------------------------------------------------------------- MLLP */

static int mllp_done(const kstring_t *s)
{
    return s->l >= 2 && s->s[s->l - 2] == 0x1c && s->s[s->l - 1] == 0x0d;
}

/* Field n (1-based, after the segment name) of the segment starting at seg, into out. */
static void segment_field(const char *seg, int n, char *out, size_t size)
{
    const char *p = seg;
    for (int i = 0; i < n && p; i++) {
        p = strpbrk(p, "|\r");
        p = p && *p == '|' ? p + 1 : NULL;
    }
    size_t l = p ? strcspn(p, "|\r^") : 0;
    if (l >= size)
        l = size - 1;
    memcpy(out, p ? p : "", l);
    out[l] = 0;
}

int srv_mllp_send(const char *hostport, const char *msg, int timeout_s, char *ack_code,
                  char *ack_text, size_t textlen, char *err, size_t errlen)
{
    char host[256], port[8];
    const int tls = !strncmp(hostport, "mllps://", 8);
    hostport += tls ? 8 : 0;
    const char *colon = strrchr(hostport, ':');
    double deadline = now_s() + timeout_s;
    kstring_t ans = {0};
    int rc = -1;
    net_link l;
    if (!colon || colon == hostport || (size_t)(colon - hostport) >= sizeof host ||
        strlen(colon + 1) >= sizeof port || !colon[1]) {
        snprintf(err, errlen, "--hl7-mllp must be HOST:PORT or mllps://HOST:PORT");
        return -1;
    }
    memcpy(host, hostport, (size_t)(colon - hostport));
    host[colon - hostport] = 0;
    snprintf(port, sizeof port, "%s", colon + 1);
    if (link_open(&l, host, port, tls, deadline, err, errlen))
        return -1;
    if (!send_all(&l, "\x0b", 1, deadline, err, errlen) &&
        !send_all(&l, msg, strlen(msg), deadline, err, errlen) &&
        !send_all(&l, "\x1c\x0d", 2, deadline, err, errlen) &&
        !recv_until(&l, &ans, mllp_done, deadline, err, errlen)) {
        const char *msa = ans.s ? strstr(ans.s, "MSA|") : NULL;
        if (!ans.s || ans.s[0] != 0x0b || !mllp_done(&ans) || !msa)
            snprintf(err, errlen, "the answer is not an MLLP-framed ACK");
        else {
            segment_field(msa, 1, ack_code, 3);
            segment_field(msa, 3, ack_text, textlen);
            rc = 0;
        }
    }
    link_close(&l);
    free(ans.s);
    return rc;
}
