/* The whole request path of the daemon: raw bytes sent over a socket to a relapsewatchd started
 * in this process (HTTP parsing, routing, authentication, JSON bodies, validators, query
 * strings, handlers and SQLite). "@T@" in the input stands for a valid admin token, so seeds
 * reach the handlers; the fuzzer mutates everything else. Job workers are off: an upload is
 * checked and queued, not analysed. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    static char dir[] = "/tmp/rw-fuzz-http-XXXXXX";
    if (!mkdtemp(dir))
        abort();
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

/* The input with every "@T@" replaced by the token. */
static char *with_token(const uint8_t *data, size_t size, size_t *len)
{
    size_t tl = strlen(token), cap = size + 1, n = 0;
    for (size_t i = 0; i + 3 <= size; i++)
        if (!memcmp(data + i, "@T@", 3))
            cap += tl;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    for (size_t i = 0; i < size;)
        if (i + 3 <= size && !memcmp(data + i, "@T@", 3)) {
            memcpy(out + n, token, tl);
            n += tl;
            i += 3;
        } else {
            out[n++] = (char)data[i++];
        }
    *len = n;
    return out;
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
    if (connect(fd, (struct sockaddr *)&a, sizeof a))
        abort(); /* the daemon died or stopped accepting */
    for (size_t off = 0; off < len;) {
        ssize_t w = send(fd, req + off, len - off, MSG_NOSIGNAL);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    /* The daemon keeps a connection open after its answer (keep-alive, even half-closed), so
     * read until the answer pauses, then reset the connection (SO_LINGER 0) so that the daemon
     * frees its slot at once. An incomplete request simply gets no answer. */
    char buf[4096];
    struct pollfd p = {.fd = fd, .events = POLLIN};
    for (int wait_ms = 50; poll(&p, 1, wait_ms) > 0 && recv(fd, buf, sizeof buf, 0) > 0;)
        wait_ms = 20;
    struct linger reset = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    close(fd);
    free(req);
    return 0;
}
