/* The delivery thread's TCP client (see netclient.h). Every socket is non-blocking and each
 * step waits with poll() for what is left of one deadline, so a silent or slow receiver costs
 * at most the configured timeout. */
#include "server/netclient.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

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

static int send_all(int fd, const char *data, size_t len, double deadline, char *err, size_t errlen)
{
    while (len) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n > 0) {
            data += n;
            len -= (size_t)n;
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
            snprintf(err, errlen, "send failed: %s", strerror(errno));
            return -1;
        } else if (wait_for(fd, POLLOUT, deadline)) {
            snprintf(err, errlen, "send timed out");
            return -1;
        }
    }
    return 0;
}

/* Reads into ans until done(ans) says the answer is whole, the peer closes, MAX_ANSWER, or the
 * deadline. 0 when done() held (or the peer closed after some bytes), else -1 with err. */
static int recv_until(int fd, kstring_t *ans, int (*done)(const kstring_t *), double deadline,
                      char *err, size_t errlen)
{
    char buf[4096];
    while (!done(ans)) {
        if (ans->l >= MAX_ANSWER) {
            snprintf(err, errlen, "answer too long");
            return -1;
        }
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n > 0) {
            if (kputsn(buf, (size_t)n, ans) < 0) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
        } else if (n == 0) {
            if (ans->l)
                return 0;
            snprintf(err, errlen, "connection closed without an answer");
            return -1;
        } else if (errno != EAGAIN && errno != EINTR) {
            snprintf(err, errlen, "receive failed: %s", strerror(errno));
            return -1;
        } else if (wait_for(fd, POLLIN, deadline)) {
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
    if (!strncmp(url, "https://", 8)) {
        snprintf(why, whylen,
                 "https is not supported (this daemon has no TLS client): use an "
                 "http:// URL, e.g. a local relay");
        return -1;
    }
    if (strncmp(url, "http://", 7)) {
        snprintf(why, whylen, "must be an http:// URL");
        return -1;
    }
    const char *h = url + 7, *end = h + strcspn(h, "/?#"), *colon;
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
        snprintf(u->port, sizeof u->port, "80");
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

int srv_http_post(const char *url, const srv_http_header *headers, size_t nheaders,
                  const char *body, size_t len, int timeout_s, char *err, size_t errlen)
{
    srv_url u;
    kstring_t req = {0}, ans = {0};
    int status = -1, fd;
    double deadline = now_s() + timeout_s;
    if (srv_url_parse(url, &u, err, errlen))
        return -1;
    int v6 = strchr(u.host, ':') != NULL;
    ksprintf(&req,
             "POST %s HTTP/1.1\r\nHost: %s%s%s%s%s\r\nUser-Agent: relapsewatchd\r\n"
             "Content-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n",
             u.path, v6 ? "[" : "", u.host, v6 ? "]" : "", strcmp(u.port, "80") ? ":" : "",
             strcmp(u.port, "80") ? u.port : "", len);
    for (size_t i = 0; i < nheaders; i++)
        ksprintf(&req, "%s: %s\r\n", headers[i].name, headers[i].value);
    kputs("\r\n", &req);
    if (!req.s || (fd = connect_to(u.host, u.port, deadline, err, errlen)) < 0) {
        free(req.s);
        return -1;
    }
    if (!send_all(fd, req.s, req.l, deadline, err, errlen) &&
        !send_all(fd, body, len, deadline, err, errlen) &&
        !recv_until(fd, &ans, http_head_done, deadline, err, errlen)) {
        int major, minor, code;
        if (ans.s && sscanf(ans.s, "HTTP/%d.%d %3d", &major, &minor, &code) == 3 && code >= 100 &&
            code <= 599)
            status = code;
        else
            snprintf(err, errlen, "the answer is not HTTP");
    }
    close(fd);
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
    const char *colon = strrchr(hostport, ':');
    double deadline = now_s() + timeout_s;
    kstring_t ans = {0};
    int rc = -1, fd;
    if (!colon || colon == hostport || (size_t)(colon - hostport) >= sizeof host ||
        strlen(colon + 1) >= sizeof port || !colon[1]) {
        snprintf(err, errlen, "--hl7-mllp must be HOST:PORT");
        return -1;
    }
    memcpy(host, hostport, (size_t)(colon - hostport));
    host[colon - hostport] = 0;
    snprintf(port, sizeof port, "%s", colon + 1);
    if ((fd = connect_to(host, port, deadline, err, errlen)) < 0)
        return -1;
    if (!send_all(fd, "\x0b", 1, deadline, err, errlen) &&
        !send_all(fd, msg, strlen(msg), deadline, err, errlen) &&
        !send_all(fd, "\x1c\x0d", 2, deadline, err, errlen) &&
        !recv_until(fd, &ans, mllp_done, deadline, err, errlen)) {
        const char *msa = ans.s ? strstr(ans.s, "MSA|") : NULL;
        if (!ans.s || ans.s[0] != 0x0b || !mllp_done(&ans) || !msa)
            snprintf(err, errlen, "the answer is not an MLLP-framed ACK");
        else {
            segment_field(msa, 1, ack_code, 3);
            segment_field(msa, 3, ack_text, textlen);
            rc = 0;
        }
    }
    close(fd);
    free(ans.s);
    return rc;
}
