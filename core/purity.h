/* Genome-wide tumour fraction (and ploidy) from segmented log2 ratios, in the spirit of ichorCNA:
 * each segment is a mixture of normal DNA (CN 2) and tumour DNA at an integer copy state, and a
 * grid over (f, ploidy) picks the pair whose states best explain the segment means.
 *
 * Model. With tumour fraction f, tumour copy state c and tumour ploidy P (the copy number that
 * log2 ratio 0 stands for, since samples are median/mean normalised), a segment's expected log2
 * ratio is mu_c = log2((2(1-f) + c f) / (2(1-f) + P f)). A segment of n bins with mean m has the
 * variance v = var(n) + floor^2 (the sample's own noise of a mean of n bins, see the noise model
 * below; floor a systematic spread so that huge segments do not demand absurd precision) and an
 * outlier weight eps (a uniform density U for subclonal or artefactual segments).
 * Two likelihoods answer two questions (issue 10.3):
 *  - Is there a tumour? The DETECTION model, a mixture: each segment scores
 *    sum_c w_c (1 - eps) N(m; mu_c, v) + eps U; the weight w_n of the neutral state (nearest P)
 *    is fitted by EM under a Beta prior (mean neutral_prior, strength state_strength), the other
 *    states share 1 - w_n with weights that decay with the distance from neutral. Its likelihood
 *    ratio against f = 0, the evidence, must reach evidence_min (calibrated on simulated normals)
 *    or the answer is below_detection.
 *  - How much? The ESTIMATE model assigns each segment to its single best state:
 *    max_c log(w_c (1 - eps) T(m; mu_c, v)) (or the outlier), with fixed weights: neutral
 *    assign_neutral_weight, CN +-1 one share, CN +-2 two_copy_weight of it, then state_decay per
 *    copy (parsimony: "f/2 with doubled states" pays for them), T a Student t (tail_df) because
 *    waves make arm means heavy-tailed. The mixture alone read realistic 5% samples at ~2%: at
 *    a small f its overlapping states fit every wave-displaced neutral arm, which one assigned
 *    state does not. The estimate's reading is kept when it gains estimate_gain_min over f = 0
 *    and calls at least two segments; otherwise the mixture's reading (near 0) stands.
 * A weak prior on P breaks the exact diploid/tetraploid symmetry in favour of the simpler diploid
 * reading. Uncertainty: profile-likelihood interval over f (max over P) of the model that gave
 * the estimate, at 2 delta loglik <= 3.84.
 * All functions are pure; the fit allocates only scratch memory, freed before it returns. */
#ifndef RW_PURITY_H
#define RW_PURITY_H

#include <stddef.h>

#include "core/segment.h"
#include "core/status.h"

#define RW_PURITY_METHOD "ichor-like grid fit of integer states"

/* Quality flags (static strings in rw_purity_result.flag). */
#define RW_PURITY_FLAG_OK              "ok"
#define RW_PURITY_FLAG_LOW             "low_fraction"    /* detection limit <= f < caution limit */
#define RW_PURITY_FLAG_BELOW_DETECTION "below_detection" /* f < detection limit */
#define RW_PURITY_FLAG_NO_DATA         "no_data"         /* no segment large enough to fit */

typedef struct rw_purity_opts {
    int max_cn;        /* highest tumour copy state tried (default 6) */
    double f_max;      /* largest tumour fraction tried (default 0.95) */
    double f_step;     /* coarse grid step of f (default 0.005; refined 10x near the best) */
    double ploidy_min; /* ploidy grid (defaults 1.5 .. 4.5, step 0.05; refined 10x) */
    double ploidy_max;
    double ploidy_step;
    double ploidy_prior_sd; /* Gaussian prior on P around 2 (default 1.0; <= 0: flat) */
    double neutral_prior;   /* detection model: prior mean of the weight of the state nearest P
                             * (default 0.5) */
    double two_copy_weight; /* estimate model: prior weight of a state two copies from neutral
                             * (CN 4, CN 0 at P = 2) relative to one copy (CN 1, 3) (default 0.5:
                             * CN 4 is common in carcinomas but less than CN 1 or 3; 1 made two
                             * CN 3 arms read as two CN 4 arms at f/2) */
    double state_decay;     /* each further copy multiplies the weight by this (default 0.35; in
                             * the detection model from one copy away): parsimony, which breaks
                             * the symmetry "f/2 with twice the copy changes" (CN 4 and 6 at f/2
                             * read as CN 3 and 4 at f) */
    double homdel_factor;   /* extra factor on the prior of state 0 (default 0.1): homozygous
                             * loss of a large segment is rare (ichorCNA leaves it out) */
    double assign_neutral_weight; /* estimate model: prior weight of the neutral state (default
                                   * 0.5, fixed): a copy change costs ~1 nat, so a 5% arm event
                                   * at 2.4 SD counts; a fitted weight (~0.9, ~3 nats) left it
                                   * neutral and read the other event at 2f */
    double tail_df;           /* the estimate's model reads a segment's deviation from a state with
                               * a Student t of this many d.f. in rw_purity_fit_sample (default 4;
                               * 0 = Gaussian, as rw_purity_fit always is): waves make arm means
                               * heavy-tailed (1.2% of realistic normal arms beyond 3 SD, not
                               * 0.27%), and one wave arm at 4 SD outweighed two events at 40% */
    double estimate_gain_min; /* the estimate's model must gain this much over f = 0 (nats,
                               * default 3) and read at least two segments as copy changes,
                               * else the detection model's reading is the answer: with no
                               * segment worth a state, the assigned model reads its noisiest
                               * one as a copy change (white-noise normals at 17%) */
    double outlier_weight;    /* weight eps of the uniform outlier component (default 0.01) */
    double outlier_bins;      /* ... for a segment of up to this many bins (default 20); a longer
                               * one of n bins gets eps^(n / outlier_bins): an arm-level event is
                               * not an artefact that a fixed cost of ~6 nats can explain away
                               * (which capped the evidence of two arm events at f = 0.3 near 0) */
    double state_strength;    /* detection model: the neutral weight is fitted (EM);
                               * neutral_prior is the mean of its Beta prior, worth this many
                               * segments (default 10) */
    double floor_sd;          /* systematic per-segment SD in log2 (default 0.005) */
    double fraction_prior;    /* estimate model: a weak prior against large fractions,
                               * -fraction_prior * f nats (default 2). With no segment away from
                               * neutral every f > 0 fits
                               * alike, and the estimate then goes to the smallest, not anywhere on
                               * the plateau (0.73 on a 3% sample); at a real optimum it moves the
                               * estimate by ~0.0002 */
    size_t min_bins;          /* segments with fewer bins are left out of the fit (default 5) */
    size_t wave_min_bins;     /* ... and in rw_purity_fit_sample, with fewer than this (default 20:
                               * 10 Mb at 500 kb): on realistic samples the short CBS pieces are
                               * mostly waves, and one of 6 bins decided f against f/2 */
    int recentre;             /* 1 (default): subtract the bin-weighted median of the segment
                               * means first, so the most common state sits exactly at 0 (a small
                               * normalisation offset otherwise pulls P away at low f) */
    double merge_z;           /* rw_purity_fit_sample merges adjacent segments of an arm whose
                               * means differ by less than this many SEs of the sample's segment
                               * noise (default 3; 0 = no merging) */
    double evidence_min;      /* the fit's evidence for a tumour, loglik - loglik_null (nats), must
                               * reach this, else the flag is below_detection whatever the
                               * fraction: the level that waves alone reach in simulated normals
                               * (default in core/settings.c, with its source) */
    double detection_limit; /* below it the flag is below_detection (default 0.03, method §4.9) */
    double caution_limit;   /* below it the flag is low_fraction (default 0.05) */
} rw_purity_opts;

/* Sets every default above. */
void rw_purity_opts_init(rw_purity_opts *o);

typedef struct rw_purity_result {
    const char *method; /* RW_PURITY_METHOD (static) */
    const char *flag;   /* one of RW_PURITY_FLAG_* (static) */
    double fraction;    /* tumour fraction estimate in [0, f_max] */
    double fraction_lo; /* 95% profile-likelihood interval of the fraction */
    double fraction_hi;
    double ploidy;      /* fitted P: the tumour copy number that log2 ratio 0 stands for */
    double mean_cn;     /* bin-weighted mean of the assigned tumour states (fitted segments) */
    double bin_sd;      /* the bin-level noise used */
    double offset;      /* log2 offset subtracted from the segment means (recentre) */
    double loglik;      /* detection model: log likelihood at its optimum (with the priors) */
    double loglik_null; /* detection model: best log likelihood at f = 0 */
    size_t n_fitted;    /* segments used by the fit (>= min_bins bins, finite mean) */
    double evidence;    /* loglik - loglik_null: the evidence for a tumour (nats) */
    double seg_sd_50;   /* segment-level noise used: SD of the mean of 50 bins (log2) */
} rw_purity_result;

/* Segment-level noise of one sample: the variance of the mean of L neighbouring bins about the
 * genome's level, measured on the sample itself at L = 1, 2, 4, ... bins. Waves (smooth depth
 * undulations over Mb) make it fall much more slowly than var(1) / L, and a segment whose mean
 * the fit reads as a copy change must stand out from that, not from the Poisson SD / sqrt(L). */
#define RW_PURITY_NOISE_LEVELS 12
typedef struct rw_purity_noise_model {
    size_t k;                           /* levels measured (0: white noise of sd) */
    double len[RW_PURITY_NOISE_LEVELS]; /* block lengths in bins: 1, 2, 4, ... */
    double var[RW_PURITY_NOISE_LEVELS]; /* variance of a block mean of that many bins */
    double sd;                          /* bin-level SD (white part) */
} rw_purity_noise_model;

/* Measures the model on the log2 ratios of a sample and its segments (core/segment.h, by arm):
 * within each arm (consecutive segments of one chromosome arm) the finite ratios in order are cut
 * into blocks of L, and var(L) = robust variance (median of squares / 0.455) of the block means
 * about the median ratio of all those bins, so that a minority of blocks inside copy-number
 * events barely moves it (a sample with many events is read as noisier: conservative). Levels
 * with fewer than 12 blocks are not kept. bin_sd is the bin-level SD (e.g. rw_purity_noise). */
void rw_purity_noise_measure(const double *log2, const rw_segments *segs, double bin_sd,
                             rw_purity_noise_model *m);

/* Variance of the mean of n bins under m: log-log interpolation between the measured levels,
 * var(longest) * longest / n beyond them, and never below sd^2 / n. */
double rw_purity_noise_var(const rw_purity_noise_model *m, size_t n);

/* Fits f and P to n_seg segments: seg_mean[i] is the mean log2 ratio of segment i and
 * seg_bins[i] its number of (unmasked) bins; bin_sd the bin-level SD of log2 ratios (see
 * rw_purity_noise). state (may be NULL) receives n_seg assigned tumour copy states: the most
 * probable integer state at the optimum, or -1 for a segment left out of the fit or better
 * explained by the outlier component (subclonal). With no segment to fit, returns RW_OK with
 * flag no_data, fraction 0 and states -1. RW_ERR_USAGE for impossible options or bin_sd <= 0. */
rw_status rw_purity_fit(const rw_purity_opts *o, size_t n_seg, const double *seg_mean,
                        const size_t *seg_bins, double bin_sd, rw_purity_result *res, int *state,
                        rw_error *err) __attribute__((warn_unused_result));

/* Like rw_purity_fit, with each segment's variance from the noise model m (+ floor_sd^2) instead
 * of bin_sd^2 / n: the fit the pipeline runs (core/analyse.c). */
rw_status rw_purity_fit_model(const rw_purity_opts *o, size_t n_seg, const double *seg_mean,
                              const size_t *seg_bins, const rw_purity_noise_model *m,
                              rw_purity_result *res, int *state, rw_error *err)
    __attribute__((warn_unused_result));

/* The pipeline's fit (core/analyse.c): the noise model measured on the sample's log2 ratios and
 * segments (rw_purity_noise_measure), adjacent segments of one arm merged while their difference
 * is below merge_z standard errors of that model (CBS splits an arm wherever a wave crosses the
 * Poisson noise; a wave-made piece must not read as a copy change), then rw_purity_fit_model on
 * the merged segments. The input segments are not changed. */
rw_status rw_purity_fit_sample(const rw_purity_opts *o, const rw_segments *segs, const double *log2,
                               double bin_sd, rw_purity_result *res, rw_error *err)
    __attribute__((warn_unused_result));

/* Expected log2 ratio of tumour copy state c at fraction f and ploidy P (the model above). */
double rw_purity_expected_log2(double f, double ploidy, int c);

/* Robust bin-level SD of log2 ratios: MAD of successive differences / sqrt(2), skipping NaN
 * and bins with mask[i] != 0 (mask may be NULL). Copy-number steps barely move it. Returns NaN
 * with fewer than 3 usable bins. */
double rw_purity_noise(const double *log2, const unsigned char *mask, size_t n);

#endif
