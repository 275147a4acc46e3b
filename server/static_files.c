/* The pages' files (see static_files.h). */
#include "server/static_files.h"

#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/answer_cache.h"
#include "server/reply.h"
#include "server/router.h"

enum { STATIC_ANSWER = 2 }; /* this file's kind in the answer cache */

typedef struct file_type {
    const char *ext, *type;
    int text; /* worth compressing */
} file_type;

static const file_type *type_of(const char *path)
{
    static const file_type types[] = {
        {".html", "text/html; charset=utf-8", 1},
        {".js", "text/javascript; charset=utf-8", 1},
        {".mjs", "text/javascript; charset=utf-8", 1},
        {".css", "text/css; charset=utf-8", 1},
        {".svg", "image/svg+xml", 1},
        {".png", "image/png", 0},
        {".json", "application/json", 1},
        {".ico", "image/x-icon", 0},
        {".txt", "text/plain; charset=utf-8", 1},
        {".map", "application/json", 1},
        {".woff2", "font/woff2", 0},
        {"", "application/octet-stream", 0},
    };
    const size_t n = sizeof types / sizeof *types;
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < n - 1; i++)
        if (strcmp(dot, types[i].ext) == 0)
            return &types[i];
    return &types[n - 1];
}

static void not_found(srv_request *req)
{
    static const char page[] = "<!doctype html>\n<html><head><title>Not found</title></head>"
                               "<body><h1>Not found</h1><p><a href=\"/\">relapsewatch</a></p>"
                               "</body></html>\n";
    srv_reply_bytes(req, MHD_HTTP_NOT_FOUND, "text/html; charset=utf-8", page, sizeof page - 1);
}

/* The realpath of the file raw_path names under web_root, or NULL (free()). */
static char *resolve(const char *web_root, const char *raw_path)
{
    char *rel = srv_url_decode(raw_path, strlen(raw_path), 0), *real = NULL, full[PATH_MAX];
    if (!rel || rel[0] != '/')
        goto out;
    for (const char *s = rel; *s;) {
        const char *e = strchr(s + 1, '/');
        size_t l = e ? (size_t)(e - s - 1) : strlen(s + 1);
        if (l == 2 && s[1] == '.' && s[2] == '.')
            goto out;
        if (!e)
            break;
        s = e;
    }
    size_t rl = strlen(rel), root_len = strlen(web_root);
    int w = snprintf(full, sizeof full, "%s%s%s", web_root, rel,
                     rel[rl - 1] == '/' ? "index.html" : "");
    if (w < 0 || (size_t)w >= sizeof full || !(real = realpath(full, NULL)))
        goto out;
    if (strncmp(real, web_root, root_len) != 0 || real[root_len] != '/') {
        free(real);
        real = NULL;
    }
out:
    free(rel);
    return real;
}

/* Whether an If-None-Match header value names etag (or is "*"). */
static int etag_matches(const char *inm, const char *etag)
{
    if (!inm)
        return 0;
    if (strcmp(inm, "*") == 0)
        return 1;
    /* A list of tags; a weak comparison, so W/"x" and "x" match. */
    const char *bare = etag[0] == 'W' ? etag + 2 : etag;
    for (const char *p = strstr(inm, bare); p; p = strstr(p + 1, bare)) {
        char after = p[strlen(bare)];
        if (after == '\0' || after == ',' || after == ' ')
            return 1;
    }
    return 0;
}

/* The file's gzip form from the cache, made on first use: 1 filled, 0 not available. */
static int gzip_of(int fd, const struct stat *sb, uint64_t version, srv_answer *a)
{
    if (srv_answer_cache_get(STATIC_ANSWER, (int64_t)sb->st_ino, version, a) == 1)
        return 1;
    size_t n = (size_t)sb->st_size;
    char *text = malloc(n ? n : 1);
    int ok = text && pread(fd, text, n, 0) == (ssize_t)n &&
             srv_answer_cache_put(STATIC_ANSWER, (int64_t)sb->st_ino, version, text, n, a) == 0;
    free(text);
    return ok;
}

void srv_static_serve(srv_request *req, const char *web_root, const char *raw_path)
{
    char *real = web_root ? resolve(web_root, raw_path) : NULL;
    struct stat sb;
    int fd = real ? open(real, O_RDONLY | O_CLOEXEC) : -1;
    if (fd < 0 || fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
        not_found(req);
        goto done;
    }
    const file_type *t = type_of(real);
    /* The validator changes with the file: size and modification time to the nanosecond. */
    char etag[64];
    snprintf(etag, sizeof etag, "W/\"%jx-%jx.%lx\"", (uintmax_t)sb.st_size,
             (uintmax_t)sb.st_mtim.tv_sec, (unsigned long)sb.st_mtim.tv_nsec);
    uint64_t version = srv_fnv1a(SRV_FNV_SEED, etag, strlen(etag));
    struct MHD_Response *resp = NULL;
    srv_answer a = {0};
    unsigned status = MHD_HTTP_OK;
    int gz = 0;
    if (etag_matches(
            MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH),
            etag)) {
        status = MHD_HTTP_NOT_MODIFIED;
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    } else if (t->text && srv_accepts_gzip(req) && (gz = gzip_of(fd, &sb, version, &a))) {
        resp = MHD_create_response_from_buffer(a.gzip_len, a.gzip, MHD_RESPMEM_MUST_FREE);
        if (resp)
            a.gzip = NULL; /* MHD frees it */
    } else {
        /* MHD owns fd from here and closes it with the response. */
        resp = MHD_create_response_from_fd64((uint64_t)sb.st_size, fd);
        if (resp)
            fd = -1;
    }
    srv_answer_free(&a);
    if (!resp) {
        srv_reply_internal(req, "cannot create a file response");
        goto done;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, t->type);
    /* Revalidate every time: a 304 costs a round trip, a stale page after an upgrade costs more. */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
    if (t->text)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
    if (gz)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    req->response = resp;
    req->status = status;
    req->answered = 1;
done:
    if (fd >= 0)
        close(fd);
    free(real);
}
