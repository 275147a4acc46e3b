/* The work of one job: a sample's input (reads, bins, ddPCR wells, or the bin counts stored with
 * its last result) -> the core (count -> analyse with the active panel of normals, or ddPCR
 * arithmetic) -> one `results` row (server/result_row.h), stored in ONE transaction together
 * with the job's and the sample's new state and the monitoring hook. */
#ifndef SRV_PIPELINE_H
#define SRV_PIPELINE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "server/options.h"
#include "server/status.h"

/* Progress of a job in percent (0..100), called from the worker thread. */
typedef void (*srv_pipeline_progress_fn)(void *ctx, int percent);

/* Runs job job_id (already claimed: state 'running') of sample_id. recall != 0 re-runs the call
 * from the counts stored with the sample's result (falling back to the uploaded input when there
 * are none). On success the result, the job ('done'), the sample's status and the monitoring
 * state are committed together and SRV_OK is returned. On failure nothing is stored and err
 * (size errlen) holds a message for the job's `error` (no accession in it); the status says
 * whose failure it was: SRV_RETRY when not the sample's (the database busy past its timeout, an
 * I/O or database error, the monitoring recompute: worth running again), SRV_CLIENT for bad
 * input, a wrong build or a mismatch, SRV_NOT_FOUND when the sample or the running job is gone,
 * SRV_INTERNAL when out of memory. */
srv_status srv_pipeline_run(sqlite3 *conn, const struct srv_config *cfg, int64_t job_id,
                            int64_t sample_id, int recall, srv_pipeline_progress_fn progress,
                            void *progress_ctx, char *err, size_t errlen);

#endif
