/* The pages' files (web root): safe path resolution, content types, validators (ETag from the
 * file's size and modification time, 304 on If-None-Match) and gzip for text files, whose
 * compressed bytes are kept in the answer cache (server/answer_cache.h) until the file changes. */
#ifndef SRV_STATIC_FILES_H
#define SRV_STATIC_FILES_H

#include "server/http.h"

/* Answers req with the file raw_path (still percent-encoded) under web_root (a realpath; NULL
 * when there is none): decoded, no ".." segment, and its realpath must lie under the root
 * (symlinks out of it are refused too); anything else is a 404 page. */
void srv_static_serve(srv_request *req, const char *web_root, const char *raw_path);

#endif
