/* The bin counts of a sample, wherever they are kept: in its result's counts BLOB (a re-run from
 * stored counts), in the counts.tsv cached when its reads were counted, or in its uploaded bins
 * file. Building a panel and re-running a sample need no reads once counted. */
#ifndef SRV_COUNTS_H
#define SRV_COUNTS_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bins.h"
#include "server/status.h"

/* The counts stored with the sample's result, with the filters they were counted with (from the
 * result's provenance; "" when not recorded): SRV_OK with *out new (rw_bins_free()),
 * SRV_NOT_FOUND when its result holds none, SRV_CLIENT when the BLOB fits no layout of its build,
 * SRV_INTERNAL on a database error or out of memory. */
srv_status srv_counts_stored(sqlite3 *conn, int64_t sample_id, rw_bins **out);
/* The counts of a sample for building a panel: the stored ones, else the cached counts of its
 * reads, else its uploaded bins file. SRV_OK with *out new; SRV_NOT_FOUND when the sample has no
 * counts yet; SRV_CLIENT when they are unreadable as data; SRV_INTERNAL (database, I/O, memory).
 * Failures leave a message in err (sample id, never the accession). */
srv_status srv_counts_of_sample(sqlite3 *conn, const char *data_dir, int64_t sample_id,
                                rw_bins **out, char *err, size_t errlen);

#endif
