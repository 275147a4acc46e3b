/* Read counting: streams a BAM, CRAM or SAM file (no index needed) and counts reads or fragments
 * in fixed-width bins, with the filters and QC of a shallow-WGS copy-number pipeline.
 *
 * COUNTING RULES (the same words go to the README and `relapsewatch count --help`):
 * - Filters, in this order; a dropped read is charged to the first reason that applies:
 *   unmapped (flag 0x4), secondary (0x100), supplementary (0x800), QC-fail (0x200),
 *   duplicate (0x400) [each only if its bit is in drop_flags, default all five = 0xF04];
 *   MAPQ < min_mapq (default 20); not on a counted contig (chrM, alt/decoy contigs, chrY unless
 *   include_y, or a start beyond the contig's length); in fragments mode, the other mate of a
 *   fragment (see below); then the fragment-length window, if one is set.
 * - Position: the read's 0-based leftmost alignment start (BAM POS), whatever its strand.
 *   Bins are half-open [start, end): a position p falls in bin floor(p / bin_size), and each
 *   kept read or fragment is counted exactly once.
 * - fragments mode (default): each fragment is counted once, at its leftmost mapped mate.
 *   A paired read (0x1) is counted when its mate is unmapped (0x8); or, mate on the same contig,
 *   when POS < mate POS, or POS == mate POS and it is not READ2 (0x80); or, mate on another
 *   contig, when it is READ1 (0x40). Otherwise it is dropped as "mate". The decision uses POS and
 *   mate POS rather than the sign of TLEN, because aligners disagree on the sign when both mates
 *   start at the same base and write TLEN 0 across contigs. A single-end read is a fragment.
 *   The fragment is kept when the counted mate passes the filters (its mate's MAPQ is unknown).
 * - reads mode: every read that passes the filters is counted at its own start (both mates of
 *   a pair count).
 * - Fragment length = |TLEN| of a paired read whose mate is mapped on the same contig and TLEN
 *   != 0; other reads have no length. With a window (frag_min and/or frag_max > 0), reads
 *   without a length are dropped as "no_length" and the others outside [frag_min, frag_max]
 *   (inclusive) as "length".
 * The output depends only on the input and options (no randomness, no thread-order effect). */
#ifndef RW_COUNT_H
#define RW_COUNT_H

#include <stddef.h>
#include <stdint.h>

#include "core/bins.h"
#include "core/genome.h"
#include "core/status.h"

typedef enum rw_count_mode { RW_COUNT_FRAGMENTS = 0, RW_COUNT_READS } rw_count_mode;

/* Flags dropped by default: unmapped, secondary, QC-fail, duplicate, supplementary. */
#define RW_COUNT_DROP_FLAGS 0xF04

typedef struct rw_count_opts {
    int min_mapq;        /* reads with MAPQ < min_mapq are dropped (default 20) */
    unsigned drop_flags; /* flag bits that drop a read, a subset of 0xF04 (default 0xF04) */
    rw_count_mode mode;  /* default RW_COUNT_FRAGMENTS */
    int frag_min;        /* fragment-length window in bp, inclusive; 0 = no bound (default) */
    int frag_max;        /* 0 = no bound (default) */
    const double *frag_weights; /* weighted mode: RW_FRAG_HIST_MAX + 1 per-length weights
                                   (borrowed; rw_frag_weights()); each fragment counts its
                                   weight, those without a length or of weight 0 are dropped
                                   (no_length, length); exclusive with the window. NULL
                                   (default) = every kept fragment counts 1 */
    int threads;                /* htslib decompression threads; <= 1 = none (default 1) */
    const char *reference; /* FASTA for CRAM input (borrowed); required for CRAM (default NULL) */
    rw_build build;        /* expected build; RW_BUILD_UNKNOWN = accept the detected one */
    int32_t bin_size;      /* default RW_BIN_SIZE_DEFAULT (500000) */
    int include_y;         /* 1 = count chrY too (default 0) */
} rw_count_opts;

/* Sets every default above. */
void rw_count_opts_init(rw_count_opts *o);

/* Why a read was not counted; see the rules above for the order. */
typedef enum rw_drop {
    RW_DROP_UNMAPPED = 0,
    RW_DROP_SECONDARY,
    RW_DROP_SUPPLEMENTARY,
    RW_DROP_QCFAIL,
    RW_DROP_DUPLICATE,
    RW_DROP_MAPQ,
    RW_DROP_CONTIG,
    RW_DROP_MATE,
    RW_DROP_NO_LENGTH,
    RW_DROP_LENGTH,
    RW_DROP_N
} rw_drop;

/* Writes the canonical filters string of counting options into buf (size n) and returns buf, e.g.
 * "mapq=20;flags=0xF04;mode=fragments;frag=0-0" (all fragments), "...;frag=90-150" (a window),
 * "...;frag=weighted:1a2b3c4d" (weights, identified by rw_frag_weights_id). Bins and panels of
 * normals carry it, so that a sample is only compared with a panel counted alike. */
char *rw_count_filters(const rw_count_opts *o, char *buf, size_t n);

/* Short snake_case name of a reason ("unmapped", "low_mapq", ...); static string. */
const char *rw_drop_name(rw_drop d);

/* Fragment-length histogram: hist[L] counts lengths L = 0..RW_FRAG_HIST_MAX bp. */
#define RW_FRAG_HIST_MAX 1000

/* FRAGMENT-LENGTH MODES (docs/method.md section 4.10). Tumour-derived cfDNA is shorter than
 * normal cfDNA (mode ~10-20 bp shorter, wide overlap; Mouliere et al. 2018), so:
 * - all: every kept fragment counts 1 (no frag_min/frag_max, no weights);
 * - window: only fragments of frag_min..frag_max bp count (e.g. 90-150: ~2-fold tumour
 *   enrichment, but ~3/4 of the fragments lost);
 * - weighted: each fragment of length L counts w(L), the likelihood ratio of L under a tumour
 *   model against the normal length distribution learnt from the panel's normals
 *   (rw_frag_weights), scaled so that a normal fragment's expected weight is 1. Fragments
 *   typical of tumour count more, none is thrown away, and a normal sample's expected counts
 *   are unchanged. */
typedef enum rw_frag_mode { RW_FRAG_ALL = 0, RW_FRAG_WINDOW, RW_FRAG_WEIGHTED } rw_frag_mode;

/* "all", "window", "weighted" (static strings); parse: RW_ERR_USAGE for another word. */
const char *rw_frag_mode_name(rw_frag_mode m);
rw_status rw_frag_mode_parse(const char *s, rw_frag_mode *m, rw_error *err)
    __attribute__((warn_unused_result));
/* The mode of counting options: weighted when frag_weights is set, window when a bound is. */
rw_frag_mode rw_count_frag_mode(const rw_count_opts *o);

#define RW_FRAG_TUMOUR_SHIFT                                                                       \
    15 /* bp: the tumour model is the normal distribution this much                                \
          shorter (the middle of Mouliere 2018's 10-20 bp) */
#define RW_FRAG_WEIGHT_CAP                                                                         \
    4.0                  /* the likelihood ratio is capped here (before scaling): a few            \
                            very short fragments must not dominate a bin */
#define RW_FRAG_SMOOTH 5 /* the normal histogram is averaged over +-5 bp first */
#define RW_FRAG_WEIGHT_MIN_SUPPORT                                                                 \
    20                                     /* lengths with fewer normal fragments within +-5 bp    \
                                              get weight 0 (ratio unknown) */
#define RW_FRAG_WEIGHT_MIN_FRAGMENTS 10000 /* fewer lengths in the normals: no weights */

/* Per-length weights w[0..RW_FRAG_HIST_MAX] from the normals' summed length histogram hist (the
 * frag_hist of their counting runs, as doubles): the normal distribution p_N is hist smoothed
 * over +-RW_FRAG_SMOOTH bp; the tumour model p_T(L) = p_N(L + shift) (shift =
 * RW_FRAG_TUMOUR_SHIFT normally); w(L) = min(p_T(L) / p_N(L), RW_FRAG_WEIGHT_CAP), 0 where the
 * normals hold fewer than RW_FRAG_WEIGHT_MIN_SUPPORT fragments around L; then scaled so that
 * sum_L hist(L) w(L) = sum_L hist(L): a fragment of the normals weighs 1 on average. Weights
 * add counting variance (a normal fragment's weight has variance sum p_N w^2 - 1, ~0.6 here),
 * which the panel's leave-one-out spread and the sample's own spread measure like any other
 * noise. Errors: RW_ERR_INPUT (too few fragments: single-end data), RW_ERR_USAGE (bad shift). */
rw_status rw_frag_weights(const double *hist, double shift, double *w, rw_error *err)
    __attribute__((warn_unused_result));

/* A 32-bit identifier of a weight table (FNV-1a of the weights in millionths), written in the
 * filters string: a sample weighted otherwise than its panel is refused (RW_ERR_MISMATCH). */
uint32_t rw_frag_weights_id(const double *w);

/* Sets o's fragment mode to that of a panel of normals, from its filters string (core/pon.h)
 * and its normals' length histogram (rw_pon.frag_hist, NULL when absent): weights recomputed
 * into w (RW_FRAG_HIST_MAX + 1 values owned by the caller, then pointed to by o->frag_weights)
 * for a weighted panel, its window, or all fragments. So `call` and the daemon count a sample
 * as its panel was counted. The other options are left alone. RW_ERR_INPUT when the filters
 * state no mode, or a weighted panel has no histogram or one whose weights are not those of its
 * filters. */
rw_status rw_count_frag_follow(rw_count_opts *o, const char *filters, const double *hist, double *w,
                               rw_error *err) __attribute__((warn_unused_result));

/* Quality control of one counting run. A plain struct filled by the count functions. */
typedef struct rw_count_qc {
    char format[8]; /* "BAM", "CRAM", "SAM" or "bins" (pre-binned input) */
    rw_build build; /* detected build (RW_BUILD_UNKNOWN for a foreign contig) */
    uint64_t seen;  /* records read */
    uint64_t kept;  /* reads or fragments counted */
    uint64_t dropped[RW_DROP_N];
    /* duplicates / mapped primary non-QC-fail reads (0 when there are none). */
    double duplicate_rate;
    /* Lengths of the reads that passed every filter before the length window: */
    uint64_t frag_n; /* how many had a length */
    uint64_t frag_hist[RW_FRAG_HIST_MAX + 1];
    uint64_t frag_over;    /* lengths > RW_FRAG_HIST_MAX */
    double frag_median;    /* NaN when frag_n == 0 */
    double median_per_bin; /* median count over the counted bins */
} rw_count_qc;

/* Counts path (BAM, CRAM or SAM) into new genome bins of o's build (detected from the @SQ
 * lines and checked against o->build) and bin size. *out is new (free with rw_bins_free()).
 * qc and progress may be NULL. Errors: RW_ERR_BUILD (unknown build or not the expected one),
 * RW_ERR_INPUT (not a BAM/CRAM/SAM file, empty, truncated, corrupt, CRAM without reference),
 * RW_ERR_IO, RW_ERR_USAGE (bad options). */
rw_status rw_count_bam(const char *path, const rw_count_opts *o, rw_bins **out, rw_count_qc *qc,
                       rw_progress_fn progress, void *progress_ctx, rw_error *err)
    __attribute__((warn_unused_result));

/* Reads or bins: if path is a bins file (core/bins.h: its first line is the bins magic line) it
 * is read, its build must equal o->build (when set) and its bin size o->bin_size, and it is
 * brought to o's chrY layout (missing bins are NaN); qc->format is then "bins" and the read
 * counts are 0. Otherwise the reads are counted as rw_count_bam() does. So a bins file is
 * accepted wherever a BAM is. *out is new (free with rw_bins_free()). */
rw_status rw_count_load(const char *path, const rw_count_opts *o, rw_bins **out, rw_count_qc *qc,
                        rw_progress_fn progress, void *progress_ctx, rw_error *err)
    __attribute__((warn_unused_result));

/* Counts on one contig only, at any bin size >= 1 (e.g. chrM in 1 kb bins, or a non-human
 * contig): bins [i*bin_size, min((i+1)*bin_size, length)). Same rules; reads on other contigs
 * are dropped as "contig". The build is checked only when o->build is set. */
typedef struct rw_contig_counts {
    char *contig;   /* its name in the header */
    int64_t length; /* its length in bp */
    int32_t bin_size;
    size_t n;        /* number of bins */
    uint64_t *count; /* n counts */
} rw_contig_counts;

/* *out is new (free with rw_contig_counts_free()). RW_ERR_INPUT when contig is not in the
 * header (the message lists the header's contigs). */
rw_status rw_count_contig(const char *path, const rw_count_opts *o, const char *contig,
                          rw_contig_counts **out, rw_count_qc *qc, rw_progress_fn progress,
                          void *progress_ctx, rw_error *err) __attribute__((warn_unused_result));
/* NULL-safe. */
void rw_contig_counts_free(rw_contig_counts *c);

#endif
