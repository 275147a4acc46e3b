/* Query-string parameters of GET routes, strictly: an unknown key is an error (422
 * "unknown_field") rather than silently ignored, and a bad value names its key (422
 * "invalid_value"). Every function returns 0, or -1 after answering the request. */
#ifndef SRV_QUERY_H
#define SRV_QUERY_H

#include "server/http.h"

/* Answers 422 "unknown_field" (naming it) if the query string has a key not in the
 * NULL-terminated `allowed`. */
int srv_query_check(srv_request *req, const char *const *allowed);
/* Integer parameter: absent -> *out = def; otherwise plain decimal digits within [lo, hi], else
 * 422 "invalid_value" ("key must be an integer from lo to hi"). */
int srv_query_int(srv_request *req, const char *key, long lo, long hi, long def, long *out);
/* Parameter that must be one of the NULL-terminated choices: *index is its position, or -1 when
 * absent; else 422 "invalid_value" ("key must be a, b or c"). */
int srv_query_enum(srv_request *req, const char *key, const char *const *choices, int *index);

#endif
