/* Circular binary segmentation (CBS; Olshen et al., Biostatistics 2004, the DNAcopy algorithm) of
 * log2 ratios along the genome, per chromosome or per chromosome arm, with a call per segment.
 * Plain arrays in, a plain vector of segments out; the caller owns both. Deterministic: every
 * permutation test draws from a generator seeded by the options' seed and the segment tested. */
#ifndef RW_SEGMENT_H
#define RW_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "core/bins.h"
#include "core/genome.h"
#include "core/status.h"

/* Copy-number call of a segment from its mean log2 ratio (thresholds in rw_segment_opts). */
typedef enum rw_seg_call {
    RW_SEG_LOSS = -1,
    RW_SEG_NEUTRAL = 0,
    RW_SEG_GAIN = 1,
    RW_SEG_AMP = 2
} rw_seg_call;

typedef struct rw_segment_opts {
    /* --- the test (defaults are DNAcopy's segment() defaults) --- */
    double alpha;  /* significance level of a split (default 0.01) */
    int nperm;     /* permutations per test, at most (default 10000) */
    int min_width; /* fewest points on either side of a change point, 2..5 (default 2) */
    int kmax;      /* hybrid test: arcs up to kmax points are tested by permutation (25) */
    int nmin;      /* hybrid test used for segments of more than nmin points (default 200);
                    * smaller segments are tested by permutation of the whole statistic */
    double eta;    /* early stopping: chance of stopping "significant" wrongly (default 0.05) */
    uint64_t seed; /* permutation seed (default 25) */
    /* --- outlier smoothing before the test (DNAcopy smooth.CNA) --- */
    int smooth_region; /* neighbours on each side; 0 = no smoothing (default 10) */
    double outlier_sd; /* a point beyond its neighbours' range by outlier_sd trimmed SDs ... (4) */
    double smooth_sd;  /* ... is moved to the neighbourhood median +- smooth_sd SDs (default 2) */
    /* --- undoing splits after the test --- */
    int min_bins;   /* first, segments with fewer points are merged into the closer-mean neighbour
                     * on the same arm (default 0 = off) */
    double undo_sd; /* then adjacent segments whose means differ by less than undo_sd trimmed SDs
                     * are merged, closest pair first (like DNAcopy undo.splits = "sdundo" with
                     * undo.SD, which compares medians; default 0 = off) */
    /* --- arms --- */
    rw_build build; /* arms are split at the build's centromere (p/q boundary of UCSC cytoBand);
                     * RW_BUILD_UNKNOWN (default) segments whole chromosomes, as DNAcopy does */
    /* --- calls on the mean log2 ratio --- */
    double loss_below; /* loss when mean < loss_below (default -0.15: one copy lost at ~20% f) */
    double gain_above; /* gain when mean > gain_above (default 0.10: one copy gained at ~15% f) */
    double amp_above;  /* amplification when mean > amp_above (default 0.585 = log2 1.5) */
} rw_segment_opts;

/* Sets every default above. */
void rw_segment_opts_init(rw_segment_opts *o);

/* A segment: points first .. first+n-1 of the input (in input order, masked points included in the
 * span but not in n or the mean). */
typedef struct rw_segment {
    int chrom;     /* chromosome index of genome.h (or the caller's own code) */
    int arm;       /* 0 = p (or whole chromosome when arms are not split), 1 = q */
    int64_t start; /* start of the first point */
    int64_t end;   /* end of the last point */
    size_t first;  /* input index of the first unmasked point */
    size_t last;   /* input index of the last unmasked point */
    size_t n;      /* unmasked points in the segment */
    double mean;   /* mean of the (smoothed) values */
    rw_seg_call call;
} rw_segment;

/* Vector of segments, sorted by input order. Free with rw_segments_free(). */
typedef struct rw_segments {
    size_t n, m;
    rw_segment *a;
} rw_segments;

/* Segments n points in input order. chrom[i] (any integers; a change of value starts a new
 * chromosome, so group the input by chromosome and sort it by position), start[i] and end[i] (end
 * may be NULL: point data, end = start), value[i] the log2 ratio (NaN or infinite = masked).
 * Positions are only read for the arm split and the output (DNAcopy's coriell data has a few
 * clones out of order, and DNAcopy too follows the input order).
 * When o->build is known, chrom must be genome.h indices and positions base pairs, so that
 * arms can be split. On success *out holds new segments (free with rw_segments_free()). */
rw_status rw_segment_run(size_t n, const int *chrom, const int64_t *start, const int64_t *end,
                         const double *value, const rw_segment_opts *o, rw_segments *out,
                         rw_error *err) __attribute__((warn_unused_result));

/* The same on a bins layout: value[b->n] are log2 ratios of the bins (NaN = masked); chromosome
 * and coordinates come from b. o->build is ignored when RW_BUILD_UNKNOWN and b->build is known:
 * pass opts with build = b->build to split arms (the usual choice). */
rw_status rw_segment_bins(const rw_bins *b, const double *value, const rw_segment_opts *o,
                          rw_segments *out, rw_error *err) __attribute__((warn_unused_result));

/* Frees the vector's storage and zeroes it; NULL-safe. */
void rw_segments_free(rw_segments *s);

/* The call of a mean log2 ratio under o's thresholds. */
rw_seg_call rw_segment_call(double mean, const rw_segment_opts *o);
/* "loss", "neutral", "gain", "amplification"; static string. */
const char *rw_seg_call_name(rw_seg_call c);

/* 0-based position where the q arm of chromosome `chrom` starts in build b (p/q boundary, the
 * middle of the centromere); 0 for an unknown build or chromosome. */
int64_t rw_segment_arm_boundary(rw_build b, int chrom);

/* Robust SD of a series from its first differences (DNAcopy's trimmed.variance: the smallest
 * (1 - 2 trim) of |x[i+1] - x[i]|, inflated for the trimming); NaN are skipped. NaN if < 3
 * values. */
double rw_segment_trimmed_sd(size_t n, const double *x, double trim);

#endif
