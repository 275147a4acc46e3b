/* The per-sample pipeline shared by the CLI (`relapsewatch call`) and the daemon's jobs:
 * sample bins (or a BAM/CRAM/SAM/bins file) + panel of normals + options -> one rw_result holding
 * everything a report or a genome plot needs: per-bin data, region scores, the 1q21.3 call, the
 * tumour-informed fraction, QC, and the versions used. A rw_result is owned by the caller; free
 * with rw_result_free().
 *
 * Steps: check the sample against the PoN (build, bin size, chrY layout, counting filters:
 * RW_ERR_MISMATCH otherwise) -> GC correction with the PoN's GC fractions when the PoN has them
 * (core/gc.h defaults; `corrected` then holds GC-corrected relative depth, otherwise the raw
 * counts, and qc.gc_corrected says which) -> normalisation and log2 ratios (core/score.h) ->
 * tangent normalisation by the panel's principal components when it has any (core/denoise.h;
 * qc.n_components) -> region scores and call -> the quality gate (core/score.h
 * rw_score_quality_of over the 1q21.3 band's bin count: a sample too noisy to detect
 * quality_fraction gets the no-call insufficient_quality, with its code and reason in `quality`,
 * its z kept for the record) -> segments of the log2 ratios by chromosome arm (core/segment.h) ->
 * genome-wide tumour fraction and ploidy fitted to the segments (core/purity.h). */
#ifndef RW_ANALYSE_H
#define RW_ANALYSE_H

#include <stddef.h>
#include <stdint.h>

#include "core/bins.h"
#include "core/count.h"
#include "core/pon.h"
#include "core/purity.h"
#include "core/score.h"
#include "core/segment.h"
#include "core/status.h"

typedef struct rw_analyse_opts {
    rw_score_opts score;   /* thresholds of the call (rw_score_opts_init defaults) */
    double primary_cn;     /* the primary tumour's 1q21.3 copy number; NaN = unknown (default) */
    const char *filters;   /* the sample's counting filters (borrowed; rw_count_filters()); NULL =
                              not checked (bins whose filters are unknown) */
    int segment;           /* 1 (default): segment the log2 ratios and fit the genome-wide
                              tumour fraction; 0: region scores only (faster) */
    rw_segment_opts seg;   /* rw_segment_opts_init defaults; build set to the sample's (arms) */
    rw_purity_opts purity; /* rw_purity_opts_init defaults */
} rw_analyse_opts;

/* Sets every default above. */
void rw_analyse_opts_init(rw_analyse_opts *o);

/* Quality control of one analysis. */
typedef struct rw_result_qc {
    double median_reads_per_bin; /* median raw count over the usable autosomal bins */
    double mad_log2;             /* 1.4826 * MAD of the log2 ratios of the usable bins */
    double noise_sd;             /* bin-level noise from consecutive differences (score.h) */
    size_t n_bins;               /* bins of the layout */
    size_t n_masked;             /* masked by the PoN */
    size_t n_used;               /* with a finite log2 ratio */
    int gc_corrected;            /* 1 when a GC correction was applied */
    int n_components;            /* principal components of the panel removed (0 = none) */
    int pon_n_normals;
    int pon_low_normals; /* the PoN has fewer normals than recommended */
} rw_result_qc;

typedef struct rw_result {
    char core_version[16]; /* RW_CORE_VERSION of the code that made it */
    char pon_id[80];       /* the panel used */
    char filters[256];     /* the sample's counting filters ("" when unknown) */
    /* per bin (bins->n values each; positions from the layout: rw_bins_chrom/start/end) */
    rw_bins *bins;     /* layout and raw counts: a copy of the input */
    double *corrected; /* GC-corrected depth (= raw counts without GC; NaN where masked) */
    double *depth;     /* median-normalised depth */
    double *log2;      /* log2 ratio to the PoN; NaN for masked bins */
    uint8_t *mask;     /* the PoN's RW_PON_MASK_* bits */
    /* regions: 1q21.3, 1q, S100A7-9 (every non-mask region of the build) */
    rw_region_score *regions;
    size_t n_regions;
    size_t primary; /* index of 1q21.3 in regions */
    /* the answer, copied from regions[primary] for convenience */
    rw_call call;
    int strong;
    double z, threshold;
    double primary_cn;       /* NaN when not given */
    double tf, tf_lo, tf_hi; /* tumour-informed fraction (NaN without primary_cn) */
    rw_result_qc qc;
    rw_score_quality
        quality; /* the gate; quality.ok = 0 <=> call == RW_CALL_INSUFFICIENT_QUALITY */
    /* Segments (core/segment.h; n = 0 when opts.segment is 0) and the genome-wide tumour fraction
     * fitted to them (core/purity.h; has_purity = 0 and NaN fields when not run). */
    rw_segments segments;
    int has_purity;
    rw_purity_result purity;
} rw_result;

/* Analyses one sample (borrowed; copied into the result) against pon. o may be NULL. *out is new
 * (free with rw_result_free()). Errors: RW_ERR_MISMATCH (sample vs PoN), RW_ERR_INPUT (no reads
 * in the usable bins), RW_ERR_USAGE (bad primary_cn), RW_ERR_NOMEM. */
rw_status rw_analyse(const rw_bins *sample, const rw_pon *pon, const rw_analyse_opts *o,
                     rw_result **out, rw_error *err) __attribute__((warn_unused_result));

/* Loads path (BAM, CRAM, SAM or bins file; rw_count_load() with co, whose bin size and chrY layout
 * are taken from the PoN) and analyses it; o->filters is replaced by co's. qc (may be NULL)
 * receives the counting QC. progress may be NULL. */
rw_status rw_analyse_file(const char *path, const rw_count_opts *co, const rw_pon *pon,
                          const rw_analyse_opts *o, rw_result **out, rw_count_qc *qc,
                          rw_progress_fn progress, void *progress_ctx, rw_error *err)
    __attribute__((warn_unused_result));

/* NULL-safe. */
void rw_result_free(rw_result *r);

#endif
