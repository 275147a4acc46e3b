/* The merged OpenAPI 3.1 description of the API (docs/openapi/ fragments merged at build time by
 * tools/gen-openapi into the generated server/openapi_json.c). */
#ifndef SRV_OPENAPI_H
#define SRV_OPENAPI_H

#include <stddef.h>

/* The document's JSON text, NUL-terminated; static, never freed. */
extern const char srv_openapi_json[];
/* Its length in bytes, without the NUL. */
extern const size_t srv_openapi_json_len;

#endif
