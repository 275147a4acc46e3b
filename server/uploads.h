/* Streaming uploads, for every route whose body is a file (PUT .../reads and .../bins in
 * api_uploads.c, POST /api/v1/pons): the route's on_chunk writes the body to a temporary file in
 * <data>/tmp while hashing it, so a body is never held in memory, and answers 413 past
 * --max-upload. Whatever ends the request (error, client abort, shutdown), the file is removed
 * at its completion unless srv_upload_keep() was called after moving it into place: a partial
 * upload leaves nothing. */
#ifndef SRV_UPLOADS_H
#define SRV_UPLOADS_H

#include <stddef.h>
#include <stdint.h>

#include "server/http.h"

/* The route's on_chunk (router.h: size 0 marks the end, after which the file is fsynced). */
int srv_upload_chunk(srv_request *req, const char *data, size_t size);
/* Once the body is complete: the file's path, lowercase hex SHA-256 and size (borrowed from
 * req). 0, or -1 when there is no complete upload. */
int srv_upload_file(srv_request *req, const char **path, const char **sha256, int64_t *size);
/* The file was renamed into place: the request's completion must not remove it. */
void srv_upload_keep(srv_request *req);

#endif
