/* The Location header of 201 Created and 202 Accepted answers: where the new resource lives, or
 * for queued work (uploads, retries) the job to poll. reply.c asks for it on every 201/202. */
#ifndef SRV_LOCATION_H
#define SRV_LOCATION_H

#include <jansson.h>

#include "server/http.h"

/* The URL path for the answer body (borrowed) of req's route, as a new string (free()), or NULL
 * when none can be told. In order: the body's "job_url"; the route's row in location.c's table
 * (e.g. a sample registered under a patient lives at /api/v1/samples/{accession}); else the
 * request's path + "/" + the body's integer "id". */
char *srv_location_new(const srv_request *req, json_t *body);

#endif
