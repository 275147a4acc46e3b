/* One row of the `results` table, built from the core's answer before the job's transaction
 * opens (so the transaction only writes), and the statement that stores it. sWGS and bins
 * samples give bins, segments, region scores, QC, tumour fraction and the analysis settings;
 * ddPCR samples their copy number from the wells. */
#ifndef SRV_RESULT_ROW_H
#define SRV_RESULT_ROW_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/analyse.h"
#include "core/count.h"
#include "core/pon.h"
#include "server/status.h"

/* The values of one results row (owned; free with srv_result_row_free()). */
typedef struct srv_result_row {
    int64_t pon_id; /* 0: none (ddPCR) */
    json_t *settings, *segments, *regions, *qc, *tf, *ddpcr;
    const char *build; /* static; NULL for ddPCR (no bins) */
    int32_t bin_size;
    unsigned char *counts, *log2, *mask; /* float32 BLOBs (server/blob.h) and a byte a bin */
    size_t n;                            /* bins */
    double ratio, ratio_lo, ratio_hi, log2_ratio, se, cv, z;
    const char *call; /* "amplified", "not_detected" or the no-call "insufficient_quality" */
    int strong;
    json_t *quality; /* a no-call's why {code, reason, ...} (schema/005); NULL for a call */
} srv_result_row;

/* Where an sWGS analysis' counts came from, for its QC and settings. */
typedef struct srv_swgs_source {
    const rw_count_qc *counted; /* QC of this run's counting; NULL for stored counts */
    json_t *old_qc;             /* the previous result's qc (a recall keeps its counting QC) */
    const char *input;          /* "reads", "bins" or "stored_counts" */
    int recall;                 /* the job's kind: recall or analyse */
    int64_t pon_id;
    const rw_pon *pon;
} srv_swgs_source;

/* The row of an analysis. SRV_OK; SRV_CLIENT when 1q21.3 has no usable bin (no call possible);
 * SRV_INTERNAL when out of memory. A message for the job in err on failure. */
srv_status srv_result_row_swgs(srv_result_row *row, const rw_result *res,
                               const srv_swgs_source *src, char *err, size_t errlen);
/* The row of ddPCR wells (their JSON as stored at upload). SRV_OK; SRV_CLIENT when they are
 * missing or invalid; SRV_INTERNAL when out of memory (message in err). */
srv_status srv_result_row_ddpcr(srv_result_row *row, const char *wells_text, char *err,
                                size_t errlen);
/* Stores row as the sample's result (replacing the previous one), inside the caller's
 * transaction. 0, or -1 (a JSON text that cannot be built is never stored as NULL). */
int srv_result_row_insert(sqlite3 *conn, int64_t sample_id, int64_t job_id, const char *assay,
                          const srv_result_row *row);
void srv_result_row_free(srv_result_row *r);

#endif
