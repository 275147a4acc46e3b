/* The pages' files (web root): safe path resolution, content types, validators (ETag from the
 * file's size and modification time, 304 on If-None-Match) and gzip for text files. Files up to
 * 4 MiB are kept in memory with their gzip form after their first request: a later request
 * stat()s the resolved file (a change shows at once) and is sent from memory. */
#ifndef SRV_STATIC_FILES_H
#define SRV_STATIC_FILES_H

#include "server/http.h"

/* Answers req with the file raw_path (still percent-encoded) under web_root (a realpath; NULL
 * when there is none): decoded, no ".." segment, and its realpath must lie under the root
 * (symlinks out of it are refused too); anything else is a 404 page. */
void srv_static_serve(srv_request *req, const char *web_root, const char *raw_path);

#endif
