/* ddPCR wells as the API takes them (PUT .../ddpcr) and as the job reads them back from the
 * sample's stored input: {"droplet_volume_nl": 0.85 (optional), "wells": [{"target_positive",
 * "reference_positive", "droplets"}, ...]}: the names of the command line's `relapsewatch ddpcr`
 * (docs/cli.md). One parser for both, so what was accepted at upload is what the job computes.
 * Inputs stored before 010 name the droplet count "accepted": the job still reads them, the API
 * refuses the old name (srv_ddpcr_unknown_key), so a client has one name to send. */
#ifndef SRV_DDPCR_INPUT_H
#define SRV_DDPCR_INPUT_H

#include <stddef.h>

#include <jansson.h>

#include "core/ddpcr.h"
#include "core/status.h"

/* Parses body (borrowed) and runs rw_ddpcr_compute() on it to validate it: RW_OK with *wells
 * new (free()), *n, *o and *res filled. Otherwise the status (RW_ERR_INPUT for bad wells,
 * RW_ERR_NOMEM) with e's message and *field naming the offending field (static string). */
rw_status srv_ddpcr_parse(json_t *body, rw_ddpcr_well **wells, size_t *n, rw_ddpcr_opts *o,
                          rw_ddpcr_result *res, const char **field, rw_error *e);
/* The upload's first check: a key of body (borrowed) that is not one of the wells format, named
 * in field (size cap: "colour", or "wells[0].accepted" for a well's key), with RW_ERR_INPUT and
 * e's message; RW_OK when every key is known (their values are srv_ddpcr_check's concern). */
rw_status srv_ddpcr_unknown_key(json_t *body, char *field, size_t cap, rw_error *e);
/* The upload's check: whether body holds valid wells, the same statuses as srv_ddpcr_parse()
 * without keeping the wells. */
rw_status srv_ddpcr_check(json_t *body, const char **field, rw_error *e);

#endif
