/* The work of one job: a sample's input (reads, bins, ddPCR wells, or the bin counts stored with
 * its last result) -> the core (count -> analyse with the active panel of normals, or ddPCR
 * arithmetic) -> one `results` row, stored in ONE transaction together with the job's and the
 * sample's new state and the monitoring hook. Also the helpers the upload and PoN endpoints share
 * with it: data-folder paths, the active panel, stored counts, ddPCR wells.
 * JSON rule: functions ending in _new return a new reference; json_t arguments are borrowed. */
#ifndef SRV_PIPELINE_H
#define SRV_PIPELINE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "server/options.h"

#include "core/bins.h"
#include "core/count.h"
#include "core/ddpcr.h"
#include "core/pon.h"

/* Progress of a job in percent (0..100), called from the worker thread. */
typedef void (*srv_pipeline_progress_fn)(void *ctx, int percent);

/* srv_pipeline_run's answer when the failure is not the sample's fault (the database busy past
 * its timeout, an I/O or database error, the monitoring recompute): the job is worth running
 * again rather than failing. Bad input, a wrong build or a mismatch fail at once. */
#define SRV_PIPELINE_RETRY (-2)

/* Runs job job_id (already claimed: state 'running') of sample_id. recall != 0 re-runs the call
 * from the counts stored with the sample's result (falling back to the uploaded input when there
 * are none). On success the result, the job ('done'), the sample's status and the monitoring
 * state are committed together and 0 is returned. On failure nothing is stored, -1 (or
 * SRV_PIPELINE_RETRY) is returned and err (size errlen) holds a message for the job's `error`
 * (no accession in it). */
int srv_pipeline_run(sqlite3 *conn, const struct srv_config *cfg, int64_t job_id, int64_t sample_id,
                     int recall, srv_pipeline_progress_fn progress, void *progress_ctx, char *err,
                     size_t errlen);

/* data_dir + "/" + rel into out (size n); -1 when it does not fit. */
int srv_pipeline_path(const char *data_dir, const char *rel, char *out, size_t n);
/* Creates data_dir and its sub-folders (tmp, samples, pons); removes leftover temporary files of
 * uploads cut by a crash. 0 on success, -1 with a message in err. */
int srv_pipeline_prepare_dir(const char *data_dir, char *err, size_t errlen);
/* Creates data_dir/samples/<sample_id> (if missing) and writes its relative path into rel. */
int srv_pipeline_sample_dir(const char *data_dir, int64_t sample_id, char *rel, size_t n);

/* The active panel: *pon_id (0 when none) and, when pon is non-NULL, the panel loaded from its
 * file (new; free with rw_pon_free()). Returns 0 (also when there is none: *pon_id = 0), -1 on a
 * database or file error (message in err). */
int srv_pipeline_active_pon(sqlite3 *conn, const char *data_dir, int64_t *pon_id, rw_pon **pon,
                            char *err, size_t errlen);
/* The build and bin size of the active panel without loading it; 0 when found, 1 when there is
 * no active panel, -1 on a database error. build receives "hg38"/"hg19" (size >= 8). */
int srv_pipeline_active_layout(sqlite3 *conn, char *build, int32_t *bin_size);

/* The bin counts of a sample for building a panel: the counts stored with its result, else the
 * counts cached from its reads, else its uploaded bins file. 0 with *out new (free with
 * rw_bins_free()); 1 when the sample has no counts; -1 on an error (message in err). */
int srv_pipeline_sample_counts(sqlite3 *conn, const char *data_dir, int64_t sample_id,
                               rw_bins **out, char *err, size_t errlen);

/* The counting options every job uses (defaults of core/count.h) with the panel's layout. */
void srv_pipeline_count_opts(rw_count_opts *co, int32_t bin_size, int include_y);

/* Parses ddPCR wells as the API takes them: {"droplet_volume_nl": 0.85 (optional), "wells":
 * [{"target_positive", "reference_positive", "accepted"}, ...]} and runs rw_ddpcr_compute() to
 * validate them. wells is new (free()); 0 on success, -1 with a message in msg and the offending
 * field in *field (static string). */
int srv_pipeline_ddpcr_parse(json_t *body, rw_ddpcr_well **wells, size_t *n, rw_ddpcr_opts *o,
                             rw_ddpcr_result *res, const char **field, char *msg, size_t msglen);

/* Streaming uploads (api_uploads.c), shared with POST /api/v1/pons: the route's on_chunk that
 * writes the body to a temporary file in <data>/tmp while hashing it (413 past --max-upload);
 * once the body is complete srv_upload_file() gives the file's path, lowercase hex SHA-256 and
 * size (borrowed from req; 0, or -1 when there is no complete upload). The file is removed when
 * the request completes unless srv_upload_keep() was called after moving it. */
struct srv_request;
int srv_upload_chunk(struct srv_request *req, const char *data, size_t size);
int srv_upload_file(struct srv_request *req, const char **path, const char **sha256, int64_t *size);
void srv_upload_keep(struct srv_request *req);

/* Little-endian float32 BLOBs of the results table: n values (NaN stays NaN). new (free()). */
unsigned char *srv_pipeline_f32_encode(const double *v, size_t n);
/* Decodes nbytes / 4 values into out. */
void srv_pipeline_f32_decode(const void *blob, size_t n, double *out);

#endif
