/* The whole request path of the daemon: raw bytes sent over a socket to a relapsewatchd started
 * in this process (HTTP parsing, routing, authentication, JSON bodies, validators, query
 * strings, handlers and SQLite). "@T@" in the input stands for a valid admin token, so seeds
 * reach the handlers; the fuzzer mutates everything else. Job workers are off: an upload is
 * checked and queued, not analysed.
 *
 * Speed: the answer is framed (status line and headers, then Content-Length bytes), not awaited
 * until it pauses. A request that gets no answer (incomplete) is followed by a half-close, so
 * the daemon sees EOF and closes at once; a pause of 2 ms before it lets the daemon read the
 * bytes first (libmicrohttpd misses an EOF that arrives with the last bytes of a request). The
 * database lives on /dev/shm when there is one, so SQLite's fsyncs cost nothing. */
#include <arpa/inet.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz/fuzz.h"
#include "server/auth.h"
#include "server/db.h"
#include "server/http.h"
#include "server/jobs.h"
#include "server/log.h"
#include "server/options.h"

static int port;
static char token[65];
static const char *state_dir; /* the daemon's database and data folder */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* Best effort at exit: the folder would otherwise stay in /dev/shm (memory) after every run. */
static void remove_state_dir(void)
{
    nftw(state_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    static char shm[] = "/dev/shm/rw-fuzz-http-XXXXXX", tmp[] = "/tmp/rw-fuzz-http-XXXXXX";
    const char *dir = mkdtemp(shm) ? shm : mkdtemp(tmp);
    if (!dir)
        abort();
    state_dir = dir;
    atexit(remove_state_dir);
    char db_path[256], data_dir[256], web_root[512];
    snprintf(db_path, sizeof db_path, "%s/rw.db", dir);
    snprintf(data_dir, sizeof data_dir, "%s/data", dir);
    const char *src = getenv("RW_SRCDIR");
    snprintf(web_root, sizeof web_root, "%s/web", src ? src : ".");
    char *args[] = {"relapsewatchd", "--db",         db_path, "--data-dir", data_dir, "--listen",
                    "127.0.0.1:0",   "--workers",    "0",     "--threads",  "2",      "--web-root",
                    web_root,        "--max-upload", "1M",    NULL};
    static srv_config cfg;
    char err[512];
    srv_log_threshold = SRV_LOG_ERROR + 1; /* quiet: millions of requests */
    srv_db *db;
    sqlite3 *c;
    int64_t id;
    if (srv_config_load(&cfg, (int)(sizeof args / sizeof *args) - 1, args) ||
        !(db = srv_db_open(cfg.db_path, cfg.threads + 2, err, sizeof err)) ||
        !srv_jobs_start(&cfg, db, err, sizeof err) ||
        !srv_http_start(&cfg, db, &port, err, sizeof err) || !(c = srv_db_acquire(db)) ||
        srv_auth_create(c, "admin", "fuzz", token, &id)) {
        fprintf(stderr, "fuzz_http: cannot start the daemon: %s\n", err);
        abort();
    }
    srv_db_release(db, c);
    return 0; /* the daemon lives as long as the process */
}

/* Whether data[i..] starts with "@T@" (compared by hand: libFuzzer intercepts memcmp, and a
 * call per input byte cost a tenth of the harness's time). */
static int token_at(const uint8_t *data, size_t size, size_t i)
{
    return i + 3 <= size && data[i] == '@' && data[i + 1] == 'T' && data[i + 2] == '@';
}

/* The input with every "@T@" replaced by the token. */
static char *with_token(const uint8_t *data, size_t size, size_t *len)
{
    size_t tl = strlen(token), cap = size + 1, n = 0;
    for (size_t i = 0; i < size; i++)
        if (token_at(data, size, i))
            cap += tl;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    for (size_t i = 0; i < size;)
        if (token_at(data, size, i)) {
            memcpy(out + n, token, tl);
            n += tl;
            i += 3;
        } else {
            out[n++] = (char)data[i++];
        }
    *len = n;
    return out;
}

/* What is known of the answers read so far: one head at a time, then its body. */
typedef struct answer {
    char head[16384];
    size_t head_len;
    long long body_left; /* -1: reading a head; -2: a body without a length (until EOF) */
    int is_head_request; /* a HEAD request's answer has no body, whatever its Content-Length */
    int complete;        /* a final (non-1xx) answer was read whole */
} answer;

/* The body length of the answer whose head (NUL-terminated) was just read: 0 for 1xx, 204, 304
 * and HEAD (-1 for 1xx: the final answer follows); Content-Length; else -2. */
static long long body_length(answer *a)
{
    int status = 0;
    if (sscanf(a->head, "HTTP/1.%*d %d", &status) != 1)
        return -2;
    if (status >= 100 && status < 200)
        return -1;
    long long len = -2;
    for (const char *h = strchr(a->head, '\n'); h && h[1]; h = strchr(h + 1, '\n'))
        if (!strncasecmp(h + 1, "Content-Length:", 15))
            len = strtoll(h + 16, NULL, 10);
    return a->is_head_request || status == 204 || status == 304 ? 0 : len;
}

/* Takes n more bytes of the answers. */
static void answer_feed(answer *a, const char *p, size_t n)
{
    while (n && !a->complete) {
        if (a->body_left == -2)
            return; /* read until EOF */
        if (a->body_left >= 0) {
            size_t take = (unsigned long long)a->body_left < n ? (size_t)a->body_left : n;
            a->body_left -= (long long)take;
            p += take;
            n -= take;
            a->complete = a->body_left == 0;
            continue;
        }
        if (a->head_len + 1 >= sizeof a->head) {
            a->body_left = -2; /* a head this long: not ours to frame */
            return;
        }
        a->head[a->head_len++] = *p++;
        n--;
        a->head[a->head_len] = '\0';
        if (a->head_len >= 4 && !memcmp(a->head + a->head_len - 4, "\r\n\r\n", 4)) {
            a->body_left = body_length(a);
            a->head_len = 0;
            a->complete = a->body_left == 0;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t len;
    char *req = with_token(data, size, &len);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (!req || fd < 0)
        abort();
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* A refused or failed connect is retried for a second (the daemon's backlog can fill for a
     * moment while another fuzzer shares the machine); after that the daemon died: abort. */
    for (int tries = 0; connect(fd, (struct sockaddr *)&a, sizeof a); tries++) {
        if (tries == 100) {
            perror("fuzz_http: connect");
            abort();
        }
        close(fd);
        if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
            abort();
        usleep(10000);
    }
    for (size_t off = 0; off < len;) {
        ssize_t w = send(fd, req + off, len - off, MSG_NOSIGNAL);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    /* The first answer is read whole, or the daemon closes: either ends the input. 2 ms without
     * a byte: the request is incomplete (or slow), so half-close; 1 s without a byte after that:
     * give up (the daemon goes on alone; an input slower than -timeout is a finding). */
    answer ans = {.body_left = -1, .is_head_request = len >= 5 && !memcmp(req, "HEAD ", 5)};
    char buf[16384];
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int half_closed = 0;
    for (;;) {
        if (poll(&p, 1, half_closed ? 1000 : 2) <= 0) {
            if (half_closed)
                break;
            shutdown(fd, SHUT_WR);
            half_closed = 1;
            continue;
        }
        ssize_t got = recv(fd, buf, sizeof buf, 0);
        if (got <= 0)
            break;
        answer_feed(&ans, buf, (size_t)got);
        if (ans.complete)
            break;
    }
    /* Reset rather than close, so neither side keeps the connection in TIME_WAIT (thousands of
     * connections a second would exhaust the loopback's ports). */
    struct linger reset = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    close(fd);
    free(req);
    return 0;
}
