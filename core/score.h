/* Normalisation against a panel of normals and the region scores of relapsewatch: per-bin log2
 * ratios, then for 1q21.3, the 1q arm and the S100A7-9 cluster a mean log2 ratio with its
 * standard error, a z-score against the PoN, the implied copy ratio, a call and (with the primary
 * tumour's copy number) a tumour-informed tumour fraction.
 *
 * NORMALISATION (rw_score_log2_ref): depth_i = count_i / median(count over the usable autosomal
 * bins); raw_i = log2(depth_i / ref_i) for usable bins (mask 0, finite count and reference > 0;
 * a zero count is floored at zero_floor reads so that log2 stays finite); then every ratio is
 * re-centred on the median raw ratio of the usable autosomal bins, so a normal sample reads 0
 * whatever its depth. Masked bins get NaN. The PoN's leave-one-out statistics use this exact
 * function, so a sample and the normals are treated alike.
 *
 * REGION BINS (rw_score_region_bins): a bin belongs to a region when at least half of the bin
 * lies inside the region; when no bin qualifies (a region smaller than half a bin, such as the
 * 100 kb S100A7-9 window in 500 kb bins) the bins that overlap the region at all are used.
 * In hg38 at 500 kb, 1q21.3 (150.6-155.1 Mb) is the 9 bins 150.5-155.0 Mb.
 *
 * SCORE of a region (rw_score_regions), over its usable bins with a finite ratio:
 *   mean   = mean log2 ratio; copy ratio R = 2^mean;
 *   se     = w * sqrt(1 + pi / (2 n_normals)), where w is the sample's own spread of a mean of
 *            n_bins bins: the band_sd of rw_score_quality_of with window = n_bins (waves of a few
 *            Mb and counting noise; robust to copy-number steps), or, for a region too long for
 *            10 windows (the 1q arm), s / sqrt(n_bins) with s the bin-level noise
 *            (rw_score_noise: robust SD of consecutive-bin differences / sqrt 2); the second
 *            factor adds the noise of the PoN median (the variance of a median of n normals is
 *            ~ pi/2 times that of a mean);
 *   sigma  = max(c * PoN leave-one-out SD, se) when use_sample_se (default), else c * the PoN
 *            SD: the panel's spread of held-apart normals is the denominator; se protects a
 *            sample shallower or wavier than the normals;
 *   z      = (mean - PoN leave-one-out mean) / sigma, where c (calibrate_z, default on)
 *            accounts for the panel's size: the spread comes from only k held-apart normals (the
 *            panel's leave-one-out scores through the whole correction chain, core/pon.h), so a
 *            new normal's standardised score follows Student's t with k - 1 degrees of freedom
 *            and an extra 1/k of variance for the estimated mean. c = sqrt(1 + 1/k) *
 *            t_{k-1}^-1(Phi(z_amplified)) / z_amplified makes P(z >= z_amplified) of a normal
 *            sample exactly the nominal Phi(-z_amplified) (0.13% at 3) whatever k: c = 1.11 at
 *            k = 30, 1.34 at k = 12, 2.4 at k = 5 (tests/unit/test_score.c); the intervals use
 *            the same sigma;
 *   call   = amplified when z >= z_amplified (default 3.0, one-sided), strong when z >= z_strong
 *            (default 5.0); no_data when the region has no usable bin or the PoN lacks its
 *            statistics; insufficient_quality (set by the pipeline, core/analyse.h) when the
 *            sample is too noisy to detect quality_fraction (rw_score_quality below);
 *   with the primary tumour's copy number C (!= 2): f = 2 (R - 1) / (C - 2) (method §3), and
 *   its interval from R at mean -+ ci_z * sigma; f and its interval are clipped to [0, 1].
 */
#ifndef RW_SCORE_H
#define RW_SCORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/bins.h"
#include "core/pon.h"
#include "core/status.h"

typedef struct rw_score_opts {
    double z_amplified; /* amplified when z >= this (default 3.0) */
    double z_strong;    /* strong positive when z >= this (default 5.0) */
    double zero_floor;  /* a zero count in a usable bin is read as this many reads (default 0.5) */
    int use_sample_se;  /* z denominator = max(PoN SD, sample SE) (default 1) */
    double ci_z;        /* normal quantile of the intervals (default 1.96: 95%) */
    int calibrate_z;    /* inflate sigma for the panel's size (default 1; above) */
    double quality_fraction; /* the quality gate (rw_score_quality): a sample must be able to */
    double quality_cn;       /* detect this tumour fraction (0.10) at this copy number (6) */
    double quality_power_z;  /* with this power quantile beyond z_amplified (1.2816: 90%) */
} rw_score_opts;

/* Sets every default above. */
void rw_score_opts_init(rw_score_opts *o);

/* INSUFFICIENT_QUALITY is a no-call like NO_DATA: never read it as not_detected (the trend
 * engine skips both). */
typedef enum rw_call {
    RW_CALL_NOT_DETECTED = 0,
    RW_CALL_AMPLIFIED,
    RW_CALL_NO_DATA,
    RW_CALL_INSUFFICIENT_QUALITY
} rw_call;

/* "not_detected", "amplified", "no_data", "insufficient_quality"; static string. */
const char *rw_call_name(rw_call c);

typedef struct rw_region_score {
    char name[32];
    int chrom;
    int64_t start, end; /* the region (0-based, half-open) */
    size_t first_bin;   /* the region's bins: [first_bin, first_bin + n_region_bins) */
    size_t n_region_bins;
    int n_bins;              /* of which usable with a finite ratio: the bins averaged */
    double mean_log2;        /* NaN when n_bins == 0 */
    double se;               /* standard error of mean_log2 from the sample's own noise */
    double pon_mean, pon_sd; /* the PoN's leave-one-out statistics of this region */
    double sigma;            /* denominator of z: max(inflation * pon_sd, se) */
    double inflation;        /* c of the calibrated z (1 when calibrate_z is off) */
    double z;
    double copy_ratio, copy_ratio_lo, copy_ratio_hi; /* 2^mean, 2^(mean -+ ci_z sigma) */
    rw_call call;
    int strong;              /* z >= z_strong */
    double threshold;        /* the z_amplified used */
    double primary_cn;       /* C given, or NaN */
    double tf, tf_lo, tf_hi; /* tumour-informed tumour fraction; NaN without C */
} rw_region_score;

/* The bins of region r in layout b by the rule above: *first and *n (n = 0 when the region is on a
 * chromosome the layout lacks). */
void rw_score_region_bins(const rw_bins *b, const rw_region *r, size_t *first, size_t *n);

/* Normalises count (b->n values; layout b) against ref (per-bin expected normalised depth) with
 * mask (NULL = none): fills depth and lr (b->n each, caller's arrays; depth may be NULL).
 * RW_ERR_INPUT when the sample has no usable autosomal bin with reads. */
rw_status rw_score_log2_ref(const rw_bins *b, const double *count, const double *ref,
                            const uint8_t *mask, double zero_floor, double *depth, double *lr,
                            rw_error *err) __attribute__((warn_unused_result));

/* Same against a panel: checks nothing (call rw_pon_check() first); count has p's layout. */
rw_status rw_score_log2(const rw_pon *p, const double *count, const rw_score_opts *o, double *depth,
                        double *lr, rw_error *err) __attribute__((warn_unused_result));

/* Mean of the finite log2 ratios of bins [first, first + n); NaN when none; *used receives their
 * number (may be NULL). */
double rw_score_mean(const double *lr, size_t first, size_t n, int *used);

/* Bin-level noise of log2 ratios: 1.4826 * MAD of the differences between consecutive finite
 * ratios on the same chromosome, / sqrt(2). Robust to copy-number steps. NaN when < 3 pairs. */
double rw_score_noise(const rw_bins *b, const double *lr);

/* Tumour-informed fraction f = 2 (R - 1) / (C - 2), unclipped; NaN when C == 2 or not finite. */
double rw_score_tumour_fraction(double copy_ratio, double primary_cn);

/* The calibration factor c above for k held-apart normals and threshold z_amplified; NaN when
 * k < 3. */
double rw_score_inflation(int k, double z_amplified);

/* Upper tail P(T >= t) of Student's t with df degrees of freedom (df > 0). */
double rw_score_t_upper(double t, double df);

/* QUALITY GATE. The sample's own noise at the scale of the band: its finite autosomal log2 ratios,
 * chromosome by chromosome, in consecutive windows of `window` bins (the band's bin count); the
 * robust SD of the differences between neighbouring window means / sqrt 2 (1.4826 MAD, so copy-
 * number steps and the longest waves barely count) is band_sd, what one window's mean wanders by
 * (genomic waves of a few Mb plus counting noise). The counting part alone is bin_sd / sqrt(window)
 * (bin_sd = rw_score_noise). A gain of quality_fraction at quality_cn shifts the band by
 * signal = log2(1 + f (C - 2) / 2); it is detected 1 - Phi(-power_z) of the time when
 * (z_amplified + power_z) * band_sd <= signal, so band_sd above limit = signal / (z_amplified +
 * power_z) makes the sample insufficient_quality: code "low_depth" when the counting part alone
 * exceeds the limit (too few reads per bin), "genomic_waves" otherwise (smooth depth undulations).
 * quality_fraction = 0 disables the gate (ok = 1). */
typedef struct rw_score_quality {
    int ok;           /* 1: the sample may be called; 0: insufficient_quality */
    char code[24];    /* "" when ok; "low_depth" or "genomic_waves" */
    char reason[256]; /* one sentence for a report; "" when ok */
    double band_sd;   /* the sample's noise of a window mean (log2); NaN with < 10 windows */
    double count_sd;  /* its counting part, bin_sd / sqrt(window) */
    double limit;     /* the largest band_sd that still detects quality_fraction */
    int window;       /* bins per window */
} rw_score_quality;

/* Fills q for the log2 ratios lr of layout b (window >= 1; o may be NULL). A sample whose noise
 * cannot be estimated (fewer than 10 window pairs) passes (its z carries its own se). */
void rw_score_quality_of(const rw_bins *b, const double *lr, int window, const rw_score_opts *o,
                         rw_score_quality *q);

/* Scores every non-mask region of the build that the PoN has statistics for. lr from
 * rw_score_log2(); primary_cn = NaN when unknown; o may be NULL. *out is new (free()), *n its
 * length. RW_ERR_USAGE when primary_cn is 2 or negative. */
rw_status rw_score_regions(const rw_pon *p, const double *lr, double primary_cn,
                           const rw_score_opts *o, rw_region_score **out, size_t *n, rw_error *err)
    __attribute__((warn_unused_result));

#endif
