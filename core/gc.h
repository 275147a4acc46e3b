/* GC (and mappability) bias of read depth: GC and N content of bins from a reference FASTA, and
 * the correction of bin counts by a robust local regression of depth on GC, as HMMcopy, ichorCNA
 * and QDNAseq do. Plain arrays in and out; the caller owns every array. */
#ifndef RW_GC_H
#define RW_GC_H

#include <stddef.h>
#include <stdint.h>

#include "core/bins.h"
#include "core/status.h"

/* ------------------------------------------------------------------ reference FASTA */

/* An open faidx-indexed reference. Opaque; close with rw_gc_ref_close(). */
typedef struct rw_gc_ref rw_gc_ref;

/* Opens fasta (plain or bgzipped). Its .fai is used when present; otherwise one is built, next
 * to the FASTA, or in index_dir when given (for a read-only reference folder). Fails with a
 * message naming the folder when no index can be written. Returns RW_OK and a new *out. */
rw_status rw_gc_ref_open(const char *fasta, const char *index_dir, rw_gc_ref **out, rw_error *err)
    __attribute__((warn_unused_result));
/* NULL-safe. */
void rw_gc_ref_close(rw_gc_ref *ref);

/* GC fraction among A/C/G/T bases (NaN when none) and N fraction (bases other than A/C/G/T,
 * any case) of [start, end) on contig `contig` (name as in the FASTA). */
rw_status rw_gc_interval(rw_gc_ref *ref, const char *contig, int64_t start, int64_t end, double *gc,
                         double *nfrac, rw_error *err) __attribute__((warn_unused_result));

/* Fills gc[b->n] and nfrac[b->n] for a bins layout; each chromosome is looked up as "chr1" or
 * "1" (either naming). Bins of a chromosome absent from the FASTA get NaN (and nfrac 1); an error
 * if none is found or a contig is shorter than the build says. */
rw_status rw_gc_fill_bins(rw_gc_ref *ref, const rw_bins *b, double *gc, double *nfrac,
                          rw_error *err) __attribute__((warn_unused_result));

/* ------------------------------------------------------------------ correction */

/* Why a bin is left out (rw_gc_correct's mask; 0 = corrected). */
enum {
    RW_GC_MASK_COUNT = 1, /* count missing or <= 0 */
    RW_GC_MASK_NOGC = 2,  /* GC unknown */
    RW_GC_MASK_N = 4,     /* too many N bases */
    RW_GC_MASK_GC = 8,    /* GC outside [gc_min, gc_max] or outside the fitted range */
    RW_GC_MASK_MAP = 16,  /* mappability below map_min */
    RW_GC_MASK_NOFIT = 32 /* the fitted depth there is not positive */
};

typedef struct rw_gc_opts {
    /* bins masked from the output */
    double max_n_frac; /* more N than this (default 0.1) */
    double gc_min;     /* GC below (default 0.25; peers use 0.28-0.30 for 500 kb bins) */
    double gc_max;     /* GC above (default 0.75) */
    double map_min;    /* mappability below this, when given (default 0 = keep all) */
    /* bins used for the fit (HMMcopy's "ideal" bins) */
    double fit_map_min;      /* mappability at least (default 0.9; ignored without map) */
    double fit_top_quantile; /* leave out counts above this quantile (default 0.99) */
    double fit_gc_tail;      /* leave out this fraction at each GC tail (default 0.001) */
    size_t fit_max_bins;     /* both fits use an evenly spaced subset of at most this many bins
                              * (default 50000, HMMcopy's sample size; 0 = all) */
    /* the GC regression: local quadratic, tricube weights, two stages (HMMcopy) */
    double span;      /* stage 1 span over the bins (default 0.03) */
    double span2;     /* stage 2 span over the GC grid (default 0.3) */
    double grid_step; /* GC grid step for both stages (default 0.001) */
    int robust_iter;  /* bisquare robustness iterations of stage 1 (default 2; 0 = plain loess) */
    /* the mappability lowess (local linear, tricube, robust) after GC */
    int map_correct;         /* 1: correct on mappability too when map is given (default 1) */
    double map_span;         /* span (default 2/3, lowess's default) */
    int map_robust_iter;     /* robustness iterations (default 3, lowess's default) */
    double map_top_quantile; /* bins above this quantile of GC-corrected depth left out (0.99) */
    int normalise;           /* divide by the median of corrected bins (default 1) */
} rw_gc_opts;

/* Sets every default above. */
void rw_gc_opts_init(rw_gc_opts *o);

/* Summary of a correction. */
typedef struct rw_gc_info {
    size_t n_fit;    /* bins the GC fit used */
    size_t n_masked; /* bins masked in the output */
    double median;   /* median GC-and-mappability-corrected ratio before normalisation */
} rw_gc_info;

/* Corrects n bin counts. gc[i] in [0, 1] (NaN or negative = unknown); nfrac and map may be NULL.
 * corrected[i] receives count / fitted depth (divided by the median of unmasked bins when
 * o->normalise), NaN where masked; mask[i] receives the RW_GC_MASK_* reasons (0 = used). Either
 * output may alias nothing else. info may be NULL. Needs at least 50 fit bins (RW_ERR_INPUT
 * otherwise: the caller then has no GC information and should say so in its QC). */
rw_status rw_gc_correct(size_t n, const double *count, const double *gc, const double *nfrac,
                        const double *map, const rw_gc_opts *o, double *corrected, uint8_t *mask,
                        rw_gc_info *info, rw_error *err) __attribute__((warn_unused_result));

/* Local polynomial regression (degree 1 or 2) of y on x with tricube weights over the
 * ceil(span * n) nearest x, evaluated at the ng points grid[] (increasing): fit[g], NaN where no
 * fit is possible. x must be sorted increasingly; w (robustness weights) may be NULL. The
 * building block of both stages; exported for the PoN and tests. */
rw_status rw_gc_loess_grid(size_t n, const double *x, const double *y, const double *w, double span,
                           int degree, size_t ng, const double *grid, double *fit, rw_error *err)
    __attribute__((warn_unused_result));

#endif
