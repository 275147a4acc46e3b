/* ddPCR copy number from droplet counts (Bio-Rad arithmetic, docs/method.md §5): Poisson-corrected
 * copies per droplet, concentrations, the target/reference copy number with a 95% interval on the
 * log scale, and an `amplified` / `not_detected` call. Plain structs in, plain structs out;
 * nothing here allocates.
 *
 * ARITHMETIC (per channel, over the merged wells):
 *   N = accepted droplets (summed over wells), N_neg = N - positives,
 *   lambda = -ln(N_neg / N) copies per droplet, concentration = lambda / V_d (copies/uL),
 *   CN = ref_copies * lambda_T / lambda_R (ref_copies = 2 for an autosomal reference),
 *   Var(lambda) ~= (e^lambda - 1) / N, so CV^2(CN) ~= CV^2(lambda_T) + CV^2(lambda_R) with
 *   CV^2(lambda) = (e^lambda - 1) / (N lambda^2), and the 95% interval is
 *   CN * exp(+-1.96 CV) (log scale: it stays positive and is asymmetric like the estimate).
 * Both channels are read from the same droplets, so each well's N is shared by the target and the
 * reference. Replicate wells merge by summing droplets (not by averaging copy numbers), which
 * weights each well by its size. */
#ifndef RW_DDPCR_H
#define RW_DDPCR_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

/* One well: droplets positive for the target (1q21.3 amplicon), for the reference (e.g. RPP30),
 * and accepted droplets in total. */
typedef struct rw_ddpcr_well {
    uint64_t target_pos;
    uint64_t ref_pos;
    uint64_t droplets;
} rw_ddpcr_well;

typedef struct rw_ddpcr_opts {
    double droplet_volume_nl; /* droplet volume in nL (default 0.85, Bio-Rad QX200) */
    double ref_copies;        /* copies of the reference per genome (default 2: autosomal) */
    double amplified_lower;   /* call `amplified` when the lower 95% bound of CN > this (2.2) */
    uint64_t min_droplets;    /* flag a channel with fewer positive or negative droplets (100) */
} rw_ddpcr_opts;

/* Sets every default above. */
void rw_ddpcr_opts_init(rw_ddpcr_opts *o);

/* Quality flags (bit set). */
#define RW_DDPCR_LOW_TARGET_POS 1u /* fewer than min_droplets target-positive droplets */
#define RW_DDPCR_LOW_TARGET_NEG 2u /* fewer than min_droplets target-negative droplets */
#define RW_DDPCR_LOW_REF_POS    4u
#define RW_DDPCR_LOW_REF_NEG    8u
#define RW_DDPCR_NO_TARGET      16u /* no target-positive droplet: CN is only an upper bound */

typedef struct rw_ddpcr_result {
    size_t n_wells;
    uint64_t droplets, target_pos, ref_pos; /* merged (summed) counts */
    double lambda_target, lambda_ref;       /* copies per droplet */
    double conc_target, conc_ref;           /* copies per uL of reaction */
    /* Copy number and its 95% interval. With no target positives, cn is NaN, cn_lo 0 and cn_hi
     * the one-sided 95% upper bound (lambda_T < -ln(0.05) / N, the "rule of three"). */
    double cn, cn_lo, cn_hi;
    double cv;        /* CV of cn (NaN with no target positives) */
    int amplified;    /* 1 when cn_lo > amplified_lower */
    double threshold; /* the amplified_lower used */
    double droplet_volume_nl;
    unsigned flags; /* RW_DDPCR_* */
} rw_ddpcr_result;

/* Merges n wells and computes *res. Errors (RW_ERR_INPUT, with the well number in the message):
 * no well, a well with zero droplets, positives > droplets, no reference-positive droplet,
 * a saturated channel (no negative droplet: lambda is unbounded). RW_ERR_USAGE for bad options
 * (droplet volume or ref_copies <= 0). o may be NULL (defaults). */
rw_status rw_ddpcr_compute(const rw_ddpcr_well *wells, size_t n, const rw_ddpcr_opts *o,
                           rw_ddpcr_result *res, rw_error *err) __attribute__((warn_unused_result));

#endif
