/* Streaming uploads to a temporary file (see uploads.h). */
#include "server/uploads.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "server/datadir.h"
#include "server/db.h"
#include "server/log.h"
#include "server/options.h"
#include "server/reply.h"
#include "server/sha256.h"

/* The free space is measured again after every SPACE_CHECK_BYTES received. */
#define SPACE_CHECK_BYTES ((int64_t)16 << 20)

typedef struct upload {
    int fd;
    char tmp[4096]; /* temporary file; removed at completion unless kept */
    int kept;       /* renamed into place: leave it */
    srv_sha256 sha;
    int64_t size;
    int64_t cap;        /* this upload's own limit (--quota-sample), 0 for none */
    int64_t next_check; /* size at which the free space is measured again */
    char hex[65];       /* SHA-256 once the body is complete */
} upload;

static void upload_free(void *p)
{
    upload *u = p;
    if (!u)
        return;
    if (u->fd >= 0)
        close(u->fd);
    if (u->tmp[0] && !u->kept)
        unlink(u->tmp);
    free(u);
}

/* The request's upload state, created on first use (no file yet). NULL when out of memory. */
static upload *upload_state(srv_request *req)
{
    if (req->upload)
        return req->upload;
    upload *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    u->fd = -1;
    srv_sha256_init(&u->sha);
    req->upload = u;
    req->upload_free = upload_free;
    return u;
}

/* Creates the temporary file at the first byte of the body. 0, or -1 (logged). */
static int open_tmp(srv_request *req, upload *u)
{
    char rel[64];
    snprintf(rel, sizeof rel, "tmp/upload-%llu-XXXXXX", (unsigned long long)req->id);
    if (srv_datadir_path(req->cfg->data_dir, rel, u->tmp, sizeof u->tmp) ||
        (u->fd = mkstemp(u->tmp)) < 0) {
        srv_log(SRV_LOG_ERROR, "cannot create an upload file in %s/tmp: %s", req->cfg->data_dir,
                strerror(errno));
        u->tmp[0] = '\0';
        return -1;
    }
    return 0;
}

/* Drops what was received: the rest of the body is discarded. */
static void discard(upload *u)
{
    if (u->fd >= 0)
        close(u->fd);
    u->fd = -1;
    if (u->tmp[0])
        unlink(u->tmp);
    u->tmp[0] = '\0';
}

/* Bytes free for an unprivileged writer on the data folder's file system; -1 when unknown. */
static int64_t free_bytes(const char *dir)
{
    struct statvfs v;
    if (statvfs(dir, &v))
        return -1;
    return (int64_t)v.f_bavail * (int64_t)v.f_frsize;
}

/* `more` bytes still to come must leave --disk-reserve free: 0, or 1 after answering 507. */
static int check_space(srv_request *req, int64_t more)
{
    int64_t avail = free_bytes(req->cfg->data_dir);
    if (avail < 0 || avail - more >= req->cfg->disk_reserve)
        return 0;
    srv_log(SRV_LOG_WARN,
            "upload refused: %lld bytes free on the data disk, %lld more to come, "
            "reserve %lld",
            (long long)avail, (long long)more, (long long)req->cfg->disk_reserve);
    srv_reply_error(req, 507, "insufficient_storage", NULL,
                    "not enough free disk space for this upload: the server keeps a reserve of "
                    "%lld bytes (--disk-reserve)",
                    (long long)req->cfg->disk_reserve);
    return 1;
}

/* The stored inputs plus `more` within --quota-total: 0, or 1 after answering. */
static int check_total_quota(srv_request *req, int64_t more)
{
    if (req->cfg->quota_total <= 0)
        return 0;
    sqlite3_stmt *st = srv_db_prepare(req->db, "SELECT coalesce(sum(size), 0) FROM sample_inputs");
    int64_t used = -1;
    if (st && sqlite3_step(st) == SQLITE_ROW)
        used = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (used < 0) {
        srv_reply_internal(req, "cannot sum the stored inputs");
        return 1;
    }
    if (used + more <= req->cfg->quota_total)
        return 0;
    srv_reply_error(req, 507, "quota_exceeded", NULL,
                    "the stored inputs would exceed the total quota of %lld bytes "
                    "(--quota-total; %lld used)",
                    (long long)req->cfg->quota_total, (long long)used);
    return 1;
}

static int too_large(srv_request *req)
{
    srv_reply_error(req, 413, "body_too_large", NULL,
                    "the upload is larger than the limit of %lld bytes",
                    (long long)req->cfg->max_upload);
    return 1;
}

static int cap_exceeded(srv_request *req, int64_t cap)
{
    srv_reply_error(req, 413, "quota_exceeded", NULL,
                    "the upload is larger than the quota of %lld bytes per sample (--quota-sample)",
                    (long long)cap);
    return 1;
}

int srv_upload_headers_capped(srv_request *req, int64_t declared_length, int64_t cap)
{
    upload *u = upload_state(req);
    if (!u) {
        srv_reply_internal(req, "out of memory");
        return 1;
    }
    u->cap = cap;
    if (declared_length > req->cfg->max_upload)
        return too_large(req);
    if (cap > 0 && declared_length > cap)
        return cap_exceeded(req, cap);
    int64_t more = declared_length > 0 ? declared_length : 0;
    u->next_check = SPACE_CHECK_BYTES;
    return check_space(req, more) || check_total_quota(req, more);
}

int srv_upload_headers(srv_request *req, int64_t declared_length)
{
    return srv_upload_headers_capped(req, declared_length, 0);
}

/* The end of the body: durable before anything refers to it. */
static int finish(srv_request *req, upload *u)
{
    if (u->fd < 0 && open_tmp(req, u)) { /* an empty body */
        srv_reply_internal(req, "cannot store the upload");
        return 1;
    }
    if (fsync(u->fd) || close(u->fd)) {
        u->fd = -1;
        srv_reply_internal(req, "cannot flush the upload");
        return 1;
    }
    u->fd = -1;
    uint8_t d[32];
    srv_sha256_final(&u->sha, d);
    srv_sha256_to_hex(d, u->hex);
    return 0;
}

/* Streams one chunk to the temporary file (see router.h: size 0 marks the end). */
int srv_upload_chunk(srv_request *req, const char *data, size_t size)
{
    upload *u = upload_state(req);
    if (!u || (size > 0 && u->fd < 0 && !u->tmp[0] && open_tmp(req, u))) {
        srv_reply_internal(req, "cannot store the upload");
        return 1;
    }
    if (size == 0)
        return finish(req, u);
    int64_t after = u->size + (int64_t)size;
    if (after > req->cfg->max_upload) {
        discard(u);
        return too_large(req);
    }
    if (u->cap > 0 && after > u->cap) {
        discard(u);
        return cap_exceeded(req, u->cap);
    }
    if (after >= u->next_check) {
        u->next_check = after + SPACE_CHECK_BYTES;
        if (check_space(req, (int64_t)size)) {
            discard(u);
            return 1;
        }
    }
    srv_sha256_update(&u->sha, data, size);
    u->size = after;
    while (size > 0) {
        ssize_t w = write(u->fd, data, size);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            srv_log(SRV_LOG_ERROR, "writing an upload: %s", strerror(errno));
            discard(u);
            srv_reply_error(req, 507, "insufficient_storage", NULL,
                            "the server could not store the upload");
            return 1;
        }
        data += w;
        size -= (size_t)w;
    }
    return 0;
}

int srv_upload_file(srv_request *req, const char **path, const char **sha256, int64_t *size)
{
    upload *u = req->upload;
    if (!u || !u->hex[0] || !u->tmp[0])
        return -1;
    *path = u->tmp;
    *sha256 = u->hex;
    *size = u->size;
    return 0;
}

void srv_upload_keep(srv_request *req)
{
    upload *u = req->upload;
    if (u)
        u->kept = 1;
}

/* ---------------------------------------------------------------- orphans */

/* 1 when rel is among the sorted names. */
static int named(char **names, size_t n, const char *rel)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(names[mid], rel);
        if (!c)
            return 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Removes the unnamed files of data_dir/rel and, one level down, of its folders. */
static int sweep_dir(const char *data_dir, const char *rel, int depth, char **names, size_t n)
{
    char path[4096];
    int removed = 0;
    if (snprintf(path, sizeof path, "%s/%s", data_dir, rel) >= (int)sizeof path)
        return 0;
    DIR *d = opendir(path);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char sub[4096];
        struct stat sb;
        if (e->d_name[0] == '.' ||
            snprintf(sub, sizeof sub, "%s/%s", rel, e->d_name) >= (int)sizeof sub ||
            snprintf(path, sizeof path, "%s/%s", data_dir, sub) >= (int)sizeof path ||
            lstat(path, &sb))
            continue;
        if (S_ISDIR(sb.st_mode) && depth > 0)
            removed += sweep_dir(data_dir, sub, depth - 1, names, n);
        else if (S_ISREG(sb.st_mode) && !named(names, n, sub) && unlink(path) == 0)
            removed++;
    }
    if (d)
        closedir(d);
    return removed;
}

int srv_uploads_sweep_orphans(sqlite3 *conn, const char *data_dir)
{
    sqlite3_stmt *st = srv_db_prepare(
        conn, "SELECT path FROM sample_inputs WHERE path IS NOT NULL UNION SELECT counts_path "
              "FROM sample_inputs WHERE counts_path IS NOT NULL UNION SELECT path FROM pons");
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc;
    if (!st)
        return -1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            char **grown = realloc(names, (cap = cap ? 2 * cap : 256) * sizeof *names);
            if (!grown)
                break;
            names = grown;
        }
        if (!(names[n] = strdup((const char *)sqlite3_column_text(st, 0))))
            break;
        n++;
    }
    sqlite3_finalize(st);
    int removed = -1;
    if (rc == SQLITE_DONE) {
        if (n)
            qsort(names, n, sizeof *names, cmp_str);
        removed =
            sweep_dir(data_dir, "samples", 1, names, n) + sweep_dir(data_dir, "pons", 0, names, n);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (removed > 0)
        srv_log(SRV_LOG_WARN,
                "removed %d files of uploads or jobs cut by a crash before their commit", removed);
    return removed;
}
