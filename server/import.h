/* Import of a historical series from CSV (e.g. an earlier ddPCR programme): patients, their
 * treatments and clinical events, and draws with their ddPCR droplet counts, in one transaction
 * of the caller (all or nothing). Each draw is registered, its wells stored as its input and its
 * analysis queued, exactly as PUT .../ddpcr would; the workers compute the results and alerts.
 *
 * The CSV (RFC 4180, a header line naming the columns, any order, unknown columns refused):
 *   record             patient | treatment | event | draw
 *   patient            the patient's external id (every record)
 *   date               patient: diagnosis date; treatment: start; event: its date;
 *                      draw: collection date (YYYY-MM-DD)
 *   end_date           treatment (optional)
 *   kind               treatment: surgery, chemotherapy, ...; event: clinical_relapse, ...
 *   regimen, note      treatment regimen, event note (optional)
 *   er_status, pr_status, her2_status, primary_1q213_status, primary_1q213_cn   patient (optional)
 *   accession, target_positive, reference_positive, droplets                       draw
 * A record names a patient of the store or one created earlier in the file. */
#ifndef SRV_IMPORT_H
#define SRV_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

typedef struct srv_import_counts {
    int64_t patients, treatments, events, draws;
} srv_import_counts;

/* The first problem found: the CSV line (1 = the header), the column (or NULL) and why. */
typedef struct srv_import_error {
    long line;
    const char *column;
    char msg[256];
} srv_import_error;

/* Applies csv[0..len) on conn inside the caller's open transaction, as `actor` (audit rows).
 * 0 with *counts filled; 1 when the CSV is wrong (*err says where, the caller rolls back); -1 on
 * a database error. The patients touched are recomputed by the monitoring engine. */
int srv_import_csv(sqlite3 *conn, const char *csv, size_t len, const char *actor,
                   srv_import_counts *counts, srv_import_error *err);

#endif
