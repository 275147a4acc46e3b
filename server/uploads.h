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

/* The route's on_headers for every file upload (router.h), before any body byte is read: the
 * declared size (-1 when unknown) against --max-upload (413), the free space of the data
 * folder's disk less --disk-reserve (507 insufficient_storage) and --quota-total over every
 * stored input (507 quota_exceeded). 0 to read the body, or 1 once answered. The same space
 * check runs again every few MiB while the body arrives (a chunked body declares nothing). */
int srv_upload_headers(srv_request *req, int64_t declared_length);
/* The same with a lower cap for this upload (--quota-sample: 413 quota_exceeded when declared or
 * received beyond it); 0 for none. */
int srv_upload_headers_capped(srv_request *req, int64_t declared_length, int64_t cap);
/* The route's on_chunk (router.h: size 0 marks the end, after which the file is fsynced). */
int srv_upload_chunk(srv_request *req, const char *data, size_t size);
/* Once the body is complete: the file's path, lowercase hex SHA-256 and size (borrowed from
 * req). 0, or -1 when there is no complete upload. */
int srv_upload_file(srv_request *req, const char **path, const char **sha256, int64_t *size);
/* The file was renamed into place: the request's completion must not remove it. */
void srv_upload_keep(srv_request *req);

/* At start-up, before anything is served: removes the files under <data>/samples and
 * <data>/pons that no row names (sample_inputs.path or counts_path, pons.path). A crash between
 * an upload's rename into place and its commit, or between a job's counts file and its commit,
 * leaves such a file; nothing can refer to it any more. The number removed, or -1 on a database
 * error (nothing removed then). */
int srv_uploads_sweep_orphans(sqlite3 *conn, const char *data_dir);

#endif
