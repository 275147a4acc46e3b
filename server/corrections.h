/* Corrections of wrong data (issue 12), the storage side: erasing a patient with everything of
 * hers, resetting a sample's input so another can be uploaded, and removing the files whose rows
 * are gone. Every function but srv_corr_remove_files() runs on conn inside the caller's open
 * write transaction and writes no audit row (the caller does, with the request's actor).
 * Files are never removed inside a transaction: their paths are queued in file_removals
 * (schema/008) with the rows' deletion, and removed by srv_corr_remove_files() after the COMMIT,
 * or at the next start-up when the daemon stopped in between.
 * JSON rule: functions ending in _new return a new reference. */
#ifndef SRV_CORRECTIONS_H
#define SRV_CORRECTIONS_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdint.h>

#include "server/status.h"

/* Deletes patient_id and every row of hers: alerts (of her draws too, another patient's retracted
 * ones included), monitoring state, results, inputs, jobs, samples, treatments, clinical events,
 * the webhook/HL7 events and deliveries about her blanked (schema/009), the stored Idempotency-Key
 * answers that name her external id or an accession of hers; queues
 * her samples' files and folders for removal. Returns a new object counting what went
 * ({"samples": n, "results": n, ...}, no identifier), or NULL with *st SRV_CLIENT when a job
 * of hers is running (the caller answers 409), SRV_INTERNAL on a database error (logged). */
json_t *srv_corr_erase_patient_new(sqlite3 *conn, int64_t patient_id, srv_status *st);

/* Drops sample_id's input and result (the draw leaves the series until its new input is
 * analysed) and sets it back to 'received', so the next PUT of an input is a first upload;
 * queues the old files for removal. Returns a new object describing what was dropped
 * ({"status", "input": {kind, sha256, size, build, uploaded_at}, "result": {call, ratio,
 * computed_at, job_id} or null}), or NULL with *st SRV_NOT_FOUND when the sample has no input,
 * SRV_CLIENT when one of its jobs is queued or running, SRV_INTERNAL on a database error. */
json_t *srv_corr_reset_input_new(sqlite3 *conn, int64_t sample_id, srv_status *st);

/* Removes the queued files under data_dir that no row names any more (a sample folder once
 * empty), and forgets them; in its own transaction (call it outside one). Returns the number
 * removed, or -1 on a database error (logged; the queue is kept for the next run). */
int srv_corr_remove_files(sqlite3 *conn, const char *data_dir);

#endif
