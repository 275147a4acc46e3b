/* Simulator of shallow-WGS cfDNA samples with known truth: real sorted BAM files written with
 * htslib, or (for large statistical series) the bin counts such a BAM would give, drawn directly
 * from the same model. Deterministic given the options (seeded).
 *
 * Two profiles. The default is REALISTIC: each sample carries its own large-scale depth biases,
 * which a panel of normals cannot remove because they differ from sample to sample, calibrated on
 * real plasma cfDNA (tests/unit/test_realism.c, README "Realistic simulation"):
 *  - a GC curve whose strength is the sample's (gc_bias scaled by exp(gc_strength_sd * z));
 *  - genomic waves: smooth undulations of depth with periods of 5-50 Mb, a random part
 *    (wave_amp) and a part tied to the GC content of the surrounding 10 Mb (wave_gc_amp);
 *  - overdispersion beyond Poisson: gamma-distributed depth per 50 kb tile (gamma-Poisson, i.e.
 *    negative binomial counts), the `overdispersion` extra CV of a 500 kb bin.
 * The IDEAL profile (rw_sim_opts_ideal(), `simulate --ideal`) is the clean model of relapsewatch
 * 0.1: none of the three (the same reads and counts as then for the same options), for figures that
 * show the method's limit without them. Each bias is switched off on its own by setting it to 0. */
#ifndef RW_SIMULATE_H
#define RW_SIMULATE_H

#include <stddef.h>
#include <stdint.h>

#include "core/bins.h"
#include "core/count.h"
#include "core/status.h"

/* Tumour copy number `cn` over [start, end) of chromosome `chrom`; CN 2 elsewhere. */
typedef struct rw_sim_event {
    int chrom;
    int64_t start, end;
    double cn;
} rw_sim_event;

typedef struct rw_sim_opts {
    rw_build build;             /* default hg38 */
    uint64_t seed;              /* the sample's seed: reads, per-sample noise, bias strength */
    double depth;               /* mean read coverage in x (default 0.1): depth * genome / read_len
                                   reads before duplicates (genome = the simulated chromosomes) */
    int read_len;               /* read length in bp (default 100) */
    int paired;                 /* 1: paired-end fragments (both mates written); 0: single-end */
    double tumour_fraction;     /* f in [0, 1] (default 0) */
    const rw_sim_event *events; /* tumour profile (borrowed); none = diploid tumour */
    size_t n_events;
    double bin_noise;      /* sample-specific depth CV between bins beyond Poisson (default 0.02) */
    double gc_bias;        /* strength of the GC-like depth bias (default 0.55; 0 = none). The
                              curve is exp(strength * (c1 x - c2 x^2)), x = (GC - 0.41) / 0.05, c1
                              and c2 the sample's (c1 of either sign); 0.55 makes depth change
                              ~1.4-fold between 35% and 47% GC on average, as on the real plasma
                              of test_realism */
    double gc_strength_sd; /* per-sample spread of that strength: it is gc_bias * exp(sd * z), z
                              the sample's standard normal (default 0.3; 0 = gc_bias for all) */
    double wave_amp;       /* SD of the random genomic waves, in log depth (default 0.01; 0 =
                              none): per chromosome three smooth random components of equal
                              variance with periods of 5, 15 and 50 Mb (cubic B-splines through
                              random knots), correlated over about their period */
    double wave_gc_amp;    /* SD over samples of the GC-tied waves, in log depth (default 0.01;
                              0 = none): the sample's coefficient times the standardised GC of
                              the 10 Mb around each position */
    double overdispersion; /* extra depth CV of a 500 kb bin from gamma-distributed depth per
                              50 kb tile (default 0.03; 0 = Poisson around bin_noise only) */
    double dup_rate;       /* fraction of reads added as flagged duplicates (default 0.02) */
    double lowmapq_rate;   /* fraction of reads given MAPQ < 20 (default 0.03) */
    double frag_mode_normal; /* modal fragment length of normal cfDNA (default 167) */
    double frag_mode_tumour; /* modal fragment length of tumour cfDNA (default 150: 17 bp
                                shorter, within the 10-20 bp of Mouliere et al. 2018, so that
                                keeping 90-150 bp enriches the tumour ~2-fold as in their data;
                                tests/unit/test_simulate.c measures it) */
    int include_y;           /* simulate chrY reads too (default 0): a male sample, one copy of
                                X and of Y (the default sample is female: XX, no Y reads) */
} rw_sim_opts;

/* Sets every default above (the realistic profile). */
void rw_sim_opts_init(rw_sim_opts *o);
/* Switches o to the ideal profile: gc_bias, gc_strength_sd, wave_amp, wave_gc_amp and
 * overdispersion set to 0, the other options left as they are (set a bias again afterwards to
 * study it alone). */
void rw_sim_opts_ideal(rw_sim_opts *o);

/* Writes a coordinate-sorted BAM to path (atomically: temp file then rename) with the build's
 * header. progress may be NULL. */
rw_status rw_sim_write_bam(const rw_sim_opts *o, const char *path, rw_progress_fn progress,
                           void *progress_ctx, rw_error *err) __attribute__((warn_unused_result));

/* Draws directly the bin counts that counting the BAM of the same options with the default
 * filters (MAPQ >= 20, no duplicates, one count per fragment) would give, statistically: the
 * same model, without reads. Returns new bins in *out (free with rw_bins_free()). */
rw_status rw_sim_bins(const rw_sim_opts *o, int32_t bin_size, rw_bins **out, rw_error *err)
    __attribute__((warn_unused_result));

/* Like rw_sim_bins, counting only fragments whose length (|TLEN|) lies in [frag_min, frag_max]
 * (0 = no bound), as `count --frag-min/--frag-max` would; tumour fragments are shorter, so a
 * window such as 90..150 enriches the tumour. Needs paired-end options when a bound is set
 * (single-end reads have no length). Fragments shortened at a chromosome end are ignored
 * (negligible). Returns new bins in *out (free with rw_bins_free()). */
rw_status rw_sim_bins_frag(const rw_sim_opts *o, int32_t bin_size, int frag_min, int frag_max,
                           rw_bins **out, rw_error *err) __attribute__((warn_unused_result));

/* The simulator's fragment-length distribution around a mode (frag_mode_normal or
 * frag_mode_tumour): p[L] = P(length = L) for L = 0..RW_FRAG_HIST_MAX, exactly that of the BAM
 * writer's lengths (a mono-nucleosome peak with a longer left tail, a sub-nucleosomal shoulder, a
 * di-nucleosome peak; rounded, clamped to 40..700 bp). */
void rw_sim_frag_pmf(double mode, double *p);

#define RW_SIM_MAX_WEIGHTS 8

/* Per-fragment weights: draws each kept fragment of the sample (as counting its BAM with the
 * default filters would keep it) with a length from its origin's distribution, and adds
 * weights[j][length] to bin counts out[j] (weights[j] NULL = 1 for every fragment, i.e. all
 * fragments). So one sample gives, from the same fragments, its counts in several modes: all
 * fragments, a window (a 0/1 table) and weights (core/count.h rw_frag_weights). n_out in
 * 1..RW_SIM_MAX_WEIGHTS tables of RW_FRAG_HIST_MAX + 1 values. hist (may be NULL) receives the
 * RW_FRAG_HIST_MAX + 1 length counts of the kept fragments, as rw_count_qc.frag_hist would.
 * Needs paired-end options. The same expectations as rw_sim_bins (other random draws). */
rw_status rw_sim_bins_weighted(const rw_sim_opts *o, int32_t bin_size, const double *const *weights,
                               size_t n_out, rw_bins **out, double *hist, rw_error *err)
    __attribute__((warn_unused_result));

/* The GC fraction of each bin as the simulator's genome defines it (deterministic per build; the
 * same for every sample), as bins whose count[] holds GC fractions in [0, 1]. */
rw_status rw_sim_gc(rw_build build, int32_t bin_size, rw_bins **out, rw_error *err)
    __attribute__((warn_unused_result));

/* Truth over [start, end) of chrom for options o: the tumour copy number averaged over the
 * interval (later events win where they overlap; the normal copy number where none applies) in
 * *tumour_cn, and the expected copy ratio against a normal sample, the mean of
 * (n(1-f) + C f) / n with n the normal copy number (1 + f(C-2)/2 on autosomes), in *ratio. */
rw_status rw_sim_region_truth(const rw_sim_opts *o, int chrom, int64_t start, int64_t end,
                              double *tumour_cn, double *ratio, rw_error *err)
    __attribute__((warn_unused_result));

/* Parses a profile: comma-separated events "REGION:CN" or "chr:start-end:CN", where REGION is a
 * named region of genome.h ("1q21.3", "1q") or a chromosome arm ("8q", "17p"; arms split at an
 * approximate centromere midpoint from UCSC cytoBand) or a whole chromosome ("chr8"); start-end
 * are 1-based inclusive like samtools regions and may end in k or M ("150.6M").
 * Example: "1q21.3:6,1q:3,8q:4,17p:1". An empty spec gives no events. *events is new (free()),
 * NULL when there are none. */
rw_status rw_sim_parse_events(const char *spec, rw_build build, rw_sim_event **events, size_t *n,
                              rw_error *err) __attribute__((warn_unused_result));

#endif
