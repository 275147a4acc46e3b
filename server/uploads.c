/* Streaming uploads to a temporary file (see uploads.h). */
#include "server/uploads.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/datadir.h"
#include "server/log.h"
#include "server/options.h"
#include "server/reply.h"
#include "server/sha256.h"

typedef struct upload {
    int fd;
    char tmp[4096]; /* temporary file; removed at completion unless kept */
    int kept;       /* renamed into place: leave it */
    srv_sha256 sha;
    int64_t size;
    char hex[65]; /* SHA-256 once the body is complete */
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

static upload *upload_begin(srv_request *req)
{
    char rel[64];
    upload *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    u->fd = -1;
    srv_sha256_init(&u->sha);
    req->upload = u;
    req->upload_free = upload_free;
    snprintf(rel, sizeof rel, "tmp/upload-%llu-XXXXXX", (unsigned long long)req->id);
    if (srv_datadir_path(req->cfg->data_dir, rel, u->tmp, sizeof u->tmp) ||
        (u->fd = mkstemp(u->tmp)) < 0) {
        srv_log(SRV_LOG_ERROR, "cannot create an upload file in %s/tmp: %s", req->cfg->data_dir,
                strerror(errno));
        u->tmp[0] = '\0';
        return NULL;
    }
    return u;
}

/* Streams one chunk to the temporary file (see router.h: size 0 marks the end). */
int srv_upload_chunk(srv_request *req, const char *data, size_t size)
{
    upload *u = req->upload;
    if (!u && !(u = upload_begin(req))) {
        srv_reply_internal(req, "cannot store the upload");
        return 1;
    }
    if (size == 0) {
        /* Complete: durable before anything refers to it. */
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
    if (u->size + (int64_t)size > req->cfg->max_upload) {
        close(u->fd);
        u->fd = -1;
        unlink(u->tmp);
        u->tmp[0] = '\0';
        srv_reply_error(req, 413, "body_too_large", NULL,
                        "the upload is larger than the limit of %lld bytes",
                        (long long)req->cfg->max_upload);
        return 1;
    }
    srv_sha256_update(&u->sha, data, size);
    u->size += (int64_t)size;
    while (size > 0) {
        ssize_t w = write(u->fd, data, size);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            srv_log(SRV_LOG_ERROR, "writing an upload: %s", strerror(errno));
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
