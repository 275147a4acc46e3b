/* The pages' files (see static_files.h). */
#include "server/static_files.h"

#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/answer_cache.h" /* srv_gzip_new, srv_accepts_gzip */
#include "server/reply.h"
#include "server/router.h"

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

/* ---------------------------------------------------------------- files kept in memory */

/* A file served before, kept with its bytes: the next request for the same path costs one
 * stat() of the resolved file (so a change shows at once) instead of resolving the path,
 * opening and reading it. Entries are shared with MHD while it sends them (refs). */
typedef struct kept_file {
    char *raw_path; /* the request's path as it came (percent-encoded) */
    char *real;     /* its realpath under the root, checked when it was resolved */
    struct stat sb; /* as when read: a different size, mtime or inode means re-read */
    char etag[64];  /* size and modification time to the nanosecond */
    const file_type *type;
    char *plain;         /* the bytes */
    unsigned char *gzip; /* their gzip form for a text file, made on first use; or NULL */
    size_t gzip_len;
    int refs; /* the table's reference and one per response being sent; under table_lock */
} kept_file;

#define KEPT_FILES     64
#define KEPT_MAX_BYTES (4 << 20) /* bigger files are sent from disk */
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static kept_file *table[KEPT_FILES];
static unsigned next_victim;

/* The validator: changes with the file (size and modification time to the nanosecond). */
static void make_etag(const struct stat *sb, char etag[64])
{
    snprintf(etag, 64, "W/\"%jx-%jx.%lx\"", (uintmax_t)sb->st_size, (uintmax_t)sb->st_mtim.tv_sec,
             (unsigned long)sb->st_mtim.tv_nsec);
}

static void kept_unref(void *cls)
{
    kept_file *k = cls;
    pthread_mutex_lock(&table_lock);
    int last = --k->refs == 0;
    pthread_mutex_unlock(&table_lock);
    if (!last)
        return;
    free(k->raw_path);
    free(k->real);
    free(k->plain);
    free(k->gzip);
    free(k);
}

static int same_file(const struct stat *a, const struct stat *b)
{
    return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* The kept entry of raw_path, still the same file on disk, with a reference for the caller;
 * NULL when there is none or the file changed (the entry is dropped then). */
static kept_file *kept_find(const char *raw_path)
{
    kept_file *k = NULL;
    int slot = -1;
    pthread_mutex_lock(&table_lock);
    for (int i = 0; i < KEPT_FILES && slot < 0; i++)
        if (table[i] && strcmp(table[i]->raw_path, raw_path) == 0) {
            slot = i;
            k = table[i];
            k->refs++;
        }
    pthread_mutex_unlock(&table_lock);
    if (!k)
        return NULL;
    struct stat now;
    if (stat(k->real, &now) == 0 && S_ISREG(now.st_mode) && same_file(&now, &k->sb))
        return k;
    pthread_mutex_lock(&table_lock);
    int drop = table[slot] == k;
    if (drop)
        table[slot] = NULL;
    pthread_mutex_unlock(&table_lock);
    if (drop)
        kept_unref(k);
    kept_unref(k);
    return NULL;
}

/* Reads the open file fd (resolved to real) into a new entry and keeps it; the caller holds a
 * reference. NULL when too big or out of memory (then it is sent from disk). */
static kept_file *kept_add(const char *raw_path, const char *real, int fd, const struct stat *sb)
{
    if (sb->st_size > KEPT_MAX_BYTES)
        return NULL;
    kept_file *k = calloc(1, sizeof *k);
    size_t n = (size_t)sb->st_size;
    if (!k || !(k->raw_path = strdup(raw_path)) || !(k->real = strdup(real)) ||
        !(k->plain = malloc(n ? n : 1)) || pread(fd, k->plain, n, 0) != (ssize_t)n) {
        if (k) {
            k->refs = 1;
            kept_unref(k);
        }
        return NULL;
    }
    k->sb = *sb;
    k->type = type_of(real);
    make_etag(sb, k->etag);
    k->refs = 2; /* the table's and the caller's */
    kept_file *old = NULL;
    pthread_mutex_lock(&table_lock);
    int slot = -1;
    for (int i = 0; i < KEPT_FILES && slot < 0; i++)
        if (!table[i] || strcmp(table[i]->raw_path, raw_path) == 0)
            slot = i;
    if (slot < 0)
        slot = (int)(next_victim++ % KEPT_FILES);
    old = table[slot];
    table[slot] = k;
    pthread_mutex_unlock(&table_lock);
    if (old)
        kept_unref(old);
    return k;
}

/* k's gzip form, made once (under the table's lock, so two requests do not both make it).
 * 0 when available. */
static int kept_gzip(kept_file *k)
{
    pthread_mutex_lock(&table_lock);
    if (!k->gzip)
        k->gzip = srv_gzip_new(k->plain, (size_t)k->sb.st_size, &k->gzip_len);
    int ok = k->gzip != NULL;
    pthread_mutex_unlock(&table_lock);
    return ok ? 0 : -1;
}

/* The kept file raw_path names, resolving, opening and reading it when it is not kept yet;
 * with a reference for the caller. NULL when it is not a file under the root (404). Sets *fd to
 * an open descriptor (the caller closes it), *sb and *type for a file too big to keep. */
static kept_file *find_file(const char *web_root, const char *raw_path, int *fd, struct stat *sb,
                            const file_type **type)
{
    *fd = -1;
    kept_file *k = kept_find(raw_path);
    if (k)
        return k;
    char *real = resolve(web_root, raw_path);
    *fd = real ? open(real, O_RDONLY | O_CLOEXEC) : -1;
    if (*fd >= 0 && (fstat(*fd, sb) || !S_ISREG(sb->st_mode))) {
        close(*fd);
        *fd = -1;
    }
    if (*fd >= 0 && (k = kept_add(raw_path, real, *fd, sb))) {
        close(*fd);
        *fd = -1;
    }
    if (*fd >= 0)
        *type = type_of(real);
    free(real);
    return k;
}

void srv_static_serve(srv_request *req, const char *web_root, const char *raw_path)
{
    struct stat sb;
    int fd = -1;
    const file_type *t = NULL;
    kept_file *k = web_root ? find_file(web_root, raw_path, &fd, &sb, &t) : NULL;
    if (!k && fd < 0) {
        not_found(req);
        return;
    }
    char etag[64];
    if (k) {
        t = k->type;
        memcpy(etag, k->etag, sizeof etag);
    } else {
        make_etag(&sb, etag); /* a big file, sent from disk */
    }
    struct MHD_Response *resp = NULL;
    unsigned status = MHD_HTTP_OK;
    int gz = 0;
    if (etag_matches(
            MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH),
            etag)) {
        status = MHD_HTTP_NOT_MODIFIED;
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    } else if (k) {
        /* Sent from the entry itself, which MHD releases when done: no copy. */
        gz = t->text && srv_accepts_gzip(req) && kept_gzip(k) == 0;
        resp = MHD_create_response_from_buffer_with_free_callback_cls(
            gz ? k->gzip_len : (size_t)k->sb.st_size, gz ? (void *)k->gzip : k->plain, kept_unref,
            k);
        if (resp)
            k = NULL; /* MHD holds that reference now */
    } else {
        /* MHD owns fd from here and closes it with the response. */
        resp = MHD_create_response_from_fd64((uint64_t)sb.st_size, fd);
        if (resp)
            fd = -1;
    }
    if (k)
        kept_unref(k);
    if (fd >= 0)
        close(fd);
    if (!resp) {
        srv_reply_internal(req, "cannot create a file response");
        return;
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
}
